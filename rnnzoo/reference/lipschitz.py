r"""Textbook Lipschitz RNN (``lipschitz``), Erichson et al. (2021), Euler step.

.. math::

    A = \beta (B - B^\top) + (1 - \beta)(B + B^\top) - \gamma I, \quad
    W = \beta (C - C^\top) + (1 - \beta)(C + C^\top) - \gamma I \\
    a_t = W h_{t-1} + U x_t + b, \quad f_t = \tanh(a_t), \quad
    h_t = h_{t-1} + \epsilon A h_{t-1} + \epsilon f_t

Shapes: x_t (B, D), h (B, H); B and C (H, H), U (H, D), b (H,).
"""
from __future__ import annotations

import numpy as np

from .core import hidden_state, register_steps


def step_forward(x_t, state_prev, params, eps, beta, gamma):
    """One step: (h_{t-1},) -> (h_t,)."""
    (h_prev,) = state_prev
    B, C, U, b = params["B"], params["C"], params["U"], params["b"]
    I = np.eye(len(B))
    A = beta * (B - B.T) + (1 - beta) * (B + B.T) - gamma * I    # A from B
    W = beta * (C - C.T) + (1 - beta) * (C + C.T) - gamma * I    # W from C
    a = h_prev @ W.T + x_t @ U.T + b                      # a_t = W h_{t-1} + U x_t + b
    f = np.tanh(a)                                        # f_t = tanh(a_t)
    h = h_prev + eps * h_prev @ A.T + eps * f             # h_t = h + ε A h + ε f_t
    cache = {"x": x_t, "h_prev": h_prev, "A": A, "W": W, "U": U, "f": f, "eps": eps,
             "beta": beta}
    return (h,), cache


def step_backward(dstate, cache):
    """dL/d(h_t,) -> dL/dx_t, dL/d(h_{t-1},), dL/dparams of this step."""
    (dh,) = dstate
    x_t, h_prev, A, W, U, f, eps, beta = (cache[k] for k in (
        "x", "h_prev", "A", "W", "U", "f", "eps", "beta"))
    da = eps * dh * (1.0 - f ** 2)                        # h_t: ε f_t; f_t = tanh(a_t)
    dh_prev = dh + eps * dh @ A + da @ W                  # h_t: h + ε A h; a_t: W h_{t-1}
    dA = eps * dh.T @ h_prev                              # h_t: ε A h_{t-1}
    dW = da.T @ h_prev                                    # a_t: W h_{t-1}
    dB = beta * (dA - dA.T) + (1 - beta) * (dA + dA.T)    # A from B
    dC = beta * (dW - dW.T) + (1 - beta) * (dW + dW.T)    # W from C
    dx = da @ U                                           # a_t: U x_t
    grads = {"B": dB, "C": dC, "U": da.T @ x_t,           # a_t: U x_t
             "b": da.sum(axis=0)}                         # a_t: + b
    return dx, (dh_prev,), grads


register_steps("lipschitz", step_forward, step_backward,
               lambda cell: {"eps": cell.eps, "beta": cell.beta, "gamma": cell.gamma},
               initial_state=hidden_state(lambda p: p["B"].shape[1]))
