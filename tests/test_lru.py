"""The Linear Recurrent Unit (rnnzoo/cells/lru.py) against the paper, and its teaching
claims checked on computed data.

* The forward equals a float64 port of the paper's appendix JAX code (``forward_LRU``,
  with its associative scan by ``binary_operator_diag``), written again here from the
  formulas (nothing shared with the cell or rnnzoo.core.scan), to 1e-12.
* The initialization has the distribution of the paper's ``init_lru_parameters``
  (ported the same way): Kolmogorov-Smirnov tests on 20,000 draws, seeded, so the
  p-values are fixed numbers; the same tests reject the wrong distributions.
* |λ| < 1 for any parameter values; ‖∂x_t/∂x_{t-k}‖ = |λ|^k per unit, measured from
  the backward; γ keeps E|x_t|² at E|B u_t|² as |λ| → 1.
* The paper's diagonal D (input size = hidden size), which the registry-driven suites
  (built with D != H) never reach: gradcheck, the textbook twin, the contract's checks.
"""
import numpy as np
import pytest
from scipy import stats

import rnnzoo

from .test_contract import check_scan_forms_agree, check_square_contract
from .test_reference import TOL, errors, run_both


# ------------------------------------------------------------------ the paper's code, ported
def paper_init(N, H, r_min=0.0, r_max=1.0, max_phase=6.28, rng=None):
    """``init_lru_parameters`` of the paper's appendix A (N state, H model size)."""
    a, b = rng.uniform(size=N), rng.uniform(size=N)
    radius_sq = a * (r_max ** 2 - r_min ** 2) + r_min ** 2
    p = {"nu_log": np.log(-0.5 * np.log(radius_sq)), "theta_log": np.log(max_phase * b)}
    for name, shape, scale in (("B_re", (N, H), 2 * H), ("B_im", (N, H), 2 * H),
                               ("C_re", (H, N), N), ("C_im", (H, N), N)):
        p[name] = rng.normal(size=shape) / np.sqrt(scale)
    p["D"] = rng.normal(size=H)
    lam = np.exp(-np.exp(p["nu_log"]) + 1j * np.exp(p["theta_log"]))
    p["gamma_log"] = np.log(np.sqrt(1 - np.abs(lam) ** 2))
    return p


def binary_operator_diag(first, second):
    """The paper's associative operator: (a_i, b_i) then (a_j, b_j) is
    (a_j a_i, a_j b_i + b_j)."""
    return second[0] * first[0], second[0] * first[1] + second[1]


def associative_scan(op, elements):
    """Inclusive scan by recursive doubling (what jax.lax.associative_scan computes)."""
    out, shift = list(elements), 1
    while shift < len(out):
        out = out[:shift] + [op(out[i - shift], out[i]) for i in range(shift, len(out))]
        shift *= 2
    return out


def paper_forward(p, u):
    """``forward_LRU`` of the paper's appendix A on one sequence u (L, H), x_0 = 0."""
    lam = np.exp(-np.exp(p["nu_log"]) + 1j * np.exp(p["theta_log"]))
    B_norm = (p["B_re"] + 1j * p["B_im"]) * np.exp(p["gamma_log"])[:, None]
    C = p["C_re"] + 1j * p["C_im"]
    states = associative_scan(binary_operator_diag, [(lam, B_norm @ u_k) for u_k in u])
    return np.stack([(C @ x).real + p["D"] * u_k for (_, x), u_k in zip(states, u)])


@pytest.mark.parametrize("N", [3, 8])
def test_forward_equals_the_papers_appendix_code(N):
    """A pass: every y_t agrees to 1e-12 (the two sum in different orders); a sign or a
    conjugate wrong anywhere would be off by O(1)."""
    H, T, B = 5, 13, 3
    rng = np.random.default_rng(0)
    p = paper_init(N, H, r_min=0.5, r_max=0.99, max_phase=np.pi, rng=rng)
    cell = rnnzoo.make("lru", H, H, state_size=N)
    assert cell.diagonal and set(cell.params) == set(p)
    for k in p:
        cell.params[k][...] = p[k]
    u = rng.standard_normal((T, B, H))
    ys, _, _ = cell.forward(u)
    expected = np.stack([paper_forward(p, u[:, b]) for b in range(B)], axis=1)
    np.testing.assert_allclose(ys, expected, rtol=0, atol=1e-12 * np.abs(expected).max())


