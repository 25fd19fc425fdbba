"""Declared parameters: each parameter of a device declared once, checked by one validator.

A device class declares its parameters as class attributes::

    class Storage(Device):
        e_mwh = Number("MWh", low=0, doc="energy capacity")
        exclusive_modes = Flag(doc="binaries forbid charging and discharging at once")

A declaration is a descriptor. ``device.e_mwh`` is the value given (numbers as read-only
float arrays); assigning it screens the value at once (type, NaN, infinities, range) and bumps
the device's :attr:`Declared.revision`, so every model holding the device rebuilds at its next
solve. Before a build, :meth:`Param.normalize` brings each value to its shape against the
model (scalar, one per unit ``(n,)``, one per unit and period ``(n, T)``). Every error names
the owner (device), the parameter, its unit, the bad value and where it sits (unit, period).

Assigning an attribute that is not declared raises ``AttributeError``: a misspelt parameter is
never silently ignored. The scenario loader (:mod:`gridflex.scenario`) and the docs
(:func:`parameter_table`) read the same declarations.
"""

import enum
import inspect
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd

from gridflex.errors import InputError
from gridflex.profiles import unit_or_profile, unit_values

LARGEST = 1e15
"""Largest magnitude a finite number may have: beyond it solvers lose all precision (the issue
was ``e_mwh=1e30`` ending in a raw solver error); infinities mean "no limit" where allowed."""


class Shape(enum.Enum):
    """How many values a parameter holds."""

    SCALAR = "scalar"
    UNIT = "per unit"
    PROFILE = "per unit and period"


class Param:
    """Base of all declarations: a data descriptor that screens what is assigned.

    Parameters
    ----------
    unit : str
        Physical unit (``"MW"``, ``"MWh"``, ``"$/MWh"``, ``"1"`` for a share, ``"-"``).
    shape : Shape
    optional : bool
        ``None`` is accepted (the device documents what it stands for).
    doc : str
        One line for the docs table.
    """

    type_name = "object"

    def __init__(self, unit="-", shape=Shape.SCALAR, *, optional=False, resolvable=False, doc=""):
        self.unit, self.shape, self.optional, self.doc = unit, shape, optional, doc
        self.resolvable = resolvable  # the device builds it as a cvxpy Parameter (re-solvable)
        self.name = None

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        try:
            return obj._values[self.name]
        except KeyError:
            raise AttributeError(f"{obj.owner}: parameter '{self.name}' is not set") from None

    def __set__(self, obj, value):
        if value is None and not self.optional:
            raise self.error(obj.owner, "is required", value)
        screened = value if value is None else self.screen(value, obj.owner)
        obj._values[self.name] = screened
        obj._touch()

    # --- what subclasses implement -------------------------------------------------------------
    def screen(self, value, owner):
        """Check what can be checked without the model; return the value to store."""
        return value

    def normalize(self, value, owner, n, periods):
        """The value as the model uses it (shaped against ``n`` units and the periods)."""
        return value

    # --- shared -------------------------------------------------------------------------------
    @property
    def range_text(self):
        return ""

    def label(self):
        return f"'{self.name}'" if self.unit in ("-", "") else f"'{self.name}' ({self.unit})"

    def error(self, owner, problem, value, where=""):
        shown = _show(value)
        where = f" for {where}" if where else ""
        return InputError(f"{owner}: parameter {self.label()} {problem}, got {shown}{where}")


