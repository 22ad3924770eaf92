r"""Textbook coRNN (``cornn``), Rusch & Mishra (2021).

.. math::

    a_t = W y_{t-1} + \mathcal W z_{t-1} + V x_t + b, \quad \sigma_t = \tanh(a_t) \\
    z_t = z_{t-1} + \Delta t (\sigma_t - \gamma y_{t-1} - \epsilon z_t) \quad
    \text{(implicit; explicit: } \epsilon z_{t-1}) \\
    y_t = y_{t-1} + \Delta t\, z_t

Shapes: x_t (B, D), y and z (B, H); W and W_z (H, H), V (H, D), b (H,).
"""
from __future__ import annotations

import numpy as np

from .core import hidden_state, register_steps


def step_forward(x_t, state_prev, params, dt, gamma, epsilon, damping):
    """One step: (y_{t-1}, z_{t-1}) -> (y_t, z_t)."""
    y_prev, z_prev = state_prev
    W, W_z, V, b = params["W"], params["W_z"], params["V"], params["b"]
    a = y_prev @ W.T + z_prev @ W_z.T + x_t @ V.T + b    # a_t = W y + 𝒲 z + V x + b
    sigma = np.tanh(a)                                    # σ_t = tanh(a_t)
    if damping == "implicit":                             # z_t (1 + Δt ε) = z + Δt (σ - γ y)
        z = (z_prev + dt * (sigma - gamma * y_prev)) / (1.0 + dt * epsilon)
    else:                                                 # z_t = z + Δt (σ - γ y - ε z)
        z = z_prev + dt * (sigma - gamma * y_prev - epsilon * z_prev)
    y = y_prev + dt * z                                   # y_t = y_{t-1} + Δt z_t
    cache = {"x": x_t, "y_prev": y_prev, "z_prev": z_prev, "sigma": sigma, "params": params,
             "dt": dt, "gamma": gamma, "epsilon": epsilon, "damping": damping}
    return (y, z), cache


def step_backward(dstate, cache):
    """dL/d(y_t, z_t) -> dL/dx_t, dL/d(y_{t-1}, z_{t-1}), dL/dparams of this step."""
    dy, dz = dstate
    x_t, y_prev, z_prev, sigma, P = (cache[k] for k in ("x", "y_prev", "z_prev", "sigma",
                                                        "params"))
    dt, gamma, epsilon = cache["dt"], cache["gamma"], cache["epsilon"]
    dz = dz + dt * dy                                     # y_t = y_{t-1} + Δt z_t
    dy_prev = dy                                          # y_t: y_{t-1}
    if cache["damping"] == "implicit":
        dz_scaled = dz / (1.0 + dt * epsilon)             # z_t = (..) / (1 + Δt ε)
        dz_prev = dz_scaled                               # (..): z_{t-1}
    else:
        dz_scaled = dz                                    # z_t = z_{t-1} + Δt(..): no 1/(1+Δtε)
        dz_prev = dz * (1.0 - dt * epsilon)               # z_t: z_{t-1} - Δt ε z_{t-1}
    dsigma = dt * dz_scaled                               # (..): Δt σ_t
    dy_prev = dy_prev - dt * gamma * dz_scaled            # (..): -Δt γ y_{t-1}
    da = dsigma * (1.0 - sigma ** 2)                      # σ_t = tanh(a_t)
    dy_prev = dy_prev + da @ P["W"]                       # a_t: W y_{t-1}
    dz_prev = dz_prev + da @ P["W_z"]                     # a_t: 𝒲 z_{t-1}
    dx = da @ P["V"]                                      # a_t: V x_t
    grads = {"W": da.T @ y_prev, "W_z": da.T @ z_prev,    # a_t: W y_{t-1}, 𝒲 z_{t-1}
             "V": da.T @ x_t, "b": da.sum(axis=0)}        # a_t: V x_t + b
    return dx, (dy_prev, dz_prev), grads


register_steps("cornn", step_forward, step_backward,
               lambda cell: {"dt": cell.dt, "gamma": cell.gamma, "epsilon": cell.epsilon,
                             "damping": cell.damping},
               initial_state=hidden_state(lambda p: p["W"].shape[1], count=2))
