"""Which solver should gridflex use by default for large LPs? case118, side by side.

Builds the IEEE 118-bus net (PGLib ratings) with linear generator costs only (an LP), a daily
load shape repeated over T hourly periods and five 50 MW / 200 MWh batteries, then for each T:

* model build time (``model.build()``),
* wall time, solver-reported time, objective and peak memory of ``model.solve`` with
  HiGHS default (``solver="HIGHS"``; HiGHS picks dual simplex for LPs),
  HiGHS interior point with crossover (``highs_options={"solver": "ipm"}``),
  HiGHS interior point without crossover
  (``highs_options={"solver": "ipm", "run_crossover": "off"}``),
  Clarabel (``solver="CLARABEL"``), and optionally HiGHS PDLP,
* the number of binding lines (loading >= 99.9 % in some period).

Every solve runs in a fresh child process (``python solver_choice.py --worker ...``), so the
peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss`` in the child) and the timings of one
solve do not depend on the others; the child also builds the model, so "peak GB" includes
pandapower, the cvxpy problem, its compiled matrices, the solver and the result tables.

Why ``highs_options``: ``Model.solve(solver=...)`` and ``Problem.solve(solver=...)`` already
use the keyword ``solver`` for the solver's name, so HiGHS's own option ``solver`` can only be
passed nested: ``problem.solve(solver="HIGHS", highs_options={"solver": "ipm"})`` (cvxpy
unpacks ``highs_options`` into HiGHS options; see cvxpy's ``highs_conif.py``).

Finally it times how long cvxpy+HiGHS needs to report an infeasible LP (T=96, load x50 in the
last period; gridflex raises ``gf.SolveError``), against HiGHS run directly (highspy) on the
same matrices cvxpy builds (``problem.get_problem_data``), and Clarabel.

Usage::

    python benchmarks/solver_choice.py                      # T = 24 96 2190 8760
    python benchmarks/solver_choice.py --periods 24 96 --repeat-small 2 --timeout 900
    python benchmarks/solver_choice.py --configs highs-default clarabel --periods 2190

Timings on a shared machine are noisy: runs with T <= --small-t are repeated (--repeat-small)
and every repeat is printed. The script exits non-zero if objectives disagree.
"""

import argparse
import math
import os
import subprocess
import sys
import time

from _common import (
    BINDING_PCT,
    STORAGE_BUSES,
    cpu_s,
    fmt,
    load_profile,
    machine_info,
    peak_rss_gb,
    print_machine,
    print_result,
    rss_gb,
    run_child,
    write_json,
)

# Solver configurations: label -> keyword arguments of Model.solve / cvxpy Problem.solve.
CONFIGS = {
    "highs-default": dict(solver="HIGHS"),
    "highs-ipm": dict(solver="HIGHS", highs_options={"solver": "ipm"}),
    "highs-ipm-nox": dict(solver="HIGHS", highs_options={"solver": "ipm", "run_crossover": "off"}),
    "clarabel": dict(solver="CLARABEL"),
    "highs-pdlp": dict(solver="HIGHS", highs_options={"solver": "pdlp"}),
}
DEFAULT_CONFIGS = ["highs-default", "highs-ipm", "highs-ipm-nox", "clarabel"]
# Relative objective tolerance against the HiGHS default (simplex, exact vertex).
REL_TOL = {
    "highs-default": 1e-6,
    "highs-ipm": 1e-6,
    "highs-ipm-nox": 1e-6,
    "clarabel": 1e-5,
    "highs-pdlp": 1e-5,
}
INFEASIBLE_LOAD_SCALE = 50.0  # last period's load scale in the infeasibility timing


