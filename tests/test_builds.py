"""Builds owned by the model: one device object in several models, edits seen by the next solve.

Reference: a fresh model built from fresh device objects with the same inputs.
"""

import numpy as np
import pandas as pd
import pytest

import gridflex as gf
from gridflex.devices.base import Role

PRICES = ([20.0, 60.0, 30.0, 80.0], [50.0, 10.0, 90.0, 40.0, 70.0, 20.0])


def _devices():
    """A battery, a candidate-free unit with commitment, a sheddable load and offers."""
    return [
        gf.Storage(1, p_mw=10.0, e_mwh=30.0, cost_per_mwh=1.0, name="bess"),
        gf.Generator(
            1,
            25.0,
            5.0,
            cost_per_mwh=45.0,
            commitment=True,
            startup_cost=30.0,
            offers={"spinning": 2.0},
            name="unit",
        ),
        gf.Load(1, 18.0, shed_cost_per_mwh=500.0, name="demand"),
    ]


def _model(net, devices, prices):
    """Bus 0 buys at ``prices``; the devices sit at bus 1; 3 MW of spinning reserve held."""
    model = gf.Model(net, periods=len(prices), net_elements=False)
    model.add(gf.ExternalGrid(0, price_per_mwh=[prices], p_min_mw=0.0, p_max_mw=40.0, name="grid"))
    for device in devices:
        model.add(device)
    model.add(gf.Requirement("spinning", 3.0))
    return model


def _same(a, b):
    assert a.objective == pytest.approx(b.objective, rel=1e-9, abs=1e-6)
    for table in ("res_storage", "res_gen", "res_load", "res_ext_grid"):
        pd.testing.assert_frame_equal(a.tables[table], b.tables[table], atol=1e-6, rtol=0)


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_one_device_object_in_two_models_solved_in_either_order(two_bus_net, order):
    shared = _devices()
    models = [_model(two_bus_net, shared, p) for p in PRICES]  # 4 and 6 periods
    for m in models:
        m.build()  # both built before either is solved
    results = {k: models[k].solve() for k in order}
    for k, prices in enumerate(PRICES):
        _same(results[k], _model(two_bus_net, _devices(), prices).solve())
    # and again after the other model was solved in between
    _same(models[order[0]].solve(), results[order[0]])
    assert results[0].tables["res_storage"].shape[0] == 4
    assert results[1].tables["res_storage"].shape[0] == 6


def test_editing_a_declared_parameter_after_a_solve_rebuilds(two_bus_net):
    devices = _devices()
    model = _model(two_bus_net, devices, PRICES[0])
    first = model.solve()
    problem = model.problem
    devices[0].e_mwh = 4.0  # also moves the default initial energy (half the capacity)
    second = model.solve()
    assert model.problem is not problem  # rebuilt, not the old answer
    fresh = _devices()
    fresh[0] = gf.Storage(1, p_mw=10.0, e_mwh=4.0, cost_per_mwh=1.0, name="bess")
    _same(second, _model(two_bus_net, fresh, PRICES[0]).solve())
    assert second.objective != pytest.approx(first.objective)
    assert first.res_storage["e_mwh"].to_numpy().max() > 20.0  # the old battery used its size
    assert second.res_storage["e_mwh"].to_numpy().max() <= 4.0 + 1e-6


def test_editing_a_requirement_rebuilds(two_bus_net):
    model = _model(two_bus_net, _devices(), PRICES[0])
    model.solve()
    model.requirements[0].mw = 0.0
    unheld = model.solve().tables["res_gen"]["spinning_mw"].to_numpy()
    np.testing.assert_allclose(unheld, 0.0, atol=1e-7)  # nothing held: the offer costs money


def test_a_solve_without_edits_reuses_the_problem(two_bus_net):
    model = _model(two_bus_net, _devices(), PRICES[0])
    model.solve()
    problem = model.problem
    model.solve()
    assert model.problem is problem


def test_the_build_lists_decisions_by_role(two_bus_net):
    model = _model(two_bus_net, _devices(), PRICES[0])
    unit = model.build_of("unit")
    assert set(unit.decisions(Role.COMMITMENT)) == {"on", "startup", "shutdown"}
    assert set(unit.decisions(Role.OPERATION)) == {"p_mw", "spinning_mw"}
    assert unit["on"].name() == "unit_on"
    candidate = gf.Generator(1, 10.0, investment=5.0, name="new")
    model.add(candidate)
    assert set(model.build_of(candidate).decisions(Role.INVESTMENT)) == {"built"}
    with pytest.raises(KeyError, match="no device 'nope'"):
        model.build_of("nope")


