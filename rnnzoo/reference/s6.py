r"""Textbook S6 (Gu & Dao, 2023, Mamba's selective SSM), one step at a time, in NumPy.

.. math::

    u^{in}_t = W_{in} e_t \ (\text{or } e_t), \qquad
    u_t = \mathrm{silu}(\mathrm{conv}(u^{in})_t) \ (\text{or } u^{in}_t), \\
    \Delta_t = \mathrm{softplus}(W_\Delta^{up} W_\Delta^{down} u_t + b_\Delta), \qquad
    B_t = W_B u_t, \quad C_t = W_C u_t \\
    A = -\exp(A^{\log}), \qquad
    x_t = \exp(\Delta_t A) \odot x_{t-1} + (\Delta_t u_t) \otimes B_t, \qquad
    y_t = \textstyle\sum_n C_t[n]\, x_t[:, n] + D \odot u_t \quad
    (\odot\, \mathrm{silu}(W_z e_t) \text{ with the gate})

The names are selective_scan_ref's: u is the SSM's input and x its state, so the cell's
own input (the contract's x) is written e_t, here and in the cell's docstring. x_t
(B, H, N) is carried as the (B, H N) array; with the causal convolution (parameters
w_conv, b_conv, conv_t = Σ_j w_j u^in_{t-W+1+j} + b) its last W - 1 inputs u_past travel
along, (B, (W-1) H), oldest first.
What is not selective is a parameter: Δ = softplus(b_Δ), B (H, N), C (H, N). The twin
takes no options: what the cell's options chose is read from the parameters, as they
are there or not: W_in (else u_t = e_t), W_Δ^down and W_Δ^up, W_B, W_C (else Δ, B, C
are not selective), W_z (the gate), w_conv (the convolution).

The output y_t is read out of the state, not an entry of it, so the readout loop of
:mod:`.core` runs these steps: the carried gradient ``dx_next`` is dL/dx_t from step
t+1, and y_t's own gradient dy joins it inside the step.
"""
from __future__ import annotations

import numpy as np

from .core import register_readout_steps, sigmoid, zero_state


def softplus(v):
    """log(1 + e^v)."""
    return np.logaddexp(0.0, v)


def s6_step_forward(e_t, state_prev, params):
    """One step: (e_t, (x_{t-1} flat, [u_past])) -> ((x_t flat, [u_past]), out_t, cache)."""
    P = params
    H, N = P["A_log"].shape
    x_prev = state_prev[0].reshape(-1, H, N)                  # (B, H N) -> (B, H, N)
    u_in = e_t @ P["W_in"].T if "W_in" in P else e_t          # u^in_t = W_in e_t, or e_t
    window = conv_pre = None
    if "w_conv" in P:                                         # the causal convolution
        W = P["w_conv"].shape[1]
        past = state_prev[1].reshape(-1, W - 1, H)            # u^in_{t-W+1} .. u^in_{t-1}
        window = np.concatenate([past, u_in[:, None, :]], axis=1)   # u^in_{t-W+1} .. u^in_t
        conv_pre = (window * P["w_conv"].T).sum(axis=1) + P["b_conv"]   # conv_t = Σ_j w_j .. + b
        u = conv_pre * sigmoid(conv_pre)                      # u_t = silu(conv_t)
    else:
        u = u_in                                              # u_t = u^in_t
    if "W_delta_down" in P:
        s = u @ P["W_delta_down"].T                           # s_t = W_down u_t
        pre = s @ P["W_delta_up"].T + P["b_delta"]            # pre_t = W_up s_t + b
    else:
        s, pre = None, P["b_delta"]                           # pre = b (one Δ a channel)
    delta = softplus(pre)                                     # Δ_t = softplus(pre_t)
    Bt = u @ P["W_B"].T if "W_B" in P else P["B"]             # B_t = W_B u_t, or B
    Ct = u @ P["W_C"].T if "W_C" in P else P["C"]             # C_t = W_C u_t, or C
    Bt3 = Bt[:, None, :] if "W_B" in P else Bt                # (B, 1, N) / (H, N)
    Ct3 = Ct[:, None, :] if "W_C" in P else Ct                # (B, 1, N) / (H, N)
    A = -np.exp(P["A_log"])                                   # A = -exp(A_log)
    Abar = np.exp(delta[..., None] * A)                       # Ā_t = exp(Δ_t A)
    x = Abar * x_prev + (delta * u)[..., None] * Bt3          # x_t = Ā_t x_{t-1} + Δ_t u_t B_t
    y = (x * Ct3).sum(axis=-1) + P["D"] * u                   # y_t = Σ_n C_t x_t + D u_t
    out, z = y, None
    if "W_z" in P:                                            # the gate
        z = e_t @ P["W_z"].T                                  # z_t = W_z e_t
        out = y * z * sigmoid(z)                              # out_t = y_t silu(z_t)
    cache = {"e": e_t, "u": u, "s": s, "pre": pre, "delta": delta, "Bt3": Bt3,
             "Ct3": Ct3, "A": A, "Abar": Abar, "x_prev": x_prev, "x": x, "y": y, "z": z,
             "window": window, "conv_pre": conv_pre, "params": P}
    state = (x.reshape(x.shape[0], -1),)
    if window is not None:
        state += (window[:, 1:].reshape(window.shape[0], -1),)   # drop the oldest input
    return state, out, cache


