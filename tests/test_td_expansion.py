"""Seed 000: the coupled T&D networks and the expansion-planning cases."""

import importlib.util

import numpy as np
import pytest

import gridflex as gf
from gridflex.scenario import load_scenario


def test_coupled_networks_meet_at_transmission_bus_2():
    td = gf.networks.ieee24_ieee33()
    assert (td.t_bus, td.d_bus) == (1, 0)
    assert int(td.transmission.bus.name[td.t_bus]) == 2
    assert (td.distribution.ext_grid[["min_p_mw", "max_p_mw"]].to_numpy() == 0).all()
    alone = td.distribution_alone(50.0)
    assert alone.ext_grid.max_p_mw.iloc[0] > 1e3
    cost = alone.poly_cost[alone.poly_cost.et == "ext_grid"].cp1_eur_per_mw
    assert cost.tolist() == [50.0]
    with pytest.raises(ValueError, match="no bus number 99"):
        gf.networks.ieee24_ieee33(pcc_bus_number=99)


def test_boundary_purchase_price_is_paid_on_the_exchange():
    td = gf.networks.ieee24_ieee33()
    networks = [
        gf.Network(td.transmission, "T", formulation=gf.CopperPlate()),
        gf.Network(td.distribution, "D", formulation=gf.CopperPlate()),
    ]
    model = gf.Model(networks, periods=1)
    model.add(gf.Boundary("T", 1, "D", 0, price_per_mwh=50.0, name="pcc"))
    result = model.solve()
    flow = result.res_boundary["p_mw"]["pcc"].iloc[0]
    assert flow == pytest.approx(td.distribution.load.p_mw.sum(), rel=1e-6)
    assert result.costs.loc[("pcc", "purchase"), "cost"] == pytest.approx(50.0 * flow)


def test_boundary_transfer_books_the_price_to_both_operators_at_no_net_cost():
    td = gf.networks.ieee24_ieee33()

    def solve(**price):
        networks = [
            gf.Network(td.transmission, "T", formulation=gf.CopperPlate()),
            gf.Network(td.distribution, "D", formulation=gf.CopperPlate()),
        ]
        model = gf.Model(networks, periods=1)
        model.add(gf.Boundary("T", 1, "D", 0, name="pcc", **price))
        return model.solve()

    free, transfer = solve(), solve(price_per_mwh=50.0, settlement="transfer")
    flow = transfer.res_boundary["p_mw"]["pcc"].iloc[0]
    assert transfer.objective == pytest.approx(free.objective, rel=1e-9)
    assert transfer.costs.loc[("pcc", "purchase"), "cost"] == pytest.approx(50.0 * flow)
    assert transfer.costs.loc[("pcc", "sale"), "cost"] == pytest.approx(-50.0 * flow)
    with pytest.raises(gf.InputError, match="settlement"):
        gf.Boundary("T", 1, "D", 0, settlement="market")


def test_aggregate_zone_outside_the_scope_is_refused():
    td = gf.networks.ieee24_ieee33()
    model = gf.Model([gf.Network(td.transmission, "T"), gf.Network(td.distribution, "D")])
    dc = gf.DataCenter([1, 5], 10.0, 2.0, 2.0, networks=["D", "T"], name="dc")
    model.add(gf.AggregatedFlex(sets=[dc], inside={"D": 99}, name="vpp"), network="T")
    with pytest.raises(gf.InputError, match=r"AggregatedFlex 'vpp'.*99"):
        model.build()


@pytest.fixture(scope="module")
def study():
    scenario = load_scenario("td_dc_fcs_expansion")
    spec = importlib.util.spec_from_file_location("td_study", scenario.path / "study.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return scenario, module


def test_beta_and_eta_of_the_study_from_physical_inputs(study):
    scenario, module = study
    system = module.System(scenario)
    dc = system.dc_set()
    np.testing.assert_allclose(dc.baseline_mw, 91.25)
    np.testing.assert_allclose(dc.beta_up_mw, 0.3 * 91.25)
    np.testing.assert_allclose(dc.eta, [1.0, 0.5 / 0.45, 0.5 / 0.55])
    fcs = system.fcs_set()
    base = np.array([1.9, 1.55, 1.55])
    np.testing.assert_allclose(fcs.beta_down_mw.ravel(), 0.5 * base)
    np.testing.assert_allclose(fcs.beta_up_mw.ravel(), 0.4 * base)


@pytest.mark.slow
def test_exact_joint_is_no_worse_than_the_other_cases(study, tmp_path):
    scenario, module = study
    totals = module.run(scenario, tmp_path)["totals_per_year"]
    exact = totals["exact joint"]
    for case in (
        "Case 1 (no regulation)",
        "Case 2 (T then D), evaluated jointly",
        "Case 2 reverse (D then T), evaluated jointly",
        "Case 3 plan, exact operation",
    ):
        assert exact <= totals[case] + 1e-6 * abs(exact), case
    # the staged Case 2 total is a feasible point of the joint problem: equal when evaluated
    assert totals["Case 2 (T then D), evaluated jointly"] == pytest.approx(
        totals["Case 2 (T then D)"], rel=1e-6
    )


def test_transmission_aggregate_with_every_member_in_the_feeder():
    # All members behind transmission bus 2: the aggregate has no zone realised in 'T'
    # (it used to crash); the feeder scope does the regulation.
    td = gf.networks.ieee24_ieee33()
    model = gf.Model([gf.Network(td.transmission, "T"), gf.Network(td.distribution, "D")])
    model.add(gf.Boundary("T", 1, "D", 0, name="pcc"))
    dc = gf.DataCenter([1, 2], 1.0, 0.5, 0.5, networks=["D", "D"], eta=[1.0, 0.5], name="dc")
    outer = model.add(gf.AggregatedFlex(sets=[dc], inside={"D": 1}, name="vpp_T"), network="T")
    built = model.build_of(outer)
    assert len(built.terminal_buses) == 0 and built.values.zones == [1, "outside"]
