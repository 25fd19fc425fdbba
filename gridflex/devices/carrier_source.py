"""Sources of a carrier at a node, bought at a price (gas supply, district heat import)."""

import math

import cvxpy as cp
import numpy as np

from gridflex.devices.base import declared
from gridflex.devices.ports import Port, PortDevice
from gridflex.parameters import Number, Shape


class CarrierSource(PortDevice):
    """A supply of a carrier into its node at a price, within limits.

    .. math:: f_{i,t} = s_{i,t}, \\quad 0 \\le s_{i,t} \\le \\bar S_{i,t}

    Cost ``price x s`` per stock unit (seed 001's gas price 0.2465 yuan/kWh).

    Parameters
    ----------
    node : Node or one per unit
    flow_max : float, array (n,) or profile (n, T)
        Largest supply (flow unit; ``inf``: none).
    price : float, array (n,) or profile (n, T)
        Price per stock unit.
    """

    result_table = "res_carrier_source"

    node = Port("out", doc="the node it supplies")
    flow_max = Number("flow", Shape.PROFILE, low=0, allow_inf=math.inf, doc="largest supply")
    price = Number("$/stock", Shape.PROFILE, doc="price per stock unit")

    def __init__(self, node, flow_max=math.inf, *, price=0.0, name=None, unit_labels=None):
        super().__init__(**declared(locals()))

    def formulate(self, b):
        supply = b.variable("supply", (self.n, b.ctx.T), nonneg=True)
        finite = np.isfinite(b.values.flow_max)
        return [supply[finite] <= b.values.flow_max[finite]] if finite.any() else []

    def port_flows(self, b):
        return {"node": b["supply"]}

    def cost_terms(self, b):
        return {"purchase": b.ctx.weighted_sum(cp.multiply(b.values.price, b["supply"]))}

    def results(self, b):
        return {f"supply_{self.flow_key(b.values.node)}": b.value("supply")}
