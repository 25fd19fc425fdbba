"""Planning: candidate units and lines with annualised costs and weighted operating scenarios,
against a brute force over the candidate subsets."""

import itertools

import numpy as np
import pandapower as pp
import pytest

import gridflex as gf
from gridflex.formulations.candidates import CandidateBranches, add_candidate_line
from gridflex.problems.planning import annualized_cost, annuity_factor

SCENARIOS = gf.scenario_blocks([0.7, 0.3])  # two operating scenarios: normal and peak
WEIGHTS = np.array([0.7 * 8760, 0.3 * 8760])  # hours of the year each one stands for
LOAD = np.array([80.0, 150.0])


def net_with_candidate():
    """Two buses, one 100 MW line; a candidate second line; load at bus 1."""
    net = pp.create_empty_network(sn_mva=100.0)
    pp.create_buses(net, 2, vn_kv=110.0)
    rating = 100.0 / (np.sqrt(3) * 110.0)
    pp.create_line_from_parameters(net, 0, 1, 10.0, 0.01, 0.1, 0.0, max_i_ka=rating)
    return add_candidate_line(net, 0, 1, like=0)


def solve(build_line=None, build_unit=None):
    """The planning MILP; with ``build_*`` given, the candidate is fixed (brute force)."""
    net, line = net_with_candidate()
    candidates = CandidateBranches(line=[line], cost=[LINE_COST])
    if build_line is not None:  # fixed: the candidate line in service or absent
        net.line.loc[line, "in_service"] = bool(build_line)
        candidates = None
    model = gf.Model(net, periods=SCENARIOS, formulation=gf.DC(candidates=candidates),
                     net_elements=False)  # fmt: skip
    model.add(gf.Generator(0, 500.0, cost_per_mwh=20.0, name="remote"))
    model.add(gf.Generator(1, 300.0, cost_per_mwh=200.0, name="local_peaker"))
    unit = dict(investment=UNIT_COST) if build_unit is None else {}
    if build_unit is None or build_unit:
        model.add(gf.Generator(1, 60.0, cost_per_mwh=30.0, name="new_unit", **unit))
    model.add(gf.Load(1, LOAD.reshape(1, -1), name="d"))
    result = model.solve()
    fixed = (LINE_COST if build_line else 0.0) + (UNIT_COST if build_unit else 0.0)
    return result.objective + fixed, result


LINE_COST = annualized_cost(2.0e6, 0.05, 40)  # per year
UNIT_COST = annualized_cost(1.5e6, 0.05, 25)


def test_annuity_by_hand():
    assert annuity_factor(0.05, 20) == pytest.approx(0.0802426, rel=1e-6)
    assert annuity_factor(0.0, 10) == pytest.approx(0.1)
    np.testing.assert_allclose(gf.TimeAxis(SCENARIOS).cost_hours, WEIGHTS)
    with pytest.raises(gf.InputError, match=r"sum to 1\.1, not 1"):
        gf.TimeAxis(gf.scenario_blocks([0.5, 0.6]))
    with pytest.raises(gf.InputError, match=r"probability must lie in \(0, 1\], got 0.0"):
        gf.TimeAxis(gf.scenario_blocks([1.0, 0.0]))


def test_startup_costs_count_as_often_as_their_period():
    # One unit starts in the only period; weighting that period by 10 h (dt = 1 h) means the
    # period, start included, happens ten times: cost 10 x (start 100 + 5 MWh x 2).
    net = pp.create_empty_network()
    pp.create_bus(net, 110.0)
    model = gf.Model(net, periods=[gf.Block("x", 1, weight=10.0, cyclic=False)], net_elements=False)
    model.add(gf.Generator(0, 10.0, cost_per_mwh=2.0, commitment=True, initial_on=False,
                           startup_cost=100.0, name="g"))  # fmt: skip
    model.add(gf.Load(0, 5.0, name="d"))
    assert model.solve().objective == pytest.approx(10 * (100.0 + 5 * 2.0))


def test_planning_matches_brute_force_over_candidate_subsets():
    brute = {
        (line, unit): solve(build_line=line, build_unit=unit)[0]
        for line, unit in itertools.product([0, 1], [0, 1])
    }
    best = min(brute, key=brute.get)
    total, result = solve()
    assert total == pytest.approx(brute[best], rel=1e-7)
    built_line = int(result.tables["res_candidate"]["built"].iloc[0])
    built_unit = int(result.res_gen["built"]["new_unit"].iloc[0])
    assert (built_line, built_unit) == best
    assert len(set(np.round(list(brute.values()), 2))) == 4  # the four choices differ


def test_weights_scale_operation_not_investment():
    _, result = solve()
    costs = result.costs["cost"]
    energy = costs.xs("energy", level="component").sum()
    p = np.vstack([result.res_gen["p_mw"][c] for c in result.res_gen["p_mw"].columns])
    marginal = np.array([20.0, 200.0, 30.0])
    assert energy == pytest.approx(float(marginal @ p @ WEIGHTS), rel=1e-9)


def test_candidate_unit_errors():
    net, _ = net_with_candidate()
    model = gf.Model(net, periods=1, net_elements=False)
    model.add(gf.Generator(1, np.inf, investment=1.0, name="x"))
    with pytest.raises(gf.InputError, match="finite"):
        model.build()
    with pytest.raises(gf.InputError, match="weight must be a positive number"):
        gf.Model(net, periods=[gf.Block("a", 1), gf.Block("b", 1, weight=-1.0)])
