"""How fast is each form of the linear scan, and the cells built on it?

    python -m rnnzoo.benchmark.scan            # the scan's forms, then the cells
    python -m rnnzoo.benchmark.scan --forms    # only the forms
    python -m rnnzoo.benchmark.scan --cells    # only mingru/minlstm against gru/lstm
    python -m rnnzoo.benchmark.scan --revival  # only the revival cells (lru, s4d, s6) against gru
    python -m rnnzoo.benchmark.scan --memories # slstm, mlstm, deltanet, gated_deltanet
    python -m rnnzoo.benchmark.scan --dynamics # antisymmetric, lipschitz, cornn, unicornn, lmu

Forms: forward + backward of :func:`rnnzoo.core.scan.linear_scan` in each mode, at
T = 256, 1024, 4096, B = 16, H = 128, a per step (T, B, H), positive inputs (so the
log form applies), float32 and float64. Cells: forward + backward of mingru, minlstm,
gru and lstm at T = 1024, B = 16, D = H = 128, float32. Everything in one process with
one BLAS thread (threadpoolctl), best of ``--repeat`` with the contenders taking turns
(:func:`.timing.time_interleaved`), so a change in the machine's load hits them alike;
the cells count this process's CPU time (``clock="cpu"``), not wall time.
Compare ratios within one run, not seconds across runs. Not a test: nothing here asserts
a speed.

One run on a 2-core machine shared with other work (numpy 2.4, load average about 2.7),
ms: mingru 306 (its GEMMs alone 203), minlstm 450 (252), gru 714 (533), lstm 1094 (822):
mingru 2.3x faster than gru, minlstm 2.4x faster than lstm (an earlier run of the same
code: 2.5x and 2.7x). Not the 5x the issue hoped for, and 5x cannot come from dropping the
recurrent product alone at D = H: the minimal cells keep three whole-sequence GEMMs
(projection, dW, dx; 3.2 GFLOP for mingru, 4.8 for minlstm) against gru's 9.7 and
lstm's 12.9, so even with free elementwise work the bound is gru / mingru-GEMMs = 3.5x
and lstm / minlstm-GEMMs = 4.3x here.

``--revival``: lru, s4d (both modes) and s6 at their defaults against gru, CPU time.
S6: two runs minutes apart on the same machine (load average about 5, other programs
streaming memory), ms:
lru 595 / 553 (GEMMs 433 / 401), s6 1867 / 819 (GEMMs 114 / 93), gru 736 / 718 (549 /
531). s6's matrix products are the smallest of the three; its cost is elementwise work
on (T, B, H, N) = 33.5 M numbers a tensor (Ā, the write, the states, the reverse scan,
dL/d(Δ A)), memory-bound, so it moves most with the machine's load: 1.1x to 2.5x gru
here. (Mamba's CUDA kernel keeps those tensors in on-chip memory; NumPy cannot.)

S4D, measured with the cells (``--repeat 3``, CPU time, load average about 4), ms:
mingru 316, minlstm 482, lru 510, s4d 986 (convolution mode, its GEMMs alone 39),
s4d recurrent 5434, gru 781, lstm 1143. S4D's state is H N = 4096 complex numbers per
sequence against the LRU's 128, so its recurrent mode streams (T, B, H, N) arrays of
0.5 GB through about fifteen elementwise passes; the convolution mode stores none (FFTs
of (H, B, 2T) and batched GEMMs), and what remains in T steps is the reverse recurrence
for ``grads.dh_norm`` (‖dL/dx_t‖ over B H N numbers per step: 0.26 s, timed apart).

``--memories`` and ``--dynamics`` (one run, load average 1.6 to 3 from other programs,
CPU time, ms, cell / gru): slstm 980 (1.83x), mlstm 4 heads 1026 (1.92x), deltanet 4
heads 1105 (2.07x), gated_deltanet 4 heads 920 (1.72x), lstm 787 (1.47x), gru 535;
antisymmetric 185 (0.37x), lipschitz 239 (0.47x), cornn 272 (0.54x), unicornn 209
(0.41x), lmu 233 (0.46x), rnn 174 (0.34x), gru 507. The matrix memories' GEMMs are
gru's (about 340 ms); the rest is their per-step (B, heads, d, d) work, O(T B H d) with
d = H / heads, and at one head (d = 128) it is 2 to 4 times more (their docstrings). The
dynamical-systems cells are an Elman step plus elementwise terms (unicornn not even the
H x H product), so they cost about what the rnn does.

The matrix memories' cost in T, B, H and d (``--memories``'s second table; each size
doubled alone from T = 256, B = 8, heads = 2, d = 32, D = 64, H = heads d, quiet machine,
time / base): mlstm 2.01x (T), 1.62x (B), 1.64x (heads), 2.29x (d); deltanet 2.08x,
1.66x, 1.73x, 2.67x; gated_deltanet 2.05x, 1.67x, 1.66x, 2.50x. Linear in T, as the
recurrent forms are meant to be (mlstm's O(T²) parallel form is an option, never the
default); B and heads cost less than 2x and d less than the 4x that O(T B H d) predicts
because at these sizes a step's fixed NumPy overhead is still a large part of it.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from ..core import scan
from ..core.registry import make
from .gemms import gemm_runner, trace_gemms
from .timing import blas_threads, cell_runner, inputs, time_interleaved

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
    rng = np.random.default_rng(seed)
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
    T, B, H = shape
    runs = {}
    for name in cells:
        cell_name, options = VARIANTS.get(name, (name, {}))
        cell = make(cell_name, H, H, seed=seed, dtype=np.dtype(dtype), **options)
        x, dhs = inputs(T, B, H, cell.output_size, dtype, seed)
        runs[name] = cell_runner(cell, x, dhs)
        runs[f"{name} GEMMs"] = gemm_runner(trace_gemms(cell, x, dhs))
    best = time_interleaved(runs, repeats=repeat, clock=clock)
    return {n: best[n] for n in cells}, {n: best[f"{n} GEMMs"] for n in cells}


def print_forms_table(repeat=5):
    """The forms' table, a row as soon as it is measured."""
    print(f"forward + backward, B = {SCAN_B}, H = {SCAN_H}, a (T, B, H):\n\n| dtype | T | "
          + " | ".join(f"{m} ms" for m in SCAN_FORMS) + " | doubling / loop | log / loop |\n"
          + "|---" * (4 + len(SCAN_FORMS)) + "|", flush=True)
    for dtype in ("float32", "float64"):
        for T in SCAN_T:
            best = time_forms(T, dtype, repeat)
            ms = " | ".join(f"{1e3 * best[m]:.1f}" for m in SCAN_FORMS)
            print(f"| {dtype} | {T} | {ms} | {best['doubling'] / best['loop']:.1f}x | "
                  f"{best['log'] / best['loop']:.1f}x |", flush=True)


