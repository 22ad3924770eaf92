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


def test_slstm_from_the_zero_state_differs_from_the_authors_only_in_the_units_of_m(rng):
    """The authors set m_1 = ĩ_1 when n_0 == 0; the cell takes max(ĩ_1, ℓ_1 + 0). h is
    the same at every step (m cancels), and c, n agree once rescaled by e^m: c e^m and
    n e^m are the same unstabilized C and N."""
    cell = perturbed("slstm", 3, 6, scale=1.0)
    cell.params["b"][:6] -= 4.0             # ĩ_1 < ℓ_1 <= 0: the two rules pick different m_1
    x = rng.standard_normal((5, 2, 3))
    zeros = cell.initial_state(2)
    hs, _, cache = cell.forward(x)
    ys, states = slstm_authors(cell.params, x, zeros, 1)
    assert_close(hs, ys, what="h")
    m_ours, m_theirs = cache.m[1:], np.stack([s[3] for s in states])
    assert np.abs(m_ours - m_theirs).max() > 1e-3      # the m paths really differ here
    for k, name in ((1, "c"), (2, "n")):
        ours = getattr(cache, name)[1:] * np.exp(m_ours)
        theirs = np.stack([s[k] for s in states]) * np.exp(m_theirs)
        assert_close(ours, theirs, what=f"{name} e^m")


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
    ({"heads": 3}, r"heads must divide hidden_size = 4; got 3"),
    ({"heads": 0}, r"heads must be an integer >= 1; got 0"),
    ({"forget_gate": "tanh"}, r"forget_gate must be one of 'sigmoid', 'exp'; got 'tanh'"),
])
def test_slstm_options_are_refused_by_name(opts, match):
    with pytest.raises(ValueError, match=match):
        rnnzoo.make("slstm", 3, 4, **opts)
