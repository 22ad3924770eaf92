"""xLSTM's cells (sLSTM, mLSTM): the authors' formulas as float64 oracles, their
initialization, the stabilizer (m cancels; without it exp overflows), the max's
subgradient at a tie, heads, and the options' errors.

The oracles below re-implement, small and plain, the formulas of ``NX-AI/xlstm``:
``blocks/slstm/src/vanilla/slstm.py`` (``slstm_forward_pointwise``) and
``blocks/mlstm/backends.py`` (``parallel_stabilized_simple``,
``recurrent_step_stabilized_simple``). A pass: agreement to 1e-12 (relative to the
tensor's size) in float64; a wrong gate or a missing term is off by 1e-2 or more.
The registry suites (contract, hostile, gradients, textbook twin) cover the rest.
"""
import numpy as np
import pytest

import rnnzoo
from rnnzoo.cells.slstm import powerlaw_forget_bias


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def perturbed(name, D, H, seed=0, scale=0.3, **opts):
    """The cell in float64 with every parameter moved off its initialization (R = 0 and
    equal biases would hide a wrong term)."""
    cell = rnnzoo.make(name, D, H, seed=seed, dtype=np.float64, **opts)
    rng = np.random.default_rng(seed + 100)
    for p in cell.params.values():
        p += scale * rng.standard_normal(p.shape)
    return cell


# ------------------------------------------------------------------ sLSTM oracle
def slstm_authors(P, x, state0, heads, exp_forget=False):
    """``slstm_forward_pointwise`` of NX-AI/xlstm, step by step: raw = Wx + Ry + b;
    logfplusm = m + logsigmoid(fraw); mnew = iraw if all(n == 0) else max(iraw, logfplusm);
    igate = min(exp(iraw - mnew), 1); fgate = min(exp(logfplusm - mnew), 1);
    c = fgate c + igate tanh(zraw); n = fgate n + igate; y = sigmoid(oraw) c / n.
    Their R is per head: here R[g, k] (d, d) maps head k of y to head k of gate g.
    ``exp_forget``: the paper's exponential forget gate, log f = fraw."""
    H = state0[0].shape[1]
    d = H // heads
    y, c, n, m = (s.copy() for s in state0)
    ys, states = [], []
    for x_t in x:
        Ry = np.concatenate([np.einsum("kij,bkj->bki", P["R"][g], y.reshape(-1, heads, d))
                             .reshape(-1, H) for g in range(4)], axis=1)
        raw = x_t @ P["W"].T + Ry + P["b"]
        iraw, fraw, zraw, oraw = np.split(raw, 4, axis=1)
        logf = fraw if exp_forget else -np.log1p(np.exp(-fraw))
        logfplusm = m + logf
        mnew = iraw if np.all(n == 0.0) else np.maximum(iraw, logfplusm)
        igate = np.minimum(np.exp(iraw - mnew), 1.0)
        fgate = np.minimum(np.exp(logfplusm - mnew), 1.0)
        c = fgate * c + igate * np.tanh(zraw)
        n = fgate * n + igate
        m = mnew
        y = sigmoid(oraw) * c / n
        ys.append(y)
        states.append((y, c, n, m))
    return np.stack(ys), states


def assert_close(a, b, tol=1e-12, what=""):
    err = np.abs(a - b).max() / (1.0 + np.abs(b).max())
    assert err <= tol, f"{what}: relative error {err:.2e} > {tol:.0e}"


@pytest.mark.parametrize("opts", [{}, {"heads": 2}, {"heads": 4, "forget_gate": "exp"}])
def test_slstm_equals_the_authors_formulas_from_a_nonzero_state(opts, rng):
    """From a state with n_0 != 0 the authors' code takes the max at every step, as the
    cell does: h, c, n and m agree at every step."""
    cell = perturbed("slstm", 3, 8, **opts)
    x = rng.standard_normal((7, 2, 3))
    state0 = (rng.standard_normal((2, 8)), rng.standard_normal((2, 8)),
              rng.uniform(0.5, 2.0, (2, 8)), rng.standard_normal((2, 8)))
    hs, state_T, _ = cell.forward(x, state0)
    ys, states = slstm_authors(cell.params, x, state0, cell.heads,
                               exp_forget=cell.forget_gate == "exp")
    assert_close(hs, ys, what="h")
    for name, a, b in zip(cell.state_names, state_T, states[-1]):
        assert_close(a, b, what=name)


