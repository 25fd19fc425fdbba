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
        """Pickle these results into ``directory/result.pkl`` (for ``gridflex validate``)."""
        import pickle
        from pathlib import Path

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / "result.pkl", "wb") as f:
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)
        return directory / "result.pkl"

    @staticmethod
    def load(directory):
        """Results saved by :meth:`save` (same gridflex and pandapower versions)."""
        import pickle
        from pathlib import Path

        path = Path(directory) / "result.pkl"
        if not path.is_file():
            raise InputError(
                f"no saved result in {directory} (expected {path.name}, written "
                "by 'gridflex run' or Results.save)"
            )
        with open(path, "rb") as f:
            return pickle.load(f)

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

    def __setstate__(self, state):  # results pickled before occurrences existed
        state.setdefault("occurrences", np.ones(len(state["periods"])))
        state.setdefault("investments", None)
        state.setdefault("built_branches", {})
        self.__dict__.update(state)

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
