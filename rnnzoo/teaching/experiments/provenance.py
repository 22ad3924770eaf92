"""What made a run: the code (rnnzoo's git commit, and whether its files had uncommitted
changes), the machine (platform, CPU) and the numerical stack (Python, NumPy and the BLAS
NumPy calls). Each run asks in the process that trains it (a worker of this machine or a
cluster's), and the store keeps the answer beside the run (``made_with``), so a result can
say where its numbers came from: the last digits of float32 training differ between CPUs
and BLAS builds.

A field that cannot be found is None, never guessed: rnnzoo installed from a wheel has no
commit, and a machine without threadpoolctl names no BLAS. Runs stored before this was
recorded have no ``made_with`` at all, and what reads them says "not recorded".
"""
from __future__ import annotations

import functools
import importlib.metadata
import pathlib
import platform
import subprocess

import numpy as np

PACKAGE = pathlib.Path(__file__).resolve().parents[2]      # rnnzoo/


def made_with() -> dict:
    """The code, machine and numerical stack of this process, as plain JSON data:
    ``commit`` (rnnzoo's git commit, or None outside a git checkout of it), ``dirty``
    (uncommitted changes to the package's files, tracked or new; None without a
    commit), ``rnnzoo``, ``python``, ``numpy``, ``blas`` (None where threadpoolctl cannot
    say), ``platform`` and ``cpu``. The commit is asked of git at each call (a notebook may
    commit between two comparisons); the rest once per process."""
    commit, dirty = _git_state(PACKAGE)
    return {"commit": commit, "dirty": dirty, **_static()}


@functools.lru_cache(maxsize=None)
def _static() -> dict:
    # the installed distribution's version: importing the facade (rnnzoo/__init__) from a
    # wing would close an import circle (tests/test_layout.py)
    try:
        __version__ = importlib.metadata.version("rnnzoo")
    except importlib.metadata.PackageNotFoundError:      # run from a checkout, not installed
        __version__ = None
    from ...benchmark.scan import cpu_name          # the name the speed tables use too
    return {"rnnzoo": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "blas": _blas(), "platform": platform.platform(),
            "cpu": cpu_name()}


def _git_state(package) -> tuple:
    """(commit, dirty) of the git checkout ``package`` is tracked in, else (None, None):
    a package installed into a virtual environment inside some other repository is not
    that repository's code, so the package's own ``__init__.py`` must be tracked there."""
    def git(*args):
        return subprocess.run(["git", "-C", str(package), *args], capture_output=True,
                              text=True, timeout=30, check=True).stdout
    try:
        git("ls-files", "--error-unmatch", "__init__.py")
        commit = git("rev-parse", "HEAD").strip()
        dirty = bool(git("status", "--porcelain", "--", ".").strip())
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit or None, dirty


def _blas():
    """"openblas 0.3.27 (haswell)" for the BLAS NumPy loaded, or None where
    threadpoolctl is missing or does not name one."""
    try:
        from threadpoolctl import threadpool_info
        found = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    except Exception:  # not installed, or an unexpected report: nothing is guessed
        return None
    mine = [p for p in found if "numpy" in p.get("filepath", "")] or found
    if not mine:
        return None
    p = mine[0]
    arch = f" ({p['architecture']})" if p.get("architecture") else ""
    return f"{p.get('internal_api', 'blas')} {p.get('version') or '(version unknown)'}{arch}"


def describe(env) -> str:
    """One line of ``made_with``'s dict: 'commit 1a2b3c4 (uncommitted changes), Python
    3.12.3, NumPy 2.1.3 (openblas 0.3.27 (haswell)), Linux-..., AMD EPYC 7B13'; None: 'not
    recorded'."""
    if env is None:
        return "not recorded"
    commit = env.get("commit")
    code = ("no git commit (rnnzoo " + str(env.get("rnnzoo")) + ")" if not commit else
            f"commit {commit[:10]}" + (" (uncommitted changes)" if env.get("dirty") else ""))
    blas = f" ({env['blas']})" if env.get("blas") else ""
    return (f"{code}, Python {env.get('python')}, NumPy {env.get('numpy')}{blas}, "
            f"{env.get('platform')}, {env.get('cpu')}")

