"""Electric storage (batteries, pumped hydro treated as a battery)."""

import cvxpy as cp
import numpy as np

from gridflex.conventions import CONSUMER
from gridflex.devices.base import Device
from gridflex.devices.blocks import storage_dynamics
from gridflex.profiles import (
    as_column,
    check_fraction,
    check_nonnegative,
    check_order,
    unit_values,
)


class Storage(Device):
    """Storage units with charge/discharge efficiencies and energy limits.

    .. math::

        e_{i,t+1} = r_i e_{i,t} + dt\\,(\\eta^{ch}_i p^{ch}_{i,t} - p^{dis}_{i,t} / \\eta^{dis}_i)

        0 \\le p^{ch} \\le \\overline P^{ch}, \\quad 0 \\le p^{dis} \\le \\overline P^{dis}, \\quad
        \\underline E \\le e \\le \\overline E, \\quad e_{i,0} = E^0_i, \\quad e_{i,T} \\ge E^T_i

    with retention ``r = (1 - self_discharge_per_h) ** dt_h`` (the shared
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
    """

    sign = CONSUMER
    result_table = "res_storage"

    def __init__(
        self,
        bus,
        p_mw,
        e_mwh,
        *,
        e_min_mwh=0.0,
        e_initial_mwh=None,
        e_final_mwh=None,
        eta_charge=0.95,
        eta_discharge=0.95,
        self_discharge_per_h=0.0,
        p_charge_mw=None,
        p_discharge_mw=None,
        cost_per_mwh=0.0,
        exclusive_modes=False,
        name=None,
        unit_labels=None,
    ):
        super().__init__(bus, name=name, unit_labels=unit_labels)
        self.params = dict(
            p_charge_mw=p_mw if p_charge_mw is None else p_charge_mw,
            p_discharge_mw=p_mw if p_discharge_mw is None else p_discharge_mw,
            e_mwh=e_mwh,
            e_min_mwh=e_min_mwh,
            eta_charge=eta_charge,
            eta_discharge=eta_discharge,
            self_discharge_per_h=self_discharge_per_h,
            cost_per_mwh=cost_per_mwh,
        )
        self.e_initial_mwh, self.e_final_mwh = e_initial_mwh, e_final_mwh
        self.exclusive_modes = bool(exclusive_modes)

    def prepare(self, ctx):
        super().prepare(ctx)
        o, n = self.owner, self.n
        v = {k: unit_values(x, n, owner=o, param=k) for k, x in self.params.items()}
        for k in ("p_charge_mw", "p_discharge_mw", "e_mwh", "e_min_mwh", "cost_per_mwh"):
            check_nonnegative(v[k], owner=o, param=k)
        for k in ("eta_charge", "eta_discharge"):
            check_fraction(v[k], owner=o, param=k, allow_zero=False)
        check_fraction(v["self_discharge_per_h"], owner=o, param="self_discharge_per_h")
        check_order(v["e_min_mwh"], v["e_mwh"], owner=o, low_name="e_min_mwh", high_name="e_mwh")
        e0 = v["e_mwh"] / 2 if self.e_initial_mwh is None else self.e_initial_mwh
        v["e_initial_mwh"] = unit_values(e0, n, owner=o, param="e_initial_mwh")
        eT = v["e_initial_mwh"] if self.e_final_mwh is None else self.e_final_mwh
        v["e_final_mwh"] = unit_values(eT, n, owner=o, param="e_final_mwh")
        for k in ("e_initial_mwh", "e_final_mwh"):
            check_order(v["e_min_mwh"], v[k], owner=o, low_name="e_min_mwh", high_name=k)
            check_order(v[k], v["e_mwh"], owner=o, low_name=k, high_name="e_mwh")
        self.v = v

    def build(self, ctx):
        n, T, v, col = self.n, ctx.T, self.v, as_column
        self.p_ch = cp.Variable((n, T), nonneg=True, name=f"{self.name}_p_charge_mw")
        self.p_dis = cp.Variable((n, T), nonneg=True, name=f"{self.name}_p_discharge_mw")
        self.e = cp.Variable((n, T + 1), name=f"{self.name}_e_mwh")
        retention = col((1.0 - v["self_discharge_per_h"]) ** ctx.dt_h)
        inflow = ctx.dt_h * (
            cp.multiply(col(v["eta_charge"]), self.p_ch)
            - cp.multiply(col(1.0 / v["eta_discharge"]), self.p_dis)
        )
        cons = [
            storage_dynamics(self.e, inflow, retention),
            self.e >= col(v["e_min_mwh"]),
            self.e <= col(v["e_mwh"]),
            self.e[:, 0] == v["e_initial_mwh"],
            self.e[:, T] >= v["e_final_mwh"],
        ]
        return cons + self._power_limits(n, T)

    def _power_limits(self, n, T):
        p_ch_max, p_dis_max = as_column(self.v["p_charge_mw"]), as_column(self.v["p_discharge_mw"])
        if not self.exclusive_modes:
            return [self.p_ch <= p_ch_max, self.p_dis <= p_dis_max]
        self.z = cp.Variable((n, T), boolean=True, name=f"{self.name}_charging")
        return [
            self.p_ch <= cp.multiply(p_ch_max, self.z),
            self.p_dis <= cp.multiply(p_dis_max, 1 - self.z),
        ]

    def injection_mw(self):
        return self.p_dis - self.p_ch

    def cost_terms(self, ctx):
        if not self.v["cost_per_mwh"].any():
            return {}
        return {"degradation": ctx.weighted_sum(self.v["cost_per_mwh"] @ self.p_dis)}

    def results(self, ctx):
        e_end = self.e.value[:, 1:]
        cap = np.where(self.v["e_mwh"] > 0, self.v["e_mwh"], np.nan).reshape(-1, 1)
        return {
            "p_mw": self.p_ch.value - self.p_dis.value,
            "p_charge_mw": self.p_ch.value,
            "p_discharge_mw": self.p_dis.value,
            "e_mwh": e_end,
            "soc_percent": 100.0 * e_end / cap,
        }
