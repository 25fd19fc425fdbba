"""Solver choice by problem class, and the status check that never lets a failed solve through.

=================  =========  =====================================================
problem class      solver     why
=================  =========  =====================================================
LP, MILP           HiGHS      fast simplex/IPM and branch-and-bound
QP, SOCP           Clarabel   interior point; cvxpy+HiGHS wrongly reports some
                              multi-period QPs as non-convex (case118, quadratic cost)
MIQP, MISOCP       SCIP       the installed solver that handles both
=================  =========  =====================================================

Accuracy: Clarabel runs with gap and feasibility tolerances of 1e-12 on QPs (its defaults, 1e-8,
leave unit outputs 0.12 MW and prices 0.004 $/MWh off the optimum on case118 with quadratic
costs; 1e-12 costs about four more iterations and gives 1e-6 MW) and 1e-10 on SOCPs (1e-12
stalls there). Tolerances given by the caller take precedence.

Robustness: when the solver was chosen automatically and fails numerically (an exception, or a
status other than optimal, infeasible or unbounded), the next solver of the problem class's
list is tried (QP: Clarabel, then HiGHS, then Clarabel at its own tolerances); proven
infeasible or unbounded statuses raise at once. :func:`solve_robust` returns the attempts, which
``result.solve_info["attempts"]`` records. A solver named by the caller is not replaced.

:func:`solve_lazy` solves a problem whose constraints are added only where violated (e.g. the
line limits of ``gf.DC(lazy_limits=True)``), warm-starting HiGHS between rounds.
"""

import os
import sys
import time
import warnings
from dataclasses import dataclass, field

import cvxpy as cp
import numpy as np
import scipy.sparse as sp
from cvxpy.reductions.inverse_data import InverseData

from gridflex.errors import SolveError, SolverNotInstalledError

DEFAULT_SOLVERS = {
    "LP": "HIGHS",
    "MILP": "HIGHS",
    "QP": "CLARABEL",
    "SOCP": "CLARABEL",
    "MIQP": "SCIP",
    "MISOCP": "SCIP",
}


def clarabel_options(tolerance):
    """Clarabel's gap and feasibility tolerances (and a KKT ratio 100 times looser)."""
    return {
        "tol_gap_abs": tolerance, "tol_gap_rel": tolerance, "tol_feas": tolerance,
        "tol_ktratio": 100 * tolerance, "max_iter": 500,
    }  # fmt: skip


TIGHT = {"QP": 1e-12, "SOCP": 1e-10, "LP": 1e-10}
"""Clarabel's tolerances in gridflex by problem class (SOCPs stall at 1e-12: case33bw's SOC
DistFlow ends 'optimal_inaccurate')."""

LOOSE = clarabel_options(1e-8) | {"tol_ktratio": 1e-6, "max_iter": 200, "equilibrate_max_iter": 50}
"""The retry: Clarabel's own tolerances, given explicitly (cvxpy keeps a re-solved problem's solver
settings), and 50 equilibration passes instead of 10 (a Benders subproblem of the 33-node ice
study, SOC DistFlow at a binding 0.93 pu, ends 'optimal_inaccurate' with 10, optimal with 50)."""

RESCUES = (
    LOOSE | {"equilibrate_max_iter": 200},
    LOOSE | {"static_regularization_constant": 1e-7},
    LOOSE | {"iterative_refinement_max_iter": 50},
    LOOSE | clarabel_options(1e-7),
)
"""The last Clarabel retries of an SOCP, one change each (33-node ice subproblems that end
'optimal_inaccurate' with LOOSE are solved by one or another of them, not by all combined)."""

FALLBACKS = {  # (solver, tight tolerances? or "rescue") after the first choice, by class
    "LP": (("CLARABEL", True),),
    "MILP": (("SCIP", False),),
    "QP": (("HIGHS", False), ("CLARABEL", False)),
    "SOCP": (("CLARABEL", False), *(("CLARABEL", f"rescue{k}") for k in range(4))),
    "MIQP": (),
    "MISOCP": (),
}

PROVEN = (cp.INFEASIBLE, cp.UNBOUNDED, "infeasible_or_unbounded")

GENERIC_OPTIONS = ("verbose", "warm_start", "ignore_dpp", "canon_backend", "enforce_dpp")
"""cvxpy's own solve options: the only ones passed on to a fallback solver."""

