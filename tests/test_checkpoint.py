"""Checkpoints: bit-exact round trips, identical resumption, no pickle, atomic writes,
and clear errors for files that do not fit."""
import functools
import json
import os
import warnings

import numpy as np
import pytest

import rnnzoo
from rnnzoo.optim import Adam, optimizer_from_state
from rnnzoo.tasks import make_task
from rnnzoo.training import Trainer
from rnnzoo.training.checkpoint import CheckpointError, load_checkpoint, read_meta, save_checkpoint

DATA = os.path.join(os.path.dirname(__file__), "data")


def model_for(task, cell="gru", **kw):
    return rnnzoo.build_model(cell, task.input_size, 6, task.output_size, readout=task.readout,
                              seed=2, **kw)


def test_round_trip_is_bit_exact(tmp_path):
    task = make_task("adding", T=8)
    model = rnnzoo.build_model("rnn", 2, 5, 1, layers=2, readout="last", seed=4,
                               nonlinearity="relu", identity_init=True, identity_scale=0.9)
    for p in model.params.values():                       # not just the initial values
        p += np.random.default_rng(0).normal(size=p.shape)
    path = save_checkpoint(tmp_path / "m.npz", model, extra={"note": "hi"})
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask   # not mkstemp's 0600
    loaded, opt_state, meta = load_checkpoint(path)
    assert opt_state is None and meta["extra"] == {"note": "hi"}
    assert [c.hyperparameters for c in loaded.cells] == [c.hyperparameters for c in model.cells]
    assert loaded.readout.readout == "last"
    for k, p in model.params.items():
        np.testing.assert_array_equal(loaded.params[k], p)
        assert loaded.params[k].dtype == p.dtype
    x, _ = task.batch(3, np.random.default_rng(1))
    np.testing.assert_array_equal(loaded.forward(x)[0], model.forward(x)[0])
    # the backend named explicitly replaces the recorded one (not passed twice)
    named, _, _ = load_checkpoint(path, backend="numpy")
    assert [c.backend.name for c in named.cells] == ["numpy", "numpy"]
    for k, p in model.params.items():
        np.testing.assert_array_equal(named.params[k], p)


def test_single_cell_and_float32_round_trip(tmp_path):
    cell = rnnzoo.make("lstm", 3, 4, seed=1, dtype=np.float32)
    save_checkpoint(tmp_path / "c.npz", cell)
    loaded, _, meta = load_checkpoint(tmp_path / "c.npz")
    assert meta["kind"] == "cell" and type(loaded) is type(cell)
    for k, p in cell.params.items():
        assert loaded.params[k].dtype == np.float32
        np.testing.assert_array_equal(loaded.params[k], p)


def test_training_resumes_identically(tmp_path):
    task = make_task("copy", T=4, seed=0, eval_size=16)
    kw = dict(batch_size=8, lr=0.01, eval_every=5, seed=7, progress=False)
    # uninterrupted: 12 steps
    ref = model_for(task, "lstm")
    Trainer(ref, task, **kw).run(12)
    # interrupted after 6, saved, loaded into a fresh process's worth of objects, 6 more
    a = model_for(task, "lstm")
    ta = Trainer(a, task, **kw)
    ta.run(6)
    save_checkpoint(tmp_path / "r.npz", a, ta.optimizer, extra=ta.checkpoint_extra())
    b, opt_state, meta = load_checkpoint(tmp_path / "r.npz")
    resumed = {k: v for k, v in kw.items() if k != "lr"}      # the optimizer carries its lr
    tb = Trainer(b, task, optimizer=optimizer_from_state(b.params, opt_state),
                 start_step=meta["extra"]["step"], **resumed)
    tb.run(6)
    for k, p in ref.params.items():
        np.testing.assert_array_equal(b.params[k], p)
    assert tb.optimizer.step_count == 12


ZONEOUT = {"qrnn": dict(zoneout=0.3),       # and a Skip RNN wrapping one (it passes its
           "skiprnn": dict(base="qrnn",      # base's random state through)
                           base_options={"pooling": "f", "zoneout": 0.3})}


