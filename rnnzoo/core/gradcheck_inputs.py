"""What :func:`rnnzoo.gradcheck` refuses before it computes anything: an object off the
cell or model contract, x or a state0 it cannot use, parameters it cannot nudge in place
(not float64, read-only); and the form of what forward and backward return. A bad
argument here would otherwise crash deep inside the differencing, or make a correct
backward look wrong."""
from __future__ import annotations

import numpy as np

from .backend import BACKENDS, array_type_name, get_backend
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
    def float64_error():
        return TypeError("gradcheck needs float64 (build the cell with dtype=np.float64 and "
                         "pass float64 x): in float32 the rounding error of a central "
                         f"difference (~1e-7/eps) swamps the check; got cell dtype "
                         f"{np.dtype(obj.dtype)} and x dtype {getattr(x, 'dtype', None)}")
    if np.dtype(obj.dtype) != np.float64:
        raise float64_error()
    backend = _backend(obj)
    target = target_name(obj)
    # the array check before x's dtype: a list has none, and "not float64" would mislead
    if not backend.is_array(x) or x.ndim != 3:
        raise ArgumentTypeError(f"gradcheck: x must be a 3-D {backend.name} array (T, B, "
                                f"input_size), the backend of {target}; got {what_it_is(x)}")
    if x.dtype != np.float64:
        raise float64_error()
    input_size = getattr(obj, "input_size", None)
    if isinstance(input_size, int) and x.shape[2] != input_size:
        raise ValueError(f"gradcheck: x must have shape (T, B, {input_size}), the "
                         f"input_size of {target}; got shape {tuple(x.shape)}")
    _check_params(obj, backend, target)
    if state0 is not None:
        _check_state0(obj, state0, backend, target, is_cell, x.shape[1])
    return backend


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
                            f"expected float64, the dtype of {target} (gradcheck nudges each "
                            f"entry by ±eps, which {p.dtype} would round, and a correct "
                            f"backward would look wrong)")
        if isinstance(p, np.ndarray) and not p.flags.writeable:
            raise ValueError(f"gradcheck: parameter '{k}' of {target} is read-only; "
                             f"gradcheck nudges each entry in place, so pass a writeable copy")


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
            raise TypeError(f"gradcheck: state0 component '{name}' must be a float64 "
                            f"{backend.name} array; got {what_it_is(s)}")
    # the shapes the object's own zero state has (a cell of your own that does not
    # check its state0 would otherwise fail inside its forward, in NumPy's words)
    zero = obj.initial_state(batch) if callable(getattr(obj, "initial_state", None)) else None
    for name, s, z in zip(names, state0, zero or ()):
        if is_array(z) and tuple(s.shape) != tuple(z.shape):
            raise ValueError(f"gradcheck: state0 component '{name}' must have shape "
                             f"{tuple(z.shape)} (initial_state({batch}) of {target}, x's "
                             f"batch {batch}); got shape {tuple(s.shape)}")


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
