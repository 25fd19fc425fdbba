"""Re-solvable models: new values through cvxpy Parameters, no rebuild, same answers.

Reference: a fresh model built with the new values and solved from scratch. Every parameter a
device declares ``resolvable`` is covered (a test fails when one is added without a case here).
"""

import numpy as np
import pandapower as pp
import pytest

import gridflex as gf
from gridflex.devices.base import Device
from gridflex.parameters import declared_parameters

T = 4
LOAD = np.array([[60.0, 80.0, 100.0, 70.0], [20.0, 30.0, 25.0, 20.0]])


def three_bus_net():
    net = pp.create_empty_network()
    for _ in range(3):
        pp.create_bus(net, vn_kv=110.0)
    for a, b in ((0, 1), (1, 2), (0, 2)):
        pp.create_line_from_parameters(
            net, a, b, length_km=10.0, r_ohm_per_km=0.05, x_ohm_per_km=0.4, c_nf_per_km=0.0,
            max_i_ka=0.4,
        )  # fmt: skip
    return net


def build(devices, formulation=None, **solve):
    model = gf.Model(three_bus_net(), periods=T, formulation=formulation or gf.DC(),
                     net_elements=False)  # fmt: skip
    for device in devices:
        model.add(device)
    return model


def dispatch_devices():
    """Two generators, an external grid, loads and a wind farm: the LP every case edits."""
    return [
        gf.Generator([0, 2], [90.0, 60.0], [5.0, 0.0], cost_per_mwh=[20.0, 35.0], name="gen"),
        gf.ExternalGrid(0, [[10.0, 10.0, 50.0, 50.0]], -20.0, 40.0, name="grid"),
        gf.Load([1, 2], LOAD, shed_cost_per_mwh=500.0, name="load"),
        gf.Renewable(1, [0.2, 0.6, 0.9, 0.4], capacity_mw=40.0,
                     curtailment_cost_per_mwh=5.0, name="wind"),
        gf.EVParkingLot(2, [[400.0, 500.0, 600.0, 300.0]], [[20.0, 25.0, 30.0, 15.0]],
                        [[2.0, 6.0, 4.0, 0.0]], [[0.0, 1.0, 3.0, 8.0]], e_initial_mwh=8.0,
                        charge_rate_mw=0.02, discharge_rate_mw=0.02, exclusive_modes=False,
                        name="ev"),
    ]  # fmt: skip


# (device name, parameter) -> a new value; every resolvable parameter of every device
EDITS = {
    ("Generator", "p_max_mw"): ("gen", [[80.0] * T, [70.0, 65.0, 60.0, 55.0]]),
    ("Generator", "p_min_mw"): ("gen", [10.0, 2.0]),
    ("Generator", "cost_per_mwh"): ("gen", [[18.0, 25.0, 40.0, 22.0], [30.0, 31.0, 29.0, 45.0]]),
    ("ExternalGrid", "price_per_mwh"): ("grid", [[55.0, 70.0, 90.0, 40.0]]),
    ("ExternalGrid", "p_max_mw"): ("grid", 5.0),
    ("ExternalGrid", "p_min_mw"): ("grid", -10.0),
    ("ExternalGrid", "cost_per_mwh"): ("grid", 3.0),
    ("Load", "p_mw"): ("load", LOAD * 1.15),
    ("Renewable", "profile"): ("wind", [0.5, 0.1, 0.3, 0.8]),
    ("Renewable", "capacity_mw"): ("wind", 55.0),
    ("EVParkingLot", "ev_count"): ("ev", [[300.0, 300.0, 300.0, 300.0]]),
    ("EVParkingLot", "capacity_mwh"): ("ev", [[30.0, 30.0, 35.0, 20.0]]),
    ("EVParkingLot", "arrival_energy_mwh"): ("ev", [[4.0, 3.0, 6.0, 1.0]]),
    ("EVParkingLot", "departure_energy_mwh"): ("ev", [[0.0, 2.0, 2.0, 10.0]]),
    ("EVParkingLot", "e_initial_mwh"): ("ev", 12.0),
    ("EVParkingLot", "contract_energy_mwh"): ("ev", [[1.0, 2.0, 2.0, 1.0]]),
}


def resolvable_parameters():
    return sorted(
        (cls.__name__, key)
        for cls in Device.registry.values()
        for key, param in declared_parameters(cls).items()
        if param.resolvable
    )


def test_every_resolvable_parameter_has_a_case():
    assert resolvable_parameters() == sorted(EDITS)


