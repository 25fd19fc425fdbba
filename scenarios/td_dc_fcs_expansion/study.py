"""Seed 000 (Chen, Guo, Sun): DC and FCS flexibility in coordinated T&D expansion planning.

Cases (README.md): 1 no regulation (one problem, both networks); 2 individual (transmission
first with the DCs, then distribution with the DC regulation fixed, and the reverse order);
3 joint with the aggregation model (eqs. 4-9, 12-21); and the exact joint problem (every DC
and FCS as itself) as the reference for what the aggregation costs. Every input is in
scenario.toml ``[study]`` with its source.
"""

import copy
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import gridflex as gf
from gridflex.formulations.candidates import CandidateBranches, add_candidate_line
from gridflex.problems.planning import annualized_cost

COMPONENTS = {  # cost component -> the paper's part of F1/F2
    "investment": "investment",
    "energy": "operation",
    "fixed": "operation",
    "purchase": "operation",
    "shedding": "curtailment",
    "regulation": "regulation",
}


def option(scenario, key):
    return scenario.study_options[key]["value"]


@dataclass
class Plan:
    """Investments: built candidates by network ("T"/"D"), kind ("gen"/"line") and label."""

    built: dict = field(default_factory=dict)

    def table(self):
        rows = [(n, k, label, b) for (n, k), items in self.built.items() for label, b in items]
        return pd.DataFrame(rows, columns=["network", "kind", "candidate", "built"])


# --- the system -------------------------------------------------------------------------------
class System:
    """The modified coupled networks, the candidates and the DC/FCS sets of the study."""

    def __init__(self, scenario):
        self.sc = scenario
        td = gf.networks.ieee24_ieee33(pcc_bus_number=2)
        self.t_bus, self.d_bus = td.t_bus, td.d_bus
        # three one-period operating scenarios, each p_k x 8760 h of the year (cyclic blocks:
        # nothing links one scenario to another)
        self.blocks = gf.scenario_blocks(option(scenario, "scenario_probabilities"))
        self.factors = np.asarray(option(scenario, "scenario_load_factors"), dtype=float)
        self.d_net, self.d_lines = self._distribution(td.distribution)
        self.t_net, self.t_lines = self._transmission(td.transmission)
        self.td = td
        rate, life_line, life_dg = option(scenario, "annuity")
        self.annual = {"T": (rate, life_line), "D": (rate, life_dg), "line": (rate, life_line)}

    def _distribution(self, net):
        p_total, q_total = option(self.sc, "distribution_load")
        fcs_mw = np.asarray(option(self.sc, "fcs_baseline_kw"), dtype=float) / 1000
        net.load["p_mw"] *= (p_total - fcs_mw.sum()) / net.load.p_mw.sum()
        net.load["q_mvar"] *= q_total / net.load.q_mvar.sum()
        dc_line_mw, head_mw = option(self.sc, "pcc_lines_mw")
        head = net.line.index[(net.line.from_bus == 0) & (net.line.to_bus == 1)][0]
        kv = net.bus.vn_kv[0]
        net.line.loc[head, "max_i_ka"] = head_mw / (np.sqrt(3) * kv)
        # Parallel lines share power by impedance: the 90 MW cable has 6/90 of the head's
        # impedance, so that both are full together (at 96 MW).
        share = head_mw / dc_line_mw
        z = {k: net.line.loc[head, k] * share for k in ("r_ohm_per_km", "x_ohm_per_km")}
        net, dc_cable = add_candidate_line(
            net, 0, 1, like=head, max_i_ka=dc_line_mw / (np.sqrt(3) * kv), **z
        )
        net.line.loc[dc_cable, "in_service"] = True
        net.line.loc[dc_cable, "parallel"] = 1
        return self._candidate_lines(net, "d_candidate_lines", 1)

    def _transmission(self, net):
        dcs_mw = 3 * option(self.sc, "dc_baseline_mw")
        d_mw = option(self.sc, "distribution_load")[0]
        other = option(self.sc, "transmission_peak_mw") - dcs_mw - d_mw
        net.load[["p_mw", "q_mvar"]] *= other / net.load.p_mw.sum()
        net.poly_cost["cp2_eur_per_mw2"] = 0.0  # linear costs: the planning stays a MILP
        return self._candidate_lines(net, "t_candidate_lines", 0)

    def _candidate_lines(self, net, key, which):
        capital = option(self.sc, "line_capital_per_mw_km")[which]
        length = option(self.sc, "line_length_km")[which]
        lines, costs = [], []
        for a, b in np.asarray(option(self.sc, key), dtype=int):
            like = net.line.index[(net.line.from_bus == a - 1) & (net.line.to_bus == b - 1)][0]
            net, index = add_candidate_line(net, a - 1, b - 1, like=like)
            rating = net.line.max_i_ka[index] * np.sqrt(3) * net.bus.vn_kv[a - 1]
            lines.append(index)
            costs.append(capital * rating * length)
        return net, (lines, costs)

    def line_candidates(self, network):
        lines, capital = self.t_lines if network == "T" else self.d_lines
        rate, years = self.annual["line"]
        return CandidateBranches(line=list(lines), cost=list(annualized_cost(capital, rate, years)))

    def candidate_gens(self, network):
        prefix = "t" if network == "T" else "d"
        buses = [b - 1 for b in option(self.sc, f"{prefix}_candidate_gen_bus_numbers")]
        size = option(self.sc, f"{prefix}_candidate_gen_mw")
        capital = option(self.sc, f"{prefix}_candidate_gen_capital_per_kw") * 1000 * size
        rate, years = self.annual[network]
        return buses, size, annualized_cost(capital, rate, years)

    # --- the DC and FCS sets ---------------------------------------------------------------
    def dc_set(self, up_at_pcc=True):
        k = np.asarray(option(self.sc, "dc_mw_per_workload"), dtype=float)
        base = option(self.sc, "dc_baseline_mw")
        workload = base / k
        headroom = option(self.sc, "dc_headroom")
        capacity = workload * (1 + headroom)
        dc = gf.DataCenter.from_workload(
            [self.d_bus + 1, 5, 21],
            workload,
            k,
            capacity,
            cost_per_mwh=option(self.sc, "dc_cost_per_mwh"),
            networks=["D", "T", "T"],
            name="dc",
        )
        dc.beta_down_mw = headroom * base * np.ones(3)
        if not up_at_pcc:  # the DC at bus 2 may only go down (reverse order, see README)
            dc.beta_up_mw = dc.beta_up_mw * np.array([[0.0], [1.0], [1.0]])
        return dc

    def fcs_set(self):
        base = np.asarray(option(self.sc, "fcs_baseline_kw"), dtype=float) / 1000
        e = option(self.sc, "fcs_mwh_per_vehicle")
        flow = base / e
        return gf.FastChargingStation.from_traffic(
            [b - 1 for b in option(self.sc, "fcs_bus_numbers")],
            flow,
            e,
            option(self.sc, "fcs_capacity_factor") * flow,
            flexible_share=option(self.sc, "fcs_flexible_share"),
            cost_per_mwh=option(self.sc, "fcs_cost_per_mwh"),
            networks=["D"] * 3,
            name="fcs",
        )

    def dc_baselines(self):
        return option(self.sc, "dc_baseline_mw") * np.ones(3)

    def fcs_baselines(self):
        return np.asarray(option(self.sc, "fcs_baseline_kw"), dtype=float) / 1000