def test_slstm_from_the_zero_state_equals_the_authors(rng):
    """From zeros (n_0 = 0 everywhere) both take m_1 = ĩ_1: h, c, n, m agree."""
    cell = perturbed("slstm", 3, 6, scale=1.0)
    cell.params["b"][:6] -= 4.0             # ĩ_1 < ℓ_1 <= 0: max(ĩ_1, ℓ_1) would be ℓ_1
    x = rng.standard_normal((5, 2, 3))
    zeros = cell.initial_state(2)
    hs, state_T, cache = cell.forward(x)
    ys, states = slstm_authors(cell.params, x, zeros, 1)
    assert_close(hs, ys, what="h")
    for name, a, b in zip(cell.state_names, state_T, states[-1]):
        assert_close(a, b, what=name)
    i_pre_1 = x[0] @ cell.params["W"][:6].T + cell.params["b"][:6]      # h_0 = 0: no R h
    np.testing.assert_allclose(cache.m[1], i_pre_1, rtol=1e-14)         # m_1 = ĩ_1
    assert not cache.i_wins[1:].all()        # later steps do take the forget branch


def test_slstm_tests_each_row_for_an_empty_memory_where_the_authors_test_the_batch(rng):
    """Row 0 starts empty (c_0 = n_0 = 0), row 1 not: the authors' ``all(n == 0)`` is
    False, so they take the max on row 0 too; the cell takes m_1 = ĩ_1 there. h agrees
    on both rows (m cancels), and so do c e^m and n e^m; row 1 agrees in everything."""
    cell = perturbed("slstm", 3, 6, scale=1.0)
    cell.params["b"][:6] -= 4.0
    x = rng.standard_normal((4, 2, 3))
    h0, c0, n0, m0 = (rng.standard_normal((2, 6)) for _ in range(4))
    row1 = np.array([[0.0], [1.0]])                              # row 0 empty: c_0 = n_0 = 0
    state0 = (h0, c0 * row1, (np.abs(n0) + 0.1) * row1, m0)
    hs, _, cache = cell.forward(x, state0)
    ys, states = slstm_authors(cell.params, x, state0, 1)
    assert_close(hs, ys, what="h")
    m_theirs = np.stack([s[3] for s in states])
    assert np.abs(cache.m[1:, 0] - m_theirs[:, 0]).max() > 1e-3   # row 0: other units
    assert_close(cache.m[1:, 1], m_theirs[:, 1], what="m, row 1")
    for k, name in ((1, "c"), (2, "n")):
        ours = getattr(cache, name)[1:] * np.exp(cache.m[1:])
        theirs = np.stack([s[k] for s in states]) * np.exp(m_theirs)
        assert_close(ours, theirs, what=f"{name} e^m")


def test_an_empty_memory_cannot_underflow_n_to_zero():
    """ĩ_1 = -800 below ℓ_1: with the max, n_1 = e^{ĩ_1 - ℓ_1} = e^{-800} = 0 in float64
    and h_1 = 0/0. The empty-memory rule gives n_1 = 1 and h_1 = σ(õ) tanh(z̃)."""
    cell = rnnzoo.make("slstm", 1, 2, seed=0)
    cell.params["b"][:2] = -800.0
    assert np.exp(-800.0 - np.log(sigmoid(cell.params["b"][2:4]))).max() == 0.0
    x = np.ones((3, 1, 1))
    hs, _, cache = cell.forward(x)
    assert np.isfinite(hs).all() and np.all(cache.n[1] == 1.0)
    a = cell.params["W"][:, 0] + cell.params["b"]
    np.testing.assert_allclose(hs[0, 0], sigmoid(a[6:8]) * np.tanh(a[4:6]), rtol=1e-14)


