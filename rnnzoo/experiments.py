"""Honest comparisons: several seeds with their spread, matched initialization, the
budget on the figure, and claims that are checks on the data rather than prose.

One call trains every (variant, seed) pair on a task under one budget, in parallel
processes (one BLAS thread each, so 2 cores give 2x), and returns a :class:`Comparison`::

    from rnnzoo import experiments as ex
    budget = ex.Budget(steps=1000, lr=1e-2, hidden=64)
    res = ex.compare([ex.Variant("lstm"), ex.Variant("janet")], task="adding",
                     task_options={"T": 100}, budget=budget, seeds=3)
    print(res.summary())                    # median, spread, when each seed left the baseline
    res.plot(ax)                            # median line, min-max band, baseline, budget
    ex.claim("janet leaves the baseline in every seed",
             None not in res.left_baseline("janet"), steps=res.left_baseline("janet"))

**Fair by default.** A variant gets the standard initialization trick that the papers
reproduced here also gave their baselines (:data:`FAIR_DEFAULTS`: an LSTM starts with
forget bias 1, as in Gers et al. 2000 and Jozefowicz et al. 2015; JANET's chrono init is
spread over the task's length). Overriding one of those with another value is a
deliberately unfair comparison, and :class:`Variant` refuses it unless ``note=`` says why;
the note is printed in the caption.

**Claims are data.** :func:`claim` prints PASS or FAIL with the numbers it was given and
raises :class:`ClaimFailed` on FAIL, so a notebook whose prose the data stops supporting
fails its test instead of misleading a student.
"""
from __future__ import annotations

import math
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .model import build_model
from .plotting import cell_style
from .registry import get_cell_class
from .tasks import make_task
from .training import History, Trainer

# name -> function(task) -> the options a fair comparison gives that cell by default
FAIR_DEFAULTS = {
    "lstm": lambda task: {"forget_bias": 1.0},
    "janet": lambda task: {"t_max": max(int(task.T), 2)},
}

LEFT_BASELINE_FRACTION = 0.5   # a run "left the baseline" once its eval loss is below half of it


class ClaimFailed(AssertionError):
    """A claim's check failed: the data no longer supports the sentence."""


