"""Robust counterparts of linear constraints with uncertain coefficients.

A row ``a^T x <= b`` whose coefficients lie in ``a_j = abar_j + ahat_j z_j`` with the
uncertainty ``z`` in

* a **box**: ``|z_j| <= 1`` for every ``j`` (every coefficient at its worst at once), or
* a **budget** (Bertsimas and Sim 2004): ``|z_j| <= 1`` and ``sum_j |z_j| <= Gamma`` (at most
  ``Gamma`` coefficients at their worst, one of them possibly part way),

holds for every ``z`` exactly when its counterpart holds (rows are independent: each has its own
``z``):

.. math::

    \\text{box:}\\quad \\bar a^T x + \\hat a^T |x| \\le b

    \\text{budget:}\\quad \\bar a^T x + \\Gamma p + \\textstyle\\sum_j q_j \\le b,\\quad
    p + q_j \\ge \\hat a_j |x_j|,\\quad p, q \\ge 0

(the budget form is the LP dual of the inner maximisation over ``z``). ``|x|`` is an epigraph
variable, or ``x`` itself where ``x >= 0`` is known. Both are linear: an LP stays an LP.

Seed 002's wind output (eq. 12, notes-002) is the box case with one uncertain coefficient per
row: ``p <= rho P`` with ``rho in [rho* (1 - Gamma eps), rho* (1 + Gamma eps)]`` holds for all
``rho`` exactly when ``p <= (1 - Gamma eps) rho* P`` (:func:`worst_case_availability`).
"""

import cvxpy as cp
import numpy as np

from gridflex.errors import InputError


def robust_le(nominal, deviation, x, rhs, *, budget=None, x_nonneg=False, name="robust"):
    """Constraints making ``A x <= b`` hold for every ``A`` in the uncertainty set.

    Parameters
    ----------
    nominal, deviation : array (m, n)
        ``abar`` and ``ahat >= 0`` of each row (a coefficient with ``ahat = 0`` is certain).
    x : cvxpy expression (n,)
    rhs : array (m,)
    budget : float, optional
        ``Gamma`` in ``[0, n]``: at most this many coefficients per row at their worst (the
        Bertsimas-Sim set). None (default): the box, every coefficient at its worst.
    x_nonneg : bool
        ``x >= 0`` is known (then ``|x| = x``, no epigraph variable).

    Returns
    -------
    list of cvxpy constraints
    """
    abar, ahat, b = _checked(nominal, deviation, rhs, x, budget, name)
    size = x.shape[0]
    if x_nonneg:
        magnitude, cons = x, []
    else:
        magnitude = cp.Variable(size, nonneg=True, name=f"{name}_abs_x")
        cons = [magnitude >= x, magnitude >= -x]
    if budget is None:  # the box: every coefficient at its worst
        return [*cons, abar @ x + ahat @ magnitude <= b]
    m = abar.shape[0]
    p = cp.Variable(m, nonneg=True, name=f"{name}_p")
    q = cp.Variable((m, size), nonneg=True, name=f"{name}_q")
    worst = cp.multiply(ahat, _rows(magnitude, m))  # ahat_ij |x_j|
    return [
        *cons,
        abar @ x + budget * p + cp.sum(q, axis=1) <= b,
        q + cp.reshape(p, (m, 1), order="C") @ np.ones((1, size)) >= worst,
    ]


def _rows(vector, m):
    """``vector`` (n,) repeated as m rows, (m, n)."""
    return np.ones((m, 1)) @ cp.reshape(vector, (1, vector.shape[0]), order="C")


def _checked(nominal, deviation, rhs, x, budget, name):
    abar = np.atleast_2d(np.asarray(nominal, dtype=float))
    ahat = np.atleast_2d(np.asarray(deviation, dtype=float))
    b = np.atleast_1d(np.asarray(rhs, dtype=float))
    if x.ndim != 1:
        raise InputError(f"{name}: x must be a vector, got shape {x.shape}")
    if abar.shape != ahat.shape or abar.shape[1] != x.shape[0] or b.shape != (abar.shape[0],):
        raise InputError(
            f"{name}: shapes do not fit: nominal {abar.shape}, deviation {ahat.shape}, "
            f"x {x.shape}, rhs {b.shape}"
        )
    if not (np.isfinite(abar).all() and np.isfinite(ahat).all() and np.isfinite(b).all()):
        raise InputError(f"{name}: coefficients and right-hand sides must be finite")
    if (ahat < 0).any():
        raise InputError(f"{name}: deviations must be >= 0 (the set is abar +/- deviation)")
    if budget is not None and not 0 <= budget <= abar.shape[1]:
        raise InputError(
            f"{name}: the budget Gamma must lie in [0, {abar.shape[1]}] (the number of "
            f"coefficients per row), got {budget}"
        )
    return abar, ahat, b


def worst_case_availability(forecast, epsilon, gamma=1.0):
    """The availability every output limit must respect when it may fall to
    ``forecast (1 - gamma epsilon)`` (seed 002 eq. 12's box, its exact counterpart).

    Parameters
    ----------
    forecast : array
        ``rho*``, per unit of capacity (>= 0).
    epsilon : float
        Relative half-width of the box (seed 002: 0.1).
    gamma : float
        Scales the box, in ``[0, 1 / epsilon]`` (the availability may not go below zero).
    """
    rho = np.asarray(forecast, dtype=float)
    if epsilon <= 0 or not np.isfinite(epsilon):
        raise InputError(f"robust availability: epsilon must be > 0, got {epsilon}")
    if not 0 <= gamma <= 1 / epsilon:
        raise InputError(
            f"robust availability: Gamma must lie in [0, 1/epsilon] = [0, {1 / epsilon:g}], "
            f"got {gamma}"
        )
    if (rho < 0).any() or not np.isfinite(rho).all():
        raise InputError("robust availability: the forecast must be finite and >= 0")
    return (1.0 - gamma * epsilon) * rho