# --- models -----------------------------------------------------------------------------------
def _element_options(system):
    """Loads curtailable at the value of lost load; the RTS's fixed sgens may be curtailed."""
    return {
        "load": {"shed_cost_per_mwh": option(system.sc, "curtailment_cost_per_mwh")},
        "sgen_fixed": {"curtailable": True},
    }


FORMULATIONS = {"T": gf.DC, "D": gf.LinDistFlow}


def _network(system, name, net=None):
    """Network ``name`` ("T" or "D") with its candidates, load scale and curtailable loads."""
    net = copy.deepcopy(system.t_net if name == "T" else system.d_net) if net is None else net
    formulation = FORMULATIONS[name](candidates=system.line_candidates(name))
    return gf.Network(net, name, formulation=formulation, load_scale=system.factors,
                      net_elements=_element_options(system))  # fmt: skip


def _networks(system):
    return [_network(system, "T"), _network(system, "D")]


def add_candidate_gens(model, system, network):
    buses, size, cost = system.candidate_gens(network)
    op = option(system.sc, f"{network.lower()}_candidate_gen_cost_per_mwh")
    model.add(
        gf.Generator(buses, size, cost_per_mwh=op, investment=cost, name=f"new_{network}"),
        network=network,
    )


def add_regulation(model, system, mode, fixed_tau=None):
    dc, fcs = system.dc_set(), system.fcs_set()
    if mode == "exact":
        model.add(dc, network="T")
        model.add(fcs, network="D")
    elif mode == "aggregated":
        eq21 = gf.Node("eq21", gf.carriers.REGULATION)  # T's zone at the PCC meets D's scope
        model.add(
            gf.AggregatedFlex(sets=[dc, fcs], inside={"D": system.t_bus},
                              regulation_ports={system.t_bus: eq21}, name="vpp_T"),
            network="T",
        )  # fmt: skip
        model.add(
            gf.AggregatedFlex(sets=[system.dc_set(), system.fcs_set()],
                              regulation_ports={"scope": eq21}, name="vpp_D"),
            network="D",
        )  # fmt: skip
    else:  # "none" or "fixed": the loads at their baseline, or baseline minus a given regulation
        tau_dc, tau_fcs = (
            fixed_tau if fixed_tau is not None else (np.zeros((3, 3)), np.zeros((3, 3)))
        )
        dc_load = system.dc_baselines()[:, None] - tau_dc
        model.add(gf.Load(1, dc_load[0:1], name="dc_2"), network="D")
        model.add(gf.Load([5, 21], dc_load[1:], name="dc_T"), network="T")
        model.add(
            gf.Load(fcs.bus, system.fcs_baselines()[:, None] - tau_fcs, name="fcs"), network="D"
        )