_HINTS = {
    cp.INFEASIBLE: "the constraints cannot all hold: check that generation and import limits "
    "cover demand in every period, storage initial/final energy, and line ratings; "
    "give loads a shed_cost_per_mwh to see where demand cannot be met",
    cp.UNBOUNDED: "the cost can fall without limit: check for unlimited devices with negative "
    "costs (e.g. an external grid with unlimited export at a positive price)",
    "infeasible_or_unbounded": "the problem is infeasible or unbounded; see both hints in the "
    "docs (troubleshooting)",
}


def problem_class(problem):
    """'LP', 'MILP', 'QP', 'MIQP', 'SOCP' or 'MISOCP' for a cvxpy problem."""
    mixed = problem.is_mixed_integer()
    conic = any(isinstance(c, cp.constraints.SOC) for c in problem.constraints)
    if not conic and problem.is_qp() and problem.objective.expr.is_pwl():  # |x|, max: LP
        kind = "LP"
    elif not conic and problem.is_qp():
        kind = "QP"
    else:
        kind = "SOCP"
    return ("MI" + kind) if mixed else kind


def pick_solver(problem, solver=None):
    """The solver to use: ``solver`` if given (checked), else by :func:`problem_class`."""
    name = (solver or DEFAULT_SOLVERS[problem_class(problem)]).upper()
    installed = cp.installed_solvers()
    if name not in installed:
        raise SolverNotInstalledError(
            f"solver {name} is not installed; installed: {', '.join(installed)}"
        )
    return name


_BANNER = {"quiet": False}


def quiet_highs_banner():
    """HiGHS prints a copyright banner from C++ the first time a ``Highs`` object is made in a
    process; make that first one with the process's stdout silenced (once). Solver output a
    user asks for (``verbose=True``) is untouched."""
    if _BANNER["quiet"]:
        return
    _BANNER["quiet"] = True
    try:
        import highspy
    except ImportError:  # pragma: no cover - HiGHS is a dependency
        return
    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def solve_checked(problem, solver=None, **options):
    """Solve ``problem`` and raise :class:`SolveError` unless the status is optimal; returns
    the solver used (see :func:`solve_robust`)."""
    return solve_robust(problem, solver, **options)[0]


def solve_robust(problem, solver=None, **options):
    """Solve ``problem``, trying the next capable solver after a numerical failure when the
    solver was chosen automatically. Returns ``(solver used, attempts)``, ``attempts`` a list
    of ``{"solver", "status"}`` of every try; raises :class:`SolveError` when none is optimal
    or at once on a proven infeasible/unbounded status."""
    first = pick_solver(problem, solver)
    if not options.get("verbose"):
        quiet_highs_banner()
    plan = [(first, True)]
    if solver is None:
        installed = cp.installed_solvers()
        plan += [(s, t) for s, t in FALLBACKS[problem_class(problem)] if s in installed]
    attempts, error = [], None
    kind = problem_class(problem)
    for k, (name, tight) in enumerate(plan):
        given = options if k == 0 else {o: options[o] for o in GENERIC_OPTIONS if o in options}
        level = tight if str(tight).startswith("rescue") else tight and kind
        status, error = _attempt(problem, name, _options(name, level, given))
        attempts.append({"solver": name, "status": status})
        if status == cp.OPTIMAL or status in PROVEN or status == cp.USER_LIMIT:
            break  # a proven status, or the caller's own time/iteration limit: no fallback
    if problem.status != cp.OPTIMAL or attempts[-1]["status"] != cp.OPTIMAL:
        if error is not None and attempts[-1]["status"] == "solver_error":
            raise SolveError(
                f"{attempts[-1]['solver']} failed: {error}" + _tried(attempts),
                status="solver_error", solver=attempts[-1]["solver"],
            ) from error  # fmt: skip
        _raise_status(attempts[-1]["status"], attempts[-1]["solver"], _tried(attempts))
    return attempts[-1]["solver"], attempts


def _options(name, kind, given):
    """The caller's options over Clarabel's tolerances: gridflex's for problem class ``kind``,
    or Clarabel's own when ``kind`` is falsy (a retry)."""
    if name != "CLARABEL" or any(k.startswith("tol_") for k in given):
        return dict(given)
    if str(kind).startswith("rescue"):
        return RESCUES[int(kind.removeprefix("rescue"))] | dict(given)
    base = clarabel_options(TIGHT.get(kind, 1e-8)) if kind else LOOSE
    return base | dict(given)


