"""Roles of decision variables (kept apart from the devices so that problems and formulations can
import it without importing every device)."""

import enum


class Role(enum.Enum):
    """What a decision variable stands for: how a study may fix, relax or split it."""

    OPERATION = "operation"  # per period: power, energy, products
    COMMITMENT = "commitment"  # binaries per period: on/off, modes
    INVESTMENT = "investment"  # build decisions, shared by all periods
