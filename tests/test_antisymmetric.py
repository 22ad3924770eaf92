"""AntisymmetricRNN: against an independent float64 port of the public PyTorch code, its
initialization, and the spectrum its teaching point rests on.

The oracle below re-implements, in NumPy, the formulas of the public PyTorch
AntisymmetricRNN (``AntisymmetricRNNCell.update`` and ``AntisymmetricGatingRNNCell.forward``
in its ``models.py``; there is no official code) in that code's own layout: row vectors
multiplied on the right, ``h @ (W - W.T - gamma I)``, weights V of shape (D, H). The cell
follows the paper's column form, so the oracle gets the cell's W transposed. A pass: the
cell's hs agree with it to 1e-12 (both are float64 sums in a different order); a sign or
transpose slip is off by O(ε).
"""
import numpy as np
import pytest
from scipy import stats

import rnnzoo


def oracle(x, h, W, Vh_weight, Vh_bias, eps, gamma, Vz_weight=None, Vz_bias=None):
    """The PyTorch AntisymmetricRNN's forward loop over x (T, B, D), in its layout."""
    out = []
    skew = W - W.T - gamma * np.eye(len(W))
    for x_t in x:
        WmWT_h = h @ skew
        f = np.tanh(WmWT_h + x_t @ Vh_weight + Vh_bias)
        if Vz_weight is not None:
            f = f * (1.0 / (1.0 + np.exp(-(WmWT_h + x_t @ Vz_weight + Vz_bias))))
        h = h + eps * f
        out.append(h)
    return np.stack(out)


@pytest.mark.parametrize("gated", [False, True])
@pytest.mark.parametrize("eps,gamma", [(0.01, 0.01), (0.4, 0.2)])
def test_forward_equals_the_pytorch_formulas(gated, eps, gamma):
    rng = np.random.default_rng(0)
    cell = rnnzoo.make("antisymmetric", 3, 5, seed=1, eps=eps, gamma=gamma, gated=gated)
    for p in cell.params.values():                   # off the init's zero biases
        p += 0.3 * rng.standard_normal(p.shape)
    P = cell.params
    x, h0 = rng.standard_normal((7, 2, 3)), rng.standard_normal((2, 5))
    hs, (h_T,), _ = cell.forward(x, (h0,))
    gate = (P["V_z"].T, P["b_z"]) if gated else ()
    expected = oracle(x, h0, P["W"].T, P["V_h"].T, P["b_h"], eps, gamma, *gate)
    np.testing.assert_allclose(hs, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(h_T, hs[-1])


def test_initialization_is_the_reference_codes():
    """W ~ N(0, (init_std / H)^2), V_h and V_z ~ N(0, (1 / D)^2), b_h = 0, b_z = 1: a
    Kolmogorov-Smirnov test of each weight against its normal (a pass: p > 1e-3; the
    wrong scale, 1/sqrt(H) for 1/H, gives p ~ 0)."""
    D, H = 40, 150
    cell = rnnzoo.make("antisymmetric", D, H, seed=4, gated=True, init_std=2.0)
    P = cell.params
    for name, std in [("W", 2.0 / H), ("V_h", 1.0 / D), ("V_z", 1.0 / D)]:
        assert stats.kstest(P[name].ravel(), "norm", args=(0.0, std)).pvalue > 1e-3, name
        assert stats.kstest(P[name].ravel(), "norm", args=(0.0, 1.2 * std)).pvalue < 1e-6
    np.testing.assert_array_equal(P["b_h"], 0.0)
    np.testing.assert_array_equal(P["b_z"], 1.0)
    assert set(rnnzoo.make("antisymmetric", D, H).params) == {"W", "V_h", "b_h"}


@pytest.mark.parametrize("gamma", [0.0, 0.01, 0.3])
def test_the_recurrence_matrix_has_eigenvalues_with_real_part_exactly_minus_gamma(gamma):
    """The teaching point: W - Wᵀ is real antisymmetric, so its eigenvalues are purely
    imaginary, and those of M = W - Wᵀ - γI are -γ + iω. A pass: every real part is -γ
    to round-off (1e-12 relative to ||M||), for any W, not only at initialization."""
    rng = np.random.default_rng(2)
    cell = rnnzoo.make("antisymmetric", 3, 60, seed=0, gamma=gamma)
    cell.params["W"] += rng.standard_normal((60, 60))      # any W, far from the init
    M = cell.recurrence_matrix()
    lam = np.linalg.eigvals(M)
    scale = np.linalg.norm(M, 2)
    np.testing.assert_allclose(lam.real, -gamma, atol=1e-12 * scale)
    assert np.abs(lam.imag).max() > 0.1 * scale              # the oscillation is there


def test_gamma_and_eps_set_the_euler_steps_stability():
    """The linearized step I + εM has eigenvalues 1 + ε(-γ + iω): with γ = 0 every
    |1 + iεω| > 1 (forward Euler leaves the imaginary axis outward); with ε(γ² + ω²) <= 2γ
    every modulus is <= 1."""
    rng = np.random.default_rng(3)
    W = rng.standard_normal((30, 30)) / 30
    for gamma, eps, stable in [(0.0, 0.5, False), (0.5, 0.1, True)]:
        cell = rnnzoo.make("antisymmetric", 2, 30, gamma=gamma, eps=eps)
        cell.params["W"][...] = W
        lam = np.linalg.eigvals(cell.recurrence_matrix())
        radius = np.abs(1.0 + eps * lam).max()
        assert eps * (gamma ** 2 + np.abs(lam.imag).max() ** 2) <= 2 * gamma or not stable
        assert (radius <= 1.0) == stable, (gamma, eps, radius)


def test_an_open_gate_is_the_ungated_cell():
    """With b_z = 40 the gate σ(..) is 1 to 1e-17: the gated cell is eq. 12."""
    rng = np.random.default_rng(5)
    plain = rnnzoo.make("antisymmetric", 3, 4, seed=2, eps=0.3)
    gated = rnnzoo.make("antisymmetric", 3, 4, seed=2, eps=0.3, gated=True)
    for k in plain.params:
        gated.params[k][...] = plain.params[k]
    gated.params["b_z"][...] = 40.0
    x = rng.standard_normal((6, 2, 3))
    np.testing.assert_allclose(gated.forward(x)[0], plain.forward(x)[0], rtol=1e-14)


@pytest.mark.parametrize("opts,match", [
    ({"eps": 0.0}, r"eps must be a finite number > 0; got 0\.0"),
    ({"gamma": -0.1}, r"gamma must be a finite number >= 0; got -0\.1"),
    ({"init_std": 0}, r"init_std must be a finite number > 0; got 0"),
    ({"gated": 1}, r"gated must be True or False; got 1"),
])
def test_bad_options_are_refused_by_name(opts, match):
    with pytest.raises(ValueError, match=match):
        rnnzoo.make("antisymmetric", 3, 4, **opts)
