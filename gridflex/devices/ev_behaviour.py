"""EV behaviour at a parking lot: who is parked when, with how much energy (seed 003, Sec. III-A).

:func:`simulate_parking_lot` draws one EV per parking space (so the space limit holds by
construction) with

* arrival time, departure time and arrival SOC from truncated Gaussian distributions (the
  paper's choice, after its refs. 14, 18, 26, which we do not have);
* a battery capacity from discrete classes with given probabilities (the paper's "24 battery
  classes" of ref. 18);
* a departure energy target as a share of the arrival energy (what the owner wants back),
  moved within what the stay allows at the charging rate,

and aggregates them per period into the inputs of :class:`gridflex.devices.EVParkingLot`:
number of EVs parked ``N(t)``, their battery capacity ``Cap(t)``, the energy arriving
``SOE^arv(t)`` and departing ``SOE^dep(t)`` (eq. 4) and the energy the parked EVs arrived with
(the base of the V2G contract, eq. 5). Everything is vectorized over EVs: two lots of 135,000
spaces take well under a second.

Timing convention (periods of length ``dt_h`` from ``start_hour``): an EV arriving at clock time
``a`` is counted from the first period that starts at or after ``a``; one leaving at ``d``
is counted until the last period that ends at or before ``d``; its arrival energy enters in its
first period, its departure energy leaves in the period after its last (see eq. 4). EVs whose
stay covers no whole period are not parked (``StationProfile.n_too_short`` counts them).
"""

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import truncnorm

from gridflex.errors import InputError


