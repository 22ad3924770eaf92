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
# # 12 · Recurrences designed as dynamical systems
#
# Notebooks 04 and 05 kept the gradient alive by constraining a matrix (one weight per
# neuron, an orthogonal or unitary $W$). This notebook takes another road: write the
# recurrence as one step of a discretized **ordinary differential equation**, choose the
# ODE so that its Jacobian can neither shrink nor blow up a perturbation, and check the
# promise numerically.
#
# * **AntisymmetricRNN** (Chang et al., ICLR 2019): $h_t = h_{t-1} + \epsilon \tanh((W -
#   W^\top - \gamma I) h_{t-1} + V x_t + b)$. $W - W^\top$ has purely imaginary eigenvalues.
# * **Lipschitz RNN** (Erichson et al., ICLR 2021): $h_t = h_{t-1} + \epsilon A h_{t-1} +
#   \epsilon \tanh(W h_{t-1} + U x_t + b)$, with
#   $A = \beta(B - B^\top) + (1-\beta)(B + B^\top) - \gamma I$ and $W$ built from $C$ the
#   same way: a chosen mix of rotation and (small) symmetric part.
# * **coRNN** (Rusch & Mishra, ICLR 2021): coupled damped oscillators, $z_t = z_{t-1} +
#   \Delta t(\tanh(W y_{t-1} + \mathcal W z_{t-1} + V x_t + b) - \gamma y_{t-1} - \epsilon
#   z_t)$, $y_t = y_{t-1} + \Delta t\, z_t$, with a proven bound on its states.
# * **UnICORNN** (Rusch & Mishra, ICML 2021): $H$ independent undamped oscillators stepped
#   by symplectic Euler, a step that can be undone exactly: its backward runs the dynamics
#   backwards and stores no states.
# * **LMU** (Voelker et al., NeurIPS 2019): a *fixed* linear memory $m_t = \bar A m_{t-1} +
#   \bar B u_t$ whose state is the Legendre projection of the last $\theta$ inputs.
#
# We look at each cell's step Jacobian at initialization, follow the gradient over 1,000
# steps against the tanh RNN and the LSTM, check coRNN's bound, measure UnICORNN's
# reconstructed backward and the memory it saves, read the LMU's window back from its
# memory, and train all seven on one task under one budget. Every number in the prose is
# printed by the code above it.

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
from rnnzoo.teaching.figures import dynamics as dyn
from rnnzoo.teaching.figures.claims_file import recorded_claims, recorded_robustness, reruns_held

# %% [markdown]
# ## 1. The step Jacobian: where its eigenvalues sit
#
# Backpropagation multiplies the carried gradient by the transposed step Jacobian
# $J_t = \partial s_t / \partial s_{t-1}$ once per step (notebook 01). Eigenvalues of modulus
# below 1 shrink their direction at every step; above 1, they grow it. An ODE $h' = M h$
# whose $M$ has eigenvalues on the imaginary axis neither decays nor grows: it rotates.
#
# **AntisymmetricRNN.** A real antisymmetric matrix $W - W^\top$ has eigenvalues $i\omega$;
# subtracting $\gamma I$ moves every one to real part exactly $-\gamma$. The Euler step
# $I + \epsilon M$ (its linear part, where $\tanh' = 1$) then has eigenvalues $1 +
# \epsilon(-\gamma + i\omega)$, of modulus at most 1 exactly when $\epsilon(\gamma^2 +
# \omega^2) \le 2\gamma$. Without $\gamma$, forward Euler on the imaginary axis always
# grows ($|1 + i\epsilon\omega| > 1$): $\gamma$ and $\epsilon$ together set the
# discretization's stability. We check both on a fresh cell (its defaults $\epsilon =
# \gamma = 0.01$).

# %%
anti = rnnzoo.make("antisymmetric", 4, 32, seed=0, dtype=np.float64)
M = anti.recurrence_matrix()
lam = np.linalg.eigvals(M)
omega_max = np.abs(lam.imag).max()
step_moduli = np.abs(1 + anti.eps * lam)
print(f"real parts of eig(M): {lam.real.min():.12f} to {lam.real.max():.12f} (γ = {anti.gamma})")
print(f"largest |ω| = {omega_max:.4f}; ε(γ² + ω²) = {anti.eps * (anti.gamma ** 2 + omega_max ** 2):.2e}"
      f" <= 2γ = {2 * anti.gamma}; |1 + ελ| from {step_moduli.min():.6f} to {step_moduli.max():.6f}")
