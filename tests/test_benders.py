"""Benders decomposition (gridflex.problems.benders) against the monolithic solve and a brute
force over the candidate subsets; infeasible proposals; the cut slopes by finite differences."""

import itertools
import types

import cvxpy as cp
import numpy as np
import pandapower as pp
import pytest

import gridflex as gf
from gridflex.formulations.candidates import CandidateBranches, add_candidate_line
from gridflex.problems.benders import benders
from gridflex.problems.decisions import Decision
from gridflex.problems.decompose import SubProblem, split_problem

SCENARIOS = gf.scenario_blocks([0.7, 0.3])  # normal and peak, 0.7 and 0.3 of 8760 h
LOAD = np.array([80.0, 150.0])
LINE_COST, UNIT_COST = 116_556.0, 106_428.0  # per year


def planning_model(peaker=True, fixed=None):
    """Two buses, one 100 MW line and a candidate second line; a cheap remote unit, a dear
    local peaker, a candidate local unit. ``fixed``: (line, unit) built or not (brute force)."""
    net = pp.create_empty_network(sn_mva=100.0)
    pp.create_buses(net, 2, vn_kv=110.0)
    rating = 100.0 / (np.sqrt(3) * 110.0)
    pp.create_line_from_parameters(net, 0, 1, 10.0, 0.01, 0.1, 0.0, max_i_ka=rating)
    net, line = add_candidate_line(net, 0, 1, like=0)
    candidates = CandidateBranches(line=[line], cost=[LINE_COST])
    if fixed is not None:
        net.line.loc[line, "in_service"] = bool(fixed[0])
        candidates = None
    model = gf.Model(net, periods=SCENARIOS, formulation=gf.DC(candidates=candidates),
                     net_elements=False)  # fmt: skip
    model.add(gf.Generator(0, 500.0, cost_per_mwh=20.0, name="remote"))
    if peaker:
        model.add(gf.Generator(1, 300.0, cost_per_mwh=200.0, name="local_peaker"))
    if fixed is None or fixed[1]:
        unit = {"investment": UNIT_COST} if fixed is None else {}
        model.add(gf.Generator(1, 60.0, cost_per_mwh=30.0, name="new_unit", **unit))
    model.add(gf.Load(1, LOAD.reshape(1, -1), name="d"))
    return model


def brute_force(peaker=True):
    """The cheapest of the four plans, each solved with its candidates fixed (or infeasible)."""
    costs = {}
    for line, unit in itertools.product((0, 1), repeat=2):
        try:
            result = planning_model(peaker, fixed=(line, unit)).solve()
        except gf.SolveError:
            continue
        costs[(line, unit)] = result.objective + line * LINE_COST + unit * UNIT_COST
    best = min(costs, key=costs.get)
    return costs[best], best


def assert_bounds_behave(bounds, gap=1e-4):
    lower, best = bounds["lower_bound"].to_numpy(), bounds["best_upper_bound"].to_numpy()
    assert (np.diff(lower) >= -1e-9 * abs(lower[-1])).all()  # never decreases
    finite = best[np.isfinite(best)]
    assert (np.diff(finite) <= 1e-9 * abs(finite[-1])).all()  # never increases
    assert bounds["gap"].iloc[-1] <= gap
    assert (lower <= finite.min() * (1 + 1e-9)).all()  # a lower bound of every plan


@pytest.mark.parametrize("cuts", ["single", "multi"])
@pytest.mark.parametrize("relaxed_phase", [True, False])
def test_benders_equals_the_monolithic_solve_and_the_brute_force(cuts, relaxed_phase):
    model = planning_model()
    monolithic = model.solve()
    expected, (line, unit) = brute_force()
    assert monolithic.objective == pytest.approx(expected, rel=1e-9)
    found = benders(model, cuts=cuts, relaxed_phase=relaxed_phase)
    assert found.converged
    assert found.objective == pytest.approx(expected, rel=1e-4)
    assert found.plan["net.built"] == pytest.approx([line])
    assert found.plan["new_unit.built"] == pytest.approx([unit])
    assert_bounds_behave(found.bounds)
    assert found.bounds["best_upper_bound"].iloc[-1] == pytest.approx(found.objective, rel=1e-9)
    assert model.fixed == {} and model.solve().objective == pytest.approx(expected, rel=1e-9)


def test_an_infeasible_proposal_gets_a_feasibility_cut():
    # without the peaker, 150 MW of peak load need the new line or the new unit: the first
    # proposal (nothing built) leaves the subproblem infeasible
    expected, plan = brute_force(peaker=False)
    found = benders(planning_model(peaker=False), relaxed_phase=False)
    assert "feasibility" in set(found.bounds["cut"])
    assert np.isnan(found.bounds["upper_bound"].iloc[0]) or np.isinf(
        found.bounds["upper_bound"].iloc[0]
    )
    assert found.objective == pytest.approx(expected, rel=1e-4)
    assert (found.plan["net.built"][0], found.plan["new_unit.built"][0]) == plan
    assert_bounds_behave(found.bounds)


