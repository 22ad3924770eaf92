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
# # 04 · Long memory by structure: IndRNN and the orthogonal RNN
#
# Notebooks 01-03 met the vanishing gradient and the gates that fight it. Gates *learn*
# to keep a memory; the two cells here keep the gradient alive **by construction**:
#
# * **IndRNN** (Li, Li, Cook, Zhu & Gao, CVPR 2018) gives each neuron a single recurrent
#   weight: $h_t = \sigma(W x_t + u \odot h_{t-1} + b)$, with $u$ a vector. A neuron's
#   gradient back through $k$ steps is then a *scalar*, $u_n^k$ times the $\sigma'$ along
#   the way, and bounding $|u_n|$ bounds it.
# * **The orthogonal RNN** keeps its recurrent matrix exactly orthogonal,
#   $h_t = \varphi(W h_{t-1} + V x_t + b)$ (with modReLU, section 2, $b$ is instead the
#   nonlinearity's own magnitude bias) with $W^\top W = I$, by computing $W$ from a
#   skew-symmetric $A$: $W = e^{A}$ (expRNN, Lezcano-Casado & Martínez-Rubio, ICML 2019)
#   or $W = (I + A)^{-1}(I - A)D$ (scoRNN, Helfrich, Willmott & Ye, ICML 2018). An
#   orthogonal matrix preserves norms, so the gradient cannot vanish or explode through
#   it.
#
# We check both ideas exactly, look at the gradient they carry at initialization, and
# train them against an LSTM on the adding problem and the copy task. Every comparison
# runs 3 seeds through `rnnzoo.experiments`, and each claim is a check that fails this
# notebook if the data stops supporting it.

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
from rnnzoo.teaching.figures import structural
from rnnzoo.teaching.figures.claims_file import recorded_robustness, reruns_held

# %% [markdown]
# ## 1. IndRNN: each neuron's gradient is a power of its own weight
#
# Write $a_t = W x_t + u \odot h_{t-1} + b$ and $h_t = \sigma(a_t)$. The step Jacobian
# $\partial h_t / \partial h_{t-1} = \mathrm{diag}(\sigma'(a_t) \odot u)$ is *diagonal*:
# neurons do not mix inside a layer. So for neuron $n$
#
# $$\frac{\partial h_{T,n}}{\partial h_{0,n}} = u_n^{T} \prod_{t=1}^{T} \sigma'(a_{t,n}),$$
#
# and with ReLU, on a path where the neuron stays active, that is exactly $u_n^T$. We
# check it: all pre-activations positive (a bias of 1 and small inputs), a loss on the
# last step only, and compare $\partial L / \partial h_0$ with $u^T \odot \partial L /
# \partial h_T$.

# %%
T, H = 50, 6
cell = rnnzoo.make("indrnn", 2, H, seed=0)
cell.params["b"][...] = 1.0                     # every unit active on this input
rng = np.random.default_rng(0)
hs, _, cache = cell.forward(0.1 * rng.random((T, 1, 2)), (np.ones((1, H)),))
dhs = np.zeros_like(hs)
dhs[-1] = rng.standard_normal((1, H))
_, (dh0,), _ = cell.backward(dhs, cache)
predicted = dhs[-1] * cell.params["u"] ** T
print("u       :", np.round(cell.params["u"], 3))
print("u^T     :", cell.params["u"] ** T)
# relative to each neuron's own u^T: the six printed above span many orders of magnitude,
# so an error measured against the largest would leave the smallest unchecked
rel = np.max(np.abs(dh0 - predicted) / np.abs(predicted))
ex.claim("dL/dh_0 = u^T * dL/dh_T, neuron by neuron (each to 1e-12 of its own value)", rel < 1e-12,
         all_active=bool((cache.h > 0).all()), relative_error=rel);

