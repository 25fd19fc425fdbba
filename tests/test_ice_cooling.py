"""Seed 002's ice-cooling studies (scenarios/ice_cooling_14 and ice_cooling_33, one study in
gridflex.scenarios.ice_cooling): the guaranteed orderings, balances closed from the written CSVs,
Benders bounds, the Shapley game, the transit-time sweep (Fig. 9), AC validation."""

import numpy as np
import pandas as pd
import pytest

import gridflex as gf
from gridflex.scenario import load_scenario
from gridflex.scenarios import ice_cooling

GAP = 1e-4  # the MIP gap every comparison allows
NETWORKS = ("ice_cooling_14", "ice_cooling_33")


@pytest.fixture(scope="module", params=NETWORKS)
def run(request, tmp_path_factory):
    # each study as the scenario runs it (4-hour periods: 6 per typical day, profiles averaged)
    sc = load_scenario(request.param)
    if request.param == "ice_cooling_33":  # no truck there: its flat sweep is not re-checked
        sc.study_options["sweep_transit_hours"]["value"] = []  # (keeps CI under 20 minutes)
    module = sc.study_module()
    out = tmp_path_factory.mktemp(request.param)
    return module.run(sc, out), out, ice_cooling


def test_the_inputs_are_the_papers_where_it_gives_them():
    sc = load_scenario("ice_cooling_14")
    system = ice_cooling.System(sc)
    system.step, system.hours = 1, 24  # the paper's hourly periods (the default runs 4 h)
    assert system.option("price_yuan_per_mwh") == [360, 700, 1050]
    price = system.price()
    assert price[:7].tolist() == [360] * 7 and price[10:13].tolist() == [1050] * 3  # L343
    assert system.crf == pytest.approx(44_240_000 / (150_000 * 5100), rel=1e-5)  # 4 %, 30 y
    assert system.blocks()[0].weight * 3 == pytest.approx(365, rel=1e-6)  # pi = 1/3 of a year
    model = ice_cooling.build_model(system)
    names = {d.name for d in model.decisions(gf.devices.base.Role.INVESTMENT)}
    assert names == {"wt.units", "lim.capacity_mw", "truck.bought"}
    truck = model.device("truck")
    # truck and driver: 400,000 / 10 straight line + 200,000 a year (notes-002 3.2)
    assert truck.fixed_cost == pytest.approx(240_000)


def test_the_33_node_study_places_the_devices_at_the_papers_nodes():
    # paper L492: ISACs at nodes 18 and 33, wind at 11 and 27, the ice maker at 27
    sc = load_scenario("ice_cooling_33")
    system = ice_cooling.System(sc)
    model = ice_cooling.build_model(system)
    net = model.net
    number = net.bus["name"].astype(int)
    assert number[model.device("isac1").bus].tolist() == [18]
    assert number[model.device("isac2").bus].tolist() == [33]
    assert number[model.device("wt").bus].tolist() == [11, 27]
    assert number[model.device("lim").bus].tolist() == [27]
    assert len(net.bus) == 33 and net.bus["min_vm_pu"].eq(0.93).all()


@pytest.mark.slow
def test_cases_are_ordered_by_their_nested_plans(run):
    summary, _, _ = run
    total = summary["objective_yuan_per_year"]  # what was minimised (the loss price included)
    assert total["Case 3"] <= total["Case 2"] * (1 + GAP)
    assert total["Case 2"] <= total["Case 1"] * (1 + GAP)


@pytest.mark.slow
def test_balances_close_from_the_csvs_alone(run):
    _, out, module = run
    for case in module.CASES:
        residuals = module.check_balances(out / "cases" / module.slug(case))
        assert max(residuals.values()) < 1e-5, (case, residuals)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["case_2", "case_3"])
def test_benders_bounds_close_and_behave(run, case):
    # (Benders against SCIP on the compact seed-002 model: tests/test_benders_studies.py)
    _, out, _ = run
    bounds = pd.read_csv(out / f"benders_bounds_{case}.csv")
    lower = bounds["lower_bound"].to_numpy()
    assert (np.diff(lower) >= -1e-9 * abs(lower[-1])).all()
    best = bounds["best_upper_bound"].to_numpy()
    best = best[np.isfinite(best)]
    assert (np.diff(best) <= 1e-9 * abs(best[-1])).all()
    assert bounds["gap"].iloc[-1] <= GAP


