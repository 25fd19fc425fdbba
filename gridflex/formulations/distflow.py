"""Branch-flow (DistFlow) formulations of radial networks: LinDistFlow and SOC DistFlow.

The branch-flow model of Baran & Wu (1989) in the convex relaxation of Farivar & Low (2013), on
the radial tree of :func:`gridflex.formulations.radial.radial_tree`. Every edge ``e`` runs from
its parent bus ``i`` (nearer the slack) to its child bus ``j``; per unit on ``grid.base_mva``:

.. math::

    v_i / \\tau_{i}^2 - v_j / \\tau_{j}^2 = 2 (r_e P_e + x_e Q_e) - (r_e^2 + x_e^2)\\, l_e

    \\sum_{e: i(e)=b} P_e - \\sum_{e: j(e)=b} (P_e - r_e l_e) - p^{inj}_b = 0, \\quad
    \\text{likewise } Q \\text{ with } x_e

    P_e^2 + Q_e^2 \\le (v_i / \\tau_i^2)\\, l_e, \\qquad l_e \\le \\bar I_e^2, \\qquad
    \\underline V_b^2 \\le v_b \\le \\overline V_b^2, \\qquad v_{slack} = V_{set}^2

with ``v = |V|^2``, ``l = |I|^2`` (series current), ``P, Q`` the power sent at the parent end and
``tau`` the off-nominal ratio at the end that carries it (1 at the other end and for lines).
:class:`LinDistFlow` drops ``l`` (no losses; linear, an LP with linear costs).
See ``docs/distflow.md`` for what is approximated and the errors measured against ``runpp``.
"""

import math
import warnings

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from gridflex.errors import InputError
from gridflex.formulations.base import Formulation, NetworkBuild, net_shunts
from gridflex.formulations.candidates import (
    candidate_cost_terms,
    candidate_decision,
    candidate_table,
)
from gridflex.formulations.distflow_candidates import candidate_flow_from_mw, candidate_model
from gridflex.formulations.radial import edge_rating_pu, radial_tree
from gridflex.timeaxis import TimeAxis

SHUNT_WARN_SHARE = 1e-3
"""Ignored line charging / trafo magnetising power above this share of the base warns."""


