"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?"): what the
registry-driven suites (contract, hostile input, gradcheck, textbook twin) do not say.

* Every scan form (``mode``) computes the same cell, forward and backward, to 1e-12 of
  each tensor's largest entry in float64.
* An oracle ported from the paper's appendix B (its log-space parallel form, listings 5,
  8 and 10, and its sequential listings 7 and 9), written here in plain NumPy with the
  paper's names, equals the cell's forward to 1e-12.
* The gradient over k steps is a product of k numbers per unit (the step Jacobian is
  diagonal), and minLSTM stays finite where f + i underflows.
"""
import numpy as np
import pytest

import rnnzoo
from rnnzoo.core import scan
from rnnzoo.reference.minimal import g

NAMES = ("mingru", "minlstm")
MODES = ("loop", "doubling", "log")
TOL = 1e-12
T, B, D, H = 7, 3, 4, 5


def rel(x, y):
    return float(np.abs(x - y).max() / np.abs(y).max())


def build(name, mode="auto", dtype=np.float64, seed=2):
    cell = rnnzoo.make(name, D, H, seed=seed, mode=mode, dtype=dtype)
    rng = np.random.default_rng(seed)
    for p in cell.params.values():           # off the initialization, so no term hides
        p += (0.3 * rng.standard_normal(p.shape)).astype(dtype)
    return cell


def run(cell, x, state0, dhs, dstate_T):
    hs, state_T, cache = cell.forward(x, state0)
    dx, dstate0, grads = cell.backward(dhs, cache, dstate_T)
    return {"hs": hs, "h_T": state_T[0], "dx": dx, "dh0": dstate0[0],
            "dh_norm": grads.dh_norm, **{f"d{k}": v for k, v in grads.items()}}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("state", ["positive", "zero", "any sign"])
def test_every_mode_computes_the_same_cell(name, state):
    rng = np.random.default_rng(0)
    x, dhs = rng.standard_normal((T, B, D)), rng.standard_normal((T, B, H))
    h0 = {"positive": np.abs(rng.standard_normal((B, H))), "zero": np.zeros((B, H)),
          "any sign": rng.standard_normal((B, H))}[state]
    dstate_T = (rng.standard_normal((B, H)),)
    loop = run(build(name, "loop"), x, (h0,), dhs, dstate_T)
    modes = MODES if state != "any sign" else MODES[:2]
    for mode in modes + ("auto",):
        got = run(build(name, mode), x, (h0,), dhs, dstate_T)
        bad = {k: rel(got[k], v) for k, v in loop.items() if not rel(got[k], v) <= TOL}
        assert not bad, f"{name} mode={mode} differs from the loop: {bad}"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("mode", ["loop", "doubling", "log"])
def test_the_mode_chooses_the_scan_the_cell_runs(name, mode, monkeypatch):
    """The option reaches the scan: forward and backward call it with that form (the
    log form through log_space_scan, from the pre-activations' logs)."""
    calls = []
    for fn in ("linear_scan", "linear_scan_backward", "log_space_scan"):
        original = getattr(scan, fn)

        def spy(*args, _fn=fn, _original=original, **kwargs):
            given = [v for v in args if isinstance(v, str)] + [kwargs.get("mode")]
            calls.append((_fn, given[0]))
            return _original(*args, **kwargs)
        monkeypatch.setattr(scan, fn, spy)
    cell = build(name, mode)
    hs, _, cache = cell.forward(np.ones((3, 2, D)))
    cell.backward(np.ones_like(hs), cache)
    first = ("log_space_scan", None) if mode == "log" else ("linear_scan", mode)
    assert calls == [first, ("linear_scan_backward", mode)]


@pytest.mark.parametrize("name", NAMES)
def test_log_mode_refuses_a_negative_state_and_says_what_to_use(name):
    cell = build(name, "log")
    h0 = np.full((B, H), 0.5)
    h0[1, 2] = -0.25
    with pytest.raises(ValueError, match=r"mode='log' computes in log space from log h_0 .* "
                                         r"needs state0 >= 0; got min -0.25; use mode='loop'"):
        cell.forward(np.zeros((T, B, D)), (h0,))


@pytest.mark.parametrize("name", NAMES)
def test_log_mode_in_float32_matches_float64(name):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((50, B, D))
    h64 = build(name, "log").forward(x)[0]
    h32 = build(name, "log", np.float32).forward(x.astype(np.float32))[0]
    assert h32.dtype == np.float32 and rel(h32, h64) < 1e-5


# ------------------------------------------------------------------ the paper's oracle
# Feng et al. 2024, appendix B (arXiv 2410.01201), ported to float64 NumPy with the
# paper's names; h0 is (B, 1, H) and x (B, T, D), batch first, as in the listings.
def softplus(v):
    return np.logaddexp(0.0, v)


def paper_g(x):                                      # listing 6
    return np.where(x >= 0, x + 0.5, 1.0 / (1.0 + np.exp(-x)))


def paper_log_g(x):                                  # listing 6
    return np.where(x >= 0, np.log(np.maximum(x, 0) + 0.5), -softplus(-x))


def parallel_scan_log(log_coeffs, log_values):       # listing 5
    # log_coeffs: (batch_size, seq_len, input_size)
    # log_values: (batch_size, seq_len + 1, input_size)
    a_star = np.pad(np.cumsum(log_coeffs, axis=1), ((0, 0), (1, 0), (0, 0)))
    log_h0_plus_b_star = np.logaddexp.accumulate(log_values - a_star, axis=1)
    log_h = a_star + log_h0_plus_b_star
    return np.exp(log_h)[:, 1:]


def linear(x, W, b):                                 # Linear_{d_h}
    return x @ W.T + b


def split(params, gates):
    return list(zip(np.split(params["W"], gates), np.split(params["b"], gates)))


def mingru_parallel_log(x, h_0, params, log_h_0=np.log):
    """Algorithm 6 / listing 8 (log_h_0=paper_log_g for listing 8's code)."""
    (W_z, b_z), (W_h, b_h) = split(params, 2)
    k = linear(x, W_z, b_z)
    log_z = -softplus(-k)
    log_coeffs = -softplus(k)
    with np.errstate(divide="ignore"):
        log_h_0 = log_h_0(h_0)
    log_tilde_h = paper_log_g(linear(x, W_h, b_h))
    return parallel_scan_log(log_coeffs, np.concatenate([log_h_0, log_z + log_tilde_h], axis=1))


def minlstm_parallel_log(x, h_0, params):
    """Algorithm 8 / listing 10."""
    (W_f, b_f), (W_i, b_i), (W_h, b_h) = split(params, 3)
    diff = softplus(-linear(x, W_f, b_f)) - softplus(-linear(x, W_i, b_i))
    log_f = -softplus(diff)
    log_i = -softplus(-diff)
    with np.errstate(divide="ignore"):
        log_h_0 = np.log(h_0)
    log_tilde_h = paper_log_g(linear(x, W_h, b_h))
    return parallel_scan_log(log_f, np.concatenate([log_h_0, log_i + log_tilde_h], axis=1))


def mingru_sequential(x, h_0, params):
    """Listing 7, one step after another."""
    (W_z, b_z), (W_h, b_h) = split(params, 2)
    h_prev, out = h_0, []
    for t in range(x.shape[1]):
        x_t = x[:, t:t + 1]
        z = 1.0 / (1.0 + np.exp(-linear(x_t, W_z, b_z)))
        h_tilde = paper_g(linear(x_t, W_h, b_h))
        h_prev = (1 - z) * h_prev + z * h_tilde
        out.append(h_prev)
    return np.concatenate(out, axis=1)


def minlstm_sequential(x, h_0, params):
    """Listing 9, one step after another."""
    (W_f, b_f), (W_i, b_i), (W_h, b_h) = split(params, 3)
    h_prev, out = h_0, []
    for t in range(x.shape[1]):
        x_t = x[:, t:t + 1]
        f_t = 1.0 / (1.0 + np.exp(-linear(x_t, W_f, b_f)))
        i_t = 1.0 / (1.0 + np.exp(-linear(x_t, W_i, b_i)))
        tilde_h_t = paper_g(linear(x_t, W_h, b_h))
        f_prime_t = f_t / (f_t + i_t)
        i_prime_t = i_t / (f_t + i_t)
        h_prev = f_prime_t * h_prev + i_prime_t * tilde_h_t
        out.append(h_prev)
    return np.concatenate(out, axis=1)


ORACLES = {"mingru": (mingru_parallel_log, mingru_sequential),
           "minlstm": (minlstm_parallel_log, minlstm_sequential)}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("h0_kind", ["zero", "positive"])
def test_the_cell_equals_the_papers_log_space_and_sequential_code(name, h0_kind):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, B, D))
    h0 = np.zeros((B, H)) if h0_kind == "zero" else rng.uniform(0.1, 2.0, (B, H))
    cell = build(name)
    batch_first = x.transpose(1, 0, 2)
    parallel, sequential = ORACLES[name]
    expected = parallel(batch_first, h0[:, None, :], cell.params).transpose(1, 0, 2)
    assert rel(sequential(batch_first, h0[:, None, :], cell.params).transpose(1, 0, 2),
               expected) <= TOL                      # the paper's two forms agree
    for mode in MODES:
        hs = build(name, mode).forward(x, (h0,))[0]
        assert rel(hs, expected) <= TOL, f"{name} mode={mode}: {rel(hs, expected):.1e}"