# --------------------------------------------------------------------------- the model
def make_model(T, profile=None):
    """case118 (PGLib ratings), linear costs only (an LP), five batteries, ``DC()``.

    With the default profile (level 1) no line limits the optimum of this LP (an interior-point
    solution keeps every line below 79 %, all bus prices are equal); level 1.5 congests the grid.
    """
    import gridflex as gf

    net = gf.networks.ieee118()
    net.poly_cost["cp2_eur_per_mw2"] = 0.0  # linear costs only -> an LP
    model = gf.Model(net, periods=T, load_scale=load_profile(T) if profile is None else profile)
    model.add(gf.Storage(bus=STORAGE_BUSES, p_mw=50, e_mwh=200, name="bess"))
    return model


def code_hash():
    """Short hash of gridflex's installed source, to tell runs on different code apart."""
    import hashlib
    from pathlib import Path

    import gridflex

    h = hashlib.sha1()
    for f in sorted(Path(gridflex.__file__).parent.rglob("*.py")):
        h.update(f.read_bytes())
    return h.hexdigest()[:10]


# --------------------------------------------------------------------------- child: one solve
def solver_stats(problem):
    """What cvxpy and the solver report about the last solve of ``problem``."""
    stats = problem.solver_stats
    out = dict(
        compile_s=getattr(problem, "compilation_time", None),
        solver_s=stats.solve_time if stats is not None else None,
        iterations=stats.num_iters if stats is not None else None,
    )
    extra = stats.extra_stats if stats is not None else None
    if extra is not None and hasattr(extra, "simplex_iteration_count"):  # HiGHS HighsInfo
        out["highs_iters"] = dict(
            simplex=extra.simplex_iteration_count,
            ipm=extra.ipm_iteration_count,
            crossover=extra.crossover_iteration_count,
            pdlp=extra.pdlp_iteration_count,
        )
    return out


def result_stats(result):
    """Objective, binding lines, largest loading and bus price spread of a solved model."""
    import numpy as np

    loading = result.res_line["loading_percent"]
    return dict(
        status=result.status,
        objective=result.objective,
        binding_lines=int((loading >= BINDING_PCT).any().sum()),
        max_loading_pct=float(loading.max().max()),
        price_spread=float(np.ptp(result.res_bus["price_per_mwh"].to_numpy())),
    )


def worker_solve(T, config, level=1.0):
    """Build and solve once; return a dict (printed as JSON by the child)."""
    import gridflex as gf
    from gridflex.solvers import problem_class

    model = make_model(T, load_profile(T, level))
    t0 = time.perf_counter()
    problem = model.build()
    build_s = time.perf_counter() - t0
    out = dict(T=T, config=config, level=level, build_s=build_s, rss_after_build_gb=rss_gb())
    out["code"] = code_hash()
    out["problem_class"] = problem_class(problem)
    t0, cpu0 = time.perf_counter(), cpu_s()
    try:
        result = model.solve(**CONFIGS[config])
    except gf.SolveError as exc:
        out.update(status=exc.status, error=str(exc))
        result = None
    out["solve_wall_s"] = time.perf_counter() - t0
    out["solve_cpu_s"] = cpu_s() - cpu0  # > solve_wall_s when the solver used several threads
    out.update(solver_stats(problem))
    out["n_var"] = sum(v.size for v in problem.variables())
    out["n_constr"] = sum(c.size for c in problem.constraints)
    if result is not None:
        out.update(result_stats(result))
    out["peak_rss_gb"] = peak_rss_gb()
    return out


# --------------------------------------------------------------------------- child: infeasible
def infeasible_via_gridflex(T, profile, **solve_kwargs):
    """Time ``model.solve`` on the infeasible LP; returns (cvxpy problem, measurements)."""
    import gridflex as gf

    model = make_model(T, profile)
    problem = model.build()
    t0 = time.perf_counter()
    try:
        model.solve(**solve_kwargs)
        status, message = "optimal (unexpected)", ""
    except gf.SolveError as exc:
        status, message = exc.status, str(exc)
    wall = time.perf_counter() - t0
    stats = problem.solver_stats
    return problem, dict(
        wall_s=wall,
        compile_s=getattr(problem, "compilation_time", None),
        solver_s=stats.solve_time if stats is not None else None,
        status=status,
        message=message[:160],
    )