def _attempt(problem, name, options):
    """One solve; the status decides what happens (cvxpy's 'may be inaccurate' warning is
    the status 'optimal_inaccurate', handled by the caller)."""
    scale = objective_scale(problem) if name in SCALED_SOLVERS else 1.0
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Solution may be inaccurate")
            if scale == 1.0:
                problem.solve(solver=name, **options)
            else:
                _solve_scaled(problem, name, options, scale)
    except cp.error.SolverError as exc:
        return "solver_error", exc
    return problem.status, None


SCALED_SOLVERS = ("CLARABEL", "SCS")
"""Interior-point and first-order conic solvers stop short of their tolerances when the costs
are large (a year of yuan: ~1e5 per MW and period): they solve the objective divided by
:func:`objective_scale`, and the caller's problem gets the value and duals scaled back."""


def objective_scale(problem):
    """A power of ten at the largest constant that multiplies a variable in the objective (1
    below 1e3): additive terms without variables (a fixed cost) do not count."""
    terms = additive_terms(problem.objective.args[0])
    varying = [t for t in terms if t.variables()]
    leaves = [leaf for t in varying for leaf in (*t.constants(), *t.parameters())]
    sizes = [_largest(x.value) for x in leaves if x.value is not None]
    biggest = max(sizes, default=0.0)
    if not np.isfinite(biggest) or biggest < 1e3:
        return 1.0
    return float(10.0 ** np.floor(np.log10(biggest)))


def _largest(value):
    """Largest magnitude of a dense or sparse constant (0 when empty)."""
    data = value.data if sp.issparse(value) else np.asarray(value, dtype=float)
    return float(np.abs(data).max()) if np.size(data) else 0.0


def additive_terms(expr):
    """The additive terms of ``expr`` (nested sums flattened)."""
    if isinstance(expr, cp.atoms.affine.add_expr.AddExpression):
        return [t for arg in expr.args for t in additive_terms(arg)]
    return [expr]


def _solve_scaled(problem, name, options, scale):
    """Solve ``problem`` as its objective / ``scale`` (the scaled copy kept on the problem, so a
    re-solve re-uses its compilation); hand status, value, statistics and duals back."""
    cached = getattr(problem, "_gridflex_scaled", None)
    if cached is None or cached[0] != scale:
        objective = type(problem.objective)(problem.objective.args[0] / scale)
        cached = (scale, cp.Problem(objective, problem.constraints))
        problem._gridflex_scaled = cached
    scaled = cached[1]
    scaled.solve(solver=name, **options)
    problem._status, problem._solver_stats = scaled.status, scaled.solver_stats
    problem._value = None if scaled.value is None else float(scaled.value) * scale
    for constraint in problem.constraints:  # shared with the copy: duals of cost / scale
        for dual in constraint.dual_variables:
            if dual.value is not None:
                dual.save_value(np.asarray(dual.value) * scale)


def _tried(attempts):
    if len(attempts) < 2:
        return ""
    return " (tried " + ", ".join(f"{a['solver']}: {a['status']}" for a in attempts) + ")"


def _check_status(problem, name):
    if problem.status != cp.OPTIMAL:
        _raise_status(problem.status, name)


def _raise_status(status, name, tried=""):
    hint = _HINTS.get(
        status,
        "the solver stopped without a proven optimum; try "
        "another solver (solve(solver=...)) or rescale inputs",
    )
    raise SolveError(
        f"{name} returned status '{status}'{tried}: {hint}", status=status, solver=name
    )


def fix_integers(problem):
    """The continuous problem with every integer/boolean variable fixed at its solved value.

    Used to price a MILP's solution: the LP with the commitment fixed has duals (the usual
    "pricing run" of unit-commitment markets). Constraints keep their order, so constraint ``i``
    of the result corresponds to constraint ``i`` of ``problem``.
    """
    fixed = {
        v.id: cp.Constant(np.round(v.value))
        for v in problem.variables()
        if v.attributes["boolean"] or v.attributes["integer"]
    }
    return substitute_problem(problem, fixed)


def substitute_problem(problem, replacements, extra=()):
    """Copy of ``problem`` with variables replaced (``{variable id: expression}``) in its
    objective and constraints (same order), plus the ``extra`` constraints at the end."""
    objective = type(problem.objective)(_substitute(problem.objective.args[0], replacements))
    constraints = [_substitute(c, replacements) for c in problem.constraints]
    return cp.Problem(objective, [*constraints, *extra])


