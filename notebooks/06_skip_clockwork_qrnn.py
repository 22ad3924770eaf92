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
# # 06 · Computing only where it matters: Skip RNN, Clockwork RNN and QRNN
#
# Three cells whose point is doing *less work per step*:
#
# * **Skip RNN** (Campos et al., ICLR 2018) learns a binary gate $u_t$ that decides at
#   which steps the wrapped cell updates its state at all.
# * **Clockwork RNN** (Koutník et al., ICML 2014) splits the hidden units into modules
#   that tick at different periods; a module that does not tick keeps its state.
# * **QRNN** (Bradbury et al., ICLR 2017) moves every matrix product out of the
#   recurrence: a causal convolution computes all gates for all steps at once, and the
#   only sequential part is elementwise.
#
# The reference implementations of the first two compute every step and mask the
# result, so nothing gets faster; the QRNN's point is speed itself (its paper reports up
# to 16x over cuDNN's LSTM on a GPU). rnnzoo computes only what is used, and this
# notebook *measures* the saving on a CPU. Every number below is printed by code; every sentence that depends on a number
# is a `claim` that fails the notebook when the data stops supporting it.
#
# Timings are best-of-N wall times with the contestants taking turns: compare the
# ratios, not the seconds (another program on the machine moves every number).

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
from rnnzoo.benchmark import skipping as bench
from rnnzoo.teaching.figures import skipping as figs

# %% [markdown]
# ## 1. Skip RNN: a learned gate that skips state updates
#
# $$u_t = \mathrm{round}(\tilde u_t), \qquad
#   s_t = u_t \, S(s_{t-1}, x_t) + (1 - u_t)\, s_{t-1}, \qquad
#   \Delta\tilde u_t = \sigma(w_p \cdot s_t + b_p),$$
# $$\tilde u_{t+1} = u_t \, \Delta\tilde u_t + (1 - u_t)\,(\tilde u_t + \min(\Delta\tilde u_t, 1 - \tilde u_t)).$$
#
# After an update the model says, through $\Delta\tilde u_t$, how soon it wants the next
# one: $\tilde u$ grows by $\Delta\tilde u_t$ each skipped step until it rounds to 1, so
# $\lceil 0.5 / \Delta\tilde u_t \rceil - 1$ steps are skipped (the paper's eq. 6; one
# more where a multiple of $\Delta\tilde u_t$ is exactly 0.5, which rounds down to 0,
# as the cell's docstring says: a tie a trained model's $\Delta\tilde u$ all but never
# hits, but $\Delta\tilde u = 0.25$ set by hand does). The
# first step always updates ($\tilde u_1 = 1$), and $b_p$ starts at 1 as in the authors'
# code, so an untrained model updates nearly everywhere. A **budget loss**
# $\lambda \sum_t u_t$ (per sequence) pays for every update; it belongs to the cell,
# which puts its value in `cache.aux_loss` and includes its gradient in backward.
#
# **round() has no useful derivative.** Backward uses the *straight-through estimator*:
# it pretends $\partial u_t/\partial \tilde u_t = 1$. That is a surrogate by design, so
# the cell says `exact_gradient = False`, and the gradient checker refuses to pass it
# rather than compare it silently. With `soft=True` (round replaced by the identity) the
# cell is differentiable and passes the full finite-difference check, budget included:

# %%
x = np.random.default_rng(0).standard_normal((6, 2, 3))
hard = rnnzoo.make("skiprnn", 3, 4, budget=0.1)
soft = rnnzoo.make("skiprnn", 3, 4, budget=0.1, soft=True)
print("hard:", rnnzoo.gradcheck(hard, x).problems[0][:95], "...")
print(rnnzoo.gradcheck(soft, x))

