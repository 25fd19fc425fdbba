"""DC power flow: B-theta with per-branch flow variables (default), lazy line limits through
shift factors (``DC(lazy_limits=True)``), and a PTDF variant."""

import math

import cvxpy as cp
import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla

from gridflex.errors import InputError
from gridflex.formulations.base import Formulation, NetworkBuild
from gridflex.formulations.candidates import (
    candidate_cost_terms,
    candidate_decision,
    candidate_table,
)
from gridflex.solvers import CutBlock
from gridflex.timeaxis import TimeAxis


class DC(Formulation):
    """Linearised (DC) power flow in B-theta form, sparse and vectorised over time.

    Variables: bus angles ``theta`` (n_bus, T) in rad and branch flows ``f`` (n_branch, T) in MW.

    .. math::

        f = B_f \\theta + f^{shift}, \\quad A^T f - p^{inj} = 0, \\quad
        \\theta_{slack} = 0, \\quad |f_l| \\le \\bar S_l

    ``B_f = diag(sn_mva / (x tap)) A`` uses pandapower's own per-unit reactances and tap ratios
    (see :class:`~gridflex.grid.Grid`), so flows equal pandapower's ``rundcpp`` for equal
    injections. Branches whose rating is infinite get no limit. The balance dual is the nodal
    price (LMP). Per-branch flow variables let planning switch candidate branches later.

    **Lazy line limits** (``lazy_limits=True``): the same physics and the same optimum, found by
    adding only the limits that bind. The network enters through shift factors (PTDF) of its
    fixed topology: without limits it is one balance per period, and the flows
    ``f = PTDF p^{inj} + f^{shift}`` are expressions, not variables. :meth:`Model.solve` then
    solves, computes every flow, adds the limits ``|f_{l,t}| <= S_l`` of all violated
    (branch, period) pairs as one block of rows, and repeats until no limit is violated by more
    than ``lazy_tol_mw``. That solution satisfies every limit, so it is optimal for the full
    problem too (the relaxation's optimum is feasible). With HiGHS on an LP the rows are added to
    the live HiGHS model and the dual simplex restarts from the previous basis (see
    :func:`gridflex.solvers.solve_lazy`); ``result.solve_info`` reports iterations and rows
    added. Nodal prices are ``lambda_t - PTDF^T mu`` with ``mu`` the duals of the added rows
    (zero elsewhere). Needs one connected island with one angle reference and no candidates;
    the PTDF is dense (n_branch x n_bus).

    Parameters
    ----------
    candidates : CandidateBranches, optional
        Branches to build or not (B-theta with big-M; not with ``lazy_limits``).
    angle_limit_rad : float
        Angle bound for the candidates' big-M.
    lazy_limits : bool
        Add line limits only where violated, iteratively (see above).
    lazy_tol_mw : float
        A flow may exceed its rating by this much (MW) before its limit is added; the final
        solution satisfies every limit within it (exactness check).
    lazy_max_iterations : int
        Solves before giving up (raises :class:`~gridflex.errors.SolveError`).
    """

    has_branch_flows = True

    def __init__(
        self,
        candidates=None,
        angle_limit_rad=math.pi,
        *,
        lazy_limits=False,
        lazy_tol_mw=1e-6,
        lazy_max_iterations=100,
    ):
        self.candidates = candidates
        self.angle_limit_rad = float(angle_limit_rad)
        self.lazy_limits = bool(lazy_limits)
        self.lazy_tol_mw = float(lazy_tol_mw)
        self.lazy_max_iterations = int(lazy_max_iterations)
        if self.lazy_limits and candidates:
            raise InputError(
                "DC(lazy_limits=True) works on a fixed topology; candidate branches need "
                "DC(candidates=...) without lazy_limits"
            )
        if not (self.lazy_tol_mw >= 0 and self.lazy_max_iterations >= 1):
            raise InputError("DC: lazy_tol_mw must be >= 0 and lazy_max_iterations >= 1")

    def build(self, grid, p_inj, T, q_inj=None, time=None):
        if self.lazy_limits:
            return _build_lazy(grid, p_inj)
        theta = cp.Variable((grid.n_bus, T), name="theta_rad")
        flow = cp.Variable((grid.n_branch, T), name="flow_mw")
        cand = self.candidates.positions(grid) if self.candidates else np.array([], dtype=int)
        fixed = np.setdiff1d(np.arange(grid.n_branch), cand)
        shift = grid.dc_shift_flow_mw().reshape(-1, 1)
        cons = [flow[fixed, :] == (grid.dc_flow_matrix() @ theta + shift)[fixed, :]]
        balance = grid.incidence(in_service_only=False).T @ flow - p_inj == 0
        cons += [balance, theta[grid.slack_pos, :] == 0]
        cons += _flow_limits(flow, grid, fixed)
        extra = {"theta_rad": theta}
        if cand.size:
            extra |= candidate_decision(self.candidates, cand, time or TimeAxis(T))
            cons += extra["candidate_constraints"]
            cons += _candidate_constraints(
                grid, theta, flow, cand, self.angle_limit_rad, extra["built_available"]
            )
        return NetworkBuild(cons, balance, branch_flow_mw=flow, extra=extra)

    def cost_terms(self, build):
        return candidate_cost_terms(self.candidates, build) if self.candidates else {}

    def tables(self, build, grid):
        """``res_candidate``: one row per candidate branch with its build decision and cost."""
        return candidate_table(self.candidates, build, grid) if self.candidates else {}

    def bus_results(self, build, grid):
        if self.lazy_limits:
            p = np.asarray(build.extra["p_inj"].value) - build.extra["shift_injection_mw"]
            return {"va_degree": np.rad2deg(build.extra["angles"] @ p)}
        return {"va_degree": np.rad2deg(build.extra["theta_rad"].value)}

    def lazy_rows(self, build, grid):
        """A fresh :class:`LazyLimits` for one solve (None without ``lazy_limits``)."""
        if not self.lazy_limits:
            return None
        ex = build.extra
        ex["lazy"] = LazyLimits(grid, ex["ptdf"], ex["shift_mw"], ex["p_inj"], self.lazy_tol_mw)
        return ex["lazy"]

    def prices_per_mwh(self, build, grid, dt_h):
        if not self.lazy_limits or build.balance.dual_value is None:
            return super().prices_per_mwh(build, grid, dt_h)
        lam = np.asarray(build.balance.dual_value, dtype=float).reshape(1, -1)
        lazy = build.extra.get("lazy")
        mu = lazy.flow_multipliers() if lazy is not None else 0.0
        if mu is None:
            return None
        return (lam - build.extra["ptdf"].T @ mu) / dt_h

    def __repr__(self):
        if self.lazy_limits:
            return f"DC(lazy_limits=True, lazy_tol_mw={self.lazy_tol_mw:g})"
        return f"DC(candidates={self.candidates!r})" if self.candidates else "DC()"


