"""S4D (rnnzoo/cells/s4d.py) against the authors' minimal code, its two modes against
each other, and its teaching claims checked on computed data.

* The forward equals a float64 port of ``S4DKernel`` and the FFT convolution of
  ``S4D.forward`` in state-spaces/s4 ``models/s4/s4d.py`` (the SSM only: their layer then
  applies GELU, dropout and a GLU output map), written again here from the formulas
  (nothing shared with the cell), to 1e-12, in both modes.
* The initialization has the distribution of their ``S4DKernel.__init__`` (ported the
  same way): KS tests on 20,000 channels, seeded, so the p-values are fixed numbers; the
  same tests reject the wrong distributions. S4D-Lin's A is checked exactly.
* ``mode="recurrent"`` and ``mode="convolution"`` agree to 1e-10 in float64 on hs, the
  final state, dx, the initial state's gradient, every parameter gradient and dh_norm,
  with a non-zero initial state (which convolution mode carries).
* |Ā| = exp(-Δ exp(log A^re)) per mode, and the gradient over k steps measured from the
  backward is exactly that to the k, in both modes; the zero-order hold is the exact
  solution of the ODE for a held input, where Euler's step explodes.
* The paper's layer (v = u, K = H), which the registry-driven suites (built with K != H)
  never reach: gradcheck, the textbook twin, the contract's checks.
"""
import numpy as np
import pytest
from scipy import stats

import rnnzoo
from rnnzoo.cells.s4d import fft_length

from .test_contract import check_square_contract
from .test_reference import TOL, errors, run_both

MODES = ("recurrent", "convolution")


# ------------------------------------------------------------------ the authors' code, ported
def paper_init(H, N, dt_min=1e-3, dt_max=1e-1, rng=None):
    """``S4DKernel.__init__`` and ``S4D.__init__``'s D (their N is 2N here)."""
    log_dt = rng.uniform(size=H) * (np.log(dt_max) - np.log(dt_min)) + np.log(dt_min)
    C = (rng.normal(size=(H, N)) + 1j * rng.normal(size=(H, N))) / np.sqrt(2)   # randn cfloat
    return {"log_dt": log_dt, "log_A_real": np.log(0.5 * np.ones((H, N))),
            "A_imag": np.pi * np.tile(np.arange(N), (H, 1)), "C_re": C.real, "C_im": C.imag,
            "D": rng.normal(size=H)}


def paper_kernel(p, L):
    """``S4DKernel.forward``: the Vandermonde product, K (H, L)."""
    dt = np.exp(p["log_dt"])
    C = p["C_re"] + 1j * p["C_im"]
    A = -np.exp(p["log_A_real"]) + 1j * p["A_imag"]
    dtA = A * dt[:, None]
    K = dtA[:, :, None] * np.arange(L)
    C = C * (np.exp(dtA) - 1.0) / A
    return 2 * np.einsum("hn,hnl->hl", C, np.exp(K)).real


def paper_forward(p, u):
    """``S4D.forward`` up to the D term, on u (B, H, L) (their transposed layout)."""
    L = u.shape[-1]
    k_f = np.fft.rfft(paper_kernel(p, L), n=2 * L)
    u_f = np.fft.rfft(u, n=2 * L)
    y = np.fft.irfft(u_f * k_f, n=2 * L)[..., :L]
    return y + u * p["D"][:, None]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("N", [1, 8])
