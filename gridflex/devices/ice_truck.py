"""Ice trucks carrying stored cold between stations (seed 002 eqs. 15-23, any transit time).

One truck, its stations (ice nodes: a large ice maker's yard, ISACs' tanks) and the legs it may
drive, each taking a whole number of periods ``tau_ij`` (distance / speed, rounded up). Per
block the truck starts and ends parked at its depot (eq. 19). With ``p_it`` (parked at station
``i`` in period ``t``) and ``d_lt`` (leaves on leg ``l = i -> j`` at the start of ``t``, drives
``t .. t + tau_l - 1``, parked at ``j`` from ``t + tau_l``), all binary (notes-002 §2.8):

.. math::

    \\sum_i p_{it} + \\sum_l \\sum_{k=0}^{\\tau_l - 1} d_{l,t-k} = 1          \\qquad (15)

    p_{it} = p_{i,t-1} + \\sum_{l \\to i} d_{l,t-\\tau_l} - \\sum_{l: i \\to} d_{lt},
    \\quad p_{i,-1} = [i = \\text{depot}], \\quad p_{\\text{depot},\\text{last}} = 1
    \\qquad (16)-(19)

    d_{i \\to j, t} + d_{j \\to i, t + \\tau} \\le 1 \\ \\text{(no immediate return, 17)},
    \\quad |H_{it}| \\le \\bar H p_{it} \\ (20)

    E_t = \\xi^{dt} E_{t^-} + dt \\sum_i H_{it}, \\quad 0 \\le E_t \\le \\bar E,
    \\quad E \\text{ cyclic in each block}                               \\qquad (21)-(23)

``H > 0`` loads ice from station ``i`` into the truck, ``H < 0`` unloads it there (the flow into
the station's node is ``-H``). Departures that cannot arrive inside the block are not allowed.
With ``tau = 1`` everywhere this is the paper's eqs. (15)-(19). Costs: fuel per driving hour,
and, if the truck is bought (a binary decision, or given), its annualised purchase and driver
labour; a truck not bought stays at its depot and moves no ice.
"""

import math

import cvxpy as cp
import numpy as np

from gridflex.carriers import ICE
from gridflex.devices.base import Role, declared
from gridflex.devices.ports import Port, PortDevice
from gridflex.errors import InputError
from gridflex.parameters import Choice, Custom, Number, Shape


def _screen_legs(value, owner, param):
    """{(from station, to station): hours} with station positions and positive hours."""
    if not isinstance(value, dict) or not value:
        raise param.error(owner, "must be a dict {(i, j): hours} of allowed legs", value)
    out = {}
    for key, hours in value.items():
        ok = isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, int) for k in key)
        if not ok or key[0] == key[1]:
            raise param.error(owner, "keys must be pairs (i, j) of station positions, i != j", key)
        if not (isinstance(hours, int | float) and math.isfinite(hours) and hours > 0):
            raise param.error(owner, f"hours of leg {key} must be > 0", hours)
        out[key] = float(hours)
    return out


