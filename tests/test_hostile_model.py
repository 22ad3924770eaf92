"""Hostile input to the model pieces: Linear, build_model, SequenceModel and the losses.

A pass: each bad argument raises, and the message names the argument (and, for
backward, talks about dy, never an internal name); nothing broadcasts or casts.
"""
import math

import numpy as np
import pytest

import rnnzoo
from rnnzoo import Linear, SequenceModel, build_model, mse_loss, softmax_cross_entropy
from rnnzoo.core.base import Cache

from .hostile import raises

ERR = (TypeError, ValueError)


@pytest.mark.parametrize("kwargs,match", [
    ({"in_features": 0}, "in_features must be an integer >= 1"),
    ({"in_features": 2.5}, "in_features must be an integer"),
    ({"in_features": "3"}, "in_features must be an integer"),
    ({"in_features": True}, "in_features must be an integer"),
    ({"out_features": 0}, "out_features must be an integer >= 1"),
    ({"out_features": None}, "out_features must be an integer"),
    ({"readout": "first"}, "readout must be one of 'all', 'last'; got 'first'"),
    ({"readout": 1}, "readout must be one of"),
    ({"readout": None}, "readout must be one of"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"seed": "0"}, "seed must be an integer >= 0"),
    ({"dtype": "int32"}, "dtype must be float32 or float64"),
])
def test_linear_constructor(kwargs, match):
    args = {"in_features": 3, "out_features": 2, **kwargs}
    raises(ERR, match, Linear, args.pop("in_features"), args.pop("out_features"), **args)


def test_linear_initializes_like_torch_nn_linear():
    """W and b ~ U(-1/√in, 1/√in), torch.nn.Linear's default: with 400 draws per tensor
    the extremes come within 2 % of the bound and never pass it."""
    lin = Linear(25, 400, seed=3)
    bound = 1 / math.sqrt(25)
    for name, p in lin.params.items():
        assert np.abs(p).max() <= bound, name
        assert np.abs(p).max() > 0.98 * bound, name


def test_softmax_cross_entropy_with_one_class_is_zero():
    loss, dz = softmax_cross_entropy(np.array([[3.0], [-1.0]]), np.array([0, 0]))
    assert loss == 0.0 and not dz.any()


def test_linear_accepts_numpy_integers():
    lin = Linear(np.int64(3), np.int32(2), seed=np.int64(1))
    assert lin.params["W"].shape == (2, 3)


@pytest.mark.parametrize("hs,exc,match", [
    ([[[0.0, 0.0, 0.0]]], TypeError, "hs must be a numpy array; got list"),
    (np.zeros((2, 3)), ValueError, r"hs must be 3-D; got shape \(2, 3\)"),
    (np.zeros((2, 1, 4)), ValueError, "hs must have 3 features"),
    (np.zeros((2, 1, 3), dtype=np.float32), TypeError, "hs must have dtype float64"),
])
def test_linear_forward(hs, exc, match):
    raises(exc, match, Linear(3, 2).forward, hs)


@pytest.mark.parametrize("readout", ["all", "last"])
@pytest.mark.parametrize("dy,exc,match", [
    ("short", ValueError, r"dy must have the shape of the y that forward returned"),
    ("float32", TypeError, "dy must have dtype float64"),
    ("nan", ValueError, "dy contains NaN or inf"),
    ("list", TypeError, "dy must be a numpy array; got list"),
])
def test_linear_backward_checks_dy_against_forward(readout, dy, exc, match):
    lin = Linear(3, 2, readout=readout)
    y, cache = lin.forward(np.ones((4, 1, 3)))
    bad = {"short": np.ones(y.shape[:-1] + (1,)), "float32": np.ones(y.shape, np.float32),
           "nan": np.full(y.shape, np.nan), "list": y.tolist()}[dy]
    raises(exc, rf"Linear.backward: {match}", lin.backward, bad, cache)


def test_linear_backward_refuses_another_linears_cache():
    a, b = Linear(3, 2), Linear(3, 2)
    y, cache = a.forward(np.ones((4, 1, 3)))
    raises(ValueError, "cache was made by another object", b.backward, y, cache)
    raises(TypeError, "cache must be the cache returned by forward", a.backward, y, {})


@pytest.mark.parametrize("kwargs,match", [
    ({"layers": 0}, "layers must be an integer >= 1"),
    ({"layers": 1.5}, "layers must be an integer"),
    ({"layers": "2"}, "layers must be an integer"),
    ({"layers": True}, "layers must be an integer"),
    ({"output_size": 0}, "output_size must be an integer >= 1"),
    ({"output_size": "1"}, "output_size must be an integer"),
    ({"hidden_size": 0}, "hidden_size must be an integer >= 1"),
    ({"input_size": 2.0}, "input_size must be an integer"),
    ({"readout": "first"}, "readout must be one of"),
    ({"seed": -3}, "seed must be an integer >= 0"),
    ({"cell": "nope"}, "no cell named 'nope'"),
    ({"cell": "gru", "dropout": 0.1}, "unknown option"),
    ({"cell": "rnn", "nonlinearity": "sigmoid"}, "nonlinearity must be one of"),
])
def test_build_model(kwargs, match):
    args = {"cell": "gru", "input_size": 2, "hidden_size": 3, "output_size": 1, **kwargs}
    raises(ERR, match, build_model, args.pop("cell"), args.pop("input_size"),
           args.pop("hidden_size"), args.pop("output_size"), **args)


