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
regulation is carried out in the other network, so it injects nothing here. Eq. 21 between the
two scopes is a node of the ``REGULATION`` carrier (:mod:`gridflex.carriers`) on which the
outer aggregate's zone and the inner aggregate's scope have ports (``regulation_ports``):

.. math:: \\eta_{n^T} \\tau^A_{n^T,t} - \\sum_{n^D} \\eta_{n^D} \\tau^A_{n^D,t} = 0   \\qquad (21)

is that node's balance (its price is the value of regulation moved between the scopes).

Each scope charges eq. (9) over all its zones, as the paper's objective does (eq. 10 = F1 + F2
with eqs. 15 and 20 each summing every zone of its scope): with two linked scopes, regulation
carried out in the inner network is charged by the outer scope's port zone *and* the inner
scope's zones, and the outer scope's members again through the inner scope's zone 0. That is
the paper's accounting, not a physical cost of regulating twice.

The aggregate approximates the sets it replaces (bounds summed per zone, one coupling with
averaged weights): for one scope exact with one member per zone and equal ``eta`` and
``alpha`` (two linked scopes add the double charge above); otherwise
it can promise more than the sets deliver (the usual case) or, since averaged weights are not
a bound, less. :meth:`AggregatedFlex.disaggregate` finds member regulations that realise a
solved aggregate as closely as possible and reports what is left over.
"""

from dataclasses import dataclass, replace
from types import MappingProxyType, SimpleNamespace

import cvxpy as cp
import numpy as np

from gridflex.carriers import REGULATION, Node, PortFlow
from gridflex.conventions import CONSUMER
from gridflex.devices.base import Device
from gridflex.errors import InputError, SolveError
from gridflex.parameters import Custom, Flag

OUTSIDE = "outside"


@dataclass(frozen=True)
class Member:
    """One member of one set: where it is and which zone of the scope it counts in."""

    set_index: int
    index: int
    zone: object  # a bus index of the scope, or OUTSIDE
    realised_here: bool


def _screen_sets(value, owner, param):
    from gridflex.devices.spatial_flex import SpatialFlexSet

    sets = tuple(value) if isinstance(value, list | tuple) else None
    if not sets or not all(isinstance(f, SpatialFlexSet) for f in sets):
        raise param.error(owner, "must be a non-empty list of SpatialFlexSet devices", value)
    if len({id(f) for f in sets}) != len(sets):
        raise param.error(owner, "lists one set twice", value)
    return sets  # a tuple: edit by assigning a new list


def _screen_ports(value, owner, param):
    ok = isinstance(value, dict) and all(
        (k == "scope" or (isinstance(k, int | np.integer) and not isinstance(k, bool)))
        and isinstance(n, Node)
        for k, n in value.items()
    )
    if not ok:
        raise param.error(owner, "must be a dict {zone bus or 'scope': gf.Node}", value)
    wrong = [n for n in value.values() if n.carrier != REGULATION]
    if wrong:
        where = f"node '{wrong[0].name}' of carrier '{wrong[0].carrier.name}'"
        raise param.error(owner, "must be a gf.carriers.REGULATION node", where)
    return MappingProxyType({k if k == "scope" else int(k): n for k, n in value.items()})


def _screen_inside(value, owner, param):
    ok = isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(b, int | np.integer) and not isinstance(b, bool)
        for k, b in value.items()
    )
    if not ok:
        raise param.error(owner, "must be a dict {network name: bus index}", value)
    return MappingProxyType({k: int(b) for k, b in value.items()})


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
    regulation_ports : dict, optional
        ``{zone bus: Node}`` puts the zone's weighted regulation ``eta_z tau_z`` into a
        regulation node; ``{"scope": Node}`` takes ``sum_n eta_n tau_n`` over the zones of this
        scope (not zone 0) from it. The outer aggregate's zone and the inner aggregate's scope
        on one node state eq. 21.

    The zones (and so the units and terminals) depend on the network the aggregate is added
    to; they live in its build (``build.values.zones``), not on the device.
    """

    sign = CONSUMER
    result_table = "res_aggregated_flex"

    sets = Custom("list of SpatialFlexSet", _screen_sets, doc="the sets to aggregate")
    inside = Custom("{network: bus}", _screen_inside, doc="networks inside a zone of this one")
    baselines = Flag(doc="include the members' baseline loads at the zone buses")
    regulation_ports = Custom(
        "{zone bus or 'scope': Node}", _screen_ports, optional=True,
        doc="eq. 21: regulation exchanged through regulation nodes",
    )  # fmt: skip

    def __init__(self, sets, *, inside=None, baselines=True, regulation_ports=None, name=None):
        super().__init__(sets=sets, inside=inside or {}, baselines=baselines,
                         regulation_ports=regulation_ports, name=name)  # fmt: skip

    @property
    def bus(self):
        """Buses of the members of every set (the zones are known only in a model)."""
        return np.concatenate([np.asarray(f.bus) for f in self.sets])

    @property
    def revision(self):
        return (super().revision, tuple((id(f), f.revision) for f in self.sets))

    # --- zones ------------------------------------------------------------------------------
    def _members(self, scope):
        members = []
        for s, flex in enumerate(self.sets):
            networks = flex.member_networks(flex.network or scope)
            for m, (net, bus) in enumerate(zip(networks, flex.bus, strict=True)):
                if net == scope:
                    members.append(Member(s, m, int(bus), True))
                elif net in self.inside:
                    members.append(Member(s, m, int(self.inside[net]), False))
                else:
                    members.append(Member(s, m, OUTSIDE, False))
        return members

    def check(self, ctx):
        scope = ctx.network
        for network, bus in self.inside.items():
            ctx.grid.bus_positions([bus], owner=f"{self.owner} (zone of network '{network}')")
        v = SimpleNamespace(
            sets=[f.check(replace(ctx, network=f.network or scope)) for f in self.sets],
            baselines=self.baselines,
        )
        everyone = self._members(scope)
        silent = {s for s in range(len(self.sets)) if self._silent(s, everyone, v)}
        v.members = [m for m in everyone if m.set_index not in silent]
        # silent sets add no regulation, but their loads are still here (baselines only)
        v.silent_here = [m for m in everyone if m.set_index in silent and m.realised_here]
        v.zones = [*sorted({m.zone for m in v.members if m.zone != OUTSIDE}), OUTSIDE]
        self._check_zones(scope, v)
        v.regulation_ports = self.regulation_ports or {}
        self._check_ports(v)
        here = [z for z in v.zones[:-1] if _realised_here(z, v.members)]
        v.bus = np.asarray(here + [m.zone for m in v.silent_here], dtype=int)
        v.zone_rows_here = [v.zones.index(z) for z in here]
        ctx.grid.bus_positions(v.bus, owner=self.owner)
        self._zone_parameters(v, ctx.T)
        return v

    def _check_ports(self, v):
        for key in v.regulation_ports:
            if key != "scope" and key not in v.zones[:-1]:
                raise InputError(
                    f"{self.owner}: regulation port on bus {key}, which is not a zone of this "
                    f"aggregate (zones: {v.zones[:-1]})"
                )

    def _silent(self, s, everyone, v):
        """True for a set inside one zone with one eta: it moves load only inside that zone."""
        zones = {m.zone for m in everyone if m.set_index == s}
        return len(zones) == 1 and np.ptp(v.sets[s].eta) == 0

    def _check_zones(self, scope, v):
        for zone in v.zones[:-1]:
            kinds = {m.realised_here for m in v.members if m.zone == zone}
            if len(kinds) > 1:
                raise InputError(
                    f"{self.owner}: zone at bus {zone} of '{scope}' holds members of this "
                    "network and of a network mapped into it; give them separate zones"
                )

    def _zone_parameters(self, v, T):
        Z = len(v.zones)
        v.lo, v.hi, v.base = np.zeros((Z, T)), np.zeros((Z, T)), np.zeros((Z, T))
        eta_sum, alpha_sum, count = np.zeros(Z), np.zeros(Z), np.zeros(Z)
        for m in v.members:  # a loop over input rows (members), not over the model
            z, flex = v.zones.index(m.zone), v.sets[m.set_index]
            v.lo[z] -= flex.beta_up_mw[m.index]
            v.hi[z] += flex.beta_down_mw[m.index]
            v.base[z] += flex.baseline_mw[m.index]
            eta_sum[z] += flex.eta[m.index]
            alpha_sum[z] += flex.cost_per_mwh[m.index]
            count[z] += 1
        v.eta = np.divide(eta_sum, count, out=np.zeros(Z), where=count > 0)
        v.alpha = np.divide(alpha_sum, count, out=np.zeros(Z), where=count > 0)

    def terminals(self, network, values):
        return [network] * len(values.bus), values.bus

    def labels(self, values):
        return [str(z) for z in values.zones]

    # --- model ------------------------------------------------------------------------------
    def formulate(self, b):
        v = b.values
        tau = b.variable("tau_mw", (len(v.zones), b.ctx.T))
        return [tau >= v.lo, tau <= v.hi, v.eta @ tau == 0]  # (4)-(6)

    def injection_mw(self, b):
        v, T = b.values, b.ctx.T
        rows, tau = v.zone_rows_here, b["tau_mw"]
        silent = np.array(
            [v.sets[m.set_index].baseline_mw[m.index] for m in v.silent_here]
        ).reshape(-1, T)
        scale = 1.0 if v.baselines else 0.0
        parts = [tau[rows] - scale * v.base[rows]] if rows else []
        if len(silent):
            parts.append(-scale * silent)
        if not parts:
            return np.zeros((0, T))
        return parts[0] if len(parts) == 1 else cp.vstack(parts)

    def cost_terms(self, b):
        alpha = b.values.alpha
        if not alpha.any():
            return {}
        return {"regulation": b.ctx.weighted_sum(alpha @ cp.abs(b["tau_mw"]))}  # (9)

    def results(self, b):
        v = b.values
        return {
            "regulation_down_mw": b.value("tau_mw"),
            "lower_mw": v.lo,
            "upper_mw": v.hi,
            "baseline_mw": v.base,
            "eta": np.repeat(v.eta[:, None], v.base.shape[1], axis=1),  # eq. 6's weights
            "alpha_per_mwh": np.repeat(v.alpha[:, None], v.base.shape[1], axis=1),  # eq. 9
        }

    def carrier_ports(self, b):
        """Eq. 21's two sides on regulation nodes (``regulation_ports``)."""
        v, tau, out = b.values, b["tau_mw"], []
        for key, node in v.regulation_ports.items():
            if key == "scope":  # taken from the node: the regulation of this scope's zones
                rows = list(range(len(v.zones) - 1))
                flow = -cp.reshape(v.eta[rows] @ tau[rows], (1, b.ctx.T), order="C")
            else:  # given to the node: the zone's regulation, carried out in another network
                z = v.zones.index(key)
                flow = cp.reshape(v.eta[z] * tau[z], (1, b.ctx.T), order="C")
            out.append(PortFlow(self.owner, f"regulation_ports[{key}]", (node,), flow, "both"))
        return out

    @staticmethod
    def zone_regulation(b, zone):
        """The regulation variable (T,) of ``zone`` (a bus of the scope, or ``OUTSIDE``) in the
        build ``b``."""
        return b["tau_mw"][b.values.zones.index(zone)]

    # --- disaggregation ---------------------------------------------------------------------
    def disaggregate(self, b):
        """Member regulations that realise the solved aggregate of build ``b`` (eqs. 1, 2, 7,
        8; ``b = model.build_of(vpp)``).

        Minimises, per period, the mismatch ``sum_z |tau^A_z - sum_{sm in z} tau_sm|`` first
        and the members' regulation cost second. Returns ``(list of (n_s, T) arrays, mismatch
        (T,) MW)``; a nonzero mismatch is where the aggregate promised what the sets cannot do.
        """
        v, dt_h = b.values, b.ctx.dt_h
        target = b.value("tau_mw")
        T = target.shape[1]
        taus = [cp.Variable((f.n, T)) for f in self.sets]
        cons, cost = [], 0
        for f, tau in zip(v.sets, taus, strict=True):
            cons += [tau >= -f.beta_up_mw, tau <= f.beta_down_mw, f.eta @ tau == 0]
            cost += dt_h * cp.sum(f.cost_per_mwh @ cp.abs(tau))
        gap = _zone_sums(v, taus) - target
        problem = cp.Problem(cp.Minimize(1e4 * cp.sum(cp.abs(gap)) + cost), cons)
        problem.solve(solver=cp.HIGHS)
        if problem.status != cp.OPTIMAL:
            raise SolveError(f"{self.owner}: disaggregation {problem.status}", problem.status)
        return [np.asarray(t.value) for t in taus], np.abs(np.asarray(gap.value)).sum(axis=0)


def _realised_here(zone, members):
    return all(m.realised_here for m in members if m.zone == zone)


def _zone_sums(v, taus):
    rows = []
    for zone in v.zones:
        parts = [taus[m.set_index][m.index] for m in v.members if m.zone == zone]
        rows.append(sum(parts[1:], parts[0]) if parts else np.zeros(taus[0].shape[1]))
    return cp.vstack(rows)
