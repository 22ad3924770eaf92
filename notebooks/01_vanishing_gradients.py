# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
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
# That is a product of $T - t$ matrices. If their singular values are all below 1, the
# product shrinks geometrically (vanishing gradients). For it to grow (exploding
# gradients) some singular value must be above 1, but that is *necessary, not
# sufficient* (Pascanu, Mikolov & Bengio, 2013): the $\tanh'$ factors and the way
# consecutive Jacobians line up decide what actually happens. This notebook makes both
# visible with the cells of `rnnzoo`, whose backward passes are written by hand and
# checked against finite differences.

# %%
import sys, pathlib
try:
    import rnnzoo
except ImportError:                      # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(pathlib.Path.cwd().parent))
    import rnnzoo

import numpy as np
import matplotlib.pyplot as plt
from rnnzoo import experiments as ex
from rnnzoo.teaching import selfcheck    # the exercises' checks
from rnnzoo.core.diagnostics import gradient_norm_over_time, jacobian_singular_values

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
report = rnnzoo.gradcheck(cell, x)
report

# %% [markdown]
# **Which relative error?** CS231n's checker reports, per entry,
# $|a - n| / \max(|a| + |n|, 10^{-8})$ and takes the worst entry. That number is harsh on
# entries whose gradient is nearly zero: there the round-off of the central difference
# (its size here, the largest $|a - n|$, is printed below) is divided by almost nothing;
# the printed $|n|$ of the worst entry says whether this run has such an entry.
# `rnnzoo.gradcheck` passes an
# entry when $|a - n| \le \text{atol} + \text{floor} + \text{rtol}\,|n|$ (NumPy's
# `allclose`, plus the floor: the round-off of that central difference, the table's floor
# column) and reports, per tensor, the worst $|a - n|$ divided by the tensor's *largest*
# gradient entry: an error measured against the scale of that gradient. Here are both, for
# $W_{hh}$, computed by hand:

# %%
from rnnzoo.core.gradcheck import _Problem, _central_difference

problem = _Problem(cell, x, None, np.random.default_rng(0))
analytic = problem.analytic()[1]["W_hh"]
numeric = np.array([_central_difference(problem, cell.params["W_hh"], k, 1e-6)
                    for k in range(analytic.size)]).reshape(analytic.shape)
per_entry = np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-8)
print(f"CS231n per-entry worst: {per_entry.max():.1e} (at the entry with |n| = "
      f"{np.abs(numeric).flat[per_entry.argmax()]:.1e})")
print(f"rnnzoo's scale-relative: {np.abs(analytic - numeric).max() / np.abs(numeric).max():.1e}"
      f"  (largest |a - n|: {np.abs(analytic - numeric).max():.1e})")

# %% [markdown]
# ### Exercise A: write the step yourself
#
# The cell's optimized code hoists work out of the time loop, which makes it fast but
# not the clearest thing to learn from. Here is the same step the way a textbook (or
# CS231n) writes it. Fill in the forward, $h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh}
# h_{t-1} + b_{hh})$, and its backward: from $\partial L/\partial h_t$ to the gradients
# of $x_t$, $h_{t-1}$ and every parameter. Shapes: x (B, D), h (B, H), `W_ih` (H, D),
# `W_hh` (H, H), `b_ih` and `b_hh` (H,).
#
# The check below compares your step with rnnzoo's `rnn` cell on fixed inputs (first
# shapes, then values, forward and backward) and then runs `rnnzoo.gradcheck` through a
# 5-step sequence made of your two functions: a correct backward gives relative errors
# near $10^{-9}$.

# %%
def rnn_step_forward(x, h_prev, params):
    """One tanh RNN step. Returns (h, cache); cache holds what the backward needs."""
    ### BEGIN SOLUTION
    a = x @ params["W_ih"].T + params["b_ih"] + h_prev @ params["W_hh"].T + params["b_hh"]
    h = np.tanh(a)                                   # h_t = tanh(a_t)
    return h, (x, h_prev, h, params)
    ### END SOLUTION


def rnn_step_backward(dh, cache):
    """dL/dh_t (B, H) -> (dx (B, D), dh_prev (B, H), grads dict like params)."""
    ### BEGIN SOLUTION
    x, h_prev, h, params = cache
    da = dh * (1 - h ** 2)                           # through h_t = tanh(a_t)
    grads = {"W_ih": da.T @ x,                       # through W_ih x_t
             "W_hh": da.T @ h_prev,                  # through W_hh h_{t-1}
             "b_ih": da.sum(axis=0), "b_hh": da.sum(axis=0)}
    return da @ params["W_ih"], da @ params["W_hh"], grads
    ### END SOLUTION


