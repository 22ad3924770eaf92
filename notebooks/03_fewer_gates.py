# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Fewer gates: MGU and JANET against GRU and LSTM
#
# The LSTM has three gates and the GRU two. How many does a recurrent cell need to hold
# a memory? Two papers answer "one":
#
# * **MGU**, the Minimal Gated Unit (Zhou, Wu, Zhang & Zhou, 2016), merges the GRU's
#   reset and update gates into one forget gate $f_t$.
# * **JANET** (van der Westhuizen & Lasenby, 2018, "The unreasonable effectiveness of
#   the forget gate") keeps only the LSTM's forget gate, ties the input gate to it, drops
#   the output gate, and starts the forget gate with the *chrono initialization*.
#
# This notebook puts the four cells side by side: equations, parameter counts, speed,
# the gradient they carry back in time at initialization, and what they learn.

# %%
import sys, pathlib
try:
    import rnnzoo
except ImportError:                      # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(pathlib.Path.cwd().parent))
    import rnnzoo

import numpy as np
import matplotlib.pyplot as plt
from IPython.display import Image, display

FIGURES = pathlib.Path(rnnzoo.__file__).resolve().parents[1] / "figures"

# %% [markdown]
# ## 1. The equations, side by side
#
# | | two gates / one gate | state update |
# |---|---|---|
# | **GRU** | $r_t = \sigma(W_{ir}x_t + W_{hr}h_{t-1} + b_r)$, $z_t = \sigma(W_{iz}x_t + W_{hz}h_{t-1} + b_z)$ | $n_t = \tanh(W_{in}x_t + r_t \odot (W_{hn}h_{t-1} + b_{hn}) + b_{in})$, $h_t = (1-z_t)\odot n_t + z_t \odot h_{t-1}$ |
# | **MGU** | $f_t = \sigma(W_f x_t + U_f h_{t-1} + b_f)$ | $\tilde h_t = \tanh(W_h x_t + U_h (f_t \odot h_{t-1}) + b_h)$, $h_t = (1-f_t)\odot h_{t-1} + f_t \odot \tilde h_t$ |
# | **LSTM** | $i_t, f_t, o_t = \sigma(\cdot)$, $g_t = \tanh(\cdot)$, each of $W x_t + W' h_{t-1} + b$ | $c_t = f_t \odot c_{t-1} + i_t \odot g_t$, $h_t = o_t \odot \tanh(c_t)$ |
# | **JANET** | $s_t = U_f h_{t-1} + W_f x_t + b_f$ | $c_t = \sigma(s_t)\odot c_{t-1} + (1 - \sigma(s_t - \beta)) \odot \tanh(U_c h_{t-1} + W_c x_t + b_c)$, $h_t = c_t$ |
#
# In MGU the single gate does both of the GRU's jobs: it decides how much of the old
# state the candidate sees (the GRU's $r$) and how much of the old state to keep (the
# GRU's $z$, with $f = 1 - z$). In JANET the amount written, $1 - \sigma(s_t - \beta)$, is
# tied to the amount forgotten; $\beta = 1$ lets in slightly more than is forgotten.
# Each cell's file in `rnnzoo/cells/` carries these equations with the same symbols.

# %% [markdown]
# ## 2. Parameters
#
# With input size $D$ and hidden size $H$, each gate or candidate costs one
# $H \times D$ input matrix, one $H \times H$ recurrent matrix and a bias:
#
# | cell | blocks | parameters |
# |---|---|---|
# | LSTM | 4 | $4H(D + H) + 8H$ (PyTorch's two bias vectors) |
# | GRU | 3 | $3H(D + H) + 6H$ |
# | MGU | 2 | $2H(D + H) + 2H$ |
# | JANET | 2 | $2H(D + H) + 2H$ |
#
# The cells themselves count them; the formula and the count must agree.

# %%
formulas = {"lstm": lambda D, H: 4 * H * (D + H) + 8 * H,
            "gru": lambda D, H: 3 * H * (D + H) + 6 * H,
            "mgu": lambda D, H: 2 * H * (D + H) + 2 * H,
            "janet": lambda D, H: 2 * H * (D + H) + 2 * H}
print(f"{'cell':6s} {'D=1, H=64':>10s} {'D=H=256':>10s}   formula agrees")
for name, formula in formulas.items():
    counts = [rnnzoo.make(name, D, H).num_params() for D, H in [(1, 64), (256, 256)]]
    agree = all(c == formula(D, H) for c, (D, H) in zip(counts, [(1, 64), (256, 256)]))
    print(f"{name:6s} {counts[0]:10d} {counts[1]:10d}   {agree}")

