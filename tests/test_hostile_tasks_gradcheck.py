"""Hostile input to make_task / Task.batch and to gradcheck, and the checker's own tests.

A pass: each bad argument is refused with its name; the checker fails (and names the
tensor or key) for a wrong backward in directional mode and for a missing or misshaped
gradient.
"""
import math
import re

import numpy as np
import pytest

import rnnzoo
from rnnzoo.tasks import make_task

from .hostile import raises

ERR = (TypeError, ValueError)


@pytest.mark.parametrize("name,kwargs,match", [
    (3, {}, "unknown task 3"),
    (None, {}, "unknown task None"),
    ("mnist", {}, "unknown task 'mnist'"),
    ("adding", {"T": 1}, "adding problem T must be an integer >= 2"),
    ("adding", {"T": 2.5}, "adding problem T must be an integer"),
    ("adding", {"T": "10"}, "adding problem T must be an integer"),
    ("adding", {"T": True}, "adding problem T must be an integer"),
    ("copy", {"T": 0}, r"copy task T \(the blank gap\) must be an integer >= 1"),
    ("copy", {"T": "5"}, "copy task T .* must be an integer"),
    ("selective_copy", {"T": 3, "symbols": 4},
     r"selective copy T \(the span the 4 symbols are scattered over, at least symbols\) "
     r"must be an integer >= 4; got 3"),
    ("selective_copy", {"T": 10.5}, "selective copy T .* must be an integer"),
    ("selective_copy", {"T": True}, "selective copy T .* must be an integer"),
    ("selective_copy", {"symbols": 0}, r"selective copy symbols \(how many to copy\) must be "
                                       r"an integer >= 1; got 0"),
    ("selective_copy", {"symbols": "4"}, "selective copy symbols .* must be an integer"),
    ("selective_copy", {"vocab": 1}, r"selective copy vocab \(the number of symbols\) must "
                                     r"be an integer >= 2; got 1"),
    ("selective_copy", {"vocab": 2.0}, "selective copy vocab .* must be an integer"),
    ("selective_copy", {"eval_size": 0}, "eval_size must be an integer >= 1"),
    ("selective_copy", {"pairs": 4}, "unexpected keyword argument 'pairs'"),
    ("adding", {"seed": -1}, "seed must be an integer >= 0"),
    ("adding", {"seed": 1.5}, "seed must be an integer"),
    ("adding", {"seed": "0"}, "seed must be an integer"),
    ("adding", {"seed": None}, "seed must be an integer"),
    ("adding", {"eval_size": 0}, "eval_size must be an integer >= 1"),
    ("adding", {"eval_size": 2.5}, "eval_size must be an integer"),
    ("associative", {"pairs": 0}, r"pairs \(at most 26.*\) must be an integer >= 1"),
    ("associative", {"pairs": 27}, "pairs .* must be an integer >= 1 and <= 26; got 27"),
    ("associative", {"pairs": 2.5}, "pairs .* must be an integer"),
    ("associative", {"pairs": "4"}, "pairs .* must be an integer"),
    ("associative", {"T": 20}, "associative retrieval has length T = 2.pairs . 3 = 11"),
    ("associative", {"T": 11.0}, "T must be an integer"),
    ("digits", {"T": 63}, "T = size² = 64"),
    ("digits", {"size": 14, "T": 64}, "T = size² = 196"),
    ("digits", {"size": 7}, "size"),
    ("digits", {"T": "64"}, "T must be an integer"),
    ("digits", {"permuted": "yes"}, "permuted must be True or False"),
    ("digits", {"permuted": 1}, "permuted must be True or False"),
    ("digits", {"test_fraction": 0.0}, "test_fraction must be a finite number > 0 and < 1"),
    ("digits", {"test_fraction": 1.0}, "test_fraction must be"),
    ("digits", {"test_fraction": math.nan}, "test_fraction must be"),
    ("digits", {"test_fraction": "0.2"}, "test_fraction must be"),
    ("digits", {"test_fraction": True}, "test_fraction must be"),
    ("adding", {"pairs": 4}, "unexpected keyword argument 'pairs'"),
])
def test_make_task(name, kwargs, match):
    raises(ERR, match, make_task, name, **kwargs)


@pytest.mark.parametrize("name", ["adding", "copy", "associative", "digits", "selective_copy",
                                  "induction", "mqar", "parity"])
@pytest.mark.parametrize("size,rng,match", [
    (0, "ok", "batch_size must be an integer >= 1"),
    (2.5, "ok", "batch_size must be an integer"),
    ("4", "ok", "batch_size must be an integer"),
    (4, None, "rng must be a numpy Generator"),
    (4, 0, "rng must be a numpy Generator"),
    (4, np.random.RandomState(0), "rng must be a numpy Generator"),
])
def test_batch(name, size, rng, match):
    task = make_task(name, **({} if name == "digits" else {"eval_size": 4}))
    rng = np.random.default_rng(0) if isinstance(rng, str) else rng
    raises(ERR, match, task.batch, size, rng)


def test_tasks_accept_numpy_integers():
    task = make_task("adding", T=np.int64(10), seed=np.int32(2), eval_size=np.int64(5))
    x, _ = task.batch(np.int64(3), np.random.default_rng(0))
    assert x.shape == (10, 3, 2) and type(task.T) is int


