"""Building blocks shared by devices, written once and vectorised over units and time.

- :func:`storage_dynamics`: energy state of any storage-like device (battery, ice tank, EV fleet
  energy, heat storage, delay-tolerant workload queue).
- :func:`store_limits` / :func:`store_edges`: a store with charge and discharge efficiencies,
  a loss per hour, a band and initial/final values (``Storage``, ``CarrierStore``).
- :func:`ramp_limits`: bounds on period-to-period changes.
- :func:`window_sum_matrix`: sliding-window sums (minimum up/down times).
- :func:`previous_columns`: a quantity now and in the period before, inside blocks.

Every family that looks at the period before respects the blocks of the time axis
(:mod:`gridflex.timeaxis`): nothing links the last period of one block to the next block.
- :func:`convex_pwl_epigraph`: convex piecewise-linear costs as an LP epigraph.
"""

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from gridflex.errors import InputError
from gridflex.parameters import Custom, holds_bool
from gridflex.profiles import as_column, check_order


def storage_dynamics(time, energy, inflow, retention=1.0, initial=None):
    """Energy balance of storage-like states, linked only inside each block of ``time``.

    .. math:: e_{i,t} = r_{i,t} \\, e_{i,t^-} + \\mathrm{inflow}_{i,t}

    with ``t^-`` the period before ``t`` in its block (:meth:`TimeAxis.links`): the block's last
    period for the first period of a cyclic block, or ``initial`` (the state before an open
    block) otherwise.

    Parameters
    ----------
    time : gridflex.timeaxis.TimeAxis
    energy : cvxpy.Expression
        State at the end of each period, shape ``(n, T)``.
    inflow : cvxpy.Expression or numpy.ndarray
        Net energy added during each period, shape ``(n, T)`` (already times ``dt_h``).
    retention : float or numpy.ndarray
        Share of the stored energy kept over one period: scalar, ``(n, 1)`` or ``(n, T)``.
    initial : numpy.ndarray
        State before each open block, ``(n,)``; required when ``time`` has an open block.

    Returns
    -------
    list of cvxpy constraints
    """
    if time.open_first.size and initial is None:
        raise ValueError("storage_dynamics: an open block needs the initial state")
    now, before, cols = previous_columns(time, energy, initial)
    if cols.size == 0:
        return []
    return [now == _kept(retention, before, cols) + columns(inflow, cols)]


def store_edges(v, owner, low, high, initial, final):
    """Default an open block's initial value to half of ``high`` and the final one to the
    initial, then check ``low <= initial, final <= high`` (``v`` holds the values under the
    parameter names given)."""
    if getattr(v, initial) is None:
        setattr(v, initial, getattr(v, high) / 2)
    if getattr(v, final) is None:
        setattr(v, final, getattr(v, initial))
    check_order(getattr(v, low), getattr(v, high), owner=owner, low_name=low, high_name=high)
    for k in (initial, final):
        check_order(getattr(v, low), getattr(v, k), owner=owner, low_name=low, high_name=k)
        check_order(getattr(v, k), getattr(v, high), owner=owner, low_name=k, high_name=high)


def store_limits(time, energy, charge, discharge, eta_charge, eta_discharge, loss_per_h,
                 low, high, initial, final):  # fmt: skip
    """A store's dynamics and band: ``e_t = r e_{t-} + dt (eta_ch c - d / eta_dis)`` with
    ``r = (1 - loss_per_h) ** dt`` (:func:`storage_dynamics`), ``low <= e <= high``, and an
    open block ending at or above ``final``. Parameters per unit are arrays (n,)."""
    col = as_column
    gained = cp.multiply(col(eta_charge), charge)
    inflow = time.dt_h * (gained - cp.multiply(col(1.0 / np.asarray(eta_discharge)), discharge))
    retention = col((1.0 - np.asarray(loss_per_h)) ** time.dt_h)
    cons = storage_dynamics(time, energy, inflow, retention, initial=initial)
    cons += [energy >= col(low), energy <= col(high)]
    if time.open_last.size:  # open blocks end at or above the final value
        cons.append(energy[:, time.open_last] >= col(final))
    return cons