ex.claim("every eigenvalue of W - Wᵀ - γI has real part -γ (to 1e-12), and at the defaults "
         "the Euler step satisfies ε(γ² + ω²) <= 2γ, so no |1 + ελ| exceeds 1",
         np.abs(lam.real + anti.gamma).max() < 1e-12
         and anti.eps * (anti.gamma ** 2 + omega_max ** 2) <= 2 * anti.gamma
         and step_moduli.max() <= 1, largest_real_part_error=np.abs(lam.real + anti.gamma).max());

# %% [markdown]
# Now the whole step of every cell, tanh included: the exact $J_t$ from each cell's own
# backward (`rnnzoo.core.diagnostics.step_jacobians`), at initialization, at step 20 of a
# random trajectory, $H = 32$, float64. For coRNN and UnICORNN the state is $(y, z)$, for
# the LSTM $(h, c)$, for the LMU $(h, m)$, so their Jacobians are larger.

# %%
spectra = dyn.step_spectra()
for label, ev in spectra.items():
    print(f"  {label:22s} |λ| from {np.abs(ev).min():.4f} to {np.abs(ev).max():.4f}")
dyn.spectra_claims(spectra, claim=ex.claim)
lmu_moduli = np.abs(spectra["lmu"])
ex.claim("the lmu's whole step has eigenvalues outside the unit circle, none by as much as "
         "1e-2", bool(1 < lmu_moduli.max() < 1 + 1e-2), largest=float(lmu_moduli.max()),
         outside=int((lmu_moduli > 1).sum()))
fig, axes = plt.subplots(2, 4, figsize=(12, 6.2))
dyn.plot_spectra(axes.ravel(), spectra)              # the last panel magnifies around 1
fig.suptitle("Eigenvalues of the step Jacobian at initialization, the unit circle in grey",
             fontsize=10);

# %% [markdown]
# The antisymmetric, Lipschitz and UnICORNN steps put every eigenvalue on the unit circle
# or within 1e-3 of it (each cell's largest distance is printed in the first claim):
# UnICORNN's exactly, because each unit's step is a pair of shears with determinant 1;
# antisymmetric's inside by about $\epsilon\gamma$, its diffusion; Lipschitz's on both
# sides, some just outside, because its $A$ and $W$ keep a symmetric part $(1 -
# \beta)(B + B^\top)$ beside the skew one (at $\beta = 0.75$), which moves eigenvalues off
# the imaginary axis either way; the tanh RNN's and the LSTM's are
# all inside it. coRNN is *damped* ($\epsilon$ = 8 in its default): some of its directions
# decay. The LMU's memory $\bar A$ alone has its eigenvalues inside the circle by
# construction (what it keeps is a window of $\theta$ steps, section 4); its whole step
# couples the memory to the tanh part ($u_t$ reads $h_{t-1}$), and at this step that
# coupling puts eigenvalues just outside the circle (the last claim: how many, and by how
# much).
#
# ## 2. The gradient over 1,000 steps
#
# Put the loss on the last step only and read $\|\partial L / \partial h_t\|$ at every step
# from the backward pass (`grads.dh_norm`), at initialization, $H = 64$, seeds 0-2. The
# fraction that reaches step 1 is the figure of merit.

# %%
study = dyn.gradient_study(T=1000, seeds=(0, 1, 2))
kept = dyn.gradient_claims(study, claim=ex.claim)
for label, k in kept.items():
    print(f"  {label:22s} kept at step 1 of 1000: " + ", ".join(f"{v:.2e}" for v in k))
recorded_grad = recorded_robustness("dynamics_gradient_norms")       # figures/claims.json
for statement, entry in recorded_grad.items():
    print("recorded re-run:", statement[:60], "...\n   ", entry["spec"], "-> passed:",
          entry["passed"])
ex.claim("both claims were re-run on seeds 10-12 (the vanishing one at 4x the length, "
         "T = 4000), recorded in figures/claims.json, and passed",
         reruns_held(recorded_grad, [4, 1]));  # a negative claim's is 4x by construction

# %% [markdown]
# The tanh RNN and the LSTM keep less than $10^{-10}$ of it (the values printed in the
# claim), while antisymmetric, Lipschitz, coRNN and UnICORNN keep more than $10^{-2}$ of
# it (their kept fractions are printed above), and nowhere amplify it past 10x (the largest
# ratio is the `peak` printed in the claim). The recorded re-runs (printed above) found the
# same on seeds 10-12, the rnn and lstm at 4,000 steps. The LMU's tanh part forgets like
# any RNN, and its memory holds a window of $\theta$ = 100 steps, not 1,000 (its kept
# fraction is printed above).
#
# **coRNN's bound.** With $E_t = \gamma|y_t|^2 + |z_t|^2$, multiplying the $z$ update by
# $z_t$ and summing ($|\tanh| \le 1$ on $H$ units) gives $E_t \le E_0 + H t \Delta t /
# \epsilon$ when $\gamma\Delta t \le \epsilon$ (the paper's Prop. 3.1 in this form; the
# derivation is in the cell's docstring): the states grow at most like $\sqrt t$, whatever
# the weights. We check it over 1,000 steps from a random state, at the authors'
# initialization and with every weight redrawn from $N(0, 1)$ (tanh saturated), and read
# coRNN's gradient on the same runs.

