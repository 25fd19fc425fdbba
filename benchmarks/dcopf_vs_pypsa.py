"""gridflex vs PyPSA: the same case118 multi-period DC dispatch with storage, side by side.

The case (identical in both tools, checked):

* IEEE 118-bus net from ``gf.networks.ieee118()`` with its **PGLib ratings** (lines bind; the
  enforced limits are ``Grid(net).branches.rating_mva``),
* **linear generator costs**: pandapower's ``cp1_eur_per_mw`` only (``cp2`` set to 0; ``cp0``
  is 0 in the case), so both problems are LPs solved by HiGHS,
* 53 generators and the external grid (a generator in PyPSA) with their limits
  (``min_p_mw = 0`` .. ``max_p_mw``),
* the net's 99 loads times a daily profile ``0.85 + 0.15 sin(2 pi (h - 9) / 24)``,
* 5 batteries (buses 9, 25, 58, 79, 99; 50 MW, 200 MWh, 95 % each way, no standing loss,
  no cost). Initial energy 100 MWh (half, gridflex's default), final energy >= 100 MWh
  (gridflex's default ``e_final_mwh``), no cyclic condition. PyPSA expresses exactly this with
  ``state_of_charge_initial=100, cyclic_state_of_charge=False`` and one extra constraint
  ``state_of_charge[last snapshot] >= 100`` (``extra_functionality``).

PyPSA network: built directly from gridflex's :class:`gridflex.grid.Grid` arrays (PyPSA's
``import_from_pandapower_net`` fails on stock case118 and drops reactances). Every branch
(173 lines and 13 transformers) becomes a PyPSA ``Line`` whose reactance gives the DC
susceptance gridflex and pandapower's ``makeBdc`` use, ``b = sn_mva / (x_pu tap)`` MW/rad:
PyPSA's linear flow is ``(theta_i - theta_j) / x_pu_eff`` with ``x_pu_eff = x / v_nom^2`` on a
1 MVA base, so ``x_ohm = x_pu tap / sn_mva * v_nom^2`` (``v_nom`` of bus0). ``s_nom`` is the
rating. ``--check-flows`` verifies that PyPSA's linear power flow (``n.lpf()``) of gridflex's
optimal dispatch reproduces gridflex's flows.

Timing, per tool, each run in a fresh child process (``--worker``), so peak memory (the
child's max RSS from ``getrusage``) covers one tool and one T only:

* gridflex: *build* = ``gf.Model(net, ...)`` + ``model.add(Storage)`` + ``model.build()``
  (reads the pandapower net, builds the cvxpy problem); *solve* = ``model.solve()``
  (cvxpy compile, HiGHS, result tables; with ``lazy_limits`` all its iterations).
* PyPSA: *build* = ``pypsa.Network`` from plain arrays (prepared beforehand, untimed) +
  ``n.optimize.create_model()`` (linopy model, incl. the final-state constraint);
  *solve* = ``n.optimize.solve_model()`` (HiGHS through linopy, ``io_api="direct"``, and
  the solution written back to the network). Imports are not timed for either tool.

The pandapower net is loaded before the clock starts for both. Objectives must agree to 1e-6
(relative), otherwise the script exits non-zero.

Usage::

    python benchmarks/dcopf_vs_pypsa.py                          # T = 24 96 2190 8760
    python benchmarks/dcopf_vs_pypsa.py --periods 24 96 --repeat 3
    python benchmarks/dcopf_vs_pypsa.py --gridflex lazy full --periods 24
    python benchmarks/dcopf_vs_pypsa.py --check-flows            # PyPSA lpf == gridflex flows

Needs the optional extra ``pip install -e .[bench]`` (PyPSA 1.2.x: PyPSA >= 1.3 needs
pandas 3, pandapower 3.5 needs pandas 2.3).
"""

import argparse
import json
import sys
import time

from _common import (
    BINDING_PCT,
    STORAGE_BUSES,
    fmt,
    load_profile,
    machine_info,
    peak_rss_gb,
    print_machine,
    print_result,
    quiet,
    run_child,
    write_json,
)