def _substitute(expr, fixed):
    """Copy of ``expr`` with the variables in ``fixed`` (id -> expression) replaced."""
    if isinstance(expr, cp.Variable):
        return fixed.get(expr.id, expr)
    if not expr.args:
        return expr
    return expr.copy([_substitute(arg, fixed) for arg in expr.args])


# --- lazy constraints --------------------------------------------------------------------------
@dataclass
class CutBlock:
    """Rows ``lo <= G @ vec(expr) <= hi`` added to a problem in one round of :func:`solve_lazy`.

    ``vec`` stacks the columns of the source's expression (Fortran order, like ``cp.vec``). After
    the solve, :meth:`multipliers` gives one dual per row, positive when the row presses on
    ``hi`` and negative when on ``lo`` (cost per unit of the row, per period as in the balance
    duals).
    """

    G: sp.csr_matrix
    lo: np.ndarray
    hi: np.ndarray
    info: dict = field(default_factory=dict)
    dual: np.ndarray | None = None  # set by the warm-started HiGHS path
    constraints: tuple | None = None  # (upper, lower) cvxpy constraints of the re-solve path

    def __len__(self):
        return self.G.shape[0]

    def multipliers(self):
        """Row duals (K,), or None when the solve produced none (mixed-integer)."""
        if self.dual is not None:
            return self.dual
        if self.constraints is None or self.constraints[0].dual_value is None:
            return None
        up, down = self.constraints
        return np.asarray(up.dual_value).ravel() - np.asarray(down.dual_value).ravel()


def solve_lazy(problem, sources, solver=None, *, max_rounds=100, **options):
    """Solve ``problem`` adding the rows of ``sources`` only where its solution violates them.

    Each source holds an affine expression ``expr`` and a method ``cuts(values, whole)`` that
    returns a :class:`CutBlock` of rows violated at the given values of ``expr`` (not yet added)
    or None, and ``check()``, the largest violation (>= 0) at the last values and the tolerance.
    Rounds repeat until no source returns rows. The relaxation's optimum is then feasible for
    the full problem and so optimal for it (exactness); a violation above the tolerance on rows
    already added (solver tolerance) raises :class:`SolveError`.

    Two paths, same rows:

    * HiGHS on an LP: the problem is compiled once (cvxpy ``get_problem_data``) and passed to
      HiGHS with its bound rows folded into column bounds (:class:`_LeanLP`); each round's rows
      are appended to the live HiGHS model (``addRows``, two-sided) and the dual simplex
      restarts from the previous optimal basis. Warm starts keep the re-solves short and the
      solution close to the previous one, so rows are added per violated (row, period) pair.
      cvxpy then receives the solution as from its own HiGHS interface (values, duals).
    * any other solver or a MILP: the cvxpy problem is re-solved with the rows as constraints;
      ``whole=True`` asks sources for all periods of every violated limit at once, since each
      round is a solve from scratch.

    Returns ``(solver name, solved problem, info)``. ``info``: ``iterations`` (solves),
    ``constraints_added`` (rows) and ``constraints_added_per_iteration`` (before each re-solve),
    ``max_violation`` at the end and the ``tolerance``, ``path`` ("highs-warm" or
    "cvxpy-resolve") and ``solve_s_per_iteration`` (wall; the first includes compilation).
    """
    name = pick_solver(problem, solver)
    if not options.get("verbose"):
        quiet_highs_banner()
    if name == "HIGHS" and problem_class(problem) == "LP":
        warm = _HighsWarm.start(problem, sources, options)
        if warm is not None:
            return name, problem, warm.run(max_rounds)
    return name, *_lazy_resolve(problem, sources, name, max_rounds, options)


def _info(path, rounds, sources, wall):
    added = [sum(len(b) for b in r) for r in rounds]
    return {
        "method": "lazy",
        "path": path,
        "iterations": len(wall),
        "constraints_added": int(sum(added)),
        "constraints_added_per_iteration": added,
        "max_violation": max((s.check()[0] for s in sources), default=0.0),
        "tolerance": min((s.check()[1] for s in sources), default=0.0),
        "solve_s_per_iteration": wall,
    }


