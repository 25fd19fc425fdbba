"""DC(lazy_limits=True): line limits added only where violated give the full problem's optimum."""

import numpy as np
import pandapower as pp
import pytest

import gridflex as gf
from gridflex.formulations import CandidateBranches


def _three_bus_model(three_bus_net, formulation, periods=1, load_mw=100.0):
    # Equal reactances; only line 1-3 (index 2) is limited, 40 MW. By hand (test_hand_solved):
    # without the limit the cheap unit serves all 100 MW and f13 = 66.7 MW > 40; with it
    # g1 = 20, g2 = 80, cost 1800, flows (-20, 60, 40), prices 10, 20, 30.
    model = gf.Model(three_bus_net, periods=periods, formulation=formulation)
    model.add(gf.Generator(bus=[0, 1], p_max_mw=[200, 200], cost_per_mwh=[10, 20], name="g"))
    model.add(gf.Load(bus=2, p_mw=load_mw, name="d"))
    return model


@pytest.mark.parametrize("solver", ["HIGHS", "CLARABEL"])
def test_three_bus_by_hand(three_bus_net, solver):
    r = _three_bus_model(three_bus_net, gf.DC(lazy_limits=True)).solve(solver=solver)
    tol = 1e-6 if solver == "HIGHS" else 1e-4
    assert r.objective == pytest.approx(1800.0, rel=tol)
    np.testing.assert_allclose(r.res_gen["p_mw"].iloc[0], [20.0, 80.0], atol=tol * 100)
    np.testing.assert_allclose(r.res_line["p_from_mw"].iloc[0], [-20.0, 60.0, 40.0], atol=tol * 100)
    np.testing.assert_allclose(
        r.res_bus["price_per_mwh"].iloc[0], [10.0, 20.0, 30.0], atol=tol * 100
    )
    info = r.solve_info
    # First solve: copper plate (f13 = 66.7 MW), then the one violated limit, then optimal.
    assert info["method"] == "lazy"
    assert info["path"] == ("highs-warm" if solver == "HIGHS" else "cvxpy-resolve")
    assert info["iterations"] == 2
    assert info["constraints_added"] == 1
    assert info["constraints_added_per_iteration"] == [1]
    assert info["max_violation"] <= info["tolerance"] == 1e-6


def test_three_bus_angles_equal_the_b_theta_model(three_bus_net):
    lazy = _three_bus_model(three_bus_net, gf.DC(lazy_limits=True), periods=2).solve()
    full = _three_bus_model(three_bus_net, gf.DC(), periods=2).solve()
    for quantity in ("va_degree", "price_per_mwh", "p_mw"):
        np.testing.assert_allclose(
            lazy.res_bus[quantity].to_numpy(), full.res_bus[quantity].to_numpy(), atol=1e-6
        )
    info = full.solve_info
    assert (info["solver"], info["method"], info["iterations"]) == ("HIGHS", "direct", 1)
    assert info["constraints_added"] == 0 and info["compiled"]


def test_no_limit_binds_means_one_solve(three_bus_net):
    # 50 MW: f13 = 33.3 MW < 40, the copper plate is already feasible.
    r = _three_bus_model(three_bus_net, gf.DC(lazy_limits=True), load_mw=50.0).solve()
    assert r.solve_info["iterations"] == 1
    assert r.solve_info["constraints_added"] == 0
    assert r.objective == pytest.approx(500.0)


def test_iteration_limit_raises(three_bus_net):
    model = _three_bus_model(three_bus_net, gf.DC(lazy_limits=True, lazy_max_iterations=1))
    with pytest.raises(gf.SolveError, match="still violated after 1 solves"):
        model.solve()


def test_mixed_integer_uses_the_resolve_path(three_bus_net):
    # Unit commitment makes it a MILP; the limits are re-solved from scratch (whole branches).
    def model(formulation):
        m = gf.Model(three_bus_net, periods=2, formulation=formulation)
        m.add(
            gf.Generator(
                bus=[0, 1],
                p_max_mw=[200, 200],
                p_min_mw=[10, 10],
                cost_per_mwh=[10, 20],
                cost_per_h=[5, 5],
                commitment=True,
                name="g",
            )
        )
        m.add(gf.Load(bus=2, p_mw=[100.0, 30.0], name="d"))
        return m

    lazy = model(gf.DC(lazy_limits=True)).solve(milp_prices=True)
    full = model(gf.DC()).solve(milp_prices=True)
    assert lazy.solve_info["path"] == "cvxpy-resolve"
    assert lazy.objective == pytest.approx(full.objective, rel=1e-9)
    np.testing.assert_allclose(lazy.res_gen["p_mw"], full.res_gen["p_mw"], atol=1e-6)
    np.testing.assert_allclose(
        lazy.res_bus["price_per_mwh"], full.res_bus["price_per_mwh"], atol=1e-6
    )


