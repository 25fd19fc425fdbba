"""Benders decomposition of any planning model over its investment and integer decisions.

The master (a MILP, HiGHS) holds the chosen decisions ``x`` (by default every investment and
every integer decision, as seed 002 eqs. 50-56), the constraints on them alone, their costs
``M(x)`` and one epigraph variable per cut group; the subproblem (LP or SOCP: HiGHS or
Clarabel) is the rest of the model with ``x`` held at the master's proposal. Each iteration
``l``:

1. solve the master: its optimum (its MIP dual bound when solved to a gap) is a lower bound
   ``LB_l``, kept non-decreasing (``LB = max_k LB_k``: every one is valid);
2. solve the subproblem at the proposal: ``UB_l = M(x_l) + R(x_l)`` is the cost of a feasible
   plan, ``UB* = min_k UB_k``;
3. add the optimality cut ``theta >= R(x_l) + g_l (x - x_l)``, ``g_l`` the duals of the
   constraints that hold ``x`` (single cut: the paper's eq. 54), or one cut per block
   (``cuts="multi"``, :mod:`gridflex.problems.decompose`); for an infeasible subproblem a
   feasibility cut (or an elastic recourse with a stated penalty);
4. stop when ``(UB* - LB) <= gap |UB*|`` or after ``max_iterations``.

The best plan is then evaluated exactly (``model.evaluate``): its :class:`~gridflex.results.
Results` are the answer. Nothing here knows what the decisions mean; the model is left as it was.
A floor on the subproblem's cost (its minimum with every integer relaxed, or ``floor=``) bounds
the first masters.
"""

import time
from dataclasses import dataclass, field

import cvxpy as cp
import numpy as np
import pandas as pd

from gridflex import console
from gridflex.errors import InputError, SolveError
from gridflex.problems.decisions import by_name, fixed_problem
from gridflex.problems.decompose import BlockSplit, SubProblem, split_problem
from gridflex.solvers import PROVEN, LiveLP, solve_robust

RELAXED_GAP = 1e-3
"""The relaxed phase ends when the relaxation's gap is below this (or the Benders gap, if
larger): its last cuts gain little, the integer phase closes the rest."""

RELAXED_STALL = 1e-3

COLUMNS = ["phase", "lower_bound", "upper_bound", "best_upper_bound", "gap", "cut",
           "violation", "master_s", "subproblem_s"]  # fmt: skip


@dataclass
class BendersResult:
    """What :func:`benders` found.

    Attributes
    ----------
    result : Results
        The best plan evaluated exactly (``model.evaluate(plan)``).
    plan : dict
        ``{decision name: values}`` of the master decisions in the best plan.
    bounds : pandas.DataFrame
        One row per iteration: ``phase``, ``lower_bound``, ``upper_bound`` (NaN in the relaxed
        phase, inf when the proposal was infeasible), ``best_upper_bound``, relative ``gap``,
        the ``cut`` added, the elastic ``violation``, and the seconds in master and
        subproblem.
    converged : bool
        The gap was reached (else the iteration limit stopped it).
    """

    result: object
    plan: dict
    bounds: pd.DataFrame
    converged: bool
    info: dict = field(default_factory=dict)

    @property
    def objective(self):
        return self.result.objective

    @property
    def iterations(self):
        return len(self.bounds)

    def plot(self, title="Benders bounds"):
        """The bounds per iteration (:func:`gridflex.plot.convergence`)."""
        from gridflex.plot import convergence

        return convergence(self.bounds[["lower_bound", "upper_bound", "best_upper_bound"]],
                           title=title)  # fmt: skip


