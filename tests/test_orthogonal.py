"""The orthogonal RNN: W stays orthogonal, the gradient norm is preserved, the
parametrizations are the papers' formulas, and the eigendecomposition expm (the code
CuPy runs too) agrees with SciPy.

The contract suite and the finite-difference check of every tensor (including S through
expm's Fréchet derivative and the Cayley gradient) run from the registry
(tests/test_contract.py, tests/test_gradients.py); these are the cell's own proofs.
"""
import numpy as np
import pytest
import scipy.linalg
from threadpoolctl import threadpool_limits

import rnnzoo
from rnnzoo.cells.expm import expm_skew, expm_skew_backward
from rnnzoo.optim import Adam

PARAMETRIZATIONS = [{"parametrization": "exp"},
                    {"parametrization": "cayley", "n_negative": 3}]


def random_skew_S(cell, rng, scale=1.0):
    """Put a generic (not block-diagonal) A = S - S^T into the cell."""
    H = cell.hidden_size
    cell.params["S"][...] = np.triu(scale * rng.standard_normal((H, H)), 1)


def orthogonality_error(W):
    """||W^T W - I||_F."""
    return np.linalg.norm(W.T @ W - np.eye(W.shape[0]))


@pytest.mark.parametrize("opts", PARAMETRIZATIONS)
def test_recurrent_matrix_is_the_papers_formula(opts, rng):
    """W = expm(S - S^T), or (I + A)^-1 (I - A) D with D's last n_negative entries -1;
    orthogonal to round-off (a pass: errors ~1e-15), returned as a host NumPy array."""
    cell = rnnzoo.make("orthogonal", 3, 7, seed=0, **opts)
    random_skew_S(cell, rng)
    A = np.triu(cell.params["S"], 1)
    A = A - A.T
    W = cell.recurrent_matrix()
    assert isinstance(W, np.ndarray) and W.shape == (7, 7)
    if opts["parametrization"] == "exp":
        expected = scipy.linalg.expm(A)
    else:
        D = np.diag([1.0] * 4 + [-1.0] * 3)
        expected = np.linalg.inv(np.eye(7) + A) @ (np.eye(7) - A) @ D
        assert np.linalg.det(W) == pytest.approx(-1.0)       # (-1)^3: D reaches O^-(n)
    np.testing.assert_allclose(W, expected, atol=1e-13)
    assert orthogonality_error(W) < 1e-14


def test_cayley_gradient_is_the_papers_skew_gradient(rng):
    """scoRNN's dL/dA = V^T - V, V = (I + A)^-T G (D + W^T), is already the gradient on
    the skew-symmetric A: dL/dS is its upper triangle, not twice it (the unconstrained
    dL/dA is -V, and dL/dS_ij = dL/dA_ij - dL/dA_ji). A pass: ~1e-15."""
    cell = rnnzoo.make("orthogonal", 3, 7, seed=0, parametrization="cayley", n_negative=3)
    random_skew_S(cell, rng)
    W, saved = cell.assemble()
    A, _ = saved
    G = rng.standard_normal(W.shape)
    D = np.diag([1.0] * 4 + [-1.0] * 3)
    V = np.linalg.inv((np.eye(7) + A).T) @ G @ (D + W.T)
    np.testing.assert_allclose(cell.assemble_backward(G, saved), np.triu(V.T - V, 1),
                               atol=1e-13)


@pytest.mark.parametrize("opts", PARAMETRIZATIONS)
def test_forward_uses_w_on_h_from_the_left(opts, rng):
    """Column-vector convention: with x = 0, b = 0 and phi = identity, h_1 = W h_0."""
    cell = rnnzoo.make("orthogonal", 2, 5, seed=1, nonlinearity="identity", **opts)
    random_skew_S(cell, rng)
    h0 = rng.standard_normal((3, 5))
    hs, _, _ = cell.forward(np.zeros((1, 3, 2)), (h0,))
    np.testing.assert_allclose(hs[0], h0 @ cell.recurrent_matrix().T, atol=1e-14)