# ------------------------------------------------------------------ gradcheck
@pytest.fixture
def cell():
    return rnnzoo.make("gru", 2, 3, seed=0)


X = np.random.default_rng(0).standard_normal((3, 2, 2))


@pytest.mark.parametrize("kwargs,match", [
    ({"eps": 0}, "eps must be a finite number > 0"),
    ({"eps": -1e-6}, "eps must be a finite number > 0"),
    ({"eps": math.nan}, "eps must be"),
    ({"eps": "1e-6"}, "eps must be"),
    ({"eps": True}, "eps must be"),
    ({"atol": -1.0}, "atol must be a finite number >= 0"),
    ({"atol": math.nan}, "atol must be"),
    ({"rtol": -1.0}, "rtol must be a finite number >= 0"),
    ({"max_entries": 0}, r"max_entries \(None or a count\) must be an integer >= 1"),
    ({"max_entries": 1.5}, "max_entries .* must be an integer"),
    ({"max_entries": "3"}, "max_entries .* must be an integer"),
    ({"directions": 0}, "directions must be an integer >= 1"),
    ({"mode": "fast"}, "mode must be one of 'entries', 'directional'"),
    ({"mode": 1}, "mode must be one of"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"raise_on_failure": "yes"}, "raise_on_failure must be True or False"),
    ({"only": "W_hh"}, "only must be a list of tensor names"),
    ({"only": [1]}, "only must be a list of tensor names"),
    ({"only": 5}, "only must be a list of tensor names"),
    ({"only": ["W_hhh"]}, r"only= names \['W_hhh'\] match no tensor"),
    ({"skip": ["nope"]}, r"skip= names \['nope'\] match no tensor"),
    ({"skip": "x"}, "skip must be a list of tensor names"),
])
def test_gradcheck_arguments(cell, kwargs, match):
    raises(ERR, match, rnnzoo.gradcheck, cell, X, **kwargs)


def test_gradcheck_object_must_be_a_cell_or_model():
    raises(ERR, "obj must be a cell or a model", rnnzoo.gradcheck, "gru", X)


def test_gradcheck_accepts_numpy_scalars(cell):
    report = rnnzoo.gradcheck(cell, X, eps=np.float64(1e-6), max_entries=np.int64(2),
                              only=("x", "W_hh"))
    assert report.passed and [r.name for r in report.rows] == ["W_hh", "x"]


def _broken(monkeypatch, change):
    from rnnzoo.cells import gru
    original = gru.GRU.finish_backward

    def patched(self, cache, work):
        dx, grads = original(self, cache, work)
        return change(dx, grads)
    monkeypatch.setattr(gru.GRU, "finish_backward", patched)


def test_directional_mode_catches_a_wrong_backward(cell, monkeypatch):
    """A 1 % error in one gradient fails the directional check of that tensor only."""
    def scale(dx, grads):
        grads["W_ih"] = grads["W_ih"] * 1.01
        return dx, grads
    _broken(monkeypatch, scale)
    report = rnnzoo.gradcheck(cell, X, mode="directional", directions=3)
    assert not report.passed
    assert [r.name for r in report.rows if not r.passed] == ["W_ih"]
    assert "gradient of 'W_ih' is wrong" in "\n".join(report.failures())


@pytest.mark.parametrize("change,match", [
    (lambda dx, g: (dx, {k: v for k, v in g.items() if k != "b_hh"}), r"missing \['b_hh'\]"),
    (lambda dx, g: (dx, {**g, "extra": np.ones(2)}), r"extra \['extra'\]"),
    (lambda dx, g: (dx, {**g, "W_hh": g["W_hh"].T.copy()}), r"grads\['W_hh'\] has shape "
                                                               r"\(3, 9\)"),
    (lambda dx, g: (dx[:-1], g), r"dx has shape \(2, 2, 2\); x has \(3, 2, 2\)"),
])
@pytest.mark.parametrize("mode", ["entries", "directional"])
def test_a_missing_or_misshaped_gradient_fails_and_is_named(cell, monkeypatch, change, match,
                                                            mode):
    _broken(monkeypatch, change)
    report = rnnzoo.gradcheck(cell, X, mode=mode)
    assert not report.passed
    assert any(re.search(match, p) for p in report.problems), report.problems
    assert all(f"\nproblem: {p}\n" in report.table() for p in report.problems)
    with pytest.raises(AssertionError, match=match):
        rnnzoo.gradcheck(cell, X, mode=mode, raise_on_failure=True)


@pytest.mark.parametrize("mode", ["entries", "directional"])
@pytest.mark.parametrize("layout", [np.asfortranarray, lambda w: np.repeat(w, 2, axis=0)[::2]])
def test_a_non_contiguous_parameter_is_nudged_in_place(mode, layout):
    """reshape(-1) of a Fortran-order or strided parameter is a copy: a nudge made through
    it never reached the parameter, and a correct backward read 'numeric 0'."""
    cell = rnnzoo.make("rnn", 2, 3, seed=0)
    cell.params["W_hh"] = layout(cell.params["W_hh"])
    assert not np.shares_memory(cell.params["W_hh"].reshape(-1), cell.params["W_hh"])
    before = cell.params["W_hh"].copy()
    report = rnnzoo.gradcheck(cell, X, mode=mode)
    assert report.passed, report.table()
    assert np.array_equal(cell.params["W_hh"], before)        # restored bit for bit