# %%
energy = dyn.cornn_energy()
dyn.cornn_claims(energy, claim=ex.claim)
for setting, (E, bound, ratio) in energy.items():        # E, bound: (T + 1, sequences)
    near = E[1:] / bound[1:]
    closest = 1 + int(np.unravel_index(np.argmax(near), near.shape)[0])
    print(f"  {setting:30s} largest E_t / bound {near.max():.3f} at step {closest}, after "
          f"step 100 at most {near[100:].max():.3f}; E_T - E_0 per sequence "
          f"{np.round(E[-1] - E[0], 1).tolist()}; gradient ratio {ratio.min():.3f} to "
          f"{ratio.max():.3f}")
ex.claim("in both settings every sequence's energy ends below where it started (E_T < E_0): "
         "damping, not the bound, holds it",
         all((E[-1] < E[0]).all() for E, _, _ in energy.values()),
         **{setting: (E[-1] - E[0]).tolist() for setting, (E, _, _) in energy.items()})
fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.3))
for label, _, _, style in dyn.AT_INIT:
    left.semilogy(np.arange(1, 1001), study[0][label], label=label, **style)
left.set_ylim(1e-40, 1e2)
left.set(xlabel="step t (the loss is at t = 1000)", ylabel="‖dL/dh_t‖")
left.legend(fontsize=8, loc="lower left")   # the steep lines leave by the lower right
left.set_title("the gradient at initialization, seed 0", fontsize=10)
dyn.plot_cornn_energy(right, energy)
right.set_title("coRNN: the energy stays under its bound", fontsize=10);

# %% [markdown]
# At its closest (the largest ratio printed above: how near the bound it comes in each
# setting) the energy never crosses the bound: a theorem about every weight, checked on two
# very different ones. But read where that closest point is: in the first steps, while the
# bound is still mostly $E_0$, and the energy then falls (it ends below $E_0$, the last
# claim). On the right the bound grows like $t$ while the damped energy does not. So these
# runs check that the bound holds, not that it is tight: its growth term $H t \Delta t /
# \epsilon$, the part that allows $\sqrt t$ growth, is never approached here. The gradient
# ratios printed above are the paper's Prop. 3.2 in action (bounded, no exponential decay);
# we check that bound only in this measured form, not its constants.
#
# ## 3. UnICORNN: a backward that runs time backwards
#
# UnICORNN's step per unit, with $k = \Delta t\,\sigma(c)$ and $\hat x_t = V x_t + b$:
#
# $$z_t = z_{t-1} - k(\tanh(w y_{t-1} + \hat x_t) + \alpha y_{t-1}), \qquad y_t = y_{t-1} +
# k z_t .$$
#
# Each half changes one variable using the other (a *shear*), so it is undone by
# subtracting what was added: $y_{t-1} = y_t - k z_t$, then $z_{t-1} = z_t + k(\tanh(w
# y_{t-1} + \hat x_t) + \alpha y_{t-1})$. So backpropagation can recompute the states from
# the final one while it walks back, and the forward pass keeps no $(T, B, H)$ states.
# By hand first: run 1,000 steps storing the states (`memory="store"`), then walk back
# from the last.

# %%
uni = rnnzoo.make("unicornn", 4, 8, seed=0, memory="store", dtype=np.float64)
x_u = np.random.default_rng(0).standard_normal((1000, 2, 4))
_, _, cache = uni.forward(x_u)
k = uni.dt / (1 + np.exp(-uni.params["c"]))
x_hat = x_u @ uni.params["V"].T + uni.params["b"]
y, z = cache.ys[-1], cache.zs[-1]
for t in range(999, -1, -1):
    y = y - k * z
    z = z + k * (np.tanh(uni.params["w"] * y + x_hat[t]) + uni.alpha * y)
gap = max(np.abs(y - cache.ys[0]).max(), np.abs(z - cache.zs[0]).max())
print(f"initial state recovered from the final one after 1,000 steps back: error {gap:.1e}")
ex.claim("walking 1,000 steps back from the final state recovers the initial one to 1e-9",
         gap < 1e-9, error=gap);

