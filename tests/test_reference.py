"""Every registered cell equals its textbook version (rnnzoo.reference) in float64.

The textbook versions are plain NumPy, one equation per line, with no buffers and no
in-place tricks; the optimized cells hoist, fuse and write in place. Both are run on the
same parameters, input x, random initial state, upstream gradients dhs and dstate_T,
and must agree on hs, every component of state_T, dx, every component of dstate0 and
every parameter gradient.

A pass: every tensor agrees to max|a - b| <= 1e-10 (1 + max|b|) -- the two compute the
same sums in different orders, so they differ by round-off, about 1e-15 here. A wrong
equation is off by the size of the tensor; the gate-swap tests below show a swap gives
errors of 1e-2 or more. No torch is needed. A cell registered without a textbook
version fails ``test_cell_equals_its_textbook_version`` with a KeyError naming it.
"""
import ast
import pathlib
import re

import numpy as np
import pytest

import rnnzoo
from rnnzoo import reference
from rnnzoo.cells.gru import GRU
from rnnzoo.cells.lstm import LSTM
from tests.conftest import cell_variants

SHAPES = [(5, 3, 4, 8), (3, 1, 2, 5)]                    # (T, B, D, H)
TOL = 1e-10


def make_cell(name, D, H, options):
    """The cell in float64; where H is refused (eurnn's fft style needs a power of two;
    the delta-rule and xLSTM cells a multiple of their heads), the next H it takes."""
    try:
        return rnnzoo.make(name, D, H, seed=3, dtype=np.float64, **options)
    except ValueError as exc:
        if "power of two" in str(exc):
            H = 1 << (H - 1).bit_length()
        elif "must divide hidden_size" in str(exc):
            H = -(-H // options["heads"]) * options["heads"]
        else:
            raise
        return rnnzoo.make(name, D, H, seed=3, dtype=np.float64, **options)


def random_state(cell, B, rng):
    """A random initial state: normal entries, except the clock of clockwork (integer
    steps, rows at different phases) and Skip RNN's ũ (away from round()'s jump at 0.5)."""
    out = []
    for name, s in zip(cell.state_names, cell.initial_state(B)):
        if name == "t":
            out.append(rng.integers(0, 6, s.shape).astype(float))
        elif name == "u_tilde":
            out.append(rng.choice([0.1, 0.3, 0.7, 0.9, 1.0], s.shape))
        else:
            out.append(0.5 * rng.standard_normal(s.shape))
    return tuple(out)


def perturb(cell, rng):
    """Move the parameters off the initialization: zero biases, identity W_hh etc. would
    hide a wrong sign or term."""
    for p in cell.params.values():
        p += 0.1 * rng.standard_normal(p.shape)


def run_both(cell, T, B, rng):
    """Forward and backward of the cell and of its textbook version on the same data."""
    perturb(cell, rng)
    x = rng.standard_normal((T, B, cell.input_size))
    return run_both_on(cell, x, random_state(cell, B, rng), rng)


def run_both_on(cell, x, state0, rng, options=None):
    """Forward and backward of the cell and of its textbook version on x from state0
    (None: the initial state, as both take it), with random upstream gradients; the twin
    gets ``options`` (None: its options_of(cell))."""
    ref = reference.get(cell.name)
    T, B = x.shape[:2]
    dhs = rng.standard_normal((T, B, cell.output_size))
    dstate_T = tuple(rng.standard_normal(s.shape)
                     for s in (state0 if state0 is not None else cell.initial_state(B)))
    hs, state_T, cache = cell.forward(x, state0)
    dx, dstate0, grads = cell.backward(dhs, cache, dstate_T)
    options = ref.options_of(cell) if options is None else options
    params = {k: v.copy() for k, v in cell.params.items()}
    r_hs, r_state_T, r_cache = ref.forward(x, state0, params, **options)
    r_dx, r_dstate0, r_grads = ref.backward(dhs, r_cache, dstate_T)
    pairs = {"hs": (hs, r_hs), "x (dx)": (dx, r_dx)}
    assert len(r_state_T) == len(state_T) and len(r_dstate0) == len(dstate0), \
        f"textbook state has {len(r_state_T)} entries, its gradient {len(r_dstate0)}; " \
        f"the cell's has {len(state_T)} ({', '.join(cell.state_names)})"
    for name, a, b, da, db in zip(cell.state_names, state_T, r_state_T, dstate0, r_dstate0):
        pairs[f"{name}_T"] = (a, b)
        pairs[f"d{name}0"] = (da, db)
    assert set(r_grads) == set(grads), f"textbook grads {sorted(r_grads)} vs {sorted(grads)}"
    for k in grads:
        pairs[f"d{k}"] = (grads[k], r_grads[k])
    return pairs, cache, r_cache


def errors(pairs):
    """Per tensor: max|a - b| / (1 + max|b|)."""
    out = {}
    for name, (a, b) in pairs.items():
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape, f"{name}: shape {a.shape} vs textbook {b.shape}"
        out[name] = float(np.abs(a - b).max() / (1.0 + np.abs(b).max()))
    return out


def label(name, options, *sizes):
    """A test id: name[k=v,...] (as tests/conftest.py's) and the sizes, e.g. lru[..]D5H5."""
    opts = ",".join(f"{k}={v}" for k, v in (options or {}).items())
    return name + (f"[{opts}]" if opts else "") + "".join(
        f"{a}{n}" for a, n in zip("DH", sizes))


def assert_agree(pairs, what):
    """Every tensor within TOL (a NaN on either side fails)."""
    bad = {k: e for k, e in errors(pairs).items() if not e <= TOL}
    assert not bad, f"{what} differs from its textbook version: {bad}"


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "T{}B{}D{}H{}".format(*s))
@pytest.mark.parametrize("name,options", cell_variants())
def test_cell_equals_its_textbook_version(name, options, shape):
    T, B, D, H = shape
    cell = make_cell(name, D, H, options)
    pairs, _, _ = run_both(cell, T, B, np.random.default_rng(7))
    bad = {k: e for k, e in errors(pairs).items() if not e <= TOL}
    assert not bad, f"{name}{options} differs from its textbook version: {bad}"