# %% [markdown]
# ## 3. Speed
#
# Fewer blocks means fewer and smaller matrix products, which dominate the time: in
# them, one forward and backward pass costs (blocks / 4) of the LSTM's. The benchmark
# script (`python -m rnnzoo.benchmark`, default T = 100, B = 64, D = H = 256) measures
# this; here it runs at a smaller size so the notebook stays quick. Times are the best
# of a few runs, in float32.

# %%
from rnnzoo.benchmark import benchmark

rows = benchmark(cells=["lstm", "gru", "mgu", "janet"], T=50, B=32, D=128, H=128,
                 repeat=3, compare_torch=False)
lstm_ms = next(r["rnnzoo_ms"] for r in rows if r["cell"] == "lstm")
for r in rows:
    print(f"{r['cell']:6s} {r['rnnzoo_ms']:7.1f} ms   {r['rnnzoo_ms'] / lstm_ms:4.2f} x LSTM")

# %% [markdown]
# The matrix products shrink with the number of blocks (4 : 3 : 2 : 2), but each step
# also pays for elementwise work and Python overhead that do not shrink as much, so at
# this small size MGU and JANET save less than half. At the benchmark's default size
# (D = H = 256) the products dominate and they take about 0.55-0.6 of the LSTM's time.

# %% [markdown]
# ## 4. The gradient each cell carries back, at initialization
#
# As in notebook 01: the loss sits on the last of 300 steps and we plot
# $\|\partial L / \partial h_t\|$. GRU, MGU and the LSTM start with gates near 0.5 and
# the gradient decays geometrically. JANET's **chrono initialization** (Tallec &
# Ollivier, 2018) sets the forget bias $b_f = \log u$, $u \sim \mathcal U[1, T_{max}-1]$:
# the forget gate starts at $\sigma(b_f) = u/(1+u)$, so unit $k$ keeps its memory for
# about $1/(1-\sigma(b_f)) = 1 + u_k$ steps, spread between 2 and $T_{max}$. The dashed
# line is JANET with $b_f = 1$ instead ($f \approx 0.73$).

# %%
from rnnzoo.figures import GATED, plot_gradient_norms

variants = [(label, name, dict(opts, t_max=300) if label == "janet (chrono init)" else opts,
             style) for label, name, opts, style in GATED]
fig, ax = plt.subplots(figsize=(8, 4.5))
plot_gradient_norms(ax, variants, T=300)
ax.set_ylim(1e-30, 1e2);

# %% [markdown]
# Two things to see. Chrono init keeps the gradient near its starting size over all
# 300 steps (it even grows a little: JANET's state is not squashed by a tanh, and the
# recurrent matrix adds to the identity-like forget path). And with $b_f = 1$ JANET still
# does far better than the LSTM: its $h_t = c_t$ leaves no $\tanh$ and no output gate to
# shrink the gradient on its way from $h$ back into $c$.

# %% [markdown]
# ## 5. What they learn
#
# `python -m rnnzoo figures gated_learning_curves` trains each pair at the same hidden
# size (64) and budget (600 Adam steps) on the adding problem at $T = 100$ and on the
# scikit-learn digits read pixel by pixel ($T = 64$, ten classes). It takes a couple of
# minutes, so here we show the figure it wrote to `figures/`:

# %%
display(Image(filename=str(FIGURES / "gated_learning_curves.png")))

# %% [markdown]
# * **MGU vs GRU**: with a third fewer parameters, MGU leaves the adding problem's
#   baseline later than the GRU but gets there; on the digits the two are close.
# * **JANET vs LSTM**: at the same hidden size the LSTM stays on the baseline of the
#   adding problem for all 600 steps, while JANET, with half its parameters, solves it;
#   on the digits JANET ends ahead.
#
# ## 6. Run it yourself
#
# The same training code the figure used (`rnnzoo.figures.training_run`), on the pair
# with the largest gap: JANET and the LSTM on the adding problem at $T = 100$, for 400
# steps (about half a minute).

# %%
from rnnzoo.figures import training_run
from rnnzoo.plotting import plot_history

runs = [training_run("adding", "lstm", {}, T=100, steps=400, label="lstm"),
        training_run("adding", "janet", {"t_max": 100}, T=100, steps=400, label="janet")]
for h in runs:
    print(h.summary())
fig, ax = plt.subplots(figsize=(7, 4))
plot_history(runs, ax=ax, title="adding problem, T = 100, H = 64",
             styles={"lstm": dict(color="tab:blue"), "janet": dict(color="tab:purple")});

# %% [markdown]
# **When to use which.** MGU when a GRU works and you want a third fewer parameters and
# a third less time; JANET when the task needs memory over long spans (and for
# sequence-classification tasks like these): its chrono-initialized forget gate carries
# the gradient from the start, at half an LSTM's cost. *Exercise:* rerun the last cell
# with `{"chrono_init": False}` for JANET, and with `{"forget_bias": 3.0}` for the LSTM.
