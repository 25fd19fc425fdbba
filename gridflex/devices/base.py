"""Device: the base class every device derives from, and the build a model keeps of it.

A device holds ``n`` units of one kind (vectorised, like a pandapower table) and its declared
parameters (:mod:`gridflex.parameters`); it holds nothing of any model. Its life in a model:

1. :meth:`Device.check` normalises every parameter against the model's grid and periods and
   runs the device's own cross-checks (:meth:`Device.derive`), raising
   :class:`~gridflex.errors.InputError` before anything is built;
2. :meth:`Device.build` returns a :class:`DeviceBuild`: the variables (by role), constraints,
   injections per terminal and cost terms it created. The model keeps the build, so the same
   device object can sit in several models (a sweep, Shapley coalitions);
3. :meth:`Device.results` reads the solved build into named arrays, turned into DataFrames by
   the model.

Subclasses implement :meth:`Device.formulate` (variables and constraints on a build),
:meth:`Device.injection_mw`, :meth:`Device.cost_terms` and :meth:`Device.results`, each taking
the build. The network sees a device only through the build's injections and terminals; a
device never reaches into the formulation. See :mod:`gridflex.conventions` for signs.
"""

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import ClassVar

import cvxpy as cp
import numpy as np
import pandas as pd

from gridflex.conventions import CONSUMER
from gridflex.errors import InputError
from gridflex.parameters import Buses, Declared, declared_parameters
from gridflex.roles import Role
from gridflex.timeaxis import TimeAxis


@dataclass(frozen=True)
class BuildContext:
    """What a device may know about the model it is built into."""

    grid: object  # gridflex.grid.Grid of the device's network
    time: TimeAxis  # periods, dt_h, blocks and cost hours
    reactive: bool = False  # the device's network (or one of them) models reactive power
    grids: dict = field(default_factory=dict)  # every network's Grid by name
    network: str = "net"  # the network the device was added to
    resolvable: bool = True  # re-solvable values as cvxpy Parameters (Model(resolvable=...))

    @property
    def periods(self):
        return self.time.index

    @property
    def dt_h(self):
        return self.time.dt_h

    @property
    def T(self):
        return self.time.T

    @property
    def cost_hours(self):
        """Hours each period stands for in the objective, (T,): weight x probability x dt_h."""
        return self.time.cost_hours

    def weighted_sum(self, expr):
        """``sum_t w_t sum_i expr[i, t]``: a cost rate (per hour) over the periods' hours."""
        per_period = cp.sum(expr, axis=0) if len(expr.shape) == 2 else expr
        return per_period @ self.cost_hours


