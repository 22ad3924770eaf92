"""What every figure module shares: the ``@figure`` registry, saving a PNG without a
timestamp, and the two diagnostic plots (gradient norm over time, step-Jacobian
spectrum) that several families draw for their own cells."""
from __future__ import annotations

import pathlib

import numpy as np

from ...core import diagnostics
from ...core.registry import make
from ...core.validation import (ArgumentTypeError, check_bool, check_distinct, check_int,
                                 check_seed, describe)
from ...training.plotting import cell_style, legend_outside

FIGURES: dict = {}
CLAIMS: dict = {}      # figure name -> the claims its data was checked against this run
_current = [None]      # the figure being drawn, so check() knows whose claim it is


def figure(name):
    """Register a figure function ``fn(out_dir, full=False, seed=0) -> path`` under the
    PNG's file stem."""
    def decorate(fn):
        if name in FIGURES and FIGURES[name] is not fn:
            raise ValueError(f"a figure named {name!r} is already registered")
        FIGURES[name] = fn
        return fn
    return decorate


def pyplot():
    import matplotlib
    matplotlib.use("Agg")          # files only; no display needed (CI, servers)
    import matplotlib.pyplot as plt
    return plt


def save(fig, out_dir, name):
    """Write ``fig`` to out_dir/name.png with no timestamp (identical bytes on a rerun)."""
    path = pathlib.Path(out_dir) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
    pyplot().close(fig)
    return path


def variant(label, name, options=None, **style):
    """A (label, registry name, options, line style) tuple; the style defaults to the
    cell's project-wide colour (:func:`rnnzoo.training.plotting.cell_style`)."""
    if not isinstance(label, str) or not label:
        raise ArgumentTypeError(f"variant: label must be a non-empty str; got {describe(label)}")
    if not isinstance(name, str):
        raise ArgumentTypeError(f"variant: name must be a cell's registry name (e.g. 'gru'); "
                                f"got {describe(name)}")
    if options is not None and not isinstance(options, dict):
        raise ArgumentTypeError(f"variant: options must be None or a dict of the cell's "
                                f"options; got {describe(options)}")
    return (label, name, dict(options or {}), {**cell_style(name), **style})


def _check_variants(variants, where) -> list:
    """A non-empty list of :func:`variant` tuples (label, name, options, style) with
    distinct labels (the results are keyed by label)."""
    if (not isinstance(variants, list) or not variants
            or not all(isinstance(v, tuple) and len(v) == 4 for v in variants)):
        raise ArgumentTypeError(f"{where}: variants must be a non-empty list of variant(label, "
                                f"name, options) tuples; got {describe(variants)}")
    check_distinct([v[0] for v in variants], "variants' labels", where)
    return variants


def plot_gradient_norms(ax, variants, T, *, input_size=4, hidden=64, seed=0, ylim=(1e-40, 1e2)):
    """On ``ax``: ||dL/dh_t|| against t for each (label, name, options, style) variant,
    loss on the last step only, log scale. Returns {label: norms (T,)}, for the claims."""
    norms = gradient_norms(variants, T, input_size=input_size, hidden=hidden, seed=seed)
    for label, _, _, style in variants:
        ax.semilogy(np.arange(1, T + 1), norms[label], label=label, **style)
    label_axes(ax, "time step t (the loss is at t = T)", r"$\|\partial L / \partial h_t\|$",
               f"Gradient reaching each step at initialization (T = {T}, H = {hidden}, "
               f"seed {seed})", ylim, "outside")
    return norms


def gradient_norms(variants, T, *, input_size=4, hidden=64, seed=0) -> dict:
    """{label: ||dL/dh_t|| for t = 1..T} of each (label, name, options, style) variant at
    initialization, loss on the last step only."""
    _check_variants(variants, "gradient_norms")
    return {label: diagnostics.gradient_norm_over_time(
                make(name, input_size, hidden, seed=seed, **opts), T, batch=16, seed=seed)
            for label, name, opts, _ in variants}


