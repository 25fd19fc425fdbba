"""Assumed, typical unit-commitment parameters by unit size (the IEEE cases carry none).

The IEEE 14/24/118/33-bus data give generator limits and costs but no ramp rates, minimum up/down
times or start-up costs. :data:`UNIT_CLASSES` fills them by installed size with typical literature
values; they are assumptions for studies, not data of the test systems. docs/networks.md gives the
rationale and sources.
"""

from __future__ import annotations

import copy

import numpy as np
import pandapower as pp
import pandas as pd
from numpy.typing import ArrayLike

from gridflex.devices.net_elements import UNIT_PARAMETER_COLUMNS

__all__ = [
    "UNIT_CLASSES",
    "UNIT_PARAMETER_COLUMNS",
    "typical_unit_parameters",
    "with_unit_parameters",
]

UNIT_CLASSES = pd.DataFrame(
    {
        "size_class": ["peaker", "mid-merit", "large", "base-load"],
        "p_from_mw": [0.0, 50.0, 200.0, 400.0],  # class applies for p_from_mw <= Pmax < next one
        "technology": [
            "open-cycle gas turbine / engine",
            "combined cycle, small steam",
            "coal / large combined cycle",
            "large coal / nuclear",
        ],
        "ramp_pct_per_min": [10.0, 4.0, 2.0, 1.0],  # % of Pmax per minute, up and down
        "min_up_h": [1.0, 4.0, 8.0, 24.0],
        "min_down_h": [1.0, 2.0, 6.0, 12.0],
        "startup_cost_per_mw": [30.0, 60.0, 90.0, 120.0],  # currency per start per MW of Pmax
    }
)
"""Size classes with their assumed, typical parameters (see docs/networks.md for sources)."""

# The column names are the contract with gridflex.devices.net_elements, which reads them.


def typical_unit_parameters(p_max_mw: ArrayLike) -> pd.DataFrame:
    """Assumed, typical unit-commitment parameters for units of the given size.

    Classes by ``p_max_mw``: < 50 MW peaker, 50-200 MW mid-merit, 200-400 MW large,
    >= 400 MW base-load (:data:`UNIT_CLASSES`). Ramp rates are a % of Pmax per minute (10, 4, 2,
    1 %/min) times 60, equal up and down; start-up cost is 30, 60, 90 or 120 per MW of Pmax.

    Parameters
    ----------
    p_max_mw : float or array-like
        Installed active power of each unit, MW (>= 0). NaN gives a NaN row.

    Returns
    -------
    pandas.DataFrame
        One row per unit (index of a Series input is kept): ``size_class``,
        ``ramp_up_mw_per_h``, ``ramp_down_mw_per_h``, ``min_up_h``, ``min_down_h``,
        ``startup_cost`` (same currency as ``net.poly_cost``, per start).

    Raises
    ------
    ValueError
        If any size is negative.
    """
    index = p_max_mw.index if isinstance(p_max_mw, pd.Series) else None
    p = np.atleast_1d(np.asarray(p_max_mw, dtype=float))
    if (p < 0).any():
        raise ValueError(f"p_max_mw must be >= 0, got {p[p < 0].tolist()}")
    pos = np.searchsorted(UNIT_CLASSES["p_from_mw"].to_numpy(), p, side="right") - 1
    known = ~np.isnan(p)
    cls = UNIT_CLASSES.iloc[np.where(known, pos, 0)].reset_index(drop=True)
    ramp = cls["ramp_pct_per_min"].to_numpy() / 100.0 * 60.0 * p
    out = pd.DataFrame(
        {
            "size_class": cls["size_class"].where(known, None).to_numpy(),
            "ramp_up_mw_per_h": ramp,
            "ramp_down_mw_per_h": ramp,
            "min_up_h": np.where(known, cls["min_up_h"], np.nan),
            "min_down_h": np.where(known, cls["min_down_h"], np.nan),
            "startup_cost": cls["startup_cost_per_mw"].to_numpy() * p,
        },
        index=index,
    )
    return out


def _unit_rows(net: pp.pandapowerNet, et: str) -> pd.Index:
    """Rows that get parameters: all gens and ext_grids, controllable sgens."""
    table = net[et]
    if et != "sgen":
        return table.index
    controllable = table.get("controllable", pd.Series(False, index=table.index))
    return table.index[controllable.fillna(False).astype(bool)]


def with_unit_parameters(net: pp.pandapowerNet) -> pp.pandapowerNet:
    """Copy of ``net`` with :func:`typical_unit_parameters` columns on its units.

    ``net.gen``, the controllable rows of ``net.sgen`` and ``net.ext_grid`` gain ``size_class``
    and :data:`UNIT_PARAMETER_COLUMNS` from their ``max_p_mw``. Values already present (non-NaN)
    are kept; other rows stay NaN.

    Parameters
    ----------
    net : pandapowerNet
        Not modified.

    Returns
    -------
    pandapowerNet
        The copy.
    """
    out = copy.deepcopy(net)
    for et in ("gen", "sgen", "ext_grid"):
        rows = _unit_rows(out, et)
        p_max = out[et].get("max_p_mw", pd.Series(np.nan, index=out[et].index))
        params = typical_unit_parameters(p_max.loc[rows].astype(float))
        for col in ("size_class", *UNIT_PARAMETER_COLUMNS):
            if col not in out[et]:
                out[et][col] = None if col == "size_class" else np.nan
            missing = out[et].loc[rows, col].isna()
            out[et].loc[rows[missing.to_numpy()], col] = params.loc[missing.index[missing], col]
    return out
