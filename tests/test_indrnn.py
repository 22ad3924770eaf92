"""IndRNN and the deep residual IndRNN: the scalar-power gradient, the bound on |u| as a
projection after the optimizer step, the initializations, the stack's wiring, options.

The contract suite and the finite-difference check of every tensor run from the
registry (tests/test_contract.py, tests/test_gradients.py); these are the cells' own
proofs.
"""
import numpy as np
import pytest

import rnnzoo
from rnnzoo.optim import SGD, apply_constraints


def test_gradient_back_k_steps_is_u_to_the_k(rng):
    """On an active ReLU path (all pre-activations > 0) dL/dh_0 = u^T dL/dh_T elementwise,
    neuron by neuron: the whole idea of IndRNN. A pass: equal to ~1e-15 relative."""
    T, H = 30, 5
    cell = rnnzoo.make("indrnn", 2, H, seed=0)
    cell.params["b"][...] = 1.0                      # keeps every unit active (x small)
    x = 0.1 * rng.random((T, 1, 2))
    hs, _, cache = cell.forward(x, (np.ones((1, H)),))
    assert np.all(cache.h > 0)
    dhs = np.zeros_like(hs)
    dhs[-1] = rng.standard_normal((1, H))
    _, (dh0,), _ = cell.backward(dhs, cache)
    np.testing.assert_allclose(dh0, dhs[-1] * cell.params["u"] ** T, rtol=1e-12)


def test_constrain_projects_u_and_only_after_the_optimizer_step(rng):
    """u outside the bound is used as is by forward (no hidden clipping); an SGD step
    that pushes u far out is projected back to |u| <= MAG^(1/T) by apply_constraints,
    entries inside the bound are left alone, and without t_max nothing is clipped."""
    T, mag = 50, 2.0
    bound = mag ** (1 / T)
    cell = rnnzoo.make("indrnn", 2, 6, seed=0, t_max=T, mag=mag)
    cell.params["u"][...] = [3.0, -3.0, 0.5, -0.5, bound, 1.2]
    x = rng.standard_normal((4, 2, 2))
    hs_before, _, _ = cell.forward(x)
    free = rnnzoo.make("indrnn", 2, 6, seed=0)
    free.params["u"][...] = cell.params["u"]
    np.testing.assert_array_equal(free.forward(x)[0], hs_before)      # forward never clips
    u_array = cell.params["u"]
    opt = SGD(cell.params, lr=1.0)
    opt.step({"W": np.zeros((6, 2)), "u": np.array([0, 0, 0, 0, 0, -1.0]), "b": np.zeros(6)})
    assert apply_constraints(cell) == 1
    assert cell.params["u"] is u_array                                # in place
    np.testing.assert_array_equal(cell.params["u"], [bound, -bound, 0.5, -0.5, bound, bound])
    free.params["u"][...] = 5.0
    free.constrain()
    assert np.all(free.params["u"] == 5.0)


def test_residual_stack_constrains_every_layer():
    cell = rnnzoo.make("resindrnn", 2, 4, depth=3, t_max=10, mag=2.0)
    for l in (1, 2, 3):
        cell.params[f"u{l}"][...] = 7.0
    apply_constraints(cell)
    for l in (1, 2, 3):
        np.testing.assert_array_equal(cell.params[f"u{l}"], 2.0 ** 0.1)


def test_initialization_follows_the_authors():
    """u ~ U(0, 1); 'bounded' u ~ U(MAG^(-1/T), MAG^(1/T)) (the authors' adding init of the
    last layer); W ~ N(0, 0.001^2) (their in2hidW); b = 0. The residual stack: only the
    top layer is bounded; W ~ N(0, 1/(2 fan_in)); g = 1."""
    cell = rnnzoo.make("indrnn", 3, 2000, seed=0)
    u = cell.params["u"]
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    assert np.std(cell.params["W"]) == pytest.approx(0.001, rel=0.05)
    assert np.all(cell.params["b"] == 0)
    T, mag = 100, 2.0
    top = rnnzoo.make("indrnn", 3, 2000, seed=0, t_max=T, mag=mag, u_init="bounded")
    lo, hi = mag ** (-1 / T), mag ** (1 / T)
    assert top.params["u"].min() >= lo and top.params["u"].max() <= hi
    deep = rnnzoo.make("resindrnn", 3, 500, seed=0, depth=3, t_max=T, u_init="bounded",
                       norm="layer")
    assert deep.params["u3"].min() >= lo and deep.params["u1"].min() < lo
    assert np.std(deep.params["W2"]) == pytest.approx(np.sqrt(0.5 / 500), rel=0.05)
    assert np.all(deep.params["g2"] == 1)


def _plain_cells_like(deep):
    """IndRNN cells holding the residual stack's parameters."""
    cells = []
    for l in range(1, deep.depth + 1):
        c = rnnzoo.make("indrnn", deep.params[f"W{l}"].shape[1], deep.hidden_size)
        c.params.update(W=deep.params[f"W{l}"], u=deep.params[f"u{l}"], b=deep.params[f"b{l}"])
        cells.append(c)
    return cells


def test_plain_stack_is_indrnn_layers_on_top_of_each_other(rng):
    """residual=False, norm='none' computes exactly L stacked `indrnn` cells."""
    deep = rnnzoo.make("resindrnn", 3, 5, seed=0, depth=4, residual=False, norm="none")
    x = rng.standard_normal((7, 2, 3))
    hs, _, _ = deep.forward(x)
    h = x
    for cell in _plain_cells_like(deep):
        h, _, _ = cell.forward(h)
    np.testing.assert_allclose(hs, h, rtol=1e-13, atol=1e-15)