def test_listing_8_starts_minGRU_from_g_of_h0():
    """Listing 8's code takes log_g(h_0) where algorithm 6 takes log(h_0): it is the cell
    started from g(h_0) (0.5 for a zero state), not from h_0."""
    rng = np.random.default_rng(4)
    x, h0 = rng.standard_normal((10, B, D)), rng.standard_normal((B, H))
    cell = build("mingru")
    listing_8 = mingru_parallel_log(x.transpose(1, 0, 2), h0[:, None, :], cell.params,
                                    log_h_0=paper_log_g).transpose(1, 0, 2)
    assert rel(cell.forward(x, (g(h0),))[0], listing_8) <= TOL
    assert rel(cell.forward(x, (h0,))[0], listing_8) > 1e-3


# ------------------------------------------------------------------ what the cells teach
@pytest.mark.parametrize("name", NAMES)
def test_the_gradient_over_k_steps_is_a_product_of_numbers_per_unit(name):
    """∂h_t/∂h_{t-1} = diag(a_t) with a = 1 - z (minGRU) or f' (minLSTM): dL/dh_0 is
    dL/dh_T times the product of a_1..a_T, unit by unit, with no matrix in sight."""
    from rnnzoo import reference
    rng = np.random.default_rng(5)
    cell = build(name)
    x, h0 = rng.standard_normal((T, B, D)), rng.standard_normal((B, H))
    dhs = np.zeros((T, B, H))
    dhs[-1] = rng.standard_normal((B, H))
    _, _, cache = cell.forward(x, (h0,))
    _, (dh0,), _ = cell.backward(dhs, cache)
    _, _, steps = reference.get(name).forward(x, (h0,), cell.params)
    a = np.stack([1.0 - c["z"] if name == "mingru" else c["f_prime"] for c in steps])
    assert rel(dh0, dhs[-1] * a.prod(axis=0)) <= TOL


