"""Hostile input to make_task / Task.batch and to gradcheck, and the checker's own tests.

A pass: each bad argument is refused with its name; the checker fails (and names the
tensor or key) for a wrong backward in directional mode and for a missing or misshaped
gradient.
"""
import math
import pathlib
import re

import numpy as np
import pytest

import rnnzoo
from rnnzoo.tasks import make_task

from .hostile import raises

ROOT = pathlib.Path(__file__).resolve().parents[1]

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
    ("selective_copy", {"pairs": 4}, r"unknown option\(s\) \['pairs'\]; the task takes"),
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
    ("adding", {"pairs": 4}, r"unknown option\(s\) \['pairs'\]; the task takes"),
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


TASK_NAMES = ["adding", "copy", "associative", "digits", "selective_copy", "induction", "mqar",
              "parity"]


def _outputs(task, B=4):
    """A target from batch and a y of the model's output shape for it."""
    _, target = task.batch(B, np.random.default_rng(0))
    shape = target.shape if task.loss_kind == "mse" else target.shape + (task.output_size,)
    return np.random.default_rng(1).standard_normal(shape), target


@pytest.mark.parametrize("name", TASK_NAMES)
def test_accuracy_and_success_value_check_y_and_target(name):
    """A target of another shape used to broadcast against y (the adding problem's (B,)
    target against y (B, 1) gave a mean over a B x B table) or fail inside NumPy (a
    transposed target); float labels were compared with the argmax without a word."""
    task = make_task(name, **({} if name == "digits" else {"eval_size": 4}))
    y, target = _outputs(task)
    methods = [task.accuracy] + ([task.success_value] if task.success is not None else [])
    where = type(task).__name__
    for method in methods:
        method(y, target)                                       # the shapes batch gives
        what = f"{where}.{method.__name__}"
        raises(ERR, f"{what}: target must have the shape of y", method, y, target[..., :1, None]
               if task.loss_kind == "mse" else target.T[..., :1])
        raises(ERR, f"{what}: target must have the shape of y", method, y, target[:2])
        raises(ERR, f"{what}: y must be an array; got list", method, y.tolist(), target)
        layout = r"\(B, output_size\)" if task.readout == "last" else r"\(T, B, output_size\)"
        raises(ERR, rf"{what}: y must be the model's output, {layout} with "
               rf"output_size={task.output_size}", method, y[..., None], target)
        if task.loss_kind != "mse":
            raises(ERR, f"{what}: target must hold integer class labels; got dtype float64",
                   method, y, target.astype(float))
            raises(ERR, rf"{what}: y must be the model's output", method, y[..., :-1], target)
            # a label out of range was scored as a wrong answer by accuracy, without a word
            classes = y.shape[-1]
            for wrong in (classes, -1):
                bad = target.copy()
                bad.flat[0] = wrong
                raises(ERR, rf"{what}: target must hold class labels in \[0, {classes}\) "
                       rf"\(-100 where nothing is asked\); got {wrong}", method, y, bad)


def test_the_adding_problems_accuracy_no_longer_broadcasts_a_flat_target():
    task = make_task("adding", T=10, eval_size=4)
    y, target = _outputs(task)
    raises(ValueError, r"AddingProblem.accuracy: target must have the shape of y \(4, 1\); "
           r"got \(4,\)", task.accuracy, y, target[:, 0])


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
    # nothing left to check: it said PASSED over an empty table
    ({"only": []}, r"only=\[\] and skip=\[\] leave no tensor to check"),
    ({"only": ["W_hh"], "skip": ["W_hh"]}, "leave no tensor to check"),
    ({"skip": ["W_ih", "W_hh", "b_ih", "b_hh", "x", "h0"]}, "leave no tensor to check"),
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
    (lambda dx, g: (dx[:-1], g), r"dx shaped like x \(3, 2, 2\).*; dx is a numpy.ndarray "
                                 r"of shape \(2, 2, 2\)"),
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


