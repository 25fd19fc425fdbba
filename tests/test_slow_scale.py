"""Scenario-scale checks (``pytest -m slow``; CI runs them after the default suite)."""

import numpy as np
import pytest

import gridflex as gf
from gridflex.scenario import load_scenario
from gridflex.validation import validate_ac

pytestmark = pytest.mark.slow


def _max_difference(ours, theirs):
    return {
        (name, q): float(np.nanmax(np.abs(getattr(ours, name)[q] - getattr(theirs, name)[q])))
        for name in ("res_bus", "res_line", "res_trafo")
        for q in getattr(ours, name).columns.get_level_values(0).unique()
    }


def test_quickstart_batch_validation_equals_runpp_in_all_96_periods():
    result = load_scenario("quickstart").build_model().solve()
    batch, runpp = validate_ac(result), validate_ac(result, method="runpp")
    assert (batch.summary["method"] == "batch").all()
    assert batch.summary["converged"].all() and runpp.summary["converged"].all()
    worst = _max_difference(batch, runpp)
    assert worst[("res_bus", "vm_pu")] < 1e-8
    assert max(v for (_, q), v in worst.items() if q.endswith(("_mw", "_mvar"))) < 1e-5
    assert batch.violations[["period", "element", "index"]].equals(
        runpp.violations[["period", "element", "index"]]
    )
    # the DC dispatch holds lines at their active-power rating; AC adds reactive power
    assert len(batch.violations) > 0


def test_year_of_hourly_dispatch_on_case118_validates_like_runpp():
    """8760 periods in the batch path; a sample of 25 checked against runpp."""
    T = 8760
    hours = np.arange(T)
    daily = 0.85 + 0.15 * np.sin(2 * np.pi * (hours - 9) / 24)
    net = gf.networks.ieee118(costs="pglib")
    model = gf.Model(net, periods=T, formulation=gf.DC(lazy_limits=True), load_scale=daily)
    model.add(gf.Storage(bus=[9, 58], p_mw=80, e_mwh=320, name="bess"))
    wind = np.outer([400.0, 250.0], 0.5 + 0.45 * np.sin(2 * np.pi * hours / 37))
    model.add(gf.Renewable(bus=[86, 42], profile=wind, name="wind"))
    model.add(gf.Load(bus=20, p_mw=np.full(T, 40.0), shed_cost_per_mwh=25.0, name="flex"))
    result = model.solve()
    assert result.res_sgen["curtailed_mw"].to_numpy().max() > 1.0
    report = validate_ac(result)
    assert report.summary["converged"].all() and (report.summary["method"] == "batch").all()
    sample = np.linspace(0, T - 1, 25).astype(int)
    naive = validate_ac(result, method="runpp", periods=sample)
    np.testing.assert_allclose(
        report.res_bus["vm_pu"].iloc[sample], naive.res_bus["vm_pu"], atol=1e-8
    )
    np.testing.assert_allclose(
        report.res_line["loading_percent"].iloc[sample],
        naive.res_line["loading_percent"],
        atol=1e-5,
    )
