"""The induction-heads task (Gu & Dao 2023, Sec. 4.1.2): the layout of every sequence, its
determinism from the seed, the baseline and the bag-of-tokens plateau checked against
simulation, the success criterion, the bad arguments refused by name, and ``evaluate``
on a longer copy of the task (the extrapolation test).

A pass: every structural check holds on every sequence drawn; the simulated losses are
within 4 standard errors of the formulas; the two exact plateau computations agree to
1e-12."""
import math

import numpy as np
import pytest

import rnnzoo
from rnnzoo.tasks import InductionHeads, make_task
from rnnzoo.training import Trainer, evaluate
from rnnzoo.training.tasks.induction import token_bag_plateau
from rnnzoo.training.tasks.memory import value_bag_plateau

from .hostile import raises

ERR = (TypeError, ValueError)


def draw(task, B=64, seed=3):
    return task.batch(B, np.random.default_rng(seed))


def test_shapes_dtypes_and_one_hot():
    task = make_task("induction", T=12, vocab=5)
    x, target = draw(task)
    assert (task.T, task.input_size, task.output_size) == (12, 6, 5)
    assert x.shape == (12, 64, 6) and x.dtype == np.float64
    assert target.shape == (64,) and target.dtype == np.int64
    assert np.all(x.sum(axis=-1) == 1.0) and set(np.unique(x)) == {0.0, 1.0}
    assert task.readout == "last" and task.loss_kind == "xent"
    assert task.x_shape == "(12, B, 6)" and task.target_shape == "(B,) int"


def test_every_sequence_has_two_triggers_the_last_step_one_and_the_target_after_the_first():
    task = InductionHeads(T=9, vocab=4)
    codes, target = task.codes(5000, np.random.default_rng(0))
    trig = task.TRIGGER
    assert trig == 4 and codes.shape == (9, 5000)
    assert np.all((codes == trig).sum(axis=0) == 2)               # exactly two triggers
    assert np.all(codes[-1] == trig)                              # the query is the last step
    first = (codes == trig).argmax(axis=0)
    assert first.max() <= 9 - 3                                   # its target before the query
    cols = np.arange(5000)
    np.testing.assert_array_equal(target, codes[first + 1, cols])  # what followed the first
    assert np.all(codes[first + 1, cols] != trig) and np.all((target >= 0) & (target < 4))
    x, t = task.batch(5000, np.random.default_rng(0))             # the batch is their one-hot
    np.testing.assert_array_equal(x.argmax(axis=-1), codes)
    np.testing.assert_array_equal(t, target)


def test_the_first_trigger_and_the_target_are_uniform():
    """The trigger at every position 0..T-3 (so the gap to the query, uniform on 1..T-2,
    leaves no fixed delay to learn) and the target uniform over the V tokens: each count
    within 5 binomial standard deviations of its expectation."""
    task = InductionHeads(T=10, vocab=6)
    n = 60_000
    codes, target = task.codes(n, np.random.default_rng(1))
    first = (codes == task.TRIGGER).argmax(axis=0)
    for values, k in ((first, 8), (target, 6)):
        counts = np.bincount(values, minlength=k)
        assert len(counts) == k
        p = 1.0 / k
        assert np.all(np.abs(counts - n * p) < 5 * math.sqrt(n * p * (1 - p))), counts


def test_the_spec_keeps_every_option():
    """Determinism from the seed and the fixed evaluation set: test_tasks.py, every task."""
    task = make_task("induction", T=10, vocab=5, seed=0, eval_size=50)
    assert task.eval_data()[0].shape == (10, 50, 6)
    assert task.spec == {"name": "induction", "seed": 0, "eval_size": 50, "T": 10,
                         "vocab": 5}
    np.testing.assert_array_equal(make_task(**task.spec).eval_data()[1], task.eval_data()[1])