# ------------------------------------------------------------------ sLSTM init
def test_slstm_initialization_is_the_authors(rng):
    """R = 0, b_i = b_z = b_o = 0, b_f the powerlaw ramp 5 - 12 (j/(d-1))^0.3 per head,
    W ~ N(0, 2/(5 D)): mean and standard deviation within 4 standard errors."""
    D, H = 200, 64
    cell = rnnzoo.make("slstm", D, H, heads=4, seed=7)
    P = cell.params
    assert P["R"].shape == (4, 4, 16, 16) and not P["R"].any()
    b = P["b"].reshape(4, H)
    assert not b[[0, 2, 3]].any()
    ramp = 5.0 - 12.0 * (np.arange(16) / 15.0) ** 0.3
    np.testing.assert_allclose(b[1], np.tile(ramp, 4), rtol=1e-15)
    assert b[1, 0] == 5.0 and b[1, 15] == pytest.approx(-7.0)
    W, std = P["W"], np.sqrt(2.0 / (5.0 * D))
    n = W.size
    assert abs(W.mean()) < 4 * std / np.sqrt(n)
    assert abs(W.std() / std - 1.0) < 4 / np.sqrt(2 * n)
    # the exponential forget gate starts at the same ℓ = log σ(ramp)
    exp_cell = rnnzoo.make("slstm", D, H, heads=4, seed=7, forget_gate="exp")
    np.testing.assert_allclose(exp_cell.params["b"].reshape(4, H)[1],
                               np.log(sigmoid(np.tile(ramp, 4))), rtol=1e-12)
    # d = 1: the authors' 0/0 is avoided, the unit gets +5
    np.testing.assert_array_equal(powerlaw_forget_bias(3, 3), [5.0, 5.0, 5.0])