# %% [markdown]
# The cell does this in its backward (`memory="reconstruct"`, the default; the authors'
# CUDA kernel does the same). We compare it with the stored backward in float64 and in
# float32 against a float64 reference, over hs and every gradient, at $T$ = 100 and 1,000
# ($B = 16$, $D = H = 128$), and measure with `tracemalloc` what each keeps between forward
# and backward and the peak over both.

# %%
errors = dyn.unicornn_reconstruction((100, 1000))
memory = dyn.unicornn_memory()
for T_, e in errors.items():
    print(f"T = {T_:5d}: " + ", ".join(f"{key} {v:.1e}" for key, v in e.items()))
(rec_kept, rec_peak), (sto_kept, sto_peak) = memory[0]["reconstruct"], memory[0]["store"]
print(f"one (T, B, H) array: {memory[1]:.1f} MiB; cache kept besides hs: reconstruct "
      f"{rec_kept:.1f}, store {sto_kept:.1f} MiB; peak: {rec_peak:.1f} vs {sto_peak:.1f} MiB")
dyn.unicornn_claims(errors, memory, claim=ex.claim)
ex.claim("in float32 walking back adds more at T = 1000 than at T = 100",
         errors[1000]["f32 reconstruct vs store"] > errors[100]["f32 reconstruct vs store"],
         **{f"T = {T_}": e["f32 reconstruct vs store"] for T_, e in errors.items()});

# %% [markdown]
# Walking back is exact in float64 (to 1e-10, the first claim; the errors are printed
# beside it). In float32 it adds round-off, but less than float32 costs anyway, and here it
# is larger at the longer $T$ (the last claim; two
# points cannot tell steady growth from exponential, and a map that preserves area can
# still stretch one direction: `scripts/unicornn_memory.py` follows it to $T$ = 10,000). The
# reconstruct cache keeps $x$ and two states, the store cache three $(T, B, H)$ arrays
# more; the peak falls by less than that, because what both modes need ($x$, $h_s$, $dx$
# and the work arrays of the backward) is most of it at this size.
#
# ## 4. The LMU's memory holds a window
#
# The LMU's $\bar A, \bar B$ are the Legendre delay system of order $d$ for a window
# $\theta$, discretized by the zero-order hold of notebook 10 and never trained. Its
# state $m_t$ is the vector of coefficients of the last $\theta$ inputs in the shifted
# Legendre polynomials, so $u(t - \theta') \approx \sum_n P_n(2\theta'/\theta - 1)\, m_{t,n}$
# (`rnnzoo.cells.lmu.window_decoder`). We feed a smooth input for 600 steps with $\theta$
# = 100 and read the window back from $m_{599}$ alone, for $d$ = 6, 12 and 20.

# %%
windows = dyn.lmu_windows()
errs = dyn.lmu_claims(windows, claim=ex.claim)
print({key: f"{v:.1e}" for key, v in errs.items()})
ex.claim("twenty polynomials read this window back worse than twelve",
         errs["d = 20"] > errs["d = 12"], **errs)
fig, (ax, bottom) = plt.subplots(2, 1, figsize=(8, 6), height_ratios=(3, 2))
dyn.plot_lmu(ax, bottom, windows)
ax.set_title("LMU, θ = 100: the last 100 inputs read back from one 12-number state", fontsize=10);

# %% [markdown]
# Twelve numbers hold the last hundred inputs to below 2e-3 (of an input of amplitude 1.5;
# the error is printed above). Six polynomials are too few to follow this input over the
# window; twenty are *worse* than twelve here, we think because their high polynomials
# start to resolve the staircase of an input held constant over each step (not tested
# here). What the memory keeps is
# set by $\theta$ and $d$, not learned: the tanh part only has to learn to read it.
#
# ## 5. One task, one budget: permuted digits
#
# All five papers test on permuted sequential MNIST (784 pixels in a fixed random order).
# Our offline stand-in is scikit-learn's 8x8 digits, 64 pixels one per step in a fixed
# random order. We train all seven cells, each with its authors' defaults ($\epsilon$,
# $\gamma$, $\Delta t$, ...; the LMU's $\theta = 100$, $d = 12$ are ours, since keras-lmu
# sets none and its psMNIST example uses $\theta = 784$, $d = 256$), under one budget:
# $H = 32$, Adam $10^{-2}$, batch 32, 200 steps, 3 seeds. Solved means test accuracy at
# least 0.9.

# %%
res = dyn.run(dyn.digits_experiment())
print(res.summary())

# %%
medians = dyn.digits_claims(res, claim=ex.claim, robust_claim=ex.robust_claim)
recorded = recorded_robustness("dynamics_permuted_digits")          # figures/claims.json
for statement, entry in recorded.items():
    print("recorded re-run:", statement, "\n   ", entry["budget_factor"], "x the steps, seeds",
          entry["seeds"], "-> passed:", entry["passed"])
    for label, numbers in entry["numbers"].items():
        print("   ", label, np.round(numbers, 3).tolist() if isinstance(numbers, list) else numbers)
