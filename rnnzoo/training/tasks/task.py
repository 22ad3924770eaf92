"""The interface every task shares (:class:`Task`: the fixed evaluation set, loss and
accuracy by ``loss_kind``, and what *solved* means: :class:`Success`) and the small
helpers the task modules use."""
from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass

import numpy as np

from ...core.ops import array_module
from ...core.validation import ArgumentTypeError, check_int, check_seed, describe
from ...core.backend import to_numpy
from ..model import IGNORE_INDEX, _check_array, mse_loss, softmax_cross_entropy

EVAL_SEED_OFFSET = 1_000_003   # eval sets come from seed + this, never from training rngs


def _one_hot(codes, n):
    """Integer codes (...,) -> float64 one-hot (..., n), by indexing an identity matrix."""
    return np.eye(n)[codes]


def _check_positive_int(value, what, minimum=1):
    return check_int(value, what, minimum=minimum)


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise ArgumentTypeError(f"rng must be a numpy Generator (np.random.default_rng(seed)); "
                                f"got {describe(rng)}")


@dataclass(frozen=True)
class Success:
    """What *solved* means on a task: a metric of the model's outputs on the evaluation
    set, a threshold and a direction. A run is solved at an evaluation whose metric is
    below the threshold (``direction="below"``: ``value < threshold``) or at or above it
    (``"above"``: ``value >= threshold``); NaN (a diverged run) never is.

    ``same_as``: the quantity the trainer already records that the metric equals
    ("loss" or "accuracy", None if neither), so a plot of that quantity draws the
    threshold. ``memoryless``: the metric's value for the task's memoryless predictor (the
    level to leave). ``memoryless_loss``: that predictor's loss where it is *not* the task's
    ``baseline`` (associative retrieval's plateau), else None. ``source``: where the
    criterion comes from and why this threshold. ``level``: what plots call that level
    ("memoryless", or what the level is where it is not the best a model without memory
    does: digits' "most frequent class (no input)", associative retrieval's plateau).

    The metric must be a mean over the evaluation sequences (the trainer evaluates in
    slices and averages them by size)."""

    metric: str
    threshold: float
    direction: str
    same_as: str | None
    memoryless: float
    source: str
    memoryless_loss: float | None = None
    level: str = "memoryless"

    DIRECTIONS = ("below", "above")

    def __post_init__(self):
        if self.direction not in self.DIRECTIONS:
            raise ValueError(f"Success.direction must be one of {self.DIRECTIONS}; got "
                             f"{self.direction!r}")
        if self.same_as not in (None, "loss", "accuracy"):
            raise ValueError(f"Success.same_as must be None, 'loss' or 'accuracy'; got "
                             f"{self.same_as!r}")
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, numbers.Real):
            raise ArgumentTypeError(f"Success.threshold must be a real number; got "
                                    f"{describe(self.threshold)}")
        if not math.isfinite(self.threshold):
            raise ValueError(f"Success.threshold must be finite; got {self.threshold!r}")

    def met(self, value):
        """Whether ``value`` (a number or an array of them) meets the criterion."""
        try:
            value = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise ArgumentTypeError(f"Success.met: value must be a number or an array of "
                                    f"numbers; got {describe(value)}") from None
        with np.errstate(invalid="ignore"):
            met = value < self.threshold if self.direction == "below" else \
                value >= self.threshold
        return bool(met) if met.ndim == 0 else met

    def describe(self) -> str:
        """E.g. ``"MSE < 0.01"``."""
        return f"{self.metric} {'<' if self.direction == 'below' else '>='} {self.threshold:.3g}"

    def to_dict(self) -> dict:
        return asdict(self)