def test_forward_equals_the_authors_minimal_code(mode, N):
    """A pass: every y_t agrees to 1e-12 of max|y| (FFT and scan round differently); a
    wrong sign, conjugate, factor 2 or B̄ is off by O(1). kernel() equals their K too."""
    H, T, B = 5, 200, 3
    rng = np.random.default_rng(0)
    p = paper_init(H, N, rng=rng)
    p["log_dt"] += 1.5                      # Δ up to 0.45: fast modes that wrap phase
    cell = rnnzoo.make("s4d", H, H, state_size=N, mode=mode)
    assert not cell.projected and set(cell.params) == set(p)
    for k in p:
        cell.params[k][...] = p[k]
    u = rng.standard_normal((T, B, H))
    ys, _, _ = cell.forward(u)
    expected = paper_forward(p, u.transpose(1, 2, 0)).transpose(2, 0, 1)
    np.testing.assert_allclose(ys, expected, rtol=0, atol=1e-12 * np.abs(expected).max())
    K = paper_kernel(p, T)
    np.testing.assert_allclose(cell.kernel(T), K, rtol=0, atol=1e-13 * np.abs(K).max())


def test_initialization_has_the_authors_distribution():
    """20,000 channels from the cell and from the ported ``S4DKernel``. A pass: log Δ
    uniform on [log dt_min, log dt_max] and indistinguishable from the port's (KS p >
    0.001), C's real and imaginary parts N(0, 1/2), D N(0, 1), W_in N(0, 1/K); A^re = 1/2
    and A^im_n = π n exactly. The same tests reject Δ uniform (not its log) and C at
    variance 1 per part (p < 1e-6)."""
    H, N, dt_min, dt_max = 20000, 2, 2e-3, 5e-2
    cell = rnnzoo.make("s4d", H, H, state_size=N, dt_min=dt_min, dt_max=dt_max, seed=11)
    paper = paper_init(H, N, dt_min, dt_max, np.random.default_rng(12))
    P = cell.params
    lo, width = np.log(dt_min), np.log(dt_max) - np.log(dt_min)
    assert stats.kstest(P["log_dt"], "uniform", args=(lo, width)).pvalue > 1e-3
    assert stats.ks_2samp(P["log_dt"], paper["log_dt"]).pvalue > 1e-3
    assert stats.kstest(np.exp(P["log_dt"]), "uniform",
                        args=(dt_min, dt_max - dt_min)).pvalue < 1e-6
    for name in ("C_re", "C_im"):
        assert stats.kstest(P[name].ravel() * np.sqrt(2), "norm").pvalue > 1e-3, name
        assert stats.ks_2samp(P[name].ravel(), paper[name].ravel()).pvalue > 1e-3, name
        assert stats.kstest(P[name].ravel(), "norm").pvalue < 1e-6, name
    assert stats.kstest(P["D"], "norm").pvalue > 1e-3
    np.testing.assert_array_equal(P["log_A_real"], paper["log_A_real"])
    np.testing.assert_array_equal(P["A_imag"], paper["A_imag"])
    dense = rnnzoo.make("s4d", 300, 40, state_size=2, seed=14)      # W_in (H, K): N(0, 1/K)
    assert dense.projected and stats.kstest(dense.params["W_in"].ravel() * np.sqrt(300),
                                            "norm").pvalue > 1e-3
    assert rnnzoo.make("s4d", 3, 3).params["A_imag"][1, -1] == np.pi * 31   # N = 32


# ------------------------------------------------------------------ the two modes
def run_mode(mode, opts, x, state0, dhs, dstate_T):
    cell = rnnzoo.make("s4d", x.shape[2], opts.pop("H", 4), mode=mode, seed=3, **opts)
    rng = np.random.default_rng(9)          # off the init: every A^re and A^im distinct
    for p in cell.params.values():
        p += 0.1 * rng.standard_normal(p.shape)
    hs, sT, cache = cell.forward(x, state0)
    dx, ds0, grads = cell.backward(dhs, cache, dstate_T)
    out = {"hs": hs, "x_T": sT[0], "dx": dx, "dx0": ds0[0], "dh_norm": grads.dh_norm}
    return out | {f"d{k}": g for k, g in grads.items()}


@pytest.mark.parametrize("T,K,opts", [(1, 3, {}), (7, 3, {"state_size": 5}),
                                      (300, 4, {"H": 4, "state_size": 6}),
                                      (64, 4, {"input_projection": "dense", "state_size": 3}),
                                      (40, 2, {"scan": "doubling", "state_size": 4}),
                                      (13, 3, {"state_size": 4}), (11, 2, {"state_size": 3})],
                         ids=["T1", "T7", "T300-v=u", "T64-dense", "T40-doubling",
                              "T13-fft27", "T11-fft24"])
