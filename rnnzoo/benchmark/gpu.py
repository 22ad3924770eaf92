"""Every cell on the GPU through CuPy, and ``rnn``/``lstm``/``gru`` against cuDNN:
``python -m rnnzoo bench --backend cupy``.

On a GPU the CPU-side rules change: one process holds the device, the two libraries
share it without competing for CPU threads, and device work is asynchronous. So each
measurement synchronizes the device before reading the clock, warms up first (CuPy
compiles its elementwise kernels on first use, cuDNN picks its algorithms), and reports
the median of ``repeat`` timed calls; rnnzoo and torch take turns.

torch runs with TF32 switched off (``torch.backends.cuda.matmul.allow_tf32`` and
``torch.backends.cudnn.allow_tf32`` False), as CuPy's matrix products are true float32 by
default: both libraries then compute in the same precision.

At these sizes an rnnzoo step is a few dozen small kernel launches from Python, while
cuDNN runs each layer's recurrence in a few fused kernels: the ratio measures launch and
interpreter overhead far more than arithmetic (an H=512 LSTM step is ~1 GFLOP for B=64,
microseconds of an H100's time).
"""
from __future__ import annotations

import statistics
import time

import numpy as np

from ..core.registry import make
from .timing import TORCH_COUNTERPART, cell_runner, inputs, torch_runner

# the CPU benchmark's three shapes, the cuDNN comparison (100/64/512), and
# 100/1/8, where the arithmetic is nil and what remains is the cost of issuing the work
GPU_SHAPES = ((100, 64, 256), (100, 32, 128), (1000, 16, 128), (100, 64, 512), (100, 1, 8))


def _median_times(fns, repeat, sync, warmup=3):
    """Per function, the medians over ``repeat`` calls (taking turns, each bracketed by
    device synchronizations) of (seconds until the call returned, seconds until the device
    finished). Their ratio says who waits: near 1, the GPU was idle waiting for Python to
    issue the next kernel; well below 1, Python was waiting for the GPU."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    sync()
    issued, done = [[] for _ in fns], [[] for _ in fns]
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            sync()
            start = time.perf_counter()
            fn()
            issued[k].append(time.perf_counter() - start)
            sync()
            done[k].append(time.perf_counter() - start)
    return [(statistics.median(i), statistics.median(d)) for i, d in zip(issued, done)]


def _torch_gpu_runner(cell_host, x, dhs, mode):
    """``torch.nn.RNN/LSTM/GRU`` on the GPU (cuDNN) with the host cell's weights."""
    import torch

    from ..core.torch_interop import to_torch
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    module = to_torch(cell_host).cuda()
    run = torch_runner(module, x, dhs, mode, device="cuda")
    return run, torch.cuda.synchronize


def seconds_per_launch(calls=2000, shape=(64, 512)):
    """Seconds per small CuPy elementwise call issued from Python (interpreter, argument
    checks and kernel launch), the unit of an rnnzoo step's cost on a GPU at small sizes:
    ``calls`` in-place multiplies of a float32 ``shape`` array, one synchronization."""
    import cupy
    a = cupy.ones(shape, dtype=cupy.float32)
    b = cupy.full(shape, 0.999, dtype=cupy.float32)
    for _ in range(10):
        cupy.multiply(a, b, out=a)
    cupy.cuda.Device().synchronize()
    start = time.perf_counter()
    for _ in range(calls):
        cupy.multiply(a, b, out=a)
    cupy.cuda.Device().synchronize()
    return (time.perf_counter() - start) / calls


def gpu_benchmark(cells, shapes=GPU_SHAPES, modes=("fb",), repeat=10, dtype="float32",
                  with_torch=True, progress=None):
    """Rows {"cell", "T", "B", "H", "mode", "cupy_s", "torch_s"} (torch_s None where torch
    has no counterpart or is absent)."""
    import cupy
    sync = cupy.cuda.Device().synchronize
    rows, total, done = [], len(cells) * len(shapes) * len(modes), 0
    for name in cells:
        for T, B, H in shapes:
            for mode in modes:
                gpu = make(name, H, H, seed=0, dtype=np.dtype(dtype), backend="cupy")
                x, dhs = inputs(T, B, H, gpu.output_size, dtype)
                fns, syncs = [cell_runner(gpu, cupy.asarray(x), cupy.asarray(dhs), mode)], [sync]
                if with_torch and name in TORCH_COUNTERPART:
                    host = make(name, H, H, seed=0, dtype=np.dtype(dtype))
                    run, torch_sync = _torch_gpu_runner(host, x, dhs, mode)
                    fns.append(run)
                    syncs.append(torch_sync)

                def both():
                    for s in syncs:
                        s()
                secs = _median_times(fns, repeat, both)
                rows.append({"cell": name, "T": T, "B": B, "H": H, "mode": mode,
                             "cupy_s": secs[0][1], "cupy_issue_s": secs[0][0],
                             "torch_s": secs[1][1] if len(secs) > 1 else None})
                done += 1
                if progress:
                    progress(done, total, name, (T, B, H), mode)
    return rows


def gpu_table(rows) -> str:
    lines = ["| cell | T/B/H | mode | rnnzoo on CuPy ms | Python issuing, share of it | "
             "torch cuDNN ms | rnnzoo / torch |",
             "|---|---|---|---:|---:|---:|---:|"]
    for r in rows:
        torch_ms = "-" if r["torch_s"] is None else f"{1e3 * r['torch_s']:.3g}"
        ratio = "-" if r["torch_s"] is None else f"{r['cupy_s'] / r['torch_s']:.2f}x"
        lines.append(f"| `{r['cell']}` | {r['T']}/{r['B']}/{r['H']} | {r['mode']} | "
                     f"{1e3 * r['cupy_s']:.3g} | {r['cupy_issue_s'] / r['cupy_s']:.0%} | "
                     f"{torch_ms} | {ratio} |")
    return "\n".join(lines)


def device_name() -> str:
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)