@pytest.mark.parametrize("opts", PARAMETRIZATIONS)
def test_stays_orthogonal_after_10000_large_lr_steps(opts):
    """||W^T W - I||_F < 1e-12 after 10,000 Adam steps at lr = 1.0 (10^3-10^4 times
    the authors' rates for S) in float64, the gradient on W a fresh random matrix each
    step, backpropagated to S by the cell's own assemble_backward. Nothing re-projects
    W: it is orthogonal because it is computed from S, whatever S becomes (its entries
    reach ~100). A pass: ~1e-15 for both. About 2 s."""
    cell = rnnzoo.make("orthogonal", 1, 6, seed=0, **opts)
    opt = Adam({"S": cell.params["S"]}, lr=1.0)
    rng = np.random.default_rng(0)
    with threadpool_limits(1):          # 6x6 LAPACK calls: threads only add contention
        for _ in range(10_000):
            W, saved = cell.assemble()
            opt.step({"S": cell.assemble_backward(rng.standard_normal(W.shape), saved)})
    assert np.abs(cell.params["S"]).max() > 10                  # S really moved far
    assert orthogonality_error(cell.recurrent_matrix()) < 1e-12


@pytest.mark.parametrize("opts", PARAMETRIZATIONS)
def test_training_steps_keep_w_orthogonal(opts, rng):
    """The same through the whole cell: 300 forward/backward/Adam steps at lr = 0.1."""
    cell = rnnzoo.make("orthogonal", 2, 6, seed=0, **opts)
    opt = Adam(cell.params, lr=0.1)
    x = rng.standard_normal((4, 3, 2))
    with threadpool_limits(1):
        for _ in range(300):
            hs, _, cache = cell.forward(x)
            _, _, grads = cell.backward(rng.standard_normal(hs.shape), cache)
            opt.step(grads)
    assert np.array_equal(np.tril(cell.params["S"]), np.zeros((6, 6)))   # unused part stays 0
    assert orthogonality_error(cell.recurrent_matrix()) < 1e-13


@pytest.mark.parametrize("opts", PARAMETRIZATIONS)
def test_identity_phi_preserves_the_gradient_norm_over_2000_steps(opts, rng):
    """With phi = identity, dL/dh_{t-1} = W^T dL/dh_t, so with the loss on the last step
    ||dL/dh_t|| is the same at every one of 2,000 steps: constant to 1e-10 relative (a
    pass: ~1e-13, the round-off of 2,000 products by an orthogonal matrix)."""
    cell = rnnzoo.make("orthogonal", 2, 16, seed=0, nonlinearity="identity", **opts)
    random_skew_S(cell, rng)
    hs, _, cache = cell.forward(rng.standard_normal((2000, 2, 2)))
    dhs = np.zeros_like(hs)
    dhs[-1] = rng.standard_normal((2, 16))
    _, _, grads = cell.backward(dhs, cache)
    ref = np.linalg.norm(dhs[-1])
    assert np.abs(grads.dh_norm / ref - 1.0).max() < 1e-10


def test_tanh_and_modrelu_do_not_preserve_it(rng):
    """The contrast: a nonlinearity between the orthogonal steps can only shrink the
    gradient (|phi'| <= 1), so after 500 steps it is smaller than at the last step."""
    for phi in ("tanh", "modrelu"):
        cell = rnnzoo.make("orthogonal", 2, 16, seed=0, nonlinearity=phi)
        hs, _, cache = cell.forward(rng.standard_normal((500, 2, 2)))
        dhs = np.zeros_like(hs)
        dhs[-1] = rng.standard_normal((2, 16))
        _, _, grads = cell.backward(dhs, cache)
        assert grads.dh_norm[0] < grads.dh_norm[-1]


