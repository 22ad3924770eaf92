"""Command line: ``python -m rnnzoo {figures,gradcheck,train,compare,assignments,bench} ...``."""
from __future__ import annotations

import argparse
import sys

import numpy as np


def cmd_figures(args):
    from .figures import FIGURES, make_figures
    if args.list:
        print("\n".join(FIGURES))
        return 0
    unknown = [n for n in args.names if n not in FIGURES]
    if unknown:
        args.parser.error(f"unknown figure(s) {unknown}; available: {', '.join(FIGURES)}")
    from .figures import CLAIMS
    paths = make_figures(args.names, out_dir=args.out, full=args.full, seed=args.seed,
                         progress=not args.quiet)
    for p in paths:
        print(p)
    failed = [c for claims in CLAIMS.values() for c in claims if not c.passed]
    if failed:
        print(f"{len(failed)} claim(s) FAILED: the figures' prose no longer matches their "
              "data; see claims.md", file=sys.stderr)
        return 1
    return 0


def cmd_gradcheck(args):
    import rnnzoo
    names = args.names or rnnzoo.available()
    unknown = [n for n in names if n not in rnnzoo.available()]
    if unknown:
        args.parser.error(f"unknown cell(s) {unknown}; available: "
                          f"{', '.join(rnnzoo.available())}")
    import zlib
    failed = []
    for name in names:
        cell = rnnzoo.make(name, input_size=args.input_size, hidden_size=args.hidden_size,
                           seed=args.seed, dtype=np.float64)
        if not getattr(cell, "exact_gradient", True):
            # a surrogate gradient by design (skiprnn's straight-through round) cannot
            # pass finite differences: check the cell's differentiable mode instead
            opts = cell.differentiable_options
            print(f"{name}: the default backward is a surrogate by design; checking "
                  f"{name} with {opts}")
            cell = rnnzoo.make(name, input_size=args.input_size,
                               hidden_size=args.hidden_size, seed=args.seed,
                               dtype=np.float64, **opts)
        # each cell's own test input, from (seed, its name): what one cell is checked on
        # does not change when another cell is registered
        rng = np.random.default_rng([args.seed, zlib.crc32(name.encode())])
        x = rng.standard_normal((args.T, args.batch, args.input_size))
        if not args.at_init:
            # a random point near initialization: at initialization the biases are 0, so
            # a ReLU unit whose inputs are all 0 (a dead row of the layer below) sits
            # exactly on its kink, where the subgradient 0 and a central difference (1/2)
            # legitimately disagree; moving off it checks the backward, not the kink
            for p in cell.params.values():
                p += 0.1 * rng.standard_normal(p.shape)
        report = rnnzoo.gradcheck(cell, x, seed=args.seed)
        print(report.table(), end="\n\n")
        if not report.passed:
            failed.append(name)
    print(f"{len(names) - len(failed)} passed, {len(failed)} failed"
          + (f": {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def cmd_train(args):
    from . import cli_train
    return cli_train.main(args.train_args)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["train"]:                      # these two parse their own flags
        from . import cli_train
        return cli_train.main(argv[1:])
    if argv[:1] == ["compare"]:
        from . import cli_compare
        return cli_compare.main(argv[1:])
    if argv[:1] == ["assignments"]:
        from . import assignments
        return assignments.main(argv[1:])
    if argv[:1] == ["bench"]:
        from . import benchmark
        return benchmark.main(argv[1:])
    from .cli_train import COUNT, POSITIVE_INT
    parser = argparse.ArgumentParser(prog="python -m rnnzoo",
                                     description="rnnzoo: recurrent cells from scratch")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("figures", help="regenerate the teaching figures in figures/")
    p.add_argument("names", nargs="*", help="figures to draw (default: all)")
    p.add_argument("--out", default="figures", help="output folder (default: figures)")
    p.add_argument("--full", action="store_true", help="the papers' lengths (slower)")
    p.add_argument("--seed", type=COUNT, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    p.set_defaults(run=cmd_figures, parser=p)

    p = sub.add_parser("gradcheck", help="finite-difference check of every (or the named) cell")
    p.add_argument("names", nargs="*", help="cells to check (default: all registered)")
    p.add_argument("--T", type=POSITIVE_INT, default=6)
    p.add_argument("--batch", type=POSITIVE_INT, default=2)
    p.add_argument("--input-size", type=POSITIVE_INT, default=3)
    p.add_argument("--hidden-size", type=POSITIVE_INT, default=4)
    p.add_argument("--at-init", action="store_true",
                   help="check at the cells' initialization instead of a random point near "
                        "it (zero biases can put ReLU units exactly on their kink)")
    p.add_argument("--seed", type=COUNT, default=0)
    p.set_defaults(run=cmd_gradcheck, parser=p)

    p = sub.add_parser("train", help="train a cell on a task (see: python -m rnnzoo train -h)")
    p.add_argument("train_args", nargs=argparse.REMAINDER)
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("compare", help="several cells x several seeds under one budget "
                       "(see: python -m rnnzoo compare -h)")
    p.add_argument("compare_args", nargs=argparse.REMAINDER)

    p = sub.add_parser("assignments", help="write the student version of every notebook "
                       "(see: python -m rnnzoo assignments -h)")
    p.add_argument("assignments_args", nargs=argparse.REMAINDER)

    p = sub.add_parser("bench", help="time forward+backward of every cell, and torch's "
                       "(see: python -m rnnzoo bench -h)")
    p.add_argument("bench_args", nargs=argparse.REMAINDER)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