# %% [markdown]
# With $u \sim \mathcal U(0, 1)$ (`u_init="uniform"`, the default of the authors' plain
# PyTorch cell; their networks draw hidden layers from the barely wider
# $\mathcal U(0, 2^{1/T})$) most neurons
# forget within a few dozen steps: $0.9^{50} \approx 0.005$. A neuron keeps its gradient
# over $T$ steps only if $u_n^T$ is neither tiny nor huge. Asking
# $|u_n|^T \le \text{MAG}$ gives the bound
#
# $$|u_n| \le \text{MAG}^{1/T},$$
#
# e.g. $2^{1/100} \approx 1.007$: a neuron may grow by at most a factor MAG over the
# training length $T$. The authors start the layer that feeds the readout with
# $u \sim \mathcal U(\text{MAG}^{-1/T}, \text{MAG}^{1/T})$ (`u_init="bounded"`), so every
# neuron can keep a value for the whole sequence from the first step.
#
# The bound is a **projection after each optimizer step**, never part of forward or
# backward (the gradient stays the true gradient of the loss): the cell's `constrain()`
# clips $u$ in place, and `rnnzoo.optim.apply_constraints(model)` (called by
# `rnnzoo.train` and the comparison harness after every step) runs it.

# %%
from rnnzoo.optim import SGD, apply_constraints

cell = rnnzoo.make("indrnn", 2, 4, seed=0, t_max=100, mag=2.0)
opt = SGD(cell.params, lr=1.0)
opt.step({"W": np.zeros((4, 2)), "u": np.array([-5.0, 0.0, 0.0, 5.0]), "b": np.zeros(4)})
print("after the SGD step:", cell.params["u"])
u, inside = cell.params["u"], cell.params["u"][1:3].copy()     # the two within the bound
apply_constraints(cell)
print("after constrain() :", cell.params["u"])
ex.claim("constrain() projects u onto |u| <= MAG^(1/T) = 2^(1/100), in place: the two "
         "outside land on the bound, the two inside stay as they were, in the same array",
         np.abs(cell.params["u"][[0, 3]]).max() == 2.0 ** (1 / 100)
         and np.abs(cell.params["u"]).max() == 2.0 ** (1 / 100)
         and np.array_equal(cell.params["u"][1:3], inside) and cell.params["u"] is u,
         bound=2.0 ** (1 / 100), u=cell.params["u"]);

# %% [markdown]
# ## 2. The orthogonal RNN: a matrix that cannot shrink a gradient
#
# If $W^\top W = I$ then $\|W^\top g\| = \|g\|$ for every vector $g$. With
# $\varphi$ = identity, backpropagation through time multiplies the gradient by $W^\top$
# at every step, so $\|\partial L / \partial h_t\|$ is *exactly* the same at every
# step, however long the sequence.
#
# How to keep $W$ orthogonal while gradient descent changes it? Train an unconstrained
# matrix and map it onto the orthogonal group. Take $S$ (only its strictly upper
# triangle is used) and the skew-symmetric $A = S - S^\top$ ($A^\top = -A$). Then
#
# * `parametrization="exp"`: $W = e^{A}$, orthogonal because
#   $(e^{A})^\top e^{A} = e^{-A} e^{A} = I$. Backward needs the derivative of the matrix
#   exponential: $\partial L / \partial A = L_{\exp}(A^\top, \partial L / \partial W)$,
#   the Fréchet derivative. `rnnzoo/cells/expm.py` gets both from one eigendecomposition
#   ($iA$ is Hermitian, so $A = U \mathrm{diag}(-i\lambda) U^H$ with $U$ unitary and
#   $e^A = U \mathrm{diag}(e^{-i\lambda}) U^H$), the same code on NumPy and CuPy.
# * `parametrization="cayley"`: $W = (I + A)^{-1}(I - A) D$ with $D$ a fixed diagonal of
#   $\pm 1$, orthogonal because $(I - A)$ and $(I + A)^{-1}$ commute and
#   $(I - A)^\top = I + A$.
#
# The nonlinearity is modReLU, $\varphi(z) = \mathrm{sign}(z)\,\mathrm{ReLU}(|z| + b)$: it
# keeps each unit's sign and only moves its magnitude (by $b$, or to 0 where
# $|z| + b < 0$). `cell.recurrent_matrix()` returns $W$ as a NumPy array.

# %%
for p in ("exp", "cayley"):
    cell = rnnzoo.make("orthogonal", 3, 32, seed=0, parametrization=p)
    cell.params["S"][...] = np.triu(rng.standard_normal((32, 32)), 1)   # a generic A
    W = cell.recurrent_matrix()
    err = np.abs(W.T @ W - np.eye(32)).max()
    ex.claim(f"{p}: W^T W = I to round-off", err < 1e-13, max_abs_error=err)