def benders(model, master=None, *, cuts="auto", gap=1e-4, max_iterations=100,
            recourse="feasibility", penalty=None, floor=None, relaxed_phase=True,
            hold=None, master_options=None, solver=None, **solver_options):  # fmt: skip
    """Solve ``model`` by Benders decomposition (see the module docstring).

    Parameters
    ----------
    model : Model
        Any model with decisions (no decision fixed or relaxed now).
    master : list of str, optional
        Decision names for the master (default: every investment and integer decision).
    cuts : {"auto", "single", "multi"}
        One aggregated cut per iteration (the paper), or one per block (fewer iterations:
        each block's cost gets its own model in the master). ``"auto"`` (default): one per
        block when the model has several blocks and its costs and constraints split by block,
        else single.
    gap : float
        Relative gap ``(UB* - LB) / |UB*|`` at which to stop (1e-4).
    max_iterations : int
    recourse : {"feasibility", "elastic"}
        Infeasible proposals: cut off by a feasibility cut, or priced by ``penalty`` per unit
        of violation of every linear constraint of the subproblem.
    penalty : float
        Price of a unit of violation for ``recourse="elastic"`` (required there).
    floor : float, optional
        A lower bound of the subproblem's cost over every plan (default: computed, the
        subproblem with every integer relaxed).
    hold : dict, optional
        ``{decision name: values}`` held in the master (NaN entries free, as for
        :meth:`Model.fix`): a restricted plan, e.g. a case or a coalition, without changing
        the model. Only master decisions.
    relaxed_phase : bool
        First iterate with the master's integers relaxed (an LP master: fast) until that
        relaxation converges, then go on with the integers: the cuts of the first phase are
        valid for the second and spare it most of its MILP solves (default True).
    master_options : dict
        For the master's HiGHS solve (default: a MIP gap of a tenth of the current Benders
        gap, between ``gap / 10`` and 1 %; the lower bound is the master's dual bound either
        way).
    solver, **solver_options
        For the subproblem and the final evaluation (as :meth:`Model.solve`).

    Returns
    -------
    BendersResult
    """
    state = _setup(model, master, cuts, recourse, penalty, gap)
    state.hold = _held(state, hold or {})
    state.master_options = dict(master_options or {})
    state.sub_options = (solver, solver_options)
    state.floor = _floor(state) if floor is None else float(floor)
    state.relaxed = relaxed_phase and any(d.integer for d in state.decisions)
    rows, converged = _iterations(state, gap, max_iterations)
    if state.best is None:
        why = (
            "the relaxed phase used them all (no integer plan tried): raise max_iterations"
            if state.relaxed
            else "every integer plan tried was infeasible"
        )
        raise SolveError(f"Benders: no feasible plan in {max_iterations} iterations: {why}",
                         status="iteration_limit")  # fmt: skip
    bounds = pd.DataFrame(rows, columns=COLUMNS)
    bounds.index = pd.RangeIndex(1, len(bounds) + 1, name="iteration")
    result = model.evaluate(state.best, solver=solver, **solver_options)
    used = "single" if state.blocks is None else "multi"
    info = {"cuts": used, "recourse": recourse, "floor": state.floor, "master": state.names}
    return BendersResult(result, state.best, bounds, converged, info)


def _iterations(state, gap, max_iterations):
    """``(rows of the bounds table, converged)``: iterate until the gap or the limit."""
    rows = []
    for _ in console.progress(range(max_iterations), "Benders", total=max_iterations):
        rows.append(_iterate(state, gap))
        if rows[-1]["gap"] <= gap:
            return rows, True
    return rows, False


@dataclass
class _State:
    model: object
    decisions: list
    split: object
    sub: object
    blocks: object  # BlockSplit or None
    recourse: str
    names: list
    theta: object = None
    cuts: list = field(default_factory=list)
    lower: float = -np.inf
    upper: float = np.inf
    best: dict = None
    floor: float = None
    hold: list = field(default_factory=list)  # master constraints holding decisions
    relaxed: bool = False  # in the relaxed phase (LP master)
    relaxed_upper: float = np.inf  # best upper bound of the relaxation
    relaxed_lower: list = field(default_factory=list)  # lower bounds of the relaxed phase
    master_options: dict = None
    sub_options: tuple = None


