r"""Textbook LMU (Voelker, Kajić & Eliasmith, 2019), one step at a time.

.. math::

    u_t = e_x^\top x_t + e_h^\top h_{t-1} + e_m^\top m_{t-1}, \qquad
    m_t = \bar A m_{t-1} + \bar B u_t, \qquad
    h_t = \tanh(W_x x_t + W_h h_{t-1} + W_m m_t)

State (h, m), output h. Ā, B̄ are the Legendre delay system of order d and window θ,
A_ij = (2i+1)/θ · (-1 if i < j else (-1)^(i-j+1)), B_i = (2i+1)/θ · (-1)^i, discretized
by zero-order hold with scipy.signal.cont2discrete (the cell computes its own); they are
fixed, so they get no gradient.
"""
from __future__ import annotations

import numpy as np
from scipy.signal import cont2discrete

from .core import register_steps, zero_state


def legendre_zoh(order, theta):
    """Ā (d, d), B̄ (d,): the Legendre delay system, entry by entry, held over one step."""
    A = np.empty((order, order))
    for i in range(order):
        for j in range(order):
            A[i, j] = (2 * i + 1) / theta * (-1.0 if i < j else (-1.0) ** (i - j + 1))
    B = np.array([(2 * i + 1) / theta * (-1.0) ** i for i in range(order)])
    A_bar, B_bar, *_ = cont2discrete((A, B[:, None], np.eye(order), np.zeros((order, 1))),
                                     dt=1.0, method="zoh")
    return A_bar, B_bar[:, 0]


def lmu_step_forward(x_t, state_prev, params, A_bar, B_bar):
    """One step: (h_{t-1}, m_{t-1}) -> (h_t, m_t)."""
    h_prev, m_prev = state_prev
    P = params
    u = x_t @ P["e_x"] + h_prev @ P["e_h"] + m_prev @ P["e_m"]   # u_t = e_xᵀx + e_hᵀh + e_mᵀm
    m = m_prev @ A_bar.T + u[:, None] * B_bar            # m_t = Ā m_{t-1} + B̄ u_t
    a = x_t @ P["W_x"].T + h_prev @ P["W_h"].T + m @ P["W_m"].T   # a_t = W_x x + W_h h + W_m m
    h = np.tanh(a)                                       # h_t = tanh(a_t)
    cache = {"x": x_t, "h_prev": h_prev, "m_prev": m_prev, "m": m, "h": h, "params": P,
             "A_bar": A_bar, "B_bar": B_bar}
    return (h, m), cache


def lmu_step_backward(dstate, cache):
    """dL/d(h_t, m_t) -> dL/dx_t, dL/d(h_{t-1}, m_{t-1}), this step's dL/dparams."""
    dh, dm_next = dstate
    x_t, h_prev, m_prev, m, h, P = (cache[k] for k in ("x", "h_prev", "m_prev", "m", "h",
                                                      "params"))
    da = dh * (1.0 - h ** 2)                             # h_t = tanh(a_t)
    dW_x = da.T @ x_t                                    # a_t: W_x x_t
    dW_h = da.T @ h_prev                                 # a_t: W_h h_{t-1}
    dW_m = da.T @ m                                      # a_t: W_m m_t
    dm = dm_next + da @ P["W_m"]                         # a_t: W_m m_t, + carried
    du = dm @ cache["B_bar"]                             # m_t = .. + B̄ u_t
    dm_prev = dm @ cache["A_bar"]                        # m_t = Ā m_{t-1} + ..
    de_x = du @ x_t                                      # u_t: e_xᵀ x_t
    de_h = du @ h_prev                                   # u_t: e_hᵀ h_{t-1}
    de_m = du @ m_prev                                   # u_t: e_mᵀ m_{t-1}
    dx = da @ P["W_x"] + du[:, None] * P["e_x"]          # a_t: W_x x_t; u_t: e_xᵀ x_t
    dh_prev = da @ P["W_h"] + du[:, None] * P["e_h"]     # a_t: W_h h_{t-1}; u_t: e_hᵀ h_{t-1}
    dm_prev = dm_prev + du[:, None] * P["e_m"]           # u_t: e_mᵀ m_{t-1}
    return dx, (dh_prev, dm_prev), {"e_x": de_x, "e_h": de_h, "e_m": de_m, "W_x": dW_x,
                                    "W_h": dW_h, "W_m": dW_m}


def options_of(cell):
    """Ā, B̄ from the cell's θ and d, computed here (not read from the cell)."""
    A_bar, B_bar = legendre_zoh(cell.memory_size, cell.theta)
    return {"A_bar": A_bar, "B_bar": B_bar}


def initial_state(batch, params, **options):
    """h_0 = 0 (B, H), m_0 = 0 (B, d)."""
    return zero_state(batch, params, params["e_h"].shape[0], params["e_m"].shape[0])


register_steps("lmu", lmu_step_forward, lmu_step_backward, options_of,
               initial_state=initial_state)