selfcheck.check_step("rnn", rnn_step_forward, rnn_step_backward)
### BEGIN HIDDEN TESTS
# other sizes, a batch of one and another seed (no shape may be hard-coded)
selfcheck.check_step("rnn", rnn_step_forward, rnn_step_backward, input_size=1, hidden_size=3,
                     batch=1, seed=7, verbose=False);
### END HIDDEN TESTS

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
sigma_W = np.linalg.norm(W_hh, 2)
print(f"largest singular value of W_hh: {sigma_W:.3f}")
print("largest singular value of the product after 10, 30, 59 steps back:",
      [f"{largest[i]:.1e}" for i in (9, 29, 58)])
print(f"the bound sigma_max(W_hh)^59 would allow: {sigma_W ** 59:.1e}")

# %% [markdown]
# The product shrinks by many orders of magnitude, far faster than the bound
# $\sigma_{\max}(W_{hh})^{k}$ printed above: the $\tanh'$ factors are all at most 1, and
# consecutive Jacobians do not line up, so the largest singular value of the product is
# far below the product of the largest singular values.
#
# The cell's backward pass computes exactly this product applied to the upstream
# gradient, which is how `rnnzoo` measures it for any cell: put the loss on the last step
# only and read $\|\partial L/\partial h_t\|$ at every step (`grads.dh_norm`). Check it:
# push one upstream gradient $g$ through the hand-built Jacobians and compare with the
# backward pass.
#
#
# ### Exercise B: the gradient-norm experiment by hand
#
# Write `carried_gradient_norms(W_hh, hs, g)`: given one sequence's hidden states
# `hs` (T, H) of a tanh RNN and the upstream gradient `g` (H,) on the last step only,
# return the array (T,) of $\|\partial L/\partial h_t\|$ for $t = 0, \dots, T-1$,
# walking back with $v \leftarrow v\, \mathrm{diag}(1 - h_k^2)\, W_{hh}$. Use only
# NumPy (no `cell.backward`); the check compares your curve with the backward pass's
# `grads.dh_norm` on a fresh sequence.

# %%
def carried_gradient_norms(W_hh, hs, g):
    """||dL/dh_t|| for t = 0..T-1 of a tanh RNN with the loss on the last step only."""
    ### BEGIN SOLUTION
    norms = [np.linalg.norm(g)]
    v = g
    for k in range(len(hs) - 1, 0, -1):         # v <- v J_k: one step further back
        v = v @ ((1 - hs[k] ** 2)[:, None] * W_hh)
        norms.append(np.linalg.norm(v))
    return np.array(norms[::-1])                # index t = 0 .. T-1, like dh_norm
    ### END SOLUTION


_cell = rnnzoo.make("rnn", input_size=2, hidden_size=6, seed=5)
_x = np.random.default_rng(5).standard_normal((12, 1, 2))
_hs, _, _cache = _cell.forward(_x)
_dhs = np.zeros_like(_hs)
_dhs[-1, 0] = np.linspace(-1, 1, 6)
_expected = _cell.backward(_dhs, _cache)[2].dh_norm
_got = selfcheck.attempt(carried_gradient_norms, _cell.params["W_hh"], _hs[:, 0], _dhs[-1, 0])
selfcheck.check_close(_got, _expected, "carried_gradient_norms(W_hh, hs, g)", rtol=1e-10,
                      hint="entry T-1 is ||g||; each step back multiplies by one Jacobian")
print("PASS: your curve equals the backward pass's ||dL/dh_t|| at every step")

# %%
g = np.random.default_rng(2).standard_normal(H)
g /= np.linalg.norm(g)                          # dL/dh_{T-1}, norm 1
dhs = np.zeros_like(hs)
dhs[-1, 0] = g
_, _, grads = cell.backward(dhs, cell.forward(x)[2])
by_hand = selfcheck.attempt(carried_gradient_norms, W_hh, hs[:, 0], g)
ex.claim("the backward pass's ||dL/dh_t|| equals the hand-built Jacobian product at "
         "every step (to 1e-10 relative)",
         np.allclose(grads.dh_norm, by_hand, rtol=1e-10, atol=0),
         worst_relative_difference=np.max(np.abs(grads.dh_norm - by_hand) / by_hand))
