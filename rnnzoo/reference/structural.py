r"""Textbook structural cells: IndRNN, the residual IndRNN stack, the orthogonal RNN.

IndRNN (Li et al., 2018), one recurrent weight per unit:

.. math:: h_t = \sigma(W x_t + u \odot h_{t-1} + b)

Residual IndRNN (Li et al., 2019): L IndRNN layers, layer l reading layer l-1's h_t
(h^(0) = x), the shortcut a^(l-2) added on layers 3, 5, 7, ... and an optional layer
norm N; the output is the top layer's h^(L):

.. math:: a^{(l)}_t = W^{(l)} h^{(l-1)}_t [+ a^{(l-2)}_t], \quad
          z^{(l)}_t = N(a^{(l)}_t) + b^{(l)}, \quad
          h^{(l)}_t = \sigma(z^{(l)}_t + u^{(l)} \odot h^{(l)}_{t-1})

Orthogonal RNN (expRNN / scoRNN), W orthogonal by construction from S:

.. math:: A = S - S^\top\ (S \text{ strictly upper}), \quad
          W = e^A \ \text{or}\ (I + A)^{-1}(I - A) D, \quad
          h_t = \varphi(W h_{t-1} + V x_t + b)

(with modReLU, b is the modReLU bias instead of added). The textbook builds W from S
at every step and sends dL/dW back to S at every step; the optimized cell does it once
per sequence. The matrix exponential and its Fréchet derivative come from SciPy.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg

from .core import (hidden_state, layer_norm_backward, layer_norm_forward, modrelu,
                   modrelu_backward, phi_backward, phi_forward, register_steps, zero_state)


# ------------------------------------------------------------------ IndRNN
def indrnn_step_forward(x_t, state_prev, params, nonlinearity="relu"):
    """One step: (h_{t-1},) -> (h_t,). nonlinearity: "relu" or "tanh"."""
    (h_prev,) = state_prev
    P = params
    a = x_t @ P["W"].T + P["u"] * h_prev + P["b"]        # a = W x_t + u h_{t-1} + b
    h = phi_forward(a, nonlinearity)                     # h_t = sigma(a)
    cache = {"x": x_t, "h_prev": h_prev, "h": h, "nonlinearity": nonlinearity, "params": P}
    return (h,), cache


def indrnn_step_backward(dstate, cache):
    """dL/dh_t -> dL/dx_t, dL/d(h_{t-1},), this step's dL/dparams."""
    (dh,) = dstate
    x_t, h_prev, h, P = cache["x"], cache["h_prev"], cache["h"], cache["params"]
    da = phi_backward(dh, h, cache["nonlinearity"])      # h_t = sigma(a)
    dh_prev = da * P["u"]                                # a = .. + u h_{t-1}
    dx = da @ P["W"]                                     # a = W x_t + ..
    grads = {"W": da.T @ x_t,                            # a = W x_t + ..
             "u": (da * h_prev).sum(axis=0),             # a = .. + u h_{t-1}
             "b": da.sum(axis=0)}                        # a = .. + b
    return dx, (dh_prev,), grads


# ------------------------------------------------------------------ residual IndRNN
def has_shortcut(l, residual):
    """Layer l adds a^(l-2): layers 3, 5, 7, ... of a residual stack."""
    return residual and l >= 3 and l % 2 == 1


def resindrnn_depth(params):
    """L, the number of layers: the parameters hold W1 .. WL."""
    depth = 0
    while f"W{depth + 1}" in params:
        depth += 1
    if depth == 0:
        raise KeyError("W1")                             # not a stack's parameters
    return depth