# %% [markdown]
# With $\varphi$ = identity, 1,000 steps and the loss on the last one, the gradient norm
# reaching every step must equal the one we started with.

# %%
cell = rnnzoo.make("orthogonal", 3, 32, seed=0, nonlinearity="identity")
hs, _, cache = cell.forward(rng.standard_normal((1000, 4, 3)))
dhs = np.zeros_like(hs)
dhs[-1] = rng.standard_normal((4, 32))
_, _, grads = cell.backward(dhs, cache)
drift = np.abs(grads.dh_norm / grads.dh_norm[-1] - 1).max()
ex.claim("identity phi: ||dL/dh_t|| is the same at all 1,000 steps", drift < 1e-10,
         max_relative_change=drift);

# %% [markdown]
# ## 3. The gradient each cell carries back, at initialization
#
# The picture of notebook 01 with the new cells, over 1,000 steps (the loss at the last
# step, $H = 64$, random inputs). Left: log scale; right: the same on a linear scale,
# where only the survivors are visible.

# %%
T = 1000
fig, (ax, zoom) = plt.subplots(1, 2, figsize=(14, 4.5))
norms = structural.plot_gradient_panels(ax, zoom, T)   # {label: ||dL/dh_t|| for t = 1..T}
plt.show()

flat = norms["orthogonal exp, identity"]
ex.claim("orthogonal (identity): the gradient reaching step 1 equals the one at step T",
         abs(flat[0] / flat[-1] - 1) < 1e-10, ratio=flat[0] / flat[-1])
gone = {k: norms[k][0] for k in ("rnn (tanh)", "gru", "lstm (forget bias 1)")}
ex.claim("rnn, gru and lstm: below 1e-20 of it after 1,000 steps back",
         max(gone.values()) < 1e-20, **gone)
bounded = norms["indrnn, u ~ U(2^(-1/T), 2^(1/T))"][0]
ex.claim("orthogonal with modReLU keeps more than 90% of it",
         norms["orthogonal exp, modReLU"][0] > 0.9, remaining=norms["orthogonal exp, modReLU"][0])
ex.claim("indrnn with the bounded init keeps more than 10% of it", bounded > 0.1,
         remaining=bounded);

# %% [markdown]
# The orthogonal RNN with modReLU stays close to flat; IndRNN with the bounded init
# loses part of its gradient (a ReLU that switches off zeroes a neuron's path, and
# half the $u_n$ are below 1) but nothing like the geometric collapse of the others.

# %% [markdown]
# ## 4. The adding problem: the IndRNN gets there first
#
# Two random numbers in a sequence of length $T$ are marked; the target is their sum.
# Predicting the mean, 1, costs MSE $1/6 \approx 0.167$ (the baseline). The IndRNN
# authors report the LSTM struggling at $T = 500$ and failing at $T = 1000$ while IndRNN
# solves $T = 5000$, with a long training budget. Here the budget is 400 Adam steps at
# $T = 100$. The IndRNN follows the authors' adding network: two layers, $|u|$ bounded by
# $2^{1/T}$, the top layer started in $[2^{-1/T}, 2^{1/T}]$ (the `resindrnn` cell
# with `depth=2, residual=False`, section 6). It differs in two initializations: the
# lower layer's $u$ from $\mathcal U(0, 1)$ (theirs $\mathcal U(0, 2^{1/T})$) and the
# input weights from $\mathcal N(0, 1/(2\,\text{fan\_in}))$, their deep nets' init (their
# adding script uses std 0.001); the `resindrnn` docstring has the details. Both have $H = 32$, so the cells differ in
# parameter count (printed under the table: the LSTM, forget bias 1, has four gates' worth
# of recurrent matrices; the IndRNN's recurrence is a vector). The orthogonal RNN of section 5 runs alongside:
# each cell also meets the other's task. The exact budget and options are printed under
# each figure.
#
# Two yardsticks. *Below half the baseline* (MSE under 0.083) says a run has left the
# mean-predictor, but a model that remembers only one of the two marked numbers scores
# about that too. *Solved* is the task's own criterion, MSE below 0.01
# (`adding.success`): both are printed. And a claim that a cell does not get there is a
# claim about the budget: the figure command re-runs those cells at 4x the steps on new
# seeds (`python -m rnnzoo figures structural_learning_curves --robust`), and the last
# cell of this section reads what that run recorded.

