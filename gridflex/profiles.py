"""Input normalisation: parameters and profiles to checked NumPy arrays.

Every declared device parameter (:mod:`gridflex.parameters`) is normalised through
:func:`unit_values` (one value per unit, shape ``(n,)``) or :func:`profile_values` (one value per
unit and period, shape ``(n, T)``). Both raise
:class:`~gridflex.errors.InputError` naming the device, the parameter and, for profiles, the
offending period, before anything is built or solved.
"""

import numpy as np
import pandas as pd

from gridflex.errors import InputError


def unit_values(value, n, *, owner, param):
    """Broadcast a per-unit parameter to a float array of shape ``(n,)``.

    Parameters
    ----------
    value : float or array_like
        A scalar (same for all units) or one value per unit.
    n : int
        Number of units of the device.
    owner, param : str
        Device name and parameter name, used in error messages.
    """
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise InputError(
            f"{owner}: parameter '{param}' has shape {arr.shape}; expected a scalar "
            f"or {n} values (one per unit)"
        )
    if np.isnan(arr).any():
        raise InputError(
            f"{owner}: parameter '{param}' is NaN for unit {int(np.argmax(np.isnan(arr)))}"
        )
    return arr


def profile_values(value, n, periods, *, owner, param, allow_inf=False):
    """Broadcast a profile to a float array of shape ``(n, T)``.

    Accepted forms: a scalar; a 1-D array or :class:`pandas.Series` of length ``T`` (the same
    profile for every unit; a Series must be indexed by exactly the model's periods); a 2-D array
    of shape ``(n, T)``; a :class:`pandas.DataFrame` indexed by the periods with one column per
    unit. A per-unit constant is given as shape ``(n, 1)``. NaN is always an error; +-inf only
    where ``allow_inf`` (limits that may be absent).
    """
    T = len(periods)
    if isinstance(value, pd.Series | pd.DataFrame):
        _check_index(value.index, periods, owner, param)
        value = value.to_numpy(dtype=float)
        value = value.T if value.ndim == 2 else value
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0 or arr.shape == (n, 1):
        arr = np.broadcast_to(arr.reshape(-1, 1) if arr.ndim else arr, (n, T))
    elif arr.ndim == 1 and arr.shape[0] == T:
        arr = np.broadcast_to(arr, (n, T))
    if arr.shape != (n, T):
        raise InputError(
            f"{owner}: profile '{param}' has shape {np.shape(value)}; expected "
            f"{T} periods (the model's), or ({n}, {T}) for {n} units"
        )
    _check_finite(np.where(np.isinf(arr), 0.0, arr) if allow_inf else arr, periods, owner, param)
    return np.array(arr)


def _check_index(index, periods, owner, param):
    if len(index) != len(periods):
        raise InputError(
            f"{owner}: profile '{param}' has {len(index)} periods; the model has "
            f"{len(periods)} ({periods[0]} .. {periods[-1]})"
        )
    if not index.equals(periods):
        first = int(np.argmax(np.asarray(index) != np.asarray(periods)))
        raise InputError(
            f"{owner}: profile '{param}' index differs from the model's periods at "
            f"position {first}: {index[first]!r} != {periods[first]!r}"
        )


def _check_finite(arr, periods, owner, param):
    bad = ~np.isfinite(arr)
    if bad.any():
        unit, t = np.argwhere(bad)[0]
        raise InputError(
            f"{owner}: profile '{param}' is {arr[unit, t]} for unit {unit} in period "
            f"{t} ({periods[t]})"
        )


def require(condition, message):
    """Raise :class:`InputError` with ``message`` unless ``condition`` holds everywhere."""
    if not np.all(condition):
        raise InputError(message)


def check_order(low, high, *, owner, low_name, high_name):
    """Raise if ``low > high`` anywhere, naming the first unit (and period)."""
    low, high = np.broadcast_arrays(np.asarray(low), np.asarray(high))
    bad = low > high + 1e-12
    if bad.any():
        idx = np.argwhere(bad)[0]
        where = f"unit {idx[0]}" + (f", period {idx[1]}" if len(idx) > 1 else "")
        raise InputError(
            f"{owner}: '{low_name}' ({low[tuple(idx)]}) is above '{high_name}' "
            f"({high[tuple(idx)]}) for {where}"
        )


def check_fraction(arr, *, owner, param, allow_zero=True):
    """Raise if a parameter lies outside [0, 1] (or (0, 1] when ``allow_zero`` is False)."""
    arr = np.asarray(arr)
    low_ok = arr >= 0 if allow_zero else arr > 0
    bad = ~(low_ok & (arr <= 1))
    if bad.any():
        idx = np.argwhere(bad)[0]
        interval = "[0, 1]" if allow_zero else "(0, 1]"
        raise InputError(
            f"{owner}: parameter '{param}' must lie in {interval}, got "
            f"{arr[tuple(idx)]} (unit {idx[0]})"
        )


