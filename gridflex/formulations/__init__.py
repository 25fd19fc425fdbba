"""Network formulations: how nodal injections become network constraints."""

from gridflex.formulations.base import Formulation, NetworkBuild
from gridflex.formulations.candidates import CandidateBranches, add_candidate_line
from gridflex.formulations.copperplate import CopperPlate
from gridflex.formulations.dc import DC, DCPTDF, ptdf_matrix
from gridflex.formulations.distflow import LinDistFlow, SOCDistFlow
from gridflex.formulations.radial import RadialTree, radial_tree

__all__ = [
    "DC",
    "DCPTDF",
    "CandidateBranches",
    "CopperPlate",
    "Formulation",
    "LinDistFlow",
    "NetworkBuild",
    "RadialTree",
    "SOCDistFlow",
    "add_candidate_line",
    "ptdf_matrix",
    "radial_tree",
]