@pytest.mark.parametrize("cell", list(ZONEOUT))
@pytest.mark.parametrize("into", ["rebuilt", "existing"])
def test_a_qrnn_with_zoneout_resumes_identically(tmp_path, into, cell):
    """Its zoneout masks come from a generator of its own: the checkpoint carries that
    generator's state, so the resumed run draws the masks the uninterrupted one drew
    (it replayed the first steps' masks, and ended up to 0.03 away)."""
    task = make_task("adding", T=8, seed=0, eval_size=8)
    kw = dict(batch_size=3, lr=0.05, eval_every=5, seed=7, progress=False)
    build = functools.partial(rnnzoo.build_model, cell, 2, 4, 1, readout="last", seed=0,
                              dtype=np.float64, **ZONEOUT[cell])
    ref = build()
    Trainer(ref, task, **kw).run(6)
    a = build()
    ta = Trainer(a, task, **kw)
    ta.run(3)
    save_checkpoint(tmp_path / "z.npz", a, ta.optimizer, extra=ta.checkpoint_extra())
    b, opt_state, meta = load_checkpoint(tmp_path / "z.npz",
                                         model=None if into == "rebuilt" else build())
    assert meta["random_states"][0] == a.cells[0].random_state()
    resumed = {k: v for k, v in kw.items() if k != "lr"}
    Trainer(b, task, optimizer=optimizer_from_state(b.params, opt_state),
            start_step=meta["extra"]["step"], **resumed).run(3)
    for k, p in ref.params.items():
        np.testing.assert_array_equal(b.params[k], p)


@pytest.mark.parametrize("cell", list(ZONEOUT))
def test_evaluation_of_a_zoneout_model_is_deterministic_and_draws_no_mask(cell):
    """Evaluation turns zoneout off (its expectation), also inside a Skip RNN's base: it
    gave another loss each time and used up the training run's masks."""
    task = make_task("adding", T=6, seed=0, eval_size=8)
    model = rnnzoo.build_model(cell, 2, 4, 1, readout="last", seed=0, dtype=np.float64,
                               **ZONEOUT[cell])
    drawn = model.cells[0].random_state()
    assert rnnzoo.evaluate(model, task) == rnnzoo.evaluate(model, task)
    assert model.cells[0].random_state() == drawn and model.cells[0].training is True


def test_a_late_random_state_that_does_not_fit_leaves_the_earlier_ones(tmp_path):
    """Random states are checked by setting them; layer 1's misfit puts layer 0's back."""
    task = make_task("adding", T=5, seed=0, eval_size=4)
    model = rnnzoo.build_model("qrnn", 2, 4, 1, readout="last", layers=2, zoneout=0.3)
    trainer = Trainer(model, task, batch_size=2, eval_every=5, progress=False)
    trainer.run(2)
    path = save_checkpoint(tmp_path / "q.npz", model, trainer.optimizer)
    with np.load(path, allow_pickle=False) as d:
        raw = {k: d[k] for k in d.files}
    meta = json.loads(str(raw["meta.json"][()]))
    meta["random_states"][1] = {"bit_generator": "PCG64", "state": "not a state"}
    raw["meta.json"] = np.array(json.dumps(meta))
    with open(path, "wb") as f:
        np.savez(f, **raw)
    fresh = rnnzoo.build_model("qrnn", 2, 4, 1, readout="last", layers=2, zoneout=0.3)
    before = [c.random_state() for c in fresh.cells]
    with pytest.raises(CheckpointError, match="its random state for QRNN"):
        load_checkpoint(path, model=fresh)
    assert [c.random_state() for c in fresh.cells] == before


def test_a_tuple_inside_base_options_loads_into_the_same_model(tmp_path):
    """The file holds JSON (a list); the model's option a tuple: the same value."""
    build = functools.partial(rnnzoo.build_model, "skiprnn", 2, 4, 1, readout="last",
                              base="clockwork", base_options={"periods": (1, 3)})
    path = save_checkpoint(tmp_path / "s.npz", build())
    model, _, _ = load_checkpoint(path, model=build())
    with pytest.raises(CheckpointError, match="base_options"):
        load_checkpoint(path, model=rnnzoo.build_model(
            "skiprnn", 2, 4, 1, readout="last", base="clockwork",
            base_options={"periods": (1, 2)}))


def test_a_history_from_a_dict_does_not_share_its_lists():
    """Resuming twice from one loaded checkpoint's metadata: the first run's steps must not
    land in the dict the second one starts from."""
    from rnnzoo.training.history import History
    d = History(label="x", steps=[1, 2], train_loss=[0.5, 0.4]).to_dict()
    h = History.from_dict(d)
    h.steps.append(3)
    assert d["steps"] == [1, 2]