class IceTruck(PortDevice):
    """One ice truck serving its stations (see the module docstring).

    Parameters
    ----------
    stations : list of Node
        The ice nodes it may park at (carrier ``ICE``); units of the result table are stations.
    legs : dict
        ``{(i, j): hours}``: the legs it may drive (positions in ``stations``) and how long
        each takes (distance / speed); a leg not listed is refused (e.g. ISAC to ISAC).
    depot : int
        Position of the station where every block starts and ends (the paper: the LIM).
    capacity_mwh, rate_mw : float
        Load limit ``E-bar`` and transfer rate ``H-bar`` (MWh of ice, MWh per hour).
    retention : float
        Share of the load kept per hour, in (0, 1] (0.98).
    fuel_cost_per_h : float
        Per driving hour (600 yuan/h in the paper).
    fixed_cost : float
        Annualised purchase plus driver labour, charged if the truck is bought.
    bought : {"decide", True, False}
        Given (True/False), or decided (default: a binary investment ``"<name>.bought"``).
    """

    result_table = "res_ice_truck"

    stations = Port("both", ICE, doc="ice nodes it may park at")
    legs = Custom("{(i, j): hours}", _screen_legs, doc="allowed legs and their durations")
    depot = Number("-", Shape.SCALAR, low=0, doc="station where each block starts and ends")
    capacity_mwh = Number("MWh", Shape.SCALAR, low=0, doc="load limit")
    rate_mw = Number("MW", Shape.SCALAR, low=0, doc="transfer rate while parked")
    retention = Number("1", Shape.SCALAR, low=0, high=1, low_open=True,
                       doc="share of the load kept per hour")  # fmt: skip
    fuel_cost_per_h = Number("$/h", Shape.SCALAR, low=0, doc="cost per driving hour")
    fixed_cost = Number("$", Shape.SCALAR, low=0, doc="annualised purchase and labour if bought")
    bought = Choice(("decide", True, False), doc="given (True/False) or decided")

    def __init__(
        self, stations, legs, *, depot=0, capacity_mwh, rate_mw, retention=0.98,
        fuel_cost_per_h=0.0, fixed_cost=0.0, bought="decide", name=None, unit_labels=None,
    ):  # fmt: skip
        PortDevice.__init__(self, **declared(locals()))

    # --- checks -----------------------------------------------------------------------------
    def derive(self, v, ctx):
        S, dt = self.n, ctx.dt_h
        depot = int(np.ravel(v.depot)[0])
        if not 0 <= depot < S:
            raise InputError(f"{self.owner}: depot {depot} is not a station position (0..{S - 1})")
        v.depot_index = depot
        bad = [k for k in v.legs if not (0 <= k[0] < S and 0 <= k[1] < S)]
        if bad:
            raise InputError(f"{self.owner}: leg {bad[0]} names a station outside 0..{S - 1}")
        v.leg_list = sorted(v.legs)
        v.tau = np.array([max(1, math.ceil(v.legs[k] / dt - 1e-9)) for k in v.leg_list])
        shifts = _BlockShifts(ctx.time)
        longest = int((shifts.block_end - shifts.block_start + 1).min())
        if (v.tau >= longest).any():
            worst = v.leg_list[int(np.argmax(v.tau))]
            raise InputError(
                f"{self.owner}: leg {worst} takes {int(v.tau.max())} periods, not less than a "
                f"block of {longest}"
            )

    def check_peers(self, devices):
        """Every station must be the ice node of a large ice maker or of an ISAC's tank."""
        from gridflex.devices.ice_maker import LargeIceMaker
        from gridflex.devices.isac import ISAC

        served = {id(node) for d in devices if isinstance(d, ISAC | LargeIceMaker)
                  for node in (getattr(d, "ice", None) or ())}  # fmt: skip
        for k, node in enumerate(self.stations):
            if id(node) not in served:
                raise InputError(
                    f"{self.owner}: station {k} (node '{node.name}') is the ice node of no "
                    "LargeIceMaker or ISAC in the model; a truck can only load or unload there"
                )

    # --- model ------------------------------------------------------------------------------
    def formulate(self, b):
        v, T, S, L = b.values, b.ctx.T, self.n, len(b.values.leg_list)
        park = b.variable("parked", (S, T), Role.COMMITMENT, boolean=True)
        leave = b.variable("departures", (L, T), Role.COMMITMENT, boolean=True)
        transfer = b.variable("load_mw", (S, T))  # > 0: station -> truck
        load = b.variable("e_mwh", (1, T), nonneg=True)
        time = _BlockShifts(b.ctx.time)
        cons = [
            cp.sum(park, axis=0) + cp.sum(time.windows(leave, v.tau), axis=0) == 1,  # (15)
            *self._stations(v, park, leave, time),  # (16)-(19)
            *self._no_return(v, leave, time),  # (17)
            cp.multiply(time.too_late(v.tau).astype(float), leave) == 0,  # arrive in block
            transfer <= v.rate_mw * park,  # (20)
            transfer >= -v.rate_mw * park,
            load <= v.capacity_mwh,  # (22)
            load
            == time.kept(v.retention) * load[:, time.cyclic_previous]
            + b.ctx.dt_h * cp.sum(transfer, axis=0, keepdims=True),  # (21), (23)
        ]
        return cons + self._bought(b, leave, transfer)

    def _stations(self, v, park, leave, time):
        S = park.shape[0]
        arrive = np.zeros((S, len(v.leg_list)))
        depart = np.zeros((S, len(v.leg_list)))
        for k, (i, j) in enumerate(v.leg_list):  # input rows (legs), not periods
            depart[i, k], arrive[j, k] = 1.0, 1.0
        arrivals = arrive @ time.shifted(leave, v.tau)
        start = np.zeros((S, 1))
        start[v.depot_index] = 1.0
        before = time.previous(park, start)
        end = time.last_positions
        return [park == before + arrivals - depart @ leave, park[v.depot_index, end] == 1]

    def _no_return(self, v, leave, time):
        index = {leg: k for k, leg in enumerate(v.leg_list)}
        cons = []
        for k, (i, j) in enumerate(v.leg_list):
            back = index.get((j, i))
            if back is not None:
                cons.append(leave[k] + time.shifted(leave[back : back + 1], v.tau[k : k + 1])[0]
                            <= 1)  # fmt: skip
        return cons

    def _bought(self, b, leave, transfer):
        v = b.values
        if v.bought is True:
            return []
        if v.bought is False:
            return [leave == 0, transfer == 0]
        own = b.variable("bought", (1,), Role.INVESTMENT, boolean=True)
        return [leave <= own, transfer <= v.rate_mw * own, transfer >= -v.rate_mw * own]

    def port_flows(self, b):
        return {"stations": -b["load_mw"]}  # loading takes ice from the station's node

    def cost_terms(self, b):
        v, dt = b.values, b.ctx.dt_h
        hours = v.tau * dt  # driving hours of each leg
        fuel = b.ctx.weighted_sum(v.fuel_cost_per_h * (hours / dt) @ b["departures"])
        terms = {"fuel": fuel}
        if "bought" in b.variables:
            terms["investment"] = v.fixed_cost * cp.sum(b["bought"])
        elif v.bought:
            terms["investment"] = cp.Constant(float(v.fixed_cost))
        return terms

    def labels(self, values):
        """``"<truck>@<station node>"`` per station unless labels are given."""
        if self._unit_labels is not None:
            return self.unit_labels
        return [f"{self.name}@{node.name}" for node in values.stations]

    def results(self, b):
        """Per station: parked (0/1), ice loaded (> 0) or unloaded (< 0); the truck's load,
        driving state and ice lost repeated on every row (one truck)."""
        v, dt = b.values, b.ctx.dt_h
        park, transfer = np.round(b.value("parked"), 6), b.value("load_mw")
        load = b.value("e_mwh")
        time = _BlockShifts(b.ctx.time)
        driving = 1 - park.sum(axis=0, keepdims=True)
        lost = (1 - time.kept(v.retention)) * load[:, time.cyclic_previous]
        ones = np.ones((self.n, 1))
        return {
            "parked": park,
            "loaded_mwh": dt * transfer,
            "truck_e_mwh": ones * load,
            "truck_driving": ones * np.round(driving, 6),
            "truck_ice_lost_mwh": ones * lost,
        }


