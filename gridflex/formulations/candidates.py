"""Candidate branches: branches whose existence is a binary build decision (planning).

A candidate is a line or transformer of the net (normally out of service) named by its
pandapower index. Formulations that support candidates (:class:`~gridflex.formulations.DC`,
:class:`~gridflex.formulations.LinDistFlow`) create one binary build decision per candidate and
stage (:func:`gridflex.problems.planning.build_variable`: built once, in service from its stage
until it retires) and add its charged investment cost to the objective.
:func:`add_candidate_line` puts a new candidate line into a copy of a net.
"""

import copy
from dataclasses import dataclass, field

import numpy as np
import pandapower as pp
import pandas as pd

from gridflex.errors import InputError
from gridflex.problems.planning import (
    Investment,
    InvestmentParam,
    build_stage_labels,
    build_variable,
    staged,
)


@dataclass
class CandidateBranches:
    """Branches to build or not.

    Parameters
    ----------
    line, trafo : list of int
        pandapower indices of candidate lines and transformers.
    cost : list of float
        Capital cost per candidate (lines first, then trafos), in the objective's currency.
    life_years, rate, charge, stages : optional
        As :class:`~gridflex.problems.planning.Investment` (per candidate or one for all):
        without a life the cost is charged once, as given, at the build.
    """

    line: list = field(default_factory=list)
    trafo: list = field(default_factory=list)
    cost: list | None = None
    life_years: object = None
    rate: object = None
    charge: str | None = None
    stages: tuple | None = None

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
                if getattr(grid.branches, "switch_open", None) is not None and bool(
                    grid.branches.switch_open[hit[0]]
                ):
                    raise InputError(
                        f"candidate {element} {index} is behind an open switch: building it "
                        "would not close the switch (close it in the net, or remove it)"
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

    def plan(self, n, horizon):
        """The :class:`~gridflex.problems.planning.StagedInvestment` of the ``n`` candidates."""
        owner = f"CandidateBranches(line={self.line}, trafo={self.trafo})"
        terms = Investment(self.costs(n), self.life_years, self.rate, self.charge, self.stages)
        param = InvestmentParam()
        terms = param.normalize(param.screen(terms, owner), owner, n, None)
        return staged(terms, horizon, owner)


def candidate_decision(candidates, positions, time):
    """Build decisions of the candidate branches at ``positions``: a dict for the network
    build's ``extra`` (``built`` variable, ``built_available`` (n_c, T), ``investment`` cost,
    ``candidate_constraints``, ``candidate_plan``, ``candidate_positions``)."""
    plan = candidates.plan(len(positions), time.horizon)
    built, available, cost, cons = build_variable("built", plan, time)
    return {
        "built": built,
        "built_available": available,
        "investment": cost,
        "candidate_constraints": cons,
        "candidate_plan": plan,
        "candidate_positions": positions,
        "stage_names": time.horizon.names if time.staged else None,
    }


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
    """``{"investment": charged cost}`` of a build with candidates, else ``{}``."""
    if "built" not in build.extra:
        return {}
    return {"investment": build.extra["investment"]}


def candidate_table(candidates, build, grid):
    """``{"res_candidate": DataFrame}``: element, index, built (0/1), build stage (with a
    horizon), capital cost and charged cost per candidate."""
    if "built" not in build.extra:
        return {}
    pos = build.extra["candidate_positions"]
    plan = build.extra["candidate_plan"]
    built = np.asarray(build.extra["built"].value, dtype=float).reshape(len(pos), -1)
    names = build.extra["stage_names"]
    table = {
        "element": grid.branches.element[pos],
        "index": grid.branches.element_index[pos],
        "built": _whole(built.sum(axis=1)),
        "capital_cost": plan.cost,
        "charged_cost": (plan.charged * built).sum(axis=1),
    }
    if names is not None:
        table["stage"] = build_stage_labels(built, names)
    return {"res_candidate": pd.DataFrame(table)}


def _whole(x):
    """Integers when every value is (a solved plan), else rounded floats (a relaxed one)."""
    x = np.round(x, 6)
    return x.astype(int) if np.array_equal(x, np.round(x)) else x