# %% [markdown]
# `tests/test_skiprnn.py` checks the hard mode's other paths exactly (with the gate
# pattern frozen) and the surrogate against an explicit reference of its definition.
#
# ### The adding problem, the Skip RNN way
#
# Campos et al. use a variant of the adding problem where skipping pays: $T = 50$,
# values in $[-0.5, 0.5]$, the first marker in the first 10% of the sequence and the
# second in the last half (`make_task("adding", T=50, layout="skiprnn")`). We train Skip
# GRUs with three budgets next to a plain GRU, three seeds each, through the comparison
# harness. "Solved" is the paper's criterion (its Table 1): the held-out MSE at least two
# orders of magnitude below the target's variance, 1/6, so MSE < 1/600, the task's
# `success` in this layout (six times stricter than the 0.01 of the halves layout). The
# budget is small (300 steps) so this runs in a few minutes at most; the paper trains
# far longer, and reports that a Skip GRU with $\lambda = 10^{-5}$ solves the task with
# about 51% of the updates. `python -m rnnzoo figures skiprnn_budget` trains the same
# sweep 4x longer (1,200 steps), and `--full` 3,000 steps with $\lambda = 10^{-5}$ added.

# %%
lambdas = (0.0, 1e-4, 1e-3)
res = figs.skip_sweep(lambdas, steps=300, hidden=32, seeds=3)
fractions = figs.update_fractions(res)
print(res.summary())
for label, f in fractions.items():
    print(f"{label:22s} fraction of steps updated per seed: {np.round(f, 2)}")

# %%
lab = {lam: f"skip gru, λ={lam:g}" for lam in lambdas}
figs.skip_claims(res, fractions, ex.claim, ex.robust_claim)   # the figure's claims, too
ex.claim("even with λ = 0 every seed's trained model skips some steps (updates fewer than "
         "all)", bool((fractions[lab[0.0]] < 1).all()), updated=fractions[lab[0.0]])
below_and_half = {label: [bool(m < 0.01) and f <= 0.5 for m, f in zip(
    res.final(label, "success"), fractions[label])] for label in lab.values()}
ex.claim(f"within this budget no seed of any setting ends with at most half the updates "
         f"and an MSE below 0.01, let alone solved ({res.success.describe()})",
         not any(any(v) for v in below_and_half.values()), **below_and_half)

# %% [markdown]
# Both negative sentences above are claims about the budget until they survive more of it.
# `python -m rnnzoo figures skiprnn_budget --robust` re-ran "λ = 1e-3 does worse" at 4x
# the figure's steps on seeds 10-12; and the figure itself trains 4x this notebook's
# steps, where the last claim above no longer holds: $\lambda = 10^{-4}$ gets below
# MSE 0.01 in every seed, at least one with at most half the updates, and whether a seed
# is also solved depends on the seed. All are recorded in `figures/claims.json`:

# %%
from rnnzoo.teaching.figures.claims_file import recorded_claims, reruns_held

recorded = {c["statement"]: c for c in recorded_claims("skiprnn_budget")}
worse = [c["robustness"] for t, c in recorded.items() if "lower median accuracy" in t]
tradeoff = [c for t, c in recorded.items() if t.startswith(lab[1e-4] + " ends below MSE 0.01")]
gru_solved = [c for t, c in recorded.items() if t.startswith("gru (every step) ends solved")]
for c in recorded.values():
    if c.get("robustness"):
        print(c["statement"], "\n    figure (seeds 0-2):", c["numbers"], "\n    re-run:",
              c["robustness"]["budget_factor"], "x the steps, seeds", c["robustness"]["seeds"],
              "-> passed:", c["robustness"].get("passed"), c["robustness"].get("numbers"))
ex.claim("the recorded 4x re-run of the accuracy claim exists and passed",
         reruns_held(worse, [4]))
ex.claim(f"at 4x this budget (the figure's) {lab[1e-4]} ends below MSE 0.01 in every seed, "
         f"at least once with at most half the updates, and so again on seeds 10-12: that "
         f"part of the last claim of the previous cell is about 300 steps",
         len(tradeoff) == 1 and tradeoff[0]["passed"]
         and reruns_held([tradeoff[0]["robustness"]], [1]))