class _BlockShifts:
    """Index arithmetic inside the blocks of a time axis (built once per build, no loops over
    periods): positions, shifts by a number of periods, windows, previous periods."""

    def __init__(self, time):
        self.time, self.T = time, time.T
        ends = time.starts + time.lengths - 1
        self.block_start = time.starts[time.block_of]
        self.block_end = ends[time.block_of]
        self.position = np.arange(self.T) - self.block_start
        self.last_positions = ends
        self.cyclic_previous = np.where(self.position == 0, self.block_end, np.arange(self.T) - 1)
        self.dt_h = time.dt_h

    def kept(self, retention):
        return float(np.ravel(retention)[0]) ** self.dt_h

    def shifted(self, x, tau):
        """``x[:, t - tau]`` inside the block (0 where ``t - tau`` is before its start), one
        shift per row of ``x`` (``tau``: one per row)."""
        rows = []
        for k, step in enumerate(np.asarray(tau, dtype=int)):  # input rows, not periods
            source = np.arange(self.T) - step
            valid = (self.position - step) >= 0
            M = np.zeros((self.T, self.T))
            M[source[valid], np.flatnonzero(valid)] = 1.0
            rows.append(x[k : k + 1] @ M)
        return cp.vstack(rows) if rows else x

    def windows(self, x, tau):
        """``sum_{k < tau} x[:, t - k]`` inside the block, per row."""
        rows = []
        for k, step in enumerate(np.asarray(tau, dtype=int)):
            M = np.zeros((self.T, self.T))
            for lag in range(step):  # the leg's duration in periods (input), not the periods
                valid = (self.position - lag) >= 0
                targets = np.flatnonzero(valid)
                M[targets - lag, targets] = 1.0
            rows.append(x[k : k + 1] @ M)
        return cp.vstack(rows)

    def previous(self, x, start):
        """``x[:, t - 1]`` inside the block, ``start`` (n, 1) at each block's first period."""
        inside = np.flatnonzero(self.position > 0)
        M = np.zeros((self.T, self.T))
        M[inside - 1, inside] = 1.0
        firsts = (self.position == 0).astype(float).reshape(1, -1)
        return x @ M + start @ firsts

    def too_late(self, tau):
        """Mask (legs, T): departures that would arrive after their block's last period."""
        room = (self.block_end - np.arange(self.T)).reshape(1, -1)
        return np.asarray(tau).reshape(-1, 1) > room
