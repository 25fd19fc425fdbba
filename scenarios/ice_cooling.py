"""Seed 002 (Yang et al., IEEE Access 2021): cooling and power expansion with an ice truck, the
study shared by ``scenarios/ice_cooling_14`` (the paper's 14-node feeder) and
``scenarios/ice_cooling_33`` (IEEE 33-node); each folder's ``study.py`` holds the paper's numbers.

One model holds every candidate (robust wind units at two nodes, a large ice maker, an ice truck
serving the ISACs at two nodes); the cases are restrictions of it (notes-002 §4): Case 1 nothing
built, Case 2 wind only, Case 3 everything free, Cases 2-3 by Benders
(gridflex.problems.benders) or, with ``monolithic = true``, SCIP. The Shapley game (players GO,
ISAC1, ISAC2) re-solves the model per coalition (gridflex.problems.game.ModelGame): the GO brings
the investments, ISAC k lets the truck serve its station. The transit-time sweep (Fig. 9)
re-solves it per transit time. Every input is in scenario.toml ``[study]`` with its source.
Per-period tables of every case are written under ``cases/``.
"""

import time
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

import gridflex as gf
from gridflex.console import WIDTH, progress
from gridflex.games import shapley
from gridflex.problems.benders import benders
from gridflex.problems.game import ModelGame
from gridflex.problems.planning import annuity_factor
from gridflex.timeaxis import Block

CASES = ("Case 1", "Case 2", "Case 3")
COST_COLUMNS = ["WT", "LIM", "Load shedding", "Purchasing electricity", "Truck and driver", "Total"]
STATIONS = ("L", "A1", "A2")  # the truck's stations: the LIM's yard, ISAC1's and ISAC2's tanks


@dataclass(frozen=True)
class Paper:
    """The paper's numbers for one network.

    Attributes
    ----------
    costs : DataFrame
        yuan/yr per case (rows ``CASES``) and part (``COST_COLUMNS``): Table 2 or Table 8.
    capacities : DataFrame
        MW per case and candidate (``WT<node>``, ``LIM``): Table 3 or Table 6.
    routes : dict
        The truck's route per typical day (``L`` the LIM's yard, ``A1``/``A2`` the ISACs).
    coalitions, shapley : dict
        Table 4's coalition costs and the Shapley shares (yuan/yr); empty where not given.
    """

    costs: pd.DataFrame
    capacities: pd.DataFrame
    routes: dict
    coalitions: dict = field(default_factory=dict)
    shapley: dict = field(default_factory=dict)


def option(scenario, key):
    return scenario.study_options[key]["value"]


# --- the model --------------------------------------------------------------------------------
class System:
    """The study's inputs as arrays: three typical days of 24 hours."""

    def __init__(self, scenario):
        self.sc = scenario
        self.days = list(option(scenario, "typical_days"))
        self.step = int(scenario.study_options.get("period_h", {"value": 1})["value"])
        if self.step not in (1, 2, 3, 4, 6, 8, 12):
            raise ValueError(f"{scenario.name}: period_h must divide 24, got {self.step}")
        self.hours = 24 // self.step  # periods per typical day
        rate = option(scenario, "interest_rate")
        self.crf = annuity_factor(rate, option(scenario, "wt_life_years"))

    def option(self, key):
        return option(self.sc, key)

    def blocks(self):
        """Three typical days; each counts ``days_per_year / 3`` times (``period_h`` each)."""
        weight = self.option("days_per_year") / len(self.days)
        return [Block(day, self.hours, weight=weight) for day in self.days]

    def per_period(self, hourly):
        """Hourly values (24 per day) as the mean of each period of ``period_h`` hours."""
        hourly = np.asarray(hourly, dtype=float)
        return hourly.reshape(-1, self.step).mean(axis=1)

    def price(self):
        """TOU price per period of one day (yuan/MWh), repeated for every day."""
        valley, flat, peak = self.option("price_yuan_per_mwh")
        h = np.arange(24)
        day = np.full(24, float(flat))
        day[(h < 7) | (h >= 23)] = valley
        day[((h >= 10) & (h < 13)) | ((h >= 18) & (h < 23))] = peak
        return np.tile(self.per_period(day), len(self.days))

    def load_mw(self):
        """(T,) total common load: the shape scaled by each day's peak."""
        shape = self.per_period(self.option("load_shape"))
        return np.concatenate([peak * shape for peak in self.option("load_peak_mw")])

    def cooling_mw(self, k):
        shape = self.per_period(self.option("cooling_shape"))
        return np.concatenate([peak * shape for peak in self.option("cooling_peak_mw")[k]])

    def q_per_p(self):
        """Reactive per active draw of the ISACs and the ice maker (their power factor)."""
        return float(np.tan(np.arccos(self.option("ice_power_factor"))))

    def wind(self):
        days = self.option("wind_availability")
        return np.concatenate([self.per_period(day) for day in days])


