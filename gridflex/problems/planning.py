"""Expansion planning: investments by stage, their cost convention, and annuities.

A planning study is a :class:`~gridflex.model.Model` whose candidates carry a build decision:
candidate units (``Generator(..., investment=gf.Investment(...))``) and candidate branches
(``gf.DC(candidates=...)``, ``gf.LinDistFlow(candidates=...)``). Operating scenarios and typical
days are blocks (:mod:`gridflex.timeaxis`); a multi-stage study gives the model a
:class:`~gridflex.timeaxis.Horizon` and every block its stage.

**Stages.** A candidate unit ``i`` has one build decision per stage, ``x[i, s]`` in {0, 1},
built at most once (``sum_s x[i, s] <= 1``), only in the stages its :class:`Investment` allows.
Built in stage ``s`` (at the stage's first year ``a_s``), it is in service in every later stage
``s'`` with ``a_s' < a_s + L_i`` (life ``L_i``; never retires without one):
``available[i, t] = sum_s x[i, s] in_service[i, s, stage(t)]``; capacities accumulate.

**Cost convention.** Year ``y`` is discounted by ``d(y) = (1 + r)^-y`` to the base year (the
horizon's rate ``r``, costs at the start of each year). Building unit ``i`` in stage ``s`` costs
``C_i x factor[i, s]``, with ``charge``:

* ``"once"`` (default without a life): ``d(a_s)``, the capital charged at the build;
* ``"annuity"`` (default with a life): one annuity ``CRF(rate_i, L_i)`` for every year the unit
  is in service inside the horizon, each discounted: ``CRF x sum_{y=a_s}^{min(E, a_s+L)-1} d(y)``
  (``E`` the end of the horizon; years after it are not charged: no end effects). With one stage
  of one year (no horizon) this is the yearly annuity: seed 002 (wind, ice maker at 4 %, 30
  years; the truck straight-line, ``rate=0``, 10 years);
* ``"capital"``: the capital at the build less a straight-line salvage value at the horizon's
  end, ``d(a_s) - max(0, a_s + L - E) / L x d(E)``;
* ``"one_annuity"``: one year's annuity once, at the build, ``CRF x d(a_s)``: seed 001's
  Table III (notes-001, eq. E10).

The asset's ``rate`` is that of its annuity (the horizon's discount rate by default);
``CRF(r, L) = r (1+r)^L / ((1+r)^L - 1)``, ``1/L`` at ``r = 0``.
"""

import dataclasses
from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import pandas as pd
import scipy.sparse as sp

from gridflex.errors import InputError
from gridflex.parameters import Custom
from gridflex.roles import Role
from gridflex.timeaxis import ONE_YEAR

CHARGES = ("once", "annuity", "capital", "one_annuity")


def annuity_factor(rate, years):
    """Capital recovery factor ``r (1+r)^n / ((1+r)^n - 1)`` (``1/n`` at ``r = 0``), elementwise."""
    rate, years = np.asarray(rate, dtype=float), np.asarray(years, dtype=float)
    if (years <= 0).any() or (rate < 0).any():
        raise InputError(f"annuity_factor: needs years > 0 and rate >= 0, got {years}, {rate}")
    growth = (1.0 + rate) ** years
    safe = np.where(rate > 0, rate, 1.0)
    out = np.where(rate > 0, safe * growth / np.where(rate > 0, growth - 1.0, 1.0), 1.0 / years)
    return float(out) if out.ndim == 0 else out


def annualized_cost(capital, rate, years):
    """Equivalent yearly cost of ``capital`` spent now, over ``years`` at discount ``rate``."""
    return np.asarray(capital, dtype=float) * annuity_factor(rate, years)


