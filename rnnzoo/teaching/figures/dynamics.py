"""Figures of the recurrences designed as dynamical systems (issue 24): AntisymmetricRNN,
the Lipschitz RNN, coRNN, UnICORNN and the LMU, beside the tanh RNN and the LSTM. The
step Jacobian's eigenvalues at initialization, the gradient over 1,000 steps, coRNN's
energy bound, UnICORNN's backward that runs the dynamics backwards (and the memory it
saves), the window the LMU's memory holds, and permuted digits for all seven, at 64 steps
and at 196 (the digits resized to 14x14).

The experiments are defined here once and used by both the figures and notebook 12, so
the two always run the same computations.
"""
from __future__ import annotations

import numpy as np

from .. import experiments as ex
from ...core import diagnostics
from ...core.registry import make
from .core import (caption, check, check_rerun, check_robust, comparison, figure,
                   gradient_norms, measure, pyplot, save, variant)
# the memory experiments live beside this module; notebook 12 reads them from here
from .dynamics_memory import (lmu_claims, lmu_windows, plot_lmu, plot_unicornn,
                              unicornn_claims, unicornn_memory, unicornn_reconstruction)

ODE_CELLS = ("antisymmetric", "lipschitz", "cornn", "unicornn", "lmu")
RNN, LSTM = "rnn (tanh)", "lstm (forget bias 1)"
# line styles for the gradient panel, where the kept fractions of three cells lie within
# a factor 1.5 of each other on an axis 40 decades tall: solid, the later one hid the others
ODE_LINES = {"antisymmetric": "--", "lipschitz": ":", "unicornn": "-."}
AT_INIT = [variant(RNN, "rnn"), variant(LSTM, "lstm", {"forget_bias": 1.0})] \
    + [variant(name, name, **({"linestyle": ODE_LINES[name]} if name in ODE_LINES else {}))
       for name in ODE_CELLS]
NEAR_CIRCLE = ("antisymmetric", "lipschitz", "unicornn")   # |λ| = 1 up to O(ε), by design
KEEPERS = ("antisymmetric", "lipschitz", "cornn", "unicornn")


# ----------------------------------------------------------------- the step Jacobian
def step_spectra(hidden=32, T=20, seed=0):
    """{label: eigenvalues of ∂s_t/∂s_{t-1}} of every ``AT_INIT`` cell at initialization,
    at the last step of a random T-step trajectory, float64 (s the whole state: (h, c),
    (y, z), (h, m))."""
    out = {}
    for label, name, opts, _ in AT_INIT:
        cell = make(name, 4, hidden, seed=seed, dtype=np.float64, **opts)
        J = diagnostics.step_jacobians(cell, T, seed=seed, steps=[T - 1])[0]
        out[label] = np.linalg.eigvals(J)
    return out


def plot_spectra(axes, spectra):
    """One small complex plane per cell, the unit circle drawn."""
    from ...training.plotting import cell_style
    circle = np.exp(2j * np.pi * np.linspace(0, 1, 400))
    for ax, (label, ev) in zip(axes, spectra.items()):
        ax.plot(circle.real, circle.imag, color="0.6", lw=0.8)
        ax.scatter(ev.real, ev.imag, s=9, **cell_style(label.split()[0]))
        ax.set_title(f"{label}\n|λ| from {np.abs(ev).min():.4f} to {np.abs(ev).max():.4f}",
                     fontsize=8)
        ax.set_aspect("equal")
        ax.set_xlim(-1.15, 1.15)
        ax.set_ylim(-1.15, 1.15)
        ax.set_xlabel("Re λ", fontsize=7, labelpad=1)
        ax.set_ylabel("Im λ", fontsize=7, labelpad=1)
        ax.tick_params(labelsize=7)
    if len(axes) > len(spectra):
        plot_zoom(axes[len(spectra)], spectra)


def plot_zoom(ax, spectra, labels=("antisymmetric", "lipschitz")):
    """The eigenvalues of the small-ε Euler steps, which sit in a dot at 1 on the full
    plane, magnified around 1 with the unit circle's arc."""
    from matplotlib.ticker import MaxNLocator

    from ...training.plotting import cell_style
    ev = np.concatenate([spectra[lb] for lb in labels])
    r = 1.3 * max(np.abs(ev - 1).max(), 1e-4)
    arc = np.exp(1j * np.linspace(-2 * r, 2 * r, 400))
    ax.plot(arc.real, arc.imag, color="0.6", lw=0.8, label="unit circle")
    for lb in labels:
        ax.scatter(spectra[lb].real, spectra[lb].imag, s=9, label=lb, **cell_style(lb))
    ax.set_xlim(1 - r, 1 + r)
    ax.set_ylim(-r, r)
    ax.set_aspect("equal")
    ax.set_title("antisymmetric and lipschitz,\nmagnified around 1", fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(3))
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=6)


