"""Model: networks, devices and formulations, assembled into one cvxpy problem."""

import cvxpy as cp
import numpy as np
import pandas as pd
import scipy.sparse as sp

from gridflex.carriers import node_balance, node_tables
from gridflex.devices.base import BuildContext, Device, Role, refresh
from gridflex.diagnosis import check_islands
from gridflex.errors import InputError, SolveError
from gridflex.formulations.base import net_shunts
from gridflex.network import Network
from gridflex.problems.decisions import (
    by_name,
    clear_duals,
    copy_duals,
    device_decisions,
    fixed_problem,
    free_pattern,
    network_decisions,
    write_back,
)
from gridflex.problems.planning import investment_table
from gridflex.profiles import profile_values
from gridflex.requirements import SystemConstraint, requirement_table
from gridflex.results import DeviceInjection, Results
from gridflex.solvers import (
    PROVEN,
    LiveLP,
    fix_integers,
    solve_checked,
    solve_lazy,
    solve_robust,
)
from gridflex.tables import branch_tables, cost_table, merge_tables, stack_frames
from gridflex.timeaxis import TimeAxis

MAX_ASSEMBLIES = 16
"""Fixed/relaxed copies of a build kept for re-solves (one per set of fixed decision names)."""

INFEASIBLE = (cp.INFEASIBLE, "infeasible_or_unbounded")
"""Statuses after which :meth:`Model.solve` explains the conflict (``diagnose=True``)."""


