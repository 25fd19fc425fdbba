"""AC power flow of every period of an optimized dispatch, and the report a planner reads.

``report = gf.validate_ac(result)`` writes the dispatch into a copy of the net
(:class:`~gridflex.validation.writer.DispatchWriter`), runs pandapower's Newton-Raphson power
flow for each period, and returns an :class:`ACReport`. A period that does not converge is
reported as such (``converged = False`` with the reason), never dropped, and its AC results are
NaN; the other periods are still validated.
"""

from dataclasses import dataclass

import numpy as np
import pandapower as pp
import pandas as pd

from gridflex.results import stack_frames
from gridflex.validation.checks import balance_mismatch_mw, violations_of_period
from gridflex.validation.writer import DispatchWriter

BUS_COLUMNS = ("vm_pu", "va_degree", "p_mw", "q_mvar")
BRANCH_COLUMNS = {
    "line": ("p_from_mw", "q_from_mvar", "p_to_mw", "q_to_mvar", "pl_mw", "loading_percent"),
    "trafo": ("p_hv_mw", "q_hv_mvar", "p_lv_mw", "q_lv_mvar", "pl_mw", "loading_percent"),
}


@dataclass
class ACReport:
    """AC power-flow results of a dispatch, period by period.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per period: ``converged``, ``reason``, ``vm_min_pu``, ``vm_max_pu``,
        ``max_loading_percent`` (pandapower's), ``max_limit_percent`` (share of the branch's
        ``max_loading_percent``; above 100 = overload), ``losses_mw``, ``slack_p_mw``,
        ``model_slack_p_mw``,
        ``slack_deviation_mw``, ``balance_mismatch_mw``, ``n_violations``.
    violations : pandas.DataFrame
        One row per (period, element, kind): ``period``, ``element`` (bus/line/trafo),
        ``index``, ``kind``, ``value``, ``limit``.
    res_bus, res_line, res_trafo : pandas.DataFrame
        AC results per period, same two-level layout and column names as the model's results.
    gap : pandas.DataFrame
        Model vs AC per period: ``max_dvm_pu`` (where the model has voltages), ``max_dp_mw`` on
        branches, ``dlosses_mw`` (AC minus model losses).
    """

    summary: pd.DataFrame
    violations: pd.DataFrame
    res_bus: pd.DataFrame
    res_line: pd.DataFrame | None
    res_trafo: pd.DataFrame | None
    gap: pd.DataFrame
    vm_limits_pu: tuple = (np.nan, np.nan)  # tightest min_vm_pu / max_vm_pu of the net's buses

    @property
    def all_converged(self):
        return bool(self.summary["converged"].all())

    def __repr__(self):
        s = self.summary
        return (
            f"ACReport({len(s)} periods, {int(s.converged.sum())} converged, "
            f"{len(self.violations)} violations, vm {s.vm_min_pu.min():.4f}.."
            f"{s.vm_max_pu.max():.4f} pu, max loading {s.max_loading_percent.max():.1f} %)"
        )


def validate_ac(result, network=None, **runpp_options):
    """Run an AC power flow for every period of ``result`` and report violations and gaps.

    Parameters
    ----------
    result : gridflex.Results
        An optimal solution (``model.solve()``).
    network : str, optional
        Which network of a several-network model (default: the first).
    **runpp_options
        Passed to ``pandapower.runpp`` (default ``algorithm="nr"``, ``max_iteration=30``).
    """
    name = network or next(iter(result.nets))
    writer = DispatchWriter(result.nets[name], result.injections, name, len(result.periods))
    options = {"algorithm": "nr", "max_iteration": 30, "numba": True} | runpp_options
    rows, arrays, violations = [], _empty_arrays(writer.net, len(result.periods)), []
    for t in range(len(result.periods)):
        writer.write(t)
        row, found = _run_period(writer, t, arrays, options)
        rows.append(row)
        violations += [(result.periods[t], *v) for v in found]
    return _report(result, name, writer, rows, arrays, violations)


