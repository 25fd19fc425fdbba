"""Seed 000 (Chen, Guo, Sun): DC and FCS flexibility in coordinated T&D expansion planning.

Cases (README.md), on one exact joint model wherever they can be: Case 1 is the joint model with
every regulation fixed at zero; Case 2 plans the two networks in sequence (either order) and is
then evaluated in the joint model with its plan and its regulations fixed (``model.fix``);
Case 3 is the joint model with the aggregation (eqs. 4-9, 12-21); the exact joint problem (every
DC and FCS as itself) is the reference. Every input is in scenario.toml ``[study]`` with its
source. Per-period tables of every case and network are written under ``cases/``.
"""

import copy
import time
from pathlib import Path

import numpy as np
import pandapower as pp
import pandas as pd

import gridflex as gf
from gridflex import plot as gplot
from gridflex.console import WIDTH, progress
from gridflex.formulations.candidates import CandidateBranches, add_candidate_line
from gridflex.problems.planning import annualized_cost

PARTS = ["investment", "operation", "exchange", "curtailment", "regulation"]
COMPONENTS = {  # cost component -> the paper's part of F1/F2 ("exchange": lambda x import)
    "investment": "investment",
    "energy": "operation",
    "fixed": "operation",
    "purchase": "exchange",
    "sale": "exchange",
    "shedding": "curtailment",
    "regulation": "regulation",
}
CASE_1, CASE_2, CASE_2R = "Case 1 (no regulation)", "Case 2 (T then D)", "Case 2 (D then T)"
CASE_3, EXACT, CASE_3_EXACT = "Case 3 (joint, aggregated)", "exact joint", "Case 3 plan, exact"
SHORT = {CASE_1: "Case 1", CASE_2: "Case 2 T-D", CASE_2R: "Case 2 D-T", CASE_3: "Case 3",
         CASE_3_EXACT: "Case 3 exact", EXACT: "exact"}  # fmt: skip
AC_LOADING_LIMIT, AC_VM_RANGE = 120.0, (0.90, 1.10)  # what "AC-credible" means here


def option(scenario, key):
    return scenario.study_options[key]["value"]


# --- the system -------------------------------------------------------------------------------
class System:
    """The coupled networks as modified for the study, the candidates and the DC/FCS sets."""

    def __init__(self, scenario):
        self.sc = scenario
        td = gf.networks.ieee24_ieee33(pcc_bus_number=2)
        self.t_bus, self.d_bus = td.t_bus, td.d_bus
        # three one-period operating scenarios, each p_k x 8760 h of the year
        self.blocks = gf.scenario_blocks(option(scenario, "scenario_probabilities"))
        self.factors = np.asarray(option(scenario, "scenario_load_factors"), dtype=float)
        self.annuity_rate = option(scenario, "discount_rate")
        self.d_net, self.d_lines = distribution_net(self, td.distribution)
        self.t_net, self.t_lines = transmission_net(self, td.transmission)

    def option(self, key):
        return option(self.sc, key)

    def line_candidates(self, network):
        lines, capital = self.t_lines if network == "T" else self.d_lines
        years = self.option("line_life_years")
        return CandidateBranches(
            line=list(lines), cost=list(annualized_cost(capital, self.annuity_rate, years))
        )

    def candidate_gens(self, network):
        prefix = network.lower()
        buses = [b - 1 for b in self.option(f"{prefix}_candidate_gen_bus_numbers")]
        size = self.option(f"{prefix}_candidate_gen_mw")
        capital = self.option(f"{prefix}_candidate_gen_capital_per_kw") * 1000 * size
        years = self.option(f"{prefix}_candidate_gen_life_years")
        return buses, size, annualized_cost(capital, self.annuity_rate, years)

    def dc_set(self, up_at_pcc=True, in_transmission=False):
        """The three DCs (eqs. 1-3 from workload); the one at T bus 2 sits at D bus 2."""
        k = np.asarray(self.option("dc_mw_per_workload"), dtype=float)
        base, headroom = self.option("dc_baseline_mw"), self.option("dc_headroom")
        workload = base / k
        where = ([self.t_bus, 5, 21], ["T"] * 3) if in_transmission else (
            [self.d_bus + 1, 5, 21], ["D", "T", "T"])  # fmt: skip
        dc = gf.DataCenter.from_workload(
            where[0], workload, k, workload * (1 + headroom), networks=where[1], name="dc",
            cost_per_mwh=self.option("dc_cost_per_mwh"),
        )  # fmt: skip
        dc.beta_down_mw = headroom * base * np.ones(3)
        if not up_at_pcc:  # the DC at bus 2 may only go down (reverse order, see README)
            dc.beta_up_mw = dc.beta_up_mw * np.array([[0.0], [1.0], [1.0]])
        return dc

    def fcs_set(self):
        base = self.fcs_baselines()
        e = self.option("fcs_mwh_per_vehicle")
        return gf.FastChargingStation.from_traffic(
            [b - 1 for b in self.option("fcs_bus_numbers")], base / e, e,
            self.option("fcs_capacity_factor") * base / e,
            flexible_share=self.option("fcs_flexible_share"),
            cost_per_mwh=self.option("fcs_cost_per_mwh"), networks=["D"] * 3, name="fcs",
        )  # fmt: skip

    def fcs_baselines(self):
        return np.asarray(self.option("fcs_baseline_kw"), dtype=float) / 1000