class _BranchFlow(Formulation):
    """Shared DistFlow machinery; subclasses choose losses and branch limits.

    Parameters
    ----------
    vm_min_pu, vm_max_pu : float or array (n_bus,), optional
        Voltage magnitude limits. ``None`` (default): ``net.bus.min_vm_pu``/``max_vm_pu`` where
        the column exists (NaN: no limit), else none. ``-inf``/``inf``: no limit. The slack
        bus voltage is fixed at its set point and not limited.
    """

    reactive = True
    has_branch_flows = True
    losses = False

    def __init__(self, vm_min_pu=None, vm_max_pu=None):
        self.vm_min_pu, self.vm_max_pu = vm_min_pu, vm_max_pu

    def __repr__(self):
        return f"{type(self).__name__}(vm_min_pu={self.vm_min_pu}, vm_max_pu={self.vm_max_pu})"

    def build(self, grid, p_inj, T, q_inj=None, time=None):
        """Return the :class:`NetworkBuild` (see the module docstring for the equations).

        ``extra`` holds the tree (``"tree"``), the per-unit variables ``"P"``, ``"Q"``
        (n_edge, T), ``"v"`` (n_bus, T), ``"l"`` (n_edge, T; zero for LinDistFlow), the
        parent-side squared voltage ``"w"`` (n_edge, T), the reactive balance ``"q_balance"``
        and the branch-limit constraints ``"limits"``.
        """
        if q_inj is None:
            raise InputError(f"{type(self).__name__}: needs reactive injections (q_inj)")
        _refuse_trafo3w(grid, type(self).__name__)
        tree = radial_tree(grid)
        warn_ignored_shunts(grid)
        x = self._variables(grid, tree, T)
        p_cand, q_cand, cand_cons, cand_extra = self._candidates(grid, tree, x, time or TimeAxis(T))
        p_sh, q_sh = bus_shunts(grid, x["v"])
        balance, q_balance = _balances(
            grid,
            tree,
            x,
            p_inj - grid.base_mva * p_cand - p_sh,
            q_inj - grid.base_mva * q_cand - q_sh,
        )
        limits = self._branch_limits(grid, tree, x)
        cons = [balance, q_balance, *_voltage_drop(tree, x), *limits, *cand_cons]
        cons += self._voltage_limits(grid, tree, x["v"])
        cons += self._cone(x)
        hours = (time or TimeAxis(T)).cost_hours
        extra = dict(x, tree=tree, q_balance=q_balance, limits=limits, cost_hours=hours,
                     base_mva=grid.base_mva, **cand_extra)  # fmt: skip
        flow = _branch_flow_from_mw(grid, tree, x)
        if cand_extra:
            flow = flow + candidate_flow_from_mw(grid, cand_extra, T)
        return NetworkBuild(cons, balance, flow, extra)

    def _candidates(self, grid, tree, x, time):
        """Candidate-branch terms ``(p, q, constraints, extra)``; none by default."""
        return 0.0, 0.0, [], {}

    def _variables(self, grid, tree, T):
        """Per-unit variables; ``w = a_p * (parent voltage)`` is the sending-end ``v/tau^2``."""
        v = cp.Variable((grid.n_bus, T), name="v_pu2")
        shape = (tree.n_edge, T)
        l_sq = cp.Variable(shape, nonneg=True, name="l_pu2") if self.losses else None
        a_par, _ = _ratio_weights(tree)
        return {
            "P": cp.Variable(shape, name="p_branch_pu"),
            "Q": cp.Variable(shape, name="q_branch_pu"),
            "v": v,
            "l": l_sq if l_sq is not None else cp.Constant(np.zeros(shape)),
            "w": sp.diags(a_par) @ tree.parent_matrix(grid.n_bus) @ v,
        }

    def _cone(self, x):
        """The relaxed ``P^2 + Q^2 <= w l`` (none without losses)."""
        return []

    def _branch_limits(self, grid, tree, x):
        """Constraints limiting the edge flows; each subclass chooses its form."""
        raise NotImplementedError

    def _voltage_limits(self, grid, tree, v):
        """``v_b = V_set^2`` at the slack; ``Vmin^2 <= v_b <= Vmax^2`` at the other tree buses."""
        cons = [v[tree.root, :] == slack_vm_pu(grid) ** 2]
        vmin, vmax = voltage_limits(grid, self.vm_min_pu, self.vm_max_pu)
        others = tree.child
        for bound, sense in ((vmin, -1.0), (vmax, 1.0)):
            rows = others[np.isfinite(bound[others])]
            if rows.size:
                cons.append(sense * v[rows, :] <= sense * bound[rows].reshape(-1, 1) ** 2)
        return cons

    voltage_shunts = True

    def shunt_draw(self, build, grid, T):
        """Each shunt's draw ``(p, q) v`` at its bus's solved ``v`` (n_sh, T)."""
        shunts, v = net_shunts(grid), np.asarray(build.extra["v"].value, dtype=float)
        at_bus = v[shunts.positions]
        return shunts.p_mw[:, None] * at_bus, shunts.q_mvar[:, None] * at_bus

    def bus_results(self, build, grid):
        """``vm_pu`` (n_bus, T): ``sqrt(v)``, NaN at buses outside the tree."""
        tree = build.extra["tree"]
        vm = np.full(build.extra["v"].shape, np.nan)
        vm[tree.buses] = np.sqrt(np.maximum(build.extra["v"].value[tree.buses], 0.0))
        return {"vm_pu": vm}

    def losses_mw(self, build, grid):
        """Active losses per period (T,) in MW: ``base * sum_e r_e l_e`` (zero for LinDistFlow)."""
        tree, l_sq = build.extra["tree"], np.asarray(build.extra["l"].value)
        return grid.base_mva * (tree.r_pu @ l_sq)

    def branch_results(self, build, grid):
        """Per-branch arrays (n_branch, T) in ``grid.branches`` order, like ``net.res_line``.

        ``p_from_mw``, ``q_from_mvar``, ``p_to_mw``, ``q_to_mvar`` (power into the branch at each
        end), ``pl_mw``, ``ql_mvar`` (losses) and ``i_ka`` (series current, to-bus voltage
        level). Out-of-service branches get zeros.
        """
        ex = build.extra
        values = {k: np.asarray(ex[k].value) for k in ("P", "Q", "l")}
        ends = _branch_end_maps(grid, ex["tree"])
        l_branch = np.asarray(ends.pop("l_branch")["l"] @ values["l"])
        out = {
            name: grid.base_mva * sum(np.asarray(m @ values[var]) for var, m in maps.items())
            for name, maps in ends.items()
        }
        vn_kv = grid.bus_vn_kv[grid.branches.to_pos].reshape(-1, 1)
        out["i_ka"] = np.sqrt(np.maximum(l_branch, 0.0)) * grid.base_mva / (math.sqrt(3) * vn_kv)
        return out