class Model:
    """A multi-period dispatch model on one or more pandapower nets.

    Parameters
    ----------
    net : pandapowerNet or list of Network
        One net (the common case), or several :class:`~gridflex.network.Network` objects
        joined by :class:`~gridflex.devices.boundary.Boundary` devices.
    periods : int, pandas.DatetimeIndex or list of Block
        The time axis: a count (hourly by default), evenly spaced timestamps (one open block of
        weight 1), or :class:`~gridflex.timeaxis.Block` s (typical days, operating scenarios;
        periods labelled ``(block, period)``), see :mod:`gridflex.timeaxis`.
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
    horizon : Horizon, optional
        Planning stages (multi-stage planning): every block names its stage, operating costs
        are discounted by stage and investments are decided per stage
        (:mod:`gridflex.problems.planning`).
    resolvable : bool
        Build re-solvable values (profiles, prices, linear costs, limits: the parameters marked
        re-solvable in each device's docs) as cvxpy Parameters (default), so that editing them
        and solving again skips the rebuild and the compilation, and an LP restarts HiGHS from
        its last basis (:doc:`resolve`). ``False`` builds them as constants: every edit rebuilds.

    Examples
    --------
    >>> model = gf.Model(gf.networks.ieee14(), periods=24)
    >>> model.add(gf.Storage(bus=3, p_mw=20, e_mwh=80))
    >>> result = model.solve()
    """

    def __init__(
        self, net, periods=1, *, formulation=None, dt_h=None, load_scale=None, net_elements=True,
        horizon=None, resolvable=True,
    ):  # fmt: skip
        self.time = TimeAxis(periods, dt_h, horizon)
        self.resolvable = bool(resolvable)
        self.periods, self.dt_h = self.time.index, self.time.dt_h
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
        self._placement = {}  # id(device) -> the network it was added to
        self._fixes = {}  # decision name -> values (kept across rebuilds)
        self._built_problem = self._assembled = None
        self._fixing, self._fixed_now, self._relaxed_now = {}, {}, {}
        self._relax = None  # None, True (every integer decision) or a set of decision names
        self.requirements = []  # gridflex.requirements.Requirement, system-wide
        for network in self.networks.values():
            scale = network.load_scale
            if scale is not None:
                owner = _owner(self.networks, network)
                scale = profile_values(scale, 1, self.periods, owner=owner, param="load_scale")[0]
                if (scale < 0).any():
                    t = int(np.argmax(scale < 0))
                    raise InputError(f"{owner}: load_scale must be >= 0 (a load never produces), "
                                     f"got {scale[t]} in period {self.periods[t]}")  # fmt: skip
            for device in network.element_devices(scale):
                self.add(device, network=network.name)
        self.problem = None
        self.rebuild_reason = None  # why the last solve rebuilt an edited model (or None)

    @property
    def cost_hours(self):
        """Hours each period stands for in the objective, (T,): weight x probability x dt_h."""
        return self.time.cost_hours

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

    def network_of(self, device):
        """Name of the network ``device`` (or its name) was added to; its results go there."""
        return self._placement[id(self._member(device))]

    def _member(self, device):
        """The model's device given as itself or by name (an outsider is refused)."""
        if isinstance(device, str):
            return self.device(device)
        if not any(d is device for d in self.devices):
            raise KeyError(f"{device.owner} is not in this model (a different object?)")
        return device

    def context(self, device=None):
        """The :class:`BuildContext` a device is checked and built with."""
        placed = self.main.name if device is None else self._placement[id(device)]
        names = [placed] if device is None else device.networks_touched(placed)
        reactive = any(self.networks[n].formulation.reactive for n in names if n in self.networks)
        grid = self.networks[names[0]].grid if names[0] in self.networks else self.grid
        grids = {k: v.grid for k, v in self.networks.items()}
        return BuildContext(grid, self.time, reactive, grids, network=placed,
                            resolvable=self.resolvable)  # fmt: skip

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
        if any(d is device for d in self.devices):
            raise InputError(f"Model.add: {device.owner} is already in the model")
        taken = {d.name for d in self.devices}
        if device.name is None:
            base = type(device).__name__.lower()
            device.name = next(
                f"{base}{k}" for k in range(len(taken) + 1) if f"{base}{k}" not in taken
            )
        elif device.name in taken:
            raise InputError(f"Model.add: a device named '{device.name}' is already in the model")
        self.devices.append(device)
        self._placement[id(device)] = str(network or device.network or self.main.name)
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
        """Check every device, then assemble the cvxpy problem (returned and kept).

        Each device returns a :class:`~gridflex.devices.base.DeviceBuild` (its variables,
        constraints, injections and costs) which the model keeps (:meth:`build_of`); nothing
        is stored on the devices, so one device object may sit in several models.
        """
        self._check_device_set()
        contexts = {d.name: self.context(d) for d in self.devices}
        values = {d.name: d.check(contexts[d.name]) for d in self.devices}  # all before any build
        self.device_builds = {
            d.name: d.build(contexts[d.name], values[d.name]) for d in self.devices
        }
        self.system_builds = {
            r.name: r.build(self.device_builds, self.periods) for r in self.requirements
        }
        constraints = [c for b in self.device_builds.values() for c in b.constraints]
        constraints += [c for b in self.system_builds.values() for c in b.constraints]
        constraints += self._build_networks()  # (a formulation's own topology checks first)
        check_islands(self)  # a firm load on an island without supply: certain, say so now
        self.node_balance = node_balance([p for b in self.device_builds.values() for p in b.ports])
        if self.node_balance is not None:
            constraints.append(self.node_balance.constraint)
        self._cost_terms = [
            (name, k, e) for name, b in self.device_builds.items() for k, e in b.costs.items()
        ]
        self._cost_terms += [
            (name, k, e)
            for name, network in self.networks.items()
            for k, e in network.formulation.cost_terms(self.builds[name]).items()
        ]
        objective = cp.Minimize(sum((e for _, _, e in self._cost_terms), cp.Constant(0.0)))
        for b in self.device_builds.values():  # what each build read directly: its constants
            recording = getattr(b.values, "recording", None)
            keys = recording(False) if recording else None
            b.constant_keys = keys if self.resolvable else None  # None: every edit rebuilds
        self._built_problem = cp.Problem(objective, constraints)
        # of this build: fixed/relaxed copies, live LPs, problems solved (compiled) so far
        self._assemblies, self._live, self._solved = {}, {}, {}
        try:
            self._assemble()
        except Exception:
            self.problem = self._built_revisions = None  # stays stale: never half-built
            raise
        self._built_revisions = self._revisions()
        return self.problem

    # --- decisions by role -----------------------------------------------------------------------
    def decisions(self, role=None):
        """The model's decisions (:class:`~gridflex.problems.decisions.Decision`), all or of one
        :class:`~gridflex.devices.base.Role`: devices' variables and candidate branches."""
        if self._stale():
            self.build()
        return [d for d in self.decisions_of_build() if role is None or d.role is role]

    def fix(self, values):
        """Hold decisions at ``values`` (``{"new_T.built": [1, 0], ...}``, e.g. another
        result's ``plan``) in every later solve, until :meth:`unfix`. Checked now (names, shapes,
        integrality); kept across rebuilds. Fixed decisions become continuous: with every
        integer fixed the problem is an LP with prices. NaN entries stay free (a partial fix,
        e.g. a truck kept off some legs): such a decision keeps its integrality."""
        self._refuse_if_replaced("fix")
        known = by_name(self.decisions(), list(values))
        checked = {n: known[n].checked(v) for n, v in values.items()}
        self._fixes.update(checked)
        self._assemble()
        return self

    def unfix(self, names=None):
        """Release fixed decisions (all by default): the next solve is the original problem."""
        self._refuse_if_replaced("unfix")
        names = list(self._fixes) if names is None else list(names)
        unknown = [n for n in names if n not in self._fixes]
        if unknown:
            raise InputError(
                f"Model.unfix: '{unknown[0]}' is not fixed (fixed: {list(self._fixes)})"
            )
        for n in names:
            del self._fixes[n]
        if self.problem is not None:
            self._assemble()
        return self

    @property
    def fixed(self):
        """``{decision name: values}`` currently fixed."""
        return dict(self._fixes)

    def relax(self, names=None):
        """Relax integrality of decisions (every integer decision by default) in later solves,
        until :meth:`unrelax`: binaries become ``0 <= x <= 1``. A fixed decision stays fixed.
        The result is a lower bound of the mixed-integer optimum; its plan may be fractional."""
        self._refuse_if_replaced("relax")
        if isinstance(names, str):
            raise InputError(f"Model.relax: give a list of decision names, got {names!r}")
        if names is not None:
            known = by_name(self.decisions(), list(names))
            plain = [n for n, d in known.items() if not d.integer]
            if plain:
                raise InputError(f"Model.relax: '{plain[0]}' is not an integer decision")
        if names is None or self._relax is True:
            self._relax = True  # every integer decision (a later list adds nothing)
        else:
            self._relax = set(names) | (self._relax or set())
        if self.problem is not None:
            self._assemble()
        return self

    def unrelax(self):
        """Restore integrality of every relaxed decision."""
        self._refuse_if_replaced("unrelax")
        self._relax = None
        if self.problem is not None:
            self._assemble()
        return self

    @property
    def relaxed(self):
        """Names of the decisions whose integrality is relaxed now."""
        if self._relax is None:
            return []
        return [d.name for d in self.decisions() if self._relaxes(d)]

    def _relaxes(self, decision):
        chosen = self._relax is True or decision.name in (self._relax or ())
        return chosen and decision.integer and decision.name not in self._fixes

    def evaluate(self, plan, **solve_options):
        """Operation re-optimised with ``plan`` (``{decision name: values}``) fixed: a
        :class:`~gridflex.results.Results`; the model is left as it was."""
        self._refuse_if_replaced("evaluate")
        before = dict(self._fixes)
        try:
            self.fix(plan)
            return self.solve(**solve_options)
        finally:
            self._fixes = before
            if self._built_problem is not None and self._built_revisions is not None:
                self._assemble()

    def _refuse_if_replaced(self, what):
        if self.problem is not None and self.problem is not self._assembled:
            raise InputError(
                f"Model.{what}: model.problem was replaced by hand; {what} would drop it"
            )

    def _assemble(self):
        """The problem to solve: the built one, with the fixed decisions held and the relaxed
        ones continuous (a copy)."""
        relaxed = [d for d in self.decisions_of_build() if self._relaxes(d)]
        if not self._fixes and not relaxed:
            self.problem = self._assembled = self._built_problem
            self._fixing, self._fixed_now, self._relaxed_now = {}, {}, {}
            return
        decisions = by_name(self.decisions_of_build(), list(self._fixes))
        fixes = {decisions[n]: v for n, v in self._fixes.items()}
        fixed = tuple(sorted((n, free_pattern(v)) for n, v in self._fixes.items()))
        key = (fixed, tuple(sorted(d.name for d in relaxed)))
        if key not in self._assemblies:  # the same decisions again: only new values
            if len(self._assemblies) >= MAX_ASSEMBLIES:  # many different sets: keep memory flat
                self._assemblies.clear()
                self._live, self._solved = {}, {}
            self._assemblies[key] = fixed_problem(self._built_problem, fixes, relaxed)
        self.problem, self._fixing, self._relaxed_now = self._assemblies[key]
        for name, values in self._fixes.items():
            self._fixing[name][2].value = np.nan_to_num(values)  # NaN: free, held as 0
        self._assembled, self._fixed_now = self.problem, fixes

    def decisions_of_build(self):
        """The decisions of the current build (no rebuild)."""
        return device_decisions(self.device_builds) + network_decisions(self.networks, self.builds)

    def _build_networks(self):
        """Every network's formulation on the nodal injections; returns their constraints."""
        builds = list(self.device_builds.values())
        p_inj = self._nodal_injection(builds, [b.p_mw for b in builds])
        q_inj = self._nodal_injection(builds, [b.q_mvar for b in builds])
        self.builds, self._injections, constraints = {}, {}, []
        for name, network in self.networks.items():
            p, q = self._slice(p_inj, name), self._slice(q_inj, name)
            if not network.formulation.voltage_shunts:  # shunts at 1 pu (DistFlow: at v)
                shunts = net_shunts(network.grid)
                p = p - shunts.per_bus(shunts.p_mw, network.grid.n_bus)[:, None]
            self._injections[name] = (p, q)
            reactive = network.formulation.reactive
            build = network.formulation.build(
                network.grid, p, len(self.periods), q if reactive else None, time=self.time
            )
            self.builds[name] = build
            constraints += build.constraints
        self.network = self.builds[self.main.name]
        return constraints

    def build_of(self, device):
        """The :class:`~gridflex.devices.base.DeviceBuild` of ``device`` (or its name) in this
        model, built if needed: its variables by role, values, injections."""
        device = self._member(device)
        if self._stale():
            self.build()
        return self.device_builds[device.name]

    def _check_device_set(self):
        """Names still unique (a device renamed after ``add``), and no set both in the model
        and inside an aggregate (its load would count twice)."""
        names = [d.name for d in self.devices]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise InputError(f"Model: two devices are named '{twice[0]}' (renamed after add?)")
        for device in self.devices:  # e.g. a truck's stations must be ice makers' or ISACs'
            device.check_peers(self.devices)
        inside = [(d, f) for d in self.devices for f in getattr(d, "sets", ())]
        counted = {}  # a set's baseline load is counted by each aggregate with baselines=True
        for aggregate, member in inside:
            if not getattr(aggregate, "baselines", True):
                continue
            if id(member) in counted:
                raise InputError(
                    f"Model: {member.owner} is inside both {counted[id(member)].owner} and "
                    f"{aggregate.owner}, both with baselines=True; its load would count twice "
                    "(give one of them baselines=False)"
                )
            counted[id(member)] = aggregate
        members = {id(f) for _, f in inside}
        both = [d for d in self.devices if id(d) in members]
        if both:
            raise InputError(
                f"Model: {both[0].owner} is in the model and inside an AggregatedFlex; its "
                "load would count twice (add either the set or the aggregate)"
            )

    def _revisions(self):
        """What the current build was made from: devices, requirements and their edits."""
        parts = [(d.name, id(d), self._placement[id(d)], d.revision) for d in self.devices]
        return parts + [(r.name, id(r), r.revision) for r in self.requirements]

    def _stale(self):
        """True when the problem must be (re)built: never built, or anything edited since.

        A problem replaced by hand (``model.problem = ...``, e.g. with a plan fixed) is never
        silently thrown away: editing the model after that raises instead.
        """
        if self.problem is None:
            self.rebuild_reason = None  # never built
            return True
        if self._built_revisions == self._revisions():
            return False
        if self.problem is not self._assembled:
            raise InputError(
                "Model: model.problem was replaced by hand and the model was edited since; "
                "a rebuild would drop the hand-made changes: rebuild and re-apply them"
            )
        self.rebuild_reason = self._refresh()
        return self.rebuild_reason is not None

    def _refresh(self):
        """Edits that reach the problem only through Parameters: new Parameter values, no
        rebuild (returns None). Otherwise why a rebuild is needed (devices, names, placement,
        requirements, a value read as a constant, a pattern of infinities)."""
        old, new = self._built_revisions, self._revisions()
        if old is None or len(old) != len(new):
            return "devices or requirements were added"
        changed = []
        for before, now in zip(old, new, strict=True):
            if before[:-1] != now[:-1]:
                return f"'{now[0]}' was replaced, renamed or moved"
            if len(now) != 4 and before != now:
                return f"requirement '{now[0]}' was edited"
            if before != now:
                changed.append(self.device(now[0]))
        updates = []
        for device in changed:
            ctx = self.context(device)
            values = device.check(ctx)  # bad input raises here, as before any build
            build = self.device_builds[device.name]
            if device.labels(values) != list(build.unit_labels):
                return f"{device.owner}: its unit labels changed"
            updates.append((build, values, device.terminals(ctx.network, values)))
        for build, values, terminals in updates:
            reason = refresh(build, values, terminals)
            if reason is not None:
                return reason
        self._built_revisions = new
        return None

    def _offsets(self):
        sizes = [n.grid.n_bus for n in self.networks.values()]
        return dict(zip(self.networks, np.r_[0, np.cumsum(sizes)[:-1]], strict=True)), sum(sizes)

    def _nodal_injection(self, builds, injections):
        """Device injections summed per bus of all networks, (total buses, T), or None.

        ``injections`` has one entry per build: an (n_terminals, T) expression or array, or
        None for a device without that quantity (e.g. no reactive power).
        """
        used = [(b, x) for b, x in zip(builds, injections, strict=True) if x is not None]
        if not used:
            return None
        offsets, n_total = self._offsets()
        rows = np.concatenate([self._terminal_rows(b, offsets) for b, _ in used])
        C = sp.csr_matrix(
            (np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(n_total, len(rows))
        )
        return C @ cp.vstack([x for _, x in used])

    def _terminal_rows(self, b, offsets):
        rows = []
        for network, bus in zip(b.terminal_networks, b.terminal_buses, strict=True):
            grid = self.networks[network].grid
            rows.append(offsets[network] + grid.bus_positions([bus], owner=b.device.owner)[0])
        return np.asarray(rows, dtype=int)

    def _slice(self, injection, name):
        n_bus = self.networks[name].grid.n_bus
        if injection is None:
            return cp.Constant(np.zeros((n_bus, len(self.periods))))
        start = self._offsets()[0][name]
        return injection[start : start + n_bus, :]

    # --- solving -------------------------------------------------------------------------------
    def solve(self, solver=None, milp_prices=False, diagnose=True, **solver_options):
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
        diagnose : bool
            When the model is infeasible, re-solve it with every linear constraint elastic and
            name the constraints it had to violate (device, constraint, unit/bus, period) in the
            :class:`~gridflex.errors.SolveError` (``exc.diagnosis``; see
            :mod:`gridflex.diagnosis`); when it is unbounded, re-solve it with every variable
            boxed and name the variables that end at the box. One more solve, only on failure.
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
        if self._stale():
            self.build()
        compiled = self._note_compiled(solver)
        sources, limit = self._lazy_sources()
        if sources and (self._fixes or self._relaxed_now):
            raise InputError(
                "Model.solve: fixed or relaxed decisions with DC(lazy_limits=True) are not "
                "supported yet; use gf.DC() for such a solve"
            )
        for constraint in self._built_problem.constraints:  # no duals left from earlier solves
            clear_duals(constraint)
        used, problem, info = self._solve_explained(solver, sources, limit, solver_options,
                                                    diagnose)  # fmt: skip
        if milp_prices and problem.is_mixed_integer():
            self._duals_from_fixed_integers(problem, **solver_options)
        if (self._fixes or self._relaxed_now) and self.problem is self._assembled:
            write_back(self._fixed_now, self._relaxed_now, self._built_problem, problem)
        result = self._results(used, problem)
        # compiled: this solve compiled its problem (new, rebuilt, or other decisions fixed);
        # False when only Parameter values changed (re-solvable parameters, a plan's values)
        result.solve_info = {"solver": used, **info, "compiled": compiled}
        if compiled and self.rebuild_reason:
            result.solve_info["rebuilt_because"] = self.rebuild_reason
        if self._relaxed_now:  # a relaxation: a lower bound, its plan may be fractional
            result.solve_info["relaxed"] = [d.name for d in self._relaxed_now]
        return self._with_plan(result, problem)

    def _diagnosed(self, exc):
        """``exc`` with the elastic re-solve's report (:func:`gridflex.diagnosis.diagnose`)."""
        from gridflex.diagnosis import diagnose, summary

        table = diagnose(self)
        if len(table):
            found = (
                "it cannot hold these constraints together (an elastic re-solve violates, "
                "largest first):\n" + summary(table)
            )
        else:
            found = (
                "an elastic re-solve of its linear constraints is feasible: the conflict is "
                "in a cone (SOC DistFlow) or in integrality"
            )
        return SolveError(f"{exc}\n{found}", status=exc.status, solver=exc.solver,
                          diagnosis=table)  # fmt: skip

    def _solve_explained(self, solver, sources, limit, options, diagnose):
        """:meth:`_run_solver`; an infeasible or unbounded model's error explained (the elastic
        or boxed re-solve of :mod:`gridflex.diagnosis`) unless ``diagnose`` is False."""
        try:
            return self._run_solver(solver, sources, limit, options)
        except SolveError as exc:
            if not diagnose or exc.status not in (*INFEASIBLE, cp.UNBOUNDED):
                raise
            explained = self._runaway(exc) if exc.status == cp.UNBOUNDED else self._diagnosed(exc)
            raise explained from exc

    def _runaway(self, exc):
        """``exc`` with the variables that run away (:func:`gridflex.diagnosis.runaway`)."""
        from gridflex.diagnosis import RUNAWAY_BOUND, runaway, runaway_summary

        table = runaway(self)
        found = "no variable runs away in a boxed re-solve"
        if len(table):
            found = (f"with every variable boxed in +-{RUNAWAY_BOUND:g} these end at the box:\n"
                     + runaway_summary(table))  # fmt: skip
        return SolveError(f"{exc}\n{found}", status=exc.status, solver=exc.solver,
                          diagnosis=table)  # fmt: skip

    def _run_solver(self, solver, sources, limit, options):
        """``(solver used, solved problem, info)``: lazy rows, the live HiGHS LP, or
        :func:`~gridflex.solvers.solve_robust` with its fallbacks."""
        if sources:
            return solve_lazy(self.problem, sources, solver, max_rounds=limit, **options)
        info = {"method": "direct", "iterations": 1, "constraints_added": 0}
        live = self._live_solve(solver, options)
        if live is not None:
            return "HIGHS", self.problem, info | live
        used, attempts = solve_robust(self.problem, solver, **options)
        if len(attempts) > 1:  # a numerical failure, then another solver
            info["attempts"] = attempts
        return used, self.problem, info

    def _with_plan(self, result, problem):
        """The planning parts of a result: plan, fixed decisions' marginals, investments and
        built branches."""
        result.plan = {
            d.name: d.value() for d in self.decisions_of_build() if d.role is Role.INVESTMENT
        }
        result.fixed_marginal = self._fixed_marginals(problem)
        result.investments = self._investment_table()
        result.built_branches = self._built_branches()
        return result

    def _note_compiled(self, solver):
        """True the first time this build's problem (or a fixed copy of it) is solved with this
        solver choice (cvxpy compiles per solver), and always with lazy limits (their maps are
        compiled for every solve)."""
        key = (id(self.problem), str(solver).upper() if solver else None)
        first = key not in self._solved
        self._solved[key] = self.problem  # kept alive: ids stay unique
        return first or bool(self._lazy_sources()[0])

    def _live_solve(self, solver, options):
        """An LP with Parameters on HiGHS, kept alive between solves so that a re-solve with new
        values starts from the last basis (:class:`gridflex.solvers.LiveLP`); None when the
        problem or the options do not suit it, or HiGHS stopped without a proven status (the
        usual path then solves from scratch, with its fallbacks)."""
        if not LiveLP.suits(self.problem, solver, options):
            return None
        live = self._live.get(id(self.problem))
        if live is None or live.problem is not self.problem:
            live = self._live[id(self.problem)] = LiveLP(self.problem)
        try:
            return live.solve(options)
        except SolveError as exc:
            if exc.status in PROVEN:
                raise
            return None

    def _built_branches(self):
        """``{network: {(element, index): in service per period}}`` of candidate branches, for
        the AC validation of a planning result."""
        out = {}
        for name, build in self.builds.items():
            if "candidate_plan" not in build.extra:
                continue
            rows = build.extra["candidate_positions"]
            branches = self.networks[name].grid.branches
            available = np.round(np.asarray(build.extra["built_available"].value, float)) > 0.5
            out[name] = {
                (str(branches.element[r]), int(branches.element_index[r])): available[k]
                for k, r in enumerate(rows)
            }
        return out

    def _investment_table(self):
        """:func:`~gridflex.problems.planning.investment_table` of the solved build."""
        rows = [
            (name, b.unit_labels, b.variables["built"].value, b.expressions["built_plan"])
            for name, b in self.device_builds.items()
            if "built_plan" in b.expressions
        ]
        decisions = {d.name: d for d in network_decisions(self.networks, self.builds)}
        rows += [
            (name, decisions[f"{name}.built"].labels, build.extra["built"].value,
             build.extra["candidate_plan"])
            for name, build in self.builds.items()
            if "candidate_plan" in build.extra
        ]  # fmt: skip
        return investment_table(rows, self.time.horizon.names if self.time.staged else None)

    def _fixed_marginals(self, problem):
        """``{decision name: d(objective) / d(its fixed value)}`` from the duals of the fixing
        constraints, when the solve had fixed decisions and duals (an LP), else ``{}``."""
        if not self._fixes or problem is not self.problem:
            return {}
        duals = {n: c.dual_value for n, (_, c, _) in self._fixing.items()}
        # cvxpy's dual of ``twin == value`` is -d(objective)/d(value): report the derivative;
        # NaN at the free entries of a partial fix, and for all of it when integers remain
        # (no dual: a pricing run fixes the free integers too)
        out = {}
        for n, v in duals.items():
            if v is None:
                continue
            free = np.isnan(self._fixes[n])
            if free.any() and problem.is_mixed_integer():
                free = np.ones_like(free)
            out[n] = np.where(free, np.nan, -np.asarray(v, dtype=float))
        return out

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
            copy_duals(theirs, ours)

    # --- results -------------------------------------------------------------------------------
    def _results(self, solver, problem):
        by_network = {name: self._network_tables(name) for name in self.networks}
        reserves = requirement_table(
            self.requirements, self.system_builds, self.periods, self.cost_hours
        )
        if reserves is not None:
            by_network[self.main.name]["res_requirement"] = reserves
        by_network[self.main.name].update(
            node_tables(self.node_balance, self.cost_hours, self.periods)
        )
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
            occurrences=self.time.occurrences,
        )

    def _device_injections(self):
        """What AC validation writes into the nets: every device's solved injections."""
        out = []
        for b in self.device_builds.values():
            d = b.device
            if b.p_mw is None:  # no electric terminal (a device on carrier nodes only)
                continue
            out.append(
                DeviceInjection(
                    device=d.name,
                    net_table=d.net_table,
                    unit_labels=b.unit_labels,
                    networks=list(b.terminal_networks),
                    buses=np.asarray(b.terminal_buses),
                    p_mw=_solved(b.p_mw),
                    q_mvar=None if b.q_mvar is None else _solved(b.q_mvar),
                    power_factor=d.ac_power_factor,
                )
            )
        return out

    def _network_tables(self, name):
        tables = {}
        for b in self.device_builds.values():
            if self._placement[id(b.device)] != name:
                continue
            frames = b.device.result_frames(b)
            tables.setdefault(b.device.result_table, []).append(stack_frames(frames))
        tables = {k: merge_tables(v) for k, v in tables.items()}
        tables.update(self._shunt_table(name))
        tables["res_bus"] = self._bus_table(name)
        build, network = self.builds[name], self.networks[name]
        tables.update(network.formulation.tables(build, network.grid))
        quantities = network.formulation.branch_results(build, network.grid)
        if quantities is not None:
            tables.update(branch_tables(network.grid, quantities, self.periods))
        return tables

    def _shunt_table(self, name):
        """``res_shunt``: what each of the net's shunts draws (at the model's voltage where
        the formulation has one, else ``p`` at 1 pu), consumption positive."""
        network = self.networks[name]
        shunts = net_shunts(network.grid)
        if not shunts.labels:
            return {}
        p, q = network.formulation.shunt_draw(self.builds[name], network.grid, len(self.periods))
        cols = pd.Index(shunts.labels, name="element")
        frames = {"p_mw": pd.DataFrame(p.T, index=self.periods, columns=cols)}
        if q is not None:
            frames["q_mvar"] = pd.DataFrame(q.T, index=self.periods, columns=cols)
        return {"res_shunt": stack_frames(frames)}

    def _shunts_per_bus(self, name, cols):
        """The shunts' draw summed per bus of the net, (periods x buses) p and q (0 without)."""
        network, T = self.networks[name], len(self.periods)
        shunts = net_shunts(network.grid)
        totals = [np.zeros((T, len(cols))), np.zeros((T, len(cols)))]
        if shunts.labels:
            p, q = network.formulation.shunt_draw(self.builds[name], network.grid, T)
            where = cols.get_indexer(network.net.shunt.loc[shunts.labels, "bus"].to_numpy())
            for total, x in zip(totals, (p, q), strict=True):
                if x is not None:
                    np.add.at(total.T, where, x)
        return (pd.DataFrame(t, index=self.periods, columns=cols) for t in totals)

    def _bus_table(self, name):
        """``res_bus`` of network ``name``: one column per bus of the net (pandapower index).

        Angles, voltages and prices are those of the bus's node, so buses fused by closed
        bus-bus switches share them; ``p_mw``/``q_mvar`` are the net consumption of the devices
        at the bus itself and of its shunts (their draw: at the model's voltage in DistFlow), as
        in pandapower's ``res_bus``. trafo3w star points are internal.
        """
        network, build = self.networks[name], self.builds[name]
        grid, T = network.grid, len(self.periods)
        node, cols = grid.bus_map.to_numpy(), pd.Index(grid.bus_map.index, name="element")

        def frame(values):
            return pd.DataFrame(np.asarray(values)[node].T, index=self.periods, columns=cols)

        def own(quantity):  # the devices' injections summed per bus, consumption positive
            total = np.zeros((len(cols), T))
            for b in self.device_builds.values():
                x, mine = getattr(b, quantity), np.asarray(b.terminal_networks or []) == name
                if x is not None and mine.any():
                    rows = cols.get_indexer(np.asarray(b.terminal_buses)[mine])
                    np.add.at(total, rows, -_solved(x).reshape(len(mine), T)[mine])
            return pd.DataFrame(total.T, index=self.periods, columns=cols)

        shunt_p, shunt_q = self._shunts_per_bus(name, cols)
        out = {"p_mw": own("p_mw") + shunt_p}
        if network.formulation.reactive:
            out["q_mvar"] = own("q_mvar") + shunt_q
        prices = network.formulation.prices_per_mwh(build, grid, self.cost_hours)
        if prices is None:
            prices = np.full((grid.n_bus, T), np.nan)
        out["price_per_mwh"] = frame(prices)
        for key, values in network.formulation.bus_results(build, grid).items():
            out[key] = frame(values)
        return stack_frames(out)


def _solved(x):
    """The value of a solved expression, or an array as it is, as floats."""
    return np.asarray(x.value if hasattr(x, "value") else x, dtype=float)


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