def s6_step_backward(dout, dstate, cache):
    """dL/dout_t and dL/dx_t from step t+1 -> dL/de_t, dL/dx_{t-1} (with u_past's) and
    this step's dL/dparams."""
    c, P = cache, cache["params"]
    H, N = P["A_log"].shape
    grads = {}
    if "W_z" in P:
        sz = sigmoid(c["z"])                                  # out_t = y_t silu(z_t)
        dy = dout * c["z"] * sz                               # out_t = y_t silu(z_t)
        dz = dout * c["y"] * sz * (1 + c["z"] * (1 - sz))     # out_t = y_t silu(z_t)
        grads["W_z"] = dz.T @ c["e"]                          # z_t = W_z e_t
    else:
        dy = dout                                             # (no gate) out_t = y_t
    dx_next = dstate[0].reshape(-1, H, N)                     # (B, H N) -> (B, H, N)
    dx = dx_next + dy[..., None] * c["Ct3"]                   # y_t = Σ_n C_t x_t; + carried
    dCt = (dy[..., None] * c["x"]).sum(axis=1)                # y_t = Σ_n C_t x_t (per row)
    du = dy * P["D"]                                          # y_t = .. + D u_t
    grads["D"] = (dy * c["u"]).sum(axis=0)                    # y_t = .. + D u_t
    dx_prev = dx * c["Abar"]                                  # x_t = Ā_t x_{t-1} + ..
    dAbar = dx * c["x_prev"]                                  # x_t = Ā_t x_{t-1} + ..
    dw = (dx * c["Bt3"]).sum(axis=-1)                         # x_t = .. + (Δ_t u_t) B_t
    dBt = (dx * (c["delta"] * c["u"])[..., None]).sum(axis=1)   # x_t = .. + (Δ_t u_t) B_t
    d_delta = dw * c["u"]                                     # Δ_t u_t, the Δ side
    du = du + dw * c["delta"]                                 # Δ_t u_t, the u side
    dDA = dAbar * c["Abar"]                                   # Ā_t = exp(Δ_t A): dL/d(Δ_t A)
    d_delta = d_delta + (dDA * c["A"]).sum(axis=-1)           # Ā_t = exp(Δ_t A), Δ side
    dA = (dDA * c["delta"][..., None]).sum(axis=0)            # Ā_t = exp(Δ_t A), A side
    grads["A_log"] = dA * c["A"]                              # A = -exp(A_log)
    if "W_delta_down" in P:
        dpre = d_delta * sigmoid(c["pre"])                    # Δ_t = softplus(pre_t)
        grads["b_delta"] = dpre.sum(axis=0)                   # pre_t = W_up s_t + b
        grads["W_delta_up"] = dpre.T @ c["s"]                 # pre_t = W_up s_t + b
        ds = dpre @ P["W_delta_up"]                           # pre_t = W_up s_t + b
        grads["W_delta_down"] = ds.T @ c["u"]                 # s_t = W_down u_t
        du = du + ds @ P["W_delta_down"]                      # s_t = W_down u_t
    else:
        grads["b_delta"] = d_delta.sum(axis=0) * sigmoid(c["pre"])   # Δ = softplus(b)
    if "W_B" in P:
        grads["W_B"] = dBt.T @ c["u"]                         # B_t = W_B u_t
        du = du + dBt @ P["W_B"]                              # B_t = W_B u_t
    else:
        grads["B"] = (dx * (c["delta"] * c["u"])[..., None]).sum(axis=0)   # x_t = .. + Δ u B
    if "W_C" in P:
        grads["W_C"] = dCt.T @ c["u"]                         # C_t = W_C u_t
        du = du + dCt @ P["W_C"]                              # C_t = W_C u_t
    else:
        grads["C"] = (dy[..., None] * c["x"]).sum(axis=0)     # y_t = Σ_n C x_t
    dstate_prev = (dx_prev.reshape(dx_prev.shape[0], -1),)   # x_{t-1}, flat as the state
    if c["window"] is not None:
        sc = sigmoid(c["conv_pre"])                           # u_t = silu(conv_t)
        dconv = du * sc * (1 + c["conv_pre"] * (1 - sc))     # u_t = silu(conv_t)
        grads["b_conv"] = dconv.sum(axis=0)                   # conv_t = Σ_j w_j window_j + b
        grads["w_conv"] = (dconv[:, None, :] * c["window"]).sum(axis=0).T   # conv_t = Σ_j w_j ..
        dwindow = dconv[:, None, :] * P["w_conv"].T           # conv_t = Σ_j w_j window_j + ..
        du_past = dstate[1].reshape(-1, P["w_conv"].shape[1] - 1, H)   # (carried from t+1)
        dwindow = dwindow + np.pad(du_past, ((0, 0), (1, 0), (0, 0)))   # u_past_t = window[1:]
        du_in = dwindow[:, -1]                                # window[-1] = u^in_t
        dstate_prev += (dwindow[:, :-1].reshape(du_in.shape[0], -1),)   # window[:-1] = u_past
    else:
        du_in = du                                            # u_t = u^in_t
    if "W_in" in P:
        grads["W_in"] = du_in.T @ c["e"]                      # u^in_t = W_in e_t
        de = du_in @ P["W_in"]                                # u^in_t = W_in e_t
    else:
        de = du_in                                            # u^in_t = e_t
    if "W_z" in P:
        de = de + dz @ P["W_z"]                               # z_t = W_z e_t
    return de, dstate_prev, grads


def initial_state(batch, params, **options):
    """x_0 = 0: (B, H N); with the convolution also u_past = 0: (B, (W-1) H)."""
    if "w_conv" not in params:
        return zero_state(batch, params, params["A_log"].size)
    H, W = params["w_conv"].shape
    return zero_state(batch, params, params["A_log"].size, (W - 1) * H)


register_readout_steps("s6", s6_step_forward, s6_step_backward,
                       initial_state=initial_state)
