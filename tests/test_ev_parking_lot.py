"""EVParkingLot (seed 003 eqs. 1-8, 11), reserve products and the EV behaviour generator."""

import numpy as np
import pandapower as pp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gridflex as gf
from gridflex import products as P
from gridflex.devices.ev_behaviour import EVBehaviour, TruncatedGaussian, simulate_parking_lot


def one_bus():
    net = pp.create_empty_network()
    pp.create_bus(net, 110.0)
    return net


def supply(model, cheap_mw, cost_expensive=50.0):
    """A cheap unit (10 per MWh, available ``cheap_mw``) and an expensive one."""
    model.add(gf.Generator(bus=0, p_max_mw=cheap_mw, cost_per_mwh=10.0, name="cheap"))
    model.add(gf.Generator(bus=0, p_max_mw=100.0, cost_per_mwh=cost_expensive, name="dear"))


def lot(**options):
    """Two EVs of 5 MWh each parked before the horizon, leaving at the start of period 2.

    1 MW per EV, efficiencies 1, SOC 0-100 %, contract 40 % of 5 MWh = 2 MW of V2G.
    """
    base = dict(
        ev_count=[2, 2, 0],
        capacity_mwh=[10, 10, 0],
        arrival_energy_mwh=[0, 0, 0],
        departure_energy_mwh=[0, 0, 5],
        contract_energy_mwh=[5, 5, 0],
        charge_rate_mw=1.0,
        discharge_rate_mw=1.0,
        eta_charge=1.0,
        eta_discharge=1.0,
        soc_min=0.0,
        soc_max=1.0,
        e_initial_mwh=5.0,
        name="lot",
    )
    return gf.EVParkingLot(0, **(base | options))


