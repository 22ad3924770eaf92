"""The shared ops that have their own backward (modReLU, layer normalization), checked by
central differences in float64 (modReLU for real and complex inputs). A pass is an error
near 1e-9."""
import numpy as np
import pytest

from rnnzoo.core.ops import layer_norm, layer_norm_backward, modrelu, modrelu_backward


def _loss(G, z, b, eps):
    # a real scalar of a (possibly complex) output: sum of Re(conj(G) * out), so that
    # dL/dout is G in the library's convention dL/dRe + i dL/dIm
    return float(np.sum((np.conj(G) * modrelu(z, b, eps)[0]).real))


@pytest.mark.parametrize("complex_,eps", [(False, 0.0), (False, 1e-3), (True, 1e-5),
                                          (True, 0.0)])
def test_modrelu_backward_matches_central_differences(complex_, eps):
    rng = np.random.default_rng(0)
    B, N, h = 3, 5, 1e-6
    draw = (lambda: rng.standard_normal((B, N)) + 1j * rng.standard_normal((B, N))) \
        if complex_ else (lambda: rng.standard_normal((B, N)))
    z, G = draw(), draw()
    b = rng.uniform(-0.5, 0.5, N)
    # keep every test point away from the kink |z| + b = 0
    assert np.abs(np.abs(z) + b).min() > 1e-3
    dz, db = modrelu_backward(G, modrelu(z, b, eps)[1])
    units = (1, 1j) if complex_ else (1,)
    for i in range(B):
        for j in range(N):
            for unit in units:
                zp, zm = z.copy(), z.copy()
                zp[i, j] += h * unit
                zm[i, j] -= h * unit
                numeric = (_loss(G, zp, b, eps) - _loss(G, zm, b, eps)) / (2 * h)
                analytic = (dz[i, j] * np.conj(unit)).real
                assert analytic == pytest.approx(numeric, abs=1e-7, rel=1e-6)
    eye = np.eye(N)
    numeric_b = [(_loss(G, z, b + h * eye[k], eps) - _loss(G, z, b - h * eye[k], eps))
                 / (2 * h) for k in range(N)]
    np.testing.assert_allclose(db.sum(axis=0), numeric_b, rtol=1e-6, atol=1e-7)


def test_modrelu_real_form_is_sign_times_relu():
    z = np.array([[-2.0, -0.3, 0.4, 1.5]])
    b = np.array([0.5, 0.5, -0.5, -0.5])
    out, _ = modrelu(z, b)
    np.testing.assert_array_equal(out, np.sign(z) * np.maximum(np.abs(z) + b, 0))
    np.testing.assert_array_equal(out, [[-2.5, -0.8, 0.0, 1.0]])


def test_modrelu_keeps_the_phase_of_complex_input():
    z = np.array([[3 + 4j, -1j]])
    out, _ = modrelu(z, np.array([1.0, 2.0]), eps=0.0)
    np.testing.assert_allclose(out, [[6 / 5 * (3 + 4j), -3j]])


# ---------------------------------------------------------------- layer normalization
@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 4), (1, 2)])
def test_layer_norm_backward_matches_central_differences(shape):
    """dL/dz from layer_norm_backward, and the gain/bias gradients Σ dy⊙n and Σ dy its
    docstring gives, against central differences of L = Σ G ⊙ LN(z). H = 2 is the
    smallest case where the mean and variance paths both matter."""
    rng = np.random.default_rng(1)
    z, G = rng.standard_normal(shape), rng.standard_normal(shape)
    g, b = rng.uniform(0.5, 1.5, shape[-1]), rng.standard_normal(shape[-1])
    loss = lambda z, g, b: float(np.sum(G * layer_norm(z, g, b)[0]))   # noqa: E731
    y, saved = layer_norm(z, g, b)
    dz = layer_norm_backward(G, saved, g)
    lead = tuple(range(len(shape) - 1))
    dg, db = (G * saved[0]).sum(axis=lead), G.sum(axis=lead)
    h = 1e-6
    for target, analytic, which in ((z, dz, 0), (g, dg, 1), (b, db, 2)):
        for idx in np.ndindex(target.shape):
            args_p, args_m = [z.copy(), g.copy(), b.copy()], [z.copy(), g.copy(), b.copy()]
            args_p[which][idx] += h
            args_m[which][idx] -= h
            numeric = (loss(*args_p) - loss(*args_m)) / (2 * h)
            assert analytic[idx] == pytest.approx(numeric, abs=1e-8, rel=1e-6), (which, idx)


def test_layer_norm_normalizes_each_row_across_the_units():
    """With g = 1, b = 0 every row has mean 0 and variance var/(var + ε), ε = 1e-5 (so a
    constant row maps to 0, not to NaN)."""
    rng = np.random.default_rng(2)
    z = 3.0 + 2.0 * rng.standard_normal((4, 6))
    y, (n, rstd) = layer_norm(z, np.ones(6), np.zeros(6))
    np.testing.assert_allclose(y.mean(axis=1), 0.0, atol=1e-12)
    var = z.var(axis=1)
    np.testing.assert_allclose(y.var(axis=1), var / (var + 1e-5), rtol=1e-12)
    np.testing.assert_array_equal(y, n)
    y_const, _ = layer_norm(np.full((1, 5), 7.0), np.ones(5), np.zeros(5))
    np.testing.assert_array_equal(y_const, 0.0)