def _setup(model, master, cuts, recourse, penalty, gap):
    if cuts not in ("auto", "single", "multi"):
        raise InputError(f"benders: cuts must be 'auto', 'single' or 'multi', got {cuts!r}")
    if recourse not in ("feasibility", "elastic"):
        raise InputError(f"benders: recourse must be 'feasibility' or 'elastic', got {recourse!r}")
    if recourse == "elastic" and not (isinstance(penalty, int | float) and penalty > 0):
        raise InputError(f"benders: recourse='elastic' needs a penalty > 0, got {penalty!r}")
    if not (isinstance(gap, int | float) and gap >= 0):
        raise InputError(f"benders: gap must be a number >= 0, got {gap!r}")
    if model.fixed or model.relaxed:
        raise InputError("benders: the model has fixed or relaxed decisions; unfix/unrelax it")
    decisions = _master_decisions(model, master)
    problem = model.problem if model.problem is not None else model.build()
    split = split_problem(problem, decisions)
    start = {d: np.zeros(d.variable.shape) for d in decisions}
    sub = SubProblem(split, start, penalty if recourse == "elastic" else None)
    if sub.problem.is_mixed_integer():
        left = sorted({v.name() for v in sub.problem.variables()
                       if v.attributes["boolean"] or v.attributes["integer"]})  # fmt: skip
        raise InputError(
            f"benders: integer variables {left[:5]} are not in the master; a subproblem with "
            "integers has no duals for cuts: give every integer decision to the master"
        )
    blocks = _block_split(sub, model, cuts)
    state = _State(model, decisions, split, sub, blocks, recourse, [d.name for d in decisions])
    state.theta = cp.Variable(1 if blocks is None else blocks.B, name="benders_theta")
    return state


def _held(state, hold):
    """Master constraints ``mask * x == values`` for the held decisions (checked by name)."""
    known = {d.name: d for d in state.decisions}
    out = []
    for name, values in hold.items():
        if name not in known:
            raise InputError(f"benders: hold names '{name}', which is not a master decision "
                             f"(master: {sorted(known)})")  # fmt: skip
        decision = known[name]
        values = decision.checked(values)
        given = ~np.isnan(values)
        out.append(cp.multiply(given.astype(float), decision.variable)
                   == np.where(given, values, 0.0))  # fmt: skip
    return out


def _block_split(sub, model, cuts):
    """The per-block split of the subproblem for ``cuts`` "multi" (errors if it cannot be
    split) or "auto" (None when there is one block or it cannot be split)."""
    if cuts == "single" or (cuts == "auto" and len(model.time.blocks) < 2):
        return None
    try:
        return BlockSplit(sub, model.time.block_of)
    except InputError:
        if cuts == "multi":
            raise
        return None


def _master_decisions(model, master):
    decisions = model.decisions()
    if master is None:
        chosen = [d for d in decisions if d.role.value == "investment" or d.integer]
    else:
        if isinstance(master, str):
            raise InputError(f"benders: master must be a list of decision names, got {master!r}")
        chosen = list(by_name(decisions, list(master)).values())
    if not chosen:
        raise InputError("benders: the model has no investment or integer decision to split on")
    return chosen


def _floor(state):
    """Least subproblem cost with every integer decision relaxed (a valid floor of theta)."""
    integer = [d for d in state.model.decisions() if d.integer]
    base = cp.Problem(cp.Minimize(state.split.sub_cost),
                      state.split.master_constraints + state.split.sub_constraints)  # fmt: skip
    relaxed, _, _ = fixed_problem(base, {}, relaxed=integer)
    try:
        solve_robust(relaxed, state.sub_options[0])
    except SolveError as exc:
        if exc.status == cp.UNBOUNDED:
            raise InputError("benders: the operating cost is unbounded below over the relaxed "
                             "plans; give floor= a lower bound") from exc  # fmt: skip
        raise
    return float(relaxed.value)


