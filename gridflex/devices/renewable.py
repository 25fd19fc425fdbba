"""Renewable generation with curtailment."""

import cvxpy as cp
import numpy as np

from gridflex.conventions import PRODUCER
from gridflex.devices.base import Device
from gridflex.errors import InputError
from gridflex.products import RAMP_DOWN, RAMP_UP, as_products
from gridflex.profiles import check_fraction, check_nonnegative, unit_or_profile, unit_values


class Renewable(Device):
    """Wind or PV: output up to the available power, curtailment at an optional penalty.

    .. math::

        0 \\le p_{i,t} \\le A_{i,t}, \\qquad C = \\sum_{i,t} dt\\, c^{curt}_i (A_{i,t} - p_{i,t})

    With ``curtailable=False`` the output is fixed at ``A``.

    Flexible ramp (seed 003): the spilled power ``A - p`` counts toward the products in
    ``spillage_provides`` (eq. 22: ``FRD^{spill}_t``). ``output_ramp`` counts the output's own
    change into each period as ramp in its direction (eq. 19), in one of two readings:

    * ``"forecast"``: from the available power, computed before the solve,
      ``FRU_{i,t} = max(A_{i,t} - A_{i,t-1}, 0)``, ``FRD_{i,t} = max(A_{i,t-1} - A_{i,t}, 0)``,
      like the net-load requirement it offsets (eqs. 20-21); the problem stays convex.
    * ``"dispatch"`` (or ``True``): from the dispatched output, exactly, with a binary ``z``:

      .. math::

          FRU_{i,t} - FRD_{i,t} = p_{i,t} - p_{i,t-1}, \\quad
          0 \\le FRU_{i,t} \\le M_i z_{i,t}, \\quad 0 \\le FRD_{i,t} \\le M_i (1 - z_{i,t})

      with ``M_i = max_t A_{i,t}``. Eq. 19's ``max`` of decision variables is not convex; the
      binary makes it exact and keeps the solver from inflating both parts at once (a
      relaxation ``FRU - FRD = dp`` alone would let both grow without bound). It is much
      slower (on the seed-003 case, 68 s instead of 4 s per solve with HiGHS).

    Eq. 19 writes the change forward (``p_{t+1} - p_t``) while the requirement (eq. 21) looks
    back (``P^{NL}_t - P^{NL}_{t-1}``); both readings align it to the change into period t, and
    the first period has no ramp (the output before the horizon is not modelled).

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
    spillage_provides : Product or sequence of Product, optional
        Products the spilled power counts toward (e.g. ``products.RAMP_DOWN``).
    output_ramp : {False, "forecast", "dispatch"}
        Count the output's own change as ``RAMP_UP`` / ``RAMP_DOWN`` (eq. 19, see above).
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
        spillage_provides=(),
        output_ramp=False,
        name=None,
        unit_labels=None,
    ):
        super().__init__(bus, name=name, unit_labels=unit_labels)
        self.profile, self.capacity_mw = profile, capacity_mw
        self.curtailment_cost_per_mwh, self.curtailable = curtailment_cost_per_mwh, curtailable
        self.spillage_provides = as_products(spillage_provides, owner=self.owner)
        readings = (False, True, "forecast", "dispatch")
        if output_ramp not in readings:
            raise InputError(
                f"{self.owner}: output_ramp must be one of {readings}, got {output_ramp!r}"
            )
        self.output_ramp = "dispatch" if output_ramp is True else output_ramp

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
        self.ramp = None
        if not self.curtailable:
            self.p = None
            return self._output_ramp(ctx)
        self.p = cp.Variable((self.n, ctx.T), nonneg=True, name=f"{self.name}_p_mw")
        return [self.p <= self.available, *self._output_ramp(ctx)]

    def _output_ramp(self, ctx):
        """Eq. 19: the output's change split into up and down parts (see the class doc)."""
        if not self.output_ramp or ctx.T < 2:
            return []
        if self.output_ramp == "forecast":
            change = np.diff(self.available, axis=1, prepend=self.available[:, :1])
            self.ramp = (np.maximum(change, 0.0), np.maximum(-change, 0.0))
            return []
        n, T = self.n, ctx.T
        up = cp.Variable((n, T), nonneg=True, name=f"{self.name}_output_ramp_up_mw")
        down = cp.Variable((n, T), nonneg=True, name=f"{self.name}_output_ramp_down_mw")
        rising = cp.Variable((n, T), boolean=True, name=f"{self.name}_output_rising")
        big = self.available.max(axis=1, keepdims=True)
        p = self.injection_mw()
        self.ramp = (up, down)
        return [
            up[:, 1:] - down[:, 1:] == p[:, 1:] - p[:, :-1],
            up[:, 0] == 0,
            down[:, 0] == 0,
            up <= cp.multiply(big, rising),
            down <= cp.multiply(big, 1 - rising),
        ]

    def provision_mw(self, product):
        """Spilled power (``spillage_provides``) plus the output's own ramp (``output_ramp``)."""
        parts = []
        if self.p is not None and product in self.spillage_provides:
            parts.append(cp.sum(self.available - self.p, axis=0))
        if self.ramp is not None and product in (RAMP_UP, RAMP_DOWN):
            parts.append(cp.sum(self.ramp[0 if product == RAMP_UP else 1], axis=0))
        return sum(parts[1:], parts[0]) if parts else None

    def injection_mw(self):
        return self.available if self.p is None else self.p

    def cost_terms(self, ctx):
        if self.p is None or not self.curt_cost.any():
            return {}
        return {"curtailment": ctx.weighted_sum(self.curt_cost @ (self.available - self.p))}

    def results(self, ctx):
        p = self.available if self.p is None else self.p.value
        out = {"p_mw": p, "available_mw": self.available, "curtailed_mw": self.available - p}
        if self.ramp is not None:
            up, down = (np.asarray(getattr(r, "value", r), dtype=float) for r in self.ramp)
            out["output_ramp_up_mw"], out["output_ramp_down_mw"] = up, down
        return out
