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
# # 01 · Why gradients vanish in a vanilla RNN
#
# A recurrent network applies the same step over and over:
#
# $$h_t = \tanh(W_{ih} x_t + b + W_{hh} h_{t-1}).$$
#
# To learn from a loss at the last step $T$, the gradient must travel back to every
# earlier step. By the chain rule,
#
# $$\frac{\partial L}{\partial h_t} = \frac{\partial L}{\partial h_T}
#   \prod_{k=t+1}^{T} \frac{\partial h_k}{\partial h_{k-1}},
#   \qquad \frac{\partial h_k}{\partial h_{k-1}} = \mathrm{diag}\big(1 - h_k^2\big)\, W_{hh}.$$
#
# That is a product of $T - t$ matrices. If their singular values are below 1, the
# product shrinks geometrically (vanishing gradients); above 1, it grows (exploding
# gradients). This notebook makes both visible with the cells of `rnnzoo`, whose
# backward passes are written by hand and checked against finite differences.

# %%
import sys, pathlib
try:
    import rnnzoo
except ImportError:                      # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(pathlib.Path.cwd().parent))
    import rnnzoo

import numpy as np
import matplotlib.pyplot as plt
from rnnzoo.diagnostics import gradient_norm_over_time, jacobian_singular_values

print("registered cells:", rnnzoo.available())

# %% [markdown]
# ## 1. First, trust the backward pass
#
# Everything below reads gradients from the cells' own `backward`. Before we believe a
# plot made from them, we check them: `rnnzoo.gradcheck` perturbs every parameter, every
# input entry and every initial-state entry by $\pm\varepsilon$ and compares the central
# difference $(L(\theta+\varepsilon) - L(\theta-\varepsilon))/2\varepsilon$ with the
# hand-written gradient, in float64. A correct backward gives relative errors around
# $10^{-9}$; a wrong one gives errors of order 1.

# %%
cell = rnnzoo.make("rnn", input_size=3, hidden_size=5, seed=0)
x = np.random.default_rng(0).standard_normal((8, 2, 3))      # (T, B, input_size)
rnnzoo.gradcheck(cell, x)

# %% [markdown]
# ## 2. The Jacobian product, by hand
#
# Take a tanh RNN with a random recurrent matrix and follow one sequence. At each step
# we form the step Jacobian $J_k = \mathrm{diag}(1-h_k^2) W_{hh}$ ourselves and multiply
# it into the running product. Its largest singular value bounds how much of the
# gradient can survive from step $T$ back to step $t$.

# %%
T, H = 60, 32
cell = rnnzoo.make("rnn", input_size=4, hidden_size=H, seed=1)
x = np.random.default_rng(1).standard_normal((T, 1, 4))
hs, _, _ = cell.forward(x)
W_hh = cell.params["W_hh"]

product = np.eye(H)
largest = []
for k in range(T - 1, 0, -1):              # walk back from the last step
    J_k = (1 - hs[k, 0] ** 2)[:, None] * W_hh
    product = product @ J_k
    largest.append(np.linalg.norm(product, 2))
print("largest singular value of W_hh:", np.linalg.norm(W_hh, 2).round(3))
print("after 10, 30, 59 steps back:", [f"{largest[i]:.1e}" for i in (9, 29, 58)])

# %% [markdown]
# The product shrinks by orders of magnitude, although $\|W_{hh}\|_2$ is about 1 here:
# the $\tanh'$ factors are all at most 1, and consecutive Jacobians do not line up, so
# the largest singular value of the product is far below the product of the largest
# singular values.
#
# The same numbers come out of the cell's backward pass, which is how `rnnzoo` measures
# them for any cell: put the loss on the last step only and read $\|\partial L/\partial
# h_t\|$ at every step (`grads.dh_norm`).

# %%
norms = gradient_norm_over_time(cell, x=x)
print("||dL/dh_t|| at t = T-1, T-11, T-31:", norms[[-1, -11, -31]].round(12))

# %% [markdown]
# ## 3. The spectrum of one step
#
# Which cells keep the gradient alive? Look at the singular values of the step Jacobian
# $\partial s_t / \partial s_{t-1}$ ($s$ is the whole state: $h$, or $(h, c)$ for an
# LSTM), computed exactly from each cell's backward along a random trajectory.
#
# * **rnn (tanh)** with PyTorch's uniform init: most singular values well below 1.
# * **IRNN** (Le et al. 2015): relu units and $W_{hh} = I$; on active units the step is
#   the identity, so the singular values sit at exactly 1.
# * **LSTM**: the cell state $c$ is carried by $\mathrm{diag}(f_t)$. With PyTorch's init
#   $f_t \approx \sigma(0) = 0.5$, so half the spectrum sits near 0.5. With the forget
#   gate's bias started at 3 ($f \approx 0.95$) that half moves up to about 1.

# %%
from rnnzoo.figures import BASELINES, plot_gradient_norms, plot_jacobian_spectra

for label, name, options, _ in BASELINES:          # (label, cell name, options, line style)
    print(f"{label:34s} make({name!r}, ..., **{options})")

fig, ax = plt.subplots(figsize=(8, 4.5))
plot_jacobian_spectra(ax, BASELINES, T=40, last=20)

# %% [markdown]
# ## 4. Gradient norm over 300 steps
#
# Now the whole product. For each cell we run 300 steps of random input, put the loss
# on the last step, and plot $\|\partial L/\partial h_t\|$ on a log scale. A straight
# line falling to the left is geometric decay: the gradient from the loss never reaches
# the early steps, so nothing there can be learned.
#
# *Exercise:* before running the cell, predict which curves stay flat.

# %%
fig, ax = plt.subplots(figsize=(8, 4.5))
plot_gradient_norms(ax, BASELINES, T=300)

# %% [markdown]
# **What this shows.** The tanh RNN loses about one order of magnitude every few steps:
# after 300 steps nothing is left. Gates alone do not fix it at initialization: the
# default LSTM and GRU decay too, because their gates start near 0.5. What gating buys is
# a path whose multiplier is a *gate* the network can learn to hold near 1 — start the
# forget gate there (bias 3) and the gradient along $c$ survives all 300 steps, as it
# does for the IRNN's identity recurrence. Notebook 02 trains these cells on tasks that
# need a 100-step memory and shows which of them can learn it.
