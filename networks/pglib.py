"""PGLib-OPF v23 data (thermal ratings, generator costs) mapped onto pandapower's IEEE cases.

The MATPOWER files ship as package data in ``gridflex/networks/data/pglib/`` (CC BY 4.0, see the
``LICENSE`` beside them) and are located with :mod:`importlib.resources`, so an installed gridflex
finds them without the source tree.

pandapower's ``case14``, ``case24_ieee_rts`` and ``case118`` were converted from the same MATPOWER
branch lists, but the conversion reorders and reorients branches: lines come first, transformers
after them, and a transformer runs from its high- to its low-voltage bus whatever the MATPOWER
direction. The mapping below therefore matches by unordered bus pair, with parallel branches taken
in order of appearance.
"""

from __future__ import annotations

import logging
from collections import defaultdict, deque
from importlib.resources import files
from importlib.resources.abc import Traversable

import numpy as np
import pandapower as pp
import pandas as pd

from .matpower import MatpowerCase, read_matpower

__all__ = [
    "PGLIB_CASES",
    "UNLIMITED_RATE_MVA",
    "apply_pglib_costs",
    "apply_pglib_ratings",
    "check_bus_numbers",
    "match_branches",
    "match_units",
    "pglib_case",
    "pglib_file",
]

logger = logging.getLogger(__name__)

PGLIB_CASES = {
    "ieee14": "pglib_opf_case14_ieee.m",
    "ieee24": "pglib_opf_case24_ieee_rts.m",
    "ieee118": "pglib_opf_case118_ieee.m",
}
"""Network name -> PGLib-OPF v23 file in ``data/pglib/``."""

UNLIMITED_RATE_MVA = 99999.0
"""Rating (MVA) written for a branch whose PGLib ``rate_a`` is 0, MATPOWER's "unlimited"
(the value pandapower's own MATPOWER converter uses for a missing rating)."""


def pglib_file(name: str) -> Traversable:
    """Return the packaged PGLib-OPF file of a built-in network.

    Parameters
    ----------
    name : {"ieee14", "ieee24", "ieee118"}
        Network name.

    Returns
    -------
    importlib.resources.abc.Traversable
        ``importlib.resources.files("gridflex.networks") / "data" / "pglib" / <file>``.
    """
    if name not in PGLIB_CASES:
        raise ValueError(f"no PGLib case for {name!r}; valid names: {', '.join(PGLIB_CASES)}")
    return files(__package__).joinpath("data", "pglib", PGLIB_CASES[name])


def pglib_case(name: str) -> MatpowerCase:
    """Read the packaged PGLib-OPF v23 case of a built-in network (see :func:`pglib_file`)."""
    return read_matpower(pglib_file(name))


def check_bus_numbers(net: pp.pandapowerNet) -> pd.Series:
    """Return the bus numbers (``net.bus.name`` as int), checking number == index + 1.

    Raises
    ------
    ValueError
        If any bus name differs from its index + 1.
    """
    numbers = pd.to_numeric(net.bus["name"], errors="coerce")
    bad = numbers.index[numbers.to_numpy() != net.bus.index.to_numpy() + 1]
    if len(bad):
        raise ValueError(f"net.bus.name must equal index + 1; differs at buses {list(bad)[:10]}")
    return numbers.astype(np.int64)


def _branch_queues(net: pp.pandapowerNet) -> dict:
    """Unordered bus-number pair -> {"line": deque, "trafo": deque} of (index, first-bus number)."""
    number = check_bus_numbers(net)
    queues: dict = defaultdict(lambda: {"line": deque(), "trafo": deque()})
    for kind, a, b in (("line", "from_bus", "to_bus"), ("trafo", "hv_bus", "lv_bus")):
        table = net[kind]
        first = number.loc[table[a]].to_numpy()
        second = number.loc[table[b]].to_numpy()
        for idx, f, t in zip(table.index, first, second, strict=True):
            queues[(min(f, t), max(f, t))][kind].append((idx, f))
    return queues


