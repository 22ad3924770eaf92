"""The fair comparison: every measurement in its own fresh process, the libraries
alternating, the median ratio over several pairs with its spread.

Timing rnnzoo and torch in one process flatters rnnzoo: torch's OpenMP threads and
NumPy's OpenBLAS threads then compete for the same cores. Here each measurement is one
run of :mod:`.worker` in a new interpreter. For each pair, the rnnzoo and torch runs of
the same cell, shape and mode follow each other directly (rnnzoo first in even pairs,
torch first in odd ones), so a slow spell on the machine hits both; the pairs are whole
passes over every measurement, so they are spread over the run.
"""
from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from ..core.validation import (ArgumentTypeError, check_bool, check_choice, check_int,
                               check_distinct, check_optional, describe)
from ..core.registry import make
from .timing import CLOCKS, MODES, TORCH_COUNTERPART, check_cells, check_dtype

SHAPES = ((100, 64, 256), (100, 32, 128), (1000, 16, 128))     # (T, B, H), D = H
_ROOT = str(Path(__file__).resolve().parents[2])                # the folder holding rnnzoo/


def torch_installed() -> bool:
    """True when ``import torch`` would work (asked without importing it here)."""
    return importlib.util.find_spec("torch") is not None


def run_worker(spec: dict, timeout=600, threads=None) -> dict:
    """Run one measurement in a fresh Python process and return what it printed;
    ``threads`` sets OMP_NUM_THREADS and OPENBLAS_NUM_THREADS there (None: the
    libraries' defaults, as a new user gets them)."""
    env = dict(os.environ)
    if threads is not None:
        env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = str(threads)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, "-m", "rnnzoo.benchmark.worker", json.dumps(spec)],
                          capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        # the worker's last line is its exception (its traceback stays in the worker)
        last = next((line for line in reversed(proc.stderr.splitlines()) if line.strip()),
                    f"exit status {proc.returncode}")
        shape = "/".join(str(spec.get(k)) for k in ("T", "B", "H"))
        raise RuntimeError(f"the benchmark worker timing {spec.get('lib')} "
                           f"{spec.get('cell')} at T/B/H = {shape} ({spec.get('mode')}) "
                           f"failed: {last}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def spread(values) -> dict:
    """Median, min and max of a list of numbers (None for an empty list)."""
    values = list(values)
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _check_builds(cells, shapes, dtype, where):
    """Build every cell at every shape's sizes (D = H) once, here: a size a cell refuses
    (eurnn at H = 1) is an error now, not a worker's traceback after minutes of measuring."""
    for name in cells:
        for H in sorted({s[2] for s in shapes}):
            try:
                make(name, H, H, dtype=dtype)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{where}: {name} cannot be timed at H = {H} (a shape's "
                                 f"last number; D = H): {exc}") from None


def fair_benchmark(cells, shapes=SHAPES, modes=MODES, pairs=3, repeat=7, dtype="float32",
                   with_torch=None, threads=None, clock="wall", progress=None) -> list:
    """Time every (cell, shape, mode) ``pairs`` times, each in a fresh process.

    ``with_torch`` None means: when torch is installed. Returns one dict per
    (shape, mode, cell) with T, B, D, H, mode, dtype, pairs, rnnzoo_ms and torch_ms
    (medians), ratio (rnnzoo/torch, per pair, as :func:`spread`; None without torch or
    a counterpart) and vs_gemm (cell time over its matrix products alone, per pair).
    """
    w = "fair_benchmark"
    cells = check_cells(cells, w)
    if isinstance(shapes, (str, bytes)) or not isinstance(shapes, (list, tuple)) or not all(
            isinstance(s, (list, tuple)) and len(s) == 3 for s in shapes) or not shapes:
        raise ArgumentTypeError(f"{w}: shapes must be a non-empty list of (T, B, H) "
                                f"triples; got {describe(shapes)}")
    shapes = [tuple(check_int(v, f"shapes[{k}]'s {n}", minimum=1, where=w)
                    for v, n in zip(s, "TBH")) for k, s in enumerate(shapes)]
    if isinstance(modes, str) or not isinstance(modes, (list, tuple)) or not modes:
        raise ArgumentTypeError(f"{w}: modes must be a non-empty list of modes among "
                                f"{', '.join(MODES)}; got {describe(modes)}")
    modes = [check_choice(m, "modes' mode", MODES, where=w) for m in modes]
    for name, values in (("cells", cells), ("shapes", shapes), ("modes", modes)):
        # a repeated one would be timed twice per pair, its row given twice the pairs
        check_distinct(values, name, w)
    pairs = check_int(pairs, "pairs", minimum=1, where=w)
    repeat = check_int(repeat, "repeat", minimum=1, where=w)
    dtype = check_dtype(dtype, w)
    with_torch = check_optional(check_bool, with_torch, "with_torch", where=w)
    threads = check_optional(check_int, threads, "threads", minimum=1, where=w)
    clock = check_choice(clock, "clock", CLOCKS, where=w)
    if progress is not None and not callable(progress):
        raise ArgumentTypeError(f"{w}: progress must be None or a function (done, total, "
                                f"cell, shape, mode); got {describe(progress)}")
    with_torch = torch_installed() if with_torch is None else with_torch
    _check_builds(cells, shapes, dtype, w)
    keys = [(shape, mode, name) for shape in shapes for mode in modes for name in cells]
    runs = {k: [] for k in keys}
    total, done = pairs * len(keys), 0
    for p in range(pairs):
        for (T, B, H), mode, name in keys:
            base = {"cell": name, "T": T, "B": B, "D": H, "H": H, "mode": mode,
                    "dtype": dtype, "repeat": repeat, "clock": clock}
            libs = ["rnnzoo"] + (["torch"] if with_torch and name in TORCH_COUNTERPART else [])
            result = {}
            for lib in (libs if p % 2 == 0 else libs[::-1]):
                result.update(run_worker({"lib": lib, **base}, threads=threads))
            runs[((T, B, H), mode, name)].append(result)
            done += 1
            if progress:
                progress(done, total, name, (T, B, H), mode)
    rows = []
    for (T, B, H), mode, name in keys:
        got = runs[((T, B, H), mode, name)]
        torch_pairs = [r for r in got if "torch_s" in r]
        rows.append({"cell": name, "T": T, "B": B, "D": H, "H": H, "mode": mode,
                     "dtype": dtype, "pairs": len(got),
                     "rnnzoo_ms": 1e3 * statistics.median(r["cell_s"] for r in got),
                     "gemm_ms": 1e3 * statistics.median(r["gemm_s"] for r in got),
                     "torch_ms": (1e3 * statistics.median(r["torch_s"] for r in torch_pairs)
                                  if torch_pairs else None),
                     "ratio": spread(r["cell_s"] / r["torch_s"] for r in torch_pairs),
                     "vs_gemm": spread(r["cell_s"] / r["gemm_s"] for r in got)})
    return rows
