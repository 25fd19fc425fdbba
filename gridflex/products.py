"""Reserve and flexible-ramp products that devices offer and requirements ask for.

A :class:`Product` is a capacity a unit holds back for the system in a period (MW), either *up*
(more injection: generate more or consume less) or *down* (less injection). The products of
seed 003 (Chang et al. 2022, eqs. 1-2, 10-16):

=====================  =========  ==============================================
product                direction  paper symbol
=====================  =========  ==============================================
``SPINNING``           up         SP
``NON_SPINNING``       up         NS
``REGULATION_UP``      up         REG_up
``REGULATION_DOWN``    down       REG_dn
``REPLACEMENT``        up         REP
``RAMP_UP``            up         FRU (flexible ramp up)
``RAMP_DOWN``          down       FRD (flexible ramp down)
=====================  =========  ==============================================

and of seed 004 (Pavic et al., eqs. 2-6): ``PRIMARY_UP``/``PRIMARY_DOWN`` (f),
``SECONDARY_UP``/``SECONDARY_DOWN`` (r), ``TERTIARY_UP`` (q), sized before the solve by
:mod:`gridflex.reserve_sizing`.

A device declares ``offers = Offers()``: a dict product -> offered cost per MW and hour. Its
build holds one nonnegative variable (n, T) per offered product (:func:`build_offers`); how
the offers limit the device (headroom, ramp rate, energy) is written in the device's own
module, with :func:`up_mw` and :func:`down_mw` of the build. Requirements
(:mod:`gridflex.requirements`) sum what every device provides of a product.
"""

import enum
from dataclasses import dataclass
from types import MappingProxyType

import cvxpy as cp
import numpy as np

from gridflex.errors import InputError
from gridflex.parameters import Custom, Number, Shape
from gridflex.profiles import unit_or_profile


class Direction(enum.IntEnum):
    UP = 1
    DOWN = -1


@dataclass(frozen=True)
class Product:
    """A reserve or ramp product: its name (used in result columns), direction and duration.

    ``duration_h`` is how long a provider must be able to sustain what it holds (None: one
    period). Storage-like providers keep the energy for it (:func:`energy_headroom`): held
    reserve is capacity, not energy spent. Generators deploy it within that time (their ramp
    over it, with the shorter products of the same direction).
    """

    name: str
    direction: Direction
    duration_h: float | None = None

    def __post_init__(self):
        d = self.duration_h
        if d is not None and (isinstance(d, bool) or not np.isfinite(d) or d <= 0):
            raise InputError(f"Product '{self.name}': duration_h must be > 0 hours, got {d!r}")

    def hours(self, dt_h):
        """How long it must be sustained, in hours (one period when no duration is given)."""
        return dt_h if self.duration_h is None else float(self.duration_h)

    def __str__(self):
        return self.name


SPINNING = Product("spinning", Direction.UP)
NON_SPINNING = Product("non_spinning", Direction.UP)
REGULATION_UP = Product("regulation_up", Direction.UP)
REGULATION_DOWN = Product("regulation_down", Direction.DOWN)
REPLACEMENT = Product("replacement", Direction.UP)
RAMP_UP = Product("ramp_up", Direction.UP)
RAMP_DOWN = Product("ramp_down", Direction.DOWN)
# seed 004 (Pavic et al.): primary f, secondary r (both deployed within 0.5 h) and tertiary q
# (within 4 h), the horizons of its requirements (eqs. 9-11); the durations are ours (assumed:
# the paper gives no sustain time)
PRIMARY_UP = Product("primary_up", Direction.UP, duration_h=0.5)
PRIMARY_DOWN = Product("primary_down", Direction.DOWN, duration_h=0.5)
SECONDARY_UP = Product("secondary_up", Direction.UP, duration_h=0.5)
SECONDARY_DOWN = Product("secondary_down", Direction.DOWN, duration_h=0.5)
TERTIARY_UP = Product("tertiary_up", Direction.UP, duration_h=4.0)
PRODUCTS = {
    p.name: p
    for p in (
        SPINNING,
        NON_SPINNING,
        REGULATION_UP,
        REGULATION_DOWN,
        REPLACEMENT,
        RAMP_UP,
        RAMP_DOWN,
        PRIMARY_UP,
        PRIMARY_DOWN,
        SECONDARY_UP,
        SECONDARY_DOWN,
        TERTIARY_UP,
    )
}


def as_product(key, owner="product"):
    """``key`` as a :class:`Product` (a Product or its name)."""
    if isinstance(key, Product):
        return key
    if key in PRODUCTS:
        return PRODUCTS[key]
    raise InputError(f"{owner}: unknown product {key!r}; products: {sorted(PRODUCTS)}")


def as_products(keys, owner="product"):
    """A product, a name or a sequence of them as a tuple of :class:`Product`."""
    if isinstance(keys, Product | str):
        keys = [keys]
    return tuple(as_product(k, owner) for k in keys)


def _screen_offers(value, owner, param):
    """``{product or name: cost}`` with products known and costs non-negative numbers."""
    if not isinstance(value, dict):
        raise param.error(owner, "must be a dict {product: offered cost per MW and hour}", value)
    costs = {}
    for key, cost in value.items():
        product = as_product(key, owner=owner)
        declaration = Number("$/MWh", Shape.PROFILE, low=0)
        declaration.name = f"offers[{product.name}]"
        costs[product] = declaration.screen(cost, owner)
    return MappingProxyType(costs)  # read-only: edit by assigning a new dict


