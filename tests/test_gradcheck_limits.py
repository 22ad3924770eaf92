"""The finite-difference checker at its limits: gradients too small for atol to judge,
scales where round-off is larger than atol, kinks, and what it must refuse or name
(shared parameters, a backward that writes into its arguments, gradients of the wrong
dtype, empty or non-finite inputs).

A pass: a wrong gradient never reads "yes" however small it is; a correct cell passes at
inputs of 1e4-1e5 and at a ReLU kink (re-checked at eps/100, and the report says so);
each refusal names the argument and why.
"""
import re

import numpy as np
import pytest

import rnnzoo
from rnnzoo.core import gradcheck as gc
from rnnzoo.core import gradcheck_differences as gd

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


def flip(key):
    def change(dx, ds, g, dhs, dstate_T):
        g[key] = -g[key]
        return dx, ds, g
    return change


def ok_column(report, name):
    line = next(l for l in report.table().splitlines() if l.startswith(name + " "))
    return line.split("  ")[-1].strip()


# ------------------------------------------------------------ 1. small gradients
def test_a_wrong_sign_is_caught_where_every_gradient_is_below_atol():
    """Outputs of 1e-8: every gradient is below atol = 1e-7, so the per-entry test
    passed a flipped sign ('rel err 2.00 ... yes'). The floor of such small losses is
    ~1e-17, so the tensor's relative error is measured, and it fails."""
    report = rnnzoo.gradcheck(Plain(change=flip("b"), scale=1e-8), X)
    row = {r.name: r for r in report.rows}["b"]
    assert not row.passed and row.status == "wrong" and 1.9 < row.rel_err < 2.1
    assert ok_column(report, "b") == "NO"
    assert [r.name for r in report.rows if not r.passed] == ["b"], report.table()
    message = next(m for m in report.failures() if "'b'" in m)
    assert "every entry is within atol=1e-07, but the tensor's rel err is above" in message
    assert rnnzoo.gradcheck(Plain(scale=1e-8), X).passed


def test_a_gradient_too_small_to_measure_is_said_not_passed():
    """The audit's case: rnn at x of 1e-9, W_ih's gradients ~5e-9 with a flipped sign,
    the other tensors' of order 1: W_ih's differences are within 10 floors, so it can be
    neither confirmed nor passed."""
    from rnnzoo.cells import rnn
    x = 1e-9 * np.random.default_rng(0).standard_normal((5, 2, 3))

    class Flipped(rnn.ElmanRNN):
        def finish_backward(self, cache, work):
            dx, grads = super().finish_backward(cache, work)
            grads["W_ih"] = -grads["W_ih"]
            return dx, grads
    report = rnnzoo.gradcheck(Flipped(3, 4, seed=0), x)
    row = report.rows[0]
    assert row.name == "W_ih" and not row.passed and row.status == "unmeasurable"
    assert ok_column(report, "W_ih") == "NO (round-off)" and not report.passed
    assert any(re.search(r"gradient of 'W_ih' cannot be confirmed: its largest central "
                         r"difference is within 10x the round-off floor", m)
               for m in report.failures())


def test_a_gradient_zero_within_round_off_passes_as_zero():
    """A parameter the loss does not depend on: analytic 0, numeric 0 (a pass), printed
    as zero with no relative error."""
    cell = Plain()
    cell.params["unused"] = np.ones(2)
    inner = cell.change
    cell.change = lambda dx, ds, g, *a: inner(dx, ds, {**g, "unused": np.zeros(2)}, *a)
    report = rnnzoo.gradcheck(cell, X)
    row = {r.name: r for r in report.rows}["unused"]
    assert report.passed and row.status == "zero" and np.isnan(row.rel_err)
    assert ok_column(report, "unused") == "zero"
    # the verdict's worst relative error is that of the rows that have one
    assert report.worst_rel_err == max(r.rel_err for r in report.rows if r.name != "unused")
    only = rnnzoo.gradcheck(cell, X, only=["unused"])
    assert only.worst_rel_err == 0.0 and only.table().endswith("PASSED: worst rel err 0.00e+00")


