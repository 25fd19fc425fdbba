"""A model's problem split for Benders: a master over chosen decisions, a subproblem over the rest.

``F(x) = M(x) + R(x)``, ``R(x) = min_y S(x, y)`` subject to the constraints that involve ``y``:
``M`` sums the objective terms that involve only master decisions ``x`` (and constants), the
master keeps the constraints on ``x`` alone, the subproblem every other constraint with ``x``
replaced by a twin held at a proposal ``x_hat`` (:func:`~gridflex.problems.decisions.
fixed_problem`: a cvxpy Parameter, so proposals re-solve without compiling). The twin's dual is
``dR/dx`` at ``x_hat`` (a subgradient): the optimality cut ``theta >= R(x_hat) + g (x - x_hat)``.

**One cut per block** (``cuts="multi"``): the subproblem separates by block (dynamics link
periods only inside a block, :mod:`gridflex.timeaxis`), so its value and its slope split by
block: the cost of the subproblem's variables in the block's periods, and the part of the slope
carried by the duals of the block's constraint entries (stationarity: ``g = dS/dx + sum_k
J_k^T lambda_k``). Each constraint entry and variable entry belongs to the period of its last
axis (time on axis 1). The split is checked at every iteration (the parts add up to the value
and the slope); a model where it cannot hold (a constraint that couples periods without a period
axis, a nonlinear subproblem objective) is refused for ``"multi"`` with the reason.

**Infeasible proposals.** ``recourse="feasibility"``: the subproblem's linear constraints get
nonnegative slacks, their sum is minimised with ``x`` held, and ``v(x_hat) + g_v (x - x_hat)
<= 0`` cuts the proposal off (``v`` the least total violation, convex in ``x``).
``recourse="elastic"``: the slacks are always there, priced at ``penalty`` per unit: every
proposal is feasible, and a plan whose slacks are not zero is not counted as an upper bound.
"""

from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from gridflex.errors import InputError
from gridflex.problems.decisions import fixed_problem
from gridflex.solvers import additive_terms


@dataclass
class Split:
    """The master's part and the subproblem's part of a model's problem."""

    decisions: list  # master Decision objects
    master_constraints: list
    master_cost: object  # cvxpy expression M(x) + constants
    sub_cost: object  # cvxpy expression S(x, y)
    sub_constraints: list


def split_problem(problem, decisions):
    """:class:`Split` of ``problem`` (a model's built problem) over master ``decisions``."""
    ids = {d.variable.id for d in decisions}

    def master_only(thing):
        found = {v.id for v in thing.variables()}
        return found <= ids

    terms = additive_terms(problem.objective.args[0])
    master_terms = [t for t in terms if master_only(t)]
    sub_terms = [t for t in terms if not master_only(t)]
    return Split(
        decisions=list(decisions),
        master_constraints=[c for c in problem.constraints if master_only(c)],
        master_cost=sum(master_terms, cp.Constant(0.0)),
        sub_cost=sum(sub_terms, cp.Constant(0.0)),
        sub_constraints=[c for c in problem.constraints if not master_only(c)],
    )


def elastic_constraints(constraints):
    """``(constraints with slacks, slacks)``: ``lhs <= rhs + s`` and ``lhs - rhs == s+ - s-``
    with ``s >= 0`` (the constraint's shape); other constraints (cones) stay hard."""
    out, slacks = [], []
    for c in constraints:
        if isinstance(c, cp.constraints.Inequality):
            s = cp.Variable(c.shape, nonneg=True, name="elastic")
            out.append(c.args[0] <= c.args[1] + s)
            slacks.append(s)
        elif isinstance(c, cp.constraints.Equality):
            up, down = (cp.Variable(c.shape, nonneg=True, name="elastic") for _ in range(2))
            out.append(c.args[0] - c.args[1] == up - down)
            slacks += [up, down]
        else:
            out.append(c)
    return out, slacks


def total(variables):
    return sum((cp.sum(v) for v in variables), cp.Constant(0.0))