def test_defaults_and_description():
    task = make_task("induction")
    assert (task.T, task.vocab, task.seed, task.eval_size) == (32, 16, 0, 1000)
    text = task.describe()
    assert "induction" in text and "ln V = ln 16" in text and "accuracy >= 0.99" in text


def test_baseline_is_ln_V_and_no_memoryless_predictor_beats_it():
    """Uniform logits score exactly ln V; the best constant predictor estimated from data
    (the targets' empirical frequencies, fitted on one half of 200,000 sequences and scored
    on the other) is no better, within 4 standard errors, and its accuracy is 1/V."""
    task = InductionHeads(T=8, vocab=5)
    assert task.baseline == math.log(5)
    _, target = task.eval_data()
    assert task.loss(np.zeros((target.shape[0], 5)), target)[0] == pytest.approx(
        math.log(5), rel=1e-12)
    n = 100_000
    _, t = task.codes(2 * n, np.random.default_rng(2))
    freq = np.bincount(t[:n], minlength=5) / n
    nll = -np.log(freq[t[n:]])
    assert abs(nll.mean() - task.baseline) < 4 * nll.std() / math.sqrt(n)
    hit = t[n:] == freq.argmax()
    assert abs(hit.mean() - 1 / 5) < 4 * hit.std() / math.sqrt(n)


def test_bag_plateau_is_exact_against_the_partition_sum():
    """Two independent exact computations of the same quantity: the Poissonized FFT sum
    here and associative retrieval's enumeration of partitions."""
    for n, V in [(1, 16), (2, 2), (4, 10), (7, 3), (14, 16), (20, 4), (30, 16)]:
        np.testing.assert_allclose(token_bag_plateau(n, V), value_bag_plateau(n, V),
                                   rtol=1e-12, atol=1e-14)
    assert InductionHeads(T=16, vocab=16).bag_plateau() == token_bag_plateau(14, 16)


@pytest.mark.parametrize("T,V", [(8, 3), (64, 16)])
def test_bag_plateau_matches_a_simulated_token_counter(T, V):
    """The predictor that knows each token's count among the T - 2 non-trigger tokens and
    answers v with probability c_v / (T - 2), run on 100,000 sequences through the task's
    own loss and accuracy: within 4 standard errors of the exact plateau, which lies
    between the baseline and perfect recall."""
    task = InductionHeads(T=T, vocab=V)
    n = 100_000
    codes, target = task.codes(n, np.random.default_rng(5))
    counts = np.stack([(codes == v).sum(axis=0) for v in range(V)], axis=1)   # (n, V)
    share = counts / (T - 2)
    nll = -np.log(share[np.arange(n), target])
    hit = share.argmax(axis=1) == target
    accuracy, loss = task.bag_plateau()
    assert abs(nll.mean() - loss) < 4 * nll.std() / math.sqrt(n)
    assert abs(hit.mean() - accuracy) < 4 * hit.std() / math.sqrt(n)
    with np.errstate(divide="ignore"):
        logits = np.log(share[:1000])
    assert task.loss(logits, target[:1000])[0] == pytest.approx(nll[:1000].mean(), rel=1e-9)
    assert 1 / V < accuracy < 1 and 0 < loss < task.baseline


def test_success_is_the_accuracy_at_0_99():
    task = InductionHeads(T=6, vocab=4)
    s = task.success
    assert (s.metric, s.threshold, s.direction, s.same_as) == ("accuracy", 0.99, "above",
                                                               "accuracy")
    assert s.memoryless == 0.25 and s.memoryless_loss is None
    assert s.met(0.99) and not s.met(0.985) and not s.met(float("nan"))
    _, target = draw(task)
    y = np.eye(4)[target]                                          # every answer right
    assert task.accuracy(y, target) == 1.0 and task.success_value(y, target) == 1.0
    y[:16] = np.eye(4)[(target[:16] + 1) % 4]                      # a quarter wrong
    assert task.accuracy(y, target) == 0.75 and task.success_value(y, target) == 0.75


