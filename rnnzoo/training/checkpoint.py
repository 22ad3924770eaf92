"""Safe checkpoints: one ``.npz`` file of plain arrays plus JSON metadata, never pickle.

File layout (a NumPy ``.npz``, i.e. a zip of ``.npy`` arrays)::

    meta.json                  0-d unicode array holding the JSON metadata (below)
    param/<name>               every parameter, e.g. param/cell0.W_hh, param/readout.W
    optim/<buffer>/<name>      optimizer buffers, e.g. optim/m/cell0.W_hh (if saved)

The metadata records the format version, what was saved (``"kind"``: ``"model"`` for a
:class:`~rnnzoo.SequenceModel`, ``"cell"`` for a bare cell), every cell's
``hyperparameters`` (name, sizes, seed, dtype, backend, options), the readout, the
residual blocks where the model has them (``build_model(..., blocks="glu")``), each
parameter's shape and dtype, the optimizer's type, hyperparameters, per-parameter
learning rates and step count, a free ``extra`` dict (the trainer's step, seed,
task and history), and, where a cell draws at random while it trains (QRNN's zoneout
masks), ``random_states``: each cell's :meth:`~rnnzoo.RecurrentCell.random_state`, so a
resumed run draws what the uninterrupted one would have (absent otherwise).

Safety:

* Loading uses ``np.load(..., allow_pickle=False)`` and ``json.loads``: no object arrays,
  no pickle, so opening someone else's checkpoint cannot run their code.
* Writing goes to a temporary file in the same directory, flushed and fsynced, then
  ``os.replace``-d over the target (atomic on POSIX and Windows): a crash mid-write
  leaves the previous checkpoint intact.
  Overwriting an existing file keeps that file's permission bits. Errors name the path
  you asked for, never the temporary file.
* Loading checks the file against the metadata and, when ``model=`` is given, against
  that model: a missing array, a shape or dtype mismatch or a different cell type is a
  ``CheckpointError`` that says which. A damaged file (bad CRC, truncated, malformed or
  missing metadata fields, wrong types in the metadata) is a ``CheckpointError`` naming
  the file. The metadata is compared with the model's in full: kind, every cell
  hyperparameter (name, sizes, dtype, options such as nonlinearity; not the seed, which
  only chose the initial weights the file replaces, nor the backend), the readout, the
  blocks and
  every parameter's name, shape and dtype (never a silent cast).
* Loading into an existing model is all-or-nothing: everything is read and checked
  before the first parameter is written, so on any error the model is untouched.
"""
from __future__ import annotations

import json
import os
import tempfile
import warnings

import numpy as np

from ..core.backend import get_backend, to_numpy
from ..core.base import RecurrentCell
from ..core.registry import make
from ..core.validation import ArgumentTypeError, check_choice, describe
from .blocks import make_blocks
from .model import Linear, SequenceModel
from .checkpoint_file import (FORMAT, VERSION, CheckpointError, _array,
                              _check_spec, _meta, _open)
from .optim import Optimizer


