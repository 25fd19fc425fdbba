"""Monolithic solve vs Benders (single and per-block cuts) on the library's planning models:
the seed-000 T&D expansion (MILP) and a compact seed-002 ice-cooling model (MISOCP).

Run: ``python benchmarks/benders.py`` (prints a table; wall times as measured side by side in
one run, and their ratios to the monolithic solve)."""

import importlib.util
import pathlib
import time

import pandas as pd

from gridflex.problems.benders import benders

HERE = pathlib.Path(__file__).resolve().parent


def _models():
    spec = importlib.util.spec_from_file_location(
        "studies", HERE.parent / "tests" / "test_benders_studies.py"
    )
    studies = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(studies)
    return {"seed-000 T&D expansion (MILP)": studies.td_model,
            "seed-002 ice cooling, 3 x 6 h (MISOCP)": studies.ice_model}  # fmt: skip


def measure(name, make):
    rows = []
    model = make()
    started = time.perf_counter()
    mono = model.solve()
    mono_s = time.perf_counter() - started
    rows.append({"model": name, "method": f"monolithic ({mono.solve_info['solver']})",
                 "objective": mono.objective, "iterations": 1, "wall_s": mono_s})  # fmt: skip
    for cuts in ("single", "multi"):
        started = time.perf_counter()
        found = benders(model, cuts=cuts, max_iterations=400)
        wall = time.perf_counter() - started
        relaxed = int((found.bounds["phase"] == "relaxed").sum())
        rows.append({"model": name, "method": f"Benders, {cuts} cut", "objective": found.objective,
                     "iterations": found.iterations, "relaxed_iterations": relaxed,
                     "wall_s": wall, "gap": found.bounds["gap"].iloc[-1]})  # fmt: skip
    table = pd.DataFrame(rows)
    table["vs_monolithic"] = table["wall_s"] / mono_s
    table["objective_diff_rel"] = table["objective"] / mono.objective - 1
    return table


if __name__ == "__main__":
    tables = [measure(name, make) for name, make in _models().items()]
    pd.set_option("display.width", 200)
    print(pd.concat(tables, ignore_index=True).to_string(index=False))