def bus(net, number):
    """pandapower index of the paper's node ``number`` (the checked mapping of gf.Grid)."""
    return int(gf.Grid(net).bus_from_number(number))


def build_model(system, transit_hours=None):
    """The Case 3 model: every candidate free."""
    net = system.sc.load_network()
    net.bus[["min_vm_pu", "max_vm_pu"]] = system.option("vm_limits_pu")
    net.sn_mva = float(system.option("base_mva"))  # per-unit base of SOC DistFlow
    rating = system.sc.study_options.get("line_max_i_ka")
    if rating is not None:
        net.line["max_i_ka"] = float(rating["value"])
    formulation = gf.SOCDistFlow(loss_price_per_mwh=system.option("loss_price_per_mwh"))
    model = gf.Model(net, periods=system.blocks(), dt_h=float(system.step),
                     formulation=formulation, net_elements=False)  # fmt: skip
    model.add(gf.ExternalGrid(bus(net, 1), [system.price()], p_min_mw=0.0, name="grid"))
    share = net.load.p_mw.to_numpy() / net.load.p_mw.sum()
    load = share[:, None] * system.load_mw()[None, :]
    ratio = (net.load.q_mvar / net.load.p_mw).to_numpy()[:, None]
    net.load["in_service"] = False  # the Load device below replaces them (and AC validation
    # writes the devices' injections: the net's static loads would count twice)
    shed = system.option("shed_cost_per_mwh")
    model.add(gf.Load(net.load.bus.to_numpy(), load, ratio * load, shed_cost_per_mwh=shed,
                      name="load"))  # fmt: skip
    add_ice(model, system, net, transit_hours or system.option("transit_hours"))
    add_wind(model, system, net)
    return model


def add_ice(model, system, net, transit_hours):
    yard = gf.Node("L", gf.carriers.ICE)
    tanks = [gf.Node(name, gf.carriers.ICE) for name in STATIONS[1:]]
    for k, (node_number, tank) in enumerate(zip(system.option("isac_nodes"), tanks, strict=True)):
        cooling = gf.Node(f"cooling{k + 1}", gf.carriers.COOLING)
        model.add(gf.ISAC(bus(net, node_number), cooling, ice=tank,
                          tank_mwh=system.option("isac_tank_mwh"), q_per_p=system.q_per_p(),
                          retention=system.option("retention"), name=f"isac{k + 1}"))  # fmt: skip
        model.add(gf.CarrierDemand(cooling, [system.cooling_mw(k)], name=f"cooling{k + 1}"))
    lim_crf = annuity_factor(system.option("interest_rate"), system.option("lim_life_years"))
    model.add(gf.LargeIceMaker(
        bus(net, system.option("lim_node")), yard, capacity_max_mw=system.option(
            "lim_capacity_max_mw"), cost_per_mw=1e3 * system.option("lim_capital_yuan_per_kw")
        * lim_crf, store_hours=system.option("lim_store_hours"),
        retention=system.option("retention"), q_per_p=system.q_per_p(), name="lim"))  # fmt: skip
    legs = {leg: float(transit_hours) for leg in [(0, 1), (1, 0), (0, 2), (2, 0)]}  # no A1-A2
    fixed = system.option("truck_capital_yuan") / system.option("truck_life_years")
    model.add(gf.IceTruck(
        [yard, *tanks], legs, capacity_mwh=system.option("truck_capacity_mwh"),
        rate_mw=system.option("truck_rate_mw"), retention=system.option("retention"),
        fuel_cost_per_h=system.option("fuel_yuan_per_h"),
        fixed_cost=fixed + system.option("driver_yuan_per_year"), name="truck"))  # fmt: skip


