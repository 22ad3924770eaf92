"""The equations behind notebook 11, computed by hand beside the zoo's cells: the write
rules from the Fast-Weights RNN to linear attention to the delta rule to Gated DeltaNet
on one tiny example, and sLSTM's stabilizer against the plain exponential recurrence.
Used by :mod:`.memories` (figures ``memories_equations`` and ``memories_stabilizer``)
and by notebook 11, so both check the same numbers."""
from __future__ import annotations

import numpy as np

from ...core.registry import make

L2_EPS = 1e-6            # the deltanet cells' ε in k̂ = k / sqrt(‖k‖² + ε)


# ----------------------------------------------------------------- the tiny example
def tiny_example():
    """Three writes into a d = 3 memory: key a, key b, then key a again with a new value.
    Key b is not orthogonal to a (cos 45°), so an accumulating memory mixes b's value into
    what it returns for a. The question every rule answers: what does S return for a?
    The latest value under a, v3, is the right answer."""
    a = np.array([1.0, 0.0, 0.0])
    b = np.array([1.0, 1.0, 0.0])
    keys = np.stack([a, b, a])                                  # (T, d)
    values = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    return keys, values


def unit(k):
    """k̂ = k / sqrt(‖k‖² + ε), the cells' L2 normalization (‖k̂‖ = 1 up to ~ε/2)."""
    return k / np.sqrt((k * k).sum(-1, keepdims=True) + L2_EPS)


def write_rules(keys, values, lam=0.9, eta=1.0, beta=1.0, alpha=0.5):
    """{rule: S_T (d, d)} of each write rule on the (T, d) keys and values, from S_0 = 0,
    keys L2-normalized as the cells do:

    * fast weights   S_t = λ S_{t-1} + η v_t k̂_tᵀ  (Ba et al. 2016, with v = k = h there)
    * linear attn    S_t = S_{t-1} + v_t k̂_tᵀ       (λ = η = 1: it only accumulates)
    * delta rule     S_t = S_{t-1} + β (v_t - S_{t-1} k̂_t) k̂_tᵀ
    * gated delta    S_t = α S_{t-1} + β (v_t - α S_{t-1} k̂_t) k̂_tᵀ
                         = α S_{t-1} (I - β k̂ k̂ᵀ) + β v k̂ᵀ
    """
    d = keys.shape[1]
    S = {r: np.zeros((d, d)) for r in ("fast weights", "linear attention", "delta rule",
                                       "gated delta rule")}
    for k, v in zip(unit(keys), values):
        S["fast weights"] = lam * S["fast weights"] + eta * np.outer(v, k)
        S["linear attention"] = S["linear attention"] + np.outer(v, k)
        for rule, decay in (("delta rule", 1.0), ("gated delta rule", alpha)):
            P = decay * S[rule]
            S[rule] = P + beta * np.outer(v - P @ k, k)
    return S


def delta_cell(keys, values, query, beta=1.0, alpha=None):
    """A float64 ``deltanet`` (``gated_deltanet`` when ``alpha`` is given) whose
    projections of the one-hot input x_t = e_t are exactly the example's k_t, v_t, the
    query q, β and α: the cell computes the example, and :func:`cell_memory` runs it."""
    T, d = keys.shape
    name = "deltanet" if alpha is None else "gated_deltanet"
    cell = make(name, T, d, seed=0, dtype=np.float64, beta_range=2.0)
    P = cell.params
    P["W_k"][...], P["W_v"][...] = keys.T, values.T        # W e_t = column t
    P["W_q"][...] = np.repeat(query[:, None], T, axis=1)
    P["w_beta"][...] = np.log(beta / (2.0 - beta))          # β = 2 σ(w): σ^-1(β / 2)
    if alpha is not None:                                  # α = exp(-e^A_log softplus(b))
        P["W_a"][...], P["A_log"][...] = 0.0, 0.0
        P["dt_bias"][...] = np.log(np.expm1(-np.log(alpha)))
    return cell


def cell_memory(cell, T):
    """(S_T (d, d), o_T (d,)) of ``cell`` on the one-hot sequence e_1 .. e_T."""
    hs, (S_T,), _ = cell.forward(np.eye(T)[:, None, :])
    return S_T[0, 0], hs[-1, 0]


def fastweights_memory_gap(T=6, H=4, seed=0):
    """max |A_T - η Σ_τ λ^{T-τ} h(τ) h(τ)ᵀ| for the zoo's ``fastweights`` cell on a
    random input from the zero state, h(τ) its own outputs: its memory is the
    accumulation of outer products with key = value = h."""
    cell = make("fastweights", 3, H, seed=seed, dtype=np.float64)
    x = np.random.default_rng(seed).standard_normal((T, 1, 3))
    hs, (_, A_T), _ = cell.forward(x)
    A = np.zeros((H, H))
    for h in hs[:, 0]:
        A = cell.lam * A + cell.eta * np.outer(h, h)
    return float(np.max(np.abs(A - A_T[0])))


def delta_gradient_gap(S, k, v, beta, h=1e-6):
    """max |(S - β ∇_S ½‖S k - v‖²) - delta write| with the gradient from central
    differences of the loss, float64: the delta rule is one gradient step of size β."""
    loss = lambda M: 0.5 * np.sum((M @ k - v) ** 2)
    grad = np.zeros_like(S)
    for idx in np.ndindex(S.shape):
        E = np.zeros_like(S)
        E[idx] = h
        grad[idx] = (loss(S + E) - loss(S - E)) / (2 * h)
    write = S + beta * np.outer(v - S @ k, k)
    return float(np.max(np.abs((S - beta * grad) - write)))