ex.claim("both claims' re-runs (4x the steps for the negative one) on seeds 10-12 are "
         "recorded in figures/claims.json and passed",
         reruns_held(recorded, [4, 1]))        # a negative claim's is 4x by construction
ex.claim("at 64 steps the tanh RNN learns too: its median accuracy is above the median of "
         "each of antisymmetric, lipschitz, cornn and unicornn",
         all(medians[dyn.RNN] > medians[lb] for lb in dyn.KEEPERS),
         **{lb: medians[lb] for lb in (dyn.RNN,) + dyn.KEEPERS});

# %% [markdown]
# What the claims checked: within 200 steps none of antisymmetric, Lipschitz, coRNN and
# UnICORNN solves the task, and the recorded re-run says none does at 4x the steps either
# (seeds 10-12); every seed of the LMU ends above every seed of antisymmetric, Lipschitz
# and coRNN. The medians are printed above.
#
# **This differs from the papers**, where on 784-step permuted MNIST these cells beat the
# LSTM (test accuracies reported by the papers or the authors' repositories: coRNN 97.3 %,
# UnICORNN 98.4 %, LMU 97.15 %, Lipschitz 96.3 %, antisymmetric 95.8 %). Our sequences
# are 64 steps, where the tanh RNN learns too (its median is above each of those four
# cells', checked above; its seeds vary: their numbers above), and our budget is 200
# steps at one learning rate for all (the papers train for about 100 epochs with learning
# rates tuned per cell). Our reading, not
# measured here: the small steps $\epsilon$, $\Delta t$ that keep the gradient alive also
# make the states move slowly, so these cells learn slowly at a fixed, small budget. The
# LMU, whose memory is not learned, ends above every seed of antisymmetric, Lipschitz and
# coRNN (checked above). Run `python -m rnnzoo figures dynamics_permuted_digits --full`
# for 2,000 steps at $H = 64$.

# %%
fig, ax = plt.subplots(figsize=(8.5, 4.6))
res.plot(ax, kind="accuracy", title=f"permuted digits (T = 64): test accuracy, median and "
         f"min-max of 3 seeds\n{res.budget.describe()}")
ax.title.set_fontsize(9)
ax.set_ylim(0, 1.05);

# %% [markdown]
# ## 6. A longer sequence: 196 steps
#
# At sixty-four steps the tanh RNN learns the task, its median above those of the four
# cells built to keep the gradient (checked above), although its gradient vanishes
# fastest at initialization (section 2). Does a longer sequence change
# that? The next length up is 196, that of 14x14-downsampled MNIST: the same digits resized to
# 14x14 by bilinear interpolation (`make_task("permuted_digits", size=14)`), so the sequence
# is three times longer but carries no more information. Training seven cells on 3 seeds
# at this length takes minutes, more than this notebook's budget, so the figures
# command runs it through the same harness and records its claims in
# `figures/claims.json`, with the 4x re-run of the negative claim on seeds 10-12:
#
#     python -m rnnzoo figures dynamics_long_digits --robust
#
# Here we read that record: each claim, whether it passed, and the numbers that decided it.

# %%
long_claims = recorded_claims("dynamics_long_digits")                 # figures/claims.json
for c in long_claims:
    verdict = "MEASURED" if c.get("measured") else "PASS" if c["passed"] else "FAIL"
    print(verdict, "-", c["statement"])
    for key, value in c["numbers"].items():
        print("   ", key, value)
    if c.get("robustness"):
        r = c["robustness"]
        print("    the figure's budget:", r["steps"] // r["budget_factor"], "steps; re-run:",
              r.get("budget_factor"), "x the steps on seeds", r.get("seeds"),
              "-> passed:", r.get("passed"))
        for key, value in r.get("numbers", {}).items():
            print("       ", key, np.round(value, 3).tolist())
        closest = max((max(v), k) for k, v in r.get("numbers", {}).items())
        print(f"    closest to 0.9 at 4x: {closest[1]} {closest[0]:.3f}")
checked = [c for c in long_claims if not c.get("measured")]
ex.claim("every recorded claim on 196-step permuted digits passed, and the negative one "
         "also at 4x the steps on seeds 10-12",
         all(c["passed"] for c in checked)
         and reruns_held([c["robustness"] for c in checked if c.get("negative")], [4]),
         claims=len(checked));
