"""gridflex: flexible-demand devices on pandapower networks, one CVXPY optimizer, AC checks.

Quick start::

    import gridflex as gf
    net = gf.networks.ieee118()
    model = gf.Model(net, periods=pd.date_range("2026-07-01", periods=96, freq="15min"))
    model.add(gf.Storage(bus=10, p_mw=50, e_mwh=200))
    result = model.solve()
    result.res_gen["p_mw"], result.res_bus["price_per_mwh"], result.costs
"""

from gridflex import carriers, conventions, products
from gridflex.carriers import Carrier, Node
from gridflex.devices import (
    CHP,
    AbsorptionChiller,
    AggregatedFlex,
    Boundary,
    CarrierDemand,
    CarrierLink,
    CarrierSource,
    CarrierStore,
    Converter,
    DataCenter,
    Device,
    ElectricBoiler,
    ElectricChiller,
    EVParkingLot,
    ExternalGrid,
    FastChargingStation,
    GasBoiler,
    Generator,
    HeatPump,
    Load,
    Renewable,
    SpatialFlexSet,
    Storage,
)
from gridflex.errors import GridflexError, InputError, SolveError, SolverNotInstalledError
from gridflex.formulations import DC, DCPTDF, CopperPlate, Formulation, LinDistFlow, SOCDistFlow
from gridflex.grid import Grid
from gridflex.model import Model
from gridflex.network import Network
from gridflex.problems.planning import Investment
from gridflex.requirements import Requirement, flexible_ramp_requirements
from gridflex.results import Results
from gridflex.scenario import load_scenario
from gridflex.timeaxis import Block, Horizon, Stage, TimeAxis, scenario_blocks
from gridflex.validation import ACReport, validate_ac

try:  # the networks package is installed from the repository's top-level networks/ folder
    from gridflex import networks
except ImportError:  # pragma: no cover - only in a broken install
    networks = None

__version__ = "0.1.0"

__all__ = [
    "CHP",
    "DC",
    "DCPTDF",
    "ACReport",
    "AbsorptionChiller",
    "AggregatedFlex",
    "Block",
    "Boundary",
    "Carrier",
    "CarrierDemand",
    "CarrierLink",
    "CarrierSource",
    "CarrierStore",
    "Converter",
    "CopperPlate",
    "DataCenter",
    "Device",
    "EVParkingLot",
    "ElectricBoiler",
    "ElectricChiller",
    "ExternalGrid",
    "FastChargingStation",
    "Formulation",
    "GasBoiler",
    "Generator",
    "Grid",
    "GridflexError",
    "HeatPump",
    "Horizon",
    "InputError",
    "Investment",
    "LinDistFlow",
    "Load",
    "Model",
    "Network",
    "Node",
    "Renewable",
    "Requirement",
    "Results",
    "SOCDistFlow",
    "SolveError",
    "SolverNotInstalledError",
    "SpatialFlexSet",
    "Stage",
    "Storage",
    "TimeAxis",
    "carriers",
    "conventions",
    "flexible_ramp_requirements",
    "load_scenario",
    "networks",
    "products",
    "scenario_blocks",
    "validate_ac",
]
