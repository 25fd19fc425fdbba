"""Spatially coupled DC/FCS flexibility and its aggregation (seed 000, eqs. 1-9, 21)."""

import numpy as np
import pandapower as pp
import pytest

import gridflex as gf
from gridflex.devices.aggregation import OUTSIDE


def triangle(rating_mw=60.0):
    """Buses 0-1-2 in a triangle (equal reactances); cheap unit at 0, dear unit at 2."""
    net = pp.create_empty_network(sn_mva=100.0)
    pp.create_buses(net, 3, vn_kv=110.0)
    for a, b in ((0, 1), (1, 2), (0, 2)):
        pp.create_line_from_parameters(
            net, a, b, 10.0, 0.01, 0.1, 0.0, max_i_ka=rating_mw / (np.sqrt(3) * 110.0)
        )
    return net


def model_with(devices, periods=1, rating_mw=60.0):
    model = gf.Model(triangle(rating_mw), periods=periods, net_elements=False)
    model.add(gf.Generator(0, 500.0, cost_per_mwh=10.0, name="cheap"))
    model.add(gf.Generator(2, 500.0, cost_per_mwh=50.0, name="dear"))
    for device in devices:
        model.add(device)
    return model


def dc_set(eta=(1.0, 1.0, 1.0), alpha=1.0, name="dc", up=60.0):
    return gf.DataCenter(
        [0, 1, 2], baseline_mw=[0.0, 0.0, 90.0], beta_down_mw=[0.0, 0.0, 60.0],
        beta_up_mw=[up, up, 0.0], eta=list(eta), cost_per_mwh=alpha, name=name,
    )  # fmt: skip


def test_regulation_by_hand():
    # 90 MW at bus 2 fed from bus 0 (2/3 on the direct line, 1/3 via bus 1): the direct line's
    # 60 MW rating lets 90 MW through exactly; with 30 MW more load at bus 2 the dear unit
    # must run. Moving 30 MW of data-center load from bus 2 to bus 0 (cost 1 per MWh each way)
    # avoids it: cost 120 x 10 + 2 x 30 x 1 = 1260 instead of 90 x 10 + 30 x 50 = 2400.
    extra = gf.Load(2, 30.0, name="other")
    result = model_with([dc_set(), extra]).solve()
    assert result.objective == pytest.approx(1260.0, abs=1e-6)
    np.testing.assert_allclose(
        result.tables["res_data_center"]["regulation_down_mw"].iloc[0], [-30, 0, 30], atol=1e-6
    )
    without = model_with([gf.Load([2], 120.0, name="all")]).solve()
    assert without.objective == pytest.approx(2400.0, abs=1e-6)


def test_beta_and_eta_from_physical_inputs_by_hand():
    # k = 0.2 and 0.4 MW per unit of workload: eta = mean(k) / k = 0.3 / k = (1.5, 0.75).
    dc = gf.DataCenter.from_workload(
        [0, 1], workload=[100, 50], mw_per_workload=[0.2, 0.4], capacity=[150, 100], name="d"
    )
    np.testing.assert_allclose(dc.baseline_mw.ravel(), [20, 20])
    np.testing.assert_allclose(dc.beta_down_mw.ravel(), [20, 20])
    np.testing.assert_allclose(dc.beta_up_mw.ravel(), [10, 20])  # 0.2 x 50, 0.4 x 50
    np.testing.assert_allclose(dc.eta, [1.5, 0.75])
    fcs = gf.FastChargingStation.from_traffic(
        [0, 1], vehicles_per_h=[40, 20], mwh_per_vehicle=0.05,
        capacity_vehicles_per_h=[60, 50], flexible_share=0.5, name="f",
    )  # fmt: skip
    np.testing.assert_allclose(fcs.baseline_mw.ravel(), [2.0, 1.0])
    np.testing.assert_allclose(fcs.beta_down_mw.ravel(), [1.0, 0.5])
    np.testing.assert_allclose(fcs.beta_up_mw.ravel(), [1.0, 1.5])
    np.testing.assert_allclose(fcs.eta, [1.0, 1.0])