def test_only_a_cell_that_draws_at_random_adds_a_random_state(tmp_path):
    """Files of the other cells are as before (no "random_states"); a state that does not
    fit the cell is refused by name."""
    task = make_task("adding", T=5)
    _, _, meta = load_checkpoint(save_checkpoint(tmp_path / "g.npz", model_for(task)))
    assert "random_states" not in meta
    assert rnnzoo.make("qrnn", 2, 4).random_state() is None          # no zoneout: no draws
    with pytest.raises(ValueError, match="draws nothing at random"):
        rnnzoo.make("gru", 2, 4).set_random_state({"state": 1})
    q = rnnzoo.make("qrnn", 2, 4, zoneout=0.2)
    with pytest.raises(ValueError, match="state must be what random_state"):
        q.set_random_state({"bit_generator": "PCG64", "state": "x"})


def test_optimizer_state_round_trip(tmp_path):
    task = make_task("adding", T=5)
    model = model_for(task)
    opt = Adam(model.params, lr=0.003, lr_for={"cell0.W_hh": 1e-4})
    Trainer(model, task, optimizer=opt, progress=False, eval_every=10).run(3)
    save_checkpoint(tmp_path / "o.npz", model, opt)
    loaded, state, _ = load_checkpoint(tmp_path / "o.npz")
    opt2 = optimizer_from_state(loaded.params, state)
    assert opt2.lrs == opt.lrs and opt2.step_count == 3 and opt2.betas == opt.betas
    for b in ("m", "v"):
        for k in model.params:
            np.testing.assert_array_equal(opt2.buffers[b][k], opt.buffers[b][k])


def test_load_into_existing_model_in_place(tmp_path):
    task = make_task("adding", T=5)
    src, dst = model_for(task), rnnzoo.build_model("gru", 2, 6, 1, readout="last", seed=99)
    save_checkpoint(tmp_path / "m.npz", src)
    W = dst.params["cell0.W_hh"]
    out, _, _ = load_checkpoint(tmp_path / "m.npz", model=dst)
    assert out is dst and dst.params["cell0.W_hh"] is W
    np.testing.assert_array_equal(W, src.params["cell0.W_hh"])


def test_non_finite_tensors_load_with_a_warning_naming_them(tmp_path):
    """A checkpoint with NaN parameters loaded silently, and training from it stopped at
    step 0 blaming divergence; a pass: loading warns (RuntimeWarning), naming every
    tensor with NaN or inf (parameters and optimizer buffers) and no other, and still
    loads the values; a clean checkpoint loads without a warning."""
    task = make_task("adding", T=5)
    model = model_for(task)
    opt = Adam(model.params, lr=0.01)
    Trainer(model, task, optimizer=opt, progress=False, eval_every=10).run(1)
    save_checkpoint(tmp_path / "clean.npz", model, opt)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_checkpoint(tmp_path / "clean.npz")
    model.params["cell0.W_hh"][0, 0] = np.nan
    opt.buffers["v"]["readout.b"][...] = np.inf
    save_checkpoint(tmp_path / "nan.npz", model, opt)
    with pytest.warns(RuntimeWarning, match=r"NaN or inf in 2 tensor\(s\): "
                                            r"param/cell0\.W_hh, optim/v/readout\.b;") as got:
        loaded, _, _ = load_checkpoint(tmp_path / "nan.npz")
    assert len(got) == 1 and "nan.npz" in str(got[0].message)
    assert got[0].filename == __file__          # it points at the caller's line
    assert np.isnan(loaded.params["cell0.W_hh"][0, 0])


def test_different_cell_type_is_a_clear_error(tmp_path):
    task = make_task("adding", T=5)
    save_checkpoint(tmp_path / "g.npz", model_for(task, "gru"))
    with pytest.raises(CheckpointError, match="written by a 'gru' model; cannot load it into "
                                               "a 'lstm' model"):
        load_checkpoint(tmp_path / "g.npz", model=model_for(task, "lstm"))


def test_shape_mismatch_is_a_clear_error(tmp_path):
    save_checkpoint(tmp_path / "g.npz", rnnzoo.build_model("gru", 2, 6, 1, readout="last"))
    other = rnnzoo.build_model("gru", 2, 7, 1, readout="last")
    with pytest.raises(CheckpointError, match=r"layer 0 \(gru\) was saved with other "
                                               r"hyperparameters .*hidden_size: file 6, model 7"):
        load_checkpoint(tmp_path / "g.npz", model=other)


