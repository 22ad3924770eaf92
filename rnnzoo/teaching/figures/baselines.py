"""Figures of the baseline cells (rnn, IRNN, lstm, gru): where the gradient vanishes."""
from __future__ import annotations

import numpy as np

from .core import (check, figure, jacobian_spectra, kept_fraction, plot_gradient_norms,
                   plot_jacobian_spectra, pyplot, save, variant)

# The variants drawn in the first figures: (label, registry name, options, line style).
BASELINES = [
    variant("rnn (tanh)", "rnn"),
    variant("rnn (relu, identity init: IRNN)", "rnn",
            {"nonlinearity": "relu", "identity_init": True}, linestyle="--"),
    variant("gru", "gru"),
    variant("lstm (forget bias 0)", "lstm", {"forget_bias": 0.0}),    # PyTorch's init
    variant("lstm, forget bias 3", "lstm", {"forget_bias": 3.0}, linestyle="--"),
]


@figure("gradient_norm_over_time")
def gradient_norm_figure(out_dir, full=False, seed=0):
    """||dL/dh_t|| against t, loss on the last step only, for the baseline cells."""
    fig, ax = pyplot().subplots(figsize=(8, 4.8))
    T = 1000 if full else 300
    norms = plot_gradient_norms(ax, BASELINES, T, seed=seed)
    # at initialization there is no budget; "every seed" is checked on a second seed too
    kept = kept_fraction(BASELINES, T, [seed, seed + 10], computed={seed: norms})
    gone = {k: kept[k] for k in ("rnn (tanh)", "gru", "lstm (forget bias 0)")}
    check(f"the tanh rnn, the gru and the lstm (forget bias 0) pass less than 1e-40 of the "
          f"gradient at the loss back to step 1 of {T}, on seeds {seed} and {seed + 10}",
          max(max(v) for v in gone.values()) < 1e-40, **gone)
    held = {k: kept[k] for k in ("rnn (relu, identity init: IRNN)", "lstm, forget bias 3")}
    check(f"the IRNN and the lstm with forget bias 3 pass more than 10% of it back to step 1, "
          f"on seeds {seed} and {seed + 10}", min(min(v) for v in held.values()) > 0.1, **held)
    return save(fig, out_dir, "gradient_norm_over_time")


@figure("jacobian_singular_values")
def jacobian_figure(out_dir, full=False, seed=0):
    """Singular values of the step Jacobian ∂s_t/∂s_{t-1} along a random trajectory."""
    fig, ax = pyplot().subplots(figsize=(8, 4.8))
    T, last = (100, 50) if full else (40, 20)
    plot_jacobian_spectra(ax, BASELINES, T, last, seed=seed)
    spectra = [jacobian_spectra(BASELINES, T, last, seed=s) for s in (seed, seed + 10)]
    seeds = f"on seeds {seed} and {seed + 10}"
    irnn, lstm3 = "rnn (relu, identity init: IRNN)", "lstm, forget bias 3"
    irnn_near_1 = [float(np.mean(sp[irnn] > 0.9)) for sp in spectra]
    check(f"the IRNN's median singular value is 1 (to 1e-3) and at least 70% of them are above "
          f"0.9, {seeds}", all(abs(np.median(sp[irnn]) - 1) < 1e-3 for sp in spectra)
          and min(irnn_near_1) >= 0.7, fraction_above_0_9=irnn_near_1)
    largest = {k: [float(sp[k].max()) for sp in spectra] for k in ("gru", "lstm (forget bias 0)")}
    check(f"every singular value of the gru's and the lstm's (forget bias 0) step Jacobian is "
          f"below 0.9: every direction shrinks at every step, {seeds}",
          max(max(v) for v in largest.values()) < 0.9, **largest)
    cell_half = [float(np.mean(sp[lstm3] > 0.9)) for sp in spectra]
    check(f"with forget bias 3, at least 45% of the lstm's singular values (its state is h and "
          f"c, half each) are above 0.9, {seeds}", min(cell_half) >= 0.45,
          fraction_above_0_9=cell_half)
    return save(fig, out_dir, "jacobian_singular_values")
