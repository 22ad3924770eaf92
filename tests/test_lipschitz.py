"""Lipschitz RNN: against an independent float64 port of the authors' code, their
initialization, and the spectrum of A's symmetric part.

The oracle re-implements, in NumPy, the ``'LipschitzRNN'`` branch of ``RnnModels.forward``
in ``erichson/LipschitzRNN``'s ``models.py``, in that code's layout: row vectors
multiplied on the right (``h @ A``, ``h @ W``), the encoder ``E`` an ``nn.Linear`` (x @
E.weight.T + E.bias), A and W built from B and C once, before the first step. The cell
follows the paper's column form, so the oracle gets the cell's B and C transposed. A pass:
hs agree to 1e-12; a transposed B or a sign slip in β is off by O(ε).
"""
import numpy as np
import pytest
from scipy import stats

import rnnzoo


def oracle(x, h, B, C, E_weight, E_bias, eps, beta, gamma, alpha=1.0):
    """The authors' LipschitzRNN forward loop over x (T, B, D), every h_t kept."""
    I = np.eye(len(B))
    out = []
    for i, x_t in enumerate(x):
        z = x_t @ E_weight.T + E_bias
        if i == 0:
            A = beta * (B - B.T) + (1 - beta) * (B + B.T) - gamma * I
            W = beta * (C - C.T) + (1 - beta) * (C + C.T) - gamma * I
        h = h + eps * alpha * (h @ A) + eps * np.tanh(h @ W + z)
        out.append(h)
    return np.stack(out)


@pytest.mark.parametrize("eps,beta,gamma", [(0.03, 0.75, 0.001), (0.5, 0.2, 0.4),
                                            (0.2, 1.0, 0.0)])
def test_forward_equals_the_authors_formulas(eps, beta, gamma):
    rng = np.random.default_rng(0)
    cell = rnnzoo.make("lipschitz", 3, 5, seed=1, eps=eps, beta=beta, gamma=gamma)
    for p in cell.params.values():                   # B, C of O(1), not the init's 0.1/H
        p += rng.standard_normal(p.shape)
    P = cell.params
    x, h0 = rng.standard_normal((7, 2, 3)), rng.standard_normal((2, 5))
    hs, (h_T,), _ = cell.forward(x, (h0,))
    expected = oracle(x, h0, P["B"].T, P["C"].T, P["U"], P["b"], eps, beta, gamma)
    np.testing.assert_allclose(hs, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(h_T, hs[-1])


def test_defaults_and_initialization_are_the_authors():
    """ε = 0.03, β = 0.75, γ = 0.001, σ = 0.1 (README commands, driver.py); B, C ~
    N(0, (σ/H)²) (gaussian_init_), U, b ~ U(-1/√D, 1/√D) (nn.Linear). Kolmogorov-Smirnov
    against each distribution; a pass: p > 1e-3, and p < 1e-6 against a 20 % wider one."""
    D, H = 30, 150
    cell = rnnzoo.make("lipschitz", D, H, seed=6, init_std=0.5)
    assert {k: getattr(rnnzoo.make("lipschitz", 2, 3), k) for k in cell.options} == {
        "eps": 0.03, "beta": 0.75, "gamma": 0.001, "init_std": 0.1}
    P = cell.params
    for name in ("B", "C"):
        sample = P[name].ravel()
        assert stats.kstest(sample, "norm", args=(0.0, 0.5 / H)).pvalue > 1e-3, name
        assert stats.kstest(sample, "norm", args=(0.0, 0.6 / H)).pvalue < 1e-6, name
    k = 1 / np.sqrt(D)
    sample = np.concatenate([P["U"].ravel(), P["b"]])
    assert stats.kstest(sample, "uniform", args=(-k, 2 * k)).pvalue > 1e-3
    assert stats.kstest(sample, "uniform", args=(-1.2 * k, 2.4 * k)).pvalue < 1e-6


@pytest.mark.parametrize("beta", [0.0, 0.3, 0.75, 1.0])
@pytest.mark.parametrize("gamma", [0.0, 0.01, 0.5])
def test_the_symmetric_part_of_A_has_the_spectrum_the_paper_designs(beta, gamma):
    """sym(A) = (A + Aᵀ)/2 = (1 - β)(B + Bᵀ) - γI: its eigenvalues are 2(1 - β) μ_i - γ
    with μ_i those of sym(B), all exactly -γ at β = 1; the skew part's eigenvalues are
    imaginary; and every eigenvalue of A has its real part within sym(A)'s spectrum
    (Bendixson). A pass: equal to 1e-12 relative to ||A|| for an arbitrary B."""
    rng = np.random.default_rng(1)
    H = 50
    cell = rnnzoo.make("lipschitz", 2, H, beta=beta, gamma=gamma)
    B = rng.standard_normal((H, H))
    A = cell.structured(B)
    tol = 1e-12 * np.linalg.norm(A, 2)
    sym, skew = (A + A.T) / 2, (A - A.T) / 2
    mu = np.linalg.eigvalsh((B + B.T) / 2)
    np.testing.assert_allclose(np.linalg.eigvalsh(sym), 2 * (1 - beta) * mu - gamma, atol=tol)
    np.testing.assert_allclose(np.linalg.eigvals(skew).real, 0.0, atol=tol)
    np.testing.assert_allclose(skew, beta * (B - B.T), atol=tol)
    lam = np.linalg.eigvals(A).real
    lo, hi = np.linalg.eigvalsh(sym)[[0, -1]]
    assert lo - tol <= lam.min() and lam.max() <= hi + tol


def test_W_is_built_like_A_and_its_gradient_maps_back():
    """The cell builds W from C exactly as A from B (the forward's recurrent matrix), and
    structured_grad is the adjoint of that map: <G, S(M)> = <S*(G), M> for the linear
    part S(M) = M + (1 - 2β) Mᵀ."""
    rng = np.random.default_rng(2)
    cell = rnnzoo.make("lipschitz", 2, 6, beta=0.3, gamma=0.2)
    M, G = rng.standard_normal((2, 6, 6))
    S = cell.structured(M) + 0.2 * np.eye(6)
    assert np.sum(G * S) == pytest.approx(np.sum(cell.structured_grad(G) * M), rel=1e-12)


@pytest.mark.parametrize("opts,match", [
    ({"eps": 0.0}, r"eps must be a finite number > 0; got 0\.0"),
    ({"beta": 1.5}, r"beta must be a finite number >= 0 and <= 1; got 1\.5"),
    ({"beta": -0.1}, r"beta must be a finite number >= 0 and <= 1; got -0\.1"),
    ({"gamma": -1.0}, r"gamma must be a finite number >= 0; got -1\.0"),
    ({"init_std": 0.0}, r"init_std must be a finite number > 0; got 0\.0"),
])
def test_bad_options_are_refused_by_name(opts, match):
    with pytest.raises(ValueError, match=match):
        rnnzoo.make("lipschitz", 3, 4, **opts)
