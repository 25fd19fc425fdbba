"""Dispatchable generators and external grids."""

import math

import cvxpy as cp
import numpy as np

from gridflex.conventions import PRODUCER
from gridflex.devices.base import Device, Role, declared, raw_values
from gridflex.devices.blocks import (
    Segments,
    columns,
    convex_pwl_epigraph,
    previous_columns,
    ramp_limits,
    window_sum_matrix,
)
from gridflex.errors import InputError
from gridflex.parameters import Flag, Number, Shape
from gridflex.problems.planning import InvestmentParam, build_decision, staged
from gridflex.products import (
    Offers,
    build_offers,
    down_mw,
    offer_cost_terms,
    offer_results,
    up_mw,
)
from gridflex.profiles import check_order, require


class Generator(Device):
    """Dispatchable generators, optionally with unit commitment.

    For units ``i`` and periods ``t`` of length ``dt_h``:

    .. math::

        \\underline P_{i,t} u_{i,t} \\le p_{i,t} \\le \\overline P_{i,t} u_{i,t}, \\qquad
        -RD_i\\,dt - \\overline P_i w_{i,t} \\le p_{i,t} - p_{i,t-1}
            \\le RU_i\\,dt + \\overline P_i v_{i,t}

        C = \\sum_{i,t} dt\\,(c^0_i u_{i,t} + c^1_{i,t} p_{i,t} + c^2_i p_{i,t}^2)
            + \\sum_{i,t} SU_i v_{i,t}

    Without commitment ``u = 1`` and ``v = w = 0``. With commitment ``u`` is binary and
    ``u_t - u_{t^-} = v_t - w_t``; minimum up and down times hold as
    ``sum_{k < UT} v_{t-k} <= u_t`` and ``sum_{k < DT} w_{t-k} <= 1 - u_t``. Everything that
    looks back (``t^-``, ramps, windows) stays inside the period's time block
    (:mod:`gridflex.timeaxis`): a cyclic block wraps around (windows at most the block long);
    an open block starts from ``initial_on`` and ``p_initial_mw``, and its windows are cut at its
    start (the history before it is not carried over). Piecewise-linear costs
    (pandapower ``pwl_cost`` points, convex) replace ``c^1, c^2`` by an epigraph so the problem
    stays an LP/MILP.

    Reserve and flexible-ramp products (``offers``, :mod:`gridflex.products`; seed 003 eqs.
    13-16) are held within the unit's headroom and its ramp rate over one period (a product
    with a duration ``d``: over ``d``, together with the shorter ones, seed 004 notes 2.7):

    .. math::

        p_{i,t} + \\sum_{k \\in up} r^k_{i,t} \\le \\overline P_{i,t} u_{i,t}, \\qquad
        p_{i,t} - \\sum_{k \\in down} r^k_{i,t} \\ge \\underline P_{i,t} u_{i,t}

        \\sum_{k \\in up} r^k_{i,t} \\le RU_i\\,dt, \\qquad
        \\sum_{k \\in down} r^k_{i,t} \\le RD_i\\,dt

    with cost ``sum dt * offered cost * r`` (eq. 10).

    Parameters
    ----------
    bus : int or array_like
        pandapower bus index per unit.
    p_max_mw, p_min_mw : float, array (n,) or profile (n, T)
        Output limits. ``p_min_mw`` may be negative (e.g. an external grid exporting).
    cost_per_mwh : float, array (n,) or profile (n, T)
        Linear cost ``c^1`` (pandapower ``cp1_eur_per_mw``).
    cost_per_mw2h : float or array (n,)
        Quadratic cost ``c^2`` per MW squared and hour (``cp2_eur_per_mw2``); >= 0.
    cost_per_h : float or array (n,)
        Fixed cost per hour ``c^0`` (``cp0_eur``), paid while committed (always without UC).
    pwl_cost : list, optional
        Per unit, a list of ``(p_from_mw, p_to_mw, cost_per_mwh)`` segments.
    ramp_up_mw_per_h, ramp_down_mw_per_h : float or array (n,)
        Ramp limits (``inf``: none).
    p_initial_mw : float or array (n,), optional
        Output before the horizon, for the first period's ramp.
    commitment : bool
        Add unit-commitment binaries.
    min_up_h, min_down_h : float or array (n,)
        Minimum up/down times, rounded up to whole periods.
    startup_cost : float or array (n,)
        Cost per start.
    initial_on : bool or array (n,)
        Commitment before the horizon (default: on).
    offers : dict, optional
        Reserve/ramp products offered: product (or its name) -> offered cost per MW and hour.
    investment : Investment or float, optional
        Makes the units *candidates* (planning): a binary build decision per unit and stage
        (:func:`gridflex.problems.planning.build_decision`), ``a P_min <= p <= a P_max`` in
        every period with ``a`` the unit's availability (built in this or an earlier stage and
        not retired), cost ``sum_s C factor_s x_s`` by the investment's charge convention
        (:mod:`gridflex.problems.planning`; a bare number is a capital charged once, at the
        build stage's discount factor: as given without a horizon). Results
        column ``built`` (in service in the period).
    """

    sign = PRODUCER
    result_table = "res_gen"

    p_max_mw = Number(
        "MW", Shape.PROFILE, allow_inf=math.inf, resolvable=True, doc="highest output"
    )
    p_min_mw = Number(
        "MW", Shape.PROFILE, allow_inf=-math.inf, resolvable=True,
        doc="lowest output (< 0: absorbs)",
    )  # fmt: skip
    cost_per_mwh = Number("$/MWh", Shape.PROFILE, resolvable=True, doc="linear cost c1")
    cost_per_mw2h = Number("$/MW²h", low=0, doc="quadratic cost c2")
    cost_per_h = Number("$/h", doc="fixed cost per hour while on")
    pwl_cost = Segments()
    ramp_up_mw_per_h = Number("MW/h", low=0, allow_inf=math.inf, doc="ramp-up limit")
    ramp_down_mw_per_h = Number("MW/h", low=0, allow_inf=math.inf, doc="ramp-down limit")
    p_initial_mw = Number("MW", optional=True, doc="output before the horizon (each open block)")
    commitment = Flag(doc="unit-commitment binaries")
    min_up_h = Number("h", low=0, doc="minimum up time")
    min_down_h = Number("h", low=0, doc="minimum down time")
    startup_cost = Number("$", low=0, doc="cost per start")
    initial_on = Flag(Shape.UNIT, doc="committed before the horizon (each open block)")
    q_min_mvar = Number("Mvar", Shape.PROFILE, allow_inf=-math.inf, doc="lowest reactive output")
    q_max_mvar = Number("Mvar", Shape.PROFILE, allow_inf=math.inf, doc="highest reactive output")
    offers = Offers()
    investment = InvestmentParam()

    def __init__(
        self, bus, p_max_mw, p_min_mw=0.0, *, cost_per_mwh=0.0, cost_per_mw2h=0.0, cost_per_h=0.0,
        pwl_cost=None, ramp_up_mw_per_h=math.inf, ramp_down_mw_per_h=math.inf, p_initial_mw=None,
        commitment=False, min_up_h=0.0, min_down_h=0.0, startup_cost=0.0, initial_on=True,
        q_min_mvar=-math.inf, q_max_mvar=math.inf, offers=None, investment=None, name=None,
        unit_labels=None,
    ):  # fmt: skip
        super().__init__(**declared(locals()))

    # --- checks ---------------------------------------------------------------------------
    def derive(self, v, ctx):
        o = self.owner
        check_order(v.p_min_mw, v.p_max_mw, owner=o, low_name="p_min_mw", high_name="p_max_mw")
        check_order(
            v.q_min_mvar, v.q_max_mvar, owner=o, low_name="q_min_mvar", high_name="q_max_mvar"
        )
        v.offers = v.offers or {}
        candidate = v.investment is not None
        require(
            not (candidate and v.commitment), f"{o}: candidate units cannot also have commitment"
        )
        finite = np.isfinite(v.p_max_mw).all() and np.isfinite(v.p_min_mw).all()
        require(not candidate or finite, f"{o}: candidate units need finite p_min_mw and p_max_mw")
        require(
            not v.commitment or np.isfinite(v.p_max_mw).all(),
            f"{o}: unit commitment needs finite p_max_mw",
        )

    # --- model ----------------------------------------------------------------------------
    def formulate(self, b):
        n, T, v = self.n, b.ctx.T, b.values
        p = b.variable("p_mw", (n, T))
        if v.commitment:
            b.variable("on", (n, T), Role.COMMITMENT, boolean=True)
        cons = []
        if v.investment is not None:
            plan = staged(v.investment, b.ctx.time.horizon, self.owner)
            _, b.expressions["investment"], cons = build_decision(b, "built", plan)
        cons += self._reactive(b) + self._products(b)
        if v.commitment:
            return cons + self._commitment(b)
        if v.investment is not None:
            on = self._on(b)
            cons += [p <= cp.multiply(v.p_max_mw, on), p >= cp.multiply(v.p_min_mw, on)]
        else:
            cons += _finite_bounds(b, p, "p_min_mw", "p_max_mw")
        dt = b.ctx.dt_h
        cons += ramp_limits(
            b.ctx.time, p, v.ramp_up_mw_per_h * dt, v.ramp_down_mw_per_h * dt, v.p_initial_mw
        )
        return cons + self._pwl(b)

    def _on(self, b):
        """Whether each unit runs, (n, T): commitment, build decision, or 1."""
        if "on" in b.variables:
            return b["on"]
        if "built" in b.variables:
            return b.expressions["built_available"]
        return 1.0

    def _commitment(self, b):
        n, T, v, p, u = self.n, b.ctx.T, b.values, b["p_mw"], b["on"]
        start = b.variable("startup", (n, T), Role.COMMITMENT, nonneg=True)
        stop = b.variable("shutdown", (n, T), Role.COMMITMENT, nonneg=True)
        u_now, u_before, cols = previous_columns(b.ctx.time, u, v.initial_on.astype(float))
        cons = [
            p >= cp.multiply(v.p_min_mw, u),
            p <= cp.multiply(v.p_max_mw, u),
            u_now - u_before == columns(start, cols) - columns(stop, cols),
            start <= 1,
            stop <= 1,
            # a start needs off before and on now, a stop the reverse: without these a unit
            # could "start and stop" in one period and take both ramp allowances
            columns(start, cols) <= u_now,
            columns(start, cols) <= 1 - u_before,
            columns(stop, cols) <= u_before,
            columns(stop, cols) <= 1 - u_now,
        ]
        cons += self._min_up_down(b)
        big = v.p_max_mw.max(axis=1, keepdims=True)
        cons += ramp_limits(
            b.ctx.time,
            p,
            v.ramp_up_mw_per_h * b.ctx.dt_h,
            v.ramp_down_mw_per_h * b.ctx.dt_h,
            v.p_initial_mw,
            extra_up=cp.multiply(big, start),
            extra_down=cp.multiply(big, stop),
        )
        return cons + self._pwl(b)

    def _products(self, b):
        """Headroom and ramp limits of the offered reserve/ramp products (eqs. 13-16)."""
        v = b.values
        build_offers(b, v.offers)
        if not v.offers:
            return []
        p, on, cons = b["p_mw"], self._on(b), []
        for held, sign, limit in ((up_mw(b), 1, v.p_max_mw), (down_mw(b), -1, v.p_min_mw)):
            if isinstance(held, float):
                continue
            rows = np.flatnonzero(np.isfinite(limit).all(axis=1))
            cons.append(sign * (p + sign * held)[rows] <= sign * _times(limit, on, rows))
            cons += self._product_ramps(b, sign)
        return cons

    def _product_ramps(self, b, sign):
        """For each duration ``d`` among the offered products of one direction, the products
        deployed within ``d`` fit in the ramp over ``d``: ``sum_{d_p <= d} r_p <= RU d`` (a
        product without a duration is deployed within one period: seed 003's ``sum <= RU dt``;
        seed 004's ``f + r <= 0.5 h RU`` and ``f + r + q <= 4 h RU``)."""
        v, dt = b.values, b.ctx.dt_h
        rate = v.ramp_up_mw_per_h if sign > 0 else v.ramp_down_mw_per_h
        finite = np.flatnonzero(np.isfinite(rate))
        offered = [(q.hours(dt), x) for q, x in b.expressions["offers"].items()
                   if q.direction == sign]  # fmt: skip
        cons = []
        for d in sorted({h for h, _ in offered}) if finite.size else ():
            within = [x for h, x in offered if h <= d]
            held = sum(within[1:], within[0])
            cons.append(held[finite] <= (rate[finite] * d).reshape(-1, 1))
        return cons

    def provision_bound_mw(self, b, product):
        """At most ``p_max - p_min`` per unit and period (``p + up <= p_max``, ``p - down >=
        p_min``), and at most the ramp over the product's duration (one period without one)
        where it is finite; read without recording, so the limits stay re-solvable."""
        v = raw_values(b.values)
        if product not in v.offers:
            return None
        rate = v.ramp_up_mw_per_h if product.direction > 0 else v.ramp_down_mw_per_h
        span = np.maximum(np.asarray(v.p_max_mw) - np.asarray(v.p_min_mw), 0.0)
        bound = np.minimum(span, np.reshape(rate, (-1, 1)) * product.hours(b.ctx.dt_h))
        return bound.sum(axis=0) if np.isfinite(bound).all() else None

    def _min_up_down(self, b):
        cons, v = [], b.values
        for hours, changes, rhs in (
            (v.min_up_h, b["startup"], b["on"]),
            (v.min_down_h, b["shutdown"], 1 - b["on"]),
        ):
            widths = np.ceil(hours / b.ctx.dt_h - 1e-9).astype(int)
            if widths.max(initial=0) > 1:
                W = window_sum_matrix(widths, b.ctx.time)
                cons.append(W @ cp.vec(changes, order="C") <= cp.vec(rhs, order="C"))
        return cons

    def _pwl(self, b):
        if b.values.pwl_cost is None:
            return []
        rate, cons = convex_pwl_epigraph(b["p_mw"], b.values.pwl_cost, self.owner)
        b.expressions["pwl_rate"] = rate
        return cons

    def injection_mw(self, b):
        return b["p_mw"]

    def _reactive(self, b):
        """Reactive output ``q_min <= q <= q_max`` where the formulation models it."""
        if not b.ctx.reactive:
            return []
        v = b.values
        q = b.variable("q_mvar", (self.n, b.ctx.T))
        if v.investment is None:
            return _finite_bounds(b, q, "q_min_mvar", "q_max_mvar")
        if not (np.isfinite(v.q_min_mvar).all() and np.isfinite(v.q_max_mvar).all()):
            raise InputError(
                f"{self.owner}: candidate units in a network with reactive power need finite "
                "q_min_mvar and q_max_mvar (a unit that is not built gives no reactive power)"
            )
        on = self._on(b)  # a candidate's reactive range exists only once it is built
        return [q <= cp.multiply(v.q_max_mvar, on), q >= cp.multiply(v.q_min_mvar, on)]

    def injection_mvar(self, b):
        return b.get("q_mvar")

    def cost_terms(self, b):
        v, hours, p = b.values, b.ctx.weighted_sum, b["p_mw"]
        on = self._on(b)
        on = np.ones((self.n, b.ctx.T)) if isinstance(on, float) else on
        terms = {"fixed": hours(cp.multiply(v.cost_per_h.reshape(-1, 1), on))}
        if "pwl_rate" in b.expressions:
            terms["energy"] = hours(b["pwl_rate"])
        else:
            terms["energy"] = b.cost("cost_per_mwh", p)
            if v.cost_per_mw2h.any():
                terms["energy"] += hours(v.cost_per_mw2h @ cp.square(p))
        if "startup" in b.variables:
            occurrences = b.ctx.cost_hours / b.ctx.dt_h  # how often each period stands for
            terms["startup"] = (v.startup_cost @ b["startup"]) @ occurrences
        if "built" in b.variables:
            terms["investment"] = b.expressions["investment"]
        return terms | offer_cost_terms(b, v.offers)

    def results(self, b):
        """Output, its limits and ramp rates per period (so limits can be checked from the
        table), commitment, build and held products."""
        v, ones = b.values, np.ones((self.n, b.ctx.T))
        out = {"p_mw": b.value("p_mw"), "p_max_mw": v.p_max_mw, "p_min_mw": v.p_min_mw}
        for key in ("ramp_up_mw_per_h", "ramp_down_mw_per_h"):
            if np.isfinite(getattr(v, key)).any():
                out[key] = getattr(v, key).reshape(-1, 1) * ones
        if "q_mvar" in b.variables:
            out["q_mvar"] = b.value("q_mvar")
        if "on" in b.variables:
            out["on"] = np.round(b.value("on"))
            out["startup"] = np.round(b.value("startup"), 9)
        if "built" in b.variables:
            out["built"] = np.round(b.expressions["built_available"].value, 6)
        return out | offer_results(b)


