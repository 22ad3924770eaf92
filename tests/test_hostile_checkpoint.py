"""Hostile checkpoints: damaged files, malformed metadata, models that do not fit, and
crashes while saving.

A pass: every damaged file is a CheckpointError naming the file; loading compares the
metadata in full and is all-or-nothing (on any error the model is untouched); saving
keeps an existing file's permissions, names the user's path in errors, and a crash at
any point after the target would have been opened leaves the previous file intact.
"""
import json
import os
import re
import zipfile

import numpy as np
import pytest

import rnnzoo
from rnnzoo.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from rnnzoo.optim import Adam

from .hostile import raises


def saved(tmp_path, optimizer=True, **model_kw):
    kw = {"cell": "rnn", "readout": "last", "nonlinearity": "relu", **model_kw}
    model = rnnzoo.build_model(kw.pop("cell"), 2, 3, 1, seed=1, **kw)
    opt = Adam(model.params, lr=0.01) if optimizer else None
    if opt:
        opt.step({k: np.ones_like(v) for k, v in model.params.items()})
    path = tmp_path / "m.npz"
    save_checkpoint(path, model, opt, extra={"step": 1})
    return path, model


def rewrite(path, meta_edit=None, arrays_edit=None):
    with np.load(path, allow_pickle=False) as d:
        arrays = {k: d[k] for k in d.files}
    meta = json.loads(str(arrays["meta.json"][()]))
    if meta_edit:
        meta_edit(meta)
    arrays["meta.json"] = np.array(json.dumps(meta))
    if arrays_edit:
        arrays_edit(arrays)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def setter(path, value):
    """A meta edit that sets (or, with value=KeyError, deletes) meta[path[0]][path[1]]..."""
    def edit(meta):
        target = meta
        for k in path[:-1]:
            target = target[k]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return edit


META_CASES = [
    (("kind",), KeyError, "metadata has no 'kind' entry"),
    (("kind",), "banana", "'kind' must be 'model' or 'cell'"),
    (("kind",), 3, r"metadata\['kind'\] must be str"),
    (("cells",), "rnn", r"\['cells'\] must be list"),
    (("cells",), [], "'cells' must list the layers"),
    (("cells",), KeyError, "no 'cells' entry"),
    (("cells", 0), "rnn", r"metadata cells\[0\] must be a JSON object"),
    (("cells", 0, "input_size"), KeyError, r"cells\[0\] has no 'input_size' entry"),
    (("cells", 0, "hidden_size"), "3", r"cells\[0\]\['hidden_size'\] must be a non-negative"),
    (("cells", 0, "hidden_size"), True, r"cells\[0\]\['hidden_size'\] must be"),
    (("cells", 0, "dtype"), 64, r"cells\[0\]\['dtype'\] must be str"),
    (("cells", 0, "nonlinearity"), "sigmoid", "cannot rebuild the model .*nonlinearity"),
    (("cells", 0, "name"), "nope", "cannot rebuild the model .*no cell named 'nope'"),
    (("readout",), None, "metadata 'readout' must be a JSON object"),
    (("readout", "in_features"), None, r"'readout'\['in_features'\] must be"),
    (("readout", "readout"), "first", "cannot rebuild the model .*readout must be one of"),
    (("params",), [], r"\['params'\] must be dict"),
    (("params", "cell0.W_hh", "shape"), "3,3", r"params\['cell0.W_hh'\]\['shape'\] must be"),
    (("params", "cell0.W_hh", "shape"), [3, -3], r"\['shape'\] must be a list of sizes"),
    (("params", "cell0.W_hh", "dtype"), KeyError, r"params\['cell0.W_hh'\] has no 'dtype'"),
    (("params", "cell0.W_hh", "dtype"), "float32", r"array param/cell0.W_hh has shape"),
    (("optimizer",), KeyError, "metadata has no 'optimizer' entry"),
    (("optimizer",), "adam", "metadata 'optimizer' must be a JSON object"),
    (("optimizer", "step_count"), -1, r"'optimizer'\['step_count'\] must be a non-negative"),
    (("optimizer", "lrs"), [0.1], r"'optimizer'\['lrs'\] must be dict"),
    (("optimizer", "buffers"), [1], "optimizer buffers must be names"),
    (("optimizer", "buffers"), ["m", "q"], "missing array 'optim/q/"),
    (("extra",), [1], r"\['extra'\] must be dict"),
    (("version",), 2, "format version 2 is not supported"),
    (("format",), "other", "is not an rnnzoo checkpoint"),
]