def _kept(retention, energy, cols):
    """``retention * energy`` on the periods ``cols`` (retention scalar, (n, 1) or (n, T))."""
    r = np.asarray(retention, dtype=float)
    if np.all(r == 1.0):
        return energy
    if r.ndim == 2 and r.shape[1] > 1:
        r = r[:, cols]
    return cp.multiply(r, energy)


def columns(x, cols):
    """Columns ``cols`` of ``x`` (n, T): a slice when they are a contiguous run (cheaper)."""
    cols = np.asarray(cols, dtype=int)
    if cols.size and np.array_equal(cols, np.arange(cols[0], cols[0] + cols.size)):
        return x[:, int(cols[0]) : int(cols[0]) + cols.size]
    return x[:, cols]


def previous_columns(time, x, initial=None):
    """A quantity now and in the period before, inside the blocks of ``time``.

    Returns ``(x_now, x_before, cols)``: ``x_now = x[:, cols]`` and ``x_before`` (n, len(cols))
    for every period ``cols`` (in increasing order) that has a period before it in its block
    (the block's last period for a cyclic block's first) and, with ``initial`` (n,), for the
    first periods of open blocks, whose period before is ``initial``. For the differences
    ``x_t - x_{t^-}`` of storage, ramps and start-ups.
    """
    t, prev = time.links()
    first = time.open_first if initial is not None else np.zeros(0, dtype=int)
    cols = np.concatenate([t, first])
    if cols.size == 0:
        return None, None, cols
    pieces = [columns(x, prev)] if t.size else []
    if first.size:
        if isinstance(initial, cp.Expression):  # a Parameter (re-solvable initial state)
            pieces.append(
                cp.reshape(initial, (initial.size, 1), order="F") @ np.ones((1, first.size))
            )
        else:
            pieces.append(
                np.reshape(np.asarray(initial, dtype=float), (-1, 1)) * np.ones((1, first.size))
            )
    before = pieces[0] if len(pieces) == 1 else cp.hstack(pieces)
    order = np.argsort(cols, kind="stable")
    if not np.array_equal(order, np.arange(cols.size)):
        before, cols = before[:, order], cols[order]
    return columns(x, cols), before, cols


def ramp_limits(time, p, up, down, p_initial=None, extra_up=None, extra_down=None):
    """Ramp constraints ``-down - extra_down <= p[t] - p[t^-] <= up + extra_up`` inside blocks.

    Parameters
    ----------
    time : gridflex.timeaxis.TimeAxis
        ``t^-`` is the period before ``t`` in its block (the last one for a cyclic block's
        first period).
    p : cvxpy.Expression
        Power, shape ``(n, T)``.
    up, down : numpy.ndarray
        Largest change per period (MW per period), shape ``(n,)``; ``inf`` means no limit.
    p_initial : numpy.ndarray, optional
        Power before each open block, shape ``(n,)``; without it an open block's first period
        is free.
    extra_up, extra_down : cvxpy.Expression, optional
        Extra room, shape ``(n, T)`` (e.g. start-up and shut-down allowances).
    """
    rows = np.flatnonzero(np.isfinite(up) | np.isfinite(down))
    if rows.size == 0:
        return []
    now, before, cols = previous_columns(time, p, p_initial)
    if cols.size == 0:
        return []
    delta = (now - before)[rows, :]
    rhs_up = _finite(up)[rows].reshape(-1, 1)
    rhs_down = _finite(down)[rows].reshape(-1, 1)
    if extra_up is not None:
        rhs_up = rhs_up + columns(extra_up, cols)[rows, :]
        rhs_down = rhs_down + columns(extra_down, cols)[rows, :]
    return [delta <= rhs_up, -delta <= rhs_down]


def _finite(limit, big=1e9):
    """Replace infinite limits by a large number (rows with one finite side still need both)."""
    return np.where(np.isfinite(limit), limit, big)


