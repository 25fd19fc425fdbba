"""Dispatchable generators and external grids."""

import math

import cvxpy as cp
import numpy as np

from gridflex.conventions import PRODUCER
from gridflex.devices.base import Device
from gridflex.devices.blocks import convex_pwl_epigraph, ramp_limits, window_sum_matrix
from gridflex.errors import InputError
from gridflex.products import Offers
from gridflex.profiles import (
    check_nonnegative,
    check_order,
    require,
    unit_or_profile,
    unit_values,
)


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
    ``u_t - u_{t-1} = v_t - w_t``; minimum up and down times hold as
    ``sum_{k < UT} v_{t-k} <= u_t`` and ``sum_{k < DT} w_{t-k} <= 1 - u_t`` (windows cut at the
    start of the horizon; the history before it is not carried over). Piecewise-linear costs
    (pandapower ``pwl_cost`` points, convex) replace ``c^1, c^2`` by an epigraph so the problem
    stays an LP/MILP.

    Reserve and flexible-ramp products (``offers``, :mod:`gridflex.products`; seed 003 eqs.
    13-16) are held within the unit's headroom and its ramp rate over one period:

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
    cost_per_mwh : float or array (n,)
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
    investment_cost : float or array (n,), optional
        Makes the units *candidates* (planning): a binary build decision ``y`` per unit,
        ``y P_min <= p <= y P_max`` in every period, cost ``investment_cost * y`` (for the
        modelled horizon: annualise it, :func:`gridflex.planning.annualized_cost`). Results
        column ``built``.
    """

    sign = PRODUCER
    result_table = "res_gen"

    def __init__(
        self,
        bus,
        p_max_mw,
        p_min_mw=0.0,
        *,
        cost_per_mwh=0.0,
        cost_per_mw2h=0.0,
        cost_per_h=0.0,
        pwl_cost=None,
        ramp_up_mw_per_h=math.inf,
        ramp_down_mw_per_h=math.inf,
        p_initial_mw=None,
        commitment=False,
        min_up_h=0.0,
        min_down_h=0.0,
        startup_cost=0.0,
        initial_on=True,
        q_min_mvar=-math.inf,
        q_max_mvar=math.inf,
        offers=None,
        investment_cost=None,
        name=None,
        unit_labels=None,
    ):
        super().__init__(bus, name=name, unit_labels=unit_labels)
        self.offers = Offers(offers)
        self.investment_cost = investment_cost
        self.q_limits = (q_min_mvar, q_max_mvar)
        self.params = dict(
            p_max_mw=p_max_mw,
            p_min_mw=p_min_mw,
            cost_per_mwh=cost_per_mwh,
            cost_per_mw2h=cost_per_mw2h,
            cost_per_h=cost_per_h,
            ramp_up_mw_per_h=ramp_up_mw_per_h,
            ramp_down_mw_per_h=ramp_down_mw_per_h,
            min_up_h=min_up_h,
            min_down_h=min_down_h,
            startup_cost=startup_cost,
        )
        self.pwl_cost = pwl_cost
        self.p_initial_mw = p_initial_mw
        self.commitment = bool(commitment)
        self.initial_on = initial_on

    # --- checks ---------------------------------------------------------------------------
    def prepare(self, ctx):
        super().prepare(ctx)
        prm, o, n = self.params, self.owner, self.n
        self.p_max = unit_or_profile(
            prm["p_max_mw"], n, ctx.periods, owner=o, param="p_max_mw", allow_inf=True
        )
        self.p_min = unit_or_profile(
            prm["p_min_mw"], n, ctx.periods, owner=o, param="p_min_mw", allow_inf=True
        )
        check_order(self.p_min, self.p_max, owner=o, low_name="p_min_mw", high_name="p_max_mw")
        self.c = {
            k: unit_values(prm[k], n, owner=o, param=k)
            for k in (
                "cost_per_mwh",
                "cost_per_mw2h",
                "cost_per_h",
                "ramp_up_mw_per_h",
                "ramp_down_mw_per_h",
                "min_up_h",
                "min_down_h",
                "startup_cost",
            )
        }
        for k in (
            "cost_per_mw2h",
            "ramp_up_mw_per_h",
            "ramp_down_mw_per_h",
            "min_up_h",
            "min_down_h",
            "startup_cost",
        ):
            check_nonnegative(self.c[k], owner=o, param=k)
        self._prepare_optional(ctx)

    def _prepare_optional(self, ctx):
        o, n = self.owner, self.n
        self.q_min, self.q_max = (
            unit_or_profile(v, n, ctx.periods, owner=o, param=k, allow_inf=True)
            for v, k in zip(self.q_limits, ("q_min_mvar", "q_max_mvar"), strict=True)
        )
        check_order(self.q_min, self.q_max, owner=o, low_name="q_min_mvar", high_name="q_max_mvar")
        if self.p_initial_mw is not None:
            self.p_initial = unit_values(self.p_initial_mw, n, owner=o, param="p_initial_mw")
        else:
            self.p_initial = None
        if self.pwl_cost is not None:
            require(
                len(self.pwl_cost) == n,
                f"{o}: 'pwl_cost' needs one segment list per unit ({n}), got {len(self.pwl_cost)}",
            )
        self.u0 = unit_values(
            np.asarray(self.initial_on, dtype=float), n, owner=o, param="initial_on"
        )
        self.offers.prepare(n, ctx.periods, o)
        if self.investment_cost is not None:
            self.investment = unit_values(self.investment_cost, n, owner=o, param="investment_cost")
            check_nonnegative(self.investment, owner=o, param="investment_cost")

    # --- model ----------------------------------------------------------------------------
    def build(self, ctx):
        n, T = self.n, ctx.T
        self.p = cp.Variable((n, T), name=f"{self.name}_p_mw")
        if self.commitment:
            self.u = cp.Variable((n, T), boolean=True, name=f"{self.name}_on")
        self.y = self._candidate_variable()
        cons = self._reactive(ctx) + self._products(ctx)
        if self.commitment:
            return cons + self._build_commitment(ctx)
        if self.y is not None:
            cons += [self.p <= cp.multiply(self.p_max, self._on()),
                     self.p >= cp.multiply(self.p_min, self._on())]  # fmt: skip
        else:
            cons += _finite_bounds(self.p, self.p_min, self.p_max, self.owner)
        cons += ramp_limits(
            self.p,
            self.c["ramp_up_mw_per_h"] * ctx.dt_h,
            self.c["ramp_down_mw_per_h"] * ctx.dt_h,
            self.p_initial,
        )
        return cons + self._pwl(ctx)

    def _candidate_variable(self):
        """The build decision of candidate units (``investment_cost`` given), else None."""
        if self.investment_cost is None:
            return None
        require(not self.commitment, f"{self.owner}: candidate units cannot also have commitment")
        require(
            np.isfinite(self.p_max).all() and np.isfinite(self.p_min).all(),
            f"{self.owner}: candidate units need finite p_min_mw and p_max_mw",
        )
        return cp.Variable(self.n, boolean=True, name=f"{self.name}_built")

    def _on(self):
        """Whether each unit runs, (n, T): commitment, build decision, or 1."""
        if self.commitment:
            return self.u
        if self.y is not None:
            return cp.reshape(self.y, (self.n, 1), order="F") @ np.ones((1, self.p.shape[1]))
        return 1.0

    def _build_commitment(self, ctx):
        n, T = self.n, ctx.T
        require(
            np.isfinite(self.p_max).all(), f"{self.owner}: unit commitment needs finite p_max_mw"
        )
        self.v = cp.Variable((n, T), nonneg=True, name=f"{self.name}_startup")
        self.w = cp.Variable((n, T), nonneg=True, name=f"{self.name}_shutdown")
        u_prev = cp.hstack([self.u0.reshape(-1, 1), self.u[:, :-1]])
        cons = [
            self.p >= cp.multiply(self.p_min, self.u),
            self.p <= cp.multiply(self.p_max, self.u),
            self.u - u_prev == self.v - self.w,
            self.v <= 1,
            self.w <= 1,
        ]
        cons += self._min_up_down(ctx)
        big = self.p_max.max(axis=1, keepdims=True)
        cons += ramp_limits(
            self.p,
            self.c["ramp_up_mw_per_h"] * ctx.dt_h,
            self.c["ramp_down_mw_per_h"] * ctx.dt_h,
            self.p_initial,
            extra_up=cp.multiply(big, self.v),
            extra_down=cp.multiply(big, self.w),
        )
        return cons + self._pwl(ctx)

    def _products(self, ctx):
        """Headroom and ramp limits of the offered reserve/ramp products (eqs. 13-16)."""
        self.offers.build(self.name, self.n, ctx.T)
        if not self.offers:
            return []
        up, down = self.offers.up_mw(), self.offers.down_mw()
        on = self._on()
        cons = []
        for held, sign, limit in ((up, 1, self.p_max), (down, -1, self.p_min)):
            if isinstance(held, float):
                continue
            rows = np.flatnonzero(np.isfinite(limit).all(axis=1))
            cons.append(sign * (self.p + sign * held)[rows] <= sign * _times(limit, on, rows))
            rate = self.c["ramp_up_mw_per_h" if sign > 0 else "ramp_down_mw_per_h"] * ctx.dt_h
            finite = np.flatnonzero(np.isfinite(rate))
            if finite.size:
                cons.append(held[finite] <= rate[finite].reshape(-1, 1))
        return cons

    def _min_up_down(self, ctx):
        cons = []
        for hours, changes, rhs in (
            ("min_up_h", self.v, self.u),
            ("min_down_h", self.w, 1 - self.u),
        ):
            widths = np.ceil(self.c[hours] / ctx.dt_h - 1e-9).astype(int)
            if widths.max(initial=0) > 1:
                W = window_sum_matrix(widths, ctx.T)
                cons.append(W @ cp.vec(changes, order="C") <= cp.vec(rhs, order="C"))
        return cons

    def _pwl(self, ctx):
        if self.pwl_cost is None:
            self.pwl_rate = None
            return []
        self.pwl_rate, cons = convex_pwl_epigraph(self.p, self.pwl_cost, self.owner)
        return cons

    def injection_mw(self):
        return self.p

    def _reactive(self, ctx):
        """Reactive output ``q_min <= q <= q_max`` where the formulation models it."""
        if not ctx.reactive:
            self.q = None
            return []
        self.q = cp.Variable((self.n, ctx.T), name=f"{self.name}_q_mvar")
        return _finite_bounds(self.q, self.q_min, self.q_max, self.owner)

    def injection_mvar(self):
        return self.q

    def cost_terms(self, ctx):
        c, hours = self.c, ctx.weighted_sum
        on = self._on() if self.commitment or self.y is not None else np.ones((self.n, ctx.T))
        terms = {"fixed": hours(cp.multiply(c["cost_per_h"].reshape(-1, 1), on))}
        if self.pwl_rate is not None:
            terms["energy"] = hours(self.pwl_rate)
        else:
            terms["energy"] = hours(c["cost_per_mwh"] @ self.p)
            if c["cost_per_mw2h"].any():
                terms["energy"] += hours(c["cost_per_mw2h"] @ cp.square(self.p))
        if self.commitment:
            occurrences = ctx.cost_hours / ctx.dt_h  # how often each period stands for
            terms["startup"] = (c["startup_cost"] @ self.v) @ occurrences
        if self.y is not None:
            terms["investment"] = self.investment @ self.y
        return terms | self.offers.cost_terms(ctx)

    def results(self, ctx):
        out = {"p_mw": self.p.value, "p_max_mw": self.p_max}
        if self.q is not None:
            out["q_mvar"] = self.q.value
        if self.commitment:
            out["on"] = np.round(self.u.value)
            out["startup"] = np.round(self.v.value, 9)
        if self.y is not None:
            out["built"] = np.repeat(np.round(self.y.value).reshape(-1, 1), ctx.T, axis=1)
        return out | self.offers.results()


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
    offers : dict, optional
        Reserve/ramp products offered (see :class:`Generator`).
    """

    result_table = "res_ext_grid"

    def __init__(
        self,
        bus,
        price_per_mwh=0.0,
        p_min_mw=-math.inf,
        p_max_mw=math.inf,
        *,
        cost_per_mw2h=0.0,
        cost_per_h=0.0,
        pwl_cost=None,
        q_min_mvar=-math.inf,
        q_max_mvar=math.inf,
        offers=None,
        name=None,
        unit_labels=None,
    ):
        super().__init__(
            bus,
            p_max_mw,
            p_min_mw,
            cost_per_mw2h=cost_per_mw2h,
            cost_per_h=cost_per_h,
            pwl_cost=pwl_cost,
            q_min_mvar=q_min_mvar,
            q_max_mvar=q_max_mvar,
            offers=offers,
            name=name,
            unit_labels=unit_labels,
        )
        self.price_per_mwh = price_per_mwh

    def prepare(self, ctx):
        super().prepare(ctx)
        self.price = unit_or_profile(
            self.price_per_mwh, self.n, ctx.periods, owner=self.owner, param="price_per_mwh"
        )

    def cost_terms(self, ctx):
        terms = super().cost_terms(ctx)
        if self.pwl_rate is None:
            terms["energy"] += ctx.weighted_sum(cp.multiply(self.price, self.p))
        return terms


def _times(limit, on, rows):
    """``limit * on`` on ``rows`` (``on``: commitment variable or 1)."""
    if isinstance(on, float):
        return limit[rows]
    return cp.multiply(limit[rows], on[rows])


def _finite_bounds(p, low, high, owner):
    """``low <= p <= high`` on the units whose bound is finite in every period."""
    cons = []
    for bound, sense in ((low, -1), (high, 1)):
        finite = np.isfinite(bound)
        rows = np.flatnonzero(finite.all(axis=1))
        mixed = finite.any(axis=1) & ~finite.all(axis=1)
        if mixed.any():
            raise InputError(
                f"{owner}: unit {int(np.argmax(mixed))} has a limit that is finite in "
                "some periods and infinite in others"
            )
        if rows.size:
            cons.append(sense * p[rows, :] <= sense * bound[rows, :])
    return cons
