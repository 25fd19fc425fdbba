"""Loads with optional shedding."""

import cvxpy as cp
import numpy as np

from gridflex.conventions import CONSUMER
from gridflex.devices.base import Device
from gridflex.products import as_products
from gridflex.profiles import check_nonnegative, unit_or_profile, unit_values


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

    def __init__(
        self,
        bus,
        p_mw,
        q_mvar=0.0,
        *,
        shed_cost_per_mwh=None,
        shedding_provides=(),
        name=None,
        unit_labels=None,
    ):
        super().__init__(bus, name=name, unit_labels=unit_labels)
        self.p_mw, self.q_mvar, self.shed_cost_per_mwh = p_mw, q_mvar, shed_cost_per_mwh
        self.shedding_provides = as_products(shedding_provides, owner=self.owner)

    def prepare(self, ctx):
        super().prepare(ctx)
        o = self.owner
        self.demand = unit_or_profile(self.p_mw, self.n, ctx.periods, owner=o, param="p_mw")
        self.q_demand = unit_or_profile(self.q_mvar, self.n, ctx.periods, owner=o, param="q_mvar")
        self.sheddable = self.shed_cost_per_mwh is not None
        if self.sheddable:
            self.shed_cost = unit_values(
                self.shed_cost_per_mwh, self.n, owner=o, param="shed_cost_per_mwh"
            )
            check_nonnegative(self.shed_cost, owner=o, param="shed_cost_per_mwh")

    def build(self, ctx):
        if not self.sheddable:
            self.shed = None
            return []
        self.shed = cp.Variable((self.n, ctx.T), nonneg=True, name=f"{self.name}_shed_mw")
        return [self.shed <= np.maximum(self.demand, 0.0)]

    def injection_mw(self):
        return -self.demand if self.shed is None else self.shed - self.demand

    def injection_mvar(self):
        """Reactive withdrawal; shed load keeps its power factor (q shed = q/p * p shed)."""
        if self.shed is None:
            return -self.q_demand
        ratio = np.divide(
            self.q_demand, self.demand, out=np.zeros_like(self.demand), where=self.demand != 0
        )
        return cp.multiply(ratio, self.shed) - self.q_demand

    def provision_mw(self, product):
        """Shed load, summed over units, toward the products in ``shedding_provides``."""
        if self.shed is None or product not in self.shedding_provides:
            return None
        return cp.sum(self.shed, axis=0)

    def cost_terms(self, ctx):
        if self.shed is None:
            return {}
        return {"shedding": ctx.weighted_sum(self.shed_cost @ self.shed)}

    def results(self, ctx):
        shed = np.zeros_like(self.demand) if self.shed is None else self.shed.value
        ratio = np.divide(
            self.q_demand, self.demand, out=np.zeros_like(self.demand), where=self.demand != 0
        )
        return {
            "p_mw": self.demand - shed,
            "q_mvar": self.q_demand - ratio * shed,
            "shed_mw": shed,
            "demand_mw": self.demand,
        }