def window_sum_matrix(widths, time):
    """Sparse matrix ``W`` with ``(W @ vec(x))[i*T + t] = sum_{k < widths[i]} x[i, t - k]``.

    ``vec`` is row-major (unit-major), as ``cp.vec(x, order="C")``. ``t - k`` stays inside the
    block of ``t``: windows are cut at the start of an open block and wrap around a cyclic one
    (a window never longer than its block).
    """
    widths, T = np.asarray(widths, dtype=int), time.T
    n = len(widths)
    k = np.arange(max(int(widths.max(initial=1)), 1))
    i, kk, t = np.meshgrid(np.arange(n), k, np.arange(T), indexing="ij")
    block = time.block_of[t]
    start, length = time.starts[block], time.lengths[block]
    position = t - start - kk
    cyclic = time.cyclic[block]
    keep = (kk < widths[i]) & ((position >= 0) | cyclic) & (kk < length)
    source = start + np.mod(position, length)
    rows, cols = (i * T + t)[keep], (i * T + source)[keep]
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n * T, n * T))


def convex_pwl_epigraph(p, segments, owner):
    """Epigraph ``z >= slope_k * p + intercept_k`` of convex piecewise-linear costs.

    Parameters
    ----------
    p : cvxpy.Expression
        Power, shape ``(n, T)``.
    segments : list of list of (p_from_mw, p_to_mw, cost_per_mwh)
        pandapower ``pwl_cost`` points per unit (cost per MW and hour on each segment).
    owner : str
        Device name for errors.

    Returns
    -------
    z : cvxpy.Variable
        Hourly cost rate, shape ``(n, T)``.
    constraints : list
    """
    slopes, intercepts = _pwl_lines(segments, owner)
    z = cp.Variable(p.shape, name="pwl_cost_rate")
    cons = [
        z >= cp.multiply(slopes[:, [k]], p) + intercepts[:, [k]] for k in range(slopes.shape[1])
    ]
    return z, cons


def _pwl_lines(segments, owner):
    """Slopes and intercepts (n, K) of each unit's segments, padded by repeating the last."""
    K = max(len(s) for s in segments)
    slopes, intercepts = np.zeros((len(segments), K)), np.zeros((len(segments), K))
    for i, segs in enumerate(segments):  # a loop over input rows, not over the model
        segs = np.asarray(segs, dtype=float)
        if np.any(np.diff(segs[:, 2]) < -1e-12):
            raise InputError(
                f"{owner}: piecewise-linear cost of unit {i} is not convex (slopes "
                f"{segs[:, 2].tolist()} must not decrease); it would need binaries"
            )
        cost_at_start = np.r_[0.0, np.cumsum((segs[:, 1] - segs[:, 0]) * segs[:, 2])[:-1]]
        b = cost_at_start - segs[:, 2] * segs[:, 0]
        slopes[i] = np.r_[segs[:, 2], np.repeat(segs[-1, 2], K - len(segs))]
        intercepts[i] = np.r_[b, np.repeat(b[-1], K - len(segs))]
    return slopes, intercepts


class Segments(Custom):
    """Declaration of piecewise-linear costs: per unit, a list of ``(p_from_mw, p_to_mw,
    cost_per_mwh)`` segments (pandapower's ``pwl_cost`` points)."""

    def __init__(self, doc="per unit, (p_from_mw, p_to_mw, cost_per_mwh) segments"):
        super().__init__("segments", _screen_segments, _normalize_segments, optional=True, doc=doc)


def _screen_segments(value, owner, param):
    if isinstance(value, str | bytes) or holds_bool(value):
        raise param.error(owner, "must be a list of segment lists per unit (numbers)", value)
    units = [np.asarray(segs, dtype=float) for segs in value]
    for i, segs in enumerate(units):
        if segs.ndim != 2 or segs.shape[1] != 3 or not len(segs) or not np.isfinite(segs).all():
            raise param.error(
                owner, "must list finite (p_from_mw, p_to_mw, cost_per_mwh) triples", value,
                f"unit {i}",
            )  # fmt: skip
        if np.any(segs[:, 0] > segs[:, 1]):
            raise param.error(owner, "has a segment with p_from_mw > p_to_mw", value, f"unit {i}")
    return tuple(tuple(map(tuple, segs.tolist())) for segs in units)  # read-only


def _normalize_segments(value, owner, param, n, periods):
    if len(value) != n:
        raise InputError(
            f"{owner}: 'pwl_cost' needs one segment list per unit ({n}), got {len(value)}"
        )
    return value