def test_initialization_has_the_papers_distribution():
    """20,000 eigenvalues from the cell and from the ported ``init_lru_parameters``.
    A pass: |λ|² is uniform on [r_min², r_max²] (area-uniform on the ring), the phase
    uniform on [0, max_phase], the two samples of |λ| indistinguishable (KS p > 0.001),
    γ^log = log sqrt(1 - |λ|²) to round-off, and B, C, D normal with the paper's
    scales. The same tests reject |λ| uniform (the wrong ring) and B at C's scale."""
    N, K, r_min, r_max, phase = 20000, 4, 0.4, 0.95, 3.0
    cell = rnnzoo.make("lru", K, K, state_size=N, r_min=r_min, r_max=r_max, max_phase=phase,
                       seed=11)
    paper = paper_init(N, K, r_min, r_max, phase, np.random.default_rng(12))
    P = cell.params
    lam = cell.recurrent_eigenvalues()
    ring = (r_min ** 2, r_max ** 2 - r_min ** 2)
    assert stats.kstest(np.abs(lam) ** 2, "uniform", args=ring).pvalue > 1e-3
    assert stats.kstest(np.abs(lam), "uniform", args=(r_min, r_max - r_min)).pvalue < 1e-6
    assert stats.kstest(np.exp(P["theta_log"]), "uniform", args=(0, phase)).pvalue > 1e-3
    paper_abs = np.exp(-np.exp(paper["nu_log"]))
    assert stats.ks_2samp(np.abs(lam), paper_abs).pvalue > 1e-3
    assert stats.ks_2samp(np.exp(P["theta_log"]), np.exp(paper["theta_log"])).pvalue > 1e-3
    np.testing.assert_allclose(P["gamma_log"], np.log(np.sqrt(1 - np.abs(lam) ** 2)),
                               rtol=1e-12)
    for name, scale in (("B_re", 2 * K), ("B_im", 2 * K), ("C_re", N), ("C_im", N)):
        sample = P[name].ravel() * np.sqrt(scale)
        assert stats.kstest(sample, "norm").pvalue > 1e-3, name
        assert stats.ks_2samp(P[name].ravel(), paper[name].ravel()).pvalue > 1e-3, name
    assert stats.kstest(P["B_re"].ravel() * np.sqrt(N), "norm").pvalue < 1e-6
    wide = rnnzoo.make("lru", 3000, 3000, state_size=2, seed=13)
    assert wide.diagonal and stats.kstest(wide.params["D"], "norm").pvalue > 1e-3
    dense = rnnzoo.make("lru", 300, 10, state_size=2, seed=14)      # D (H, K): N(0, 1/K)
    assert stats.kstest(dense.params["D"].ravel() * np.sqrt(300), "norm").pvalue > 1e-3


