"""Small cases solved by hand: congestion prices, storage arbitrage, piecewise-linear cost."""

import numpy as np
import pandapower as pp
import pytest

import gridflex as gf


def test_two_bus_congested_line_splits_prices(two_bus_net):
    # Cheap unit (10/MWh) at bus 1, dear unit (30/MWh) at bus 2, 80 MW load at bus 2, line 50 MW.
    # By hand: cheap unit 50 MW (line full), dear unit 30 MW; prices 10 and 30; cost 1400.
    model = gf.Model(two_bus_net, periods=1)
    model.add(gf.Generator(bus=[0, 1], p_max_mw=[100, 100], cost_per_mwh=[10, 30], name="g"))
    model.add(gf.Load(bus=1, p_mw=80.0, name="d"))
    r = model.solve()
    assert r.objective == pytest.approx(1400.0, rel=1e-7)
    np.testing.assert_allclose(r.res_gen["p_mw"].iloc[0], [50.0, 30.0], atol=1e-6)
    np.testing.assert_allclose(r.res_bus["price_per_mwh"].iloc[0], [10.0, 30.0], atol=1e-5)
    assert r.res_line["limit_percent"].iloc[0, 0] == pytest.approx(100.0, abs=1e-5)
    assert r.res_line["loading_percent"].iloc[0, 0] == pytest.approx(100.0, abs=1e-5)


def test_three_bus_triangle_prices_by_hand(three_bus_net):
    # Equal reactances: 2/3 of a 1->3 transfer flows on line 1-3, 1/3 via bus 2.
    # f13 = 2/3 g1 + 1/3 g2 <= 40 with g1 + g2 = 100 gives g1 = 20, g2 = 80, cost 1800.
    # Price at bus 3: dg1 + dg2 = 1 and 2/3 dg1 + 1/3 dg2 = 0 -> dg1 = -1, dg2 = 2 -> 30/MWh.
    model = gf.Model(three_bus_net, periods=1)
    model.add(gf.Generator(bus=[0, 1], p_max_mw=[200, 200], cost_per_mwh=[10, 20], name="g"))
    model.add(gf.Load(bus=2, p_mw=100.0, name="d"))
    r = model.solve()
    assert r.objective == pytest.approx(1800.0, rel=1e-7)
    np.testing.assert_allclose(r.res_gen["p_mw"].iloc[0], [20.0, 80.0], atol=1e-6)
    np.testing.assert_allclose(r.res_bus["price_per_mwh"].iloc[0], [10.0, 20.0, 30.0], atol=1e-5)


@pytest.mark.parametrize("formulation", [gf.DC(), gf.DCPTDF()])
def test_three_bus_formulations_agree(three_bus_net, formulation):
    model = gf.Model(three_bus_net, periods=1, formulation=formulation)
    model.add(gf.Generator(bus=[0, 1], p_max_mw=[200, 200], cost_per_mwh=[10, 20], name="g"))
    model.add(gf.Load(bus=2, p_mw=100.0, name="d"))
    r = model.solve()
    np.testing.assert_allclose(r.res_bus["price_per_mwh"].iloc[0], [10.0, 20.0, 30.0], atol=1e-5)
    np.testing.assert_allclose(r.res_line["p_from_mw"].iloc[0], [-20.0, 60.0, 40.0], atol=1e-5)


def _one_bus_model(periods):
    net = pp.create_empty_network()
    pp.create_bus(net, vn_kv=20.0)
    return gf.Model(net, periods=periods, net_elements=False)


