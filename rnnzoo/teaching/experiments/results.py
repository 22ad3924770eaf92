"""The result of a comparison: per-seed histories of every variant, with the summaries
a figure, a table or a claim needs.

Two readings of a run against its task, not to be confused:

* **solved** (:meth:`Comparison.solved`, :meth:`Comparison.solved_at`): the task's own
  criterion (:attr:`rnnzoo.tasks.Task.success`: adding MSE < 0.01 (1/600 in its Skip RNN
  layout), copy recall accuracy >= 0.99, associative retrieval well above its plateau,
  digits accuracy >= 0.9);
* **below half the baseline** (:meth:`Comparison.below_half_baseline`,
  :meth:`Comparison.left_baseline`): the eval loss got under half the task's baseline
  (memoryless on the memory tasks; digits' and charlm's read no input, see
  :attr:`rnnzoo.tasks.Task.baseline_name`). It says a run learned *something*, not the
  task: half the adding baseline is what remembering one of the two numbers scores, and
  on associative retrieval it sits just under the plateau.
"""
from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable, Mapping

import numpy as np

from ...core.base import check_float_dtype
from ...core.validation import (ArgumentTypeError, check_bool, check_float, check_optional,
                                describe)
from ...training.plotting import check_axes, cell_style, draw_success, legend_outside

LEFT_BASELINE_FRACTION = 0.5   # "left the baseline": the eval loss got below half of it
KINDS = {"loss": "eval_loss", "accuracy": "eval_accuracy", "success": "eval_success"}