def _run_period(writer, t, arrays, options):
    net = writer.net
    try:
        pp.runpp(net, **options)
    except (pp.LoadflowNotConverged, pp.powerflow.LoadflowNotConverged) as exc:
        return {"converged": False, "reason": f"{type(exc).__name__}: {exc}"[:200]}, []
    _store(net, t, arrays)
    found = violations_of_period(net)
    losses = float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum())
    slack = float(net.res_ext_grid.p_mw.sum())
    return {
        "converged": True,
        "reason": "",
        "vm_min_pu": net.res_bus.vm_pu.min(),
        "vm_max_pu": net.res_bus.vm_pu.max(),
        "max_loading_percent": _max_loading(net),
        "max_limit_percent": _max_loading(net, of_limit=True),
        "losses_mw": losses,
        "slack_p_mw": slack,
        "model_slack_p_mw": writer.model_slack_p_mw[t],
        "slack_deviation_mw": slack - writer.model_slack_p_mw[t],
        "balance_mismatch_mw": balance_mismatch_mw(net),
        "n_violations": len(found),
    }, found


def _max_loading(net, of_limit=False):
    """Largest branch loading (pandapower's), or its share of ``max_loading_percent``."""
    values = []
    for element in ("line", "trafo"):
        loading = net[f"res_{element}"].loading_percent.to_numpy(float)
        if of_limit and len(loading):
            limit = net[element].get("max_loading_percent")
            limit = 100.0 if limit is None else limit.astype(float).fillna(100.0).to_numpy()
            loading = 100.0 * loading / limit
        values.append(loading)
    values = np.concatenate(values)
    return float(np.nanmax(values)) if values.size else np.nan


def _empty_arrays(net, T):
    out = {("bus", c): np.full((T, len(net.bus)), np.nan) for c in BUS_COLUMNS}
    for element, cols in BRANCH_COLUMNS.items():
        out.update({(element, c): np.full((T, len(net[element])), np.nan) for c in cols})
    return out


def _store(net, t, arrays):
    for (element, column), values in arrays.items():
        values[t] = net[f"res_{element}"][column].to_numpy()


def _report(result, name, writer, rows, arrays, violations):
    periods = result.periods
    summary = pd.DataFrame(rows, index=periods)
    for col in (
        "vm_min_pu",
        "vm_max_pu",
        "max_loading_percent",
        "max_limit_percent",
        "losses_mw",
        "slack_p_mw",
        "model_slack_p_mw",
        "slack_deviation_mw",
        "balance_mismatch_mw",
        "n_violations",
    ):
        if col not in summary:
            summary[col] = np.nan
    summary["model_slack_p_mw"] = writer.model_slack_p_mw
    tables = {e: _frame(arrays, e, writer.net, periods) for e in ("bus", "line", "trafo")}
    viol = pd.DataFrame(
        violations, columns=["period", "element", "index", "kind", "value", "limit"]
    )
    model_tables = result.by_network.get(name, result.tables)
    gap = _gap(model_tables, tables, summary, periods)
    limits = tuple(
        float(writer.net.bus[c].max() if c == "min_vm_pu" else writer.net.bus[c].min())
        if c in writer.net.bus
        else np.nan
        for c in ("min_vm_pu", "max_vm_pu")
    )
    return ACReport(summary, viol, tables["bus"], tables["line"], tables["trafo"], gap, limits)


def _frame(arrays, element, net, periods):
    if len(net[element]) == 0:
        return None
    labels = pd.Index(net[element].index, name="element")
    cols = BUS_COLUMNS if element == "bus" else BRANCH_COLUMNS[element]
    return stack_frames(
        {c: pd.DataFrame(arrays[(element, c)], index=periods, columns=labels) for c in cols}
    )


def _gap(model, ac, summary, periods):
    gap = pd.DataFrame(index=periods)
    if "vm_pu" in model["res_bus"]:
        diff = ac["bus"]["vm_pu"] - model["res_bus"]["vm_pu"].reindex(
            columns=ac["bus"]["vm_pu"].columns
        )
        gap["max_dvm_pu"] = diff.abs().max(axis=1)
    dp = []
    for element, col in (("line", "p_from_mw"), ("trafo", "p_hv_mw")):
        if ac[element] is not None and f"res_{element}" in model:
            ours = model[f"res_{element}"][col]
            dp.append((ac[element][col] - ours.reindex(columns=ac[element][col].columns)).abs())
    gap["max_dp_mw"] = pd.concat(dp, axis=1).max(axis=1) if dp else np.nan
    model_losses = -model["res_bus"]["p_mw"].sum(axis=1)  # sum of injections = model losses
    gap["dlosses_mw"] = summary["losses_mw"] - model_losses
    return gap
