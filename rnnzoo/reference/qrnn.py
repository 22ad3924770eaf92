r"""Textbook QRNN (Bradbury, Merity, Xiong & Socher, 2017): a causal convolution over
time, then a recurrence that is only elementwise ("pooling").

.. math::

    \hat x_t = [x_{t-k+1}; \dots; x_{t-1}; x_t], \qquad
    [z_t; f_t; o_t; i_t] = W \hat x_t + b \quad\text{(then tanh, σ, σ, σ)} \\
    \text{f, fo:}\ c_t = f_t \odot c_{t-1} + (1 - f_t) \odot z_t, \qquad
    \text{ifo:}\ c_t = f_t \odot c_{t-1} + i_t \odot z_t \\
    \text{f:}\ h_t = c_t, \qquad \text{fo, ifo:}\ h_t = o_t \odot c_t

Not step-wise in the sense of :mod:`.core` (h_t is not the state's first entry), so
it is written as two explicit stages over the whole sequence. The state is (c, x_past):
x_past (B, (k-1) D) the last k - 1 inputs, oldest first (just (c,) when k = 1).
Zoneout on f: f = 1 - m ⊙ (1 - σ(·)) with m a fixed {0, 1} mask (T, B, H) in training,
or the scalar 1 - p at evaluation (``zoneout_scale``; None for no zoneout).
Shapes: x (T, B, D); W (G H, k D), b (G H,), G = 2, 3, 4 gates for f, fo, ifo. The
parameters do not say k or the pooling (G H rows fit several G, k D columns several k),
so the twin needs both: ``**rnnzoo.reference.get("qrnn").options_of(cell)``.
"""
from __future__ import annotations

import numpy as np

from .core import register_sequence, sigmoid, zero_state

GATES = {"f": ("z", "f"), "fo": ("z", "f", "o"), "ifo": ("z", "f", "o", "i")}


def forward(x, state0, params, window, pooling, zoneout_scale=None):
    """The convolution (every gate at every step), then the pooling loop: (hs, state_T, cache)."""
    T, B, D = x.shape
    k, H, W, b = window, state0[0].shape[1], params["W"], params["b"]
    past = [state0[1][:, j * D:(j + 1) * D] for j in range(k - 1)]   # x_{-k+1} .. x_{-1}
    xs = past + list(x)                                  # xs[t + k - 1] is x_t
    # stage 1, the convolution: every gate at every step, no recurrence
    # zoneout's scale m: none, one for every step, or one array per step
    scales = (zoneout_scale if zoneout_scale is not None and not np.isscalar(zoneout_scale)
              else [zoneout_scale] * T)
    windows, gates = [], []
    for t in range(T):
        x_hat = np.concatenate(xs[t:t + k], axis=1)      # x^_t = [x_{t-k+1}; ..; x_t]
        pre = x_hat @ W.T + b                            # a = W x^_t + b
        a = {name: pre[:, n * H:(n + 1) * H] for n, name in enumerate(GATES[pooling])}
        g = {"z": np.tanh(a["z"]), "scale": scales[t]}   # z = tanh(a_z)
        g["f_raw"] = sigmoid(a["f"])                     # sigma(a_f)
        g["f"] = (g["f_raw"] if scales[t] is None        # f = sigma(a_f), or with zoneout
                  else 1.0 - scales[t] * (1.0 - g["f_raw"]))   # f = 1 - m (1 - sigma(a_f))
        for name in ("o", "i"):
            if name in a:
                g[name] = sigmoid(a[name])               # o, i = sigma(a_o), sigma(a_i)
        windows.append(x_hat)
        gates.append(g)
    # stage 2, the pooling: the only sequential part, elementwise
    cs, hs = [state0[0]], []
    for t, g in enumerate(gates):
        add = g["i"] * g["z"] if pooling == "ifo" else (1.0 - g["f"]) * g["z"]   # i z or (1 - f) z
        cs.append(g["f"] * cs[t] + add)                  # c_t = f c_{t-1} + ..
        hs.append(cs[t + 1] if pooling == "f" else g["o"] * cs[t + 1])   # h_t = c_t or o c_t
    state_T = (cs[T],) + ((np.concatenate(xs[T:], axis=1),) if k > 1 else ())   # last k-1 x
    cache = {"windows": windows, "gates": gates, "cs": cs, "k": k, "D": D,
             "pooling": pooling, "params": params}
    return np.stack(hs), state_T, cache


