"""The ``reproduce`` subcommand: each paper's headline at its own length.

    python -m rnnzoo reproduce --list
    python -m rnnzoo reproduce indrnn_adding            # writes figures/reproductions/...
    python -m rnnzoo reproduce --all --full             # the papers' longer settings
    python -m rnnzoo reproduce urnn_copy --robust       # + the unsolved at 4x, new seeds
    python -m rnnzoo reproduce --all --scheduler tcp://host:8786   # on a Dask cluster

Every finished (variant, seed) is kept under ``figures/reproductions/runs/NAME/`` as it
completes, so the same command run again after a crash or Ctrl-C resumes: it trains only
what is missing. Each reproduction writes ``NAME.json`` and ``NAME.png`` and rewrites the
table ``figures/reproductions.md``.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys

from ..core.validation import repeated
from .args import (POSITIVE_INT, check_writable_folder, nonempty_path, scheduler_address,
                   stopped_midway)


def build_parser(prog="python -m rnnzoo reproduce"):
    p = argparse.ArgumentParser(prog=prog, description="Reproduce each paper's headline "
                                "at its own length; resumable, and runnable on a Dask "
                                "cluster.")
    p.add_argument("names", nargs="*", metavar="NAME", help="reproductions to run "
                   "(--list shows them)")
    p.add_argument("--all", action="store_true", help="every reproduction, in the table's "
                   "order")
    p.add_argument("--list", action="store_true", help="list the reproductions and exit")
    p.add_argument("--full", action="store_true", help="the papers' longer settings "
                   "(much slower; written as NAME_full)")
    p.add_argument("--robust", action="store_true", help="also train every variant left "
                   "unsolved again at 4x the steps on new seeds (kept as NAME_4x)")
    p.add_argument("--out", default="figures", type=nonempty_path,
                   help="the figures folder (default: figures)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=POSITIVE_INT, default=None,
                       help="local processes (default: one per core)")
    where.add_argument("--scheduler", metavar="ADDRESS", default=None, type=scheduler_address,
                       help="a Dask scheduler, e.g. tcp://host:8786 (pip install "
                            "'dask[distributed]')")
    p.add_argument("--quiet", action="store_true", help="no line per finished run")
    return p


def describe_catalog() -> str:
    from ..teaching.reproductions import CATALOG
    rows = []
    for name, r in CATALOG.items():
        options = ", ".join(f"{k} = {v}" for k, v in r.task_options.items())
        rows.append(f"{name:<24}{r.task} ({options}): {r.claim}\n{'':<24}{r.paper}")
    return "\n".join(rows)


def what_it_did(record) -> str:
    """What the command that wrote ``record`` trained and loaded, and the runs' training
    time: a command that loaded every run trained nothing and says so."""
    done, seconds = record["this_command"], record["train_seconds"]
    runs = f"{seconds:.0f} core-seconds of training recorded in the runs"
    if not done["trained"]:
        return f"all {done['loaded']} runs loaded from their stores, none trained; {runs}"
    loaded = f", {done['loaded']} loaded from their stores" if done["loaded"] else ""
    return (f"trained {done['trained']} runs in {done['wall_seconds']:.0f} s{loaded}; "
            f"{runs}")


def _check_out(parser, args, names):
    """Usage error now, not after training, if --out cannot take the table, the
    reproductions folder (each NAME.json and NAME.png), the folder of their runs, each
    reproduction's store (runs/NAME and, with --robust, runs/NAME_4x, which is first
    written after the runs at the budget have trained) or a variant's folder in them, or
    holds a record the table cannot be rendered from."""
    from ..teaching.experiments.store import folder_name
    from ..teaching.reproductions import CATALOG
    from ..teaching.reproductions.table import FOLDER, TABLE, paths, records
    check_writable_folder(parser, "--out", args.out, files=(TABLE,))
    written = [paths(args.out, name, args.full) for name in names]
    check_writable_folder(parser, "--out", os.path.join(args.out, FOLDER),
                          files=[p.name for record, png, _ in written for p in (record, png)])
    check_writable_folder(parser, "--out", os.path.dirname(written[0][2]))
    for name, (_, _, store) in zip(names, written):
        stores = [str(store)] + ([f"{store}_4x"] if args.robust else [])
        labels = [v.label for v in CATALOG[name].variants_for(args.full)]
        for folder in stores:
            check_writable_folder(parser, "--out", folder)
            for label in labels:
                check_writable_folder(parser, "--out", os.path.join(folder,
                                                                    folder_name(label)))
    try:        # the table is rewritten from every record: a damaged one found now, not later
        records(args.out, skip={record.stem for record, _, _ in written})
    except ValueError as exc:
        parser.error(str(exc))


def main(argv=None) -> int:
    from ..teaching.reproductions import CATALOG, reproduce
    from ..teaching.reproductions.table import FOLDER, TABLE
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list:
        running = [flag for flag, given in (
            ("--all", args.all), ("--full", args.full), ("--robust", args.robust),
            ("--out", args.out != "figures"), ("--workers", args.workers is not None),
            ("--scheduler", args.scheduler is not None), ("--quiet", args.quiet)) if given]
        if args.names or running:    # a list, or a run: not both (they would be ignored)
            parser.error(f"--list prints the reproductions and runs none; got "
                         f"{args.names or ', '.join(running)} too")
        print(describe_catalog())
        return 0
    unknown = [n for n in args.names if n not in CATALOG]
    if unknown:
        parser.error(f"unknown reproduction(s) {unknown}; available: {', '.join(CATALOG)}")
    if args.all == bool(args.names):
        parser.error("name the reproductions to run, or give --all (--list shows them)")
    twice = repeated(args.names)
    if twice:                                  # as figures, gradcheck and bench refuse them
        parser.error(f"expected distinct reproductions; got {args.names}, which repeats "
                     f"{twice}")
    names = list(CATALOG) if args.all else args.names
    _check_out(parser, args, names)
    kept = (f"every finished run is kept under {args.out}/{FOLDER}/runs/: the same command "
            f"again trains only the rest")
    from .compare import dask_executor
    try:
        with (dask_executor(parser, args.scheduler) if args.scheduler
              else contextlib.nullcontext()) as executor:
            for name in names:
                print(f"{name}: {CATALOG[name].claim}", flush=True)
                record = reproduce(CATALOG[name], args.out, full=args.full,
                                   robust=args.robust, workers=args.workers, executor=executor,
                                   progress=not args.quiet)
                print(f"{name}: {record['verdict']}: {record['ours']}; at 4x the steps on "
                      f"new seeds: {record['rerun_4x']} ({what_it_did(record)})", flush=True)
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))
    except (OSError, KeyboardInterrupt) as exc:   # --out passed its check before training
        return stopped_midway(exc, kept)
    print(f"table: {args.out}/{TABLE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
