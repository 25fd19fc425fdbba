"""Write profiles.csv of the quickstart scenario: one summer day, 96 quarter-hours.

The profiles are synthetic, made by the formulas below (no measured data, no randomness beyond a
fixed seed), so the file can be regenerated bit for bit: ``python make_profiles.py``. The shapes
and scales are explained in README.md next to this file.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.interpolate import PchipInterpolator

PERIODS = pd.date_range("2026-07-01 00:00", periods=96, freq="15min")
HOURS = np.arange(96) / 4.0  # local time (CEST) at the start of each quarter-hour

# Typical hot-summer weekday load shape, per unit of the daily peak, at 00:00 .. 24:00 local time:
# night minimum ~0.64 at 04:00, morning ramp, air-conditioning peak at 16-17 h, evening shoulder.
LOAD_SHAPE = [
    0.74, 0.70, 0.67, 0.65, 0.64, 0.65, 0.69, 0.75, 0.81, 0.86, 0.90, 0.93, 0.95,
    0.97, 0.98, 0.99, 1.00, 1.00, 0.98, 0.95, 0.92, 0.89, 0.84, 0.79, 0.74,
]  # fmt: skip

SUNRISE_H, SUNSET_H = 5.75, 21.25  # 1 July, ~48 degrees north, CEST (solar noon ~13:30)
PV_PEAK = 0.80  # clear-sky AC output at solar noon, per unit of inverter capacity
WIND_SITES = {"wind_a": 0.0, "wind_b": 2.0, "wind_c": 4.0}  # lag of each site's weather, h
PV_SITES = {"pv_a": (1.0, ()), "pv_b": (0.97, ((12.5, 0.5),)), "pv_c": (0.98, ((10.5, 0.7),))}
PV_SITES["pv_d"] = (0.95, ((14.0, 0.8), (15.5, 0.6)))  # (clear-sky factor, cloud (hour, width))


def load_scale():
    """Load multiplier: the hourly shape above, interpolated without overshoot (PCHIP)."""
    return PchipInterpolator(np.arange(25), LOAD_SHAPE)(HOURS)


def pv(factor, clouds):
    """Clear-sky bell (sine to the power 1.3 between sunrise and sunset), with cloud dips."""
    x = np.clip((HOURS + 0.125 - SUNRISE_H) / (SUNSET_H - SUNRISE_H), 0.0, 1.0)
    out = factor * PV_PEAK * np.sin(np.pi * x) ** 1.3
    for centre, width in clouds:
        out *= 1.0 - 0.6 * np.exp(-(((HOURS - centre) / width) ** 2))
    return out


def wind(lag_h, rng):
    """Onshore summer wind: mean ~0.3, stronger at night, a weather swing and smoothed noise."""
    h = HOURS - lag_h
    diurnal = 0.12 * np.cos(2 * np.pi * (h - 2.0) / 24.0)
    weather = 0.08 * np.sin(2 * np.pi * h / 30.0)
    noise = np.convolve(rng.normal(0.0, 0.05, 96 + 7), np.ones(8) / 8.0, mode="valid")
    return np.clip(0.30 + diurnal + weather + noise, 0.02, 0.95)


def profiles():
    """All columns of profiles.csv as a DataFrame (values rounded to 4 decimals)."""
    rng = np.random.default_rng(118)
    cols = {"load_scale": load_scale()}
    cols |= {name: wind(lag, rng) for name, lag in WIND_SITES.items()}
    cols |= {name: pv(factor, clouds) for name, (factor, clouds) in PV_SITES.items()}
    frame = pd.DataFrame(cols).round(4)
    frame.insert(0, "time", PERIODS.strftime("%Y-%m-%d %H:%M"))
    return frame


if __name__ == "__main__":
    profiles().to_csv(Path(__file__).with_name("profiles.csv"), index=False)
