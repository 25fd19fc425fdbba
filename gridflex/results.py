"""Results: pandas tables of an optimal solution, named and signed like pandapower's.

Every ``res_*`` table is indexed by period and has two column levels: the quantity with its unit
(``p_mw``, ``e_mwh``, ``price_per_mwh``, ...) and the element (pandapower index for net
elements, the device's unit label otherwise). ``result.res_gen["p_mw"]`` is therefore a
periods x generators frame. Signs follow :mod:`gridflex.conventions`.
"""

import numpy as np
import pandas as pd


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

    def __init__(self, tables, costs, objective, solver, status, periods, dt_h, by_network=None):
        self.tables = tables
        self.by_network = by_network or {}
        self.costs = costs
        self.objective = float(objective)
        self.solver, self.status = solver, status
        self.periods, self.dt_h = periods, dt_h

    def __getattr__(self, name):
        if name.startswith("res_"):
            tables = self.__dict__.get("tables", {})
            if name in tables:
                return tables[name]
            raise AttributeError(
                f"no table '{name}' in these results; available: {', '.join(sorted(tables))}"
            )
        raise AttributeError(name)

    def network(self, name):
        """The results of network ``name`` of a several-network model (same costs, objective)."""
        if name not in self.by_network:
            raise KeyError(
                f"no network '{name}' in these results; networks: {list(self.by_network)}"
            )
        return Results(
            self.by_network[name],
            self.costs,
            self.objective,
            self.solver,
            self.status,
            self.periods,
            self.dt_h,
            by_network=self.by_network,
        )

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
        """Total energy per table of ``p_mw`` over the horizon (signs as in each table)."""
        out = {}
        for name, table in self.tables.items():
            if name in ("res_bus", "res_line", "res_trafo") or "p_mw" not in table:
                continue
            out[name] = float(table["p_mw"].to_numpy().sum() * self.dt_h)
        return pd.Series(out, name="energy_mwh")

    def to_csv(self, directory):
        """Write every table as ``<name>.csv`` and the cost breakdown as ``costs.csv``."""
        from pathlib import Path

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name, table in self.tables.items():
            table.to_csv(directory / f"{name}.csv")
        self.costs.to_csv(directory / "costs.csv")


def stack_frames(frames_by_quantity):
    """Join ``{quantity: DataFrame(periods x elements)}`` into one two-level-column table."""
    return pd.concat(frames_by_quantity, axis=1, names=["quantity", "element"])


def merge_tables(parts):
    """Concatenate tables of several devices that share a result table, along elements."""
    if len(parts) == 1:
        return parts[0]
    merged = pd.concat(parts, axis=1)
    quantities = list(dict.fromkeys(q for p in parts for q in p.columns.get_level_values(0)))
    return merged.reindex(columns=quantities, level=0)


def cost_table(rows):
    """Cost breakdown frame from ``(device, component, value)`` tuples."""
    frame = pd.DataFrame(rows, columns=["device", "component", "cost"])
    return frame.set_index(["device", "component"]).astype({"cost": float})


def branch_tables(grid, flow_mw, periods):
    """``res_line`` and ``res_trafo`` from branch flows (n_branch, T), pandapower-like columns.

    ``loading_percent`` has pandapower's meaning (|flow| over the nominal rating: ``max_i_ka``
    of lines, ``sn_mva`` of trafos, without ``max_loading_percent``); ``limit_percent`` is
    |flow| over the thermal limit the model enforces (100 = binding). They differ where
    ``max_loading_percent`` is not 100 (e.g. the PGLib transformer limits of case118).
    """
    br = grid.branches
    out = {}
    for element, cols in (("line", ("p_from_mw", "p_to_mw")), ("trafo", ("p_hv_mw", "p_lv_mw"))):
        rows = br.element == element
        if rows.any():
            flow = flow_mw[rows]
            quantities = {
                cols[0]: flow,
                cols[1]: -flow,
                "loading_percent": _percent(flow, br.nominal_mva[rows]),
                "limit_percent": _percent(flow, br.rating_mva[rows]),
            }
            labels = pd.Index(br.element_index[rows], name="element")
            out[f"res_{element}"] = stack_frames(
                {k: pd.DataFrame(v.T, index=periods, columns=labels) for k, v in quantities.items()}
            )
    return out


def _percent(flow, rating):
    with np.errstate(divide="ignore", invalid="ignore"):
        share = 100.0 * np.abs(flow) / rating.reshape(-1, 1)
    share[~np.isfinite(share)] = np.nan
    return share