print("||dL/dh_t|| at t = T-1, T-11, T-31:", grads.dh_norm[[-1, -11, -31]])

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
from rnnzoo.teaching.figures import BASELINES, plot_gradient_norms, plot_jacobian_spectra
from rnnzoo.teaching.figures.core import kept_fraction

for label, name, options, _ in BASELINES:          # (label, cell name, options, line style)
    print(f"{label:34s} make({name!r}, ..., **{options})")

fig, ax = plt.subplots(figsize=(8, 4.5))
plot_jacobian_spectra(ax, BASELINES, T=40, last=20)
plt.show()

# %% [markdown]
# ## 4. Gradient norm over 300 steps
#
# Now the whole product. For each cell we run 300 steps of random input, put the loss
# on the last step, and plot $\|\partial L/\partial h_t\|$ on a log scale. A straight
# line falling to the left is geometric decay: the gradient from the loss reaches the
# early steps only as a vanishingly small signal.
#
# *Exercise C (written):* before running the cell, predict which curves stay flat, and
# why. Write your answer here:
#
# ### BEGIN SOLUTION
# *Answer key:* the IRNN (on active units its step Jacobian is the identity) and the LSTM
# with forget bias 3 (the cell state is carried by $\mathrm{diag}(f_t)$ with $f_t
# \approx 0.95$) stay nearly flat; the tanh RNN, the LSTM with forget bias 0 (PyTorch's
# init) and the GRU fall geometrically, because their multipliers ($\tanh'$ times
# $W_{hh}$, gates near 0.5) are well below 1.
# ### END SOLUTION

# %%
fig, ax = plt.subplots(figsize=(8, 4.5))
plotted = plot_gradient_norms(ax, BASELINES, T=300)     # one seed drawn: seed 0
plt.show()

# what is left after 299 steps back, ||dL/dh_1|| / ||dL/dh_300||, on three seeds (the
# cells' weights, the input and the upstream gradient all drawn from each)
seeds = [0, 1, 2]
decay = kept_fraction(BASELINES, 300, seeds, computed={0: plotted})
for label, values in decay.items():
    print(f"{label:34s} seeds {seeds}: " + ", ".join(f"{v:.1e}" for v in values))
ex.claim("at initialization, on each of seeds 0-2, the tanh RNN, the GRU and the LSTM with "
         "forget bias 0 keep less than 1e-10 of the gradient over 300 steps, while the IRNN "
         "and the LSTM with forget bias 3 keep more than 1e-2",
         max(max(decay[k]) for k in ("rnn (tanh)", "gru", "lstm (forget bias 0)")) < 1e-10
         and min(min(decay[k]) for k in ("rnn (relu, identity init: IRNN)",
                                         "lstm, forget bias 3")) > 1e-2,
         kept_after_300_steps={k: [f"{v:.1e}" for v in vs] for k, vs in decay.items()});

# %% [markdown]
# **What this shows.** The tanh RNN's gradient decays geometrically: after 300 steps
# back the fractions printed above are left (one per seed; the plot draws seed 0). Gates alone do not fix it at initialization:
# the LSTM with forget bias 0 (PyTorch's init; rnnzoo's default is 1) and the GRU decay
# too, because their gates start near 0.5. What gating buys is a path whose multiplier
# is a *gate* the network can learn to hold near 1: start the forget gate there (bias 3)
# and the gradient along $c$ survives all 300 steps, as it does for the IRNN's identity
# recurrence.
#
# Careful with the conclusion, though. This is the gradient **at initialization**. The
# gates of a GRU or LSTM are learned, and as they learn to hold a memory the Jacobian
# along that path changes: notebook 02 shows a GRU whose gradient vanishes here learning
# a 50-step dependency anyway, and plots the gradient before and after training. A
# vanishing gradient at initialization slows learning; it forbids it only when nothing
# can change the multiplier.
#
# ## 5. Exploding gradients
#
# The other side of the product: a singular value above 1 *can* make the gradient grow.
# Scale the tanh RNN's recurrent matrix to spectral radius $\rho$ (the `spectral_radius`
# option) and look again, with small inputs (tanh nearly linear) and with large ones
# (tanh saturated, $\tanh' \approx 0$):

