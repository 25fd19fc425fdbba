"""The ``gridflex`` command: run scenarios, list networks and built-in scenarios.

::

    gridflex run SCENARIO [--out DIR] [--solver NAME]   # solve, print a summary, write DIR
    gridflex networks                                   # the built-in networks
    gridflex scenarios                                  # the built-in scenarios

Errors in the input or the solve (:class:`~gridflex.errors.GridflexError`) print one line to
stderr and exit with code 2. Each sub-command is one entry of :data:`COMMANDS` (a function that
adds its arguments and one that runs it), so a new command is one more entry. See docs/cli.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

from gridflex import console, output
from gridflex.errors import GridflexError

# numpy, pandas, cvxpy and pandapower are imported inside the commands: `gridflex --help` and
# `gridflex --version` answer at once.

BINDING_PERCENT = 99.9
"""A branch counts as binding when its loading reaches this percentage in some period."""

DEFAULT_OUT = Path("out")
"""``gridflex run`` writes into ``out/<scenario name>`` unless ``--out`` is given."""


# --- gridflex run ----------------------------------------------------------------------------
def _add_run_arguments(parser):
    parser.add_argument("scenario", help="scenario folder, or the name of a built-in scenario")
    parser.add_argument("--out", type=Path, help="output folder (default: out/<scenario name>)")
    parser.add_argument("--solver", help="solver name, e.g. HIGHS or CLARABEL (default: by class)")
    parser.add_argument(
        "--no-validate",
        action="store_true",
        help="skip the AC power-flow validation of the dispatch",
    )


def cmd_run(args):
    """Load, build and solve a scenario (or run its study.py); print and write the summary."""
    from gridflex.scenario import load_scenario

    start = time.perf_counter()
    scenario = load_scenario(args.scenario).with_solver(args.solver)
    loaded = time.perf_counter() - start
    out = args.out or DEFAULT_OUT / scenario.name
    study = scenario.load_study()
    staging = output.staging_folder(out)  # output problems show here, before any solve
    with output.TerminateAsExit():
        summary, extra = _run_into(staging, out, scenario, study, args, start, loaded)
    _say(format_summary(summary, out, extra))
    return 0


def _run_into(staging, out, scenario, study, args, start, loaded):
    """Run the scenario's study into ``staging`` (removed on any failure or stop), then
    publish it as ``out``."""
    try:
        if study is None:
            summary, extra = solve_scenario(scenario, staging, validate=not args.no_validate), ()
        else:
            summary = dict(study(scenario, staging) or {})
            extra = list(summary)
        summary.setdefault("wall_time_s", {})["read_scenario"] = loaded
        summary["wall_time_s"]["total"] = time.perf_counter() - start
        summary = {"scenario": scenario.name, **summary, "sources": _records(scenario.sources())}
        write_summary(summary, staging)
        output.publish(staging, out)  # the whole folder at once: never a partial or mixed one
    except BaseException:
        output.discard(staging)
        raise
    return summary, extra


def _say(text):
    """Results on stdout, unless quiet (``-q``: errors only)."""
    if console.logger.isEnabledFor(console.logging.INFO):
        print(text)


def solve_scenario(scenario, out, validate=True):
    """The default study: one solve, then (by default) its AC validation.

    Writes one CSV per result table, the result folder ``result/`` (for ``gridflex validate``)
    and, when validating, the AC report files (``ac_*.csv``, ``ac_validation.png``) into ``out``.

    Returns
    -------
    dict
        The figures of :func:`result_summary` plus ``wall_time_s`` (``build``, ``solve``).
    """
    t0 = time.perf_counter()
    model = scenario.build_model()
    console.logger.debug("building %s", scenario.name)
    model.build()
    t1 = time.perf_counter()
    solver_output = {"verbose": True} if console.logger.isEnabledFor(console.logging.DEBUG) else {}
    result = model.solve(solver=scenario.solver, **solver_output)
    t2 = time.perf_counter()
    result.to_csv(out)
    result.save(out)
    ac, report = validate_result(result, out) if validate else (None, None)
    t3 = time.perf_counter()
    write_plots(result, out, report)
    summary = {
        "description": scenario.description,
        "network": scenario.network,
        "formulation": scenario.formulation,
        "start": str(scenario.periods[0]),
        **result_summary(result),
        "wall_time_s": {"build": t1 - t0, "solve": t2 - t1, "ac_validation": t3 - t2},
        "files": sorted(p.name for p in Path(out).glob("*.csv")),
    }
    if ac is not None:
        summary["ac_validation"] = ac
    return summary


def validate_result(result, out):
    """AC-validate ``result``, write the report into ``out``, return its headline figures."""
    from gridflex.validation import validate_ac
    from gridflex.validation.report import report_figures, write_report

    report = validate_ac(result)
    write_report(report, out)
    return report_figures(report), report


def write_plots(result, out, report=None):
    """The plots that apply to ``result`` (:func:`gridflex.plot.result_plots`) into ``out``."""
    from gridflex import plot

    net = next(iter(result.nets.values()), None)
    written = plot.result_plots(result, out, report=report, net=net)
    console.logger.debug("plots: %s", ", ".join(p.name for p in written))
    return written


# --- gridflex validate ---------------------------------------------------------------------
def _add_validate_arguments(parser):
    parser.add_argument("result_dir", type=Path, help="folder written by 'gridflex run'")


def cmd_validate(args):
    """AC-validate a saved result and write the report next to it."""
    from gridflex.results import Results

    figures, _ = validate_result(Results.load(args.result_dir), args.result_dir)
    _say(format_validation(figures, args.result_dir))
    return 0


# --- gridflex plot ---------------------------------------------------------------------------
def _add_plot_arguments(parser):
    parser.add_argument("result_dir", type=Path, help="folder written by 'gridflex run'")
    parser.add_argument("--no-ac", action="store_true", help="skip the AC plots (no power flow)")


def cmd_plot(args):
    """Redraw the plots of a saved result (the AC ones after a new AC validation)."""
    from gridflex.results import Results
    from gridflex.validation import validate_ac

    result = Results.load(args.result_dir)
    report = None if args.no_ac else validate_ac(result)
    written = write_plots(result, args.result_dir, report)
    _say(console.field("plots", ", ".join(sorted({p.stem for p in written}))
                       + f" (PNG and SVG, 300 dpi) in {args.result_dir}"))  # fmt: skip
    return 0


def format_validation(figures, out):
    """Console lines for the AC validation figures: the verdict in words, then the figures."""
    f = figures
    missed = f["not_converged_periods"]
    lines = [console.field("AC validation", console.ac_verdict(f))]
    if missed:
        lines.append(console.field("  not converged", ", ".join(missed)))
    lines += [
        console.field("  slack", f"AC losses: max |dP| {_num(f['max_abs_slack_deviation_mw'])} MW"),
        console.field("  model vs AC", f"max |dP| on branches {_num(f['max_dp_branch_mw'])} MW"),
        console.field("  report", f"{Path(out) / 'ac_summary.csv'}, ac_validation.png/.svg"),
    ]  # fmt: skip
    return "\n".join(lines)


def _num(value):
    return "n/a" if value is None else f"{value:.4g}"


def result_summary(result):
    """Objective, costs, energy, binding branches and price range of a :class:`Results`.

    A branch is binding when its flow reaches ``BINDING_PERCENT`` of the rating the model
    enforces (``limit_percent`` of ``res_line``/``res_trafo``) in at least one period.
    """
    import numpy as np

    out = result.summary()
    out["status"] = result.status
    out["cost_by_device"] = result.costs.groupby(level="device")["cost"].sum().to_dict()
    for element in ("line", "trafo"):
        loading = _limit_percent(result.tables.get(f"res_{element}"))
        binding = loading.columns[(loading >= BINDING_PERCENT).any()].tolist()
        out[f"n_{element}"] = int(loading.shape[1])
        out[f"binding_{element}s"] = len(binding)
        out[f"binding_{element}_ids"] = [int(i) for i in binding]
    prices = result.res_bus["price_per_mwh"].to_numpy()
    finite = prices[np.isfinite(prices)]
    out["price_per_mwh"] = (
        {"min": finite.min(), "mean": finite.mean(), "max": finite.max()} if finite.size else {}
    )
    return out


def _limit_percent(table):
    """|flow| over the enforced rating (``limit_percent``; ``loading_percent`` in older tables)."""
    import pandas as pd

    if table is None:
        return pd.DataFrame()
    quantities = table.columns.get_level_values(0)
    return table["limit_percent" if "limit_percent" in quantities else "loading_percent"]


def write_summary(summary, out):
    """Write ``summary`` as ``out/summary.json`` (NaN and infinities as null)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_jsonable(summary), indent=2, allow_nan=False)
    (out / "summary.json").write_text(text + "\n", encoding="utf-8")


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, list | tuple | dict):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _records(frame):
    return frame.to_dict(orient="records")