def add_wind(model, system, net):
    nodes = [bus(net, n) for n in system.option("wt_nodes")]
    forecast = np.vstack([system.wind()] * len(nodes))
    unit = system.option("wt_unit_mw")
    model.add(gf.RobustWind(
        nodes, forecast, units_max=system.option("wt_units_max"), unit_mw=unit,
        cost_per_unit=1e3 * system.option("wt_capital_yuan_per_kw") * unit * system.crf,
        epsilon=system.option("epsilon"), gamma=system.option("gamma"), name="wt"))  # fmt: skip


def restrictions(model, case):
    """The decisions a case holds: Case 1 nothing built, Case 2 no ice maker and no truck."""
    home = {"truck.bought": [0], "lim.capacity_mw": [0]}
    shapes = {d.name: d.variable.shape for d in model.decisions()}
    parked = np.zeros(shapes["truck.parked"])
    parked[0] = 1  # at its depot, the LIM's yard, all day
    departures = np.zeros(shapes["truck.departures"])
    home |= {"truck.parked": parked, "truck.departures": departures}
    if case == "Case 1":
        return home | {"wt.units": [0, 0]}
    return home if case == "Case 2" else {}


def solve_case(model, case, monolithic=False):
    """``(Results, Benders result or None)``. Case 1 holds every decision: its operation is
    one SOCP. Cases 2 and 3 have integer decisions: Benders (HiGHS master, Clarabel
    subproblems) with the case's restrictions held in the master; ``monolithic``: SCIP on the
    whole MISOCP instead (it aborted with a heap corruption on Case 3 of this study, 2026-12-02;
    it solves the compact model of tests/test_benders_studies.py)."""
    held = restrictions(model, case)
    if case == "Case 1":
        return model.evaluate(held), None
    if monolithic:
        return (model.evaluate(held) if held else model.solve()), None
    found = benders(model, hold=held, gap=GAP, max_iterations=400)
    return found.result, found


GAP = 1e-4  # relative gap of every mixed-integer solve


def solve_cases(system):
    """``(model, {case: Results}, {case: BendersResult}, {case: wall s})`` on one model."""
    model = build_model(system)
    monolithic = bool(system.option("monolithic"))
    solved, wall = {}, {}
    for case in progress(CASES, "cases"):
        start = time.perf_counter()
        solved[case] = solve_case(model, case, monolithic)
        wall[case] = time.perf_counter() - start
    results = {c: r for c, (r, _) in solved.items()}
    return model, results, {c: b for c, (_, b) in solved.items()}, wall


# --- tables like the paper's ------------------------------------------------------------------
COST_PARTS = {  # (device, component) -> column of Table 2
    ("wt", "investment"): "WT", ("lim", "investment"): "LIM", ("load", "shedding"): "Load shedding",
    ("grid", "energy"): "Purchasing electricity", ("grid", "fixed"): "Purchasing electricity",
    ("truck", "fuel"): "Truck and driver", ("truck", "investment"): "Truck and driver",
}  # fmt: skip


LOSS_PRICE = "Loss price (not in the paper)"


def part_of(key):
    """Column of Table 2 for a cost ``(owner, component)``; the network's loss price apart."""
    if key[1] == "loss_price":
        return LOSS_PRICE
    if key not in COST_PARTS:
        raise ValueError(f"cost {key} is in no part of Table 2")
    return COST_PARTS[key]