def highs_lp(data):
    """cvxpy's HiGHS problem data (``get_problem_data``) as a ``highspy.HighsLp``."""
    import highspy
    import numpy as np
    from cvxpy.reductions.solvers.conic_solvers.conic_solver import dims_to_solver_dict

    inf = highspy.kHighsInf
    A = data["A"].tocsc()
    dims = dims_to_solver_dict(data["dims"])
    n_eq, n_leq = dims["f"], dims["l"]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
    lp.col_cost_ = data["c"]
    lp.row_upper_ = data["b"]
    lp.row_lower_ = np.concatenate([data["b"][:n_eq], np.full(n_leq, -inf)])
    lb, ub = data["lower_bounds"], data["upper_bounds"]
    lp.col_lower_ = np.full(A.shape[1], -inf) if lb is None else lb
    lp.col_upper_ = np.full(A.shape[1], inf) if ub is None else ub
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr
    lp.a_matrix_.index_ = A.indices
    lp.a_matrix_.value_ = A.data
    return lp


def infeasible_via_highspy(problem):
    """The same LP as cvxpy hands it to HiGHS, passed to highspy directly and timed.

    (cvxpy's write_model_file option fails here: gridflex's variable names are not valid MPS
    column names.)
    """
    import cvxpy as cp
    import highspy

    t0 = time.perf_counter()
    data, _, _ = problem.get_problem_data(cp.HIGHS)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highs_lp(data)
    h.passModel(lp)
    pass_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    h.run()
    run_s = time.perf_counter() - t0
    status, highs_run_time = h.modelStatusToString(h.getModelStatus()), h.getRunTime()
    # cvxpy's HiGHS interface also asks for a Farkas certificate when HiGHS says kInfeasible.
    t0 = time.perf_counter()
    h.getDualRay()
    dual_ray_s = time.perf_counter() - t0
    return dict(
        get_dual_ray_s=dual_ray_s,
        status_after_dual_ray=h.modelStatusToString(h.getModelStatus()),
        cvxpy_get_problem_data_s=compile_s,
        pass_model_s=pass_s,
        run_wall_s=run_s,
        highs_run_time_s=highs_run_time,
        status=status,
        rows=int(lp.num_row_),
        cols=int(lp.num_col_),
    )


def worker_infeasible(T, level=1.0):
    """Time cvxpy+HiGHS, HiGHS directly (highspy, same model) and Clarabel on an infeasible LP."""
    profile = load_profile(T, level)
    profile[-1] = INFEASIBLE_LOAD_SCALE  # no dispatch can serve this last period
    out = dict(T=T, last_period_load_scale=INFEASIBLE_LOAD_SCALE, code=code_hash())
    problem, out["cvxpy_highs"] = infeasible_via_gridflex(T, profile, solver="HIGHS")
    _, out["cvxpy_clarabel"] = infeasible_via_gridflex(T, profile, solver="CLARABEL")
    out["highspy_direct"] = infeasible_via_highspy(problem)
    return out


def run_worker(worker_args):
    """Child process: ``T CONFIG LEVEL`` or ``infeasible T LEVEL``."""
    if worker_args[0] == "infeasible":
        res = worker_infeasible(int(worker_args[1]), float(worker_args[2]))
    else:
        res = worker_solve(int(worker_args[0]), worker_args[1], float(worker_args[2]))
    print_result(res)
    return 0


# --------------------------------------------------------------------------- driver
def git(*cmd):
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        return subprocess.run(
            ["git", *cmd], cwd=here, capture_output=True, text=True, timeout=30
        ).stdout.rstrip()
    except Exception:
        return "?"


