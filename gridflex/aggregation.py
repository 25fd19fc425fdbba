"""Aggregation of spatially coupled load flexibility into a multi-port VPP (seed 000, eqs. 4-9, 21).

Given an optimization *scope* (the buses of one network: each bus an electrical zone) and any
number of :class:`~gridflex.devices.spatial_flex.SpatialFlexSet` s, :class:`AggregatedFlex`
keeps one regulation variable per zone ``n`` holding members, plus one for the zone ``0``
outside the scope:

.. math::

    \\sum_{sm \\in n} -\\beta^U_{sm,t} \\le \\tau^A_{n,t} \\le \\sum_{sm \\in n} \\beta^D_{sm,t}
        \\qquad (4), (5)

    \\eta_0 \\tau^A_{0,t} + \\sum_n \\eta_n \\tau^A_{n,t} = 0          \\qquad (6)

    C = \\sum_t dt\\, (\\alpha_0 |\\tau^A_{0,t}| + \\sum_n \\alpha_n |\\tau^A_{n,t}|)   \\qquad (9)

with ``eta_n``, ``alpha_n`` the averages over the zone's members (the paper's approximation).
A set whose members all lie in one zone and share one ``eta`` moves load only inside that zone
(eq. 7 with eq. 2 gives a zero sum): it contributes no regulation, neither bounds nor coupling
(its baseline loads stay). That is the paper's point about disparate spatial scales (charging
stations of one town are invisible to a transmission study).

Members in another network that lies inside a zone of the scope (the distribution system
behind transmission bus 2) are mapped to that zone with ``inside={"D": bus}``; such a zone's
regulation is carried out in the other network, so it injects nothing here, and
:class:`AggregationLink` states eq. 21 between the two scopes.

The aggregate approximates the sets it replaces (bounds summed per zone, one coupling with
averaged weights): exact with one member per zone and equal ``eta`` and ``alpha``; otherwise
it can promise more than the sets deliver (the usual case) or, since averaged weights are not
a bound, less. :meth:`AggregatedFlex.disaggregate` finds member regulations that realise a
solved aggregate as closely as possible and reports what is left over.
"""

from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from gridflex.conventions import CONSUMER
from gridflex.devices.base import Device
from gridflex.errors import InputError, SolveError
from gridflex.requirements import SystemConstraint

OUTSIDE = "outside"


@dataclass(frozen=True)
class Member:
    """One member of one set: where it is and which zone of the scope it counts in."""

    set_index: int
    index: int
    zone: object  # a bus index of the scope, or OUTSIDE
    realised_here: bool


