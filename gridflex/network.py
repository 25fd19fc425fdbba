"""Several networks in one model: :class:`Network` and the :class:`Boundary` that joins two.

A model holds one or more networks, each a pandapower net with its own formulation (e.g. a
transmission system in DC and a distribution feeder in LinDistFlow). Networks exchange power
only through :class:`Boundary` devices; a single-network model is the special case without
boundaries.
"""

import math

import cvxpy as cp
import numpy as np

from gridflex.conventions import PRODUCER
from gridflex.devices.base import Device
from gridflex.devices.net_elements import devices_from_net
from gridflex.errors import InputError
from gridflex.formulations import DC, CopperPlate, Formulation
from gridflex.grid import Grid
from gridflex.profiles import unit_or_profile


class Network:
    """One pandapower net of a model, with its formulation.

    Parameters
    ----------
    net : pandapowerNet
        Never modified.
    name : str
        How devices and results refer to this network.
    formulation : Formulation, optional
        Default :class:`~gridflex.formulations.DC` with branches, copper plate without.
    load_scale : array (T,), optional
        Per-period multiplier of the net's own loads.
    net_elements : bool or dict
        Turn the net's gens, sgens, ext_grids, loads and shunts into devices (default). A dict
        does so with extra keyword arguments per table (see
        :func:`gridflex.devices.net_elements.devices_from_net`), e.g.
        ``{"load": {"shed_cost_per_mwh": 200}}``.
    """

    def __init__(self, net, name="net", *, formulation=None, load_scale=None, net_elements=True):
        self.net, self.name = net, str(name)
        self.grid = Grid(net)
        self.formulation = formulation or (DC() if self.grid.n_branch else CopperPlate())
        if not isinstance(self.formulation, Formulation):
            raise InputError(
                f"Network '{self.name}': formulation must be a Formulation "
                f"instance (e.g. gf.DC()), got {self.formulation!r}"
            )
        self.load_scale, self.net_elements = load_scale, net_elements

    def element_devices(self, load_scale):
        """The net's own elements as devices (empty without ``net_elements``)."""
        if not self.net_elements:
            return []
        options = self.net_elements if isinstance(self.net_elements, dict) else None
        devices = devices_from_net(self.net, load_scale, options)
        for device in devices:
            if len(self.name) and self.name != "net":
                device.name = f"{self.name}.{device.name}"
        return devices

    def __repr__(self):
        return f"Network({self.name!r}, {self.grid.n_bus} buses, {self.formulation!r})"


class Boundary(Device):
    """Power exchange from a bus of one network into a bus of another.

    .. math::

        p^{inj}_{A, a} = -x_t, \\qquad p^{inj}_{B, b} = +x_t, \\qquad
        \\underline X \\le x_t \\le \\overline X

    and likewise a reactive exchange where either network models reactive power. Reported
    ``p_mw`` is the flow from network A into network B (``res_boundary``).

    Parameters
    ----------
    from_network, to_network : str
        Names of the two networks.
    from_bus, to_bus : int
        pandapower bus indices in each.
    p_min_mw, p_max_mw : float
        Exchange limits (default unlimited both ways).
    price_per_mwh : float or array (T,), optional
        Price paid for the energy delivered into ``to_network`` (cost ``w_t price_t x_t``;
        negative when it flows back): e.g. a distribution system's purchases from the main grid
        (seed 000 eq. 16). Default 0: the exchange is free.
    """

    sign = PRODUCER
    result_table = "res_boundary"

    def __init__(
        self,
        from_network,
        from_bus,
        to_network,
        to_bus,
        *,
        p_min_mw=-math.inf,
        p_max_mw=math.inf,
        price_per_mwh=0.0,
        name=None,
    ):
        super().__init__([from_bus], name=name)
        self.network = str(from_network)
        self.ends = ((str(from_network), from_bus), (str(to_network), to_bus))
        self.limits = (p_min_mw, p_max_mw)
        self.price_per_mwh = price_per_mwh

    @property
    def terminal_buses(self):
        return np.array([self.ends[0][1], self.ends[1][1]])

    @property
    def terminal_networks(self):
        return [self.ends[0][0], self.ends[1][0]]

    def prepare(self, ctx):
        for network, bus in self.ends:
            if network not in ctx.grids:
                raise InputError(
                    f"{self.owner}: network '{network}' is not in the model "
                    f"(networks: {sorted(ctx.grids)})"
                )
            ctx.grids[network].bus_positions([bus], owner=f"{self.owner} ({network})")
        lo, hi = (
            unit_or_profile(v, 1, ctx.periods, owner=self.owner, param=k, allow_inf=True)
            for v, k in zip(self.limits, ("p_min_mw", "p_max_mw"), strict=True)
        )
        self.p_min, self.p_max = lo, hi
        self.price = unit_or_profile(
            self.price_per_mwh, 1, ctx.periods, owner=self.owner, param="price_per_mwh"
        )

    def build(self, ctx):
        self.p = cp.Variable((1, ctx.T), name=f"{self.name}_p_mw")
        self.q = cp.Variable((1, ctx.T), name=f"{self.name}_q_mvar") if ctx.reactive else None
        finite_low, finite_high = np.isfinite(self.p_min), np.isfinite(self.p_max)
        cons = []
        if finite_low.all():
            cons.append(self.p >= self.p_min)
        if finite_high.all():
            cons.append(self.p <= self.p_max)
        return cons

    def injection_mw(self):
        return cp.vstack([-self.p, self.p])

    def injection_mvar(self):
        return None if self.q is None else cp.vstack([-self.q, self.q])

    def cost_terms(self, ctx):
        if not self.price.any():
            return {}
        return {"purchase": ctx.weighted_sum(cp.multiply(self.price, self.p))}

    def results(self, ctx):
        out = {"p_mw": self.p.value}
        if self.q is not None:
            out["q_mvar"] = self.q.value
        return out
