"""What :func:`rnnzoo.gradcheck` refuses before it computes anything: an object off the
cell or model contract, x or a state0 it cannot use, parameters it cannot nudge in place
(not float64, read-only); and the form of what forward and backward return. A bad
argument here would otherwise crash deep inside the differencing, or make a correct
backward look wrong."""
from __future__ import annotations

import numpy as np

from .backend import BACKENDS, array_type_name, get_backend, to_numpy
from .validation import ArgumentTypeError, describe


def not_a_tuple_of(returned, count):
    """None when ``returned`` is a tuple (or list) of ``count`` entries, else what it is."""
    if isinstance(returned, (tuple, list)) and len(returned) == count:
        return None
    return what_it_is(returned)


def check_forward(returned, call, parts):
    got = not_a_tuple_of(returned, len(parts))
    if got:
        raise TypeError(f"gradcheck: {call} must return ({', '.join(parts)}); it returned {got}")


def target_name(obj):
    return getattr(obj, "name", "") or type(obj).__name__


_CONTRACT = ("forward, backward, params, dtype; a cell also state_names, and "
             "initial_state(batch) when state0 is None; backend is optional, NumPy when absent")


def check_object(obj, x, state0):
    """Refuse, before any differencing, an object, x or state0 that would make the check
    crash deep inside or blame a correct backward; returns the object's backend."""
    is_cell = hasattr(obj, "state_names")
    needed = ["forward", "backward", "params", "dtype"]
    if is_cell and state0 is None:
        needed.append("initial_state")          # asked for the zero state
    missing = [a for a in needed if not hasattr(obj, a)]
    if missing:
        raise ArgumentTypeError(f"gradcheck: obj must be a cell or a model ({_CONTRACT}); "
                                f"got {describe(obj)}, which has no {', '.join(missing)}")
    def float64_error(off):
        return TypeError(f"gradcheck needs float64 (build the cell with dtype=np.float64 and "
                         f"pass float64 x): {dtype_reason(off)}; got cell dtype "
                         f"{np.dtype(obj.dtype)} and x dtype {getattr(x, 'dtype', None)}")
    if np.dtype(obj.dtype) != np.float64:
        raise float64_error(obj.dtype)
    backend = _backend(obj)
    target = target_name(obj)
    # the array check before x's dtype: a list has none, and "not float64" would mislead
    if not backend.is_array(x) or x.ndim != 3:
        raise ArgumentTypeError(f"gradcheck: x must be a 3-D {backend.name} array (T, B, "
                                f"input_size), the backend of {target}; got {what_it_is(x)}")
    if x.dtype != np.float64:
        raise float64_error(x.dtype)
    if x.shape[0] == 0 or x.shape[1] == 0:
        # an empty sequence or batch has no loss to difference (NumPy would fail inside)
        raise ValueError(f"gradcheck: x must have at least one step and one sequence "
                         f"(T >= 1 and B >= 1 in (T, B, input_size)); got shape "
                         f"{tuple(x.shape)}")
    input_size = getattr(obj, "input_size", None)
    if isinstance(input_size, int) and x.shape[2] != input_size:
        raise ValueError(f"gradcheck: x must have shape (T, B, {input_size}), the "
                         f"input_size of {target}; got shape {tuple(x.shape)}")
    _check_finite(x, "x")
    _check_params(obj, backend, target)
    if state0 is not None:
        _check_state0(obj, state0, backend, target, is_cell, x.shape[1])
    return backend


def dtype_reason(dtype):
    """Why an array of ``dtype`` cannot be checked in place of a float64 one (a clause)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        return ("only real perturbations are made, so the derivative along the imaginary "
                "part would go unchecked: split a complex tensor into _re and _im float64 "
                "ones, as urnn, lru and s4d do")
    if dtype.kind in "biu":
        return (f"{dtype} cannot hold a nudge of ±eps (gradcheck perturbs each entry by a "
                f"small real step), so every difference would read 0")
    if dtype.kind == "f" and dtype.itemsize < 8:
        return (f"in {dtype} the rounding error of a central difference "
                f"(~{np.finfo(dtype).eps:.0e}/eps) swamps the check")
    return f"{dtype} is not the float64 that gradcheck computes its differences in"


def gradient_dtype_reason(dtype):
    """What a returned gradient of ``dtype`` (not float64) has lost (a clause)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        return ("a complex gradient of a real tensor: comparing it would drop the imaginary "
                "part with only a warning")
    if dtype.kind in "biu":
        return f"{dtype} has truncated it"
    if dtype.kind == "f" and dtype.itemsize < 8:
        return f"{dtype} has rounded it to ~{np.finfo(dtype).eps:.0e} of its size"
    return "the parameters are float64"


def _check_finite(array, what):
    """A NaN or inf in x or a state makes every difference through it NaN, and the report
    a column of NaNs; rnnzoo's cells refuse it, a cell of your own may not."""
    values = to_numpy(array)
    if not np.isfinite(values).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
        raise ValueError(f"gradcheck: {what} must be finite; got {values[index]} at index "
                         f"{index}")