def _iterate(state, gap):
    """One master solve, one subproblem solve, one cut: a row of the bounds table."""
    started = time.perf_counter()
    phase = "relaxed" if state.relaxed else "integer"
    proposal, master_cost, bound = _solve_master(state, gap)
    state.lower = max(state.lower, bound)
    master_s = time.perf_counter() - started
    cut, upper, violation = _cut(state, proposal, master_cost)
    state.cuts += cut
    kind = "feasibility" if np.isinf(upper) and not violation else "optimality"
    if state.relaxed:  # a fractional plan bounds only the relaxation
        state.relaxed_upper = min(state.relaxed_upper, upper)
        state.relaxed_lower.append(state.lower)
        if _relaxation_done(state, gap):
            state.relaxed = False  # integers from now on
        upper = np.nan
    elif np.isfinite(upper) and upper < state.upper:
        state.upper, state.best = upper, proposal
    return {
        "phase": phase, "lower_bound": state.lower, "upper_bound": upper,
        "best_upper_bound": state.upper, "gap": _relative(state.upper, state.lower),
        "cut": kind, "violation": violation, "master_s": master_s,
        "subproblem_s": time.perf_counter() - started - master_s,
    }  # fmt: skip


def _relaxation_done(state, gap):
    """The relaxed phase ends when the relaxation's gap is below :data:`RELAXED_GAP` (or the
    Benders gap, if larger), or its lower bound gained less than :data:`RELAXED_STALL` over
    the last five iterations (Kelley's slow tail: the integer phase closes the rest)."""
    if _relative(state.relaxed_upper, state.lower) <= max(gap, RELAXED_GAP):
        return True
    history = state.relaxed_lower
    if len(history) <= 5:
        return False
    return _relative(history[-1], history[-6]) < RELAXED_STALL


def _relative(upper, lower):
    """``(upper - lower) / |upper|`` (inf without an upper bound, never negative)."""
    if not np.isfinite(upper):
        return np.inf
    return max((upper - lower) / max(abs(upper), 1e-9), 0.0)


def _solve_master(state, gap):
    """``(proposal {name: values}, M(x), lower bound)``; integers relaxed in the relaxed
    phase."""
    split, theta = state.split, state.theta
    scale = _cost_scale(state)  # the master in units of ``scale``: HiGHS needs it near 1
    extra = 0.0 if state.blocks is None else state.blocks.master_terms(state.decisions)
    objective = cp.Minimize((split.master_cost + extra) / scale + cp.sum(theta))
    floor = [cp.sum(theta) + extra / scale >= state.floor / scale]  # theta (+ S in x) >= floor
    cuts = [cut.constraint(state.decisions, theta, scale) for cut in state.cuts]
    master = cp.Problem(objective, split.master_constraints + floor + cuts + state.hold)
    relaxing = {}
    if state.relaxed:
        integer = [d for d in state.decisions if d.integer]
        master, _, relaxing = fixed_problem(master, {}, relaxed=integer)
    current = _relative(state.upper, state.lower)
    options = {"mip_rel_gap": max(gap / 10, min(0.1 * current, 0.01))} | state.master_options
    try:
        solve_robust(master, "HIGHS", **options)
    except SolveError as exc:
        if exc.status in PROVEN:
            raise SolveError(f"Benders master is {exc.status}: the master decisions' own "
                             "constraints admit no plan, or an unbounded one (give every "
                             "decided capacity an upper bound)", status=exc.status,
                             solver="HIGHS") from exc  # fmt: skip
        raise
    proposal = _proposal(state.decisions, relaxing)
    return proposal, float(split.master_cost.value), scale * _master_bound(master)


def _cost_scale(state):
    """A power of ten at the largest cost the master has seen (the floor, the cuts' values)."""
    sizes = [abs(state.floor), *(abs(c.constant) for c in state.cuts if c.group is not None), 1]
    return float(10.0 ** np.floor(np.log10(max(sizes))))


def _proposal(decisions, relaxing):
    """``{name: values}`` of the master's solution (relaxed twins' values for relaxed
    integers, which then also become the decisions' values)."""
    out = {}
    for d in decisions:
        twin = relaxing.get(d)
        if twin is None:
            out[d.name] = d.checked(d.variable.value)
        else:
            out[d.name] = np.clip(np.asarray(twin.value, dtype=float), 0.0, None)
            d.variable.save_value(out[d.name])  # M(x) is read from the decisions
    return out


