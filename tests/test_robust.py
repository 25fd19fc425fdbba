"""Robust counterparts (gridflex.robust) against the LP with every vertex of the uncertainty set
written out, and seed 002's wind counterpart against the paper's dual form (14)."""

import itertools

import cvxpy as cp
import numpy as np
import pytest

import gridflex as gf
from gridflex.robust import robust_le, worst_case_availability

RNG = np.random.default_rng(11)
N = 4


def case(m=3):
    """max c^T x over a random polytope with uncertain rows, -5 <= x <= 5."""
    abar = RNG.uniform(-1.0, 2.0, (m, N))
    ahat = RNG.uniform(0.0, 0.6, (m, N)) * (RNG.random((m, N)) > 0.3)
    return abar, ahat, RNG.uniform(2.0, 6.0, m), RNG.uniform(-1.0, 1.0, N)


def vertices(budget):
    """Extreme points of {|z| <= 1, sum |z| <= budget} for an integer budget (and the box)."""
    k = N if budget is None else int(budget)
    out = []
    for support in itertools.combinations(range(N), k):
        for signs in itertools.product((-1.0, 1.0), repeat=k):
            z = np.zeros(N)
            z[list(support)] = signs
            out.append(z)
    return out


def solve(abar, ahat, b, c, budget=None, robust=True, x_nonneg=False):
    x = cp.Variable(N)
    cons = [x >= (0 if x_nonneg else -5), x <= 5]
    if robust:
        cons += robust_le(abar, ahat, x, b, budget=budget, x_nonneg=x_nonneg)
    else:  # every vertex of each row's set, written out
        for z in vertices(budget):
            cons.append((abar + ahat * z) @ x <= b)
    problem = cp.Problem(cp.Maximize(c @ x), cons)
    problem.solve(solver=cp.HIGHS)
    return problem.value, x.value


@pytest.mark.parametrize("budget", [None, 0, 1, 2, 3, 4])
@pytest.mark.parametrize("x_nonneg", [False, True])
def test_counterpart_equals_the_vertex_enumeration(budget, x_nonneg):
    for _ in range(5):
        abar, ahat, b, c = case()
        robust, x = solve(abar, ahat, b, c, budget, x_nonneg=x_nonneg)
        enumerated, _ = solve(abar, ahat, b, c, budget, robust=False, x_nonneg=x_nonneg)
        assert robust == pytest.approx(enumerated, rel=1e-8, abs=1e-8)
        worst = max(((abar + ahat * z) @ x - b).max() for z in vertices(budget))
        assert worst <= 1e-7  # the robust solution is feasible at every vertex


def test_a_fractional_budget_lies_between_its_integers():
    abar, ahat, b, c = case()
    values = [solve(abar, ahat, b, c, g)[0] for g in (1.0, 1.5, 2.0)]
    assert values[0] >= values[1] - 1e-9 >= values[2] - 2e-9  # more protection costs more
    assert solve(abar, ahat, b, c, N)[0] == pytest.approx(solve(abar, ahat, b, c)[0], rel=1e-9)


def test_wind_counterpart_equals_the_papers_dual_form():
    # Seed 002 eq. (14): exists xi1, xi2 >= 0, xi1 - xi2 >= -1, xi1 a P - xi2 b P <= -p, with
    # a = rho*(1 + G eps), b = rho*(1 - G eps): the same optimum as p <= (1 - G eps) rho* P.
    # The printed form is bilinear in xi and P; with P fixed at each candidate size it is an LP.
    rho, eps, price, cost = np.array([0.2, 0.7, 0.9]), 0.1, 50.0, 30.0
    for gamma in (0.0, 0.5, 1.0, 3.0):
        p, size = cp.Variable(3, nonneg=True), cp.Variable(nonneg=True)
        counterpart = cp.Problem(
            cp.Maximize(price * cp.sum(p) - cost * size),
            [size <= 10.0, p <= worst_case_availability(rho, eps, gamma) * size],
        )
        counterpart.solve(solver=cp.HIGHS)
        high, low = rho * (1 + gamma * eps), rho * (1 - gamma * eps)
        best = -np.inf
        for capacity in np.linspace(0.0, 10.0, 11):  # the optimum sits at a bound of size
            p2 = cp.Variable(3, nonneg=True)
            xi1, xi2 = cp.Variable(3, nonneg=True), cp.Variable(3, nonneg=True)
            dual = cp.Problem(
                cp.Maximize(price * cp.sum(p2) - cost * capacity),
                [xi1 - xi2 >= -1,
                 capacity * (cp.multiply(xi1, high) - cp.multiply(xi2, low)) <= -p2],
            )  # fmt: skip
            dual.solve(solver=cp.HIGHS)
            best = max(best, dual.value)
        assert counterpart.value == pytest.approx(best, rel=1e-9, abs=1e-9)


