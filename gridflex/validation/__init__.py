"""AC validation: the optimized dispatch checked against AC power flow in pandapower."""

from gridflex.validation.ac import ACReport, validate_ac

__all__ = ["ACReport", "validate_ac"]