def test_no_row_says_yes_beside_a_relative_error_above_what_the_floor_allows():
    """The report's promise, over cells at several scales, right and wrong."""
    for scale, change in [(1e-8, flip("W")), (1e-8, None), (1.0, None), (1e3, None),
                          (1e-4, flip("U"))]:
        report = rnnzoo.gradcheck(Plain(change=change, scale=scale), X)
        for r in report.rows:
            if r.passed and r.status == "ok":
                n_max = r.max_abs_err / r.rel_err if r.rel_err else np.inf
                assert r.rel_err <= max(1e-5, 2 * r.floor / n_max), (scale, report.table())


# ------------------------------------------------------------ 2. round-off at scale
@pytest.mark.parametrize("name,options,scale", [("lru", {}, 1e4),
                                                ("rnn", {"nonlinearity": "relu"}, 1e5)])
def test_a_correct_cell_passes_at_large_inputs(name, options, scale):
    """The round-off of a central difference grows with the loss (~ε_mach ‖L‖₁ / ε);
    the fixed atol did not, and lru at inputs of 1e4 failed x at rel err 2.8e-6. The
    floor column shows it."""
    cell = rnnzoo.make(name, 3, 4, seed=0, **options)
    for p in cell.params.values():
        p += 0.1 * np.random.default_rng(1).standard_normal(p.shape)
    x = scale * np.random.default_rng(0).standard_normal((5, 2, 3))
    report = rnnzoo.gradcheck(cell, x)
    assert report.passed, report.table()
    assert all(r.floor > 1e-6 for r in report.rows)          # |L| of order 1e4-1e6
    assert "floor" in report.table().splitlines()[1]


def test_the_floor_is_what_the_docstring_states():
    """floor = ε_mach · max(‖L‖₁ at θ ± ε) / ε, over the steps actually taken."""
    cell = rnnzoo.make("rnn", 3, 4, seed=0)
    problem = gc._Problem(cell, X, None, np.random.default_rng(0))
    d = gd._entry_difference(problem, cell.params["W_hh"], 5, 1e-6)
    w = cell.params["W_hh"].reshape(-1)
    old = w[5]
    sizes = []
    for step in (1e-6, -1e-6):
        cell.params["W_hh"].flat[5] = old + step
        sizes.append(problem.loss_and_size()[1])
    cell.params["W_hh"].flat[5] = old
    assert d.floor == pytest.approx(np.finfo(float).eps * max(sizes) / 1e-6, rel=1e-12)
    L, size = problem.loss_and_size()
    assert size >= abs(L) > 0
    assert "ε_mach · max(‖L‖₁(θ+εe), ‖L‖₁(θ−εe)) / ε" in rnnzoo.gradcheck.__doc__


def test_the_step_is_the_one_taken():
    """At an entry of 1e5, θ + 1e-6 rounds by up to 7e-12 (7e-6 of the step): the
    difference divides by the step actually taken."""
    cell = rnnzoo.make("rnn", 3, 4, seed=0)
    x = X.copy()
    x[0, 0, 0] = 1e5 + 0.3
    problem = gc._Problem(cell, x, None, np.random.default_rng(0))
    d = gd._entry_difference(problem, problem.inputs["x"], 0, 1e-6)
    assert d.up != 1e-6 and d.up == (1e5 + 0.3 + 1e-6) - (1e5 + 0.3)


# ------------------------------------------------------------ 3. kinks
def test_a_relu_kink_is_rechecked_at_a_smaller_step():
    """IndRNN at its initialization (b = 0): an entry of b whose ReLU input crosses 0
    within eps read 'analytic -10.616 vs numeric -10.945'; its one-sided differences
    disagree, and at eps/100 both agree with the analytic gradient."""
    x = np.random.default_rng(0).standard_normal((50, 2, 8))
    cell = rnnzoo.make("indrnn", input_size=8, hidden_size=32, seed=3)
    report = rnnzoo.gradcheck(cell, x, only=["b"])
    row = report.rows[0]
    assert report.passed, report.table()
    assert row.rechecked >= 1 and row.recheck_eps == 1e-8
    assert re.search(r"note: 'b': \d+ entr(y|ies) not smooth within eps=1e-06 \(the one-sided "
                     r"differences disagree: a kink\), re-checked at eps=1e-08", report.table())


