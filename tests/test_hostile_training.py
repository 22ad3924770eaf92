"""Hostile input to Trainer / train, divergence at every step, and a clipped step by hand.

A pass: each bad argument is refused up front with its name; a run that goes non-finite
stops at that step (the last one included) with a message pointing at the likely
cause; a clipped SGD step equals the one computed by hand.
"""
import math

import numpy as np
import pytest

import rnnzoo
from rnnzoo.optim import SGD
from rnnzoo.tasks import make_task
from rnnzoo import training
from rnnzoo.training import Trainer, train

from .hostile import raises

ERR = (TypeError, ValueError)


@pytest.fixture(scope="module")
def task():
    return make_task("adding", T=6, seed=0, eval_size=8)


def model_for(task, cell="rnn", **opts):
    return rnnzoo.build_model(cell, task.input_size, 3, task.output_size,
                              readout=task.readout, seed=1, **opts)


@pytest.mark.parametrize("kwargs,match", [
    ({"batch_size": 0}, "batch_size must be an integer >= 1"),
    ({"batch_size": 2.5}, "batch_size must be an integer"),
    ({"batch_size": "8"}, "batch_size must be an integer"),
    ({"eval_every": 0}, "eval_every must be an integer >= 1"),
    ({"eval_every": 1.5}, "eval_every must be an integer"),
    ({"eval_every": "1"}, "eval_every must be an integer"),
    ({"eval_batch": 0}, "eval_batch must be an integer >= 1"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"seed": 1.5}, "seed must be an integer"),
    ({"seed": "0"}, "seed must be an integer"),
    ({"seed": None}, "seed must be an integer"),
    ({"clip": 0}, r"clip \(None or a max norm\) must be a finite number > 0"),
    ({"clip": -1.0}, "clip .* must be a finite number > 0"),
    ({"clip": math.nan}, "clip .* must be a finite number"),
    ({"clip": math.inf}, "clip .* must be a finite number"),
    ({"clip": "1"}, "clip .* must be a finite number"),
    ({"clip": True}, "clip .* must be a finite number"),
    ({"tbptt": 0}, r"tbptt \(None or a number of steps\) must be an integer >= 1"),
    ({"tbptt": 2.5}, "tbptt .* must be an integer"),
    ({"tbptt": "5"}, "tbptt .* must be an integer"),
    ({"start_step": -1}, "start_step must be an integer >= 0"),
    ({"progress": "no"}, "progress must be True or False"),
    ({"progress": 0}, "progress must be True or False"),
    ({"label": 3}, "label must be None or a string"),
    ({"optimizer": "nope"}, "optimizer must be one of"),
    ({"optimizer": 3}, "optimizer must be one of"),
    ({"optimizer_options": 3}, "optimizer_options must be None or a dict"),
    ({"optimizer": "sgd", "optimizer_options": {"momentum": 2.0}}, "momentum must be"),
    ({"optimizer_options": {"momentum": 0.9}},
     r"Adam takes the options \['betas', 'eps', 'lr_for'\] \(and lr\); got unknown \['momentum'\]"),
    ({"optimizer_options": {1: 0.9}}, r"optimizer_options' keys must be the optimizer's option "
                                      r"names \(str; lr and lr_for are the Trainer's own"),
    ({"optimizer_options": {"lr": 0.1}}, r"optimizer_options' keys .*got \['lr'\]"),
    ({"lr": math.nan}, "lr must be a finite number"),
    ({"lr": "0.1"}, "lr must be a finite number"),
])
def test_trainer_arguments(task, kwargs, match):
    raises(ERR, match, Trainer, model_for(task), task, **kwargs)


@pytest.mark.parametrize("steps", [0, -1, 1.5, "10", True, None])
def test_steps(task, steps):
    trainer = Trainer(model_for(task), task, progress=False)
    raises(ERR, "steps must be an integer >= 1", trainer.run, steps)
    raises(ERR, "steps must be an integer >= 1", train, model_for(task), task, steps)
    assert trainer.history.eval_steps == []               # refused before evaluating


