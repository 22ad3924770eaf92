"""sLSTM: the LSTM with exponential gates, a normalizer state and a stabilizer (xLSTM)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..core.base import RecurrentCell
from ..core.registry import register
from . import _options

FORGET_GATES = ("sigmoid", "exp")


def log_sigmoid(a, xp):
    """(log σ(a), σ(-a)) without overflow: log σ(a) = min(a, 0) - log(1 + exp(-|a|)), and
    σ(-a) = d log σ(a) / da, the forget gate's derivative factor in the backward."""
    e = xp.exp(-xp.abs(a))
    log_f = xp.minimum(a, 0.0) - xp.log1p(e)
    sig_neg = xp.where(a >= 0, e, 1.0) / (1.0 + e)
    return log_f, sig_neg


def powerlaw_forget_bias(H, heads):
    """The authors' "powerlaw_blockdependent" forget-gate bias (first block of a stack):
    per head, unit j of d = H/heads gets 5 - 12 (j / (d - 1))^0.3, from +5 (σ ≈ 0.993,
    a memory of ~150 steps) down to -7 (σ ≈ 0.001, forgets at once). At d = 1 the
    authors' formula divides 0 by 0; this cell gives the one unit +5."""
    d = H // heads
    ramp = np.arange(d) / max(d - 1, 1)
    return np.tile(5.0 - 12.0 * ramp ** 0.3, heads)