# ------------------------------------------------------------------ the stabilizer
def slstm_unstabilized(P, x, heads, exp_forget):
    """The paper's plain recurrence from the zero state: C = F C + I z, N = F N + I,
    h = σ(õ) C / N, with I = exp(ĩ) and F = exp(ℓ): no m at all. Returns h and, per step,
    whether C and N were still finite (once N = inf, C / N rounds to 0 or NaN: finite
    numbers are no proof the computation still holds)."""
    H = P["W"].shape[0] // 4
    d = H // heads
    h = C = N = np.zeros((x.shape[1], H))
    hs, ok = [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for x_t in x:
            Rh = np.concatenate([np.einsum("kij,bkj->bki", P["R"][g], h.reshape(-1, heads, d))
                                 .reshape(-1, H) for g in range(4)], axis=1)
            i_pre, f_pre, z_pre, o_pre = np.split(x_t @ P["W"].T + Rh + P["b"], 4, axis=1)
            F = np.exp(f_pre) if exp_forget else sigmoid(f_pre)
            C = F * C + np.exp(i_pre) * np.tanh(z_pre)
            N = F * N + np.exp(i_pre)
            h = sigmoid(o_pre) * C / N
            hs.append(h)
            ok.append(np.isfinite(C).all() and np.isfinite(N).all())
    return np.stack(hs), np.array(ok)


@pytest.mark.parametrize("forget_gate", ["sigmoid", "exp"])
def test_m_cancels_h_equals_the_unstabilized_computation_where_finite(forget_gate, rng):
    cell = perturbed("slstm", 3, 4, scale=1.0, heads=2, forget_gate=forget_gate)
    x = 2.0 * rng.standard_normal((30, 3, 3))
    hs, _, _ = cell.forward(x)
    plain, ok = slstm_unstabilized(cell.params, x, 2, forget_gate == "exp")
    assert ok.all()                                     # short and tame: finite everywhere
    assert_close(hs, plain, tol=1e-12, what="h vs unstabilized")


def test_without_the_stabilizer_a_long_sequence_overflows_and_with_it_not(rng):
    """An exponential forget gate with ℓ = f̃ ≈ +3 a step: after ~240 steps the plain
    F_1 ... F_t passes float64's exp limit (709.8) and h becomes inf/inf = NaN; the
    stabilized cell stays finite and |h| <= 1, and equals the plain h before that."""
    cell = rnnzoo.make("slstm", 2, 4, seed=1, forget_gate="exp")
    cell.params["b"][4:8] = 3.0                          # f̃ = 3 + W x
    cell.params["b"][0:4] = 1.0
    x = 0.1 * rng.standard_normal((400, 2, 2))
    hs, state_T, _ = cell.forward(x)
    plain, finite = slstm_unstabilized(cell.params, x, 1, True)
    assert np.isfinite(hs).all() and np.abs(hs).max() <= 1.0
    assert np.isfinite(state_T[3]).all() and state_T[3].max() > 709.8   # m_T beyond exp's range
    assert not finite[-1] and finite[:100].all()
    assert np.isnan(plain[-1]).any() or not np.allclose(plain[-1], hs[-1])  # plain h broke
    first_bad = int(np.argmin(finite))
    assert_close(hs[:first_bad], plain[:first_bad], tol=1e-10, what="h before the overflow")


def test_a_large_input_gate_overflows_the_plain_exp_at_once(rng):
    """ĩ = 800 > 709.8: exp(ĩ) is inf at step 1 without the stabilizer, i = 1 with it."""
    cell = rnnzoo.make("slstm", 2, 3, seed=2)
    cell.params["b"][0:3] = 800.0
    x = rng.standard_normal((3, 1, 2))
    hs, _, _ = cell.forward(x)
    assert np.isfinite(hs).all()
    plain, finite = slstm_unstabilized(cell.params, x, 1, False)
    assert np.isnan(plain).all() and not finite.any()


# ------------------------------------------------------------------ the max at a tie
def test_at_a_tie_the_max_sends_its_gradient_to_the_input_gate_branch():
    """Exponential forget gate, x = 0: ĩ = b_i = 1 and ℓ + m_0 = b_f + m_0 = 0.5 + 0.5 = 1
    exactly. With the loss m_1 (dstate_T on m only), dL/db_i = 1 (ĩ's branch) and dL/db_f
    = dL/dm_0 = 0; h's gradients do not depend on the branch (m cancels in h)."""
    cell = rnnzoo.make("slstm", 1, 1, seed=0, forget_gate="exp")
    cell.params["W"][:] = 0.0
    cell.params["b"][:] = [1.0, 0.5, 0.0, 0.0]
    state0 = (np.zeros((1, 1)), np.full((1, 1), 0.3), np.ones((1, 1)), np.full((1, 1), 0.5))
    hs, state_T, cache = cell.forward(np.zeros((1, 1, 1)), state0)
    assert state_T[3][0, 0] == 1.0 and cache.i_wins[0, 0, 0]           # a tie, ĩ wins
    dstate_T = tuple(np.zeros((1, 1)) for _ in range(3)) + (np.ones((1, 1)),)
    _, dstate0, grads = cell.backward(np.zeros((1, 1, 1)), cache, dstate_T)
    assert grads["b"][0] == 1.0 and grads["b"][1] == 0.0 and dstate0[3][0, 0] == 0.0


# ------------------------------------------------------------------ gradients off the init
@pytest.mark.parametrize("opts", [{}, {"heads": 2, "forget_gate": "exp"}])
def test_slstm_gradcheck_off_the_initialization_reaches_h0_and_both_branches(opts, rng):
    """At the authors' init R = 0, so no gradient reaches h_0 and the registry's check of
    h0 compares zeros. Here every parameter is moved off it: dL/dh0 is nonzero, both
    branches of m's max occur, and float64 central differences pass on every tensor."""
    cell = perturbed("slstm", 3, 4, scale=1.0, **opts)
    x = rng.standard_normal((8, 2, 3))
    state0 = (rng.standard_normal((2, 4)), rng.standard_normal((2, 4)),
              rng.uniform(0.5, 2.0, (2, 4)), rng.standard_normal((2, 4)))
    _, _, cache = cell.forward(x, state0)
    assert cache.i_wins.any() and not cache.i_wins.all()
    report = rnnzoo.gradcheck(cell, x, state0)
    assert report.passed, report.table()
    _, dstate0, _ = cell.backward(rng.standard_normal((8, 2, 4)), cache)
    assert np.abs(dstate0[0]).max() > 1e-3


# ------------------------------------------------------------------ heads
def test_slstm_heads_is_a_dense_cell_with_a_block_diagonal_R(rng):
    """heads = 2 equals heads = 1 whose R[g] is the block-diagonal matrix of the two
    heads' blocks (zeros off the diagonal blocks), forward and every gradient."""
    two = perturbed("slstm", 3, 6, heads=2)
    one = rnnzoo.make("slstm", 3, 6, dtype=np.float64)
    one.params["W"][:] = two.params["W"]
    one.params["b"][:] = two.params["b"]
    one.params["R"][:] = 0.0
    for k in range(2):
        one.params["R"][:, 0, 3 * k:3 * k + 3, 3 * k:3 * k + 3] = two.params["R"][:, k]
    x = rng.standard_normal((5, 2, 3))
    outs = [c.forward(x) for c in (two, one)]
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-13, atol=1e-14)
    dhs = rng.standard_normal(outs[0][0].shape)
    g2, g1 = (c.backward(dhs, o[2])[2] for c, o in zip((two, one), outs))
    for k in range(2):
        np.testing.assert_allclose(g2["R"][:, k], g1["R"][:, 0, 3 * k:3 * k + 3,
                                                          3 * k:3 * k + 3], rtol=1e-12)
    np.testing.assert_allclose(g2["W"], g1["W"], rtol=1e-12)


