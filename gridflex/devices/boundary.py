"""Boundary: power exchange between two networks of one model (a T&D interface).

Networks exchange power only through :class:`Boundary` devices; a single-network model is the
special case without boundaries (:mod:`gridflex.network`).
"""

import math

import cvxpy as cp
import numpy as np

from gridflex.conventions import PRODUCER
from gridflex.devices.base import Device
from gridflex.parameters import Choice, Integer, Number, Shape, Text


class Boundary(Device):
    """Power exchange from a bus of one network into a bus of another.

    .. math::

        p^{inj}_{A, a} = -x_t, \\qquad p^{inj}_{B, b} = +x_t, \\qquad
        \\underline X \\le x_t \\le \\overline X

    and likewise a reactive exchange where either network models reactive power. Reported
    ``p_mw`` is the flow from network A into network B (``res_boundary``).

    Parameters
    ----------
    from_network, to_network : str
        Names of the two networks.
    from_bus, to_bus : int
        pandapower bus indices in each.
    p_min_mw, p_max_mw : float
        Exchange limits (default unlimited both ways).
    price_per_mwh : float or array (T,), optional
        Price paid for the energy delivered into ``to_network`` (cost ``w_t price_t x_t``;
        negative when it flows back): e.g. a distribution system's purchases from the main grid
        (seed 000 eq. 16). Default 0: the exchange is free.
    settlement : {"cost", "transfer"}
        Who receives the price. ``"cost"`` (default): someone outside the model (a market), so
        the purchase is a cost of the model (component ``purchase``). ``"transfer"``:
        ``from_network``'s operator, inside the model: the purchase is booked to the buyer
        (``purchase``, ``+w price x``) and the same amount to the seller (``sale``,
        ``-w price x``), so the total cost is unchanged and the exchange is not priced on top
        of the energy's production cost (seed 000 eq. 16 read as a transfer between the T and
        D operators).
    """

    sign = PRODUCER
    result_table = "res_boundary"

    from_network = Text(doc="network the power leaves")
    from_bus = Integer("-", Shape.SCALAR, doc="pandapower bus index in from_network")
    to_network = Text(doc="network the power enters")
    to_bus = Integer("-", Shape.SCALAR, doc="pandapower bus index in to_network")
    p_min_mw = Number("MW", Shape.PROFILE, allow_inf=-math.inf, doc="lowest exchange")
    p_max_mw = Number("MW", Shape.PROFILE, allow_inf=math.inf, doc="highest exchange")
    price_per_mwh = Number("$/MWh", Shape.PROFILE, doc="price of the energy delivered")
    settlement = Choice(
        ("cost", "transfer"), doc="price paid outside the model, or to from_network"
    )

    def __init__(
        self, from_network, from_bus, to_network, to_bus, *, p_min_mw=-math.inf,
        p_max_mw=math.inf, price_per_mwh=0.0, settlement="cost", name=None,
    ):  # fmt: skip
        super().__init__(
            from_network=from_network, from_bus=from_bus, to_network=to_network,
            to_bus=to_bus, p_min_mw=p_min_mw, p_max_mw=p_max_mw, price_per_mwh=price_per_mwh,
            settlement=settlement, name=name, network=from_network,
        )  # fmt: skip

    @property
    def bus(self):
        return np.array([int(self.from_bus)])

    def terminals(self, network, values):
        buses = np.array([int(self.from_bus), int(self.to_bus)])
        return [self.from_network, self.to_network], buses

    def networks_touched(self, network):
        return [self.from_network, self.to_network]

    def formulate(self, b):
        v = b.values
        p = b.variable("p_mw", (1, b.ctx.T))
        if b.ctx.reactive:
            b.variable("q_mvar", (1, b.ctx.T))
        cons = []
        # bound the periods whose limit is finite (a limit infinite in some periods only still
        # binds in the others)
        low, high = np.broadcast_to(v.p_min_mw, p.shape), np.broadcast_to(v.p_max_mw, p.shape)
        if np.isfinite(low).any():
            cons.append(p[np.isfinite(low)] >= low[np.isfinite(low)])
        if np.isfinite(high).any():
            cons.append(p[np.isfinite(high)] <= high[np.isfinite(high)])
        return cons

    def injection_mw(self, b):
        return cp.vstack([-b["p_mw"], b["p_mw"]])

    def injection_mvar(self, b):
        q = b.get("q_mvar")
        return None if q is None else cp.vstack([-q, q])

    def cost_terms(self, b):
        if not b.values.price_per_mwh.any():
            return {}
        paid = b.cost("price_per_mwh", b["p_mw"])
        if self.settlement == "transfer":  # booked to both operators: no net cost
            return {"purchase": paid, "sale": -paid}
        return {"purchase": paid}

    def results(self, b):
        out = {"p_mw": b.value("p_mw")}
        if "q_mvar" in b.variables:
            out["q_mvar"] = b.value("q_mvar")
        return out
