"""Helpers shared by the benchmark scripts: the case's load shape, child processes, memory,
the machine and its package versions, and formatting.

Every timed run happens in a fresh child process: the script runs itself with ``--worker ARGS``
(:func:`run_child`), the child prints one ``RESULT {json}`` line (:func:`print_result`), and the
child's own peak RSS (:func:`peak_rss_gb`) covers that one run only.
"""

import json
import os
import platform
import subprocess
import sys
import time

STORAGE_BUSES = [9, 25, 58, 79, 99]  # the five batteries of both benchmarks
BINDING_PCT = 99.9  # a branch "binds" when its loading reaches this in some period
VERSION_PACKAGES = [
    "gridflex",
    "cvxpy",
    "highspy",
    "clarabel",
    "pypsa",
    "linopy",
    "pandapower",
    "pandas",
    "numpy",
    "scipy",
    "xarray",
]
RESULT_PREFIX = "RESULT "


def load_profile(T, level=1.0):
    """level x (0.85 + 0.15 sin over 24 h): minimum at 03:00, peak (= level) at 15:00, repeated."""
    import numpy as np

    hour = np.arange(T) % 24
    return level * (0.85 + 0.15 * np.sin(2 * np.pi * (hour - 9) / 24))


# --------------------------------------------------------------------------- child processes
def print_result(res):
    """The child's answer to :func:`run_child`: one ``RESULT {json}`` line on stdout."""
    print(RESULT_PREFIX + json.dumps(res), flush=True)


def run_child(script, args, timeout):
    """Run ``script --worker ARGS`` in a fresh interpreter; return (dict or None, wall_s, error)."""
    cmd = [sys.executable, os.path.abspath(script), "--worker", *map(str, args)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - t0, f"timeout after {timeout:.0f} s"
    wall = time.perf_counter() - t0
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :]), wall, None
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return None, wall, f"child exit {proc.returncode}: {' | '.join(tail)}"


# --------------------------------------------------------------------------- memory and CPU
def peak_rss_gb():
    """Peak resident set size of this process so far, GB (``ru_maxrss`` is in KB on Linux)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def rss_gb():
    """Current resident set size of this process, GB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024**2
    return float("nan")


def cpu_s():
    """User + system CPU seconds of this process so far (all threads)."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def quiet():
    """Silence library logging and warnings in a child (they would go to its captured stderr)."""
    import logging
    import warnings

    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")


# --------------------------------------------------------------------------- the machine
def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "?"


def ram_gb():
    with open("/proc/meminfo") as f:
        return round(int(f.readline().split()[1]) / 1024**2, 1)  # MemTotal, KB


def package_versions(packages=VERSION_PACKAGES):
    """Installed versions (from the package metadata, nothing is imported); '?' if missing."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for p in packages:
        try:
            versions[p] = version(p)
        except PackageNotFoundError:
            versions[p] = "?"
    return versions


def machine_info():
    """nproc, CPU model, RAM, Python, load average and the versions of VERSION_PACKAGES."""
    return dict(
        nproc=os.cpu_count(),
        cpu=cpu_model(),
        ram_gb=ram_gb(),
        python=platform.python_version(),
        loadavg=os.getloadavg(),
        **package_versions(),
    )


def print_machine(info):
    print("machine:", json.dumps(info))
    print("NOTE: other processes may share this machine; timings can be noisy.\n", flush=True)


# --------------------------------------------------------------------------- formatting
def fmt(x, spec=".2f"):
    return "-" if x is None else format(x, spec)


def write_json(path, **content):
    if path:
        with open(path, "w") as f:
            json.dump(content, f, indent=1)