def cost_table(results):
    """Table 2: yuan/yr per part and case; ``Total`` as the paper counts (without the loss
    price that keeps the SOC relaxation exact, which is shown apart)."""
    rows = {}
    for case, result in results.items():
        costs = result.costs["cost"]
        parts = costs.groupby([part_of(k) for k in costs.index]).sum()
        rows[case] = parts.reindex([*COST_COLUMNS[:-1], LOSS_PRICE], fill_value=0.0)
    table = pd.DataFrame(rows).T
    table["Total"] = table.drop(columns=LOSS_PRICE).sum(axis=1)
    return table


def capacity_table(results, wt_nodes):
    """Table 3 (Table 6): MW of wind at each candidate node (``WT<node>``), of the large ice
    maker, and whether the truck is bought."""
    rows = {}
    for case, result in results.items():
        wind = result.tables["res_robust_wind"]["capacity_mw"].iloc[0].to_numpy()
        row = {f"WT{node}": float(mw) for node, mw in zip(wt_nodes, wind, strict=True)}
        row["LIM"] = float(result.plan["lim.capacity_mw"][0])
        rows[case] = row | {"truck": float(result.plan["truck.bought"][0])}
    return pd.DataFrame(rows).T


def routes(result, days, step=1, paper=None):
    """Per typical day: the truck's stops ``L-A2-L`` and its legs with their clock hours
    (periods of ``step`` hours), beside the paper's ``{day: route}``."""
    truck = result.tables["res_ice_truck"]
    rows = {}
    for day in days:
        parked = truck["parked"].loc[day].to_numpy()
        at = [STATIONS[int(np.argmax(p))] if p.max() > 0.5 else None for p in parked]
        stops, legs, start = ["L"], [], None
        for hour, station in enumerate(at):
            if station is None and start is None:
                start = hour
            elif station is not None:
                if start is not None:
                    legs.append(f"{start * step}:00-{hour * step}:00 {stops[-1]}->{station}")
                    start = None
                if station != stops[-1]:
                    stops.append(station)
        rows[day] = {"route": "-".join(stops), "legs": "; ".join(legs),
                     "driving_h": int(sum(s is None for s in at)) * step,
                     "paper": (paper or {}).get(day, "")}  # fmt: skip
    return pd.DataFrame(rows).T


def beside_paper(ours, paper):
    """Ours and the paper's, interleaved by column (ours only where the paper has none)."""
    out = {}
    for column in ours.columns:
        if column not in paper.columns:
            out[(column, "ours")] = ours[column]
            continue
        out[(column, "ours")] = ours[column]
        out[(column, "paper")] = paper[column]
    return pd.DataFrame(out)


# --- Shapley: GO, ISAC1, ISAC2 ----------------------------------------------------------------
def game(model, results):
    """The paper's game (notes-002 §4): the GO brings the wind, the ice maker and the truck;
    ISAC k lets the truck serve its station (absent: the legs to it held at 0, every other
    entry free); coalitions without the GO cost 0 (the paper counts only the GO's costs)."""
    shapes = {d.name: d.variable.shape for d in model.decisions()}
    legs = sorted([(0, 1), (1, 0), (0, 2), (2, 0)])

    def keep_off(station):
        held = np.full(shapes["truck.departures"], np.nan)
        held[[k for k, leg in enumerate(legs) if station in leg]] = 0.0
        return {"truck.departures": held}

    players = {
        "GO": {"wt.units": [0, 0], "lim.capacity_mw": [0], "truck.bought": [0]},
        "ISAC1": keep_off(1),
        "ISAC2": keep_off(2),
    }
    play = ModelGame(model, players, outside=lambda s: 0.0 if "GO" not in s else None,
                     solve=lambda m, held: benders(m, hold=held, gap=GAP,
                                                   max_iterations=400).result)  # fmt: skip
    # known coalitions from the cases: {GO} is Case 2 (no station to serve), N is Case 3
    play.costs[frozenset(["GO"])] = results["Case 2"].objective
    play.costs[frozenset(players)] = results["Case 3"].objective
    return play


