"""Ice-storage air conditioner (ISAC), seed 002 eqs. (28)-(34).

An ISAC cools a building from two sources: its electric chiller, and ice made earlier (by its
own ice maker, or delivered by truck) melted by a small pump. Per unit and period:

.. math::

    0 \\le P^{ch}_t \\le \\bar P^{ch}, \\quad 0 \\le P^{ice}_t \\le \\bar P^{ice}, \\quad
    0 \\le P^{melt}_t \\le \\bar P^{melt}                                \\qquad (28)-(30)

    f^{cool}_t = \\eta^{ch} P^{ch}_t + \\eta^{melt} P^{melt}_t                \\qquad (31)

    E_t = \\xi E_{t^-} + \\Delta t\\,(\\eta^{ice} P^{ice}_t - \\eta^{melt} P^{melt}_t + H_t),
    \\quad 0 \\le E_t \\le \\bar E                                        \\qquad (32)-(34)

with ``f^cool`` the cooling given to the cooling node (where a
:class:`~gridflex.devices.carrier_demand.CarrierDemand` is the building's load, eq. 31's right
side), ``E`` the ice in the tank (MWh of cooling) at the end of each period, ``xi`` the share
kept over one hour (``xi ** dt_h`` per period, 0.98 in the paper), ``H >= 0`` the ice taken from
the ice node (truck deliveries; the paper's eq. 32 prints ``-H``: notes-002 reconstructs the
sign, ice arrives), and the electric draw ``P^ch + P^ice + P^melt`` at the bus (with
``q_per_p`` times as much reactive power, a fixed power factor). The tank is
cyclic inside a cyclic block (eq. 34) and starts from ``tank_initial_mwh`` in an open one.
Melting turns one MWh of ice into one MWh of cooling, using ``1/eta_melt`` MWh of electricity.
Ice making and melting may run in the same period (no binary in the paper).
"""

import cvxpy as cp
import numpy as np

from gridflex.carriers import COOLING, ICE
from gridflex.devices.base import declared
from gridflex.devices.blocks import storage_dynamics
from gridflex.devices.ports import Port, PortDevice
from gridflex.errors import InputError
from gridflex.parameters import Number
from gridflex.profiles import as_column