def spectra_claims(spectra, claim=check):
    off = {lb: float(np.abs(np.abs(spectra[lb]) - 1).max()) for lb in NEAR_CIRCLE}
    claim("at initialization every eigenvalue of the step Jacobian of antisymmetric, "
          "lipschitz and unicornn lies within 1e-3 of the unit circle", max(off.values()) < 1e-3,
          **off)
    claim("unicornn's lie on it to 1e-12 (each unit's step is two shears, determinant 1, and "
          "its two eigenvalues are a complex pair)", off["unicornn"] < 1e-12,
          unicornn=off["unicornn"])
    radius = {lb: float(np.abs(spectra[lb]).max()) for lb in (RNN, LSTM)}
    claim("the tanh rnn's and the lstm's are all strictly inside it (spectral radius < 0.95)",
          max(radius.values()) < 0.95, **radius)
    measure("smallest and largest |λ| of the others", **{
        lb: [round(float(np.abs(spectra[lb]).min()), 4), round(float(np.abs(spectra[lb]).max()), 4)]
        for lb in ("cornn", "lmu")})


# ----------------------------------------------------------------- the gradient in time
def gradient_study(T=1000, seeds=(0, 1, 2), hidden=64, labels=None):
    """{seed: {label: ‖dL/dh_t‖ for t = 1..T}} at initialization, loss on the last step
    (:func:`.core.gradient_norms`; float32, B = 16), of ``labels`` (default all)."""
    chosen = [v for v in AT_INIT if labels is None or v[0] in labels]
    return {s: gradient_norms(chosen, T, hidden=hidden, seed=s) for s in seeds}


def kept_fractions(study, labels):
    """{label: ‖dL/dh_1‖ / ‖dL/dh_T‖ per seed}."""
    return {lb: [float(n[lb][0] / n[lb][-1]) for n in study.values()] for lb in labels}


def vanishing(study):
    """(passed, numbers): under 1e-10 of the gradient reaches step 1 in rnn and lstm."""
    kept = kept_fractions(study, (RNN, LSTM))
    return max(sum(kept.values(), [])) < 1e-10, kept


def keeping(study):
    """(passed, numbers): the four ODE cells keep > 1e-2 at step 1 and never grow 10x."""
    kept = kept_fractions(study, KEEPERS)
    peak = {lb: max(float(n[lb].max() / n[lb][-1]) for n in study.values()) for lb in KEEPERS}
    return min(min(k) for k in kept.values()) > 1e-2 and max(peak.values()) < 10, \
        {**kept, "peak": peak}


def gradient_claims(study, claim=check, rerun=False):
    """Claims on :func:`gradient_study`; returns {label: kept fraction per seed}. With
    ``rerun`` (the figure) they are stated with :func:`.core.check_rerun`: "vanishes" at
    4x the length, "keeps" at the same length, both on the second seed block."""
    T, seeds = len(next(iter(study.values()))[RNN]), list(study)
    again = ex.second_seed_block(seeds)
    for text, test, labels, negative in (
            (f"in every seed less than 1e-10 of the gradient at the loss reaches step 1 (of "
             f"T = {T}) in the tanh rnn and the lstm", vanishing, (RNN, LSTM), True),
            (f"antisymmetric, lipschitz, cornn and unicornn keep more than 1e-2 of it at step 1 "
             f"(of T = {T}) in every seed, and nowhere does it grow past 10x", keeping,
             KEEPERS, False)):
        passed, numbers = test(study)
        if not rerun:
            claim(text, passed, **numbers)
            continue
        factor = 4 if negative else 1
        check_rerun(text, passed, numbers, lambda test=test, labels=labels, factor=factor:
                    test(gradient_study(factor * T, again, labels=labels)), factor=factor,
                    seeds=again, first_seeds=seeds, negative=negative, spec={
                        "steps": factor * T, "text": f"{', '.join(labels)} at initialization, "
                        f"T = {factor * T} steps, H = 64, seeds {again}"})
    kept = kept_fractions(study, [v[0] for v in AT_INIT])
    measure("the lmu's kept fraction (its fixed memory holds a window of θ = 100 steps)",
            lmu=kept["lmu"])
    return kept


