"""A safe, portable result folder: every table as Parquet, the rest as plain JSON.

``Results.save(directory)`` writes the folder ``directory/result/``:

* ``manifest.json``: a format tag and version, the scalars of a :class:`~gridflex.results.
  Results` (objective, solver, periods, occurrences, plan, injections), each net's element
  tables (floats written by Python's ``repr``, so they load back bit for bit) and, per table,
  its Parquet file, column labels, dtypes and the period index's frequency;
* ``tables/<name>.parquet`` (every ``res_*`` table), ``costs.parquet``,
  ``investments.parquet`` and ``networks/<net>/<name>.parquet`` (a several-network model's
  tables per network; a table that is also the whole model's is written once): readable by
  pandas, pyarrow, polars, DuckDB or R's ``arrow``, with columns named ``<quantity>/<element>``
  (``p_mw/0``) and the period as the index;
* ``nets/<net>.json``: each net in pandapower's own format, for ``pandapower.from_json``.
  gridflex never reads these back (pandapower's reader imports and calls classes named in the
  file); it rebuilds the nets from the manifest's tables.

Loading reads JSON and Parquet only: nothing is imported, called or unpickled from the folder
(dtypes come from a short list, time zones must be IANA names or offsets, files must be files
inside the folder), so a crafted folder can at worst fail to load, with an ``InputError``. The
manifest is strict JSON (NaN and infinities tagged as ``{"f": "nan"}``). The folder is
written beside the target and renamed onto it when whole.
"""

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from gridflex.errors import InputError

FORMAT, VERSION = "gridflex-result", 2
FOLDER, MANIFEST = "result", "manifest.json"
NET_TABLES = ("bus", "line", "trafo", "trafo3w", "load", "sgen", "gen", "ext_grid", "shunt",
              "switch", "impedance", "ward", "xward", "storage", "dcline", "asymmetric_load",
              "asymmetric_sgen", "motor", "poly_cost", "pwl_cost")  # fmt: skip


# --- scalars, indexes and frames --------------------------------------------------------------
def _scalar(value):
    """A JSON-safe Python value (strict JSON: NaN and infinities as ``{"f": "nan"}``);
    timestamps as ``{"t": iso}``, tuples and lists tagged."""
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return {"t": value.isoformat()}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else {"f": repr(value)}
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, tuple | list):
        return {type(value).__name__: [_scalar(v) for v in value]}
    raise InputError(f"result file: cannot store a value of type {type(value).__name__}")


def floats(values):
    """A float array as a strict-JSON list (see :func:`_scalar`)."""
    return [_scalar(float(v)) for v in np.asarray(values, dtype=float).ravel()]


def unfloats(values):
    return np.asarray([_unscalar(v) for v in values], dtype=float)


def _unscalar(value):
    if isinstance(value, dict):
        if "t" in value:
            return pd.Timestamp(value["t"])
        if "f" in value and value["f"] in ("nan", "inf", "-inf"):
            return float(value["f"])
        if "tuple" in value:
            return tuple(_unscalar(v) for v in value["tuple"])
        if "list" in value:
            return [_unscalar(v) for v in value["list"]]
        raise InputError(f"result file: unknown value {value!r}")
    return value


def _timezone_name(index):
    """A time zone as a name gridflex reads back (an IANA name or a fixed ``+HH:MM``)."""
    name = str(index.tz)
    if _known_timezone(name):
        return name
    offset = index[0].utcoffset() if len(index) else pd.Timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _known_timezone(name):
    """IANA names, UTC and fixed offsets only (a time-zone string can name a file to open)."""
    import zoneinfo

    if re.fullmatch(r"(UTC)?[+-]\d\d:\d\d", str(name)) or name == "UTC":
        return True
    return str(name) in zoneinfo.available_timezones()


def _timezone(name):
    if not _known_timezone(name):
        raise InputError(f"result file: time zone {name!r} is not an IANA name or an offset")
    return name.removeprefix("UTC") if name != "UTC" else name


