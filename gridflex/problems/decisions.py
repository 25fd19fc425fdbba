"""Decisions by role: list, fix, unfix and evaluate the variables a model's builds declare.

Every device build declares its variables with a :class:`~gridflex.devices.base.Role`
(operation, commitment, investment); formulations declare theirs (candidate branches are
investments). A :class:`Decision` names one such variable ``"<owner>.<key>"`` (``"new_T.built"``,
``"T.built"`` for network ``T``'s candidate lines), the same in every model that holds that
owner, so a plan from one model fixes another.

Fixing replaces the variable, in a copy of the problem, by a continuous twin held by one
equality constraint ``twin == value``, the value a cvxpy Parameter (:func:`fixed_problem`): fixing
the same decisions at other values (another plan, a Benders proposal) changes the Parameter and
the next solve skips compilation. So a plan with every integer
fixed is an LP with duals, the constraint's dual is the marginal value of the decision (what a
Benders cut needs), and the built problem itself is never touched: unfixing returns it.
"""

from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from gridflex.errors import InputError
from gridflex.roles import Role
from gridflex.solvers import substitute_problem


@dataclass(frozen=True, eq=False)
class Decision:
    """One decision variable of a model.

    Attributes
    ----------
    owner : str
        Device or network name.
    key : str
        The variable's key in its build (``"built"``, ``"on"``, ``"p_mw"``).
    role : Role
    variable : cvxpy.Variable
    labels : list
        What each row stands for (unit labels, candidate branches).
    """

    owner: str
    key: str
    role: Role
    variable: cp.Variable
    labels: list

    @property
    def name(self):
        return f"{self.owner}.{self.key}"

    @property
    def integer(self):
        attributes = self.variable.attributes
        return bool(attributes["boolean"] or attributes["integer"])

    def value(self):
        """The solved value, rows as ``labels`` (one column per period, or one for a plan)."""
        value = self.variable.value
        return None if value is None else np.asarray(value, dtype=float)

    def checked(self, values, tol=1e-6):
        """``values`` shaped like the variable (no reshaping: a scalar, or broadcastable to its
        shape), integers rounded, signs and 0/1 bounds checked with ``tol``; or an
        :class:`InputError` naming the decision. NaN entries are kept: free (a partial fix)."""
        arr = np.asarray(values, dtype=float)
        shape = self.variable.shape
        try:
            arr = np.array(np.broadcast_to(arr, shape))
        except ValueError:
            raise InputError(
                f"decision '{self.name}': {np.shape(values)} values for shape {shape} "
                "(rows as its labels, one column per period)"
            ) from None
        if np.isinf(arr).any():
            raise InputError(f"decision '{self.name}': values must be finite (NaN: free)")
        if np.isnan(arr).all():
            raise InputError(f"decision '{self.name}': every value is NaN (free): nothing to fix")
        attributes = self.variable.attributes
        if self.integer:
            held = arr[~np.isnan(arr)]
            if not np.allclose(held, np.round(held), atol=tol, rtol=0):
                raise InputError(f"decision '{self.name}' is integer; got {_show(arr)}")
            arr = np.round(arr) + 0.0  # no -0.0
        low = 0.0 if attributes["boolean"] or attributes["nonneg"] else -np.inf
        high = 1.0 if attributes["boolean"] else (0.0 if attributes["nonpos"] else np.inf)
        if ((arr < low - tol) | (arr > high + tol)).any():
            kind = "binary" if attributes["boolean"] else "bounded"
            raise InputError(
                f"decision '{self.name}' is {kind} in [{low:g}, {high:g}]; got {_show(arr)}"
            )
        return np.clip(arr, low, high)


def _show(arr):
    return str(arr.ravel().tolist()) if arr.size <= 8 else f"an array of shape {arr.shape}"


def device_decisions(builds):
    """The decisions of device builds (``{name: DeviceBuild}``), in build order."""
    return [
        Decision(name, key, b.roles[key], var, list(b.unit_labels))
        for name, b in builds.items()
        for key, var in b.variables.items()
    ]


def network_decisions(networks, builds):
    """Candidate branches of every network: ``"<network>.built"``, labels ``"line 33"``."""
    out = []
    for name, network in networks.items():
        extra = builds[name].extra
        if "built" not in extra:
            continue
        rows = extra["candidate_positions"]
        branches = network.grid.branches
        labels = [f"{e} {i}" for e, i in zip(branches.element[rows], branches.element_index[rows],
                                             strict=True)]  # fmt: skip
        out.append(Decision(name, "built", Role.INVESTMENT, extra["built"], labels))
    return out


