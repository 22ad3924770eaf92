"""One measurement in a fresh process: ``python -m rnnzoo.benchmark.worker '<json spec>'``.

The spec is {"lib": "rnnzoo" or "torch", "cell", "T", "B", "D", "H", "mode", "dtype",
"repeat"}; the worker prints one line of JSON with the seconds measured (see
:func:`.timing.time_rnnzoo` and :func:`.timing.time_torch`). Each library thus runs
alone in its process, with its own default threads and nobody else's thread pool
spinning beside it.
"""
from __future__ import annotations

import json
import sys

from . import timing


def measure(spec: dict) -> dict:
    spec = dict(spec)
    lib = spec.pop("lib")
    if lib == "rnnzoo":
        return timing.time_rnnzoo(**spec)
    if lib == "torch":
        return timing.time_torch(**spec)
    raise ValueError(f"lib must be 'rnnzoo' or 'torch'; got {lib!r}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    print(json.dumps(measure(json.loads(argv[0]))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
