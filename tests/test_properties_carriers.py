"""Property tests (hypothesis) of the carrier devices, the boundary between networks and the
external grid: random valid parameters give solutions whose physics holds when checked from the
result tables (and the costs table) alone, with each device's own docstring equations."""

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import gridflex as gf
from property_support import SETTINGS, TOL, one_bus, positive, profile

RATED = st.sampled_from(["output", "input"])  # the port a converter's capacity bounds


def cost_of(result, device, component):
    """One line of the costs table (0 where the device books no such component)."""
    costs = result.costs["cost"]
    return float(costs.get((device, component), 0.0))


def within(values, low, high):
    values = np.asarray(values)
    assert (values >= np.asarray(low) - TOL).all() and (values <= np.asarray(high) + TOL).all()


def check_external_grid(result, tables, name, case, dt):
    """ExternalGrid docstring: p within [p_min, p_max]; cost ``sum_t dt price_t p_t``."""
    p = tables["res_ext_grid"]["p_mw"][name].to_numpy()
    within(p, case["p_min"], case["p_max"])
    energy = dt * np.sum(np.asarray(case["price"]) * p)
    assert math.isclose(cost_of(result, name, "energy"), energy, abs_tol=TOL)
    return p


def check_source(result, tables, name, flow_max, price, dt):
    """CarrierSource: f = s, 0 <= s <= S_max; cost ``price x s`` per stock unit (dt x flow)."""
    s = tables["res_carrier_source"]["supply_mw"][name].to_numpy()
    within(s, 0.0, flow_max)
    purchase = dt * np.sum(np.asarray(price) * s)
    assert math.isclose(cost_of(result, name, "purchase"), purchase, abs_tol=TOL)
    return s


def check_converter(conv, name, inp, out, eta, capacity, rated):
    """Converter: f_out = eta x (input x), 0 <= x <= X with X = capacity (rated "input") or
    capacity / eta (rated "output", so the first output is within the capacity)."""
    x, y = conv[inp][name].to_numpy(), conv[out][name].to_numpy()
    np.testing.assert_allclose(y, np.asarray(eta) * x, atol=TOL)
    within(x, 0.0, np.inf)
    within(y if rated == "output" else x, 0.0, capacity)
    return x, y


def check_demand(tables, name, demand):
    """CarrierDemand: served = D - l, 0 <= l <= D."""
    d = tables["res_carrier_demand"]
    served, shed = d["served_mw"][name].to_numpy(), d["shed_mw"][name].to_numpy()
    np.testing.assert_allclose(served + shed, demand, atol=TOL)
    within(shed, 0.0, demand)
    return served


def check_node_totals(tables, carrier):
    """Every node of a carrier balances: inflow = outflow in every period."""
    node = tables[f"res_node_{carrier}"]
    np.testing.assert_allclose(node["inflow_mw"], node["outflow_mw"], atol=TOL)


# --- gas source -> CHP (electricity + heat) and gas boiler ------------------------------------
@st.composite
def chp_case(draw):
    T = draw(st.integers(3, 6))
    load = draw(profile(T, 0.0, 5.0))
    return {
        "T": T, "dt_h": draw(st.sampled_from([0.5, 1.0])), "load": load,
        "heat": draw(profile(T, 0.0, 4.0)), "shed_cost": draw(positive(50.0, 500.0)),
        "price": draw(profile(T, 1.0, 100.0)), "p_min": min(load) - draw(positive(0.0, 5.0)),
        "p_max": max(load) + draw(positive(0.0, 5.0)),
        "gas_price": draw(profile(T, 1.0, 60.0)), "gas_max": draw(profile(T, 0.0, 10.0)),
        "ee": draw(positive(0.2, 0.5)), "he": draw(positive(0.3, 0.6)),
        "chp_cap": draw(positive(0.0, 5.0)), "chp_rated": draw(RATED),
        "chp_cost": draw(positive(0.0, 5.0)), "gb_eff": draw(profile(T, 0.7, 1.0)),
        "gb_cap": draw(positive(0.0, 5.0)), "gb_rated": draw(RATED),
    }  # fmt: skip