def encode_index(index):
    if isinstance(index, pd.MultiIndex):
        levels = [encode_index(index.get_level_values(k)) for k in range(index.nlevels)]
        return {"kind": "multi", "names": list(index.names), "levels": levels}
    if isinstance(index, pd.RangeIndex):
        return {"kind": "range", "start": index.start, "stop": index.stop, "step": index.step,
                "name": _scalar(index.name)}  # fmt: skip
    if isinstance(index, pd.DatetimeIndex):
        return {"kind": "datetime", "values": [t.isoformat() for t in index],
                "tz": _timezone_name(index) if index.tz else None, "freq": index.freqstr,
                "unit": index.unit, "name": _scalar(index.name)}  # fmt: skip
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
        tz = spec["tz"] and _timezone(spec["tz"])
        index = pd.DatetimeIndex(pd.to_datetime(spec["values"], utc=bool(tz)), name=spec["name"])
        index = index.tz_convert(tz) if tz else index  # across a DST change: UTC, then the zone
        index = index.as_unit(spec.get("unit", "ns"))
        return pd.DatetimeIndex(index, freq=spec.get("freq")) if spec.get("freq") else index
    if kind == "values":
        values = [_unscalar(v) for v in spec["values"]]
        return pd.Index(values, dtype=_dtype(spec["dtype"]), name=_unscalar(spec["name"]))
    raise InputError(f"result file: unknown index kind {kind!r}")


def _dtype(name):
    """A dtype from a small list of names (never an arbitrary string passed to numpy)."""
    allowed = {"float64", "int64", "int32", "bool", "object", "uint32", "uint64", "float32",
               "string", "str", "boolean", "Int64"}  # fmt: skip
    stamp = re.fullmatch(r"datetime64\[(ns|us|ms|s)(?:, (.+))?\]", str(name))
    if name not in allowed and not (stamp and (stamp[2] is None or _known_timezone(stamp[2]))):
        raise InputError(f"result file: dtype {name!r} is not one gridflex writes")
    return "object" if name in ("string", "str") else name


def encode_frame(frame):
    columns = [_column_values(frame.iloc[:, k]) for k in range(frame.shape[1])]
    return {"index": encode_index(frame.index), "columns": encode_index(frame.columns),
            "dtypes": [str(d) for d in frame.dtypes], "values": columns}  # fmt: skip


def _column_values(series):
    if series.dtype.kind == "f":
        return floats(series.to_numpy())
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


# --- frames as Parquet ------------------------------------------------------------------------
class ParquetFrames:
    """Writes frames as Parquet files under ``folder``; :meth:`write` returns the manifest entry
    that :func:`read_frame` needs to give the frame back exactly."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.written = {}  # id(frame) -> (frame, entry): a shared frame is written once

    def write(self, frame, relative):
        """Write ``frame`` to ``folder/relative`` (zstd-compressed); object columns pyarrow
        cannot type (mixed labels) and an index it cannot store go into the entry as JSON."""
        if id(frame) not in self.written:  # the frame is kept, so its id is not reused
            self.written[id(frame)] = (frame, self._write(frame, relative))
        return self.written[id(frame)][1]

    def _write(self, frame, relative):
        import pyarrow as pa
        import pyarrow.parquet as pq

        flat = frame.set_axis(_flat_names(frame.columns), axis=1)
        entry = {"file": relative, "columns": encode_index(frame.columns),
                 "dtypes": [str(d) for d in frame.dtypes],
                 "freq": getattr(frame.index, "freqstr", None), "json_columns": {},
                 "index_unit": getattr(frame.index, "unit", None)}  # fmt: skip
        try:
            table = pa.Table.from_pandas(flat)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            table, entry = _with_json_fallback(flat, entry)
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, compression="zstd")
        return entry


def _flat_names(columns):
    """Unique string column names: ``quantity/element`` for two levels (``#k`` after a name
    seen before; positions ``c0, c1, ...`` if even that clashes)."""
    names = ["/".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in columns]
    seen = {}
    for k, name in enumerate(names):
        seen[name] = seen.get(name, -1) + 1
        names[k] = name if seen[name] == 0 else f"{name}#{seen[name]}"
    return names if len(set(names)) == len(names) else [f"c{k}" for k in range(len(names))]


def _with_json_fallback(flat, entry):
    import pyarrow as pa

    objects = [k for k in range(flat.shape[1]) if flat.dtypes.iloc[k].kind == "O"]
    entry["json_columns"] = {str(k): _column_values(flat.iloc[:, k]) for k in objects}
    rest = flat.drop(columns=flat.columns[objects])
    try:
        return pa.Table.from_pandas(rest), entry
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        entry["index"] = encode_index(flat.index)
        return pa.Table.from_pandas(rest, preserve_index=False), entry


def read_frame(folder, entry):
    """The frame of manifest ``entry`` under ``folder`` (its file must be a file inside
    ``folder``, its time zones IANA names or offsets)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = _inside(folder, entry["file"])
    try:
        with open(path, "rb") as f:  # one file, never a directory read as a dataset
            table = pq.read_table(f)
        _check_timezones(table, path)
        frame = table.to_pandas()
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{path}: not a readable Parquet table ({exc})") from None
    if "index" in entry:
        frame.index = decode_index(entry["index"])
    for position, values in sorted(entry["json_columns"].items(), key=lambda kv: int(kv[0])):
        frame.insert(int(position), f"json{position}", [_unscalar(v) for v in values],
                     allow_duplicates=True)  # fmt: skip
    return _typed(frame, entry, path)


