"""Where a comparison keeps its finished runs, so that an interrupted one resumes: one
folder per variant, two plain files per seed, never pickle::

    <store>/<label>/seed-<s>.npz    the trained parameters, one array each
                                    (read back with np.load(allow_pickle=False))
    <store>/<label>/seed-<s>.json   the run's History (as a dict), the step it diverged
                                    at (or null), its seconds, the SHA-256 of the .npz,
                                    the run's fingerprint, and what made it (the commit,
                                    machine and NumPy/BLAS, :mod:`.provenance`; absent
                                    in runs stored before it was recorded)

:func:`~rnnzoo.experiments.compare` saves a run the moment it finishes and, on a rerun
with the same store, loads the finished runs instead of training them again: Ctrl-C or
a crash loses at most the runs that were in flight. A Comparison assembled from stored
runs is the one that trained them, bit for bit (the floats are written in full by JSON,
the parameters as arrays of their own dtype).

**Atomic.** Each file is written to a temporary name in its own folder, flushed, and
``os.replace``-d over its final name, the .npz first and the .json last: a crash leaves no
half file, and the .json is what says a run finished (an .npz without its .json is a run
that did not, trained again and replaced). The .json holds the .npz's SHA-256, so a pair
that does not belong together is refused.

**Fingerprint.** A plain dict of everything that determines a run: the cell, the options
it ran with (the variant's, with the fair defaults), the label, ``lr_for``, the variant's
budget in full (``Budget.record``: every field, except that one added later is left out
while it has the value older runs had), the task and its options, the seed and the
dtype. A stored run whose fingerprint differs from the job's (numbers compared by
value: lr=1 is lr=1.0) is a :class:`StoreError` that names the file and the fields that
differ; nothing is silently reused or overwritten. (The fingerprint does not cover
rnnzoo's own code: after changing a cell, start a new store.)

**Labels are folder names**, percent-encoded where a character is not safe in one
(``a/b`` is ``a%2Fb``; a leading dot, a trailing dot or space and the names Windows
reserves are encoded too), so distinct labels never share a folder; labels that differ
only in case are refused (they would share one on macOS and Windows).
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import tempfile
import urllib.parse
from typing import NamedTuple

import numpy as np

from ...core.validation import ArgumentTypeError, describe
from ...training.history import History

FORMAT = "rnnzoo-compare-run"
VERSION = 1
# characters kept as they are in a folder name (besides letters, digits and _.-~, which
# percent-encoding always keeps): readable labels such as "lstm (fair)" stay readable
_KEPT = " ()+,=@"
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                     *(f"LPT{i}" for i in range(1, 10))}
_LONGEST_NAME = 200          # bytes; file systems allow 255, and seed-<s>.json goes below


class StoreError(ValueError):
    """A store that cannot be used: a bad path, a damaged file, or a stored run that was
    trained differently from the one asked for."""


class FinishedRun(NamedTuple):
    """One trained (variant, seed), as plain data: what a worker sends back and what the
    store keeps."""
    label: str
    seed: int
    history: dict            # History.to_dict()
    params: dict             # parameter name -> NumPy array
    diverged: int | None     # the step the run went non-finite, or None
    seconds: float           # the whole job: building the task and model, and training
    made_with: dict | None = None   # the code, machine and NumPy/BLAS that trained it
                                    # (provenance.made_with); None: not recorded


def fingerprint(variant, task_name, task_options, budget, seed, task) -> dict:
    """Everything that determines the run of ``variant`` on ``seed`` as plain JSON data
    (``task``: the task built for the comparison, which resolves the fair defaults)."""
    run_budget = variant.budget_for(budget)
    described = {"cell": variant.cell, "options": variant.resolved_options(task),
                 "label": variant.label, "lr_for": variant.lr_for,
                 "budget": run_budget.record(), "task": task_name,
                 "task_options": task_options, "seed": seed, "dtype": run_budget.dtype}
    try:
        return json.loads(json.dumps(described, default=_plain))   # tuples become lists,
    except (TypeError, ValueError) as exc:                         # as they will on disk
        raise StoreError(f"compare: variant {variant.label!r} cannot be stored: its "
                         f"description must be plain data (numbers, strings, lists, "
                         f"dicts) to be written as JSON; {exc}") from None


def _plain(value):
    """json.dumps's fallback: NumPy scalars and arrays as Python numbers and lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{describe(value)} is not JSON data")


