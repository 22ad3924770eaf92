"""Made-up training results for testing the figures' claim functions: a claim has to
fail on data that contradicts it, which real training cannot be steered to produce.

    res = fake_comparison("selective_copy", {"T": 10, "symbols": 2},
                          {"s4d": {"accuracy": [[0.2, 0.6], [0.2, 0.7], [0.2, 0.65]]}})
    rec = Recorder()
    state_space.selective_copy_claims(res, claim=rec.claim, robust_claim=rec.robust_claim)
    rec.verdicts       # [True, False, ...], one per claim in the order they were made

Each variant's entry maps a kind ("loss", "accuracy", "success") to one curve per seed,
evaluated at steps 0, ``every``, 2 ``every``, ...; a curve shorter than the others is a
run that diverged (the rest reads as NaN, as :meth:`Comparison.curves` pads it). Kinds
left out are NaN at every evaluation.
"""
from __future__ import annotations

import numpy as np

from rnnzoo import experiments as ex
from rnnzoo.teaching.experiments.results import Comparison
from rnnzoo.training.history import History
from rnnzoo.training.tasks import make_task


def fake_comparison(task_name, task_options, runs, *, every=100, cells=None, seeds=None):
    """A :class:`Comparison` on the real task ``task_name`` (its baseline, metric and
    success criterion) whose runs are ``runs``: {label: {kind: [curve per seed]}}.
    ``cells`` ({label: registry name}) names the cell behind a label (default: the label
    itself, or "rnn" where that is not a cell's name)."""
    task = make_task(task_name, **task_options)
    variants = [ex.Variant((cells or {}).get(label, "rnn"), label=label) for label in runs]
    first = next(iter(runs.values()))
    n_seeds = len(next(iter(first.values())))
    # the budget the runs were made under: the longest curve is a run that went to the end
    longest = max(len(curve) for kinds in runs.values() for curves in kinds.values()
                  for curve in curves)
    budget = ex.Budget(steps=max(every * (longest - 1), 1), eval_every=every)
    res = Comparison(variants, task_name, task_options, budget, list(seeds or
                     range(n_seeds)), task)
    for label, kinds in runs.items():
        for seed in range(n_seeds):
            curves = {kind: list(map(float, kinds[kind][seed])) for kind in kinds}
            n = max(len(c) for c in curves.values())
            nan = [float("nan")] * n
            res.histories[label].append(History(
                label=label, task=task_name, metric=task.metric, baseline=float(task.baseline),
                eval_steps=[every * i for i in range(n)],
                eval_loss=curves.get("loss", nan), eval_accuracy=curves.get("accuracy", nan),
                eval_success=curves.get("success", nan),
                success=None if task.success is None else vars(task.success)))
            res.diverged[label].append(None)
    return res


class Recorder:
    """Stands in for the figures' ``claim``/``check`` and ``robust_claim``/``check_robust``
    (and ``measure``): records each verdict, evaluating a robust claim's check on the
    comparison restricted to its labels, as :func:`rnnzoo.experiments.robust_claim` does."""

    def __init__(self):
        self.verdicts, self.statements, self.numbers, self.measured = [], [], [], []

    def claim(self, statement, passed, **numbers):
        self.verdicts.append(bool(passed))
        self.statements.append(statement)
        self.numbers.append(numbers)

    def robust_claim(self, statement, result, check_fn, *, labels, **_):
        self.claim(statement, check_fn(result.subset(labels)))

    def measure(self, statement, **numbers):
        self.measured.append((statement, numbers))


def just_above(x):
    """The smallest float over ``x``: the first value past an "at most x" bound, or just
    inside an "above x" one."""
    return float(np.nextafter(x, np.inf))


def just_below(x):
    """The largest float under ``x``: the first value past an "at least x" bound, or just
    inside a "below x" one."""
    return float(np.nextafter(x, -np.inf))


def curve(*values):
    """A curve as a float array (a shorthand for the tables of made-up runs)."""
    return np.array(values, dtype=float)
