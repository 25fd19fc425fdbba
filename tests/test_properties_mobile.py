"""Property tests (hypothesis) of the mobile and ice devices: an EV parking lot (seed 003 eqs.
1-8), a large ice maker feeding an ISAC (seed 002 eqs. 24-34) and an ice truck between them
(eqs. 15-23). Random valid parameters, feasible by construction; the physics is checked from the
result tables alone, with the parameters drawn and the equations of the devices' docstrings."""

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import gridflex as gf
from gridflex import products as P
from gridflex.devices.ev_behaviour import simulate_parking_lot
from gridflex.timeaxis import Block
from property_support import SETTINGS, TOL, one_bus, positive, profile

MILP = settings(max_examples=10, deadline=None, derandomize=True)  # a MILP each


def blocks(draw, T_low, T_high):
    """A time axis: one open block (a plain period count) or one or two blocks, each cyclic or
    open, as ``(periods argument, [(length, cyclic), ...])``."""
    if draw(st.booleans()):
        T = draw(st.integers(T_low, T_high))
        return T, [(T, False)]
    shape = [(draw(st.integers(T_low, T_high)), draw(st.booleans()))
             for _ in range(draw(st.integers(1, 2)))]  # fmt: skip
    periods = [Block(f"b{k}", n, cyclic=c) for k, (n, c) in enumerate(shape)]
    return periods, shape


def before(x, shape, initial):
    """``x`` in the period before each period: the block's last one in a cyclic block,
    ``initial`` before an open block's first (timeaxis docstring)."""
    out, start = np.empty_like(x), 0
    for length, cyclic in shape:
        run = x[start : start + length]
        out[start : start + length] = np.r_[run[-1] if cyclic else initial, run[:-1]]
        start += length
    return out


