"""The floor under five structural cells' time: their matrix products plus the
elementwise work their equations cannot avoid.

    OPENBLAS_NUM_THREADS=1 python scripts/structural_floor.py \
        [--cells indrnn,resindrnn,deltarnn,orthogonal,clockwork] [--shapes 100/64/256 ...] \
        [--modes fb f] [--repeat 7]

For each cell, in one process, taking turns (rnnzoo.benchmark.timing.best_times, CPU
clock): the cell (forward, or forward + backward), its matrix products alone (the same
trace and replay as ``python -m rnnzoo bench``), and ``passes``: the elementwise work of
its equations written as tightly as NumPy allows, each pass one call into a
preallocated buffer, in a bare loop over T with no Python logic, plus the passes over
all T steps its equations need outside the loop (bias adds, a hoisted gate's σ, the
vector parameters' reductions) and, for orthogonal, the eigendecomposition that expm
needs. floor = GEMMs + passes. The contract's own work (checking x and dhs for NaN,
copying x, hs and the state, ||dL/dh_t|| per step) is left out, so the floor is a lower
bound; cell / floor is how far the cell is from it. The last two columns add what a
call cannot avoid either: allocating and first touching the (T, B, H)-sized arrays it
returns or keeps for backward (:func:`fresh_sizes`; one fill each, so the passes that
fill them in the cell are counted twice there, a small overcount).

IndRNN's recurrence is elementwise (u ⊙ h), so its GEMMs alone miss mandatory work; the
floor counts it.
"""
from __future__ import annotations

import argparse

import numpy as np

from rnnzoo.benchmark.gemms import gemm_runner, trace_gemms
from rnnzoo.benchmark.timing import best_times, cell_runner, inputs
from rnnzoo.core.registry import make


def _buffers(rng, dtype):
    def buf(*shape):
        return rng.standard_normal(shape).astype(dtype)
    return buf


def indrnn_passes(cell, T, B, fb, buf, layers=1, shortcuts=0):
    """h_t = relu(a_t + u h_{t-1}): 3 passes a step; backward 3 a step (+ dhs, relu',
    u); outside the loop: + b, and the u and b reductions."""
    H = cell.hidden_size
    h, da, dhs, big = buf(T + 1, B, H), buf(T, B, H), buf(T, B, H), buf(T, B, H)
    u, b, tmp, dh = buf(H), buf(H), buf(B, H), buf(B, H)

    def run():
        for _ in range(layers):
            h[1:] += b
            for t in range(T):
                np.multiply(u, h[t], out=tmp)
                np.add(h[t + 1], tmp, out=h[t + 1])
                np.maximum(h[t + 1], 0.0, out=h[t + 1])
        for _ in range(shortcuts):
            h[1:] += da                                       # a^(l) += a^(l-2)
        if not fb:
            return
        for _ in range(layers):
            for t in reversed(range(T)):
                np.add(dh, dhs[t], out=da[t])
                da[t] *= h[t + 1] > 0
                np.multiply(da[t], u, out=dh)
            np.multiply(da, h[:-1], out=big)
            big.sum(axis=(0, 1))                              # dL/du
            da.sum(axis=(0, 1))                               # dL/db
        for _ in range(shortcuts):
            np.add(da, big, out=da)  # the residual's gradient
    return run


def resindrnn_passes(cell, T, B, fb, buf):
    shortcuts = sum(cell._shortcut(l) for l in range(1, cell.depth + 1))
    return indrnn_passes(cell, T, B, fb, buf, layers=cell.depth, shortcuts=shortcuts)