def fixed_problem(problem, fixes, relaxed=()):
    """``problem`` with each fixed decision replaced by a continuous twin held at its value, and
    each relaxed decision by a continuous twin within its bounds (0 <= x <= 1 for a binary).

    Parameters
    ----------
    problem : cvxpy.Problem
    fixes : dict
        ``{Decision: values}`` (checked).
    relaxed : iterable of Decision
        Integer decisions to relax (not fixed ones).

    Returns
    -------
    (cvxpy.Problem, dict, dict)
        The problem; ``{decision name: (twin variable, fixing constraint, Parameter holding the
        value)}`` (after a solve, the constraint's dual is the marginal value of the decision;
        new values go into the Parameter, so another plan needs no recompilation);
        ``{Decision: twin}`` of the relaxed decisions.
    """
    twins, fixing, relaxing, extra = {}, {}, {}, []
    for decision, values in fixes.items():
        if np.isnan(values).any():  # a partial fix: the variable itself, integrality kept
            fixing[decision.name] = _partial_fix(decision, values)
            extra.append(fixing[decision.name][1])
            continue
        # no sign on a held twin: its equality alone carries the whole marginal value (a
        # bound x >= 0 would take a share of it where the value is 0)
        twin = cp.Variable(decision.variable.shape, name=f"{decision.name}_fixed")
        twins[decision.variable.id] = twin
        held = cp.Parameter(decision.variable.shape, name=f"{decision.name}_value", value=values)
        fixing[decision.name] = (twin, twin == held, held)
        extra.append(fixing[decision.name][1])
    for decision in relaxed:
        twin = _continuous_twin(decision, "relaxed")
        twins[decision.variable.id] = relaxing[decision] = twin
        if decision.variable.attributes["boolean"]:
            extra += [twin >= 0, twin <= 1]
    return substitute_problem(problem, twins, extra), fixing, relaxing


def _partial_fix(decision, values):
    """``(variable, mask * variable == held, held)``: the entries given held, the NaN ones
    free (``held`` is 0 there; the mask is part of the problem's structure)."""
    mask = (~np.isnan(values)).astype(float)
    held = cp.Parameter(decision.variable.shape, name=f"{decision.name}_value",
                        value=np.nan_to_num(values))  # fmt: skip
    return decision.variable, cp.multiply(mask, decision.variable) == held, held


def free_pattern(values):
    """What a fix's problem structure depends on: which entries are free (NaN)."""
    return np.isnan(np.asarray(values, dtype=float)).tobytes()


def _continuous_twin(decision, what):
    sign = {k: decision.variable.attributes[k] for k in ("nonneg", "nonpos")}
    return cp.Variable(decision.variable.shape, name=f"{decision.name}_{what}", **sign)


def write_back(fixes, relaxed, built, solved):
    """After a solve of a fixed or relaxed problem: the original variables take the fixed values
    and the relaxed twins' values, and the built problem's constraints the duals of their
    copies, so result tables read as usual."""
    for decision, values in fixes.items():
        if not np.isnan(values).any():  # a partial fix solved the variable itself
            decision.variable.value = values
    for decision, twin in relaxed.items():
        _assign(decision, twin)
    for ours, theirs in zip(built.constraints, solved.constraints, strict=False):
        copy_duals(theirs, ours)


def _assign(decision, twin):
    """Give a relaxed (fractional) value to an integer variable (cvxpy's value setter refuses a
    value outside the variable's domain; ``save_value`` stores it as is)."""
    decision.variable.save_value(None if twin.value is None else np.asarray(twin.value, float))


def copy_duals(source, target):
    """Give ``target`` the dual values of ``source`` (a copy of it), variable by variable (a
    cone's ``dual_value`` is not in the form ``save_dual_value`` takes)."""
    for ours, theirs in zip(target.dual_variables, source.dual_variables, strict=True):
        ours.save_value(theirs.value)


def clear_duals(constraint):
    """Forget a constraint's dual value (a later MILP solve must not show an old LP's)."""
    for dual in constraint.dual_variables:
        dual.save_value(None)


def by_name(decisions, names, role=None):
    """``{name: Decision}`` for ``names`` (all of ``role`` when None), with clear errors."""
    known = {d.name: d for d in decisions}
    if names is None:
        return {n: d for n, d in known.items() if role is None or d.role is role}
    missing = [n for n in names if n not in known]
    if missing:
        raise InputError(
            f"no decision '{missing[0]}' in the model; decisions: {sorted(known)[:20]}"
            + (" ..." if len(known) > 20 else "")
        )
    return {n: known[n] for n in names}
