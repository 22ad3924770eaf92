"""In-process timing of one measurement: an rnnzoo cell, its matrix products alone, or
the PyTorch module with the same equations.

Every function here runs inside one fresh worker process (:mod:`.worker`); the fair
comparison between processes is :mod:`.fair`'s job.
"""
from __future__ import annotations

import contextlib
import math
import os
import time

import numpy as np

from ..core.registry import make
from ..core.validation import check_choice, check_int, check_optional
from .gemms import gemm_runner, trace_gemms

TORCH_COUNTERPART = ("rnn", "lstm", "gru")
MODES = ("fb", "f")                     # forward + backward, forward only


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


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def best_times(fns, repeat: int, warmup_s: float = 0.2, clock: str = "wall") -> list:
    """Best wall time of ``repeat`` calls of each function, in seconds, after untimed
    warm-up calls (at least 1 each, and ``warmup_s`` seconds in all: a fresh process's
    first calls pay for lazy initialization, torch's especially); the functions take
    turns (a b a b ...), so a slow spell on a busy machine hits them alike.

    ``clock="cpu"`` measures this process's CPU time (all its threads) instead of wall
    time: on a machine shared with other work, the time the scheduler gives to others
    is then not counted. With one thread per library it is the fairer clock there."""
    check_int(repeat, "repeat", minimum=1, where="best_times")
    check_choice(clock, "clock", CLOCKS, where="best_times")
    start, calls = time.perf_counter(), 0
    while calls < 1 or (time.perf_counter() - start < warmup_s and calls < 50):
        for fn in fns:
            fn()
        calls += 1
    now = CLOCKS[clock]
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            start = now()
            fn()
            best[k] = min(best[k], now() - start)
    return best


def time_interleaved(fns, repeats=7, warmup=1, threads=None, clock="wall") -> dict:
    """Best-of-``repeats`` time of each function, the functions taking turns so a
    change in the machine's load hits all of them alike. Compare ratios, not seconds:
    another program on the machine moves every number.

    ``threads`` caps NumPy's BLAS threads while timing (None leaves them as they are).
    ``clock="cpu"`` counts this process's CPU time instead of wall time, so time the
    scheduler gives to other programs is not counted; with ``threads=1`` it is the clock
    that holds a ratio steady on a busy machine (a test suite running beside a notebook
    moved a wall-clock ratio from 0.7 to 1.3). It counts every thread of the process
    (``time.process_time``), so a thread left running elsewhere in the program is
    counted too: a 50 ms sleep timed inside a pytest-xdist worker cost 24-37 ms of CPU
    time, and 0 in a fresh process. Use it with ``threads=1``, in a process that runs
    nothing else while it times."""
    if not fns:
        raise ValueError("time_interleaved needs at least one function")
    check_int(repeats, "repeats", minimum=1)
    check_int(warmup, "warmup", minimum=0)
    check_optional(check_int, threads, "threads", minimum=1)
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {sorted(CLOCKS)}; got {clock!r}")
    now = CLOCKS[clock]
    with _blas_limit(threads):
        for _ in range(warmup):
            for fn in fns.values():
                fn()
        best = {name: math.inf for name in fns}
        for _ in range(repeats):
            for name, fn in fns.items():
                start = now()
                fn()
                best[name] = min(best[name], now() - start)
    return best


def _blas_limit(threads):
    """A context that caps the BLAS threads at ``threads`` (None: leaves them alone)."""
    if threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits
    return threadpool_limits(threads)


def inputs(T, B, D, output_size, dtype, seed=0):
    """The input x (T, B, D) and a random upstream gradient dhs (T, B, output_size)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, B, D)).astype(dtype)
    return x, rng.standard_normal((T, B, output_size)).astype(dtype)


def cell_runner(cell, x, dhs, mode="fb"):
    """One forward (and, for mode "fb", one backward) of an rnnzoo cell."""
    if check_choice(mode, "mode", MODES, where="cell_runner") == "f":
        return lambda: cell.forward(x)

    def run():
        _, _, cache = cell.forward(x)
        cell.backward(dhs, cache)
    return run


def time_rnnzoo(cell, T, B, D, H, mode="fb", dtype="float32", repeat=7, seed=0, clock="wall",
                **options):
    """Best-of-``repeat`` seconds of the cell and of its matrix products alone, taking
    turns in this one process. Returns {"cell_s", "gemm_s", "gemms"}."""
    check_choice(mode, "mode", MODES, where="time_rnnzoo")   # before building and tracing
    cell = make(cell, D, H, seed=seed, dtype=np.dtype(dtype), **options)
    x, dhs = inputs(T, B, D, cell.output_size, dtype, seed)
    log = trace_gemms(cell, x, dhs if mode == "fb" else None)
    cell_s, gemm_s = best_times([cell_runner(cell, x, dhs, mode), gemm_runner(log)], repeat,
                                 clock=clock)
    return {"cell_s": cell_s, "gemm_s": gemm_s, "gemms": len(log)}


def torch_runner(module, x, dhs, mode="fb", device="cpu"):
    """One forward (with the autograd graph, as in training) and, for mode "fb", one
    backward of ``sum(outputs * dhs)`` down to the input, of a torch module (already on
    ``device``)."""
    check_choice(mode, "mode", MODES, where="torch_runner")
    import torch
    xt = torch.from_numpy(x).to(device).requires_grad_(True)
    gt = torch.from_numpy(dhs).to(device)

    def run():
        xt.grad = None
        module.zero_grad(set_to_none=True)
        out, _ = module(xt)
        if mode == "fb":
            (out * gt).sum().backward()
    return run


def time_torch(cell, T, B, D, H, mode="fb", dtype="float32", repeat=7, seed=0, clock="wall"):
    """Best-of-``repeat`` seconds of ``torch.nn.RNN/LSTM/GRU`` on the CPU with the weights
    of rnnzoo's cell of the same name, at torch's default thread count."""
    from ..core.torch_interop import to_torch
    cell = make(cell, D, H, seed=seed, dtype=np.dtype(dtype))
    x, dhs = inputs(T, B, D, cell.output_size, dtype, seed)
    (torch_s,) = best_times([torch_runner(to_torch(cell), x, dhs, mode)], repeat, clock=clock)
    return {"torch_s": torch_s}
