"""How the cost grows: forward + backward time against T for every cell, and against H
for the cells whose claim is about it (uRNN's O(N log N) FFT step, EURNN's O(N·L)
rotations, Clockwork's active rows, QRNN's parallel part).

Measured in this one process, the sizes taking turns (:func:`.timing.best_times`): a
curve's shape is what counts here, not its level against another library.
"""
from __future__ import annotations

import textwrap

import numpy as np

from ..core.registry import available, make
from ..core.validation import check_int
from .timing import best_times, cell_runner, check_cells, check_dtype, check_grid, inputs

T_GRID = (25, 50, 100, 200, 400)
H_GRID = (32, 64, 128, 256, 512)
H_CELLS = ("urnn", "eurnn", "clockwork", "qrnn", "lstm")    # lstm: the O(H^2) reference
# the zoo's first fifteen cells; the figure draws the others (the recurrent revival) in a
# panel of their own, so that neither panel has thirty lines
FIRST_ZOO = ("rnn", "lstm", "gru", "mgu", "janet", "indrnn", "resindrnn", "orthogonal",
             "urnn", "eurnn", "skiprnn", "clockwork", "qrnn", "deltarnn", "fastweights")


def _runner(cell, T, B):
    x, dhs = inputs(T, B, cell.input_size, cell.output_size, cell.dtype)
    return cell_runner(cell, x, dhs)


def cost_vs_T(cells=None, T_grid=T_GRID, B=16, H=64, repeat=3, dtype="float32", clock="wall"):
    """{cell: [seconds at each T]} with D = H."""
    w = "cost_vs_T"
    cells = available() if cells is None else check_cells(cells, w)
    T_grid = check_grid(T_grid, "T_grid", w)
    B, H = check_int(B, "B", minimum=1, where=w), check_int(H, "H", minimum=1, where=w)
    dtype = check_dtype(dtype, w)
    out = {}
    for name in cells:
        cell = make(name, H, H, dtype=np.dtype(dtype))
        out[name] = best_times([_runner(cell, T, B) for T in T_grid], repeat, clock=clock)
    return out


def cost_vs_H(cells=None, H_grid=H_GRID, T=50, B=16, repeat=3, dtype="float32", clock="wall"):
    """{cell: [seconds at each H]} with D = H: ``cells``, or (None) the cells in
    ``H_CELLS`` registered."""
    w = "cost_vs_H"
    cells = ([c for c in H_CELLS if c in available()] if cells is None
             else check_cells(cells, w))
    H_grid = check_grid(H_grid, "H_grid", w)
    T, B = check_int(T, "T", minimum=1, where=w), check_int(B, "B", minimum=1, where=w)
    dtype = check_dtype(dtype, w)
    out = {}
    for name in cells:
        runs = [_runner(make(name, H, H, dtype=np.dtype(dtype)), T, B) for H in H_grid]
        out[name] = best_times(runs, repeat, clock=clock)
    return out


def scaling_figure(path, by_T, by_H, T_grid=T_GRID, H_grid=H_GRID, caption=""):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..training.plotting import cell_style
    groups = [(title, {n: s for n, s in by_T.items() if (n in FIRST_ZOO) == first})
              for title, first in (("the first fifteen cells", True),
                                   ("the recurrent revival", False))]
    groups = [(title, data) for title, data in groups if data]
    fig, axes = plt.subplots(1, len(groups) + 1, figsize=(6 * (len(groups) + 1), 5.2))
    slope_1 = 1e3 * min(s[0] for s in by_T.values()) * np.asarray(T_grid) / T_grid[0]
    for a, (title, data) in zip(axes, groups):
        for name, secs in data.items():
            a.plot(T_grid, 1e3 * np.asarray(secs), "o-", label=name, markersize=3,
                   **cell_style(name))
        a.plot(T_grid, slope_1, "k:", label="slope 1 (linear)")
        a.set(xscale="log", yscale="log", xlabel="T (steps; B = 16, H = D = 64)",
              ylabel="ms, forward + backward",
              title=f"cost against T, {title}\n(parallel to the dotted line = linear)")
        a.set_xticks(T_grid, [str(v) for v in T_grid])
        a.minorticks_off()
        a.legend(fontsize=7, ncol=2)
    b = axes[-1]
    for name, secs in by_H.items():
        b.plot(H_grid, 1e3 * np.asarray(secs), "o-", label=name, **cell_style(name))
    H = np.asarray(H_grid, dtype=float)
    ref = 1e3 * min(s[0] for s in by_H.values())
    b.plot(H, ref * H / H[0], "k:", label="slope 1 (N)")
    b.plot(H, ref * (H / H[0]) ** 2, "k--", label="slope 2 (N²)")
    b.set(xscale="log", yscale="log", xlabel="H (= D)", ylabel="ms, forward + backward",
          title="cost against H = D (T = 50, B = 16)")
    b.set_xticks(H_grid, [str(v) for v in H_grid])
    b.minorticks_off()
    b.legend(fontsize=7)
    fig.text(0.01, 0.01, "\n".join(textwrap.wrap(caption, 200)), fontsize=7, va="bottom")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
