"""minGRU: a GRU whose gate reads x_t alone, run as one linear scan."""
from __future__ import annotations

from ..core.registry import register
from ._minimal import MinimalRNN, candidate_, log_candidate, sigmoid_of_minus, softplus


@register("mingru")
class MinGRU(MinimalRNN):
    r"""minGRU (Feng, Tung, Ahmed, Bengio & Hajimirsadeghi, 2024, "Were RNNs All We
    Needed?", arXiv 2410.01201), the log-space version its experiments train (appendix B):

    .. math::

        \begin{aligned}
        k_t &= W_z x_t + b_z, \qquad u_t = W_h x_t + b_h \\
        z_t &= \sigma(k_t), \qquad \tilde h_t = g(u_t) \\
        h_t &= (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t
        \end{aligned}

    with g(u) = u + 1/2 for u >= 0 and σ(u) below (:mod:`._minimal`). It is the GRU with
    the reset gate gone and the update gate and candidate cut off from h_{t-1}. So the
    recurrence is h_t = a_t ⊙ h_{t-1} + b_t with a_t = 1 - z_t = σ(-k_t) and
    b_t = z_t ⊙ h̃_t, computed by :func:`rnnzoo.core.scan.linear_scan`; the step Jacobian
    is diag(1 - z_t) and the gradient over k steps a product of k numbers per unit. What
    is lost: the gate cannot react to the state (a GRU's z and r read h_{t-1}).

    ``mode="log"`` is the paper's parallel log-space form (algorithm 6, listing 8):
    log a_t = -softplus(k_t), log b_t = -softplus(-k_t) + log g(u_t), h by Heinsen's scan
    (:func:`~rnnzoo.core.scan.log_space_scan`), from log h_0; it needs state0 >= 0 (then
    every h_t > 0). The other modes take any state.

    Where the sources differ (this cell follows the paper's appendix B):

    * The paper's appendix A ("vanilla") has h̃_t = W_h x_t + b_h with no g; appendix B,
      the version its experiments use, has g. lucidrains/minGRU-pytorch uses g
      too.
    * h_0 in log space: algorithm 6 takes log(h_0), listing 8's code log_g(h_0), which
      starts from g(h_0) instead of h_0 (the same only if h_0 was made by g), and gives
      a state that the sequential listing 7 (which uses h_prev as it is) does not.
      Here h_0 enters as it is, in every mode, so every mode computes the same h. (The
      test oracle shows that listing 8 equals this cell started from g(h_0).)
    * lucidrains/minGRU-pytorch (minGRU.py): one Linear for [h̃; z] *without bias*
      and an optional expansion/output projection; its parallel mode starts from
      log(h_0) of a given previous hidden state, as this cell does (before its commit
      c1df8fe of 2024-10-14 it took log_g(h_0), as listing 8 does). Here there are
      biases, as the paper's Linear_{d_h} (nn.Linear) has, and no projections.

    Initialization: W and b ~ U(-1/sqrt(D), 1/sqrt(D)), torch.nn.Linear's default (the
    paper's code uses nn.Linear and states no other).

    Shapes: x (T, B, D), h (B, H); W = [W_z; W_h] (2H, D), b = [b_z; b_h] (2H,).

    Options
    -------
    mode : "auto" (default), "loop", "doubling" or "log": the scan's form
        (:mod:`rnnzoo.core.scan`); all compute the same h, forward and backward.
    """

    # the blocks of H rows of W, b, in order (the self-checks of the step exercises
    # name the gate whose gradient is wrong from this)
    gate_names = ("update", "candidate")

    gates = 2

    def log_coefficients(self, pre):
        k, u = pre
        log_a = -softplus(k)                                 # log(1 - z) = log σ(-k)
        log_b = log_candidate(u)                             # log h~ = log g(u)
        log_b -= softplus(-k)                                # + log z = log σ(k)
        return log_a, log_b

    def coefficients(self, pre, cache):
        k, u = pre
        a = sigmoid_of_minus(k)                              # a = 1 - z = σ(-k)
        z = cache.z = self.xp.subtract(1.0, a, out=k)        # z = σ(k) (in k's place)
        cache.h_tilde, cache.g_prime = candidate_(u)         # h~ = g(u), in place
        return a, z * cache.h_tilde                          # b = z h~

    def coefficients_backward(self, da, db, cache, dpre):
        xp, z, a, h_tilde = self.xp, cache.z, cache.a, cache.h_tilde
        dk, du = dpre[:, :, 0], dpre[:, :, 1]
        xp.multiply(db, h_tilde, out=dk)                     # b = z h~, z side
        dk -= da                                             # a = 1 - z
        dk *= z                                              # z = σ(k): σ'(k) = z (1 - z)
        dk *= a
        xp.multiply(db, z, out=du)                           # b = z h~, h~ side
        du *= cache.g_prime                                  # h~ = g(u)
