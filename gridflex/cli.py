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

import numpy as np
import pandas as pd

from gridflex.errors import GridflexError
from gridflex.results import Results
from gridflex.scenario import list_scenarios, load_scenario
from gridflex.validation import validate_ac
from gridflex.validation.report import report_figures, write_report

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
    start = time.perf_counter()
    scenario = load_scenario(args.scenario).with_solver(args.solver)
    loaded = time.perf_counter() - start
    out = args.out or DEFAULT_OUT / scenario.name
    study = scenario.load_study()
    if study is None:
        summary, extra = solve_scenario(scenario, out, validate=not args.no_validate), ()
    else:
        summary = dict(study(scenario, out) or {})
        extra = list(summary)
    summary.setdefault("wall_time_s", {})["load"] = loaded
    summary["wall_time_s"]["total"] = time.perf_counter() - start
    summary = {"scenario": scenario.name, **summary, "sources": _records(scenario.sources())}
    write_summary(summary, out)
    print(format_summary(summary, out, extra))
    return 0


def solve_scenario(scenario, out, validate=True):
    """The default study: one solve, then (by default) its AC validation.

    Writes one CSV per result table, ``result.pkl`` (for ``gridflex validate``) and, when
    validating, the AC report files (``ac_*.csv``, ``ac_validation.png``) into ``out``.

    Returns
    -------
    dict
        The figures of :func:`result_summary` plus ``wall_time_s`` (``build``, ``solve``).
    """
    t0 = time.perf_counter()
    model = scenario.build_model()
    model.build()
    t1 = time.perf_counter()
    result = model.solve(solver=scenario.solver)
    t2 = time.perf_counter()
    result.to_csv(out)
    result.save(out)
    ac = validate_result(result, out) if validate else None
    t3 = time.perf_counter()
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
    report = validate_ac(result)
    write_report(report, out)
    return report_figures(report)


# --- gridflex validate ---------------------------------------------------------------------
def _add_validate_arguments(parser):
    parser.add_argument("result_dir", type=Path, help="folder written by 'gridflex run'")


def cmd_validate(args):
    """AC-validate a saved result and write the report next to it."""
    figures = validate_result(Results.load(args.result_dir), args.result_dir)
    print(format_validation(figures, args.result_dir))
    return 0


def format_validation(figures, out):
    """Console lines for the AC validation figures."""
    f = figures
    lines = [
        f"AC validation   {f['converged']}/{f['periods']} periods converged"
        + (
            f" (not: {', '.join(f['not_converged_periods'])})" if f["not_converged_periods"] else ""
        ),
        f"violations      {f['violations']} {f['violations_by_kind'] or ''}",
        f"voltages        {_num(f['vm_min_pu'])} .. {_num(f['vm_max_pu'])} pu",
        f"max loading     {_num(f['max_loading_percent'])} %",
        f"slack deviation max |dP| {_num(f['max_abs_slack_deviation_mw'])} MW (AC losses)",
        f"model vs AC     max |dP| on branches {_num(f['max_dp_branch_mw'])} MW",
        f"report          {Path(out) / 'ac_summary.csv'}, {Path(out) / 'ac_validation.png'}",
    ]
    return "\n".join(lines)


def _num(value):
    return "n/a" if value is None else f"{value:.4g}"


def result_summary(result):
    """Objective, costs, energy, binding branches and price range of a :class:`Results`.

    A branch is binding when its flow reaches ``BINDING_PERCENT`` of the rating the model
    enforces (``limit_percent`` of ``res_line``/``res_trafo``) in at least one period.
    """
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
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _records(frame):
    return frame.to_dict(orient="records")


def format_summary(summary, out, extra=()):
    """The short human summary of a run (one figure per line); ``extra``: more keys to show."""
    lines = [f"scenario        {summary['scenario']}"]
    shown = {
        "objective",
        "cost_by_component",
        "energy_mwh",
        "price_per_mwh",
        "wall_time_s",
        "ac_validation",
    }
    lines += [
        f"{key:<16}{summary[key]}"
        for key in extra
        if key not in shown and isinstance(summary[key], str | int | float)
    ]
    if "objective" in summary:
        lines.append(
            f"objective       {summary['objective']:,.2f}  "
            f"({summary.get('solver')}, {summary.get('status', 'optimal')})"
        )
    lines += _dict_line("cost", summary.get("cost_by_component"), "{:,.2f}")
    lines += _dict_line("energy (MWh)", summary.get("energy_mwh"), "{:,.1f}")
    for element in ("line", "trafo"):
        if f"binding_{element}s" in summary:
            ids = summary[f"binding_{element}_ids"]
            lines.append(
                f"binding {element + 's':<8}{summary[f'binding_{element}s']} of "
                f"{summary[f'n_{element}']} (flow >= {BINDING_PERCENT}% of rating in some period)"
                + (f": {', '.join(map(str, ids))}" if ids else "")
            )
    price = summary.get("price_per_mwh")
    if price:
        lines.append(f"prices          {price['min']:.2f} .. {price['max']:.2f} per MWh")
    if summary.get("ac_validation"):
        lines.append(format_validation(summary["ac_validation"], out))
    lines += _dict_line("wall time (s)", summary.get("wall_time_s"), "{:.2f}")
    lines.append(f"written to      {out}")
    return "\n".join(lines)


def _dict_line(label, values, fmt):
    if not values:
        return []
    text = " | ".join(f"{k} {fmt.format(v)}" for k, v in values.items())
    return [f"{label:<16}{text}"]


# --- gridflex networks / scenarios -------------------------------------------------------
def cmd_networks(args):
    """Print the built-in networks (:func:`gridflex.networks.list_networks`)."""
    from gridflex.networks import list_networks

    with pd.option_context("display.width", 200, "display.max_colwidth", 80):
        print(list_networks().to_string(index=False))
    return 0


def cmd_scenarios(args):
    """Print the built-in scenarios (:func:`gridflex.scenario.list_scenarios`)."""
    with pd.option_context("display.width", 200, "display.max_colwidth", 90):
        print(list_scenarios().to_string(index=False))
    return 0


COMMANDS = {
    "run": ("build and solve a scenario, write summary.json and CSVs", _add_run_arguments, cmd_run),
    "networks": ("list the built-in networks", None, cmd_networks),
    "scenarios": ("list the built-in scenarios", None, cmd_scenarios),
    "validate": (
        "AC-validate a result saved by 'gridflex run'",
        _add_validate_arguments,
        cmd_validate,
    ),
}
"""Sub-command name -> (help, function adding its arguments or None, handler)."""


def build_parser():
    """The argument parser with one sub-parser per entry of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="gridflex", description="Multi-period dispatch on power networks (see docs/cli.md)."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_arguments, handler) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        if add_arguments is not None:
            add_arguments(command)
        command.set_defaults(handler=handler)
    return parser


def main(argv=None):
    """Entry point of the ``gridflex`` console script.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 on a gridflex error (one line on stderr, no traceback).
    """
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except GridflexError as exc:
        message = " ".join(str(exc).split())
        print(f"gridflex {args.command}: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