@pytest.mark.parametrize("zero", [(), ("state0",), ("dstate_T",), ("state0", "dstate_T")],
                         ids=["both", "zero-state0", "zero-dstate_T", "zero-both"])
def test_recurrent_and_convolution_modes_agree(T, K, opts, zero):
    """A pass: every tensor to max|a - b| <= 1e-10 (1 + max|b|), from a non-zero initial
    state and a non-zero gradient on the final one (so convolution mode's free response
    and its final-state GEMMs are in play), and with either of them exactly zero (which
    convolution mode skips); the actual differences are about 1e-14."""
    rng = np.random.default_rng(5)
    H, N = opts.get("H", 4), opts.get("state_size", 32)
    x = rng.standard_normal((T, 2, K))
    state0 = (rng.standard_normal((2, 2 * H * N)) * ("state0" not in zero),)
    dhs = rng.standard_normal((T, 2, H))
    dstate_T = (rng.standard_normal((2, 2 * H * N)) * ("dstate_T" not in zero),)
    rec = run_mode("recurrent", dict(opts), x, state0, dhs, dstate_T)
    conv = run_mode("convolution", dict(opts), x, state0, dhs, dstate_T)
    assert set(rec) == set(conv)
    bad = {k: e for k, e in errors({k: (conv[k], rec[k]) for k in rec}).items()
           if not e <= 1e-10}
    assert not bad, bad


def test_the_fft_length_is_the_smallest_7_smooth_length_from_2T():
    """Every n in [2T, F) has a prime factor above 7; F has none; the test rows above
    with T = 13 and 11 run the padded lengths 27 (odd) and 24."""
    def smooth(n):
        for p in (2, 3, 5, 7):
            while n % p == 0:
                n //= p
        return n == 1
    for T in range(1, 3000):
        F = fft_length(T)
        assert F >= 2 * T and smooth(F) and not any(smooth(n) for n in range(2 * T, F)), T
    assert [fft_length(T) for T in (13, 11, 1009, 784)] == [27, 24, 2025, 1568]


# ------------------------------------------------------------------ the teaching claims
@pytest.mark.parametrize("mode", MODES)
def test_the_gradient_over_k_steps_is_the_modes_decay_to_the_k(mode):
    """|Ā_n| = exp(-Δ exp(log A^re_n)), read from recurrent_eigenvalues(); then measured:
    backpropagate each mode's Re and Im direction from x_T through T = 1000 steps of
    random input; mode n's 2 x 2 block of ∂x_T/∂x_{-1} has both singular values
    |Ā_n|^T (a scaled rotation) and nothing leaks to other modes or channels; with the
    loss on x_T only, dh_norm[t] = sqrt(2 Σ_n |Ā_n|^(2(T-1-t))). A pass: 1e-10 relative."""
    H, N, T = 2, 3, 1000
    cell = rnnzoo.make("s4d", H, H, state_size=N, dt_min=1e-3, dt_max=1e-2, mode=mode,
                       seed=1)
    cell.params["log_A_real"][...] += np.random.default_rng(0).uniform(-1, 1, (H, N))
    dt, a_re = np.exp(cell.params["log_dt"]), np.exp(cell.params["log_A_real"])
    decay = np.abs(cell.recurrent_eigenvalues())
    np.testing.assert_allclose(decay, np.exp(-dt[:, None] * a_re), rtol=1e-14)
    assert decay.max() ** T < 0.95 and decay.min() ** T > 1e-6    # gradients between
    M = H * N
    u = np.random.default_rng(2).standard_normal((T, 2 * M, H))
    hs, _, cache = cell.forward(u)
    seed = np.eye(2 * M)               # row 2m: Re of mode m, row 2m+1: Im of mode m
    dstate_T = np.concatenate([seed[:, 0::2], seed[:, 1::2]], axis=1)   # [Re, Im] packing
    _, (dx0,), grads = cell.backward(np.zeros_like(hs), cache, (dstate_T,))
    lam = decay.ravel()
    for m in range(M):
        block = np.stack([dx0[2 * m:2 * m + 2, m], dx0[2 * m:2 * m + 2, M + m]], axis=1)
        np.testing.assert_allclose(np.linalg.svd(block, compute_uv=False), lam[m] ** T,
                                   rtol=1e-10)
        others = np.delete(dx0[2 * m:2 * m + 2], [m, M + m], axis=1)
        assert not others.any()
    k = np.arange(T)[::-1]
    predicted = np.sqrt(2 * (lam[None, :] ** (2 * k[:, None])).sum(axis=1))
    np.testing.assert_allclose(grads.dh_norm, predicted, rtol=1e-10)