def transmission_net(system, net):
    """The RTS at the study's load, its capacitor banks, DC ratings net of cable charging and
    the candidate second circuits."""
    dcs_mw = 3 * system.option("dc_baseline_mw")
    other = system.option("transmission_peak_mw") - dcs_mw - system.option("distribution_load")[0]
    net.load[["p_mw", "q_mvar"]] *= other / net.load.p_mw.sum()
    net.poly_cost["cp2_eur_per_mw2"] = 0.0  # linear costs: the planning stays a MILP
    for bus_number, mvar in system.option("t_capacitor_mvar"):
        pp.create_shunt(net, bus_number - 1, q_mvar=-mvar, p_mw=0.0, name="capacitor")
    net, lines = candidate_lines(net, system.option("t_candidate_lines"), _t_line_capital(system))
    net.line["max_loading_percent"] = ratings_net_of_charging(net)
    return net, lines


def ratings_net_of_charging(net):
    """Percent of each line's rating left for power after half its charging current at each end
    (charging current and load current are in quadrature): a DC model knows no charging."""
    omega = 2 * np.pi * net.f_hz
    kv = net.bus.vn_kv[net.line.from_bus].to_numpy()
    c_f = net.line.c_nf_per_km * 1e-9 * net.line.length_km * net.line.parallel
    charging_ka = (kv / np.sqrt(3)) * omega * c_f / 2  # kA per end
    rating_ka = net.line.max_i_ka * net.line.parallel
    share = np.clip(1 - (charging_ka / rating_ka) ** 2, 0.25, 1.0)
    return 100 * np.sqrt(share)


def _t_line_capital(system):
    per_mw_km = system.option("t_line_capital_per_mw_km")
    length = system.option("t_line_length_km")

    def capital(net, index):
        kv = net.bus.vn_kv[net.line.from_bus[index]]
        return per_mw_km * net.line.max_i_ka[index] * np.sqrt(3) * kv * length

    return capital


def distribution_net(system, net):
    """The 33-bus feeder at the study's load, its 6 MW head, the 90 MW link of the DC at bus 2
    and the candidate parallel circuits."""
    p_total, q_total = system.option("distribution_load")
    net.load["p_mw"] *= (p_total - system.fcs_baselines().sum()) / net.load.p_mw.sum()
    net.load["q_mvar"] *= q_total / net.load.q_mvar.sum()
    dc_link_mw, head_mw = system.option("pcc_lines_mw")
    head = net.line.index[(net.line.from_bus == 0) & (net.line.to_bus == 1)][0]
    kv = net.bus.vn_kv[0]
    net.line.loc[head, "max_i_ka"] = head_mw / (np.sqrt(3) * kv)
    circuits = round(dc_link_mw / head_mw)  # the link: circuits like the head, in parallel
    columns = ["length_km", "r_ohm_per_km", "x_ohm_per_km", "c_nf_per_km", "max_i_ka"]
    pp.create_line_from_parameters(
        net, 0, 1, **net.line.loc[head, columns].to_dict(), parallel=circuits, name="dc_link"
    )
    return candidate_lines(net, system.option("d_candidate_lines"), _d_line_capital(system))


