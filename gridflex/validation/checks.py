"""Checks after each AC power flow: limit violations and conservation of power.

In the spirit of pandapower's ``pandapower/test/consistency_checks.py``: the sum of all bus
injections equals the sum of branch losses (a power flow that does not balance is not valid).
"""

import numpy as np


def violations_of_period(net):
    """``(element, index, kind, value, limit)`` for every limit the AC results break."""
    found = []
    vm = net.res_bus.vm_pu
    for kind, column, compare in (
        ("vm_below_min", "min_vm_pu", np.less),
        ("vm_above_max", "max_vm_pu", np.greater),
    ):
        if column in net.bus:
            limit = net.bus[column].astype(float)
            bad = compare(vm, limit + (1e-9 if kind.endswith("max") else -1e-9)) & limit.notna()
            found += [("bus", i, kind, float(vm[i]), float(limit[i])) for i in vm.index[bad]]
    for element in ("line", "trafo"):
        res = net[f"res_{element}"]
        if len(res) == 0:
            continue
        limit = net[element].get("max_loading_percent", 100.0 + 0 * res.loading_percent)
        limit = limit.astype(float).fillna(100.0)
        bad = res.loading_percent > limit + 1e-9
        found += [
            (element, i, "overload", float(res.loading_percent[i]), float(limit[i]))
            for i in res.index[bad]
        ]
    return found


def balance_mismatch_mw(net):
    """Sum of bus active injections minus branch losses (should be ~0 for a valid flow)."""
    injected = -net.res_bus.p_mw.sum()
    losses = net.res_line.pl_mw.sum() + (net.res_trafo.pl_mw.sum() if len(net.trafo) else 0.0)
    return float(injected - losses)
