"""Figures of the baseline cells (rnn, IRNN, lstm, gru): where the gradient vanishes."""
from __future__ import annotations

from .core import figure, plot_gradient_norms, plot_jacobian_spectra, pyplot, save, variant

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
    plot_gradient_norms(ax, BASELINES, 1000 if full else 300, seed=seed)
    return save(fig, out_dir, "gradient_norm_over_time")


@figure("jacobian_singular_values")
def jacobian_figure(out_dir, full=False, seed=0):
    """Singular values of the step Jacobian ∂s_t/∂s_{t-1} along a random trajectory."""
    fig, ax = pyplot().subplots(figsize=(8, 4.8))
    T, last = (100, 50) if full else (40, 20)
    plot_jacobian_spectra(ax, BASELINES, T, last, seed=seed)
    return save(fig, out_dir, "jacobian_singular_values")