# %%
adding = structural.run(structural.adding_experiment())
print(adding.summary())
print("parameters:", {lb: adding.models(lb, trained=False)[0].num_params() for lb in adding.labels})
print("solved:", adding.success.describe(), {lb: adding.solved(lb) for lb in adding.labels})
structural.adding_claims(adding, ex.claim, ex.robust_claim)

# %% [markdown]
# In 400 steps the IndRNN gets below half the baseline before the LSTM and the orthogonal
# RNN, in every seed (the steps are printed above). *Before* is the word: here is what
# the figure's robustness run found with four times the steps, on seeds 10-12 (per seed:
# the step at which it got below half the baseline, the step at which it met MSE < 0.01,
# and the final MSE).

# %%
recorded = recorded_robustness("structural_learning_curves")   # figures/claims.json
for statement, entry in recorded.items():
    if statement.startswith("adding"):
        print(statement, "\n   ", entry["budget_factor"], "x the steps, seeds", entry["seeds"],
              "-> passed:", entry["passed"])
        for label, numbers in entry["numbers"].items():
            print("   ", label, {k: v for k, v in numbers.items()
                                 if k in ("below_half_baseline_at", "final MSE", "solved_at")})
ex.claim("the recorded 4x re-runs of section 4's claims exist and passed",
         reruns_held([e for s, e in recorded.items() if s.startswith("adding")], [4, 4]));

# %% [markdown]
# Read the final MSEs of the re-run: the LSTM is slower here, not unable. Given the
# steps, it meets the task's own criterion in every seed, and its median final MSE ends
# below the IndRNN's (the final MSEs per seed are printed below):

# %%
rerun = next(e["numbers"] for s, e in recorded.items() if s.startswith("adding")
             and "lstm" in s)
lstm_final, indrnn_final = rerun["lstm"]["final MSE"], rerun["indrnn (2 layers)"]["final MSE"]
ex.claim("at 4x the steps the lstm meets MSE < 0.01 in every seed, and its median final MSE "
         "is below the indrnn's",
         all(step is not None for step in rerun["lstm"]["solved_at"])
         and np.median(lstm_final) < np.median(indrnn_final),
         lstm_solved_at=rerun["lstm"]["solved_at"], lstm_final=lstm_final,
         indrnn_final=indrnn_final);
ind = rerun["indrnn (2 layers)"]
back_up = [left is not None and final > adding.baseline / 2
           for left, final in zip(ind["below_half_baseline_at"], ind["final MSE"])]
print("indrnn seeds that got below half the baseline and ended above it again:",
      sum(back_up), "of", len(back_up))

# %% [markdown]
# And read the IndRNN's own numbers: getting there first is not staying there, nor
# solving. Compare the seeds that met the task's criterion at 400 steps (the "solved" line
# above) with those that left the baseline, and the count just printed: in the re-run a
# seed that left the baseline early can end above half of it again.

# %% [markdown]
# ## 5. The copy task: where the orthogonal RNN goes below the baseline
#
# Ten symbols from 8 categories, then $T - 1$ blanks, a delimiter, and the model must
# repeat the ten symbols (Arjovsky, Shah & Bengio's definition). Outputting blanks and
# then guessing costs $10 \ln 8 / (T + 20)$ per step: the memoryless baseline. The
# orthogonal RNN's recurrent parameter $S$ trains at a tenth of the learning rate, as
# both papers do (`lr_for={"cell0.S": lr / 10}`). $T = 50$, $H = 64$, 300 steps. (The
# papers go to $T = 1000$ with tens of thousands of steps: `python -m rnnzoo figures
# structural_learning_curves --full` runs $T = 1000$ for 4,000 steps; we have not run it
# for this notebook.) The two-layer IndRNN of section 4 runs alongside.

# %%
copy = structural.run(structural.copy_experiment())
print(copy.summary())
print("solved:", copy.success.describe(), {lb: copy.solved(lb) for lb in copy.labels})
structural.copy_claims(copy, ex.claim, ex.robust_claim)

# %% [markdown]
# The two negative claims above are checked at four times the steps on seeds 10-12 by
# the figure's robustness run; what it recorded:

# %%
for statement, entry in recorded.items():
    if statement.startswith("copy"):
        print(statement, "->", entry["budget_factor"], "x the steps, seeds", entry["seeds"],
              "passed:", entry["passed"])
