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

A device offers products through an :class:`Offers` object (one nonnegative variable (n, T) per
product and an offered cost per MW and hour); how the offers limit the device (headroom,
ramp rate, energy) is written in the device's own module, with :meth:`Offers.up_mw` and
:meth:`Offers.down_mw`. Requirements (:mod:`gridflex.requirements`) sum what every device
provides of a product.
"""

import enum
from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from gridflex.errors import InputError
from gridflex.profiles import check_nonnegative, unit_or_profile


class Direction(enum.IntEnum):
    UP = 1
    DOWN = -1


@dataclass(frozen=True)
class Product:
    """A reserve or ramp product: its name (used in result columns) and direction."""

    name: str
    direction: Direction

    def __str__(self):
        return self.name


SPINNING = Product("spinning", Direction.UP)
NON_SPINNING = Product("non_spinning", Direction.UP)
REGULATION_UP = Product("regulation_up", Direction.UP)
REGULATION_DOWN = Product("regulation_down", Direction.DOWN)
REPLACEMENT = Product("replacement", Direction.UP)
RAMP_UP = Product("ramp_up", Direction.UP)
RAMP_DOWN = Product("ramp_down", Direction.DOWN)
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


class Offers:
    """The products the units of one device offer, with their offered costs.

    Parameters
    ----------
    costs : dict
        Product (or its name) -> offered cost per MW and hour of capacity held: a float, one
        value per unit (n,) or a profile (n, T). A product absent from the dict is not offered.
    """

    def __init__(self, costs):
        self.costs = {as_product(k): v for k, v in dict(costs or {}).items()}
        self.variables = {}

    def __contains__(self, product):
        return product in self.costs

    def __bool__(self):
        return bool(self.costs)

    def prepare(self, n, periods, owner):
        """Check and normalise the costs to (n, T) arrays."""
        for product, value in list(self.costs.items()):
            param = f"offers[{product.name}]"
            cost = unit_or_profile(value, n, periods, owner=owner, param=param)
            check_nonnegative(cost, owner=owner, param=param)
            self.costs[product] = cost

    def build(self, name, n, T):
        """Create one nonnegative variable (n, T) per offered product."""
        self.variables = {
            p: cp.Variable((n, T), nonneg=True, name=f"{name}_{p.name}_mw") for p in self.costs
        }

    def held_mw(self, direction):
        """Sum of the offered products in ``direction``, expression (n, T) or 0."""
        chosen = [v for p, v in self.variables.items() if p.direction == direction]
        return sum(chosen[1:], chosen[0]) if chosen else 0.0

    def up_mw(self):
        return self.held_mw(Direction.UP)

    def down_mw(self):
        return self.held_mw(Direction.DOWN)

    def total_mw(self, product):
        """What all units provide of ``product``, expression (T,), or None if not offered."""
        if product not in self.variables:
            return None
        return cp.sum(self.variables[product], axis=0)

    def cost_terms(self, ctx):
        """``{"reserves": sum_t w_t * cost * capacity}`` over all offered products."""
        if not self.variables:
            return {}
        terms = [ctx.weighted_sum(cp.multiply(self.costs[p], v)) for p, v in self.variables.items()]
        return {"reserves": sum(terms[1:], terms[0])}

    def results(self):
        """``{"<product>_mw": values (n, T)}`` for every offered product."""
        return {f"{p.name}_mw": np.asarray(v.value) for p, v in self.variables.items()}