def match_branches(net: pp.pandapowerNet, branch: pd.DataFrame) -> pd.DataFrame:
    """Match MATPOWER branch rows to pandapower lines and transformers.

    Each row is matched to an unused line or transformer between the same two buses (bus number
    = ``net.bus.name`` = index + 1, in either direction). Parallel branches are taken in order of
    appearance. A row with an off-nominal tap or a phase shift prefers a transformer, any other
    row a line; either falls back to the other kind.

    Parameters
    ----------
    net : pandapowerNet
        Network whose bus names are the MATPOWER bus numbers.
    branch : pandas.DataFrame
        MATPOWER branch table (``f_bus``, ``t_bus``, ``tap``, ``shift``).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``branch``: ``element`` ("line"/"trafo"), ``element_index`` and
        ``reversed`` (True where pandapower's from/hv bus is MATPOWER's ``t_bus``).

    Raises
    ------
    ValueError
        If a branch row finds no pandapower branch or a pandapower branch is left unmatched.
    """
    queues = _branch_queues(net)
    looks_trafo = ~branch["tap"].isin([0.0, 1.0]).to_numpy() | (branch["shift"] != 0).to_numpy()
    rows, unmatched = [], []
    ends = zip(branch.index, branch["f_bus"], branch["t_bus"], looks_trafo, strict=True)
    for k, f, t, trafo in ends:
        queue = queues.get((min(f, t), max(f, t)))
        order = ("trafo", "line") if trafo else ("line", "trafo")
        kind = next((kd for kd in order if queue is not None and queue[kd]), None)
        if kind is None:
            unmatched.append(f"row {k} ({f}-{t})")
            continue
        idx, first = queue[kind].popleft()
        rows.append((k, kind, idx, first != f))
    left = [f"{kd} {i}" for q in queues.values() for kd in q for i, _ in q[kd]]
    if unmatched or left:
        raise ValueError(
            f"branch mapping failed: unmatched MATPOWER branches {unmatched}, "
            f"unmatched pandapower branches {left}"
        )
    cols = ["branch", "element", "element_index", "reversed"]
    return pd.DataFrame(rows, columns=cols).set_index("branch").rename_axis(branch.index.name)


def apply_pglib_ratings(
    net: pp.pandapowerNet, case: MatpowerCase, set_ratings: bool = True
) -> pd.DataFrame:
    """Store the PGLib branch mapping on the net and (optionally) apply PGLib ``rate_a``.

    Adds ``pglib_branch`` (PGLib branch row, 0-based), ``pglib_reversed`` and
    ``pglib_rate_a_mva`` to ``net.line`` and ``net.trafo``. With ``set_ratings``, pandapower's
    OPF branch limit (ppc ``RATE_A``) becomes ``rate_a``:

    - line: ``max_i_ka = rate_a / (sqrt(3) * vn_kv(from_bus) * parallel * df)``,
      ``max_loading_percent = 100``;
    - trafo: ``max_loading_percent = 100 * rate_a / (sn_mva * df * parallel)``; ``sn_mva`` is
      left alone because it scales the per-unit impedance;
    - ``rate_a == 0`` (unlimited in MATPOWER): :data:`UNLIMITED_RATE_MVA` instead.

    Parameters
    ----------
    net : pandapowerNet
        Modified in place.
    case : MatpowerCase
        The PGLib case.
    set_ratings : bool, default True
        False stores only the mapping columns.

    Returns
    -------
    pandas.DataFrame
        The mapping from :func:`match_branches`, with ``rate_a``.
    """
    mapping = match_branches(net, case.branch)
    mapping["rate_a"] = case.branch["rate_a"]
    for kind in ("line", "trafo"):
        part = mapping[mapping["element"] == kind]
        net[kind]["pglib_branch"] = pd.Series(part.index, index=part["element_index"])
        net[kind]["pglib_reversed"] = pd.Series(part["reversed"].to_numpy(), part["element_index"])
        net[kind]["pglib_rate_a_mva"] = pd.Series(part["rate_a"].to_numpy(), part["element_index"])
    if set_ratings:
        _set_line_ratings(net)
        _set_trafo_ratings(net)
        n_unlimited = int((mapping["rate_a"] <= 0).sum())
        logger.debug("%d of %d PGLib branches unlimited (rate_a = 0)", n_unlimited, len(mapping))
    return mapping


def _rating_mva(table: pd.DataFrame) -> np.ndarray:
    rate = table["pglib_rate_a_mva"].to_numpy(dtype=float)
    return np.where(rate > 0, rate, UNLIMITED_RATE_MVA)