def run_info():
    """The machine and versions, plus the git state and a hash of gridflex's source."""
    return dict(
        machine_info(),
        git_head=git("rev-parse", "--short", "HEAD"),
        git_dirty_gridflex=git("status", "--porcelain", "--", "../gridflex").splitlines(),
        gridflex_code_hash=code_hash(),
    )


def predict(history, T):
    """Extrapolate a config's solve time to T from its two largest finished runs (power law)."""
    pts = sorted((t, s) for t, s in history.items() if s)
    if len(pts) < 2:
        return None
    (t1, s1), (t2, s2) = pts[-2], pts[-1]
    if t2 == t1 or s1 <= 0:
        return None
    alpha = max(1.0, math.log(s2 / s1) / math.log(t2 / t1))
    return s2 * (T / t2) ** alpha


def skip_reason(history, T, timeout):
    """Why a config is not run at T (it timed out before or would), or None."""
    if any(s is None for s in history.values()):
        return "timed out at a smaller T"
    guess = predict(history, T)
    if guess is not None and guess > timeout:
        return f"~{guess:.0f} s"
    return None


def print_solve(res):
    print(
        f"T={res['T']:5d} {res['config']:14s} rep{res['rep']} build {res['build_s']:.2f}s "
        f"compile {fmt(res['compile_s'])}s solve {res['solve_wall_s']:.2f}s "
        f"(solver {fmt(res['solver_s'])}s, cpu {fmt(res.get('solve_cpu_s'))}s) "
        f"peak {res['peak_rss_gb']:.2f} GB "
        f"obj {res.get('objective', float('nan')):.9g} {res.get('status')} "
        f"binding {res.get('binding_lines')} "
        f"price spread {fmt(res.get('price_spread'))} "
        f"iters {res.get('highs_iters', res.get('iterations'))} "
        f"size {res.get('n_var')}x{res.get('n_constr')} code {res.get('code')}",
        flush=True,
    )


def run_config(T, config, rep, args, runs, history):
    """One solve in a child (unless predicted to time out); records it in runs and history."""
    why = skip_reason(history[config], T, args.timeout)
    if why is not None:
        print(f"T={T:5d} {config:14s} skipped (predicted {why} > timeout)")
        runs.append(dict(T=T, config=config, rep=rep, skipped=why))
        return
    res, wall, err = run_child(__file__, [T, config, args.load_level], args.timeout)
    if res is None:
        print(f"T={T:5d} {config:14s} FAILED: {err}", flush=True)
        runs.append(dict(T=T, config=config, rep=rep, error=err, child_wall_s=wall))
        history[config][T] = None
        return
    res.update(rep=rep, child_wall_s=wall)
    runs.append(res)
    history[config][T] = min(history[config].get(T) or float("inf"), res["solve_wall_s"])
    print_solve(res)


def run_all(args):
    """Every T, repeat and config, each in a child; returns the list of runs."""
    runs = []  # every finished, failed or skipped child
    history = {c: {} for c in args.configs}  # config -> {T: best solve wall, None = failed}
    for T in sorted(args.periods):
        for rep in range(args.repeat_small if T <= args.small_t else 1):
            for config in args.configs:
                run_config(T, config, rep, args, runs, history)
    return runs


def warn_code_changes(runs):
    codes = sorted({r["code"] for r in runs if r.get("code")})
    if len(codes) > 1:
        print(f"\nWARNING: gridflex's code changed during this run (hashes {codes}); ")
        print("compare only runs with the same hash (printed per run).")


def check_rep(T, rep, rs, failures):
    """Objectives of one repeat's configs against HiGHS default (or the first that solved)."""
    ref_cfg = "highs-default" if "highs-default" in rs else next(iter(rs))
    ref = rs[ref_cfg]["objective"]
    for cfg, r in rs.items():
        rel = abs(r["objective"] - ref) / max(abs(ref), 1e-12)
        r["rel_diff_vs_" + ref_cfg] = rel
        ok = rel <= REL_TOL[cfg]
        print(
            f"T={T:5d} rep{rep} {cfg:14s} rel. objective diff vs {ref_cfg}: {rel:.2e} "
            f"(tol {REL_TOL[cfg]:.0e}) {'ok' if ok else 'FAIL'}"
        )
        if not ok:
            failures.append((T, rep, cfg, rel))


