"""Candidate branches: branches whose existence is a binary build decision (planning).

A candidate is a line or transformer of the net (normally out of service) named by its
pandapower index. Formulations that support candidates (:class:`~gridflex.formulations.DC`)
create one binary ``built`` per candidate, shared by all periods, and add the candidate's
investment cost to the objective. :func:`add_candidate_line` puts a new candidate line into a
copy of a net.
"""

import copy
from dataclasses import dataclass, field

import numpy as np
import pandapower as pp
import pandas as pd

from gridflex.errors import InputError


@dataclass
class CandidateBranches:
    """Branches to build or not.

    Parameters
    ----------
    line, trafo : list of int
        pandapower indices of candidate lines and transformers.
    cost : list of float
        Investment cost per candidate (lines first, then trafos), in the objective's currency
        for the modelled horizon (annualise and scale it to the horizon before passing it).
    """

    line: list = field(default_factory=list)
    trafo: list = field(default_factory=list)
    cost: list | None = None

    def positions(self, grid):
        """Branch positions in ``grid.branches`` (lines first), with clear errors."""
        out = []
        for element, indices in (("line", self.line), ("trafo", self.trafo)):
            rows = np.flatnonzero(grid.branches.element == element)
            labels = grid.branches.element_index[rows]
            for index in indices:
                hit = rows[labels == index]
                if hit.size == 0:
                    raise InputError(
                        f"candidate {element} {index} is not in the net "
                        f"(net.{element} has indices {labels.tolist()})"
                    )
                out.append(int(hit[0]))
        if len(set(out)) != len(out):
            raise InputError(
                f"candidate branches listed twice: line={self.line} trafo={self.trafo}"
            )
        return np.asarray(out, dtype=int)

    def costs(self, n):
        """Investment cost per candidate as an array (zeros when not given)."""
        if self.cost is None:
            return np.zeros(n)
        cost = np.asarray(self.cost, dtype=float)
        if cost.shape != (n,) or (cost < 0).any() or np.isnan(cost).any():
            raise InputError(f"candidate cost must be {n} non-negative numbers, got {self.cost}")
        return cost


def add_candidate_line(net, from_bus, to_bus, *, like=None, **parameters):
    """A copy of ``net`` with a new out-of-service line (a candidate) and its index.

    Parameters
    ----------
    net : pandapowerNet
    from_bus, to_bus : int
        pandapower bus indices; unknown buses raise :class:`InputError`.
    like : int, optional
        Copy the electrical parameters of this existing line.
    **parameters
        Otherwise the parameters of ``pandapower.create_line_from_parameters``
        (``length_km``, ``r_ohm_per_km``, ``x_ohm_per_km``, ``c_nf_per_km``, ``max_i_ka``).
    """
    for bus in (from_bus, to_bus):
        if bus not in net.bus.index:
            raise InputError(f"candidate line {from_bus}-{to_bus}: bus {bus} is not in the net")
    if from_bus == to_bus:
        raise InputError(f"candidate line {from_bus}-{to_bus} joins a bus to itself")
    out = copy.deepcopy(net)
    if like is not None:
        cols = ["length_km", "r_ohm_per_km", "x_ohm_per_km", "c_nf_per_km", "max_i_ka"]
        parameters = {**net.line.loc[like, cols].to_dict(), **parameters}
    index = pp.create_line_from_parameters(out, from_bus, to_bus, in_service=False, **parameters)
    return out, int(index)


def candidate_cost_terms(candidates, build):
    """``{"investment": cost @ built}`` of a build with candidates, else ``{}``."""
    if "built" not in build.extra:
        return {}
    cost = candidates.costs(len(build.extra["candidate_positions"]))
    return {"investment": cost @ build.extra["built"][:, 0]}


def candidate_table(candidates, build, grid):
    """``{"res_candidate": DataFrame}``: element, index, built (0/1) and cost per candidate."""
    if "built" not in build.extra:
        return {}
    pos = build.extra["candidate_positions"]
    return {
        "res_candidate": pd.DataFrame(
            {
                "element": grid.branches.element[pos],
                "index": grid.branches.element_index[pos],
                "built": np.round(build.extra["built"].value[:, 0]).astype(int),
                "cost": candidates.costs(len(pos)),
            }
        )
    }
