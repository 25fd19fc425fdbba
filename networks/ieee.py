"""The IEEE 14, 24 (RTS), 33 (Baran-Wu) and 118 bus systems, with realistic branch ratings.

pandapower's stock ``case14`` and ``case118`` rate every branch at 9900 MVA and ``case33bw`` every
line at 99999 kA, so nothing congests. The transmission systems get PGLib-OPF v23 ``rate_a``
(:mod:`.pglib`); the Baran-Wu feeder gets conductor ratings derived from its base-case power flow
(:func:`derive_line_ratings`). In all four nets ``net.bus.name`` is the paper's bus number and
equals ``net.bus.index + 1``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from functools import cache, lru_cache

import pandapower as pp
import pandapower.networks as pn
import pandas as pd

from .pglib import apply_pglib_costs, apply_pglib_ratings, check_bus_numbers, pglib_case
from .units import with_unit_parameters

__all__ = [
    "ACSR_AMPACITY_A",
    "MAX_BASE_LOADING",
    "derive_line_ratings",
    "ieee14",
    "ieee24",
    "ieee33",
    "ieee118",
]

ACSR_AMPACITY_A: Mapping[str, float] = {
    "#4 ACSR Swan": 140.0,
    "#2 ACSR Sparrow": 184.0,
    "1/0 ACSR Raven": 242.0,
    "3/0 ACSR Pigeon": 315.0,
}
"""Conductor -> ampacity (A) of common overhead distribution ACSR sizes (ASTM B232), typical
manufacturer catalogue values for 75 degC conductor, 25 degC ambient, 0.6 m/s (2 ft/s) wind, sun."""

MAX_BASE_LOADING = 0.8
"""Largest base-case loading (fraction of ampacity) the derived ieee33 ratings allow."""


@cache
def _stock(factory: Callable[[], pp.pandapowerNet]) -> pp.pandapowerNet:
    """pandapower's stock case, loaded once per process (loading takes ~0.8 s, a copy ~10 ms)."""
    return factory()


def _fresh(factory: Callable[[], pp.pandapowerNet]) -> pp.pandapowerNet:
    """An independent copy of pandapower's stock case."""
    return copy.deepcopy(_stock(factory))


def _check_option(name: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(map(repr, valid))}")


def _transmission(
    name: str, factory: Callable, ratings: str, costs: str, unit_parameters: bool
) -> pp.pandapowerNet:
    """Build a pandapower IEEE case and attach the PGLib mapping, ratings and costs."""
    _check_option("ratings", ratings, ("pglib", "pandapower"))
    _check_option("costs", costs, ("pandapower", "pglib"))
    net = _fresh(factory)
    check_bus_numbers(net)
    case = pglib_case(name)
    apply_pglib_ratings(net, case, set_ratings=ratings == "pglib")
    if costs == "pglib":
        apply_pglib_costs(net, case)
    net.name = name
    return with_unit_parameters(net) if unit_parameters else net


_TRANSMISSION_DOC = """{title}

    pandapower's ``{factory}`` (stock impedances, loads, generators and ``poly_cost``) with
    PGLib-OPF v23 ``rate_a`` thermal ratings mapped onto its lines and transformers.

    Parameters
    ----------
    ratings : {{"pglib", "pandapower"}}, default "pglib"
        "pglib": ppc ``RATE_A`` of every branch = PGLib ``rate_a`` (lines via ``max_i_ka``,
        transformers via ``max_loading_percent``, see :func:`apply_pglib_ratings`).
        "pandapower": stock ratings ({stock}).
    costs : {{"pandapower", "pglib"}}, default "pandapower"
        "pglib" replaces ``net.poly_cost`` and the unit P/Q limits by PGLib's
        (:func:`apply_pglib_costs`).
    unit_parameters : bool, default False
        Add assumed ramp / min up-down / start-up columns (:func:`with_unit_parameters`); the
        IEEE data carry none.

    Returns
    -------
    pandapowerNet
        ``net.line`` and ``net.trafo`` carry ``pglib_branch`` (PGLib branch row, 0-based),
        ``pglib_reversed`` and ``pglib_rate_a_mva`` whatever ``ratings`` is.
    """


def ieee14(ratings: str = "pglib", costs: str = "pandapower", unit_parameters: bool = False):
    return _transmission("ieee14", pn.case14, ratings, costs, unit_parameters)


def ieee24(ratings: str = "pglib", costs: str = "pandapower", unit_parameters: bool = False):
    return _transmission("ieee24", pn.case24_ieee_rts, ratings, costs, unit_parameters)


def ieee118(ratings: str = "pglib", costs: str = "pandapower", unit_parameters: bool = False):
    return _transmission("ieee118", pn.case118, ratings, costs, unit_parameters)


