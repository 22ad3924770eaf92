"""The figures command draws every figure, deterministically from its seed, and the
gradcheck command exits non-zero on failure."""
import hashlib
import pathlib

import numpy as np
import pytest

import rnnzoo
from rnnzoo.__main__ import main
from rnnzoo.core import diagnostics
from rnnzoo.teaching import figures


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_figures_are_deterministic(tmp_path):
    names = ["gradient_norm_over_time", "jacobian_singular_values"]
    first = figures.make_figures(names, out_dir=tmp_path / "a", progress=False)
    second = figures.make_figures(names, out_dir=tmp_path / "b", progress=False)
    for p, q in zip(first, second):
        assert p.stat().st_size > 10_000           # a real plot, not an empty canvas
        assert digest(p) == digest(q), p.name


def test_every_committed_figure_has_a_generator():
    committed = {p.stem for p in (pathlib.Path(__file__).resolve().parents[1]
                                  / "figures").glob("*.png")}
    assert committed <= set(figures.FIGURES), committed - set(figures.FIGURES)


def test_figures_command_rejects_unknown_names(tmp_path):
    with pytest.raises(SystemExit) as exit_info:         # a usage error, not a traceback
        main(["figures", "nope", "--out", str(tmp_path), "--quiet"])
    assert exit_info.value.code == 2


def test_gradcheck_command(capsys, monkeypatch):
    assert main(["gradcheck", "gru", "rnn"]) == 0
    out = capsys.readouterr().out
    assert "gradcheck gru" in out and "2 passed, 0 failed" in out
    from rnnzoo.cells import rnn
    original = rnn.ElmanRNN.finish_backward

    def broken(self, cache, work):
        dx, grads = original(self, cache, work)
        return dx * 1.01, grads

    monkeypatch.setattr(rnn.ElmanRNN, "finish_backward", broken)
    assert main(["gradcheck", "rnn"]) == 1
    assert "0 passed, 1 failed: rnn" in capsys.readouterr().out


def test_irnn_keeps_gradients_that_tanh_rnn_loses():
    """The claim of the first figure, as numbers."""
    tanh = rnnzoo.make("rnn", 4, 32, seed=0)
    irnn = rnnzoo.make("rnn", 4, 32, seed=0, nonlinearity="relu", identity_init=True)
    assert diagnostics.gradient_norm_over_time(tanh, 100)[0] < 1e-10
    assert diagnostics.gradient_norm_over_time(irnn, 100)[0] > 1e-2


def test_step_jacobian_matches_finite_differences():
    cell = rnnzoo.make("lstm", 2, 3, seed=0)
    x = diagnostics.random_inputs(cell, 4, 1, seed=0)
    J = diagnostics.step_jacobians(cell, x=x, steps=[3])[0]          # (6, 6): s = [h; c]
    state = cell.initial_state(1)
    for t in range(3):
        _, state, _ = cell.forward(x[t:t + 1], state)
    s_prev = np.concatenate([s.ravel() for s in state])
    eps, numeric = 1e-6, np.zeros((6, 6))
    for j in range(6):
        cols = []
        for sign in (1, -1):
            s = s_prev.copy()
            s[j] += sign * eps
            _, out, _ = cell.forward(x[3:4], (s[:3][None], s[3:][None]))
            cols.append(np.concatenate([o.ravel() for o in out]))
        numeric[:, j] = (cols[0] - cols[1]) / (2 * eps)
    np.testing.assert_allclose(J, numeric, atol=1e-8)


