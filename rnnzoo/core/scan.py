r"""The linear scan :math:`h_t = a_t \odot h_{t-1} + b_t` and its backward, in three forms.

The recurrences of minGRU, minLSTM, LRU, S6 and S4D's recurrent mode are this one line:
the hidden-to-hidden map is diagonal and does not depend on h, so the whole sequence is a
scan of elementwise multiply-adds instead of a loop of matrix products.

    h = linear_scan(a, b, h0, mode="auto")                       # h[t] = a[t] h[t-1] + b[t]
    da, db, dh0 = linear_scan_backward(a, h, h0, dh, mode="auto")

Shapes: b (T, B, H); h0 (B, H), the state before step 0; a (T, B, H), or (H,) for one
diagonal shared by every step and row (LRU's λ). Real or complex (complex anywhere gives
a complex h); h is returned in the result dtype of a, b and h0. NumPy or CuPy (``xp``).

Forms (``mode``)
----------------
``"loop"``
    T steps, each one (B, H) multiply and one add: the sequential reference.
``"doubling"``
    Hillis & Steele's scan (1986). Step t is the affine map h -> a_t h + b_t; h0 is
    folded into step 0 (its map is then the constant a_0 h0 + b_0). Each pass composes
    every element with the one d steps before it,

    .. math:: (A_t, B_t) \leftarrow (A_t A_{t-d},\; A_t B_{t-d} + B_t), \qquad d = 1, 2, 4, \dots

    so after ceil(log2 T) passes element t holds the composition of steps 0..t and
    B_t = h_t. O(T log T) work in about four whole-array operations a pass, against 2T
    small ones for the loop. (Blelloch's work-efficient O(T) form takes twice the passes
    and more index bookkeeping; what costs on a GPU at these sizes is kernel launches, not
    flops.)
``"log"``
    Heinsen (2023), "Efficient parallelization of a ubiquitous sequential computation",
    for real a > 0, b > 0, h0 > 0 (a ValueError otherwise): with
    :math:`a^*_t = \sum_{s \le t} \log a_s`,

    .. math:: \log h_t = a^*_t + \operatorname{logcumsumexp}_{s = -1..t}(\log b_s - a^*_s),
              \qquad \log b_{-1} = \log h_0,\ a^*_{-1} = 0.

    Its error grows with :math:`|a^*_t|`, about T |log a| (the two terms cancel): in
    float64, 2e-14 of the largest h at T = 256 and 4e-13 at T = 4096 (a* down to -2100,
    a uniform in (0.3, 0.99)), against 4e-16 for doubling. :func:`log_space_scan` takes the
    logs themselves (minGRU's and minLSTM's paper form computes them directly, and
    -inf stands for a zero h0).
``"auto"``
    The fastest valid form for the backend, :data:`AUTO`: measured on NumPy (below); on
    CuPy chosen by counting kernels, unmeasured (no GPU was available): the loop issues
    2T small kernels forward and 2T backward, doubling about 4 ceil(log2 T), so at
    T = 1024 some 40 launches replace 2048 and the extra O(log T) work is cheap on a GPU.

Measured: the ``forms`` table of ``figures/speed/scan.md`` (``python -m rnnzoo bench
--scan forms``: forward + backward, B = 16, H = 128, a (T, B, H), T = 256 to 4096, float32
and float64, one thread, the forms taking turns; tests/test_bench_scan.py checks that the
committed run supports :data:`AUTO`'s choice).

On the CPU the loop wins at every T and dtype: its 4T small operations on
(B, H) = 2048 numbers cost microseconds each, while every doubling pass streams whole
(T, B, H) arrays through memory (log2 T times the work), and the log form pays for
log, exp and NumPy's slow ``logaddexp.accumulate`` (three scans of it: one forward,
two backward). The ratios within a row are what counts: the machine's load moves its
milliseconds.

Backward
--------
The same scan run backwards in time. With dh[t] = dL/dh[t] from outside the scan, the
total gradient reaching h[t] is

.. math:: \delta_t = dh_t + \bar a_{t+1} \odot \delta_{t+1}, \qquad \delta_T = 0,

and then dL/db_t = δ_t, dL/da_t = δ_t ⊙ conj(h_{t-1}) (h_{-1} = h0; summed over t and
B when a is (H,)), dL/dh0 = conj(a_0) ⊙ δ_0. Complex gradients are dL/dRe + i dL/dIm,
so for real tensors everything is the ordinary gradient; the gradient of a real tensor
is the real part (a real a in a complex scan gets Re(δ conj(h))). da and dh0 come back in
a's and h0's dtypes, db in the result dtype. In ``"log"`` mode (real a > 0 and real dh)
δ is the difference of two positive scans, of dh's positive and negative parts.
"""
from __future__ import annotations

