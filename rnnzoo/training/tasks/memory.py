"""The synthetic long-memory tasks: the adding problem (Hochreiter & Schmidhuber 1997), the
copy memory task (Arjovsky et al. 2016) and associative retrieval (Ba et al. 2016)."""
from __future__ import annotations

import functools
import math

import numpy as np

from ...core.ops import array_module
from ...core.validation import check_int
from .task import Success, Task, _check_positive_int, _check_rng, _one_hot


class AddingProblem(Task):
    r"""The adding problem (Hochreiter & Schmidhuber, 1997), in the form of Le et al.
    (2015) and Arjovsky et al. (2016).

    Input x (T, B, 2): channel 0 holds values :math:`u_t \sim \mathcal U[0, 1]`, channel
    1 is a marker, 1 at exactly two steps and 0 elsewhere: one step drawn uniformly from
    the first half :math:`[0, \lfloor T/2 \rfloor)` and one from the second half
    :math:`[\lfloor T/2 \rfloor, T)`. Target (B, 1): the sum of the two marked values.
    Readout at the last step; loss MSE. This is the layout of Arjovsky et al.'s code;
    Hochreiter & Schmidhuber's own differs (values in [-1, 1], the first marker among the
    first ten steps, the second among the first T/2 - 1, lengths drawn from T to 1.1 T,
    target :math:`0.5 + (X_1 + X_2)/4`: with :math:`u = (X + 1)/2`, half the target
    here).

    Baseline: always predicting 1 (the mean of the target) gives MSE
    :math:`\mathrm{Var}(u_a + u_b) = 2 \cdot \tfrac1{12} = 1/6 \approx 0.167`. It uses
    no input at all; a predictor that reads the last input alone does a little better,
    since the second marker falls on the last step in a fraction
    :math:`1/(T - \lfloor T/2 \rfloor)` of the sequences:
    :math:`1/6 - 1/(12 (T - \lfloor T/2 \rfloor))` (0.150 at T = 10, 0.163 at T = 50,
    0.165 at T = 100).

    Accuracy: the fraction of sequences with :math:`|y - \text{target}| < 0.04`,
    Hochreiter & Schmidhuber's number; their targets are half ours, so their criterion
    is :math:`|y - \text{target}| < 0.08` here, and this one is twice as strict.

    Solved (:attr:`success`, in the halves layout): eval MSE below 0.01, 6% of the
    baseline. Hochreiter & Schmidhuber (1997) stopped training once the average training error was below 0.01
    and each of the 2000 most recent sequences was within 0.04; their targets were scaled
    to [0, 1], half our range (their MSE 0.01 is 0.04 here), so the same numbers are
    stricter here. Half the baseline (1/12) is *not* solved: it is what a model that
    remembers only one of the two marked values scores. The accuracy is reported beside
    the MSE.

    ``layout="skiprnn"`` is the variant of Campos et al. (2018, Skip RNN): values
    :math:`\mathcal U[-0.5, 0.5]`, the first marker in the first 10% of the sequence
    :math:`[0, \lceil T/10 \rceil)` (their code: the first :math:`\lfloor T/10 \rfloor`
    steps, the same for T a multiple of 10, as their T = 50), the second in the last half.
    The baseline is the same variance, 1/6 (always predict 0). Most of the sequence
    carries nothing the model needs, which is what a skipping model can exploit. Campos et
    al. call the task solved when the held-out MSE is two orders of magnitude below the
    target's variance, 1/600 ≈ 0.0017, and so does :attr:`success` for this layout
    (MSE < 1/600, six times stricter than the halves layout's 0.01).
    """

    name = "adding"
    input_size, output_size, readout, loss_kind = 2, 1, "last", "mse"
    baseline = 1.0 / 6.0
    baseline_formula = "Var(u_a + u_b) = 2/12 (always predict 1)"
    tolerance = 0.04
    success = Success(
        "MSE", 0.01, "below", same_as="loss", memoryless=1.0 / 6.0,
        source="Hochreiter & Schmidhuber (1997) stopped at an average training error below "
               "0.01 (their targets span [0, 1], ours [0, 2]); half the baseline, 1/12, is "
               "what remembering only one of the two values scores")

    SKIPRNN_SUCCESS = Success(
        "MSE", 1.0 / 600.0, "below", same_as="loss", memoryless=1.0 / 6.0,
        source="Campos et al. (2018), Table 1: solved when the MSE is at least two orders "
               "of magnitude below the variance of the output distribution (1/6 here)")

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
            self.success = self.SKIPRNN_SUCCESS

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

    def _accuracy(self, y, target):
        xp = array_module(y)
        return float(xp.mean(xp.abs(y - target) < self.tolerance))


class RecallTail(Task):
    """A task whose last ``n_recall`` steps recall symbols (copy, selective copy): a batch
    is the one-hot of :meth:`codes`, and the accuracy is over the recall steps only."""

    n_recall = 0

    def batch(self, batch_size, rng):
        codes, target = self.codes(batch_size, rng)
        return _one_hot(codes, self.input_size), target

    def _accuracy(self, y, target):
        k = self.n_recall
        return float(array_module(y).mean(y[-k:].argmax(axis=-1) == target[-k:]))