class LinDistFlow(_BranchFlow):
    """Linearised DistFlow (Baran & Wu): no losses, linear voltage drop; an LP.

    .. math::

        v_i / \\tau_i^2 - v_j / \\tau_j^2 = 2 (r_e P_e + x_e Q_e), \\qquad
        A^T P - p^{inj} = 0, \\qquad A^T Q - q^{inj} = 0

    Branch limit: the apparent power ``|P_e + jQ_e| <= S_e`` is replaced by the regular
    ``polygon_sides``-gon *inscribed* in that circle (``|P cos θ_k + Q sin θ_k| <= S cos(π/N)``,
    ``θ_k = 2πk/N``), so a feasible flow never exceeds the rating and at most
    ``1 - cos(π/N)`` (3.4 % for N = 12) of it is lost. ``S_e`` is the rating (``rating_mva``)
    of the branch; for parallel branches the edge limit is the smallest ``S_k / |c_k|``.

    Parameters
    ----------
    vm_min_pu, vm_max_pu : float or array (n_bus,), optional
        Voltage limits (default: from ``net.bus``; see :class:`_BranchFlow`).
    polygon_sides : int
        Even number of sides (>= 4) of the apparent-power polygon.
    """

    def __init__(self, vm_min_pu=None, vm_max_pu=None, polygon_sides=12, candidates=None):
        super().__init__(vm_min_pu, vm_max_pu)
        self.candidates = candidates
        if int(polygon_sides) != polygon_sides or polygon_sides < 4 or polygon_sides % 2:
            raise InputError(
                f"LinDistFlow: polygon_sides must be an even integer >= 4, got {polygon_sides!r}"
            )
        self.polygon_sides = int(polygon_sides)

    def _candidates(self, grid, tree, x, time):
        """Reinforcement candidates (see :mod:`gridflex.formulations.distflow_candidates`)."""
        if not self.candidates:
            return super()._candidates(grid, tree, x, time)
        positions = self.candidates.positions(grid)
        decision = candidate_decision(self.candidates, positions, time)
        p, q, cons, extra = candidate_model(
            grid, tree, x, positions, self.polygon_sides, decision["built_available"]
        )
        return p, q, cons + decision["candidate_constraints"], extra | decision

    def cost_terms(self, build):
        return candidate_cost_terms(self.candidates, build) if self.candidates else {}

    def tables(self, build, grid):
        return candidate_table(self.candidates, build, grid) if self.candidates else {}

    def branch_results(self, build, grid):
        """As :class:`_BranchFlow`, plus the (lossless) flows of built candidates."""
        out = super().branch_results(build, grid)
        if self.candidates:
            T = out["p_from_mw"].shape[1]
            p = np.asarray(candidate_flow_from_mw(grid, build.extra, T).value)
            q = np.asarray(candidate_flow_from_mw(grid, build.extra, T, "Q_candidate").value)
            out["p_from_mw"] = out["p_from_mw"] + p
            out["p_to_mw"] = out["p_to_mw"] - p
            out["q_from_mvar"] = out["q_from_mvar"] + q
            out["q_to_mvar"] = out["q_to_mvar"] - q
        return out

    def _branch_limits(self, grid, tree, x):
        """``|cos θ_k P + sin θ_k Q| <= S cos(π/N)`` for ``k < N/2`` on limited edges."""
        s_max = edge_rating_pu(grid, tree)
        rows = np.flatnonzero(np.isfinite(s_max))
        if rows.size == 0:
            return []
        n_dir = self.polygon_sides // 2
        theta = 2.0 * np.pi * np.arange(n_dir) / self.polygon_sides
        pick = sp.csr_matrix(
            (np.ones(rows.size), (np.arange(rows.size), rows)), shape=(rows.size, tree.n_edge)
        )
        cos_m = sp.kron(np.cos(theta).reshape(-1, 1), pick, format="csr")
        sin_m = sp.kron(np.sin(theta).reshape(-1, 1), pick, format="csr")
        bound = np.tile(s_max[rows] * np.cos(np.pi / self.polygon_sides), n_dir)
        return [cp.abs(cos_m @ x["P"] + sin_m @ x["Q"]) <= bound.reshape(-1, 1)]


