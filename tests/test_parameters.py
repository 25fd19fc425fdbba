"""Declared parameters: a catalogue of bad values for every device class, each message asserted.

Every declared parameter of every device class gets the values a careless or hostile input
brings (booleans, strings, None, complex, NaN, infinities, values outside the range); each must
be refused at once with a message naming the device, the parameter (with its unit) and the
value. The docs tables must be the declarations.
"""

import math
import operator
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gridflex as gf
from gridflex.devices.base import Device
from gridflex.parameters import (
    Buses,
    Choice,
    Flag,
    Integer,
    Number,
    Shape,
    Text,
    declared_parameters,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "devices"


def _dc():
    return gf.DataCenter([0, 1], 1.0, 0.5, 0.5, name="dc")


HEAT, HEAT_2 = gf.Node("heat", gf.carriers.HEAT), gf.Node("heat_2", gf.carriers.HEAT)
GAS, COOL = gf.Node("gas", gf.carriers.GAS), gf.Node("cool", gf.carriers.COOLING)


VALID = {  # the smallest valid arguments of each class
    "FastChargingBattery": dict(
        bus=1, fast_charging_mw=0.5, mode="G2S", units=2, unit_p_max_mw=1.0, e_mwh=2.0
    ),
    "Storage": dict(bus=1, p_mw=1.0, e_mwh=2.0),
    "Renewable": dict(bus=1, profile=0.5, capacity_mw=10.0),
    "Load": dict(bus=1, p_mw=1.0),
    "Generator": dict(bus=1, p_max_mw=10.0),
    "ExternalGrid": dict(bus=0),
    "EVParkingLot": dict(
        bus=1,
        ev_count=[10, 10],
        capacity_mwh=[1, 1],
        arrival_energy_mwh=[0, 0],
        departure_energy_mwh=[0, 0],
    ),
    "SpatialFlexSet": dict(bus=[0, 1], baseline_mw=1.0, beta_down_mw=0.5, beta_up_mw=0.5),
    "DataCenter": dict(bus=[0, 1], baseline_mw=1.0, beta_down_mw=0.5, beta_up_mw=0.5),
    "FastChargingStation": dict(bus=[0, 1], baseline_mw=1.0, beta_down_mw=0.5, beta_up_mw=0.5),
    "AggregatedFlex": dict(sets=None),  # filled per test (a fresh set)
    "Boundary": dict(from_network="T", from_bus=0, to_network="D", to_bus=0),
    "Converter": dict(input=GAS, output=HEAT),
    "GasBoiler": dict(gas=GAS, heat=HEAT),
    "ElectricBoiler": dict(bus=1, heat=HEAT),
    "HeatPump": dict(bus=1, heat=HEAT),
    "ElectricChiller": dict(bus=1, cooling=COOL),
    "ISAC": dict(bus=1, cooling=COOL),
    "RobustWind": dict(bus=1, forecast=0.5, units_max=4),
    "IceTruck": dict(
        stations=[gf.Node("a", gf.carriers.ICE), gf.Node("b", gf.carriers.ICE)],
        legs={(0, 1): 1.0},
        capacity_mwh=1.0,
        rate_mw=1.0,
    ),
    "LargeIceMaker": dict(bus=1, ice=gf.Node("ice", gf.carriers.ICE), capacity_mw=5.0),
    "AbsorptionChiller": dict(heat=HEAT, cooling=COOL),
    "CHP": dict(gas=GAS, bus=1, heat=HEAT),
    "CarrierLink": dict(from_node=HEAT, to_node=HEAT_2),
    "CarrierStore": dict(node=HEAT, stock_max=5.0),
    "CarrierDemand": dict(node=HEAT, demand=1.0),
    "CarrierSource": dict(node=HEAT),
}

_PORT = [(3.5, "gf.Node"), ("heat", "gf.Node"), ([], "needs a node"), ([HEAT, GAS], "mixes")]

SPECIAL = {  # bad values of structured parameters, with what the message must say
    "offers": [
        ({"spinnig": 1.0}, "unknown product 'spinnig'"),
        ({"spinning": -1.0}, r"'offers\[spinning\]' \(\$/MWh\) must be >= 0, got -1.0"),
        ("spinning", "must be a dict"),
    ],
    "pwl_cost": [
        ([[0, 10]], "triples"),
        ([[(0, 10, math.nan)]], "triples"),
        ([[(30, 10, 5)]], "p_from_mw > p_to_mw"),
        ([[(0, 10, True)]], "numbers"),
    ],
    "spillage_provides": [("spinnig", "unknown product 'spinnig'")],
    "networks": [
        ("T", "must be a list of network names"),
        ([True, "D"], "must be a list of network names"),
    ],
    "sets": [([], "non-empty list of SpatialFlexSet"), (["dc"], "SpatialFlexSet")],
    "shedding_provides": [("spinnig", "unknown product 'spinnig'"), (5, "not a valid products")],
    "input": _PORT,
    "output": _PORT,
    "output2": _PORT,
    "node": [*_PORT, (3, "not a bus index")],
    "from_node": [*_PORT, (3, "not a bus index")],
    "to_node": [*_PORT, (3, "not a bus index")],
    "regulation_ports": [
        (3, r"must be a dict \{zone bus or 'scope': gf.Node\}"),
        ({True: HEAT}, "must be a dict"),
        ({1: HEAT}, "must be a gf.carriers.REGULATION node"),
    ],
    "investment": [
        ("cheap", "must be a gf.Investment or a cost"),
        (True, "must be a gf.Investment or a cost"),
        (gf.Investment(1.0, 10, charge="lump"), "charge must be one of"),
        (gf.Investment(1.0, charge="capital"), "needs life_years"),
    ],
    "inside": [
        (3, r"must be a dict \{network name: bus index\}"),
        ({"D": 2.7}, "bus index"),
        ({"D": True}, "bus index"),
    ],
}


def _bad_numbers(p):
    """Values a Number declaration must refuse, with the words the message must hold."""
    out = [(True, "must be a number"), ("1", "must be a number"), (1 + 2j, "must be a number")]
    out.append((math.nan, "must not be NaN"))
    if not p.optional:
        out.append((None, "is required"))
    for inf in (math.inf, -math.inf):
        if p.allow_inf is not True and p.allow_inf != inf:
            out.append((inf, "must be finite"))
    if np.isfinite(p.low):
        out.append((p.low - 1.0 if not p.low_open else float(p.low), "must "))
    if np.isfinite(p.high):
        out.append((p.high + 1.0 if not p.high_open else float(p.high), "must "))
    if isinstance(p, Integer):
        out.append((1.5, "whole number"))
    out.append((1e30, "must not exceed 1e\\+15 in magnitude"))  # the raw solver error
    if p.shape is not Shape.SCALAR:
        out.append(([True, 4.0], "True/False are not numbers"))  # a boolean in a list
        out.append(([[1.0, 2.0], [3.0]], "not ragged"))
    return out


def _bad_values(p):
    if isinstance(p, Number):
        return _bad_numbers(p)
    if isinstance(p, Flag):
        return [("false", "True or False"), (1, "True or False"), (None, "is required")]
    if isinstance(p, Choice):
        return [("bogus", "must be one of"), (1, "must be one of")]
    if isinstance(p, Text):
        return [(3, "non-empty string"), ("", "non-empty string")]
    if isinstance(p, Buses):
        return [("3", "bus index"), (True, "bus index"), ([], "bus index"), (1.5, "bus index")]
    return SPECIAL.get(p.name, [])


def _cases():
    for cls_name, valid in VALID.items():
        cls = Device.registry[cls_name]
        for key, p in declared_parameters(cls).items():
            if key not in valid and key not in _constructor_args(cls):
                continue  # inherited but not taken by this class (ExternalGrid's ramps)
            for value, words in _bad_values(p):
                yield pytest.param(cls_name, key, value, words, id=f"{cls_name}-{key}-{value!r}")


def _constructor_args(cls):
    import inspect

    return set(inspect.signature(cls.__init__).parameters)


def _make(cls_name, **changes):
    kwargs = dict(VALID[cls_name])
    if cls_name == "AggregatedFlex":
        kwargs["sets"] = [_dc()]
    return Device.registry[cls_name](**(kwargs | changes), name="x")


@pytest.mark.parametrize("cls_name, key, value, words", list(_cases()))
def test_bad_value_is_refused_naming_device_parameter_and_value(cls_name, key, value, words):
    with pytest.raises(gf.InputError) as err:
        _make(cls_name, **{key: value})
    message = str(err.value)
    assert message.startswith(f"{cls_name} 'x'"), message
    assert f"'{key}" in message or "unknown product" in message, message
    p = declared_parameters(Device.registry[cls_name])[key]
    if p.unit not in ("-", "") and key not in SPECIAL:
        assert f"'{key}' ({p.unit})" in message, message
    assert re.search(words, message), message
    if key not in SPECIAL and not isinstance(value, list):
        assert repr(value) in message, message
    if isinstance(value, list) and key not in SPECIAL:
        assert f"{value!r} (list)" in message, message


def test_the_catalogue_covers_every_device_class():
    public = {k for k in Device.registry if not k.startswith("_")}
    assert public == set(VALID)
    cases = {c.values[0] for c in _cases()}
    assert cases == set(VALID)


def test_profile_nan_names_the_period_at_build():
    model = gf.Model(gf.networks.ieee14(), periods=3, net_elements=False)
    model.add(gf.Load(1, [1.0, 1.0, math.nan], name="d"))
    with pytest.raises(gf.InputError, match=r"Load 'd'.*'p_mw'.*nan.*unit 0 in period 2"):
        model.build()


def test_profile_outside_range_names_unit_and_period():
    with pytest.raises(gf.InputError, match=r"'profile' \(MW\) must be >= 0, got -4.0 for unit 1"):
        gf.Renewable([1, 2], np.array([[1.0, 2.0], [3.0, -4.0]]), name="pv")
    model = gf.Model(gf.networks.ieee14(), periods=2, net_elements=False)
    model.add(gf.Renewable(1, [1.0, -4.0], name="pv"))  # 1-D: unit or period? at build
    with pytest.raises(gf.InputError, match=r"-4.0 for unit 0, period 1 \(1\)"):
        model.build()


def test_undeclared_attributes_and_in_place_edits_are_refused():
    storage = gf.Storage(1, 1.0, 2.0, name="b")
    with pytest.raises(AttributeError, match="'e_mhw' is not a parameter of Storage"):
        storage.e_mhw = 3.0
    with pytest.raises(ValueError, match="read-only"):
        gf.Storage([1, 2], [1.0, 2.0], 2.0).p_mw[0] = 5.0  # assign instead: seen by models
    storage.e_mwh = 3  # an int is a number
    assert storage.e_mwh == 3.0 and isinstance(storage.e_mwh, float)


def test_declared_parameters_are_the_constructor_arguments():
    for cls in (Device.registry[k] for k in VALID):
        args = _constructor_args(cls) - {"self", "name", "unit_labels"}
        declared = set(declared_parameters(cls))
        assert args <= declared, (cls.__name__, args - declared)


def test_every_device_class_has_an_up_to_date_docs_table():
    """Each registered device class has a parameter block on a page of docs/devices (adding a
    device means its module, its test and its page), and every block is the declaration."""
    from gridflex.docgen import BLOCK, render

    documented = set()
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text()
        assert render(text) == text, f"docs/devices/{page.name}: run python -m gridflex.docgen"
        documented |= {m.group(2) for m in BLOCK.finditer(text)}
    missing = sorted(set(Device.registry) - documented)
    assert not missing, f"no parameter block in docs/devices for {missing}"


@pytest.mark.parametrize(
    "make, edit",
    [
        (lambda: gf.Load(1, pd.Series([1.0, 2.0]), name="d"), lambda d: d.p_mw.__setitem__(0, 5)),
        (lambda: gf.Generator([1, 2], 10.0, initial_on=np.array([True, True]), name="g"),
         lambda d: d.initial_on.__setitem__(0, False)),
        (lambda: gf.Generator(1, 10.0, offers={"spinning": 1.0}, name="g"),
         lambda d: operator.setitem(d.offers, "spinning", 7.0)),
        (lambda: gf.Generator(1, 10.0, pwl_cost=[[(0, 10, 5)]], name="g"),
         lambda d: operator.setitem(d.pwl_cost[0], 0, (0, 10, 90))),
        (lambda: gf.AggregatedFlex([_dc()], inside={"D": 1}, name="v"),
         lambda d: operator.setitem(d.sets, 0, _dc())),
        (lambda: gf.AggregatedFlex([_dc()], inside={"D": 1}, name="v"),
         lambda d: operator.setitem(d.inside, "D", 2)),
    ],
)  # fmt: skip
def test_in_place_edits_raise_instead_of_going_unseen(make, edit):
    device = make()
    with pytest.raises((ValueError, TypeError)):
        edit(device)