STORAGE = dict(p_mw=50.0, e_mwh=200.0, eta=0.95)
REL_TOL = 1e-6
GRIDFLEX_CONFIGS = {
    "lazy": dict(lazy_limits=True),  # gridflex's iterative line limits
    "full": dict(),  # every limit in every period (B-theta)
}
N_BRANCHES = 186  # case118: 173 lines + 13 transformers, every one limited


# --------------------------------------------------------------------------- the case
def case_net(cost_spread=0.0):
    """case118 with PGLib ratings and linear costs (cp2 = 0): an LP.

    The case's linear costs take two values only (20 and 40 per MWh), so many dispatches are
    optimal. ``cost_spread`` adds ``cost_spread * k`` to the k-th cost (``--cost-spread``) to
    make them distinct; congestion then changes the optimal cost.
    """
    import numpy as np

    import gridflex as gf

    net = gf.networks.ieee118()
    net.poly_cost["cp2_eur_per_mw2"] = 0.0
    net.poly_cost["cp1_eur_per_mw"] += cost_spread * np.arange(len(net.poly_cost))
    return net


def gridflex_model(net, T, **dc_options):
    import gridflex as gf

    model = gf.Model(net, periods=T, load_scale=load_profile(T), formulation=gf.DC(**dc_options))
    model.add(
        gf.Storage(
            bus=STORAGE_BUSES,
            p_mw=STORAGE["p_mw"],
            e_mwh=STORAGE["e_mwh"],
            eta_charge=STORAGE["eta"],
            eta_discharge=STORAGE["eta"],
            name="bess",
        )
    )
    return model


# --------------------------------------------------------------------------- PyPSA's inputs
def branch_arrays(net, grid):
    """Buses and branches (all as PyPSA Lines with gridflex's susceptance, see module doc)."""
    import numpy as np

    br = grid.branches
    assert br.in_service.all() and not br.shift_rad.any(), "case118: no outages, no shifters"
    assert np.isfinite(br.rating_mva).all(), "PGLib ratings: every branch is limited"
    vn_kv = net.bus.vn_kv.to_numpy(float)
    x_eff_1mva = br.x_pu * br.tap / grid.base_mva  # 1 / b in rad per MW
    return dict(
        bus_names=[str(b) for b in grid.bus_index],
        vn_kv=vn_kv,
        line_names=[f"{e}{i}" for e, i in zip(br.element, br.element_index, strict=True)],
        bus0=[str(grid.bus_index[p]) for p in br.from_pos],
        bus1=[str(grid.bus_index[p]) for p in br.to_pos],
        x_ohm=x_eff_1mva * vn_kv[br.from_pos] ** 2,
        s_nom=br.rating_mva,
        b_mw_per_rad=grid.susceptance_mw_per_rad(),
    )


def generator_arrays(net):
    """In-service generators and external grids (generators in PyPSA), linear costs."""
    import numpy as np

    gens = net.gen[net.gen.in_service]
    ext = net.ext_grid[net.ext_grid.in_service]
    cost = net.poly_cost.set_index(["et", "element"])
    assert (cost.cp0_eur == 0).all()
    return dict(
        gen_names=[f"gen{i}" for i in gens.index] + [f"ext_grid{i}" for i in ext.index],
        gen_bus=[str(b) for b in np.r_[gens.bus.to_numpy(), ext.bus.to_numpy()]],
        p_max=np.r_[gens.max_p_mw.to_numpy(float), ext.max_p_mw.to_numpy(float)],
        p_min=np.r_[gens.min_p_mw.to_numpy(float), ext.min_p_mw.to_numpy(float)],
        cost=np.r_[
            [cost.loc[("gen", i), "cp1_eur_per_mw"] for i in gens.index],
            [cost.loc[("ext_grid", i), "cp1_eur_per_mw"] for i in ext.index],
        ].astype(float),
    )


def load_arrays(net, T):
    import numpy as np

    loads = net.load[net.load.in_service]
    return dict(
        load_names=[f"load{i}" for i in loads.index],
        load_bus=[str(b) for b in loads.bus],
        load_p=np.outer(load_profile(T), (loads.p_mw * loads.scaling).to_numpy(float)),
    )