@pytest.mark.parametrize("model,task_,match", [
    ("cell", None, "model must be a SequenceModel"),
    (None, "adding", "task must be a task from rnnzoo.tasks.make_task"),
])
def test_model_and_task_types(task, model, task_, match):
    model = rnnzoo.make("rnn", 2, 3) if model == "cell" else model_for(task)
    raises(ERR, match, Trainer, model, task if task_ is None else task_)


def test_numpy_scalars_are_accepted(task):
    t = Trainer(model_for(task), task, batch_size=np.int64(4), clip=np.float32(1.0),
                eval_every=np.int32(2), seed=np.int64(3), progress=False, lr=np.float64(0.01))
    t.run(np.int64(2))
    assert t.step == 2 and type(t.seed) is int and type(t.clip) is float


# ------------------------------------------------------------------ divergence
def test_divergence_from_the_options_points_at_the_options(task):
    """identity_scale=1e200 overflows the first forward: no update has been made, so the
    message blames the model as built and shows its options."""
    model = model_for(task, nonlinearity="relu", identity_init=True, identity_scale=1e200)
    with np.errstate(all="ignore"):
        raises(FloatingPointError, r"diverged at step 0: .*no update has been made yet.*"
               r"identity_scale=1e\+200", train, model, task, 3, progress=False)


def test_divergence_from_the_learning_rate_points_at_the_lr(task):
    model = model_for(task)
    trainer = Trainer(model, task, optimizer=SGD(model.params, lr=1e200), clip=None,
                      progress=False)
    with np.errstate(all="ignore"):
        msg = raises(FloatingPointError, r"diverged at step [1-9].*learning rate "
                     r"\(SGD\(lr=1e\+200", trainer.run, 5)
    assert "or gradient clipping (clip=1.0)" in msg              # clipping was off
    clipped = Trainer(model_for(task), task, optimizer="sgd", lr=1e200, clip=1.0,
                      progress=False)
    with np.errstate(all="ignore"):
        msg = raises(FloatingPointError, "try a smaller lr", clipped.run, 5)
    assert "clip=1.0" not in msg                                 # already clipping


class _Poison(SGD):
    """SGD whose update on step ``at`` writes inf into one parameter."""
    at = 3

    def update(self, name, p, g, lr, t):
        super().update(name, p, g, lr, t)
        if t == self.at and name == "cell0.W_hh":
            p[0, 0] = np.inf


@pytest.mark.parametrize("at", [1, 3])
def test_divergence_is_caught_at_every_step_the_last_included(task, at):
    """A parameter that goes non-finite in the update of the last step (3 of 3) is caught
    at that step, not silently returned."""
    model = model_for(task)
    opt = _Poison(model.params, lr=0.01)
    opt.at = at
    trainer = Trainer(model, task, optimizer=opt, eval_every=100, progress=False)
    with np.errstate(all="ignore"):
        raises(FloatingPointError, rf"diverged at step {at - 1}: parameter 'cell0.W_hh' "
               "became NaN or inf", trainer.run, 3)
    assert trainer.history.steps == list(range(1, at))


# ------------------------------------------------------------------ clipping by hand
def test_a_clipped_step_equals_the_hand_computed_one(task):
    model = model_for(task, cell="gru")
    lr, clip = 0.1, 1e-3                     # far below the gradient's norm: clipping acts
    before = {k: p.copy() for k, p in model.params.items()}
    trainer = Trainer(model, task, optimizer="sgd", lr=lr, clip=clip, batch_size=4, seed=5,
                      progress=False)
    x, target = trainer.batch(0)
    twin = model_for(task, cell="gru")
    y, cache = twin.forward(x)
    loss_ref, dy = rnnzoo.mse_loss(y, target)
    _, grads = twin.backward(dy, cache)
    norm = math.sqrt(sum(float((g ** 2).sum()) for g in grads.values()))
    assert norm > 10 * clip
    loss, reported = trainer.train_step()
    assert loss == loss_ref and reported == pytest.approx(norm, rel=1e-12)   # before clipping
    step = {k: (before[k] - model.params[k]) / lr for k in before}
    for k, g in grads.items():
        np.testing.assert_allclose(step[k], g * clip / norm, rtol=1e-9, atol=1e-15)
    total = math.sqrt(sum(float((s ** 2).sum()) for s in step.values()))
    assert total == pytest.approx(clip, rel=1e-9)


