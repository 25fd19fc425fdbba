"""Seed 003 (Chang et al. 2022): tight power balance with EV charging stations, all cases.

``gridflex run scenarios/ev_tight_balance`` calls :func:`run`: Table 2 (Case 1 without, Case 2
with stations), the EV-scale sweep (Figs. 2-3), the wind scenarios (Table 3), per-period plots
(Fig. 5) and the AC validation of both cases of Table 2. Every input is in scenario.toml with
its source; the model is described in README.md.
"""

import time
from functools import cache
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

import gridflex as gf
from gridflex import plot as gplot
from gridflex import products as P
from gridflex.console import WIDTH, progress
from gridflex.devices.ev_behaviour import simulate_parking_lot
from gridflex.devices.ev_parking_lot import PROFILE_PARAMETERS

matplotlib.use("Agg")
import matplotlib.pyplot as plt

RESERVES = (P.SPINNING, P.NON_SPINNING, P.REGULATION_UP, P.REGULATION_DOWN, P.REPLACEMENT)
ALL_PRODUCTS = (*RESERVES, P.RAMP_UP, P.RAMP_DOWN)
RAMPS = ("ramp_up_mw", "ramp_down_mw")
TABLE_COLUMNS = [
    "operation cost ($)",
    "wind spillage (MWh)",
    "load shedding (MWh)",
    "thermal unit ramp (MWh)",
    "saving of thermal units' ramp (MWh)",
]


def option(scenario, key):
    return scenario.study_options[key]["value"]


# --- inputs ---------------------------------------------------------------------------------
def prepared_net(scenario):
    """The 118-bus net with the study's modifications: Pmin, ratings, the wind corridor.

    The corridor is reinforced with parallel circuits (pandapower's ``parallel``), which divides
    its impedance too: a rating raised alone would carry the wind in the DC model but leave an
    AC power flow without a solution (1.5 GW over two 138 kV lines).
    """
    net = scenario.load_network()
    gens = net.gen.max_p_mw > 0
    net.gen.loc[gens, "min_p_mw"] = option(scenario, "p_min_share") * net.gen.max_p_mw[gens]
    # the slack is a thermal unit of its size (the paper's 118-bus system has no external
    # grid): the same minimum output share; its ramp limits (size class) come with the net
    net.ext_grid["min_p_mw"] = option(scenario, "p_min_share") * net.ext_grid.max_p_mw
    factor = option(scenario, "rating_factor")
    net.line["max_i_ka"] *= factor
    net.trafo["max_loading_percent"] = net.trafo["max_loading_percent"].fillna(100.0) * factor
    grid = gf.Grid(net)
    for a, b in np.asarray(option(scenario, "wind_corridor"), dtype=int):
        u, v = grid.bus_from_number([int(a), int(b)])
        rows = net.line.index[
            ((net.line.from_bus == u) & (net.line.to_bus == v))
            | ((net.line.from_bus == v) & (net.line.to_bus == u))
        ]
        circuit_mva = net.line.max_i_ka[rows] * np.sqrt(3) * net.bus.vn_kv[u]
        circuits = np.ceil(option(scenario, "wind_corridor_mva") / circuit_mva)
        net.line.loc[rows, "parallel"] = circuits.astype(int)  # lower impedance, higher rating
    return net


def thermal_offers(net, table, scenario):
    """Offered costs per product and unit: a share of the unit's energy cost, with a floor."""
    cost = net.poly_cost[net.poly_cost.et == table].set_index("element").cp1_eur_per_mw
    rows = net[table].index[net[table].in_service]
    energy = cost.reindex(rows).fillna(0.0).to_numpy()
    floor = option(scenario, "thermal_offer_floor")
    shares = option(scenario, "thermal_offer_shares")
    return {p: np.maximum(s * energy, floor) for p, s in zip(ALL_PRODUCTS, shares, strict=True)}


@cache
def _lot_profile(spaces, seed, rate, eta):
    return simulate_parking_lot(spaces, 16, charge_rate_mw=rate, eta_charge=eta, seed=seed)