def test_workload_profiles_broadcast_per_member():
    # workload (2 members x 2 periods), k per member: baseline = k w row by row
    dc = gf.DataCenter.from_workload(
        [0, 1], workload=[[10, 20], [5, 10]], mw_per_workload=[1.0, 0.2], capacity=30, name="d"
    )
    np.testing.assert_allclose(dc.baseline_mw, [[10, 20], [1, 2]])
    with pytest.raises(gf.InputError, match="one value per member"):
        gf.DataCenter.from_workload([0, 1], [10, 20], [1.0, 0.2, 0.3], 30)


def test_aggregate_does_not_depend_on_the_order_of_the_members():
    def sets(order):
        dc = gf.DataCenter.from_workload(
            np.array([0, 1, 2])[order], np.array([0.0, 0.0, 150.0])[order],
            np.array([1.0, 1.0, 0.5])[order], np.array([120.0, 120.0, 150.0])[order],
            cost_per_mwh=1.0, name="dc",
        )  # fmt: skip
        return [dc]

    costs = []
    for order in ([0, 1, 2], [2, 1, 0]):
        model = model_with([gf.AggregatedFlex(sets=sets(order), name="vpp"), gf.Load(2, 60.0)])
        costs.append(model.solve().objective)
    assert costs[0] == pytest.approx(costs[1], rel=1e-9)


def test_a_silent_set_keeps_its_load():
    # A set whose two members share bus 1 moves nothing between zones, but its 30 MW are there.
    silent = gf.DataCenter([1, 1], [10.0, 20.0], 5.0, 5.0, name="silent")
    other = gf.DataCenter([1, 2], [5.0, 5.0], 1.0, 1.0, name="other")
    aggregated = model_with([gf.AggregatedFlex(sets=[silent, other], name="vpp")]).solve()
    direct = model_with(
        [
            gf.DataCenter([1, 1], [10.0, 20.0], 5.0, 5.0, name="silent"),
            gf.DataCenter([1, 2], [5.0, 5.0], 1.0, 1.0, name="other"),
        ]
    ).solve()
    assert aggregated.objective == pytest.approx(direct.objective, rel=1e-9)
    assert aggregated.objective == pytest.approx(40 * 10.0, rel=1e-9)  # 40 MW from the cheap unit


def test_unequal_eta_moves_workload_not_megawatts():
    # eta = (1, 1, 0.5): a MW taken off bus 2 lands as 2 MW elsewhere (its servers use twice
    # the power per request); the regulation obeys sum eta tau = 0 exactly.
    result = model_with([dc_set(eta=(1.0, 1.0, 0.5)), gf.Load(2, 30.0, name="o")]).solve()
    tau = result.tables["res_data_center"]["regulation_down_mw"].to_numpy()[0]
    assert np.dot([1.0, 1.0, 0.5], tau) == pytest.approx(0.0, abs=1e-7)


def test_aggregate_equals_the_sets_when_each_zone_holds_one_member():
    exact = model_with([dc_set(), gf.Load(2, 30.0, name="o")]).solve()
    aggregated = model_with(
        [gf.AggregatedFlex(sets=[dc_set()], name="vpp"), gf.Load(2, 30.0, name="o")]
    )
    result = aggregated.solve()
    assert result.objective == pytest.approx(exact.objective, abs=1e-6)
    vpp = aggregated.device("vpp")
    taus, mismatch = vpp.disaggregate(aggregated.build_of(vpp))
    np.testing.assert_allclose(mismatch, 0.0, atol=1e-7)
    np.testing.assert_allclose(taus[0][:, 0], [-30, 0, 30], atol=1e-6)