ex.claim(f"at the figure's budget the every-step GRU ends solved ({res.success.describe()}) "
         f"in every seed, {lab[1e-4]} in none of seeds 0-2 and in one of seeds 10-12",
         len(gru_solved) == 1 and gru_solved[0]["passed"] and len(tradeoff) == 1
         and sum(tradeoff[0]["numbers"]["solved"]) == 0
         and sum(tradeoff[0]["robustness"]["numbers"]["solved"]) == 1);

# %% [markdown]
# Even with $\lambda = 0$ the trained models skip some steps: nothing in the loss asks
# for updates that do not help. At 300 steps no setting gets below MSE 0.01 with at most
# half the updates; at 4x these steps (the figure's budget) the $\lambda = 10^{-4}$
# model ends below MSE 0.01 in every seed and at least one seed with at most half the
# updates (the figure's numbers above say which MSEs and fractions), but the paper's
# 1/600 it meets in only some seeds, where the every-step GRU meets it in every seed: at
# this budget the λ = 1e-4 Skip GRU solves the task by the paper's yardstick on some
# seeds (the claim above says which). The paper reports $\lambda = 10^{-5}$ solving it
# with 51% of the updates after far longer training than ours; we reproduce the
# direction of its trade-off (fewer updates for a larger $\lambda$, and at the largest a
# lower accuracy), not that result. Which steps did a model choose? Below, one
# $\lambda = 10^{-4}$ model (of this notebook's 300 steps) on twelve evaluation
# sequences, with the two marked values circled:

# %%
model = res.models(lab[1e-4])[0]
fig, ax = plt.subplots(figsize=(9, 3.8))
figs.plot_update_pattern(ax, model, res.task)
plt.show()

# %% [markdown]
# ### Skipping for real
#
# The masked forward (what the authors' code does, and what training needs) runs the
# base cell on every row and then keeps the old state where $u_t = 0$.
# `forward_skipping` runs the base cell only on the rows that update (gather, step,
# scatter), so at batch size 1 a skipped step costs no matrix product at all. It gives
# the same outputs bit for bit at batch size 1. We time both on 50 evaluation sequences,
# one at a time, for the seed-0 model of each budget, at the update rate it learned:

# %%
x_eval = res.task.eval_data()[0][:, :50].astype(np.float32)
rows = []
for lam in lambdas[1:] + (0.0,):
    cell = res.models(lab[lam])[0].cells[0]
    hs_masked = cell.forward(x_eval[:, :1])[0]
    assert np.array_equal(cell.forward_skipping(x_eval[:, :1])[0], hs_masked)
    r = bench.skipping_real_vs_masked(cell, x_eval, repeats=3)
    rows.append((lam, r))
    print(f"λ={lam:g}: updates {r['update_fraction']:.0%} of steps; masked "
          f"{r['masked_s'] * 1e3:.0f} ms, real skipping {r['real_s'] * 1e3:.0f} ms "
          f"-> {r['speedup']:.2f}x")
few = [r for _, r in rows if r["update_fraction"] < 0.5]
ex.claim("where fewer than half the steps update, real skipping is faster than the "
         "masked path", len(few) > 0 and all(r["speedup"] > 1.0 for r in few),
         speedups=[round(r["speedup"], 2) for r in few])
ex.claim("... but by less than 1 / (fraction of steps updated), the speedup if a skipped "
         "step cost nothing", all(r["speedup"] < 1 / r["update_fraction"] for r in few),
         free_skip_speedups=[round(1 / r["update_fraction"], 2) for r in few]);