@pytest.mark.parametrize("kind, key", sorted(EDITS))
def test_resolve_with_a_new_value_equals_a_fresh_build(kind, key):
    name, value = EDITS[(kind, key)]
    model = build(dispatch_devices())
    first = model.solve()
    problem = model.problem
    setattr(model.device(name), key, value)
    again = model.solve()
    assert not again.solve_info["compiled"] and model.problem is problem
    assert again.solve_info["warm"]  # the live HiGHS model restarted from its basis
    fresh_devices = dispatch_devices()
    setattr(next(d for d in fresh_devices if d.name == name), key, value)
    fresh = build(fresh_devices).solve()
    assert fresh.solve_info["compiled"]
    assert again.objective == pytest.approx(fresh.objective, rel=1e-9)
    assert again.objective != pytest.approx(first.objective, rel=1e-6)  # the edit mattered
    # the optimum may be degenerate (another dispatch, other prices at the same cost): compare
    # the optimal cost, and that the cost table adds up to it
    assert again.costs["cost"].sum() == pytest.approx(fresh.costs["cost"].sum(), rel=1e-9)
    assert again.costs["cost"].sum() == pytest.approx(again.objective, rel=1e-9)


def test_a_changed_pattern_of_limits_rebuilds():
    model = build(dispatch_devices())
    model.solve()
    model.device("grid").p_max_mw = np.inf  # a limit removed: the problem changes shape
    assert model.solve().solve_info["compiled"]
    model.device("gen").bus = [1, 2]  # not a value of the problem: terminals moved
    assert model.solve().solve_info["compiled"]


def test_a_value_read_as_a_constant_rebuilds():
    # Storage reads its energy capacity into the problem's constants: a new one rebuilds.
    devices = [*dispatch_devices(), gf.Storage(1, p_mw=10.0, e_mwh=20.0, name="bess")]
    model = build(devices)
    model.solve()
    model.device("bess").e_mwh = 30.0
    result = model.solve()
    fresh = build([*dispatch_devices(), gf.Storage(1, p_mw=10.0, e_mwh=30.0, name="bess")])
    assert result.solve_info["compiled"]
    assert result.objective == pytest.approx(fresh.solve().objective, rel=1e-9)


def test_bad_values_are_refused_before_a_resolve():
    model = build(dispatch_devices())
    model.solve()
    with pytest.raises(gf.InputError, match=r"Load 'load'.*p_mw"):
        model.device("load").p_mw = [[np.nan] * T, [1.0] * T]
    model.device("gen").p_min_mw = [100.0, 0.0]  # above p_max: checked at the next solve
    with pytest.raises(gf.InputError, match="Generator 'gen'"):
        model.solve()


def test_a_milp_resolves_to_the_fresh_optimum_at_zero_gap():
    def devices(cost):
        gen = gf.Generator([0, 2], [90.0, 60.0], [30.0, 20.0], cost_per_mwh=cost,
                           cost_per_h=[200.0, 50.0], commitment=True, name="gen")  # fmt: skip
        return [gen, *dispatch_devices()[1:]]

    new_cost = [[25.0, 18.0, 40.0, 22.0], [30.0, 20.0, 29.0, 45.0]]
    model = build(devices([20.0, 35.0]))
    model.solve(mip_rel_gap=0)
    model.device("gen").cost_per_mwh = new_cost
    again = model.solve(mip_rel_gap=0)
    fresh = build(devices(new_cost)).solve(mip_rel_gap=0)
    assert not again.solve_info["compiled"]
    assert again.objective == pytest.approx(fresh.objective, rel=1e-9)
    np.testing.assert_array_equal(again.res_gen["on"], fresh.res_gen["on"])


def test_an_socp_resolves_to_the_fresh_optimum():
    def model(cost):
        m = gf.Model(gf.networks.ieee33(), periods=2, formulation=gf.SOCDistFlow())
        m.add(gf.Generator(17, 1.0, cost_per_mwh=cost, q_min_mvar=-0.5, q_max_mvar=0.5,
                           name="dg"))  # fmt: skip
        return m

    m = model(30.0)
    m.solve()
    m.device("dg").cost_per_mwh = 80.0
    again = m.solve()
    fresh = model(80.0).solve()
    assert not again.solve_info["compiled"]
    assert again.objective == pytest.approx(fresh.objective, rel=1e-6)


def test_a_plan_at_new_values_is_evaluated_without_recompiling():
    # the same decisions fixed at other values (a sweep over plans, a Benders proposal)
    def planning():
        m = build(dispatch_devices())
        m.add(gf.Generator(1, 50.0, cost_per_mwh=10.0, investment=2000.0, name="new"))
        return m

    model = planning()
    built = model.evaluate({"new.built": [1]})
    assert built.solve_info["compiled"]
    (key,) = model._assemblies  # one fixed problem: which decisions, which entries free
    problem = model._assemblies[key][0]
    skipped = model.evaluate({"new.built": [0]})
    assert not skipped.solve_info["compiled"]
    assert list(model._assemblies) == [key] and model._assemblies[key][0] is problem
    for plan, result in (([1], built), ([0], skipped)):
        assert result.objective == pytest.approx(planning().evaluate({"new.built": plan}).objective,
                                                 rel=1e-9)  # fmt: skip


