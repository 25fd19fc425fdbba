"""gridflex against pandapower: DC flows (rundcpp), DC OPF (rundcopp), sign conventions."""

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

import gridflex as gf
from gridflex.formulations import ptdf_matrix
from gridflex.grid import Grid

CASES = {"case14": pn.case14, "case24": pn.case24_ieee_rts, "case118": pn.case118}


def _pp_branch_flows(net):
    return np.r_[net.res_line.p_from_mw.to_numpy(), net.res_trafo.p_hv_mw.to_numpy()]


@pytest.mark.parametrize("case", CASES)
def test_dc_flows_equal_rundcpp(case):
    """Same nodal injections -> same branch flows as pandapower's rundcpp (within 1e-6 MW)."""
    net = CASES[case]()
    pp.rundcpp(net)
    grid = Grid(net)
    injections = -net.res_bus.p_mw.to_numpy()
    theta = np.deg2rad(net.res_bus.va_degree.to_numpy())
    flows_bt = grid.dc_flow_matrix() @ theta + grid.dc_shift_flow_mw()
    flows_ptdf = ptdf_matrix(grid) @ injections
    np.testing.assert_allclose(flows_bt, _pp_branch_flows(net), atol=1e-6)
    np.testing.assert_allclose(flows_ptdf, _pp_branch_flows(net), atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_model_flows_equal_rundcpp_for_its_own_dispatch(case):
    """Write the optimal dispatch into the net, run rundcpp: flows and slack power agree."""
    net = CASES[case]()
    r = gf.Model(net, periods=1).solve()
    pp_net = CASES[case]()
    pp_net.gen["p_mw"] = r.res_gen["p_mw"].iloc[0].reindex(pp_net.gen.index).to_numpy()
    if "res_sgen" in r.tables:
        pp_net.sgen.loc[r.res_sgen["p_mw"].columns, "p_mw"] = r.res_sgen["p_mw"].iloc[0].values
    pp.rundcpp(pp_net)
    flows = np.r_[r.res_line["p_from_mw"].iloc[0], r.res_trafo["p_hv_mw"].iloc[0]]
    np.testing.assert_allclose(flows, _pp_branch_flows(pp_net), atol=1e-6)
    np.testing.assert_allclose(r.res_ext_grid["p_mw"].iloc[0], pp_net.res_ext_grid.p_mw, atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_single_period_dispatch_matches_rundcopp(case):
    """pandapower's costs and limits, stock ratings: objective within 1e-4 relative."""
    net = CASES[case]()
    pp.rundcopp(net)
    r = gf.Model(CASES[case](), periods=1).solve()
    assert r.objective == pytest.approx(net.res_cost, rel=1e-4)
    np.testing.assert_allclose(r.res_gen["p_mw"].iloc[0], net.res_gen.p_mw, atol=1e-2)


@pytest.mark.parametrize("name", ["ieee14", "ieee24", "ieee118"])
def test_dispatch_with_pglib_ratings_matches_rundcopp(name):
    """With PGLib ratings lines bind; objective still within 1e-4 of rundcopp."""
    net = gf.networks.load_network(name)
    pp.rundcopp(net)
    r = gf.Model(gf.networks.load_network(name), periods=1).solve()
    assert r.objective == pytest.approx(net.res_cost, rel=1e-4)
    loading = r.res_line["loading_percent"].iloc[0].to_numpy()
    np.testing.assert_allclose(loading, net.res_line.loading_percent, atol=1e-2)
    trafo_loading = r.res_trafo["loading_percent"].iloc[0].to_numpy()
    np.testing.assert_allclose(trafo_loading, net.res_trafo.loading_percent, atol=1e-2)
    binding = (r.res_line["limit_percent"].iloc[0] > 99.99).sum()
    assert binding == {"ieee14": 0, "ieee24": 0, "ieee118": 1}[name]


def test_sign_convention_against_pandapower_tables():
    """Storage (consuming positive), sgen and gen (producing positive), load, bus net demand:
    writing gridflex's results into pandapower's elements reproduces pandapower's tables."""
    net = pn.case14()
    model = gf.Model(net, periods=3, load_scale=[0.8, 1.0, 1.2])
    model.add(gf.Storage(bus=[3, 8], p_mw=30, e_mwh=60, name="bess"))
    model.add(gf.Renewable(bus=12, profile=[40.0, 10.0, 25.0], name="wind"))
    r = model.solve()
    charging = r.res_storage["p_mw"]
    assert (charging.iloc[0] > 1).any() and (charging.iloc[2] < -1).any()  # both signs occur
    for t in range(3):
        pp_net = _write_period(pn.case14(), r, t, scale=[0.8, 1.0, 1.2][t])
        pp.rundcpp(pp_net)
        np.testing.assert_allclose(pp_net.res_bus.p_mw, r.res_bus["p_mw"].iloc[t], atol=1e-6)
        np.testing.assert_allclose(pp_net.res_storage.p_mw, charging.iloc[t], atol=1e-9)
        np.testing.assert_allclose(
            pp_net.res_ext_grid.p_mw, r.res_ext_grid["p_mw"].iloc[t], atol=1e-6
        )
        np.testing.assert_allclose(pp_net.res_load.p_mw, r.res_load["p_mw"].iloc[t], atol=1e-9)


def _write_period(pp_net, r, t, scale):
    pp_net.load["p_mw"] *= scale
    pp_net.gen["p_mw"] = r.res_gen["p_mw"].iloc[t].to_numpy()
    for label, bus in zip(["bess_0", "bess_1"], [3, 8], strict=True):
        pp.create_storage(pp_net, bus, p_mw=r.res_storage["p_mw"][label].iloc[t], max_e_mwh=60)
    pp.create_sgen(pp_net, 12, p_mw=r.res_sgen["p_mw"]["wind"].iloc[t])
    return pp_net


def test_bus_numbers_map_to_indices_and_check_names():
    grid = Grid(pn.case118())
    assert grid.bus_from_number(43) == 42
    np.testing.assert_array_equal(grid.bus_from_number([58, 72]), [57, 71])
    net = pn.case14()
    net.bus.loc[4, "name"] = 99
    with pytest.raises(gf.InputError, match="names"):
        Grid(net).bus_from_number(5)
    with pytest.raises(gf.InputError, match="not in the net"):
        grid.bus_from_number(119)