@pytest.mark.parametrize("opts,match", [
    ({"heads": 3}, r"heads must divide hidden_size .*got heads=3, hidden_size=4"),
    ({"heads": 0}, r"heads must be an integer >= 1; got 0"),
    ({"forget_gate": "tanh"}, r"forget_gate must be one of 'sigmoid', 'exp'; got 'tanh'"),
])
def test_slstm_options_are_refused_by_name(opts, match):
    with pytest.raises(ValueError, match=match):
        rnnzoo.make("slstm", 3, 4, **opts)


# ------------------------------------------------------------------ mLSTM oracles
def mlstm_inputs(cell, x):
    """q, k, v (B, K, T, d), ĩ, f̃ (B, K, T) and o (T, B, H) from the cell's W and b."""
    T, B, _ = x.shape
    K, H = cell.heads, cell.hidden_size
    a = x @ cell.params["W"].T + cell.params["b"]
    q, k, v = (a[..., j * H:(j + 1) * H].reshape(T, B, K, -1).transpose(1, 2, 0, 3)
               for j in range(3))
    i_pre, f_pre = (a[..., 4 * H + j * K:4 * H + (j + 1) * K].transpose(1, 2, 0)
                    for j in range(2))
    return q, k, v, i_pre, f_pre, sigmoid(a[..., 3 * H:4 * H])


def mlstm_authors_step(C, n, m, q, k, v, i_pre, f_pre, eps):
    """``recurrent_step_stabilized_simple`` (their C is k vᵀ, (B, K, d, d); n (B, K, d);
    m (B, K)): m_new = max(logσ(f̃) + m, ĩ); f = exp(logσ(f̃) + m - m_new); i = exp(ĩ -
    m_new); C = f C + i (k/√d) vᵀ; n = f n + i k/√d; h = qᵀC / (max(|qᵀn|, exp(-m_new)) + eps)."""
    d = q.shape[-1]
    log_f = -np.log1p(np.exp(-f_pre))
    m_new = np.maximum(log_f + m, i_pre)
    f, i = np.exp(log_f + m - m_new), np.exp(i_pre - m_new)
    ks = k / np.sqrt(d)
    C = f[..., None, None] * C + i[..., None, None] * ks[..., :, None] * v[..., None, :]
    n = f[..., None] * n + i[..., None] * ks
    den = np.maximum(np.abs((q * n).sum(-1)), np.exp(-m_new)) + eps
    return np.einsum("bki,bkij->bkj", q, C) / den[..., None], C, n, m_new


