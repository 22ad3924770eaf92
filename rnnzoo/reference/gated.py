r"""Textbook gated cells: LSTM, GRU (PyTorch's equations), MGU and JANET.

The stacked pre-activations are cut into their gate blocks (``a[:, H:2 * H]``, from rows
H:2H of W_ih and W_hh, is LSTM's forget gate), and each step's gradient blocks are
stacked back in the same order for the weight gradients.
"""
from __future__ import annotations

import numpy as np

from .core import hidden_state, register_steps, sigmoid


# ------------------------------------------------------------------ LSTM
def lstm_step_forward(x_t, state_prev, params):
    r"""LSTM, gate order i, f, g, o:

    a = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh;  i, f, o = σ(a_i), σ(a_f), σ(a_o);
    g = tanh(a_g);  c_t = f ⊙ c_{t-1} + i ⊙ g;  h_t = o ⊙ tanh(c_t).
    """
    h_prev, c_prev = state_prev
    P, H = params, h_prev.shape[1]
    a = x_t @ P["W_ih"].T + P["b_ih"] + h_prev @ P["W_hh"].T + P["b_hh"]   # [a_i|a_f|a_g|a_o]
    i = sigmoid(a[:, 0 * H:1 * H])                       # i = sigma(a_i)
    f = sigmoid(a[:, 1 * H:2 * H])                       # f = sigma(a_f)
    g = np.tanh(a[:, 2 * H:3 * H])                       # g = tanh(a_g)
    o = sigmoid(a[:, 3 * H:4 * H])                       # o = sigma(a_o)
    c = f * c_prev + i * g                               # c_t = f c_{t-1} + i g
    h = o * np.tanh(c)                                   # h_t = o tanh(c_t)
    cache = {"x": x_t, "h_prev": h_prev, "c_prev": c_prev, "i": i, "f": f, "g": g, "o": o,
             "c": c, "params": P}
    return (h, c), cache


def lstm_step_backward(dstate, cache):
    """dL/d(h_t, c_t) -> dL/dx_t, dL/d(h_{t-1}, c_{t-1}), this step's dL/dparams."""
    dh, dc_next = dstate
    x_t, h_prev, c_prev, c, P = (cache[k] for k in ("x", "h_prev", "c_prev", "c", "params"))
    i, f, g, o = cache["i"], cache["f"], cache["g"], cache["o"]
    do = dh * np.tanh(c)                                 # h_t = o tanh(c_t), o side
    dc = dc_next + dh * o * (1.0 - np.tanh(c) ** 2)      # h_t = o tanh(c_t), c side; + carried
    df = dc * c_prev                                     # c_t = f c_{t-1} + i g
    dc_prev = dc * f                                     # c_t = f c_{t-1} + i g
    di = dc * g                                          # c_t = f c_{t-1} + i g
    dg = dc * i                                          # c_t = f c_{t-1} + i g
    da_i = di * i * (1.0 - i)                            # i = sigma(a_i)
    da_f = df * f * (1.0 - f)                            # f = sigma(a_f)
    da_g = dg * (1.0 - g ** 2)                           # g = tanh(a_g)
    da_o = do * o * (1.0 - o)                            # o = sigma(a_o)
    da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)   # the blocks of a, in order
    dx = da @ P["W_ih"]                                  # a: W_ih x_t
    dh_prev = da @ P["W_hh"]                             # a: W_hh h_{t-1}
    grads = {"W_ih": da.T @ x_t, "W_hh": da.T @ h_prev,  # a: W_ih x_t, W_hh h_{t-1}
             "b_ih": da.sum(axis=0), "b_hh": da.sum(axis=0)}   # a: + b_ih + b_hh
    return dx, (dh_prev, dc_prev), grads