def joint_model(system, mode, plan=None, fixed_tau=None):
    model = gf.Model(_networks(system), periods=system.blocks)
    model.add(
        gf.Boundary(
            "T",
            system.t_bus,
            "D",
            system.d_bus,
            name="pcc",
            price_per_mwh=option(system.sc, "purchase_price_per_mwh"),
        )
    )
    for network in ("T", "D"):
        add_candidate_gens(model, system, network)
    add_regulation(model, system, mode, fixed_tau)
    if plan is not None:  # every build decision held at the plan ({"T.built": ..., ...}): the
        model.fix(plan)  # plan's operation, optimised with the planning model's equations
    return model


def transmission_model(system, d_demand_mw, dc):
    """Transmission alone: the feeder as a load at the PCC, the DC set all in transmission."""
    model = gf.Model([_network(system, "T")], periods=system.blocks)
    model.add(gf.Load(system.t_bus, np.asarray(d_demand_mw).reshape(1, -1), name="feeder"))
    add_candidate_gens(model, system, "T")
    model.add(dc, network="T")
    return model


def distribution_model(system, dc2_mw, fcs):
    """Distribution alone: supply from its ext_grid at the purchase price."""
    coupled = gf.networks.CoupledTD(system.t_net, system.d_net, system.t_bus, system.d_bus)
    net = coupled.distribution_alone(option(system.sc, "purchase_price_per_mwh"))
    model = gf.Model([_network(system, "D", net)], periods=system.blocks)
    model.add(gf.Load(1, np.asarray(dc2_mw).reshape(1, -1), name="dc_2"), network="D")
    add_candidate_gens(model, system, "D")
    model.add(fcs, network="D")
    return model


def dc_in_transmission(system, up_at_pcc=True):
    dc = system.dc_set(up_at_pcc)
    dc.bus = np.array([system.t_bus, 5, 21])
    dc.networks = ["T", "T", "T"]
    return dc


def feeder_demand(system):
    """What the feeder draws at the PCC without DC and regulation (loads + FCS baselines)."""
    other = system.d_net.load.p_mw.sum() * system.factors
    return other + system.fcs_baselines().sum()


# --- reading results --------------------------------------------------------------------------
def plan_of(results, system):
    """Built candidates of one or two solved models (``results``: network -> Results)."""
    plan = Plan()
    for network, result in results.items():
        tables = (
            result.by_network.get(network, result.tables) if result.by_network else result.tables
        )
        cand = tables.get("res_candidate")
        if cand is not None:
            plan.built[(network, "line")] = list(zip(cand["index"], cand["built"], strict=True))
        gen = tables["res_gen"] if "res_gen" in tables else None
        name = f"new_{network}"
        labels = gen["built"].columns if gen is not None and "built" in gen else []
        plan.built[(network, "gen")] = [
            (label, int(gen["built"][label].iloc[0])) for label in labels if name in str(label)
        ]
    return plan


def network_of(model):
    """Owner name in the cost table -> "T" or "D" (the boundary's purchases are the feeder's)."""
    owners = {d.name: model.network_of(d) for d in model.devices}
    owners.update({name: name for name in model.networks})
    owners["pcc"] = "D"
    return owners