ex.claim("the recorded 4x re-runs of section 5's negative claims exist and passed",
         reruns_held([e for s, e in recorded.items() if s.startswith("copy")], [4, 4]));

# %% [markdown]
# So the two structures are not mirror images. On copy the orthogonal RNN gets below half
# the baseline and, within these budgets, neither the LSTM nor the IndRNN does. On adding
# the IndRNN gets below half the baseline before the LSTM and the orthogonal RNN, in the
# first seeds and in the 4x re-run on seeds 10-12. One plausible reading, which these runs
# do not test: an IndRNN neuron with $u_n \approx 1$ is an accumulator (what adding
# needs), so it has the shortest way to a running sum, while an orthogonal $W$ only
# rotates the state, which keeps every input (what copying needs) but must *learn* to hold
# a sum while ignoring the rest; an IndRNN's neurons mix only through the next layer's
# input weights, never across time within a layer, which copying ten ordered symbols
# needs.

# %% [markdown]
# ## 6. Deep IndRNN: plain and residual
#
# Because IndRNN neurons do not mix inside a layer, depth is where they interact, and
# the Deep IndRNN paper (Li et al., 2019) stacks many layers with residual shortcuts:
# blocks $s_k = s_{k-1} + F(s_{k-1})$ with $F$ twice (IndRNN recurrence + ReLU, then a
# linear map), the shortcut joining every two layers, as in the authors' code (whose
# residual nets have an odd number of layers; the 6 here leave the top one outside every
# block: the `resindrnn` docstring). The cell
# `resindrnn` builds the stack: `depth` layers, `residual=True/False`, and
# `norm="layer"` for a layer normalization before each recurrence (the paper uses batch
# normalization; layer norm needs no batch statistics). Here normalization is off (the
# default; exercise 5 turns it on). Both 6-layer stacks train on the adding problem at
# $T = 30$:

# %%
deep = structural.run(structural.deep_experiment())
print(deep.summary())
structural.deep_claims(deep, ex.claim)

# %% [markdown]
# ## 7. All three, with their budgets
#
# Median over the 3 seeds, band from the best to the worst seed; the dotted line is the
# memoryless baseline, and each panel's caption holds its budget and every option.

# %%
fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
structural.plot_comparisons(fig, axes, (adding, copy, deep), structural.TITLES)
plt.show()

# %% [markdown]
# ## Exercises
#
# Each exercise has a self-check you can run; the answer key is kept in the
# instructor's version.
#
# 1. **Derive the bound.** A ReLU neuron that stays active carries its gradient back
#    $T$ steps as $u^T$. Find the largest $|u|$ for which that factor is at most MAG, for
#    MAG = 2 and $T = 100$. *Check:* `rnnzoo.cells.indrnn.u_bound(rnnzoo.make("indrnn",
#    1, 1, t_max=100))` returns the same number, and section 1's code with
#    `cell.params["u"][...] = ` that number gives $u^T = 2$. Write `u_max(mag, T)`.

# %%
def u_max(mag, T):
    """The largest |u| with |u|^T <= mag."""
    ### BEGIN SOLUTION
    return mag ** (1.0 / T)
    ### END SOLUTION


from rnnzoo.cells.indrnn import u_bound
for _mag, _T in [(2.0, 100), (10.0, 1000), (1.5, 7)]:
    selfcheck.check_close(selfcheck.attempt(u_max, _mag, _T),
                          u_bound(rnnzoo.make("indrnn", 1, 1, t_max=_T, mag=_mag)),
                          f"u_max({_mag}, {_T})", rtol=1e-12,
                          hint="solve |u|^T = MAG for |u|")
print("PASS: your bound is the cell's")
### BEGIN HIDDEN TESTS
assert abs(u_max(2.0, 100) - 2 ** 0.01) < 1e-15
### END HIDDEN TESTS

# %% [markdown]
# 2. **Break orthogonality.** With $\varphi$ = identity the gradient $T$ steps back is
#    $(W^\top)^T g$. Take `W = rnnzoo.make("orthogonal", 3, 32, seed=0).recurrent_matrix()`,
#    predict $\|(1.01\,W)^{\top 1000} g\| / \|g\|$ and $\|(0.99\,W)^{\top 1000} g\| /
#    \|g\|$ before computing them with a loop of `g = c * W.T @ g`. *Check:* your
#    predictions are $1.01^{1000} \approx 2.1 \cdot 10^4$ and $0.99^{1000} \approx 4.3
#    \cdot 10^{-5}$, and the loop agrees to many digits (why exactly?). Write
#    `scaled_orthogonal_ratio(c, T)`, the predicted $\|(cW^\top)^T g\| / \|g\|$.

