"""Infeasibility diagnosis (gridflex.diagnosis): each deliberately infeasible model's planted
cause is named (owner, constraint, unit/bus, period) with the violation it needs."""

import numpy as np
import pandapower as pp
import pytest

import gridflex as gf
from gridflex.diagnosis import diagnose
from gridflex.errors import SolveError


def one_bus(vn_kv=110.0):
    net = pp.create_empty_network()
    pp.create_bus(net, vn_kv)
    return net


def diagnosis(model):
    """The SolveError's diagnosis (the solve must fail)."""
    with pytest.raises(SolveError) as caught:
        model.solve()
    assert caught.value.status == "infeasible"
    assert "it cannot hold these constraints together" in str(caught.value)
    return caught.value.diagnosis


def test_an_undersized_line_is_named_with_the_period_and_the_missing_mw():
    # 60 MW at bus 1 through a 50 MVA line: 30, 60 and 42 MW over three periods; the line is
    # 10 MW short in period 1 only
    net = pp.create_empty_network(sn_mva=100.0)
    pp.create_buses(net, 2, vn_kv=110.0)
    pp.create_line_from_parameters(net, 0, 1, 20.0, 0.05, 0.4, 10.0,
                                   max_i_ka=50 / (3**0.5 * 110.0))  # fmt: skip
    pp.create_ext_grid(net, 0)
    pp.create_load(net, 1, p_mw=60.0)
    table = diagnosis(gf.Model(net, periods=3, load_scale=[0.5, 1.0, 0.7]))
    assert len(table) == 1
    row = table.iloc[0]
    assert (row.owner, row.kind, row.row, row.period) == ("network 'net'", "DC", "line 0", "1")
    assert "flow_mw" in row.constraint and row.violation == pytest.approx(10.0, abs=1e-6)


def test_a_storage_end_state_it_cannot_reach_is_named():
    # 1 MW for 4 hours at 95 % reaches 3.8 MWh; 10 MWh are asked at the end
    model = gf.Model(one_bus(), periods=4, net_elements=False)
    model.add(gf.ExternalGrid(0, [[10, 20, 30, 40]], name="grid"))
    model.add(gf.Storage(0, p_mw=1.0, e_mwh=20.0, e_initial_mwh=0.0, e_final_mwh=10.0,
                         name="bess"))  # fmt: skip
    table = diagnosis(model)
    assert set(table["owner"]) == {"bess"} and set(table["kind"]) == {"Storage"}
    assert table["violation"].sum() == pytest.approx(10.0 - 4 * 0.95, abs=1e-6)


def test_an_island_with_load_and_no_supply_is_refused_before_the_solve():
    # certain before any solve: a firm load on buses with no slack and no other device
    net = pp.create_empty_network()
    pp.create_buses(net, 3, 20.0)
    pp.create_line_from_parameters(net, 0, 1, 1.0, 0.1, 0.1, 0.0, max_i_ka=1.0)
    pp.create_ext_grid(net, 0)
    pp.create_load(net, 1, p_mw=1.0)
    pp.create_load(net, 2, p_mw=3.0)  # bus 2 is connected to nothing
    with pytest.raises(gf.InputError, match=r"unit 1 at bus 2 is on an island \(buses 2\)"):
        gf.Model(net, periods=2).build()
    # sheddable, the load may sit there (and is shed)
    net.load["in_service"] = False
    model = gf.Model(net, periods=2)
    model.add(gf.Load(2, 3.0, shed_cost_per_mwh=1000.0, name="far"))
    model.add(gf.Load(1, 1.0, name="near"))
    assert model.solve().tables["res_load"]["shed_mw"]["far"].tolist() == [3.0, 3.0]


