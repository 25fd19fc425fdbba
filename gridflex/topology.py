"""The topology of a pandapower net as pandapower's own power flow sees it.

:func:`read_topology` converts a copy of the net with pandapower's ``to_ppc`` (``_pd2ppc``) and
returns the nodes and branch rows a :class:`~gridflex.grid.Grid` is made of:

* **Fused buses.** Buses joined by closed bus-bus switches (``et="b"``, ``z_ohm = 0``, both
  buses in service) are one node, exactly as pandapower fuses them (its bus lookup: the ext_grid
  or gen bus of a group, else a bus with elements, represents it). Every bus keeps its own row
  of the node array, in ``net.bus`` order; the row of a bus fused into another is an unused,
  out-of-service node, and :attr:`Topology.bus_map` sends the bus to its group's node.
* **trafo3w.** Each three-winding transformer is pandapower's three two-winding branches
  (hv -> star, star -> mv, star -> lv; pandapower's ``_trafo_df_from_trafo3w``) around an
  internal star-point node; star nodes follow the buses.
* **Open line and transformer switches** (``et`` ``"l"``, ``"t"``, ``"t3"``) cut their branch (or
  their winding of a trafo3w) at that end: it carries no current, so the branch is switched out.
  For the conversion they are closed, so every branch keeps its data and its real end buses
  (pandapower would hang the open end on an isolated auxiliary bus).

Every bus, line and (3-winding) transformer is put in service for the conversion, so
out-of-service branches keep their data (planning candidates).
"""

import copy
from dataclasses import dataclass

import numpy as np
import pandapower as pp
import pandas as pd
from pandapower.converter.pypower.to_ppc import to_ppc
from pandapower.pypower.idx_brch import F_BUS, T_BUS

SWITCHED = {"l": "line", "t": "trafo", "t3": "trafo3w"}
"""Switch types that connect a branch end to a bus, and the table of the branch."""
WINDINGS = ("hv", "mv", "lv")
"""trafo3w windings in pandapower's branch order (all hv rows, then mv, then lv)."""


@dataclass(frozen=True)
class Topology:
    """Nodes and branch rows of a net, on pandapower's own conversion.

    Attributes
    ----------
    bus_index : pandas.Index
        Label of every node: ``net.bus.index``, then one label per trafo3w star point
        (pandapower's auxiliary bus index).
    bus_in_service : numpy.ndarray of bool
        Node in service: its bus is in service and not fused into another (star points: their
        trafo3w is in service).
    bus_map : pandas.Series
        Node position of every bus of the net (index ``net.bus.index``).
    bus_own_in_service : numpy.ndarray of bool
        ``net.bus.in_service``, in ``net.bus`` order.
    branch : numpy.ndarray
        pandapower's ppc branch rows (real part) of the lines, trafos and trafo3w windings.
    from_pos, to_pos : numpy.ndarray of int
        Node positions of the branch ends (transformers run hv -> lv as in pandapower).
    switch_open : numpy.ndarray of bool
        Per branch row: an open switch cuts it.
    """

    bus_index: pd.Index
    bus_in_service: np.ndarray
    bus_map: pd.Series
    bus_own_in_service: np.ndarray
    branch: np.ndarray
    from_pos: np.ndarray
    to_pos: np.ndarray
    switch_open: np.ndarray


def read_topology(net):
    """The :class:`Topology` of ``net`` (which is copied and never modified)."""
    work = _conversion_copy(net)
    to_ppc(work, init="flat", check_connectivity=False, mode="pf", calculate_voltage_angles=True)
    ppc, lookups = work._ppc, work._pd2ppc_lookups
    node_of_ppc, bus_index, bus_in_service = _nodes(net, ppc, lookups)
    ranges = lookups["branch"]
    rows = np.concatenate([np.arange(*ranges.get(t, (0, 0))) for t in SWITCHED.values()])
    branch = ppc["branch"][rows].real
    own_rows = lookups["bus"][net.bus.index.to_numpy()]
    return Topology(
        bus_index=bus_index,
        bus_in_service=bus_in_service,
        bus_map=pd.Series(node_of_ppc[own_rows], index=net.bus.index, name="node"),
        bus_own_in_service=net.bus.in_service.to_numpy(bool),
        branch=branch,
        from_pos=node_of_ppc[branch[:, F_BUS].astype(int)],
        to_pos=node_of_ppc[branch[:, T_BUS].astype(int)],
        switch_open=switch_cuts(net),
    )