class Number(Param):
    """Real numbers: a scalar, one per unit or one per unit and period.

    Parameters
    ----------
    low, high : float
        Allowed range (closed unless ``low_open`` / ``high_open``).
    allow_inf : bool or float
        Infinities mean "no limit" and are accepted (outside the range check): ``True`` both,
        ``math.inf`` only ``+inf`` (an upper limit), ``-math.inf`` only ``-inf``.
    """

    type_name = "number"

    def __init__(
        self, unit="-", shape=Shape.UNIT, *, low=-math.inf, high=math.inf, low_open=False,
        high_open=False, allow_inf=False, optional=False, resolvable=False, doc="",
    ):  # fmt: skip
        super().__init__(unit, shape, optional=optional, resolvable=resolvable, doc=doc)
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open
        self.allow_inf = allow_inf

    @property
    def range_text(self):
        if self.low == -math.inf and self.high == math.inf:
            return ""
        if self.high == math.inf:
            return f"> {_num(self.low)}" if self.low_open else f">= {_num(self.low)}"
        if self.low == -math.inf:
            return f"< {_num(self.high)}" if self.high_open else f"<= {_num(self.high)}"
        left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
        return f"in {left}{_num(self.low)}, {_num(self.high)}{right}"

    def screen(self, value, owner):
        arr = self._array(value, owner)
        if self.shape is not Shape.PROFILE or arr.ndim != 1:  # 1-D profiles: at normalize,
            self._check_values(arr, owner)  # where the periods tell unit from period
        arr = np.array(arr, dtype=float)
        arr.flags.writeable = False  # edit by assignment, so that models see the change
        if isinstance(value, pd.Series | pd.DataFrame):  # read-only too, index kept
            return _read_only_frame(value, arr)
        return float(arr) if arr.ndim == 0 else arr

    def _array(self, value, owner):
        if self.shape is Shape.SCALAR and np.ndim(value) != 0:
            raise self.error(owner, "must be one number", value)
        if isinstance(value, pd.Series | pd.DataFrame):
            value = value.to_numpy()
        if isinstance(value, bool | np.bool_ | str | bytes) or holds_bool(value):
            raise self.error(owner, "must be a number (True/False are not numbers)", value)
        try:
            arr = np.asarray(value)
        except ValueError:  # ragged nested lists
            raise self.error(owner, f"must be {self._what()} (not ragged)", value) from None
        if arr.dtype.kind not in "iuf":
            raise self.error(owner, f"must be {self._what()}", value)
        return arr.astype(float)

    def _what(self):
        return "a number" if self.shape is Shape.SCALAR else "a number or an array of numbers"

    def _check_values(self, arr, owner, periods=None):
        bad = np.isnan(arr) | (np.isinf(arr) & ~self._inf_ok(arr))
        if bad.any():
            idx = tuple(np.argwhere(bad)[0])
            problem = "must not be NaN" if np.isnan(arr[idx]) else "must be finite"
            if np.isinf(arr[idx]) and self.allow_inf is not False:
                problem += f" or {_num(self.allow_inf)} (no limit)"
            raise self.error(owner, problem, arr[idx], _position(idx, arr.ndim, periods))
        huge = np.isfinite(arr) & (np.abs(arr) > LARGEST)
        if huge.any():
            idx = tuple(np.argwhere(huge)[0])
            problem = f"must not exceed {LARGEST:g} in magnitude (rescale, or use inf for no limit)"
            raise self.error(owner, problem, arr[idx], _position(idx, arr.ndim, periods))
        finite = np.where(np.isinf(arr), np.nan, arr)
        with np.errstate(invalid="ignore"):
            below = finite <= self.low if self.low_open else finite < self.low
            above = finite >= self.high if self.high_open else finite > self.high
        out = below | above
        if out.any():
            idx = tuple(np.argwhere(out)[0])
            where = _position(idx, arr.ndim, periods)
            verb = "lie" if self.range_text.startswith("in") else "be"
            raise self.error(owner, f"must {verb} {self.range_text}", arr[idx], where)

    def _inf_ok(self, arr):
        if self.allow_inf is True:
            return np.ones(arr.shape, dtype=bool)
        if not self.allow_inf:
            return np.zeros(arr.shape, dtype=bool)
        return arr == self.allow_inf

    def normalize(self, value, owner, n, periods):
        if value is None:
            return None
        param = self.name
        if self.shape is Shape.SCALAR:
            return float(value)
        if self.shape is Shape.UNIT:
            return unit_values(value, n, owner=owner, param=param)
        arr = unit_or_profile(value, n, periods, owner=owner, param=param, allow_inf=True)
        self._check_values(arr, owner, periods)
        return arr


