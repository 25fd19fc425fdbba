"""The net's own elements as devices: limits, costs and unit parameters read from the tables."""

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

import gridflex as gf


def test_ramp_columns_of_the_net_are_enforced():
    net = pn.case14()
    net.gen["ramp_up_mw_per_h"] = 1.0
    net.gen["ramp_down_mw_per_h"] = 1.0
    free = gf.Model(pn.case14(), periods=2, load_scale=[0.8, 1.0]).solve()
    ramped = gf.Model(net, periods=2, load_scale=[0.8, 1.0]).solve()
    steps = np.abs(np.diff(ramped.res_gen["p_mw"].to_numpy(), axis=0))
    assert steps.max() <= 1.0 + 1e-6
    assert np.abs(np.diff(free.res_gen["p_mw"].to_numpy(), axis=0)).max() > 1.0
    assert ramped.objective >= free.objective - 1e-6


def test_pwl_cost_and_controllable_sgen_from_the_net():
    # Bus 0 ext_grid fixed at 0; sgen with pwl 0-10 MW at 5, 10-40 MW at 50; gen at 20/MWh.
    # Load 30 MW: sgen 10 MW (5/MWh), gen 20 MW -> 50 + 400 = 450.
    net = pp.create_empty_network()
    for _ in range(2):
        pp.create_bus(net, vn_kv=20.0)
    pp.create_line_from_parameters(net, 0, 1, 1.0, 0.1, 0.3, 0.0, 1.0)
    pp.create_ext_grid(net, 0, min_p_mw=0.0, max_p_mw=0.0)
    sg = pp.create_sgen(net, 1, p_mw=0.0, max_p_mw=40.0, min_p_mw=0.0, controllable=True)
    g = pp.create_gen(net, 0, p_mw=0.0, max_p_mw=100.0, min_p_mw=0.0)
    pp.create_load(net, 1, p_mw=30.0)
    pp.create_pwl_cost(net, sg, "sgen", [[0, 10, 5], [10, 40, 50]])
    pp.create_poly_cost(net, g, "gen", cp1_eur_per_mw=20.0)
    r = gf.Model(net, periods=1).solve()
    assert r.objective == pytest.approx(450.0, rel=1e-7)
    assert r.res_sgen["p_mw"].iloc[0, 0] == pytest.approx(10.0, abs=1e-6)
    assert r.res_gen["p_mw"].iloc[0, 0] == pytest.approx(20.0, abs=1e-6)


def test_net_storage_is_rejected_with_a_hint():
    net = pn.case14()
    pp.create_storage(net, 3, p_mw=1.0, max_e_mwh=4.0)
    with pytest.raises(gf.InputError, match=r"gf.Storage"):
        gf.Model(net, periods=1)


def test_load_scale_length_is_checked():
    with pytest.raises(gf.InputError, match=r"Model: profile 'load_scale'.*expected 3 periods"):
        gf.Model(pn.case14(), periods=3, load_scale=[1.0, 0.9])
