"""The two memory experiments of notebook 12 and its figures (issue 24), beside
:mod:`.dynamics`: UnICORNN's backward that walks the states back against the stored one
(its round-off, and the memory each keeps, measured with tracemalloc as
scripts/unicornn_memory.py prints), and the window the LMU's fixed memory holds, decoded
from m_t."""
from __future__ import annotations

import tracemalloc

import numpy as np

from ...cells.lmu import window_decoder
from ...core.registry import make
from ...training.plotting import legend_outside
from .core import check


# ----------------------------------------------------------------- UnICORNN's memory
def _unicornn_run(memory, dtype, x, dys):
    cell = make("unicornn", x.shape[-1], dys.shape[-1], seed=0, memory=memory, dtype=dtype)
    hs, _, cache = cell.forward(x.astype(dtype))
    dx, dstate0, grads = cell.backward(dys.astype(dtype), cache)
    return {"hs": hs, "dx": dx, "dy0": dstate0[0], "dz0": dstate0[1],
            **{f"d{k}": v for k, v in grads.items()}}


def _worst(result, exact):
    """The worst relative error (max |error| / max |exact|) over every tensor."""
    return max(float(np.abs(result[k].astype(np.float64) - exact[k]).max()
                     / np.abs(exact[k]).max()) for k in exact)


def unicornn_reconstruction(lengths=(100, 1000), batch=16, size=128, seed=0):
    """{T: {"float64": reconstruct vs store; "reconstruct f32", "store f32": each against
    float64 store; "f32 reconstruct vs store": what walking back adds in float32}}: the
    worst relative error over hs and every gradient, a loss on every step, B = batch,
    D = H = size (scripts/unicornn_memory.py's table)."""
    rng = np.random.default_rng(seed)
    out = {}
    for T in lengths:
        x, dys = rng.standard_normal((T, batch, size)), rng.standard_normal((T, batch, size))
        exact = _unicornn_run("store", np.float64, x, dys)
        f32 = {m: _unicornn_run(m, np.float32, x, dys) for m in ("reconstruct", "store")}
        out[T] = {"float64": _worst(_unicornn_run("reconstruct", np.float64, x, dys), exact),
                  **{f"{m} f32": _worst(r, exact) for m, r in f32.items()},
                  "f32 reconstruct vs store": _worst(f32["reconstruct"], {
                      k: v.astype(np.float64) for k, v in f32["store"].items()})}
    return out