@pytest.mark.parametrize("prefix", ["", "cell0."])         # a cell, a model
@pytest.mark.parametrize("key,change,error,match", [
    ("b_hh", lambda p: p.astype(np.int64), TypeError, "has dtype int64; expected float64"),
    ("W_ih", lambda p: p.astype(np.float32), TypeError, "has dtype float32; expected float64"),
    ("b_hh", lambda p: p.tolist(), TypeError, r"must be a numpy array; got a list of 3 "
                                              r"\(float, float, float\)"),
    ("W_hh", lambda p: np.broadcast_to(p, p.shape), ValueError, "is read-only"),
])
def test_a_parameter_that_cannot_be_nudged_is_refused_before_any_difference(
        prefix, key, change, error, match):
    """An int parameter rounds a ±eps nudge away and a float32 one rounds it: both used to
    read as a wrong gradient of a correct backward."""
    cell = rnnzoo.make("rnn", 2, 3, seed=0)
    obj = rnnzoo.build_model("rnn", 2, 3, 2, seed=0) if prefix else cell
    cell = obj.cells[0] if prefix else cell
    cell.params[key] = change(cell.params[key])
    raises(error, rf"gradcheck: parameter '{re.escape(prefix + key)}' of \w+ {match}",
           rnnzoo.gradcheck, obj, X)


def test_a_model_refuses_state0(rng):
    """A model's backward returns no dstate0: a state0 used to be ignored silently."""
    model = rnnzoo.build_model("rnn", 2, 3, 2, seed=0)
    for state0 in ("garbage", [None], [(np.ones((2, 3)),)]):
        raises(ValueError, "gradcheck: state0 is for a cell only; SequenceModel is a model, "
               "whose backward.* returns .dx, grads. and no gradient of its initial state",
               rnnzoo.gradcheck, model, X, state0=state0)


@pytest.mark.parametrize("state0,match", [
    ("garbage", r"state0 must be None or a tuple of 1 float64 array\(s\) \(h\); got "
                r"'garbage' \(str\)"),
    (np.ones((2, 3)), r"state0 must be None or a tuple of 1 .*; got a numpy.ndarray of shape"),
    ((np.ones((2, 3)), np.ones((2, 3))), "state0 must be None or a tuple of 1 .*; got 2 arrays"),
    (([0.0, 0.0, 0.0],), r"state0 component 'h' must be a float64 numpy array; got a list "
                         r"of 3 \(float, float, float\)"),
    ((np.ones((2, 3), np.float32),), "state0 component 'h' must be a float64 numpy array; "
                                     "got a numpy.ndarray of shape .2, 3., dtype float32"),
])
def test_a_cells_bad_state0_is_refused_by_name(state0, match):
    raises(ERR, "gradcheck: " + match, rnnzoo.gradcheck, rnnzoo.make("rnn", 2, 3), X, state0)


@pytest.mark.parametrize("x,match", [
    (np.float64(1.0), r"x must be a 3-D numpy array \(T, B, input_size\), the backend of "
                      r"gru; got a numpy.float64 of shape \(\), dtype float64"),
    (np.ones(3), r"x must be a 3-D numpy array .*; got a numpy.ndarray of shape \(3,\)"),
])
def test_x_that_is_not_a_3d_array_is_refused(cell, x, match):
    raises(ERR, match, rnnzoo.gradcheck, cell, x)


class _OwnCell:
    """A user's own cell, duck-typed, without a backend attribute: rnnzoo's GRU behind the
    bare contract, with what its forward and backward return passed through changes."""

    def __init__(self, inner, backward=None, forward=None, **attributes):
        self._inner = inner
        self._change_backward = backward or (lambda returned: returned)
        self._change_forward = forward or (lambda returned: returned)
        self.params, self.dtype, self.state_names = inner.params, inner.dtype, inner.state_names
        self.initial_state = inner.initial_state
        self.__dict__.update(attributes)

    def forward(self, x, state0=None):
        return self._change_forward(self._inner.forward(x, state0))

    def backward(self, dhs, cache, dstate_T=None):
        return self._change_backward(self._inner.backward(dhs, cache, dstate_T))


