"""A cell's matrix products alone: the floor a NumPy implementation can approach.

:func:`trace_gemms` runs one forward (and backward) of a cell with every array it
touches viewed as :class:`_Traced`, an ndarray subclass whose ``__array_ufunc__``
writes down every call of ``np.matmul`` (which ``a @ b`` is) with the very operand
arrays it got. :func:`gemm_runner` then replays just those products, on the same
arrays (so the same shapes, transposes and memory layouts), each into a preallocated
output. Its time is what the cell would cost if everything outside its matrix products
(the gates, the Python calls, the copies) were free; a cell's time over it says how much
of the time goes to that other work.

Works for any registered cell without knowing its equations: the cell asks its ``xp``
for buffers, and during the trace ``xp`` is :class:`_TracingNumpy`, which hands out
traced arrays. FFTs (``urnn``) are not matrix products and are not counted.
"""
from __future__ import annotations

import numpy as np

from ..core.base import RecurrentCell


class _Traced(np.ndarray):
    """An ndarray that records the matrix products it takes part in (see module doc)."""

    computes_as_ndarray = True       # every ufunc runs on plain views: the cells accept it

    log: list | None = None          # set on the class while a trace runs
    ops: list | None = None          # every ufunc call: (name, wrote into out=, elements)

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        plain = tuple(_plain(a) for a in inputs)
        if out is not None:
            kwargs["out"] = tuple(_plain(o) for o in out)
        result = getattr(ufunc, method)(*plain, **kwargs)
        if ufunc is np.matmul and method == "__call__" and _Traced.log is not None:
            _Traced.log.append((plain[0], plain[1], kwargs["out"][0] if out else None))
        if _Traced.ops is not None:
            size = max(getattr(a, "size", 1) for a in plain)
            _Traced.ops.append((f"{ufunc.__name__}.{method}", out is not None, size))
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _traced(result)


def _plain(a):
    return a.view(np.ndarray) if isinstance(a, _Traced) else a


def _traced(value):
    if isinstance(value, np.ndarray) and not isinstance(value, _Traced):
        return value.view(_Traced)
    if isinstance(value, tuple):
        return tuple(_traced(v) for v in value)
    return value


class _TracingNumpy:
    """Stands in for ``numpy`` as a cell's ``xp``: every array it returns is traced."""

    def __init__(self, module=np):
        self._module = module

    def __getattr__(self, name):
        obj = getattr(self._module, name)
        if isinstance(obj, type(np)):                       # np.linalg, np.fft
            return _TracingNumpy(obj)
        if callable(obj) and not isinstance(obj, type):
            return lambda *a, **k: _traced(obj(*a, **k))
        return obj


def trace_gemms(cell, x, dhs=None, ops=None):
    """Run ``cell`` once on ``x`` (forward, and backward with ``dhs`` when given) and
    return the list of (a, b, out) of every matrix product it did, in order. A list
    passed as ``ops`` receives (ufunc name, wrote into out=, elements) of every
    elementwise call and product, for :func:`op_counts`."""
    saved_xp, saved_params = cell.xp, cell.params
    # a wrapped base cell (skiprnn's ``cell``) allocates its own buffers: trace those too
    inner = [v for v in vars(cell).values() if isinstance(v, RecurrentCell)]
    inner_xp = [c.xp for c in inner]
    log = []
    cell.xp = _TracingNumpy()
    for c in inner:
        c.xp = _TracingNumpy()
    cell.params = {k: v.view(_Traced) for k, v in saved_params.items()}
    _Traced.log, _Traced.ops = log, ops
    try:
        _, _, cache = cell.forward(x.view(_Traced))
        if dhs is not None:
            cell.backward(dhs.view(_Traced), cache)
    finally:
        _Traced.log = _Traced.ops = None
        cell.xp, cell.params = saved_xp, saved_params
        for c, xp in zip(inner, inner_xp):
            c.xp = xp
    return log


def gemm_runner(log):
    """A function that replays the traced products, each into its own preallocated
    output (or the cell's own ``out=`` buffer when it gave one)."""
    calls = [(a, b, np.matmul(a, b) if out is None else out) for a, b, out in log]
    matmul = np.matmul

    def run():
        for a, b, out in calls:
            matmul(a, b, out=out)
    return run


def gemm_flops(log) -> int:
    """Multiply-adds of the traced products (2 flops each)."""
    total = 0
    for a, b, _ in log:
        out_shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) if a.ndim > 2 or b.ndim > 2 \
            else ()
        m = a.shape[-2] if a.ndim > 1 else 1
        n = b.shape[-1] if b.ndim > 1 else 1
        total += int(np.prod(out_shape, dtype=np.int64)) * m * n * a.shape[-1]
    return total


def op_counts(cell, x, dhs=None) -> dict:
    """Per time step of one forward (and backward): ufunc calls (``calls``), those that
    allocated their result (``temporaries``) and the elements they passed over in units
    of one (B, H) state (``passes``); matrix products are counted apart (``gemms``).
    Reductions and copies that are not ufuncs (``copyto``, ``sum``) are not seen."""
    ops = []
    trace_gemms(cell, x, dhs, ops)
    T, B = x.shape[0], x.shape[1]
    elementwise = [o for o in ops if not o[0].startswith("matmul")]
    return {"calls": len(elementwise) / T,
            "temporaries": sum(not wrote for _, wrote, _ in elementwise) / T,
            "passes": sum(n for _, _, n in elementwise) / (T * B * cell.output_size),
            "gemms": (len(ops) - len(elementwise)) / T}
