"""A small reader for MATPOWER version-2 case files (``.m``), no MATLAB or Octave needed.

Only the numeric matrices a study needs are read: ``mpc.baseMVA``, ``mpc.bus``, ``mpc.gen``,
``mpc.gencost`` and ``mpc.branch``. Column names follow MATPOWER's ``idx_bus``, ``idx_gen``,
``idx_brch`` and ``idx_cost`` constants in lower case (``f_bus``, ``t_bus``, ``br_r``, ``rate_a``,
``tap``, ...). Bus, generator and branch numbers keep MATPOWER's 1-based numbering; the DataFrame
index is the 0-based row number in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "BRANCH_COLUMNS",
    "BUS_COLUMNS",
    "GENCOST_COLUMNS",
    "GEN_COLUMNS",
    "MatpowerCase",
    "parse_matpower",
    "read_matpower",
]

BUS_COLUMNS = (
    "bus_i", "bus_type", "pd", "qd", "gs", "bs", "bus_area", "vm", "va", "base_kv", "zone",
    "vmax", "vmin", "lam_p", "lam_q", "mu_vmax", "mu_vmin",
)  # fmt: skip
GEN_COLUMNS = (
    "gen_bus", "pg", "qg", "qmax", "qmin", "vg", "mbase", "gen_status", "pmax", "pmin", "pc1",
    "pc2", "qc1min", "qc1max", "qc2min", "qc2max", "ramp_agc", "ramp_10", "ramp_30", "ramp_q",
    "apf", "mu_pmax", "mu_pmin", "mu_qmax", "mu_qmin",
)  # fmt: skip
BRANCH_COLUMNS = (
    "f_bus", "t_bus", "br_r", "br_x", "br_b", "rate_a", "rate_b", "rate_c", "tap", "shift",
    "br_status", "angmin", "angmax", "pf", "qf", "pt", "qt", "mu_sf", "mu_st", "mu_angmin",
    "mu_angmax",
)  # fmt: skip
GENCOST_COLUMNS = ("model", "startup", "shutdown", "ncost")
"""Fixed gencost columns; the coefficients follow as ``cost_1``, ``cost_2``, ... (MATPOWER's
``COST`` onwards: for a polynomial (model 2) ``c(n-1) ... c1 c0``, highest order first)."""

_INTEGER_COLUMNS = ("bus_i", "bus_type", "gen_bus", "f_bus", "t_bus", "model", "ncost")


@dataclass(frozen=True)
class MatpowerCase:
    """The numeric content of a MATPOWER case.

    Attributes
    ----------
    base_mva : float
        System MVA base (``mpc.baseMVA``).
    bus, gen, gencost, branch : pandas.DataFrame
        The matrices with MATPOWER column names; ``gencost`` is empty if the file has none.
    """

    base_mva: float
    bus: pd.DataFrame
    gen: pd.DataFrame
    gencost: pd.DataFrame
    branch: pd.DataFrame


def _strip_comments(text: str) -> str:
    """Remove MATLAB ``%`` comments (case files hold no strings in the numeric matrices)."""
    return "\n".join(line.split("%", 1)[0] for line in text.splitlines())


def _matrix(text: str, name: str) -> np.ndarray | None:
    """Parse ``mpc.<name> = [ ... ];`` into a 2-D float array, or None if absent."""
    match = re.search(rf"mpc\.{name}\s*=\s*\[(.*?)\]\s*;?", text, flags=re.DOTALL)
    if match is None:
        return None
    rows = [r for r in re.split(r"[;\n]", match.group(1)) if r.strip()]
    values = [[float(v) for v in re.split(r"[\s,]+", r.strip())] for r in rows]
    widths = {len(v) for v in values}
    if len(widths) > 1:
        raise ValueError(f"mpc.{name}: rows have different lengths {sorted(widths)}")
    return np.array(values, dtype=float).reshape(len(values), -1)


def _frame(array: np.ndarray | None, columns: tuple[str, ...], name: str) -> pd.DataFrame:
    """Name the columns of a matrix; extra gencost columns become ``cost_1``, ``cost_2``, ..."""
    if array is None:
        return pd.DataFrame(columns=list(columns))
    n = array.shape[1]
    if n > len(columns) and name != "gencost":
        raise ValueError(f"mpc.{name} has {n} columns, at most {len(columns)} are known")
    names = list(columns[:n]) + [f"cost_{i + 1}" for i in range(n - len(columns))]
    frame = pd.DataFrame(array, columns=names)
    for col in set(_INTEGER_COLUMNS) & set(names):
        frame[col] = frame[col].astype(np.int64)
    return frame


def parse_matpower(text: str) -> MatpowerCase:
    """Parse the text of a MATPOWER version-2 case file.

    Parameters
    ----------
    text : str
        Content of a ``.m`` case file.

    Returns
    -------
    MatpowerCase
        ``base_mva`` and the ``bus``, ``gen``, ``gencost`` and ``branch`` tables.

    Raises
    ------
    ValueError
        If ``mpc.baseMVA``, ``mpc.bus``, ``mpc.gen`` or ``mpc.branch`` is missing.
    """
    clean = _strip_comments(text)
    base = re.search(r"mpc\.baseMVA\s*=\s*([-+0-9.eE]+)", clean)
    mats = {n: _matrix(clean, n) for n in ("bus", "gen", "gencost", "branch")}
    missing = [n for n in ("bus", "gen", "branch") if mats[n] is None]
    if base is None or missing:
        raise ValueError(f"not a MATPOWER case: missing {['baseMVA'] * (base is None) + missing}")
    return MatpowerCase(
        base_mva=float(base.group(1)),
        bus=_frame(mats["bus"], BUS_COLUMNS, "bus"),
        gen=_frame(mats["gen"], GEN_COLUMNS, "gen"),
        gencost=_frame(mats["gencost"], GENCOST_COLUMNS, "gencost"),
        branch=_frame(mats["branch"], BRANCH_COLUMNS, "branch"),
    )


def read_matpower(path: str | PathLike | object) -> MatpowerCase:
    """Read a MATPOWER version-2 case file.

    Parameters
    ----------
    path : str, os.PathLike or importlib.resources.abc.Traversable
        The ``.m`` file (anything with ``read_text`` or an openable path).

    Returns
    -------
    MatpowerCase
        See :func:`parse_matpower`.
    """
    reader = path if hasattr(path, "read_text") else Path(path)
    return parse_matpower(reader.read_text(encoding="utf-8"))
