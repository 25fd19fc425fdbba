"""Built-in, study-ready networks (installed as ``gridflex.networks``).

IEEE 14, 24 (RTS) and 118 bus systems with PGLib-OPF v23 thermal ratings, and the Baran-Wu
33-bus feeder with derived conductor ratings; see docs/networks.md.
"""

from .ieee import ACSR_AMPACITY_A, derive_line_ratings, ieee14, ieee24, ieee33, ieee118
from .matpower import MatpowerCase, parse_matpower, read_matpower
from .pglib import (
    UNLIMITED_RATE_MVA,
    apply_pglib_costs,
    apply_pglib_ratings,
    check_bus_numbers,
    match_branches,
    match_units,
    pglib_case,
    pglib_file,
)
from .registry import NETWORKS, list_networks, load_network
from .td import CoupledTD, ieee24_ieee33
from .units import UNIT_CLASSES, typical_unit_parameters, with_unit_parameters
from .yang14 import yang14

__all__ = [
    "ACSR_AMPACITY_A",
    "NETWORKS",
    "UNIT_CLASSES",
    "UNLIMITED_RATE_MVA",
    "CoupledTD",
    "MatpowerCase",
    "apply_pglib_costs",
    "apply_pglib_ratings",
    "check_bus_numbers",
    "derive_line_ratings",
    "ieee14",
    "ieee24",
    "ieee24_ieee33",
    "ieee33",
    "ieee118",
    "list_networks",
    "load_network",
    "match_branches",
    "match_units",
    "parse_matpower",
    "pglib_case",
    "pglib_file",
    "read_matpower",
    "typical_unit_parameters",
    "with_unit_parameters",
    "yang14",
]
