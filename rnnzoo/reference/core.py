"""The sequence loop written once, and the table of textbook cells.

A step-wise textbook cell is two plain functions, CS231n style::

    state, cache = step_forward(x_t, state_prev, params, **options)
    dx_t, dstate_prev, dparams = step_backward(dstate, cache)

``state`` is a tuple; one entry (the first, unless registered otherwise) is the output
h_t. ``dstate`` is the *total*
gradient reaching the new state: the loss's own gradient at step t plus the one carried
back from step t+1. :func:`sequence_forward` and :func:`sequence_backward` below run any
such pair over a whole sequence (x of shape (T, B, D)); backward is backpropagation
through time, with the carried gradient named ``dh_next`` as in min-char-rnn.

Nothing here is optimized: no preallocated buffers, no in-place updates, a new array for
every intermediate value. It is meant to be read next to the equations, and it is the
oracle the optimized cells in :mod:`rnnzoo.cells` are tested against.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np

from ..core.ops import LAYER_NORM_EPS


# ------------------------------------------------------------------ building blocks
def sigmoid(a):
    """σ(a) = 1 / (1 + exp(-a))."""
    return 1.0 / (1.0 + np.exp(-a))


def relu(a):
    """max(a, 0)."""
    return np.maximum(a, 0.0)


def phi_forward(a, nonlinearity):
    """h = phi(a) for phi "tanh", "relu" or "identity" (the cells' ``nonlinearity``)."""
    return {"tanh": np.tanh, "relu": relu, "identity": lambda v: v}[nonlinearity](a)


def phi_backward(dh, h, nonlinearity):
    """dL/da of h = phi(a), from h."""
    if nonlinearity == "tanh":
        return dh * (1.0 - h ** 2)                       # h = tanh(a)
    if nonlinearity == "relu":
        return dh * (h > 0)                              # h = relu(a)
    return dh                                            # h = a


def modrelu(z, b, eps=0.0):
    """modReLU(z) = ReLU(|z| + b) z / (|z| + eps), real or complex z; b per unit.

    At z = 0 it is 0, with eps = 0 too (z / |z| is z's sign, and sign(0) = 0), as the
    cell's: the first step of a zero-padded sequence from the zero state has z = 0."""
    r = np.abs(z)
    return relu(r + b) * z / np.where(r + eps > 0, r + eps, 1.0)   # 0 at z = 0, not 0/0


def modrelu_backward(dh, z, b, eps=0.0):
    """(dL/dz, dL/db per row) of h = phi(r) z with r = |z|, phi(r) = ReLU(r + b)/(r + eps).

    Complex gradients are dL/dRe + i dL/dIm. By the chain rule through r = |z|
    (dr = Re(conj(z) dz) / r): dL/dz = phi dh + Re(dh conj(z)) phi'(r) z / r, and
    dL/db = Re(dh conj(z)) [r + b > 0] / (r + eps). Kinks: r + b = 0, and z = 0. At z = 0
    (the cell's choices): z / r is 0 there, so dL/dz = phi(0) dh and dL/db = 0; with eps = 0
    phi(0) is infinite, and dL/dz is the slope of sign(z) ReLU(|z| + b) beside 0, [b > 0].
    """
    r = np.abs(z)
    q = np.where(r + eps > 0, r + eps, 1.0)             # r + eps, 1 where it is 0 (as forward)
    active = (r + b > 0).astype(float)                  # ReLU's derivative
    phi = relu(r + b) / q                               # h = phi(r) z
    dphi = dh * np.conj(z)                              # h = phi z: phi side (its real part)
    dphi_dr = (active * q - relu(r + b)) / q ** 2       # phi(r) = ReLU(r + b)/(r + eps)
    dz = phi * dh + dphi.real * dphi_dr * z / np.where(r > 0, r, 1.0)   # h = phi z, z side; r = |z|
    dz = np.where(r + eps > 0, dz, active * dh)         # h = sign(z) ReLU(|z| + b), z = 0, eps = 0
    db = dphi.real * active / q                         # phi(r) = ReLU(r + b) / ..
    return dz, db


def layer_norm_forward(z, g, b):
    """y = g (z - mu) / sigma + b over the last axis; returns y and (n, sigma)."""
    mu = z.mean(axis=-1, keepdims=True)                  # mu = mean(z)
    sigma = np.sqrt(((z - mu) ** 2).mean(axis=-1, keepdims=True) + LAYER_NORM_EPS)   # sigma
    n = (z - mu) / sigma                                 # n = (z - mu) / sigma
    return g * n + b, (n, sigma)                         # y = g n + b


def layer_norm_backward(dy, saved, g):
    """dL/dz of :func:`layer_norm_forward` (dL/dg = Σ dy n and dL/db = Σ dy: the caller's)."""
    n, sigma = saved
    dn = dy * g                                          # y = g n + b
    dz = (dn - dn.mean(axis=-1, keepdims=True)           # n = (z - mu) / sigma: through mu
          - n * (dn * n).mean(axis=-1, keepdims=True)) / sigma   # and through sigma
    return dz


# ------------------------------------------------------------------ the sequence loop
def zero_state(batch, params, *widths):
    """One zero array (batch, *width) per width (an int or a tuple), in the parameters'
    dtype: the initial state of most cells."""
    dtype = next(iter(params.values())).dtype
    return tuple(np.zeros((batch,) + (w if isinstance(w, tuple) else (w,)), dtype=dtype)
                 for w in widths)


def hidden_state(size_of, count=1):
    """The initial_state of a cell whose state is ``count`` zero (B, H) arrays, with
    H = size_of(params)."""
    def initial_state(batch, params, **options):
        return zero_state(batch, params, *[size_of(params)] * count)
    return initial_state


def sequence_forward(step_forward, x, state0, params, output=0, **options):
    """Run ``step_forward`` over x (T, B, D) from state0.

    Returns hs (T, B, H) (the state entry ``output``, h_t, after every step), the final
    state and the list of the T step caches.
    """
    state, hs, caches = tuple(state0), [], []
    for x_t in x:
        state, cache = step_forward(x_t, state, params, **options)
        hs.append(state[output])                        # h_t: the output entry of the state
        caches.append(cache)
    return np.stack(hs), state, caches


def sequence_backward(step_backward, dhs, caches, dstate_T, output=0):
    """Backpropagation through time over the caches of :func:`sequence_forward`.

    dhs (T, B, H) is dL/dh_t from the loss at step t only; ``dstate_T`` is dL/d(state_T).
    Returns dx (T, B, D), dL/d(state0) and the parameter gradients summed over all steps.
    """
    k = output % len(dstate_T)
    dstate_next = tuple(dstate_T)                       # carried back from step t+1
    dxs, grads = [None] * len(caches), {}
    for t in reversed(range(len(caches))):
        dh_next = dstate_next[k]                        # dL/dh_t through step t+1
        dh = dhs[t] + dh_next                           # + the loss's own at step t
        dstate = dstate_next[:k] + (dh,) + dstate_next[k + 1:]
        dxs[t], dstate_next, dparams = step_backward(dstate, caches[t])
        for name, g in dparams.items():                 # the same weights at every step
            grads[name] = grads[name] + g if name in grads else g
    return np.stack(dxs), tuple(dstate_next), grads


# ------------------------------------------------------------------ the table
@dataclass(frozen=True)
class Reference:
    """The textbook version of one registered cell.

    forward(x, state0, params, **options) -> (hs, state_T, caches)
    backward(dhs, caches, dstate_T) -> (dx, dstate0, grads)
    options_of(cell) -> the options the equations need, read from an optimized cell
    step_forward / step_backward: the step pair, None for a cell that is not step-wise
    initial_state(batch, params, **options) -> the state forward starts from when state0
        is None, as the cell's own initial_state (zeros; Skip RNN's ũ is 1)
    required_options: the options forward cannot do without (numbers the equations need
        that the parameters do not hold: a step size, the clock's periods); options_of
        gives them
    """

    name: str
    forward: Callable
    backward: Callable
    options_of: Callable
    step_forward: Callable | None = None
    step_backward: Callable | None = None
    initial_state: Callable | None = None       # every registered twin has one
    required_options: tuple = ()


REFERENCES: dict[str, Reference] = {}


def _no_options(cell):
    return {}


def readout_sequence_forward(step_forward, x, state0, params, **options):
    """Run ``step_forward(x_t, state, params, **options) -> (state, y_t, cache)`` over x:
    for a cell whose output y_t is read out of its state (lru, s4d, s6), not an entry of
    it. Returns ys (T, B, H), the final state and the T step caches."""
    state, ys, caches = tuple(state0), [], []
    for x_t in x:
        state, y, cache = step_forward(x_t, state, params, **options)
        ys.append(y)
        caches.append(cache)
    return np.stack(ys), state, caches


def readout_sequence_backward(step_backward, dys, caches, dstate_T):
    """Backpropagation through time over :func:`readout_sequence_forward`'s caches, with
    ``step_backward(dy_t, dstate_t, cache) -> (dx_t, dstate_{t-1}, grads)``. Returns dx
    (T, B, D), dL/d(state0) and the parameter gradients summed over all steps."""
    dstate, dxs, grads = tuple(dstate_T), [None] * len(caches), {}
    for t in reversed(range(len(caches))):
        dxs[t], dstate, dparams = step_backward(dys[t], dstate, caches[t])
        for name, g in dparams.items():                 # the same weights at every step
            grads[name] = grads[name] + g if name in grads else g
    return np.stack(dxs), dstate, grads


# ------------------------------------------------------------------ the entry points
# The loops above are for reading; the checks of what a user passes in sit here, around
# them, so that a wrong argument is named before the loop instead of failing inside a
# step (or, for x without its batch axis, running a wrong loop without a word).
def _text(a):
    return (f"an array {a.shape} of {a.dtype}" if isinstance(a, np.ndarray)
            else f"{type(a).__name__}")


def _state_text(state):
    return (f"({', '.join(_text(s) for s in state)})" if isinstance(state, (tuple, list))
            else _text(state))


def required_options(function):
    """The options of a twin's step (or sequence) function ``function(x, state, params,
    *options)`` that have no default."""
    after_params = list(inspect.signature(function).parameters.values())[3:]
    return tuple(p.name for p in after_params if p.default is inspect.Parameter.empty
                 and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))


