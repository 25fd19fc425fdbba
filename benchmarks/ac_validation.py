"""AC validation speed: pandapower's runpp period by period vs gridflex's batch path, one run.

The dispatch: IEEE 118 (PGLib ratings and linear costs), hourly, 8760 periods, a daily and
seasonal load profile, 3 batteries (storage), 2 wind farms of which the one at bus 86 sits behind
a 141 MW line (curtailed), and 2 sheddable loads whose shedding cost (25 per MWh) is below the
dearest units' (shed load), solved with ``gf.DC(lazy_limits=True)``. The dispatch is not timed.

Timed, from the Results object to the finished :class:`~gridflex.validation.ac.ACReport`
(copying the net, writing the dispatch, power flows, checks, tables):

* naive: ``validate_ac(result, method="runpp", periods=sample)``: ``pp.runpp`` per period
  (numba on, compiled beforehand), on a sample of ``--sample`` periods spread over the year;
  its rate (periods/s) stands for the whole year;
* batch: ``validate_ac(result, method="batch")`` on all periods, and on the first 96.

Agreement: on the sample, every column of res_bus / res_line / res_trafo of the batch report
against the naive one (max absolute difference), and whether every period used the batch path.

Usage::

    python benchmarks/ac_validation.py                 # 8760 periods, sample of 300
    python benchmarks/ac_validation.py --periods 2190 --sample 100
"""

import argparse
import time

import numpy as np
from _common import machine_info, print_machine

import gridflex as gf
from gridflex.validation import validate_ac


def build_dispatch(T):
    """The case above, solved; returns (result, seconds)."""
    net = gf.networks.ieee118(costs="pglib")
    hours = np.arange(T)
    daily = 0.85 + 0.15 * np.sin(2 * np.pi * (hours - 9) / 24)
    seasonal = 1.0 + 0.1 * np.cos(2 * np.pi * hours / 8760)
    model = gf.Model(
        net, periods=T, formulation=gf.DC(lazy_limits=True), load_scale=daily * seasonal
    )
    model.add(gf.Storage(bus=[9, 58, 99], p_mw=80, e_mwh=320, name="bess"))
    gusts = 0.5 + 0.45 * np.sin(2 * np.pi * hours / 37) * np.cos(2 * np.pi * hours / 173)
    model.add(gf.Renewable(bus=[86, 42], profile=np.outer([400.0, 250.0], gusts), name="wind"))
    flex = np.full((2, T), 40.0)
    model.add(gf.Load(bus=[20, 75], p_mw=flex, shed_cost_per_mwh=25.0, name="flex"))
    start = time.perf_counter()
    result = model.solve()
    return result, time.perf_counter() - start


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    out = function(*args, **kwargs)
    return out, time.perf_counter() - start


def max_differences(batch, naive):
    """Largest |batch - naive| per (table, quantity) over the sample."""
    rows = {}
    for name in ("res_bus", "res_line", "res_trafo"):
        ours, theirs = getattr(batch, name), getattr(naive, name)
        for quantity in ours.columns.get_level_values(0).unique():
            diff = np.abs(ours[quantity].to_numpy() - theirs[quantity].to_numpy())
            rows[f"{name}.{quantity}"] = float(np.nanmax(diff))
    return rows


def dispatch_facts(result):
    return {
        "curtailed wind MWh": float(result.res_sgen["curtailed_mw"].to_numpy().sum()),
        "shed load MWh": float(result.res_load["shed_mw"].to_numpy().sum()),
        "storage throughput MWh": float(np.abs(result.res_storage["p_mw"].to_numpy()).sum()),
    }


def run(T, sample_size):
    result, dispatch_s = build_dispatch(T)
    print(f"dispatch: T = {T}, solved in {dispatch_s:.1f} s; {dispatch_facts(result)}")
    sample = np.unique(np.linspace(0, T - 1, sample_size).astype(int))
    validate_ac(result, method="runpp", periods=sample[:3])  # numba compiles here, untimed
    naive, naive_s = timed(validate_ac, result, method="runpp", periods=sample)
    batch, batch_s = timed(validate_ac, result, method="batch")
    batch96, batch96_s = timed(validate_ac, result, method="batch", periods=slice(0, 96))
    on_sample = validate_ac(result, method="batch", periods=sample)
    return {
        "naive": (len(sample), naive_s),
        "batch": (T, batch_s),
        "batch96": (96, batch96_s),
        "methods": batch.summary["method"].value_counts().to_dict(),
        "converged": int(batch.summary["converged"].sum()),
        "violations": len(batch.violations),
        "differences": max_differences(on_sample, naive),
        "report": batch,
        "report96": batch96,
    }


def print_figures(out):
    naive_rate = out["naive"][0] / out["naive"][1]
    print()
    print_machine(machine_info())
    print("| path | periods | wall s | periods/s | x naive |")
    print("|---|---|---|---|---|")
    for key, label in (("naive", "runpp loop (sample)"), ("batch96", "batch"), ("batch", "batch")):
        n, seconds = out[key]
        rate = n / seconds
        print(f"| {label} | {n} | {seconds:.2f} | {rate:,.0f} | {rate / naive_rate:,.0f} |")
    print(f"\nbatch report: {out['report']!r}; paths used {out['methods']}")
    print("largest |batch - runpp| on the sample:")
    for key, value in out["differences"].items():
        print(f"  {key:32s} {value:.2e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--periods", type=int, default=8760)
    parser.add_argument("--sample", type=int, default=300)
    args = parser.parse_args()
    print_figures(run(args.periods, args.sample))


if __name__ == "__main__":
    main()
