"""System requirements for reserve and flexible-ramp products.

``model.add(gf.Requirement(gf.products.SPINNING, mw=300))`` adds, for every period t,

.. math:: \\sum_{d} \\mathrm{provided}_{d,t} \\ge R_t

where ``provided`` is what each device reports through
:meth:`~gridflex.devices.base.Device.provision_mw` (its offered product, plus for some devices
a last resort such as shed load or spilled wind, when they are told to count it). The dual of
the constraint, per MW and hour, is the product's price (``res_requirement.price_per_mwh``).

:func:`flexible_ramp_requirements` builds the up and down flexible-ramp requirements of seed
003 (Chang et al. 2022, eqs. 20-21) from a net-load forecast.
"""

from dataclasses import dataclass, field

import cvxpy as cp
import numpy as np
import pandas as pd

from gridflex.errors import InputError
from gridflex.parameters import Custom, Declared, Number, Shape
from gridflex.products import RAMP_DOWN, RAMP_UP, as_product
from gridflex.profiles import period_label
from gridflex.timeaxis import TimeAxis


@dataclass(eq=False)
class SystemBuild:
    """What a system constraint created in one model: its constraints and named expressions."""

    constraints: list
    expressions: dict = field(default_factory=dict)


class SystemConstraint(Declared):
    """A constraint of the whole model over several devices (added with ``Model.add``).

    Subclasses declare their parameters (:mod:`gridflex.parameters`) and implement
    :meth:`build` (the builds of the model's devices by name, the periods -> a
    :class:`SystemBuild`); they keep nothing of any model.
    """

    def __init__(self, *, name=None, **params):
        self.name = name
        self._assign(params)

    def build(self, builds, periods):
        raise NotImplementedError


def _screen_product(value, owner, param):
    return as_product(value, owner)


class Requirement(SystemConstraint):
    """Total capacity of ``product`` the devices must hold in every period.

    Parameters
    ----------
    product : gridflex.products.Product or str
    mw : float or array (T,)
        Requirement per period, MW (>= 0).
    name : str, optional
        Label in the results (default: the product's name).
    """

    product = Custom("product", _screen_product, doc="the product (or its name)")
    mw = Number("MW", Shape.PROFILE, low=0, doc="requirement per period")

    def __init__(self, product, mw, *, name=None):
        super().__init__(product=product, mw=mw, name=name)
        if self.name is None:
            self.name = self.product.name

    def build(self, builds, periods):
        """The constraint ``sum of provisions >= mw``, one row per period."""
        mw = self.parameter_values(1, periods).mw.reshape(-1)
        provided = [
            e for b in builds.values() if (e := b.device.provision_mw(b, self.product)) is not None
        ]
        if not provided:
            if mw.any():
                raise InputError(
                    f"{self.owner}: no device in the model provides '{self.product}' "
                    "(give a device offers={...} for it)"
                )
            return SystemBuild([], {"mw": mw})
        self._check_bounds(builds, mw, periods)
        total = cp.Constant(0.0) + sum(provided[1:], provided[0])  # an expression
        constraint = total >= mw
        return SystemBuild([constraint], {"mw": mw, "provided": total, "constraint": constraint})

    def _check_bounds(self, builds, mw, periods):
        """Refuse a requirement above what its providers can hold at most in some period, when
        every provider knows its bound before the solve (see ``provision_bound_mw``)."""
        bounds = {}
        for b in builds.values():
            if b.device.provision_mw(b, self.product) is not None:
                bounds[b.device.name] = b.device.provision_bound_mw(b, self.product)
        if any(bound is None for bound in bounds.values()):
            return
        most = np.sum(list(bounds.values()), axis=0)
        short = np.flatnonzero(mw > most + 1e-9 * np.maximum(1.0, most))
        if short.size:
            t = short[0]
            each = ", ".join(f"{name} {bound[t]:.6g}" for name, bound in bounds.items())
            raise InputError(
                f"{self.owner}: {mw[t]:.6g} MW of '{self.product}' asked in period "
                f"{period_label(periods, t)} ({short.size} period(s) in all), but its providers "
                f"can hold at most {most[t]:.6g} MW ({each}): lower the requirement or add "
                "providers"
            )

    def results(self, build, hours):
        """Requirement, provision and price per period (``hours``: per period, (T,))."""
        mw, e = build.expressions["mw"], build.expressions
        provided = np.zeros_like(mw) if "provided" not in e else e["provided"].value
        dual = 0.0 if "constraint" not in e else e["constraint"].dual_value
        price = np.full_like(mw, np.nan) if dual is None else np.asarray(dual) / hours
        return {
            "requirement_mw": mw,
            "provided_mw": np.asarray(provided, dtype=float),
            "price_per_mwh": price * np.ones_like(mw),
        }


def flexible_ramp_requirements(net_load_mw, kappa, previous_net_load_mw=None, time=None):
    """Up and down flexible-ramp requirements from a net-load forecast (seed 003, eqs. 20-21).

    .. math::

        P^{NL,max}_t = P^{NL}_t + \\kappa |P^{NL}_t|, \\quad
        P^{NL,min}_t = P^{NL}_t - \\kappa |P^{NL}_t|

        FRUN_t = \\max(0, P^{NL,max}_t - P^{NL}_{t-1}), \\quad
        FRDN_t = \\max(0, P^{NL}_{t-1} - P^{NL,min}_t)

    Parameters
    ----------
    net_load_mw : array (T,)
        Forecast load minus forecast renewable output, MW.
    kappa : float
        Net-load fluctuation coefficient (largest forecast error rate), in [0, 1).
    previous_net_load_mw : float, optional
        Net load in the period before the horizon, or before each open block (default: the
        first period's own, i.e. only the band).
    time : gridflex.timeaxis.TimeAxis, optional
        The model's time axis (``model.time``): ``t-1`` stays inside each block (a cyclic
        block's first period looks at its last). Default: one open block.

    Returns
    -------
    (Requirement, Requirement)
        ``RAMP_UP`` and ``RAMP_DOWN`` requirements.
    """
    net_load = np.asarray(net_load_mw, dtype=float).reshape(-1)
    if not 0.0 <= float(kappa) < 1.0:
        raise InputError(f"flexible_ramp_requirements: kappa must be in [0, 1), got {kappa}")
    time = TimeAxis(len(net_load)) if time is None else time
    if time.T != len(net_load):
        raise InputError(
            f"flexible_ramp_requirements: {len(net_load)} net loads for {time.T} periods"
        )
    before = None if previous_net_load_mw is None else [float(previous_net_load_mw)]
    previous = time.previous(net_load.reshape(1, -1), before)[0]
    band = kappa * np.abs(net_load)  # eq. 20 as (1 +- kappa) NL flips for a negative net load
    up = np.maximum(0.0, net_load + band - previous)
    down = np.maximum(0.0, previous - (net_load - band))
    return Requirement(RAMP_UP, up), Requirement(RAMP_DOWN, down)


def requirement_table(requirements, builds, periods, hours):
    """``res_requirement``: columns (quantity, requirement name), one row per period."""
    frames = {}
    for req in (r for r in requirements if isinstance(r, Requirement)):
        for quantity, values in req.results(builds[req.name], hours).items():
            frames.setdefault(quantity, {})[req.name] = values
    if not frames:
        return None
    parts = {q: pd.DataFrame(cols, index=periods) for q, cols in frames.items()}
    table = pd.concat(parts, axis=1)
    table.columns.names = ["quantity", "element"]
    return table