# %%
def scaled_orthogonal_ratio(c, T):
    """||(c W^T)^T g|| / ||g|| for an orthogonal W."""
    ### BEGIN SOLUTION
    return c ** T
    ### END SOLUTION


_W = rnnzoo.make("orthogonal", 3, 32, seed=0).recurrent_matrix()
_g0 = np.random.default_rng(0).standard_normal(32)
for _c in (1.01, 0.99):
    _g = _g0.copy()
    for _ in range(1000):
        _g = _c * _W.T @ _g
    selfcheck.check_close(selfcheck.attempt(scaled_orthogonal_ratio, _c, 1000),
                          np.linalg.norm(_g) / np.linalg.norm(_g0),
                          f"scaled_orthogonal_ratio({_c}, 1000)", rtol=1e-8,
                          hint="an orthogonal matrix keeps every norm; only c changes it")
print("PASS: your prediction matches the loop")
### BEGIN HIDDEN TESTS
assert abs(scaled_orthogonal_ratio(0.5, 3) - 0.125) < 1e-15
### END HIDDEN TESTS

# %% [markdown]
# *Why exactly?* Write your answer here:
#
# ### BEGIN SOLUTION
# *Answer key:* $W$ is orthogonal, so $\|W^\top v\| = \|v\|$ for every $v$: each step
# multiplies the norm by exactly $c$, whatever direction $g$ points in, and 1000 steps
# give $c^{1000}$; the loop differs only by rounding (about $10^{-16}$ per step).
# ### END SOLUTION
#
# 3. **One layer or two?** Rerun section 4 with a single IndRNN layer,
#    `ex.Variant("indrnn", {"t_max": 100, "u_init": "bounded", "input_std": 0.1})`, and
#    with the two-layer network started at `u_init="uniform"`. *Check:*
#    `res.left_baseline(label)` tells you, per seed, whether and when each left the
#    baseline; compare with the authors' remark that long adding tasks need the bounded
#    init of the last layer.
#
# ### BEGIN SOLUTION
# *Answer key:* measured: full marks for running both and reading `left_baseline` seed by
# seed. With `u_init="uniform"` every $u_n$ starts in $[0, 1)$, below the bound: no
# neuron can explode, but most carry their gradient as $u_n^T$ and lose it over 100
# steps ($0.9^{100} \approx 3 \cdot 10^{-5}$); the bounded init starts every top-layer
# neuron within $[2^{-1/T}, 2^{1/T}]$, so each can keep its value, and its gradient, for
# the whole sequence.
# ### END SOLUTION
#
# 4. **The slow learning rate.** Rerun section 5 without `lr_for` (S at the full
#    learning rate). *Check:* `copy.final(label)` against the run above; does $W$ stay
#    orthogonal (`res.models(label)[0].cells[0].recurrent_matrix()`), whatever the rate?
#
# ### BEGIN SOLUTION
# *Answer key:* measured: full marks for comparing `copy.final(label)` seed by seed with
# the run above (the losses are the student's to report, not predicted here). $W$ stays
# orthogonal at any rate, to the round-off of the run's precision: the cell trains a
# skew-symmetric $A$ and builds $W$ from it, as $\exp(A)$ or as the scaled Cayley
# transform $(I + A)^{-1}(I - A)D$ with $D$ diagonal of $\pm 1$, and both are orthogonal
# for every skew-symmetric $A$. The rate changes *which* orthogonal matrix the run reaches, never
# whether it is one.
# ### END SOLUTION
#
# 5. **Normalization.** Rerun section 6 with `norm="layer"` added to both variants'
#    options (`structural.deep_experiment()["variants"]` shows them). *Check:* compare
#    `deep.left_baseline(label)` and `deep.final(label)` with the runs above, seed by
#    seed; with 3 seeds, is the difference larger than the spread between seeds?
#
# ### BEGIN SOLUTION
# *Answer key:* measured: full marks for the seed-by-seed comparison and an answer that
# follows from it. A difference between the medians that is smaller than the spread
# between seeds of either run is not evidence that layer norm helps or hurts here; a
# difference larger than that spread, in every seed, is.
# ### END SOLUTION

