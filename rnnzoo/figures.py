"""The teaching figures in figures/, each produced from code and a seed.

``python -m rnnzoo figures`` runs every function registered here with ``@figure``;
``--full`` runs the papers' lengths instead of the quick defaults. Each function takes
(out_dir, full, seed), draws one PNG and returns its path. The PNGs carry no timestamp,
so a rerun with the same seed rewrites identical files.
"""
from __future__ import annotations

import pathlib

import numpy as np

from . import diagnostics
from .model import build_model
from .registry import make

FIGURES: dict = {}

# The variants drawn in the first figures: (label, registry name, options, line style).
# Later figures reuse the same styles so a cell looks the same everywhere.
BASELINES = [
    ("rnn (tanh)", "rnn", {}, dict(color="tab:red")),
    ("rnn (relu, identity init: IRNN)", "rnn", {"nonlinearity": "relu", "identity_init": True},
     dict(color="tab:orange")),
    ("gru", "gru", {}, dict(color="tab:green")),
    ("lstm", "lstm", {}, dict(color="tab:blue")),
    ("lstm, forget bias 3", "lstm", {"forget_bias": 3.0}, dict(color="tab:blue", linestyle="--")),
]


def figure(name):
    """Register a figure function under the PNG's file stem."""
    def decorate(fn):
        FIGURES[name] = fn
        return fn
    return decorate


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")          # files only; no display needed (CI, servers)
    import matplotlib.pyplot as plt
    return plt


def _save(fig, out_dir, name):
    path = pathlib.Path(out_dir) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
    _pyplot().close(fig)
    return path


def plot_gradient_norms(ax, variants, T, *, input_size=4, hidden=64, seed=0):
    """On ``ax``: ||dL/dh_t|| against t for each (label, name, options, style) variant,
    loss on the last step only, log scale."""
    for label, name, opts, style in variants:
        cell = make(name, input_size, hidden, seed=seed, **opts)
        norms = diagnostics.gradient_norm_over_time(cell, T, batch=16, seed=seed)
        ax.semilogy(np.arange(1, T + 1), norms, label=label, **style)
    _label_axes(ax, "time step t (the loss is at t = T)", r"$\|\partial L / \partial h_t\|$",
                f"Gradient reaching each step at initialization (T = {T}, H = {hidden})",
                (1e-40, 1e2), "lower right")


def plot_jacobian_spectra(ax, variants, T, last, *, input_size=4, hidden=64, seed=0):
    """On ``ax``: the sorted singular values of ∂s_t/∂s_{t-1}, averaged over the last
    ``last`` of T steps of a random trajectory, for each variant."""
    for label, name, opts, style in variants:
        cell = make(name, input_size, hidden, seed=seed, **opts)
        sv = diagnostics.jacobian_singular_values(cell, T, seed=seed, steps=range(T - last, T))
        mean_sv = sv.mean(axis=0)                        # sorted, averaged over steps
        rank = (np.arange(mean_sv.size) + 0.5) / mean_sv.size
        ax.semilogy(rank, mean_sv, label=f"{label} (S = {mean_sv.size})", **style)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.text(0.01, 1.15, "norm-preserving: every singular value = 1", fontsize=8)
    _label_axes(ax, "singular value rank (fraction of the state size S)",
                r"singular value of $\partial s_t / \partial s_{t-1}$",
                f"Step Jacobian spectrum, averaged over {last} steps (H = {hidden})",
                (1e-4, 3), "lower left")


def _label_axes(ax, xlabel, ylabel, title, ylim, legend_loc):
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_ylim(*ylim)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc=legend_loc, fontsize=9)


@figure("gradient_norm_over_time")
def gradient_norm_figure(out_dir, full=False, seed=0):
    """||dL/dh_t|| against t, loss on the last step only, for the baseline cells."""
    fig, ax = _pyplot().subplots(figsize=(8, 4.8))
    plot_gradient_norms(ax, BASELINES, 1000 if full else 300, seed=seed)
    return _save(fig, out_dir, "gradient_norm_over_time")