def format_summary(summary, out, extra=()):
    """The human summary of a run, aligned, with units (``extra``: more keys to show)."""
    field = console.field
    lines = [field("scenario", summary["scenario"])]
    shown = {
        "objective", "cost_by_component", "energy_mwh", "price_per_mwh", "wall_time_s",
        "ac_validation",
    }  # fmt: skip
    for key in extra:
        value = summary[key]
        if key not in shown and isinstance(value, str | int | float):
            shown_value = console.number(value) if isinstance(value, float) else value
            lines.append(field(key.replace("_", " "), shown_value))
    if "objective" in summary:
        lines.append(field("objective", f"{console.number(summary['objective'])} "
                           f"{console.CURRENCY}  ({summary.get('solver')}, "
                           f"{summary.get('status', 'optimal')})"))  # fmt: skip
    lines += console.table(f"cost by component ({console.CURRENCY})",
                           summary.get("cost_by_component") or {})  # fmt: skip
    lines += console.table("energy (MWh)", summary.get("energy_mwh") or {}, digits=1)
    for element in ("line", "trafo"):
        if f"binding_{element}s" in summary:
            ids = summary[f"binding_{element}_ids"]
            lines.append(field(
                f"binding {element}s",
                f"{summary[f'binding_{element}s']} of {summary[f'n_{element}']} (flow >= "
                f"{BINDING_PERCENT}% of rating in some period)"
                + (f": {', '.join(map(str, ids))}" if ids else ""),
            ))  # fmt: skip
    price = summary.get("price_per_mwh")
    if price:
        lines.append(field("prices", f"{price['min']:.2f} .. {price['max']:.2f} "
                           f"{console.CURRENCY}/MWh (mean {price['mean']:.2f})"))  # fmt: skip
    if summary.get("ac_validation"):
        lines.append(format_validation(summary["ac_validation"], out))
    times = summary.get("wall_time_s") or {}
    if times:
        lines.append(field("wall time (s)", " | ".join(f"{k} {v:.2f}" for k, v in times.items())))
    lines.append(field("written to", out))
    return "\n".join(lines)