def _d_line_capital(system):
    bay = system.option("d_circuit_bay_cost")
    per_km = system.option("d_line_cost_per_km")
    x_per_km = system.option("d_line_x_ohm_per_km")

    def capital(net, index):
        length_km = net.line.x_ohm_per_km[index] * net.line.length_km[index] / x_per_km
        return bay + per_km * length_km

    return capital


def candidate_lines(net, pairs, capital):
    """A second circuit like the existing one on each pair of bus numbers, and its capital."""
    lines, costs = [], []
    for a, b in np.asarray(pairs, dtype=int):
        like = net.line.index[(net.line.from_bus == a - 1) & (net.line.to_bus == b - 1)][0]
        net, index = add_candidate_line(net, a - 1, b - 1, like=like)
        lines.append(index)
        costs.append(capital(net, index))
    return net, (lines, costs)


# --- models -----------------------------------------------------------------------------------
def _network(system, name, net=None):
    """Network ``name`` ("T" or "D") with its candidates, load scale and curtailable loads."""
    net = copy.deepcopy(system.t_net if name == "T" else system.d_net) if net is None else net
    if name == "T":
        formulation = gf.DC(candidates=system.line_candidates("T"))
    else:
        formulation = gf.LinDistFlow(
            vm_min_pu=system.option("d_planning_vm_min_pu"),
            candidates=system.line_candidates("D"),
        )
    elements = {
        "load": {"shed_cost_per_mwh": system.option("curtailment_cost_per_mwh")},
        "sgen_fixed": {"curtailable": True},
    }
    return gf.Network(net, name, formulation=formulation, load_scale=system.factors,
                      net_elements=elements)  # fmt: skip


def add_candidate_gens(model, system, network):
    buses, size, cost = system.candidate_gens(network)
    op = system.option(f"{network.lower()}_candidate_gen_cost_per_mwh")
    q = {}
    if network == "D":  # LinDistFlow has reactive power: the engines' range, once built
        q_max = size * np.tan(np.arccos(system.option("d_candidate_gen_power_factor")))
        q = {"q_min_mvar": -q_max, "q_max_mvar": q_max}
    model.add(
        gf.Generator(buses, size, cost_per_mwh=op, investment=cost, name=f"new_{network}", **q),
        network=network,
    )


def joint_model(system, aggregated=False):
    """Both networks in one problem, the exchange at the PCC priced as a transfer."""
    model = gf.Model([_network(system, "T"), _network(system, "D")], periods=system.blocks)
    model.add(gf.Boundary("T", system.t_bus, "D", system.d_bus, name="pcc",
                          price_per_mwh=system.option("purchase_price_per_mwh"),
                          settlement=system.option("exchange_settlement")))  # fmt: skip
    for network in ("T", "D"):
        add_candidate_gens(model, system, network)
    if aggregated:
        add_aggregates(model, system)
    else:
        model.add(system.dc_set(), network="T")
        model.add(system.fcs_set(), network="D")
    return model


def add_aggregates(model, system):
    """Eqs. 12-21: one aggregate per scope, eq. 21 the balance of a regulation node."""
    eq21 = gf.Node("eq21", gf.carriers.REGULATION)  # T's zone at the PCC meets D's scope
    sets = [system.dc_set(), system.fcs_set()]
    model.add(gf.AggregatedFlex(sets=sets, inside={"D": system.t_bus},
                                regulation_ports={system.t_bus: eq21}, name="vpp_T"),
              network="T")  # fmt: skip
    model.add(gf.AggregatedFlex(sets=[system.dc_set(), system.fcs_set()],
                                regulation_ports={"scope": eq21}, name="vpp_D"),
              network="D")  # fmt: skip


def transmission_model(system, feeder_mw, dc):
    """Transmission alone: the feeder as a load at the PCC, the DC set all in transmission."""
    model = gf.Model([_network(system, "T")], periods=system.blocks)
    model.add(gf.Load(system.t_bus, np.asarray(feeder_mw).reshape(1, -1), name="feeder"))
    add_candidate_gens(model, system, "T")
    model.add(dc, network="T")
    return model