def test_hand_solved_v2g_arbitrage_and_soe_path():
    # Period 0 cheap (10), period 1 only the dear unit (50), period 2 cheap again; load 10 MW.
    # The EVs must leave with the 5 MWh they brought (e_1 = 5 since Cap_2 = 0), so the lot
    # charges 2 MW (its rate) in period 0 and discharges 2 MW in period 1:
    # cost = 12 * 10 + 8 * 50 + 10 * 10 = 620.
    model = gf.Model(one_bus(), periods=3, net_elements=False)
    supply(model, cheap_mw=np.array([[20.0, 0.0, 20.0]]))
    model.add(gf.Load(bus=0, p_mw=10.0, name="d"))
    model.add(lot())
    result = model.solve()
    assert result.objective == pytest.approx(620.0, abs=1e-6)
    table = result.tables["res_ev_parking_lot"]
    np.testing.assert_allclose(table["p_mw"]["lot"], [2.0, -2.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(table["e_mwh"]["lot"], [7.0, 5.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(table["soc_percent"]["lot"].iloc[:2], [70.0, 50.0], atol=1e-6)


def test_contract_limit_binds_v2g():
    # psi = 0.2: V2G at most 0.2 x 5 = 1 MW although 2 EVs could give 2 MW.
    model = gf.Model(one_bus(), periods=3, net_elements=False)
    supply(model, cheap_mw=np.array([[20.0, 0.0, 20.0]]))
    model.add(gf.Load(bus=0, p_mw=10.0, name="d"))
    model.add(lot(contract_share=0.2))
    result = model.solve()
    np.testing.assert_allclose(
        result.tables["res_ev_parking_lot"]["p_mw"]["lot"], [1.0, -1.0, 0.0], atol=1e-7
    )
    assert result.objective == pytest.approx(11 * 10 + 9 * 50 + 10 * 10, abs=1e-6)


SEED_003 = (P.SPINNING, P.NON_SPINNING, P.REGULATION_UP, P.REGULATION_DOWN, P.REPLACEMENT,
            P.RAMP_UP, P.RAMP_DOWN)  # fmt: skip
ALL_OFFERS = {p: 1.0 for p in SEED_003}


@pytest.mark.parametrize("form", ["paper", "headroom"])
def test_station_provides_every_product_within_its_limits(form):
    # Only the lot offers products. Period 1 (discharging, worth 40 per MWh) asks for 0.2 MW of
    # each up product; period 0 (charging) for 0.3 MW of each down product.
    model = gf.Model(one_bus(), periods=3, net_elements=False)
    supply(model, cheap_mw=np.array([[20.0, 0.0, 20.0]]))
    model.add(gf.Load(bus=0, p_mw=10.0, name="d"))
    model.add(lot(offers=ALL_OFFERS, reserve_energy=form))
    up = [p for p in SEED_003 if p.direction == P.Direction.UP]
    down = [p for p in SEED_003 if p.direction == P.Direction.DOWN]
    for product in up:
        model.add(gf.Requirement(product, [0.0, 0.2, 0.0]))
    for product in down:
        model.add(gf.Requirement(product, [0.3, 0.0, 0.0]))
    result = model.solve()
    table = result.tables["res_ev_parking_lot"]
    for product in up:
        np.testing.assert_allclose(table[f"{product}_mw"]["lot"], [0, 0.2, 0], atol=1e-7)
    for product in down:
        np.testing.assert_allclose(table[f"{product}_mw"]["lot"], [0.3, 0, 0], atol=1e-7)
    provided = result.tables["res_requirement"]["provided_mw"]
    np.testing.assert_allclose(provided["spinning"], [0, 0.2, 0], atol=1e-7)
    assert result.costs.loc[("lot", "reserves"), "cost"] == pytest.approx(1.6)
    if form == "paper":
        # eq. 2: charge + 0.6 MW of down products <= 2 MW; down products are not credited as
        # energy (4'), so e_0 = 5 + 1.4 = 6.4; eq. 1: discharge + 1.0 MW up <= 2, and up
        # products are booked as deployed: e_1 = 6.4 - 0.4 - 1.0 = 5 (what the EVs take away)
        assert table["p_charge_mw"]["lot"].iloc[0] == pytest.approx(1.4, abs=1e-7)
        assert table["p_discharge_mw"]["lot"].iloc[1] == pytest.approx(0.4, abs=1e-7)
        np.testing.assert_allclose(table["e_mwh"]["lot"], [6.4, 5.0, 0.0], atol=1e-7)
        np.testing.assert_allclose(table["reserve_debit_mwh"]["lot"], [0, 1.0, 0], atol=1e-7)
        assert result.objective == pytest.approx(10 * 11.4 + 50 * 9.6 + 100 + 1.6)
    else:
        # held products are capacity: e_1 = 5 (what the EVs take away) = 5 + c - d, and eq. 1
        # caps d at 2 - 1.0 of up products: charge 1 MWh at 10, give it back at 50; the 1 MWh
        # left in period 1 covers the 1.0 MW of up products for their one period
        assert table["p_charge_mw"]["lot"].iloc[0] == pytest.approx(1.0, abs=1e-7)
        assert table["p_discharge_mw"]["lot"].iloc[1] == pytest.approx(1.0, abs=1e-7)
        np.testing.assert_allclose(table["e_mwh"]["lot"], [6.0, 5.0, 0.0], atol=1e-7)
        np.testing.assert_allclose(table["reserve_debit_mwh"]["lot"], 0.0, atol=1e-12)
        assert result.objective == pytest.approx(10 * 11.0 + 50 * 9.0 + 100 + 1.6)


def test_generator_reserve_split_hand_solved():
    # Load 100: unit A (10 per MWh, 120 MW) can hold only 20 MW of spinning at 2 per MW-h;
    # unit B (30, 100 MW) holds the other 30 at 5. Cost per period 1000 + 40 + 150.
    model = gf.Model(one_bus(), periods=2, net_elements=False)
    offers = {P.SPINNING: [2.0, 5.0]}
    model.add(gf.Generator([0, 0], [120, 100], cost_per_mwh=[10, 30], offers=offers, name="g"))
    model.add(gf.Load(0, p_mw=100.0, name="d"))
    model.add(gf.Requirement(P.SPINNING, 50.0))
    result = model.solve(milp_prices=True)
    assert result.objective == pytest.approx(2 * 1190.0)
    np.testing.assert_allclose(result.res_gen["spinning_mw"].iloc[0], [20, 30], atol=1e-7)
    np.testing.assert_allclose(result.res_requirement["price_per_mwh"]["spinning"], 5.0)


def test_generator_reserve_within_ramp_rate():
    # A 6 MW/h ramp over 15 minutes caps its up products at 1.5 MW.
    model = gf.Model(one_bus(), periods=2, dt_h=0.25, net_elements=False)
    model.add(
        gf.Generator(0, 100, cost_per_mwh=10, ramp_up_mw_per_h=6.0, offers=ALL_OFFERS, name="g")
    )
    model.add(gf.Load(0, p_mw=50.0, shed_cost_per_mwh=1000.0, name="d"))
    model.add(gf.Requirement(P.RAMP_UP, 1.6, name="too_much"))
    with pytest.raises(gf.InputError, match=r"providers can hold at most 1.5 MW \(g 1.5\)"):
        model.solve()  # refused before the solve: 1.6 MW is above any 15-minute ramp
    model.requirements.clear()
    model.add(gf.Requirement(P.RAMP_UP, 1.5))
    assert model.solve().res_gen["ramp_up_mw"].to_numpy().max() == pytest.approx(1.5)


def test_shedding_and_spillage_count_as_last_resort_ramp():
    # Ramp requirement 5 MW up: the load's shedding may provide it (eq. 22) at its shed cost.
    model = gf.Model(one_bus(), periods=1, net_elements=False)
    model.add(gf.Generator(0, 100, cost_per_mwh=10, name="g"))
    model.add(gf.Load(0, 50.0, shed_cost_per_mwh=200.0, shedding_provides=P.RAMP_UP, name="d"))
    model.add(gf.Renewable(0, [20.0], spillage_provides=P.RAMP_DOWN, name="w"))
    model.add(gf.Requirement(P.RAMP_UP, 5.0))
    model.add(gf.Requirement(P.RAMP_DOWN, 3.0))
    result = model.solve()
    assert result.res_load["shed_mw"]["d"].iloc[0] == pytest.approx(5.0)
    assert result.res_sgen["curtailed_mw"]["w"].iloc[0] == pytest.approx(3.0)
    assert result.objective == pytest.approx(200 * 5 + 10 * (50 - 5 - 17))


def test_wind_output_ramp_is_the_exact_positive_and_negative_change():
    model = gf.Model(one_bus(), periods=4, net_elements=False)
    model.add(gf.Generator(0, 100, cost_per_mwh=10, name="g"))
    model.add(gf.Load(0, 80.0, name="d"))
    model.add(
        gf.Renewable(0, [10.0, 30.0, 5.0, 5.0], curtailable=False, output_ramp=True, name="w")
    )
    model.add(gf.Requirement(P.RAMP_UP, 0.0))
    result = model.solve()
    np.testing.assert_allclose(result.res_sgen["output_ramp_up_mw"]["w"], [0, 20, 0, 0])
    np.testing.assert_allclose(result.res_sgen["output_ramp_down_mw"]["w"], [0, 0, 25, 0])


@settings(max_examples=15, deadline=None)
@given(
    n_evs=st.integers(1, 12),
    seed=st.integers(0, 10_000),
    psi=st.floats(0.0, 1.0),
    eta=st.floats(0.7, 1.0),
)
def test_soe_within_bounds_and_energy_balance_closes(n_evs, seed, psi, eta):
    rng = np.random.default_rng(seed)
    T = 6
    first = rng.integers(0, T - 1, n_evs)
    end = np.minimum(first + rng.integers(1, T, n_evs), T)
    capacity = rng.uniform(0.02, 0.1, n_evs)
    e_arrive = rng.uniform(0.4, 0.9, n_evs) * capacity  # leave with what they brought
    present = (np.arange(T)[:, None] >= first) & (np.arange(T)[:, None] < end)

    def per_period(index, weights):
        return np.bincount(index, weights=weights, minlength=T + 1)[:T]

    station = gf.EVParkingLot(
        0,
        ev_count=present.sum(axis=1),
        capacity_mwh=present @ capacity,
        arrival_energy_mwh=per_period(first, e_arrive),
        departure_energy_mwh=per_period(end, e_arrive),
        contract_energy_mwh=present @ e_arrive,
        contract_share=psi,
        eta_charge=eta,
        eta_discharge=eta,
        offers={P.RAMP_UP: 0.5, P.REGULATION_DOWN: 0.5},
        name="lot",
    )
    model = gf.Model(one_bus(), periods=T, dt_h=0.25, net_elements=False)
    model.add(gf.Generator(0, p_max_mw=rng.uniform(0, 2, (1, T)), cost_per_mwh=5, name="cheap"))
    # the dear unit can also hold the ramp (at a high price), so every instance is feasible:
    # a lone EV that must leave with its energy cannot hold up products in its only period
    model.add(gf.Generator(0, 100, cost_per_mwh=60, offers={P.RAMP_UP: 50.0}, name="dear"))
    model.add(gf.Load(0, 1.0, name="d"))
    model.add(station)
    # ramp up asked for in period 2 only (a lot asked for up products in every period could
    # never charge, since up products need the V2G mode, eq. 3)
    model.add(gf.Requirement(P.RAMP_UP, np.r_[0, 0, 1e-3 * psi * (present[2].sum() > 0), 0, 0, 0]))
    result = model.solve()
    t = result.tables["res_ev_parking_lot"]
    e, cap = t["e_mwh"]["lot"].to_numpy(), present @ capacity
    assert (e >= 0.3 * cap - 1e-6).all() and (e <= 0.9 * cap + 1e-6).all()
    charged = eta * t["p_charge_mw"]["lot"].sum() * 0.25  # down products are not credited
    discharged = t["p_discharge_mw"]["lot"].sum() * 0.25 / eta  # held ramp is capacity only
    balance = charged - discharged + e_arrive.sum() - e_arrive[end < T].sum()
    assert e[-1] == pytest.approx(balance, abs=1e-6)
    # and period by period from the table's own terms
    flows = t["arrival_energy_mwh"] - t["departure_energy_mwh"] - t["losses_mwh"]
    flows += 0.25 * (t["p_charge_mw"] - t["p_discharge_mw"])
    np.testing.assert_allclose(np.diff(np.r_[0.0, e]), flows["lot"].to_numpy(), atol=1e-6)


def test_ev_generator_reproduces_its_distributions():
    behaviour = EVBehaviour()
    profile = simulate_parking_lot(200_000, 16, behaviour=behaviour, seed=3)
    assert profile.n_evs + profile.n_too_short == 200_000
    rng = np.random.default_rng(0)
    for dist in (behaviour.arrival_hour, behaviour.departure_hour, behaviour.arrival_soc):
        x = dist.sample(rng, 100_000)
        assert x.min() >= dist.low and x.max() <= dist.high
        a, b = (dist.low - dist.mean) / dist.sd, (dist.high - dist.mean) / dist.sd
        from scipy.stats import truncnorm

        assert x.mean() == pytest.approx(truncnorm.mean(a, b, dist.mean, dist.sd), abs=0.005)
    # no EV parked in periods 1-2 and 15-16 (paper Fig. 5), and never more than the spaces
    assert (profile.ev_count[[0, 1, 14, 15]] == 0).all() and profile.ev_count.max() <= 200_000
    mean_kwh = behaviour.battery_kwh @ behaviour.battery_probability
    parked_kwh = 1000 * profile.capacity_mwh.max() / profile.ev_count.max()
    assert parked_kwh == pytest.approx(mean_kwh, rel=0.02)


def test_two_lots_of_135000_spaces_scale_and_stack():
    a = simulate_parking_lot(135_000, 16, seed=1)
    b = simulate_parking_lot(135_000, 16, seed=2)
    station = gf.EVParkingLot.from_profiles([57, 71], [a, b])
    assert np.shape(station.ev_count) == (2, 16)
    np.testing.assert_allclose(a.scaled(0.5).capacity_mwh, 0.5 * a.capacity_mwh)


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(arrival_hour=TruncatedGaussian(22.0, 0.5, 21.0, 23.0)), "arrival"),
        (dict(arrival_soc=TruncatedGaussian(0.5, 0.1, -0.1, 0.9)), r"\[0, 1\]"),
        (dict(departure_share=TruncatedGaussian(0.8, 0.1, 0.6, 1.2)), r"\[0, 1\]"),
        (dict(arrival_hour=TruncatedGaussian(19.0, 1.0, 17.0, 21.0)), "before the latest"),
    ],
)
def test_bad_behaviour_is_refused(change, match):
    with pytest.raises(gf.InputError, match=match):
        simulate_parking_lot(10, 16, behaviour=EVBehaviour(**change))


@pytest.mark.parametrize(
    "options, match",
    [
        (dict(contract_share=1.5), "contract_share"),
        (dict(soc_min=-0.1), "soc_min"),
        (dict(soc_max=1.2), "soc_max"),
        (dict(soc_min=0.8, soc_max=0.5), "soc_min must not exceed"),
        (dict(ev_count=[2, -1, 0]), "ev_count"),
    ],
)
def test_bad_station_input_is_refused_before_solving(options, match):
    model = gf.Model(one_bus(), periods=3, net_elements=False)
    with pytest.raises(gf.InputError, match=match):  # at construction, or at the latest at build
        model.add(lot(**options))
        model.build()


def test_station_at_unknown_bus_and_unknown_product():
    model = gf.Model(one_bus(), periods=3, net_elements=False)
    model.add(gf.EVParkingLot(7, [1, 1, 1], [1, 1, 1], [0, 0, 0], [0, 0, 0], name="x"))
    with pytest.raises(gf.InputError, match=r"EVParkingLot .x.*7"):
        model.build()
    with pytest.raises(gf.InputError, match="unknown product 'spinnig'"):
        gf.Requirement("spinnig", 1.0)
