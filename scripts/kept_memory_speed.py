"""What the kernel's page faults add to a forward + backward and to a training step, and why
the cost-in-T figure and ``python -m rnnzoo``'s training commands keep freed memory
(rnnzoo.core.memory.keep_freed_memory).

glibc hands a freed block above its mmap threshold (at most 32 MB) back to the kernel,
and the next request maps fresh pages that the kernel zeroes at a page fault each, in
this process's system CPU time. A cell called again and again at a long T frees and asks
for such arrays on every call. Four tables, each policy timed in its own child process
(the default and the kept memory taking turns, ``--pairs`` times):

1. the grid of ``figures/state_space_cost.png`` (``state_space.cost_in_T``): CPU time per
   step at each T, and the slope fitted on T >= 1024, with glibc's default and with
   freed memory kept;
2. one forward + backward of S4D's recurrent mode from that grid: the page faults, and
   the user and system CPU time, under each policy;
3. training steps at a training-sized shape (the adding problem, T = 1000, B = 32,
   H = 128) of a few cells under each policy, and the process's peak memory: what a
   training run gains or loses;
4. ``python -m rnnzoo train`` as a user types it, each run a fresh process, at the
   training-sized shape of table 3, with glibc's default (the command's ``main`` called
   from ``python -c``) and as ``python -m rnnzoo`` runs it (freed memory kept): wall
   time, system time and page faults of the whole command, startup included.

    PYTHONPATH=$PWD python scripts/kept_memory_speed.py --out figures/speed/kept_memory.md
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

import rnnzoo
from rnnzoo.benchmark.timing import cell_runner, inputs
from rnnzoo.core.memory import keep_freed_memory
from rnnzoo.core.registry import make
from rnnzoo.teaching.experiments.running import in_child_process
from rnnzoo.teaching.figures import state_space as ss
from rnnzoo.teaching.figures.unitary import fitted_slopes

POLICIES = {False: "glibc's default", True: "freed memory kept"}
FAULT_CELL = "s4d, recurrent"
TRAIN_SHAPE = (1000, 32, 2, 128)                          # T, B, D, H
TRAIN_CELLS = {"lstm": {}, "gru": {}, "lru": {}, "s6": {},
               "s4d, recurrent, N = 8": {"state_size": 8, "mode": "recurrent"}}


def _policy(keep):
    """Set the child's policy; refuse to report a 'kept' number that was not kept."""
    if keep and not keep_freed_memory():
        raise RuntimeError("keep_freed_memory did not take: this C library is not glibc")


def _usage():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return np.array([r.ru_minflt, r.ru_utime, r.ru_stime])


def one_call_usage(keep, Ts, repeats):
    """{T: (page faults, user s, system s)} of one forward + backward of ``FAULT_CELL``,
    the call with the least CPU time of ``repeats`` after a warm-up (in the child)."""
    _policy(keep)
    name, opts = ss.COST_CELLS[FAULT_CELL]
    B, H = ss.COST_SHAPE
    cell = make(name, H, H, seed=0, dtype=np.float32, **opts)
    out = {}
    for T in Ts:
        run = cell_runner(cell, *inputs(T, B, H, cell.output_size, "float32"))
        run()
        calls = []
        for _ in range(repeats):
            start = _usage()
            run()
            calls.append(_usage() - start)
        out[T] = min(calls, key=lambda u: u[1] + u[2])
    return out


def _trainer(name, T, B, H, **options):
    task = rnnzoo.make_task("adding", T=T, seed=0)
    model = rnnzoo.build_model(name, task.input_size, H, task.output_size,
                               readout=task.readout, seed=0, dtype=np.float32, **options)
    return rnnzoo.Trainer(model, task, lr=1e-3, batch_size=B, progress=False)


