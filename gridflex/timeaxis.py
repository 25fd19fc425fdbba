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
meaning is unchanged. With explicit blocks, period labels become a MultiIndex ``(block,
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


class TimeAxis:
    """The model's periods, their length, blocks and cost hours.

    Parameters
    ----------
    periods : int, pandas.DatetimeIndex, sequence, or list of Block
    dt_h : float, optional
        Period length in hours (from the timestamps' spacing by default; 1 for counts).
    """

    def __init__(self, periods, dt_h=None):
        if _is_block_list(periods):
            self.blocks = tuple(_checked_block(b, k) for k, b in enumerate(periods))
            self.index, self.dt_h, lengths = _block_index(self.blocks, dt_h)
        else:
            self.index, self.dt_h = time_axis(periods, dt_h)
            self.blocks = (Block("all", len(self.index), cyclic=False),)
            lengths = [len(self.index)]
        _check_probabilities(self.blocks)
        self.lengths = np.asarray(lengths, dtype=int)
        self.starts = np.r_[0, np.cumsum(self.lengths)[:-1]].astype(int)
        self.block_of = np.repeat(np.arange(len(self.blocks)), self.lengths)
        self.cyclic = np.array([b.cyclic for b in self.blocks], dtype=bool)
        self.open_first = self.starts[~self.cyclic]
        self.open_last = (self.starts + self.lengths - 1)[~self.cyclic]

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
        """Hours each period counts in the objective (T,): weight x probability x dt_h."""
        return self.occurrences * self.dt_h

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
                    "cost_hours_per_period": b.weight * (b.probability or 1.0) * self.dt_h,
                }
            )
        return pd.DataFrame(rows).set_index("block")

    def __repr__(self):
        return f"TimeAxis({self.T} periods of {self.dt_h} h in {len(self.blocks)} block(s))"


def scenario_blocks(probabilities, periods_per_scenario=1, hours_per_year=8760.0, dt_h=1.0):
    """Operating scenarios of a planning study as blocks: scenario ``k`` with probability ``p_k``
    stands for ``p_k x hours_per_year`` hours of the year, spread over its periods.

    Each block gets ``weight = hours_per_year / (periods_per_scenario x dt_h)`` and the
    scenario's probability, so each of its periods counts ``p_k x hours_per_year /
    periods_per_scenario`` hours; blocks are cyclic (a scenario's dynamics close on itself).
    """
    p = np.asarray(probabilities, dtype=float).reshape(-1)
    weight = hours_per_year / (periods_per_scenario * dt_h)
    return [
        Block(f"scenario_{k}", periods_per_scenario, weight=weight, probability=float(pk))
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


def _check_probabilities(blocks):
    given = [b.probability is not None for b in blocks]
    if any(given) and not all(given):
        missing = [b.name for b in blocks if b.probability is None]
        raise InputError(f"Model: blocks {missing} have no probability; give all or none")
    if all(given):
        total = sum(b.probability for b in blocks)
        if not np.isclose(total, 1.0, rtol=0, atol=1e-9):
            raise InputError(f"Model: block probabilities sum to {total:.12g}, not 1")