# ------------------------------------------------------------------ GRU
def gru_step_forward(x_t, state_prev, params):
    r"""GRU, gate order r, z, n, the reset applied after the recurrent product:

    r = σ(W_ir x + b_ir + W_hr h_{t-1} + b_hr);  z = σ(W_iz x + b_iz + W_hz h_{t-1} + b_hz);
    n = tanh(W_in x + b_in + r ⊙ (W_hn h_{t-1} + b_hn));  h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}.
    """
    (h_prev,) = state_prev
    P, H = params, h_prev.shape[1]
    gi = x_t @ P["W_ih"].T + P["b_ih"]                   # gi = [W_ir x + b_ir | .iz | .in]
    gh = h_prev @ P["W_hh"].T + P["b_hh"]                # gh = [W_hr h + b_hr | .hz | .hn]
    r = sigmoid(gi[:, 0:H] + gh[:, 0:H])                 # r = sigma(ar), ar = gi_r + gh_r
    z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])         # z = sigma(az), az = gi_z + gh_z
    hn = gh[:, 2 * H:3 * H]                              # hn = W_hn h_{t-1} + b_hn
    n = np.tanh(gi[:, 2 * H:3 * H] + r * hn)             # n = tanh(an), an = W_in x + b_in + r hn
    h = (1.0 - z) * n + z * h_prev                       # h_t = (1 - z) n + z h_{t-1}
    cache = {"x": x_t, "h_prev": h_prev, "r": r, "z": z, "n": n, "hn": hn, "params": P}
    return (h,), cache


def gru_step_backward(dstate, cache):
    """dL/dh_t -> dL/dx_t, dL/d(h_{t-1},), this step's dL/dparams."""
    (dh,) = dstate
    x_t, h_prev, P = cache["x"], cache["h_prev"], cache["params"]
    r, z, n, hn = cache["r"], cache["z"], cache["n"], cache["hn"]
    dn = dh * (1.0 - z)                                  # h_t = (1 - z) n + z h_{t-1}
    dz = dh * (h_prev - n)                               # h_t = (1 - z) n + z h_{t-1}
    dh_prev = dh * z                                     # h_t = ... + z h_{t-1}
    dan = dn * (1.0 - n ** 2)                            # n = tanh(an)
    dr = dan * hn                                        # an = W_in x + b_in + r hn
    dhn = dan * r                                        # an = W_in x + b_in + r hn
    dar = dr * r * (1.0 - r)                             # r = sigma(ar)
    daz = dz * z * (1.0 - z)                             # z = sigma(az)
    dgi = np.concatenate([dar, daz, dan], axis=1)        # the input halves of ar, az, an
    dgh = np.concatenate([dar, daz, dhn], axis=1)        # the recurrent halves (hn inside r)
    dx = dgi @ P["W_ih"]                                 # gi = W_ih x_t + b_ih
    dh_prev = dh_prev + dgh @ P["W_hh"]                  # gh = W_hh h_{t-1} + b_hh
    grads = {"W_ih": dgi.T @ x_t, "W_hh": dgh.T @ h_prev,   # gi, gh
             "b_ih": dgi.sum(axis=0), "b_hh": dgh.sum(axis=0)}
    return dx, (dh_prev,), grads


# ------------------------------------------------------------------ MGU
def mgu_step_forward(x_t, state_prev, params):
    r"""MGU: f = σ(W_f x + U_f h_{t-1} + b_f);  h~ = tanh(W_h x + U_h (f ⊙ h_{t-1}) + b_h);
    h_t = (1 - f) ⊙ h_{t-1} + f ⊙ h~.  W = [W_f; W_h], b = [b_f; b_h]."""
    (h_prev,) = state_prev
    P, H = params, h_prev.shape[1]
    W_f, W_h, b_f, b_h = P["W"][:H], P["W"][H:], P["b"][:H], P["b"][H:]
    f = sigmoid(x_t @ W_f.T + h_prev @ P["U_f"].T + b_f)     # f = sigma(af), af = ...
    fh = f * h_prev                                          # f h_prev
    h_tilde = np.tanh(x_t @ W_h.T + fh @ P["U_h"].T + b_h)   # h~ = tanh(ah), ah = ...
    h = (1.0 - f) * h_prev + f * h_tilde                     # h_t = (1 - f) h_prev + f h~
    cache = {"x": x_t, "h_prev": h_prev, "f": f, "fh": fh, "h_tilde": h_tilde, "params": P}
    return (h,), cache


