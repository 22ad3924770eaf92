"""How fast is each form of the linear scan, and the cells built on it?

    python -m rnnzoo bench --scan              # every table; writes figures/speed/scan.md
    python -m rnnzoo bench --scan cells dynamics   # these tables (the others are kept)
    python -m rnnzoo.benchmark.scan --dynamics # print one table, write nothing

Tables (:data:`TABLE_ORDER`):

- ``forms``: forward + backward of :func:`rnnzoo.core.scan.linear_scan` in each mode,
  at T = 256, 1024, 4096, B = 16, H = 128, a per step (T, B, H), positive inputs (so the
  log form applies), float32 and float64, wall time.
- ``cells``: mingru, minlstm, gru and lstm; ``revival``: lru, s4d (both modes) and s6
  against gru; ``memories``: slstm, mlstm, deltanet and gated_deltanet (4 heads) against
  lstm and gru; ``dynamics``: antisymmetric, lipschitz, cornn, unicornn and lmu against
  rnn and gru. Forward + backward at T = 1024, B = 16, D = H = 128, float32, defaults,
  each beside its own matrix products alone (:mod:`.gemms`), CPU time.
- ``scaling``: the matrix memories with each of T, B, heads and d doubled alone.

Each table is one run in one process with one BLAS thread (threadpoolctl), best of
``--repeat`` with the contenders taking turns (:func:`.timing.time_interleaved`), so a
change in the machine's load hits them alike. Compare ratios within a table, not
milliseconds across tables, runs or machines. Not a test: nothing here asserts a speed.
The committed run is ``figures/speed/scan.md`` (its numbers, ``scan.json``), and the
README's speed sentences are read back from it (tests/test_readme_numbers.py).

What the tables cannot show by themselves:

- **minGRU and minLSTM are not 5x faster** than gru and lstm at D = H: besides the scan
  they keep three whole-sequence GEMMs (projection, dW, dx; 3.2 GFLOP for mingru, 4.8
  for minlstm, against gru's 9.7 and lstm's 12.9), and their elementwise work (the
  gates, the scan forward and backward) takes about as long again (compare the ms and
  GEMMs ms columns). gru's time over mingru's GEMMs alone is the most that removing all
  of that elementwise work could buy.
- **s6's matrix products are the smallest** of the revival cells; its cost is
  elementwise work on (T, B, H, N) = 33.5 M numbers a tensor (Ā, the write, the states,
  the reverse scan, dL/d(Δ A)), memory-bound, so it moves most with the machine's load
  (two runs minutes apart on a busy machine once gave 1.1x and 2.5x gru). Mamba's CUDA
  kernel keeps those tensors in on-chip memory; NumPy cannot.
- **s4d's two modes**: its state is H N = 4096 complex numbers per sequence against the
  LRU's 128, so its recurrent mode streams (T, B, H, N) arrays of 0.5 GB through about
  fifteen elementwise passes; the convolution mode stores none (FFTs of (H, B, F), F
  about 2T: ``s4d.fft_length``, and batched GEMMs), and what remains in T steps is the
  reverse recurrence for
  ``grads.dh_norm`` (‖dL/dx_t‖ over B H N numbers per step).
- **The matrix memories'** GEMMs are about gru's; the rest is their per-step
  (B, heads, d, d) work, O(T B H d) with d = H / heads, and at one head (d = 128) it is
  2 to 4 times more (their docstrings). deltanet keeps S_0..S_T (268 MB here) and
  gated_deltanet the same: part of their CPU time is the kernel's, mapping fresh memory
  for each call (``resource.getrusage`` gave one deltanet call 0.7 s of system time
  beside 0.6 s of user time), and that part moves with what ran before in the process:
  deltanet measured 470 ms beside gated_deltanet alone and about twice that in the whole
  ``memories`` table, on the same machine within minutes.
- **Their cost in T, B, heads and d** (``scaling``) is linear in T, as the recurrent
  forms are meant to be (mlstm's O(T²) parallel form is an option, never the default);
  B and heads cost less than 2x and d less than the 4x that O(T B H d) predicts because
  at these sizes a step's fixed NumPy overhead is still a large part of it.
- **The dynamical-systems cells** are an Elman step plus elementwise terms (unicornn not
  even the H x H product), so they cost about what the rnn does, far less than the gru.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np

from ..core import scan
from ..core.registry import make
from ..core.validation import (ArgumentTypeError, check_choice, check_int, check_seed,
                               describe)
from .gemms import gemm_runner, trace_gemms
from .timing import (blas_threads, cell_runner, check_cells, check_dtype, inputs,
                     time_interleaved)

SCAN_T = (256, 1024, 4096)
SCAN_B, SCAN_H = 16, 128
SCAN_FORMS = ("loop", "doubling", "log")
CELLS = ("mingru", "minlstm", "gru", "lstm")
# the linear and state-space cells, gru the yardstick
REVIVAL = ("lru", "s4d", "s4d (recurrent)", "s6", "gru")
# the exponential gates and matrix memories (issue 23) at 4 heads of d = 32, their natural
# shape (one head at H = 128 makes each memory 128 x 128), and sLSTM dense as the LSTM
# (fastweights has its own benchmark, rnnzoo.benchmark.fast_memory: at this T its default
# runs the history form, quadratic in T)
MEMORIES = ("slstm", "mlstm (4 heads)", "deltanet (4 heads)", "gated_deltanet (4 heads)",
            "lstm", "gru")
# the recurrences designed as dynamical systems (issue 24), at their defaults
DYNAMICS = ("antisymmetric", "lipschitz", "cornn", "unicornn", "lmu", "rnn", "gru")
VARIANTS = {"s4d (recurrent)": ("s4d", {"mode": "recurrent"}),      # label: (cell, options)
            **{f"{c} (4 heads)": (c, {"heads": 4}) for c in ("mlstm", "deltanet",
                                                              "gated_deltanet")}}
TABLES = {"revival": REVIVAL, "memories": MEMORIES, "dynamics": DYNAMICS}
CELL_SHAPE = (1024, 16, 128)                 # T, B, D = H


def scan_runner(a, b, h0, dh, mode):
    """One forward and one backward of the scan in ``mode``."""
    def run():
        h = scan.linear_scan(a, b, h0, mode)
        scan.linear_scan_backward(a, h, h0, dh, mode)
    return run


def time_forms(T, dtype, repeat=5, B=SCAN_B, H=SCAN_H, seed=0):
    """{form: best seconds} of forward + backward at one T and dtype."""
    w = "time_forms"
    T, B, H = (check_int(v, n, minimum=1, where=w) for v, n in ((T, "T"), (B, "B"), (H, "H")))
    dtype = check_dtype(dtype, w)
    rng = np.random.default_rng(check_seed(seed, where=w))
    a = rng.uniform(0.5, 0.99, (T, B, H)).astype(dtype)
    b = rng.uniform(0.1, 1.0, (T, B, H)).astype(dtype)
    h0 = rng.uniform(0.1, 1.0, (B, H)).astype(dtype)
    dh = rng.standard_normal((T, B, H)).astype(dtype)
    return time_interleaved({m: scan_runner(a, b, h0, dh, m) for m in SCAN_FORMS},
                            repeats=repeat)


def time_cells(cells=CELLS, shape=CELL_SHAPE, dtype="float32", repeat=5, seed=0,
               clock="wall"):
    """{cell: best seconds} of forward + backward at T, B, D = H = ``shape``, and
    {cell: best seconds} of its matrix products alone (:mod:`.gemms`), all taking turns
    (``clock``: :func:`.timing.time_interleaved`'s)."""
    w = "time_cells"
    if (isinstance(cells, str) or not isinstance(cells, (list, tuple))
            or not all(isinstance(c, str) for c in cells)):
        raise ArgumentTypeError(f"{w}: cells must be a list of cell names (or labels of "
                                f"VARIANTS); got {describe(cells)}")
    check_cells([VARIANTS.get(c, (c,))[0] for c in cells], w)
    if not isinstance(shape, (tuple, list)) or len(shape) != 3:
        raise ArgumentTypeError(f"{w}: shape must be (T, B, H); got {describe(shape)}")
    T, B, H = (check_int(v, f"shape's {n}", minimum=1, where=w) for v, n in zip(shape, "TBH"))
    dtype = check_dtype(dtype, w)
    runs = {}
    for name in cells:
        cell_name, options = VARIANTS.get(name, (name, {}))
        cell = make(cell_name, H, H, seed=seed, dtype=np.dtype(dtype), **options)
        x, dhs = inputs(T, B, H, cell.output_size, dtype, seed)
        runs[name] = cell_runner(cell, x, dhs)
        runs[f"{name} GEMMs"] = gemm_runner(trace_gemms(cell, x, dhs))
    best = time_interleaved(runs, repeats=repeat, clock=clock)
    return {n: best[n] for n in cells}, {n: best[f"{n} GEMMs"] for n in cells}


# the matrix memories' cost in T, B, heads and d (H = heads d; D fixed, so the input
# projections grow with H only linearly): from this base, each doubled alone
SCALING_CELLS = ("mlstm", "deltanet", "gated_deltanet")
SCALING_BASE = {"T": 256, "B": 8, "heads": 2, "d": 32}
SCALING_D = 64
# what O(T B heads d^2) = O(T B H d), the memory's work a step, predicts for each doubling
SCALING_PREDICTED = {"T": 2, "B": 2, "heads": 2, "d": 4}


def time_scaling(cells=SCALING_CELLS, base=SCALING_BASE, repeat=3, seed=0):
    """{(cell, what): best CPU seconds of forward + backward} at ``base`` ("base") and with
    each of T, B, heads, d doubled alone, float32, every run taking turns."""
    w = "time_scaling"
    cells = check_cells(cells, w)
    if not isinstance(base, dict) or sorted(base) != sorted(SCALING_BASE):
        raise ArgumentTypeError(f"{w}: base must be a dict of the sizes "
                                f"{list(SCALING_BASE)}; got {describe(base)}")
    base = {k: check_int(base[k], f"base[{k!r}]", minimum=1, where=w) for k in SCALING_BASE}
    runs = {}
    for name in cells:
        for what in ("base",) + tuple(base):
            size = {**base, **({what: 2 * base[what]} if what != "base" else {})}
            H = size["heads"] * size["d"]
            cell = make(name, SCALING_D, H, seed=seed, dtype=np.float32, heads=size["heads"])
            x, dhs = inputs(size["T"], size["B"], SCALING_D, cell.output_size, "float32", seed)
            runs[(name, what)] = cell_runner(cell, x, dhs)
    return time_interleaved(runs, repeats=repeat, clock="cpu")


# every table this module measures, in the order the report shows them
TABLE_ORDER = ("forms", "cells", *TABLES, "scaling")


def measure(table, repeat=5) -> dict:
    """One table's numbers, measured in one run (the contenders taking turns, so their
    ratios are comparable; the caller holds BLAS to one thread): ``{"clock", "ms"}``, plus
    ``"gemm_ms"`` for the tables of cells. ``ms`` is {dtype: {T: {form: ms}}} for
    "forms", {cell: {size doubled: ms}} for "scaling", else {cell: ms}."""
    if table == "forms":
        return {"clock": "wall", "ms": {
            dtype: {str(T): {m: 1e3 * s for m, s in time_forms(T, dtype, repeat).items()}
                    for T in SCAN_T} for dtype in ("float32", "float64")}}
    if table == "scaling":
        best = time_scaling(repeat=repeat)
        return {"clock": "cpu", "ms": {c: {w: 1e3 * best[(c, w)] for w in ("base", *SCALING_BASE)}
                                       for c in SCALING_CELLS}}
    cells = {"cells": CELLS, **TABLES}.get(check_choice(table, "table", TABLE_ORDER,
                                                        where="measure"))
    best, gemm = time_cells(cells, repeat=repeat, clock="cpu")
    return {"clock": "cpu", "ms": {n: 1e3 * s for n, s in best.items()},
            "gemm_ms": {n: 1e3 * s for n, s in gemm.items()}}


def render(table, data) -> str:
    """``data`` (what :func:`measure` returned for ``table``) as a markdown table under
    its caption."""
    ms = data["ms"]
    if table == "forms":
        lines = [f"forward + backward of the scan alone, B = {SCAN_B}, H = {SCAN_H}, a (T, B, "
                 f"H), {data['clock']} time:", "",
                 "| dtype | T | " + " | ".join(f"{m} ms" for m in SCAN_FORMS)
                 + " | doubling / loop | log / loop |", "|---" * (4 + len(SCAN_FORMS)) + "|"]
        for dtype, by_T in ms.items():
            for T, best in by_T.items():
                lines.append(f"| {dtype} | {T} | "
                             + " | ".join(f"{best[m]:.1f}" for m in SCAN_FORMS)
                             + f" | {best['doubling'] / best['loop']:.1f}x | "
                             f"{best['log'] / best['loop']:.1f}x |")
        return "\n".join(lines)
    if table == "scaling":
        base = ", ".join(f"{k} = {v}" for k, v in SCALING_BASE.items())
        lines = [f"the matrix memories' cost: time with one size doubled / time at {base} "
                 f"(D = {SCALING_D}, float32, CPU time); O(T B H d) predicts "
                 + ", ".join(f"{k} {v}x" for k, v in SCALING_PREDICTED.items()) + ":", "",
                 "| cell | base ms | " + " | ".join(f"2 {k}" for k in SCALING_BASE) + " |",
                 "|---" * (2 + len(SCALING_BASE)) + "|"]
        for name, by in ms.items():
            lines.append(f"| {name} | {by['base']:.1f} | " + " | ".join(
                f"{by[k] / by['base']:.2f}x" for k in SCALING_BASE) + " |")
        return "\n".join(lines)
    T, B, H = CELL_SHAPE
    gemm = data["gemm_ms"]
    lines = [f"forward + backward, T = {T}, B = {B}, D = H = {H}, float32, defaults, "
             f"{data['clock']} time (GEMMs: the cell's matrix products alone):", ""]
    if table == "cells":
        lines += ["| cell | ms | GEMMs ms | gru / cell | lstm / cell |", "|---|---|---|---|---|"]
        lines += [f"| {n} | {ms[n]:.1f} | {gemm[n]:.1f} | {ms['gru'] / ms[n]:.1f}x | "
                  f"{ms['lstm'] / ms[n]:.1f}x |" for n in ms]
    else:
        lines += ["| cell | ms | GEMMs ms | cell / gru | gru / cell |", "|---|---|---|---|---|"]
        lines += [f"| {n} | {ms[n]:.1f} | {gemm[n]:.1f} | {ms[n] / ms['gru']:.2f}x | "
                  f"{ms['gru'] / ms[n]:.2f}x |" for n in ms]
    return "\n".join(lines)


def header(repeat) -> str:
    """What a table was measured with and on: the library, the threads, the machine and
    its load at the start, the day."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"numpy {np.__version__}, {blas_threads()} BLAS thread(s), best of {repeat}; "
            f"{cpu_name()}, {os.cpu_count()} CPUs, load average {load:.1f} at the start; "
            f"{time.strftime('%Y-%m-%d', time.gmtime())}")


def cpu_name() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo), else what :mod:`platform` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def report(tables) -> str:
    """The markdown of ``tables`` ({table: {"header", "seconds", "clock", "ms", ...}}, as
    scan.json holds them) in :data:`TABLE_ORDER`, each under its own header."""
    parts = ["# The scan and the cells built on it", "",
             "Written by `python -m rnnzoo bench --scan` (one table: `python -m rnnzoo bench "
             "--scan TABLE`); do not edit. Each table is one run, its contenders taking turns "
             "in one process with one BLAS thread: compare ratios within a table, not "
             "milliseconds across tables or machines.", ""]
    for name in TABLE_ORDER:
        if name in tables:
            t = tables[name]
            parts += [f"## {name}", "", f"{t['header']}; {t['seconds']:.0f} s", "",
                      render(name, t), ""]
    return "\n".join(parts)


def measure_tables(names, repeat=5, progress=print) -> dict:
    """{table: its numbers with "header" and "seconds"} for each of ``names``, one after
    the other, BLAS held to one thread; ``progress`` gets each table's markdown when it
    is done (None: nothing is shown)."""
    from threadpoolctl import threadpool_limits
    w = "measure_tables"
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise ArgumentTypeError(f"{w}: names must be a list of tables among "
                                f"{', '.join(TABLE_ORDER)}; got {describe(names)}")
    names = [check_choice(n, "names' table", TABLE_ORDER, where=w) for n in names]
    if not names:
        raise ValueError(f"{w}: names must name at least one table among "
                         f"{', '.join(TABLE_ORDER)}; got {describe(names)}")
    repeat = check_int(repeat, "repeat", minimum=1, where=w)
    if progress is not None and not callable(progress):
        raise ArgumentTypeError(f"{w}: progress must be None or a function of a str (e.g. "
                                f"print); got {describe(progress)}")
    progress = progress or (lambda text: None)
    out = {}
    with threadpool_limits(1):                       # one BLAS thread (the cells' GEMMs)
        for name in names:
            start, head = time.perf_counter(), header(repeat)
            data = measure(name, repeat)
            out[name] = {"header": head, "seconds": time.perf_counter() - start, **data}
            progress(f"{name}: {head}\n\n{render(name, data)}\n")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m rnnzoo.benchmark.scan", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--forms", action="store_true", help="only the scan's forms")
    p.add_argument("--cells", action="store_true", help="only the cells")
    p.add_argument("--revival", action="store_true", help="only lru, s4d and s6 against gru")
    p.add_argument("--memories", action="store_true",
                   help="only slstm, mlstm, deltanet, gated_deltanet against lstm and gru, "
                        "and their cost in T, B, heads and d")
    p.add_argument("--dynamics", action="store_true", help="only antisymmetric, lipschitz, "
                   "cornn, unicornn and lmu against rnn and gru")
    p.add_argument("--repeat", type=int, default=5, help="best of this many (default 5)")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error(f"--repeat must be >= 1; got {args.repeat}")
    chosen = [t for t in ("forms", "cells", *TABLES) if getattr(args, t)]
    if args.memories:
        chosen.append("scaling")
    measure_tables(chosen or TABLE_ORDER, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
