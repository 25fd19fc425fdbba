"""Several networks in one model, joined at a boundary bus, against sequential solves."""

import numpy as np
import pandapower.networks as pn
import pytest

import gridflex as gf

T = 4
LOAD_SCALE = [0.8, 1.0, 1.1, 0.9]
BOUNDARY_T_BUS = 4  # IEEE 14 bus 5


def _feeder():
    """case33bw with its ext_grid kept as the voltage reference only (no power of its own)."""
    net = pn.case33bw()
    net.ext_grid[["min_p_mw", "max_p_mw", "min_q_mvar", "max_q_mvar"]] = 0.0
    return net


def _feeder_devices():
    return [
        gf.Generator(bus=17, p_max_mw=1.0, cost_per_mwh=5.0, name="der"),
        gf.Storage(bus=30, p_mw=0.5, e_mwh=2.0, name="bess"),
    ]


def _joint(formulation):
    networks = [
        gf.Network(gf.networks.ieee14(), "T", load_scale=LOAD_SCALE),
        gf.Network(_feeder(), "D", formulation=formulation),
    ]
    model = gf.Model(networks, periods=T)
    model.add(gf.Boundary("T", BOUNDARY_T_BUS, "D", 0, name="tie"))
    for device in _feeder_devices():
        model.add(device, network="D")
    return model


@pytest.mark.parametrize("formulation", [gf.DC, gf.CopperPlate, gf.LinDistFlow, gf.SOCDistFlow])
def test_joint_equals_sequential_with_fixed_exchange(formulation):
    joint = _joint(formulation()).solve()
    exchange = joint.res_boundary["p_mw"]["tie"].to_numpy()
    assert np.all(exchange > 0.5)  # the feeder imports

    transmission = gf.Model(gf.networks.ieee14(), periods=T, load_scale=LOAD_SCALE)
    transmission.add(gf.Load(bus=BOUNDARY_T_BUS, p_mw=exchange, name="feeder"))
    t_result = transmission.solve()
    distribution = gf.Model(_feeder(), periods=T, formulation=formulation())
    # The exchange is fixed within +-1 kW: with an exact equality Clarabel stops at
    # "optimal_inaccurate" on the SOC model (its objective is tiny, 20 against 29,000).
    fixed = exchange.reshape(1, -1)
    distribution.add(
        gf.ExternalGrid(bus=0, p_min_mw=fixed - 1e-3, p_max_mw=fixed + 1e-3, name="tie")
    )
    for device in _feeder_devices():
        distribution.add(device)
    d_result = distribution.solve()

    assert joint.objective == pytest.approx(t_result.objective + d_result.objective, rel=1e-5)
    np.testing.assert_allclose(joint.res_gen["p_mw"], t_result.res_gen["p_mw"], atol=1e-3)
    np.testing.assert_allclose(
        joint.network("D").res_storage["p_mw"], d_result.res_storage["p_mw"], atol=1e-2
    )  # within the +-1 kW freedom per period left to the distribution side
    # With an unconstrained tie, the boundary buses see the same price.
    t_price = joint.res_bus["price_per_mwh"][BOUNDARY_T_BUS]
    d_price = joint.network("D").res_bus["price_per_mwh"][0]
    np.testing.assert_allclose(t_price, d_price, rtol=1e-5)


def test_boundary_bus_must_exist_in_its_network():
    model = gf.Model([gf.Network(gf.networks.ieee14(), "T"), gf.Network(_feeder(), "D")], periods=1)
    model.add(gf.Boundary("T", 4, "D", 99, name="tie"))
    with pytest.raises(gf.InputError, match=r"Boundary 'tie' \(D\): bus 99 is not in the net"):
        model.build()
    model = gf.Model([gf.Network(gf.networks.ieee14(), "T")], periods=1)
    model.add(gf.Boundary("T", 4, "X", 0, name="tie"))
    with pytest.raises(gf.InputError, match=r"network 'X' is not in the model"):
        model.build()


def test_device_added_to_unknown_network():
    model = gf.Model([gf.Network(gf.networks.ieee14(), "T")], periods=1)
    with pytest.raises(gf.InputError, match=r"no network 'D'"):
        model.add(gf.Load(bus=1, p_mw=1.0), network="D")