@SETTINGS
@given(chp_case())
def test_gas_chp_and_boiler_close_gas_heat_and_power_from_the_tables(case):
    gas, heat = gf.Node("gas", gf.carriers.GAS), gf.Node("heat", gf.carriers.HEAT)
    m = gf.Model(one_bus(), periods=case["T"], dt_h=case["dt_h"], net_elements=False)
    m.add(gf.ExternalGrid(0, [case["price"]], p_min_mw=case["p_min"], p_max_mw=case["p_max"],
                          name="grid"))  # fmt: skip
    m.add(gf.Load(0, [case["load"]], name="load"))
    m.add(gf.CarrierSource(gas, [case["gas_max"]], price=[case["gas_price"]], name="gas_supply"))
    m.add(gf.CHP(gas, 0, heat, case["chp_cap"], electric_efficiency=case["ee"],
                 heat_efficiency=case["he"], rated=case["chp_rated"],
                 cost_per_unit=case["chp_cost"], name="chp"))  # fmt: skip
    m.add(gf.GasBoiler(gas, heat, case["gb_cap"], efficiency=[case["gb_eff"]],
                       rated=case["gb_rated"], name="gb"))  # fmt: skip
    m.add(gf.CarrierDemand(heat, [case["heat"]], shed_cost=case["shed_cost"], name="use"))
    result = m.solve()
    t, dt = result.tables, case["dt_h"]
    conv = t["res_converter"]
    # CHP: electricity = ee x gas, heat = he x gas (Converter f^out, f^out2): a fixed ratio
    gas_chp, power = check_converter(conv, "chp", "gas_mw", "electric_mw", case["ee"],
                                     case["chp_cap"], case["chp_rated"])  # fmt: skip
    heat_chp = conv["heat_mw"]["chp"].to_numpy()
    np.testing.assert_allclose(heat_chp, case["he"] * gas_chp, atol=TOL)
    np.testing.assert_allclose(case["ee"] * heat_chp, case["he"] * power, atol=TOL)
    rated = power if case["chp_rated"] == "output" else gas_chp
    operation = dt * case["chp_cost"] * rated.sum()  # cost_per_unit per rated stock unit
    assert math.isclose(cost_of(result, "chp", "operation"), operation, abs_tol=TOL)
    # gas boiler: heat = efficiency_t x gas (a profile of efficiencies)
    gas_gb, heat_gb = check_converter(conv, "gb", "gas_mw", "heat_mw", case["gb_eff"],
                                      case["gb_cap"], case["gb_rated"])  # fmt: skip
    # the gas node: the source supplies what the CHP and the boiler burn
    supply = check_source(result, t, "gas_supply", case["gas_max"], case["gas_price"], dt)
    np.testing.assert_allclose(supply, gas_chp + gas_gb, atol=TOL)
    # the heat node: the CHP's and the boiler's heat is what the demand is served
    served = check_demand(t, "use", case["heat"])
    np.testing.assert_allclose(heat_chp + heat_gb, served, atol=TOL)
    for carrier in ("gas", "heat"):
        check_node_totals(t, carrier)
    # the bus: import + CHP power = load, the import within its limits and priced
    imported = check_external_grid(result, t, "grid", case, dt)
    np.testing.assert_allclose(imported + power, case["load"], atol=TOL)


# --- electricity -> heat pump, electric boiler -> heat -> absorption chiller -> cooling --------
@st.composite
def cooling_case(draw):
    T = draw(st.integers(3, 6))
    cool, load = draw(profile(T, 0.0, 4.0)), draw(profile(T, 0.0, 2.0))
    ec_cop, ec_rated = draw(positive(2.5, 6.0)), draw(RATED)
    ec_need = max(cool) if ec_rated == "output" else max(cool) / ec_cop  # serves all cooling
    return {
        "T": T, "dt_h": draw(st.sampled_from([0.5, 1.0, 2.0])), "cool": cool, "load": load,
        "heat": draw(profile(T, 0.0, 4.0)), "shed_cost": draw(positive(50.0, 500.0)),
        "price": draw(profile(T, 1.0, 100.0)), "p_min": -draw(positive(0.0, 2.0)),
        "p_max": max(load) + max(cool) / ec_cop + draw(positive(0.0, 5.0)),
        "hp_cop": draw(profile(T, 2.0, 5.0)), "hp_cap": draw(positive(0.0, 4.0)),
        "hp_rated": draw(RATED), "eb_eff": draw(positive(0.9, 1.0)),
        "eb_cap": draw(positive(0.0, 3.0)), "eb_rated": draw(RATED),
        "ac_cop": draw(positive(0.6, 1.2)), "ac_cap": draw(positive(0.0, 3.0)),
        "ac_rated": draw(RATED), "ec_cop": ec_cop, "ec_rated": ec_rated,
        "ec_cap": ec_need + draw(positive(0.0, 2.0)),
    }  # fmt: skip


