"""Checks on the AC results of all periods: limit violations, summary and conservation of power.

In the spirit of pandapower's ``pandapower/test/consistency_checks.py``: the sum of all bus
injections equals the sum of branch losses (a power flow that does not balance is not valid).
All checks work on the result arrays (T, n) of every period at once.
"""

import numpy as np
import pandas as pd

VIOLATION_COLUMNS = ["period", "element", "index", "kind", "value", "limit"]
# A limit is violated beyond 1e-6 of it (1e-6 pu of voltage, 1e-4 percent of loading): the
# optimisers stop at ~1e-8 relative accuracy, so a dispatch at a binding 0.93 pu limit reads
# 0.9299999 in AC, and a line at its rating 100.000003 %.
TOLERANCE = 1e-6
LOADING_TOLERANCE_PERCENT = 1e-4


def find_violations(net, arrays, periods):
    """One row per (period, element, kind) where the AC results break a limit of the net."""
    frames = [_bus_violations(net, arrays, periods)]
    frames += [_branch_violations(net, e, arrays, periods) for e in ("line", "trafo")]
    found = pd.concat([f for f in frames if len(f)] or [frames[0]], ignore_index=True)
    order = np.lexsort((found["index"].to_numpy(), found["rank"].to_numpy(), found["t"]))
    return found.iloc[order][VIOLATION_COLUMNS].reset_index(drop=True)


def _rows(periods, t, element, labels, kind, value, limit, rank):
    return pd.DataFrame(
        {
            "period": periods[t] if len(t) else pd.Index([], dtype=periods.dtype),
            "element": element,
            "index": labels,
            "kind": kind,
            "value": value,
            "limit": limit,
            "rank": rank,
            "t": t,
        }
    )


def _bus_violations(net, arrays, periods):
    vm = arrays[("bus", "vm_pu")]
    frames = []
    for rank, (kind, column, sign) in enumerate(
        (("vm_below_min", "min_vm_pu", -1.0), ("vm_above_max", "max_vm_pu", 1.0))
    ):
        if column not in net.bus:
            continue
        limit = net.bus[column].to_numpy(float)
        with np.errstate(invalid="ignore"):
            t, i = np.nonzero(sign * (vm - limit) > TOLERANCE)
        labels = net.bus.index.to_numpy()[i]
        frames.append(_rows(periods, t, "bus", labels, kind, vm[t, i], limit[i], rank))
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else _rows(periods, [], "bus", [], "", [], [], 0)
    )


def _branch_violations(net, element, arrays, periods):
    loading = arrays[(element, "loading_percent")]
    limit = branch_limits_percent(net, element)
    with np.errstate(invalid="ignore"):
        t, i = np.nonzero(loading > limit + LOADING_TOLERANCE_PERCENT)
    labels = net[element].index.to_numpy()[i]
    rank = 2 if element == "line" else 3
    return _rows(periods, t, element, labels, "overload", loading[t, i], limit[i], rank)


def branch_limits_percent(net, element):
    """``max_loading_percent`` of each line or trafo (100 where the net has none)."""
    table = net[element]
    if "max_loading_percent" not in table:
        return np.full(len(table), 100.0)
    return table["max_loading_percent"].astype(float).fillna(100.0).to_numpy()


def summarize(net, results, model_slack_p_mw, periods):
    """One row per period: convergence, voltage band, loadings, losses, slack, balance."""
    arrays = results.arrays
    vm = arrays[("bus", "vm_pu")]
    loading = _branch_stack(arrays, "loading_percent")
    share = _branch_stack(arrays, "loading_percent", net)
    losses = np.nansum(_branch_stack(arrays, "pl_mw"), axis=1)
    losses[~results.converged] = np.nan
    balance = -arrays[("bus", "p_mw")].sum(axis=1) - losses
    summary = pd.DataFrame(
        {
            "converged": results.converged,
            "reason": results.reason,
            "method": results.method,
            "vm_min_pu": _nan_reduce(np.nanmin, vm),
            "vm_max_pu": _nan_reduce(np.nanmax, vm),
            "max_loading_percent": _nan_reduce(np.nanmax, loading),
            "max_limit_percent": _nan_reduce(np.nanmax, share),
            "losses_mw": losses,
            "slack_p_mw": results.slack_p_mw,
            "model_slack_p_mw": model_slack_p_mw,
            "slack_deviation_mw": results.slack_p_mw - model_slack_p_mw,
            "balance_mismatch_mw": balance,
        },
        index=periods,
    )
    return summary


def _branch_stack(arrays, column, net=None):
    parts = []
    for element in ("line", "trafo"):
        values = arrays[(element, column)]
        if net is not None:
            values = 100.0 * values / branch_limits_percent(net, element)
        parts.append(values)
    return np.hstack(parts)


def _nan_reduce(reduce, values):
    """Row-wise ``reduce`` that gives NaN (without a warning) for all-NaN rows."""
    out = np.full(values.shape[0], np.nan)
    has = ~np.isnan(values).all(axis=1) if values.shape[1] else np.zeros(len(out), dtype=bool)
    if has.any():  # a net without branches has no loading at all
        out[has] = reduce(values[has], axis=1)
    return out
