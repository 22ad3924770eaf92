"""Honest comparisons: several seeds with their spread, matched initialization, the
budget on the figure, and claims that are checks on the data rather than prose.

One call trains every (variant, seed) pair on a task under one budget, in parallel
processes (one BLAS thread each, so 2 cores give 2x), and returns a :class:`Comparison`::

    from rnnzoo import experiments as ex
    budget = ex.Budget(steps=1000, lr=1e-2, hidden=64)
    res = ex.compare([ex.Variant("lstm"), ex.Variant("janet")], task="adding",
                     task_options={"T": 100}, budget=budget, seeds=3)
    print(res.summary())     # median, spread, seeds solved, when each seed got there
    res.plot(ax)             # median line, min-max band, baseline, success threshold
    ex.claim("janet solves the adding problem (MSE < 0.01) in every seed",
             res.solved("janet") == 3, steps=res.solved_at("janet"))

**Scales out, survives interruption.** ``store="runs/adding"`` saves every finished run
(JSON and .npz, never pickle; :mod:`.store`) the moment it completes; the same call again
loads the finished runs and trains only the rest, bit for bit the same result, so Ctrl-C
or a crash loses at most the runs in flight, and a run stored with other settings is
refused with the fields that differ. ``executor=`` sends the runs to any
``concurrent.futures.Executor`` instead of this machine's processes; on a Dask cluster
(local, over SSH, on Slurm via dask-jobqueue, on Kubernetes: whatever gives a
``distributed.Client``)::

    from distributed import Client                # pip install "dask[distributed]"
    with Client("tcp://scheduler:8786") as client:
        res = ex.compare(variants, "adding", budget=budget, seeds=10,
                         executor=client.get_executor(), store="runs/adding")

(``python -m rnnzoo compare --scheduler tcp://scheduler:8786 --store runs/adding`` from
the shell.)

**Solved is the task's criterion** (:attr:`rnnzoo.tasks.Task.success`: adding MSE < 0.01,
1/600 in its Skip RNN layout, copy recall accuracy >= 0.99, associative retrieval well
above its plateau, digits accuracy >= 0.9): :meth:`Comparison.solved` counts the seeds
that end solved. Below half the baseline (:meth:`Comparison.below_half_baseline`,
:meth:`Comparison.left_baseline`) says only that a run learned something.

**Fair by default.** A variant gets the standard initialization trick that the papers
reproduced here also gave their baselines (:data:`FAIR_DEFAULTS`: an LSTM starts with
forget bias 1, as in Gers et al. 2000 and Jozefowicz et al. 2015; JANET's chrono init is
spread over the task's length). Overriding one of those with another value is a
deliberately unfair comparison, and :class:`Variant` refuses it unless ``note=`` says why;
the note is printed in the caption.

**Claims are data.** :func:`claim` prints PASS or FAIL with the numbers it was given and
raises :class:`ClaimFailed` on FAIL, so a notebook whose prose the data stops supporting
fails its test instead of misleading a student.

**Negative claims must survive more budget.** "The LSTM never leaves the baseline" is a
statement about the budget unless it survives more of it: :func:`robust_claim` states it
as a check on the comparison and, with ``robust=True`` (``python -m rnnzoo figures
--robust``), re-runs the variants it reads at 4x the steps on a second seed block (10-12
after 0-2) and records the verdict in the claim (:mod:`.robust`)::

    ex.robust_claim("the lstm never gets below half the baseline", res,
                    lambda r: r.below_half_baseline("lstm") == 0, labels=["lstm"],
                    robust=True)
"""
from __future__ import annotations

from ...benchmark.timing import time_interleaved
from .claims import Claim, ClaimFailed, Measurement, claim
from .results import LEFT_BASELINE_FRACTION, Comparison
from .robust import RerunPlan, plan_rerun, robust_claim, second_seed_block
from .running import compare
from .spec import FAIR_DEFAULTS, Budget, Variant
from .store import StoreError

__all__ = ["Budget", "Variant", "Comparison", "compare", "claim", "Claim", "ClaimFailed",
           "Measurement", "time_interleaved", "FAIR_DEFAULTS", "LEFT_BASELINE_FRACTION",
           "robust_claim", "plan_rerun", "RerunPlan", "second_seed_block", "StoreError"]
