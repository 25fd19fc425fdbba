"""Re-solvable models: a re-solve with new values against the first solve, and what the
Parameters cost the first solve. Every figure is a ratio measured side by side in one run.

Cases (each timed run in a fresh child process, ``--worker``):

* ``dispatch T``: case118 with PGLib ratings, linear costs, 5 batteries, ``gf.DC()``, T hourly
  periods (the case of ``dcopf_vs_pypsa.py``). *First*: ``gf.Model`` + devices + ``solve()``.
  *Re-solve*: the net's loads times ``1 + 0.02 N(0, 1)`` per load and period and the generator
  costs times ``1 + 0.05 U(0, 1)``, then ``solve()``; five in a row, each checked against a
  fresh model with the same values (objective to 1e-9).
* ``ev``: the seed-003 model (``scenarios/ev_tight_balance``, Case 2, wind scenario 2; a MILP
  with the stations' binaries). *Re-solve*: the stations' fleet at another EV scale.
* ``first T resolvable``: the first solve alone, with Parameters (``Model(resolvable=True)``,
  the default) or without; ``compile T resolvable``: ``build()`` and cvxpy's compilation
  (``get_problem_data``) alone, no solver.

Run: ``python benchmarks/resolve.py --reps 3`` (about 10 minutes on 2 cores).
"""

import argparse
import json
import sys
import time

from _common import load_profile, print_result, run_child

STORAGE_BUSES = [9, 25, 58, 79, 99]


def case_net():
    """case118 with PGLib ratings and linear costs (loaded before any clock starts)."""
    import gridflex as gf

    net = gf.networks.ieee118()
    net.poly_cost["cp2_eur_per_mw2"] = 0.0
    return net


def dispatch_model(net, T, resolvable=True, formulation=None):
    import gridflex as gf

    model = gf.Model(net, periods=T, load_scale=load_profile(T), resolvable=resolvable,
                     formulation=formulation or gf.DC())  # fmt: skip
    model.add(gf.Storage(bus=STORAGE_BUSES, p_mw=50.0, e_mwh=200.0, eta_charge=0.95,
                         eta_discharge=0.95, name="bess"))  # fmt: skip
    return model


def edit(model, rng):
    import numpy as np

    load, gen = model.device("load"), model.device("gen")
    load.p_mw = load.p_mw * (1 + 0.02 * rng.standard_normal(load.p_mw.shape))
    gen.cost_per_mwh = np.asarray(gen.cost_per_mwh) * (1 + 0.05 * rng.random())
    return {"load": load.p_mw, "gen": gen.cost_per_mwh}


def worker_dispatch(T, resolves=5):
    import numpy as np

    net = case_net()
    dispatch_model(net, 2).solve()  # warm-up: imports and first calls outside the clock
    t0 = time.perf_counter()
    model = dispatch_model(net, T)
    first = model.solve()
    out = {"first_s": time.perf_counter() - t0, "resolve_s": [], "compiled": [], "warm": []}
    rng, worst = np.random.default_rng(7), 0.0
    for _ in range(resolves):
        values = edit(model, rng)
        t0 = time.perf_counter()
        result = model.solve()
        out["resolve_s"].append(time.perf_counter() - t0)
        out["compiled"].append(result.solve_info["compiled"])
        out["warm"].append(result.solve_info.get("warm"))
        fresh = dispatch_model(net, T)
        fresh.device("load").p_mw, fresh.device("gen").cost_per_mwh = values["load"], values["gen"]
        reference = fresh.solve().objective
        worst = max(worst, abs(result.objective - reference) / abs(reference))
    out.update(first_objective=first.objective, max_rel_error=worst)
    return out


def ev_study():
    import importlib.util

    import gridflex as gf

    scenario = gf.scenario.load_scenario("ev_tight_balance")
    spec = importlib.util.spec_from_file_location("ev_study", scenario.path / "study.py")
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    return scenario, study


def worker_ev(scales=(1.2, 0.8, 1.4)):
    scenario, study = ev_study()
    net = study.prepared_net(scenario)
    wind = study.option(scenario, "wind_profiles")[1]
    study.stations(scenario, study.build(scenario, net, wind, None).grid, 1.0)  # warm-up
    t0 = time.perf_counter()
    model = study.build(scenario, net, wind, 1.0)
    first = model.solve(solver=scenario.solver)
    out = {"first_s": time.perf_counter() - t0, "resolve_s": [], "compiled": [], "errors": []}
    for scale in scales:
        study.rescale(model.device("station"), study.stations(scenario, model.grid, scale))
        t0 = time.perf_counter()
        result = model.solve(solver=scenario.solver)
        out["resolve_s"].append(time.perf_counter() - t0)
        out["compiled"].append(result.solve_info["compiled"])
        reference = study.solve(scenario, net, wind, scale).objective
        out["errors"].append(abs(result.objective - reference) / abs(reference))
    out["first_objective"] = first.objective
    return out