def _backend(obj):
    """obj.backend (a Backend or its name); NumPy, rnnzoo's default, when it has none."""
    backend = getattr(obj, "backend", "numpy")
    try:
        return get_backend(backend)
    except ValueError:
        raise ArgumentTypeError(f"gradcheck: obj.backend must be a rnnzoo backend or one of "
                                f"{BACKENDS}; got {describe(backend)}") from None


def _check_params(obj, backend, target):
    """Each parameter is nudged in place by ±eps: it must be a writeable float64 array. An
    integer one would round the nudge away and a float32 one round it, so a correct
    backward would look wrong."""
    if not isinstance(obj.params, dict):
        raise ArgumentTypeError(f"gradcheck: {target}.params must be a dict of parameter "
                                f"arrays; got {describe(obj.params)}")
    for k, p in obj.params.items():
        if not backend.is_array(p):
            raise ArgumentTypeError(f"gradcheck: parameter '{k}' of {target} must be a "
                                    f"{backend.name} array; got {what_it_is(p)}")
        if p.dtype != np.float64:
            raise TypeError(f"gradcheck: parameter '{k}' of {target} has dtype {p.dtype}; "
                            f"expected float64, the dtype of {target}: "
                            f"{dtype_reason(p.dtype)}")
        if isinstance(p, np.ndarray) and not p.flags.writeable:
            raise ValueError(f"gradcheck: parameter '{k}' of {target} is read-only; "
                             f"gradcheck nudges each entry in place, so pass a writeable copy")
    _check_separate(obj.params, backend, target)


def _check_separate(params, backend, target):
    """Two keys whose arrays share memory (params["U2"] is params["U"], or views of one
    array): a nudge of one moves the other, so each central difference is the sum of
    both gradients, and a correct backward looks wrong."""
    shares = getattr(backend.xp, "shares_memory", None)
    items = list(params.items())
    for i, (k, p) in enumerate(items):
        for q_key, q in items[i + 1:]:
            same = p is q or (shares is not None and p.size and q.size
                              and shares(p, q))
            if same:
                how = "are one array" if p is q else "share memory (views of one array)"
                raise ValueError(f"gradcheck: parameters '{k}' and '{q_key}' of {target} "
                                 f"{how}: a nudge of one moves the other, so a correct "
                                 f"backward would look wrong; give each key its own array "
                                 f"(a tied weight: one key, whose gradient sums its uses)")


def _check_state0(obj, state0, backend, target, is_cell, batch):
    if not is_cell:
        raise ValueError(f"gradcheck: state0 is for a cell only; {target} is a model, whose "
                         f"backward(dy, cache) returns (dx, grads) and no gradient of its "
                         f"initial state, so there is nothing to check it against: pass "
                         f"state0=None, or gradcheck each layer's cell with its state0; "
                         f"got {what_it_is(state0)}")
    names = tuple(obj.state_names)
    if not isinstance(state0, (tuple, list)) or len(state0) != len(names):
        got = f"{len(state0)} arrays" if isinstance(state0, (tuple, list)) else what_it_is(state0)
        raise ArgumentTypeError(f"gradcheck: state0 must be None or a tuple of {len(names)} "
                                f"float64 array(s) ({', '.join(names)}); got {got}")
    for name, s in zip(names, state0):
        if not backend.is_array(s) or s.dtype != np.float64:
            why = f" ({dtype_reason(s.dtype)})" if backend.is_array(s) else ""
            raise TypeError(f"gradcheck: state0 component '{name}' must be a float64 "
                            f"{backend.name} array; got {what_it_is(s)}{why}")
    # the shapes the object's own zero state has (a cell of your own that does not
    # check its state0 would otherwise fail inside its forward, in NumPy's words)
    zero = obj.initial_state(batch) if callable(getattr(obj, "initial_state", None)) else None
    for name, s, z in zip(names, state0, zero or ()):
        if is_array(z) and tuple(s.shape) != tuple(z.shape):
            raise ValueError(f"gradcheck: state0 component '{name}' must have shape "
                             f"{tuple(z.shape)} (initial_state({batch}) of {target}, x's "
                             f"batch {batch}); got shape {tuple(s.shape)}")
    for name, s in zip(names, state0):
        _check_finite(s, f"state0 component '{name}'")


def is_array(value):
    return hasattr(value, "shape") and hasattr(value, "dtype")


def what_it_is(value):
    """An array by its type, shape and dtype, a tuple or list by its entries' types (their
    repr would be cut short); anything else by describe()."""
    if is_array(value):
        return f"a {array_type_name(value)} of shape {tuple(value.shape)}, dtype {value.dtype}"
    if isinstance(value, (tuple, list)):
        kinds = ", ".join(type(v).__name__ for v in value)
        return f"a {type(value).__name__} of {len(value)} ({kinds})"
    return describe(value)


def tensor_names(value, what):
    """A list of tensor names; a bare string would be read letter by letter, so refuse it."""
    if isinstance(value, str) or not all(isinstance(n, str) for n in _iterable(value, what)):
        raise ArgumentTypeError(f"gradcheck: {what} must be a list of tensor names, e.g. "
                                f"[\"W_hh\", \"x\"]; got {describe(value)}")
    return list(value)


def _iterable(value, what):
    try:
        return list(value)
    except TypeError:
        raise ArgumentTypeError(f"gradcheck: {what} must be a list of tensor names; got "
                                f"{describe(value)}") from None
