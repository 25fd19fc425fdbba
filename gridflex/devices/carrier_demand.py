"""Demands of a carrier at a node (heat, cooling, gas, workload), optionally sheddable."""

import cvxpy as cp
import numpy as np

from gridflex.devices.base import declared
from gridflex.devices.ports import Port, PortDevice
from gridflex.parameters import Number, Shape


class CarrierDemand(PortDevice):
    """A demand that takes a carrier from its node; what is not served is shed at a penalty.

    .. math:: f_{i,t} = -(D_{i,t} - l_{i,t}), \\quad 0 \\le l_{i,t} \\le D_{i,t}

    with ``l`` the shed flow (zero unless ``shed_cost`` is given) and ``f`` the flow into the
    node. Cost ``shed_cost x l`` per stock unit shed (seed 001's load-shedding cost ``c^LC``).

    Parameters
    ----------
    node : Node or one per unit
    demand : float, array (n,) or profile (n, T)
        Flow demanded (>= 0).
    shed_cost : float, array (n,) or profile (n, T), optional
        Penalty per stock unit not served; None: the demand must be served.
    """

    result_table = "res_carrier_demand"

    node = Port("in", doc="the node it takes from")
    demand = Number("flow", Shape.PROFILE, low=0, doc="flow demanded")
    shed_cost = Number("$/stock", Shape.PROFILE, low=0, optional=True, doc="penalty for shedding")

    def __init__(self, node, demand, *, shed_cost=None, name=None, unit_labels=None):
        super().__init__(**declared(locals()))

    def formulate(self, b):
        if b.values.shed_cost is None:
            return []
        shed = b.variable("shed", (self.n, b.ctx.T), nonneg=True)
        return [shed <= b.values.demand]

    def port_flows(self, b):
        shed = b.get("shed")
        return {"node": -(b.values.demand - shed) if shed is not None else -b.values.demand}

    def cost_terms(self, b):
        if "shed" not in b.variables:
            return {}
        return {"shedding": b.ctx.weighted_sum(cp.multiply(b.values.shed_cost, b["shed"]))}

    def results(self, b):
        key = self.flow_key(b.values.node)
        shed = b.value("shed") if "shed" in b.variables else np.zeros_like(b.values.demand)
        return {
            f"demand_{key}": b.values.demand,
            f"served_{key}": b.values.demand - shed,
            f"shed_{key}": shed,
        }
