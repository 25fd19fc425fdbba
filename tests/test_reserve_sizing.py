"""Reserve requirements sized before the solve (seed 004, eqs. 7-11), by hand; and the seed-004
products held by a battery for their durations (0.5 h secondary, 4 h tertiary)."""

import math

import numpy as np
import pandapower as pp
import pytest

import gridflex as gf
from gridflex.products import SECONDARY_DOWN, SECONDARY_UP, TERTIARY_UP
from gridflex.reserve_sizing import (
    Sigmas,
    fast_charging_mw,
    size_reserves,
    uncontrolled_slow_charging_mw,
)


def test_eqs_9_to_11_by_hand():
    # period 0: demand 1000 MW, wind 2000 MW, 10 MW of uncontrolled slow charging and 30 MW of
    # fast charging; the default sigmas 0.01 / 0.025 (0.5 h) / 0.08 (4 h) / 0.1 / 0.2
    sized = size_reserves([1000.0, 2000.0], [2000.0, 0.0], 1250.0, ev_uncontrolled_mw=[10.0, 0.0],
                          fcs_uncontrolled_mw=[30.0, 0.0])  # fmt: skip
    t = sized.table
    demand, wind_05, wind_4 = 3 * 0.01 * 1000, 3.5 * 0.025 * 2000, 3.5 * 0.08 * 2000  # 30, 175, 560
    ev_05, ev_4 = 3.5 * 0.1 * 10, 3.5 * 0.2 * 10  # (7): 3.5, 7
    fcs_05, fcs_4 = 3.5 * 0.1 * 30 / 3, 3.5 * 0.2 * 30 / 3  # (8) with k = 1/3: 3.5, 7
    secondary = math.sqrt(30**2 + 175**2 + 3.5**2 + 3.5**2)  # 177.6218
    tertiary = math.sqrt(30**2 + 560**2 + 7**2 + 7**2)  # 560.8904
    expected = [demand, wind_05, wind_4, ev_05, ev_4, fcs_05, fcs_4, 1250 + secondary, secondary,
                1250 + tertiary]  # fmt: skip
    np.testing.assert_allclose(t.iloc[0].to_numpy(), expected, rtol=1e-12)
    assert t["secondary_up_mw"].iloc[0] == pytest.approx(1427.6217892, abs=1e-6)
    # period 1: only the demand error (60 MW) and the largest unit
    assert t["secondary_up_mw"].iloc[1] == t["tertiary_up_mw"].iloc[1] == pytest.approx(1310.0)
    np.testing.assert_allclose(t["secondary_down_mw"], t["secondary_up_mw"] - 1250.0)  # (10)


def test_the_uncontrolled_slow_fleet_charges_from_plug_in_until_full():
    # C^UCL = 2 h: an EV counts in the period it arrives and the next one
    arrivals = [100, 0, 0, 50]
    cyclic = uncontrolled_slow_charging_mw(arrivals, 0.0037, 2.0)
    np.testing.assert_allclose(cyclic, 0.0037 * np.array([150, 100, 0, 50]))  # week repeats
    opened = uncontrolled_slow_charging_mw(arrivals, 0.0037, 2.0, cyclic=False)
    np.testing.assert_allclose(opened, 0.0037 * np.array([100, 100, 0, 50]))
    half_hours = uncontrolled_slow_charging_mw(arrivals, 1.0, 1.0, dt_h=0.5, cyclic=False)
    np.testing.assert_array_equal(half_hours, [100, 100, 0, 50])  # 1 h = two periods
    # a window longer than a cyclic horizon wraps as often as it needs: 3 h of one period
    np.testing.assert_allclose(uncontrolled_slow_charging_mw([10.0], 1.0, 3.0), [30.0])
    np.testing.assert_allclose(uncontrolled_slow_charging_mw([10.0, 1.0], 1.0, 5.0), [32, 23])
    # typical days: each day's window stays inside the day (two cyclic days of four hours)
    days = gf.Model(one_bus(), periods=[gf.Block("a", 4), gf.Block("b", 4)]).time
    per_day = uncontrolled_slow_charging_mw([0, 0, 0, 100, 50, 0, 0, 0], 1.0, 2.0, time=days)
    np.testing.assert_allclose(per_day, [100, 0, 0, 100, 50, 50, 0, 0])
    np.testing.assert_allclose(fast_charging_mw([1000, 2000], 0.05, 0.05), [2.5, 5.0])


