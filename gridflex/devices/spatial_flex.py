"""Spatially coupled load flexibility: data centers and fast charging stations (seed 000, eqs. 1-3).

A *set* of loads (the data centers of one company, the fast charging stations that the drivers
of one origin-destination pair choose from) can move consumption between its members:
re-dispatching workload, or guiding drivers. Per member ``m`` and period ``t``, with the
regulation ``tau`` positive when the member's load goes *down*:

.. math::

    -\\beta^U_{m,t} \\le \\tau_{m,t} \\le \\beta^D_{m,t}                  \\qquad (1)

    \\sum_m \\eta_m \\tau_{m,t} = 0                                     \\qquad (2)

    C = \\sum_{m,t} dt\\, \\alpha\\, |\\tau_{m,t}|                          \\qquad (3)

    p_{m,t} = P^{base}_{m,t} - \\tau_{m,t}

The weights ``eta`` say how much the *service* (workload, charging demand) one MW of load stands
for: moving one unit of service from member m to u lowers m's load by ``k_m`` and raises u's by
``k_u`` (``k``: MW per unit of service), so ``sum_m tau_m / k_m = 0``, i.e. ``eta_m = k_ref / k_m``
(normalised to 1 for the first member). The constructors :meth:`DataCenter.from_workload` and
:meth:`FastChargingStation.from_traffic` compute ``beta`` and ``eta`` from physical inputs.
"""

import cvxpy as cp
import numpy as np

from gridflex.conventions import CONSUMER
from gridflex.devices.base import Device, declared
from gridflex.errors import InputError
from gridflex.parameters import Custom, Number, Shape


def _screen_networks(value, owner, param):
    if not isinstance(value, list | tuple) or not all(isinstance(x, str) and x for x in value):
        raise param.error(owner, "must be a list of network names, one per member", value)
    return tuple(value)


class SpatialFlexSet(Device):
    """One set of spatially coupled loads (at least two members); see the module docstring.

    Parameters
    ----------
    bus : array_like of int
        pandapower bus index of each member (>= 2 members).
    baseline_mw : float, array (n,) or profile (n, T)
        Load before regulation.
    beta_down_mw, beta_up_mw : float, array (n,) or profile (n, T)
        Largest downward and upward regulation (>= 0).
    eta : array (n,)
        Weights of the coupling (> 0).
    cost_per_mwh : float or array (n,)
        ``alpha``: cost of regulation per MW and hour (either direction).
    networks : sequence of str, optional
        Network of each member in a several-network model (default: the device's network).
    """

    sign = CONSUMER
    result_table = "res_spatial_flex"
    kind = "spatially coupled load"

    baseline_mw = Number("MW", Shape.PROFILE, low=0, doc="load before regulation")
    beta_down_mw = Number("MW", Shape.PROFILE, low=0, doc="largest downward regulation")
    beta_up_mw = Number("MW", Shape.PROFILE, low=0, doc="largest upward regulation")
    eta = Number("1", low=0, low_open=True, doc="weights of the coupling (eq. 2)")
    cost_per_mwh = Number("$/MWh", low=0, doc="alpha: regulation cost (either direction)")
    networks = Custom("network names", _screen_networks, optional=True, doc="network per member")

    def __init__(
        self, bus, baseline_mw, beta_down_mw, beta_up_mw, eta=1.0, *, cost_per_mwh=0.0,
        networks=None, name=None, unit_labels=None,
    ):  # fmt: skip
        super().__init__(**declared(locals()))
        self._check_members()

    def _check_members(self):
        if self.n < 2:
            raise InputError(
                f"{self.owner}: a set of {self.kind}s needs at least two members to move load "
                f"between, got {self.n} (bus {self.bus.tolist()})"
            )
        if self.networks is not None and len(self.networks) != self.n:
            raise InputError(f"{self.owner}: {len(self.networks)} networks for {self.n} members")

    def member_networks(self, network):
        """Network of each member: ``networks`` if given, else where the set was added."""
        return list(self.networks) if self.networks is not None else [network] * self.n

    def terminals(self, network, values):
        return self.member_networks(network), np.asarray(self.bus)

    def networks_touched(self, network):
        return self.member_networks(network)

    def derive(self, v, ctx):
        self._check_members()

    def formulate(self, b):
        v = b.values
        tau = b.variable("tau_mw", (self.n, b.ctx.T))
        return [tau >= -v.beta_up_mw, tau <= v.beta_down_mw, v.eta @ tau == 0]  # (1), (2)

    def injection_mw(self, b):
        return b["tau_mw"] - b.values.baseline_mw

    def cost_terms(self, b):
        alpha = b.values.cost_per_mwh
        if not alpha.any():
            return {}
        return {"regulation": b.ctx.weighted_sum(alpha @ cp.abs(b["tau_mw"]))}  # (3)

    def results(self, b):
        v = b.values
        tau, base = b.value("tau_mw"), v.baseline_mw
        shape = tau.shape
        return {
            "p_mw": base - tau,
            "baseline_mw": np.broadcast_to(base, shape),
            "regulation_down_mw": tau,
            "beta_down_mw": np.broadcast_to(v.beta_down_mw, shape),  # eq. 1's bounds
            "beta_up_mw": np.broadcast_to(v.beta_up_mw, shape),
            "eta": np.broadcast_to(np.reshape(v.eta, (-1, 1)), shape),  # eq. 2's weights
        }


