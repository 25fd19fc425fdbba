"""Automatic solver choice by problem class."""

import pandapower as pp
import pandapower.networks as pn
import pytest

import gridflex as gf
from gridflex.solvers import problem_class


def _one_bus(**gen_kwargs):
    net = pp.create_empty_network()
    pp.create_bus(net, vn_kv=20.0)
    model = gf.Model(net, periods=3, net_elements=False)
    model.add(gf.Generator(bus=0, p_max_mw=100, name="g", **gen_kwargs))
    model.add(gf.Load(bus=0, p_mw=[20.0, 40.0, 30.0], name="d"))
    return model


@pytest.mark.parametrize(
    ("kwargs", "kind", "solver"),
    [
        ({"cost_per_mwh": 10}, "LP", "HIGHS"),
        ({"cost_per_mwh": 10, "commitment": True, "p_min_mw": 5}, "MILP", "HIGHS"),
        ({"cost_per_mwh": 10, "cost_per_mw2h": 0.1}, "QP", "CLARABEL"),
        (
            {"cost_per_mwh": 10, "cost_per_mw2h": 0.1, "commitment": True, "p_min_mw": 5},
            "MIQP",
            "SCIP",
        ),
    ],
)
def test_solver_follows_problem_class(kwargs, kind, solver):
    model = _one_bus(**kwargs)
    assert problem_class(model.build()) == kind
    r = model.solve()
    assert r.solver == solver
    # 90 MWh at 10/MWh (+ 0.1 * (20^2 + 40^2 + 30^2) for quadratic cost)
    expected = 900.0 + (290.0 if "cost_per_mw2h" in kwargs else 0.0)
    assert r.objective == pytest.approx(expected, rel=1e-5)


def test_quadratic_case118_multi_period_uses_clarabel():
    r = gf.Model(pn.case118(), periods=4, load_scale=[0.9, 1.0, 1.1, 1.0]).solve()
    assert r.solver == "CLARABEL"
    assert r.objective > 0


def test_solver_override():
    r = _one_bus(cost_per_mwh=10).solve(solver="clarabel")
    assert r.solver == "CLARABEL"
    assert r.objective == pytest.approx(900.0, rel=1e-6)
