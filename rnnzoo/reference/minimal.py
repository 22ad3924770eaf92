r"""Textbook minimal RNNs (Feng et al. 2024, "Were RNNs All We Needed?"): minGRU and
minLSTM, one step at a time.

Their gates read x_t alone, so the optimized cells compute all steps as one linear scan
(:mod:`rnnzoo.core.scan`); the textbook writes the plain step, whose backward has no
matrix product through h_{t-1}: dh_{t-1} = dh_t ⊙ a_t. The positive candidate g:

.. math:: g(u) = u + \tfrac12 \ (u \ge 0), \qquad g(u) = \sigma(u) \ (u < 0).

minLSTM is written with f/(f + i) as the paper writes it (the cell computes the same
number as (1 + e^{-k_i}) / (2 + e^{-k_f} + e^{-k_i}), finite where f + i underflows:
:func:`rnnzoo.cells.minlstm.normalized_gates`).
"""
from __future__ import annotations

import numpy as np

from .core import hidden_state, register_steps, sigmoid


def g(u):
    """g(u) = u + 1/2 for u >= 0, σ(u) below."""
    return np.where(u >= 0, u + 0.5, sigmoid(u))


def g_grad(u):
    """g'(u) = 1 for u >= 0, σ(u)(1 - σ(u)) below."""
    return np.where(u >= 0, 1.0, sigmoid(u) * (1.0 - sigmoid(u)))


# ------------------------------------------------------------------ minGRU
def mingru_step_forward(x_t, state_prev, params):
    r"""minGRU: k = W_z x_t + b_z;  u = W_h x_t + b_h;  z = σ(k);  h~ = g(u);
    h_t = (1 - z) ⊙ h_{t-1} + z ⊙ h~.   W = [W_z; W_h], b = [b_z; b_h]."""
    (h_prev,) = state_prev
    P, H = params, h_prev.shape[1]
    k = x_t @ P["W"][:H].T + P["b"][:H]                  # k = W_z x_t + b_z
    u = x_t @ P["W"][H:].T + P["b"][H:]                  # u = W_h x_t + b_h
    z = sigmoid(k)                                       # z = sigma(k)
    h_tilde = g(u)                                       # h~ = g(u)
    h = (1.0 - z) * h_prev + z * h_tilde                 # h_t = (1 - z) h_{t-1} + z h~
    cache = {"x": x_t, "h_prev": h_prev, "u": u, "z": z, "h_tilde": h_tilde, "params": P}
    return (h,), cache


def mingru_step_backward(dstate, cache):
    """dL/dh_t -> dL/dx_t, dL/d(h_{t-1},), this step's dL/dparams."""
    (dh,) = dstate
    x_t, h_prev, P = cache["x"], cache["h_prev"], cache["params"]
    u, z, h_tilde = cache["u"], cache["z"], cache["h_tilde"]
    dz = dh * (h_tilde - h_prev)                         # h_t = (1 - z) h_{t-1} + z h~
    dh_tilde = dh * z                                    # h_t = ... + z h~
    dh_prev = dh * (1.0 - z)                             # h_t = (1 - z) h_{t-1} + ...
    dk = dz * z * (1.0 - z)                              # z = sigma(k)
    du = dh_tilde * g_grad(u)                            # h~ = g(u)
    da = np.concatenate([dk, du], axis=1)                # [k | u], as W and b stack them
    dx = da @ P["W"]                                     # k, u: W_z x_t, W_h x_t
    grads = {"W": da.T @ x_t, "b": da.sum(axis=0)}       # k, u: W x_t + b
    return dx, (dh_prev,), grads


# ------------------------------------------------------------------ minLSTM
def minlstm_step_forward(x_t, state_prev, params):
    r"""minLSTM: k_f, k_i, u = W_f x + b_f, W_i x + b_i, W_h x + b_h;  f, i = σ(k_f), σ(k_i);
    f' = f / (f + i);  i' = i / (f + i);  h~ = g(u);  h_t = f' ⊙ h_{t-1} + i' ⊙ h~.
    W = [W_f; W_i; W_h], b = [b_f; b_i; b_h]."""
    (h_prev,) = state_prev
    P, H = params, h_prev.shape[1]
    k_f = x_t @ P["W"][:H].T + P["b"][:H]                # k_f = W_f x_t + b_f
    k_i = x_t @ P["W"][H:2 * H].T + P["b"][H:2 * H]      # k_i = W_i x_t + b_i
    u = x_t @ P["W"][2 * H:].T + P["b"][2 * H:]          # u = W_h x_t + b_h
    f = sigmoid(k_f)                                     # f = sigma(k_f)
    i = sigmoid(k_i)                                     # i = sigma(k_i)
    f_prime = f / (f + i)                                # f' = f / (f + i)
    i_prime = i / (f + i)                                # i' = i / (f + i)
    h_tilde = g(u)                                       # h~ = g(u)
    h = f_prime * h_prev + i_prime * h_tilde             # h_t = f' h_{t-1} + i' h~
    cache = {"x": x_t, "h_prev": h_prev, "u": u, "f": f, "i": i, "f_prime": f_prime,
             "i_prime": i_prime, "h_tilde": h_tilde, "params": P}
    return (h,), cache


def minlstm_step_backward(dstate, cache):
    """dL/dh_t -> dL/dx_t, dL/d(h_{t-1},), this step's dL/dparams."""
    (dh,) = dstate
    x_t, h_prev, P = cache["x"], cache["h_prev"], cache["params"]
    u, f, i, h_tilde = cache["u"], cache["f"], cache["i"], cache["h_tilde"]
    f_prime, i_prime = cache["f_prime"], cache["i_prime"]
    df_prime = dh * h_prev                               # h_t = f' h_{t-1} + i' h~
    di_prime = dh * h_tilde                              # h_t = f' h_{t-1} + i' h~
    dh_tilde = dh * i_prime                              # h_t = ... + i' h~
    dh_prev = dh * f_prime                               # h_t = f' h_{t-1} + ...
    s2 = (f + i) ** 2                                    # f' = f/(f + i), i' = i/(f + i)
    df = df_prime * i / s2 - di_prime * i / s2           # f' = f/(f + i), i' = i/(f + i)
    di = di_prime * f / s2 - df_prime * f / s2           # f' = f/(f + i), i' = i/(f + i)
    dk_f = df * f * (1.0 - f)                            # f = sigma(k_f)
    dk_i = di * i * (1.0 - i)                            # i = sigma(k_i)
    du = dh_tilde * g_grad(u)                            # h~ = g(u)
    da = np.concatenate([dk_f, dk_i, du], axis=1)        # [k_f | k_i | u], as W and b stack
    dx = da @ P["W"]                                     # k_f, k_i, u: W x_t
    grads = {"W": da.T @ x_t, "b": da.sum(axis=0)}       # k_f, k_i, u: W x_t + b
    return dx, (dh_prev,), grads


register_steps("mingru", mingru_step_forward, mingru_step_backward,
               initial_state=hidden_state(lambda p: p["W"].shape[0] // 2))
register_steps("minlstm", minlstm_step_forward, minlstm_step_backward,
               initial_state=hidden_state(lambda p: p["W"].shape[0] // 3))