class ISAC(PortDevice):
    """Ice-storage air conditioners (seed 002 eqs. 28-34; see the module docstring).

    Parameters
    ----------
    bus : int or array_like of int
        pandapower bus of each unit's electric terminal.
    cooling : Node
        The cooling node each unit supplies (carrier ``COOLING``).
    ice : Node, optional
        The ice node its tank takes deliveries from (carrier ``ICE``; trucks give to it).
    chiller_max_mw, ice_making_max_mw, melting_max_mw : float or array (n,)
        Electric ratings (paper: 7, 20, 2 MW).
    cop_chiller, eta_ice, eta_melt : float or array (n,)
        Cooling per MWh of electricity of the chiller (4.2), ice per MWh of ice making (2.8),
        cooling (= ice melted) per MWh of melting (42.5).
    tank_mwh : float or array (n,)
        Ice tank capacity (MWh of cooling).
    retention : float or array (n,)
        Share of the ice kept over one hour, in (0, 1] (paper: 0.98).
    tank_initial_mwh : float or array (n,), optional
        Ice before an open block (default: empty).
    q_per_p : float or array (n,)
        Reactive draw per MW of electric draw (``tan(acos(pf))``: 0.329 at PF 0.95 lagging,
        notes-002; 0 by default: active power only). Where the formulation has reactive power
        it enters the network's Q balance; ``q_mvar`` in the result table.
    """

    result_table = "res_isac"

    bus = Port("in", electric="only", doc="pandapower bus (chiller, ice maker, melting pump)")
    cooling = Port("out", COOLING, doc="cooling node it supplies")
    ice = Port("in", ICE, optional=True, doc="ice node its tank takes deliveries from")
    chiller_max_mw = Number("MW", low=0, doc="chiller rating (eq. 28)")
    ice_making_max_mw = Number("MW", low=0, doc="ice-maker rating (eq. 29)")
    melting_max_mw = Number("MW", low=0, doc="melting rating (eq. 30)")
    cop_chiller = Number("1", low=0, low_open=True, doc="cooling per MWh of chiller power")
    eta_ice = Number("1", low=0, low_open=True, doc="ice per MWh of ice-making power")
    eta_melt = Number("1", low=0, low_open=True, doc="cooling per MWh of melting power")
    tank_mwh = Number("MWh", low=0, doc="ice tank capacity")
    retention = Number("1", low=0, high=1, low_open=True, doc="share of the ice kept per hour")
    tank_initial_mwh = Number("MWh", low=0, doc="ice before an open block")
    q_per_p = Number("Mvar/MW", low=0, doc="reactive draw per MW of electric draw")

    def __init__(
        self, bus, cooling, *, chiller_max_mw=7.0, ice_making_max_mw=20.0, melting_max_mw=2.0,
        cop_chiller=4.2, eta_ice=2.8, eta_melt=42.5, tank_mwh=448.0, retention=0.98,
        tank_initial_mwh=0.0, ice=None, q_per_p=0.0, name=None, unit_labels=None,
    ):  # fmt: skip
        PortDevice.__init__(self, **declared(locals()))

    def derive(self, v, ctx):
        self.electric_port()
        bad = np.flatnonzero(v.tank_initial_mwh > v.tank_mwh)
        if bad.size:
            raise InputError(
                f"{self.owner}: unit {int(bad[0])} starts with more ice "
                f"({v.tank_initial_mwh[bad[0]]} MWh) than its tank holds ({v.tank_mwh[bad[0]]})"
            )

    def formulate(self, b):
        v, shape, dt = b.values, (self.n, b.ctx.T), b.ctx.dt_h
        chiller = b.variable("p_chiller_mw", shape, nonneg=True)
        making = b.variable("p_ice_making_mw", shape, nonneg=True)
        melting = b.variable("p_melting_mw", shape, nonneg=True)
        tank = b.variable("e_mwh", shape, nonneg=True)
        col = as_column
        inflow = dt * (cp.multiply(col(v.eta_ice), making) - cp.multiply(col(v.eta_melt), melting))
        if v.ice is not None:
            inflow = inflow + dt * b.variable("delivered_mw", shape, nonneg=True)
        initial = v.tank_initial_mwh if b.ctx.time.open_first.size else None
        kept = col(v.retention**dt)
        return [
            chiller <= col(v.chiller_max_mw),  # (28)
            making <= col(v.ice_making_max_mw),  # (29)
            melting <= col(v.melting_max_mw),  # (30)
            tank <= col(v.tank_mwh),  # (33)
            *storage_dynamics(b.ctx.time, tank, inflow, retention=kept, initial=initial),
        ]  # (32), (34)

    def port_flows(self, b):
        v = b.values
        chiller, making, melting = b["p_chiller_mw"], b["p_ice_making_mw"], b["p_melting_mw"]
        cooling = cp.multiply(as_column(v.cop_chiller), chiller) + cp.multiply(
            as_column(v.eta_melt), melting
        )  # (31)
        flows = {"bus": -(chiller + making + melting), "cooling": cooling}
        if v.ice is not None:
            flows["ice"] = -b["delivered_mw"]
        return flows

    def results(self, b):
        """Power by use, cooling by source and the tank's balance terms per period, so that
        ``e_t - e_{t-1} = made + delivered - melted - lost`` closes from the table."""
        v, dt = b.values, b.ctx.dt_h
        chiller, making = b.value("p_chiller_mw"), b.value("p_ice_making_mw")
        melting, tank = b.value("p_melting_mw"), b.value("e_mwh")
        delivered = b.value("delivered_mw") if "delivered_mw" in b.variables else 0 * tank
        kept = as_column(v.retention**dt)
        before = b.ctx.time.previous(tank, v.tank_initial_mwh)
        return {
            "p_mw": chiller + making + melting,
            "q_mvar": as_column(v.q_per_p) * (chiller + making + melting),
            "p_chiller_mw": chiller,
            "p_ice_making_mw": making,
            "p_melting_mw": melting,
            "cooling_chiller_mw": as_column(v.cop_chiller) * chiller,
            "cooling_ice_mw": as_column(v.eta_melt) * melting,
            "e_mwh": tank,
            "ice_made_mwh": dt * as_column(v.eta_ice) * making,
            "ice_delivered_mwh": dt * delivered,
            "ice_melted_mwh": dt * as_column(v.eta_melt) * melting,
            "ice_lost_mwh": (1 - kept) * before,
        }
