"""``python -m rnnzoo bench``: the command line of :mod:`rnnzoo.benchmark` (its docstring
is this command's help)."""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import benchmark
from ..benchmark.fair import SHAPES, fair_benchmark, torch_installed
from ..benchmark.report import MODE_NAMES, bar_chart, markdown_table, summary_table
from ..benchmark.scan import TABLE_ORDER as SCAN_TABLES
from ..benchmark.timing import MODES, blas_threads
from ..core.registry import available
from ..core.validation import describe, repeated
from .args import POSITIVE_INT, check_writable_folder, nonempty_path, typed_flags
from .bench_saved import load_saved


def _load() -> float:
    """The 1-minute load average (NaN where the OS has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def _shape(text):
    try:
        T, B, H = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected T/B/H such as 100/64/256; got {text!r}")
    if min(T, B, H) < 1:
        raise argparse.ArgumentTypeError(f"T, B and H must be >= 1; got {text!r}")
    return (T, B, H)


def _header(args, torch):
    load = _load()
    threads = blas_threads() if args.threads is None else args.threads
    return (f"{args.dtype}, {args.clock} time, best of {args.repeat} per process, "
            f"{args.pairs} pair(s); "
            f"numpy {np.__version__} ({threads} BLAS threads)"
            + (f", torch {torch} ({args.threads or 'default'} threads)" if torch
               else ", torch not installed")
            + f"; load average {load:.1f} at the start, {os.cpu_count()} CPUs")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m rnnzoo bench", description=benchmark.__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cells", default=None,
                   help="comma-separated cell names (default: every registered cell)")
    p.add_argument("--shapes", type=_shape, nargs="+", default=list(SHAPES),
                   help="T/B/H triples, D = H (default: %(default)s)")
    p.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES),
                   help="fb: forward + backward, f: forward only (default: both)")
    p.add_argument("--pairs", type=POSITIVE_INT, default=3,
                   help="fresh-process measurements of each, median taken (default 3)")
    p.add_argument("--repeat", type=POSITIVE_INT, default=7,
                   help="best of this many timed runs inside each process (default 7)")
    p.add_argument("--threads", type=POSITIVE_INT, default=None,
                   help="OMP_NUM_THREADS and OPENBLAS_NUM_THREADS for every worker "
                   "(default: each library's own default)")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall time, or each process's CPU time (on a busy machine, with "
                   "--threads 1, the time other programs take is then not counted)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    p.add_argument("--out", default="figures/speed", type=nonempty_path,
                   help="where bench.md, bench.json and the PNGs go (default %(default)s)")
    p.add_argument("--no-files", action="store_true", help="print the table only")
    p.add_argument("--from-json", default=None, metavar="BENCH_JSON",
                   type=nonempty_path,
                   help="measure nothing: rewrite the table and chart from a saved bench.json")
    p.add_argument("--backend", choices=("numpy", "cupy"), default="numpy",
                   help="cupy: time every cell on the GPU (one process, device "
                   "synchronized around each call), rnn/lstm/gru against cuDNN; "
                   "writes bench_gpu.md and bench_gpu.json")
    p.add_argument("--scaling", action="store_true",
                   help="instead: cost against T (every cell) and against H (urnn, "
                   "eurnn, clockwork, qrnn, lstm); --cells names the cells of both")
    p.add_argument("--scan", nargs="*", default=None, metavar="TABLE",
                   help="instead: the linear scan's forms and the cells against gru and lstm "
                   "at T/B/H = 1024/16/128, one process, one BLAS thread (rnnzoo.benchmark."
                   "scan); tables: " + ", ".join(SCAN_TABLES) + " (default: all); writes "
                   "scan.md and scan.json, replacing only the tables measured")
    args = p.parse_args(argv)
    if args.scan is not None:
        return _scan(args, p, argv)
    for dest, (what, refuses) in INSTEAD.items():     # the first given is what runs
        if getattr(args, dest) != p.get_default(dest):
            _refuse_ignored(p, argv, what, refuses)
            break
    if args.no_files:
        _refuse_ignored(p, argv, "--no-files writes nothing", ["out"])
    cells = available() if args.cells is None else \
        [c.strip() for c in args.cells.split(",") if c.strip()]
    unknown = [c for c in cells if c not in available()]
    if unknown or not cells:
        p.error(f"--cells: unknown cell(s) {unknown or args.cells!r}; available: "
                f"{', '.join(available())}")
    for flag, values in (("--cells", cells), ("--shapes", args.shapes),
                         ("--modes", args.modes)):
        # fair_benchmark refuses them too (each would be timed twice); here a usage error
        repeats = repeated(values)
        if repeats:
            p.error(f"{flag}: expected distinct values; got {values}, which repeats {repeats}")
    if not args.no_files:          # before measuring for minutes, not after
        check_writable_folder(p, "--out", args.out, _files(args))
    if args.backend == "cupy":
        return _gpu(args, cells, p)
    if args.scaling:
        return _scaling(args, cells)
    if args.from_json:
        saved = load_saved(p, args.from_json)
        return _write(args, saved["rows"], saved["header"], saved["footer"])
    torch = None
    if not args.no_torch and torch_installed():
        from importlib.metadata import version
        torch = version("torch")
    header = _header(args, torch)
    print(header, flush=True)
    start = time.perf_counter()

    def progress(done, total, name, shape, mode):
        print(f"\r  {done}/{total} {name} {'/'.join(map(str, shape))} {mode}        ",
              end="", flush=True)

    try:
        rows = fair_benchmark(cells, shapes=args.shapes, modes=args.modes, pairs=args.pairs,
                              repeat=args.repeat, dtype=args.dtype,
                              with_torch=torch is not None, threads=args.threads,
                              clock=args.clock, progress=progress)
    except ValueError as exc:              # a shape a cell cannot take: before measuring
        p.error(f"--shapes: {exc}")
    except RuntimeError as exc:            # a worker failed (out of memory, ...) midway
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    print("\r" + " " * 60 + "\r", end="")
    footer = f"{time.perf_counter() - start:.0f} s; load average {_load():.1f} at the end"
    return _write(args, rows, header, footer)


def _files(args) -> tuple:
    """The files this command line writes in --out."""
    if args.scan is not None:
        return ("scan.md", "scan.json")
    if args.backend == "cupy":
        return ("bench_gpu.md", "bench_gpu.json")
    return ("bench_scaling.png",) if args.scaling else ("bench.md", "bench.json", "bench.png")


def _save(args, write, saved=None) -> int:
    """Call ``write()``, which writes a finished measurement's files; return the exit
    status. --out passed the check before measuring, but a disk can fill up or a folder
    go away meanwhile: then the table (already printed) and ``saved`` (kept in a
    temporary file) are not lost to a traceback, and the status is 1. So too if merging
    with an earlier file fails in a way its check before measuring did not foresee."""
    try:
        write()
        return 0
    except (OSError, TypeError, ValueError, KeyError) as e:
        kept = _keep(saved) if saved is not None else None
        print(f"error: could not write {', '.join(_files(args))} in {args.out}: {e}; the "
              f"measurement is the table above" + (f", and its rows are in {kept}"
                                                   if kept else ""), file=sys.stderr)
        return 1


def _keep(saved):
    """``saved`` as JSON in a new temporary file (its path), or None if that fails too
    (the table is printed either way)."""
    try:
        fd, path = tempfile.mkstemp(prefix="rnnzoo-bench-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(saved, f, indent=1)
        return path
    except (OSError, TypeError, ValueError):
        return None


def _write_md_and_json(folder, stem, command, header, footer, table, rows) -> Path:
    """``<stem>.md`` (the command, header, table, footer) and ``<stem>.json`` (the rows,
    which ``--from-json`` can render again) in ``folder``; returns the folder."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps({"header": header, "footer": footer,
                                                  "rows": rows}, indent=1))
    (out / f"{stem}.md").write_text(f"`{command}`: {header}\n\n{table}\n\n{footer}\n")
    return out


