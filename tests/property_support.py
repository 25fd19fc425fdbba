"""What the property tests (hypothesis, ``tests/test_properties*.py``) share: their settings and
tolerance, a one-bus net and the float strategies. A helper module, not a test file (pytest's
``pythonpath`` puts ``tests/`` on the import path)."""

import copy
import functools

import pandapower as pp
from hypothesis import settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)
TOL = 1e-6


@functools.cache
def _one_bus_template():
    net = pp.create_empty_network()
    pp.create_bus(net, 20.0)
    return net


def one_bus():
    """A fresh net with one 20 kV bus (a copy: pandapower takes ~0.3 s to create an empty net,
    a copy ~0.03 s)."""
    return copy.deepcopy(_one_bus_template())


def positive(low, high):
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def profile(n, low, high):
    return st.lists(positive(low, high), min_size=n, max_size=n)