def case_arrays(net, T):
    """Everything PyPSA needs, as plain arrays taken from gridflex's Grid and the net."""
    from gridflex.grid import Grid

    return dict(
        T=T,
        **branch_arrays(net, Grid(net)),
        **generator_arrays(net),
        **load_arrays(net, T),
        storage_bus=[str(b) for b in STORAGE_BUSES],
    )


# --------------------------------------------------------------------------- PyPSA network
def add_buses_and_lines(n, a):
    import numpy as np

    n.add("Bus", a["bus_names"], v_nom=a["vn_kv"])
    n.add(
        "Line",
        a["line_names"],
        bus0=a["bus0"],
        bus1=a["bus1"],
        x=a["x_ohm"],
        r=np.zeros(len(a["x_ohm"])),
        s_nom=a["s_nom"],
    )


def add_generators_and_loads(n, a):
    import pandas as pd

    assert (a["p_max"] > 0).all()
    n.add(
        "Generator",
        a["gen_names"],
        bus=a["gen_bus"],
        p_nom=a["p_max"],
        p_min_pu=a["p_min"] / a["p_max"],
        p_max_pu=1.0,
        marginal_cost=a["cost"],
    )
    n.add(
        "Load",
        a["load_names"],
        bus=a["load_bus"],
        p_set=pd.DataFrame(a["load_p"], index=n.snapshots, columns=a["load_names"]),
    )


def add_storage(n, a):
    n.add(
        "StorageUnit",
        [f"bess{k}" for k in range(len(a["storage_bus"]))],
        bus=a["storage_bus"],
        p_nom=STORAGE["p_mw"],
        max_hours=STORAGE["e_mwh"] / STORAGE["p_mw"],
        efficiency_store=STORAGE["eta"],
        efficiency_dispatch=STORAGE["eta"],
        state_of_charge_initial=STORAGE["e_mwh"] / 2,
        cyclic_state_of_charge=False,
        standing_loss=0.0,
    )


def pypsa_network(a):
    """The PyPSA network of :func:`case_arrays` (all branches as Lines, see module doc)."""
    import pandas as pd
    import pypsa

    n = pypsa.Network()
    n.set_snapshots(pd.RangeIndex(a["T"], name="snapshot"))
    add_buses_and_lines(n, a)
    add_generators_and_loads(n, a)
    add_storage(n, a)
    return n


def pypsa_final_state(n, snapshots):
    """gridflex's ``e_final_mwh`` default: energy at the end >= the initial energy."""
    soc = n.model["StorageUnit-state_of_charge"]
    n.model.add_constraints(
        soc.loc[snapshots[-1]] >= STORAGE["e_mwh"] / 2, name="StorageUnit-final_state"
    )


def pypsa_solve(n):
    return n.optimize.solve_model(solver_name="highs", io_api="direct", log_to_console=False)


# --------------------------------------------------------------------------- workers
def branch_flows_gridflex(result):
    """Flows (n_branch, T) in Grid order: lines then trafos, as PyPSA's lines here."""
    import numpy as np

    return np.hstack(
        [result.res_line["p_from_mw"].to_numpy(), result.res_trafo["p_hv_mw"].to_numpy()]
    ).T


def loading_stats(flows, rating):
    """Binding branches and (branch, period) pairs, and the largest loading, of flows (n_br, T)."""
    import numpy as np

    loading = np.abs(flows) / rating.reshape(-1, 1)
    binding = loading >= BINDING_PCT / 100
    return dict(
        binding_branches=int(binding.any(axis=1).sum()),
        binding_pairs=int(binding.sum()),
        max_loading=float(loading.max()),
    )


def timings(t0, t1, t2):
    return dict(build_s=t1 - t0, solve_s=t2 - t1, total_s=t2 - t0)


