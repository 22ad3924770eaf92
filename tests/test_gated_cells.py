"""Cell-specific checks of the single-gate cells, MGU and JANET, on top of the
registry-driven contract and gradient suites.

The references below are written straight from the papers' equations, one step at a
time with separate matrices and no buffers, so they share nothing with the cells' code.
"""
import numpy as np
import pytest

import rnnzoo


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# ---------------------------------------------------------------------------------- MGU
def mgu_reference(params, x, h0):
    """Zhou et al. (2016): f = σ(W_f x + U_f h + b_f); h~ = tanh(W_h x + U_h (f h) + b_h);
    h = (1 - f) h + f h~."""
    H = h0.shape[1]
    W_f, W_h = params["W"][:H], params["W"][H:]
    b_f, b_h = params["b"][:H], params["b"][H:]
    U_f, U_h = params["U_f"], params["U_h"]
    h, hs = h0, []
    for x_t in x:
        f = sigmoid(x_t @ W_f.T + h @ U_f.T + b_f)
        h_tilde = np.tanh(x_t @ W_h.T + (f * h) @ U_h.T + b_h)
        h = (1 - f) * h + f * h_tilde
        hs.append(h)
    return np.stack(hs)


@pytest.mark.parametrize("D,H", [(3, 4), (1, 1), (7, 5), (256, 256)])
def test_mgu_has_two_thirds_of_grus_weights(D, H):
    """Weights: MGU 2H(D + H) (two blocks: f, h~) vs GRU 3H(D + H) (three: r, z, n).
    Biases: MGU 2H vs GRU 6H (PyTorch's b_ih and b_hh). So totals are 2H(D + H + 1)
    and 3H(D + H + 2)."""
    mgu, gru = rnnzoo.make("mgu", D, H), rnnzoo.make("gru", D, H)
    mgu_weights = mgu.params["W"].size + mgu.params["U_f"].size + mgu.params["U_h"].size
    gru_weights = gru.params["W_ih"].size + gru.params["W_hh"].size
    assert mgu_weights == 2 * H * (D + H)
    assert gru_weights == 3 * H * (D + H)
    assert 3 * mgu_weights == 2 * gru_weights
    assert mgu.num_params() == 2 * H * (D + H + 1)
    assert gru.num_params() == 3 * H * (D + H + 2)


def test_mgu_parameter_shapes_and_init():
    D, H = 3, 5
    cell = rnnzoo.make("mgu", D, H, seed=0)
    assert {k: v.shape for k, v in cell.params.items()} == {
        "W": (2 * H, D), "U_f": (H, H), "U_h": (H, H), "b": (2 * H,)}
    for p in cell.params.values():           # U(-1/sqrt(H), 1/sqrt(H)), like nn.GRU
        assert np.abs(p).max() <= 1 / np.sqrt(H)


def test_gru_init_is_pytorchs():
    """GRU's docstring: every parameter starts U(-1/sqrt H, 1/sqrt H) as in PyTorch; a
    pass: each tensor lies within that bound and reaches past 90 % of it (hundreds of
    draws per tensor, so a uniform on the right range always does)."""
    D, H = 3, 16
    cell = rnnzoo.make("gru", D, H, seed=0)
    for name, p in cell.params.items():
        assert 0.9 / np.sqrt(H) < np.abs(p).max() <= 1 / np.sqrt(H), name


@pytest.mark.parametrize("T,B", [(7, 3), (1, 1)])
def test_mgu_forward_matches_the_papers_equations(T, B, rng):
    D, H = 3, 5
    cell = rnnzoo.make("mgu", D, H, seed=1)
    x = rng.standard_normal((T, B, D))
    h0 = 0.5 * rng.standard_normal((B, H))
    hs, (h_T,), _ = cell.forward(x, (h0,))
    expected = mgu_reference(cell.params, x, h0)
    np.testing.assert_allclose(hs, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_T, expected[-1], rtol=1e-12, atol=1e-12)


