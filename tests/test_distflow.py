"""DistFlow formulations against pandapower's AC power flow (runpp), radiality and prices."""

import copy
import re
from functools import cache

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

import gridflex as gf
from gridflex.errors import InputError
from gridflex.formulations.distflow import LinDistFlow, SOCDistFlow
from gridflex.formulations.radial import radial_tree
from gridflex.grid import Grid

LINDISTFLOW_VM_BOUND_PU = 0.005
"""Documented bound on LinDistFlow's voltage error on case33bw (measured 0.0028 pu)."""


@cache
def _case33():
    return pn.case33bw()


def case33():
    """pandapower's case33bw (ext_grid at 20 per MW from its poly_cost, vm 1.0 pu)."""
    return copy.deepcopy(_case33())


def runpp(net):
    net = copy.deepcopy(net)
    pp.runpp(net, tolerance_mva=1e-10, numba=False)  # no JIT compile for small nets
    return net


def losses_mw(net):
    return float(net.res_ext_grid.p_mw.sum() - net.res_load.p_mw.sum())


def solve(net, formulation, **kw):
    model = gf.Model(net, formulation=formulation, **kw)
    return model, model.solve()


def feeder(lines, vn_kv=20.0, loads=(), price=10.0):
    """Radial test net: ext_grid (price per MW) at bus 0; ``lines`` = (from, to, r, x, i_ka)."""
    net = pp.create_empty_network(sn_mva=1.0)
    n_bus = 1 + max(max(f, t) for f, t, *_ in lines)
    for i in range(n_bus):
        pp.create_bus(net, vn_kv=vn_kv, name=str(i + 1))
    for f, t, r, x, i_ka in lines:
        pp.create_line_from_parameters(
            net, f, t, 1.0, r_ohm_per_km=r, x_ohm_per_km=x, c_nf_per_km=0.0, max_i_ka=i_ka
        )
    for bus, p, q in loads:
        pp.create_load(net, bus, p_mw=p, q_mvar=q)
    pp.create_ext_grid(net, 0, vm_pu=1.02)
    pp.create_poly_cost(net, 0, "ext_grid", cp1_eur_per_mw=price)
    return net


# --- agreement with runpp ---------------------------------------------------------------------
def test_soc_distflow_matches_runpp_on_case33bw():
    """Voltages within 1e-4 pu, losses within 0.1 %, flows within 1e-4 MW; the cone is tight."""
    ac = runpp(case33())
    model, r = solve(case33(), SOCDistFlow())
    vm = r.res_bus["vm_pu"].iloc[0].to_numpy()
    np.testing.assert_allclose(vm, ac.res_bus.vm_pu, atol=1e-4)
    loss = r.res_ext_grid["p_mw"].iloc[0].sum() - r.res_load["p_mw"].iloc[0].sum()
    assert loss == pytest.approx(losses_mw(ac), rel=1e-3)
    assert model.formulation.losses_mw(model.network, model.grid)[0] == pytest.approx(loss)
    assert r.res_ext_grid["q_mvar"].iloc[0].sum() == pytest.approx(ac.res_ext_grid.q_mvar.sum())
    flows = model.formulation.branch_results(model.network, model.grid)
    for column in ("p_from_mw", "p_to_mw", "q_from_mvar", "pl_mw", "i_ka"):
        np.testing.assert_allclose(flows[column][:, 0], ac.res_line[column], atol=1e-4)
    np.testing.assert_allclose(r.res_line["p_from_mw"].iloc[0], ac.res_line.p_from_mw, atol=1e-4)
    assert model.formulation.relaxation_gap(model.network) < 1e-7
    assert r.res_bus["soc_gap_pu"].to_numpy().max() < 1e-7


def test_lindistflow_voltage_error_bounded_and_lossless_on_case33bw():
    """LinDistFlow overestimates voltages (no losses) by < 0.005 pu; import equals load."""
    ac = runpp(case33())
    model, r = solve(case33(), LinDistFlow())
    vm = r.res_bus["vm_pu"].iloc[0].to_numpy()
    err = vm - ac.res_bus.vm_pu.to_numpy()
    assert np.abs(err).max() < LINDISTFLOW_VM_BOUND_PU
    assert err.min() > -1e-9  # lossless flows drop less voltage
    assert np.abs(err).max() > 1e-3  # and it is an approximation, not runpp
    load = r.res_load["p_mw"].iloc[0].sum()
    assert r.res_ext_grid["p_mw"].iloc[0].sum() == pytest.approx(load, abs=1e-6)
    assert r.res_ext_grid["q_mvar"].iloc[0].sum() == pytest.approx(ac.res_load.q_mvar.sum())
    assert model.formulation.losses_mw(model.network, model.grid)[0] == 0.0
    np.testing.assert_allclose(r.res_bus["price_per_mwh"].to_numpy(), 20.0, atol=1e-6)


