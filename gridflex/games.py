"""Shapley values of cost games: exact by enumeration, or sampled over permutations.

A cost game is a set of players and a function ``cost(coalition)`` of any
``frozenset`` of them (the empty one included: the values add up to ``v(N) - v(empty)``).
The Shapley value of player ``i`` (seed 002 eq. 2, notes-002 §2.7) is its average marginal
cost over all orders in which the grand coalition can form:

.. math::

    \\Phi_i = \\sum_{S \\ni i} \\frac{(n - |S|)!\\,(|S| - 1)!}{n!}
    \\bigl[v(S) - v(S \\setminus \\{i\\})\\bigr], \\qquad \\sum_i \\Phi_i = v(N)

:func:`shapley` computes it exactly (``2^n`` coalition costs) or estimates it from random
permutations with a confidence interval. Coalition costs are evaluated through ``map`` (the
built-in by default; ``concurrent.futures.Executor.map`` or a Dask client's ``map`` + gather to
solve coalitions in parallel), each distinct coalition once. Nothing here knows what a player
is: :class:`gridflex.problems.game.ModelGame` builds the cost function from a planning model.
"""

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from gridflex.errors import InputError

EXACT_LIMIT = 20  # players: 2^20 coalitions is the most an exact value enumerates


@dataclass
class Shapley:
    """Shapley values of a cost game.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per player: ``value`` and, when sampled, ``std_error``, ``ci_low``, ``ci_high``
        (the ``confidence`` interval).
    costs : dict
        ``{frozenset: cost}`` of every coalition evaluated.
    method : str
        ``"exact"`` or ``"sampled"``.
    samples : int
        Permutations drawn (sampled), or ``n!`` implied (exact: 0).
    """

    table: pd.DataFrame
    costs: dict = field(repr=False)
    method: str = "exact"
    samples: int = 0

    @property
    def values(self):
        """``{player: value}``."""
        return self.table["value"].to_dict()

    def __getitem__(self, player):
        return float(self.table.at[player, "value"])

    def savings(self):
        """Each player's saving: its stand-alone cost minus its share (positive: it gains)."""
        alone = pd.Series({p: self.costs[frozenset([p])] for p in self.table.index})
        return (alone - self.table["value"]).rename("saving")


def shapley(players, cost, *, method="exact", samples=1000, seed=0, confidence=0.95, map=map):
    """Shapley values of the cost game ``(players, cost)``.

    Parameters
    ----------
    players : sequence of hashable
        The players (distinct).
    cost : callable
        ``cost(coalition: frozenset) -> float``; called once per distinct coalition, the empty
        one included.
    method : {"exact", "sampled"}
        Enumerate all ``2^n`` coalitions (up to 20 players), or sample ``samples`` random
        permutations (unbiased; the interval is the normal one over the permutations).
    samples : int
        Permutations to draw when sampled.
    seed : int
        Of the permutation draws.
    confidence : float
        Of the sampled interval, in (0, 1).
    map : callable
        ``map(function, coalitions)`` returning the costs in order (the built-in by default).

    Returns
    -------
    Shapley

    Examples
    --------
    >>> table4 = {(): 0, ("GO",): 49_791_500, ("GO", "ISAC1"): 40_627_000,
    ...           ("GO", "ISAC2"): 43_099_000, ("GO", "ISAC1", "ISAC2"): 36_665_200}
    >>> game = lambda s: table4.get(tuple(sorted(s)), 0.0)
    >>> round(shapley(["GO", "ISAC1", "ISAC2"], game)["GO"], 2)
    42773233.33
    """
    players = _checked_players(players)
    if method == "exact":
        return _exact(players, cost, map)
    if method == "sampled":
        if not (isinstance(samples, int) and samples >= 2):
            raise InputError(f"shapley: samples must be an integer >= 2, got {samples!r}")
        if not 0 < confidence < 1:
            raise InputError(f"shapley: confidence must be in (0, 1), got {confidence!r}")
        return _sampled(players, cost, samples, seed, confidence, map)
    raise InputError(f"shapley: method must be 'exact' or 'sampled', got {method!r}")


def _checked_players(players):
    if isinstance(players, str) or not hasattr(players, "__iter__"):
        raise InputError(f"shapley: players must be a sequence of names, got {players!r}")
    players = list(players)
    if not players:
        raise InputError("shapley: no players")
    if len(set(players)) != len(players):
        raise InputError(f"shapley: players must be distinct, got {players}")
    return players


def _costs(cost, coalitions, map):
    """``{coalition: cost}`` for the distinct ``coalitions``, evaluated through ``map``."""
    todo = list(dict.fromkeys(coalitions))
    values = [float(v) for v in map(cost, todo)]
    if len(values) != len(todo):
        raise InputError(f"shapley: map returned {len(values)} costs for {len(todo)} coalitions")
    bad = [c for c, v in zip(todo, values, strict=True) if not math.isfinite(v)]
    if bad:
        raise InputError(f"shapley: cost of coalition {sorted(bad[0], key=str)} is not finite")
    return dict(zip(todo, values, strict=True))


def _exact(players, cost, map):
    n = len(players)
    if n > EXACT_LIMIT:
        raise InputError(
            f"shapley: {n} players need 2^{n} coalitions; use method='sampled' (up to "
            f"{EXACT_LIMIT} players exactly)"
        )
    coalitions = [
        frozenset(c) for size in range(n + 1) for c in itertools.combinations(players, size)
    ]
    costs = _costs(cost, coalitions, map)
    weight = [0.0] + [
        math.factorial(n - s) * math.factorial(s - 1) / math.factorial(n) for s in range(1, n + 1)
    ]
    values = {
        p: sum(weight[len(s)] * (costs[s] - costs[s - {p}]) for s in coalitions if p in s)
        for p in players
    }
    table = pd.DataFrame({"value": pd.Series(values)}, index=pd.Index(players, name="player"))
    return Shapley(table, costs, "exact", 0)


def _sampled(players, cost, samples, seed, confidence, map):
    """Marginal costs along ``samples`` random orders; the coalitions they need are evaluated
    once each (through ``map``), then every order is scored."""
    rng = np.random.default_rng(seed)
    n = len(players)
    orders = np.array([rng.permutation(n) for _ in range(samples)])
    prefixes = [frozenset(players[k] for k in order[:j]) for order in orders for j in
                range(n + 1)]  # fmt: skip
    alone = [frozenset([p]) for p in players]  # for savings(): n more coalitions at most
    costs = _costs(cost, prefixes + alone, map)
    along = np.array([costs[c] for c in prefixes]).reshape(samples, n + 1)
    marginal = np.empty((samples, n))
    np.put_along_axis(marginal, orders, np.diff(along, axis=1), axis=1)  # per player
    mean = marginal.mean(axis=0)
    error = marginal.std(axis=0, ddof=1) / math.sqrt(samples)
    z = stats.norm.ppf(0.5 + confidence / 2)
    low, high = mean - z * error, mean + z * error
    table = pd.DataFrame(
        {"value": mean, "std_error": error, "ci_low": low, "ci_high": high},
        index=pd.Index(players, name="player"),
    )
    return Shapley(table, costs, "sampled", samples)
