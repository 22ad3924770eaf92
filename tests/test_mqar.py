"""Multi-query associative recall (Arora et al. 2023, "Zoology"): the layout of every
sequence, its determinism from the seed, the chance baseline and the value-set level
checked against simulated predictors, an exact recall reading x, the success criterion,
the accuracy over the query steps only, the bad arguments refused by name, and
``evaluate`` on a model.

A pass: every structural check holds on every sequence drawn; simulated losses and
accuracies are within 4 standard errors of the formulas; counts within 5 binomial
standard deviations of their expectations."""
import math

import numpy as np
import pytest

import rnnzoo
from rnnzoo.tasks import MQAR, make_task
from rnnzoo.training import evaluate
from rnnzoo.training.tasks.mqar import IGNORE

from .hostile import raises

ERR = (TypeError, ValueError)


def draw(task, B=64, seed=3):
    return task.batch(B, np.random.default_rng(seed))


def recall_from_input(task, codes):
    """The task solved by reading the codes: a dict key -> value from the pairs, looked
    up at every later key. (T, B) predicted value indices, IGNORE where nothing is asked."""
    V, N = task.vocab, task.pairs
    out = np.full(codes.shape, IGNORE)
    for b in range(codes.shape[1]):
        memory = {codes[2 * i, b]: codes[2 * i + 1, b] - V for i in range(N)}
        for t in range(2 * N, task.T):
            if codes[t, b] < V:
                out[t, b] = memory[codes[t, b]]
    return out


def test_shapes_dtypes_and_one_hot():
    task = make_task("mqar", T=14, pairs=3, vocab=5)
    x, target = draw(task)
    assert (task.T, task.input_size, task.output_size) == (14, 11, 5)
    assert x.shape == (14, 64, 11) and x.dtype == np.float64
    assert target.shape == (14, 64) and target.dtype == np.int64
    assert np.all(x.sum(axis=-1) == 1.0) and set(np.unique(x)) == {0.0, 1.0}
    assert task.readout == "all" and task.loss_kind == "xent"
    assert task.x_shape == "(14, B, 11)" and task.target_shape == "(14, B) int"


def test_every_sequence_has_its_pairs_then_each_key_queried_once_with_its_value():
    task = MQAR(T=13, pairs=4, vocab=6)
    codes, target = task.codes(3000, np.random.default_rng(0))
    N, V = 4, 6
    keys, values = codes[0:2 * N:2], codes[1:2 * N:2]
    assert np.all(keys < V) and np.all((values >= V) & (values < 2 * V))
    for a in (np.sort(keys, axis=0), np.sort(values, axis=0)):
        assert np.all(np.diff(a, axis=0) > 0)                  # distinct within a sequence
    tail, tail_target = codes[2 * N:], target[2 * N:]
    asked = tail != task.BLANK
    assert np.all(asked.sum(axis=0) == N)                     # N queries after the pairs
    np.testing.assert_array_equal(np.sort(np.where(asked, tail, -1), axis=0)[-N:],
                                  np.sort(keys, axis=0))       # each key exactly once
    assert np.all(target[:2 * N] == IGNORE) and np.all((tail_target == IGNORE) == ~asked)
    np.testing.assert_array_equal(target, recall_from_input(task, codes))
    x, t = task.batch(3000, np.random.default_rng(0))         # the batch is their one-hot
    np.testing.assert_array_equal(x.argmax(axis=-1), codes)
    np.testing.assert_array_equal(t, target)


def test_paired_folds_each_pair_into_one_step_and_keeps_the_queries():
    """paired=True: step i < N holds k_i and v_i (two ones), then the token layout's query
    steps and targets unchanged, from the same draws."""
    task = MQAR(T=10, pairs=3, vocab=5, paired=True)
    tokens = MQAR(T=13, pairs=3, vocab=5)
    x, target = task.batch(500, np.random.default_rng(0))
    codes, token_target = task.codes(500, np.random.default_rng(0))
    assert codes.shape == (13, 500) and x.shape == (10, 500, 11) and target.shape == (10, 500)
    assert np.all(x[:3].sum(axis=-1) == 2.0) and np.all(x[3:].sum(axis=-1) == 1.0)
    np.testing.assert_array_equal(x[:3].argmax(axis=-1), codes[0:6:2])          # the key
    np.testing.assert_array_equal(x[:3, :, 5:10].argmax(axis=-1), codes[1:6:2] - 5)  # value
    np.testing.assert_array_equal(x[3:].argmax(axis=-1), codes[6:])
    np.testing.assert_array_equal(target, token_target[3:])
    assert np.all(target[:3] == IGNORE)
    np.testing.assert_array_equal(token_target, recall_from_input(tokens, codes))
    assert task.spec["paired"] is True and make_task(**task.spec).paired is True
    assert task.baseline == math.log(5) and task.input_size == tokens.input_size


