"""DC power flow: B-theta with per-branch flow variables (default), and a PTDF variant."""

import math

import cvxpy as cp
import numpy as np
import pandas as pd
import scipy.sparse.linalg as spla

from gridflex.formulations.base import Formulation, NetworkBuild


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
    """

    has_branch_flows = True

    def __init__(self, candidates=None, angle_limit_rad=math.pi):
        self.candidates = candidates
        self.angle_limit_rad = float(angle_limit_rad)

    def build(self, grid, p_inj, T, q_inj=None):
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
            extra["built"], more = _candidate_constraints(
                grid, theta, flow, cand, self.angle_limit_rad
            )
            cons += more
            extra["candidate_positions"] = cand
        return NetworkBuild(cons, balance, branch_flow_mw=flow, extra=extra)

    def cost_terms(self, build):
        if "built" not in build.extra:
            return {}
        cost = self.candidates.costs(len(build.extra["candidate_positions"]))
        return {"investment": cost @ build.extra["built"][:, 0]}

    def tables(self, build, grid):
        """``res_candidate``: one row per candidate branch with its build decision and cost."""
        if "built" not in build.extra:
            return {}
        pos = build.extra["candidate_positions"]
        return {
            "res_candidate": pd.DataFrame(
                {
                    "element": grid.branches.element[pos],
                    "index": grid.branches.element_index[pos],
                    "built": np.round(build.extra["built"].value[:, 0]).astype(int),
                    "cost": self.candidates.costs(len(pos)),
                }
            )
        }

    def bus_results(self, build, grid):
        return {"va_degree": np.rad2deg(build.extra["theta_rad"].value)}

    def __repr__(self):
        return f"DC(candidates={self.candidates!r})" if self.candidates else "DC()"


def _candidate_constraints(grid, theta, flow, cand, angle_limit):
    r"""Big-M B-theta for candidates: Ohm's law holds when built, flow is zero when not.

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
    built = cp.Variable((len(cand), 1), boolean=True, name="built")
    big_m = 2.0 * np.abs(b) * angle_limit
    rating = grid.branches.rating_mva[cand].reshape(-1, 1)
    bound = np.where(np.isfinite(rating), rating, big_m)
    ohm = flow[cand, :] - cp.multiply(b, A @ theta) - shift
    cons = [
        cp.abs(ohm) <= cp.multiply(big_m, 1 - built),
        cp.abs(flow[cand, :]) <= cp.multiply(bound, built),
        cp.abs(theta) <= angle_limit,
    ]
    return built, cons


class DCPTDF(Formulation):
    """DC power flow through shift factors: ``f = PTDF p_inj``, one balance per period.

    Same physics as :class:`DC` (tested against it); no angle variables. The PTDF matrix is
    dense (n_branch x n_bus), so the flow-limit block grows as n_branch * n_bus * T: use it for
    short horizons or few limited branches; :class:`DC` is the default. Only branches with a
    finite rating enter the problem. Nodal prices: ``lambda - PTDF^T (mu_up - mu_down)``.
    """

    has_branch_flows = True

    def build(self, grid, p_inj, T, q_inj=None):
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
    return [cp.abs(flow[limited, :]) <= bound]


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