# %% [markdown]
# The saving is smaller than the fraction skipped (the last claim): every step still pays
# for rounding $\tilde u_t$ and reading $u_t$ back to choose the rows, a skipped step for
# growing $\tilde u$ (but not for $\Delta\tilde u$: the state did not change, so it is
# the last step's), and each update pays Python's per-call overhead on a tiny product.
#
# **Paper eq. 6 against the model.** After an update with $\Delta\tilde u_t$, the model
# should skip exactly $\lceil 0.5/\Delta\tilde u_t \rceil - 1$ steps (no ties here):

# %%
actual, predicted = bench.skip_gaps(res.models(lab[1e-4])[0].cells[0], x_eval)
ex.claim("eq. 6 predicts every gap between two updates", np.array_equal(actual, predicted),
         gaps=actual.size, mean_skipped=float(actual.mean()) if actual.size else 0.0);

# %% [markdown]
# ## 2. Clockwork RNN: modules on their own clocks
#
# Module $i$ (of $g$, each of $k = H/g$ units) has period $T_i = 2^i$ and updates only at
# the steps $t$ with $t \bmod T_i = 0$:
#
# $$h^{(i)}_t = \tanh\Big(W^{(i)}_{ih} x_t + b^{(i)} + \sum_{j \ge i} W^{(i,j)}_{hh} h^{(j)}_{t-1}\Big)
#   \ \text{if } t \bmod T_i = 0, \qquad h^{(i)}_t = h^{(i)}_{t-1} \text{ otherwise.}$$
#
# The recurrent matrix is block upper triangular: fast modules read slow ones, never the
# reverse. Because the periods divide each other, the active modules at any step are a
# *prefix* (the fastest few), so a step is one product over the active rows. The state
# carries the step count $t$ too, since the schedule depends on the absolute step: split
# a sequence anywhere and it continues exactly.

# %%
fig, ax = plt.subplots(figsize=(9, 3.2))
figs.plot_clockwork_schedule(ax, modules=6, T=64)
plt.show()
c = bench.clockwork_vs_rnn(T=500, B=32, H=256, D=64, modules=8, repeats=3)
print(f"clockwork, 8 modules, vs a dense rnn (T=500, B=32, H=256, D=64): multiply-adds "
      f"{c['macs_fraction']:.1%} of the rnn's; forward {c['fwd_speedup']:.2f}x faster, "
      f"forward+backward {c['fwdbwd_speedup']:.2f}x")
ex.claim("clockwork with 8 modules does under 30% of a dense rnn's multiply-adds, and its "
         "forward pass is faster", c["macs_fraction"] < 0.3 and c["fwd_speedup"] > 1.0,
         macs_fraction=c["macs_fraction"], fwd_speedup=c["fwd_speedup"])
ex.claim("... but by less than the multiply-adds it saves: forward speedup below "
         "1 / (fraction of multiply-adds)", c["fwd_speedup"] < 1 / c["macs_fraction"],
         fwd_speedup=c["fwd_speedup"], macs_speedup=1 / c["macs_fraction"]);

# %% [markdown]
# The time saved is less than the multiply-adds saved (the last claim): a small product
# over a few rows runs at a lower rate than a full one, and every step still costs Python
# a few calls.
#
# Holding a state also holds its gradient: between two ticks of a slow module,
# $\partial h_t / \partial h_{t-1}$ is the identity on its units, so the gradient crosses
# the whole period without shrinking. At initialization, with the loss on the last step:

# %%
from rnnzoo.core.diagnostics import gradient_norm_over_time
T = 300
seeds = [0, 1, 2]      # the cells' weights, the input and the upstream gradient
norms_by_seed = [{name: gradient_norm_over_time(rnnzoo.make(name, 4, 64, seed=seed, **opts),
                                                T, batch=16, seed=seed)
                  for name, opts in (("rnn", {}), ("clockwork", {"modules": 8}))}
                 for seed in seeds]
ratios = [float(n["clockwork"][0] / n["rnn"][0]) for n in norms_by_seed]
print("at t = 0, clockwork's gradient over the dense rnn's, seeds", seeds, ":",
      ", ".join(f"{r:.1e}" for r in ratios))
