"""Scenario format: validation errors name file, entry and key; the quickstart loads correctly."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gridflex as gf
from gridflex.scenario import (
    Quantity,
    find_scenario,
    list_scenarios,
    load_scenario,
    tomllib,  # the standard library's, or the tomli backport on Python 3.10
)

HEAD = """
[scenario]
name = "tiny"
network = "ieee14"
start = "2026-01-01 00:00"
periods = 4
freq = "1h"
load_scale = { csv = "profiles.csv", column = "load_scale", source = "test" }
"""

STORAGE = """
[[devices]]
type = "Storage"
name = "bess"
bus_number = [3, 9]
p_mw = { value = [10, 20], source = "test: assumed" }
e_mwh = { value = 40, source = "test: assumed" }
"""

PV = """
[[devices]]
type = "Renewable"
name = "pv"
bus = 4
profile = { csv = "profiles.csv", column = "pv", source = "test" }
capacity_mw = { value = 30, source = "test" }
"""


def write_scenario(folder, text=HEAD + STORAGE + PV, rows=4):
    """A scenario folder with ``text`` as scenario.toml and a profiles.csv of ``rows`` rows."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.toml").write_text(text)
    profiles = pd.DataFrame(
        {"load_scale": np.linspace(0.8, 1.0, rows), "pv": np.linspace(0.0, 0.5, rows)}
    )
    profiles.to_csv(folder / "profiles.csv", index=False)
    return folder


def load_error(tmp_path, text, rows=4):
    """The InputError message of loading a scenario with ``text``."""
    folder = write_scenario(tmp_path / "bad", text, rows)
    with pytest.raises(gf.InputError) as info:
        load_scenario(folder)
    return str(info.value)


# --- a small valid scenario ------------------------------------------------------------------
def test_tiny_scenario_parses_values_and_csv_columns(tmp_path):
    scenario = load_scenario(write_scenario(tmp_path / "tiny"))
    assert scenario.name == "tiny"
    assert len(scenario.periods) == 4 and scenario.periods[1] == pd.Timestamp("2026-01-01 01:00")
    np.testing.assert_allclose(scenario.load_scale.value, [0.8, 0.8 + 0.2 / 3, 0.8 + 0.4 / 3, 1])
    bess, pv = scenario.devices
    assert bess.cls is gf.Storage and pv.cls is gf.Renewable
    np.testing.assert_array_equal(bess.params["p_mw"].value, [10.0, 20.0])
    assert bess.params["e_mwh"].value == 40.0
    assert pv.params["profile"].origin == "profiles.csv[pv]"


def test_tiny_scenario_builds_devices_on_mapped_buses_and_solves(tmp_path):
    model = load_scenario(write_scenario(tmp_path / "tiny")).build_model()
    np.testing.assert_array_equal(model.device("bess").bus, [2, 8])  # bus_number - 1
    np.testing.assert_array_equal(model.device("pv").bus, [4])  # `bus` is a pandapower index
    result = model.solve()
    load = result.res_load["p_mw"].sum(axis=1).to_numpy()
    np.testing.assert_allclose(load, 259.0 * np.linspace(0.8, 1.0, 4))  # case14 load: 259 MW


def test_find_scenario_accepts_folder_file_and_builtin_name(tmp_path):
    folder = write_scenario(tmp_path / "tiny")
    assert find_scenario(folder) == folder
    assert find_scenario(folder / "scenario.toml") == folder
    assert find_scenario("quickstart").name == "quickstart"
    assert "quickstart" in list_scenarios()["name"].tolist()


def test_find_scenario_unknown_lists_builtins():
    with pytest.raises(gf.InputError, match=r"no scenario 'nowhere'.*built-in: .*quickstart"):
        find_scenario("nowhere")


# --- validation errors -----------------------------------------------------------------------
def test_unknown_device_key_names_file_entry_key_and_accepted_keys(tmp_path):
    text = HEAD + STORAGE.replace("e_mwh =", "e_mwhh =")
    msg = load_error(tmp_path, text)
    assert "scenario.toml" in msg
    assert "[[devices]] entry 1 (Storage 'bess')" in msg
    assert "key 'e_mwhh'" in msg
    assert "not a parameter of Storage" in msg
    assert "e_mwh" in msg.split("accepted:")[1] and "eta_charge" in msg


