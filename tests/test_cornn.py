"""coRNN: against an independent float64 port of the authors' code, the paper's implicit
damping equation, their initialization, and the bound on the hidden states.

The oracle re-implements, in NumPy, ``coRNNCell.forward`` of ``tk-rusch/coRNN`` in that
code's layout: one ``nn.Linear(D + 2H, H)`` ``i2h`` applied to the concatenation (x, z, y)
(note the order), explicit damping ``- epsilon * hz`` on the old z. Its i2h weight is the
cell's V, 𝒲 (W_z) and W side by side. A pass: hs and both final states agree to 1e-12.
"""
import numpy as np
import pytest
from scipy import stats

import rnnzoo


def oracle(x, hy, hz, i2h_weight, i2h_bias, dt, gamma, epsilon):
    """The authors' coRNN loop over x (T, B, D): every hy, and the final (hy, hz)."""
    out = []
    for x_t in x:
        pre = np.concatenate([x_t, hz, hy], axis=1) @ i2h_weight.T + i2h_bias
        hz = hz + dt * (np.tanh(pre) - gamma * hy - epsilon * hz)
        hy = hy + dt * hz
        out.append(hy)
    return np.stack(out), hy, hz


def perturbed(rng, scale=1.0, **opts):
    cell = rnnzoo.make("cornn", 3, 5, seed=1, **opts)
    for p in cell.params.values():
        p += scale * rng.standard_normal(p.shape)
    return cell


@pytest.mark.parametrize("dt,gamma,epsilon", [(0.076, 0.4, 8.0), (0.06, 66.0, 15.0),
                                              (0.4, 1.5, 0.7)])
def test_explicit_damping_equals_the_authors_code(dt, gamma, epsilon):
    rng = np.random.default_rng(0)
    cell = perturbed(rng, dt=dt, gamma=gamma, epsilon=epsilon, damping="explicit")
    P = cell.params
    x, y0, z0 = rng.standard_normal((8, 2, 3)), *rng.standard_normal((2, 2, 5))
    hs, (y_T, z_T), _ = cell.forward(x, (y0, z0))
    i2h = np.concatenate([P["V"], P["W_z"], P["W"]], axis=1)
    e_hs, e_y, e_z = oracle(x, y0, z0, i2h, P["b"], dt, gamma, epsilon)
    for a, b in [(hs, e_hs), (y_T, e_y), (z_T, e_z)]:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_implicit_damping_satisfies_the_papers_equation():
    """Eq. 3 of the paper, checked on the cell's own states: the residual of
    z_t - z_{t-1} - Δt (tanh(W y_{t-1} + 𝒲 z_{t-1} + V x_t + b) - γ y_{t-1} - ε z_t) and of
    y_t - y_{t-1} - Δt z_t is round-off (< 1e-13), where the explicit rule's is O(Δt² ε)."""
    rng = np.random.default_rng(1)
    dt, gamma, epsilon = 0.3, 1.2, 2.0
    x, y0, z0 = rng.standard_normal((6, 2, 3)), *rng.standard_normal((2, 2, 5))
    for damping, small in [("implicit", True), ("explicit", False)]:
        cell = perturbed(np.random.default_rng(2), dt=dt, gamma=gamma, epsilon=epsilon,
                         damping=damping)                  # the same weights for both rules
        P = cell.params
        y = np.concatenate([y0[None], cell.forward(x, (y0, z0))[0]])
        z = np.stack([z0] + [cell.forward(x[:t + 1], (y0, z0))[1][1] for t in range(6)])
        a = y[:-1] @ P["W"].T + z[:-1] @ P["W_z"].T + x @ P["V"].T + P["b"]
        r_z = z[1:] - z[:-1] - dt * (np.tanh(a) - gamma * y[:-1] - epsilon * z[1:])
        np.testing.assert_allclose(y[1:] - y[:-1], dt * z[1:], rtol=1e-13, atol=1e-13)
        assert (np.abs(r_z).max() < 1e-13) == small, (damping, np.abs(r_z).max())


def energy(y, z, gamma):
    """E = γ|y|² + |z|² per sequence: (..., B, H) -> (..., B)."""
    return gamma * (y ** 2).sum(-1) + (z ** 2).sum(-1)


