"""Scenario ev_tight_balance (seed 003): requirements, options, and the paper's trends."""

import importlib.util
import itertools
import json

import numpy as np
import pandapower as pp
import pandas as pd
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
    assert two["saving of thermal units' ramp (MWh)"] >= 0.0
    # the sweep with stations that conserve energy (README): up to the paper's fleet shedding
    # falls; up to 160 % every fleet beats none; the fleet's own energy surplus (EVs leave with
    # 60-100 % of what they brought) floods the system at 180 % and has no way out at 200 %
    sweep = {r["EV scale"]: r for r in summary["ev_scale_sweep"] if r["feasible"]}
    scales = sorted(sweep)
    assert {0.0, 0.2, 1.0, 1.6} <= set(scales) and 2.0 not in scales
    up_to_paper = [s for s in scales if s <= 1.0]
    shedding = [sweep[s]["load shedding (MWh)"] for s in up_to_paper]
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(shedding))
    cost = {s: sweep[s]["operation cost ($)"] for s in scales}
    assert all(cost[s] < cost[0.0] for s in scales if 0.0 < s <= 1.6)
    for case in summary["ac_validation_of_cases"].values():
        assert case["converged"] == "16/16"
    for station in summary["station_bound"].values():
        assert station["max_discharge_mw"] < station["fleet_v2g_limit_mw"]
    balances_close_from_the_csv_files(tmp_path / "case_2", dt_h=0.25)
    balances_close_from_the_csv_files(tmp_path / "case_1", dt_h=0.25)


def read(folder, table):
    path = folder / f"{table}.csv"
    return pd.read_csv(path, header=[0, 1], index_col=0) if path.exists() else None


def balances_close_from_the_csv_files(folder, dt_h):
    """From the written per-period tables alone: every station's energy closes period by
    period, the power balance closes per period, every unit's products fit its headroom."""
    lot = read(folder, "res_ev_parking_lot")
    if lot is not None:
        e = lot["e_mwh"].to_numpy()
        flows = lot["arrival_energy_mwh"] - lot["departure_energy_mwh"] - lot["losses_mwh"]
        flows = flows - lot["reserve_debit_mwh"]
        flows = flows + dt_h * (lot["p_charge_mw"] - lot["p_discharge_mw"])
        change = np.diff(np.vstack([np.zeros((1, e.shape[1])), e]), axis=0)
        np.testing.assert_allclose(change, flows.to_numpy(), atol=1e-6)
        assert np.abs(lot["reserve_debit_mwh"].to_numpy()).max() == 0.0  # headroom form
    produced = sum(
        read(folder, t)["p_mw"].to_numpy().sum(axis=1)
        for t in ("res_gen", "res_ext_grid", "res_sgen")
    )
    consumed = read(folder, "res_load")["p_mw"].to_numpy().sum(axis=1)
    if lot is not None:
        consumed = consumed + lot["p_mw"].to_numpy().sum(axis=1)
    np.testing.assert_allclose(produced, consumed, atol=1e-5)  # DC: lossless
    for table in ("res_gen", "res_ext_grid"):
        units = read(folder, table)
        up = sum(units[f"{p}_mw"] for p in ("spinning", "non_spinning", "regulation_up",
                                            "replacement", "ramp_up"))  # fmt: skip
        assert (units["p_mw"] + up <= units["p_max_mw"] + 1e-5).to_numpy().all(), table
        assert (units["p_mw"] >= units["p_min_mw"] - 1e-5).to_numpy().all(), table  # all on
        ramp = units["ramp_up_mw_per_h"].to_numpy() * dt_h
        assert (up.to_numpy() <= ramp + 1e-5).all(), table  # products within the ramp rate
        change = np.abs(np.diff(units["p_mw"].to_numpy(), axis=0))
        assert (change <= np.minimum(ramp, units["ramp_down_mw_per_h"].to_numpy() * dt_h)[1:]
                + 1e-5).all(), table  # fmt: skip


def test_flexible_ramp_band_for_a_negative_net_load():
    # NL = -100 each period (wind above load), kappa 0.1: the band is +-10 MW around it.
    up, down = gf.flexible_ramp_requirements([-100.0, -100.0], 0.1)
    np.testing.assert_allclose(up.mw, [10.0, 10.0])
    np.testing.assert_allclose(down.mw, [10.0, 10.0])
