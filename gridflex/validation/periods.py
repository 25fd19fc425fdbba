"""The two ways :func:`gridflex.validate_ac` solves the periods, filling one :class:`PeriodResults`.

* :func:`solve_with_runpp`: write period t into the net copy and call ``pp.runpp`` (the
  reference; used for any period the batch path leaves unsolved, and for ``method="runpp"``);
* :func:`solve_in_batch`: one ``runpp`` for a reference period, then every period at once with
  :class:`~gridflex.validation.batch.BatchPowerFlow` on pandapower's own matrices, and the
  pandapower result columns computed with pandapower's formulas (``results_branch.py``).
"""

import numpy as np
import pandapower as pp

from gridflex.conventions import injection_from_net_table
from gridflex.validation.batch import BatchPowerFlow, unsupported_reason

BUS_COLUMNS = ("vm_pu", "va_degree", "p_mw", "q_mvar")
BRANCH_COLUMNS = {
    "line": ("p_from_mw", "q_from_mvar", "p_to_mw", "q_to_mvar", "pl_mw", "loading_percent"),
    "trafo": ("p_hv_mw", "q_hv_mvar", "p_lv_mw", "q_lv_mvar", "pl_mw", "loading_percent"),
}
NOT_CONVERGED = (pp.LoadflowNotConverged, pp.powerflow.LoadflowNotConverged)


class PeriodResults:
    """AC results of every period: tables as arrays (T, n) and per-period status."""

    def __init__(self, net, T):
        self.arrays = {("bus", c): np.full((T, len(net.bus)), np.nan) for c in BUS_COLUMNS}
        for element, cols in BRANCH_COLUMNS.items():
            self.arrays.update(
                {(element, c): np.full((T, len(net[element])), np.nan) for c in cols}
            )
        self.converged = np.zeros(T, dtype=bool)
        self.reason = np.full(T, "not solved", dtype=object)
        self.slack_p_mw = np.full(T, np.nan)
        self.method = np.full(T, "", dtype=object)

    def store_net(self, net, t):
        """Copy the results of a converged ``runpp`` into period ``t``."""
        for (element, column), values in self.arrays.items():
            values[t] = net[f"res_{element}"][column].to_numpy()
        self.converged[t], self.reason[t], self.method[t] = True, "", "runpp"
        self.slack_p_mw[t] = float(net.res_ext_grid.p_mw.sum())


def solve_with_runpp(writer, results, periods, options):
    """``pp.runpp`` period by period (a progress bar on a terminal); a failure is recorded
    with its reason."""
    from gridflex.console import progress

    for t in progress(periods, "AC power flow per period", total=len(periods)):
        writer.write(t)
        try:
            pp.runpp(writer.net, **options)
        except NOT_CONVERGED as exc:
            results.reason[t] = f"{type(exc).__name__}: {exc}"[:200]
            results.method[t] = "runpp"
            continue
        results.store_net(writer.net, t)


def solve_in_batch(writer, results, options):
    """Solve all periods at once; returns the periods left for ``runpp`` (or None: all)."""
    if not writer.injections_only:  # set points or topology change by period: runpp
        return None
    t_ref = reference_period(writer)
    writer.write(t_ref)
    try:  # one power flow: numba's compile time (~6 s) would cost more than it saves
        pp.runpp(writer.net, **(options | {"numba": False}))
    except NOT_CONVERGED:
        return None
    if unsupported_reason(writer.net):
        return None
    flow = BatchPowerFlow(writer.net)
    s_pu = flow.injections_pu(injection_changes_mva(writer, t_ref, flow.n_bus))
    v, _ = flow.solve(s_pu, max_iteration=options.get("max_iteration_batch", 40))
    done = ~np.isnan(v).any(axis=0)
    _store_batch(writer.net, flow, v[:, done], s_pu[:, done], results, np.flatnonzero(done))
    return np.flatnonzero(~done)


