"""Optimizers against updates computed by hand on a small quadratic.

The quadratic L(θ) = ½ Σ a_k θ_k² has gradient g = a ⊙ θ, so each optimizer's first
few updates can be written out with plain arithmetic and compared to 1e-15.
"""
import numpy as np
import pytest

import rnnzoo
from rnnzoo.optim import (SGD, Adam, RMSprop, apply_constraints, clip_grad_norm,
                          make_optimizer, optimizer_from_state)

A = np.array([1.0, 4.0, 0.5])
THETA0 = np.array([1.0, -2.0, 3.0])


def quad_grads(params):
    return {"w": A * params["w"]}


def run(opt_cls, steps, **kw):
    params = {"w": THETA0.copy()}
    opt = opt_cls(params, **kw)
    for _ in range(steps):
        opt.step(quad_grads(params))
    return params["w"], opt


def test_sgd_plain_matches_hand_computed():
    # θ1 = θ0 − η a θ0 = θ0 (1 − η a); θ2 = θ0 (1 − η a)²
    w, _ = run(SGD, 2, lr=0.1)
    np.testing.assert_allclose(w, THETA0 * (1 - 0.1 * A) ** 2, rtol=0, atol=1e-15)


def test_sgd_momentum_matches_hand_computed():
    lr, mu = 0.1, 0.9
    g1 = A * THETA0
    v1 = g1
    th1 = THETA0 - lr * v1
    g2 = A * th1
    v2 = mu * v1 + g2
    th2 = th1 - lr * v2
    w, opt = run(SGD, 2, lr=lr, momentum=mu)
    np.testing.assert_allclose(w, th2, rtol=0, atol=1e-15)
    np.testing.assert_allclose(opt.buffers["velocity"]["w"], v2, rtol=0, atol=1e-15)


def test_rmsprop_matches_hand_computed():
    lr, alpha, eps = 0.01, 0.9, 1e-8
    th, s = THETA0.copy(), np.zeros(3)
    for _ in range(3):
        g = A * th
        s = alpha * s + (1 - alpha) * g ** 2
        th = th - lr * g / (np.sqrt(s) + eps)
    w, _ = run(RMSprop, 3, lr=lr, alpha=alpha, eps=eps)
    np.testing.assert_allclose(w, th, rtol=0, atol=1e-15)


def test_adam_first_step_is_lr_times_sign():
    # with bias correction, m̂1 = g1 and v̂1 = g1², so θ1 = θ0 − η g/(|g| + ε) ≈ θ0 − η sign(g)
    w, _ = run(Adam, 1, lr=0.05)
    g = A * THETA0
    np.testing.assert_allclose(w, THETA0 - 0.05 * g / (np.abs(g) + 1e-8), rtol=0, atol=1e-15)


def test_adam_matches_hand_computed():
    lr, b1, b2, eps = 0.02, 0.8, 0.95, 1e-6
    th, m, v = THETA0.copy(), np.zeros(3), np.zeros(3)
    for t in range(1, 4):
        g = A * th
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        th = th - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    w, opt = run(Adam, 3, lr=lr, betas=(b1, b2), eps=eps)
    np.testing.assert_allclose(w, th, rtol=0, atol=1e-15)
    assert opt.step_count == 3


@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adam"])
def test_every_optimizer_minimizes_the_quadratic(name):
    params = {"w": THETA0.copy()}
    opt = make_optimizer(name, params, lr=0.05)
    for _ in range(500):
        opt.step(quad_grads(params))
    assert np.abs(params["w"]).max() < 0.05


def test_updates_are_in_place_on_model_params():
    model = rnnzoo.build_model("gru", 2, 4, 1, readout="last", seed=0)
    before = {k: p.copy() for k, p in model.params.items()}
    opt = SGD(model.params, lr=0.1)
    opt.step({k: np.ones_like(p) for k, p in model.params.items()})
    for k, p in model.params.items():          # the model's own arrays moved
        np.testing.assert_allclose(p, before[k] - 0.1, rtol=0, atol=1e-15)
    assert model.cells[0].params["W_hh"] is model.params["cell0.W_hh"]


def test_per_parameter_learning_rates_by_pattern_and_callable():
    params = {"cell0.W_hh": np.ones(2), "cell0.W_ih": np.ones(2), "readout.W": np.ones(2)}
    grads = {k: np.ones(2) for k in params}
    opt = SGD(params, lr=0.1, lr_for={"cell*.W_hh": 0.01})
    assert opt.lrs == {"cell0.W_hh": 0.01, "cell0.W_ih": 0.1, "readout.W": 0.1}
    opt.step(grads)
    np.testing.assert_allclose(params["cell0.W_hh"], 0.99, rtol=0, atol=1e-15)
    np.testing.assert_allclose(params["cell0.W_ih"], 0.9, rtol=0, atol=1e-15)
    groups = {g["lr"]: sorted(g["names"]) for g in opt.param_groups}
    assert groups == {0.01: ["cell0.W_hh"], 0.1: ["cell0.W_ih", "readout.W"]}
    opt2 = SGD({k: np.ones(2) for k in params}, lr=0.1,
               lr_for=lambda n: 0.0 if n.startswith("readout") else None)
    assert opt2.lrs["readout.W"] == 0.0 and opt2.lrs["cell0.W_ih"] == 0.1


def test_lr_for_pattern_matching_nothing_is_an_error():
    with pytest.raises(KeyError, match="matches no parameter"):
        SGD({"w": np.ones(2)}, lr=0.1, lr_for={"cell0.W_hh": 0.01})


def test_step_rejects_wrong_keys_and_shapes():
    opt = SGD({"w": np.ones(2)}, lr=0.1)
    with pytest.raises(KeyError, match="missing"):
        opt.step({"v": np.ones(2)})
    with pytest.raises(ValueError, match=r"gradient 'w' has shape \(3,\)"):
        opt.step({"w": np.ones(3)})


def test_state_dict_round_trip_resumes_identically():
    w_full, _ = run(Adam, 6, lr=0.05)
    params = {"w": THETA0.copy()}
    opt = Adam(params, lr=0.05)
    for _ in range(3):
        opt.step(quad_grads(params))
    state = opt.state_dict()
    params2 = {"w": params["w"].copy()}
    opt2 = optimizer_from_state(params2, state)
    for _ in range(3):
        opt2.step(quad_grads(params2))
    np.testing.assert_array_equal(params2["w"], w_full)
    with pytest.raises(ValueError, match="saved by optimizer 'Adam'"):
        SGD({"w": THETA0.copy()}, lr=0.1).load_state_dict(state)


def test_clip_grad_norm_scales_to_max_norm_and_returns_the_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[0.0, 4.0]])}
    total = clip_grad_norm(grads, 1.0)
    assert total == pytest.approx(5.0)
    np.testing.assert_allclose(grads["a"], [0.6, 0.0])
    np.testing.assert_allclose(grads["b"], [[0.0, 0.8]])
    small = {"a": np.array([0.3, 0.4])}
    assert clip_grad_norm(small, 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(small["a"], [0.3, 0.4])      # under the cap: untouched


def test_apply_constraints_calls_each_cells_hook():
    model = rnnzoo.build_model("rnn", 2, 3, 1, layers=2, seed=0)
    calls = []
    model.cells[1].constrain = lambda: calls.append(1) or np.clip(
        model.cells[1].params["W_hh"], -0.1, 0.1, out=model.cells[1].params["W_hh"])
    assert apply_constraints(model) == 1
    assert calls == [1]
    assert np.abs(model.params["cell1.W_hh"]).max() <= 0.1