def stations(scenario, grid, scale):
    """The two EV stations at ``scale`` times the paper's fleet."""
    rate, eta = option(scenario, "charge_rate_mw"), option(scenario, "efficiency")
    seeds = [int(s) for s in option(scenario, "ev_seeds")]
    lots = [
        _lot_profile(int(option(scenario, "spaces")), s, rate, eta).scaled(scale) for s in seeds
    ]
    offers = dict(zip(ALL_PRODUCTS, option(scenario, "station_offers"), strict=True))
    return gf.EVParkingLot.from_profiles(
        grid.bus_from_number([int(b) for b in option(scenario, "station_bus_numbers")]),
        lots,
        charge_rate_mw=rate,
        discharge_rate_mw=rate,
        eta_charge=eta,
        eta_discharge=eta,
        contract_share=option(scenario, "contract_share"),
        soc_min=option(scenario, "soc_min"),
        soc_max=option(scenario, "soc_max"),
        discharge_cost_per_mwh=option(scenario, "station_energy_cost"),
        offers=offers,
        name="station",
    )


def wind_spec(scenario, column):
    """The wind entry with the profile of one of the paper's wind scenarios."""
    from dataclasses import replace

    from gridflex.scenario import Quantity

    spec = scenario.devices[0]
    frame = pd.read_csv(scenario.path / "profiles.csv", index_col=0)
    profile = Quantity(frame[column].to_numpy(float), f"profiles.csv[{column}]")
    return replace(spec, params=spec.params | {"profile": profile})


# --- one case -------------------------------------------------------------------------------
def build(scenario, net, wind_column, ev_scale):
    """The dispatch model; ``ev_scale`` None: Case 1 (no stations)."""
    element_options = {
        "gen": {"offers": thermal_offers(net, "gen", scenario)},
        "ext_grid": {"offers": thermal_offers(net, "ext_grid", scenario)},
        "load": {
            "shed_cost_per_mwh": option(scenario, "shed_cost_per_mwh"),
            "shedding_provides": P.RAMP_UP,
        },
    }
    model = scenario.build_model(
        net=net, net_elements=element_options, devices=[wind_spec(scenario, wind_column)]
    )
    if ev_scale is not None:
        model.add(stations(scenario, model.grid, ev_scale))
    add_requirements(scenario, model, net, wind_column)
    return model


def add_requirements(scenario, model, net, wind_column):
    """Reserves as shares of load; flexible ramp from the net-load forecast (eqs. 20-21)."""
    load_mw = net.load.p_mw.sum() * np.asarray(scenario.load_scale.value, dtype=float)
    for product, share in zip(RESERVES, option(scenario, "reserve_shares"), strict=True):
        model.add(gf.Requirement(product, share * load_mw))
    wind = pd.read_csv(scenario.path / "profiles.csv", index_col=0)[wind_column].to_numpy()
    up, down = gf.flexible_ramp_requirements(load_mw - wind, option(scenario, "kappa"))
    model.add(up)
    model.add(down)


def figures(result):
    """The paper's Table 2 columns for one solved case."""
    dt = result.dt_h
    thermal = sum(
        result.tables[t][r].to_numpy().sum() for t in ("res_gen", "res_ext_grid") for r in RAMPS
    )
    lot = result.tables.get("res_ev_parking_lot")
    saving = 0.0 if lot is None else sum(lot[r].to_numpy().sum() for r in RAMPS)
    return {
        TABLE_COLUMNS[0]: result.objective,
        TABLE_COLUMNS[1]: result.res_sgen["curtailed_mw"]["wind"].sum() * dt,
        TABLE_COLUMNS[2]: result.res_load["shed_mw"].to_numpy().sum() * dt,
        TABLE_COLUMNS[3]: thermal * dt,
        TABLE_COLUMNS[4]: saving * dt,
    }


def solve(scenario, net, wind_column, ev_scale):
    return build(scenario, net, wind_column, ev_scale).solve(solver=scenario.solver)


