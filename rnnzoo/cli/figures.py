"""``python -m rnnzoo figures [NAMES] [--full] [--list]``: regenerate the teaching figures
(:mod:`rnnzoo.teaching.figures`) and fail when a claim no longer holds on their data."""
from __future__ import annotations

import sys

from .args import COUNT


def add_parser(sub):
    p = sub.add_parser("figures", help="regenerate the teaching figures in figures/")
    p.add_argument("names", nargs="*", help="figures to draw (default: all)")
    p.add_argument("--out", default="figures", help="output folder (default: figures)")
    p.add_argument("--full", action="store_true", help="the papers' lengths (slower)")
    p.add_argument("--seed", type=COUNT, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    p.set_defaults(run=run, parser=p)


def run(args):
    from ..teaching.figures import FIGURES, make_figures
    if args.list:
        print("\n".join(FIGURES))
        return 0
    unknown = [n for n in args.names if n not in FIGURES]
    if unknown:
        args.parser.error(f"unknown figure(s) {unknown}; available: {', '.join(FIGURES)}")
    from ..teaching.figures import CLAIMS
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