@dataclass(eq=False)
class DeviceBuild:
    """What one device created in one model.

    Attributes
    ----------
    device : Device
    ctx : BuildContext
    values : types.SimpleNamespace
        The checked, normalised parameters this build used.
    variables : dict
        ``{key: cvxpy.Variable}``; named ``"<device>_<key>"`` in the problem.
    roles : dict
        ``{key: Role}`` of each variable.
    expressions : dict
        Other named expressions (offered products, cost epigraphs, ramp parts).
    constraints : list
    p_mw, q_mvar : expression (n_terminals, T) or None
        Injections into the network per terminal (producing positive).
    costs : dict
        ``{component: scalar expression}``.
    terminal_buses, terminal_networks, unit_labels : list
        Where the terminals connect, and the labels of the units in result tables.
    ports : list of gridflex.carriers.PortFlow
        Flows into carrier nodes (devices with ports, :mod:`gridflex.devices.ports`).
    """

    device: object
    ctx: BuildContext
    values: object
    variables: dict = field(default_factory=dict)
    roles: dict = field(default_factory=dict)
    expressions: dict = field(default_factory=dict)
    constraints: list = field(default_factory=list)
    p_mw: object = None
    q_mvar: object = None
    costs: dict = field(default_factory=dict)
    terminal_buses: np.ndarray = None
    terminal_networks: list = None
    unit_labels: list = None
    ports: list = field(default_factory=list)  # gridflex.carriers.PortFlow on carrier nodes
    parameters: dict = field(default_factory=dict)  # name -> Bound (cvxpy Parameters)
    constant_keys: frozenset = None  # values read directly while building (None: all)

    def parameter(self, name, make):
        """A cvxpy Parameter holding ``make(values)`` (an array), kept up to date when the
        device's values change (:func:`refresh`): values that reach the problem only through
        parameters can change without a rebuild. ``make`` must read the values it is given
        (not ``self.values``). Non-finite entries are held as 0: the caller must use only the
        finite ones (their pattern is part of the build; changing it rebuilds)."""
        value = np.asarray(make(raw_values(self.values)), dtype=float)
        if not self.ctx.resolvable:  # a constant: every edit rebuilds
            return cp.Constant(np.where(np.isfinite(value), value, 0.0))
        par = cp.Parameter(value.shape, name=f"{self.device.name}_{name}")
        par.value = np.where(np.isfinite(value), value, 0.0)
        self.parameters[name] = Bound(par, make, _signature(value))
        return par

    def param(self, key):
        """:meth:`parameter` of the value ``key`` as it is (the same Parameter if asked twice)."""
        if key in self.parameters:
            return self.parameters[key].parameter
        return self.parameter(key, lambda v: getattr(v, key))

    def cost(self, key, var):
        """``sum_{i,t} w_t c_{i,t} var_{i,t}`` with ``c`` the value ``key`` (per unit, or per
        unit and period) as one Parameter vector: a re-solvable linear cost that compiles as
        fast as a constant one (an elementwise Parameter product would not)."""
        shape, hours = var.shape, self.ctx.cost_hours

        def coefficients(v):
            c = np.asarray(getattr(v, key), dtype=float)
            c = c.reshape(-1, 1) if c.ndim == 1 else c
            return (np.broadcast_to(c, shape) * hours).ravel(order="F")

        return self.parameter(f"cost_{key}", coefficients) @ cp.vec(var, order="F")

    def variable(self, key, shape, role=Role.OPERATION, **attributes):
        """Create, keep and return a variable ``<device>_<key>`` (``nonneg``, ``boolean``...)."""
        var = cp.Variable(shape, name=f"{self.device.name}_{key}", **attributes)
        self.variables[key], self.roles[key] = var, role
        return var

    def __getitem__(self, key):
        if key in self.variables:
            return self.variables[key]
        return self.expressions[key]

    def get(self, key, default=None):
        return self.variables.get(key, self.expressions.get(key, default))

    def value(self, key):
        """The solved value of a variable or expression as a float array."""
        item = self[key]
        return np.asarray(getattr(item, "value", item), dtype=float)

    def decisions(self, role):
        """``{key: variable}`` of one :class:`Role`."""
        return {k: v for k, v in self.variables.items() if self.roles[k] is role}


def parameter_times(par, var):
    """``par * var`` elementwise, ``par`` a Parameter of ``var``'s shape, written so that cvxpy
    compiles it in linear time: ``cp.multiply`` of a Parameter and a variable builds a tensor
    quadratic in their size (14 GB for 5 units x 8760 periods), ``diag(vec(par)) @ vec(var)``
    does not. A constant ``par`` (``Model(resolvable=False)``) multiplies as usual (its diagonal
    would be a dense matrix)."""
    if not par.parameters():
        return cp.multiply(par, var)
    flat = cp.diag(cp.vec(par, order="F")) @ cp.vec(var, order="F")
    return cp.reshape(flat, var.shape, order="F")


@dataclass
class Bound:
    """A build's cvxpy Parameter, how its value is made from the values, and the shape and
    pattern of infinities it was built for."""

    parameter: cp.Parameter
    make: object
    signature: tuple


def _signature(value):
    return value.shape, np.isfinite(value).tobytes()


def raw_values(values):
    """The values without recording reads (a parameter's inputs are not constants)."""
    return SimpleNamespace(**dict(values.items())) if hasattr(values, "items") else values


