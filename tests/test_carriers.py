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
    converter = result.res_converter  # columns by port: gas_mw, heat_mw, electric_mw
    np.testing.assert_allclose(converter["heat_mw"]["eb"], [15.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(converter["electric_mw"]["eb"], [15.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(converter["heat_mw"]["gb"], [0.0, 5.0], atol=1e-9)
    np.testing.assert_allclose(converter["gas_mw"]["gb"], [0.0, 5 / 0.9], atol=1e-9)
    stock = result.res_carrier_store["stock_mwh"]["store"]
    np.testing.assert_allclose(stock, [5.0, 0.0], atol=1e-9)
    # the heat node closes from the device tables: boilers + discharge = demand + charge
    store = result.res_carrier_store
    supplied = converter["heat_mw"].sum(axis=1) + store["discharge_mw"]["store"]
    taken = result.res_carrier_demand["served_mw"]["heat_load"] + store["charge_mw"]["store"]
    np.testing.assert_allclose(supplied, taken, atol=1e-9)
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
    assert converter["gas_mw"]["chp"].iloc[0] == pytest.approx(x)
    assert converter["electric_mw"]["chp"].iloc[0] == pytest.approx(0.35 * x)
    assert converter["heat_mw"]["chp"].iloc[0] == pytest.approx(30.0)
    assert converter["heat_mw"]["chp"].iloc[0] / converter["electric_mw"]["chp"].iloc[0] == (
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
    # prices stay per MWh whatever the day's weight: 20 off-peak, 30/0.9 at peak, both days
    prices = result.res_node_heat["price_per_mwh"]["heat"].to_numpy()
    np.testing.assert_allclose(prices, [20.0, GAS_PRICE / 0.9] * 2)


def test_shedding_a_limited_source_and_a_one_way_pipe_by_hand():
    """5 MW of heat at B, from A over a one-way lossless pipe; A's source gives at most
    [inf, 3] MW at 10 $/MWh; the rest is shed at 50: 5 x 10 + 3 x 10 + 2 x 50 = 180; B's price
    is 10, then 50 (the shedding sets it)."""
    a, b = gf.Node("A", HEAT), gf.Node("B", HEAT)
    model = gf.Model(one_bus(), periods=2, net_elements=False)
    model.add(gf.CarrierSource(a, [[math.inf, 3.0]], price=10.0, name="src"))
    model.add(gf.CarrierLink(a, b, bidirectional=False, name="pipe"))
    model.add(gf.CarrierDemand(b, 5.0, shed_cost=50.0, name="d"))
    result = model.solve()
    assert result.objective == pytest.approx(180.0)
    np.testing.assert_allclose(result.res_node_heat["price_per_mwh"]["B"], [10.0, 50.0])
    np.testing.assert_allclose(result.res_carrier_demand["shed_mw"]["d"], [0.0, 2.0], atol=1e-9)


def test_chillers_and_heat_pump_by_hand():
    """4.2 MW of cooling from an electric chiller (COP 4.2) takes 1 MW; 3 MW of heat from a heat
    pump (COP 3) 1 MW: 2 MW at 40 $/MWh; cooling costs 40/4.2, heat 40/3 per MWh."""
    heat, cool = gf.Node("heat", HEAT), gf.Node("cool", gf.carriers.COOLING)
    model = gf.Model(one_bus(), periods=1, net_elements=False)
    model.add(gf.ExternalGrid(0, price_per_mwh=40.0, name="grid"))
    model.add(gf.ElectricChiller(0, cool, name="ec"))
    model.add(gf.HeatPump(0, heat, name="hp"))
    model.add(gf.AbsorptionChiller(heat, cool, 0.0, name="ac"))  # no capacity: not used
    model.add(gf.CarrierDemand(cool, 4.2, name="cooling"))
    model.add(gf.CarrierDemand(heat, 3.0, name="heating"))
    result = model.solve()
    assert result.objective == pytest.approx(80.0)
    assert result.res_node_cooling["price_per_mwh"]["cool"].iloc[0] == pytest.approx(40 / 4.2)
    assert result.res_node_heat["price_per_mwh"]["heat"].iloc[0] == pytest.approx(40 / 3)


def test_workload_carrier_units_in_column_names():
    queue = gf.Node("dc_A", gf.carriers.WORKLOAD)
    model = gf.Model(one_bus(), periods=1, net_elements=False)
    model.add(gf.CarrierSource(queue, price=2.0, name="requests"))
    model.add(gf.CarrierDemand(queue, 1000.0, name="served"))
    result = model.solve()
    table = result.res_node_workload
    assert set(table.columns.get_level_values(0)) == {
        "price_per_req_per_s_h", "inflow_req_per_s", "outflow_req_per_s"
    }  # fmt: skip
    assert table["price_per_req_per_s_h"]["dc_A"].iloc[0] == pytest.approx(2.0)
    assert result.res_carrier_source["supply_req_per_s"]["requests"].iloc[0] == pytest.approx(1e3)


# --- bad input -----------------------------------------------------------------------------------
def test_a_port_on_a_node_of_another_carrier():
    heat, gas = gf.Node("heat", HEAT), gf.Node("gas", GAS)
    with pytest.raises(
        gf.InputError,
        match=r"port 'gas' must be on a node of carrier 'gas' \(MW, MWh\), got node 'heat'",
    ):
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


def test_a_converter_on_one_node_and_port_shapes():
    heat = gf.Node("heat", HEAT)
    model = gf.Model(one_bus(), periods=1, net_elements=False)
    model.add(gf.Converter(heat, heat, efficiency=2.0, name="amp"))
    with pytest.raises(gf.InputError, match=r"Converter 'amp': unit 0 takes from and gives to"):
        model.build()
    a, b, c = (gf.Node(k, HEAT) for k in "abc")
    with pytest.raises(gf.InputError, match=r"port 'to_node' has 2 entries for 3 units"):
        model = gf.Model(one_bus(), periods=1, net_elements=False)
        model.add(gf.CarrierLink([a, b, c], [b, c], name="pipes"))
        model.build()
    with pytest.raises(gf.InputError, match=r"ports \['input', 'output'\] are all on buses"):
        model = gf.Model(one_bus(), periods=1, net_elements=False)
        model.add(gf.Converter(0, 0, name="loop"))
        model.build()


def test_two_carriers_with_one_name():
    model = gf.Model(one_bus(), periods=1, net_elements=False)
    model.add(gf.CarrierSource(gf.Node("g1", GAS), name="s1"))
    model.add(gf.CarrierSource(gf.Node("g2", gf.Carrier("gas", "m3/h", "m3")), name="s2"))
    with pytest.raises(gf.InputError, match="two different carriers are named 'gas'"):
        model.build()


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
