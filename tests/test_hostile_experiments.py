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


# ------------------------------------------------------------ Variant and Budget
def test_variant_options_none_means_no_options():
    assert ex.Variant("gru", None).options == {}
    assert ex.Variant("gru", options=None) == ex.Variant("gru")


@pytest.mark.parametrize("options", ["forget_bias", ["forget_bias"], 1.0, True])
def test_variant_options_must_be_a_dict(options):
    message = raises(ArgumentTypeError, "options must be None or a dict", ex.Variant, "lstm",
                     options)
    assert "'f'" not in message          # not one unknown option per character


@pytest.mark.parametrize("cell", [3, None, ["gru"]])
def test_variant_cell_must_be_a_name(cell):
    raises(ArgumentTypeError, "cell must be a cell name", ex.Variant, cell)


@pytest.mark.parametrize("budget", ["tbptt", ["tbptt"], 4])
def test_variant_budget_must_be_a_dict(budget):
    raises(ArgumentTypeError, "budget must be None or a dict", ex.Variant, "gru",
           budget=budget)


@pytest.mark.parametrize("optimizer,error", [("nope", ValueError), ("", ValueError),
                                             (3, ArgumentTypeError), (None, ArgumentTypeError)])
def test_budget_optimizer_is_refused_at_construction(optimizer, error):
    raises(error, "Budget.optimizer must be one of", ex.Budget, optimizer=optimizer)


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adam", "Adam", np.str_("sgd")])
def test_budget_takes_every_optimizer_the_trainer_takes(optimizer):
    assert ex.Budget(optimizer=optimizer).optimizer == optimizer


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
