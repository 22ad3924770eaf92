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
    ax.set_xlabel("time step t (the loss is at t = T)")
    ax.set_ylabel(r"$\|\partial L / \partial h_t\|$")
    ax.set_title(f"Gradient reaching each step at initialization (T = {T}, H = {hidden})")
    ax.set_ylim(1e-40, 1e2)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="lower right", fontsize=9)


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
    ax.set_xlabel("singular value rank (fraction of the state size S)")
    ax.set_ylabel(r"singular value of $\partial s_t / \partial s_{t-1}$")
    ax.set_title(f"Step Jacobian spectrum, averaged over {last} steps (H = {hidden})")
    ax.set_ylim(1e-4, 3)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="lower left", fontsize=9)


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