def deltarnn_passes(cell, T, B, fb, buf):
    """Outside the loop: r = σ(Wx + b_r) (4 passes), β₂Wx + b_z and αWx + β₁ (2 each);
    a step: 7 passes; a backward step: 15; after it, W x's three paths and 5 sums."""
    H = cell.hidden_size
    wx, r, z, c, vh, dz, dr, dvh = (buf(T, B, H) for _ in range(8))
    h, dhs = buf(T + 1, B, H), buf(T, B, H)
    vec = [buf(H) for _ in range(5)]
    tmp, do, dh = buf(B, H), buf(B, H), buf(B, H)

    def run():
        np.subtract(vec[0], wx, out=r)  # -(Wx + b_r)
        np.exp(r, out=r)
        np.add(r, 1.0, out=r)
        np.divide(1.0, r, out=r)  # r = σ(Wx + b_r)
        np.multiply(wx, vec[1], out=z)
        np.add(z, vec[2], out=z)
        np.multiply(wx, vec[3], out=c)
        np.add(c, vec[4], out=c)
        for t in range(T):
            np.multiply(vh[t], c[t], out=tmp)
            z[t] += tmp
            np.tanh(z[t], out=z[t])
            np.subtract(h[t], z[t], out=h[t + 1])
            h[t + 1] *= r[t]
            h[t + 1] += z[t]
            np.tanh(h[t + 1], out=h[t + 1])
        if not fb:
            return
        for t in reversed(range(T)):
            np.multiply(h[t + 1], h[t + 1], out=do)
            np.subtract(1.0, do, out=do)
            np.multiply(do, dhs[t], out=do)  # through Φ = tanh
            np.subtract(1.0, r[t], out=tmp)
            np.multiply(do, tmp, out=dz[t])
            np.subtract(h[t], z[t], out=dr[t])
            dr[t] *= do
            dr[t] *= r[t]
            dr[t] *= tmp                                      # through σ
            np.multiply(z[t], z[t], out=tmp)
            np.multiply(tmp, dz[t], out=tmp)
            dz[t] -= tmp                                      # through tanh
            np.multiply(c[t], dz[t], out=dvh[t])
            np.multiply(do, r[t], out=dh)
            np.add(dh, dvh[t], out=dh)  # (+ V^T dvh: a GEMM)
        for _ in range(5):
            dz.sum(axis=(0, 1))                               # b_z, b_r, α, β₁, β₂
        np.multiply(dz, wx, out=dvh)
        np.multiply(dvh, vh, out=dvh)
        np.multiply(dz, vh, out=dvh)
        np.add(dr, dvh, out=dr)
        np.multiply(dz, vec[1], out=dvh)
        np.add(dr, dvh, out=dr)
    return run


def orthogonal_passes(cell, T, B, fb, buf):
    """expm's eigendecomposition; a step: z += W h, then modReLU sign(z) relu(|z| + b)
    (5 passes); backward: its slope for all t (3 passes), 1 pass a step, db (2 + sum)."""
    H = cell.hidden_size
    z, h, act = buf(T, B, H), buf(T + 1, B, H), buf(T, B, H)
    b, tmp, rec = buf(H), buf(B, H), buf(B, H)
    A = np.triu(cell.params["S"], 1)                     # the cell's own A = S - S^T
    iA = (1j * (A - A.T)).astype(np.result_type(A.dtype, np.complex64))

    def run():
        np.linalg.eigh(iA)
        for t in range(T):
            z[t] += rec
            np.abs(z[t], out=tmp)
            np.add(tmp, b, out=tmp)
            np.maximum(tmp, 0.0, out=tmp)
            np.sign(z[t], out=h[t + 1])
            h[t + 1] *= tmp
        if not fb:
            return
        np.abs(z, out=act)
        np.add(act, b, out=act)
        np.greater(act, 0.0, out=act)
        for t in range(T):
            np.multiply(rec, act[t], out=tmp)
        np.sign(z, out=act)
        np.multiply(act, z, out=act)
        act.sum(axis=(0, 1))
    return run


def clockwork_passes(cell, T, B, fb, buf):
    """A step: on its n active units a += W_hh h, tanh, and h_t's copy (the kept units
    included); backward: 1 - tanh², times dh, and the kept units' identity."""
    H = cell.hidden_size
    units = cell.forward(buf(T, B, cell.input_size))[2].units
    a = [buf(B, n) for n in units]
    rec = [buf(B, n) for n in units]
    h, dh = buf(T + 1, B, H), buf(B, H)

    def run():
        for t in range(T):
            np.add(a[t], rec[t], out=a[t])
            np.tanh(a[t], out=a[t])
            np.copyto(h[t + 1], h[t])
        if not fb:
            return
        for t in reversed(range(T)):
            n = units[t]
            np.multiply(a[t], a[t], out=rec[t])
            np.subtract(1.0, rec[t], out=rec[t])
            rec[t] *= dh[:, :n]
            dh[:, n:] += h[t, :, n:]
    return run


