"""Where the fast-weights RNN's two memory forms cross: the measurement behind
``memory="auto"`` (:class:`rnnzoo.cells.fastweights.FastWeights`).

    python -m rnnzoo.benchmark.fast_memory                    # H = 20 .. 256, float32 and float64
    python -m rnnzoo.benchmark.fast_memory --H 32 64 --dtype float64 --B 4 32 --repeats 5

For each H it times forward + backward of ``memory="history"`` (O(T²·S·B·H) a sequence)
and ``memory="materialized"`` (O(T·S·B·H²)) at growing T, the two taking turns, best of
``repeats`` (:func:`.timing.time_interleaved`), with one BLAS thread, and prints the ratio
history / materialized. The crossover T* is where that ratio passes 1, interpolated in
log T and log ratio between the two grid points around it. Climbing T for one H stops
once the history form is clearly slower (ratio above ``stop`` twice in a row) or the
materialized cache, (T + 1)·B·H² numbers, would pass ``max_bytes``. Not a test: the
numbers move with the machine and its load; compare ratios, not seconds.
"""
from __future__ import annotations

import argparse
import math

import numpy as np
from threadpoolctl import threadpool_limits

from ..core.registry import make
from ..core.validation import check_float, check_int
from .timing import cell_runner, inputs, time_interleaved

FORMS = ("history", "materialized")
H_GRID = (20, 32, 64, 128, 256)
T_GRID = (10, 14, 20, 28, 40, 56, 80, 113, 160, 226, 320, 452, 640, 905, 1280, 1810, 2560)


def materialized_bytes(T, B, H, dtype):
    """Bytes of the materialized form's cache of A(0) .. A(T): (T + 1)·B·H² numbers."""
    return (T + 1) * B * H * H * np.dtype(dtype).itemsize


def time_forms(T, B, H, S=1, dtype="float32", repeats=5, seed=0):
    """Best-of-``repeats`` seconds of forward + backward of each memory form at (T, B, H),
    D = H, the forms taking turns, one BLAS thread. Returns {"history": s,
    "materialized": s}."""
    T, B = check_int(T, "T", minimum=1), check_int(B, "B", minimum=1)
    repeats = check_int(repeats, "repeats", minimum=1)
    cells = {m: make("fastweights", H, H, seed=seed, dtype=np.dtype(dtype), S=S, memory=m)
             for m in FORMS}
    x, dhs = inputs(T, B, H, H, dtype, seed)
    with threadpool_limits(1):
        return time_interleaved({m: cell_runner(c, x, dhs) for m, c in cells.items()},
                                repeats=repeats)


def crossing(rows):
    """T* in ``rows`` [(T, ratio), ...]: where history / materialized last passes 1 going
    up (log-log interpolation between the grid points around it), so that the history
    form is slower at every T of the grid above T*. Near T* the two forms take about the
    same time and the ratio wanders around 1 with the machine's noise; the last crossing
    ignores that wandering. None if the ratio ends at or below 1; 0 if it is above 1
    everywhere."""
    if not rows or rows[-1][1] <= 1:
        return None
    for (T1, r1), (T2, r2) in reversed(list(zip(rows, rows[1:]))):
        if r1 <= 1 < r2:
            f = -math.log(r1) / (math.log(r2) - math.log(r1))
            return T1 * (T2 / T1) ** f
    return 0.0


def crossover(H, B=4, S=1, dtype="float32", T_grid=T_GRID, repeats=5, stop=1.5,
              max_bytes=2 ** 30, log=print):
    """Time both forms at each T of ``T_grid`` for one H (see the module docstring).
    Returns {"H", "B", "S", "dtype", "rows": [(T, history_s, materialized_s, ratio)],
    "T_star"}; ``T_star`` is None where the ratio never passed 1 within the grid."""
    check_float(stop, "stop", minimum=1.0)
    check_int(max_bytes, "max_bytes", minimum=1)
    rows, above = [], 0
    for T in T_grid:
        if materialized_bytes(T, B, H, dtype) > max_bytes:
            log(f"  H={H} T={T}: the materialized cache would pass {max_bytes} bytes; stop")
            break
        best = time_forms(T, B, H, S, dtype, repeats)
        ratio = best["history"] / best["materialized"]
        rows.append((T, best["history"], best["materialized"], ratio))
        log(f"  H={H} B={B} S={S} {dtype} T={T}: history {best['history'] * 1e3:.3g} ms, "
            f"materialized {best['materialized'] * 1e3:.3g} ms, ratio {ratio:.2f}")
        above = above + 1 if ratio > stop else 0
        if above == 2:
            break
    T_star = crossing([(T, r) for T, _, _, r in rows])
    return {"H": H, "B": B, "S": S, "dtype": dtype, "rows": rows, "T_star": T_star}


def table(results):
    """A markdown table: one row per (dtype, B, S, H) with T* and T*/H; where the ratio
    never passed 1, the last T timed and its ratio."""
    lines = ["| dtype | B | S | H | T* (history slower above) | T*/H |",
             "|---|---|---|---|---|---|"]
    for r in results:
        rows, star, per_H = r["rows"], "-", "-"
        if r["T_star"] is None and rows:
            star = f"> {rows[-1][0]} (ratio {rows[-1][3]:.2f} there)"
        elif r["T_star"] == 0.0:
            star = f"< {rows[0][0]}"
        elif r["T_star"] is not None:
            star, per_H = f"{r['T_star']:.0f}", f"{r['T_star'] / r['H']:.2f}"
        lines.append(f"| {r['dtype']} | {r['B']} | {r['S']} | {r['H']} | {star} | {per_H} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--H", type=int, nargs="+", default=list(H_GRID))
    p.add_argument("--B", type=int, nargs="+", default=[4])
    p.add_argument("--S", type=int, nargs="+", default=[1])
    p.add_argument("--dtype", nargs="+", default=["float32", "float64"],
                   choices=["float32", "float64"])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--stop", type=float, default=1.5,
                   help="stop climbing T after two ratios above this")
    p.add_argument("--max-bytes", type=int, default=2 ** 30,
                   help="largest materialized cache to time")
    args = p.parse_args(argv)
    for name in ("H", "B", "S"):
        if min(getattr(args, name)) < 1:
            p.error(f"--{name} must be integers >= 1; got {getattr(args, name)}")
    if args.repeats < 1 or args.stop < 1 or args.max_bytes < 1:
        p.error("--repeats and --max-bytes must be >= 1 and --stop a ratio >= 1; got "
                f"{args.repeats}, {args.max_bytes} and {args.stop}")
    results = [crossover(H, B, S, dtype, repeats=args.repeats, stop=args.stop,
                         max_bytes=args.max_bytes)
               for dtype in args.dtype for B in args.B for S in args.S for H in args.H]
    print(table(results))
    return results


if __name__ == "__main__":
    main()
