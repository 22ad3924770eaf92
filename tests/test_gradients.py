"""Finite-difference check of every parameter, the input and every initial-state
component of every registered cell, in float64 with central differences.

A pass looks like relative errors around 1e-9 to 1e-8 (the round-off of a central
difference with eps = 1e-6); a wrong backward gives errors of order 1.
"""
import numpy as np
import pytest

import rnnzoo

from .conftest import cell_variants


@pytest.mark.parametrize("name,opts", cell_variants())
def test_gradcheck_every_tensor(name, opts, rng):
    cell = rnnzoo.make(name, input_size=3, hidden_size=4, seed=3, dtype=np.float64, **opts)
    x = rng.standard_normal((6, 2, 3))
    report = rnnzoo.gradcheck(cell, x, seed=5)
    if not getattr(cell, "exact_gradient", True):
        # a surrogate by design (hard skiprnn's straight-through round): the checker
        # must refuse it, never pass it. Its exact paths and the surrogate itself are
        # checked in tests/test_skiprnn.py
        assert not report.passed
        assert any("surrogate by design" in p for p in report.problems), report.table()
        return
    checked = {row.name for row in report.rows}
    assert checked == set(cell.params) | {"x"} | {f"{n}0" for n in cell.state_names}
    assert report.passed, report.table()
    assert all(row.checked == int(np.prod(row.shape)) for row in report.rows)


@pytest.mark.parametrize("readout", ["all", "last"])
def test_gradcheck_stacked_model(readout, rng):
    model = rnnzoo.build_model("gru", input_size=3, hidden_size=4, output_size=2, layers=2,
                               readout=readout, seed=1)
    report = rnnzoo.gradcheck(model, rng.standard_normal((5, 2, 3)))
    assert {r.name for r in report.rows} == set(model.params) | {"x"}
    assert report.passed, report.table()


def test_gradcheck_catches_a_wrong_backward(rng, monkeypatch):
    """Break one line of the LSTM backward: the checker must fail, name the tensor, and
    give the index of the worst entry."""
    from rnnzoo.cells import lstm
    cell = rnnzoo.make("lstm", 3, 4, seed=0)
    original = lstm.LSTM.finish_backward

    def broken(self, cache, work):
        dx, grads = original(self, cache, work)
        grads["W_hh"] = grads["W_hh"] * 1.001          # a 0.1 % error in one gradient
        return dx, grads

    monkeypatch.setattr(lstm.LSTM, "finish_backward", broken)
    report = rnnzoo.gradcheck(cell, rng.standard_normal((4, 2, 3)))
    assert not report.passed
    failed = [r.name for r in report.rows if not r.passed]
    assert failed == ["W_hh"]
    assert "gradient of 'W_hh' is wrong at index" in report.failures()[0]
    with pytest.raises(AssertionError, match="W_hh"):
        rnnzoo.gradcheck(cell, rng.standard_normal((4, 2, 3)), raise_on_failure=True)


def test_directional_tolerance_is_relative_to_the_numeric_value(rng, monkeypatch):
    """A direction passes when |analytic − numeric| <= atol + rtol·|numeric|: a 0.1 % error
    in one gradient passes rtol = 2e-3 and fails rtol = 5e-4 (atol = 0 both times)."""
    from rnnzoo.cells import lstm
    cell = rnnzoo.make("lstm", 3, 4, seed=0)
    original = lstm.LSTM.finish_backward

    def off_by_a_permille(self, cache, work):
        dx, grads = original(self, cache, work)
        grads["W_hh"] = grads["W_hh"] * 1.001
        return dx, grads

    monkeypatch.setattr(lstm.LSTM, "finish_backward", off_by_a_permille)
    x = rng.standard_normal((4, 2, 3))
    loose = rnnzoo.gradcheck(cell, x, mode="directional", atol=0.0, rtol=2e-3, only=["W_hh"])
    tight = rnnzoo.gradcheck(cell, x, mode="directional", atol=0.0, rtol=5e-4, only=["W_hh"])
    assert loose.passed, loose.table()
    assert not tight.passed, tight.table()


def test_gradcheck_catches_a_non_reentrant_backward(rng, monkeypatch):
    from rnnzoo.cells import gru
    cell = rnnzoo.make("gru", 3, 4, seed=0)
    calls = []
    original = gru.GRU.finish_backward

    def stateful(self, cache, work):
        dx, grads = original(self, cache, work)
        calls.append(1)
        grads["b_hh"] = grads["b_hh"] + len(calls)      # depends on how often it ran
        return dx, grads

    monkeypatch.setattr(gru.GRU, "finish_backward", stateful)
    report = rnnzoo.gradcheck(cell, rng.standard_normal((3, 2, 3)), only=["x"])
    assert any("not reentrant" in p for p in report.problems)
    assert not report.passed


def test_gradcheck_refuses_float32(rng):
    cell = rnnzoo.make("rnn", 3, 4, dtype=np.float32)
    with pytest.raises(TypeError, match="gradcheck needs float64"):
        rnnzoo.gradcheck(cell, rng.standard_normal((3, 2, 3)).astype(np.float32))


def test_gradcheck_names_a_list_x_as_not_an_array(rng):
    """A list has no dtype: the error is that x is not an array, not that it is not
    float64."""
    cell = rnnzoo.make("gru", 2, 3, dtype=np.float64)
    with pytest.raises(TypeError, match="x must be a 3-D numpy array .* got a list"):
        rnnzoo.gradcheck(cell, rng.standard_normal((3, 2, 2)).tolist())


def test_sampled_and_directional_modes_agree_with_full(rng):
    cell = rnnzoo.make("lstm", 3, 5, seed=2)
    x = rng.standard_normal((5, 2, 3))
    sampled = rnnzoo.gradcheck(cell, x, max_entries=7)
    assert sampled.passed, sampled.table()
    assert all(r.checked == min(7, int(np.prod(r.shape))) for r in sampled.rows)
    directional = rnnzoo.gradcheck(cell, x, mode="directional", directions=3)
    assert directional.passed, directional.table()
    assert all(r.checked == 3 for r in directional.rows)


def test_report_prints_a_table(rng):
    report = rnnzoo.gradcheck(rnnzoo.make("gru", 2, 3), rng.standard_normal((3, 1, 2)))
    text = str(report)
    assert "W_hh" in text and "rel err" in text and "PASSED" in text
    assert "<table>" in report._repr_html_()
