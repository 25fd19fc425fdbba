"""Expansion planning helpers: annualised investment costs and operating-scenario weights.

A planning study is a :class:`~gridflex.model.Model` whose candidates carry a binary build
decision shared by all periods: candidate units (``Generator(..., investment_cost=...)``) and
candidate branches (``gf.DC(candidates=...)``, ``gf.LinDistFlow(candidates=...)``). Operating
scenarios with probabilities are periods weighted by the hours they stand for in a year
(``Model(..., weights_h=scenario_weights_h(...))``), so that investment (per year) and
operation (per year) add up in one objective (seed 000 eqs. 10, 11, 16).
"""

import numpy as np

from gridflex.errors import InputError


def annuity_factor(rate, years):
    """Capital recovery factor ``r (1+r)^n / ((1+r)^n - 1)`` (``1/n`` at ``r = 0``)."""
    if years <= 0 or rate < 0:
        raise InputError(f"annuity_factor: needs years > 0 and rate >= 0, got {years}, {rate}")
    if rate == 0:
        return 1.0 / years
    growth = (1.0 + rate) ** years
    return rate * growth / (growth - 1.0)


def annualized_cost(capital, rate, years):
    """Equivalent yearly cost of ``capital`` spent now, over ``years`` at discount ``rate``."""
    return np.asarray(capital, dtype=float) * annuity_factor(rate, years)


def scenario_weights_h(probabilities, periods_per_scenario=1, hours_per_year=8760.0):
    """Hours per year each period stands for: scenario ``k``'s probability times the year,
    spread over its periods. Returns an array of ``len(probabilities) * periods_per_scenario``.
    """
    p = np.asarray(probabilities, dtype=float).reshape(-1)
    if (p <= 0).any() or not np.isclose(p.sum(), 1.0):
        raise InputError(
            f"scenario probabilities must be > 0 and sum to 1 (leave out a scenario of "
            f"probability 0), got {p.tolist()}"
        )
    return np.repeat(p * hours_per_year / periods_per_scenario, periods_per_scenario)
