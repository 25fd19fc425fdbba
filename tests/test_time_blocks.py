"""Time blocks: typical days and operating scenarios that do not leak into each other.

References: each block solved alone (a model of that block only) and the objectives added with
the blocks' weights; hand-solved cases; hand-built index arrays.
"""

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

import gridflex as gf
from gridflex.devices.blocks import window_sum_matrix
from gridflex.timeaxis import Block, TimeAxis

EXACT = dict(mip_rel_gap=0.0)  # MILPs to a zero gap, so that sums compare to 1e-9


def one_bus():
    net = pp.create_empty_network()
    pp.create_bus(net, 110.0)
    return net


# --- the index arithmetic, by hand -----------------------------------------------------------
def test_links_previous_and_cumsum_by_hand():
    time = TimeAxis([Block("a", 3, cyclic=False), Block("b", 2), Block("c", 1)])
    t, prev = time.links()
    assert t.tolist() == [1, 2, 3, 4, 5] and prev.tolist() == [0, 1, 4, 3, 5]
    assert time.open_first.tolist() == [0] and time.open_last.tolist() == [2]
    x = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(time.previous(x, [9.0]), [[9, 1, 2, 5, 4, 6]])
    np.testing.assert_array_equal(time.cumsum(x), [[1, 3, 6, 4, 9, 6]])
    assert list(time.index[:2]) == [("a", 0), ("a", 1)]


def test_min_up_windows_are_cut_at_open_blocks_and_wrap_in_cyclic_ones():
    # width 3: period 0 of the open block sees only itself, period 1 sees 0-1; in the cyclic
    # block of 4 (periods 3-6), period 3 sees 3, 6 and 5 (wrapping), never the open block.
    time = TimeAxis([Block("open", 3, cyclic=False), Block("day", 4)])
    W = window_sum_matrix([3], time).toarray()
    expected = {0: [0], 1: [0, 1], 2: [0, 1, 2], 3: [3, 5, 6], 4: [3, 4, 6], 5: [3, 4, 5],
                6: [4, 5, 6]}  # fmt: skip
    for row, cols in expected.items():
        assert np.flatnonzero(W[row]).tolist() == cols


# --- the 4-period example -------------------------------------------------------------
def _battery_model(periods, prices):
    model = gf.Model(one_bus(), periods=periods, net_elements=False)
    model.add(gf.ExternalGrid(0, price_per_mwh=[prices], name="grid"))
    model.add(gf.Load(0, 10.0, name="load"))
    model.add(gf.Storage(0, p_mw=5.0, e_mwh=10.0, name="bess"))
    return model


@pytest.mark.parametrize("cyclic", [True, False])
def test_no_energy_crosses_blocks_and_the_optimum_is_the_weighted_sum(cyclic):
    # Prices 10, 10 then 100, 100. As one horizon the battery charged at 10 and discharged
    # 4.75 MW at 100. In two blocks, each block balances its own energy: the battery is idle.
    blocks = [Block("A", 2, weight=3.0, cyclic=cyclic), Block("B", 2, weight=5.0, cyclic=cyclic)]
    joint = _battery_model(blocks, [10.0, 10.0, 100.0, 100.0]).solve()
    alone = [
        _battery_model([Block("A", 2, weight=3.0, cyclic=cyclic)], [10.0, 10.0]).solve(),
        _battery_model([Block("B", 2, weight=5.0, cyclic=cyclic)], [100.0, 100.0]).solve(),
    ]
    assert joint.objective == pytest.approx(sum(r.objective for r in alone), rel=1e-9)
    assert joint.objective == pytest.approx(3 * 2 * 10 * 10 + 5 * 2 * 10 * 100, rel=1e-9)
    np.testing.assert_allclose(joint.res_storage["p_mw"].to_numpy(), 0.0, atol=1e-7)
    assert joint.res_storage.index.names == ["block", "period"]
    old = _battery_model(4, [10.0, 10.0, 100.0, 100.0]).solve()  # one block: energy crosses
    assert old.res_storage["p_discharge_mw"].to_numpy()[2, 0] == pytest.approx(4.75, abs=1e-6)


