"""Result folders (issue 22): result/ (Parquet tables, a JSON manifest) loads back exactly and
never runs code; gridflex run writes a result folder whole or not at all."""

import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pandapower.networks as pn
import pandas as pd
import pytest

import gridflex as gf
from gridflex.cli import main
from gridflex.errors import InputError
from gridflex.results import Results


@pytest.fixture(scope="module")
def result():
    """case9 over four quarter-hours with a battery: tables with timestamps, ints and labels."""
    periods = pd.date_range("2026-07-01 00:00", periods=4, freq="15min", tz="Europe/Berlin")
    model = gf.Model(pn.case9(), periods=periods, load_scale=[0.8, 1.0, 1.1, 0.9])
    model.add(gf.Storage(bus=4, p_mw=20.0, e_mwh=10.0, name="bess"))
    return model.solve()


def test_save_and_load_give_every_table_back_exactly(result, tmp_path):
    path = result.save(tmp_path)
    assert path == tmp_path / "result" and not list(tmp_path.rglob("*.pkl"))
    assert {p.name for p in tmp_path.iterdir()} == {"result"}  # no staging folder left
    back = Results.load(tmp_path)
    assert set(back.tables) == set(result.tables)
    for name, table in result.tables.items():
        pd.testing.assert_frame_equal(back.tables[name], table, check_exact=True)
    pd.testing.assert_frame_equal(back.costs, result.costs, check_exact=True)
    pd.testing.assert_index_equal(back.periods, result.periods, exact=True)
    assert back.objective == result.objective and back.dt_h == result.dt_h == 0.25
    np.testing.assert_array_equal(back.occurrences, result.occurrences)
    for a, b in zip(result.injections, back.injections, strict=True):
        assert (a.device, a.net_table, list(a.unit_labels)) == (b.device, b.net_table,
                                                                list(b.unit_labels))  # fmt: skip
        np.testing.assert_array_equal(a.p_mw, b.p_mw)
    # the AC validation of the loaded result is the original's, to the bit
    pd.testing.assert_frame_equal(back.validate_ac().summary, result.validate_ac().summary,
                                  check_exact=True)  # fmt: skip


def test_the_tables_are_plain_parquet_and_the_nets_plain_pandapower_json(result, tmp_path):
    import pandapower as pp

    folder = result.save(tmp_path)
    gen = pd.read_parquet(folder / "tables" / "res_gen.parquet")  # any Parquet reader
    assert list(gen.columns[:2]) == ["p_mw/0", "p_mw/1"]
    np.testing.assert_array_equal(gen["p_mw/0"], result.res_gen["p_mw"][0])
    assert gen.index.equals(result.periods)
    (name,) = result.nets
    net = pp.from_json(str(folder / "nets" / f"{name}.json"))  # for the user's own pandapower
    assert len(net.bus) == 9 and len(net.line) == 9


def test_save_replaces_an_earlier_result_whole(result, tmp_path):
    (tmp_path / "result" / "tables").mkdir(parents=True)
    (tmp_path / "result" / "tables" / "res_stale.parquet").write_text("from an earlier save")
    result.save(tmp_path)
    assert not (tmp_path / "result" / "tables" / "res_stale.parquet").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result"]


def test_a_pickled_result_is_never_loaded(tmp_path):
    # a crafted result.pkl that would create a folder when unpickled
    target = tmp_path / "created_by_the_pickle"
    payload = type("Payload", (), {"__reduce__": lambda self: (__import__("os").mkdir,
                                                               (str(target),))})  # fmt: skip
    (tmp_path / "result.pkl").write_bytes(pickle.dumps(payload()))
    with pytest.raises(InputError, match="old pickled result, which gridflex no longer loads"):
        Results.load(tmp_path)
    assert main(["validate", str(tmp_path)]) == 2
    assert not target.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"format": "gridflex-result", "vers', "not a readable gridflex result file"),
        ('{"_module": "os", "_class": "system", "args": ["mkdir x"]}', "no format tag"),
        ('{"format": "gridflex-result", "version": 99}', "format version 99"),
        ('{"format": "gridflex-result", "version": 1}', "format version 1"),
        (b"\xff\xfe not text", "not a readable gridflex result file"),
        ("[1, 2, 3]", "no format tag"),
    ],
)
def test_a_crafted_or_broken_result_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "result" / "manifest.json"
    path.parent.mkdir()
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputError, match=message):
        Results.load(tmp_path)


def test_a_crafted_dtype_or_table_is_refused(result, tmp_path):
    path = result.save(tmp_path) / "manifest.json"
    doc = json.loads(path.read_text())
    doc["costs"]["dtypes"][0] = "__import__('os').system"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="is not one gridflex writes"):
        Results.load(tmp_path)