class SOCDistFlow(_BranchFlow):
    """DistFlow with losses, second-order-cone relaxed (Farivar & Low); a SOCP.

    .. math::

        P_e^2 + Q_e^2 \\le w_e l_e \\iff
        \\big\\| (2 P_e,\\ 2 Q_e,\\ w_e - l_e) \\big\\|_2 \\le w_e + l_e, \\qquad
        l_e \\le \\bar I_e^2

    with ``w_e = v_i / tau_i^2`` the sending-end squared voltage. ``bar I_e`` is the rating
    (``rating_mva / base_mva``: the current at the rating and 1 pu voltage); for parallel
    branches the smallest ``bar I_k / |c_k|``. The relaxation is exact (equality at the
    optimum) when the objective strictly increases with losses, e.g. a positive import price
    and no upper voltage limit binding; check :meth:`relaxation_gap` after each solve.

    Parameters
    ----------
    vm_min_pu, vm_max_pu : float or array (n_bus,), optional
        Voltage limits (see :class:`_BranchFlow`).
    loss_price_per_mwh : float
        An extra price on the losses ``sum_e r_e l_e`` (currency per MWh, weighted by the
        periods' cost hours like every operating cost; 0 by default). Where a binding lower
        voltage limit or surplus power makes inflating ``l`` pay (a higher ``l`` raises the
        downstream voltage in the voltage-drop equation, and dumps power that cannot be
        exported), the relaxation is not exact; a price above what a unit of such inflation
        saves removes the incentive. It is a cost in the objective (reported as
        ``("<network>", "loss_price")``): state it.
    """

    losses = True

    def __init__(self, vm_min_pu=None, vm_max_pu=None, loss_price_per_mwh=0.0):
        super().__init__(vm_min_pu, vm_max_pu)
        price = loss_price_per_mwh
        if (
            isinstance(price, bool)
            or not isinstance(price, int | float)
            or not (np.isfinite(price) and price >= 0)
        ):
            raise InputError(
                f"SOCDistFlow: loss_price_per_mwh must be a finite number >= 0, got {price!r}"
            )
        self.loss_price_per_mwh = float(price)

    def cost_terms(self, build):
        """``loss_price``: the extra price on losses, when one is given."""
        if not self.loss_price_per_mwh:
            return {}
        ex = build.extra
        losses_mw = ex["base_mva"] * (sp.diags(ex["tree"].r_pu) @ ex["l"])
        hours = np.asarray(ex["cost_hours"], dtype=float)
        return {"loss_price": self.loss_price_per_mwh * cp.sum(losses_mw @ hours)}

    def _cone(self, x):
        """One vectorised cone per (edge, period): columns of a (3, n_edge * T) matrix."""
        P, Q, w, l_sq = x["P"], x["Q"], x["w"], x["l"]
        stacked = cp.vstack(
            [cp.vec(2 * P, order="F"), cp.vec(2 * Q, order="F"), cp.vec(w - l_sq, order="F")]
        )
        return [cp.SOC(cp.vec(w + l_sq, order="F"), stacked, axis=0)]

    def _branch_limits(self, grid, tree, x):
        """``l_e <= (S_e / base)^2`` on edges with a finite rating."""
        i_max = edge_rating_pu(grid, tree)
        rows = np.flatnonzero(np.isfinite(i_max))
        if rows.size == 0:
            return []
        return [x["l"][rows, :] <= (i_max[rows] ** 2).reshape(-1, 1)]

    def relaxation_gaps(self, build):
        """``w_e l_e - P_e^2 - Q_e^2`` per edge and period (n_edge, T), per unit squared."""
        ex = build.extra
        P, Q, w, l_sq = (np.asarray(ex[k].value) for k in ("P", "Q", "w", "l"))
        return w * l_sq - P**2 - Q**2

    def relaxation_gap(self, build):
        """Largest gap ``max_{e,t} (w_e l_e - P_e^2 - Q_e^2)`` (pu^2); ~0 means exact."""
        gaps = self.relaxation_gaps(build)
        return float(gaps.max()) if gaps.size else 0.0

    def bus_results(self, build, grid):
        """``vm_pu`` and ``soc_gap_pu`` (the gap of the edge feeding each bus; 0 at the root)."""
        out = super().bus_results(build, grid)
        tree = build.extra["tree"]
        gap = np.zeros_like(out["vm_pu"])
        gap[tree.child] = self.relaxation_gaps(build)
        out["soc_gap_pu"] = gap
        return out


