"""Seed 002's 14-node ice-cooling study (scenarios/ice_cooling_14): the guaranteed orderings,
balances closed from the written CSVs, Benders against the monolithic solve, the Shapley game."""

import numpy as np
import pandas as pd
import pytest

import gridflex as gf
from gridflex.scenario import load_scenario

GAP = 1e-4  # the MIP gap every comparison allows


@pytest.fixture(scope="module")
def study():
    sc = load_scenario("ice_cooling_14")
    return sc, sc.study_module()


@pytest.fixture(scope="module")
def run(study, tmp_path_factory):
    # the study at 4-hour periods (6 per typical day, profiles averaged): the physics and the
    # orderings are the same checks; the hourly run is the scenario's own (README)
    sc, module = study
    sc.study_options["period_h"] = {"value": 4, "source": "test: 4-hour periods"}
    out = tmp_path_factory.mktemp("ice_cooling_14")
    return module.run(sc, out), out, module


def test_the_inputs_are_the_papers_where_it_gives_them(study):
    sc, module = study
    system = module.System(sc)
    system.step, system.hours = 1, 24  # the paper's hourly periods (the default runs 4 h)
    assert system.option("price_yuan_per_mwh") == [360, 700, 1050]
    price = system.price()
    assert price[:7].tolist() == [360] * 7 and price[10:13].tolist() == [1050] * 3  # L343
    assert system.crf == pytest.approx(44_240_000 / (150_000 * 5100), rel=1e-5)  # 4 %, 30 y
    assert system.blocks()[0].weight * 3 == pytest.approx(365, rel=1e-6)  # pi = 1/3 of a year
    model = module.build_model(system)
    names = {d.name for d in model.decisions(gf.devices.base.Role.INVESTMENT)}
    assert names == {"wt.units", "lim.capacity_mw", "truck.bought"}
    truck = model.device("truck")
    # truck and driver: 400,000 / 10 straight line + 200,000 a year (notes-002 3.2)
    assert truck.fixed_cost == pytest.approx(240_000)


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
    assert sum(shares.values()) == pytest.approx(total["Case 3"], rel=1e-9)
    # v(N) <= v(GO, ISAC k) <= v(GO): the ISACs' shares are <= 0 (up to the solves' gaps)
    assert shares["ISAC1"] <= GAP * total["Case 2"] and shares["ISAC2"] <= GAP * total["Case 2"]
    assert shares["GO"] <= total["Case 2"] * (1 + GAP)
    coalitions = pd.read_csv(out / "table4_coalitions.csv", index_col=0)["ours"]
    assert coalitions["GO"] == pytest.approx(total["Case 2"], rel=1e-9)
    # more stations to serve never costs more (within the gaps of the Benders solves)
    for k in ("GO, ISAC1", "GO, ISAC2"):
        assert total["Case 3"] * (1 - GAP) <= coalitions[k] <= total["Case 2"] * (1 + GAP)


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
