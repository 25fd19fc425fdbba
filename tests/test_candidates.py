"""Candidate branches (binary build decisions) against a brute force over candidate subsets."""

import copy
import itertools

import numpy as np
import pytest

import gridflex as gf

LOAD = {2: [120.0, 200.0, 150.0], 3: [40.0, 90.0, 60.0]}
CANDIDATE_COST = [900.0, 1500.0, 700.0]


def _net_with_candidates(net):
    index = []
    for f, t, like in ((0, 2, 0), (0, 3, 0), (0, 1, 0)):
        net, i = gf.formulations.add_candidate_line(net, f, t, like=like)
        index.append(i)
    return net, index


def _model(net, formulation, scale=1.0):
    model = gf.Model(net, periods=3, formulation=formulation, net_elements=False)
    model.add(gf.Generator(bus=[0, 3], p_max_mw=[400, 400], cost_per_mwh=[10, 80], name="g"))
    model.add(gf.Load(bus=[2, 3], p_mw=scale * np.array([LOAD[2], LOAD[3]]), name="d"))
    return model


def _brute_force(net, index):
    best = (np.inf, None)
    for subset in itertools.product([0, 1], repeat=len(index)):
        trial = copy.deepcopy(net)
        trial.line.loc[[i for i, b in zip(index, subset, strict=True) if b], "in_service"] = True
        try:
            operation = _model(trial, gf.DC()).solve().objective
        except gf.SolveError:
            continue
        best = min(best, (operation + float(np.dot(subset, CANDIDATE_COST)), subset))
    return best


def test_candidate_lines_match_brute_force(four_bus_net):
    net, index = _net_with_candidates(four_bus_net)
    total, subset = _brute_force(net, index)
    candidates = gf.formulations.CandidateBranches(line=index, cost=CANDIDATE_COST)
    r = _model(net, gf.DC(candidates=candidates)).solve()
    assert r.solver == "HIGHS"
    assert r.objective == pytest.approx(total, rel=1e-7)
    assert r.costs.loc[("net", "investment"), "cost"] == pytest.approx(
        float(np.dot(subset, CANDIDATE_COST))
    )
    assert subset not in ((0, 0, 0), (1, 1, 1))  # the case is not trivial
    np.testing.assert_array_equal(r.res_candidate["built"], subset)
    flows = r.res_line["p_from_mw"][index].abs().max().to_numpy()
    np.testing.assert_array_equal(flows > 1e-6, np.array(subset, bool))


def test_unbuilt_candidate_carries_no_flow(four_bus_net):
    net, index = _net_with_candidates(four_bus_net)
    # At half load the existing lines suffice (60 MW via 0-1-2, 100 MW over 2-3 from bus 3),
    # so costly candidates stay unbuilt and, as if absent, carry no flow.
    costly = gf.formulations.CandidateBranches(line=index, cost=[1e7] * 3)
    r = _model(net, gf.DC(candidates=costly), scale=0.5).solve()
    np.testing.assert_allclose(r.res_line["p_from_mw"][index].to_numpy(), 0.0, atol=1e-6)
    assert r.costs.loc[("net", "investment"), "cost"] == pytest.approx(0.0)


def test_candidate_errors(four_bus_net):
    net = four_bus_net
    with pytest.raises(gf.InputError, match=r"candidate line 0-9: bus 9 is not in the net"):
        gf.formulations.add_candidate_line(net, 0, 9, like=0)
    bad = gf.formulations.CandidateBranches(line=[42])
    with pytest.raises(gf.InputError, match=r"candidate line 42 is not in the net"):
        _model(net, gf.DC(candidates=bad)).build()


def test_a_candidate_unit_gives_no_reactive_power_unless_built():
    # A DG on the 33-bus feeder that is too dear to build: with finite q limits its reactive
    # output is tied to the build decision (q = 0 unbuilt), so it cannot prop up voltages for
    # free; without q limits it is refused in a network with reactive power.
    import gridflex as gf

    def model(**q):
        m = gf.Model(gf.networks.ieee33(), periods=2, formulation=gf.LinDistFlow())
        m.add(gf.Generator(17, 0.5, cost_per_mwh=60.0, investment=1e9, name="dg", **q))
        return m

    result = model(q_min_mvar=-0.3, q_max_mvar=0.3).solve()
    assert result.res_gen["built"]["dg"].iloc[0] == 0
    np.testing.assert_allclose(result.res_gen["q_mvar"]["dg"], 0.0, atol=1e-9)
    with pytest.raises(gf.InputError, match=r"Generator 'dg'.*finite q_min_mvar"):
        model().build()
