"""Running a comparison: every (variant, seed) in its own worker process with one BLAS
thread, so independent runs use every core and float32 results do not depend on how
many run at once."""
from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from ...core.validation import (ArgumentTypeError, check_bool, check_int, check_optional,
                                check_seed, describe, is_int)
from ...training.model import build_model
from ...training.tasks import TASKS, make_task
from ...training.trainer import History, Trainer
from .results import Comparison
from .spec import Budget, Variant


def _run_one(job):
    """Train one (variant, seed) on the task; runs in a worker process. Returns plain
    data: the History as a dict and the trained parameters as NumPy arrays."""
    from threadpoolctl import threadpool_limits
    variant, task_name, task_options, budget, seed = job
    budget = variant.budget_for(budget)
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
        try:
            with np.errstate(over="ignore", invalid="ignore"):   # divergence is caught below
                history = trainer.run(budget.steps)
            diverged = None
        except FloatingPointError:
            # a diverging run is a result, not a crash: keep its curve up to the step
            # that went non-finite (e.g. exploding gradients without clipping)
            history, diverged = trainer.history, trainer.step
    params = {k: np.array(v) for k, v in model.params.items()}
    return variant.label, seed, history.to_dict(), params, diverged


def _make_task(name, options, budget, seed):
    """The task, with the budget's eval_size where the task has an evaluation-set size
    (digits evaluate on their fixed test split instead)."""
    import inspect
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
    seeds : an int n (seeds 0..n-1, at least 3 by default) or an explicit list of
        distinct seeds
    workers : processes to use (default: one per core, at most one per run); 1 runs
        everything in this process
    progress : print one line per finished run

    Every argument is checked here, before the first run starts.
    """
    variants = _check_variants(variants)
    labels = [v.label for v in variants]
    if len(set(labels)) != len(labels):
        raise ValueError(f"variant labels must be distinct; got {labels}")
    if not isinstance(task, str):
        raise ArgumentTypeError(f"compare: task must be a task name, one of {sorted(TASKS)}; "
                                f"got {describe(task)}")
    task_options = _check_task_options(task_options)
    if budget is not None and not isinstance(budget, Budget):
        raise ArgumentTypeError(f"compare: budget must be None or a Budget (e.g. Budget("
                                f"steps=100), or Budget(**options)); got {describe(budget)}")
    budget = budget or Budget()
    seeds = _check_seeds(seeds)
    workers = check_optional(check_int, workers, "workers (None or a number of processes)",
                             minimum=1, where="compare")
    check_bool(progress, "progress", where="compare")
    probe = _make_task(task, task_options, budget, seeds[0])   # validates the task early
    for v in variants:
        v.resolved_options(probe)                              # and every variant
        v.budget_for(budget)
    jobs = [(v, task, task_options, budget, s) for v in variants for s in seeds]
    workers = min(os.cpu_count() or 1, len(jobs)) if workers is None else workers
    start = time.perf_counter()
    if workers <= 1:
        outputs = [_report(_run_one(j), progress) for j in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
            outputs = [_report(o, progress) for o in pool.map(_run_one, jobs)]
    result = Comparison(variants, task, task_options, budget, seeds, probe,
                        seconds=time.perf_counter() - start, workers=workers)
    for label, seed, hist, params, diverged in outputs:
        result.histories[label].append(History.from_dict(hist))
        result._params[label].append(params)
        result.diverged[label].append(diverged)
    return result


def _check_variants(variants) -> list:
    """A list of Variants or cell names (not one name: a string is a list of letters)."""
    if isinstance(variants, (str, bytes, Mapping)) or not isinstance(variants, Iterable):
        raise ArgumentTypeError(f"compare: variants must be a list of Variants or cell names "
                                f"(e.g. [Variant('gru')] or ['gru']); got {describe(variants)}")
    variants = list(variants)
    if not variants:
        raise ValueError("compare: variants must name at least one Variant or cell name; "
                         "got []")
    for i, v in enumerate(variants):
        if not isinstance(v, (Variant, str)):
            raise ArgumentTypeError(f"compare: variants[{i}] must be a Variant or a cell name; "
                                    f"got {describe(v)}")
    return [v if isinstance(v, Variant) else Variant(v) for v in variants]


def _check_task_options(task_options) -> dict:
    """None or a dict of the task's keyword arguments, except the seed: each run's task
    gets the run's seed."""
    if task_options is None:
        return {}
    if not isinstance(task_options, Mapping) or not all(isinstance(k, str)
                                                         for k in task_options):
        raise ArgumentTypeError(f"compare: task_options must be None or a dict of the task's "
                                f"keyword arguments (e.g. {{'T': 100}}); got "
                                f"{describe(task_options)}")
    if "seed" in task_options:
        raise ValueError(f"compare: task_options must not set seed (each run's task gets "
                         f"that run's seed from seeds); got {describe(dict(task_options))}")
    return dict(task_options)


def _check_seeds(seeds, where="compare") -> list:
    """n (seeds 0..n-1) or the seeds themselves, distinct: a repeated seed would train
    the same run twice and count it twice in the spread."""
    expected = "a number of seeds >= 1 or a list of distinct seeds"
    if is_int(seeds):
        if seeds < 1:
            raise ValueError(f"{where}: seeds must be {expected}; got {describe(seeds)}")
        return list(range(seeds))
    if isinstance(seeds, (str, bytes, Mapping)) or not isinstance(seeds, Iterable) or (
            isinstance(seeds, np.ndarray) and seeds.ndim != 1):
        raise ArgumentTypeError(f"{where}: seeds must be {expected}; got {describe(seeds)}")
    seeds = [check_seed(s, f"seeds[{i}]", where=where) for i, s in enumerate(seeds)]
    if not seeds:
        raise ValueError(f"{where}: seeds must name at least one seed; got []")
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise ValueError(f"{where}: seeds must be distinct; got {seeds}, which repeats "
                         f"{repeated}")
    return seeds


def _context():
    """fork where the platform has it: the workers inherit the imported library and the
    caller's __main__ needs no ``if __name__ == "__main__"`` guard (a notebook, a script
    piped to python). Each worker limits itself to one BLAS thread before working.
    Elsewhere (Windows, and macOS's default) spawn."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods and os.name == "posix"
                                       and not _is_macos() else "spawn")


def _is_macos():
    return sys.platform == "darwin"


def _report(output, progress):
    if progress:
        label, seed, hist, _, diverged = output
        end = f"diverged at step {diverged}" if diverged is not None else (
            f"final eval {hist['metric']} {hist['eval_loss'][-1]:.4g}")
        print(f"  {label} seed {seed}: {end} ({hist['seconds']:.1f} s)", flush=True)
    return output
