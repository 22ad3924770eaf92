"""The result of a comparison: per-seed histories of every variant, with the summaries
a figure, a table or a claim needs."""
from __future__ import annotations

import contextlib
import warnings

import numpy as np

from ...training.model import build_model
from ...training.plotting import cell_style

LEFT_BASELINE_FRACTION = 0.5   # a run "left the baseline" once its eval loss is below half of it

class Comparison:
    """Per-seed histories of every variant, with the summaries a figure or claim needs."""

    def __init__(self, variants, task_name, task_options, budget, seeds, task, *,
                 seconds=0.0, workers=1):
        self.variants = {v.label: v for v in variants}
        self.task_name, self.task_options = task_name, task_options
        self.budget, self.seeds, self.task = budget, seeds, task
        self.baseline, self.metric = float(task.baseline), task.metric
        self.histories = {v.label: [] for v in variants}
        self._params = {v.label: [] for v in variants}
        self.diverged = {v.label: [] for v in variants}   # per seed: the step, or None
        self.seconds, self.workers = seconds, workers

    def subset(self, labels) -> "Comparison":
        """The same runs restricted to ``labels`` (figures that share runs pick theirs)."""
        missing = [lb for lb in labels if lb not in self.variants]
        if missing:
            raise KeyError(f"no variant labelled {missing}; labels: {self.labels}")
        out = Comparison([self.variants[lb] for lb in labels], self.task_name,
                         self.task_options, self.budget, self.seeds, self.task,
                         seconds=self.seconds, workers=self.workers)
        for lb in labels:
            out.histories[lb] = self.histories[lb]
            out._params[lb] = self._params[lb]
            out.diverged[lb] = self.diverged[lb]
        return out

    @property
    def labels(self) -> list:
        return list(self.variants)

    def _histories(self, label):
        if label not in self.histories:
            raise KeyError(f"no variant labelled {label!r}; labels: {self.labels}")
        return self.histories[label]

    def curves(self, label, kind="loss"):
        """(eval steps, array (seeds, evaluations)) of the eval loss or accuracy."""
        hs = self._histories(label)
        key = {"loss": "eval_loss", "accuracy": "eval_accuracy"}[kind]
        steps = max((h.eval_steps for h in hs), key=len)
        # a run that diverged stops early: the rest of its curve is NaN
        runs = [list(getattr(h, key)) + [np.nan] * (len(steps) - len(h.eval_steps))
                for h in hs]
        return np.array(steps), np.array(runs, dtype=float)

    def final(self, label, kind="loss") -> np.ndarray:
        """The final eval loss (or accuracy) of every seed."""
        return self.curves(label, kind)[1][:, -1]

    def median(self, label, kind="loss") -> float:
        return float(np.median(self.final(label, kind)))

    def left_baseline(self, label, fraction=LEFT_BASELINE_FRACTION) -> list:
        """Per seed, the first eval step whose loss is at most ``fraction`` x the task's
        baseline, or None if the run never got there within the budget."""
        steps, losses = self.curves(label, "loss")
        out = []
        for run in losses:
            below = np.nonzero(run <= fraction * self.baseline)[0]
            out.append(int(steps[below[0]]) if below.size else None)
        return out

    def solved(self, label, fraction=LEFT_BASELINE_FRACTION) -> int:
        """How many seeds left the baseline within the budget."""
        return sum(s is not None for s in self.left_baseline(label, fraction))

    def models(self, label, trained=True, dtype=None):
        """The trained models of ``label``, one per seed, rebuilt in this process
        (``trained=False``: the same models at initialization; ``dtype``: in another
        precision than the runs', e.g. float64 for diagnostics that would underflow)."""
        v = self.variants[label]
        out = []
        for seed, params in zip(self.seeds, self._params[label]):
            budget = v.budget_for(self.budget)
            model = build_model(v.cell, self.task.input_size, budget.hidden,
                                self.task.output_size, layers=budget.layers,
                                readout=self.task.readout, seed=seed,
                                dtype=np.dtype(dtype or budget.dtype),
                                **v.resolved_options(self.task))
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
        """A table: median final loss and accuracy, their spread, and when each seed left
        the baseline."""
        head = (f"{'variant':<28}{'final ' + self.metric[:12]:>22} {'accuracy':>20}"
                f"  left baseline at step (per seed)")
        lines = [f"{self.task_text()}: baseline {self.baseline:.4g} "
                 f"({self.task.baseline_formula}); {self.budget.describe()}", head,
                 "-" * len(head)]
        for label in self.labels:
            loss, acc = self.final(label), self.final(label, "accuracy")
            left = ["never" if s is None else str(s) for s in self.left_baseline(label)]
            left = [f"diverged at {d}" if d is not None else lb
                    for lb, d in zip(left, self.diverged[label])]
            lines.append(f"{label:<28}{_spread(loss):>22} {_spread(acc):>20}  "
                         f"{', '.join(left)}")
        return "\n".join(lines)

    __repr__ = summary

    # ------------------------------------------------------------ plot
    def plot(self, ax=None, kind="loss", *, per_seed=False, log=None, title=None,
             legend=True, baseline=True):
        """Median over seeds with a min-max band (or thin per-seed lines), the task's
        baseline (``baseline=False`` when overlaying a second comparison on the same axes).
        Returns ax; :meth:`caption` is the text to print under the figure."""
        import matplotlib.pyplot as plt
        if kind not in ("loss", "accuracy"):
            raise ValueError(f"kind must be 'loss' or 'accuracy'; got {kind!r}")
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        for label, v in self.variants.items():
            style = {**cell_style(v.cell), **(v.style or {})}
            steps, runs = self.curves(label, kind)
            with _quiet_nan_warnings():
                mid, lo, hi = (f(runs, axis=0) for f in (np.nanmedian, np.nanmin, np.nanmax))
            line, = ax.plot(steps, mid, label=label, lw=2, **style)
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
                       label=f"memoryless baseline {self.baseline:.3g}")
        if kind == "loss" and (log if log is not None else True):
            ax.set_yscale("log")
        if kind == "accuracy":
            ax.set_ylim(0, 1.02)
        ax.set_xlabel("training step")
        ax.set_ylabel(f"eval {self.metric}" if kind == "loss" else "eval accuracy")
        ax.set_title(title or f"{self.task_text()}: {len(self.seeds)} seeds", fontsize=10)
        ax.grid(True, alpha=0.3)
        if legend:
            ax.legend(fontsize=8, loc="best")
        return ax


def _spread(values) -> str:
    values = np.asarray(values, dtype=float)
    with _quiet_nan_warnings():
        return f"{np.nanmedian(values):.3g} [{np.nanmin(values):.3g}, {np.nanmax(values):.3g}]"


@contextlib.contextmanager
def _quiet_nan_warnings():
    """All-NaN columns (every seed diverged) are expected: their summary is NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
