r"""Textbook S4D (Gu, Gupta, Goel & Ré, 2022), one step at a time, in complex NumPy.

.. math::

    \Delta = \exp(\log\Delta), \qquad A = -\exp(\log A^{re}) + i A^{im} \\
    \bar A = \exp(\Delta A), \qquad \bar B = (\exp(\Delta A) - 1) / A \\
    x_t = \bar A \odot x_{t-1} + \bar B \odot v_t, \qquad
    y_t = 2\,\mathrm{Re} \textstyle\sum_n C_n x_{t,n} + D v_t

per channel h (Δ, D, v_t per channel; A, B̄, C, x per channel and mode n). v_t = u_t,
or W_in u_t when the parameters have W_in (the cell's input projection: the twin reads
it from them and takes no options). x_t (B, H, N) is carried as the real (B, 2HN) array
[Re x, Im x]. Only the recurrence is written here: the cell's convolution mode is the
same map (tests/test_s4d.py equates the two), so both modes are checked against this.

Complex gradients are dL/dRe + i dL/dIm: the backward of y = 2 Re(C x) is then dL/dx =
2 conj(C) dL/dy and dL/dC = 2 dL/dy conj(x); of x = Ā x_prev, dL/dx_prev = conj(Ā) dL/dx;
of a holomorphic z = f(w), dL/dw = conj(f'(w)) dL/dz; a real p that a complex z(p)
depends on gets dL/dp = Re(conj(dL/dz) dz/dp).
"""
from __future__ import annotations

import numpy as np

from .core import register_readout_steps, zero_state


def s4d_step_forward(u_t, state_prev, params):
    """One step: (u_t, ([Re x_{t-1}, Im x_{t-1}],)) -> (([Re x_t, Im x_t],), y_t, cache)."""
    P = params
    H, N = P["log_A_real"].shape
    packed = state_prev[0]
    x_prev = (packed[:, :H * N] + 1j * packed[:, H * N:]).reshape(-1, H, N)  # [Re, Im] -> x
    dt = np.exp(P["log_dt"])                             # Δ = exp(log Δ)
    A = -np.exp(P["log_A_real"]) + 1j * P["A_imag"]      # A = -exp(log A_re) + i A_im
    Abar = np.exp(dt[:, None] * A)                       # Ā = exp(Δ A)
    Bbar = (np.exp(dt[:, None] * A) - 1.0) / A           # B̄ = (exp(Δ A) - 1) / A
    C = P["C_re"] + 1j * P["C_im"]                       # C = C_re + i C_im
    v = u_t @ P["W_in"].T if "W_in" in P else u_t        # v_t = W_in u_t, or u_t
    x = Abar * x_prev + Bbar * v[:, :, None]             # x_t = Ā x_{t-1} + B̄ v_t
    y = 2.0 * (C * x).sum(axis=2).real + P["D"] * v      # y_t = 2 Re Σ_n C x_t + D v_t
    state = (np.concatenate([x.real.reshape(-1, H * N), x.imag.reshape(-1, H * N)], axis=1),)
    cache = {"u": u_t, "v": v, "x_prev": x_prev, "x": x, "dt": dt, "A": A, "Abar": Abar,
             "Bbar": Bbar, "C": C, "params": P}
    return state, y, cache


def s4d_step_backward(dy, dstate, cache):
    """dL/dy_t and dL/d[Re x_t, Im x_t] from step t+1 -> dL/du_t,
    dL/d[Re x_{t-1}, Im x_{t-1}] and this step's dL/dparams."""
    u_t, v, x_prev, x = (cache[k] for k in ("u", "v", "x_prev", "x"))
    dt, A, Abar, Bbar, C, P = (cache[k] for k in ("dt", "A", "Abar", "Bbar", "C", "params"))
    H, N = A.shape
    d = dstate[0]
    dx_next = (d[:, :H * N] + 1j * d[:, H * N:]).reshape(-1, H, N)   # [Re, Im] -> x
    dx = dx_next + 2.0 * np.conj(C) * dy[:, :, None]     # y_t = 2 Re Σ C x_t; + carried
    dC = 2.0 * (dy[:, :, None] * np.conj(x)).sum(axis=0)     # y_t = 2 Re Σ C x_t
    dD = (dy * v).sum(axis=0)                            # y_t = .. + D v_t
    dv = dy * P["D"]                                     # y_t = .. + D v_t
    dAbar = (dx * np.conj(x_prev)).sum(axis=0)           # x_t = Ā x_{t-1} + ..
    dx_prev = dx * np.conj(Abar)                         # x_t = Ā x_{t-1} + ..
    dBbar = (dx * v[:, :, None]).sum(axis=0)             # x_t = .. + B̄ v_t
    dv = dv + (dx * np.conj(Bbar)).real.sum(axis=2)      # x_t = .. + B̄ v_t (v real)
    d_dtA = np.conj(Abar) * dAbar                        # Ā = exp(Δ A)
    dA = np.conj((dt[:, None] * Abar - Bbar) / A) * dBbar    # B̄ = (exp(Δ A) - 1) / A
    ddt = (np.conj(dBbar) * Abar).real.sum(axis=1)       # B̄ = (exp(Δ A) - 1) / A
    dA = dA + dt[:, None] * d_dtA                        # Ā = exp(Δ A)
    ddt = ddt + (np.conj(d_dtA) * A).real.sum(axis=1)    # Ā = exp(Δ A)
    grads = {"log_dt": ddt * dt,                         # Δ = exp(log Δ)
             "log_A_real": -np.exp(P["log_A_real"]) * dA.real,   # A = -exp(log A_re) + ..
             "A_imag": dA.imag,                          # A = .. + i A_im
             "C_re": dC.real, "C_im": dC.imag,           # C = C_re + i C_im
             "D": dD}
    if "W_in" in P:
        grads["W_in"] = dv.T @ u_t                       # v_t = W_in u_t
        du = dv @ P["W_in"]                              # v_t = W_in u_t
    else:
        du = dv                                          # v_t = u_t
    dstate_prev = (np.concatenate([dx_prev.real.reshape(-1, H * N),       # x -> [Re, Im]
                                   dx_prev.imag.reshape(-1, H * N)], axis=1),)
    return du, dstate_prev, grads


def initial_state(batch, params, **options):
    """x_0 = 0, complex, packed as [Re x, Im x]: (B, 2HN)."""
    return zero_state(batch, params, 2 * params["log_A_real"].size)


register_readout_steps("s4d", s4d_step_forward, s4d_step_backward,
                       initial_state=initial_state)