def check_objectives(runs, periods):
    """Objective agreement per T and repeat; failures include solves that did not finish."""
    print()
    failures = []
    for T in sorted(periods):
        by_rep = {}
        for r in runs:
            if r["T"] == T and "objective" in r:
                by_rep.setdefault(r["rep"], {})[r["config"]] = r
        for rep, rs in by_rep.items():
            check_rep(T, rep, rs, failures)
        for r in runs:
            if r["T"] == T and "objective" not in r and "skipped" not in r:
                failures.append((T, r.get("rep"), r["config"], r.get("error", r.get("status"))))
    return failures


def config_cell(rs, ok, config, timeout):
    """A config's summary at one T: (text for the table, dict for the JSON)."""
    rc = [r for r in ok if r["config"] == config]
    if not rc:
        other = next((r for r in rs if r["config"] == config), {})
        note = other.get("skipped") or other.get("error") or ""
        tag = "skipped" if "skipped" in other else "failed"
        tag = f">{timeout:.0f} (timeout)" if "timeout" in note else tag
        return f" {tag:>17} {'-':>5}", dict(note=note)
    gb = max(r["peak_rss_gb"] for r in rc)
    times = "/".join(f"{r['solve_wall_s']:.2f}" for r in rc)
    return f" {times:>17} {gb:>5.2f}", dict(
        solve_s=min(r["solve_wall_s"] for r in rc),
        all_s=[r["solve_wall_s"] for r in rc],
        peak_gb=gb,
        solver_s=min(r["solver_s"] or 0 for r in rc),
        compile_s=min(r["compile_s"] or 0 for r in rc),
        binding=rc[0].get("binding_lines"),
        objective=rc[0]["objective"],
    )


def summary_row(T, runs, args):
    """One line of the summary table at T and its dict; None if nothing ran at T."""
    rs = [r for r in runs if r["T"] == T]
    if not rs:
        return None, None
    ok = [r for r in rs if "objective" in r]
    build = min((r["build_s"] for r in ok), default=None)
    line = f"{T:>5} {fmt(build):>8}"
    row = dict(T=T, build_s=build, configs={})
    for c in args.configs:
        text, row["configs"][c] = config_cell(rs, ok, c, args.timeout)
        line += text
    objective = ok[0]["objective"] if ok else None
    rel = max((v for r in ok for k, v in r.items() if k.startswith("rel_diff_vs_")), default=None)
    binding = "/".join(str(row["configs"][c].get("binding", "-")) for c in args.configs)
    line += f" {fmt(objective, '.6f'):>16} {fmt(rel, '.1e'):>12} {binding:>22}"
    row.update(objective=objective, max_rel_diff=rel)
    return line, row


def print_summary(runs, args):
    """Times: best of repeats (all printed); peak memory: max over repeats. Returns the rows."""
    print("\nSummary (times: best of repeats; solve = wall of model.solve incl. cvxpy compile)")
    head = f"{'T':>5} {'build s':>8}"
    for c in args.configs:
        head += f" {c + ' s':>17} {'GB':>5}"
    head += f" {'objective':>16} {'max rel diff':>12} {'binding (per config)':>22}"
    print(head)
    table_rows = []
    for T in sorted(args.periods):
        line, row = summary_row(T, runs, args)
        if row is not None:
            table_rows.append(row)
            print(line)
    return table_rows


