"""Device library: each module one device kind (and the EV behaviour generator that feeds
EVParkingLot); base.py, blocks.py and ports.py hold what they share."""

from gridflex.devices.aggregation import AggregatedFlex
from gridflex.devices.base import BuildContext, Device
from gridflex.devices.boundary import Boundary
from gridflex.devices.carrier_demand import CarrierDemand
from gridflex.devices.carrier_link import CarrierLink
from gridflex.devices.carrier_source import CarrierSource
from gridflex.devices.carrier_store import CarrierStore
from gridflex.devices.converter import (
    CHP,
    AbsorptionChiller,
    Converter,
    ElectricBoiler,
    ElectricChiller,
    GasBoiler,
    HeatPump,
)
from gridflex.devices.ev_parking_lot import EVParkingLot
from gridflex.devices.fcs_battery import FastChargingBattery
from gridflex.devices.generator import ExternalGrid, Generator
from gridflex.devices.ice_maker import LargeIceMaker
from gridflex.devices.ice_truck import IceTruck
from gridflex.devices.isac import ISAC
from gridflex.devices.load import Load
from gridflex.devices.renewable import Renewable
from gridflex.devices.robust_wind import RobustWind
from gridflex.devices.spatial_flex import DataCenter, FastChargingStation, SpatialFlexSet
from gridflex.devices.storage import Storage

__all__ = [
    "CHP",
    "ISAC",
    "AbsorptionChiller",
    "AggregatedFlex",
    "Boundary",
    "BuildContext",
    "CarrierDemand",
    "CarrierLink",
    "CarrierSource",
    "CarrierStore",
    "Converter",
    "DataCenter",
    "Device",
    "EVParkingLot",
    "ElectricBoiler",
    "ElectricChiller",
    "ExternalGrid",
    "FastChargingBattery",
    "FastChargingStation",
    "GasBoiler",
    "Generator",
    "HeatPump",
    "IceTruck",
    "LargeIceMaker",
    "Load",
    "Renewable",
    "RobustWind",
    "SpatialFlexSet",
    "Storage",
]