def folder_name(label) -> str:
    """The folder that holds ``label``'s runs: the label, percent-encoded where it is not
    a safe file name; ``urllib.parse.unquote`` gives the label back."""
    if not isinstance(label, str):
        raise ArgumentTypeError(f"compare: store: a variant label names a folder of the "
                                f"store, so it must be a str; got {describe(label)}")
    name = urllib.parse.quote(label, safe=_KEPT)
    if name.startswith(".") or name.split(".")[0].upper() in _WINDOWS_RESERVED:
        name = _encode_char(name[0]) + name[1:]      # hidden, ".", "..", or CON, NUL...
    if name.endswith((" ", ".")):
        name = name[:-1] + _encode_char(name[-1])     # Windows drops them
    if not name or len(name.encode()) > _LONGEST_NAME:
        raise StoreError(f"compare: store: a variant label names a folder of the store, so "
                         f"it must be 1 to {_LONGEST_NAME} characters once encoded; got "
                         f"{describe(label)}")
    return name


def _encode_char(char):
    return "".join(f"%{byte:02X}" for byte in char.encode())


class RunStore:
    """The finished runs of one comparison under ``path`` (see the module docstring).
    The path and a folder per label are checked (made if missing, and written to) here,
    before any run starts, so that no finished run is lost to a bad path."""

    def __init__(self, path, labels):
        if not isinstance(path, (str, os.PathLike)):
            raise ArgumentTypeError(f"compare: store must be None or a directory path "
                                    f"(str or os.PathLike); got {describe(path)}")
        self.path = os.fspath(path)
        self._folders = {label: os.path.join(self.path, folder_name(label))
                         for label in labels}
        _refuse_case_twins(self._folders)
        _usable_folder(self.path, self.path)
        for folder in self._folders.values():
            _usable_folder(folder, self.path)

    def files(self, label, seed):
        """(parameters .npz, record .json) of one run."""
        stem = os.path.join(self._folders[label], f"seed-{seed}")
        return stem + ".npz", stem + ".json"

    def save(self, run: FinishedRun, run_fingerprint: dict):
        """Write ``run`` atomically: its parameters, then the record that says it finished."""
        npz_path, json_path = self.files(run.label, run.seed)
        buffer = io.BytesIO()
        np.savez(buffer, **run.params)
        arrays = buffer.getvalue()
        record = {"format": FORMAT, "version": VERSION, "fingerprint": run_fingerprint,
                  "diverged": run.diverged, "seconds": run.seconds,
                  "params_sha256": hashlib.sha256(arrays).hexdigest(),
                  "history": run.history}
        if run.made_with is not None:
            record["made_with"] = run.made_with
        # one field a line, each value on its line: the fingerprint stays readable and a
        # history of thousands of steps does not take thousands of lines
        text = ",\n".join(f" {json.dumps(k)}: {json.dumps(v, default=_plain)}"
                          for k, v in record.items())
        _write_atomically(npz_path, arrays)
        _write_atomically(json_path, ("{\n" + text + "\n}\n").encode())

    def load(self, label, seed, run_fingerprint: dict) -> FinishedRun | None:
        """The stored run of ``label`` on ``seed``, or None if it has not finished.
        Raises :class:`StoreError` if it was trained differently (another fingerprint)
        or its files are damaged."""
        npz_path, json_path = self.files(label, seed)
        if not os.path.exists(json_path):
            return None
        record = _read_record(json_path)
        differences = _differences(record["fingerprint"], run_fingerprint)
        if differences:
            raise StoreError(
                f"{json_path} holds a run trained differently from the one asked for: "
                f"{'; '.join(differences)}. Use another store directory for this "
                f"comparison, or delete {self.path} (or just {os.path.dirname(json_path)})"
                f" to train it again")
        return FinishedRun(label, seed, record["history"], _read_params(npz_path, record),
                           record["diverged"], record["seconds"], record.get("made_with"))