def distribution_model(system, dc2_mw):
    """Distribution alone: supply from its ext_grid at the purchase price (what D pays)."""
    coupled = gf.networks.CoupledTD(system.t_net, system.d_net, system.t_bus, system.d_bus)
    net = coupled.distribution_alone(system.option("purchase_price_per_mwh"))
    model = gf.Model([_network(system, "D", net)], periods=system.blocks)
    model.add(gf.Load(system.d_bus + 1, np.asarray(dc2_mw).reshape(1, -1), name="dc_2"))
    add_candidate_gens(model, system, "D")
    model.add(system.fcs_set(), network="D")
    return model


# --- the cases --------------------------------------------------------------------------------
def table_of(result, name):
    """A result table from whichever network holds it."""
    for tables in [result.tables, *result.by_network.values()]:
        if name in tables:
            return tables[name]
    raise KeyError(name)


def regulation_of(result, table):
    return table_of(result, table)["regulation_down_mw"].to_numpy().T  # (members, T)


def no_regulation(model):
    return {"dc.tau_mw": 0.0, "fcs.tau_mw": 0.0}


def case_individual(system, transmission_first=True):
    """Case 2: the networks planned one after the other (the paper's Scenario 1, or 2).

    Transmission decides the DCs as if the DC at bus 2 were its own load; it may only move
    that DC down (its link and the feeder head are full at baseline, 98.7 of 96 MW at peak).
    Returns the decisions to evaluate in the joint model (plan and member regulations) and the
    stage-wise costs (each stage's own objective)."""
    dc_base = system.option("dc_baseline_mw")
    feeder = system.d_net.load.p_mw.sum() * system.factors + system.fcs_baselines().sum()
    if transmission_first:
        dc = system.dc_set(up_at_pcc=False, in_transmission=True)
        t_model = transmission_model(system, feeder, dc)
        t_result = t_model.solve()
        tau_dc = regulation_of(t_result, "res_data_center")
        d_model = distribution_model(system, dc_base - tau_dc[0])
        d_result = d_model.solve()
    else:
        d_model = distribution_model(system, np.full(3, dc_base))
        d_result = d_model.solve()
        imported = d_result.tables["res_ext_grid"]["p_mw"].to_numpy().sum(axis=1)
        dc = system.dc_set(up_at_pcc=False, in_transmission=True)
        t_model = transmission_model(system, imported - dc_base, dc)
        t_result = t_model.solve()
        tau_dc = regulation_of(t_result, "res_data_center")
    decisions = {**t_result.plan, **d_result.plan,
                 "dc.tau_mw": tau_dc, "fcs.tau_mw": regulation_of(d_result, "res_fcs")}  # fmt: skip
    staged = pd.concat([
        cost_split(t_result, t_model).loc[["F1"]], cost_split(d_result, d_model).loc[["F2"]]
    ])  # fmt: skip
    return decisions, staged


def solve_cases(system):
    """Every case as (model, result) of the joint problem (in the paper's order, then the
    references), and Case 2's stage-wise costs; a progress bar on a terminal."""
    cases, staged = {}, {}
    exact, aggregated = joint_model(system), joint_model(system, aggregated=True)

    def individual(label, first):
        decisions, staged[label] = case_individual(system, first)
        return exact, exact.evaluate(decisions)

    steps = [
        (EXACT, lambda: (exact, exact.solve())),
        (CASE_1, lambda: (exact, exact.evaluate(no_regulation(exact)))),
        (CASE_2, lambda: individual(CASE_2, True)),
        (CASE_2R, lambda: individual(CASE_2R, False)),
        (CASE_3, lambda: (aggregated, aggregated.solve())),
        (CASE_3_EXACT, lambda: (exact, exact.evaluate(cases[CASE_3][1].plan))),
    ]
    for label, solve in progress(steps, "cases"):
        cases[label] = solve()
    order = [CASE_1, CASE_2, CASE_2R, CASE_3, CASE_3_EXACT, EXACT]
    return {label: cases[label] for label in order}, staged


# --- reading results --------------------------------------------------------------------------
def owners(model):
    """(owner, component) -> "F1"/"F2": each device's network; the exchange to each side."""
    out = {d.name: model.network_of(d) for d in model.devices}
    out.update({name: name for name in model.networks})
    side = {"T": "F1", "D": "F2"}

    def part(owner, component):
        if owner == "pcc" or owner not in out:  # the exchange: D buys, T sells
            return "F1" if component == "sale" else "F2"
        return side[out[owner]]

    return part


