"""Running a comparison: every (variant, seed) is a job, trained in its own worker
process with one BLAS thread, so independent runs use every core and float32 results do
not depend on how many run at once.

The jobs go to a process pool of this machine (``workers``), or to any
``concurrent.futures.Executor`` the caller gives (``executor``): on a Dask cluster that
is ``distributed.Client(address).get_executor()``, whichever way the cluster was started
(a ``distributed.LocalCluster``, ``dask-scheduler`` and ``dask-worker`` by hand or
``distributed.SSHCluster`` over SSH, ``dask_jobqueue.SLURMCluster`` on Slurm,
``dask_kubernetes`` on Kubernetes). Each result is collected as it completes, saved to the
``store`` at once if there is one (:mod:`.store`: a rerun loads the finished runs and
trains only the rest), and the Comparison is assembled in the jobs' order, so it does not
depend on which run finished first. rnnzoo itself never imports Dask.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed

import numpy as np

from ...core.validation import (ArgumentTypeError, check_bool, check_int, check_optional,
                                check_distinct, check_seed, describe, is_int)
from ...training.tasks import TASKS, make_task
from ...training.trainer import History, Trainer
from .provenance import made_with
from .results import Comparison
from .spec import Budget, Variant
from .store import FinishedRun, RunStore, fingerprint


def _run_one(job):
    """Train one (variant, seed) on the task; runs in a worker process (of this machine
    or a cluster's). Returns plain data, a :class:`FinishedRun`: the History as a dict
    and the trained parameters as NumPy arrays."""
    from threadpoolctl import threadpool_limits
    start = time.perf_counter()
    variant, task_name, task_options, budget, seed = job
    budget = variant.budget_for(budget)
    task = _make_task(task_name, task_options, budget, seed)
    model = variant.build(task, budget, seed)
    # one BLAS thread: the products are small (so it is faster), the processes do not
    # fight over cores, and a fixed summation order makes float32 runs reproducible
    with threadpool_limits(1):
        trainer = _trainer(variant, model, task, budget, seed)
        try:
            with np.errstate(over="ignore", invalid="ignore"):   # divergence is caught below
                history = trainer.run(budget.steps)
            diverged = None
        except FloatingPointError:
            # a diverging run is a result, not a crash: keep its curve up to the step
            # that went non-finite (e.g. exploding gradients without clipping)
            history, diverged = trainer.history, trainer.step
    params = {k: np.array(v) for k, v in model.params.items()}
    return FinishedRun(variant.label, seed, history.to_dict(), params, diverged,
                       time.perf_counter() - start, made_with())


def _trainer(variant, model, task, budget, seed) -> Trainer:
    """The Trainer of the run of ``variant`` on ``seed`` (``budget``: the variant's own,
    from budget_for), which builds the optimizer and resolves ``lr_for`` on the model."""
    return Trainer(model, task, optimizer=budget.optimizer, lr=budget.lr,
                   lr_for=variant.lr_for, batch_size=budget.batch_size, clip=budget.clip,
                   tbptt=budget.tbptt, eval_every=budget.every, seed=seed, progress=False,
                   label=variant.label)


def _check_variants_build(variants, task, budget, seed):
    """Build each variant's model and Trainer once, as its runs will (at its budget, from
    ``seed``, for the probe ``task``), and train nothing: what only the model can say (an
    option value, one that does not fit the hidden size such as mlstm's heads or eurnn at
    H = 1, a skiprnn base, an lr_for name that matches no parameter) is refused here, not
    after the variants before it have trained. Then the fairness check (after the cell's,
    so that an invalid value is called invalid, not an unexplained override). The runs
    build their own models: nothing here changes their results."""
    for variant in variants:
        run_budget = variant.budget_for(budget)                 # validated like any Budget
        try:
            _trainer(variant, variant.build(task, run_budget, seed), task, run_budget, seed)
        except (TypeError, ValueError, KeyError) as error:
            # a KeyError's text is its repr; an unmatched lr_for name is a wrong value
            reason = error.args[0] if isinstance(error, KeyError) and error.args else error
            kind = ArgumentTypeError if isinstance(error, TypeError) else ValueError
            raise kind(f"compare: variant {variant.label!r} is refused before any run (its "
                       f"model built at H = {run_budget.hidden}, {run_budget.layers} "
                       f"layer(s)): {reason}") from error
        variant.resolved_options(task)


def _make_task(name, options, budget, seed):
    """The task, with the budget's eval_size where the task has an evaluation-set size
    (digits evaluate on their fixed test split instead)."""
    import inspect
    takes_size = "eval_size" in inspect.signature(TASKS[name]).parameters \
        if name in TASKS else False
    extra = {"eval_size": budget.eval_size} if takes_size and "eval_size" not in options else {}
    return make_task(name, seed=seed, **options, **extra)


def compare(variants, task, *, task_options=None, budget=None, seeds=3, workers=None,
            progress=True, executor=None, store=None) -> "Comparison":
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
    progress : print one line per finished run, with how many are done and about how
        long the rest will take
    executor : a ``concurrent.futures.Executor`` to run the jobs on instead of a process
        pool of this machine (then leave ``workers`` out). It stays yours: it is not shut
        down, and on an error or Ctrl-C only the jobs not yet started are cancelled. On a
        Dask cluster::

            from distributed import Client      # pip install "dask[distributed]"
            with Client("tcp://scheduler:8786") as client:
                res = compare(variants, "adding", executor=client.get_executor(), ...)

        Any way of starting the cluster gives such a client: ``LocalCluster()`` on this
        machine, ``SSHCluster`` over SSH, ``dask_jobqueue.SLURMCluster`` on Slurm,
        ``dask_kubernetes`` on Kubernetes. The workers need rnnzoo installed; give each
        one thread (``--nthreads 1``) so that every run has one BLAS thread.
    store : None or a directory (made if missing). Each finished run is saved there as
        it completes (:mod:`rnnzoo.teaching.experiments.store`: JSON and .npz, never
        pickle, written atomically). Calling ``compare`` again with the same arguments
        and store loads the finished runs and trains only the rest, so an interrupted
        comparison resumes where it stopped; the result is the same, bit for bit. A
        stored run trained with other arguments (another budget, options, task...) is an
        error naming the file and the fields that differ, never silently reused. The
        runs are saved by this process, so with a cluster the store is on this machine.

    Every argument is checked here, and the store is checked writable, before the first
    run starts: each variant's model and optimizer are built once (no training), so an
    option that does not fit the budget or an ``lr_for`` name that matches no parameter is
    refused, naming the variant's label, before any other variant's runs are spent.
    """
    variants = _check_variants(variants)
    labels = check_distinct([v.label for v in variants], "variants' labels", "compare")
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
    _check_executor(executor, workers)
    probe = _make_task(task, task_options, budget, seeds[0])   # validates the task early
    _check_variants_build(variants, probe, budget, seeds[0])   # and every variant
    jobs = [(v, task, task_options, budget, s) for v in variants for s in seeds]
    start = time.perf_counter()
    runs = [None] * len(jobs)                # FinishedRun per job, in the jobs' order
    prints = [None] * len(jobs)              # and its fingerprint, where there is a store
    if store is not None:
        store = RunStore(store, labels)
        prints = [fingerprint(*job, probe) for job in jobs]
        runs = [store.load(v.label, s, fp) for (v, *_, s), fp in zip(jobs, prints)]
    todo = [i for i, run in enumerate(runs) if run is None]
    if executor is None:       # no more processes than runs: a pool starts all of them
        asked = (os.cpu_count() or 1) if workers is None else workers
        workers = min(asked, max(len(todo), 1))
    report = _Progress(len(jobs), _executor_parallelism(executor) if executor else workers,
                       progress)
    for run in runs:
        if run is not None:
            report.loaded(run, store.path)

    def keep(i, run):
        """A run just finished: on disk first, then in the result, then on the screen."""
        if store is not None:
            store.save(run, prints[i])
        runs[i] = run
        report.trained(run)

    _train(jobs, todo, keep, workers, executor)
    result = Comparison(variants, task, task_options, budget, seeds, probe,
                        seconds=time.perf_counter() - start, workers=report.parallel)
    fresh = set(todo)
    for i, run in enumerate(runs):
        result.histories[run.label].append(History.from_dict(run.history))
        result._params[run.label].append(run.params)
        result.diverged[run.label].append(run.diverged)
        result.made_with[run.label].append(run.made_with)
        result.trained[run.label].append(i in fresh)
    return result


