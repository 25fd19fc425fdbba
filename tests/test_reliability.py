"""Careless and hostile inputs (issue 22), each refused with a message that names what is wrong
before any solve; and inputs that must be read right (timestamps as strings, time zones)."""

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandas as pd
import pytest

import gridflex as gf
from gridflex.errors import InputError
from gridflex.profiles import time_axis


def model(**kw):
    return gf.Model(pn.case9(), **kw)


def bad_line(column, value):
    def build():
        net = pn.case9()
        net.line.loc[2, column] = value
        return gf.Model(net)

    return build


def two_loads(columns, labels=("a", "b")):
    """A model with two loads named ``labels`` whose profile has ``columns``."""
    net = pp.create_empty_network()
    pp.create_bus(net, 20.0)
    m = gf.Model(net, periods=2, net_elements=False)
    m.add(gf.ExternalGrid(0, [[10.0, 10.0]], name="grid"))
    profile = pd.DataFrame({c: [1.0 + k, 1.0 + k] for k, c in enumerate(columns)}, index=m.periods)
    m.add(gf.Load([0, 0], profile, unit_labels=list(labels), name="loads"))
    return m


def dc_set(name="dc"):
    return gf.DataCenter([0, 1, 2], baseline_mw=[0.0, 0.0, 90.0], beta_down_mw=[0.0, 0.0, 60.0],
                         beta_up_mw=[60.0, 60.0, 0.0], eta=[1.0, 1.0, 1.0], name=name)  # fmt: skip


def three_bus_with(*devices):
    net = pp.create_empty_network()
    pp.create_buses(net, 3, 110.0)
    for a, b in ((0, 1), (1, 2), (0, 2)):
        pp.create_line_from_parameters(net, a, b, 1.0, 0.01, 0.1, 0.0, max_i_ka=1.0)
    pp.create_ext_grid(net, 0)
    m = gf.Model(net, net_elements=False)
    m.add(gf.Generator(0, 500.0, cost_per_mwh=10.0, name="cheap"))
    for device in devices:
        m.add(device)
    return m


def set_in_model_and_aggregate():
    dc = dc_set()
    return three_bus_with(dc, gf.AggregatedFlex(sets=[dc], name="vpp")).build()


def set_in_two_aggregates():
    dc = dc_set()
    vpp1, vpp2 = gf.AggregatedFlex(sets=[dc], name="vpp1"), gf.AggregatedFlex(sets=[dc], name="v2")
    return three_bus_with(vpp1, vpp2).build()


def renamed_after_add():
    a, b = gf.Load(1, 1.0, name="a"), gf.Load(2, 1.0, name="b")
    m = three_bus_with(a, b)
    b.name = "a"
    return m.build()


def one_bus_with(*devices, periods=2):
    net = pp.create_empty_network()
    pp.create_bus(net, 20.0)
    m = gf.Model(net, periods=periods, net_elements=False)
    m.add(gf.ExternalGrid(0, 10.0, name="grid"))
    for device in devices:
        m.add(device)
    return m.build()


def spinning(asked, *providers):
    return lambda: one_bus_with(*providers, gf.Requirement("spinning", asked, name="spin"))


def storage(**energies):
    return lambda: one_bus_with(gf.Storage(0, p_mw=1.0, e_mwh=2.0, name="bess", **energies))


def island_load():
    net = pn.case9()
    net.line.loc[(net.line.from_bus == 8) | (net.line.to_bus == 8), "in_service"] = False
    m = gf.Model(net, net_elements=False)
    m.add(gf.Generator(0, 500.0, name="g"))
    m.add(gf.Load(8, 5.0, name="lonely"))
    return m.build()


def device_on_a_bus_out_of_service():
    net = pn.case9()
    net.bus.loc[4, "in_service"] = False
    m = gf.Model(net, net_elements=False)
    m.add(gf.Load(4, 1.0, name="x"))
    return m.build()


