"""Shapley values (gridflex.games) against the paper's Table 4-5, a brute force over every
order of the players, and the coverage of the sampled interval."""

import itertools
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandapower as pp
import pytest

import gridflex as gf
from gridflex.games import shapley
from gridflex.problems.game import ModelGame

PLAYERS = ["GO", "ISAC1", "ISAC2"]
TABLE4 = {  # yuan/yr, seed 002 Table 4; coalitions without the GO cost 0 (notes-002 §4)
    frozenset(["GO"]): 49_791_500.0,
    frozenset(["GO", "ISAC1"]): 40_627_000.0,
    frozenset(["GO", "ISAC2"]): 43_099_000.0,
    frozenset(PLAYERS): 36_665_200.0,
}


def table4(coalition):
    return TABLE4.get(coalition, 0.0)


def test_table_4_gives_the_exact_shares_and_the_printed_table_5_terms():
    result = shapley(PLAYERS, table4)
    assert result["GO"] == pytest.approx(42_773_233.33, abs=0.01)
    assert result["ISAC1"] == pytest.approx(-3_672_016.67, abs=0.01)
    assert result["ISAC2"] == pytest.approx(-2_436_016.67, abs=0.01)
    assert sum(result.values.values()) == pytest.approx(36_665_200.0, abs=1e-6)  # efficiency
    # Table 5, the GO's terms W(S) [V(S) - V(S - GO)], each within 500 yuan of the print
    weights = {1: 1 / 3, 2: 1 / 6, 3: 1 / 3}
    printed = {("GO",): 16_597_000, ("GO", "ISAC1"): 6_771_200, ("GO", "ISAC2"): 7_183_200,
               ("GO", "ISAC1", "ISAC2"): 12_222_000}  # fmt: skip
    for members, term in printed.items():
        s = frozenset(members)
        assert weights[len(s)] * (table4(s) - table4(s - {"GO"})) == pytest.approx(term, abs=500)
    # the paper's text: each party's saving against standing alone (L439)
    savings = result.savings()
    assert savings["GO"] == pytest.approx(49_791_500 - 42_773_233.33, abs=0.01)
    assert savings["ISAC1"] == pytest.approx(3_672_016.67, abs=0.01)


def brute_force(players, cost):
    """The definition: the average marginal cost over all n! orders."""
    total = dict.fromkeys(players, 0.0)
    orders = list(itertools.permutations(players))
    for order in orders:
        for k, p in enumerate(order):
            total[p] += cost(frozenset(order[: k + 1])) - cost(frozenset(order[:k]))
    return {p: v / len(orders) for p, v in total.items()}


def random_game(n, seed):
    rng = np.random.default_rng(seed)
    table = {
        frozenset(c): 0.0 if not c else float(rng.uniform(0, 100) * len(c) ** 0.8)
        for size in range(n + 1)
        for c in itertools.combinations(range(n), size)
    }
    return table.__getitem__


@pytest.mark.parametrize("n", range(2, 9))
def test_exact_equals_the_brute_force_over_orders(n):
    game = random_game(n, seed=n)
    exact = shapley(range(n), game)
    expected = brute_force(list(range(n)), game)
    for p in range(n):
        assert exact[p] == pytest.approx(expected[p], rel=1e-12, abs=1e-9)
    assert sum(exact.values.values()) == pytest.approx(game(frozenset(range(n))), rel=1e-12)
    assert len(exact.costs) == 2**n  # each coalition evaluated once


def test_the_sampled_interval_covers_the_exact_value_at_its_level():
    # a 10-player game; 100 seeded repetitions of 200 permutations each: the 95 % interval
    # covers the exact value for at least 90 of 100 (per player 0, and for every player)
    n = 10
    game = random_game(n, seed=42)
    exact = shapley(range(n), game).table["value"]
    covered = np.zeros(n)
    for seed in range(100):
        sampled = shapley(range(n), game, method="sampled", samples=200, seed=seed).table
        covered += (sampled["ci_low"] <= exact) & (exact <= sampled["ci_high"])
    assert covered.min() >= 90, covered


def test_sampled_values_are_unbiased_and_efficient_per_permutation():
    game = random_game(4, seed=3)
    exact = shapley(range(4), game).table["value"]
    sampled = shapley(range(4), game, method="sampled", samples=4000, seed=1)
    # every order adds up to v(N): the sampled values are efficient exactly
    assert sampled.table["value"].sum() == pytest.approx(game(frozenset(range(4))), rel=1e-12)
    assert (abs(sampled.table["value"] - exact) < 4 * sampled.table["std_error"] + 1e-9).all()


