"""Write the parameter tables of the device docs pages from the declarations.

``python -m gridflex.docgen`` rewrites, in every page of ``docs/devices/``, the block between
``<!-- parameters: ClassName -->`` and ``<!-- end parameters -->`` with
:func:`gridflex.parameters.parameter_table` of that class, so the docs and the validator read
one declaration. ``tests/test_parameters.py`` fails when a page is out of date.
"""

import re
import sys
from pathlib import Path

from gridflex.devices.base import Device
from gridflex.parameters import markdown_table, parameter_table

BLOCK = re.compile(r"(<!-- parameters: (\w+) -->\n).*?(<!-- end parameters -->)", re.S)


def render(text):
    """``text`` with every parameter block regenerated."""

    def table(match):
        cls = Device.registry[match.group(2)]
        return f"{match.group(1)}{markdown_table(parameter_table(cls))}\n{match.group(3)}"

    return BLOCK.sub(table, text)


def main(folder="docs/devices"):
    changed = []
    for page in sorted(Path(folder).glob("*.md")):
        text = page.read_text()
        new = render(text)
        if new != text:
            page.write_text(new)
            changed.append(page.name)
    print("updated:", ", ".join(changed) if changed else "nothing (all up to date)")


if __name__ == "__main__":
    main(*sys.argv[1:])
