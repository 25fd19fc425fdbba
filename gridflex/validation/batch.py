"""AC power flow of many periods of one network at once: Newton's method with a fixed Jacobian.

Every period of a dispatch shares the network (admittances, bus types, voltage set points);
only the bus injections change. :class:`BatchPowerFlow` takes pandapower's own matrices from one
converged ``pp.runpp`` (the *reference period*: its ``ppc``, with the same bus numbering, bus
types, set points and branch data pandapower uses) and solves

    F(V_t) = V_t * conj(Y_bus V_t) - S_t = 0      (P at PV and PQ buses, Q at PQ buses)

for all periods t together with the chord method: one Jacobian J0 (at the reference solution),
factorized once, and per iteration

    x_t <- x_t - J0^{-1} F(x_t)                    (x = angles at PV+PQ, magnitudes at PQ)

for every period not yet converged, as one sparse product ``Y_bus @ V`` of shape (n_bus, T) and
one LU solve with T right-hand sides. The fixed point is the same as pandapower's Newton-Raphson
(F = 0 with the same F); convergence is checked on the same mismatch, in per unit, to a tighter
tolerance than ``runpp``'s 1e-8. Periods whose mismatch does not fall below it within
``max_iteration`` (chord steps converge linearly, so for injections far from the reference)
are returned as not converged and the caller solves them with ``pp.runpp``.

Assumptions (checked by :func:`unsupported_reason`): constant-power loads, one pandapower bus per
ppc bus (no buses merged by closed bus-bus switches), no HVDC/VSC/SVC/TCSC/SSC elements, reactive
limits not enforced (pandapower's default).
"""

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from pandapower.pypower.bustypes import bustypes
from pandapower.pypower.dSbus_dV import dSbus_dV
from pandapower.pypower.idx_brch import F_BUS, T_BUS
from pandapower.pypower.idx_bus import BASE_KV, BS, GS, PD, QD, VA, VM
from pandapower.pypower.idx_gen import GEN_BUS, GEN_STATUS, PG, QG
from pandapower.pypower.makeYbus import makeYbus

TOLERANCE_PU = 1e-9  # max |mismatch| in per unit (1e-7 MVA at 100 MVA base); runpp: 1e-8 pu
DIVERGED_PU = 1e3
DENSE_MAX = 3000  # unknowns; a dense inverse of 3000 x 3000 is 72 MB