# --- two typical days ----------------------------------------------------------------------
DEMAND = {  # MW per hour of two typical days (winter: evening peak; summer: midday peak)
    "winter": 60 + 50 * np.exp(-(((np.arange(24) - 18) / 3.0) ** 2)),
    "summer": 50 + 40 * np.exp(-(((np.arange(24) - 13) / 4.0) ** 2)),
}
WEIGHTS = {"winter": 200.0, "summer": 165.0}


def _day_model(days):
    blocks = [
        Block(d, pd.date_range("2026-01-15", periods=24, freq="h"), weight=WEIGHTS[d]) for d in days
    ]  # fmt: skip  (the same clock times: labels (block, time) differ)
    model = gf.Model(one_bus(), periods=blocks, net_elements=False)
    model.add(gf.ExternalGrid(0, price_per_mwh=80.0, p_min_mw=0.0, name="grid"))
    model.add(gf.Load(0, np.concatenate([DEMAND[d] for d in days]), name="load"))
    model.add(gf.Storage(0, p_mw=20.0, e_mwh=60.0, name="bess"))
    model.add(gf.Generator(0, 90.0, 30.0, cost_per_mwh=30.0, commitment=True, min_up_h=3,
                           ramp_up_mw_per_h=15.0, ramp_down_mw_per_h=15.0, startup_cost=500.0,
                           name="unit"))  # fmt: skip
    return model


def test_two_typical_days_equal_each_day_solved_alone_weighted():
    joint = _day_model(["winter", "summer"]).solve(**EXACT)
    alone = [_day_model([d]).solve(**EXACT) for d in ("winter", "summer")]
    assert joint.objective == pytest.approx(sum(r.objective for r in alone), rel=1e-9)
    e = joint.res_storage["e_mwh"]["bess"]
    for day in ("winter", "summer"):  # (the dispatch itself has ties: compare the physics)
        # cyclic: the day ends with the energy it started with (what it had after its last hour)
        start = e.loc[day].iloc[-1]
        first = joint.res_storage.loc[day]
        charged = 0.95 * first["p_charge_mw"]["bess"].iloc[0]
        discharged = first["p_discharge_mw"]["bess"].iloc[0] / 0.95
        assert e.loc[day].iloc[0] == pytest.approx(start + charged - discharged, abs=1e-6)
    hours = joint.res_gen.index.get_level_values("period")
    assert hours[0] == hours[24]  # the same clock times, distinct (block, time) labels
    assert joint.summary()["energy_mwh"]["res_load"] == pytest.approx(
        sum(WEIGHTS[d] * DEMAND[d].sum() for d in WEIGHTS), rel=1e-9
    )


def _edge_model(periods, demand, unit):
    model = gf.Model(one_bus(), periods=periods, net_elements=False)
    model.add(gf.ExternalGrid(0, price_per_mwh=50.0, p_min_mw=0.0, name="grid"))
    model.add(gf.Load(0, demand, name="load"))
    model.add(gf.Generator(0, 100.0, cost_per_mwh=10.0, name="unit", **unit))
    return model


def test_a_ramp_does_not_cross_the_edge_by_hand():
    # Demand 100, 100 then 0, 0; the cheap unit (10/MWh) ramps down at most 10 MW/h and
    # nothing can take power back. As one horizon it must be down to 0 in period 2, so it makes
    # at most 20, 10 in periods 0-1 and the grid (50/MWh) the rest: 30 x 10 + 170 x 50 = 8800.
    # In two cyclic blocks it runs 100, 100 in A and 0, 0 in B: cost 2 x 100 x 10.
    case = ([100.0, 100.0, 0.0, 0.0], dict(ramp_down_mw_per_h=10.0))
    result = _edge_model([Block("A", 2), Block("B", 2)], *case).solve()
    np.testing.assert_allclose(result.res_gen["p_mw"]["unit"], [100, 100, 0, 0], atol=1e-6)
    assert result.objective == pytest.approx(2 * 100 * 10.0, rel=1e-9)
    one_horizon = _edge_model(4, *case).solve()
    np.testing.assert_allclose(one_horizon.res_gen["p_mw"]["unit"], [20, 10, 0, 0], atol=1e-6)
    assert one_horizon.objective == pytest.approx(30 * 10.0 + 170 * 50.0, rel=1e-9)


