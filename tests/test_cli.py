"""The gridflex command: run writes a summary and tables that agree with a direct solve."""

import contextlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridflex import networks
from gridflex.cli import BINDING_PERCENT, main
from gridflex.scenario import load_scenario

PRODUCING = ("res_gen", "res_ext_grid", "res_sgen")  # p_mw positive when producing
CONSUMING = ("res_load", "res_storage", "res_shunt")  # p_mw positive when consuming


def run_cli(argv):
    """``main(argv)`` with stdout and stderr captured: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def read_table(folder, name):
    """A result table written by ``gridflex run`` (two header rows: quantity, element)."""
    return pd.read_csv(Path(folder) / f"{name}.csv", header=[0, 1], index_col=0, parse_dates=True)


@pytest.fixture(scope="module")
def quickstart_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("quickstart")
    code, stdout, stderr = run_cli(["run", "quickstart", "--out", str(out)])
    assert code == 0, stderr
    summary = json.loads((out / "summary.json").read_text())
    return out, summary, stdout


def test_run_objective_equals_direct_solve(quickstart_run):
    _, summary, _ = quickstart_run
    direct = load_scenario("quickstart").build_model().solve()
    assert summary["objective"] == pytest.approx(direct.objective, rel=1e-9)
    assert summary["solver"] == direct.solver == "HIGHS"  # PGLib costs are linear: an LP
    costs = summary["cost_by_component"]
    assert sum(costs.values()) == pytest.approx(summary["objective"], rel=1e-9)


def test_run_writes_one_csv_per_table_and_summary(quickstart_run):
    out, summary, stdout = quickstart_run
    tables = {"res_bus", "res_gen", "res_ext_grid", "res_load", "res_line", "res_trafo"}
    tables |= {"res_sgen", "res_storage", "res_shunt", "costs"}
    ac = {"ac_summary", "ac_violations", "ac_gap", "ac_res_bus", "ac_res_line", "ac_res_trafo"}
    assert {p.stem for p in out.glob("*.csv")} == tables | ac
    assert summary["files"] == sorted(f"{t}.csv" for t in tables | ac)
    assert summary["scenario"] == "quickstart" and summary["periods"] == 96
    assert set(summary["wall_time_s"]) == {
        "read_scenario",
        "build",
        "solve",
        "ac_validation",
        "total",
    }
    assert f"objective         {summary['objective']:,.2f} $" in stdout
    assert f"binding lines     {summary['binding_lines']} of 173" in stdout


def test_quickstart_has_binding_lines(quickstart_run):
    out, summary, _ = quickstart_run
    limit = read_table(out, "res_line")["limit_percent"]
    binding = limit.columns[(limit >= BINDING_PERCENT).any()].astype(int).tolist()
    assert summary["binding_lines"] == len(binding) >= 1
    assert summary["binding_line_ids"] == binding
    assert limit.max().max() == pytest.approx(100.0, abs=1e-6)  # never above the rating


def test_energy_balance_closes_in_written_tables(quickstart_run):
    out, _, _ = quickstart_run
    written = {p.stem for p in out.glob("res_*.csv")} - {"res_bus", "res_line", "res_trafo"}
    assert written <= set(PRODUCING + CONSUMING)  # no table with power left out below
    balance = 0.0
    for name in written:
        sign = 1.0 if name in PRODUCING else -1.0
        balance = balance + sign * read_table(out, name)["p_mw"].sum(axis=1)
    assert np.abs(balance.to_numpy()).max() < 1e-5  # DC: no losses
    bus = read_table(out, "res_bus")["p_mw"].sum(axis=1)
    assert np.abs(bus.to_numpy()).max() < 1e-5


def test_storage_charges_at_lower_prices_than_it_discharges(quickstart_run):
    out, _, _ = quickstart_run
    storage = read_table(out, "res_storage")["p_mw"]
    prices = read_table(out, "res_bus")["price_per_mwh"]
    buses = {"bess_0": "86", "bess_1": "111", "bess_2": "99"}  # bus numbers 87, 112, 100
    for unit, bus in buses.items():
        p, price = storage[unit].to_numpy(), prices[bus].to_numpy()
        charging, discharging = p > 1e-3, p < -1e-3
        assert charging.any() and discharging.any()
        assert price[charging].mean() < price[discharging].mean()


def test_prices_differ_across_buses_when_lines_bind(quickstart_run):
    out, _, _ = quickstart_run
    limit = read_table(out, "res_line")["limit_percent"]
    prices = read_table(out, "res_bus")["price_per_mwh"]
    spread = (prices.max(axis=1) - prices.min(axis=1)).to_numpy()
    congested = (limit >= BINDING_PERCENT).any(axis=1).to_numpy()
    assert congested.any()
    assert (spread[congested] > 1.0).all()  # at least 1 per MWh between some buses


def test_summary_lists_sources_of_every_parameter(quickstart_run):
    _, summary, _ = quickstart_run
    sources = pd.DataFrame(summary["sources"])
    expected = load_scenario("quickstart").sources()
    pd.testing.assert_frame_equal(sources, expected)
    assert {"p_mw", "e_mwh", "profile", "capacity_mw"} <= set(sources["parameter"])


def test_networks_command_lists_the_built_in_networks():
    code, stdout, _ = run_cli(["networks"])
    assert code == 0
    names = [line.split()[0] for line in stdout.splitlines()[1:]]
    assert names == ["ieee14", "ieee24", "ieee33", "ieee118", "yang14"]
    assert names == list(networks.NETWORKS)


def test_scenarios_command_lists_the_builtin_scenarios():
    code, stdout, _ = run_cli(["scenarios"])
    assert code == 0
    rows = {line.split()[0]: line.split()[1] for line in stdout.splitlines()[1:]}
    assert rows == {
        "ev_tight_balance": "ieee118",
        "ice_cooling_14": "yang14",
        "ice_cooling_33": "ieee33",
        "quickstart": "ieee118",
        "td_dc_fcs_expansion": "ieee24",
    }


def test_bad_scenario_exits_2_with_one_line(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "scenario.toml").write_text('[scenario]\nname = "bad"\nnetwork = "ieee999"\n')
    code, stdout, stderr = run_cli(["run", str(folder), "--out", str(tmp_path / "out")])
    assert code == 2 and stdout == ""
    assert len(stderr.strip().splitlines()) == 1
    assert stderr.startswith("gridflex run: error: ") and "scenario.toml" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "out").exists()


def test_unknown_scenario_name_exits_2():
    code, _, stderr = run_cli(["run", "no_such_scenario"])
    assert code == 2
    assert "no scenario 'no_such_scenario'" in stderr and len(stderr.splitlines()) == 1


def test_infeasible_scenario_exits_2_with_solve_error(tmp_path):
    scenario = load_scenario("quickstart")
    text = scenario.file.read_text().replace("[[devices]]", LOAD_SPIKE + "\n[[devices]]", 1)
    folder = tmp_path / "spike"
    folder.mkdir()
    (folder / "scenario.toml").write_text(text)
    (folder / "profiles.csv").write_bytes((scenario.path / "profiles.csv").read_bytes())
    code, _, stderr = run_cli(["run", str(folder), "--out", str(tmp_path / "out")])
    assert code == 2
    lines = stderr.splitlines()
    assert "returned status 'infeasible" in lines[0] and lines[0].startswith("gridflex run: error")
    # then the diagnosis: the elastic re-solve's violations, largest first, as a table
    assert lines[1] == "  the constraints it had to violate, largest first:"
    assert lines[2].split() == ["owner", "kind", "constraint", "row", "period", "violation"]
    assert len(lines) > 3


LOAD_SPIKE = """
[[devices]]
type = "Load"
name = "spike"
bus_number = 1
p_mw = { value = 20000, source = "test: far above the system's capacity" }
"""


def test_study_hook_replaces_default_solve(tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    scenario = load_scenario("quickstart")
    (folder / "scenario.toml").write_text(scenario.file.read_text() + "\n[study]\nanswer = 42\n")
    (folder / "profiles.csv").write_bytes((scenario.path / "profiles.csv").read_bytes())
    (folder / "study.py").write_text(STUDY)
    out = tmp_path / "out"
    code, stdout, _ = run_cli(["run", str(folder), "--out", str(out)])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["answer"] == 42 and summary["n_devices"] == 3
    assert summary["sources"] == json.loads(scenario.sources().to_json(orient="records"))
    assert (out / "marker.txt").read_text() == "quickstart"
    assert "scenario          quickstart" in stdout and "answer            42" in stdout


STUDY = """
from pathlib import Path


