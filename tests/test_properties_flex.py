"""Property tests (hypothesis) of the spatially coupled flexibility (DataCenter,
FastChargingStation, AggregatedFlex) and of RobustWind: random valid parameters give solutions
whose equations (the module docstrings' numbering) hold when checked from the result tables
alone, against the parameters drawn."""

import copy
import functools
import itertools

import numpy as np
import pandapower as pp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gridflex as gf
from property_support import SETTINGS, TOL, one_bus, positive, profile

FEW = settings(max_examples=12, deadline=None, derandomize=True)  # slower cases: fewer
MILP_SETTINGS = settings(max_examples=10, deadline=None, derandomize=True)  # a MILP each
VN_KV = 20.0


def matrix(rows, T, low, high):
    return st.lists(profile(T, low, high), min_size=rows, max_size=rows).map(np.array)


@functools.cache
def _chain(n_bus):
    net = pp.create_empty_network()  # slow (0.3 s): made once per size, copied per example
    pp.create_buses(net, n_bus, vn_kv=VN_KV)
    for a in range(n_bus - 1):
        pp.create_line_from_parameters(net, a, a + 1, 1.0, 0.1, 0.1, 0.0, max_i_ka=1.0)
    return net


def chain(n_bus, rating_mw):
    """Buses 0 - 1 - ... - n_bus-1 joined by lines of ``rating_mw`` each."""
    net = copy.deepcopy(_chain(n_bus))
    net.line["max_i_ka"] = rating_mw / (np.sqrt(3) * VN_KV)
    return net


def grids_everywhere(m, prices, network=None):
    """An ExternalGrid (import only, no limit) at every bus: any load is feasible."""
    for bus, price in enumerate(prices):
        m.add(gf.ExternalGrid(bus, [price], p_min_mw=0.0, name=f"grid{bus}"), network=network)


def rows(table, quantity, names):
    """(n, T) array of ``table[quantity]`` for the elements ``names``, in that order."""
    return table[quantity][list(names)].to_numpy().T


def per_bus(values, buses, n_bus):
    """Sum the rows of ``values`` (n, T) into their buses: (n_bus, T)."""
    out = np.zeros((n_bus, values.shape[1]))
    np.add.at(out, np.asarray(buses, dtype=int), values)
    return out


def assert_kirchhoff(t, net, injection):
    """res_bus.p_mw is the net demand the devices put at each bus (``injection``: (n_bus, T),
    producing positive), and the lines carry exactly that away from the bus."""
    demand = t["res_bus"]["p_mw"][list(net.bus.index)].to_numpy().T
    np.testing.assert_allclose(-demand, injection, atol=TOL)
    out = np.zeros_like(injection)
    line = t["res_line"]
    for i, (a, b) in enumerate(zip(net.line.from_bus, net.line.to_bus, strict=True)):
        out[a] += line["p_from_mw"][i].to_numpy()
        out[b] += line["p_to_mw"][i].to_numpy()
        np.testing.assert_allclose(line["p_to_mw"][i], -line["p_from_mw"][i], atol=TOL)
    np.testing.assert_allclose(out, injection, atol=TOL)


# --- one SpatialFlexSet: eqs. (1)-(3) and p = P^base - tau ------------------------------------
@st.composite
def flex_set_case(draw):
    T, n_bus, n = draw(st.integers(3, 6)), draw(st.integers(2, 4)), draw(st.integers(2, 4))
    baseline = draw(matrix(n, T, 0.0, 10.0))
    return {
        "T": T, "dt_h": draw(st.sampled_from([0.5, 1.0])), "n_bus": n_bus,
        "rating": draw(positive(0.1, 10.0)), "prices": draw(matrix(n_bus, T, 1.0, 100.0)),
        "bus": draw(st.lists(st.integers(0, n_bus - 1), min_size=n, max_size=n)),
        "baseline": baseline,  # the load never turns into generation: beta_down <= baseline
        "beta_down": baseline * draw(matrix(n, T, 0.0, 1.0)),
        "beta_up": draw(matrix(n, T, 0.0, 5.0)),
        "eta": np.array(draw(profile(n, 0.2, 3.0))), "alpha": draw(positive(0.0, 5.0)),
        "kind": draw(st.sampled_from([gf.DataCenter, gf.FastChargingStation])),
    }  # fmt: skip


