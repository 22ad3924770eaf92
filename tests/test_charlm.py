"""The charlm task (offline, stdlib source) and rnnzoo.sample."""
import numpy as np
import pytest

import rnnzoo
from rnnzoo.core.validation import ArgumentTypeError


@pytest.fixture(scope="module")
def task():
    return rnnzoo.make_task("charlm", T=12, files=2, max_chars=4000)


def test_corpus_is_deterministic_and_targets_are_shifted_inputs(task):
    """Pass: the same corpus_seed reads the same files and vocabulary; every target is
    the next input character; the baseline is the unigram cross-entropy, below ln V."""
    again = rnnzoo.make_task("charlm", T=12, files=2, max_chars=4000)
    assert again.files == task.files and again.vocab == task.vocab
    other = rnnzoo.make_task("charlm", T=12, files=2, max_chars=4000, corpus_seed=1)
    assert other.files != task.files
    x, target = task.batch(5, np.random.default_rng(0))
    assert x.shape == (12, 5, len(task.vocab)) and target.shape == (12, 5)
    np.testing.assert_array_equal(x[1:].argmax(-1), target[:-1])
    assert 0 < task.baseline < np.log(len(task.vocab))
    assert task.decode(task.encode("def f")) == "def f"
    xe, te = task.eval_data()
    assert xe.shape[1] == task.eval_size and task.eval_data()[0] is xe


@pytest.mark.parametrize("kwargs, error", [({"T": 1}, ValueError), ({"files": 0}, ValueError),
                                           ({"max_chars": 10}, ValueError),
                                           ({"corpus_seed": -1}, ValueError),
                                           ({"T": 2.5}, TypeError)])
def test_bad_options_are_refused(kwargs, error):
    """Pass: each bad option raises, naming the option."""
    with pytest.raises(error, match=next(iter(kwargs)).replace("_", ".")):
        rnnzoo.make_task("charlm", **{"files": 2, "max_chars": 4000, **kwargs})


def test_sample_is_reproducible_and_in_vocabulary(task):
    """Pass: same seed, same text; every character in the vocabulary; length honoured."""
    model = rnnzoo.build_model("gru", task.input_size, 8, task.output_size, readout="all")
    a = rnnzoo.sample(model, "de", 30, 0.7, 3, vocab=task)
    assert a == rnnzoo.sample(model, "de", 30, 0.7, 3, vocab=task.vocab)
    assert len(a) == 30 and set(a) <= set(task.vocab)
    assert rnnzoo.sample(model, "d", 0, vocab=task) == ""


@pytest.mark.parametrize("change, error, words", [
    ({"prime": ""}, ArgumentTypeError, "prime"), ({"prime": "\x00"}, ValueError, "outside"),
    ({"length": -1}, ValueError, "length"), ({"length": True}, TypeError, "length"),
    ({"temperature": 0.0}, ValueError, "temperature"),
    ({"temperature": float("nan")}, ValueError, "temperature"),
    ({"seed": "a"}, TypeError, "seed"), ({"vocab": 3}, ArgumentTypeError, "vocab"),
    ({"model": "lstm"}, ArgumentTypeError, "model")])
def test_sample_validates_every_argument(task, change, error, words):
    """Pass: each bad argument raises, and the message names it."""
    model = rnnzoo.build_model("gru", task.input_size, 8, task.output_size, readout="all")
    args = {"model": model, "prime": "de", "length": 5, "temperature": 1.0, "seed": 0,
            "vocab": task, **change}
    with pytest.raises(error, match=words):
        rnnzoo.sample(**args)


def greedy(model, prime, length, vocab):
    """The argmax continuation: what sampling tends to as the temperature goes to 0."""
    eye = np.eye(len(vocab))
    y, cache = model.forward(eye[[vocab.index(c) for c in prime]][:, None, :])
    out = []
    for _ in range(length):
        code = int(y[-1, 0].argmax())
        out.append(vocab[code])
        y, cache = model.forward(eye[[code]][:, None, :], state0=cache.state_T)
    return "".join(out)