def cost_split(result, model):
    """F1 (transmission) and F2 (distribution) split into the paper's parts, $ per year."""
    part = owners(model)
    rows = {}
    for (owner, component), value in result.costs["cost"].items():
        key = (part(owner, component), COMPONENTS.get(component, component))
        rows[key] = rows.get(key, 0.0) + float(value)
    table = pd.Series(rows).unstack(fill_value=0.0).reindex(columns=PARTS, fill_value=0.0)
    table = table.reindex(["F1", "F2"], fill_value=0.0)
    table["total"] = table.sum(axis=1)
    # the paper's eq. (11) has no sale: F1 without it (F2 is eq. 16 as printed either way)
    table["total_paper"] = table["total"] - table["exchange"].where(table.index == "F1", 0.0)
    return table


def built_table(cases):
    """Built (1) or not (0) per candidate (rows) and case (columns): the paper's Fig. 2."""
    columns = {}
    for label, (_, result) in cases.items():
        rows = {}
        for network in ("T", "D"):
            cand = result.by_network[network].get("res_candidate")
            line = result.nets[network].line
            for index, built in zip(cand["index"], cand["built"], strict=True):
                ends = f"{line.from_bus[index] + 1}-{line.to_bus[index] + 1}"  # bus numbers
                rows[(network, "line", ends)] = int(built)
            gens = result.by_network[network]["res_gen"]["built"]
            for label_ in [c for c in gens.columns if str(c).startswith(f"new_{network}")]:
                rows[(network, "gen", str(label_))] = round(gens[label_].iloc[0])
        columns[label] = pd.Series(rows)
    table = pd.DataFrame(columns).fillna(0).astype(int)
    table.index.names = ["network", "kind", "candidate"]
    return table


def usage_of_flexibility(result):
    """Per set: the largest share of its downward capacity used in a scenario, percent (the
    load moved down; as much moves up elsewhere, eq. 2)."""
    out = {}
    for table, name in (("res_data_center", "DC"), ("res_fcs", "FCS")):
        if not any(table in t for t in result.by_network.values()):
            continue  # the aggregated case: see its disaggregation
        t = table_of(result, table)
        down = t["regulation_down_mw"].clip(lower=0).sum(axis=1)
        out[name] = float(100 * (down / t["beta_down_mw"].sum(axis=1)).max())
    return out


def usage_of_members(members):
    """:func:`usage_of_flexibility` of Case 3's disaggregated member regulations (the D scope's
    aggregate, which holds every member)."""
    rows = members[members["aggregate"] == "vpp_D"]
    tau = rows.filter(like="tau_mw_").clip(lower=0)
    out = {}
    for name, flex in (("DC", "dc"), ("FCS", "fcs")):
        mine = rows["set"] == flex
        out[name] = float(100 * (tau[mine].sum() / rows.beta_down_mw[mine].sum()).max())
    return out


def disaggregation(model, result):
    """Member regulations realising Case 3's aggregates, and the shortfall per period (MW)."""
    rows, shortfall, periods = [], {}, _names(result)
    for vpp in (d for d in model.devices if isinstance(d, gf.AggregatedFlex)):
        taus, gap = vpp.disaggregate(model.build_of(vpp))
        shortfall[vpp.name] = gap
        for flex, tau in zip(vpp.sets, taus, strict=True):
            for m in range(flex.n):
                row = {"aggregate": vpp.name, "set": flex.name, "member": m,
                       "bus": int(flex.bus[m]), "network": flex.networks[m],
                       "eta": float(flex.eta[m]),
                       "beta_down_mw": float(np.max(flex.beta_down_mw[m]))}  # fmt: skip
                rows.append(row | {f"tau_mw_{p}": tau[m, t] for t, p in enumerate(periods)})
    index = pd.Index(periods, name="period")
    return pd.DataFrame(rows), pd.DataFrame(shortfall, index=index)


def _names(result):
    return [f"{b}_{p}" if isinstance(b, str) else str(b) for b, p in result.periods]