def _build_lazy(grid, p_inj):
    """Shift-factor network without limits; :class:`LazyLimits` adds them when solving."""
    _check_one_island(grid)
    angles = _angle_matrix(grid)
    ptdf = np.asarray(grid.dc_flow_matrix() @ angles)
    ptdf[np.abs(ptdf) < 1e-12] = 0.0  # the rows and the flows use the same sparse entries
    f0 = grid.dc_shift_flow_mw()
    shift_injection = grid.incidence(in_service_only=True).T @ f0  # injections the shifters need
    shift = f0 - ptdf @ shift_injection
    balance = cp.sum(-p_inj, axis=0) == 0
    flow = ptdf @ p_inj + shift.reshape(-1, 1)
    extra = {
        "ptdf": ptdf,
        "angles": angles,
        "shift_mw": shift,
        "shift_injection_mw": shift_injection.reshape(-1, 1),
        "p_inj": p_inj,
    }
    return NetworkBuild([balance], balance, branch_flow_mw=flow, extra=extra)


def _check_one_island(grid):
    """Lazy limits use one balance per period: one island, one angle reference."""
    on = grid.branches.in_service
    A = grid.incidence(in_service_only=True)
    adjacency = (A[on].T @ A[on]).tocsr()
    used = grid.bus_in_service
    n_islands, _ = csgraph.connected_components(adjacency[used][:, used], directed=False)
    if n_islands != 1 or len(grid.slack_pos) != 1:
        raise InputError(
            f"DC(lazy_limits=True) needs one connected network with one angle reference; "
            f"this one has {n_islands} island(s) and {len(grid.slack_pos)} reference bus(es) "
            "(use DC() without lazy_limits)"
        )