def test_jacobian_singular_values_are_those_of_the_step_jacobian_by_hand():
    """The tanh rnn's step Jacobian is diag(1 - h_t²) W_hh, so its singular values are
    known from the forward's h_t alone; an orthogonal RNN with the identity nonlinearity
    has W itself, every singular value 1. (The figures only compare them with 0.9 and 1,
    which a squared or halved spectrum can pass.)"""
    cell = rnnzoo.make("rnn", 3, 5, seed=0, dtype=np.float64)
    x = np.random.default_rng(1).standard_normal((6, 1, 3))
    hs, _, _ = cell.forward(x)
    by_hand = [np.linalg.svd((1 - hs[t, 0] ** 2)[:, None] * cell.params["W_hh"],
                             compute_uv=False) for t in range(6)]
    np.testing.assert_allclose(diagnostics.jacobian_singular_values(cell, x=x), by_hand,
                               rtol=1e-12, atol=1e-14)
    linear = rnnzoo.make("orthogonal", 3, 6, seed=0, dtype=np.float64, nonlinearity="identity")
    np.testing.assert_allclose(diagnostics.jacobian_singular_values(linear, T=4), 1.0,
                               rtol=0, atol=1e-12)


def test_committed_claims_all_pass_and_claims_md_is_their_rendering():
    """README points at figures/claims.md for its results: every claim there must have
    passed when the figures were drawn, and the markdown must be the JSON's rendering
    (nobody edited a number by hand)."""
    import json
    root = pathlib.Path(__file__).resolve().parents[1] / "figures"
    data = json.loads((root / "claims.json").read_text())
    claims = [c for entries in data.values() for c in entries if not c.get("measured")]
    assert claims, "the figures check at least one claim"
    failed = [c["statement"] for c in claims if not c["passed"]]
    assert not failed, failed
    assert set(data) <= set(figures.FIGURES)
    assert (root / "claims.md").read_text() == figures.render_claims(data)


def test_write_claims_merges_and_renders(tmp_path, capsys):
    from rnnzoo.experiments import Measurement
    from rnnzoo.teaching.figures.core import _current, check, measure
    _current[0] = "gradient_norm_over_time"
    figures.CLAIMS["gradient_norm_over_time"] = []
    check("one is less than two", 1 < 2, one=1)
    measure("a number", value=0.5)
    bad = check("two is less than one", 2 < 1)
    _current[0] = None
    assert not bad.passed and "FAIL: two is less than one" in capsys.readouterr().out
    figures.write_claims(tmp_path, {"gradient_norm_over_time":
                                    figures.CLAIMS.pop("gradient_norm_over_time")})
    figures.write_claims(tmp_path, {"jacobian_singular_values": [Measurement("m", {"x": 1})]})
    text = (tmp_path / "claims.md").read_text()
    assert "- PASS: one is less than two  (one = 1)" in text
    assert "- MEASURED: a number  (value = 0.5)" in text and "- FAIL: two is less" in text
    assert text.index("gradient_norm_over_time.png") < text.index("jacobian_singular_values")


def test_rnn_spectral_radius_option():
    cell = rnnzoo.make("rnn", 2, 8, spectral_radius=1.5)
    assert np.max(np.abs(np.linalg.eigvals(cell.params["W_hh"]))) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="spectral_radius must be None or a positive finite"):
        rnnzoo.make("rnn", 2, 8, spectral_radius=float("nan"))
    with pytest.raises(ValueError, match="use identity_scale"):
        rnnzoo.make("rnn", 2, 8, spectral_radius=1.5, identity_init=True)


def test_a_closed_pipe_ends_the_command_without_a_traceback():
    """``python -m rnnzoo reproduce --list | head -1``: the reader leaves early; the
    command stops quietly instead of printing a BrokenPipeError traceback. (The pipe's
    read end is closed before the command starts, so its first write fails every time.)"""
    import os
    import subprocess
    import sys
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "rnnzoo", "reproduce", "--list"],
                              stdout=write_end, stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(write_end)
    assert b"Traceback" not in proc.stderr and b"BrokenPipeError" not in proc.stderr, \
        proc.stderr.decode()
    assert proc.returncode == 1