def _ratio_weights(tree):
    """Weights ``1/tau^2`` of the parent and child voltages of every edge (n_edge,) each."""
    inv = 1.0 / tree.tap**2
    return np.where(tree.tap_at_parent, inv, 1.0), np.where(tree.tap_at_parent, 1.0, inv)


def _balances(grid, tree, x, p_inj, q_inj):
    """Active and reactive balances in MW / Mvar, written ``withdrawal - supply == 0``.

    .. math:: S_{base} \\big(A^T P + C^T (r \\circ l)\\big) - p^{inj} = 0

    with ``A = parent - child`` selection matrices (n_edge x n_bus) and ``C`` the child one.
    """
    par, chi = tree.parent_matrix(grid.n_bus), tree.child_matrix(grid.n_bus)
    inc_t, chi_t = (par - chi).T.tocsr(), chi.T.tocsr()
    base = grid.base_mva
    loss_p = sp.diags(tree.r_pu) @ x["l"]
    loss_q = sp.diags(tree.x_pu) @ x["l"]
    balance = base * (inc_t @ x["P"] + chi_t @ loss_p) - p_inj == 0
    q_balance = base * (inc_t @ x["Q"] + chi_t @ loss_q) - q_inj == 0
    return balance, q_balance


def _voltage_drop(tree, x):
    """``w_e - v_j / tau_j^2 = 2 (r P + x Q) - |z|^2 l`` for every edge and period."""
    n_bus = x["v"].shape[0]
    _, a_chi = _ratio_weights(tree)
    recv = sp.diags(a_chi) @ tree.child_matrix(n_bus) @ x["v"]
    drop = 2 * (sp.diags(tree.r_pu) @ x["P"] + sp.diags(tree.x_pu) @ x["Q"])
    z2 = tree.r_pu**2 + tree.x_pu**2
    return [x["w"] - recv == drop - sp.diags(z2) @ x["l"]]


def _branch_end_maps(grid, tree):
    """Sparse maps from the edge variables (P, Q, l) to per-branch quantities.

    Branch ``k`` of edge ``e`` with share ``c_k = a_k + j b_k`` sends ``P_k = a_k P - b_k Q``,
    ``Q_k = b_k P + a_k Q`` at the parent end, carries ``l_k = |c_k|^2 l`` and loses
    ``r_k l_k + j x_k l_k``; its child end takes in ``-(S_k - loss_k)``. The from-end is the
    parent end unless the branch is reversed. Returns ``{quantity: {variable: matrix}}``.
    """
    c, rev = tree.share, tree.reversed
    br = grid.branches
    a, b, c2 = c.real, c.imag, np.abs(c) ** 2
    s_from, s_to = np.where(rev, -1.0, 1.0), np.where(rev, 1.0, -1.0)
    m = tree.branch_matrix

    def end(sign, lossy):
        return {
            "p": {"P": m(sign * a), "Q": m(-sign * b), "l": m(lossy * br.r_pu * c2)},
            "q": {"P": m(sign * b), "Q": m(sign * a), "l": m(lossy * br.x_pu * c2)},
        }

    fr, to = end(s_from, rev.astype(float)), end(s_to, (~rev).astype(float))
    return {
        "p_from_mw": fr["p"],
        "q_from_mvar": fr["q"],
        "p_to_mw": to["p"],
        "q_to_mvar": to["q"],
        "pl_mw": {"l": m(br.r_pu * c2)},
        "ql_mvar": {"l": m(br.x_pu * c2)},
        "l_branch": {"l": m(c2)},
    }


def _branch_flow_from_mw(grid, tree, x):
    """Expression (n_branch, T): active power into every branch at its from-end, in MW."""
    maps = _branch_end_maps(grid, tree)["p_from_mw"]
    return grid.base_mva * sum(maps[k] @ x[k] for k in ("P", "Q", "l"))


def slack_vm_pu(grid):
    """Voltage set point of the slack bus: its ext_grid's (or slack gen's) ``vm_pu``, else 1."""
    net, bus = grid.net, grid.bus_index[grid.slack_pos[0]]
    for table in ("ext_grid", "gen"):
        rows = net[table]
        on = rows.in_service.to_numpy(bool) & (rows.bus.to_numpy() == bus)
        if table == "gen" and "slack" in rows:
            on &= rows.slack.to_numpy(bool)
        elif table == "gen":
            on[:] = False
        if on.any():
            return float(rows.vm_pu.to_numpy(float)[on][0])
    return 1.0