def _angle_matrix(grid):
    """Dense ``X`` with angles ``theta = X @ p`` (rad, MW) for balanced injections ``p``.

    The reduced susceptance matrix (reference bus removed) is factorised once (sparse LU);
    out-of-service buses get zero rows and columns.
    """
    keep = np.setdiff1d(np.flatnonzero(grid.bus_in_service), grid.slack_pos)
    lu = spla.splu(grid.bbus()[keep][:, keep].tocsc())
    X = np.zeros((grid.n_bus, grid.n_bus))
    X[np.ix_(keep, keep)] = lu.solve(np.eye(len(keep)))
    return X


class LazyLimits:
    """The branch limits ``|f| <= S`` of one network, added to a solve only where violated.

    The source protocol of :func:`gridflex.solvers.solve_lazy`: ``expr`` (the nodal injections,
    (n_bus, T)), :meth:`cuts` and :meth:`check`. One instance lives for one solve; its blocks
    keep which (branch, period) pairs were added and, after the solve, their duals.
    """

    def __init__(self, grid, ptdf, shift_mw, p_inj, tol_mw):
        rating = grid.branches.rating_mva
        self.limited = np.flatnonzero(np.isfinite(rating) & grid.branches.in_service)
        self.ptdf, self.shift, self.rating, self.expr = ptdf, shift_mw, rating, p_inj
        self.tol = tol_mw
        self.n_bus, self.T = p_inj.shape
        self.added = np.zeros((len(rating), self.T), dtype=bool)
        self.blocks = []
        self.worst = 0.0

    def cuts(self, p_mw, whole=False):
        """A :class:`CutBlock` of the limits violated at injections ``p_mw`` (n_bus, T).

        Pairs already added are skipped. ``whole`` adds every period of a violated branch.
        """
        lim = self.limited
        flow = self.ptdf[lim] @ p_mw + self.shift[lim, None]
        excess = np.abs(flow) - self.rating[lim, None]
        self.worst = max(float(excess.max(initial=0.0)), 0.0)
        violated = excess > self.tol
        if whole:
            violated = np.broadcast_to(violated.any(axis=1, keepdims=True), violated.shape)
        new = violated & ~self.added[lim]
        if not new.any():
            return None
        i, t = np.nonzero(new)
        branch = lim[i]
        self.added[branch, t] = True
        S, f0 = self.rating[branch], self.shift[branch]
        block = CutBlock(self._rows(branch, t), -S - f0, S - f0, {"branch": branch, "period": t})
        self.blocks.append(block)
        return block

    def check(self):
        """Largest limit violation (MW, >= 0) at the last injections, and the tolerance."""
        return self.worst, self.tol

    def _rows(self, branch, period):
        """Sparse ``G`` with ``(G @ vec(p))_k = PTDF[branch_k] @ p[:, period_k]``."""
        k, bus = np.nonzero(self.ptdf[branch])
        return sp.csr_matrix(
            (self.ptdf[branch[k], bus], (k, bus + self.n_bus * period[k])),
            shape=(len(branch), self.n_bus * self.T),
        )

    def flow_multipliers(self):
        """Duals of the added limits as an (n_branch, T) array, or None without duals."""
        mu = np.zeros(self.added.shape)
        for block in self.blocks:  # one block per solve, not per period
            dual = block.multipliers()
            if dual is None:
                return None
            np.add.at(mu, (block.info["branch"], block.info["period"]), dual)
        return mu