def _conversion_copy(net):
    """A copy with every bus and branch in service and only pandapower's fusing switches open.

    Branch switches are closed (:func:`switch_cuts` records the open ones); a closed bus-bus
    switch at an out-of-service bus is opened, since pandapower does not fuse such buses.
    """
    work = copy.deepcopy(net)
    if len(work.switch):
        sw, on = work.switch, net.bus.index[net.bus.in_service.to_numpy(bool)]
        both_on = np.isin(sw.bus, on) & np.isin(sw.element, on)
        sw.loc[(sw.et == "b").to_numpy() & ~both_on, "closed"] = False
        sw.loc[sw.et.isin(list(SWITCHED)).to_numpy(), "closed"] = True
    for table in ("bus", "line", "trafo", "trafo3w"):
        work[table]["in_service"] = True
    if not _has_reference(work):  # pandapower's converter needs one; branch data do not
        pp.create_ext_grid(work, work.bus.index[0])
    return work


def _has_reference(net):
    slack_gen = "slack" in net.gen and bool((net.gen.slack & net.gen.in_service).any())
    return bool(net.ext_grid.in_service.any()) or slack_gen


def _nodes(net, ppc, lookups):
    """Node of every ppc bus (-1: not a node), node labels and node in-service flags.

    Node ``i < len(net.bus)`` is bus ``net.bus.index[i]``; a group of fused buses is the node of
    the bus pandapower keeps (``merged_bus`` False: its ext_grid/gen bus, else a bus with
    elements), the other buses' nodes stay unused. trafo3w star points follow; other auxiliary
    ppc buses (xward) are not nodes. pandapower renumbers its ppc buses after fusing (isolated
    and fused-away buses last, possibly beyond the rows it keeps), so the numbers are mapped
    back here.
    """
    lookup, n_bus = lookups["bus"], len(net.bus)
    ppc_of_bus = lookup[net.bus.index.to_numpy()]
    merged = lookups.get("merged_bus")
    kept = np.ones(n_bus, bool) if merged is None else ~np.asarray(merged)[net.bus.index]
    order = np.lexsort((np.arange(n_bus), ~kept, ppc_of_bus))  # per ppc bus: kept bus first
    first = order[np.r_[True, np.diff(ppc_of_bus[order]) != 0]]
    stars = np.asarray(lookups.get("aux", {}).get("trafo3w", []), dtype=int)
    node_of_ppc = np.full(max(ppc["bus"].shape[0], int(lookup.max()) + 1), -1)
    node_of_ppc[ppc_of_bus[first]] = first
    node_of_ppc[lookup[stars]] = n_bus + np.arange(len(stars))
    represents = np.zeros(n_bus, bool)
    represents[first] = True
    in_service = np.r_[
        net.bus.in_service.to_numpy(bool) & represents,
        net.trafo3w.in_service.to_numpy(bool) if len(stars) else np.zeros(0, bool),
    ]
    labels = np.r_[net.bus.index.to_numpy(), stars]
    return node_of_ppc, pd.Index(labels, name="bus"), in_service


def switch_cuts(net):
    """Per branch row (lines, trafos, trafo3w hv/mv/lv windings): cut by an open switch.

    A switch of type ``"l"``/``"t"`` cuts its branch, one of type ``"t3"`` the winding of its
    trafo3w that ends at the switch's bus.
    """
    parts = []
    for et, table in SWITCHED.items():
        sw = net.switch[(net.switch.et == et).to_numpy() & ~net.switch.closed.to_numpy(bool)]
        rows = net[table].index.get_indexer(sw.element)
        known = rows >= 0
        sw, rows = sw[known], rows[known]
        if table != "trafo3w":
            cut = np.zeros(len(net[table]), bool)
            cut[rows] = True
            parts.append(cut)
            continue
        cut = np.zeros((len(WINDINGS), len(net[table])), bool)
        for k, side in enumerate(WINDINGS):
            at_side = net[table][f"{side}_bus"].to_numpy()[rows] == sw.bus.to_numpy()
            cut[k, rows[at_side]] = True
        parts.append(cut.ravel())
    return np.concatenate(parts)
