"""The Elman RNN's own options: PyTorch's default initialization, the IRNN of Le, Jaitly &
Hinton (2015), and the echo-state rescaling of W_hh to a chosen spectral radius.

The forward and backward are checked for every variant by the registry-driven suites
(test_contract, test_gradients, test_reference); this file checks what those cannot see:
the initial weights each option promises, and the refusals of bad option values.
"""
import numpy as np
import pytest

import rnnzoo

from .hostile import raises


def test_default_init_is_pytorchs_uniform_bound():
    """Every parameter ~ U(-1/√H, 1/√H), as torch.nn.RNN: with H = 100 the extremes come
    within 2 % of the bound and never pass it; W_hh is no identity."""
    cell = rnnzoo.make("rnn", 30, 100, seed=0)
    bound = 1 / np.sqrt(100)
    for name, p in cell.params.items():
        assert np.abs(p).max() <= bound, name
        assert np.abs(p).max() > 0.98 * bound, name
    assert cell.nonlinearity == "tanh" and not cell.identity_init


def test_irnn_init_is_the_papers():
    """W_hh = s I (s = 1 unless identity_scale says), zero biases, W_ih ~ N(0, 0.001²)."""
    cell = rnnzoo.make("rnn", 50, 40, seed=0, nonlinearity="relu", identity_init=True)
    np.testing.assert_array_equal(cell.params["W_hh"], np.eye(40))
    assert not cell.params["b_ih"].any() and not cell.params["b_hh"].any()
    W_ih = cell.params["W_ih"]                                  # 2,000 draws
    assert W_ih.std() == pytest.approx(0.001, rel=0.05)
    assert abs(W_ih.mean()) < 1e-4                              # 4.5 standard errors
    scaled = rnnzoo.make("rnn", 5, 4, identity_init=True, identity_scale=0.9)
    np.testing.assert_array_equal(scaled.params["W_hh"], 0.9 * np.eye(4))


@pytest.mark.parametrize("rho", [0.5, 1.5, 3])
def test_spectral_radius_rescales_w_hh(rho):
    """The largest eigenvalue modulus of W_hh is rho; the other parameters are the default
    init's, and W_hh keeps its direction (a positive multiple of the default)."""
    plain = rnnzoo.make("rnn", 3, 20, seed=4)
    cell = rnnzoo.make("rnn", 3, 20, seed=4, spectral_radius=rho)
    W = cell.params["W_hh"]
    assert np.abs(np.linalg.eigvals(W)).max() == pytest.approx(rho, rel=1e-12)
    ratio = W / plain.params["W_hh"]
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-12)
    assert ratio.flat[0] > 0
    for name in ("W_ih", "b_ih", "b_hh"):
        np.testing.assert_array_equal(cell.params[name], plain.params[name])


def test_a_radius_below_1_does_not_rule_out_exploding_gradients():
    """The docstring's claim: with tanh, the necessary condition is a singular value
    above 1, not the spectral radius. W_hh = [[1.5, 1], [-2, -1.5]] has radius 0.5 (and
    largest singular value 3.1); with unit 2 saturated its step Jacobian is about
    diag(1, 0) W_hh, radius 1.5, and dL/dh grows over 40 steps by over 1e5 (a pass:
    1.7e6)."""
    cell = rnnzoo.make("rnn", 1, 2, seed=0)
    W = np.array([[1.5, 1.0], [-2.0, -1.5]])
    assert np.abs(np.linalg.eigvals(W)).max() == pytest.approx(0.5)
    cell.params["W_hh"][...] = W
    cell.params["W_ih"][...] = 0.0
    cell.params["b_ih"][...] = [1.0, -10.0]          # unit 2 at -1, unit 1 near 0
    cell.params["b_hh"][...] = 0.0
    hs, _, cache = cell.forward(np.zeros((40, 1, 1)), (np.array([[0.0, -1.0]]),))
    dhs = np.zeros_like(hs)
    dhs[-1] = [[1.0, 0.0]]
    _, _, grads = cell.backward(dhs, cache)
    assert grads.dh_norm[0] / grads.dh_norm[-1] > 1e5


@pytest.mark.parametrize("rho", [0, -1.0, float("nan"), float("inf"), True, "1", [1.0]])
def test_a_bad_spectral_radius_is_refused(rho):
    raises(ValueError, "spectral_radius must be None or a positive finite number; got",
           rnnzoo.make, "rnn", 3, 4, spectral_radius=rho)


def test_spectral_radius_accepts_numpy_numbers():
    cell = rnnzoo.make("rnn", 3, 6, spectral_radius=np.float32(0.8))
    assert np.abs(np.linalg.eigvals(cell.params["W_hh"])).max() == pytest.approx(0.8)


def test_spectral_radius_and_identity_init_both_set_w_hh():
    raises(ValueError, "spectral_radius and identity_init both set W_hh",
           rnnzoo.make, "rnn", 3, 4, spectral_radius=0.9, identity_init=True)