class Task:
    """Shared plumbing: the fixed evaluation set, loss/accuracy by ``loss_kind``, and the
    success criterion (:attr:`success`, None where the task has none) with its metric
    (:meth:`success_value`)."""

    name = ""
    loss_kind = "mse"
    readout = "last"
    input_size = output_size = T = 0
    baseline = float("nan")
    baseline_formula = ""
    # what plots call the baseline: "memoryless baseline" where nothing without memory
    # does better, else what it is (digits: the class frequencies; charlm: the unigram)
    baseline_name = "memoryless baseline"
    success: Success | None = None      # what solved means; None: the task has no criterion

    def __init__(self, *, seed=0, eval_size=1000):
        self.seed = check_seed(seed, where=type(self).__name__)
        self.eval_size = _check_positive_int(eval_size, "eval_size")
        self._eval = None

    @property
    def metric(self) -> str:
        """The name of the loss reported as the task's metric."""
        return "MSE" if self.loss_kind == "mse" else "cross-entropy (nats)"

    def describe(self) -> str:
        solved = f"; solved: {self.success.describe()}" if self.success is not None else ""
        return (f"{self.name}: x {self.x_shape}, target {self.target_shape}, loss {self.metric}"
                f", baseline {self.baseline:.4g} = {self.baseline_formula}{solved}")

    @property
    def x_shape(self) -> str:
        return f"({self.T}, B, {self.input_size})"

    @property
    def target_shape(self) -> str:
        return "(B, 1) float" if self.loss_kind == "mse" else (
            "(B,) int" if self.readout == "last" else f"({self.T}, B) int")

    @property
    def spec(self) -> dict:
        """JSON-able arguments that rebuild this task with :func:`make_task`."""
        return {"name": self.name, "seed": self.seed, "eval_size": self.eval_size}

    def batch(self, batch_size, rng):
        """A fresh training batch (x, target) drawn with ``rng`` (a numpy Generator)."""
        raise NotImplementedError

    def eval_data(self):
        """The fixed evaluation set, drawn once from ``seed + EVAL_SEED_OFFSET``."""
        if self._eval is None:
            self._eval = self.batch(self.eval_size,
                                    np.random.default_rng(self.seed + EVAL_SEED_OFFSET))
        return self._eval

    def loss(self, y, target):
        """(mean loss, dL/dy) for the model's output y."""
        self._check_outputs(y, target, "loss")
        return self._loss(y, target)

    def _loss(self, y, target):
        """:meth:`loss` on outputs already checked."""
        if self.loss_kind == "mse":
            return mse_loss(y, target)
        return softmax_cross_entropy(y, target)

    def _check_outputs(self, y, target, where):
        """y and target as the model and :meth:`batch` give them, checked once per call
        (a target of another shape used to broadcast against y without a word, or fail
        inside NumPy): y a floating array, (B, output_size) for readout 'last' or
        (T, B, output_size) for 'all'; target y's shape (MSE tasks) or y's shape without
        the class axis, in integers (classification)."""
        where = f"{type(self).__name__}.{where}"
        _check_array(y, "y", where)
        ndim = 2 if self.readout == "last" else 3
        layout = "(B, output_size)" if ndim == 2 else "(T, B, output_size)"
        if y.ndim != ndim or (self.output_size and y.shape[-1] != self.output_size):
            raise ValueError(f"{where}: y must be the model's output, {layout} with "
                             f"output_size={self.output_size} (readout={self.readout!r}); "
                             f"got shape {tuple(y.shape)}")
        if 0 in y.shape:
            raise ValueError(f"{where}: y is empty (shape {tuple(y.shape)}); a batch needs at "
                             f"least one sequence of at least one step")
        if self.loss_kind == "mse":
            _check_array(target, "target", where, dtype=y.dtype, shape=y.shape,
                         shape_of="the shape of y")
        else:
            _check_array(target, "target", where, shape=y.shape[:-1],
                         shape_of="the shape of y without its class axis", floating=False)
            if not np.issubdtype(target.dtype, np.integer):
                raise TypeError(f"{where}: target must hold integer class labels; got dtype "
                                f"{target.dtype}")
        if type(y) is not type(target):
            raise TypeError(f"{where}: y and target must be arrays of one backend; got "
                            f"{type(y).__name__} and {type(target).__name__}")

    def _check_labels(self, y, target, where):
        """A class label out of range would be scored as a wrong answer (the loss refuses
        it itself, so its every training step does not pay for this pass and host read)."""
        if self.loss_kind == "mse":
            return
        classes = y.shape[-1]
        outside = ((target < 0) | (target >= classes)) & (target != IGNORE_INDEX)
        if bool(to_numpy(outside.any())):
            first = int(to_numpy(target[outside][0]))
            raise ValueError(f"{type(self).__name__}.{where}: target must hold class labels "
                             f"in [0, {classes}) ({IGNORE_INDEX} where nothing is asked); got "
                             f"{first}")

    def accuracy(self, y, target) -> float:
        """Fraction of correct predictions (argmax over classes for classification)."""
        self._check_outputs(y, target, "accuracy")
        self._check_labels(y, target, "accuracy")
        return self._accuracy(y, target)

    def _accuracy(self, y, target) -> float:
        xp = array_module(y)
        return float(xp.mean(y.argmax(axis=-1) == target))

    def success_value(self, y, target) -> float:
        """The success metric of outputs ``y`` against ``target`` (a mean over the
        sequences): the loss or the accuracy, as :attr:`success` says. A task whose metric
        is neither overrides :meth:`_success_value` (the arguments are checked here)."""
        if self.success is None:
            raise ValueError(f"task {self.name!r} has no success criterion (its success is "
                             f"None); compare its loss with the baseline instead")
        self._check_outputs(y, target, "success_value")
        self._check_labels(y, target, "success_value")
        return self._success_value(y, target)

    def _success_value(self, y, target) -> float:
        if self.success.same_as == "loss":            # (success_value checked them)
            return float(self._loss(y, target)[0])
        if self.success.same_as == "accuracy":
            return float(self._accuracy(y, target))
        raise NotImplementedError(f"{type(self).__name__} must define _success_value: its "
                                  f"metric {self.success.metric!r} is not its loss or accuracy")

    def __repr__(self):
        return f"<{type(self).__name__} {self.describe()}>"
