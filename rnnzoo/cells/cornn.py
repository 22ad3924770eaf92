"""coRNN: a network of coupled, damped, driven oscillators, discretized."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..core.base import RecurrentCell
from ..core.registry import register
from ..core.validation import check_choice, check_float


@register("cornn")
class CoRNN(RecurrentCell):
    r"""Coupled oscillatory RNN (Rusch & Mishra, ICLR 2021, "Coupled Oscillatory Recurrent
    Neural Network (coRNN): An accurate and (gradient) stable architecture for learning
    long time dependencies"; code: ``tk-rusch/coRNN``). The second-order ODE
    :math:`y'' = \tanh(W y + \mathcal W y' + V x + b) - \gamma y - \epsilon y'`, written
    with z = y', stepped with Δt:

    .. math::

        a_t &= W y_{t-1} + \mathcal W z_{t-1} + V x_t + b \\
        z_t &= z_{t-1} + \Delta t\,(\tanh(a_t) - \gamma y_{t-1} - \epsilon z_t)
            && \text{(``damping="implicit"``, the paper's eq. 3)} \\
        z_t &= z_{t-1} + \Delta t\,(\tanh(a_t) - \gamma y_{t-1} - \epsilon z_{t-1})
            && \text{(``damping="explicit"``, the authors' code)} \\
        y_t &= y_{t-1} + \Delta t\, z_t

    The implicit damping solves to :math:`z_t = (z_{t-1} + \Delta t(\tanh(a_t) - \gamma
    y_{t-1})) / (1 + \Delta t\,\epsilon)`. Both are one rule, z_t = k z_{t-1} + d
    (tanh(a_t) - γ y_{t-1}): implicit k = 1/(1 + Δtε), d = Δt/(1 + Δtε); explicit
    k = 1 - Δtε, d = Δt. The state is (y, z) and the output hs is y.

    Teaching points. Each unit is an oscillator (γ: its stiffness, ε: its damping) driven
    by the others through tanh, so the states cannot grow without bound: with
    E_t = γ|y_t|² + |z_t|² per sequence (|tanh| ≤ 1 on H units), multiplying the z
    update by z_t and summing gives, from any (y_0, z_0),

    * implicit, if γΔt ≤ ε: E_t ≤ E_0 + H t Δt / ε;
    * explicit, if 2γΔt ≤ ε and Δtε ≤ 1: E_t ≤ E_0 + 2 H t Δt / ε.

    From zero, |y_t|² + |z_t|²/γ ≤ H t Δt / (γ ε): the form of the paper's Prop. 3.1
    (tests/test_cornn.py checks these on a 1,000-step sequence). The gradient is
    bounded likewise (the paper's Prop. 3.2), without gates.

    Initialization and defaults are the authors': their one ``nn.Linear(D + 2H, H)`` on
    (x, z, y) is V, 𝒲 and W side by side with one bias b, all U(-k, k), k = 1/√(D + 2H),
    and Δt = 0.076, γ = 0.4, ε = 8.0 (their permuted sequential MNIST script; the adding
    task uses Δt = 0.06, γ = 66, ε = 15). Differences from their code: the damping term
    is implicit by default as in the paper's eq. 3 (their code uses ε z_{t-1}:
    ``damping="explicit"``); V, 𝒲, W are three parameters here.

    Options
    -------
    dt : float > 0, default 0.076
    gamma : float >= 0, default 0.4
    epsilon : float >= 0, default 8.0
    damping : "implicit" (default) or "explicit"

    Notes
    -----
    Shapes: x (T, B, D), y and z (B, H); W and W_z (𝒲) (H, H), V (H, D), b (H,).
    """

    state_names = ("y", "z")
    options = {"dt": 0.076, "gamma": 0.4, "epsilon": 8.0, "damping": "implicit"}

    def check_options(self):
        self.dt = check_float(self.dt, "dt", minimum=0.0, min_open=True)
        self.gamma = check_float(self.gamma, "gamma", minimum=0.0)
        self.epsilon = check_float(self.epsilon, "epsilon", minimum=0.0)
        self.damping = check_choice(self.damping, "damping", ("implicit", "explicit"))

    def init_params(self, rng):
        D, H = self.input_size, self.hidden_size
        k = 1.0 / np.sqrt(D + 2 * H)
        return {"W": rng.uniform(-k, k, (H, H)), "W_z": rng.uniform(-k, k, (H, H)),
                "V": rng.uniform(-k, k, (H, D)), "b": rng.uniform(-k, k, H)}

    def coefficients(self):
        """(k, d) of z_t = k z_{t-1} + d (tanh(a_t) - γ y_{t-1})."""
        if self.damping == "implicit":
            return 1.0 / (1.0 + self.dt * self.epsilon), self.dt / (1.0 + self.dt * self.epsilon)
        return 1.0 - self.dt * self.epsilon, self.dt

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        P = self.params
        cache.s = self.project(cache.x, P["V"], P["b"])     # V x_t + b, every t, one GEMM
        cache.W_T, cache.W_z_T = P["W"].T.copy(), P["W_z"].T.copy()
        cache.y = self.hidden_buffer(cache, cache.state0[0])
        cache.z = self.hidden_buffer(cache, cache.state0[1])
        cache.recurrent = self.xp.empty((cache.B, self.hidden_size), dtype=self.dtype)

    def outputs(self, cache):
        return cache.y[1:].copy()

    def finish_backward(self, cache, work):
        da = work.da
        grads = {"W": self.weight_grad(da, cache.y[:-1]), "W_z": self.weight_grad(da, cache.z[:-1]),
                 "V": self.weight_grad(da, cache.x), "b": self.bias_grad(da)}
        return self.input_grad(da, self.params["V"]), grads

    # -------------------------------------------------------- one time step
    def step(self, t, state, cache):
        xp, rec = self.xp, cache.recurrent
        y_prev, z_prev = state
        keep, drive = self.coefficients()
        s = cache.s[t]                                       # V x_t + b
        s += xp.matmul(y_prev, cache.W_T, out=rec)           # + W y_{t-1}
        s += xp.matmul(z_prev, cache.W_z_T, out=rec)         # + 𝒲 z_{t-1}
        xp.tanh(s, out=s)                                    # tanh(a_t)
        z = xp.multiply(y_prev, -self.gamma, out=cache.z[t + 1])
        z += s                                               # tanh(a_t) - γ y_{t-1}
        z *= drive
        z += xp.multiply(z_prev, keep, out=rec)              # z_t = k z_{t-1} + d (..)
        y = xp.multiply(z, self.dt, out=cache.y[t + 1])
        y += y_prev                                          # y_t = y_{t-1} + Δt z_t
        return (y, z)

    def prepare_backward(self, cache):
        return SimpleNamespace(da=self.xp.empty((cache.T, cache.B, self.hidden_size),
                                                dtype=self.dtype))

    def step_backward(self, t, dstate, cache, work):
        xp = self.xp
        dy, dz = dstate
        keep, drive = self.coefficients()
        dz = dz + self.dt * dy                               # y_t = y_{t-1} + Δt z_t
        s, da = cache.s[t], work.da[t]
        xp.multiply(s, s, out=da)
        xp.subtract(1.0, da, out=da)
        da *= dz
        da *= drive                                          # z_t: d tanh(a_t)
        dy_prev = dy - (self.gamma * drive) * dz             # y_t: y_{t-1}; z_t: -d γ y_{t-1}
        dy_prev += da @ self.params["W"]                     # a_t: W y_{t-1}
        dz_prev = dz * keep                                  # z_t: k z_{t-1}
        dz_prev += da @ self.params["W_z"]                   # a_t: 𝒲 z_{t-1}
        return (dy_prev, dz_prev)
