"""``python -m rnnzoo assignments OUTDIR``: the course kit, an nbgrader course directory
made from the solution notebooks (:mod:`rnnzoo.teaching.nbgrader_kit` says how)."""
from __future__ import annotations

import argparse
import pathlib
import sys

from ..core.validation import repeated
from ..teaching.assignments import NOTEBOOKS
from ..teaching.nbgrader_kit import write_course
from .args import nonempty_path


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m rnnzoo assignments",
        description="Write an nbgrader course directory: OUTDIR/source/NAME/NAME.ipynb for "
                    "every solution notebook NAME (answer cells, autograder tests cells with "
                    "hidden tests, points) and OUTDIR/nbgrader_config.py. Then, in OUTDIR: "
                    "`nbgrader generate_assignment NAME` makes the student version and "
                    "`nbgrader autograde NAME` grades the submissions.")
    parser.add_argument("outdir", type=nonempty_path,
                        help="the course directory (created if needed)")
    parser.add_argument("--notebooks", default=str(NOTEBOOKS), type=nonempty_path,
                        help=f"folder of the solution notebooks (default: {NOTEBOOKS})")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="only these notebooks, by name without .py (e.g. 02b_lstm_by_hand)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite files in OUTDIR that differ from what the kit writes "
                             "(without it they are named and nothing is written)")
    args = parser.parse_args(argv)
    twice = repeated(args.only or [])
    if twice:                          # as figures, reproduce, bench and gradcheck refuse them
        parser.error(f"--only: expected distinct notebooks; got {args.only}, which repeats "
                     f"{twice}")
    out = pathlib.Path(args.outdir)
    if out.exists() and not out.is_dir():
        parser.error(f"OUTDIR {out} exists and is not a folder")
    if not pathlib.Path(args.notebooks).is_dir():
        parser.error(f"--notebooks {args.notebooks} is not a folder")
    try:
        write_course(out, args.notebooks, only=args.only, force=args.force,
                     force_name="--force")
    except (ValueError, FileNotFoundError, OSError) as exc:
        parser.error(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