# --- gridflex networks / scenarios -------------------------------------------------------
def cmd_networks(args):
    """Print the built-in networks (:func:`gridflex.networks.list_networks`)."""
    from gridflex.networks import list_networks

    _say(_fitted(list_networks().drop(columns="function")))  # gridflex.networks.<name>
    return 0


def cmd_scenarios(args):
    """Print the built-in scenarios (:func:`gridflex.scenario.list_scenarios`)."""
    from gridflex.scenario import list_scenarios

    _say(_fitted(list_scenarios()))
    return 0


def _fitted(frame):
    """A table whose lines fit the console: text columns shortened to share the width."""
    import pandas as pd

    frame = frame.astype(str)
    room = console.WIDTH - 2 * len(frame.columns)
    widths = {c: max(len(c), frame[c].str.len().max()) for c in frame.columns}
    while sum(widths.values()) > room:
        widest = max(widths, key=widths.get)
        widths[widest] -= 1
    short = {c: frame[c].map(lambda v, w=widths[c]: v if len(v) <= w else v[: w - 3] + "...")
             for c in frame.columns}  # fmt: skip
    with pd.option_context("display.width", console.WIDTH, "display.max_colwidth", None):
        return pd.DataFrame(short).to_string(index=False)


COMMANDS = {
    "run": (
        "build and solve a scenario, write summary.json and CSVs",
        _add_run_arguments,
        cmd_run,
        "gridflex run quickstart --out out/quickstart\n"
        "  gridflex run path/to/my_scenario --solver CLARABEL --no-validate",
    ),
    "networks": ("list the built-in networks", None, cmd_networks, "gridflex networks"),
    "scenarios": ("list the built-in scenarios", None, cmd_scenarios, "gridflex scenarios"),
    "validate": (
        "AC-validate a result saved by 'gridflex run'",
        _add_validate_arguments,
        cmd_validate,
        "gridflex validate out/quickstart",
    ),
    "plot": (
        "redraw the plots of a result saved by 'gridflex run'",
        _add_plot_arguments,
        cmd_plot,
        "gridflex plot out/quickstart",
    ),
}
"""Sub-command name -> (help, function adding its arguments or None, handler, example)."""