def shapley_tables(play, paper):
    """Table 4 (coalition costs) and Table 5 (shares, stand-alone costs, savings), beside
    ``paper`` (a :class:`Paper`). A coalition's cost is the best solution found for it or for
    any of its sub-coalitions with the GO (their plans are feasible for it: a station more only
    frees the truck's legs), so solves that stop inside their gap cannot make joining look
    costly."""
    shares = shapley(play.players, nested_best(play))
    coalitions = {", ".join(sorted(s, key=play.players.index)): v for s, v in
                  shares.costs.items() if s}  # fmt: skip
    paper_costs = pd.Series(paper.coalitions, dtype=float)
    table4 = pd.DataFrame({"ours": pd.Series(coalitions), "paper": paper_costs})
    table4 = table4.fillna(0.0).sort_index()
    alone = {p: shares.costs[frozenset([p])] for p in play.players}
    table5 = pd.DataFrame({
        "share": shares.table["value"], "paper share": pd.Series(paper.shapley, dtype=float),
        "stand-alone cost": pd.Series(alone), "saving": shares.savings(),
    })  # fmt: skip
    return table4, table5


def nested_best(play):
    """``cost(coalition)``: the least of ``play`` over the coalition's subsets holding the GO
    (0 without the GO)."""

    def cost(coalition):
        if "GO" not in coalition:
            return 0.0
        others = sorted(coalition - {"GO"})
        subsets = [frozenset({"GO", *c}) for r in range(len(others) + 1)
                   for c in combinations(others, r)]  # fmt: skip
        return min(play(s) for s in subsets)

    return cost


# --- Benders ---------------------------------------------------------------------------------
def benders_summary(found):
    """How Benders solved a case: iterations (relaxed), final gap, cuts."""
    if found is None:
        return {}
    return {
        "objective (yuan/yr)": found.objective, "iterations": found.iterations,
        "relaxed-phase iterations": int((found.bounds["phase"] == "relaxed").sum()),
        "final gap": float(found.bounds["gap"].iloc[-1]), "cuts": found.info["cuts"],
        "converged": found.converged,
    }  # fmt: skip


# --- per-period tables and their balances ------------------------------------------------------
TABLES = ("res_ext_grid", "res_load", "res_robust_wind", "res_isac", "res_ice_maker",
          "res_ice_truck", "res_carrier_demand", "res_line", "res_bus")  # fmt: skip


def slug(case):
    return case.lower().replace(" ", "_")


def write_case(out, case, result):
    folder = Path(out) / "cases" / slug(case)
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        result.tables[name].to_csv(folder / f"{name}.csv")
    return folder


def read_table(folder, name):
    return pd.read_csv(Path(folder) / f"{name}.csv", header=[0, 1], index_col=[0, 1])


def _previous(frame):
    """Each row's previous row inside its block, cyclic (a typical day ends where it starts)."""
    return frame.groupby(level=0, sort=False).transform(lambda x: np.roll(x.to_numpy(), 1))


