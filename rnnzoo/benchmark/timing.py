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

from ..core.registry import available, make
from ..core.validation import (ArgumentTypeError, check_choice, check_int, check_optional,
                               check_seed, describe)
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
DTYPES = ("float32", "float64")


def check_dtype(dtype, where) -> str:
    """'float32' or 'float64' (a NumPy float32/float64 type or dtype too), as its name:
    what the timed cells take, and what a worker's JSON spec can carry."""
    try:
        name = np.dtype(dtype).name if not isinstance(dtype, (bool, int, float)) else None
    except TypeError:
        name = None
    if dtype is None or name not in DTYPES:
        raise (ArgumentTypeError if name is None else ValueError)(
            f"{where}: dtype must be 'float32' or 'float64'; got {describe(dtype)}")
    return name


def check_cells(cells, where, *, empty=False) -> list:
    """A list (or tuple) of registered cell names, checked before anything is timed: a
    single name is refused, not read as its letters."""
    if isinstance(cells, str) or not isinstance(cells, (list, tuple)):
        raise ArgumentTypeError(f"{where}: cells must be a list of cell names (e.g. ['gru']); "
                                f"got {describe(cells)}")
    known = available()
    wrong = [c for c in cells if not isinstance(c, str) or c not in known]
    if wrong or (not cells and not empty):
        raise ValueError(f"{where}: cells must be a {'' if empty else 'non-empty '}list of "
                         f"cell names among {', '.join(known)}; got {describe(list(cells))}"
                         + (f", whose {wrong!r} are not" if wrong else ""))
    return list(cells)


def check_grid(grid, name, where) -> list:
    """A non-empty list of sizes (integers >= 1)."""
    if isinstance(grid, (str, bytes)) or not hasattr(grid, "__iter__"):
        raise ArgumentTypeError(f"{where}: {name} must be a non-empty list of integers >= 1; "
                                f"got {describe(grid)}")
    grid = [check_int(v, f"{name}[{k}]", minimum=1, where=where) for k, v in enumerate(grid)]
    if not grid:
        raise ValueError(f"{where}: {name} must be a non-empty list of integers >= 1; got []")
    return grid


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
    return _best_of(fns, repeat, CLOCKS[clock])


def _best_of(fns, repeats, now) -> list:
    """Each function's fastest of ``repeats`` calls on the clock ``now``, the functions
    taking turns (a b a b ...): what both timers above and below measure."""
    best = [math.inf] * len(fns)
    for _ in range(repeats):
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
    w = "time_interleaved"
    if not isinstance(fns, dict) or not all(callable(fn) for fn in fns.values()):
        raise ArgumentTypeError(f"{w}: fns must be a dict of {{name: function of no "
                                f"arguments}}; got {describe(fns)}")
    if not fns:
        raise ValueError("time_interleaved needs at least one function")
    check_int(repeats, "repeats", minimum=1, where=w)
    check_int(warmup, "warmup", minimum=0, where=w)
    check_optional(check_int, threads, "threads", minimum=1, where=w)
    check_choice(clock, "clock", CLOCKS, where=w)
    with _blas_limit(threads):
        for _ in range(warmup):
            for fn in fns.values():
                fn()
        return dict(zip(fns, _best_of(list(fns.values()), repeats, CLOCKS[clock])))


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
    T, B = check_int(T, "T", minimum=1, where="time_rnnzoo"), \
        check_int(B, "B", minimum=1, where="time_rnnzoo")
    dtype = check_dtype(dtype, "time_rnnzoo")
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
    check_choice(mode, "mode", MODES, where="time_torch")
    T, B = check_int(T, "T", minimum=1, where="time_torch"), \
        check_int(B, "B", minimum=1, where="time_torch")
    dtype = check_dtype(dtype, "time_torch")
    cell = make(cell, D, H, seed=check_seed(seed, where="time_torch"), dtype=np.dtype(dtype))
    x, dhs = inputs(T, B, D, cell.output_size, dtype, seed)
    (torch_s,) = best_times([torch_runner(to_torch(cell), x, dhs, mode)], repeat, clock=clock)
    return {"torch_s": torch_s}