class BatchPowerFlow:
    """Per-period AC power flows of one pandapower net with changing injections.

    Parameters
    ----------
    net : pandapowerNet
        A net on which ``pp.runpp`` has just converged (the reference period).
    """

    def __init__(self, net):
        ppc = net._ppc
        self.base_mva = float(ppc["baseMVA"])
        self.bus, self.branch = ppc["bus"], ppc["branch"]
        self.ybus, self.yf, self.yt = makeYbus(self.base_mva, self.bus, self.branch)
        self.ref, self.pv, self.pq = bustypes(self.bus, ppc["gen"])
        self.pvpq = np.r_[self.pv, self.pq]
        self.v_ref = self.bus[:, VM] * np.exp(1j * np.deg2rad(self.bus[:, VA]))
        self.s_fixed = _fixed_injections(ppc, net._pd2ppc_lookups["ext_grid"], self.base_mva)
        self.solve_jacobian, self.solve_jacobian_t = _linear_solvers(self._jacobian(self.v_ref))

    @property
    def n_bus(self):
        return self.bus.shape[0]

    def _jacobian(self, v):
        ds_dvm, ds_dva = dSbus_dV(self.ybus, v)
        pvpq, pq = self.pvpq, self.pq
        return sp.bmat(
            [
                [ds_dva[pvpq][:, pvpq].real, ds_dvm[pvpq][:, pq].real],
                [ds_dva[pq][:, pvpq].imag, ds_dvm[pq][:, pq].imag],
            ],
            format="csc",
        )

    def solve(self, s_pu, max_iteration=30, chunk=2048):
        """Voltages (n_bus, T) for injections ``s_pu`` (n_bus, T; generation positive, pu).

        Returns ``(v, iterations)``: complex voltages with NaN columns for the periods that did
        not converge, and the number of steps each period took. Periods are solved in chunks
        of ``chunk`` so the memory of the Broyden updates stays bounded.
        """
        T = s_pu.shape[1]
        v = np.full((self.n_bus, T), np.nan, dtype=complex)
        steps = np.zeros(T, dtype=int)
        for start in range(0, T, chunk):
            cols = slice(start, min(T, start + chunk))
            v[:, cols], steps[cols] = self._solve_chunk(s_pu[:, cols], max_iteration)
        return v, steps

    def _solve_chunk(self, s_pu, max_iteration):
        T = s_pu.shape[1]
        x = np.repeat(self.x_ref[:, None], T, axis=1)
        steps = np.zeros(T, dtype=int)
        failed = np.zeros(T, dtype=bool)
        active = np.arange(T)
        f = self._mismatch(x, s_pu)
        inverse = _InverseBroyden(self.solve_jacobian, self.solve_jacobian_t)
        for iteration in range(max_iteration + 1):
            norm = np.abs(f).max(axis=0) if f.size else np.zeros(len(active))
            alive = norm < DIVERGED_PU  # False for NaN
            failed[active[~alive]] = True
            keep = alive & (norm >= TOLERANCE_PU)
            active, f = active[keep], f[:, keep]
            inverse.keep(keep)
            if active.size == 0 or iteration == max_iteration:
                break
            step = -inverse.apply(f)
            x[:, active] += step
            f_new = self._mismatch(x[:, active], s_pu[:, active])
            inverse.update(step, f, f_new)
            f = f_new
            steps[active] += 1
        failed[active] = True
        v = self._voltages(x)
        v[:, failed] = np.nan
        return v, steps

    @property
    def x_ref(self):
        """The unknowns at the reference solution: angles at PV+PQ buses, magnitudes at PQ."""
        return np.r_[np.angle(self.v_ref[self.pvpq]), np.abs(self.v_ref[self.pq])]

    def _voltages(self, x):
        va = np.repeat(np.angle(self.v_ref)[:, None], x.shape[1], axis=1)
        vm = np.repeat(np.abs(self.v_ref)[:, None], x.shape[1], axis=1)
        n = len(self.pvpq)
        va[self.pvpq], vm[self.pq] = x[:n], x[n:]
        return vm * np.exp(1j * va)

    def _mismatch(self, x, s_pu):
        v = self._voltages(x)
        mis = v * np.conj(self.ybus @ v) - s_pu
        return np.vstack([mis[self.pvpq].real, mis[self.pq].imag])

    def branch_flows_mva(self, v):
        """Complex power into each ppc branch at its from and to end, (n_branch, T) each, MVA."""
        f = self.branch[:, F_BUS].real.astype(int)
        t = self.branch[:, T_BUS].real.astype(int)
        s_from = v[f] * np.conj(self.yf @ v) * self.base_mva
        s_to = v[t] * np.conj(self.yt @ v) * self.base_mva
        return s_from, s_to

    def branch_currents_ka(self, v, s_from, s_to):
        """Current magnitudes at the from and to end, kA, as pandapower computes them."""
        f = self.branch[:, F_BUS].real.astype(int)
        t = self.branch[:, T_BUS].real.astype(int)
        base_kv = self.bus[:, BASE_KV].real
        i_from = np.abs(s_from) / (np.abs(v[f]) * base_kv[f, None]) / np.sqrt(3)
        i_to = np.abs(s_to) / (np.abs(v[t]) * base_kv[t, None]) / np.sqrt(3)
        return i_from, i_to

    def element_power_mva(self, v, s_pu):
        """Power injected by the elements at each bus (shunts excluded), MVA, (n_bus, T).

        As pandapower reports it: the given injections where they are fixed (P at PV and PQ
        buses, Q at PQ buses), the power flow's result elsewhere (Q at PV buses, both at the
        slack buses, which includes the slack element).
        """
        solved = v * np.conj(self.ybus @ v) * self.base_mva  # elements = flows out + shunts
        given = s_pu * self.base_mva
        out = given.copy()
        out[self.pv] = given[self.pv].real + 1j * solved[self.pv].imag
        out[self.ref] = solved[self.ref]
        return out

    def slack_power_mva(self, v, s_pu, element_mva):
        """Complex power of the slack element(s) (ext_grid), summed, MVA, per period."""
        return (element_mva[self.ref] - s_pu[self.ref] * self.base_mva).sum(axis=0)

    def shunt_mva(self, v):
        """Power drawn by the buses' shunts (GS + j BS at 1 pu, pandapower's sign), MVA."""
        y_mva = self.bus[:, GS].real - 1j * self.bus[:, BS].real
        return y_mva[:, None] * np.abs(v) ** 2

    def injections_pu(self, delta_mva):
        """Injections per period: the reference's fixed ones plus ``delta_mva`` (n_bus, T)."""
        return self.s_fixed[:, None] + delta_mva / self.base_mva


