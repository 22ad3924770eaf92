"""The cell contract, checked for every registered cell (scikit-learn's conformance idea).

A cell registered with @register is tested here the day it is registered.
"""
import copy
import json

import numpy as np
import pytest

import rnnzoo
from rnnzoo.core.base import Cache, Gradients, RecurrentCell

from .conftest import cell_variants

D, H = 3, 4


def build(name, opts, dtype=np.float64, **kw):
    return rnnzoo.make(name, input_size=D, hidden_size=H, seed=0, dtype=dtype, **opts, **kw)


def random_input(rng, T, B, dtype=np.float64):
    return rng.standard_normal((T, B, D)).astype(dtype)


@pytest.mark.parametrize("name,opts", cell_variants())
@pytest.mark.parametrize("T,B", [(5, 3), (1, 1), (1, 4), (6, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shapes_keys_and_dtypes(name, opts, T, B, dtype, rng):
    cell = build(name, opts, dtype)
    x = random_input(rng, T, B, dtype)
    hs, state_T, cache = cell.forward(x)
    assert hs.shape == (T, B, cell.output_size)
    assert hs.dtype == dtype and np.isrealobj(hs)
    assert isinstance(state_T, tuple) and len(state_T) == len(cell.state_names)
    zeros = cell.initial_state(B)
    for s, z in zip(state_T, zeros):
        assert s.shape == z.shape and s.dtype == z.dtype
    dhs = rng.standard_normal(hs.shape).astype(dtype)
    dx, dstate0, grads = cell.backward(dhs, cache)
    assert dx.shape == x.shape and dx.dtype == dtype
    assert len(dstate0) == len(cell.state_names)
    for d, z in zip(dstate0, zeros):
        assert d.shape == z.shape and d.dtype == z.dtype
    assert isinstance(grads, Gradients)
    assert list(grads) == list(cell.params)
    for k, p in cell.params.items():
        assert grads[k].shape == p.shape, k
        assert grads[k].dtype == p.dtype, k
        assert np.all(np.isfinite(grads[k])), k
    assert grads.dh_norm.shape == (T,)
    assert np.all(grads.dh_norm >= 0)


@pytest.mark.parametrize("name,opts", cell_variants())
def test_backward_is_pure_and_reentrant(name, opts, rng):
    cell = build(name, opts)
    before = {k: v.copy() for k, v in cell.params.items()}
    x = random_input(rng, 5, 2)
    x_copy = x.copy()
    hs, state_T, cache = cell.forward(x)
    dhs = rng.standard_normal(hs.shape)
    dstate_T = tuple(rng.standard_normal(s.shape) for s in state_T)
    first = cell.backward(dhs, cache, dstate_T)
    second = cell.backward(dhs, cache, dstate_T)
    np.testing.assert_array_equal(first[0], second[0])
    for a, b in zip(first[1], second[1]):
        np.testing.assert_array_equal(a, b)
    for k in cell.params:
        np.testing.assert_array_equal(first[2][k], second[2][k])
        np.testing.assert_array_equal(cell.params[k], before[k])
    np.testing.assert_array_equal(x, x_copy)          # forward leaves its input alone
    np.testing.assert_array_equal(first[2].dh_norm, second[2].dh_norm)


@pytest.mark.parametrize("name,opts", cell_variants())
def test_given_zero_state_equals_default_and_state_matters(name, opts, rng):
    cell = build(name, opts)
    x = random_input(rng, 4, 2)
    hs_default, sT_default, _ = cell.forward(x)
    hs_zero, sT_zero, _ = cell.forward(x, cell.initial_state(2))
    np.testing.assert_array_equal(hs_default, hs_zero)
    for a, b in zip(sT_default, sT_zero):
        np.testing.assert_array_equal(a, b)
    state0 = tuple(0.5 * rng.standard_normal(s.shape) for s in cell.initial_state(2))
    hs_state, _, _ = cell.forward(x, state0)
    assert not np.allclose(hs_state, hs_default)


@pytest.mark.parametrize("name,opts", cell_variants())
def test_sequence_splits_at_any_step(name, opts, rng):
    """Running T steps equals running t steps, then T - t from the carried state."""
    cell = build(name, opts)
    x = random_input(rng, 6, 2)
    hs, sT, _ = cell.forward(x)
    hs_a, s_mid, _ = cell.forward(x[:2])
    hs_b, sT_b, _ = cell.forward(x[2:], s_mid)
    np.testing.assert_allclose(np.concatenate([hs_a, hs_b]), hs, rtol=1e-12, atol=1e-12)
    for a, b in zip(sT, sT_b):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,opts", cell_variants())
def test_same_seed_same_weights_float32_matches_float64(name, opts, rng):
    a, b = build(name, opts), build(name, opts)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    c32 = build(name, opts, np.float32)
    x = random_input(rng, 5, 2)
    hs64, _, _ = a.forward(x)
    hs32, _, _ = c32.forward(x.astype(np.float32))
    np.testing.assert_allclose(hs32, hs64, rtol=1e-4, atol=1e-5)


def lru_readout(cell, dhs_t, x_seen):
    """LRU's output is read out of its state, y_t = Re(C x_t) + D u_t, and its dh_norm is
    the gradient reaching the carried state x_t: y_t's own part is C^H dL/dy_t, packed
    [Re, Im] as the state (the inputs play no part)."""
    g = dhs_t @ (cell.params["C_re"] + 1j * cell.params["C_im"]).conj()
    return np.concatenate([g.real, g.imag], axis=1)


def s6_readout(cell, dhs_t, x_seen):
    """S6's output is read out of its state, y_t[h] = Σ_n C_t[n] x_t[h, n] + D u_t (times
    silu(W_z x_t) with the gate), and its dh_norm is the gradient reaching x_t: y_t's own
    part is (dL/dy_t ⊙ silu(z_t))[h] C_t[n], with C_t = W_C u_t (or the parameter C)
    computed here from the inputs x_0..x_t (``x_seen``, from a zero state: the causal
    convolution reads W of them), flattened (B, H N) as the state."""
    P, x_t = cell.params, x_seen[-1]
    u = x_seen @ P["W_in"].T if "W_in" in P else x_seen            # (t+1, B, H)
    if "w_conv" in P:                                              # silu(Σ_j w_j u_{t-W+1+j} + b)
        W = P["w_conv"].shape[1]
        padded = np.concatenate([np.zeros((W - 1,) + u.shape[1:]), u])[-W:]
        pre = np.einsum("jbh,hj->bh", padded, P["w_conv"]) + P["b_conv"]
        u = pre / (1.0 + np.exp(-pre))
    else:
        u = u[-1]
    C = u @ P["W_C"].T if "W_C" in P else P["C"][None]          # (B, N) or (1, H, N)
    dy = dhs_t
    if "W_z" in P:
        z = x_t @ P["W_z"].T
        dy = dhs_t * z / (1.0 + np.exp(-z))
    g = dy[:, :, None] * (C[:, None, :] if C.ndim == 2 else C)
    return g.reshape(x_t.shape[0], -1)


def s4d_readout(cell, dhs_t, x_seen):
    """S4D's y_t = 2 Re Σ_n C_n x_t,n + D v_t per channel: y_t's own part of dL/dx_t is
    2 conj(C) dL/dy_t, (B, H, N), packed [Re, Im] as the state."""
    g = 2.0 * dhs_t[:, :, None] * (cell.params["C_re"] - 1j * cell.params["C_im"])
    g = g.reshape(len(dhs_t), -1)
    return np.concatenate([g.real, g.imag], axis=1)


def delta_rule_readout(cell, dhs_t, x_seen):
    """DeltaNet's (and Gated DeltaNet's) o_t = S_t q̂_t per head, q̂_t = W_q x_t / sqrt(
    ‖W_q x_t‖² + 1e-6): y_t's own part of dL/dS_t is dL/do_t q̂_tᵀ, (B, heads, d, d)."""
    B, n = dhs_t.shape[0], cell.heads
    q = (x_seen[-1] @ cell.params["W_q"].T).reshape(B, n, -1)
    q_hat = q / np.sqrt((q ** 2).sum(axis=-1, keepdims=True) + 1e-6)
    return np.einsum("bhi,bhj->bhij", dhs_t.reshape(B, n, -1), q_hat)


# cells whose output is read out of the carried state (not a component of it) and whose
# dh_norm records the gradient reaching that state: the part dhs[t] puts on it within step t
READOUT = {"lru": lru_readout, "s4d": s4d_readout, "s6": s6_readout,
           "deltanet": delta_rule_readout, "gated_deltanet": delta_rule_readout}


def own_output_grad(cell, dhs_t, x_seen):
    """What the loss's own gradient at step t adds to the gradient dh_norm records
    (``x_seen``: the inputs x_0..x_t, from a zero state)."""
    return READOUT[cell.name](cell, dhs_t, x_seen) if cell.name in READOUT else dhs_t


def check_square_contract(name, opts, rng, T=6, B=2, size=4):
    """The contract's checks for one cell built at input size = hidden size (the registry
    suites build D != H, so a cell whose input map is the identity at D = H is checked
    here, from its own test file): split at every step, float32 close to float64, and
    dh_norm the independently computed gradient reaching the state."""
    cell = rnnzoo.make(name, size, size, **opts)
    x = rng.standard_normal((T, B, size))
    hs, sT, _ = cell.forward(x)
    for t in range(1, T):
        hs_a, s_mid, _ = cell.forward(x[:t])
        hs_b, sT_b, _ = cell.forward(x[t:], s_mid)
        np.testing.assert_allclose(np.concatenate([hs_a, hs_b]), hs, rtol=1e-12, atol=1e-12)
        for a, b in zip(sT_b, sT, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    hs32, _, _ = rnnzoo.make(name, size, size, dtype=np.float32, **opts).forward(
        x.astype(np.float32))
    np.testing.assert_allclose(hs32, hs, rtol=1e-4, atol=1e-5)
    dhs = rng.standard_normal(hs.shape)
    _, _, grads = cell.backward(dhs, cell.forward(x)[2])
    expected = [np.linalg.norm(gradient_reaching_output(cell, x, dhs, t)) for t in range(T)]
    np.testing.assert_allclose(grads.dh_norm, expected, rtol=1e-10)


def check_scan_forms_agree(name, opts, rng, modes=("loop", "doubling", "auto")):
    """``mode`` only chooses how a scan cell's recurrence runs: hs, state_T and every
    gradient agree to 1e-12 across ``modes`` on the same parameters."""
    x = rng.standard_normal((9, 3, 4))
    dhs = rng.standard_normal((9, 3, 5))
    results = {}
    for mode in modes:
        cell = rnnzoo.make(name, 4, 5, mode=mode, seed=2, **opts)
        hs, sT, cache = cell.forward(x)
        dx, ds0, grads = cell.backward(dhs, cache)
        results[mode] = [hs, sT[0], dx, ds0[0], grads.dh_norm, *grads.values()]
    for mode in modes[1:]:
        for a, b in zip(results[mode], results[modes[0]], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * np.abs(b).max())


@pytest.mark.parametrize("name,opts", cell_variants())
def test_dh_norm_is_the_total_gradient_reaching_each_step(name, opts, rng):
    """With the loss on the last step only, dh_norm[T-1] is ||dhs[T-1]|| exactly (for a
    READOUT cell, the norm of what dhs[T-1] puts on the state), and dh_norm[t] for
    earlier t is the norm of what backward carried to h_t."""
    cell = build(name, opts)
    T, B = 5, 2
    x = random_input(rng, T, B)
    hs, _, cache = cell.forward(x)
    dhs = np.zeros_like(hs)
    dhs[-1] = rng.standard_normal((B, cell.output_size))
    _, _, grads = cell.backward(dhs, cache)
    assert grads.dh_norm[-1] == pytest.approx(
        np.linalg.norm(own_output_grad(cell, dhs[-1], x)), rel=1e-12)
    # dL/dh_{T-2} from backward on the first T-1 steps with the right upstream gradient
    hs_short, s_mid, cache_short = cell.forward(x[:-1])
    _, _, cache_last = cell.forward(x[-1:], s_mid)
    _, dstate_mid, _ = cell.backward(dhs[-1:], cache_last)
    _, _, grads_short = cell.backward(None, cache_short, dstate_mid)
    np.testing.assert_allclose(grads.dh_norm[:-1], grads_short.dh_norm, rtol=1e-10)


def output_component(hs_t, state_t):
    """Which state component the output h_t is (None when h_t is no state, as qrnn's
    h = o c): the one that equals it."""
    same = [k for k, s in enumerate(state_t) if s.shape == hs_t.shape
            and np.array_equal(s, hs_t)]
    assert len(same) <= 1, f"the output equals state components {same}"
    return same[0] if same else None


def fastweights_within_step(cell, state_t, dstate_t, state_prev):
    """A(t) = lam A(t-1) + eta h(t) h(t)^T: dL/dh(t) += eta (dA + dA^T) h(t)."""
    h, dA = state_t[0], dstate_t[1]
    return cell.eta * np.einsum("bij,bj->bi", dA + dA.transpose(0, 2, 1), h)


def skiprnn_within_step(cell, state_t, dstate_t, state_prev):
    """ũ_{t+1} = u Δ + (1 - u)(ũ_t + min(Δ, 1 - ũ_t)), Δ = σ(w_p·s_t[p] + b_p): a term
    on h = s_t[0] when Δ reads it (p = 0; with an lstm base Δ reads c)."""
    if cell.p_index != 0:
        return 0.0
    w_p, b_p = cell.params["w_p"], cell.params["b_p"]
    u_tilde = state_prev[-1]
    u = u_tilde if cell.soft else np.rint(u_tilde)
    delta = 1.0 / (1.0 + np.exp(-(state_t[0] @ w_p.T + b_p)))
    d_delta = dstate_t[-1] * (u + (1.0 - u) * (delta < 1.0 - u_tilde))
    return (d_delta * delta * (1.0 - delta)) @ w_p


# cells whose step t computes another state component from h_t as well (fast weights A(t),
# Skip RNN's ũ_{t+1}): dL/dh_t has a term through it besides dL/d(state_t)[h]. A cell
# registered later with such a component fails the dh_norm test below until it is added.
WITHIN_STEP = {"fastweights": fastweights_within_step, "skiprnn": skiprnn_within_step}


def gradient_reaching_output(cell, x, dhs, t):
    """dL/dh_t, computed without dh_norm: run the sequence in two parts, split after
    step t; the second part's backward hands back dL/d(state_t), of which the output's
    component, plus the loss's own gradient dhs[t] (and any term through another state
    component computed from h_t in step t: WITHIN_STEP), is the total gradient on h_t.
    For a READOUT cell: dL/d(state_t), its only component, plus what dhs[t] puts on it."""
    hs_first, state_t, _ = cell.forward(x[:t + 1])
    if t + 1 == len(x):
        return own_output_grad(cell, dhs[t], x[:t + 1])  # nothing carried after the end
    _, _, cache_rest = cell.forward(x[t + 1:], state_t)
    _, dstate_t, _ = cell.backward(dhs[t + 1:], cache_rest)
    if cell.name in READOUT:                    # the output reads the first component
        return dstate_t[0] + own_output_grad(cell, dhs[t], x[:t + 1])
    k = output_component(hs_first[-1], state_t)
    if k is None:
        return dhs[t]                                   # h_t is no state (qrnn's h = o c)
    state_prev = cell.forward(x[:t])[1] if t else cell.initial_state(x.shape[1])
    within = WITHIN_STEP.get(cell.name, lambda *args: 0.0)
    return dhs[t] + dstate_t[k] + within(cell, state_t, dstate_t, state_prev)


@pytest.mark.parametrize("name,opts", cell_variants())
def test_dh_norm_equals_the_gradient_reaching_each_output_computed_independently(
        name, opts, rng):
    """grads.dh_norm[t] is ||dL/dh_t||, the loss's own gradient at step t plus the one
    carried from t+1 (base.py). The test above compares dh_norm with dh_norm, so a cell
    recording only the loss's own part (dropping the carried gradient: indrnn and
    resindrnn once could) passed it. A pass: with a loss at every step, every dh_norm[t]
    equals the norm of dhs[t] + dL/d(state_t)[output], the latter from the backward of
    the sequence's remainder (the state gradient gradcheck verifies)."""
    cell = build(name, opts)
    T, B = 4, 2
    x = random_input(rng, T, B)
    hs, _, cache = cell.forward(x)
    dhs = rng.standard_normal(hs.shape)
    _, _, grads = cell.backward(dhs, cache)
    expected = [np.linalg.norm(gradient_reaching_output(cell, x, dhs, t)) for t in range(T)]
    np.testing.assert_allclose(grads.dh_norm, expected, rtol=1e-10)


def test_registry_lists_and_rejects():
    names = rnnzoo.available()
    assert names == sorted(names)
    assert {"rnn", "lstm", "gru"} <= set(names)
    with pytest.raises(ValueError, match="no cell named 'nope'; available: "):
        rnnzoo.make("nope", 2, 3)
    with pytest.raises(TypeError, match="unknown option"):
        rnnzoo.make("lstm", 2, 3, dropout=0.5)
    with pytest.raises(ValueError, match="nonlinearity must be"):
        rnnzoo.make("rnn", 2, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size must be an integer >= 1; got 0"):
        rnnzoo.make("gru", 2, 0)
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        rnnzoo.make("gru", 2, 3, dtype=np.int32)


class _ParamsOnly(RecurrentCell):
    """A cell of one's own, half written: parameters, no time step yet."""

    def init_params(self, rng):
        return {"W": rng.standard_normal((3, 3))}


@pytest.mark.parametrize("method,args", [("prepare", 1), ("step", 3), ("prepare_backward", 1),
                                         ("step_backward", 4), ("finish_backward", 2)])
def test_a_cell_of_ones_own_is_told_which_method_it_lacks(method, args):
    with pytest.raises(NotImplementedError, match=rf"_ParamsOnly does not define {method}\("
                                                  r".*a step-wise cell fills in prepare, step"):
        getattr(_ParamsOnly(2, 3), method)(*[None] * args)
    with pytest.raises(NotImplementedError, match=r"_ParamsOnly does not define prepare\(cache\)"):
        _ParamsOnly(2, 3).forward(np.zeros((2, 1, 2)))          # forward names the first


def test_a_cell_without_init_params_is_told_so():
    class NoParams(RecurrentCell):
        pass
    with pytest.raises(NotImplementedError, match=r"NoParams does not define init_params\(rng\) "
                                                  r"\(every cell creates its parameters there"):
        NoParams(2, 3)


class _Leaky(RecurrentCell):
    """A cell of one's own over whole sequences, h_t = (1 - a) h_{t-1} + a tanh(W x_t),
    whose _forward / _backward results the tests below spoil one at a time."""
    options = {"a": 0.5}
    spoil_forward = spoil_backward = staticmethod(lambda returned: returned)

    def init_params(self, rng):
        return {"W": rng.standard_normal((self.hidden_size, self.input_size))}

    def _forward(self, x, state0):
        h = [state0[0]]
        for x_t in x:
            h.append((1 - self.a) * h[-1] + self.a * np.tanh(x_t @ self.params["W"].T))
        hs = np.stack(h[1:])
        return self.spoil_forward((hs, (hs[-1].copy(),), Cache(x=x, hs=hs, T=len(x),
                                                               B=x.shape[1])))

    def _backward(self, dhs, cache, dstate):
        dh, dW, dx = dstate[0], np.zeros_like(self.params["W"]), np.empty_like(cache.x)
        norms = np.empty(cache.T)
        for t in reversed(range(cache.T)):
            dh = dh + dhs[t]
            norms[t] = np.linalg.norm(dh)
            g = np.tanh(cache.x[t] @ self.params["W"].T)
            dpre = dh * self.a * (1 - g * g)                    # h = .. + a tanh(W x)
            dW += dpre.T @ cache.x[t]
            dx[t] = dpre @ self.params["W"]
            dh = (1 - self.a) * dh                               # h = (1 - a) h_prev + ..
        return self.spoil_backward((dx, (dh,), {"W": dW}, norms))


def test_a_cell_made_without_a_seed_is_seed_0():
    """The documented default (README: make(..., seed=0)); a cell's weights are a function
    of its seed alone."""
    for name in ("rnn", "lstm"):
        a, b = rnnzoo.make(name, 2, 3), rnnzoo.make(name, 2, 3, seed=0)
        assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
        assert a.seed == 0


def test_a_cells_options_read_its_own_values_and_its_class_keeps_the_defaults():
    """cell.options was the class's dict of defaults: a cell of one's own that read
    self.options["a"] trained every a as 0.5."""
    relu = rnnzoo.make("rnn", 2, 3, nonlinearity="relu")
    assert relu.options["nonlinearity"] == "relu" == relu.nonlinearity
    assert type(relu).options["nonlinearity"] == "tanh"
    class Checked(_Leaky):
        def check_options(self):                 # reads the value given, not the default
            if self.options["a"] < 0:
                raise ValueError(f"a must be >= 0; got {self.options['a']}")
    with pytest.raises(ValueError, match="a must be >= 0; got -1"):
        Checked(2, 3, a=-1)
    copied = copy.copy(relu)                     # a copy reads its own values
    assert copied.options["nonlinearity"] == "relu" and copied.phi_ is relu.phi_
    # an option is set once: the cell derived phi_ from it, which an assignment would not
    # change (hyperparameters and a checkpoint would say relu, the arithmetic stay tanh)
    with pytest.raises(AttributeError, match="the option 'nonlinearity' is set at "
                                             "construction; make a new cell"):
        copied.nonlinearity = "tanh"
    assert copied.options["nonlinearity"] == "relu"
    assert json.loads(json.dumps(dict(relu.options)))["nonlinearity"] == "relu"
    assert _Leaky(2, 3, a=0.1).options == {"a": 0.1} and _Leaky.options == {"a": 0.5}
    with pytest.raises(KeyError):
        relu.options["a"]
    with pytest.raises(TypeError):
        relu.options["nonlinearity"] = "tanh"                   # read-only: set the attribute


@pytest.mark.parametrize("where,spoil,match", [
    ("spoil_forward", lambda r: r[:2], r"_forward\(x, state0\) must return \(hs, state_T, "
                                       r"cache\).*; it returned a tuple of 2"),
    ("spoil_forward", lambda r: (r[0][..., :2], *r[1:]), r"hs of shape \(4, 2, 3\).*; hs is a "
                                                         r"numpy.ndarray of shape \(4, 2, 2\)"),
    ("spoil_forward", lambda r: (r[0], r[1][0], r[2]), r"state_T is a numpy.ndarray of shape"),
    ("spoil_forward", lambda r: (r[0], r[1] * 2, r[2]), r"state_T is a tuple of 2"),
    ("spoil_forward", lambda r: (r[0], r[1], vars(r[2])), r"cache a rnnzoo.core.base.Cache; "
                                                          r"cache is a dict"),
    ("spoil_backward", lambda r: r[:3], r"_backward\(dhs, cache, dstate_T\) must return \(dx, "
                                        r"dstate0, grads, dh_norm\).*; it returned a tuple of 3"),
    ("spoil_backward", lambda r: (*r[:3], None), r"dh_norm the \(4,\) norms .*; dh_norm is None"),
    ("spoil_backward", lambda r: (*r[:3], r[3][:2]), r"; dh_norm is a numpy.ndarray of shape "
                                                    r"\(2,\)"),
    ("spoil_backward", lambda r: (r[0][..., :1], *r[1:]), r"dx shaped like x \(4, 2, 2\).*; "
                                                          r"dx is a numpy.ndarray of shape "
                                                          r"\(4, 2, 1\)"),
    ("spoil_backward", lambda r: (r[0], r[1][0], *r[2:]), r"; dstate0 is a numpy.ndarray"),
    ("spoil_backward", lambda r: (r[0], r[1] * 2, *r[2:]), r"; dstate0 is a tuple of 2"),
    ("spoil_backward", lambda r: (r[0], r[1], list(r[2].values()), r[3]), r"; grads is a list"),
])
def test_a_cell_of_ones_own_is_told_what_its_forward_or_backward_returned(where, spoil, match):
    cell = _Leaky(2, 3, a=0.3)
    x = np.random.default_rng(0).standard_normal((4, 2, 2))
    assert rnnzoo.gradcheck(cell, x).passed                    # the unspoiled cell is right
    setattr(cell, where, spoil)
    with pytest.raises(TypeError, match=rf"_Leaky\(''\)\.(forward|backward): .*{match}"):
        hs, _, cache = cell.forward(x)
        cell.backward(np.ones_like(hs), cache)


@pytest.mark.parametrize("name,opts", cell_variants())
def test_hyperparameters_rebuild_the_same_cell(name, opts):
    cell = build(name, opts)
    hp = dict(cell.hyperparameters)
    twin = rnnzoo.make(hp.pop("name"), **hp)
    for k in cell.params:
        np.testing.assert_array_equal(cell.params[k], twin.params[k])


@pytest.mark.parametrize("name, expected", [("rnn", True), ("lstm", True), ("gru", True),
                                            ("s4d", False), ("deltanet", False),
                                            ("urnn", True), ("lru", False)])
def test_outputs_first_state_tells_readout_cells_apart(name, expected):
    """Pass: the output is the state's first component for h-cells, and read out of the
    state for S4D, DeltaNet and the LRU (the uRNN outputs its state, [Re h, Im h], whole)."""
    assert rnnzoo.make(name, 3, 4).outputs_first_state() is expected