class Kinked:
    """hs = relu(x - c) ⊙ 1 with c's entry 0 on an x exactly equal to it: a kink that no
    smaller step leaves; backward takes the subgradient 0 there."""
    state_names = ("h",)
    dtype = np.float64
    name = "kinked"

    def __init__(self):
        self.params = {"c": np.zeros(3)}

    def initial_state(self, batch):
        return (np.zeros((batch, 3)),)

    def forward(self, x, state0=None):
        h0 = (state0 or self.initial_state(x.shape[1]))[0]
        hs = np.maximum(x - self.params["c"], 0.0) + 0.5 * h0
        return hs, (hs[-1].copy(),), {"x": x.copy()}

    def backward(self, dhs, cache, dstate_T=None):
        up = dhs.copy()
        up[-1] += dstate_T[0]
        mask = (cache["x"] - self.params["c"] > 0)
        return mask * up, (0.5 * up.sum(0),), {"c": -(mask * up).sum((0, 1))}


def test_an_entry_still_not_smooth_at_the_smaller_step_fails_as_a_kink():
    x = np.abs(np.random.default_rng(0).standard_normal((1, 1, 3))) + 0.5
    x[0, 0, 1] = 0.0                                         # exactly at c's kink
    report = rnnzoo.gradcheck(Kinked(), x, only=["c"])
    row = report.rows[0]
    assert not report.passed and row.status == "kink" and row.worst_index == (1,)
    assert ok_column(report, "c") == "NO (kink)"
    message = report.failures()[0]
    assert "'c' at index (1,) sits at a kink, not necessarily a wrong backward" in message
    assert "at eps=1e-06" in message and "at eps=1e-08" in message


def test_a_wrong_gradient_where_the_loss_is_smooth_is_not_rechecked():
    report = rnnzoo.gradcheck(Plain(change=flip("b")), X)
    assert all(r.rechecked == 0 for r in report.rows)
    assert [r.status for r in report.rows if not r.passed] == ["wrong"]


def test_directional_mode_rechecks_a_kink_too():
    x = np.random.default_rng(0).standard_normal((50, 2, 8))
    cell = rnnzoo.make("indrnn", input_size=8, hidden_size=32, seed=3)
    report = rnnzoo.gradcheck(cell, x, only=["b"], mode="directional", directions=8, seed=2)
    assert report.passed, report.table()


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


@pytest.mark.parametrize("first,second", [("W", "U"), ("U", "b"), ("W", "b")])
def test_every_pair_of_parameters_is_compared(first, second):
    cell = Plain()
    cell.params[second] = cell.params[first].reshape(-1)[:cell.params[second].size].reshape(
        cell.params[second].shape)
    with pytest.raises(ValueError, match=f"parameters '{first}' and '{second}' of plain"):
        rnnzoo.gradcheck(cell, X)


# ------------------------------------------------------------ 5. writes into arguments
@pytest.mark.parametrize("target,named", [("dhs", "dhs"), ("dstate_T", r"dstate_T\[0\] \(dh_T\)")])
def test_a_backward_that_writes_into_its_upstream_gradient_is_named(target, named):
    """A backward that writes into dhs (dhs[t] += dh_next) or dstate_T changed the u of
    every later loss; it gets copies now, and the write is named."""
    def writes(dx, ds, g, dhs, dstate_T):
        (dhs if target == "dhs" else dstate_T[0])[...] *= 2.0
        return dx, ds, g
    report = rnnzoo.gradcheck(Plain(change=writes), X)
    assert all(r.passed for r in report.rows), report.table()    # compared on copies
    assert not report.passed
    assert any(re.match(rf"plain: backward wrote into its argument {named}, the upstream "
                        rf"gradient it was given", p) for p in report.problems), report.problems


