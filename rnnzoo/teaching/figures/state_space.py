"""Figures of the state-space cells (issue 22): S4D (time-invariant) against S6 (Mamba's
selective scan) on selective copying and induction heads, the per-mode memory horizon
exp(-Δ A^re k), and what each of S4D's modes costs in T.

The experiments are defined here once and used by both the figures and notebook 10, so
the two always run the same comparisons.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import experiments as ex
from ..experiments.running import in_child_process
from ...benchmark.timing import cell_runner, inputs
from ...core.memory import keep_freed_memory
from ...core.registry import make
from ...training.tasks import make_task
from .core import check, check_robust, comparison, figure, measure, pyplot, save
from .lengths import LENGTH_FACTORS, at_lengths, lengths_figure
from .lengths import plot_lengths as lengths_plot
from .linear import selective_copy_plot
from .unitary import fitted_slopes

# S4D with 8 complex modes per channel keeps 16 real numbers, S6's N = 16 (its default):
# the two state-space cells compared at the same state size.
S4D = ex.Variant("s4d", options={"state_size": 8}, label="s4d", style={"linestyle": "--"})
S6 = ex.Variant("s6", label="s6 (bare)", style={"linestyle": ":"})
S6_CONV = ex.Variant("s6", options={"conv": 4}, label="s6 + conv")
LRU = ex.Variant("lru", label="lru")
LSTM = ex.Variant("lstm", label="lstm (forget bias 1)")
# the same two time-invariant cells, each layer in a residual GLU block (layer norm, the
# cell, GELU, GLU, as the S4 and LRU papers stack them): nonlinear between the layers
S4D_GLU = ex.Variant("s4d", options={"state_size": 8}, label="s4d in GLU blocks",
                     budget={"blocks": "glu"}, style={"marker": "o", "markersize": 3})
LRU_GLU = ex.Variant("lru", label="lru in GLU blocks", budget={"blocks": "glu"},
                     style={"marker": "o", "markersize": 3})
BARE = [S4D, S6, S6_CONV, LRU, LSTM]
IN_BLOCKS = {S4D.label: S4D_GLU.label, LRU.label: LRU_GLU.label}   # bare -> in blocks
PLATEAU_MARGIN = 0.1                # "at the plateau": accuracy below plateau + this


def selective_copy_experiment(full=False):
    """s4d, the bare s6, s6 + conv, lru and lstm on selective copying, every model 2 layers
    deep (the Mamba paper's setting for its synthetic tasks): K = 2 symbols of 8 scattered
    over T = 10 steps (T = 40, K = 4 with ``full``), H = 32, Adam 1e-2, batch 32, 600 steps
    (3,000 with ``full``). The bare s6 separates what selection does from what the short
    convolution in front of it does (the paper's blocks have it whichever layer they hold).
    s4d and lru run once more in residual GLU blocks: our bare 2-layer stacks of them are
    linear up to the softmax, the paper's S4 sits in nonlinear blocks."""
    T, K = (40, 4) if full else (10, 2)
    steps = 3000 if full else 600
    budget = ex.Budget(steps=steps, batch_size=32, lr=1e-2, hidden=32, layers=2,
                       eval_size=500, eval_every=steps // 10)
    return dict(variants=BARE + [S4D_GLU, LRU_GLU], task="selective_copy",
                task_options={"T": T, "symbols": K, "vocab": 8}, budget=budget)


def induction_experiment(full=False):
    """s4d, s6 alone, s6 + conv and lstm on induction heads, one layer: T = 16 steps over
    16 tokens (T = 64 with ``full``), H = 32, Adam 1e-2, batch 32, 600 steps (3,000 with
    ``full``). Evaluated again at 4x and 16x the length by :func:`extrapolation`."""
    T = 64 if full else 16
    steps = 3000 if full else 600
    budget = ex.Budget(steps=steps, batch_size=32, lr=1e-2, hidden=32, eval_size=500,
                       eval_every=steps // 10)
    return dict(variants=[S4D, S6, S6_CONV, LSTM], task="induction",
                task_options={"T": T, "vocab": 16}, budget=budget)


def run(spec, full=False, seed=0):
    """The comparison of ``spec`` (3 seeds from ``seed``, 5 with ``full``), trained once
    per process."""
    return comparison(spec["variants"], spec["task"], spec["task_options"], spec["budget"],
                      full=full, seed=seed)


def extrapolation(res, factors=LENGTH_FACTORS, eval_size=200):
    """{T: {label: accuracy per seed}} of the induction models trained in ``res``, scored
    on fresh evaluation sets at the training length and at each factor x it."""
    vocab = res.task_options.get("vocab", 16)
    return at_lengths(res, lambda T: make_task("induction", T=T, vocab=vocab,
                                               eval_size=eval_size), factors=factors)


def plateaus(lengths, vocab=16):
    """{T: the bag-of-tokens plateau's accuracy}: what a model that counts the tokens it
    has seen, but cannot tell which came after the trigger, scores."""
    return {T: make_task("induction", T=T, vocab=vocab, eval_size=1).bag_plateau()[0]
            for T in lengths}


# ----------------------------------------------------------------- the memory horizon
HORIZON_DELTAS = (0.1, 0.01, 0.001)         # S4D's default Δ range is [0.001, 0.1]


def gradient_horizons(deltas=HORIZON_DELTAS, T=1200, mode="convolution", seed=0):
    """{Δ: (measured, predicted)} for a one-channel, one-mode S4D (A^re = 1/2, S4D-Lin's)
    whose Δ is set to each value, the loss on its last output only: measured is
    ‖dL/dx_t‖ / ‖dL/dx_{T-1}‖ from the cell's backward (``grads.dh_norm``), predicted
    |Ā|^k = exp(-Δ A^re k) with k = T - 1 - t steps back. Float64, so the smallest
    ratio, exp(-0.05 * 1199) ~ 1e-26, is well inside its range."""
    u = np.random.default_rng(seed).standard_normal((T, 1, 1))
    k = np.arange(T)[::-1]
    out = {}
    for delta in deltas:
        cell = make("s4d", 1, 1, state_size=1, mode=mode, seed=seed, dtype=np.float64)
        cell.params["log_dt"][...] = np.log(delta)
        a_real = float(np.exp(cell.params["log_A_real"][0, 0]))
        hs, _, cache = cell.forward(u)
        dy = np.zeros_like(hs)
        dy[-1] = 1.0                                    # the loss reads y_{T-1} only
        _, _, grads = cell.backward(dy, cache)
        out[delta] = (grads.dh_norm / grads.dh_norm[-1], np.exp(-delta * a_real * k))
    return out


def plot_horizons(ax, horizons):
    for (delta, (measured, predicted)), color in zip(horizons.items(),
                                                     ("tab:red", "tab:blue", "tab:green")):
        t = np.arange(len(measured))
        ax.semilogy(t, measured, color=color, lw=3, alpha=0.4,
                    label=f"Δ = {delta}: measured (horizon 1/(Δ A^re) = {2 / delta:.0f} steps)")
        ax.semilogy(t, predicted, "--", color=color, lw=1, label=f"Δ = {delta}: exp(-Δ A^re k)")
    ax.set_xlabel("step t (the loss reads the last output)")
    ax.set_ylabel("‖dL/dx_t‖ / ‖dL/dx_T‖")
    ax.legend(fontsize=8, loc="lower right")


def horizon_claims(horizons, claim=check):
    worst = max(float(np.max(np.abs(m / p - 1))) for m, p in horizons.values())
    claim("each mode's gradient k steps back is exp(-Δ A^re k) of the last step's, at every "
          "step of 1,200 and every Δ, to 1e-9 relative", worst < 1e-9,
          worst_relative_error=worst)
    return worst


# ----------------------------------------------------------------- cost in T
COST_T = (256, 512, 1024, 2048, 4096, 8192)
COST_SHAPE = (4, 32)                        # B, D = H: small, so the grid runs in seconds
COST_CELLS = {"s4d, convolution": ("s4d", {"state_size": 8}),
              "s4d, recurrent": ("s4d", {"state_size": 8, "mode": "recurrent"}),
              "s6": ("s6", {}), "lru": ("lru", {})}
COST_FIT_FROM = 1024                         # the slopes are fitted on the last four Ts
COST_REPEATS = 5
# The claim separates the two costs the figure is about, linear (slope 1) and quadratic
# (slope 2), at their midpoint on the log-log plot, as notebook 10 does. Timed with glibc's
# default allocator, a scan's step cost more as T grew (1.2-3.4x more at T = 8192 than at
# 1024 in our runs on a 2-core machine), which gave fitted slopes up to 1.52: not the
# caches, as this comment once guessed, but the kernel's page faults for the memory
# glibc hands back and maps again on every call (figures/speed/kept_memory.md, written by
# python scripts/kept_memory_speed.py). cost_in_T now keeps freed memory, and the time
# per step is flat.
COST_SLOPE_BELOW = 1.5


def cost_in_T(Ts=COST_T, shape=COST_SHAPE, repeats=COST_REPEATS, keep_memory=True):
    """{label: CPU seconds of forward + backward at each T} of ``COST_CELLS``, float32,
    one BLAS thread, best of ``repeats`` (:func:`rnnzoo.experiments.time_interleaved`).
    Every (cell, T) takes its turn in every round, so a spell of load on the machine
    lands on all the points alike rather than on one T (as in
    :func:`rnnzoo.teaching.figures.unitary.cost_per_step`).

    Timed in a child process that, with ``keep_memory``, keeps the memory it frees
    (:func:`rnnzoo.core.memory.keep_freed_memory`): what is timed is then the cells'
    own work, not the kernel's page faults for the fresh memory glibc would otherwise map
    on every call, a time that grew faster than T and by how fragmented memory was after
    what the process had run before. ``keep_memory=False`` times glibc's default (the
    allocator the benchmarks and training use)."""
    return in_child_process(_cost_grid, tuple(Ts), tuple(shape), repeats, keep_memory)


def _cost_grid(Ts, shape, repeats, keep_memory):
    """:func:`cost_in_T`'s timing, in the child process."""
    if keep_memory and not keep_freed_memory():
        # not glibc: timed with this C library's own policy, and the figure must not say
        # otherwise without a word
        warnings.warn("cost_in_T: keep_freed_memory is not available here (no glibc); the "
                      "times include whatever page faults this allocator causes", stacklevel=2)
    B, H = shape
    fns = {}
    for label, (name, opts) in COST_CELLS.items():
        cell = make(name, H, H, seed=0, dtype=np.float32, **opts)
        for T in Ts:
            x, dhs = inputs(T, B, H, cell.output_size, "float32")
            fns[label, T] = cell_runner(cell, x, dhs)
    best = ex.time_interleaved(fns, repeats=repeats, threads=1, clock="cpu")
    return {label: np.array([best[label, T] for T in Ts]) for label in COST_CELLS}


# ----------------------------------------------------------------- the claims
LTI_STUCK = 0.8             # the recall accuracy the time-invariant cells stay under


def selective_copy_claims(res, claim=check, robust_claim=check_robust):
    """The claims the figure and notebook 10 make on the selective-copying comparison
    ``res``, with the harness's ``claim`` and ``robust_claim`` (the figures' recording
    versions by default). Returns {label: median final recall accuracy}."""
    acc = {label: res.final(label, "accuracy") for label in res.labels}
    lti = [S4D.label, LRU.label]
    robust_claim(f"within this budget the time-invariant cells (s4d, lru) end below "
                 f"{LTI_STUCK} recall accuracy in every seed (short of the 0.99 that solves it)",
                 res, lambda r: all(r.final(lb, "accuracy").max() < LTI_STUCK for lb in lti),
                 labels=lti)
    selective = acc[S6_CONV.label]
    others = [S4D.label, LRU.label, LSTM.label]
    claim(f"every seed of s6 + conv ends above every seed of s4d, lru and the lstm and above "
          f"{LTI_STUCK}", selective.min() > max(acc[lb].max() for lb in others)
          and selective.min() > LTI_STUCK, **acc)
    medians = {label: float(np.median(a)) for label, a in acc.items()}
    claim("selection without the convolution: the bare s6's median is above every seed of "
          "s4d and lru, and below the median of s6 + conv",
          max(acc[lb].max() for lb in lti) < medians[S6.label] < medians[S6_CONV.label],
          **medians)
    measure("the step at which each seed met the 99% recall criterion (None: not within "
            "this budget)", **{label: res.solved_at(label) for label in res.labels})
    return medians


def blocks_claims(res, claim=check, robust_claim=check_robust):
    """The claims on s4d and lru in GLU blocks against the same cells bare, on the
    selective-copying comparison ``res``; the re-run is at 4x the steps on fresh seeds,
    and records when each seed met the task's criterion."""
    pairs = list(IN_BLOCKS.items())

    def above(r):
        return all(r.final(glu, "accuracy").min() > r.final(bare, "accuracy").max()
                   for bare, glu in pairs)

    def numbers(r):
        return {**{lb: r.final(lb, "accuracy") for pair in pairs for lb in pair},
                "solved_at": {glu: r.solved_at(glu) for _, glu in pairs}}
    robust_claim("in GLU blocks, s4d and lru each end above every seed of the same cell "
                 "stacked bare (recall accuracy)", res, above,
                 labels=[lb for pair in pairs for lb in pair], negative=False, factor=4,
                 numbers=numbers)
    measure("the step at which each seed in GLU blocks met the 99% recall criterion (None: "
            "not within this budget)", **{glu: res.solved_at(glu) for _, glu in pairs})


def induction_claims(res, lengths, claim=check, robust_claim=check_robust):
    """The claims on the induction-heads comparison ``res`` and its ``extrapolation``
    ``lengths`` ({T: {label: accuracy per seed}})."""
    T0 = res.task_options["T"]
    plateau = plateaus(lengths, res.task_options.get("vocab", 16))
    stuck = [S4D.label, S6.label]
    robust_claim(f"within this budget s4d and the bare s6 stay at the bag-of-tokens plateau: "
                 f"every seed ends below the plateau's accuracy + {PLATEAU_MARGIN}",
                 res, lambda r: all(r.final(lb, "accuracy").max()
                                    < r.task.bag_plateau()[0] + PLATEAU_MARGIN for lb in stuck),
                 labels=stuck)
    solvers = [S6_CONV.label, LSTM.label]
    claim("s6 + conv and the lstm solve it (accuracy >= 0.99, the task's criterion) in every "
          "seed", all(res.solved(lb) == len(res.seeds) for lb in solvers),
          **{lb: res.final(lb, "accuracy") for lb in solvers})
    T4, T16 = (f * T0 for f in LENGTH_FACTORS)
    conv4, conv16 = lengths[T4][S6_CONV.label], lengths[T16][S6_CONV.label]
    claim(f"at 4x the training length (T = {T4}) every seed of s6 + conv still scores at "
          f"least 0.9", conv4.min() >= 0.9, accuracy=conv4)
    claim(f"at 16x (T = {T16}) every seed of s6 + conv is above twice the plateau "
          f"({2 * plateau[T16]:.3f}), and none of the plateau cells is", conv16.min()
          > 2 * plateau[T16] and all(lengths[T16][lb].max() <= 2 * plateau[T16] for lb in stuck),
          **lengths[T16])
    measure("accuracy per seed at each evaluation length", **{
        f"T = {T}": {lb: np.round(a, 3).tolist() for lb, a in d.items()}
        for T, d in lengths.items()})


# ----------------------------------------------------------------- the figures
@figure("state_space_selective_copy")
def selective_copy_figure(out_dir, full=False, seed=0):
    """Recall accuracy on selective copying: s4d, s6, s6 + conv, lru, lstm, 2 layers each."""
    res = run(selective_copy_experiment(full), full, seed).subset([v.label for v in BARE])
    fig = selective_copy_plot(res)
    selective_copy_claims(res)
    return save(fig, out_dir, "state_space_selective_copy")


@figure("state_space_blocks")
def blocks_figure(out_dir, full=False, seed=0):
    """The same selective copying: s4d and lru stacked bare (2 layers, linear up to the
    softmax) and in residual GLU blocks (nonlinear between the layers)."""
    res = run(selective_copy_experiment(full), full, seed)
    res = res.subset([lb for pair in IN_BLOCKS.items() for lb in pair])
    fig = selective_copy_plot(res)
    blocks_claims(res)
    return save(fig, out_dir, "state_space_blocks")


def plot_lengths(ax, res, lengths):
    """Accuracy against the evaluation length, with the bag-of-tokens plateau."""
    lengths_plot(ax, res, lengths, ylabel="accuracy", ylim=(0, 1.05),
                 reference=("bag-of-tokens plateau", plateaus(sorted(lengths))))


@figure("state_space_induction")
def induction_figure(out_dir, full=False, seed=0):
    """Induction heads: training curves, then the trained models at 4x and 16x the length."""
    res = run(induction_experiment(full), full, seed)
    lengths = extrapolation(res)
    fig = lengths_figure(res, lengths, kind="accuracy", ylim=(0, 1.05),
                         title=f"Induction heads, T = {res.task.T}, {res.task.vocab} tokens: "
                               f"accuracy while training", right_ylabel="accuracy",
                         what="sequences",
                         reference=("bag-of-tokens plateau", plateaus(sorted(lengths))))
    induction_claims(res, lengths)
    return save(fig, out_dir, "state_space_induction")


@figure("state_space_horizon")
def horizon_figure(out_dir, full=False, seed=0):
    """S4D's gradient over 1,200 steps is exp(-Δ A^re k), one curve per Δ."""
    horizons = gradient_horizons(seed=seed)
    fig, ax = pyplot().subplots(figsize=(8, 4.5))
    plot_horizons(ax, horizons)
    ax.set_title("S4D: one mode (A^re = 1/2) at three step sizes Δ, loss on the last output; "
                 "convolution mode, float64", fontsize=9)
    horizon_claims(horizons)
    return save(fig, out_dir, "state_space_horizon")


def plot_cost_in_T(axes, Ts, costs, slopes, fit_from, shape):
    """Left: the time against T, log-log, with the fitted slopes. Right: the time per
    step, where a linear cost is a flat line and a quadratic one doubles with T (the grey
    guide, from the steepest cell's time at ``fit_from``)."""
    from ...training.plotting import cell_style
    total, per_step = axes
    Ts = np.asarray(Ts)
    for label, c in costs.items():
        name, opts = COST_CELLS[label]
        style = {**cell_style(name), "linestyle": ":" if opts.get("mode") == "recurrent"
                 else "-"}
        total.loglog(Ts, c * 1e3, marker="o", label=f"{label}   slope {slopes[label]:.2f}",
                     **style)
        per_step.semilogx(Ts, c / Ts * 1e6, marker="o", **style)
    steepest = max(slopes, key=slopes.get)
    start = int(np.flatnonzero(Ts >= fit_from)[0])
    base = costs[steepest][start] / Ts[start] * 1e6
    per_step.plot(Ts[start:], base * Ts[start:] / Ts[start], "--", color="0.5", lw=1,
                  label="a quadratic cost (slope 2)\nfrom there")
    for ax in axes:
        ax.axvspan(fit_from, Ts.max(), color="0.92", zorder=0)
        ax.set_xticks(Ts, [str(T) for T in Ts], fontsize=7)
        ax.minorticks_off()
        ax.set_xlabel("sequence length T")
    total.set_ylabel("ms, forward + backward (CPU time)")
    per_step.set_ylabel("µs per step (time / T)")
    per_step.set_ylim(0, 2.2 * max(float((c / Ts).max()) for c in costs.values()) * 1e6)
    total.set_title(f"Cost in T, B = {shape[0]}, D = H = {shape[1]}, float32, 1 thread, freed "
                    f"memory kept;\nslopes fitted on the shaded T >= {fit_from}", fontsize=9)
    per_step.set_title("Per step: flat is linear. S4D's convolution mode: FFTs,\n"
                       "O(T log T); its recurrent mode, s6 and lru: scans, O(T)", fontsize=9)
    total.legend(fontsize=8, loc="upper left")
    per_step.legend(fontsize=8, loc="upper left")


def cost_claims(Ts, costs, slopes, claim=check, record=measure):
    """The claim the cost figure makes on ``costs`` (:func:`cost_in_T`) and their
    ``slopes`` (fitted on T >= ``COST_FIT_FROM``), with ``claim``, and what it measures
    beside it, with ``record`` (the figures' recording versions by default)."""
    claim(f"every cell's time grows with T, none quadratically: each slope fitted on "
          f"T >= {COST_FIT_FROM} is between 0.8 and {COST_SLOPE_BELOW} (linear gives 1, "
          f"quadratic 2)", all(0.8 < s < COST_SLOPE_BELOW for s in slopes.values()),
          **{label: round(s, 2) for label, s in slopes.items()})
    Ts = np.asarray(Ts)
    start = int(np.flatnonzero(Ts >= COST_FIT_FROM)[0])
    record(f"time per step at T = {Ts[-1]} over time per step at T = {Ts[start]} (1 for a "
            f"linear cost, {Ts[-1] // Ts[start]} for a quadratic one)",
            **{label: round(float(c[-1] / Ts[-1] / (c[start] / Ts[start])), 2)
               for label, c in costs.items()})
    record(f"recurrent / convolution time for s4d at T = {Ts[-1]}",
            ratio=round(float(costs["s4d, recurrent"][-1] / costs["s4d, convolution"][-1]), 2))


@figure("state_space_cost")
def cost_figure(out_dir, full=False, seed=0):
    """Forward + backward time against T for both S4D modes, s6 and lru, fitted slopes,
    and the time per step."""
    Ts = COST_T + ((16384, 32768) if full else ())
    costs = cost_in_T(Ts)
    slopes = fitted_slopes(Ts, costs, COST_FIT_FROM)
    fig, axes = pyplot().subplots(1, 2, figsize=(11, 4.8))
    plot_cost_in_T(axes, Ts, costs, slopes, COST_FIT_FROM, COST_SHAPE)
    cost_claims(Ts, costs, slopes)
    return save(fig, out_dir, "state_space_cost")
