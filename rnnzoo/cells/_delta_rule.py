r"""The delta rule on a matrix memory, shared by ``deltanet`` and ``gated_deltanet``.

Both cells read q_t, k_t, v_t and β_t (and the gated one α_t) from x_t alone, and write
a (d_v x d_k) memory per head:

.. math::

    S_t = \alpha_t S_{t-1} (I - \beta_t \hat k_t \hat k_t^\top)
          + \beta_t v_t \hat k_t^\top
        = \alpha_t S_{t-1} + \beta_t (v_t - \alpha_t S_{t-1} \hat k_t) \hat k_t^\top,
    \qquad o_t = S_t \hat q_t

(α_t = 1: DeltaNet). The second form is how it runs: one batched mat-vec u_t =
α_t S_{t-1} k̂_t (what the memory already returns for k̂_t), the error e_t = v_t − u_t,
and one rank-1 write; O(B·H·d) numbers a step with d = d_k = d_v = H / heads. Every
input projection of every step is one GEMM before the loop, every o_t one batched
product after it, every weight gradient and dL/dx one GEMM after the backward loop.

The memory S_0 .. S_T is kept in the cache, (T + 1)·B·H·d numbers (4 bytes each in
float32: 1.07 GB at T = 1024, B = 16, H = d = 128, a quarter of it with 4 heads), the
price of a backward that needs S_{t−1} at every step. (S_{t−1} cannot be recovered from
S_t: I − βk̂k̂ᵀ is singular at β = 1 for a unit k̂, and ill-conditioned for the
nearly unit k̂ of the ε-normalization.) The first write into that fresh buffer, page by
page, is a large part of the forward's cost (profiled at T = 256, B = 16, H = d = 128: a
rank-1 write into it took about 4x as long per step as into a reused scratch array);
taking o_t inside the loop and the outer products by einsum changed the forward +
backward time by under 5 % (measured, not kept).

Backward of one step, the carried G = dL/dS_t (o_t's own part, do_t q̂_tᵀ, added first):

    dw = G k̂_t,  dk̂_t = Gᵀ w_t                          (S_t = P + w_t k̂_tᵀ, w = β e)
    dβ_t = ⟨dw, e_t⟩,  de = β_t dw,  dv_t = de           (w = β e, e = v − u)
    dk̂_t −= Pᵀ de,  dP = G − de k̂_tᵀ                    (u = P k̂, P = α S_{t−1})
    dα_t = ⟨dP, S_{t−1}⟩,  dL/dS_{t−1} = α_t dP

and dq̂_t = S_tᵀ do_t for all t in one batched product. Through the L2 normalization
k̂ = k / r, r = sqrt(‖k‖² + ε): dk = (dk̂ − k̂ ⟨k̂, dk̂⟩) / r (the same for q).
"""
from __future__ import annotations

import numpy as np

from ..core.backend import to_numpy
from ..core.base import Cache, RecurrentCell
from ..core.ops import array_module, sigmoid
from ..core.validation import check_float, describe
from . import _options

L2_EPS = 1e-6       # fla's l2norm: x / sqrt(sum(x^2) + 1e-6)


def l2_normalize(a, eps=L2_EPS):
    """(â, r): â = a / r over the last axis, r = sqrt(‖a‖² + eps) with shape (..., 1)."""
    xp = array_module(a)
    r = xp.sqrt((a * a).sum(axis=-1, keepdims=True) + eps)
    return a / r, r


def l2_normalize_backward(dhat, hat, r):
    """dL/da of â = a / r: (dâ − â ⟨â, dâ⟩) / r (r = sqrt(‖a‖² + eps) depends on a)."""
    out = dhat - hat * (hat * dhat).sum(axis=-1, keepdims=True)
    out /= r
    return out


def softplus(a):
    """log(1 + exp(a)) without overflow."""
    return array_module(a).logaddexp(0.0, a)


