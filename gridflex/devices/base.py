"""Device: the base class every device derives from.

A device holds ``n`` units of one kind (vectorised, like a pandapower table). Its life in a
model has three steps, called by :class:`~gridflex.model.Model`:

1. :meth:`Device.prepare` checks and normalises every parameter against the model's grid and
   periods, raising :class:`~gridflex.errors.InputError` before anything is built;
2. :meth:`Device.build` creates the variables (shape ``(n, T)``, states ``(n, T + 1)``) once and
   returns the constraints;
3. :meth:`Device.results` returns named result arrays, converted to DataFrames by the model.

The network sees a device only through :meth:`Device.injection_mw` (one row per terminal,
producing positive) and :attr:`Device.terminal_buses`; a device never reaches into the
formulation. See :mod:`gridflex.conventions` for the sign convention of reported results.
"""

from dataclasses import dataclass, field
from typing import ClassVar

import cvxpy as cp
import numpy as np
import pandas as pd

from gridflex.conventions import CONSUMER
from gridflex.errors import InputError


@dataclass(frozen=True)
class BuildContext:
    """What a device may know about the model it is built into."""

    grid: object  # gridflex.grid.Grid of the device's network
    periods: pd.Index
    dt_h: float
    reactive: bool = False  # the device's network (or one of them) models reactive power
    grids: dict = field(default_factory=dict)  # every network's Grid by name
    weights_h: np.ndarray | None = None  # hours each period stands for in the objective

    @property
    def T(self):
        return len(self.periods)

    @property
    def cost_hours(self):
        """Hours each period stands for in the objective, (T,): ``dt_h`` unless weighted."""
        if self.weights_h is None:
            return np.full(self.T, self.dt_h)
        return self.weights_h

    def weighted_sum(self, expr):
        """``sum_t w_t sum_i expr[i, t]``: a cost rate (per hour) over the periods' hours."""
        per_period = cp.sum(expr, axis=0) if len(expr.shape) == 2 else expr
        return per_period @ self.cost_hours


class Device:
    """Base class of all devices.

    Subclasses set :attr:`sign` (``PRODUCER`` or ``CONSUMER``), :attr:`result_table` (the
    pandapower-like result table their units appear in) and implement :meth:`prepare`,
    :meth:`build`, :meth:`injection_mw`, :meth:`cost_terms` and :meth:`results`.

    Parameters
    ----------
    bus : int or array_like of int
        pandapower bus index of each unit.
    name : str, optional
        Name of the device; unit labels are ``name`` (one unit) or ``name_i``.
    unit_labels : sequence, optional
        Explicit labels, one per unit (e.g. the pandapower indices of net elements).
    """

    sign = CONSUMER
    result_table = "res_device"
    net_table = None  # the pandapower table whose rows the units are (net elements only)
    ac_power_factor = 1.0  # for AC validation of models without reactive power (q = 0)
    registry: ClassVar[dict] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Device.registry[cls.__name__] = cls

    def __init__(self, bus, *, name=None, unit_labels=None):
        self.bus = np.atleast_1d(np.asarray(bus))
        if self.bus.ndim != 1 or len(self.bus) == 0:
            raise InputError(
                f"{type(self).__name__} {name or ''}: 'bus' must be one bus index "
                f"or a non-empty list of them, got {bus!r}"
            )
        self.name = name
        self.network = None  # set by Model.add
        self._unit_labels = None if unit_labels is None else list(unit_labels)
        self._built = False

    # --- identity -------------------------------------------------------------------------
    @property
    def n(self):
        """Number of units."""
        return len(self.bus)

    @property
    def owner(self):
        """How error messages name this device."""
        return f"{type(self).__name__} '{self.name}'"

    @property
    def unit_labels(self):
        if self._unit_labels is not None:
            return self._unit_labels
        return [self.name] if self.n == 1 else [f"{self.name}_{i}" for i in range(self.n)]

    @property
    def terminal_buses(self):
        """pandapower bus index of each row of :meth:`injection_mw` (one per unit by default)."""
        return self.bus

    @property
    def terminal_networks(self):
        """Network name of each terminal (all the device's own network by default)."""
        return [self.network] * len(self.terminal_buses)

    # --- lifecycle --------------------------------------------------------------------------
    def prepare(self, ctx):
        """Check the device's buses and parameters; called before anything is built."""
        ctx.grid.bus_positions(self.terminal_buses, owner=self.owner)
        if self._unit_labels is not None and len(self._unit_labels) != self.n:
            raise InputError(
                f"{self.owner}: {len(self._unit_labels)} unit labels for {self.n} units"
            )

    def build(self, ctx):
        """Create variables and return the list of constraints."""
        raise NotImplementedError

    def injection_mw(self):
        """Active power into the network, expression (n_terminals, T), producing positive."""
        raise NotImplementedError

    def injection_mvar(self):
        """Reactive power into the network (n_terminals, T), or None for none (the default)."""
        return None

    def cost_terms(self, ctx):
        """Cost components: dict name -> scalar cvxpy expression (in the inputs' currency)."""
        return {}

    def results(self, ctx):
        """Named result arrays, each (n, T); keys carry units (``p_mw``, ``e_mwh``, ...)."""
        raise NotImplementedError

    def provision_mw(self, product):
        """What the device provides of a reserve/ramp ``product`` in total, (T,), or None.

        By default the device's offered product (``self.offers``, a
        :class:`~gridflex.products.Offers`), if it has one; devices with a last-resort
        contribution (shed load, spilled wind) add it in their own module.
        """
        offers = getattr(self, "offers", None)
        return None if not offers else offers.total_mw(product)

    def result_frames(self, ctx):
        """:meth:`results` as DataFrames indexed by period, one column per unit."""
        cols = pd.Index(self.unit_labels, name="element")
        return {
            k: pd.DataFrame(np.asarray(v, dtype=float).T, index=ctx.periods, columns=cols)
            for k, v in self.results(ctx).items()
        }

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r}, n={self.n}, bus={self.bus.tolist()})"
