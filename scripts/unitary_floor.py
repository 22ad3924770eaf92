"""The floor of the unitary cells in plain NumPy: their equations' mandatory work alone.

    python scripts/unitary_floor.py --shapes 100/64/256 100/32/128 --modes fb f

``urnn`` and ``eurnn`` are far from "cell / GEMMs" = 1 because their recurrence is not a
matrix product: uRNN's W h is diagonal, FFT, reflection and permutation passes, EURNN's
is L layers of 2 x 2 rotations (a gather and three complex passes each), and both end in
modReLU, several passes over a complex (B, N) array. Their only GEMMs are the input
projection before the loop and dL/dV, dL/dx after it. This script writes each cell's
forward (and backward) as ONE tight function: every elementwise pass, FFT, gather and
small product the equations need, each one NumPy call into a preallocated buffer
(``out=``), no temporaries, no Python beyond the time loop, plus the cell's three GEMMs
(same shapes). The arrays a call returns or would keep for a backward are allocated
in every call, as the cell's cache is; only (B, N) scratch is reused. Its result is
checked against the cell (hs, dL/dh_0 and dL/db), so it does the same work. The table gives cell / floor next to cell / GEMMs: the share of the
cell's time that better NumPy code could still remove.

What the floor leaves out on purpose: nothing the equations need. Where the cell trades
time for memory the floor does the same: both cells recompute W's intermediate vectors
(uRNN's u_2, u_4, u_6, u_7; EURNN's layer inputs) in the backward instead of keeping
them per step. Keeping them was measured with ``python -m rnnzoo bench``: forward +
backward 4-8 % faster, forward only 15-35 % slower (the first touch of the kept memory,
fresh in every forward, costs more than the passes it saves), and EURNN's L·T·B·N
numbers are no option at full capacity, L = N.
Timed with one BLAS thread, CPU time, best of ``--repeat``, cell and floor taking turns
in one process (``rnnzoo.benchmark.timing.best_times``).
"""
from __future__ import annotations

import argparse

import numpy as np
from threadpoolctl import threadpool_limits

import rnnzoo
from rnnzoo.benchmark.gemms import gemm_runner, trace_gemms
from rnnzoo.benchmark.timing import best_times, cell_runner, inputs

EPS = 1e-5                       # modReLU's eps, as the cells


class Buffers:
    """Preallocated (B, N) complex / real scratch arrays, by name."""

    def __init__(self, B, N, cdt, rdt):
        self.c = {k: np.empty((B, N), cdt) for k in ("a", "b", "c", "g", "g2", "g3")}
        self.r = {k: np.empty((B, N), rdt) for k in ("den", "q", "k")}
        self.act = np.empty((B, N), bool)
        self.s, self.p, self.s2 = (np.empty(B, cdt) for _ in range(3))
        self.vN, self.vN2 = np.empty(N, cdt), np.empty(N, cdt)


def modrelu_fwd(z, b, r, m, out, w):
    """h = ReLU(|z| + b) z / (|z| + eps): 6 passes; keeps |z| in r and φ in m."""
    np.abs(z, out=r)
    np.add(r, b, out=m)
    np.maximum(m, 0, out=m)
    np.add(r, EPS, out=w.r["den"])
    np.divide(m, w.r["den"], out=m)
    np.multiply(z, m, out=out)


def modrelu_bwd(G, z, r, m, dz, db, w):
    """dz = φ G + Re(G z̄) (act - φ)/(r + eps) z/r, db = Re(G z̄) act/(r + eps): 12 passes."""
    a, den, q, k = w.c["a"], w.r["den"], w.r["q"], w.r["k"]
    np.conjugate(z, out=a)
    a *= G
    np.add(r, EPS, out=den)
    np.divide(a.real, den, out=q)                            # Re(G z̄)/(r + eps)
    np.greater(m, 0, out=w.act)
    np.multiply(q, w.act, out=db)
    np.subtract(w.act, m, out=k)
    k *= q
    k /= r                                                   # (r > 0 at these points)
    np.multiply(z, k, out=dz)
    np.multiply(G, m, out=a)
    dz += a


