r"""Textbook DeltaNet and Gated DeltaNet, one step at a time, every head in a loop-free
einsum.

.. math::

    q = W_q x_t, \ k = W_k x_t, \ v = W_v x_t \ \text{(split into heads of size d)}, \quad
    \hat q = q / \sqrt{\|q\|^2 + \epsilon}, \ \hat k = k / \sqrt{\|k\|^2 + \epsilon} \\
    \beta = r\,\sigma(w_\beta x_t), \quad
    \alpha = \exp(-e^{A_{\log}} \mathrm{softplus}(W_a x_t + b_{dt}))
    \ \text{(gated; } \alpha = 1 \text{ without the gate)} \\
    S_t = \alpha S_{t-1} (I - \beta \hat k \hat k^\top) + \beta v \hat k^\top, \qquad
    o_t = S_t \hat q

S_t is (B, heads, d_v, d_k); o_t, the heads side by side, is the output (read out of
the state, so the readout loop of :mod:`.core` runs it). The product with I − βk̂k̂ᵀ is
written as it stands (the optimized cell expands it): this twin is the equation, the
cell its fast form. The gate is on when the parameters hold ``A_log``; b_dt is the
parameter ``dt_bias``.
"""
from __future__ import annotations

import numpy as np

from .core import register_readout_steps, sigmoid

EPS = 1e-6          # inside the L2 norm's square root


def split_heads(a, heads):
    """(B, heads * d) -> (B, heads, d)."""
    return a.reshape(a.shape[0], heads, -1)


def step_forward(x_t, state_prev, params, beta_range=1.0):
    """One step: (x_t, (S_{t-1},)) -> ((S_t,), o_t, cache)."""
    P, (S_prev,) = params, state_prev
    heads = P["w_beta"].shape[0]
    q = split_heads(x_t @ P["W_q"].T, heads)                 # q = W_q x_t
    k = split_heads(x_t @ P["W_k"].T, heads)                 # k = W_k x_t
    v = split_heads(x_t @ P["W_v"].T, heads)                 # v = W_v x_t
    r_q = np.sqrt((q ** 2).sum(axis=-1, keepdims=True) + EPS)   # r_q = sqrt(‖q‖² + ε)
    q_hat = q / r_q                                          # q^ = q / r_q
    r_k = np.sqrt((k ** 2).sum(axis=-1, keepdims=True) + EPS)   # r_k = sqrt(‖k‖² + ε)
    k_hat = k / r_k                                          # k^ = k / r_k
    sig = sigmoid(x_t @ P["w_beta"].T)                       # σ(w_β x_t)
    beta = beta_range * sig                                  # β = r σ(w_β x_t)
    if "A_log" in P:
        a = x_t @ P["W_a"].T + P["dt_bias"]                  # a = W_a x_t + b_dt
        sp = np.logaddexp(0.0, a)                            # softplus(a)
        alpha = np.exp(-np.exp(P["A_log"]) * sp)             # α = exp(-e^A_log softplus(a))
    else:
        a = sp = None
        alpha = np.ones_like(beta)                           # DeltaNet: α = 1
    d = k.shape[-1]
    kkT = np.einsum("bhi,bhj->bhij", k_hat, k_hat)           # k^ k^ᵀ
    M = np.eye(d) - beta[..., None, None] * kkT              # M = I - β k^ k^ᵀ
    write = beta[..., None, None] * np.einsum("bhi,bhj->bhij", v, k_hat)   # β v k^ᵀ
    S = alpha[..., None, None] * (S_prev @ M) + write        # S_t = α S_{t-1} M + β v k^ᵀ
    o = np.einsum("bhij,bhj->bhi", S, q_hat)                 # o_t = S_t q^
    cache = {"x": x_t, "S_prev": S_prev, "S": S, "q_hat": q_hat, "r_q": r_q, "k_hat": k_hat,
             "r_k": r_k, "v": v, "M": M, "sig": sig, "beta": beta, "alpha": alpha,
             "a": a, "sp": sp, "params": P}
    return (S,), o.reshape(o.shape[0], -1), cache


def l2_backward(dhat, hat, r):
    """dL/dz of hat = z / r, r = sqrt(|z|^2 + eps)."""
    return (dhat - hat * (hat * dhat).sum(axis=-1, keepdims=True)) / r