def test_mgu_with_its_gate_held_open_is_a_tanh_rnn(rng):
    """f = 1 everywhere (b_f = 50, σ(50) == 1.0 in float64) leaves h = h~ =
    tanh(W_h x + U_h h + b_h): the Elman RNN with W_ih = W_h, W_hh = U_h."""
    D, H = 3, 4
    mgu = rnnzoo.make("mgu", D, H, seed=2)
    mgu.params["b"][:H] = 50.0
    mgu.params["W"][:H] = 0.0
    mgu.params["U_f"][...] = 0.0
    rnn = rnnzoo.make("rnn", D, H)
    rnn.params.update(W_ih=mgu.params["W"][H:].copy(), W_hh=mgu.params["U_h"].copy(),
                      b_ih=mgu.params["b"][H:].copy(), b_hh=np.zeros(H))
    x = rng.standard_normal((6, 2, D))
    h0 = (0.5 * rng.standard_normal((2, H)),)
    np.testing.assert_allclose(mgu.forward(x, h0)[0], rnn.forward(x, h0)[0],
                               rtol=1e-12, atol=1e-12)


def test_mgu_with_its_gate_held_shut_keeps_its_state(rng):
    """f ≈ 0 (b_f = -50): h_t = h_{t-1} for every t, and the gradient reaching h_0 is
    the sum of the gradients on every h_t."""
    D, H = 3, 4
    cell = rnnzoo.make("mgu", D, H, seed=2)
    cell.params["b"][:H] = -50.0
    cell.params["W"][:H] = 0.0
    cell.params["U_f"][...] = 0.0
    x = rng.standard_normal((5, 2, D))
    h0 = 0.5 * rng.standard_normal((2, H))
    hs, _, cache = cell.forward(x, (h0,))
    np.testing.assert_allclose(hs, np.broadcast_to(h0, hs.shape), rtol=1e-12, atol=1e-12)
    dhs = rng.standard_normal(hs.shape)
    _, (dh0,), _ = cell.backward(dhs, cache)
    np.testing.assert_allclose(dh0, dhs.sum(axis=0), rtol=1e-12, atol=1e-12)


# -------------------------------------------------------------------------------- JANET
def janet_reference(params, x, h0, beta):
    """van der Westhuizen & Lasenby (2018): s = U_f h + W_f x + b_f;
    c = σ(s) c_prev + (1 - σ(s - β)) tanh(U_c h + W_c x + b_c); h = c."""
    H = h0.shape[1]
    W_f, W_c = params["W"][:H], params["W"][H:]
    U_f, U_c = params["U"][:H], params["U"][H:]
    b_f, b_c = params["b"][:H], params["b"][H:]
    c, hs = h0, []
    for x_t in x:
        h = c
        s = h @ U_f.T + x_t @ W_f.T + b_f
        c = sigmoid(s) * c + (1 - sigmoid(s - beta)) * np.tanh(h @ U_c.T + x_t @ W_c.T + b_c)
        hs.append(c)
    return np.stack(hs)


@pytest.mark.parametrize("opts", [{}, {"beta": 0.0}, {"beta": 2.5}, {"chrono_init": False},
                                  {"t_max": 10, "beta": -1.0}])
@pytest.mark.parametrize("T,B", [(7, 3), (1, 1)])
def test_janet_forward_matches_the_papers_equations(opts, T, B, rng):
    D, H = 3, 5
    cell = rnnzoo.make("janet", D, H, seed=1, **opts)
    x = rng.standard_normal((T, B, D))
    h0 = 0.5 * rng.standard_normal((B, H))
    hs, (h_T,), _ = cell.forward(x, (h0,))
    expected = janet_reference(cell.params, x, h0, cell.beta)
    np.testing.assert_allclose(hs, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_T, expected[-1], rtol=1e-12, atol=1e-12)


def test_janet_default_beta_is_the_papers_one(rng):
    """The default β is 1.0, as in the paper and the authors' code (sigmoid(1 - f)); a
    pass: a cell built without β has beta == 1 and equals the reference run with β = 1
    written out (the test above reads β back from the cell, so it cannot see this)."""
    cell = rnnzoo.make("janet", 3, 5, seed=1)
    assert cell.beta == 1.0
    x, h0 = rng.standard_normal((4, 2, 3)), 0.5 * rng.standard_normal((2, 5))
    np.testing.assert_allclose(cell.forward(x, (h0,))[0],
                               janet_reference(cell.params, x, h0, 1.0), rtol=1e-12, atol=1e-12)


def test_janet_parameter_shapes_and_glorot_init():
    D, H = 3, 50
    cell = rnnzoo.make("janet", D, H, seed=0)
    assert {k: v.shape for k, v in cell.params.items()} == {
        "W": (2 * H, D), "U": (2 * H, H), "b": (2 * H,)}
    # within the Glorot bounds, and reaching past 90 % of them (300 and 5000 draws)
    kw, ku = np.sqrt(6 / (D + 2 * H)), np.sqrt(6 / (3 * H))
    assert 0.9 * kw < np.abs(cell.params["W"]).max() <= kw
    assert 0.9 * ku < np.abs(cell.params["U"]).max() <= ku
    np.testing.assert_array_equal(cell.params["b"][H:], 0.0)          # b_c = 0


