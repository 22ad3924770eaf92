r"""Textbook AntisymmetricRNN (``antisymmetric``), eqs. 12 and 13 of Chang et al. (2019).

.. math::

    M = W - W^\top - \gamma I, \quad a_t = M h_{t-1} + V_h x_t + b_h, \quad
    f_t = \tanh(a_t), \quad h_t = h_{t-1} + \epsilon f_t

and with ``gated``: :math:`z_t = \sigma(M h_{t-1} + V_z x_t + b_z)`,
:math:`h_t = h_{t-1} + \epsilon z_t \odot f_t`.

Shapes: x_t (B, D), h (B, H); W (H, H), V_h and V_z (H, D), b_h and b_z (H,).
"""
from __future__ import annotations

import numpy as np

from .core import hidden_state, register_steps, sigmoid


def step_forward(x_t, state_prev, params, eps, gamma, gated):
    """One step: (h_{t-1},) -> (h_t,)."""
    (h_prev,) = state_prev
    W = params["W"]
    M = W - W.T - gamma * np.eye(len(W))                  # M = W - Wᵀ - γI
    a = h_prev @ M.T + x_t @ params["V_h"].T + params["b_h"]   # a_t = M h + V_h x + b_h
    f = np.tanh(a)                                        # f_t = tanh(a_t)
    z = None
    if gated:
        a_z = h_prev @ M.T + x_t @ params["V_z"].T + params["b_z"]   # M h + V_z x + b_z
        z = sigmoid(a_z)                                  # z_t = σ(..)
        h = h_prev + eps * z * f                          # h_t = h_{t-1} + ε z_t f_t
    else:
        h = h_prev + eps * f                              # h_t = h_{t-1} + ε f_t
    cache = {"x": x_t, "h_prev": h_prev, "M": M, "f": f, "z": z, "eps": eps,
             "params": params}
    return (h,), cache


def step_backward(dstate, cache):
    """dL/d(h_t,) -> dL/dx_t, dL/d(h_{t-1},), dL/dparams of this step."""
    (dh,) = dstate
    x_t, h_prev, M, f, z, eps = (cache[k] for k in ("x", "h_prev", "M", "f", "z", "eps"))
    P = cache["params"]
    df = eps * dh if z is None else eps * dh * z          # h_t = h_{t-1} + ε (z_t) f_t
    da = df * (1.0 - f ** 2)                              # f_t = tanh(a_t)
    dh_prev = dh + da @ M                                 # h_t: h_{t-1}; a_t: M h_{t-1}
    dM = da.T @ h_prev                                    # a_t: M h_{t-1}
    grads = {"V_h": da.T @ x_t, "b_h": da.sum(axis=0)}    # a_t: V_h x_t + b_h
    dx = da @ P["V_h"]                                   # a_t: V_h x_t
    if z is not None:
        dz = eps * dh * f                                 # h_t = .. ε z_t f_t
        da_z = dz * z * (1.0 - z)                         # z_t = σ(a_z)
        dh_prev = dh_prev + da_z @ M                      # a_z: M h_{t-1}
        dM = dM + da_z.T @ h_prev                         # a_z: M h_{t-1}
        grads["V_z"] = da_z.T @ x_t                       # a_z: V_z x_t
        grads["b_z"] = da_z.sum(axis=0)                   # a_z: + b_z
        dx = dx + da_z @ P["V_z"]                        # a_z: V_z x_t
    grads["W"] = dM - dM.T                                # M = W - Wᵀ - γI
    return dx, (dh_prev,), grads


register_steps("antisymmetric", step_forward, step_backward,
               lambda cell: {"eps": cell.eps, "gamma": cell.gamma, "gated": cell.gated},
               initial_state=hidden_state(lambda p: p["W"].shape[1]))