def test_a_models_backward_that_writes_into_dy_is_named(monkeypatch):
    model = rnnzoo.build_model("rnn", 3, 4, 2, seed=0)
    original = type(model).backward

    def writes(self, dy, cache):
        returned = original(self, dy, cache)
        dy[...] = 0.0
        return returned
    monkeypatch.setattr(type(model), "backward", writes)
    report = rnnzoo.gradcheck(model, X)
    assert any("backward wrote into its argument dy" in p for p in report.problems)


# ------------------------------------------------------------ 6. dtype of gradients
@pytest.mark.parametrize("dtype,why", [(np.float32, "float32 has rounded it"),
                                       (np.complex128, "a complex gradient of a real tensor"),
                                       (np.int64, "int64 has truncated it")])
def test_a_gradient_that_is_not_real_float64_is_named(dtype, why):
    def cast(dx, ds, g, *a):
        g["W"] = g["W"].astype(dtype)
        return dx, ds, g
    report = rnnzoo.gradcheck(Plain(change=cast), X)
    assert not report.passed
    assert "W" not in {r.name for r in report.rows}
    assert any(p.startswith(f"grads['W'] has dtype {np.dtype(dtype)}; expected float64, like "
                            f"params['W'] ({why}") for p in report.problems), report.problems


def test_a_dx_of_another_dtype_is_named_too():
    report = rnnzoo.gradcheck(Plain(change=lambda dx, ds, g, *a: (dx.astype(np.float32),
                                                                  ds, g)), X)
    assert any(p.startswith("dx has dtype float32; expected float64, like x")
               for p in report.problems)


# ------------------------------------------------------------ 7. surrogates
class Surrogate(Plain):
    """b's gradient is a declared surrogate (its sign)."""
    exact_gradient = False
    surrogate_tensors = ("b",)

    def __init__(self, **kwargs):
        super().__init__(change=self._sign, **kwargs)

    @staticmethod
    def _sign(dx, ds, g, *a):
        g["b"] = np.sign(g["b"])
        return dx, ds, g


def test_skipping_every_surrogate_tensor_checks_the_rest_exactly():
    assert rnnzoo.gradcheck(Surrogate(), X, skip=["b"]).passed
    assert rnnzoo.gradcheck(Surrogate(), X, only=["W", "x"]).passed
    report = rnnzoo.gradcheck(Surrogate(), X)
    (problem,) = [p for p in report.problems if "surrogate" in p]
    assert "leave them out (skip=['b']) to check the others exactly" in problem
    assert "differentiable mode" not in problem                 # it has none


def test_skiprnn_still_names_its_differentiable_mode():
    report = rnnzoo.gradcheck(rnnzoo.make("skiprnn", 3, 4, seed=0), X, only=["base.W_hh"])
    (problem,) = report.problems
    assert "check its differentiable mode {'soft': True, 'budget': 0.1} instead" in problem


# ------------------------------------------------------------ 8. an explicit zero state0
def test_an_explicit_zero_state0_is_checked_as_given():
    """Zeros were replaced by a random state without a word; only None is."""
    cell = Plain()
    assert rnnzoo.gradcheck(cell, X, state0=(np.zeros((2, 3)),)).passed
    assert not cell.seen_state0[0].any()                        # the first, unnudged forward
    cell = Plain()
    rnnzoo.gradcheck(cell, X)                                  # None: a random one
    assert cell.seen_state0[0].all()


# ------------------------------------------------------------ 10. empty tensors
@pytest.mark.parametrize("shape", [(0, 2, 3), (4, 0, 3)])
def test_an_empty_sequence_or_batch_is_refused_naming_x(shape):
    with pytest.raises(ValueError, match=rf"gradcheck: x must have at least one step and one "
                                         rf"sequence .*; got shape {re.escape(str(shape))}"):
        rnnzoo.gradcheck(Plain(), np.zeros(shape))