def test_an_own_cell_without_backend_is_taken_to_be_numpy(cell):
    """backend is optional (NumPy, rnnzoo's default); it used to be a raw AttributeError."""
    report = rnnzoo.gradcheck(_OwnCell(cell), X)
    assert report.passed, report.table()
    assert {r.name for r in report.rows} == set(cell.params) | {"x", "h0"}
    assert rnnzoo.gradcheck(_OwnCell(cell, backend="numpy"), X).passed
    raises(ERR, r"obj.backend must be a rnnzoo backend or one of \('numpy', 'cupy'\); got "
                r"'tpu' \(str\)", rnnzoo.gradcheck, _OwnCell(cell, backend="tpu"), X)


def test_an_own_cell_without_initial_state_needs_state0(cell):
    own = _OwnCell(cell)
    del own.initial_state
    with pytest.raises(ERR, match=r"obj must be a cell or a model \(forward, backward, params, "
                                  r"dtype; a cell also state_names, and initial_state\(batch\) "
                                  r"when state0 is None; backend is optional, NumPy when absent\);"
                                  r" got .*, which has no initial_state"):
        rnnzoo.gradcheck(own, X)
    assert rnnzoo.gradcheck(own, X, (0.5 * np.ones((2, 3)),)).passed


def test_an_own_cell_whose_forward_returns_two_values_is_refused(cell):
    raises(TypeError, r"gradcheck: forward\(x, state0\) must return \(hs, state_T, cache\); "
                      r"it returned a tuple of 2 \(ndarray, tuple\)",
           rnnzoo.gradcheck, _OwnCell(cell, forward=lambda r: r[:2]), X)


@pytest.mark.parametrize("change,match", [
    (lambda r: (r[0], r[2]), r"_OwnCell: backward returned a tuple of 2 \(ndarray, Gradients\); "
                             r"expected \(dx, dstate0, grads\): dx shaped like x, dstate0 a "
                             r"tuple of 1 array\(s\) \(h\), grads a dict of arrays shaped like "
                             r"params"),
    (lambda r: None, r"backward returned None \(NoneType\); expected \(dx, dstate0, grads\)"),
    (lambda r: (r[0], (), r[2]), r"backward returned dstate0 = a tuple of 0 \(\); expected"),
    (lambda r: (r[0], r[1], list(r[2].values())), r"backward returned grads = a list of 4 "
                                                  r"\(ndarray, ndarray, ndarray, ndarray\); "
                                                  r"expected \(dx, dstate0, grads\)"),
    (lambda r: (r[0], r[1], {**r[2], "b_hh": None}), r"grads\['b_hh'\] is None \(NoneType\); "
                                                     r"expected an array of shape \(9,\), "
                                                     r"like params\['b_hh'\]"),
    (lambda r: (None, r[1], r[2]), r"dx is None \(NoneType\); expected an array of shape "
                                   r"\(3, 2, 2\), like x"),
    (lambda r: (r[0], [[1.0]], r[2]), r"dh0 is a list of 1 \(float\); expected an array of "
                                      r"shape \(2, 3\), like h0"),
])
@pytest.mark.parametrize("mode", ["entries", "directional"])
def test_an_own_cell_whose_backward_breaks_the_contract_fails_by_name(cell, change, match,
                                                                      mode):
    """What backward returned, against (dx, dstate0, grads): a failed report naming it (it
    used to be 'not enough values to unpack' or 'NoneType has no attribute shape')."""
    report = rnnzoo.gradcheck(_OwnCell(cell, backward=change), X, mode=mode)
    assert not report.passed
    assert any(re.search(match, p) for p in report.problems), report.problems
    with pytest.raises(AssertionError, match=match):
        rnnzoo.gradcheck(_OwnCell(cell, backward=change), X, mode=mode, raise_on_failure=True)


