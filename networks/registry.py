"""The built-in networks: :data:`NETWORKS`, :func:`load_network` and :func:`list_networks`."""

from __future__ import annotations

from collections.abc import Callable

import pandapower as pp
import pandas as pd

from .ieee import ieee14, ieee24, ieee33, ieee118
from .yang14 import yang14

__all__ = ["NETWORKS", "list_networks", "load_network"]

NETWORKS: dict[str, Callable[..., pp.pandapowerNet]] = {
    "ieee14": ieee14,
    "ieee24": ieee24,
    "ieee33": ieee33,
    "ieee118": ieee118,
    "yang14": yang14,
}
"""Network name -> constructor."""

_DESCRIPTIONS = {
    "ieee14": "IEEE 14-bus transmission system (pandapower case14)",
    "ieee24": "IEEE 24-bus Reliability Test System (pandapower case24_ieee_rts)",
    "ieee33": "Baran-Wu 33-bus 12.66 kV radial distribution feeder (pandapower case33bw)",
    "ieee118": "IEEE 118-bus transmission system (pandapower case118)",
    "yang14": "Seed 002's 14-node 22 kV radial network (Yang et al. 2021, Table 1)",
}
_PGLIB_SOURCE = "PGLib-OPF v23 rate_a"
_RATINGS = {"ieee14": _PGLIB_SOURCE, "ieee24": _PGLIB_SOURCE, "ieee118": _PGLIB_SOURCE,
            "yang14": "none (voltage limits bind)"}  # fmt: skip


def load_network(name: str, **kwargs) -> pp.pandapowerNet:
    """Build a built-in network by name.

    Parameters
    ----------
    name : str
        One of :data:`NETWORKS` (``ieee14``, ``ieee24``, ``ieee33``, ``ieee118``).
    **kwargs
        Passed to the constructor (e.g. ``ratings``, ``unit_parameters``).

    Returns
    -------
    pandapowerNet

    Raises
    ------
    ValueError
        If ``name`` is unknown; the message lists the valid names.
    """
    if name not in NETWORKS:
        raise ValueError(f"unknown network {name!r}; valid names: {', '.join(NETWORKS)}")
    return NETWORKS[name](**kwargs)


def list_networks() -> pd.DataFrame:
    """Summary of the built-in networks (each is built once, with default options).

    Returns
    -------
    pandas.DataFrame
        One row per network: ``name``, ``function``, ``n_bus``, ``n_line``, ``n_trafo``,
        ``n_gen`` (gen + sgen + ext_grid), ``load_mw`` (total load), ``ratings`` (source of the
        default branch ratings) and ``description``.
    """
    rows = []
    for name, build in NETWORKS.items():
        net = build()
        rows.append(
            {
                "name": name,
                "function": f"gridflex.networks.{build.__name__}",
                "n_bus": len(net.bus),
                "n_line": len(net.line),
                "n_trafo": len(net.trafo),
                "n_gen": len(net.gen) + len(net.sgen) + len(net.ext_grid),
                "load_mw": float(net.load["p_mw"].sum()),
                "ratings": _RATINGS.get(name, "derived, see docs"),
                "description": _DESCRIPTIONS[name],
            }
        )
    return pd.DataFrame(rows)
