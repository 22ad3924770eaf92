"""A character-level language model on the standard library's source (task ``charlm``,
offline): bits per character on held-out text against training steps, with the unigram
baseline. The default run is short (notebook 08's size); ``--full`` trains ten times
longer on longer sequences with a larger state."""
from __future__ import annotations

import numpy as np

from ...training.plotting import cell_style
from ...training.tasks.charlm import CharLM
from .. import experiments as ex
from .core import caption, check, check_robust, comparison, figure, measure, pyplot, save

CELLS = (("lstm", {"forget_bias": 1.0}, "lstm (forget bias 1)"), ("gru", {}, "gru"),
         ("rnn", {}, "rnn (tanh)"))


def charlm_setup(full=False):
    """(task options, budget): T = 32, H = 64, 150 steps by default; T = 64, H = 128,
    1500 steps with ``full``."""
    if full:
        return {"T": 64}, ex.Budget(steps=1500, batch_size=32, lr=5e-3, hidden=128,
                                    eval_every=100, eval_size=256)
    return {"T": 32}, ex.Budget(steps=150, batch_size=32, lr=1e-2, hidden=64,
                                eval_every=25, eval_size=64)


@figure("charlm")
def fig_charlm(out_dir, full=False, seed=0):
    options, budget = charlm_setup(full)
    variants = [ex.Variant(name, opts, label=label) for name, opts, label in CELLS]
    res = comparison(variants, "charlm", options, budget, full=full, seed=seed)
    baseline_bits = float(CharLM.bits(res.baseline))
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.8))
    for (name, _, label) in CELLS:
        runs = res.histories[label]
        steps = np.asarray(runs[0].eval_steps)
        bits = np.array([CharLM.bits(h.eval_loss) for h in runs])       # (seeds, evals)
        style = cell_style(name)
        ax.plot(steps, np.median(bits, axis=0), label=f"{label} (median of {len(runs)})",
                color=style.get("color"))
        ax.fill_between(steps, bits.min(axis=0), bits.max(axis=0), alpha=0.2,
                        color=style.get("color"))
    ax.axhline(baseline_bits, color="black", linestyle="--", linewidth=1,
               label=f"unigram baseline ({baseline_bits:.2f} bits)")
    ax.set_xlabel("training step")
    ax.set_ylabel("bits per character (held-out text)")
    ax.set_title("Next-character prediction on the Python standard library's source")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=9)
    caption(fig, res.caption())
    baseline_claims(res, check, check_robust)
    return save(fig, out_dir, "charlm")


def baseline_claims(res, claim, robust_claim):
    """The figure's claims on the comparison ``res``, with the figures' ``check`` and
    ``check_robust`` (or the harness's ``claim`` and ``robust_claim``): below the unigram
    baseline, and not below half of it, the bar the comparison summary's "left baseline"
    column uses (made for the memory tasks). Notebook 08 makes the second on its own runs
    and reads this one's ``--robust`` re-run (4x the steps, seeds 10-12)."""
    finals = {label: CharLM.bits(res.final(label, "loss")) for label in res.labels}
    baseline_bits = float(CharLM.bits(res.baseline))
    claim("every cell, in every seed, ends below the unigram baseline in bits per character",
          all(bool(np.all(v < baseline_bits)) for v in finals.values()),
          baseline_bits=round(baseline_bits, 3),
          worst={k: round(float(v.max()), 3) for k, v in finals.items()})
    robust_claim("within this budget no seed of any cell gets its loss below half the unigram "
                 "baseline's", res,
                 lambda r: all(r.below_half_baseline(label) == 0 for label in r.labels),
                 labels=res.labels, numbers=lambda r: {
                     f"{label}: final loss over the baseline": r.final(label) / r.baseline
                     for label in r.labels})
    measure("median final bits per character",
            **{k.split(" ")[0]: round(float(np.median(v)), 3) for k, v in finals.items()})
