"""gridflex on pandapower's own example networks: switches, fused buses, trafo3w.

* DC model exact: for open line / trafo / trafo3w switches, buses fused by closed bus-bus
  switches and three-winding transformers, gridflex's DC dispatch written into the net gives
  pandapower's ``rundcpp`` flows, angles and bus powers (all branches, every original bus).
* Every example net of ``pandapower.networks`` that ``pp.runpp`` solves is solved and
  AC-validated by ``gf.Model(net, periods=4)``, or refused with an ``InputError`` naming the
  element gridflex does not model, or (the "extreme" Kerber nets) is overloaded as given:
  pandapower's own DC power flow loads a branch beyond its rating, the model is infeasible,
  and with the ratings lifted it solves and validates.
"""

import copy
import re

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

import gridflex as gf
from gridflex.grid import Grid

FLOW_ATOL_MW = 1e-8
ANGLE_ATOL_DEG = 1e-8
CABLE = "NA2XS2Y 1x185 RM/25 12/20 kV"


def _dispatch_vs_rundcpp(net):
    """Solve gridflex's DC model, write its dispatch into a copy, run ``rundcpp``.

    Returns the largest absolute differences ``(flow_mw, angle_deg, bus_p_mw)`` over every
    branch (lines, trafos, trafo3w windings) and every original bus pandapower solves.
    Angles are taken relative to the first slack bus (gridflex fixes it at 0, pandapower at the
    ext_grid's ``va_degree``).
    """
    model = gf.Model(net, periods=1)
    result = model.solve()
    pp_net = copy.deepcopy(net)
    for table in ("gen", "sgen", "load"):
        if f"res_{table}" in result.tables:
            p = result.tables[f"res_{table}"]["p_mw"].iloc[0]
            pp_net[table].loc[p.index, ["p_mw", "scaling"]] = np.c_[p.to_numpy(), np.ones(len(p))]
    pp.rundcpp(pp_net, calculate_voltage_angles=True)
    t3 = pp_net.res_trafo3w
    expected = np.r_[
        pp_net.res_line.p_from_mw,
        pp_net.res_trafo.p_hv_mw,
        t3.p_hv_mw,
        -t3.p_mv_mw,
        -t3.p_lv_mw,
    ]
    flows = np.asarray(model.network.branch_flow_mw.value)[:, 0]
    on = ~np.isnan(expected)  # pandapower: NaN on branches at out-of-service buses
    solved = pp_net.res_bus.va_degree.notna().to_numpy()
    slack = pp_net.ext_grid.bus.iloc[0]
    va_pp = (pp_net.res_bus.va_degree - pp_net.res_bus.va_degree[slack])[solved]
    va_gf = result.res_bus["va_degree"].iloc[0]
    va_gf = (va_gf - va_gf[slack])[pp_net.res_bus.index[solved]]
    p_bus = result.res_bus["p_mw"].iloc[0][pp_net.res_bus.index[solved]]
    return (
        float(np.abs(flows[on] - expected[on]).max()),
        float(np.abs(va_gf.to_numpy() - va_pp.to_numpy()).max()),
        float(np.abs(p_bus.to_numpy() - pp_net.res_bus.p_mw[solved].to_numpy()).max()),
    )


def _assert_equal_to_rundcpp(net):
    flow, angle, p_bus = _dispatch_vs_rundcpp(net)
    assert flow < FLOW_ATOL_MW and angle < ANGLE_ATOL_DEG and p_bus < FLOW_ATOL_MW


# --- open line and transformer switches ----------------------------------------------------


@pytest.mark.parametrize(
    "name", ["mv_oberrhein", "create_cigre_network_mv", "simple_mv_open_ring_net"]
)
def test_open_line_switches_cut_their_line_as_rundcpp(name):
    net = getattr(pn, name)()
    grid = Grid(net)
    open_lines = net.switch.element[(net.switch.et == "l") & ~net.switch.closed].unique()
    rows = np.flatnonzero(grid.branches.element == "line")
    cut = rows[np.isin(grid.branches.element_index[rows], open_lines)]
    assert grid.branches.switch_open[cut].all() and not grid.branches.in_service[cut].any()
    assert grid.n_bus == len(net.bus)  # no auxiliary bus of pandapower's open switches
    _assert_equal_to_rundcpp(net)


def _parallel_trafos(open_switch):
    """Two 110/20 kV trafos feeding two MV buses joined by a cable (a loop)."""
    net = pp.create_empty_network()
    hv, mv1, mv2 = (pp.create_bus(net, vn) for vn in (110.0, 20.0, 20.0))
    pp.create_ext_grid(net, hv)
    pp.create_transformer(net, hv, mv1, "25 MVA 110/20 kV")
    t = pp.create_transformer(net, hv, mv2, "40 MVA 110/20 kV", tap_pos=2)
    pp.create_line(net, mv1, mv2, 3.0, CABLE)
    pp.create_load(net, mv1, 8.0)
    pp.create_load(net, mv2, 5.0)
    pp.create_switch(net, mv2, t, et="t", closed=not open_switch)
    return net