def _next_round(sources, values, whole):
    """New blocks (one per source with violated rows), or raise if only old rows are violated."""
    blocks = []
    for source, v in zip(sources, values, strict=True):
        block = source.cuts(v, whole)
        if block is not None:
            blocks.append((source, block))
    if not blocks:
        for source in sources:
            worst, tol = source.check()
            if worst > tol:
                raise SolveError(
                    f"lazy rows violated by {worst:.3g} (> tolerance {tol:.3g}) after being "
                    "added: the solver's feasibility tolerance is too loose for this check; "
                    "tighten it or raise the lazy tolerance",
                    status="lazy_tolerance",
                )
    return blocks


def _lazy_resolve(problem, sources, name, max_rounds, options):
    constraints, rounds, wall = list(problem.constraints), [], []
    for _ in range(max_rounds):
        t0 = time.perf_counter()
        solve_checked(problem, name, **options)
        wall.append(time.perf_counter() - t0)
        values = [np.asarray(s.expr.value, dtype=float) for s in sources]
        blocks = _next_round(sources, values, whole=True)
        if not blocks:
            return problem, _info("cvxpy-resolve", rounds, sources, wall)
        rounds.append([b for _, b in blocks])
        for source, block in blocks:
            rows = block.G @ cp.vec(source.expr, order="F")
            block.constraints = (rows <= block.hi, rows >= block.lo)
            constraints += block.constraints
        problem = cp.Problem(problem.objective, constraints)
    raise SolveError(f"lazy rows still violated after {max_rounds} solves", status="lazy_rounds")


class _HighsWarm:
    """The warm-started HiGHS path of :func:`solve_lazy` (see there).

    cvxpy writes every bound of a variable (``p <= p_max``, ``e >= 0``, ...) as a row. HiGHS's
    presolve removes such rows, but a warm start skips presolve, and the dual simplex then
    drags them along: on case118 over 2190 hours with distinct costs, a re-solve took 100 s
    instead of 1.5 s. So the LP handed to HiGHS here is :class:`_LeanLP`: cvxpy's matrices with
    single-entry rows folded into column bounds; their duals are rebuilt for cvxpy afterwards.
    """

    COMPILE_OPTIONS = ("canon_backend", "ignore_dpp", "enforce_dpp")

    @classmethod
    def start(cls, problem, sources, options):
        """Compile and solve once; None when this cvxpy's problem data do not fit."""
        options = dict(options)
        compile_kw = {k: options.pop(k) for k in cls.COMPILE_OPTIONS if k in options}
        verbose = bool(options.pop("verbose", False))
        for ignored in ("warm_start", "write_model_file"):  # warm starts are what this does
            options.pop(ignored, None)
        t0 = time.perf_counter()
        data, chain, inverse = problem.get_problem_data(cp.HIGHS, **compile_kw)
        lean = _LeanLP.from_cvxpy(data)
        n_cols = data["A"].shape[1]
        maps = [_affine_map(s.expr, chain, inverse, n_cols, compile_kw) for s in sources]
        if lean is None or any(m is None for m in maps):
            return None
        self = cls()
        self.problem, self.sources, self.maps = problem, sources, maps
        self.chain, self.inverse, self.lean = chain, inverse, lean
        self.highs = lean.highs(verbose, options)
        self.highs.run()
        self.wall = [time.perf_counter() - t0]
        self._check()
        self._unpack()
        self._verify_maps()
        return self

    def run(self, max_rounds):
        rounds = []
        while True:
            x = np.asarray(self.highs.getSolution().col_value)
            values = [(J @ x + d).reshape(s.expr.shape, order="F") for s, (J, d) in self._pairs()]
            blocks = _next_round(self.sources, values, whole=False)
            if not blocks:
                if rounds:
                    self._unpack()
                    self._store_duals(rounds)
                return _info("highs-warm", rounds, self.sources, self.wall)
            if len(self.wall) >= max_rounds:
                raise SolveError(
                    f"lazy rows still violated after {max_rounds} solves", status="lazy_rounds"
                )
            rounds.append([b for _, b in blocks])
            for source, block in blocks:
                J, d = self.maps[self.sources.index(source)]
                self._add_rows(block, J, d)
            t0 = time.perf_counter()
            self.highs.run()
            self.wall.append(time.perf_counter() - t0)
            self._check()

    def _pairs(self):
        return zip(self.sources, self.maps, strict=True)

    def _add_rows(self, block, J, d):
        R = (block.G @ J).tocsr()
        shift = block.G @ d
        R.sort_indices()
        self.highs.addRows(
            R.shape[0],
            block.lo - shift,
            block.hi - shift,
            R.nnz,
            R.indptr[:-1].astype(np.int32),
            R.indices.astype(np.int32),
            R.data,
        )

    def _check(self):
        """Raise :class:`SolveError` unless HiGHS found an optimum."""
        status = self.highs.getModelStatus().name
        if status != "kOptimal":
            _raise_status(self.chain.solver.STATUS_MAP.get(status, status), "HIGHS")

    def _unpack(self):
        """Hand the solution to cvxpy as its HiGHS interface would (values, duals, stats)."""
        _unpack_highs(self.problem, self.highs, self.lean, self.chain, self.inverse)

    def _verify_maps(self):
        """The expression maps must reproduce cvxpy's own values of the expressions."""
        x = np.asarray(self.highs.getSolution().col_value)
        for source, (J, d) in self._pairs():
            ours = J @ x + d
            theirs = np.asarray(source.expr.value, dtype=float).ravel(order="F")
            scale = 1.0 + np.abs(theirs).max(initial=0.0)
            if np.abs(ours - theirs).max(initial=0.0) > 1e-7 * scale:
                raise RuntimeError("gridflex: lazy rows: expression map disagrees with cvxpy")

    def _store_duals(self, rounds):
        y = -np.asarray(self.highs.getSolution().row_dual)  # cvxpy's sign for "<=" rows
        start = self.lean.n_kept
        for blocks in rounds:
            for block in blocks:
                block.dual = y[start : start + len(block)]
                start += len(block)


