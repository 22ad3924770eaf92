"""UnICORNN: the authors' kernel formulas as an oracle, their init, and the backward that
walks the states back (memory="reconstruct") against the one that stores them.

A pass: the cell equals a float64 port of the formulas of tk-rusch/unicornn's CUDA
kernels (forward and backward) to 1e-12; the two memory modes agree to 1e-10 on 1,000
steps (they differ by round-off, about 1e-13); the reconstruct cache holds nothing of
size (T, B, H); finite differences pass in both modes.
"""
import numpy as np
import pytest
from scipy import stats

import rnnzoo
from rnnzoo.core.base import Cache

from .hostile import raises


# ------------------------------------------------------------------ the authors' kernels
def kernel_forward(x_hat, w, c, dt, alpha):
    """unicornn_fwd of tk-rusch/unicornn (psMNIST/network.py), every (batch, unit) column
    at once, in float64: from zero states, returns hy_all (T, B, H), hy_final, hz_final."""
    sig = 1.0 / (1.0 + np.exp(-c))
    hy = np.zeros(x_hat.shape[1:])
    hz = np.zeros(x_hat.shape[1:])
    hy_all = np.empty_like(x_hat)
    for row in range(len(x_hat)):
        hz = hz - dt * sig * (np.tanh(hy * w + x_hat[row]) + alpha * hy)
        hy = hy + dt * sig * hz
        hy_all[row] = hy
    return hy_all, hy, hz


def kernel_backward(x_hat, w, c, dt, alpha, hy_final, hz_final, grad_h):
    """unicornn_bwd, the same way: returns grad_x (dL/dx̂), grad_weight_hh (dL/dw),
    grad_c, from the final states (it reconstructs the earlier ones itself)."""
    sig = 1.0 / (1.0 + np.exp(-c))
    sig_grad = np.exp(-c) / (1.0 + np.exp(-c)) ** 2
    hy, hz = hy_final.copy(), hz_final.copy()
    delta_z = np.zeros_like(hy)
    delta_y = grad_h[-1].copy()
    gw = np.zeros_like(hy)
    gc = np.zeros_like(hy)
    gx = np.empty_like(x_hat)
    for row in reversed(range(len(x_hat))):
        delta_dt = delta_y * dt * sig_grad * hz
        hy = hy - dt * sig * hz
        hz = hz + dt * sig * (np.tanh(hy * w + x_hat[row]) + alpha * hy)
        sech2 = 1.0 / np.cosh(hy * w + x_hat[row]) ** 2
        delta_z = delta_z + delta_y * dt * sig
        gw = gw - delta_z * dt * sig * sech2 * hy
        gc = gc + delta_dt - delta_z * (dt * sig_grad * (np.tanh(hy * w + x_hat[row])
                                                          + alpha * hy))
        gx[row] = -delta_z * dt * sig * sech2
        if row == 0:
            break
        delta_y = delta_y - delta_z * dt * sig * (sech2 * w + alpha) + grad_h[row - 1]
    return gx, gw.sum(axis=0), gc.sum(axis=0)


@pytest.mark.parametrize("memory", ["reconstruct", "store"])
@pytest.mark.parametrize("dt,alpha", [(0.19, 30.65), (0.126, 13.0), (0.5, 0.0)])
def test_equals_the_authors_kernels(memory, dt, alpha, rng):
    """Their kernels take x̂ = V x + b, start from zero states and take a gradient on the
    outputs only; the cell's dV, db and dx are then Σ gx x, Σ gx and gx V."""
    cell = rnnzoo.make("unicornn", 3, 6, seed=1, dt=dt, alpha=alpha, memory=memory)
    P = cell.params
    P["b"] += 0.3 * rng.standard_normal(6)             # b = 0 at init: give it a value
    x = rng.standard_normal((40, 2, 3))
    dhs = rng.standard_normal((40, 2, 6))
    hs, (y_T, z_T), cache = cell.forward(x)
    dx, _, grads = cell.backward(dhs, cache)
    x_hat = x @ P["V"].T + P["b"]
    hy_all, hy, hz = kernel_forward(x_hat, P["w"], P["c"], dt, alpha)
    gx, gw, gc = kernel_backward(x_hat, P["w"], P["c"], dt, alpha, hy, hz, dhs)
    for a, b in [(hs, hy_all), (y_T, hy), (z_T, hz), (grads["w"], gw), (grads["c"], gc),
                 (grads["b"], gx.sum(axis=(0, 1))),
                 (grads["V"], np.einsum("tbh,tbd->hd", gx, x)), (dx, gx @ P["V"])]:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * np.abs(b).max())


def test_initialization_is_the_authors(rng):
    """w ~ U(0, 1), c ~ U(-0.1, 0.1), V ~ U(-r, r) with r = sqrt(6 / (65 D))
    (kaiming_uniform_(a=8)), b = 0: Kolmogorov-Smirnov against each law (p > 1e-3; a
    wrong range gives p ~ 0), and the bounds."""
    D, H = 50, 2000
    P = rnnzoo.make("unicornn", D, H, seed=11).params
    r = np.sqrt(6.0 / (65.0 * D))
    for values, lo, hi in [(P["w"], 0.0, 1.0), (P["c"], -0.1, 0.1), (P["V"].ravel(), -r, r)]:
        assert values.min() >= lo and values.max() <= hi
        assert stats.kstest(values, stats.uniform(lo, hi - lo).cdf).pvalue > 1e-3
    assert stats.kstest(P["V"].ravel(), stats.uniform(-2 * r, 4 * r).cdf).pvalue < 1e-10
    np.testing.assert_array_equal(P["b"], 0.0)
    cell = rnnzoo.make("unicornn", D, H)
    assert (cell.dt, cell.alpha, cell.memory) == (0.19, 30.65, "reconstruct")