def _cells_and_head(kind):
    g = rnnzoo.make("gru", 2, 3)
    head = Linear(3, 1)
    return {
        "empty": ([], head, "cells must be a non-empty list"),
        "bare cell": (g, head, "cells must be a non-empty list"),
        "not a cell": (["gru"], head, "cells must be a non-empty list"),
        "readout": ([g], "linear", "readout must be a rnnzoo.Linear"),
        "dtypes": ([g], Linear(3, 1, dtype=np.float32), "share one dtype and backend"),
        "layer dtypes": ([g, rnnzoo.make("gru", 3, 3, dtype=np.float32)], head,
                         "share one dtype"),
        "chain": ([g, rnnzoo.make("gru", 4, 3)], head, "layer sizes do not chain"),
        "head size": ([g], Linear(4, 1), "readout expects 4 features"),
    }[kind]


@pytest.mark.parametrize("kind", ["empty", "bare cell", "not a cell", "readout", "dtypes",
                                  "layer dtypes", "chain", "head size"])
def test_sequence_model_constructor(kind):
    cells, head, match = _cells_and_head(kind)
    raises(ERR, match, SequenceModel, cells, head)


@pytest.mark.parametrize("state0,match", [
    ([None, None], "state0 must be None or a list of 1 per-layer states"),
    ("zeros", "state0 must be None or a list of 1"),
    ([np.zeros((2, 3))], "state0 must be a tuple of 1 array"),
])
def test_sequence_model_forward_state0(state0, match):
    model = build_model("gru", 2, 3, 1)
    raises(ERR, match, model.forward, np.zeros((4, 2, 2)), state0)


@pytest.mark.parametrize("dy,exc,match", [
    (np.zeros((4, 2)), ValueError, r"dy must have the shape of the y that forward returned "
                                   r"\(2, 1\); got \(4, 2\)"),
    (np.zeros((2,)), ValueError, "dy must have the shape"),              # no broadcast
    (np.zeros((2, 1), np.float32), TypeError, "dy must have dtype float64"),
    (np.full((2, 1), np.inf), ValueError, "dy contains NaN or inf"),
])
def test_sequence_model_backward_talks_about_dy(dy, exc, match):
    model = build_model("lstm", 2, 3, 1, readout="last")
    _, cache = model.forward(np.zeros((4, 2, 2)))
    msg = raises(exc, rf"SequenceModel.backward: {match}", model.backward, dy, cache)
    assert "dhs" not in msg


def test_sequence_model_backward_refuses_another_models_cache():
    a, b = build_model("gru", 2, 3, 1), build_model("gru", 2, 3, 1)
    y, cache = a.forward(np.zeros((4, 2, 2)))
    raises(ValueError, "cache was made by another object", b.backward, y, cache)
    raises(ValueError, "cache was made by another object", a.backward, y, Cache())
    raises(TypeError, "cache must be the cache", a.backward, y, {"cells": []})


@pytest.mark.parametrize("y,target,exc,match", [
    ([[1.0]], np.zeros((1, 1)), TypeError, "mse_loss: y must be an array; got list"),
    (np.zeros((2, 1)), [[0.0], [0.0]], TypeError, "mse_loss: target must be an array"),
    (np.zeros((2, 1)), np.zeros(2), ValueError, r"target must have the prediction's shape"),
    (np.zeros((2, 1)), np.zeros((1, 1)), ValueError, "target must have the prediction's"),
    (np.zeros((2, 1)), np.zeros((2, 1), np.float32), TypeError, "target must have dtype "
                                                                "float64"),
    (np.zeros((2, 1)), np.zeros((2, 1), np.int64), TypeError, "target must have dtype"),
    (np.zeros((2, 1), np.int64), np.zeros((2, 1), np.int64), TypeError, "y must be a "
                                                                        "floating-point"),
    (np.zeros((0, 1)), np.zeros((0, 1)), ValueError, r"mse_loss: y is empty \(shape \(0, 1\)\)"),
    # np.matrix's * is a matrix product: the loss came out 13.5 where it is 7.5
    (np.asarray([[1.0, 2.0], [3.0, 4.0]]).view(np.matrix), np.zeros((2, 2)), TypeError,
     "mse_loss: y must be a plain numpy ndarray; got a numpy.matrix"),
    (np.zeros((2, 2)), np.ma.masked_array(np.zeros((2, 2))), TypeError,
     "mse_loss: target must be a plain numpy ndarray; got a numpy.MaskedArray"),
])
def test_mse_loss(y, target, exc, match):
    raises(exc, match, mse_loss, y, target)


