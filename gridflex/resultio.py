"""A safe, portable result file: every table, the costs and the nets as plain JSON.

``result.json`` holds a format tag and version, the scalars of a :class:`~gridflex.results.
Results`, each pandas frame as its index, columns, dtypes and values (floats written by Python's
``repr``, so they load back bit for bit; NaN and infinities as JSON's ``NaN``/``Infinity``),
timestamps as ISO strings with their time zone, and each pandapower net as its element tables.
Loading reads JSON and builds frames and nets from those values only: nothing is imported,
called or unpickled from the file, so a crafted file can at worst fail to load.
"""

import json
import math

import numpy as np
import pandas as pd

from gridflex.errors import InputError

FORMAT, VERSION = "gridflex-result", 1
NET_TABLES = ("bus", "line", "trafo", "trafo3w", "load", "sgen", "gen", "ext_grid", "shunt",
              "switch", "impedance", "ward", "xward", "storage", "dcline", "asymmetric_load",
              "asymmetric_sgen", "motor", "poly_cost", "pwl_cost")  # fmt: skip


# --- scalars, indexes and frames --------------------------------------------------------------
def _scalar(value):
    """A JSON-safe Python scalar; timestamps as ``{"t": iso}``."""
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return {"t": value.isoformat()}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, tuple):
        return {"tuple": [_scalar(v) for v in value]}
    raise InputError(f"result file: cannot store a value of type {type(value).__name__}")


def _unscalar(value):
    if isinstance(value, dict):
        if "t" in value:
            return pd.Timestamp(value["t"])
        if "tuple" in value:
            return tuple(_unscalar(v) for v in value["tuple"])
        raise InputError(f"result file: unknown value {value!r}")
    return value


def encode_index(index):
    if isinstance(index, pd.MultiIndex):
        levels = [encode_index(index.get_level_values(k)) for k in range(index.nlevels)]
        return {"kind": "multi", "names": list(index.names), "levels": levels}
    if isinstance(index, pd.RangeIndex):
        return {"kind": "range", "start": index.start, "stop": index.stop, "step": index.step,
                "name": _scalar(index.name)}  # fmt: skip
    if isinstance(index, pd.DatetimeIndex):
        return {"kind": "datetime", "values": [t.isoformat() for t in index],
                "tz": str(index.tz) if index.tz else None, "freq": index.freqstr,
                "name": _scalar(index.name)}  # fmt: skip
    return {"kind": "values", "values": [_scalar(v) for v in index], "dtype": str(index.dtype),
            "name": _scalar(index.name)}  # fmt: skip


def decode_index(spec):
    kind = spec.get("kind")
    if kind == "multi":
        levels = [decode_index(level) for level in spec["levels"]]
        return pd.MultiIndex.from_arrays(levels, names=spec["names"])
    if kind == "range":
        return pd.RangeIndex(spec["start"], spec["stop"], spec["step"], name=spec["name"])
    if kind == "datetime":
        index = pd.DatetimeIndex([pd.Timestamp(v) for v in spec["values"]], name=spec["name"])
        if spec["tz"] and index.tz is not None:
            index = index.tz_convert(spec["tz"])
        return pd.DatetimeIndex(index, freq=spec.get("freq")) if spec.get("freq") else index
    if kind == "values":
        values = [_unscalar(v) for v in spec["values"]]
        return pd.Index(values, dtype=_dtype(spec["dtype"]), name=_unscalar(spec["name"]))
    raise InputError(f"result file: unknown index kind {kind!r}")


def _dtype(name):
    """A dtype from a small list of names (never an arbitrary string passed to numpy)."""
    allowed = {"float64", "int64", "int32", "bool", "object", "uint32", "uint64", "float32",
               "string", "str", "boolean", "Int64"}  # fmt: skip
    if name not in allowed and not name.startswith("datetime64"):
        raise InputError(f"result file: dtype {name!r} is not one gridflex writes")
    return "object" if name in ("string", "str") else name


def encode_frame(frame):
    columns = [_column_values(frame.iloc[:, k]) for k in range(frame.shape[1])]
    return {"index": encode_index(frame.index), "columns": encode_index(frame.columns),
            "dtypes": [str(d) for d in frame.dtypes], "values": columns}  # fmt: skip


def _column_values(series):
    if series.dtype.kind == "f":
        return [float(v) for v in series.to_numpy()]
    return [_scalar(v) for v in series.tolist()]


def decode_frame(spec):
    index, columns = decode_index(spec["index"]), decode_index(spec["columns"])
    data = {}
    for k, (dtype, values) in enumerate(zip(spec["dtypes"], spec["values"], strict=True)):
        values = [_unscalar(v) for v in values]
        data[k] = pd.Series(values, index=index, dtype=_dtype(dtype))
    frame = pd.DataFrame(data, index=index)
    frame.columns = columns
    return frame


# --- nets -------------------------------------------------------------------------------------
def encode_net(net):
    tables = {t: encode_frame(net[t]) for t in NET_TABLES if t in net and len(net[t])}
    return {"sn_mva": float(net.sn_mva), "f_hz": float(net.f_hz), "name": str(net.name or ""),
            "tables": tables}  # fmt: skip


def decode_net(spec):
    import pandapower as pp

    net = pp.create_empty_network(name=spec["name"], f_hz=spec["f_hz"], sn_mva=spec["sn_mva"])
    for table, frame in spec["tables"].items():
        if table not in NET_TABLES:
            raise InputError(f"result file: unknown net table {table!r}")
        loaded = decode_frame(frame)
        for column in net[table].columns.intersection(loaded.columns):  # pandapower's dtypes
            if net[table][column].dtype == bool:
                loaded[column] = loaded[column].astype(bool)
        net[table] = loaded
    return net


# --- the file ---------------------------------------------------------------------------------
def dump(document, path):
    """Write ``document`` as JSON (floats exact) to ``path`` through a temporary file."""
    import os

    temporary = path.with_name(path.name + ".partial")
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump(document, f, allow_nan=True)
    os.replace(temporary, path)


def read(path):
    """The JSON document at ``path``, checked to be a gridflex result of a known version."""
    try:
        with open(path, encoding="utf-8") as f:
            document = json.load(f, parse_constant=_constant)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable gridflex result file ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InputError(f"{path}: not a gridflex result file (no format tag {FORMAT!r})")
    if document.get("version") != VERSION:
        raise InputError(f"{path}: result format version {document.get('version')!r}; this "
                         f"gridflex reads version {VERSION}")  # fmt: skip
    return document


def _constant(name):
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[name]
