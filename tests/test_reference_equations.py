"""Checks that need no torch: the loss gradients against float64 central differences,
and the LSTM and GRU forward passes against a plain NumPy transcription of their
equations (one step at a time, no buffers, no in-place tricks).

The gradcheck of the cells cannot catch a *consistent* mistake in the equations (swap
two gates in forward and backward alike and the gradients still match); the torch
oracle can, but it is skipped without torch. These references catch it everywhere.

A pass: loss gradients agree with central differences to their round-off floor (about
eps_machine * |L| / eps ~ 1e-10 absolute, so atol=1e-8; a wrong gradient is off by the
size of the gradient itself, 1e-2 or more here); the cells agree with the references to
1e-12; and each reference with two gates swapped disagrees by far more, which shows the
test would notice such a swap.
"""
import numpy as np
import pytest

import rnnzoo
from rnnzoo import mse_loss, softmax_cross_entropy


def numeric_grad(f, z, eps=1e-6):
    g = np.zeros_like(z)
    for k in np.ndindex(z.shape):
        old = z[k]
        z[k] = old + eps
        plus = f(z)
        z[k] = old - eps
        minus = f(z)
        z[k] = old
        g[k] = (plus - minus) / (2 * eps)
    return g


def test_mse_loss_gradient_matches_central_differences(rng):
    y, target = rng.standard_normal((3, 2, 4)), rng.standard_normal((3, 2, 4))
    loss, dy = mse_loss(y, target)
    assert loss == pytest.approx(((y - target) ** 2).mean(), rel=1e-14)
    num = numeric_grad(lambda z: mse_loss(z, target)[0], y.copy())
    np.testing.assert_allclose(dy, num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("ignore_index", [None, -100, 2])
def test_softmax_cross_entropy_gradient_matches_central_differences(rng, ignore_index):
    logits = 3.0 * rng.standard_normal((4, 3, 5))
    labels = rng.integers(0, 5, (4, 3))
    kw = {}
    if ignore_index is not None:
        labels[0, :] = ignore_index                     # a whole row left out ...
        labels[2, 1] = ignore_index                     # ... and one more position
        kw["ignore_index"] = ignore_index
    loss, dz = softmax_cross_entropy(logits, labels, **kw)
    counted = labels != (ignore_index if ignore_index is not None else -100)
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_p, np.where(counted, labels, 0)[..., None], -1)[..., 0]
    assert loss == pytest.approx(-(picked * counted).sum() / counted.sum(), rel=1e-12)
    num = numeric_grad(lambda z: softmax_cross_entropy(z, labels, **kw)[0], logits.copy())
    np.testing.assert_allclose(dz, num, rtol=1e-6, atol=1e-8)
    if ignore_index is not None:
        assert not dz[~counted].any()                   # ignored positions get no gradient


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def lstm_reference(P, x, h, c, order=("i", "f", "g", "o")):
    """h_t, c_t from the LSTM equations, gates in PyTorch's order i, f, g, o."""
    H = h.shape[1]
    hs = []
    for x_t in x:
        a = x_t @ P["W_ih"].T + P["b_ih"] + h @ P["W_hh"].T + P["b_hh"]
        gate = {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
        i, f, o = sigmoid(gate["i"]), sigmoid(gate["f"]), sigmoid(gate["o"])
        g = np.tanh(gate["g"])
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
    return np.array(hs), h, c


def gru_reference(P, x, h, order=("r", "z", "n")):
    """h_t from the GRU equations (PyTorch's: reset applied after W_hn h + b_hn)."""
    H = h.shape[1]
    hs = []
    for x_t in x:
        gi = x_t @ P["W_ih"].T + P["b_ih"]
        gh = h @ P["W_hh"].T + P["b_hh"]
        blk = {name: k for k, name in enumerate(order)}
        part = {name: (gi[:, k * H:(k + 1) * H], gh[:, k * H:(k + 1) * H])
                for name, k in blk.items()}
        r = sigmoid(part["r"][0] + part["r"][1])
        z = sigmoid(part["z"][0] + part["z"][1])
        n = np.tanh(part["n"][0] + r * part["n"][1])
        h = (1.0 - z) * n + z * h
        hs.append(h)
    return np.array(hs), h


@pytest.mark.parametrize("forget_bias", [0.0, 1.0])
def test_lstm_forward_matches_the_equations(rng, forget_bias):
    cell = rnnzoo.make("lstm", 3, 5, seed=4, forget_bias=forget_bias)
    x = rng.standard_normal((6, 2, 3))
    h0, c0 = 0.5 * rng.standard_normal((2, 5)), 0.5 * rng.standard_normal((2, 5))
    hs, (h_T, c_T), _ = cell.forward(x, (h0, c0))
    ref_hs, ref_h, ref_c = lstm_reference(cell.params, x, h0, c0)
    np.testing.assert_allclose(hs, ref_hs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h_T, ref_h, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c_T, ref_c, rtol=1e-12, atol=1e-14)
    swapped, _, _ = lstm_reference(cell.params, x, h0, c0, order=("f", "i", "g", "o"))
    assert np.abs(swapped - hs).max() > 1e-3


def test_gru_forward_matches_the_equations(rng):
    cell = rnnzoo.make("gru", 3, 5, seed=4)
    x = rng.standard_normal((6, 2, 3))
    h0 = 0.5 * rng.standard_normal((2, 5))
    hs, (h_T,), _ = cell.forward(x, (h0,))
    ref_hs, ref_h = gru_reference(cell.params, x, h0)
    np.testing.assert_allclose(hs, ref_hs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h_T, ref_h, rtol=1e-12, atol=1e-14)
    swapped, _ = gru_reference(cell.params, x, h0, order=("z", "r", "n"))
    assert np.abs(swapped - hs).max() > 1e-3
