"""The interface every network formulation implements.

A formulation receives the nodal active injections ``p_inj`` (cvxpy expression of shape
``(n_bus, T)``, producing positive) and returns a :class:`NetworkBuild`: its constraints, the
balance constraint whose dual gives nodal prices, and branch flow expressions.
"""

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Shunts:
    """The net's in-service shunts: labels, bus positions, ``p_mw`` and ``q_mvar`` drawn at
    1 pu (consumption positive, times ``step``)."""

    labels: list
    positions: np.ndarray
    p_mw: np.ndarray
    q_mvar: np.ndarray

    def per_bus(self, values, n_bus):
        """``values`` (n_sh,) summed per bus, (n_bus,)."""
        out = np.zeros(n_bus)
        np.add.at(out, self.positions, values)
        return out


def net_shunts(grid):
    """:class:`Shunts` of ``grid.net`` (empty when it has none in service)."""
    net = grid.net
    rows = net.shunt[net.shunt.in_service.to_numpy(bool)]
    step = rows["step"].to_numpy(float) if "step" in rows else np.ones(len(rows))
    positions = grid.bus_positions(rows.bus.to_numpy(), owner="net.shunt") if len(rows) else []
    return Shunts(
        rows.index.tolist(),
        np.asarray(positions, dtype=int),
        rows.p_mw.to_numpy(float) * step,
        rows.q_mvar.to_numpy(float) * step,
    )


@dataclass
class NetworkBuild:
    """What a formulation adds to the problem, and how to read its results back."""

    constraints: list
    balance: object  # cvxpy constraint; dual (n_bus, T) or (T,) in cost per MW per period
    branch_flow_mw: object | None = None  # expression (n_branch, T) of flows from the from-bus
    extra: dict = field(default_factory=dict)


class Formulation:
    """Base class: network physics as constraints on the nodal injections.

    Attributes
    ----------
    reactive : bool
        True when the formulation models reactive power; devices then create reactive
        variables and the model passes ``q_inj`` (n_bus, T) in Mvar to :meth:`build`.
    """

    has_branch_flows = False
    reactive = False
    voltage_shunts = False  # True: the formulation draws the net's shunts at its bus voltages

    def shunt_draw(self, build, grid, T):
        """What each in-service shunt of the net draws, ``(p_mw, q_mvar or None)`` (n_sh, T)
        after a solve, consumption positive. Without voltages: ``p`` at 1 pu (the model
        subtracts it from the injections), no ``q``."""
        shunts = net_shunts(grid)
        return np.repeat(shunts.p_mw[:, None], T, axis=1), None

    def build(self, grid, p_inj, T, q_inj=None, time=None):
        """Return a :class:`NetworkBuild` for injections ``p_inj`` (n_bus, T) MW on ``grid``.

        ``q_inj`` (n_bus, T) Mvar, producing positive, is given when :attr:`reactive` is True;
        ``time`` is the model's :class:`~gridflex.timeaxis.TimeAxis` (stages of candidate
        branches; ``TimeAxis(T)`` when not given).
        """
        raise NotImplementedError

    def cost_terms(self, build):
        """Cost components of the network itself (e.g. candidate investment); none by default."""
        return {}

    def branch_results(self, build, grid):
        """Per-branch arrays (n_branch, T) for ``res_line``/``res_trafo``, or None.

        The default reports the active flow at the from-end (lossless); formulations with
        reactive power and losses override it.
        """
        if build.branch_flow_mw is None:
            return None
        return {"p_from_mw": np.asarray(build.branch_flow_mw.value)}

    def tables(self, build, grid):
        """Extra result tables (name -> DataFrame) of the network itself; none by default."""
        return {}

    def bus_results(self, build, grid):
        """Extra per-bus result columns (name -> array (n_bus, T)); none by default."""
        return {}

    def prices_per_mwh(self, build, grid, dt_h):
        """Nodal prices (n_bus, T) from the balance duals, or ``None`` without duals (MILP)."""
        dual = build.balance.dual_value
        if dual is None:
            return None
        dual = np.asarray(dual, dtype=float)
        if dual.ndim == 1:
            dual = np.broadcast_to(dual, (grid.n_bus, dual.shape[0]))
        return dual / dt_h

    def __repr__(self):
        return f"{type(self).__name__}()"
