"""Lipschitz RNN: a linear part with a chosen spectrum plus a Lipschitz nonlinearity."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..core.base import RecurrentCell
from ..core.registry import register
from ..core.validation import check_float


@register("lipschitz")
class LipschitzRNN(RecurrentCell):
    r"""Lipschitz recurrent network (Erichson, Azencot, Queiruga, Hodgkinson & Mahoney,
    ICLR 2021, "Lipschitz Recurrent Neural Networks"; code: ``erichson/LipschitzRNN``),
    the forward-Euler discretization of :math:`h' = A h + \tanh(W h + U x + b)`:

    .. math::

        A &= \beta (B - B^\top) + (1 - \beta)(B + B^\top) - \gamma I
           = B + (1 - 2\beta) B^\top - \gamma I \\
        W &= \beta (C - C^\top) + (1 - \beta)(C + C^\top) - \gamma I \\
        h_t &= h_{t-1} + \epsilon A h_{t-1} + \epsilon \tanh(W h_{t-1} + U x_t + b)

    Teaching points. β trades the skew-symmetric part (imaginary eigenvalues:
    oscillation, no decay) against the symmetric part; the symmetric part of A is
    :math:`(1 - \beta)(B + B^\top) - \gamma I`, so its eigenvalues are
    :math:`2(1 - \beta)\mu_i - \gamma` (μ_i those of :math:`(B + B^\top)/2`), all
    exactly -γ at β = 1, and by Bendixson's inequality every eigenvalue of A has its real
    part between the smallest and largest of them: the paper's stability conditions are
    conditions on that symmetric part (tests/test_lipschitz.py checks both). The
    nonlinearity is 1-Lipschitz, so the linear part governs the long-run behaviour.
    Backward: :math:`\partial L/\partial B = G + (1 - 2\beta) G^\top` with G = ∂L/∂A.

    Initialization and defaults are the authors' (``models.py``, ``tools.py``,
    ``driver.py`` and the README's MNIST commands): B, C ~ N(0, (σ / H)²) entrywise (their
    ``gaussian_init_`` uses a standard deviation of σ / H) with σ = ``init_std`` = 0.1
    (``driver.py``'s default), ε = 0.03, β = 0.75, γ = 0.001 (the README's pixel-MNIST
    commands; ``RnnModels``' own keyword defaults are ε = 0.01, β = 0.8, γ = 0.01,
    σ = 1), and U, b as their ``nn.Linear(D, H)`` encoder: U(-1/√D, 1/√D). Differences
    from their code: it multiplies row vectors, h @ A, which is Aᵀ h in the paper's column
    form used here, so this cell's B and C are their B and C transposed (the same
    distribution at initialization); their ``alpha`` (an ablation factor on the linear
    part, 1 by default) and the gated and ODE-solver variants are left out; one β and one
    γ serve both A and W, as in their code.

    Options
    -------
    eps : float > 0, default 0.03
        ε, the Euler step.
    beta : float in [0, 1], default 0.75
        β, the skew-symmetric share.
    gamma : float >= 0, default 0.001
        γ, the diffusion.
    init_std : float > 0, default 0.1
        σ above.

    Notes
    -----
    Shapes: x (T, B, D), h (B, H); B and C (H, H), U (H, D), b (H,).
    """

    options = {"eps": 0.03, "beta": 0.75, "gamma": 0.001, "init_std": 0.1}

    def check_options(self):
        self.eps = check_float(self.eps, "eps", minimum=0.0, min_open=True)
        self.beta = check_float(self.beta, "beta", minimum=0.0, maximum=1.0)
        self.gamma = check_float(self.gamma, "gamma", minimum=0.0)
        self.init_std = check_float(self.init_std, "init_std", minimum=0.0, min_open=True)

    def init_params(self, rng):
        D, H = self.input_size, self.hidden_size
        k = 1.0 / np.sqrt(D)
        return {"B": rng.normal(0.0, self.init_std / H, (H, H)),
                "C": rng.normal(0.0, self.init_std / H, (H, H)),
                "U": rng.uniform(-k, k, (H, D)), "b": rng.uniform(-k, k, H)}

    def structured(self, M):
        """β (M - Mᵀ) + (1 - β)(M + Mᵀ) - γI = M + (1 - 2β) Mᵀ - γI: A from B, W from C."""
        out = M + (1.0 - 2.0 * self.beta) * M.T
        out -= self.gamma * self.xp.eye(self.hidden_size, dtype=self.dtype)
        return out

    def structured_grad(self, G):
        """∂L/∂M from G = ∂L/∂(M + (1 - 2β) Mᵀ - γI)."""
        return G + (1.0 - 2.0 * self.beta) * G.T

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        P, xp = self.params, self.xp
        # h_{t-1} + ε A h_{t-1} = (I + εA) h_{t-1}: one product per step for the linear part
        cache.step = xp.eye(self.hidden_size, dtype=self.dtype)
        cache.step += self.eps * self.structured(P["B"])
        cache.step_T = cache.step.T.copy()
        cache.W = self.structured(P["C"])
        cache.W_T = cache.W.T.copy()
        cache.f = self.project(cache.x, P["U"], P["b"])        # U x_t + b, every t, one GEMM
        cache.h = self.hidden_buffer(cache, cache.state0[0])
        cache.recurrent = xp.empty((cache.B, self.hidden_size), dtype=self.dtype)

    def finish_backward(self, cache, work):
        h_prev, da = cache.h[:-1], work.da
        dA = self.weight_grad(work.dh, h_prev)                 # h_t: ε A h_{t-1}
        dA *= self.eps
        dW = self.weight_grad(da, h_prev)                      # tanh(W h_{t-1} + ..)
        grads = {"B": self.structured_grad(dA), "C": self.structured_grad(dW),
                 "U": self.weight_grad(da, cache.x), "b": self.bias_grad(da)}
        return self.input_grad(da, self.params["U"]), grads

    # -------------------------------------------------------- one time step
    def step(self, t, state, cache):
        xp = self.xp
        (h_prev,) = state
        f = cache.f[t]                                         # U x_t + b
        f += xp.matmul(h_prev, cache.W_T, out=cache.recurrent)   # + W h_{t-1}
        xp.tanh(f, out=f)                                      # f_t = tanh(..)
        h = xp.matmul(h_prev, cache.step_T, out=cache.h[t + 1])  # (I + εA) h_{t-1}
        h += xp.multiply(f, self.eps, out=cache.recurrent)     # + ε f_t
        return (h,)

    def prepare_backward(self, cache):
        shape = (cache.T, cache.B, self.hidden_size)
        return SimpleNamespace(da=self.xp.empty(shape, dtype=self.dtype),
                               dh=self.xp.empty(shape, dtype=self.dtype))

    def step_backward(self, t, dstate, cache, work):
        xp = self.xp
        (dh,) = dstate
        work.dh[t] = dh                                        # kept for ∂L/∂A
        f, da = cache.f[t], work.da[t]
        xp.multiply(f, f, out=da)
        xp.subtract(1.0, da, out=da)
        da *= dh
        da *= self.eps                                         # h_t: ε tanh(a_t)
        dh_prev = dh @ cache.step                              # h_t: (I + εA) h_{t-1}
        dh_prev += da @ cache.W                                # a_t: W h_{t-1}
        return (dh_prev,)
