"""IceTruck (seed 002 eqs. 15-23, any transit time): a large ice maker, one ISAC 20 km away and
a truck, against hand solutions; the round trip that no longer fits a day; ice conserved."""

import numpy as np
import pandapower as pp
import pytest

import gridflex as gf
from gridflex.timeaxis import Block

T = 6
PRICES = [0.36, 0.36, 0.36, 1.05, 1.05, 1.05]
COOLING = [0.0, 0.0, 0.0, 10.0, 10.0, 10.0]
FUEL, FIXED = 0.1, 0.5


def model(hours, bought="decide", periods=T):
    net = pp.create_empty_network()
    pp.create_bus(net, vn_kv=22.0)
    m = gf.Model(net, periods=periods, net_elements=False)
    days = len(m.time.index) // T
    m.add(gf.ExternalGrid(0, [PRICES * days], name="grid"))
    yard, tank = gf.Node("yard", gf.carriers.ICE), gf.Node("tank", gf.carriers.ICE)
    cool = gf.Node("building", gf.carriers.COOLING)
    m.add(gf.LargeIceMaker(0, yard, capacity_mw=20.0, retention=1.0, name="lim"))
    m.add(gf.ISAC(0, cool, ice=tank, ice_making_max_mw=0.0, retention=1.0, name="isac"))
    cooling = COOLING + [0.0] * T * (days - 1)  # the first day hot, any others without cooling
    m.add(gf.CarrierDemand(cool, [cooling], name="load"))
    m.add(gf.IceTruck([yard, tank], {(0, 1): hours, (1, 0): hours}, depot=0,
                      capacity_mwh=40.0, rate_mw=40.0, retention=1.0, fuel_cost_per_h=FUEL,
                      fixed_cost=FIXED, bought=bought, name="truck"))  # fmt: skip
    return m


@pytest.mark.parametrize("hours", [1.0, 2.0])
def test_ice_made_in_the_valley_is_trucked_to_the_isac(hours):
    # all 30 MWh of cooling from ice: 30 / 2.8 MWh of ice making at 0.36, melting at 1.05,
    # one round trip (2 legs of `hours`), the truck bought: below the chiller's 1.05 x 30 / 4.2
    result = model(hours).solve()
    hand = 0.36 * 30 / 2.8 + 1.05 * 30 / 42.5 + 2 * hours * FUEL + FIXED
    assert hand < 1.05 * 30 / 4.2
    assert result.objective == pytest.approx(hand, rel=1e-9)
    assert result.plan["truck.bought"] == pytest.approx([1.0])
    truck = result.tables["res_ice_truck"]
    parked = truck["parked"].to_numpy()
    driving = truck["truck_driving"]["truck@yard"].to_numpy()
    np.testing.assert_allclose(parked.sum(axis=1) + driving, 1.0)  # one state per period
    assert driving.sum() == pytest.approx(2 * hours)  # two legs of `hours` periods each
    assert parked[-1, 0] == 1.0  # back at the depot at the end of the day
    # ice conserved: maker -> truck at the yard, truck -> tank at the ISAC
    lim, isac = result.tables["res_ice_maker"], result.tables["res_isac"]
    loaded = truck["loaded_mwh"]
    np.testing.assert_allclose(lim["ice_given_mwh"]["lim"], loaded["truck@yard"], atol=1e-9)
    np.testing.assert_allclose(isac["ice_delivered_mwh"]["isac"], -loaded["truck@tank"], atol=1e-9)
    load = truck["truck_e_mwh"]["truck@yard"].to_numpy()
    change = load - np.roll(load, 1)  # cyclic over the day (eq. 23)
    lost = truck["truck_ice_lost_mwh"]["truck@yard"]
    np.testing.assert_allclose(change, loaded.sum(axis=1) - lost, atol=1e-9)
    assert isac["ice_melted_mwh"]["isac"].sum() == pytest.approx(30.0)