def mgu_step_backward(dstate, cache):
    """dL/dh_t -> dL/dx_t, dL/d(h_{t-1},), this step's dL/dparams."""
    (dh,) = dstate
    x_t, h_prev, P = cache["x"], cache["h_prev"], cache["params"]
    f, fh, h_tilde = cache["f"], cache["fh"], cache["h_tilde"]
    df = dh * (h_tilde - h_prev)                         # h_t = (1 - f) h_prev + f h~
    dh_tilde = dh * f                                    # h_t = ... + f h~
    dh_prev = dh * (1.0 - f)                             # h_t = (1 - f) h_prev + ...
    dah = dh_tilde * (1.0 - h_tilde ** 2)                # h~ = tanh(ah)
    dfh = dah @ P["U_h"]                                 # ah = ... + U_h (f h_prev)
    df = df + dfh * h_prev                               # fh = f h_prev, f side
    dh_prev = dh_prev + dfh * f                          # fh = f h_prev, h_prev side
    daf = df * f * (1.0 - f)                             # f = sigma(af)
    dh_prev = dh_prev + daf @ P["U_f"]                   # af = ... + U_f h_prev
    da = np.concatenate([daf, dah], axis=1)              # [af | ah], as W and b stack them
    dx = da @ P["W"]                                     # af, ah: W_f x, W_h x
    grads = {"W": da.T @ x_t, "U_f": daf.T @ h_prev, "U_h": dah.T @ fh,
             "b": da.sum(axis=0)}                        # af = W_f x + U_f h_prev + b_f; ah
    return dx, (dh_prev,), grads


# ------------------------------------------------------------------ JANET
def janet_step_forward(x_t, state_prev, params, beta=1.0):
    r"""JANET: s = U_f h_{t-1} + W_f x + b_f;  c~ = tanh(U_c h_{t-1} + W_c x + b_c);
    c_t = σ(s) ⊙ c_{t-1} + (1 - σ(s - β)) ⊙ c~;  h_t = c_t.
    W = [W_f; W_c], U = [U_f; U_c], b = [b_f; b_c]."""
    (c_prev,) = state_prev
    P, H = params, c_prev.shape[1]
    U_f, U_c, W_f, W_c, b_f, b_c = P["U"][:H], P["U"][H:], P["W"][:H], P["W"][H:], \
        P["b"][:H], P["b"][H:]
    s = c_prev @ U_f.T + x_t @ W_f.T + b_f                # s = U_f h_{t-1} + W_f x + b_f
    c_tilde = np.tanh(c_prev @ U_c.T + x_t @ W_c.T + b_c)  # c~ = tanh(ac), ac = U_c h + W_c x + b_c
    f = sigmoid(s)                                       # f = sigma(s)
    i = 1.0 - sigmoid(s - beta)                          # i = 1 - sigma(s - beta)
    c = f * c_prev + i * c_tilde                         # c_t = f c_{t-1} + i c~;  h_t = c_t
    cache = {"x": x_t, "c_prev": c_prev, "f": f, "i": i, "c_tilde": c_tilde, "params": P}
    return (c,), cache


def janet_step_backward(dstate, cache):
    """dL/dh_t (= dL/dc_t) -> dL/dx_t, dL/d(c_{t-1},), this step's dL/dparams."""
    (dc,) = dstate                                       # h_t = c_t
    x_t, c_prev, P = cache["x"], cache["c_prev"], cache["params"]
    f, i, c_tilde = cache["f"], cache["i"], cache["c_tilde"]
    df = dc * c_prev                                     # c_t = f c_{t-1} + i c~
    di = dc * c_tilde                                    # c_t = f c_{t-1} + i c~
    dc_tilde = dc * i                                    # c_t = f c_{t-1} + i c~
    dc_prev = dc * f                                     # c_t = f c_{t-1} + i c~
    ds = df * f * (1.0 - f) - di * i * (1.0 - i)         # f = sigma(s); i = 1 - sigma(s - beta)
    dac = dc_tilde * (1.0 - c_tilde ** 2)                # c~ = tanh(ac)
    da = np.concatenate([ds, dac], axis=1)               # [s | ac], as W, U and b stack them
    dx = da @ P["W"]                                     # s, ac: W_f x, W_c x
    dc_prev = dc_prev + da @ P["U"]                      # s, ac: U_f h_prev, U_c h_prev
    grads = {"W": da.T @ x_t, "U": da.T @ c_prev,         # s, ac: W x, U h_prev (= c_prev)
             "b": da.sum(axis=0)}                        # s, ac: + b
    return dx, (dc_prev,), grads


register_steps("lstm", lstm_step_forward, lstm_step_backward,        # (h, c)
               initial_state=hidden_state(lambda p: p["W_hh"].shape[1], count=2))
register_steps("gru", gru_step_forward, gru_step_backward,
               initial_state=hidden_state(lambda p: p["W_hh"].shape[1]))
register_steps("mgu", mgu_step_forward, mgu_step_backward,
               initial_state=hidden_state(lambda p: p["U_h"].shape[0]))
register_steps("janet", janet_step_forward, janet_step_backward,
               lambda cell: {"beta": cell.beta},
               initial_state=hidden_state(lambda p: p["U"].shape[1]))