def test_a_gradient_that_is_none_leaves_the_others_checked(cell):
    report = rnnzoo.gradcheck(_OwnCell(cell, backward=lambda r: (r[0], r[1],
                                                                 {**r[2], "b_hh": None})), X)
    assert {r.name for r in report.rows} == set(cell.params) - {"b_hh"} | {"x", "h0"}
    assert all(r.passed for r in report.rows), report.table()


def test_a_models_backward_returning_three_values_fails_by_name(monkeypatch):
    model = rnnzoo.build_model("rnn", 2, 3, 2, seed=0)
    original = type(model).backward
    monkeypatch.setattr(type(model), "backward",
                        lambda self, dy, cache: (*original(self, dy, cache), None))
    report = rnnzoo.gradcheck(model, X)
    assert report.problems == ["SequenceModel: backward returned a tuple of 3 (ndarray, "
                               "Gradients, NoneType); expected (dx, grads): dx shaped like x, "
                               "grads a dict of arrays shaped like params"]


def test_notebook_01_builds_the_problem_by_hand():
    """Pass: _Problem(cell, x, state0, rng) and _central_difference, which notebook 01 uses
    to difference W_hh entry by entry, keep that signature and agree with the backward."""
    from rnnzoo.core.gradcheck import _Problem, _central_difference
    cell = rnnzoo.make("rnn", 2, 3, seed=0, dtype=np.float64)
    x = np.random.default_rng(1).standard_normal((4, 2, 2))
    problem = _Problem(cell, x, None, np.random.default_rng(0))
    analytic = problem.analytic()[1]["W_hh"]
    numeric = [_central_difference(problem, cell.params["W_hh"], k, 1e-6) for k in range(9)]
    np.testing.assert_allclose(numeric, analytic.ravel(), rtol=1e-6, atol=1e-9)


def test_a_backward_that_changes_its_cache_is_not_reentrant(cell):
    """The contract: a second backward on the same cache gives the same gradients. A
    backward that writes into its cache used to pass, since each backward had a fresh
    forward's cache."""
    own = _OwnCell(cell)

    def backward(dhs, cache, dstate_T=None):
        returned = cell.backward(dhs, cache, dstate_T)
        cache.gates[...] *= 2.0                    # the next backward reads these gates
        return returned
    own.backward = backward
    report = rnnzoo.gradcheck(own, X)
    assert not report.passed
    assert any("backward is not reentrant: grads['W_hh'] differs on a second call" in p
               for p in report.problems), report.problems
    assert rnnzoo.gradcheck(_OwnCell(cell), X).passed


def test_the_verdict_counts_the_problems_beside_a_small_error(cell):
    """A missing gradient with every compared row right read 'FAILED: worst rel err
    4e-10', a line that contradicts itself."""
    report = rnnzoo.gradcheck(_OwnCell(cell, backward=lambda r: (
        r[0], r[1], {k: v for k, v in r[2].items() if k != "b_hh"})), X)
    last = report.table().splitlines()[-1]
    assert re.fullmatch(r"FAILED: 1 problem \(listed above\); worst rel err \S+", last), last
    assert "1 problem (listed above)" in report._repr_html_()
    assert rnnzoo.gradcheck(cell, X).table().splitlines()[-1].startswith(
        "PASSED: worst rel err ")


def test_an_own_cells_state0_and_x_are_checked_against_its_sizes(cell):
    """An own cell that does not check its input failed inside its forward in NumPy's
    words ('could not broadcast ...'); gradcheck names state0 or x first."""
    raises(ValueError, r"gradcheck: state0 component 'h' must have shape \(2, 3\) "
                       r"\(initial_state\(2\) of _OwnCell, x's batch 2\); got shape \(2, 5\)",
           rnnzoo.gradcheck, _OwnCell(cell), X, (np.zeros((2, 5)),))
    raises(ValueError, r"gradcheck: x must have shape \(T, B, 2\), the input_size of "
                       r"_OwnCell; got shape \(3, 2, 4\)",
           rnnzoo.gradcheck, _OwnCell(cell, input_size=2), np.zeros((3, 2, 4)))


