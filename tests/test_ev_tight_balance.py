"""Scenario ev_tight_balance (seed 003): requirements, options, and the paper's trends."""

import importlib.util
import itertools
import json

import numpy as np
import pandapower as pp
import pytest

import gridflex as gf
from gridflex import products as P
from gridflex.scenario import load_scenario


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("ev_tight_balance")


def study_module(scenario):
    spec = importlib.util.spec_from_file_location("ev_study", scenario.path / "study.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_flexible_ramp_requirements_by_hand():
    # net load 100, 120, 90 with kappa 0.1, 110 before the horizon:
    # up = max(0, 1.1 NL_t - NL_{t-1}) = [0, 32, 0]
    # down = max(0, NL_{t-1} - 0.9 NL_t) = [20, 0, 39]
    up, down = gf.flexible_ramp_requirements([100, 120, 90], 0.1, previous_net_load_mw=110)
    np.testing.assert_allclose(up.mw, [0, 32, 0], atol=1e-9)
    np.testing.assert_allclose(down.mw, [20, 0, 39], atol=1e-9)
    assert (up.product, down.product) == (P.RAMP_UP, P.RAMP_DOWN)
    with pytest.raises(gf.InputError, match="kappa"):
        gf.flexible_ramp_requirements([1, 2], 1.5)


def test_requirement_no_provider_and_duplicate_names_are_refused():
    net = pp.create_empty_network()
    pp.create_bus(net, 110.0)
    model = gf.Model(net, periods=2, net_elements=False)
    model.add(gf.Generator(0, 100, cost_per_mwh=10, name="g"))
    model.add(gf.Load(0, 50.0, name="d"))
    model.add(gf.Requirement(P.SPINNING, 10.0))
    with pytest.raises(gf.InputError, match="no device in the model provides 'spinning'"):
        model.build()
    with pytest.raises(gf.InputError, match="already in the model"):
        model.add(gf.Requirement(P.SPINNING, 5.0))
    with pytest.raises(gf.InputError, match="mw"):
        model.requirements[0] = gf.Requirement(P.SPINNING, -1.0)
        model.build()


def test_net_element_options_reach_the_net_devices():
    net = gf.networks.ieee14()
    options = {"load": {"shed_cost_per_mwh": 500.0}, "gen": {"offers": {P.SPINNING: 1.0}}}
    model = gf.Model(net, periods=2, net_elements=options)
    assert model.device("load").shed_cost_per_mwh == 500.0
    assert P.SPINNING in model.device("gen").offers
    with pytest.raises(gf.InputError, match="unknown tables"):
        gf.Model(net, periods=2, net_elements={"gens": {}})


def test_forecast_output_ramp_is_computed_from_the_profile():
    net = pp.create_empty_network()
    pp.create_bus(net, 110.0)
    model = gf.Model(net, periods=4, net_elements=False)
    model.add(gf.Generator(0, 100, cost_per_mwh=10, offers={P.RAMP_UP: 1.0}, name="g"))
    model.add(gf.Load(0, 80.0, name="d"))
    model.add(gf.Renewable(0, [10.0, 30.0, 5.0, 5.0], output_ramp="forecast", name="w"))
    model.add(gf.Requirement(P.RAMP_UP, [0.0, 25.0, 0.0, 0.0]))
    result = model.solve()
    np.testing.assert_allclose(result.res_sgen["output_ramp_up_mw"]["w"], [0, 20, 0, 0])
    np.testing.assert_allclose(result.res_gen["ramp_up_mw"]["g"], [0, 5, 0, 0], atol=1e-7)
    with pytest.raises(gf.InputError, match="output_ramp"):
        gf.Renewable(0, [1.0], output_ramp="sometimes")


def test_scenario_every_study_number_has_a_source(scenario):
    sources = scenario.sources()
    study = sources[sources.entry == "study"]
    assert {"kappa", "reserve_shares", "spaces", "wind_corridor_mva"} <= set(study.parameter)
    assert study.source.str.len().min() > 5


@pytest.mark.slow
def test_paper_trends_hold(scenario, tmp_path):
    """Case 2 lowers cost, spillage and shedding; the sweep as documented in the README."""
    summary = study_module(scenario).run(scenario, tmp_path)
    json.dumps(summary)  # the summary is written as JSON by gridflex run
    rows = {(r["level_0"], r["level_1"]): r for r in summary["table2"]}
    one, two = rows[("Case 1", "gridflex")], rows[("Case 2", "gridflex")]
    for column in ("operation cost ($)", "wind spillage (MWh)", "load shedding (MWh)"):
        assert two[column] < one[column], column
    assert one["load shedding (MWh)"] > 100.0  # tight: Case 1 sheds load
    assert two["saving of thermal units' ramp (MWh)"] > 0.0
    sweep = {r["EV scale"]: r for r in summary["ev_scale_sweep"]}
    scales = sorted(sweep)
    shedding = [sweep[s]["load shedding (MWh)"] for s in scales]
    saving = [sweep[s]["saving of thermal units' ramp (MWh)"] for s in scales]
    cost = [sweep[s]["operation cost ($)"] for s in scales]
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(shedding))
    assert all(b >= a - 1e-6 for a, b in itertools.pairwise(saving))
    assert max(cost[1:]) < cost[0]  # any fleet beats none
    # the trend break explained in the README: once shedding is gone, a larger fleet's energy
    # surplus must still be exported (the lots empty by the end), at its V2G cost
    assert cost[-1] > min(cost)
    for case in summary["ac_validation_of_cases"].values():
        assert case["converged"] == "16/16"
    for station in summary["station_bound"].values():
        assert station["max_discharge_mw"] < station["fleet_v2g_limit_mw"]


def test_flexible_ramp_band_for_a_negative_net_load():
    # NL = -100 each period (wind above load), kappa 0.1: the band is +-10 MW around it.
    up, down = gf.flexible_ramp_requirements([-100.0, -100.0], 0.1)
    np.testing.assert_allclose(up.mw, [10.0, 10.0])
    np.testing.assert_allclose(down.mw, [10.0, 10.0])