# %%
T = 100
for rho, scale in [(0.5, 0.1), (1.5, 0.1), (3.0, 0.1), (1.5, 10.0)]:
    c = rnnzoo.make("rnn", 2, 64, seed=0, spectral_radius=rho)
    x = scale * np.random.default_rng(0).standard_normal((T, 8, 2))
    n = gradient_norm_over_time(c, x=x)
    print(f"radius {rho:3.1f}, inputs x{scale:3.1f}: ||dL/dh_1|| / ||dL/dh_T|| = {n[0] / n[-1]:.1e}")
    decay[(rho, scale)] = n[0] / n[-1]
ex.claim("with small inputs, radius 1.5 makes the gradient grow over 100 steps, but the "
         "same radius with saturating inputs makes it vanish: a radius above 1 is not "
         "sufficient", decay[(1.5, 0.1)] > 1 and decay[(1.5, 10.0)] < 1e-3,
         small_inputs=decay[(1.5, 0.1)], large_inputs=decay[(1.5, 10.0)]);

# %% [markdown]
# An exploding gradient breaks training by its *size*: one step of plain SGD moves the
# weights by the learning rate times the gradient, and a gradient of $10^{6}$ throws
# them anywhere. **Gradient clipping** (Pascanu et al., 2013) rescales the whole gradient
# to a maximum norm when it is larger and leaves its direction alone:
# `rnnzoo.optim.clip_grad_norm(grads, 1.0)`. Here is a tanh RNN started at spectral radius
# 2, trained by SGD (learning rate 0.1) on a short adding problem, with and without it,
# three seeds each. (Adam divides each parameter's step by a running gradient scale, which
# hides most of an explosion: that is why the plain SGD here.) Clipping is about
# surviving, not learning: whether the clipped runs also learn the task within these 800
# steps is printed after the claim, and it is a different question.

# %%
radius_2 = {"spectral_radius": 2.0}
clipping = ex.compare(
    [ex.Variant("rnn", radius_2, label="no clipping", budget={"clip": None},
                style={"color": "0.45"}),
     ex.Variant("rnn", radius_2, label="clip at norm 1")],
    task="adding", task_options={"T": 10},
    budget=ex.Budget(steps=800, optimizer="sgd", lr=0.1, hidden=64), seeds=3)
print(clipping.summary())
ex.claim("without clipping every seed goes non-finite; with clipping none does",
         all(d is not None for d in clipping.diverged["no clipping"])
         and all(d is None for d in clipping.diverged["clip at norm 1"]),
         diverged_at=clipping.diverged["no clipping"],
         clipped_final=clipping.final("clip at norm 1"))
print(f"clipped runs: final MSE {np.round(clipping.final('clip at norm 1'), 4).tolist()} "
      f"against the baseline {clipping.baseline:.4f}; below half the baseline in "
      f"{clipping.below_half_baseline('clip at norm 1')} of 3 seeds within 800 steps")

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.3))
for rho, scale in [(0.5, 0.1), (1.5, 0.1), (3.0, 0.1), (1.5, 10.0)]:
    c = rnnzoo.make("rnn", 2, 64, seed=0, spectral_radius=rho)
    x = scale * np.random.default_rng(0).standard_normal((T, 8, 2))
    axes[0].semilogy(gradient_norm_over_time(c, x=x), ls="--" if scale > 1 else "-",
                     label=f"radius {rho}, inputs x{scale}")
axes[0].set_xlabel("time step t (loss at t = T)")
axes[0].set_ylabel(r"$\|\partial L/\partial h_t\|$")
axes[0].set_title("radius > 1: not sufficient")
axes[0].legend(fontsize=8)
clipping.plot(axes[1], title="tanh rnn, radius 2, SGD 0.1: x marks a run going non-finite")
fig.tight_layout()
fig.text(0.01, -0.02, clipping.caption(), fontsize=7.5, va="top")
plt.show()

# %% [markdown]
# ## Exercises
#
# Each exercise has a self-check you can run; the answer key is kept in the
# instructor's version.
#
# 1. **Predict the slope.** For the linear recurrence $h_t = W h_{t-1}$ with $W = \rho Q$
#    ($Q$ orthogonal), $\|\partial L/\partial h_t\| = \rho^{T-1-t}\|\partial L/\partial
#    h_{T-1}\|$ exactly. Write `predicted_norms(rho, T)`, the array (T,) of these
#    factors for an upstream gradient of norm 1. The check measures them on an IRNN with
#    `identity_scale` $\rho$ whose units are all active (relu, positive inputs and
#    weights), where the step Jacobian is exactly $\rho I$.

