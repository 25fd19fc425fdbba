"""Electric storage (batteries, pumped hydro treated as a battery)."""

import cvxpy as cp
import numpy as np

from gridflex.conventions import CONSUMER
from gridflex.devices.base import Device, Role, declared, raw_values
from gridflex.devices.blocks import store_edges, store_limits
from gridflex.parameters import Flag, Number
from gridflex.products import (
    Offers,
    build_offers,
    down_mw,
    energy_headroom,
    offer_cost_terms,
    offer_results,
    up_mw,
)
from gridflex.profiles import as_column


class Storage(Device):
    """Storage units with charge/discharge efficiencies and energy limits.

    .. math::

        e_{i,t} = r_i e_{i,t^-} + dt\\,(\\eta^{ch}_i p^{ch}_{i,t} - p^{dis}_{i,t} / \\eta^{dis}_i)

        0 \\le p^{ch} \\le \\overline P^{ch}, \\quad 0 \\le p^{dis} \\le \\overline P^{dis}, \\quad
        \\underline E \\le e \\le \\overline E

    with ``e`` the energy at the end of each period and ``t^-`` the period before ``t`` in its
    time block (:mod:`gridflex.timeaxis`): in a cyclic block the first period follows the last;
    an open block starts from ``e_initial_mwh`` (``E^0``) and ends with ``e >= e_final_mwh``
    (``E^T``). Retention ``r = (1 - self_discharge_per_h) ** dt_h`` (the shared
    :func:`~gridflex.devices.blocks.storage_dynamics` block). With ``exclusive_modes`` a binary
    ``z`` forbids charging and discharging in the same period (``p^ch <= P z``,
    ``p^dis <= P (1 - z)``); without it, simultaneous charge and discharge is possible but never
    optimal while prices are non-negative. Reported ``p_mw = p^ch - p^dis`` (consuming positive,
    like pandapower's ``res_storage``). Cost: ``cost_per_mwh`` on discharged energy.

    Parameters
    ----------
    bus : int or array_like
    p_mw : float or array (n,)
        Power rating for charging and discharging.
    e_mwh : float or array (n,)
        Energy capacity.
    e_min_mwh : float or array (n,)
        Lowest energy content (default 0).
    e_initial_mwh : float or array (n,), optional
        Initial energy (default half the capacity).
    e_final_mwh : float or array (n,), optional
        Lowest energy at the end (default: the initial energy, so the horizon cannot borrow).
    eta_charge, eta_discharge : float or array (n,)
        Efficiencies in (0, 1].
    self_discharge_per_h : float or array (n,)
        Share of the content lost per hour, in [0, 1).
    p_charge_mw, p_discharge_mw : float or array (n,), optional
        Separate ratings (default ``p_mw``).
    cost_per_mwh : float or array (n,)
        Degradation cost on discharged energy.
    exclusive_modes : bool
        Add binaries forbidding simultaneous charge and discharge.
    offers : dict, optional
        Reserve/ramp products offered: product -> offered cost per MW and hour. Held up
        products ``u`` fit in the power headroom ``p_dis + u <= P_dis + p_ch`` (less charging
        counts) and in the stored energy for each product's duration, through the periods it lasts
        (:func:`gridflex.products.energy_headroom`); down products ``w`` in
        ``p_ch + w <= P_ch + p_dis`` and in the free capacity. Cost component ``reserves``.
    """

    sign = CONSUMER
    result_table = "res_storage"

    p_mw = Number("MW", low=0, doc="power rating for charging and discharging")
    e_mwh = Number("MWh", low=0, doc="energy capacity")
    e_min_mwh = Number("MWh", low=0, doc="lowest energy content")
    e_initial_mwh = Number("MWh", low=0, optional=True, doc="initial energy (None: half of e_mwh)")
    e_final_mwh = Number("MWh", low=0, optional=True, doc="lowest final energy (None: initial)")
    eta_charge = Number("1", low=0, high=1, low_open=True, doc="charging efficiency")
    eta_discharge = Number("1", low=0, high=1, low_open=True, doc="discharging efficiency")
    self_discharge_per_h = Number("1/h", low=0, high=1, high_open=True, doc="share lost per hour")
    p_charge_mw = Number("MW", low=0, optional=True, doc="charging rating (None: p_mw)")
    p_discharge_mw = Number("MW", low=0, optional=True, doc="discharging rating (None: p_mw)")
    cost_per_mwh = Number("$/MWh", low=0, doc="degradation cost on discharged energy")
    exclusive_modes = Flag(doc="binaries forbid charging and discharging in one period")
    offers = Offers()

    def __init__(
        self, bus, p_mw, e_mwh, *, e_min_mwh=0.0, e_initial_mwh=None, e_final_mwh=None,
        eta_charge=0.95, eta_discharge=0.95, self_discharge_per_h=0.0, p_charge_mw=None,
        p_discharge_mw=None, cost_per_mwh=0.0, exclusive_modes=False, offers=None, name=None,
        unit_labels=None,
    ):  # fmt: skip
        super().__init__(**declared(locals()))

    def derive(self, v, ctx):
        o = self.owner
        v.offers = v.offers or {}
        v.p_charge_mw = v.p_mw if v.p_charge_mw is None else v.p_charge_mw
        v.p_discharge_mw = v.p_mw if v.p_discharge_mw is None else v.p_discharge_mw
        store_edges(v, o, "e_min_mwh", "e_mwh", "e_initial_mwh", "e_final_mwh")

    def formulate(self, b):
        n, T, v = self.n, b.ctx.T, b.values
        p_ch = b.variable("p_charge_mw", (n, T), nonneg=True)
        p_dis = b.variable("p_discharge_mw", (n, T), nonneg=True)
        e = b.variable("e_mwh", (n, T))  # at the end of each period
        cons = store_limits(b.ctx.time, e, p_ch, p_dis, v.eta_charge, v.eta_discharge,
                            v.self_discharge_per_h, v.e_min_mwh, v.e_mwh, v.e_initial_mwh,
                            v.e_final_mwh)  # fmt: skip
        return cons + self._power_limits(b) + self._products(b)

    def _products(self, b):
        """Offered products within the power headroom and the energy for their durations."""
        v, col = b.values, as_column
        build_offers(b, v.offers)
        if not v.offers:
            return []
        p_ch, p_dis = b["p_charge_mw"], b["p_discharge_mw"]
        cons = energy_headroom(b, b["e_mwh"], col(v.e_min_mwh), col(v.e_mwh),
                               col(v.eta_charge), col(v.eta_discharge))  # fmt: skip
        up, down = up_mw(b), down_mw(b)
        if not isinstance(up, float):
            cons.append(p_dis + up <= col(v.p_discharge_mw) + p_ch)
        if not isinstance(down, float):
            cons.append(p_ch + down <= col(v.p_charge_mw) + p_dis)
        return cons

    def provision_bound_mw(self, b, product):
        """At most ``P_dis + P_ch`` per unit (from full charging to full discharging)."""
        v = raw_values(b.values)
        if product not in v.offers:
            return None
        swing = np.sum(np.asarray(v.p_charge_mw) + np.asarray(v.p_discharge_mw))
        return np.full(b.ctx.T, float(swing))

    def _power_limits(self, b):
        v, p_ch, p_dis = b.values, b["p_charge_mw"], b["p_discharge_mw"]
        p_ch_max, p_dis_max = as_column(v.p_charge_mw), as_column(v.p_discharge_mw)
        if not v.exclusive_modes:
            return [p_ch <= p_ch_max, p_dis <= p_dis_max]
        z = b.variable("charging", p_ch.shape, Role.COMMITMENT, boolean=True)
        return [p_ch <= cp.multiply(p_ch_max, z), p_dis <= cp.multiply(p_dis_max, 1 - z)]

    def injection_mw(self, b):
        return b["p_discharge_mw"] - b["p_charge_mw"]

    def cost_terms(self, b):
        cost, terms = b.values.cost_per_mwh, offer_cost_terms(b, b.values.offers)
        if cost.any():
            terms["degradation"] = b.ctx.weighted_sum(cost @ b["p_discharge_mw"])
        return terms

    def results(self, b):
        p_ch, p_dis, e_end = b.value("p_charge_mw"), b.value("p_discharge_mw"), b.value("e_mwh")
        cap = np.where(b.values.e_mwh > 0, b.values.e_mwh, np.nan).reshape(-1, 1)
        return {
            "p_mw": p_ch - p_dis,
            "p_charge_mw": p_ch,
            "p_discharge_mw": p_dis,
            "e_mwh": e_end,
            "soc_percent": 100.0 * e_end / cap,
        } | offer_results(b)
