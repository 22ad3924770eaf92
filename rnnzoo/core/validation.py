"""Small argument validators shared by every public entry point (cells, model, optim,
tasks, training, gradcheck, checkpoints, CLI). Imports nothing from rnnzoo.

Each validator returns the value as a plain Python object (so ``np.float32(0.1)`` and
``np.int64(2)`` are accepted and stored as ``float``/``int``) or raises an error whose
message names the argument, what was expected and what was given::

    check_float(lr, "lr", minimum=0.0, where="Adam")
    # ValueError: Adam: lr must be a finite number >= 0; got nan (float)

The rules, project-wide:

* a bool is not a number, and a string is not a bool (``"False"`` is truthy);
* NaN and inf are never valid hyperparameters;
* no silent cast: ``2.5`` is not an int, a 1-element list is not a number.

A value of the wrong *type* raises :class:`ArgumentTypeError`, which is both a
``TypeError`` (what it is) and a ``ValueError`` (what cell option checks have always
raised), so ``except ValueError`` and ``except TypeError`` both catch it. A value of the
right type but out of range raises ``ValueError``.
"""
from __future__ import annotations

import math
import numbers

import numpy as np


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (also a ValueError, see the module docstring)."""


def repeated(values) -> list:
    """The values that occur more than once in ``values``, sorted: what a "must be distinct"
    error names (a repeated seed, cell or figure would be run twice and counted twice)."""
    from collections import Counter
    return sorted(v for v, n in Counter(values).items() if n > 1)


def check_distinct(values, name, where):
    """``values`` (a list), unless one occurs twice: refused naming the repeats."""
    repeats = repeated(values)
    if repeats:
        raise ValueError(f"{where}: {name} must be distinct; got {values}, which repeats "
                         f"{repeats}")
    return values


def describe(value) -> str:
    """``repr`` plus the type name, shortened: ``'1' (str)``, ``nan (float)``."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _fail(where, name, expected, value, error=ValueError):
    prefix = f"{where}: " if where else ""
    raise error(f"{prefix}{name} must be {expected}; got {describe(value)}")


def is_bool(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def is_int(value) -> bool:
    """An integer that is not a bool (NumPy integer scalars included)."""
    return isinstance(value, (numbers.Integral, np.integer)) and not is_bool(value)


def is_real(value) -> bool:
    """A real number that is not a bool (NumPy scalars included; not complex, not str)."""
    return isinstance(value, (numbers.Real, np.integer, np.floating)) and not is_bool(value)


def _range_text(minimum, maximum, min_open, max_open):
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if min_open else '>='} {minimum:g}")
    if maximum is not None:
        parts.append(f"{'<' if max_open else '<='} {maximum:g}")
    return " and ".join(parts)


def check_int(value, name, *, minimum=None, maximum=None, where=None) -> int:
    """An integer (not bool, not 2.0) in [minimum, maximum]; returns ``int(value)``."""
    rng = _range_text(minimum, maximum, False, False)
    expected = "an integer" + (f" {rng}" if rng else "")
    if not is_int(value):
        _fail(where, name, expected, value, ArgumentTypeError)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        _fail(where, name, expected, value)
    return int(value)


def check_float(value, name, *, minimum=None, maximum=None, min_open=False, max_open=False,
                where=None) -> float:
    """A finite real number (ints accepted, bools and strings not) in the given range,
    open or closed at each end; returns ``float(value)``."""
    rng = _range_text(minimum, maximum, min_open, max_open)
    expected = "a finite number" + (f" {rng}" if rng else "")
    if not is_real(value):
        _fail(where, name, expected, value, ArgumentTypeError)
    v = float(value)
    if not math.isfinite(v):
        _fail(where, name, expected, value)
    if minimum is not None and (v <= minimum if min_open else v < minimum):
        _fail(where, name, expected, value)
    if maximum is not None and (v >= maximum if max_open else v > maximum):
        _fail(where, name, expected, value)
    return v


def check_bool(value, name, *, where=None) -> bool:
    """True or False (``np.bool_`` too); never a string, a number or None."""
    if not is_bool(value):
        _fail(where, name, "True or False", value, ArgumentTypeError)
    return bool(value)


def check_choice(value, name, choices, *, where=None):
    """One of ``choices`` (compared by equality, after checking the type matches)."""
    choices = tuple(choices)
    expected = "one of " + ", ".join(repr(c) for c in choices)
    if not any(type(value) is type(c) or (isinstance(c, str) and isinstance(value, str))
               for c in choices):
        _fail(where, name, expected, value, ArgumentTypeError)
    if value not in choices:
        _fail(where, name, expected, value)
    return choices[choices.index(value)]      # the canonical object (str, not np.str_)


def check_optional(check, value, name, **kwargs):
    """None, or whatever ``check`` accepts: ``check_optional(check_int, tbptt, "tbptt",
    minimum=1)``."""
    return None if value is None else check(value, name, **kwargs)


def check_seed(value, name="seed", *, where=None) -> int:
    """A non-negative integer seed (None would make a run irreproducible)."""
    return check_int(value, name, minimum=0, where=where)
