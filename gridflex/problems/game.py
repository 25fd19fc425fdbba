"""A cost game from a planning model: a coalition's cost is the model's optimum with only its
members' assets available (seed 002's semantics, notes-002 §4).

Each player owns restrictions that apply while it is **absent**: ``{decision name: values}``,
as for :meth:`Model.fix` (NaN entries free), e.g. ``{"wt.units": [0, 0]}`` (no wind farm) or
a truck's departures held at 0 on the legs to a station (the other entries NaN: a partial fix).
The cost of a coalition ``S`` is the model solved with the restrictions of every player not in
``S``; ``outside(S)`` may give a coalition's cost directly (the paper: 0 for any coalition
without the grid operator, whose costs are the only ones counted). Costs are cached per
coalition; the model is left as it was. Calls are serialised (one model: a thread pool gains
nothing); to solve coalitions in parallel, give each worker its own model. Use with
:func:`gridflex.games.shapley`:

>>> game = ModelGame(model, {"GO": {...}, "ISAC1": {...}, "ISAC2": {...}},
...                  outside=lambda s: 0.0 if "GO" not in s else None)
>>> shares = gf.games.shapley(game.players, game)
"""

import threading

import numpy as np

from gridflex.errors import InputError


class ModelGame:
    """``cost(coalition)`` of a model whose players bring assets (see the module docstring).

    Parameters
    ----------
    model : Model
    players : dict
        ``{player: {decision name: values while the player is absent}}``.
    outside : callable, optional
        ``outside(coalition) -> float or None``: a cost given directly (None: solve).
    value : callable, optional
        ``value(result) -> float``: the cost read from a solved result (its objective by
        default).
    solve : callable, optional
        ``solve(model, held) -> Results`` for a coalition whose absent players hold ``held``
        (default: ``model.evaluate(held)``, or ``model.solve()`` when nothing is held), e.g.
        ``lambda m, held: gf.benders(m, hold=held).result``.
    **solve_options
        For every default solve.
    """

    def __init__(self, model, players, *, outside=None, value=None, solve=None,
                 **solve_options):  # fmt: skip
        if not isinstance(players, dict) or not players:
            raise InputError("ModelGame: players must be a non-empty dict {player: restrictions}")
        known = {d.name: d for d in model.decisions()}
        for player, restrictions in players.items():
            if not isinstance(restrictions, dict):
                raise InputError(f"ModelGame: restrictions of player {player!r} must be a dict "
                                 "{decision name: values}")  # fmt: skip
            missing = [n for n in restrictions if n not in known]
            if missing:
                raise InputError(f"ModelGame: player {player!r} restricts '{missing[0]}', which "
                                 f"is not a decision of the model")  # fmt: skip
        self.model, self.players = model, list(players)
        self.restrictions = {p: {n: known[n].checked(v) for n, v in r.items()}
                             for p, r in players.items()}  # fmt: skip
        self.outside, self.value = outside, value or (lambda result: result.objective)
        self.solve = solve
        self.solve_options = solve_options
        self.costs, self.results = {}, {}
        self._lock = threading.Lock()  # one model: coalitions solve one at a time

    def restrictions_of(self, coalition):
        """``{decision name: values}`` held for ``coalition``: every absent player's (entries
        given by several absent players must agree)."""
        held = {}
        for player in self.players:
            if player in coalition:
                continue
            for name, values in self.restrictions[player].items():
                held[name] = _merge(held.get(name), values, name, player)
        return held

    def __call__(self, coalition):
        coalition = frozenset(coalition)
        unknown = coalition - set(self.players)
        if unknown:
            raise InputError(f"ModelGame: unknown players {sorted(unknown, key=str)}")
        with self._lock:  # a thread pool's calls would fix and solve the shared model at once
            if coalition not in self.costs:
                given = self.outside(coalition) if self.outside is not None else None
                self.costs[coalition] = (float(given) if given is not None
                                         else self._solve(coalition))  # fmt: skip
            return self.costs[coalition]

    def _solve(self, coalition):
        held = self.restrictions_of(coalition)
        if self.solve is not None:
            result = self.solve(self.model, held)
        elif held:
            result = self.model.evaluate(held, **self.solve_options)
        else:
            result = self.model.solve(**self.solve_options)
        self.results[coalition] = result
        return float(self.value(result))


def _merge(current, values, name, player):
    """Two partial fixes of one decision: their given entries must agree."""
    if current is None:
        return values
    both = ~np.isnan(current) & ~np.isnan(values)
    if not np.allclose(current[both], values[both]):
        raise InputError(f"ModelGame: player {player!r} holds '{name}' at other values than "
                         "another absent player")  # fmt: skip
    return np.where(np.isnan(current), values, current)
