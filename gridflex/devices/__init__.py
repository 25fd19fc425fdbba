"""Device library: each module one device kind; base.py and blocks.py hold what they share."""

from gridflex.devices.base import BuildContext, Device
from gridflex.devices.ev_parking_lot import EVParkingLot
from gridflex.devices.generator import ExternalGrid, Generator
from gridflex.devices.load import Load
from gridflex.devices.renewable import Renewable
from gridflex.devices.spatial_flex import DataCenter, FastChargingStation, SpatialFlexSet
from gridflex.devices.storage import Storage

__all__ = [
    "BuildContext",
    "DataCenter",
    "Device",
    "EVParkingLot",
    "ExternalGrid",
    "FastChargingStation",
    "Generator",
    "Load",
    "Renewable",
    "SpatialFlexSet",
    "Storage",
]
