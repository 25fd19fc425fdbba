"""FastChargingBattery (seed 004, Table 2, FCS-(16)-(30)): each mode by hand, S2G against a
brute force over the units charging, the modes' ordering, and bad inputs named."""

import itertools

import cvxpy as cp
import numpy as np
import pandapower as pp
import pytest

import gridflex as gf
from gridflex.products import SECONDARY_UP


def one_bus():
    net = pp.create_empty_network()
    pp.create_bus(net, 110.0)
    return net


def model(prices, *stations, export=False):
    m = gf.Model(one_bus(), periods=len(prices), net_elements=False)
    m.add(gf.ExternalGrid(0, [prices], p_min_mw=-100.0 if export else 0.0, name="grid"))
    for station in stations:
        m.add(station)
    return m


LOSSLESS = {"eta_charge": 1.0, "eta_discharge": 1.0}


def test_ufc_draws_the_chargers_demand_from_the_grid():
    result = model([10.0, 50.0], gf.FastChargingBattery(0, [[1.0, 2.0]], "UFC", 3, 1.0,
                                                        name="fcs")).solve()  # fmt: skip
    assert result.objective == pytest.approx(10 * 1 + 50 * 2)
    np.testing.assert_allclose(result.res_fcs_battery["p_mw"]["fcs"], [1.0, 2.0])
    np.testing.assert_allclose(result.res_ext_grid["p_mw"]["grid"], [1.0, 2.0])


