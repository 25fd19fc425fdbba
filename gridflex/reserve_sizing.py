r"""Reserve requirements sized before the solve from forecast errors (seed 004, eqs. 7-11).

Pavic, Capuder, Kuzle size the secondary (0.5 h) and tertiary (4 h) reserve of a week from the
largest unit and the forecast errors of demand, wind, uncontrolled slow charging and
uncontrolled fast charging, independent errors adding as a root sum of squares:

.. math::

    R^{EV}_t = 3.5\,\sigma^{EV} P^{max,EV} \sum_{\tau=t-C^{UCL}+1}^{t} N^{arr}_{\tau}
    \qquad (7)

    R^{FCS}_t = 3.5\,\sigma^{FCS} k^{FCS} p^{f}_t,
    \qquad p^{f}_t = p^{perf} P^{f,max} (G^{EV} - N^{g}_t) \qquad (8),\ \text{FCS-(12)}

    R^{up}_t = P^{gmax} + \sqrt{(3\sigma^d P^d_t)^2 + (3.5\,\sigma^{0.5h,W} W_t)^2
    + (R^{0.5h,EV}_t)^2 + (R^{0.5h,FCS}_t)^2} \qquad (9)

    R^{dn}_t = R^{up}_t - P^{gmax} \qquad (10)

    Q^{up}_t = P^{gmax} + \sqrt{(3\sigma^d P^d_t)^2 + (3.5\,\sigma^{4h,W} W_t)^2
    + (R^{4h,EV}_t)^2 + (R^{4h,FCS}_t)^2} \qquad (11)

Reconstructions (``notes-004.md`` section 2.2): the window of (7) is printed with reversed
bounds (read: the EVs that plugged in during the last ``C^UCL`` hours, charging at rated
power); the bracket of (8) is the on-road count ``G^EV - N^g_t`` as in FCS-(12), ``/100``
turns the percentage into the share ``p^perf``, and the unexplained ``/3`` is ``k_fcs``
(default 1/3); the wind term of (9)-(11), printed per farm, is the system forecast ``W_t``.
Which terms enter is the caller's choice: the paper adds ``R^EV`` only for an uncontrolled
slow fleet (USC-YR) and ``R^FCS`` only for uncontrolled stations (UFC-YR).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridflex.errors import InputError
from gridflex.products import PRIMARY_DOWN, PRIMARY_UP, SECONDARY_DOWN, SECONDARY_UP, TERTIARY_UP


def _profile(value, name, T=None):
    """A finite, non-negative float array (T,) from a scalar or a sequence."""
    try:
        arr = np.asarray(value, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(f"reserve sizing: {name} must be numbers, got {value!r}") from None
    if T is not None and arr.size == 1:
        arr = np.full(T, arr[0])
    if T is not None and arr.size != T:
        raise InputError(f"reserve sizing: {name} has {arr.size} values for {T} periods")
    bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
    if bad.size:
        raise InputError(f"reserve sizing: {name} must be finite and >= 0, got {arr[bad[0]]} "
                         f"at position {bad[0]}")  # fmt: skip
    return arr


def _optional(value, name, T):
    return np.zeros(T) if value is None else _profile(value, name, T)


def uncontrolled_slow_charging_mw(arrivals, p_max_mw, hours_to_full, *, time=None,
                                  cyclic=True, dt_h=1.0):  # fmt: skip
    """Load of EVs charging at rated power from plug-in until full (eq. 7's double sum).

    Parameters
    ----------
    arrivals : array (T,)
        EVs plugging in per period ``N^arr``.
    p_max_mw : float
        Slow-charging power per EV ``P^max``.
    hours_to_full : float
        ``C^UCL``: hours an arriving EV charges (rounded up to whole periods).
    time : gridflex.timeaxis.TimeAxis, optional
        The model's time axis (``model.time``): the window stays inside each block, wrapping
        in a cyclic one (as often as it needs), starting empty in an open one.
    cyclic, dt_h : without ``time``: one block of ``dt_h``-hour periods that repeats (a
        typical week: the first periods count the last periods' arrivals) or not.
    """
    from gridflex.timeaxis import Block, TimeAxis

    n = _profile(arrivals, "arrivals")
    hours = float(hours_to_full)
    if time is None:
        time = TimeAxis([Block("horizon", n.size, cyclic=bool(cyclic))], dt_h=dt_h)
    if time.T != n.size:
        raise InputError(f"reserve sizing: {n.size} arrivals for {time.T} periods")
    if not (np.isfinite(hours) and hours > 0):
        raise InputError(f"reserve sizing: hours_to_full must be > 0, got {hours_to_full}")
    shifted, window = n.reshape(1, -1), n.copy()
    for _ in range(int(np.ceil(hours / time.dt_h - 1e-9)) - 1):  # the window, not the periods
        shifted = time.previous(shifted, initial=0.0)
        window += shifted[0]
    return float(p_max_mw) * window


def fast_charging_mw(on_road_evs, p_fast_max_mw, share_fast_charging):
    """Fast-charging load ``p^f_t = p^perf P^f,max (G^EV - N^g_t)`` (FCS-(12)), from the EVs on
    the road (``G^EV - N^g_t``) and the share of them fast charging at any moment."""
    share = float(share_fast_charging)
    if not 0.0 <= share <= 1.0:
        raise InputError(f"reserve sizing: share_fast_charging must be in [0, 1], got {share}")
    return share * float(p_fast_max_mw) * _profile(on_road_evs, "on_road_evs")


@dataclass(frozen=True)
class Sigmas:
    """Forecast-error standard deviations as shares of the forecast (notes-004 section 3.3,
    assumed: the paper gives none): demand; wind, slow-charging and fast-charging load over the
    0.5 h (secondary) and 4 h (tertiary) horizons."""

    demand: float = 0.01
    wind_05h: float = 0.025
    wind_4h: float = 0.08
    ev_05h: float = 0.10
    ev_4h: float = 0.20
    fcs_05h: float = 0.10
    fcs_4h: float = 0.20


@dataclass(frozen=True)
class ReserveSizing:
    """The requirements of eqs. (9)-(11) and the terms behind them, per period.

    ``table`` has one row per period and the columns ``demand_error_mw`` (3 sigma P^d),
    ``wind_error_05h_mw``, ``wind_error_4h_mw`` (3.5 sigma W), ``ev_05h_mw``, ``ev_4h_mw`` (7),
    ``fcs_05h_mw``, ``fcs_4h_mw`` (8), ``secondary_up_mw`` (9), ``secondary_down_mw`` (10),
    ``tertiary_up_mw`` (11).
    """

    table: pd.DataFrame
    largest_unit_mw: float

    def requirements(self, primary_mw=None):
        """``Requirement`` s for :data:`SECONDARY_UP`, :data:`SECONDARY_DOWN` and
        :data:`TERTIARY_UP`, and for :data:`PRIMARY_UP` / :data:`PRIMARY_DOWN` when
        ``primary_mw`` is given (the paper defines no primary requirement)."""
        from gridflex.requirements import Requirement

        t = self.table
        out = [Requirement(SECONDARY_UP, t["secondary_up_mw"].to_numpy()),
               Requirement(SECONDARY_DOWN, t["secondary_down_mw"].to_numpy()),
               Requirement(TERTIARY_UP, t["tertiary_up_mw"].to_numpy())]  # fmt: skip
        if primary_mw is not None:
            primary = _profile(primary_mw, "primary_mw", len(t))
            out += [Requirement(PRIMARY_UP, primary), Requirement(PRIMARY_DOWN, primary)]
        return out


def size_reserves(demand_mw, wind_mw, largest_unit_mw, *, sigmas=Sigmas(), ev_uncontrolled_mw=None,
                  fcs_uncontrolled_mw=None, k_fcs=1.0 / 3.0, periods=None):  # fmt: skip
    """Secondary and tertiary requirements per period (eqs. 7-11).

    Parameters
    ----------
    demand_mw, wind_mw : array (T,)
        Forecast demand ``P^d_t`` and wind ``W_t`` (the system's, summed over farms).
    largest_unit_mw : float or array (T,)
        ``P^gmax``: the largest unit that can trip.
    sigmas : Sigmas
        Forecast-error standard deviations (shares of each forecast).
    ev_uncontrolled_mw : array (T,), optional
        Uncontrolled slow-charging load (:func:`uncontrolled_slow_charging_mw`); None: no
        ``R^EV`` term (the paper's controlled fleets).
    fcs_uncontrolled_mw : array (T,), optional
        Uncontrolled fast-charging load (:func:`fast_charging_mw`); None: no ``R^FCS`` term.
    k_fcs : float
        The ``/3`` of eq. (8), unexplained by the paper.
    periods : index, optional
        Labels of the table's rows (default 0..T-1).
    """
    demand = _profile(demand_mw, "demand_mw")
    T = demand.size
    wind = _profile(wind_mw, "wind_mw", T)
    largest = _profile(largest_unit_mw, "largest_unit_mw", T)
    for name, value in vars(sigmas).items():
        if not (np.isfinite(value) and value >= 0):
            raise InputError(f"reserve sizing: sigma '{name}' must be >= 0, got {value}")
    if not (np.isfinite(k_fcs) and k_fcs >= 0):
        raise InputError(f"reserve sizing: k_fcs must be a number >= 0, got {k_fcs}")
    ev = _optional(ev_uncontrolled_mw, "ev_uncontrolled_mw", T)
    fcs = _optional(fcs_uncontrolled_mw, "fcs_uncontrolled_mw", T)
    terms = {
        "demand_error_mw": 3.0 * sigmas.demand * demand,
        "wind_error_05h_mw": 3.5 * sigmas.wind_05h * wind,
        "wind_error_4h_mw": 3.5 * sigmas.wind_4h * wind,
        "ev_05h_mw": 3.5 * sigmas.ev_05h * ev,  # (7)
        "ev_4h_mw": 3.5 * sigmas.ev_4h * ev,
        "fcs_05h_mw": 3.5 * sigmas.fcs_05h * float(k_fcs) * fcs,  # (8)
        "fcs_4h_mw": 3.5 * sigmas.fcs_4h * float(k_fcs) * fcs,
    }
    secondary = np.sqrt(terms["demand_error_mw"] ** 2 + terms["wind_error_05h_mw"] ** 2
                        + terms["ev_05h_mw"] ** 2 + terms["fcs_05h_mw"] ** 2)  # fmt: skip
    tertiary = np.sqrt(terms["demand_error_mw"] ** 2 + terms["wind_error_4h_mw"] ** 2
                       + terms["ev_4h_mw"] ** 2 + terms["fcs_4h_mw"] ** 2)  # fmt: skip
    terms |= {"secondary_up_mw": largest + secondary, "secondary_down_mw": secondary,
              "tertiary_up_mw": largest + tertiary}  # (9), (10), (11)  # fmt: skip
    index = pd.RangeIndex(T, name="period") if periods is None else pd.Index(periods)
    if len(index) != T:
        raise InputError(f"reserve sizing: {len(index)} period labels for {T} periods")
    return ReserveSizing(pd.DataFrame(terms, index=index), float(largest.max()))