def cells_table(repeat=5):
    best, gemm = time_cells(repeat=repeat, clock="cpu")
    T, B, H = CELL_SHAPE
    lines = [f"forward + backward, T = {T}, B = {B}, D = H = {H}, float32 (GEMMs: the cell's "
             f"matrix products alone):", "",
             "| cell | ms | GEMMs ms | gru / cell | lstm / cell |",
             "|---|---|---|---|---|"]
    for name in CELLS:
        lines.append(f"| {name} | {1e3 * best[name]:.1f} | {1e3 * gemm[name]:.1f} | "
                     f"{best['gru'] / best[name]:.1f}x | {best['lstm'] / best[name]:.1f}x |")
    return "\n".join(lines)


def revival_table(repeat=5, cells=REVIVAL):
    """``cells`` (default: lru, s4d in both modes and s6 at their defaults: N = H for lru,
    32 complex modes for s4d, N = 16 for s6; or :data:`MEMORIES`, :data:`DYNAMICS`)
    against gru, one run, in CPU time (the caller holds BLAS to one thread)."""
    best, gemm = time_cells(cells, repeat=repeat, clock="cpu")
    T, B, H = CELL_SHAPE
    lines = [f"forward + backward, T = {T}, B = {B}, D = H = {H}, float32, defaults, CPU "
             f"time:", "",
             "| cell | ms | GEMMs ms | cell / gru |", "|---|---|---|---|"]
    for name in cells:
        lines.append(f"| {name} | {1e3 * best[name]:.1f} | {1e3 * gemm[name]:.1f} | "
                     f"{best[name] / best['gru']:.2f}x |")
    return "\n".join(lines)


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
    runs = {}
    for name in cells:
        for what in ("base",) + tuple(base):
            size = {**base, **({what: 2 * base[what]} if what != "base" else {})}
            H = size["heads"] * size["d"]
            cell = make(name, SCALING_D, H, seed=seed, dtype=np.float32, heads=size["heads"])
            x, dhs = inputs(size["T"], size["B"], SCALING_D, cell.output_size, "float32", seed)
            runs[(name, what)] = cell_runner(cell, x, dhs)
    return time_interleaved(runs, repeats=repeat, clock="cpu")


def scaling_table(repeat=3):
    best = time_scaling(repeat=repeat)
    base = ", ".join(f"{k} = {v}" for k, v in SCALING_BASE.items())
    lines = [f"the matrix memories' cost: time with one size doubled / time at {base} "
             f"(D = {SCALING_D}, float32, CPU time); O(T B H d) predicts "
             + ", ".join(f"{k} {v}x" for k, v in SCALING_PREDICTED.items()) + ":", "",
             "| cell | base ms | " + " | ".join(f"2 {k}" for k in SCALING_BASE) + " |",
             "|---" * (2 + len(SCALING_BASE)) + "|"]
    for name in SCALING_CELLS:
        b = best[(name, "base")]
        lines.append(f"| {name} | {1e3 * b:.1f} | " + " | ".join(
            f"{best[(name, k)] / b:.2f}x" for k in SCALING_BASE) + " |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m rnnzoo.benchmark.scan", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--forms", action="store_true", help="only the scan's forms")
    p.add_argument("--cells", action="store_true", help="only the cells")
    p.add_argument("--revival", action="store_true", help="only lru, s4d and s6 against gru")
    p.add_argument("--memories", action="store_true",
                   help="only slstm, mlstm, deltanet, gated_deltanet against lstm and gru")
    p.add_argument("--dynamics", action="store_true", help="only antisymmetric, lipschitz, "
                   "cornn, unicornn and lmu against rnn and gru")
    p.add_argument("--repeat", type=int, default=5, help="best of this many (default 5)")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error(f"--repeat must be >= 1; got {args.repeat}")
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):                       # one BLAS thread (the cells' GEMMs)
        _measure(args)
    return 0


def _measure(args):
    both = not (args.forms or args.cells or any(getattr(args, t) for t in TABLES))
    print(f"numpy {np.__version__}, {blas_threads()} BLAS thread, best of {args.repeat}, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    if args.forms or both:
        print_forms_table(args.repeat)
        print()
    if args.cells or both:
        print(cells_table(args.repeat))
    for table, cells in TABLES.items():
        if getattr(args, table) or both:
            print()
            print(revival_table(args.repeat, cells))
    if args.memories or both:
        print()
        print(scaling_table(args.repeat))


if __name__ == "__main__":
    sys.exit(main())