class Integer(Number):
    """Whole numbers (counts, indices), with the checks of :class:`Number`."""

    type_name = "integer"

    def screen(self, value, owner):
        stored = super().screen(value, owner)
        arr = np.asarray(stored, dtype=float)
        fractional = np.isfinite(arr) & (arr != np.round(arr))
        if fractional.any():
            idx = tuple(np.argwhere(fractional)[0])
            raise self.error(owner, "must be a whole number", arr[idx])
        return stored


class Flag(Param):
    """A boolean switch: a real ``True``/``False`` (or one per unit); ``"false"`` is refused."""

    type_name = "boolean"

    def __init__(self, shape=Shape.SCALAR, *, doc=""):
        super().__init__("-", shape, doc=doc)

    def screen(self, value, owner):
        arr = np.asarray(value)
        if arr.dtype.kind != "b" or (self.shape is Shape.SCALAR and arr.ndim):
            many = " (or one per unit)" if self.shape is Shape.UNIT else ""
            raise self.error(owner, f"must be True or False{many}", value)
        if arr.ndim == 0:
            return bool(arr)
        arr = arr.copy()
        arr.flags.writeable = False
        return arr

    def normalize(self, value, owner, n, periods):
        if self.shape is Shape.SCALAR:
            return bool(value)
        return unit_values(np.asarray(value, dtype=float), n, owner=owner, param=self.name) > 0.5


class Choice(Param):
    """One of a fixed set of values (compared by type and value, so ``1`` is not ``True``)."""

    type_name = "choice"

    def __init__(self, choices, *, doc=""):
        super().__init__("-", Shape.SCALAR, doc=doc)
        self.choices = tuple(choices)

    @property
    def range_text(self):
        return "one of " + ", ".join(repr(c) for c in self.choices)

    def screen(self, value, owner):
        if not any(type(value) is type(c) and value == c for c in self.choices):
            raise self.error(owner, f"must be {self.range_text}", value)
        return value


class Text(Param):
    """A name (a network's, a zone's)."""

    type_name = "text"

    def screen(self, value, owner):
        if not isinstance(value, str) or not value:
            raise self.error(owner, "must be a non-empty string", value)
        return value


class Buses(Param):
    """pandapower bus indices, one per unit: they fix the number of units ``n``."""

    type_name = "bus indices"

    def __init__(self, *, doc="pandapower bus index of each unit"):
        super().__init__("-", Shape.UNIT, doc=doc)

    def screen(self, value, owner):
        arr = np.atleast_1d(np.asarray(value))
        if isinstance(value, bool | np.bool_) or arr.dtype.kind not in "iu" or arr.ndim != 1:
            whole = arr.dtype.kind == "f" and np.all(np.isfinite(arr) & (arr == np.round(arr)))
            if whole and arr.ndim == 1:
                arr = arr.astype(int)
            else:
                raise self.error(owner, "must be one bus index or a non-empty list of them", value)
        if len(arr) == 0:
            raise self.error(owner, "must be one bus index or a non-empty list of them", value)
        arr = arr.astype(int)
        arr.flags.writeable = False
        return arr


class Custom(Param):
    """A structured value checked by the functions given (offers, segments, device lists).

    Parameters
    ----------
    screen, normalize : callable, optional
        ``screen(value, owner, param) -> value`` and ``normalize(value, owner, param, n,
        periods) -> value``; raise :class:`InputError` for bad values.
    type_name : str
        How the docs name the type.
    """

    def __init__(self, type_name, screen=None, normalize=None, *, shape=Shape.SCALAR,
                 unit="-", optional=False, doc=""):  # fmt: skip
        super().__init__(unit, shape, optional=optional, doc=doc)
        self.type_name, self._screen, self._normalize = type_name, screen, normalize

    def screen(self, value, owner):
        if self._screen is None:
            return value
        try:
            return self._screen(value, owner, self)
        except InputError:
            raise
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise self.error(owner, f"is not a valid {self.type_name} ({exc})", value) from None

    def normalize(self, value, owner, n, periods):
        if value is None or self._normalize is None:
            return value
        return self._normalize(value, owner, self, n, periods)


