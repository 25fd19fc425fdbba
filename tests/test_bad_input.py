"""Bad input gets a clear error naming the device, parameter, bus or period, before any solve."""

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandas as pd
import pytest

import gridflex as gf

PERIODS = pd.date_range("2026-07-01", periods=4, freq="h")


def _build(*devices, net=None, periods=PERIODS):
    model = gf.Model(pn.case14() if net is None else net, periods=periods)
    for d in devices:
        model.add(d)
    return model.build()


def test_device_on_bus_not_in_net():
    with pytest.raises(gf.InputError, match=r"Storage 'bess'.*bus 99 is not in the net"):
        _build(gf.Storage(bus=99, p_mw=1, e_mwh=2, name="bess"))


def test_device_on_out_of_service_bus():
    net = pn.case14()
    net.bus.loc[13, "in_service"] = False
    net.load.loc[net.load.bus == 13, "in_service"] = False
    net.line.loc[(net.line.from_bus == 13) | (net.line.to_bus == 13), "in_service"] = False
    with pytest.raises(gf.InputError, match=r"bus \[13\] is out of service"):
        _build(gf.Load(bus=13, p_mw=1.0, name="x"), net=net)


def test_profile_length_differs_from_periods():
    with pytest.raises(gf.InputError, match=r"Renewable 'pv'.*profile.*expected 4 periods"):
        _build(gf.Renewable(bus=3, profile=[1.0, 2.0, 3.0], name="pv"))


def test_profile_index_differs_from_periods():
    shifted = pd.Series(1.0, index=PERIODS + pd.Timedelta("1h"))
    with pytest.raises(gf.InputError, match=r"Load 'l'.*'p_mw' index differs.*position 0"):
        _build(gf.Load(bus=3, p_mw=shifted, name="l"))


def test_nan_in_profile_names_the_period():
    profile = np.array([1.0, np.nan, 1.0, 1.0])
    with pytest.raises(gf.InputError, match=r"Renewable 'pv'.*nan.*period 1 \(2026-07-01 01:00"):
        _build(gf.Renewable(bus=3, profile=profile, name="pv"))


def test_negative_capacity():
    with pytest.raises(
        gf.InputError, match=r"Storage 'bess'.*'e_mwh' \(MWh\) must be >= 0, got -2.0"
    ):
        _build(gf.Storage(bus=3, p_mw=1, e_mwh=-2, name="bess"))
    with pytest.raises(
        gf.InputError, match=r"Renewable 'w'.*'capacity_mw' \(MW\) must be >= 0, got -10.0"
    ):
        _build(gf.Renewable(bus=3, profile=0.5, capacity_mw=-10, name="w"))


def test_efficiency_above_one():
    with pytest.raises(
        gf.InputError, match=r"Storage 'bess'.*'eta_charge' \(1\) must lie in \(0, 1\], got 1.2"
    ):
        _build(gf.Storage(bus=3, p_mw=1, e_mwh=2, eta_charge=1.2, name="bess"))


def test_min_above_max():
    with pytest.raises(
        gf.InputError,
        match=r"Generator 'g'.*'p_min_mw' \(50.0\) is above "
        r"'p_max_mw' \(40.0\) for unit 1",
    ):
        _build(gf.Generator(bus=[1, 2], p_max_mw=[60, 40], p_min_mw=[10, 50], name="g"))
    with pytest.raises(gf.InputError, match=r"'e_initial_mwh' \(5.0\) is above 'e_mwh'"):
        _build(gf.Storage(bus=3, p_mw=1, e_mwh=2, e_initial_mwh=5, name="bess"))


def test_unknown_device_bus_list_and_wrong_parameter_length():
    with pytest.raises(gf.InputError, match=r"'e_mwh' has shape \(3,\); expected a scalar or 2"):
        _build(gf.Storage(bus=[1, 2], p_mw=1, e_mwh=[1, 2, 3], name="bess"))


def test_duplicate_device_name():
    model = gf.Model(pn.case14(), periods=2)
    model.add(gf.Storage(bus=3, p_mw=1, e_mwh=2, name="bess"))
    with pytest.raises(gf.InputError, match="already in the model"):
        model.add(gf.Storage(bus=4, p_mw=1, e_mwh=2, name="bess"))


def test_uneven_periods():
    periods = pd.DatetimeIndex(["2026-07-01 00:00", "2026-07-01 01:00", "2026-07-01 03:00"])
    with pytest.raises(gf.InputError, match="evenly spaced"):
        gf.Model(pn.case14(), periods=periods)


def test_infeasible_model_raises_and_returns_no_numbers():
    net = pp.create_empty_network()
    pp.create_bus(net, vn_kv=20.0)
    model = gf.Model(net, periods=2, net_elements=False)
    model.add(gf.Generator(bus=0, p_max_mw=10, name="g"))
    model.add(gf.Load(bus=0, p_mw=[5.0, 50.0], name="d"))
    with pytest.raises(gf.SolveError, match=r"infeasible.*shed_cost_per_mwh") as info:
        model.solve()
    assert info.value.status == "infeasible"


def test_absurd_load_on_ieee14_is_infeasible_not_numbers():
    model = gf.Model(pn.case14(), periods=2, load_scale=[1.0, 100.0])
    with pytest.raises(gf.SolveError):
        model.solve()


def test_missing_solver_names_installed_ones():
    model = gf.Model(pn.case14(), periods=1)
    with pytest.raises(
        gf.SolverNotInstalledError, match=r"GUROBI is not installed; installed:.*HIGHS"
    ):
        model.solve(solver="gurobi")


def test_nonconvex_piecewise_cost_is_rejected():
    with pytest.raises(gf.InputError, match=r"Generator 'g'.*not convex"):
        _build(gf.Generator(bus=1, p_max_mw=100, pwl_cost=[[(0, 50, 30), (50, 100, 10)]], name="g"))