ex.claim("at t = 0 the clockwork gradient is more than a million times the dense rnn's, on "
         "each of seeds 0-2", min(ratios) > 1e6, ratio=ratios)
norms = norms_by_seed[0]                              # the one drawn below

# %% [markdown]
# ## 3. QRNN: the recurrence without a matrix product
#
# With $\hat x_t = [x_{t-k+1}; \dots; x_t]$, one product for all steps gives
# $z_t = \tanh(W_z \hat x_t + b_z)$, $f_t = \sigma(W_f \hat x_t + b_f)$,
# $o_t = \sigma(W_o \hat x_t + b_o)$; then
# fo-pooling is the only sequential part, and it is elementwise:
# $c_t = f_t \odot c_{t-1} + (1 - f_t) \odot z_t$, $h_t = o_t \odot c_t$.
# The state carries $c$ and the last $k-1$ inputs, so a split sequence continues exactly.
#
# The paper reports up to 16x over cuDNN's LSTM on a GPU, where the convolution runs in
# parallel over time. On a CPU the arithmetic decides: per step a QRNN with window $k$
# does $3kDH$ multiply-adds where an LSTM does $4H(D + H)$. With $D = H$ and $k = 2$ that
# is $6H^2$ against $8H^2$, so the QRNN cannot be more than about 1.3x faster *by
# arithmetic*; what it gains beyond that is the LSTM's per-step overhead. Measured
# (forward + backward, float32, B = 32, H = D = 256):

# %%
timings = figs.qrnn_timings((50, 200, 500), B=32, H=256, D=256, repeats=3)
for r in timings:
    print(f"T={r['T']:4d}: qrnn {r['qrnn_s'] * 1e3:7.1f} ms, lstm {r['lstm_s'] * 1e3:7.1f} ms, "
          f"lstm/qrnn {r['ratio']:.2f}x; sequential loop {r['loop_fraction']:.0%} of qrnn's time")
narrow = bench.qrnn_vs_lstm(500, 32, 256, D=32, repeats=3)
print(f"T= 500, D=32: qrnn {narrow['qrnn_s'] * 1e3:7.1f} ms, lstm {narrow['lstm_s'] * 1e3:7.1f} ms, "
      f"lstm/qrnn {narrow['ratio']:.2f}x")
ex.claim("at the longest setting measured (T = 500, B = 32, D = H = 256) qrnn is faster "
         "than our lstm",
         timings[-1]["ratio"] > 1, ratio=timings[-1]["ratio"])
ex.claim("... and at every T measured (reported, not enforced: short runs are the noisiest)",
         all(r["ratio"] > 1 for r in timings), strict=False,
         ratios=[round(r["ratio"], 2) for r in timings])
ex.claim("a narrow input (D = 32) widens the gap: the lstm keeps its H x 4H recurrent "
         "product, the qrnn's product shrinks", narrow["ratio"] > timings[-1]["ratio"],
         ratio_D32=narrow["ratio"], ratio_D256=timings[-1]["ratio"])
for name, r in (("D = H = 256", timings[-1]), ("D = 32", narrow)):   # a measurement
    print(ex.Measurement(f"lstm/qrnn time at T = 500, {name}", {"ratio": r["ratio"]}))
loops = [r["loop_fraction"] for r in timings + [narrow]]
ex.claim("the qrnn's sequential loop takes under a tenth of its time at every setting measured",
         max(loops) < 0.1, loop_fractions=[round(f, 3) for f in loops]);