per_seed = [c for c in long_claims if c["statement"] == "final test accuracy per seed"][0]
medians = {label: float(np.median(v)) for label, v in per_seed["numbers"].items()}
print("median accuracy at 196 steps:", {label: round(m, 3) for label, m in medians.items()})
keepers = ["antisymmetric", "lipschitz", "cornn", "unicornn"]
ex.claim("at 196 steps the tanh rnn's median accuracy is above each of the four "
         "gradient-keeping cells' medians, and within 0.02 of the lstm's",
         all(medians["rnn (tanh)"] > medians[k] for k in keepers)
         and abs(medians["rnn (tanh)"] - medians["lstm (forget bias 1)"]) <= 0.02, **medians);

# %%
image = plt.imread(pathlib.Path(rnnzoo.__file__).resolve().parent.parent / "figures"
                   / "dynamics_long_digits.png")
fig, ax = plt.subplots(figsize=(9, 6))
ax.imshow(image)
ax.set_title("figures/dynamics_long_digits.png as committed: drawn by the figures command "
             "above, not by this notebook", fontsize=9)
ax.axis("off");

# %% [markdown]
# At 196 steps every cell learns something, but none of the four designed to keep the
# gradient (antisymmetric, Lipschitz, coRNN, UnICORNN) solves the task within the
# figure's budget (its steps are printed above), nor at 4x on new seeds (the re-run's
# accuracies are printed above, with the one closest to the criterion: a near miss is
# still a miss, and more steps might close it), and at the figure's budget the LSTM's
# median is above each of theirs (the LSTM was not re-run). So is the tanh RNN's, level
# with the LSTM's (the last claim): at this length and budget the gradient that vanishes
# at initialization did not hold the plain RNN back, nor did keeping it help the others:
# a gradient that survives 1,000 steps at initialization is not the same as learning
# fast. **This
# differs from the papers** (784 steps, about 100 epochs with learning rates tuned per
# cell, where these cells beat the LSTM); the per-seed accuracies are printed above.

# %% [markdown]
# ## Exercises
#
# Each exercise has a self-check you can run; the answer key is kept in the
# instructor's version.
#
# 1. **The largest stable Euler step.** For an AntisymmetricRNN with diffusion $\gamma$
#    whose $W - W^\top$ has eigenvalues $\pm i\omega_j$, write `largest_stable_eps(gamma,
#    omegas)`: the largest $\epsilon$ for which every $|1 + \epsilon(-\gamma + i\omega_j)|
#    \le 1$. *Check:* at $(1 - 10^{-6})$x your $\epsilon$ every eigenvalue of $I + \epsilon M$
#    lies in the unit disc, at $(1 + 10^{-6})$x one does not.

# %%
def largest_stable_eps(gamma, omegas):
    """The largest ε with |1 + ε(-γ + iω)| <= 1 for every ω in omegas."""
    ### BEGIN SOLUTION
    return 2 * gamma / (gamma ** 2 + np.max(np.abs(omegas)) ** 2)
    ### END SOLUTION


_anti = rnnzoo.make("antisymmetric", 4, 32, seed=0, dtype=np.float64)
_M = _anti.recurrence_matrix()
_eps = selfcheck.check_number(
    selfcheck.attempt(largest_stable_eps, _anti.gamma, np.linalg.eigvals(_M).imag),
    "largest_stable_eps(gamma, omegas)", minimum=0)
_radius = lambda e: np.abs(np.linalg.eigvals(np.eye(32) + e * _M)).max()
# 1 ± 1e-6: γ is small here (0.01), so leaving out a γ² term moves ε by only about 1e-4
selfcheck.check_close(float(_radius((1 - 1e-6) * _eps) <= 1 < _radius((1 + 1e-6) * _eps)),
                      1.0, "whether (1 - 1e-6)x your ε is stable and (1 + 1e-6)x is not",
                      hint="|1 + ε(-γ + iω)|² = (1 - εγ)² + ε²ω² <= 1; solve for ε")
print(f"PASS: ε up to {_eps:.4f} is stable for this cell (its default is {_anti.eps})")
### BEGIN HIDDEN TESTS
assert abs(largest_stable_eps(0.5, np.array([0.0, -1.0, 0.5])) - 0.8) < 1e-12
### END HIDDEN TESTS

# %% [markdown]
# 2. **Undo one UnICORNN step.** Write `step_back(y, z, x_hat, w, k, alpha)` returning
#    $(y_{t-1}, z_{t-1})$ from $(y_t, z_t)$, the inverse of the step of section 3.
#    *Check:* one step of the cell from a random state, undone by your function, gives
#    that state back to 1e-12.