def diag_bwd(g, u, d_conj, acc, out, w):
    """y = d ⊙ u: out = conj(d) g, acc += Σ_rows g conj(u): 4 passes + a sum."""
    a = w.c["a"]
    np.conjugate(u, out=a)
    a *= g
    acc += a.sum(axis=0)
    np.multiply(g, d_conj, out=out)


def reflect_fwd(u, rc, r2n, out, w):
    """R u = u - (2/n) (r^* u) r: a matvec and 2 passes."""
    np.matmul(u, rc, out=w.s)
    np.multiply(w.s[:, None], r2n, out=w.c["a"])
    np.subtract(u, w.c["a"], out=out)


def reflect_bwd(g, u, r, rc, r2n, n, acc, out, w):
    """dL/du = R g; dL/dr = -(2/n)(conj(s) g + p u) + (4/n²) Re(p s) r."""
    np.matmul(u, rc, out=w.s)                                # s = r^* u
    np.conjugate(g, out=w.c["a"])
    np.matmul(w.c["a"], r, out=w.p)                          # p = g^* r
    ps = (w.p * w.s).real.sum()
    np.conjugate(w.s, out=w.s)
    np.matmul(w.s, g, out=w.vN)
    np.matmul(w.p, u, out=w.vN2)
    w.vN += w.vN2
    w.vN *= -2.0 / n
    acc += w.vN
    acc += (4.0 / (n * n)) * ps * r
    reflect_fwd(g, rc, r2n, out, w)                          # R g (R is Hermitian)


def fresh(T, B, N, Din, cdt, rdt):
    """The per-call arrays (what the cell's cache and backward hold), allocated in every
    call as the cell allocates its own: their first touch is part of the cost."""
    return (np.empty((T, B, N), cdt), np.empty((T + 1, B, N), cdt),          # z, h
            np.empty((T, B, N), rdt), np.empty((T, B, N), rdt),              # |z|, φ
            np.empty((T, B, 2 * N), rdt), np.empty((T * B, 2 * N), rdt),     # hs, V x
            np.empty((T, B, 2 * N), rdt), np.empty((T, B, N), cdt),          # dz packed, dz
            np.empty((T, B, N), rdt), np.empty((T * B, Din), rdt),           # db, dx
            np.empty((2 * N, Din), rdt), np.empty((T, B, N), cdt))           # dV, dhs