# %% [markdown]
# 6. **The IndRNN step by hand.** Write one step of rnnzoo's `indrnn` forward and its
#    backward, the way notebook 01 does for the tanh RNN (Exercise A there). The step is
#
#    $$a_t = W x_t + u \odot h_{t-1} + b, \qquad h_t = \sigma(a_t),$$
#
#    with `params["W"]` (H, D), `params["u"]` (H,) (one recurrent weight per neuron: a
#    vector, not a matrix) and `params["b"]` (H,); x is (B, D) and the state is the bare
#    array h (B, H) (in the batch, row by row: `x @ W.T` and `u * h_prev`). $\sigma$ is
#    the option `nonlinearity`: `"relu"` (the cell's default) or `"tanh"`; write both
#    (`indrnn_step_forward` takes it as a keyword, and the backward must find it in the
#    cache). ReLU has a kink at $a = 0$; use the derivative of the side you are on (the
#    check's random points never sit on it).
#
#    `indrnn_step_forward(x, h_prev, params)` returns `(h, cache)`;
#    `indrnn_step_backward(dh, cache)` receives $\partial L/\partial h_t$ (B, H) and
#    returns `(dx, dh_prev, grads)`: $\partial L/\partial x_t$ (B, D),
#    $\partial L/\partial h_{t-1}$ (B, H) and a dict with the keys and shapes of `params`.
#    The check below runs relu, then tanh. What to look at once it passes: no matrix
#    mixes the neurons on the way back, so each neuron's carried gradient is its own
#    incoming one times a scalar, and section 1's $u_n^T$ is this step's backward
#    applied $T$ times.

# %%
def indrnn_step_forward(x, h_prev, params, nonlinearity="relu"):
    """One IndRNN step: x (B, D), h_prev (B, H) -> (h (B, H), cache)."""
    ### BEGIN SOLUTION
    a = x @ params["W"].T + params["u"] * h_prev + params["b"]   # a = W x + u h_prev + b
    h = np.maximum(a, 0.0) if nonlinearity == "relu" else np.tanh(a)   # h = sigma(a)
    return h, (x, h_prev, h, nonlinearity, params)
    ### END SOLUTION


def indrnn_step_backward(dh, cache):
    """dL/dh_t (B, H) -> (dx (B, D), dh_prev (B, H), grads dict like params)."""
    ### BEGIN SOLUTION
    x, h_prev, h, nonlinearity, params = cache
    slope = (h > 0) if nonlinearity == "relu" else 1 - h ** 2   # sigma'(a), read off h
    da = dh * slope                                  # h = sigma(a)
    grads = {"W": da.T @ x,                          # a = W x + ...
             "u": (da * h_prev).sum(axis=0),         # a = ... + u h_prev + ...
             "b": da.sum(axis=0)}                    # a = ... + b
    return da @ params["W"], da * params["u"], grads
    ### END SOLUTION


selfcheck.check_step("indrnn", indrnn_step_forward, indrnn_step_backward)
selfcheck.check_step("indrnn", lambda x, h, p: indrnn_step_forward(x, h, p, "tanh"),
                     indrnn_step_backward, options={"nonlinearity": "tanh"})
### BEGIN HIDDEN TESTS
# other sizes, a batch of one, another seed; u drawn near 1 (the bounded init), both sigmas
for _sigma in ("relu", "tanh"):
    selfcheck.check_step("indrnn", lambda x, h, p: indrnn_step_forward(x, h, p, _sigma),
                         indrnn_step_backward, input_size=1, hidden_size=3, batch=1, seed=7,
                         options={"nonlinearity": _sigma, "u_init": "bounded", "t_max": 10},
                         verbose=False);
### END HIDDEN TESTS