@pytest.mark.parametrize("name", ["adding", "copy"])
def test_evaluate_is_the_task_loss_on_the_eval_set(name):
    """In slices of 3, evaluate() equals the loss and accuracy on the whole eval set (the
    copy task's untrained accuracy is about 1/9, so a dropped accuracy sum shows)."""
    task = make_task(name, T=4, seed=0, eval_size=16)
    model = model_for(task)
    trainer = Trainer(model, task, eval_batch=3, progress=False)
    x, target = task.eval_data()
    y, _ = model.forward(x)
    loss, acc = trainer.evaluate()
    assert loss == pytest.approx(task.loss(y, target)[0], rel=1e-12)
    assert acc == pytest.approx(task.accuracy(y, target), rel=1e-12)
    assert name == "adding" or acc > 0


def test_history_times_the_run_and_the_bar_follows_progress(task, capsys):
    import time
    h0 = Trainer(model_for(task), task, progress=False).history
    assert h0.seconds == 0.0
    start = time.perf_counter()
    h = train(model_for(task), task, 2, progress=False)
    elapsed = time.perf_counter() - start
    assert 0.0 < h.seconds <= elapsed
    assert capsys.readouterr().err == ""                       # progress=False: no bar
    train(model_for(task), task, 2, progress=True)
    assert "0/2" in capsys.readouterr().err                    # progress=True: a bar


def test_a_model_with_the_wrong_output_size_is_refused(task):
    wrong = rnnzoo.build_model("rnn", task.input_size, 3, 2, readout=task.readout)
    raises(ValueError, "output_size 2 != the task's 1", Trainer, wrong, task)


def test_a_model_with_the_wrong_input_size_is_refused(task):
    wrong = rnnzoo.build_model("rnn", task.input_size + 1, 3, 1, readout=task.readout)
    raises(ValueError, f"input_size {task.input_size + 1} != the task's {task.input_size}",
           Trainer, wrong, task)


def test_documented_defaults():
    """The defaults the docstrings promise (a changed default is a changed API)."""
    import inspect
    for fn in (Trainer.__init__, train):
        d = {k: p.default for k, p in inspect.signature(fn).parameters.items()}
        assert (d["batch_size"], d["clip"], d["eval_every"], d["seed"], d["progress"],
                d["optimizer"], d["lr"], d["tbptt"]) == (32, 1.0, 100, 0, True, "adam", None,
                                                         None)


def test_the_default_learning_rate_is_1e_3(task):
    """lr=None in the signature (so an lr given beside a built optimizer can be told from
    the default) means Adam with lr 1e-3."""
    trainer = Trainer(model_for(task), task, progress=False)
    assert type(trainer.optimizer).__name__ == "Adam" and trainer.optimizer.lr == 1e-3


@pytest.mark.parametrize("given", [{"lr": 0.5}, {"lr_for": {"cell0.W_hh": 0.1}},
                                   {"optimizer_options": {"momentum": 0.9}}])
def test_learning_rates_given_beside_a_built_optimizer_are_refused(task, given):
    """An Optimizer instance has its own lr: an lr, lr_for or optimizer_options given
    beside it would be ignored, so it is refused instead, naming what was given."""
    model = model_for(task)
    name = next(iter(given))
    raises(ValueError, rf"Trainer: {name} configure\(s\) an optimizer built here, but "
           r"optimizer is an already built SGD.*optimizer='sgd'", Trainer, model, task,
           optimizer=SGD(model.params, lr=0.01), progress=False, **given)


