"""UnICORNN's two backward memories: the round-off of walking the states back, and the
memory each keeps (the measurements of figures/dynamics_unicornn_memory.png, printed as
tables, with T up to 10,000).

    PYTHONPATH=$PWD python scripts/unicornn_memory.py [--out figures/speed/unicornn_memory.md]

With ``--out`` the tables are also written to that file (README's UnICORNN row quotes the
committed one, figures/speed/unicornn_memory.md, for T = 10,000, which the figure does
not run).

1. Reconstruction error vs T in float32: the worst relative error, over hs and every
   gradient (dx, dy_0, dz_0, dV, db, dw, dc), of a float32 cell against the float64
   cell with memory="store" on the same parameters and data (B = 16, D = H = 128,
   default options, a loss on every step), for memory="reconstruct" and, as the floor
   every float32 run has, memory="store"; and the two float32 modes against each other
   (what walking back adds).
2. Memory (tracemalloc; NumPy reports its arrays to it), float32, T = 1000: the bytes
   the cache keeps between forward and backward, and the peak over forward + backward.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

from rnnzoo.teaching.figures.dynamics_memory import unicornn_memory, unicornn_reconstruction


HEADER = ("# UnICORNN's backward memories\n\nWritten by `PYTHONPATH=$PWD python "
          "scripts/unicornn_memory.py --out figures/speed/unicornn_memory.md`; do not edit. "
          "Worst relative error over hs and every gradient against the float64 cell with "
          "memory=\"store\" (B = 16, D = H = 128, a loss on every step); memory by "
          "tracemalloc.\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=None,
                        help="also write the tables to this markdown file")
    args = parser.parse_args(argv)
    if args.out is not None and not args.out.parent.is_dir():      # before measuring
        parser.error(f"--out {args.out}: its folder {args.out.parent} does not exist")
    lines = ["| T | reconstruct, float32 | store, float32 | reconstruct vs store, both "
             "float32 | float64, reconstruct vs store |", "|---|---|---|---|---|"]
    print("\n".join(lines))
    for T in (100, 1000, 10000):
        e = unicornn_reconstruction((T,))[T]
        lines.append(f"| {T} | {e['reconstruct f32']:.1e} | {e['store f32']:.1e} | "
                     f"{e['f32 reconstruct vs store']:.1e} | {e['float64']:.1e} |")
        print(lines[-1], flush=True)
    memory, one = unicornn_memory(T=1000)
    lines += ["", f"float32, T = 1000, B = 16, D = H = 128; one (T, B, H) array is "
              f"{one:.2f} MiB", ""]
    lines += [f"- {mode}: cache {kept:.2f} MiB (besides hs), peak forward + backward "
              f"{peak:.2f} MiB" for mode, (kept, peak) in memory.items()]
    print("\n".join(lines[-len(memory) - 2:]))
    if args.out is not None:
        args.out.write_text(HEADER + "\n" + "\n".join(lines) + "\n")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