def _refuse_case_twins(folders):
    by_folded = {}
    for label, folder in folders.items():
        twin = by_folded.setdefault(folder.casefold(), label)
        if twin != label:
            raise StoreError(f"compare: store: labels {twin!r} and {label!r} differ only in "
                             f"case, so they would share a folder on macOS and Windows; "
                             f"rename one")


def _usable_folder(folder, store):
    """Make ``folder`` if missing and write a file in it, or raise StoreError saying why
    (os.access says yes to root everywhere, so only writing tells)."""
    where = "" if folder == store else f" (its folder {folder})"
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise StoreError(f"compare: store {store}{where} exists and is not a directory; "
                         f"give a directory (made if missing)")
    try:
        os.makedirs(folder, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".rnnzoo-check-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise StoreError(f"compare: store {store}{where} cannot be created or written "
                         f"({exc.strerror or exc}); give a writable directory") from None


def _write_atomically(path, data: bytes):
    """``data`` to a temporary file beside ``path``, flushed to disk, then renamed over
    it: readers see the old file or the whole new one, never half of one."""
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)             # mkstemp's 0600 would hide the runs from others
        os.replace(tmp, path)
    except BaseException:                # Ctrl-C mid-write too: leave no temporary file
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


RECORD_FIELDS = {"format": str, "version": int, "fingerprint": dict, "diverged": (int, type(None)),
                 "seconds": float, "params_sha256": str, "history": dict}
HISTORY_FIELDS = {f.name for f in dataclasses.fields(History)}


def _read_record(path) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path} cannot be read as a stored run ({exc}); delete it to "
                         f"train that run again") from None
    if not isinstance(record, dict):
        problem = f"it holds {describe(record)}"
    elif record.get("format") != FORMAT or record.get("version") != VERSION:
        problem = f"it says {record.get('format')!r} version {record.get('version')!r}"
    else:
        wrong = [k for k, kind in RECORD_FIELDS.items()
                 if k not in record or not isinstance(record[k], kind)]
        if not wrong and set(record["history"]) != HISTORY_FIELDS:
            wrong = ["history"]
        if not wrong and not isinstance(record.get("made_with", {}), dict):
            wrong = ["made_with"]                    # optional: runs stored before it
        problem = f"its field(s) {wrong} are missing or malformed" if wrong else None
    if problem:
        raise StoreError(f"{path} is not a stored run of this rnnzoo ({FORMAT} version "
                         f"{VERSION}): {problem}; delete it to train that run again")
    return record


def _read_params(path, record) -> dict:
    """The .npz of a record, checked against the SHA-256 the record holds."""
    try:
        with open(path, "rb") as f:
            arrays = f.read()
    except OSError as exc:
        raise StoreError(f"{path}: the parameters of a finished run cannot be read "
                         f"({exc.strerror or exc}); delete {path[:-4]}.json to train that "
                         f"run again") from None
    if hashlib.sha256(arrays).hexdigest() != record["params_sha256"]:
        raise StoreError(f"{path} is not the file its record {path[:-4]}.json was written "
                         f"with (another SHA-256); delete both to train that run again")
    with np.load(io.BytesIO(arrays), allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def _differences(stored, wanted, prefix="") -> list:
    """'field: X stored, Y asked for' for every field (dotted into dicts) that differs
    (:func:`_same`)."""
    out = []
    for key in sorted(set(stored) | set(wanted), key=str):
        here = f"{prefix}{key}"
        a, b = stored.get(key, "(absent)"), wanted.get(key, "(absent)")
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, here + ".")
        elif not _same(a, b):
            out.append(f"{here} is {json.dumps(a)} there, {json.dumps(b)} here")
    return out


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same(a, b) -> bool:
    """Whether two fingerprint values (JSON data) are the same: numbers by value, so
    lr=1 and lr=1.0 (JSON's 1 and 1.0) are one run, and NaN is NaN; a bool is not a
    number here (true is not 1); lists and dicts entry by entry; the rest as JSON text.
    No fingerprint is rewritten: a run stored with either form matches both."""
    if _is_number(a) and _is_number(b):
        return a == b or (a != a and b != b)                # NaN != NaN
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