import numpy as np

from .backend import array_type_name, backend_of, to_numpy
from .cell_checks import _computes_as_ndarray
from .ops import array_module
from .validation import ArgumentTypeError, check_choice

MODES = ("auto", "loop", "doubling", "log")
AUTO = {"numpy": "loop", "cupy": "doubling"}     # see the module docstring
DTYPES = tuple(np.dtype(d) for d in (np.float32, np.float64, np.complex64, np.complex128))


# ------------------------------------------------------------------ argument checks
def _backend(v, name, where):
    """The backend of array ``v``; an error naming ``name`` for anything else."""
    try:
        backend = backend_of(v)
    except TypeError:
        raise ArgumentTypeError(f"{where}: {name} must be a numpy or cupy array; got "
                                f"{type(v).__name__}") from None
    if type(v) is not np.ndarray and isinstance(v, np.ndarray) and \
            not _computes_as_ndarray(v):             # np.matrix's * is a matrix product
        raise ArgumentTypeError(f"{where}: {name} must be a plain ndarray; got a "
                                f"{array_type_name(v)} (an ndarray subclass)")
    if v.dtype not in DTYPES:
        raise TypeError(f"{where}: {name} must have dtype float32, float64, complex64 or "
                        f"complex128; got {v.dtype}")
    return backend


def _check(where, a, seq, h0, names=("a", "h0")):
    """Check a, the (T, B, H) arrays in ``seq`` ({name: array}) and h0 against each other;
    return (xp, result dtype). ``names``: what the caller calls a and h0 (log_space_scan's
    log_a and log_h0)."""
    a_name, h0_name = names
    arrays = {a_name: a, **seq, h0_name: h0}
    backends = {name: _backend(v, name, where).name for name, v in arrays.items()}
    if len(set(backends.values())) > 1:
        got = ", ".join(f"{n} on {b}" for n, b in backends.items())
        raise TypeError(f"{where}: {a_name}, {', '.join(seq)} and {h0_name} must be on one "
                        f"backend; got {got}")
    first = next(iter(seq))
    shape = tuple(seq[first].shape)
    # an empty batch or state is refused, as the cells refuse x with B = 0 (and mode='log'
    # failed in min() on it)
    if len(shape) != 3 or 0 in shape:
        raise ValueError(f"{where}: {first} must be a (T, B, H) array with T, B and H >= 1; "
                         f"got shape {shape}")
    if any(tuple(v.shape) != shape for v in seq.values()):
        # name every one: which of them is the wrong one, only the caller knows
        got = " and ".join(f"{name} {tuple(v.shape)}" for name, v in seq.items())
        raise ValueError(f"{where}: {' and '.join(seq)} must have one shape (T, B, H); got "
                         f"{got}")
    T, B, H = shape
    if tuple(h0.shape) != (B, H):
        raise ValueError(f"{where}: {h0_name} must have shape (B, H) = {(B, H)} to match {first}; "
                         f"got {tuple(h0.shape)}")
    if tuple(a.shape) not in (shape, (H,)):
        raise ValueError(f"{where}: {a_name} must have shape (T, B, H) = {shape} or (H,) = ({H},) "
                         f"(one diagonal for every step and row); got {tuple(a.shape)}")
    xp = array_module(h0)
    return xp, xp.result_type(*arrays.values())


def _form(mode, xp, where):
    mode = check_choice(mode, "mode", MODES, where=where)
    return AUTO["numpy" if xp is np else "cupy"] if mode == "auto" else mode


def _require_positive(v, name, where):
    """mode='log' takes log v: v must be real and > 0 everywhere (one read on the host)."""
    if array_module(v).iscomplexobj(v):
        raise ValueError(f"{where}: mode='log' needs real {name} > 0 (it takes log {name}); "
                         f"got a complex {name} ({v.dtype}); use mode='loop' or 'doubling'")
    low = float(to_numpy(v.min()))
    if not low > 0:
        raise ValueError(f"{where}: mode='log' needs {name} > 0 everywhere (it takes log "
                         f"{name}); got min {name} = {low:g}; use mode='loop' or 'doubling'")


# ------------------------------------------------------------------ the three forms
def _steps(a, T):
    """a as one coefficient per step: (T, B, H), or the (H,) diagonal seen as (T, 1, H)."""
    return a if a.ndim == 3 else array_module(a).broadcast_to(a, (T, 1) + a.shape)