class LiveLP:
    """An LP kept alive in HiGHS between solves, for models whose values change through cvxpy
    Parameters (:mod:`gridflex.devices.base`, ``DeviceBuild.parameter``).

    The first solve compiles the problem (cvxpy ``get_problem_data``) and hands HiGHS the lean
    LP (:class:`_LeanLP`: bound rows folded into column bounds). A re-solve after new Parameter
    values takes cvxpy's cached map from Parameters to the problem data (no compilation) and,
    when the constraint matrix is unchanged (Parameters in costs and right-hand sides only),
    changes costs and bounds in the live HiGHS model, whose simplex restarts from the last
    optimal basis. Otherwise it starts over. cvxpy receives each solution as from its own
    HiGHS interface (values, duals).
    """

    def __init__(self, problem):
        self.problem = problem
        self.lean = self.highs = self.options = None
        self.solves = 0

    @staticmethod
    def suits(problem, solver, options):
        """True for an LP with Parameters, HiGHS chosen, and options this path understands."""
        known = {"verbose", "highs_options"} | set(options.get("highs_options", {}))
        return (
            bool(problem.parameters())
            and (solver is None or solver.upper() == "HIGHS")
            and set(options) <= known
            and problem_class(problem) == "LP"
            and "HIGHS" in cp.installed_solvers()
        )

    def solve(self, options):
        """Solve with ``options`` (warm when possible: same rows, same options); returns
        ``{"path", "warm", "simplex_iterations"}`` or None when the problem data do not fit a
        plain LP (the caller solves through cvxpy). A failed solve leaves no live model, and
        cvxpy's problem gets the status (an infeasible re-solve is not left 'optimal')."""
        data, chain, inverse = self.problem.get_problem_data(cp.HIGHS)
        lean = _LeanLP.from_cvxpy(data)
        if lean is None:
            return None
        if not options.get("verbose"):
            quiet_highs_banner()
        warm = self.highs is not None and self.options == options and self.lean.same_rows(lean)
        try:
            if warm:
                self._update(lean)
            else:
                given = dict(options)
                self.highs = lean.highs(bool(given.pop("verbose", False)), given)
            self.lean, self.options = lean, dict(options)
            self.highs.run()
            self.solves += 1
            _unpack_highs(self.problem, self.highs, lean, chain, inverse)  # raises unless optimal
        except Exception:
            self.highs = None  # nothing worth keeping
            raise
        return {
            "path": "highs-live",
            "warm": warm,
            "simplex_iterations": int(self.highs.getInfo().simplex_iteration_count),
        }

    def _update(self, lean):
        h, n_col, n_row = self.highs, len(lean.cost), len(lean.row_lo)
        cols, rows = np.arange(n_col, dtype=np.int32), np.arange(n_row, dtype=np.int32)
        h.changeColsCost(n_col, cols, lean.cost)
        h.changeColsBounds(n_col, cols, lean.col_lo, lean.col_hi)
        if n_row:
            h.changeRowsBounds(n_row, rows, lean.row_lo, lean.row_hi)