@pytest.mark.parametrize("open_switch", [False, True])
def test_trafo_switch_as_rundcpp(open_switch):
    net = _parallel_trafos(open_switch)
    assert Grid(net).branches.in_service.tolist() == [True, True, not open_switch]
    _assert_equal_to_rundcpp(net)


# --- buses fused by closed bus-bus switches ------------------------------------------------


def _fused():
    """Buses 0=1 and 2=3 fused, a loop over two cables, devices on different members; bus 4
    is out of service, so its closed switch to bus 2 fuses nothing (as in pandapower)."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0) for _ in range(6)]
    pp.create_ext_grid(net, b[0])
    pp.create_switch(net, b[0], b[1], et="b")
    pp.create_switch(net, b[2], b[3], et="b")
    pp.create_switch(net, b[3], b[5], et="b", closed=False)
    pp.create_line(net, b[1], b[2], 2.0, CABLE)
    pp.create_line(net, b[0], b[3], 3.0, CABLE)
    pp.create_line(net, b[3], b[5], 1.0, CABLE)
    pp.create_load(net, b[3], 4.0)
    pp.create_load(net, b[5], 1.5)
    pp.create_sgen(net, b[2], 1.0)
    pp.create_sgen(net, b[1], 0.5)
    net.bus.loc[4, "in_service"] = False
    pp.create_switch(net, b[2], b[4], et="b")
    return net


@pytest.mark.parametrize("name", ["example_simple", "create_cigre_network_lv", "fused"])
def test_fused_buses_as_rundcpp(name):
    net = _fused() if name == "fused" else getattr(pn, name)()
    _assert_equal_to_rundcpp(net)


def test_fused_buses_share_one_node_and_keep_their_index():
    net = _fused()
    grid = Grid(net)
    assert grid.bus_map.tolist() == [0, 0, 2, 2, 4, 5]
    assert grid.bus_in_service.tolist() == [True, False, True, False, False, True]
    assert grid.bus_positions([1, 3], owner="x").tolist() == [0, 2]
    with pytest.raises(gf.InputError, match=r"bus \[4\] is out of service"):
        grid.bus_positions([4], owner="x")
    model = gf.Model(net, periods=2)
    model.add(gf.Renewable(1, [1.0, 2.0], curtailable=False, name="pv"))  # on a fused member
    result = model.solve()
    res_bus = result.res_bus
    assert res_bus["p_mw"].columns.tolist() == net.bus.index.tolist()  # one column per bus
    va = res_bus["va_degree"]
    np.testing.assert_array_equal(va[0], va[1])
    np.testing.assert_array_equal(va[2], va[3])
    np.testing.assert_array_equal(res_bus["price_per_mwh"][2], res_bus["price_per_mwh"][3])
    np.testing.assert_allclose(res_bus["p_mw"][1], [-1.5, -2.5])  # sgen 0.5 + pv, own bus only
    np.testing.assert_allclose(res_bus["p_mw"][3], [4.0, 4.0])
    assert result.validate_ac().all_converged


# --- three-winding transformers -----------------------------------------------------------


def _trafo3w_loop(open_side=None):
    """A trafo3w in two loops (a 110/20 kV trafo and a 20/10 kV trafo in parallel paths), with
    a tap off nominal and optionally an open switch at one of its windings."""
    net = pp.create_empty_network()
    hv, mv, lv = (pp.create_bus(net, vn) for vn in (110.0, 20.0, 10.0))
    pp.create_ext_grid(net, hv)
    t3 = pp.create_transformer3w(net, hv, mv, lv, "63/25/38 MVA 110/20/10 kV", tap_pos=3)
    net.trafo3w[["shift_mv_degree", "shift_lv_degree"]] = 150.0  # as the YNd5 110/20 kV trafo
    pp.create_transformer(net, hv, mv, "25 MVA 110/20 kV")
    pp.create_transformer_from_parameters(
        net, mv, lv, sn_mva=10.0, vn_hv_kv=20.0, vn_lv_kv=10.0, vkr_percent=0.5,
        vk_percent=8.0, pfe_kw=0.0, i0_percent=0.0,
    )  # fmt: skip
    pp.create_load(net, mv, 12.0)
    pp.create_load(net, lv, 9.0)
    if open_side:
        bus = {"hv": hv, "mv": mv, "lv": lv}[open_side]
        pp.create_switch(net, bus, t3, et="t3", closed=False)
    return net


@pytest.mark.parametrize("open_side", [None, "hv", "mv", "lv"])
def test_trafo3w_as_rundcpp(open_side):
    net = _trafo3w_loop(open_side)
    grid = Grid(net)
    rows = grid.branches.element == "trafo3w"
    assert grid.branches.winding[rows].tolist() == ["hv", "mv", "lv"]
    assert grid.n_bus == 4  # three buses and the star point
    assert grid.bus_vn_kv.tolist() == [110.0, 20.0, 10.0, 110.0]
    cut = [side == open_side for side in ("hv", "mv", "lv")]
    assert grid.branches.switch_open[rows].tolist() == cut
    _assert_equal_to_rundcpp(net)


def test_trafo3w_of_example_multivoltage_as_rundcpp():
    """example_multivoltage (trafo3w, 30 closed bus-bus switches, an open one, open line
    switch) with its impedance and xwards taken out of service."""
    net = pn.example_multivoltage()
    net.impedance["in_service"] = False
    net.xward["in_service"] = False
    _assert_equal_to_rundcpp(net)
    with pytest.raises(gf.InputError, match="not in the net"):
        Grid(net).bus_positions([int(Grid(net).bus_index[-1])], owner="x")  # star point


# --- refused elements ----------------------------------------------------------------------


def test_unsupported_elements_are_named():
    with pytest.raises(gf.InputError, match=r"net\.impedance \[0\]; net\.xward \[0, 1\]"):
        Grid(pn.example_multivoltage())
    net = _fused()
    net.switch.loc[0, "z_ohm"] = 0.1
    with pytest.raises(gf.InputError, match=r"net\.switch \[0\] \(closed bus-bus"):
        Grid(net)
    net = _fused()
    pp.create_asymmetric_load(net, 3, p_a_mw=0.1)
    with pytest.raises(gf.InputError, match=r"net\.asymmetric_load \[0\]"):
        Grid(net)


# --- every example net ---------------------------------------------------------------------

SOLVE, OVERLOADED = "solve", "overloaded"
EXAMPLES = {
    "example_simple": SOLVE,
    "example_multivoltage": "refuse: net.impedance [0]; net.xward [0, 1]",
    "mv_oberrhein": SOLVE,
    "create_cigre_network_hv": SOLVE,
    "create_cigre_network_mv": SOLVE,
    "create_cigre_network_lv": SOLVE,
    "simple_mv_open_ring_net": SOLVE,
    "simple_four_bus_system": SOLVE,
    "panda_four_load_branch": SOLVE,
    "four_loads_with_branches_out": SOLVE,
    "create_dickert_lv_network": SOLVE,
    "create_synthetic_voltage_control_lv_network": SOLVE,
    "create_kerber_dorfnetz": SOLVE,
    "create_kerber_landnetz_freileitung_1": SOLVE,
    "create_kerber_landnetz_freileitung_2": SOLVE,
    "create_kerber_landnetz_kabel_1": SOLVE,
    "create_kerber_landnetz_kabel_2": SOLVE,
    "kb_extrem_dorfnetz": SOLVE,
    "kb_extrem_dorfnetz_trafo": OVERLOADED,
    "kb_extrem_landnetz_freileitung": OVERLOADED,
    "kb_extrem_landnetz_freileitung_trafo": OVERLOADED,
    "kb_extrem_landnetz_kabel": OVERLOADED,
    "kb_extrem_landnetz_kabel_trafo": OVERLOADED,
    "ieee_european_lv_asymmetric": "refuse: net.asymmetric_load",
}
LARGE = {  # 290 to 2940 buses, 25 s together
    "create_kerber_vorstadtnetz_kabel_1": SOLVE,
    "create_kerber_vorstadtnetz_kabel_2": SOLVE,
    "kb_extrem_vorstadtnetz_1": SOLVE,
    "kb_extrem_vorstadtnetz_2": SOLVE,
    "kb_extrem_vorstadtnetz_trafo_1": OVERLOADED,
    "kb_extrem_vorstadtnetz_trafo_2": OVERLOADED,
    "lv_schutterwald": SOLVE,
}


def _check_example(name, expected):
    net = getattr(pn, name)()
    pp.runpp(copy.deepcopy(net))  # only nets pandapower itself solves
    if expected.startswith("refuse: "):
        with pytest.raises(gf.InputError, match=re.escape(f"does not model {expected[8:]}")):
            gf.Model(net, periods=4)
        return
    if expected == OVERLOADED:
        pp_net = copy.deepcopy(net)
        pp.rundcpp(pp_net)
        assert (
            max(pp_net.res_line.loading_percent.max(), pp_net.res_trafo.loading_percent.max()) > 100
        )
        with pytest.raises(gf.SolveError, match="infeasible"):
            gf.Model(net, periods=4).solve()
        for table in ("line", "trafo"):
            net[table]["max_loading_percent"] = 1e9  # no limits: the topology itself works
    report = gf.Model(net, periods=4).solve().validate_ac()
    assert report.all_converged


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_net_solves_and_validates_or_is_refused(name):
    _check_example(name, EXAMPLES[name])


@pytest.mark.slow
@pytest.mark.parametrize("name", LARGE)
def test_large_example_net_solves_and_validates_or_is_refused(name):
    _check_example(name, LARGE[name])
