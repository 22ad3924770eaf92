"""The running-parity task: the layout and targets of every sequence, determinism from the
seed, the baseline checked against a simulated memoryless predictor, the success criterion
(the last step), the bad arguments refused by name, and ``evaluate`` on a longer copy of
the task (the extrapolation test).

A pass: every structural check holds on every sequence drawn; the simulated losses and
accuracies are within 4 standard errors of the formulas."""
import math

import numpy as np
import pytest

import rnnzoo
from rnnzoo.tasks import RunningParity, make_task
from rnnzoo.training import Trainer, evaluate
from rnnzoo.training.tasks.parity import binary_entropy

from .hostile import raises

ERR = (TypeError, ValueError)


def draw(task, B=64, seed=3):
    return task.batch(B, np.random.default_rng(seed))


def test_shapes_dtypes_and_one_hot():
    task = make_task("parity", T=12)
    x, target = draw(task)
    assert (task.T, task.input_size, task.output_size) == (12, 2, 2)
    assert x.shape == (12, 64, 2) and x.dtype == np.float64
    assert target.shape == (12, 64) and target.dtype == np.int64
    assert np.all(x.sum(axis=-1) == 1.0) and set(np.unique(x)) == {0.0, 1.0}
    assert task.readout == "all" and task.loss_kind == "xent"
    assert task.x_shape == "(12, B, 2)" and task.target_shape == "(12, B) int"


def test_the_target_is_the_parity_of_the_bits_so_far():
    """Checked against a plain loop: y_t = 1 exactly when x_1 .. x_t hold an odd number of
    ones; the bits are the inputs' one-hot codes."""
    task = RunningParity(T=9)
    x, target = task.batch(2000, np.random.default_rng(0))
    bits = x.argmax(axis=-1)
    expected = np.zeros_like(bits)
    odd = np.zeros(bits.shape[1], dtype=bool)
    for t in range(9):
        odd ^= bits[t] == 1
        expected[t] = odd
    np.testing.assert_array_equal(target, expected)
    assert set(np.unique(target)) == {0, 1}


def test_the_bits_are_fair_and_independent():
    """Every step's bits, the last step's parity, and whether neighbouring bits agree: each
    a count of ones within 5 binomial standard deviations of half its size."""
    n = 40_000
    bits, target = RunningParity(T=6).codes(n, np.random.default_rng(1))
    for row in (*bits, target[-1], (bits[1:] == bits[:-1]).ravel()):
        assert abs(row.sum() - row.size / 2) < 5 * math.sqrt(row.size / 4), row.sum()


def test_the_spec_keeps_every_option():
    """Determinism from the seed and the fixed evaluation set: test_tasks.py, every task."""
    task = make_task("parity", T=10, seed=0, eval_size=50)
    assert task.eval_data()[0].shape == (10, 50, 2)
    assert task.spec == {"name": "parity", "seed": 0, "eval_size": 50, "T": 10}
    np.testing.assert_array_equal(make_task(**task.spec).eval_data()[1], task.eval_data()[1])


def test_defaults_and_description():
    task = make_task("parity")
    assert (task.T, task.seed, task.eval_size) == (16, 0, 1000)
    text = task.describe()
    assert "parity" in text and "h((T + 1)/(2T))" in text
    assert "accuracy at the last step >= 0.99" in text


def test_baseline_is_the_best_memoryless_predictor_and_close_to_ln_2():
    """Exact value h((T+1)/(2T)); uniform logits score ln 2, just above it; a memoryless
    predictor fitted from data (P(y = 1 | x_t) on half of 40,000 sequences, pooled over
    the steps) scores the baseline on the other half within 4 standard errors, and gets
    the last step right half the time."""
    T = 4
    task = RunningParity(T=T)
    assert task.baseline == pytest.approx(binary_entropy(5 / 8), rel=1e-15)
    # ln 2 - 2 δ² + O(δ⁴), δ = 1/(2T): 0.69119 at T = 16
    assert task.baseline < math.log(2) and RunningParity(T=16).baseline == pytest.approx(
        math.log(2) - 2 / 32 ** 2, abs=1e-5)
    _, target = task.eval_data()
    assert task.loss(np.zeros(target.shape + (2,)), target)[0] == pytest.approx(
        math.log(2), rel=1e-12)
    n = 20_000
    bits, y = task.codes(2 * n, np.random.default_rng(2))
    p1 = np.array([y[:, :n][bits[:, :n] == b].mean() for b in (0, 1)])   # P(y = 1 | x_t = b)
    p = p1[bits[:, n:]]
    nll = -np.log(np.where(y[:, n:] == 1, p, 1.0 - p)).mean(axis=0)       # per sequence
    assert abs(nll.mean() - task.baseline) < 4 * nll.std() / math.sqrt(n)
    hit = (p[-1] > 0.5) == (y[-1, n:] == 1)
    assert abs(hit.mean() - 0.5) < 4 * 0.5 / math.sqrt(n)