@SETTINGS
@given(flex_set_case())
def test_a_spatial_set_regulates_within_its_bounds_and_conserves_weighted_load(case):
    net = chain(case["n_bus"], case["rating"])
    m = gf.Model(net, periods=case["T"], dt_h=case["dt_h"], net_elements=False)
    grids_everywhere(m, case["prices"])
    m.add(case["kind"](case["bus"], case["baseline"], case["beta_down"], case["beta_up"],
                       list(case["eta"]), cost_per_mwh=case["alpha"], name="set"))  # fmt: skip
    result = m.solve()
    t, dt = result.tables, case["dt_h"]
    table = t["res_data_center" if case["kind"] is gf.DataCenter else "res_fcs"]
    names = [f"set_{i}" for i in range(len(case["bus"]))]
    tau, p = rows(table, "regulation_down_mw", names), rows(table, "p_mw", names)
    assert (tau >= -case["beta_up"] - TOL).all() and (tau <= case["beta_down"] + TOL).all()  # (1)
    np.testing.assert_allclose(case["eta"] @ tau, 0.0, atol=TOL)  # (2)
    np.testing.assert_allclose(p, case["baseline"] - tau, atol=TOL)  # p = P^base - tau
    assert (p >= -TOL).all()  # beta_down <= baseline
    for quantity, drawn in (("baseline_mw", "baseline"), ("beta_down_mw", "beta_down"),
                            ("beta_up_mw", "beta_up")):  # fmt: skip
        np.testing.assert_allclose(rows(table, quantity, names), case[drawn], atol=TOL)
    np.testing.assert_allclose(rows(table, "eta", names), case["eta"][:, None] + 0 * tau)
    grid = rows(t["res_ext_grid"], "p_mw", [f"grid{b}" for b in range(case["n_bus"])])
    assert_kirchhoff(t, net, grid - per_bus(p, case["bus"], case["n_bus"]))
    energy = dt * np.sum(case["prices"] * grid)
    regulation = dt * case["alpha"] * np.abs(tau).sum()  # (3)
    assert result.objective == pytest.approx(energy + regulation, rel=1e-6, abs=TOL)


# --- the physical constructors: service (workload, vehicles) is conserved ----------------------
@st.composite
def workload_case(draw):
    T, n_bus, n = draw(st.integers(3, 6)), draw(st.integers(2, 4)), draw(st.integers(2, 4))
    workload = draw(matrix(n, T, 0.0, 100.0))
    return {
        "T": T, "n_bus": n_bus, "rating": draw(positive(0.1, 10.0)),
        "prices": draw(matrix(n_bus, T, 1.0, 100.0)),
        "bus": draw(st.lists(st.integers(0, n_bus - 1), min_size=n, max_size=n)),
        "workload": workload, "capacity": workload + draw(matrix(n, T, 0.0, 100.0)),
        "k": np.array(draw(profile(n, 0.01, 0.2))), "idle": draw(positive(0.0, 2.0)),
        "alpha": draw(positive(0.0, 5.0)),
    }  # fmt: skip


@FEW
@given(workload_case())
def test_data_centers_from_workload_serve_the_same_total_workload(case):
    # from_workload: baseline = idle + k w, so the workload served after regulation is
    # (p - idle) / k; moving workload keeps its total (sum tau / k = 0) within [0, capacity].
    net = chain(case["n_bus"], case["rating"])
    m = gf.Model(net, periods=case["T"], net_elements=False)
    grids_everywhere(m, case["prices"])
    m.add(gf.DataCenter.from_workload(case["bus"], case["workload"], case["k"], case["capacity"],
                                      idle_mw=case["idle"], cost_per_mwh=case["alpha"],
                                      name="dc"))  # fmt: skip
    t = m.solve().tables
    names = [f"dc_{i}" for i in range(len(case["bus"]))]
    p = rows(t["res_data_center"], "p_mw", names)
    served, tol = (p - case["idle"]) / case["k"][:, None], TOL / case["k"].min()  # TOL in MW
    np.testing.assert_allclose(served.sum(axis=0), case["workload"].sum(axis=0), atol=tol)
    assert (served >= -tol).all() and (served <= case["capacity"] + tol).all()
    grid = rows(t["res_ext_grid"], "p_mw", [f"grid{b}" for b in range(case["n_bus"])])
    assert_kirchhoff(t, net, grid - per_bus(p, case["bus"], case["n_bus"]))


