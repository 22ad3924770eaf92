"""Hostile input to the comparison harness: compare, Variant, Budget and claim.

A pass: the bad argument is refused up front (before any training) with its name, what
was expected and what was given; a wrong type is an ArgumentTypeError (a TypeError and a
ValueError), a wrong value a ValueError.
"""
import numpy as np
import pytest

from rnnzoo import experiments as ex
from rnnzoo.core.validation import ArgumentTypeError

from .hostile import raises


# ------------------------------------------------------------ claim
@pytest.mark.parametrize("passed", ["False", "True", 1, 0, None, 1.0, [True],
                                    np.array([True, False]), np.array(True)])
def test_claim_condition_must_be_a_bool(capsys, passed):
    raises(ArgumentTypeError, "passed must be True or False", ex.claim, "x", passed)
    assert "PASS" not in capsys.readouterr().out        # nothing printed as checked


def test_claim_takes_python_and_numpy_bools(capsys):
    assert ex.claim("numpy", np.float64(1) > 0).passed is True
    assert ex.claim("python", True).passed is True
    assert not ex.claim("soft", np.bool_(False), strict=False).passed
    with pytest.raises(ex.ClaimFailed):
        ex.claim("numpy false", np.array([1, 2]).sum() > 5)