# ----------------------------------------------------------------- sLSTM's stabilizer
def slstm_plain(P, x):
    """sLSTM without the stabilizer, one head, from the zero state: C = F C + I tanh(z̃),
    N = F N + I, h = σ(õ) C / N with I = exp(ĩ), F = exp(f̃) (the exponential forget
    gate). Returns h (T, B, H) and, per step, the largest |C| and N and whether both were
    finite (once N = inf, C / N is NaN or a meaningless 0)."""
    sig = lambda a: 1.0 / (1.0 + np.exp(-a))
    H = P["W"].shape[0] // 4
    R = P["R"][:, 0]                                            # (4, H, H): one head
    h = C = N = np.zeros((x.shape[1], H))
    hs, sizes, finite = [], [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for x_t in x:
            pre = x_t @ P["W"].T + P["b"] + np.concatenate([h @ R[g].T for g in range(4)], 1)
            i_pre, f_pre, z_pre, o_pre = np.split(pre, 4, axis=1)
            C = np.exp(f_pre) * C + np.exp(i_pre) * np.tanh(z_pre)
            N = np.exp(f_pre) * N + np.exp(i_pre)
            h = sig(o_pre) * C / N
            hs.append(h)
            sizes.append((np.abs(C).max(), N.max()))
            finite.append(bool(np.isfinite(C).all() and np.isfinite(N).all()))
    return np.stack(hs), np.array(sizes), np.array(finite)


def stabilizer_run(T=400, f_bias=3.0, i_bias=1.0, seed=1):
    """The same float64 ``slstm`` (exponential forget gate, f̃ ≈ ``f_bias`` every step, so
    the plain product of forget gates grows as e^{3t}) run with the stabilizer (the cell)
    and without (:func:`slstm_plain`). Returns a dict: h (stabilized), h_plain, m (T,
    largest m_t), sizes (largest |C| and N of the plain run), finite (per step)."""
    cell = make("slstm", 2, 4, seed=seed, dtype=np.float64, forget_gate="exp")
    cell.params["b"][4:8] = f_bias                          # b = [b_i; b_f; b_z; b_o]
    cell.params["b"][0:4] = i_bias
    x = 0.1 * np.random.default_rng(seed).standard_normal((T, 2, 2))
    hs, _, cache = cell.forward(x)
    plain, sizes, finite = slstm_plain(cell.params, x)
    return {"h": hs, "h_plain": plain, "m": cache.m[1:].max(axis=(1, 2)), "sizes": sizes,
            "finite": finite}


def stabilizer_numbers(run):
    """The numbers the stabilizer's claims read: the first step where the plain run is
    not finite (None: never), whether the stabilized h is finite and |h| <= 1, the largest
    m_t, and the largest |h - h_plain| over the steps where the plain run is finite."""
    finite = run["finite"]
    first_bad = None if finite.all() else int(np.argmin(finite))
    ok = slice(0, first_bad)
    return {"plain_overflows_at_step": None if first_bad is None else first_bad + 1,
            "stabilized_finite": bool(np.isfinite(run["h"]).all()),
            "largest_abs_h": float(np.abs(run["h"]).max()),
            "largest_m": float(run["m"].max()),
            "h_gap_where_finite": float(np.max(np.abs(run["h"][ok] - run["h_plain"][ok])))}


def plot_stabilizer(left, right, run):
    """Left: log10 of the plain recurrence's N_t and of e^{m_t} (the stabilizer's scale),
    with float64's limit; right: |h - h_plain| and the stabilized |h|, per step."""
    t = np.arange(1, len(run["m"]) + 1)
    with np.errstate(divide="ignore"):
        logN = np.log10(run["sizes"][:, 1])
    left.plot(t, np.where(run["finite"], logN, np.nan), color="tab:red", lw=2.5,
              label="without the stabilizer: log10 max N_t")
    left.plot(t, run["m"] / np.log(10), "k--", lw=1, label="with it: log10 e^{m_t} (m carried, "
              "c and n stay <= 1 in scale)")
    left.axhline(np.log10(np.finfo(np.float64).max), color="0.4", ls=":",
                 label="float64's largest number, 1.8e308")
    left.set_xlabel("step t")
    left.set_ylabel("log10")
    left.legend(fontsize=8, loc="upper left")
    gap = np.abs(run["h"] - run["h_plain"]).max(axis=(1, 2))
    right.semilogy(t, np.where(run["finite"], np.maximum(gap, 1e-18), np.nan),
                   color="tab:red", label="|h - h_plain| where the plain run is finite")
    right.semilogy(t, np.abs(run["h"]).max(axis=(1, 2)), color="navy",
                   label="max |h_t| with the stabilizer (finite, <= 1)")
    bad = ~run["finite"]
    if bad.any():
        right.axvspan(t[bad][0], t[-1], color="tab:red", alpha=0.08,
                      label="the plain run has overflowed (N = inf: h is NaN)")
    right.set_xlabel("step t")
    right.set_ylabel("max over units (a gap of 0 is drawn at the floor, 1e-18)")
    right.set_ylim(1e-18, 10)
    right.legend(fontsize=8, loc="center left")