def print_per_solve(runs):
    print("\nPer solve (wall = model.solve incl. cvxpy compile and result tables; solver = as")
    print("reported by the solver; cpu = user+sys of the child during model.solve, all threads;")
    print("cpu < wall means the child waited for a core)")
    print(
        f"{'T':>5} {'config':14} {'wall s':>9} {'solver s':>9} {'cpu s':>9} {'compile s':>9} "
        f"{'peak GB':>7} {'iters':>8} {'binding':>7} {'max load %':>10} {'rel diff':>9}"
    )
    for r in runs:
        if "objective" not in r:
            continue
        iters = r.get("highs_iters")
        iters = "+".join(str(v) for v in iters.values() if v) if iters else str(r.get("iterations"))
        rel = next((v for k, v in r.items() if k.startswith("rel_diff_vs_")), None)
        print(
            f"{r['T']:>5} {r['config']:14} {r['solve_wall_s']:>9.2f} {fmt(r['solver_s']):>9} "
            f"{fmt(r.get('solve_cpu_s')):>9} {fmt(r['compile_s']):>9} {r['peak_rss_gb']:>7.2f} "
            f"{iters:>8} {r['binding_lines']:>7} {r['max_loading_pct']:>10.2f} "
            f"{fmt(rel, '.1e'):>9}"
        )


def print_infeasible(res):
    for k in ("cvxpy_highs", "cvxpy_clarabel"):
        d = res[k]
        print(
            f"  {k:15s} wall {d['wall_s']:.3f}s (compile {fmt(d['compile_s'], '.3f')}s, "
            f"solver {fmt(d['solver_s'], '.3f')}s) -> {d['status']}"
        )
    d = res["highspy_direct"]
    print(
        f"  highspy direct  ({d['rows']} rows x {d['cols']} cols; passModel "
        f"{d['pass_model_s']:.3f}s) run {d['run_wall_s']:.3f}s (HiGHS run time "
        f"{d['highs_run_time_s']:.3f}s) -> {d['status']}; then getDualRay (which cvxpy "
        f"calls on kInfeasible) {d['get_dual_ray_s']:.3f}s"
    )


def run_infeasible(args):
    """The infeasibility timing at each --infeasible-periods (unless --no-infeasible)."""
    infeasible = []
    for T in [] if args.no_infeasible else args.infeasible_periods:
        print(f"\nInfeasible LP (T={T}, load x{INFEASIBLE_LOAD_SCALE:.0f} in the last period):")
        res, _, err = run_child(__file__, ["infeasible", T, args.load_level], args.timeout)
        infeasible.append(res if res is not None else dict(T=T, error=err))
        if res is None:
            print("  FAILED:", err)
        else:
            print_infeasible(res)
    return infeasible


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--periods", type=int, nargs="+", default=[24, 96, 2190, 8760])
    ap.add_argument(
        "--load-level", type=float, default=1.0, help="peak load scale (1.5: congested grid)"
    )
    ap.add_argument("--timeout", type=float, default=900.0, help="per solve (child), seconds")
    ap.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS, choices=list(CONFIGS))
    ap.add_argument("--repeat-small", type=int, default=2, help="repeats for T <= --small-t")
    ap.add_argument("--small-t", type=int, default=96)
    ap.add_argument("--no-infeasible", action="store_true", help="skip the infeasibility timing")
    ap.add_argument("--infeasible-periods", type=int, nargs="+", default=[96, 2190])
    ap.add_argument("--json", help="also write all raw measurements to this file")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    return ap.parse_args()


def main():
    args = parse_args()
    if args.worker:
        return run_worker(args.worker)
    info = run_info()
    print(f"load level {args.load_level} (peak load scale), timeout {args.timeout:.0f} s per solve")
    print_machine(info)
    runs = run_all(args)
    warn_code_changes(runs)
    failures = check_objectives(runs, args.periods)
    table_rows = print_summary(runs, args)
    print_per_solve(runs)
    infeasible = run_infeasible(args)
    write_json(args.json, machine=info, runs=runs, table=table_rows, infeasible=infeasible)
    if failures:
        print("\nFAILURES (objective disagreement or failed solve):")
        for f_ in failures:
            print("  ", f_)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
