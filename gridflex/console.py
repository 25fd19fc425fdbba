"""What gridflex prints: the ``gridflex`` logger, progress bars, and summaries as aligned tables.

* :func:`setup_logging` gives the ``gridflex`` logger one handler on stderr; ``gridflex -q``
  shows only errors, ``-v`` also debug messages (and the solvers' own output).
* :func:`progress` wraps long loops (studies with several solves, AC validation period by
  period) in a tqdm bar on stderr; bars are off when stderr is not a terminal or in quiet mode.
* :func:`table` and :func:`ac_verdict` turn figures into lines of at most :data:`WIDTH`
  characters, labels and units aligned, amounts with their currency.
"""

import logging
import sys

WIDTH = 100
"""Console lines are at most this long."""

CURRENCY = "$"
"""How costs are labelled on the console (gridflex adds costs in the inputs' currency)."""

logger = logging.getLogger("gridflex")
_state = {"progress": True}


def setup_logging(verbosity=0):
    """``verbosity`` -1 (quiet: errors only), 0 (info) or 1 (debug); returns the logger."""
    level = {-1: logging.ERROR, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    logger.setLevel(level)
    ours = [h for h in logger.handlers if getattr(h, "_gridflex", False)]
    if ours:
        ours[0].stream = sys.stderr  # the current one (redirected? the old may be closed)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._gridflex = True
        logger.addHandler(handler)
    logger.propagate = False
    _state["progress"] = verbosity >= 0
    return logger


def progress(iterable, description, total=None):
    """``iterable`` with a progress bar on stderr (tqdm), when it helps: stderr is a terminal
    and the console is not quiet."""
    from tqdm.auto import tqdm

    show = _state["progress"] and sys.stderr.isatty()
    return tqdm(iterable, desc=description, total=total, disable=not show, leave=False,
                file=sys.stderr, ncols=WIDTH, unit="step")  # fmt: skip


def number(value, digits=2):
    """``1,234,567.89``; ``n/a`` for None or NaN."""
    if value is None or value != value:
        return "n/a"
    return f"{value:,.{digits}f}"


def table(title, rows, unit="", digits=2):
    """A titled block of ``label  value unit`` lines, labels padded to one width.

    ``rows``: ``{label: value}`` (numbers formatted with :func:`number`, text as is)."""
    if not rows:
        return []
    width = min(max(len(str(k)) for k in rows) + 2, 40)
    lines = [title]
    for label, value in rows.items():
        text = number(value, digits) if isinstance(value, int | float) else str(value)
        lines.append(_fit(f"  {label!s:<{width}}{text:>16}{' ' + unit if unit else ''}"))
    return lines


def field(label, value, width=18):
    """``label  value``, the label padded (never glued to the value); a long value continues
    on indented lines, broken after '; ' or ', ' where it can be."""
    label = f"{label} " if len(label) >= width else label
    head, room = f"{label:<{width}}", WIDTH - max(width, len(label) + 1)
    text, lines = str(value), []
    while len(text) > room:
        cut = max(text.rfind("; ", 0, room), text.rfind(", ", 0, room))
        cut = cut + 2 if cut > 0 else room
        lines.append(text[:cut].rstrip())
        text = text[cut:]
    lines.append(text)
    indent = " " * len(head)
    return "\n".join([head + lines[0], *(indent + rest for rest in lines[1:])])


def ac_verdict(figures):
    """The AC validation in one sentence, e.g. '96/96 periods converge; 21 overloads up to
    107.9 % in 14 of 96 periods; voltages within limits (0.951-1.05 pu)'."""
    f = figures
    parts = [f"{f['converged']}/{f['periods']} periods converge"]
    kinds = f.get("violations_by_kind") or {}
    overloads = int(kinds.get("overload", 0))
    if overloads:
        where = f.get("periods_with_overload")
        where = f" in {where} of {f['periods']} periods" if where is not None else ""
        parts.append(
            f"{overloads} overload{'s' if overloads != 1 else ''} up to "
            f"{number(f.get('max_loading_percent'), 1)} %{where}"
        )
    else:
        parts.append("no overloads")
    voltage = sum(int(v) for k, v in kinds.items() if k.startswith("vm_"))
    band = f"{number(f.get('vm_min_pu'), 3)}-{number(f.get('vm_max_pu'), 3)} pu"
    parts.append(
        f"{voltage} voltage violations ({band})" if voltage else f"voltages within limits ({band})"
    )
    return "; ".join(parts)


def _fit(line):
    return line if len(line) <= WIDTH else line[: WIDTH - 3] + "..."
