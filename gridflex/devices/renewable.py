"""Renewable generation with curtailment."""

import cvxpy as cp

from gridflex.conventions import PRODUCER
from gridflex.devices.base import Device
from gridflex.profiles import check_fraction, check_nonnegative, unit_or_profile, unit_values


class Renewable(Device):
    """Wind or PV: output up to the available power, curtailment at an optional penalty.

    .. math::

        0 \\le p_{i,t} \\le A_{i,t}, \\qquad C = \\sum_{i,t} dt\\, c^{curt}_i (A_{i,t} - p_{i,t})

    With ``curtailable=False`` the output is fixed at ``A``.

    Parameters
    ----------
    bus : int or array_like
    profile : float, array or profile (n, T)
        Available power: in MW, or per unit of ``capacity_mw`` when that is given (then it
        must lie in [0, 1]).
    capacity_mw : float or array (n,), optional
        Installed capacity.
    curtailment_cost_per_mwh : float or array (n,)
        Penalty on curtailed energy (default 0).
    curtailable : bool
        Allow curtailment (default True).
    """

    sign = PRODUCER
    result_table = "res_sgen"

    def __init__(
        self,
        bus,
        profile,
        capacity_mw=None,
        *,
        curtailment_cost_per_mwh=0.0,
        curtailable=True,
        name=None,
        unit_labels=None,
    ):
        super().__init__(bus, name=name, unit_labels=unit_labels)
        self.profile, self.capacity_mw = profile, capacity_mw
        self.curtailment_cost_per_mwh, self.curtailable = curtailment_cost_per_mwh, curtailable

    def prepare(self, ctx):
        super().prepare(ctx)
        o, n = self.owner, self.n
        prof = unit_or_profile(self.profile, n, ctx.periods, owner=o, param="profile")
        if self.capacity_mw is not None:
            check_fraction(prof, owner=o, param="profile (per unit of capacity_mw)")
            cap = unit_values(self.capacity_mw, n, owner=o, param="capacity_mw")
            check_nonnegative(cap, owner=o, param="capacity_mw")
            prof = prof * cap.reshape(-1, 1)
        check_nonnegative(prof, owner=o, param="profile")
        self.available = prof
        self.curt_cost = unit_values(
            self.curtailment_cost_per_mwh, n, owner=o, param="curtailment_cost_per_mwh"
        )

    def build(self, ctx):
        if not self.curtailable:
            self.p = None
            return []
        self.p = cp.Variable((self.n, ctx.T), nonneg=True, name=f"{self.name}_p_mw")
        return [self.p <= self.available]

    def injection_mw(self):
        return self.available if self.p is None else self.p

    def cost_terms(self, ctx):
        if self.p is None or not self.curt_cost.any():
            return {}
        return {"curtailment": ctx.dt_h * cp.sum(self.curt_cost @ (self.available - self.p))}

    def results(self, ctx):
        p = self.available if self.p is None else self.p.value
        return {"p_mw": p, "available_mw": self.available, "curtailed_mw": self.available - p}