@dataclass(frozen=True)
class Investment:
    """What building a candidate costs and how long it lasts.

    Parameters
    ----------
    cost : float or array (n,)
        Capital cost per unit, in the objective's currency (>= 0).
    life_years : float or array (n,), optional
        Service life (> 0); none: the unit never retires.
    rate : float or array (n,), optional
        Interest rate of its annuity (default: the horizon's discount rate).
    charge : {"once", "annuity", "capital", "one_annuity"}, optional
        How the cost enters the objective (see :mod:`gridflex.problems.planning`); default
        ``"annuity"`` with a life, ``"once"`` without.
    stages : list of str, optional
        Stages in which the unit may be built (default: every stage).
    """

    cost: object
    life_years: object = None
    rate: object = None
    charge: str | None = None
    stages: tuple | None = None


class InvestmentParam(Custom):
    """Declaration of a device's :class:`Investment` (a bare number is its ``cost``)."""

    def __init__(self, doc="makes the units candidates: cost, life, rate, charge, stages"):
        super().__init__("Investment", _screen_investment, _normalize_investment,
                         optional=True, doc=doc)  # fmt: skip


def _screen_investment(value, owner, param):
    if isinstance(value, bool | np.bool_):
        raise param.error(owner, "must be a gf.Investment or a cost", value)
    if isinstance(value, int | float | np.number | list | tuple | np.ndarray):
        value = Investment(cost=value)
    if not isinstance(value, Investment):
        raise param.error(owner, "must be a gf.Investment or a cost", value)
    for key in ("cost", "life_years", "rate"):
        x = getattr(value, key)
        if isinstance(x, bool | np.bool_) or np.asarray(x).dtype == bool:
            raise param.error(owner, f"{key} must be a number, not a boolean", x)
    if value.charge is not None and value.charge not in CHARGES:
        raise param.error(owner, f"charge must be one of {CHARGES}", value.charge)
    if value.charge in ("annuity", "capital", "one_annuity") and value.life_years is None:
        raise param.error(owner, f"charge '{value.charge}' needs life_years", value)
    stages = value.stages
    if stages is not None:
        stages = tuple(stages) if not isinstance(stages, str) else None
        if not stages or not all(isinstance(s, str) for s in stages):
            raise param.error(owner, "stages must be a non-empty list of stage names", value.stages)
        value = dataclasses.replace(value, stages=stages)
    return value


def _normalize_investment(value, owner, param, n, periods):
    """Per-unit arrays ``cost``, ``life_years`` (inf: none), ``rate`` (nan: the horizon's)."""

    def per_unit(x, name, low, open_low, default, high=np.inf):
        arr = np.full(n, default) if x is None else np.asarray(x, dtype=float)
        if arr.ndim > 1 or (np.isnan(arr).any() and x is not None):
            arr = np.full(0, np.nan)  # refused below
        arr = np.full(n, arr.reshape(-1)[0]) if arr.size == 1 else arr.reshape(-1)
        if arr.shape != (n,):
            raise InputError(
                f"{owner}: investment {name} must be a number or {n} numbers, got {x!r}"
            )
        bad = (arr <= low) if open_low else (arr < low)
        bad |= (arr >= high) if np.isfinite(high) else False
        if bad.any() or (np.isinf(arr).any() and x is not None):
            sign = ">" if open_low else ">="
            upper = f" and < {high}" if np.isfinite(high) else ""
            raise InputError(
                f"{owner}: investment {name} must be finite and {sign} {low}{upper}, got {x!r}"
            )
        return arr

    return Investment(
        cost=per_unit(value.cost, "cost", 0.0, False, 0.0),
        life_years=per_unit(value.life_years, "life_years", 0.0, True, np.inf),
        rate=per_unit(value.rate, "rate", 0.0, False, np.nan, high=1.0),
        charge=value.charge or ("once" if value.life_years is None else "annuity"),
        stages=None if value.stages is None else tuple(value.stages),
    )