@st.composite
def traffic_case(draw):
    T, n_bus, n = draw(st.integers(3, 6)), draw(st.integers(2, 4)), draw(st.integers(2, 4))
    flow = draw(matrix(n, T, 0.0, 60.0))
    return {
        "T": T, "n_bus": n_bus, "rating": draw(positive(0.5, 10.0)),
        "prices": draw(matrix(n_bus, T, 1.0, 100.0)),
        "bus": draw(st.lists(st.integers(0, n_bus - 1), min_size=n, max_size=n)),
        "flow": flow, "capacity": flow + draw(matrix(n, T, 0.0, 40.0)),
        "e": np.array(draw(profile(n, 0.01, 0.1))), "share": draw(positive(0.0, 1.0)),
        "alpha": draw(positive(0.0, 5.0)),
    }  # fmt: skip


@FEW
@given(traffic_case())
def test_charging_stations_from_traffic_charge_the_same_number_of_vehicles(case):
    # from_traffic: baseline = e f, so a station charges p / e vehicles per hour; guided drivers
    # are conserved (sum tau / e = 0), at most the share s leaves a station, at most c arrive.
    net = chain(case["n_bus"], case["rating"])
    m = gf.Model(net, periods=case["T"], net_elements=False)
    grids_everywhere(m, case["prices"])
    m.add(gf.FastChargingStation.from_traffic(case["bus"], case["flow"], case["e"],
                                              case["capacity"], flexible_share=case["share"],
                                              cost_per_mwh=case["alpha"], name="fcs"))  # fmt: skip
    t = m.solve().tables
    names = [f"fcs_{i}" for i in range(len(case["bus"]))]
    p = rows(t["res_fcs"], "p_mw", names)
    vehicles, tol = p / case["e"][:, None], TOL / case["e"].min()  # TOL in MW
    np.testing.assert_allclose(vehicles.sum(axis=0), case["flow"].sum(axis=0), atol=tol)
    assert (vehicles >= (1 - case["share"]) * case["flow"] - tol).all()
    assert (vehicles <= case["capacity"] + tol).all()
    grid = rows(t["res_ext_grid"], "p_mw", [f"grid{b}" for b in range(case["n_bus"])])
    assert_kirchhoff(t, net, grid - per_bus(p, case["bus"], case["n_bus"]))


# --- AggregatedFlex: eqs. (4)-(6), (9) over the zones of one network ---------------------------
@st.composite
def member_set(draw, T, n_bus, bus=None):
    """One set's parameters, one time in four with one eta for every member; on ``bus`` if
    given, else drawn, then with one eta all in one zone (a silent set)."""
    n = draw(st.integers(2, 4)) if bus is None else len(bus)
    eta = [draw(positive(0.2, 3.0))] * n if draw(st.booleans()) and draw(st.booleans()) else None
    if bus is None:
        bus = draw(st.lists(st.integers(0, n_bus - 1), min_size=n, max_size=n))
        bus = [bus[0]] * n if eta else bus
    baseline = draw(matrix(n, T, 0.0, 10.0))
    return {
        "kind": draw(st.sampled_from([gf.DataCenter, gf.FastChargingStation])), "bus": bus,
        "baseline": baseline, "beta_down": baseline * draw(matrix(n, T, 0.0, 1.0)),
        "beta_up": draw(matrix(n, T, 0.0, 5.0)),
        "eta": np.array(eta or draw(profile(n, 0.2, 3.0))),
        "alpha": np.array(draw(profile(n, 0.0, 5.0))),
    }  # fmt: skip


def make_set(s, name):
    return s["kind"](s["bus"], s["baseline"], s["beta_down"], s["beta_up"], list(s["eta"]),
                     cost_per_mwh=list(s["alpha"]), networks=s.get("networks"),
                     name=name)  # fmt: skip


def zone_parameters(members, zones, T):
    """Eqs. (4)-(6), (9) by the module docstring: bounds and baselines summed over the zone's
    members, eta and alpha averaged over them (zones without members: all zero)."""
    out = {k: np.zeros((len(zones), T)) for k in ("lo", "hi", "base")}
    out["eta"], out["alpha"] = np.zeros(len(zones)), np.zeros(len(zones))
    for i, zone in enumerate(zones):
        mine = [(s, m) for zone_m, s, m in members if zone_m == zone]
        for s, m in mine:
            out["lo"][i] -= s["beta_up"][m]
            out["hi"][i] += s["beta_down"][m]
            out["base"][i] += s["baseline"][m]
        if mine:
            out["eta"][i] = np.mean([s["eta"][m] for s, m in mine])
            out["alpha"][i] = np.mean([s["alpha"][m] for s, m in mine])
    return out


