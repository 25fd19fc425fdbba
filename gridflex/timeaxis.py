"""Time structure: the periods of a model grouped in blocks (typical days, operating scenarios).

A model's time axis is a sequence of :class:`Block` s: contiguous runs of periods that each stand
for something (a week, a typical day, an operating scenario), with a **weight** (how often the
block occurs in the year: the objective counts each of its periods ``weight x dt_h`` hours) and
optionally a **probability** (a scenario: ``probability x weight x dt_h`` hours). Dynamics link
periods only inside a block (storage energy, ramps, minimum up/down times, the output ramp of
renewables, flexible-ramp requirements): the period before a block's first period is

* its last period, for a **cyclic** block (the default for blocks given explicitly: a typical day
  ends where it starts, and nothing crosses into another day or scenario), or
* the devices' initial values (``e_initial_mwh``, ``p_initial_mw``, ``initial_on``), for an
  **open** block, whose last period meets the devices' final values (``e_final_mwh``).

A model built on a plain period count or DatetimeIndex has one open block of weight 1: its
meaning is unchanged.

**Stages** (multi-stage planning): a :class:`Horizon` is a sequence of :class:`Stage` s of whole
years, a discount rate to the base year (the start of the first stage) and a convention for how a
stage's operation counts (:attr:`Horizon.operation`). Every block then names its stage; a
period's cost hours are multiplied by its stage's operation factor, so every operating cost of
every device is discounted the same way. Investments are charged by
:mod:`gridflex.problems.planning`. Without a horizon the model has one stage of one year at rate
0: costs are per year, as before. With explicit blocks, period labels become a MultiIndex ``(block,
period)``, so typical days with the same clock times stay distinct; every result table uses it.

:class:`TimeAxis` holds the index arrays that the vectorised families use (:meth:`TimeAxis.links`,
:attr:`TimeAxis.open_first`, :attr:`TimeAxis.open_last`); no code loops over periods.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridflex.errors import InputError
from gridflex.profiles import time_axis


@dataclass(frozen=True)
class Block:
    """A run of periods that stands for something, with its weight.

    Parameters
    ----------
    name : str
        Label of the block (first level of the period index).
    periods : int or pandas.DatetimeIndex or sequence
        Number of periods, or their labels (evenly spaced timestamps set the period length).
    weight : float
        How often the block occurs (per year, or whatever the objective's horizon is): each of
        its periods counts ``weight x dt_h`` hours in every cost (> 0).
    probability : float, optional
        For operating scenarios: the block's probability; its periods count ``probability x
        weight x dt_h`` hours. Either every block has one and they sum to 1, or none has.
    cyclic : bool
        The period before the first is the last (default); False: the devices' initial and
        final values apply at the block's edges.
    """

    name: str
    periods: object
    weight: float = 1.0
    probability: float | None = None
    cyclic: bool = True
    stage: str | None = None


OPERATION_CONVENTIONS = ("every_year", "first_year", "stage_start")


@dataclass(frozen=True)
class Stage:
    """A planning stage: a run of whole years in which the same blocks stand for every year.

    Parameters
    ----------
    name : str
    years : int
        Length of the stage (>= 1).
    """

    name: str
    years: int = 1


@dataclass(frozen=True)
class Horizon:
    """Planning stages and how their costs are discounted to the base year.

    Year ``y`` (0 = the first stage's first year) is discounted by ``(1 + r)^-y``: costs of a
    year count at its start (so the first stage's first year counts in full).

    Parameters
    ----------
    stages : list of Stage
        In time order; stage ``s`` starts where stage ``s - 1`` ends.
    discount_rate : float
        ``r`` (>= 0, per year).
    operation : {"every_year", "first_year", "stage_start"}
        How one year of a stage's blocks counts: ``"every_year"`` (default) repeats it in every
        year of the stage, each year discounted (``sum_y (1+r)^-y`` over the stage's years);
        ``"first_year"`` counts it once at the stage's start, ``(1+r)^-a_s`` (seed 001, eq. E10 of
        notes-001); ``"stage_start"`` counts every year of the stage at the start's factor,
        ``years x (1+r)^-a_s``.
    """

    stages: tuple
    discount_rate: float = 0.0
    operation: str = "every_year"

    def __post_init__(self):
        if not isinstance(self.stages, list | tuple):
            raise InputError(
                f"Horizon: stages must be a list of gf.Stage, got {type(self.stages).__name__}"
            )
        object.__setattr__(self, "stages", tuple(self.stages))
        _check_horizon(self)

    @property
    def names(self):
        return [s.name for s in self.stages]

    @property
    def years(self):
        return np.array([s.years for s in self.stages], dtype=int)

    @property
    def start_years(self):
        """First year of each stage, (S,): 0 for the first."""
        return np.r_[0, np.cumsum(self.years)[:-1]].astype(int)

    @property
    def end_year(self):
        """The year after the last stage ends."""
        return int(self.years.sum())

    def discount(self, year):
        """``(1 + r)^-year`` (array or scalar)."""
        return (1.0 + self.discount_rate) ** -np.asarray(year, dtype=float)

    def year_sum(self, first, last):
        """``sum_{y=first}^{last-1} (1+r)^-y`` elementwise (0 where ``last <= first``)."""
        first, last = np.asarray(first, dtype=float), np.asarray(last, dtype=float)
        r = self.discount_rate
        if r == 0:
            return np.maximum(last - first, 0.0)
        value = (self.discount(first) - self.discount(last)) * (1.0 + r) / r
        return np.where(last > first, value, 0.0)

    def operation_factors(self):
        """How many discounted years one year of each stage's blocks counts, (S,)."""
        a, n = self.start_years, self.years
        if self.operation == "every_year":
            return self.year_sum(a, a + n)
        if self.operation == "first_year":
            return self.discount(a)
        return n * self.discount(a)

    def table(self):
        """One row per stage: years, first year, discount factor at its start, operation factor."""
        return pd.DataFrame(
            {
                "years": self.years,
                "first_year": self.start_years,
                "discount_at_start": self.discount(self.start_years),
                "operation_factor": self.operation_factors(),
            },
            index=pd.Index(self.names, name="stage"),
        )


def _check_horizon(h):
    if not h.stages or not all(isinstance(s, Stage) for s in h.stages):
        raise InputError(f"Horizon: stages must be a non-empty list of gf.Stage, got {h.stages!r}")
    names = [s.name for s in h.stages]
    for k, s in enumerate(h.stages):
        if not isinstance(s.name, str) or not s.name:
            raise InputError(f"Horizon: stage {k} needs a non-empty name, got {s.name!r}")
        y = s.years
        if isinstance(y, bool) or not isinstance(y, int | np.integer) or y < 1:
            raise InputError(
                f"Horizon: stage '{s.name}' years must be a whole number >= 1, got {y!r}"
            )
    if len(set(names)) != len(names):
        raise InputError(f"Horizon: stage names must be unique, got {names}")
    r = h.discount_rate
    if isinstance(r, bool) or not isinstance(r, int | float | np.number) or not 0 <= r < 1:
        raise InputError(f"Horizon: discount_rate must be a number in [0, 1), got {r!r}")
    if h.operation not in OPERATION_CONVENTIONS:
        raise InputError(
            f"Horizon: operation must be one of {OPERATION_CONVENTIONS}, got {h.operation!r}"
        )


ONE_YEAR = Horizon((Stage("all", 1),))  # the horizon of a model without stages


class TimeAxis:
    """The model's periods, their length, blocks and cost hours.

    Parameters
    ----------
    periods : int, pandas.DatetimeIndex, sequence, or list of Block
    dt_h : float, optional
        Period length in hours (from the timestamps' spacing by default; 1 for counts).
    horizon : Horizon, optional
        Planning stages; every block then names its stage (blocks in stage order).
    """

    def __init__(self, periods, dt_h=None, horizon=None):
        if horizon is not None and not isinstance(horizon, Horizon):
            raise InputError(f"Model: horizon must be a gf.Horizon, got {type(horizon).__name__}")
        self.horizon = horizon or ONE_YEAR
        self.staged = horizon is not None
        if _is_block_list(periods):
            self.blocks = tuple(_checked_block(b, k) for k, b in enumerate(periods))
            self.index, self.dt_h, lengths = _block_index(self.blocks, dt_h)
        else:
            self.index, self.dt_h = time_axis(periods, dt_h)
            only = self.horizon.names[0] if self.staged and self.S == 1 else None
            self.blocks = (Block("all", len(self.index), cyclic=False, stage=only),)
            lengths = [len(self.index)]
        self.block_stage = _block_stages(self.blocks, horizon)
        _check_probabilities(self.blocks, self.block_stage, self.horizon)
        self.lengths = np.asarray(lengths, dtype=int)
        self.starts = np.r_[0, np.cumsum(self.lengths)[:-1]].astype(int)
        self.block_of = np.repeat(np.arange(len(self.blocks)), self.lengths)
        self.cyclic = np.array([b.cyclic for b in self.blocks], dtype=bool)
        self.open_first = self.starts[~self.cyclic]
        self.open_last = (self.starts + self.lengths - 1)[~self.cyclic]
        self.stage_of = self.block_stage[self.block_of]  # (T,) stage position of each period

    @property
    def T(self):
        return len(self.index)

    @property
    def explicit(self):
        """True when the user gave blocks (the index is a (block, period) MultiIndex)."""
        return isinstance(self.index, pd.MultiIndex)

    @property
    def occurrences(self):
        """How often each period occurs in the objective (T,): weight x probability."""
        per_block = np.array([b.weight * (b.probability or 1.0) for b in self.blocks])
        return per_block[self.block_of]

    @property
    def cost_hours(self):
        """Hours each period counts in the objective (T,): weight x probability x dt_h, times
        its stage's operation factor (discounted years; 1 without a horizon)."""
        return self.occurrences * self.dt_h * self.horizon.operation_factors()[self.stage_of]

    @property
    def S(self):
        """Number of stages (1 without a horizon)."""
        return len(self.horizon.stages)

    def stage_matrix(self):
        """(S, T) 0/1: period ``t`` belongs to stage ``s``."""
        return (self.stage_of[None, :] == np.arange(self.S)[:, None]).astype(float)

    def links(self):
        """``(t, previous)``: every period with a predecessor in its block, and that predecessor
        (the block's last period for the first period of a cyclic block)."""
        t = np.arange(self.T)
        prev = t - 1
        first = self.starts
        prev[first] = first + self.lengths - 1  # cyclic wrap; dropped below for open blocks
        keep = np.ones(self.T, dtype=bool)
        keep[self.open_first] = False  # a one-period cyclic block links the period to itself
        return t[keep], prev[keep]

    def ahead(self, k):
        """``(t, later)``: every period with a ``k``-th successor in its block, and that
        successor (wrapping in a cyclic block; none past the end of an open one)."""
        t = np.arange(self.T)
        block = self.block_of
        offset = t - self.starts[block] + k
        length = self.lengths[block]
        wrapped = self.starts[block] + offset % length
        keep = self.cyclic[block] | (offset < length)
        return t[keep], wrapped[keep]

    def previous(self, values, initial=None):
        """``values`` (n, T) shifted by one period inside each block: the value before each
        period. First periods of open blocks take ``initial`` (n,) (default: their own value,
        i.e. no change); cyclic blocks take their last period."""
        values = np.asarray(values, dtype=float)
        out = np.empty_like(values)
        t, prev = self.links()
        out[:, t] = values[:, prev]
        first = self.open_first
        out[:, first] = values[:, first] if initial is None else np.reshape(initial, (-1, 1))
        return out

    def cumsum(self, values):
        """Cumulative sum along periods (axis 1), restarting at every block."""
        values = np.asarray(values, dtype=float)
        total = np.cumsum(values, axis=1)
        before = np.where(self.starts > 0, total[:, np.maximum(self.starts - 1, 0)], 0.0)
        return total - np.repeat(before, self.lengths, axis=1)

    def block_table(self):
        """One row per block: name, first and last period label, periods, weight, probability,
        cyclic, hours per period in the objective."""
        rows = []
        for k, b in enumerate(self.blocks):
            s, n = self.starts[k], self.lengths[k]
            rows.append(
                {
                    "block": b.name,
                    "periods": int(n),
                    "first": self.index[s],
                    "last": self.index[s + n - 1],
                    "weight": b.weight,
                    "probability": b.probability,
                    "cyclic": b.cyclic,
                    "cost_hours_per_period": self.cost_hours[s],
                }
                | ({"stage": self.horizon.names[self.block_stage[k]]} if self.staged else {})
            )
        return pd.DataFrame(rows).set_index("block")

    def __repr__(self):
        return f"TimeAxis({self.T} periods of {self.dt_h} h in {len(self.blocks)} block(s))"


def scenario_blocks(
    probabilities, periods_per_scenario=1, hours_per_year=8760.0, dt_h=1.0, stage=None
):
    """Operating scenarios of a planning study as blocks: scenario ``k`` with probability ``p_k``
    stands for ``p_k x hours_per_year`` hours of the year, spread over its periods.

    Each block gets ``weight = hours_per_year / (periods_per_scenario x dt_h)`` and the
    scenario's probability, so each of its periods counts ``p_k x hours_per_year /
    periods_per_scenario`` hours; blocks are cyclic (a scenario's dynamics close on itself).
    With ``stage``, the blocks belong to that stage and are named ``"<stage>/scenario_k"``.
    """
    p = np.asarray(probabilities, dtype=float).reshape(-1)
    weight = hours_per_year / (periods_per_scenario * dt_h)
    prefix = "" if stage is None else f"{stage}/"
    return [
        Block(f"{prefix}scenario_{k}", periods_per_scenario, weight, float(pk), stage=stage)
        for k, pk in enumerate(p)
    ]


def _is_block_list(periods):
    return (
        isinstance(periods, list | tuple)
        and len(periods) > 0
        and all(isinstance(b, Block) for b in periods)
    )


def _checked_block(block, k):
    where = f"Block {k} ('{block.name}')"
    if not isinstance(block.name, str) or not block.name:
        raise InputError(f"Block {k}: name must be a non-empty string, got {block.name!r}")
    w = block.weight
    if (
        isinstance(w, bool)
        or not isinstance(w, int | float | np.number)
        or not np.isfinite(w)
        or w <= 0
    ):
        raise InputError(f"{where}: weight must be a positive number (occurrences), got {w!r}")
    p = block.probability
    if p is not None and (isinstance(p, bool) or not np.isfinite(p) or not 0 < p <= 1):
        raise InputError(f"{where}: probability must lie in (0, 1], got {p!r}")
    if not isinstance(block.cyclic, bool | np.bool_):
        raise InputError(f"{where}: cyclic must be True or False, got {block.cyclic!r}")
    return block


def _block_index(blocks, dt_h):
    names = [b.name for b in blocks]
    if len(set(names)) != len(names):
        raise InputError(f"Model: block names must be unique, got {names}")
    labels, steps = [], []
    for k, b in enumerate(blocks):
        try:
            index, step = time_axis(b.periods, dt_h)
        except InputError as exc:
            raise InputError(f"Block {k} ('{b.name}'): {exc}") from None
        labels.append(index)
        steps.append(step)
    if not np.allclose(steps, steps[0]):
        raise InputError(f"Model: blocks have different period lengths {steps} h")
    tuples = [(b.name, label) for b, index in zip(blocks, labels, strict=True) for label in index]
    index = pd.MultiIndex.from_tuples(tuples, names=["block", "period"])
    return index, float(steps[0]), [len(i) for i in labels]


def _block_stages(blocks, horizon):
    """Stage position of every block (B,), with clear errors for unknown or unordered stages."""
    named = [b.stage for b in blocks]
    if horizon is None:
        staged = [b for b in blocks if b.stage is not None]
        if staged:
            raise InputError(
                f"Block '{staged[0].name}' names stage '{staged[0].stage}' but the model has no "
                "horizon: Model(..., horizon=gf.Horizon([gf.Stage(...), ...]))"
            )
        return np.zeros(len(blocks), dtype=int)
    position = {name: k for k, name in enumerate(horizon.names)}
    for b in blocks:
        if b.stage not in position:
            raise InputError(
                f"Block '{b.name}' is in stage {b.stage!r}, which is not in the horizon "
                f"(stages {horizon.names}); give every block stage=<one of them>"
            )
    stages = np.array([position[s] for s in named], dtype=int)
    back = np.flatnonzero(np.diff(stages) < 0)
    if back.size:
        k = int(back[0])
        raise InputError(
            f"Blocks out of stage order: '{blocks[k].name}' (stage '{named[k]}') comes before "
            f"'{blocks[k + 1].name}' (stage '{named[k + 1]}'); list blocks in the horizon's order "
            f"{horizon.names}"
        )
    empty = [horizon.names[s] for s in range(len(horizon.stages)) if s not in set(stages)]
    if empty:
        raise InputError(f"Horizon: stage '{empty[0]}' has no block (no operation to count)")
    return stages


def _check_probabilities(blocks, block_stage, horizon):
    """Either every block has a probability or none; they sum to 1 within each stage."""
    given = [b.probability is not None for b in blocks]
    if any(given) and not all(given):
        missing = [b.name for b in blocks if b.probability is None]
        raise InputError(f"Model: blocks {missing} have no probability; give all or none")
    if not all(given):
        return
    totals = np.bincount(block_stage, [b.probability for b in blocks], len(horizon.stages))
    for name, total in zip(horizon.names, totals, strict=True):
        if not np.isclose(total, 1.0, rtol=0, atol=1e-9):
            where = f" of stage '{name}'" if len(totals) > 1 else ""
            raise InputError(f"Model: block probabilities{where} sum to {total:.12g}, not 1")