@pytest.mark.parametrize("logits,labels,kw,exc,match", [
    ([[0.0, 1.0]], np.zeros(1, int), {}, TypeError, "logits must be an array; got list"),
    (np.zeros((2, 3)), [0, 1], {}, TypeError, "labels must be an array; got list"),
    (np.zeros((2, 3), int), np.zeros(2, int), {}, TypeError, "logits must be a floating"),
    (np.zeros((2, 3)), np.zeros(2), {}, TypeError, "labels must be integers"),
    (np.zeros((2, 3)), np.zeros((2, 1), int), {}, ValueError, r"labels must have shape \(2,\)"),
    (np.zeros((2, 3)), np.array([0, 3]), {}, ValueError, r"labels must lie in \[0, 3\)"),
    (np.zeros((2, 3)), np.array([0, -2]), {}, ValueError, r"labels must lie in \[0, 3\)"),
    (np.zeros((2, 3)), np.array([-1, -1]), {"ignore_index": -1}, ValueError,
     "every label equals ignore_index"),
    (np.zeros((2, 3)), np.zeros(2, int), {"ignore_index": 1.5}, ERR, "ignore_index must be "
                                                                     "an integer"),
    (np.zeros((2, 3)), np.zeros(2, int), {"ignore_index": "x"}, ERR, "ignore_index must be"),
    (np.zeros((2, 3)), np.zeros(2, int), {"ignore_index": True}, ERR, "ignore_index must be"),
    (np.zeros((2, 0)), np.zeros(2, int), {}, ValueError, "class axis"),
    (np.zeros((0, 3)), np.zeros(0, int), {}, ValueError, r"logits has no positions"),
    (np.ma.masked_array(np.zeros((2, 3))), np.zeros(2, int), {}, TypeError,
     "logits must be a plain numpy ndarray"),
])
def test_softmax_cross_entropy(logits, labels, kw, exc, match):
    raises(exc, match, softmax_cross_entropy, logits, labels, **kw)


def test_losses_accept_numpy_integer_ignore_index():
    loss, _ = softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 2]),
                                    ignore_index=np.int64(2))
    assert loss == pytest.approx(math.log(3))


def test_a_non_finite_prediction_is_a_nan_loss_not_an_error():
    """The losses report NaN/inf predictions as a non-finite loss (no ValueError), so
    that the Trainer can name the cause of a divergence."""
    y = np.array([[np.nan], [1.0]])
    assert math.isnan(mse_loss(y, np.zeros((2, 1)))[0])
    assert math.isnan(softmax_cross_entropy(np.array([[np.nan, 0.0]]), np.array([0]))[0])


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    """Shifting by the max keeps exp() finite: logits of 1000 give the exact loss."""
    logits = np.array([[1000.0, 0.0], [0.0, 1000.0]])
    loss, dz = softmax_cross_entropy(logits, np.array([1, 1]))
    assert loss == pytest.approx(500.0) and np.isfinite(dz).all()


def test_build_model_default_seed_is_zero():
    a, b = build_model("gru", 2, 3, 1), build_model("gru", 2, 3, 1, seed=0)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])


def test_linear_refuses_an_empty_sequence_or_batch_and_an_ndarray_subclass():
    last = Linear(4, 2, readout="last")
    raises(ValueError, r"Linear.forward: hs must have at least one step and one sequence "
                       r"\(T, B >= 1\); got shape \(0, 2, 4\)", last.forward, np.zeros((0, 2, 4)))
    raises(ValueError, r"got shape \(3, 0, 4\)", last.forward, np.zeros((3, 0, 4)))
    raises(TypeError, "Linear.forward: hs must be a plain numpy ndarray; got a "
                      "numpy.MaskedArray", last.forward, np.ma.masked_array(np.zeros((3, 2, 4))))


def test_a_bad_state0_entry_is_named_by_its_layer():
    """In a 3-layer model the cell's own message could not say which entry was wrong."""
    model = build_model("lstm", 2, 3, 1, layers=3)
    state0 = [None, (np.zeros((2, 3)), np.zeros((5, 3))), None]
    raises(ValueError, r"SequenceModel.forward: state0\[1\] \(layer 1\): LSTM\('lstm'\)"
                       r"\.forward: state0", model.forward, np.zeros((4, 2, 2)), state0)
    # a bad x is x's problem, whatever state0 is
    raises(ValueError, r"^LSTM\('lstm'\).forward: x", model.forward, np.zeros((4, 2, 7)),
           [None, None, model.cells[2].initial_state(2)])