@pytest.mark.parametrize("mode", ["entries", "directional"])
def test_a_parameter_with_no_entries_has_nothing_to_check(mode):
    cell = Plain()
    cell.params["unused"] = np.zeros((0, 3))
    inner = cell.change
    cell.change = lambda dx, ds, g, *a: inner(dx, ds, {**g, "unused": np.zeros((0, 3))}, *a)
    report = rnnzoo.gradcheck(cell, X, mode=mode)
    row = {r.name: r for r in report.rows}["unused"]
    assert report.passed and row.status == "empty" and row.checked == 0
    assert "note: 'unused' has no entries (shape (0, 3)): nothing to check" in report.table()


# ------------------------------------------------------------ 11. non-finite input
@pytest.mark.parametrize("where", ["x", "state0"])
def test_a_nan_in_x_or_state0_of_a_cell_of_ones_own_is_refused(where):
    x, state0 = X.copy(), (np.ones((2, 3)),)
    (x if where == "x" else state0[0])[1, 0] = np.nan
    match = (r"gradcheck: x must be finite; got nan at index \(1, 0, 0\)" if where == "x" else
             r"gradcheck: state0 component 'h' must be finite; got nan at index \(1, 0\)")
    with pytest.raises(ValueError, match=match):
        rnnzoo.gradcheck(Plain(), x, state0)


def test_a_gradient_that_is_nan_twice_is_reentrant():
    """NaN == NaN is False: a backward returning the same NaN twice read 'not reentrant'."""
    def nan_b(dx, ds, g, *a):
        g["b"] = np.full_like(g["b"], np.nan)
        return dx, ds, g
    report = rnnzoo.gradcheck(Plain(change=nan_b), X)
    assert not any("reentrant" in p for p in report.problems), report.problems
    assert [r.name for r in report.rows if not r.passed] == ["b"]


# ------------------------------------------------------------ 12. why not float64
@pytest.mark.parametrize("dtype,why", [
    (np.int64, "int64 cannot hold a nudge of ±eps"),
    (bool, "bool cannot hold a nudge of ±eps"),
    (np.complex128, "only real perturbations are made, so the derivative along the imaginary "
                    "part would go unchecked: split a complex tensor into _re and _im float64 "
                    "ones, as urnn, lru and s4d do"),
    (np.float32, r"in float32 the rounding error of a central difference \(~1e-07/eps\)"),
    (np.longdouble, f"{np.dtype(np.longdouble)} is not the float64 that gradcheck computes "
                    f"its differences in"),
])
def test_x_of_another_dtype_is_refused_with_its_own_reason(dtype, why):
    with pytest.raises(TypeError, match="gradcheck needs float64 .*: " + why):
        rnnzoo.gradcheck(Plain(), X.astype(dtype))


# ------------------------------------------------------------ the judgement, by hand
class _Flat:
    """A stand-in for the problem: L(θ) = 0, so the one-sided differences of a synthetic
    difference are its central one (the loss is smooth there)."""
    @staticmethod
    def base_loss():
        return 0.0


def synthetic(numeric, analytic, floor=0.0, eps=1e-6):
    """A _Difference whose central difference is ``numeric`` and whose floor is ``floor``."""
    size = floor * eps / np.finfo(float).eps
    return gd._Difference(numeric * eps, -numeric * eps, eps, eps, size, analytic, analytic)


def judge(differences, atol=0.0, rtol=0.0):
    return gd._judge(_Flat(), "t", (len(differences),), differences, None, lambda i: (i,),
                     1e-6, atol, rtol)