# %%
def predicted_norms(rho, T):
    """||dL/dh_t|| for t = 0..T-1 of h_t = rho Q h_{t-1}, upstream norm 1 at t = T-1."""
    ### BEGIN SOLUTION
    return rho ** np.arange(T - 1, -1, -1, dtype=float)
    ### END SOLUTION


_irnn = rnnzoo.make("rnn", 2, 16, seed=0, nonlinearity="relu", identity_init=True,
                    identity_scale=0.9)
_irnn.params["W_ih"] = np.abs(_irnn.params["W_ih"]) + 0.1   # every unit active
_measured = gradient_norm_over_time(_irnn, x=np.ones((50, 1, 2)))
selfcheck.check_close(selfcheck.attempt(predicted_norms, 0.9, 50), _measured,
                      "predicted_norms(0.9, 50)", rtol=1e-8,
                      hint="the last entry (t = T-1) is 1; each step back multiplies by rho")
print("PASS: your prediction matches the measured gradient norms at every step")
### BEGIN HIDDEN TESTS
assert np.allclose(predicted_norms(0.5, 4), [0.125, 0.25, 0.5, 1.0])
assert predicted_norms(1.0, 3).shape == (3,)
### END HIDDEN TESTS

# %% [markdown]
# 2. **Count the parameters.** Write `rnn_num_params(D, H)`, the number of parameters of
#    `rnnzoo.make("rnn", D, H)` (both biases count), as a formula in D and H.

# %%
def rnn_num_params(D, H):
    """Parameters of a vanilla RNN with input size D and hidden size H."""
    ### BEGIN SOLUTION
    return H * D + H * H + 2 * H
    ### END SOLUTION


for _D, _H in [(1, 1), (3, 5), (10, 7)]:
    selfcheck.check_close(selfcheck.attempt(rnn_num_params, _D, _H),
                          rnnzoo.make("rnn", _D, _H).num_params(),
                          f"rnn_num_params({_D}, {_H})", hint="W_ih is (H, D), W_hh (H, H), "
                          "and there are two bias vectors")
print("PASS: your formula counts the parameters of rnnzoo's rnn")
### BEGIN HIDDEN TESTS
assert rnn_num_params(2, 3) == 21
### END HIDDEN TESTS

# %% [markdown]
# 3. **Break the backward, watch the checker.** In your `rnn_step_backward` above,
#    multiply `da` by 1.01 before the weight gradients and rerun its check. Which check
#    fails first, and why would a scale error of 1% be invisible in a loss curve but not
#    here? Write your answer below.
#
# ### BEGIN SOLUTION
# *Answer key:* the fixed-input comparison fails first; its message names the first
# gradient it finds off (for the tanh RNN, `grads['W_ih']`), with a relative error of
# about 1e-2; were it skipped, `gradcheck`
# would fail every tensor with relative errors near $10^{-2}$, seven orders of magnitude
# above the $10^{-9}$ of a correct backward. A loss curve only shows that the loss goes
# down, and a gradient off by 1% still points downhill.
# ### END SOLUTION
#
# 4. **Clip less.** Rerun the clipping comparison with `clip` 10 and 100 in the budget.
#    Does any seed go non-finite, and what happens to the final MSE as the threshold
#    grows? *Check:* `result.diverged[label]` lists the step at which each seed went
#    non-finite (None: it did not), and `result.final(label)` the final MSE per seed.
#
# ### BEGIN SOLUTION
# *Answer key:* measured, not predicted: run
# `ex.compare([ex.Variant("rnn", radius_2, label=f"clip {c}", budget={"clip": c}) for c in
# (10, 100)], task="adding", task_options={"T": 10}, budget=ex.Budget(steps=800,
# optimizer="sgd", lr=0.1, hidden=64), seeds=3)` and read `diverged` and `final`. A run
# can stay finite and still be thrown far from any solution: a larger threshold lets
# larger steps through, and the final MSE shows it where `diverged` may not. Full marks
# for the measurement and for reading both.
# ### END SOLUTION