def _normalize_offers(value, owner, param, n, periods):
    """Each product's offered cost as an (n, T) array."""
    return {
        p: unit_or_profile(c, n, periods, owner=owner, param=f"offers[{p.name}] ($/MWh)")
        for p, c in value.items()
    }


class Offers(Custom):
    """Declaration of a device's offered products.

    The value is a dict product (or its name) -> offered cost per MW and hour of capacity held:
    a float, one value per unit (n,) or a profile (n, T). A product absent is not offered.
    """

    def __init__(self, doc="products offered: product (or name) -> offered cost per MW and hour"):
        super().__init__("offers", _screen_offers, _normalize_offers, optional=True, doc=doc)


class Products(Custom):
    """Declaration of a set of products (a product, its name, or a sequence of them)."""

    def __init__(self, doc=""):
        super().__init__("products", _screen_products, doc=doc)


def _screen_products(value, owner, param):
    return as_products(value, owner=owner)


# --- offers on a build --------------------------------------------------------------------------
def build_offers(b, costs):
    """One nonnegative variable (n, T) per offered product, kept on the build ``b``."""
    n, T = b.device.n, b.ctx.T
    b.expressions["offers"] = {
        p: b.variable(f"{p.name}_mw", (n, T), nonneg=True) for p in (costs or {})
    }


def _offer_variables(b):
    return b.expressions.get("offers", {})


def held_mw(b, direction):
    """Sum of the offered products in ``direction``, expression (n, T) or 0."""
    chosen = [v for p, v in _offer_variables(b).items() if p.direction == direction]
    return sum(chosen[1:], chosen[0]) if chosen else 0.0


def energy_headroom(b, energy, e_min, e_max, eta_charge, eta_discharge):
    r"""Storage-like providers: the stored energy covers the up products held in period ``t``
    for their durations, and the free capacity absorbs the down products:

    .. math::

        e_{t+k} - \underline E \ge \sum_{p \in up} \min(d_p, (k+1)\,dt)\, r_{p,t} / \eta^{dis},
        \qquad
        \overline E - e_{t+k} \ge \sum_{p \in down} \min(d_p, (k+1)\,dt)\, r_{p,t}\, \eta^{ch}

    for ``k = 0 .. ceil(d/dt) - 1`` inside the block (wrapping in a cyclic one; a window past
    the end of an open block is not checked), with ``e`` the energy at the end of each period as
    scheduled (so what the schedule discharges later, and what leaves with departing EVs, is set
    aside too). Held reserve is capacity: nothing is debited from ``e``. Limits and
    efficiencies are columns (n, 1) or arrays (n, T).
    """
    cons = []
    for direction, sign in ((Direction.UP, 1.0), (Direction.DOWN, -1.0)):
        for k, held in enumerate(_held_by_offset(b, direction)):
            t, later = b.ctx.time.ahead(k)
            if not len(t):
                continue
            if sign > 0:
                room = energy[:, later] - _columns(e_min, later)
                need = cp.multiply(_columns(1.0 / np.asarray(eta_discharge), t), held[:, t])
            else:
                room = _columns(e_max, later) - energy[:, later]
                need = cp.multiply(_columns(eta_charge, t), held[:, t])
            cons.append(room >= need)
    return cons


def _held_by_offset(b, direction):
    """``[sum_p min(d_p, (k+1) dt) r_p for k in 0..K-1]`` over the offered products in
    ``direction`` (K the longest duration in periods), each (n, T)."""
    dt = b.ctx.dt_h
    offered = [(p, v) for p, v in _offer_variables(b).items() if p.direction == direction]
    if not offered:
        return []
    periods = max(int(np.ceil(p.hours(dt) / dt - 1e-9)) for p, _ in offered)
    out = []
    for k in range(periods):  # a loop over the periods of the longest duration, not the model
        parts = [min(p.hours(dt), (k + 1) * dt) * v for p, v in offered]
        out.append(sum(parts[1:], parts[0]))
    return out


def _columns(x, cols):
    """``x`` (scalar, (n, 1) or (n, T) array or expression) at the periods ``cols``."""
    shape = getattr(x, "shape", ())
    return x[:, cols] if len(shape) == 2 and shape[1] > 1 else x


def up_mw(b):
    return held_mw(b, Direction.UP)


def down_mw(b):
    return held_mw(b, Direction.DOWN)


def offered_total_mw(b, product):
    """What all units of a build provide of ``product``, expression (T,), or None."""
    offered = _offer_variables(b)
    if product not in offered:
        return None
    return cp.sum(offered[product], axis=0)


def offer_cost_terms(b, costs):
    """``{"reserves": sum_t w_t * cost * capacity}`` over all offered products."""
    offered = _offer_variables(b)
    if not offered:
        return {}
    terms = [b.ctx.weighted_sum(cp.multiply(costs[p], v)) for p, v in offered.items()]
    return {"reserves": sum(terms[1:], terms[0])}


def offer_results(b):
    """``{"<product>_mw": values (n, T)}`` for every offered product."""
    return {f"{p.name}_mw": np.asarray(v.value) for p, v in _offer_variables(b).items()}