class DataCenter(SpatialFlexSet):
    """A set of data centers sharing workload (seed 000; the spatial part).

    :meth:`from_workload` derives the bounds and weights from the workload each data center
    serves, its power per unit of workload and its service capacity.
    """

    result_table = "res_data_center"
    kind = "data center"

    @classmethod
    def from_workload(
        cls, bus, workload, mw_per_workload, capacity, *, idle_mw=0.0, cost_per_mwh=0.0, **options
    ):
        """Data centers from physical inputs.

        A data center serving ``w`` units of workload (requests per second, or servers busy)
        draws ``idle + k w`` MW; it can hand all of its workload to the others (down to idle)
        or take up to ``capacity - w`` more. Moving workload keeps the total served, so
        ``sum_m tau_m / k_m = 0``:

        ``baseline = idle + k w``, ``beta_down = k w``, ``beta_up = k (capacity - w)``,
        ``eta = mean(k) / k``. ``workload`` and ``capacity`` may be profiles (n, T); ``k`` is
        one value per member.
        """
        n = len(np.atleast_1d(bus))
        k = _per_member(mw_per_workload, n, "DataCenter", "mw_per_workload")
        w, cap = (_column(x) for x in (workload, capacity))
        if np.any(cap < w) or np.any(k <= 0):
            raise InputError(
                f"DataCenter {options.get('name') or ''}: needs capacity >= workload and "
                "mw_per_workload > 0 for every member"
            )
        kc = k[:, None]
        return cls(bus, idle_mw + kc * w, kc * w, kc * (cap - w), k.mean() / k,
                   cost_per_mwh=cost_per_mwh, **options)  # fmt: skip


class FastChargingStation(SpatialFlexSet):
    """A set of fast charging stations whose drivers can be guided between them (seed 000).

    The spatial part only; the station battery and reserve modes (seed 004) belong to a
    separate device that can share the same buses. :meth:`from_traffic` derives the bounds and
    weights from traffic flows and station capacities.
    """

    result_table = "res_fcs"
    kind = "fast charging station"

    @classmethod
    def from_traffic(
        cls, bus, vehicles_per_h, mwh_per_vehicle, capacity_vehicles_per_h, *,
        flexible_share=1.0, cost_per_mwh=0.0, **options,
    ):  # fmt: skip
        """Stations from traffic flows.

        ``f`` vehicles per hour charging ``e`` MWh each give a load ``e f``; a share ``s`` of
        them can be guided to another station of the set, and a station takes at most ``c``
        vehicles per hour. Vehicles are conserved, so ``sum_m tau_m / e_m = 0``:

        ``baseline = e f``, ``beta_down = s e f``, ``beta_up = e (c - f)``,
        ``eta = mean(e) / e``. Flows and capacities may be profiles (n, T); ``e`` is one value
        per member.
        """
        n = len(np.atleast_1d(bus))
        e = _per_member(mwh_per_vehicle, n, "FastChargingStation", "mwh_per_vehicle")
        f, c = (_column(x) for x in (vehicles_per_h, capacity_vehicles_per_h))
        if np.any(c < f) or np.any(e <= 0) or not 0 <= flexible_share <= 1:
            raise InputError(
                f"FastChargingStation {options.get('name') or ''}: needs capacity >= flow, "
                "mwh_per_vehicle > 0 and flexible_share in [0, 1]"
            )
        ec = e[:, None]
        return cls(bus, ec * f, flexible_share * ec * f, ec * (c - f), e.mean() / e,
                   cost_per_mwh=cost_per_mwh, **options)  # fmt: skip


def _per_member(value, n, kind, param):
    """One value per member as an array (n,)."""
    arr = np.broadcast_to(np.asarray(value, dtype=float), (n,)) if np.ndim(value) == 0 else None
    arr = np.asarray(value, dtype=float) if arr is None else arr
    if arr.shape != (n,):
        raise InputError(
            f"{kind}: '{param}' needs one value per member ({n}), got {np.shape(value)}"
        )
    return np.array(arr)


def _column(value):
    """Per-member values (n,) as a column (n, 1); profiles (n, T) and scalars unchanged."""
    arr = np.asarray(value, dtype=float)
    return arr[:, None] if arr.ndim == 1 else arr
