"""The interface every task shares (:class:`Task`: the fixed evaluation set, loss and
accuracy by ``loss_kind``) and the small helpers the task modules use."""
from __future__ import annotations

import numpy as np

from ...core.ops import array_module
from ...core.validation import ArgumentTypeError, check_int, check_seed, describe
from ..model import mse_loss, softmax_cross_entropy

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


class Task:
    """Shared plumbing: the fixed evaluation set, and loss/accuracy by ``loss_kind``."""

    name = ""
    loss_kind = "mse"
    readout = "last"
    input_size = output_size = T = 0
    baseline = float("nan")
    baseline_formula = ""

    def __init__(self, *, seed=0, eval_size=1000):
        self.seed = check_seed(seed, where=type(self).__name__)
        self.eval_size = _check_positive_int(eval_size, "eval_size")
        self._eval = None

    @property
    def metric(self) -> str:
        """The name of the loss reported as the task's metric."""
        return "MSE" if self.loss_kind == "mse" else "cross-entropy (nats)"

    def describe(self) -> str:
        return (f"{self.name}: x {self.x_shape}, target {self.target_shape}, loss {self.metric}"
                f", baseline {self.baseline:.4g} = {self.baseline_formula}")

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
        if self.loss_kind == "mse":
            return mse_loss(y, target)
        return softmax_cross_entropy(y, target)

    def accuracy(self, y, target) -> float:
        """Fraction of correct predictions (argmax over classes for classification)."""
        xp = array_module(y)
        return float(xp.mean(y.argmax(axis=-1) == target))

    def __repr__(self):
        return f"<{type(self).__name__} {self.describe()}>"