# --- the owner side -----------------------------------------------------------------------------
class Declared:
    """Base of objects with declared parameters (devices, system constraints).

    Subclasses list structural attributes that are not parameters in ``_attributes``; every
    other public attribute must be a declared :class:`Param` (or a property with a setter).
    """

    _attributes = frozenset({"name"})

    def __setattr__(self, key, value):
        if key.startswith("_"):
            object.__setattr__(self, key, value)
            return
        declared = getattr(type(self), key, None)
        settable = isinstance(declared, Param) or getattr(declared, "fset", None) is not None
        if not settable and key not in self._attributes:
            known = ", ".join(declared_parameters(type(self)))
            raise AttributeError(
                f"{self.owner}: '{key}' is not a parameter of {type(self).__name__} "
                f"(parameters: {known})"
            )
        object.__setattr__(self, key, value)
        if not isinstance(declared, Param):
            self._touch()

    def _touch(self):
        object.__setattr__(self, "_revision", self.__dict__.get("_revision", 0) + 1)

    @property
    def revision(self):
        """Counts the edits of this object's parameters; models rebuild when it changes."""
        return self.__dict__.get("_revision", 0)

    @property
    def owner(self):
        name = self.__dict__.get("name")
        return f"{type(self).__name__} '{name}'" if name is not None else type(self).__name__

    def _assign(self, params):
        """Set the declared parameters from a constructor's arguments (``locals()``)."""
        object.__setattr__(self, "_values", {})
        for key in declared_parameters(type(self)):
            if key in params:
                setattr(self, key, params[key])

    def parameter_values(self, n, periods):
        """Every declared parameter normalized for ``n`` units and the periods: a namespace."""
        out = Values()
        labels = getattr(self, "unit_labels", None)
        for key, param in declared_parameters(type(self)).items():
            value = self._values.get(key)
            if isinstance(value, pd.DataFrame) and labels is not None:
                value = by_unit_label(value, labels, self.owner, key)
            setattr(out, key, param.normalize(value, self.owner, n, periods))
        return out


def by_unit_label(frame, labels, owner, key):
    """``frame``'s columns in the order of the units' ``labels`` when its columns are those
    labels in any order; unchanged when none of its columns is a label (columns by position);
    an error naming the columns when only some are."""
    names = [str(c) for c in frame.columns]
    wanted = [str(label) for label in labels]
    known = [c for c in names if c in wanted]
    if not known:
        return frame
    if sorted(names) != sorted(wanted) or len(set(names)) != len(names):
        other = [c for c in names if c not in wanted] or sorted(set(wanted) - set(names))
        raise InputError(
            f"{owner}: profile '{key}' has columns named like units, but not exactly one per "
            f"unit: {other[:5]} (units: {wanted[:10]})"
        )
    return frame.iloc[:, [names.index(label) for label in wanted]]


class Values(SimpleNamespace):
    """A device's checked values (``build.values``). While a model builds, it records which
    values the device reads directly (:meth:`recording`): those are constants of the problem,
    so changing them needs a rebuild; values read only through the build's cvxpy Parameters
    (:meth:`gridflex.devices.base.DeviceBuild.parameter`) are re-solvable."""

    def __getattribute__(self, key):
        if not key.startswith("_") and key not in ("recording", "items"):
            reads = object.__getattribute__(self, "__dict__").get("_reads")
            if reads is not None:
                reads.add(key)
        return object.__getattribute__(self, key)

    def recording(self, on):
        """Start (``True``) or stop recording reads; returns the keys read so far."""
        reads = self.__dict__.get("_reads") or set()
        self.__dict__["_reads"] = set(reads) if on else None
        return frozenset(reads)

    def items(self):
        """``(key, value)`` of every value (not the recorder)."""
        return [(k, v) for k, v in self.__dict__.items() if not k.startswith("_")]