def test_bad_input_is_refused_clearly():
    x = cp.Variable(2)
    with pytest.raises(gf.InputError, match="budget Gamma must lie in"):
        robust_le([[1.0, 1.0]], [[0.1, 0.1]], x, [1.0], budget=3)
    with pytest.raises(gf.InputError, match="deviations must be >= 0"):
        robust_le([[1.0, 1.0]], [[-0.1, 0.1]], x, [1.0])
    with pytest.raises(gf.InputError, match="shapes do not fit"):
        robust_le([[1.0, 1.0, 1.0]], [[0.1, 0.1, 0.1]], x, [1.0])
    with pytest.raises(gf.InputError, match=r"Gamma must lie in \[0, 1/epsilon\]"):
        worst_case_availability([0.5], 0.1, gamma=11.0)
    with pytest.raises(gf.InputError, match="epsilon must be > 0"):
        worst_case_availability([0.5], 0.0)


# --- RobustWind: integer turbines with the worst-case availability ----------------------------
def wind_model(gamma):
    import pandapower as pp

    net = pp.create_empty_network()
    pp.create_bus(net, vn_kv=22.0)
    model = gf.Model(net, periods=4, net_elements=False)
    model.add(gf.ExternalGrid(0, 50.0, p_min_mw=0.0, name="grid"))  # no export
    model.add(gf.Load(0, 3.0, name="load"))
    model.add(gf.RobustWind(0, 0.8, units_max=20, unit_mw=0.5, cost_per_unit=60.0,
                            epsilon=0.1, gamma=gamma, name="wt"))  # fmt: skip
    return model


@pytest.mark.parametrize(("gamma", "units"), [(1.0, 8), (0.0, 7)])
def test_robust_wind_builds_the_hand_count(gamma, units):
    # a 0.5 MW turbine gives (1 - 0.1 gamma) 0.8 x 0.5 MW for sure; one saves 50 per MWh over
    # 4 h and costs 60: build while a whole turbine's output is still used (8 x 0.36 = 2.88 MW
    # of the 3 MW load at gamma = 1; 7 x 0.40 = 2.8 MW at gamma = 0)
    result = wind_model(gamma).solve()
    per_unit = (1 - 0.1 * gamma) * 0.8 * 0.5
    assert result.plan["wt.units"] == pytest.approx([units])
    hand = 50.0 * (3.0 - units * per_unit) * 4 + 60.0 * units
    assert result.objective == pytest.approx(hand, rel=1e-9)
    table = result.tables["res_robust_wind"]
    np.testing.assert_allclose(table["available_mw"]["wt"], units * per_unit)


def test_robust_wind_cost_does_not_fall_with_gamma():
    costs = [wind_model(g).solve().objective for g in (0.0, 0.5, 1.0, 2.0)]
    assert all(a <= b + 1e-9 for a, b in itertools.pairwise(costs))


def test_robust_wind_refuses_gamma_beyond_one_over_epsilon():
    model = wind_model(11.0)
    with pytest.raises(gf.InputError, match=r"Gamma must lie in \[0, 1/epsilon\]"):
        model.build()