@SETTINGS
@given(cooling_case())
def test_heat_pump_boiler_and_chillers_close_heat_cooling_and_power_from_the_tables(case):
    heat, cool = gf.Node("heat", gf.carriers.HEAT), gf.Node("cool", gf.carriers.COOLING)
    m = gf.Model(one_bus(), periods=case["T"], dt_h=case["dt_h"], net_elements=False)
    m.add(gf.ExternalGrid(0, [case["price"]], p_min_mw=case["p_min"], p_max_mw=case["p_max"],
                          name="grid"))  # fmt: skip
    m.add(gf.Load(0, [case["load"]], name="load"))
    m.add(gf.HeatPump(0, heat, case["hp_cap"], cop=[case["hp_cop"]], rated=case["hp_rated"],
                      name="hp"))  # fmt: skip
    m.add(gf.ElectricBoiler(0, heat, case["eb_cap"], efficiency=case["eb_eff"],
                            rated=case["eb_rated"], name="eb"))  # fmt: skip
    m.add(gf.AbsorptionChiller(heat, cool, case["ac_cap"], cop=case["ac_cop"],
                               rated=case["ac_rated"], name="ac"))  # fmt: skip
    m.add(gf.ElectricChiller(0, cool, case["ec_cap"], cop=case["ec_cop"], rated=case["ec_rated"],
                             name="ec"))  # fmt: skip
    m.add(gf.CarrierDemand(heat, [case["heat"]], shed_cost=case["shed_cost"], name="heating"))
    m.add(gf.CarrierDemand(cool, [case["cool"]], name="cooling"))
    result = m.solve()
    t, dt = result.tables, case["dt_h"]
    conv = t["res_converter"]
    # each converter: output = efficiency (or COP) x input, the rated port within the capacity
    p_hp, heat_hp = check_converter(conv, "hp", "electric_mw", "heat_mw", case["hp_cop"],
                                    case["hp_cap"], case["hp_rated"])  # fmt: skip
    p_eb, heat_eb = check_converter(conv, "eb", "electric_mw", "heat_mw", case["eb_eff"],
                                    case["eb_cap"], case["eb_rated"])  # fmt: skip
    heat_ac, cool_ac = check_converter(conv, "ac", "heat_mw", "cooling_mw", case["ac_cop"],
                                       case["ac_cap"], case["ac_rated"])  # fmt: skip
    p_ec, cool_ec = check_converter(conv, "ec", "electric_mw", "cooling_mw", case["ec_cop"],
                                    case["ec_cap"], case["ec_rated"])  # fmt: skip
    # the heat node: heat pump + boiler = heat served + what the absorption chiller takes
    served = check_demand(t, "heating", case["heat"])
    np.testing.assert_allclose(heat_hp + heat_eb, served + heat_ac, atol=TOL)
    # the cooling node: both chillers serve the whole cooling demand (no shedding)
    np.testing.assert_allclose(check_demand(t, "cooling", case["cool"]), case["cool"], atol=TOL)
    np.testing.assert_allclose(cool_ac + cool_ec, case["cool"], atol=TOL)
    for carrier in ("heat", "cooling"):
        check_node_totals(t, carrier)
    # the bus: the import feeds the load and the three electric converters
    imported = check_external_grid(result, t, "grid", case, dt)
    np.testing.assert_allclose(imported, np.asarray(case["load"]) + p_hp + p_eb + p_ec, atol=TOL)