def declared_parameters(cls):
    """``{name: Param}`` of a class, base classes first; overridden names are dropped."""
    found = {}
    for klass in reversed(cls.__mro__):
        for key, attr in vars(klass).items():
            if isinstance(attr, Param):
                found[key] = attr
            elif key in found:
                del found[key]  # a subclass replaced the parameter (e.g. by a property)
    return found


def constructor_defaults(cls):
    """``{parameter: default}`` from the class's ``__init__`` (``inspect.Parameter.empty`` if
    required); the default lives in the signature, the rest of the declaration on the class."""
    params = inspect.signature(cls.__init__).parameters
    return {k: p.default for k, p in params.items() if k != "self"}


def parameter_table(cls):
    """The declared parameters of ``cls`` as a DataFrame (name, type, unit, shape, range,
    default, description): what the docs pages show and the scenario loader accepts."""
    defaults = constructor_defaults(cls)
    rows = []
    for key, p in declared_parameters(cls).items():
        if key not in defaults:
            continue  # derived (e.g. a Boundary's bus), not given by the user
        default = defaults[key]
        rows.append(
            {
                "parameter": key,
                "type": p.type_name,
                "unit": p.unit,
                "shape": p.shape.value,
                "allowed": _allowed(p),
                "default": "required" if default is inspect.Parameter.empty else repr(default),
                "re-solvable": "yes" if p.resolvable else "",
                "description": p.doc,
            }
        )
    return pd.DataFrame(rows)


def _allowed(p):
    text = p.range_text
    allow = getattr(p, "allow_inf", False)
    if allow is not False:
        infinity = "±inf" if allow is True else ("inf" if allow > 0 else "-inf")
        text = (text + "; " if text else "") + f"{infinity}: no limit"
    if p.optional:
        text = (text + "; " if text else "") + "None"
    return text


def markdown_table(frame):
    """A DataFrame as a Markdown table (no extra dependency)."""
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        cells = [str(c).replace("|", "\\|") for c in row]
        lines.append(
            "| " + " | ".join(f"`{c}`" if i == 0 else c for i, c in enumerate(cells)) + " |"
        )
    return "\n".join(lines)


def holds_bool(value):
    """True for lists, tuples and object arrays that hold a boolean anywhere."""
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "b" or (
            value.dtype.kind == "O" and any(holds_bool(v) for v in value.ravel())
        )
    if isinstance(value, list | tuple):
        return any(isinstance(v, bool | np.bool_) or holds_bool(v) for v in value)
    return isinstance(value, bool | np.bool_)


def _read_only_frame(value, arr):
    """A copy of a Series/DataFrame over the read-only array ``arr`` (same index)."""
    if isinstance(value, pd.Series):
        return pd.Series(arr, index=value.index.copy(), name=value.name, copy=False)
    return pd.DataFrame(arr, index=value.index.copy(), columns=value.columns.copy(), copy=False)


# --- messages -----------------------------------------------------------------------------------
def _num(x):
    return f"{x:g}"


def _show(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray) and value.size > 6:
        return f"an array of shape {value.shape}"
    if isinstance(value, list | tuple) and len(value) > 6:
        return f"a {type(value).__name__} of {len(value)} items"
    text = repr(value)
    kind = type(value).__name__
    return (
        text if isinstance(value, float | int) and kind in ("float", "int") else f"{text} ({kind})"
    )


def _position(idx, ndim, periods=None):
    if ndim == 0:
        return ""
    if ndim == 1:
        return f"unit {idx[0]}"
    label = f" ({periods[idx[1]]})" if periods is not None else ""
    return f"unit {idx[0]}, period {idx[1]}{label}"