def _same(a, b):
    """Equal values: arrays by content, dicts and sequences item by item."""
    if a is b:
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def refresh(build, values, terminals):
    """Give ``build`` the device's new ``values`` through its Parameters, without a rebuild.

    Possible when every value the build read directly (its constants) is unchanged, every
    Parameter keeps its shape and pattern of infinities, and the terminals are the same.
    Returns None when done, else why not (and changes nothing): the model then rebuilds.
    """
    owner = build.device.owner
    networks, buses = terminals
    if not hasattr(build.values, "items") or not hasattr(values, "items"):
        return f"{owner} keeps its own values"
    if list(networks) != list(build.terminal_networks) or not _same(
        np.asarray(buses), np.asarray(build.terminal_buses)
    ):
        return f"{owner}: its buses or networks changed"
    old, new = dict(build.values.items()), dict(values.items())
    if build.constant_keys is None:
        return f"{owner} was built without Parameters"
    declared = declared_parameters(type(build.device))
    edited = [k for k in declared if k in old and not _same(old[k], new.get(k))]
    fixed = [k for k in edited if not declared[k].resolvable]
    if fixed:  # only parameters declared re-solvable may change without a rebuild
        return f"{owner}: '{fixed[0]}' is not re-solvable"
    changed = [k for k in edited if k in build.constant_keys]
    changed += sorted(k for k in build.constant_keys if k not in declared and k in old
                      and not _same(old[k], new.get(k)))  # fmt: skip
    if changed:
        return f"{owner}: '{changed[0]}' is a constant of the problem"
    raw = raw_values(values)
    made = {name: np.asarray(b.make(raw), dtype=float) for name, b in build.parameters.items()}
    for name, b in build.parameters.items():
        if _signature(made[name]) != b.signature:
            return f"{owner}: '{name}' changed its shape or its pattern of infinities"
    for name, b in build.parameters.items():
        b.parameter.value = np.where(np.isfinite(made[name]), made[name], 0.0)
    values.recording(False)
    build.values = values
    return None