def test_g2s_charges_its_battery_in_the_cheap_hour():
    # 1 MW of fast charging in both hours, 3 MW of chargers, 4 MWh from 1 MWh back to >= 1:
    # 2 MW at 10 then nothing at 50 (cost 20; UFC would pay 60)
    station = gf.FastChargingBattery(0, 1.0, "G2S", 3, 1.0, e_mwh=4.0, e_initial_mwh=1.0,
                                     name="fcs", **LOSSLESS)  # fmt: skip
    result = model([10.0, 50.0], station).solve()
    assert result.objective == pytest.approx(20.0)
    table = result.res_fcs_battery
    np.testing.assert_allclose(table["p_charge_mw"]["fcs"], [2.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(table["e_mwh"]["fcs"], [2.0, 1.0], atol=1e-7)
    assert (table["p_discharge_mw"]["fcs"] == 0).all()


def test_s2g_sells_back_what_it_stored():
    # no EVs, two 1 MW units, 2 MWh from empty: charge 2 MW at 10, sell 2 MW at 50 (cost -80)
    station = gf.FastChargingBattery(0, 0.0, "S2G", 2, 1.0, e_mwh=2.0, e_initial_mwh=0.0,
                                     name="fcs", **LOSSLESS)  # fmt: skip
    result = model([10.0, 50.0], station, export=True).solve()
    assert result.objective == pytest.approx(-80.0)
    table = result.res_fcs_battery
    np.testing.assert_allclose(table["units_charging"]["fcs"], [2, 0])
    np.testing.assert_allclose(table["p_mw"]["fcs"], [2.0, -2.0], atol=1e-7)


def test_g2s_yr_charges_more_to_hold_reserve_it_can_sustain():
    # 2 MW of chargers' demand from an empty battery: charging 2 MW keeps it empty, so cutting
    # the charge by r for 0.5 h needs 0.5 r MWh stored: 1 MW of secondary up costs 0.5 MWh more
    station = gf.FastChargingBattery(0, 2.0, "G2S", 5, 1.0, e_mwh=10.0, e_initial_mwh=0.0,
                                     e_final_mwh=0.0, offers={SECONDARY_UP: 0.0}, name="fcs",
                                     **LOSSLESS)  # fmt: skip
    m = model([10.0], station)
    m.add(gf.Requirement(SECONDARY_UP, 1.0, name="r"))
    table = m.solve().res_fcs_battery
    assert table["p_charge_mw"]["fcs"].iloc[0] == pytest.approx(2.5, abs=1e-6)
    assert table["e_mwh"]["fcs"].iloc[0] == pytest.approx(0.5, abs=1e-6)
    assert table["secondary_up_mw"]["fcs"].iloc[0] == pytest.approx(1.0, abs=1e-6)


def brute_force_s2g(prices, p_f, g, p_min, p_max, e_mwh, e0, eta_c, eta_d):
    """The cheapest S2G schedule over every x in {0..G}^T, each an LP written here from the
    equations (24)-(26) and the battery balance, independent of gridflex."""
    T, best = len(prices), np.inf
    for x in itertools.product(range(g + 1), repeat=T):
        x = np.array(x, dtype=float)
        c, d, e = cp.Variable(T, nonneg=True), cp.Variable(T, nonneg=True), cp.Variable(T)
        before = cp.hstack([e0, e[:-1]])
        balance = e == before + eta_c * c - (d + p_f) / eta_d
        cons = [c >= p_min * x, c <= p_max * x, d >= p_min * (g - x), d <= p_max * (g - x),
                balance, e >= 0, e <= e_mwh, e[-1] >= e0]  # fmt: skip
        problem = cp.Problem(cp.Minimize(np.asarray(prices) @ (c - d)), cons)
        problem.solve(solver=cp.HIGHS)
        if problem.status == "optimal":
            best = min(best, problem.value)
    return best


def test_s2g_equals_a_brute_force_over_the_units_charging():
    prices, p_f = [10.0, 60.0, 30.0], [0.3, 0.5, 0.2]
    data = {"g": 2, "p_min": 0.4, "p_max": 1.0, "e_mwh": 2.0, "e0": 1.0, "eta_c": 0.9,
            "eta_d": 0.95}  # fmt: skip
    station = gf.FastChargingBattery(0, [p_f], "S2G", data["g"], data["p_max"],
                                     unit_p_min_mw=data["p_min"], e_mwh=data["e_mwh"],
                                     e_initial_mwh=data["e0"], eta_charge=data["eta_c"],
                                     eta_discharge=data["eta_d"], name="fcs")  # fmt: skip
    result = model(prices, station, export=True).solve()
    assert result.objective == pytest.approx(brute_force_s2g(prices, np.array(p_f), **data),
                                             abs=1e-6)  # fmt: skip
    table = result.res_fcs_battery
    x = table["units_charging"]["fcs"].to_numpy()
    c, d = table["p_charge_mw"]["fcs"].to_numpy(), table["p_discharge_mw"]["fcs"].to_numpy()
    assert (c >= 0.4 * x - 1e-7).all() and (d >= 0.4 * (2 - x) - 1e-7).all()  # no idle unit


def test_the_modes_order_as_the_paper_guarantees():
    # lossless, P^min = 0: S2G with x = G is G2S, and G2S can charge exactly p^f (UFC)
    prices, p_f = [20.0, 80.0, 10.0, 60.0], [[0.5, 1.5, 0.2, 1.0]]

    def cost(mode, **kw):
        station = gf.FastChargingBattery(0, p_f, mode, 2, 1.0, name="fcs", **kw)
        return model(prices, station, export=True).solve().objective

    battery = {"e_mwh": 3.0, "e_initial_mwh": 1.0, **LOSSLESS}
    ufc, g2s, s2g = cost("UFC"), cost("G2S", **battery), cost("S2G", **battery)
    assert s2g <= g2s + 1e-6 and g2s <= ufc + 1e-6
    assert ufc == pytest.approx(np.dot(prices, p_f[0]))
    assert s2g < g2s < ufc  # here each step pays


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: gf.FastChargingBattery(0, 1.0, "UFC", 2, 1.0, offers={SECONDARY_UP: 1.0}),
         "mode 'UFC' holds no reserve"),
        (lambda: gf.FastChargingBattery(0, 1.0, "UFC", 2, 1.0, e_mwh=1.0), "has no battery"),
        (lambda: gf.FastChargingBattery(0, 1.0, "G2S", 2, 1.0), "unit 0 has e_mwh = 0"),
        (lambda: gf.FastChargingBattery(0, 1.0, "G2S", 2, 1.0, unit_p_min_mw=2.0, e_mwh=1.0),
         "'unit_p_min_mw' (2.0) is above 'unit_p_max_mw' (1.0)"),
        (lambda: gf.FastChargingBattery(0, 1.0, "g2s", 2, 1.0), "must be one of 'UFC'"),
        (lambda: gf.FastChargingBattery(0, 1.0, "S2G", 1.5, 1.0, e_mwh=1.0),
         "must be a whole number"),
        (lambda: gf.FastChargingBattery(0, -1.0, "UFC", 2, 1.0), "fast_charging_mw"),
        (lambda: gf.FastChargingBattery(0, 5.0, "UFC", 3, 1.0),
         "draws the chargers' 5 MW from the grid in period 0, above unit 0's 3 x 1 MW"),
        (lambda: gf.FastChargingBattery(0, 2.0, "G2S", 2, 1.0, e_mwh=4.0),
         "chargers take 2.21607 MW on average through the battery, more than its 2 x 1 MW"),
    ],
)  # fmt: skip
def test_bad_station_inputs_are_named(build, message):
    with pytest.raises(gf.InputError, match=None) as caught:
        model([10.0], build()).build()
    assert message in str(caught.value), str(caught.value)