def mlstm_authors_parallel(q, k, v, i_pre, f_pre, eps):
    """``parallel_stabilized_simple`` from the zero state: log D = (cumsum logσ(f̃))_t -
    (..)_s + ĩ_s for s <= t, stabilized by its row max; C = (q kᵀ/√d) ⊙ D;
    h = C V / (max(|C 1|, exp(-max)) + eps)."""
    T, d = q.shape[-2], q.shape[-1]
    cum = np.concatenate([np.zeros(q.shape[:2] + (1,)),
                          np.cumsum(-np.log1p(np.exp(-f_pre)), axis=-1)], axis=-1)
    log_fg = (cum[..., :, None] - cum[..., None, :])[..., 1:, 1:]
    log_D = np.where(np.tri(T, dtype=bool), log_fg + i_pre[..., None, :], -np.inf)
    max_log_D = log_D.max(axis=-1, keepdims=True)
    Cm = (q @ (k / np.sqrt(d)).swapaxes(-1, -2)) * np.exp(log_D - max_log_D)
    normalizer = np.maximum(np.abs(Cm.sum(-1, keepdims=True)), np.exp(-max_log_D))
    return (Cm / (normalizer + eps)) @ v


def heads_to_output(h_tilde):
    """(B, K, T, d) -> (T, B, H)."""
    B, K, T, d = h_tilde.shape
    return h_tilde.transpose(2, 0, 1, 3).reshape(T, B, K * d)


@pytest.mark.parametrize("heads", [1, 2])
def test_mlstm_equals_the_authors_recurrent_step_from_any_state(heads, rng):
    """With their eps set to 0 (the paper has none): h, C (transposed), n and m agree at
    every step; with their eps = 1e-6 the outputs move by about 1e-6, no more."""
    cell = perturbed("mlstm", 3, 8, heads=heads, scale=0.5)
    x = rng.standard_normal((6, 2, 3))
    state0 = tuple(0.5 * rng.standard_normal(s.shape) for s in cell.initial_state(2))
    hs, (C_T, n_T, m_T), _ = cell.forward(x, state0)
    q, k, v, i_pre, f_pre, o = mlstm_inputs(cell, x)
    for eps, tol in ((0.0, 1e-12), (1e-6, 1e-4)):
        C, n, m = state0[0].swapaxes(-1, -2), state0[1], state0[2]
        out = []
        for t in range(x.shape[0]):
            h, C, n, m = mlstm_authors_step(C, n, m, q[:, :, t], k[:, :, t], v[:, :, t],
                                            i_pre[:, :, t], f_pre[:, :, t], eps)
            out.append(h.reshape(2, -1))
        assert_close(hs, o * np.stack(out), tol=tol, what=f"h (eps={eps})")
    assert np.abs(hs - o * np.stack(out)).max() > 1e-9      # eps = 1e-6 does show
    for a, b, name in zip((C_T, n_T, m_T), mlstm_state_from(cell, x, state0), "Cnm"):
        assert_close(a, b, what=name)


def mlstm_state_from(cell, x, state0):
    """The authors' recurrent step, eps = 0, to the end: (C as v kᵀ, n, m)."""
    q, k, v, i_pre, f_pre, _ = mlstm_inputs(cell, x)
    C, n, m = state0[0].swapaxes(-1, -2), state0[1], state0[2]
    for t in range(x.shape[0]):
        _, C, n, m = mlstm_authors_step(C, n, m, q[:, :, t], k[:, :, t], v[:, :, t],
                                        i_pre[:, :, t], f_pre[:, :, t], 0.0)
    return C.swapaxes(-1, -2), n, m


@pytest.mark.parametrize("form", ["recurrent", "parallel"])
@pytest.mark.parametrize("heads", [1, 4])
def test_mlstm_equals_the_authors_parallel_form_from_the_zero_state(form, heads, rng):
    """Their parallel form (eps = 0) has no initial state: from zeros both of the cell's
    forms give its h."""
    cell = perturbed("mlstm", 3, 8, heads=heads, scale=0.5, form=form)
    x = rng.standard_normal((9, 2, 3))
    hs, _, _ = cell.forward(x)
    q, k, v, i_pre, f_pre, o = mlstm_inputs(cell, x)
    theirs = o * heads_to_output(mlstm_authors_parallel(q, k, v, i_pre, f_pre, 0.0))
    assert_close(hs, theirs, what="h")