def _unpack_highs(problem, highs, lean, chain, inverse):
    """Hand HiGHS's solution of a lean LP to cvxpy as its HiGHS interface would (its status
    too: cvxpy's problem is never left with an earlier solve's), then raise unless optimal."""
    status = highs.getModelStatus().name
    if status == "kOptimal":
        solution = highs.getSolution()
        values = _Solution(np.asarray(solution.col_value), lean.full_row_duals(solution))
    else:  # cvxpy reads no solution for these statuses, only the status
        values = _Solution(np.zeros(len(lean.cost)), np.zeros(lean.n_rows))
    raw = {
        "solution": values,
        "info": highs.getInfo(),
        "model_status": status,
        "run_time": highs.getRunTime(),
    }
    if status == "kInfeasible":  # cvxpy reads a certificate: the kept rows' ray, 0 elsewhere
        ray = np.zeros(lean.n_rows)
        found = highs.getDualRay()
        if found[1]:
            ray[lean.kept] = np.asarray(found[2])[: lean.n_kept]
        raw["dual_ray"] = (found[0], found[1], ray)
    try:
        problem.unpack_results(raw, chain, inverse)
    except cp.error.SolverError as exc:
        raise SolveError(f"HIGHS failed: {exc}", status="solver_error", solver="HIGHS") from exc
    _check_status(problem, "HIGHS")


@dataclass
class _Solution:
    col_value: np.ndarray
    row_dual: np.ndarray


@dataclass
class _LeanLP:
    """cvxpy's LP for HiGHS with single-entry rows folded into column bounds.

    ``lo_r <= a x_j <= hi_r`` becomes a bound on ``x_j``. HiGHS's reduced cost of ``x_j``
    (``d = c - A^T y``) then carries the folded row's dual: ``y_r = d_j / a`` for the row that
    sets the active bound (zero for the others), which :meth:`full_row_duals` restores.
    """

    A: sp.csc_matrix  # kept rows
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    cost: np.ndarray
    n_rows: int  # rows of cvxpy's LP
    kept: np.ndarray  # their positions
    folded: np.ndarray  # positions of folded rows ...
    column: np.ndarray  # ... their column
    coef: np.ndarray  # ... coefficient
    owns_lo: np.ndarray  # ... whether the row sets the column's lower bound
    owns_hi: np.ndarray

    @property
    def n_kept(self):
        return len(self.kept)

    @classmethod
    def from_cvxpy(cls, data):
        """From ``get_problem_data(cp.HIGHS)``; None unless it is a plain LP (rows, bounds)."""
        dims = data["dims"]
        A = data["A"].tocsr()
        n_rows, n_cols = A.shape
        if (
            dims.zero + dims.nonneg != n_rows
            or data.get("bool_vars_idx")
            or data.get("int_vars_idx")
        ):
            return None
        b = np.asarray(data["b"], dtype=float)
        row_lo = np.r_[b[: dims.zero], np.full(n_rows - dims.zero, -np.inf)]
        col_lo, col_hi = (
            np.full(n_cols, fill) if data.get(key) is None else np.array(data[key], dtype=float)
            for key, fill in (("lower_bounds", -np.inf), ("upper_bounds", np.inf))
        )
        folded = np.flatnonzero(np.diff(A.indptr) == 1)
        column, coef = A.indices[A.indptr[folded]], A.data[A.indptr[folded]]
        folded, column, coef = folded[coef != 0], column[coef != 0], coef[coef != 0]
        lo, hi = row_lo[folded] / coef, b[folded] / coef
        lo, hi = np.where(coef > 0, lo, hi), np.where(coef > 0, hi, lo)
        np.maximum.at(col_lo, column, lo)
        np.minimum.at(col_hi, column, hi)
        kept = np.setdiff1d(np.arange(n_rows), folded)
        return cls(
            A=A[kept].tocsc(),
            row_lo=row_lo[kept],
            row_hi=b[kept],
            col_lo=col_lo,
            col_hi=col_hi,
            cost=np.asarray(data["c"], dtype=float),
            n_rows=n_rows,
            kept=kept,
            folded=folded,
            column=column,
            coef=coef,
            owns_lo=_first_owner(column, lo == col_lo[column]),
            owns_hi=_first_owner(column, hi == col_hi[column]),
        )

    def same_rows(self, other):
        """True when ``other`` has this LP's rows and folding: only costs and bounds differ (which
        folded row sets a column's bound may change: that only matters for the duals, which
        come from ``other``)."""
        mine, theirs = self.A, other.A
        return (
            mine.shape == theirs.shape
            and np.array_equal(self.kept, other.kept)
            and np.array_equal(self.folded, other.folded)
            and np.array_equal(self.column, other.column)
            and np.array_equal(self.coef, other.coef)
            and np.array_equal(mine.indptr, theirs.indptr)
            and np.array_equal(mine.indices, theirs.indices)
            and np.array_equal(mine.data, theirs.data)
        )

    def highs(self, verbose, options):
        """A highspy model of the lean LP with cvxpy's HiGHS options applied."""
        import highspy

        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.A.shape[1], self.A.shape[0]
        lp.col_cost_ = self.cost
        lp.col_lower_, lp.col_upper_ = self.col_lo, self.col_hi
        lp.row_lower_, lp.row_upper_ = self.row_lo, self.row_hi
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = self.A.indptr
        lp.a_matrix_.index_ = self.A.indices
        lp.a_matrix_.value_ = self.A.data
        h = highspy.Highs()
        h.setOptionValue("log_to_console", verbose)
        h.setOptionValue("output_flag", verbose)
        extra = options.pop("highs_options", {})
        options = {**options, **extra}
        for name, value in options.items():
            if h.setOptionValue(name, value) == highspy.HighsStatus.kError:
                raise ValueError(f"HiGHS rejected option {name}={value!r}")
        h.passModel(lp)
        return h

    def full_row_duals(self, solution):
        """Row duals of cvxpy's LP (HiGHS's sign), the folded rows' from the reduced costs."""
        y = np.zeros(self.n_rows)
        y[self.kept] = np.asarray(solution.row_dual)[: self.n_kept]
        d = np.asarray(solution.col_dual)[self.column]
        at_lo = self.owns_lo & (d > 0)
        at_hi = self.owns_hi & (d < 0)
        take = at_lo | at_hi
        y[self.folded[take]] = d[take] / self.coef[take]
        return y


