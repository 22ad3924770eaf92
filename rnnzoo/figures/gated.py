"""Figures of the gated cells with fewer gates (MGU against GRU, JANET against LSTM)."""
from __future__ import annotations

from .core import _plot_runs, figure, training_run, plot_gradient_norms, pyplot, save, variant

GATED = [
    variant("gru", "gru"),
    variant("mgu", "mgu"),
    variant("lstm", "lstm"),
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
    plot_gradient_norms(ax, variants, T, seed=seed, ylim=(1e-30, 1e2))
    return save(fig, out_dir, "gated_gradient_norms")


@figure("gated_learning_curves")
def gated_learning_figure(out_dir, full=False, seed=0):
    """MGU vs GRU and JANET vs LSTM at equal hidden size: adding problem and digits."""
    plt = pyplot()
    T_add, steps = (200, 3000) if full else (100, 600)
    hidden = 64
    styles = {label: style for label, _, _, style in GATED}
    pairs = [[("gru", "gru", {}), ("mgu", "mgu", {})],
             [("lstm", "lstm", {}), ("janet (chrono init)", "janet", {"t_max": T_add})]]
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    for col, pair in enumerate(pairs):
        adding = [training_run("adding", name, opts, T=T_add, hidden=hidden, steps=steps,
                               seed=seed, label=label) for label, name, opts in pair]
        _plot_runs(axes[0, col], adding, styles, "loss",
                   f"adding problem, T = {T_add}: {pair[1][0]} vs {pair[0][0]}")
        digit_pair = [(label, name, {"t_max": 64} if name == "janet" else opts)
                      for label, name, opts in pair]
        digits = [training_run("digits", name, opts, hidden=hidden, steps=steps, seed=seed,
                               label=label) for label, name, opts in digit_pair]
        _plot_runs(axes[1, col], digits, styles, "accuracy",
                   f"pixel-by-pixel digits (T = 64): {pair[1][0]} vs {pair[0][0]}")
        axes[1, col].set_ylim(0, 1)
        axes[1, col].axhline(0.1, ls="--", color="0.4", lw=1)
        axes[1, col].annotate("chance 0.1", (0.01, 0.1), xycoords=("axes fraction", "data"),
                              va="bottom", fontsize=8, color="0.3")
    fig.suptitle(f"Fewer gates, equal hidden size H = {hidden} (Adam 0.01, batch 32, "
                 f"{steps} steps, seed {seed})")
    fig.tight_layout()
    return save(fig, out_dir, "gated_learning_curves")
