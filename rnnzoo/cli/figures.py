"""``python -m rnnzoo figures [NAMES] [--full] [--seed S] [--robust] [--list]``: regenerate
the teaching figures (:mod:`rnnzoo.teaching.figures`) and fail when a claim no longer holds
on their data, or (with ``--robust``) a negative claim does not survive 4x the steps on a
second block of seeds."""
from __future__ import annotations

import json
import sys
import time

from ..core.validation import repeated
from .args import COUNT, check_writable_folder, nonempty_path, stopped_midway


def add_parser(sub):
    p = sub.add_parser("figures", help="regenerate the teaching figures in figures/")
    p.add_argument("names", nargs="*", help="figures to draw (default: all)")
    p.add_argument("--out", default="figures", type=nonempty_path,
                   help="output folder (default: figures)")
    p.add_argument("--full", action="store_true",
                   help="longer runs, toward the papers' lengths (slower; the paper-scale "
                        "runs are `reproduce`)")
    p.add_argument("--seed", type=COUNT, default=0, metavar="S",
                   help="the first seed of every comparison: seeds S, S+1, S+2 (S..S+4 with "
                        "--full; default 0). The way to check a result on fresh seeds: "
                        "--seed 10 reruns every claim on seeds 10-12")
    p.add_argument("--robust", action="store_true",
                   help="re-run the variants behind every negative claim (a cell fails, "
                        "stays, never leaves) at 4x the steps on a second, disjoint seed block "
                        "(S+10, S+11, S+12) and record the verdict in claims.json; the "
                        "default run skips it and records it as skipped. It costs about 4x "
                        "the training time of those variants on top of the default run: "
                        "expect the figures to take several times longer")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    p.set_defaults(run=run, parser=p)


def run(args):
    from ..teaching.figures import FIGURES, make_figures
    if args.list:
        if args.names:          # a list, or a run of these: not both (the names were ignored)
            args.parser.error(f"--list prints the figures' names and draws nothing; got "
                              f"names too: {args.names}")
        drawing = [flag for flag, given in (("--full", args.full), ("--robust", args.robust),
                                            ("--seed", args.seed != 0),
                                            ("--out", args.out != "figures")) if given]
        if drawing:             # as book --only list refuses --out: they would be ignored
            args.parser.error(f"--list prints the figures' names and draws nothing; got "
                              f"{', '.join(drawing)} too")
        print("\n".join(FIGURES))
        return 0
    unknown = [n for n in args.names if n not in FIGURES]
    if unknown:
        args.parser.error(f"unknown figure(s) {unknown}; available: {', '.join(FIGURES)}")
    repeats = repeated(args.names)
    if repeats:      # make_figures refuses them too; here it is a usage error
        args.parser.error(f"figure names must be distinct; got {args.names}, which repeats "
                          f"{repeats}")
    _check_out(args)
    from ..teaching.figures import CLAIMS
    start = time.perf_counter()
    kept = f"the figures drawn before it, and their claims, are written in {args.out}"
    try:
        paths = make_figures(args.names, out_dir=args.out, full=args.full, seed=args.seed,
                             progress=not args.quiet, robust=args.robust)
    except (OSError, KeyboardInterrupt) as exc:   # --out passed its check before drawing
        return stopped_midway(exc, kept)
    for p in paths:
        print(p)
    claims = [c for entries in CLAIMS.values() for c in entries]
    if args.robust:
        rerun = sum(getattr(c, "robust_passed", None) is not None for c in claims)
        print(f"--robust: {rerun} claim(s) re-run at a larger budget on new seeds; "
              f"{time.perf_counter() - start:.0f} s in all")
        carried_failed = []
    else:
        carried_failed = _say_what_was_carried_over(args)
    failed = [c for c in claims if not c.passed]
    # a failed re-run fails the command whether it ran now or was carried over
    fragile = [c for c in claims if getattr(c, "robust_passed", None) is False] \
        + carried_failed
    if failed:
        print(f"{len(failed)} claim(s) FAILED: the figures' prose no longer matches their "
              "data; see claims.md", file=sys.stderr)
    if fragile:
        print(f"{len(fragile)} claim(s) do not survive their robustness re-run (a larger "
              "budget on new seeds): reword them to what does; see claims.md",
              file=sys.stderr)
    return 1 if failed or fragile else 0


def _check_out(args):
    """Usage error now, not after the figures were computed, if --out cannot take a
    figure's PNG or the claims files, or holds a claims.json they cannot be merged into
    (write_claims reads it after every figure is drawn: a bad one would lose the claims)."""
    from ..teaching.figures import FIGURES
    from ..teaching.figures.claims_file import claims_path, render_claims
    path = claims_path(args.out, args.full)
    pngs = [f"{n}.png" for n in args.names or FIGURES]
    check_writable_folder(args.parser, "--out", args.out,
                          files=(path.name, path.with_suffix(".md").name, *pngs))
    if not path.exists():
        return
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
            raise TypeError("expected {figure: [claims]}")
        render_claims(data, args.full)     # reads every field a claim's rendering needs
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        args.parser.error(f"--out {args.out}: {path} is not a claims file this command "
                          f"wrote ({type(e).__name__}: {e}); move it away or choose "
                          "another --out")


def _say_what_was_carried_over(args):
    """The lines printed while the figures ran say "ROBUSTNESS SKIPPED ... not requested"
    for every re-run: they were printed before claims.json was merged. Say how many of
    those took the verdict of an earlier --robust run, and how many could not. Returns
    the statements whose carried-over verdict is a failure."""
    from ..teaching.figures import FIGURES
    from ..teaching.figures.claims_file import (carried_over_counts, carried_over_failures,
                                                claims_path)
    path = claims_path(args.out, args.full)
    data = json.loads(path.read_text())
    carried, not_carried = carried_over_counts(data, args.names or list(FIGURES))
    if carried or not_carried:
        print(f"{path.with_suffix('.md')}: {carried} re-run verdict(s) carried over from an "
              f"earlier --robust run (this run's numbers at the first budget are the ones "
              f"it extended)" + (f"; {not_carried} could not be carried over, and "
                                 f"{path.with_suffix('.md').name} says why" if not_carried
                                 else ""))
    return carried_over_failures(data, args.names or list(FIGURES))