def time_axis(periods, dt_h=None):
    """Normalise the model's periods to a ``DatetimeIndex``/``RangeIndex`` and a step in hours.

    Parameters
    ----------
    periods : int or pandas.DatetimeIndex or sequence
        An int ``T`` gives a ``RangeIndex`` (then ``dt_h`` defaults to 1 h); a DatetimeIndex must
        be evenly spaced and its spacing is the step.
    dt_h : float, optional
        Period length in hours; required to agree with a DatetimeIndex's spacing if given.
    """
    dt_h = _checked_dt_h(dt_h)
    if isinstance(periods, bool | np.bool_):
        raise InputError(f"Model: periods must be a count, timestamps or labels, got {periods!r}")
    if isinstance(periods, int | np.integer):
        if periods < 1:
            raise InputError(f"Model: periods must be >= 1, got {periods}")
        return pd.RangeIndex(int(periods), name="period"), dt_h or 1.0
    index = _as_timestamps(pd.Index(periods))
    if len(index) == 0:
        raise InputError("Model: periods is empty")
    if index.has_duplicates:
        twice = index[index.duplicated()][0]
        raise InputError(f"Model: period labels must be unique; {twice} appears twice")
    if not isinstance(index, pd.DatetimeIndex) or (len(index) == 1 and dt_h is not None):
        return index, dt_h or 1.0
    step_h = _even_step_h(index)
    if dt_h is not None and not np.isclose(dt_h, step_h):
        raise InputError(f"Model: dt_h={dt_h} disagrees with the periods' spacing of {step_h} h")
    return index, float(dt_h if dt_h is not None else step_h)


def _checked_dt_h(dt_h):
    """``dt_h`` as a positive finite float, or None (then taken from the periods)."""
    if dt_h is None:
        return None
    if isinstance(dt_h, bool | np.bool_) or not isinstance(dt_h, int | float | np.number):
        raise InputError(f"Model: dt_h must be a number of hours, got {dt_h!r}")
    if not np.isfinite(dt_h) or dt_h <= 0:
        raise InputError(f"Model: dt_h must be a positive number of hours, got {dt_h!r}")
    return float(dt_h)


def _as_timestamps(index):
    """Timestamps given as strings or as ``Timestamp`` objects of mixed time zones become a
    ``DatetimeIndex`` (in UTC when zones differ) so that their spacing is the period length;
    labels that are not all timestamps stay as they are (bools are refused)."""
    if index.dtype == bool:
        raise InputError("Model: periods must be a count, timestamps or labels, not booleans")
    if index.dtype != object or not len(index):
        return index
    values = list(index)
    if any(isinstance(v, bool | np.bool_) for v in values):
        raise InputError("Model: periods must be a count, timestamps or labels, not booleans")
    if not all(isinstance(v, pd.Timestamp) or _looks_like_a_date(v) for v in values):
        return index
    try:
        parsed = pd.to_datetime(values, format="mixed")
    except (ValueError, TypeError):
        try:
            parsed = pd.to_datetime(values, format="mixed", utc=True)
        except (ValueError, TypeError):
            return index  # labels such as "peak", "night"
    return pd.DatetimeIndex(parsed)


def _looks_like_a_date(value):
    """A string with digits and a date or time separator ("2026-07-01 00:15", "10:15");
    "2026" or "h1" stay labels."""
    return isinstance(value, str) and any(c.isdigit() for c in value) and any(
        sep in value for sep in "-:/T")  # fmt: skip


def _even_step_h(index):
    if len(index) == 1:
        if index.freq is None:
            raise InputError("Model: a single period needs a frequency or an explicit dt_h")
        return pd.Timedelta(index.freq).total_seconds() / 3600.0
    steps = np.diff(index.asi8) / 3.6e12
    if not np.allclose(steps, steps[0]) or steps[0] <= 0:
        raise InputError(
            "Model: periods must be increasing and evenly spaced; step sizes found: "
            f"{sorted(set(np.round(steps, 6)))} h"
        )
    return float(steps[0])


def unit_or_profile(value, n, periods, *, owner, param, allow_inf=False):
    """Like :func:`profile_values`, but a 1-D array of ``n`` values is read as one per unit.

    Where ``n == T`` the per-unit reading wins; give a time profile as ``(n, T)`` then. A
    pandas Series of ``n`` values is per unit unless it is indexed by timestamps or by the
    model's (block, period) labels.
    """
    if isinstance(value, pd.Series) and len(value) == n and not _time_indexed(value):
        value = value.to_numpy(dtype=float)  # one value per unit (e.g. indexed by unit)
    if not isinstance(value, pd.Series | pd.DataFrame):
        arr = np.asarray(value, dtype=float)
        if arr.ndim == 1 and arr.shape[0] == n:
            value = arr.reshape(-1, 1)
    return profile_values(value, n, periods, owner=owner, param=param, allow_inf=allow_inf)


def _time_indexed(series):
    """True for a Series indexed by time: timestamps or (block, period) labels."""
    return isinstance(series.index, pd.DatetimeIndex | pd.MultiIndex)


def as_column(values):
    """Per-unit values (n,) as a column (n, 1) that broadcasts over periods."""
    return np.asarray(values, dtype=float).reshape(-1, 1)


def period_label(periods, t):
    """Period ``t`` of ``periods`` as a message writes it: ``2026-07-01 00:15:00``, ``7`` or,
    for a period of a time block, ``d1, 3`` (plain numbers, no ``np.int64``)."""
    label = periods[t]
    parts = label if isinstance(label, tuple) else (label,)
    return ", ".join(str(x.item() if isinstance(x, np.generic) else x) for x in parts)