def test_a_model_that_knows_only_the_first_step_gets_below_the_baseline():
    """Exact at step 1 (y_1 = x_1), uniform after: (T - 1)/T ln 2, 0.6498 at T = 16, 6%
    below the baseline, as the docstring says, with last-step accuracy 1/2."""
    T = 16
    task = RunningParity(T=T, eval_size=4000)
    x, y = task.eval_data()
    logits = np.zeros(y.shape + (2,))
    logits[0] = np.where(x[0] == 1, 0.0, -1e9)            # step 1: the input's bit
    loss = task.loss(logits, y)[0]
    assert loss == pytest.approx((T - 1) / T * math.log(2), rel=1e-9)
    assert round(loss, 4) == 0.6498 and round(1 - loss / task.baseline, 2) == 0.06
    assert task.success_value(logits, y) < 0.6


def test_success_is_the_accuracy_at_the_last_step():
    task = RunningParity(T=6)
    s = task.success
    assert (s.metric, s.threshold, s.direction, s.same_as) == (
        "accuracy at the last step", 0.99, "above", None)
    assert s.memoryless == 0.5 and s.memoryless_loss is None
    x, target = draw(task)
    y = np.eye(2)[target]                                          # every answer right
    assert task.accuracy(y, target) == 1.0 and task.success_value(y, target) == 1.0
    y[:-1] = np.eye(2)[1 - target[:-1]]                            # all but the last wrong
    assert task.success_value(y, target) == 1.0 and task.accuracy(y, target) == 1 / 6
    y = np.eye(2)[target]
    y[-1, :16] = np.eye(2)[1 - target[-1, :16]]                    # a quarter of the last
    assert task.success_value(y, target) == 0.75
    assert task.accuracy(y, target) == pytest.approx(1 - 16 / (6 * 64), rel=1e-12)


@pytest.mark.parametrize("kwargs,match", [
    ({"T": 1}, r"parity T \(the number of bits\) must be an integer >= 2; got 1"),
    ({"T": 10.5}, r"parity T .* must be an integer"),
    ({"T": True}, r"parity T .* must be an integer"),
    ({"T": "16"}, r"parity T .* must be an integer"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"eval_size": 0}, "eval_size must be an integer >= 1"),
    ({"vocab": 4}, r"unknown option\(s\) \['vocab'\]; the task takes"),
])
def test_bad_arguments_are_refused_by_name(kwargs, match):
    raises(ERR, match, make_task, "parity", **kwargs)


def test_numpy_integers_are_accepted():
    task = make_task("parity", T=np.int64(7), seed=np.int64(1))
    x, _ = task.batch(np.int32(2), np.random.default_rng(0))
    assert x.shape == (7, 2, 2) and type(task.T) is int


# ------------------------------------------------------------------ evaluate
def small(cell, task, seed=0):
    return rnnzoo.build_model(cell, task.input_size, 8, task.output_size,
                              readout=task.readout, seed=seed, dtype=np.float64)


def test_evaluate_is_what_the_trainer_records():
    task = make_task("parity", T=10, eval_size=40)
    model = small("slstm", task)
    trainer = Trainer(model, task, eval_batch=16, progress=False)
    np.testing.assert_allclose(evaluate(model, task, eval_batch=16), trainer.evaluation(),
                               rtol=1e-12)
    np.testing.assert_allclose(evaluate(model, task, eval_batch=7),
                               evaluate(model, task, eval_batch=40), rtol=1e-12)


@pytest.mark.parametrize("cell", ["lstm", "slstm", "mingru"])
def test_evaluate_at_a_longer_T_is_the_loss_and_accuracy_of_one_forward(cell):
    """The extrapolation test: a model built for T = 10 evaluated on the task at T = 40,
    against one hand-written forward over the longer evaluation set."""
    model = small(cell, make_task("parity", T=10, eval_size=30))
    longer = make_task("parity", T=40, eval_size=30)
    loss, accuracy, success = evaluate(model, longer)
    x, target = longer.eval_data()
    assert x.shape[0] == 40
    y, _ = model.forward(x)
    assert loss == pytest.approx(longer.loss(y, target)[0], rel=1e-12)
    assert accuracy == pytest.approx(np.mean(y.argmax(axis=-1) == target), rel=1e-12)
    assert success == pytest.approx(np.mean(y[-1].argmax(axis=-1) == target[-1]), rel=1e-12)