class SubProblem:
    """The subproblem of a :class:`Split` with the master decisions held at a proposal.

    Parameters
    ----------
    split : Split
    start : dict
        ``{Decision: values}``: any proposal (sets the Parameters' shapes).
    penalty : float or None
        Price of the elastic slacks (``recourse="elastic"``); None: hard constraints.
    """

    def __init__(self, split, start, penalty=None):
        self.split = split
        constraints, self.slacks = split.sub_constraints, []
        cost = split.sub_cost
        if penalty is not None:
            constraints, self.slacks = elastic_constraints(constraints)
            cost = cost + penalty * total(self.slacks)
        base = cp.Problem(cp.Minimize(cost), constraints)
        self.problem, self.fixing, _ = fixed_problem(base, start)
        self._phase1 = None

    def hold(self, proposal):
        """Set the held values: ``{decision name: values}``."""
        for name, (_, _, held) in self.fixing.items():
            held.value = proposal[name]

    def slopes(self, problem, fixing):
        """``{decision name: dR/dx}`` from the duals of the fixing constraints."""
        out = {}
        for name, (_, constraint, _) in fixing.items():
            dual = constraint.dual_value
            if dual is None or not np.isfinite(np.asarray(dual, dtype=float)).all():
                raise InputError(f"Benders: the subproblem gave no dual for '{name}' (a cut "
                                 "needs one): is the subproblem convex and solved?")  # fmt: skip
            out[name] = -np.asarray(dual, dtype=float)  # cvxpy's dual is -d(objective)/d(value)
        return out

    def violation(self):
        """Total slack of the last solve (0 without elastic slacks)."""
        return float(sum(np.sum(s.value) for s in self.slacks)) if self.slacks else 0.0

    def phase1(self, start):
        """The least-violation problem (slacks on every linear constraint) with its own held
        Parameters: ``(problem, fixing)``, built once."""
        if self._phase1 is None:
            constraints, slacks = elastic_constraints(self.split.sub_constraints)
            if not slacks:
                raise InputError("Benders: the subproblem has no linear constraint to relax")
            base = cp.Problem(cp.Minimize(total(slacks)), constraints)
            problem, fixing, _ = fixed_problem(base, start)
            self._phase1 = (problem, fixing)
        return self._phase1


def period_of_entries(shape, T):
    """Period of each entry of an array of ``shape`` in cvxpy's (column-major) order, when its
    last axis is the time axis (length ``T``); None otherwise."""
    if len(shape) == 0 or shape[-1] != T:
        return None
    return np.repeat(np.arange(T), int(np.prod(shape[:-1], dtype=int)))