def urnn_floor(cell, x, dhs, backward):
    P, co = cell.params, cell.coefficients()
    T, B = x.shape[:2]
    N = cell.hidden_size
    cdt, rdt = cell.cdtype, cell.dtype
    D, r, n, perm, inv = co["D"], co["r"], co["n"], co["perm"], co["inv_perm"]
    Dc, rc = D.conj(), r.conj()
    r2n = (2.0 / n)[:, None] * r
    V = np.concatenate([P["V_re"], P["V_im"]]).T.copy()      # (D, 2N)
    w = Buffers(B, N, cdt, rdt)
    keep = np.empty((4, B, N), cdt)                          # u2, u4, u6, u7 of one step

    def run():
        z, hc, R, M, hs, pr, dzr, dz, db, dx, dV, dhc = fresh(T, B, N, x.shape[2], cdt, rdt)
        a, c = w.c["a"], w.c["c"]
        np.matmul(x.reshape(T * B, -1), V, out=pr)           # V x, all steps
        z.real, z.imag = pr.reshape(T, B, 2 * N)[..., :N], pr.reshape(T, B, 2 * N)[..., N:]
        hc[0] = 0
        u2, u4, u6, u7 = keep

        def factors(h):                                      # u2 .. u7 of W h, into keep
            np.multiply(h, D[0], out=a)
            np.fft.fft(a, norm="ortho", out=u2)
            reflect_fwd(u2, rc[0], r2n[0], c, w)
            np.take(c, perm, axis=1, out=u4)
            np.multiply(u4, D[1], out=a)
            np.fft.ifft(a, norm="ortho", out=u6)
            reflect_fwd(u6, rc[1], r2n[1], u7, w)

        for t in range(T):
            factors(hc[t])
            np.multiply(u7, D[2], out=a)
            z[t] += a
            modrelu_fwd(z[t], P["b"], R[t], M[t], hc[t + 1], w)
        hs[..., :N], hs[..., N:] = hc[1:].real, hc[1:].imag
        if not backward:
            return hs, None
        dhc.real, dhc.imag = dhs[..., :N], dhs[..., N:]
        G, g2, g3 = w.c["g"], w.c["g2"], w.c["g3"]
        G[...] = 0
        accD = np.zeros((3, N), cdt)
        accr = np.zeros((2, N), cdt)
        for t in reversed(range(T)):
            G += dhc[t]
            modrelu_bwd(G, z[t], R[t], M[t], dz[t], db[t], w)
            factors(hc[t])                                   # recomputed, as the cell
            diag_bwd(dz[t], u7, Dc[2], accD[2], g2, w)
            reflect_bwd(g2, u6, r[1], rc[1], r2n[1], n[1], accr[1], g3, w)
            np.fft.fft(g3, norm="ortho", out=g2)
            diag_bwd(g2, u4, Dc[1], accD[1], g3, w)
            np.take(g3, inv, axis=1, out=g2)
            reflect_bwd(g2, u2, r[0], rc[0], r2n[0], n[0], accr[0], g3, w)
            np.fft.ifft(g3, norm="ortho", out=g2)
            diag_bwd(g2, hc[t], Dc[0], accD[0], G, w)
        dzr[..., :N], dzr[..., N:] = dz.real, dz.imag
        np.matmul(dzr.reshape(T * B, -1), V.T, out=dx)         # dL/dx
        np.matmul(dzr.reshape(T * B, -1).T, x.reshape(T * B, -1), out=dV)   # dL/dV
        return hs, (np.concatenate([G.real, G.imag], axis=1), db.sum(axis=(0, 1)))
    return run


