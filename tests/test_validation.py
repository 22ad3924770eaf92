"""The shared validators of rnnzoo/core/validation.py, directly.

A pass: valid values (NumPy scalars included) come back as plain Python objects;
everything else raises, a wrong type as ArgumentTypeError (a TypeError and a
ValueError), a wrong value as ValueError, with the argument, the expectation and the
given value (shortened when long) in the message.
"""
import math

import numpy as np
import pytest

from rnnzoo.core.validation import (ArgumentTypeError, check_bool, check_choice, check_float,
                                    check_int, check_optional, check_seed, describe)


def test_accepted_values_come_back_as_plain_python():
    assert type(check_int(np.int64(3), "n")) is int
    assert type(check_float(np.float32(0.5), "x")) is float and check_float(2, "x") == 2.0
    assert check_bool(np.bool_(True), "b") is True
    assert type(check_choice(np.str_("relu"), "nl", ("tanh", "relu"))) is str
    assert check_optional(check_int, None, "k") is None and check_seed(0) == 0


@pytest.mark.parametrize("call,exc,match", [
    (lambda: check_int(True, "n"), ArgumentTypeError, r"n must be an integer; got True \(bool\)"),
    (lambda: check_int(2.0, "n", minimum=1), ArgumentTypeError, "n must be an integer >= 1"),
    (lambda: check_int(0, "n", minimum=1, maximum=3, where="f"), ValueError,
     r"f: n must be an integer >= 1 and <= 3; got 0 \(int\)"),
    (lambda: check_int(4, "n", maximum=3), ValueError, "n must be an integer <= 3; got 4"),
    (lambda: check_float(math.nan, "x"), ValueError, r"x must be a finite number; got nan"),
    (lambda: check_float("1", "x"), ArgumentTypeError, r"got '1' \(str\)"),
    (lambda: check_float(0.0, "x", minimum=0.0, min_open=True), ValueError, "x must be a "
                                                                            "finite number > 0"),
    (lambda: check_float(1.0, "x", maximum=1.0, max_open=True), ValueError, "< 1"),
    (lambda: check_float(1.5, "x", maximum=1.0), ValueError, "<= 1; got 1.5"),
    (lambda: check_float(-0.5, "x", minimum=0.0), ValueError, ">= 0; got -0.5"),
    (lambda: check_bool("False", "b"), ArgumentTypeError, "b must be True or False"),
    (lambda: check_bool(0, "b"), ArgumentTypeError, "b must be True or False"),
    (lambda: check_choice(1, "c", ("a", "b")), ArgumentTypeError, "c must be one of 'a', 'b'"),
    (lambda: check_choice("z", "c", ("a", "b")), ValueError, "c must be one of 'a', 'b'; got"),
    (lambda: check_seed(-1), ValueError, "seed must be an integer >= 0"),
])
def test_refusals_name_argument_expectation_and_value(call, exc, match):
    with pytest.raises(exc, match=match) as info:
        call()
    if exc is ArgumentTypeError:
        assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


def test_boundaries_are_inclusive_unless_open():
    assert check_float(0.0, "x", minimum=0.0) == 0.0 and check_float(1.0, "x", maximum=1.0) == 1.0
    assert check_int(1, "n", minimum=1, maximum=1) == 1


def test_describe_shortens_long_values():
    text = describe(list(range(100)))
    assert text == repr(list(range(100)))[:57] + "... (list)"
    assert describe("ab") == "'ab' (str)"
    # a repr of 60 characters is kept whole; one of 61 is cut to 57 and "..."
    assert describe("x" * 58) == repr("x" * 58) + " (str)"
    assert describe("x" * 59) == repr("x" * 59)[:57] + "... (str)"
