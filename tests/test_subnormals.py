"""Flushing subnormal floats to zero (rnnzoo.core.subnormals) and the Trainer's use of it.

The speed it buys is measured by scripts/subnormal_speed.py, not here: these tests check
that the setting takes, that it is undone, and that it changes no result."""
import numpy as np
import pytest

import rnnzoo
from rnnzoo.core import subnormals
from rnnzoo.core.subnormals import flush_subnormals, flushing_supported
from rnnzoo.tasks import make_task
from rnnzoo.training import Trainer

TINY = np.finfo(np.float32).tiny
SUPPORTED, REASON = flushing_supported()
needs_flushing = pytest.mark.skipif(not SUPPORTED, reason=f"no flushing here: {REASON}")


def half_tiny():
    """Half the smallest normal float32: subnormal under IEEE, 0 when flushed."""
    return float(np.multiply(np.float32(TINY), np.float32(0.5)))


def test_ieee_outside_any_block():
    assert half_tiny() == TINY / 2


@needs_flushing
def test_the_block_flushes_and_the_previous_setting_comes_back():
    with flush_subnormals() as flushing:
        assert flushing is True
        assert half_tiny() == 0.0
        # DAZ: a subnormal operand is read as zero, so scaling it up gives 0, not 2^-28
        assert float(np.multiply(np.float32(TINY / 4), np.float32(2.0 ** 100))) == 0.0
    assert half_tiny() == TINY / 2


@needs_flushing
def test_an_exception_inside_still_restores_ieee():
    with pytest.raises(RuntimeError, match="inside"):
        with flush_subnormals():
            raise RuntimeError("inside")
    assert half_tiny() == TINY / 2


@needs_flushing
def test_a_nested_block_leaves_the_outer_one_flushing():
    with flush_subnormals():
        with flush_subnormals():
            pass
        assert half_tiny() == 0.0
        with flush_subnormals(enabled=False) as flushing:   # "off" does not switch it off
            assert flushing is False
        assert half_tiny() == 0.0
    assert half_tiny() == TINY / 2


def test_disabled_is_plain_ieee():
    with flush_subnormals(enabled=False) as flushing:
        assert flushing is False
        assert half_tiny() == TINY / 2


def test_an_unknown_platform_is_a_no_op_that_says_why(monkeypatch):
    monkeypatch.setattr(subnormals, "_setup", None)
    monkeypatch.setattr(subnormals, "_platform_key", lambda: ("Plan9", "mips"))
    supported, reason = flushing_supported()
    assert supported is False
    assert "not implemented on Plan9 mips" in reason
    with flush_subnormals() as flushing:
        assert flushing is False
        assert half_tiny() == TINY / 2


def damped_cornn(task, seed=0):
    """A coRNN with the authors' adding settings, under which its gradient 300 steps back
    is below float32's smallest normal number (the next test checks it)."""
    return rnnzoo.build_model("cornn", task.input_size, 16, task.output_size,
                              readout=task.readout, seed=seed, dtype=np.float32,
                              dt=0.06, gamma=66.0, epsilon=15.0)


def test_this_backward_really_reaches_subnormals():
    """The premise of the next two tests: under IEEE, this backward has subnormal entries."""
    task = make_task("adding", T=300, seed=0)
    model = damped_cornn(task)
    x, target = task.batch(8, np.random.default_rng(0))
    y, cache = model.forward(x.astype(np.float32))
    _, dy = rnnzoo.mse_loss(y, target.astype(np.float32))
    dx = model.backward(dy, cache)[0]
    assert ((np.abs(dx) < TINY) & (dx != 0)).sum() > 100


@needs_flushing
def test_the_trainer_steps_and_evaluates_with_subnormals_flushed(monkeypatch):
    task = make_task("adding", T=300, seed=0, eval_size=16)
    seen = {}
    for flush in (True, False):
        model = damped_cornn(task)
        trainer = Trainer(model, task, batch_size=8, eval_every=2, eval_batch=16,
                          progress=False, flush_subnormals=flush)
        backward, forward = model.backward, model.forward
        states = seen[flush] = []
        monkeypatch.setattr(model, "backward",
                            lambda *a: (states.append(("backward", half_tiny() == 0)),
                                        backward(*a))[1])
        monkeypatch.setattr(model, "forward",
                            lambda *a: (states.append(("forward", half_tiny() == 0)),
                                        forward(*a))[1])
        trainer.run(2)
        assert half_tiny() == TINY / 2                       # and IEEE again afterwards
    # evaluations at steps 0 and 2 (forward only) and 2 training steps (forward, backward)
    assert [s for s, _ in seen[True]].count("backward") == 2
    assert len(seen[True]) >= 6
    assert all(flushed for _, flushed in seen[True])
    assert not any(flushed for _, flushed in seen[False])