@pytest.mark.parametrize("file", ["../../outside.parquet", "/etc/passwd", "costs.json"])
def test_a_manifest_naming_a_file_outside_its_folder_is_refused(result, tmp_path, file):
    path = result.save(tmp_path) / "manifest.json"
    doc = json.loads(path.read_text())
    doc["costs"]["file"] = file
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="is not a Parquet file inside"):
        Results.load(tmp_path)


def test_a_broken_parquet_table_or_an_older_format_is_a_clear_error(result, tmp_path):
    folder = result.save(tmp_path / "a")
    (folder / "tables" / "res_gen.parquet").write_bytes(b"PAR1 truncated")
    with pytest.raises(InputError, match=r"res_gen\.parquet: not a readable Parquet table"):
        Results.load(tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "result.json").write_text("{}")
    with pytest.raises(InputError, match=r"result\.json is an older gridflex result format"):
        Results.load(tmp_path / "b")


# --- gridflex run: whole or nothing -------------------------------------------------------------
STUDY = """
import os
from pathlib import Path


def run(scenario, out_dir):
    out = Path(out_dir)
    (out / "marker.txt").write_text(os.environ.get("GF_MARK", "first"))
    if os.environ.get("GF_DIE"):
        (out / "half.csv").write_text("1,2")
        os._exit(3)  # killed mid-write: nothing after this runs
    if os.environ.get("GF_WAIT"):
        (out / "waiting").write_text("")
        import time

        time.sleep(60)  # stopped by SIGTERM meanwhile
    if os.environ.get("GF_EXTRA"):
        (out / "res_storage.csv").write_text("from an earlier run")
    return {"n": 1}
"""


def scenario_folder(tmp_path):
    from gridflex.scenario import load_scenario

    source = load_scenario("quickstart")
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "scenario.toml").write_text(source.file.read_text())
    (folder / "profiles.csv").write_bytes((source.path / "profiles.csv").read_bytes())
    (folder / "study.py").write_text(STUDY)
    return folder


def run_cli(args, **env):
    import os

    done = subprocess.run([sys.executable, "-m", "gridflex.cli", *args], capture_output=True,
                          text=True, env=os.environ | env, cwd="/")  # fmt: skip
    return done.returncode, done.stderr


def test_a_killed_run_leaves_the_previous_result_and_no_partial_folder(tmp_path):
    folder, out = scenario_folder(tmp_path), tmp_path / "results" / "study"
    assert run_cli(["run", str(folder), "--out", str(out)], GF_EXTRA="1")[0] == 0
    before = {p.name: p.read_text() for p in out.iterdir()}
    code, _ = run_cli(["run", str(folder), "--out", str(out)], GF_DIE="1", GF_MARK="second")
    assert code == 3
    assert {p.name: p.read_text() for p in out.iterdir()} == before  # untouched
    assert sorted(p.name for p in out.parent.iterdir() if not p.name.startswith(".")) == ["study"]
    # the next run replaces the folder whole: no file of the earlier run survives
    assert run_cli(["run", str(folder), "--out", str(out)], GF_MARK="third")[0] == 0
    assert (out / "marker.txt").read_text() == "third"
    assert not (out / "res_storage.csv").exists() and not (out / "half.csv").exists()
    assert [p.name for p in out.parent.iterdir()] == ["study"]  # the stale staging is gone


def test_a_run_stopped_by_sigterm_removes_its_staging_folder(tmp_path):
    import os
    import signal
    import time

    folder, out = scenario_folder(tmp_path), tmp_path / "results" / "study"
    assert run_cli(["run", str(folder), "--out", str(out)])[0] == 0
    live = out.parent / f".study.partial-{os.getpid()}"  # a live run's staging: left alone
    live.mkdir()
    running = subprocess.Popen([sys.executable, "-m", "gridflex.cli", "run", str(folder),
                                "--out", str(out)], env=os.environ | {"GF_WAIT": "1"},
                               stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while not list(out.parent.glob(".study.partial-*/waiting")):
        assert running.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    running.send_signal(signal.SIGTERM)
    assert running.wait(timeout=60) == 128 + signal.SIGTERM
    assert sorted(p.name for p in out.parent.iterdir()) == [live.name, "study"]
    assert (out / "marker.txt").read_text() == "first"  # the previous result, untouched


def test_an_unusable_out_is_refused_before_the_solve(tmp_path):
    folder = scenario_folder(tmp_path)
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    code, stderr = run_cli(["run", str(folder), "--out", str(blocker)])
    assert code == 2 and "is a file, not a folder" in stderr and len(stderr.splitlines()) == 1
    code, stderr = run_cli(["run", str(folder), "--out", str(blocker / "below")])
    assert code == 2 and "cannot create its parent folder" in stderr


# --- review findings: names, clocks, crafted folders, nets ------------------------------------
def test_network_names_that_clash_as_file_names_keep_their_own_tables(tmp_path):
    names = ["main", "east 1", "east_1"]
    scales = [0.5, 0.7, 1.0]
    networks = [gf.Network(pn.case9(), n, load_scale=s) for n, s in zip(names, scales, strict=True)]
    model = gf.Model(networks, periods=2)
    model.add(gf.Boundary("main", 4, "east 1", 4, name="t1", p_min_mw=0, p_max_mw=0))
    model.add(gf.Boundary("main", 6, "east_1", 4, name="t2", p_min_mw=0, p_max_mw=0))
    result = model.solve()
    back = Results.load(result.save(tmp_path).parent)
    for name in names:
        pd.testing.assert_frame_equal(back.network(name).res_gen, result.network(name).res_gen,
                                      check_exact=True)  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "result" / "nets").iterdir()) == [
        "east_1-2.json", "east_1.json", "main.json"]  # fmt: skip