def scope(sets, zone_of, here):
    """The members each zone of a scope holds, ``[(zone, set, index)]``, and the members of
    silent sets realised in the scope, ``[(bus, set, index)]``. Module docstring: a set whose
    members all lie in one zone and share one eta contributes no regulation, its baselines
    stay."""
    members, silent = [], []
    for s in sets:
        zones = [zone_of(s, i) for i in range(len(s["bus"]))]
        quiet = len(set(zones)) == 1 and np.ptp(s["eta"]) == 0
        for i, zone in enumerate(zones):
            if not quiet:
                members.append((zone, s, i))
            elif here(s, i):
                silent.append((s["bus"][i], s, i))
    return members, silent


def silent_load(silent, n_bus, T):
    """The baselines of silent sets' members at their buses: (n_bus, T)."""
    out = np.zeros((n_bus, T))
    for bus, s, i in silent:
        out[bus] += s["baseline"][i]
    return out


def assert_zone_regulation(table, zones, expected, atol=TOL):
    """Eqs. (4)-(6) on an aggregate's table, against the parameters expected from the draw."""
    labels = [str(z) for z in zones]
    assert list(table["regulation_down_mw"].columns) == labels
    tau = rows(table, "regulation_down_mw", labels)
    assert (tau >= expected["lo"] - atol).all() and (tau <= expected["hi"] + atol).all()  # (4-5)
    np.testing.assert_allclose(expected["eta"] @ tau, 0.0, atol=atol)  # (6)
    for quantity, key in (("lower_mw", "lo"), ("upper_mw", "hi"), ("baseline_mw", "base")):
        np.testing.assert_allclose(rows(table, quantity, labels), expected[key], atol=TOL)
    for quantity, key in (("eta", "eta"), ("alpha_per_mwh", "alpha")):
        np.testing.assert_allclose(rows(table, quantity, labels),
                                   expected[key][:, None] + 0 * tau, atol=TOL)  # fmt: skip
    return tau


@st.composite
def aggregate_case(draw):
    T, n_bus = draw(st.integers(3, 5)), draw(st.integers(2, 4))
    return {
        "T": T, "dt_h": draw(st.sampled_from([0.5, 1.0])), "n_bus": n_bus,
        "rating": draw(positive(0.1, 10.0)), "prices": draw(matrix(n_bus, T, 1.0, 100.0)),
        "sets": draw(st.lists(member_set(T, n_bus), min_size=1, max_size=3)),
    }  # fmt: skip


@SETTINGS
@given(aggregate_case())
def test_an_aggregate_keeps_zone_bounds_and_coupling_and_counts_every_member_once(case):
    T, dt, sets, n_bus = case["T"], case["dt_h"], case["sets"], case["n_bus"]
    net = chain(n_bus, case["rating"])
    m = gf.Model(net, periods=T, dt_h=dt, net_elements=False)
    grids_everywhere(m, case["prices"])
    vpp = m.add(gf.AggregatedFlex([make_set(s, f"s{i}") for i, s in enumerate(sets)], name="vpp"))
    result = m.solve()
    t = result.tables
    members, silent = scope(sets, lambda s, i: s["bus"][i], lambda s, i: True)
    zones = [*sorted({b for b, _, _ in members}), "outside"]
    expected = zone_parameters(members, zones, T)
    tau = assert_zone_regulation(t["res_aggregated_flex"], zones, expected)
    np.testing.assert_allclose(tau[-1], 0.0, atol=TOL)  # zone 0 holds no member here
    # every member's baseline at its bus once: the zones' (minus their regulation), and the
    # silent sets' members' own
    load = per_bus(expected["base"][:-1] - tau[:-1], zones[:-1], n_bus)
    load += silent_load(silent, n_bus, T)
    total = sum(s["baseline"].sum(axis=0) for s in sets)
    np.testing.assert_allclose(load.sum(axis=0), total - tau.sum(axis=0), atol=TOL)
    grid = rows(t["res_ext_grid"], "p_mw", [f"grid{b}" for b in range(n_bus)])
    np.testing.assert_allclose(grid.sum(axis=0), load.sum(axis=0), atol=TOL)
    assert_kirchhoff(t, net, grid - load)
    energy = dt * np.sum(case["prices"] * grid)
    regulation = dt * np.sum(expected["alpha"] @ np.abs(tau))  # (9)
    assert result.objective == pytest.approx(energy + regulation, rel=1e-6, abs=TOL)
    # disaggregation: member regulations within each set's (1), (2); the mismatch it reports
    # is what the members' zone sums miss of the aggregate's tau
    taus, mismatch = vpp.disaggregate(m.build_of(vpp))
    for s, member_tau in zip(sets, taus, strict=True):
        s["tau"] = member_tau
        assert (member_tau >= -s["beta_up"] - TOL).all()  # (1)
        assert (member_tau <= s["beta_down"] + TOL).all()
        np.testing.assert_allclose(s["eta"] @ member_tau, 0.0, atol=TOL)  # (2)
    sums = np.zeros_like(tau)
    for zone, s, i in members:
        sums[zones.index(zone)] += s["tau"][i]
    np.testing.assert_allclose(mismatch, np.abs(sums - tau).sum(axis=0), atol=1e-5)
    assert (mismatch >= -TOL).all()