def worker_gridflex(T, config, cost_spread=0.0):
    """Build and solve with gridflex in this (fresh) process; a dict of measurements."""
    quiet()
    net = case_net(cost_spread)
    gridflex_model(net, 2, **GRIDFLEX_CONFIGS[config]).solve()  # warm-up (untimed)
    t0 = time.perf_counter()
    model = gridflex_model(net, T, **GRIDFLEX_CONFIGS[config])
    problem = model.build()
    t1 = time.perf_counter()
    result = model.solve()
    t2 = time.perf_counter()
    info = {k: v for k, v in result.solve_info.items() if k != "solve_s_per_iteration"}
    return dict(
        tool="gridflex",
        config=config,
        T=T,
        **timings(t0, t1, t2),
        objective=result.objective,
        **loading_stats(branch_flows_gridflex(result), model.grid.branches.rating_mva),
        n_variables=int(sum(v.size for v in problem.variables())),
        solve_info=info,
        solve_s_per_iteration=result.solve_info.get("solve_s_per_iteration"),
        peak_rss_gb=peak_rss_gb(),
    )


def worker_pypsa(T, cost_spread=0.0):
    """Build and solve with PyPSA (linopy, HiGHS direct) in this (fresh) process."""
    quiet()
    net = case_net(cost_spread)
    warm = pypsa_network(case_arrays(net, 2))  # warm-up (untimed): PyPSA imports lazily
    warm.optimize(solver_name="highs", io_api="direct", log_to_console=False)
    arrays = case_arrays(net, T)  # plain arrays: prepared before the clock starts
    t0 = time.perf_counter()
    n = pypsa_network(arrays)
    n.optimize.create_model()
    pypsa_final_state(n, n.snapshots)
    t1 = time.perf_counter()
    status, condition = pypsa_solve(n)
    t2 = time.perf_counter()
    assert (status, condition) == ("ok", "optimal"), (status, condition)
    return dict(
        tool="pypsa",
        config="pypsa",
        T=T,
        **timings(t0, t1, t2),
        objective=float(n.objective + getattr(n, "objective_constant", 0.0)),
        **loading_stats(n.lines_t.p0.to_numpy().T, arrays["s_nom"]),
        n_variables=int(n.model.nvars),
        n_constraints=int(n.model.ncons),
        peak_rss_gb=peak_rss_gb(),
    )


def run_worker(worker_args):
    """Child process: ``TOOL T [COST_SPREAD]``, TOOL = pypsa or a gridflex config."""
    tool, T, spread = worker_args[0], int(worker_args[1]), float([*worker_args, "0"][2])
    res = worker_pypsa(T, spread) if tool == "pypsa" else worker_gridflex(T, tool, spread)
    print_result(res)
    return 0


# --------------------------------------------------------------------------- --check-flows
def gridflex_dispatch_in_pypsa(net, arrays, T, config):
    """Largest |flow difference| between gridflex's optimum and PyPSA's lpf of its dispatch."""
    import numpy as np
    import pandas as pd

    r = gridflex_model(net, T, **GRIDFLEX_CONFIGS[config]).solve()
    n = pypsa_network(arrays)
    gen_p = np.hstack([r.res_gen["p_mw"].to_numpy(), r.res_ext_grid["p_mw"].to_numpy()])
    n.generators_t.p_set = pd.DataFrame(gen_p, index=n.snapshots, columns=n.generators.index)
    # gridflex storage p_mw: consuming positive; PyPSA StorageUnit p: dispatching positive.
    store = -r.res_storage["p_mw"].to_numpy()
    n.storage_units_t.p_set = pd.DataFrame(store, index=n.snapshots, columns=n.storage_units.index)
    n.lpf()
    theirs, ours = n.lines_t.p0.to_numpy().T, branch_flows_gridflex(r)
    return float(np.abs(theirs - ours).max())


def pypsa_injections(n, bus_names, T):
    """Net injection (n_bus, T) of PyPSA's solved dispatch, in ``bus_names`` order."""
    import numpy as np
    import pandas as pd

    injection = np.zeros((len(bus_names), T))
    buses = pd.Index(bus_names)
    for table, sign in (("generators", 1), ("storage_units", 1), ("loads", -1)):
        p = getattr(n, f"{table}_t").p
        pos = buses.get_indexer(getattr(n, table).bus[p.columns])
        np.add.at(injection, pos, sign * p.to_numpy().T)
    return injection


