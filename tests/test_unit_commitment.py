"""Unit commitment against a brute force over every on/off schedule."""

import itertools

import numpy as np
import pandapower as pp
import pytest

import gridflex as gf

LOAD = np.array([30.0, 80.0, 125.0, 60.0, 15.0])
UNITS = dict(
    p_min=np.array([20.0, 10.0]),
    p_max=np.array([100.0, 60.0]),
    cost=np.array([10.0, 40.0]),
    no_load=np.array([200.0, 20.0]),
    startup=np.array([500.0, 50.0]),
    up=np.array([3, 1]),
    down=np.array([2, 1]),
)
VOLL = 1000.0


def _respects_min_times(u, u0, up, down):
    prev = np.r_[u0, u[:-1]]
    for t in np.flatnonzero((u == 1) & (prev == 0)):
        if not u[t : t + up].all():
            return False
    for t in np.flatnonzero((u == 0) & (prev == 1)):
        if u[t : t + down].any():
            return False
    return True


def _dispatch_cost(on, load):
    """Merit-order dispatch of the committed units in one period; None if over-generation."""
    p = UNITS["p_min"] * on
    if p.sum() > load + 1e-9:
        return None
    rest = load - p.sum()
    for i in np.argsort(UNITS["cost"]):
        add = min(rest, (UNITS["p_max"][i] - UNITS["p_min"][i]) * on[i])
        p[i] += add
        rest -= add
    return float(UNITS["cost"] @ p + UNITS["no_load"] @ on + VOLL * rest)


def brute_force(initial_on):
    T, best = len(LOAD), np.inf
    for bits in itertools.product([0, 1], repeat=2 * T):
        u = np.array(bits).reshape(2, T)
        if not all(
            _respects_min_times(u[i], initial_on[i], UNITS["up"][i], UNITS["down"][i])
            for i in range(2)
        ):
            continue
        costs = [_dispatch_cost(u[:, t], LOAD[t]) for t in range(T)]
        if None in costs:
            continue
        starts = ((u == 1) & (np.c_[initial_on, u[:, :-1]] == 0)).sum(axis=1)
        best = min(best, sum(costs) + float(UNITS["startup"] @ starts))
    return best


@pytest.mark.parametrize("initial_on", [(0, 0), (1, 0), (1, 1)])
def test_commitment_matches_brute_force(initial_on):
    net = pp.create_empty_network()
    pp.create_bus(net, vn_kv=20.0)
    model = gf.Model(net, periods=len(LOAD), net_elements=False)
    model.add(
        gf.Generator(
            bus=[0, 0],
            p_max_mw=UNITS["p_max"],
            p_min_mw=UNITS["p_min"],
            cost_per_mwh=UNITS["cost"],
            cost_per_h=UNITS["no_load"],
            startup_cost=UNITS["startup"],
            min_up_h=UNITS["up"],
            min_down_h=UNITS["down"],
            commitment=True,
            initial_on=np.array(initial_on, bool),
            name="g",
        )
    )
    model.add(gf.Load(bus=0, p_mw=LOAD, shed_cost_per_mwh=VOLL, name="d"))
    r = model.solve()
    assert r.solver == "HIGHS"
    assert r.objective == pytest.approx(brute_force(np.array(initial_on)), rel=1e-7)
    on = r.res_gen["on"].to_numpy().T
    for i in range(2):
        assert _respects_min_times(on[i], initial_on[i], UNITS["up"][i], UNITS["down"][i])


def _cheap_and_dear(load, **unit_a):
    """One bus: committed unit a (10/MWh, 20-100 MW, off before), unit b (50/MWh), a load."""
    net = pp.create_empty_network()
    pp.create_bus(net, vn_kv=20.0)
    model = gf.Model(net, periods=len(load), net_elements=False)
    model.add(
        gf.Generator(
            bus=0,
            p_max_mw=100,
            p_min_mw=20,
            cost_per_mwh=10,
            commitment=True,
            initial_on=False,
            name="a",
            **unit_a,
        )
    )
    model.add(gf.Generator(bus=0, p_max_mw=100, cost_per_mwh=50, name="b"))
    model.add(gf.Load(bus=0, p_mw=load, name="d"))
    return model


@pytest.mark.parametrize(("min_up_h", "expected_on"), [(1, [1, 1, 0, 0, 1]), (5, [0, 0, 0, 0, 1])])
def test_min_up_time_changes_the_schedule(min_up_h, expected_on):
    # Cheap unit A (min 20 MW) cannot run in periods 3-4 (load 10 MW, no outlet). With a 1 h
    # min up time it runs in 1-2 and again in 5; with 5 h, a start in period 1 would force it on
    # through period 5, so it only starts in period 5 (the window is cut at the horizon's end).
    model = _cheap_and_dear(load=[50, 50, 10, 10, 50], min_up_h=min_up_h)
    r = model.solve()
    np.testing.assert_array_equal(r.res_gen["on"]["a"], expected_on)


def test_milp_prices_from_the_pricing_run():
    # Unit a (10/MWh, 20-100 MW, start 100) is committed in all periods; b (50/MWh) covers the
    # peak. With a's commitment fixed, the marginal unit is a (10), b (50), a (10).
    model = _cheap_and_dear(load=[50, 150, 50], startup_cost=100)
    assert model.solve().res_bus["price_per_mwh"].isna().all().all()
    r = model.solve(milp_prices=True)
    assert r.objective == pytest.approx(100 + 10 * 200 + 50 * 50)
    np.testing.assert_allclose(r.res_bus["price_per_mwh"][0], [10, 50, 10], atol=1e-6)