def _train(jobs, todo, keep, workers, executor):
    """Train the jobs ``todo`` (indices into ``jobs``) in this process, in a pool of
    ``workers`` processes, or on the caller's ``executor``; ``keep(i, run)`` each run."""
    if executor is not None:
        _collect(executor, jobs, todo, keep)
    elif workers <= 1:
        for i in todo:
            keep(i, _run_one(jobs[i]))
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
            try:
                _collect(pool, jobs, todo, keep)
            except BaseException:
                _stop_workers(pool)
                raise


def _collect(executor, jobs, todo, keep):
    """Submit the jobs ``todo`` (indices into ``jobs``) and ``keep`` each result as it
    completes, whatever the order. On an error or Ctrl-C the jobs not yet started are
    cancelled (the executor itself is left running: a caller's may be shared) and the
    runs kept so far stay kept."""
    futures = {executor.submit(_run_one, jobs[i]): i for i in todo}
    try:
        for future in as_completed(futures):
            keep(futures[future], future.result())
    except BaseException:
        for future in futures:
            future.cancel()
        raise


def in_child_process(fn, *args):
    """``fn(*args)`` computed in one child process, started as the comparisons' workers
    are (:func:`_context`), and its result returned: for a measurement that must not
    share this process's state, or must not leave its own behind (a timing that changes
    the allocator's policy, :func:`rnnzoo.core.memory.keep_freed_memory`). ``fn``
    must be a module-level function (spawn pickles it). An error in the child is raised
    here; on Ctrl-C the child is stopped."""
    with ProcessPoolExecutor(max_workers=1, mp_context=_context()) as pool:
        future = pool.submit(fn, *args)
        try:
            return future.result()
        except BaseException:
            _stop_workers(pool)
            raise


