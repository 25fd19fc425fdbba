"""Loads with optional shedding."""

import cvxpy as cp
import numpy as np

from gridflex.conventions import CONSUMER
from gridflex.devices.base import Device, declared, parameter_times, raw_values
from gridflex.parameters import Number, Shape
from gridflex.products import Products


class Load(Device):
    """Fixed demand profiles, optionally sheddable at a penalty.

    .. math::

        p_{i,t} = D_{i,t} - s_{i,t}, \\qquad 0 \\le s_{i,t} \\le \\max(D_{i,t}, 0), \\qquad
        C = \\sum_{i,t} dt\\, c^{shed}_i s_{i,t}

    Without a shedding cost ``s = 0``. Reported ``p_mw`` is the served demand (consuming
    positive, like ``res_load``).

    Parameters
    ----------
    bus : int or array_like
    p_mw : float, array or profile (n, T)
        Demand ``D``.
    q_mvar : float, array or profile, optional
        Reactive demand (used by formulations with reactive power and by AC validation).
    shed_cost_per_mwh : float or array (n,), optional
        Value of lost load; ``None`` forbids shedding.
    shedding_provides : Product or sequence of Product, optional
        Reserve/ramp products the shed load counts toward as a last resort, e.g.
        ``products.RAMP_UP`` (seed 003 eq. 22: ``FRU^LS_t = sum_j LS_{j,t}``).
    """

    sign = CONSUMER
    result_table = "res_load"

    p_mw = Number("MW", Shape.PROFILE, resolvable=True, doc="demand D")
    q_mvar = Number("Mvar", Shape.PROFILE, doc="reactive demand")
    shed_cost_per_mwh = Number(
        "$/MWh", low=0, optional=True, doc="value of lost load (None: no shedding)"
    )
    shedding_provides = Products(doc="products the shed load counts toward (last resort)")

    def __init__(
        self, bus, p_mw, q_mvar=0.0, *, shed_cost_per_mwh=None, shedding_provides=(), name=None,
        unit_labels=None,
    ):  # fmt: skip
        super().__init__(**declared(locals()))

    def derive(self, v, ctx):
        v.q_per_p = np.divide(v.q_mvar, v.p_mw, out=np.zeros_like(v.p_mw), where=v.p_mw != 0)

    def formulate(self, b):
        if b.values.shed_cost_per_mwh is None:
            return []
        shed = b.variable("shed_mw", (self.n, b.ctx.T), nonneg=True)
        return [shed <= b.parameter("p_mw_positive", lambda v: np.maximum(v.p_mw, 0.0))]

    def injection_mw(self, b):
        demand = b.param("p_mw")  # re-solvable: a new profile needs no rebuild
        shed = b.get("shed_mw")
        return -demand if shed is None else shed - demand

    def injection_mvar(self, b):
        """Reactive withdrawal; shed load keeps its power factor (q shed = q/p * p shed). Where
        the network has no reactive power it is still computed (AC validation writes it), from
        Parameters, so that it does not make ``p_mw`` a constant."""
        if b.ctx.reactive:
            q, q_per_p = b.values.q_mvar, b.values.q_per_p
        else:
            q, q_per_p = b.param("q_mvar"), b.param("q_per_p")
        shed = b.get("shed_mw")
        if shed is None:
            return -q
        if b.ctx.reactive:
            return cp.multiply(q_per_p, shed) - q
        return parameter_times(q_per_p, shed) - q

    def provision_mw(self, b, product):
        """Shed load, summed over units, toward the products in ``shedding_provides``."""
        shed = b.get("shed_mw")
        if shed is None or product not in b.values.shedding_provides:
            return None
        return cp.sum(shed, axis=0)

    def provision_bound_mw(self, b, product):
        """At most the whole (positive) demand can be shed."""
        v = raw_values(b.values)  # not recorded: p_mw stays re-solvable
        if b.get("shed_mw") is None or product not in v.shedding_provides:
            return None
        return np.maximum(v.p_mw, 0.0).sum(axis=0)

    def cost_terms(self, b):
        shed = b.get("shed_mw")
        if shed is None:
            return {}
        return {"shedding": b.ctx.weighted_sum(b.values.shed_cost_per_mwh @ shed)}

    def results(self, b):
        v = b.values
        shed = b.value("shed_mw") if "shed_mw" in b.variables else np.zeros_like(v.p_mw)
        return {
            "p_mw": v.p_mw - shed,
            "q_mvar": v.q_mvar - v.q_per_p * shed,
            "shed_mw": shed,
            "demand_mw": v.p_mw,
        }