def test_an_island_whose_supply_is_too_small_is_named_by_device_and_period():
    net = pp.create_empty_network()
    pp.create_buses(net, 3, 20.0)
    pp.create_line_from_parameters(net, 0, 1, 1.0, 0.1, 0.1, 0.0, max_i_ka=1.0)
    pp.create_ext_grid(net, 0)
    pp.create_load(net, 2, p_mw=3.0)
    model = gf.Model(net, periods=2)
    model.add(gf.Generator(2, 0.5, cost_per_mwh=10.0, name="island unit"))
    table = diagnosis(model)
    assert set(table["owner"]) == {"island unit"} and sorted(table["period"]) == ["0", "1"]
    np.testing.assert_allclose(table["violation"], 2.5, atol=1e-6)


def test_a_reserve_requirement_above_every_offer_is_named():
    # one 50 MW unit serving 10 MW offers at most 40 MW of spinning reserve; 45 are asked
    model = gf.Model(one_bus(), periods=2, net_elements=False)
    model.add(gf.Generator(bus=0, p_max_mw=50, cost_per_mwh=10, offers={"spinning": 2.0},
                           name="unit"))  # fmt: skip
    model.add(gf.Load(0, 10.0, name="demand"))
    model.add(gf.Requirement("spinning", [1.0, 45.0], name="spin"))
    table = diagnosis(model)
    row = table.iloc[0]
    assert (row.owner, row.kind, row.period) == ("spin", "Requirement", "1")
    assert row.violation == pytest.approx(5.0, abs=1e-6)


def test_an_ev_departure_energy_the_lot_cannot_charge_is_named():
    # two EVs with 5 MWh each, 1 MW per EV for one period before they leave: 9 MWh at most,
    # 9.5 asked
    model = gf.Model(one_bus(), periods=3, net_elements=False)
    model.add(gf.Generator(bus=0, p_max_mw=50, cost_per_mwh=10, name="unit"))
    model.add(gf.EVParkingLot(
        0, ev_count=[2, 2, 0], capacity_mwh=[10, 10, 0], arrival_energy_mwh=[0, 0, 0],
        departure_energy_mwh=[0, 0, 9.5], charge_rate_mw=1.0, discharge_rate_mw=1.0,
        eta_charge=1.0, eta_discharge=1.0, soc_min=0.0, soc_max=1.0, e_initial_mwh=5.0,
        name="lot"))  # fmt: skip
    table = diagnosis(model)
    row = table.iloc[0]
    assert (row.owner, row.kind, row.row, row.period) == ("lot", "EVParkingLot", "lot", "2")
    assert "e_mwh" in row.constraint and row.violation == pytest.approx(0.5, abs=1e-6)


def test_an_ice_truck_that_cannot_reach_the_station_in_time_shows_at_the_isac():
    # the ISAC can only cool with delivered ice; a 3-hour leg cannot go and come back inside
    # the 4-hour block, so the 10 MW of cooling at hours 2-3 cannot be met: the report names
    # the ISAC at those hours (its chiller, rated 0, would have to give 10 / 4.2 MW)
    model = gf.Model(one_bus(22.0), periods=4, net_elements=False)
    model.add(gf.ExternalGrid(0, [[0.36, 0.36, 1.05, 1.05]], name="grid"))
    yard, tank = gf.Node("L", gf.carriers.ICE), gf.Node("A", gf.carriers.ICE)
    cool = gf.Node("building", gf.carriers.COOLING)
    model.add(gf.ISAC(0, cool, ice=tank, chiller_max_mw=0.0, ice_making_max_mw=0.0,
                      name="isac"))  # fmt: skip
    model.add(gf.CarrierDemand(cool, [[0, 0, 10, 10]], name="building"))
    model.add(gf.LargeIceMaker(0, yard, capacity_mw=10.0, name="lim"))
    model.add(gf.IceTruck([yard, tank], {(0, 1): 3.0, (1, 0): 3.0}, capacity_mwh=100,
                          rate_mw=50, bought=True, name="truck"))  # fmt: skip
    table = diagnosis(model)
    assert set(table["owner"]) == {"isac"} and sorted(table["period"]) == ["2", "3"]
    np.testing.assert_allclose(table["violation"], 10 / 4.2, atol=1e-6)
    # with a 1-hour leg the same system is feasible: the truck was the cause
    model.device("truck").legs = {(0, 1): 1.0, (1, 0): 1.0}
    assert model.solve().objective > 0