def test_unknown_scenario_key(tmp_path):
    msg = load_error(tmp_path, HEAD.replace('freq = "1h"', 'freq = "1h"\nhorizon = 3'))
    assert "[scenario], key 'horizon': unknown key; accepted keys: name, network" in msg


def test_plain_number_without_source_is_rejected(tmp_path):
    msg = load_error(
        tmp_path,
        HEAD + STORAGE.replace('e_mwh = { value = 40, source = "test: assumed" }', "e_mwh = 40"),
    )
    assert "entry 1 (Storage 'bess'), key 'e_mwh': needs a source" in msg
    assert 'e_mwh = { value = 40, source = "..." }' in msg


def test_value_without_source_field_is_rejected(tmp_path):
    msg = load_error(tmp_path, HEAD + STORAGE.replace(', source = "test: assumed" }', " }", 1))
    assert "key 'p_mw': missing source" in msg


def test_csv_value_without_source_is_rejected(tmp_path):
    text = HEAD.replace(', source = "test" }', " }") + STORAGE
    msg = load_error(tmp_path, text)
    assert "[scenario], key 'load_scale': missing source" in msg


def test_unknown_device_type_lists_registry(tmp_path):
    msg = load_error(tmp_path, HEAD + STORAGE.replace('type = "Storage"', 'type = "Battery"'))
    assert "key 'type': unknown device type 'Battery'; valid types:" in msg
    for name in ("ExternalGrid", "Generator", "Load", "Renewable", "Storage"):
        assert name in msg


def test_csv_length_differs_from_periods(tmp_path):
    msg = load_error(tmp_path, HEAD + STORAGE + PV, rows=5)
    assert "key 'load_scale'" in msg
    assert "profiles.csv has 5 rows; the scenario has 4 periods" in msg


def test_csv_column_missing_lists_columns(tmp_path):
    msg = load_error(tmp_path, HEAD + STORAGE + PV.replace('column = "pv"', 'column = "solar"'))
    assert "entry 2 (Renewable 'pv'), key 'profile'" in msg
    assert "column 'solar' is not in profiles.csv; its columns: load_scale, pv" in msg


def test_unknown_network_lists_valid_ones(tmp_path):
    msg = load_error(tmp_path, HEAD.replace('"ieee14"', '"ieee15"') + STORAGE)
    assert "[scenario], key 'network': unknown network 'ieee15'" in msg
    assert "valid networks: ieee14, ieee24, ieee33, ieee118" in msg


def test_unknown_network_option(tmp_path):
    extra = 'network_options = { rating = "pglib", source = "test" }\n'
    msg = load_error(tmp_path, HEAD.replace("start =", extra + "start =") + STORAGE)
    assert "'rating' is not an option of network 'ieee14'; accepted: ratings" in msg


def test_missing_required_device_parameter(tmp_path):
    text = HEAD + STORAGE.replace('e_mwh = { value = 40, source = "test: assumed" }\n', "")
    msg = load_error(tmp_path, text)
    assert "(Storage 'bess'), key 'e_mwh': missing (required by the device)" in msg


def test_bus_and_bus_number_together_rejected(tmp_path):
    msg = load_error(
        tmp_path, HEAD + STORAGE.replace("bus_number = [3, 9]", "bus_number = 3\nbus = 2")
    )
    assert "give exactly one of 'bus_number' (1-based) or 'bus'" in msg


def test_bus_number_outside_network_names_entry(tmp_path):
    folder = write_scenario(tmp_path / "bad", HEAD + STORAGE.replace("[3, 9]", "[3, 15]"))
    scenario = load_scenario(folder)
    with pytest.raises(gf.InputError, match=r"entry 1 \(Storage 'bess'\).*bus number \[15\]"):
        scenario.build_model()


def test_duplicate_device_names_rejected(tmp_path):
    msg = load_error(tmp_path, HEAD + STORAGE + STORAGE)
    assert "two [[devices]] entries are named 'bess'" in msg


def test_invalid_toml_names_file(tmp_path):
    msg = load_error(tmp_path, HEAD + "[[devices]\n")
    assert "scenario.toml: not valid TOML" in msg