def reference_period(writer):
    """The period whose total written active power is the median (a typical operating point)."""
    totals = sum(
        np.abs(values).sum(axis=0)
        for (table, column), (_, values) in writer.columns.items()
        if column == "p_mw"
    )
    if np.isscalar(totals):
        return 0
    return int(np.argsort(totals)[len(totals) // 2])


def injection_changes_mva(writer, t_ref, n_bus):
    """Bus injections (ppc buses, generation positive) of each period minus the reference's."""
    net, lookup = writer.net, writer.net._pd2ppc_lookups["bus"]
    delta = np.zeros((n_bus, writer.n_periods), dtype=complex)
    for (table, column), (labels, values) in writer.columns.items():
        rows = net[table].loc[labels]
        weight = injection_from_net_table(table, rows.in_service.to_numpy(float)[:, None])
        part = 1.0 if column == "p_mw" else 1j
        change = weight * part * (values - values[:, [t_ref]])
        np.add.at(delta, lookup[rows.bus.to_numpy()], change)
    return delta


def _store_batch(net, flow, v, s_pu, results, periods):
    lookup = net._pd2ppc_lookups["bus"][net.bus.index.to_numpy()]
    element = flow.element_power_mva(v, s_pu)
    bus_mva = flow.shunt_mva(v) - element  # pandapower's res_bus: consumption positive
    arrays = results.arrays
    arrays[("bus", "vm_pu")][periods] = np.abs(v[lookup]).T
    arrays[("bus", "va_degree")][periods] = np.angle(v[lookup], deg=True).T
    arrays[("bus", "p_mw")][periods] = bus_mva[lookup].real.T
    arrays[("bus", "q_mvar")][periods] = bus_mva[lookup].imag.T
    _store_branches(net, flow, v, arrays, periods)
    results.slack_p_mw[periods] = flow.slack_power_mva(v, s_pu, element).real
    results.converged[periods], results.reason[periods] = True, ""
    results.method[periods] = "batch"


def _store_branches(net, flow, v, arrays, periods):
    s_from, s_to = flow.branch_flows_mva(v)
    i_from, i_to = flow.branch_currents_ka(v, s_from, s_to)
    for element, (c_pf, c_qf, c_pt, c_qt, c_pl, c_load) in BRANCH_COLUMNS.items():
        if element not in net._pd2ppc_lookups["branch"]:
            continue
        f, t = net._pd2ppc_lookups["branch"][element]
        sf, st = s_from[f:t], s_to[f:t]
        for column, values in (
            (c_pf, sf.real),
            (c_qf, sf.imag),
            (c_pt, st.real),
            (c_qt, st.imag),
            (c_pl, sf.real + st.real),
            (c_load, _loading_percent(net, element, (i_from[f:t], i_to[f:t]), (sf, st))),
        ):
            arrays[(element, column)][periods] = values.T


def _loading_percent(net, element, ends_ka, ends_mva):
    """pandapower's ``loading_percent`` (results_branch.py) from the end currents, kA."""
    table = net[element]
    (i_from, i_to), (s_from, s_to) = ends_ka, ends_mva
    if element == "line":
        i_max = (table.max_i_ka * table.df * table.parallel).to_numpy(float)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(i_max != 0, np.maximum(i_from, i_to) / i_max, np.inf) * 100
    sn = table.sn_mva.to_numpy(float)[:, None]
    scale = (table.parallel * table.df).to_numpy(float)[:, None]
    if net._options.get("trafo_loading", "current") == "power":
        return np.maximum(np.abs(s_from), np.abs(s_to)) / sn * 100 / scale
    hv = i_from * table.vn_hv_kv.to_numpy(float)[:, None] * np.sqrt(3) / sn * 100
    lv = i_to * table.vn_lv_kv.to_numpy(float)[:, None] * np.sqrt(3) / sn * 100
    return np.maximum(hv, lv) / scale
