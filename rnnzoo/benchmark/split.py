"""Does a step's elementwise work pay to split over two cores?
``python -m rnnzoo.benchmark.split``

NumPy runs each elementwise call on one core; only the matrix products use BLAS's
threads. A cell could split its batch in two and run each half's elementwise work in its
own thread (NumPy releases the GIL inside ufunc loops). The best case for that is
measured here: a "step" of ``ops`` in-place elementwise calls (tanh, multiply, add, the
mix a gated step makes) on a (B, H) float32 array, done

- by one thread on all B rows, or
- by two threads on B/2 rows each, with one hand-off per step (a barrier), which is the
  least synchronization a split step needs: the next step's matrix product needs both
  halves.

Printed: microseconds per step each way, and split / single (below 1: the split pays).
"""
from __future__ import annotations

import argparse
import threading
import time

import numpy as np

from ..core.validation import ArgumentTypeError, check_int, describe

SIZES = ((64, 256), (32, 128), (16, 128), (64, 1024), (256, 1024))


def _step(a, b, ops):
    """``ops`` in-place elementwise calls on a: the mix of a gated cell's step."""
    for k in range(ops):
        if k % 3 == 0:
            np.tanh(a, out=a)
        elif k % 3 == 1:
            np.multiply(a, b, out=a)
        else:
            np.add(a, b, out=a)


def _check(B, H, ops, steps, where, min_B=1):
    """The sizes and counts, checked before any thread starts (a bad ``steps`` in
    split_seconds' second thread killed it and left the first waiting at the barrier)."""
    return (check_int(B, "B", minimum=min_B, where=where),
            check_int(H, "H", minimum=1, where=where),
            check_int(ops, "ops", minimum=1, where=where),
            check_int(steps, "steps", minimum=1, where=where))


def single_seconds(B, H, ops, steps):
    B, H, ops, steps = _check(B, H, ops, steps, "single_seconds")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((B, H)).astype(np.float32)
    b = np.full((B, H), 0.5, dtype=np.float32)
    _step(a, b, ops)
    start = time.perf_counter()
    for _ in range(steps):
        _step(a, b, ops)
    return (time.perf_counter() - start) / steps


def split_seconds(B, H, ops, steps):
    """Two threads, each on its half of the rows, meeting at a barrier after every step
    (B >= 2: each half has a row)."""
    B, H, ops, steps = _check(B, H, ops, steps, "split_seconds", min_B=2)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((B, H)).astype(np.float32)
    b = np.full((B, H), 0.5, dtype=np.float32)
    half = B // 2
    parts = [(a[:half], b[:half]), (a[half:], b[half:])]
    barrier = threading.Barrier(2)

    def worker():
        for _ in range(steps + 1):
            _step(*parts[1], ops)
            barrier.wait()

    thread = threading.Thread(target=worker)
    thread.start()
    _step(*parts[0], ops)            # the warm-up step, as single_seconds has
    barrier.wait()
    start = time.perf_counter()
    for _ in range(steps):
        _step(*parts[0], ops)
        barrier.wait()
    elapsed = time.perf_counter() - start
    thread.join()
    return elapsed / steps


def measure(sizes=SIZES, ops=12, steps=500, rounds=5):
    """Rows (B, H, single us, split us): best of ``rounds``, the two taking turns."""
    rounds = check_int(rounds, "rounds", minimum=1, where="measure")
    sizes = list(sizes) if hasattr(sizes, "__iter__") and not isinstance(sizes, str) else sizes
    if (not isinstance(sizes, list) or not sizes
            or not all(isinstance(s, (tuple, list)) and len(s) == 2 for s in sizes)):
        raise ArgumentTypeError(f"measure: sizes must be a non-empty list of (B, H) pairs; got "
                                f"{describe(sizes)}")
    for B, H in sizes:
        _check(B, H, ops, steps, "measure", min_B=2)
    rows = []
    for B, H in sizes:
        single, split = float("inf"), float("inf")
        for _ in range(rounds):
            single = min(single, single_seconds(B, H, ops, steps))
            split = min(split, split_seconds(B, H, ops, steps))
        rows.append((B, H, 1e6 * single, 1e6 * split))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m rnnzoo.benchmark.split", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ops", type=int, default=12, help="elementwise calls per step")
    p.add_argument("--steps", type=int, default=500, help="steps per timing")
    args = p.parse_args(argv)
    if args.ops < 1 or args.steps < 1:
        p.error(f"--ops and --steps must be >= 1; got {args.ops} and {args.steps}")
    print(f"{args.ops} elementwise calls per step, float32, best of 5, 1 vs 2 threads")
    print("| B/H | one thread, us per step | two threads, us per step | two / one |")
    print("|---|---:|---:|---:|")
    for B, H, single, split in measure(ops=args.ops, steps=args.steps):
        print(f"| {B}/{H} | {single:.1f} | {split:.1f} | {split / single:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
