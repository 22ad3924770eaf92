"""Reading a checkpoint file safely: the .npz opened without pickle, each array read with
an error that names the file, and the metadata checked field by field before anything is
built from it (the format is described in :mod:`.checkpoint`)."""
from __future__ import annotations

import json
import os

import numpy as np

from ..core.validation import describe, is_int

FORMAT = "rnnzoo-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file that is missing, malformed, or does not fit the model."""

def _check_spec(a, spec, key, path):
    if list(a.shape) != spec["shape"] or a.dtype.name != spec["dtype"]:
        raise CheckpointError(f"{path}: array {key} has shape {list(a.shape)} "
                              f"{a.dtype.name}; the metadata says {spec['shape']} "
                              f"{spec['dtype']}")


class _open:
    """np.load(allow_pickle=False) as a context manager with a clear error."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"no checkpoint at {self.path}")
        try:
            self.data = np.load(self.path, allow_pickle=False)
        except Exception as exc:
            # NumPy calls bytes it cannot read as an array "pickled (object) data" and
            # suggests loading it unsafely: a checkpoint never holds any, so say what it is
            why = ("its bytes are neither an .npz archive nor a .npy array"
                   if "pickled" in str(exc) else str(exc))
            raise CheckpointError(f"{self.path} is not a readable .npz checkpoint: {why}") \
                from None
        if not hasattr(self.data, "files"):
            raise CheckpointError(f"{self.path} holds a single array, not an rnnzoo "
                                  "checkpoint (.npz archive)")
        return self.data

    def __exit__(self, *exc):
        self.data.close()
        return False


def _array(data, key, path):
    if key not in data.files:
        raise CheckpointError(f"{path}: missing array '{key}' (the file is incomplete or was "
                              "written by something else)")
    try:
        return data[key]
    except ValueError as exc:          # object arrays refuse to load without pickle
        raise CheckpointError(f"{path}: array '{key}' cannot be loaded safely: {exc}") from None
    except Exception as exc:           # bad CRC, truncated member, zlib errors, ...
        raise CheckpointError(f"{path}: array '{key}' is damaged ({type(exc).__name__}: "
                              f"{exc})") from None


def _meta(data, path) -> dict:
    raw = _array(data, "meta.json", path)
    try:
        meta = json.loads(str(raw[()]))
    except (json.JSONDecodeError, TypeError, IndexError, ValueError) as exc:
        raise CheckpointError(f"{path}: meta.json is not valid JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an rnnzoo checkpoint (format "
                              f"{meta.get('format') if isinstance(meta, dict) else None!r})")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {meta.get('version')} is "
                              f"not supported (this rnnzoo reads version {VERSION})")
    _check_meta_types(meta, path)
    return meta


def _is_count(v):
    return is_int(v) and v >= 0


_CELL_FIELDS = {"name": str, "input_size": _is_count, "hidden_size": _is_count,
                "seed": _is_count, "dtype": str, "backend": str}
_READOUT_FIELDS = {"in_features": _is_count, "out_features": _is_count, "readout": str}
_OPTIM_FIELDS = {"type": str, "hyperparameters": dict, "lrs": dict, "step_count": _is_count,
                 "buffers": list}


def _fields(obj, spec, what, path):
    """obj must be a dict holding every key of spec, of the type (or test) spec gives."""
    label = f"metadata {what}" if what else "metadata"
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: {label} must be a JSON object; got {describe(obj)}")
    for key, kind in spec.items():
        if key not in obj:
            raise CheckpointError(f"{path}: {label} has no '{key}' entry")
        ok = isinstance(obj[key], kind) if isinstance(kind, type) else kind(obj[key])
        if not ok:                  # (a count is never a bool: _is_count refuses True)
            expected = kind.__name__ if isinstance(kind, type) else "a non-negative integer"
            raise CheckpointError(f"{path}: {label}['{key}'] must be {expected}; got "
                                  f"{describe(obj[key])}")


def _check_meta_types(meta, path):
    """Every field load_checkpoint reads, present and of the right type."""
    _fields(meta, {"kind": str, "cells": list, "params": dict, "extra": dict}, "", path)
    if meta["kind"] not in ("model", "cell"):
        raise CheckpointError(f"{path}: metadata 'kind' must be 'model' or 'cell'; got "
                              f"{meta['kind']!r}")
    cells = meta["cells"]
    if not cells or (meta["kind"] == "cell" and len(cells) != 1):
        raise CheckpointError(f"{path}: metadata 'cells' must list "
                              f"{'one cell' if meta['kind'] == 'cell' else 'the layers'}; got "
                              f"{len(cells)}")
    for i, hp in enumerate(cells):
        _fields(hp, _CELL_FIELDS, f"cells[{i}]", path)
    if meta["kind"] == "model":
        _fields(meta.get("readout"), _READOUT_FIELDS, "'readout'", path)
    for k, spec in meta["params"].items():
        _fields(spec, {"shape": list, "dtype": str}, f"params['{k}']", path)
        if not all(_is_count(n) and not isinstance(n, bool) for n in spec["shape"]):
            raise CheckpointError(f"{path}: metadata params['{k}']['shape'] must be a list of "
                                  f"sizes; got {spec['shape']!r}")
    if "optimizer" not in meta:
        raise CheckpointError(f"{path}: metadata has no 'optimizer' entry")
    if meta["optimizer"] is not None:
        _fields(meta["optimizer"], _OPTIM_FIELDS, "'optimizer'", path)
        if not all(isinstance(b, str) for b in meta["optimizer"]["buffers"]):
            raise CheckpointError(f"{path}: metadata optimizer buffers must be names; got "
                                  f"{meta['optimizer']['buffers']!r}")