def eurnn_floor(cell, x, dhs, backward):
    P, co = cell.params, cell.coefficients()
    T, B = x.shape[:2]
    N, L = cell.hidden_size, cell.n_layers
    cdt, rdt = cell.cdtype, cell.dtype
    v1, v2, perm, D = co["v1"], co["v2"], co["perm"], co["D"]
    v1c, v2c, Dc = v1.conj(), v2.conj(), D.conj()
    V = np.concatenate([P["U_re"], P["U_im"]]).T.copy()
    w = Buffers(B, N, cdt, rdt)
    keep = np.empty((L, B, N), cdt)                          # each layer's output

    def layers(h, out):
        """out[l] = F^(l+1) ... F^(1) h; returns the list of every layer's input, and top."""
        a, u = w.c["a"], [h]
        for l in range(L):                                   # h' = v1 h + v2 h[perm]
            np.take(u[l], perm[l], axis=1, out=a)
            a *= v2[l]
            np.multiply(u[l], v1[l], out=out[l])
            out[l] += a
            u.append(out[l])
        return u

    def run():
        z, hc, R, M, hs, pr, dzr, dz, db, dx, dV, dhc = fresh(T, B, N, x.shape[2], cdt, rdt)
        a, g, g2 = w.c["a"], w.c["g"], w.c["g2"]
        np.matmul(x.reshape(T * B, -1), V, out=pr)
        z.real, z.imag = pr.reshape(T, B, 2 * N)[..., :N], pr.reshape(T, B, 2 * N)[..., N:]
        hc[0] = 0
        for t in range(T):
            np.multiply(layers(hc[t], keep)[-1], D, out=a)
            z[t] += a
            modrelu_fwd(z[t], P["b"], R[t], M[t], hc[t + 1], w)
        hs[..., :N], hs[..., N:] = hc[1:].real, hc[1:].imag
        if not backward:
            return hs, None
        dhc.real, dhc.imag = dhs[..., :N], dhs[..., N:]
        G = w.c["c"]
        G[...] = 0
        accD = np.zeros(N, cdt)
        acc1, acc2 = np.zeros((L, B, N), cdt), np.zeros((L, B, N), cdt)
        for t in reversed(range(T)):
            G += dhc[t]
            modrelu_bwd(G, z[t], R[t], M[t], dz[t], db[t], w)
            u = layers(hc[t], keep)                          # recomputed, as the cell
            diag_bwd(dz[t], u[-1], Dc, accD, g, w)
            for l in reversed(range(L)):
                np.conjugate(u[l], out=a)
                a *= g
                acc1[l] += a                                 # dL/dv1
                np.take(u[l], perm[l], axis=1, out=a)
                np.conjugate(a, out=a)
                a *= g
                acc2[l] += a                                 # dL/dv2
                np.multiply(g, v2c[l], out=a)
                np.take(a, perm[l], axis=1, out=g2)
                g *= v1c[l]
                g += g2                                      # dL/dh
            G, g = g, G                                      # (swap, no copy)
        acc1.sum(axis=1), acc2.sum(axis=1)
        dzr[..., :N], dzr[..., N:] = dz.real, dz.imag
        np.matmul(dzr.reshape(T * B, -1), V.T, out=dx)
        np.matmul(dzr.reshape(T * B, -1).T, x.reshape(T * B, -1), out=dV)
        return hs, (np.concatenate([G.real, G.imag], axis=1), db.sum(axis=(0, 1)))
    return run


FLOORS = {"urnn": urnn_floor, "eurnn": eurnn_floor}


def check(cell, x, dhs, floor_run, backward):
    """The floor computes what the cell computes (float32 rounding apart)."""
    hs, state, cache = cell.forward(x)
    f_hs, f_back = floor_run()
    assert np.allclose(f_hs, hs, rtol=1e-3, atol=1e-4), "floor forward differs from the cell"
    if backward:
        _, (dh0,), grads = cell.backward(dhs, cache)
        for mine, theirs in ((f_back[0], dh0), (f_back[1], grads["b"])):
            scale = np.abs(theirs).max()
            assert np.abs(mine - theirs).max() <= 1e-3 * scale, "floor backward differs"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", nargs="+", default=["urnn", "eurnn"], choices=list(FLOORS))
    ap.add_argument("--shapes", nargs="+", default=["100/64/256", "100/32/128"])
    ap.add_argument("--modes", nargs="+", default=["fb", "f"], choices=["fb", "f"])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args(argv)
    print("| cell | T/B/H | mode | cell ms | GEMMs ms | floor ms | cell / GEMMs | cell / floor |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    with threadpool_limits(1):
        for name in args.cells:
            for shape in args.shapes:
                T, B, H = map(int, shape.split("/"))
                for mode in args.modes:
                    cell = rnnzoo.make(name, H, H, seed=0, dtype=np.float32)
                    x, dhs = inputs(T, B, H, cell.output_size, np.float32)
                    backward = mode == "fb"
                    floor = FLOORS[name](cell, x, dhs, backward)
                    check(cell, x, dhs, floor, backward)
                    gemms = gemm_runner(trace_gemms(cell, x, dhs if backward else None))
                    c, g, f = best_times([cell_runner(cell, x, dhs, mode), gemms, floor],
                                         args.repeat, clock="cpu")
                    print(f"| `{name}` | {shape} | {mode} | {c * 1e3:.1f} | {g * 1e3:.1f} | "
                          f"{f * 1e3:.1f} | {c / g:.2f}x | {c / f:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
