"""The classic long-memory tasks, generated from a seed (nothing is downloaded).

Every task has the same small interface (:class:`.task.Task`), which is all the trainer
(:mod:`rnnzoo.training.trainer`) relies on:

=====================  =================================================================
``input_size``         D, the feature size of x
``output_size``        the readout's size (1 for regression, C for C classes)
``readout``            "last" (one prediction per sequence) or "all" (one per step)
``T``                  the sequence length the model sees
``loss_kind``          "mse" or "xent"
``batch(B, rng)``      a fresh training batch ``(x, target)``, NumPy, x float64 (T, B, D)
``eval_data()``        a fixed evaluation set ``(x, target)`` (the same on every call)
``loss(y, target)``    ``(loss, dL/dy)``, with the losses of :mod:`rnnzoo.training.model`
``accuracy(y, t)``     the task's accuracy as a float in [0, 1]
``baseline``           the loss of the task's *trivial* predictor, which remembers
                       nothing of the inputs, with its formula in ``baseline_formula``:
                       a model must get below it to have learned anything. Not always
                       the best loss without memory: each task's docstring says what its
                       predictor may know (copy's knows the step) and where one that
                       reads x_t alone does better (adding, parity, digits, charlm).
                       ``baseline_name`` is what plots call it ("memoryless baseline"
                       by default; digits: "no-input baseline (class frequencies)",
                       charlm: "unigram baseline")
``success``            what *solved* means (:class:`.task.Success`: metric, threshold,
                       direction, the level to leave and its name, the source), or
                       None (charlm)
``success_value(y,t)`` that metric of outputs y on targets t, computed at every
                       evaluation next to the loss
=====================  =================================================================

Solved, per task: adding, eval MSE < 0.01; copy, at least 99% of the recalled symbols
right; associative retrieval, accuracy halfway from the plateau of a model that knows
which digits it saw but not their keys (0.38 for 4 pairs, computed exactly) to 1;
digits, test accuracy >= 0.9; selective copy, at least 99% of the recalled symbols right;
induction heads, accuracy >= 0.99; MQAR, accuracy >= 0.99 on the query steps; parity,
accuracy >= 0.99 at the last step; charlm, none. Each task's docstring says why.

Build one by name with :func:`make_task` (``"adding"``, ``"copy"``, ``"associative"`` from
:mod:`.memory`, ``"digits"``, ``"permuted_digits"`` from :mod:`.digits`,
``"selective_copy"`` from :mod:`.selective_copy`, ``"induction"`` from :mod:`.induction`,
``"mqar"`` from :mod:`.mqar`, ``"parity"`` from :mod:`.parity`, ``"charlm"`` from
:mod:`.charlm`). A new task is a module here whose class this registry names.
"""
from __future__ import annotations

import inspect

from ...core.validation import check_bool
from .charlm import CharLM, sample
from .digits import SequentialDigits
from .induction import InductionHeads
from .memory import AddingProblem, AssociativeRetrieval, CopyMemory
from .mqar import MQAR
from .parity import RunningParity
from .selective_copy import SelectiveCopy
from .task import EVAL_SEED_OFFSET, Success, Task

TASKS = {"adding": AddingProblem, "copy": CopyMemory, "digits": SequentialDigits,
         "permuted_digits": SequentialDigits, "associative": AssociativeRetrieval,
         "selective_copy": SelectiveCopy, "induction": InductionHeads, "mqar": MQAR,
         "parity": RunningParity, "charlm": CharLM}

__all__ = ["TASKS", "make_task", "Task", "Success", "AddingProblem", "CopyMemory",
           "SequentialDigits", "AssociativeRetrieval", "SelectiveCopy", "InductionHeads",
           "MQAR", "RunningParity", "CharLM", "sample", "EVAL_SEED_OFFSET"]


def make_task(name, T=None, **kwargs) -> Task:
    """Build a task by name: ``make_task("adding", T=200, seed=0)``.

    ``T`` is the adding problem's length, the copy task's blank gap (its sequences are
    T + 20 long), the span selective copy scatters its symbols over (its sequences are
    T + K + 1 long), the whole length for induction heads (both triggers included) and for
    MQAR (its pairs and queries included), the number of bits for parity, fixed at 64 for
    the digits, and 2K + 3 for
    associative retrieval (set ``pairs=K`` instead).
    None means the task's default.
    """
    if not isinstance(name, str) or name not in TASKS:
        raise ValueError(f"unknown task {name!r}; expected one of {sorted(TASKS)}")
    if name == "permuted_digits":
        # permuted=False would quietly train plain digits under the permuted name
        if "permuted" in kwargs and not check_bool(kwargs["permuted"], "permuted",
                                                   where="make_task('permuted_digits')"):
            raise ValueError(f"make_task: 'permuted_digits' is the digits task with "
                             f"permuted=True; got permuted={kwargs['permuted']!r} (use "
                             f"'digits' for the unpermuted one)")
        kwargs["permuted"] = True
    if T is not None:
        kwargs["T"] = T
    params = inspect.signature(TASKS[name]).parameters
    takes = [k for k, p in params.items() if p.kind is not p.VAR_KEYWORD]
    unknown = sorted(set(kwargs) - set(takes), key=str)
    if unknown and len(takes) == len(params):        # (a task that takes **options: its own)
        raise TypeError(f"make_task({name!r}): unknown option(s) {unknown}; the task takes "
                        f"{', '.join(takes)}")
    return TASKS[name](**kwargs)
