r"""Textbook xLSTM cells (Beck et al., NeurIPS 2024): sLSTM and mLSTM, one equation a line.

mLSTM: :func:`mlstm_step_forward` (the recurrent form; the cell's parallel form equals it).

sLSTM, gate order i, f, z, o; state (h, c, n, m):

    [ĩ; f̃; z̃; õ] = W x_t + R h_{t-1} + b  (R block-diagonal per head)
    ℓ = log σ(f̃) (or f̃)
    m_t = max(ĩ, ℓ + m_{t-1});  i = exp(ĩ - m_t);  f = exp(ℓ + m_{t-1} - m_t)
    c_t = f c_{t-1} + i tanh(z̃);  n_t = f n_{t-1} + i;  h_t = σ(õ) c_t / n_t

The max's subgradient goes to ĩ where ĩ >= ℓ + m_{t-1}, as in the cell; where n_{t-1} = 0
(an empty memory, the zero state) s = -inf, so m_t = ĩ and f = 0, as in the cell.
"""
from __future__ import annotations

import numpy as np

from .core import (hidden_state, register_readout_steps, register_steps, sigmoid,
                   zero_state)


def log_sigmoid(a):
    """log σ(a) = -log(1 + exp(-a))."""
    return -np.logaddexp(0.0, -a)


def block_diagonal(blocks):
    """(K, d, d) -> the (K d, K d) matrix with the K blocks on its diagonal."""
    K, d, _ = blocks.shape
    out = np.zeros((K * d, K * d), dtype=blocks.dtype)
    for k in range(K):
        out[k * d:(k + 1) * d, k * d:(k + 1) * d] = blocks[k]
    return out


def block_diagonal_part(M, K):
    """The K diagonal (d, d) blocks of a (K d, K d) matrix: the backward of block_diagonal."""
    d = M.shape[0] // K
    return np.stack([M[k * d:(k + 1) * d, k * d:(k + 1) * d] for k in range(K)])


# ------------------------------------------------------------------ sLSTM
def slstm_step_forward(x_t, state_prev, params, forget_gate="sigmoid"):
    """One sLSTM step: (h, c, n, m)_{t-1} -> (h, c, n, m)_t."""
    h_prev, c_prev, n_prev, m_prev = state_prev
    P, H = params, h_prev.shape[1]
    R = [block_diagonal(P["R"][g]) for g in range(4)]    # R_g, (H, H) each
    a = x_t @ P["W"].T + P["b"]                          # W x_t + b
    a = a + np.concatenate([h_prev @ R[g].T for g in range(4)], axis=1)   # + R h_{t-1}
    i_pre, f_pre, z_pre, o_pre = (a[:, g * H:(g + 1) * H] for g in range(4))   # ĩ, f̃, z̃, õ
    ell = log_sigmoid(f_pre) if forget_gate == "sigmoid" else f_pre   # ℓ = log σ(f̃) or f̃
    s = np.where(n_prev == 0, -np.inf, ell + m_prev)     # s = ℓ + m_{t-1} (-inf: empty)
    m = np.maximum(i_pre, s)                             # m_t = max(ĩ, s)
    i = np.exp(i_pre - m)                                # i = exp(ĩ - m_t)
    f = np.exp(s - m)                                    # f = exp(s - m_t)
    g = np.tanh(z_pre)                                   # g = tanh(z̃)
    o = sigmoid(o_pre)                                   # o = σ(õ)
    c = f * c_prev + i * g                               # c_t = f c_{t-1} + i g
    n = f * n_prev + i                                   # n_t = f n_{t-1} + i
    h = o * c / n                                        # h_t = o c_t / n_t
    cache = {"x": x_t, "h_prev": h_prev, "c_prev": c_prev, "n_prev": n_prev, "R": R,
             "f_pre": f_pre, "i_wins": i_pre >= s, "i": i, "f": f, "g": g, "o": o,
             "c": c, "n": n, "h": h, "forget_gate": forget_gate, "params": P}
    return (h, c, n, m), cache


