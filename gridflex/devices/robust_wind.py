"""Wind turbine candidates with robust output (seed 002 eqs. 11-14, 44).

At each bus an integer number ``n`` of turbines of ``unit_mw`` each may be built (eq. 44:
``P^WT = n P^unit``; integer counts instead of the paper's unary binaries, the same set without
symmetry). Output is limited by the availability ``rho`` per unit of capacity, known only to lie
in a box around its forecast, ``rho in [rho* (1 - Gamma eps), rho* (1 + Gamma eps)]`` (eq. 12).
The dispatch must hold for every ``rho`` in the box, which is exactly (notes-002 §2.2;
:mod:`gridflex.robust`; the paper's dual form (14) has the same optimum, tested):

.. math::

    0 \\le p_t \\le (1 - \\Gamma \\varepsilon)\\, \\rho^*_t\\, n\\, P^{unit},
    \\qquad n \\in \\{0, \\dots, N\\}

Cost ``cost_per_unit x n`` (annualised; the paper's ``C^WT P^WT_i``, 5100 yuan/kW over 30 years
at 4 %). Spilling costs nothing.
"""

import cvxpy as cp
import numpy as np

from gridflex.conventions import PRODUCER
from gridflex.devices.base import Device, Role, declared
from gridflex.errors import InputError
from gridflex.parameters import Number, Shape
from gridflex.robust import worst_case_availability


class RobustWind(Device):
    """Candidate wind turbines with a robust output limit (see the module docstring).

    Parameters
    ----------
    bus : int or array_like of int
        Candidate buses (one unit of this device per bus).
    forecast : float, array or profile (n, T)
        ``rho*``: availability per unit of capacity, in [0, 1].
    units_max : int or array (n,)
        Most turbines per bus.
    unit_mw : float
        Size of one turbine (0.5 MW: the paper's profile base, assumed as the unit).
    cost_per_unit : float or array (n,)
        Annualised cost of one turbine.
    epsilon, gamma : float
        Relative half-width of the box (0.1) and its scale ``Gamma`` in ``[0, 1 / epsilon]``.
    """

    sign = PRODUCER
    result_table = "res_robust_wind"

    forecast = Number("1", Shape.PROFILE, low=0, high=1, doc="availability forecast rho*")
    units_max = Number("-", low=0, doc="most turbines per bus")
    unit_mw = Number("MW", Shape.SCALAR, low=0, low_open=True, doc="size of one turbine")
    cost_per_unit = Number("$", low=0, doc="annualised cost of one turbine")
    epsilon = Number("1", Shape.SCALAR, low=0, low_open=True, doc="half-width of the box")
    gamma = Number("1", Shape.SCALAR, low=0, doc="scale of the box (Gamma)")

    def __init__(
        self, bus, forecast, *, units_max, unit_mw=0.5, cost_per_unit=0.0, epsilon=0.1,
        gamma=1.0, name=None, unit_labels=None,
    ):  # fmt: skip
        super().__init__(**declared(locals()))

    def derive(self, v, ctx):
        if not np.allclose(v.units_max, np.round(v.units_max)):
            raise InputError(f"{self.owner}: units_max must be whole numbers of turbines")
        v.worst = worst_case_availability(v.forecast, float(v.epsilon), float(v.gamma))

    def formulate(self, b):
        v, shape = b.values, (self.n, b.ctx.T)
        p = b.variable("p_mw", shape, nonneg=True)
        count = b.variable("units", (self.n,), Role.INVESTMENT, integer=True)
        capacity = cp.reshape(count * float(v.unit_mw), (self.n, 1), order="C")
        return [count >= 0, count <= v.units_max,
                p <= cp.multiply(v.worst, capacity @ np.ones((1, b.ctx.T)))]  # fmt: skip

    def injection_mw(self, b):
        return b["p_mw"]

    def cost_terms(self, b):
        return {"investment": b.values.cost_per_unit @ b["units"]}

    def results(self, b):
        v = b.values
        units = np.round(b.value("units"))
        capacity = (units * float(v.unit_mw)).reshape(-1, 1) * np.ones_like(v.worst)
        p = b.value("p_mw")
        return {
            "p_mw": p,
            "units": units.reshape(-1, 1) * np.ones_like(p),
            "capacity_mw": capacity,
            "available_mw": v.worst * capacity,  # the worst case the dispatch holds for
            "spilled_mw": v.worst * capacity - p,
        }