def worker_first(T, resolvable, lazy):
    import gridflex as gf

    net = case_net()
    dispatch_model(net, 2, resolvable).solve()  # warm-up
    t0 = time.perf_counter()
    model = dispatch_model(net, T, resolvable, gf.DC(lazy_limits=lazy))
    result = model.solve()
    return {"first_s": time.perf_counter() - t0, "objective": result.objective,
            "parameters": len(model.problem.parameters())}  # fmt: skip


def worker_compile(T, resolvable):
    import cvxpy as cp

    net = case_net()
    dispatch_model(net, 2, resolvable).build()  # warm-up
    t0 = time.perf_counter()
    model = dispatch_model(net, T, resolvable)
    model.build()
    t1 = time.perf_counter()
    model.problem.get_problem_data(cp.HIGHS)
    return {"build_s": t1 - t0, "compile_s": time.perf_counter() - t1}


def child(*args, timeout=3600):
    result, _wall, error = run_child(__file__, [str(a) for a in args], timeout)
    if result is None:
        raise RuntimeError(f"worker {args} failed: {error}")
    return result


def measure(reps, periods_long):
    rows = {"dispatch": [], "ev": [], "first": {}, "compile": {}}
    for _ in range(reps):  # interleaved, so load on the shared machine hits all alike
        rows["dispatch"].append(child("dispatch", 96))
        rows["ev"].append(child("ev"))
        for T, lazy in ((96, False), (periods_long, True)):
            for flag in (True, False):
                rows["first"].setdefault((T, flag), []).append(child("first", T, flag, lazy))
        for flag in (True, False):
            rows["compile"].setdefault(flag, []).append(child("compile", periods_long, flag))
    return rows


def report(rows, periods_long):
    best = min
    d, ev = rows["dispatch"], rows["ev"]
    first_d = best(r["first_s"] for r in d)
    resolve_d = best(min(r["resolve_s"]) for r in d)
    median_d = sorted(s for r in d for s in r["resolve_s"])[len(d) * 5 // 2]
    print(f"case118 T=96 dispatch: first {first_d:.3f} s, re-solve best {resolve_d:.3f} s, "
          f"median {median_d:.3f} s -> ratio {resolve_d / first_d:.3f} (median "
          f"{median_d / first_d:.3f}); compiled {sum(sum(r['compiled']) for r in d)} of "
          f"{sum(len(r['compiled']) for r in d)}; largest error vs fresh "
          f"{max(r['max_rel_error'] for r in d):.1e}")  # fmt: skip
    first_e = best(r["first_s"] for r in ev)
    resolve_e = best(min(r["resolve_s"]) for r in ev)
    print(f"seed-003 model: first {first_e:.3f} s, re-solve best {resolve_e:.3f} s -> ratio "
          f"{resolve_e / first_e:.3f}; compiled {sum(sum(r['compiled']) for r in ev)} of "
          f"{sum(len(r['compiled']) for r in ev)}; largest error vs fresh "
          f"{max(max(r['errors']) for r in ev):.1e}")  # fmt: skip
    for T in (96, periods_long):
        with_p = best(r["first_s"] for r in rows["first"][(T, True)])
        without = best(r["first_s"] for r in rows["first"][(T, False)])
        print(f"first solve T={T} ({'DC()' if T == 96 else 'DC(lazy_limits=True)'}): with "
              f"Parameters {with_p:.3f} s, without {without:.3f} s -> ratio "
              f"{with_p / without:.3f}")  # fmt: skip
    c = rows["compile"]
    for part in ("build_s", "compile_s"):
        with_p, without = (best(r[part] for r in c[f]) for f in (True, False))
        print(f"T={periods_long} DC() {part[:-2]}: with {with_p:.3f} s, without {without:.3f} s "
              f"-> ratio {with_p / without:.3f}")  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--long", type=int, default=2190, help="the long horizon (periods)")
    parser.add_argument("--json", help="write the raw measurements here")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        flags = [r == "True" if r in ("True", "False") else int(r) for r in rest]
        work = {"dispatch": worker_dispatch, "ev": worker_ev, "first": worker_first,
                "compile": worker_compile}  # fmt: skip
        print_result(work[kind](*flags))
        return
    rows = measure(args.reps, args.long)
    report(rows, args.long)
    if args.json:
        raw = {k: (v if isinstance(v, list) else {str(a): b for a, b in v.items()})
               for k, v in rows.items()}  # fmt: skip
        with open(args.json, "w") as f:
            json.dump(raw, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