class CopyMemory(RecallTail):
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
    recall steps: :math:`10 \ln 8 / (T + 20)`, the paper's baseline. It knows the step
    (a counter, which any recurrent state can keep); a model that reads only x_t cannot
    tell the recall blanks from the gap's, and does worse: given a blank input (T + 9 of
    the T + 20 steps) the target is blank with probability (T - 1)/(T + 9) and each
    symbol with 10/(8 (T + 9)), so it scores :math:`(T + 9)\, H / (T + 20)` with H the
    entropy of that distribution: 0.681 nats at T = 50, against the baseline's 0.297.

    Solved (:attr:`success`): at least 99% of the recalled symbols right (the accuracy,
    per symbol over the 10 recall steps of every evaluation sequence), against 1/8 for the
    memoryless guess. Arjovsky et al. plot the cross-entropy against the baseline and state
    no threshold; 0.99 asks for the copy itself, not a loss that is merely lower. There is
    no loss equivalent: the loss averages over all T + 20 steps, most of them blanks.
    """

    name = "copy"
    input_size, output_size, readout, loss_kind = 10, 9, "all", "xent"
    n_symbols, n_recall = 8, 10
    BLANK, DELIMITER = 0, 9
    baseline_formula = "10 ln 8 / (T + 20) (blanks, then uniform guesses)"
    success = Success(
        "recall accuracy", 0.99, "above", same_as="accuracy", memoryless=1.0 / 8.0,
        source="per recalled symbol; Arjovsky et al. (2016) state no threshold: 0.99 asks "
               "for the copy itself (the memoryless guess gets 1/8)")

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

    The plateau (:func:`value_bag_plateau`): a model that remembers *which digits* it saw
    but not which key each belongs to predicts each seen digit with its frequency among
    the K values. For K = 4 that scores accuracy 0.3835 and cross-entropy 1.187 nats,
    computed exactly from the generator's distribution (K values uniform over 10 digits,
    the query one of the K keys). Models learning this task sit there for a long time
    before they bind values to keys; a loss below half the baseline (1.151) is only
    just under it.

    Solved (:attr:`success`): accuracy at least halfway from the plateau to perfect recall,
    (1 + plateau) / 2 (0.692 for K = 4). With 500 evaluation sequences the standard error
    of an accuracy near the plateau is about 0.02, so the margin (0.31) is some 14 of them:
    a seed counted as solved answers right well over half of what the bag of digits alone
    gets wrong. Ba et al. (2016) report error rates and state no threshold.
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
        self.plateau_accuracy, self.plateau_loss = value_bag_plateau(self.pairs)
        self.success = Success(
            "accuracy", (1.0 + self.plateau_accuracy) / 2, "above", same_as="accuracy",
            memoryless=self.plateau_accuracy, memoryless_loss=self.plateau_loss,
            level="bag-of-digits plateau",
            source=f"halfway from the plateau of a model that knows which digits it saw but "
                   f"not their keys (accuracy {self.plateau_accuracy:.4f}, "
                   f"{self.plateau_loss:.4f} nats, exact for {self.pairs} pairs) to perfect "
                   f"recall; Ba et al. (2016) state no threshold")

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


@functools.lru_cache(maxsize=None)
def value_bag_plateau(pairs, digits=10) -> tuple:
    r"""(accuracy, cross-entropy in nats) of the best predictor that knows the multiset of
    the ``pairs`` values it saw but not which key each belongs to, on associative
    retrieval: exact, not sampled.

    The K values are independent and uniform over ``digits``, and the query asks for one
    of them, uniformly. Given the counts :math:`c_v` of each digit among the K values
    (all bindings equally likely), the query's value is v with probability
    :math:`c_v / K`: that predictor's cross-entropy is
    :math:`E[-\sum_v (c_v/K) \ln(c_v/K)]` and its accuracy (answer the most frequent
    digit) :math:`E[\max_v c_v] / K`. The expectation runs over the partitions
    :math:`\lambda` of K into at most ``digits`` parts (the sorted counts), each with
    probability :math:`\frac{K!}{\prod_i \lambda_i!} \cdot
    \frac{D!}{(D-m)! \prod_j \mu_j!} / D^K` (m parts, :math:`\mu_j` parts of each equal
    size: which digits take which counts), in exact integer arithmetic.
    """
    K, D = check_int(pairs, "pairs", minimum=1), check_int(digits, "digits", minimum=1)
    total = D ** K
    accuracy = loss = 0.0
    seen = 0
    for parts in _partitions(K, K, D):
        m = len(parts)
        ways = math.factorial(K)
        for c in parts:
            ways //= math.factorial(c)
        ways *= math.perm(D, m)
        for size in set(parts):
            ways //= math.factorial(parts.count(size))
        seen += ways
        p = ways / total
        accuracy += p * max(parts) / K
        loss += p * -sum(c / K * math.log(c / K) for c in parts)
    assert seen == total, "the partitions must cover every sequence of values"
    return accuracy, loss


def _partitions(n, largest, count):
    """The partitions of n into at most ``count`` parts, each at most ``largest``, as
    non-increasing tuples."""
    if n == 0:
        yield ()
        return
    if count == 0:
        return
    for first in range(min(n, largest), 0, -1):
        for rest in _partitions(n - first, first, count - 1):
            yield (first,) + rest