PASSES = {"indrnn": indrnn_passes, "resindrnn": resindrnn_passes,
          "deltarnn": deltarnn_passes, "orthogonal": orthogonal_passes,
          "clockwork": clockwork_passes}


def fresh_sizes(cell, T, B, fb):
    """Elements of the (T, B, H)-sized arrays a call must allocate afresh: the copy of x
    the cache keeps, hs, what backward reads (h_0..h_T and the saved pre-activations),
    and backward's gradient buffers and dx. Each new call's first touch of them costs
    page faults with glibc's default malloc (see scripts/alloc_floor.py)."""
    D, H, name = cell.input_size, cell.hidden_size, cell.name
    x, step, hidden = T * B * D, T * B * H, (T + 1) * B * H
    backward = [step]                                                      # dL/da
    if name == "indrnn":
        kept = [hidden]
    elif name == "resindrnn":                                              # + the stream
        kept = [hidden] * cell.depth + [step] * sum(map(cell._shortcut, range(1, cell.depth + 1)))
        backward = [step] * 3                                              # dz, scratch, dh
    elif name == "deltarnn":
        kept, backward = [hidden] + [step] * 4, [step] * 3                 # Wx, r, z, Vh
    elif name == "orthogonal":
        kept = [hidden, step]                                              # z
    else:                                                                  # clockwork: a
        units = cell.forward(np.zeros((T, B, D), cell.dtype))[2].units     # on active units
        kept, backward = [hidden, B * sum(units)], [B * sum(units)]
    return [x, step] + kept + (backward + [x] if fb else [])


def allocating(sizes, dtype, passes):
    """``passes`` after allocating and first touching (one fill) the per-call arrays."""
    def run():
        held = [np.empty(size, dtype) for size in sizes]    # all alive at once, as in a call
        for a in held:
            a.fill(0.0)
        passes()
    return run


def measure(name, T, B, H, mode, repeat, dtype="float32"):
    cell = make(name, H, H, seed=0, dtype=np.dtype(dtype))
    x, dhs = inputs(T, B, H, cell.output_size, dtype)
    fb = mode == "fb"
    gemms = gemm_runner(trace_gemms(cell, x, dhs if fb else None))
    passes = PASSES[name](cell, T, B, fb, _buffers(np.random.default_rng(1), dtype))
    alloc = allocating(fresh_sizes(cell, T, B, fb), dtype, passes)
    with np.errstate(all="ignore"):                   # the floor's buffers hold noise
        return best_times([cell_runner(cell, x, dhs, mode), gemms, passes, alloc],
                          repeat, clock="cpu")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", default=",".join(PASSES))
    parser.add_argument("--shapes", nargs="+", default=["100/64/256"])
    parser.add_argument("--modes", nargs="+", default=["fb", "f"])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print("| cell | T/B/H | mode | cell ms | GEMMs ms | passes ms | floor ms | cell / GEMMs "
          "| cell / floor | + fresh arrays ms | cell / floor with them |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for shape in args.shapes:
        T, B, H = (int(v) for v in shape.split("/"))
        for mode in args.modes:
            for name in args.cells.split(","):
                c, g, p, a = (1e3 * s for s in measure(name, T, B, H, mode, args.repeat))
                print(f"| `{name}` | {shape} | {mode} | {c:.1f} | {g:.1f} | {p:.1f} | "
                      f"{g + p:.1f} | {c / g:.2f}x | {c / (g + p):.2f}x | {a:.1f} | "
                      f"{c / (g + a):.2f}x |", flush=True)


if __name__ == "__main__":
    main()
