"""Solver choice by problem class, and the status check that never lets a failed solve through.

=================  =========  =====================================================
problem class      solver     why
=================  =========  =====================================================
LP, MILP           HiGHS      fast simplex/IPM and branch-and-bound
QP, SOCP           Clarabel   interior point; cvxpy+HiGHS wrongly reports some
                              multi-period QPs as non-convex (case118, quadratic cost)
MIQP, MISOCP       SCIP       the installed solver that handles both
=================  =========  =====================================================
"""

import cvxpy as cp
import numpy as np

from gridflex.errors import SolveError, SolverNotInstalledError

DEFAULT_SOLVERS = {
    "LP": "HIGHS",
    "MILP": "HIGHS",
    "QP": "CLARABEL",
    "SOCP": "CLARABEL",
    "MIQP": "SCIP",
    "MISOCP": "SCIP",
}

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
    if not conic and problem.is_qp() and problem.objective.expr.is_affine():
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


def solve_checked(problem, solver=None, **options):
    """Solve ``problem`` and raise :class:`SolveError` unless the status is optimal."""
    name = pick_solver(problem, solver)
    try:
        problem.solve(solver=name, **options)
    except cp.error.SolverError as exc:
        raise SolveError(f"{name} failed: {exc}", status="solver_error", solver=name) from exc
    if problem.status != cp.OPTIMAL:
        hint = _HINTS.get(
            problem.status,
            "the solver stopped without a proven optimum; try "
            "another solver (solve(solver=...)) or rescale inputs",
        )
        raise SolveError(
            f"{name} returned status '{problem.status}': {hint}", status=problem.status, solver=name
        )
    return name


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
    objective = type(problem.objective)(_substitute(problem.objective.args[0], fixed))
    return cp.Problem(objective, [_substitute(c, fixed) for c in problem.constraints])


def _substitute(expr, fixed):
    """Copy of ``expr`` with the variables in ``fixed`` (id -> constant) replaced."""
    if isinstance(expr, cp.Variable):
        return fixed.get(expr.id, expr)
    if not expr.args:
        return expr
    return expr.copy([_substitute(arg, fixed) for arg in expr.args])