def test_without_parameters_every_edit_rebuilds_to_the_same_answer():
    model = gf.Model(three_bus_net(), periods=T, net_elements=False, resolvable=False)
    for device in dispatch_devices():
        model.add(device)
    first = model.solve()
    assert not model.problem.parameters() and "path" not in first.solve_info
    model.device("load").p_mw = LOAD * 1.15
    again = model.solve()
    fresh_devices = dispatch_devices()
    fresh_devices[2].p_mw = LOAD * 1.15
    assert again.solve_info["compiled"]
    assert again.objective == pytest.approx(build(fresh_devices).solve().objective, rel=1e-9)


# --- edits that must not be applied as Parameter values (found by review) -------------------
def test_a_limit_that_turns_finite_rebuilds_and_binds():
    def devices(grid_max):
        return [
            gf.Generator(0, 200.0, cost_per_mwh=50.0, name="gen"),
            gf.ExternalGrid(0, 10.0, p_max_mw=grid_max, name="grid"),
            gf.Load([1, 2], LOAD, shed_cost_per_mwh=500.0, name="load"),
        ]

    model = build(devices(np.inf))
    model.solve()
    model.device("grid").p_max_mw = 50.0
    again = model.solve()
    assert again.solve_info["compiled"] and "p_max_mw" in again.solve_info["rebuilt_because"]
    assert again.res_ext_grid["p_mw"].to_numpy().max() <= 50.0 + 1e-9
    assert again.objective == pytest.approx(build(devices(50.0)).solve().objective, rel=1e-9)


def test_an_edit_of_a_parameter_not_declared_resolvable_rebuilds():
    td = gf.networks.ieee24_ieee33()

    def model(settlement):
        networks = [gf.Network(td.transmission, "T", formulation=gf.CopperPlate()),
                    gf.Network(td.distribution, "D", formulation=gf.CopperPlate())]  # fmt: skip
        m = gf.Model(networks, periods=2)
        m.add(gf.Boundary("T", 1, "D", 0, price_per_mwh=50.0, settlement=settlement, name="pcc"))
        return m

    m = model("transfer")
    m.solve()
    m.device("pcc").settlement = "cost"  # read from the device, not through the build
    again = m.solve()
    assert again.solve_info["rebuilt_because"] == "Boundary 'pcc': 'settlement' is not re-solvable"
    assert again.objective == pytest.approx(model("cost").solve().objective, rel=1e-9)


def test_a_series_of_per_unit_costs_stays_per_unit():
    import pandas as pd

    per_unit = [20.0, 35.0, 50.0, 60.0]  # four units and four periods: per unit wins

    def solve(cost):
        gens = gf.Generator([0, 1, 2, 0], [40.0] * 4, cost_per_mwh=cost, name="gen")
        return build([gens, gf.Load([1, 2], LOAD, name="load")]).solve().objective

    assert solve(pd.Series(per_unit)) == pytest.approx(solve(per_unit), rel=1e-12)


def test_solver_options_reach_the_live_highs_model_and_a_failed_solve_leaves_no_stale_state():
    model = build(dispatch_devices())
    first = model.solve(highs_options={"primal_feasibility_tolerance": 1e-9})
    again = model.solve()  # other options: a cold start with them, no error
    assert not again.solve_info["warm"] and again.objective == pytest.approx(first.objective)
    load = model.device("load")
    load.shed_cost_per_mwh = None  # a rebuild: no shedding now
    model.solve()
    load.p_mw = LOAD * 10  # far beyond generation: infeasible
    with pytest.raises(gf.SolveError, match="infeasible"):
        model.solve()
    assert model.problem.status == "infeasible"  # not the previous solve's 'optimal'
    load.p_mw = LOAD
    assert model.solve().objective == pytest.approx(build(
        [*dispatch_devices()[:2], gf.Load([1, 2], LOAD, name="load"), *dispatch_devices()[3:]]
    ).solve().objective, rel=1e-9)  # fmt: skip


def test_no_elementwise_parameter_times_variable_in_any_device():
    # cvxpy compiles cp.multiply(Parameter, Variable) in time and memory quadratic in its size
    # (14 GB for 5 EV lots over 8760 periods); devices use parameter_times instead
    import cvxpy as cp

    devices = dispatch_devices()
    devices[-1].exclusive_modes = True  # the EV binaries multiply their power limits
    model = build(devices)
    model.build()

    def offending(expr):
        if isinstance(expr, cp.multiply):
            kinds = [(bool(a.parameters()), bool(a.variables())) for a in expr.args]
            if any(p for p, _ in kinds) and any(v for _, v in kinds):
                return True
        return any(offending(arg) for arg in expr.args)

    problem = model.problem
    assert problem.parameters()
    assert not any(offending(c) for c in [problem.objective, *problem.constraints])


def test_a_loads_reactive_power_reaches_ac_validation_in_a_dc_model():
    model = build([gf.ExternalGrid(0, 10.0, name="grid"),
                   gf.Load(2, 30.0, q_mvar=20.0, name="load")])  # fmt: skip
    result = model.solve()
    record = next(r for r in result.injections if r.device == "load")
    np.testing.assert_allclose(record.q_mvar, -20.0)