def resindrnn_step_forward(x_t, state_prev, params, depth=None, residual=True, norm=None,
                           nonlinearity="relu"):
    """One step of the whole stack: (h^(1)_{t-1}, .., h^(L)_{t-1}) -> (h^(1)_t, .., h^(L)_t).
    depth and norm left None are read from the parameters: W1 .. WL, and g1 .. gL with
    the layer norm (residual and nonlinearity are not in them: True and "relu")."""
    depth = resindrnn_depth(params) if depth is None else depth
    norm = ("layer" if "g1" in params else "none") if norm is None else norm
    P, below, a, layers = params, x_t, {}, []
    for l in range(1, depth + 1):
        h_prev = state_prev[l - 1]
        a[l] = below @ P[f"W{l}"].T                      # a = W h^(l-1)
        if has_shortcut(l, residual):
            a[l] = a[l] + a[l - 2]                       # a = .. + a^(l-2)
        if norm == "layer":
            z, ln = layer_norm_forward(a[l], P[f"g{l}"], P[f"b{l}"])   # z = N(a) + b
        else:
            z, ln = a[l] + P[f"b{l}"], None              # z = a + b
        h = phi_forward(z + P[f"u{l}"] * h_prev, nonlinearity)   # h = s(z + u h_{t-1})
        layers.append({"below": below, "h_prev": h_prev, "h": h, "ln": ln})
        below = h
    cache = {"layers": layers, "residual": residual, "norm": norm,
             "nonlinearity": nonlinearity, "params": P}
    return tuple(layer["h"] for layer in layers), cache


def resindrnn_step_backward(dstate, cache):
    """dL/d(every layer's h_t) -> dL/dx_t, dL/d(every layer's h_{t-1}), dL/dparams."""
    P, layers, grads, skip = cache["params"], cache["layers"], {}, {}
    dstate_prev = [None] * len(layers)                   # dL/dh^(l)_{t-1}, layer by layer
    dabove = 0.0                                         # dL/dh^(l) from layer l+1's input
    for l in reversed(range(1, len(layers) + 1)):
        layer = layers[l - 1]
        dh = dstate[l - 1] + dabove                      # h^(l) is a state and feeds l+1
        dpre = phi_backward(dh, layer["h"], cache["nonlinearity"])   # h = s(z + u h_{t-1})
        dstate_prev[l - 1] = dpre * P[f"u{l}"]           # .. + u h_{t-1}
        grads[f"u{l}"] = (dpre * layer["h_prev"]).sum(axis=0)   # .. + u h_{t-1}
        grads[f"b{l}"] = dpre.sum(axis=0)                # z = .. + b
        if cache["norm"] == "layer":
            grads[f"g{l}"] = (dpre * layer["ln"][0]).sum(axis=0)   # z = g n + b
            da = layer_norm_backward(dpre, layer["ln"], P[f"g{l}"])   # z = N(a) + b
        else:
            da = dpre                                    # z = a + b
        if l in skip:
            da = da + skip.pop(l)                        # a^(l) also feeds a^(l+2)
        if has_shortcut(l, cache["residual"]):
            skip[l - 2] = da                             # a^(l) = .. + a^(l-2)
        grads[f"W{l}"] = da.T @ layer["below"]           # a = W h^(l-1)
        dabove = da @ P[f"W{l}"]                         # a = W h^(l-1): dL/dh^(l-1) (or dx)
    return dabove, tuple(dstate_prev), grads


# ------------------------------------------------------------------ orthogonal RNN
def orthogonal_W(S, parametrization, n_negative):
    """W from S: e^A or (I + A)^{-1}(I - A) D, A = S - S^T; returns W, A, D's diagonal."""
    H = S.shape[0]
    A = np.triu(S, 1) - np.triu(S, 1).T                  # A = S - S^T, S strictly upper
    d = np.where(np.arange(H) >= H - n_negative, -1.0, 1.0)   # D: the last n_negative are -1
    if parametrization == "exp":
        W = scipy.linalg.expm(A)                         # W = e^A
    else:
        W = np.linalg.solve(np.eye(H) + A, np.eye(H) - A) * d   # W = (I + A)^{-1} (I - A) D
    return W, A, d


