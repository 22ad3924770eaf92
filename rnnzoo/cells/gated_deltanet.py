"""Gated DeltaNet: the delta rule with a data-dependent decay of the whole memory."""
from __future__ import annotations

import numpy as np

from ..core.ops import sigmoid
from ..core.registry import register
from ._delta_rule import DeltaRuleCell, softplus

A_INIT = (0.0, 16.0)             # A = exp(A_log) ~ U(0, 16)
DT_INIT = (1e-3, 1e-1, 1e-4)     # softplus(dt_bias) log-uniform on [dt_min, dt_max], floor


@register("gated_deltanet")
class GatedDeltaNet(DeltaRuleCell):
    r"""Gated DeltaNet (Yang, Kautz & Hatamizadeh, ICLR 2025, "Gated Delta Networks:
    Improving Mamba2 with Delta Rule", arXiv:2412.06464): DeltaNet (:mod:`.deltanet`, whose
    docstring has the delta rule's teaching points) with a decay α_t ∈ (0, 1) per head:

    .. math::

        \begin{aligned}
        q_t, k_t, v_t &= W_q x_t, W_k x_t, W_v x_t, \qquad
            \beta_t = r\,\sigma(w_\beta x_t) \\
        \alpha_t &= \exp\big(-e^{A_{\log}} \,\mathrm{softplus}(W_a x_t + b_{dt})\big) \\
        S_t &= \alpha_t S_{t-1} (I - \beta_t \hat k_t \hat k_t^\top)
            + \beta_t v_t \hat k_t^\top, \qquad o_t = S_t \hat q_t
        \end{aligned}

    with q̂, k̂ L2-normalized as in DeltaNet (ε = 1e-6), and b_dt the parameter ``dt_bias``.
    The gate forgets the whole memory at once (α_t → 0 clears it, as Mamba2's decay does),
    the delta rule edits it one key at a time; the step Jacobian on S is
    α_t (I − β_t k̂_t k̂_tᵀ), spectrum in [α_t (1 − β_t), α_t]. The output hs[t] is o_t,
    heads side by side (B, H).

    **The gate, as the authors' code has it.** The paper writes α_t ∈ (0, 1) from x_t; the
    code (fla-org/flash-linear-attention ``fla/layers/gated_deltanet.py`` and
    ``fla/ops/gated_delta_rule/naive.py``, which the NVlabs release builds on) computes its
    log, g_t = −exp(A_log) softplus(W_a x_t + dt_bias), and scales the state by exp(g_t):
    Mamba2's discretization, α = exp(−A Δ) with Δ = softplus(·) and A = exp(A_log) > 0.
    This cell uses exactly that parametrization.

    Initialization, as that layer: W_q, W_k, W_v, w_β, W_a ~ U(±1/√D) (nn.Linear, no
    bias); A ~ U(0, 16), A_log = log A (A drawn in (0, 16] here so the log is finite);
    Δ = exp(U(log 1e-3, log 0.1)) floored at 1e-4, dt_bias = Δ + log(−expm1(−Δ)), so
    softplus(dt_bias) = Δ. So α at x = 0 is exp(−A Δ), spread over (0.2, 1).

    Where this differs from the authors' code: as DeltaNet's (no d_k^(−1/2) scale on q;
    S kept as (d_v x d_k); no short convolution, SiLU, output norm or output gate); and fla
    applies the decay and the delta rule in two statements (S ← exp(g) S, then the
    delta update with the decayed S): the same S_t. The test oracle
    (tests/test_deltanet.py) runs fla's formulas with scale = 1 and equals this cell to
    1e-12.

    Options
    -------
    heads, beta_range : as DeltaNet's (1 and 1.0; beta_range=2 is fla's
        ``allow_neg_eigval``)
    """

    gated = True

    def init_params(self, rng):
        params = super().init_params(rng)
        n = self.heads
        params["A_log"] = np.log(A_INIT[1] * (1.0 - rng.random(n)))      # A ~ U(0, 16]
        dt_min, dt_max, floor = DT_INIT
        dt = np.exp(rng.uniform(np.log(dt_min), np.log(dt_max), n))
        dt = np.maximum(dt, floor)
        params["dt_bias"] = dt + np.log(-np.expm1(-dt))                    # softplus^-1(Δ)
        return params

    def _gates(self, Z, cache):
        super()._gates(Z, cache)
        xp, n, H = self.xp, self.heads, self.hidden_size
        cache.a = Z[..., 3 * H + n:] + self.params["dt_bias"]           # W_a x_t + b_dt
        cache.sp = softplus(cache.a)                                     # Δ_t
        cache.A = xp.exp(self.params["A_log"])                           # A = e^A_log
        cache.alpha = xp.exp(-cache.A * cache.sp)                        # α_t = exp(-A Δ_t)

    def _gate_grads(self, cache, dbeta, dalpha):
        (dpre_beta,), grads = super()._gate_grads(cache, dbeta, dalpha)
        dlog = dalpha * cache.alpha                                      # α = exp(log α)
        grads["A_log"] = -(dlog * cache.A * cache.sp).sum(axis=(0, 1))   # log α = -e^A_log Δ
        da = dlog * -cache.A
        da *= sigmoid(cache.a)                                           # Δ = softplus(a)
        grads["dt_bias"] = da.sum(axis=(0, 1))                           # a = W_a x + b_dt
        return [dpre_beta, da], grads