# %%
def step_back(y, z, x_hat, w, k, alpha):
    """(y_{t-1}, z_{t-1}) from (y_t, z_t): the symplectic Euler step undone."""
    ### BEGIN SOLUTION
    y_prev = y - k * z
    z_prev = z + k * (np.tanh(w * y_prev + x_hat) + alpha * y_prev)
    return y_prev, z_prev
    ### END SOLUTION


_cell = rnnzoo.make("unicornn", 3, 5, seed=4, dtype=np.float64)
_rng = np.random.default_rng(5)
_x, _y0, _z0 = _rng.standard_normal((1, 2, 3)), _rng.standard_normal((2, 5)), _rng.standard_normal((2, 5))
_y1, _z1 = _cell.forward(_x, (_y0, _z0))[1]
_k = _cell.dt / (1 + np.exp(-_cell.params["c"]))
_back = selfcheck.check_items(
    selfcheck.attempt(step_back, _y1, _z1, _x[0] @ _cell.params["V"].T + _cell.params["b"],
                      _cell.params["w"], _k, _cell.alpha),
    ("y_prev", "z_prev"), "step_back(...)")
for _name, _part in zip(("y_prev", "z_prev"), _back):
    selfcheck.check_shape(_part, _y0.shape, f"step_back(...)'s {_name}")
selfcheck.check_close(np.stack(_back), np.stack([_y0, _z0]), "step_back(...)'s (y, z)",
                      rtol=1e-12, atol=1e-12,
                      hint="undo the y update first (it used the new z), then the z update")
print("PASS: your step_back undoes the cell's step")
### BEGIN HIDDEN TESTS
assert np.allclose(step_back(np.ones(2), np.zeros(2), np.zeros(2), np.zeros(2), 0.5, 0.0),
                   (np.ones(2), np.zeros(2)))
### END HIDDEN TESTS

# %% [markdown]
# 3. **Build the Legendre delay system.** Write `legendre_AB(order, theta)` returning $A$
#    (d, d) and $B$ (d,) of $\dot m = A m + B u$ with the $1/\theta$ folded in:
#    $A_{ij} = \frac{2i+1}{\theta}\cdot(-1 \text{ if } i < j \text{ else } (-1)^{i-j+1})$,
#    $B_i = \frac{2i+1}{\theta}(-1)^i$. *Check:* the zero-order hold of yours
#    (`rnnzoo.cells.lmu.zero_order_hold`) is the cell's fixed $\bar A$, $\bar B$.

# %%
def legendre_AB(order, theta):
    """A (d, d), B (d,) of the Legendre delay system, 1/θ folded in."""
    ### BEGIN SOLUTION
    q = np.arange(order)
    i, j = q[:, None], q[None, :]
    A = np.where(i < j, -1.0, (-1.0) ** (i - j + 1)) * (2 * i + 1) / theta
    return A, (-1.0) ** q * (2 * q + 1) / theta
    ### END SOLUTION


from rnnzoo.cells.lmu import zero_order_hold
_lmu = rnnzoo.make("lmu", 1, 4, theta=50.0, memory_size=8, dtype=np.float64)
_A8, _B8 = selfcheck.check_items(selfcheck.attempt(legendre_AB, 8, 50.0), ("A", "B"),
                                 "legendre_AB(8, 50.0)")
_Abar, _Bbar = zero_order_hold(selfcheck.check_shape(_A8, (8, 8), "legendre_AB(8, 50.0)'s A"),
                               selfcheck.check_shape(_B8, (8,), "legendre_AB(8, 50.0)'s B"))
selfcheck.check_close(_Abar, _lmu.A_bar, "the hold of your A", rtol=1e-12, atol=1e-14,
                      hint="row i scales by (2i + 1)/θ; above the diagonal -1, else (-1)^(i-j+1)")
selfcheck.check_close(_Bbar, _lmu.B_bar, "the hold of your B", rtol=1e-12, atol=1e-14,
                      hint="B_i alternates in sign, starting at +1/θ")
print("PASS: your delay system is the cell's memory")
### BEGIN HIDDEN TESTS
_A1, _B1 = legendre_AB(1, 2.0)
assert np.allclose(_A1, [[-0.5]]) and np.allclose(_B1, [0.5])
### END HIDDEN TESTS

