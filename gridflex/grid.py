"""Grid: the arrays a formulation needs, read from a pandapower net.

The branch data (per-unit reactance, tap ratio, phase shift) come from pandapower's own
conversion to its internal PYPOWER case (``_pd2ppc``), so gridflex's DC model uses exactly the
impedances of pandapower's ``rundcpp``. All branches are converted, in service or not (planning
treats out-of-service branches as candidates); :attr:`Grid.branch_in_service` says which are on.
"""

import copy
import math
from dataclasses import dataclass

import numpy as np
import pandapower as pp
import pandas as pd
import scipy.sparse as sp
from pandapower.converter.pypower.to_ppc import to_ppc
from pandapower.pypower.idx_brch import BR_R, BR_X, F_BUS, SHIFT, T_BUS, TAP

from gridflex.errors import InputError

UNLIMITED_MVA = 1e6
"""Ratings at or above this value count as 'no limit' (pandapower's 9900 MVA stays a limit)."""


@dataclass(frozen=True)
class BranchTable:
    """Branch arrays, one entry per line then per 2-winding transformer of the net."""

    element: np.ndarray  # "line" or "trafo"
    element_index: np.ndarray  # pandapower index within its table
    from_pos: np.ndarray  # position of the from-bus in Grid.bus_index
    to_pos: np.ndarray
    r_pu: np.ndarray
    x_pu: np.ndarray  # series reactance (tap ratio not included)
    tap: np.ndarray  # off-nominal tap ratio (1 for lines)
    shift_rad: np.ndarray
    rating_mva: np.ndarray  # thermal limit incl. max_loading_percent; np.inf where unlimited
    nominal_mva: np.ndarray  # what pandapower's loading_percent refers to (no max_loading_percent)
    in_service: np.ndarray


class Grid:
    """Bus and branch arrays of a pandapower net, in per unit on ``net.sn_mva``.

    Parameters
    ----------
    net : pandapowerNet
        The network. It is copied for the conversion and never modified.

    Attributes
    ----------
    net : pandapowerNet
        The original net (not modified).
    bus_index : pandas.Index
        pandapower bus indices, in the order of all bus-indexed arrays.
    base_mva : float
        System base (``net.sn_mva``).
    branches : BranchTable
        Lines then transformers, in service or not.
    slack_pos : numpy.ndarray
        Positions of the angle-reference buses (ext_grid buses, or slack gens).
    """

    def __init__(self, net):
        _check_supported(net)
        self.net = net
        self.base_mva = float(net.sn_mva)
        self.bus_index = pd.Index(net.bus.index, name="bus")
        self.bus_in_service = net.bus.in_service.to_numpy(bool)
        self.branches = _branch_table(net, self.bus_index)
        self.slack_pos = self.bus_positions(_slack_buses(net), owner="Grid")

    @property
    def n_bus(self):
        return len(self.bus_index)

    @property
    def n_branch(self):
        return len(self.branches.element)

    def bus_positions(self, buses, *, owner):
        """Positions of pandapower bus indices in :attr:`bus_index`; error names unknown buses."""
        buses = np.atleast_1d(np.asarray(buses))
        pos = self.bus_index.get_indexer(buses)
        if (pos < 0).any():
            bad = buses[pos < 0].tolist()
            raise InputError(
                f"{owner}: bus {bad[0] if len(bad) == 1 else bad} is not in the net "
                f"(valid bus indices: {self.bus_index.min()}..{self.bus_index.max()})"
            )
        off = ~self.bus_in_service[pos]
        if off.any():
            raise InputError(f"{owner}: bus {buses[off].tolist()} is out of service in the net")
        return pos

    def bus_from_number(self, number):
        """pandapower bus index of a bus numbered from 1 as in the papers (index = number - 1).

        The mapping is checked against ``net.bus.name`` where the names are numbers, so a device
        is never silently placed on the wrong bus.
        """
        numbers = np.atleast_1d(np.asarray(number, dtype=int))
        index = numbers - 1
        pos = self.bus_index.get_indexer(index)
        if (pos < 0).any():
            raise InputError(
                f"bus number {numbers[pos < 0].tolist()} is not in the net "
                f"(numbers 1..{self.n_bus})"
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


def _check_supported(net):
    for table in ("trafo3w", "dcline", "impedance", "xward", "ward", "tcsc", "svc", "ssc", "vsc"):
        if table in net and len(net[table]) and net[table].in_service.any():
            raise InputError(
                f"Grid: net.{table} has in-service elements; gridflex does not model "
                f"'{table}' yet (convert them to lines/trafos or take them out of service)"
            )
    if len(net.switch) and ((net.switch.et == "b") & net.switch.closed).any():
        raise InputError(
            "Grid: closed bus-bus switches fuse buses; gridflex needs one bus per "
            "node (merge the buses or open the switches)"
        )


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


def _branch_table(net, bus_index):
    ppc, lookups = _full_ppc(net)
    n_line, n_trafo = len(net.line), len(net.trafo)
    branch_rows = lookups["branch"]
    rows = np.r_[
        np.arange(*branch_rows.get("line", (0, 0))), np.arange(*branch_rows.get("trafo", (0, 0)))
    ]
    br = ppc["branch"][rows].real
    bus_of_ppc = _ppc_bus_to_position(lookups["bus"], bus_index)
    tap = br[:, TAP].copy()
    tap[tap == 0] = 1.0
    return BranchTable(
        element=np.array(["line"] * n_line + ["trafo"] * n_trafo),
        element_index=np.r_[net.line.index.to_numpy(), net.trafo.index.to_numpy()],
        from_pos=bus_of_ppc[br[:, F_BUS].astype(int)],
        to_pos=bus_of_ppc[br[:, T_BUS].astype(int)],
        r_pu=br[:, BR_R],
        x_pu=br[:, BR_X],
        tap=tap,
        shift_rad=np.deg2rad(br[:, SHIFT]),
        rating_mva=np.r_[_line_rating_mva(net), _trafo_rating_mva(net)],
        nominal_mva=np.r_[
            _line_rating_mva(net, nominal=True), _trafo_rating_mva(net, nominal=True)
        ],
        in_service=np.r_[net.line.in_service.to_numpy(bool), net.trafo.in_service.to_numpy(bool)],
    )


def _full_ppc(net):
    """pandapower's PYPOWER case with every bus and branch in service, and its lookups."""
    work = copy.deepcopy(net)
    for table in ("bus", "line", "trafo"):
        work[table]["in_service"] = True
    if not _has_reference(work):  # pandapower's converter needs one; branch data do not
        pp.create_ext_grid(work, work.bus.index[0])
    to_ppc(work, init="flat", check_connectivity=False, mode="pf", calculate_voltage_angles=True)
    return work._ppc, work._pd2ppc_lookups


def _has_reference(net):
    slack_gen = "slack" in net.gen and bool((net.gen.slack & net.gen.in_service).any())
    return bool(net.ext_grid.in_service.any()) or slack_gen


def _ppc_bus_to_position(bus_lookup, bus_index):
    """Map a ppc bus number to the position of its pandapower bus in ``bus_index``."""
    ppc_of_bus = bus_lookup[bus_index.to_numpy()]
    inverse = np.full(ppc_of_bus.max() + 1, -1)
    inverse[ppc_of_bus] = np.arange(len(bus_index))
    return inverse


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


def _max_loading(table):
    if "max_loading_percent" not in table:
        return 1.0
    return table.max_loading_percent.fillna(100.0) / 100.0


def _unlimited_to_inf(rating):
    rating = np.where(np.isnan(rating) | (rating >= UNLIMITED_MVA), np.inf, rating)
    return rating
