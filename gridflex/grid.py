"""Grid: the arrays a formulation needs, read from a pandapower net.

The branch data (per-unit reactance, tap ratio, phase shift) come from pandapower's own
conversion to its internal PYPOWER case (``_pd2ppc``), so gridflex's DC model uses exactly the
impedances of pandapower's ``rundcpp``. All branches are converted, in service or not (planning
treats out-of-service branches as candidates); ``Grid.branches.in_service`` says which are on.
Switches, fused buses and three-winding transformers are read as pandapower reads them
(:mod:`gridflex.topology`).
"""

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pandapower.pypower.idx_brch import BR_R, BR_X, SHIFT, TAP

from gridflex.errors import InputError
from gridflex.topology import WINDINGS, read_topology

UNLIMITED_MVA = 1e6
"""Ratings at or above this value count as 'no limit' (pandapower's 9900 MVA stays a limit)."""


@dataclass(frozen=True)
class BranchTable:
    """Branch arrays: the lines, the 2-winding transformers, then three rows per trafo3w (all hv
    windings, then mv, then lv, as pandapower orders them)."""

    element: np.ndarray  # "line", "trafo" or "trafo3w"
    element_index: np.ndarray  # pandapower index within its table
    from_pos: np.ndarray  # position of the from-bus in Grid.bus_index
    to_pos: np.ndarray
    r_pu: np.ndarray
    x_pu: np.ndarray  # series reactance (tap ratio not included)
    tap: np.ndarray  # off-nominal tap ratio (1 for lines)
    shift_rad: np.ndarray
    rating_mva: np.ndarray  # thermal limit incl. max_loading_percent; np.inf where unlimited
    nominal_mva: np.ndarray  # what pandapower's loading_percent refers to (no max_loading_percent)
    in_service: np.ndarray  # element in service and not cut by an open switch
    winding: np.ndarray  # "hv", "mv", "lv" for trafo3w rows, "" otherwise
    switch_open: np.ndarray  # cut by an open line/trafo switch (so not in service)


