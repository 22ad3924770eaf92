r"""Textbook Delta-RNN (Ororbia, Mikolov & Reitter, 2017), second-order inner function.

.. math::

    d^1_t = \alpha \odot V h_{t-1} \odot W x_t, \quad
    d^2_t = \beta_1 \odot V h_{t-1} + \beta_2 \odot W x_t, \quad
    z_t = \tanh(d^1_t + d^2_t + b_z), \quad r_t = \sigma(W x_t + b_r), \\
    h_t = \Phi\big((1 - r_t) \odot z_t + r_t \odot h_{t-1}\big)

Shapes: x_t (B, D), h (B, H); W (H, D), V (H, H); α, β₁, β₂, b_z, b_r (H,).
"""
from __future__ import annotations

import numpy as np

from .core import hidden_state, phi_backward, phi_forward, register_steps, sigmoid


def step_forward(x_t, state_prev, params, phi="tanh"):
    """One step: (h_{t-1},) -> (h_t,). phi (Φ): "tanh", "relu" or "identity"."""
    (h_prev,) = state_prev
    P = params
    wx = x_t @ P["W"].T                                  # W x_t
    vh = h_prev @ P["V"].T                               # V h_{t-1}
    d1 = P["alpha"] * vh * wx                            # d1 = alpha Vh Wx
    d2 = P["beta1"] * vh + P["beta2"] * wx               # d2 = beta1 Vh + beta2 Wx
    z = np.tanh(d1 + d2 + P["b_z"])                      # z = tanh(d1 + d2 + b_z)
    r = sigmoid(wx + P["b_r"])                           # r = sigma(Wx + b_r)
    o = (1.0 - r) * z + r * h_prev                       # o = (1 - r) z + r h_{t-1}
    h = phi_forward(o, phi)                              # h_t = Phi(o)
    cache = {"x": x_t, "h_prev": h_prev, "wx": wx, "vh": vh, "z": z, "r": r, "h": h,
             "phi": phi, "params": P}
    return (h,), cache


def step_backward(dstate, cache):
    """dL/dh_t -> dL/dx_t, dL/d(h_{t-1},), this step's dL/dparams."""
    (dh,) = dstate
    x_t, h_prev, wx, vh, P = (cache[k] for k in ("x", "h_prev", "wx", "vh", "params"))
    z, r, h, phi = cache["z"], cache["r"], cache["h"], cache["phi"]
    do = phi_backward(dh, h, phi)                        # h_t = Phi(o)
    dz = do * (1.0 - r)                                  # o = (1 - r) z + r h_{t-1}
    dr = do * (h_prev - z)                               # o = (1 - r) z + r h_{t-1}
    dh_prev = do * r                                     # o = ... + r h_{t-1}
    dpre_r = dr * r * (1.0 - r)                          # r = sigma(Wx + b_r)
    dpre_z = dz * (1.0 - z ** 2)                         # z = tanh(d1 + d2 + b_z)
    dvh = dpre_z * (P["alpha"] * wx + P["beta1"])        # d1 = alpha Vh Wx; d2 = beta1 Vh + ..
    dwx = dpre_z * (P["alpha"] * vh + P["beta2"]) + dpre_r   # d1, d2 (.. + beta2 Wx) and r
    dh_prev = dh_prev + dvh @ P["V"]                     # V h_{t-1}
    dx = dwx @ P["W"]                                    # W x_t
    grads = {"W": dwx.T @ x_t, "V": dvh.T @ h_prev,      # W x_t, V h_{t-1}
             "alpha": (dpre_z * vh * wx).sum(axis=0),    # d1 = alpha Vh Wx
             "beta1": (dpre_z * vh).sum(axis=0),         # d2 = beta1 Vh + ..
             "beta2": (dpre_z * wx).sum(axis=0),         # d2 = .. + beta2 Wx
             "b_z": dpre_z.sum(axis=0),                  # z = tanh(.. + b_z)
             "b_r": dpre_r.sum(axis=0)}                  # r = sigma(.. + b_r)
    return dx, (dh_prev,), grads


register_steps("deltarnn", step_forward, step_backward, lambda cell: {"phi": cell.phi},
               initial_state=hidden_state(lambda p: p["V"].shape[0]))