def _write(args, rows, header, footer):
    """Print the summary and the full table; write bench.md, bench.json and bench.png."""
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    summary = "\n\n".join(f"{MODE_NAMES[m]}:\n\n{summary_table(rows, m)}" for m in modes)
    table = f"{summary}\n\nEvery measurement:\n\n{markdown_table(rows)}"
    print(table + "\n\n" + footer)
    if args.no_files:
        return 0

    def write():
        out = _write_md_and_json(args.out, "bench", "python -m rnnzoo bench", header, footer,
                                 table, rows)
        bar_chart(rows, out / "bench.png", caption=f"python -m rnnzoo bench: {header}; "
                  f"{footer}. Bars: medians over the pairs, whiskers: min and max.")
        print(f"wrote {out / 'bench.md'}, bench.json and bench.png")
    return _save(args, write, {"header": header, "footer": footer, "rows": rows})


def _scaling(args, cells):
    from ..benchmark.scaling import H_GRID, T_GRID, cost_vs_H, cost_vs_T, scaling_figure
    load = _load()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads)
    how = (f"{args.dtype}, forward + backward, {args.clock} time, best of 3 in one process, "
           f"{blas_threads() if args.threads is None else args.threads} BLAS thread(s)")
    print(f"cost against T (B=16, H=D=64) and against H (T=50, B=16): {how}; "
          f"load average {load:.1f}", flush=True)
    by_T = cost_vs_T(cells, dtype=args.dtype, clock=args.clock)
    # --cells names the cells of both parts; without it, against H times H_CELLS (the
    # structured cells whose cost in H is the point, and lstm's O(H^2) beside them)
    by_H = cost_vs_H(None if args.cells is None else cells, dtype=args.dtype,
                     clock=args.clock)
    for label, grid, data in (("T", T_GRID, by_T), ("H", H_GRID, by_H)):
        print(f"{'ms at ' + label:<14}" + "".join(f"{v:>9}" for v in grid))
        for name, secs in data.items():
            print(f"{name:<14}" + "".join(f"{1e3 * s:>9.3g}" for s in secs))
    if args.no_files:
        return 0

    def write():
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        scaling_figure(out / "bench_scaling.png", by_T, by_H, caption="python -m rnnzoo "
                       f"bench --scaling: {how}, load average {load:.1f}")
        print(f"wrote {out / 'bench_scaling.png'}")
    return _save(args, write, {"how": how, "by_T": by_T, "by_H": by_H})


