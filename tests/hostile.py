"""Shared helpers of the hostile-input suites (tests/test_hostile_*.py).

A hostile case passes when the call raises the expected exception type and the message
names the argument (``match``); nothing else counts (no silent acceptance, no raw NumPy
error from deep inside a loop).
"""
import math

import numpy as np
import pytest

# Values that are never a valid option of the given default's type: a string is not a
# bool or a number, a bool is not a number, NaN/inf are not hyperparameters, a list or
# an array is not a scalar.
HOSTILE_BY_TYPE = {
    bool: ["yes", "False", 1, 0, None, 1.0, [True]],
    float: [math.nan, math.inf, -math.inf, "1.0", True, None, [1.0], 1j, np.array([1.0])],
    int: [1.5, "2", True, None, math.nan, np.float64(2.0), [2]],
    str: [1, None, True, "no-such-choice", ["x"]],
}


def numpy_twins(default):
    """NumPy scalar versions of a valid option value, which must be accepted."""
    if isinstance(default, bool):
        return [np.bool_(default)]
    if isinstance(default, int):
        return [np.int64(default), np.int32(default)]
    if isinstance(default, float):
        return [np.float64(default), np.float32(default)] + (
            [int(default)] if float(default).is_integer() else [])
    if isinstance(default, str):
        return [np.str_(default)]
    return []


def option_type(default):
    for kind in (bool, int, float, str):        # bool first: True is also an int
        if type(default) is kind:
            return kind
    return None


def raises(exc, match, fn, *args, **kwargs):
    """Call fn and require exc with a message matching ``match``; return the message."""
    with pytest.raises(exc, match=match) as info:
        fn(*args, **kwargs)
    assert "Traceback" not in str(info.value)
    return str(info.value)
