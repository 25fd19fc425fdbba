"""Model: networks, devices and formulations, assembled into one cvxpy problem."""

import cvxpy as cp
import numpy as np
import pandas as pd
import scipy.sparse as sp

from gridflex.devices.base import BuildContext, Device
from gridflex.errors import InputError
from gridflex.network import Network
from gridflex.profiles import profile_values, time_axis
from gridflex.requirements import SystemConstraint, requirement_table
from gridflex.results import (
    DeviceInjection,
    Results,
    branch_tables,
    cost_table,
    merge_tables,
    stack_frames,
)
from gridflex.solvers import fix_integers, solve_checked, solve_lazy


class Model:
    """A multi-period dispatch model on one or more pandapower nets.

    Parameters
    ----------
    net : pandapowerNet or list of Network
        One net (the common case), or several :class:`~gridflex.network.Network` objects
        joined by :class:`~gridflex.network.Boundary` devices.
    periods : int or pandas.DatetimeIndex
        The time axis: a count (hourly by default) or evenly spaced timestamps.
    formulation : Formulation, optional
        For a single net: network physics; default :class:`~gridflex.formulations.DC` when the
        net has branches, :class:`~gridflex.formulations.CopperPlate` otherwise.
    dt_h : float, optional
        Period length in hours (taken from a DatetimeIndex's spacing by default).
    load_scale : float, array (T,) or pandas.Series, optional
        For a single net: per-period multiplier of the net's loads.
    net_elements : bool or dict
        For a single net: include its gens, sgens, ext_grids, loads and shunts as devices; a
        dict adds keyword arguments per table (``{"load": {"shed_cost_per_mwh": 200}}``).
    weights_h : array (T,), optional
        Hours each period stands for in the objective (default ``dt_h``): operating scenarios
        of a planning study, e.g. ``probability * 8760`` for a one-period scenario. Physics
        (storage energy, ramps) keeps using ``dt_h``; every cost term uses the weights.

    Examples
    --------
    >>> model = gf.Model(gf.networks.ieee14(), periods=24)
    >>> model.add(gf.Storage(bus=3, p_mw=20, e_mwh=80))
    >>> result = model.solve()
    """

    def __init__(
        self, net, periods=1, *, formulation=None, dt_h=None, load_scale=None, net_elements=True,
        weights_h=None,
    ):  # fmt: skip
        self.periods, self.dt_h = time_axis(periods, dt_h)
        self.weights_h = _weights(weights_h, self.periods)
        networks = (
            net
            if isinstance(net, list | tuple)
            else [
                Network(
                    net, formulation=formulation, load_scale=load_scale, net_elements=net_elements
                )
            ]
        )
        self.networks = _by_name(networks)
        self.devices = []
        self.requirements = []  # gridflex.requirements.Requirement, system-wide
        for network in self.networks.values():
            scale = network.load_scale
            if scale is not None:
                scale = profile_values(
                    scale, 1, self.periods, owner=_owner(self.networks, network), param="load_scale"
                )[0]
            for device in network.element_devices(scale):
                self.add(device, network=network.name)
        self.problem = None

    @property
    def cost_hours(self):
        """Hours each period stands for in the objective, (T,) (``dt_h`` unless weighted)."""
        return np.full(len(self.periods), self.dt_h) if self.weights_h is None else self.weights_h

    # --- the first (or only) network, for single-network use ----------------------------------
    @property
    def main(self):
        return next(iter(self.networks.values()))

    @property
    def net(self):
        return self.main.net

    @property
    def grid(self):
        return self.main.grid

    @property
    def formulation(self):
        return self.main.formulation

    @formulation.setter
    def formulation(self, value):
        self.main.formulation = value
        self.problem = None

    def context(self, device=None):
        """The :class:`BuildContext` a device is prepared and built with."""
        names = [self.main.name] if device is None else list(device.terminal_networks)
        names = names or [device.network or self.main.name]  # a device with no terminals
        reactive = any(self.networks[n].formulation.reactive for n in names if n in self.networks)
        grid = self.networks[names[0]].grid if names[0] in self.networks else self.grid
        grids = {k: v.grid for k, v in self.networks.items()}
        return BuildContext(grid, self.periods, self.dt_h, reactive, grids, self.weights_h)

    def add(self, device, network=None):
        """Add a device to ``network`` (default: the first), or a system constraint; returns it.

        Device names are unique. A :class:`~gridflex.requirements.SystemConstraint` (e.g. a
        reserve or ramp :class:`~gridflex.requirements.Requirement`) applies to the whole model.
        """
        if isinstance(device, SystemConstraint):
            return self._add_requirement(device)
        if not isinstance(device, Device):
            raise InputError(f"Model.add: expected a gridflex device, got {type(device).__name__}")
        if network is not None and str(network) not in self.networks:
            raise InputError(f"Model.add: no network '{network}' (networks: {list(self.networks)})")
        device.network = device.network or str(network or self.main.name)
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

    def _add_requirement(self, requirement):
        if requirement.name in {r.name for r in self.requirements}:
            raise InputError(
                f"Model.add: a requirement named '{requirement.name}' is already in the model"
            )
        self.requirements.append(requirement)
        self.problem = None
        return requirement

    def device(self, name):
        """The device called ``name``."""
        for d in self.devices:
            if d.name == name:
                return d
        raise KeyError(f"no device '{name}'; devices: {[d.name for d in self.devices]}")

    # --- assembly ------------------------------------------------------------------------------
    def build(self):
        """Check every device, then assemble the cvxpy problem (returned and kept)."""
        for device in self.devices:
            device.prepare(self.context(device))
        constraints = []
        for device in self.devices:
            constraints += device.build(self.context(device))
        for requirement in self.requirements:
            requirement.prepare(self.periods)
            constraints += requirement.build(self.devices)
        p_inj = self._nodal_injection([d.injection_mw() for d in self.devices])
        q_inj = self._nodal_injection([d.injection_mvar() for d in self.devices])
        self.builds, self._injections = {}, {}
        for name, network in self.networks.items():
            p, q = self._slice(p_inj, name), self._slice(q_inj, name)
            self._injections[name] = (p, q)
            reactive = network.formulation.reactive
            build = network.formulation.build(
                network.grid, p, len(self.periods), q if reactive else None
            )
            self.builds[name] = build
            constraints += build.constraints
        self.network = self.builds[self.main.name]
        self._cost_terms = [
            (d.name, k, e) for d in self.devices for k, e in d.cost_terms(self.context(d)).items()
        ]
        self._cost_terms += [
            (name, k, e)
            for name, network in self.networks.items()
            for k, e in network.formulation.cost_terms(self.builds[name]).items()
        ]
        objective = cp.Minimize(sum((e for _, _, e in self._cost_terms), cp.Constant(0.0)))
        self.problem = cp.Problem(objective, constraints)
        return self.problem

    def _offsets(self):
        sizes = [n.grid.n_bus for n in self.networks.values()]
        return dict(zip(self.networks, np.r_[0, np.cumsum(sizes)[:-1]], strict=True)), sum(sizes)

    def _nodal_injection(self, injections):
        """Device injections summed per bus of all networks, (total buses, T), or None.

        ``injections`` has one entry per device: an (n_terminals, T) expression or array, or
        None for a device without that quantity (e.g. no reactive power).
        """
        used = [(d, x) for d, x in zip(self.devices, injections, strict=True) if x is not None]
        if not used:
            return None
        offsets, n_total = self._offsets()
        rows = np.concatenate([self._terminal_rows(d, offsets) for d, _ in used])
        C = sp.csr_matrix(
            (np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(n_total, len(rows))
        )
        return C @ cp.vstack([x for _, x in used])

    def _terminal_rows(self, device, offsets):
        rows = []
        for network, bus in zip(device.terminal_networks, device.terminal_buses, strict=True):
            grid = self.networks[network].grid
            rows.append(offsets[network] + grid.bus_positions([bus], owner=device.owner)[0])
        return np.asarray(rows, dtype=int)

    def _slice(self, injection, name):
        n_bus = self.networks[name].grid.n_bus
        if injection is None:
            return cp.Constant(np.zeros((n_bus, len(self.periods))))
        start = self._offsets()[0][name]
        return injection[start : start + n_bus, :]

    # --- solving -------------------------------------------------------------------------------
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

        With a formulation that adds constraints lazily (``gf.DC(lazy_limits=True)``) the solve
        repeats, adding the violated limits each time, until none is violated
        (:func:`gridflex.solvers.solve_lazy`). ``result.solve_info`` tells how: solver,
        iterations (solves), constraints added and the largest remaining violation.

        Raises
        ------
        gridflex.errors.SolveError
            If the status is not optimal; no numbers are returned then.
        """
        if self.problem is None:
            self.build()
        sources, limit = self._lazy_sources()
        if sources:
            used, problem, info = solve_lazy(
                self.problem, sources, solver, max_rounds=limit, **solver_options
            )
        else:
            used, problem = solve_checked(self.problem, solver, **solver_options), self.problem
            info = {"method": "direct", "iterations": 1, "constraints_added": 0}
        if milp_prices and problem.is_mixed_integer():
            self._duals_from_fixed_integers(problem, **solver_options)
        result = self._results(used, problem)
        result.solve_info = {"solver": used, **info}
        return result

    def _lazy_sources(self):
        """Lazy constraint sources of this solve (one per network whose formulation has some,
        e.g. ``DC(lazy_limits=True)``) and the smallest iteration limit among them."""
        sources, limit = [], 100
        for network in self.networks.values():
            make = getattr(network.formulation, "lazy_rows", None)
            source = make(self.builds[network.name], network.grid) if make else None
            if source is not None:
                sources.append(source)
                limit = min(limit, getattr(network.formulation, "lazy_max_iterations", limit))
        return sources, limit

    def _duals_from_fixed_integers(self, problem, **solver_options):
        """Pricing run: the LP with integers fixed; its duals are stored on our constraints."""
        pricing = fix_integers(problem)
        solve_checked(pricing, None, **solver_options)
        for ours, theirs in zip(problem.constraints, pricing.constraints, strict=True):
            ours.save_dual_value(theirs.dual_value)

    # --- results -------------------------------------------------------------------------------
    def _results(self, solver, problem):
        by_network = {name: self._network_tables(name) for name in self.networks}
        reserves = requirement_table(self.requirements, self.periods, self.cost_hours)
        if reserves is not None:
            by_network[self.main.name]["res_requirement"] = reserves
        costs = cost_table([(owner, k, float(e.value)) for owner, k, e in self._cost_terms])
        return Results(
            by_network[self.main.name],
            costs,
            problem.value,
            solver,
            problem.status,
            self.periods,
            self.dt_h,
            by_network=by_network,
            injections=self._device_injections(),
            nets={name: network.net for name, network in self.networks.items()},
        )

    def _device_injections(self):
        """What AC validation writes into the nets: every device's solved injections."""
        out = []
        for d in self.devices:
            p, q = d.injection_mw(), d.injection_mvar()
            out.append(
                DeviceInjection(
                    device=d.name,
                    net_table=d.net_table,
                    unit_labels=d.unit_labels,
                    networks=list(d.terminal_networks),
                    buses=np.asarray(d.terminal_buses),
                    p_mw=np.asarray(p.value if hasattr(p, "value") else p, dtype=float),
                    q_mvar=None
                    if q is None
                    else np.asarray(q.value if hasattr(q, "value") else q, dtype=float),
                    power_factor=d.ac_power_factor,
                )
            )
        return out

    def _network_tables(self, name):
        tables = {}
        for device in (d for d in self.devices if d.network == name):
            frames = device.result_frames(self.context(device))
            tables.setdefault(device.result_table, []).append(stack_frames(frames))
        tables = {k: merge_tables(v) for k, v in tables.items()}
        tables["res_bus"] = self._bus_table(name)
        build, network = self.builds[name], self.networks[name]
        tables.update(network.formulation.tables(build, network.grid))
        quantities = network.formulation.branch_results(build, network.grid)
        if quantities is not None:
            tables.update(branch_tables(network.grid, quantities, self.periods))
        return tables

    def _bus_table(self, name):
        network, build = self.networks[name], self.builds[name]
        p_inj, q_inj = (np.asarray(x.value) for x in self._injections[name])
        cols = pd.Index(network.grid.bus_index, name="element")

        def frame(values):
            return pd.DataFrame(np.asarray(values).T, index=self.periods, columns=cols)

        out = {"p_mw": frame(-p_inj)}
        if network.formulation.reactive:
            out["q_mvar"] = frame(-q_inj)
        prices = network.formulation.prices_per_mwh(build, network.grid, self.cost_hours)
        out["price_per_mwh"] = frame(prices if prices is not None else np.full(p_inj.shape, np.nan))
        for key, values in network.formulation.bus_results(build, network.grid).items():
            out[key] = frame(values)
        return stack_frames(out)


def _weights(weights_h, periods):
    """Checked period weights (T,) or None."""
    if weights_h is None:
        return None
    w = np.asarray(weights_h, dtype=float).reshape(-1)
    if w.shape != (len(periods),) or not np.isfinite(w).all() or (w <= 0).any():
        raise InputError(
            f"Model: weights_h must be {len(periods)} positive numbers (hours each period "
            f"stands for in the objective), got shape {np.shape(weights_h)}"
        )
    return w


def _by_name(networks):
    if not networks or not all(isinstance(n, Network) for n in networks):
        raise InputError("Model: give one pandapower net or a list of gf.Network objects")
    names = [n.name for n in networks]
    if len(set(names)) != len(names):
        raise InputError(f"Model: network names must be unique, got {names}")
    return {n.name: n for n in networks}


def _owner(networks, network):
    """How errors name the model: 'Model', or 'Model (name)' with several networks."""
    return "Model" if len(networks) == 1 else f"Model ({network.name})"