# --- property: random valid stations close their battery and power from the tables ----------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=15, deadline=None, derandomize=True)
@given(st.sampled_from(["G2S", "S2G"]), st.integers(2, 5), st.data())
def test_random_stations_close_their_battery_from_the_tables(mode, T, data):
    floats = lambda lo, hi: st.floats(lo, hi, allow_nan=False)  # noqa: E731
    # feasible by construction: P^min = 0 and one unit (>= 1 MW) can charge what the chargers
    # take (<= 0.5 MW) through both efficiencies (>= 0.8); P^min > 0 is the brute force's case
    g, p_max, p_min = data.draw(st.integers(1, 3)), data.draw(floats(1.0, 2.0)), 0.0
    e_mwh = data.draw(floats(1.0, 5.0))
    p_f = np.array(data.draw(st.lists(floats(0.0, 0.5), min_size=T, max_size=T)))
    eta_c, eta_d = data.draw(floats(0.8, 1.0)), data.draw(floats(0.8, 1.0))
    prices = data.draw(st.lists(floats(1.0, 100.0), min_size=T, max_size=T))
    station = gf.FastChargingBattery(0, [p_f], mode, g, p_max, unit_p_min_mw=p_min,
                                     e_mwh=e_mwh, e_initial_mwh=e_mwh / 2, eta_charge=eta_c,
                                     eta_discharge=eta_d, name="fcs")  # fmt: skip
    result = model(prices, station, export=True).solve()
    t = result.res_fcs_battery
    c, d = t["p_charge_mw"]["fcs"].to_numpy(), t["p_discharge_mw"]["fcs"].to_numpy()
    e = t["e_mwh"]["fcs"].to_numpy()
    np.testing.assert_allclose(e, np.r_[e_mwh / 2, e[:-1]] + eta_c * c - (d + p_f) / eta_d,
                               atol=1e-6)  # fmt: skip
    assert (e >= -1e-6).all() and (e <= e_mwh + 1e-6).all() and e[-1] >= e_mwh / 2 - 1e-6
    x = t["units_charging"]["fcs"].to_numpy() if mode == "S2G" else np.full(T, g)
    assert (c <= p_max * x + 1e-6).all() and (c >= p_min * x - 1e-6).all()
    assert (d <= p_max * (g - x) + 1e-6).all() and (d >= p_min * (g - x) - 1e-6).all()
    np.testing.assert_allclose(result.res_ext_grid["p_mw"]["grid"], c - d, atol=1e-6)


@pytest.mark.parametrize(("mode", "asked", "refused"), [("S2G", 1.0, False), ("S2G", 1.01, True),
                                                        ("G2S", 1.01, True)])  # fmt: skip
def test_a_station_holds_at_most_its_span_times_its_units(mode, asked, refused):
    # G = 2 units of 0.5 .. 1 MW: (P^max - P^min) G = 1 MW in both modes, refused before the
    # solve above it
    station = gf.FastChargingBattery(0, 0.0, mode, 2, 1.0, unit_p_min_mw=0.5, e_mwh=10.0,
                                     e_initial_mwh=5.0, offers={SECONDARY_UP: 0.0}, name="fcs",
                                     **LOSSLESS)  # fmt: skip
    m = model([10.0], station, export=True)
    m.add(gf.Requirement(SECONDARY_UP, asked, name="r"))
    if refused:
        with pytest.raises(gf.InputError, match=r"at most 1 MW \(fcs 1\)"):
            m.build()
    else:
        assert m.solve().res_requirement["provided_mw"]["r"].iloc[0] == pytest.approx(1.0)