def test_residual_stream_is_the_sum_of_the_dense_layers(rng):
    """With shortcuts, a^(3) = W3 h2 + a^(1) and a^(5) = W5 h4 + a^(3) = W5 h4 + W3 h2 + W1 x:
    layer 5 equals an IndRNN cell reading [h4, h2, x] with weights [W5 | W3 | W1]."""
    deep = rnnzoo.make("resindrnn", 3, 5, seed=0, depth=5, norm="none")
    x = rng.standard_normal((6, 2, 3))
    hs, _, cache = deep.forward(x)
    hs_of = {l: cache.h[l][1:] for l in range(1, 6)}
    P = deep.params
    wide = rnnzoo.make("indrnn", 5 + 5 + 3, 5)
    wide.params.update(W=np.hstack([P["W5"], P["W3"], P["W1"]]), u=P["u5"], b=P["b5"])
    h5, _, _ = wide.forward(np.concatenate([hs_of[4], hs_of[2], x], axis=2))
    np.testing.assert_allclose(hs, h5, rtol=1e-13, atol=1e-15)
    flat = rnnzoo.make("resindrnn", 3, 5, seed=0, depth=5, norm="none", residual=False)
    assert not np.allclose(flat.forward(x)[0], hs)


def test_layer_norm_normalizes_each_sample_and_step(rng):
    """norm='layer': over the H units of every sample and step, N(a) has mean 0 and
    variance var(a) / (var(a) + 1e-5) (1 up to the epsilon), whatever the scale of a."""
    from rnnzoo.core.ops import LAYER_NORM_EPS as LN_EPS
    deep = rnnzoo.make("resindrnn", 3, 8, seed=0, depth=2, norm="layer")
    _, _, cache = deep.forward(5.0 + 3.0 * rng.standard_normal((4, 3, 3)))
    for l in (1, 2):
        n, _ = cache.ln[l]
        var_a = cache.a[l].var(axis=-1)
        np.testing.assert_allclose(n.mean(axis=-1), 0.0, atol=1e-12)
        np.testing.assert_allclose(n.var(axis=-1), var_a / (var_a + LN_EPS), rtol=1e-12)


@pytest.mark.parametrize("name", ["indrnn", "resindrnn"])
@pytest.mark.parametrize("opts,match", [
    ({"nonlinearity": "sigmoid"}, "nonlinearity must be one of"),
    ({"t_max": 0}, "t_max must be an integer >= 1"),
    ({"t_max": 10.5}, "t_max must be an integer"),
    ({"t_max": True}, "t_max must be an integer"),
    ({"mag": 1.0}, "mag must be a finite number > 1"),
    ({"mag": float("nan")}, "mag must be a finite number"),
    ({"mag": "2"}, "mag must be a finite number"),
    ({"mag": True}, "mag must be a finite number"),
    ({"u_init": "zeros"}, "u_init must be one of"),
    ({"u_init": "bounded"}, "needs t_max"),
])
def test_bad_shared_options_are_refused(name, opts, match):
    with pytest.raises(ValueError, match=match):
        rnnzoo.make(name, 2, 4, **opts)


@pytest.mark.parametrize("name,opts,match", [
    ("indrnn", {"input_std": 0.0}, "input_std must be a finite number > 0"),
    ("indrnn", {"input_std": np.inf}, "input_std must be a finite number"),
    ("resindrnn", {"depth": 0}, "depth must be an integer >= 1"),
    ("resindrnn", {"depth": 2.0}, "depth must be an integer"),
    ("resindrnn", {"residual": "yes"}, "residual must be True or False"),
    ("resindrnn", {"norm": "batch"}, "norm must be one of"),
])
def test_bad_own_options_are_refused(name, opts, match):
    with pytest.raises(ValueError, match=match):
        rnnzoo.make(name, 2, 4, **opts)


def test_numpy_scalar_options_are_accepted():
    cell = rnnzoo.make("indrnn", 2, 4, t_max=np.int64(20), mag=np.float32(3.0),
                       input_std=np.float64(0.01), u_init="bounded")
    assert cell.params["u"].max() <= 3.0 ** (1 / 20)
    deep = rnnzoo.make("resindrnn", 2, 4, depth=np.int64(3), residual=np.bool_(False))
    assert len(deep.state_names) == 3


def test_training_keeps_u_within_the_bound():
    """rnnzoo.train applies constrain() after every step: after 30 Adam steps at a large
    learning rate, every layer's |u| is still <= MAG^(1/T) (some entries sit on it)."""
    task = rnnzoo.make_task("adding", T=10, seed=0, eval_size=20)
    model = rnnzoo.build_model("resindrnn", task.input_size, 8, task.output_size, layers=2,
                               readout=task.readout, depth=2, t_max=10, u_init="bounded")
    rnnzoo.train(model, task, steps=30, batch_size=8, lr=0.5, eval_every=30, progress=False)
    bound = 2.0 ** (1 / 10)
    us = [p for k, p in model.params.items() if ".u" in k]
    assert len(us) == 4
    assert max(np.abs(u).max() for u in us) <= bound
    assert any(np.isclose(np.abs(u), bound).any() for u in us)
