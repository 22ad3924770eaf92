"""Self-checks for the student notebooks: each says *what* is wrong, not only that
something is.

The student versions of the notebooks (``python -m rnnzoo assignments OUTDIR``) leave
functions for the student to write. Every such exercise ends with a call into this
module:

* :func:`check_step` takes a textbook step pair, CS231n style,
  ``step_forward(x, state, params) -> (state_next, cache)`` and
  ``step_backward(dstate_next, cache) -> (dx, dstate, grads)`` (for a cell whose output
  is read out of its state, such as S4D or DeltaNet, the pair of :mod:`rnnzoo.reference`'s
  readout cells: ``step_forward -> (state_next, y, cache)`` and
  ``step_backward(dy, dstate_next, cache) -> (dx, dstate, grads)``), and checks it three ways:
  fixed inputs against rnnzoo's own cell (shapes, then values), the returned gradients
  against the cell's backward (gate by gate for gated cells, so a message names the
  wrong gate, then dx and the gradients carried back), and :func:`rnnzoo.gradcheck` (float64 central
  differences) through a whole sequence built from the student's two functions.
* :func:`check_close` compares a value (an array or a number) with an expected one.
* :func:`check_items`, :func:`check_number` and :func:`check_shape` check the form of what
  a student's function returned (how many values, one finite number, an array's shape)
  before an exercise's check computes with it, so a forgotten ``return`` or a (1, d) row
  for a (d,) vector is named instead of failing inside NumPy or broadcasting silently.
* :func:`attempt` calls a student function and turns the stub's ``NotImplementedError``
  into a :class:`CheckFailed` that names the function to write.

A failed check raises :class:`CheckFailed` (an AssertionError) with the reason; a
passed one prints what was checked. The step check is :mod:`.steps`, the value checks
:mod:`.values`; notebooks import them all from here.
"""
from __future__ import annotations

from .steps import PARAM_JITTER, check_step
from .values import CheckFailed, attempt, check_close, check_items, check_number, check_shape

__all__ = ["CheckFailed", "attempt", "check_close", "check_items", "check_number",
           "check_shape", "check_step", "PARAM_JITTER"]
