"""ISAC (seed 002 eqs. 28-34) against hand solutions: ice made in the cheap hours and melted in
the dear ones, with the tank's balance closing from the result table."""

import numpy as np
import pandapower as pp
import pytest

import gridflex as gf

PRICES = [0.36, 0.36, 1.05, 1.05]  # valley, valley, peak, peak (yuan/kWh as in the paper)
COOLING = [0.0, 0.0, 10.0, 10.0]  # MW of cooling demanded


def one_bus():
    net = pp.create_empty_network()
    pp.create_bus(net, vn_kv=22.0)
    return net


def model(retention=1.0, **isac):
    m = gf.Model(one_bus(), periods=4, net_elements=False)
    m.add(gf.ExternalGrid(0, [PRICES], name="grid"))
    cool = gf.Node("building", gf.carriers.COOLING)
    m.add(gf.ISAC(0, cool, retention=retention, name="isac", **isac))
    m.add(gf.CarrierDemand(cool, [COOLING], name="load"))
    return m


@pytest.mark.parametrize("retention", [1.0, 0.98])
def test_ice_made_at_night_and_melted_by_day_equals_the_hand_solution(retention):
    # cold from ice: 0.36 / 2.8 / r^k + 1.05 / 42.5 <= 0.159 per MWh < the chiller's 1.05 / 4.2
    # = 0.25, so all 20 MWh come from ice made in hour 1 (the later, the less melts away):
    # e2 = r e1 - 10 and e3 = r e2 - 10 = 0 give e1 = (10 + 10 / r) / r.
    result = model(retention).solve()
    table = result.tables["res_isac"]
    ice_needed = (10 + 10 / retention) / retention
    making = table["p_ice_making_mw"]["isac"].to_numpy()
    if retention < 1:  # (with r = 1 both valley hours are as good: only the total is fixed)
        np.testing.assert_allclose(making, [0.0, ice_needed / 2.8, 0.0, 0.0], atol=1e-7)
    assert making.sum() == pytest.approx(ice_needed / 2.8, rel=1e-9)
    np.testing.assert_allclose(table["p_chiller_mw"]["isac"], 0.0, atol=1e-7)
    np.testing.assert_allclose(table["p_melting_mw"]["isac"], [0, 0, 10 / 42.5, 10 / 42.5],
                               atol=1e-9)  # fmt: skip
    hand = 0.36 * ice_needed / 2.8 + 1.05 * 20 / 42.5
    assert result.objective == pytest.approx(hand, rel=1e-9)


def test_the_tank_balance_closes_from_the_table():
    table = model(0.98).solve().tables["res_isac"]
    e = table["e_mwh"]["isac"].to_numpy()
    change = np.diff(np.r_[0.0, e])  # open block, empty before the first period
    terms = (table["ice_made_mwh"] + table["ice_delivered_mwh"] - table["ice_melted_mwh"]
             - table["ice_lost_mwh"])["isac"].to_numpy()  # fmt: skip
    np.testing.assert_allclose(change, terms, atol=1e-9)
    cooling = (table["cooling_chiller_mw"] + table["cooling_ice_mw"])["isac"].to_numpy()
    np.testing.assert_allclose(cooling, COOLING, atol=1e-9)  # eq. 31 against the load


def test_a_small_melting_pump_leaves_the_rest_to_the_chiller():
    # melting limited to 0.1 MW (4.25 MW of cold): the chiller covers 5.75 MW at the peak
    result = model(melting_max_mw=0.1).solve()
    table = result.tables["res_isac"]
    np.testing.assert_allclose(table["p_chiller_mw"]["isac"], [0, 0, 5.75 / 4.2, 5.75 / 4.2],
                               atol=1e-9)  # fmt: skip
    hand = 0.36 * 8.5 / 2.8 + 1.05 * 0.2 + 1.05 * 11.5 / 4.2
    assert result.objective == pytest.approx(hand, rel=1e-9)


def test_bad_input_is_refused_by_name():
    cool = gf.Node("building", gf.carriers.COOLING)
    with pytest.raises(gf.InputError, match=r"ISAC 'isac'.*eta_melt"):
        gf.ISAC(0, cool, eta_melt=0.0, name="isac")
    with pytest.raises(gf.InputError, match=r"ISAC 'isac'.*retention"):
        gf.ISAC(0, cool, retention=1.5, name="isac")
    with pytest.raises(gf.InputError, match=r"ISAC 'isac'.*cooling.*carrier 'cooling'"):
        gf.ISAC(0, gf.Node("hot", gf.carriers.HEAT), name="isac")
    m = model(tank_mwh=5.0, tank_initial_mwh=6.0)
    with pytest.raises(gf.InputError, match=r"ISAC 'isac': unit 0 starts with more ice"):
        m.build()