def test_each_typical_day_routes_and_balances_on_its_own():
    # a hot day (weight 2) with the cooling load and a cool day (weight 3) without: the truck
    # makes its round trip on the hot day only, starts and ends each day at the depot, and ice
    # neither crosses days nor appears: per block, made = delivered = melted (retention 1)
    blocks = [Block("hot", T, weight=2.0), Block("cool", T, weight=3.0)]
    result = model(1.0, periods=blocks).solve()
    hand = 2 * (0.36 * 30 / 2.8 + 1.05 * 30 / 42.5 + 2 * FUEL) + FIXED
    assert result.objective == pytest.approx(hand, rel=1e-9)
    truck = result.tables["res_ice_truck"]
    for day, legs in (("hot", 2.0), ("cool", 0.0)):
        parked = truck["parked"].loc[day].to_numpy()
        driving = truck["truck_driving"]["truck@yard"].loc[day].to_numpy()
        assert parked[-1, 0] == 1.0  # back at the depot; from it in the first period (eq. 18):
        assert parked[0, 0] + driving[0] == 1.0 and parked[0, 1] == 0.0
        assert driving.sum() == pytest.approx(legs)
        made = result.tables["res_ice_maker"]["ice_given_mwh"]["lim"].loc[day].sum()
        isac = result.tables["res_isac"].loc[day]
        delivered = isac["ice_delivered_mwh"]["isac"].sum()
        assert made == pytest.approx(delivered, abs=1e-9)
        assert isac["ice_melted_mwh"]["isac"].sum() == pytest.approx(delivered, abs=1e-9)
        load = truck["truck_e_mwh"]["truck@yard"].loc[day].to_numpy()  # cyclic in its day
        loaded = truck["loaded_mwh"].loc[day].to_numpy().sum(axis=1)
        np.testing.assert_allclose(load - np.roll(load, 1), loaded, atol=1e-9)


def test_no_round_trip_when_two_legs_and_a_stop_exceed_the_day():
    # 2 tau + 2 > T: the truck cannot reach the ISAC and be back; the chiller cools, no truck
    result = model(3.0).solve()
    assert result.plan["truck.bought"] == pytest.approx([0.0])
    assert result.objective == pytest.approx(1.05 * 30 / 4.2, rel=1e-9)


def test_a_given_truck_that_is_not_bought_stays_home():
    result = model(1.0, bought=False).solve()
    assert result.objective == pytest.approx(1.05 * 30 / 4.2, rel=1e-9)
    truck = result.tables["res_ice_truck"]
    assert (truck["parked"]["truck@yard"] == 1).all()


def test_bad_legs_are_refused():
    yard, tank = gf.Node("yard", gf.carriers.ICE), gf.Node("tank", gf.carriers.ICE)
    with pytest.raises(gf.InputError, match=r"IceTruck 'truck'.*legs"):
        gf.IceTruck([yard, tank], {(0, 0): 1.0}, capacity_mwh=1, rate_mw=1, name="truck")
    with pytest.raises(gf.InputError, match=r"IceTruck 'truck'.*hours of leg"):
        gf.IceTruck([yard, tank], {(0, 1): 0.0}, capacity_mwh=1, rate_mw=1, name="truck")
    m = model(7.0)  # a leg of 7 h in a 6-period day
    with pytest.raises(gf.InputError, match=r"IceTruck 'truck': leg \(0, 1\) takes 7 periods"):
        m.build()


# --- brute force over routes: three stations, every feasible day's route ----------------------
# the system: conftest.three_station_ice_model (a maker at the depot, two ISACs, prices and the
# truck's costs as above), every leg ``hours`` long


def routes(stations, tau, periods, depot=0):
    """Every state sequence: ("park", i) or ("drive", (i, j), k) per period, from and back to
    the depot, legs of `tau` periods; arriving, it parks or drives on at once, but not straight
    back where it came from (eq. 17)."""
    legs = [(i, j) for i in range(stations) for j in range(stations) if i != j]

    def following(state, came_from):
        if state[0] == "park":  # parked a period: it may stay or leave for any station
            i = state[1]
            yield ("park", i), None
            for leg in legs:
                if leg[0] == i:
                    yield ("drive", leg, 0), None
        else:
            _, (i, j), k = state
            if k + 1 < tau:
                yield ("drive", (i, j), k + 1), None
            else:  # arrives: parked at j, or off again at once (not straight back to i)
                yield ("park", j), i
                for leg in legs:
                    if leg[0] == j and leg[1] != i:
                        yield ("drive", leg, 0), None

    def walk(prefix, state, came_from):
        if len(prefix) == periods:
            if prefix[-1] == ("park", depot):
                yield list(prefix)
            return
        for nxt, origin in following(state, came_from):
            yield from walk([*prefix, nxt], nxt, origin)

    yield from walk([], ("park", depot), None)