class ExternalGrid(Generator):
    """Connection to an upstream grid: import at a price, within limits.

    Import is positive (like pandapower's ``res_ext_grid.p_mw``); export is negative and earns
    the same price. Cost ``sum_t dt * price_t * p_t`` (plus optional quadratic terms).

    Parameters
    ----------
    bus : int or array_like
    price_per_mwh : float, array (n,) or profile (n, T)
        Energy price.
    p_min_mw, p_max_mw : float or array
        Limits (default: unlimited export and import).
    ramp_up_mw_per_h, ramp_down_mw_per_h : float or array (n,)
        Limits on the change of the exchange (``inf``: none); they also bound the products it
        holds, as for a :class:`Generator`.
    p_initial_mw : float or array (n,), optional
        Exchange before the horizon, for the first period's ramp.
    offers : dict, optional
        Reserve/ramp products offered (see :class:`Generator`).
    """

    result_table = "res_ext_grid"

    price_per_mwh = Number("$/MWh", Shape.PROFILE, resolvable=True, doc="energy price")

    def __init__(
        self, bus, price_per_mwh=0.0, p_min_mw=-math.inf, p_max_mw=math.inf, *, cost_per_mw2h=0.0,
        cost_per_h=0.0, pwl_cost=None, ramp_up_mw_per_h=math.inf, ramp_down_mw_per_h=math.inf,
        p_initial_mw=None, q_min_mvar=-math.inf, q_max_mvar=math.inf, offers=None, name=None,
        unit_labels=None,
    ):  # fmt: skip
        super().__init__(
            bus, p_max_mw, p_min_mw, cost_per_mw2h=cost_per_mw2h, cost_per_h=cost_per_h,
            pwl_cost=pwl_cost, ramp_up_mw_per_h=ramp_up_mw_per_h,
            ramp_down_mw_per_h=ramp_down_mw_per_h, p_initial_mw=p_initial_mw,
            q_min_mvar=q_min_mvar, q_max_mvar=q_max_mvar, offers=offers, name=name,
            unit_labels=unit_labels,
        )  # fmt: skip
        self.price_per_mwh = price_per_mwh

    def cost_terms(self, b):
        terms = super().cost_terms(b)
        if "pwl_rate" not in b.expressions:
            terms["energy"] += b.cost("price_per_mwh", b["p_mw"])
        return terms


def _times(limit, on, rows):
    """``limit * on`` on ``rows`` (``on``: commitment variable or 1)."""
    if isinstance(on, float):
        return limit[rows]
    return cp.multiply(limit[rows], on[rows])


def _finite_bounds(b, p, low_key, high_key):
    """``low <= p <= high`` on the units whose bound is finite in every period, the bounds
    cvxpy Parameters (values ``low_key``, ``high_key`` of the build ``b``: re-solvable)."""
    cons = []
    for key, sense in ((low_key, -1), (high_key, 1)):
        limit = b.param(key)  # always, so that a limit turning finite (or not) rebuilds
        bound = np.asarray(getattr(raw_values(b.values), key))
        finite = np.isfinite(bound)
        rows = np.flatnonzero(finite.all(axis=1))
        mixed = finite.any(axis=1) & ~finite.all(axis=1)
        if mixed.any():
            raise InputError(
                f"{b.device.owner}: unit {int(np.argmax(mixed))} has a limit that is finite in "
                "some periods and infinite in others"
            )
        if rows.size:
            cons.append(sense * p[rows, :] <= sense * limit[rows, :])
    return cons