@pytest.mark.parametrize("kwargs,match", [
    ({"T": 2}, r"induction T \(the sequence length, both triggers included\) must be an "
               r"integer >= 3; got 2"),
    ({"T": 10.5}, "induction T .* must be an integer"),
    ({"T": True}, "induction T .* must be an integer"),
    ({"T": "32"}, "induction T .* must be an integer"),
    ({"vocab": 1}, r"induction vocab \(the number of tokens, the trigger not counted\) must "
                   r"be an integer >= 2; got 1"),
    ({"vocab": 4.0}, "induction vocab .* must be an integer"),
    ({"vocab": None}, "induction vocab .* must be an integer"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"eval_size": 0}, "eval_size must be an integer >= 1"),
    ({"symbols": 4}, r"unknown option\(s\) \['symbols'\]; the task takes"),
])
def test_bad_arguments_are_refused_by_name(kwargs, match):
    raises(ERR, match, make_task, "induction", **kwargs)


@pytest.mark.parametrize("args,match", [
    ((0, 10), r"n \(tokens counted\) must be an integer >= 1"),
    ((5.0, 10), r"n \(tokens counted\) must be an integer"),
    ((5, 0), "vocab must be an integer >= 1"),
])
def test_bag_plateau_refuses_bad_sizes(args, match):
    raises(ERR, match, token_bag_plateau, *args)


def test_numpy_integers_are_accepted():
    task = make_task("induction", T=np.int64(7), vocab=np.int32(3), seed=np.int64(1))
    x, _ = task.batch(np.int64(2), np.random.default_rng(0))
    assert x.shape == (7, 2, 4) and type(task.T) is int and type(task.vocab) is int


# ------------------------------------------------------------------ evaluate
def small(cell, task, seed=0):
    return rnnzoo.build_model(cell, task.input_size, 8, task.output_size,
                              readout=task.readout, seed=seed, dtype=np.float64)


def test_evaluate_is_what_the_trainer_records():
    task = make_task("induction", T=10, vocab=4, eval_size=40)
    model = small("gru", task)
    trainer = Trainer(model, task, eval_batch=16, progress=False)
    np.testing.assert_allclose(evaluate(model, task, eval_batch=16), trainer.evaluation(),
                               rtol=1e-12)
    np.testing.assert_allclose(evaluate(model, task, eval_batch=7),
                               evaluate(model, task, eval_batch=40), rtol=1e-12)


@pytest.mark.parametrize("cell", ["lstm", "s6"])
def test_evaluate_at_a_longer_T_is_the_loss_and_accuracy_of_one_forward(cell):
    """The extrapolation test: a model built for T = 10 evaluated on the same task at
    T = 40, against one hand-written forward over the longer evaluation set."""
    short = make_task("induction", T=10, vocab=4, eval_size=30)
    model = small(cell, short)
    longer = make_task("induction", T=40, vocab=4, eval_size=30)
    loss, accuracy, success = evaluate(model, longer)
    x, target = longer.eval_data()
    assert x.shape[0] == 40
    y, _ = model.forward(x)
    assert loss == pytest.approx(longer.loss(y, target)[0], rel=1e-12)
    assert accuracy == pytest.approx(np.mean(y.argmax(axis=-1) == target), rel=1e-12)
    assert success == accuracy


def test_evaluate_refuses_a_model_that_does_not_fit_and_bad_arguments():
    task = make_task("induction", T=10, vocab=4, eval_size=8)
    model = small("gru", task)
    raises(ValueError, "model does not fit task 'induction': input_size 5 != the task's 9",
           evaluate, model, make_task("induction", T=10, vocab=8))
    raises(TypeError, "evaluate: model must be a SequenceModel", evaluate, "gru", task)
    raises(TypeError, "evaluate: task must be a task from rnnzoo.tasks.make_task",
           evaluate, model, "induction")
    raises(ERR, "evaluate: eval_batch must be an integer >= 1", evaluate, model, task,
           eval_batch=0)
    assert rnnzoo.evaluate is evaluate
