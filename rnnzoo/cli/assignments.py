"""``python -m rnnzoo assignments OUTDIR``: the student notebooks, from the solutions
(:mod:`rnnzoo.teaching.assignments` says what each marker becomes)."""
from __future__ import annotations

import argparse
import pathlib
import sys

from ..teaching.assignments import NOTEBOOKS, generate


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m rnnzoo assignments",
        description="Write the student version of every notebook: solutions become "
                    "`raise NotImplementedError()` stubs or answer prompts; hidden tests "
                    "and answer keys are removed.")
    parser.add_argument("outdir", help="folder for the student notebooks (created if needed)")
    parser.add_argument("--notebooks", default=str(NOTEBOOKS),
                        help=f"folder of the solution notebooks (default: {NOTEBOOKS})")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.outdir)
    if out.exists() and not out.is_dir():
        parser.error(f"OUTDIR {out} exists and is not a folder")
    if not pathlib.Path(args.notebooks).is_dir():
        parser.error(f"--notebooks {args.notebooks} is not a folder")
    try:
        generate(out, args.notebooks)
    except (ValueError, FileNotFoundError, OSError) as exc:
        parser.error(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