def test_the_worst_entry_is_the_one_furthest_past_its_own_tolerance():
    """Not the largest error: entry 0's error 10 is within 2 of its tolerance (its floor
    is 8), entry 1's error 5 is 5 past its own; and with rtol = 0.1, entry 2's error 12
    (of 100) is 2 past, entry 3's 5 (of 1) is 4.9 past."""
    row = judge([synthetic(1000.0, 1010.0, floor=8.0), synthetic(1000.0, 1005.0)])
    assert not row.passed and row.worst_index == (1,)
    row = judge([synthetic(100.0, 112.0), synthetic(1.0, 6.0)], rtol=0.1)
    assert not row.passed and row.worst_index == (1,)


def test_an_entry_passes_within_rtol_of_its_own_numeric_value():
    """|a - n| <= atol + floor + rtol |n|, entry by entry: 0.1 % off at |n| = 100 passes
    rtol = 2e-3 and fails rtol = 5e-4."""
    entries = [synthetic(100.0, 100.1), synthetic(1.0, 1.0)]
    assert judge(entries, rtol=2e-3).passed
    assert not judge(entries, rtol=5e-4).passed
    d = synthetic(-100.0, 0.0, floor=3.0)
    assert d.tolerance(1.0, 0.01) == pytest.approx(1.0 + 3.0 + 1.0)


def test_the_tensor_condition_states_its_limit():
    """Every entry within atol, none right: the message gives max(rtol, 2 floor / max|n|)."""
    row = judge([synthetic(1e-3, -1e-3, floor=1e-6), synthetic(5e-4, -5e-4, floor=1e-6)],
                atol=1e-2, rtol=1e-5)
    assert not row.passed and row.status == "wrong"
    assert "max(rtol, 2 floor / max|numeric|) = 0.002, where floor = 1e-06" in row.detail


def test_the_loss_size_counts_the_auxiliary_loss():
    """‖L‖₁ = Σ|u ⊙ hs| + Σ|v ⊙ state_T| + |aux| (Skip RNN's budget loss is its aux)."""
    cell = rnnzoo.make("skiprnn", 3, 4, seed=0, soft=True, budget=3.0)
    problem = gc._Problem(cell, X, None, np.random.default_rng(0))
    hs, state_T, cache = cell.forward(problem.inputs["x"], problem._state0())
    assert cache.aux_loss > 0
    expected = (np.abs(problem.u * hs).sum() + sum(np.abs(v * s).sum()
                                                    for v, s in zip(problem.v, state_T)))
    L, size = problem.loss_and_size()
    assert size == pytest.approx(expected + cache.aux_loss, rel=1e-12)
    assert L == pytest.approx(np.sum(problem.u * hs) + sum(np.sum(v * s) for v, s in
                                                           zip(problem.v, state_T))
                              + cache.aux_loss, rel=1e-12)


def test_the_loss_of_a_cell_without_an_auxiliary_loss_is_its_outputs_alone():
    cell = rnnzoo.make("rnn", 3, 4, seed=0)
    problem = gc._Problem(cell, X, None, np.random.default_rng(0))
    hs, (h,), _ = cell.forward(problem.inputs["x"], problem._state0())
    L, size = problem.loss_and_size()
    (v,) = problem.v
    assert L == pytest.approx(np.sum(problem.u * hs) + np.sum(v * h), rel=1e-12)
    assert size == pytest.approx(np.abs(problem.u * hs).sum() + np.abs(v * h).sum(), rel=1e-12)


def test_a_cell_of_another_dtype_is_refused_before_its_x():
    cell = rnnzoo.make("rnn", 3, 4, dtype=np.float32)
    with pytest.raises(TypeError, match=r"gradcheck needs float64 .*: in float32 the rounding "
                                        r"error .*; got cell dtype float32 and x dtype float64"):
        rnnzoo.gradcheck(cell, X)


def test_a_gradient_in_extended_precision_is_named():
    report = rnnzoo.gradcheck(Plain(change=lambda dx, ds, g, *a: (
        dx, ds, {**g, "b": g["b"].astype(np.longdouble)})), X)
    assert f"grads['b'] has dtype {np.dtype(np.longdouble)}; expected float64, like " \
           f"params['b'] (the parameters are float64)" in report.problems