@pytest.mark.parametrize("temperature", [1e-310, 1e-300, 5e-324])
def test_a_tiny_temperature_samples_the_argmax(task, temperature):
    """Dividing the logits by 1e-310 overflowed to inf, and inf - inf gave NumPy's
    "Probabilities contain NaN"; a pass: the softmax is computed stably and a tiny
    temperature picks the argmax at every step, whatever the seed."""
    model = rnnzoo.build_model("gru", task.input_size, 8, task.output_size, readout="all")
    expected = greedy(model, "de", 12, task.vocab)
    for seed in (0, 1):
        assert rnnzoo.sample(model, "de", 12, temperature, seed, vocab=task) == expected


@pytest.mark.parametrize("codes,named", [([10 ** 6], r"\[1000000\]"), ([-1], r"\[-1\]"),
                                         (np.array([0, -2, 10 ** 6, -2]), r"\[-2, 1000000\]")])
def test_decode_refuses_codes_outside_the_vocabulary(task, codes, named):
    """decode([10**6]) was a bare IndexError and decode([-1]) the last symbol; a pass: a
    ValueError naming the range and the codes outside it."""
    with pytest.raises(ValueError, match=rf"codes must be in \[0, {len(task.vocab)}\).*got "
                                         rf"{named}"):
        task.decode(codes)
    assert task.decode([0, len(task.vocab) - 1]) == task.vocab[0] + task.vocab[-1]


def test_sample_refuses_a_model_of_another_shape(task):
    """Pass: a model with readout 'last' or another vocabulary size is refused."""
    model = rnnzoo.build_model("gru", task.input_size, 8, task.output_size, readout="last")
    with pytest.raises(ValueError, match="readout"):
        rnnzoo.sample(model, "de", 5, vocab=task)


def test_training_beats_the_unigram_baseline(task):
    """Pass: a small GRU trained briefly on real text predicts the next character better
    than the character frequencies alone."""
    model = rnnzoo.build_model("gru", task.input_size, 32, task.output_size, readout="all",
                               seed=0)
    history = rnnzoo.train(model, task, 150, lr=1e-2, progress=False, eval_every=150)
    assert history.eval_loss[-1] < task.baseline


def test_sample_carries_every_layers_state(task):
    """Pass: with two stacked layers, feeding a sampled text one character at a time
    with cache.state_T carried (what sample does) gives the same logits as reading the
    whole text at once."""
    model = rnnzoo.build_model("lstm", task.input_size, 8, task.output_size, layers=2,
                               readout="all", seed=1)
    text = "def " + rnnzoo.sample(model, "def ", 6, 1.0, 0, vocab=task)
    x = np.eye(len(task.vocab))[task.encode(text)][:, None, :]
    y_all, _ = model.forward(x)
    y, cache, steps = None, None, []
    for t in range(len(text)):
        y, cache = model.forward(x[t:t + 1], None if cache is None else cache.state_T)
        steps.append(y[0])
    np.testing.assert_allclose(np.stack(steps), y_all, rtol=1e-12, atol=1e-12)


def test_the_bigram_model_reads_one_character_and_beats_the_unigram_as_documented():
    """The module docstring: on the shipped corpus's evaluation text the add-one bigram
    model (fitted on the training text) scores 2.53 nats (3.65 bits), the unigram
    baseline 3.14 (4.53 bits)."""
    task = rnnzoo.make_task("charlm", seed=0)
    V = len(task.vocab)
    table = np.ones((V, V))
    np.add.at(table, (task.train_codes[:-1], task.train_codes[1:]), 1)
    table /= table.sum(axis=1, keepdims=True)
    ev = task.eval_codes
    bigram = float(-np.log(table[ev[:-1], ev[1:]]).mean())
    assert (round(bigram, 2), round(float(task.bits(bigram)), 2)) == (2.53, 3.65)
    assert (round(task.baseline, 2), round(float(task.bits(task.baseline)), 2)) == (3.14, 4.53)
