"""Ports: how a device connects to carrier nodes (and, for at most one port, to a bus).

A :class:`Port` declaration takes a :class:`~gridflex.carriers.Node` (or one per unit) or, where
electricity is allowed, a pandapower bus index (or one per unit): that port is then the
device's electric terminal and goes through the network formulation like any injection.
:class:`PortDevice` is the base of devices with ports: it counts units from its ports, hands
its electric port to the network and its carrier ports to the model's node balance
(:mod:`gridflex.carriers`). Port flows are **into the node** (supplying positive).
"""

import cvxpy as cp
import numpy as np

from gridflex.carriers import Carrier, Node, PortFlow
from gridflex.devices.base import Device
from gridflex.errors import InputError
from gridflex.parameters import Param, Shape, declared_parameters
from gridflex.profiles import as_column

DIRECTIONS = ("in", "out", "both")


class Port(Param):
    """A device's connection: a node of a carrier, or a bus where ``electric`` is allowed.

    Parameters
    ----------
    direction : {"in", "out", "both"}
        Whether the device takes from the node, gives to it, or either.
    carrier : Carrier, optional
        The carrier the node must carry (any when None).
    electric : bool or "only"
        A pandapower bus index is accepted (the device's electric terminal); ``"only"``: the
        port must be a bus.
    label : str, optional
        How errors and docs name the port (a constructor's argument name, e.g. ``"gas"``).
    """

    type_name = "port"

    def __init__(self, direction, carrier=None, *, electric=False, label=None, optional=False,
                 doc=""):  # fmt: skip
        super().__init__("-", Shape.UNIT, optional=optional, doc=doc)
        if direction not in DIRECTIONS or not (carrier is None or isinstance(carrier, Carrier)):
            raise ValueError(f"Port({direction!r}, {carrier!r})")
        self.direction, self.carrier, self.electric = direction, carrier, electric
        self.port_label = label

    def label(self):
        return f"'{self.port_label or self.name}'"

    @property
    def range_text(self):
        if self.electric == "only":
            return "a bus, or one per unit"
        what = f"a {self.carrier.name} node" if self.carrier else "a node"
        return what + (" or a bus" if self.electric else "") + ", or one per unit"

    def screen(self, value, owner):
        items = list(value) if isinstance(value, list | tuple | np.ndarray) else [value]
        if not items:
            raise self.error(owner, "needs a node (or one per unit)", value)
        if all(isinstance(x, Node) for x in items):
            if self.electric == "only":
                raise self.error(owner, "must be a pandapower bus index (electricity)", items[0])
            return self._nodes(items, owner)
        if all(_is_bus(x) for x in items):
            if not self.electric:
                raise self.error(owner, f"must be {self._node_text()}, not a bus index", value)
            arr = np.asarray(items, dtype=int)
            arr.flags.writeable = False
            return arr
        raise self.error(owner, f"must be {self._node_text()} or a list of them", value)

    def _node_text(self):
        if self.electric == "only":
            return "a pandapower bus index"
        return f"a gf.Node of carrier '{self.carrier.name}'" if self.carrier else "a gf.Node"

    def _nodes(self, nodes, owner):
        carriers = {node.carrier for node in nodes}
        if len(carriers) > 1:
            names = sorted(c.name for c in carriers)
            raise self.error(owner, f"mixes carriers {names} across units", nodes)
        wrong = [node for node in nodes if self.carrier and node.carrier != self.carrier]
        if wrong:
            raise InputError(
                f"{owner}: port {self.label()} must be on a node of {_describe(self.carrier)}, "
                f"got node '{wrong[0].name}' of {_describe(wrong[0].carrier)}"
            )
        return tuple(nodes)

    def normalize(self, value, owner, n, periods):
        if value is None:
            return None
        if len(value) == 1 and n > 1:
            return np.repeat(value, n) if isinstance(value, np.ndarray) else value * n
        if len(value) != n:
            raise InputError(f"{owner}: port {self.label()} has {len(value)} entries for {n} units")
        return value


def _describe(carrier):
    return f"carrier '{carrier.name}' ({carrier.flow_unit}, {carrier.stock_unit})"


def _is_bus(x):
    return isinstance(x, int | np.integer) and not isinstance(x, bool | np.bool_)


class PortDevice(Device, abstract=True):
    """Base of devices with ports (converters, links, stores, carrier demands and sources).

    Subclasses declare :class:`Port` parameters and implement :meth:`port_flows` (the flow into
    each port's node or bus, (n, T)) besides :meth:`formulate`, :meth:`cost_terms` and
    :meth:`results`. The number of units is the longest port list (a single node is repeated).
    """

    carrier_device = True  # has ports on carrier nodes (scenario files cannot describe them yet)

    @classmethod
    def port_names(cls):
        return [k for k, p in declared_parameters(cls).items() if isinstance(p, Port)]

    @property
    def n(self):
        lengths = [len(v) for k in self.port_names() if (v := self._values.get(k)) is not None]
        return max(lengths, default=1)

    @property
    def bus(self):
        """Buses of the electric port (empty without one)."""
        port = self.electric_port()
        return np.asarray([], dtype=int) if port is None else np.asarray(self._values[port])

    def electric_port(self):
        """Name of the port on a bus, or None (at most one; checked)."""
        on_bus = [k for k in self.port_names() if isinstance(self._values.get(k), np.ndarray)]
        if len(on_bus) > 1:
            raise InputError(f"{self.owner}: ports {on_bus} are all on buses; at most one may be")
        return on_bus[0] if on_bus else None

    def terminals(self, network, values):
        port = self.electric_port()
        if port is None:
            return [], np.asarray([], dtype=int)
        return [network] * self.n, np.asarray(getattr(values, port))

    def carrier_ports(self, b):
        flows, electric = self._flows(b), self.electric_port()
        return [
            PortFlow(self.owner, k, getattr(b.values, k), flow, self.direction(k, b.values))
            for k, flow in flows.items()
            if k != electric and getattr(b.values, k) is not None
        ]

    def direction(self, port, values):
        """``"in"``, ``"out"`` or ``"both"``: how ``port`` may exchange with its node."""
        return declared_parameters(type(self))[port].direction

    @staticmethod
    def flow_key(port_value):
        """Column suffix of a port's flows: ``"mw"`` on a bus, else the carrier's flow unit."""
        if isinstance(port_value, np.ndarray):
            return "mw"
        return port_value[0].carrier.flow_key

    @staticmethod
    def stock_key(port_value):
        if isinstance(port_value, np.ndarray):
            return "mwh"
        return port_value[0].carrier.stock_key

    def _flows(self, b):
        if "port_flows" not in b.expressions:
            b.expressions["port_flows"] = self.port_flows(b)
        return b.expressions["port_flows"]

    def port_flows(self, b):
        """``{port name: flow into its node or bus, (n, T)}`` (supplying positive)."""
        raise NotImplementedError

    def injection_mw(self, b):
        port = self.electric_port()
        return None if port is None else self._flows(b)[port]

    def injection_mvar(self, b):
        """``q_per_p`` times the active injection where the device declares a nonzero
        ``q_per_p`` (a fixed power factor: a draw of P MW takes ``q_per_p * P`` Mvar), else
        None (no reactive power)."""
        ratio = getattr(b.values, "q_per_p", None)
        if ratio is None or not np.any(ratio):
            return None
        return cp.multiply(as_column(ratio), self.injection_mw(b))