# --- a heat link between two nodes, each with a source and a sheddable demand ------------------
@st.composite
def link_case(draw):
    T = draw(st.integers(3, 6))
    return {
        "T": T, "dt_h": draw(st.sampled_from([0.5, 1.0])),
        "capacity": draw(positive(0.0, 5.0)), "loss": draw(positive(0.0, 0.3)),
        "bidirectional": draw(st.booleans()), "cost": draw(positive(0.0, 3.0)),
        "candidate": draw(st.booleans()), "capital": draw(positive(0.0, 20.0)),
        "price_a": draw(profile(T, 1.0, 50.0)), "price_b": draw(profile(T, 1.0, 50.0)),
        "max_a": draw(profile(T, 0.0, 6.0)), "max_b": draw(profile(T, 0.0, 6.0)),
        "demand_a": draw(profile(T, 0.0, 5.0)), "demand_b": draw(profile(T, 0.0, 5.0)),
        "shed_cost": draw(positive(60.0, 200.0)),
    }  # fmt: skip


@SETTINGS
@given(link_case())
def test_a_heat_link_delivers_what_it_sends_less_its_loss_from_the_tables(case):
    a, b = gf.Node("A", gf.carriers.HEAT), gf.Node("B", gf.carriers.HEAT)
    m = gf.Model(one_bus(), periods=case["T"], dt_h=case["dt_h"], net_elements=False)
    m.add(gf.CarrierSource(a, [case["max_a"]], price=[case["price_a"]], name="src_a"))
    m.add(gf.CarrierSource(b, [case["max_b"]], price=[case["price_b"]], name="src_b"))
    investment = case["capital"] if case["candidate"] else None
    m.add(gf.CarrierLink(a, b, case["capacity"], loss=case["loss"],
                         bidirectional=case["bidirectional"], cost_per_unit=case["cost"],
                         investment=investment, name="pipe"))  # fmt: skip
    for node, key in ((a, "a"), (b, "b")):
        m.add(gf.CarrierDemand(node, [case[f"demand_{key}"]], shed_cost=case["shed_cost"],
                               name=f"use_{key}"))  # fmt: skip
    result = m.solve()
    t, dt = result.tables, case["dt_h"]
    link = t["res_carrier_link"]
    sent, back = link["sent_mw"]["pipe"].to_numpy(), link["back_mw"]["pipe"].to_numpy()
    # availability a: 1, or the build decision of a candidate (0 or 1, one stage: constant)
    if case["candidate"]:
        built = link["built"]["pipe"].to_numpy()
        np.testing.assert_allclose(built, np.round(built), atol=TOL)
        assert np.ptp(built) <= TOL
        capital = case["capital"] * built[0]  # charged once, at the start (no horizon)
        assert math.isclose(cost_of(result, "pipe", "investment"), capital, abs_tol=TOL)
    else:
        built = np.ones(case["T"])
    # 0 <= s, r <= F a; r = 0 unless bidirectional
    within(sent, 0.0, case["capacity"] * built)
    within(back, 0.0, case["capacity"] * built if case["bidirectional"] else 0.0)
    kept = 1.0 - case["loss"]
    np.testing.assert_allclose(link["loss_mw"]["pipe"], case["loss"] * (sent + back), atol=TOL)
    transport = dt * case["cost"] * (sent + back).sum()  # cost per stock unit sent
    assert math.isclose(cost_of(result, "pipe", "transport"), transport, abs_tol=TOL)
    # f_from = -s + (1 - loss) r, f_to = (1 - loss) s - r: each node balances
    src_a = check_source(result, t, "src_a", case["max_a"], case["price_a"], dt)
    src_b = check_source(result, t, "src_b", case["max_b"], case["price_b"], dt)
    served_a = check_demand(t, "use_a", case["demand_a"])
    served_b = check_demand(t, "use_b", case["demand_b"])
    f_from, f_to = -sent + kept * back, kept * sent - back
    np.testing.assert_allclose(src_a + f_from, served_a, atol=TOL)
    np.testing.assert_allclose(src_b + f_to, served_b, atol=TOL)
    # the node table: inflow and outflow are the positive and negative port flows
    node = t["res_node_heat"]
    for name, src, served, f in (("A", src_a, served_a, f_from), ("B", src_b, served_b, f_to)):
        np.testing.assert_allclose(node["inflow_mw"][name], src + np.maximum(f, 0), atol=TOL)
        np.testing.assert_allclose(node["outflow_mw"][name], served + np.maximum(-f, 0), atol=TOL)
    check_node_totals(t, "heat")