def pypsa_dispatch_in_gridflex(net, arrays, T):
    """PyPSA's optimal dispatch through gridflex's shift factors and against its limits."""
    import numpy as np

    from gridflex.formulations.dc import ptdf_matrix

    n = pypsa_network(arrays)
    n.optimize(solver_name="highs", io_api="direct", log_to_console=False)
    model = gridflex_model(net, T)
    model.build()
    grid = model.grid
    injection = pypsa_injections(n, arrays["bus_names"], T)
    flows = ptdf_matrix(grid) @ injection
    rating = grid.branches.rating_mva.reshape(-1, 1)
    return dict(
        pypsa_dispatch_max_abs_flow_diff_mw=float(np.abs(flows - n.lines_t.p0.to_numpy().T).max()),
        pypsa_dispatch_max_limit_excess_mw=float((np.abs(flows) - rating).max()),
        pypsa_balance_max_abs_mw=float(np.abs(injection.sum(axis=0)).max()),
    )


def check_flows(T=24):
    """PyPSA's linear power flow of gridflex's optimal dispatch gives gridflex's flows.

    Both optimal dispatches are also checked in the other tool's physics: gridflex's dispatch
    in PyPSA (``n.lpf``), PyPSA's dispatch through gridflex's PTDF; and PyPSA's optimum
    satisfies gridflex's limits.
    """
    quiet()
    net = case_net()
    arrays = case_arrays(net, T)
    out = {
        f"gridflex_{config}_dispatch_max_abs_flow_diff_mw": gridflex_dispatch_in_pypsa(
            net, arrays, T, config
        )
        for config in GRIDFLEX_CONFIGS
    }
    out.update(pypsa_dispatch_in_gridflex(net, arrays, T))
    return out


def run_check_flows():
    res = check_flows()
    print(json.dumps(res, indent=1))
    return 0 if max(v for k, v in res.items() if "diff" in k) < 1e-6 else 1


# --------------------------------------------------------------------------- driver
def print_run(res):
    extra = res.get("solve_info", {})
    print(
        f"T={res['T']:5d} {res['config']:8s} rep{res['rep']} build {res['build_s']:.2f}s "
        f"solve {res['solve_s']:.2f}s total {res['total_s']:.2f}s "
        f"peak {res['peak_rss_gb']:.2f} GB obj {res['objective']:.10g} "
        f"binding {res['binding_branches']} "
        f"iters {extra.get('iterations', '-')} "
        f"added {extra.get('constraints_added', '-')}",
        flush=True,
    )


def run_one(T, tool, rep, args, runs, failures):
    """One child run; appends its measurements (or its error) to ``runs``."""
    res, wall, err = run_child(__file__, [tool, T, args.cost_spread], args.timeout)
    if res is None:
        print(f"T={T:5d} {tool:8s} FAILED: {err}", flush=True)
        runs.append(dict(T=T, config=tool, rep=rep, error=err, child_wall_s=wall))
        failures.append((T, tool, err))
        return
    res.update(rep=rep, child_wall_s=wall)
    runs.append(res)
    print_run(res)


def check_objectives(runs, T, failures):
    """Objectives of every run at T against PyPSA's (or the first run's), to REL_TOL."""
    done = [r for r in runs if r["T"] == T and "objective" in r]
    if not done:
        return
    ref = next((r for r in done if r["tool"] == "pypsa"), done[0])["objective"]
    for r in done:
        r["rel_objective_diff"] = abs(r["objective"] - ref) / abs(ref)
        if r["rel_objective_diff"] > REL_TOL:
            failures.append((T, r["config"], f"objective {r['objective']} vs {ref}"))
    worst = max(r["rel_objective_diff"] for r in done)
    print(f"T={T:5d} max relative objective difference {worst:.2e} (tol {REL_TOL:.0e})\n")