# The two general forms run h[t] = c[t-1] h[t-1] + b[t] for t >= 1 from h[0] = b[0]:
# ``c`` (T-1 steps) is a[1:] forward, and conj(a) read backwards in the backward, both
# views, so neither direction copies a.
def _loop(c, h):
    """The recurrence above in place on h (which holds b on entry), step by step."""
    xp = array_module(h)
    tmp = xp.empty(h.shape[1:], dtype=h.dtype)
    for t in range(1, h.shape[0]):
        h[t] += xp.multiply(c[t - 1], h[t - 1], out=tmp)
    return h


def _doubling(c, h):
    """The recurrence above in place on h (which holds b on entry), by Hillis-Steele
    doubling."""
    xp = array_module(h)
    T = h.shape[0]
    A = xp.empty((T,) + c.shape[1:], dtype=xp.result_type(c, h.real))
    A[0] = 0.0                                   # element 0 is a constant map
    A[1:] = c
    d = 1
    while d < T:
        # right-hand sides are new arrays, evaluated before the write: no element reads a
        # value this pass has already replaced (CuPy does not order overlapping writes)
        h[d:] += A[d:] * h[:-d]                  # B_t <- A_t B_{t-d} + B_t
        if 2 * d < T:                            # the last pass needs no A
            A[d:] = A[d:] * A[:-d]               # A_t <- A_t A_{t-d}
        d *= 2
    return h


def _logcumsumexp(v):
    """log(cumsum(exp(v))) along axis 0 without leaving log space (-inf is a zero)."""
    if array_module(v) is np:                    # one sequential C loop
        return np.logaddexp.accumulate(v, axis=0)
    return _logcumsumexp_doubling(v)             # CuPy has no logaddexp.accumulate


def _logcumsumexp_doubling(v):
    """The same by Hillis-Steele doubling, ceil(log2 T) logaddexp passes (a new array)."""
    xp = array_module(v)
    v = v.copy()
    d = 1
    while d < v.shape[0]:
        v[d:] = xp.logaddexp(v[d:], v[:-d])      # a new array first, then the write
        d *= 2
    return v


def _log_form(log_a, log_b, log_h0):
    """Heinsen's form: log_a (T, B or 1, H), log_b (T, B, H), log_h0 (B, H) -> h."""
    xp = array_module(log_b)
    a_star = xp.cumsum(log_a, axis=0)                         # a*_t = sum_{s<=t} log a_s
    v = xp.empty((log_b.shape[0] + 1,) + log_b.shape[1:], dtype=log_b.dtype)
    v[0] = log_h0                                             # the s = -1 term
    xp.subtract(log_b, a_star, out=v[1:])                     # log b_s - a*_s
    log_h = _logcumsumexp(v)[1:]
    log_h += a_star                                           # log h_t
    return xp.exp(log_h, out=log_h)


def log_space_scan(log_a, log_b, log_h0):
    """The ``"log"`` form on logarithms: h with log h_t as in the module docstring.

    log_a (T, B, H) or (H,), log_b (T, B, H), log_h0 (B, H), all real; -inf in log_b or
    log_h0 stands for an exact zero (log_a must be finite: a zero a breaks the form).
    This is how minGRU's and minLSTM's log-space version computes (Feng et al. 2024,
    appendix B): log a and log b straight from the pre-activations, never a or b.
    """
    where = "log_space_scan"
    xp, dtype = _check(where, log_a, {"log_b": log_b}, log_h0, names=("log_a", "log_h0"))
    for name, v in (("log_a", log_a), ("log_b", log_b), ("log_h0", log_h0)):
        if xp.iscomplexobj(v):
            raise TypeError(f"{where}: {name} must be real (a logarithm of a positive "
                            f"number); got dtype {v.dtype}")
        # NaN or +inf would come out as NaN in every later step, and so would -inf in
        # log_a (a zero a); one host read each, as mode='log' of linear_scan does
        bad = ~xp.isfinite(v) if name == "log_a" else xp.isnan(v) | (v == xp.inf)
        if bool(to_numpy(bad.any())):
            index = tuple(int(i) for i in np.argwhere(to_numpy(bad))[0])
            allowed = ("finite (log a = -inf is a zero a, which the form cannot take; use "
                       "linear_scan)" if name == "log_a" else "real or -inf (an exact zero)")
            raise ValueError(f"{where}: {name} must be {allowed}; got "
                             f"{float(to_numpy(v[index]))} at index {index}")
    T = log_b.shape[0]
    return _log_form(_steps(log_a, T).astype(dtype, copy=False),
                     log_b.astype(dtype, copy=False), log_h0.astype(dtype, copy=False))