# ------------------------------------------------------------------ the teaching claims
@pytest.mark.parametrize("dtype,span", [(np.float64, 30.0), (np.float32, 15.0)])
def test_lambda_stays_inside_the_unit_circle_for_any_parameters(dtype, span):
    """The exponential parametrization: ν^log anywhere in [-span, span] (far past anything
    an optimizer visits) and θ^log in [-span, 2] (θ up to e² > 2π: every phase) give
    |λ| < 1, read both from recurrent_eigenvalues() and from the cell's own step (x_0 = 1
    on every unit, no input: x_1 = λ). Past that, |λ| rounds to 1 (ν^log = -1000) or to
    0 (ν^log = 700): at most a rounding of cos and sin above 1, never more."""
    N = 64
    cell = rnnzoo.make("lru", 3, 4, state_size=N, dtype=dtype)
    rng = np.random.default_rng(0)
    x0 = np.concatenate([np.ones((1, N)), np.zeros((1, N))], axis=1).astype(dtype)
    u = np.zeros((1, 1, 3), dtype=dtype)
    for _ in range(20):
        cell.params["nu_log"][...] = rng.uniform(-span, span, N)
        cell.params["theta_log"][...] = rng.uniform(-span, 2.0, N)
        assert np.abs(cell.recurrent_eigenvalues()).max() < 1
        _, (x1,), _ = cell.forward(u, (x0,))
        assert np.hypot(x1[0, :N], x1[0, N:]).max() < 1
        np.testing.assert_allclose(x1[0, :N] + 1j * x1[0, N:], cell.recurrent_eigenvalues(),
                                   atol=10 * np.finfo(dtype).eps)
    cell.params["nu_log"][:] = [-1000.0, 700.0] * (N // 2)
    modulus = np.abs(cell.recurrent_eigenvalues())
    np.testing.assert_allclose(modulus, [1.0, 0.0] * (N // 2), rtol=0, atol=4e-16)
    assert modulus.max() <= 1 + 4e-16


@pytest.mark.parametrize("dtype,rounds,stays", [(np.float64, -37.6, -37.2),
                                                (np.float32, -17.6, -17.2)])
def test_lambda_rounds_to_modulus_1_below_the_documented_nu_log(dtype, rounds, stays):
    """The docstring's threshold (about -37.4 in float64, -17.4 in float32): below it the
    cell's own λ has |λ| = 1 exactly (exp(-ν) rounds to 1), a little above it |λ| < 1.
    θ ≈ 1e-26, so x_1 = λ x_0 = exp(-ν) on the real axis, read from the step."""
    cell = rnnzoo.make("lru", 3, 4, state_size=2, dtype=dtype)
    cell.params["nu_log"][...] = [rounds, stays]
    cell.params["theta_log"][...] = -60.0
    x0 = np.array([[1.0, 1.0, 0.0, 0.0]], dtype=dtype)
    _, (x1,), _ = cell.forward(np.zeros((1, 1, 3), dtype=dtype), (x0,))
    assert x1[0, 0] == 1.0 and x1[0, 1] < 1.0


@pytest.mark.parametrize("r_min,r_max,T", [(0.99, 0.999, 1000), (0.5, 0.6, 40)],
                         ids=["ring near 1", "ring far from 1"])
def test_the_gradient_over_k_steps_is_lambda_to_the_k(r_min, r_max, T):
    """‖∂x_T/∂x_0‖ per unit, measured: backpropagate each unit's Re and Im direction from
    x_T through T steps of random input; unit n's 2 x 2 block of ∂x_T/∂x_0 then has both
    singular values |λ_n|^T (a scaled rotation), and nothing leaks to other units. With
    the loss on x_T only, dh_norm[t] = sqrt(Σ_n |λ_n|^(2(T-1-t))) for a unit vector on
    every unit. A pass: 1e-10 relative (T products of round-off)."""
    N = 6
    cell = rnnzoo.make("lru", 3, 4, state_size=N, r_min=r_min, r_max=r_max, seed=1)
    lam = np.abs(cell.recurrent_eigenvalues())
    u = np.random.default_rng(2).standard_normal((T, 2 * N, 3))
    hs, _, cache = cell.forward(u)
    seed = np.eye(2 * N)              # row 2n: Re of unit n, row 2n+1: Im of unit n
    dstate_T = np.concatenate([seed[:, 0::2], seed[:, 1::2]], axis=1)   # [Re, Im] packing
    _, (dx0,), grads = cell.backward(np.zeros_like(hs), cache, (dstate_T,))
    for n in range(N):
        block = np.stack([dx0[2 * n:2 * n + 2, n], dx0[2 * n:2 * n + 2, N + n]], axis=1)
        np.testing.assert_allclose(np.linalg.svd(block, compute_uv=False), lam[n] ** T,
                                   rtol=1e-10)
        others = np.delete(dx0[2 * n:2 * n + 2], [n, N + n], axis=1)
        assert not others.any()
    k = np.arange(T)[::-1]
    predicted = np.sqrt(2 * (lam[None, :] ** (2 * k[:, None])).sum(axis=1))
    np.testing.assert_allclose(grads.dh_norm, predicted, rtol=1e-10)


def test_gamma_keeps_the_state_at_the_scale_of_its_input_as_lambda_nears_1():
    """White-noise input, x_0 = 0: E|x_t,n|² = γ_n² E|(B u)_n|² (1 - |λ_n|^(2t)) /
    (1 - |λ_n|²) exactly. A pass: without γ, the mean of |x_T|² over 128 sequences is
    within 10 % of that (averaged over the units); with γ (= sqrt(1 - |λ|²) at
    initialization) it is within 10 % of E|B u|² itself, and the two differ by exactly
    1/(1 - |λ|²), here 50 to 300 (the recurrence is linear: the same x, scaled by γ)."""
    N, K, T, batch = 16, 4, 2000, 128
    u = np.random.default_rng(3).standard_normal((T, batch, K))
    measured = {}
    for normalization in (True, False):
        cell = rnnzoo.make("lru", K, 4, state_size=N, r_min=0.99, r_max=0.999, seed=4,
                           normalization=normalization)
        _, (xT,), _ = cell.forward(u)
        measured[normalization] = (xT[:, :N] ** 2 + xT[:, N:] ** 2).mean(axis=0)
    P = cell.params
    lam = np.abs(cell.recurrent_eigenvalues())
    Bu_var = (P["B_re"] ** 2 + P["B_im"] ** 2).sum(axis=1)          # E|(B u)_n|²
    growth = (1 - lam ** (2 * T)) / (1 - lam ** 2)
    assert abs((measured[False] / (Bu_var * growth)).mean() - 1) < 0.1
    assert abs((measured[True] / Bu_var).mean() - 1) < 0.1
    np.testing.assert_allclose(measured[False] / measured[True], 1 / (1 - lam ** 2),
                               rtol=1e-9)
    assert (1 / (1 - lam ** 2)).min() > 40


# ------------------------------------------------------------------ the paper's diagonal D
DIAGONAL = [{}, {"feedthrough": "diagonal", "normalization": False, "state_size": 3},
            {"state_size": 7, "mode": "doubling"}]


@pytest.mark.parametrize("opts", DIAGONAL, ids=str)
def test_diagonal_feedthrough_passes_gradcheck(opts, rng):
    cell = rnnzoo.make("lru", 4, 4, seed=3, **opts)
    assert cell.diagonal and cell.params["D"].shape == (4,)
    report = rnnzoo.gradcheck(cell, rng.standard_normal((6, 2, 4)), seed=5)
    assert {row.name for row in report.rows} == set(cell.params) | {"x", "x0"}
    assert report.passed, report.table()


@pytest.mark.parametrize("opts", DIAGONAL, ids=str)
def test_diagonal_feedthrough_equals_its_textbook_version(opts):
    cell = rnnzoo.make("lru", 5, 5, seed=3, **opts)
    bad = {k: e for k, e in errors(run_both(cell, 5, 3, np.random.default_rng(7))[0]).items()
           if not e <= TOL}
    assert not bad, bad


@pytest.mark.parametrize("opts", DIAGONAL, ids=str)
def test_diagonal_feedthrough_keeps_the_contract(opts, rng):
    check_square_contract("lru", opts, rng)


# ------------------------------------------------------------------ options
def test_feedthrough_auto_is_diagonal_exactly_when_the_sizes_match():
    assert rnnzoo.make("lru", 4, 4).params["D"].shape == (4,)
    assert rnnzoo.make("lru", 3, 4).params["D"].shape == (4, 3)
    assert rnnzoo.make("lru", 4, 4, feedthrough="dense").params["D"].shape == (4, 4)
    assert "gamma_log" not in rnnzoo.make("lru", 3, 4, normalization=False).params
    cell = rnnzoo.make("lru", 3, 4, state_size=6)
    assert cell.params["B_re"].shape == (6, 3) and cell.params["C_im"].shape == (4, 6)
    assert cell.initial_state(2)[0].shape == (2, 12) and cell.output_size == 4
    assert cell.recurrent_eigenvalues().shape == (6,)


@pytest.mark.parametrize("opts,match", [
    ({"r_min": 0.9, "r_max": 0.9}, r"r_min must be < r_max .*got r_min=0.9, r_max=0.9"),
    ({"r_min": 0.95, "r_max": 0.5}, r"r_min must be < r_max"),
    ({"r_max": 1.0}, r"r_max must be a finite real number in \(0.0, 1.0\); got 1.0"),
    ({"r_min": -0.1}, r"r_min must be a finite real number in \[0.0, 1.0\); got -0.1"),
    ({"max_phase": 0.0}, r"max_phase must be a finite real number in \(0.0, inf\]; got 0.0"),
    ({"state_size": 0}, r"state_size must be None \(N = hidden_size\) or an integer >= 1; got 0"),
    ({"state_size": 2.0}, r"state_size must be None .* got 2.0"),
    ({"state_size": True}, r"state_size must be None .* got True"),
    ({"feedthrough": "diagonal"}, r"feedthrough='diagonal' .* input_size == hidden_size; "
                                  r"got input_size=3, hidden_size=4"),
    ({"mode": "log"}, r"mode must be one of 'auto', 'loop', 'doubling'; got 'log' "
                      r"\(the log-space scan needs a real a > 0; λ is complex\)"),
])
def test_bad_options_are_refused_naming_them(opts, match):
    with pytest.raises(ValueError, match=r"LRU\('lru'\): " + match):
        rnnzoo.make("lru", 3, 4, **opts)


def test_every_scan_form_gives_the_same_cell(rng):
    check_scan_forms_agree("lru", {"state_size": 6}, rng)
