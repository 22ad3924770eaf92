"""The input checks every cell's public entry points run (shared by :class:`rnnzoo.core.base.
RecurrentCell` as a mixin): arrays on the cell's backend, of its dtype and shapes, and
finite. Each error names the method, the argument, what was expected and what was given.
"""
from __future__ import annotations

import numpy as np

from .backend import array_type_name, backend_of, to_numpy
from .gradcheck_inputs import what_it_is
from .validation import ArgumentTypeError


class ContractError(TypeError):
    """What a cell's own ``_forward`` or ``_backward`` returned is off the contract (the
    message says what); :func:`rnnzoo.gradcheck` reports it as the check's problem."""


def refuse_ndarray_subclass(a, what, where, backend_name="numpy"):
    """Refuse an ndarray subclass (np.matrix, a masked array, ...) whose operators differ
    from the plain array's: a matrix's * is a matrix product, a masked array's arithmetic
    goes through numpy.ma, and either fails (or worse, computes something else) deep in
    the code that receives it. A memmap, and a subclass that says it computes as an
    ndarray, pass."""
    if isinstance(a, np.ndarray) and type(a) is not np.ndarray and \
            not _computes_as_ndarray(a):
        raise ArgumentTypeError(f"{where}: {what} must be a plain {backend_name} ndarray; "
                                f"got a {array_type_name(a)} (an ndarray subclass, whose "
                                f"arithmetic differs); pass np.asarray(...) of it, with "
                                f"masked entries filled in first")


def _computes_as_ndarray(a) -> bool:
    """An ndarray subclass whose arithmetic is the plain array's: a memmap, or one that
    says so with ``computes_as_ndarray = True`` (the benchmark's GEMM tracer, which only
    records the products it forwards to NumPy)."""
    return isinstance(a, np.memmap) or getattr(type(a), "computes_as_ndarray", False)


