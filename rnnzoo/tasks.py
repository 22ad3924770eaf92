"""The classic long-memory tasks, generated from a seed (nothing is downloaded).

Every task has the same small interface, which is all :mod:`rnnzoo.training` relies on:

=====================  =================================================================
``input_size``         D, the feature size of x
``output_size``        the readout's size (1 for regression, C for C classes)
``readout``            "last" (one prediction per sequence) or "all" (one per step)
``T``                  the sequence length the model sees
``loss_kind``          "mse" or "xent"
``batch(B, rng)``      a fresh training batch ``(x, target)``, NumPy, x float64 (T, B, D)
``eval_data()``        a fixed evaluation set ``(x, target)`` (the same on every call)
``loss(y, target)``    ``(loss, dL/dy)``, with the losses of :mod:`rnnzoo.model`
``accuracy(y, t)``     the task's accuracy as a float in [0, 1]
``baseline``           the loss of the best *memoryless / trivial* predictor, with its
                       formula in ``baseline_formula``: a model must get below it to
                       have learned anything
=====================  =================================================================

Build one by name with :func:`make_task` (``"adding"``, ``"copy"``, ``"digits"``,
``"permuted_digits"``, ``"associative"``, ``"charlm"`` from :mod:`rnnzoo.charlm`).
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .model import mse_loss, softmax_cross_entropy
from .ops import array_module
from .validation import (ArgumentTypeError, check_bool, check_float, check_int, check_seed,
                         describe)

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


class AddingProblem(Task):
    r"""The adding problem (Hochreiter & Schmidhuber, 1997), in the form of Le et al.
    (2015) and Arjovsky et al. (2016).

    Input x (T, B, 2): channel 0 holds values :math:`u_t \sim \mathcal U[0, 1]`, channel
    1 is a marker, 1 at exactly two steps and 0 elsewhere: one step drawn uniformly from
    the first half :math:`[0, \lfloor T/2 \rfloor)` and one from the second half
    :math:`[\lfloor T/2 \rfloor, T)`. Target (B, 1): the sum of the two marked values.
    Readout at the last step; loss MSE.

    Baseline: always predicting 1 (the mean of the target) gives MSE
    :math:`\mathrm{Var}(u_a + u_b) = 2 \cdot \tfrac1{12} = 1/6 \approx 0.167`.

    Accuracy: the fraction of sequences with :math:`|y - \text{target}| < 0.04`, the
    criterion of Hochreiter & Schmidhuber.

    ``layout="skiprnn"`` is the variant of Campos et al. (2018, Skip RNN): values
    :math:`\mathcal U[-0.5, 0.5]`, the first marker in the first 10% of the sequence
    :math:`[0, \lceil T/10 \rceil)`, the second in the last half. The baseline is the
    same variance, 1/6 (always predict 0). Most of the sequence carries nothing the
    model needs, which is what a skipping model can exploit.
    """

    name = "adding"
    input_size, output_size, readout, loss_kind = 2, 1, "last", "mse"
    baseline = 1.0 / 6.0
    baseline_formula = "Var(u_a + u_b) = 2/12 (always predict 1)"
    tolerance = 0.04

    LAYOUTS = ("halves", "skiprnn")

    def __init__(self, T=100, *, layout="halves", seed=0, eval_size=1000):
        super().__init__(seed=seed, eval_size=eval_size)
        self.T = _check_positive_int(T, "adding problem T", minimum=2)
        if layout not in self.LAYOUTS:
            raise ValueError(f"adding problem layout must be one of {self.LAYOUTS}; "
                             f"got {layout!r}")
        self.layout = layout
        if layout == "skiprnn":
            self.baseline_formula = "Var(u_a + u_b) = 2/12 (always predict 0)"

    @property
    def spec(self):
        return {**super().spec, "T": self.T, "layout": self.layout}

    def batch(self, batch_size, rng):
        _check_rng(rng)
        B, T, half = _check_positive_int(batch_size, "batch_size"), self.T, self.T // 2
        x = np.zeros((T, B, 2))
        x[:, :, 0] = rng.random((T, B))
        cols = np.arange(B)
        if self.layout == "skiprnn":
            x[:, :, 0] -= 0.5
        first = rng.integers(0, half if self.layout == "halves" else -(-T // 10), B)
        second = rng.integers(half, T, B)
        x[first, cols, 1] = 1.0
        x[second, cols, 1] = 1.0
        target = (x[first, cols, 0] + x[second, cols, 0])[:, None]
        return x, target

    def accuracy(self, y, target):
        xp = array_module(y)
        return float(xp.mean(xp.abs(y - target) < self.tolerance))


class CopyMemory(Task):
    r"""The copy memory task (Arjovsky, Shah & Bengio, 2016).

    A sequence of length T + 20 over 10 codes (0 blank, 1-8 symbols, 9 delimiter): 10
    symbols drawn uniformly from 1-8, then T - 1 blanks, the delimiter, and 10 blanks.
    After the delimiter the model must output the 10 symbols in order; before it, blanks.

    Input x (T+20, B, 10): the codes one-hot. Target (T+20, B) int in 0-8: blank (0) for
    the first T + 10 steps, then the 10 symbols. Readout at every step (``output_size``
    9, since the delimiter is never a target); loss: cross-entropy averaged over all
    T + 20 steps, as in the paper. Accuracy: over the 10 recall steps only.

    Baseline: a memoryless strategy outputs blanks (perfectly: where they come is known)
    and then guesses uniformly among the 8 symbols, costing ln 8 at each of the 10
    recall steps: :math:`10 \ln 8 / (T + 20)`.
    """

    name = "copy"
    input_size, output_size, readout, loss_kind = 10, 9, "all", "xent"
    n_symbols, n_recall = 8, 10
    BLANK, DELIMITER = 0, 9
    baseline_formula = "10 ln 8 / (T + 20) (blanks, then uniform guesses)"

    def __init__(self, T=50, *, seed=0, eval_size=1000):
        super().__init__(seed=seed, eval_size=eval_size)
        self.delay = _check_positive_int(T, "copy task T (the blank gap)")
        self.T = self.delay + 2 * self.n_recall
        self.baseline = self.n_recall * math.log(self.n_symbols) / self.T

    @property
    def spec(self):
        return {**super().spec, "T": self.delay}

    def codes(self, batch_size, rng):
        """(codes (T+20, B) int for the input, target (T+20, B) int)."""
        _check_rng(rng)
        B, L, k = _check_positive_int(batch_size, "batch_size"), self.T, self.n_recall
        symbols = rng.integers(1, self.n_symbols + 1, (k, B))
        codes = np.zeros((L, B), dtype=np.int64)
        codes[:k] = symbols
        codes[L - k - 1] = self.DELIMITER
        target = np.zeros((L, B), dtype=np.int64)
        target[L - k:] = symbols
        return codes, target

    def batch(self, batch_size, rng):
        codes, target = self.codes(batch_size, rng)
        return _one_hot(codes, self.input_size), target

    def accuracy(self, y, target):
        k = self.n_recall
        return float(array_module(y).mean(y[-k:].argmax(axis=-1) == target[-k:]))


class SequentialDigits(Task):
    r"""Sequential (and permuted) digits: the offline stand-in for (permuted) sequential
    MNIST (Le et al., 2015).

    scikit-learn's bundled 8x8 handwritten digits (1,797 images, shipped inside the
    scikit-learn package, so nothing is downloaded), pixels scaled from 0-16 to [0, 1]
    and read one per step in row-major order, or, with ``permuted=True``, in one fixed
    random order drawn from ``seed`` (which destroys the local structure and spreads
    dependencies over the whole sequence).

    Input x (64, B, 1); target (B,) int in 0-9; readout at the last step; loss
    cross-entropy; accuracy the fraction classified correctly. The train/test split is
    fixed by ``seed`` (``test_fraction`` of the images, 359 by default, is held out);
    :meth:`batch` samples training images, :meth:`eval_data` is the test split.

    Baseline: predicting the training class frequencies for every image; its
    cross-entropy on the test split is about ln 10 ≈ 2.30 (the classes are balanced).
    """

    name = "digits"
    input_size, output_size, readout, loss_kind, T = 1, 10, "last", "xent", 64
    baseline_formula = "cross-entropy of the training class frequencies (≈ ln 10)"

    def __init__(self, T=None, *, permuted=False, seed=0, test_fraction=0.2):
        if T is not None and check_int(T, "T") != 64:
            raise ValueError(f"the digits task has a fixed length T = 64 (8x8 pixels); got T={T}")
        permuted = check_bool(permuted, "permuted", where="digits task")
        test_fraction = check_float(test_fraction, "test_fraction", minimum=0.0, maximum=1.0,
                                    min_open=True, max_open=True, where="digits task")
        super().__init__(seed=seed, eval_size=1)
        images, labels = _load_digits()
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(len(labels))
        n_test = int(round(test_fraction * len(labels)))
        if not 0 < n_test < len(labels):
            raise ValueError(f"test_fraction must leave both splits non-empty; got {test_fraction}")
        self.permuted = bool(permuted)
        self.test_fraction = float(test_fraction)
        self.name = "permuted_digits" if self.permuted else "digits"
        self.pixel_order = rng.permutation(64) if self.permuted else np.arange(64)
        seqs = images[:, self.pixel_order]             # (N, 64) in reading order
        self.train_x, self.train_y = seqs[order[n_test:]], labels[order[n_test:]]
        self.test_x, self.test_y = seqs[order[:n_test]], labels[order[:n_test]]
        self.eval_size = n_test
        prior = np.bincount(self.train_y, minlength=10) / len(self.train_y)
        self.baseline = float(-np.log(prior[self.test_y]).mean())

    @property
    def spec(self):
        return {"name": self.name, "seed": self.seed, "test_fraction": self.test_fraction}

    @staticmethod
    def _as_sequences(rows):
        """(B, 64) pixels -> (64, B, 1) time-major."""
        return np.ascontiguousarray(rows.T)[:, :, None]

    def batch(self, batch_size, rng):
        _check_rng(rng)
        B = _check_positive_int(batch_size, "batch_size")
        if B > len(self.train_y):
            raise ValueError(f"batch_size {B} exceeds the {len(self.train_y)} training images")
        idx = rng.choice(len(self.train_y), B, replace=False)
        return self._as_sequences(self.train_x[idx]), self.train_y[idx]

    def eval_data(self):
        if self._eval is None:
            self._eval = (self._as_sequences(self.test_x), self.test_y)
        return self._eval


@functools.lru_cache(maxsize=1)
def _load_digits():
    """(images (1797, 64) in [0, 1], labels (1797,) int64), read once per process."""
    from sklearn.datasets import load_digits    # bundled with scikit-learn, no download
    data = load_digits()
    images, labels = data.data / 16.0, data.target.astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


class AssociativeRetrieval(Task):
    r"""Associative retrieval (Ba et al., 2016, "Using Fast Weights to Attend to the
    Recent Past", Sec. 4.1): read K key-value pairs, then ``??`` and a query key; output
    the query's value. E.g. ``c9k8j3f1??c`` -> 9.

    Keys are K distinct lowercase letters, values digits 0-9 (repeats allowed), and the
    query is one of the K keys chosen uniformly. Vocabulary: 26 letters, 10 digits and
    ``?`` (37 codes: letters 0-25, digits 26-35, ``?`` 36). K defaults to 4, the size of
    the paper's example string; larger K makes the task harder.

    Input x (2K + 3, B, 37) one-hot; target (B,) int 0-9; readout at the last step; loss
    cross-entropy; accuracy the fraction of queries answered correctly.

    Baseline: guessing without memory, uniform over the 10 digits: ln 10 ≈ 2.303
    (accuracy 10%).
    """

    name = "associative"
    output_size, readout, loss_kind = 10, "last", "xent"
    LETTERS, DIGITS = "abcdefghijklmnopqrstuvwxyz", "0123456789"
    VOCAB = LETTERS + DIGITS + "?"
    input_size = len(VOCAB)
    baseline = math.log(10)
    baseline_formula = "ln 10 (uniform guess over the digits)"

    def __init__(self, T=None, *, pairs=4, seed=0, eval_size=1000):
        super().__init__(seed=seed, eval_size=eval_size)
        self.pairs = check_int(pairs, "pairs (at most 26: the keys are distinct letters)",
                               minimum=1, maximum=26)
        if T is not None and check_int(T, "T") != 2 * self.pairs + 3:
            raise ValueError(f"associative retrieval has length T = 2*pairs + 3 = "
                             f"{2 * self.pairs + 3}; set pairs=K instead of T (got T={T})")
        self.T = 2 * self.pairs + 3

    @property
    def spec(self):
        return {**super().spec, "pairs": self.pairs}

    def codes(self, batch_size, rng):
        """(codes (2K+3, B) int, target (B,) int)."""
        _check_rng(rng)
        B, K = _check_positive_int(batch_size, "batch_size"), self.pairs
        keys = np.argsort(rng.random((B, 26)), axis=1)[:, :K]       # K distinct letters
        values = rng.integers(0, 10, (B, K))
        which = rng.integers(0, K, B)
        rows = np.arange(B)
        codes = np.empty((self.T, B), dtype=np.int64)
        codes[0:2 * K:2] = keys.T
        codes[1:2 * K:2] = (26 + values).T
        codes[2 * K:2 * K + 2] = 36                                 # "??"
        codes[-1] = keys[rows, which]
        return codes, values[rows, which]

    def batch(self, batch_size, rng):
        codes, target = self.codes(batch_size, rng)
        return _one_hot(codes, self.input_size), target

    def decode(self, x):
        """One sequence, one-hot (T, 37) or codes (T,), back to its string."""
        codes = np.asarray(x).argmax(axis=-1) if np.ndim(x) == 2 else np.asarray(x)
        return "".join(self.VOCAB[c] for c in codes)


TASKS = {"adding": AddingProblem, "copy": CopyMemory, "digits": SequentialDigits,
         "permuted_digits": SequentialDigits, "associative": AssociativeRetrieval}
from .charlm import CharLM  # noqa: E402  (its own module; it builds on Task above)
TASKS["charlm"] = CharLM


def make_task(name, T=None, **kwargs) -> Task:
    """Build a task by name: ``make_task("adding", T=200, seed=0)``.

    ``T`` is the adding problem's length, the copy task's blank gap (its sequences are
    T + 20 long), fixed at 64 for the digits, and 2K + 3 for associative retrieval (set
    ``pairs=K`` instead). None means the task's default.
    """
    if not isinstance(name, str) or name not in TASKS:
        raise ValueError(f"unknown task {name!r}; expected one of {sorted(TASKS)}")
    if name == "permuted_digits":
        kwargs.setdefault("permuted", True)
    if T is not None:
        kwargs["T"] = T
    return TASKS[name](**kwargs)
