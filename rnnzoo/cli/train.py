"""The ``train`` subcommand: ``python -m rnnzoo train --cell gru --task adding --T 100``.

Also runnable on its own as ``python -m rnnzoo.cli.train --cell gru --task adding ...``.
Prints the final evaluation metric against the task's trivial baseline; optionally saves
the learning curve (``--save-plot curve.png``) and a checkpoint (``--checkpoint
model.npz``) from which ``--resume model.npz`` continues the same run: the same parameters
and the same learning curve as one uninterrupted run, plus one evaluation more where the
first run stopped (every run evaluates at its last step, which an uninterrupted run
evaluates only when it is a multiple of ``--eval-every``).
"""
from __future__ import annotations

import argparse
import inspect
import os
import sys

import numpy as np

from ..core.backend import cupy_available
from ..core.registry import available
from ..training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ..training.model import build_model
from ..training.optim import OPTIMIZERS, optimizer_from_state
from ..training.tasks import TASKS, make_task
from ..training.trainer import History, Trainer
from .args import (COUNT, NONNEG_FLOAT, POSITIVE_FLOAT, POSITIVE_INT, check_plot_format,
                   check_writable, nonempty_path, options_once, parse_option,
                   typed_flags, add_import, add_model_size, import_cells)


def verdict(loss, baseline, name="memoryless baseline") -> str:
    """A plain-words reading of the final loss against the trivial baseline, ``name`` the
    task's ``baseline_name`` (a baseline that is not memoryless is named as it is: digits'
    class frequencies, charlm's unigram). Whether the task is *solved* is the task's own
    criterion (:func:`solved_line`), not this ratio: half the adding baseline is what
    remembering one of its two numbers scores."""
    ratio = loss / baseline
    who = ("a memoryless predictor", "the memoryless predictor") \
        if name == "memoryless baseline" else (f"the {name}",) * 2
    if ratio < 0.9:
        return f"{ratio:.1%} of the baseline: learned something {who[0]} cannot"
    return f"{ratio:.1%} of the baseline: no better than {who[1]}"


def solved_line(history, task) -> str:
    """Whether the run solved the task by the task's criterion, with the number."""
    if task.success is None:
        return f"solved: {task.name} has no success criterion; read the loss against the baseline"
    s = task.success
    return (f"solved ({s.describe()}; {s.source}): "
            f"{'yes' if history.solved else 'no'}, {s.metric} {history.final_eval_success:.4g}")


DEFAULT_EVAL_SIZE = 1000

# what a checkpoint fixes (the model, task, optimizer, seed and batch): with --resume these
# flags would be ignored, so each is refused when typed, even at its default value
RESUME_FIXES = ("cell", "task", "T", "hidden", "layers", "blocks", "option", "dtype", "backend",
                "task_option", "eval_size", "seed", "optimizer", "lr", "clip", "batch_size",
                "tbptt")
RESUME_TAKES = ("--steps, --eval-every, --checkpoint, --save-plot, --no-progress and --import "
                "(a cell of your own is rebuilt from its registered name)")

# keys that build_model and make_task take from a flag or from the task: as an option
# they would collide with it ("got multiple values for keyword argument")
OPTION_KEYS = {"cell": "--cell", "hidden_size": "--hidden", "layers": "--layers",
               "blocks": "--blocks", "seed": "--seed", "dtype": "--dtype", "backend": "--backend"}
SET_BY_THE_TASK = ("input_size", "output_size", "readout")
TASK_OPTION_KEYS = {"name": "--task", "T": "--T", "seed": "--seed",
                    "eval_size": "--eval-size"}