def tou(draw, shape):
    """A time-of-use day per block: cheap and cool in its first half, dear and hot in the
    second (so ice made early is worth moving and melting later); prices and hot flags."""
    hot = [k >= n // 2 for n, _ in shape for k in range(n)]
    valley = draw(profile(len(hot), 0.1, 0.5))
    price = [x + draw(positive(0.5, 1.5)) * h for x, h in zip(valley, hot, strict=True)]
    return price, hot


def column(table, key, unit):
    return table[key][unit].to_numpy(dtype=float)


# --- EV parking lot -----------------------------------------------------------------------------
@st.composite
def ev(draw, T, soc_min, soc_max):
    """One EV: parked in periods first .. end - 1 (end = T: still there at the end), arriving
    with a SOC in the lot's band, leaving with what it brought (so idling is feasible)."""
    first = draw(st.integers(0, T - 1))
    return {
        "first": first, "end": draw(st.integers(first + 1, T)),
        "capacity": draw(positive(0.02, 0.1)),
        "soc": soc_min + draw(positive(0.0, 1.0)) * (soc_max - soc_min),
        "parked_before": first == 0 and draw(st.booleans()),  # in e_initial_mwh, not arrivals
    }  # fmt: skip


@st.composite
def ev_case(draw):
    T = draw(st.integers(3, 8))
    soc_min = draw(positive(0.0, 0.5))
    soc_max = min(1.0, soc_min + draw(positive(0.1, 0.5)))
    sustained = P.Product("sustained_up", P.Direction.UP,
                          duration_h=draw(st.sampled_from([None, 0.5, 1.0, 1.5, 2.0])))  # fmt: skip
    return {
        "T": T, "dt_h": draw(st.sampled_from([0.25, 0.5, 1.0])),
        "evs": draw(st.lists(ev(T, soc_min, soc_max), min_size=1, max_size=6)),
        "soc_min": soc_min, "soc_max": soc_max,
        "charge_rate_mw": draw(positive(0.005, 0.05)),
        "discharge_rate_mw": draw(positive(0.005, 0.05)),
        "eta_charge": draw(positive(0.7, 1.0)), "eta_discharge": draw(positive(0.7, 1.0)),
        "contract_share": draw(positive(0.0, 1.0)), "given_contract": draw(st.booleans()),
        "reserve_energy": draw(st.sampled_from(["headroom", "paper"])),
        "exclusive_modes": draw(st.booleans()), "discharge_cost": draw(positive(0.0, 20.0)),
        "price": draw(profile(T, 1.0, 100.0)), "load": draw(positive(0.0, 1.0)),
        "up": [P.SPINNING, sustained], "down": [P.RAMP_DOWN],
        "offer_cost": draw(positive(0.0, 5.0)),
        "asked": {p: draw(profile(T, 0.0, 0.05)) for p in (P.SPINNING, sustained, P.RAMP_DOWN)},
    }  # fmt: skip


def fleet(case):
    """Per-period aggregates of the drawn EVs (the inputs of the lot) and their energy parked
    before the horizon."""
    T, evs = case["T"], case["evs"]
    first, end = (np.array([e[k] for e in evs]) for k in ("first", "end"))
    capacity = np.array([e["capacity"] for e in evs])
    energy = np.array([e["soc"] for e in evs]) * capacity
    early = np.array([e["parked_before"] for e in evs])
    present = (np.arange(T)[:, None] >= first) & (np.arange(T)[:, None] < end)

    def per_period(index, weights):
        return np.bincount(index, weights=weights, minlength=T + 1)[:T]

    return {
        "ev_count": present.sum(axis=1).astype(float), "capacity_mwh": present @ capacity,
        "arrival_energy_mwh": per_period(first, np.where(early, 0.0, energy)),
        "departure_energy_mwh": per_period(end, energy), "e0": energy[early].sum(),
        "parked_energy_mwh": present @ energy,  # the energy the parked EVs arrived with
    }  # fmt: skip


@MILP
@given(ev_case())
def test_ev_lot_fleet_energy_power_and_product_limits_close_from_the_tables(case):
    T, dt, f = case["T"], case["dt_h"], fleet(case)
    keys = ("soc_min", "soc_max", "charge_rate_mw", "discharge_rate_mw", "eta_charge",
            "eta_discharge", "contract_share", "reserve_energy", "exclusive_modes")  # fmt: skip
    products = case["up"] + case["down"]
    m = gf.Model(one_bus(), periods=T, dt_h=dt, net_elements=False)
    m.add(gf.ExternalGrid(0, [case["price"]], offers={p: 500.0 for p in products}, name="grid"))
    m.add(gf.Load(0, case["load"], name="d"))
    profiles = ("ev_count", "capacity_mwh", "arrival_energy_mwh", "departure_energy_mwh")
    contract = f["parked_energy_mwh"] if case["given_contract"] else None
    m.add(gf.EVParkingLot(0, *(f[k] for k in profiles), contract_energy_mwh=contract,
                          e_initial_mwh=f["e0"], discharge_cost_per_mwh=case["discharge_cost"],
                          offers={p: case["offer_cost"] for p in products}, name="lot",
                          **{k: case[k] for k in keys}))  # fmt: skip
    for product in products:
        m.add(gf.Requirement(product, case["asked"][product]))
    t = m.solve().tables
    lot = t["res_ev_parking_lot"]
    col = lambda k: column(lot, k, "lot")  # noqa: E731
    for k in profiles:  # the lot reports the fleet it was given
        np.testing.assert_allclose(col(k), f[k], atol=TOL)
    N, cap = f["ev_count"], f["capacity_mwh"]
    # E^Sc: as given, or "energy arrived minus energy departed so far" (the EVs parked before
    # the horizon arrived before it)
    net = f["e0"] + np.cumsum(f["arrival_energy_mwh"] - f["departure_energy_mwh"])
    e_sc = contract if contract is not None else np.maximum(net, 0.0)
    np.testing.assert_allclose(col("contract_energy_mwh"), e_sc, atol=TOL)
    p_ch, p_dis, e = col("p_charge_mw"), col("p_discharge_mw"), col("e_mwh")
    up = {p: col(f"{p.name}_mw") for p in case["up"]}
    down = {p: col(f"{p.name}_mw") for p in case["down"]}
    up_all, down_all = sum(up.values()), sum(down.values())
    assert min(p_ch.min(), p_dis.min(), up_all.min(), down_all.min()) >= -TOL
    np.testing.assert_allclose(col("p_mw"), p_ch - p_dis, atol=TOL)
    assert (p_dis + up_all <= case["discharge_rate_mw"] * N + TOL).all()  # (1)
    assert (p_ch + down_all <= case["charge_rate_mw"] * N + TOL).all()  # (2)
    if case["exclusive_modes"]:  # (3): V2G mode (p_dis, up) or G2V mode (p_ch, down)
        assert (np.minimum(p_dis + up_all, p_ch + down_all) <= TOL).all()
    paper = case["reserve_energy"] == "paper"
    eta_ch, eta_dis = case["eta_charge"], case["eta_discharge"]
    spent = p_dis + up_all if paper else p_dis  # (4') debits the held up products, (4) not
    flows = f["arrival_energy_mwh"] - f["departure_energy_mwh"]
    flows = flows + dt * (eta_ch * p_ch - spent / eta_dis)
    np.testing.assert_allclose(e, np.r_[f["e0"], e[:-1]] + flows, atol=TOL)  # (4) / (4')
    low, room = case["soc_min"] * cap, case["soc_max"] * cap
    assert (e >= low - TOL).all() and (e <= room + TOL).all()  # (8)
    assert (p_dis + up_all <= case["contract_share"] * e_sc + TOL).all()  # (5)
    if paper:
        assert (e + dt * eta_ch * down_all <= room + TOL).all()  # (4'')
    else:
        check_energy_headroom(e, low, room, up, down, eta_ch, eta_dis, dt)
    check_table_terms(lot, f, case, paper, up_all)
    # the bus and every requirement balance
    grid = t["res_ext_grid"]
    np.testing.assert_allclose(grid["p_mw"]["grid"], case["load"] + p_ch - p_dis, atol=TOL)
    req = t["res_requirement"]
    for p in products:
        provided = col(f"{p.name}_mw") + grid[f"{p.name}_mw"]["grid"].to_numpy()
        np.testing.assert_allclose(req["provided_mw"][p.name], provided, atol=TOL)
        assert (provided >= np.asarray(case["asked"][p]) - TOL).all()


def check_energy_headroom(e, low, room, up, down, eta_ch, eta_dis, dt):
    """products.energy_headroom: e_{t+k} keeps what the products held at t use."""
    T = len(e)
    for held, sign, eta in ((up, 1.0, 1 / eta_dis), (down, -1.0, eta_ch)):
        hours = {p: p.hours(dt) for p in held}
        windows = max(math.ceil(h / dt - 1e-9) for h in hours.values())
        for k in range(min(windows, T)):  # none past the end of the open block
            need = sum(min(hours[p], (k + 1) * dt) * r for p, r in held.items())[: T - k]
            left = (e - low)[k:] if sign > 0 else (room - e)[k:]
            assert (left >= eta * need - TOL).all(), (k, held)


def check_table_terms(lot, f, case, paper, up_all):
    """The table's own terms close the fleet's energy balance (results docstring)."""
    col = lambda k: column(lot, k, "lot")  # noqa: E731
    dt, T = case["dt_h"], case["T"]
    eta_ch, eta_dis = case["eta_charge"], case["eta_discharge"]
    p_ch, p_dis, e, cap = col("p_charge_mw"), col("p_discharge_mw"), col("e_mwh"), f["capacity_mwh"]
    losses = dt * ((1 - eta_ch) * p_ch + (1 / eta_dis - 1) * p_dis)
    np.testing.assert_allclose(col("losses_mwh"), losses, atol=TOL)
    debit = dt * up_all / eta_dis if paper else np.zeros(T)
    np.testing.assert_allclose(col("reserve_debit_mwh"), debit, atol=TOL)
    terms = lot[["arrival_energy_mwh", "departure_energy_mwh", "losses_mwh", "reserve_debit_mwh",
                 "p_charge_mw", "p_discharge_mw"]].xs("lot", axis=1, level=1)  # fmt: skip
    change = (terms["arrival_energy_mwh"] - terms["departure_energy_mwh"] - terms["losses_mwh"]
              - terms["reserve_debit_mwh"] + dt * (terms["p_charge_mw"]
                                                   - terms["p_discharge_mw"]))  # fmt: skip
    np.testing.assert_allclose(np.diff(np.r_[f["e0"], e]), change, atol=TOL)
    parked = cap > 0
    np.testing.assert_allclose(col("soc_percent")[parked], 100 * e[parked] / cap[parked], atol=TOL)


@st.composite
def simulated_lot_case(draw):
    return {
        "spaces": draw(st.integers(1, 30)), "T": draw(st.integers(3, 8)),
        "dt_h": draw(st.sampled_from([0.25, 0.5, 1.0])),
        "start_hour": draw(positive(16.5, 20.0)), "seed": draw(st.integers(0, 10_000)),
        "rate": draw(positive(0.001, 0.006)), "eta": draw(positive(0.7, 1.0)),
        "exclusive_modes": draw(st.booleans()), "price": draw(positive(1.0, 100.0)),
    }  # fmt: skip


@MILP
@given(simulated_lot_case())
def test_a_simulated_fleet_can_always_be_served_and_its_energy_closes(case):
    # ev_behaviour: every departure energy lies within what the EV's stay allows at the
    # charging rate, so a lot with SOC 0-100 %, psi = 1 and that rate can serve the fleet (the
    # rate is below the smallest arrival energy per hour, 0.3 x 20 kWh, so eq. 5 does not bind)
    T, dt, rate, eta = case["T"], case["dt_h"], case["rate"], case["eta"]
    profile_ = simulate_parking_lot(case["spaces"], T, dt_h=dt, start_hour=case["start_hour"],
                                    charge_rate_mw=rate, eta_charge=eta,
                                    seed=case["seed"])  # fmt: skip
    assert profile_.n_evs + profile_.n_too_short == case["spaces"]
    N = profile_.ev_count
    np.testing.assert_allclose(N, np.round(N), atol=1e-9)
    assert N.min() >= 0 and N.max() <= profile_.n_evs
    assert (profile_.contract_energy_mwh <= profile_.capacity_mwh + 1e-12).all()  # SOC <= 1
    m = gf.Model(one_bus(), periods=T, dt_h=dt, net_elements=False)
    m.add(gf.ExternalGrid(0, case["price"], name="grid"))
    m.add(gf.EVParkingLot.from_profiles(0, profile_, charge_rate_mw=rate, discharge_rate_mw=rate,
                                        eta_charge=eta, eta_discharge=eta, contract_share=1.0,
                                        soc_min=0.0, soc_max=1.0, name="lot",
                                        exclusive_modes=case["exclusive_modes"]))  # fmt: skip
    t = m.solve().tables  # feasible: raises otherwise
    lot = t["res_ev_parking_lot"]
    col = lambda k: column(lot, k, "lot")  # noqa: E731
    p_ch, p_dis, e = col("p_charge_mw"), col("p_discharge_mw"), col("e_mwh")
    flows = profile_.arrival_energy_mwh - profile_.departure_energy_mwh
    np.testing.assert_allclose(e, np.r_[0.0, e[:-1]] + flows + dt * (eta * p_ch - p_dis / eta),
                               atol=TOL)  # (4), nothing parked before  # fmt: skip
    assert (e >= -TOL).all() and (e <= profile_.capacity_mwh + TOL).all()  # (8)
    assert (p_ch <= rate * N + TOL).all() and (p_dis <= rate * N + TOL).all()  # (1), (2)
    assert (p_dis <= profile_.contract_energy_mwh + TOL).all()  # (5), psi = 1
    if case["exclusive_modes"]:
        assert (np.minimum(p_ch, p_dis) <= TOL).all()  # (3)
    np.testing.assert_allclose(t["res_ext_grid"]["p_mw"]["grid"], p_ch - p_dis, atol=TOL)


# --- large ice maker feeding an ISAC's tank -----------------------------------------------------
@st.composite
def ice_maker_case(draw):
    periods, shape = blocks(draw, 3, 6)
    T = sum(n for n, _ in shape)
    price, hot = tou(draw, shape)
    demand = [x * h for x, h in zip(draw(profile(T, 0.0, 10.0)), hot, strict=True)]
    cop = draw(positive(2.0, 6.0))
    decided = draw(st.booleans())
    rating = draw(positive(0.0, 5.0))
    eta_ice, store_hours = draw(positive(1.5, 4.0)), draw(positive(0.0, 6.0))
    tank = draw(positive(0.0, 50.0))
    return {
        "periods": periods, "shape": shape, "T": T, "dt_h": draw(st.sampled_from([0.5, 1.0])),
        "demand": demand, "price": price,
        "lim": {
            "capacity_mw": None if decided else rating,
            "capacity_max_mw": rating if decided else None,
            "cost_per_mw": draw(positive(0.0, 1.0)), "eta_ice": eta_ice,
            "store_hours": store_hours, "retention": draw(positive(0.8, 1.0)),
            "stock_initial_mwh": draw(positive(0.0, 1.0)) * store_hours * eta_ice * rating,
            "q_per_p": draw(positive(0.0, 0.5)),
        },
        "isac": {
            "cop_chiller": cop, "chiller_max_mw": max(demand) / cop + draw(positive(0.0, 1.0)),
            "ice_making_max_mw": draw(positive(0.0, 2.0)),
            "melting_max_mw": draw(positive(0.0, 1.0)), "eta_ice": draw(positive(1.5, 4.0)),
            "eta_melt": draw(positive(10.0, 50.0)), "tank_mwh": tank,
            "retention": draw(positive(0.8, 1.0)),
            "tank_initial_mwh": draw(positive(0.0, 1.0)) * tank,
        },
    }  # fmt: skip


@SETTINGS
@given(ice_maker_case())
def test_ice_maker_store_and_the_ice_it_gives_close_from_the_tables(case):
    dt, shape, mk, ac = case["dt_h"], case["shape"], case["lim"], case["isac"]
    m = gf.Model(one_bus(), periods=case["periods"], dt_h=dt, net_elements=False)
    m.add(gf.ExternalGrid(0, [case["price"]], p_min_mw=0.0, name="grid"))
    cool, yard = gf.Node("building", gf.carriers.COOLING), gf.Node("yard", gf.carriers.ICE)
    m.add(gf.LargeIceMaker(0, yard, name="lim", **mk))
    m.add(gf.ISAC(0, cool, ice=yard, name="isac", **ac))
    m.add(gf.CarrierDemand(cool, [case["demand"]], name="load"))
    t = m.solve().tables
    lim, isac = t["res_ice_maker"], t["res_isac"]
    col = lambda k: column(lim, k, "lim")  # noqa: E731
    p, e, given_ = col("p_mw"), col("e_mwh"), col("ice_given_mwh")
    rating = col("capacity_mw")
    if mk["capacity_mw"] is not None:
        np.testing.assert_allclose(rating, mk["capacity_mw"], atol=TOL)
    else:  # one decided rating for all periods, within its bound
        np.testing.assert_allclose(rating, rating[0], atol=TOL)
        assert -TOL <= rating[0] <= mk["capacity_max_mw"] + TOL
    assert (p >= -TOL).all() and (p <= rating + TOL).all()  # (24)
    kept = mk["retention"] ** dt  # xi over one period
    made = dt * mk["eta_ice"] * p
    assert (given_ >= -TOL).all()
    np.testing.assert_allclose(col("ice_made_mwh"), made, atol=TOL)
    e_before = before(e, shape, mk["stock_initial_mwh"])  # (27): cyclic or from the initial
    np.testing.assert_allclose(e, kept * e_before + made - given_, atol=TOL)  # (25)
    np.testing.assert_allclose(col("ice_lost_mwh"), (1 - kept) * e_before, atol=TOL)
    room = mk["store_hours"] * mk["eta_ice"] * rating
    assert (e >= -TOL).all() and (e <= room + TOL).all()  # (26)
    np.testing.assert_allclose(col("q_mvar"), mk["q_per_p"] * p, atol=TOL)
    # ice handed over at the yard = ice received by the tank (the ice node balances)
    received = column(isac, "ice_delivered_mwh", "isac")
    np.testing.assert_allclose(given_, received, atol=TOL)
    node = t["res_node_ice"]
    np.testing.assert_allclose(dt * node["inflow_mw"]["yard"], given_, atol=TOL)
    np.testing.assert_allclose(dt * node["outflow_mw"]["yard"], received, atol=TOL)
    # the tank: (32)-(34), and the building is cooled (31)
    c = lambda k: column(isac, k, "isac")  # noqa: E731
    tank = c("e_mwh")
    change = dt * (ac["eta_ice"] * c("p_ice_making_mw") - ac["eta_melt"] * c("p_melting_mw"))
    np.testing.assert_allclose(tank, ac["retention"] ** dt * before(tank, shape,
                               ac["tank_initial_mwh"]) + change + received, atol=TOL)  # fmt: skip
    assert (tank >= -TOL).all() and (tank <= ac["tank_mwh"] + TOL).all()
    for key, limit in (("p_chiller_mw", "chiller_max_mw"), ("p_ice_making_mw",
                       "ice_making_max_mw"), ("p_melting_mw", "melting_max_mw")):  # fmt: skip
        assert (c(key) >= -TOL).all() and (c(key) <= ac[limit] + TOL).all()
    cooling = ac["cop_chiller"] * c("p_chiller_mw") + ac["eta_melt"] * c("p_melting_mw")
    np.testing.assert_allclose(cooling, case["demand"], atol=TOL)
    drawn = p + c("p_chiller_mw") + c("p_ice_making_mw") + c("p_melting_mw")
    np.testing.assert_allclose(t["res_ext_grid"]["p_mw"]["grid"], drawn, atol=TOL)


# --- ice truck ----------------------------------------------------------------------------------
@st.composite
def truck_case(draw):
    periods, shape = blocks(draw, 5, 8)
    T, shortest = sum(n for n, _ in shape), min(n for n, _ in shape)
    n_tanks = draw(st.integers(1, 2))
    pairs = [(i, j) for i in range(n_tanks + 1) for j in range(n_tanks + 1) if i != j]
    chosen = {(0, 1), (1, 0), *draw(st.lists(st.sampled_from(pairs), unique=True))}
    dt = draw(st.sampled_from([0.5, 1.0]))
    tau = {leg: draw(st.integers(1, max(1, (shortest - 2) // 2))) for leg in chosen}
    # hours within (tau - 1, tau] periods: rounded up, the leg takes tau periods
    hours = {leg: (k - draw(positive(0.0, 0.9))) * dt for leg, k in tau.items()}
    price, hot = tou(draw, shape)
    return {
        "periods": periods, "shape": shape, "T": T, "dt_h": dt, "legs": hours, "tau": tau,
        "n_tanks": n_tanks, "price": price,
        "cooling": [[draw(positive(0.0, 8.0)) * h for h in hot] for _ in range(n_tanks)],
        "truck": {
            "capacity_mwh": draw(positive(1.0, 40.0)), "rate_mw": draw(positive(1.0, 40.0)),
            "retention": draw(positive(0.9, 1.0)), "fuel_cost_per_h": draw(positive(0.0, 0.1)),
            "fixed_cost": draw(positive(0.0, 0.5)),
            "bought": draw(st.sampled_from(["decide", True, False])),
        },
        "lim_retention": draw(positive(0.9, 1.0)), "isac_retention": draw(positive(0.9, 1.0)),
    }  # fmt: skip


def routes_exist(start, end, periods, tau):
    """Is there a chain of legs ``start -> ... -> end`` taking exactly ``periods`` periods, no
    leg followed at once by its reverse (eq. 17)?"""
    frontier = {(start, None, 0)}  # (station, came from, periods driven)
    while frontier:
        station, origin, spent = frontier.pop()
        if spent == periods and station == end and origin is not None:
            return True
        for (i, j), k in tau.items():
            if i == station and j != origin and spent + k <= periods:
                frontier.add((j, i, spent + k))
    return False


def check_route(parked, depot, tau, shape):
    """Eqs. (15)-(19) read from the table: parked at one station or driving in each period;
    parked periods in a row at the same station; each run of driving periods between the
    stations before and after it is a chain of allowed legs of exactly their durations; each
    block starts from and ends at the depot."""
    start = 0
    for length, _ in shape:
        block = parked[:, start : start + length]
        start += length
        assert block[depot, -1] == 1  # (19)
        where = [int(np.argmax(block[:, t])) if block[:, t].sum() > 0.5 else None
                 for t in range(length)]  # fmt: skip
        previous, t = depot, 0  # (18): from the depot
        for moving, run in itertools.groupby(where, key=lambda s: s is None):
            run = list(run)
            if not moving:
                assert set(run) == {run[0]}  # (16): it stays where it is
                assert run[0] == previous  # parked where it arrived (the depot at first)
                previous = run[0]
            else:
                arrival = where[t + len(run)]  # a drive ends parked: (19) forbids the end
                assert routes_exist(previous, arrival, len(run), tau), (previous, arrival, run)
                previous = arrival
            t += len(run)


@MILP
@given(truck_case())
def test_ice_truck_routes_loads_and_hands_over_ice_consistently(case):
    dt, shape = case["dt_h"], case["shape"]
    m = gf.Model(one_bus(), periods=case["periods"], dt_h=dt, net_elements=False)
    m.add(gf.ExternalGrid(0, [case["price"]], p_min_mw=0.0, name="grid"))
    yard = gf.Node("yard", gf.carriers.ICE)
    tanks = [gf.Node(f"tank{k}", gf.carriers.ICE) for k in range(case["n_tanks"])]
    m.add(gf.LargeIceMaker(0, yard, capacity_mw=10.0, retention=case["lim_retention"],
                           name="lim"))  # fmt: skip
    for k, (tank, cooling) in enumerate(zip(tanks, case["cooling"], strict=True)):
        cool = gf.Node(f"building{k}", gf.carriers.COOLING)
        m.add(gf.ISAC(0, cool, ice=tank, ice_making_max_mw=0.0, melting_max_mw=0.5,
                      cop_chiller=3.0, chiller_max_mw=3.0, retention=case["isac_retention"],
                      name=f"isac{k}"))  # fmt: skip
        m.add(gf.CarrierDemand(cool, [cooling], name=f"load{k}"))
    m.add(gf.IceTruck([yard, *tanks], case["legs"], depot=0, name="truck", **case["truck"]))
    result = m.solve()
    t = result.tables
    truck = t["res_ice_truck"]
    labels = ["truck@yard", *(f"truck@tank{k}" for k in range(case["n_tanks"]))]
    parked = np.vstack([column(truck, "parked", u) for u in labels])
    loaded = np.vstack([column(truck, "loaded_mwh", u) for u in labels])
    np.testing.assert_allclose(parked, np.round(parked), atol=TOL)  # binary
    parked = np.round(parked)
    driving = column(truck, "truck_driving", "truck@yard")
    np.testing.assert_allclose(parked.sum(axis=0) + driving, 1.0, atol=TOL)  # (15)
    assert set(np.round(driving)) <= {0.0, 1.0}
    check_route(parked, 0, case["tau"], shape)  # (16)-(19), legs of tau periods
    rate = case["truck"]["rate_mw"]
    assert (np.abs(loaded) <= dt * rate * parked + TOL).all()  # (20): only where parked
    load = column(truck, "truck_e_mwh", "truck@yard")
    for u in labels:  # one truck: the same load and state on every row
        np.testing.assert_allclose(column(truck, "truck_e_mwh", u), load, atol=TOL)
        np.testing.assert_allclose(column(truck, "truck_driving", u), driving, atol=TOL)
    kept = case["truck"]["retention"] ** dt
    cyclic = [(n, True) for n, _ in shape]  # the load is cyclic in every block (21)-(23)
    load_before = before(load, cyclic, None)
    np.testing.assert_allclose(load, kept * load_before + loaded.sum(axis=0), atol=TOL)
    np.testing.assert_allclose(column(truck, "truck_ice_lost_mwh", "truck@yard"),
                               (1 - kept) * load_before, atol=TOL)  # fmt: skip
    assert (load >= -TOL).all() and (load <= case["truck"]["capacity_mwh"] + TOL).all()  # (22)
    bought = case["truck"]["bought"]
    if bought == "decide":
        bought = result.plan["truck.bought"][0] > 0.5
    if not bought:  # a truck not bought stays at its depot and moves no ice
        assert (parked[0] == 1).all() and (np.abs(loaded) <= TOL).all()
    # ice handed over = ice received, station by station
    given_ = column(t["res_ice_maker"], "ice_given_mwh", "lim")
    np.testing.assert_allclose(given_, loaded[0], atol=TOL)
    for k in range(case["n_tanks"]):
        delivered = column(t["res_isac"], "ice_delivered_mwh", f"isac{k}")
        np.testing.assert_allclose(delivered, -loaded[k + 1], atol=TOL)
    node = t["res_node_ice"]
    for name in ("yard", *(f"tank{k}" for k in range(case["n_tanks"]))):
        np.testing.assert_allclose(node["inflow_mw"][name], node["outflow_mw"][name], atol=TOL)
    drawn = column(t["res_ice_maker"], "p_mw", "lim") + sum(
        column(t["res_isac"], "p_mw", f"isac{k}") for k in range(case["n_tanks"])
    )
    np.testing.assert_allclose(t["res_ext_grid"]["p_mw"]["grid"], drawn, atol=TOL)  # the bus
