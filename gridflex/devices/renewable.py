"""Renewable generation with curtailment."""

import cvxpy as cp
import numpy as np

from gridflex.conventions import PRODUCER
from gridflex.devices.base import Device, Role, declared
from gridflex.devices.blocks import columns, previous_columns
from gridflex.parameters import Choice, Flag, Number, Shape
from gridflex.products import RAMP_DOWN, RAMP_UP, Products
from gridflex.profiles import check_fraction


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
    back (``P^{NL}_t - P^{NL}_{t-1}``); both readings align it to the change into period t
    inside its block (:mod:`gridflex.timeaxis`): the first period of an open block has no ramp
    (the output before it is not modelled), a cyclic block's first looks at its last.

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
    q_mvar : float, array or profile (n, T)
        Fixed reactive injection where the formulation models reactive power (a net's fixed
        sgen keeps its ``q_mvar``; default 0).
    output_ramp : {False, "forecast", "dispatch"}
        Count the output's own change as ``RAMP_UP`` / ``RAMP_DOWN`` (eq. 19, see above).
    """

    sign = PRODUCER
    result_table = "res_sgen"

    profile = Number(
        "MW", Shape.PROFILE, low=0, resolvable=True,
        doc="available power (per unit with capacity_mw)",
    )  # fmt: skip
    capacity_mw = Number("MW", low=0, optional=True, resolvable=True, doc="installed capacity")
    curtailment_cost_per_mwh = Number("$/MWh", doc="penalty on curtailed energy")
    curtailable = Flag(doc="allow curtailment")
    spillage_provides = Products(doc="products the spilled power counts toward")
    output_ramp = Choice((False, True, "forecast", "dispatch"), doc="eq. 19 reading, see above")
    q_mvar = Number("Mvar", Shape.PROFILE, doc="reactive injection (producing positive)")

    def __init__(
        self, bus, profile, capacity_mw=None, *, curtailment_cost_per_mwh=0.0, curtailable=True,
        spillage_provides=(), output_ramp=False, q_mvar=0.0, name=None, unit_labels=None,
    ):  # fmt: skip
        super().__init__(**declared(locals()))

    def derive(self, v, ctx):
        if v.capacity_mw is not None:
            check_fraction(v.profile, owner=self.owner, param="profile (per unit of capacity_mw)")
            v.profile = v.profile * v.capacity_mw.reshape(-1, 1)
        v.available = v.profile
        v.output_ramp = "dispatch" if v.output_ramp is True else v.output_ramp

    def formulate(self, b):
        if not b.values.curtailable:
            return self._output_ramp(b)
        p = b.variable("p_mw", (self.n, b.ctx.T), nonneg=True)
        return [p <= _available(b), *self._output_ramp(b)]

    def _output_ramp(self, b):
        """Eq. 19: the output's change split into up and down parts (see the class doc)."""
        reading, time = b.values.output_ramp, b.ctx.time
        if not reading or time.T < 2:
            return []
        available = b.values.available  # a constant of the ramp rows (edits rebuild)
        if reading == "forecast":
            change = available - time.previous(available)
            b.expressions["ramp"] = (np.maximum(change, 0.0), np.maximum(-change, 0.0))
            return []
        shape = (self.n, time.T)
        up = b.variable("output_ramp_up_mw", shape, nonneg=True)
        down = b.variable("output_ramp_down_mw", shape, nonneg=True)
        rising = b.variable("output_rising", shape, Role.COMMITMENT, boolean=True)
        big = available.max(axis=1, keepdims=True)
        p_now, p_before, cols = previous_columns(time, self.injection_mw(b))
        b.expressions["ramp"] = (up, down)
        cons = [
            up <= cp.multiply(big, rising),
            down <= cp.multiply(big, 1 - rising),
        ]
        if cols.size:
            cons.append(columns(up, cols) - columns(down, cols) == p_now - p_before)
        if time.open_first.size:  # no ramp into an open block's first period
            cons += [up[:, time.open_first] == 0, down[:, time.open_first] == 0]
        return cons

    def provision_mw(self, b, product):
        """Spilled power (``spillage_provides``) plus the output's own ramp (``output_ramp``)."""
        parts = []
        p, ramp = b.get("p_mw"), b.get("ramp")
        if p is not None and product in b.values.spillage_provides:
            parts.append(cp.sum(_available(b) - p, axis=0))
        if ramp is not None and product in (RAMP_UP, RAMP_DOWN):
            parts.append(cp.sum(ramp[0 if product == RAMP_UP else 1], axis=0))
        return sum(parts[1:], parts[0]) if parts else None

    def injection_mw(self, b):
        return b.get("p_mw", None) if "p_mw" in b.variables else _available(b)

    def injection_mvar(self, b):
        """The given ``q_mvar`` where the formulation models reactive power (pandapower's
        sgen convention: producing positive)."""
        return b.values.q_mvar if b.ctx.reactive else None

    def cost_terms(self, b):
        cost, p = b.values.curtailment_cost_per_mwh, b.get("p_mw")
        if p is None or not cost.any():
            return {}
        return {"curtailment": b.ctx.weighted_sum(cost @ (_available(b) - p))}

    def results(self, b):
        available = b.values.available
        p = b.value("p_mw") if "p_mw" in b.variables else available
        out = {"p_mw": p, "available_mw": available, "curtailed_mw": available - p}
        if b.ctx.reactive:
            out["q_mvar"] = b.values.q_mvar
        if "ramp" in b.expressions:
            up, down = (np.asarray(getattr(r, "value", r), dtype=float) for r in b["ramp"])
            out["output_ramp_up_mw"], out["output_ramp_down_mw"] = up, down
        return out


def _available(b):
    """The available power as a cvxpy Parameter of the build (re-solvable profile, capacity)."""
    if "available" not in b.expressions:
        b.expressions["available"] = b.param("available")
    return b.expressions["available"]
