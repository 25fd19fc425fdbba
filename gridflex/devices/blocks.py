"""Building blocks shared by devices, written once and vectorised over units and time.

- :func:`storage_dynamics`: energy state of any storage-like device (battery, ice tank, EV fleet
  energy, heat storage, delay-tolerant workload queue).
- :func:`ramp_limits`: bounds on period-to-period changes.
- :func:`window_sum_matrix`: sliding-window sums (minimum up/down times).
- :func:`convex_pwl_epigraph`: convex piecewise-linear costs as an LP epigraph.
"""

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from gridflex.errors import InputError
from gridflex.parameters import Custom


def storage_dynamics(energy, inflow, retention=1.0):
    """Energy balance of storage-like states.

    .. math:: e_{i,t+1} = r_{i} \\, e_{i,t} + \\mathrm{inflow}_{i,t}

    Parameters
    ----------
    energy : cvxpy.Variable
        States of shape ``(n, T + 1)``; column 0 is the initial state.
    inflow : cvxpy.Expression
        Net energy added during each period, shape ``(n, T)`` (already times ``dt_h``).
    retention : float or numpy.ndarray
        Share of the stored energy kept over one period, scalar, ``(n, 1)`` or ``(n, T)``.
    """
    kept = energy[:, :-1] if np.all(retention == 1.0) else cp.multiply(retention, energy[:, :-1])
    return energy[:, 1:] == kept + inflow


def ramp_limits(p, up, down, p_initial=None, extra_up=None, extra_down=None):
    """Ramp constraints ``-down - extra_down <= p[t] - p[t-1] <= up + extra_up``.

    Parameters
    ----------
    p : cvxpy.Expression
        Power, shape ``(n, T)``.
    up, down : numpy.ndarray
        Largest change per period (MW per period), shape ``(n,)``; ``inf`` means no limit.
    p_initial : numpy.ndarray, optional
        Power in the period before the horizon, shape ``(n,)``; without it the first period is
        free.
    extra_up, extra_down : cvxpy.Expression, optional
        Extra room, shape ``(n, T)`` (e.g. start-up and shut-down allowances).
    """
    rows = np.flatnonzero(np.isfinite(up) | np.isfinite(down))
    first = 1 if p_initial is None else 0
    if rows.size == 0 or p.shape[1] <= first:
        return []
    previous = p[:, :-1] if p_initial is None else cp.hstack([p_initial.reshape(-1, 1), p[:, :-1]])
    delta = (p[:, first:] - previous)[rows, :]
    rhs_up = _finite(up)[rows].reshape(-1, 1)
    rhs_down = _finite(down)[rows].reshape(-1, 1)
    if extra_up is not None:
        rhs_up = rhs_up + extra_up[rows, first:]
        rhs_down = rhs_down + extra_down[rows, first:]
    return [delta <= rhs_up, -delta <= rhs_down]


def _finite(limit, big=1e9):
    """Replace infinite limits by a large number (rows with one finite side still need both)."""
    return np.where(np.isfinite(limit), limit, big)


def window_sum_matrix(widths, T):
    """Sparse matrix ``W`` with ``(W @ vec(x))[i*T + t] = sum_{k < widths[i]} x[i, t - k]``.

    ``vec`` is row-major (unit-major), as ``cp.vec(x, order="C")``. Windows are cut at the start
    of the horizon.
    """
    widths = np.asarray(widths, dtype=int)
    n = len(widths)
    k = np.arange(max(int(widths.max(initial=1)), 1))
    i, kk, t = np.meshgrid(np.arange(n), k, np.arange(T), indexing="ij")
    keep = (kk < widths[i]) & (t - kk >= 0)
    rows = (i * T + t)[keep]
    cols = (i * T + t - kk)[keep]
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
    try:
        units = [np.asarray(segs, dtype=float) for segs in value]
    except (TypeError, ValueError):
        raise param.error(owner, "must be a list of segment lists per unit", value) from None
    for i, segs in enumerate(units):
        if segs.ndim != 2 or segs.shape[1] != 3 or not len(segs) or not np.isfinite(segs).all():
            raise param.error(
                owner, "must list finite (p_from_mw, p_to_mw, cost_per_mwh) triples", value,
                f"unit {i}",
            )  # fmt: skip
    return [segs.tolist() for segs in units]


def _normalize_segments(value, owner, param, n, periods):
    if len(value) != n:
        raise InputError(
            f"{owner}: 'pwl_cost' needs one segment list per unit ({n}), got {len(value)}"
        )
    return value