# --- two networks joined by a boundary ------------------------------------------------------------
def limit_profile(T, low, high, unbounded):
    """A limit per period, each finite in [low, high] or ``unbounded`` (+-inf)."""
    finite = positive(low, high)
    return st.lists(st.one_of(finite, st.just(unbounded)), min_size=T, max_size=T)


@st.composite
def boundary_case(draw):
    T = draw(st.integers(3, 6))
    load_a = draw(profile(T, 0.0, 5.0))
    return {
        "T": T, "dt_h": draw(st.sampled_from([0.5, 1.0])), "load_a": load_a,
        "load_b": draw(profile(T, 0.0, 5.0)), "shed_cost": draw(positive(100.0, 300.0)),
        "price": draw(profile(T, 1.0, 80.0)), "p_min": min(load_a) - draw(positive(0.0, 3.0)),
        "p_max": max(load_a) + draw(positive(0.0, 8.0)),
        "gen_a": draw(positive(0.0, 4.0)), "cost_a": draw(positive(0.0, 80.0)),
        "gen_b": draw(positive(0.0, 4.0)), "cost_b": draw(positive(0.0, 80.0)),
        "x_min": draw(limit_profile(T, -3.0, 0.0, -math.inf)),
        "x_max": draw(limit_profile(T, 0.0, 4.0, math.inf)),
        "x_price": draw(profile(T, 0.0, 20.0)),
        "settlement": draw(st.sampled_from(["cost", "transfer"])),
    }  # fmt: skip


@SETTINGS
@given(boundary_case())
def test_a_boundary_moves_power_between_two_networks_from_the_tables(case):
    networks = [gf.Network(one_bus(), "A"), gf.Network(one_bus(), "B")]
    m = gf.Model(networks, periods=case["T"], dt_h=case["dt_h"])
    m.add(gf.ExternalGrid(0, [case["price"]], p_min_mw=case["p_min"], p_max_mw=case["p_max"],
                          name="grid"), network="A")  # fmt: skip
    m.add(gf.Load(0, [case["load_a"]], name="load_a"), network="A")
    m.add(gf.Generator(0, p_max_mw=case["gen_a"], cost_per_mwh=case["cost_a"], name="gen_a"),
          network="A")  # fmt: skip
    m.add(gf.Load(0, [case["load_b"]], shed_cost_per_mwh=case["shed_cost"], name="load_b"),
          network="B")  # fmt: skip
    m.add(gf.Generator(0, p_max_mw=case["gen_b"], cost_per_mwh=case["cost_b"], name="gen_b"),
          network="B")  # fmt: skip
    m.add(gf.Boundary("A", 0, "B", 0, p_min_mw=[case["x_min"]], p_max_mw=[case["x_max"]],
                      price_per_mwh=[case["x_price"]], settlement=case["settlement"],
                      name="tie"))  # fmt: skip
    result = m.solve()
    dt = case["dt_h"]
    ta, tb = result.network("A").tables, result.network("B").tables
    # p_inj(A) = -x, p_inj(B) = +x, x within its limits in every period
    x = ta["res_boundary"]["p_mw"]["tie"].to_numpy()
    within(x, case["x_min"], case["x_max"])
    # network A: import + generation = load + what leaves through the boundary
    imported = check_external_grid(result, ta, "grid", case, dt)
    gen_a = ta["res_gen"]["p_mw"]["gen_a"].to_numpy()
    within(gen_a, 0.0, case["gen_a"])
    np.testing.assert_allclose(imported + gen_a, np.asarray(case["load_a"]) + x, atol=TOL)
    # network B: what enters through the boundary + generation = the load served
    gen_b = tb["res_gen"]["p_mw"]["gen_b"].to_numpy()
    within(gen_b, 0.0, case["gen_b"])
    load_b = tb["res_load"]
    served, shed = load_b["p_mw"]["load_b"].to_numpy(), load_b["shed_mw"]["load_b"].to_numpy()
    np.testing.assert_allclose(served + shed, case["load_b"], atol=TOL)
    within(shed, 0.0, case["load_b"])
    np.testing.assert_allclose(x + gen_b, served, atol=TOL)
    # each bus balances: its net injection is zero
    for tables in (ta, tb):
        np.testing.assert_allclose(tables["res_bus"]["p_mw"], 0.0, atol=TOL)
    # the price of the energy delivered into B: w_t price_t x_t, booked to both in a transfer
    paid = dt * np.sum(np.asarray(case["x_price"]) * x)
    assert math.isclose(cost_of(result, "tie", "purchase"), paid, abs_tol=TOL)
    sale = -paid if case["settlement"] == "transfer" else 0.0
    assert math.isclose(cost_of(result, "tie", "sale"), sale, abs_tol=TOL)
    for name, key in (("gen_a", "cost_a"), ("gen_b", "cost_b")):
        gen = (ta if name == "gen_a" else tb)["res_gen"]["p_mw"][name].to_numpy()
        assert math.isclose(cost_of(result, name, "energy"), dt * case[key] * gen.sum(),
                            abs_tol=TOL)  # fmt: skip