@dataclass(frozen=True)
class TruncatedGaussian:
    """A Gaussian with ``mean`` and standard deviation ``sd`` cut to ``[low, high]``."""

    mean: float
    sd: float
    low: float
    high: float

    def sample(self, rng, size, low=None):
        """``size`` draws; ``low`` (array) raises the lower bound per draw."""
        low = np.maximum(self.low, low) if low is not None else np.full(size, self.low)
        a, b = (low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        return truncnorm.rvs(a, b, loc=self.mean, scale=self.sd, size=size, random_state=rng)

    def check(self, owner):
        if not (self.sd > 0 and self.low < self.high):
            raise InputError(f"{owner}: needs sd > 0 and low < high, got {self}")


def _default_classes():
    """24 battery classes, 20-112 kWh in 4 kWh steps, weights of a Gaussian around 55 kWh.

    Assumed (the paper's ref. 18 is not available): the span covers small city cars to large
    SUVs and vans; the weights peak at the mid-size batteries most common in today's fleets.
    """
    kwh = np.arange(20.0, 113.0, 4.0)
    weights = np.exp(-0.5 * ((kwh - 55.0) / 20.0) ** 2)
    return kwh, weights / weights.sum()


@dataclass(frozen=True)
class EVBehaviour:
    """Distributions of EV behaviour (clock times in hours, SOC as a fraction). All assumed.

    The paper gives none of these numbers (they come from its refs. 14, 18, 26); the defaults:

    * an evening window 17:00-21:00 (the paper gives no clock time; the evening peak is where
      a tight power balance is plausible);
    * arrivals 17:18-19:30 (mean 18:00, sd 0.5 h) and departures 19:00-20:42 (mean 20:00,
      sd 0.5 h): with 15-minute periods from 17:00 no EV is parked in periods 1-2 and 15-16,
      which is what the paper's Fig. 5 reports (zero cost saving there "as there are no EVs");
    * arrival SOC 0.3-0.9 (mean 0.6, sd 0.15): never below the lot's SOC_min of 0.3 (Table 1);
    * departure energy 0.6-1.0 times the arrival energy (mean 0.8, sd 0.1): Table 1's contract
      lets the station use psi = 40 % of the EVs' energy for V2G ("net electrical discharging
      percentage due to contract of EV owners for desired SOC"), so owners leave with at least
      60 % of what they brought, on average 80 % (assumed). The fleet is then a net source of
      energy over the window, the paper's premise (a fleet that must leave fuller is an extra
      load in the peak); moved within what the parked stay allows at the charging rate;
    * 24 battery classes of 20-112 kWh (see ``_default_classes``).
    """

    arrival_hour: TruncatedGaussian = TruncatedGaussian(18.0, 0.5, 17.3, 19.5)
    departure_hour: TruncatedGaussian = TruncatedGaussian(20.0, 0.5, 19.0, 20.7)
    arrival_soc: TruncatedGaussian = TruncatedGaussian(0.6, 0.15, 0.3, 0.9)
    departure_share: TruncatedGaussian = TruncatedGaussian(0.8, 0.1, 0.6, 1.0)
    battery_kwh: np.ndarray = field(default_factory=lambda: _default_classes()[0])
    battery_probability: np.ndarray = field(default_factory=lambda: _default_classes()[1])

    def check(self):
        for name in ("arrival_hour", "departure_hour", "arrival_soc", "departure_share"):
            getattr(self, name).check(f"EVBehaviour.{name}")
        for name in ("arrival_soc", "departure_share"):
            dist = getattr(self, name)
            if dist.low < 0 or dist.high > 1:
                raise InputError(f"EVBehaviour.{name}: bounds must lie in [0, 1], got {dist}")
        if max(self.arrival_hour.low, self.arrival_hour.high) >= self.departure_hour.high:
            raise InputError(
                "EVBehaviour: every arrival must come before the latest departure "
                f"(arrival_hour {self.arrival_hour.low}-{self.arrival_hour.high}, "
                f"departure_hour.high {self.departure_hour.high})"
            )
        p = np.asarray(self.battery_probability, dtype=float)
        if p.shape != np.shape(self.battery_kwh) or (p < 0).any() or not np.isclose(p.sum(), 1):
            raise InputError(
                "EVBehaviour: battery_probability must be >= 0, sum to 1, one per class"
            )


@dataclass
class StationProfile:
    """Per-period aggregates of one parking lot, arrays of shape (T,)."""

    ev_count: np.ndarray
    capacity_mwh: np.ndarray
    arrival_energy_mwh: np.ndarray
    departure_energy_mwh: np.ndarray
    contract_energy_mwh: np.ndarray
    n_evs: int
    n_too_short: int

    def scaled(self, factor):
        """The same lot with ``factor`` times as many EVs (the paper's EV-scale sweep)."""
        arrays = {
            k: getattr(self, k) * factor
            for k in (
                "ev_count",
                "capacity_mwh",
                "arrival_energy_mwh",
                "departure_energy_mwh",
                "contract_energy_mwh",
            )
        }
        return StationProfile(
            **arrays, n_evs=round(self.n_evs * factor), n_too_short=self.n_too_short
        )


def simulate_parking_lot(
    spaces, n_periods, *, dt_h=0.25, start_hour=17.0, behaviour=None, charge_rate_mw=0.022,
    eta_charge=0.9, seed=0
):  # fmt: skip
    """Draw one EV per space and aggregate per period (see the module docstring).

    Parameters
    ----------
    spaces : int
        Parking spaces (= EVs drawn).
    n_periods : int
    dt_h : float
        Period length, hours.
    start_hour : float
        Clock time of the first period's start.
    behaviour : EVBehaviour, optional
    charge_rate_mw : float
        Charging power per EV, used to cap the departure SOC at what a stay allows.
    eta_charge : float
    seed : int or numpy.random.Generator
    """
    behaviour = behaviour or EVBehaviour()
    behaviour.check()
    if int(spaces) < 0 or int(n_periods) < 1 or dt_h <= 0:
        raise InputError("simulate_parking_lot: needs spaces >= 0, n_periods >= 1, dt_h > 0")
    rng = np.random.default_rng(seed)
    evs = _draw_evs(rng, int(spaces), behaviour)
    return _aggregate(evs, int(n_periods), dt_h, start_hour, (charge_rate_mw, eta_charge))


def _draw_evs(rng, n, behaviour):
    arrive = behaviour.arrival_hour.sample(rng, n)
    leave = behaviour.departure_hour.sample(rng, n, low=arrive + 1e-6)
    kwh = rng.choice(behaviour.battery_kwh, size=n, p=behaviour.battery_probability)
    capacity = kwh / 1000.0
    soc_arrive = behaviour.arrival_soc.sample(rng, n)
    e_arrive = soc_arrive * capacity
    e_target = behaviour.departure_share.sample(rng, n) * e_arrive
    return dict(arrive=arrive, leave=leave, capacity=capacity, e_arrive=e_arrive,
                e_target=e_target)  # fmt: skip


def _departure_energy(evs, stay_h, rate_mw, eta_charge):
    """The target, within what the parked stay allows at ``rate_mw`` (charging or V2G)."""
    most = evs["e_arrive"] + eta_charge * rate_mw * stay_h
    least = evs["e_arrive"] - rate_mw * stay_h / eta_charge
    return np.clip(evs["e_target"], least, np.minimum(most, evs["capacity"]))


def _aggregate(evs, T, dt_h, start_hour, charging):
    first = np.ceil((evs["arrive"] - start_hour) / dt_h - 1e-9).astype(int)
    end = np.floor((evs["leave"] - start_hour) / dt_h + 1e-9).astype(int)  # first period gone
    first, end = np.clip(first, 0, T), np.clip(end, 0, T)
    parked = end > first
    e_leave = _departure_energy(evs, (end - first) * dt_h, *charging)

    def per_period(index, weights):
        return np.bincount(index[parked], weights=weights[parked], minlength=T + 1)[:T]

    def present(weights):
        total = np.cumsum(per_period(first, weights) - per_period(end, weights))
        return np.where(total > 1e-9 * max(1.0, weights.max(initial=0.0)), total, 0.0)

    ones = np.ones(len(first))
    return StationProfile(
        ev_count=present(ones),
        capacity_mwh=present(evs["capacity"]),
        arrival_energy_mwh=per_period(first, evs["e_arrive"]),
        departure_energy_mwh=per_period(end, e_leave),
        contract_energy_mwh=present(evs["e_arrive"]),
        n_evs=int(parked.sum()),
        n_too_short=int((~parked).sum()),
    )