@st.composite
def common_weight_case(draw):
    T, n_bus = draw(st.integers(3, 5)), draw(st.integers(2, 4))
    eta, alpha = draw(positive(0.2, 3.0)), draw(positive(0.0, 5.0))
    if draw(st.booleans()):  # one set, one member per zone
        n = draw(st.integers(2, n_bus))
        buses = [draw(st.permutations(range(n_bus)))[:n]]
    else:
        buses = draw(st.lists(st.lists(st.integers(0, n_bus - 1), min_size=2, max_size=4),
                              min_size=1, max_size=2))  # fmt: skip
    sets = []
    for bus in buses:
        baseline = draw(matrix(len(bus), T, 0.0, 10.0))
        sets.append({
            "kind": gf.DataCenter, "bus": list(bus), "baseline": baseline,
            "beta_down": baseline * draw(matrix(len(bus), T, 0.0, 1.0)),
            "beta_up": draw(matrix(len(bus), T, 0.0, 5.0)),
            "eta": np.full(len(bus), eta), "alpha": np.full(len(bus), alpha),
        })  # fmt: skip
    return {
        "T": T, "n_bus": n_bus, "rating": draw(positive(0.1, 10.0)),
        "prices": draw(matrix(n_bus, T, 1.0, 100.0)), "sets": sets,
    }  # fmt: skip


@FEW
@given(common_weight_case())
def test_an_aggregate_with_one_eta_and_alpha_relaxes_its_sets_exactly_with_one_member_per_zone(
    case,
):
    # Module docstring: the aggregate is exact with one member per zone and equal eta and
    # alpha. With one eta everywhere the members' zone sums of any feasible set dispatch meet
    # (4)-(6) at no higher cost (|sum| <= sum | |), so the aggregate never costs more.
    def solve(aggregate):
        m = gf.Model(chain(case["n_bus"], case["rating"]), periods=case["T"], net_elements=False)
        grids_everywhere(m, case["prices"])
        sets = [make_set(s, f"s{i}") for i, s in enumerate(case["sets"])]
        for device in [gf.AggregatedFlex(sets, name="vpp")] if aggregate else sets:
            m.add(device)
        return m.solve().objective

    exact, aggregated = solve(False), solve(True)
    assert aggregated <= exact + 1e-6 * max(1.0, abs(exact))
    sets = case["sets"]
    if len(sets) == 1 and len(set(sets[0]["bus"])) == len(sets[0]["bus"]):
        assert aggregated == pytest.approx(exact, rel=1e-6, abs=TOL)


# --- two scopes: eq. (21) ties a transmission zone to the feeder behind it --------------------
@st.composite
def two_scope_case(draw):
    T, zone = draw(st.integers(3, 4)), draw(st.integers(0, 2))
    others = [b for b in range(3) if b != zone]  # a zone holds members of one network only
    sets = []
    for k in range(draw(st.integers(1, 3))):  # the first set in both networks, others anywhere
        n_t, n_d = draw(st.integers(1 - (k > 0), 2)), draw(st.integers(1 - (k > 0), 2))
        if n_t + n_d < 2:
            n_t, n_d = (2, 0) if draw(st.booleans()) else (0, 2)
        in_t = draw(st.lists(st.sampled_from(others), min_size=n_t, max_size=n_t))
        in_d = draw(st.lists(st.integers(0, 2), min_size=n_d, max_size=n_d))
        sets.append(draw(member_set(T, 3, bus=in_t + in_d)))
        sets[-1]["networks"] = ["T"] * n_t + ["D"] * n_d
    return {
        "T": T, "zone": zone, "prices": draw(matrix(3, T, 1.0, 100.0)), "sets": sets,
        "rating": draw(positive(0.1, 10.0)),
    }  # fmt: skip


