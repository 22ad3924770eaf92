"""Figures of the unitary cells (urnn, eurnn): the gradient they carry back, the copy
task, the cost per step against N, and how much of U(N) each can reach.

The computations are functions of their own (``copy_comparison``, ``cost_per_step``,
``capacity_fits``) so notebook 05 runs exactly what the figures run, at its own sizes.
"""
from __future__ import annotations

import numpy as np

from .core import (caption, check, check_rerun, check_robust, comparison, figure, label_axes,
                   measure, plot_gradient_norms, pyplot, save, variant)

# gradient norms at initialization: (label, registry name, options, line style)
UNITARY = [
    variant("rnn (tanh)", "rnn"),
    variant("lstm (forget bias 1)", "lstm", {"forget_bias": 1.0}),
    # wide and pale: the three unitary lines coincide, and the eurnn's are drawn over it
    variant("urnn", "urnn", linewidth=6, alpha=0.35),
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


def copy_budget(steps=200, hidden=32, lr=0.01):
    """Adam, batch 32, clip 1, float32, an evaluation (200 sequences) every steps/10."""
    from .. import experiments as ex
    return ex.Budget(steps=steps, batch_size=32, lr=lr, optimizer="adam", clip=1.0,
                     hidden=hidden, dtype="float32", eval_every=max(steps // 10, 1),
                     eval_size=200)


def copy_comparison(T=50, steps=200, hidden=32, seeds=3, lr=0.01, workers=None,
                    progress=False):
    """LSTM, uRNN and EURNN on the copy task (the uRNN paper's definition) through the
    comparison harness, under :func:`copy_budget`."""
    from .. import experiments as ex
    return ex.compare(copy_variants(), task="copy", task_options={"T": T},
                      budget=copy_budget(steps, hidden, lr), seeds=seeds, workers=workers,
                      progress=progress)


def cost_per_step(Ns, batch=32, T=8, repeats=5, input_size=8):
    """CPU seconds per time step of forward + backward, float32, one BLAS thread, best of
    ``repeats`` (:func:`rnnzoo.experiments.time_interleaved`).
    Returns {label: array (len(Ns),)} for the cells of ``COST_CELLS``.

    Every (cell, N) takes its turn in every round, so the rounds spread each point's
    ``repeats`` tries over the whole measurement. Timed one N after another, a spell of
    load on a shared machine lands on one N alone: in one CI run it tripled the
    memory-bound unitary cells' time at the largest N (not the dense product's) and
    bent their slopes up by 0.2 to 0.3."""
    from ...core.registry import make
    from .. import experiments as ex
    x = np.random.default_rng(0).standard_normal((T, batch, input_size)).astype(np.float32)
    fns = {}
    for N in Ns:
        for label, (name, opts) in COST_CELLS.items():
            cell = make(name, input_size, N, seed=0, dtype=np.float32, **opts)

            def run(cell=cell):
                hs, _, cache = cell.forward(x)
                cell.backward(hs, cache)
            fns[label, N] = run
    best = ex.time_interleaved(fns, repeats=repeats, threads=1, clock="cpu")
    return {label: np.array([best[label, N] / T for N in Ns]) for label in COST_CELLS}


# The slopes are fitted on N >= FIT_FROM, the last three points of the default grid. Where
# the fit started at N = 256, the dense recurrence's slope was 1.97 on one 2-core machine and
# 1.49-1.54 on another (a newer NumPy and OpenBLAS), whose time at N = 256 was already
# nearly what N = 512 cost: below 512 the dense product's time still depends on the BLAS
# build, above it the arithmetic decides on both.
FIT_FROM = 512
# A dense (B, N) x (N, N) product runs at more FLOP/s as N grows, so its measured slope sits
# at or below the arithmetic's 2 (1.74 to 2.04 on N >= 512 in our runs, moving with the
# load): the claim asks for above 1.5, the midpoint between linear and quadratic on the
# log-log plot. The near-linear cells' slopes move too (0.79 to 1.55 in 41 runs on one 2-core
# machine, eurnn fft the most: its time at N = 2048 differs by up to 40 % from one process to
# the next), so they are asked to stay below 1.6 and below the dense recurrence's. A margin
# of 0.5 between the two, asked for once, contradicted those bounds: with the dense slope
# at most about 2, it left the near-linear cells 1.5, not 1.6, and it failed a notebook run
# under load (dense 1.74, eurnn tunable 1.28).
DENSE_SLOPE_ABOVE = 1.5
NEAR_LINEAR_BELOW = 1.6


def fitted_slopes(Ns, costs, fit_from=FIT_FROM):
    """The slope of log(cost) against log(N) over N >= fit_from, per label."""
    Ns = np.asarray(Ns)
    keep = Ns >= fit_from
    return {label: float(np.polyfit(np.log(Ns[keep]), np.log(c[keep]), 1)[0])
            for label, c in costs.items()}


def cost_claims(slopes, claim, Ns, fit_from=FIT_FROM):
    """What the cost figure shows (notebook 05 and the figure), on ``slopes`` as
    :func:`fitted_slopes` returns them for ``Ns`` and ``fit_from``."""
    Ns = np.asarray(Ns)
    fitted = Ns[Ns >= fit_from]
    # the slope an exact N log N cost would show over the same points: near-linear's mark
    nlogn = fitted_slopes(Ns, {"N log N": Ns * np.log(Ns)}, fit_from)["N log N"]
    dense = [label for label in slopes if label.startswith("dense")][0]
    unitary = {label: s for label, s in slopes.items() if label != dense}
    steepest = max(unitary.values())          # the check reads the fitted slopes, unrounded
    claim(f"the dense N x N recurrence's cost grows with slope above {DENSE_SLOPE_ABOVE} "
          "(O(N²))", slopes[dense] > DENSE_SLOPE_ABOVE, slope=slopes[dense])
    claim(f"urnn and both eurnn styles grow with slope below {NEAR_LINEAR_BELOW} (near-linear: "
          f"N log N gives {nlogn:.2f} over N = {fitted.min()} to {fitted.max()}) and below "
          "the dense recurrence's",
          steepest < NEAR_LINEAR_BELOW and steepest < slopes[dense],
          **{label.split(":")[0]: round(s, 2) for label, s in unitary.items()},
          dense=round(slopes[dense], 2))


def plot_cost(ax, Ns, costs, slopes, fit_from, batch):
    from ...training.plotting import cell_style
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


def capacity_fits(N=8, seeds=(0, 1, 2), maxiter=1500, cells=None):
    """Fit W to one Haar-random unitary N x N target on each cell's own parameters
    (:func:`rnnzoo.cells._unitary.fit_recurrent_matrix`, L-BFGS), from each of ``seeds``'
    initializations (an int n: seeds 0..n-1). ``cells``: the labels of
    :func:`capacity_cells` to fit (default all). Returns {label: list of error curves}."""
    from ...cells._unitary import fit_recurrent_matrix, random_unitary
    from ...core.registry import make
    target = random_unitary(N, seed=1)
    seeds = range(seeds) if isinstance(seeds, int) else seeds
    chosen = {k: v for k, v in capacity_cells(N).items() if cells is None or k in cells}
    return {label: [fit_recurrent_matrix(make(name, 1, N, seed=s, nonlinearity="identity",
                                              **opts), target, maxiter=maxiter)
                    for s in seeds]
            for label, (name, opts) in chosen.items()}


def capacity_cells(N):
    """{label: (registry name, options)}: the EURNN that can reach any unitary (L = N) and
    the uRNN, whose 7N parameters cannot span the N² dimensions of U(N)."""
    return {f"eurnn (tunable, L = N = {N}: N² = {N * N} angles)": ("eurnn", {"capacity": N}),
            f"urnn (7N = {7 * N} parameters)": ("urnn", {})}


def plot_capacity(ax, fits, N, maxiter):
    from ...training.plotting import cell_style
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
    T = 3000 if full else 1000
    fig, ax = pyplot().subplots(figsize=(8, 4.8))
    norms = plot_gradient_norms(ax, UNITARY, T, seed=seed, ylim=(1e-40, 1e2))
    gradient_claims(norms, check, T=T)
    return save(fig, out_dir, "unitary_gradient_norms")


def gradient_claims(norms, claim, *, T):
    """What the gradient-norm figure shows (notebook 05 and the figure), on ``norms``
    ({label: ||dL/dh_t||} of :data:`UNITARY`, as :func:`plot_gradient_norms` returns them)."""
    unitary = [label for label, name, _, _ in UNITARY if "urnn" in name]
    claim(f"the gradient norm of {', '.join(unitary)} stays within 10 % of 1 over {T} "
          "steps at initialization", all(np.abs(norms[k] - 1).max() < 0.1 for k in unitary),
          **{k: [float(norms[k].min()), float(norms[k].max())] for k in unitary})
    others = [label for label in norms if label not in unitary]
    claim(f"the gradient of {', '.join(others)} reaching step 1 is below 1e-10",
          all(norms[k][0] < 1e-10 for k in others), **{k: float(norms[k][0]) for k in others})


def copy_claims(res, T, robust_claim):
    """The copy panel's claims (notebook 05 and the figure), with the figure's
    ``check_robust`` or the notebook's ``ex.robust_claim``. At 200 steps the LSTM has not
    yet come down to the memoryless baseline (it ends above it), so "it does not get
    below" says little there: the ``--robust`` re-run at 4x the steps on seeds 10-12, where
    it has come down, is the test. The unitary cells' "every seed" is checked on seeds
    10-12 at the same budget."""
    lstm, urnn, eurnn = (v.label for v in copy_variants())
    robust_claim(f"copy, T = {T}: no seed of the {lstm} ends below 0.9 x the memoryless "
                 "baseline", res, lambda r: bool((r.final(lstm) >= 0.9 * r.baseline).all()),
                 labels=[lstm], numbers=lambda r: {
                     "final_over_baseline": r.final(lstm) / r.baseline,
                     "seeds_solved": r.solved(lstm)})
    for label in (urnn, eurnn):
        robust_claim(f"copy, T = {T}: {label} gets below half the baseline in every seed and "
                     "ends below a tenth of it", res,
                     lambda r, lb=label: None not in r.left_baseline(lb)
                     and bool((r.final(lb) < 0.1 * r.baseline).all()),
                     labels=[label], negative=False)


@figure("unitary_copy_task")
def unitary_copy_figure(out_dir, full=False, seed=0):
    """LSTM against uRNN and EURNN on the copy task, median and spread over seeds."""
    plt = pyplot()
    settings = [(100, 1000), (200, 1000)] if full else [(50, 200)]
    fig, axes = plt.subplots(1, len(settings), figsize=(7.5 * len(settings), 4.8),
                             squeeze=False)
    lstm, urnn, eurnn = (v.label for v in copy_variants())
    texts = []
    for ax, (T, steps) in zip(axes[0], settings):
        res = comparison(copy_variants(), "copy", {"T": T}, copy_budget(steps), full=full,
                         seed=seed)
        res.plot(ax, title=f"copy task, T = {T}")
        ax.set_ylim(1e-4, None)
        texts.append(res.caption())
        if not full:
            copy_claims(res, T, check_robust)
        measure(f"copy, T = {T}: seeds that end solved ({res.success.describe()}), of "
                f"{len(res.seeds)}", **{k: res.solved(k) for k in res.labels})
        measure(f"copy, T = {T}: the step each seed left the baseline (None: never)",
                **{k: res.left_baseline(k) for k in res.labels})
    fig.tight_layout()
    caption(fig, "\n".join(texts))
    return save(fig, out_dir, "unitary_copy_task")


@figure("unitary_cost_per_step")
def unitary_cost_figure(out_dir, full=False, seed=0):
    """Cost per step against N on a log-log plot with the fitted slopes."""
    Ns = [2 ** k for k in range(5, 13 if full else 12)]
    fit_from = FIT_FROM
    costs = cost_per_step(Ns, repeats=7 if full else 5)
    slopes = fitted_slopes(Ns, costs, fit_from)
    fig, ax = pyplot().subplots(figsize=(8, 5))
    plot_cost(ax, Ns, costs, slopes, fit_from, 32)
    cost_claims(slopes, check, Ns, fit_from)
    return save(fig, out_dir, "unitary_cost_per_step")


@figure("unitary_capacity")
def unitary_capacity_figure(out_dir, full=False, seed=0):
    """EURNN (L = N) reaches a random unitary matrix; the uRNN's 7N parameters cannot."""
    N, maxiter = (16, 5000) if full else (8, 1500)
    first = [seed, seed + 1, seed + 2]
    fits = capacity_fits(N, seeds=first, maxiter=maxiter)
    fig, ax = pyplot().subplots(figsize=(8, 4.8))
    plot_capacity(ax, fits, N, maxiter)
    (e_label, e_fits), (u_label, u_fits) = fits.items()
    e_final, u_final = [e[-1] for e in e_fits], [e[-1] for e in u_fits]
    check(f"N = {N}: the tunable eurnn with L = N fits the random unitary target to "
          "relative error below 1e-3 from all 3 initializations",
          max(e_final) < 1e-3, final_errors=e_final)
    # a claim that a cell cannot: re-run at 4x the iterations from new initializations
    again = [s + 10 for s in first]

    def rerun():
        errors = [e[-1] for e in capacity_fits(N, again, 4 * maxiter, cells=[u_label])[u_label]]
        return min(errors) > 0.05, {"final_errors": errors}
    check_rerun(f"N = {N}: the urnn ({7 * N} parameters < N² = {N * N}) stays above 5 % error",
                min(u_final) > 0.05, {"final_errors": u_final}, rerun, factor=4, seeds=again,
                first_seeds=first, spec={"steps": 4 * maxiter, "text": (
                    f"{u_label} fitted to the random unitary (seed 1), N = {N}, L-BFGS at most "
                    f"{4 * maxiter} iterations, initializations {again}")})
    return save(fig, out_dir, "unitary_capacity")
