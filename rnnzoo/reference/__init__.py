"""rnnzoo.reference: the textbook version of every cell.

Plain NumPy, one equation per line, CS231n-style step pairs::

    state, cache = step_forward(x_t, state_prev, params, **options)
    dx_t, dstate_prev, dparams = step_backward(dstate, cache)

with the sequence loop and backpropagation through time written once
(:func:`sequence_forward`, :func:`sequence_backward`). Students read and reimplement it;
the notebooks derive it on screen; and it is the test oracle: every registered cell
equals its textbook version in float64, forward and backward (tests/test_reference.py).

Use it through the table, by the registered name of a cell::

    from rnnzoo import reference
    ref = reference.get("lstm")
    hs, state_T, caches = ref.forward(x, state0, cell.params, **ref.options_of(cell))
    dx, dstate0, grads = ref.backward(dhs, caches, dstate_T)

or call a step pair directly (``reference.gated.lstm_step_forward``).
"""
from . import (antisymmetric, clockwork, cornn, delta_rule, deltarnn, elman,  # noqa: F401
               fastweights, gated, lipschitz, lmu, lru, minimal, qrnn, s4d, s6,
               skiprnn, structural, unicornn, unitary, xlstm)
from .core import (REFERENCES, Reference, get, register_sequence, register_steps,  # noqa: F401
                   relu, sequence_backward, sequence_forward, sigmoid)