@pytest.mark.parametrize("scale", [1e-3, 0.5, 4.0, 40.0, 400.0])
@pytest.mark.parametrize("n", [7, 8])
def test_expm_skew_matches_scipy_and_stays_orthogonal(scale, n, rng):
    """The eigendecomposition expm and its Fréchet adjoint (the code CuPy runs too)
    against scipy.linalg.expm and expm_frechet(A^T, G): agreement to 1e-15 x ||A||
    (the problem's own conditioning), and W^T W = I to 1e-14 at every scale. n = 8 also
    gets a 2-dimensional zero eigenspace (repeated eigenvalues)."""
    A = scale * rng.standard_normal((n, n))
    A = A - A.T
    if n == 8:
        A[:2], A[:, :2] = 0.0, 0.0
    G = rng.standard_normal((n, n))
    W, saved = expm_skew(A)
    norm = max(1.0, np.linalg.norm(A, 2))
    assert np.abs(W - scipy.linalg.expm(A)).max() < 1e-15 * 10 * norm
    assert orthogonality_error(W) < 1e-14
    L = scipy.linalg.expm_frechet(A.T, G, compute_expm=False)
    assert np.abs(expm_skew_backward(G, saved) - L).max() < 1e-15 * 10 * norm * np.abs(L).max()


def test_init_follows_the_authors(rng):
    """2x2 skew blocks: henaff s ~ U(-pi, pi); cayley s = -tan(theta/2), theta ~ U(0,
    pi/2), so s in (-1, 0]; S is zero off the block entries; modReLU b in [-0.01, 0.01]
    (exp, expRNN) or 0 (cayley, scoRNN); V ~ N(0, 2/D) (exp) or U(-0.01, 0.01) (cayley).
    The draws fill their ranges: V's mean is ~0 (|mean| < 0.03, about seven standard
    errors at 2560 draws), and some cayley s lies above -0.3 (theta < 0.58: 37 % of
    U(0, pi/2) per block, 32 blocks)."""
    H = 64
    exp = rnnzoo.make("orthogonal", 40, H, seed=0)
    S = exp.params["S"]
    blocks = S[np.arange(0, H, 2), np.arange(1, H, 2)]
    assert np.count_nonzero(S) == H // 2 and np.abs(blocks).max() <= np.pi
    assert np.abs(exp.params["b"]).max() <= 0.01
    assert np.std(exp.params["V"]) == pytest.approx(np.sqrt(2 / 40), rel=0.1)
    assert abs(np.mean(exp.params["V"])) < 0.03
    sco = rnnzoo.make("orthogonal", 40, H + 1, seed=0, parametrization="cayley",
                      init="cayley")
    s = sco.params["S"][np.arange(0, H, 2), np.arange(1, H, 2)]
    assert np.all((s <= 0) & (s > -1)) and np.count_nonzero(sco.params["S"]) == H // 2
    assert s.max() > -0.3
    assert np.all(sco.params["b"] == 0) and np.abs(sco.params["V"]).max() <= 0.01


@pytest.mark.parametrize("opts,match", [
    ({"parametrization": "qr"}, "parametrization must be one of"),
    ({"parametrization": 1}, "parametrization must be one of"),
    ({"nonlinearity": "relu"}, "nonlinearity must be one of"),
    ({"init": "haar"}, "init must be one of"),
    ({"parametrization": "cayley", "n_negative": -1}, "n_negative must be an integer >= 0"),
    ({"parametrization": "cayley", "n_negative": 2.0}, "n_negative must be an integer"),
    ({"parametrization": "cayley", "n_negative": True}, "n_negative must be an integer"),
    ({"parametrization": "cayley", "n_negative": 6}, "an integer >= 0 and <= 5; got 6"),
    ({"n_negative": 1}, "belongs to parametrization='cayley'"),
])
def test_bad_options_are_refused(opts, match):
    with pytest.raises(ValueError, match=match):
        rnnzoo.make("orthogonal", 2, 5, **opts)


def test_numpy_integer_options_are_accepted():
    cell = rnnzoo.make("orthogonal", 2, 5, parametrization="cayley", n_negative=np.int64(2))
    assert np.linalg.det(cell.recurrent_matrix()) == pytest.approx(1.0)