# %% [markdown]
# 7. **The orthogonal step by hand.** Now rnnzoo's `orthogonal` cell with its defaults
#    (`parametrization="exp"`, `nonlinearity="modrelu"`):
#
#    $$A = S - S^\top, \quad W = e^{A}, \qquad z_t = W h_{t-1} + V x_t, \qquad
#    h_t = \mathrm{sign}(z_t)\,\mathrm{ReLU}(|z_t| + b),$$
#
#    elementwise in the last one, with `params["V"]` (H, D), `params["S"]` (H, H) (only its
#    strictly upper triangle is used) and `params["b"]` (H,), the modReLU bias: it shifts
#    the *magnitude* $|z|$ and is not added to $z$. x is (B, D), the state the bare array
#    h (B, H) (row by row: `h_prev @ W.T + x @ V.T`).
#
#    Building $W$ from $S$, and sending $\partial L/\partial W$ back to
#    $\partial L/\partial S$, are the matrix exponential and its Fréchet derivative, not
#    the point of this exercise, so two helpers from `rnnzoo.reference.structural` are
#    **provided** (imported in the cell):
#    `W, A, d = orthogonal_W(params["S"], "exp", 0)` gives W (H, H) (keep `A` and `d`
#    for the other one), and `orthogonal_S_grad(dW, W, A, d, "exp")` turns your
#    $\partial L/\partial W$ (H, H) into `grads["S"]`. Everything else is yours: the
#    step, modReLU and its derivative, and $\partial L/\partial W$ itself.
#
#    modReLU is piecewise: where $|z| + b \le 0$ it outputs 0; elsewhere it keeps the
#    sign of $z$ and adds $b$ to its magnitude. It has a kink at $|z| + b = 0$ and, for
#    $b > 0$, a *jump* at $z = 0$ (from $-b$ to $+b$): neither has a derivative. As for
#    ReLU, use the derivative of the piece you are on; the check's random points never
#    land on a kink or the jump. (So for $b > 0$ the gradient never reports the jump: a
#    unit whose $z$ crosses 0 changes $h$ by $2b$ without any gradient saying so. With $b$
#    drawn in $[-0.01, 0.01]$ that step is small.)
#
#    `orthogonal_step_forward(x, h_prev, params)` returns `(h, cache)`;
#    `orthogonal_step_backward(dh, cache)` returns `(dx, dh_prev, grads)` with the keys
#    and shapes of `params`. What to look at once it passes: the gradient you carry back
#    to $h_{t-1}$ goes through $W$, which, orthogonal, changes its direction and never its
#    norm, so only the nonlinearity can shrink it (section 2's flat line over 1,000 steps).

# %%
from rnnzoo.reference.structural import orthogonal_S_grad, orthogonal_W   # provided


def orthogonal_step_forward(x, h_prev, params):
    """One orthogonal-RNN step: x (B, D), h_prev (B, H) -> (h (B, H), cache)."""
    ### BEGIN SOLUTION
    W, A, d = orthogonal_W(params["S"], "exp", 0)             # W = e^(S - S^T) (provided)
    z = h_prev @ W.T + x @ params["V"].T                      # z = W h_prev + V x
    h = np.sign(z) * np.maximum(np.abs(z) + params["b"], 0.0)   # h = sign(z) relu(|z| + b)
    return h, (x, h_prev, z, W, A, d, params)
    ### END SOLUTION


def orthogonal_step_backward(dh, cache):
    """dL/dh_t (B, H) -> (dx (B, D), dh_prev (B, H), grads dict like params)."""
    ### BEGIN SOLUTION
    x, h_prev, z, W, A, d, params = cache
    active = np.abs(z) + params["b"] > 0             # the pieces of modReLU
    dz = dh * active                                 # h = sign(z) relu(|z| + b), by z
    db = (dh * active * np.sign(z)).sum(axis=0)      # h = sign(z) relu(|z| + b), by b
    dW = dz.T @ h_prev                               # z = W h_prev + ...
    grads = {"V": dz.T @ x,                          # z = ... + V x
             "S": orthogonal_S_grad(dW, W, A, d, "exp"),   # W = e^(S - S^T) (provided)
             "b": db}
    return dz @ params["V"], dz @ W, grads
    ### END SOLUTION


selfcheck.check_step("orthogonal", orthogonal_step_forward, orthogonal_step_backward)
### BEGIN HIDDEN TESTS
# other sizes (an odd H), a batch of one, another seed, and scoRNN's initial angles
selfcheck.check_step("orthogonal", orthogonal_step_forward, orthogonal_step_backward,
                     input_size=1, hidden_size=5, batch=1, seed=7,
                     options={"init": "cayley"}, verbose=False);
### END HIDDEN TESTS