def check_balances(folder):
    """Largest residual of each balance, per period and block, from the CSVs alone (MW, MWh)."""
    t = {name: read_table(folder, name) for name in TABLES}
    isac, lim, truck = t["res_isac"], t["res_ice_maker"], t["res_ice_truck"]
    power = (t["res_ext_grid"]["p_mw"].sum(axis=1) + t["res_robust_wind"]["p_mw"].sum(axis=1)
             - t["res_load"]["p_mw"].sum(axis=1) - isac["p_mw"].sum(axis=1)
             - lim["p_mw"].sum(axis=1) - t["res_line"]["pl_mw"].sum(axis=1))  # fmt: skip
    reactive = (t["res_ext_grid"]["q_mvar"].sum(axis=1) - t["res_load"]["q_mvar"].sum(axis=1)
                - isac["q_mvar"].sum(axis=1) - lim["q_mvar"].sum(axis=1)
                - t["res_line"]["ql_mvar"].sum(axis=1))  # wind at unity PF  # fmt: skip
    cooling = (isac["cooling_chiller_mw"] + isac["cooling_ice_mw"]).to_numpy() - t[
        "res_carrier_demand"]["demand_mw"].to_numpy()  # fmt: skip
    tank = isac["e_mwh"] - _previous(isac["e_mwh"]) - (
        isac["ice_made_mwh"] + isac["ice_delivered_mwh"] - isac["ice_melted_mwh"]
        - isac["ice_lost_mwh"])  # fmt: skip
    store = lim["e_mwh"] - _previous(lim["e_mwh"]) - (
        lim["ice_made_mwh"] - lim["ice_given_mwh"] - lim["ice_lost_mwh"])  # fmt: skip
    load = truck["truck_e_mwh"].iloc[:, 0]
    carried = load - _previous(load.to_frame()).iloc[:, 0] - (
        truck["loaded_mwh"].sum(axis=1) - truck["truck_ice_lost_mwh"].iloc[:, 0])  # fmt: skip
    handed = np.c_[
        lim["ice_given_mwh"].to_numpy()[:, 0] - truck["loaded_mwh"].to_numpy()[:, 0],
        isac["ice_delivered_mwh"].to_numpy() + truck["loaded_mwh"].to_numpy()[:, 1:],
    ]
    state = truck["parked"].sum(axis=1) + truck["truck_driving"].iloc[:, 0] - 1  # one state
    return {
        "power (MW)": float(np.abs(power).max()),
        "reactive power (Mvar)": float(np.abs(reactive).max()),
        "cooling (MW)": float(np.abs(cooling).max()),
        "ISAC tanks (MWh)": float(np.abs(tank.to_numpy()).max()),
        "LIM store (MWh)": float(np.abs(store.to_numpy()).max()),
        "truck load (MWh)": float(np.abs(carried.to_numpy()).max()),
        "ice handed over (MWh)": float(np.abs(handed).max()),
        "truck states": float(np.abs(state.to_numpy()).max()),
    }  # fmt: skip


# --- the transit-time sweep (Fig. 9) -----------------------------------------------------------
def transit_sweep(system, case3, hours):
    """Total cost (yuan/yr, as minimised) per transit time of every truck leg, from the Case 3
    ``Results`` ``case3`` (at the scenario's ``transit_hours``), two curves:
    ``re-planned`` (Case 3 solved again: investments and operation) and ``plan held`` (the
    given Case-3 investments ``plan`` held, the operation and the routes re-optimised). Legs
    take ``ceil(hours / period_h)`` periods, so hours with the same count share one solve."""
    plan, rows = case3.plan, {}
    base = int(np.ceil(system.option("transit_hours") / system.step - 1e-9))
    solved = {base: _case3_point(system, case3)}  # Case 3 itself: re-planned = plan held
    for h in progress(list(hours), "transit sweep"):
        periods = int(np.ceil(h / system.step - 1e-9))
        if periods not in solved:
            solved[periods] = _sweep_point(system, float(h), plan)
        rows[float(h)] = {"leg periods": periods, **solved[periods]}
    table = pd.DataFrame(rows).T
    table.index.name = "transit time (h)"
    return table


def _sweep_point(system, hours, plan):
    model = build_model(system, transit_hours=hours)
    start = time.perf_counter()
    free = benders(model, gap=GAP, max_iterations=400)
    held = benders(model, hold={name: plan[name] for name in INVESTMENTS}, gap=GAP,
                   max_iterations=400)  # fmt: skip
    return {
        "re-planned (yuan/yr)": free.objective,
        "plan held (yuan/yr)": held.objective,
        "truck bought (re-planned)": float(free.result.plan["truck.bought"][0]),
        "truck driving h/day (plan held)": driving_hours(held.result, system.step),
        "solve s": round(time.perf_counter() - start, 1),
    }


def _case3_point(system, result):
    return {
        "re-planned (yuan/yr)": result.objective, "plan held (yuan/yr)": result.objective,
        "truck bought (re-planned)": float(result.plan["truck.bought"][0]),
        "truck driving h/day (plan held)": driving_hours(result, system.step), "solve s": 0.0,
    }  # fmt: skip


INVESTMENTS = ("wt.units", "lim.capacity_mw", "truck.bought")


def driving_hours(result, step):
    """Mean driving hours per typical day."""
    driving = result.tables["res_ice_truck"]["truck_driving"].iloc[:, 0]
    return float(driving.groupby(level=0).sum().mean() * step)


