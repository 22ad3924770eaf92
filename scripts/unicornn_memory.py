"""UnICORNN's two backward memories: the round-off of walking the states back, and the
memory each keeps.

    PYTHONPATH=$PWD python scripts/unicornn_memory.py

1. Reconstruction error vs T in float32: the worst relative error, over hs and every
   gradient (dx, dy_0, dz_0, dV, db, dw, dc), of a float32 cell against the float64
   cell with memory="store" on the same parameters and data (B = 16, D = H = 128,
   default options, a loss on every step), for memory="reconstruct" and, as the floor
   every float32 run has, memory="store"; and the two float32 modes against each other
   (what walking back adds).
2. Memory (tracemalloc; NumPy reports its arrays to it), float32, T = 1000: the bytes
   the cache keeps between forward and backward, and the peak over forward + backward.
"""
from __future__ import annotations

import sys
import tracemalloc

import numpy as np

import rnnzoo

B, D, H = 16, 128, 128


def run(memory, dtype, x, dhs):
    cell = rnnzoo.make("unicornn", D, H, seed=0, memory=memory, dtype=dtype)
    hs, _, cache = cell.forward(x.astype(dtype))
    dx, dstate0, grads = cell.backward(dhs.astype(dtype), cache)
    return {"hs": hs, "dx": dx, "dy0": dstate0[0], "dz0": dstate0[1],
            **{f"d{k}": v for k, v in grads.items()}}


def worst_error(result, exact):
    return max(float(np.abs(result[k].astype(np.float64) - exact[k]).max()
                     / np.abs(exact[k]).max()) for k in exact)


def reconstruction_errors(lengths=(100, 1000, 10000)):
    rng = np.random.default_rng(0)
    print("| T | reconstruct, float32 | store, float32 | reconstruct vs store, both float32 |"
          "\n|---|---|---|---|")
    for T in lengths:
        x, dhs = rng.standard_normal((T, B, D)), rng.standard_normal((T, B, H))
        exact = run("store", np.float64, x, dhs)
        rec, sto = (run(m, np.float32, x, dhs) for m in ("reconstruct", "store"))
        sto64 = {k: v.astype(np.float64) for k, v in sto.items()}
        print(f"| {T} | {worst_error(rec, exact):.1e} | {worst_error(sto, exact):.1e} | "
              f"{worst_error(rec, sto64):.1e} |", flush=True)


def memory(T=1000):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, B, D)).astype(np.float32)
    dhs = rng.standard_normal((T, B, H)).astype(np.float32)
    print(f"\nfloat32, T = {T}, B = {B}, D = H = {H}; one (T, B, H) array is "
          f"{T * B * H * 4 / 2 ** 20:.2f} MiB")
    for mode in ("reconstruct", "store"):
        cell = rnnzoo.make("unicornn", D, H, seed=0, memory=mode, dtype=np.float32)
        cell.backward(dhs, cell.forward(x)[2])                 # warm up
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        hs, _, cache = cell.forward(x)
        kept = tracemalloc.get_traced_memory()[0] - base - hs.nbytes
        cell.backward(dhs, cache)
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        print(f"{mode}: cache {kept / 2 ** 20:.2f} MiB (besides hs), "
              f"peak forward + backward {peak / 2 ** 20:.2f} MiB", flush=True)


def main():
    reconstruction_errors()
    memory()
    return 0


if __name__ == "__main__":
    sys.exit(main())