def missing_options(required, options):
    """The required options that ``options`` lacks, quoted, as one string ('' if none)."""
    return ", ".join(repr(o) for o in required if o not in options)


def _check_forward(where, x, state0, params, initial_state, options):
    """The state forward starts from (initial_state's when state0 is None), or an error
    naming the argument that does not fit."""
    if not (isinstance(params, dict) and params
            and all(isinstance(p, np.ndarray) for p in params.values())):
        raise TypeError(f"{where}: params must be a dict name -> NumPy array (a cell's "
                        f"params); got {type(params).__name__}")
    dtype = next(iter(params.values())).dtype
    if not isinstance(x, np.ndarray) or x.ndim != 3 or x.dtype != dtype or 0 in x.shape:
        raise ValueError(f"{where}: x must be a NumPy array (T, B, D) of the params' "
                         f"dtype {dtype}, T, B and D at least 1; got {_text(x)}")
    if not np.isfinite(x).all():                  # as every cell refuses it
        raise ValueError(f"{where}: x has non-finite entries (NaN or inf)")
    try:
        expected = initial_state(x.shape[1], params, **options)
    except KeyError as exc:
        raise KeyError(f"{where}: params has no entry {exc} (pass a cell's params)") from exc
    except TypeError as exc:                      # options it needs (Skip RNN's base's)
        raise TypeError(f"{where}: {exc}") from exc
    if state0 is None:
        return expected
    if not (isinstance(state0, (tuple, list)) and len(state0) == len(expected) and all(
            isinstance(s, np.ndarray) and s.shape == e.shape and s.dtype == e.dtype
            for s, e in zip(state0, expected))):
        raise ValueError(f"{where}: state0 must be None or, for B = {x.shape[1]}, a tuple "
                         f"{_state_text(expected)} as initial_state gives; got "
                         f"{_state_text(state0)}")
    return tuple(state0)


