"""How much of a cell's time over its GEMMs is the kernel handing it fresh memory.

Every forward must return fresh arrays (hs, and a cache that later writes cannot
touch), and every backward allocates its own buffers. glibc's malloc serves big blocks
with mmap and gives freed memory back to the kernel, so each call's buffers arrive as
fresh pages and the kernel zeroes them on first touch: a page fault per 4 KiB page.
The GEMMs-alone replay (rnnzoo/benchmark/gemms.py) writes into buffers allocated once,
so it never pays this.

This script runs the benchmark's own worker (a fresh process per measurement, exactly
as ``python -m rnnzoo bench`` does) twice per cell, shape and mode: with the default
allocator, and with glibc told to keep freed memory (MALLOC_MMAP_THRESHOLD_ and
MALLOC_TRIM_THRESHOLD_ set high), which removes the page faults and changes nothing
else. The second figure is what the cell costs when memory is reused:

    PYTHONPATH=$PWD python scripts/alloc_floor.py --cells gru,janet,mgu,qrnn \
        --shapes 100/64/256 100/32/128 --modes fb f --pairs 3
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

KEEP = {"MALLOC_MMAP_THRESHOLD_": "2000000000", "MALLOC_TRIM_THRESHOLD_": "4000000000"}


def worker(spec, keep_memory):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    if keep_memory:
        env.update(KEEP)
    out = subprocess.run([sys.executable, "-m", "rnnzoo.benchmark.worker", json.dumps(spec)],
                         env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cells", default="gru,janet,mgu,qrnn")
    p.add_argument("--shapes", nargs="+", default=["100/64/256", "100/32/128"])
    p.add_argument("--modes", nargs="+", default=["fb", "f"])
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)
    print("| cell | T/B/H | mode | cell ms | GEMMs ms | cell / GEMMs | cell ms, memory kept "
          "| cell / GEMMs, memory kept |\n|---|---|---|---:|---:|---:|---:|---:|")
    for shape in args.shapes:
        T, B, H = map(int, shape.split("/"))
        for mode in args.modes:
            for cell in args.cells.split(","):
                spec = {"lib": "rnnzoo", "cell": cell, "T": T, "B": B, "D": H, "H": H,
                        "mode": mode, "dtype": "float32", "repeat": args.repeat,
                        "clock": "cpu"}
                runs = {False: [], True: []}
                for _ in range(args.pairs):            # alternate, so load hits both alike
                    for keep in (False, True):
                        runs[keep].append(worker(spec, keep))
                row = []
                for keep in (False, True):
                    cell_ms = statistics.median(r["cell_s"] for r in runs[keep]) * 1e3
                    gemm_ms = statistics.median(r["gemm_s"] for r in runs[keep]) * 1e3
                    ratio = statistics.median(r["cell_s"] / r["gemm_s"] for r in runs[keep])
                    row.append((cell_ms, gemm_ms, ratio))
                (c0, g0, r0), (c1, _, r1) = row
                print(f"| `{cell}` | {shape} | {mode} | {c0:.1f} | {g0:.1f} | {r0:.2f}x "
                      f"| {c1:.1f} | {r1:.2f}x |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