def _gpu(args, cells, parser):
    from ..benchmark.gpu import (GPU_SHAPES, device_name, gpu_benchmark, gpu_table,
                                 seconds_per_launch)
    from ..core.backend import cupy_available
    if not cupy_available():
        parser.error("--backend cupy: CuPy is not installed or finds no GPU")
    with_torch = False
    if not args.no_torch and torch_installed():
        import torch
        with_torch = torch.cuda.is_available()
    shapes = args.shapes if args.shapes != list(SHAPES) else list(GPU_SHAPES)
    header = (f"{device_name()}, {args.dtype}, median of {args.repeat} calls after a "
              f"warm-up, device synchronized around each; "
              + (f"torch {torch.__version__} (cuDNN {torch.backends.cudnn.version()}, "
                 "TF32 off)" if with_torch else "torch on the GPU not available")
              + f"; one small CuPy elementwise call from Python: "
                f"{1e6 * seconds_per_launch():.1f} us")
    print(header, flush=True)
    start = time.perf_counter()
    rows = gpu_benchmark(cells, shapes=shapes, modes=args.modes, repeat=args.repeat,
                         dtype=args.dtype, with_torch=with_torch)
    footer = f"{time.perf_counter() - start:.0f} s"
    table = gpu_table(rows)
    print(table + "\n\n" + footer)
    if args.no_files:
        return 0

    def write():
        out = _write_md_and_json(args.out, "bench_gpu", "python -m rnnzoo bench --backend "
                                 "cupy", header, footer, table, rows)
        print(f"wrote {out / 'bench_gpu.md'} and bench_gpu.json")
    return _save(args, write, {"header": header, "footer": footer, "rows": rows})


