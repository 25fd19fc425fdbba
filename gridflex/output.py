"""Result folders written whole or not at all.

``gridflex run`` writes into a hidden staging folder beside the target
(``.<name>.partial-<pid>``) and renames it onto the target only when everything is written: a
failed or killed run leaves the previous result untouched and no partial result under the
target's name, and no file of an earlier run survives into a new one. Problems with the target
(a file in the way, a folder that cannot be written) are found before anything is solved.
"""

import os
import shutil
from pathlib import Path

from gridflex.errors import InputError

PARTIAL = ".{name}.partial-"


def staging_folder(out):
    """A fresh staging folder for the result folder ``out`` (stale ones of killed runs are
    removed first); raises :class:`InputError` when ``out`` cannot be written."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file, not a folder")
    parent = out.parent if str(out.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot create its parent folder ({exc.strerror})") from None
    for stale in parent.glob(PARTIAL.format(name=out.name) + "*"):
        shutil.rmtree(stale, ignore_errors=True)
    staging = parent / (PARTIAL.format(name=out.name) + str(os.getpid()))
    try:
        staging.mkdir()
        (staging / ".write-test").write_text("")
        (staging / ".write-test").unlink()
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise InputError(f"--out {out}: cannot write into {parent} ({exc.strerror})") from None
    return staging


def publish(staging, out):
    """Replace ``out`` by the complete ``staging`` folder (a rename; the old folder, if any,
    is moved aside first and removed after)."""
    out = Path(out)
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    os.replace(staging, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def discard(staging):
    shutil.rmtree(staging, ignore_errors=True)
