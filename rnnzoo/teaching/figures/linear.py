"""Figures of the linear recurrences (issue 21): LRU, minGRU and minLSTM against GRU and
LSTM on selective copying (Gu & Dao 2023), the task where *what* to keep depends on the
input.

The experiment is defined here once and used by both the figure and notebook 09, so the
two always run the same comparison.
"""
from __future__ import annotations

import numpy as np

from .. import experiments as ex
from .core import caption, check, check_robust, comparison, figure, measure, pyplot, save

LABELS = {"lru": "lru", "mingru": "mingru", "minlstm": "minlstm", "gru": "gru",
          "lstm": "lstm (forget bias 1)"}
# mingru shares the gru's colour (its family's), minlstm the lstm's: a line style apiece
STYLES = {"lru": {"linestyle": "--"}, "mingru": {"linestyle": "-."},
          "minlstm": {"linestyle": ":"}}
MINIMAL = ("lru", "mingru", "minlstm")     # a linear recurrence whose coefficients see x only
STUCK = 0.8                                # the recall accuracy the minimal cells stay under


def selective_copy_experiment(full=False):
    """The five cells on selective copying under one budget: K = 2 symbols of 8 scattered
    over T = 10 steps (T = 40, K = 4 with ``full``), H = 32, Adam 1e-2, batch 32, 2,400
    steps (3,000 with ``full``). Small enough for the notebook's two minutes on 2 cores,
    and long enough for the gru and the lstm to solve it: at 600 steps no cell had, and
    that was the budget, not the cells."""
    T, K = (40, 4) if full else (10, 2)
    steps = 3000 if full else 2400
    budget = ex.Budget(steps=steps, batch_size=32, lr=1e-2, hidden=32, eval_size=500,
                       eval_every=steps // 10)
    variants = [ex.Variant(c, label=LABELS[c], style=STYLES.get(c)) for c in LABELS]
    return dict(variants=variants, task="selective_copy",
                task_options={"T": T, "symbols": K, "vocab": 8}, budget=budget)


def run(spec, full=False, seed=0):
    """The comparison of ``spec`` (3 seeds from ``seed``, 5 with ``full``), trained once
    per process."""
    return comparison(spec["variants"], spec["task"], spec["task_options"], spec["budget"],
                      full=full, seed=seed)


def final_accuracy(res):
    """{label: final recall accuracy per seed}."""
    return {label: res.final(label, "accuracy") for label in res.labels}


def state_claims(res, claim=check, robust_claim=check_robust):
    """The claims the figure and notebook 09 make on the comparison ``res``, with the
    harness's ``claim`` and ``robust_claim`` (the figures' recording versions by
    default)."""
    acc = final_accuracy(res)
    minimal = [LABELS[c] for c in MINIMAL]
    robust_claim(f"within this budget lru, mingru and minlstm end below {STUCK} recall "
                 f"accuracy in every seed (above the memoryless 1/8, short of the 0.99 that "
                 f"solves it)",
                 res, lambda r: all(r.final(lb, "accuracy").max() < STUCK for lb in r.labels),
                 labels=minimal)
    robust_claim(f"the gru and the lstm, whose gates read h_{{t-1}} too, end solved "
                 f"({res.success.describe()}) in every seed",
                 res, lambda r: all(r.success.met(r.final(lb, "success")).all()
                                    for lb in r.labels),
                 labels=[LABELS["gru"], LABELS["lstm"]], negative=False)
    medians = {label: float(np.median(a)) for label, a in acc.items()}
    claim("every seed of every cell ends above the memoryless recall accuracy 1/8",
          all((a > 1 / 8).all() for a in acc.values()), **acc)
    measure("the step at which each seed met the 99% recall criterion (None: not within "
            "this budget)", **{label: res.solved_at(label) for label in res.labels})
    return medians


@figure("linear_selective_copy")
def selective_copy_figure(out_dir, full=False, seed=0):
    """Recall accuracy on selective copying: lru, mingru, minlstm, gru, lstm, one budget."""
    res = run(selective_copy_experiment(full), full, seed)
    fig = selective_copy_plot(res)
    state_claims(res)
    return save(fig, out_dir, "linear_selective_copy")


def selective_copy_plot(res):
    """A figure of the recall accuracy of every variant of the selective-copying
    comparison ``res`` (this module's and :mod:`.state_space`'s), with its caption."""
    fig, ax = pyplot().subplots(figsize=(8.5, 5))
    task = res.task
    res.plot(ax, kind="accuracy",
             title=f"Selective copying ({task.K} of {task.n_symbols} symbols scattered over "
                   f"{task.span} steps, T = {task.T}): recall accuracy, median and min-max "
                   f"of {len(res.seeds)} seeds\n{res.budget.describe()}")
    ax.title.set_fontsize(9)
    ax.set_ylim(0, 1.05)
    caption(fig, res.caption(), y=-0.02)
    return fig
