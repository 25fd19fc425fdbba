"""Benders on the library's planning models, against their monolithic solves: the seed-000 T&D
expansion (a MILP, HiGHS) and a seed-002 ice-cooling model (a MISOCP, SCIP)."""

import numpy as np
import pytest

import gridflex as gf
from gridflex.networks.yang14 import yang14
from gridflex.problems.benders import benders
from gridflex.problems.planning import annuity_factor
from gridflex.timeaxis import Block

GAP = 1e-4


def td_model():
    sc = gf.scenario.load_scenario("td_dc_fcs_expansion")
    study = sc.study_module()
    return study.joint_model(study.System(sc))


def tou_yuan_per_mwh(hours):
    """Seed 002's TOU price (L343) at ``hours`` periods a day."""
    h = np.arange(hours) * 24 / hours
    price = np.full(hours, 700.0)
    price[(h < 7) | (h >= 23)] = 360.0
    price[((h >= 10) & (h < 13)) | ((h >= 18) & (h < 23))] = 1050.0
    return price


def ice_model(hours=6, days=(1.0, 1.15, 0.85)):
    """Seed 002's 14-node system, compact: three typical days of ``hours`` periods (synthetic
    daily shapes), ISACs at nodes 10 and 14, robust wind candidates at 3 and 10, a large ice
    maker at 3 and a truck; the paper's prices, costs and lives (annuities at 4 %, the truck
    straight-line: 40,000 + 200,000 yuan/yr)."""
    net = yang14(load_mw=16.0)
    h = np.arange(hours) * 24 / hours
    shape = 0.7 + 0.3 * np.exp(-(((h - 14) / 5) ** 2))
    cooling = np.exp(-(((h - 14) / 4) ** 2))
    wind = 0.35 + 0.15 * np.cos(2 * np.pi * (h - 3) / 24)
    blocks = [Block(f"s{k + 1}", hours, weight=365 / 3 * 24 / hours) for k in range(len(days))]
    model = gf.Model(net, periods=blocks, dt_h=24 / hours, formulation=gf.SOCDistFlow(),
                     net_elements=False)  # fmt: skip
    load = np.concatenate([f * shape for f in days])
    model.add(gf.ExternalGrid(0, [np.tile(tou_yuan_per_mwh(hours), len(days))], p_min_mw=0.0,
                              name="grid"))  # fmt: skip
    p = net.load.p_mw.to_numpy()[:, None] * load[None, :]
    q = net.load.q_mvar.to_numpy()[:, None] * load[None, :]
    model.add(gf.Load(net.load.bus.to_numpy(), p, q, shed_cost_per_mwh=1365.28, name="load"))
    yard, tanks = gf.Node("lim", gf.carriers.ICE), []
    for k, (bus, peak) in enumerate(zip((9, 13), (30.0, 20.0), strict=True)):
        node, tank = (
            gf.Node(f"cool{k + 1}", gf.carriers.COOLING),
            gf.Node(f"tank{k + 1}", gf.carriers.ICE),
        )
        tanks.append(tank)
        model.add(gf.ISAC(bus, node, ice=tank, name=f"isac{k + 1}"))
        demand = np.concatenate([f * peak * cooling for f in days])
        model.add(gf.CarrierDemand(node, [demand], name=f"cooling{k + 1}"))
    crf = annuity_factor(0.04, 30)
    forecast = np.tile(wind, len(days))
    model.add(gf.RobustWind([2, 9], [forecast, forecast], units_max=400,
                            cost_per_unit=5100e3 * 0.5 * crf, name="wt"))  # fmt: skip
    model.add(gf.LargeIceMaker(2, yard, capacity_max_mw=100.0, cost_per_mw=1e6 * crf, name="lim"))
    legs = {(0, 1): 1.0, (1, 0): 1.0, (0, 2): 1.0, (2, 0): 1.0}  # no ISAC-ISAC leg
    model.add(gf.IceTruck([yard, *tanks], legs, capacity_mwh=500.0, rate_mw=250.0,
                          fuel_cost_per_h=600.0, fixed_cost=240_000.0, name="truck"))  # fmt: skip
    return model


def investments(model, plan):
    return {d.name: plan[d.name] for d in model.decisions(gf.devices.base.Role.INVESTMENT)}


def assert_same_plan_up_to_ties(model, mono, found):
    ours, theirs = investments(model, found.plan), investments(model, mono.plan)
    same = all(np.allclose(ours[n], theirs[n], atol=1e-4) for n in ours)
    if not same:  # a tie: the monolithic investments, operated exactly, cost the same
        tied = model.evaluate(theirs).objective
        assert found.objective == pytest.approx(tied, rel=GAP)


def assert_bounds_behave(bounds):
    lower, best = bounds["lower_bound"].to_numpy(), bounds["best_upper_bound"].to_numpy()
    assert (np.diff(lower) >= -1e-9 * abs(lower[-1])).all()
    finite = best[np.isfinite(best)]
    assert (np.diff(finite) <= 1e-9 * abs(finite[-1])).all()
    assert bounds["gap"].iloc[-1] <= GAP


@pytest.mark.slow
@pytest.mark.parametrize("cuts", ["single", "multi"])
def test_benders_on_the_td_expansion_equals_the_monolithic_milp(cuts):
    model = td_model()
    mono = model.solve(mip_rel_gap=GAP / 10)
    found = benders(model, cuts=cuts, gap=GAP, max_iterations=300)
    assert found.converged and found.info["cuts"] == cuts
    assert found.objective == pytest.approx(mono.objective, rel=GAP)
    assert_same_plan_up_to_ties(model, mono, found)
    assert_bounds_behave(found.bounds)


@pytest.mark.slow
def test_benders_on_a_seed_002_ice_model_equals_the_monolithic_misocp():
    model = ice_model()
    mono = model.solve()  # SCIP, to its default (zero) gap
    assert mono.solve_info["solver"] == "SCIP"
    found = benders(model, gap=GAP, max_iterations=400)
    assert found.converged and found.info["cuts"] == "multi"
    assert found.objective == pytest.approx(mono.objective, rel=GAP)
    assert_same_plan_up_to_ties(model, mono, found)
    assert_bounds_behave(found.bounds)
    # the subproblem's truck binaries come from the master: one state per period
    truck = found.result.tables["res_ice_truck"]
    driving = truck["truck_driving"].iloc[:, 0].to_numpy()
    np.testing.assert_allclose(truck["parked"].to_numpy().sum(axis=1) + driving, 1.0)
