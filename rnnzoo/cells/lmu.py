"""LMU: the Legendre Memory Unit, a fixed linear memory of the last θ steps beside a tanh RNN."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import scipy.linalg

from ..core.base import RecurrentCell
from ..core.registry import register
from . import _options


def legendre_delay(order, theta):
    """A (d, d), B (d,) of the Legendre delay system θ ṁ = A' m + B' u (float64), with
    the 1/θ folded in: A_ij = (2i + 1)/θ · (-1 if i < j else (-1)^(i-j+1)), B_i =
    (2i + 1)/θ · (-1)^i (Voelker, Kajić & Eliasmith, 2019)."""
    q = np.arange(order)
    i, j = q[:, None], q[None, :]
    A = np.where(i < j, -1.0, (-1.0) ** (i - j + 1)) * (2 * i + 1) / theta
    B = (-1.0) ** q * (2 * q + 1) / theta
    return A, B


def zero_order_hold(A, B, dt=1.0):
    """Ā = exp(A dt), B̄ = A⁻¹ (Ā - I) B, the exact solution over dt with u held
    constant, read off one matrix exponential of the augmented [[A, B], [0, 0]] (its
    top-right block is ∫ exp(A s) ds B, so A need not be invertible)."""
    d = A.shape[0]
    M = np.zeros((d + 1, d + 1))
    M[:d, :d], M[:d, d] = A * dt, B * dt
    E = scipy.linalg.expm(M)
    return E[:d, :d], E[:d, d]


def window_decoder(order, delays, theta):
    """P (len(delays), d) with P[k, n] = P_n(2 θ'_k/θ - 1), the shifted Legendre
    polynomials at the delays θ'_k in [0, θ]: ``m_t @ P.T`` reads the input u back at
    t - θ'_k, the window the memory holds (u is held over each step, so the decoded
    value at delay θ' is the input around t - θ' + 1/2)."""
    r = 2.0 * np.asarray(delays, dtype=np.float64) / theta - 1.0
    return np.polynomial.legendre.legvander(r, order - 1)


@register("lmu")
class LMU(RecurrentCell):
    r"""Legendre Memory Unit (Voelker, Kajić & Eliasmith, NeurIPS 2019, "Legendre Memory
    Units: Continuous-Time Representation in Recurrent Neural Networks"; code
    ``nengo/keras-lmu``, whose 2019 ``LMUCell`` this follows).

    .. math::

        \begin{aligned}
        u_t &= e_x^\top x_t + e_h^\top h_{t-1} + e_m^\top m_{t-1} \in \mathbb R \\
        m_t &= \bar A m_{t-1} + \bar B u_t \in \mathbb R^d \\
        h_t &= \tanh(W_x x_t + W_h h_{t-1} + W_m m_t)
        \end{aligned}

    State (h, m); output h. Ā, B̄ are *not trained*: they are the Legendre delay system

    .. math::

        \theta \dot m(t) = A' m(t) + B' u(t), \quad
        A'_{ij} = (2i+1) \begin{cases} -1 & i < j \\ (-1)^{i-j+1} & i \ge j \end{cases},
        \quad B'_i = (2i+1)(-1)^i

    discretized by zero-order hold over one step (Ā = exp(A), B̄ = A⁻¹(Ā - I) B with
    A = A'/θ, B = B'/θ; :func:`legendre_delay`, :func:`zero_order_hold`, scipy's expm
    at construction). θ (``theta``, steps) and d (``memory_size``) fix them.

    **m_t is the Legendre projection of the last θ inputs.** The continuous system is
    the [d-1/d] Padé approximant of the delay e^{-θs}; its state is the coefficient
    vector of u over the window [t - θ, t] in the shifted Legendre polynomials, so

    .. math::

        u(t - \theta') \approx \sum_{n=0}^{d-1} P_n(2\theta'/\theta - 1)\, m_{t,n},
        \qquad 0 \le \theta' \le \theta

    (:func:`window_decoder`). With θ = 100 and the smooth u_t = sin(2πt/150) +
    ½ cos(2πt/97) (e_x = 1, the other encoders 0), the window decoded from m_599 is
    within 1.6e-3 of u(599 - θ' + ½) for every θ' = 0, .., 100 with d = 12; d = 6 is
    too few polynomials for that window (5.8e-2) and d = 20 too many for 100 held steps
    (4.1e-3) (tests/test_lmu.py).
    The memory is linear and fixed, with Ā's eigenvalues inside the unit circle
    (tested): what it keeps, the last θ steps of u, is set by θ and d, not learned, and
    its direct Jacobian ∂m_t/∂m_{t-1} = Ā + B̄ e_mᵀ is Ā at init (e_m = 0) whatever the
    other weights; the tanh part only has to learn to read it.

    Parameters, as keras-lmu's 2019 ``LMUCell`` (all six present and trainable there by
    default; Ā, B̄ fixed, ``trainable_A=False``): e_x (D,), e_h (H,) LeCun uniform
    U(±sqrt(3/fan_in)); e_m (d,) = 0; W_x (H, D), W_h (H, H), W_m (H, d) Glorot normal
    as Keras 2 draws it (a normal truncated at two standard deviations, scaled to the
    variance 2/(fan_in + fan_out)). No biases (the paper has none). The current
    keras-lmu makes e_h (``hidden_to_memory``), e_m (``memory_to_memory``) and W_x
    (``input_to_hidden``) optional and off by default, and puts W_h, W_m in a Keras cell
    of your choice; here all six are always trained. keras-lmu has no defaults for θ
    and d (its psMNIST example: d = 256, θ = 784); ours, θ = 100 and d = 12, are ours.

    Options
    -------
    theta : the window in steps, a real > 0 (100.0)
    memory_size : d, the Legendre order, an integer >= 1 (12)

    Notes
    -----
    Shapes: x (T, B, D), h (B, H), m (B, d); e_x (D,), e_h (H,), e_m (d,), W_x (H, D),
    W_h (H, H), W_m (H, d).
    """

    options = {"theta": 100.0, "memory_size": 12}
    state_names = ("h", "m")

    def check_options(self):
        self.theta = _options.real("theta", self.theta, lo=0.0, lo_open=True)
        self.memory_size = _options.integer("memory_size", self.memory_size, lo=1)
        with np.errstate(all="ignore"):
            A_bar, B_bar = zero_order_hold(*legendre_delay(self.memory_size, self.theta))
        if not (np.isfinite(A_bar).all() and np.isfinite(B_bar).all()):
            raise ValueError(f"theta must be large enough for a finite exp(A / theta) at "
                             f"memory_size={self.memory_size}; got {self.theta!r}")
        self.A_bar = self.backend.asarray(A_bar.astype(self.dtype))     # fixed, not params
        self.B_bar = self.backend.asarray(B_bar.astype(self.dtype))

    def init_params(self, rng):
        D, H, d = self.input_size, self.hidden_size, self.memory_size
        return {"e_x": rng.uniform(-1.0, 1.0, D) * np.sqrt(3.0 / D),
                "e_h": rng.uniform(-1.0, 1.0, H) * np.sqrt(3.0 / H),
                "e_m": np.zeros(d),
                "W_x": glorot_truncated_normal(rng, (H, D)),
                "W_h": glorot_truncated_normal(rng, (H, H)),
                "W_m": glorot_truncated_normal(rng, (H, d))}

    def initial_state(self, batch):
        h, _ = super().initial_state(batch)
        return h, self.xp.zeros((batch, self.memory_size), dtype=self.dtype)

    def _stacked(self):
        """[W_x; e_xᵀ] (H+1, D), [W_h; e_hᵀ] (H+1, H), [Ā; e_mᵀ] (d+1, d): one matrix
        product gives a pre-activation and its part of u_t together."""
        P, xp = self.params, self.xp
        return (xp.concatenate([P["W_x"], P["e_x"][None]]),
                xp.concatenate([P["W_h"], P["e_h"][None]]),
                xp.concatenate([self.A_bar, P["e_m"][None]]))

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        xp, H, d = self.xp, self.hidden_size, self.memory_size
        cache.Wx, cache.Wh, cache.Am = self._stacked()
        cache.pre = self.project(cache.x, cache.Wx)          # [W_x x_t, e_xᵀ x_t], every t
        cache.h = self.hidden_buffer(cache, cache.state0[0])
        cache.m = self.hidden_buffer(cache, cache.state0[1], d)
        cache.hW = xp.empty((cache.B, H + 1), dtype=self.dtype)
        cache.mA = xp.empty((cache.B, d + 1), dtype=self.dtype)

    def finish_backward(self, cache, work):
        H, dpre = self.hidden_size, work.dpre
        dWx = self.weight_grad(dpre, cache.x)                # rows: dW_x, then de_x
        dWh = self.weight_grad(dpre, cache.h[:-1])           # rows: dW_h, then de_h
        da = dpre[..., :H]
        grads = {"e_x": dWx[H], "e_h": dWh[H],
                 "e_m": self.weight_grad(dpre[..., H:], cache.m[:-1])[0],   # u_t: e_mᵀ m_{t-1}
                 "W_x": dWx[:H], "W_h": dWh[:H],
                 "W_m": self.weight_grad(da, cache.m[1:])}   # W_m m_t
        return self.input_grad(dpre, cache.Wx), grads

    # -------------------------------------------------------- one time step
    def step(self, t, state, cache):
        xp, H, d = self.xp, self.hidden_size, self.memory_size
        h_prev, m_prev = state
        hW, mA, pre = cache.hW, cache.mA, cache.pre[t]
        xp.matmul(h_prev, cache.Wh.T, out=hW)                # [W_h h_{t-1}, e_hᵀ h_{t-1}]
        xp.matmul(m_prev, cache.Am.T, out=mA)                # [Ā m_{t-1}, e_mᵀ m_{t-1}]
        u = pre[:, H] + hW[:, H] + mA[:, d]                  # u_t = e_xᵀx + e_hᵀh + e_mᵀm
        m = cache.m[t + 1]
        xp.multiply(u[:, None], self.B_bar, out=m)
        m += mA[:, :d]                                       # m_t = Ā m_{t-1} + B̄ u_t
        h = cache.h[t + 1]
        xp.matmul(m, self.params["W_m"].T, out=h)
        h += pre[:, :H]
        h += hW[:, :H]                                       # W_x x_t + W_h h_{t-1} + W_m m_t
        xp.tanh(h, out=h)                                    # h_t = tanh(..)
        return h, m

    def prepare_backward(self, cache):
        xp, d = self.xp, self.memory_size
        return SimpleNamespace(dpre=xp.empty(cache.pre.shape, dtype=self.dtype),
                               dmu=xp.empty((cache.B, d + 1), dtype=self.dtype))

    def step_backward(self, t, dstate, cache, work):
        xp, H, d = self.xp, self.hidden_size, self.memory_size
        dh, dm = dstate
        dpre, h = work.dpre[t], cache.h[t + 1]
        da, du, dmu = dpre[:, :H], dpre[:, H], work.dmu
        xp.multiply(h, h, out=da)
        xp.subtract(1.0, da, out=da)
        da *= dh                                             # backprop through tanh
        # matmul's results land in fresh arrays, then are copied into the strided blocks
        dm_t = da @ self.params["W_m"]                       # a_t: W_m m_t
        dm_t += dm                                           # dL/dm_t: + carried
        du[...] = dm_t @ self.B_bar                          # m_t = .. + B̄ u_t
        dmu[:, :d], dmu[:, d] = dm_t, du                     # [dL/dm_t, dL/du_t]
        dm_prev = dmu @ cache.Am                             # Ā m_{t-1}; u_t: e_mᵀ m_{t-1}
        dh_prev = dpre @ cache.Wh                            # W_h h_{t-1}; u_t: e_hᵀ h_{t-1}
        return dh_prev, dm_prev


def glorot_truncated_normal(rng, shape):
    """Keras 2's ``glorot_normal`` for a (fan_out, fan_in) matrix: N(0, s²) redrawn
    outside ±2s, s = sqrt(2/(fan_in + fan_out)) / 0.8796 so that the variance after the
    truncation is 2/(fan_in + fan_out)."""
    s = np.sqrt(2.0 / sum(shape)) / 0.87962566103423978
    z = rng.standard_normal(shape)
    while True:                                              # redraw, as TF does
        bad = np.abs(z) > 2.0
        if not bad.any():
            return s * z
        z[bad] = rng.standard_normal(int(bad.sum()))
