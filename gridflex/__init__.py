"""gridflex: flexible-demand devices on pandapower networks, one CVXPY optimizer, AC checks.

Quick start::

    import gridflex as gf
    net = gf.networks.ieee118()
    model = gf.Model(net, periods=pd.date_range("2026-07-01", periods=96, freq="15min"))
    model.add(gf.Storage(bus=10, p_mw=50, e_mwh=200))
    result = model.solve()
    result.res_gen["p_mw"], result.res_bus["price_per_mwh"], result.costs
"""

import importlib
import importlib.util
from pathlib import Path


def _beside_a_source_checkout():
    """Imported from a source checkout (the repository root first on ``sys.path``, as when a
    README example runs there): ``networks/`` and ``scenarios/`` sit beside this folder, not in
    it, so look for ``gridflex.networks`` and ``gridflex.scenarios`` there too. An installed
    gridflex (editable or not) finds them by itself and is left alone."""
    root = Path(__file__).resolve().parent.parent
    if (root / "networks" / "__init__.py").is_file() and (root / "pyproject.toml").is_file():
        if importlib.util.find_spec("gridflex.networks") is None:
            __path__.append(str(root))


_beside_a_source_checkout()

# Every public name -> the module that defines it, imported on first use (PEP 562): ``import
# gridflex`` and ``gridflex --help`` stay fast (cvxpy, pandapower and pandas load only when a
# model, a network or a result is first used), and ``from gridflex import Model`` works as usual.
_LAZY = {
    "AbsorptionChiller": "gridflex.devices",
    "ACReport": "gridflex.validation",
    "AggregatedFlex": "gridflex.devices",
    "benders": "gridflex.problems.benders",
    "Block": "gridflex.timeaxis",
    "Boundary": "gridflex.devices",
    "Carrier": "gridflex.carriers",
    "CarrierDemand": "gridflex.devices",
    "CarrierLink": "gridflex.devices",
    "carriers": "gridflex.carriers",
    "CarrierSource": "gridflex.devices",
    "CarrierStore": "gridflex.devices",
    "CHP": "gridflex.devices",
    "conventions": "gridflex.conventions",
    "Converter": "gridflex.devices",
    "CopperPlate": "gridflex.formulations",
    "DataCenter": "gridflex.devices",
    "DC": "gridflex.formulations",
    "DCPTDF": "gridflex.formulations",
    "Device": "gridflex.devices",
    "ElectricBoiler": "gridflex.devices",
    "ElectricChiller": "gridflex.devices",
    "EVParkingLot": "gridflex.devices",
    "FastChargingBattery": "gridflex.devices",
    "ExternalGrid": "gridflex.devices",
    "FastChargingStation": "gridflex.devices",
    "flexible_ramp_requirements": "gridflex.requirements",
    "Formulation": "gridflex.formulations",
    "GasBoiler": "gridflex.devices",
    "Generator": "gridflex.devices",
    "Grid": "gridflex.grid",
    "ModelGame": "gridflex.problems.game",
    "GridflexError": "gridflex.errors",
    "HeatPump": "gridflex.devices",
    "ISAC": "gridflex.devices",
    "IceTruck": "gridflex.devices",
    "LargeIceMaker": "gridflex.devices",
    "Horizon": "gridflex.timeaxis",
    "InputError": "gridflex.errors",
    "Investment": "gridflex.problems.planning",
    "LinDistFlow": "gridflex.formulations",
    "Load": "gridflex.devices",
    "load_scenario": "gridflex.scenario",
    "Model": "gridflex.model",
    "Network": "gridflex.network",
    "networks": "gridflex.networks",
    "Node": "gridflex.carriers",
    "products": "gridflex.products",
    "Renewable": "gridflex.devices",
    "RobustWind": "gridflex.devices",
    "Requirement": "gridflex.requirements",
    "Results": "gridflex.results",
    "scenario_blocks": "gridflex.timeaxis",
    "size_reserves": "gridflex.reserve_sizing",
    "SOCDistFlow": "gridflex.formulations",
    "SolveError": "gridflex.errors",
    "SolverNotInstalledError": "gridflex.errors",
    "SpatialFlexSet": "gridflex.devices",
    "Stage": "gridflex.timeaxis",
    "Storage": "gridflex.devices",
    "TimeAxis": "gridflex.timeaxis",
    "validate_ac": "gridflex.validation",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None and not name.startswith("_"):  # a submodule: gf.scenario, gf.plot, ...
        if importlib.util.find_spec(f"gridflex.{name}") is not None:
            module = f"gridflex.{name}"
    if module is None:
        raise AttributeError(f"module 'gridflex' has no attribute '{name}'")
    try:
        loaded = importlib.import_module(module)
    except ImportError as exc:
        if name == "networks":  # the top-level networks/ folder is installed as this package
            raise ImportError(
                "gridflex.networks is missing: install gridflex with pip (pip install -e . in "
                "the repository) rather than importing the source folder"
            ) from exc
        raise
    value = loaded if module == f"gridflex.{name}" else getattr(loaded, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


__version__ = "0.1.0"

__all__ = [
    "CHP",
    "DC",
    "DCPTDF",
    "ISAC",
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
    "FastChargingBattery",
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
    "LargeIceMaker",
    "LinDistFlow",
    "Load",
    "Model",
    "ModelGame",
    "Network",
    "Node",
    "Renewable",
    "Requirement",
    "Results",
    "RobustWind",
    "SOCDistFlow",
    "SolveError",
    "SolverNotInstalledError",
    "SpatialFlexSet",
    "Stage",
    "Storage",
    "TimeAxis",
    "benders",
    "carriers",
    "conventions",
    "flexible_ramp_requirements",
    "load_scenario",
    "networks",
    "products",
    "scenario_blocks",
    "size_reserves",
    "validate_ac",
]
