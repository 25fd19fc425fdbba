"""AC validation of optimized dispatches against direct pandapower power flows."""

import copy

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandas as pd
import pytest

import gridflex as gf
from gridflex.validation import validate_ac


def test_soc_distflow_dispatch_matches_ac_on_case33bw():
    """SOC DistFlow is exact here: AC voltages within 1e-4 pu, losses within 0.1 %."""
    model = gf.Model(
        pn.case33bw(), periods=3, formulation=gf.SOCDistFlow(), load_scale=[0.8, 1.0, 1.1]
    )
    model.add(gf.Storage(bus=17, p_mw=0.3, e_mwh=1.0, name="bess"))
    report = validate_ac(model.solve())
    assert report.all_converged
    assert report.gap["max_dvm_pu"].max() < 1e-4
    relative_loss_gap = report.gap["dlosses_mw"].abs() / report.summary["losses_mw"]
    assert relative_loss_gap.max() < 1e-3
    assert (report.summary["losses_mw"] > 0.1).all()  # about 0.2 MW at base load
    assert report.summary["balance_mismatch_mw"].abs().max() < 1e-6


def _two_bus(rating_mva):
    net = pp.create_empty_network(sn_mva=100.0)
    pp.create_buses(net, 2, vn_kv=110.0)
    pp.create_line_from_parameters(
        net, 0, 1, 20.0, 0.05, 0.4, 10.0, max_i_ka=rating_mva / (3**0.5 * 110.0)
    )
    pp.create_ext_grid(net, 0, vm_pu=1.0)
    pp.create_load(net, 1, p_mw=50.0, q_mvar=20.0)
    return net


def test_overload_under_ac_is_reported_with_element_period_value_and_limit():
    # DC loads the 60 MVA line with exactly the active load (50 then 60 MW); with 40 % reactive
    # demand and losses its AC loading exceeds 100 % in period 1 only... as runpp says.
    net = _two_bus(60.0)
    result = gf.Model(net, periods=2, load_scale=[1.0, 1.2]).solve()
    np.testing.assert_allclose(result.res_line["limit_percent"][0], [50 / 60 * 100, 100.0])
    report = validate_ac(result)
    direct = copy.deepcopy(net)
    direct.load["p_mw"], direct.load["q_mvar"] = 60.0, 24.0
    pp.runpp(direct)
    expected = direct.res_line.loading_percent[0]
    assert expected > 100.0
    v = report.violations
    assert list(v.kind) == ["overload"] and v.period.tolist() == [1]
    assert (v.element.iloc[0], v["index"].iloc[0], v.limit.iloc[0]) == ("line", 0, 100.0)
    assert v.value.iloc[0] == pytest.approx(expected, rel=1e-9)
    assert report.res_line["loading_percent"][0].iloc[1] == pytest.approx(expected, rel=1e-9)
    gap = report.res_line["p_from_mw"][0] - result.res_line["p_from_mw"][0]
    np.testing.assert_allclose(report.gap["max_dp_mw"], gap.abs(), rtol=1e-9)


def test_unsolvable_period_is_reported_and_the_others_still_validated():
    net = _two_bus(1e5)
    result = gf.Model(net, periods=3, load_scale=[1.0, 400.0, 1.2]).solve()
    report = validate_ac(result)
    assert report.summary["converged"].tolist() == [True, False, True]
    assert "NotConverged" in report.summary["reason"].iloc[1]
    assert np.isnan(report.res_bus["vm_pu"].iloc[1]).all()
    assert not np.isnan(report.res_bus["vm_pu"].iloc[[0, 2]]).any().any()


def test_dc_dispatch_on_case118_writes_every_device_and_keeps_the_net():
    net = gf.networks.ieee118()
    before = copy.deepcopy(net)
    model = gf.Model(net, periods=2, load_scale=[0.9, 1.0])
    model.add(gf.Storage(bus=[9, 58], p_mw=50, e_mwh=200, name="bess"))
    model.add(gf.Renewable(bus=42, profile=[80.0, 20.0], name="wind"))
    result = model.solve()
    report = validate_ac(result)
    assert report.all_converged
    pp.runpp(before)  # the original net's own data were not modified by the validation
    assert before.load.p_mw.equals(net.load.p_mw) and len(net.sgen) == len(before.sgen)
    # the AC slack covers the model's slack plus the AC losses
    s = report.summary
    np.testing.assert_allclose(s.slack_p_mw - s.model_slack_p_mw, s.losses_mw, atol=1e-6)
    assert (s.losses_mw > 0).all()


def test_a_limit_is_violated_beyond_solver_rounding_only():
    # 1e-6 pu of voltage and 1e-4 % of loading: a dispatch at a binding limit reads 0.9299999
    # pu or 100.000003 % in AC (the optimisers' accuracy), which is not a violation
    from gridflex.validation.checks import find_violations

    net = _two_bus(60.0)
    net.bus["min_vm_pu"], net.bus["max_vm_pu"] = 0.93, 1.07
    periods = pd.RangeIndex(4)
    vm = np.array([[1.0, 0.93 - 5e-7], [1.0, 0.93 - 2e-6], [1.0, 1.0], [1.0, 1.0]])
    loading = np.array([[50.0], [50.0], [100.000003], [100.0002]])
    arrays = {("bus", "vm_pu"): vm, ("line", "loading_percent"): loading,
              ("trafo", "loading_percent"): np.zeros((4, 0))}  # fmt: skip
    found = find_violations(net, arrays, periods)
    assert found["period"].tolist() == [1, 3]
    assert found["kind"].tolist() == ["vm_below_min", "overload"]