def test_a_commitment_does_not_cross_the_edge_by_hand():
    # Demand 0, 100 then 0, 0; the cheap unit (20-100 MW, off before, 3 h minimum up time)
    # started in period 1 would have to stay on in periods 2-3 with nothing to supply: as one
    # horizon it stays off and the grid serves 100 MW at 50 (5000). In two open blocks it
    # starts in period 1 and is free again in block B: 100 MW at 10 (1000).
    case = ([0.0, 100.0, 0.0, 0.0], dict(p_min_mw=20.0, commitment=True, min_up_h=3,
                                        initial_on=False))  # fmt: skip
    blocks = [Block("A", 2, cyclic=False), Block("B", 2, cyclic=False)]
    result = _edge_model(blocks, *case).solve(**EXACT)
    np.testing.assert_allclose(result.res_gen["on"]["unit"], [0, 1, 0, 0])
    assert result.objective == pytest.approx(100 * 10.0, rel=1e-9)
    one_horizon = _edge_model(4, *case).solve(**EXACT)
    np.testing.assert_allclose(one_horizon.res_gen["on"]["unit"], [0, 0, 0, 0])
    assert one_horizon.objective == pytest.approx(100 * 50.0, rel=1e-9)


def test_wind_output_ramp_and_flexible_ramp_requirement_inside_blocks():
    time = TimeAxis([Block("A", 2), Block("B", 2, cyclic=False)])
    up, down = gf.flexible_ramp_requirements([100, 120, 90, 80], 0.0, time=time)
    # before each period: A wraps (120, 100); B is open (its own first value, then 90)
    np.testing.assert_allclose(up.mw, [0, 20, 0, 0])
    np.testing.assert_allclose(down.mw, [20, 0, 0, 10])
    model = gf.Model(one_bus(), periods=list(time.blocks), net_elements=False)
    model.add(gf.Renewable(0, [[5.0, 9.0, 1.0, 4.0]], output_ramp="forecast", name="w"))
    model.add(gf.Renewable(0, [[5.0, 9.0, 1.0, 4.0]], output_ramp="dispatch", curtailable=False,
                           name="w_exact"))  # fmt: skip
    model.add(gf.ExternalGrid(0, name="grid"))
    result = model.solve()
    for name in ("w", "w_exact"):
        np.testing.assert_allclose(result.res_sgen["output_ramp_up_mw"][name], [0, 4, 0, 3])
        np.testing.assert_allclose(result.res_sgen["output_ramp_down_mw"][name], [4, 0, 0, 0])


def test_ev_lot_contract_energy_and_fleet_energy_restart_with_each_block():
    time = TimeAxis([Block("d1", 2, cyclic=False), Block("d2", 2, cyclic=False)])
    lot = gf.EVParkingLot(0, ev_count=[[10, 10, 10, 10]], capacity_mwh=[[1.0] * 4],
                          arrival_energy_mwh=[[0.5, 0.1, 0.4, 0.0]],
                          departure_energy_mwh=[[0.0, 0.2, 0.0, 0.1]],
                          exclusive_modes=False, name="lot")  # fmt: skip
    model = gf.Model(one_bus(), periods=list(time.blocks), net_elements=False)
    model.add(lot)
    model.add(gf.ExternalGrid(0, price_per_mwh=[[50.0, 10.0, 50.0, 10.0]], name="grid"))
    result = model.solve()
    table = result.tables["res_ev_parking_lot"]
    np.testing.assert_allclose(table["contract_energy_mwh"]["lot"], [0.5, 0.4, 0.4, 0.3])
    e = table["e_mwh"]["lot"].to_numpy()
    charge, discharge = (table[k]["lot"].to_numpy() for k in ("p_charge_mw", "p_discharge_mw"))
    # each day starts from e_initial (0) plus its own arrivals: no energy from day 1
    assert e[2] == pytest.approx(0.4 + 0.9 * charge[2] - discharge[2] / 0.9, abs=1e-6)
    assert e[0] == pytest.approx(0.5 + 0.9 * charge[0] - discharge[0] / 0.9, abs=1e-6)


