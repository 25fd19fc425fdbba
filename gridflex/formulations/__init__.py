"""Network formulations: how nodal injections become network constraints."""

from gridflex.formulations.base import Formulation, NetworkBuild
from gridflex.formulations.copperplate import CopperPlate
from gridflex.formulations.dc import DC, DCPTDF, ptdf_matrix

__all__ = ["DC", "DCPTDF", "CopperPlate", "Formulation", "NetworkBuild", "ptdf_matrix"]
