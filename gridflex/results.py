"""Results: pandas tables of an optimal solution, named and signed like pandapower's.

Every ``res_*`` table is indexed by period and has two column levels: the quantity with its unit
(``p_mw``, ``e_mwh``, ``price_per_mwh``, ...) and the element (pandapower index for net
elements, the device's unit label otherwise). ``result.res_gen["p_mw"]`` is therefore a
periods x generators frame. Signs follow :mod:`gridflex.conventions`.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridflex.errors import InputError


@dataclass
class DeviceInjection:
    """One device's solved injections per terminal (producing positive), for AC validation."""

    device: str
    net_table: str | None  # pandapower table of net elements ("gen", "load", ...), else None
    unit_labels: list
    networks: list  # network name per terminal
    buses: np.ndarray  # pandapower bus per terminal
    p_mw: np.ndarray  # (n_terminals, T)
    q_mvar: np.ndarray | None  # (n_terminals, T), None where the model has no reactive power
    power_factor: float


RESULT_FILE = "result/manifest.json"  # see gridflex.resultio


class Results:
    """Tables of one optimal solve.

    Attributes
    ----------
    objective : float
        Optimal total cost.
    costs : pandas.DataFrame
        One row per (device, component) with column ``cost`` (the inputs' currency).
    solver, status : str
    tables : dict
        All ``res_*`` tables; each is also an attribute (``result.res_bus``, ...).
    """

    def __init__(
        self,
        tables,
        costs,
        objective,
        solver,
        status,
        periods,
        dt_h,
        by_network=None,
        injections=None,
        nets=None,
        occurrences=None,
    ):
        self.tables = tables
        self.by_network = by_network or {}
        self.injections = injections or []  # DeviceInjection records, for AC validation
        self.nets = nets or {}  # network name -> pandapower net (never modified)
        self.costs = costs
        self.objective = float(objective)
        self.solver, self.status = solver, status
        self.periods, self.dt_h = periods, dt_h
        # how often each period occurs in the objective (block weight x probability), (T,)
        self.occurrences = np.ones(len(periods)) if occurrences is None else occurrences
        # planning: one row per candidate (built, stage, capital and charged cost), or None
        self.investments = None
        # {network: {(element, index): in service per period (T,)}} of built candidate branches
        self.built_branches = {}

    def __getattr__(self, name):
        if name.startswith("res_"):
            tables = self.__dict__.get("tables", {})
            if name in tables:
                return tables[name]
            raise AttributeError(
                f"no table '{name}' in these results; available: {', '.join(sorted(tables))}"
            )
        raise AttributeError(name)

    def save(self, directory):
        """Write these results into the folder ``directory/result/`` (:mod:`gridflex.resultio`:
        every table as Parquet, the costs, the plan and the nets in a JSON manifest that loads
        back exactly and never runs code, each net also as pandapower JSON); returns the
        folder. The folder is written beside and renamed into place when whole."""
        from gridflex import resultio

        return resultio.save_folder(directory, lambda frames: _encode(self, frames), self.nets)

    @staticmethod
    def load(directory):
        """Results saved by :meth:`save` into ``directory`` (``directory/result/``). Only the
        manifest and Parquet tables are read (an old ``result.pkl`` is refused, never
        unpickled)."""
        from pathlib import Path

        from gridflex import resultio

        folder = Path(directory) / resultio.FOLDER
        if not (folder / resultio.MANIFEST).is_file():
            raise InputError(f"no saved result in {directory} (expected {RESULT_FILE}, written "
                             "by 'gridflex run' or Results.save)" + _older(directory))  # fmt: skip
        read = {}  # file -> frame: a table shared by two groups is read once, shared again

        def frame(entry):
            if entry["file"] not in read:
                read[entry["file"]] = resultio.read_frame(folder, entry)
            return read[entry["file"]]

        try:
            return _decode(resultio.read(folder / resultio.MANIFEST), frame)
        except InputError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise InputError(f"{folder}: a broken result manifest ({type(exc).__name__}: "
                             f"{exc})") from None  # fmt: skip

    def validate_ac(self, network=None, **runpp_options):
        """AC power flow of every period (see :func:`gridflex.validation.validate_ac`)."""
        from gridflex.validation import validate_ac

        return validate_ac(self, network, **runpp_options)

    def network(self, name):
        """The results of network ``name`` of a several-network model (same costs, objective)."""
        if name not in self.by_network:
            raise KeyError(
                f"no network '{name}' in these results; networks: {list(self.by_network)}"
            )
        out = Results(
            self.by_network[name],
            self.costs,
            self.objective,
            self.solver,
            self.status,
            self.periods,
            self.dt_h,
            by_network=self.by_network,
            injections=self.injections,
            nets=self.nets,
            occurrences=self.occurrences,
        )
        out.investments, out.built_branches = self.investments, self.built_branches
        return out

    def __repr__(self):
        return (
            f"Results(objective={self.objective:.6g}, solver={self.solver}, "
            f"periods={len(self.periods)}, tables={sorted(self.tables)})"
        )

    def summary(self):
        """A small dict for reports: objective, cost by component, energy totals in MWh."""
        by_component = self.costs.groupby(level="component")["cost"].sum()
        return {
            "objective": self.objective,
            "solver": self.solver,
            "periods": len(self.periods),
            "dt_h": self.dt_h,
            "cost_by_component": by_component.to_dict(),
            "energy_mwh": self.energy_mwh().to_dict(),
        }

    def energy_mwh(self):
        """Total energy per table of ``p_mw`` over what the periods stand for (each period
        ``dt_h`` times its block's weight and probability; the horizon for one block of weight
        1; with stages, one year of each stage, undiscounted), signs as in each table."""
        out, hours = {}, self.occurrences * self.dt_h
        for name, table in self.tables.items():
            if name in ("res_bus", "res_line", "res_trafo") or "p_mw" not in table:
                continue
            out[name] = float(hours @ table["p_mw"].to_numpy().sum(axis=1))
        return pd.Series(out, name="energy_mwh")

    def to_csv(self, directory):
        """Write every table as ``<name>.csv`` and the cost breakdown as ``costs.csv``."""
        from pathlib import Path

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name, table in self.tables.items():
            table.to_csv(directory / f"{name}.csv")
        self.costs.to_csv(directory / "costs.csv")
        if self.investments is not None:
            self.investments.to_csv(directory / "investments.csv")