def kept_fraction(variants, T, seeds, *, computed=None, **kwargs) -> dict:
    """{label: [||dL/dh_1|| / ||dL/dh_T|| for each seed]}: how much of the gradient at the
    loss reaches the first step, at initialization. ``computed`` maps a seed to norms
    already computed for it with the same ``kwargs`` (what :func:`plot_gradient_norms`
    returned), so a figure's plotted seed is not computed a second time."""
    computed = computed or {}
    out = {label: [] for label, *_ in variants}
    for seed in seeds:
        norms = computed.get(seed) or gradient_norms(variants, T, seed=seed, **kwargs)
        for label, n in norms.items():
            out[label].append(float(n[0] / n[-1]))
    return out


def plot_jacobian_spectra(ax, variants, T, last, *, input_size=4, hidden=64, seed=0):
    """On ``ax``: the sorted singular values of ∂s_t/∂s_{t-1}, averaged over the last
    ``last`` of T steps of a random trajectory, for each variant."""
    spectra = jacobian_spectra(variants, T, last, input_size=input_size, hidden=hidden,
                               seed=seed)
    for label, _, _, style in variants:
        mean_sv = spectra[label]
        rank = (np.arange(mean_sv.size) + 0.5) / mean_sv.size
        ax.semilogy(rank, mean_sv, label=f"{label} (S = {mean_sv.size})", **style)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.text(0.5, 1.15, "norm-preserving: every singular value = 1", fontsize=8,
            ha="center")                   # mid-rank: the first ranks' values are above 1
    label_axes(ax, "singular value rank (fraction of the state size S)",
               r"singular value of $\partial s_t / \partial s_{t-1}$",
               f"Step Jacobian spectrum, averaged over {last} steps (H = {hidden}, "
               f"seed {seed})",
               (1e-4, 3), "lower left")
    return spectra


def jacobian_spectra(variants, T, last, *, input_size=4, hidden=64, seed=0) -> dict:
    """{label: sorted singular values of ∂s_t/∂s_{t-1}, averaged over the last ``last``
    of T steps of a random trajectory}."""
    _check_variants(variants, "jacobian_spectra")
    T = check_int(T, "T", minimum=1, where="jacobian_spectra")
    last = check_int(last, "last (how many of the T steps)", minimum=1, maximum=T,
                     where="jacobian_spectra")
    out = {}
    for label, name, opts, _ in variants:
        cell = make(name, input_size, hidden, seed=seed, **opts)
        sv = diagnostics.jacobian_singular_values(cell, T, seed=seed, steps=range(T - last, T))
        out[label] = sv.mean(axis=0)
    return out


