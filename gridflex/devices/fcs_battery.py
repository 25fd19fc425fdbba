"""Fast charging stations with an integrated battery, in the operation modes of seed 004."""

import cvxpy as cp
import numpy as np

from gridflex.conventions import CONSUMER
from gridflex.devices.base import Device, Role, declared, raw_values
from gridflex.devices.blocks import store_edges, store_limits
from gridflex.errors import InputError
from gridflex.parameters import Choice, Integer, Number, Shape
from gridflex.products import (
    Offers,
    build_offers,
    down_mw,
    energy_headroom,
    offer_cost_terms,
    offer_results,
    up_mw,
)
from gridflex.profiles import as_column, check_order, period_label


class FastChargingBattery(Device):
    r"""Fast charging stations whose chargers draw from an integrated battery (EES), in the
    operation modes of Pavic, Capuder, Kuzle (seed 004, Table 2, eqs. FCS-(16)-(30)).

    Each unit is a station (or an aggregate of identical ones) of ``G`` charging units rated
    ``P^min .. P^max`` each, serving the fast-charging demand ``p^f_t`` (FCS-(12), see
    :func:`gridflex.reserve_sizing.fast_charging_mw`). With ``p^c``, ``p^d`` the grid charge and
    discharge:

    * ``UFC`` (16)-(17): no battery; the grid serves the chargers, ``p^c = p^f``, ``p^d = 0``.
    * ``G2S`` (18)-(23), the continuous form (notes-004 2.5: the printed (20), (22) use an
      ``x^c`` that G2S never defines): ``P^min G <= p^c <= P^max G``, ``p^d = 0``;
      up products ``<= p^c - P^min G`` (less charging), down ``<= P^max G - p^c``.
    * ``S2G`` (24)-(30): ``x_t`` in ``{0..G}`` units charging, the others discharging:

      .. math::

          P^{min}x \le p^c \le P^{max}x, \quad P^{min}(G-x) \le p^d \le P^{max}(G-x)

          \textstyle\sum up \le P^{max}(G-x) - p^d + p^c - P^{min}x, \quad
          \textstyle\sum down \le p^d - P^{min}(G-x) + P^{max}x - p^c

    * the battery, G2S and S2G (missing in the paper, notes-004 2.5):
      ``e_t = e_{t^-} + dt (eta_c p^c - (p^d + p^f) / eta_d)``, ``0 <= e <= E`` (the shared
      :func:`~gridflex.devices.blocks.store_limits`: cyclic blocks end where they start, open
      ones from ``e_initial_mwh`` to at least ``e_final_mwh``), and held products keep the
      energy for their durations (:func:`gridflex.products.energy_headroom`).

    The NR modes offer nothing; the YR modes are the same with ``offers``. UFC stations hold no
    reserve: their YR mode raises the requirement instead (eq. 8, ``gf.size_reserves(...,
    fcs_uncontrolled_mw=...)``). Reported ``p_mw = p^c - p^d`` (consuming positive).

    Parameters
    ----------
    bus : int or array_like of int
    fast_charging_mw : float, array (n,) or profile (n, T)
        ``p^f``: the power the chargers deliver to the EVs.
    mode : {"UFC", "G2S", "S2G"}
    units : int or array (n,)
        ``G``: charging units per station (S2G: the most that can charge at once).
    unit_p_max_mw, unit_p_min_mw : float or array (n,)
        ``P^max``, ``P^min`` per unit (``P^min > 0``: in S2G every unit charges or discharges).
    e_mwh : float or array (n,)
        Battery capacity ``E`` (0 in UFC).
    e_initial_mwh, e_final_mwh : float or array (n,), optional
        An open block's first and lowest last energy (default half of ``E``, then the initial).
    eta_charge, eta_discharge : float or array (n,)
        Battery efficiencies (notes-004 3.3: 0.95, assumed).
    offers : dict, optional
        Products offered (the YR modes): product -> offered cost per MW and hour.
    """

    sign = CONSUMER
    result_table = "res_fcs_battery"

    fast_charging_mw = Number("MW", Shape.PROFILE, low=0, doc="p^f: demand of the chargers")
    mode = Choice(("UFC", "G2S", "S2G"), doc="operation mode (Table 2)")
    units = Integer("-", low=1, doc="G: charging units per station")
    unit_p_max_mw = Number("MW", low=0, doc="P^max of one unit")
    unit_p_min_mw = Number("MW", low=0, doc="P^min of one unit")
    e_mwh = Number("MWh", low=0, doc="battery capacity E (0 in UFC)")
    e_initial_mwh = Number("MWh", low=0, optional=True, doc="initial energy (None: half of E)")
    e_final_mwh = Number("MWh", low=0, optional=True, doc="lowest final energy (None: initial)")
    eta_charge = Number("1", low=0, high=1, low_open=True, doc="battery charging efficiency")
    eta_discharge = Number("1", low=0, high=1, low_open=True, doc="discharging efficiency")
    offers = Offers()

    def __init__(
        self, bus, fast_charging_mw, mode, units, unit_p_max_mw, *, unit_p_min_mw=0.0,
        e_mwh=0.0, e_initial_mwh=None, e_final_mwh=None, eta_charge=0.95, eta_discharge=0.95,
        offers=None, name=None, unit_labels=None,
    ):  # fmt: skip
        super().__init__(**declared(locals()))

    def derive(self, v, ctx):
        o = self.owner
        v.offers = v.offers or {}
        v.e_min_mwh = np.zeros_like(v.e_mwh)
        check_order(v.unit_p_min_mw, v.unit_p_max_mw, owner=o, low_name="unit_p_min_mw",
                    high_name="unit_p_max_mw")  # fmt: skip
        if v.mode == "UFC":
            return _check_ufc(o, v, ctx)
        _check_recharge(o, v)
        empty = np.flatnonzero((v.e_mwh <= 0) & (v.fast_charging_mw.max(axis=1) > 0))
        if empty.size:
            raise InputError(f"{o}: mode {v.mode!r} serves the chargers from the battery, but "
                             f"unit {empty[0]} has e_mwh = 0 (use mode 'UFC')")  # fmt: skip
        store_edges(v, o, "e_min_mwh", "e_mwh", "e_initial_mwh", "e_final_mwh")

    def formulate(self, b):
        v = b.values
        build_offers(b, v.offers)
        if v.mode == "UFC":
            b.expressions["p_charge_mw"] = cp.Constant(v.fast_charging_mw)
            b.expressions["p_discharge_mw"] = cp.Constant(np.zeros_like(v.fast_charging_mw))
            return []
        n, T = self.n, b.ctx.T
        p_ch = b.variable("p_charge_mw", (n, T), nonneg=True)
        p_dis = b.variable("p_discharge_mw", (n, T), nonneg=True)
        e = b.variable("e_mwh", (n, T))
        cons = store_limits(b.ctx.time, e, p_ch, p_dis + v.fast_charging_mw, v.eta_charge,
                            v.eta_discharge, np.zeros(n), v.e_min_mwh, v.e_mwh,
                            v.e_initial_mwh, v.e_final_mwh)  # fmt: skip
        modes = self._g2s(b) if v.mode == "G2S" else self._s2g(b)
        return cons + modes + self._energy_for_products(b)

    def _g2s(self, b):
        """(18)-(23): charge between ``P^min G`` and ``P^max G``; products by moving it."""
        v, p_ch = b.values, b["p_charge_mw"]
        low, high = as_column(v.unit_p_min_mw * v.units), as_column(v.unit_p_max_mw * v.units)
        cons = [p_ch >= low, p_ch <= high, b["p_discharge_mw"] == 0]
        up, down = up_mw(b), down_mw(b)
        if not isinstance(up, float):
            cons.append(up <= p_ch - low)
        if not isinstance(down, float):
            cons.append(down <= high - p_ch)
        return cons

    def _s2g(self, b):
        """(24)-(30): ``x`` units charging, ``G - x`` discharging; products in both."""
        v, p_ch, p_dis = b.values, b["p_charge_mw"], b["p_discharge_mw"]
        x = b.variable("units_charging", p_ch.shape, Role.COMMITMENT, integer=True)
        g, lo, hi = (as_column(a) for a in (v.units, v.unit_p_min_mw, v.unit_p_max_mw))
        rest = g - x
        cons = [x >= 0, x <= g, p_ch >= cp.multiply(lo, x), p_ch <= cp.multiply(hi, x),
                p_dis >= cp.multiply(lo, rest), p_dis <= cp.multiply(hi, rest)]  # fmt: skip
        up, down = up_mw(b), down_mw(b)
        if not isinstance(up, float):  # (27), (29)
            cons.append(up <= cp.multiply(hi, rest) - p_dis + p_ch - cp.multiply(lo, x))
        if not isinstance(down, float):  # (28), (30)
            cons.append(down <= p_dis - cp.multiply(lo, rest) + cp.multiply(hi, x) - p_ch)
        return cons

    def _energy_for_products(self, b):
        v, col = b.values, as_column
        if not v.offers:
            return []
        return energy_headroom(b, b["e_mwh"], col(v.e_min_mwh), col(v.e_mwh),
                               col(v.eta_charge), col(v.eta_discharge))  # fmt: skip

    def provision_bound_mw(self, b, product):
        """``(P^max - P^min) G`` per station and period in both G2S and S2G (from (27)-(30)
        with ``p^d >= P^min (G - x)`` and ``p^c <= P^max x``)."""
        v = raw_values(b.values)
        if product not in v.offers:
            return None
        span = (v.unit_p_max_mw - v.unit_p_min_mw) * v.units
        return np.full(b.ctx.T, float(np.sum(span)))

    def injection_mw(self, b):
        return b["p_discharge_mw"] - b["p_charge_mw"]

    def cost_terms(self, b):
        return offer_cost_terms(b, b.values.offers)

    def results(self, b):
        v = b.values
        p_ch, p_dis = _value(b["p_charge_mw"]), _value(b["p_discharge_mw"])
        out = {"p_mw": p_ch - p_dis, "p_charge_mw": p_ch, "p_discharge_mw": p_dis,
               "fast_charging_mw": v.fast_charging_mw}  # fmt: skip
        if v.mode != "UFC":
            out["e_mwh"] = b.value("e_mwh")
        if v.mode == "S2G":
            out["units_charging"] = np.round(b.value("units_charging")) + 0.0  # no -0
        return out | offer_results(b)