def _stop_workers(pool):
    """End our own pool's workers now (after Ctrl-C or a failed run): left alone, each
    would finish the job it holds and start the one queued behind it, minutes of work
    whose results nobody would keep."""
    terminate = getattr(pool, "terminate_workers", None)      # Python 3.14+
    if terminate is not None:
        terminate()
        return
    # before: shutdown() forgets the processes
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


def _check_executor(executor, workers):
    if executor is None:
        return
    if not isinstance(executor, Executor):
        raise ArgumentTypeError(f"compare: executor must be None or a concurrent.futures."
                                f"Executor (e.g. a Dask client's get_executor()); got "
                                f"{describe(executor)}")
    if workers is not None:
        raise ValueError(f"compare: give workers (a process pool of this machine) or "
                         f"executor (yours), not both; got workers={workers} and executor="
                         f"{type(executor).__name__}")


def _executor_parallelism(executor) -> int:
    """How many runs ``executor`` trains at once, where it says so, for the progress
    estimate: a Dask ClientExecutor's worker threads (``Client.nthreads()``; Dask is not
    imported for this), a concurrent.futures pool's ``max_workers``; else 1."""
    client = getattr(executor, "_client", None)
    if client is not None and callable(getattr(client, "nthreads", None)):
        try:
            return max(sum(client.nthreads().values()), 1)
        except Exception:          # only an estimate: a cluster that will not say is 1
            return 1
    count = getattr(executor, "_max_workers", None)
    return count if is_int(count) and count >= 1 else 1


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
    return check_distinct(seeds, "seeds", where)


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


class _Progress:
    """One line per finished run, with how many of the ``total`` jobs are done and an
    estimate of the rest: the mean seconds of the runs trained so far (loaded runs took
    none) times the jobs left, over the runs that go at once (``parallel``)."""

    def __init__(self, total, parallel, enabled):
        self.total, self.parallel, self.enabled = total, parallel, enabled
        self.done, self.trained_seconds = 0, []

    def loaded(self, run, where):
        self.done += 1
        self._print(f"  {run.label} seed {run.seed}: loaded from {where}")

    def trained(self, run):
        self.done += 1
        self.trained_seconds.append(run.seconds)
        end = f"diverged at step {run.diverged}" if run.diverged is not None else (
            f"final eval {run.history['metric']} {run.history['eval_loss'][-1]:.4g}")
        left = self.total - self.done
        estimate = "" if not left else ", about " + _duration(
            float(np.mean(self.trained_seconds)) * left / self.parallel) + " left"
        self._print(f"  {run.label} seed {run.seed}: {end} ({run.seconds:.1f} s) "
                    f"[{self.done}/{self.total} done{estimate}]")

    def _print(self, line):
        if self.enabled:
            print(line, flush=True)


def _duration(seconds) -> str:
    if seconds < 90:
        return f"{max(round(seconds), 1)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
