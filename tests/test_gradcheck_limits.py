"""The finite-difference checker at its limits: what it must refuse before any
difference (shared parameters, empty or non-finite inputs, x of another dtype).

A pass: each refusal names the argument and why.
"""
import re

import numpy as np
import pytest

import rnnzoo

X = np.random.default_rng(0).standard_normal((4, 2, 3))


class Plain:
    """h_t = tanh(W x_t + U h_{t-1} + b): a cell of one's own, no base class. ``change``
    edits what backward returns; ``scale`` multiplies the outputs (and so the gradients)."""
    state_names = ("h",)
    dtype = np.float64
    name = "plain"

    def __init__(self, change=None, scale=1.0, hidden=3, seed=0):
        rng = np.random.default_rng(seed)
        self.input_size, self.hidden_size, self.scale = 3, hidden, scale
        self.params = {"W": rng.uniform(-.5, .5, (hidden, 3)),
                       "U": rng.uniform(-.5, .5, (hidden, hidden)),
                       "b": 0.1 * rng.standard_normal(hidden)}
        self.change = change or (lambda dx, ds, g, dhs, dstate_T: (dx, ds, g))
        self.seen_state0 = []

    def initial_state(self, batch):
        return (np.zeros((batch, self.hidden_size)),)

    def forward(self, x, state0=None):
        h = (state0 or self.initial_state(x.shape[1]))[0]
        self.seen_state0.append(h.copy())
        P, hp, hs = self.params, [h], []
        for t in range(x.shape[0]):
            h = np.tanh(x[t] @ P["W"].T + h @ P["U"].T + P["b"])
            hp.append(h)
            hs.append(h)
        return self.scale * np.array(hs), (self.scale * h,), {"x": x.copy(), "hp": hp}

    def backward(self, dhs, cache, dstate_T=None):
        P, x, hp = self.params, cache["x"], cache["hp"]
        s = self.scale
        g = {k: np.zeros_like(v) for k, v in P.items()}
        dx = np.zeros_like(x)
        dh_next = s * dstate_T[0]
        for t in reversed(range(x.shape[0])):
            da = (s * dhs[t] + dh_next) * (1 - hp[t + 1] ** 2)
            g["W"] += da.T @ x[t]
            g["U"] += da.T @ hp[t]
            g["b"] += da.sum(0)
            dx[t] = da @ P["W"]
            dh_next = da @ P["U"]
        return self.change(dx, (dh_next,), g, dhs, dstate_T)


# ------------------------------------------------------------ 4. shared parameters
@pytest.mark.parametrize("tie,how", [(lambda p: p["U"], "are one array"),
                                     (lambda p: p["U"][:2], r"share memory \(views of one "
                                                            r"array\)")])
def test_parameters_that_share_memory_are_refused_by_name(tie, how):
    cell = Plain()
    cell.params["U2"] = tie(cell.params)
    with pytest.raises(ValueError, match=rf"gradcheck: parameters 'U' and 'U2' of plain {how}: "
                                         r"a nudge of one moves the other"):
        rnnzoo.gradcheck(cell, X)


# ------------------------------------------------------------ 10. empty tensors
@pytest.mark.parametrize("shape", [(0, 2, 3), (4, 0, 3)])
def test_an_empty_sequence_or_batch_is_refused_naming_x(shape):
    with pytest.raises(ValueError, match=rf"gradcheck: x must have at least one step and one "
                                         rf"sequence .*; got shape {re.escape(str(shape))}"):
        rnnzoo.gradcheck(Plain(), np.zeros(shape))


# ------------------------------------------------------------ 11. non-finite input
@pytest.mark.parametrize("where", ["x", "state0"])
def test_a_nan_in_x_or_state0_of_a_cell_of_ones_own_is_refused(where):
    x, state0 = X.copy(), (np.ones((2, 3)),)
    (x if where == "x" else state0[0])[1, 0] = np.nan
    match = (r"gradcheck: x must be finite; got nan at index \(1, 0, 0\)" if where == "x" else
             r"gradcheck: state0 component 'h' must be finite; got nan at index \(1, 0\)")
    with pytest.raises(ValueError, match=match):
        rnnzoo.gradcheck(Plain(), x, state0)


# ------------------------------------------------------------ 12. why not float64
@pytest.mark.parametrize("dtype,why", [
    (np.int64, "int64 cannot hold a nudge of ±eps"),
    (bool, "bool cannot hold a nudge of ±eps"),
    (np.complex128, "only real perturbations are made, so the derivative along the imaginary "
                    "part would go unchecked: split a complex tensor into _re and _im float64 "
                    "ones, as urnn, lru and s4d do"),
    (np.float32, r"in float32 the rounding error of a central difference \(~1e-07/eps\)"),
])
def test_x_of_another_dtype_is_refused_with_its_own_reason(dtype, why):
    with pytest.raises(TypeError, match="gradcheck needs float64 .*: " + why):
        rnnzoo.gradcheck(Plain(), X.astype(dtype))