def test_aggregate_is_a_relaxation_when_eta_differs_and_the_gap_is_reported():
    # Two sets on the same buses; set b's data center at bus 2 uses twice the power per
    # request (eta 0.5); buses 0 and 1 take at most 20 MW each per set. Exactly, set a moves
    # 40 MW off bus 2 and set b 60 MW (its 40 MW at buses 0-1 stand for 80 MW at bus 2, capped
    # by its 60 MW): 100 MW. The aggregate averages eta at bus 2 (0.75) and sums the bounds:
    # 80 / 0.75 = 106.7 MW. It promises 6.7 MW that the sets cannot deliver.
    def sets():
        return [dc_set(name="a", up=20.0), dc_set(eta=(1.0, 1.0, 0.5), name="b", up=20.0)]

    exact = model_with([*sets(), gf.Load(2, 150.0, name="o")]).solve()
    tau = exact.tables["res_data_center"]["regulation_down_mw"].iloc[0]
    assert tau["a_2"] + tau["b_2"] == pytest.approx(100.0, abs=1e-6)
    model = model_with([gf.AggregatedFlex(sets=sets(), name="vpp"), gf.Load(2, 150.0, name="o")])
    relaxed = model.solve()
    moved = relaxed.tables["res_aggregated_flex"]["regulation_down_mw"].iloc[0]
    assert moved.iloc[2] == pytest.approx(80 / 0.75, abs=1e-6)
    assert relaxed.objective < exact.objective - 1.0  # the relaxation's gap, reported
    # Disaggregated as closely as possible: 100 MW off bus 2 (6.7 short), and 40 + 30 MW onto
    # buses 0-1 (set b's 60 MW stand for 30 MW there; 10 short of the promised 80).
    _, mismatch = model.device("vpp").disaggregate(model.build_of("vpp"))
    assert mismatch[0] == pytest.approx((80 / 0.75 - 100.0) + 10.0, abs=1e-5)


def test_two_sets_on_the_same_zones_sum_their_bounds():
    model = model_with([gf.AggregatedFlex(sets=[dc_set(name="a"), dc_set(name="b")], name="vpp")])
    vpp = model.build_of("vpp").values  # the zones live in the model's build
    assert vpp.zones == [0, 1, 2, OUTSIDE]
    np.testing.assert_allclose(vpp.hi[:3, 0], [0, 0, 120])
    np.testing.assert_allclose(vpp.lo[:3, 0], [-120, -120, 0])
    np.testing.assert_allclose(vpp.base[:3, 0], [0, 0, 180])


def distribution_pair():
    """Transmission triangle 'T' and a 3-bus feeder 'D' behind its bus 1."""
    feeder = pp.create_empty_network(sn_mva=10.0)
    pp.create_buses(feeder, 3, vn_kv=20.0)
    for a, b in ((0, 1), (1, 2)):
        pp.create_line_from_parameters(feeder, a, b, 1.0, 0.1, 0.1, 0.0, max_i_ka=1.0)
    pp.create_ext_grid(feeder, 0)
    return [
        gf.Network(triangle(), "T", net_elements=False),
        gf.Network(feeder, "D", formulation=gf.LinDistFlow(), net_elements=False),
    ]


def test_a_set_inside_one_zone_adds_nothing_to_the_outer_scope():
    # Charging stations at feeder buses 1 and 2 (both inside transmission zone 1), eta 1: for a
    # transmission scope they move load inside one zone, so the aggregate ignores them.
    fcs = gf.FastChargingStation([1, 2], 1.0, 0.5, 0.5, networks=["D", "D"], name="fcs")
    dc = gf.DataCenter([0, 2], 5.0, 5.0, 5.0, networks=["T", "T"], name="dc")
    model = gf.Model(distribution_pair(), periods=1)
    vpp = model.add(gf.AggregatedFlex(sets=[dc, fcs], inside={"D": 1}, name="vpp"), network="T")
    model.add(gf.Generator(0, 100.0, cost_per_mwh=1.0, name="g"), network="T")
    zones = model.build_of(vpp).values
    assert zones.zones == [0, 2, OUTSIDE]  # no zone 1: the stations contribute nothing
    assert [m.set_index for m in zones.members] == [0, 0]
    inner = gf.AggregatedFlex(sets=[dc, fcs], baselines=False, name="inner")  # counted once
    model.add(inner, network="D")
    assert model.build_of(inner).values.zones == [1, 2, OUTSIDE]  # from the feeder, they matter