def step_backward(do, dstate, cache):
    """dL/do_t and dL/dS_t from step t+1 -> dL/dx_t, dL/dS_{t-1}, this step's dL/dparams."""
    c, P = cache, cache["params"]
    x_t, S_prev, S, M = c["x"], c["S_prev"], c["S"], c["M"]
    q_hat, k_hat, v, beta, alpha = c["q_hat"], c["k_hat"], c["v"], c["beta"], c["alpha"]
    do = split_heads(do, q_hat.shape[1])                     # out_t = o_t's heads side by side
    dS = dstate[0] + np.einsum("bhi,bhj->bhij", do, q_hat)   # o_t = S_t q^: S side; + carried
    dq_hat = np.einsum("bhij,bhi->bhj", S, do)               # o_t = S_t q^: q^ side
    dwrite = dS                                              # S_t = .. + β v k^ᵀ
    dv = beta[..., None] * np.einsum("bhij,bhj->bhi", dwrite, k_hat)   # β v k^ᵀ: v side
    dk_hat = beta[..., None] * np.einsum("bhij,bhi->bhj", dwrite, v)   # β v k^ᵀ: k^ side
    dbeta = np.einsum("bhij,bhi,bhj->bh", dwrite, v, k_hat)  # β v k^ᵀ: β side
    dSM = alpha[..., None, None] * dS                        # S_t = α (S_{t-1} M) + ..
    dalpha = np.einsum("bhij,bhij->bh", dS, S_prev @ M)      # S_t = α (S_{t-1} M): α side
    dS_prev = dSM @ M.transpose(0, 1, 3, 2)                  # S_{t-1} M: S_{t-1} side
    dM = S_prev.transpose(0, 1, 3, 2) @ dSM                  # S_{t-1} M: M side
    dkkT = -beta[..., None, None] * dM                       # M = I - β k^ k^ᵀ: k^ k^ᵀ side
    dbeta = dbeta - np.einsum("bhij,bhi,bhj->bh", dM, k_hat, k_hat)   # M: β side
    dkkT_sym = dkkT + dkkT.transpose(0, 1, 3, 2)             # k^ k^ᵀ: both factors are k^
    dk_hat = dk_hat + np.einsum("bhij,bhj->bhi", dkkT_sym, k_hat)   # kkT = k^ k^ᵀ: k^ side
    dq = l2_backward(dq_hat, q_hat, c["r_q"])                # q^ = q / r_q
    dk = l2_backward(dk_hat, k_hat, c["r_k"])                # k^ = k / r_k
    dpre_beta = dbeta * beta * (1.0 - c["sig"])              # β = r σ(w_β x_t)
    B = x_t.shape[0]
    dq, dk, dv = (g.reshape(B, -1) for g in (dq, dk, dv))    # q, k, v = split_heads(W x_t)
    grads = {"W_q": dq.T @ x_t, "W_k": dk.T @ x_t, "W_v": dv.T @ x_t,   # q, k, v = W x_t
             "w_beta": dpre_beta.T @ x_t}                    # w_β x_t
    dx = dq @ P["W_q"] + dk @ P["W_k"] + dv @ P["W_v"] + dpre_beta @ P["w_beta"]   # W x_t
    if "A_log" in P:
        A = np.exp(P["A_log"])                               # log α = -e^{A_log} softplus(a)
        dlog_alpha = dalpha * alpha                          # α = exp(log α)
        da = dlog_alpha * -A * sigmoid(c["a"])               # log α = -A softplus(a)
        grads["A_log"] = (dlog_alpha * -A * c["sp"]).sum(axis=0)   # A = exp(A_log)
        grads["dt_bias"] = da.sum(axis=0)                    # a = W_a x_t + b_dt
        grads["W_a"] = da.T @ x_t                            # a = W_a x_t + ..
        dx = dx + da @ P["W_a"]                          # a = W_a x_t + ..
    return dx, (dS_prev,), grads


def options_of(cell):
    return {"beta_range": cell.beta_range}


def initial_state(batch, params, **options):
    """S_0 = 0, (B, heads, d, d)."""
    heads = params["w_beta"].shape[0]
    d = params["W_q"].shape[0] // heads
    return (np.zeros((batch, heads, d, d), dtype=params["W_q"].dtype),)


for _name in ("deltanet", "gated_deltanet"):
    register_readout_steps(_name, step_forward, step_backward, options_of,
                           initial_state=initial_state)
