"""IceTruck (seed 002 eqs. 15-23, any transit time): a large ice maker, one ISAC 20 km away and
a truck, against hand solutions; the round trip that no longer fits a day; ice conserved."""

import numpy as np
import pandapower as pp
import pytest

import gridflex as gf

T = 6
PRICES = [0.36, 0.36, 0.36, 1.05, 1.05, 1.05]
COOLING = [0.0, 0.0, 0.0, 10.0, 10.0, 10.0]
FUEL, FIXED = 0.1, 0.5


def model(hours, bought="decide"):
    net = pp.create_empty_network()
    pp.create_bus(net, vn_kv=22.0)
    m = gf.Model(net, periods=T, net_elements=False)
    m.add(gf.ExternalGrid(0, [PRICES], name="grid"))
    yard, tank = gf.Node("yard", gf.carriers.ICE), gf.Node("tank", gf.carriers.ICE)
    cool = gf.Node("building", gf.carriers.COOLING)
    m.add(gf.LargeIceMaker(0, yard, capacity_mw=20.0, retention=1.0, name="lim"))
    m.add(gf.ISAC(0, cool, ice=tank, ice_making_max_mw=0.0, retention=1.0, name="isac"))
    m.add(gf.CarrierDemand(cool, [COOLING], name="load"))
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
    driving = truck["truck_driving"]["truck_0"].to_numpy()
    np.testing.assert_allclose(parked.sum(axis=1) + driving, 1.0)  # one state per period
    assert driving.sum() == pytest.approx(2 * hours)  # two legs of `hours` periods each
    assert parked[-1, 0] == 1.0  # back at the depot at the end of the day
    # ice conserved: maker -> truck at the yard, truck -> tank at the ISAC
    lim, isac = result.tables["res_ice_maker"], result.tables["res_isac"]
    loaded = truck["loaded_mwh"]
    np.testing.assert_allclose(lim["ice_given_mwh"]["lim"], loaded["truck_0"], atol=1e-9)
    np.testing.assert_allclose(isac["ice_delivered_mwh"]["isac"], -loaded["truck_1"], atol=1e-9)
    load = truck["truck_e_mwh"]["truck_0"].to_numpy()
    change = load - np.roll(load, 1)  # cyclic over the day (eq. 23)
    np.testing.assert_allclose(change, loaded.sum(axis=1) - truck["truck_ice_lost_mwh"]["truck_0"],
                               atol=1e-9)  # fmt: skip
    assert isac["ice_melted_mwh"]["isac"].sum() == pytest.approx(30.0)


def test_no_round_trip_when_two_legs_and_a_stop_exceed_the_day():
    # 2 tau + 2 > T: the truck cannot reach the ISAC and be back; the chiller cools, no truck
    result = model(3.0).solve()
    assert result.plan["truck.bought"] == pytest.approx([0.0])
    assert result.objective == pytest.approx(1.05 * 30 / 4.2, rel=1e-9)


def test_a_given_truck_that_is_not_bought_stays_home():
    result = model(1.0, bought=False).solve()
    assert result.objective == pytest.approx(1.05 * 30 / 4.2, rel=1e-9)
    truck = result.tables["res_ice_truck"]
    assert (truck["parked"]["truck_0"] == 1).all()


def test_bad_legs_are_refused():
    yard, tank = gf.Node("yard", gf.carriers.ICE), gf.Node("tank", gf.carriers.ICE)
    with pytest.raises(gf.InputError, match=r"IceTruck 'truck'.*legs"):
        gf.IceTruck([yard, tank], {(0, 0): 1.0}, capacity_mwh=1, rate_mw=1, name="truck")
    with pytest.raises(gf.InputError, match=r"IceTruck 'truck'.*hours of leg"):
        gf.IceTruck([yard, tank], {(0, 1): 0.0}, capacity_mwh=1, rate_mw=1, name="truck")
    m = model(7.0)  # a leg of 7 h in a 6-period day
    with pytest.raises(gf.InputError, match=r"IceTruck 'truck': leg \(0, 1\) takes 7 periods"):
        m.build()
