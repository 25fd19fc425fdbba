"""AC power flow of every period of an optimized dispatch, and the report a planner reads.

``report = gf.validate_ac(result)`` writes the dispatch into a copy of the net
(:class:`~gridflex.validation.writer.DispatchWriter`), runs pandapower's Newton-Raphson power
flow for each period, and returns an :class:`ACReport`. A period that does not converge is
reported as such (``converged = False`` with the reason), never dropped, and its AC results are
NaN; the other periods are still validated.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridflex.errors import InputError
from gridflex.tables import stack_frames
from gridflex.validation.checks import find_violations, summarize
from gridflex.validation.periods import (
    BRANCH_COLUMNS,
    BUS_COLUMNS,
    PeriodResults,
    solve_in_batch,
    solve_with_runpp,
)
from gridflex.validation.writer import DispatchWriter


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


def validate_ac(result, network=None, method="auto", periods=None, **runpp_options):
    """Run an AC power flow for every period of ``result`` and report violations and gaps.

    Parameters
    ----------
    result : gridflex.Results
        An optimal solution (``model.solve()``).
    network : str, optional
        Which network of a several-network model (default: the first).
    method : {"auto", "batch", "runpp"}
        ``"runpp"``: ``pp.runpp`` for each period (the reference, ~10-30 periods/s on case118).
        ``"batch"``: all periods at once on pandapower's matrices
        (:mod:`gridflex.validation.batch`, same equations and answers as ``runpp``); periods it
        leaves unsolved, and nets it does not support (voltage-dependent loads, merged buses,
        HVDC), go to ``runpp``. ``"auto"`` (default) is ``"batch"``.
    periods : slice or array of int, optional
        Positions of the periods to validate (default: all), e.g. ``slice(0, 96)``.
    **runpp_options
        Passed to ``pandapower.runpp`` (default ``algorithm="nr"``, ``max_iteration=30``).
    """
    if method not in ("auto", "batch", "runpp"):
        raise InputError(f"validate_ac: method must be 'auto', 'batch' or 'runpp', not {method!r}")
    name = network or next(iter(result.nets))
    positions = _positions(result.periods, periods)
    writer = DispatchWriter(
        result.nets[name], result.injections, name, len(result.periods),
        bus_vm_pu=_model_voltages(result, name), built=result.built_branches.get(name),
    )  # fmt: skip
    writer.select(positions)
    options = {"algorithm": "nr", "max_iteration": 30, "numba": True} | runpp_options
    results = PeriodResults(writer.net, len(positions))
    left = np.arange(len(positions))
    if method != "runpp":
        batch_left = solve_in_batch(writer, results, options)
        left = left if batch_left is None else batch_left
    solve_with_runpp(writer, results, left, options)
    return _report(result, name, writer, results, positions)


def _model_voltages(result, name):
    """The model's bus voltages (periods x bus) where its formulation has them, else None."""
    bus = result.by_network.get(name, result.tables).get("res_bus")
    if bus is None or "vm_pu" not in bus.columns.get_level_values(0):
        return None
    return bus["vm_pu"]


def _positions(all_periods, periods):
    positions = np.arange(len(all_periods))
    if periods is None:
        return positions
    try:
        chosen = positions[periods]
    except (IndexError, TypeError) as exc:
        raise InputError(
            f"validate_ac: periods must be a slice or positions within 0..{len(positions) - 1}"
            f" ({exc})"
        ) from None
    if np.ndim(chosen) != 1 or len(chosen) == 0:
        raise InputError("validate_ac: periods selects no period")
    return chosen


def _report(result, name, writer, results, positions):
    periods, net = result.periods[positions], writer.net
    tables = {e: _frame(results.arrays, e, net, periods) for e in ("bus", "line", "trafo")}
    violations = find_violations(net, results.arrays, periods)
    summary = summarize(net, results, writer.model_slack_p_mw, periods)
    summary["n_violations"] = (
        violations.groupby("period").size().reindex(periods, fill_value=0).to_numpy()
    )
    tables_of_network = result.by_network.get(name, result.tables)
    model_tables = {
        key: table.iloc[positions] if len(table) == len(result.periods) else table
        for key, table in tables_of_network.items()
    }
    gap = _gap(model_tables, tables, summary, periods)
    limits = tuple(
        float(net.bus[c].max() if c == "min_vm_pu" else net.bus[c].min())
        if c in net.bus
        else np.nan
        for c in ("min_vm_pu", "max_vm_pu")
    )
    return ACReport(
        summary, violations, tables["bus"], tables["line"], tables["trafo"], gap, limits
    )


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