def slstm_step_backward(dstate, cache):
    """dL/d(h, c, n, m)_t -> dL/dx_t, dL/d(h, c, n, m)_{t-1}, this step's dL/dparams."""
    dh, dc_next, dn_next, dm_next = dstate
    i, f, g, o, c, n, h = (cache[k] for k in ("i", "f", "g", "o", "c", "n", "h"))
    P, R, K = cache["params"], cache["R"], cache["params"]["R"].shape[1]
    do = dh * c / n                                      # h_t = o c_t / n_t
    dc = dc_next + dh * o / n                            # h_t = o c_t / n_t; + carried
    dn = dn_next - dh * o * c / n ** 2                   # h_t = o c_t / n_t; + carried
    df = dc * cache["c_prev"] + dn * cache["n_prev"]     # c_t, n_t = f c_{t-1}, f n_{t-1} + ..
    di = dc * g + dn                                     # c_t = .. + i g;  n_t = .. + i
    dg = dc * i                                          # c_t = .. + i g
    dc_prev = dc * f                                     # c_t = f c_{t-1} + ..
    dn_prev = dn * f                                     # n_t = f n_{t-1} + ..
    do_pre = do * o * (1.0 - o)                          # o = σ(õ)
    dz_pre = dg * (1.0 - g ** 2)                         # g = tanh(z̃)
    di_pre = di * i                                      # i = exp(ĩ - m_t): ĩ side
    ds = df * f                                          # f = exp(s - m_t): s side
    dm = dm_next - di * i - df * f                       # i, f: m_t side; + carried
    di_pre = di_pre + dm * cache["i_wins"]               # m_t = max(ĩ, s): ĩ branch
    ds = ds + dm * ~cache["i_wins"]                      # m_t = max(ĩ, s): s branch
    dm_prev = ds                                         # s = ℓ + m_{t-1}
    if cache["forget_gate"] == "sigmoid":
        df_pre = ds * sigmoid(-cache["f_pre"])           # ℓ = log σ(f̃)
    else:
        df_pre = ds                                      # ℓ = f̃
    da = np.concatenate([di_pre, df_pre, dz_pre, do_pre], axis=1)   # [ĩ | f̃ | z̃ | õ]
    H = dh.shape[1]
    dx = da @ P["W"]                                     # a = W x_t + ..
    dh_prev = sum(da[:, g * H:(g + 1) * H] @ R[g] for g in range(4))   # a = .. + R h_{t-1}
    dR = np.stack([block_diagonal_part(da[:, g * H:(g + 1) * H].T @ cache["h_prev"], K)
                   for g in range(4)])                   # a = .. + R h_{t-1}: the blocks
    grads = {"W": da.T @ cache["x"], "R": dR, "b": da.sum(axis=0)}   # a = W x_t + .. + b
    return dx, (dh_prev, dc_prev, dn_prev, dm_prev), grads