# ---------------------------------------------------------------------- saving
def save_checkpoint(path, model, optimizer=None, extra=None):
    """Write ``model`` (a SequenceModel or a single cell), optionally the optimizer's
    state and a JSON-able ``extra`` dict, to ``path`` atomically. Returns ``path``.

    ``extra`` comes back as JSON gives it: tuples and NumPy arrays as lists, NumPy scalars
    as Python numbers; its dicts' keys must be str (JSON would turn a key 1 into "1")."""
    path = _fspath(path, "save_checkpoint")
    if not isinstance(model, (SequenceModel, RecurrentCell)):
        raise ArgumentTypeError(f"save_checkpoint: model must be a SequenceModel or a cell "
                                f"(rnnzoo.RecurrentCell); got {describe(model)}")
    if optimizer is not None and (not isinstance(optimizer, Optimizer) or any(
            optimizer.params.get(k) is not p for k, p in model.params.items())):
        raise ArgumentTypeError(f"save_checkpoint: optimizer must be None or an Optimizer "
                                f"built over this model's params; got {describe(optimizer)}")
    if extra is not None and not isinstance(extra, dict):
        raise ArgumentTypeError(f"save_checkpoint: extra must be None or a dict; got "
                                f"{describe(extra)}")
    _check_str_keys(extra, "extra")
    meta = {"format": FORMAT, "version": VERSION, **_describe(model)}
    arrays = {f"param/{k}": to_numpy(v) for k, v in model.params.items()}
    meta["params"] = {k: {"shape": list(a.shape), "dtype": a.dtype.name}
                      for k, a in ((k, arrays[f"param/{k}"]) for k in model.params)}
    if optimizer is not None:
        state = optimizer.state_dict()
        meta["optimizer"] = {k: state[k] for k in ("type", "hyperparameters", "lrs",
                                                    "step_count")}
        meta["optimizer"]["buffers"] = list(state["buffers"])
        for b, bufs in state["buffers"].items():
            arrays.update({f"optim/{b}/{k}": to_numpy(v) for k, v in bufs.items()})
    else:
        meta["optimizer"] = None
    meta["extra"] = extra if extra is not None else {}
    randoms = [c.random_state() for c in _cells(model)]
    if any(r is not None for r in randoms):   # (absent otherwise, as in older files)
        meta["random_states"] = randoms
    try:
        text = json.dumps(meta, default=_json_default)
    except TypeError as exc:
        raise TypeError(f"save_checkpoint: metadata must be JSON-serializable ({exc}); "
                        "pass only numbers, strings, lists and dicts in extra") from None
    arrays["meta.json"] = np.array(text)
    _atomic_savez(path, arrays)
    return path


def _fspath(path, where):
    try:
        text = os.fspath(path)
    except TypeError:
        text = None
    if not isinstance(text, str) or not text:     # bytes fail later, mixed with str parts
        raise ArgumentTypeError(f"{where}: path must be a non-empty str or os.PathLike; got "
                                f"{describe(path)}")
    return text


def _cells(model) -> list:
    """The cells of a model, or the cell itself."""
    return list(model.cells) if isinstance(model, SequenceModel) else [model]


def _describe(model) -> dict:
    if isinstance(model, SequenceModel):
        r = model.readout
        described = {"kind": "model", "cells": [c.hyperparameters for c in model.cells],
                     "readout": {"in_features": r.in_features,
                                 "out_features": r.out_features, "readout": r.readout}}
        if model.blocks is not None:       # absent for bare cells, as in older files
            described["blocks"] = model.blocks.describe()
        return described
    if isinstance(model, RecurrentCell):
        return {"kind": "cell", "cells": [model.hyperparameters], "readout": None}
    raise TypeError(f"save_checkpoint: expected a SequenceModel or a cell; got "
                    f"{type(model).__name__}")


