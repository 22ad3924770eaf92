"""DeltaNet: a matrix memory written by the delta rule."""
from __future__ import annotations

from ..core.registry import register
from ._delta_rule import DeltaRuleCell


@register("deltanet")
class DeltaNet(DeltaRuleCell):
    r"""DeltaNet (Schlag, Irie & Schmidhuber, ICML 2021, "Linear Transformers Are Secretly
    Fast Weight Programmers", arXiv:2102.11174; Yang, Wang, Zhang, Shen & Kim, NeurIPS
    2024, "Parallelizing Linear Transformers with the Delta Rule over Sequence Length",
    arXiv:2406.06484), per head, with d = hidden_size / heads:

    .. math::

        \begin{aligned}
        q_t &= W_q x_t, \quad k_t = W_k x_t, \quad v_t = W_v x_t, \quad
            \beta_t = r\,\sigma(w_\beta x_t) \\
        \hat q_t &= q_t / \sqrt{\lVert q_t \rVert^2 + \epsilon}, \quad
            \hat k_t = k_t / \sqrt{\lVert k_t \rVert^2 + \epsilon} \\
        S_t &= S_{t-1} (I - \beta_t \hat k_t \hat k_t^\top) + \beta_t v_t \hat k_t^\top
             = S_{t-1} + \beta_t (v_t - S_{t-1} \hat k_t) \hat k_t^\top \\
        o_t &= S_t \hat q_t
        \end{aligned}

    S_t is (d_v x d_k) = (d x d) per head, (B, heads, d, d) in the state; ε = 1e-6; r is
    the option ``beta_range``. The cell's output hs[t] is o_t, the heads side by side
    (B, H): no output projection (the authors' layer follows o with a norm and W_o, a
    separate layer here as in every zoo cell).

    **The delta rule is online regression.** S_{t−1} k̂_t is what the memory returns for
    k̂_t now; the write is one gradient step of size β_t on ½‖S k̂_t − v_t‖² (its gradient
    in S is (S k̂_t − v_t) k̂_tᵀ), so it corrects the error instead of adding v_t on top:
    with β_t = 1 and ‖k̂_t‖ = 1, S_t k̂_t = v_t exactly, whatever was stored under k̂_t.
    Drop the correction (S_t = S_{t−1} + v_t k̂_tᵀ) and this is linear attention, whose
    memory only accumulates (Katharopoulos et al. 2020); the Fast-Weights RNN's
    A(t) = λA(t−1) + η h hᵀ is the same accumulation of outer products, with a decay and
    its own state as key and value.

    **I − βk̂k̂ᵀ is a generalized Householder map.** For unit k̂ its eigenvalues are
    1 − β (direction k̂) and 1 (the d − 1 directions orthogonal to k̂): it shrinks S's
    component along k̂ and leaves the rest alone. The backward multiplies the carried
    dL/dS by the same map: dL/dS_{t−1} = dL/dS_t (I − βk̂k̂ᵀ) exactly (the write's and
    the error term's parts combine into it; o_t's own part joins dL/dS_t first), so a
    gradient through S is never amplified (spectrum in [1 − β, 1] ⊂ [0, 1] for
    β ∈ (0, 1)) and decays only along the keys written. ``beta_range=2`` lets β reach
    (0, 2) and the eigenvalue 1 − β reach (−1, 1): a reflection as β → 2, which is what
    lets a linear RNN track state such as parity (Grazzi, Siems, Franke, Zela, Hutter &
    Pontil, ICLR 2025, "Unlocking State-Tracking in Linear RNNs Through Negative
    Eigenvalues"; fla's ``allow_neg_eigval`` multiplies β by 2).

    Where this differs from the authors' code (fla-org/flash-linear-attention,
    ``fla/ops/delta_rule/naive.py`` and the ``DeltaNet`` layer), this cell following
    the papers' equations:

    * fla's naive recurrence multiplies q by d_k^(−1/2) (fixed there; the gated one's
      ``scale`` argument defaults to it); the papers'
      o_t = S_t q_t has no such factor, and neither has this cell.
    * fla keeps the state as S^T, (d_k x d_v), and reads o = qᵀ S; the same numbers
      transposed. The test oracle (tests/test_deltanet.py) runs fla's formulas in their
      layout with scale = 1 and equals this cell to 1e-12.
    * The layer feeds q, k, v through a short causal convolution and SiLU before the
      L2 normalization, and o through an RMS norm and W_o; here q, k, v are linear in
      x_t and o is the output.

    Parameters and initialization: W_q, W_k, W_v (H, D), w_β (heads, D), no biases (fla's
    nn.Linear(..., bias=False)), each U(±1/√D), torch.nn.Linear's default. The four are
    stacked into one (3H + heads, D) matrix: every projection of every step is one GEMM.

    Options
    -------
    heads : int >= 1 dividing hidden_size (1): independent memories of size d = H / heads
    beta_range : r in (0, 2] (1): β_t = r σ(w_β x_t) lies in (0, r); 2 is Grazzi et al.'s
        negative-eigenvalue range
    """