def orthogonal_S_grad(dW, W, A, d, parametrization):
    """dL/dS from dL/dW."""
    if parametrization == "exp":
        dA = scipy.linalg.expm_frechet(A.T, dW, compute_expm=False)   # W = e^A: L_exp(A^T, dW)
    else:
        dA = -np.linalg.solve((np.eye(len(d)) + A).T,     # W = (I + A)^{-1} (I - A) D:
                              dW @ (W.T + np.diag(d)))    # -(I + A)^{-T} dW (W^T + D)
    return np.triu(dA - dA.T, 1)                         # A = S - S^T


def orthogonal_step_forward(x_t, state_prev, params, parametrization="exp",
                            nonlinearity="modrelu", n_negative=0):
    """One step: (h_{t-1},) -> (h_t,), W built from S."""
    (h_prev,) = state_prev
    P = params
    W, A, d = orthogonal_W(P["S"], parametrization, n_negative)
    z = h_prev @ W.T + x_t @ P["V"].T                    # z = W h_{t-1} + V x_t
    if nonlinearity == "modrelu":
        h = modrelu(z, P["b"])                           # h = sign(z) relu(|z| + b)
    else:
        h = phi_forward(z + P["b"], nonlinearity)        # h = phi(z + b)
    cache = {"x": x_t, "h_prev": h_prev, "z": z, "h": h, "W": W, "A": A, "d": d,
             "parametrization": parametrization, "nonlinearity": nonlinearity, "params": P}
    return (h,), cache


def orthogonal_step_backward(dstate, cache):
    """dL/dh_t -> dL/dx_t, dL/d(h_{t-1},), this step's dL/dparams (S through W)."""
    (dh,) = dstate
    x_t, h_prev, W, P = cache["x"], cache["h_prev"], cache["W"], cache["params"]
    if cache["nonlinearity"] == "modrelu":
        dz, db = modrelu_backward(dh, cache["z"], P["b"])   # h = modReLU(z)
        db = db.sum(axis=0)                              # h = modReLU(z): b, every row
    else:
        dz = phi_backward(dh, cache["h"], cache["nonlinearity"])   # h = phi(z + b)
        db = dz.sum(axis=0)                              # h = phi(z + b)
    dh_prev = dz @ W                                     # z = W h_{t-1} + ..
    dx = dz @ P["V"]                                     # z = .. + V x_t
    dW = dz.T @ h_prev                                   # z = W h_{t-1} + ..
    dS = orthogonal_S_grad(dW, W, cache["A"], cache["d"], cache["parametrization"])   # W(S)
    dV = dz.T @ x_t                                      # z = .. + V x_t
    return dx, (dh_prev,), {"V": dV, "S": dS, "b": db}


def resindrnn_initial_state(batch, params, depth=None, **options):
    """h^(l)_0 = 0 (B, H) for every layer l = 1..depth (None: W1 .. WL, L layers)."""
    depth = resindrnn_depth(params) if depth is None else depth
    return zero_state(batch, params, *[params["u1"].shape[0]] * depth)


register_steps("indrnn", indrnn_step_forward, indrnn_step_backward,
               lambda cell: {"nonlinearity": cell.nonlinearity},
               initial_state=hidden_state(lambda p: p["u"].shape[0]))
register_steps("resindrnn", resindrnn_step_forward, resindrnn_step_backward,
               lambda cell: {"depth": cell.depth, "residual": cell.residual, "norm": cell.norm,
                             "nonlinearity": cell.nonlinearity}, output=-1,
               initial_state=resindrnn_initial_state)
register_steps("orthogonal", orthogonal_step_forward, orthogonal_step_backward,
               lambda cell: {"parametrization": cell.parametrization,
                             "nonlinearity": cell.nonlinearity, "n_negative": cell.n_negative},
               initial_state=hidden_state(lambda p: p["S"].shape[0]))
