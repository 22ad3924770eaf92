"""``python -m rnnzoo gradcheck [CELLS]``: the finite-difference check of every (or the
named) registered cell, in float64 with central differences (:mod:`rnnzoo.core.gradcheck`)."""
from __future__ import annotations

import sys
import traceback
import zlib

import numpy as np

from .. import cells  # noqa: F401  (registers every cell)
from ..core.cell_checks import ContractError
from ..core.gradcheck import gradcheck
from ..core.registry import available, make
from ..core.validation import repeated
from .args import (COUNT, NONNEG_FLOAT, NUMPY_TOO_BIG, POSITIVE_FLOAT, POSITIVE_INT,
                   add_import, import_cells)


def add_parser(sub):
    p = sub.add_parser("gradcheck", help="finite-difference check of every (or the named) cell")
    p.add_argument("names", nargs="*", help="cells to check (default: all registered; then "
                                            "a cell that cannot take the sizes is skipped "
                                            "with a note)")
    p.add_argument("--T", type=POSITIVE_INT, default=6)
    p.add_argument("--batch", type=POSITIVE_INT, default=2)
    p.add_argument("--input-size", type=POSITIVE_INT, default=3)
    p.add_argument("--hidden-size", type=POSITIVE_INT, default=4)
    p.add_argument("--at-init", action="store_true",
                   help="check at the cells' initialization instead of a random point near "
                        "it (zero biases can put ReLU units exactly on their kink)")
    p.add_argument("--seed", type=COUNT, default=0)
    # gradcheck's own arguments, its defaults (rnnzoo.gradcheck's docstring)
    p.add_argument("--eps", type=POSITIVE_FLOAT, default=1e-6,
                   help="the finite-difference step (default 1e-6)")
    p.add_argument("--atol", type=NONNEG_FLOAT, default=1e-7,
                   help="absolute tolerance per entry, beside the round-off floor (default 1e-7)")
    p.add_argument("--rtol", type=NONNEG_FLOAT, default=1e-5,
                   help="relative tolerance (default 1e-5)")
    p.add_argument("--max-entries", type=POSITIVE_INT, default=None,
                   help="check at most this many random entries per tensor (default: all)")
    p.add_argument("--mode", choices=("entries", "directional"), default="entries",
                   help="perturb entries one at a time, or along random directions")
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
    # every cell built before any is checked: a size a named cell cannot take is a usage
    # error now, not a traceback after the others' checks; checking every cell, one that
    # cannot take it is skipped with a note (one cell's limit does not stop the others)
    built, skipped = [], []
    for name in names:
        cell, note = _build(args, name, skip_refused=not args.names)
        if cell is None:
            skipped.append(name)
        else:
            built.append((name, cell))
        if note:
            print(note)
    if not built:
        args.parser.error(f"no registered cell can be built with --input-size "
                          f"{args.input_size} --hidden-size {args.hidden_size}")
    failed = []
    for name, cell in built:
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
        try:
            report = gradcheck(cell, x, seed=args.seed, eps=args.eps, atol=args.atol,
                               rtol=args.rtol, max_entries=args.max_entries, mode=args.mode)
        except Exception as exc:                    # noqa: BLE001 (said, then the next cell)
            if isinstance(exc, MemoryError) or str(exc).startswith(NUMPY_TOO_BIG):
                raise                               # a size: main() says it in one line
            # a mistake in a cell (of one's own, most likely): say it and go on
            print(f"error: {name}: {_said(exc)}", file=sys.stderr)
            failed.append(name)
            continue
        print(report.table(), end="\n\n")
        if not report.passed:
            failed.append(name)
    print(f"{len(built) - len(failed)} passed, {len(failed)} failed"
          + (f": {', '.join(failed)}" if failed else "")
          + (f"; {len(skipped)} skipped: {', '.join(skipped)}" if skipped else ""))
    return 1 if failed else 0


def _said(exc):
    """An exception as one line: gradcheck's refusals and the contract's errors say what
    and where; any other is named by its type and the line that raised it (in the cell,
    most likely)."""
    if isinstance(exc, ContractError) or str(exc).startswith("gradcheck"):
        return str(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    where = (f" (in {frames[-1].name}, {frames[-1].filename}, line {frames[-1].lineno})"
             if frames else "")
    return f"{type(exc).__name__}: {exc}{where}"


def _build(args, name, skip_refused):
    """(the cell to check or None, a note or None): ``name`` at the command's sizes in
    float64; a cell whose default backward is a surrogate by design is built in its
    differentiable mode, and the note says so. A size or option the cell refuses is a
    usage error naming it, or with ``skip_refused`` a note that it is skipped."""
    def make_cell(**options):
        try:
            return make(name, input_size=args.input_size, hidden_size=args.hidden_size,
                        seed=args.seed, dtype=np.float64, **options)
        except (TypeError, ValueError) as exc:
            why = (f"cell {name} cannot be built with --input-size {args.input_size} "
                   f"--hidden-size {args.hidden_size}: {exc}")
            if skip_refused:
                return why
            args.parser.error(why)
    cell = make_cell()
    if isinstance(cell, str):
        return None, f"skipped: {cell}"
    if getattr(cell, "exact_gradient", True):
        return cell, None
    # a surrogate gradient by design (skiprnn's straight-through round) cannot pass
    # finite differences: check the cell's differentiable mode instead
    opts = cell.differentiable_options
    cell = make_cell(**opts)
    if isinstance(cell, str):
        return None, f"skipped: {cell}"
    return cell, (f"{name}: the default backward is a surrogate by design; "
                  f"checking {name} with {opts}")
