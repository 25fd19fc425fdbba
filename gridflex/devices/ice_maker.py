"""Large ice maker (LIM), seed 002 eqs. (24)-(27): ice made from electricity, kept in a store
that loses a share per hour, handed to trucks through an ice node.

.. math::

    0 \\le P_t \\le \\bar P                                                  \\qquad (24)

    E_t = \\xi E_{t^-} + \\Delta t\\,(\\eta^{ice} P_t - H_t), \\quad
    0 \\le E_t \\le h^{store} \\eta^{ice} \\bar P                          \\qquad (25)-(27)

``H >= 0`` is the ice given to the ice node (trucks load it there), ``E`` the stock at the end
of each period (cyclic in a cyclic block, eq. 27), ``xi`` the share kept over one hour. The
ice-making rating ``P-bar`` is either given (``capacity_mw``) or decided (``capacity_max_mw``
with ``cost_per_mw``: a continuous investment, eq. 5's ``C^LIM P^LIM_m``); the store holds
``store_hours`` of full output (notes-002 §3.3: the paper gives no store size).
"""

import cvxpy as cp
import numpy as np

from gridflex.carriers import ICE
from gridflex.devices.base import Role, declared
from gridflex.devices.blocks import storage_dynamics
from gridflex.devices.ports import Port, PortDevice
from gridflex.errors import InputError
from gridflex.parameters import Number
from gridflex.profiles import as_column


class LargeIceMaker(PortDevice):
    """Large ice makers (seed 002 eqs. 24-27; see the module docstring).

    Parameters
    ----------
    bus : int or array_like of int
        pandapower bus of each unit.
    ice : Node
        The ice node it gives ice to (carrier ``ICE``).
    capacity_mw : float or array (n,), optional
        A fixed ice-making rating (MW of electricity).
    capacity_max_mw, cost_per_mw : float or array (n,), optional
        Decide the rating in ``[0, capacity_max_mw]`` at ``cost_per_mw`` (annualised, the
        model's currency per MW) instead.
    eta_ice : float or array (n,)
        Ice per MWh of electricity (2.8).
    store_hours : float or array (n,)
        Store size in hours of full output (4, assumed).
    retention : float or array (n,)
        Share of the stored ice kept per hour, in (0, 1] (0.98).
    stock_initial_mwh : float or array (n,)
        Ice before an open block.
    q_per_p : float or array (n,)
        Reactive draw per MW of electric draw (``tan(acos(pf))``: 0.329 at PF 0.95 lagging,
        notes-002; 0 by default: active power only). Where the formulation has reactive power
        it enters the network's Q balance; ``q_mvar`` in the result table.
    """

    result_table = "res_ice_maker"

    bus = Port("in", electric="only", doc="pandapower bus")
    ice = Port("out", ICE, doc="ice node it gives ice to (trucks load there)")
    capacity_mw = Number("MW", low=0, optional=True, doc="fixed ice-making rating")
    capacity_max_mw = Number("MW", low=0, optional=True, doc="largest rating to decide")
    cost_per_mw = Number("$/MW", low=0, doc="annualised cost of the decided rating")
    eta_ice = Number("1", low=0, low_open=True, doc="ice per MWh of electricity")
    store_hours = Number("h", low=0, doc="store size in hours of full output")
    retention = Number("1", low=0, high=1, low_open=True, doc="share of the ice kept per hour")
    stock_initial_mwh = Number("MWh", low=0, doc="ice before an open block")
    q_per_p = Number("Mvar/MW", low=0, doc="reactive draw per MW of electric draw")

    def __init__(
        self, bus, ice, *, capacity_mw=None, capacity_max_mw=None, cost_per_mw=0.0,
        eta_ice=2.8, store_hours=4.0, retention=0.98, stock_initial_mwh=0.0, q_per_p=0.0,
        name=None, unit_labels=None,
    ):  # fmt: skip
        PortDevice.__init__(self, **declared(locals()))

    def derive(self, v, ctx):
        self.electric_port()
        if (v.capacity_mw is None) == (v.capacity_max_mw is None):
            raise InputError(
                f"{self.owner}: give either capacity_mw (a fixed rating) or capacity_max_mw "
                "(a rating to decide, with cost_per_mw)"
            )
        bound = v.capacity_mw if v.capacity_mw is not None else v.capacity_max_mw
        if not np.isfinite(bound).all():
            raise InputError(f"{self.owner}: the ice-making rating must be finite")

    def formulate(self, b):
        v, shape, dt = b.values, (self.n, b.ctx.T), b.ctx.dt_h
        power = b.variable("p_mw", shape, nonneg=True)
        given = b.variable("ice_out_mw", shape, nonneg=True)
        stock = b.variable("e_mwh", shape, nonneg=True)
        if v.capacity_mw is not None:
            rating, cons = as_column(v.capacity_mw), []
        else:
            size = b.variable("capacity_mw", (self.n,), Role.INVESTMENT, nonneg=True)
            rating, cons = cp.reshape(size, (self.n, 1), order="C"), [size <= v.capacity_max_mw]
        eta = as_column(v.eta_ice)
        room = cp.multiply(as_column(v.store_hours) * eta, rating)
        inflow = dt * (cp.multiply(eta, power) - given)
        initial = v.stock_initial_mwh if b.ctx.time.open_first.size else None
        kept = as_column(v.retention**dt)
        return [
            *cons,
            power <= rating @ np.ones((1, b.ctx.T)),  # (24)
            stock <= room @ np.ones((1, b.ctx.T)),  # (26)
            *storage_dynamics(b.ctx.time, stock, inflow, retention=kept, initial=initial),
        ]  # (25), (27)

    def port_flows(self, b):
        return {"bus": -b["p_mw"], "ice": b["ice_out_mw"]}

    def cost_terms(self, b):
        if "capacity_mw" not in b.variables:
            return {}
        return {"investment": b.values.cost_per_mw @ b["capacity_mw"]}

    def results(self, b):
        """Power, ice made and given, stock and losses per period (the store's balance closes
        from the table), and the rating (decided or given) in every period."""
        v, dt = b.values, b.ctx.dt_h
        power, given, stock = b.value("p_mw"), b.value("ice_out_mw"), b.value("e_mwh")
        rating = b.value("capacity_mw") if "capacity_mw" in b.variables else v.capacity_mw
        before = b.ctx.time.previous(stock, v.stock_initial_mwh)
        return {
            "p_mw": power,
            "q_mvar": as_column(v.q_per_p) * power,
            "capacity_mw": as_column(rating) * np.ones_like(power),
            "e_mwh": stock,
            "ice_made_mwh": dt * as_column(v.eta_ice) * power,
            "ice_given_mwh": dt * given,
            "ice_lost_mwh": (1 - as_column(v.retention**dt)) * before,
        }
