"""Shared fixtures: small hand-solvable networks built with pandapower's create functions."""

import logging

import pandapower as pp
import pytest

import gridflex as gf

logging.getLogger("pandapower").setLevel(logging.ERROR)


def line_net(n_bus, lines, x_ohm=10.0, max_i_ka=None, vn_kv=110.0):
    """A net of ``n_bus`` buses joined by ``lines`` [(from, to, rating_mva or None)].

    Bus 0 holds an ext_grid fixed at zero power (only the angle reference), so the hand-solved
    cases are not disturbed by a slack unit.
    """
    net = pp.create_empty_network(sn_mva=100.0)
    for i in range(n_bus):
        pp.create_bus(net, vn_kv=vn_kv, name=str(i + 1))
    for f, t, rating in lines:
        i_ka = 99.0 if rating is None else rating / (3**0.5 * vn_kv)
        pp.create_line_from_parameters(
            net,
            f,
            t,
            length_km=1.0,
            r_ohm_per_km=0.0,
            x_ohm_per_km=x_ohm,
            c_nf_per_km=0.0,
            max_i_ka=i_ka,
            max_loading_percent=100.0,
        )
    pp.create_ext_grid(net, 0, min_p_mw=0.0, max_p_mw=0.0)
    return net


@pytest.fixture
def two_bus_net():
    """Bus 1 -- bus 2, line rated 50 MVA."""
    return line_net(2, [(0, 1, 50.0)])


@pytest.fixture
def three_bus_net():
    """Triangle of equal reactances; only line 1-3 limited (40 MVA)."""
    return line_net(3, [(0, 1, None), (1, 2, None), (0, 2, 40.0)])


@pytest.fixture
def four_bus_net():
    """Four 110 kV buses: 0-1 (60 MW), 1-2 (60 MW), 2-3 (100 MW); angle reference at bus 0."""
    net = pp.create_empty_network(sn_mva=100.0)
    for i in range(4):
        pp.create_bus(net, vn_kv=110.0, name=str(i + 1))
    for f, t, rating in ((0, 1, 60.0), (1, 2, 60.0), (2, 3, 100.0)):
        pp.create_line_from_parameters(
            net,
            f,
            t,
            length_km=10.0,
            r_ohm_per_km=0.0,
            x_ohm_per_km=0.4,
            c_nf_per_km=0.0,
            max_i_ka=rating / (3**0.5 * 110.0),
        )
    pp.create_ext_grid(net, 0, min_p_mw=0.0, max_p_mw=0.0)
    return net


def three_station_ice_model(legs):
    """A 6-hour TOU day (0.36 then 1.05) on one bus: a large ice maker at the depot ("yard")
    and two ISACs ("tank1", "tank2"; cooling peaks 10 and 4 MW in the last three hours, a
    0.2 MW melting pump, no ice making of their own), and a truck with the given ``legs``
    ``{(i, j): hours}`` (fuel 0.1 per driving hour, 0.5 if bought)."""
    net = pp.create_empty_network()
    pp.create_bus(net, vn_kv=22.0)
    m = gf.Model(net, periods=6, net_elements=False)
    m.add(gf.ExternalGrid(0, [[0.36] * 3 + [1.05] * 3], name="grid"))
    yard = gf.Node("yard", gf.carriers.ICE)
    tanks = [gf.Node(f"tank{k}", gf.carriers.ICE) for k in (1, 2)]
    m.add(gf.LargeIceMaker(0, yard, capacity_mw=20.0, retention=1.0, name="lim"))
    for k, (tank, peak) in enumerate(zip(tanks, (10.0, 4.0), strict=True)):
        cool = gf.Node(f"building{k}", gf.carriers.COOLING)
        m.add(gf.ISAC(0, cool, ice=tank, ice_making_max_mw=0.0, melting_max_mw=0.2,
                      retention=1.0, name=f"isac{k}"))  # fmt: skip
        m.add(gf.CarrierDemand(cool, [[0, 0, 0, peak, peak, peak]], name=f"load{k}"))
    m.add(gf.IceTruck([yard, *tanks], legs, depot=0, capacity_mwh=40.0, rate_mw=40.0,
                      retention=1.0, fuel_cost_per_h=0.1, fixed_cost=0.5,
                      name="truck"))  # fmt: skip
    return m


@pytest.fixture
def three_station_ice():
    """:func:`three_station_ice_model`, as a fixture (tests import nothing from conftest)."""
    return three_station_ice_model
