"""Running parity of a bit string: the state-tracking task that separates recurrences
with a nonlinear (or sign-flipping) state update from diagonal linear ones."""
from __future__ import annotations

import math

from ...core.ops import array_module
from ...core.validation import check_int
from .task import Success, Task, _check_positive_int, _check_rng, _one_hot


def binary_entropy(p):
    """-p ln p - (1 - p) ln(1 - p), in nats."""
    return -sum(q * math.log(q) for q in (p, 1.0 - p) if q > 0.0)


class RunningParity(Task):
    r"""Running parity: read bits x_1 .. x_T (uniform, independent) and answer at every
    step the parity so far, y_t = x_1 ⊕ ... ⊕ x_t (1 when an odd number of ones has been
    read). The formal-language task of Delétang et al. (ICLR 2023, "Neural Networks and
    the Chomsky Hierarchy", "parity check"), which xLSTM (Beck et al., 2024, Fig. 4) uses
    to show that sLSTM tracks state where linear recurrences do not; running (one answer
    per step) as in Grazzi et al. (ICLR 2025, "Unlocking state-tracking in linear RNNs
    through negative eigenvalues"), so every step supervises the state.

    Why it separates cells: the state must flip sign-like at every 1 forever. A diagonal
    linear recurrence s_t = a_t ⊙ s_{t-1} + b_t with a_t in [0, 1] (mingru, minlstm, lru's
    real part at rest, Mamba's S6) cannot represent the flip at arbitrary length (Grazzi
    et al., Theorem 1); one whose transition can reach eigenvalue -1 (DeltaNet with β in
    (0, 2)) can, and so can a nonlinear recurrence (the LSTM, sLSTM). Training at a short
    T and evaluating at a longer one (:func:`rnnzoo.training.trainer.evaluate` with
    ``make_task("parity", T=4 * T)``) tells a model that tracks the state from one that
    memorized short strings: nothing in a recurrent model is tied to T.

    Input x (T, B, 2): the bits one-hot. Target (T, B) int in {0, 1}. Readout at every
    step (``output_size`` 2); loss the cross-entropy averaged over the steps; accuracy the
    fraction of steps answered right.

    Baseline: chance, ln 2 at every step but the first. For t >= 2, y_t = y_{t-1} ⊕ x_t
    with y_{t-1} uniform and independent of x_t, so a model that sees x_t but remembers
    nothing is right with probability 1/2; at t = 1, y_1 = x_1 is in the input. Such a
    model, which knows neither the step nor the past, does best answering y = x with
    probability (T + 1)/(2T) at every step, and scores the binary entropy of that,
    h((T + 1)/(2T)) = ln 2 - O(1/T²) (0.6912 at T = 16 against ln 2 = 0.6931): the
    ``baseline``. At the last step alone its accuracy is exactly 1/2. A model that knows
    only whether it is at the first step (one bit of state: a recurrent state that starts
    at 0 tells it) gets step 1 right and guesses after it, (T - 1)/T ln 2 (0.6498 at
    T = 16, 6% below the baseline), without tracking the parity at all; the copy tasks'
    baselines grant the step, this one does not. The last-step accuracy, 1/2 for both,
    is what tells tracking from that.

    Solved (:attr:`success`): accuracy at least 0.99 **at the last step**, over the
    evaluation sequences. The last step is chosen over every step for two reasons. It is
    the longest prefix: a model that loses track of the parity once, and does not lose it
    again, is wrong there, so the last step is (up to the rare double error) the hardest
    one, and it is the whole string's parity, the answer Delétang et al. and xLSTM score.
    And a success metric must be a mean over sequences (the trainer evaluates in slices
    and averages them by size); the minimum over the steps of the per-step accuracy is
    not one. The all-steps accuracy is the task's ``accuracy``, recorded as ever; it
    rewards the early steps any short memory gets right (step 1 from the input alone).
    Defaults (T = 16) are CPU-sized; Delétang et al. train at lengths up to 40 and test
    up to 500.
    """

    name = "parity"
    readout, loss_kind = "all", "xent"
    input_size, output_size = 2, 2

    def __init__(self, T=16, *, seed=0, eval_size=1000):
        super().__init__(seed=seed, eval_size=eval_size)
        self.T = check_int(T, "parity T (the number of bits)", minimum=2)
        p = (self.T + 1) / (2 * self.T)
        self.baseline = binary_entropy(p)
        self.baseline_formula = (f"h((T + 1)/(2T)) = h({p:.4g}), the binary entropy: chance "
                                 f"ln 2 but at the first step, whose target is its input")
        self.success = Success(
            "accuracy at the last step", 0.99, "above", same_as=None, memoryless=0.5,
            source="the whole string's parity (Delétang et al. 2023; xLSTM's formal "
                   "languages), the longest prefix; a memoryless model gets 1/2")

    @property
    def spec(self):
        return {**super().spec, "T": self.T}

    def codes(self, batch_size, rng):
        """(bits (T, B) int, running parity (T, B) int)."""
        _check_rng(rng)
        B = _check_positive_int(batch_size, "batch_size")
        bits = rng.integers(0, 2, (self.T, B))
        return bits, bits.cumsum(axis=0) % 2

    def batch(self, batch_size, rng):
        bits, target = self.codes(batch_size, rng)
        return _one_hot(bits, 2), target

    def _success_value(self, y, target) -> float:
        """The fraction of sequences whose last step is answered right: y (T, B, 2),
        target (T, B)."""
        xp = array_module(y)
        return float(xp.mean(y[-1].argmax(axis=-1) == target[-1]))