# --- the study --------------------------------------------------------------------------------
def run(scenario, out_dir):
    """All of the paper's cases; prints the tables and writes CSVs and plots to ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    net = prepared_net(scenario)
    base = option(scenario, "wind_profiles")[1]
    case1, case2 = solve(scenario, net, base, None), solve(scenario, net, base, 1.0)
    table2 = comparison_table([figures(case1), figures(case2)], option(scenario, "paper_table2"))
    sweep = ev_scale_sweep(scenario, net, base, figures(case1))
    table3 = wind_table(scenario, net)
    ac = {name: ac_figures(r) for name, r in (("case 1", case1), ("case 2", case2))}
    bound = network_or_fleet(scenario, case2)
    write_outputs(out, table2, sweep, table3, ac)
    for name, result in (("case_1", case1), ("case_2", case2)):  # per-period tables per case
        result.to_csv(out / name)
    account = station_energy_account(case2)
    account.to_csv(out / "case_2" / "station_energy.csv")
    plot_periods(case1, case2, out / "periods.png")
    plot_sweep(sweep, out / "ev_scale.png")
    print_tables(table2, sweep, table3, ac, bound)
    return {
        "table2": table2.round(2).reset_index().to_dict(orient="records"),
        "ev_scale_sweep": sweep.round(2).reset_index().to_dict(orient="records"),
        "ev_scale_sweep_compiled_solves": sweep.attrs["compiled_solves"],
        "table3": table3.round(2).reset_index().to_dict(orient="records"),
        "ac_validation_of_cases": ac,
        "station_bound": bound,
        "wall_time_s": {"study": time.perf_counter() - start},
    }


def comparison_table(ours, paper):
    """Table 2 layout: ours and the paper's per case, and the relative change Case 2 vs 1."""
    rows = {}
    for k, (mine, theirs) in enumerate(zip(ours, paper, strict=True), 1):
        rows[(f"Case {k}", "gridflex")] = mine
        rows[(f"Case {k}", "paper")] = dict(zip(TABLE_COLUMNS, theirs, strict=True))
    table = pd.DataFrame(rows).T
    for source in ("gridflex", "paper"):
        one, two = table.loc[("Case 1", source)], table.loc[("Case 2", source)]
        change = 100 * (two - one) / one.where(one != 0)
        table.loc[("change Case 2 vs 1 (%)", source), :] = change
    return table


def ev_scale_sweep(scenario, net, wind_column, case1):
    """Figs. 2-3: cost, shedding and ramp saving at 20 %-200 % of the fleet. A fleet whose
    energy cannot leave the stations within the window (arrival energy, departure energy,
    the SOC band and the power and contract limits of eqs. 1-5, with a system that must take
    the discharge) has no feasible dispatch: its row is NaN with ``feasible`` False."""
    rows, model, compiled = {0.0: case1 | {"feasible": True}}, None, []
    for scale in progress(option(scenario, "ev_scales"), "EV-scale sweep"):
        if model is None:  # one model for the whole sweep: each scale re-solves it
            model = build(scenario, net, wind_column, float(scale))
        else:
            rescale(model.device("station"), stations(scenario, model.grid, float(scale)))
        try:
            result = model.solve(solver=scenario.solver)
            rows[float(scale)] = figures(result) | {"feasible": True}
            compiled.append(result.solve_info["compiled"])
        except gf.SolveError as exc:
            if exc.status != "infeasible":
                raise
            rows[float(scale)] = {"feasible": False}
    table = pd.DataFrame(rows).T
    table[TABLE_COLUMNS] = table[TABLE_COLUMNS].astype(float)
    table["feasible"] = table["feasible"].astype(bool)
    table.index.name = "EV scale"
    table.attrs["compiled_solves"] = f"{sum(compiled)} of {len(compiled)}"
    return table


def rescale(lot, scaled):
    """Give the stations ``lot`` the fleet profiles of ``scaled`` (re-solvable parameters:
    the sweep re-solves one model without rebuilding it)."""
    for key in PROFILE_PARAMETERS:
        setattr(lot, key, getattr(scaled, key))


def wind_table(scenario, net):
    """Table 3: the three wind scenarios, both cases, beside the paper's."""
    paper = option(scenario, "paper_table3")
    rows = {}
    for k, column in enumerate(option(scenario, "wind_profiles")):
        for case, scale in ((1, None), (2, 1.0)):
            rows[(f"scenario {k + 1}", f"Case {case}", "gridflex")] = figures(
                solve(scenario, net, column, scale)
            )
            theirs = paper[2 * k + case - 1]
            rows[(f"scenario {k + 1}", f"Case {case}", "paper")] = dict(
                zip(TABLE_COLUMNS, theirs, strict=True)
            )
    return pd.DataFrame(rows).T


def ac_figures(result):
    """AC validation of a case's dispatch on the 118-bus net (stations written as sgens)."""
    report = gf.validate_ac(result)
    s = report.summary
    return {
        "converged": f"{int(s.converged.sum())}/{len(s)}",
        "vm_pu": [round(float(s.vm_min_pu.min()), 4), round(float(s.vm_max_pu.max()), 4)],
        "max_loading_percent": round(float(s.max_loading_percent.max()), 1),
        "violations": len(report.violations),
        "max_slack_deviation_mw": round(float(s.slack_deviation_mw.abs().max()), 1),
    }