# --- AC validation ----------------------------------------------------------------------------
def ac_check(result):
    """AC power flow of a case's dispatch with its built plan, per network: a summary and the
    branches and buses outside what we call credible (loading > 120 %, V outside 0.90-1.10)."""
    summary, where = {}, []
    for network in ("T", "D"):
        report = gf.validate_ac(result, network=network)
        s = report.summary
        summary[network] = {
            "converged": f"{int(s.converged.sum())}/{len(s)}",
            "vm_min_pu": round(float(s.vm_min_pu.min()), 4),
            "vm_max_pu": round(float(s.vm_max_pu.max()), 4),
            "max_loading_percent": round(float(s.max_loading_percent.max()), 1),
            "most_loaded": _most_loaded(report, result.nets[network]),
        }
        where.append(_not_credible(report.violations, network))
    found = pd.concat(where, ignore_index=True)
    for network in ("T", "D"):
        summary[network]["not_credible"] = int((found.network == network).sum())
    return summary, found


def _most_loaded(report, net):
    """The branch with the highest AC loading, by bus numbers (``line 6-10``)."""
    v = report.violations
    over = v[v.kind == "overload"]
    if over.empty:
        return ""
    row = over.loc[over.value.idxmax()]
    table = net[row.element]
    ends = ("from_bus", "to_bus") if row.element == "line" else ("hv_bus", "lv_bus")
    a, b = (int(table.at[row["index"], e]) + 1 for e in ends)
    return f"{row.element} {a}-{b}"


def _not_credible(violations, network):
    v = violations.copy()
    low, high = AC_VM_RANGE
    keep = ((v.kind == "overload") & (v.value > AC_LOADING_LIMIT)) | (
        v.kind.str.startswith("vm") & ((v.value < low) | (v.value > high))
    )
    v = v[keep].assign(network=network)
    return v[["network", "period", "element", "index", "kind", "value"]]


# --- balances from the written files ---------------------------------------------------------
PRODUCING, CONSUMING = ("res_gen", "res_sgen", "res_ext_grid"), (
    "res_load", "res_data_center", "res_fcs", "res_shunt", "res_aggregated_flex")  # fmt: skip


def placement(model, result):
    """Where each unit of each result table injects: its table's folder (the network it was
    added to), the terminal's network and bus, and the sign of its ``p_mw`` as an injection
    (consumers -1; the boundary's flow T -> D is -1 in T and +1 in D)."""
    devices = {d.name: d for d in model.devices}
    rows = []
    for record in result.injections:
        device = devices[record.device]
        labels = list(record.unit_labels)
        for k, (network, bus) in enumerate(zip(record.networks, record.buses, strict=True)):
            label = labels[0] if len(labels) == 1 else (
                labels[k] if len(labels) == len(record.buses) else str(bus))  # fmt: skip
            sign = (-1 if k == 0 else 1) if isinstance(device, gf.Boundary) else (
                -1 if device.result_table in CONSUMING else 1)  # fmt: skip
            rows.append({"folder": model.network_of(device), "table": device.result_table,
                         "unit": str(label), "network": network, "bus": int(bus),
                         "sign": sign})  # fmt: skip
    return pd.DataFrame(rows).drop_duplicates()


def read_table(folder, name):
    return pd.read_csv(folder / f"{name}.csv", header=[0, 1], index_col=[0, 1])


def check_balances(case_folder):
    """Power balance of each network and period from a case's CSVs alone (MW): the sum of
    every unit's injection (``placement.csv`` says where and with which sign; an aggregate
    zone injects ``regulation_down_mw - baseline_mw``). Lossless DC and LinDistFlow: zero."""
    case_folder = Path(case_folder)
    place = pd.read_csv(case_folder / "placement.csv")
    totals = {}
    for (folder, table), units in place.groupby(["folder", "table"]):
        frame = read_table(case_folder / folder, table)
        if table == "res_aggregated_flex":
            p = frame["baseline_mw"] - frame["regulation_down_mw"]
        else:
            p = frame["p_mw"]
        for _, u in units.iterrows():
            value = u.sign * p[str(u.unit)]
            totals[u.network] = totals.get(u.network, 0.0) + value
    return pd.DataFrame(totals)