def build_parser(prog="python -m rnnzoo train"):
    p = argparse.ArgumentParser(prog=prog, description="Train a recurrent cell on a "
                                "long-memory task and compare it with the task's baseline.")
    p.add_argument("--cell", default="gru", choices=available(), metavar="CELL",
                   help=f"registered cell name (available: {', '.join(available())}; a "
                        f"cell of your own with --import MODULE)")
    p.add_argument("--task", default="adding", choices=sorted(TASKS))
    p.add_argument("--T", type=POSITIVE_INT, default=None,
                   help="adding, induction, parity: sequence length; copy: blank gap "
                        "(sequences are T+20 long); digits: fixed 64; associative: use "
                        "--task-option pairs=K")
    p.add_argument("--steps", type=POSITIVE_INT, default=1000)
    p.add_argument("--batch-size", type=POSITIVE_INT, default=32)
    add_model_size(p)
    # > 0 as compare's: a rate of 0 would run every step and learn nothing
    p.add_argument("--lr", type=POSITIVE_FLOAT, default=1e-2,
                   help="learning rate (default 0.01, what the notebooks and figures use "
                        "with Adam and clipping at 1 on these small tasks; the Python API's "
                        "train() keeps Adam's usual 0.001)")
    p.add_argument("--optimizer", default="adam", choices=sorted(OPTIMIZERS))
    p.add_argument("--clip", type=NONNEG_FLOAT, default=1.0,
                   help="max global gradient norm; 0 disables clipping")
    p.add_argument("--tbptt", type=POSITIVE_INT, default=None, help="truncated BPTT length (steps)")
    p.add_argument("--eval-every", type=POSITIVE_INT, default=100)
    p.add_argument("--eval-size", type=POSITIVE_INT, default=None,
                   help=f"evaluation examples (default {DEFAULT_EVAL_SIZE}); not for digits "
                        "and permuted_digits, which evaluate on their test split "
                        "(--task-option test_fraction=F)")
    p.add_argument("--seed", type=COUNT, default=0)
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                   help="float32 (default: several times faster to train); float64 where a "
                        "check needs it (gradient checks always run in float64)")
    p.add_argument("--backend", default="numpy", choices=["numpy", "cupy"])
    p.add_argument("--option", action="append", type=parse_option, default=[],
                   metavar="KEY=VALUE", help="cell option, e.g. --option nonlinearity=relu")
    p.add_argument("--task-option", action="append", type=parse_option, default=[],
                   metavar="KEY=VALUE", help="task option, e.g. --task-option pairs=8")
    p.add_argument("--save-plot", metavar="PATH", type=nonempty_path,
                   help="save the learning curve as a PNG")
    p.add_argument("--checkpoint", metavar="PATH", type=nonempty_path,
                   help="save model + optimizer here (.npz)")
    p.add_argument("--resume", metavar="PATH", type=nonempty_path,
                   help="continue from a checkpoint written by --checkpoint (the model, "
                        "optimizer, task, seed and step come from the file; it takes "
                        f"{RESUME_TAKES})")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_import(p)
    return p


def main(argv=None) -> int:
    import_cells(sys.argv[1:] if argv is None else argv, "python -m rnnzoo train")
    parser = build_parser()
    args = parser.parse_args(argv)
    refuse_ignored_flags(parser, args, argv)
    for flag, target in (("--checkpoint", args.checkpoint), ("--save-plot", args.save_plot)):
        if target:                             # before training, so no run is lost at the end
            check_writable(parser, flag, target, replaces_links=flag == "--checkpoint")
    if args.save_plot:
        check_plot_format(parser, args.save_plot)
    if args.checkpoint and args.save_plot and \
            os.path.realpath(args.checkpoint) == os.path.realpath(args.save_plot):
        parser.error(f"--checkpoint and --save-plot name the same file "
                     f"({args.save_plot}): the plot would overwrite the trained model")
    if args.backend == "cupy" and not cupy_available():
        parser.error("--backend cupy: CuPy is not installed or finds no GPU")
    try:
        task, model, trainer = setup(args)
    except (ValueError, TypeError, KeyError, FileNotFoundError) as exc:
        # a usage error: exit 2, no traceback (a KeyError's str() would add quotes)
        parser.error(str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc))
    try:
        # NumPy's overflow warning would come before, and say less than, the Trainer's
        # divergence error (which names the step, the quantity and the likely cause)
        with np.errstate(over="ignore", invalid="ignore"):
            return run(args, task, model, trainer)
    except FloatingPointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def refuse_ignored_flags(parser, args, argv):
    """A usage error for a flag the run would ignore or that would collide with another:
    a model/task/optimizer flag with --resume, an option key that a flag sets, --eval-size
    for a task that does not take it. ``argv``: what ``args`` was parsed from."""
    if args.resume:
        appended = [dest for dest in RESUME_FIXES if isinstance(getattr(args, dest), list)]
        typed = typed_flags(parser, argv, [d for d in RESUME_FIXES if d not in appended])
        fixed = ["--" + dest.replace("_", "-") for dest in RESUME_FIXES
                 if dest in typed or (dest in appended and getattr(args, dest))]
        if fixed:
            parser.error(f"--resume {args.resume}: the checkpoint fixes the model, task, "
                         f"optimizer, seed and batch size, so {', '.join(fixed)} would be "
                         f"ignored; resuming takes {RESUME_TAKES}")
        return
    for flag, options, keys in (("--option", args.option, OPTION_KEYS),
                                ("--task-option", args.task_option, TASK_OPTION_KEYS)):
        options_once(parser, flag, options)
        for key, value in options:
            if key in keys:
                parser.error(f"{flag} {key}={value!r}: use {keys[key]} instead of {flag}")
            if flag == "--option" and key in SET_BY_THE_TASK:
                parser.error(f"{flag} {key}={value!r}: the task (--task) sets {key}")
    if args.eval_size is not None and not takes_eval_size(args.task):
        parser.error(f"--eval-size {args.eval_size}: the {args.task} task evaluates on its "
                     f"test split (--task-option test_fraction=F), not on --eval-size "
                     f"examples")