@pytest.mark.slow
def test_shapley_shares_are_efficient_and_every_isac_gains(run):
    summary, out, _ = run
    shares = summary["shapley_yuan_per_year"]
    total = summary["objective_yuan_per_year"]
    coalitions = pd.read_csv(out / "table4_coalitions.csv", index_col=0)["ours"]
    grand = coalitions["GO, ISAC1, ISAC2"]
    assert sum(shares.values()) == pytest.approx(grand, rel=1e-12)  # efficiency
    # v(N) is Case 3, or a sub-coalition's better plan found within Case 3's gap
    assert total["Case 3"] * (1 - GAP) <= grand <= total["Case 3"]
    assert coalitions["GO"] == pytest.approx(total["Case 2"], rel=1e-9)
    # the costs are nested (each coalition's best over its sub-coalitions with the GO), so
    # v(N) <= v(GO, ISAC k) <= v(GO) exactly and every ISAC's share is <= 0: all gain
    for k in ("GO, ISAC1", "GO, ISAC2"):
        assert grand <= coalitions[k] <= coalitions["GO"]
    assert shares["ISAC1"] <= 1e-6 and shares["ISAC2"] <= 1e-6
    assert shares["GO"] <= coalitions["GO"] + 1e-6


@pytest.mark.slow
def test_routes_start_and_end_at_the_ice_maker(run):
    _, out, _ = run
    routes = pd.read_csv(out / "routes.csv", index_col=0)
    for route in routes["route"].dropna():
        assert route.startswith("L") and route.endswith("L")


@pytest.mark.slow
def test_the_dispatch_holds_in_ac(run):
    # the loss price keeps SOC DistFlow exact: pandapower's AC power flow of every case's
    # dispatch lands on the model's voltages, within 0.93-1.07 pu
    _, out, _ = run
    ac = pd.read_csv(out / "ac_validation.csv", index_col=0)
    assert (ac["max |dvm| model vs AC (pu)"] < 1e-3).all(), ac
    assert (ac["vm min (pu)"] >= 0.93 - 1e-4).all() and (ac["vm max (pu)"] <= 1.07 + 1e-4).all()
    assert (ac["violations"] == 0).all()


@pytest.mark.slow
def test_transit_sweep_costs_never_fall_with_the_transit_time(run):
    # notes-002 5.4: a longer leg can be emulated by a shorter one and waiting (at less fuel),
    # so both curves are non-decreasing; re-planning never costs more than Case 2 and equals it
    # once a round trip fills the day (12 h); holding Case 3's plan never costs less
    summary, out, _ = run
    if not (out / "fig9_transit_sweep.csv").exists():
        pytest.skip("the sweep runs on the 14-node network only in the tests")
    sweep = pd.read_csv(out / "fig9_transit_sweep.csv", index_col=0)
    total = summary["objective_yuan_per_year"]
    free, held = sweep["re-planned (yuan/yr)"], sweep["plan held (yuan/yr)"]
    for curve in (free, held):
        assert (np.diff(curve.to_numpy()) >= -GAP * total["Case 2"]).all(), curve
    assert (free <= total["Case 2"] * (1 + GAP)).all()
    assert free.loc[12.0] == pytest.approx(total["Case 2"], rel=2 * GAP)
    assert (held >= free * (1 - GAP)).all()
    assert sweep.loc[12.0, "truck driving h/day (plan held)"] == 0


@pytest.mark.slow
def test_the_plots_are_written(run):
    _, out, _ = run
    names = {p.stem for p in (out / "plots").glob("*.png")}
    assert {"truck_route_case_3", "isac_cooling_case_3", "voltages"} <= names
    assert ("fig9_transit" in names) == (out / "fig9_transit_sweep.csv").exists()
    assert {"benders_bounds_case_2", "benders_bounds_case_3"} <= names
