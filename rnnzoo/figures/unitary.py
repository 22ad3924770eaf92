"""Figures of the unitary cells (urnn, eurnn): the gradient they carry back, the copy
task, the cost per step against N, and how much of U(N) each can reach.

The computations are functions of their own (``copy_comparison``, ``cost_per_step``,
``capacity_fits``) so notebook 05 runs exactly what the figures run, at its own sizes.
"""
from __future__ import annotations

import numpy as np

from .core import figure, label_axes, plot_gradient_norms, pyplot, save, variant

# gradient norms at initialization: (label, registry name, options, line style)
UNITARY = [
    variant("rnn (tanh)", "rnn"),
    variant("lstm (forget bias 1)", "lstm", {"forget_bias": 1.0}),
    variant("urnn", "urnn"),
    variant("eurnn (tunable, L = 2)", "eurnn"),
    variant("eurnn (fft)", "eurnn", {"style": "fft"}, linestyle="--"),
]

# cost per step: label -> (registry name, options)
COST_CELLS = {
    "urnn: O(N log N)": ("urnn", {}),
    "eurnn tunable, L = 4: O(N L)": ("eurnn", {"capacity": 4}),
    "eurnn fft: O(N log N)": ("eurnn", {"style": "fft"}),
    "dense N x N recurrence (rnn): O(N²)": ("rnn", {}),
}


def copy_variants():
    from .. import experiments as ex
    return [ex.Variant("lstm", {"forget_bias": 1.0}, label="lstm (forget bias 1)"),
            ex.Variant("urnn", label="urnn"),
            ex.Variant("eurnn", label="eurnn (tunable, L = 2)")]