def _first_owner(column, candidate):
    """Per folded row: it is the first candidate row of its column (one owner per bound)."""
    owner = np.zeros(len(column), dtype=bool)
    rows = np.flatnonzero(candidate)
    _, first = np.unique(column[rows], return_index=True)
    owner[rows[first]] = True
    return owner


def _affine_map(expr, chain, inverse, n_cols, compile_kw):
    """``(J, d)`` with ``vec(expr) = J @ x + d`` for the solver columns ``x`` of a problem.

    cvxpy compiles ``expr == 0`` alone; its rows are ``A x - b`` in its own columns, which are
    mapped to the problem's columns through the variable offsets of both compilations
    (``chain``/``inverse`` of the problem). None when a variable of ``expr`` has no column of its
    own in the problem (cvxpy rewrote it).
    """
    aux = cp.Problem(cp.Minimize(0), [expr == 0])
    data, aux_chain, aux_inverse = aux.get_problem_data(cp.HIGHS, **compile_kw)
    ours, theirs = _var_offsets(chain, inverse), _var_offsets(aux_chain, aux_inverse)
    if ours is None or theirs is None:
        return None
    columns = np.full(data["A"].shape[1], -1)
    for var in aux.variables():
        if var.id not in theirs or var.id not in ours:
            return None
        start = theirs[var.id]
        columns[start : start + var.size] = ours[var.id] + np.arange(var.size)
    if (columns < 0).any():
        return None
    A = data["A"].tocoo()
    J = sp.csr_matrix((A.data, (A.row, columns[A.col])), shape=(A.shape[0], n_cols))
    return J, -np.asarray(data["b"], dtype=float)


def _var_offsets(chain, inverse):
    """Column offset of each variable in the solver's ``x`` (from cvxpy's matrix stuffing)."""
    for reduction, item in zip(chain.reductions, inverse, strict=False):
        if type(reduction).__name__ == "ConeMatrixStuffing" and isinstance(item, InverseData):
            return item.var_offsets
    return None