def voltage_limits(grid, vm_min_pu=None, vm_max_pu=None):
    """Lower and upper voltage limits (n_bus,) each, ``-inf``/``inf`` where none.

    ``None`` takes ``net.bus.min_vm_pu``/``max_vm_pu`` (NaN: none) when the column exists.
    """
    out = []
    for value, column, default in (
        (vm_min_pu, "min_vm_pu", -np.inf),
        (vm_max_pu, "max_vm_pu", np.inf),
    ):
        if value is None:
            col = grid.net.bus.get(column)
            value = default if col is None else col.astype(float).fillna(default).to_numpy()
        arr = np.broadcast_to(np.asarray(value, dtype=float), (grid.n_bus,)).copy()
        out.append(arr)
    vmin, vmax = out
    if np.isnan(vmin).any() or np.isnan(vmax).any() or (vmin > vmax).any():
        raise InputError(
            f"DistFlow: voltage limits must satisfy vm_min_pu <= vm_max_pu at every bus "
            f"(buses {grid.bus_index[~(vmin <= vmax)].tolist()} do not)"
        )
    return vmin, vmax


def _refuse_trafo3w(grid, name):
    """DistFlow on a trafo3w's star point is not verified against AC (a 3.6e-3 pu gap on a
    small feeder even without magnetising, measured 2026-12-02): refused, not approximated."""
    t3 = grid.net.get("trafo3w")
    if t3 is not None and len(t3) and t3.in_service.any():
        raise InputError(
            f"{name}: three-winding transformers (net.trafo3w {t3.index[t3.in_service].tolist()})"
            " are not supported in DistFlow yet; use gf.DC(), or model them as two-winding "
            "transformers"
        )


def bus_shunts(grid, v):
    r"""What the net's shunts draw at the bus voltages, (n_bus, T) MW and Mvar each.

    A shunt draws ``(p + j q) |V|^2 = (p + j q) v`` with ``p``, ``q`` its draw at 1 pu: exact in
    SOC DistFlow, linear in ``v`` in LinDistFlow.
    """
    shunts = net_shunts(grid)
    if not shunts.labels:
        return 0.0, 0.0
    p = shunts.per_bus(shunts.p_mw, grid.n_bus)
    q = shunts.per_bus(shunts.q_mvar, grid.n_bus)
    return sp.diags(p) @ v, sp.diags(q) @ v


def warn_ignored_shunts(grid):
    """Warn when ignored shunt branch elements exceed :data:`SHUNT_WARN_SHARE` of the base.

    DistFlow models series impedances only: line charging (``c_nf_per_km``, ``g_us_per_km``)
    and transformer magnetising (``i0_percent``, ``pfe_kw``) are left out.
    """
    net = grid.net
    line = net.line[net.line.in_service.to_numpy(bool)]
    vn = net.bus.vn_kv.loc[line.from_bus].to_numpy(float)
    km = (line.length_km * line.parallel).to_numpy(float)
    charging = 2 * np.pi * net.f_hz * line.c_nf_per_km.to_numpy(float) * 1e-9 * km * vn**2
    g_us = line.get("g_us_per_km", 0.0 * line.length_km).to_numpy(float)
    charging = np.abs(charging) + np.abs(g_us * 1e-6 * km * vn**2)
    trafo = net.trafo[net.trafo.in_service.to_numpy(bool)]
    magnet = (trafo.i0_percent.abs() / 100 * trafo.sn_mva + trafo.pfe_kw.abs() / 1e3).sum()
    t3 = net.trafo3w[net.trafo3w.in_service.to_numpy(bool)] if "trafo3w" in net else None
    if t3 is not None and len(t3):
        magnet += (t3.i0_percent.abs() / 100 * t3.sn_hv_mva + t3.pfe_kw.abs() / 1e3).sum()
    total = float(charging.sum() + magnet)
    if total > SHUNT_WARN_SHARE * grid.base_mva:
        warnings.warn(
            f"DistFlow ignores shunt branch elements: line charging and trafo magnetising of "
            f"{total:.4g} MVA at nominal voltage ({100 * total / grid.base_mva:.3g} % of "
            f"base {grid.base_mva:g} MVA) are left out of the model",
            UserWarning,
            stacklevel=4,
        )