register_steps("slstm", slstm_step_forward, slstm_step_backward,
               lambda cell: {"forget_gate": cell.forget_gate},
               initial_state=hidden_state(lambda p: p["W"].shape[0] // 4, count=4))


# ------------------------------------------------------------------ mLSTM
def mlstm_step_forward(x_t, state_prev, params, heads=1):
    r"""One mLSTM step, per head (K heads of d units), state (C, n, m) -> (C, n, m), and
    the output h_t (not part of the state):

    q, k, v, õ, ĩ, f̃ = the row blocks of W x_t + b;  ℓ = log σ(f̃)
    m_t = max(ĩ, ℓ + m_{t-1})
    i = exp(ĩ - m_t);  f = exp(ℓ + m_{t-1} - m_t);  C_t = f C_{t-1} + i v kᵀ/√d
    n_t = f n_{t-1} + i k/√d;  h̃ = C_t q / max(|n_tᵀ q|, exp(-m_t));  h_t = σ(õ) ⊙ h̃
    """
    C_prev, n_prev, m_prev = state_prev
    P, K = params, heads
    B, (H, d) = x_t.shape[0], mlstm_sizes(P, K)
    a = x_t @ P["W"].T + P["b"]                          # [q | k | v | õ | ĩ | f̃]
    q = a[:, 0:H].reshape(B, K, d)                       # q
    ks = a[:, H:2 * H].reshape(B, K, d) / np.sqrt(d)     # ks = k/√d (k the raw block)
    v = a[:, 2 * H:3 * H].reshape(B, K, d)               # v
    o = sigmoid(a[:, 3 * H:4 * H])                       # o = σ(õ)
    i_pre, f_pre = a[:, 4 * H:4 * H + K], a[:, 4 * H + K:]     # ĩ, f̃ (one per head)
    s = log_sigmoid(f_pre) + m_prev                      # s = ℓ + m_{t-1}
    m = np.maximum(i_pre, s)                             # m_t = max(ĩ, s)
    i = np.exp(i_pre - m)                                # i = exp(ĩ - m_t)
    f = np.exp(s - m)                                    # f = exp(s - m_t)
    C = (f[:, :, None, None] * C_prev                    # C_t = f C_{t-1} + i v ksᵀ
         + i[:, :, None, None] * v[:, :, :, None] * ks[:, :, None, :])
    n = f[:, :, None] * n_prev + i[:, :, None] * ks      # n_t = f n_{t-1} + i ks
    num = np.einsum("bkij,bkj->bki", C, q)               # num = C_t q
    nq = np.einsum("bki,bki->bk", n, q)                  # nq = n_tᵀ q
    den = np.maximum(np.abs(nq), np.exp(-m))             # den = max(|nq|, exp(-m_t))
    h_tilde = num / den[:, :, None]                      # h̃ = num / den
    h = o * h_tilde.reshape(B, H)                        # h_t = o ⊙ h̃
    cache = {"x": x_t, "C_prev": C_prev, "n_prev": n_prev, "q": q, "ks": ks, "v": v, "o": o,
             "f_pre": f_pre, "i_wins": i_pre >= s, "n_wins": np.abs(nq) >= np.exp(-m),
             "i": i, "f": f, "C": C, "n": n, "nq": nq, "den": den, "h_tilde": h_tilde,
             "params": P}
    return (C, n, m), h, cache


def mlstm_step_backward(dh, dstate, cache):
    """dL/dh_t and dL/d(C, n, m)_t -> dL/dx_t, dL/d(C, n, m)_{t-1}, this step's dL/dparams."""
    dC, dn, dm = dstate
    q, ks, v, o, i, f = (cache[key] for key in ("q", "ks", "v", "o", "i", "f"))
    C, n, nq, den, h_tilde, P = (cache[key] for key in ("C", "n", "nq", "den", "h_tilde",
                                                        "params"))
    B, K, d = q.shape
    do = dh * h_tilde.reshape(B, -1)                     # h_t = o ⊙ h̃
    dh_tilde = (dh * o).reshape(B, K, d)                 # h_t = o ⊙ h̃
    dnum = dh_tilde / den[:, :, None]                    # h̃ = num / den
    dden = -(dh_tilde * h_tilde).sum(axis=2) / den       # h̃ = num / den
    dnq = dden * cache["n_wins"] * np.sign(nq)           # den = max(|nq|, ..): |nq| branch
    dm = dm - dden * ~cache["n_wins"] * den              # den = max(.., exp(-m_t)); + carried
    dC = dC + dnum[:, :, :, None] * q[:, :, None, :]     # num = C_t q; + carried
    dq = np.einsum("bkij,bki->bkj", C, dnum)             # num = C_t q
    dn = dn + dnq[:, :, None] * q                        # nq = n_tᵀ q; + carried
    dq = dq + dnq[:, :, None] * n                        # nq = n_tᵀ q
    df = ((dC * cache["C_prev"]).sum(axis=(2, 3))       # C_t = f C_{t-1} + ..
          + (dn * cache["n_prev"]).sum(axis=2))          # n_t = f n_{t-1} + ..
    di = np.einsum("bkij,bki,bkj->bk", dC, v, ks) + (dn * ks).sum(axis=2)   # C_t, n_t: + i (..)
    dv = i[:, :, None] * np.einsum("bkij,bkj->bki", dC, ks)   # C_t = .. + i v ksᵀ
    dks = i[:, :, None] * (np.einsum("bkij,bki->bkj", dC, v) + dn)   # C_t, n_t: .. i ks
    dC_prev = f[:, :, None, None] * dC                   # C_t = f C_{t-1} + ..
    dn_prev = f[:, :, None] * dn                         # n_t = f n_{t-1} + ..
    di_pre = di * i                                      # i = exp(ĩ - m_t): ĩ side
    ds = df * f                                          # f = exp(s - m_t): s side
    dm = dm - di * i - df * f                            # i, f: m_t side
    di_pre = di_pre + dm * cache["i_wins"]               # m_t = max(ĩ, s): ĩ branch
    ds = ds + dm * ~cache["i_wins"]                      # m_t = max(ĩ, s): s branch
    dm_prev = ds                                         # s = ℓ + m_{t-1}
    df_pre = ds * sigmoid(-cache["f_pre"])               # ℓ = log σ(f̃)
    do_pre = do * o * (1.0 - o)                          # o = σ(õ)
    da = np.concatenate([dq.reshape(B, -1), dks.reshape(B, -1) / np.sqrt(d),   # ks = k/√d
                         dv.reshape(B, -1), do_pre, di_pre, df_pre], axis=1)
    grads = {"W": da.T @ cache["x"], "b": da.sum(axis=0)}   # a = W x_t + b
    dx = da @ P["W"]                                     # a = W x_t + b
    return dx, (dC_prev, dn_prev, dm_prev), grads


def mlstm_sizes(params, heads):
    """(H, d) from W's 4 H + 2 K rows, K = heads (1 unless told). A W that does not fit K
    heads of d = H / K units, from a cell made with other heads, is refused naming the
    option. The twin cannot read K from W: the rows can fit several K, and an odd K >= 3
    can fit K = 1 (30 rows: K = 3, H = 6, or K = 1, H = 7), so pass heads for such a cell."""
    rows = params["W"].shape[0]
    H = (rows - 2 * heads) // 4
    if H < 1 or 4 * H + 2 * heads != rows or H % heads:
        raise TypeError(f"the textbook mlstm needs the option 'heads' of the cell these "
                        f"parameters are from: W's {rows} rows are not 4 H + 2 K for "
                        f"K = heads = {heads} (H a multiple of K); pass the cell's: "
                        f"**rnnzoo.reference.get('mlstm').options_of(cell)")
    return H, H // heads


def mlstm_initial_state(batch, params, heads=1):
    """C_0 = 0 (B, K, d, d), n_0 = 0 (B, K, d), m_0 = 0 (B, K)."""
    H, d = mlstm_sizes(params, heads)
    return zero_state(batch, params, (heads, d, d), (heads, d), heads)


register_readout_steps("mlstm", mlstm_step_forward, mlstm_step_backward,
                       lambda cell: {"heads": cell.heads}, initial_state=mlstm_initial_state)