@pytest.mark.parametrize("kwargs,error,match", [
    ({"train": "no"}, TypeError, "plot_history: train must be True or False; got 'no'"),
    ({"log": "yes"}, TypeError, "plot_history: log must be True or False; got 'yes'"),
    ({"ax": "left"}, TypeError, "plot_history: ax must be None or a matplotlib Axes"),
    ({"styles": 3}, TypeError, "plot_history: styles must be None or a dict"),
    ({"styles": {"a": "red"}}, TypeError, "plot_history: styles must be None or a dict"),
    ({"kind": "zz"}, ValueError, "plot_history: kind must be 'loss'"),
    ({"histories": None}, TypeError, "plot_history: histories must be a History .*got None"),
    ({"histories": ["a"]}, TypeError, "plot_history: histories must be a History .*got 'a'"),
    ({"histories": []}, ValueError, "plot_history: histories must hold at least one History"),
])
def test_plot_history_arguments(kwargs, error, match):
    """A string for train or log was taken as True, a list of names or None for the
    histories, a string for ax and an int for styles failed with an AttributeError from
    inside the drawing loop, and an empty list drew an empty plot."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from rnnzoo.training.history import History
    from rnnzoo.training.plotting import plot_history
    h = History(label="a", steps=[1, 2, 3], train_loss=[1.0, 0.5, 0.3])
    kwargs = {"histories": [h], **kwargs}
    try:
        raises(error, match, plot_history, **kwargs)
    finally:
        plt.close("all")


@pytest.mark.parametrize("values,window,error,match", [
    ([1.0, 2.0], 0, ValueError, "smooth: window must be an integer >= 1; got 0"),
    ([1.0, 2.0], 2.5, TypeError, "smooth: window must be an integer >= 1; got 2.5"),
    ([1.0, 2.0], True, TypeError, "smooth: window must be an integer"),
    (np.ones((3, 3)), 2, TypeError, "smooth: values must be a 1-D sequence of numbers"),
    (None, 2, TypeError, "smooth: values must be a 1-D sequence of numbers; got None"),
    ("abc", 2, TypeError, "smooth: values must be a 1-D sequence of numbers; got 'abc'"),
])
def test_smooth_arguments(values, window, error, match):
    """window 0 or True was taken as no smoothing and 2.5 failed as a NumPy IndexError;
    a 2-D array was smoothed flattened and None came back as [nan]."""
    from rnnzoo.training.plotting import smooth
    raises(error, match, smooth, values, window)


# ------------------------------------------------------------ History.from_dict
@pytest.mark.parametrize("d,error,match", [
    (None, TypeError, r"History.from_dict: d must be a dict \(what History.to_dict returns\); "
                      r"got None"),
    ([1], TypeError, "d must be a dict"),
    ({"bogus": 1}, ValueError, r"d has unknown field\(s\) \['bogus'\]"),
    ({"steps": 3}, TypeError, r"d\['steps'\] must be a list; got 3 \(int\)"),
    ({"eval_loss": "0.5"}, TypeError, r"d\['eval_loss'\] must be a list"),
    ({"baseline": "x"}, TypeError, r"d\['baseline'\] must be a number; got 'x'"),
    ({"seconds": None}, TypeError, r"d\['seconds'\] must be a number; got None"),
    ({"label": None}, TypeError, r"d\['label'\] must be a str"),
    ({"success": "acc"}, TypeError, r"d\['success'\] must be None or a dict"),
    ({"success": {"x": 1}}, ValueError, r"d\['success'\] must hold a Success's fields"),
])
def test_history_from_dict_names_a_bad_field(d, error, match):
    """A field of the wrong kind was accepted and failed later, in summary() or solved
    (steps=3: 'int' object is not subscriptable); None and an unknown field were raw
    TypeErrors about keyword arguments."""
    raises(error, match, training.History.from_dict, d)


def test_history_round_trips_through_json(task):
    import json
    h = train(model_for(task), task, steps=2, batch_size=2, progress=False)
    back = training.History.from_dict(json.loads(json.dumps(h.to_dict())))
    assert back.to_dict() == json.loads(json.dumps(h.to_dict()))


def test_trainer_batch_and_loss_and_grads_name_their_argument():
    model = rnnzoo.build_model("gru", 2, 4, 1, readout="last")
    trainer = Trainer(model, make_task("adding", T=5), progress=False)
    raises(ValueError, r"Trainer.batch: step must be an integer >= 0; got -1", trainer.batch, -1)
    raises((TypeError, ValueError), r"Trainer.batch: step must be an integer", trainer.batch,
           1.5)
    x, target = trainer.batch(0)
    raises(TypeError, r"Trainer.loss_and_grads: x must be an array \(T, B, D\)",
           trainer.loss_and_grads, x.tolist(), target)
