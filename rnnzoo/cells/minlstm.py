"""minLSTM: an LSTM whose gates read x_t alone and sum to one, run as one linear scan."""
from __future__ import annotations

from ..core.ops import array_module
from ..core.registry import register
from ._minimal import MinimalRNN, candidate_, log_candidate, softplus


def normalized_gates(k_f, k_i):
    """f', i' = (f, i) / (f + i) for f = σ(k_f), i = σ(k_i), finite where f + i underflows;
    and r_f = i' (1 - f), r_i = f' (1 - i), what the backward multiplies by.

    Multiplied out by (1 + e^{-k_f})(1 + e^{-k_i}): f' = (1 + e^{-k_i}) / S and
    i' = (1 + e^{-k_f}) / S with S = 2 + e^{-k_f} + e^{-k_i}, and r_f = e^{-k_f} / S,
    r_i = e^{-k_i} / S. Every term is scaled by e^m, m = min(0, k_f, k_i), so no exponent
    is positive and S is at least 1 (one of its terms is e^0): three exps, no log, no mask.
    """
    xp = array_module(k_f)
    m = xp.minimum(k_f, k_i)
    xp.minimum(m, 0.0, out=m)                                # m = min(0, k_f, k_i)
    one = xp.exp(m)                                          # 1 e^m
    e_f = xp.subtract(m, k_f)
    xp.exp(e_f, out=e_f)                                     # e^{-k_f} e^m
    e_i = xp.subtract(m, k_i, out=m)
    xp.exp(e_i, out=e_i)                                     # e^{-k_i} e^m
    f_prime = e_i + one                                      # (1 + e^{-k_i}) e^m
    i_prime = e_f + one                                      # (1 + e^{-k_f}) e^m
    total = xp.add(f_prime, i_prime, out=one)                # S e^m
    for v in (f_prime, i_prime, e_f, e_i):
        v /= total
    return f_prime, i_prime, e_f, e_i
@register("minlstm")
class MinLSTM(MinimalRNN):
    r"""minLSTM (Feng, Tung, Ahmed, Bengio & Hajimirsadeghi, 2024, "Were RNNs All We
    Needed?", arXiv 2410.01201), with the length-independence scaling, in the log-space
    version its experiments train (appendix B):

    .. math::

        \begin{aligned}
        k^f_t &= W_f x_t + b_f, \quad k^i_t = W_i x_t + b_i, \quad u_t = W_h x_t + b_h \\
        f_t &= \sigma(k^f_t), \qquad i_t = \sigma(k^i_t), \qquad \tilde h_t = g(u_t) \\
        f'_t &= \frac{f_t}{f_t + i_t}, \qquad i'_t = \frac{i_t}{f_t + i_t} \\
        h_t &= f'_t \odot h_{t-1} + i'_t \odot \tilde h_t
        \end{aligned}

    with g(u) = u + 1/2 for u >= 0 and σ(u) below (:mod:`._minimal`). It is the LSTM
    with the output gate and the tanh gone, the cell state and h one, and f, i cut off
    from h_{t-1}; f' + i' = 1 keeps h a weighted average whatever the length. So
    h_t = a_t ⊙ h_{t-1} + b_t with a_t = f'_t, b_t = i'_t ⊙ h̃_t, computed by
    :func:`rnnzoo.core.scan.linear_scan`, and the step Jacobian is diag(f'_t).

    f' and i' are computed as (1 + e^{-k^i}, 1 + e^{-k^f}) / (2 + e^{-k^f} + e^{-k^i}) with
    the exponents shifted (:func:`normalized_gates`): the same numbers, finite where f + i
    underflows to 0 (both pre-activations below about -100 in float32), and the backward's
    factors come from the same exponentials.

    ``mode="log"`` is the paper's parallel log-space form (algorithm 8, listing 10):
    with diff = softplus(-k^f) - softplus(-k^i), log f' = -softplus(diff),
    log i' = -softplus(-diff), log b_t = log i'_t + log g(u_t), h by Heinsen's scan
    (:func:`~rnnzoo.core.scan.log_space_scan`) from log h_0 (algorithm 8 and listing
    10 agree on log h_0); it needs state0 >= 0. The other modes take any state.

    Where the sources differ (this cell follows the paper's appendix B):

    * The paper's appendix A ("vanilla") has h̃_t = W_h x_t + b_h with no g; appendix B,
      the version its experiments use, has g (as lucidrains/minGRU-pytorch does).
    * lucidrains/minGRU-pytorch (minLSTM.py): one Linear for [h̃; f; i] *without bias*
      and an optional output projection; its parallel mode applies log_g to a given
      previous hidden state (its sequential mode uses it as it is), and it computes an
      unused ``log_h_0 = -softplus(log_f)``. Here there are biases, as the paper's
      Linear_{d_h} (nn.Linear), no projection, and h_0 as it is in every mode.

    Initialization: W and b ~ U(-1/sqrt(D), 1/sqrt(D)), torch.nn.Linear's default (the
    paper's code uses nn.Linear and states no other; no forget-gate bias).

    Shapes: x (T, B, D), h (B, H); W = [W_f; W_i; W_h] (3H, D), b = [b_f; b_i; b_h] (3H,).

    Options
    -------
    mode : "auto" (default), "loop", "doubling" or "log": the scan's form
        (:mod:`rnnzoo.core.scan`); all compute the same h, forward and backward.
    """

    # the blocks of H rows of W, b, in order (the self-checks of the step exercises
    # name the gate whose gradient is wrong from this)
    gate_names = ("forget", "input", "candidate")

    gates = 3

    def log_coefficients(self, pre):
        k_f, k_i, u = pre
        diff = softplus(-k_f) - softplus(-k_i)               # log i - log f
        log_a = -softplus(diff)                              # log f' = log f/(f + i)
        log_b = log_candidate(u)                             # log h~ = log g(u)
        log_b -= softplus(-diff)                             # + log i' = log i/(f + i)
        return log_a, log_b

    def coefficients(self, pre, cache):
        k_f, k_i, u = pre
        # f', i' = (f, i) / (f + i), and r_f = i' (1 - f), r_i = f' (1 - i) for backward
        a, cache.i_prime, cache.r_f, cache.r_i = normalized_gates(k_f, k_i)
        cache.h_tilde, cache.g_prime = candidate_(u)         # h~ = g(u), in place
        return a, cache.i_prime * cache.h_tilde              # b = i' h~

    def coefficients_backward(self, da, db, cache, dpre):
        # through f', i' = (f, i) / (f + i): df = (df' - di') i / (f + i)^2, di the same
        # with f and i swapped and a minus sign; with σ' = f (1 - f) that is
        # dk_f = (df' - di') f' i' (1 - f) = (df' - di') f' r_f, and dk_i likewise
        xp, a, i_prime = self.xp, cache.a, cache.i_prime
        dk_f, dk_i, du = dpre[:, :, 0], dpre[:, :, 1], dpre[:, :, 2]
        d = xp.multiply(db, cache.h_tilde)                   # b = i' h~: di' = db h~
        xp.subtract(da, d, out=d)                            # a = f': df' - di'
        xp.multiply(d, a, out=dk_f)
        dk_f *= cache.r_f                                    # f = σ(k_f)
        xp.multiply(d, i_prime, out=dk_i)
        dk_i *= cache.r_i                                    # i = σ(k_i)
        xp.negative(dk_i, out=dk_i)
        xp.multiply(db, i_prime, out=du)                     # b = i' h~, h~ side
        du *= cache.g_prime                                  # h~ = g(u)