CATALOGUE = {  # name: (what builds it, the message's key part)
    "a requirement above what its providers can ever hold": (
        spinning(80.0, gf.Generator(0, 50.0, offers={"spinning": 1.0}, name="unit")),
        "80 MW of 'spinning' asked in period 0 (2 period(s) in all), but its providers can hold "
        "at most 50 MW (unit 50)",
    ),
    "a requirement no device provides": (
        spinning(5.0),
        "no device in the model provides 'spinning'",
    ),
    "a storage end state above its capacity": (
        storage(e_final_mwh=3.0),
        "Storage 'bess': 'e_final_mwh' (3.0) is above 'e_mwh' (2.0) for unit 0",
    ),
    "a storage initial state above its capacity": (
        storage(e_initial_mwh=2.5),
        "'e_initial_mwh' (2.5) is above 'e_mwh' (2.0)",
    ),
    "a load on an island with no supply": (
        island_load,
        "Load 'lonely': unit lonely at bus 8 is on an island (buses 8) with no slack",
    ),
    "DistFlow on a meshed network": (
        lambda: gf.Model(pn.case9(), formulation=gf.LinDistFlow()).build(),
        "DistFlow needs a radial network, but the in-service branches form a loop",
    ),
    "a device on a bus out of service": (
        device_on_a_bus_out_of_service,
        "Load 'x': bus [4] is out of service in the net",
    ),
    "a set both in the model and aggregated": (
        set_in_model_and_aggregate,
        "is in the model and inside an AggregatedFlex",
    ),
    "a set listed twice in one aggregate": (
        lambda: gf.AggregatedFlex(sets=[dc_set(), dc_set()][:1] * 2, name="vpp"),
        "lists one set twice",
    ),
    "a set inside two aggregates": (set_in_two_aggregates, "is inside both"),
    "two devices with one name": (renamed_after_add, "two devices are named 'a'"),
    "profile columns partly named like units": (
        lambda: two_loads(["a", "c"]).build(),
        "profile 'p_mw' has columns named like units, but not exactly one per unit: ['c']",
    ),
    "profile columns naming a unit twice": (
        lambda: two_loads(["a", "a2"], labels=("a", "a2x")).build(),
        "not exactly one per unit",
    ),
    "periods given as True": (lambda: model(periods=True), "got True"),
    "periods as booleans": (lambda: model(periods=[True, False]), "not booleans"),
    "duplicate period labels": (lambda: model(periods=[0, 0, 1]), "0 appears twice"),
    "duplicate timestamps": (
        lambda: model(periods=pd.DatetimeIndex(["2026-01-01", "2026-01-01"])),
        "appears twice",
    ),
    "zero periods": (lambda: model(periods=0), "periods must be >= 1"),
    "empty periods": (lambda: model(periods=[]), "periods is empty"),
    "dt_h = 0": (lambda: model(periods=3, dt_h=0), "dt_h must be a positive number of hours"),
    "negative dt_h": (lambda: model(periods=3, dt_h=-1), "got -1"),
    "NaN dt_h": (lambda: model(periods=3, dt_h=float("nan")), "got nan"),
    "dt_h as text": (lambda: model(periods=3, dt_h="0.25"), "dt_h must be a number of hours"),
    "dt_h as a bool": (lambda: model(periods=3, dt_h=True), "dt_h must be a number of hours"),
    "dt_h against 15-minute strings": (
        lambda: model(periods=["2026-07-01 00:00", "2026-07-01 00:15"], dt_h=1.0),
        "disagrees with the periods' spacing of 0.25 h",
    ),
    "uneven string timestamps": (
        lambda: model(periods=["2026-07-01 00:00", "2026-07-01 00:15", "2026-07-01 01:00"]),
        "evenly spaced",
    ),
    "decreasing timestamps": (
        lambda: model(periods=["2026-07-01 01:00", "2026-07-01 00:00"]),
        "increasing",
    ),
    "negative load scale": (
        lambda: model(periods=2, load_scale=[1, -1]),
        "load_scale must be >= 0 (a load never produces), got -1.0 in period 1",
    ),
    "load scale of the wrong length": (
        lambda: model(periods=2, load_scale=[1, 1, 1]),
        "load_scale",
    ),
    "negative line length": (bad_line("length_km", -1.0), "net.line 2 (4-5) has a length <= 0"),
    "zero line length": (bad_line("length_km", 0.0), "length_km = 0.0"),
    "negative line resistance": (bad_line("r_ohm_per_km", -0.1), "a negative resistance"),
}


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_bad_input_is_refused_by_name(name):
    build, message = CATALOGUE[name]
    with pytest.raises(InputError, match=None) as caught:
        build()
    assert message in str(caught.value), str(caught.value)


# --- inputs that must be read right -------------------------------------------------------------
def test_15_minute_timestamps_as_strings_give_quarter_hours():
    index, dt_h = time_axis(["2026-07-01 00:00", "2026-07-01 00:15", "2026-07-01 00:30"])
    assert isinstance(index, pd.DatetimeIndex) and dt_h == 0.25


def test_mixed_time_zones_15_minutes_apart_give_quarter_hours_in_utc():
    stamps = [pd.Timestamp("2026-03-29 00:00", tz="Europe/Berlin"),
              pd.Timestamp("2026-03-28 23:15", tz="UTC")]  # fmt: skip
    index, dt_h = time_axis(stamps)
    assert dt_h == 0.25 and str(index.tz) == "UTC"


def test_a_dst_change_keeps_the_real_period_length():
    # 02:00 -> 03:00 on 2026-03-29 in Berlin: half-hour stamps stay 0.5 h apart in real time
    index = pd.date_range("2026-03-29 00:00", periods=8, freq="30min", tz="Europe/Berlin")
    assert time_axis(index)[1] == 0.5


@pytest.mark.parametrize("labels", [["1", "2", "3"], ["2026", "2027"], ["peak", "night"]])
def test_labels_that_are_not_dates_stay_labels_of_one_hour(labels):
    index, dt_h = time_axis(labels)
    assert list(index) == labels and dt_h == 1.0


