r"""Textbook UnICORNN (Rusch & Mishra, 2021), one symplectic Euler step at a time.

.. math::

    \hat x_t = V x_t + b, \qquad k = \Delta t\, \sigma(c), \qquad
    a_t = w \odot y_{t-1} + \hat x_t \\
    z_t = z_{t-1} - k \odot (\tanh(a_t) + \alpha\, y_{t-1}), \qquad
    y_t = y_{t-1} + k \odot z_t

State (y, z), output y. This twin keeps every step's cache (the cell's
``memory="store"``); the cell's default walks the states back instead, and both equal
this.
"""
from __future__ import annotations

import numpy as np

from .core import hidden_state, register_steps, sigmoid


def unicornn_step_forward(x_t, state_prev, params, dt=0.19, alpha=30.65):
    """One step: (y_{t-1}, z_{t-1}) -> (y_t, z_t)."""
    y_prev, z_prev = state_prev
    V, b, w, c = params["V"], params["b"], params["w"], params["c"]
    x_hat = x_t @ V.T + b                                # x̂_t = V x_t + b
    s = sigmoid(c)                                       # σ(c)
    k = dt * s                                           # k = Δt σ(c)
    a = w * y_prev + x_hat                               # a_t = w y_{t-1} + x̂_t
    f = np.tanh(a)                                       # tanh(a_t)
    z = z_prev - k * (f + alpha * y_prev)                # z_t = z_{t-1} - k (f + α y_{t-1})
    y = y_prev + k * z                                   # y_t = y_{t-1} + k z_t
    cache = {"x": x_t, "y_prev": y_prev, "z": z, "f": f, "s": s, "k": k,
             "params": params, "dt": dt, "alpha": alpha}
    return (y, z), cache


def unicornn_step_backward(dstate, cache):
    """dL/d(y_t, z_t) -> dL/dx_t, dL/d(y_{t-1}, z_{t-1}), this step's dL/dparams."""
    dy, dz_next = dstate
    x_t, y_prev, z, f, s, k, P = (cache[n] for n in ("x", "y_prev", "z", "f", "s", "k",
                                                     "params"))
    alpha = cache["alpha"]
    dz = dz_next + k * dy                                # y_t = y_{t-1} + k z_t
    dk = (dy * z).sum(axis=0)                            # y_t = y_{t-1} + k z_t
    dy_prev = dy                                         # y_t = y_{t-1} + ..
    dk = dk - (dz * (f + alpha * y_prev)).sum(axis=0)    # z_t = z_{t-1} - k (..)
    dz_prev = dz                                         # z_t = z_{t-1} - ..
    df = -k * dz                                         # z_t = .. - k tanh(a_t)
    dy_prev = dy_prev - k * alpha * dz                   # z_t = .. - k α y_{t-1}
    da = df * (1.0 - f ** 2)                             # f = tanh(a_t)
    dw = (da * y_prev).sum(axis=0)                       # a_t = w y_{t-1} + x̂_t
    dy_prev = dy_prev + da * P["w"]                      # a_t = w y_{t-1} + x̂_t
    dx_hat = da                                          # a_t = .. + x̂_t
    dV = dx_hat.T @ x_t                                  # x̂_t = V x_t + b
    db = dx_hat.sum(axis=0)                              # x̂_t = V x_t + b
    dx = dx_hat @ P["V"]                                 # x̂_t = V x_t + b
    dc = dk * cache["dt"] * s * (1.0 - s)                # k = Δt σ(c)
    return dx, (dy_prev, dz_prev), {"V": dV, "b": db, "w": dw, "c": dc}


register_steps("unicornn", unicornn_step_forward, unicornn_step_backward,
               lambda cell: {"dt": cell.dt, "alpha": cell.alpha},
               initial_state=hidden_state(lambda p: p["w"].shape[0], count=2))