# %% [markdown]
# 4. **The coRNN step, forward and back.** Write one step of `cornn` (section 2's bound
#    is about it) and its backward, the way Exercise A of notebook 02b does the LSTM's.
#    With the cell's default, the paper's *implicit* damping ($\epsilon z_t$, not
#    $\epsilon z_{t-1}$):
#
#    $$\begin{aligned}
#    a_t &= W y_{t-1} + \mathcal W z_{t-1} + V x_t + b, \qquad \sigma_t = \tanh(a_t), \\
#    z_t &= z_{t-1} + \Delta t\,(\sigma_t - \gamma y_{t-1} - \epsilon z_t)
#      \quad\Longleftrightarrow\quad
#      z_t = \frac{z_{t-1} + \Delta t\,(\sigma_t - \gamma y_{t-1})}{1 + \Delta t\,\epsilon}, \\
#    y_t &= y_{t-1} + \Delta t\, z_t .
#    \end{aligned}$$
#
#    `params["W"]` is $W$ (H, H), `params["W_z"]` is $\mathcal W$ (H, H), `params["V"]`
#    is $V$ (H, D) and `params["b"]` is $b$ (H,); x is (B, D). The state is the pair
#    `(y, z)`, both (B, H): position and velocity of H coupled oscillators, and the
#    cell's output is y. Use `DT`, `GAMMA` and `EPSILON` (set in the cell below to the
#    cell's defaults, $\Delta t$ = 0.076, $\gamma$ = 0.4, $\epsilon$ = 8), not the numbers
#    themselves: the grader also runs your step at other values. The backward receives
#    the pair $(\partial L/\partial y_t, \partial L/\partial z_t)$ and returns `(dx,
#    (dy_prev, dz_prev), grads)`, `grads` a dict with the keys and shapes of `params`.
#
#    What it teaches: there is no gate here, and the gradient is carried back along two
#    components, position and velocity, each reaching the other (through $\Delta t$, the
#    $\gamma$ term and the two recurrent matrices); the implicit damping divides what
#    reaches $z_{t-1}$, $y_{t-1}$ and the parameters through $z_t$ by $1 + \Delta t\,
#    \epsilon$ at every step. *Check:* as in notebook 02b, against rnnzoo's `cornn` on
#    fixed inputs, then `rnnzoo.gradcheck` through 5 steps of yours.

# %%
# the cell's defaults (Rusch & Mishra's permuted sequential MNIST): Δt, γ, ε
DT, GAMMA, EPSILON = (rnnzoo.get_cell_class("cornn").options[key]
                      for key in ("dt", "gamma", "epsilon"))


def cornn_step_forward(x, state, params):
    """One coRNN step: x (B, D), state (y_prev, z_prev) each (B, H) -> ((y, z), cache)."""
    ### BEGIN SOLUTION
    y_prev, z_prev = state
    a = (y_prev @ params["W"].T + z_prev @ params["W_z"].T
         + x @ params["V"].T + params["b"])
    sigma = np.tanh(a)
    z = (z_prev + DT * (sigma - GAMMA * y_prev)) / (1 + DT * EPSILON)
    y = y_prev + DT * z
    return (y, z), (x, y_prev, z_prev, sigma, params)
    ### END SOLUTION


def cornn_step_backward(dstate, cache):
    """(dL/dy_t, dL/dz_t) each (B, H) -> (dx (B, D), (dy_prev, dz_prev), grads)."""
    ### BEGIN SOLUTION
    dy, dz = dstate
    x, y_prev, z_prev, sigma, params = cache
    dz = dz + DT * dy                                     # y = y_prev + DT z
    dz_drive = dz / (1 + DT * EPSILON)                    # z = (z_prev + DT (..)) / (1 + DT ε)
    da = DT * dz_drive * (1 - sigma ** 2)                 # (..) = sigma - .., sigma = tanh(a)
    dy_prev = dy - DT * GAMMA * dz_drive                  # y = y_prev + ..; z: -DT γ y_prev
    dy_prev = dy_prev + da @ params["W"]                  # a = W y_prev + ..
    dz_prev = dz_drive + da @ params["W_z"]               # z: z_prev; a = .. + W_z z_prev
    grads = {"W": da.T @ y_prev, "W_z": da.T @ z_prev,    # a = W y_prev + W_z z_prev
             "V": da.T @ x, "b": da.sum(axis=0)}          #     + V x + b
    return da @ params["V"], (dy_prev, dz_prev), grads
    ### END SOLUTION


selfcheck.check_step("cornn", cornn_step_forward, cornn_step_backward)
### BEGIN HIDDEN TESTS
# other sizes, a batch of one, another seed, and the adding task's Δt, γ, ε (so no value
# may be hard-coded); then the defaults again
_defaults = DT, GAMMA, EPSILON
DT, GAMMA, EPSILON = 0.06, 66.0, 15.0
selfcheck.check_step("cornn", cornn_step_forward, cornn_step_backward, input_size=1,
                     hidden_size=3, batch=1, seed=7,
                     options={"dt": DT, "gamma": GAMMA, "epsilon": EPSILON}, verbose=False)
DT, GAMMA, EPSILON = _defaults
### END HIDDEN TESTS