@pytest.mark.parametrize("mode", MODES)
def test_zero_order_hold_is_exact_for_a_held_input_where_euler_explodes(mode):
    """x'(s) = A x + v with v = 1 held and x(0) = 0 has x(s) = (exp(A s) - 1)/A. A pass:
    the cell's x_t equals it at s = (t + 1) Δ to 1e-12 in every mode and channel (the
    hold is exact, whatever Δ), while Euler's x_t = (1 + Δ A) x_{t-1} + Δ (its |1 + Δ A|
    is 9.8 for mode 31 at Δ = 0.1) has left the solution by a factor 1e10 in 20 steps."""
    H, N, T = 2, 32, 20
    cell = rnnzoo.make("s4d", H, H, state_size=N, dt_min=0.1, dt_max=0.1, mode=mode)
    A = -np.exp(cell.params["log_A_real"]) + 1j * cell.params["A_imag"]
    dt = np.exp(cell.params["log_dt"])[:, None]
    exact = np.stack([(np.exp(A * dt * (t + 1)) - 1) / A for t in range(T)])   # (T, H, N)
    states = []
    state = None
    for t in range(T):                                    # one step at a time: x_t
        _, state, _ = cell.forward(np.ones((1, 1, H)), state)
        states.append(state[0][0, :H * N] + 1j * state[0][0, H * N:])
    np.testing.assert_allclose(np.stack(states).reshape(T, H, N), exact, rtol=0,
                               atol=1e-12 * np.abs(exact).max())
    euler, x = [], np.zeros((H, N), complex)
    for t in range(T):
        x = (1 + dt * A) * x + dt
        euler.append(x)
    assert np.abs(1 + dt * A).max() == pytest.approx(9.8, abs=0.05)
    assert np.abs(np.stack(euler) - exact).max() > 1e10 * np.abs(exact).max()
    assert np.abs(cell.recurrent_eigenvalues()).max() < 1


# ------------------------------------------------------------------ the paper's layer, v = u
LAYER = [{}, {"mode": "recurrent", "state_size": 3},
         {"mode": "recurrent", "scan": "doubling", "state_size": 2},
         {"input_projection": "none", "state_size": 1}]


@pytest.mark.parametrize("opts", LAYER, ids=str)
def test_unprojected_layer_passes_gradcheck(opts, rng):
    cell = rnnzoo.make("s4d", 4, 4, seed=3, **opts)
    assert not cell.projected and "W_in" not in cell.params
    report = rnnzoo.gradcheck(cell, rng.standard_normal((6, 2, 4)), seed=5)
    assert {row.name for row in report.rows} == set(cell.params) | {"x", "x0"}
    assert report.passed, report.table()


@pytest.mark.parametrize("opts", LAYER, ids=str)
def test_unprojected_layer_equals_its_textbook_version(opts):
    cell = rnnzoo.make("s4d", 5, 5, seed=3, **opts)
    bad = {k: e for k, e in errors(run_both(cell, 5, 3, np.random.default_rng(7))[0]).items()
           if not e <= TOL}
    assert not bad, bad


