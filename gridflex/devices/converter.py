"""Converters: one input, one or two outputs, fixed efficiencies (boilers, chillers, CHP)."""

import math
from typing import ClassVar

import cvxpy as cp
import numpy as np

from gridflex.carriers import COOLING, GAS, HEAT
from gridflex.devices.base import declared
from gridflex.devices.ports import Port, PortDevice
from gridflex.parameters import Choice, Number, Shape
from gridflex.profiles import require


class Converter(PortDevice):
    """Converters of one carrier into one or two others, with efficiencies per output.

    .. math::

        f^{in}_{i,t} = -x_{i,t}, \\quad f^{out}_{i,t} = \\eta_{i,t} x_{i,t}, \\quad
        f^{out2}_{i,t} = \\eta^{(2)}_{i,t} x_{i,t}, \\quad 0 \\le x_{i,t} \\le \\bar X_{i,t}

    with ``x`` the input flow and ``f`` the flows into the ports' nodes (or bus). The rating
    ``capacity`` bounds the input (``rated="input"``, ``X = capacity``) or the first output
    (``rated="output"``, the default: ``X = capacity / eta``). Cost ``cost_per_unit`` per
    stock unit of the rated port's flow. A port on a pandapower bus is the converter's electric
    terminal (at most one). The outputs are in a fixed ratio ``eta : eta2`` (a CHP with a fixed
    heat-to-power ratio). Efficiencies above 1 are coefficients of performance (heat pumps,
    chillers). Seed 001 Table I (GB, EB, AC, EC, CHP, HP) and seed 002 eq. 28 (the ISAC's
    chiller) are converters.

    Parameters
    ----------
    input, output : Node, bus index, or one per unit
    output2 : Node, bus index, or one per unit, optional
    efficiency, efficiency2 : float, array (n,) or profile (n, T)
        Output per unit of input (> 0).
    capacity : float or array (n,)
        Rating, in the flow unit of the rated port (``inf``: none).
    rated : {"output", "input"}
    cost_per_unit : float, array (n,) or profile (n, T)
        Cost per stock unit of the rated port's flow (>= 0).
    """

    result_table = "res_converter"

    input = Port("in", electric=True, doc="what the converter takes")
    output = Port("out", electric=True, doc="first output")
    output2 = Port("out", electric=True, optional=True, doc="second output (CHP)")
    efficiency = Number("1", Shape.PROFILE, low=0, low_open=True, doc="output per input")
    efficiency2 = Number("1", Shape.PROFILE, low=0, low_open=True, optional=True,
                         doc="second output per input")  # fmt: skip
    capacity = Number("flow", low=0, allow_inf=math.inf, doc="rating of the rated port")
    rated = Choice(("output", "input"), doc="the port the capacity bounds")
    cost_per_unit = Number("$/stock", Shape.PROFILE, low=0, doc="cost per rated stock unit")

    # the parameter that plays each role; a named converter renames them (gas, heat, cop)
    ROLE: ClassVar[dict] = {k: k for k in ("input", "output", "output2", "efficiency",
                                           "efficiency2")}  # fmt: skip

    def __init__(
        self, input, output, capacity=math.inf, *, efficiency=1.0, output2=None, efficiency2=None,
        rated="output", cost_per_unit=0.0, name=None, unit_labels=None,
    ):  # fmt: skip
        super().__init__(**declared(locals()))

    def role(self, v, role):
        """The value playing ``role`` (``"input"``, ``"efficiency"``, ...), or None."""
        key = self.ROLE.get(role)
        return None if key is None else getattr(v, key)

    def derive(self, v, ctx):
        require(
            (self.role(v, "output2") is None) == (self.role(v, "efficiency2") is None),
            f"{self.owner}: output2 and efficiency2 go together",
        )
        self.electric_port()  # at most one port on a bus
        source = self.role(v, "input")
        for role in ("output", "output2"):
            target = self.role(v, role)
            if target is None or isinstance(target, np.ndarray) or isinstance(source, np.ndarray):
                continue
            for unit, (a, b) in enumerate(zip(source, target, strict=True)):
                ports = f"{self.ROLE['input']} and {self.ROLE[role]}"
                message = f"unit {unit} takes from and gives to node '{a.name}' ({ports})"
                require(a is not b, f"{self.owner}: {message}")

    def formulate(self, b):
        v = b.values
        x = b.variable("x", (self.n, b.ctx.T), nonneg=True)
        per_input = self.role(v, "efficiency") if v.rated == "output" else 1.0
        limit = v.capacity.reshape(-1, 1) / per_input
        rows = np.flatnonzero(np.isfinite(limit).all(axis=1))
        return [x[rows] <= limit[rows]] if rows.size else []

    def port_flows(self, b):
        v, x, r = b.values, b["x"], self.ROLE
        flows = {r["input"]: -x, r["output"]: cp.multiply(self.role(v, "efficiency"), x)}
        if self.role(v, "output2") is not None:
            flows[r["output2"]] = cp.multiply(self.role(v, "efficiency2"), x)
        return flows

    def _rated_flow(self, b):
        return b["x"] if b.values.rated == "input" else self._flows(b)[self.ROLE["output"]]

    def cost_terms(self, b):
        cost = b.values.cost_per_unit
        if not cost.any():
            return {}
        return {"operation": b.ctx.weighted_sum(cp.multiply(cost, self._rated_flow(b)))}

    def results(self, b):
        """Flows by port, named by the port (``gas_mw``, ``heat_mw``, ``electric_mw`` for a
        bus; ``input_mw``, ``output_mw`` for a generic converter)."""
        v, x, role = b.values, b.value("x"), self.role
        flows = {"input": x, "output": role(v, "efficiency") * x}
        if role(v, "output2") is not None:
            flows["output2"] = role(v, "efficiency2") * x
        return {self._column(r, role(v, r)): f for r, f in flows.items()}

    def _column(self, role, port):
        name = self.ROLE[role]
        return f"{'electric' if name == 'bus' else name}_{self.flow_key(port)}"