# --- the study ---------------------------------------------------------------------------------
def run(scenario, out_dir, paper):
    """Cases 1-3, Shapley, the transit-time sweep (when ``sweep_transit_hours`` is given):
    prints the paper's tables beside ``paper`` (a :class:`Paper`), writes CSVs and plots to
    ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    system = System(scenario)
    model, results, decomposed, wall = solve_cases(system)
    for case, found in decomposed.items():
        if found is not None:
            found.bounds.to_csv(out / f"benders_bounds_{slug(case)}.csv")
    start = time.perf_counter()
    table4, table5 = shapley_tables(game(model, results), paper)
    wall["Shapley"] = time.perf_counter() - start
    tables = paper_tables(system, results, paper) | {
        "table4_coalitions": table4, "table5_shapley": table5}  # fmt: skip
    tables |= physics_tables(out, results)
    hours = system.sc.study_options.get("sweep_transit_hours", {"value": []})["value"]
    if hours:
        start = time.perf_counter()
        tables["fig9_transit_sweep"] = transit_sweep(system, results["Case 3"], hours)
        wall["transit sweep"] = time.perf_counter() - start
    tables["benders"] = pd.DataFrame({c: benders_summary(f) for c, f in decomposed.items()
                                      if f is not None}).T  # fmt: skip
    tables["wall_time"] = pd.Series(wall, name="wall time (s)").round(1).to_frame()
    for name, table in tables.items():
        table.to_csv(out / f"{name}.csv")
    print_report(tables)
    from gridflex.scenarios.ice_cooling_plots import study_plots

    study_plots(out, system, results, decomposed, tables)
    return summary(results, tables, wall)


def paper_tables(system, results, paper):
    """Tables 2-3 (6, 8) and the routes, each beside the paper's."""
    return {
        "table2_costs": beside_paper(cost_table(results), paper.costs),
        "table3_capacities": beside_paper(
            capacity_table(results, system.option("wt_nodes")), paper.capacities),
        "routes": routes(results["Case 3"], system.days, system.step, paper.routes),
    }  # fmt: skip


def physics_tables(out, results):
    """Per case: the balances closed from the written CSVs, and the AC validation."""
    balances = {case: check_balances(write_case(out, case, r)) for case, r in results.items()}
    ac = {case: ac_summary(result) for case, result in progress(results.items(), "AC")}
    return {"balances": pd.DataFrame(balances).T, "ac_validation": pd.DataFrame(ac).T}


def summary(results, tables, wall):
    totals = tables["table2_costs"].xs("ours", axis=1, level=1)["Total"]
    out = {
        "total_yuan_per_year": totals.to_dict(),
        "objective_yuan_per_year": {case: r.objective for case, r in results.items()},
        "shapley_yuan_per_year": tables["table5_shapley"]["share"].to_dict(),
        "largest_balance_residual": float(tables["balances"].to_numpy().max()),
        "wall_s": {k: round(v, 1) for k, v in wall.items()},
    }
    if "fig9_transit_sweep" in tables:
        out["transit_sweep"] = tables["fig9_transit_sweep"].to_dict(orient="index")
    return out


def ac_summary(result):
    """AC power flow of the dispatch, period by period (ISACs, ice maker and wind written into
    the net as loads and a generator): convergence, voltages, and the largest gap between the
    SOC DistFlow voltages and the AC ones."""
    report = gf.validate_ac(result)
    s = report.summary
    return {
        "periods converged": f"{int(s['converged'].sum())}/{len(s)}",
        "vm min (pu)": float(s["vm_min_pu"].min()), "vm max (pu)": float(s["vm_max_pu"].max()),
        "max |dvm| model vs AC (pu)": float(report.gap["max_dvm_pu"].max()),
        "AC losses - model (MW)": float(report.gap["dlosses_mw"].abs().max()),
        "violations": int(s["n_violations"].sum()),
    }  # fmt: skip


def print_report(tables):
    pd.set_option("display.width", WIDTH)
    for name, table in tables.items():
        print(f"\n{name}\n{table.to_string(float_format=lambda x: f'{x:,.2f}')}")