def test_a_unit_rated_below_the_load_and_diagnose_turned_off():
    # the only unit, rated 0 MW after an edit, cannot serve 5 MW in either period
    model = gf.Model(one_bus(), periods=2, net_elements=False)
    model.add(gf.Generator(bus=0, p_max_mw=10, cost_per_mwh=10, name="unit"))
    model.add(gf.Load(0, 5.0, name="demand"))
    model.device("unit").p_max_mw = 0.0
    table = diagnosis(model)
    assert set(table["owner"]) == {"unit"} and table["violation"].sum() == pytest.approx(10.0)
    with pytest.raises(SolveError) as caught:
        model.solve(diagnose=False)
    assert caught.value.diagnosis is None
    assert "cannot hold these constraints" not in str(caught.value)


def test_diagnose_of_a_feasible_model_reports_nothing():
    model = gf.Model(one_bus(), periods=2, net_elements=False)
    model.add(gf.Generator(bus=0, p_max_mw=10, cost_per_mwh=10, name="unit"))
    model.add(gf.Load(0, 5.0, name="demand"))
    model.build()
    assert len(diagnose(model)) == 0


def test_an_unbounded_model_names_the_devices_that_run_away():
    # an unlimited unit at 5 per MWh and unlimited export at 10: profit without limit
    net = pp.create_empty_network()
    pp.create_bus(net, 20.0)
    model = gf.Model(net, periods=2, net_elements=False)
    model.add(gf.ExternalGrid(0, [[10.0, 10.0]], p_min_mw=-np.inf, name="grid"))
    model.add(gf.Generator(bus=0, p_max_mw=np.inf, cost_per_mwh=5.0, name="unit"))
    with pytest.raises(SolveError) as caught:
        model.solve()
    assert caught.value.status == "unbounded"
    table = caught.value.diagnosis
    assert set(table["owner"]) == {"grid", "unit"} and set(table["variable"]) == {"p_mw"}
    assert sorted(table["period"]) == ["0", "0", "1", "1"]
    np.testing.assert_allclose(table["value"].abs(), 1e6)
    assert (table.set_index("owner").loc["grid", "value"] < 0).all()  # export
    assert "grid (ExternalGrid) p_mw at grid, period 0: -1e+06 at the box" in str(caught.value)


@pytest.mark.parametrize(
    ("provider", "asked", "message"),
    [
        (gf.Generator(0, 50.0, cost_per_mwh=10, offers={"spinning": 1.0}, name="unit"), 60.0,
         r"60 MW of 'spinning' asked in period 1 \(1 period\(s\) in all\), but its providers "
         r"can hold at most 50 MW \(unit 50\)"),
        (gf.Generator(0, 50.0, cost_per_mwh=10, offers={"spinning": 1.0}, ramp_up_mw_per_h=8.0,
                      name="slow"), 20.0, r"at most 8 MW \(slow 8\)"),
        (gf.Storage(0, p_mw=2.0, e_mwh=4.0, offers={"spinning": 1.0}, name="bess"), 5.0,
         r"at most 4 MW \(bess 4\)"),
    ],
)  # fmt: skip
def test_a_requirement_above_what_its_providers_can_ever_hold_is_refused_before_the_solve(
    provider, asked, message
):
    model = gf.Model(one_bus(), periods=2, net_elements=False)
    model.add(gf.ExternalGrid(0, 10.0, name="grid"))
    model.add(provider)
    model.add(gf.Load(0, 10.0, shed_cost_per_mwh=1e4, name="demand"))
    model.add(gf.Requirement("spinning", [1.0, asked], name="spin"))
    with pytest.raises(gf.InputError, match=message):
        model.build()