# %% [markdown]
# The sequential loop is a small share of the QRNN's time (the last claim); the
# convolution's product and the elementwise gate work (done in blocks of steps small
# enough to stay in cache) are the rest. What sets the ratio is the arithmetic of
# section 3's first paragraph (about 1.3x at $D = H$) plus the LSTM's own per-step
# overhead (where the measured ratio is above 1.33, that is the part beyond the
# arithmetic), not a slow loop; a narrow input shrinks the QRNN's product and widens the
# gap. (Timings use one BLAS thread: on a busy machine a second thread
# woken at every small LSTM step slows the LSTM far more than the QRNN's big product,
# which would flatter the QRNN.)
#
# Speed is not everything: with one layer and the same hidden size, what does each learn
# on the pixel-by-pixel digits (T = 64)? The QRNN's gates see only the current window of
# inputs, never the state, so all its memory is the elementwise $c$.

# %%
digits = figs.qrnn_digits(steps=300, hidden=64, seeds=3)
print(digits.summary())
figs.digits_claims(digits, ex.claim)

# %% [markdown]
# ## 4. The work saved, side by side
#
# Left: a Skip GRU's accuracy against the share of steps it updated (one point per
# seed). Middle: Clockwork's gradient reaching each step against a dense RNN's. Right:
# QRNN against LSTM, learning the digits (median and min-max over 3 seeds).

# %%
fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
figs.plot_skip_tradeoff(axes[0], res, fractions)
for name, style in (("rnn", "tab:red"), ("clockwork", "slategray")):
    axes[1].semilogy(np.arange(1, T + 1), norms[name], label=name, color=style)
axes[1].set_xlabel("time step t (the loss is at t = T)")
axes[1].set_ylabel(r"$\|\partial L / \partial h_t\|$")
axes[1].set_title(f"Gradient reaching each step at initialization (H = 64, seed {seeds[0]})",
                  fontsize=9)
axes[1].set_ylim(1e-30, 1e2)
axes[1].legend(fontsize=8)
axes[1].grid(True, alpha=0.3)
figs.plot_digits(axes[2], digits)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Exercises
#
# Each exercise has a self-check you can run; the answer key is kept in the
# instructor's version.
#
# 1. **Eq. 6 by hand.** A Skip RNN that always outputs $\Delta\tilde u = 0.2$ skips how
#    many steps after each update? Check: build `rnnzoo.make("skiprnn", 1, 4)`, set
#    `cell.params["w_p"][:] = 0` and `cell.params["b_p"][:] = np.log(0.2 / 0.8)`, run
#    `forward` on 20 steps and look at `cache.u[:, 0, 0]`.
#
# ### BEGIN SOLUTION
# *Answer key:* after an update $\tilde u = \Delta\tilde u = 0.2$; each skipped step adds
# 0.2, and the next update comes when the rounded value reaches 1, i.e. when
# $\tilde u \ge 0.5$: at 0.2, 0.4 it skips, at 0.6 it updates. So it skips 2 steps
# after each update (an update every 3rd step), which `cache.u` shows.
# ### END SOLUTION
#
# 2. **Clockwork's bill.** With 6 modules of periods $1, 2, \dots, 32$, how many
#    module-steps out of $6 \times 64$ are computed in 64 steps? Derive
#    $\sum_i \lceil 64 / 2^i \rceil$, then check with
#    `rnnzoo.make("clockwork", 1, 6, modules=6).schedule(64, np.zeros(1, int)).sum()`.
#    What fraction do 8 modules compute as $T \to \infty$? Write
#    `clockwork_module_steps(T, modules)` and `clockwork_fraction_limit(modules)`.