def test_multi_period_each_period_matches_runpp():
    """Two periods with load_scale 1.0 and 0.6: each equals runpp with those loads."""
    scale = [1.0, 0.6]
    model, r = solve(case33(), SOCDistFlow(), periods=2, load_scale=scale)
    for t, s in enumerate(scale):
        net = case33()
        net.load["scaling"] = s
        ac = runpp(net)
        np.testing.assert_allclose(r.res_bus["vm_pu"].iloc[t], ac.res_bus.vm_pu, atol=1e-4)
        loss = r.res_ext_grid["p_mw"].iloc[t].sum() - r.res_load["p_mw"].iloc[t].sum()
        assert loss == pytest.approx(losses_mw(ac), rel=1e-3)
    assert model.formulation.relaxation_gap(model.network) < 1e-7


def test_binding_voltage_limit_gives_ac_feasible_dispatch():
    """vm >= 0.95 needs costly local generation; runpp of that dispatch confirms the voltages."""
    net = case33()
    model = gf.Model(net, formulation=SOCDistFlow(vm_min_pu=0.95))
    model.add(gf.Generator(bus=17, p_max_mw=3.0, cost_per_mwh=100.0, q_min_mvar=0, q_max_mvar=0))
    r = model.solve()
    vm = r.res_bus["vm_pu"].iloc[0]
    assert vm.min() == pytest.approx(0.95, abs=1e-6)
    p_gen = float(r.res_gen["p_mw"].iloc[0].sum())
    assert 0.1 < p_gen < 3.0
    assert r.res_bus["price_per_mwh"].iloc[0][17] == pytest.approx(100.0, rel=1e-4)
    pp.create_sgen(net, 17, p_mw=p_gen)
    ac = runpp(net)
    np.testing.assert_allclose(vm, ac.res_bus.vm_pu, atol=1e-4)
    assert model.formulation.relaxation_gap(model.network) < 1e-7


# --- radiality ----------------------------------------------------------------------------------
def test_closed_tie_line_raises_naming_the_loop():
    net = case33()
    net.line.loc[32, "in_service"] = True  # tie 20-7: loop 1-2-...-7-20-19-18-1 (0-based)
    with pytest.raises(InputError, match="loop") as info:
        gf.Model(net, formulation=SOCDistFlow()).build()
    buses = re.search(r"buses \[([\d, ]+)\]", str(info.value)).group(1)
    assert {int(b) for b in buses.split(",")} == {1, 2, 3, 4, 5, 6, 7, 18, 19, 20}
    assert "line 32" in str(info.value)


def test_disconnected_buses_raise_naming_them():
    net = case33()
    net.line.loc[net.line.index[(net.line.from_bus == 29)], "in_service"] = False  # 29-30
    with pytest.raises(InputError, match=r"buses \[30, 31, 32\] are in service but not"):
        gf.Model(net, formulation=LinDistFlow()).build()


def test_parallel_and_reversed_lines_match_runpp():
    """Two unequal parallel lines 0-1 are merged; each carries its impedance share of the flow."""
    lines = [
        (0, 1, 0.4, 0.5, 1.0),
        (0, 1, 0.9, 0.7, 1.0),
        (2, 1, 1.1, 0.9, 1.0),  # from the child: reversed
        (1, 3, 0.8, 0.6, 1.0),
    ]
    net = feeder(lines, loads=[(1, 1.0, 0.3), (2, 2.0, 0.8), (3, 1.5, 0.2)])
    tree = radial_tree(Grid(net))
    assert [g.tolist() for g in tree.groups] == [[0, 1]]
    assert tree.reversed.tolist() == [False, False, True, False]
    z = [0.4 + 0.5j, 0.9 + 0.7j]
    assert tree.r_pu[0] + 1j * tree.x_pu[0] == pytest.approx(1 / (1 / z[0] + 1 / z[1]) / 400)
    ac = runpp(net)
    for form, tol in ((SOCDistFlow(), 1e-4), (LinDistFlow(), 0.02)):
        model, r = solve(net, form)
        np.testing.assert_allclose(r.res_bus["vm_pu"].iloc[0], ac.res_bus.vm_pu, atol=tol)
        flows = model.formulation.branch_results(model.network, model.grid)
        np.testing.assert_allclose(flows["p_from_mw"][:, 0], ac.res_line.p_from_mw, atol=tol * 10)
    np.testing.assert_allclose(flows["p_to_mw"][:, 0], -flows["p_from_mw"][:, 0])  # lossless


