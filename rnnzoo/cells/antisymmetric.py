"""AntisymmetricRNN: the Euler step of an ODE whose Jacobian has imaginary eigenvalues."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..core.base import RecurrentCell
from ..core.ops import sigmoid_, sigmoid_grad_
from ..core.registry import register
from ..core.validation import check_bool, check_float


@register("antisymmetric")
class AntisymmetricRNN(RecurrentCell):
    r"""AntisymmetricRNN (Chang, Chen, Haber & Chi, ICLR 2019, "AntisymmetricRNN: A
    Dynamical System View on Recurrent Neural Networks"), eqs. 12 and 13.

    .. math::

        M &= W - W^\top - \gamma I \\
        h_t &= h_{t-1} + \epsilon \tanh(M h_{t-1} + V_h x_t + b_h)
            && \text{(eq. 12)} \\
        z_t &= \sigma(M h_{t-1} + V_z x_t + b_z), \quad
        h_t = h_{t-1} + \epsilon\, z_t \odot \tanh(M h_{t-1} + V_h x_t + b_h)
            && \text{(eq. 13, ``gated=True``)}

    Teaching points. h_t is the forward-Euler step of size ε of the ODE
    :math:`h' = \tanh(M h + V x + b)`, whose Jacobian is :math:`\mathrm{diag}(\tanh') M`
    (M itself where tanh' = 1). A real antisymmetric matrix :math:`W - W^\top` has purely
    imaginary eigenvalues iω, so with γ = 0 the continuous system neither decays nor
    grows (its gradient neither vanishes nor explodes). Forward Euler is unstable on the
    imaginary axis (|1 + iεω| > 1); the diffusion γ shifts every eigenvalue of M to real
    part exactly -γ, and the linearized step :math:`I + \epsilon M` has
    |1 + ε(-γ + iω)| ≤ 1 exactly when ε(γ² + ω²) ≤ 2γ: γ and ε together set the
    discretization's stability (tests/test_antisymmetric.py checks both).

    Initialization and defaults follow the public PyTorch AntisymmetricRNN (there is no
    official code; ``models.py`` with ``AntisymmetricRNNCell`` /
    ``AntisymmetricGatingRNNCell``): ε = 0.01, γ = 0.01, W ~ N(0, (σ_W / H)²) with
    σ_W = ``init_std`` = 1 (a standard deviation of σ_W / H, as that code draws it),
    V_h, V_z ~ N(0, (1 / D)²), b_h = 0, b_z = 1 (the gate starts open). Differences from
    that code: it multiplies row vectors, h @ (W - Wᵀ - γI), which is (Wᵀ - W - γI) h in
    the paper's column form; this cell follows the paper, so its W is that code's Wᵀ
    (the same distribution at initialization). Its ``V_*_weight`` are (D, H); here V_h,
    V_z are (H, D) as ``nn.Linear`` stores them.

    Options
    -------
    eps : float > 0, default 0.01
        ε, the Euler step.
    gamma : float >= 0, default 0.01
        γ, the diffusion.
    gated : bool, default False
        The gated variant (eq. 13): adds V_z, b_z.
    init_std : float > 0, default 1.0
        σ_W above.

    Notes
    -----
    Shapes: x (T, B, D), h (B, H); W (H, H), V_h (H, D), b_h (H,); gated: V_z (H, D),
    b_z (H,).
    """

    options = {"eps": 0.01, "gamma": 0.01, "gated": False, "init_std": 1.0}

    def check_options(self):
        self.eps = check_float(self.eps, "eps", minimum=0.0, min_open=True)
        self.gamma = check_float(self.gamma, "gamma", minimum=0.0)
        self.gated = check_bool(self.gated, "gated")
        self.init_std = check_float(self.init_std, "init_std", minimum=0.0, min_open=True)

    def init_params(self, rng):
        D, H = self.input_size, self.hidden_size
        params = {"W": rng.normal(0.0, self.init_std / H, (H, H)),
                  "V_h": rng.normal(0.0, 1.0 / D, (H, D)), "b_h": np.zeros(H)}
        if self.gated:
            params["V_z"] = rng.normal(0.0, 1.0 / D, (H, D))
            params["b_z"] = np.ones(H)              # the input gate starts open
        return params

    @property
    def gates(self):
        return 2 if self.gated else 1

    def recurrence_matrix(self):
        """M = W - Wᵀ - γI (H, H)."""
        W = self.params["W"]
        M = W - W.T
        M -= self.gamma * self.xp.eye(self.hidden_size, dtype=self.dtype)
        return M

    def _input_weights(self):
        """V_h (and V_z) stacked (G H, D), b_h (and b_z) (G H,): one GEMM for all inputs."""
        P = self.params
        if not self.gated:
            return P["V_h"], P["b_h"]
        return (self.xp.concatenate([P["V_h"], P["V_z"]]),
                self.xp.concatenate([P["b_h"], P["b_z"]]))

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        V, b = self._input_weights()
        # V_h x_t + b_h (and V_z x_t + b_z) for every t, one GEMM, gate-major (G, T, B, H):
        # each step adds M h_{t-1} and applies tanh (and σ) in place
        cache.pre = self.project_gates(cache.x, V, b, self.gates)
        cache.M = self.recurrence_matrix()
        cache.M_T = cache.M.T.copy()                         # a_t = h_{t-1} @ Mᵀ
        cache.h = self.hidden_buffer(cache, cache.state0[0])
        cache.recurrent = self.xp.empty((cache.B, self.hidden_size), dtype=self.dtype)

    def finish_backward(self, cache, work):
        G, (T, B, D), H = self.gates, cache.x.shape, self.hidden_size
        dpre = work.dpre.reshape(G, T * B, H)
        x = cache.x.reshape(T * B, D)
        dV = dpre.transpose(0, 2, 1) @ x                     # (G, H, D): a = V x + ..
        db = dpre.sum(axis=1)
        dM = self.weight_grad(work.dsum, cache.h[:-1])       # a = M h_{t-1} (both gates)
        grads = {"W": dM - dM.T, "V_h": dV[0], "b_h": db[0]}   # M = W - Wᵀ - γI
        if self.gated:
            grads["V_z"], grads["b_z"] = dV[1], db[1]
        V = self._input_weights()[0].reshape(G, H, D)
        dx = (dpre @ V).sum(axis=0).reshape(T, B, D)
        return dx, grads

    # -------------------------------------------------------- one time step
    def step(self, t, state, cache):
        xp = self.xp
        (h_prev,) = state
        a = cache.pre[:, t]                                  # (G, B, H): V x_t + b
        xp.matmul(h_prev, cache.M_T, out=cache.recurrent)
        a += cache.recurrent                                 # + M h_{t-1}
        f = xp.tanh(a[0], out=a[0])                          # tanh(M h + V_h x + b_h)
        h = cache.h[t + 1]
        if self.gated:
            z = sigmoid_(a[1])                               # z = σ(M h + V_z x + b_z)
            xp.multiply(z, f, out=h)
            h *= self.eps
        else:
            xp.multiply(f, self.eps, out=h)
        h += h_prev                                          # h_t = h_{t-1} + ε (z) tanh(..)
        return (h,)

    def prepare_backward(self, cache):
        xp = self.xp
        shape = (cache.T, cache.B, self.hidden_size)
        return SimpleNamespace(dpre=xp.empty((self.gates,) + shape, dtype=self.dtype),
                               dsum=xp.empty(shape, dtype=self.dtype))

    def step_backward(self, t, dstate, cache, work):
        xp = self.xp
        (dh,) = dstate
        f = cache.pre[0, t]
        da_h, dsum = work.dpre[0, t], work.dsum[t]
        xp.multiply(dh, self.eps, out=da_h)                  # h = h_prev + ε (z) f
        if self.gated:
            z, da_z = cache.pre[1, t], work.dpre[1, t]
            xp.multiply(da_h, f, out=da_z)                   # .. z f: z side
            sigmoid_grad_(da_z, z)                           # z = σ(a_z)
            da_h *= z                                        # .. z f: f side
        xp.multiply(f, f, out=dsum)
        xp.subtract(1.0, dsum, out=dsum)
        da_h *= dsum                                         # f = tanh(a_h)
        if self.gated:
            xp.add(da_h, work.dpre[1, t], out=dsum)          # both read M h_{t-1}
        else:
            dsum[...] = da_h
        return (dh + dsum @ cache.M,)                        # h_prev + .., and M h_prev
