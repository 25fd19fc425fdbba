"""The problem's Python object count does not grow with the number of periods."""

import numpy as np
import pandapower.networks as pn
import pandas as pd
import pytest

import gridflex as gf


def _model(T):
    periods = pd.date_range("2026-07-01", periods=T, freq="15min")
    model = gf.Model(pn.case118(), periods=periods, load_scale=np.linspace(0.8, 1.0, T))
    model.add(gf.Storage(bus=[9, 58], p_mw=50, e_mwh=200, exclusive_modes=True, name="bess"))
    model.add(gf.Renewable(bus=[42, 70], profile=np.full((2, T), 30.0), name="wind"))
    model.add(
        gf.Generator(
            bus=[20, 30],
            p_max_mw=100,
            p_min_mw=20,
            commitment=True,
            min_up_h=2,
            min_down_h=1,
            ramp_up_mw_per_h=40,
            ramp_down_mw_per_h=40,
            cost_per_mwh=30,
            startup_cost=100,
            name="uc",
        )
    )
    model.add(gf.Load(bus=[5, 6], p_mw=10.0, shed_cost_per_mwh=1000, name="flex"))
    return model


@pytest.mark.parametrize("formulation", [gf.DC, gf.DCPTDF])
def test_constraint_and_variable_count_independent_of_T(formulation):
    counts = []
    for T in (4, 96):
        model = _model(T)
        model.formulation = formulation()
        problem = model.build()
        counts.append((len(problem.constraints), len(problem.variables())))
    assert counts[0] == counts[1]


def test_variables_are_shaped_units_by_periods():
    problem = _model(8).build()
    shapes = {v.name(): v.shape for v in problem.variables()}
    assert shapes["bess_e_mwh"] == (2, 8)  # states at the end of each period
    assert shapes["uc_on"] == (2, 8)
    assert shapes["theta_rad"] == (118, 8)
