"""Figures of the cells that keep gradients alive by structure: IndRNN (one recurrent
weight per neuron, and its deep residual form) and the orthogonal RNN (W = expm(A) or a
scaled Cayley transform).

The three experiments are defined here once, as (variants, task, budget) specs, and
used by both the figures and notebook 04, so the two always run the same comparison.
"""
from __future__ import annotations

import textwrap

import numpy as np

from ...core import diagnostics
from ...core.registry import make
from .. import experiments as ex
from .core import check, comparison, figure, label_axes, measure, pyplot, save, variant


def gradient_variants(T):
    """The cells of the gradient-norm figure, at initialization."""
    return [
        variant("rnn (tanh)", "rnn"),
        variant("gru", "gru"),
        variant("lstm (forget bias 1)", "lstm", {"forget_bias": 1.0}),
        variant("indrnn, u ~ U(0, 1)", "indrnn", linestyle=":"),
        variant("indrnn, u ~ U(2^(-1/T), 2^(1/T))", "indrnn",
                {"t_max": T, "u_init": "bounded"}),
        variant("orthogonal exp, modReLU", "orthogonal", linestyle="--"),
        variant("orthogonal exp, identity", "orthogonal", {"nonlinearity": "identity"}),
    ]


def indrnn_variant(length):
    """The authors' adding network: two IndRNN layers, |u| <= 2^(1/length), the top one
    started in [2^(-1/length), 2^(1/length)]."""
    return ex.Variant("resindrnn", {"depth": 2, "residual": False, "t_max": length,
                                    "u_init": "bounded"}, label="indrnn (2 layers)")


def orthogonal_variant(budget, **options):
    """The orthogonal RNN (modReLU) with S at a tenth of the learning rate, as both
    papers train it."""
    name = options.get("parametrization", "exp")
    return ex.Variant("orthogonal", options, label=f"orthogonal ({name})",
                      lr_for={"cell0.S": budget.lr / 10},
                      style={"linestyle": "--"} if name == "cayley" else None)


def adding_experiment(full=False):
    """LSTM against the 2-layer IndRNN at equal hidden size on the adding problem, with
    the orthogonal RNN for the cross-check (each cell on the other's task)."""
    T = 1000 if full else 100
    budget = ex.Budget(steps=5000 if full else 400, hidden=32, eval_every=250 if full else 40,
                       eval_size=500)
    return dict(variants=[ex.Variant("lstm"), indrnn_variant(T), orthogonal_variant(budget)],
                task="adding", task_options={"T": T}, budget=budget)


def copy_experiment(full=False):
    """LSTM against the orthogonal RNN (both parametrizations) on the copy task, with the
    2-layer IndRNN (bounded for the whole T + 20 steps) for the cross-check."""
    T = 1000 if full else 50
    budget = ex.Budget(steps=4000 if full else 300, hidden=64, eval_every=200 if full else 30,
                       eval_size=500)
    return dict(variants=[ex.Variant("lstm"), orthogonal_variant(budget),
                          orthogonal_variant(budget, parametrization="cayley"),
                          indrnn_variant(T + 20)],
                task="copy", task_options={"T": T}, budget=budget)


def deep_experiment(full=False):
    """A 6-layer IndRNN, plain and with residual shortcuts, on the adding problem."""
    T = 200 if full else 30
    budget = ex.Budget(steps=3000 if full else 400, hidden=32, eval_every=200 if full else 40,
                       eval_size=500)
    base = {"depth": 6, "t_max": T, "u_init": "bounded"}
    return dict(variants=[ex.Variant("resindrnn", {**base, "residual": False},
                                     label="6 layers, plain", style={"linestyle": ":"}),
                          ex.Variant("resindrnn", base, label="6 layers, residual")],
                task="adding", task_options={"T": T}, budget=budget)


def run(spec, seeds=3, seed=0, progress=False):
    """``ex.compare`` on a spec from this module, seeds seed..seed+seeds-1."""
    return ex.compare(spec["variants"], spec["task"], task_options=spec["task_options"],
                      budget=spec["budget"], seeds=list(range(seed, seed + seeds)),
                      progress=progress)


def plot_gradient_panels(ax, zoom, T, *, hidden=64, seed=0) -> dict:
    """||dL/dh_t|| of every :func:`gradient_variants` cell at initialization, log scale
    on ``ax`` and linear on ``zoom``; returns {label: norms (T,)}."""
    norms = {}
    for label, name, opts, style in gradient_variants(T):
        cell = make(name, 4, hidden, seed=seed, **opts)
        norms[label] = diagnostics.gradient_norm_over_time(cell, T, batch=16, seed=seed)
        for a in (ax, zoom):
            a.plot(np.arange(1, T + 1), norms[label], label=label, **style)
    ax.set_yscale("log")
    where = "time step t (the loss is at t = T)"
    label_axes(ax, where, r"$\|\partial L / \partial h_t\|$",
               f"Gradient reaching each step at initialization (T = {T}, H = {hidden})",
               (1e-40, 1e1), "lower right")
    label_axes(zoom, where, r"$\|\partial L / \partial h_t\|$",
               "the same, linear scale: the cells that keep it", (0.0, 1.1), "lower right")
    for a in (ax, zoom):
        a.legend(loc="lower right", fontsize=7)
    return norms