def test_flushing_changes_no_result_here():
    """Bitwise: the terms flushed are far below float32's resolution of every sum they
    enter. (Where flushing is unsupported both runs are IEEE, and equal trivially.)"""
    task = make_task("adding", T=300, seed=0, eval_size=16)
    runs = {}
    for flush in (True, False):
        model = damped_cornn(task)
        h = Trainer(model, task, batch_size=8, lr=0.02, eval_every=3, eval_batch=16,
                    progress=False, flush_subnormals=flush).run(3)
        runs[flush] = (model.params, h)
    (p1, h1), (p0, h0) = runs[True], runs[False]
    assert h1.train_loss == h0.train_loss and h1.eval_loss == h0.eval_loss
    for name in p0:
        np.testing.assert_array_equal(p1[name], p0[name], err_msg=name)


def test_flush_subnormals_must_be_a_bool():
    task = make_task("adding", T=5, seed=0)
    with pytest.raises(TypeError, match="flush_subnormals"):
        Trainer(damped_cornn(task), task, flush_subnormals="yes")


# ---------------------------------------------------------------- the committed table
GAIN = ("lstm", "gru", "mgu", "skiprnn", "deltarnn", "qrnn", "rnn", "indrnn", "resindrnn",
        "fastweights", "mingru", "minlstm", "lru", "s6")
AS_BEFORE = ("orthogonal", "urnn", "eurnn", "antisymmetric", "lipschitz", "lmu", "janet",
             "s4d", "cornn", "unicornn", "slstm", "mlstm", "deltanet")
BETWEEN = ("clockwork", "gated_deltanet")


def committed_tables():
    """figures/speed/subnormals.md as {header line: {cell: (ieee ms, flushed ms, ratio,
    bitwise equal)}}, one entry per table."""
    from pathlib import Path
    text = (Path(__file__).parent.parent / "figures" / "speed" / "subnormals.md").read_text()
    tables, rows = {}, None
    for line in text.splitlines():
        if line.startswith("Adding problem"):
            rows = tables[line] = {}
        elif line.startswith("| ") and not line.startswith("| cell"):
            cell, ieee, flushed, ratio, same = (c.strip() for c in line.strip("|").split("|"))
            rows[cell] = (float(ieee), float(flushed), float(ratio), same)
    return tables


def test_the_committed_table_is_what_the_book_says():
    ((every_cell, every_rows), (cornn_header, cornn_rows),
     (threads_header, threads_rows)) = committed_tables().items()
    assert "T = 1000" in every_cell and set(every_rows) == set(rnnzoo.available())
    for rows in (every_rows, cornn_rows, threads_rows):
        for cell, (ieee, flushed, ratio, same) in rows.items():
            assert same == "yes", cell                     # the same parameters, bitwise
            assert ratio == pytest.approx(ieee / flushed, abs=0.01), cell
    ratios = {cell: row[2] for cell, row in every_rows.items()}
    assert max(ratios, key=ratios.get) == "lstm"
    assert ratios["lstm"] > 2 * max(r for c, r in ratios.items() if c != "lstm")  # "by far"
    assert all(ratios[c] >= 1.4 for c in GAIN), {c: ratios[c] for c in GAIN}
    assert all(0.9 <= ratios[c] <= 1.1 for c in AS_BEFORE), {c: ratios[c] for c in AS_BEFORE}
    assert all(1.1 < ratios[c] < 1.4 for c in BETWEEN), {c: ratios[c] for c in BETWEEN}
    assert sorted(GAIN + AS_BEFORE + BETWEEN) == sorted(ratios)      # every cell, once
    # the coRNN authors' adding settings: the gradient decays, and flushing pays
    assert "dt=0.06" in cornn_header and "T = 500" in cornn_header
    assert cornn_rows["cornn"][2] >= 3
    # two BLAS threads, whose workers are not flushed: "most of the gain remains"
    assert "2 BLAS threads" in threads_header and "T = 1000" in threads_header
    for cell, row in threads_rows.items():
        assert row[2] - 1 > (ratios[cell] - 1) / 2, cell


def test_enabled_must_be_a_bool():
    with pytest.raises(TypeError, match=r"flush_subnormals: enabled must be True or False"):
        with flush_subnormals("no"):
            pass