def check_members(case_folder):
    """Eqs. (1)-(2) of the DC and FCS sets from a case's CSVs alone: the largest excess over
    the bounds ``-beta_up <= tau <= beta_down`` and the largest ``|sum_m eta_m tau_m|`` per
    period (MW); None for a case without member tables (the aggregated one: members.csv)."""
    out = {}
    for folder, table in (("T", "res_data_center"), ("D", "res_fcs")):
        file = Path(case_folder) / folder / f"{table}.csv"
        if not file.is_file():
            return None
        t = read_table(Path(case_folder) / folder, table)
        tau = t["regulation_down_mw"]
        excess = np.maximum(tau - t["beta_down_mw"], -t["beta_up_mw"] - tau).to_numpy().max()
        coupling = (t["eta"] * tau).sum(axis=1).abs().max()
        out[table] = {"bound_excess_mw": float(max(excess, 0.0)), "coupling_mw": float(coupling)}
    return out


# --- the run ----------------------------------------------------------------------------------
def slug(label):
    keep = "".join(c if c.isalnum() else "_" for c in label.lower())
    return "_".join(p for p in keep.split("_") if p)


def write_case(out, label, model, result):
    """Per-period tables of one case: ``cases/<case>/<network>/res_*.csv`` and its costs."""
    folder = out / "cases" / slug(label)
    for network in ("T", "D"):
        result.network(network).to_csv(folder / network)
        (folder / network / "costs.csv").unlink()  # the model's costs are one table, below
    result.costs.to_csv(folder / "costs.csv")
    placement(model, result).to_csv(folder / "placement.csv", index=False)
    cost_split(result, model).to_csv(folder / "f1_f2.csv")
    return folder