# ------------------------------------------------------------------ the two forms
def both_forms(rng, T, heads, scale=0.5):
    """forward + backward of both forms on the same parameters, random state and
    upstream gradients: {form: [hs, C_T, n_T, m_T, dx, dC_0, dn_0, dm_0, dW, db]}."""
    out = {}
    x = rng.standard_normal((T, 3, 4))
    for form in ("recurrent", "parallel"):
        cell = perturbed("mlstm", 4, 8, heads=heads, scale=scale, form=form)
        r = np.random.default_rng(5)
        state0 = tuple(0.5 * r.standard_normal(s.shape) for s in cell.initial_state(3))
        hs, state_T, cache = cell.forward(x, state0)
        dhs = r.standard_normal(hs.shape)
        dstate_T = tuple(r.standard_normal(s.shape) for s in state_T)
        dx, dstate0, grads = cell.backward(dhs, cache, dstate_T)
        out[form] = [hs, *state_T, dx, *dstate0, grads["W"], grads["b"]]
    return out


@pytest.mark.parametrize("T,heads", [(1, 1), (7, 2), (40, 4), (70, 1)])   # 40, 70: the
# recurrent form's checkpointed chunks of 32 steps, rebuilt by its backward
def test_mlstm_parallel_form_equals_the_recurrent_form_to_1e_10(T, heads, rng):
    out = both_forms(rng, T, heads)
    names = ["hs", "C_T", "n_T", "m_T", "dx", "dC0", "dn0", "dm0", "dW", "db"]
    for name, a, b in zip(names, out["parallel"], out["recurrent"]):
        err = np.abs(a - b).max() / (1.0 + np.abs(b).max())
        assert err <= 1e-10, f"{name}: parallel vs recurrent {err:.1e}"


def test_mlstm_recurrent_form_splits_across_its_chunks(rng):
    """70 steps (chunks 0-31, 32-63, 64-69) equal 33 then 37 steps from the carried state
    (chunks that start elsewhere), outputs and final state, to 1e-12."""
    cell = perturbed("mlstm", 3, 4, heads=2)
    x = rng.standard_normal((70, 2, 3))
    hs, state_T, _ = cell.forward(x)
    hs_a, mid, _ = cell.forward(x[:33])
    hs_b, state_b, _ = cell.forward(x[33:], mid)
    assert_close(np.concatenate([hs_a, hs_b]), hs, what="hs")
    for a, b, name in zip(state_b, state_T, "Cnm"):
        assert_close(a, b, what=name)


def test_mlstm_default_form_is_the_recurrent_one():
    """No default may be quadratic in T: the parallel form is opt-in."""
    assert rnnzoo.make("mlstm", 3, 4).form == "recurrent"


def test_mlstm_gradcheck_covers_both_branches_of_both_maxes(rng):
    """The configuration checked has steps where ĩ wins m's max and steps where the
    forget branch does, and steps where |nᵀq| wins the denominator and steps where
    e^{-m} does; float64 central differences pass on every tensor, in both forms."""
    for form in ("recurrent", "parallel"):
        cell = perturbed("mlstm", 3, 4, heads=2, scale=1.0, seed=3, form=form)
        x = rng.standard_normal((8, 2, 3))
        state0 = tuple(0.5 * np.random.default_rng(2).standard_normal(s.shape)
                       for s in cell.initial_state(2))
        _, _, cache = cell.forward(x, state0)
        assert cache.n_wins.any() and not cache.n_wins.all()
        if form == "recurrent":
            assert cache.i_wins.any() and not cache.i_wins.all()
        report = rnnzoo.gradcheck(cell, x, state0)
        assert report.passed, report.table()


