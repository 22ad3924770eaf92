"""Learning curves from :class:`rnnzoo.training.History` objects, against each task's
trivial baseline (drawn dashed: a curve that never goes below it learned nothing) and its
success threshold (what *solved* means: :class:`rnnzoo.tasks.Success`)."""
from __future__ import annotations

import numpy as np

from ..core.validation import ArgumentTypeError, check_bool, check_int, check_optional, describe
from .history import History
from .tasks import Success

# One colour per cell, the same in every figure and notebook of the project: a student
# who has learned that red is the vanilla RNN never has to read the legend again.
# Variants of one cell (options, initializations) keep its colour and change the line
# style instead.
CELL_COLORS = {
    "rnn": "tab:red", "lstm": "tab:blue", "gru": "tab:green", "mgu": "tab:olive",
    "janet": "tab:purple", "indrnn": "tab:orange", "resindrnn": "maroon",
    "orthogonal": "tab:brown",
    "urnn": "tab:pink", "eurnn": "tab:cyan", "skiprnn": "darkgoldenrod",
    "clockwork": "slategray", "qrnn": "teal", "deltarnn": "indigo",
    "fastweights": "black",
    "mingru": "mediumseagreen", "minlstm": "cornflowerblue",    # lighter gru and lstm
    "lru": "darkorchid", "s4d": "chocolate", "s6": "crimson",
    "slstm": "royalblue", "mlstm": "deepskyblue",                    # the xLSTM pair: lstm blues
    "deltanet": "darkslategray", "gated_deltanet": "olivedrab",
    "antisymmetric": "goldenrod", "lipschitz": "darkcyan", "cornn": "deeppink",
    "unicornn": "navy", "lmu": "forestgreen",
}


def check_axes(ax, where):
    """Refuse anything but one matplotlib Axes (an array of them from ``plt.subplots(1,
    2)``, or a Figure, would fail deep inside the plotting with no argument named)."""
    from matplotlib.axes import Axes
    if not isinstance(ax, Axes):
        hint = (" (an array of Axes: pass one of them, e.g. axes[0])"
                if isinstance(ax, np.ndarray) else "")
        raise ArgumentTypeError(f"{where}: ax must be None or a matplotlib Axes{hint}; got "
                                f"{describe(ax)}")


def cell_style(name) -> dict:
    """Line keywords for cell ``name`` (its project-wide colour); unknown names get {}."""
    color = CELL_COLORS.get(name)
    return {"color": color} if color else {}


def smooth(values, window):
    """Moving average over ``window`` entries (shorter at the start): (N,) -> (N,)."""
    window = check_int(window, "window", minimum=1, where="smooth")
    try:
        v = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        v = None
    if v is None or v.ndim != 1:
        raise ArgumentTypeError(f"smooth: values must be a 1-D sequence of numbers; got "
                                f"{describe(values)}")
    if window == 1 or v.size == 0:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    n = np.arange(1, v.size + 1)
    lo = np.maximum(n - window, 0)
    return (c[n] - c[lo]) / (n - lo)


def legend_outside(ax, fontsize=8):
    """The legend to the right of the axes, its top at theirs: inside, a legend hides
    whatever curve or band passes under it, and training curves go everywhere."""
    return ax.legend(fontsize=fontsize, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                     borderaxespad=0.0)


def draw_success(ax, success, kind):
    """On ``ax``, a plot of ``kind`` ("loss", "accuracy" or "success"): the levels of the
    task's criterion ``success`` (a :class:`Success`, its dict, or None: nothing drawn)
    that live on that axis; returns the lines drawn.

    The threshold is drawn where the plotted quantity is the criterion's metric: on a
    "success" plot always, on a loss or accuracy plot when the metric is that quantity
    (``success.same_as``; adding's MSE < 0.01 on its loss plot, the accuracy thresholds on
    accuracy plots). The level to leave goes with it on those axes, labelled with
    ``success.level`` ("memoryless", or what it is: digits' most frequent class), and on
    a loss plot that predictor's loss where it is not the task's baseline (associative
    retrieval's plateau). Where there is no loss equivalent (copy: the loss averages over
    every step) the loss plot gets none."""
    if success is None:
        return []
    s = success if isinstance(success, Success) else Success(**success)
    on_axis = kind == "success" or s.same_as == kind
    lines = []
    if on_axis:
        lines.append(ax.axhline(s.threshold, ls="-.", color="tab:green", lw=1.2,
                                label=f"solved: {s.describe()}"))
        if kind != "loss":         # on the loss axis that level is the baseline
            lines.append(ax.axhline(s.memoryless, ls=":", color="0.45", lw=1.2,
                                    label=f"{s.level} {s.memoryless:.3g}"))
    if kind == "loss" and s.memoryless_loss is not None:
        lines.append(ax.axhline(s.memoryless_loss, ls=":", color="0.45", lw=1.2,
                                label=f"{s.level} {s.memoryless_loss:.3g}"))
    return lines