def test_query_steps_keys_and_values_are_uniform():
    """Every step after the pairs holds a query with probability N / (T - 2N), every key
    and every value appears with probability N / V: each count within 5 binomial
    standard deviations (no fixed delay or favourite token to learn)."""
    task = MQAR(T=14, pairs=3, vocab=7)
    n = 40_000
    codes, target = task.codes(n, np.random.default_rng(1))
    checks = [((codes[6:] != task.BLANK).sum(axis=1), 3 / 8),
              (np.bincount(codes[0:6:2].ravel(), minlength=7), 3 / 7),
              (np.bincount(codes[1:6:2].ravel() - 7, minlength=7), 3 / 7),
              (np.bincount(target[target != IGNORE], minlength=7), 3 / 7)]
    for counts, p in checks:
        assert np.all(np.abs(counts - n * p) < 5 * math.sqrt(n * p * (1 - p))), counts


def test_the_spec_keeps_every_option():
    """Determinism from the seed and the fixed evaluation set: test_tasks.py, every task."""
    task = make_task("mqar", T=12, pairs=2, vocab=4, paired=True, seed=0, eval_size=50)
    assert task.eval_data()[0].shape == (12, 50, 9)
    assert task.spec == {"name": "mqar", "seed": 0, "eval_size": 50, "T": 12, "pairs": 2,
                         "vocab": 4, "paired": True}
    np.testing.assert_array_equal(make_task(**task.spec).eval_data()[1], task.eval_data()[1])


def test_defaults_and_description():
    task = make_task("mqar")
    assert (task.T, task.pairs, task.vocab, task.seed, task.eval_size) == (32, 4, 16, 0, 1000)
    text = task.describe()
    assert "mqar" in text and "ln V = ln 16" in text and "query accuracy >= 0.99" in text


def test_chance_baseline_is_ln_V_and_no_memoryless_predictor_beats_it():
    """Uniform logits score exactly ln V; the best predictor of the value from the query
    key alone (a V x V table of frequencies fitted on one half of the queries of 40,000
    sequences, scored on the other) is no better, within 4 standard errors, and its
    accuracy is 1/V."""
    task = MQAR(T=10, pairs=3, vocab=5)
    assert task.baseline == math.log(5)
    x, target = task.eval_data()
    assert task.loss(np.zeros(x.shape[:2] + (5,)), target)[0] == pytest.approx(
        math.log(5), rel=1e-12)
    codes, target = task.codes(40_000, np.random.default_rng(2))
    asked = target != IGNORE
    key, value = codes[asked], target[asked]
    half = key.size // 2
    table = np.ones((5, 5))                                      # add-one smoothing
    np.add.at(table, (key[:half], value[:half]), 1)
    table /= table.sum(axis=1, keepdims=True)
    nll = -np.log(table[key[half:], value[half:]])
    assert abs(nll.mean() - task.baseline) < 4 * nll.std() / math.sqrt(nll.size)
    hit = table[key[half:]].argmax(axis=1) == value[half:]
    assert abs(hit.mean() - 1 / 5) < 4 * hit.std() / math.sqrt(hit.size)


def test_value_set_level_matches_a_simulated_bag_of_values():
    """A predictor that knows the N values seen but not their keys, uniform among them,
    run through the task's own loss and accuracy (argmax: the lowest of the N)."""
    task = MQAR(T=12, pairs=4, vocab=9, eval_size=20_000)
    x, target = task.eval_data()
    seen = x[1:8:2].sum(axis=0)[:, 9:18]                      # the values' one-hots, (B, V)
    logits = np.where(seen > 0, 0.0, -1e3)[None].repeat(12, axis=0)   # exp(-1e3) = 0
    accuracy, loss = task.value_set_level()
    assert (accuracy, loss) == (0.25, math.log(4))
    assert task.loss(logits, target)[0] == pytest.approx(loss, rel=1e-12)
    hit = (logits.argmax(axis=-1) == target)[target != IGNORE]
    assert abs(hit.mean() - accuracy) < 4 * hit.std() / math.sqrt(hit.size)


