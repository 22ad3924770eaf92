"""The shared elementwise ops that have their own backward (modReLU), checked by central
differences in float64 for real and complex inputs. A pass is an error near 1e-9."""
import numpy as np
import pytest

from rnnzoo.ops import modrelu, modrelu_backward


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
