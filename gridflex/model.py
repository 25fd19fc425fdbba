"""Model: a pandapower net, devices and a formulation, assembled into one cvxpy problem."""

import cvxpy as cp
import numpy as np
import pandas as pd
import scipy.sparse as sp

from gridflex.devices.base import BuildContext, Device
from gridflex.devices.net_elements import devices_from_net
from gridflex.errors import InputError
from gridflex.formulations import DC, CopperPlate, Formulation
from gridflex.grid import Grid
from gridflex.profiles import profile_values, time_axis
from gridflex.results import Results, branch_tables, cost_table, merge_tables, stack_frames
from gridflex.solvers import fix_integers, solve_checked


class Model:
    """A multi-period dispatch model on a pandapower net.

    Parameters
    ----------
    net : pandapowerNet
        The network; never modified.
    periods : int or pandas.DatetimeIndex
        The time axis: a count (hourly by default) or evenly spaced timestamps.
    formulation : Formulation, optional
        Network physics; default :class:`~gridflex.formulations.DC` when the net has branches,
        :class:`~gridflex.formulations.CopperPlate` otherwise.
    dt_h : float, optional
        Period length in hours (taken from a DatetimeIndex's spacing by default).
    load_scale : float, array (T,) or pandas.Series, optional
        Per-period multiplier of the net's loads.
    net_elements : bool
        Include the net's own gens, sgens, ext_grids, loads and shunts as devices (default).

    Examples
    --------
    >>> model = gf.Model(gf.networks.ieee14(), periods=24)
    >>> model.add(gf.Storage(bus=3, p_mw=20, e_mwh=80))
    >>> result = model.solve()
    """

    def __init__(
        self, net, periods=1, *, formulation=None, dt_h=None, load_scale=None, net_elements=True
    ):
        self.net = net
        self.grid = Grid(net)
        self.periods, self.dt_h = time_axis(periods, dt_h)
        self.formulation = formulation or (DC() if self.grid.n_branch else CopperPlate())
        if not isinstance(self.formulation, Formulation):
            raise InputError(
                f"Model: formulation must be a Formulation instance (e.g. gf.DC()), "
                f"got {self.formulation!r}"
            )
        self.devices = []
        if load_scale is not None:
            load_scale = profile_values(
                load_scale, 1, self.periods, owner="Model", param="load_scale"
            )[0]
        if net_elements:
            for device in devices_from_net(net, load_scale):
                self.add(device)
        self.problem = None

    @property
    def context(self):
        return BuildContext(self.grid, self.periods, self.dt_h, self.formulation.reactive)

    def add(self, device):
        """Add a device (returns it). Names must be unique; a missing name is generated."""
        if not isinstance(device, Device):
            raise InputError(f"Model.add: expected a gridflex device, got {type(device).__name__}")
        taken = {d.name for d in self.devices}
        if device.name is None:
            base = type(device).__name__.lower()
            device.name = next(
                f"{base}{k}" for k in range(len(taken) + 1) if f"{base}{k}" not in taken
            )
        elif device.name in taken:
            raise InputError(f"Model.add: a device named '{device.name}' is already in the model")
        self.devices.append(device)
        self.problem = None
        return device

    def device(self, name):
        """The device called ``name``."""
        for d in self.devices:
            if d.name == name:
                return d
        raise KeyError(f"no device '{name}'; devices: {[d.name for d in self.devices]}")

    def build(self):
        """Check every device, then assemble the cvxpy problem (returned and kept)."""
        ctx = self.context
        for device in self.devices:
            device.prepare(ctx)
        constraints = []
        for device in self.devices:
            constraints += device.build(ctx)
        self._p_inj = self._nodal_injection(ctx, [d.injection_mw() for d in self.devices])
        self._q_inj = self._nodal_injection(ctx, [d.injection_mvar() for d in self.devices])
        q_inj = self._q_inj if ctx.reactive else None
        self.network = self.formulation.build(self.grid, self._p_inj, ctx.T, q_inj)
        self._cost_terms = [(d, k, e) for d in self.devices for k, e in d.cost_terms(ctx).items()]
        objective = cp.Minimize(sum((e for _, _, e in self._cost_terms), cp.Constant(0.0)))
        self.problem = cp.Problem(objective, constraints + self.network.constraints)
        return self.problem

    def _nodal_injection(self, ctx, injections):
        """Sum of device injections per bus, (n_bus, T), via one sparse incidence.

        ``injections`` has one entry per device: an (n_terminals, T) expression or array, or
        None for a device without that quantity (e.g. no reactive power).
        """
        used = [(d, x) for d, x in zip(self.devices, injections, strict=True) if x is not None]
        if not used:
            return cp.Constant(np.zeros((self.grid.n_bus, ctx.T)))
        buses = np.concatenate([d.terminal_buses for d, _ in used])
        rows = self.grid.bus_positions(buses, owner="Model")
        C = sp.csr_matrix(
            (np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(self.grid.n_bus, len(rows))
        )
        return C @ cp.vstack([x for _, x in used])

    def solve(self, solver=None, milp_prices=False, **solver_options):
        """Build (if needed) and solve; return :class:`~gridflex.results.Results`.

        Parameters
        ----------
        solver : str, optional
            Override the automatic choice (HiGHS for LP/MILP, Clarabel for QP/SOCP, SCIP for
            MIQP/MISOCP).
        milp_prices : bool
            For a mixed-integer problem, re-solve the LP with the integers fixed at their optimal
            values and take prices (and every other dual) from it. Otherwise a MILP's
            ``price_per_mwh`` is NaN.
        **solver_options
            Passed to ``cvxpy.Problem.solve``.

        Raises
        ------
        gridflex.errors.SolveError
            If the status is not optimal; no numbers are returned then.
        """
        if self.problem is None:
            self.build()
        used = solve_checked(self.problem, solver, **solver_options)
        if milp_prices and self.problem.is_mixed_integer():
            self._duals_from_fixed_integers(**solver_options)
        return self._results(used)

    def _duals_from_fixed_integers(self, **solver_options):
        """Pricing run: the LP with integers fixed; its duals are stored on our constraints."""
        pricing = fix_integers(self.problem)
        solve_checked(pricing, None, **solver_options)
        for ours, theirs in zip(self.problem.constraints, pricing.constraints, strict=True):
            ours.save_dual_value(theirs.dual_value)

    def _results(self, solver):
        ctx = self.context
        tables = {}
        for device in self.devices:
            frames = device.result_frames(ctx)
            tables.setdefault(device.result_table, []).append(stack_frames(frames))
        tables = {k: merge_tables(v) for k, v in tables.items()}
        tables["res_bus"] = self._bus_table(ctx)
        if self.network.branch_flow_mw is not None:
            flow = np.asarray(self.network.branch_flow_mw.value)
            tables.update(branch_tables(self.grid, flow, ctx.periods))
        costs = cost_table([(d.name, k, float(e.value)) for d, k, e in self._cost_terms])
        return Results(
            tables, costs, self.problem.value, solver, self.problem.status, ctx.periods, ctx.dt_h
        )

    def _bus_table(self, ctx):
        p_inj = self._p_inj.value
        cols = pd.Index(self.grid.bus_index, name="element")

        def frame(values):
            return pd.DataFrame(np.asarray(values).T, index=ctx.periods, columns=cols)

        out = {"p_mw": frame(-p_inj)}
        if ctx.reactive:
            out["q_mvar"] = frame(-np.asarray(self._q_inj.value))
        prices = self.formulation.prices_per_mwh(self.network, self.grid, ctx.dt_h)
        out["price_per_mwh"] = frame(prices if prices is not None else np.full(p_inj.shape, np.nan))
        for name, values in self.formulation.bus_results(self.network, self.grid).items():
            out[name] = frame(values)
        return stack_frames(out)