# --- the result folder ------------------------------------------------------------------------
def _older(directory):
    """Why an older result in ``directory`` is not loaded ("" when there is none)."""
    from pathlib import Path

    if (Path(directory) / "result.pkl").is_file():
        return ("; result.pkl is an old pickled result, which gridflex no longer loads "
                "(unpickling can run code): run the scenario again")  # fmt: skip
    if (Path(directory) / "result.json").is_file():
        return "; result.json is an older gridflex result format: run the scenario again"
    return ""


def _encode(result, frames):
    from gridflex import resultio as io

    def tables(group, folder):
        files = io.safe_names(group)
        return {k: frames.write(v, f"{folder}/{files[k]}.parquet") for k, v in group.items()}

    folders = io.safe_names(result.by_network)

    investments = result.investments
    return {
        "format": io.FORMAT, "version": io.VERSION,
        "objective": result.objective, "solver": result.solver, "status": result.status,
        "dt_h": float(result.dt_h), "periods": io.encode_index(result.periods),
        "occurrences": io.floats(result.occurrences),
        "tables": tables(result.tables, "tables"),
        "costs": frames.write(result.costs, "costs.parquet"),
        "by_network": {n: tables(t, f"networks/{folders[n]}") for n, t in
                       result.by_network.items()},
        "investments": None if investments is None else frames.write(investments,
                                                                     "investments.parquet"),
        "injections": [_encode_injection(r) for r in result.injections],
        "nets": {n: io.encode_net(net) for n, net in result.nets.items()},
        "built_branches": {n: [[e, int(i), [bool(x) for x in v]] for (e, i), v in b.items()]
                           for n, b in result.built_branches.items()},
        "plan": {k: io.floats(v) for k, v in (getattr(result, "plan", None) or {}).items()},
    }  # fmt: skip


def _encode_injection(record):
    from gridflex import resultio as io

    q = None if record.q_mvar is None else io.floats(record.q_mvar)
    return {
        "device": record.device, "net_table": record.net_table,
        "unit_labels": [_plain(v) for v in record.unit_labels], "networks": list(record.networks),
        "buses": np.asarray(record.buses).tolist(),
        "shape": list(np.shape(record.p_mw)), "p_mw": io.floats(record.p_mw), "q_mvar": q,
        "power_factor": float(record.power_factor),
    }  # fmt: skip


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _decode(doc, read_frame):
    from gridflex import resultio as io

    frames = lambda tables: {k: read_frame(v) for k, v in tables.items()}  # noqa: E731
    result = Results(
        frames(doc["tables"]), read_frame(doc["costs"]), doc["objective"], doc["solver"],
        doc["status"], io.decode_index(doc["periods"]), doc["dt_h"],
        by_network={n: frames(t) for n, t in doc["by_network"].items()},
        injections=[_decode_injection(r) for r in doc["injections"]],
        nets={n: io.decode_net(net) for n, net in doc["nets"].items()},
        occurrences=io.unfloats(doc["occurrences"]),
    )  # fmt: skip
    if doc["investments"] is not None:
        result.investments = read_frame(doc["investments"])
    result.built_branches = {n: {(e, i): np.asarray(v, dtype=bool) for e, i, v in rows}
                             for n, rows in doc["built_branches"].items()}  # fmt: skip
    result.plan = {k: io.unfloats(v) for k, v in doc["plan"].items()}
    return result


def _decode_injection(r):
    from gridflex import resultio as io

    shape = tuple(r["shape"])
    q = None if r["q_mvar"] is None else io.unfloats(r["q_mvar"]).reshape(shape)
    return DeviceInjection(
        str(r["device"]), r["net_table"], list(r["unit_labels"]), list(r["networks"]),
        np.asarray(r["buses"], dtype=int), io.unfloats(r["p_mw"]).reshape(shape), q,
        float(r["power_factor"]),
    )  # fmt: skip
