"""Result folders written whole or not at all.

``gridflex run`` writes into a hidden staging folder beside the target
(``.<name>.partial-<pid>``) and renames it onto the target only when everything is written: a
failed or killed run leaves the previous result untouched and no partial result under the
target's name, and no file of an earlier run survives into a new one. A run stopped by SIGINT
or SIGTERM removes its staging folder on the way out; one killed outright (SIGKILL, a power
cut) leaves it until the next run into the same target removes it (staging folders of live
runs are left alone; liveness is judged by process id on this machine). The two renames of
:func:`publish` run with SIGINT and SIGTERM held back; should a run still die between them, the
next run puts the previous folder back first. Python runs a signal handler between bytecodes,
so a stop signal waits for a solver call in C to return. Problems with the target (a file in
the way, a folder that cannot be written) are found before anything is solved.
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
    restore_orphan(out)
    remove_stale(parent, PARTIAL.format(name=out.name))
    staging = parent / (PARTIAL.format(name=out.name) + str(os.getpid()))
    try:
        staging.mkdir()
        (staging / ".write-test").write_text("")
        (staging / ".write-test").unlink()
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise InputError(f"--out {out}: cannot write into {parent} ({exc.strerror})") from None
    return staging


def remove_stale(parent, prefix):
    """Remove the staging folders ``parent/<prefix><pid>`` whose process is gone (a run killed
    outright); a live run's folder is left alone."""
    for stale in parent.glob(prefix + "*"):
        pid = stale.name[len(prefix) :].split("-")[0]  # <pid> or <pid>-<token>
        if not (pid.isdigit() and _alive(int(pid))):
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid):
    if pid == os.getpid():
        return True  # this process cleans up its own (another thread may be writing)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class TerminateAsExit:
    """Within ``with``, SIGTERM raises :class:`SystemExit` (143) as SIGINT raises
    :class:`KeyboardInterrupt`, so a run told to stop cleans its staging folder up; only the
    main thread can install it (elsewhere it does nothing)."""

    def __enter__(self):
        import signal
        import threading

        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, _exit_143)
        return self

    def __exit__(self, *exc):
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
        return False


def _exit_143(signum, frame):
    raise SystemExit(128 + signum)


def publish(staging, out):
    """Replace ``out`` by the complete ``staging`` folder (a rename; the old folder, if any,
    is moved aside first and removed after), with SIGINT and SIGTERM held back meanwhile."""
    out = Path(out)
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    with _signals_held():
        if out.exists():
            os.replace(out, old)
        os.replace(staging, out)
    shutil.rmtree(old, ignore_errors=True)


def restore_orphan(out):
    """Put back a previous folder that a run killed inside :func:`publish` left moved aside
    (``out`` missing, ``.<name>.old-<pid>`` of a dead process present)."""
    out = Path(out)
    prefix = f".{out.name}.old-"
    for old in sorted(out.parent.glob(prefix + "*")):
        pid = old.name[len(prefix) :]
        if pid.isdigit() and _alive(int(pid)):
            continue
        if not out.exists():
            os.replace(old, out)
        else:
            shutil.rmtree(old, ignore_errors=True)


class _signals_held:
    """Hold SIGINT and SIGTERM back (delivered on exit) where the platform allows it."""

    def __enter__(self):
        import signal

        self.mask = getattr(signal, "pthread_sigmask", None)
        if self.mask is not None:
            self.previous = self.mask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        return self

    def __exit__(self, *exc):
        import signal

        if self.mask is not None:
            self.mask(signal.SIG_SETMASK, self.previous)
        return False


def discard(staging):
    shutil.rmtree(staging, ignore_errors=True)
