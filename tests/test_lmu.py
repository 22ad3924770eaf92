"""LMU: the Legendre delay system against keras-lmu's and scipy's, the 2019 LMUCell's step
as an oracle, its init, and the window read back from the memory.

A pass: Ā, B̄ equal keras-lmu's construction (its _gen_AB and _cont2discrete_zoh) and
scipy.signal.cont2discrete to 1e-13 of their largest entry; the cell equals the 2019 LMUCell.call formulas to
1e-12; the window decoded from m_t is the last θ inputs to 1.6e-3 on a smooth input.
"""
import numpy as np
import pytest
import scipy.linalg
from scipy import special, stats
from scipy.signal import cont2discrete

import rnnzoo
from rnnzoo.cells.lmu import legendre_delay, window_decoder, zero_order_hold

from .hostile import raises


# ------------------------------------------------------------------ keras-lmu's formulas
def keras_lmu_AB(order, theta):
    """LMUCell._gen_AB with discretizer="zoh" (nengo/keras-lmu, keras_lmu/layers.py), in
    NumPy: A, B built transposed, the augmented matrix padded and exponentiated, Ā, B̄
    sliced out; returned as keras-lmu holds them (m_t = m_{t-1} @ Ā + u @ B̄)."""
    Q = np.arange(order, dtype=np.float64)
    R = (2 * Q + 1)[:, None]
    j, i = np.meshgrid(Q, Q)
    A = np.where(i < j, -1, (-1.0) ** (i - j + 1)) * R
    B = (-1.0) ** Q[:, None] * R
    A_t, B_t = A.T / theta, B.T / theta
    em_upper = np.concatenate([A_t, B_t], axis=0)
    em = np.pad(em_upper, [(0, 0), (0, B_t.shape[0])])
    ms = scipy.linalg.expm(em)
    return ms[:A_t.shape[0], :A_t.shape[1]], ms[A_t.shape[0]:, :A_t.shape[1]]


@pytest.mark.parametrize("order,theta", [(1, 1.0), (6, 20.0), (12, 100.0), (256, 784.0)])
def test_the_memory_is_keras_lmus_and_scipys(order, theta):
    """To 1e-13 of the largest entry: the exponential of the transposed matrix rounds
    differently (3.5e-14 at d = 256, 1e-16 at d = 12); a wrong sign or scale is off by
    the size of the entries."""
    cell = rnnzoo.make("lmu", 2, 3, theta=theta, memory_size=order)
    A_k, B_k = keras_lmu_AB(order, theta)
    np.testing.assert_allclose(cell.A_bar, A_k.T, rtol=0, atol=1e-13 * np.abs(A_k).max())
    np.testing.assert_allclose(cell.B_bar, B_k[0], rtol=0, atol=1e-13 * np.abs(B_k).max())
    A, B = legendre_delay(order, theta)
    A_s, B_s, *_ = cont2discrete((A, B[:, None], np.eye(order), np.zeros((order, 1))),
                                 dt=1.0, method="zoh")
    np.testing.assert_allclose(cell.A_bar, A_s, rtol=0, atol=1e-13 * np.abs(A_s).max())
    np.testing.assert_allclose(cell.B_bar, B_s[:, 0], rtol=0, atol=1e-13 * np.abs(B_s).max())
    assert set(cell.params) == {"e_x", "e_h", "e_m", "W_x", "W_h", "W_m"}   # Ā, B̄ fixed


def test_zero_order_hold_over_any_step():
    """zero_order_hold's dt (the cell uses dt = 1) against scipy's."""
    A, B = legendre_delay(5, 10.0)
    for dt in (0.5, 3.0):
        A_bar, B_bar = zero_order_hold(A, B, dt)
        A_s, B_s, *_ = cont2discrete((A, B[:, None], np.eye(5), np.zeros((5, 1))), dt=dt,
                                     method="zoh")
        np.testing.assert_allclose(A_bar, A_s, rtol=0, atol=1e-15)
        np.testing.assert_allclose(B_bar, B_s[:, 0], rtol=0, atol=1e-15)


def lmu_cell_2019(x, params, A_bar, B_bar):
    """keras-lmu's 2019 LMUCell.call (lmu/lmu.py, commit 28d1ea5), in NumPy, Keras's
    (in, out) kernels being our transposes: u = x e_x + h e_h + m e_m; m = m + m AT + u BT
    with AT = (Ā - I)ᵀ, BT = B̄ᵀ; h = tanh(x K_x + h K_h + m K_m). From zero states."""
    AT, BT = (A_bar - np.eye(len(A_bar))).T, B_bar[None, :]
    h = np.zeros((x.shape[1], params["W_h"].shape[0]))
    m = np.zeros((x.shape[1], len(A_bar)))
    hs = []
    for x_t in x:
        u = (x_t @ params["e_x"][:, None] + h @ params["e_h"][:, None]
             + m @ params["e_m"][:, None])
        m = m + m @ AT + u @ BT
        h = np.tanh(x_t @ params["W_x"].T + h @ params["W_h"].T + m @ params["W_m"].T)
        hs.append(h)
    return np.stack(hs), h, m