def run(scenario, out_dir):
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / "marker.txt").write_text(scenario.name)
    return {"answer": scenario.study_options["answer"], "n_devices": len(scenario.devices)}
"""


def test_run_validates_ac_and_validate_reproduces_it(quickstart_run, capsys):
    out, summary, stdout = quickstart_run
    ac = summary["ac_validation"]
    assert ac["periods"] == ac["converged"] == 96
    written = pd.read_csv(out / "ac_summary.csv", index_col=0)
    assert len(written) == 96 and written["converged"].all()
    assert ac["violations"] == len(pd.read_csv(out / "ac_violations.csv"))
    assert (out / "ac_validation.png").stat().st_size > 10_000
    assert "AC validation     96/96 periods converge; " in stdout
    again = out.parent / "again"
    shutil.copytree(out, again)
    for f in again.glob("ac_*"):
        f.unlink()
    assert main(["validate", str(again)]) == 0
    rerun = pd.read_csv(again / "ac_summary.csv", index_col=0)
    pd.testing.assert_frame_equal(rerun, written)


def test_validate_without_saved_result_is_a_clear_error(tmp_path, capsys):
    assert main(["validate", str(tmp_path)]) == 2
    assert "no saved result" in capsys.readouterr().err


# --- the console (issue 18) -----------------------------------------------------------------
def _python(code, *args):
    """``python -c code ARGS`` in a fresh interpreter: (exit code, stdout, stderr)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=Path(__file__).parent)  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def _subprocess(*args):
    """``gridflex ARGS`` in a fresh interpreter (HiGHS prints its banner once per process)."""
    return _python("import sys; from gridflex.cli import main; sys.exit(main(sys.argv[1:]))", *args)