def test_bad_input_is_refused():
    with pytest.raises(gf.InputError, match="at least two members"):
        gf.DataCenter([1], 10.0, 5.0, 5.0, name="lonely")
    with pytest.raises(gf.InputError, match=r"DataCenter 'bad'.*'eta' \(1\) must be > 0, got 0.0"):
        gf.DataCenter([0, 1], 10.0, 5.0, 5.0, eta=[1.0, 0.0], name="bad")
    model = model_with([gf.DataCenter([0, 7], 10.0, 5.0, 5.0, name="far")])
    with pytest.raises(gf.InputError, match=r"DataCenter 'far'.*7"):
        model.build()
    with pytest.raises(gf.InputError, match="capacity >= workload"):
        gf.DataCenter.from_workload([0, 1], [10, 20], 0.1, [5, 30])
    model = model_with([gf.DataCenter([0, 1], 10.0, 5.0, 5.0, networks=["T", "X"], name="typo")])
    with pytest.raises(gf.InputError, match="network 'T' is not in the model"):
        model.build()


def test_aggregation_link_makes_both_scopes_agree_eq21():
    # A DC set with one member in the feeder (behind transmission bus 1) and two in
    # transmission. The transmission aggregate sees the feeder member in zone 1, the feeder
    # aggregate sees it at its bus 1 and the others in its zone 0; eq. 21 ties zone 1 (T) to
    # the feeder's zones.
    def dc():
        return gf.DataCenter([1, 0, 2], 5.0, 3.0, 3.0, networks=["D", "T", "T"], name="dc")

    model = gf.Model(distribution_pair(), periods=2)
    model.add(gf.Boundary("T", 1, "D", 0, p_max_mw=22.0, name="pcc"))  # feeder needs 25 MW
    model.add(gf.Generator(0, 100.0, cost_per_mwh=[1.0], name="g"), network="T")
    eq21 = gf.Node("eq21", gf.carriers.REGULATION)  # T's zone 1 and D's scope meet here
    outer = model.add(
        gf.AggregatedFlex(sets=[dc()], inside={"D": 1}, regulation_ports={1: eq21}, name="vpp_T"),
        network="T",
    )
    inner = model.add(
        gf.AggregatedFlex(sets=[dc()], regulation_ports={"scope": eq21}, name="vpp_D"),
        network="D",
    )
    model.add(gf.Load(2, [[20.0, 1.0]], shed_cost_per_mwh=1e4, name="feeder_load"), network="D")
    result = model.solve()
    t_tau = result.by_network["T"]["res_aggregated_flex"]["regulation_down_mw"]
    d_tau = result.by_network["D"]["res_aggregated_flex"]["regulation_down_mw"]
    assert t_tau["1"].iloc[0] == pytest.approx(3.0, abs=1e-6)  # the feeder's DC goes down 3 MW
    assert result.by_network["D"]["res_load"]["shed_mw"].to_numpy().max() < 1e-7
    np.testing.assert_allclose(t_tau["1"], d_tau["1"], atol=1e-7)  # eq. 21 with eta = 1
    np.testing.assert_allclose(d_tau["outside"], t_tau["0"] + t_tau["2"], atol=1e-7)
    assert model.build_of(outer).values.zones == [0, 1, 2, OUTSIDE]
    assert model.build_of(inner).values.zones == [1, OUTSIDE]
    node = result.res_node_regulation  # eq. 21 as a node balance: what T's zone 1 hands over
    np.testing.assert_allclose(node["inflow_mw"]["eq21"], node["outflow_mw"]["eq21"], atol=1e-9)
    outer.regulation_ports = {2: gf.Node("eq21", gf.carriers.REGULATION)}
    with pytest.raises(gf.InputError, match="two different nodes are named 'eq21'"):
        model.build()
    outer.regulation_ports = {5: eq21}
    with pytest.raises(gf.InputError, match=r"regulation port on bus 5, which is not a zone"):
        model.build()
    with pytest.raises(gf.InputError, match=r"must be a gf\.carriers\.REGULATION node"):
        outer.regulation_ports = {1: gf.Node("h", gf.carriers.HEAT)}