@pytest.mark.parametrize("kwargs,named", [
    ({"names": "gradient_norm_over_time"}, "make_figures: names must be None (every figure) "
                                            "or a list of figure names"),
    ({"full": "no"}, "make_figures: full must be True or False; got 'no'"),
    ({"full": 1}, "make_figures: full must be True or False; got 1"),
    ({"seed": -1}, "make_figures: seed must be an integer >= 0; got -1"),
    ({"seed": 1.5}, "make_figures: seed must be an integer >= 0; got 1.5"),
    ({"seed": None}, "make_figures: seed must be an integer >= 0; got None"),
    ({"out_dir": None}, "make_figures: out_dir must be a folder path"),
    ({"progress": "no"}, "make_figures: progress must be True or False"),
    ({"names": ["gradient_norm_over_time"] * 2}, "make_figures: names must be distinct; got "
     "['gradient_norm_over_time', 'gradient_norm_over_time'], which repeats "
     "['gradient_norm_over_time']"),
])
def test_make_figures_checks_its_arguments_before_drawing(monkeypatch, tmp_path, kwargs,
                                                          named):
    """full="no" ran the papers' full lengths, a bad seed went to every figure, out_dir=None
    failed in pathlib after drawing, and one name was read as its letters."""
    def stub(out_dir, full=False, seed=0):
        raise AssertionError("drawn")
    monkeypatch.setitem(figures.FIGURES, "gradient_norm_over_time", stub)
    args = {"names": ["gradient_norm_over_time"], "out_dir": tmp_path, "progress": False,
            **kwargs}
    with pytest.raises((TypeError, ValueError)) as info:
        figures.make_figures(**args)
    assert named in str(info.value)


_TINY = rnnzoo.experiments.Budget(steps=1, hidden=2, eval_size=2, batch_size=1)


@pytest.mark.parametrize("call,named", [
    (lambda ax: figures.plot_gradient_norms(ax, "rnn", 4, hidden=4),
     "gradient_norms: variants must be a non-empty list of variant(label, name, options)"),
    (lambda ax: figures.plot_gradient_norms(ax, [("a", "rnn", {})], 4, hidden=4),
     "gradient_norms: variants must be a non-empty list"),
    (lambda ax: figures.plot_gradient_norms(ax, [figures.variant("a", "rnn")] * 2, 4,
                                            hidden=4),
     "gradient_norms: variants' labels must be distinct; got ['a', 'a']"),
    (lambda ax: figures.plot_jacobian_spectra(ax, [figures.variant("a", "rnn")], 4, 2.5,
                                              hidden=4),
     "jacobian_spectra: last (how many of the T steps) must be an integer >= 1 and <= 4"),
    (lambda ax: figures.variant("a", "rnn", ["forget_bias"]),
     "variant: options must be None or a dict"),
    (lambda ax: figures.variant(3, "rnn"), "variant: label must be a non-empty str; got 3"),
    (lambda ax: figures.comparison([rnnzoo.experiments.Variant("rnn")], "adding", {"T": 4},
                                   _TINY, full="no"),
     "comparison: full must be True or False; got 'no'"),
    (lambda ax: figures.comparison([rnnzoo.experiments.Variant("rnn")], "adding", {"T": 4},
                                   _TINY, seed=1.5),
     "comparison: seed must be an integer >= 0; got 1.5"),
    (lambda ax: figures.comparison([rnnzoo.experiments.Variant("rnn")], "adding", [4], _TINY),
     "comparison: task_options must be None or a dict"),
])
def test_the_figure_helpers_check_their_arguments(call, named):
    """A single name was an unpacking error, a repeated label silently dropped a line,
    last=2.5 a range() error, full="no" ran five seeds, task_options=None an
    AttributeError in the cache key."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    try:
        with pytest.raises((TypeError, ValueError)) as info:
            call(ax)
    finally:
        plt.close(fig)
    assert named in str(info.value)


def test_a_figures_measurement_needs_a_sentence(capsys):
    """measure(a_number) would have recorded the number as the sentence of claims.md."""
    from rnnzoo.core.validation import ArgumentTypeError
    with pytest.raises(ArgumentTypeError, match=r"measure: statement must be the sentence it "
                                                r"states \(a non-empty str\); got 3"):
        figures.measure(3, ratio=1.0)
    assert capsys.readouterr().out == ""
