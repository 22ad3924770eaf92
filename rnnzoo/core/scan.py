# placeholder: replaced at merge by the scan helper's module
"""h[t] = a[t] * h[t-1] + b[t], as a plain loop (the API of the scan helper's module; the
``mode`` argument is accepted and ignored here)."""
from __future__ import annotations

from .ops import array_module


def linear_scan(a, b, h0, mode="auto"):
    """h (T, B, H) with h[t] = a[t] * h[t-1] + b[t], h[-1] = h0; a (T, B, H) or (H,)."""
    xp = array_module(b)
    h = xp.empty(b.shape, dtype=xp.result_type(a, b, h0))
    prev = h0
    for t in range(b.shape[0]):
        h[t] = (a if a.ndim == 1 else a[t]) * prev + b[t]
        prev = h[t]
    return h


def linear_scan_backward(a, h, h0, dh, mode="auto"):
    """(da, db, dh0) of :func:`linear_scan` given dL/dh (complex: dL/dRe + i dL/dIm)."""
    xp = array_module(dh)
    T = dh.shape[0]
    delta = xp.empty(dh.shape, dtype=xp.result_type(a, h, dh))
    delta[T - 1] = dh[T - 1]
    for t in range(T - 2, -1, -1):
        delta[t] = dh[t] + xp.conj(a if a.ndim == 1 else a[t + 1]) * delta[t + 1]
    h_prev = xp.concatenate([h0[None], h[:-1]])
    da = delta * xp.conj(h_prev)
    if a.ndim == 1:
        da = da.sum(axis=(0, 1))
    dh0 = xp.conj(a if a.ndim == 1 else a[0]) * delta[0]
    return da, delta, dh0