class Comparison:
    """Per-seed histories of every variant, with the summaries a figure or claim needs."""

    def __init__(self, variants, task_name, task_options, budget, seeds, task, *,
                 seconds=0.0, workers=1):
        self.variants = {v.label: v for v in variants}
        self.task_name, self.task_options = task_name, task_options
        self.budget, self.seeds, self.task = budget, seeds, task
        self.baseline, self.metric = float(task.baseline), task.metric
        self.success = task.success          # what solved means; None: no criterion
        self.histories = {v.label: [] for v in variants}
        self._params = {v.label: [] for v in variants}
        self.diverged = {v.label: [] for v in variants}   # per seed: the step, or None
        # per seed: what trained the run (provenance.made_with; None: not recorded), and
        # whether this comparison trained it (False: loaded from its store)
        self.made_with = {v.label: [] for v in variants}
        self.trained = {v.label: [] for v in variants}
        self.seconds, self.workers = seconds, workers

    def subset(self, labels) -> "Comparison":
        """The same runs restricted to ``labels``, a list of labels (figures that share
        runs pick theirs)."""
        labels = check_labels(labels, self, "Comparison.subset")
        out = Comparison([self.variants[lb] for lb in labels], self.task_name,
                         self.task_options, self.budget, self.seeds, self.task,
                         seconds=self.seconds, workers=self.workers)
        for lb in labels:
            out.histories[lb] = self.histories[lb]
            out._params[lb] = self._params[lb]
            out.diverged[lb] = self.diverged[lb]
            out.made_with[lb] = self.made_with[lb]
            out.trained[lb] = self.trained[lb]
        return out

    @property
    def labels(self) -> list:
        return list(self.variants)

    def _histories(self, label):
        if not isinstance(label, str) or label not in self.histories:
            raise KeyError(f"no variant labelled {label!r}; labels: {self.labels}")
        return self.histories[label]

    def curves(self, label, kind="loss"):
        """(eval steps, array (seeds, evaluations)) of the eval loss, accuracy, or the
        task's success metric (``kind="success"``)."""
        hs = self._histories(label)
        key = self._key(kind)
        steps = max((h.eval_steps for h in hs), key=len)
        planned = self._planned_eval_steps(label)
        if len(planned) > len(steps) and planned[:len(steps)] == list(steps):
            # every seed stopped early (diverged): the axis is still the budget's, so
            # that "final" is the end of the budget (NaN), not the last good evaluation
            steps = planned
        # a run that diverged stops early: the rest of its curve is NaN
        runs = [list(getattr(h, key)) + [np.nan] * (len(steps) - len(h.eval_steps))
                for h in hs]
        return np.array(steps), np.array(runs, dtype=float)

    def _planned_eval_steps(self, label) -> list:
        """The steps the Trainer evaluates a run of ``label`` at under its budget: 0,
        every ``every`` steps, and the last step."""
        budget = self.variants[label].budget_for(self.budget)
        every, end = budget.every, budget.steps
        return [0] + [s for s in range(every, end, every)] + [end]

    def _key(self, kind):
        if not isinstance(kind, str) or kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}; got {describe(kind)}")
        if kind == "success" and self.success is None:
            raise ValueError(f"task {self.task_name!r} has no success criterion; read its "
                             f"loss against the baseline instead")
        return KINDS[kind]

    def final(self, label, kind="loss") -> np.ndarray:
        """The final eval loss (or accuracy, or success metric) of every seed."""
        return self.curves(label, kind)[1][:, -1]

    def median(self, label, kind="loss") -> float:
        return float(np.median(self.final(label, kind)))

    def left_baseline(self, label, fraction=LEFT_BASELINE_FRACTION) -> list:
        """Per seed, the first eval step whose loss is below ``fraction`` x the task's
        baseline (strictly, as the claims that read it say), or None if the run never got
        there within the budget. ``fraction`` is in (0, 1] (see :func:`_check_fraction`).
        Below half the baseline is not *solved* (see the module docstring and
        :meth:`solved_at`)."""
        fraction = _check_fraction(fraction, "left_baseline")
        steps, losses = self.curves(label, "loss")
        return [_first(steps, run < fraction * self.baseline) for run in losses]

    def below_half_baseline(self, label, fraction=LEFT_BASELINE_FRACTION) -> int:
        """How many seeds got the eval loss below ``fraction`` (half; in (0, 1]) x the
        baseline at some evaluation within the budget (what ``solved`` counted before
        tasks stated their criteria)."""
        fraction = _check_fraction(fraction, "below_half_baseline")
        return sum(s is not None for s in self.left_baseline(label, fraction))

    def solved_at(self, label) -> list:
        """Per seed, the first eval step that meets the task's success criterion, or
        None if the run never did within the budget."""
        steps, values = self.curves(label, "success")     # (refuses ... without criterion)
        return [_first(steps, self.success.met(run)) for run in values]

    def solved(self, label) -> int:
        """How many seeds *end* solved: their final evaluation meets the task's success
        criterion (:attr:`rnnzoo.tasks.Task.success`). A diverged run is not solved."""
        final = self.final(label, "success")        # (refuses a task without criterion)
        return int(np.sum(self.success.met(final)))

    def models(self, label, trained=True, dtype=None):
        """The trained models of ``label``, one per seed, rebuilt in this process
        (``trained=False``: the same models at initialization; ``dtype``: in another
        precision than the runs', e.g. float64 for diagnostics that would underflow)."""
        self._histories(label)                           # an unknown label, named
        trained = check_bool(trained, "trained", where="Comparison.models")
        dtype = None if dtype is None else check_float_dtype(dtype, where="Comparison.models")
        v = self.variants[label]
        out = []
        for seed, params in zip(self.seeds, self._params[label]):
            model = v.build(self.task, self.budget, seed, dtype)
            if trained:
                for k, p in model.params.items():
                    p[...] = params[k]
            out.append(model)
        return out

    # ------------------------------------------------------------ text
    def task_text(self) -> str:
        opts = ", ".join(f"{k} = {v}" for k, v in self.task_options.items())
        return f"{self.task_name}" + (f" ({opts})" if opts else "")

    def caption(self) -> str:
        """The budget and every variant's options, for the figure."""
        seeds = f"seeds {self.seeds[0]}-{self.seeds[-1]}" if self.seeds == list(
            range(self.seeds[0], self.seeds[-1] + 1)) else f"seeds {self.seeds}"
        inits = "; ".join(f"{label}: {v.describe(self.task)}"
                          for label, v in self.variants.items())
        return (f"{self.task_text()}, {self.budget.describe()}, {len(self.seeds)} {seeds} "
                f"(median, band = min-max over seeds).\nInit: {inits}")

    def summary(self) -> str:
        """A table: median final loss and accuracy with their spread, how many seeds end
        solved by the task's criterion (and when each first met it), and when each seed
        first got below half the baseline. Where the criterion reads an accuracy of its
        own (parity's at the last step), that column is the criterion's metric, so the
        table shows the number "solved" was judged on."""
        judged = self.success is not None and self.success.metric != self.metric
        kind, name = ("success", self.success.metric) if judged else ("accuracy", "accuracy")
        head = (f"{'variant':<28}{'final ' + self.metric[:12]:>22} {name:>26}"
                f"{'solved':>8}  solved at / below half the baseline at step (per seed)")
        criterion = "no success criterion" if self.success is None else \
            f"solved: {self.success.describe()}"
        changed = "; ".join(f"{label} with {v.budget_text()}"
                            for label, v in self.variants.items() if v.budget)
        lines = [f"{self.task_text()}: baseline {self.baseline:.4g} "
                 f"({self.task.baseline_formula}); {criterion}; {self.budget.describe()}"
                 + (f" ({changed})" if changed else ""), head, "-" * len(head)]
        for label in self.labels:
            loss, acc = self.final(label), self.final(label, kind)
            left = _steps_text(self.left_baseline(label), self.diverged[label])
            if self.success is None:
                solved, steps = "-", left
            else:
                solved = f"{self.solved(label)}/{len(self.seeds)}"
                steps = f"{_steps_text(self.solved_at(label), self.diverged[label])} / {left}"
            lines.append(f"{label:<28}{_spread(loss):>22} {_spread(acc):>26}{solved:>8}  "
                         f"{steps}")
        return "\n".join(lines)

    __repr__ = summary

    # ------------------------------------------------------------ plot
    def plot(self, ax=None, kind="loss", *, per_seed=False, log=None, title=None,
             legend=True, baseline=True):
        """Median over seeds with a min-max band (or thin per-seed lines) of the eval
        loss, accuracy or the task's success metric (``kind="success"``), with the task's
        baseline (labelled with its ``baseline_name``) and its success threshold where it
        lives on that axis (:func:`rnnzoo.training.plotting.draw_success`;
        ``baseline=False`` draws neither, when overlaying a second comparison on the same
        axes).
        Returns ax; :meth:`caption` is the text to print under the figure."""
        import matplotlib.pyplot as plt
        self._key(kind)
        where = "Comparison.plot"
        for flag, name in ((per_seed, "per_seed"), (legend, "legend"), (baseline, "baseline")):
            check_bool(flag, name, where=where)
        check_optional(check_bool, log, "log (None: log scale on a loss axis)", where=where)
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        else:
            check_axes(ax, where)
        for label, v in self.variants.items():
            style = {**cell_style(v.cell), **(v.style or {})}
            steps, runs = self.curves(label, kind)
            with _quiet_nan_warnings():
                mid, lo, hi = (f(runs, axis=0) for f in (np.nanmedian, np.nanmin, np.nanmax))
            crossed = any(step is not None for step in self.diverged[label])
            marks = _legend_cross(style) if crossed else {}
            line, = ax.plot(steps, mid, label=label, lw=2, **style, **marks)
            if per_seed:
                for r in runs:
                    ax.plot(steps, r, lw=0.7, alpha=0.5, color=line.get_color(),
                            linestyle=style.get("linestyle", "-"))
            else:
                ax.fill_between(steps, lo, hi, alpha=0.18, color=line.get_color(),
                                linewidth=0)
            for run, step in zip(runs, self.diverged[label]):
                if step is not None:        # x: the step a run went non-finite, at its
                    last = np.flatnonzero(np.isfinite(run))[-1]     # last finite loss
                    ax.plot(step, run[last], "x", ms=9, mew=2, color=line.get_color())
        if kind == "loss" and baseline:
            ax.axhline(self.baseline, ls=":", color="0.3", lw=1.2,
                       label=f"{self.task.baseline_name} {self.baseline:.3g}")
        if baseline:
            draw_success(ax, self.success, kind)
        on_loss = kind == "loss" or kind == "success" and self.success.same_as == "loss"
        if on_loss and (log if log is not None else True):
            ax.set_yscale("log")
        if not on_loss:
            ax.set_ylim(0, 1.02)
        ax.set_xlabel("training step")
        ax.set_ylabel({"loss": f"eval {self.metric}", "accuracy": "eval accuracy"}.get(
            kind) or f"eval {self.success.metric}")
        ax.set_title(title or f"{self.task_text()}: {len(self.seeds)} seeds", fontsize=10)
        ax.grid(True, alpha=0.3)
        if legend:
            legend_outside(ax)
        return ax