class DeltaRuleCell(RecurrentCell):
    """The delta-rule recurrence; ``gated`` (a class attribute) adds α_t. Subclasses
    register a name and carry the docstring; see :mod:`.deltanet` and
    :mod:`.gated_deltanet`."""

    state_names = ("S",)
    options = {"heads": 1, "beta_range": 1.0}
    gated = False

    def check_options(self):
        self.heads = _options.heads(self.heads, self.hidden_size)   # each memory d x d
        self.beta_range = _options.real("beta_range", self.beta_range, lo=0.0, hi=2.0,
                                        lo_open=True)

    # ------------------------------------------------------------------ sizes, init
    @property
    def d(self):
        """Each head's key and value size, hidden_size / heads."""
        return self.hidden_size // self.heads

    @property
    def projected(self):
        """The weights of the one input GEMM, in the order their rows are stacked."""
        return ("W_q", "W_k", "W_v", "w_beta") + (("W_a",) if self.gated else ())

    def initial_state(self, batch):
        batch = self._checked_batch(batch)
        return (self.xp.zeros((batch, self.heads, self.d, self.d), dtype=self.dtype),)

    def init_params(self, rng):
        """torch.nn.Linear's default U(±1/sqrt(D)) for every projection (fla's layers
        build them as nn.Linear(..., bias=False)); the gate's A_log and dt_bias in
        :meth:`.gated_deltanet.GatedDeltaNet.init_params`."""
        D, H, n = self.input_size, self.hidden_size, self.heads
        bound = 1.0 / np.sqrt(D)
        rows = {"W_q": H, "W_k": H, "W_v": H, "w_beta": n, "W_a": n}
        return {k: rng.uniform(-bound, bound, (rows[k], D)) for k in self.projected}

    def recurrent_eigenvalues(self, k_hat, beta):
        """The eigenvalues of I − β k̂ k̂ᵀ for one key (d,) and β, ascending, NumPy:
        1 − β ‖k̂‖² once (direction k̂) and 1 (d − 1 times, k̂'s orthogonal complement)."""
        where = self._where("recurrent_eigenvalues")
        if not (hasattr(k_hat, "shape") and tuple(k_hat.shape) == (self.d,)):
            raise ValueError(f"{where}: k_hat must be one key, an array of shape (d,) = "
                             f"({self.d},); got {describe(k_hat)}")
        if getattr(beta, "ndim", None) == 0:            # a NumPy 0-d array is a number
            beta = beta.item()
        beta = check_float(beta, "beta", where=where)
        k_hat = to_numpy(k_hat).astype(np.float64)
        return np.linalg.eigvalsh(np.eye(k_hat.size) - beta * np.outer(k_hat, k_hat))

    # ------------------------------------------------------------------ forward
    def _gates(self, Z, cache):
        """β_t (and α_t) from their pre-activations (T, B, heads), into the cache."""
        n, H = self.heads, self.hidden_size
        cache.sig = sigmoid(Z[..., 3 * H:3 * H + n])             # σ(w_β x_t)
        cache.beta = self.beta_range * cache.sig                 # β_t = r σ(w_β x_t)

    def _forward(self, x, state0):
        xp, n, d, H = self.xp, self.heads, self.d, self.hidden_size
        T, B, _ = x.shape
        P = self.params
        W = xp.concatenate([P[k] for k in self.projected])
        Z = self.project(x, W)                                   # every projection, one GEMM
        cache = Cache(x=x, state0=state0, T=T, B=B, W=W)
        cache.q, cache.rq = l2_normalize(Z[..., :H].reshape(T, B, n, d))        # q̂_t
        cache.k, cache.rk = l2_normalize(Z[..., H:2 * H].reshape(T, B, n, d))   # k̂_t
        v = cache.v = xp.ascontiguousarray(Z[..., 2 * H:3 * H]).reshape(T, B, n, d)
        self._gates(Z, cache)
        k, beta, alpha = cache.k, cache.beta, getattr(cache, "alpha", None)
        S = cache.S = xp.empty((T + 1, B, n, d, d), dtype=self.dtype)   # S_0 .. S_T
        S[0] = state0[0]
        e = cache.e = xp.empty((T, B, n, d), dtype=self.dtype)
        outer = xp.empty((B, n, d, d), dtype=self.dtype)
        for t in range(T):
            S_t = S[t + 1]
            if alpha is None:
                S_t[...] = S[t]                                  # P = S_{t-1}
            else:
                xp.multiply(S[t], alpha[t][..., None, None], out=S_t)   # P = α_t S_{t-1}
            u = (S_t @ k[t][..., None])[..., 0]                  # u = P k̂_t
            xp.subtract(v[t], u, out=e[t])                       # e = v_t - u
            w = e[t] * beta[t][..., None]                        # w = β_t e
            xp.multiply(w[..., :, None], k[t][..., None, :], out=outer)
            S_t += outer                                         # S_t = P + w k̂_tᵀ
        o = (S[1:] @ cache.q[..., None])[..., 0]                 # o_t = S_t q̂_t, all t
        return o.reshape(T, B, H), (S[T].copy(),), cache

    # ------------------------------------------------------------------ backward
    def _gate_grads(self, cache, dbeta, dalpha):
        """The gates' pre-activation gradients (T, B, heads) each, in ``projected`` order
        after the first three, and the gate's own parameter gradients."""
        dpre = dbeta * cache.beta
        dpre *= 1.0 - cache.sig                                  # β = r σ(b): dβ/db = β (1 - σ)
        return [dpre], {}

    def _backward(self, dhs, cache, dstate):
        xp, n, d, H = self.xp, self.heads, self.d, self.hidden_size
        T, B = cache.T, cache.B
        S, k, e, beta = cache.S, cache.k, cache.e, cache.beta
        alpha = getattr(cache, "alpha", None)
        do = dhs.reshape(T, B, n, d)
        dq = (S[1:].swapaxes(-1, -2) @ do[..., None])[..., 0]    # o_t = S_t q̂_t: q side
        dk = xp.empty_like(k)
        dv = xp.empty_like(cache.v)
        dbeta = xp.empty_like(beta)
        dalpha = None if alpha is None else xp.empty_like(alpha)
        G = dstate[0].copy()                                     # dL/dS_t, carried
        outer = xp.empty_like(G)
        dh_norm = xp.empty(T)
        for t in reversed(range(T)):
            xp.multiply(do[t][..., :, None], cache.q[t][..., None, :], out=outer)
            G += outer                                           # o_t = S_t q̂_t: S side
            dh_norm[t] = xp.linalg.norm(G)
            w = e[t] * beta[t][..., None]                        # w = β_t e
            dw = (G @ k[t][..., None])[..., 0]                   # S_t = P + w k̂ᵀ: w side
            dk_t = (G.swapaxes(-1, -2) @ w[..., None])[..., 0]   # S_t = P + w k̂ᵀ: k̂ side
            dbeta[t] = (dw * e[t]).sum(axis=-1)                  # w = β e: β side
            de = dw * beta[t][..., None]                         # w = β e: e side
            dv[t] = de                                           # e = v - u
            Pde = (S[t].swapaxes(-1, -2) @ de[..., None])[..., 0]
            if alpha is not None:
                Pde *= alpha[t][..., None]                       # Pᵀ de, P = α S_{t-1}
            xp.subtract(dk_t, Pde, out=dk[t])                    # u = P k̂: k̂ side (du = -de)
            xp.multiply(de[..., :, None], k[t][..., None, :], out=outer)
            G -= outer                                           # u = P k̂: P side; S_t = P + ..
            if alpha is not None:
                dalpha[t] = (G * S[t]).sum(axis=(-2, -1))        # P = α S_{t-1}: α side
                G *= alpha[t][..., None, None]                   # P = α S_{t-1}: S side
        dq_raw = l2_normalize_backward(dq, cache.q, cache.rq)    # q̂ = q / r
        dk_raw = l2_normalize_backward(dk, k, cache.rk)          # k̂ = k / r
        gate_pre, grads = self._gate_grads(cache, dbeta, dalpha)
        dZ = xp.concatenate([dq_raw.reshape(T, B, H), dk_raw.reshape(T, B, H),
                             dv.reshape(T, B, H)] + gate_pre, axis=-1)
        dW = self.weight_grad(dZ, cache.x)                       # Z = x Wᵀ: one GEMM
        dx = self.input_grad(dZ, cache.W)                        # Z = x Wᵀ: one GEMM
        start = 0
        for name in self.projected:
            rows = self.params[name].shape[0]
            grads[name] = dW[start:start + rows]
            start += rows
        grads = {name: grads[name] for name in self.params}
        return dx, (G,), grads, dh_norm
