"""Network formulations: how nodal injections become network constraints."""

from gridflex.formulations.base import Formulation, NetworkBuild
from gridflex.formulations.candidates import CandidateBranches, add_candidate_line
from gridflex.formulations.copperplate import CopperPlate
from gridflex.formulations.dc import DC, DCPTDF, ptdf_matrix

__all__ = [
    "DC",
    "DCPTDF",
    "CandidateBranches",
    "CopperPlate",
    "Formulation",
    "NetworkBuild",
    "add_candidate_line",
    "ptdf_matrix",
]
