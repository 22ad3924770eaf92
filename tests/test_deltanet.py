"""DeltaNet and Gated DeltaNet (rnnzoo/cells/deltanet.py, gated_deltanet.py, _delta_rule.py)
against the authors' reference code, and their teaching claims checked on computed data.

* The forward equals a float64 port of fla-org/flash-linear-attention's naive recurrent
  references (``delta_rule_recurrence`` in fla/ops/delta_rule/naive.py and
  ``naive_recurrent_gated_delta_rule`` in fla/ops/gated_delta_rule/naive.py), written
  again here from their formulas in their layout (state (d_k, d_v), log-decay g, β
  times 2 for ``allow_neg_eigval``), with scale = 1 (the papers' o_t = S_t q_t), to 1e-12.
* The initialization has the distribution of fla's GatedDeltaNet layer (nn.Linear's
  U(±1/√D), A ~ U(0, 16), softplus(dt_bias) log-uniform on [1e-3, 0.1]): seeded
  Kolmogorov-Smirnov tests, which reject the neighbouring wrong distributions.
* I − βk̂k̂ᵀ has eigenvalues {1 − β, 1, ..., 1} for unit k̂; with beta_range=2 a forward
  reaches an eigenvalue below 0, with beta_range=1 never; the backward carries dL/dS
  through exactly α (I − βk̂k̂ᵀ); the write is one regression step (β = 1: S k̂ = v).
A pass: agreement to 1e-12 (round-off is about 1e-15); a wrong sign or a missing term is
off by O(1).
"""
import numpy as np
import pytest
from scipy import stats

import rnnzoo

CELLS = ["deltanet", "gated_deltanet"]


# ------------------------------------------------------------------ fla's code, ported
def fla_l2norm(x):
    """fla's l2norm: x * rsqrt(sum(x^2) + 1e-6) over the last axis."""
    return x / np.sqrt(np.sum(x * x, axis=-1, keepdims=True) + 1e-6)


def fla_naive_recurrent(q, k, v, beta, g=None, scale=1.0, initial_state=None):
    """The naive recurrent gated delta rule in fla's layout: q, k (b, h, l, d_k), v
    (b, h, l, d_v), beta and the log-decay g (b, h, l); state h (b, h, d_k, d_v).
    g = None: the ungated ``delta_rule_recurrence``."""
    b, nh, length, d_k = q.shape
    o = np.zeros(v.shape)
    h = np.zeros((b, nh, d_k, v.shape[-1])) if initial_state is None else initial_state.copy()
    q = q * scale
    for i in range(length):
        if g is not None:
            h = h * np.exp(g[:, :, i])[..., None, None]           # decay first
        v_i = v[:, :, i] - (h * k[:, :, i][..., None]).sum(-2)   # v - hᵀ k
        v_i = v_i * beta[:, :, i][..., None]
        h = h + k[:, :, i][..., None] * v_i[..., None, :]        # h += k v_iᵀ
        o[:, :, i] = np.einsum("bhd,bhdm->bhm", q[:, :, i], h)
    return o, h


def fla_inputs(cell, x):
    """q, k, v, beta, g from x (T, B, D) as fla's layers compute them (no conv, no SiLU:
    the issue's cell), in fla's (b, h, l, .) layout."""
    P, n, T, B = cell.params, cell.heads, x.shape[0], x.shape[1]

    def heads(a):                                     # (T, B, n*d) -> (B, n, T, d)
        return a.reshape(T, B, n, -1).transpose(1, 2, 0, 3)
    q, k = fla_l2norm(heads(x @ P["W_q"].T)), fla_l2norm(heads(x @ P["W_k"].T))
    v = heads(x @ P["W_v"].T)
    beta = (1.0 / (1.0 + np.exp(-(x @ P["w_beta"].T)))).transpose(1, 2, 0)
    if cell.beta_range == 2.0:                        # allow_neg_eigval
        beta = beta * 2.0
    g = None
    if "A_log" in P:
        a = x @ P["W_a"].T + P["dt_bias"]
        g = (-np.exp(P["A_log"]) * np.logaddexp(0.0, a)).transpose(1, 2, 0)
    return q, k, v, beta, g