def _set_line_ratings(net: pp.pandapowerNet) -> None:
    line = net.line
    vn_kv = net.bus.loc[line["from_bus"], "vn_kv"].to_numpy()
    scale = np.sqrt(3.0) * vn_kv * line["parallel"].to_numpy() * line["df"].to_numpy()
    net.line["max_i_ka"] = _rating_mva(line) / scale
    net.line["max_loading_percent"] = 100.0


def _set_trafo_ratings(net: pp.pandapowerNet) -> None:
    trafo = net.trafo
    capacity = (trafo["sn_mva"] * trafo["df"] * trafo["parallel"]).to_numpy(dtype=float)
    net.trafo["max_loading_percent"] = 100.0 * _rating_mva(trafo) / capacity


def match_units(net: pp.pandapowerNet, gen: pd.DataFrame) -> pd.DataFrame:
    """Match MATPOWER generator rows to pandapower ext_grid, gen and sgen rows.

    pandapower's converter makes the first unit at a bus an ext_grid (reference bus) or a gen,
    and every further unit at that bus an sgen, keeping the file order; this follows that rule.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``gen``: ``et`` ("ext_grid"/"gen"/"sgen") and ``element``.

    Raises
    ------
    ValueError
        If the units at some bus differ in number.
    """
    number = check_bus_numbers(net)
    queues: dict = defaultdict(deque)
    for et in ("ext_grid", "gen", "sgen"):
        for idx, bus in zip(net[et].index, number.loc[net[et]["bus"]], strict=True):
            if et == "sgen":
                queues[bus].append((et, idx))
            else:
                queues[bus].appendleft((et, idx))
    rows, unmatched = [], []
    for k, bus in zip(gen.index, gen["gen_bus"], strict=True):
        if queues[bus]:
            rows.append((k, *queues[bus].popleft()))
        else:
            unmatched.append(k)
    left = [u for q in queues.values() for u in q]
    if unmatched or left:
        raise ValueError(f"unit mapping failed: MATPOWER rows {unmatched}, pandapower {left}")
    return pd.DataFrame(rows, columns=["gen", "et", "element"]).set_index("gen")


def apply_pglib_costs(net: pp.pandapowerNet, case: MatpowerCase) -> pd.DataFrame:
    """Replace costs and active/reactive limits of all units by PGLib's (in place).

    PGLib derived its costs together with its unit limits (e.g. the case14 synchronous condensers
    get ``Pmax = 0`` and zero cost), so both are applied: ``net.poly_cost`` is rebuilt from the
    polynomial gencost rows (``c2 P^2 + c1 P + c0`` per hour) and ``min/max_p_mw``,
    ``min/max_q_mvar`` are set. Dispatch set-points and voltages stay pandapower's.

    Returns
    -------
    pandas.DataFrame
        The unit mapping from :func:`match_units`.

    Raises
    ------
    ValueError
        If a gencost row is not a polynomial of degree <= 2.
    """
    cost = case.gencost
    if len(cost) != len(case.gen) or (cost["model"] != 2).any() or (cost["ncost"] > 3).any():
        raise ValueError("only polynomial (model 2) gencost of degree <= 2, one row per gen")
    mapping = match_units(net, case.gen)
    coef = np.zeros((len(cost), 3))  # c0, c1, c2
    for k, n in enumerate(cost["ncost"]):
        coef[k, :n] = cost.filter(like="cost_").to_numpy()[k, :n][::-1]
    table = pd.DataFrame({"element": mapping["element"], "et": mapping["et"]})
    for j, col in enumerate(("cp0_eur", "cp1_eur_per_mw", "cp2_eur_per_mw2")):
        table[col] = coef[:, j]
    template = net.poly_cost
    table = table.reset_index(drop=True).reindex(columns=template.columns)
    table[["cq0_eur", "cq1_eur_per_mvar", "cq2_eur_per_mvar2"]] = 0.0
    net.poly_cost = table.astype({"element": template["element"].dtype, "et": object})
    limits = {"max_p_mw": "pmax", "min_p_mw": "pmin", "max_q_mvar": "qmax", "min_q_mvar": "qmin"}
    for k, (et, idx) in mapping.iterrows():
        for col, src in limits.items():
            net[et].at[idx, col] = case.gen.at[k, src]
    return mapping