@register("slstm")
class SLSTM(RecurrentCell):
    r"""sLSTM (Beck, Pöppel, Spanring, Auer, Prudnikova, Kopp, Klambauer, Brandstetter &
    Hochreiter, "xLSTM: Extended Long Short-Term Memory", NeurIPS 2024, arXiv:2405.04517,
    §2.2; ``NX-AI/xlstm`` ``blocks/slstm/src/vanilla/slstm.py``). Gate order i, f, z, o:

    .. math::

        \begin{aligned}
        {[\tilde\imath_t; \tilde f_t; \tilde z_t; \tilde o_t]} &= W x_t + R h_{t-1} + b
            \quad (R \text{ block-diagonal: one } d \times d \text{ block per head and gate}) \\
        \ell_t &= \log\sigma(\tilde f_t) \quad (\text{option } \texttt{forget\_gate="exp"}:
            \ \ell_t = \tilde f_t) \\
        m_t &= \max(\tilde\imath_t,\ \ell_t + m_{t-1}) &&\text{the stabilizer} \\
        i_t &= \exp(\tilde\imath_t - m_t), \qquad f_t = \exp(\ell_t + m_{t-1} - m_t) \\
        c_t &= f_t \odot c_{t-1} + i_t \odot \tanh(\tilde z_t), \qquad
        n_t = f_t \odot n_{t-1} + i_t \\
        h_t &= \sigma(\tilde o_t) \odot c_t / n_t
        \end{aligned}

    State (h, c, n, m), each (B, H). Shapes: x (T, B, D); W (4H, D), gate-major rows
    [i; f; z; o]; R (4, heads, d, d), R[g, k] the block of gate g for head k (d = H /
    heads): gate g's pre-activation on head k's units gets R[g, k] h_{t-1}[head k]; b (4H,).

    **Why the stabilizer.** The paper's gates are exp(ĩ) and exp(f̃) (or σ(f̃)), and the
    plain recurrence C_t = F_t C_{t-1} + I_t z_t, N_t = F_t N_{t-1} + I_t, with I_t =
    exp(ĩ_t), overflows once ĩ_t > 88.7 (float32) or 709.8 (float64), or once a product
    of exponential forget gates does: h = o C/N is then inf/inf = NaN. The cell carries
    c_t = C_t e^{-m_t} and n_t = N_t e^{-m_t} instead, with m_t the running log-scale of
    the largest term, so i_t, f_t <= 1 (one of them is exactly 1) and nothing overflows.

    **m cancels: h is unchanged by it.** Multiply the stabilized recurrence by e^{m_t}:
    c_t e^{m_t} = e^{ℓ_t + m_{t-1}} c_{t-1} + e^{ĩ_t} z_t = F_t (c_{t-1} e^{m_{t-1}}) +
    I_t z_t, the plain recurrence for C_t = c_t e^{m_t} (from C_0 = c_0 e^{m_0}), and the
    same for n. So c_t / n_t = C_t / N_t whatever value m_t takes at each step: m is a
    change of units, not of the function. (tests/test_xlstm.py checks h against the
    unstabilized computation in float64 wherever that one is finite, and that it
    overflows on a long sequence where this one does not.) Since n_t is a positive
    weighted count of the tanh(z) values c_t sums, |c_t / n_t| <= 1 from a zero state:
    |h_t| <= 1 with any gates, exponential ones included.

    **The max's subgradient.** m_t = max(ĩ_t, ℓ_t + m_{t-1}); the backward sends dL/dm_t to
    the input-gate branch ĩ_t where ĩ_t >= ℓ_t + m_{t-1} (ties included) and to the
    forget branch elsewhere. (PyTorch's ``torch.max(a, b)``, the authors', splits a tie
    half and half.) Because h is exactly independent of the m path, the choice changes
    no gradient of hs; it shows only in gradients that flow from the returned c_T, n_T,
    m_T (which carry the units of m_T). The finite-difference tests use random points,
    away from ties (probability 0).

    **Initial state: an empty memory.** The default state is zeros (m_0 = 0). Where
    n_{t-1} = 0 the memory holds nothing and has no scale, and the cell takes s = -inf
    there (no forget branch): m_t = ĩ_t, i_t = 1, f_t = 0, so n_t = 1. Without it, from the
    zero state, m_1 = max(ĩ_1, ℓ_1) gives n_1 = e^{ĩ_1 - ℓ_1}, which underflows to 0 once
    ĩ_1 - ℓ_1 < -104 (float32; -745 in float64), and h_1 = 0/0 = NaN. The authors' vanilla
    code does the same (m_1 = ĩ_1 when n_0 = 0, and f clamped at 1), but tests the whole
    batch (``torch.all(n == 0)``); this cell tests each entry, so no row depends on the
    others. h is the same either way (c_0 = n_0 = 0, and m cancels). In the backward
    nothing changes: f = 0 there sends no gradient to ℓ, m_{t-1}, c_{t-1} or n_{t-1}, and
    the max's gradient goes to ĩ. With n_0 != 0 (the gradient checks' random states) every
    state component, m_0 included, is differentiable and gradient-checked; at n_0 = 0
    exactly the rule switches (a state that is c_0/0 has no h anyway). (The authors' clamp
    of i_t, f_t at 1 is a no-op here: with m_t the max both are <= 1 already.)

    Options
    -------
    heads : int, default 1
        R block-diagonal with ``heads`` blocks of d = H / heads (must divide H); 1 is a
        dense R, the LSTM's. The authors' default is 4; 1 works at every H.
    forget_gate : "sigmoid" (default) or "exp"
        f̃'s activation: σ, as the authors' vanilla code (ℓ = log σ(f̃) <= 0), or the
        paper's exponential forget gate (ℓ = f̃, so the forget "gate" may exceed 1: the
        normalizer n grows with c and h stays a weighted average).

    Notes
    -----
    Initialization (the authors' defaults, ``sLSTMCellConfig``): R = 0
    (``recurrent_weight_init="zeros"``); W ~ N(0, 2/(5 D)) (their ``small_init`` on the
    gate projections, Nguyen & Salazar 2019); b_i = b_z = b_o = 0 and the forget bias
    :func:`powerlaw_forget_bias` ("powerlaw_blockdependent"). With ``forget_gate="exp"``
    the forget bias is log σ of that, so ℓ starts at the same values. Where this differs
    from the authors' layer: their W is head-wise (block-diagonal), and their i and f gates
    read a causal convolution of x (z and o read x itself); here W is dense, every gate
    reads x, and D may differ from H.

    W x_t for all t is one GEMM before the loop; dL/dW, dL/dR and dL/dx are one GEMM each
    after it.
    """

    state_names = ("h", "c", "n", "m")
    options = {"heads": 1, "forget_gate": "sigmoid"}

    def check_options(self):
        self.heads = _options.heads(self.heads, self.hidden_size)
        self.forget_gate = _options.choice("forget_gate", self.forget_gate, FORGET_GATES)

    def init_params(self, rng):
        D, H, K = self.input_size, self.hidden_size, self.heads
        d = H // K
        b = np.zeros((4, H))
        b[1] = powerlaw_forget_bias(H, K)
        if self.forget_gate == "exp":
            b[1] = -np.logaddexp(0.0, -b[1])                    # log σ(b_f)
        return {"W": rng.normal(0.0, np.sqrt(2.0 / (5.0 * D)), (4 * H, D)),
                "R": np.zeros((4, K, d, d)), "b": b.reshape(-1)}

    # -------------------------------------------------------- the block-diagonal R
    def _R_by_head(self):
        """R (4, K, d, d) -> (K, d, 4d): head k's h (B, d) @ [k] gives its four gates'
        recurrent parts side by side, [k][j, g d + i] = R[g, k, i, j]."""
        K, d = self.heads, self.hidden_size // self.heads
        return self.params["R"].transpose(1, 3, 0, 2).reshape(K, d, 4 * d)

    def _heads(self, a):
        """(B, H) -> (K, B, d): the heads as a batch (a transposed view)."""
        return a.reshape(a.shape[0], self.heads, -1).transpose(1, 0, 2)

    def _forward(self, x, state0):
        with np.errstate(over="ignore"):          # exp(-õ) -> inf for õ < -88 gives σ = 0
            return super()._forward(x, state0)

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        xp = self.xp
        cache.a = self.project_gates(cache.x, self.params["W"], self.params["b"], 4)  # (4,T,B,H)
        cache.R = self._R_by_head()
        for k, s0 in zip(self.state_names, cache.state0):
            setattr(cache, k, self.hidden_buffer(cache, s0))        # (T+1, B, H) each
        cache.sig_neg_f = xp.empty_like(cache.h[1:])                # dℓ/df̃, per step
        cache.i_wins = xp.empty(cache.h[1:].shape, dtype=bool)      # the max's branch

    def step(self, t, state, cache):
        xp, K, d = self.xp, self.heads, self.hidden_size // self.heads
        h_prev, c_prev, n_prev, m_prev = state
        a = cache.a[:, t]                                           # (4, B, H)
        B = a.shape[1]
        rec = self._heads(h_prev) @ cache.R                          # (K, B, 4d)
        a.reshape(4, B, K, d)[...] += rec.reshape(K, B, 4, d).transpose(2, 1, 0, 3)
        i_pre, f_pre, z_pre, o_pre = a                               # + R h_{t-1}
        if self.forget_gate == "sigmoid":                            # ℓ = log σ(f̃)
            s, sig_neg = log_sigmoid(f_pre, xp)
            cache.sig_neg_f[t] = sig_neg
        else:                                                        # ℓ = f̃
            s = f_pre.copy()
        s += m_prev                                                  # s = ℓ + m_{t-1}
        xp.copyto(s, -np.inf, where=n_prev == 0)                     # (an empty memory)
        m = xp.maximum(i_pre, s, out=cache.m[t + 1])                 # m_t = max(ĩ, s)
        xp.greater_equal(i_pre, s, out=cache.i_wins[t])              # (ties: ĩ's branch)
        i, f, g, o = a                                               # in place from here
        xp.exp(xp.subtract(i_pre, m, out=i), out=i)                  # i = exp(ĩ - m_t)
        xp.exp(xp.subtract(s, m, out=f), out=f)                      # f = exp(s - m_t)
        xp.tanh(z_pre, out=g)                                        # g = tanh(z̃)
        xp.exp(xp.negative(o_pre, out=o), out=o)                     # o = σ(õ)
        o += 1.0
        xp.divide(1.0, o, out=o)
        c = xp.multiply(f, c_prev, out=cache.c[t + 1])
        c += i * g                                                   # c_t = f c + i g
        n = xp.multiply(f, n_prev, out=cache.n[t + 1])
        n += i                                                       # n_t = f n + i
        h = xp.multiply(o, c, out=cache.h[t + 1])
        h /= n                                                       # h_t = o c_t / n_t
        return (h, c, n, m)

    def prepare_backward(self, cache):
        xp, B, H = self.xp, cache.B, self.hidden_size
        W_R = self._R_by_head().transpose(0, 2, 1)                   # (K, 4d, d)
        return SimpleNamespace(W_R=W_R, dgates=xp.empty((cache.T, B, 4, H), dtype=self.dtype))

    def step_backward(self, t, dstate, cache, work):
        xp, K, d = self.xp, self.heads, self.hidden_size // self.heads
        dh, dc_next, dn_next, dm_next = dstate
        i, f, g, o = cache.a[:, t]
        c, n, h = cache.c[t + 1], cache.n[t + 1], cache.h[t + 1]
        dgates = work.dgates[t]                                      # (B, 4, H)
        di_pre, df_pre, dz_pre, do_pre = (dgates[:, k] for k in range(4))
        dh_n = dh / n
        xp.multiply(dh_n, c, out=do_pre)                             # h = o c / n: o
        do_pre *= o * (1.0 - o)                                      # o = σ(õ)
        dc = dh_n * o + dc_next                                      # h = o c / n: c; + carried
        dn = dn_next - dh_n * h                                      # h = o c / n: n; + carried
        df = dc * cache.c[t] + dn * cache.n[t]                       # c, n = f c_prev + ..
        di = dc * g + dn                                             # c = .. + i g; n = .. + i
        xp.multiply(dc * i, 1.0 - g * g, out=dz_pre)                 # c = .. + i g; g = tanh(z̃)
        dc_prev, dn_prev = dc * f, dn * f                            # c, n = f c_prev, f n_prev
        xp.multiply(di, i, out=di_pre)                               # i = exp(ĩ - m)
        ds = df * f                                                  # f = exp(s - m)
        dm = dm_next - di_pre - ds                                   # i, f: the - m inside
        wins = cache.i_wins[t]                                       # m = max(ĩ, s)
        di_pre += xp.where(wins, dm, 0.0)
        ds += xp.where(wins, 0.0, dm)
        dm_prev = ds                                                 # s = ℓ + m_{t-1}
        if self.forget_gate == "sigmoid":
            xp.multiply(ds, cache.sig_neg_f[t], out=df_pre)          # ℓ = log σ(f̃)
        else:
            xp.copyto(df_pre, ds)                                    # ℓ = f̃
        B = dh.shape[0]
        dg_heads = dgates.reshape(B, 4, K, d).transpose(2, 0, 1, 3).reshape(K, B, 4 * d)
        dh_prev = (dg_heads @ work.W_R).transpose(1, 0, 2).reshape(B, -1)   # R h_{t-1}
        return (dh_prev, dc_prev, dn_prev, dm_prev)

    def finish_backward(self, cache, work):
        T, B, H, K = cache.T, cache.B, self.hidden_size, self.heads
        d = H // K
        dpre = work.dgates.reshape(T, B, 4 * H)                      # parameter order
        dG = work.dgates.reshape(T * B, 4, K, d).transpose(2, 1, 3, 0)   # (K, 4, d, TB)
        hk = cache.h[:-1].reshape(T * B, K, d).transpose(1, 0, 2)[:, None]   # (K, 1, TB, d)
        grads = {"W": self.weight_grad(dpre, cache.x),
                 "R": (dG @ hk).transpose(1, 0, 2, 3),               # (4, K, d, d)
                 "b": self.bias_grad(dpre)}
        return self.input_grad(dpre, self.params["W"]), grads
