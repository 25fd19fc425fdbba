"""Copper plate: one balance per period, no network."""

import cvxpy as cp

from gridflex.formulations.base import Formulation, NetworkBuild


class CopperPlate(Formulation):
    """All buses merged: ``sum_b p_inj[b, t] = 0`` for every period ``t``.

    The balance dual is the system price, the same at every bus.
    """

    def build(self, grid, p_inj, T, q_inj=None, time=None):
        balance = cp.sum(-p_inj, axis=0) == 0
        return NetworkBuild(constraints=[balance], balance=balance)