def test_equals_the_2019_lmucell(rng):
    cell = rnnzoo.make("lmu", 3, 5, theta=8.0, memory_size=4, seed=2)
    cell.params["e_m"] += 0.5 * rng.standard_normal(4)    # 0 at init: give it a value
    x = rng.standard_normal((30, 2, 3))
    hs, (h_T, m_T), _ = cell.forward(x)
    r_hs, r_h, r_m = lmu_cell_2019(x, cell.params, cell.A_bar, cell.B_bar)
    for a, b in [(hs, r_hs), (h_T, r_h), (m_T, r_m)]:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_initialization_is_keras_lmus(rng):
    """LeCun uniform e_x, e_h (U(±sqrt(3/fan_in))), e_m = 0, and Keras 2's Glorot normal
    W_x, W_h, W_m (N(0, s²) truncated at ±2s, variance 2/(fan_in + fan_out)):
    Kolmogorov-Smirnov against each law (p > 1e-3; the untruncated normal of the same
    variance is rejected), the bounds, and the variance."""
    D, H, d = 300, 400, 200
    P = rnnzoo.make("lmu", D, H, memory_size=d, seed=5).params
    for name, fan_in in (("e_x", D), ("e_h", H)):
        r = np.sqrt(3.0 / fan_in)
        assert np.abs(P[name]).max() <= r
        assert stats.kstest(P[name], stats.uniform(-r, 2 * r).cdf).pvalue > 1e-3
    np.testing.assert_array_equal(P["e_m"], 0.0)
    for name, fans in (("W_x", D + H), ("W_h", 2 * H), ("W_m", H + d)):
        w = P[name].ravel()
        s = np.sqrt(2.0 / fans) / 0.87962566103423978
        assert np.abs(w).max() <= 2 * s
        assert stats.kstest(w, stats.truncnorm(-2, 2, scale=s).cdf).pvalue > 1e-3
        assert stats.kstest(w, stats.norm(scale=np.sqrt(2.0 / fans)).cdf).pvalue < 1e-6
        assert abs(w.var() / (2.0 / fans) - 1) < 0.02
    for seed in range(20):         # small matrices too: nothing outside ±2s survives
        P = rnnzoo.make("lmu", 2, 3, memory_size=2, seed=seed).params
        for name, fans in (("W_x", 5), ("W_h", 6), ("W_m", 5)):
            assert np.abs(P[name]).max() <= 2 * np.sqrt(2.0 / fans) / 0.87962566103423978


def smooth(t):
    return np.sin(2 * np.pi * t / 150) + 0.5 * np.cos(2 * np.pi * t / 97)


def window_error(order, theta=100.0, T=600):
    """u_t = x_t (e_x = 1, e_h = e_m = 0) smooth; the window decoded from m_599,
    Σ_n P_n(2θ'/θ - 1) m_n, against u(599 - θ' + 1/2) for θ' = 0, .., θ (u is held over
    each step: the ½): the largest error."""
    cell = rnnzoo.make("lmu", 1, 3, theta=theta, memory_size=order)
    cell.params["e_x"][:] = 1.0
    cell.params["e_h"][:] = 0.0
    x = smooth(np.arange(T, dtype=np.float64))[:, None, None]
    _, (_, m_T), _ = cell.forward(x)
    delays = np.arange(int(theta) + 1)
    decoded = window_decoder(order, delays, theta) @ m_T[0]
    return np.abs(decoded - smooth(T - 1 - delays + 0.5)).max()


def test_the_memory_holds_the_last_theta_inputs():
    """θ = 100: d = 12 reads the whole window back to 1.6e-3 (of an input of amplitude
    1.5); d = 6 is too few polynomials for it (5.8e-2), and d = 20 too many for 100 held
    steps (4.1e-3: its high polynomials resolve the staircase of the held input)."""
    errors = {d: window_error(d) for d in (6, 12, 20)}
    assert errors[12] < 1.6e-3
    assert errors[6] > 10 * errors[12]
    assert errors[20] > errors[12]


def test_the_decoder_is_the_shifted_legendre_polynomials():
    r = np.linspace(0, 1, 11)
    P = window_decoder(5, 7.0 * r, 7.0)
    for n in range(5):
        np.testing.assert_allclose(P[:, n], special.eval_sh_legendre(n, r), atol=1e-13)


@pytest.mark.parametrize("order,theta", [(1, 1.0), (12, 100.0), (64, 30.0), (256, 784.0)])
def test_the_memory_is_stable(order, theta):
    """Ā's eigenvalues lie inside the unit circle: the memory forgets, it never grows."""
    A_bar, _ = zero_order_hold(*legendre_delay(order, theta))
    assert np.abs(np.linalg.eigvals(A_bar)).max() < 1.0


@pytest.mark.parametrize("opts", [{}, {"theta": 3.0, "memory_size": 5}])
def test_finite_differences_over_a_longer_sequence(opts, rng):
    """Every parameter, x, h_0 and m_0 on 25 steps (the registry suite checks 6)."""
    cell = rnnzoo.make("lmu", 3, 4, seed=2, **opts)
    cell.params["e_m"] += 0.3 * rng.standard_normal(cell.memory_size)
    report = rnnzoo.gradcheck(cell, rng.standard_normal((25, 2, 3)), seed=3)
    assert {r.name for r in report.rows} == {"e_x", "e_h", "e_m", "W_x", "W_h", "W_m", "x",
                                             "h0", "m0"}
    assert report.passed, report.table()


@pytest.mark.parametrize("opts,match", [
    ({"theta": 0.0}, r"theta must be a finite real number in \(0.0, inf\]; got 0.0"),
    ({"theta": -5.0}, r"theta must be .*; got -5.0"),
    ({"theta": 1e-308}, r"theta must be large enough for a finite exp\(A / theta\) at "
                        r"memory_size=12; got 1e-308"),
    ({"memory_size": 0}, r"memory_size must be an integer >= 1; got 0")])
def test_options_are_checked(opts, match):
    raises(ValueError, match, rnnzoo.make, "lmu", 2, 3, **opts)


def test_the_state_is_h_and_m(rng):
    cell = rnnzoo.make("lmu", 2, 3, memory_size=7)
    assert cell.state_names == ("h", "m")
    assert [s.shape for s in cell.initial_state(4)] == [(4, 3), (4, 7)]