NOT_HERE = None  # hides a Converter parameter a named converter does not take


class GasBoiler(Converter):
    """Gas to heat: ``heat = efficiency x gas`` (seed 001 GB). See :class:`Converter`."""

    ROLE: ClassVar[dict] = {"input": "gas", "output": "heat", "efficiency": "efficiency"}
    gas = Port("in", GAS, doc="gas node")
    heat = Port("out", HEAT, doc="heat node")
    input = output = output2 = efficiency2 = NOT_HERE

    def __init__(self, gas, heat, capacity=math.inf, *, efficiency=0.9, rated="output",
                 cost_per_unit=0.0, name=None, unit_labels=None):  # fmt: skip
        PortDevice.__init__(self, **declared(locals()))


class ElectricBoiler(Converter):
    """Electricity (a bus) to heat (seed 001 EB). See :class:`Converter`."""

    ROLE: ClassVar[dict] = {"input": "bus", "output": "heat", "efficiency": "efficiency"}
    bus = Port("in", electric="only", doc="pandapower bus")
    heat = Port("out", HEAT, doc="heat node")
    input = output = output2 = efficiency2 = NOT_HERE

    def __init__(self, bus, heat, capacity=math.inf, *, efficiency=0.99, rated="output",
                 cost_per_unit=0.0, name=None, unit_labels=None):  # fmt: skip
        PortDevice.__init__(self, **declared(locals()))


class HeatPump(Converter):
    """Electricity to heat with a coefficient of performance (seed 001 HP)."""

    ROLE: ClassVar[dict] = {"input": "bus", "output": "heat", "efficiency": "cop"}
    bus = Port("in", electric="only", doc="pandapower bus")
    heat = Port("out", HEAT, doc="heat node")
    cop = Number("1", Shape.PROFILE, low=0, low_open=True, doc="heat per electricity")
    input = output = output2 = efficiency = efficiency2 = NOT_HERE

    def __init__(self, bus, heat, capacity=math.inf, *, cop=3.0, rated="output",
                 cost_per_unit=0.0, name=None, unit_labels=None):  # fmt: skip
        PortDevice.__init__(self, **declared(locals()))


class ElectricChiller(Converter):
    """Electricity to cooling with a coefficient of performance (seed 001 EC; seed 002 eq. 28
    chiller, COP 4.2)."""

    ROLE: ClassVar[dict] = {"input": "bus", "output": "cooling", "efficiency": "cop"}
    bus = Port("in", electric="only", doc="pandapower bus")
    cooling = Port("out", COOLING, doc="cooling node")
    cop = Number("1", Shape.PROFILE, low=0, low_open=True, doc="cooling per electricity")
    input = output = output2 = efficiency = efficiency2 = NOT_HERE

    def __init__(self, bus, cooling, capacity=math.inf, *, cop=4.2, rated="output",
                 cost_per_unit=0.0, name=None, unit_labels=None):  # fmt: skip
        PortDevice.__init__(self, **declared(locals()))


class AbsorptionChiller(Converter):
    """Heat to cooling with a coefficient of performance (seed 001 AC)."""

    ROLE: ClassVar[dict] = {"input": "heat", "output": "cooling", "efficiency": "cop"}
    heat = Port("in", HEAT, doc="heat node")
    cooling = Port("out", COOLING, doc="cooling node")
    cop = Number("1", Shape.PROFILE, low=0, low_open=True, doc="cooling per heat")
    input = output = output2 = efficiency = efficiency2 = NOT_HERE

    def __init__(self, heat, cooling, capacity=math.inf, *, cop=0.7, rated="output",
                 cost_per_unit=0.0, name=None, unit_labels=None):  # fmt: skip
        PortDevice.__init__(self, **declared(locals()))


class CHP(Converter):
    """Combined heat and power: gas to electricity (a bus) and heat in a fixed ratio
    (``heat / power = heat_efficiency / electric_efficiency``; seed 001 CHP). Rated on its
    electric output by default."""

    ROLE: ClassVar[dict] = {
        "input": "gas", "output": "bus", "output2": "heat",
        "efficiency": "electric_efficiency", "efficiency2": "heat_efficiency",
    }  # fmt: skip
    gas = Port("in", GAS, doc="gas node")
    bus = Port("out", electric="only", doc="pandapower bus")
    heat = Port("out", HEAT, doc="heat node")
    electric_efficiency = Number("1", Shape.PROFILE, low=0, low_open=True, doc="power per gas")
    heat_efficiency = Number("1", Shape.PROFILE, low=0, low_open=True, doc="heat per gas")
    input = output = output2 = efficiency = efficiency2 = NOT_HERE

    def __init__(self, gas, bus, heat, capacity=math.inf, *, electric_efficiency=0.35,
                 heat_efficiency=0.45, rated="output", cost_per_unit=0.0, name=None,
                 unit_labels=None):  # fmt: skip
        PortDevice.__init__(self, **declared(locals()))