def _check_timezones(table, path):
    """Refuse a time zone that is not an IANA name or an offset (in the schema or in pandas'
    metadata): resolving an arbitrary time-zone string can open a file."""
    import pyarrow as pa

    zones = [f.type.tz for f in table.schema if pa.types.is_timestamp(f.type) and f.type.tz]
    meta = table.schema.pandas_metadata or {}
    for column in meta.get("columns", []) + meta.get("column_indexes", []):
        zones.append((column.get("metadata") or {}).get("timezone"))
    for zone in filter(None, zones):
        if not _known_timezone(zone):
            raise InputError(f"{path}: time zone {zone!r} is not an IANA name or an offset")


def _typed(frame, entry, path):
    columns = decode_index(entry["columns"])
    if frame.shape[1] != len(columns) or len(columns) != len(entry["dtypes"]):
        raise InputError(f"{path}: {frame.shape[1]} columns, the manifest names {len(columns)}")
    frame.columns = columns
    loaded = [str(d) for d in frame.dtypes]
    for k in np.flatnonzero(np.asarray(loaded) != np.asarray(entry["dtypes"], dtype=str)):
        if not (loaded[k].startswith("datetime64") and entry["dtypes"][k].startswith("datetime")):
            frame.isetitem(k, frame.iloc[:, k].astype(_dtype(entry["dtypes"][k])))
    if isinstance(frame.index, pd.DatetimeIndex):
        index = frame.index.as_unit(entry.get("index_unit") or frame.index.unit)
        frame.index = pd.DatetimeIndex(index, freq=entry.get("freq"))
    return frame


def _inside(folder, relative):
    folder = Path(folder).resolve()
    path = (folder / str(relative)).resolve()
    if folder not in path.parents or path.suffix != ".parquet" or not path.is_file():
        raise InputError(f"result manifest: file {relative!r} is not a Parquet file inside "
                         f"{folder}")  # fmt: skip
    return path


def safe_names(names):
    """``{name: file name}``: letters, digits, ``_`` and ``-`` (anything else ``_``), made
    unique by a number where two names would clash (``east 1`` and ``east_1``)."""
    out, used = {}, set()
    for name in names:
        base = re.sub(r"[^A-Za-z0-9_-]", "_", str(name)) or "_"
        candidate, k = base, 1
        while candidate.lower() in used:  # case-insensitive file systems too
            k += 1
            candidate = f"{base}-{k}"
        used.add(candidate.lower())
        out[name] = candidate
    return out


# --- the folder -------------------------------------------------------------------------------
def save_folder(directory, build, nets):
    """Write the result folder ``directory/result`` whole: ``build(frames)`` returns the manifest
    (writing its tables through ``frames``), ``nets`` are exported as pandapower JSON; all of
    it goes to a staging folder renamed onto ``directory/result`` at the end."""
    import os
    import shutil

    import pandapower as pp

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    from gridflex.output import publish, remove_stale, restore_orphan

    restore_orphan(directory / FOLDER)
    remove_stale(directory, f".{FOLDER}.partial-")
    staging = directory / f".{FOLDER}.partial-{os.getpid()}-{os.urandom(4).hex()}"
    staging.mkdir()
    try:
        document = build(ParquetFrames(staging))
        for name, file in safe_names(nets).items():
            (staging / "nets").mkdir(exist_ok=True)
            pp.to_json(nets[name], str(staging / "nets" / f"{file}.json"))
        dump(document, staging / MANIFEST)
        publish(staging, directory / FOLDER)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return directory / FOLDER


def dump(document, path):
    """Write ``document`` as JSON (floats exact) to ``path``."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(document, f, allow_nan=False)  # strict JSON: non-finite floats are tagged


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