CORNN_SETTINGS = {"the authors' init": False, "weights ~ N(0, 1), saturated": True}


def cornn_energy(T=1000, batch=4, input_size=3, hidden=16, seed=2):
    """{setting: (E_t, bound_t, gradient ratio)} of a float64 coRNN (the paper's implicit
    damping, the authors' Δt, γ, ε) from a random initial state on inputs 3·N(0, 1): the
    energy E_t = γ|y_t|² + |z_t|² per sequence (T + 1, B), its bound E_0 + H t Δt/ε
    (the cell's docstring derives it), and ‖dL/dy_t‖ / ‖dL/dy_T‖ with the loss on y_T.
    "saturated" redraws every weight from N(0, 1), driving tanh into saturation (in
    both settings the energy comes nearest its bound in the first steps, then falls:
    notebook 12)."""
    out = {}
    for setting, saturate in CORNN_SETTINGS.items():
        rng = np.random.default_rng(seed)
        cell = make("cornn", input_size, hidden, seed=seed, dtype=np.float64)
        if saturate:
            for p in cell.params.values():
                p[...] = rng.standard_normal(p.shape)
        x = 3.0 * rng.standard_normal((T, batch, input_size))
        hs, _, cache = cell.forward(x, tuple(rng.standard_normal((2, batch, hidden))))
        E = cell.gamma * (cache.y ** 2).sum(-1) + (cache.z ** 2).sum(-1)
        bound = E[0] + hidden * np.arange(T + 1)[:, None] * cell.dt / cell.epsilon
        dys = np.zeros_like(hs)
        dys[-1] = rng.standard_normal((batch, hidden))
        grads = cell.backward(dys, cache)[2]
        out[setting] = (E, bound, grads.dh_norm / grads.dh_norm[-1])
    return out


def cornn_claims(energy, claim=check):
    worst = {s: float((E[1:] / b[1:]).max()) for s, (E, b, _) in energy.items()}
    claim("coRNN's energy γ|y_t|² + |z_t|² stays below E_0 + H t Δt/ε at every one of 1,000 "
          "steps, in every sequence, in both settings", max(worst.values()) < 1,
          largest_E_over_bound_after_step_0=worst)
    ratio = {s: [float(r.min()), float(r.max())] for s, (_, _, r) in energy.items()}
    claim("and its gradient ‖dL/dy_t‖ stays between 1e-2 and 10x the last step's over the "
          "1,000 steps", all(1e-2 < lo and hi < 10 for lo, hi in ratio.values()), **ratio)


def plot_cornn_energy(ax, energy):
    for (setting, (E, bound, _)), color in zip(energy.items(), ("tab:gray", "tab:red")):
        t = np.arange(E.shape[0])
        ax.plot(t, E, color=color, lw=0.8, alpha=0.7)
        ax.plot(t, bound[:, 0], "--", color=color, label=f"{setting}: bound E_0 + H t Δt/ε")
        ax.plot([], [], color=color, lw=0.8, label=f"{setting}: E_t, {E.shape[1]} sequences")
    ax.set_yscale("log")
    # head room above the highest bound for the legend, which would otherwise sit on
    # the energies decaying at the bottom left
    low, high = ax.get_ylim()
    ax.set_ylim(low, high * (high / low) ** 0.3)
    ax.set_xlabel("step t")
    ax.set_ylabel("γ|y_t|² + |z_t|²")
    ax.legend(fontsize=7, loc="upper right")


# ----------------------------------------------------------------- permuted digits
DIGITS_VARIANTS = [ex.Variant("rnn", label=RNN), ex.Variant("lstm", label=LSTM)] \
    + [ex.Variant(name) for name in ODE_CELLS]


