"""Stores on carrier nodes: heat and cold stores, ice tanks, gas holders, workload queues."""

import math

import numpy as np

from gridflex.devices.base import declared
from gridflex.devices.blocks import store_edges, store_limits
from gridflex.devices.ports import Port, PortDevice
from gridflex.parameters import Number, Shape
from gridflex.profiles import as_column


class CarrierStore(PortDevice):
    """Stores of a carrier at a node, with the dynamics every storage-like state shares.

    .. math::

        s_{i,t} = r_i s_{i,t^-} + dt\\,(\\eta^{ch}_i c_{i,t} - d_{i,t} / \\eta^{dis}_i), \\quad
        f_{i,t} = d_{i,t} - c_{i,t}

        0 \\le c \\le \\bar C, \\quad 0 \\le d \\le \\bar D, \\quad
        \\underline S \\le s \\le \\bar S

    with ``s`` the stock at the end of each period (the shared
    :func:`~gridflex.devices.blocks.storage_dynamics`: cyclic inside a cyclic block, from
    ``stock_initial`` to at least ``stock_final`` in an open one), retention
    ``r = (1 - loss_per_h) ** dt_h`` and ``f`` the flow into the node. Cost ``cost_per_unit``
    per stock unit discharged. Seed 001's heat store (HES) and seed 002's ice tank (eq. 31)
    are stores.

    Parameters
    ----------
    node : Node or one per unit
    stock_max : float or array (n,)
        Capacity (the carrier's stock unit, e.g. MWh).
    flow_charge_max, flow_discharge_max : float or array (n,)
        Ratings (flow unit; ``inf``: none).
    stock_min : float or array (n,)
    stock_initial, stock_final : float or array (n,), optional
        For open blocks (defaults: half the capacity; the initial stock).
    eta_charge, eta_discharge : float or array (n,)
        In (0, 1].
    loss_per_h : float or array (n,)
        Share of the stock lost per hour, in [0, 1).
    cost_per_unit : float or array (n,)
        Cost per stock unit discharged.
    """

    result_table = "res_carrier_store"

    node = Port("both", doc="the node it charges from and discharges into")
    stock_max = Number("stock", low=0, doc="capacity")
    flow_charge_max = Number("flow", low=0, allow_inf=math.inf, doc="charging rating")
    flow_discharge_max = Number("flow", low=0, allow_inf=math.inf, doc="discharging rating")
    stock_min = Number("stock", low=0, doc="lowest stock")
    stock_initial = Number("stock", low=0, optional=True, doc="stock before an open block")
    stock_final = Number("stock", low=0, optional=True, doc="lowest stock after an open block")
    eta_charge = Number("1", low=0, high=1, low_open=True, doc="charging efficiency")
    eta_discharge = Number("1", low=0, high=1, low_open=True, doc="discharging efficiency")
    loss_per_h = Number("1/h", low=0, high=1, high_open=True, doc="share lost per hour")
    cost_per_unit = Number("$/stock", Shape.UNIT, low=0, doc="cost per stock unit discharged")

    def __init__(
        self, node, stock_max, flow_charge_max=math.inf, flow_discharge_max=math.inf, *,
        stock_min=0.0, stock_initial=None, stock_final=None, eta_charge=1.0, eta_discharge=1.0,
        loss_per_h=0.0, cost_per_unit=0.0, name=None, unit_labels=None,
    ):  # fmt: skip
        super().__init__(**declared(locals()))

    def derive(self, v, ctx):
        store_edges(v, self.owner, "stock_min", "stock_max", "stock_initial", "stock_final")

    def formulate(self, b):
        n, T, v, col = self.n, b.ctx.T, b.values, as_column
        charge = b.variable("charge", (n, T), nonneg=True)
        discharge = b.variable("discharge", (n, T), nonneg=True)
        stock = b.variable("stock", (n, T))  # at the end of each period
        cons = store_limits(b.ctx.time, stock, charge, discharge, v.eta_charge, v.eta_discharge,
                            v.loss_per_h, v.stock_min, v.stock_max, v.stock_initial,
                            v.stock_final)  # fmt: skip
        for flow, limit in ((charge, v.flow_charge_max), (discharge, v.flow_discharge_max)):
            rows = np.flatnonzero(np.isfinite(limit))
            if rows.size:
                cons.append(flow[rows] <= col(limit[rows]))
        return cons

    def port_flows(self, b):
        return {"node": b["discharge"] - b["charge"]}

    def cost_terms(self, b):
        cost = b.values.cost_per_unit
        if not cost.any():
            return {}
        return {"degradation": b.ctx.weighted_sum(cost @ b["discharge"])}

    def results(self, b):
        flow, stock = self.flow_key(b.values.node), self.stock_key(b.values.node)
        return {
            f"charge_{flow}": b.value("charge"),
            f"discharge_{flow}": b.value("discharge"),
            f"stock_{stock}": b.value("stock"),
        }
