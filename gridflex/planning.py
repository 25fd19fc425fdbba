"""Expansion planning helpers: annualised investment costs and operating-scenario weights.

A planning study is a :class:`~gridflex.model.Model` whose candidates carry a binary build
decision shared by all periods: candidate units (``Generator(..., investment_cost=...)``) and
candidate branches (``gf.DC(candidates=...)``, ``gf.LinDistFlow(candidates=...)``). Operating
scenarios with probabilities are blocks weighted by the hours they stand for in a year
(``Model(net, periods=gf.scenario_blocks(probabilities))``, :mod:`gridflex.timeaxis`), so that
investment (per year) and operation (per year) add up in one objective (seed 000 eqs. 10, 11,
16).
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