def test_a_backward_that_changes_a_parameter_or_whose_dx_drifts_is_named(cell):
    """The other two purity checks: a parameter written by backward, and a dx that differs
    between two backwards on one cache."""
    writes = _OwnCell(cell)

    def backward(dhs, cache, dstate_T=None):
        writes.params["b_hh"][0] += 1.0                 # a backward that trains itself
        return cell.backward(dhs, cache, dstate_T)
    writes.backward = backward
    report = rnnzoo.gradcheck(writes, X)
    assert "_OwnCell: forward/backward changed parameter 'b_hh'" in report.problems

    calls = []
    drifts = _OwnCell(cell, backward=lambda r: (r[0] * (1.0 + len(calls)), r[1], r[2]))
    inner = drifts.backward
    drifts.backward = lambda *a: (calls.append(1), inner(*a))[1]
    report = rnnzoo.gradcheck(drifts, X)
    assert "backward is not reentrant: dx differs on a second call" in report.problems


def test_the_documented_defaults_are_the_defaults():
    """book/contract.md and the CLI's table quote them: eps 1e-6, atol 1e-7, rtol 1e-5."""
    import inspect
    defaults = {k: p.default for k, p in inspect.signature(rnnzoo.gradcheck).parameters.items()}
    assert (defaults["eps"], defaults["atol"], defaults["rtol"]) == (1e-6, 1e-7, 1e-5)
    assert (defaults["seed"], defaults["directions"], defaults["mode"]) == (0, 4, "entries")
    assert "`eps=1e-6, atol=1e-7, rtol=1e-5`" in (ROOT / "book" / "contract.md").read_text()


def test_a_backward_returning_a_buffer_of_its_cache_is_not_reentrant(cell):
    """A backward that accumulates into an array kept in its cache and returns it: the
    two results were the same object, compared with itself, and read as reentrant."""
    own = _OwnCell(cell)

    def backward(dhs, cache, dstate_T=None):
        dx, dstate0, grads = cell.backward(dhs, cache, dstate_T)
        if not hasattr(cache, "acc"):
            cache.acc = np.zeros_like(dx)
        cache.acc += dx                                # the second call doubles it
        return cache.acc, dstate0, grads
    own.backward = backward
    report = rnnzoo.gradcheck(own, X)
    assert "backward is not reentrant: dx differs on a second call" in report.problems


def test_task_loss_checks_its_outputs_as_accuracy_does():
    """Task.loss broadcast a (T, B, 1) y against a (B, 1) target without a word."""
    adding = make_task("adding", T=5)
    raises(ValueError, r"AddingProblem.loss: y must be the model's output, \(B, output_size\)",
           adding.loss, np.zeros((4, 3, 1)), np.ones((4, 3, 1)))
    raises(TypeError, "AddingProblem.accuracy: target must have dtype float64",
           adding.accuracy, np.zeros((3, 1)), np.zeros((3, 1), np.float32))
    for method in ("loss", "accuracy", "success_value"):
        raises(ValueError, rf"AddingProblem.{method}: y is empty \(shape \(0, 1\)\)",
               getattr(adding, method), np.zeros((0, 1)), np.zeros((0, 1)))
    parity = make_task("parity", T=4)
    raises(ValueError, r"RunningParity.accuracy: y is empty", parity.accuracy,
           np.zeros((4, 0, 2)), np.zeros((4, 0), int))


def test_success_names_its_threshold_and_value():
    from rnnzoo.training.tasks.task import Success
    rest = dict(same_as="loss", memoryless=0.17, source="a test")
    raises(TypeError, r"Success.threshold must be a real number; got '0.5' \(str\)", Success,
           "MSE", "0.5", "below", **rest)
    raises(TypeError, "Success.threshold must be a real number", Success, "MSE", True, "below",
           **rest)
    ok = Success("MSE", 0.5, "below", **rest)
    raises(TypeError, r"Success.met: value must be a number or an array of numbers; got 'abc'",
           ok.met, "abc")
    assert ok.met(0.4) and not ok.met(0.6)