def copy_comparison(T=50, steps=200, hidden=32, seeds=3, lr=0.01, workers=None,
                    progress=False):
    """LSTM, uRNN and EURNN on the copy task (the uRNN paper's definition) through the
    comparison harness: Adam, batch 32, clip 1, float32, an evaluation every steps/10."""
    from .. import experiments as ex
    budget = ex.Budget(steps=steps, batch_size=32, lr=lr, optimizer="adam", clip=1.0,
                       hidden=hidden, dtype="float32", eval_every=max(steps // 10, 1),
                       eval_size=200)
    return ex.compare(copy_variants(), task="copy", task_options={"T": T}, budget=budget,
                      seeds=seeds, workers=workers, progress=progress)


def cost_per_step(Ns, batch=32, T=8, repeats=5, input_size=8):
    """Seconds per time step of forward + backward, float32, one BLAS thread, best of
    ``repeats`` with the cells taking turns (:func:`rnnzoo.experiments.time_interleaved`).
    Returns {label: array (len(Ns),)} for the cells of ``COST_CELLS``."""
    from threadpoolctl import threadpool_limits

    from .. import experiments as ex
    from ..registry import make
    x = np.random.default_rng(0).standard_normal((T, batch, input_size)).astype(np.float32)
    costs = {label: [] for label in COST_CELLS}
    with threadpool_limits(1):
        for N in Ns:
            fns = {}
            for label, (name, opts) in COST_CELLS.items():
                cell = make(name, input_size, N, seed=0, dtype=np.float32, **opts)

                def run(cell=cell):
                    hs, _, cache = cell.forward(x)
                    cell.backward(hs, cache)
                fns[label] = run
            best = ex.time_interleaved(fns, repeats=repeats)
            for label in COST_CELLS:
                costs[label].append(best[label] / T)
    return {label: np.array(v) for label, v in costs.items()}


def fitted_slopes(Ns, costs, fit_from):
    """The slope of log(cost) against log(N) over N >= fit_from, per label."""
    Ns = np.asarray(Ns)
    keep = Ns >= fit_from
    return {label: float(np.polyfit(np.log(Ns[keep]), np.log(c[keep]), 1)[0])
            for label, c in costs.items()}


def plot_cost(ax, Ns, costs, slopes, fit_from, batch):
    from ..plotting import cell_style
    for label, c in costs.items():
        name, opts = COST_CELLS[label]
        style = cell_style(name)
        if opts.get("style") == "fft":
            style["linestyle"] = "--"
        ax.loglog(Ns, c * 1e3, marker="o", label=f"{label}   slope {slopes[label]:.2f}", **style)
    ax.axvspan(fit_from, max(Ns), color="0.9", zorder=0)
    label_axes(ax, "hidden size N", "ms per time step (forward + backward)",
               f"Cost per step, batch {batch}, float32, 1 thread (slopes fitted on "
               f"the shaded N >= {fit_from})", (None, None), "upper left")


def capacity_fits(N=8, seeds=3, maxiter=1500):
    """Fit W to one Haar-random unitary N x N target on each cell's own parameters
    (:func:`rnnzoo.cells._unitary.fit_recurrent_matrix`, L-BFGS), from ``seeds``
    initializations. Returns {label: list of error curves}."""
    from ..cells._unitary import fit_recurrent_matrix, random_unitary
    from ..registry import make
    target = random_unitary(N, seed=1)
    cells = {f"eurnn (tunable, L = N = {N}: N² = {N * N} angles)": ("eurnn", {"capacity": N}),
             f"urnn (7N = {7 * N} parameters)": ("urnn", {})}
    return {label: [fit_recurrent_matrix(make(name, 1, N, seed=s, nonlinearity="identity",
                                              **opts), target, maxiter=maxiter)
                    for s in range(seeds)]
            for label, (name, opts) in cells.items()}


def plot_capacity(ax, fits, N, maxiter):
    from ..plotting import cell_style
    for label, curves in fits.items():
        style = cell_style(label.split()[0])
        for k, e in enumerate(curves):
            ax.semilogy(e, lw=1.2, label=label if k == 0 else None, **style)
    label_axes(ax, "loss evaluations (L-BFGS, gradient from the cell's backward)",
               r"$\|W - U\|_F / \|U\|_F$",
               f"Fitting W to a random unitary U, N = {N} ({len(curves)} seeds, "
               f"at most {maxiter} iterations)", (1e-9, 3), "lower left")


# ---------------------------------------------------------------- the figures
@figure("unitary_gradient_norms")
def unitary_gradient_norm_figure(out_dir, full=False, seed=0):
    """||dL/dh_t|| over 1000 steps at initialization: flat for urnn and eurnn."""
    fig, ax = pyplot().subplots(figsize=(8, 4.8))
    plot_gradient_norms(ax, UNITARY, 3000 if full else 1000, seed=seed, ylim=(1e-40, 1e2))
    return save(fig, out_dir, "unitary_gradient_norms")


@figure("unitary_copy_task")
def unitary_copy_figure(out_dir, full=False, seed=0):
    """LSTM against uRNN and EURNN on the copy task, 3 seeds each."""
    plt = pyplot()
    settings = [(100, 1000), (200, 1000)] if full else [(50, 200)]
    fig, axes = plt.subplots(1, len(settings), figsize=(7.5 * len(settings), 4.8),
                             squeeze=False)
    for ax, (T, steps) in zip(axes[0], settings):
        res = copy_comparison(T=T, steps=steps, seeds=[seed, seed + 1, seed + 2])
        res.plot(ax, title=f"copy task, T = {T}")
        ax.set_ylim(1e-4, None)
        ax.text(0.0, -0.16, res.caption(), transform=ax.transAxes, fontsize=7, va="top")
    fig.tight_layout()
    return save(fig, out_dir, "unitary_copy_task")


@figure("unitary_cost_per_step")
def unitary_cost_figure(out_dir, full=False, seed=0):
    """Cost per step against N on a log-log plot with the fitted slopes."""
    Ns = [2 ** k for k in range(5, 13 if full else 12)]
    fit_from = 256
    costs = cost_per_step(Ns, repeats=7 if full else 5)
    fig, ax = pyplot().subplots(figsize=(8, 5))
    plot_cost(ax, Ns, costs, fitted_slopes(Ns, costs, fit_from), fit_from, 32)
    return save(fig, out_dir, "unitary_cost_per_step")


@figure("unitary_capacity")
def unitary_capacity_figure(out_dir, full=False, seed=0):
    """EURNN (L = N) reaches a random unitary matrix; the uRNN's 7N parameters cannot."""
    N, maxiter = (16, 5000) if full else (8, 1500)
    fits = capacity_fits(N, seeds=3, maxiter=maxiter)
    fig, ax = pyplot().subplots(figsize=(8, 4.8))
    plot_capacity(ax, fits, N, maxiter)
    return save(fig, out_dir, "unitary_capacity")
