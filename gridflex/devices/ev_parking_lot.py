"""EV parking lot: a charging station aggregating the EVs parked in it (seed 003, eqs. 1-8, 11)."""

import cvxpy as cp
import numpy as np

from gridflex.conventions import CONSUMER
from gridflex.devices.base import Device, Role, declared, parameter_times
from gridflex.devices.blocks import storage_dynamics
from gridflex.errors import InputError
from gridflex.parameters import Choice, Flag, Number, Shape
from gridflex.products import (
    Offers,
    build_offers,
    down_mw,
    energy_headroom,
    offer_cost_terms,
    offer_results,
    up_mw,
)
from gridflex.profiles import as_column

PROFILE_PARAMETERS = (
    "ev_count",
    "capacity_mwh",
    "arrival_energy_mwh",
    "departure_energy_mwh",
    "contract_energy_mwh",
)


class EVParkingLot(Device):
    """EV charging stations as aggregators of parked EVs, with V2G, reserves and flexible ramp.

    For station ``i`` and period ``t`` (length ``dt``), with ``N`` EVs parked, their battery
    capacity ``Cap``, the energy of arriving and departing EVs ``E^arv``, ``E^dep`` and the
    energy the parked EVs arrived with ``E^Sc`` (all parameters, e.g. from
    :func:`gridflex.devices.ev_behaviour.simulate_parking_lot`); ``up`` the sum of the offered up
    products (spinning, non-spinning, regulation up, replacement, flexible ramp up) and ``dn``
    of the down products (regulation down, flexible ramp down):

    .. math::

        p^{dis}_{i,t} + up_{i,t} \\le \\gamma^{dis} N_{i,t} u^{dis}_{i,t}            && (1)

        p^{ch}_{i,t} + dn_{i,t} \\le \\gamma^{ch} N_{i,t} u^{ch}_{i,t}              && (2)

        u^{dis}_{i,t} + u^{ch}_{i,t} \\le 1                                        && (3)

        e_{i,t} = e_{i,t-1} + E^{arv}_{i,t} - E^{dep}_{i,t}
            + dt\\,[\\eta^{ch} p^{ch} - (p^{dis} + up) / \\eta^{dis}]_{i,t}       && (4')

        e_{i,t} + dt\\,\\eta^{ch} dn_{i,t} \\le SOC^{max} Cap_{i,t}                 && (4'')

        p^{dis}_{i,t} + up_{i,t} \\le \\psi\\, E^{Sc}_{i,t}                          && (5)

        SOC^{min} Cap_{i,t} \\le e_{i,t} \\le SOC^{max} Cap_{i,t}                    && (8)

    Cost (eq. 11): ``sum dt * (c^dis p^dis + offered cost * product)``.

    Held products are capacity, not energy spent (``reserve_energy="headroom"``, the default):
    eq. (4) books only the energy that flows,

    .. math::

        e_{i,t} = e_{i,t-1} + E^{arv}_{i,t} - E^{dep}_{i,t}
            + dt\\,[\\eta^{ch} p^{ch} - p^{dis} / \\eta^{dis}]_{i,t}             && (4)

    and the parked EVs keep the energy to sustain the up products they hold, and the room to
    absorb the down products, for each product's duration (one period by default;
    :func:`gridflex.products.energy_headroom`). Every MWh that enters or leaves a station is in
    the network balance, in the arriving and departing EVs or in the losses; ``res_ev_parking_lot``
    reports each term, so the balance closes from the table. ``reserve_energy="paper"`` keeps
    eq. 4 as printed, which debits held up products as if deployed (4') and keeps room for the
    down ones (4''): that energy leaves the station without entering the network (measured on
    seed 003: 1,579 MWh debited for 206 MWh of V2G), so it is an option, reported as
    ``reserve_debit_mwh``.

    Units differ from the paper where it mixes them: eq. 4 adds power (MW) to energy; here
    power times ``dt`` is energy (MWh). Eq. 5 bounds power by ``psi`` times an energy; it is
    kept literally (MW <= psi x MWh, i.e. per hour). Eqs. 6-7 (single-EV SOC limits) are the
    aggregate bound (8). ``u`` are binaries with ``exclusive_modes=True`` (default).

    Parameters
    ----------
    bus : int or array_like
    ev_count, capacity_mwh, arrival_energy_mwh, departure_energy_mwh : profile (n, T)
        ``N``, ``Cap``, ``E^arv``, ``E^dep`` per period.
    contract_energy_mwh : profile (n, T), optional
        ``E^Sc``; default: the energy parked before the block (``e_initial_mwh``) plus the
        energy arrived minus the energy departed so far, at least 0.
    charge_rate_mw, discharge_rate_mw : float or array (n,)
        ``gamma``: power per EV (Table 1: 22 kW = 0.022 MW).
    eta_charge, eta_discharge : float or array (n,)
        Table 1: 0.9.
    contract_share : float or array (n,)
        ``psi`` in [0, 1] (Table 1: 0.4).
    soc_min, soc_max : float or array (n,)
        Bounds of the aggregate SOC in [0, 1] (Table 1: 0.3, 0.9).
    discharge_cost_per_mwh : float or array (n,)
        ``lambda^{PL_Eng}``: offered cost of V2G energy.
    offers : dict, optional
        Products offered: product -> offered cost per MW and hour.
    e_initial_mwh : float or array (n,)
        Energy of the EVs parked before the first period (default 0).
    exclusive_modes : bool
        Binaries for eq. 3 (default True); False gives the LP relaxation.
    """

    sign = CONSUMER
    result_table = "res_ev_parking_lot"

    ev_count = Number("EVs", Shape.PROFILE, low=0, resolvable=True, doc="N: EVs parked")
    capacity_mwh = Number(
        "MWh", Shape.PROFILE, low=0, resolvable=True, doc="Cap: battery capacity of those EVs"
    )
    arrival_energy_mwh = Number(
        "MWh", Shape.PROFILE, low=0, resolvable=True, doc="E^arv: energy arriving"
    )
    departure_energy_mwh = Number(
        "MWh", Shape.PROFILE, low=0, resolvable=True, doc="E^dep: energy departing"
    )
    contract_energy_mwh = Number(
        "MWh",
        Shape.PROFILE,
        low=0,
        optional=True,
        resolvable=True,
        doc="E^Sc (None: arrived minus departed)",
    )
    charge_rate_mw = Number("MW", low=0, doc="gamma^ch: power per EV")
    discharge_rate_mw = Number("MW", low=0, doc="gamma^dis: power per EV")
    eta_charge = Number("1", low=0, high=1, low_open=True, doc="charging efficiency")
    eta_discharge = Number("1", low=0, high=1, low_open=True, doc="discharging efficiency")
    contract_share = Number("1", low=0, high=1, doc="psi: share of E^Sc available to V2G")
    soc_min = Number("1", low=0, high=1, doc="lowest aggregate SOC")
    soc_max = Number("1", low=0, high=1, doc="highest aggregate SOC")
    discharge_cost_per_mwh = Number("$/MWh", low=0, doc="offered cost of V2G energy")
    offers = Offers()
    e_initial_mwh = Number(
        "MWh", low=0, resolvable=True, doc="energy of the EVs parked before the first period"
    )
    exclusive_modes = Flag(doc="binaries for eq. 3 (False: LP relaxation)")
    reserve_energy = Choice(
        ("headroom", "paper"), doc="held products: headroom or eq. 4 as printed"
    )

    def __init__(
        self, bus, ev_count, capacity_mwh, arrival_energy_mwh, departure_energy_mwh, *,
        contract_energy_mwh=None, charge_rate_mw=0.022, discharge_rate_mw=0.022,
        eta_charge=0.9, eta_discharge=0.9, contract_share=0.4, soc_min=0.3, soc_max=0.9,
        discharge_cost_per_mwh=0.0, offers=None, e_initial_mwh=0.0, exclusive_modes=True,
        reserve_energy="headroom", name=None, unit_labels=None,
    ):  # fmt: skip
        super().__init__(**declared(locals()))

    @classmethod
    def from_profiles(cls, bus, profiles, **options):
        """Stations from :class:`~gridflex.devices.ev_behaviour.StationProfile` objects (one
        per bus)."""
        profiles = list(profiles) if isinstance(profiles, list | tuple) else [profiles]
        arrays = {k: np.vstack([getattr(p, k) for p in profiles]) for k in PROFILE_PARAMETERS}
        return cls(bus, **arrays, **options)

    # --- checks ---------------------------------------------------------------------------
    def derive(self, v, ctx):
        if (v.soc_min > v.soc_max).any():
            raise InputError(f"{self.owner}: soc_min must not exceed soc_max")
        v.offers = v.offers or {}
        if v.contract_energy_mwh is None:  # arrived minus departed so far in the block
            net = ctx.time.cumsum(v.arrival_energy_mwh - v.departure_energy_mwh)
            # the EVs parked before the block arrived before it: once they leave, their energy
            # is departed too (clipping before adding it kept it in E^Sc for ever)
            v.contract_energy_mwh = np.maximum(net + v.e_initial_mwh[:, None], 0.0)

    # --- model ----------------------------------------------------------------------------
    def formulate(self, b):
        n, T, v, dt = self.n, b.ctx.T, b.values, b.ctx.dt_h
        p_ch = b.variable("p_charge_mw", (n, T), nonneg=True)
        p_dis = b.variable("p_discharge_mw", (n, T), nonneg=True)
        e = b.variable("e_mwh", (n, T))  # at the end of each period
        build_offers(b, v.offers)
        out, into = p_dis + up_mw(b), p_ch + down_mw(b)
        spent = out if v.reserve_energy == "paper" else p_dis  # (4) as printed: held = spent
        charged = cp.multiply(as_column(v.eta_charge), p_ch)
        discharged = cp.multiply(as_column(1 / v.eta_discharge), spent)
        # the fleet's profiles enter as Parameters (re-solvable: another EV scale, a new draw)
        exogenous = b.parameter(
            "exogenous_mwh", lambda w: w.arrival_energy_mwh - w.departure_energy_mwh
        )
        inflow = exogenous + dt * (charged - discharged)
        low = b.parameter("e_min_mwh", lambda w: as_column(w.soc_min) * w.capacity_mwh)
        room = b.parameter("e_max_mwh", lambda w: as_column(w.soc_max) * w.capacity_mwh)
        v2g_energy = b.parameter(
            "v2g_energy_mwh", lambda w: as_column(w.contract_share) * w.contract_energy_mwh
        )
        initial = b.param("e_initial_mwh") if b.ctx.time.open_first.size else None
        cons = storage_dynamics(b.ctx.time, e, inflow, initial=initial)  # (4)
        cons += [e >= low, e <= room, out <= v2g_energy]  # (8), (8), (5)
        cons += self._reserve_energy(b, e, low, room)
        return cons + self._mode_limits(b, out, into)

    def _reserve_energy(self, b, e, low, room):
        """Energy for the held products: headroom for their durations, or (``"paper"``) the
        up products already debited in (4') and room to absorb the down ones (4'')."""
        v, col = b.values, as_column
        if v.reserve_energy == "headroom":
            return energy_headroom(b, e, low, room, col(v.eta_charge), col(v.eta_discharge))
        down = down_mw(b)
        if isinstance(down, float):
            return []
        return [e + b.ctx.dt_h * cp.multiply(col(v.eta_charge), down) <= room]  # (4'')

    def _mode_limits(self, b, out, into):
        """Eqs. 1-3: power per EV times the EVs parked, one mode per period."""
        v = b.values
        dis_max = b.parameter("v2g_max_mw", lambda w: as_column(w.discharge_rate_mw) * w.ev_count)
        ch_max = b.parameter("g2v_max_mw", lambda w: as_column(w.charge_rate_mw) * w.ev_count)
        if not v.exclusive_modes:
            return [out <= dis_max, into <= ch_max]
        shape = (self.n, b.ctx.T)
        u_ch = b.variable("g2v", shape, Role.COMMITMENT, boolean=True)
        u_dis = b.variable("v2g", shape, Role.COMMITMENT, boolean=True)
        return [
            out <= parameter_times(dis_max, u_dis),
            into <= parameter_times(ch_max, u_ch),
            u_ch + u_dis <= 1,
        ]

    def injection_mw(self, b):
        return b["p_discharge_mw"] - b["p_charge_mw"]

    def cost_terms(self, b):
        v = b.values
        terms = offer_cost_terms(b, v.offers)
        if v.discharge_cost_per_mwh.any():
            terms["v2g_energy"] = b.ctx.weighted_sum(v.discharge_cost_per_mwh @ b["p_discharge_mw"])
        return terms

    def results(self, b):
        """Power, energy and every term of the energy balance per period, so that
        ``e_t - e_{t-1} = arrival - departure + dt (p_ch - p_dis) - losses - reserve_debit``
        closes from the table (``reserve_debit`` is zero unless ``reserve_energy="paper"``)."""
        v, dt = b.values, b.ctx.dt_h
        e_end, cap = b.value("e_mwh"), v.capacity_mwh
        soc = np.divide(100.0 * e_end, cap, out=np.full(cap.shape, np.nan), where=cap > 0)
        p_ch, p_dis = b.value("p_charge_mw"), b.value("p_discharge_mw")
        eta_ch, eta_dis = v.eta_charge[:, None], v.eta_discharge[:, None]
        up = np.asarray(getattr(up_mw(b), "value", up_mw(b)), dtype=float) * np.ones_like(p_ch)
        debit = dt * up / eta_dis if v.reserve_energy == "paper" else np.zeros_like(p_ch)
        out = {
            "p_mw": p_ch - p_dis,
            "p_charge_mw": p_ch,
            "p_discharge_mw": p_dis,
            "e_mwh": e_end,
            "soc_percent": soc,
            "ev_count": v.ev_count,
            "capacity_mwh": cap,
            "contract_energy_mwh": v.contract_energy_mwh,
            "arrival_energy_mwh": v.arrival_energy_mwh,
            "departure_energy_mwh": v.departure_energy_mwh,
            "losses_mwh": dt * ((1 - eta_ch) * p_ch + (1 / eta_dis - 1) * p_dis),
            "reserve_debit_mwh": debit,
        }
        return out | offer_results(b)