def solve_two_scopes(case):
    """A DC transmission network and a LinDistFlow feeder joined at ``zone``, an outer and an
    inner aggregate of the same sets linked by eq. 21; returns the result and both nets."""
    T, zone, sets = case["T"], case["zone"], case["sets"]
    feeder = chain(3, 1000.0)
    pp.create_ext_grid(feeder, 0)  # the feeder's voltage reference; supplied through 'pcc'
    transmission = chain(3, case["rating"])
    m = gf.Model([gf.Network(transmission, "T", net_elements=False),
                  gf.Network(feeder, "D", formulation=gf.LinDistFlow(), net_elements=False)],
                 periods=T)  # fmt: skip
    m.add(gf.Boundary("T", zone, "D", 0, name="pcc"))
    grids_everywhere(m, case["prices"], network="T")
    eq21 = gf.Node("eq21", gf.carriers.REGULATION)
    outer = gf.AggregatedFlex(
        [make_set(s, f"s{i}") for i, s in enumerate(sets)],
        inside={"D": zone},
        regulation_ports={zone: eq21},
        name="vpp_T",
    )
    inner = gf.AggregatedFlex([make_set(s, f"s{i}") for i, s in enumerate(sets)],
                              regulation_ports={"scope": eq21}, name="vpp_D")  # fmt: skip
    m.add(outer, network="T")
    m.add(inner, network="D")
    return m.solve(), transmission, feeder


@FEW
@given(two_scope_case())
def test_two_scopes_agree_through_eq21_and_count_every_member_once(case):
    T, zone, sets = case["T"], case["zone"], case["sets"]
    result, transmission, feeder = solve_two_scopes(case)
    t_tables, d_tables = result.by_network["T"], result.by_network["D"]

    # the zones each scope sees: D's members in T's zone `zone`, T's members outside D
    def in_(network):
        return lambda s, i: s["networks"][i] == network

    members_t, silent_t = scope(sets, lambda s, i: s["bus"][i] if in_("T")(s, i) else zone,
                                in_("T"))  # fmt: skip
    members_d, silent_d = scope(sets, lambda s, i: s["bus"][i] if in_("D")(s, i) else "outside",
                                in_("D"))  # fmt: skip
    zones_t = [*sorted({z for z, _, _ in members_t}), "outside"]
    zones_d = [*sorted({z for z, _, _ in members_d} - {"outside"}), "outside"]
    exp_t, exp_d = zone_parameters(members_t, zones_t, T), zone_parameters(members_d, zones_d, T)
    tau_t = assert_zone_regulation(t_tables["res_aggregated_flex"], zones_t, exp_t)
    tau_d = assert_zone_regulation(d_tables["res_aggregated_flex"], zones_d, exp_d)
    k = zones_t.index(zone)
    here_t = [i for i, z in enumerate(zones_t) if z not in (zone, "outside")]
    here_d = list(range(len(zones_d) - 1))
    np.testing.assert_allclose(
        exp_t["eta"][k] * tau_t[k], exp_d["eta"][here_d] @ tau_d[here_d], atol=TOL
    )  # (21)
    realised_t = exp_t["eta"][here_t] @ tau_t[here_t]
    np.testing.assert_allclose(
        realised_t + exp_d["eta"][here_d] @ tau_d[here_d], 0.0, atol=TOL
    )  # (6) of T with (21): what is carried out conserves
    np.testing.assert_allclose(exp_d["eta"][-1] * tau_d[-1], realised_t, atol=TOL)  # D's view
    node = t_tables["res_node_regulation"]
    np.testing.assert_allclose(node["inflow_mw"]["eq21"], node["outflow_mw"]["eq21"], atol=TOL)
    # bus balances: zone `zone` of T is carried out in D (nothing injected in T for it)
    zt = [zones_t[i] for i in here_t]
    load_t = per_bus(exp_t["base"][here_t] - tau_t[here_t], zt, 3) + silent_load(silent_t, 3, T)
    load_d = per_bus(exp_d["base"][here_d] - tau_d[here_d], zones_d[:-1], 3)
    load_d += silent_load(silent_d, 3, T)
    pcc = t_tables["res_boundary"]["p_mw"]["pcc"].to_numpy()
    grid = rows(t_tables["res_ext_grid"], "p_mw", [f"grid{b}" for b in range(3)])
    to_feeder, from_pcc = np.zeros((3, T)), np.zeros((3, T))
    to_feeder[zone], from_pcc[0] = pcc, pcc
    assert_kirchhoff(t_tables, transmission, grid - load_t - to_feeder)
    assert_kirchhoff(d_tables, feeder, from_pcc - load_d)
    total = sum(s["baseline"].sum(axis=0) for s in sets)  # every member once
    carried_out = tau_t[here_t].sum(axis=0) + tau_d[here_d].sum(axis=0)
    np.testing.assert_allclose(grid.sum(axis=0), total - carried_out, atol=TOL)


