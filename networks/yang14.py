"""The 14-node distribution network of seed 002 (Yang et al., IEEE Access 2021, Table 1).

The paper's "IEEE-14 node distribution network" (its ref. 35), not the IEEE 14-bus
transmission case: a radial tree rooted at node 1, 22 kV, 100 MVA base, branch R and X in per
unit as printed in Table 1. What the paper does not give is chosen here and documented
(``../shared/seeds/notes-002.md`` §3.3): loads equal on nodes 2-14 at power factor 0.95, no
branch current limit (the voltage limits bind), the root held at 1.00 pu, voltage limits
0.93-1.07 pu (paper L341).
"""

from __future__ import annotations

import math

import pandapower as pp

BASE_KV, BASE_MVA = 22.0, 100.0
"""The paper's bases (L323)."""

BRANCHES = (  # (from node, to node, R p.u., X p.u.): Table 1
    (1, 2, 0.30, 0.40), (1, 3, 0.44, 0.44), (1, 4, 0.44, 0.44), (2, 5, 0.36, 0.72),
    (2, 6, 0.32, 0.44), (5, 7, 0.16, 0.16), (3, 8, 0.32, 0.44), (8, 9, 0.32, 0.44),
    (8, 10, 0.44, 0.44), (3, 11, 0.44, 0.44), (4, 12, 0.36, 0.48), (4, 13, 0.16, 0.44),
    (13, 14, 0.16, 0.16),
)  # fmt: skip

VM_LIMITS_PU = (0.93, 1.07)
"""Nodal voltage limits (L341)."""

POWER_FACTOR = 0.95
"""Of every load (assumed, notes-002 §3.3: the paper has no reactive data)."""

DEFAULT_LOAD_MW = 14.0
"""Total active load of nodes 2-14 (assumed: a snapshot below the 17.9 MW at which
LinDistFlow first reaches 0.93 pu with equal loads, notes-002 §3.2; studies set their own
profiles)."""


def yang14(load_mw: float = DEFAULT_LOAD_MW) -> pp.pandapowerNet:
    """Seed 002's 14-node, 22 kV radial network (Table 1) as a pandapower net.

    Parameters
    ----------
    load_mw : float
        Total active load, split equally over nodes 2-14 at power factor 0.95.

    Returns
    -------
    pandapowerNet
        Buses named 1..14 (index 0..13) with geodata for plots, the ext_grid at node 1
        (1.00 pu), one load per node 2-14, 13 lines with ``length_km = 1`` and the Table 1
        impedances in ohm (``Z_base = 22^2 / 100 = 4.84`` ohm), no current limit
        (``max_i_ka = 99``), ``min_vm_pu``/``max_vm_pu`` 0.93/1.07.
    """
    if not (math.isfinite(load_mw) and load_mw >= 0):
        raise ValueError(f"yang14: load_mw must be finite and >= 0, got {load_mw}")
    net = pp.create_empty_network(name="yang14", sn_mva=BASE_MVA)
    z_base = BASE_KV**2 / BASE_MVA
    for node, xy in enumerate(_layout(), start=1):
        pp.create_bus(net, vn_kv=BASE_KV, name=node, min_vm_pu=VM_LIMITS_PU[0],
                      max_vm_pu=VM_LIMITS_PU[1], geodata=xy)  # fmt: skip
    pp.create_ext_grid(net, 0, vm_pu=1.0, name="substation")
    for a, b, r, x in BRANCHES:
        pp.create_line_from_parameters(
            net, a - 1, b - 1, length_km=1.0, r_ohm_per_km=r * z_base, x_ohm_per_km=x * z_base,
            c_nf_per_km=0.0, max_i_ka=99.0, name=f"{a}-{b}",
        )  # fmt: skip
    share = load_mw / 13
    q = share * math.tan(math.acos(POWER_FACTOR))
    for node in range(2, 15):
        pp.create_load(net, node - 1, p_mw=share, q_mvar=q, name=f"load {node}")
    return net


def _layout():
    """Plot coordinates of nodes 1..14: the tree drawn level by level from the root."""
    return [
        (0.0, 0.0), (-2.0, -1.0), (0.0, -1.0), (2.0, -1.0), (-2.5, -2.0), (-1.5, -2.0),
        (-2.5, -3.0), (0.0, -2.0), (-0.5, -3.0), (0.5, -3.0), (1.0, -2.0), (1.7, -2.0),
        (2.5, -2.0), (2.5, -3.0),
    ]  # fmt: skip