@pytest.mark.parametrize("bias", [-200.0, 200.0], ids=["f+i underflows", "both saturate"])
def test_minlstm_stays_finite_where_its_gates_saturate(bias):
    """Both gates' pre-activations near -200: σ underflows to 0 in float32, so f / (f + i)
    would be 0/0; near +200, e^{k} overflows. The cell's shifted exponentials give f' in
    both cases, equal to the float64 textbook (where nothing under- or overflows), and
    every gradient is finite."""
    from rnnzoo import reference
    cell = rnnzoo.make("minlstm", D, H, seed=0, dtype=np.float32)
    cell.params["b"][:2 * H] = bias
    x = np.random.default_rng(6).standard_normal((T, B, D)).astype(np.float32)
    with np.errstate(all="ignore"):
        f = 1.0 / (1.0 + np.exp(np.float32(200.0)))
        assert f == 0.0 and np.isnan(f / (f + f))    # what f / (f + i) would do
        assert np.isinf(np.exp(np.float32(200.0)))
    hs, _, cache = cell.forward(x)
    _, _, grads = cell.backward(np.ones_like(hs), cache)
    assert all(np.isfinite(v).all() for v in grads.values())
    params64 = {k: v.astype(np.float64) for k, v in cell.params.items()}
    textbook = reference.get("minlstm").forward(x.astype(np.float64), None, params64)[0]
    assert rel(hs, textbook) < 1e-5


@pytest.mark.parametrize("name,gates", [("mingru", 2), ("minlstm", 3)])
def test_initialization_is_torch_linears(name, gates):
    cell = rnnzoo.make(name, 16, 8, seed=0)
    assert cell.params["W"].shape == (gates * 8, 16) and cell.params["b"].shape == (gates * 8,)
    for p in cell.params.values():
        assert np.abs(p).max() <= 0.25 and np.abs(p).max() > 0.2      # U(-1/4, 1/4), D = 16


@pytest.mark.parametrize("name", NAMES)
def test_mode_is_validated(name):
    with pytest.raises(ValueError, match=rf"'{name}'\): mode must be one of 'auto', 'loop', "
                                         r"'doubling', 'log'; got 'parallel'"):
        rnnzoo.make(name, D, H, mode="parallel")