@pytest.mark.parametrize("name,options", cell_variants())
def test_the_textbook_version_starts_from_the_cells_initial_state_when_state0_is_none(
        name, options):
    """The README's snippet, ref.forward(x, state0, ...), failed with a TypeError for
    state0=None, which every cell's forward accepts; a pass: None gives exactly what the
    cell's own initial_state gives (zeros; Skip RNN's ũ = 1), in the same shapes and
    dtype, and the textbook's ``initial_state`` equals the cell's."""
    cell = make_cell(name, 3, 4, options)
    ref = reference.get(name)
    options = ref.options_of(cell)
    x = np.random.default_rng(0).standard_normal((3, 2, cell.input_size))
    zeros = cell.initial_state(2)
    hs, state_T, _ = ref.forward(x, None, cell.params, **options)
    z_hs, z_state_T, _ = ref.forward(x, zeros, cell.params, **options)
    np.testing.assert_array_equal(hs, z_hs)
    for a, b in zip(state_T, z_state_T, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(ref.initial_state(2, cell.params, **options), zeros, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_every_registered_cell_has_a_textbook_version():
    missing = sorted(set(rnnzoo.available()) - set(reference.REFERENCES))
    assert not missing, f"cells without a textbook version in rnnzoo.reference: {missing}"


def test_a_cell_without_a_textbook_version_fails_naming_it(monkeypatch):
    """What the parametrized test does for a newly registered cell that has no textbook
    version yet: it fails with an error that names the cell."""
    monkeypatch.delitem(reference.REFERENCES, "mgu")
    cell = rnnzoo.make("mgu", 2, 3)
    with pytest.raises(KeyError, match="no textbook version of cell 'mgu'"):
        run_both(cell, 2, 1, np.random.default_rng(0))


# ------------------------------------------------------------------ a gate swap is caught
def swap_rows(params, gates, i, j):
    """Exchange gate blocks i and j of every stacked parameter (rows of W, entries of b)."""
    out = {}
    for k, p in params.items():
        blocks = list(np.split(p, gates, axis=0))
        blocks[i], blocks[j] = blocks[j], blocks[i]
        out[k] = np.concatenate(blocks, axis=0)
    return out


def swapped(cls, gates, i, j):
    """The optimized cell with gates i and j exchanged *consistently* in forward and
    backward: its own gradients stay exact, so a finite-difference check passes."""
    class Swapped(cls):
        def _forward(self, x, state0):
            kept, self.params = self.params, swap_rows(self.params, gates, i, j)
            try:
                return super()._forward(x, state0)
            finally:
                self.params = kept

        def _backward(self, dhs, cache, dstate):
            kept, self.params = self.params, swap_rows(self.params, gates, i, j)
            try:
                dx, dstate0, grads, dh_norm = super()._backward(dhs, cache, dstate)
            finally:
                self.params = kept
            return dx, dstate0, swap_rows(grads, gates, i, j), dh_norm
    Swapped.name = cls.name
    return Swapped


@pytest.mark.parametrize("cls,gates,i,j", [(LSTM, 4, 0, 1), (GRU, 3, 0, 1)],
                         ids=["lstm i<->f", "gru r<->z"])
def test_a_consistent_gate_swap_passes_gradcheck_but_not_the_textbook(cls, gates, i, j):
    cell = swapped(cls, gates, i, j)(3, 4, seed=1, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((4, 2, 3))
    assert rnnzoo.gradcheck(cell, x).passed       # the swap is invisible to gradcheck
    worst = max(errors(run_both(cell, 4, 2, np.random.default_rng(7))[0]).values())
    assert worst > 1e-3, f"the textbook comparison missed a swap: worst error {worst:.2e}"


def test_a_gate_swap_in_the_textbook_is_caught(monkeypatch):
    """The other way round: swap i and f inside the textbook LSTM's step (forward and
    backward alike) and the unchanged optimized LSTM no longer equals it."""
    from rnnzoo.reference import gated
    fwd, bwd = gated.lstm_step_forward, gated.lstm_step_backward

    def step_forward(x_t, state_prev, params):
        return fwd(x_t, state_prev, swap_rows(params, 4, 0, 1))

    def step_backward(dstate, cache):
        dx, dstate_prev, grads = bwd(dstate, cache)
        return dx, dstate_prev, swap_rows(grads, 4, 0, 1)
    monkeypatch.setitem(reference.REFERENCES, "lstm", reference.Reference(
        "lstm", lambda x, s, p: reference.sequence_forward(step_forward, x, s, p),
        lambda d, c, s: reference.sequence_backward(step_backward, d, c, s), lambda c: {}))
    cell = rnnzoo.make("lstm", 3, 4, seed=1, dtype=np.float64)
    worst = max(errors(run_both(cell, 4, 2, np.random.default_rng(7))[0]).values())
    assert worst > 1e-3, f"the textbook comparison missed a swap: worst error {worst:.2e}"


# ------------------------------------------------------------------ cell-specific
@pytest.mark.parametrize("slope", [1.0, 0.0], ids=["straight-through", "exact parts only"])
@pytest.mark.parametrize("base", ["gru", "lstm"])
def test_skiprnn_hard_mode_equals_the_textbook_definition(base, slope):
    """Hard mode, u = round(ũ): the exact parts (slope 0: every gradient that does not
    pass through round) and the straight-through surrogate (slope 1: dL/dũ += dL/du by
    definition) both equal the textbook's, and so does the budget loss's value. A pass
    also needs the data to contain skipped (u = 0) and updating (u = 1) steps."""
    cell = rnnzoo.make("skiprnn", 3, 5, seed=2, base=base, budget=0.05)
    cell.surrogate_slope = slope
    pairs, cache, r_cache = run_both(cell, 8, 4, np.random.default_rng(11))
    bad = {k: e for k, e in errors(pairs).items() if not e <= TOL}
    assert not bad, f"skiprnn(base={base}, slope={slope}) differs from the textbook: {bad}"
    u = np.concatenate([c["u"] for c in r_cache])
    assert set(np.unique(u)) == {0.0, 1.0}, f"u should be binary with both values; got {u}"
    assert cache.aux_loss == pytest.approx(sum(c["aux_loss"] for c in r_cache), rel=1e-14)


def test_skiprnn_over_a_base_without_a_step_twin_is_refused_by_name():
    """qrnn with f-pooling is a base the cell takes (h = c), but qrnn's twin runs a whole
    sequence, so the Skip RNN's twin, which steps its base, has none: it said
    "'NoneType' object is not callable"; a pass: the twin's options (what every twin
    comparison asks first), its initial state and its step each name the base and the
    step-wise bases instead."""
    from rnnzoo.reference import skiprnn as twin
    cell = rnnzoo.make("skiprnn", 3, 4, seed=0, dtype=np.float64, base="qrnn",
                       base_options={"pooling": "f"})
    cell.forward(np.zeros((2, 1, 3)))                 # the cell itself runs
    match = r"base 'qrnn' has a whole-sequence twin only.*step-wise bases: .*\bgru\b"
    with pytest.raises(ValueError, match=match):
        twin.options_of(cell)
    params = {k: np.asarray(v) for k, v in cell.params.items()}
    with pytest.raises(ValueError, match=match):
        twin.initial_state(1, params, base="qrnn")
    with pytest.raises(ValueError, match=match):
        twin.step_forward(np.zeros((1, 3)), (np.zeros((1, 4)), np.ones((1, 1))), params,
                          base="qrnn")


def test_skiprnn_straight_through_is_the_only_difference_between_the_slopes():
    """The slope changes what reaches ũ_0 (with slope 1 the surrogate carries gradient
    through round(); with 0 only the exact parts do), and leaves dx at the last step
    exactly as it was: only gradients that pass through a round() depend on it."""
    grads = {}
    for slope in (1.0, 0.0):
        cell = rnnzoo.make("skiprnn", 3, 5, seed=2, budget=0.05)
        cell.surrogate_slope = slope
        grads[slope] = run_both(cell, 6, 3, np.random.default_rng(5))[0]
    assert np.abs(grads[1.0]["du_tilde0"][0] - grads[0.0]["du_tilde0"][0]).max() > 1e-6
    np.testing.assert_array_equal(grads[1.0]["x (dx)"][0][-1], grads[0.0]["x (dx)"][0][-1])


@pytest.mark.parametrize("training", [True, False], ids=["fixed mask", "evaluation"])
def test_qrnn_zoneout_equals_the_textbook(training):
    """Zoneout on f: with a fixed {0, 1} mask in training, and with its expectation
    1 - p at evaluation, the cell equals the textbook to round-off."""
    T, B, H = 5, 3, 4
    cell = rnnzoo.make("qrnn", 2, H, seed=4, zoneout=0.3)
    cell.training = training
    cell.zoneout_mask = np.random.default_rng(1).random((T, B, H)) >= 0.3
    pairs, _, _ = run_both(cell, T, B, np.random.default_rng(2))
    bad = {k: e for k, e in errors(pairs).items() if not e <= TOL}
    assert not bad, f"qrnn zoneout (training={training}) differs from the textbook: {bad}"


def _lstm_twin():
    cell = rnnzoo.make("lstm", 3, 4, seed=0, dtype=np.float64)
    ref = reference.get("lstm")
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    hs, state_T, caches = ref.forward(x, None, dict(cell.params))
    return ref, dict(cell.params), x, hs, state_T, caches


# (what is wrong, the call, what the error names); each used to fail inside a step with a
# NumPy error, or not at all: x without its batch axis ran a loop over the wrong axis
BAD_TWIN_CALLS = {
    "x without its batch axis": (lambda r, P, x, hs, s, c: r.forward(x[0], None, P),
                                 "x must be a NumPy array (T, B, D) of the params' dtype "
                                 "float64, T, B and D at least 1; got an array (2, 3) of "
                                 "float64"),
    "x empty (T = 0)": (lambda r, P, x, hs, s, c: r.forward(x[:0], None, P),
                        "T, B and D at least 1; got an array (0, 2, 3) of float64"),
    "x with a NaN": (lambda r, P, x, hs, s, c: r.forward(np.where(x > 1, np.nan, x), None, P),
                     "x has non-finite entries"),
    "x float32": (lambda r, P, x, hs, s, c: r.forward(x.astype(np.float32), None, P),
                  "got an array (5, 2, 3) of float32"),
    "x a list": (lambda r, P, x, hs, s, c: r.forward(x.tolist(), None, P), "got list"),
    "x of another D": (lambda r, P, x, hs, s, c: r.forward(x[:, :, :2], None, P),
                       "x's last axis must be the cell's input size"),
    "state0 of another batch": (lambda r, P, x, hs, s, c: r.forward(
        x, (np.zeros((3, 4)), np.zeros((3, 4))), P), "state0 must be None or, for B = 2, a "
        "tuple (an array (2, 4) of float64, an array (2, 4) of float64)"),
    "state0 one array": (lambda r, P, x, hs, s, c: r.forward(x, np.zeros((2, 4)), P),
                         "got an array (2, 4) of float64"),
    "a parameter missing": (lambda r, P, x, hs, s, c: r.forward(
        x, None, {k: v for k, v in P.items() if k != "b_hh"}), "params has no entry 'b_hh'"),
    "params not arrays": (lambda r, P, x, hs, s, c: r.forward(x, None, list(P.values())),
                          "params must be a dict name -> NumPy array"),
    "dstate_T None": (lambda r, P, x, hs, s, c: r.backward(np.ones_like(hs), c, None),
                      "dstate_T must be a tuple of arrays shaped as forward's final state"),
    "dhs of another T": (lambda r, P, x, hs, s, c: r.backward(hs[:3], c, s),
                         "dhs must be a NumPy array (T, B, H) with T = 5"),
    "dhs None": (lambda r, P, x, hs, s, c: r.backward(None, c, s), "got NoneType"),
    "caches not forward's": (lambda r, P, x, hs, s, c: r.backward(hs, c[0], s),
                             "caches must be the list of step caches forward returned"),
    # shapes that broadcast: the twins returned gradients from them without a word
    "dhs (T, B, 1)": (lambda r, P, x, hs, s, c: r.backward(np.ones((5, 2, 1)), c, s),
                      "dhs must be shaped as forward's hs, (5, 2, 4) of float64; got an "
                      "array (5, 2, 1) of float64"),
    "dhs (T, 1, H)": (lambda r, P, x, hs, s, c: r.backward(np.ones((5, 1, 4)), c, s),
                      "dhs must be shaped as forward's hs"),
    "dhs of ints": (lambda r, P, x, hs, s, c: r.backward(np.ones((5, 2, 4), int), c, s),
                    "got an array (5, 2, 4) of int64"),
    "dstate_T without its batch axis": (lambda r, P, x, hs, s, c: r.backward(
        np.ones_like(hs), c, tuple(d[0] for d in s)), "dstate_T must be shaped as forward's "
        "final state, (an array (2, 4) of float64, an array (2, 4) of float64)"),
    "dstate_T short": (lambda r, P, x, hs, s, c: r.backward(np.ones_like(hs), c, s[:1]),
                       "dstate_T must be shaped as forward's final state"),
}


@pytest.mark.parametrize("what", list(BAD_TWIN_CALLS))
def test_a_textbook_cell_names_the_argument_that_does_not_fit(what):
    call, named = BAD_TWIN_CALLS[what]
    with pytest.raises((TypeError, ValueError, KeyError)) as info:
        call(*_lstm_twin())
    assert named in str(info.value), str(info.value)
    assert "rnnzoo.reference.get('lstm')." in str(info.value)


def test_a_textbook_cell_takes_what_forward_gave_and_lists_for_tuples():
    """The checks refuse nothing a correct call passes: forward's own final state as the
    next state0 (a tuple or a list), and dstate_T as a list."""
    ref, P, x, hs, state_T, caches = _lstm_twin()
    again = ref.forward(x, list(state_T), P)[0]
    np.testing.assert_array_equal(again, ref.forward(x, state_T, P)[0])
    dx, _, _ = ref.backward(np.ones_like(hs), caches, [np.zeros_like(s) for s in state_T])
    assert dx.shape == x.shape


# ------------------------------------------------------------------ modReLU at z = 0
@pytest.mark.parametrize("name,options", [
    ("orthogonal", {}), ("urnn", {}), ("eurnn", {}), ("eurnn", {"complex": False})],
    ids=["orthogonal", "urnn", "eurnn", "eurnn[complex=False]"])
def test_modrelu_at_z_zero_from_the_zero_state_equals_the_cell(name, options):
    """The first step of a zero-padded sequence from the zero state has z_0 = W h_0 + V x_0
    = 0. The cell's modReLU is 0 there (sign(0) = 0) and its backward finite; the twin's
    divided by |z| + eps, NaN with eps = 0 (orthogonal, real eurnn: the forward) and in
    the backward's z / |z| with eps = 1e-5 (urnn, complex eurnn). A pass: both agree on
    hs, the final state, dx, dh_0 and every gradient, with b on both sides of the kink at
    z = 0 (ReLU(b) open and shut)."""
    cell = make_cell(name, 3, 4, options)
    rng = np.random.default_rng(5)
    perturb(cell, rng)
    cell.params["b"][:] = [0.3, -0.2, 0.1, -0.05]
    x = rng.standard_normal((4, 2, 3))
    x[0] = 0.0
    pairs, _, _ = run_both_on(cell, x, None, rng)
    assert_agree(pairs, f"{name}{options} at z = 0")


# ------------------------------------------------------------------ the twin without options
# twins whose equations need numbers the parameters do not hold (step sizes, the clock's
# periods, the uRNN's permutation, the LMU's discretized matrices, the QRNN's window and
# pooling: W (G H, k D) fits several)
NEEDS_OPTIONS = {"antisymmetric": ("eps", "gamma", "gated"), "clockwork": ("periods", "sizes"),
                 "cornn": ("dt", "gamma", "epsilon", "damping"),
                 "lipschitz": ("eps", "beta", "gamma"), "lmu": ("A_bar", "B_bar"),
                 "qrnn": ("window", "pooling"), "urnn": ("perm",)}


@pytest.mark.parametrize("name", list(NEEDS_OPTIONS))
def test_a_twin_called_without_the_options_it_needs_names_them(name):
    """These twins raised a bare TypeError from inside their first step ("step_forward()
    missing 4 required positional arguments"). A pass: before any step, a TypeError
    that names the twin's entry point, every missing option, and options_of(cell); with
    some of them given, only the others; and the table lists them."""
    cell = make_cell(name, 3, 4, {})
    ref = reference.get(name)
    assert ref.required_options == NEEDS_OPTIONS[name]
    x = np.zeros((2, 1, 3))
    with pytest.raises(TypeError) as info:
        ref.forward(x, None, cell.params)
    message = str(info.value)
    assert message.startswith(f"rnnzoo.reference.get({name!r}).forward: the textbook {name} "
                              f"needs the option(s) "
                              + ", ".join(repr(o) for o in NEEDS_OPTIONS[name])), message
    assert f"**rnnzoo.reference.get({name!r}).options_of(cell)" in message
    given = {o: ref.options_of(cell)[o] for o in NEEDS_OPTIONS[name][:-1]}   # all but one
    with pytest.raises(TypeError, match="needs the option") as info:
        ref.forward(x, None, cell.params, **given)
    assert not any(repr(o) in str(info.value) for o in given)
    ref.forward(x, None, cell.params, **ref.options_of(cell))


def test_a_skiprnn_twin_over_a_base_that_needs_options_names_them():
    """The same for Skip RNN over cornn without base_options: it failed inside the base's
    step; a pass names the base, its missing options and base_options."""
    cell = rnnzoo.make("skiprnn", 3, 4, seed=0, dtype=np.float64, base="cornn")
    with pytest.raises(TypeError, match=r"rnnzoo.reference.get\('skiprnn'\).forward: "
                       r"skiprnn's base 'cornn' needs the option\(s\) 'dt', 'gamma', "
                       r"'epsilon', 'damping' in base_options.*options_of\(cell\)"):
        reference.get("skiprnn").forward(np.zeros((2, 1, 3)), None, cell.params,
                                         base="cornn")


@pytest.mark.parametrize("D,H", [(3, 4), (4, 4)], ids=["D!=H", "D=H"])
@pytest.mark.parametrize("name", [n for n in rnnzoo.available() if n not in NEEDS_OPTIONS])
def test_the_twin_called_without_options_is_the_default_cell(name, D, H):
    """ref.forward(x, None, cell.params) with no options computes the cell made with its
    defaults. At D = H the LRU's default feedthrough ("auto") is a diagonal D (H,), and
    the twin's default was "dense": u_t @ D broadcast and gave another output without a
    word; the S4D's and S6's "auto" input maps are the identity at D = H, and their
    twins' defaults the dense map (a KeyError for W_in). A pass: what the parameters
    hold decides (D's shape, W_in present or not), and hs, the final state, dx, dstate0
    and every gradient agree to round-off."""
    cell = make_cell(name, D, H, {})
    rng = np.random.default_rng(2)
    perturb(cell, rng)
    x = rng.standard_normal((4, 2, cell.input_size))
    pairs, _, _ = run_both_on(cell, x, None, rng, options={})
    assert_agree(pairs, f"{name} (D = {D}, H = {H}) called without options")


READ_FROM_PARAMS = [  # (name, options, D, H): every option of these cells that changes the
                      # parameters, at D = H too; all are read back from the parameters
    ("lru", {"feedthrough": "dense"}, 4, 4), ("lru", {"normalization": False}, 4, 4),
    ("lru", {"normalization": False, "state_size": 2}, 3, 4),
    ("s4d", {"input_projection": "dense"}, 4, 4), ("s4d", {"mode": "recurrent"}, 3, 4),
    ("s6", {"input_map": "dense", "gate": True}, 4, 4), ("s6", {"gate": True}, 3, 4),
    ("s6", {"selective": []}, 3, 4), ("s6", {"selective": ["B"], "conv": 2}, 4, 4),
    ("s6", {"selective": ["delta", "C"], "gate": True, "conv": 3}, 3, 4)]


@pytest.mark.parametrize("name,options,D,H", READ_FROM_PARAMS,
                         ids=[label(*case) for case in READ_FROM_PARAMS])
def test_the_ssm_twins_read_the_cells_options_from_its_parameters(name, options, D, H):
    """The LRU, S4D and S6 twins take no options: a gate (W_z), a selective map (W_B,
    ...), a dense feedthrough (D (H, K)), the normalization (gamma_log) are there in the
    parameters or not. The S6 twin called without its gate option ignored W_z and gave
    another output without a word. A pass: the twin without options equals the cell."""
    cell = make_cell(name, D, H, options)
    rng = np.random.default_rng(4)
    perturb(cell, rng)
    x = rng.standard_normal((5, 2, cell.input_size))
    pairs, _, _ = run_both_on(cell, x, None, rng, options={})
    assert_agree(pairs, f"{name}{options} (D = {D}, H = {H}) called without options")


# ------------------------------------------------------------------ the textbook's form
def _computes(node):
    """Whether an expression does arithmetic (not only reads, packs or makes zeros)."""
    plain = {"tuple", "list", "len", "range", "reversed", "zip", "zeros_like", "zeros"}
    for n in ast.walk(node):
        if isinstance(n, ast.BinOp) or (isinstance(n, ast.UnaryOp)
                                        and not isinstance(n.operand, ast.Constant)):
            return True
        if isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", None)) \
                not in plain:
            return True
    return False


def _root(target):
    while isinstance(target, (ast.Subscript, ast.Attribute, ast.Starred)):
        target = target.value
    return getattr(target, "id", "")


def _targets(st):
    todo = list(st.targets) if isinstance(st, ast.Assign) else [st.target]
    while todo:
        t = todo.pop()
        if isinstance(t, (ast.Tuple, ast.List)):
            todo.extend(t.elts)
        else:
            yield t


def backward_lines_without_a_comment(source):
    """(line, text) of every backward line of a twin's module that names no forward line:
    in a function whose name has "backward" or ends in "_grad(s)" (the sequence loops
    of core.py aside), a statement that computes a gradient (a name d..., computed) or
    writes into grads, with no comment on its lines or a comment line right above it."""
    lines = source.splitlines()
    out = []
    for fn in ast.walk(ast.parse(source)):
        if not isinstance(fn, ast.FunctionDef) or fn.name in (
                "sequence_backward", "readout_sequence_backward", "run_backward") or not (
                "backward" in fn.name or fn.name.endswith(("_grad", "_grads"))):
            continue
        for st in ast.walk(fn):
            if isinstance(st, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = list(_targets(st))
                needs = any(isinstance(t, ast.Subscript) and _root(t) == "grads"
                            for t in targets) or (_computes(st.value) and any(
                                re.match(r"d[A-Za-z_]", _root(t)) for t in targets))
            elif isinstance(st, ast.Expr) and isinstance(st.value, ast.Call):
                needs = _root(st.value.func) == "grads"          # grads.update(...)
            else:
                continue
            above = lines[st.lineno - 2].strip() if st.lineno > 1 else ""
            if needs and not above.startswith("#") and not any(
                    "#" in line for line in lines[st.lineno - 1:st.end_lineno]):
                out.append((st.lineno, lines[st.lineno - 1].strip()))
    return sorted(out)


TWIN_FILES = sorted((pathlib.Path(reference.__file__).parent).glob("*.py"))


@pytest.mark.parametrize("path", TWIN_FILES, ids=lambda p: p.name)
def test_every_backward_line_of_a_twin_names_its_forward_line(path):
    """min-char-rnn's rule, which the twins follow: each backward line says in a short
    comment which forward line it differentiates. Lines without one were found by hand
    (orthogonal's db.sum, the uRNN's V_re/V_im split, Skip RNN's call of its base's
    backward); a pass: none is left in any twin."""
    missing = backward_lines_without_a_comment(path.read_text())
    assert not missing, f"{path.name}: backward lines without a comment: {missing}"


def test_the_comment_scan_finds_a_backward_line_without_a_comment():
    """The scan above on made-up twins: what it must flag, and what it must leave."""
    flagged = backward_lines_without_a_comment(
        "def f_backward(dh, cache):\n"
        "    (dh_in,) = cache['d']\n"                    # reads only: left
        "    da = dh * 2.0\n"                            # computes a gradient: flagged
        "    # h = a + b\n"
        "    db = dh.sum(axis=0)\n"                      # a comment line above: left
        "    grads = {}\n"
        "    grads['W'] = da\n"                          # into grads: flagged
        "    grads.update(other)\n"                      # into grads: flagged
        "    n = len(dh) * 2   # not a gradient, and commented\n"
        "    return da, db\n"
        "def f_forward(x):\n"
        "    dz = x * 2\n")                              # not a backward: left
    assert [line for line, _ in flagged] == [3, 7, 8]


# ------------------------------------------------------------------ beyond the registry's variants
# options the registry-driven suite above leaves out (tests/conftest.py's EXTRA_VARIANTS
# multiplies every suite, so they are here): (name, options, D, H)
MORE_VARIANTS = [
    ("orthogonal", {"nonlinearity": "tanh", "parametrization": "exp"}, 4, 7),
    ("orthogonal", {"nonlinearity": "identity", "parametrization": "cayley", "n_negative": 3},
     4, 8),
    ("eurnn", {"capacity": 1}, 4, 8), ("eurnn", {"capacity": 3}, 4, 7),
    ("eurnn", {"capacity": 9}, 4, 5),                   # more layers than units
    ("eurnn", {"capacity": 3, "complex": False}, 4, 7),
    ("eurnn", {"style": "fft", "nonlinearity": "identity"}, 4, 8),
    ("eurnn", {"complex": False, "nonlinearity": "identity"}, 4, 6),
    ("qrnn", {"pooling": "f", "zoneout": 0.3}, 4, 5),
    ("qrnn", {"pooling": "ifo", "zoneout": 0.3}, 4, 5),
    ("qrnn", {"window": 1, "zoneout": 0.3}, 4, 5),
    ("lru", {"feedthrough": "dense"}, 5, 5),            # the dense forms at K = H
    ("lru", {"feedthrough": "diagonal", "normalization": False}, 5, 5),
    ("s4d", {"input_projection": "dense"}, 5, 5),
    ("s6", {"input_map": "dense"}, 5, 5),
    ("s6", {"input_map": "identity", "conv": 3, "gate": True}, 5, 5),
    ("s6", {"mode": "loop"}, 4, 6), ("s6", {"conv": 3, "selective": []}, 4, 6),
    ("clockwork", {"periods": [2, 3]}, 4, 6),           # no module runs at every step
    ("clockwork", {"modules": 1}, 4, 6),
]


def _with_zoneout_mask(cell, T, B):
    """A fixed {0, 1} zoneout mask for a QRNN with zoneout (its draws are the cell's)."""
    if getattr(cell, "zoneout", 0):
        cell.zoneout_mask = np.random.default_rng(1).random((T, B, cell.hidden_size)) >= 0.3
    return cell


@pytest.mark.parametrize("T,B", [(5, 3), (1, 1)], ids=["T5B3", "T1B1"])
@pytest.mark.parametrize("name,options,D,H", MORE_VARIANTS,
                         ids=[label(*case) for case in MORE_VARIANTS])
def test_more_variants_equal_their_textbook_version(name, options, D, H, T, B):
    """Options the registry-driven comparison does not build (capacities, the dense
    forms at K = H, zoneout with every pooling, periods not starting at 1, ...); all
    agreed already. A pass: as test_cell_equals_its_textbook_version, to 1e-10."""
    cell = _with_zoneout_mask(make_cell(name, D, H, options), T, B)
    pairs, _, _ = run_both(cell, T, B, np.random.default_rng(7))
    assert_agree(pairs, f"{name}{options}")


@pytest.mark.parametrize("name,options", cell_variants())
def test_every_variant_from_the_zero_state_equals_its_textbook_version(name, options):
    """state0 = None on both sides (each its own initial state: zeros, Skip RNN's ũ = 1),
    the way most sequences start; the suite above starts from random states. A pass:
    hs, the final state, dx, dL/d(state0) and every gradient agree to 1e-10."""
    cell = make_cell(name, 4, 6, options)
    rng = np.random.default_rng(3)
    perturb(cell, rng)
    pairs, _, _ = run_both_on(cell, rng.standard_normal((6, 3, cell.input_size)), None, rng)
    assert_agree(pairs, f"{name}{options} from the zero state")


@pytest.mark.parametrize("T,B", [(5, 3), (1, 1)], ids=["T5B3", "T1B1"])
@pytest.mark.parametrize("zero_state", [False, True], ids=["h0>0", "h0=None"])
@pytest.mark.parametrize("name", ["mingru", "minlstm"])
def test_log_mode_equals_the_textbook_version(name, zero_state, T, B):
    """mode="log" (the log-space scan) needs h_0 >= 0, which the registry suite's random
    states are not: here from a positive h_0 and from the zero state. A pass: agreement
    to 1e-10, as the other modes."""
    cell = make_cell(name, 4, 6, {"mode": "log"})
    rng = np.random.default_rng(5)
    perturb(cell, rng)
    x = rng.standard_normal((T, B, 4))
    h0 = None if zero_state else (np.abs(rng.standard_normal((B, 6))) + 0.01,)
    pairs, _, _ = run_both_on(cell, x, h0, rng)
    assert_agree(pairs, f"{name}(mode='log')")


def _skip_bases():
    """Every registered cell the Skip RNN takes as its base with the base's defaults."""
    bases = []
    for name in rnnzoo.available():
        try:
            rnnzoo.make("skiprnn", 4, 5, base=name)
        except ValueError:
            continue
        bases.append(name)
    return bases


SKIP_BASES = [(b, None) for b in _skip_bases()] + [
    ("rnn", {"nonlinearity": "relu"}), ("lstm", {"forget_bias": 0.0}),
    ("orthogonal", {"parametrization": "cayley", "n_negative": 1}),
    ("indrnn", {"nonlinearity": "tanh"}), ("slstm", {"forget_gate": "exp"}),
    ("cornn", {"damping": "explicit"}), ("janet", {"beta": 0.0}),
    ("deltarnn", {"phi": "relu"}), ("mingru", {"mode": "doubling"})]


@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
@pytest.mark.parametrize("base,base_options", SKIP_BASES,
                         ids=[label(b, o) for b, o in SKIP_BASES])
def test_skiprnn_over_every_base_equals_its_textbook_version(base, base_options, soft):
    """The registry suite wraps gru, lstm, rnn and clockwork; here every base the cell
    takes (and some with base_options), hard and soft, with a budget. A pass: agreement
    to 1e-10, and in hard mode steps that skip (u = 0) and steps that update (u = 1)."""
    cell = make_cell("skiprnn", 4, 5, {"base": base, "base_options": base_options,
                                       "soft": soft, "budget": 0.05})
    rng = np.random.default_rng(7)
    perturb(cell, rng)
    cell.params["b_p"][:] = -1.0         # Δũ below 1/2 at times: hard mode skips steps
    x = rng.standard_normal((6, 3, 4))
    pairs, _, r_cache = run_both_on(cell, x, random_state(cell, 3, rng), rng)
    assert_agree(pairs, f"skiprnn(base={base}, base_options={base_options}, soft={soft})")
    if not soft:
        u = np.concatenate([c["u"] for c in r_cache])
        assert set(np.unique(u)) == {0.0, 1.0}, f"u should take both 0 and 1; got {u.ravel()}"


# ------------------------------------------------------------------ every variant, option-free
# options that change a cell's equations but not its parameters' names or shapes: the
# parameters cannot say them, so a twin called without options takes their defaults
NOT_IN_PARAMS = {"deltanet": ("beta_range",), "gated_deltanet": ("beta_range",),
                 "deltarnn": ("phi",), "fastweights": ("S", "lam", "eta"),
                 "indrnn": ("nonlinearity",), "janet": ("beta",), "rnn": ("nonlinearity",),
                 "orthogonal": ("nonlinearity", "parametrization", "n_negative"),
                 "resindrnn": ("residual", "nonlinearity"), "skiprnn": ("soft", "budget"),
                 "slstm": ("forget_gate",), "unicornn": ("alpha", "dt")}
# the option a twin without options asks for where its parameters do not fit what it
# takes when not told (NEEDS_OPTIONS: always)
ASKS_FOR = {**{name: needs[0] for name, needs in NEEDS_OPTIONS.items()},
            "mlstm": "heads", "skiprnn": "base"}
OPTION_FREE = [(p.values[0], p.values[1], 4, 6) for p in cell_variants()] + MORE_VARIANTS


@pytest.mark.parametrize("name,options,D,H", OPTION_FREE,
                         ids=[label(*case) for case in OPTION_FREE])
def test_every_variants_twin_without_options_is_the_cell_or_names_the_option(
        name, options, D, H):
    """ref.forward(x, None, cell.params) on any variant's parameters: the EURNN twin said
    "params has no entry 'U_re'" for complex=False ('theta_A' for style="fft", 'b' for
    the identity) and computed two layers whatever the capacity; the residual IndRNN's
    "no entry 'W2'" at depth 1 and dropped the layer norm's g; the QRNN's, mLSTM's and
    Skip RNN's ran a wrong-sized cell or failed inside a step. A pass: either a
    TypeError that names the option its parameters do not fit (ASKS_FOR) and
    options_of(cell), or hs, the final state, dx, dstate0 and every gradient equal to
    the cell's to 1e-10 -- the cell made with these options but for those the
    parameters cannot show (NOT_IN_PARAMS, at their defaults), on these parameters."""
    cell = make_cell(name, D, H, options)
    rng = np.random.default_rng(5)
    perturb(cell, rng)
    x = rng.standard_normal((4, 2, cell.input_size))
    try:
        reference.get(name).forward(x, None, cell.params)
    except TypeError as exc:
        assert name in ASKS_FOR, f"{name}{options} without options: {exc}"
        # the default cell's parameters are what an option-free twin takes (mlstm's one
        # head, skiprnn's GRU base), except where no option has a default (NEEDS_OPTIONS)
        assert options or name in NEEDS_OPTIONS, f"the default {name}: {exc}"
        assert re.search(rf"needs the option(\(s\))? .*'{ASKS_FOR[name]}'", str(exc)), str(exc)
        assert f"**rnnzoo.reference.get({name!r}).options_of(cell)" in str(exc), str(exc)
        return
    shown = {k: v for k, v in options.items() if k not in NOT_IN_PARAMS.get(name, ())}
    twin_cell = make_cell(name, cell.input_size, cell.hidden_size, shown)
    assert {k: v.shape for k, v in twin_cell.params.items()} == \
        {k: v.shape for k, v in cell.params.items()}, f"{NOT_IN_PARAMS.get(name)} change params"
    twin_cell.params.update({k: v.copy() for k, v in cell.params.items()})
    pairs, _, _ = run_both_on(twin_cell, x, None, rng, options={})
    assert_agree(pairs, f"{name}{options} (D = {D}, H = {H}) called without options")


def test_the_resindrnn_twin_on_parameters_of_no_stack_names_the_first_layers_weight():
    """Its depth is read from W1 .. WL: parameters without W1 (a GRU's) are not a stack,
    and say so by the key they lack, not with zero layers."""
    gru = make_cell("gru", 3, 4, {})
    with pytest.raises(KeyError, match="W1"):
        reference.get("resindrnn").forward(np.zeros((2, 1, 3)), None, gru.params)