def test_devices_keep_no_model_state(two_bus_net):
    devices = _devices()
    before = [dict(vars(d)) for d in devices]
    _model(two_bus_net, devices, PRICES[0]).solve()
    assert [vars(d) for d in devices] == before  # nothing was stored on the devices


def test_one_device_twice_in_one_model_is_refused(two_bus_net):
    storage = _devices()[0]
    model = _model(two_bus_net, [storage], PRICES[0])
    with pytest.raises(gf.InputError, match="Storage 'bess' is already in the model"):
        model.add(storage)


def test_an_aggregate_rebuilds_when_one_of_its_sets_is_edited(two_bus_net):
    # Bus 1 needs 60 MW through a 50 MW line: the dear unit makes 10. Moving 5 MW of workload to
    # bus 0 saves 5 x (50 - 10) for 2 x 5 x 1 of regulation; with 2 MW of room at bus 0 only 2.
    dc = gf.DataCenter([0, 1], 60.0, 5.0, 5.0, cost_per_mwh=1.0, name="dc")
    model = gf.Model(two_bus_net, periods=1, net_elements=False)
    model.add(gf.AggregatedFlex(sets=[dc], name="vpp"))
    model.add(gf.Generator(0, 200.0, cost_per_mwh=10.0, name="cheap"))
    model.add(gf.Generator(1, 100.0, cost_per_mwh=50.0, name="dear"))
    before = model.solve().objective
    dc.beta_up_mw = 2.0  # bus 0 takes at most 2 MW more
    after = model.solve().objective
    assert before == pytest.approx(10 * 115 + 50 * 5 + 10.0, abs=1e-6)
    assert after == pytest.approx(10 * 112 + 50 * 8 + 4.0, abs=1e-6)


def test_renaming_a_device_onto_another_name_is_refused(two_bus_net):
    model = _model(two_bus_net, _devices(), PRICES[0])
    model.solve()
    model.device("demand").name = "bess"
    with pytest.raises(gf.InputError, match="two devices are named 'bess'"):
        model.solve()


def test_a_renamed_device_still_solves(two_bus_net):
    devices = _devices()
    model = _model(two_bus_net, devices, PRICES[0])
    before = model.solve().objective
    devices[0].name = "battery"
    result = model.solve()
    assert result.objective == pytest.approx(before, rel=1e-9)
    assert "battery" in result.res_storage["p_mw"].columns


def test_a_problem_replaced_by_hand_is_not_dropped_silently(two_bus_net):
    devices = _devices()
    model = _model(two_bus_net, devices, PRICES[0])
    problem = model.build()
    model.problem = gf_problem_with(problem, model.build_of("bess")["p_charge_mw"] == 0)
    assert model.solve().res_storage["p_charge_mw"].to_numpy().max() < 1e-7  # the hand-made fix
    devices[2].p_mw = 12.0
    with pytest.raises(gf.InputError, match="replaced by hand"):
        model.solve()


def gf_problem_with(problem, constraint):
    import cvxpy as cp

    return cp.Problem(problem.objective, [*problem.constraints, constraint])


def test_build_of_refuses_a_device_of_another_model(two_bus_net):
    model = _model(two_bus_net, _devices(), PRICES[0])
    stranger = gf.Storage(1, p_mw=1.0, e_mwh=1.0, name="bess")  # same name, other object
    with pytest.raises(KeyError, match="not in this model"):
        model.build_of(stranger)
    with pytest.raises(KeyError, match="not in this model"):
        model.network_of(stranger)


def test_a_set_in_the_model_and_in_an_aggregate_is_refused(two_bus_net):
    dc = gf.DataCenter([0, 1], 60.0, 5.0, 5.0, name="dc")
    model = gf.Model(two_bus_net, periods=1, net_elements=False)
    model.add(dc)
    model.add(gf.AggregatedFlex(sets=[dc], name="vpp"))
    with pytest.raises(gf.InputError, match="DataCenter 'dc' is in the model and inside"):
        model.build()
