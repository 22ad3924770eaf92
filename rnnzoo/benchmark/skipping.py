"""Measured savings of the cells that do less work per step (issue 10).

    python -m rnnzoo.benchmark.skipping            # all three, about a minute on a laptop

* :func:`qrnn_vs_lstm`: forward + backward of ``qrnn`` against rnnzoo's ``lstm`` (T=500,
  B=32, H=256, float32 by default), and how much of QRNN's time its sequential loop takes.
* :func:`clockwork_vs_rnn`: ``clockwork`` against a dense ``rnn`` of the same hidden size,
  time and the multiply-adds actually done.
* :func:`skipping_real_vs_masked`: a trained Skip RNN's real skipping
  (:meth:`~rnnzoo.cells.skiprnn.SkipRNN.forward_skipping`) against its masked forward,
  one sequence at a time (batch size 1), at the update rate the model chose.
* :func:`skip_gaps`: the paper's closed form ⌈0.5/Δũ⌉ − 1 for the steps skipped after an
  update, against what the model did.

Times are best-of-N wall seconds with the contestants taking turns
(:func:`.timing.time_interleaved`): compare ratios, not seconds. Not a test.
They run with one BLAS thread (``threads=1``): the per-step products of an LSTM or an
RNN are small, and on a busy machine a second BLAS thread that has to be woken at every
step makes them many times slower than the big products, which would flatter the
QRNN and the Clockwork RNN.
"""
from __future__ import annotations

import numpy as np

from ..core.registry import make
from .timing import time_interleaved


def _timed(fns, repeats, threads):
    # on one thread, CPU time: the notebooks claim these ratios while a test suite may
    # run beside them, and time given to other programs must not count
    return time_interleaved(fns, repeats=repeats, threads=threads,
                            clock="cpu" if threads == 1 else "wall")