def build_parser():
    """The argument parser with one sub-parser per entry of :data:`COMMANDS`."""
    from gridflex import __version__

    parser = argparse.ArgumentParser(
        prog="gridflex", allow_abbrev=False,
        description="Flexible demand on power networks: dispatch, planning, AC validation.",
        epilog="Example: gridflex run quickstart   (each command: gridflex COMMAND --help)",
    )  # fmt: skip
    parser.add_argument("--version", action="version", version=f"gridflex {__version__}")
    _add_verbosity(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parser._commands = {}
    for name, (help_text, add_arguments, handler, example) in COMMANDS.items():
        command = sub.add_parser(
            name, help=help_text, description=help_text, allow_abbrev=False,
            epilog=f"example:\n  {example}", formatter_class=argparse.RawDescriptionHelpFormatter,
        )  # fmt: skip
        _add_verbosity(command)
        if add_arguments is not None:
            add_arguments(command)
        command.set_defaults(handler=handler)
        parser._commands[name] = command
    return parser


def _add_verbosity(parser):
    default = argparse.SUPPRESS  # given before or after the command, either counts
    parser.add_argument("-q", "--quiet", action="store_true", default=default,
                        help="print errors only")  # fmt: skip
    parser.add_argument("-v", "--verbose", action="store_true", default=default,
                        help="more detail, and the solvers' own output")  # fmt: skip


def parse(argv):
    """Arguments, with an unknown option reported by its command's usage (not the top one)."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        command = parser._commands.get(getattr(args, "command", None), parser)
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def main(argv=None):
    """Entry point of the ``gridflex`` console script.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 on a gridflex error (one line on stderr, no traceback; an infeasible
        model's diagnosis follows it as a table).
    """
    args = parse(argv)
    verbosity = 1 if getattr(args, "verbose", False) else -1 if getattr(args, "quiet", False) else 0
    console.setup_logging(verbosity)
    if verbosity < 1:
        from gridflex.solvers import quiet_highs_banner

        quiet_highs_banner()
    try:
        return args.handler(args)
    except GridflexError as exc:
        diagnosis = getattr(exc, "diagnosis", None)
        text = str(exc).split("\n")[0] if diagnosis is not None else str(exc)
        message = " ".join(text.split())  # the diagnosis follows as a table
        print(f"gridflex {args.command}: error: {message}", file=sys.stderr)
        _print_diagnosis(diagnosis)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _print_diagnosis(table):
    """An infeasible model's elastic re-solve (:mod:`gridflex.diagnosis`), under the error."""
    if table is None:
        return
    if len(table) == 0:
        print("  no constraint or variable could be named (see the message above)",
              file=sys.stderr)  # fmt: skip
        return
    header = ("the variables that run away (they end at the box of a boxed re-solve):"
              if "variable" in table.columns else
              "the constraints it had to violate, largest first:")  # fmt: skip
    print(f"  {header}", file=sys.stderr)
    print(table.to_string(index=False), file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