def test_a_negative_reactance_stays_allowed_for_series_capacitors():
    # line 2 (4-5) with x = -0.1 of its own: its DC susceptance is 1 / x (per unit on 100 MVA)
    net = pn.case9()
    net.line.loc[2, "x_ohm_per_km"] = -0.1 * abs(net.line.x_ohm_per_km[2])
    grid = gf.Grid(net)  # no error
    x_pu = net.line.x_ohm_per_km[2] * net.line.length_km[2] / (345.0**2 / net.sn_mva)
    assert grid.susceptance_mw_per_rad()[2] == pytest.approx(net.sn_mva / x_pu, rel=1e-9)


def test_a_model_on_string_timestamps_solves_with_quarter_hour_energy():
    net = pp.create_empty_network()
    pp.create_bus(net, 20.0)
    m = gf.Model(net, periods=["2026-07-01 00:00", "2026-07-01 00:15"], net_elements=False)
    m.add(gf.Generator(bus=0, p_max_mw=10, cost_per_mwh=100.0, name="unit"))
    m.add(gf.Load(0, 4.0, name="demand"))
    assert m.solve().objective == pytest.approx(2 * 4.0 * 0.25 * 100.0)


# --- the command line: one line, exit code 2, the file, key or value named ----------------------
def quickstart_copy(folder):
    from gridflex.scenario import load_scenario

    source = load_scenario("quickstart")
    folder.mkdir()
    (folder / "scenario.toml").write_bytes(source.file.read_bytes())
    (folder / "profiles.csv").write_bytes((source.path / "profiles.csv").read_bytes())
    return folder


def edit(name, old, new, count=1):
    def apply(folder):
        path = folder / name
        text = path.read_bytes()
        assert old in text, (name, old)
        path.write_bytes(text.replace(old, new, count))

    return apply


def bad_cell(folder):
    path = folder / "profiles.csv"
    lines = path.read_text().splitlines()
    cells = lines[3].split(",")
    cells[1] = "abc"
    lines[3] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


CLI_CATALOGUE = {  # name: (edit of a copy of quickstart, part of the one-line message)
    "non-numeric CSV cell": (bad_cell, "profiles.csv row 3, column"),
    "non-UTF-8 scenario.toml": (edit("scenario.toml", b"#", b"# \xff", 1), "not UTF-8 text"),
    "invalid TOML": (edit("scenario.toml", b"[scenario]", b"[scenario"), "not valid TOML"),
    "misspelled device type": (
        edit("scenario.toml", b'type = "Storage"', b'type = "Storag"'),
        "unknown device type 'Storag' (did you mean 'Storage'?)",
    ),
    "misspelled network": (
        edit("scenario.toml", b'network = "ieee118"', b'network = "ieee181"'),
        "unknown network 'ieee181' (did you mean 'ieee118'?)",
    ),
    "misspelled formulation": (
        edit("scenario.toml", b'formulation = "DC"', b'formulation = "dc"'),
        "unknown formulation 'dc' (did you mean 'DC'?)",
    ),
    "misspelled key": (
        edit("scenario.toml", b"[scenario]\n", b"[scenario]\ndescripton = 'x'\n"),
        "unknown key (did you mean 'description'?)",
    ),
    "missing CSV file": (lambda f: (f / "profiles.csv").unlink(), "profiles.csv does not exist"),
    "CSV with a row missing": (
        lambda f: (f / "profiles.csv").write_text(
            "\n".join((f / "profiles.csv").read_text().splitlines()[:-1]) + "\n"
        ),
        "profiles.csv has 95 rows; the scenario has 96 periods",
    ),
}


@pytest.mark.parametrize("name", list(CLI_CATALOGUE))
def test_a_bad_scenario_folder_is_one_line_with_exit_code_2(name, tmp_path, capsys):
    from gridflex.cli import main

    mutate, message = CLI_CATALOGUE[name]
    folder = quickstart_copy(tmp_path / "scenario")
    mutate(folder)
    code = main(["run", str(folder), "--out", str(tmp_path / "out"), "--no-validate"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith("gridflex run: error: ") and message in err, err
    assert not (tmp_path / "out").exists()  # nothing written


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "quikstart"], "no scenario 'quikstart' (did you mean 'quickstart'?)"),
        (["validate", "."], "no saved result in ."),
        (["plot", "."], "no saved result in ."),
    ],
)
def test_a_misnamed_scenario_or_an_empty_result_folder_is_one_line(args, message, capsys):
    from gridflex.cli import main

    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and message in err, err


def test_profile_columns_named_like_the_units_are_matched_by_name():
    # columns "b", "a" for units "a", "b": unit a gets the second column (2 MW), b the first
    result = two_loads(["b", "a"]).solve()
    np.testing.assert_allclose(result.tables["res_load"]["p_mw"][["a", "b"]], [[2, 1], [2, 1]])
    # columns named otherwise are taken by position
    result = two_loads(["first", "second"]).solve()
    np.testing.assert_allclose(result.tables["res_load"]["p_mw"][["a", "b"]], [[1, 2], [1, 2]])
