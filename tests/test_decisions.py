"""Decisions by role: list, fix, unfix, evaluate a plan.

References: the brute force of tests/test_planning.py (each candidate subset solved with the
candidates built or removed in the net), the MILP with the plan added as bounds by hand, and
finite differences for the marginal value of a fixed decision.
"""

import importlib.util
import itertools
from pathlib import Path

import cvxpy as cp
import numpy as np
import pandapower as pp
import pytest

import gridflex as gf
from gridflex.devices.base import Role
from gridflex.formulations.candidates import CandidateBranches


def _planning_case():
    """tests/test_planning.py as a module (its brute force is this file's reference)."""
    spec = importlib.util.spec_from_file_location(
        "planning_case", Path(__file__).with_name("test_planning.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CASE = _planning_case()
LINE_COST, LOAD, SCENARIOS, UNIT_COST = CASE.LINE_COST, CASE.LOAD, CASE.SCENARIOS, CASE.UNIT_COST
net_with_candidate, brute_force = CASE.net_with_candidate, CASE.solve


def planning_model():
    """tests/test_planning.py's study: a candidate line and a candidate unit, two scenarios."""
    net, line = net_with_candidate()
    candidates = CandidateBranches(line=[line], cost=[LINE_COST])
    model = gf.Model(net, periods=SCENARIOS, formulation=gf.DC(candidates=candidates),
                     net_elements=False)  # fmt: skip
    model.add(gf.Generator(0, 500.0, cost_per_mwh=20.0, name="remote"))
    model.add(gf.Generator(1, 300.0, cost_per_mwh=200.0, name="local_peaker"))
    model.add(gf.Generator(1, 60.0, cost_per_mwh=30.0, investment=UNIT_COST, name="new_unit"))
    model.add(gf.Load(1, LOAD.reshape(1, -1), name="d"))
    return model


def test_decisions_are_listed_by_role_with_stable_names():
    model = planning_model()
    model.add(gf.Storage(1, p_mw=5.0, e_mwh=10.0, exclusive_modes=True, name="bess"))
    invest = {d.name: d for d in model.decisions(Role.INVESTMENT)}
    assert set(invest) == {"new_unit.built", "net.built"}
    assert invest["net.built"].labels == ["line 1"] and invest["net.built"].integer
    assert [d.name for d in model.decisions(Role.COMMITMENT)] == ["bess.charging"]
    assert "bess.e_mwh" in {d.name for d in model.decisions(Role.OPERATION)}


@pytest.mark.parametrize("line, unit", list(itertools.product([0, 1], [0, 1])))
def test_evaluate_a_plan_equals_the_brute_force_and_the_plan_as_bounds(line, unit):
    model = planning_model()
    plan = {"net.built": [line], "new_unit.built": [unit]}
    evaluated = model.evaluate(plan)
    assert evaluated.objective == pytest.approx(brute_force(line, unit)[0], rel=1e-7)
    # the MILP with the plan as bounds, written by hand on the built problem
    problem = model.build()
    bounds = [
        d.variable == np.reshape(plan[d.name], d.variable.shape)
        for d in model.decisions(Role.INVESTMENT)
    ]
    reference = cp.Problem(problem.objective, [*problem.constraints, *bounds])
    reference.solve(solver=cp.HIGHS)
    assert evaluated.objective == pytest.approx(reference.value, rel=1e-9)
    # every integer fixed: an LP with prices, and the model is left as it was
    assert np.isfinite(evaluated.res_bus["price_per_mwh"].to_numpy()).all()
    assert model.fixed == {}
    assert evaluated.res_gen["built"]["new_unit"].iloc[0] == unit


def test_fix_then_unfix_returns_the_original_optimum():
    model = planning_model()
    best = model.solve()
    model.fix({"new_unit.built": [1 - best.plan["new_unit.built"][0]]})
    other = model.solve()
    assert other.objective > best.objective + 1.0
    model.unfix()
    assert model.solve().objective == pytest.approx(best.objective, rel=1e-9)
    assert set(best.plan) == {"new_unit.built", "net.built"}


def test_fixes_survive_a_rebuild_after_an_edit():
    model = planning_model()
    model.fix({"new_unit.built": [0], "net.built": [1]})
    first = model.solve()
    model.device("d").p_mw = (LOAD * 1.1).reshape(1, -1)  # the model rebuilds; the plan stays
    again = model.solve()
    assert again.plan["new_unit.built"][0] == 0 and again.plan["net.built"][0] == 1
    assert again.objective > first.objective


def test_the_marginal_value_of_a_fixed_decision_is_the_finite_difference():
    # One bus, a 10/MWh unit and a 50/MWh unit serving 100 MW: fixing the cheap unit at 40 MW
    # costs 50 - 10 = 40 per MW less for every MW more it makes.
    net = pp.create_empty_network()
    pp.create_bus(net, 110.0)
    model = gf.Model(net, periods=1, net_elements=False)
    model.add(gf.Generator(0, 100.0, cost_per_mwh=10.0, name="cheap"))
    model.add(gf.Generator(0, 100.0, cost_per_mwh=50.0, name="dear"))
    model.add(gf.Load(0, 100.0, name="d"))
    at = {h: model.evaluate({"cheap.p_mw": [[40.0 + h]]}) for h in (0.0, 1e-3)}
    slope = (at[1e-3].objective - at[0.0].objective) / 1e-3
    marginal = float(at[0.0].fixed_marginal["cheap.p_mw"].ravel()[0])
    assert slope == pytest.approx(-40.0, rel=1e-6)
    assert marginal == pytest.approx(slope, rel=1e-6)  # d(objective) / d(fixed value)
    assert at[0.0].res_gen["p_mw"]["cheap"].iloc[0] == pytest.approx(40.0)


def test_bad_fixes_are_refused_naming_the_decision():
    model = planning_model()
    with pytest.raises(gf.InputError, match=r"no decision 'new_unit\.bulit'"):
        model.fix({"new_unit.bulit": [1]})
    with pytest.raises(gf.InputError, match=r"'new_unit\.built' is binary"):
        model.fix({"new_unit.built": [2]})
    with pytest.raises(gf.InputError, match=r"'new_unit\.built' is integer"):
        model.fix({"new_unit.built": [0.5]})
    with pytest.raises(gf.InputError, match=r"decision 'net\.built': \(3,\) values"):
        model.fix({"net.built": [1, 0, 1]})
    with pytest.raises(gf.InputError, match="is not fixed"):
        model.unfix(["new_unit.built"])


def one_bus_units():
    net = pp.create_empty_network()
    pp.create_bus(net, 110.0)
    model = gf.Model(net, periods=2, net_elements=False)
    model.add(gf.Generator(0, 100.0, cost_per_mwh=10.0, name="cheap"))
    model.add(gf.Generator(0, 100.0, cost_per_mwh=50.0, investment=100.0, name="new"))
    model.add(gf.Load(0, [[80.0, 150.0]], name="d"))
    return model


def test_a_milp_after_a_fixed_lp_shows_no_old_prices():
    model = one_bus_units()
    assert np.isnan(model.solve().res_bus["price_per_mwh"].to_numpy()).all()  # a MILP
    fixed = model.evaluate({"new.built": [1]})  # an LP: prices 10 and 50
    np.testing.assert_allclose(fixed.res_bus["price_per_mwh"].to_numpy().ravel(), [10, 50])
    assert np.isnan(model.solve().res_bus["price_per_mwh"].to_numpy()).all()


def test_plans_are_checked_without_reshaping_and_with_a_tolerance():
    model = one_bus_units()
    with pytest.raises(gf.InputError, match=r"decision 'cheap\.p_mw': \(2, 1\) values"):
        model.fix({"cheap.p_mw": [[80.0], [100.0]]})  # (T, n) as in result tables: refused
    with pytest.raises(
        gf.InputError, match=r"'bess\.p_charge_mw' is bounded in \[0, inf\]; got \[2\.0, -2\.0\]"
    ):
        gf_storage_model().fix({"bess.p_charge_mw": [[2.0, -2.0]]})  # nonneg variable
    model.fix({"new.built": [1.000000001]})  # a solver's 1: accepted and rounded
    assert model.fixed["new.built"].tolist() == [1.0]


def gf_storage_model():
    model = one_bus_units()
    model.add(gf.Storage(0, p_mw=5.0, e_mwh=10.0, name="bess"))
    return model


def test_a_failed_fix_at_rebuild_leaves_the_model_stale_not_half_built():
    model = one_bus_units()
    model.fix({"new.built": [1]})
    model.device("new").name = "renamed"  # the fixed decision no longer exists
    for _ in range(2):  # the same clear error every time, never the old problem
        with pytest.raises(gf.InputError, match=r"no decision 'new\.built'"):
            model.solve()


def test_evaluate_reports_the_models_own_input_error():
    model = one_bus_units()
    model.add(gf.Load(0, [1.0, 2.0, 3.0], name="bad"))  # 3 values for 2 periods
    with pytest.raises(gf.InputError, match="Load 'bad'"):
        model.evaluate({"new.built": [1]})


def test_fix_refuses_to_drop_a_problem_replaced_by_hand():
    model = one_bus_units()
    problem = model.build()
    model.problem = cp.Problem(problem.objective, problem.constraints)
    with pytest.raises(gf.InputError, match="replaced by hand"):
        model.evaluate({"new.built": [1]})


def test_fixes_with_lazy_limits_are_refused_clearly(three_bus_net):
    model = gf.Model(three_bus_net, periods=1, formulation=gf.DC(lazy_limits=True))
    model.add(gf.Generator(bus=[0, 1], p_max_mw=[200, 200], cost_per_mwh=[10, 20], name="g"))
    model.add(gf.Load(bus=2, p_mw=100.0, name="d"))
    with pytest.raises(gf.InputError, match="lazy_limits"):
        model.evaluate({"g.p_mw": [[20.0], [80.0]]})