def test_shed_load_counts_its_whole_demand_toward_the_static_bound():
    # 10 MW of sheddable load (bound 10) and a 5 MW unit (bound 5): 15 MW may be feasible,
    # 16 MW never is
    def model(asked):
        m = gf.Model(one_bus(), periods=1, net_elements=False)
        m.add(gf.Generator(0, 5.0, cost_per_mwh=10, offers={"spinning": 1.0}, name="unit"))
        m.add(gf.ExternalGrid(0, 10.0, name="grid"))
        m.add(gf.Load(0, 10.0, shed_cost_per_mwh=1e3, shedding_provides="spinning", name="d"))
        m.add(gf.Requirement("spinning", asked, name="spin"))
        return m

    with pytest.raises(gf.InputError, match=r"at most 15 MW \(unit 5, d 10\)"):
        model(16.0).build()
    assert model(15.0).solve().res_requirement["provided_mw"]["spin"].iloc[0] == pytest.approx(15)


@pytest.mark.parametrize(
    ("provider", "asked"),
    [
        (gf.ExternalGrid(0, 30.0, p_max_mw=10.0, offers={"spinning": 1.0}, name="grid"), 30.0),
        (gf.Generator(0, 10.0, -10.0, cost_per_mwh=10, offers={"spinning": 1.0}, name="g"), 15.0),
        (gf.Generator(0, 10.0, -10.0, cost_per_mwh=10, offers={"regulation_down": 1.0},
                      name="g"), 15.0),
        (gf.Generator(0, -5.0, -20.0, cost_per_mwh=10, offers={"spinning": 1.0}, name="g"), 10.0),
    ],
)  # fmt: skip
def test_a_unit_that_can_absorb_holds_reserve_across_its_whole_range(provider, asked):
    # p + up <= p_max and p - down >= p_min: the bound is p_max - p_min (unbounded when the
    # export is), never p_max alone; each model solves with the whole requirement provided
    model = gf.Model(one_bus(), periods=1, net_elements=False)
    model.add(provider)
    model.add(gf.Generator(0, 100.0, cost_per_mwh=20, name="other"))
    model.add(gf.Load(0, 5.0, name="d"))
    product = next(iter(provider.offers)).name
    model.add(gf.Requirement(product, asked, name="r"))
    provided = model.solve().res_requirement["provided_mw"]["r"].iloc[0]
    assert provided == pytest.approx(asked, abs=1e-6)


def test_the_static_bound_leaves_the_load_re_solvable():
    model = gf.Model(one_bus(), periods=2, net_elements=False)
    model.add(gf.Generator(0, 50.0, cost_per_mwh=10, offers={"spinning": 1.0}, name="unit"))
    model.add(gf.Load(0, [[10.0, 20.0]], shed_cost_per_mwh=1e3, shedding_provides="spinning",
                      name="d"))  # fmt: skip
    model.add(gf.Requirement("spinning", 5.0))
    model.solve()
    model.device("d").p_mw = [[12.0, 22.0]]
    again = model.solve()
    assert again.solve_info["compiled"] is False
    assert again.res_gen["p_mw"]["unit"].tolist() == pytest.approx([12.0, 22.0])


def test_a_period_of_a_time_block_is_named_plainly():
    model = gf.Model(one_bus(), periods=[gf.Block("d1", 2), gf.Block("d2", 2)],
                     net_elements=False)  # fmt: skip
    model.add(gf.ExternalGrid(0, 10.0, name="grid"))
    model.add(gf.Generator(0, 50.0, offers={"spinning": 1.0}, name="unit"))
    model.add(gf.Requirement("spinning", [1.0, 2.0, 3.0, 80.0], name="spin"))
    with pytest.raises(gf.InputError, match=r"asked in period d2, 1 \(1 period\(s\) in all\)"):
        model.build()
