"""Property tests (hypothesis): random valid parameters give solutions whose physics holds when
checked from the result tables alone; the same inputs give bit-identical tables."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gridflex as gf
from property_support import SETTINGS, TOL, one_bus, positive, profile


@st.composite
def storage_case(draw):
    T = draw(st.integers(3, 8))
    return {
        "T": T, "dt_h": draw(st.sampled_from([0.25, 0.5, 1.0])),
        "price": draw(profile(T, 1.0, 100.0)), "load": draw(profile(T, 0.0, 5.0)),
        "p_mw": draw(positive(0.1, 5.0)), "e_mwh": draw(positive(0.5, 10.0)),
        "eta_charge": draw(positive(0.7, 1.0)), "eta_discharge": draw(positive(0.7, 1.0)),
        "self_discharge_per_h": draw(positive(0.0, 0.05)), "start": draw(positive(0.0, 1.0)),
    }  # fmt: skip


@SETTINGS
@given(storage_case())
def test_storage_energy_and_the_bus_balance_close_from_the_tables(case):
    m = gf.Model(one_bus(), periods=case["T"], dt_h=case["dt_h"], net_elements=False)
    m.add(gf.ExternalGrid(0, [case["price"]], p_min_mw=0.0, name="grid"))
    m.add(gf.Load(0, [case["load"]], name="load"))
    e0 = case["start"] * case["e_mwh"]
    m.add(gf.Storage(0, p_mw=case["p_mw"], e_mwh=case["e_mwh"], e_initial_mwh=e0,
                     eta_charge=case["eta_charge"], eta_discharge=case["eta_discharge"],
                     self_discharge_per_h=case["self_discharge_per_h"], name="bess"))  # fmt: skip
    t = m.solve().tables
    s, dt = t["res_storage"], case["dt_h"]
    e = s["e_mwh"]["bess"].to_numpy()
    before = np.r_[e0, e[:-1]]
    kept = (1 - case["self_discharge_per_h"]) ** dt
    change = dt * (case["eta_charge"] * s["p_charge_mw"]["bess"].to_numpy()
                   - s["p_discharge_mw"]["bess"].to_numpy() / case["eta_discharge"])  # fmt: skip
    np.testing.assert_allclose(e, kept * before + change, atol=TOL)
    assert (e >= -TOL).all() and (e <= case["e_mwh"] + TOL).all()
    for column in ("p_charge_mw", "p_discharge_mw"):
        assert (s[column]["bess"] <= case["p_mw"] + TOL).all() and (s[column] >= -TOL).all().all()
    np.testing.assert_allclose(s["p_mw"]["bess"], s["p_charge_mw"]["bess"]
                               - s["p_discharge_mw"]["bess"], atol=TOL)  # fmt: skip
    imported = t["res_ext_grid"]["p_mw"].sum(axis=1).to_numpy()
    np.testing.assert_allclose(imported, np.asarray(case["load"]) + s["p_mw"]["bess"], atol=TOL)


@st.composite
def isac_case(draw):
    T = draw(st.integers(3, 8))
    demand = draw(profile(T, 0.0, 10.0))
    cop = draw(positive(2.0, 6.0))
    return {
        "T": T, "dt_h": draw(st.sampled_from([0.5, 1.0, 2.0])), "demand": demand,
        "price": draw(profile(T, 1.0, 100.0)), "cop_chiller": cop,
        "chiller_max_mw": max(demand) / cop + draw(positive(0.0, 2.0)),
        "ice_making_max_mw": draw(positive(0.0, 10.0)), "melting_max_mw": draw(positive(0.0, 1.0)),
        "eta_ice": draw(positive(1.5, 4.0)), "eta_melt": draw(positive(10.0, 50.0)),
        "tank_mwh": draw(positive(0.0, 50.0)), "retention": draw(positive(0.9, 1.0)),
        "q_per_p": draw(positive(0.0, 0.5)),
    }  # fmt: skip


@SETTINGS
@given(isac_case())
def test_isac_cooling_tank_and_power_close_from_the_tables(case):
    m = gf.Model(one_bus(), periods=case["T"], dt_h=case["dt_h"], net_elements=False)
    m.add(gf.ExternalGrid(0, [case["price"]], p_min_mw=0.0, name="grid"))
    cool = gf.Node("building", gf.carriers.COOLING)
    keys = ("cop_chiller", "chiller_max_mw", "ice_making_max_mw", "melting_max_mw", "eta_ice",
            "eta_melt", "tank_mwh", "retention", "q_per_p")  # fmt: skip
    m.add(gf.ISAC(0, cool, name="isac", **{k: case[k] for k in keys}))
    m.add(gf.CarrierDemand(cool, [case["demand"]], name="load"))
    t = m.solve().tables
    isac, dt = t["res_isac"], case["dt_h"]
    col = lambda k: isac[k]["isac"].to_numpy()  # noqa: E731
    cooling = case["cop_chiller"] * col("p_chiller_mw") + case["eta_melt"] * col("p_melting_mw")
    np.testing.assert_allclose(cooling, case["demand"], atol=TOL)  # eq. 31
    e = col("e_mwh")
    made = dt * case["eta_ice"] * col("p_ice_making_mw")
    melted = dt * case["eta_melt"] * col("p_melting_mw")
    np.testing.assert_allclose(e, case["retention"] ** dt * np.r_[0.0, e[:-1]] + made - melted,
                               atol=TOL)  # open block, empty before it  # fmt: skip
    assert (e >= -TOL).all() and (e <= case["tank_mwh"] + TOL).all()
    for key, limit in (("p_chiller_mw", "chiller_max_mw"), ("p_ice_making_mw",
                       "ice_making_max_mw"), ("p_melting_mw", "melting_max_mw")):  # fmt: skip
        assert (col(key) >= -TOL).all() and (col(key) <= case[limit] + TOL).all()
    draw = col("p_chiller_mw") + col("p_ice_making_mw") + col("p_melting_mw")
    np.testing.assert_allclose(col("p_mw"), draw, atol=TOL)
    np.testing.assert_allclose(col("q_mvar"), case["q_per_p"] * draw, atol=TOL)
    np.testing.assert_allclose(t["res_ext_grid"]["p_mw"].sum(axis=1), draw, atol=TOL)


@SETTINGS
@given(st.integers(2, 6), st.data())
def test_load_shedding_and_generator_limits_hold(T, data):
    cap = data.draw(positive(0.0, 10.0))
    load = data.draw(profile(T, 0.0, 20.0))
    m = gf.Model(one_bus(), periods=T, net_elements=False)
    m.add(gf.Generator(bus=0, p_max_mw=cap, cost_per_mwh=10.0, name="unit"))
    m.add(gf.Load(0, [load], shed_cost_per_mwh=1000.0, name="load"))
    t = m.solve().tables
    gen = t["res_gen"]["p_mw"]["unit"].to_numpy()
    shed = t["res_load"]["shed_mw"]["load"].to_numpy()
    served = t["res_load"]["p_mw"]["load"].to_numpy()
    np.testing.assert_allclose(served + shed, load, atol=TOL)
    np.testing.assert_allclose(gen, served, atol=TOL)
    np.testing.assert_allclose(shed, np.maximum(np.asarray(load) - cap, 0.0), atol=TOL)


def test_the_same_inputs_give_bit_identical_tables(tmp_path):
    # two processes, the same scenario: every file of result/ (Parquet tables, the manifest with
    # exact floats, the nets) is the same, byte for byte
    import subprocess
    import sys

    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        command = ["run", "quickstart", "--out", str(out), "--no-validate"]
        done = subprocess.run([sys.executable, "-m", "gridflex.cli", *command],
                              capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
        assert done.returncode == 0, done.stderr
    files = [sorted(p.relative_to(out / "result") for p in (out / "result").rglob("*"))
             for out in outs]  # fmt: skip
    assert files[0] == files[1] and len(files[0]) > 10
    for name in files[0]:
        a, b = (out / "result" / name for out in outs)
        assert a.is_dir() or a.read_bytes() == b.read_bytes(), name
    for name in ("res_gen.csv", "res_storage.csv", "res_line.csv", "costs.csv"):
        a, b = (pd.read_csv(out / name) for out in outs)
        pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.parametrize("repeat", [0, 1])
def test_a_model_solved_twice_in_one_process_gives_the_same_tables(repeat):
    def solve():
        m = gf.Model(one_bus(), periods=4, net_elements=False)
        m.add(gf.ExternalGrid(0, [[10.0, 50.0, 20.0, 80.0]], p_min_mw=0.0, name="grid"))
        m.add(gf.Load(0, 3.0, name="d"))
        m.add(gf.Storage(0, p_mw=2.0, e_mwh=3.0, e_initial_mwh=1.0, name="bess"))
        return m.solve().tables

    first, second = solve(), solve()
    for name, table in first.items():
        pd.testing.assert_frame_equal(table, second[name], check_exact=True)


@st.composite
def supply_case(draw):
    T = draw(st.integers(3, 8))
    p_max = draw(positive(1.0, 20.0))
    return {
        "T": T, "dt_h": draw(st.sampled_from([0.5, 1.0])), "load": draw(profile(T, 0.0, 15.0)),
        "price": draw(profile(T, 1.0, 100.0)), "availability": draw(profile(T, 0.0, 1.0)),
        "capacity": draw(positive(0.0, 10.0)), "p_max": p_max,
        "p_min": draw(positive(0.0, 0.5)) * p_max, "ramp": draw(positive(0.5, 20.0)),
        "cost": draw(positive(1.0, 100.0)),
    }  # fmt: skip


@settings(max_examples=10, deadline=None, derandomize=True)  # a MILP each
@given(supply_case())
def test_renewable_and_committed_generator_limits_hold_from_the_tables(case):
    m = gf.Model(one_bus(), periods=case["T"], dt_h=case["dt_h"], net_elements=False)
    m.add(gf.ExternalGrid(0, [case["price"]], p_min_mw=0.0, name="grid"))
    m.add(gf.Renewable(0, [case["availability"]], capacity_mw=case["capacity"], name="pv"))
    m.add(gf.Generator(0, case["p_max"], case["p_min"], cost_per_mwh=case["cost"],
                       commitment=True, ramp_up_mw_per_h=case["ramp"],
                       ramp_down_mw_per_h=case["ramp"], name="g"))  # fmt: skip
    m.add(gf.Load(0, [case["load"]], name="d"))
    t = m.solve().tables
    sgen, gen = t["res_sgen"], t["res_gen"]
    available = case["capacity"] * np.asarray(case["availability"])
    np.testing.assert_allclose(sgen["available_mw"]["pv"], available, atol=TOL)
    np.testing.assert_allclose(sgen["curtailed_mw"]["pv"], available - sgen["p_mw"]["pv"],
                               atol=TOL)  # fmt: skip
    assert (sgen["p_mw"]["pv"] >= -TOL).all() and (sgen["p_mw"]["pv"] <= available + TOL).all()
    p, on = gen["p_mw"]["g"].to_numpy(), gen["on"]["g"].to_numpy()
    np.testing.assert_allclose(on, np.round(on), atol=1e-6)  # a commitment is 0 or 1
    assert (p <= on * case["p_max"] + TOL).all() and (p >= on * case["p_min"] - TOL).all()
    both_on = (on[1:] > 0.5) & (on[:-1] > 0.5)  # starting and stopping are not ramps
    assert (np.abs(np.diff(p))[both_on] <= case["ramp"] * case["dt_h"] + TOL).all()
    served = t["res_ext_grid"]["p_mw"].sum(axis=1) + sgen["p_mw"]["pv"] + gen["p_mw"]["g"]
    np.testing.assert_allclose(served, case["load"], atol=TOL)


@st.composite
def heat_case(draw):
    T = draw(st.integers(3, 8))
    return {
        "T": T, "dt_h": draw(st.sampled_from([0.5, 1.0])), "heat": draw(profile(T, 0.0, 2.0)),
        "price": draw(profile(T, 1.0, 100.0)), "efficiency": draw(positive(0.5, 1.0)),
        "stock_max": draw(positive(0.0, 10.0)), "rate": draw(positive(0.0, 3.0)),
        "loss": draw(positive(0.0, 0.05)), "eta": draw(positive(0.8, 1.0)),
    }  # fmt: skip


@SETTINGS
@given(heat_case())
def test_a_heat_chain_closes_every_carrier_balance_from_the_tables(case):
    m = gf.Model(one_bus(), periods=case["T"], dt_h=case["dt_h"], net_elements=False)
    m.add(gf.ExternalGrid(0, [case["price"]], p_min_mw=0.0, name="grid"))
    heat = gf.Node("heat", gf.carriers.HEAT)
    m.add(gf.Converter(0, heat, capacity=3.0, efficiency=case["efficiency"], name="boiler"))
    m.add(gf.CarrierStore(heat, case["stock_max"], case["rate"], case["rate"], stock_initial=0.0,
                          loss_per_h=case["loss"], eta_charge=case["eta"],
                          eta_discharge=case["eta"], name="tank"))  # fmt: skip
    m.add(gf.CarrierDemand(heat, [case["heat"]], name="use"))
    t, dt = m.solve().tables, case["dt_h"]
    conv, store = t["res_converter"], t["res_carrier_store"]
    out, inp = conv["output_mw"]["boiler"].to_numpy(), conv["input_mw"]["boiler"].to_numpy()
    np.testing.assert_allclose(out, case["efficiency"] * inp, atol=TOL)
    assert (out <= 3.0 + TOL).all()
    np.testing.assert_allclose(t["res_ext_grid"]["p_mw"].sum(axis=1), inp, atol=TOL)
    c, d = store["charge_mw"]["tank"].to_numpy(), store["discharge_mw"]["tank"].to_numpy()
    s = store["stock_mwh"]["tank"].to_numpy()
    kept = (1 - case["loss"]) ** dt
    np.testing.assert_allclose(s, kept * np.r_[0.0, s[:-1]] + dt * (case["eta"] * c
                               - d / case["eta"]), atol=TOL)  # fmt: skip
    assert (s >= -TOL).all() and (s <= case["stock_max"] + TOL).all()
    assert (c <= case["rate"] + TOL).all() and (d <= case["rate"] + TOL).all()
    served = t["res_carrier_demand"]["served_mw"]["use"].to_numpy()
    np.testing.assert_allclose(out + d - c, served, atol=TOL)  # the heat node balances
    np.testing.assert_allclose(served, case["heat"], atol=TOL)