def test_an_elastic_recourse_prices_the_violation_and_ends_feasible():
    expected, plan = brute_force(peaker=False)
    found = benders(planning_model(peaker=False), recourse="elastic", penalty=1e8)
    assert found.bounds["violation"].iloc[0] > 0  # the first proposal violates, priced
    assert found.bounds["violation"].iloc[-1] == pytest.approx(0.0, abs=1e-6)
    assert found.objective == pytest.approx(expected, rel=1e-4)
    assert (found.plan["net.built"][0], found.plan["new_unit.built"][0]) == plan


def test_a_penalty_below_the_costs_it_could_save_is_refused():
    with pytest.raises(gf.InputError, match="raise the penalty"):
        benders(planning_model(peaker=False), recourse="elastic", penalty=1e3)


def test_cut_slopes_equal_finite_differences():
    # the subproblem at a fractional plan; its slope in each decision against a difference
    # quotient of its value (the sign of the duals checked, notes-002 decision 10)
    model = planning_model()
    decisions = [d for d in model.decisions() if d.role is gf.devices.base.Role.INVESTMENT]
    sub = SubProblem(split_problem(model.problem, decisions), {d: [0.0] for d in decisions})
    plan = {"net.built": np.array([0.3]), "new_unit.built": np.array([0.2])}

    def value(p):
        sub.hold(p)
        sub.problem.solve(solver="HIGHS")
        return sub.problem.value

    base = value(plan)
    slopes = sub.slopes(sub.problem, sub.fixing)
    for name in plan:
        step = dict(plan, **{name: plan[name] + 1e-3})
        quotient = (value(step) - base) / 1e-3  # the LP's value is linear near the plan
        assert slopes[name][0] == pytest.approx(quotient, rel=1e-6)
        assert slopes[name][0] < 0  # building more saves operating cost


def test_bad_options_are_refused():
    model = planning_model()
    with pytest.raises(gf.InputError, match="cuts must be 'auto', 'single' or 'multi'"):
        benders(model, cuts="many")
    with pytest.raises(gf.InputError, match="recourse='elastic' needs a penalty"):
        benders(model, recourse="elastic")
    with pytest.raises(gf.InputError, match="no decision 'nope'"):
        benders(model, master=["nope"])
    with pytest.raises(gf.InputError, match="gap must be"):
        benders(model, gap=-1)
    model.fix({"net.built": [1]})
    with pytest.raises(gf.InputError, match="fixed or relaxed decisions"):
        benders(model)


# --- what cannot be split is refused (found by review) ----------------------------------------
class BareModel:
    """The least a model must offer ``benders``: a problem, its decisions, the blocks."""

    def __init__(self, problem, decisions, block_of):
        self.problem, self._decisions = problem, decisions
        self.fixed, self.relaxed = {}, []
        self.time = types.SimpleNamespace(blocks=sorted(set(block_of)), block_of=np.array(block_of))

    def decisions(self):
        return self._decisions

    def evaluate(self, plan, **options):
        held = [d.variable == plan[d.name] for d in self._decisions]
        problem = cp.Problem(self.problem.objective, self.problem.constraints + held)
        problem.solve(solver="HIGHS")
        return types.SimpleNamespace(objective=problem.value)


def two_blocks(couple):
    """A capacity ``x`` serving two one-period blocks; ``couple``: a budget on both blocks'
    output together (it links the blocks). By hand: 1060 at x = 5 with the budget (60 x 5 +
    10 of output + 5 x 100 + 5 x 50 unserved), 620 at x = 10 without."""
    x = cp.Variable(1, nonneg=True, name="x")
    g, u = cp.Variable(2, nonneg=True, name="g"), cp.Variable(2, nonneg=True, name="u")
    constraints = [x <= 20, g <= x[0] * np.ones(2), g + u == np.array([10.0, 10.0])]
    if couple:
        constraints.append(cp.sum(g) <= 10)
    cost = 60 * cp.sum(x) + np.array([100.0, 50.0]) @ u + cp.sum(g)
    problem = cp.Problem(cp.Minimize(cost), constraints)
    decision = Decision("inv", "x", gf.devices.base.Role.INVESTMENT, x, ["x"])
    return BareModel(problem, [decision], [0, 1])


def test_a_constraint_that_links_blocks_is_refused_for_cuts_per_block():
    with pytest.raises(gf.InputError, match="links periods of different blocks"):
        benders(two_blocks(couple=True), cuts="multi", floor=0.0)
    found = benders(two_blocks(couple=True), cuts="auto", floor=0.0)  # falls back to one cut
    assert found.info["cuts"] == "single" and found.objective == pytest.approx(1060.0)
    separable = benders(two_blocks(couple=False), cuts="auto", floor=0.0)
    assert separable.info["cuts"] == "multi" and separable.objective == pytest.approx(620.0)


def test_integers_left_out_of_the_master_are_refused():
    model = planning_model()
    with pytest.raises(gf.InputError, match="are not in the master"):
        benders(model, master=["net.built"])


def test_held_decisions_restrict_the_master_like_a_fixed_model():
    # hold the unit unbuilt in the master: Benders equals the model solved with it fixed
    model = planning_model()
    found = benders(model, hold={"new_unit.built": [0]})
    fixed = planning_model()
    fixed.fix({"new_unit.built": [0]})
    assert found.plan["new_unit.built"] == pytest.approx([0])
    assert found.objective == pytest.approx(fixed.solve().objective, rel=1e-4)
    with pytest.raises(gf.InputError, match="not a master decision"):
        benders(model, hold={"remote.p_mw": [0]})