@pytest.mark.parametrize("damping,factor", [("implicit", 1.0), ("explicit", 2.0)])
@pytest.mark.parametrize("dt,gamma,epsilon", [(0.076, 0.4, 8.0), (0.06, 66.0, 15.0),
                                              (0.05, 2.0, 0.2)])
def test_the_hidden_states_stay_within_the_energy_bound(damping, factor, dt, gamma, epsilon):
    """E_t = γ|y_t|² + |z_t|² <= E_0 + factor · H t Δt / ε at every t of a 1,000-step
    random sequence, per sequence of the batch (factor 1 implicit, if γΔt <= ε; 2
    explicit, if 2γΔt <= ε and Δtε <= 1: the derivation is in the cell's docstring); from
    zero, |y_t|² + |z_t|²/γ <= factor · H t Δt / (γε). Weights of O(1) and inputs of
    size 3 drive tanh into saturation, where the bound is tightest. A pass: no step
    exceeds it, and the bound is not vacuous: from zero the states reach at least 5 % of
    it at some step (7 % to 49 % in these six runs; at t = 1,000, 0.1 % to 10 %: the
    bound grows like t, the damped states do not)."""
    assert gamma * dt <= epsilon / factor and (damping == "implicit" or dt * epsilon <= 1)
    rng = np.random.default_rng(2)
    T, B, D, H = 1000, 4, 3, 16
    cell = rnnzoo.make("cornn", D, H, seed=3, dt=dt, gamma=gamma, epsilon=epsilon,
                       damping=damping)
    for p in cell.params.values():
        p[...] = rng.standard_normal(p.shape)
    x = 3.0 * rng.standard_normal((T, B, D))
    state0 = tuple(rng.standard_normal((2, B, H)))
    _, _, cache = cell.forward(x, state0)
    E = energy(cache.y, cache.z, gamma)                          # (T + 1, B), E[0] = E_0
    t = np.arange(T + 1)[:, None]
    bound = E[0] + factor * H * t * dt / epsilon
    assert np.all(E <= bound * (1 + 1e-12)), np.max(E / bound)
    _, _, from_zero = cell.forward(x)
    lhs = (from_zero.y ** 2).sum(-1) + (from_zero.z ** 2).sum(-1) / gamma
    ratio = lhs[1:] / (factor * H * t[1:] * dt / (gamma * epsilon))
    assert np.all(ratio <= 1 + 1e-12) and ratio.max() > 0.05, ratio.max()


def test_defaults_and_initialization_are_the_authors():
    """Δt, γ, ε of their psMNIST script; every weight and the bias U(-k, k) with
    k = 1/√(D + 2H) (their nn.Linear on (x, z, y)): Kolmogorov-Smirnov, p > 1e-3, and
    p < 1e-6 against a 20 % wider interval."""
    D, H = 20, 120
    cell = rnnzoo.make("cornn", D, H, seed=5)
    assert (cell.dt, cell.gamma, cell.epsilon, cell.damping) == (0.076, 0.4, 8.0, "implicit")
    assert cell.state_names == ("y", "z")
    k = 1.0 / np.sqrt(D + 2 * H)
    sample = np.concatenate([p.ravel() for p in cell.params.values()])
    assert stats.kstest(sample, "uniform", args=(-k, 2 * k)).pvalue > 1e-3
    assert stats.kstest(sample, "uniform", args=(-1.2 * k, 2.4 * k)).pvalue < 1e-6


def test_the_output_is_y_and_the_state_carries_y_and_z():
    cell = rnnzoo.make("cornn", 3, 4, seed=0)
    x = np.random.default_rng(3).standard_normal((5, 2, 3))
    hs, (y_T, z_T), cache = cell.forward(x)
    np.testing.assert_array_equal(hs, cache.y[1:])
    np.testing.assert_array_equal(y_T, hs[-1])
    np.testing.assert_array_equal(z_T, cache.z[-1])


@pytest.mark.parametrize("opts,match", [
    ({"dt": 0.0}, r"dt must be a finite number > 0; got 0\.0"),
    ({"gamma": -1.0}, r"gamma must be a finite number >= 0; got -1\.0"),
    ({"epsilon": -0.5}, r"epsilon must be a finite number >= 0; got -0\.5"),
    ({"damping": "semi"}, r"damping must be one of 'implicit', 'explicit'; got 'semi'"),
])
def test_bad_options_are_refused_by_name(opts, match):
    with pytest.raises(ValueError, match=match):
        rnnzoo.make("cornn", 3, 4, **opts)