def _check_str_keys(value, where):
    """Every dict inside ``value`` (lists and tuples searched too) has str keys."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ArgumentTypeError(f"save_checkpoint: {where} must have str keys (JSON "
                                        f"would give {k!r} back as {str(k)!r}); got the key "
                                        f"{describe(k)}")
            _check_str_keys(v, f"{where}[{k!r}]")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_str_keys(v, f"{where}[{i}]")


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON-serializable")


def _atomic_savez(path, arrays):
    directory = os.path.dirname(os.path.abspath(path))
    try:
        mode = os.stat(path).st_mode & 0o7777      # overwriting: keep the file's mode
    except OSError:
        mode = 0o666 & ~_umask()                   # new file: the usual mode, not 0600
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=directory)
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:                         # name the user's path, not the tmp file
        raise OSError(exc.errno, f"cannot write checkpoint {path}: {exc.strerror or exc}",
                      path) from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ---------------------------------------------------------------------- loading
def read_meta(path) -> dict:
    """The JSON metadata of a checkpoint, without building anything."""
    with _open(path) as data:
        return _meta(data, path)


def load_checkpoint(path, model=None, backend=None):
    """Load a checkpoint written by :func:`save_checkpoint`.

    Parameters
    ----------
    path : the ``.npz`` file
    model : None to rebuild the model (or cell) from the metadata; or an existing model
        whose parameters are overwritten in place after checking that it has the same
        cell types, parameter names and shapes
    backend : None for the backend recorded in the file, or "numpy"/"cupy" to load
        onto another device (only when rebuilding)

    Returns
    -------
    (model, optimizer_state, meta): ``optimizer_state`` is None when none was saved,
    else a dict for :meth:`rnnzoo.optim.Optimizer.load_state_dict` or
    :func:`rnnzoo.optim.optimizer_from_state`; ``meta`` is the metadata, with the
    ``extra`` dict that was saved.

    Warns (a ``RuntimeWarning``) when a parameter or an optimizer buffer holds NaN or inf,
    naming those tensors: such a checkpoint loads (it is a faithful copy of what was
    saved, and worth inspecting), but training from it stops at its first step with a
    message about divergence that would not say the file was the cause.
    """
    path = _fspath(path, "load_checkpoint")
    if backend is not None:
        check_choice(backend, "backend", ("numpy", "cupy"), where="load_checkpoint")
    if model is not None and not isinstance(model, (SequenceModel, RecurrentCell)):
        raise ArgumentTypeError(f"load_checkpoint: model must be None, a SequenceModel or a "
                                f"cell; got {describe(model)}")
    # 1. read and check everything; nothing is written until every check has passed
    with _open(path) as data:
        meta = _meta(data, path)
        names = list(meta["params"])
        arrays = {k: _array(data, f"param/{k}", path) for k in names}
        for k, a in arrays.items():
            _check_spec(a, meta["params"][k], f"param/{k}", path)
        opt_state = None
        if meta["optimizer"] is not None:
            om = meta["optimizer"]
            buffers = {}
            for b in om["buffers"]:
                buffers[b] = {k: _array(data, f"optim/{b}/{k}", path) for k in names}
                for k, a in buffers[b].items():
                    _check_spec(a, meta["params"][k], f"optim/{b}/{k}", path)
            opt_state = {"type": om["type"], "hyperparameters": om["hyperparameters"],
                         "lrs": om["lrs"], "step_count": om["step_count"], "buffers": buffers}
    _warn_non_finite(path, arrays, opt_state)
    if model is None:
        model = _build(meta, backend, path)
    else:
        _check_fits(model, meta, path)
    # also for a rebuilt model: metadata whose parameter list was edited still builds one
    _check_names(model, meta, path)
    for k, p in model.params.items():
        if tuple(p.shape) != tuple(arrays[k].shape):
            raise CheckpointError(f"{path}: parameter '{k}' has shape {tuple(arrays[k].shape)} "
                                  f"in the file but {tuple(p.shape)} in the model")
        if p.dtype != arrays[k].dtype:
            raise CheckpointError(f"{path}: parameter '{k}' is {arrays[k].dtype} in the file "
                                  f"but {p.dtype} in the model (no silent cast)")
    # 2. write: every check passed. The random states (QRNN's zoneout generator: a resumed
    # run draws what it would have) are checked by setting them, so a later cell's that
    # does not fit puts the earlier cells' back before the error: all or nothing
    cells = _cells(model)
    before = [c.random_state() for c in cells]
    for i, (cell, state) in enumerate(zip(cells, meta.get("random_states") or [])):
        try:
            cell.set_random_state(state)
        except ValueError as exc:
            for done, kept in zip(cells[:i], before):
                done.set_random_state(kept)
            raise CheckpointError(f"{path}: its random state for {cell!r} does not fit: "
                                  f"{exc}") from None
    for k, p in model.params.items():
        p[...] = model.backend.asarray(arrays[k])                     # in place
    if opt_state is not None:
        opt_state["buffers"] = {b: {k: model.backend.asarray(v) for k, v in bufs.items()}
                                for b, bufs in opt_state["buffers"].items()}
    return model, opt_state, meta


def _warn_non_finite(path, arrays, opt_state):
    """A RuntimeWarning naming every saved tensor (by its key in the file) with NaN or inf."""
    tensors = {f"param/{k}": a for k, a in arrays.items()}
    if opt_state is not None:
        tensors.update({f"optim/{b}/{k}": a for b, bufs in opt_state["buffers"].items()
                        for k, a in bufs.items()})
    bad = [key for key, a in tensors.items() if not np.isfinite(a).all()]
    if bad:
        warnings.warn(f"{path}: the checkpoint holds NaN or inf in {len(bad)} tensor(s): "
                      f"{', '.join(bad)}; training from it cannot make progress "
                      f"(the run that saved it had probably diverged)", RuntimeWarning,
                      stacklevel=3)


def _cell_names(meta) -> str:
    return "+".join(c["name"] for c in meta["cells"])


def _build(meta, backend, path):
    try:
        cells = []
        for hp in meta["cells"]:
            hp = dict(hp)
            name, D, H = hp.pop("name"), hp.pop("input_size"), hp.pop("hidden_size")
            be = hp.pop("backend") if backend is None else backend
            hp.pop("backend", None)
            cells.append(make(name, D, H, seed=hp.pop("seed"), dtype=np.dtype(hp.pop("dtype")),
                              backend=be, **hp))
        if meta["kind"] == "cell":
            return cells[0]
        r = meta["readout"]
        head = Linear(r["in_features"], r["out_features"], readout=r["readout"],
                      dtype=cells[-1].dtype, backend=get_backend(cells[-1].backend))
        blocks = meta.get("blocks")
        if blocks is not None:             # the file's parameters replace the init
            blocks = dict(blocks)
            blocks = make_blocks(blocks.pop("kind"), seed=0, dtype=cells[0].dtype,
                                 backend=cells[0].backend, **blocks)
        return SequenceModel(cells, head, blocks=blocks)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot rebuild the model from its metadata "
                              f"{meta['cells']}: {exc}") from None


# hyperparameters that do not have to match: the seed only chose the initial weights that
# the file replaces, and loading onto another backend is allowed
_NOT_COMPARED = ("seed", "backend")


def _check_fits(model, meta, path):
    have = _describe(model)
    if have["kind"] != meta["kind"]:
        raise CheckpointError(f"{path} holds a {meta['kind']}, but a {have['kind']} was "
                              "given to load it into")
    if have.get("blocks") != meta.get("blocks"):
        raise CheckpointError(f"{path}: the residual blocks differ (None: bare cells): "
                              f"file {meta.get('blocks')}, model {have.get('blocks')}")
    saved, ours = _cell_names(meta), "+".join(c["name"] for c in have["cells"])
    if saved != ours:
        raise CheckpointError(f"{path} was written by a '{saved}' model; cannot load it into "
                              f"a '{ours}' model")
    for i, (file_hp, model_hp) in enumerate(zip(meta["cells"], have["cells"])):
        # as JSON holds them: a tuple inside an option (skiprnn's base_options) is a list
        model_hp = json.loads(json.dumps(model_hp, default=_json_default))
        keys = sorted((set(file_hp) | set(model_hp)) - set(_NOT_COMPARED))
        diff = [f"{k}: file {file_hp.get(k, '(absent)')!r}, model {model_hp.get(k, '(absent)')!r}"
                for k in keys if file_hp.get(k, "(absent)") != model_hp.get(k, "(absent)")]
        if diff:
            raise CheckpointError(f"{path}: layer {i} ({saved}) was saved with other "
                                  f"hyperparameters than the model has: " + "; ".join(diff))
    if have["readout"] != meta.get("readout"):
        raise CheckpointError(f"{path}: the readout differs: file {meta.get('readout')}, "
                              f"model {have['readout']}")


def _check_names(model, meta, path):
    missing = sorted(set(model.params) - set(meta["params"]))
    unexpected = sorted(set(meta["params"]) - set(model.params))
    if missing or unexpected:
        raise CheckpointError(f"{path}: parameter names differ; missing from the file "
                              f"{missing}, not in the model {unexpected}")