class Grid:
    """Bus and branch arrays of a pandapower net, in per unit on ``net.sn_mva``.

    The arrays are indexed by *nodes*: one per bus of the net, in ``net.bus`` order, then one
    per trafo3w star point. Buses fused by closed bus-bus switches share one node (the others'
    rows are unused, out-of-service nodes); :attr:`bus_map` sends every bus to its node.

    Parameters
    ----------
    net : pandapowerNet
        The network. It is copied for the conversion and never modified.

    Attributes
    ----------
    net : pandapowerNet
        The original net (not modified).
    bus_index : pandas.Index
        Label of every node: pandapower bus indices, then the trafo3w star points (pandapower's
        auxiliary bus indices).
    bus_in_service : numpy.ndarray of bool
        Node in service (False for out-of-service buses and buses fused into another).
    bus_map : pandas.Series
        Node position of every bus of the net (index ``net.bus.index``); fused buses share one.
    bus_vn_kv : numpy.ndarray
        Nominal voltage of every node (a star point: its trafo3w's hv bus, as in pandapower).
    base_mva : float
        System base (``net.sn_mva``).
    branches : BranchTable
        Lines, transformers, trafo3w windings, in service or not.
    slack_pos : numpy.ndarray
        Positions of the angle-reference nodes (ext_grid buses, or slack gens).
    """

    def __init__(self, net):
        _check_supported(net)
        _check_line_parameters(net)
        self.net = net
        self.base_mva = float(net.sn_mva)
        topology = read_topology(net)
        self.bus_index = topology.bus_index
        self.bus_in_service = topology.bus_in_service
        self.bus_map = topology.bus_map
        vn_kv = net.bus.vn_kv.astype(float)
        self.bus_vn_kv = np.r_[vn_kv.to_numpy(), vn_kv.loc[net.trafo3w.hv_bus].to_numpy()]
        self._bus_own_in_service = topology.bus_own_in_service
        self.branches = _branch_table(net, topology)
        self.slack_pos = np.unique(self.bus_positions(_slack_buses(net), owner="Grid"))

    @property
    def n_bus(self):
        return len(self.bus_index)

    @property
    def n_branch(self):
        return len(self.branches.element)

    @property
    def fused(self):
        """True when closed bus-bus switches fused some buses (they share a node)."""
        return not self.bus_map.is_unique

    def bus_positions(self, buses, *, owner):
        """Node positions of pandapower bus indices; errors name unknown or off buses.

        A bus fused with others gives its group's node.
        """
        buses = np.atleast_1d(np.asarray(buses))
        rows = self.bus_map.index.get_indexer(buses)
        if (rows < 0).any():
            bad = buses[rows < 0].tolist()
            raise InputError(
                f"{owner}: bus {bad[0] if len(bad) == 1 else bad} is not in the net "
                f"(valid bus indices: {self.bus_map.index.min()}..{self.bus_map.index.max()})"
            )
        off = ~self._bus_own_in_service[rows]
        if off.any():
            raise InputError(f"{owner}: bus {buses[off].tolist()} is out of service in the net")
        return self.bus_map.to_numpy()[rows]

    def bus_from_number(self, number):
        """pandapower bus index of a bus numbered from 1 as in the papers (index = number - 1).

        The mapping is checked against ``net.bus.name`` where the names are numbers, so a device
        is never silently placed on the wrong bus.
        """
        numbers = np.atleast_1d(np.asarray(number, dtype=int))
        index = numbers - 1
        pos = self.net.bus.index.get_indexer(index)
        if (pos < 0).any():
            raise InputError(
                f"bus number {numbers[pos < 0].tolist()} is not in the net "
                f"(numbers 1..{len(self.net.bus)})"
            )
        names = pd.to_numeric(self.net.bus.name.iloc[pos], errors="coerce").to_numpy()
        named = ~np.isnan(names)
        if (names[named] != numbers[named]).any():
            raise InputError(
                f"bus numbers {numbers.tolist()} map to indices {index.tolist()} "
                f"whose names are {self.net.bus.name.iloc[pos].tolist()}"
            )
        return index if np.ndim(number) else int(index[0])

    def incidence(self, in_service_only=True):
        """Sparse branch-bus incidence ``A`` (n_branch x n_bus): +1 at from-bus, -1 at to-bus."""
        br = self.branches
        rows = np.arange(self.n_branch)
        scale = br.in_service.astype(float) if in_service_only else np.ones(self.n_branch)
        data = np.concatenate([scale, -scale])
        A = sp.csr_matrix(
            (data, (np.r_[rows, rows], np.r_[br.from_pos, br.to_pos])),
            shape=(self.n_branch, self.n_bus),
        )
        A.eliminate_zeros()
        return A

    def susceptance_mw_per_rad(self):
        """DC branch susceptance ``sn_mva / (x * tap)`` in MW per radian (pandapower's makeBdc)."""
        br = self.branches
        return self.base_mva / (br.x_pu * br.tap)

    def bbus(self):
        """Sparse nodal susceptance matrix ``B = A^T diag(b) A`` (n_bus x n_bus), MW per rad."""
        A = self.incidence(in_service_only=True)
        b = self.susceptance_mw_per_rad() * self.branches.in_service
        return (A.T @ sp.diags(b) @ A).tocsc()

    def dc_flow_matrix(self):
        """Sparse ``Bf`` (n_branch x n_bus) with flow_mw = Bf @ theta_rad + shift term."""
        b = self.susceptance_mw_per_rad() * self.branches.in_service
        return sp.diags(b) @ self.incidence(in_service_only=False)

    def dc_shift_flow_mw(self):
        """Flow offset ``-b * shift`` of phase-shifting branches, in MW (zero without shifters)."""
        return -self.susceptance_mw_per_rad() * self.branches.shift_rad * self.branches.in_service


UNSUPPORTED_TABLES = (
    "dcline",
    "impedance",
    "ward",
    "xward",
    "tcsc",
    "svc",
    "ssc",
    "vsc",
    "motor",
    "asymmetric_load",
    "asymmetric_sgen",
)
"""Net tables gridflex does not model: in-service rows are refused (never silently dropped)."""


def _check_supported(net):
    """Raise one :class:`InputError` naming every in-service element gridflex does not model."""
    found = []
    for table in UNSUPPORTED_TABLES:
        if table in net and len(net[table]) and net[table].in_service.to_numpy(bool).any():
            rows = net[table].index[net[table].in_service.to_numpy(bool)].tolist()
            found.append(f"net.{table} {_few(rows)}")
    sw = net.switch
    if len(sw) and "z_ohm" in sw:
        impedance = (sw.et == "b") & sw.closed.astype(bool) & (sw.z_ohm.fillna(0) > 0)
        if impedance.any():
            found.append(
                f"net.switch {_few(sw.index[impedance].tolist())} (closed bus-bus switches "
                "with z_ohm > 0, which pandapower models as impedances)"
            )
    if found:
        raise InputError(
            f"Grid: gridflex does not model {'; '.join(found)}; take them out of service or "
            "replace them by lines, transformers, loads or sgens"
        )