def station_energy_account(result):
    """Each station's energy per period, MWh: what arrives and leaves with the EVs, what is
    charged and discharged, the losses, the change of the stored energy and the closing error
    (zero when every MWh is accounted for). Window totals in the last row."""
    lot, dt = result.tables["res_ev_parking_lot"], result.dt_h
    stored = lot["e_mwh"]
    terms = {
        "arrival_mwh": lot["arrival_energy_mwh"],
        "departure_mwh": lot["departure_energy_mwh"],
        "charged_mwh": dt * lot["p_charge_mw"],
        "discharged_mwh": dt * lot["p_discharge_mw"],
        "losses_mwh": lot["losses_mwh"],
        "reserve_debit_mwh": lot["reserve_debit_mwh"],
        "stored_change_mwh": stored.diff().fillna(stored.iloc[0]),
    }
    flows = terms["arrival_mwh"] - terms["departure_mwh"] + terms["charged_mwh"]
    flows = flows - terms["discharged_mwh"] - terms["losses_mwh"] - terms["reserve_debit_mwh"]
    terms["closing_error_mwh"] = terms["stored_change_mwh"] - flows
    table = pd.concat(terms, axis=1, names=["quantity", "station"])
    table.loc["window total"] = table.sum()
    return table


def network_or_fleet(scenario, result):
    """What bounds each station's V2G in Case 2: the lines at its bus, or the fleet itself.

    Per station: the largest discharge, the fleet's own V2G limit (eqs. 1 and 5:
    ``min(gamma N, psi E^Sc)``, largest over the periods) and the number of (line, period)
    pairs at its bus loaded to >= 99.9 % of their rating.
    """
    lot = result.tables["res_ev_parking_lot"]
    net = next(iter(result.nets.values()))
    record = next(r for r in result.injections if r.device == "station")
    loading = result.res_line["limit_percent"]
    rate, psi = option(scenario, "charge_rate_mw"), option(scenario, "contract_share")
    bound = {}
    for label, bus in zip(lot["p_mw"].columns, record.buses, strict=True):
        at_bus = net.line.index[(net.line.from_bus == bus) | (net.line.to_bus == bus)]
        fleet = np.minimum(rate * lot["ev_count"][label], psi * lot["contract_energy_mwh"][label])
        bound[str(label)] = {
            "bus_number": int(bus) + 1,
            "max_discharge_mw": round(float(lot["p_discharge_mw"][label].max()), 1),
            "fleet_v2g_limit_mw": round(float(fleet.max()), 1),
            "binding_line_periods": int((loading[at_bus] > 99.9).to_numpy().sum()),
        }
    return bound


def write_outputs(out, table2, sweep, table3, ac):
    table2.to_csv(out / "table2.csv")
    sweep.to_csv(out / "ev_scale_sweep.csv")
    table3.to_csv(out / "table3.csv")
    pd.DataFrame(ac).T.to_csv(out / "ac_validation.csv")


def print_tables(table2, sweep, table3, ac, bound):
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print("Table 2: tight power balance disposal, Case 1 (no stations) vs Case 2 (stations)")
        print(table2.round(2).to_string(line_width=WIDTH), end="\n\n")
        print("EV scale sweep (paper Figs. 2-3), wind scenario 2; one model re-solved per scale")
        print(f"(problems compiled: {sweep.attrs['compiled_solves']} solves)")
        print(sweep.round(2).to_string(line_width=WIDTH), end="\n\n")
        print("Table 3: wind penetration 9.68 % / 19.35 % / 38.70 %")
        print(table3.round(2).to_string(line_width=WIDTH), end="\n\n")
        print("AC validation of the Table 2 dispatches")
        print(pd.DataFrame(ac).T.to_string(line_width=WIDTH), end="\n\n")
        print("What bounds the stations (Case 2)")
        print(pd.DataFrame(bound).T.to_string(line_width=WIDTH), end="\n\n")


