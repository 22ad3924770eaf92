"""Minibatch training: a small :class:`Trainer` and the one-call :func:`train`.

One training step, written out (everything else is bookkeeping)::

    x, target = task.batch(batch_size, rng)          # host NumPy, then to the backend
    y, cache = model.forward(x)
    loss, dy = task.loss(y, target)
    _, grads = model.backward(dy, cache)
    grad_norm = clip_grad_norm(grads, clip)          # global norm, before clipping
    optimizer.step(grads)                            # in place on model.params
    apply_constraints(model)                         # each cell's constrain(), if any

Batches are a pure function of ``(seed, step)`` (each step gets its own generator
``default_rng([seed, step])``), so a run resumed from a checkpoint at step s sees exactly
the batches the uninterrupted run would have seen.

Truncated BPTT (``tbptt=k``): the sequence is run in chunks of k steps, each chunk
starting from the previous chunk's final state, and the gradient is *not* carried
across chunk boundaries: each chunk's backward starts from dL/dstate = 0. The loss is
still that of the whole sequence, and the chunks' gradients are summed into one update
per batch. On a "last"-readout task only the last chunk sees the loss, so with k
shorter than the distance to the information the model needs, the gradient cannot
reach it: that is the lesson. (The chunks' caches are all kept, so this truncates the
gradient path, not the memory.)
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..core import subnormals
from ..core.validation import (ArgumentTypeError, check_bool, check_float, check_int,
                               check_optional, check_seed, describe)
from .history import History  # noqa: F401  (rnnzoo.training.trainer.History, as before)
from .model import SequenceModel
from .clipping import apply_constraints, clip_grad_norm, global_norm
from .optim import Optimizer, make_optimizer
from .tasks import Task


class Trainer:
    """Train ``model`` (a :class:`rnnzoo.SequenceModel`) on ``task`` (see
    :mod:`rnnzoo.tasks`).

    Parameters
    ----------
    optimizer : "adam", "rmsprop", "sgd", or an :class:`rnnzoo.optim.Optimizer` already
        built over ``model.params`` (e.g. restored from a checkpoint)
    lr, lr_for, optimizer_options : passed to the optimizer when it is built here (lr
        None means 1e-3); refused with an optimizer already built, which has its own
    batch_size : B, sequences per step
    clip : max global gradient norm (None: no clipping; the norm is still recorded)
    tbptt : None for full BPTT, or k, the truncation length in steps (see module doc)
    eval_every : evaluate every this many steps (and always at the start and the end)
    eval_batch : evaluation runs in slices of this many sequences (bounds the memory)
    seed : batches are drawn from ``default_rng([seed, step])``
    start_step : the step count to start from (when resuming)
    progress : show a tqdm progress bar
    label : a name for the history (defaults to the first cell's name)
    flush_subnormals : on the NumPy backend, run each step and evaluation with subnormal
        floats flushed to zero (:mod:`rnnzoo.core.subnormals`): a gradient vanishing
        through a long sequence is otherwise computed many times more slowly as it passes
        below 1.2e-38 (float32). Changes only numbers below the smallest normal float.
    """

    def __init__(self, model, task, *, optimizer="adam", lr=None, lr_for=None,
                 optimizer_options=None, batch_size=32, clip=1.0, tbptt=None,
                 eval_every=100, eval_batch=256, seed=0, start_step=0, progress=True,
                 label=None, flush_subnormals=True):
        w = "Trainer"
        _check_compatible(model, task)
        batch_size = check_int(batch_size, "batch_size", minimum=1, where=w)
        clip = check_optional(check_float, clip, "clip (None or a max norm)", minimum=0.0,
                              min_open=True, where=w)
        tbptt = check_optional(check_int, tbptt, "tbptt (None or a number of steps)",
                               minimum=1, where=w)
        eval_every = check_int(eval_every, "eval_every", minimum=1, where=w)
        eval_batch = check_int(eval_batch, "eval_batch", minimum=1, where=w)
        seed = check_seed(seed, where=w)
        start_step = check_int(start_step, "start_step", minimum=0, where=w)
        progress = check_bool(progress, "progress", where=w)
        flush_subnormals = check_bool(flush_subnormals, "flush_subnormals", where=w)
        if label is not None and not isinstance(label, str):
            raise ArgumentTypeError(f"{w}: label must be None or a string; got {label!r}")
        if optimizer_options is not None and not isinstance(optimizer_options, dict):
            raise ArgumentTypeError(f"{w}: optimizer_options must be None or a dict; got "
                                    f"{optimizer_options!r}")
        own = [k for k in optimizer_options or {} if not isinstance(k, str) or
               k in ("lr", "lr_for")]
        if own:
            raise ArgumentTypeError(f"{w}: optimizer_options' keys must be the optimizer's "
                                    f"option names (str; lr and lr_for are the Trainer's own "
                                    f"arguments); got {own}")
        if isinstance(optimizer, Optimizer):
            given = [k for k, v in (("lr", lr), ("lr_for", lr_for),
                                    ("optimizer_options", optimizer_options)) if v is not None]
            if given:
                raise ValueError(f"{w}: {', '.join(given)} configure(s) an optimizer built "
                                 f"here, but optimizer is an already built "
                                 f"{type(optimizer).__name__}, which would ignore it; set it "
                                 f"when building that optimizer, or pass optimizer="
                                 f"'{type(optimizer).__name__.lower()}'")
            if any(optimizer.params.get(k) is not p for k, p in model.params.items()):
                raise ValueError("the optimizer was built over other arrays than model.params; "
                                 "build it with the model's own params")
            self.optimizer = optimizer
        else:
            self.optimizer = make_optimizer(optimizer, model.params,
                                            1e-3 if lr is None else lr, lr_for=lr_for,
                                            **(optimizer_options or {}))
        self.model, self.task = model, task
        self.batch_size, self.clip, self.tbptt = batch_size, clip, tbptt
        self.eval_every, self.eval_batch = eval_every, eval_batch
        self.seed, self.step, self.progress = seed, start_step, progress
        self.aux_loss = 0.0
        self.xp, self.dtype = model.backend.xp, model.dtype
        # a GPU computes with subnormals at full speed; the CPU does not
        self.flush_subnormals = flush_subnormals and model.backend.name == "numpy"
        self.history = History(label=label or model.cells[0].name, task=task.name,
                               metric=task.metric, baseline=float(task.baseline),
                               baseline_formula=task.baseline_formula,
                               success=None if task.success is None else
                               task.success.to_dict())

    # ------------------------------------------------------------------ divergence
    def _diverged(self, what):
        """FloatingPointError naming the step, what went non-finite and the likely cause."""
        if self.optimizer.step_count == 0:
            opts = "; ".join(repr(c) for c in self.model.cells)
            cause = ("no update has been made yet, so the cause is the model as built: "
                     f"check the cell options and the data ({opts})")
        else:
            cause = (f"the likely cause is the learning rate ({self.optimizer!r}): try a "
                     f"smaller lr" + ("" if self.clip is not None else
                                      " or gradient clipping (clip=1.0)"))
        return FloatingPointError(f"training diverged at step {self.step}: {what}; {cause}")

    def _loss(self, y, target):
        loss, dy = self.task.loss(y, target)
        if not math.isfinite(loss):
            raise self._diverged(f"the loss is {loss}")
        return loss, dy

    # ------------------------------------------------------------------ data
    def _to_device(self, x, target):
        return _to_device(self.model, self.task, x, target)

    def batch(self, step):
        """The training batch of ``step``, on the model's backend and dtype."""
        step = check_int(step, "step", minimum=0, where="Trainer.batch")
        x, target = self.task.batch(self.batch_size, np.random.default_rng([self.seed, step]))
        return self._to_device(x, target)

    # ------------------------------------------------------------------ one step
    def loss_and_grads(self, x, target):
        """(loss, grads) of one batch, with full or truncated BPTT. The loss includes
        the model's auxiliary loss (``cache.aux_loss``, also kept in ``self.aux_loss``);
        the cells' backward already includes its gradient."""
        if not (hasattr(x, "shape") and hasattr(x, "dtype")) or len(x.shape) != 3:
            raise ArgumentTypeError(f"Trainer.loss_and_grads: x must be an array (T, B, D), "
                                    f"as Trainer.batch returns; got {describe(x)}")
        model, T = self.model, x.shape[0]
        k = self.tbptt
        if k is None or k >= T:
            y, cache = model.forward(x)
            loss, dy = self._loss(y, target)
            self.aux_loss = cache.aux_loss
            return loss + cache.aux_loss, model.backward(dy, cache)[1]
        every_step = model.readout.readout == "all"
        starts = list(range(0, T, int(k)))
        state, ys, caches, aux = None, [], [], 0.0
        for i, s in enumerate(starts):
            y, cache = model.forward(x[s:s + k], state)
            state = cache.state_T                         # carried forward, not backward
            aux += cache.aux_loss
            ys.append(y)
            # an earlier chunk of a "last"-readout task has no loss of its own, unless it
            # has an auxiliary one: then its backward runs with dy = 0
            last = i == len(starts) - 1
            caches.append(cache if every_step or last or cache.aux_loss else None)
        y = self.xp.concatenate(ys, axis=0) if every_step else ys[-1]
        loss, dy = self._loss(y, target)
        self.aux_loss = aux
        loss += aux
        grads = None
        for i, (s, cache) in enumerate(zip(starts, caches)):
            if cache is None:
                continue
            if every_step:
                dy_chunk = dy[s:s + k]
            else:
                dy_chunk = dy if i == len(starts) - 1 else self.xp.zeros_like(dy)
            g = model.backward(dy_chunk, cache)[1]        # each chunk from dstate_T = 0
            if grads is None:
                grads = g
            else:
                for name in grads:
                    grads[name] += g[name]
        return loss, grads

    def train_step(self):
        """One optimizer step; returns (loss, gradient norm before clipping)."""
        with subnormals.flush_subnormals(self.flush_subnormals):
            return self._train_step()

    def _train_step(self):
        x, target = self.batch(self.step)
        loss, grads = self.loss_and_grads(x, target)
        norm = global_norm(grads) if self.clip is None else clip_grad_norm(grads, self.clip)
        if not math.isfinite(norm):
            raise self._diverged(f"loss {loss}, but the gradient norm is {norm}")
        self.optimizer.step(grads)
        apply_constraints(self.model)
        for name, p in self.model.params.items():      # the update itself, last step too
            if not bool(self.xp.isfinite(p).all()):
                raise self._diverged(f"parameter '{name}' became NaN or inf in this step's "
                                     "update")
        self.step += 1
        return loss, norm

    # ------------------------------------------------------------------ evaluation
    def evaluate(self):
        """(loss, accuracy) on the task's fixed evaluation set (see :meth:`evaluation`)."""
        return self.evaluation()[:2]

    def evaluation(self):
        """(loss, accuracy, success metric) on the task's fixed evaluation set: see
        :func:`evaluate`, in slices of ``eval_batch``."""
        with subnormals.flush_subnormals(self.flush_subnormals):
            return _evaluate(self.model, self.task, self.eval_batch)

    def _record_eval(self):
        loss, acc, success = self.evaluation()
        if not math.isfinite(loss):
            raise self._diverged(f"the evaluation loss is {loss}")
        h = self.history
        h.eval_steps.append(self.step)
        h.eval_loss.append(loss)
        h.eval_accuracy.append(acc)
        if h.success is not None:        # (a history resumed from an older checkpoint has
            h.eval_success.append(success)   # none: its lists stay aligned with eval_steps)
        return loss

    # ------------------------------------------------------------------ the loop
    def run(self, steps) -> History:
        """Train for ``steps`` more steps; returns (and keeps extending) ``self.history``.

        It evaluates at the start (unless the history already ends with this step's
        evaluation), every ``eval_every`` steps and at the last step, so ``run(a)`` then
        ``run(b)`` (or a resumed run) has one evaluation more, at step a, than ``run(a + b)``
        unless a is a multiple of ``eval_every``; the training steps are the same."""
        from tqdm.auto import tqdm

        steps = check_int(steps, "steps", minimum=1, where="Trainer.run")
        h, end = self.history, self.step + steps
        start = time.perf_counter()
        if not h.eval_steps or h.eval_steps[-1] != self.step:
            self._record_eval()
        bar = tqdm(total=int(steps), desc=h.label, disable=not self.progress, leave=False)
        try:
            while self.step < end:
                loss, norm = self.train_step()
                h.steps.append(self.step)
                h.train_loss.append(loss)
                h.grad_norm.append(norm)
                h.aux_loss.append(self.aux_loss)
                if self.step % self.eval_every == 0 or self.step == end:
                    self._record_eval()
                    bar.set_postfix(loss=f"{loss:.4f}", eval=f"{h.eval_loss[-1]:.4f}",
                                    baseline=f"{h.baseline:.4f}", refresh=False)
                bar.update(1)
        finally:
            bar.close()
            h.seconds += time.perf_counter() - start
        return h

    def checkpoint_extra(self) -> dict:
        """JSON-able trainer state to store with a checkpoint (resume with ``start_step``)."""
        return {"step": self.step, "seed": self.seed, "batch_size": self.batch_size,
                "clip": self.clip, "tbptt": self.tbptt, "task": self.task.spec,
                "history": self.history.to_dict()}


def train(model, task, steps, *, batch_size=32, optimizer="adam", lr=None, clip=1.0,
          tbptt=None, eval_every=100, seed=0, progress=True, **kwargs) -> History:
    """Train ``model`` on ``task`` for ``steps`` minibatch steps and return the History.

    A thin wrapper around :class:`Trainer` (which see for every argument)::

        task = rnnzoo.tasks.make_task("adding", T=50)
        model = rnnzoo.build_model("gru", task.input_size, 32, task.output_size,
                                   readout=task.readout)
        history = rnnzoo.train(model, task, steps=300, lr=1e-2)
    """
    steps = check_int(steps, "steps", minimum=1, where="train")
    trainer = Trainer(model, task, batch_size=batch_size, optimizer=optimizer, lr=lr,
                      clip=clip, tbptt=tbptt, eval_every=eval_every, seed=seed,
                      progress=progress, **kwargs)
    return trainer.run(steps)


def evaluate(model, task, *, eval_batch=256) -> tuple:
    """(loss, accuracy, success metric) of ``model`` on ``task``'s fixed evaluation set,
    run in slices of ``eval_batch`` sequences; the success metric
    (:meth:`Task.success_value`) is NaN where the task has no criterion. What the
    :class:`Trainer` records at each evaluation.

    The model need not have been trained on this task object: a recurrent model has no
    length of its own, so ``evaluate(model, make_task("induction", T=16 * T))`` measures
    how a model trained at T extrapolates (the task must have the same input size, output
    size and readout).

    Cells with a ``training`` switch (QRNN's zoneout) evaluate in inference mode, so the
    loss is deterministic; the switch is restored afterwards."""
    _check_compatible(model, task, where="evaluate")
    eval_batch = check_int(eval_batch, "eval_batch", minimum=1, where="evaluate")
    return _evaluate(model, task, eval_batch)


def _evaluate(model, task, eval_batch):
    x_all, t_all = task.eval_data()
    n = x_all.shape[1]
    loss_sum = acc_sum = success_sum = 0.0
    success = task.success is not None
    # a task that computes its success metric its own way keeps it, whatever same_as says
    same = success and type(task)._success_value is Task._success_value and \
        task.success.same_as
    switched = [c for c in model.cells if getattr(c, "training", False)]
    for c in switched:
        c.training = False
    try:
        for s in range(0, n, eval_batch):
            part = slice(s, s + eval_batch)                     # over the batch axis B
            x, target = _to_device(model, task, x_all[:, part], t_all[:, part]
                                   if task.readout == "all" else t_all[part])
            y, _ = model.forward(x)
            b = x.shape[1]
            loss, acc = task.loss(y, target)[0], task.accuracy(y, target)
            loss_sum += loss * b
            acc_sum += acc * b
            if success:                       # a mean over sequences, like the others
                # the loss or the accuracy just computed, where the metric is one of them
                value = {"loss": loss, "accuracy": acc}.get(same) if same else None
                success_sum += (task.success_value(y, target) if value is None
                                else value) * b
    finally:
        for c in switched:
            c.training = True
    return loss_sum / n, acc_sum / n, success_sum / n if success else float("nan")


def _to_device(model, task, x, target):
    """A host batch on the model's backend and dtype (integer targets stay int64)."""
    tdtype = model.dtype if task.loss_kind == "mse" else np.int64
    return model.backend.asarray(x, dtype=model.dtype), model.backend.asarray(target,
                                                                              dtype=tdtype)


def _check_compatible(model, task, where="Trainer"):
    if not isinstance(model, SequenceModel):
        raise ArgumentTypeError(f"{where}: model must be a SequenceModel (rnnzoo.build_model"
                                f"(...)); got {type(model).__name__}")
    if not isinstance(task, Task):
        raise ArgumentTypeError(f"{where}: task must be a task from rnnzoo.tasks.make_task; "
                                f"got {type(task).__name__}")
    readout = model.readout
    problems = []
    if model.input_size != task.input_size:
        problems.append(f"input_size {model.input_size} != the task's {task.input_size}")
    if readout.out_features != task.output_size:
        problems.append(f"output_size {readout.out_features} != the task's {task.output_size}")
    if readout.readout != task.readout:
        problems.append(f"readout={readout.readout!r} but the task needs {task.readout!r}")
    if problems:
        raise ValueError(f"model does not fit task '{task.name}': " + "; ".join(problems) +
                         f". Build it with rnnzoo.build_model(cell, {task.input_size}, hidden, "
                         f"{task.output_size}, readout={task.readout!r})")