@pytest.mark.parametrize("t_max", [2, 3, 100, 784.0])
def test_chrono_init_range_and_determinism(t_max):
    H = 500
    cell = rnnzoo.make("janet", 2, H, seed=7, t_max=t_max)
    b_f = cell.params["b"][:H]
    assert b_f.min() >= 0.0
    assert b_f.max() <= np.log(t_max - 1)
    if t_max > 10:   # it spreads over the range rather than sitting at one value
        assert b_f.min() < np.log(1 + 0.05 * (t_max - 2))
        assert b_f.max() > np.log(t_max - 1 - 0.05 * (t_max - 2))
    again = rnnzoo.make("janet", 2, H, seed=7, t_max=t_max)
    np.testing.assert_array_equal(again.params["b"], cell.params["b"])
    if t_max > 2:
        other = rnnzoo.make("janet", 2, H, seed=8, t_max=t_max)
        assert not np.array_equal(other.params["b"][:H], b_f)


def test_chrono_init_off_sets_forget_bias_to_one_and_leaves_weights_alone():
    H = 6
    on = rnnzoo.make("janet", 3, H, seed=4)
    off = rnnzoo.make("janet", 3, H, seed=4, chrono_init=False)
    np.testing.assert_array_equal(off.params["b"], np.r_[np.ones(H), np.zeros(H)])
    np.testing.assert_array_equal(on.params["W"], off.params["W"])
    np.testing.assert_array_equal(on.params["U"], off.params["U"])


def test_janet_beta_changes_the_output_and_widens_the_input_gate(rng):
    """β enters only 1 - σ(s - β), which grows with β. From a zero state one step gives
    h_1 = (1 - σ(s_1 - β)) c~_1, so |h_1| grows with β unit by unit."""
    cells = {beta: rnnzoo.make("janet", 3, 4, seed=0, beta=beta) for beta in (-1.0, 0.0, 1.0, 3.0)}
    for cell in cells.values():                      # β is not part of the init
        np.testing.assert_array_equal(cell.params["b"], cells[0.0].params["b"])
    x = rng.standard_normal((6, 2, 3))
    outs = {beta: cell.forward(x)[0] for beta, cell in cells.items()}
    betas = sorted(outs)
    for lo, hi in zip(betas, betas[1:]):
        assert np.abs(outs[lo] - outs[hi]).max() > 1e-3
        assert np.all(np.abs(outs[hi][0]) > np.abs(outs[lo][0]))


def test_chrono_init_gives_each_unit_a_memory_between_2_and_t_max_steps(rng):
    """σ(log u) = u / (1 + u), so unit j forgets at rate 1 - σ(b_f) = 1 / (1 + u_j): its
    time constant 1 + u_j lies in [2, T_max]. With W = U = 0 (and b_c = 0, so c~ = 0)
    that is all that happens: c_T = σ(b_f)^T c_0 exactly."""
    t_max, T, H = 50, 30, 200
    cell = rnnzoo.make("janet", 3, H, seed=5, t_max=t_max)
    b_f = cell.params["b"][:H]
    tau = 1 / (1 - sigmoid(b_f))
    assert tau.min() >= 2 - 1e-12 and tau.max() <= t_max + 1e-9
    cell.params["W"][...] = 0.0
    cell.params["U"][...] = 0.0
    c0 = rng.standard_normal((2, H))
    _, (c_T,), _ = cell.forward(rng.standard_normal((T, 2, 3)), (c0,))
    np.testing.assert_allclose(c_T, sigmoid(b_f) ** T * c0, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("opts,match", [
    ({"t_max": 1.5}, "t_max must be"), ({"t_max": float("inf")}, "t_max must be"),
    ({"t_max": "100"}, "t_max must be"), ({"beta": "1"}, "beta must be"),
    ({"beta": float("nan")}, "beta must be"), ({"beta": True}, "beta must be"),
    ({"chrono_init": "yes"}, "chrono_init must be"),
])
def test_janet_rejects_bad_options(opts, match):
    with pytest.raises(ValueError, match=match):
        rnnzoo.make("janet", 2, 3, **opts)