def digits_experiment(full=False):
    """The seven cells on permuted digits (64 steps; the papers' psMNIST has 784), one
    budget: H = 32, Adam 1e-2, batch 32, 200 steps (H = 64 and 2,000 steps with
    ``full``). Each cell with its authors' defaults (Δt, ε, γ, ...; the LMU's θ and d are
    ours: keras-lmu sets none)."""
    steps, hidden = (2000, 64) if full else (200, 32)
    budget = ex.Budget(steps=steps, batch_size=32, lr=1e-2, hidden=hidden,
                       eval_every=steps // 10)
    return dict(variants=DIGITS_VARIANTS, task="permuted_digits", task_options={},
                budget=budget)


def long_digits_experiment(full=False):
    """The seven cells on permuted digits resized to 14x14: 196 steps, the length of
    14x14-downsampled MNIST (the 8x8 images interpolated: longer, not richer). H = 32,
    Adam 1e-2, batch 32, 750 steps (H = 64 and 6,000 steps with ``full``); each cell
    with its authors' defaults (the LMU's θ and d are ours). 750 steps keep the figures
    command's longest comparison to about a minute and a half on 2 cores; the claims
    below held at 750 on seeds 0-2 and 10-12 alike, and ``--robust`` re-runs the negative
    one at 4x."""
    steps, hidden = (6000, 64) if full else (750, 32)
    budget = ex.Budget(steps=steps, batch_size=32, lr=1e-2, hidden=hidden,
                       eval_every=steps // 10)
    return dict(variants=DIGITS_VARIANTS, task="permuted_digits",
                task_options={"size": 14}, budget=budget)


def no_keeper_solves(res, robust_claim, task_words):
    """The negative claim both digits comparisons make: no seed of the four cells built
    to keep the gradient solves the task within the budget (re-run at 4x on new seeds)."""
    keepers = list(KEEPERS)
    robust_claim("within this budget no seed of antisymmetric, lipschitz, cornn or unicornn "
                 f"solves {task_words} (accuracy >= 0.9)", res,
                 lambda r: all(r.solved(lb) == 0 for lb in keepers), labels=keepers,
                 numbers=lambda r: {lb: r.final(lb, "accuracy") for lb in keepers})


def long_digits_claims(res, claim=check, robust_claim=check_robust):
    """The claims on the 196-step comparison; returns {label: median accuracy}."""
    acc = {lb: res.final(lb, "accuracy") for lb in res.labels}
    odes = list(KEEPERS)
    no_keeper_solves(res, robust_claim, "196-step permuted digits")
    claim("every cell learned: every seed of all seven ends at least 3x the accuracy of "
          "always answering the most frequent class (no input)",
          all(a.min() >= 3 * res.success.memoryless for a in acc.values()),
          most_frequent_class=res.success.memoryless,
          lowest={lb: float(a.min()) for lb, a in acc.items()})
    claim("the lstm's median accuracy is above the median of each of antisymmetric, "
          "lipschitz, cornn and unicornn: a gradient kept over 1,000 steps at initialization "
          "did not make them learn faster here",
          all(np.median(acc[LSTM]) > np.median(acc[lb]) for lb in odes),
          **{lb: float(np.median(acc[lb])) for lb in [LSTM] + odes})
    measure("final test accuracy per seed", **{lb: np.round(a, 3).tolist()
                                               for lb, a in acc.items()})
    return {lb: float(np.median(a)) for lb, a in acc.items()}


def run(spec, full=False, seed=0):
    """The comparison of ``spec`` (3 seeds from ``seed``, 5 with ``full``), once per
    process."""
    return comparison(spec["variants"], spec["task"], spec["task_options"], spec["budget"],
                      full=full, seed=seed)


def digits_claims(res, claim=check, robust_claim=check_robust):
    """The claims on the permuted-digits comparison; returns {label: median accuracy}."""
    acc = {lb: res.final(lb, "accuracy") for lb in res.labels}
    no_keeper_solves(res, robust_claim, "permuted digits")
    lagging = ["antisymmetric", "lipschitz", "cornn"]
    robust_claim("every seed of the lmu ends above every seed of antisymmetric, lipschitz and "
                 "cornn", res, lambda r: r.final("lmu", "accuracy").min()
                 > max(r.final(lb, "accuracy").max() for lb in lagging),
                 labels=["lmu"] + lagging, negative=False,
                 numbers=lambda r: {lb: r.final(lb, "accuracy") for lb in ["lmu"] + lagging})
    measure("final test accuracy per seed", **{lb: np.round(a, 3).tolist()
                                               for lb, a in acc.items()})
    return {lb: float(np.median(a)) for lb, a in acc.items()}


# ----------------------------------------------------------------- the figures
@figure("dynamics_spectra")
def spectra_figure(out_dir, full=False, seed=0):
    """Eigenvalues of each cell's step Jacobian at initialization, with the unit circle."""
    spectra = step_spectra(seed=seed)
    fig, axes = pyplot().subplots(2, 4, figsize=(12, 7.2))
    plot_spectra(axes.ravel(), spectra)
    fig.suptitle("Eigenvalues of ∂s_t/∂s_(t-1) at initialization (H = 32, float64, step 20 of "
                 "a random trajectory; s the whole state)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.96), h_pad=2)   # labels clear the neighbouring panels
    spectra_claims(spectra)
    return save(fig, out_dir, "dynamics_spectra")


@figure("dynamics_gradient_norms")
def gradient_figure(out_dir, full=False, seed=0):
    """‖dL/dh_t‖ over 1,000 steps (3,000 with ``full``) and coRNN's energy bound."""
    T = 3000 if full else 1000
    study = gradient_study(T, seeds=range(seed, seed + 3))
    energy = cornn_energy()
    fig, (left, right) = pyplot().subplots(1, 2, figsize=(13, 4.8))
    for label, _, _, style in AT_INIT:
        left.semilogy(np.arange(1, T + 1), study[seed][label], label=label, **style)
    left.set_ylim(1e-40, 1e2)
    left.set_xlabel("time step t (the loss is at t = T)")
    left.set_ylabel("‖dL/dh_t‖")
    left.set_title(f"Gradient reaching each step at initialization (T = {T}, H = 64, "
                   f"seed {seed})", fontsize=9)
    left.legend(fontsize=8, loc="lower left")     # the steep lines leave by the lower right
    plot_cornn_energy(right, energy)
    right.set_title("coRNN (H = 16): the energy and its bound over 1,000 steps", fontsize=9)
    gradient_claims(study, rerun=True)
    cornn_claims(energy)
    return save(fig, out_dir, "dynamics_gradient_norms")


@figure("dynamics_unicornn_memory")
def unicornn_figure(out_dir, full=False, seed=0):
    """UnICORNN's reconstructed against stored backward, and the memory each keeps."""
    errors = unicornn_reconstruction((100, 1000, 10000) if full else (100, 1000), seed=seed)
    memory = unicornn_memory()
    fig, (left, right) = pyplot().subplots(1, 2, figsize=(12, 4.5))
    plot_unicornn(left, right, errors, memory)
    left.set_title("UnICORNN's backward: states walked back vs stored (B = 16, D = H = 128)",
                   fontsize=9)
    right.set_title("Memory, float32, T = 1000, B = 16, D = H = 128", fontsize=9)
    unicornn_claims(errors, memory)
    return save(fig, out_dir, "dynamics_unicornn_memory")


@figure("dynamics_lmu_window")
def lmu_figure(out_dir, full=False, seed=0):
    """The last θ inputs decoded from the LMU's memory m_t, for three orders d."""
    windows = lmu_windows()
    fig, (ax, bottom) = pyplot().subplots(2, 1, figsize=(8.5, 7), height_ratios=(3, 2))
    plot_lmu(ax, bottom, windows)
    ax.set_title("LMU, θ = 100: the window read back from m_599 with the shifted Legendre "
                 "polynomials", fontsize=9)
    lmu_claims(windows)
    return save(fig, out_dir, "dynamics_lmu_window")


def _digits_figure(out_dir, name, res, what, claims):
    """Test accuracy of the seven cells over training, the budget on the figure; then
    the claims on the runs."""
    fig, ax = pyplot().subplots(figsize=(8.5, 5))
    res.plot(ax, kind="accuracy", title=f"{what}: test accuracy, median and min-max of "
             f"{len(res.seeds)} seeds\n{res.budget.describe()}")
    ax.title.set_fontsize(9)
    ax.set_ylim(0, 1.05)
    caption(fig, res.caption(), y=-0.02)
    claims(res)
    return save(fig, out_dir, name)


@figure("dynamics_permuted_digits")
def digits_figure(out_dir, full=False, seed=0):
    """The seven cells on permuted digits under one budget."""
    return _digits_figure(out_dir, "dynamics_permuted_digits",
                          run(digits_experiment(full), full, seed),
                          "Permuted digits (T = 64)", digits_claims)


@figure("dynamics_long_digits")
def long_digits_figure(out_dir, full=False, seed=0):
    """The seven cells on 196-step permuted digits under one budget."""
    return _digits_figure(out_dir, "dynamics_long_digits",
                          run(long_digits_experiment(full), full, seed),
                          "Permuted digits resized to 14x14 (T = 196)", long_digits_claims)