@dataclass(frozen=True)
class Budget:
    """What every run of a comparison gets; printed on the figure."""
    steps: int = 1000
    batch_size: int = 32
    lr: float = 1e-2
    optimizer: str = "adam"
    clip: float | None = 1.0
    hidden: int = 64
    layers: int = 1
    dtype: str = "float32"
    eval_every: int | None = None     # None: about 20 evaluations per run
    eval_size: int = 500
    tbptt: int | None = None

    def __post_init__(self):
        for name in ("steps", "batch_size", "hidden", "layers", "eval_size"):
            _check_int(getattr(self, name), f"Budget.{name}")
        if self.eval_every is not None:
            _check_int(self.eval_every, "Budget.eval_every")
        if self.tbptt is not None:
            _check_int(self.tbptt, "Budget.tbptt")
        for name in ("lr",) + (("clip",) if self.clip is not None else ()):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating,
                                                                 np.integer)) \
                    or not math.isfinite(value) or value <= 0:
                raise ValueError(f"Budget.{name} must be a positive finite number; "
                                 f"got {value!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"Budget.dtype must be 'float32' or 'float64'; got {self.dtype!r}")

    @property
    def every(self) -> int:
        return self.eval_every or max(self.steps // 20, 1)

    def describe(self) -> str:
        clip = f"clip {self.clip:g}" if self.clip is not None else "no clipping"
        tb = f", truncated BPTT {self.tbptt}" if self.tbptt else ""
        depth = f" x {self.layers} layers" if self.layers > 1 else ""
        return (f"H = {self.hidden}{depth}, {self.optimizer} lr {self.lr:g}, batch "
                f"{self.batch_size}, {clip}, {self.steps} steps{tb}, {self.dtype}")


@dataclass(frozen=True)
class Variant:
    """A cell with its options, a label for legends, and optional per-parameter learning
    rates (``lr_for``, keys like ``"cell0.W_hh"``) and line style."""
    cell: str
    options: dict = field(default_factory=dict)
    label: str | None = None
    lr_for: dict | None = None
    note: str | None = None          # why an unfair setting is used, shown in the caption
    style: dict | None = None

    def __post_init__(self):
        cls = get_cell_class(self.cell)          # a clear error for an unknown cell
        unknown = sorted(set(self.options) - set(cls.options))
        if unknown:
            raise ValueError(f"Variant({self.cell!r}): unknown option(s) {unknown}; "
                             f"{self.cell} takes {sorted(cls.options) or 'none'}")
        if self.label is None:
            object.__setattr__(self, "label", self.cell)

    def resolved_options(self, task) -> dict:
        """The options the run uses: the fair defaults for this task, then the variant's
        own. Overriding a fair default needs ``note``."""
        fair = FAIR_DEFAULTS.get(self.cell, lambda t: {})(task)
        changed = {k: v for k, v in self.options.items() if k in fair and v != fair[k]}
        if changed and not self.note:
            raise ValueError(f"Variant {self.label!r} overrides the fair default(s) "
                             f"{ {k: fair[k] for k in changed} } with {changed}: a "
                             f"deliberately unfair comparison must say why (note='...')")
        return {**fair, **self.options}

    def describe(self, task) -> str:
        opts = self.resolved_options(task)
        text = f"{self.cell}({', '.join(f'{k}={v!r}' for k, v in opts.items()) or 'default init'})"
        if self.lr_for:
            text += f" lr_for={self.lr_for}"
        return text + (f" [{self.note}]" if self.note else "")


# ---------------------------------------------------------------- running
def _run_one(job):
    """Train one (variant, seed) on the task; runs in a worker process. Returns plain
    data: the History as a dict and the trained parameters as NumPy arrays."""
    from threadpoolctl import threadpool_limits
    variant, task_name, task_options, budget, seed = job
    task = _make_task(task_name, task_options, budget, seed)
    model = build_model(variant.cell, task.input_size, budget.hidden, task.output_size,
                        layers=budget.layers, readout=task.readout, seed=seed,
                        dtype=np.dtype(budget.dtype), **variant.resolved_options(task))
    # one BLAS thread: the products are small (so it is faster), the processes do not
    # fight over cores, and a fixed summation order makes float32 runs reproducible
    with threadpool_limits(1):
        trainer = Trainer(model, task, optimizer=budget.optimizer, lr=budget.lr,
                          lr_for=variant.lr_for, batch_size=budget.batch_size,
                          clip=budget.clip, tbptt=budget.tbptt, eval_every=budget.every,
                          seed=seed, progress=False, label=variant.label)
        history = trainer.run(budget.steps)
    params = {k: np.array(v) for k, v in model.params.items()}
    return variant.label, seed, history.to_dict(), params


def _make_task(name, options, budget, seed):
    """The task, with the budget's eval_size where the task has an evaluation-set size
    (digits evaluate on their fixed test split instead)."""
    import inspect
    from .tasks import TASKS
    takes_size = "eval_size" in inspect.signature(TASKS[name]).parameters \
        if name in TASKS else False
    extra = {"eval_size": budget.eval_size} if takes_size and "eval_size" not in options else {}
    return make_task(name, seed=seed, **options, **extra)


def compare(variants, task, *, task_options=None, budget=None, seeds=3, workers=None,
            progress=True) -> "Comparison":
    """Train every variant on ``task`` for every seed under one ``budget``.

    Parameters
    ----------
    variants : list of :class:`Variant` (or cell names)
    task : a task name for :func:`rnnzoo.tasks.make_task`
    task_options : keyword arguments of the task (e.g. ``{"T": 100}``)
    budget : :class:`Budget` (default ``Budget()``)
    seeds : an int n (seeds 0..n-1, at least 3 by default) or an explicit list
    workers : processes to use (default: one per core, at most one per run); 1 runs
        everything in this process
    progress : print one line per finished run
    """
    variants = [v if isinstance(v, Variant) else Variant(v) for v in variants]
    labels = [v.label for v in variants]
    if len(set(labels)) != len(labels):
        raise ValueError(f"variant labels must be distinct; got {labels}")
    budget = budget or Budget()
    task_options = dict(task_options or {})
    seeds = list(range(seeds)) if isinstance(seeds, (int, np.integer)) else list(seeds)
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    probe = _make_task(task, task_options, budget, seeds[0])   # validates the task early
    for v in variants:
        v.resolved_options(probe)                              # and every variant
    jobs = [(v, task, task_options, budget, s) for v in variants for s in seeds]
    workers = min(os.cpu_count() or 1, len(jobs)) if workers is None else int(workers)
    start = time.perf_counter()
    if workers <= 1:
        outputs = [_report(_run_one(j), progress) for j in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
            outputs = [_report(o, progress) for o in pool.map(_run_one, jobs)]
    result = Comparison(variants, task, task_options, budget, seeds, probe,
                        seconds=time.perf_counter() - start, workers=workers)
    for label, seed, hist, params in outputs:
        result.histories[label].append(History.from_dict(hist))
        result._params[label].append(params)
    return result


def _context():
    """fork where the platform has it: the workers inherit the imported library and the
    caller's __main__ needs no ``if __name__ == "__main__"`` guard (a notebook, a script
    piped to python). Each worker limits itself to one BLAS thread before working.
    Elsewhere (Windows, and macOS's default) spawn."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods and os.name == "posix"
                                       and not _is_macos() else "spawn")


def _is_macos():
    import sys
    return sys.platform == "darwin"


def _report(output, progress):
    if progress:
        label, seed, hist, _ = output
        print(f"  {label} seed {seed}: final eval {hist['metric']} "
              f"{hist['eval_loss'][-1]:.4g} ({hist['seconds']:.1f} s)", flush=True)
    return output


# ---------------------------------------------------------------- results
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
        self.seconds, self.workers = seconds, workers

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
        return np.array(hs[0].eval_steps), np.array([getattr(h, key) for h in hs])

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

    def models(self, label):
        """The trained models of ``label``, one per seed, rebuilt in this process."""
        v = self.variants[label]
        out = []
        for seed, params in zip(self.seeds, self._params[label]):
            model = build_model(v.cell, self.task.input_size, self.budget.hidden,
                                self.task.output_size, layers=self.budget.layers,
                                readout=self.task.readout, seed=seed,
                                dtype=np.dtype(self.budget.dtype),
                                **v.resolved_options(self.task))
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
            lines.append(f"{label:<28}{_spread(loss):>22} {_spread(acc):>20}  "
                         f"{', '.join(left)}")
        return "\n".join(lines)

    __repr__ = summary

    # ------------------------------------------------------------ plot
    def plot(self, ax=None, kind="loss", *, per_seed=False, log=None, title=None,
             legend=True):
        """Median over seeds with a min-max band (or thin per-seed lines), the task's
        baseline, and the budget as the axes' caption. Returns ax."""
        import matplotlib.pyplot as plt
        if kind not in ("loss", "accuracy"):
            raise ValueError(f"kind must be 'loss' or 'accuracy'; got {kind!r}")
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        for label, v in self.variants.items():
            style = {**cell_style(v.cell), **(v.style or {})}
            steps, runs = self.curves(label, kind)
            line, = ax.plot(steps, np.median(runs, axis=0), label=label, lw=2, **style)
            if per_seed:
                for r in runs:
                    ax.plot(steps, r, lw=0.7, alpha=0.5, color=line.get_color(),
                            linestyle=style.get("linestyle", "-"))
            else:
                ax.fill_between(steps, runs.min(axis=0), runs.max(axis=0), alpha=0.18,
                                color=line.get_color(), linewidth=0)
        if kind == "loss":
            ax.axhline(self.baseline, ls=":", color="0.3", lw=1.2,
                       label=f"memoryless baseline {self.baseline:.3g}")
            if log if log is not None else True:
                ax.set_yscale("log")
        else:
            chance = getattr(self.task, "chance_accuracy", None)
            if chance:
                ax.axhline(chance, ls=":", color="0.3", lw=1.2, label=f"chance {chance:.2g}")
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
    return f"{np.median(values):.3g} [{values.min():.3g}, {values.max():.3g}]"


# ---------------------------------------------------------------- claims
@dataclass
class Claim:
    statement: str
    passed: bool
    numbers: dict

    def __str__(self):
        nums = ", ".join(f"{k} = {_fmt(v)}" for k, v in self.numbers.items())
        return f"{'PASS' if self.passed else 'FAIL'}: {self.statement}" + (
            f"  ({nums})" if nums else "")

    def to_dict(self):
        return {"statement": self.statement, "passed": self.passed,
                "numbers": {k: _jsonable(v) for k, v in self.numbers.items()}}


def claim(statement, passed, *, strict=True, **numbers) -> Claim:
    """State ``statement`` as a check on data: print PASS or FAIL with ``numbers``, and
    raise :class:`ClaimFailed` on FAIL (unless ``strict=False``)."""
    c = Claim(str(statement), bool(passed), numbers)
    print(c, flush=True)
    if not c.passed and strict:
        raise ClaimFailed(f"the data no longer supports the claim: {c}")
    return c


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    if isinstance(v, np.ndarray):
        return "[" + ", ".join(_fmt(x) for x in v.tolist()) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _jsonable(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


# ---------------------------------------------------------------- timing
def time_interleaved(fns, repeats=7, warmup=1) -> dict:
    """Best-of-``repeats`` wall time of each function, the functions taking turns so a
    change in the machine's load hits all of them alike. Compare ratios, not seconds:
    another program on the machine moves every number."""
    if not fns:
        raise ValueError("time_interleaved needs at least one function")
    _check_int(repeats, "repeats")
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    best = {name: math.inf for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def _check_int(value, what, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}; got {value!r}")


__all__ = ["Budget", "Variant", "Comparison", "compare", "claim", "Claim", "ClaimFailed",
           "time_interleaved", "FAIR_DEFAULTS"]
