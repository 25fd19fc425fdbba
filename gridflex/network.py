"""Several networks in one model: :class:`Network` (the :class:`~gridflex.devices.boundary.Boundary`
device joins two).

A model holds one or more networks, each a pandapower net with its own formulation (e.g. a
transmission system in DC and a distribution feeder in LinDistFlow). Networks exchange power
only through :class:`Boundary` devices; a single-network model is the special case without
boundaries.
"""

from gridflex.devices.net_elements import devices_from_net
from gridflex.errors import InputError
from gridflex.formulations import DC, CopperPlate, Formulation
from gridflex.grid import Grid


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
