"""What flushing subnormal floats to zero buys a training step, cell by cell.

On a task whose loss is at the last step only (the adding problem), the carried gradient
decays backward through the sequence, and in float32 it passes through the subnormal
range (below 1.2e-38) before it reaches 0. x86 CPUs compute with subnormal numbers tens
of times more slowly, so a long backward can spend most of its time on numbers too small
to change any sum. rnnzoo's Trainer flushes them to zero (rnnzoo/core/subnormals.py).

For each cell, two Trainers over the same model and batches, one with
``flush_subnormals=True`` (the default) and one with False, take training steps in turns
(one BLAS thread by default, the way the comparisons run; ``--threads 2`` lets BLAS
use two, as the ``train`` command does); the table gives the median step time of
each, their ratio, and whether the two runs' parameters are still bitwise equal:

    PYTHONPATH=$PWD python scripts/subnormal_speed.py --T 1000 --out figures/speed/subnormals.md
    PYTHONPATH=$PWD python scripts/subnormal_speed.py --cells cornn --T 500 \
        --option dt=0.06 --option gamma=66 --option epsilon=15 \
        --out figures/speed/subnormals.md --append     # the coRNN authors' adding settings
    PYTHONPATH=$PWD python scripts/subnormal_speed.py --cells lstm,gru,rnn --threads 2 \
        --out figures/speed/subnormals.md --append     # BLAS's worker threads are not flushed
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

import rnnzoo
from rnnzoo.core.subnormals import flushing_supported


def trainer(cell, task, args, flush):
    model = rnnzoo.build_model(cell, task.input_size, args.hidden, task.output_size,
                               readout=task.readout, seed=0, dtype=np.float32,
                               **args.options)
    return rnnzoo.Trainer(model, task, lr=1e-3, batch_size=args.batch, progress=False,
                          flush_subnormals=flush)


def measure(cell, args):
    """(IEEE ms, flushed ms, bitwise equal) per training step, median of ``pairs``."""
    task = rnnzoo.make_task("adding", T=args.T, seed=0)
    runs = {flush: trainer(cell, task, args, flush)
            for flush in (False, True)}
    times = {False: [], True: []}
    for r in runs.values():                      # warm-up step, not timed
        r.train_step()
    for i in range(args.pairs):
        for flush in ((False, True) if i % 2 == 0 else (True, False)):
            start = time.perf_counter()
            runs[flush].train_step()
            times[flush].append(time.perf_counter() - start)
    same = all(np.array_equal(runs[False].model.params[k], runs[True].model.params[k])
               for k in runs[False].model.params)
    return (1e3 * statistics.median(times[False]), 1e3 * statistics.median(times[True]),
            same)


def _threads_text(n):
    return "one BLAS thread" if n == 1 else f"{n} BLAS threads"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cells", default=",".join(rnnzoo.available()),
                   help="comma-separated cell names (default: every registered cell)")
    p.add_argument("--T", type=int, default=1000, help="sequence length (default 1000)")
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--pairs", type=int, default=3, help="timed steps per setting")
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS threads (default 1; the flush covers only the calling thread)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="a cell option (a number), e.g. --option gamma=66 with --cells cornn")
    p.add_argument("--out", help="also write the table to this markdown file")
    p.add_argument("--append", action="store_true",
                   help="add the table to the end of --out instead of replacing the file")
    args = p.parse_args(argv)
    args.options = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        try:
            args.options[key] = float(value)
        except ValueError:
            sep = ""
        if not sep or not key:
            p.error(f"--option: expected KEY=NUMBER, e.g. gamma=66; got {item!r}")
    cells = args.cells.split(",")
    unknown = sorted(set(cells) - set(rnnzoo.available()))
    if unknown:
        p.error(f"--cells: unknown cell(s) {', '.join(unknown)}; available: "
                f"{', '.join(rnnzoo.available())}")
    if args.threads < 1:
        p.error(f"--threads: expected a positive whole number; got {args.threads}")
    if args.append and not args.out:
        p.error("--append needs --out")
    if args.out and not os.path.isdir(os.path.dirname(os.path.abspath(args.out))):
        p.error(f"--out: the folder of {args.out!r} does not exist")
    supported, reason = flushing_supported()
    if not supported:
        sys.exit(f"subnormal flushing is not available here ({reason}): nothing to compare")

    lines = [f"Adding problem, T = {args.T}, B = {args.batch}, H = {args.hidden}, float32, "
             f"{_threads_text(args.threads)}; median of {args.pairs} training steps each, "
             "taken in turns. "
             f"Written by `python scripts/subnormal_speed.py {' '.join(argv or sys.argv[1:])}`.",
             "",
             "| cell | IEEE ms/step | flushed ms/step | IEEE / flushed | parameters bitwise "
             "equal |", "|---|---:|---:|---:|---|"]
    print("\n".join(lines), flush=True)
    with threadpool_limits(args.threads):
        for cell in cells:
            ieee, flushed, same = measure(cell, args)
            lines.append(f"| {cell} | {ieee:.1f} | {flushed:.1f} | {ieee / flushed:.2f} | "
                         f"{'yes' if same else 'no'} |")
            print(lines[-1], flush=True)
    if args.out:
        with open(args.out, "a" if args.append else "w") as f:
            f.write("\n" if args.append else "# Flushing subnormal floats: training step "
                                               "time\n\n")
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