def training_steps(keep, repeats):
    """{cell: (median seconds of a training step, peak resident MB)} at ``TRAIN_SHAPE`` on
    the adding problem (in the child; the cells one after another, since the peak
    memory is the process's)."""
    _policy(keep)
    T, B, _, H = TRAIN_SHAPE
    steps = {}
    with threadpool_limits(1):
        for label, opts in TRAIN_CELLS.items():
            trainer = _trainer(label.split(",")[0], T, B, H, **opts)
            trainer.train_step()                                  # warm-up, not timed
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                trainer.train_step()
                times.append(time.perf_counter() - start)
            steps[label] = statistics.median(times)
    return steps, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_turns(measure, pairs):
    """{keep: [measure(keep) per pair]}, the two policies alternating which goes first."""
    results = {False: [], True: []}
    for i in range(pairs):
        for keep in ((False, True) if i % 2 == 0 else (True, False)):
            results[keep].append(measure(keep))
    return results


def grid_table(pairs):
    Ts = np.array(ss.COST_T)
    runs = in_turns(lambda keep: ss.cost_in_T(keep_memory=keep), pairs)
    lines = [f"### 1. The cost-in-T grid (B = {ss.COST_SHAPE[0]}, D = H = {ss.COST_SHAPE[1]}, "
             f"float32, one BLAS thread, CPU time, best of {ss.COST_REPEATS}); median of "
             f"{pairs} runs per policy", "",
             "| cell | memory | " + " | ".join(f"µs/step at T = {T}" for T in Ts)
             + f" | slope on T >= {ss.COST_FIT_FROM}: median [min–max] |",
             "|---|---|" + "---:|" * (len(Ts) + 1)]
    for label in ss.COST_CELLS:
        for keep, policy in POLICIES.items():
            per_step = np.median([r[label] / Ts * 1e6 for r in runs[keep]], axis=0)
            slopes = [fitted_slopes(Ts, r, ss.COST_FIT_FROM)[label] for r in runs[keep]]
            lines.append(f"| {label} | {policy} | " + " | ".join(f"{v:.1f}" for v in per_step)
                         + f" | {statistics.median(slopes):.2f} [{min(slopes):.2f}–"
                           f"{max(slopes):.2f}] |")
    return lines


def fault_table(pairs, repeats):
    Ts = ss.COST_T[2:]
    runs = in_turns(lambda keep: in_child_process(one_call_usage, keep, Ts, repeats),
                    pairs)
    lines = [f"### 2. One forward + backward of {FAULT_CELL} from the grid: page faults and "
             f"CPU time (the call with the least CPU time of {repeats} after a warm-up; "
             f"median of {pairs} runs per policy)", "",
             "| T | memory | page faults | user ms | system ms | system µs/step |",
             "|---:|---|---:|---:|---:|---:|"]
    for T in Ts:
        for keep, policy in POLICIES.items():
            faults, user, system = np.median([r[T] for r in runs[keep]], axis=0)
            lines.append(f"| {T} | {policy} | {faults:.0f} | {user * 1e3:.1f} | "
                         f"{system * 1e3:.1f} | {system / T * 1e6:.1f} |")
    return lines


def training_table(pairs, repeats):
    runs = in_turns(lambda keep: in_child_process(training_steps, keep, repeats), pairs)
    T, B, _, H = TRAIN_SHAPE
    lines = [f"### 3. Training steps: the adding problem, T = {T}, B = {B}, H = {H}, float32, "
             f"one BLAS thread, wall time (median of {repeats} steps after a warm-up; median "
             f"of {pairs} runs per policy)", "",
             "| cell | glibc's default ms/step | freed memory kept ms/step | default / kept |",
             "|---|---:|---:|---:|"]
    for label in TRAIN_CELLS:
        default, kept = (statistics.median(r[0][label] for r in runs[keep]) * 1e3
                         for keep in (False, True))
        lines.append(f"| {label} | {default:.0f} | {kept:.0f} | {default / kept:.2f} |")
    default, kept = (statistics.median(r[1] for r in runs[keep]) for keep in (False, True))
    lines += ["", f"Peak resident memory of the process that trained all of them in turn: "
                  f"{default:.0f} MB with glibc's default, {kept:.0f} MB with freed memory "
                  f"kept."]
    return lines


