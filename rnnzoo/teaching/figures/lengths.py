"""Trained at one length, evaluated at longer ones: what the induction-heads figure
(:mod:`.state_space`) and the parity figure (:mod:`.memories`) share. A recurrent model
runs at any length; the question is whether what it learned still holds."""
from __future__ import annotations

import numpy as np

from ...training import evaluate
from ...training.plotting import cell_style, legend_outside
from .core import caption, pyplot

MARKERS = "osD^v<>p*h"
LENGTH_FACTORS = (4, 16)            # evaluated at 4x and 16x the training length
METRICS = {"accuracy": 1, "success": 2}     # evaluate()'s (loss, accuracy, success metric)


def at_lengths(res, task_at, *, metric="accuracy", factors=LENGTH_FACTORS, labels=None):
    """{T: {label: ``metric`` per seed}} of the models trained in ``res`` (those of
    ``labels``, default all), each scored on ``task_at(T)``'s evaluation set at the
    training length and at each factor x it."""
    T0 = res.task_options["T"]
    models = {label: res.models(label) for label in (labels or res.labels)}
    out = {}
    for T in (T0,) + tuple(f * T0 for f in factors):
        task = task_at(T)
        out[T] = {label: np.array([evaluate(m, task)[METRICS[metric]] for m in ms])
                  for label, ms in models.items()}
    return out


def plot_lengths(ax, res, lengths, *, ylabel, ylim, reference):
    """The scores against the evaluation length: median and min-max band of the seeds,
    and ``reference`` = (label, {T: level}) drawn dotted (a plateau, chance)."""
    Ts = np.array(sorted(lengths))
    for i, label in enumerate(res.labels):       # one marker each: two cells at the
        marker = MARKERS[i % len(MARKERS)]         # same scores stay visible
        v = res.variants[label]
        style = {**cell_style(v.cell), **(v.style or {})}
        acc = np.array([lengths[T][label] for T in Ts])
        line, = ax.plot(Ts, np.median(acc, axis=1), marker=marker, mfc="none", ms=7,
                        label=label, **style)
        ax.fill_between(Ts, acc.min(axis=1), acc.max(axis=1), color=line.get_color(),
                        alpha=0.15)
    ref_label, levels = reference
    ax.plot(Ts, [levels[T] for T in Ts], ":", color="0.3", label=ref_label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(Ts, [f"{T}\n({T // Ts[0]}x)" for T in Ts])
    ax.set_xlabel("evaluation length T (x the training length)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(*ylim)
    legend_outside(ax)


def lengths_figure(res, lengths, *, kind, title, ylim, right_ylabel, what, reference):
    """Training curves (``kind`` of :meth:`Comparison.plot`) on the left, the same models
    at longer ``what`` on the right (:func:`plot_lengths`)."""
    fig, (left, right) = pyplot().subplots(1, 2, figsize=(12, 4.8))
    res.plot(left, kind=kind, title=f"{title}\n{res.budget.describe()}")
    left.set_ylim(*ylim)
    plot_lengths(right, res, lengths, ylabel=right_ylabel, ylim=ylim, reference=reference)
    right.set_title(f"The same models on longer {what} (median, min-max of "
                    f"{len(res.seeds)} seeds)")
    for ax in (left, right):
        ax.title.set_fontsize(9)
    fig.tight_layout()                  # room for each panel's legend, right of its axes
    caption(fig, res.caption(), y=-0.04)
    return fig
