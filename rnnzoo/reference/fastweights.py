r"""Textbook fast-weights RNN (Ba, Hinton, Mnih, Leibo & Ionescu, 2016), A(t) kept whole.

In the paper's indexing, x(t) and h(t) make h(t+1); the state is (h(t), A(t)) with A(t)
already holding η h(t) h(t)ᵀ:

.. math::

    u = W h(t) + C x(t), \quad h_0 = f(u), \quad
    h_{s+1} = f(\mathrm{LN}[u + A(t) h_s]) \ (s = 0..S-1), \quad h(t+1) = h_S, \\
    A(t+1) = \lambda A(t) + \eta\, h(t+1) h(t+1)^\top

f = ReLU; LN(z) = g ⊙ (z - μ)/σ + b over the H units, σ = sqrt(mean((z - μ)²) + ε).
Shapes: x (B, D), h (B, H), A (B, H, H); W (H, H), C (H, D), g and b (H,).

The cell's option ``memory`` ("auto", its default, "history", "materialized" or
"checkpointed") changes only how A(t) h_s is computed; this twin keeps A(t) whole at every
step, the one textbook form all of them are equated with.
"""
from __future__ import annotations

import numpy as np

from .core import layer_norm_backward, layer_norm_forward, register_steps, relu, zero_state


def matvec(A, v):
    """A[b] @ v[b] for every row b: (B, H, H), (B, H) -> (B, H)."""
    return np.einsum("bij,bj->bi", A, v)


def step_forward(x_t, state_prev, params, lam=0.9, eta=0.5, S=1):
    """One step: (h(t), A(t)) -> (h(t+1), A(t+1))."""
    h_prev, A_prev = state_prev
    P = params
    u = h_prev @ P["W"].T + x_t @ P["C"].T               # u = W h(t) + C x(t)
    hs, saved = [relu(u)], []                            # h_0 = f(u)
    for s in range(S):
        z = u + matvec(A_prev, hs[s])                    # z = u + A(t) h_s
        y, ln = layer_norm_forward(z, P["g"], P["b"])    # y = LN(z)
        hs.append(relu(y))                               # h_{s+1} = f(y)
        saved.append(ln)
    h = hs[S]                                            # h(t+1) = h_S
    A = lam * A_prev + eta * h[:, :, None] * h[:, None, :]   # A(t+1) = lam A(t) + eta h h^T
    cache = {"x": x_t, "h_prev": h_prev, "A_prev": A_prev, "hs": hs, "ln": saved,
             "lam": lam, "eta": eta, "params": P}
    return (h, A), cache


def step_backward(dstate, cache):
    """dL/d(h(t+1), A(t+1)) -> dL/dx(t), dL/d(h(t), A(t)), this step's dL/dparams."""
    dh, dA = dstate
    x_t, h_prev, A_prev, hs, P = (cache[k] for k in ("x", "h_prev", "A_prev", "hs", "params"))
    lam, eta, S = cache["lam"], cache["eta"], len(cache["ln"])
    dh_outer = eta * (matvec(dA, hs[S]) + matvec(dA.transpose(0, 2, 1), hs[S]))   # eta h h^T
    dh_s = dh + dh_outer                                 # A(t+1) = .. + eta h h^T, h = h_S
    dA_prev = lam * dA                                   # A(t+1) = lam A(t) + ..
    du = np.zeros_like(dh)
    dg, db = np.zeros_like(P["g"]), np.zeros_like(P["b"])
    for s in reversed(range(S)):
        dy = dh_s * (hs[s + 1] > 0)                      # h_{s+1} = f(y)
        n, _ = cache["ln"][s]
        dg = dg + (dy * n).sum(axis=0)                   # y = g n + b
        db = db + dy.sum(axis=0)                         # y = g n + b
        dz = layer_norm_backward(dy, cache["ln"][s], P["g"])   # y = LN(z)
        du = du + dz                                     # z = u + ..
        dA_prev = dA_prev + dz[:, :, None] * hs[s][:, None, :]   # z = .. + A(t) h_s: A side
        dh_s = matvec(A_prev.transpose(0, 2, 1), dz)     # z = .. + A(t) h_s: h_s side
    du = du + dh_s * (hs[0] > 0)                         # h_0 = f(u)
    dh_prev = du @ P["W"]                                # u = W h(t) + ..
    dx = du @ P["C"]                                     # u = .. + C x(t)
    grads = {"W": du.T @ h_prev, "C": du.T @ x_t,       # u = W h(t) + C x(t)
             "g": dg, "b": db}                           # (the layer norm's, summed above)
    return dx, (dh_prev, dA_prev), grads


def initial_state(batch, params, **options):
    """h(0) = 0 (B, H) and the fast weights A(0) = 0 (B, H, H) (h_0 is the inner loop's)."""
    H = params["W"].shape[0]
    return zero_state(batch, params, H, (H, H))


register_steps("fastweights", step_forward, step_backward,
               lambda cell: {"lam": cell.lam, "eta": cell.eta, "S": int(cell.S)},
               initial_state=initial_state)