def backward(dhs, cache, dstate_T):
    """BPTT through the pooling, then the convolution's backward: (dx, dstate0, grads)."""
    gates, cs, k, D, pooling, P = (cache[key] for key in
                                   ("gates", "cs", "k", "D", "pooling", "params"))
    T = len(gates)
    # stage 2 backward: the pooling, from the last step to the first
    dc_next, dpre = dstate_T[0], [None] * T              # dc_next: dL/dc_t carried from t+1
    for t in reversed(range(T)):
        g = gates[t]
        if pooling == "f":
            dc = dhs[t] + dc_next                        # h_t = c_t
        else:
            dc = dhs[t] * g["o"] + dc_next               # h_t = o c_t, c side
            do = dhs[t] * cs[t + 1]                      # h_t = o c_t, o side
        df = dc * cs[t]                                  # c_t = f c_{t-1} + ..
        dc_next = dc * g["f"]                            # c_t = f c_{t-1} + ..
        if pooling == "ifo":
            di = dc * g["z"]                             # .. + i z
            dz = dc * g["i"]                             # .. + i z
        else:
            df = df - dc * g["z"]                        # .. + (1 - f) z, f side
            dz = dc * (1.0 - g["f"])                     # .. + (1 - f) z, z side
        if g["scale"] is not None:
            df = df * g["scale"]                         # f = 1 - m (1 - sigma(a_f))
        blocks = {"z": dz * (1.0 - g["z"] ** 2),         # z = tanh(a_z)
                  "f": df * g["f_raw"] * (1.0 - g["f_raw"])}   # sigma(a_f)
        if pooling != "f":
            blocks["o"] = do * g["o"] * (1.0 - g["o"])   # o = sigma(a_o)
        if pooling == "ifo":
            blocks["i"] = di * g["i"] * (1.0 - g["i"])   # i = sigma(a_i)
        dpre[t] = np.concatenate([blocks[name] for name in GATES[pooling]], axis=1)   # a's blocks
    # stage 1 backward: the convolution
    row = cache["windows"][0][:, :D]                     # (B, D), the shape of each x
    dxs = [np.zeros_like(row) for _ in range(T + k - 1)]   # dL/dx_{-k+1} .. dL/dx_{T-1}
    for j in range(k - 1):                               # state_T's x_past = the last k-1 x
        dxs[T + j] = dxs[T + j] + dstate_T[1][:, j * D:(j + 1) * D]   # state_T's x_past
    grads = {"W": np.zeros_like(P["W"]), "b": np.zeros_like(P["b"])}
    for t in range(T):
        grads["W"] = grads["W"] + dpre[t].T @ cache["windows"][t]   # W x^_t
        grads["b"] = grads["b"] + dpre[t].sum(axis=0)    # + b
        dx_hat = dpre[t] @ P["W"]                        # W x^_t
        for j in range(k):                               # x^_t = [x_{t-k+1}; ..; x_t]
            dxs[t + j] = dxs[t + j] + dx_hat[:, j * D:(j + 1) * D]   # x^_t's block j
    dx = np.stack(dxs[k - 1:])                           # xs[t + k - 1] is x_t
    dstate0 = (dc_next,) + ((np.concatenate(dxs[:k - 1], axis=1),) if k > 1 else ())   # x_past
    return dx, dstate0, grads


def options_of(cell):
    """window, pooling and the zoneout scale the cell's forward uses."""
    if cell.zoneout == 0.0:
        scale = None
    elif not cell.training:
        scale = 1.0 - cell.zoneout
    elif cell.zoneout_mask is None:
        raise ValueError("qrnn reference: zoneout in training draws a random mask; set "
                         "cell.zoneout_mask to a fixed mask to compare")
    else:
        scale = np.asarray(cell.zoneout_mask, dtype=float)
    return {"window": cell.window, "pooling": cell.pooling, "zoneout_scale": scale}


def initial_state(batch, params, window, pooling, **options):
    """c_0 = 0 (B, H), and the k - 1 inputs before x_0, zeros (B, (k - 1) D), if k > 1."""
    H, D = params["W"].shape[0] // len(GATES[pooling]), params["W"].shape[1] // window
    return zero_state(batch, params, H, *[(window - 1) * D] * (window > 1))


register_sequence("qrnn", forward, backward, options_of, initial_state=initial_state)