# --- RobustWind: integer turbines, output within the worst case of the box (eq. 12, 44) ------
@st.composite
def wind_case(draw, n_bus_low=2, n_bus_high=3):
    T, n_bus = draw(st.integers(3, 5)), draw(st.integers(n_bus_low, n_bus_high))
    n = draw(st.integers(1, 2))
    epsilon = draw(positive(0.01, 0.5))
    return {
        "T": T, "dt_h": draw(st.sampled_from([0.5, 1.0])), "n_bus": n_bus,
        "rating": draw(positive(0.1, 10.0)), "prices": draw(matrix(n_bus, T, 1.0, 100.0)),
        "load": draw(matrix(n_bus, T, 0.0, 8.0)),
        "bus": draw(st.lists(st.integers(0, n_bus - 1), min_size=n, max_size=n)),
        # no availability or worst-case factor in (0, 1e-3): HiGHS 1.16's presolve mis-solves
        # sub-1e-6 MW turbine outputs (the xfail test below keeps that case)
        "forecast": draw(matrix(n, T, 0.0, 1.0).map(lambda a: np.where(a < 1e-3, 0.0, a))),
        "units_max": np.array(draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))),
        "unit_mw": draw(positive(0.1, 2.0)), "cost": np.array(draw(profile(n, 0.0, 100.0))),
        "epsilon": epsilon,  # gamma in [0, 1/eps]: the factor 1 - gamma eps is 0 or >= 1e-3
        "gamma": draw(st.one_of(st.just(1.0), positive(0.0, 0.999))) / epsilon,
    }  # fmt: skip


def add_wind(m, case):
    m.add(gf.RobustWind(case["bus"], case["forecast"], units_max=list(case["units_max"]),
                        unit_mw=case["unit_mw"], cost_per_unit=list(case["cost"]),
                        epsilon=case["epsilon"], gamma=case["gamma"], name="wt"))  # fmt: skip
    for b, load in enumerate(case["load"]):
        m.add(gf.Load(b, [load], name=f"load{b}"))


def worst_case_mw_per_unit(case):
    """Module docstring: p_t <= (1 - Gamma eps) rho*_t n P^unit, the least availability of the
    box rho in [rho* (1 - Gamma eps), rho* (1 + Gamma eps)] (eq. 12), per turbine."""
    return (1 - case["gamma"] * case["epsilon"]) * case["forecast"] * case["unit_mw"]


