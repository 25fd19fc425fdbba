"""Coupled transmission and distribution systems (seed 000: IEEE 24-bus with IEEE 33-bus).

:func:`ieee24_ieee33` returns the two pandapower nets and where they meet. The distribution
system's ext_grid stays its voltage reference (slack) but gets no power of its own (``min_p_mw``
= ``max_p_mw`` = 0): in a model holding both networks the power comes through a
:class:`gridflex.Boundary` from the transmission bus. For a distribution-only study, give it back
its limits and a price (:meth:`CoupledTD.distribution_alone`).
"""

import copy
from dataclasses import dataclass

import pandapower as pp

from .ieee import ieee24, ieee33


@dataclass
class CoupledTD:
    """Two nets and their connection.

    Attributes
    ----------
    transmission, distribution : pandapowerNet
    t_bus : int
        pandapower index of the transmission bus that feeds the distribution system.
    d_bus : int
        pandapower index of the distribution system's substation bus (its ext_grid bus).
    """

    transmission: pp.pandapowerNet
    distribution: pp.pandapowerNet
    t_bus: int
    d_bus: int

    def distribution_alone(self, price_per_mwh, p_max_mw=1e4):
        """A copy of the distribution net whose ext_grid supplies power at ``price_per_mwh``."""
        net = copy.deepcopy(self.distribution)
        net.ext_grid[["min_p_mw", "max_p_mw"]] = (-p_max_mw, p_max_mw)
        net.ext_grid[["min_q_mvar", "max_q_mvar"]] = (-p_max_mw, p_max_mw)
        net.poly_cost = net.poly_cost[net.poly_cost.et != "ext_grid"]
        for index in net.ext_grid.index:
            pp.create_poly_cost(net, index, "ext_grid", cp1_eur_per_mw=price_per_mwh)
        return net


def ieee24_ieee33(pcc_bus_number=2, ratings="pglib"):
    """IEEE 24-bus RTS (``ratings``) with the IEEE 33-bus feeder (derived ratings) at bus
    ``pcc_bus_number`` (the paper's numbering; seed 000 uses bus 2)."""
    transmission = ieee24(ratings=ratings)
    if pcc_bus_number not in set(transmission.bus.name.astype(int)):
        raise ValueError(f"ieee24 has no bus number {pcc_bus_number}")
    distribution = ieee33()
    distribution.ext_grid[["min_p_mw", "max_p_mw", "min_q_mvar", "max_q_mvar"]] = 0.0
    d_bus = int(distribution.ext_grid.bus.iloc[0])
    return CoupledTD(transmission, distribution, int(pcc_bus_number) - 1, d_bus)