def test_coalitions_go_through_the_given_map_once_each():
    calls = []

    def cost(coalition):
        calls.append(coalition)
        return table4(coalition)

    with ThreadPoolExecutor(2) as pool:
        result = shapley(PLAYERS, cost, map=pool.map)
    assert len(calls) == len(set(calls)) == 8
    assert result["GO"] == pytest.approx(42_773_233.33, abs=0.01)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: shapley([], table4), "no players"),
        (lambda: shapley("GO", table4), "players must be a sequence"),
        (lambda: shapley(["GO", "GO"], table4), "players must be distinct"),
        (lambda: shapley(PLAYERS, table4, method="monte carlo"), "method must be"),
        (lambda: shapley(PLAYERS, table4, method="sampled", samples=1), "samples must be"),
        (lambda: shapley(PLAYERS, table4, method="sampled", confidence=1.5), "confidence"),
        (lambda: shapley(PLAYERS, lambda s: math.nan), "is not finite"),
        (lambda: shapley(range(21), lambda s: 0.0), "use method='sampled'"),
    ],
)
def test_bad_input_is_refused(call, message):
    with pytest.raises(gf.InputError, match=message):
        call()


# --- a cost game from a model ----------------------------------------------------------------
CANDIDATES = {"A": (40.0, 30.0, 60_000.0), "B": (30.0, 25.0, 70_000.0), "C": (50.0, 45.0, 20_000.0)}
"""Player: (MW, cost per MWh, investment per year) of its candidate unit."""


def market(players):
    """One bus, 100 MW of load in two blocks, a dear external grid, the candidate units of
    ``players`` (each a decided investment)."""
    net = pp.create_empty_network()
    pp.create_bus(net, vn_kv=20.0)
    model = gf.Model(net, periods=gf.scenario_blocks([0.6, 0.4]), net_elements=False)
    model.add(gf.ExternalGrid(0, 100.0, name="grid"))
    model.add(gf.Load(0, [[100.0, 60.0]], name="load"))
    for p in players:
        mw, cost, invest = CANDIDATES[p]
        model.add(gf.Generator(0, mw, cost_per_mwh=cost, investment=invest, name=f"unit_{p}"))
    return model


def test_a_model_game_equals_models_built_without_the_absent_assets():
    # the game on the full model (absent units held unbuilt) against a model per coalition
    # holding only its members' units: every coalition's cost, and the Shapley values
    full = market(CANDIDATES)
    game = ModelGame(full, {p: {f"unit_{p}.built": [0]} for p in CANDIDATES})
    separate = {}
    for size in range(4):
        for members in itertools.combinations(CANDIDATES, size):
            s = frozenset(members)
            separate[s] = market(members).solve().objective
            assert game(s) == pytest.approx(separate[s], rel=1e-9)
    ours, theirs = shapley(game.players, game), shapley(list(CANDIDATES), separate.__getitem__)
    for p in CANDIDATES:
        assert ours[p] == pytest.approx(theirs[p], rel=1e-9)
    total = separate[frozenset(CANDIDATES)] - separate[frozenset()]  # v(N) - v(empty)
    assert sum(ours.values.values()) == pytest.approx(total, rel=1e-9)
    assert full.fixed == {}  # the model is left as it was


def test_a_partial_fix_keeps_a_truck_off_the_legs_of_an_absent_station(three_station_ice):
    # a maker and two ISACs; ISAC 2 absent: its legs held at 0, every other entry free (NaN).
    # Against the same system whose truck has no leg to station 2
    system = three_station_ice
    every = {(i, j): 1.0 for i in range(3) for j in range(3) if i != j}
    full = system(every)
    legs = sorted(every)
    held = np.full((len(legs), 6), np.nan)
    held[[k for k, leg in enumerate(legs) if 2 in leg]] = 0.0
    game = ModelGame(full, {"ISAC2": {"truck.departures": held}})
    alone = system({leg: 1.0 for leg in every if 2 not in leg}).solve(mip_rel_gap=0)
    assert game(frozenset()) == pytest.approx(alone.objective, rel=1e-9)
    assert game(frozenset(["ISAC2"])) <= game(frozenset()) + 1e-9  # serving both is no dearer
    departures = game.results[frozenset()].plan  # investments only; the route is operation
    assert "truck.bought" in departures


def test_model_game_bad_input():
    model = market(["A"])
    with pytest.raises(gf.InputError, match="players must be a non-empty dict"):
        ModelGame(model, {})
    with pytest.raises(gf.InputError, match="restricts 'nope'"):
        ModelGame(model, {"A": {"nope": [0]}})
    game = ModelGame(model, {"A": {"unit_A.built": [0]}})
    with pytest.raises(gf.InputError, match="unknown players"):
        game(frozenset(["Z"]))