@pytest.mark.parametrize("slack_side", ["hv", "lv"])
def test_transformer_ratio_matches_runpp(slack_side):
    """An off-nominal tap (+5 %) enters as v_from / tap^2, with the slack on either side."""
    net = pp.create_empty_network(sn_mva=1.0)
    hv, lv, end = (pp.create_bus(net, vn_kv=v) for v in (20.0, 0.4, 0.4))
    pp.create_transformer_from_parameters(
        net, hv, lv, sn_mva=0.63, vn_hv_kv=20.0, vn_lv_kv=0.4, vkr_percent=1.2, vk_percent=6.0,
        pfe_kw=0.0, i0_percent=0.0, tap_side="hv", tap_neutral=0, tap_min=-2, tap_max=2,
        tap_step_percent=2.5, tap_pos=-2, tap_changer_type="Ratio",
    )  # fmt: skip
    pp.create_line_from_parameters(net, lv, end, 0.2, 0.2, 0.08, 0.0, 0.4)
    pp.create_load(net, end, p_mw=0.2, q_mvar=0.05)
    pp.create_load(net, hv if slack_side == "lv" else lv, p_mw=0.1, q_mvar=0.02)
    pp.create_ext_grid(net, hv if slack_side == "hv" else lv, vm_pu=1.0)
    pp.create_poly_cost(net, 0, "ext_grid", cp1_eur_per_mw=30.0)
    assert Grid(net).branches.tap[1] == pytest.approx(0.95)
    ac = runpp(net)
    _, r = solve(net, SOCDistFlow())
    np.testing.assert_allclose(r.res_bus["vm_pu"].iloc[0], ac.res_bus.vm_pu, atol=1e-4)
    assert r.res_trafo["p_hv_mw"].iloc[0, 0] == pytest.approx(ac.res_trafo.p_hv_mw[0], abs=1e-5)


def test_two_slack_buses_and_line_charging_are_reported():
    net = feeder([(0, 1, 0.3, 0.4, 1.0)], loads=[(1, 1.0, 0.2)])
    net.line["c_nf_per_km"] = 3000.0
    with pytest.warns(UserWarning, match="line charging"):
        gf.Model(net, formulation=LinDistFlow()).build()
    pp.create_ext_grid(net, 1)
    with pytest.raises(InputError, match="one slack bus"):
        gf.Model(net, formulation=LinDistFlow()).build()


# --- prices -------------------------------------------------------------------------------------
@pytest.mark.parametrize("form", [SOCDistFlow, LinDistFlow])
def test_congested_line_separates_prices(form):
    """Import (10/MWh) limited by line 0-1; the local unit (50/MWh) sets the price behind it."""
    i_ka = 5.0 / (np.sqrt(3) * 20.0)  # 5 MVA at 20 kV
    net = feeder([(0, 1, 0.5, 0.6, i_ka)], loads=[(1, 8.0, 2.0)])
    model = gf.Model(net, formulation=form())
    model.add(gf.Generator(bus=1, p_max_mw=20.0, cost_per_mwh=50.0, name="local"))
    r = model.solve()
    price = r.res_bus["price_per_mwh"].iloc[0]
    assert price[0] == pytest.approx(10.0, rel=1e-5)
    assert price[1] == pytest.approx(50.0, rel=1e-5)
    assert 2.0 < r.res_gen["p_mw"].iloc[0, 0] < 6.0  # about 8 - 5 MVA
    flows = model.formulation.branch_results(model.network, model.grid)
    s_mva = np.hypot(flows["p_from_mw"][0, 0], flows["q_from_mvar"][0, 0])
    if form is SOCDistFlow:  # the current is at its limit
        assert flows["i_ka"][0, 0] == pytest.approx(i_ka, rel=1e-5)
        assert model.formulation.relaxation_gap(model.network) < 1e-7
    else:  # the inscribed 12-gon: between cos(pi/12) * 5 and 5 MVA
        assert 5.0 * np.cos(np.pi / 12) - 1e-6 <= s_mva <= 5.0 + 1e-9


def test_uncongested_lindistflow_prices_equal_import_price():
    net = feeder([(0, 1, 0.5, 0.6, 99.0), (1, 2, 0.5, 0.6, 99.0)], loads=[(2, 8.0, 2.0)])
    model = gf.Model(net, formulation=LinDistFlow(vm_min_pu=-np.inf, vm_max_pu=np.inf))
    model.add(gf.Generator(bus=1, p_max_mw=20.0, cost_per_mwh=50.0, name="local"))
    r = model.solve()
    np.testing.assert_allclose(r.res_bus["price_per_mwh"].to_numpy(), 10.0, rtol=1e-6)
    assert r.res_gen["p_mw"].iloc[0, 0] == pytest.approx(0.0, abs=1e-6)


