"""Why a model is infeasible: an elastic re-solve that names the constraints in conflict.

Every linear constraint of the model gets nonnegative slacks of its own shape (``lhs <= rhs +
s``; an equality ``lhs - rhs = s+ - s-``), the objective becomes the sum of all slacks (an L1
penalty, equalities weighted 10 times: limits give way before balances; costs are dropped),
and the slacks that are nonzero at the optimum name the constraints that cannot hold together,
ranked by size: their owner (a device, a requirement, a network, the carrier nodes, a fixed
decision), the constraint (the variables it binds), the row (unit, bus, branch or node) and the
period. Cones (SOC DistFlow's) stay hard; integrality is kept.

The least total violation is not unique in general: the report names *a* smallest set of
violations that makes the model feasible, which is where to look first.
"""

from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import pandas as pd

from gridflex.errors import InputError, SolveError
from gridflex.profiles import period_label

SLACK_TOL = 1e-6
"""Slacks at or below this (in the constraint's units: MW, MWh, ...) are not reported."""

COLUMNS = ["owner", "kind", "constraint", "row", "period", "violation"]


@dataclass
class Group:
    """Constraints of one owner, with the labels of their first axis where it is known."""

    owner: str
    kind: str
    constraints: list
    rows: object = None  # labels (sequence) of axis 0, or None


def constraint_groups(model):
    """The built model's constraints by owner, in the order of its problem."""
    groups = [Group(name, type(b.device).__name__, list(b.constraints), list(b.unit_labels))
              for name, b in model.device_builds.items()]  # fmt: skip
    groups += [Group(name, type(r).__name__, list(b.constraints))
               for (name, b), r in zip(model.system_builds.items(), model.requirements,
                                       strict=True)]  # fmt: skip
    for name, build in model.builds.items():
        grid, kind = model.networks[name].grid, type(model.networks[name].formulation).__name__
        groups.append(Group(f"network '{name}'", kind, list(build.constraints), _grid_rows(grid)))
    if model.node_balance is not None:
        nodes = [node.name for node in model.node_balance.nodes]
        groups.append(Group("carrier nodes", "balance", [model.node_balance.constraint], nodes))
    return groups


def _grid_rows(grid):
    """Labels for rows of a network constraint: buses or branches, told apart by count."""
    buses = [f"bus {b}" for b in grid.bus_index]
    branches = [f"{e} {i}" for e, i in zip(grid.branches.element, grid.branches.element_index,
                                            strict=True)]  # fmt: skip
    return {len(buses): buses, len(branches): branches}


def diagnose(model, top=10, solver=None):
    """Re-solve ``model`` with every linear constraint elastic and report the violations.

    Parameters
    ----------
    model : Model
        A built model (its current fixes included) whose solve was infeasible.
    top : int
        Keep the ``top`` largest violations.
    solver : str, optional
        Solver for the elastic problem (default: gridflex's choice for its class).

    Returns
    -------
    pandas.DataFrame
        One row per violated constraint entry, largest first: ``owner``, ``kind`` (device
        class, formulation, ...), ``constraint`` (its variables and sense), ``row`` (unit, bus,
        branch or node), ``period``, ``violation`` (in the constraint's units). Empty when the
        elastic problem needs no slack (the infeasibility lies in the cones or integrality).
    """
    from gridflex.problems.decompose import elastic_constraints
    from gridflex.solvers import solve_robust

    groups = _with_fixings(model, constraint_groups(model))
    elastic, slacks = [], []
    for group in groups:
        for k, c in enumerate(group.constraints):
            rows, entry = elastic_constraints([c])  # a cone stays as it is (no slack)
            elastic += rows
            slacks += [(group, k, c, s) for s in entry]
    penalty = sum((_weight(c) * cp.sum(s) for _, _, c, s in slacks), cp.Constant(0.0))
    problem = cp.Problem(cp.Minimize(penalty), elastic)
    try:
        solve_robust(problem, solver)
    except SolveError:
        return pd.DataFrame(columns=COLUMNS)
    return _report(slacks, model.periods, top)


def _with_fixings(model, groups):
    """The constraints of the problem actually solved: the built ones as substituted for
    fixed or relaxed decisions (same order), then the fixings."""
    problem = model.problem
    built = [c for g in groups for c in g.constraints]
    if problem is None or len(problem.constraints) < len(built):
        return groups
    substituted = iter(problem.constraints[: len(built)])
    out = [Group(g.owner, g.kind, [next(substituted) for _ in g.constraints], g.rows)
           for g in groups]  # fmt: skip
    names = list(getattr(model, "_fixes", {}))
    fixings = problem.constraints[len(built) :]
    if fixings:
        label = "fixed decisions" + (f" ({', '.join(names)})" if names else "")
        out.append(Group(label, "fix", list(fixings)))
    return out


EQUALITY_WEIGHT = 10.0
"""Price of a unit of slack on an equality (a balance, a storage's dynamics) relative to an
inequality (a limit): conservation laws are violated last, so the report names the limit that
is too tight (a line rating, a storage's capacity) rather than the energy that would have to
appear."""


def _weight(c):
    return EQUALITY_WEIGHT if isinstance(c, cp.constraints.Equality) else 1.0


def _report(slacks, periods, top):
    rows = []
    for group, k, c, s in slacks:
        values = np.atleast_1d(np.asarray(s.value, dtype=float))
        for index in zip(*np.nonzero(values > SLACK_TOL), strict=False):
            row, period = _where(index, np.shape(s.value), group, periods)
            rows.append((group.owner, group.kind, _describe(c, k, group.owner), row, period,
                         float(values[index])))  # fmt: skip
    table = pd.DataFrame(rows, columns=COLUMNS)
    return (
        table.sort_values("violation", ascending=False, kind="stable")
        .head(top)
        .reset_index(drop=True)
    )