def _candidate_constraints(grid, theta, flow, cand, angle_limit, built):
    r"""Big-M B-theta for candidates: Ohm's law holds when built (in service in the period,
    ``built`` (n_c, T)), flow is zero when not.

    .. math::

        |f_c - b_c (\theta_i - \theta_j) - f^{shift}_c| \le M_c (1 - y_c), \quad
        |f_c| \le \bar S_c y_c, \quad |\theta| \le \theta^{max}, \quad
        M_c = 2 b_c \theta^{max}

    (an unrated candidate uses ``M_c`` as its flow bound). Exact: with every angle within
    ``angle_limit`` the angle difference never exceeds ``2 angle_limit``.
    """
    b = grid.susceptance_mw_per_rad()[cand].reshape(-1, 1)
    A = grid.incidence(in_service_only=False)[cand]
    shift = -b * grid.branches.shift_rad[cand].reshape(-1, 1)
    big_m = 2.0 * np.abs(b) * angle_limit
    rating = grid.branches.rating_mva[cand].reshape(-1, 1)
    bound = np.where(np.isfinite(rating), rating, big_m)
    ohm = flow[cand, :] - cp.multiply(b, A @ theta) - shift
    cons = [
        cp.abs(ohm) <= cp.multiply(big_m, 1 - built),
        cp.abs(flow[cand, :]) <= cp.multiply(bound, built),
        cp.abs(theta) <= angle_limit,
    ]
    return cons


class DCPTDF(Formulation):
    """DC power flow through shift factors: ``f = PTDF p_inj``, one balance per period.

    Same physics as :class:`DC` (tested against it); no angle variables. The PTDF matrix is
    dense (n_branch x n_bus), so the flow-limit block grows as n_branch * n_bus * T: use it for
    short horizons or few limited branches; :class:`DC` is the default. Only branches with a
    finite rating enter the problem. Nodal prices: ``lambda - PTDF^T (mu_up - mu_down)``.
    """

    has_branch_flows = True

    def build(self, grid, p_inj, T, q_inj=None, time=None):
        ptdf = ptdf_matrix(grid)
        limited = np.flatnonzero(np.isfinite(grid.branches.rating_mva) & grid.branches.in_service)
        balance = cp.sum(-p_inj, axis=0) == 0
        flow = ptdf @ p_inj + _ptdf_shift_flow(grid, ptdf).reshape(-1, 1)
        rating = grid.branches.rating_mva[limited].reshape(-1, 1)
        up, down = flow[limited, :] <= rating, -flow[limited, :] <= rating
        extra = {"ptdf": ptdf, "limited": limited, "up": up, "down": down}
        return NetworkBuild([balance, up, down], balance, branch_flow_mw=flow, extra=extra)

    def prices_per_mwh(self, build, grid, dt_h):
        """LMPs: energy price minus the congestion components of the limited branches."""
        if build.balance.dual_value is None:
            return None
        lam = np.asarray(build.balance.dual_value) / dt_h
        ex = build.extra
        mu = (ex["up"].dual_value - ex["down"].dual_value) / dt_h
        return lam[None, :] - ex["ptdf"][ex["limited"], :].T @ mu


def _flow_limits(flow, grid, rows=None):
    """``|f| <= rating`` on the in-service rated branches among ``rows`` (default all)."""
    rating = grid.branches.rating_mva
    limited = np.flatnonzero(np.isfinite(rating) & grid.branches.in_service)
    if rows is not None:
        limited = np.intersect1d(limited, rows)
    if len(limited) == 0:
        return []
    bound = rating[limited].reshape(-1, 1)
    # Two linear rows rather than cp.abs: abs would add an epigraph variable per limit.
    return [flow[limited, :] <= bound, -flow[limited, :] <= bound]


def ptdf_matrix(grid):
    """Dense PTDF (n_branch x n_bus) of the in-service network, slack buses as reference.

    Solves the reduced sparse B system once per bus (sparse LU); out-of-service branches get
    zero rows.
    """
    Bbus = grid.bbus()
    keep = np.setdiff1d(np.arange(grid.n_bus), grid.slack_pos)
    lu = spla.splu(Bbus[keep][:, keep].tocsc())
    X = np.zeros((grid.n_bus, grid.n_bus))
    X[np.ix_(keep, keep)] = lu.solve(np.eye(len(keep)))
    return np.asarray(grid.dc_flow_matrix() @ X)


def _ptdf_shift_flow(grid, ptdf):
    """Flows caused by phase shifters alone (zero injections)."""
    f0 = grid.dc_shift_flow_mw()
    if not np.any(f0):
        return np.zeros(grid.n_branch)
    A = grid.incidence(in_service_only=True)
    return f0 - ptdf @ (A.T @ f0)
