"""``python -m rnnzoo gradcheck [CELLS]``: the finite-difference check of every (or the
named) registered cell, in float64 with central differences (:mod:`rnnzoo.core.gradcheck`)."""
from __future__ import annotations

import zlib

import numpy as np

from .. import cells  # noqa: F401  (registers every cell)
from ..core.gradcheck import gradcheck
from ..core.registry import available, make
from ..core.validation import repeated
from .args import COUNT, POSITIVE_INT, add_import, import_cells


def add_parser(sub):
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
    add_import(p)
    p.set_defaults(run=run, parser=p)


def run(args):
    import_cells([f"--import={m}" for m in args.imports], args.parser.prog)
    names = args.names or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        args.parser.error(f"unknown cell(s) {unknown}; available: "
                          f"{', '.join(available())} (a cell of your own: --import the "
                          f"module that registers it)")
    repeats = repeated(names)
    if repeats:            # it would be checked, and counted as passed, twice
        args.parser.error(f"cell names must be distinct; got {names}, which repeats {repeats}")
    # every cell built before any is checked: a size one of them cannot take is a
    # usage error now, not a traceback after the others' checks
    built = [(name, *_build(args, name)) for name in names]
    failed = []
    for name, cell, surrogate_note in built:
        if surrogate_note:
            print(surrogate_note)
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
        report = gradcheck(cell, x, seed=args.seed)
        print(report.table(), end="\n\n")
        if not report.passed:
            failed.append(name)
    print(f"{len(names) - len(failed)} passed, {len(failed)} failed"
          + (f": {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def _build(args, name):
    """(the cell to check, a note or None): ``name`` at the command's sizes in float64;
    a cell whose default backward is a surrogate by design is built in its
    differentiable mode, and the note says so. A size or option the cell refuses is a
    usage error naming it."""
    def make_cell(**options):
        try:
            return make(name, input_size=args.input_size, hidden_size=args.hidden_size,
                        seed=args.seed, dtype=np.float64, **options)
        except (TypeError, ValueError) as exc:
            args.parser.error(f"cell {name} cannot be built with --input-size "
                              f"{args.input_size} --hidden-size {args.hidden_size}: {exc}")
    cell = make_cell()
    if getattr(cell, "exact_gradient", True):
        return cell, None
    # a surrogate gradient by design (skiprnn's straight-through round) cannot pass
    # finite differences: check the cell's differentiable mode instead
    opts = cell.differentiable_options
    return make_cell(**opts), (f"{name}: the default backward is a surrogate by design; "
                               f"checking {name} with {opts}")