def test_relaxation_gap_flags_a_loose_cone():
    """A negative import price rewards fake losses: the cone is loose and the gap shows it."""
    net = case33()
    net.poly_cost["cp1_eur_per_mw"] = -5.0
    model, r = solve(net, SOCDistFlow())
    assert r.res_ext_grid["p_mw"].iloc[0, 0] == pytest.approx(10.0, rel=1e-6)  # import at max
    assert model.formulation.relaxation_gap(model.network) > 0.1


def test_soc_branch_table_matches_runpp_both_ends():
    """res_line of SOC DistFlow: flows at both ends and loading as pandapower reports them."""
    net = pn.case33bw()
    result = gf.Model(net, periods=1, formulation=gf.SOCDistFlow()).solve()
    pp.runpp(net)
    on = net.line.in_service.to_numpy()
    for column in ("p_from_mw", "p_to_mw", "q_from_mvar", "q_to_mvar"):
        ours = result.res_line[column].iloc[0].to_numpy()[on]
        np.testing.assert_allclose(ours, net.res_line[column].to_numpy()[on], atol=1e-5)
    loading = result.res_line["loading_percent"].iloc[0].to_numpy()[on]
    np.testing.assert_allclose(loading, net.res_line.loading_percent.to_numpy()[on], atol=0.01)


def test_a_loss_price_is_charged_on_the_losses_and_keeps_the_relaxation_exact():
    # seed 002's feeder, a unit paid to produce, no export: without a loss price the relaxation
    # dumps its surplus into fictitious losses (a gap); with one, the losses are AC's and the
    # charge is price x hours x the losses of res_line
    def solve(price):
        net = gf.networks.load_network("yang14")
        model = gf.Model(net, periods=2, formulation=SOCDistFlow(loss_price_per_mwh=price),
                         net_elements=False)  # fmt: skip
        model.add(gf.ExternalGrid(0, [[40.0, 40.0]], p_min_mw=0.0, name="grid"))
        model.add(gf.Load(net.load.bus.to_numpy(), net.load.p_mw.to_numpy(),
                          net.load.q_mvar.to_numpy(), name="load"))  # fmt: skip
        # 30 MW at node 10 paid 50 per MWh produced (a premium): surplus pays to dump
        model.add(gf.Generator(9, 30.0, cost_per_mwh=-50.0, name="premium"))
        result = model.solve()
        return model, result

    model, _ = solve(0.0)
    assert model.formulation.relaxation_gap(model.builds[model.main.name]) > 1e-3
    model, tight = solve(1500.0)
    assert model.formulation.relaxation_gap(model.builds[model.main.name]) < 1e-8
    losses_mwh = tight.res_line["pl_mw"].to_numpy().sum()  # two periods of 1 h
    charged = tight.costs.loc[(model.main.name, "loss_price"), "cost"]
    assert charged == pytest.approx(1500.0 * losses_mwh, rel=1e-6)
    with pytest.raises(InputError, match="loss_price_per_mwh must be a finite number >= 0"):
        SOCDistFlow(loss_price_per_mwh=-1.0)


def test_line_loading_is_the_current_over_its_rating_as_in_pandapower():
    """A 0.1 kA line feeding a 5 MW load from a 1.02 pu source binds at its current: 100 %
    (its apparent power is 2 % above the rating at 1 pu), as pandapower's runpp of the
    dispatch says; a local generator at 50 per MW covers the rest."""
    net = feeder([(0, 1, 0.5, 0.5, 0.1)], loads=[(1, 5.0, 1.0)])
    model = gf.Model(net, formulation=SOCDistFlow(loss_price_per_mwh=1.0))
    model.add(gf.Generator(bus=1, p_max_mw=5.0, cost_per_mwh=50.0, q_min_mvar=0, q_max_mvar=0))
    r = model.solve()
    assert r.res_line["limit_percent"].iloc[0, 0] == pytest.approx(100.0, abs=1e-5)
    assert r.res_line["loading_percent"].iloc[0, 0] == pytest.approx(100.0, abs=1e-5)
    s_from = np.hypot(r.res_line["p_from_mw"].iloc[0, 0], r.res_line["q_from_mvar"].iloc[0, 0])
    assert s_from / (np.sqrt(3) * 20.0 * 0.1) == pytest.approx(1.02, abs=2e-3)  # V * I
    pp.create_sgen(net, 1, p_mw=r.res_gen["p_mw"].iloc[0, 0])
    ac = runpp(net)
    assert ac.res_line.loading_percent[0] == pytest.approx(100.0, abs=1e-3)