def test_the_constraint_count_does_not_grow_with_the_number_of_blocks():
    counts = []
    for n_blocks in (2, 12):
        blocks = [Block(f"d{k}", 24 // n_blocks, cyclic=k % 2 == 0) for k in range(n_blocks)]
        problem = _day_model_blocks(blocks).build()
        counts.append((len(problem.constraints), len(problem.variables())))
    assert counts[0] == counts[1]


def _day_model_blocks(blocks):
    model = gf.Model(one_bus(), periods=blocks, net_elements=False)
    model.add(gf.Load(0, 50.0, name="load"))
    model.add(gf.Storage(0, p_mw=20.0, e_mwh=60.0, name="bess"))
    model.add(gf.Generator(0, 90.0, 30.0, commitment=True, min_up_h=3, ramp_up_mw_per_h=15.0,
                           name="unit"))  # fmt: skip
    return model


# --- bad input ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "blocks, match",
    [
        ([Block("a", 2, weight=0.0)], r"Block 0 \('a'\): weight must be a positive number"),
        ([Block("a", 2, weight=-3.0)], "weight must be a positive number"),
        ([Block("a", 2, weight=float("nan"))], "weight must be a positive number"),
        ([Block("a", 2, weight=True)], "weight must be a positive number"),
        ([Block("a", 1, probability=0.5), Block("b", 1, probability=0.4)], "sum to 0.9, not 1"),
        ([Block("a", 1, probability=0.5), Block("b", 1)], r"blocks \['b'\] have no probability"),
        ([Block("a", 0)], r"Block 0 \('a'\): Model: periods must be >= 1"),
        ([Block("a", 2), Block("a", 2)], "block names must be unique"),
        ([Block("a", 2, cyclic="no")], "cyclic must be True or False"),
        ([Block("a", pd.date_range("2026-01-01", periods=3, freq="h")),
          Block("b", pd.date_range("2026-01-01", periods=3, freq="15min"))],
         "different period lengths"),
    ],
)  # fmt: skip
def test_bad_blocks_are_refused_before_any_solve(blocks, match):
    with pytest.raises(gf.InputError, match=match):
        gf.Model(one_bus(), periods=blocks)


def test_a_profile_that_does_not_fit_the_blocks_is_refused():
    model = gf.Model(one_bus(), periods=[Block("a", 2), Block("b", 3)], net_elements=False)
    model.add(gf.Load(0, [1.0, 2.0, 3.0, 4.0], name="d"))
    with pytest.raises(gf.InputError, match=r"Load 'd'.*'p_mw' has shape \(4,\); expected 5"):
        model.build()


def test_p_initial_applies_at_the_start_of_every_open_block_by_hand():
    # Demand 50 MW each hour; the cheap unit (10/MWh) starts from p_initial = 0 and ramps up at
    # most 10 MW/h, the grid (50/MWh) serves the rest. Each open block restarts from 0: the unit
    # makes 10, 20 in both blocks, 30 MWh of 100 per block: 2 x (30 x 10 + 70 x 50) = 7600. As
    # one horizon it makes 10, 20, 30, 40: 100 x 10 + 100 x 50 = 6000.
    case = ([50.0] * 4, dict(ramp_up_mw_per_h=10.0, p_initial_mw=0.0))
    blocks = [Block("A", 2, cyclic=False), Block("B", 2, cyclic=False)]
    result = _edge_model(blocks, *case).solve()
    np.testing.assert_allclose(result.res_gen["p_mw"]["unit"], [10, 20, 10, 20], atol=1e-6)
    assert result.objective == pytest.approx(2 * (30 * 10.0 + 70 * 50.0), rel=1e-9)
    assert _edge_model(4, *case).solve().objective == pytest.approx(6000.0, rel=1e-9)