def label_axes(ax, xlabel, ylabel, title, ylim, legend_loc):
    """Labels, title, y-limits and grid; the legend at ``legend_loc``, or beside the axes
    with ``"outside"`` (where the steep lines of a gradient plot would run under it)."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_ylim(*ylim)
    ax.grid(True, which="major", alpha=0.3)
    if legend_loc == "outside":
        legend_outside(ax, fontsize=9)
    elif legend_loc is not None:
        ax.legend(loc=legend_loc, fontsize=9)


_COMPARISONS: dict = {}   # comparisons shared by the figures of one command
SETTINGS = {"robust": False}   # set by make_figures: run the robustness re-runs?


def comparison(variants, task, task_options, budget, *, full=False, seed=0):
    """Run (once per command) an :func:`rnnzoo.experiments.compare` for a figure:
    3 seeds by default, 5 with ``--full``, starting at ``seed``. Figures that need the
    same runs share them."""
    full = check_bool(full, "full", where="comparison")
    seed = check_seed(seed, where="comparison")
    if task_options is not None and not isinstance(task_options, dict):
        raise ArgumentTypeError(f"comparison: task_options must be None or a dict of the "
                                f"task's options; got {describe(task_options)}")
    task_options = dict(task_options or {})
    seeds = list(range(seed, seed + (5 if full else 3)))
    return shared_compare(variants, task, task_options=task_options, budget=budget,
                          seeds=seeds)


def shared_compare(variants, task, *, task_options, budget, seeds, workers=None,
                   progress=False):
    """:func:`rnnzoo.experiments.compare`, run once per command for each distinct set of
    arguments (the figures' comparisons and robustness re-runs share it)."""
    from ..experiments import compare
    key = (repr(variants), task, repr(sorted(task_options.items())), repr(budget), tuple(seeds))
    if key not in _COMPARISONS:
        _COMPARISONS[key] = compare(variants, task, task_options=task_options, budget=budget,
                                    seeds=seeds, workers=workers, progress=progress)
    return _COMPARISONS[key]


def caption(fig, text, y=-0.01):
    """The budget and initialization under the figure, small but always there."""
    fig.text(0.01, y, text, fontsize=9, va="top", ha="left", wrap=True, color="0.2")


def check(statement, passed, **numbers):
    """A claim the figure's data must support, recorded for figures/claims.md (the
    README's numbers come from there, never typed by hand). It prints PASS or FAIL;
    the figures command exits non-zero when any fails, after drawing everything."""
    from ..experiments import claim
    c = claim(statement, passed, strict=False, **numbers)
    CLAIMS.setdefault(_current[0], []).append(c)
    return c


def check_robust(statement, result, check_fn, *, labels, negative=True, factor=None,
                 numbers=None):
    """A claim about ``result`` (a Comparison) stated as ``check_fn(res)`` on the variants
    ``labels``, recorded like :func:`check`, with a robustness entry: the same check on
    those variants re-run at ``factor`` x the steps (4 for a negative claim) on the second
    seed block (10-12 after 0-2) when the command runs with ``--robust``, else recorded
    as skipped (:func:`rnnzoo.experiments.robust_claim`). The figures command exits
    non-zero if a re-run fails."""
    from ..experiments import robust_claim
    c = robust_claim(statement, result, check_fn, labels=labels, negative=negative,
                     factor=factor, numbers=numbers, robust=SETTINGS["robust"],
                     runner=shared_compare, strict=False)
    CLAIMS.setdefault(_current[0], []).append(c)
    return c


def check_rerun(statement, passed, numbers, rerun, *, factor, seeds, first_seeds, spec,
                negative=True):
    """A claim about an experiment that is not a :class:`Comparison` (a fit, a
    measurement), with the robustness entry :func:`check_robust` records: with
    ``--robust``, ``rerun()`` repeats the experiment at ``factor`` x its budget on
    ``seeds`` (disjoint from ``first_seeds``) and returns ``(passed, numbers)``; else the
    entry says it was skipped (and an earlier verdict on the same ``spec`` and numbers is
    carried over). ``spec`` names the re-run in words."""
    from ..experiments import Claim
    from ..experiments.robust import MIN_NEGATIVE_FACTOR
    if negative and factor < MIN_NEGATIVE_FACTOR:
        raise ValueError(f"check_rerun: factor must be at least {MIN_NEGATIVE_FACTOR} for a "
                         f"negative claim; got {factor}")
    if set(seeds) & set(first_seeds):
        raise ValueError(f"check_rerun: seeds {list(seeds)} must be disjoint from the first "
                         f"block {list(first_seeds)}")
    entry = {"budget_factor": factor, "seeds": list(seeds), "first_seeds": list(first_seeds),
             "steps": spec["steps"], "spec": spec["text"]}
    if SETTINGS["robust"]:
        r_passed, r_numbers = rerun()
        entry.update(passed=bool(r_passed), numbers=dict(r_numbers))
    else:
        entry.update(skipped=True, reason="not requested; python -m rnnzoo figures --robust "
                                          "runs it")
    c = Claim(str(statement), bool(passed), dict(numbers), negative=negative, robustness=entry)
    print(c, flush=True)
    CLAIMS.setdefault(_current[0], []).append(c)
    return c


def measure(statement, **numbers):
    """A number the figure measured, recorded beside the claims (shown as MEASURED: it
    states no condition, so it can neither pass nor fail)."""
    from ..experiments import Measurement
    from ..experiments.claims import check_statement
    m = Measurement(check_statement(statement, "measure"), numbers)
    print(m, flush=True)
    CLAIMS.setdefault(_current[0], []).append(m)
    return m