def check_labels(labels, comparison, where) -> list:
    """A list of ``comparison``'s labels, at least one, distinct; one label (a str) is
    refused rather than read as a list of its letters."""
    expected = f"a list of the comparison's variant labels {comparison.labels}"
    if isinstance(labels, (str, bytes, Mapping)) or not isinstance(labels, Iterable):
        raise ArgumentTypeError(f"{where}: labels must be {expected}; got {describe(labels)}")
    labels = list(labels)
    if not labels or len(set(map(str, labels))) != len(labels):
        raise ValueError(f"{where}: labels must be {expected}, at least one, distinct; got "
                         f"{labels}")
    unknown = [lb for lb in labels if not isinstance(lb, str) or lb not in comparison.variants]
    if unknown:
        raise ValueError(f"{where}: labels must be {expected}; {unknown} are not among them")
    return labels


def _check_fraction(fraction, method) -> float:
    """A fraction of the baseline in (0, 1]: 1 counts any loss below the baseline, and a
    fraction above 1 would count a run that never left it (a loss near the baseline at
    the first evaluation), so "left the baseline" would say nothing."""
    return check_float(fraction, "fraction (of the baseline)", minimum=0.0, min_open=True,
                       maximum=1.0, where=f"Comparison.{method}")


def _first(steps, mask):
    """The first step where ``mask`` holds, as an int, or None."""
    hits = np.flatnonzero(mask)
    return int(steps[hits[0]]) if hits.size else None


def _steps_text(steps, diverged) -> str:
    """Per seed: the step, 'never', or where the run diverged."""
    return ", ".join(f"diverged at {d}" if d is not None else "never" if s is None else str(s)
                     for s, d in zip(steps, diverged))


def _spread(values) -> str:
    values = np.asarray(values, dtype=float)
    with _quiet_nan_warnings():
        return f"{np.nanmedian(values):.3g} [{np.nanmin(values):.3g}, {np.nanmax(values):.3g}]"


def _legend_cross(style) -> dict:
    """Line keywords that put a variant's x (a run went non-finite) in the legend beside its
    line; ``markevery=[]`` keeps it off the median curve, where the x marks only the steps
    the runs stopped at. None where the variant's style sets its own marker."""
    own = ("marker", "markevery", "ms", "markersize", "mew", "markeredgewidth")
    return {} if any(k in style for k in own) else \
        {"marker": "x", "markevery": [], "ms": 9, "mew": 2}


@contextlib.contextmanager
def _quiet_nan_warnings():
    """All-NaN columns (every seed diverged) are expected: their summary is NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