def takes_eval_size(task) -> bool:
    return "eval_size" in inspect.signature(TASKS[task]).parameters


def setup(args):
    """(task, model, trainer) from the flags, or from --resume's checkpoint."""
    progress = not args.no_progress
    if args.resume:
        model, opt_state, meta = load_checkpoint(args.resume)
        extra = meta["extra"]
        if opt_state is None or "task" not in extra:
            raise CheckpointError(f"{args.resume} has no optimizer state or trainer record; it "
                                  "was not written by this command's --checkpoint")
        spec = dict(extra["task"])
        task = make_task(spec.pop("name"), **spec)
        trainer = Trainer(model, task, optimizer=optimizer_from_state(model.params, opt_state),
                          batch_size=extra["batch_size"], clip=extra["clip"],
                          tbptt=extra["tbptt"], eval_every=args.eval_every,
                          seed=extra["seed"], start_step=extra["step"], progress=progress)
        trainer.history = History.from_dict(extra["history"])
        return task, model, trainer
    task_kwargs = dict(args.task_option)
    if takes_eval_size(args.task):
        task_kwargs["eval_size"] = (DEFAULT_EVAL_SIZE if args.eval_size is None
                                    else args.eval_size)
    task = make_task(args.task, T=args.T, seed=args.seed, **task_kwargs)
    model = build_model(args.cell, task.input_size, args.hidden, task.output_size,
                        layers=args.layers, blocks=args.blocks, readout=task.readout,
                        seed=args.seed,
                        dtype=np.dtype(args.dtype), backend=args.backend,
                        **dict(args.option))
    trainer = Trainer(model, task, optimizer=args.optimizer, lr=args.lr,
                      batch_size=args.batch_size, clip=args.clip or None, tbptt=args.tbptt,
                      eval_every=args.eval_every, seed=args.seed, progress=progress,
                      label=args.cell)
    return task, model, trainer


def run(args, task, model, trainer) -> int:
    print(f"task   {task.describe()}")
    blocks = f" in {model.blocks.kind.upper()} blocks" if model.blocks is not None else ""
    print(f"model  {model.cells[0]!r} x{len(model.cells)}{blocks}, {model.num_params()} "
          f"parameters, optimizer {trainer.optimizer!r}")
    history = trainer.run(args.steps)
    print(history.summary())
    print(f"final eval {history.metric}: {history.final_eval_loss:.5g}  "
          f"(baseline {history.baseline:.5g} = {task.baseline_formula}): "
          f"{verdict(history.final_eval_loss, history.baseline, task.baseline_name)}")
    if history.success is not None or task.success is None:   # (not when resumed from a
        print(solved_line(history, task))                     # history that has no record)
    # the checkpoint first (the trained model), then the plot: the paths passed their
    # check before training, but a write can still fail (a full disk), and one failed
    # write must not cost the other
    failed = 0
    if args.checkpoint:
        failed += _written(lambda: save_checkpoint(args.checkpoint, model, trainer.optimizer,
                                                   extra=trainer.checkpoint_extra()),
                           f"saved checkpoint to {args.checkpoint} (step {trainer.step})")
    if args.save_plot:
        failed += _written(lambda: _save_plot(history, task, args.save_plot),
                           f"saved learning curve to {args.save_plot}")
    return 1 if failed else 0


def _written(write, done) -> bool:
    """Run ``write``; print ``done``, or one error line: whether it failed."""
    try:
        write()
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return True
    print(done)
    return False


def _save_plot(history, task, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..training.plotting import plot_history
    ax = plot_history(history, title=f"{history.label} on {task.name} (T={task.T})")
    ax.figure.tight_layout()
    try:
        ax.figure.savefig(path, dpi=120)
    finally:
        plt.close(ax.figure)


if __name__ == "__main__":
    sys.exit(main())
