"""Time forward + backward of every registered cell, and of PyTorch's CPU modules.

    python -m rnnzoo.benchmark                       # T=100, B=64, D=H=256, float32
    python -m rnnzoo.benchmark --cells lstm,gru --repeat 20 --dtype float64

or from a notebook, with small sizes::

    rows = rnnzoo.benchmark.benchmark(T=20, B=8, D=32, H=32)

Each time is the best of ``repeat`` runs of one forward and one backward (with random
upstream gradients on the outputs) after a warm-up run; best-of-N is the estimate least
disturbed by other work on the machine, and rnnzoo's and torch's runs alternate so that
their ratio compares the two under the same conditions. When PyTorch is installed, cells with a PyTorch
counterpart (``rnn``, ``lstm``, ``gru``) are also timed as ``torch.nn.RNN/LSTM/GRU`` on
the CPU with the same weights and shapes: forward, then backward of
``sum(outputs * random)`` down to the input, with torch limited to as many threads as
NumPy's BLAS uses. ``ratio`` is rnnzoo's time over torch's (below 1: rnnzoo is faster).
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from .registry import available, make

DEFAULTS = dict(T=100, B=64, D=256, H=256, repeat=20, dtype="float32")
TORCH_COUNTERPART = ("rnn", "lstm", "gru")


def blas_threads() -> int:
    """How many threads NumPy's BLAS uses: asked of threadpoolctl when it is installed,
    else the usual environment variables, else the CPUs this process may run on
    (OpenBLAS's own default)."""
    try:
        from threadpoolctl import threadpool_info
        counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"
                  and "numpy" in p.get("filepath", "")]
        if counts:
            return int(counts[0])
    except Exception:  # not installed, or an unexpected report: fall back
        pass
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def best_times(fns, repeat: int, rounds: int = 4) -> list:
    """Best wall time of ``repeat`` calls of each function, in seconds.

    The candidates take turns in ``rounds`` blocks (a a a, b b b, a a a, ...) so that a
    slow spell on a busy machine hits each of them alike rather than whichever ran
    during it. Each block starts with one untimed call: BLAS and OpenMP worker threads
    keep spinning for a while after their library's last call (OpenBLAS for ~0.1 s) and
    would otherwise slow down the first call of the other candidate.
    """
    best = [float("inf")] * len(fns)
    per_block = max(1, -(-repeat // rounds))
    for _ in range(min(rounds, repeat)):
        for k, fn in enumerate(fns):
            fn()
            for _ in range(per_block):
                start = time.perf_counter()
                fn()
                best[k] = min(best[k], time.perf_counter() - start)
    return best


def cell_runner(cell, x, dhs):
    """One forward and one backward of an rnnzoo cell."""
    def run():
        _, _, cache = cell.forward(x)
        cell.backward(dhs, cache)
    return run


def torch_runner(module, x, dhs):
    """One forward and one backward (down to the input) of a torch module."""
    import torch
    xt = torch.from_numpy(x).requires_grad_(True)
    gt = torch.from_numpy(dhs)

    def run():
        xt.grad = None
        module.zero_grad(set_to_none=True)
        out, _ = module(xt)
        (out * gt).sum().backward()
    return run


def _torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch


def benchmark(cells=None, T=DEFAULTS["T"], B=DEFAULTS["B"], D=DEFAULTS["D"], H=DEFAULTS["H"],
              repeat=DEFAULTS["repeat"], dtype=DEFAULTS["dtype"], compare_torch=True,
              seed=0) -> list:
    """Time each cell (default: every registered cell); return one dict per cell with
    keys cell, dtype, T, B, D, H, rnnzoo_ms, torch_ms and ratio (None without torch or
    without a PyTorch counterpart)."""
    names = available() if cells is None else list(cells)
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, B, D)).astype(dtype)
    torch = _torch_or_none() if compare_torch else None
    if torch is not None:
        from .torch_interop import to_torch
        previous_threads = torch.get_num_threads()
        torch.set_num_threads(blas_threads())
    rows = []
    try:
        for name in names:
            cell = make(name, D, H, seed=seed, dtype=dtype)
            dhs = rng.standard_normal((T, B, cell.output_size)).astype(dtype)
            runners = [cell_runner(cell, x, dhs)]
            if torch is not None and name in TORCH_COUNTERPART:
                runners.append(torch_runner(to_torch(cell), x, dhs))
            ours, theirs = (best_times(runners, repeat) + [None])[:2]
            rows.append({"cell": name, "dtype": dtype.name, "T": T, "B": B, "D": D, "H": H,
                         "rnnzoo_ms": 1e3 * ours,
                         "torch_ms": None if theirs is None else 1e3 * theirs,
                         "ratio": None if theirs is None else ours / theirs})
    finally:
        if torch is not None:
            torch.set_num_threads(previous_threads)
    return rows


def format_table(rows) -> str:
    head = f"{'cell':<12}{'rnnzoo ms':>12}{'torch ms':>12}{'rnnzoo/torch':>14}"
    lines = [head, "-" * len(head)]
    for r in rows:
        # three significant digits, not two decimals: at tiny test sizes a time of a few
        # microseconds (and its ratio) must not print as 0.00
        torch_ms = "-" if r["torch_ms"] is None else f"{r['torch_ms']:.3g}"
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.3g}x"
        lines.append(f"{r['cell']:<12}{r['rnnzoo_ms']:>12.3g}{torch_ms:>12}{ratio:>14}")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m rnnzoo bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    from .cli_train import POSITIVE_INT
    for flag in ("T", "B", "D", "H"):
        p.add_argument(f"--{flag}", type=POSITIVE_INT, default=DEFAULTS[flag])
    p.add_argument("--repeat", type=POSITIVE_INT, default=DEFAULTS["repeat"],
                   help="best of this many timed runs (default %(default)s)")
    p.add_argument("--cells", default=None,
                   help="comma-separated cell names (default: every registered cell)")
    p.add_argument("--dtype", choices=("float32", "float64"), default=DEFAULTS["dtype"])
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    args = p.parse_args(argv)
    cells = None if args.cells is None else [c.strip() for c in args.cells.split(",") if c.strip()]
    unknown = [c for c in cells or () if c not in available()]
    if unknown or cells == []:
        p.error(f"--cells: unknown cell(s) {unknown or args.cells!r}; available: "
                f"{', '.join(available())}")
    torch = None if args.no_torch else _torch_or_none()
    threads = blas_threads()
    print(f"forward + backward, best of {args.repeat}: T={args.T} B={args.B} D={args.D} "
          f"H={args.H} {args.dtype}; numpy {np.__version__}"
          + ("" if torch is None else f", torch {torch.__version__} ({threads} threads)"))
    rows = benchmark(cells, T=args.T, B=args.B, D=args.D, H=args.H, repeat=args.repeat,
                     dtype=args.dtype, compare_torch=not args.no_torch)
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
