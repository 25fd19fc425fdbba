"""Seed 002's 14-node network (networks/yang14.py): Table 1 as printed, and SOC DistFlow on it
against pandapower's AC power flow for a fixed dispatch."""

import numpy as np
import pandapower as pp
import pytest

import gridflex as gf
from gridflex.networks.yang14 import BRANCHES, yang14


def test_table_1_in_ohm_on_a_22_kv_100_mva_base():
    net = yang14()
    z_base = 22.0**2 / 100.0
    assert len(net.bus) == 14 and len(net.line) == 13 and (net.bus.vn_kv == 22.0).all()
    for (a, b, r, x), (_, line) in zip(BRANCHES, net.line.iterrows(), strict=True):
        assert (line.from_bus, line.to_bus) == (a - 1, b - 1)
        assert line.r_ohm_per_km * line.length_km == pytest.approx(r * z_base)
        assert line.x_ohm_per_km * line.length_km == pytest.approx(x * z_base)
    assert (net.bus.min_vm_pu == 0.93).all() and (net.bus.max_vm_pu == 1.07).all()
    assert net.load.p_mw.sum() == pytest.approx(14.0)
    assert (net.load.q_mvar / net.load.p_mw).round(6).nunique() == 1  # one power factor
    assert gf.networks.load_network("yang14").name == "yang14"


def test_soc_distflow_against_ac_power_flow_for_a_fixed_dispatch():
    # Loads fixed, supply from the substation only: SOC DistFlow's voltages and losses against
    # pandapower's Newton-Raphson (the relaxation is exact when it is tight).
    net = yang14(load_mw=14.0)
    pp.create_poly_cost(net, 0, "ext_grid", cp1_eur_per_mw=50.0)  # losses cost: a tight cone
    model = gf.Model(net, periods=1, formulation=gf.SOCDistFlow())
    result = model.solve()
    pp.runpp(net)
    model_vm = result.res_bus["vm_pu"].iloc[0].to_numpy()
    ac_vm = net.res_bus.vm_pu.to_numpy()
    assert np.abs(model_vm - ac_vm).max() < 1e-8  # measured 7.9e-11 pu
    losses = result.res_ext_grid["p_mw"].to_numpy().sum() - net.load.p_mw.sum()
    assert losses == pytest.approx(net.res_line.pl_mw.sum(), rel=1e-8)  # 0.418 MW
    assert ac_vm.min() > 0.93  # the default snapshot is within the paper's limits


def test_bad_load_is_refused():
    with pytest.raises(ValueError, match="yang14: load_mw"):
        yang14(load_mw=-1.0)