def test_periods_across_a_clock_change_load_back_exactly(tmp_path):
    periods = pd.date_range("2026-03-29 00:00", periods=4, freq="h", tz="Europe/Berlin")
    result = gf.Model(pn.case9(), periods=periods).solve()
    back = Results.load(result.save(tmp_path).parent)
    pd.testing.assert_index_equal(back.periods, result.periods, exact=True)
    assert back.periods.freqstr == "h" and str(back.periods.tz) == "Europe/Berlin"


def test_the_manifest_is_strict_json_and_nets_with_piecewise_costs_save(tmp_path):
    import pandapower as pp

    net = pp.create_empty_network()
    pp.create_buses(net, 2, 20.0)
    pp.create_line_from_parameters(net, 0, 1, 1.0, 0.1, 0.3, 0.0, 1.0)
    pp.create_ext_grid(net, 0)
    unit = pp.create_sgen(net, 1, p_mw=0.0, max_p_mw=40.0, controllable=True)
    pp.create_load(net, 1, p_mw=30.0)
    pp.create_pwl_cost(net, unit, "sgen", [[0, 10, 5], [10, 40, 50]])
    result = gf.Model(net, periods=1).solve()
    folder = result.save(tmp_path)

    def refuse(name):
        raise AssertionError(f"not strict JSON: {name}")

    json.loads((folder / "manifest.json").read_text(), parse_constant=refuse)
    back = Results.load(tmp_path)
    assert back.nets[next(iter(back.nets))].pwl_cost.points.iloc[0] == [[0, 10, 5], [10, 40, 50]]


def test_a_directory_named_parquet_with_a_link_outside_is_not_read(result, tmp_path):
    import os

    secret = tmp_path / "private" / "salaries.parquet"
    secret.parent.mkdir()
    result.costs.to_parquet(secret)
    folder = result.save(tmp_path / "crafted")
    (folder / "costs.parquet").unlink()
    (folder / "costs.parquet").mkdir()
    os.symlink(secret, folder / "costs.parquet" / "part-0.parquet")
    with pytest.raises(InputError, match="is not a Parquet file inside"):
        Results.load(tmp_path / "crafted")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["periods"].__setitem__("tz", "dateutil//etc/passwd"),
         "time zone 'dateutil//etc/passwd' is not an IANA name"),
        (lambda d: d["costs"]["dtypes"].__setitem__(0, "datetime64[ns, dateutil//etc/passwd]"),
         "is not one gridflex writes"),
        (lambda d: d["costs"].pop("columns"), r"a broken result manifest \(KeyError: 'columns'\)"),
        (lambda d: d["costs"]["dtypes"].__setitem__(0, "Int64"), "a broken result manifest"),
        (lambda d: d.__setitem__("tables", [1]), "a broken result manifest"),
        (lambda d: d["costs"].__setitem__("json_columns", {"x": [1]}), "a broken result manifest"),
    ],
)  # fmt: skip
def test_a_crafted_manifest_is_always_an_input_error(result, tmp_path, mutate, message):
    path = result.save(tmp_path) / "manifest.json"
    doc = json.loads(path.read_text())
    mutate(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=message):
        Results.load(tmp_path)


def test_a_previous_folder_left_aside_by_a_run_killed_inside_publish_is_put_back(tmp_path):
    from gridflex import output

    out = tmp_path / "study"
    out.mkdir()
    (out / "marker.txt").write_text("previous")
    dead = 2**22 + 12345  # above the usual pid_max: no such process
    os.replace(out, tmp_path / f".study.old-{dead}")  # killed between the two renames
    (tmp_path / f".study.partial-{dead}").mkdir()
    staging = output.staging_folder(out)
    assert (out / "marker.txt").read_text() == "previous"  # put back before anything else
    assert sorted(p.name for p in tmp_path.iterdir()) == [staging.name, "study"]
    output.discard(staging)