def _linear_solvers(jacobian):
    """``f -> J^{-1} f`` and ``f -> J^{-T} f`` for many right-hand sides: a dense inverse for
    networks up to ``DENSE_MAX`` unknowns (one matrix product), else a sparse LU."""
    if jacobian.shape[0] <= DENSE_MAX:
        inverse = np.linalg.inv(jacobian.toarray())
        inverse_t = np.ascontiguousarray(inverse.T)
        return (lambda f: inverse @ f), (lambda f: inverse_t @ f)
    lu = spla.splu(jacobian.tocsc())
    return lu.solve, (lambda f: lu.solve(f, trans="T"))


class _InverseBroyden:
    """Broyden's ("good") update of the inverse Jacobian, one per period, in compact form.

    ``H_k = H_0 + sum_j a_j b_j^T`` with ``H_0 = J0^{-1}`` shared by all periods and the vectors
    ``a_j, b_j`` stored per period as columns of (n, T) arrays. After a step ``s = -H f`` with
    new mismatch ``f'`` (``y = f' - f``), the Sherman-Morrison form of Broyden's update is
    ``a = (s - H y) / (s^T H y)``, ``b = H^T s``; ``H y = H f' + s`` needs one product with H.
    After ``MEMORY`` updates it restarts from ``H_0``.
    """

    MEMORY = 20

    def __init__(self, h0, h0_t):
        self.h0, self.h0_t = h0, h0_t
        self.a, self.b = [], []
        self.h_f_next = None  # H f' from the last update, reused by the next apply()

    def apply(self, f):
        if self.h_f_next is not None:
            return self.h_f_next
        return self._times(f)

    def _times(self, f):
        out = self.h0(f)
        for a, b in zip(self.a, self.b, strict=True):
            out += a * np.einsum("ij,ij->j", b, f)
        return out

    def _times_t(self, s):
        out = self.h0_t(s)
        for a, b in zip(self.a, self.b, strict=True):
            out += b * np.einsum("ij,ij->j", a, s)
        return out

    def update(self, step, f_old, f_new):
        h_f_new = self._times(f_new)
        y = f_new - f_old
        a = (step - (h_f_new + step)) / np.einsum("ij,ij->j", y, y).clip(1e-300)
        if len(self.a) >= self.MEMORY:
            self.a, self.b = [], []
            self.h_f_next = None
            return
        self.a.append(a)
        self.b.append(y)
        self.h_f_next = h_f_new + a * np.einsum("ij,ij->j", y, f_new)

    def keep(self, mask):
        """Drop the periods that converged or failed (columns where ``mask`` is False)."""
        self.a = [a[:, mask] for a in self.a]
        self.b = [b[:, mask] for b in self.b]
        if self.h_f_next is not None:
            self.h_f_next = self.h_f_next[:, mask]


def _fixed_injections(ppc, ext_grid_rows, base_mva):
    """Bus injections of the reference period without the slack's, pu (the ppc's own data).

    ``ext_grid_rows`` is pandapower's lookup by ext_grid index, ``-1`` for rows it left out
    (out of service, or index gaps): only the real rows are the slack's.
    """
    rows = np.asarray(ext_grid_rows if ext_grid_rows is not None else [], dtype=int)
    ext_grid_rows = rows[rows >= 0]
    gen = ppc["gen"].copy()
    gen[ext_grid_rows, PG] = 0.0
    gen[ext_grid_rows, QG] = 0.0
    on = gen[gen[:, GEN_STATUS] > 0]
    n_bus = ppc["bus"].shape[0]
    s = np.zeros(n_bus, dtype=complex)
    np.add.at(s, on[:, GEN_BUS].real.astype(int), on[:, PG] + 1j * on[:, QG])
    return (s - ppc["bus"][:, PD] - 1j * ppc["bus"][:, QD]) / base_mva


def unsupported_reason(net):
    """Why :class:`BatchPowerFlow` cannot reproduce ``runpp`` on this net ('' if it can)."""
    lookup = net._pd2ppc_lookups
    buses = lookup["bus"][net.bus.index.to_numpy()]
    if len(np.unique(buses)) < len(buses) or np.any(lookup.get("merged_bus", [])):
        return "buses merged by closed bus-bus switches"
    for column in ("const_z_percent", "const_i_percent", "const_z_p_percent", "const_i_p_percent"):
        if column in net.load and np.any(net.load[column].fillna(0).to_numpy() != 0):
            return f"voltage-dependent loads (load.{column})"
    for table in ("dcline", "vsc", "svc", "tcsc", "ssc", "xward"):
        if table in net and len(net[table]):
            return f"{table} elements"
    if net._options.get("enforce_q_lims"):
        return "enforce_q_lims=True"
    if net._options.get("distributed_slack"):
        return "distributed_slack=True"
    return ""