def run(scenario, out_dir):
    """All cases; prints the paper's tables and writes CSVs and plots to ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    system = System(scenario)
    cases, staged = solve_cases(system)
    solved = time.perf_counter()
    splits = {label: cost_split(result, model) for label, (model, result) in cases.items()}
    costs = pd.concat(splits, names=["case", "F"])
    for label, (model, result) in cases.items():
        write_case(out, label, model, result)
    members, shortfall = disaggregation(*cases[CASE_3])
    members.to_csv(out / "cases" / slug(CASE_3) / "members.csv", index=False)
    shortfall.to_csv(out / "cases" / slug(CASE_3) / "disaggregation_shortfall.csv")
    ac, not_credible = {}, []
    for label, (_, result) in progress(cases.items(), "AC validation of the cases"):
        ac[label], found = ac_check(result)
        not_credible.append(found.assign(case=label))
    pd.concat(not_credible).to_csv(out / "ac_not_credible.csv", index=False)
    built = built_table(cases)
    tables = summary_tables(cases, costs, staged, built, ac, members, shortfall)
    for name, table in tables.items():
        table.to_csv(out / f"{name}.csv")
    plot_investments(built, costs, out / "investments.png")
    print_report(tables)
    return summary(tables, start, solved)


def summary_tables(cases, costs, staged, built, ac, members, shortfall):
    totals = costs.groupby(level="case")[["total", "total_paper"]].sum().reindex(list(cases))
    f2 = costs.xs("F2", level="F")
    f2 = f2[[*PARTS, "total"]].T / 1e6
    change = f2[[CASE_2, CASE_3, EXACT]].rename(columns=SHORT).add_suffix(" (M$)")
    change["Case 3 vs Case 2 (%)"] = 100 * (f2[CASE_3] / f2[CASE_2] - 1)
    change["paper (%)"] = [-8.0 if p == "investment" else np.nan for p in change.index]
    usage = pd.DataFrame({label: usage_of_flexibility(r) for label, (_, r) in cases.items()}).T
    usage.loc[CASE_3] = usage_of_members(members)
    staged_totals = pd.DataFrame({
        "stage-wise": {k: v["total"].sum() for k, v in staged.items()},
        "evaluated jointly, eqs. (11)+(16)": {k: totals.loc[k, "total_paper"] for k in staged},
    })  # fmt: skip
    ac_table = pd.DataFrame(
        {(label, n): v for label, d in ac.items() for n, v in d.items()}
    ).T.rename_axis(["case", "network"])
    return {
        "costs": costs, "totals": totals, "investments": built,
        "distribution_change": change, "flexibility_used_percent": usage,
        "case2_stagewise": staged_totals, "ac_validation": ac_table,
        "disaggregation_shortfall_mw": shortfall.max().to_frame("max_mw"),
    }  # fmt: skip


def summary(tables, start, solved):
    totals = tables["totals"]
    change = tables["distribution_change"]
    return {
        "totals_per_year": totals["total"].round(0).to_dict(),
        "totals_per_year_paper_accounting": totals["total_paper"].round(0).to_dict(),
        "distribution_investment_change_case3_vs_case2_percent": round(
            float(change.loc["investment", "Case 3 vs Case 2 (%)"]), 2
        ),
        "paper_distribution_expansion_cost_change_percent": -8.0,
        "flexibility_used_percent": tables["flexibility_used_percent"].round(1).to_dict("index"),
        "ac_validation_of_cases": {
            f"{c} / {n}": v for (c, n), v in tables["ac_validation"].to_dict("index").items()
        },
        "wall_time_s": {"solves": solved - start, "total": time.perf_counter() - start},
    }


def print_report(tables):
    m = 1e6
    with pd.option_context("display.width", 100, "display.max_columns", 12, "display.max_rows",
                           80, "display.float_format", "{:,.3f}".format):  # fmt: skip
        print("Investments (1 = built) per case (paper Fig. 2; lines by bus numbers)")
        print(tables["investments"].rename(columns=SHORT).to_string(line_width=WIDTH), end="\n\n")
        print("Annualised costs (M$ per year); 'exchange' is lambda x import, booked to D (paid)")
        print("and to T (received); total_paper: F1 without the receipt, as eqs. (11) + (16)")
        print((tables["costs"] / m).to_string(line_width=WIDTH), end="\n\n")
        print("Totals F1 + F2 (M$ per year)")
        print((tables["totals"] / m).to_string(line_width=WIDTH), end="\n\n")
        print("Distribution cost F2 by part (M$ per year), Case 3 vs Case 2 beside the paper")
        print(tables["distribution_change"].to_string(line_width=WIDTH), end="\n\n")
        print("Flexibility used: largest share of each set's downward capacity moved (%)")
        print(tables["flexibility_used_percent"].round(1).to_string(line_width=WIDTH), end="\n\n")
        print("Case 2: stage-wise totals (each stage's objective, T without the receipt) vs the")
        print("same decisions evaluated jointly, booked the same way (M$ per year)")
        print((tables["case2_stagewise"] / m).to_string(line_width=WIDTH), end="\n\n")
        print("AC validation with each case's built plan (credible: loading <= 120 %, "
              "0.90-1.10 pu)")  # fmt: skip
        print(tables["ac_validation"].to_string(line_width=WIDTH), end="\n\n")
        print("Case 3 disaggregation: largest shortfall per aggregate (MW)")
        print(tables["disaggregation_shortfall_mw"].to_string(line_width=WIDTH))


def plot_investments(built, costs, file):
    """Paper Fig. 2: what each case builds, and its F2 cost by part."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = list(built.columns)
    counts = built.groupby(level=["network", "kind"]).sum()
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.5))
    x = np.arange(len(cases))
    width = 0.8 / len(counts)
    for k, (key, row) in enumerate(counts.iterrows()):
        axes[0].bar(x + width * (k - (len(counts) - 1) / 2), row[cases], width=width,
                    label=f"{key[0]} {key[1]}s")  # fmt: skip
    axes[0].set_ylabel("candidates built")
    axes[0].set_title("Candidates built per case (paper Fig. 2)")
    parts = ["investment", "operation", "curtailment", "regulation"]  # without the exchange
    f2 = costs.xs("F2", level="F").reindex(cases)[parts] / 1e3
    bottom = np.zeros(len(cases))
    for part in parts:
        axes[1].bar(x, f2[part], bottom=bottom, label=part)
        bottom += f2[part].to_numpy()
    axes[1].set_ylabel("k$ per year")
    axes[1].set_title("Distribution cost F2 without the exchange (λ x import)")
    for ax in axes:
        ax.set_xticks(x, [c.replace(" (", "\n(").replace(", ", ",\n") for c in cases], fontsize=7)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    gplot.save(fig, Path(file).with_suffix(""))  # PNG and SVG, 300 dpi
    plt.close(fig)