@figure("jacobian_singular_values")
def jacobian_figure(out_dir, full=False, seed=0):
    """Singular values of the step Jacobian ∂s_t/∂s_{t-1} along a random trajectory."""
    fig, ax = _pyplot().subplots(figsize=(8, 4.8))
    T, last = (100, 50) if full else (40, 20)
    plot_jacobian_spectra(ax, BASELINES, T, last, seed=seed)
    return _save(fig, out_dir, "jacobian_singular_values")


# ---------------------------------------------------------------- training (issue 3)
@figure("long_memory_tasks")
def long_memory_figure(out_dir, full=False, seed=0):
    """rnn, lstm and gru learning the adding problem and the copy task, against each
    task's memoryless baseline."""
    plt = _pyplot()
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
    return _save(fig, out_dir, "long_memory_tasks")


# ---------------------------------------------------------------- gates (issue 4)
GATED = [
    ("gru", "gru", {}, dict(color="tab:green")),
    ("mgu", "mgu", {}, dict(color="tab:olive")),
    ("lstm", "lstm", {}, dict(color="tab:blue")),
    ("janet (chrono init)", "janet", {}, dict(color="tab:purple")),
    ("janet (b_f = 1)", "janet", {"chrono_init": False}, dict(color="tab:purple",
                                                             linestyle="--")),
]


@figure("gated_gradient_norms")
def gated_gradient_norm_figure(out_dir, full=False, seed=0):
    """||dL/dh_t|| for GRU, MGU, LSTM and JANET with and without chrono init."""
    T = 1000 if full else 300
    variants = [(label, name, dict(opts, t_max=T) if name == "janet" and opts == {} else opts,
                 style) for label, name, opts, style in GATED]
    fig, ax = _pyplot().subplots(figsize=(8, 4.8))
    plot_gradient_norms(ax, variants, T, seed=seed)
    ax.set_ylim(1e-30, 1e2)
    return _save(fig, out_dir, "gated_gradient_norms")


_RUNS: dict = {}     # training runs shared by the figures of one command


def training_run(task_name, cell, options, *, T=None, hidden=64, steps=600, lr=0.01,
                 seed=0, label=None):
    """Train a one-layer ``cell`` on a task (float32, Adam, clip 1, batch 32) and return
    its History. Identical runs asked for by two figures are trained once."""
    from threadpoolctl import threadpool_limits

    from .tasks import make_task
    from .training import train
    key = (task_name, T, cell, tuple(sorted(options.items())), hidden, steps, lr, seed)
    if key not in _RUNS:
        task = make_task(task_name, T=T, seed=seed)
        model = build_model(cell, task.input_size, hidden, task.output_size,
                            readout=task.readout, seed=seed, dtype=np.float32, **options)
        # one BLAS thread: the products are small (so it is faster), and a fixed
        # summation order keeps the float32 runs, and so the PNGs, reproducible
        with threadpool_limits(1):
            _RUNS[key] = train(model, task, steps=steps, batch_size=32, lr=lr, clip=1.0,
                               eval_every=max(steps // 15, 1), seed=seed, progress=False,
                               label=label or cell)
    return _RUNS[key]


def _plot_runs(ax, histories, styles, kind, title):
    from .plotting import plot_history
    plot_history(histories, ax=ax, kind=kind, train=False, styles=styles, title=title,
                 log=kind == "loss")
    ax.grid(True, alpha=0.3)


@figure("gated_learning_curves")
def gated_learning_figure(out_dir, full=False, seed=0):
    """MGU vs GRU and JANET vs LSTM at equal hidden size: adding problem and digits."""
    plt = _pyplot()
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
    return _save(fig, out_dir, "gated_learning_curves")


def make_figures(names=None, out_dir="figures", full=False, seed=0, progress=True):
    """Draw the named figures (default: all) into ``out_dir``; returns their paths."""
    names = list(FIGURES) if not names else list(names)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure(s) {unknown}; available: {', '.join(FIGURES)}")
    from tqdm.auto import tqdm
    paths = []
    bar = tqdm(names, desc="figures", unit="fig", disable=not progress)
    for name in bar:
        bar.set_postfix_str(name)
        paths.append(FIGURES[name](out_dir, full=full, seed=seed))
    return paths