class InputChecks:
    """Mixin: needs ``self.backend``, ``self.xp``, ``self.dtype``, ``self.name``,
    ``self.input_size``, ``self.output_size``, ``self.state_names`` and
    ``self.initial_state(batch)``."""

    def _where(self, method="forward"):
        return f"{type(self).__name__}('{self.name}').{method}"

    def _check_array(self, a, what, method):
        if type(a) is self.backend.ndarray:     # the hot path: one type check per call
            return
        refuse_ndarray_subclass(a, what, self._where(method), self.backend.name)
        if self.backend.is_array(a):            # a CuPy array on the cupy backend
            return
        try:
            other = backend_of(a).name
        except TypeError:
            raise TypeError(f"{self._where(method)}: {what} must be a {self.backend.name} array; "
                            f"got {type(a).__name__}") from None
        hint = ("rnnzoo.to_numpy(...)" if self.backend.name == "numpy"
                else "cupy.asarray(...)")
        raise TypeError(f"{self._where(method)}: {what} is a {array_type_name(a)} but this "
                        f"cell uses backend '{self.backend.name}'; convert it with {hint} "
                        f"or build the cell with backend='{other}'")

    def _check_dtype(self, a, what, method, expected=None):
        expected = self.dtype if expected is None else expected
        if a.dtype == expected:
            return
        where = f"{self._where(method)}: {what}"
        if not np.issubdtype(a.dtype, np.inexact):
            raise TypeError(f"{where} has non-floating dtype {a.dtype}; expected {expected} "
                            f"(the cell's dtype)")
        if np.issubdtype(a.dtype, np.complexfloating) and np.issubdtype(expected, np.floating):
            # a cast would drop the imaginary part, and no cell is built complex
            raise TypeError(f"{where} has complex dtype {a.dtype}; expected the real dtype "
                            f"{expected} (the cell's dtype): this cell computes in real "
                            f"numbers, so pass the real array you mean")
        kind = "floating" if np.issubdtype(expected, np.floating) else "complex"
        # dtype= builds float32 or float64 cells; a state of complex dtype follows them
        other = (f" or build the cell with dtype={a.dtype}"
                 if a.dtype in (np.float32, np.float64) and kind == "floating" else "")
        raise TypeError(f"{where} has dtype {a.dtype}; expected {kind} dtype {expected} (the "
                        f"cell's dtype). Cast with .astype({expected}){other}")

    def _check_finite(self, a, what, method):
        if not bool(to_numpy(self.xp.isfinite(a).all())):       # one transfer
            first = tuple(int(i) for i in to_numpy(self.xp.argwhere(~self.xp.isfinite(a))[0]))
            raise ValueError(f"{self._where(method)}: {what} contains NaN or inf (first at "
                             f"index {first}); rnnzoo refuses non-finite input rather than "
                             f"propagate it through every later step")

    def _check_values(self, a, what, method, dtype=None):
        """The cell's dtype (or ``dtype``), no cast; and no NaN or inf."""
        self._check_dtype(a, what, method, dtype)
        self._check_finite(a, what, method)

    def _check_input(self, x):
        self._check_array(x, "x", "forward")
        expected = f"(T, B, input_size={self.input_size})"
        if x.ndim != 3:
            hint = " (for one sequence use x[:, None, :])" if x.ndim == 2 else ""
            raise ValueError(f"{self._where()}: x must be a 3-D time-major array {expected}; "
                             f"got a {x.ndim}-D array of shape {tuple(x.shape)}{hint}")
        if x.shape[2] != self.input_size:
            raise ValueError(f"{self._where()}: x must have shape {expected}; got "
                             f"{tuple(x.shape)} (feature size {x.shape[2]} != {self.input_size})")
        if x.shape[0] < 1 or x.shape[1] < 1:
            raise ValueError(f"{self._where()}: x must have T >= 1 and B >= 1; got shape "
                             f"{tuple(x.shape)}")
        self._check_values(x, "x", "forward")
        return x

    def _check_state(self, state, batch, what):
        zeros = self.initial_state(batch)
        if state is None:
            return zeros
        method = "forward" if what == "state0" else "backward"
        names = ", ".join(self.state_names)
        if not isinstance(state, (tuple, list)) or len(state) != len(zeros):
            got = (f"a {type(state).__name__}" if not isinstance(state, (tuple, list))
                   else f"{len(state)} arrays")
            raise TypeError(f"{self._where(method)}: {what} must be a tuple of "
                            f"{len(zeros)} array(s) ({names}); got {got}"
                            + (" (wrap a single array in a 1-tuple: (h,))"
                               if len(zeros) == 1 and not isinstance(state, (tuple, list))
                               else ""))
        for name, s, z in zip(self.state_names, state, zeros):
            label = f"{what} component '{name}'"
            self._check_array(s, label, method)
            if tuple(s.shape) != tuple(z.shape):
                raise ValueError(f"{self._where(method)}: {label} must have shape "
                                 f"{tuple(z.shape)} (B, ...) to match x; got {tuple(s.shape)}")
            self._check_values(s, label, method, z.dtype)
        return tuple(state)

    def _check_params(self):
        """The parameters still as the cell made them (a few attribute reads a forward): a
        replaced array of another dtype would be cast silently in every step, one of
        another shape broadcast or fail deep inside the loop."""
        shapes = getattr(self, "_param_shapes", None)
        if shapes is None:                       # a cell that does not come from __init__
            return
        if self.params.keys() != shapes.keys():
            raise ValueError(f"{self._where()}: params must keep the keys {sorted(shapes)}; "
                             f"got {sorted(self.params)}")
        for k, p in self.params.items():
            what = f"params[{k!r}]"
            self._check_array(p, what, "forward")
            if p.dtype != self.dtype:
                raise TypeError(f"{self._where()}: {what} has dtype {p.dtype}; expected the "
                                f"cell's dtype {self.dtype} (assign in place, "
                                f"params[{k!r}][...] = value, to keep it)")
            if tuple(p.shape) != shapes[k]:
                raise ValueError(f"{self._where()}: {what} has shape {tuple(p.shape)}; "
                                 f"expected {shapes[k]}, its shape when the cell was built")

    def _check_output_grad(self, dhs, T, B):
        shape = (T, B, self.output_size)
        if dhs is None:
            return self.xp.zeros(shape, dtype=self.dtype)
        self._check_array(dhs, "dhs", "backward")
        if tuple(dhs.shape) != shape:
            raise ValueError(f"{self._where('backward')}: dhs must have the shape of hs, "
                             f"(T, B, output_size) = {shape}; got {tuple(dhs.shape)}")
        self._check_values(dhs, "dhs", "backward")
        return dhs

    # what a cell's own _forward / _backward hand back, checked before anyone unpacks it:
    # a cell of one's own that returns the public 3-tuple from _backward, a dict for its
    # cache or hs of another width failed far from the mistake, or not at all
    def _check_forward_result(self, returned, x, cache_type):
        T, B = x.shape[:2]
        self._check_result(returned, "forward", "_forward(x, state0)", (
            ("hs", f"of shape {(T, B, self.output_size)}",
             lambda hs: _shaped(hs, (T, B, self.output_size))),
            ("state_T", self._tuple_of_states(), self._is_state_tuple),
            ("cache", f"a {cache_type.__module__}.{cache_type.__name__}",
             lambda cache: isinstance(cache, cache_type))))

    def _check_backward_result(self, returned, cache):
        self._check_result(returned, "backward", "_backward(dhs, cache, dstate_T)", (
            ("dx", f"shaped like x {tuple(cache.x.shape)}",
             lambda dx: _shaped(dx, cache.x.shape)),
            ("dstate0", self._tuple_of_states(), self._is_state_tuple),
            ("grads", "a dict", lambda grads: isinstance(grads, dict)),
            ("dh_norm", f"the ({cache.T},) norms of dL/dh_t",
             lambda dh_norm: _shaped(dh_norm, (cache.T,)))))

    def _tuple_of_states(self):
        return f"a tuple of {len(self.state_names)} array(s) ({', '.join(self.state_names)})"

    def _is_state_tuple(self, value):
        return isinstance(value, tuple) and len(value) == len(self.state_names)

    def _check_result(self, returned, method, call, parts):
        """``parts``: (name, what it must be, test) for each entry ``call`` returns; the
        first that fails (or a result that is not a tuple of that many) is named."""
        if not isinstance(returned, tuple) or len(returned) != len(parts):
            bad = f"it returned {what_it_is(returned)}"
        else:
            bad = next((f"{name} is {_kind(value)}" for (name, _, ok), value
                        in zip(parts, returned) if not ok(value)), None)
        if bad:
            names = ", ".join(name for name, _, _ in parts)
            needs = ", ".join(f"{name} {need}" for name, need, _ in parts)
            raise ContractError(f"{self._where(method)}: {call} must return ({names}): "
                                f"{needs}; {bad}")


def _shaped(value, shape):
    return hasattr(value, "shape") and tuple(value.shape) == tuple(shape)


def _kind(value):
    """An array or a tuple by what_it_is, anything else by its type (a dict's repr would
    spill a cache's arrays into the message)."""
    if value is None or hasattr(value, "shape") or isinstance(value, (tuple, list)):
        return what_it_is(value)
    return f"a {type(value).__name__}"
