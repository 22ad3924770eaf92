"""The ``compare`` subcommand: several cells, several seeds, one budget, one table.

    python -m rnnzoo compare --cells lstm janet gru --task adding --T 100 --steps 1500 \\
        --n-seeds 3 --save-plot adding.png
    python -m rnnzoo compare --cells lstm janet --task adding --T 100 --seeds 10 11 12

A cell is written ``name`` or ``name:key=value,key=value`` (its options), and may end in
``@label``. The LSTM gets forget bias 1 unless you say otherwise (see
:data:`rnnzoo.experiments.FAIR_DEFAULTS`); an unfair override needs ``--note``.

Seeds: ``--n-seeds N`` seeds starting at ``--seed-start S`` (default 3 from 0: 0, 1, 2),
or an explicit list, ``--seeds 10 11 12``: the way to check a result on seeds its author
did not pick. (``--seeds N`` once meant N seeds; one value is refused with the spelling
that says which is meant.)

Resuming: ``--store DIR`` saves every finished run in DIR as it completes (JSON and .npz,
never pickle). Run the same command again after Ctrl-C or a crash and the finished runs
are loaded, only the rest are trained; a run stored with other settings is refused with
the fields that differ.

On a cluster: ``--scheduler ADDRESS`` sends the runs to a Dask scheduler (``pip install
"dask[distributed]"``) instead of this machine's cores. Start it any way Dask can::

    dask scheduler &                                  # then, on each machine:
    dask worker tcp://HOST:8786 --nthreads 1 --nworkers 8
    python -m rnnzoo compare --cells lstm janet --T 100 --n-seeds 8 \\
        --scheduler tcp://HOST:8786 --store runs/adding

(``distributed.SSHCluster`` over SSH, ``dask_jobqueue.SLURMCluster`` on Slurm and
``dask_kubernetes`` on Kubernetes start the same scheduler and workers; every worker needs
rnnzoo installed.)
"""
from __future__ import annotations

import argparse
import contextlib
import sys

from ..core.registry import available
from ..core.validation import repeated
from ..training.optim import OPTIMIZERS
from ..training.tasks import TASKS
from .args import (COUNT, NONNEG_FLOAT, POSITIVE_FLOAT, POSITIVE_INT, check_writable,
                   check_writable_folder, nonempty_path, options_once, parse_option,
                   scheduler_address, stopped_midway, unique_options, add_import,
                   add_model_size, import_cells)

SCHEDULER_TIMEOUT_S = 10         # how long --scheduler waits to connect before giving up
DASK_HINT = 'pip install "dask[distributed]"'