@pytest.mark.parametrize("exclusive_modes", [False, True])
def test_storage_arbitrage_two_price_levels(exclusive_modes):
    # One bus; grid price 10/MWh for two hours, then 50 and 60/MWh; 10 MW / 20 MWh store, 90%
    # each way, empty at start and end. By hand: charge 10 MW for 2 h (18 MWh stored), sell
    # 10 MW in the 60/MWh hour (11.11 MWh from store) and the remaining 6.89 MWh * 0.9 = 6.2 MW
    # in the 50/MWh hour. Cost 200 - 600 - 310 = -710. The binaries (MILP) change nothing.
    model = _one_bus_model(4)
    model.add(gf.ExternalGrid(bus=0, price_per_mwh=[10, 10, 50, 60], name="grid"))
    model.add(
        gf.Storage(
            bus=0,
            p_mw=10,
            e_mwh=20,
            e_initial_mwh=0,
            e_final_mwh=0,
            eta_charge=0.9,
            eta_discharge=0.9,
            exclusive_modes=exclusive_modes,
            name="bess",
        )
    )
    r = model.solve()
    assert r.solver == "HIGHS"
    assert r.objective == pytest.approx(-710.0, rel=1e-6)
    np.testing.assert_allclose(r.res_storage["p_mw"]["bess"], [10, 10, -6.2, -10], atol=1e-5)
    np.testing.assert_allclose(
        r.res_storage["e_mwh"]["bess"], [9, 18, 18 - 6.2 / 0.9, 0], atol=1e-5
    )
    np.testing.assert_allclose(r.res_ext_grid["p_mw"]["grid"], [10, 10, -6.2, -10], atol=1e-5)
    prices = r.res_bus["price_per_mwh"]
    expected = np.full(4, np.nan) if exclusive_modes else [10, 10, 50, 60]
    np.testing.assert_allclose(prices[0], expected, atol=1e-6)


def test_piecewise_linear_cost_by_hand():
    # Segments 0-50 MW at 10/MWh, 50-100 MW at 30/MWh; second unit flat 20/MWh up to 100 MW.
    # Load 120 MW: unit 1 takes 50 MW, unit 2 takes 70 MW -> 500 + 1400 = 1900 per hour.
    model = _one_bus_model(2)
    model.add(gf.Generator(bus=0, p_max_mw=100, pwl_cost=[[(0, 50, 10), (50, 100, 30)]], name="a"))
    model.add(gf.Generator(bus=0, p_max_mw=100, cost_per_mwh=20, name="b"))
    model.add(gf.Load(bus=0, p_mw=120.0, name="d"))
    r = model.solve()
    assert r.objective == pytest.approx(3800.0, rel=1e-7)
    np.testing.assert_allclose(r.res_gen["p_mw"]["a"], [50, 50], atol=1e-6)


def test_renewable_curtailment_and_load_shedding_by_hand():
    # Wind 30 MW available, load 50 MW, one unit of 15 MW at 10/MWh, shedding at 200/MWh.
    # Wind used fully (no cost), unit 15 MW, 5 MW shed: cost 150 + 1000 = 1150.
    # Then with 70 MW wind: unit off, 20 MW curtailed at 5/MWh: cost 100.
    model = _one_bus_model(2)
    model.add(gf.Renewable(bus=0, profile=[30.0, 70.0], curtailment_cost_per_mwh=5, name="w"))
    model.add(gf.Generator(bus=0, p_max_mw=15, cost_per_mwh=10, name="g"))
    model.add(gf.Load(bus=0, p_mw=50.0, shed_cost_per_mwh=200, name="d"))
    r = model.solve()
    assert r.objective == pytest.approx(1150.0 + 100.0, rel=1e-7)
    np.testing.assert_allclose(r.res_load["shed_mw"]["d"], [5, 0], atol=1e-6)
    np.testing.assert_allclose(r.res_sgen["curtailed_mw"]["w"], [0, 20], atol=1e-6)
    assert r.costs.loc[("d", "shedding"), "cost"] == pytest.approx(1000.0)
    assert r.costs.loc[("w", "curtailment"), "cost"] == pytest.approx(100.0)


def test_ramp_limit_by_hand():
    # Load 10 then 60 MW; cheap unit (10/MWh) ramps at most 20 MW/h from 10 MW, dear unit
    # (50/MWh) covers the rest: period 2 cheap 30, dear 30 -> cost 100 + 300 + 1500 = 1900.
    model = _one_bus_model(2)
    model.add(
        gf.Generator(
            bus=[0, 0],
            p_max_mw=[100, 100],
            cost_per_mwh=[10, 50],
            ramp_up_mw_per_h=[20, np.inf],
            name="g",
        )
    )
    model.add(gf.Load(bus=0, p_mw=[10.0, 60.0], name="d"))
    r = model.solve()
    assert r.objective == pytest.approx(1900.0, rel=1e-7)
    np.testing.assert_allclose(r.res_gen["p_mw"]["g_0"], [10, 30], atol=1e-6)