# %%
def clockwork_module_steps(T, modules):
    """Module-steps computed in T steps by modules with periods 1, 2, 4, ..."""
    ### BEGIN SOLUTION
    return sum(-(-T // 2 ** i) for i in range(modules))
    ### END SOLUTION


def clockwork_fraction_limit(modules):
    """The fraction of module-steps computed as T -> infinity."""
    ### BEGIN SOLUTION
    return sum(0.5 ** i for i in range(modules)) / modules
    ### END SOLUTION


# 65 and 5 steps too: where T is a multiple of every period, rounding down agrees
for _T, _m in [(64, 6), (65, 6), (5, 3)]:
    _cw = rnnzoo.make("clockwork", 1, _m, modules=_m)
    selfcheck.check_close(selfcheck.attempt(clockwork_module_steps, _T, _m),
                          _cw.schedule(_T, np.zeros(1, int)).sum(),
                          f"clockwork_module_steps({_T}, {_m})",
                          hint="module i (period 2^i) runs at steps 0, 2^i, 2*2^i, ...")
_cw8 = rnnzoo.make("clockwork", 1, 8, modules=8)
selfcheck.check_close(selfcheck.attempt(clockwork_fraction_limit, 8),
                      _cw8.schedule(2 ** 16, np.zeros(1, int)).sum() / (8 * 2 ** 16),
                      "clockwork_fraction_limit(8)", rtol=1e-3,
                      hint="module i computes a fraction 1/2^i of the steps")
print("PASS: your counts match the cell's schedule")
### BEGIN HIDDEN TESTS
assert clockwork_module_steps(64, 6) == 126
assert clockwork_module_steps(7, 2) == 11 and clockwork_module_steps(1, 4) == 4
assert abs(clockwork_fraction_limit(8) - 255 / 1024) < 1e-12
### END HIDDEN TESTS

# %% [markdown]
# 3. **QRNN's arithmetic.** Predict the lstm/qrnn time ratio from multiply-adds for
#    $k = 1$, $D = H = 256$ (it is $4H(D+H) / 3kDH$), then measure
#    `bench.qrnn_vs_lstm(window=1, repeats=3)["ratio"]`. Do the same for `D=32, window=2`
#    and compare with the measurement above. Which part of the gap does arithmetic
#    explain, and which part is the LSTM's per-step overhead?
#
# ### BEGIN SOLUTION
# *Answer key:* at $k = 1$, $D = H = 256$ the ratio of multiply-adds is $4 \cdot 256
# \cdot 512 / (3 \cdot 256^2) = 8/3 \approx 2.7$. Anything the measurement shows beyond
# that is the LSTM's per-step overhead (a small matrix product and elementwise work per
# step in a Python loop, where the QRNN does one large GEMM for all steps).
# ### END SOLUTION
#
# 4. **The surrogate.** Run `rnnzoo.gradcheck` on `rnnzoo.make("skiprnn", 3, 4,
#    soft=True, budget=0.5)` and on the same cell with `soft=False`. Why can the second
#    never pass, and what does `tests/test_skiprnn.py` check instead?
#
# ### BEGIN SOLUTION
# *Answer key:* the hard cell rounds $\tilde u$, whose true derivative is 0 almost
# everywhere; backward uses the straight-through estimator (derivative 1) by design, so
# finite differences, which measure the true derivative, disagree. The tests check the
# soft mode by finite differences and the hard mode's surrogate against its definition.
# ### END SOLUTION

# %% [markdown]
# 5. **The Clockwork step, forward and back.** Write one step of `clockwork` (section 2)
#    and its backward, the way Exercise A of notebook 02b does the LSTM's. The state is
#    the pair `(h, t)`: h (B, H) and the step count t (B, 1), a float that each row
#    carries (rows may be at different steps; read it with `np.rint`). The H units form
#    `len(PERIODS)` modules, module i holding the units `np.array_split(np.arange(H),
#    len(PERIODS))[i]` with period `PERIODS[i]` (set in the cell below). With $m_t$ (B, H)
#    the mask of the units whose module is active at the row's step ($t \bmod T_i = 0$)
#    and $M$ (H, H) the block upper triangular mask (unit $u$ reads unit $v$ when $v$'s
#    module is at least $u$'s):
#
#    $$a_t = W_{ih} x_t + b + (W_{hh} \odot M)\, h_{t-1}, \qquad
#    h_t = m_t \odot \tanh(a_t) + (1 - m_t) \odot h_{t-1}, \qquad t \mapsto t + 1 .$$
#
#    `params["W_ih"]` is (H, D), `params["W_hh"]` (H, H) (the whole matrix; the forward
#    applies $M$) and `params["b"]` (H,); x is (B, D). The backward receives the pair
#    $(\partial L/\partial h_t, \partial L/\partial t_{\text{next}})$ and returns `(dx,
#    (dh_prev, dt_prev), grads)`, `grads` a dict with the keys and shapes of `params`
#    (an entry of $W_{hh}$ that $M$ masks out has no effect on the loss). The schedule is
#    piecewise constant in t, so t gets no gradient through it; it still is a state
#    component, with a gradient to carry back.
#
#    What it teaches: a module that sleeps at step t is an identity there, so the
#    gradient reaching its units crosses the step untouched (no $\tanh'$, no matrix),
#    which is why the slow modules carry it so far back (section 2's middle panel).
#    *Check:* against rnnzoo's `clockwork` on fixed inputs, then `rnnzoo.gradcheck`
#    through 5 steps of yours (from rows at different steps).

# %%
PERIODS = (1, 2, 4)                     # T_i of modules 0, 1, 2: the default 2^i for g = 3


def clockwork_step_forward(x, state, params):
    """One Clockwork step: x (B, D), state (h_prev (B, H), t (B, 1)) -> ((h, t + 1), cache)."""
    ### BEGIN SOLUTION
    h_prev, t = state
    H = h_prev.shape[1]
    units = np.array_split(np.arange(H), len(PERIODS))
    module = np.repeat(np.arange(len(PERIODS)), [len(u) for u in units])   # of each unit
    reads = (module[:, None] <= module[None, :]).astype(float)   # M: u reads v
    active = np.rint(t).astype(int) % np.array(PERIODS)[module] == 0   # m_t, (B, H)
    a = x @ params["W_ih"].T + params["b"] + h_prev @ (params["W_hh"] * reads).T
    candidate = np.tanh(a)
    h = np.where(active, candidate, h_prev)
    return (h, t + 1), (x, h_prev, candidate, active, reads, params)
    ### END SOLUTION


def clockwork_step_backward(dstate, cache):
    """(dL/dh_t (B, H), dL/dt_next (B, 1)) -> (dx (B, D), (dh_prev, dt_prev), grads)."""
    ### BEGIN SOLUTION
    dh, dt_next = dstate
    x, h_prev, candidate, active, reads, params = cache
    da = np.where(active, dh, 0.0) * (1 - candidate ** 2)   # h = tanh(a) where active
    dh_prev = np.where(active, 0.0, dh)                    # h = h_prev where asleep
    dh_prev = dh_prev + da @ (params["W_hh"] * reads)      # a = .. + (W_hh M) h_prev
    grads = {"W_ih": da.T @ x, "b": da.sum(axis=0),        # a = W_ih x + b + ..
             "W_hh": (da.T @ h_prev) * reads}              # a = .. + (W_hh M) h_prev
    return da @ params["W_ih"], (dh_prev, dt_next), grads  # t_next = t + 1
    ### END SOLUTION


# seed 5 starts the two rows at steps 0 and 1: every module runs in one, only module 0
# in the other
selfcheck.check_step("clockwork", clockwork_step_forward, clockwork_step_backward,
                     hidden_size=6, seed=5, options={"periods": list(PERIODS)})
### BEGIN HIDDEN TESTS
# other sizes (modules of 3 and 2 units), a batch of one, another seed and other periods
# (so none may be hard-coded); then the periods above again
_periods = PERIODS
PERIODS = (1, 3)
selfcheck.check_step("clockwork", clockwork_step_forward, clockwork_step_backward,
                     input_size=1, hidden_size=5, batch=1, seed=7,
                     options={"periods": list(PERIODS)}, verbose=False)
PERIODS = _periods
### END HIDDEN TESTS
