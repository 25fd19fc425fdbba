"""Write profiles.csv for the ev_tight_balance scenario (synthetic: the paper's are figures).

16 periods of 15 minutes, 17:00-21:00 (assumed evening window):

* ``load_scale``: multiplier of the IEEE 118 base load (4242 MW), an evening peak rising from
  1.37 to 1.55 at 19:00-19:30 and falling to 1.41 (shape: a typical winter weekday evening;
  level: the peak of 6570 MW exceeds the 6515 MW of thermal units (all committed) so that the
  balance is "tight" and Case 1 sheds load).
* ``wind_s1_mw``, ``wind_s2_mw``, ``wind_s3_mw``: available wind power at bus 43 for the
  paper's three scenarios (Fig. 4 is not available): the paper's penetration rates (wind energy
  over load energy in the window) 9.68 %, 19.35 % and 38.70 %, with low, high and highest
  volatility: a smooth mean plus a seeded random walk whose step grows with the scenario.

Run ``python make_profiles.py`` in this folder to rewrite the file; the seed makes it repeatable.
"""

from pathlib import Path

import numpy as np
import pandas as pd

BASE_LOAD_MW = 4242.0
PENETRATION = {"wind_s1_mw": 0.0968, "wind_s2_mw": 0.1935, "wind_s3_mw": 0.3870}
VOLATILITY = {"wind_s1_mw": 0.02, "wind_s2_mw": 0.10, "wind_s3_mw": 0.16}


def load_scale(T=16):
    hours = np.arange(T) / 4.0  # 0 = 17:00
    shape = 1.12 + 0.18 * np.exp(-0.5 * ((hours - 2.25) / 1.1) ** 2) - 0.02 * hours / 4
    return 1.2 * shape


def wind_shape(T, step, rng):
    walk = np.cumsum(rng.normal(0.0, step, T))
    shape = 0.6 + 0.15 * np.cos(np.arange(T) / T * np.pi) + walk
    return np.clip(shape, 0.05, 1.0)


def main():
    T, dt_h = 16, 0.25
    rng = np.random.default_rng(2022)
    scale = load_scale(T)
    load_mwh = (BASE_LOAD_MW * scale).sum() * dt_h
    frame = pd.DataFrame({"load_scale": scale})
    for column, share in PENETRATION.items():
        shape = wind_shape(T, VOLATILITY[column], rng)
        frame[column] = shape * share * load_mwh / (shape.sum() * dt_h)
    frame.index = pd.date_range("2026-01-15 17:00", periods=T, freq="15min", name="time")
    frame.round(4).to_csv(Path(__file__).with_name("profiles.csv"))
    print(frame.round(3))


if __name__ == "__main__":
    main()