@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize("opts", [{}, {"heads": 2}, {"heads": 3, "beta_range": 2.0}])
def test_forward_equals_flas_naive_recurrent_reference(name, opts):
    rng = np.random.default_rng(0)
    cell = rnnzoo.make(name, 5, 6, seed=1, **opts)
    for p in cell.params.values():                   # off the initialization
        p += 0.3 * rng.standard_normal(p.shape)
    x = rng.standard_normal((9, 3, 5))
    S0 = rng.standard_normal(cell.initial_state(3)[0].shape)
    hs, (S_T,), _ = cell.forward(x, (S0,))
    o, h = fla_naive_recurrent(*fla_inputs(cell, x), initial_state=S0.swapaxes(-1, -2))
    np.testing.assert_allclose(hs, o.transpose(2, 0, 1, 3).reshape(hs.shape),
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(S_T, h.swapaxes(-1, -2), rtol=0, atol=1e-12)
    # fla's own scale, d_k^(-1/2), scales every o_t by it: the one place this cell differs
    o_scaled, _ = fla_naive_recurrent(*fla_inputs(cell, x), scale=cell.d ** -0.5,
                                      initial_state=S0.swapaxes(-1, -2))
    np.testing.assert_allclose(o_scaled, o * cell.d ** -0.5, rtol=1e-12, atol=1e-14)


def ks_p(sample, dist, *args):
    return stats.kstest(np.ravel(sample), dist, args=args).pvalue


def test_initialization_has_the_authors_distribution():
    """U(±1/√D) for every projection, A = e^A_log ~ U(0, 16), log softplus(dt_bias)
    uniform on [log 1e-3, log 0.1]: KS p-values well above 1e-3 (seeded, so fixed), and
    the same tests reject a neighbouring wrong distribution (p < 1e-6)."""
    D, H = 16, 512
    cell = rnnzoo.make("gated_deltanet", D, H, heads=H, seed=0)   # d = 1: 512 gates
    P, b = cell.params, 1.0 / np.sqrt(D)
    for name in cell.projected:
        assert ks_p(P[name], "uniform", -b, 2 * b) > 1e-3, name
        assert ks_p(P[name], "uniform", -1.3 * b, 2.6 * b) < 1e-6, name
    A = np.exp(P["A_log"])
    assert ks_p(A, "uniform", 0.0, 16.0) > 1e-3
    assert ks_p(A, "uniform", 0.0, 12.0) < 1e-6
    log_dt = np.log(np.logaddexp(0.0, P["dt_bias"]))             # log Δ = log softplus(b_dt)
    lo, hi = np.log(1e-3), np.log(1e-1)
    assert ks_p(log_dt, "uniform", lo, hi - lo) > 1e-3
    assert ks_p(np.exp(log_dt), "uniform", 1e-3, 0.1 - 1e-3) < 1e-6   # not uniform in Δ
    assert np.all(A > 0) and np.all(A <= 16)
    plain = rnnzoo.make("deltanet", D, H, seed=0)
    assert list(plain.params) == ["W_q", "W_k", "W_v", "w_beta"]


def test_householder_map_has_eigenvalues_one_minus_beta_and_ones():
    """For unit k̂, I − βk̂k̂ᵀ: 1 − β once (along k̂), 1 on k̂'s orthogonal complement."""
    cell = rnnzoo.make("deltanet", 3, 6)
    rng = np.random.default_rng(2)
    for beta in (0.3, 1.0, 1.7):
        k = rng.standard_normal(6)
        k /= np.linalg.norm(k)
        np.testing.assert_allclose(cell.recurrent_eigenvalues(k, beta),
                                   [1.0 - beta] + [1.0] * 5, atol=1e-14)
        M = np.eye(6) - beta * np.outer(k, k)
        np.testing.assert_allclose(M @ k, (1.0 - beta) * k, atol=1e-14)


@pytest.mark.parametrize("name", CELLS)
def test_beta_range_2_reaches_a_negative_eigenvalue_and_1_never(name):
    """From real forwards: min over steps of 1 − β_t‖k̂_t‖² (the smallest eigenvalue of
    I − β_t k̂_t k̂_tᵀ) is below 0 with beta_range=2 and above 0 with beta_range=1, on the
    same weights with w_β made large (so σ(w_β x) spreads over (0, 1))."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((50, 4, 3))
    lowest = {}
    for r in (1.0, 2.0):
        cell = rnnzoo.make(name, 3, 4, beta_range=r, seed=1)
        cell.params["w_beta"] *= 10.0
        _, _, cache = cell.forward(x)
        k, beta = cache.k[:, :, 0], cache.beta[:, :, 0]               # head 0
        eig = np.array([cell.recurrent_eigenvalues(k[t, b], beta[t, b])[0]
                        for t in range(50) for b in range(4)])
        np.testing.assert_allclose(eig, (1.0 - beta * (k ** 2).sum(-1)).ravel(), atol=1e-12)
        lowest[r] = eig.min()
    assert lowest[1.0] > 0.0
    assert lowest[2.0] < -0.5


@pytest.mark.parametrize("name", CELLS)
def test_the_gradient_through_S_is_multiplied_by_the_householder_map(name):
    """One step, no loss on o: dL/dS_0 = α dL/dS_1 (I − βk̂k̂ᵀ) exactly (the error term's
    and the write's parts combine into it), so with β ∈ (0, 1) its norm never grows."""
    rng = np.random.default_rng(4)
    cell = rnnzoo.make(name, 3, 6, heads=2, seed=2)
    x = rng.standard_normal((1, 5, 3))
    _, _, cache = cell.forward(x, (rng.standard_normal((5, 2, 3, 3)),))
    G = rng.standard_normal((5, 2, 3, 3))
    _, (dS0,), _ = cell.backward(None, cache, (G,))
    k, beta = cache.k[0], cache.beta[0]
    alpha = cache.alpha[0] if name == "gated_deltanet" else np.ones_like(beta)
    M = np.eye(3) - beta[..., None, None] * np.einsum("bhi,bhj->bhij", k, k)
    np.testing.assert_allclose(dS0, alpha[..., None, None] * (G @ M), rtol=1e-12, atol=1e-14)
    assert np.all(np.linalg.norm(dS0, axis=(-2, -1)) <= np.linalg.norm(G, axis=(-2, -1)))


def test_the_delta_rule_is_one_regression_step():
    """With β = 1 (beta_range=2, w_β = 0: σ(0) = 1/2) the write replaces what S returned
    for k̂ by v: S_t k̂ = (1 − ‖k̂‖²) S_{t−1} k̂ + ‖k̂‖² v exactly, ‖k̂‖² = 1 − ε/(‖k‖² + ε),
    so the old error S_{t−1} k̂ − v is multiplied by ε/(‖k‖² + ε); linear attention (no
    correction) would give S_{t−1} k̂ + ‖k̂‖² v."""
    rng = np.random.default_rng(5)
    cell = rnnzoo.make("deltanet", 3, 4, beta_range=2.0, seed=3)
    cell.params["w_beta"][:] = 0.0
    x = rng.standard_normal((1, 2, 3))
    S0 = rng.standard_normal((2, 1, 4, 4))
    _, (S1,), cache = cell.forward(x, (S0,))
    k, v = cache.k[0, :, 0], cache.v[0, :, 0]
    kk = (k ** 2).sum(-1, keepdims=True)
    read0, read1 = np.einsum("bij,bj->bi", S0[:, 0], k), np.einsum("bij,bj->bi", S1[:, 0], k)
    np.testing.assert_allclose(read1, (1 - kk) * read0 + kk * v, rtol=1e-12, atol=1e-12)
    k_raw = x[0] @ cell.params["W_k"].T
    np.testing.assert_allclose(kk[:, 0], 1 - 1e-6 / ((k_raw ** 2).sum(-1) + 1e-6), rtol=1e-14)
    assert np.all(1 - kk < 1e-4)                      # here: S_1 k̂ = v to 1e-4 of the old error


def test_the_gate_is_exp_of_minus_A_softplus():
    """α_t = exp(−e^A_log softplus(W_a x_t + b_dt)) ∈ (0, 1); at x = 0, exp(−A Δ)."""
    cell = rnnzoo.make("gated_deltanet", 3, 8, heads=4, seed=6)
    rng = np.random.default_rng(6)
    _, _, cache = cell.forward(rng.standard_normal((7, 2, 3)))
    assert np.all((cache.alpha > 0) & (cache.alpha < 1))
    _, _, cache0 = cell.forward(np.zeros((1, 1, 3)))
    A, dt = np.exp(cell.params["A_log"]), np.logaddexp(0.0, cell.params["dt_bias"])
    np.testing.assert_allclose(cache0.alpha[0, 0], np.exp(-A * dt), rtol=1e-14)


@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize("opts,match", [
    ({"heads": 0}, r"heads must be an integer >= 1; got 0"),
    ({"heads": True}, r"heads must be an integer >= 1; got True"),
    ({"heads": 3}, r"heads must divide hidden_size .*got heads=3, hidden_size=4"),
    ({"beta_range": 0}, r"beta_range must be a finite real number in \(0.0, 2.0\]; got 0"),
    ({"beta_range": 2.5}, r"beta_range must be .*; got 2.5"),
    ({"beta_range": float("nan")}, r"beta_range must be .*; got nan"),
    ({"beta_range": "2"}, r"beta_range must be .*; got '2'"),
])
def test_bad_options_are_refused_naming_them(name, opts, match):
    with pytest.raises(ValueError, match=match):
        rnnzoo.make(name, 3, 4, **opts)


@pytest.mark.parametrize("name", CELLS)
def test_square_cell_keeps_the_contract(name):
    """D = H with several heads (the suites build D = 3, H = 4)."""
    from .test_contract import check_square_contract
    check_square_contract(name, {"heads": 2}, np.random.default_rng(7))