def _check_line_parameters(net):
    """Raise naming the first in-service line with a length <= 0 or a negative resistance
    (negative reactance stays allowed: series capacitors)."""
    line = net.line[net.line.in_service.to_numpy(bool)]
    for column, bad, what in (
        ("length_km", line.length_km.astype(float) <= 0, "a length <= 0"),
        ("r_ohm_per_km", line.r_ohm_per_km.astype(float) < 0, "a negative resistance"),
    ):
        if bad.any():
            row = line.index[bad.to_numpy()][0]
            raise InputError(f"Grid: net.line {row} ({line.from_bus[row]}-{line.to_bus[row]}) has "
                             f"{what}: {column} = {line.at[row, column]}")  # fmt: skip


def _few(labels, n=5):
    """``[1, 2, 3]``, or the first ``n`` and a count."""
    return str(labels) if len(labels) <= n else f"{labels[:n]}... ({len(labels)} rows)"


def _slack_buses(net):
    """ext_grid and slack-gen buses; without any, the first in-service bus (angle reference)."""
    buses = net.ext_grid.bus[net.ext_grid.in_service.to_numpy(bool)].tolist()
    if "slack" in net.gen:
        buses += net.gen.bus[(net.gen.slack & net.gen.in_service).to_numpy(bool)].tolist()
    if not buses:
        buses = net.bus.index[net.bus.in_service.to_numpy(bool)][:1].tolist()
    if not buses:
        raise InputError("Grid: the net has no in-service bus")
    return sorted(set(buses))


def _branch_table(net, topology):
    """:class:`BranchTable` from the converted rows of :func:`~gridflex.topology.read_topology`."""
    br, n3 = topology.branch, len(net.trafo3w)
    n_two = len(net.line) + len(net.trafo)
    tap = br[:, TAP].copy()
    tap[tap == 0] = 1.0
    rating, nominal = (
        np.r_[
            _line_rating_mva(net, nominal=flag),
            _trafo_rating_mva(net, nominal=flag),
            _trafo3w_rating_mva(net, nominal=flag),
        ]
        for flag in (False, True)
    )
    on = np.r_[
        net.line.in_service.to_numpy(bool),
        net.trafo.in_service.to_numpy(bool),
        np.tile(net.trafo3w.in_service.to_numpy(bool), len(WINDINGS)),
    ]
    return BranchTable(
        element=np.repeat(["line", "trafo", "trafo3w"], [len(net.line), len(net.trafo), 3 * n3]),
        element_index=np.r_[
            net.line.index.to_numpy(), net.trafo.index.to_numpy(), np.tile(net.trafo3w.index, 3)
        ].astype(int),
        from_pos=topology.from_pos,
        to_pos=topology.to_pos,
        r_pu=br[:, BR_R],
        x_pu=br[:, BR_X],
        tap=tap,
        shift_rad=np.deg2rad(br[:, SHIFT]),
        rating_mva=rating,
        nominal_mva=nominal,
        in_service=on & ~topology.switch_open,
        winding=np.r_[np.full(n_two, ""), np.repeat(WINDINGS, n3)],
        switch_open=topology.switch_open,
    )


def _line_rating_mva(net, nominal=False):
    line = net.line
    vn_kv = net.bus.vn_kv.loc[line.from_bus].to_numpy()
    loading = 1.0 if nominal else _max_loading(line)
    rating = line.max_i_ka * line.df * line.parallel * vn_kv * math.sqrt(3) * loading
    return _unlimited_to_inf(rating.to_numpy(float))


def _trafo_rating_mva(net, nominal=False):
    trafo = net.trafo
    rating = trafo.sn_mva * trafo.parallel * (1.0 if nominal else _max_loading(trafo))
    if "df" in trafo and not nominal:
        rating = rating * trafo.df
    return _unlimited_to_inf(rating.to_numpy(float))


def _trafo3w_rating_mva(net, nominal=False):
    """Per winding (hv, mv, lv rows): its ``sn_*_mva`` times ``max_loading_percent`` (pandapower's
    RATE_A of a trafo3w winding; res_trafo3w's loading refers to the same ``sn_*_mva``)."""
    t3 = net.trafo3w
    sn = np.concatenate([t3[f"sn_{w}_mva"].to_numpy(float) for w in WINDINGS])
    loading = np.asarray(1.0 if nominal else _max_loading(t3), dtype=float)
    return _unlimited_to_inf(sn * (np.tile(loading, len(WINDINGS)) if loading.ndim else loading))


def _max_loading(table):
    if "max_loading_percent" not in table:
        return 1.0
    return table.max_loading_percent.fillna(100.0) / 100.0


def _unlimited_to_inf(rating):
    rating = np.where(np.isnan(rating) | (rating >= UNLIMITED_MVA), np.inf, rating)
    return rating