class _StepCaches(list):
    """forward's list of step caches, with the shapes and dtype of what it returned, so
    backward can name a dhs or dstate_T that does not fit them (a list as before)."""
    hs = state = None


class _SequenceCache(dict):
    """The same for a twin whose cache is one dict over the whole sequence (qrnn)."""
    hs = state = None


def _finished_forward(hs, state_T, caches):
    """forward's (hs, state_T, caches), the caches carrying the (shape, dtype) of hs and
    of each final state entry."""
    kind = {list: _StepCaches, dict: _SequenceCache}.get(type(caches))
    if kind is not None:
        caches = kind(caches)
        caches.hs = (hs.shape, hs.dtype)
        caches.state = [(s.shape, s.dtype) for s in state_T]
    return hs, state_T, caches


def _check_against_forward(where, dhs, caches, dstate_T):
    """dhs shaped as forward's hs and dstate_T as its final state, dtype included (a
    (T, B, 1) dhs or a dstate_T without its batch axis broadcast without a word)."""
    shape, dtype = caches.hs
    if dhs.shape != shape or dhs.dtype != dtype:
        raise ValueError(f"{where}: dhs must be shaped as forward's hs, {shape} of {dtype}; "
                         f"got {_text(dhs)}")
    fits = len(dstate_T) == len(caches.state) and all(
        d.shape == s and d.dtype == t for d, (s, t) in zip(dstate_T, caches.state))
    if not fits:
        expected = ", ".join(f"an array {s} of {t}" for s, t in caches.state)
        raise ValueError(f"{where}: dstate_T must be shaped as forward's final state, "
                         f"({expected}); got {_state_text(dstate_T)}")