@pytest.mark.parametrize("where,value,match", META_CASES)
def test_malformed_metadata_is_a_checkpoint_error_naming_the_file(tmp_path, where, value,
                                                                  match):
    path, _ = saved(tmp_path)
    rewrite(path, setter(where, value))
    msg = raises(CheckpointError, match, load_checkpoint, path)
    assert str(path) in msg


@pytest.mark.parametrize("meta_json", ["{not json", "[1, 2]", "null"])
def test_meta_json_that_is_not_an_object(tmp_path, meta_json):
    path, _ = saved(tmp_path)
    rewrite(path, arrays_edit=lambda a: a.update({"meta.json": np.array(meta_json)}))
    raises(CheckpointError, str(path), load_checkpoint, path)


def test_meta_json_of_the_wrong_array_type(tmp_path):
    path, _ = saved(tmp_path)
    rewrite(path, arrays_edit=lambda a: a.update({"meta.json": np.arange(3)}))
    raises(CheckpointError, "meta.json is not valid JSON", load_checkpoint, path)


def _member_data_offset(path, member):
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member)
    with open(path, "rb") as f:
        f.seek(info.header_offset + 26)
        n, m = np.frombuffer(f.read(4), dtype="<u2")
    return info.header_offset + 30 + int(n) + int(m), info.compress_size


@pytest.mark.parametrize("member", ["param/cell0.W_hh.npy", "optim/m/readout.b.npy",
                                    "meta.json.npy"])
def test_bad_crc_is_a_checkpoint_error(tmp_path, member):
    path, _ = saved(tmp_path)
    start, size = _member_data_offset(path, member)
    data = bytearray(path.read_bytes())
    data[start + size - 1] ^= 0xFF                      # one flipped bit pattern, last byte
    path.write_bytes(bytes(data))
    raises(CheckpointError, rf"{path}.*(damaged|CRC|not valid)", load_checkpoint, path)


@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.9, 0.999])
def test_truncated_file_is_a_checkpoint_error(tmp_path, fraction):
    path, _ = saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * fraction)])
    raises(CheckpointError, str(path), load_checkpoint, path)


# ------------------------------------------------------------------ does it fit the model?
@pytest.mark.parametrize("other,match", [
    ({"dtype": np.float32}, "dtype: file 'float64', model 'float32'"),
    ({"readout": "all"}, "the readout differs"),
    ({"nonlinearity": "tanh"}, "nonlinearity: file 'relu', model 'tanh'"),
    ({"identity_init": True}, "identity_init: file False, model True"),
    ({"cell": "gru", "nonlinearity": None}, "written by a 'rnn' model; cannot load it into a "
                                            "'gru'"),
    ({"layers": 2}, "written by a 'rnn' model; cannot load it into a 'rnn\\+rnn'"),
    ({"hidden": 4}, "hidden_size: file 3, model 4"),
])
def test_metadata_is_compared_in_full_and_loading_is_all_or_nothing(tmp_path, other, match):
    path, _ = saved(tmp_path)
    kw = {"cell": "rnn", "readout": "last", "nonlinearity": "relu", "layers": 1, "hidden": 3,
          **other}
    if kw["nonlinearity"] is None:
        del kw["nonlinearity"]
    model = rnnzoo.build_model(kw.pop("cell"), 2, kw.pop("hidden"), 1, seed=7, **kw)
    before = {k: p.copy() for k, p in model.params.items()}
    raises(CheckpointError, match, load_checkpoint, path, model=model)
    for k, p in model.params.items():
        np.testing.assert_array_equal(p, before[k])


def test_a_parameter_the_model_does_not_have_is_refused(tmp_path):
    path, _ = saved(tmp_path, optimizer=False)

    def add_meta(meta):
        meta["params"]["cell0.extra"] = {"shape": [2], "dtype": "float64"}
    rewrite(path, add_meta, lambda a: a.update({"param/cell0.extra": np.zeros(2)}))
    model = rnnzoo.build_model("rnn", 2, 3, 1, readout="last", nonlinearity="relu")
    raises(CheckpointError, r"parameter names differ; missing from the file \[\], not in the "
           r"model \['cell0.extra'\]", load_checkpoint, path, model=model)