def as_decisions(route, stations, legs):
    parked = np.zeros((stations, len(route)))
    departures = np.zeros((len(legs), len(route)))
    for t, state in enumerate(route):
        if state[0] == "park":
            parked[state[1], t] = 1
        elif state[2] == 0:
            departures[legs.index(state[1]), t] = 1
    return parked, departures


@pytest.mark.parametrize("hours", [1.0, 2.0])
def test_the_milp_route_equals_a_brute_force_over_all_routes(hours, three_station_ice):
    model = three_station_ice({(i, j): hours for i in range(3) for j in range(3) if i != j})
    best = model.solve(mip_rel_gap=0)
    legs = sorted((i, j) for i in range(3) for j in range(3) if i != j)
    costs, compiled = [], []
    for route in routes(3, int(hours), T):
        parked, departures = as_decisions(route, 3, legs)
        fixed = {"truck.parked": parked, "truck.departures": departures, "truck.bought": [1.0]}
        try:
            result = model.evaluate(fixed)
        except gf.SolveError:
            continue  # this route cannot serve the loads (e.g. no time to unload)
        costs.append(result.objective)
        compiled.append(result.solve_info["compiled"])
    home = np.zeros((3, T))
    home[0] = 1
    costs.append(model.evaluate({"truck.parked": home, "truck.departures": np.zeros((6, T)),
                                 "truck.bought": [0.0]}).objective)  # fmt: skip
    # every enumerated route is feasible in the model (35 day routes with 1-hour legs, 3 with
    # 2-hour legs, plus staying home), and none outside them is cheaper: the MILP equals the min
    assert len(costs) == {1.0: 36, 2.0: 4}[hours]
    assert best.objective == pytest.approx(min(costs), rel=1e-9)
    assert sum(compiled) <= 2  # one fixed problem, re-solved with each route's values


def test_a_station_that_no_maker_or_isac_serves_is_refused():
    model = model_with_stray_station()
    with pytest.raises(gf.InputError, match=r"IceTruck 'truck': station 1 \(node 'stray'\)"):
        model.build()


def model_with_stray_station():
    net = pp.create_empty_network()
    pp.create_bus(net, vn_kv=22.0)
    m = gf.Model(net, periods=T, net_elements=False)
    m.add(gf.ExternalGrid(0, 1.0, name="grid"))
    yard, stray = gf.Node("yard", gf.carriers.ICE), gf.Node("stray", gf.carriers.ICE)
    m.add(gf.LargeIceMaker(0, yard, capacity_mw=1.0, name="lim"))
    m.add(gf.IceTruck([yard, stray], {(0, 1): 1.0, (1, 0): 1.0}, capacity_mwh=1.0, rate_mw=1.0,
                      name="truck"))  # fmt: skip
    return m


def paper_routes(stations, periods, depot=0):
    """Routes under the printed eqs. (15)-(19) with one-hour legs: a state (i, j) per period
    (i = j parked, i != j driving), (16) a parked truck stays or leaves from where it is, (17)
    a truck that drove i -> j is at j next, not driving back to i, (18) the first period starts
    at the depot, (19) the last is parked there (notes-002 §2.3)."""

    def walk(prefix):
        if len(prefix) == periods:
            if prefix[-1] == (depot, depot):
                yield list(prefix)
            return
        i, j = prefix[-1] if prefix else (depot, depot)
        for k in range(stations):
            if i != j and k == i:  # (17): not straight back
                continue
            yield from walk([*prefix, (j, k)])

    yield from walk([])


def test_one_hour_legs_reproduce_the_printed_routing_equations():
    def as_pairs(route):
        return tuple((s[1], s[1]) if s[0] == "park" else s[1] for s in route)

    ours = {as_pairs(route) for route in routes(3, 1, T)}
    theirs = {tuple(route) for route in paper_routes(3, T)}
    assert ours == theirs and len(ours) == 35