def test_run_prints_no_solver_banner_and_fits_the_console(tmp_path):
    code, stdout, stderr = _subprocess("run", "quickstart", "--out", str(tmp_path))
    assert code == 0, stderr
    assert "HiGHS" not in stdout + stderr and "Copyright" not in stdout + stderr
    assert max(len(line) for line in stdout.splitlines()) <= 100
    assert "AC validation     96/96 periods converge; " in stdout


def test_quiet_prints_nothing_but_errors(tmp_path):
    assert _subprocess("-q", "run", "quickstart", "--out", str(tmp_path)) == (0, "", "")
    code, stdout, stderr = _subprocess("run", "-q", "no_such_scenario")
    assert code == 2 and stdout == "" and "no scenario 'no_such_scenario'" in stderr


def test_help_and_version_load_no_numerical_library():
    code = ("import sys; from gridflex.cli import build_parser; build_parser(); "
            "import gridflex; print(gridflex.__version__, sorted(m for m in "
            "('cvxpy', 'pandapower', 'pandas', 'numpy') if m in sys.modules))")  # fmt: skip
    assert _python(code)[1].split(maxsplit=1) == ["0.1.0", "[]\n"]
    assert run_cli(["networks"])[0] == 0
    with pytest.raises(SystemExit):
        main(["--version"])


def test_a_misspelled_option_shows_its_commands_usage():
    code, _, stderr = _subprocess("run", "quickstart", "--no-valdate")
    assert code == 2 and stderr.startswith("usage: gridflex run")
    assert "unrecognized arguments: --no-valdate" in stderr


def test_every_command_help_has_an_example():
    for name in ("run", "networks", "scenarios", "validate"):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
            main([name, "--help"])
        assert f"example:\n  gridflex {name}" in out.getvalue()
        assert max(len(line) for line in out.getvalue().splitlines()) <= 100


def test_listings_fit_the_console():
    for command in ("networks", "scenarios"):
        code, stdout, _ = run_cli([command])
        assert code == 0 and max(len(line) for line in stdout.splitlines()) <= 100


def test_ac_verdict_in_words():
    from gridflex.console import ac_verdict

    figures = {"converged": 96, "periods": 96, "violations_by_kind": {"overload": 21},
               "periods_with_overload": 14, "max_loading_percent": 107.94,
               "vm_min_pu": 0.951, "vm_max_pu": 1.05}  # fmt: skip
    assert ac_verdict(figures) == (
        "96/96 periods converge; 21 overloads up to 107.9 % in 14 of 96 periods; "
        "voltages within limits (0.951-1.050 pu)"
    )
    figures["violations_by_kind"] = {"vm_below_min": 3}
    assert ac_verdict(figures).endswith("no overloads; 3 voltage violations (0.951-1.050 pu)")


def test_lazy_import_keeps_submodules_and_names_reachable():
    code = ("import gridflex as gf; from gridflex import Storage; "
            "print(gf.scenario.load_scenario.__name__, gf.plot.dispatch.__name__, "
            "gf.networks.ieee14.__name__, Storage.__name__, 'Model' in dir(gf))")  # fmt: skip
    assert _python(code)[1].split() == ["load_scenario", "dispatch", "ieee14", "Storage", "True"]