@dataclass(frozen=True)
class StagedInvestment:
    """An :class:`Investment` laid on a horizon: what each (unit, build stage) costs and serves.

    Attributes
    ----------
    cost : (n,) capital per unit
    factor : (n, S) cost multiplier of building in each stage (the charge convention)
    allowed : (S,) bool, stages where building is allowed
    in_service : (n, S, S) bool, built in stage s -> in service in stage s'
    """

    cost: np.ndarray
    factor: np.ndarray
    allowed: np.ndarray
    in_service: np.ndarray

    @property
    def charged(self):
        """Cost of building each unit in each stage, (n, S)."""
        return self.cost[:, None] * self.factor


def staged(investment, horizon, owner):
    """:class:`StagedInvestment` of a normalised ``investment`` on ``horizon``."""
    a = horizon.start_years.astype(float)[None, :]  # (1, S)
    life = investment.life_years[:, None]  # (n, 1)
    annual = investment.charge in ("annuity", "one_annuity")
    if annual and horizon is ONE_YEAR and np.isnan(investment.rate).any():
        raise InputError(
            f"{owner}: the annuity needs a rate (the model has no horizon to take it from); "
            "give Investment(rate=...), 0 for straight-line"
        )
    rate = np.where(np.isnan(investment.rate), horizon.discount_rate, investment.rate)[:, None]
    use = horizon.start_years.astype(float)[None, None, :]  # stage of use s'
    in_service = (use >= a[:, :, None]) & (use < (a + life)[:, :, None])
    _check_paid_service(investment, horizon, a, life, owner)
    factor = _charge_factor(investment.charge, horizon, a, life, rate, in_service)
    allowed = _allowed(investment, horizon, owner)
    return StagedInvestment(investment.cost, factor, allowed, in_service)


def _charge_factor(charge, horizon, a, life, rate, in_service):
    n = life.shape[0]
    at_build = np.broadcast_to(horizon.discount(a), (n, a.shape[1]))
    if charge == "once":
        return np.array(at_build)
    crf = annuity_factor(rate, life).reshape(-1, 1)
    if charge == "annuity":  # one annuity per year of every stage the unit serves
        per_stage = horizon.year_sum(horizon.start_years, horizon.start_years + horizon.years)
        return crf * (in_service.astype(float) @ per_stage)
    if charge == "one_annuity":
        return crf * at_build
    end = float(horizon.end_year)
    salvage = np.maximum(0.0, a + life - end) / life * horizon.discount(end)
    return at_build - salvage


def _check_paid_service(investment, horizon, a, life, owner):
    """A unit serves whole stages (every stage that starts before its life ends). Charged once
    (``once`` with a life, ``capital``, ``one_annuity``), a life ending inside a stage would
    serve years it has not paid for: refused. ``annuity`` pays for every year served."""
    if investment.charge == "annuity":
        return
    ends = a + life  # (n, S): the end of life of a unit built in each stage
    starts, stops = horizon.start_years, horizon.start_years + horizon.years
    inside = (ends[:, :, None] > starts) & (ends[:, :, None] < stops)  # (n, S, S')
    if inside.any():
        i, s, k = (int(x[0]) for x in np.nonzero(inside))
        raise InputError(
            f"{owner}: a life of {life[i, 0]:g} years from stage '{horizon.names[s]}' ends inside "
            f"stage '{horizon.names[k]}' (years {starts[k]}-{stops[k]}), which the unit would "
            f"serve whole without paying for it under charge '{investment.charge}'; use a life "
            "that ends at a stage boundary or charge='annuity'"
        )


def _allowed(investment, horizon, owner):
    if investment.stages is None:
        return np.ones(len(horizon.stages), dtype=bool)
    if horizon is ONE_YEAR:
        raise InputError(
            f"{owner}: investment stages {list(investment.stages)} given but the model has no "
            "horizon (Model(..., horizon=gf.Horizon([...])))"
        )
    unknown = [s for s in investment.stages if s not in horizon.names]
    if unknown:
        raise InputError(
            f"{owner}: investment stage '{unknown[0]}' is outside the horizon "
            f"(stages {horizon.names})"
        )
    return np.isin(horizon.names, list(investment.stages))