class Device(Declared):
    """Base class of all devices.

    Subclasses set :attr:`sign` (``PRODUCER`` or ``CONSUMER``), :attr:`result_table` (the
    pandapower-like result table their units appear in), declare their parameters
    (:mod:`gridflex.parameters`) and implement :meth:`formulate`, :meth:`injection_mw`,
    :meth:`cost_terms` and :meth:`results`.

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
    _attributes = frozenset({"name", "network", "net_table", "result_table"})

    bus = Buses()

    def __init_subclass__(cls, abstract=False, **kwargs):
        super().__init_subclass__(**kwargs)
        if not abstract:  # a base of other devices (PortDevice) is not a device kind
            Device.registry[cls.__name__] = cls

    def __init__(self, *, name=None, unit_labels=None, network=None, **params):
        self.name = name
        self.network = network  # a fixed network (Boundary); otherwise the model places it
        self.unit_labels = unit_labels
        self._assign(params)

    # --- identity -------------------------------------------------------------------------
    @property
    def n(self):
        """Number of units."""
        return len(self.bus)

    @property
    def unit_labels(self):
        if self._unit_labels is not None:
            return list(self._unit_labels)
        return [self.name] if self.n == 1 else [f"{self.name}_{i}" for i in range(self.n)]

    @unit_labels.setter
    def unit_labels(self, labels):
        self._unit_labels = None if labels is None else tuple(labels)

    def terminals(self, network, values):
        """``(networks, buses)`` of each row of :meth:`injection_mw` (one per unit by default)."""
        return [network] * self.n, np.asarray(self.bus)

    def networks_touched(self, network):
        """Names of the networks the device's terminals are in, when added to ``network``
        (the first one's grid is the build context's ``grid``)."""
        return [network]

    # --- lifecycle --------------------------------------------------------------------------
    def check(self, ctx):
        """All parameters normalised and checked against ``ctx``: a namespace of values."""
        values = self.parameter_values(self.n, ctx.periods)
        if self._unit_labels is not None and len(self._unit_labels) != self.n:
            raise InputError(
                f"{self.owner}: {len(self._unit_labels)} unit labels for {self.n} units"
            )
        networks, buses = self.terminals(ctx.network, values)
        for net_name, bus in zip(networks, buses, strict=True):
            if ctx.grids and net_name not in ctx.grids:
                raise InputError(
                    f"{self.owner}: network '{net_name}' is not in the model "
                    f"(networks: {sorted(ctx.grids)})"
                )
            grid = ctx.grids.get(net_name, ctx.grid)
            several = len(ctx.grids) > 1
            grid.bus_positions([bus], owner=f"{self.owner} ({net_name})" if several else self.owner)
        self.derive(values, ctx)
        return values

    def derive(self, values, ctx):
        """Device-specific cross-checks and derived values, added to ``values`` in place."""

    def check_peers(self, devices):
        """Checks against the other devices of the model (before any build); none by default.
        Raise :class:`~gridflex.errors.InputError` naming this device and what is missing."""

    def build(self, ctx, values=None):
        """Create everything this device adds to a model: a :class:`DeviceBuild`."""
        values = self.check(ctx) if values is None else values
        if hasattr(values, "recording"):  # what the build reads directly are its constants
            values.recording(True)
        networks, buses = self.terminals(ctx.network, values)
        b = DeviceBuild(self, ctx, values, terminal_buses=np.asarray(buses),
                        terminal_networks=list(networks),
                        unit_labels=self.labels(values))  # fmt: skip
        b.constraints = list(self.formulate(b))
        b.p_mw, b.q_mvar = self.injection_mw(b), self.injection_mvar(b)
        b.costs = self.cost_terms(b)
        b.ports = self.carrier_ports(b)
        return b

    def carrier_ports(self, b):
        """Flows into carrier nodes (:class:`gridflex.carriers.PortFlow` list); none by default
        (devices with ports: :mod:`gridflex.devices.ports`)."""
        return []

    def labels(self, values):
        """Labels of the result rows (units) of a build."""
        return self.unit_labels

    def formulate(self, b):
        """Create variables on the build ``b`` and return the list of constraints."""
        raise NotImplementedError

    def injection_mw(self, b):
        """Active power into the network, expression (n_terminals, T), producing positive."""
        raise NotImplementedError

    def injection_mvar(self, b):
        """Reactive power into the network (n_terminals, T), or None for none (the default)."""
        return None

    def cost_terms(self, b):
        """Cost components: dict name -> scalar cvxpy expression (in the inputs' currency)."""
        return {}

    def results(self, b):
        """Named result arrays, each (n, T); keys carry units (``p_mw``, ``e_mwh``, ...)."""
        raise NotImplementedError

    def provision_mw(self, b, product):
        """What the device provides of a reserve/ramp ``product`` in total, (T,), or None.

        By default the device's offered product (see :mod:`gridflex.products`), if it has
        one; devices with a last-resort contribution (shed load, spilled wind) add it in their
        own module.
        """
        from gridflex.products import offered_total_mw

        return offered_total_mw(b, product)

    def provision_bound_mw(self, b, product):
        """An upper bound (T,) on :meth:`provision_mw` known from the parameters alone, or None
        (no finite bound known before the solve); a requirement above the sum of its
        providers' bounds is refused before the solve."""
        return None

    def result_frames(self, b):
        """:meth:`results` of a solved build as DataFrames by period, one column per unit."""
        cols = pd.Index(b.unit_labels, name="element")
        return {
            k: pd.DataFrame(np.asarray(v, dtype=float).T, index=b.ctx.periods, columns=cols)
            for k, v in self.results(b).items()
        }

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r}, n={self.n}, bus={self.bus.tolist()})"


def declared(local_vars):
    """A constructor's ``locals()`` without ``self`` and ``__class__``: pass them on as
    ``super().__init__(**declared(locals()))``."""
    return {k: v for k, v in local_vars.items() if k not in ("self", "__class__")}