@pytest.mark.parametrize("opts", LAYER, ids=str)
def test_unprojected_layer_keeps_the_contract(opts, rng):
    check_square_contract("s4d", opts, rng)


# ------------------------------------------------------------------ options
def test_input_projection_auto_is_none_exactly_when_the_sizes_match():
    assert "W_in" not in rnnzoo.make("s4d", 4, 4).params
    assert rnnzoo.make("s4d", 3, 4).params["W_in"].shape == (4, 3)
    assert rnnzoo.make("s4d", 4, 4, input_projection="dense").params["W_in"].shape == (4, 4)
    cell = rnnzoo.make("s4d", 3, 4, state_size=6)
    assert cell.params["C_re"].shape == (4, 6) and cell.params["log_dt"].shape == (4,)
    assert cell.initial_state(2)[0].shape == (2, 48) and cell.output_size == 4
    assert cell.recurrent_eigenvalues().shape == (4, 6) and cell.kernel(9).shape == (4, 9)
    assert cell.mode == "convolution" and cell.scan == "auto"      # the defaults
    for bad in (0, 2.0, None):
        with pytest.raises((TypeError, ValueError),
                           match=r"S4D\('s4d'\).kernel: T must be an integer >= 1; got"):
            cell.kernel(bad)


@pytest.mark.parametrize("opts,match", [
    ({"state_size": 0}, r"state_size must be an integer >= 1; got 0"),
    ({"state_size": 2.0}, r"state_size must be an integer >= 1; got 2.0"),
    ({"dt_min": 0.0}, r"dt_min must be a finite real number in \(0.0, inf\]; got 0.0"),
    ({"dt_max": -1.0}, r"dt_max must be a finite real number in \(0.0, inf\]; got -1.0"),
    ({"dt_min": 0.2, "dt_max": 0.1}, r"dt_min must be <= dt_max .*got dt_min=0.2, "
                                     r"dt_max=0.1"),
    ({"mode": "fft"}, r"mode must be one of 'recurrent', 'convolution'; got 'fft'"),
    ({"scan": "log"}, r"scan must be one of 'auto', 'loop', 'doubling'; got 'log' "
                      r"\(the log-space scan needs a real a > 0; a is complex\)"),
    ({"scan": ["log"]}, r"scan must be one of 'auto', 'loop', 'doubling'; got \['log'\]"),
    ({"input_projection": "none"}, r"input_projection='none' .* input_size == hidden_size; "
                                   r"got input_size=3, hidden_size=4"),
    ({"input_projection": True}, r"input_projection must be one of 'auto', 'none', 'dense'"),
])
def test_bad_options_are_refused_naming_them(opts, match):
    with pytest.raises(ValueError, match=r"S4D\('s4d'\): " + match):
        rnnzoo.make("s4d", 3, 4, **opts)


def test_cost_claim_separates_linear_from_quadratic_at_their_midpoint():
    """The state-space cost figure's claim on synthetic times T^p with known slopes p: it
    passes between 0.8 and 1.5, so a quadratic cell (2) fails it, and so does a slope
    just past either bound; the per-step measurement is time/T at the last T over the first fitted
    one (8 for a quadratic cost over 1024..8192, 1 for a linear one)."""
    from rnnzoo.teaching.figures import state_space as ss
    from rnnzoo.teaching.figures.unitary import fitted_slopes
    Ts = np.array(ss.COST_T, dtype=float)
    labels = list(ss.COST_CELLS)

    def run(powers):
        costs = {label: 1e-6 * Ts ** p for label, p in zip(labels, powers)}
        slopes = fitted_slopes(Ts, costs, ss.COST_FIT_FROM)
        np.testing.assert_allclose(list(slopes.values()), powers, rtol=1e-12)
        claims, measured = [], []
        ss.cost_claims(ss.COST_T, costs, slopes,
                       claim=lambda statement, passed, **numbers: claims.append(passed),
                       record=lambda statement, **numbers: measured.append(numbers))
        return claims, measured
    assert run([1.0, 1.0, 1.0, 1.0])[0] == [True]
    assert run([1.12, 1.4999, 0.8001, 1.0])[0] == [True]
    assert run([1.0, 1.5001, 1.0, 1.0])[0] == [False]
    assert run([1.0, 1.0, 2.0, 1.0])[0] == [False]
    assert run([1.0, 1.0, 1.0, 0.7999])[0] == [False]
    _, (per_step, ratio) = run([1.0, 2.0, 1.0, 1.0])
    assert per_step == {labels[0]: 1.0, labels[1]: 8.0, labels[2]: 1.0, labels[3]: 1.0}
    assert ratio == {"ratio": 8192.0}                  # recurrent / convolution: T² / T


