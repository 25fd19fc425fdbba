"""Carriers: nodes, ports, converters, links, stores, demands and sources against answers worked
out by hand (costs and the prices of every node), inside typical-day blocks, and bad input."""

import math

import numpy as np
import pandapower as pp
import pytest

import gridflex as gf
from gridflex.carriers import GAS, HEAT

EB_HEAT_PRICE = [20.0, 80.0]  # time-of-use electricity, $/MWh
GAS_PRICE = 30.0


def one_bus():
    net = pp.create_empty_network()
    pp.create_bus(net, 10.0)
    return net


def heat_model(periods=2, store=True, **store_args):
    """(a) a heat node fed by a gas boiler (0.9) and an electric boiler (1.0) under a
    time-of-use price, with a 5 MWh heat store; 10 MW of heat demand."""
    heat, gas = gf.Node("heat", HEAT), gf.Node("gas", GAS)
    model = gf.Model(one_bus(), periods=periods, net_elements=False)
    model.add(gf.ExternalGrid(0, price_per_mwh=np.tile(EB_HEAT_PRICE, periods // 2), name="grid"))
    model.add(gf.CarrierSource(gas, price=GAS_PRICE, name="gas_supply"))
    model.add(gf.GasBoiler(gas, heat, 20.0, efficiency=0.9, name="gb"))
    model.add(gf.ElectricBoiler(0, heat, 20.0, efficiency=1.0, name="eb"))
    if store:
        args = dict(stock_initial=0.0, stock_final=0.0) | store_args
        model.add(gf.CarrierStore(heat, 5.0, 5.0, 5.0, name="store", **args))
    model.add(gf.CarrierDemand(heat, 10.0, name="heat_load"))
    return model


def test_heat_node_with_boilers_and_store_by_hand():
    """Off-peak: the electric boiler (20 $/MWh) serves 10 MW and fills the store with 5 MWh;
    peak: the store gives 5 MW and the gas boiler 5 MW at 30 / 0.9 = 33.33 $/MWh. Total
    15 x 20 + 5 x 33.33 = 466.67; heat prices 20 and 33.33 (the store's capacity binds)."""
    result = heat_model().solve()
    assert result.objective == pytest.approx(15 * 20 + 5 * GAS_PRICE / 0.9)
    heat = result.res_node_heat
    np.testing.assert_allclose(heat["price_per_mwh"]["heat"], [20.0, GAS_PRICE / 0.9])
    np.testing.assert_allclose(result.res_node_gas["price_per_mwh"]["gas"], [GAS_PRICE] * 2)
    np.testing.assert_allclose(result.res_bus["price_per_mwh"][0], EB_HEAT_PRICE)
    np.testing.assert_allclose(result.res_converter["output_mw"]["eb"], [15.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(result.res_converter["output_mw"]["gb"], [0.0, 5.0], atol=1e-9)
    np.testing.assert_allclose(result.res_converter["input_mw"]["gb"], [0.0, 5 / 0.9], atol=1e-9)
    stock = result.res_carrier_store["stock_mwh"]["store"]
    np.testing.assert_allclose(stock, [5.0, 0.0], atol=1e-9)
    # every node balances: inflow = outflow; the bus draws what the electric boiler takes
    np.testing.assert_allclose(heat["inflow_mw"]["heat"], heat["outflow_mw"]["heat"])
    np.testing.assert_allclose(result.res_ext_grid["p_mw"]["grid"], [15.0, 0.0], atol=1e-9)


def test_without_store_the_boilers_set_the_price():
    result = heat_model(store=False).solve()
    assert result.objective == pytest.approx(10 * 20 + 10 * GAS_PRICE / 0.9)
    np.testing.assert_allclose(result.res_node_heat["price_per_mwh"]["heat"], [20.0, 100 / 3])


def test_chp_with_a_fixed_heat_to_power_ratio_by_hand():
    """(b) A CHP (gas in, 0.35 electricity, 0.45 heat; 100 MW of gas) feeds a 70 MW electric
    load and a 30 MW heat load; the grid sells at 100 $/MWh, gas costs 30. Heat caps the CHP
    at 30 / 0.45 = 66.7 MW of gas (23.3 MW electric), the grid gives 46.7 MW: 6,666.7 $. One
    more MW of heat burns 1/0.45 MW of gas (+66.7 $) and displaces 0.35/0.45 MW of grid power
    (-77.8 $): the heat price is -11.1 $/MWh; electricity 100; gas 30."""
    heat, gas = gf.Node("heat", HEAT), gf.Node("gas", GAS)
    model = gf.Model(one_bus(), periods=1, net_elements=False)
    model.add(gf.ExternalGrid(0, price_per_mwh=100.0, name="grid"))
    model.add(gf.CarrierSource(gas, price=GAS_PRICE, name="gas_supply"))
    model.add(gf.CHP(gas, 0, heat, 100.0, rated="input", name="chp"))
    model.add(gf.GasBoiler(gas, heat, 50.0, efficiency=0.9, name="gb"))
    model.add(gf.Load(0, 70.0, name="d"))
    model.add(gf.CarrierDemand(heat, 30.0, name="heat_load"))
    result = model.solve()
    x = 30.0 / 0.45
    assert result.objective == pytest.approx(GAS_PRICE * x + 100.0 * (70.0 - 0.35 * x))
    assert result.res_node_heat["price_per_mwh"]["heat"].iloc[0] == pytest.approx(
        GAS_PRICE / 0.45 - 100.0 * 0.35 / 0.45
    )
    assert result.res_bus["price_per_mwh"][0].iloc[0] == pytest.approx(100.0)
    assert result.res_node_gas["price_per_mwh"]["gas"].iloc[0] == pytest.approx(GAS_PRICE)
    converter = result.res_converter
    assert converter["output_mw"]["chp"].iloc[0] == pytest.approx(0.35 * x)
    assert converter["output2_mw"]["chp"].iloc[0] == pytest.approx(30.0)
    assert converter["output2_mw"]["chp"].iloc[0] / converter["output_mw"]["chp"].iloc[0] == (
        pytest.approx(0.45 / 0.35)
    )


def pipe_model(capacity):
    """(c) Heat node A (source at 20 $/MWh) and node B (50 MW demand, local source at 60)
    joined by a pipe losing 5 %."""
    a, b = gf.Node("A", HEAT), gf.Node("B", HEAT)
    model = gf.Model(one_bus(), periods=1, net_elements=False)
    model.add(gf.CarrierSource(a, price=20.0, name="cheap"))
    model.add(gf.CarrierSource(b, price=60.0, name="local"))
    model.add(gf.CarrierLink(a, b, capacity, loss=0.05, name="pipe"))
    model.add(gf.CarrierDemand(b, 50.0, name="demand"))
    return model


def test_pipe_with_loss_and_binding_capacity_by_hand():
    """Capacity 30 MW binds: B receives 28.5 MW, buys 21.5 MW locally: 30 x 20 + 21.5 x 60
    = 1,890 $; prices 20 at A, 60 at B."""
    result = pipe_model(30.0).solve()
    assert result.objective == pytest.approx(30 * 20 + 21.5 * 60)
    prices = result.res_node_heat["price_per_mwh"].iloc[0]
    assert prices["A"] == pytest.approx(20.0) and prices["B"] == pytest.approx(60.0)
    link = result.res_carrier_link
    assert link["sent_mw"]["pipe"].iloc[0] == pytest.approx(30.0)
    assert link["loss_mw"]["pipe"].iloc[0] == pytest.approx(1.5)


def test_pipe_with_loss_not_binding_by_hand():
    """Capacity 100 MW: B is served from A, 50 / 0.95 MW sent; B's price is 20 / 0.95."""
    result = pipe_model(100.0).solve()
    assert result.objective == pytest.approx(20 * 50 / 0.95)
    prices = result.res_node_heat["price_per_mwh"].iloc[0]
    assert prices["A"] == pytest.approx(20.0) and prices["B"] == pytest.approx(20 / 0.95)
    heat = result.res_node_heat.iloc[0]
    lost = heat["inflow_mw"].sum() - heat["outflow_mw"].sum()  # ports balance at each node
    assert lost == pytest.approx(0.0, abs=1e-9)


def test_heat_store_is_cyclic_in_each_typical_day():
    """Two typical days of two periods (cheap/dear electricity): the store fills on each day's
    off-peak and empties on its peak, never carrying heat from one day into the other; the
    total equals two independent days of test (a)."""
    days = [gf.Block(name, 2, weight=w) for name, w in (("winter", 100), ("spring", 50))]
    heat, gas = gf.Node("heat", HEAT), gf.Node("gas", GAS)
    model = gf.Model(one_bus(), periods=days, net_elements=False)
    model.add(gf.ExternalGrid(0, price_per_mwh=np.tile(EB_HEAT_PRICE, 2), name="grid"))
    model.add(gf.CarrierSource(gas, price=GAS_PRICE, name="gas_supply"))
    model.add(gf.GasBoiler(gas, heat, 20.0, efficiency=0.9, name="gb"))
    model.add(gf.ElectricBoiler(0, heat, 20.0, efficiency=1.0, name="eb"))
    model.add(gf.CarrierStore(heat, 5.0, 5.0, 5.0, name="store"))
    model.add(gf.CarrierDemand(heat, [[10.0, 10.0, 4.0, 10.0]], name="heat_load"))
    result = model.solve()
    winter = 15 * 20 + 5 * GAS_PRICE / 0.9  # as test (a)
    spring = 9 * 20 + 5 * GAS_PRICE / 0.9  # 4 MW + 5 MWh into the store off-peak
    assert result.objective == pytest.approx(100 * winter + 50 * spring)
    store = result.res_carrier_store
    stock = store["stock_mwh"]["store"].to_numpy()
    net_in = (store["charge_mw"] - store["discharge_mw"])["store"].to_numpy()
    for first, last in ((0, 1), (2, 3)):  # each day ends where it started
        assert stock[last] == pytest.approx(stock[first] - net_in[first], abs=1e-9)
    np.testing.assert_allclose(stock, [5.0, 0.0, 5.0, 0.0], atol=1e-9)


# --- bad input -----------------------------------------------------------------------------------
def test_a_port_on_a_node_of_another_carrier():
    heat, gas = gf.Node("heat", HEAT), gf.Node("gas", GAS)
    with pytest.raises(gf.InputError, match=r"port 'gas' must be on a gas node, got node 'heat'"):
        gf.GasBoiler(heat, heat, name="gb")
    with pytest.raises(gf.InputError, match=r"'bus' must be a pandapower bus index"):
        gf.ElectricBoiler(gas, heat, name="eb")
    with pytest.raises(gf.InputError, match=r"'node' must be a gf.Node, not a bus index"):
        gf.CarrierDemand(3, 10.0, name="d")
    with pytest.raises(gf.InputError, match=r"joins heat node 'heat' to gas node 'gas'"):
        model = gf.Model(one_bus(), periods=1, net_elements=False)
        model.add(gf.CarrierLink(heat, gas, name="pipe"))
        model.build()


@pytest.mark.parametrize("efficiency", [0.0, -0.5, math.nan, True])
def test_a_converter_efficiency_must_be_positive(efficiency):
    heat, gas = gf.Node("heat", HEAT), gf.Node("gas", GAS)
    with pytest.raises(gf.InputError, match=r"GasBoiler 'gb': parameter 'efficiency'"):
        gf.GasBoiler(gas, heat, efficiency=efficiency, name="gb")


def test_a_link_between_the_same_node():
    heat = gf.Node("heat", HEAT)
    model = gf.Model(one_bus(), periods=1, net_elements=False)
    model.add(gf.CarrierLink(heat, heat, 10.0, name="loop"))
    with pytest.raises(gf.InputError, match=r"CarrierLink 'loop': joins node 'heat' to itself"):
        model.build()


def test_a_node_with_demand_and_no_supply_is_named():
    heat = gf.Node("district_B", HEAT)
    model = gf.Model(one_bus(), periods=1, net_elements=False)
    model.add(gf.ExternalGrid(0, price_per_mwh=10.0, name="grid"))
    model.add(gf.CarrierDemand(heat, 5.0, name="flats"))
    with pytest.raises(gf.InputError, match=r"node 'district_B' \(heat\) has demand from"):
        model.solve()


def test_two_nodes_with_one_name_and_a_bad_store():
    model = gf.Model(one_bus(), periods=1, net_elements=False)
    model.add(gf.CarrierSource(gf.Node("heat", HEAT), name="s"))
    model.add(gf.CarrierDemand(gf.Node("heat", HEAT), 1.0, name="d"))
    with pytest.raises(gf.InputError, match="two different nodes are named 'heat'"):
        model.build()
    with pytest.raises(gf.InputError, match=r"CarrierStore 'st': parameter 'eta_charge'"):
        gf.CarrierStore(gf.Node("h", HEAT), 5.0, eta_charge=1.5, name="st")
    with pytest.raises(gf.InputError, match=r"Node 'x': carrier must be a gf\.Carrier"):
        gf.Node("x", "heat")