def test_terms_left_out_and_sigmas_set_to_zero():
    sized = size_reserves([1000.0], [500.0], 0.0, sigmas=Sigmas(demand=0.0, wind_05h=0.1))
    assert sized.table["secondary_up_mw"].iloc[0] == pytest.approx(3.5 * 0.1 * 500)
    assert sized.table["ev_05h_mw"].iloc[0] == sized.table["fcs_4h_mw"].iloc[0] == 0.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: size_reserves([1.0, -2.0], [0.0, 0.0], 10.0), "demand_mw must be finite and >= 0"),
        (lambda: size_reserves([1.0, 2.0], [0.0] * 3, 10.0), "wind_mw has 3 values for 2 periods"),
        (lambda: size_reserves([1.0], [0.0], 10.0, sigmas=Sigmas(wind_4h=-0.1)),
         "sigma 'wind_4h' must be >= 0"),
        (lambda: size_reserves([1.0], [0.0], 10.0, periods=["a", "b"]), "2 period labels"),
        (lambda: uncontrolled_slow_charging_mw([1.0], 1.0, 0.0), "hours_to_full must be > 0"),
        (lambda: fast_charging_mw([1.0], 1.0, 5.0), "share_fast_charging must be in [0, 1]"),
        (lambda: size_reserves(["x"], [0.0], 10.0), "demand_mw must be numbers"),
        (lambda: size_reserves([1.0], [0.0], 10.0, k_fcs=float("nan")), "k_fcs must be a number"),
        (lambda: size_reserves([1.0], [0.0], 10.0, k_fcs=-1.0), "k_fcs must be a number >= 0"),
        (lambda: uncontrolled_slow_charging_mw([1.0], 1.0, float("nan")), "hours_to_full must"),
    ],
)  # fmt: skip
def test_bad_sizing_inputs_are_named(call, message):
    with pytest.raises(gf.InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        call()


def one_bus():
    net = pp.create_empty_network()
    pp.create_bus(net, 110.0)
    return net


def test_a_battery_holds_each_product_for_its_duration():
    # 1 MWh, 10 MW over four hours: at most 2 MW of secondary up (0.5 h) but 0.25 MW of
    # tertiary (4 h: held in hour 0, it must be there until hour 3); the grid offers neither
    for product, most in ((SECONDARY_UP, 2.0), (TERTIARY_UP, 0.25)):
        model = gf.Model(one_bus(), periods=4, net_elements=False)
        model.add(gf.ExternalGrid(0, 10.0, name="grid"))
        model.add(gf.Storage(0, p_mw=10.0, e_mwh=1.0, e_initial_mwh=1.0, e_final_mwh=0.0,
                             eta_charge=1.0, eta_discharge=1.0, offers={product: 0.0},
                             name="bess"))  # fmt: skip
        model.add(gf.Requirement(product, most, name="r"))
        provided = model.solve().res_requirement["provided_mw"]["r"].iloc[0]
        assert provided == pytest.approx(most, abs=1e-6)
        model.requirements.clear()
        model.add(gf.Requirement(product, most + 0.01, name="r"))
        with pytest.raises(gf.SolveError):
            model.solve(diagnose=False)


def test_sized_requirements_are_met_by_offering_units():
    sized = size_reserves([300.0, 500.0], [100.0, 50.0], 100.0)
    model = gf.Model(one_bus(), periods=2, net_elements=False)
    offers = {SECONDARY_UP: 1.0, SECONDARY_DOWN: 1.0, gf.products.TERTIARY_UP: 0.5}
    model.add(gf.Generator(0, 800.0, 0.0, cost_per_mwh=20.0, offers=offers, name="coal"))
    model.add(gf.Load(0, [[300.0, 500.0]], name="demand"))
    for requirement in sized.requirements():
        model.add(requirement)
    result = model.solve()
    table = result.res_requirement
    for name, column in (("secondary_up", "secondary_up_mw"), ("tertiary_up", "tertiary_up_mw"),
                         ("secondary_down", "secondary_down_mw")):  # fmt: skip
        np.testing.assert_allclose(table["requirement_mw"][name], sized.table[column])
        assert (table["provided_mw"][name] >= sized.table[column].to_numpy() - 1e-6).all()
    # one unit holds secondary and tertiary up in its headroom together: p + r + q <= 800
    gen = result.res_gen
    held = gen["secondary_up_mw"]["coal"] + gen["tertiary_up_mw"]["coal"] + gen["p_mw"]["coal"]
    assert (held <= 800.0 + 1e-6).all()


@pytest.mark.parametrize(
    ("primary", "secondary", "tertiary", "feasible"),
    [(30.0, 20.0, 350.0, True), (30.0, 30.0, 0.0, False), (30.0, 20.0, 360.0, False)],
)
def test_a_unit_ramps_primary_and_secondary_within_half_an_hour_and_all_within_four(
    primary, secondary, tertiary, feasible
):
    # RU = 100 MW/h, hourly periods: f + r <= 50 MW (0.5 h) and f + r + q <= 400 MW (4 h),
    # notes-004 2.7; a product without a duration keeps seed 003's one-period ramp
    model = gf.Model(one_bus(), periods=1, net_elements=False)
    offers = {gf.products.PRIMARY_UP: 0.0, SECONDARY_UP: 0.0, TERTIARY_UP: 0.0}
    model.add(gf.Generator(0, 1000.0, cost_per_mwh=10.0, ramp_up_mw_per_h=100.0, offers=offers,
                           name="coal"))  # fmt: skip
    model.add(gf.Load(0, 100.0, name="d"))
    for product, mw in ((gf.products.PRIMARY_UP, primary), (SECONDARY_UP, secondary),
                        (TERTIARY_UP, tertiary)):  # fmt: skip
        model.add(gf.Requirement(product, mw))
    if feasible:
        held = model.solve().res_gen
        assert held["primary_up_mw"]["coal"].iloc[0] + held["secondary_up_mw"]["coal"].iloc[
            0
        ] == pytest.approx(50.0, abs=1e-6)
    else:
        with pytest.raises(gf.SolveError, match="infeasible"):
            model.solve(diagnose=False)


def test_a_product_above_its_own_ramp_is_refused_before_the_solve():
    model = gf.Model(one_bus(), periods=1, net_elements=False)
    model.add(gf.Generator(0, 1000.0, ramp_up_mw_per_h=100.0, offers={SECONDARY_UP: 0.0},
                           name="coal"))  # fmt: skip
    model.add(gf.Requirement(SECONDARY_UP, 60.0))
    with pytest.raises(gf.InputError, match=r"at most 50 MW \(coal 50\)"):
        model.build()