class AggregatedFlex(Device):
    """Multi-port VPP of several spatially coupled sets over the zones of one network.

    Parameters
    ----------
    sets : list of SpatialFlexSet
        The sets to aggregate (not added to the model themselves).
    inside : dict, optional
        ``{network name: bus of this network}``: members in that network count in the zone of
        that bus (e.g. a distribution system behind a transmission bus).
    baselines : bool
        Include the members' baseline loads at the zone buses (default True), so the aggregate
        replaces the member devices; only for zones realised in this network.
    """

    sign = CONSUMER
    result_table = "res_aggregated_flex"

    def __init__(self, sets, *, inside=None, baselines=True, name=None):
        self.sets = list(sets)
        if not self.sets:
            raise InputError(f"AggregatedFlex {name or ''}: give at least one set")
        self.inside = dict(inside or {})
        self.with_baselines = bool(baselines)
        super().__init__([0], name=name)  # buses are set in prepare (the zones)

    # --- zones ------------------------------------------------------------------------------
    def _members(self, scope):
        members = []
        for s, flex in enumerate(self.sets):
            for m, (net, bus) in enumerate(zip(flex.terminal_networks, flex.bus, strict=True)):
                if net == scope:
                    members.append(Member(s, m, int(bus), True))
                elif net in self.inside:
                    members.append(Member(s, m, int(self.inside[net]), False))
                else:
                    members.append(Member(s, m, OUTSIDE, False))
        return members

    def prepare(self, ctx):
        scope = self.network
        for network, bus in self.inside.items():
            ctx.grid.bus_positions([bus], owner=f"{self.owner} (zone of network '{network}')")
        for flex in self.sets:
            flex.network = flex.network or scope
            flex.prepare(ctx)
        everyone = self._members(scope)
        silent = {s for s in range(len(self.sets)) if self._silent(s)}
        members = [m for m in everyone if m.set_index not in silent]
        self.members = members
        # silent sets add no regulation, but their loads are still here (baselines only)
        self.silent_here = [m for m in everyone if m.set_index in silent and m.realised_here]
        self.zones = [*sorted({m.zone for m in members if m.zone != OUTSIDE}), OUTSIDE]
        self._check_zones(scope)
        here = [z for z in self.zones[:-1] if self._realised_here(z)]
        self.bus = np.asarray(here + [m.zone for m in self.silent_here], dtype=int)
        self.zone_rows_here = [self.zones.index(z) for z in here]
        ctx.grid.bus_positions(self.bus, owner=self.owner)
        self._parameters(ctx)

    def _silent(self, s):
        """True for a set inside one zone with one eta: it moves load only inside that zone."""
        zones = {m.zone for m in self._members(self.network) if m.set_index == s}
        return len(zones) == 1 and np.ptp(self.sets[s].eta) == 0

    def _realised_here(self, zone):
        return all(m.realised_here for m in self.members if m.zone == zone)

    def _check_zones(self, scope):
        for zone in self.zones[:-1]:
            kinds = {m.realised_here for m in self.members if m.zone == zone}
            if len(kinds) > 1:
                raise InputError(
                    f"{self.owner}: zone at bus {zone} of '{scope}' holds members of this "
                    "network and of a network mapped into it; give them separate zones"
                )

    def _parameters(self, ctx):
        T = ctx.T
        Z = len(self.zones)
        self.lo, self.hi, self.base = np.zeros((Z, T)), np.zeros((Z, T)), np.zeros((Z, T))
        eta_sum, alpha_sum, count = np.zeros(Z), np.zeros(Z), np.zeros(Z)
        for m in self.members:
            z, flex = self.zones.index(m.zone), self.sets[m.set_index]
            self.lo[z] -= flex.p["beta_up_mw"][m.index]
            self.hi[z] += flex.p["beta_down_mw"][m.index]
            self.base[z] += flex.p["baseline_mw"][m.index]
            eta_sum[z] += flex.eta[m.index]
            alpha_sum[z] += flex.alpha[m.index]
            count[z] += 1
        self.eta = np.divide(eta_sum, count, out=np.zeros(Z), where=count > 0)
        self.alpha = np.divide(alpha_sum, count, out=np.zeros(Z), where=count > 0)

    @property
    def terminal_buses(self):
        return self.bus

    @property
    def unit_labels(self):
        return [str(z) for z in self.zones]

    # --- model ------------------------------------------------------------------------------
    def build(self, ctx):
        self.tau = cp.Variable((len(self.zones), ctx.T), name=f"{self.name}_tau_mw")
        return [self.tau >= self.lo, self.tau <= self.hi, self.eta @ self.tau == 0]  # (4)-(6)

    def injection_mw(self):
        T, rows = self.tau.shape[1], self.zone_rows_here
        silent = np.array(
            [self.sets[m.set_index].p["baseline_mw"][m.index] for m in self.silent_here]
        ).reshape(-1, T)
        scale = 1.0 if self.with_baselines else 0.0
        parts = [self.tau[rows] - scale * self.base[rows]] if rows else []
        if len(silent):
            parts.append(-scale * silent)
        if not parts:
            return np.zeros((0, T))
        return parts[0] if len(parts) == 1 else cp.vstack(parts)

    def cost_terms(self, ctx):
        if not self.alpha.any():
            return {}
        return {"regulation": ctx.weighted_sum(self.alpha @ cp.abs(self.tau))}  # (9)

    def results(self, ctx):
        return {
            "regulation_down_mw": self.tau.value,
            "lower_mw": self.lo,
            "upper_mw": self.hi,
            "baseline_mw": self.base,
        }

    def zone_regulation(self, zone):
        """The regulation variable (T,) of ``zone`` (a bus of the scope, or ``OUTSIDE``)."""
        return self.tau[self.zones.index(zone)]

    # --- disaggregation ---------------------------------------------------------------------
    def disaggregate(self, dt_h=1.0):
        """Member regulations that realise the solved aggregate (eqs. 1, 2, 7, 8).

        Minimises, per period, the mismatch ``sum_z |tau^A_z - sum_{sm in z} tau_sm|`` first
        and the members' regulation cost second. Returns ``(list of (n_s, T) arrays, mismatch
        (T,) MW)``; a nonzero mismatch is where the aggregate promised what the sets cannot do.
        """
        target = np.asarray(self.tau.value)
        T = target.shape[1]
        taus = [cp.Variable((f.n, T)) for f in self.sets]
        cons, cost = [], 0
        for f, tau in zip(self.sets, taus, strict=True):
            cons += [tau >= -f.p["beta_up_mw"], tau <= f.p["beta_down_mw"], f.eta @ tau == 0]
            cost += dt_h * cp.sum(f.alpha @ cp.abs(tau))
        gap = self._zone_sums(taus) - target
        problem = cp.Problem(cp.Minimize(1e4 * cp.sum(cp.abs(gap)) + cost), cons)
        problem.solve(solver=cp.HIGHS)
        if problem.status != cp.OPTIMAL:
            raise SolveError(f"{self.owner}: disaggregation {problem.status}", problem.status)
        return [np.asarray(t.value) for t in taus], np.abs(np.asarray(gap.value)).sum(axis=0)

    def _zone_sums(self, taus):
        rows = []
        for zone in self.zones:
            parts = [taus[m.set_index][m.index] for m in self.members if m.zone == zone]
            rows.append(sum(parts[1:], parts[0]) if parts else np.zeros(taus[0].shape[1]))
        return cp.vstack(rows)


class AggregationLink(SystemConstraint):
    """T&D consistency (seed 000, eq. 21) between an outer and an inner aggregate.

    .. math:: \\eta_{n^T} \\tau^A_{n^T,t} = \\sum_{n^D} \\eta_{n^D} \\tau^A_{n^D,t}

    ``outer`` holds the zone ``outer_zone`` (a bus of its network) that contains the inner
    scope; the sum runs over the inner aggregate's zones inside its scope (not its zone 0).
    """

    def __init__(self, outer, outer_zone, inner, *, name=None):
        self.outer, self.outer_zone, self.inner = outer, outer_zone, inner
        self.name = name or f"{outer.name}-{inner.name}"

    def build(self, devices):
        if self.outer_zone not in self.outer.zones:
            raise InputError(
                f"AggregationLink '{self.name}': bus {self.outer_zone} is not a zone of "
                f"{self.outer.owner} (zones: {self.outer.zones[:-1]})"
            )
        z = self.outer.zones.index(self.outer_zone)
        inner_rows = list(range(len(self.inner.zones) - 1))
        inner = self.inner.eta[inner_rows] @ self.inner.tau[inner_rows]
        return [self.outer.eta[z] * self.outer.tau[z] == inner]