ieee14.__doc__ = _TRANSMISSION_DOC.format(
    title="IEEE 14-bus system (14 buses, 15 lines, 5 transformers).",
    factory="case14",
    stock="9900 MVA everywhere: nothing congests",
)
ieee24.__doc__ = _TRANSMISSION_DOC.format(
    title="IEEE 24-bus Reliability Test System (24 buses, 33 lines, 5 transformers).",
    factory="case24_ieee_rts",
    stock="175/500 MVA lines, 400 MVA transformers, the RTS rate A",
)
ieee118.__doc__ = _TRANSMISSION_DOC.format(
    title="IEEE 118-bus system (118 buses, 173 lines, 13 transformers).",
    factory="case118",
    stock="9900 MVA everywhere: nothing congests",
)


def derive_line_ratings(
    net: pp.pandapowerNet,
    conductors: Mapping[str, float] = ACSR_AMPACITY_A,
    max_base_loading: float = MAX_BASE_LOADING,
) -> pd.DataFrame:
    """Size each line with the smallest conductor that carries the base case within a margin.

    Runs an AC power flow of the base case (on a copy) and gives every in-service line the
    smallest conductor whose ampacity is at least ``base current / max_base_loading``.
    Out-of-service lines (normally-open ties) get the smallest conductor.

    Parameters
    ----------
    net : pandapowerNet
        Radial feeder; not modified.
    conductors : Mapping[str, float]
        Conductor name -> ampacity in A.
    max_base_loading : float
        Largest allowed base-case loading, as a fraction of ampacity.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``net.line``: ``conductor``, ``ampacity_a``, ``base_i_a``.

    Raises
    ------
    ValueError
        If a line needs more than the largest conductor.
    """
    sized = pd.Series(conductors, dtype=float).sort_values()
    flow = copy.deepcopy(net)
    pp.runpp(flow, numba=False)
    base = flow.res_line["i_ka"].fillna(0.0) * 1e3 * flow.line["in_service"]
    need = base / max_base_loading
    if (need > sized.iloc[-1]).any():
        raise ValueError(f"lines {list(need.index[need > sized.iloc[-1]])} exceed {sized.idxmax()}")
    pick = sized.searchsorted(need.to_numpy(), side="left")
    table = pd.DataFrame({"conductor": sized.index[pick], "ampacity_a": sized.to_numpy()[pick]})
    table.index = net.line.index
    table["base_i_a"] = base
    return table


@lru_cache(maxsize=1)
def _ieee33_ratings() -> pd.DataFrame:
    """:func:`derive_line_ratings` of the stock case33bw, computed once per process."""
    return derive_line_ratings(_stock(pn.case33bw))


def ieee33(ratings: str = "derived", unit_parameters: bool = False) -> pp.pandapowerNet:
    """Baran-Wu 33-bus, 12.66 kV radial distribution feeder (pandapower ``case33bw``).

    The 5 normally-open tie lines stay out of service. Bus names are renumbered 1..33
    (pandapower stores 0..32), so ``name == index + 1`` like the other networks.

    Parameters
    ----------
    ratings : {"derived", "pandapower"}, default "derived"
        "derived": each line gets the smallest conductor of :data:`ACSR_AMPACITY_A`
        (#4 Swan 140 A, #2 Sparrow 184 A, 1/0 Raven 242 A, 3/0 Pigeon 315 A) that carries its
        base-case AC current at <= 80 % (:func:`derive_line_ratings`); ties get #4 Swan.
        Result: feeder head (line 1-2) 3/0 Pigeon at 66.8 %, the trunk from bus 2 to bus 6 at
        68-77 %, laterals lower; a uniform load growth of 30 % overloads line 2-3 (102.7 %).
        ``net.line`` gains ``conductor``; ``max_loading_percent = 100``.
        "pandapower": stock ``max_i_ka = 99999`` (never congests).
    unit_parameters : bool, default False
        Add assumed unit columns to the ext_grid (:func:`with_unit_parameters`).

    Returns
    -------
    pandapowerNet
    """
    _check_option("ratings", ratings, ("derived", "pandapower"))
    net = _fresh(pn.case33bw)
    net.bus["name"] = net.bus.index + 1
    check_bus_numbers(net)
    if ratings == "derived":
        table = _ieee33_ratings().copy()
        capacity = net.line["df"] * net.line["parallel"]
        net.line["max_i_ka"] = table["ampacity_a"] / 1e3 / capacity
        net.line["conductor"] = table["conductor"]
        net.line["max_loading_percent"] = 100.0
    net.name = "ieee33"
    return with_unit_parameters(net) if unit_parameters else net