@pytest.mark.parametrize("edit", ["extra", "missing"])
def test_a_rebuilt_model_checks_the_parameter_names_too(tmp_path, edit):
    """Metadata whose parameter list was edited still rebuilds a model from its cells; the
    names are compared for it as for a given model, not silently ignored (an extra array)
    or left at the rebuilt model's initial values (a missing one)."""
    path, _ = saved(tmp_path, optimizer=False)
    if edit == "extra":
        rewrite(path, lambda m: m["params"].update(
                    {"cell0.extra": {"shape": [2], "dtype": "float64"}}),
                lambda a: a.update({"param/cell0.extra": np.zeros(2)}))
        match = r"missing from the file \[\], not in the model \['cell0.extra'\]"
    else:
        rewrite(path, lambda m: m["params"].pop("readout.b"),
                lambda a: a.pop("param/readout.b"))
        match = r"missing from the file \['readout.b'\], not in the model \[\]"
    raises(CheckpointError, re.escape(str(path)) + ": parameter names differ; " + match,
           load_checkpoint, path)


def test_a_single_array_saved_as_npz_is_refused(tmp_path):
    path = tmp_path / "one.npz"
    with open(path, "wb") as f:                 # np.save to a file object keeps the name
        np.save(f, np.zeros(3))
    raises(CheckpointError, re.escape(f"{path} holds a single array, not an rnnzoo "
                                      "checkpoint (.npz archive)"), load_checkpoint, path)


def test_a_cell_file_does_not_load_into_a_model(tmp_path):
    save_checkpoint(tmp_path / "c.npz", rnnzoo.make("rnn", 2, 3))
    raises(CheckpointError, "holds a cell, but a model was given",
           load_checkpoint, tmp_path / "c.npz", model=rnnzoo.build_model("rnn", 2, 3, 1))


@pytest.mark.parametrize("change", ["shape", "dtype"])
def test_an_optimizer_buffer_unlike_its_parameter_is_refused(tmp_path, change):
    """An optimizer buffer must have its parameter's shape and dtype: one that does not
    would load and fail (or broadcast) at the optimizer's first step, far from the file."""
    path, _ = saved(tmp_path)
    key = "optim/m/cell0.W_hh"

    def damage(arrays):
        a = arrays[key]
        arrays[key] = a[:, :-1] if change == "shape" else a.astype(np.float32)
    rewrite(path, arrays_edit=damage)
    raises(CheckpointError, re.escape(f"{path}: array {key} has shape"), load_checkpoint, path)


@pytest.mark.parametrize("damage", ["last param dtype", "last param crc", "optim crc"])
def test_a_late_error_leaves_the_model_untouched(tmp_path, damage):
    """The damage sits in the last array read; every earlier parameter would already have
    been written by a load that writes as it checks. "last param dtype" leaves a file that
    is consistent in itself (the parameter and its optimizer buffers float32, as its
    metadata says), so what refuses it is the model's float64, not a check of the file."""
    path, src = saved(tmp_path)
    match = re.escape(str(path))
    if damage == "last param dtype":
        def to_float32(arrays):
            for key in ("param/readout.b", "optim/m/readout.b", "optim/v/readout.b"):
                arrays[key] = arrays[key].astype(np.float32)
        rewrite(path, setter(("params", "readout.b", "dtype"), "float32"), to_float32)
        match += ": parameter 'readout.b' is float32 in the file but float64 in the model"
    else:
        member = "param/readout.b.npy" if damage == "last param crc" else "optim/v/readout.b.npy"
        start, size = _member_data_offset(path, member)
        data = bytearray(path.read_bytes())
        data[start + size - 1] ^= 0xFF
        path.write_bytes(bytes(data))
    model = rnnzoo.build_model("rnn", 2, 3, 1, seed=9, readout="last", nonlinearity="relu")
    before = {k: p.copy() for k, p in model.params.items()}
    raises(CheckpointError, match, load_checkpoint, path, model=model)
    for k, p in model.params.items():
        np.testing.assert_array_equal(p, before[k])


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"path": 3}, TypeError, "path must be a non-empty str or os.PathLike"),
    ({"path": b"m.npz"}, TypeError, r"path must be a non-empty str or os.PathLike; got b'm.npz'"),
    ({"path": ""}, TypeError, "path must be a non-empty str"),
    ({"model": "rnn"}, TypeError, "model must be None, a SequenceModel or a cell"),
    ({"backend": "jax"}, ValueError, "backend must be one of 'numpy', 'cupy'"),
])
def test_load_arguments(tmp_path, kwargs, exc, match):
    path, _ = saved(tmp_path)
    raises(exc, match, load_checkpoint, **{"path": path, **kwargs})