# ------------------------------------------------------------------ forward and backward
def linear_scan(a, b, h0, mode="auto"):
    """h[t] = a[t] h[t-1] + b[t] for t = 0..T-1 with h[-1] = h0 (see the module docstring
    for shapes, dtypes and the forms). Returns a new (T, B, H) array.

    NaN or inf in a, b or h0 propagate to the later steps, as in ``np.cumsum``: the loop
    and doubling forms read no values on the host (on CuPy that would be a synchronization
    per call), and the cells that call this refuse non-finite input at their own entry.
    ``mode="log"`` refuses NaN and values <= 0 (it takes their logarithms)."""
    where = "linear_scan"
    xp, dtype = _check(where, a, {"b": b}, h0)
    form = _form(mode, xp, where)
    T = b.shape[0]
    coef = _steps(a, T)
    if form == "log":
        for name, v in (("a", a), ("b", b), ("h0", h0)):
            _require_positive(v, name, where)
        return _log_form(*(xp.log(v).astype(dtype, copy=False) for v in (coef, b, h0)))
    h = b.astype(dtype, copy=True)
    h[0] += coef[0] * h0                         # fold h0 into step 0
    if form == "loop":
        return _loop(coef[1:], h)
    return _doubling(coef[1:], h)


def _reverse_scan(coef, dh, form, dtype):
    """delta[t] = dh[t] + coef[t+1] delta[t+1], delta[T-1] = dh[T-1]: the forward
    recurrence on reversed time, whose step s >= 1 has the coefficient coef[T-s]."""
    xp = array_module(dh)
    delta = xp.empty(dh.shape, dtype=dtype)
    rev = delta[::-1]                                        # a view: no copy back needed
    rev_coef = coef[:0:-1]                                   # coef[T-1], .., coef[1]
    if form in ("loop", "doubling"):
        rev[...] = dh[::-1]
        (_loop if form == "loop" else _doubling)(rev_coef, rev)
    else:      # log: two positive scans, of dh's positive and of its negative part
        log_coef = xp.empty(coef.shape, dtype=dtype)
        log_coef[0] = 0.0                                    # step 0 has no predecessor
        xp.log(rev_coef, out=log_coef[1:])
        log_h0 = xp.full(dh.shape[1:], -np.inf, dtype=dtype)  # nothing before step 0

        def scan_of(part):
            with np.errstate(divide="ignore"):               # log 0 = -inf: an exact zero
                return _log_form(log_coef, xp.log(part[::-1]).astype(dtype, copy=False),
                                 log_h0)
        xp.subtract(scan_of(xp.maximum(dh, 0)), scan_of(xp.maximum(-dh, 0)), out=rev)
    return delta


def _conj(v):
    """conj(v) for a complex v; a real v itself (no copy)."""
    return v.conj() if array_module(v).iscomplexobj(v) else v


def _like(grad, v):
    """A gradient in the dtype of the tensor it belongs to (the real part for a real one)."""
    xp = array_module(v)
    if xp.iscomplexobj(grad) and not xp.iscomplexobj(v):
        return grad.real.astype(v.dtype)                     # a contiguous copy
    return grad.astype(v.dtype, copy=False)


def linear_scan_backward(a, h, h0, dh, mode="auto"):
    """(da, db, dh0) of :func:`linear_scan`, given its h and dh = dL/dh[t] from outside
    (T, B, H). Returns new arrays: da in a's shape and dtype, db (T, B, H) in the
    result dtype, dh0 (B, H) in h0's dtype. See the module docstring."""
    where = "linear_scan_backward"
    xp, dtype = _check(where, a, {"h": h, "dh": dh}, h0)
    form = _form(mode, xp, where)
    T = h.shape[0]
    coef = _conj(_steps(a, T))
    if form == "log":
        _require_positive(a, "a", where)
        if xp.iscomplexobj(dh):
            raise ValueError(f"{where}: mode='log' needs a real dh (it scans its positive "
                             f"and negative parts); got dtype {dh.dtype}")
    delta = _reverse_scan(coef, dh, form, dtype)             # delta[t] = dL/dh[t] in total
    da = xp.empty(delta.shape, dtype=dtype)                  # h[t] = a[t] h[t-1] + ..
    xp.multiply(delta[0], _conj(h0), out=da[0])
    xp.multiply(delta[1:], _conj(h[:-1]), out=da[1:])
    if a.ndim == 1:
        da = da.sum(axis=(0, 1))                             # one a for every t and row
    dh0 = coef[0] * delta[0]                                 # h[0] = a[0] h0 + ..
    return _like(da, a), delta, _like(dh0, h0)
