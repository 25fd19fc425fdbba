"""LinDistFlow candidate reinforcements against a brute force over build decisions."""

import copy
import itertools

import numpy as np
import pandapower as pp
import pytest

import gridflex as gf


def _feeder():
    """Three 12.66 kV buses in a chain; the first line is weak (0.1 kA, about 2.2 MVA)."""
    net = pp.create_empty_network(sn_mva=10.0)
    for i in range(3):
        pp.create_bus(net, vn_kv=12.66, name=str(i + 1))
    pp.create_line_from_parameters(net, 0, 1, 1.0, 0.1, 0.2, 0.0, 0.1)
    pp.create_line_from_parameters(net, 1, 2, 1.0, 0.1, 0.2, 0.0, 0.4)
    pp.create_ext_grid(net, 0, vm_pu=1.0)
    pp.create_poly_cost(net, 0, "ext_grid", cp1_eur_per_mw=20.0)
    pp.create_load(net, 2, p_mw=3.0, q_mvar=1.0)
    return net


def _model(net, formulation):
    model = gf.Model(net, periods=2, formulation=formulation, load_scale=[0.6, 1.0])
    model.device("load").shed_cost_per_mwh = 1000.0
    return model


@pytest.mark.parametrize("cost", [100.0, 5000.0])
def test_reinforcement_matches_brute_force(cost):
    net, line = gf.formulations.add_candidate_line(_feeder(), 0, 1, like=0)
    options = []
    for build in itertools.product([0, 1], repeat=1):
        trial = copy.deepcopy(net)
        trial.line.loc[line, "in_service"] = bool(build[0])
        r = _model(trial, gf.LinDistFlow()).solve()
        options.append(r.objective + cost * build[0])
    candidates = gf.formulations.CandidateBranches(line=[line], cost=[cost])
    r = _model(net, gf.LinDistFlow(candidates=candidates)).solve()
    assert r.objective == pytest.approx(min(options), rel=1e-7)
    assert r.res_candidate["built"].iloc[0] == int(np.argmin(options))
    if r.res_candidate["built"].iloc[0]:  # built: equal impedances share the flow equally
        flows = r.res_line["p_from_mw"][[0, line]].to_numpy()
        np.testing.assert_allclose(flows[:, 0], flows[:, 1], rtol=1e-6)


def test_candidate_closing_a_loop_is_rejected():
    net, line = gf.formulations.add_candidate_line(_feeder(), 0, 2, like=0)
    candidates = gf.formulations.CandidateBranches(line=[line], cost=[1.0])
    with pytest.raises(gf.InputError, match=r"joins buses 0-2, which no in-service branch joins"):
        _model(net, gf.LinDistFlow(candidates=candidates)).build()