def _value(expression):
    return np.asarray(expression.value, dtype=float)


def _check_recharge(owner, v):
    """The grid must be able to put back, on average, what the chargers take through both
    efficiencies (a cyclic block, or an open one ending no lower than it starts)."""
    need = v.fast_charging_mw.mean(axis=1) / (v.eta_charge * v.eta_discharge)
    short = np.flatnonzero(need > v.unit_p_max_mw * v.units + 1e-9)
    if short.size:
        k = short[0]
        raise InputError(f"{owner}: unit {k}'s chargers take {need[k]:.6g} MW on average "
                         f"through the battery, more than its {v.units[k]:g} x "
                         f"{v.unit_p_max_mw[k]:.6g} MW can charge")  # fmt: skip


def _check_ufc(owner, v, ctx):
    over = v.fast_charging_mw > (v.unit_p_max_mw * v.units)[:, None] + 1e-9
    if over.any():
        k, t = np.argwhere(over)[0]
        when = period_label(ctx.periods, t)
        raise InputError(f"{owner}: mode 'UFC' draws the chargers' {v.fast_charging_mw[k, t]:.6g}"
                         f" MW from the grid in period {when}, above unit {k}'s "
                         f"{v.units[k]:g} x {v.unit_p_max_mw[k]:.6g} MW")  # fmt: skip
    if v.offers:
        raise InputError(f"{owner}: mode 'UFC' holds no reserve (its YR mode raises the "
                         "requirement instead: gf.size_reserves(..., fcs_uncontrolled_mw=...)); "
                         "offers need mode 'G2S' or 'S2G'")  # fmt: skip
    if (v.e_mwh > 0).any():
        raise InputError(f"{owner}: mode 'UFC' has no battery, but e_mwh > 0")
