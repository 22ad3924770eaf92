"""Figures of the baseline cells (rnn, IRNN, lstm, gru): where the gradient vanishes."""
from __future__ import annotations

from .core import _plot_runs, figure, training_run, plot_gradient_norms, plot_jacobian_spectra, pyplot, save, variant

# The variants drawn in the first figures: (label, registry name, options, line style).
BASELINES = [
    variant("rnn (tanh)", "rnn"),
    variant("rnn (relu, identity init: IRNN)", "rnn",
            {"nonlinearity": "relu", "identity_init": True}, linestyle="--"),
    variant("gru", "gru"),
    variant("lstm", "lstm"),
    variant("lstm, forget bias 3", "lstm", {"forget_bias": 3.0}, linestyle="--"),
]


@figure("gradient_norm_over_time")
def gradient_norm_figure(out_dir, full=False, seed=0):
    """||dL/dh_t|| against t, loss on the last step only, for the baseline cells."""
    fig, ax = pyplot().subplots(figsize=(8, 4.8))
    plot_gradient_norms(ax, BASELINES, 1000 if full else 300, seed=seed)
    return save(fig, out_dir, "gradient_norm_over_time")


@figure("jacobian_singular_values")
def jacobian_figure(out_dir, full=False, seed=0):
    """Singular values of the step Jacobian ∂s_t/∂s_{t-1} along a random trajectory."""
    fig, ax = pyplot().subplots(figsize=(8, 4.8))
    T, last = (100, 50) if full else (40, 20)
    plot_jacobian_spectra(ax, BASELINES, T, last, seed=seed)
    return save(fig, out_dir, "jacobian_singular_values")


@figure("long_memory_tasks")
def long_memory_figure(out_dir, full=False, seed=0):
    """rnn, lstm and gru learning the adding problem and the copy task, against each
    task's memoryless baseline."""
    plt = pyplot()
    (T_add, add_steps), (T_copy, copy_steps) = (((200, 3000), (50, 4000)) if full
                                                else ((100, 600), (20, 800)))
    styles = {label: style for label, _, _, style in BASELINES}
    cells = [("rnn (tanh)", "rnn"), ("lstm", "lstm"), ("gru", "gru")]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    adding = [training_run("adding", name, {}, T=T_add, steps=add_steps, seed=seed,
                           label=label) for label, name in cells]
    _plot_runs(axes[0], adding, styles, "loss", f"adding problem, T = {T_add}")
    copy = [training_run("copy", name, {}, T=T_copy, steps=copy_steps, seed=seed,
                         label=label) for label, name in cells]
    _plot_runs(axes[1], copy, styles, "loss", f"copy memory, T = {T_copy}")
    fig.suptitle("Which baseline cell learns a long memory? (H = 64, Adam 0.01, batch 32, "
                 f"seed {seed}; dashed: the memoryless baseline)")
    fig.tight_layout()
    return save(fig, out_dir, "long_memory_tasks")
