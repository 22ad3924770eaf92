r"""Textbook Elman RNN (``rnn``; the IRNN is the same equations with another init).

.. math::

    a_t = W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}, \qquad h_t = \phi(a_t)

Shapes: x_t (B, D), h (B, H); W_ih (H, D), W_hh (H, H), b_ih and b_hh (H,).
"""
from __future__ import annotations

import numpy as np

from .core import hidden_state, register_steps, relu


def step_forward(x_t, state_prev, params, nonlinearity="tanh"):
    """One step: (h_{t-1},) -> (h_t,). nonlinearity: "tanh" or "relu"."""
    (h_prev,) = state_prev
    W_ih, W_hh, b_ih, b_hh = params["W_ih"], params["W_hh"], params["b_ih"], params["b_hh"]
    a = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh     # a_t = W_ih x_t + b_ih + W_hh h_{t-1} + ..
    h = np.tanh(a) if nonlinearity == "tanh" else relu(a)   # h_t = phi(a_t)
    cache = {"x": x_t, "h_prev": h_prev, "h": h, "params": params,
             "nonlinearity": nonlinearity}
    return (h,), cache


def step_backward(dstate, cache):
    """dL/d(h_t,) -> dL/dx_t, dL/d(h_{t-1},), dL/dparams of this step."""
    (dh,) = dstate
    x_t, h_prev, h, P = cache["x"], cache["h_prev"], cache["h"], cache["params"]
    if cache["nonlinearity"] == "tanh":
        da = dh * (1.0 - h ** 2)                         # h_t = tanh(a_t)
    else:
        da = dh * (h > 0)                                # h_t = relu(a_t)
    dx = da @ P["W_ih"]                                  # a_t: W_ih x_t
    dh_prev = da @ P["W_hh"]                             # a_t: W_hh h_{t-1}
    dW_ih = da.T @ x_t                                   # a_t: W_ih x_t
    dW_hh = da.T @ h_prev                                # a_t: W_hh h_{t-1}
    db_ih = da.sum(axis=0)                               # a_t: + b_ih
    db_hh = da.sum(axis=0)                               # a_t: + b_hh
    return dx, (dh_prev,), {"W_ih": dW_ih, "W_hh": dW_hh, "b_ih": db_ih, "b_hh": db_hh}


register_steps("rnn", step_forward, step_backward,
               lambda cell: {"nonlinearity": cell.nonlinearity},
               initial_state=hidden_state(lambda p: p["W_hh"].shape[1]))