@pytest.mark.parametrize("what,exc,match", [
    ("path", TypeError, "path must be a non-empty str or os.PathLike"),
    ("bytes path", TypeError, "path must be a non-empty str or os.PathLike; got b"),
    ("model", TypeError, "save_checkpoint: model must be a SequenceModel or a cell"),
    ("optimizer", TypeError, "optimizer must be None or an Optimizer built over this model"),
    ("extra", TypeError, "extra must be None or a dict"),
])
def test_save_arguments(tmp_path, what, exc, match):
    model = rnnzoo.build_model("gru", 2, 3, 1)
    args = {"path": tmp_path / "s.npz", "model": model, "optimizer": None, "extra": None}
    bad = {"path": None, "bytes path": str(tmp_path / "s.npz").encode(), "model": "gru",
           "extra": [1], "optimizer": Adam(rnnzoo.build_model("gru", 2, 3, 1).params)}[what]
    args[what.split()[-1]] = bad
    raises(exc, match, save_checkpoint, args["path"], args["model"], args["optimizer"],
           args["extra"])
    assert not (tmp_path / "s.npz").exists()


# ------------------------------------------------------------------ saving
def test_overwriting_keeps_the_files_permissions(tmp_path):
    path, model = saved(tmp_path)
    os.chmod(path, 0o640)
    save_checkpoint(path, model)
    assert os.stat(path).st_mode & 0o777 == 0o640


def test_write_errors_name_the_users_path_not_the_temporary_file(tmp_path, monkeypatch):
    model = rnnzoo.build_model("gru", 2, 3, 1)
    missing = tmp_path / "no-such-folder" / "m.npz"
    msg = raises(FileNotFoundError, f"cannot write checkpoint {missing}", save_checkpoint,
                 missing, model)
    assert ".tmp-" not in msg

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied", src)
    monkeypatch.setattr(os, "replace", refuse)
    target = tmp_path / "m.npz"
    msg = raises(PermissionError, f"cannot write checkpoint {target}: Permission denied",
                 save_checkpoint, target, model)
    assert ".tmp-" not in msg
    assert os.listdir(tmp_path) == []                       # temporary file removed


class PowerCut(BaseException):
    pass


@pytest.mark.parametrize("crash_at", ["mid-write", "flush", "fsync", "replace"])
def test_a_crash_after_the_target_would_be_opened_keeps_the_previous_file(tmp_path,
                                                                          monkeypatch,
                                                                          crash_at):
    """The crash comes after bytes have been written (mid-write), or after everything was
    written (flush, fsync), or at the rename: a save that wrote into the target itself
    would have destroyed it by then."""
    path, model = saved(tmp_path)
    before = path.read_bytes()
    real_savez = np.savez

    def savez_then_crash(f, **arrays):
        if crash_at == "mid-write":
            f.write(b"PK\x03\x04 half a zip")
            raise PowerCut
        real_savez(f, **arrays)
        if crash_at == "flush":
            f.flush()
            raise PowerCut
    monkeypatch.setattr(np, "savez", savez_then_crash)
    if crash_at == "fsync":
        monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(PowerCut()))
    if crash_at == "replace":
        monkeypatch.setattr(os, "replace", lambda a, b: (_ for _ in ()).throw(PowerCut()))
    with pytest.raises(PowerCut):
        save_checkpoint(path, model, extra={"step": 2})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert load_checkpoint(path)[2]["extra"] == {"step": 1}
    assert os.listdir(tmp_path) == ["m.npz"]                 # no temporary file left


def test_extra_must_have_str_keys_at_every_depth(tmp_path):
    """JSON gave a key 1 back as "1": a lookup by the key saved failed after loading."""
    cell = rnnzoo.make("gru", 2, 3)
    path = tmp_path / "c.npz"
    raises(TypeError, r"save_checkpoint: extra must have str keys \(JSON would give 1 back as "
                      r"'1'\); got the key 1 \(int\)", save_checkpoint, path, cell, extra={1: "a"})
    raises(TypeError, r"extra\['runs'\]\[0\] must have str keys", save_checkpoint, path, cell,
           extra={"runs": [{2.5: 1}]})
    assert not path.exists()
    save_checkpoint(path, cell, extra={"runs": [{"a": (1, 2)}]})       # a tuple: a list back
    assert load_checkpoint(path)[2]["extra"]["runs"] == [{"a": [1, 2]}]


def test_a_file_of_other_bytes_is_named_without_numpys_advice(tmp_path):
    """NumPy calls unreadable bytes "pickled (object) data" and suggests loading them
    unsafely; a checkpoint never holds any."""
    path = tmp_path / "garbage.npz"
    path.write_text("garbage\n")
    message = raises(CheckpointError, "is not a readable .npz checkpoint: its bytes are "
                                      "neither an .npz archive nor a .npy array",
                     load_checkpoint, path)
    assert "unsafely" not in message and "pickled" not in message