# --- an external grid of two connections, with limits and prices per period --------------------
@st.composite
def grid_case(draw):
    T, n = draw(st.integers(3, 6)), 2
    low = [draw(profile(T, -3.0, 0.5)) for _ in range(n)]
    high = [[max(lo, 0.0) + draw(positive(0.0, 4.0)) for lo in row] for row in low]
    floor = np.maximum(np.sum(low, axis=0), 0.0)  # the load the connections can take alone
    share = np.asarray(draw(profile(T, 0.0, 1.0)))
    return {
        "T": T, "dt_h": draw(st.sampled_from([0.25, 0.5, 1.0])), "p_min": low, "p_max": high,
        "price": [draw(profile(T, -20.0, 100.0)) for _ in range(n)],
        "load": list(floor + share * (np.sum(high, axis=0) - floor)),
        "gen": draw(positive(0.0, 3.0)), "gen_cost": draw(positive(0.0, 80.0)),
    }  # fmt: skip


@SETTINGS
@given(grid_case())
def test_external_grid_imports_and_exports_within_limits_at_its_price(case):
    m = gf.Model(one_bus(), periods=case["T"], dt_h=case["dt_h"], net_elements=False)
    m.add(gf.ExternalGrid([0, 0], case["price"], p_min_mw=case["p_min"], p_max_mw=case["p_max"],
                          name="grid"))  # fmt: skip
    m.add(gf.Generator(0, p_max_mw=case["gen"], cost_per_mwh=case["gen_cost"], name="unit"))
    m.add(gf.Load(0, [case["load"]], name="load"))
    result = m.solve()
    t, dt = result.tables, case["dt_h"]
    p = t["res_ext_grid"]["p_mw"].to_numpy().T  # (units, T): import positive, export negative
    assert p.shape == (2, case["T"])
    within(p, case["p_min"], case["p_max"])
    np.testing.assert_allclose(t["res_ext_grid"]["p_min_mw"].to_numpy().T, case["p_min"])
    np.testing.assert_allclose(t["res_ext_grid"]["p_max_mw"].to_numpy().T, case["p_max"])
    # cost sum_t dt price_t p_t over both connections; an export earns the price
    energy = dt * np.sum(np.asarray(case["price"]) * p)
    assert math.isclose(cost_of(result, "grid", "energy"), energy, abs_tol=TOL)
    gen = t["res_gen"]["p_mw"]["unit"].to_numpy()
    within(gen, 0.0, case["gen"])
    np.testing.assert_allclose(p.sum(axis=0) + gen, case["load"], atol=TOL)