def _checked(name, forward, backward, initial_state, step_caches, required=()):
    """The public forward and backward of textbook cell ``name``: forward takes
    state0=None (initial_state), as every cell's forward does; both check their
    arguments first. ``step_caches``: forward's caches are its list of step caches (a
    cell written over the whole sequence keeps what it likes); ``required``: the options
    forward cannot do without."""
    def run_forward(x, state0, params, **options):
        where = f"rnnzoo.reference.get({name!r}).forward"
        missing = missing_options(required, options)
        if missing:
            raise TypeError(f"{where}: the textbook {name} needs the option(s) {missing}, "
                            f"which its parameters do not hold; pass the cell's: "
                            f"**rnnzoo.reference.get({name!r}).options_of(cell)")
        state0 = _check_forward(where, x, state0, params, initial_state, options)
        try:
            return _finished_forward(*forward(x, state0, params, **options))
        except (ValueError, IndexError) as exc:    # shapes only the steps can compare
            raise ValueError(f"{where}: {exc} (x's last axis must be the cell's input "
                             f"size, params a cell's params)") from exc
        except KeyError as exc:
            raise KeyError(f"{where}: params has no entry {exc} (pass a cell's params)") \
                from exc

    def run_backward(dhs, caches, dstate_T):
        where = f"rnnzoo.reference.get({name!r}).backward"
        if step_caches and (not isinstance(caches, list) or not caches):
            raise TypeError(f"{where}: caches must be the list of step caches forward "
                            f"returned; got {_text(caches)}")
        T = f" with T = {len(caches)}" if step_caches else ""
        if not isinstance(dhs, np.ndarray) or dhs.ndim != 3 or \
                (step_caches and len(dhs) != len(caches)):
            raise ValueError(f"{where}: dhs must be a NumPy array (T, B, H){T}, as "
                             f"forward's hs; got {_text(dhs)}")
        if not (isinstance(dstate_T, (tuple, list))
                and all(isinstance(d, np.ndarray) for d in dstate_T)):
            raise TypeError(f"{where}: dstate_T must be a tuple of arrays shaped as "
                            f"forward's final state (zeros where no loss reaches it); got "
                            f"{_state_text(dstate_T)}")
        if isinstance(caches, (_StepCaches, _SequenceCache)):   # (caches built by hand
            _check_against_forward(where, dhs, caches, dstate_T)  # carry no shapes)
        return backward(dhs, caches, tuple(dstate_T))
    return run_forward, run_backward


def register_steps(name, step_forward, step_backward, options_of=_no_options, output=0, *,
                   initial_state):
    """Register a step-wise textbook cell: the loop above makes its sequence functions.
    ``output``: which state entry is the cell's output h_t (0, or -1 for a stack whose
    top layer is the output); ``initial_state(batch, params, **options)``: the state when
    state0 is None."""
    required = required_options(step_forward)
    forward, backward = _checked(name, partial(sequence_forward, step_forward, output=output),
                                 partial(sequence_backward, step_backward, output=output),
                                 initial_state, step_caches=True, required=required)
    REFERENCES[name] = Reference(name, forward, backward, options_of, step_forward,
                                 step_backward, initial_state, required)


def register_readout_steps(name, step_forward, step_backward, options_of=_no_options, *,
                           initial_state):
    """Register a step-wise textbook cell whose output is read out of its state
    (:func:`readout_sequence_forward`): the loops above make its sequence functions."""
    register_sequence(name, partial(readout_sequence_forward, step_forward),
                      partial(readout_sequence_backward, step_backward), options_of,
                      initial_state=initial_state, step_caches=True,
                      required=required_options(step_forward))


def register_sequence(name, forward, backward, options_of=_no_options, *, initial_state,
                      step_caches=False, required=None):
    """Register a textbook cell written over the whole sequence (not step-wise; with
    ``step_caches``, its forward returns the list of its step caches). ``required``: the
    options it cannot do without (None: forward's own, from its signature)."""
    required = required_options(forward) if required is None else required
    forward, backward = _checked(name, forward, backward, initial_state, step_caches,
                                 required)
    REFERENCES[name] = Reference(name, forward, backward, options_of,
                                 initial_state=initial_state, required_options=required)


def get(name):
    """The :class:`Reference` of a registered cell; KeyError naming it if there is none."""
    if name not in REFERENCES:
        raise KeyError(f"no textbook version of cell {name!r} in rnnzoo.reference; "
                       f"textbook cells: {', '.join(sorted(REFERENCES))}")
    return REFERENCES[name]