def test_csv_time_column_must_match_periods(tmp_path):
    folder = write_scenario(tmp_path / "bad")
    frame = pd.read_csv(folder / "profiles.csv")
    frame.insert(0, "time", pd.date_range("2026-01-01", periods=4, freq="2h").astype(str))
    frame.to_csv(folder / "profiles.csv", index=False)
    with pytest.raises(gf.InputError, match=r"profiles.csv row 2: time .* is not period"):
        load_scenario(folder)


# --- the built-in quickstart -----------------------------------------------------------------
@pytest.fixture(scope="module")
def quickstart():
    return load_scenario("quickstart")


@pytest.fixture(scope="module")
def quickstart_raw(quickstart):
    return tomllib.loads(quickstart.file.read_text())


def test_quickstart_definition(quickstart):
    assert quickstart.network == "ieee118"
    assert quickstart.network_options == {"ratings": "pglib", "costs": "pglib"}
    assert len(quickstart.periods) == 96 and quickstart.periods.freq == "15min"
    assert quickstart.periods[0] == pd.Timestamp("2026-07-01 00:00")
    scale = quickstart.load_scale.value
    assert scale.shape == (96,) and scale.max() == pytest.approx(1.0) and scale.min() > 0.6
    assert [d.type for d in quickstart.devices] == ["Storage", "Renewable", "Renewable"]
    assert quickstart.devices[1].params["profile"].value.shape == (3, 96)
    assert quickstart.devices[2].params["profile"].value.shape == (4, 96)


def test_quickstart_devices_sit_on_bus_number_minus_one(quickstart, quickstart_raw):
    model = quickstart.build_model()
    for entry in quickstart_raw["devices"]:
        numbers = np.asarray(entry["bus_number"]["value"])
        device = model.device(entry["name"])
        np.testing.assert_array_equal(device.bus, numbers - 1)
        names = model.net.bus.name.loc[device.bus].astype(int).to_numpy()
        np.testing.assert_array_equal(names, numbers)  # the net's own bus names agree


def test_quickstart_sources_list_every_parameter(quickstart, quickstart_raw):
    sources = quickstart.sources()
    assert (sources["source"].str.strip().str.len() > 0).all()
    listed = set(zip(sources["entry"], sources["parameter"], strict=True))
    for entry in quickstart_raw["devices"]:
        for key in set(entry) - {"type", "name"}:
            assert (entry["name"], key) in listed
    assert ("scenario", "load_scale") in listed and ("scenario", "network") in listed
    network = sources.set_index("parameter").loc["network", "source"]
    assert "PGLib" in network


def test_quantity_describe_short_and_long():
    assert Quantity([50.0, 50.0], "x").describe() == "[50.0, 50.0]"
    text = Quantity(np.arange(96.0), "x", "p.csv[a]").describe()
    assert text == "p.csv[a]: (96,) in [0, 95], mean 47.5"


def test_missing_device_type_lists_registry(tmp_path):
    msg = load_error(tmp_path, HEAD + STORAGE.replace('type = "Storage"\n', ""))
    assert "entry 1 (None 'bess'), key 'type': missing (required); valid types:" in msg


def test_bad_time_axis(tmp_path):
    msg = load_error(tmp_path, HEAD.replace('"2026-01-01 00:00"', '"first of May"') + STORAGE)
    assert "[scenario], key 'start/freq': cannot build the time axis" in msg
    msg = load_error(tmp_path, HEAD.replace("periods = 4", "periods = 0") + STORAGE)
    assert "key 'periods': must be a positive integer, got 0" in msg


def test_bad_values_are_refused_at_load_naming_file_entry_and_key(tmp_path):
    # the declarations check every value when the file is read, CSV profiles included
    msg = load_error(tmp_path, HEAD + STORAGE.replace("value = 40,", "value = 1e30,"))
    assert "scenario.toml" in msg and "key 'e_mwh'" in msg and "1e+30" in msg
    msg = load_error(tmp_path, HEAD + STORAGE.replace("value = [10, 20]", "value = [true, 20]"))
    assert "key 'p_mw'" in msg and "True/False are not numbers" in msg
    folder = write_scenario(tmp_path / "neg", HEAD + STORAGE + PV)
    profiles = pd.read_csv(folder / "profiles.csv")
    profiles.loc[2, "pv"] = -0.5
    profiles.to_csv(folder / "profiles.csv", index=False)
    with pytest.raises(gf.InputError) as info:
        load_scenario(folder)
    assert "key 'profile'" in str(info.value) and "period 2" in str(info.value)
