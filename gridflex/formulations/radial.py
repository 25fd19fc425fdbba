"""The radial (tree) structure of a distribution network, for the branch-flow formulations.

:func:`radial_tree` merges parallel in-service branches into one *edge* per bus pair, checks
that the in-service network is a tree rooted at the slack bus and orients every edge from its
parent (the end nearer the slack) to its child. Edges are numbered by child bus (in the order
of :attr:`gridflex.grid.Grid.bus_index`), so every non-root bus has exactly one edge feeding it.

Parallel branches ``k`` of one edge share the edge's complex power ``S = P + jQ`` by the
current divider (same terminal voltages, no shunts):

.. math::

    z^{eq} = \\Big(\\sum_k z_k^{-1}\\Big)^{-1}, \\qquad
    S_k = \\overline{(z^{eq}/z_k)}\\, S, \\qquad |I_k|^2 = |z^{eq}/z_k|^2\\, |I|^2

with ``z = r + jx`` in per unit; ``c_k = conj(z^eq / z_k)`` (sum 1) is :attr:`RadialTree.share`.
"""

from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp

from gridflex.errors import InputError


@dataclass(frozen=True)
class RadialTree:
    """A radial network: merged edges oriented parent -> child, and the branch-to-edge map.

    Attributes
    ----------
    root : int
        Position of the slack bus (the root).
    parent, child : numpy.ndarray of int, shape (n_edge,)
        Bus positions of each edge's ends (edge ``e`` feeds bus ``child[e]``).
    r_pu, x_pu : numpy.ndarray, shape (n_edge,)
        Equivalent series impedance of the edge's parallel branches (per unit, system base).
    tap : numpy.ndarray, shape (n_edge,)
        Off-nominal ratio of the edge's branches (1 for lines).
    tap_at_parent : numpy.ndarray of bool, shape (n_edge,)
        The ratio sits at the parent end (the branches' from-bus is the parent).
    edge_of_branch : numpy.ndarray of int, shape (n_branch,)
        Edge of every branch of ``grid.branches``; -1 for branches not in service.
    reversed : numpy.ndarray of bool, shape (n_branch,)
        The branch's from-bus is the child of its edge (flow from-end = child end).
    share : numpy.ndarray of complex, shape (n_branch,)
        ``c_k``: branch power = ``c_k * S`` of its edge (0 for branches not in service).
    groups : list of numpy.ndarray
        Branch positions of every edge with more than one (parallel) branch.
    buses : numpy.ndarray of int
        Positions of the buses in the tree (in service and reachable), root first.
    """

    root: int
    parent: np.ndarray
    child: np.ndarray
    r_pu: np.ndarray
    x_pu: np.ndarray
    tap: np.ndarray
    tap_at_parent: np.ndarray
    edge_of_branch: np.ndarray
    reversed: np.ndarray
    share: np.ndarray
    groups: list
    buses: np.ndarray

    @property
    def n_edge(self):
        return len(self.child)

    def parent_matrix(self, n_bus):
        """Sparse (n_edge x n_bus) selection: row ``e`` has a 1 at ``parent[e]``."""
        return _selection(self.parent, n_bus)

    def child_matrix(self, n_bus):
        """Sparse (n_edge x n_bus) selection: row ``e`` has a 1 at ``child[e]``."""
        return _selection(self.child, n_bus)

    def branch_matrix(self, weights):
        """Sparse (n_branch x n_edge) map ``B[k, edge_of_branch[k]] = weights[k]``."""
        on = self.edge_of_branch >= 0
        rows = np.flatnonzero(on)
        return sp.csr_matrix(
            (np.asarray(weights)[on], (rows, self.edge_of_branch[on])),
            shape=(len(self.edge_of_branch), self.n_edge),
        )


def _selection(pos, n_bus):
    n = len(pos)
    return sp.csr_matrix((np.ones(n), (np.arange(n), pos)), shape=(n, n_bus))


def radial_tree(grid):
    """The :class:`RadialTree` of ``grid``'s in-service network.

    Branches in service but touching an out-of-service bus are ignored (as pandapower does).

    Raises
    ------
    gridflex.errors.InputError
        With more than one slack bus, a zero-impedance branch, a loop (named by its buses and
        branches), buses not connected to the slack bus, or parallel transformers with
        different ratios.
    """
    if len(grid.slack_pos) != 1:
        raise InputError(
            "DistFlow: a radial network has one slack bus (the feeder head); the net has "
            f"{len(grid.slack_pos)}: buses {grid.bus_index[grid.slack_pos].tolist()}"
        )
    root = int(grid.slack_pos[0])
    on = _branches_on(grid)
    graph = _bus_graph(grid, on)
    _check_no_loop(grid, graph, on)
    parent_of = _parents(grid, graph, root)
    return _build_tree(grid, on, root, parent_of)


def _branches_on(grid):
    """In-service branches whose two buses are in service; error on zero impedance."""
    br = grid.branches
    on = br.in_service & grid.bus_in_service[br.from_pos] & grid.bus_in_service[br.to_pos]
    zero = on & (np.abs(br.r_pu + 1j * br.x_pu) == 0)
    if zero.any():
        raise InputError(
            f"DistFlow: {_branch_names(grid, np.flatnonzero(zero))} have zero impedance; "
            "merge their buses"
        )
    return on