def unicornn_memory(T=1000, batch=16, size=128):
    """{memory: (MiB the cache keeps besides hs, peak MiB over forward + backward)},
    float32, measured with tracemalloc (NumPy reports its arrays to it); and the MiB of
    one (T, B, H) array."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, batch, size)).astype(np.float32)
    dys = rng.standard_normal((T, batch, size)).astype(np.float32)
    out = {}
    for memory in ("reconstruct", "store"):
        cell = make("unicornn", size, size, seed=0, memory=memory, dtype=np.float32)
        cell.backward(dys, cell.forward(x)[2])          # warm up: first-call allocations
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        hs, _, cache = cell.forward(x)
        kept = tracemalloc.get_traced_memory()[0] - base - hs.nbytes
        cell.backward(dys, cache)
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        del cache
        out[memory] = (kept / 2 ** 20, peak / 2 ** 20)
    return out, x.nbytes / 2 ** 20


def unicornn_claims(errors, memory, claim=check):
    mem, one = memory
    T = max(errors)
    claim(f"float64: the reconstructed backward equals the stored one to 1e-10 at T = {T}",
          errors[T]["float64"] < 1e-10, **{f"T = {t}": e["float64"] for t, e in errors.items()})
    claim("float32: what walking the states back adds (reconstruct vs store, both float32) "
          "is below what float32 costs anyway (store float32 vs float64), at every T",
          all(e["f32 reconstruct vs store"] < e["store f32"] for e in errors.values()),
          **{f"T = {t}": {k: e[k] for k in ("f32 reconstruct vs store", "store f32")}
             for t, e in errors.items()})
    (rec_kept, rec_peak), (sto_kept, sto_peak) = mem["reconstruct"], mem["store"]
    claim("the reconstruct cache keeps no (T, B, H) state (besides hs, at most x's size + 5 %) "
          "and the store cache 3 more (at least 3 x 95 % of x's size more); the peak is lower",
          rec_kept <= 1.05 * one and sto_kept >= rec_kept + 3 * 0.95 * one
          and rec_peak < sto_peak, one_array_MiB=one, kept_MiB=[rec_kept, sto_kept],
          peak_MiB=[rec_peak, sto_peak])


def plot_unicornn(left, right, errors, memory):
    Ts = sorted(errors)
    for key, style, label, size in (            # the first two nearly coincide: the
            ("reconstruct f32", "o-", "float32 reconstruct vs float64", 11),  # hollow
            ("store f32", "s--", "float32 store vs float64", 5),   # large circle shows both
            ("f32 reconstruct vs store", "d-.", "float32: reconstruct vs store", 6),
            ("float64", "^:", "float64: reconstruct vs store", 6)):
        left.loglog(Ts, [errors[T][key] for T in Ts], style, label=label, ms=size,
                    mfc="none" if size > 6 else None)
    left.set_xlabel("T")
    left.set_ylabel("worst relative error, hs and every gradient")
    left.legend(fontsize=8)
    mem, one = memory
    names = list(mem)
    at = np.arange(len(names))
    right.bar(at - 0.2, [mem[m][0] for m in names], 0.4, label="cache kept (besides hs)")
    right.bar(at + 0.2, [mem[m][1] for m in names], 0.4, label="peak, forward + backward")
    right.axhline(one, color="k", ls=":", lw=1, label="one (T, B, H) array")
    right.set_xticks(at, [f'memory="{m}"' for m in names])
    right.set_ylabel("MiB (tracemalloc)")
    right.legend(fontsize=8)


# ----------------------------------------------------------------- the LMU's window
LMU_ORDERS = (6, 12, 20)


def smooth_input(t):
    return np.sin(2 * np.pi * t / 150) + 0.5 * np.cos(2 * np.pi * t / 97)


def lmu_windows(orders=LMU_ORDERS, theta=100.0, T=600):
    """{d: (delays, decoded, true)}: an lmu whose memory reads x_t alone (e_x = 1,
    e_h = 0) on the smooth :func:`smooth_input`; the window decoded from m_{T-1} with
    :func:`rnnzoo.cells.lmu.window_decoder` against u(T - 1 - θ' + ½) (u is held over
    each step) for θ' = 0, .., θ."""
    x = smooth_input(np.arange(T, dtype=np.float64))[:, None, None]
    delays = np.arange(int(theta) + 1)
    out = {}
    for d in orders:
        cell = make("lmu", 1, 3, theta=theta, memory_size=d, dtype=np.float64)
        cell.params["e_x"][:] = 1.0
        cell.params["e_h"][:] = 0.0
        m_T = cell.forward(x)[1][1][0]
        out[d] = (delays, window_decoder(d, delays, theta) @ m_T,
                  smooth_input(T - 1 - delays + 0.5))
    return out


def lmu_claims(windows, claim=check):
    err = {f"d = {d}": float(np.abs(dec - true).max()) for d, (_, dec, true) in windows.items()}
    claim("θ = 100: the window decoded from m_t with d = 12 is the last 100 inputs to 2e-3; "
          "d = 6 polynomials are too few (more than 10x worse)", err["d = 12"] < 2e-3
          and err["d = 6"] > 10 * err["d = 12"], **err)
    return err


def plot_lmu(top, bottom, windows, T=600):
    """Top: the input and the windows decoded from m_{T-1}; bottom: their errors."""
    t = np.arange(T - 160, T)
    top.plot(t, smooth_input(t), color="0.6", lw=3, label="the input u_t")
    for (d, (delays, dec, true)), style in zip(windows.items(), (":", "-", "--")):
        line, = top.plot(T - 1 - delays + 0.5, dec, style, lw=1.3,
                         label=f"decoded from m_{T - 1}, d = {d}")
        bottom.semilogy(delays, np.abs(dec - true), style, color=line.get_color(),
                        label=f"d = {d}: largest {np.abs(dec - true).max():.1e}")
    top.axvspan(T - 1 - 100, T - 1, color="0.93", zorder=0, label="the window θ = 100")
    top.set_xlabel("step t")
    top.legend(fontsize=8)
    bottom.set_xlabel("delay θ' (steps back from t = 599)")
    bottom.set_ylabel("|decoded - u|")
    legend_outside(bottom)          # inside, it sat on the error dips of d = 12 and 20