def build_decision(b, key, plan):
    """Binary build decisions of the device build ``b``'s units by stage.

    Creates ``b.variables[key]`` (role investment; see :func:`build_variable`), keeps the
    availability as ``b.expressions[key + "_available"]`` and returns ``(available, cost,
    constraints)``.
    """
    built, available, cost, cons = build_variable(f"{b.device.name}_{key}", plan, b.ctx.time)
    b.variables[key], b.roles[key] = built, Role.INVESTMENT
    b.expressions[f"{key}_available"] = available
    b.expressions[f"{key}_plan"] = plan
    return available, cost, cons


def build_variable(name, plan, time):
    """A binary build decision per unit and stage for the :class:`StagedInvestment` ``plan``.

    Returns ``(built, available, cost, constraints)``: the variable (shape (n,) with one stage,
    (n, S) otherwise), in service per period (n, T), the charged cost ``sum C factor x``, and the
    constraints built-at-most-once and nothing built in a stage it may not be.
    """
    n, S = plan.cost.shape[0], time.S
    built = cp.Variable((n,) if S == 1 else (n, S), boolean=True, name=name)
    by_stage = cp.reshape(built, (n, 1), order="F") if S == 1 else built
    cons = [cp.sum(by_stage, axis=1) <= 1] if S > 1 else []
    if not plan.allowed.all():
        cons.append(by_stage[:, np.flatnonzero(~plan.allowed)] == 0)
    available = availability(by_stage, plan.in_service, time.stage_of)
    return built, available, cp.sum(cp.multiply(plan.charged, by_stage)), cons


def availability(by_stage, in_service, stage_of):
    """``available[i, t] = sum_s by_stage[i, s] in_service[i, s, stage_of[t]]``, (n, T)."""
    n, S = by_stage.shape
    T = len(stage_of)
    serve = in_service[:, :, stage_of].astype(float)  # (n, S, T)
    i, s, t = np.nonzero(serve)
    K = sp.csr_matrix((serve[i, s, t], (i * T + t, i * S + s)), shape=(n * T, n * S))
    return cp.reshape(K @ cp.vec(by_stage, order="C"), (n, T), order="C")


def availability_values(built, in_service, stage_of):
    """Numeric twin of :func:`availability` for a solved or given plan, (n, T)."""
    built = np.asarray(built, dtype=float)
    by_stage = built.reshape(built.shape[0], -1)
    return np.einsum("is,ist->it", by_stage, in_service[:, :, stage_of].astype(float))


def build_stage_labels(built, stage_names):
    """Name of the stage each unit is built in (``""`` if never), from values (n, S)."""
    built = np.asarray(built, dtype=float)
    built = built.reshape(built.shape[0], -1)
    names = np.asarray(stage_names, dtype=object)
    chosen = built.argmax(axis=1)
    return np.where(built.max(axis=1) > 0.5, names[chosen], "")


def investment_table(rows, stage_names):
    """One row per candidate: ``(owner, unit)`` index, built (units), build stage (with a
    horizon), capital cost and charged cost (in the objective).

    Parameters
    ----------
    rows : list of (owner, labels, built values (n,) or (n, S), StagedInvestment)
    stage_names : list of str or None
    """
    frames = []
    for owner, labels, built, plan in rows:
        built = np.asarray(built, dtype=float).reshape(len(labels), -1)
        table = {
            "built": np.round(built.sum(axis=1), 6),
            "capital_cost": plan.cost,
            "charged_cost": (plan.charged * built).sum(axis=1),
        }
        if stage_names is not None:
            table["stage"] = build_stage_labels(built, stage_names)
        keys = [(owner, str(u)) for u in labels]
        index = pd.MultiIndex.from_tuples(keys, names=["owner", "unit"])
        frames.append(pd.DataFrame(table, index=index))
    return pd.concat(frames) if frames else None
