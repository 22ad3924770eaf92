"""``python -m rnnzoo bench --from-json FILE``: reading back a bench.json the command
wrote, every field checked (a usage error names the file, the row and the field), so the
tables and the chart are redrawn from a finished measurement without measuring again."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..benchmark.report import MODE_NAMES
from ..core.validation import describe


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)


def _is_spread(v):
    return isinstance(v, dict) and all(_is_number(v.get(k)) for k in ("median", "min", "max"))


# what the tables and the chart read from each row of a bench.json, and what each must be
ROW_TYPES = {
    "cell": ("a cell name", lambda v: isinstance(v, str)),
    **{k: ("an integer >= 1", lambda v: isinstance(v, int) and not isinstance(v, bool)
           and v >= 1) for k in ("T", "B", "H")},
    "mode": (f"one of {', '.join(MODE_NAMES)}", lambda v: v in MODE_NAMES),
    **{k: ("a finite number of milliseconds", _is_number) for k in ("rnnzoo_ms", "gemm_ms")},
    "torch_ms": ("null or a finite number of milliseconds", lambda v: v is None
                 or _is_number(v)),
    **{k: ("null or {median, min, max}", lambda v: v is None or _is_spread(v))
       for k in ("ratio", "vs_gemm")},
}


def load_saved(parser, path) -> dict:
    """The header, footer and rows of a bench.json this command wrote; anything else is
    a usage error naming the file and what is wrong with it."""
    where = f"--from-json {path}"
    try:
        saved = json.loads(Path(path).read_text())
    except FileNotFoundError:
        parser.error(f"{where}: no such file")
    except IsADirectoryError:
        parser.error(f"{where}: is a folder, not a bench.json")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        parser.error(f"{where}: not JSON ({e})")
    except OSError as e:
        parser.error(f"{where}: cannot read it ({e.strerror or e})")
    expected = "the {header, footer, rows} that python -m rnnzoo bench writes in bench.json"
    if not isinstance(saved, dict):
        parser.error(f"{where}: expected {expected}; got a JSON {type(saved).__name__}")
    missing = [k for k in ("header", "footer", "rows") if k not in saved]
    if missing:
        parser.error(f"{where}: expected {expected}; missing {', '.join(missing)}")
    for key in ("header", "footer"):
        if not isinstance(saved[key], str):
            parser.error(f"{where}: {key} must be text; got {describe(saved[key])}")
    rows = saved["rows"]
    if not isinstance(rows, list) or not rows:
        parser.error(f"{where}: rows must be a non-empty list of measurements; got "
                     f"{describe(rows)}")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            parser.error(f"{where}: rows[{i}] must be a measurement (a JSON object); got "
                         f"{describe(row)}")
        lacks = [k for k in ROW_TYPES if k not in row]
        if lacks:
            parser.error(f"{where}: rows[{i}] is not a measurement: it lacks "
                         f"{', '.join(lacks)}")
        for key, (what, fits) in ROW_TYPES.items():
            if not fits(row[key]):
                parser.error(f"{where}: rows[{i}].{key} must be {what}; got "
                             f"{describe(row[key])}")
    return saved
