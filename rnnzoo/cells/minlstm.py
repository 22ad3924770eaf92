"""minLSTM: an LSTM whose gates read x_t alone and sum to one, run as one linear scan."""
from __future__ import annotations

from ..core.ops import sigmoid_
from ..core.registry import register
from ._minimal import MinimalRNN, candidate_, candidate_grad, log_candidate, sigmoid_of_minus, \
    softplus


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

    f' is computed as σ(q) with q = log f - log i = softplus(-k^i) - softplus(-k^f) (the
    same number: f/(f + i) = 1/(1 + i/f)), which stays finite where f + i underflows to 0
    (both pre-activations below about -100 in float32); i' = 1 - f'.

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

    gates = 3

    def log_coefficients(self, pre, positive):
        k_f, k_i, u = pre
        diff = softplus(-k_f) - softplus(-k_i)               # log i - log f
        log_a = -softplus(diff)                              # log f' = log f/(f + i)
        log_b = log_candidate(u, positive)                   # log h~ = log g(u)
        log_b -= softplus(-diff)                             # + log i' = log i/(f + i)
        return log_a, log_b

    def coefficients(self, pre, cache):
        k_f, k_i, u = pre
        cache.not_f = sigmoid_of_minus(k_f)                  # 1 - f = σ(-k_f), for backward
        cache.not_i = sigmoid_of_minus(k_i)                  # 1 - i = σ(-k_i)
        q = softplus(-k_i)
        q -= softplus(-k_f)                                  # q = log f - log i
        a = sigmoid_(q)                                      # f' = f/(f + i) = σ(q)
        i_prime = cache.i_prime = 1.0 - a                    # i' = 1 - f'
        h_tilde = cache.h_tilde = candidate_(u, cache.positive)   # h~ = g(u), in place
        return a, i_prime * h_tilde                          # b = i' h~

    def coefficients_backward(self, da, db, cache, dpre):
        xp, a, i_prime, h_tilde = self.xp, cache.a, cache.i_prime, cache.h_tilde
        dk_f, dk_i, du = dpre[:, :, 0], dpre[:, :, 1], dpre[:, :, 2]
        dq = xp.multiply(db, h_tilde)                        # b = (1 - f') h~, f' side
        xp.subtract(da, dq, out=dq)                          # a = f': ds = da - db h~
        dq *= a                                              # f' = σ(q): σ' = f' (1 - f')
        dq *= i_prime
        xp.multiply(dq, cache.not_f, out=dk_f)               # q = .. - softplus(-k_f)
        xp.multiply(dq, cache.not_i, out=dk_i)               # q = softplus(-k_i) - ..
        xp.negative(dk_i, out=dk_i)
        xp.multiply(db, i_prime, out=du)                     # b = i' h~, h~ side
        du *= candidate_grad(h_tilde, cache.positive)        # h~ = g(u)
