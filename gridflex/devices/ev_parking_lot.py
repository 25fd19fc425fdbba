"""EV parking lot: a charging station aggregating the EVs parked in it (seed 003, eqs. 1-8, 11)."""

import cvxpy as cp
import numpy as np

from gridflex.conventions import CONSUMER
from gridflex.devices.base import Device
from gridflex.devices.blocks import storage_dynamics
from gridflex.errors import InputError
from gridflex.products import Offers
from gridflex.profiles import (
    as_column,
    check_fraction,
    check_nonnegative,
    unit_or_profile,
    unit_values,
)

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
    :func:`gridflex.ev_behaviour.simulate_parking_lot`); ``up`` the sum of the offered up
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

    Eq. 4 as printed books every product in the energy balance as if deployed. For up products
    that is conservative (the energy must be there) and kept (4'). For down products it credits
    the lot with energy it has not bought: the optimizer then "charges" by selling regulation
    down at the reserve price instead of buying energy (measured: 1.4 MWh gained for 1.4 of
    reserve cost instead of 14 of energy). Here down products are not credited; instead the
    lot keeps room to absorb them if called (4'').

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
        ``E^Sc``; default: energy arrived minus energy departed so far.
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

    def __init__(
        self, bus, ev_count, capacity_mwh, arrival_energy_mwh, departure_energy_mwh, *,
        contract_energy_mwh=None, charge_rate_mw=0.022, discharge_rate_mw=0.022,
        eta_charge=0.9, eta_discharge=0.9, contract_share=0.4, soc_min=0.3, soc_max=0.9,
        discharge_cost_per_mwh=0.0, offers=None, e_initial_mwh=0.0, exclusive_modes=True,
        name=None, unit_labels=None,
    ):  # fmt: skip
        super().__init__(bus, name=name, unit_labels=unit_labels)
        self.profiles_in = dict(
            ev_count=ev_count,
            capacity_mwh=capacity_mwh,
            arrival_energy_mwh=arrival_energy_mwh,
            departure_energy_mwh=departure_energy_mwh,
            contract_energy_mwh=contract_energy_mwh,
        )
        self.params = dict(
            charge_rate_mw=charge_rate_mw,
            discharge_rate_mw=discharge_rate_mw,
            eta_charge=eta_charge,
            eta_discharge=eta_discharge,
            contract_share=contract_share,
            soc_min=soc_min,
            soc_max=soc_max,
            discharge_cost_per_mwh=discharge_cost_per_mwh,
            e_initial_mwh=e_initial_mwh,
        )
        self.offers = Offers(offers)
        self.exclusive_modes = bool(exclusive_modes)

    @classmethod
    def from_profiles(cls, bus, profiles, **options):
        """Stations from :class:`~gridflex.ev_behaviour.StationProfile` objects (one per bus)."""
        profiles = list(profiles) if isinstance(profiles, list | tuple) else [profiles]
        arrays = {k: np.vstack([getattr(p, k) for p in profiles]) for k in PROFILE_PARAMETERS}
        return cls(bus, **arrays, **options)

    # --- checks ---------------------------------------------------------------------------
    def prepare(self, ctx):
        super().prepare(ctx)
        o, n = self.owner, self.n
        v = {k: unit_values(x, n, owner=o, param=k) for k, x in self.params.items()}
        for k in ("charge_rate_mw", "discharge_rate_mw", "discharge_cost_per_mwh"):
            check_nonnegative(v[k], owner=o, param=k)
        for k in ("eta_charge", "eta_discharge"):
            check_fraction(v[k], owner=o, param=k, allow_zero=False)
        for k in ("contract_share", "soc_min", "soc_max"):
            check_fraction(v[k], owner=o, param=k)
        if (v["soc_min"] > v["soc_max"]).any():
            raise InputError(f"{o}: soc_min must not exceed soc_max")
        self.v = v
        self.prof = self._profiles(ctx)
        self.offers.prepare(n, ctx.periods, o)

    def _profiles(self, ctx):
        o, n, raw = self.owner, self.n, dict(self.profiles_in)
        if raw["contract_energy_mwh"] is None:
            raw.pop("contract_energy_mwh")
        prof = {k: unit_or_profile(x, n, ctx.periods, owner=o, param=k) for k, x in raw.items()}
        for k, values in prof.items():
            check_nonnegative(values, owner=o, param=k)
        if "contract_energy_mwh" not in prof:
            net = np.cumsum(prof["arrival_energy_mwh"] - prof["departure_energy_mwh"], axis=1)
            prof["contract_energy_mwh"] = np.maximum(net, 0.0) + self.v["e_initial_mwh"][:, None]
        return prof

    # --- model ----------------------------------------------------------------------------
    def build(self, ctx):
        n, T, v, prof = self.n, ctx.T, self.v, self.prof
        self.p_ch = cp.Variable((n, T), nonneg=True, name=f"{self.name}_p_charge_mw")
        self.p_dis = cp.Variable((n, T), nonneg=True, name=f"{self.name}_p_discharge_mw")
        self.e = cp.Variable((n, T + 1), name=f"{self.name}_e_mwh")
        self.offers.build(self.name, n, T)
        out, into = self.p_dis + self.offers.up_mw(), self.p_ch + self.offers.down_mw()
        charged = cp.multiply(as_column(v["eta_charge"]), self.p_ch)
        absorbed = ctx.dt_h * cp.multiply(as_column(v["eta_charge"]), self.offers.down_mw())
        discharged = cp.multiply(as_column(1 / v["eta_discharge"]), out)
        exogenous = prof["arrival_energy_mwh"] - prof["departure_energy_mwh"]
        inflow = exogenous + ctx.dt_h * (charged - discharged)
        room = cp.multiply(as_column(v["soc_max"]), prof["capacity_mwh"])
        cons = [
            storage_dynamics(self.e, inflow),  # (4')
            self.e[:, 0] == v["e_initial_mwh"],
            self.e[:, 1:] >= cp.multiply(as_column(v["soc_min"]), prof["capacity_mwh"]),  # (8)
            self.e[:, 1:] + absorbed <= room,  # (8) and (4'')
            out <= cp.multiply(as_column(v["contract_share"]), prof["contract_energy_mwh"]),  # (5)
        ]
        return cons + self._mode_limits(out, into)

    def _mode_limits(self, out, into):
        """Eqs. 1-3: power per EV times the EVs parked, one mode per period."""
        dis_max = as_column(self.v["discharge_rate_mw"]) * self.prof["ev_count"]
        ch_max = as_column(self.v["charge_rate_mw"]) * self.prof["ev_count"]
        if not self.exclusive_modes:
            self.u_ch = None
            return [out <= dis_max, into <= ch_max]
        shape = self.p_ch.shape
        self.u_ch = cp.Variable(shape, boolean=True, name=f"{self.name}_g2v")
        self.u_dis = cp.Variable(shape, boolean=True, name=f"{self.name}_v2g")
        return [
            out <= cp.multiply(dis_max, self.u_dis),
            into <= cp.multiply(ch_max, self.u_ch),
            self.u_ch + self.u_dis <= 1,
        ]

    def injection_mw(self):
        return self.p_dis - self.p_ch

    def cost_terms(self, ctx):
        terms = self.offers.cost_terms(ctx)
        if self.v["discharge_cost_per_mwh"].any():
            terms["v2g_energy"] = ctx.weighted_sum(self.v["discharge_cost_per_mwh"] @ self.p_dis)
        return terms

    def results(self, ctx):
        e_end, cap = self.e.value[:, 1:], self.prof["capacity_mwh"]
        soc = np.divide(100.0 * e_end, cap, out=np.full(cap.shape, np.nan), where=cap > 0)
        out = {
            "p_mw": self.p_ch.value - self.p_dis.value,
            "p_charge_mw": self.p_ch.value,
            "p_discharge_mw": self.p_dis.value,
            "e_mwh": e_end,
            "soc_percent": soc,
            "ev_count": self.prof["ev_count"],
            "capacity_mwh": cap,
            "contract_energy_mwh": self.prof["contract_energy_mwh"],
        }
        return out | self.offers.results()