def _where(index, shape, group, periods):
    """Row label and period label of one entry of a constraint of ``shape``."""
    T = len(periods)
    if len(shape) == 0:
        return None, None
    if len(shape) == 1:
        return (None, period_label(periods, index[0])) if shape[0] == T else (
            _row(group, shape[0], index[0]), None)  # fmt: skip
    last = period_label(periods, index[-1]) if shape[-1] == T else None
    return _row(group, shape[0], index[0]), last


def _row(group, n, i):
    rows = group.rows
    if isinstance(rows, dict):
        rows = rows.get(n)
    if rows is not None and len(rows) == n:
        return str(rows[i])
    return f"row {i}"


def _describe(c, k, owner):
    """``#k <=: e_mwh, p_mw``: the constraint's position in its owner, sense, variables."""
    sense = "==" if isinstance(c, cp.constraints.Equality) else "<="
    prefix = owner + "_"
    names = sorted({v.name().removeprefix(prefix) for v in c.variables()})
    return f"#{k} {sense}: {', '.join(names)}"


def summary(table, limit=3):
    """A few lines for an error message."""
    lines = [f"  {r.owner} ({r.kind}) constraint {r.constraint}{_where_text(r)}: violated by "
             f"{r.violation:.6g}" for r in table.head(limit).itertuples(index=False)]  # fmt: skip
    return "\n".join(lines)


def _where_text(row):
    """`` at <row>, period <period>`` of a report row (what of it is known)."""
    parts = [x for x in (row.row and f"at {row.row}", row.period and f"period {row.period}") if x]
    return " " + ", ".join(parts) if parts else ""


# --- unbounded models -------------------------------------------------------------------------
RUNAWAY_BOUND = 1e6
"""Box put on every variable to find which run away in an unbounded model (MW, MWh, ...)."""

RUNAWAY_COLUMNS = ["owner", "kind", "variable", "row", "period", "value"]


def runaway(model, top=10, solver=None):
    """Re-solve an unbounded ``model`` with every variable boxed in ``+-RUNAWAY_BOUND`` and
    report the variables that end at the box (they would run away without it), largest first:
    ``owner``, ``kind``, ``variable``, ``row``, ``period``, ``value``. Empty when none does (or
    the boxed problem fails too)."""
    from gridflex.solvers import solve_robust

    problem = model.problem
    box = [c for v in problem.variables() for c in (v <= RUNAWAY_BOUND, v >= -RUNAWAY_BOUND)]
    boxed = cp.Problem(problem.objective, problem.constraints + box)
    try:
        solve_robust(boxed, solver)
    except SolveError:
        return pd.DataFrame(columns=RUNAWAY_COLUMNS)
    rows = []
    owners = _variable_owners(model)
    for v in problem.variables():
        values = np.atleast_1d(np.asarray(v.value, dtype=float))
        group, key = owners.get(v.id, (Group("model", "variable", []), v.name()))
        for index in zip(*np.nonzero(np.abs(values) >= 0.5 * RUNAWAY_BOUND), strict=False):
            row, period = _where(index, np.shape(v.value), group, model.periods)
            rows.append((group.owner, group.kind, key, row, period, float(values[index])))
    table = pd.DataFrame(rows, columns=RUNAWAY_COLUMNS)
    order = table["value"].abs().sort_values(ascending=False, kind="stable").index
    return table.loc[order].head(top).reset_index(drop=True)


def _variable_owners(model):
    """``{variable id: (Group, key)}`` of every device's variables."""
    out = {}
    for name, b in model.device_builds.items():
        group = Group(name, type(b.device).__name__, [], list(b.unit_labels))
        for key, v in b.variables.items():
            out[v.id] = (group, key)
    return out


def runaway_summary(table, limit=3):
    lines = [f"  {r.owner} ({r.kind}) {r.variable}{_where_text(r)}: {r.value:.6g} at the box"
             for r in table.head(limit).itertuples(index=False)]  # fmt: skip
    return "\n".join(lines)


# --- static checks before the solve -----------------------------------------------------------
def check_islands(model):
    """Raise :class:`InputError` when a load that cannot be shed sits on an island (buses
    joined by in-service branches) with no slack and no device other than loads: the model
    cannot be feasible, and this is certain before any solve."""
    from scipy.sparse.csgraph import connected_components

    for name, network in model.networks.items():
        grid = network.grid
        A = abs(grid.incidence())
        _, island = connected_components(A.T @ A, directed=False)
        supplied = set(island[grid.slack_pos])
        loads = []
        for b in model.device_builds.values():
            rows = [k for k, net in enumerate(b.terminal_networks) if net == name]
            if not rows:
                continue
            positions = grid.bus_positions(np.asarray(b.terminal_buses)[rows], owner=b.device.owner)
            if _firm_load(b):
                loads += [(b, k, p) for k, p in zip(rows, positions, strict=True)]
            else:
                supplied.update(island[positions])
        for b, k, position in loads:
            if island[position] not in supplied and np.max(b.values.p_mw[k]) > 0:
                _raise_island(b, k, grid, island, position)


def _firm_load(build):
    from gridflex.devices.load import Load

    return isinstance(build.device, Load) and build.values.shed_cost_per_mwh is None


def _raise_island(build, k, grid, island, position):
    buses = grid.bus_index[island == island[position]]
    shown = ", ".join(map(str, buses[:8])) + (" ..." if len(buses) > 8 else "")
    raise InputError(
        f"{build.device.owner}: unit {build.unit_labels[k]} at bus {grid.bus_index[position]} "
        f"is on an island (buses {shown}) with no slack and no device that could supply it; "
        "connect the island, add a supply there, or give the load a shed_cost_per_mwh"
    )
