"""The one sign convention of gridflex, written down once.

gridflex follows pandapower's convention *per element type*, so that gridflex results line up
with pandapower's own result tables:

=====================================  =========================  ==============================
element type                           positive ``p_mw`` means    pandapower table it mirrors
=====================================  =========================  ==============================
generators, external grids,            producing (injecting)      ``res_gen``, ``res_ext_grid``,
renewables                                                        ``res_sgen``
loads, storage, flexible consumers     consuming (withdrawing)    ``res_load``, ``res_storage``
(data centers, charging stations, ...)
bus net power ``res_bus.p_mw``         net demand at the bus      ``res_bus``
branch ``p_from_mw``                   flow from the from-bus     ``res_line``, ``res_trafo``
                                       into the branch
=====================================  =========================  ==============================

Inside the optimization every device reports its *injection* into the network (producing
positive). A device class declares which of the two conventions its reported ``p_mw`` uses by
its ``sign`` attribute: ``PRODUCER`` (+1: reported = injection) or ``CONSUMER`` (-1: reported =
-injection). :func:`reported_from_injection` is the only place the conversion happens.
"""

PRODUCER = 1.0
"""Reported power equals the injection into the network (gen, ext_grid, sgen)."""

CONSUMER = -1.0
"""Reported power equals the withdrawal from the network (load, storage, flexible demand)."""


def reported_from_injection(injection_mw, sign):
    """Convert a network injection (producing positive) to the element's reported power.

    Parameters
    ----------
    injection_mw : array_like
        Power injected into the network, positive when producing.
    sign : float
        ``PRODUCER`` or ``CONSUMER``.
    """
    return sign * injection_mw


PANDAPOWER_TABLE_SIGN = {
    "gen": PRODUCER,
    "sgen": PRODUCER,
    "ext_grid": PRODUCER,
    "load": CONSUMER,
    "storage": CONSUMER,
}
"""How each pandapower element table counts ``p_mw`` / ``q_mvar`` (producer or consumer)."""


def net_table_value(table, injection):
    """An injection (producing positive) as pandapower's ``net[table]`` counts it (loads and
    storage consume positive). The only place the validation converts signs."""
    return PANDAPOWER_TABLE_SIGN[table] * injection


def injection_from_net_table(table, value):
    """The inverse of :func:`net_table_value`: a net-table value as an injection."""
    return PANDAPOWER_TABLE_SIGN[table] * value


def bus_demand_from_injection(injection_mw):
    """Bus net power as pandapower's ``res_bus.p_mw`` reports it: positive as net demand."""
    return -injection_mw