def cost_split(result, model):
    """F1 (transmission) and F2 (distribution) split into the paper's parts, $ per year."""
    costs = result.costs["cost"]
    owners = network_of(model)
    rows = {}
    for (owner, component), value in costs.items():
        part = COMPONENTS.get(component, component)
        key = ("F1" if owners.get(owner) == "T" else "F2", part)
        rows[key] = rows.get(key, 0.0) + float(value)
    table = pd.Series(rows).unstack(fill_value=0.0)
    table = table.reindex(
        columns=["investment", "operation", "curtailment", "regulation"], fill_value=0.0
    )
    table["total"] = table.sum(axis=1)
    return table


def regulations(result):
    """Member regulations (tau, 3 x 3) of the DC and FCS sets of an exact or staged result."""
    out = []
    for table, _name in (("res_data_center", "dc"), ("res_fcs", "fcs")):
        frame = result.tables[table]["regulation_down_mw"] if table in result.tables else None
        out.append(np.zeros((3, 3)) if frame is None else frame.to_numpy().T)
    return tuple(out)


def add_regulation_cost(split, system, taus):
    """The regulation cost of fixed member regulations (the fixed loads carry none)."""
    split = split.copy()
    for part, flex, tau in (("F1", system.dc_set(), taus[0]), ("F2", system.fcs_set(), taus[1])):
        alpha = np.broadcast_to(np.atleast_1d(flex.cost_per_mwh), (3,))
        split.loc[part, "regulation"] += float(
            alpha @ np.abs(tau) @ gf.TimeAxis(system.blocks).cost_hours
        )
    split["total"] = split[["investment", "operation", "curtailment", "regulation"]].sum(axis=1)
    return split


# --- the cases --------------------------------------------------------------------------------
def case_joint(system, mode, plan=None, fixed_tau=None):
    model = joint_model(system, mode, plan, fixed_tau)
    result = model.solve()
    return model, result


def case_individual(system, transmission_first=True):
    """Case 2: the two networks planned in sequence (the paper's Scenario 1, or the reverse)."""
    if transmission_first:
        t_model = transmission_model(system, feeder_demand(system), dc_in_transmission(system))
        t_result = t_model.solve()
        tau_dc = t_result.tables["res_data_center"]["regulation_down_mw"].to_numpy().T
        dc2 = system.dc_baselines()[0] - tau_dc[0]
        d_model = distribution_model(system, dc2, system.fcs_set())
        d_result = d_model.solve()
    else:
        d_model = distribution_model(system, np.full(3, system.dc_baselines()[0]), system.fcs_set())
        d_result = d_model.solve()
        imported = d_result.tables["res_ext_grid"]["p_mw"].to_numpy().sum(axis=1)
        feeder = imported - system.dc_baselines()[0]  # the DC at bus 2 is a set member here
        t_model = transmission_model(system, feeder, dc_in_transmission(system, up_at_pcc=False))
        t_result = t_model.solve()
        tau_dc = t_result.tables["res_data_center"]["regulation_down_mw"].to_numpy().T
    tau_fcs = d_result.tables["res_fcs"]["regulation_down_mw"].to_numpy().T
    split = pd.concat(
        [cost_split(t_result, t_model).loc[["F1"]], cost_split(d_result, d_model).loc[["F2"]]]
    )
    plan = plan_of({"T": t_result, "D": d_result}, system)
    decisions = {**t_result.plan, **d_result.plan}  # T.built, new_T.built, D.built, new_D.built
    return split, plan, decisions, (tau_dc, tau_fcs)


