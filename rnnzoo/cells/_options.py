"""Option checks shared by the cells (first written for skiprnn, clockwork and qrnn).

Each returns the value as a plain Python type or raises naming the option, what was
expected and what was given. bool is not a number and a string is not a bool; NumPy
scalars (np.float32(0.1), np.int64(2), np.bool_(True)) are accepted.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..core import scan


def real(name, value, *, lo=-np.inf, hi=np.inf, lo_open=False, hi_open=False):
    """A finite real number in [lo, hi] (open ends where asked)."""
    lb, rb = "(" if lo_open else "[", ")" if hi_open else "]"
    want = f"a finite real number in {lb}{lo}, {hi}{rb}"
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)) \
            or not np.isfinite(value):
        raise ValueError(f"{name} must be {want}; got {value!r}")
    v = float(value)
    if v < lo or v > hi or (lo_open and v == lo) or (hi_open and v == hi):
        raise ValueError(f"{name} must be {want}; got {value!r}")
    return v


def integer(name, value, *, lo=1):
    """An integer >= lo."""
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)) \
            or value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}; got {value!r}")
    return int(value)


def flag(name, value):
    """True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def choice(name, value, allowed):
    """One of the strings in ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; "
                         f"got {value!r}")
    return value


def heads(value, hidden_size):
    """A number of heads, an integer >= 1 that divides ``hidden_size`` (each head gets
    hidden_size / heads units: the xLSTM and delta-rule cells)."""
    value = integer("heads", value)
    if hidden_size % value:
        raise ValueError(f"heads must divide hidden_size (each head has hidden_size / heads "
                         f"units); got heads={value}, hidden_size={hidden_size}")
    return value


# the forms of :func:`rnnzoo.core.scan.linear_scan` for a coefficient with no logarithm
SCAN_FORMS_WITHOUT_LOG = tuple(m for m in scan.MODES if m != "log")


def scan_form(name, value, why_not_log):
    """A form of :func:`rnnzoo.core.scan.linear_scan` for a cell whose recurrence
    coefficient (or input term) has no real logarithm: "log" is refused with
    ``why_not_log``, the reason, in the message."""
    if isinstance(value, str) and value == "log":
        raise ValueError(f"{name} must be one of "
                         f"{', '.join(map(repr, SCAN_FORMS_WITHOUT_LOG))}; got 'log' "
                         f"({why_not_log})")
    return choice(name, value, SCAN_FORMS_WITHOUT_LOG)