class BlockSplit:
    """Splits the subproblem's value and slope by block (see the module docstring)."""

    def __init__(self, sub, block_of):
        self.sub, self.block_of = sub, np.asarray(block_of)
        self.B, T = int(self.block_of.max()) + 1, len(self.block_of)
        problem, twins = sub.problem, {n: t for n, (t, _, _) in sub.fixing.items()}
        twin_ids = {t.id: n for n, t in twins.items()}
        cost = problem.objective.args[0]
        self.cost_rows, self.twin_cost = self._cost_rows(cost, twin_ids, T)
        self.constant = _constant_of(cost)
        self.rows = self._constraint_rows(problem, twin_ids, T)
        self.fixing_ids = {id(c) for _, c, _ in sub.fixing.values()}

    def _cost_rows(self, cost, twin_ids, T):
        """Per subproblem variable of the objective: (variable, period of each entry); per
        twin: its cost coefficient (the part of ``S`` linear in the master decisions)."""
        grads = _gradient(cost)
        rows, twin_cost = [], {}
        for var in cost.variables():
            if var.id in twin_ids:
                coef = np.asarray(grads[var].todense(), dtype=float).ravel()
                twin_cost[twin_ids[var.id]] = coef
                continue
            periods = period_of_entries(var.shape, T)
            if periods is None:
                raise InputError(f"Benders cuts='multi': variable '{var.name()}' costs but has "
                                 "no period axis; use cuts='single'")  # fmt: skip
            rows.append((var, periods))
        return rows, twin_cost

    def _constraint_rows(self, problem, twin_ids, T):
        """Every subproblem constraint must split by block: each of its rows (each cone)
        touches the subproblem's variables in one block only, or it is refused. Per constraint
        that holds a twin (not a fixing one): its Jacobians in the twins and each row's block."""
        rows = []
        fixing = {id(c) for _, c, _ in self.sub.fixing.values()}
        for c in problem.constraints:
            if id(c) in fixing:
                continue
            blocks = _row_blocks(c, lambda v: self._var_blocks(v, T), set(twin_ids))
            if (blocks == MIXED).any():
                raise InputError(
                    f"Benders cuts='multi': constraint {c.constr_id} ({type(c).__name__}, shape "
                    f"{c.shape}) links periods of different blocks, or variables without a "
                    "period axis; use cuts='single'"
                )
            held = [v for v in c.variables() if v.id in twin_ids]
            if not held:
                continue
            # the twins' Jacobian is taken once: they must enter linearly (checked by parts())
            if not isinstance(c, cp.constraints.Inequality | cp.constraints.Equality):
                raise InputError(f"Benders cuts='multi': a {type(c).__name__} constraint holds "
                                 "master decisions; use cuts='single'")  # fmt: skip
            grads = _gradient(c.expr)
            jac = {twin_ids[v.id]: grads[v].tocsr() for v in held}
            rows.append((c, jac, blocks))
        return rows

    def _var_blocks(self, var, T):
        """Block of each entry of a subproblem variable (None: no period axis)."""
        periods = period_of_entries(var.shape, T)
        return None if periods is None else self.block_of[periods]

    def master_terms(self, decisions):
        """The linear part of ``S`` in the master decisions plus its constant (both belong to no
        block), as a cvxpy expression in the master's variables."""
        terms = [
            cp.sum(cp.multiply(self.twin_cost[d.name].reshape(d.variable.shape, order="F"),
                               d.variable))
            for d in decisions
            if np.any(self.twin_cost.get(d.name, 0.0))
        ]  # fmt: skip
        return sum(terms, cp.Constant(self.constant))

    def parts(self, value, slopes, proposal, tol=1e-6):
        """``[(value_b, {name: slope_b})]`` per block, checked: they add up to the
        subproblem's ``value`` and ``slopes`` at ``proposal`` with the linear part."""
        values = self.values()
        shapes = {n: np.shape(g) for n, g in slopes.items()}
        per_block = self.slopes(shapes)
        linear = sum(float(np.sum(self._twin(n, shapes) * proposal[n])) for n in shapes)
        scale = max(1.0, abs(value))
        if abs(values.sum() + linear + self.constant - value) > tol * scale:
            raise InputError(
                f"Benders cuts='multi': the blocks' costs add up to "
                f"{values.sum() + linear + self.constant:.10g}, not the subproblem's "
                f"{value:.10g}; use cuts='single'"
            )
        largest = max((float(np.abs(g).max()) for g in slopes.values() if np.size(g)), default=1)
        for name, g in slopes.items():
            summed = sum(p[name] for p in per_block) + self._twin(name, shapes)
            if not np.allclose(summed, g, rtol=1e-5, atol=10 * tol * max(1.0, largest)):
                worst = float(np.abs(summed - g).max())
                raise InputError(f"Benders cuts='multi': the blocks' slopes of '{name}' do not "
                                 f"add up to the subproblem's (off by {worst:.3g} of "
                                 f"{float(np.abs(g).max()):.3g}); use cuts='single'")  # fmt: skip
        return list(zip(values, per_block, strict=True))

    def _twin(self, name, shapes):
        coef = self.twin_cost.get(name)
        if coef is None:
            return np.zeros(shapes[name])
        return coef.reshape(shapes[name], order="F")

    def values(self):
        """(B,) cost of the subproblem's variables in each block, after a solve: the objective
        with only the block's entries at their values, less its value at zero (exact for
        costs that add up over periods, which :meth:`parts` checks)."""
        cost = self.sub.problem.objective.args[0]
        saved = {v.id: v.value for v in cost.variables()}
        out = np.zeros(self.B)
        try:
            for v in cost.variables():
                v.value = np.zeros(v.shape)
            for b in range(self.B):
                for var, periods in self.cost_rows:
                    mask = (self.block_of[periods] == b).reshape(var.shape, order="F")
                    var.save_value(np.where(mask, saved[var.id], 0.0))
                out[b] = float(cost.value) - self.constant
        finally:
            for v in cost.variables():
                v.save_value(saved[v.id])
        return out

    def slopes(self, names_shapes):
        """``[{decision name: slope}] per block``: the duals of each block's entries."""
        out = [{n: np.zeros(int(np.prod(s, dtype=int))) for n, s in names_shapes.items()}
               for _ in range(self.B)]  # fmt: skip
        for c, jac, blocks in self.rows:
            dual = np.asarray(c.dual_value, dtype=float).ravel(order="F")
            for b in np.unique(blocks[(dual != 0) & (blocks >= 0)]):
                masked = np.where(blocks == b, dual, 0.0)
                for name, J in jac.items():
                    out[b][name] += J @ masked
        return [{n: g.reshape(names_shapes[n], order="F") for n, g in per.items()} for per in out]


NONE, MIXED = -1, -2  # a row that touches no subproblem variable; one that touches several blocks


