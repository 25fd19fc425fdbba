r"""Candidate branches in LinDistFlow: reinforcements parallel to an existing edge.

A candidate line ``c`` joins the two buses of an existing tree edge ``e`` (equivalent
impedance ``z_e``; parent ``i``, child ``j``). It gets its own flows ``S_c = P_c + jQ_c`` (per
unit, parent to child) and a build binary ``y_c``. Built, the two share the voltage drop, so the
power splits by impedance, ``S_c = conj(z_e / z_c) S_e``; unbuilt, ``c`` carries nothing:

.. math::

    |P_c - (a P_e - b Q_e)| \le M (1 - y_c), \quad |Q_c - (b P_e + a Q_e)| \le M (1 - y_c),
    \quad a + jb = \overline{z_e / z_c}

    |\cos\theta_k P_c + \sin\theta_k Q_c| \le \bar S_c \cos(\pi/N)\, y_c

With the split, ``r_c P_c + x_c Q_c = r_e P_e + x_e Q_e``: LinDistFlow's voltage drop holds on
both. (The voltage-drop equation alone would not fix the split: one equation, two unknowns.)
``M = (1 + |a + jb|) F`` with ``F`` the largest edge or candidate rating (10 pu where none).
Candidates that would close a loop are not radial reinforcements and are rejected.
"""

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from gridflex.errors import InputError
from gridflex.formulations.radial import edge_rating_pu

UNRATED_FLOW_PU = 10.0


def candidate_edges(grid, tree, positions):
    """Tree edge parallel to each candidate branch, and the sign of the candidate's direction.

    Returns ``(edges, forward)``: ``forward`` is True where the branch's from-bus is the edge's
    parent.
    """
    br = grid.branches
    edges, forward = [], []
    for pos in positions:  # a loop over the few candidates of the input, not over the model
        f, t = br.from_pos[pos], br.to_pos[pos]
        hit = np.flatnonzero(
            ((tree.parent == f) & (tree.child == t)) | ((tree.parent == t) & (tree.child == f))
        )
        if hit.size == 0:
            raise InputError(
                f"LinDistFlow candidate {br.element[pos]} {br.element_index[pos]} "
                f"joins buses {grid.bus_index[f]}-{grid.bus_index[t]}, which no "
                "in-service branch joins: only reinforcements parallel to an "
                "existing branch keep the network radial"
            )
        edges.append(int(hit[0]))
        forward.append(bool(tree.parent[hit[0]] == f))
    return np.asarray(edges, dtype=int), np.asarray(forward)


def candidate_model(grid, tree, x, positions, polygon_sides, built):
    """Variables, constraints and bus-injection terms of the candidates, in service where
    ``built`` (n_c, T) is 1.

    Returns ``(p_terms, q_terms, constraints, extra)``: ``p_terms``/``q_terms`` (n_bus, T) are
    the per-unit power the candidates take out of each bus (to add to the balances).
    """
    edges, forward = candidate_edges(grid, tree, positions)
    n_c, T = len(positions), x["P"].shape[1]
    P = cp.Variable((n_c, T), name="p_candidate_pu")
    Q = cp.Variable((n_c, T), name="q_candidate_pu")
    share = np.conj(
        (tree.r_pu[edges] + 1j * tree.x_pu[edges])
        / (grid.branches.r_pu[positions] + 1j * grid.branches.x_pu[positions])
    )
    a, b = share.real.reshape(-1, 1), share.imag.reshape(-1, 1)
    Pe, Qe = x["P"][edges, :], x["Q"][edges, :]
    big_m = ((1 + np.abs(share)) * _flow_scale(grid, tree, edges, positions)).reshape(-1, 1)
    off = cp.multiply(big_m, 1 - built)
    cons = [
        cp.abs(P - (cp.multiply(a, Pe) - cp.multiply(b, Qe))) <= off,
        cp.abs(Q - (cp.multiply(b, Pe) + cp.multiply(a, Qe))) <= off,
    ]
    cons += _polygon(grid, positions, P, Q, built, polygon_sides)
    inc = (tree.parent_matrix(grid.n_bus)[edges] - tree.child_matrix(grid.n_bus)[edges]).T
    extra = {
        "P_candidate": P,
        "Q_candidate": Q,
        "candidate_forward": forward,
        "candidate_positions": positions,
    }
    return inc @ P, inc @ Q, cons, extra


def _flow_scale(grid, tree, edges, positions):
    """Largest flow (pu) the edge or the candidate may carry; 10 pu where unrated."""
    edge = edge_rating_pu(grid, tree)[edges]
    cand = grid.branches.rating_mva[positions] / grid.base_mva
    both = np.fmax(
        np.where(np.isfinite(edge), edge, np.nan), np.where(np.isfinite(cand), cand, np.nan)
    )
    return np.where(np.isnan(both), UNRATED_FLOW_PU, np.maximum(both, 1e-6))


def _polygon(grid, positions, P, Q, built, sides):
    rating = grid.branches.rating_mva[positions] / grid.base_mva
    s_max = np.where(np.isfinite(rating), rating, UNRATED_FLOW_PU).reshape(-1, 1)
    cons = []
    for k in range(sides // 2):  # a loop over polygon directions (a handful)
        angle = 2.0 * np.pi * k / sides
        side = np.cos(angle) * P + np.sin(angle) * Q
        cons.append(cp.abs(side) <= cp.multiply(s_max * np.cos(np.pi / sides), built))
    return cons


def candidate_flow_from_mw(grid, extra, T, variable="P_candidate"):
    """(n_branch, T) flow of the candidate branches at their from-end, in MW (or Mvar)."""
    positions, forward = extra["candidate_positions"], extra["candidate_forward"]
    sign = np.where(forward, 1.0, -1.0).reshape(-1, 1)
    pick = sp.csr_matrix(
        (np.ones(len(positions)), (positions, np.arange(len(positions)))),
        shape=(grid.n_branch, len(positions)),
    )
    return grid.base_mva * (pick @ cp.multiply(sign, extra[variable]))
