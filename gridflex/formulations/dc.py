"""DC power flow: B-theta with per-branch flow variables (default), and a PTDF variant."""

import cvxpy as cp
import numpy as np
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

    def build(self, grid, p_inj, T, q_inj=None):
        A = grid.incidence(in_service_only=True)
        theta = cp.Variable((grid.n_bus, T), name="theta_rad")
        flow = cp.Variable((grid.n_branch, T), name="flow_mw")
        shift = grid.dc_shift_flow_mw().reshape(-1, 1)
        cons = [flow == grid.dc_flow_matrix() @ theta + shift]
        balance = A.T @ flow - p_inj == 0
        cons += [balance, theta[grid.slack_pos, :] == 0]
        cons += _flow_limits(flow, grid)
        return NetworkBuild(cons, balance, branch_flow_mw=flow, extra={"theta_rad": theta})

    def bus_results(self, build, grid):
        return {"va_degree": np.rad2deg(build.extra["theta_rad"].value)}


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


def _flow_limits(flow, grid):
    rating = grid.branches.rating_mva
    limited = np.flatnonzero(np.isfinite(rating) & grid.branches.in_service)
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