def _row_blocks(constraint, var_blocks, skip):
    """Block of each row of ``constraint`` (each cone of a second-order cone), from the
    subproblem variables it touches: ``NONE`` or ``MIXED`` where it is not one block."""
    if isinstance(constraint, cp.constraints.SOC):
        t, X = constraint.args
        cones = t.size
        tb = _entry_blocks(t, var_blocks, skip)
        xb = _entry_blocks(X, var_blocks, skip).reshape(X.shape or (1,), order="F")
        xb = xb.reshape(-1, cones, order="F") if constraint.axis == 0 else xb.reshape(
            cones, -1, order="F").T  # fmt: skip
        return _combine(np.vstack([tb.reshape(1, -1), xb]))
    if isinstance(constraint, cp.constraints.Inequality | cp.constraints.Equality):
        return _entry_blocks(constraint.expr, var_blocks, skip)
    if len(constraint.args) == 1:  # NonNeg, NonPos, Zero: one expression
        return _entry_blocks(constraint.args[0], var_blocks, skip)
    return np.full(max(constraint.size, 1), MIXED)  # other cones: not split


class _NotSplittable(Exception):
    """An expression whose dependency pattern cannot be read (a reduction that is not affine)."""


def _affine_skeleton(expr):
    """An affine expression that depends on the same entries as ``expr``: each elementwise
    atom (abs, pos, square, maximum, ...) replaced by the sum of its arguments; a non-affine
    reduction (max over entries, a norm) cannot be read that way (:class:`_NotSplittable`)."""
    if not expr.args or expr.is_affine():
        return expr
    args = [_affine_skeleton(arg) for arg in expr.args]
    if isinstance(expr, cp.atoms.affine.affine_atom.AffAtom):
        return expr.copy(args)
    if isinstance(expr, cp.atoms.elementwise.elementwise.Elementwise):
        return sum(args[1:], args[0]) if len(args) > 1 else args[0]
    raise _NotSplittable(type(expr).__name__)


def _entry_blocks(expr, var_blocks, skip):
    """Block of each entry of ``expr`` (column-major) from the variables it touches (those in
    ``skip``, the held twins, aside)."""
    out = np.full(max(expr.size, 1), NONE)
    try:
        expr = _affine_skeleton(expr)
    except _NotSplittable:
        return np.full(max(expr.size, 1), MIXED)
    for var, jac in _gradient(expr).items():
        if var.id in skip or jac is None:
            continue
        coo = jac.tocoo()  # rows: the variable's entries; columns: the expression's
        keep = coo.data != 0
        rows, cols = coo.row[keep], coo.col[keep]
        if not len(rows):
            continue
        blocks = var_blocks(var)
        found = np.full(len(rows), MIXED) if blocks is None else blocks[rows]
        pairs = np.vstack([np.full(len(out), NONE), np.full(len(out), NONE)])
        low, high = np.full(len(out), np.iinfo(np.int64).max), np.full(len(out), MIXED - 1)
        np.minimum.at(low, cols, found)
        np.maximum.at(high, cols, found)
        touched = high >= MIXED
        pairs[0, touched] = np.where(low[touched] == high[touched], low[touched], MIXED)
        out = _combine(np.vstack([out, pairs[0]]))
    return out


def _combine(blocks):
    """Per column of ``blocks`` (rows: what one row or cone touches): its one block, ``NONE``
    or ``MIXED``."""
    blocks = np.asarray(blocks)
    has = blocks != NONE
    low = np.where(has, blocks, np.iinfo(np.int64).max).min(axis=0)
    high = np.where(has, blocks, MIXED - 1).max(axis=0)
    out = np.where(has.any(axis=0), np.where(low == high, low, MIXED), NONE)
    return np.where((blocks == MIXED).any(axis=0), MIXED, out)


def _gradient(expr):
    """``{variable: d expr / d variable}`` of an affine expression (cvxpy's ``grad``, which
    needs values: variables without one take zeros for the call)."""
    empty = [v for v in expr.variables() if v.value is None]
    for v in empty:
        v.value = np.zeros(v.shape)
    try:
        return expr.grad
    finally:
        for v in empty:
            v.save_value(None)


def _constant_of(expr):
    """The value of ``expr`` with every variable at zero (the variables' values are
    restored): the constant of an affine expression."""
    saved = {v.id: v.value for v in expr.variables()}
    try:
        for v in expr.variables():
            v.value = np.zeros(v.shape)
        return float(expr.value)
    finally:
        for v in expr.variables():
            v.save_value(saved[v.id])