def rewrite(path, drop=None, meta_edit=None, add=None):
    with np.load(path, allow_pickle=False) as d:
        arrays = {k: d[k] for k in d.files if k != drop}
    if meta_edit:
        meta = json.loads(str(arrays["meta.json"][()]))
        meta_edit(meta)
        arrays["meta.json"] = np.array(json.dumps(meta))
    arrays.update(add or {})
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def test_missing_array_is_a_clear_error(tmp_path):
    path = save_checkpoint(tmp_path / "g.npz", rnnzoo.build_model("gru", 2, 6, 1))
    rewrite(path, drop="param/cell0.b_hh")
    with pytest.raises(CheckpointError, match="missing array 'param/cell0.b_hh'"):
        load_checkpoint(path)


def test_tampered_cell_type_is_caught_by_the_shape_check(tmp_path):
    path = save_checkpoint(tmp_path / "g.npz", rnnzoo.build_model("gru", 2, 6, 1))

    def to_lstm(meta):
        meta["cells"][0]["name"] = "lstm"
    rewrite(path, meta_edit=to_lstm)
    with pytest.raises(CheckpointError, match="shape"):
        load_checkpoint(path)


def test_pickled_object_arrays_are_refused(tmp_path):
    path = save_checkpoint(tmp_path / "g.npz", rnnzoo.build_model("gru", 2, 6, 1))
    rewrite(path, drop="param/cell0.W_hh",
            add={"param/cell0.W_hh": np.array([{"evil": 1}], dtype=object)})
    with pytest.raises(CheckpointError, match="cannot be loaded safely"):
        load_checkpoint(path)


def test_not_a_checkpoint_and_missing_file(tmp_path):
    np.savez(tmp_path / "x.npz", a=np.zeros(2))
    with pytest.raises(CheckpointError, match="missing array 'meta.json'"):
        load_checkpoint(tmp_path / "x.npz")
    (tmp_path / "t.npz").write_text("hello")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_checkpoint(tmp_path / "t.npz")
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "nope.npz")


def test_crash_mid_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    model = rnnzoo.build_model("gru", 2, 6, 1)
    save_checkpoint(path, model, extra={"version": "old"})
    before = path.read_bytes()

    def crash(f, **arrays):                        # after the output file was opened
        f.write(b"PK\x03\x04 the first bytes of a zip")
        raise KeyboardInterrupt("power cut")
    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, model, extra={"version": "new"})
    monkeypatch.undo()
    assert path.read_bytes() == before                  # untouched
    assert read_meta(path)["extra"] == {"version": "old"}
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]    # no temporary file left behind


def test_unserializable_extra_is_rejected_before_writing(tmp_path):
    with pytest.raises(TypeError, match="JSON-serializable"):
        save_checkpoint(tmp_path / "m.npz", rnnzoo.build_model("gru", 2, 6, 1),
                        extra={"f": object()})
    assert not (tmp_path / "m.npz").exists()


def test_checkpoints_written_before_the_layout_move_still_load():
    """tests/data/pre_layout_*.npz were written by the code before the seven-wing layout
    (commit 2a2371b): a 2-layer LSTM model after 3 Adam steps, with the optimizer's state,
    and a bare GRU cell; pre_layout_outputs.npz holds what that code computed from them.
    They load, compute the same outputs, and Adam resumes to the same 4th step.

    The same to float64 rounding, not bit for bit: the recorded outputs came from another
    CPU, and OpenBLAS picks its kernels by the CPU it runs on (DYNAMIC_ARCH: an AVX-512
    machine sums a product in another order than an AVX2 one), which moves the last bit
    (seen: 5.6e-17 absolute, 2e-16 relative). A wrong load is off by far more."""
    same = functools.partial(np.testing.assert_allclose, rtol=1e-13, atol=0)
    expected = np.load(os.path.join(DATA, "pre_layout_outputs.npz"))
    x = np.random.default_rng(1).standard_normal((5, 2, 2))
    model, opt_state, meta = load_checkpoint(os.path.join(DATA, "pre_layout_model.npz"))
    assert meta["extra"] == {"step": 3}
    same(model.forward(x)[0], expected["model_y"])
    opt = optimizer_from_state(model.params, opt_state)
    y, cache = model.forward(x)
    opt.step(model.backward(np.ones_like(y), cache)[1])
    same(model.forward(x)[0], expected["model_y_after_step"])
    cell, none, _ = load_checkpoint(os.path.join(DATA, "pre_layout_cell.npz"))
    assert none is None and type(cell).__name__ == "GRU"
    hs = cell.forward(np.random.default_rng(1).standard_normal((4, 2, 3)))[0]
    same(hs, expected["cell_hs"])
