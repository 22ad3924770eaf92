"""The checks of a value: :func:`check_close` against an expected one, and the form of
what a student's function returned (:func:`check_items`, :func:`check_number`,
:func:`check_shape`); :func:`attempt` turns a stub's NotImplementedError into a
:class:`CheckFailed`."""
from __future__ import annotations

import numpy as np

from ...core.backend import to_numpy
from ...core.validation import check_float


class CheckFailed(AssertionError):
    """A self-check found a problem; the message says which and where."""


def attempt(fn, *args, what=None, **kwargs):
    """``fn(*args, **kwargs)``; a stub's NotImplementedError becomes a CheckFailed."""
    name = what or f"{getattr(fn, '__name__', 'the function')}()"
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailed(f"{name} is not written yet: replace its "
                          "`raise NotImplementedError` with your code") from None


def check_close(got, expected, what, *, rtol=1e-6, atol=1e-9, hint=""):
    """Raise CheckFailed unless ``got`` has ``expected``'s shape and values (allclose).

    ``rtol`` and ``atol`` are the check's own, so a bad one is the caller's error (a
    ValueError), not the student's: NaN failed every inexact answer, inf passed any."""
    rtol = check_float(rtol, "rtol", minimum=0.0, where="check_close")
    atol = check_float(atol, "atol", minimum=0.0, where="check_close")
    expected = np.asarray(to_numpy(expected))
    # complex stays complex (a cast to float would drop the imaginary part unchecked)
    kind = complex if np.iscomplexobj(expected) else float
    expected = expected.astype(kind)
    _refuse_none(got, what)
    try:
        got_arr = np.asarray(to_numpy(got))
        if got_arr.dtype.kind in "USV":          # "21" would be cast to 21.0 and pass
            raise TypeError
        if np.iscomplexobj(got_arr) and kind is float:
            raise CheckFailed(f"{what} should be real; got a complex array (is an "
                              f"imaginary part left over?)")
        given_dtype, got_arr = got_arr.dtype, got_arr.astype(kind)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be a number or an array of numbers; got "
                          f"{type(got).__name__}") from None
    if got_arr.shape != expected.shape:
        raise CheckFailed(f"{what} has shape {got_arr.shape}; expected {expected.shape}")
    if not np.all(np.isfinite(got_arr)):
        raise CheckFailed(f"{what} contains NaN or inf")
    if not np.allclose(got_arr, expected, rtol=rtol, atol=atol):
        # the message never shows the expected value: it would hand out the answer (a
        # parameter count, a prediction); the direction and the size of the error help
        err = np.abs(got_arr - expected)
        idx = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
        where = f" at index {tuple(int(i) for i in idx)}" if idx else ""
        note = _dtype_note(given_dtype, expected) + (f". {hint}" if hint else "")
        if expected[idx] == 0:      # a masked or unused entry: a relative error says nothing
            raise CheckFailed(f"{what} is wrong{where}: you have {got_arr[idx]:.6g} where it "
                              f"should be exactly 0" + note)
        rel = err[idx] / max(float(np.abs(expected[idx])), atol)
        side = ("too large" if got_arr[idx].real > expected[idx].real else "too small"
                if got_arr[idx].real < expected[idx].real else "off in its imaginary part")
        raise CheckFailed(f"{what} is wrong{where}: you have {got_arr[idx]:.6g}, {side} "
                          f"(relative error about 1e{int(np.floor(np.log10(rel))):+d})" + note)
    return True


def _refuse_none(got, what):
    """None is what a function without ``return`` gives: say so, not "NaN" or "shape ()"."""
    if got is None:
        raise CheckFailed(f"{what} is None: does the function end without `return`?")


def _is_low_precision(dtype):
    """float16/float32/complex64: fewer digits than the float64 the checks compute in."""
    return dtype.kind in "fc" and dtype.itemsize < (8 if dtype.kind == "f" else 16)


def _dtype_note(dtype, expected):
    """Why a value of this dtype may be wrong where the formula is right."""
    if _is_low_precision(dtype):
        return f" (your value is {dtype}; the check computes in float64: drop the cast)"
    if dtype.kind in "biu" and not np.array_equal(expected, np.round(expected)):
        return (f" (your value is {dtype}, whole numbers only: did a cast or an integer "
                f"division drop a fraction?)")
    return ""


def check_items(result, names, what):
    """``result`` as a tuple of ``len(names)`` items (a function returning several values),
    or a CheckFailed naming the function and what it should return."""
    if result is None:
        raise CheckFailed(f"{what} returned None: does the function end without `return`?")
    expected = f"({', '.join(names)})"
    if not isinstance(result, (tuple, list)):
        raise CheckFailed(f"{what} should return {len(names)} values {expected}; got "
                          f"{type(result).__name__}")
    if len(result) != len(names):
        raise CheckFailed(f"{what} should return {len(names)} values {expected}; got "
                          f"{len(result)}")
    return tuple(result)


def check_number(got, what, *, minimum=None):
    """``got`` as a float, or a CheckFailed unless it is one finite real number (at least
    ``minimum`` when given)."""
    _refuse_none(got, what)
    arr = np.asarray(to_numpy(got)) if not isinstance(got, (str, bytes)) else None
    if arr is None or arr.shape != () or arr.dtype.kind not in "iuf":
        raise CheckFailed(f"{what} should be one real number; got "
                          + (f"an array of shape {arr.shape}" if arr is not None and arr.shape
                             else type(got).__name__))
    value = float(arr)
    if not np.isfinite(value):
        raise CheckFailed(f"{what} is {value}; it should be a finite number")
    if minimum is not None and value < minimum:
        raise CheckFailed(f"{what} is {value:.6g}; it cannot be below {minimum}")
    return value


def check_shape(got, shape, what):
    """``got`` as a NumPy array of ``shape``, or a CheckFailed naming what was given (a
    silent broadcast would let a (1, d) row pass for a (d,) vector)."""
    _refuse_none(got, what)
    if not isinstance(got, np.ndarray):
        raise CheckFailed(f"{what} should be a NumPy array of shape {tuple(shape)}; got "
                          f"{type(got).__name__}")
    if got.shape != tuple(shape):
        raise CheckFailed(f"{what} has shape {got.shape}; expected {tuple(shape)}")
    return got