def plot_periods(case1, case2, file):
    """Dispatch by source, ramp by provider, station SOE, cost saving per period (Fig. 5)."""
    fig, axes = plt.subplots(3, 2, figsize=(15, 11), layout="constrained")
    hours = case2.periods.strftime("%H:%M")
    sources = {
        "thermal": case2.res_gen["p_mw"].sum(axis=1) + case2.res_ext_grid["p_mw"].sum(axis=1),
        "wind": case2.res_sgen["p_mw"]["wind"],
        "stations (V2G - G2V)": -case2.tables["res_ev_parking_lot"]["p_mw"].sum(axis=1),
        "shed load": case2.res_load["shed_mw"].sum(axis=1),
    }
    for label, values in sources.items():
        axes[0, 0].plot(hours, values, label=label)
    axes[0, 0].set_title("Case 2 dispatch by source (MW)")
    lot = case2.tables["res_ev_parking_lot"]
    for table, label in ((case2.res_gen, "thermal"), (lot, "stations")):
        axes[0, 1].plot(hours, table["ramp_up_mw"].sum(axis=1), label=f"{label} ramp up")
        axes[0, 1].plot(hours, table["ramp_down_mw"].sum(axis=1), "--", label=f"{label} ramp down")
    axes[0, 1].set_title("Case 2 flexible ramp by provider (MW)")
    for table, label in ((case2.res_gen, "thermal"), (lot, "stations")):
        held = sum(table[f"{p}_mw"].sum(axis=1) for p in RESERVES)
        axes[1, 0].plot(hours, held, label=f"{label}: all five reserves")
    axes[1, 0].set_title("Case 2 reserves by provider (MW)")
    axes[1, 1].plot(hours, lot["e_mwh"], label=list(lot["e_mwh"].columns))
    axes[1, 1].set_title("Station state of energy (MWh)")
    saving = period_costs(case1) - period_costs(case2)
    axes[2, 0].bar(hours, saving)
    axes[2, 0].axhline(saving.mean(), color="k", ls="--", label="average")
    axes[2, 0].set_title("Operation cost saving, Case 2 vs Case 1 ($; paper Fig. 5)")
    for case, label in ((case1, "Case 1"), (case2, "Case 2")):
        axes[2, 1].plot(hours, case.res_load["shed_mw"].sum(axis=1), label=label)
    axes[2, 1].set_title("Load shedding (MW)")
    ylabels = ["power (MW)", "ramp held (MW)", "reserve held (MW)", "energy (MWh)",
               "saving ($)", "shedding (MW)"]  # fmt: skip
    for ax, ylabel in zip(axes.flat, ylabels, strict=True):
        ax.set_ylabel(ylabel)
        ax.set_xlabel("time (hh:mm)")
        ax.legend(**gplot.LEGEND)  # outside the data
        ax.tick_params(axis="x", labelrotation=90, labelsize=7)
    gplot.save(fig, Path(file).with_suffix(""))  # PNG and SVG, 300 dpi
    plt.close(fig)


def period_costs(result):
    """Cost per period: energy, shedding and spillage at their prices (reserve costs excluded)."""
    dt = result.dt_h
    energy = sum(
        (result.tables[f"res_{t}"]["p_mw"] * _gen_costs(result, t)).sum(axis=1)
        for t in ("gen", "ext_grid")
    )
    shed = 200.0 * result.res_load["shed_mw"].sum(axis=1)
    spill = 40.0 * result.res_sgen["curtailed_mw"]["wind"]
    return dt * (energy + shed + spill)


def _gen_costs(result, table):
    net = next(iter(result.nets.values()))
    cost = net.poly_cost[net.poly_cost.et == table].set_index("element").cp1_eur_per_mw
    return cost.reindex(result.tables[f"res_{table}"]["p_mw"].columns).fillna(0.0).to_numpy()


def plot_sweep(sweep, file):
    """Paper Figs. 2-3 with :func:`gridflex.plot.sweep`: cost, shedding and ramp saving
    against the EV scale (PNG and SVG, 300 dpi)."""
    table = sweep[TABLE_COLUMNS].rename(columns=lambda c: c.split(" (")[0])
    table.index = pd.Index(100 * sweep.index.to_numpy(), name="EV scale (% of the paper's fleet)")
    energy = "energy (MWh)"
    units = {"operation cost": "$", "load shedding": energy, "wind spillage": energy,
             "saving of thermal units' ramp": energy}  # fmt: skip
    fig = gplot.sweep(table[list(units)], units, title="EV-scale sweep (paper Figs. 2-3)")
    gplot.save(fig, Path(file).with_suffix(""))
    plt.close(fig)