PAPERS = ("The papers train far longer: IndRNN solves adding at T = 5000 where the LSTM "
          "fails at T = 1000; expRNN and scoRNN solve copy at T = 1000-2000.")
QUICK = " These are the quick budgets (--full runs adding and copy at T = 1000)."


def plot_comparisons(fig, axes, results, titles, note=PAPERS + QUICK):
    """Each comparison on its axes (median, min-max band, baseline), then ``note`` and
    all their captions (budget and options) under the figure."""
    captions = textwrap.wrap(note, 190)
    for ax, res, title in zip(axes, results, titles):
        res.plot(ax, title=f"{title}: {res.task_text()}")
        captions += textwrap.wrap(res.caption().replace("\n", " "), 190)
    fig.text(0.01, -0.02, "\n".join(captions), fontsize=6.5, va="top", family="monospace")


TITLES = ("LSTM vs IndRNN (and orthogonal)", "LSTM vs orthogonal (and IndRNN)",
          "deep IndRNN, plain vs residual")


@figure("structural_gradient_norms")
def structural_gradient_norm_figure(out_dir, full=False, seed=0):
    """||dL/dh_t|| over 1,000 steps at initialization: the orthogonal RNN (identity)
    exactly flat, IndRNN with the bounded init nearly so, the others collapsing."""
    fig, axes = pyplot().subplots(1, 2, figsize=(14, 4.8))
    T = 5000 if full else 1000
    norms = plot_gradient_panels(*axes, T, seed=seed)
    first = {label: float(n[0] / n[-1]) for label, n in norms.items()}
    check(f"orthogonal (identity phi): the gradient reaching step 1 of {T} equals the one at "
          "step T to 1e-10", abs(first["orthogonal exp, identity"] - 1) < 1e-10,
          ratio=first["orthogonal exp, identity"])
    gone = {k: first[k] for k in ("rnn (tanh)", "gru", "lstm (forget bias 1)")}
    check(f"rnn, gru and lstm keep less than 1e-20 of it after {T} steps back",
          max(gone.values()) < 1e-20, **gone)
    kept = {k: first[k] for k in ("orthogonal exp, modReLU", "indrnn, u ~ U(2^(-1/T), 2^(1/T))")}
    check("orthogonal with modReLU keeps more than 90% of it, indrnn with the bounded init "
          "more than 10%", kept["orthogonal exp, modReLU"] > 0.9
          and kept["indrnn, u ~ U(2^(-1/T), 2^(1/T))"] > 0.1, **kept)
    return save(fig, out_dir, "structural_gradient_norms")


def check_learning(adding, copy, deep):
    """The claims of notebook 04's sections 4-6, on the figure's own runs."""
    n = len(adding.seeds)
    below_add, below_copy = adding.below_half_baseline, copy.below_half_baseline
    check(f"adding, T = {adding.task.T}: the 2-layer indrnn leaves the baseline in all {n} "
          "seeds, the lstm (forget bias 1) in none",
          below_add("indrnn (2 layers)") == n and below_add("lstm") == 0,
          indrnn=adding.left_baseline("indrnn (2 layers)"), lstm_final=adding.final("lstm"))
    check(f"copy, T = {copy.task_options['T']}: both orthogonal parametrizations go below "
          f"half the baseline in all {n} seeds, the lstm in none",
          below_copy("orthogonal (exp)") == n and below_copy("orthogonal (cayley)") == n
          and below_copy("lstm") == 0, exp=copy.left_baseline("orthogonal (exp)"),
          cayley=copy.left_baseline("orthogonal (cayley)"), lstm_final=copy.final("lstm"))
    check("each cell on the other's task, same budgets: the orthogonal RNN (exp) does not "
          "leave the adding baseline in any seed, the 2-layer indrnn not the copy baseline",
          below_add("orthogonal (exp)") == 0 and below_copy("indrnn (2 layers)") == 0,
          orthogonal_on_adding=adding.final("orthogonal (exp)"),
          indrnn_on_copy=copy.final("indrnn (2 layers)"))
    check(f"adding, T = {deep.task.T}: the 6-layer indrnn, plain and residual, leaves the "
          f"baseline in all {n} seeds",
          all(deep.below_half_baseline(lb) == n for lb in deep.labels),
          **{lb: deep.left_baseline(lb) for lb in deep.labels})
    for res in (adding, copy, deep):
        measure(f"{res.task_text()}: median final {res.metric}",
                **{lb: res.median(lb) for lb in res.labels})


@figure("structural_learning_curves")
def structural_learning_figure(out_dir, full=False, seed=0):
    """The three comparisons of notebook 04 (median and min-max band over the seeds)."""
    fig, axes = pyplot().subplots(1, 3, figsize=(17, 5))
    results = [comparison(spec["variants"], spec["task"], spec["task_options"], spec["budget"],
                          full=full, seed=seed)
               for spec in (adding_experiment(full), copy_experiment(full), deep_experiment(full))]
    plot_comparisons(fig, axes, results, TITLES, note=PAPERS if full else PAPERS + QUICK)
    check_learning(*results)
    return save(fig, out_dir, "structural_learning_curves")