def _case118(formulation, periods=4):
    """case118 with PGLib ratings, linear costs made distinct (a unique optimum), storage."""
    net = gf.networks.ieee118()
    net.poly_cost["cp2_eur_per_mw2"] = 0.0
    net.poly_cost["cp1_eur_per_mw"] += 0.01 * np.arange(len(net.poly_cost))
    scale = 0.85 + 0.15 * np.sin(2 * np.pi * (np.arange(periods) * 6 - 9) / 24)
    model = gf.Model(net, periods=periods, load_scale=scale, formulation=formulation)
    model.add(gf.Storage(bus=[9, 25, 58, 79, 99], p_mw=50, e_mwh=200, name="bess"))
    return model


def test_case118_pglib_same_optimum_and_flows_as_full_formulation():
    full = _case118(gf.DC()).solve()
    lazy = _case118(gf.DC(lazy_limits=True)).solve()
    assert lazy.objective == pytest.approx(full.objective, rel=1e-9)
    for table, column in (("res_line", "p_from_mw"), ("res_trafo", "p_hv_mw")):
        np.testing.assert_allclose(
            getattr(lazy, table)[column], getattr(full, table)[column], atol=1e-5
        )
    np.testing.assert_allclose(lazy.res_gen["p_mw"], full.res_gen["p_mw"], atol=1e-5)
    np.testing.assert_allclose(lazy.res_storage["e_mwh"], full.res_storage["e_mwh"], atol=1e-5)
    np.testing.assert_allclose(lazy.res_bus["va_degree"], full.res_bus["va_degree"], atol=1e-6)
    # Congestion prices from the added rows' duals: lambda - PTDF^T mu.
    prices = full.res_bus["price_per_mwh"].to_numpy()
    assert np.ptp(prices) > 0.5
    np.testing.assert_allclose(lazy.res_bus["price_per_mwh"], prices, atol=1e-6)
    # Limits do bind here, and the loop had to add some.
    assert (full.res_line["limit_percent"] >= 99.999).to_numpy().any()
    info = lazy.solve_info
    assert info["path"] == "highs-warm"
    assert info["iterations"] >= 2 and info["constraints_added"] > 0
    assert info["constraints_added"] == sum(info["constraints_added_per_iteration"])


def test_case118_exactness_check_holds():
    # The relaxed optimum satisfies every limit within the tolerance: it is the true optimum.
    model = _case118(gf.DC(lazy_limits=True), periods=3)
    r = model.solve()
    rating = model.grid.branches.rating_mva
    flows = np.hstack([r.res_line["p_from_mw"].to_numpy(), r.res_trafo["p_hv_mw"].to_numpy()])
    assert (np.abs(flows) <= rating + 1e-6).all()
    assert r.solve_info["max_violation"] <= 1e-6
    # The first solve (no limits) violated limits: the check is not vacuous.
    assert r.solve_info["constraints_added_per_iteration"][0] > 0
    # Solving again starts afresh and finds the same solution.
    again = model.solve()
    assert again.objective == pytest.approx(r.objective, rel=1e-12)
    assert again.solve_info["constraints_added"] == r.solve_info["constraints_added"]


def test_lazy_rejects_candidates_and_several_references(three_bus_net):
    with pytest.raises(gf.InputError, match="candidate"):
        gf.DC(candidates=CandidateBranches(line=[0]), lazy_limits=True)
    pp.create_ext_grid(three_bus_net, 2, min_p_mw=0.0, max_p_mw=0.0)
    model = _three_bus_model(three_bus_net, gf.DC(lazy_limits=True))
    with pytest.raises(gf.InputError, match="one angle reference"):
        model.build()


def test_lazy_rejects_islands(three_bus_net):
    three_bus_net.line["in_service"] = [False, False, True]  # bus 2 (index 1) is cut off
    model = gf.Model(three_bus_net, periods=1, formulation=gf.DC(lazy_limits=True))
    with pytest.raises(gf.InputError, match="2 island"):
        model.build()


