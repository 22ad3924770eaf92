"""The sequence loop written once, and the table of textbook cells.

A step-wise textbook cell is two plain functions, CS231n style::

    state, cache = step_forward(x_t, state_prev, params, **options)
    dx_t, dstate_prev, dparams = step_backward(dstate, cache)

``state`` is a tuple whose first entry is the output h_t. ``dstate`` is the *total*
gradient reaching the new state: the loss's own gradient at step t plus the one carried
back from step t+1. :func:`sequence_forward` and :func:`sequence_backward` below run any
such pair over a whole sequence (x of shape (T, B, D)); backward is backpropagation
through time, with the carried gradient named ``dh_next`` as in min-char-rnn.

Nothing here is optimized: no preallocated buffers, no in-place updates, a new array for
every intermediate value. It is meant to be read next to the equations, and it is the
oracle the optimized cells in :mod:`rnnzoo.cells` are tested against.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np


def sigmoid(a):
    """σ(a) = 1 / (1 + exp(-a))."""
    return 1.0 / (1.0 + np.exp(-a))


def relu(a):
    """max(a, 0)."""
    return np.maximum(a, 0.0)


# ------------------------------------------------------------------ the sequence loop
def sequence_forward(step_forward, x, state0, params, **options):
    """Run ``step_forward`` over x (T, B, D) from state0.

    Returns hs (T, B, H) (the first state entry after every step), the final state and
    the list of the T step caches.
    """
    state, hs, caches = tuple(state0), [], []
    for x_t in x:
        state, cache = step_forward(x_t, state, params, **options)
        hs.append(state[0])                             # h_t is the state's first entry
        caches.append(cache)
    return np.stack(hs), state, caches


def sequence_backward(step_backward, dhs, caches, dstate_T):
    """Backpropagation through time over the caches of :func:`sequence_forward`.

    dhs (T, B, H) is dL/dh_t from the loss at step t only; ``dstate_T`` is dL/d(state_T).
    Returns dx (T, B, D), dL/d(state0) and the parameter gradients summed over all steps.
    """
    dh_next, dother_next = dstate_T[0], tuple(dstate_T[1:])   # carried from step t+1
    dxs, grads = [None] * len(caches), {}
    for t in reversed(range(len(caches))):
        dstate = (dhs[t] + dh_next,) + dother_next      # the loss at t + what step t+1 sent
        dxs[t], dstate_prev, dparams = step_backward(dstate, caches[t])
        for name, g in dparams.items():                 # the same weights at every step
            grads[name] = grads[name] + g if name in grads else g
        dh_next, dother_next = dstate_prev[0], tuple(dstate_prev[1:])
    return np.stack(dxs), (dh_next,) + dother_next, grads


# ------------------------------------------------------------------ the table
@dataclass(frozen=True)
class Reference:
    """The textbook version of one registered cell.

    forward(x, state0, params, **options) -> (hs, state_T, caches)
    backward(dhs, caches, dstate_T) -> (dx, dstate0, grads)
    options_of(cell) -> the options the equations need, read from an optimized cell
    step_forward / step_backward: the step pair, None for a cell that is not step-wise
    """

    name: str
    forward: Callable
    backward: Callable
    options_of: Callable
    step_forward: Callable | None = None
    step_backward: Callable | None = None


REFERENCES: dict[str, Reference] = {}


def _no_options(cell):
    return {}


def register_steps(name, step_forward, step_backward, options_of=_no_options):
    """Register a step-wise textbook cell: the loop above makes its sequence functions."""
    REFERENCES[name] = Reference(name, partial(sequence_forward, step_forward),
                                 partial(sequence_backward, step_backward), options_of,
                                 step_forward, step_backward)


def register_sequence(name, forward, backward, options_of=_no_options):
    """Register a textbook cell written over the whole sequence (not step-wise)."""
    REFERENCES[name] = Reference(name, forward, backward, options_of)


def get(name):
    """The :class:`Reference` of a registered cell; KeyError naming it if there is none."""
    if name not in REFERENCES:
        raise KeyError(f"no textbook version of cell {name!r} in rnnzoo.reference; "
                       f"textbook cells: {', '.join(sorted(REFERENCES))}")
    return REFERENCES[name]
