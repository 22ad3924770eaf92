"""Figures of the gated cells with fewer gates (MGU against GRU, JANET against LSTM)."""
from __future__ import annotations

from ..experiments import Budget, Variant
from ...training.plotting import legend_outside
from .core import (caption, check, comparison, figure, gradient_norms, kept_fraction, measure,
                   plot_gradient_norms, pyplot, save, variant)
from .training import adding_runs

GATED = [
    variant("gru", "gru"),
    variant("mgu", "mgu"),
    variant("lstm (forget bias 0)", "lstm", {"forget_bias": 0.0}),    # PyTorch's init
    variant("janet (chrono init)", "janet"),
    variant("janet (b_f = 1)", "janet", {"chrono_init": False}, linestyle="--"),
]


@figure("gated_gradient_norms")
def gated_gradient_norm_figure(out_dir, full=False, seed=0):
    """||dL/dh_t|| for GRU, MGU, LSTM and JANET with and without chrono init."""
    T = 1000 if full else 300
    variants = [(label, name, dict(opts, t_max=T) if name == "janet" and opts == {} else opts,
                 style) for label, name, opts, style in GATED]
    fig, ax = pyplot().subplots(figsize=(8, 4.8))
    norms = plot_gradient_norms(ax, variants, T, seed=seed, ylim=(1e-30, 1e2))
    other = gradient_norms(variants, T, seed=seed + 10)     # the claims' second seed
    # janet with b_f = 1 is the one cell whose curve changes with the seed: draw both
    label, *_, style = GATED[-1]
    ax.semilogy(range(1, T + 1), other[label], lw=1, label=f"{label}, seed {seed + 10}",
                **{**style, "linestyle": ":"})
    legend_outside(ax, fontsize=9)
    kept = kept_fraction(variants, T, [seed, seed + 10],
                         computed={seed: norms, seed + 10: other})
    gone = {k: kept[k] for k in ("gru", "mgu", "lstm (forget bias 0)")}
    check(f"the gru, the mgu and the lstm (forget bias 0) pass less than 1e-40 of the gradient "
          f"at the loss back to step 1 of {T}, on seeds {seed} and {seed + 10}",
          max(max(v) for v in gone.values()) < 1e-40, **gone)
    chrono = kept["janet (chrono init)"]
    check(f"janet with chrono init passes more than half of it back to step 1, on seeds {seed} "
          f"and {seed + 10}", min(chrono) > 0.5, janet_chrono=chrono)
    measure("janet with b_f = 1: the fraction that reaches step 1 (it depends on the seed)",
            janet_b_f_1=kept["janet (b_f = 1)"])
    return save(fig, out_dir, "gated_gradient_norms")


def digits_runs(full, seed):
    """gru, mgu, lstm (forget bias 1) and janet (chrono init over 64 steps) on
    pixel-by-pixel digits: the JANET paper's claim is about pixel-by-pixel MNIST."""
    variants = [Variant(name) for name in ("gru", "mgu", "lstm", "janet")]
    return comparison(variants, "digits", {}, Budget(steps=2000 if full else 800, hidden=64),
                      full=full, seed=seed)


@figure("gated_learning_curves")
def gated_learning_figure(out_dir, full=False, seed=0):
    """MGU vs GRU and JANET vs LSTM at equal hidden size, fairly initialized: the adding
    problem and pixel-by-pixel digits, median and spread over seeds."""
    plt = pyplot()
    adding, digits = adding_runs(full, seed), digits_runs(full, seed)
    pairs = [["gru", "mgu"], ["lstm", "janet"]]
    fig, axes = plt.subplots(2, 2, figsize=(11.5, 7.8))
    for col, pair in enumerate(pairs):
        adding.subset(pair).plot(axes[0, col], title=f"adding problem, T = {adding.task.T}: "
                                 f"{pair[1]} vs {pair[0]}")
        part = digits.subset(pair)
        part.plot(axes[1, col], kind="accuracy",
                  title=f"pixel-by-pixel digits (T = 64): {pair[1]} vs {pair[0]}")
    fig.suptitle(f"Fewer gates at equal hidden size: median of {len(adding.seeds)} seeds, "
                 "band: min to max")
    fig.tight_layout()
    caption(fig, "Top: " + adding.subset(["gru", "mgu", "lstm", "janet"]).caption()
            + "\nBottom: " + digits.caption())
    first = sum(j is not None and (lb is None or j < lb) for j, lb in
                zip(adding.left_baseline("janet"), adding.left_baseline("lstm")))
    check(f"adding, T = {adding.task.T}: janet leaves the baseline before the lstm (forget "
          f"bias 1) in at least {len(adding.seeds) - 1} of {len(adding.seeds)} seeds",
          first >= len(adding.seeds) - 1, janet=adding.left_baseline("janet"),
          lstm=adding.left_baseline("lstm"))
    measure(f"adding, T = {adding.task.T}: the mgu's median final MSE over the gru's",
            ratio=float(adding.median("mgu") / adding.median("gru")))
    measure("digits: median final accuracy of each cell",
            **{k: digits.median(k, "accuracy") for k in digits.labels})
    return save(fig, out_dir, "gated_learning_curves")