def _bus_graph(grid, on):
    """Undirected graph of in-service buses (positions) joined by in-service branches."""
    br = grid.branches
    graph = nx.Graph()
    graph.add_nodes_from(np.flatnonzero(grid.bus_in_service).tolist())
    graph.add_edges_from(zip(br.from_pos[on].tolist(), br.to_pos[on].tolist(), strict=True))
    return graph


def _check_no_loop(grid, graph, on):
    """Raise :class:`InputError` naming the buses and branches of a loop, if there is one."""
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    buses = [int(u) for u, _ in cycle]
    br = grid.branches
    pairs = {frozenset((int(u), int(v))) for u, v in cycle}
    on_loop = [k for k in np.flatnonzero(on) if frozenset((br.from_pos[k], br.to_pos[k])) in pairs]
    raise InputError(
        "DistFlow needs a radial network, but the in-service branches form a loop through "
        f"buses {grid.bus_index[buses].tolist()} ({_branch_names(grid, on_loop)}); take one "
        "of them out of service (open a tie line)"
    )


def _parents(grid, graph, root):
    """Parent bus position of every bus (-1 for the root and buses outside the tree)."""
    parent_of = np.full(grid.n_bus, -1)
    pairs = np.array(list(nx.bfs_predecessors(graph, root)), dtype=int).reshape(-1, 2)
    parent_of[pairs[:, 0]] = pairs[:, 1]
    reached = parent_of >= 0
    reached[root] = True
    lost = np.flatnonzero(grid.bus_in_service & ~reached)
    if lost.size:
        raise InputError(
            f"DistFlow: buses {grid.bus_index[lost].tolist()} are in service but not "
            f"connected to the slack bus {grid.bus_index[root]}; connect them or take them "
            "out of service"
        )
    return parent_of


def _build_tree(grid, on, root, parent_of):
    """Orient the branches, number the edges by child bus and merge parallel branches."""
    br = grid.branches
    child_bus = np.flatnonzero(parent_of >= 0)
    edge_of_bus = np.full(grid.n_bus, -1)
    edge_of_bus[child_bus] = np.arange(len(child_bus))
    rev = on & (parent_of[br.from_pos] == br.to_pos)
    child_of_branch = np.where(rev, br.from_pos, br.to_pos)
    edge_of_branch = np.where(on, edge_of_bus[child_of_branch], -1)
    r, x, share = _merge_parallel(br, on, edge_of_branch, len(child_bus))
    tap, tap_at_parent = _edge_taps(grid, on, edge_of_branch, rev, len(child_bus))
    counts = np.bincount(edge_of_branch[on], minlength=len(child_bus))
    groups = [np.flatnonzero(edge_of_branch == e) for e in np.flatnonzero(counts > 1)]
    return RadialTree(
        root=root,
        parent=parent_of[child_bus],
        child=child_bus,
        r_pu=r,
        x_pu=x,
        tap=tap,
        tap_at_parent=tap_at_parent,
        edge_of_branch=edge_of_branch,
        reversed=rev,
        share=share,
        groups=groups,
        buses=np.r_[root, child_bus],
    )


def _merge_parallel(br, on, edge_of_branch, n_edge):
    """Equivalent impedance per edge and current-divider shares per branch.

    .. math:: z^{eq}_e = 1 / \\sum_{k \\in e} z_k^{-1}, \\qquad c_k = \\overline{z^{eq}_e / z_k}
    """
    z = br.r_pu + 1j * br.x_pu
    y = np.zeros(n_edge, dtype=complex)
    np.add.at(y, edge_of_branch[on], 1.0 / z[on])
    z_eq = 1.0 / y
    share = np.zeros(len(z), dtype=complex)
    share[on] = np.conj(z_eq[edge_of_branch[on]] / z[on])
    return z_eq.real, z_eq.imag, share


def _edge_taps(grid, on, edge_of_branch, rev, n_edge):
    """Ratio of each edge and whether it sits at the parent end; parallels must agree."""
    br = grid.branches
    k = np.flatnonzero(on)
    tap = np.ones(n_edge)
    at_parent = np.ones(n_edge, dtype=bool)
    tap[edge_of_branch[k]] = br.tap[k]
    at_parent[edge_of_branch[k]] = ~rev[k]
    off = np.abs(tap - 1.0) > 1e-12
    bad = (np.abs(br.tap[k] - tap[edge_of_branch[k]]) > 1e-12) | (
        off[edge_of_branch[k]] & (~rev[k] != at_parent[edge_of_branch[k]])
    )
    if bad.any():
        raise InputError(
            f"DistFlow: parallel {_branch_names(grid, k[bad])} have a different ratio or "
            "orientation than the transformers they are parallel to; give parallel "
            "transformers equal ratios and the same high-voltage bus"
        )
    return tap, at_parent


def _branch_names(grid, positions):
    """Human-readable branch names: ``line 3, trafo 0`` (pandapower indices)."""
    br = grid.branches
    return ", ".join(f"{br.element[k]} {br.element_index[k]}" for k in positions)


def edge_rating_pu(grid, tree):
    """Rating of every edge (n_edge,) in pu of ``base_mva``; ``inf`` where unlimited.

    A parallel branch ``k`` carries ``|c_k|`` times the edge's power (and current), so the
    edge limit is ``min_k S_k / |c_k|``: the edge is full when its first member is.
    """
    on = tree.edge_of_branch >= 0
    limit = np.full(tree.n_edge, np.inf)
    with np.errstate(divide="ignore"):
        member = grid.branches.rating_mva[on] / grid.base_mva / np.abs(tree.share[on])
    np.minimum.at(limit, tree.edge_of_branch[on], member)
    return limit