def _master_bound(master):
    """The master's MIP dual bound (its optimum when solved to a zero gap or an LP)."""
    info = master.solver_stats.extra_stats
    if not master.is_mixed_integer() or info is None:
        return float(master.value)
    slack = float(info.objective_function_value) - float(info.mip_dual_bound)
    return float(master.value) - max(slack, 0.0)


def _cut(state, proposal, master_cost):
    """``(cut constraints, upper bound, violation)`` for ``proposal`` (``M(x_hat)``: its cost
    in the master)."""
    sub = state.sub
    sub.hold(proposal)
    try:
        _solve_sub(state, sub.problem)
    except SolveError as exc:
        if exc.status == cp.UNBOUNDED and state.recourse == "elastic":
            raise InputError(
                "benders: with recourse='elastic' the subproblem is unbounded: violating a "
                "constraint saves more than the penalty; raise the penalty above every cost a "
                "unit of violation can save (per period, with the blocks' weights)"
            ) from exc
        if exc.status not in (cp.INFEASIBLE, "infeasible_or_unbounded"):
            raise
        return _feasibility_cut(state, proposal), np.inf, 0.0
    violation = sub.violation()
    slopes = sub.slopes(sub.problem, sub.fixing)
    value = float(sub.problem.value)  # R(x_hat), the elastic penalty included
    upper = master_cost + value if violation <= 1e-6 else np.inf
    if state.blocks is None:
        return [Cut.at(0, value, slopes, proposal)], upper, violation
    parts = state.blocks.parts(value, slopes, proposal)
    cuts = [Cut.at(b, v, g, proposal) for b, (v, g) in enumerate(parts)]
    return cuts, upper, violation


def _solve_sub(state, problem):
    solver, options = state.sub_options
    if LiveLP.suits(problem, solver, options):
        live = getattr(state, "_live", None)
        if live is None or live.problem is not problem:
            live = state._live = LiveLP(problem)
        try:
            if live.solve(options) is not None:
                return
        except SolveError as exc:  # unproven: the usual path below, with its fallbacks
            if exc.status in PROVEN:
                raise
    solve_robust(problem, solver, **options)


@dataclass
class Cut:
    """``theta[group] >= constant + sum_d <slopes[d], x_d>`` (optimality), or, with ``group``
    None, ``constant + sum_d <slopes[d], x_d> <= 0`` (feasibility)."""

    group: int | None
    constant: float
    slopes: dict

    @classmethod
    def at(cls, group, value, slopes, proposal):
        """The cut through ``value`` at ``proposal`` with ``slopes``; slopes below 1e-12 of the
        largest are solver noise and dropped (they only spoil the master's scaling)."""
        largest = max((float(np.abs(g).max()) for g in slopes.values() if np.size(g)), default=0)
        kept = {n: np.where(np.abs(g) > 1e-12 * largest, g, 0.0) for n, g in slopes.items()}
        kept = {n: g for n, g in kept.items() if np.any(g)}
        constant = value - sum(float(np.sum(g * proposal[n])) for n, g in kept.items())
        return cls(group, float(constant), kept)

    def constraint(self, decisions, theta, scale):
        """The cut in the master, costs divided by ``scale`` (a feasibility cut, in units of
        violation, by its own largest coefficient)."""
        if self.group is None:
            sizes = [abs(self.constant), *(float(np.abs(g).max()) for g in self.slopes.values())]
            scale = max(sizes) or 1.0
        variables = {d.name: d.variable for d in decisions}
        terms = [cp.sum(cp.multiply(g / scale, variables[n])) for n, g in self.slopes.items()]
        linear = sum(terms, cp.Constant(self.constant / scale))
        return linear <= 0 if self.group is None else theta[self.group] >= linear


def _feasibility_cut(state, proposal):
    """``v(x_hat) + g_v (x - x_hat) <= 0`` from the least-violation problem."""
    start = {d: proposal[d.name] for d in state.decisions}
    problem, fixing = state.sub.phase1(start)
    for name, (_, _, held) in fixing.items():
        held.value = proposal[name]
    _solve_sub(state, problem)
    slopes = state.sub.slopes(problem, fixing)
    return [Cut.at(None, float(problem.value), slopes, proposal)]
