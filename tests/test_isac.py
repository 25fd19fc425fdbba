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


# --- the large ice maker (eqs. 24-27) feeding an ISAC's tank through an ice node ---------------
def with_ice_maker(cost_per_mw):
    m = gf.Model(one_bus(), periods=4, net_elements=False)
    m.add(gf.ExternalGrid(0, [PRICES], name="grid"))
    cool, ice = gf.Node("building", gf.carriers.COOLING), gf.Node("yard", gf.carriers.ICE)
    m.add(gf.ISAC(0, cool, ice=ice, ice_making_max_mw=0.0, retention=1.0, name="isac"))
    m.add(gf.CarrierDemand(cool, [COOLING], name="load"))
    m.add(gf.LargeIceMaker(0, ice, capacity_max_mw=50.0, cost_per_mw=cost_per_mw,
                           retention=1.0, name="lim"))  # fmt: skip
    return m


def test_a_decided_ice_maker_is_sized_by_hand():
    # 20 MWh of cold from ice: 20 / 2.8 MWh of ice making in the two valley hours, evenly (the
    # rating costs): 3.571 MW; per MWh of cold 0.129 + 0.025 + 0.018 < the chiller's 0.25
    result = with_ice_maker(0.1).solve()
    lim, isac = result.tables["res_ice_maker"], result.tables["res_isac"]
    size = 20 / 2.8 / 2
    np.testing.assert_allclose(lim["capacity_mw"]["lim"], size, rtol=1e-9)
    np.testing.assert_allclose(lim["p_mw"]["lim"], [size, size, 0, 0], atol=1e-7)
    assert result.plan["lim.capacity_mw"] == pytest.approx([size], rel=1e-9)
    hand = 0.36 * 2 * size + 1.05 * 20 / 42.5 + 0.1 * size
    assert result.objective == pytest.approx(hand, rel=1e-9)
    # ice is conserved: what the maker gives, the tank receives (the node balances)
    np.testing.assert_allclose(lim["ice_given_mwh"]["lim"], isac["ice_delivered_mwh"]["isac"],
                               atol=1e-9)  # fmt: skip
    store = lim["e_mwh"]["lim"].to_numpy()
    np.testing.assert_allclose(np.diff(np.r_[0.0, store]),
                               (lim["ice_made_mwh"] - lim["ice_given_mwh"]
                                - lim["ice_lost_mwh"])["lim"], atol=1e-9)  # fmt: skip


def test_a_dear_ice_maker_is_not_built():
    result = with_ice_maker(10.0).solve()  # 10 per MW: 1.8 per MWh of cold, above the chiller
    assert result.plan["lim.capacity_mw"] == pytest.approx([0.0], abs=1e-9)
    hand = 1.05 * 20 / 4.2
    assert result.objective == pytest.approx(hand, rel=1e-9)


def test_an_ice_maker_needs_one_way_to_its_rating():
    ice = gf.Node("yard", gf.carriers.ICE)
    m = gf.Model(one_bus(), periods=2, net_elements=False)
    m.add(gf.LargeIceMaker(0, ice, name="lim"))
    with pytest.raises(gf.InputError, match="LargeIceMaker 'lim': give either capacity_mw"):
        m.build()


def test_reactive_draw_at_a_fixed_power_factor_enters_the_q_balance_and_holds_in_ac():
    # PF 0.95 lagging (notes-002): q = tan(acos(0.95)) p for the ISAC and the ice maker; on a
    # 22 kV line the grid supplies their Q plus the line's reactive losses, and pandapower's
    # AC power flow of the dispatch lands on the model's voltages (the relaxation is exact)
    ratio = np.tan(np.arccos(0.95))
    net = pp.create_empty_network(sn_mva=10.0)
    pp.create_buses(net, 2, vn_kv=22.0, min_vm_pu=0.9, max_vm_pu=1.1)
    pp.create_line_from_parameters(net, 0, 1, 5.0, 0.3, 0.4, 0.0, max_i_ka=1.0)
    pp.create_ext_grid(net, 0, vm_pu=1.0)  # the slack of the AC check
    m = gf.Model(net, periods=4, formulation=gf.SOCDistFlow(), net_elements=False)
    m.add(gf.ExternalGrid(0, [PRICES], name="grid"))
    cool, ice = gf.Node("building", gf.carriers.COOLING), gf.Node("yard", gf.carriers.ICE)
    m.add(gf.ISAC(1, cool, q_per_p=ratio, ice=ice, name="isac"))
    m.add(gf.LargeIceMaker(1, ice, capacity_mw=2.0, q_per_p=ratio, name="lim"))
    m.add(gf.CarrierDemand(cool, [COOLING], name="load"))
    result = m.solve()
    isac, lim = result.tables["res_isac"], result.tables["res_ice_maker"]
    np.testing.assert_allclose(isac["q_mvar"], ratio * isac["p_mw"], atol=1e-9)
    np.testing.assert_allclose(lim["q_mvar"], ratio * lim["p_mw"], atol=1e-9)
    drawn = (isac["q_mvar"].sum(axis=1) + lim["q_mvar"].sum(axis=1)).to_numpy()
    assert drawn.max() > 0.1  # the ice is made and melted with reactive power
    grid_q = result.tables["res_ext_grid"]["q_mvar"].sum(axis=1).to_numpy()
    line_q = result.tables["res_line"]["ql_mvar"].sum(axis=1).to_numpy()
    np.testing.assert_allclose(grid_q, drawn + line_q, atol=1e-7)
    report = gf.validate_ac(result)
    assert report.all_converged and report.gap["max_dvm_pu"].max() < 1e-6