def plot_history(histories, ax=None, kind="loss", train=True, log=None, title=None,
                 styles=None):
    """Draw one or more histories on ``ax`` (a new figure's axes if None); return ax.

    kind="loss": the evaluation loss (markers joined by a line) and, if ``train``, the
    training loss smoothed over ~2% of the run (thin, same colour), with each distinct
    task baseline as a dashed grey line. Log scale by default for losses.
    kind="accuracy": the evaluation accuracy.
    kind="success": the task's success metric at every evaluation (the accuracy or the
    loss on the tasks here: :attr:`History.eval_success`).
    kind="grad_norm": the global gradient norm before clipping, per step (log scale).
    Each distinct success criterion's threshold (and memoryless level) is drawn where it
    lives on the plotted axis (:func:`draw_success`).
    styles: optional {history label: matplotlib line keywords}, e.g. to keep one colour
    per cell across figures.
    """
    import matplotlib.pyplot as plt

    where = "plot_history"
    if not isinstance(histories, (list, tuple)):
        histories = [histories]
    for h in histories:
        if not isinstance(h, History):
            raise ArgumentTypeError(f"{where}: histories must be a History (what Trainer.run "
                                    f"returns) or a list of them; got {describe(h)}")
    if not histories:
        raise ValueError(f"{where}: histories must hold at least one History; got "
                         f"{describe(histories)}")
    train = check_bool(train, "train", where=where)
    log = check_optional(check_bool, log, "log", where=where)
    if styles is not None and not (isinstance(styles, dict) and
                                   all(isinstance(v, dict) for v in styles.values())):
        raise ArgumentTypeError(f"{where}: styles must be None or a dict {{history label: "
                                f"{{line keyword: value}}}}; got {describe(styles)}")
    if ax is not None:
        check_axes(ax, where)
    if kind not in ("loss", "accuracy", "success", "grad_norm"):
        raise ValueError(f"{where}: kind must be 'loss', 'accuracy', 'success' or "
                         f"'grad_norm'; got {kind!r}")
    if kind == "success" and any(h.success is None for h in histories):
        raise ValueError(f"kind='success': {[h.task for h in histories if h.success is None]} "
                         f"record(s) no success criterion; plot the loss instead")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    baselines = {}
    styles = styles or {}
    for h in histories:
        style = styles.get(h.label, {})
        if kind == "loss":
            line, = ax.plot(h.eval_steps, h.eval_loss, marker="o", ms=3,
                            label=f"{h.label} (eval)", **style)
            if train and h.train_loss:
                window = max(1, len(h.train_loss) // 50)
                ax.plot(h.steps, smooth(h.train_loss, window), lw=0.8, alpha=0.5,
                        color=line.get_color())
            baselines.setdefault((h.task, round(h.baseline, 12)), h)
        elif kind in ("accuracy", "success"):
            values = h.eval_accuracy if kind == "accuracy" else h.eval_success
            ax.plot(h.eval_steps, values, marker="o", ms=3, label=h.label, **style)
        else:
            ax.plot(h.steps, h.grad_norm, lw=0.8, label=h.label, **style)
    for (task, value), h in baselines.items():
        ax.axhline(value, ls="--", color="0.4", lw=1)
        ax.annotate(f"{task} baseline {value:.3g}", (0.01, value), xycoords=("axes fraction",
                    "data"), va="bottom", fontsize=8, color="0.3")
    if kind != "grad_norm":
        criteria = {repr(h.success): h.success for h in histories if h.success is not None}
        for success in criteria.values():
            draw_success(ax, success, kind)
    if log if log is not None else kind in ("loss", "grad_norm"):
        ax.set_yscale("log")
    ax.set_xlabel("training step")
    ylabel = {"loss": histories[0].metric if histories else "loss",
              "accuracy": "eval accuracy", "grad_norm": "gradient norm (before clipping)"}
    ax.set_ylabel(ylabel[kind] if kind != "success" else
                  f"eval {histories[0].success['metric']}" if histories else "")
    if title is not None:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return ax
