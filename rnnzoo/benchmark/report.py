"""The fair benchmark's outputs: a markdown table and a bar chart."""
from __future__ import annotations

import textwrap
from collections.abc import Mapping

from ..core.validation import ArgumentTypeError, check_choice, describe
from ..training.plotting import cell_style

MODE_NAMES = {"fb": "forward + backward", "f": "forward only"}


def _range(s, unit="x"):
    if s is None:
        return "-"
    return f"{s['median']:.2f}{unit} [{s['min']:.2f}–{s['max']:.2f}]"


ROW_KEYS = ("cell", "T", "B", "H", "mode", "rnnzoo_ms", "gemm_ms", "torch_ms", "ratio",
            "vs_gemm")


def check_rows(rows, where) -> list:
    """A list of fair_benchmark's rows (dicts holding at least :data:`ROW_KEYS`)."""
    if not isinstance(rows, (list, tuple)) or not all(isinstance(r, Mapping) for r in rows):
        raise ArgumentTypeError(f"{where}: rows must be a list of the dicts fair_benchmark "
                                f"returns; got {describe(rows)}")
    for k, r in enumerate(rows):
        missing = [key for key in ROW_KEYS if key not in r]
        if missing:
            raise ValueError(f"{where}: rows[{k}] must hold {', '.join(ROW_KEYS)} (a row of "
                             f"fair_benchmark); it lacks {', '.join(missing)}")
    return list(rows)


def markdown_table(rows) -> str:
    """One line per (shape, mode, cell): medians over the pairs, and each ratio's median
    [min–max] over the pairs."""
    rows = check_rows(rows, "markdown_table")
    lines = ["| cell | T/B/H | mode | rnnzoo ms | GEMMs-alone ms | cell / its GEMMs | "
             "torch ms | rnnzoo / torch |", "|---|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        torch_ms = "-" if r["torch_ms"] is None else f"{r['torch_ms']:.3g}"
        lines.append(f"| `{r['cell']}` | {r['T']}/{r['B']}/{r['H']} | {r['mode']} | "
                     f"{r['rnnzoo_ms']:.3g} | {r['gemm_ms']:.3g} | {_range(r['vs_gemm'])} | "
                     f"{torch_ms} | {_range(r['ratio'])} |")
    return "\n".join(lines)


def summary_table(rows, mode="fb") -> str:
    """One line per cell for one mode: cell / its GEMMs at each shape, then rnnzoo / torch
    at each shape where torch has the cell (medians over the pairs, [min–max])."""
    mode = check_choice(mode, "mode", MODE_NAMES, where="summary_table")
    rows = [r for r in check_rows(rows, "summary_table") if r["mode"] == mode]
    shapes = list(dict.fromkeys((r["T"], r["B"], r["H"]) for r in rows))
    names = list(dict.fromkeys(r["cell"] for r in rows))
    torch_shapes = [s for s in shapes if any(r["ratio"] and (r["T"], r["B"], r["H"]) == s
                                             for r in rows)]
    label = "/".join
    head = (["cell"] + [f"cell / GEMMs {label(map(str, s))}" for s in shapes]
            + [f"rnnzoo / torch {label(map(str, s))}" for s in torch_shapes])
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    at = {(r["cell"], r["T"], r["B"], r["H"]): r for r in rows}
    for name in names:
        cells = [_range(at[(name, *s)]["vs_gemm"]) if (name, *s) in at else "-" for s in shapes]
        cells += [_range(at[(name, *s)]["ratio"]) if (name, *s) in at else "-"
                  for s in torch_shapes]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _bars(ax, rows, key, title, cells):
    shapes = sorted({(r["T"], r["B"], r["H"]) for r in rows}, key=lambda s: (s[0], -s[2]))
    width = 0.8 / max(1, len(shapes))
    for k, shape in enumerate(shapes):
        for i, name in enumerate(cells):
            r = next((r for r in rows if (r["T"], r["B"], r["H"]) == shape
                      and r["cell"] == name and r[key] is not None), None)
            if r is None:
                continue
            s = r[key]
            x = i + (k - (len(shapes) - 1) / 2) * width
            ax.bar(x, s["median"], width, color=cell_style(name.split()[0]).get("color", "gray"),
                   alpha=1.0 - 0.25 * k, edgecolor="black", linewidth=0.4)
            ax.errorbar(x, s["median"], [[s["median"] - s["min"]], [s["max"] - s["median"]]],
                        color="black", capsize=2, linewidth=0.8)
    ax.axhline(1.0, color="gray", linestyle="--", linewidth=0.8)
    ax.set_xticks(range(len(cells)), cells, rotation=45, ha="right")
    ax.set_title(title + "\nbars left to right, T/B/H:\n" +
                 ", ".join(f"{T}/{B}/{H}" for T, B, H in shapes), fontsize=9)


def bar_chart(rows, path, caption=""):
    """Left: each cell's forward + backward time over its matrix products alone. Right:
    rnnzoo's time over torch's for the cells torch has, both modes. Bars are medians over
    the pairs, whiskers their min and max."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fb = [r for r in rows if r["mode"] == "fb"]
    cells = list(dict.fromkeys(r["cell"] for r in fb))
    with_torch = [r for r in rows if r["ratio"] is not None]
    fig, axes = plt.subplots(1, 2 if with_torch else 1, figsize=(13 if with_torch else 9, 4.8),
                             gridspec_kw={"width_ratios": [3, 1]} if with_torch else None,
                             squeeze=False)
    _bars(axes[0, 0], fb, "vs_gemm", "forward + backward time / the same products alone "
          "(1 = nothing but GEMMs)", cells)
    axes[0, 0].set_ylabel("ratio")
    if max((r["vs_gemm"]["max"] for r in fb), default=0) > 8:
        # a cell whose work is mostly not matrix products (s4d's FFTs) is 20x its GEMMs:
        # on a linear axis it flattens every other bar against 1
        axes[0, 0].set_yscale("log")
        axes[0, 0].set_ylabel("ratio (log scale)")
    if with_torch:
        tcells = list(dict.fromkeys(r["cell"] for r in with_torch))
        both = [dict(r, cell=f"{r['cell']} {r['mode']}") for r in with_torch]
        labels = [f"{c} {m}" for c in tcells for m in ("fb", "f")]
        _bars(axes[0, 1], both, "ratio", "rnnzoo / torch (below 1: rnnzoo faster)", labels)
    fig.text(0.01, 0.01, "\n".join(textwrap.wrap(caption, 200)), fontsize=7, va="bottom")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
