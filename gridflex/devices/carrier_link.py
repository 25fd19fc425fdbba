"""Two-port links between carrier nodes: pipes and interconnections, with loss and capacity."""

import math

import cvxpy as cp
import numpy as np

from gridflex.devices.base import declared
from gridflex.devices.ports import Port, PortDevice
from gridflex.errors import InputError
from gridflex.parameters import Flag, Number, Shape
from gridflex.problems.planning import InvestmentParam, build_decision, staged


class CarrierLink(PortDevice):
    """Links that carry a carrier from one node to another, losing a share of what they send.

    .. math::

        f^{from}_{i,t} = -s_{i,t} + (1 - \\lambda_i) r_{i,t}, \\quad
        f^{to}_{i,t} = (1 - \\lambda_i) s_{i,t} - r_{i,t}, \\quad
        0 \\le s, r \\le \\bar F_i \\, a_{i,t}

    with ``s`` sent from ``from_node`` to ``to_node``, ``r`` sent back (zero unless
    ``bidirectional``), ``lambda`` the loss share and ``a`` the availability (1, or the staged
    build decision with an ``investment``: :mod:`gridflex.problems.planning`). The capacity
    bounds the sending end. With a loss, sending both ways at once only wastes the carrier; it
    is never optimal unless the model needs to destroy a surplus (then add a sink). Cost
    ``cost_per_unit`` per stock unit sent. Seed 001's heat and cooling pipes and gas
    interconnections between hubs are links.

    Parameters
    ----------
    from_node, to_node : Node or one per unit
        Two different nodes of one carrier.
    capacity : float or array (n,)
        Largest flow sent (flow unit; ``inf``: none).
    loss : float or array (n,)
        Share of the sent flow lost, in [0, 1).
    bidirectional : bool
        Flow may go both ways (default True).
    cost_per_unit : float, array (n,) or profile (n, T)
        Cost per stock unit sent.
    investment : Investment or float, optional
        Makes the links candidates (needs a finite capacity).
    """

    result_table = "res_carrier_link"

    from_node = Port("both", doc="sending end")
    to_node = Port("both", doc="receiving end")
    capacity = Number("flow", low=0, allow_inf=math.inf, doc="largest flow sent")
    loss = Number("1", low=0, high=1, high_open=True, doc="share of the flow sent that is lost")
    bidirectional = Flag(doc="flow may go both ways")
    cost_per_unit = Number("$/stock", Shape.PROFILE, low=0, doc="cost per stock unit sent")
    investment = InvestmentParam()

    def __init__(
        self, from_node, to_node, capacity=math.inf, *, loss=0.0, bidirectional=True,
        cost_per_unit=0.0, investment=None, name=None, unit_labels=None,
    ):  # fmt: skip
        super().__init__(**declared(locals()))

    def direction(self, port, values):
        if values.bidirectional:
            return "both"
        return "in" if port == "from_node" else "out"

    def derive(self, v, ctx):
        for a, b in zip(v.from_node, v.to_node, strict=True):
            if a is b:
                raise InputError(f"{self.owner}: joins node '{a.name}' to itself")
            if a.carrier != b.carrier:
                raise InputError(
                    f"{self.owner}: joins {a.carrier.name} node '{a.name}' to "
                    f"{b.carrier.name} node '{b.name}'; a link carries one carrier"
                )
        if v.investment is not None and not np.isfinite(v.capacity).all():
            raise InputError(f"{self.owner}: candidate links need a finite capacity")

    def formulate(self, b):
        n, T, v = self.n, b.ctx.T, b.values
        sent = b.variable("sent", (n, T), nonneg=True)
        back = b.variable("back", (n, T), nonneg=True) if v.bidirectional else None
        cons, limit = [], v.capacity.reshape(-1, 1)
        if v.investment is not None:
            plan = staged(v.investment, b.ctx.time.horizon, self.owner)
            available, b.expressions["investment"], cons = build_decision(b, "built", plan)
            limit = cp.multiply(limit, available)
        rows = np.flatnonzero(np.isfinite(v.capacity))
        for flow in (sent, back):
            if flow is not None and rows.size:
                cons.append(flow[rows] <= limit[rows])
        return cons

    def port_flows(self, b):
        kept = 1.0 - b.values.loss.reshape(-1, 1)
        sent, back = b["sent"], b.get("back")
        if back is None:
            return {"from_node": -sent, "to_node": cp.multiply(kept, sent)}
        return {
            "from_node": -sent + cp.multiply(kept, back),
            "to_node": cp.multiply(kept, sent) - back,
        }

    def cost_terms(self, b):
        v, terms = b.values, {}
        if v.cost_per_unit.any():
            moved = b["sent"] if "back" not in b.variables else b["sent"] + b["back"]
            terms["transport"] = b.ctx.weighted_sum(cp.multiply(v.cost_per_unit, moved))
        if "investment" in b.expressions:
            terms["investment"] = b.expressions["investment"]
        return terms

    def results(self, b):
        key = self.flow_key(b.values.from_node)
        sent = b.value("sent")
        back = b.value("back") if "back" in b.variables else np.zeros_like(sent)
        out = {
            f"sent_{key}": sent,
            f"back_{key}": back,
            f"loss_{key}": b.values.loss.reshape(-1, 1) * (sent + back),
        }
        if "built" in b.variables:
            out["built"] = np.round(b.expressions["built_available"].value, 6)
        return out