def run_mode(memory, x, state0, dhs, dstate_T, dtype=np.float64, **opts):
    cell = rnnzoo.make("unicornn", x.shape[2], dhs.shape[2], seed=4, memory=memory,
                       dtype=dtype, **opts)
    rng = np.random.default_rng(9)
    for p in cell.params.values():                     # off the init (b = 0)
        p += (0.1 * rng.standard_normal(p.shape)).astype(dtype)
    hs, state_T, cache = cell.forward(x.astype(dtype), tuple(s.astype(dtype) for s in state0))
    dx, dstate0, grads = cell.backward(dhs.astype(dtype), cache,
                                       tuple(s.astype(dtype) for s in dstate_T))
    return {"hs": hs, "y_T": state_T[0], "z_T": state_T[1], "dx": dx, "dy0": dstate0[0],
            "dz0": dstate0[1], "dh_norm": grads.dh_norm, **{f"d{k}": v for k, v in grads.items()}}


@pytest.mark.parametrize("opts", [{}, {"dt": 0.5, "alpha": 0.0}])
def test_reconstruct_equals_store_on_1000_steps(opts, rng):
    """Walking back from the final state gives the stored states' gradients to 1e-10
    (forward and every gradient) in float64 over 1,000 steps, from a random state with a
    random gradient on the final state."""
    T, B, D, H = 1000, 2, 3, 8
    x = rng.standard_normal((T, B, D))
    state0 = tuple(0.5 * rng.standard_normal((B, H)) for _ in range(2))
    dhs = rng.standard_normal((T, B, H))
    dstate_T = tuple(rng.standard_normal((B, H)) for _ in range(2))
    rec = run_mode("reconstruct", x, state0, dhs, dstate_T, **opts)
    sto = run_mode("store", x, state0, dhs, dstate_T, **opts)
    for name in sto:
        a, b = rec[name], sto[name]
        err = np.abs(a - b).max() / np.abs(b).max()
        assert err <= 1e-10, f"{name}: reconstruct vs store {err:.2e}"


def cached_arrays(cache):
    return {k: v for k, v in vars(cache).items() if isinstance(v, np.ndarray)} | {
        f"{k}[{i}]": a for k, v in vars(cache).items() if isinstance(v, tuple)
        for i, a in enumerate(v) if isinstance(a, np.ndarray)}


def test_the_reconstruct_cache_holds_no_states_over_time(rng):
    """memory="reconstruct": the cache is x (T, B, D) and four (B, H) states, nothing of
    size T * B * H; "store" holds three (T, B, H)-sized arrays more (so the test can
    tell the two apart)."""
    T, B, D, H = 50, 2, 3, 16
    x = rng.standard_normal((T, B, D))
    sizes = {}
    for memory in ("reconstruct", "store"):
        cell = rnnzoo.make("unicornn", D, H, memory=memory)
        _, _, cache = cell.forward(x)
        assert isinstance(cache, Cache)
        arrays = cached_arrays(cache)
        sizes[memory] = sum(a.size for a in arrays.values())
        if memory == "reconstruct":
            assert all(a.size <= max(x.size, B * H) for a in arrays.values()), \
                {k: a.shape for k, a in arrays.items()}
    assert sizes["reconstruct"] == T * B * D + 4 * B * H
    assert sizes["store"] >= sizes["reconstruct"] + 3 * T * B * H


@pytest.mark.parametrize("memory", ["reconstruct", "store"])
def test_finite_differences_over_a_longer_sequence(memory, rng):
    """Every parameter, x, y_0 and z_0 on 30 steps (the registry suite checks 6)."""
    cell = rnnzoo.make("unicornn", 3, 5, seed=2, memory=memory)
    report = rnnzoo.gradcheck(cell, rng.standard_normal((30, 2, 3)), seed=3)
    assert {r.name for r in report.rows} == {"V", "b", "w", "c", "x", "y0", "z0"}
    assert report.passed, report.table()


def test_each_units_step_preserves_area(rng):
    """The step's Jacobian on one unit's (y, z) has determinant 1 (two shears): by
    central differences, for random states, inputs and parameters."""
    cell = rnnzoo.make("unicornn", 2, 3, seed=5)
    x = rng.standard_normal((1, 1, 2))
    y0, z0 = rng.standard_normal((1, 3)), rng.standard_normal((1, 3))
    eps = 1e-6
    J = np.empty((3, 2, 2))                          # per unit: d(y_1, z_1) / d(y_0, z_0)
    for j, which in enumerate((0, 1)):
        up, down = [y0.copy(), z0.copy()], [y0.copy(), z0.copy()]
        up[which] += eps
        down[which] -= eps
        (yu, zu), (yd, zd) = cell.forward(x, tuple(up))[1], cell.forward(x, tuple(down))[1]
        J[:, 0, j] = ((yu - yd) / (2 * eps))[0]
        J[:, 1, j] = ((zu - zd) / (2 * eps))[0]
    np.testing.assert_allclose(np.linalg.det(J), 1.0, rtol=1e-8)


@pytest.mark.parametrize("opts,match", [
    ({"dt": 0.0}, r"dt must be a finite real number in \(0.0, inf\]; got 0.0"),
    ({"dt": -0.1}, r"dt must be .*; got -0.1"),
    ({"alpha": -1.0}, r"alpha must be a finite real number in \[0.0, inf\]; got -1.0"),
    ({"memory": "none"}, r"memory must be one of 'reconstruct', 'store'; got 'none'")])
def test_options_are_checked(opts, match):
    raises(ValueError, match, rnnzoo.make, "unicornn", 2, 3, **opts)
