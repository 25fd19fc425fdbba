"""Exceptions raised by gridflex.

Every error names what is wrong (device, bus, parameter, period) so the user can fix the input
without reading gridflex's source.
"""


class GridflexError(Exception):
    """Base class of all gridflex errors."""


class InputError(GridflexError, ValueError):
    """Bad input, detected before any solve (wrong bus, bad profile, inconsistent limits)."""


class SolveError(GridflexError, RuntimeError):
    """The solver did not return an optimal solution; no numbers are returned.

    Attributes
    ----------
    status : str
        The cvxpy status string (``"infeasible"``, ``"unbounded"``, ``"optimal_inaccurate"``, ...).
    solver : str
        The solver that was used.
    diagnosis : pandas.DataFrame or None
        For an infeasible model solved by :meth:`gridflex.Model.solve`: the constraints an
        elastic re-solve had to violate (:func:`gridflex.diagnosis.diagnose`), largest first.
    """

    def __init__(self, message, status=None, solver=None, diagnosis=None):
        super().__init__(message)
        self.status = status
        self.solver = solver
        self.diagnosis = diagnosis


class SolverNotInstalledError(GridflexError, RuntimeError):
    """The requested solver is not installed; the message lists the installed ones."""