def test_phase_shifter_and_tap_match_the_b_theta_model():
    # A 5-degree phase-shifting transformer with an off-nominal tap: the shift-factor flows
    # carry the shifter's offset, the angles include it.
    net = pp.create_empty_network(sn_mva=100.0)
    for i in range(4):
        pp.create_bus(net, vn_kv=110.0 if i < 3 else 20.0, name=str(i + 1))
    for f, t, rating in ((0, 1, 60.0), (1, 2, 80.0), (0, 2, 50.0)):
        pp.create_line_from_parameters(
            net,
            f,
            t,
            length_km=10.0,
            r_ohm_per_km=0.0,
            x_ohm_per_km=0.4,
            c_nf_per_km=0.0,
            max_i_ka=rating / (3**0.5 * 110.0),
        )
    pp.create_transformer_from_parameters(
        net,
        2,
        3,
        sn_mva=60,
        vn_hv_kv=110,
        vn_lv_kv=20,
        vkr_percent=0.0,
        vk_percent=10,
        pfe_kw=0,
        i0_percent=0,
        shift_degree=5.0,
        tap_pos=1,
        tap_neutral=0,
        tap_step_percent=2.5,
        tap_side="hv",
    )
    pp.create_ext_grid(net, 0, min_p_mw=0.0, max_p_mw=0.0)

    def solve(formulation):
        m = gf.Model(net, periods=2, formulation=formulation)
        m.add(gf.Generator(bus=[0, 1, 3], p_max_mw=200, cost_per_mwh=[10, 20, 35], name="g"))
        m.add(gf.Load(bus=[2, 3], p_mw=[[60, 90], [40, 50]], name="d"))
        return m.solve()

    full, lazy = solve(gf.DC()), solve(gf.DC(lazy_limits=True))
    assert lazy.solve_info["constraints_added"] > 0
    assert lazy.objective == pytest.approx(full.objective, rel=1e-9)
    for table, column in (("res_line", "p_from_mw"), ("res_trafo", "p_hv_mw")):
        np.testing.assert_allclose(
            getattr(lazy, table)[column], getattr(full, table)[column], atol=1e-6
        )
    for quantity in ("va_degree", "price_per_mwh"):
        np.testing.assert_allclose(lazy.res_bus[quantity], full.res_bus[quantity], atol=1e-6)
    assert np.abs(full.res_bus["va_degree"].to_numpy()).max() > 5.0  # the shift is visible


def test_warm_path_duals_equal_the_resolve_path(three_bus_net, monkeypatch):
    # The warm path hands HiGHS the LP with bound rows folded into column bounds and rebuilds
    # their duals; every dual must equal the plain re-solve's (unique here: g1 sits at its
    # 10 MW limit, worth 10 - 5 = 5 per MWh; line 1-3 binds).
    def solve():
        m = gf.Model(three_bus_net, periods=2, formulation=gf.DC(lazy_limits=True))
        m.add(
            gf.Generator(bus=[0, 0, 1], p_max_mw=[200, 10, 200], cost_per_mwh=[10, 5, 20], name="g")
        )
        m.add(gf.Load(bus=2, p_mw=[100.0, 90.0], name="d"))
        return m, m.solve()

    warm_model, warm = solve()
    monkeypatch.setattr(gf.solvers._HighsWarm, "start", classmethod(lambda *a: None))
    cold_model, cold = solve()
    assert (warm.solve_info["path"], cold.solve_info["path"]) == ("highs-warm", "cvxpy-resolve")
    np.testing.assert_allclose(warm.res_gen["p_mw"].iloc[0], [10.0, 10.0, 80.0], atol=1e-6)
    np.testing.assert_allclose(warm.res_bus["price_per_mwh"], cold.res_bus["price_per_mwh"])
    n_base = len(warm_model.problem.constraints)
    assert n_base == len(cold_model.problem.constraints)
    for ours, theirs in zip(
        warm_model.problem.constraints, cold_model.problem.constraints, strict=True
    ):
        np.testing.assert_allclose(ours.dual_value, theirs.dual_value, atol=1e-7)
    bound = [c for c in warm_model.problem.constraints if np.any(np.abs(c.dual_value) > 4.9)]
    assert bound  # the generator limit's dual (5 per MWh) came through the folded row