def _inputs(T, B, D, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal((T, B, D)).astype(dtype)


def _fwd_bwd(cell, x):
    hs, _, cache = cell.forward(x)
    cell.backward(np.ones_like(hs), cache)


def pooling_loop_seconds(T, B, H, dtype=np.float32, repeats=5):
    """Best time of QRNN's sequential part alone: the fo-pooling recursion forward
    (c_t = f_t c_{t-1} + (1 - f_t) z_t, two elementwise calls a step) and its backward
    (dc_t += f_{t+1} dc_{t+1}, two a step), on (B, H) arrays."""
    rng = np.random.default_rng(0)
    f, add = (rng.random((T, B, H)).astype(dtype) for _ in range(2))
    c, dc = np.zeros((T + 1, B, H), dtype), rng.random((T, B, H)).astype(dtype)
    tmp = np.empty((B, H), dtype)

    def loop():
        for t in range(T):
            np.multiply(f[t], c[t], out=c[t + 1])
            c[t + 1] += add[t]
        for t in reversed(range(T - 1)):
            dc[t] += np.multiply(f[t + 1], dc[t + 1], out=tmp)
    return _timed({"loop": loop}, repeats, 1)["loop"]


def qrnn_vs_lstm(T=500, B=32, H=256, D=None, *, dtype=np.float32, repeats=5, window=2,
                 threads=1):
    """Forward + backward seconds of qrnn (fo-pooling, window k) and lstm (forget bias 1)
    on the same input; returns a dict with the settings (``repeats``: best of how many),
    both times, their ratio, and the seconds and fraction of QRNN's time spent in its
    sequential loop."""
    D = H if D is None else D
    x = _inputs(T, B, D, dtype)
    qrnn = make("qrnn", D, H, dtype=dtype, window=window)
    lstm = make("lstm", D, H, dtype=dtype, forget_bias=1.0)
    best = _timed({"qrnn": lambda: _fwd_bwd(qrnn, x), "lstm": lambda: _fwd_bwd(lstm, x)},
                  repeats, threads)
    loop = pooling_loop_seconds(T, B, H, dtype, repeats)
    return {"T": T, "B": B, "H": H, "D": D, "repeats": repeats,
            "qrnn_s": best["qrnn"], "lstm_s": best["lstm"],
            "ratio": best["lstm"] / best["qrnn"], "loop_s": loop,
            "loop_fraction": loop / best["qrnn"]}


def clockwork_vs_rnn(T=1000, B=32, H=256, D=64, *, modules=8, dtype=np.float32, repeats=5,
                     threads=1):
    """Clockwork (``modules`` modules, periods 1, 2, 4, ...) against a dense tanh rnn of
    the same H: forward seconds, forward + backward seconds, and multiply-adds of a
    forward pass (recurrent products plus input projection)."""
    x = _inputs(T, B, D, dtype)
    cw = make("clockwork", D, H, dtype=dtype, modules=modules)
    rnn = make("rnn", D, H, dtype=dtype)
    fwd = _timed({"clockwork": lambda: cw.forward(x), "rnn": lambda: rnn.forward(x)},
                 repeats, threads)
    both = _timed({"clockwork": lambda: _fwd_bwd(cw, x), "rnn": lambda: _fwd_bwd(rnn, x)},
                  repeats, threads)
    done, dense = cw.multiply_adds(T, B)
    return {"T": T, "B": B, "H": H, "D": D, "modules": modules,
            "fwd_clockwork_s": fwd["clockwork"], "fwd_rnn_s": fwd["rnn"],
            "fwd_speedup": fwd["rnn"] / fwd["clockwork"],
            "fwdbwd_clockwork_s": both["clockwork"], "fwdbwd_rnn_s": both["rnn"],
            "fwdbwd_speedup": both["rnn"] / both["clockwork"],
            "macs_clockwork": done, "macs_rnn": dense, "macs_fraction": done / dense}


def skipping_real_vs_masked(cell, x, *, repeats=5, threads=1):
    """A hard Skip RNN on the sequences of x (T, N, D), one at a time (batch size 1):
    seconds for all N with the masked forward and with real skipping, and the fraction
    of steps that updated."""
    seqs = [x[:, n:n + 1] for n in range(x.shape[1])]
    updates = np.concatenate([cell.forward_skipping(s)[2] for s in seqs], axis=1)

    def masked():
        for s in seqs:
            cell.forward(s)

    def real():
        for s in seqs:
            cell.forward_skipping(s)
    best = _timed({"masked": masked, "real": real}, repeats, threads)
    return {"sequences": len(seqs), "T": x.shape[0], "update_fraction": float(updates.mean()),
            "masked_s": best["masked"], "real_s": best["real"],
            "speedup": best["masked"] / best["real"]}


def skip_gaps(cell, x):
    """For every update followed by another one in x (T, B, D): the steps skipped in
    between and the paper's prediction ⌈0.5/Δũ_t⌉ − 1 from the Δũ at the update.
    Returns (actual, predicted) integer arrays."""
    _, _, cache = cell.forward(x)
    u, delta = np.asarray(cache.u[:, :, 0]), np.asarray(cache.delta[:, :, 0], dtype=float)
    actual, predicted = [], []
    for b in range(u.shape[1]):
        ups = np.flatnonzero(u[:, b])
        for a, nxt in zip(ups, ups[1:]):
            actual.append(nxt - a - 1)
            predicted.append(int(np.ceil(0.5 / delta[a, b])) - 1)
    return np.array(actual, dtype=int), np.array(predicted, dtype=int)


def main(argv=None):
    import argparse
    # no options: the parser is there for --help (which used to start the minute of timing)
    argparse.ArgumentParser(prog="python -m rnnzoo.benchmark.skipping",
                            description=__doc__.split("\n\n")[0]).parse_args(argv)
    from ..training.model import build_model
    from ..training.tasks import make_task
    from ..training.trainer import train

    for window, D in ((2, 256), (1, 256), (2, 32)):
        q = qrnn_vs_lstm(D=D, window=window)
        print(f"qrnn (k={window}) vs lstm, forward+backward, T={q['T']} B={q['B']} "
              f"D={q['D']} H={q['H']} float32: qrnn {q['qrnn_s'] * 1e3:.1f} ms, lstm "
              f"{q['lstm_s'] * 1e3:.1f} ms, lstm/qrnn = {q['ratio']:.2f}x; the sequential "
              f"loop takes {q['loop_s'] * 1e3:.1f} ms = {q['loop_fraction']:.0%} of qrnn's")
    c = clockwork_vs_rnn()
    print(f"clockwork ({c['modules']} modules) vs rnn, T={c['T']} B={c['B']} H={c['H']} "
          f"D={c['D']}: forward {c['fwd_speedup']:.2f}x faster, forward+backward "
          f"{c['fwdbwd_speedup']:.2f}x; multiply-adds {c['macs_fraction']:.1%} of the rnn's")
    task = make_task("adding", T=50, layout="skiprnn")
    model = build_model("skiprnn", 2, 32, 1, readout="last", seed=0, dtype=np.float32,
                        budget=1e-4)
    train(model, task, 400, lr=1e-2, progress=False)
    x = task.eval_data()[0][:, :50].astype(np.float32)
    s = skipping_real_vs_masked(model.cells[0], x)
    print(f"skiprnn (adding T=50, lambda=1e-4, 400 steps) at batch size 1, "
          f"{s['sequences']} sequences: updates {s['update_fraction']:.0%} of steps; masked "
          f"{s['masked_s'] * 1e3:.0f} ms, real skipping {s['real_s'] * 1e3:.0f} ms "
          f"({s['speedup']:.2f}x)")
    actual, predicted = skip_gaps(model.cells[0], x)
    print(f"eq. 6: {np.mean(actual == predicted):.1%} of {actual.size} gaps match "
          f"ceil(0.5/delta) - 1")


if __name__ == "__main__":
    main()