@MILP_SETTINGS
@given(wind_case())
def test_robust_wind_builds_whole_turbines_and_never_exceeds_the_worst_case(case):
    T, dt, n_bus = case["T"], case["dt_h"], case["n_bus"]
    net = chain(n_bus, case["rating"])
    m = gf.Model(net, periods=T, dt_h=dt, net_elements=False)
    grids_everywhere(m, case["prices"])  # import only: no export, so spilling can pay
    add_wind(m, case)
    result = m.solve()
    t = result.tables
    wt = t["res_robust_wind"]
    names = ["wt"] if len(case["bus"]) == 1 else [f"wt_{i}" for i in range(len(case["bus"]))]
    units = rows(wt, "units", names)
    np.testing.assert_allclose(units, units[:, :1] + 0 * units, atol=0)  # one count for the horizon
    n = units[:, 0]
    np.testing.assert_allclose(n, np.round(n), atol=0)  # eq. 44: whole turbines
    assert (n >= 0).all() and (n <= case["units_max"]).all()
    np.testing.assert_allclose(rows(wt, "capacity_mw", names)[:, 0], n * case["unit_mw"],
                               atol=TOL)  # P^WT = n P^unit  # fmt: skip
    worst = worst_case_mw_per_unit(case) * n[:, None]
    p = rows(wt, "p_mw", names)
    assert (p >= -TOL).all() and (p <= worst + TOL).all()  # never above the worst case
    np.testing.assert_allclose(rows(wt, "available_mw", names), worst, atol=TOL)
    np.testing.assert_allclose(rows(wt, "spilled_mw", names), worst - p, atol=TOL)
    grid = rows(t["res_ext_grid"], "p_mw", [f"grid{b}" for b in range(n_bus)])
    np.testing.assert_allclose(rows(t["res_load"], "p_mw", [f"load{b}" for b in range(n_bus)]),
                               case["load"], atol=TOL)  # fmt: skip
    assert_kirchhoff(t, net, grid + per_bus(p, case["bus"], n_bus) - case["load"])
    cost = dt * np.sum(case["prices"] * grid) + case["cost"] @ n  # energy + cost_per_unit x n
    assert result.objective == pytest.approx(cost, rel=1e-6, abs=TOL)


def solved_and_brute_force_costs(case):
    """The solved objective, the cost of the count it built and the cheapest count's cost over
    every count n in 0..units_max (one bus, import only: n turbines save price x min(load,
    output) and cost cost_per_unit x n; spilling is free)."""
    m = gf.Model(one_bus(), periods=case["T"], dt_h=case["dt_h"], net_elements=False)
    grids_everywhere(m, case["prices"])
    add_wind(m, case)
    result = m.solve()
    per_unit, price, load = worst_case_mw_per_unit(case), case["prices"][0], case["load"][0]

    def cost(n):
        short = np.maximum(load - np.asarray(n) @ per_unit, 0.0)
        return case["dt_h"] * price @ short + case["cost"] @ np.asarray(n)

    counts = itertools.product(*(range(int(k) + 1) for k in case["units_max"]))
    best = min(cost(n) for n in counts)
    built = result.tables["res_robust_wind"]["units"].iloc[0].to_numpy()
    return result.objective, cost(built), best


@MILP_SETTINGS
@given(wind_case(n_bus_low=1, n_bus_high=1))
def test_robust_wind_builds_the_count_a_brute_force_finds_cheapest(case):
    objective, of_the_count_built, cheapest = solved_and_brute_force_costs(case)
    assert objective == pytest.approx(of_the_count_built, rel=1e-6, abs=TOL)
    assert objective == pytest.approx(cheapest, rel=1e-6, abs=TOL)


@pytest.mark.xfail(
    strict=False,  # a newer HiGHS may fix it; CI installs the newest
    raises=AssertionError,
    reason="HiGHS 1.16.0 presolve: with a capacity coefficient of 5e-7 MW per turbine it "
    "reports 'optimal' 1.5 with the useless turbine built; presolve='off' and SCIP find 0.5. "
    "The model RobustWind builds is right (a solver bug: reproduced with cvxpy alone, and by "
    "highspy on the MPS file of a 2-candidate, 3-period copy of this model).",
)
def test_a_turbine_that_cannot_pay_for_itself_is_not_built():
    # found by the brute-force property above with a random seed: one turbine (cost 1) whose
    # worst-case output is 5e-7 MW in one period would save 2.5e-7; building none costs 0.5
    objective, of_the_count_built, cheapest = solved_and_brute_force_costs({
        "T": 3, "dt_h": 0.5, "prices": np.ones((1, 3)), "load": np.array([[1.0, 0.0, 0.0]]),
        "bus": [0, 0], "forecast": np.array([[1e-6, 0.0, 0.0], [0.0, 0.0, 0.0]]),
        "units_max": np.array([1, 0]), "unit_mw": 0.5, "cost": np.array([1.0, 0.0]),
        "epsilon": 0.5, "gamma": 0.0,
    })  # fmt: skip
    assert objective == pytest.approx(of_the_count_built, rel=1e-6, abs=TOL)
    assert objective == pytest.approx(cheapest, rel=1e-6, abs=TOL)  # 0.5: build none
