"""Multi-query associative recall (Arora et al. 2023, "Zoology", Sec. 3): key-value pairs,
then every key again at a random later step: answer each query with its key's value."""
from __future__ import annotations

import math

import numpy as np

from ...core.ops import array_module
from ...core.validation import check_bool, check_int
from ..model import IGNORE_INDEX
from .task import Success, Task, _check_positive_int, _check_rng, _one_hot

IGNORE = IGNORE_INDEX      # the target where nothing is asked (the loss skips it)


class MQAR(Task):
    r"""Multi-query associative recall (Arora, Eyuboglu, Timalsina, Johnson, Poli, Zou,
    Rudra & Ré, 2023, "Zoology: Measuring and Improving Recall in Efficient Language
    Models", arXiv:2312.04927, Sec. 3 and Appendix E; their ``multiquery_ar`` generator in
    HazyResearch/zoology).

    Codes: 0..V-1 the keys, V..2V-1 the values, 2V the blank. A sequence of length T: N
    pairs k_1 v_1 k_2 v_2 .. k_N v_N (N distinct keys, N distinct values, each drawn
    uniformly without replacement), then T - 2N steps of blanks among which the N keys
    appear again, each exactly once, in a random order, at N distinct steps drawn
    uniformly. At each such query step the model must output the value that followed that
    key in the first part: ``A 4 B 3 C 6 . . B . . A C .`` -> 3 at B, 4 at A, 6 at C. Many
    recalls per sequence, each from a memory written once: the task that separates
    attention (and the matrix memories) from fixed-size diagonal recurrences in Zoology.

    Input x (T, B, 2V+1): the codes one-hot. Target (T, B) int: the value's index 0..V-1
    at the N query steps, -100 (ignored) everywhere else.

    ``paired=True`` shows each pair in one step instead, x_t = onehot(k_i) + onehot(v_i)
    (two ones) for t < N, then the T - N query steps as above. A cell whose q, k, v read
    x_t alone (deltanet, gated_deltanet, mlstm) cannot bind a key to the value one step
    later in one layer (the authors' layers put a short convolution before q, k, v for
    that); paired, one step writes the association, and the task measures the memory
    alone. The default is Zoology's token layout. Readout at every step
    (``output_size`` V); loss: cross-entropy averaged over the query steps only (Zoology's
    labels are -100 elsewhere too); accuracy: over the query steps only.

    Baseline (chance): a model without memory sees only the query key, and each key's
    value is uniform over the V values whatever the key: cross-entropy :math:`\ln V`,
    accuracy 1/V. A model that remembers *which* N values appeared but not which key each
    followed (a bag of the inputs, which a time-invariant filter computes) answers
    uniformly among them: :math:`\ln N` and 1/N (:meth:`value_set_level`).

    Solved (:attr:`success`): accuracy at least 0.99 on the query steps. Zoology reports
    the accuracy on the query steps and states no threshold; 0.99 asks for the recall
    itself, as for the copy and induction tasks.

    As in Zoology's generator, the answer is read at the query step itself (a recurrent
    cell's output at t sees x_t): its labels are the next tokens shifted onto the inputs,
    -100 everywhere but at the N query keys, whose label is their value (the value never
    follows the query in the input). Where this differs from it: (1) its queries sit at
    even offsets after the pairs, at gaps drawn from a power law (``power_a = 0.01``: most
    near the pairs); here the N query steps are uniform over the T - 2N steps after the
    pairs, so no fixed delay helps. (2) Its non-query steps after the pairs hold random
    tokens (``random_non_queries=True``, its default, which the repository's Figure 2
    configurations keep) or blanks (``False``); here blanks. (3) Its vocabulary (8,192)
    counts keys and values together; ``vocab`` here is the number of keys (= values).
    Defaults (T = 32, N = 4, V = 16) are CPU-sized; the paper sweeps T = 64..512 and
    N = 4..64.
    """

    name = "mqar"
    readout, loss_kind = "all", "xent"

    def __init__(self, T=32, *, pairs=4, vocab=16, paired=False, seed=0, eval_size=1000):
        super().__init__(seed=seed, eval_size=eval_size)
        self.vocab = check_int(vocab, "mqar vocab (the number of keys, and of values)",
                               minimum=2)
        self.pairs = check_int(pairs, "mqar pairs (the key-value pairs, at most vocab)",
                               minimum=1, maximum=self.vocab)
        self.paired = check_bool(paired, "mqar paired (one step per pair)")
        pair_steps = self.pairs * (1 if self.paired else 2)
        self.T = check_int(T, f"mqar T (the sequence length: {pair_steps} steps of "
                              f"pairs, then at least {self.pairs} for the queries)",
                           minimum=pair_steps + self.pairs)
        self.BLANK = 2 * self.vocab
        self.input_size, self.output_size = 2 * self.vocab + 1, self.vocab
        self.baseline = math.log(self.vocab)
        self.baseline_formula = f"ln V = ln {self.vocab} (each value uniform; no memory)"
        self.success = Success(
            "query accuracy", 0.99, "above", same_as="accuracy", memoryless=1.0 / self.vocab,
            source=f"per query, over the {self.pairs} query steps (the memoryless guess gets "
                   f"1/{self.vocab}); Arora et al. (2023) report accuracy and state no "
                   f"threshold")

    @property
    def spec(self):
        return {**super().spec, "T": self.T, "pairs": self.pairs, "vocab": self.vocab,
                "paired": self.paired}

    def value_set_level(self) -> tuple:
        """(accuracy, cross-entropy in nats) of a model that knows which N values appeared
        but not their keys: uniform among the N, 1/N and ln N."""
        return 1.0 / self.pairs, math.log(self.pairs)

    def codes(self, batch_size, rng):
        """(codes (L, B) int, target (L, B) int: values' indices at the query steps, -100
        elsewhere), in the token layout (L = T; with ``paired``, L = T + N: :meth:`batch`
        folds each pair into one step)."""
        _check_rng(rng)
        B = _check_positive_int(batch_size, "batch_size")
        N, V = self.pairs, self.vocab
        T = self.T + (N if self.paired else 0)
        # N of V without replacement per sequence: the first N of a random permutation
        keys = np.argsort(rng.random((B, V)), axis=1)[:, :N]                # (B, N)
        values = np.argsort(rng.random((B, V)), axis=1)[:, :N]
        order = np.argsort(rng.random((B, N)), axis=1)                      # query order
        where = np.sort(np.argsort(rng.random((B, T - 2 * N)), axis=1)[:, :N], axis=1)
        codes = np.full((T, B), self.BLANK, dtype=np.int64)
        codes[0:2 * N:2] = keys.T                                           # k_1 .. k_N
        codes[1:2 * N:2] = V + values.T                                     # v_1 .. v_N
        rows = np.arange(B)[:, None]
        steps = (2 * N + where).T                                           # (N, B)
        codes[steps, rows.T] = keys[rows, order].T                          # the queries
        target = np.full((T, B), IGNORE, dtype=np.int64)
        target[steps, rows.T] = values[rows, order].T                       # their values
        return codes, target

    def batch(self, batch_size, rng):
        codes, target = self.codes(batch_size, rng)
        x = _one_hot(codes, self.input_size)
        if not self.paired:
            return x, target
        N = self.pairs
        pairs = x[0:2 * N:2] + x[1:2 * N:2]                  # onehot(k_i) + onehot(v_i)
        return np.concatenate([pairs, x[2 * N:]]), target[N:]   # no query among the pairs

    def _accuracy(self, y, target):
        """The fraction of query steps answered right (the other steps are not asked).
        Every sequence has N of them, so this is also the mean of the sequences'
        accuracies (the trainer averages evaluation slices by their size)."""
        xp = array_module(y)
        asked = target != IGNORE
        return float(xp.sum((y.argmax(axis=-1) == target) & asked) / xp.sum(asked))