def run(scenario, out_dir):
    """All cases; prints the investments and the F1/F2 tables, writes CSVs to ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    system = System(scenario)
    splits, plans, decisions, joint_results = {}, {}, {}, {}
    for label, mode in (
        ("Case 1 (no regulation)", "none"),
        ("Case 3 (joint, aggregated)", "aggregated"),
        ("exact joint", "exact"),
    ):
        model, result = case_joint(system, mode)
        splits[label], plans[label] = (
            cost_split(result, model),
            plan_of({"T": result, "D": result}, system),
        )
        decisions[label] = result.plan
        joint_results[label] = (model, result)
    for label, first in (("Case 2 (T then D)", True), ("Case 2 reverse (D then T)", False)):
        splits[label], plans[label], decisions[label], taus = case_individual(system, first)
        model, result = case_joint(system, "fixed", decisions[label], taus)
        joint_results[f"{label}, evaluated jointly"] = (model, result)
        splits[f"{label}, evaluated jointly"] = add_regulation_cost(
            cost_split(result, model), system, taus
        )
    model, result = case_joint(system, "exact", decisions["Case 3 (joint, aggregated)"])
    joint_results["Case 3 plan, exact operation"] = (model, result)
    splits["Case 3 plan, exact operation"] = cost_split(result, model)
    return report(system, splits, plans, joint_results, out, start)


def report(system, splits, plans, joint_results, out, start):
    costs = pd.concat(splits, names=["case", "F"])
    investments = investment_table(plans)
    totals = costs["total"].groupby(level="case").sum()
    f2 = costs.xs("F2", level="F")
    change = {
        column: 100
        * (f2[column]["Case 3 (joint, aggregated)"] / f2[column]["Case 2 (T then D)"] - 1)
        for column in ("investment", "total")
    }
    ac = {label: ac_figures(result) for label, (_, result) in joint_results.items()}
    costs.to_csv(out / "costs.csv")
    investments.to_csv(out / "investments.csv")
    pd.DataFrame({(k, n): v for k, d in ac.items() for n, v in d.items()}).T.to_csv(
        out / "ac_validation.csv"
    )
    plot_investments(investments, costs, out / "investments.png")
    print_report(investments, costs, totals, change, ac)
    return {
        "totals_per_year": totals.round(0).to_dict(),
        "distribution_change_case3_vs_case2_percent": {
            k: round(float(v), 2) for k, v in change.items()
        },
        "paper_distribution_expansion_cost_change_percent": -8.0,
        "investments": investments.astype(int).to_dict(orient="index"),
        "ac_validation_of_cases": ac,
        "wall_time_s": {"study": time.perf_counter() - start},
    }


def plot_investments(investments, costs, file):
    """Paper Fig. 2: what each case builds, and its F1/F2 costs by part."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = list(investments.columns)
    built = investments.groupby(level=["network", "kind"]).sum()
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    x = np.arange(len(cases))
    for k, (key, row) in enumerate(built.iterrows()):
        axes[0].bar(x + 0.2 * (k - 1.5), row[cases], width=0.2, label=f"{key[0]} {key[1]}s")
    axes[0].set_xticks(x, [c.replace(" (", "\n(") for c in cases], fontsize=7)
    axes[0].set_title("Candidates built per case (paper Fig. 2)")
    axes[0].legend(fontsize=8)
    parts = ["investment", "operation", "curtailment", "regulation"]
    f2 = costs.xs("F2", level="F").reindex(cases)[parts] / 1e6
    bottom = np.zeros(len(cases))
    for part in parts:
        axes[1].bar(x, f2[part], bottom=bottom, label=part)
        bottom += f2[part].to_numpy()
    axes[1].set_xticks(x, [c.replace(" (", "\n(") for c in cases], fontsize=7)
    axes[1].set_title("Distribution cost F2 (M$ per year)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(file, dpi=110)
    plt.close(fig)


def investment_table(plans):
    """Built (1) or not (0) per candidate (rows) and case (columns): the paper's Fig. 2."""
    columns = {}
    for case, plan in plans.items():
        table = plan.table()
        columns[case] = table.set_index(["network", "kind", "candidate"])["built"]
    return pd.DataFrame(columns).fillna(0).astype(int)


def ac_figures(result):
    """AC validation of a case's operating dispatch in each network."""
    out = {}
    for network in ("T", "D"):
        if network not in result.nets:
            continue
        report = gf.validate_ac(result, network=network)
        s = report.summary
        out[network] = {
            "converged": f"{int(s.converged.sum())}/{len(s)}",
            "vm_pu": [round(float(s.vm_min_pu.min()), 4), round(float(s.vm_max_pu.max()), 4)],
            "max_loading_percent": round(float(s.max_loading_percent.max()), 1),
            "violations": len(report.violations),
        }
    return out


def print_report(investments, costs, totals, change, ac):
    with pd.option_context("display.width", 220, "display.max_columns", 20, "display.max_rows", 80):
        print("Investments (1 = built) per case (paper Fig. 2)")
        print(investments.to_string(), end="\n\n")
        print("Annualised costs, $ per year: F1 transmission, F2 distribution")
        print((costs / 1e6).round(3).to_string(), "(M$)", end="\n\n")
        print("Totals F1 + F2 (M$ per year)")
        print((totals / 1e6).round(3).to_string(), end="\n\n")
    print(
        f"Distribution, Case 3 vs Case 2: investment {change['investment']:+.1f} %, F2 total "
        f"{change['total']:+.1f} % (paper: expansion cost -8 %)"
    )
    print("AC validation of each case's operating dispatch:", ac)