def test_exact_recall_is_solved_and_the_accuracy_reads_the_query_steps_only():
    task = MQAR(T=12, pairs=3, vocab=6)
    s = task.success
    assert (s.metric, s.threshold, s.direction, s.same_as) == ("query accuracy", 0.99,
                                                               "above", "accuracy")
    assert s.memoryless == 1 / 6 and s.memoryless_loss is None
    codes, target = task.codes(64, np.random.default_rng(5))
    answer = recall_from_input(task, codes)
    y = 30.0 * np.eye(6)[np.where(answer == IGNORE, 0, answer)]  # sure of every answer
    assert task.accuracy(y, target) == 1.0 and task.success_value(y, target) == 1.0
    assert s.met(task.success_value(y, target))
    assert task.loss(y, target)[0] < 1e-11
    y[:6] = -y[:6]                                               # wrong before any query:
    assert task.accuracy(y, target) == 1.0                       # not counted
    asked = np.argwhere(target != IGNORE)
    t, b = asked[:48].T                                          # a quarter of 192 wrong
    y[t, b] = np.roll(y[t, b], 1, axis=-1)
    assert task.accuracy(y, target) == 0.75 and not s.met(0.75)


@pytest.mark.parametrize("kwargs,match", [
    ({"T": 8, "pairs": 3}, r"mqar T \(the sequence length: 6 steps of pairs, then at least 3 "
                           r"for the queries\) must be an integer >= 9; got 8"),
    ({"T": 10.0}, "mqar T .* must be an integer"),
    ({"T": 5, "pairs": 3, "paired": True}, r"mqar T \(the sequence length: 3 steps of "
                                           r"pairs, then at least 3 for the queries\) must "
                                           r"be an integer >= 6; got 5"),
    ({"paired": 1}, r"mqar paired \(one step per pair\) must be True or False"),
    ({"T": True}, "mqar T .* must be an integer"),
    ({"pairs": 0}, r"mqar pairs \(the key-value pairs, at most vocab\) must be an integer "
                   r">= 1 and <= 16; got 0"),
    ({"pairs": 5, "vocab": 4}, r"mqar pairs .* must be an integer >= 1 and <= 4; got 5"),
    ({"vocab": 1}, r"mqar vocab \(the number of keys, and of values\) must be an integer "
                   r">= 2; got 1"),
    ({"vocab": "16"}, "mqar vocab .* must be an integer"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"eval_size": 0}, "eval_size must be an integer >= 1"),
    ({"symbols": 4}, r"unknown option\(s\) \['symbols'\]; the task takes"),
])
def test_bad_arguments_are_refused_by_name(kwargs, match):
    raises(ERR, match, make_task, "mqar", **kwargs)


def test_bad_batch_arguments_are_refused_by_name():
    task = make_task("mqar", T=9, pairs=2, vocab=3)
    raises(ERR, "batch_size must be an integer >= 1", task.batch, 0, np.random.default_rng(0))
    raises(ERR, "rng must be a numpy Generator", task.codes, 4, 0)


def test_numpy_integers_are_accepted():
    task = make_task("mqar", T=np.int64(9), pairs=np.int32(2), vocab=np.int64(3))
    x, _ = task.batch(np.int64(2), np.random.default_rng(0))
    assert x.shape == (9, 2, 7) and type(task.T) is int and type(task.pairs) is int


@pytest.mark.parametrize("cell,paired", [("gru", False), ("deltanet", True)])
def test_evaluate_is_the_loss_and_accuracy_of_one_forward(cell, paired):
    task = make_task("mqar", T=12, pairs=3, vocab=4, paired=paired, eval_size=30)
    model = rnnzoo.build_model(cell, task.input_size, 8, task.output_size,
                               readout=task.readout, seed=0, dtype=np.float64)
    loss, accuracy, success = evaluate(model, task, eval_batch=7)
    x, target = task.eval_data()
    y, _ = model.forward(x)
    assert loss == pytest.approx(task.loss(y, target)[0], rel=1e-12)
    asked = target != IGNORE
    assert accuracy == pytest.approx(np.mean((y.argmax(axis=-1) == target)[asked]), rel=1e-12)
    assert success == accuracy