# the options that set what the standard benchmark times; --scan times its own tables
SCAN_REFUSES = ("cells", "shapes", "modes", "pairs", "threads", "clock", "dtype", "from_json",
                "backend", "scaling")
# the other commands instead of the standard benchmark, in the order main() picks them:
# {dest: (what it does, the options it would ignore)}. --no-torch is not refused: where
# nothing is compared with torch, what it asks for is already so
INSTEAD = {
    "backend": ("--backend cupy times on the GPU in one process (median of --repeat calls)",
                ("pairs", "threads", "clock", "scaling", "from_json")),
    "scaling": ("--scaling times the cells against T and H at its own sizes, best of 3 in "
                "one process", ("shapes", "modes", "pairs", "repeat", "from_json")),
    "from_json": ("--from-json measures nothing: it rewrites the table and chart of a saved "
                  "bench.json", ("cells", "shapes", "modes", "pairs", "repeat", "threads",
                                 "clock", "dtype")),
}


def _refuse_ignored(parser, argv, what, refuses):
    """A usage error naming every option in ``refuses`` typed in ``argv`` (at its default
    value or not): the command ``what`` describes would ignore it, not honour it."""
    ignored = ["--" + dest.replace("_", "-") for dest in typed_flags(parser, argv, refuses)]
    if ignored:
        parser.error(f"{what}; it does not take {', '.join(ignored)}")


def _scan(args, parser, argv):
    """--scan: measure the tables named (default: all), print each when done, and write
    them into scan.json and scan.md in --out beside the tables of earlier runs."""
    from ..benchmark.scan import measure_tables, report
    unknown = [t for t in args.scan if t not in SCAN_TABLES]
    if unknown:
        parser.error(f"--scan: unknown table(s) {unknown}; available: {', '.join(SCAN_TABLES)}")
    # its sizes, dtype, clock and threads are the tables' own: an option that would
    # change them is refused, not ignored
    _refuse_ignored(parser, argv, "--scan times its own cells and sizes, float32, with one "
                    "BLAS thread", SCAN_REFUSES)
    path = Path(args.out) / "scan.json"
    earlier = {}
    if not args.no_files:
        check_writable_folder(parser, "--out", args.out, _files(args))
        if path.exists():                # read before measuring: a bad file fails now
            try:
                earlier = json.loads(path.read_text())["tables"]
                if not isinstance(earlier, dict) or not all(isinstance(t, dict)
                                                            for t in earlier.values()):
                    # merged into after measuring: a list or a string would fail there
                    raise TypeError(f'"tables" must map each table to its numbers; got '
                                    f"{describe(earlier)}")
                report(earlier)
            except (OSError, ValueError, KeyError, TypeError) as e:
                parser.error(f"--out {args.out}: {path} is not a scan.json this command "
                             f"wrote ({type(e).__name__}: {e}); move it away or choose "
                             "another --out")
    tables = measure_tables(list(dict.fromkeys(args.scan)) or SCAN_TABLES, args.repeat)
    if args.no_files:
        return 0

    def write():
        both = {**earlier, **tables}       # in the report's order; another version's last
        merged = {**{n: both[n] for n in SCAN_TABLES if n in both}, **both}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"tables": merged}, indent=1) + "\n")
        path.with_suffix(".md").write_text(report(merged))
        print(f"wrote {path} and {path.with_suffix('.md')}")
    return _save(args, write, {"tables": tables})
