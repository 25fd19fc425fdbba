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
    model.add(gf.Generator(1, 60.0, cost_per_mwh=30.0, investment_cost=UNIT_COST, name="new_unit"))
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
    plan = {"net.built": [[line]], "new_unit.built": [unit]}
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
    model.fix({"new_unit.built": [0], "net.built": [[1]]})
    first = model.solve()
    model.device("d").p_mw = (LOAD * 1.1).reshape(1, -1)  # the model rebuilds; the plan stays
    again = model.solve()
    assert again.plan["new_unit.built"][0] == 0 and again.plan["net.built"][0, 0] == 1
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
    assert -marginal == pytest.approx(slope, rel=1e-6)  # cvxpy's dual of twin == value
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