def test_cost_figure_draws_the_times_the_time_per_step_and_a_true_quadratic_guide():
    """The two panels plot what their labels say: ms against T, µs per step (time / T),
    and a guide that is a quadratic cost (its time per step proportional to T) starting
    from the steepest cell's time per step at the first fitted T, over the fitted range."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from rnnzoo.teaching.figures import state_space as ss
    Ts = np.array(ss.COST_T, dtype=float)
    powers = [1.1, 1.3, 1.2, 1.0]
    costs = {label: 1e-6 * Ts ** p for label, p in zip(ss.COST_CELLS, powers)}
    slopes = dict(zip(ss.COST_CELLS, powers))
    fig, (total, per_step) = plt.subplots(1, 2)
    try:
        ss.plot_cost_in_T((total, per_step), ss.COST_T, costs, slopes, 1024, ss.COST_SHAPE)
        assert len(total.lines) == len(costs)
        for line, (label, c) in zip(total.lines, costs.items()):
            np.testing.assert_allclose(line.get_ydata(), c * 1e3)
            assert line.get_label() == f"{label}   slope {slopes[label]:.2f}"
        # s4d's two modes share a colour: the recurrent one is told apart by its dots
        assert [line.get_linestyle() for line in total.lines] == ["-", ":", "-", "-"]
        assert total.get_ylabel().startswith("ms") and "per step" in per_step.get_ylabel()
        for ax in (total, per_step):               # the fitted range is shaded on both
            (span,) = ax.patches
            assert span.get_x() == 1024 and span.get_x() + span.get_width() == 8192
        for line, c in zip(per_step.lines, costs.values()):
            np.testing.assert_allclose(line.get_ydata(), c / Ts * 1e6)
        guide = per_step.lines[-1]
        assert len(per_step.lines) == len(costs) + 1 and "quadratic" in guide.get_label()
        T, y = np.asarray(guide.get_xdata(), float), np.asarray(guide.get_ydata(), float)
        np.testing.assert_array_equal(T, Ts[Ts >= 1024])
        steepest = costs["s4d, recurrent"]                        # slope 1.3
        np.testing.assert_allclose(y, steepest[2] / 1024 * 1e6 * T / 1024)
        np.testing.assert_allclose(np.polyfit(np.log(T), np.log(y * T), 1)[0], 2.0)
        top = per_step.get_ylim()[1]
        assert top > max((c / Ts).max() for c in costs.values()) * 1e6   # every cell shown
    finally:
        plt.close(fig)


def test_cost_grid_says_so_where_freed_memory_cannot_be_kept(monkeypatch):
    """Without glibc the grid is timed with the allocator's own policy; a warning says so
    rather than a title claiming memory was kept."""
    from rnnzoo.teaching.figures import state_space as ss
    monkeypatch.setattr(ss, "keep_freed_memory", lambda: False)
    with pytest.warns(UserWarning, match="keep_freed_memory is not available here"):
        costs = ss._cost_grid((8, 16), (1, 2), 1, True)
    assert list(costs) == list(ss.COST_CELLS) and all(c.shape == (2,) for c in costs.values())