TRAIN_STEPS = 12


def train_command(label, keep):
    """The argv of ``python -m rnnzoo train`` for a cell of ``TRAIN_CELLS`` at
    ``TRAIN_SHAPE``: as ``python -m rnnzoo`` runs it when ``keep``, else its ``main``
    called by ``python -c`` (what ``python -m rnnzoo`` adds is then left out)."""
    T, B, _, H = TRAIN_SHAPE
    args = ["train", "--cell", label.split(",")[0], "--task", "adding", "--T", str(T),
            "--steps", str(TRAIN_STEPS), "--batch-size", str(B), "--hidden", str(H),
            "--eval-every", str(10 * TRAIN_STEPS), "--eval-size", str(B), "--no-progress"]
    for key, value in TRAIN_CELLS[label].items():
        args += ["--option", f"{key}={value}"]
    if keep:
        return [sys.executable, "-m", "rnnzoo"] + args
    return [sys.executable, "-c", "import sys; from rnnzoo.cli import main; "
            "sys.exit(main(sys.argv[1:]))"] + args


def one_command(label, keep):
    """(wall s, system s, page faults) of one run of :func:`train_command`."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(train_command(label, keep), env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_stime - before.ru_stime, after.ru_minflt - before.ru_minflt


def command_table(pairs):
    T, B, _, H = TRAIN_SHAPE
    lines = [f"### 4. `python -m rnnzoo train` as typed, each run a fresh process: the adding "
             f"problem, T = {T}, B = {B}, H = {H}, {TRAIN_STEPS} steps, one BLAS thread "
             f"(median of {pairs} runs per policy; the whole command, startup included)", "",
             "| cell | memory | wall s | system s | page faults | default / kept, wall |",
             "|---|---|---:|---:|---:|---:|"]
    for label in TRAIN_CELLS:
        runs = in_turns(lambda keep: one_command(label, keep), pairs)
        walls = {}
        for keep, policy in POLICIES.items():
            wall, system, faults = np.median(np.array(runs[keep]), axis=0)
            walls[keep] = wall
            lines.append(f"| {label} | {policy} | {wall:.1f} | {system:.1f} | {faults:.0f} | "
                         + (f"{walls[False] / wall:.2f} |" if keep else "|"))
        print("\n".join(lines[-2:]), flush=True)
    return lines


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pairs", type=int, default=3,
                   help="runs per policy, the two policies taking turns (default 3)")
    p.add_argument("--repeats", type=int, default=3,
                   help="calls per measurement in tables 2 and 3, the best kept (default 3)")
    p.add_argument("--out", help="also write the tables to this markdown file")
    args = p.parse_args(argv)
    for name in ("pairs", "repeats"):
        if getattr(args, name) < 1:
            p.error(f"--{name}: expected a positive whole number; got {getattr(args, name)}")
    if args.out:                   # before minutes of measuring, not after
        folder = os.path.dirname(os.path.abspath(args.out))
        if os.path.isdir(args.out):
            p.error(f"--out: {args.out!r} is a folder; expected a markdown file's path")
        if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
            p.error(f"--out: the folder of {args.out!r} does not exist or is not writable")
    lines = ["# What page faults add: glibc's default allocator against freed memory kept", "",
             f"Written by `python scripts/kept_memory_speed.py {' '.join(argv)}`. "
             "Each policy runs in its own child process, the two taking turns.", ""]
    for table in (grid_table(args.pairs), [""], fault_table(args.pairs, args.repeats), [""],
                  training_table(args.pairs, args.repeats), [""],
                  command_table(args.pairs)):
        lines += table
        print("\n".join(table), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