def run_all(args):
    """Every T, repeat and tool, each in a child; returns (runs, failures)."""
    tools = list(args.gridflex) + ([] if args.no_pypsa else ["pypsa"])
    runs, failures = [], []
    for T in sorted(args.periods):
        for rep in range(args.repeat if T <= args.small_t else 1):
            for tool in tools:
                run_one(T, tool, rep, args, runs, failures)
        check_objectives(runs, T, failures)
    return runs, failures


def best_run(runs, T, config):
    """Fastest successful run of ``config`` at T, with the max peak memory over its repeats."""
    ok = [r for r in runs if r["T"] == T and r.get("config") == config and "total_s" in r]
    if not ok:
        return None
    top = min(ok, key=lambda r: r["total_s"])
    return dict(top, peak_rss_gb=max(r["peak_rss_gb"] for r in ok), repeats=len(ok))


def summary_rows(runs, configs):
    """One row per T: best-of-repeats times per tool, the max peak memory."""
    rows = []
    for T in sorted({r["T"] for r in runs}):
        row = dict(T=T, pypsa=best_run(runs, T, "pypsa"))
        row.update({c: best_run(runs, T, c) for c in configs})
        rows.append(row)
    return rows


TABLE_HEAD = (
    "| T | gridflex build s | solve s | total s | PyPSA build s | solve s | total s | "
    "ratio gf/PyPSA | peak GB gf | peak GB PyPSA | objective | binding branches gf / PyPSA"
    " | iterations | constraints added (of all limits) |"
)


def table_line(T, g, p):
    """One markdown row: gridflex run ``g`` and PyPSA run ``p`` at T (either may be None)."""
    ratio = g["total_s"] / p["total_s"] if g and p else None
    info = (g or {}).get("solve_info", {})
    added = info.get("constraints_added")
    cells = [
        T,
        *(fmt(g and g[k]) for k in ("build_s", "solve_s", "total_s")),
        *(fmt(p and p[k]) for k in ("build_s", "solve_s", "total_s")),
        fmt(ratio),
        fmt(g and g["peak_rss_gb"]),
        fmt(p and p["peak_rss_gb"]),
        fmt((g or p)["objective"], ".1f"),
        " / ".join(str(x["binding_branches"]) if x else "-" for x in (g, p)),
        info.get("iterations", "-"),
        "-" if added is None else f"{added} ({100 * added / (N_BRANCHES * T):.1f} %)",
    ]
    return "| " + " | ".join(str(c) for c in cells) + " |"


def markdown_table(rows, config):
    lines = [TABLE_HEAD, "|" + "---|" * 14]
    for row in rows:
        g, p = row.get(config), row.get("pypsa")
        if g is not None or p is not None:
            lines.append(table_line(row["T"], g, p))
    return "\n".join(lines)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--periods", type=int, nargs="+", default=[24, 96, 2190, 8760])
    ap.add_argument("--gridflex", nargs="+", default=["lazy"], choices=list(GRIDFLEX_CONFIGS))
    ap.add_argument("--no-pypsa", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="repeats for T <= --small-t")
    ap.add_argument("--small-t", type=int, default=96)
    ap.add_argument("--timeout", type=float, default=1800.0, help="per child, seconds")
    ap.add_argument(
        "--cost-spread", type=float, default=0.0, help="add SPREAD * k to the k-th linear cost"
    )
    ap.add_argument("--check-flows", action="store_true", help="only the flow agreement check")
    ap.add_argument("--json", help="also write all raw measurements to this file")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    return ap.parse_args()


def main():
    args = parse_args()
    if args.worker:
        return run_worker(args.worker)
    if args.check_flows:
        return run_check_flows()
    info = dict(machine_info(), cost_spread=args.cost_spread)
    print_machine(info)
    runs, failures = run_all(args)
    rows = summary_rows(runs, args.gridflex)
    for config in args.gridflex:
        print(f"\ngridflex {config} vs PyPSA (best of repeats; peak = max over repeats)\n")
        print(markdown_table(rows, config))
    write_json(args.json, machine=info, runs=runs, summary=rows)
    if failures:
        print("\nFAILURES:", failures)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
