"""Selective copying (Gu & Dao 2023, "Mamba", Sec. 3.1 and Fig. 2): the copy task with
the symbols scattered at random positions, so that *where* to look depends on the input."""
from __future__ import annotations

import math

import numpy as np

from ...core.validation import check_int
from .memory import RecallTail
from .task import Success, _check_positive_int, _check_rng


class SelectiveCopy(RecallTail):
    r"""Selective copying (Gu & Dao, 2023, Sec. 3.1, Fig. 2; the synthetic task of the
    Mamba paper, after Romero et al.'s and Jing et al.'s variants of the copy task).

    Codes: 0 blank (the paper's "noise" or white token), 1..S the symbols, S + 1 the
    delimiter. A sequence of length T + K + 1: K symbols drawn uniformly from 1..S at K
    distinct positions drawn uniformly among the first T steps (blanks everywhere else),
    then the delimiter, then K blanks during which the model must output the K symbols
    in the order they appeared. In the plain copy task (:class:`.memory.CopyMemory`) the
    symbols always sit at the start, so a fixed delay (a time-invariant filter) solves
    it; here the delay differs per symbol and per sequence: the model has to *select*
    what to keep from what it reads, which is the paper's point against linear
    time-invariant recurrences.

    Input x (T+K+1, B, S+2): the codes one-hot. Target (T+K+1, B) int in 0..S: blank
    for the first T + 1 steps, then the K symbols. Readout at every step
    (``output_size`` S + 1: the delimiter is never a target); loss: cross-entropy
    averaged over all T + K + 1 steps, as for the copy task. Accuracy: over the K recall
    steps only.

    Baseline: a memoryless strategy outputs blanks (perfectly: they come at known steps)
    and then guesses uniformly among the S symbols, costing ln S at each of the K recall
    steps: :math:`K \ln S / (T + K + 1)`.

    Solved (:attr:`success`): at least 99% of the recalled symbols right (per symbol, over
    the K recall steps of every evaluation sequence), against 1/S for the memoryless
    guess, as for the copy task. Gu & Dao report the accuracy (their Table 1, at length
    4096: S4 18.3% and S6 97.0% in a plain stack without gating, S6 in the Mamba block
    99.8%) and state no threshold.

    The S4 repository's copying generator with ``variable=True`` (state-spaces/s4,
    ``src/dataloaders/datasets/copying.py``) scatters the M symbols the same way, over the
    first L + M steps, but then marks each of the M recall steps with a marker token (no
    delimiter, no trailing blanks: length L + 2M) and scores only those M outputs; here one
    delimiter, then K blank steps, and the loss averages over all T + K + 1 steps, as for
    the copy task (so the memoryless baseline is K ln S / (T + K + 1); on the recall steps
    alone it would be ln S). The accuracy, and so what *solved* means, reads the recall
    steps in both.

    How many sequences there are: :math:`\binom{T}{K} S^K`. At the figures' and notebooks'
    size (T = 10, K = 2, S = 8) that is 2,880, and a run of a few hundred steps of 32
    draws nearly every one of them: the evaluation set there is not held out, so *solved*
    means right on the task's whole (finite) distribution, which a model may also fit
    sequence by sequence; it is not a test of generalizing to unseen sequences. At the
    defaults (T = 40, K = 4) there are 374,333,440 and an evaluation sequence is almost
    never one a run trained on.

    Defaults (T = 40, K = 4, S = 8) are small enough to train on a CPU in minutes; the
    paper's sequences are 4096 steps long with K = 16 and a vocabulary of 16 tokens that
    counts the noise token (so at most 15 symbols: ``vocab`` here counts the symbols
    alone).
    """

    name = "selective_copy"
    readout, loss_kind = "all", "xent"
    BLANK = 0

    def __init__(self, T=40, *, symbols=4, vocab=8, seed=0, eval_size=1000):
        super().__init__(seed=seed, eval_size=eval_size)
        self.K = check_int(symbols, "selective copy symbols (how many to copy)", minimum=1)
        self.n_recall = self.K                     # the last K steps recall them
        self.span = check_int(T, f"selective copy T (the span the {self.K} symbols are "
                                 f"scattered over, at least symbols)", minimum=self.K)
        self.n_symbols = check_int(vocab, "selective copy vocab (the number of symbols)",
                                   minimum=2)
        self.DELIMITER = self.n_symbols + 1
        self.input_size, self.output_size = self.n_symbols + 2, self.n_symbols + 1
        self.T = self.span + self.K + 1
        self.baseline = self.K * math.log(self.n_symbols) / self.T
        self.baseline_formula = (f"K ln S / (T + K + 1) = {self.K} ln {self.n_symbols} / "
                                 f"{self.T} (blanks, then uniform guesses)")
        self.success = Success(
            "recall accuracy", 0.99, "above", same_as="accuracy",
            memoryless=1.0 / self.n_symbols,
            source=f"per recalled symbol, as for the copy task (the memoryless guess gets "
                   f"1/{self.n_symbols}); Gu & Dao (2023) report accuracy and state no "
                   f"threshold")

    @property
    def spec(self):
        return {**super().spec, "T": self.span, "symbols": self.K, "vocab": self.n_symbols}

    def codes(self, batch_size, rng):
        """(codes (T+K+1, B) int for the input, target (T+K+1, B) int)."""
        _check_rng(rng)
        B = _check_positive_int(batch_size, "batch_size")
        T, K, L = self.span, self.K, self.T
        # K distinct positions among T per sequence, in increasing order: the K smallest
        # of T uniform keys' ranks (argsort), sorted; one vectorized draw for the batch
        where = np.sort(np.argsort(rng.random((B, T)), axis=1)[:, :K], axis=1).T    # (K, B)
        symbols = rng.integers(1, self.n_symbols + 1, (K, B))
        cols = np.broadcast_to(np.arange(B), (K, B))
        codes = np.zeros((L, B), dtype=np.int64)
        codes[where, cols] = symbols
        codes[T] = self.DELIMITER
        target = np.zeros((L, B), dtype=np.int64)
        target[L - K:] = symbols
        return codes, target