def split_top_level(text, sep=","):
    """``text`` split at the ``sep`` outside brackets and quotes: periods=[1,2],modules=2
    is two options (a value is JSON or a Python literal, as ``train --option`` reads it)."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def parse_variant(text):
    """``name[:k=v,k=v][@label]`` -> Variant arguments (cell, options, label)."""
    label = None
    if "@" in text:
        text, label = text.split("@", 1)
        if not label:       # "rnn@": a label was meant and none given
            raise argparse.ArgumentTypeError(f"expected a label after '@' in {text + '@'!r} "
                                             f"(NAME[:K=V,...][@LABEL]); got none")
    name, colon, opts = text.partition(":")
    if colon and not opts.strip():
        raise argparse.ArgumentTypeError(f"expected options after ':' in {text!r} "
                                         f"(NAME[:K=V,...][@LABEL]); got none")
    if name not in available():
        raise argparse.ArgumentTypeError(f"unknown cell {name!r}; available: "
                                         f"{', '.join(available())} (a cell of your own: "
                                         f"--import the module that registers it)")
    # a repeated key is refused: the last would win, and the label would show both
    options = unique_options((parse_option(o) for o in split_top_level(opts) if o), text)
    return name, options, label or (text if opts else name)


def build_parser(prog="python -m rnnzoo compare"):
    p = argparse.ArgumentParser(prog=prog, description="Train several cells over several "
                                "seeds under one budget and compare them honestly.",
                                # the module docstring's resuming and cluster sections
                                epilog="".join((__doc__ or "").partition("Resuming:")[1:]),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cells", nargs="+", type=parse_variant, required=True,
                   metavar="NAME[:K=V,...][@LABEL]")
    p.add_argument("--task", default="adding", choices=sorted(TASKS))
    p.add_argument("--T", type=POSITIVE_INT, default=None, help="the task's length")
    p.add_argument("--task-option", action="append", type=parse_option, default=[],
                   metavar="KEY=VALUE")
    p.add_argument("--steps", type=POSITIVE_INT, default=1000)
    p.add_argument("--batch-size", type=POSITIVE_INT, default=32)
    add_model_size(p)
    p.add_argument("--lr", type=POSITIVE_FLOAT, default=1e-2)
    p.add_argument("--optimizer", default="adam", choices=sorted(OPTIMIZERS))
    p.add_argument("--clip", type=NONNEG_FLOAT, default=1.0, help="max gradient norm; 0: none")
    p.add_argument("--tbptt", type=POSITIVE_INT, default=None)
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    seeds = p.add_argument_group("seeds", "which seeds every cell trains on (default 0, 1, 2)")
    seeds.add_argument("--seeds", nargs="+", type=COUNT, default=None, metavar="S",
                       help="an explicit list of two or more distinct seeds, e.g. --seeds 10 "
                            "11 12: check a result on seeds its author did not pick")
    seeds.add_argument("--n-seeds", type=POSITIVE_INT, default=None, metavar="N",
                       help="N consecutive seeds from --seed-start (default 3)")
    seeds.add_argument("--seed-start", type=COUNT, default=None, metavar="S",
                       help="the first of the --n-seeds seeds (default 0): --seed-start 10 "
                            "--n-seeds 3 trains seeds 10, 11, 12")
    p.add_argument("--workers", type=POSITIVE_INT, default=None,
                   help="processes of this machine (default: one per core)")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None, type=scheduler_address,
                   help="run on the Dask cluster whose scheduler is at ADDRESS (e.g. "
                        "tcp://host:8786; local, SSH, Slurm or Kubernetes, however it was "
                        f"started) instead of this machine's cores; needs {DASK_HINT} and "
                        "rnnzoo on every worker; not with --workers")
    p.add_argument("--store", metavar="DIR", default=None, type=nonempty_path,
                   help="save each finished run in DIR (made if missing) as it completes; "
                        "the same command again loads the finished runs and trains only "
                        "the rest (resume after Ctrl-C or a crash)")
    p.add_argument("--note", default=None,
                   help="why a deliberately unfair setting is used (shown in the caption)")
    p.add_argument("--save-plot", metavar="PATH", type=nonempty_path,
                   help="save the curves as a PNG")
    add_import(p)
    return p


def resolve_seeds(parser, args) -> list:
    """The seeds from --seeds, or from --seed-start and --n-seeds; a usage error names the
    flag when they conflict, repeat a seed, or give --seeds one value."""
    if args.seeds is None:
        start = 0 if args.seed_start is None else args.seed_start
        return list(range(start, start + (3 if args.n_seeds is None else args.n_seeds)))
    if args.n_seeds is not None or args.seed_start is not None:
        parser.error("argument --seeds: give an explicit list (--seeds 10 11 12) or "
                     "--seed-start/--n-seeds, not both")
    if len(args.seeds) == 1:
        n = args.seeds[0]
        parser.error(f"argument --seeds: expected two or more distinct seeds (e.g. --seeds "
                     f"10 11 12); got one, {n}. For {n} seeds 0..{n - 1} (what --seeds {n} "
                     f"used to mean) write --n-seeds {n}; for the one seed {n}, --seed-start "
                     f"{n} --n-seeds 1")
    repeats = repeated(args.seeds)
    if repeats:
        parser.error(f"argument --seeds: seeds must be distinct (a repeated seed would train "
                     f"the same run twice and count it twice); got {args.seeds}, which "
                     f"repeats {repeats}")
    return list(args.seeds)


@contextlib.contextmanager
def dask_executor(parser, address):
    """An Executor on the Dask cluster at ``address``, closed afterwards. Dask is imported
    here only: without it, or without a scheduler there, a usage error says what to do."""
    try:
        from distributed import Client
    except ImportError:
        parser.error(f"argument --scheduler: running on a Dask cluster needs Dask, which is "
                     f"not installed here: {DASK_HINT}")
    try:
        client = Client(address, timeout=SCHEDULER_TIMEOUT_S)
    except (OSError, ValueError, TypeError) as exc:     # timed out, refused, bad address
        parser.error(f"argument --scheduler: no Dask scheduler answered at {address!r} "
                     f"within {SCHEDULER_TIMEOUT_S} s ({exc})")
    try:
        threads = sum(client.nthreads().values())
        print(f"on the Dask cluster at {address}: {threads} worker thread(s) now"
              + ("; waiting for workers to join" if not threads else ""), flush=True)
        # pure=False: every job a new Dask task, never one a cancelled run left under the
        # same key (pure=True names a task by its arguments)
        yield client.get_executor(pure=False)
    finally:
        client.close()


def main(argv=None) -> int:
    from ..teaching import experiments as ex
    import_cells(sys.argv[1:] if argv is None else argv, "python -m rnnzoo compare")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.save_plot and not args.save_plot.lower().endswith(".png"):
        parser.error(f"argument --save-plot: expected a path ending in .png; got "
                     f"{args.save_plot!r}")
    if args.save_plot:                         # before training, so no run is lost at the end
        check_writable(parser, "--save-plot", args.save_plot)
    if args.store:
        check_writable_folder(parser, "--store", args.store)
    if args.scheduler and args.workers is not None:
        parser.error(f"argument --scheduler: the cluster's workers run the jobs, so "
                     f"--workers (this machine's processes) does not apply; give one or the "
                     f"other, not both (got --scheduler {args.scheduler} --workers "
                     f"{args.workers})")
    seeds = resolve_seeds(parser, args)
    task_options = options_once(parser, "--task-option", args.task_option)
    if args.T is not None:
        if "T" in task_options:
            parser.error(f"--task-option T={task_options['T']!r}: --T {args.T} sets T too; "
                         f"give one of them")
        task_options["T"] = args.T
    try:
        variants = [ex.Variant(name, options, label=label, note=args.note)
                    for name, options, label in args.cells]
        budget = ex.Budget(steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                           optimizer=args.optimizer, clip=args.clip or None,
                           hidden=args.hidden, layers=args.layers, blocks=args.blocks,
                           dtype=args.dtype, tbptt=args.tbptt)
        with (dask_executor(parser, args.scheduler) if args.scheduler
              else contextlib.nullcontext()) as executor:
            result = ex.compare(variants, args.task, task_options=task_options,
                                budget=budget, seeds=seeds, workers=args.workers,
                                executor=executor, store=args.store)
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))
    except (OSError, KeyboardInterrupt) as exc:   # --store passed its check before training
        return stopped_midway(exc, (
            f"the finished runs are kept in {args.store}: run the same command again to "
            f"train only the rest" if args.store else
            "nothing was kept (--store DIR keeps each finished run, to resume)"))
    print(result.summary())
    print(result.caption())
    if args.save_plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(8, 4.8))
        result.plot(ax)
        fig.text(0.01, -0.02, result.caption(), fontsize=7, va="top", wrap=True)
        try:        # --save-plot passed its check before training; a disk can still fill
            fig.savefig(args.save_plot, dpi=120, bbox_inches="tight")
        except OSError as exc:
            print(f"error: could not write the plot {args.save_plot}: {exc}; the comparison "
                  f"is the table above", file=sys.stderr)
            return 1
        finally:
            plt.close(fig)
        print(f"saved {args.save_plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