# ------------------------------------------------------------------ mLSTM init, options
def test_mlstm_initialization_is_the_authors():
    """W_q, W_k, W_v, W_o ~ N(0, 2/(5 D)); w_i = w_f = 0; b_q..b_o = 0; b_f = linspace(3, 6,
    K); b_i ~ N(0, 0.1²): means and standard deviations within 4 standard errors."""
    D, H, K = 100, 256, 256
    P = rnnzoo.make("mlstm", D, H, heads=K, seed=4).params
    W, b = P["W"], P["b"]
    assert W.shape == (4 * H + 2 * K, D) and b.shape == (4 * H + 2 * K,)
    assert not W[4 * H:].any() and not b[:4 * H].any()
    np.testing.assert_allclose(b[4 * H + K:], np.linspace(3.0, 6.0, K), rtol=1e-15)
    std, n = np.sqrt(2.0 / (5.0 * D)), W[:4 * H].size
    assert abs(W[:4 * H].mean()) < 4 * std / np.sqrt(n)
    assert abs(W[:4 * H].std() / std - 1.0) < 4 / np.sqrt(2 * n)
    b_i = b[4 * H:4 * H + K]
    assert abs(b_i.mean()) < 4 * 0.1 / np.sqrt(K)
    assert abs(b_i.std() / 0.1 - 1.0) < 4 / np.sqrt(2 * K)
    assert rnnzoo.make("mlstm", 3, 4).params["b"][-1] == 3.0       # one head: linspace's start


def test_mlstm_m_cancels_h_equals_the_unstabilized_computation(rng):
    """The paper's plain recurrence: C = F C + I v kᵀ/√d, N = F N + I k/√d, h̃ = C q /
    max(|Nᵀq|, 1), from zeros: the same h in float64 while it is finite; with ĩ = 800 it
    overflows at once and the cell does not."""
    cell = perturbed("mlstm", 3, 4, heads=2, scale=1.0)
    x = rng.standard_normal((12, 2, 3))
    hs, _, _ = cell.forward(x)

    def plain(cell):
        q, k, v, i_pre, f_pre, o = mlstm_inputs(cell, x)
        d = q.shape[-1]
        C, N, out = 0.0, 0.0, []
        with np.errstate(over="ignore", invalid="ignore"):
            for t in range(x.shape[0]):
                F, Ig = sigmoid(f_pre[..., t]), np.exp(i_pre[..., t])
                ks = k[:, :, t] / np.sqrt(d)
                C = (F[..., None, None] * C
                     + Ig[..., None, None] * v[:, :, t, :, None] * ks[..., None, :])
                N = F[..., None] * N + Ig[..., None] * ks
                den = np.maximum(np.abs((N * q[:, :, t]).sum(-1)), 1.0)
                out.append((np.einsum("bkij,bkj->bki", C, q[:, :, t]) / den[..., None])
                           .reshape(2, -1))
        return o * np.stack(out)
    assert_close(hs, plain(cell), tol=1e-12, what="h vs unstabilized")
    H, K = 4, 2
    cell.params["b"][4 * H:4 * H + K] = 800.0
    assert np.isfinite(cell.forward(x)[0]).all()
    assert not np.isfinite(plain(cell)).all()


@pytest.mark.parametrize("opts,match", [
    ({"heads": 3}, r"heads must divide hidden_size .*got heads=3, hidden_size=4"),
    ({"heads": 0}, r"heads must be an integer >= 1; got 0"),
    ({"form": "chunkwise"}, r"form must be one of 'recurrent', 'parallel'; got 'chunkwise'"),
])
def test_mlstm_options_are_refused_by_name(opts, match):
    with pytest.raises(ValueError, match=match):
        rnnzoo.make("mlstm", 3, 4, **opts)


@pytest.mark.parametrize("name", ["slstm", "mlstm"])
def test_the_textbook_twins_defaults_are_the_cells(name, rng):
    """Called without options (forget_gate, heads), the twin computes the default cell."""
    from rnnzoo import reference
    cell = perturbed(name, 3, 4)
    x = rng.standard_normal((4, 2, 3))
    hs, state_T, _ = cell.forward(x)
    r_hs, r_state_T, _ = reference.get(name).forward(x, None, cell.params)
    assert_close(r_hs, hs, what="hs")
    for a, b in zip(r_state_T, state_T, strict=True):
        assert_close(a, b, what="state_T")
