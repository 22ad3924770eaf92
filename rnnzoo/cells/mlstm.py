"""mLSTM: xLSTM's matrix memory with exponential gates, recurrent or parallel."""
from __future__ import annotations

import numpy as np

from ..core.base import Cache, RecurrentCell
from ..core.registry import register
from . import _options
from .slstm import log_sigmoid

FORMS = ("recurrent", "parallel")
CHUNK = 32      # the recurrent form keeps C at every CHUNK-th step and rebuilds the rest


@register("mlstm")
class MLSTM(RecurrentCell):
    r"""mLSTM (Beck et al., "xLSTM: Extended Long Short-Term Memory", NeurIPS 2024,
    arXiv:2405.04517, §2.3; ``NX-AI/xlstm`` ``blocks/mlstm/backends.py``). Per head
    (K heads of d = H / K units), with ℓ_t = log σ(f̃_t):

    .. math::

        \begin{aligned}
        q_t, k_t, v_t &= W_q x_t + b_q,\ W_k x_t + b_k,\ W_v x_t + b_v
            \quad (\text{each } (K, d)) \\
        \tilde\imath_t, \tilde f_t &= w_i x_t + b_i,\ w_f x_t + b_f
            \quad (\text{one scalar per head}), \qquad
            o_t = \sigma(W_o x_t + b_o) \\
        m_t &= \max(\tilde\imath_t,\ \ell_t + m_{t-1}), \quad
            i_t = e^{\tilde\imath_t - m_t}, \quad f_t = e^{\ell_t + m_{t-1} - m_t} \\
        C_t &= f_t C_{t-1} + i_t\, v_t k_t^\top / \sqrt d, \qquad
        n_t = f_t n_{t-1} + i_t\, k_t / \sqrt d \\
        \tilde h_t &= C_t q_t / \max(\lvert n_t^\top q_t \rvert,\ e^{-m_t}), \qquad
        h_t = o_t \odot \tilde h_t
        \end{aligned}

    State (C, n, m): C (B, K, d, d), n (B, K, d), m (B, K). The output h_t is not part
    of it (no h_{t-1} enters step t), so ``grads.dh_norm[t]`` is ‖dhs[t]‖; the gradient
    carried between steps is dL/dC_t. Shapes: x (T, B, D); W (4H + 2K, D), rows [W_q;
    W_k; W_v; W_o; w_i; w_f]; b (4H + 2K,) in the same order.

    **The stabilizer** is sLSTM's (:class:`~rnnzoo.cells.slstm.SLSTM`: m_t, the running
    log-scale, cancels), here also in the normalizer: the paper's unstabilized
    max(|N_tᵀ q_t|, 1), with N_t = n_t e^{m_t}, becomes max(|n_tᵀ q_t|, e^{-m_t}) in the
    stabilized units, so h̃ is the same function whatever m_t is. The max(·, 1) keeps the
    read-out from dividing by a near-zero |nᵀq| (a query orthogonal to everything stored).
    The backward sends dL/dm_t to ĩ where ĩ_t >= ℓ_t + m_{t-1} (ties included), and the
    denominator's gradient to |nᵀq| where |nᵀq| >= e^{-m} (ties included), with sign 0 at
    nᵀq = 0; the finite-difference tests use random points, away from both.

    **Two forms (option ``form``).** "recurrent" (the default) runs the recurrence above,
    O(T B H d) time. It does not keep every C_t, (T + 1) B H d numbers (1.07 GB in float32
    at T = 1024, B = 16, H = 128, K = 1, and most of a forward's time went into the
    kernel's first touch of those pages): it keeps C at the start of every chunk of
    CHUNK = 32 steps, builds each chunk's C_t in one reused buffer, and the backward
    rebuilds them from the checkpoint (one more pass of the memory update), so the cache
    holds ceil(T/32) B H d numbers of C plus every n_t, (T + 1) B H. "parallel" (the authors'
    ``parallel_stabilized_simple``, attention-like) unrolls it: with F_t = Σ_{τ<=t} ℓ_τ, ::

        h̃_t = [Σ_{s<=t} D_ts (q_t·k_s/√d) v_s + D_t0 C_0 q_t] / max(|Σ_s D_ts q_t·k_s/√d
              + D_t0 n_0·q_t|, e^{-m_t}),   D_ts = e^{F_t - F_s + ĩ_s - m_t},
              D_t0 = e^{F_t + m_0 - m_t},   m_t = max(F_t + m_0, max_{s<=t} F_t - F_s + ĩ_s)

    (the row-wise max is the recurrent m_t unrolled, so both forms compute the same
    numbers). It builds (T, T) matrices per sequence and head: **O(T² B K) memory and
    O(T² B H) time, quadratic in T**, which is why it is not the default; it equals the
    recurrent form to 1e-10 in float64, forward and every gradient
    (tests/test_xlstm.py). Its backward treats m_t as a constant: h̃ does not depend on
    it (above), so the terms through m_t sum to zero.

    **Where this differs from the authors' code.** The authors add eps = 1e-6 to the
    denominator (``h_denom = max(|qn|, exp(-m)) + eps``); the paper and this cell do not.
    Their gates ĩ, f̃ are computed from the concatenation [q; k; v], here from x_t as the
    paper writes them (q, k, v are linear in x here, so theirs is the special case
    w_i = w'_i [W_q; W_k; W_v]). Their layer replaces the paper's output gate σ(W_o x_t)
    by a head-wise layer norm, a learnable skip and silu(z) of a second projection; this
    cell is the paper's cell, not their block. C is stored as v kᵀ (paper), theirs as
    its transpose k vᵀ (``q^T C``). The paper writes k_t = W_k x_t / √d + b_k; here, as in
    the authors' code (whose projections have no bias), the whole W_k x_t + b_k is divided
    by √d, which only rescales what b_k means.

    Initialization (the authors' ``mLSTMCell.reset_parameters`` and layer): W_q, W_k,
    W_v ~ N(0, 2/(5 D)) (``small_init``), b_q = b_k = b_v = 0; w_i = w_f = 0;
    b_i ~ N(0, 0.1²); b_f = linspace(3, 6, K) (forget gates σ(3..6) ≈ 0.95..0.998). Their
    layer has no σ(W_o x_t) gate; here W_o is drawn as W_q and b_o = 0.

    Options
    -------
    heads : int, default 1
        K; must divide H. d = H / K. The authors' layer default is 4.
    form : "recurrent" (default) or "parallel"
        Same function, same gradients; see above.

    Notes
    -----
    All projections of x are one GEMM before the time loop (one after it for dL/dW and
    dL/dx); the gates' elementwise functions run over all T at once. The gates (m, i, f)
    never read C or n, so a first loop over (B, K) scalars computes them; C and n are then
    a diagonal linear recurrence with one coefficient f_t per head.
    :func:`rnnzoo.core.scan.linear_scan` would need that coefficient broadcast to a
    (T, B, K d²) array, as big as every C_t, and its form on NumPy is this loop anyway,
    so the cell loops.
    """

    state_names = ("C", "n", "m")
    options = {"heads": 1, "form": "recurrent"}

    def check_options(self):
        self.heads = _options.heads(self.heads, self.hidden_size)
        self.form = _options.choice("form", self.form, FORMS)

    def init_params(self, rng):
        D, H, K = self.input_size, self.hidden_size, self.heads
        W = np.zeros((4 * H + 2 * K, D))
        W[:4 * H] = rng.normal(0.0, np.sqrt(2.0 / (5.0 * D)), (4 * H, D))
        b = np.zeros(4 * H + 2 * K)
        b[4 * H:4 * H + K] = rng.normal(0.0, 0.1, K)
        b[4 * H + K:] = np.linspace(3.0, 6.0, K)
        return {"W": W, "b": b}

    def initial_state(self, batch):
        B = self._checked_batch(batch)
        K, xp = self.heads, self.xp
        d = self.hidden_size // K
        return (xp.zeros((B, K, d, d), dtype=self.dtype), xp.zeros((B, K, d), dtype=self.dtype),
                xp.zeros((B, K), dtype=self.dtype))

    # -------------------------------------------------------- shared by both forms
    def _forward(self, x, state0):
        xp, H, K = self.xp, self.hidden_size, self.heads
        T, B = x.shape[:2]
        d = H // K
        proj = self.project(x, self.params["W"], self.params["b"])      # one GEMM
        qkv = proj[..., :3 * H].reshape(T, B, 3, K, d)
        cache = Cache(x=x, state0=state0, T=T, B=B, form=self.form,
                      q=qkv[:, :, 0], ks=qkv[:, :, 1] / d ** 0.5, v=qkv[:, :, 2],
                      i_pre=proj[..., 4 * H:4 * H + K])                  # (T, B, K, d), (T, B, K)
        cache.ell, cache.sig_neg_f = log_sigmoid(proj[..., 4 * H + K:], xp)   # ℓ = log σ(f̃)
        run = self._recurrent if self.form == "recurrent" else self._parallel
        with np.errstate(over="ignore"):        # σ's and the floor's exp: inf is their limit
            cache.o = 1.0 / (1.0 + xp.exp(-proj[..., 3 * H:4 * H]))        # o = σ(õ)
            state_T = run(cache)                                         # sets cache.h_tilde
        hs = cache.o * cache.h_tilde.reshape(T, B, H)                    # h = o h̃
        return hs, state_T, cache

    def _backward(self, dhs, cache, dstate_T):
        xp, H, K = self.xp, self.hidden_size, self.heads
        T, B = cache.T, cache.B
        d = H // K
        h_tilde = cache.h_tilde.reshape(T, B, H)
        do_pre = dhs * h_tilde * cache.o * (1.0 - cache.o)               # h = o h̃; o = σ(õ)
        dh_tilde = (dhs * cache.o).reshape(T, B, K, d)                   # h = o h̃
        run = self._recurrent_backward if cache.form == "recurrent" else self._parallel_backward
        dq, dks, dv, di_pre, dell, dstate0 = run(cache, dh_tilde, dstate_T)
        dproj = xp.concatenate([dq.reshape(T, B, H), dks.reshape(T, B, H) / d ** 0.5,
                                dv.reshape(T, B, H), do_pre, di_pre,
                                dell * cache.sig_neg_f], axis=2)         # ℓ = log σ(f̃)
        grads = {"W": self.weight_grad(dproj, cache.x), "b": self.bias_grad(dproj)}
        dh_norm = xp.sqrt((dhs * dhs).sum(axis=(1, 2)))                  # h_t feeds no step
        return self.input_grad(dproj, self.params["W"]), dstate0, grads, dh_norm

    @staticmethod
    def _normalize(num, nq, m, xp):
        """h̃ = num / max(|nᵀq|, e^{-m}); returns h̃, the denominator and where |nᵀq| won
        the max. (e^{-m} = inf for m < -88 in float32: h̃ = 0, its limit.)"""
        floor = xp.exp(-m)
        n_wins = xp.abs(nq) >= floor
        den = xp.where(n_wins, xp.abs(nq), floor)
        return num / den[..., None], den, n_wins

    @staticmethod
    def _read_backward(dh_tilde, cache, xp):
        """dL/dnum (= dL/d(C q)) and dL/d(nᵀq) of h̃ = num / den, den = max(|nᵀq|, e^{-m}),
        m held constant (its total effect on h̃ is zero); the e^{-m} branch is kept as
        ``dden`` for the recurrent form, which does carry dL/dm."""
        dnum = dh_tilde / cache.den[..., None]                           # h̃ = num / den
        dden = -(dh_tilde * cache.h_tilde).sum(axis=-1) / cache.den      # h̃ = num / den
        dnq = xp.where(cache.n_wins, dden * xp.sign(cache.nq), 0.0)      # den = |nᵀq| branch
        return dnum, dnq, dden

    # -------------------------------------------------------- the recurrent form
    def _chunks(self, T):
        """(t0, t1) of the checkpointed chunks of CHUNK steps covering 0..T."""
        return [(t0, min(t0 + CHUNK, T)) for t0 in range(0, T, CHUNK)]

    def _memory(self, cache, t0, t1, buf):
        """C_{t0+1} .. C_{t1} into buf[1 : t1 - t0 + 1], from buf[0] = C_{t0}:
        C_t = f_t C_{t-1} + (i_t v_t) k_tᵀ/√d, a diagonal linear recurrence per head."""
        xp, outer = self.xp, buf[-1]                     # buf has one spare slot: scratch
        for k, t in enumerate(range(t0, t1)):
            C = xp.multiply(cache.f[t][..., None, None], buf[k], out=buf[k + 1])
            C += xp.multiply(cache.iv[t][..., None], cache.ks[t][..., None, :], out=outer)

    def _recurrent(self, cache):
        xp, (C0, n0, m0) = self.xp, cache.state0
        T = cache.T
        cache.n = xp.empty((T + 1,) + n0.shape, dtype=self.dtype)        # n_0 .. n_T
        cache.m = xp.empty((T + 1,) + m0.shape, dtype=self.dtype)
        cache.n[0], cache.m[0] = n0, m0
        cache.f, cache.i = xp.empty_like(cache.m[1:]), xp.empty_like(cache.m[1:])
        cache.i_wins = xp.empty(cache.m[1:].shape, dtype=bool)
        for t in range(T):                  # the gates first: they do not read C or n
            s = cache.ell[t] + cache.m[t]                                # s = ℓ + m_{t-1}
            m = xp.maximum(cache.i_pre[t], s, out=cache.m[t + 1])        # m_t = max(ĩ, s)
            xp.greater_equal(cache.i_pre[t], s, out=cache.i_wins[t])
            xp.exp(s - m, out=cache.f[t])                                # f = e^{s - m_t}
        xp.exp(cache.i_pre - cache.m[1:], out=cache.i)                   # i = e^{ĩ - m_t}
        cache.iv = cache.i[..., None] * cache.v                          # i v, all t at once
        cache.ks = xp.ascontiguousarray(cache.ks)
        ik = cache.i[..., None] * cache.ks
        for t in range(T):                                               # n = f n + i k/√d
            xp.add(cache.f[t][..., None] * cache.n[t], ik[t], out=cache.n[t + 1])
        # C: kept only at the start of every chunk (checkpoints); each chunk's C_t are
        # built in one reused buffer, read there, and rebuilt by the backward
        chunks = self._chunks(T)
        cache.C_start = xp.empty((len(chunks),) + C0.shape, dtype=self.dtype)
        buf = xp.empty((CHUNK + 2,) + C0.shape, dtype=self.dtype)
        num = xp.empty_like(cache.v)
        buf[0] = C0
        for j, (t0, t1) in enumerate(chunks):
            cache.C_start[j] = buf[0]
            self._memory(cache, t0, t1, buf)
            num[t0:t1] = (buf[1:t1 - t0 + 1] @ cache.q[t0:t1, ..., None])[..., 0]   # C_t q
            buf[0] = buf[t1 - t0]
        cache.nq = (cache.n[1:] * cache.q).sum(axis=-1)                  # n_tᵀ q
        cache.h_tilde, cache.den, cache.n_wins = self._normalize(num, cache.nq, cache.m[1:], xp)
        return (buf[0].copy(), cache.n[-1].copy(), cache.m[-1].copy())

    def _recurrent_backward(self, cache, dh_tilde, dstate_T):
        xp = self.xp
        dnum, dnq, dden = self._read_backward(dh_tilde, cache, xp)
        dm_read = xp.where(cache.n_wins, 0.0, -dden * cache.den)         # den = e^{-m} branch
        dq = dnq[..., None] * cache.n[1:]                                # nᵀq
        dks, dv = xp.empty_like(cache.ks), xp.empty_like(cache.v)
        di_pre, dell = xp.empty_like(cache.i), xp.empty_like(cache.i)
        dC, dn, dm = (s.copy() for s in dstate_T)                        # carried from t+1
        buf = xp.empty((CHUNK + 2,) + dC.shape, dtype=self.dtype)       # a chunk's C, rebuilt
        outer = xp.empty_like(dC)                # (B, K, d, d) scratch, reused every step
        flat = dC.shape[:2] + (1, -1)            # <dC, C_{t-1}> per head as one dot product
        for j, (t0, t1) in reversed(list(enumerate(self._chunks(cache.T)))):
            buf[0] = cache.C_start[j]
            self._memory(cache, t0, t1, buf)                             # C_{t0} .. C_{t1}
            dq[t0:t1] += (buf[1:t1 - t0 + 1].swapaxes(-1, -2)
                          @ dnum[t0:t1, ..., None])[..., 0]              # num = C_t q
            for t in reversed(range(t0, t1)):
                q, ks, v, f, i = cache.q[t], cache.ks[t], cache.v[t], cache.f[t], cache.i[t]
                C_prev = buf[t - t0]
                dC += xp.multiply(dnum[t][..., None], q[..., None, :], out=outer)  # C_t q
                dn += dnq[t][..., None] * q                              # nᵀq
                dm += dm_read[t]                                         # e^{-m_t}
                dC_k = (dC @ ks[..., None])[..., 0]                      # dC k/√d
                df = (dC.reshape(flat) @ C_prev.reshape(flat).swapaxes(-1, -2))[..., 0, 0]
                df += (dn * cache.n[t]).sum(axis=-1)                     # <dC, C_{t-1}> + dn·n
                di = (dC_k * v).sum(axis=-1) + (dn * ks).sum(axis=-1)    # C, n: + i v kᵀ, i k
                xp.multiply(i[..., None], dC_k, out=dv[t])               # C = .. + i v kᵀ/√d
                dks[t] = i[..., None] * ((v[..., None, :] @ dC)[..., 0, :] + dn)   # .. k/√d
                dC *= f[..., None, None]                                 # C = f C_{t-1} + ..
                dn *= f[..., None]                                       # n = f n_{t-1} + ..
                di_i, ds = di * i, df * f                                # i = e^{ĩ-m}, f = e^{s-m}
                dm -= di_i + ds                                          # ... their - m_t
                wins = cache.i_wins[t]                                   # m_t = max(ĩ, s)
                di_pre[t] = di_i + xp.where(wins, dm, 0.0)
                ds += xp.where(wins, 0.0, dm)
                dell[t] = ds                                             # s = ℓ + m_{t-1}
                dm = ds              # ds is rebuilt next step; dell[t] holds a copy
        return dq, dks, dv, di_pre, dell, (dC, dn, dm)

    # -------------------------------------------------------- the parallel form, O(T²)
    @staticmethod
    def _heads_first(a):
        """(T, B, K, ...) -> (B, K, T, ...)."""
        return xp_moveaxis(a, 0, 2)

    def _parallel(self, cache):
        xp, T, (C0, n0, m0) = self.xp, cache.T, cache.state0
        Q, Ks, V = (self._heads_first(a) for a in (cache.q, cache.ks, cache.v))   # (B,K,T,d)
        i_pre = self._heads_first(cache.i_pre)                           # (B, K, T)
        F = xp.cumsum(self._heads_first(cache.ell), axis=-1)             # F_t = Σ_{τ<=t} ℓ_τ
        causal = xp.tri(T, dtype=bool)
        log_D = xp.where(causal, F[..., :, None] - F[..., None, :] + i_pre[..., None, :],
                         -np.inf)                                        # log D_ts, s <= t
        log_D0 = F + m0[..., None]                                       # the initial state's
        m = xp.maximum(log_D.max(axis=-1), log_D0)                       # m_t: the row's max
        D = xp.exp(log_D - m[..., None])                                 # D_ts (0 for s > t)
        D0 = xp.exp(log_D0 - m)                                          # D_t0
        S = Q @ Ks.swapaxes(-1, -2)                                      # q_t·k_s/√d
        A = S * D
        C0q = Q @ C0.swapaxes(-1, -2)                                    # C_0 q_t
        n0q = (Q * n0[..., None, :]).sum(axis=-1)                        # n_0·q_t
        num = A @ V + D0[..., None] * C0q
        nq = A.sum(axis=-1) + D0 * n0q
        h_tilde, den, n_wins = self._normalize(num, nq, m, xp)
        back = xp_moveaxis                                               # (B, K, T, ..) -> (T, ..)
        cache.h_tilde, cache.nq, cache.den, cache.n_wins = (
            back(a, 2, 0) for a in (h_tilde, nq, den, n_wins))
        cache.par = dict(Q=Q, Ks=Ks, V=V, S=S, A=A, D=D, D0=D0, C0q=C0q, n0q=n0q,
                         log_D=log_D, log_D0=log_D0)
        w, w0 = D[..., -1, :], D0[..., -1]                               # the last row: state T
        C_T = (V * w[..., None]).swapaxes(-1, -2) @ Ks + w0[..., None, None] * C0
        n_T = (w[..., None] * Ks).sum(axis=-2) + w0[..., None] * n0
        return (C_T, n_T, m[..., -1].copy())

    def _parallel_backward(self, cache, dh_tilde, dstate_T):
        xp, P, (C0, n0, _) = self.xp, cache.par, cache.state0
        Q, Ks, V, S, A, D, D0 = (P[k] for k in ("Q", "Ks", "V", "S", "A", "D", "D0"))
        dnum, dnq, _ = self._read_backward(dh_tilde, cache, xp)          # m held constant
        dnum, dnq = self._heads_first(dnum), self._heads_first(dnq)
        dA = dnum @ V.swapaxes(-1, -2) + dnq[..., None]                  # num = A V; nq = A 1
        dV = A.swapaxes(-1, -2) @ dnum
        dD0 = (dnum * P["C0q"]).sum(axis=-1) + dnq * P["n0q"]            # + D0 C0 q, + D0 n0·q
        dC0q, dn0q = D0[..., None] * dnum, D0 * dnq
        dC0 = dC0q.swapaxes(-1, -2) @ Q                                  # C0q = C_0 q_t
        dn0 = (dn0q[..., None] * Q).sum(axis=-2)                         # n0q = n_0·q_t
        dS, dD = dA * D, dA * S                                          # A = S ⊙ D
        dQ = dS @ Ks + dC0q @ C0 + dn0q[..., None] * n0[..., None, :]    # S = Q Kᵀ; C0q; n0q
        dKs = dS.swapaxes(-1, -2) @ Q
        dlog_D, dlog_D0 = dD * D, dD0 * D0                               # D = e^{log D - m}
        # the final state (C_T, n_T, m_T): weights w = D[T-1, :], w0 = D0[T-1]
        dC_T, dn_T, dm_T = dstate_T
        w, w0 = D[..., -1, :], D0[..., -1]
        dC_k = Ks @ dC_T.swapaxes(-1, -2)                                # row s: dC_T k_s/√d
        dw = (V * dC_k).sum(axis=-1) + (Ks * dn_T[..., None, :]).sum(axis=-1)
        dV += w[..., None] * dC_k                                        # C_T = Σ w_s v_s k_sᵀ
        dKs += w[..., None] * (V @ dC_T + dn_T[..., None, :])            # .. ; n_T = Σ w_s k_s
        dw0 = (dC_T * C0).sum(axis=(-1, -2)) + (dn_T * n0).sum(axis=-1)  # + w0 C_0, + w0 n_0
        dC0 += w0[..., None, None] * dC_T
        dn0 += w0[..., None] * dn_T
        dlog_w, dlog_w0 = dw * w, dw0 * w0                               # w = e^{log w - m_T}
        dmT = dm_T - dlog_w.sum(axis=-1) - dlog_w0                       # ... its - m_T
        # m_T = max(log w0, log w_s): the latest s wins a tie (the recurrent form's rule)
        last = xp.concatenate([P["log_D"][..., -1, ::-1], P["log_D0"][..., -1:]], axis=-1)
        pick = xp.argmax(last, axis=-1)                                  # 0 = s = T-1, .., T = m_0
        T = cache.T
        onehot = (xp.arange(T)[::-1] == pick[..., None]) * dmT[..., None]  # s picked
        dlog_D[..., -1, :] += dlog_w + onehot                            # log w_s = log D_{T-1,s}
        dlog_D0[..., -1] += dlog_w0 + (pick == T) * dmT
        di_pre = dlog_D.sum(axis=-2)                                     # log D_ts: + ĩ_s
        dF = dlog_D.sum(axis=-1) - dlog_D.sum(axis=-2) + dlog_D0         # F_t - F_s; F_t + m_0
        dm0 = dlog_D0.sum(axis=-1)                                       # log D_t0 = F_t + m_0
        dell = xp.cumsum(dF[..., ::-1], axis=-1)[..., ::-1]              # F_t = Σ_{τ<=t} ℓ_τ
        back = xp_moveaxis
        return (back(dQ, 2, 0), back(dKs, 2, 0), back(dV, 2, 0), back(di_pre, 2, 0),
                back(dell, 2, 0), (dC0, dn0, dm0))


def xp_moveaxis(a, source, destination):
    """np.moveaxis as a transpose (CuPy has both; a transpose is backend-generic)."""
    axes = list(range(a.ndim))
    axes.insert(destination, axes.pop(source))
    return a.transpose(axes)
