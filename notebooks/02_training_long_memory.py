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
# # 02 · Training on long-memory tasks, honestly
#
# Notebook 01 showed the *gradient* of a vanilla RNN shrinking geometrically on its way
# back in time. Here we see what that means for **learning**: we train `rnn`, `lstm` and
# `gru` on a task whose answer depends on inputs far in the past, and compare each
# learning curve with the task's **trivial baseline**, the loss of the best predictor
# that has no memory at all. A model that never gets below it has learned nothing
# about the past.
#
# A comparison a student can believe has to be fair, so every one in this notebook goes
# through `rnnzoo.experiments`:
#
# * **several seeds** (3 here), drawn as the median with a band from the best to the
#   worst seed: one seed can be lucky;
# * **one budget** for every cell (steps, batch, learning rate, clipping, hidden size),
#   written under every plot;
# * **matched initialization**: where a cell has a standard trick that the papers also
#   gave their baselines, it gets it. For the LSTM that is a forget-gate bias of 1
#   (Gers et al., 2000; Jozefowicz et al., 2015). Turning it off is allowed only with a
#   note saying why, and we do that once below, on purpose;
# * **claims are checks**: each sentence that a result supports is stated with
#   `ex.claim(...)`, which prints PASS or FAIL with the numbers and stops the notebook
#   if the data no longer supports it.
#
# Everything runs on a laptop CPU in a minute or two, two training processes at a time.

# %%
import sys
import pathlib

try:
    import rnnzoo
except ImportError:                      # running from a checkout: notebooks/ is the cwd
    sys.path.insert(0, str(pathlib.Path.cwd().parent))
    import rnnzoo

import matplotlib.pyplot as plt
import numpy as np

from rnnzoo import experiments as ex
from rnnzoo.teaching import selfcheck    # the exercises' checks
from rnnzoo.tasks import make_task

# %% [markdown]
# ## Warm-up: the GRU step by hand
#
# Before training GRUs, write one step of it the way a textbook does, with PyTorch's
# equations (gate order r, z, n; the reset gate multiplies $W_{hn} h_{t-1} + b_{hn}$):
#
# $$\begin{aligned}
# r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}), \qquad
# z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}), \\
# n_t &= \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})), \qquad
# h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}.
# \end{aligned}$$
#
# `params["W_ih"]` stacks $[W_{ir}; W_{iz}; W_{in}]$ (3H, D), `params["W_hh"]` stacks
# $[W_{hr}; W_{hz}; W_{hn}]$ (3H, H), and the biases `b_ih`, `b_hh` (3H,) likewise. The
# backward goes from $\partial L/\partial h_t$ to the gradients of $x_t$, $h_{t-1}$ and
# every parameter. The check compares your step with rnnzoo's `gru` on fixed inputs and
# runs `rnnzoo.gradcheck` through a sequence of your steps.

# %%
def gru_step_forward(x, h_prev, params):
    """One GRU step: x (B, D), h_prev (B, H) -> (h (B, H), cache)."""
    ### BEGIN SOLUTION
    H = h_prev.shape[1]
    gi = x @ params["W_ih"].T + params["b_ih"]          # input halves of r, z, n
    gh = h_prev @ params["W_hh"].T + params["b_hh"]     # recurrent halves of r, z, n
    r = 1 / (1 + np.exp(-(gi[:, :H] + gh[:, :H])))
    z = 1 / (1 + np.exp(-(gi[:, H:2 * H] + gh[:, H:2 * H])))
    hn = gh[:, 2 * H:]                                  # W_hn h_{t-1} + b_hn
    n = np.tanh(gi[:, 2 * H:] + r * hn)
    h = (1 - z) * n + z * h_prev
    return h, (x, h_prev, r, z, n, hn, params)
    ### END SOLUTION


def gru_step_backward(dh, cache):
    """dL/dh_t (B, H) -> (dx (B, D), dh_prev (B, H), grads dict like params)."""
    ### BEGIN SOLUTION
    x, h_prev, r, z, n, hn, params = cache
    dn = dh * (1 - z)                                   # h = (1 - z) n + ...
    dz = dh * (h_prev - n)                              # h = ... z (h_prev - n)
    dh_prev = dh * z                                    # h = ... + z h_prev
    dan = dn * (1 - n ** 2)                             # n = tanh(a_n)
    dhn = dan * r                                       # a_n = ... + r hn
    dar = dan * hn * r * (1 - r)                        # r = sigmoid(a_r)
    daz = dz * z * (1 - z)                              # z = sigmoid(a_z)
    dgi = np.concatenate([dar, daz, dan], axis=1)       # gi feeds a_r, a_z, a_n
    dgh = np.concatenate([dar, daz, dhn], axis=1)       # gh feeds a_r, a_z, hn
    grads = {"W_ih": dgi.T @ x, "W_hh": dgh.T @ h_prev,
             "b_ih": dgi.sum(axis=0), "b_hh": dgh.sum(axis=0)}
    return dgi @ params["W_ih"], dh_prev + dgh @ params["W_hh"], grads
    ### END SOLUTION


selfcheck.check_step("gru", gru_step_forward, gru_step_backward)
### BEGIN HIDDEN TESTS
# other sizes, a batch of one and another seed (no shape may be hard-coded)
selfcheck.check_step("gru", gru_step_forward, gru_step_backward, input_size=1, hidden_size=3,
                     batch=1, seed=7, verbose=False);
### END HIDDEN TESTS

# %% [markdown]
# ## The adding problem
#
# Each sequence has two channels: random values $u_t \sim \mathcal U[0,1]$ and a marker
# that is 1 at exactly two steps, one in the first half and one in the second. The
# target, read out after the last step, is the sum of the two marked values.
# Predicting the constant 1 (the target's mean) gives MSE
# $\mathrm{Var}(u_a + u_b) = 2/12 \approx 0.167$: that is the baseline. To beat it, the
# model must hold the first marked value for up to $T$ steps.

# %%
adding = make_task("adding", T=50, seed=0)
print(adding.describe())
x, target = adding.batch(2, np.random.default_rng(0))
print("x:", x.shape, " target:", target.shape)
print("marked steps of sequence 0:", np.flatnonzero(x[:, 0, 1]),
      " values:", x[x[:, 0, 1] == 1, 0, 0].round(3), " target:", target[0].round(3))

# %% [markdown]
# ## Three cells, three seeds, one budget
#
# The budget: Adam at learning rate 0.01, gradient clipping at global norm 1, batches of
# 32, hidden size 32, float32, 800 steps. "Left the baseline" means the evaluation loss
# fell below half of the baseline; the table gives the step at which each seed did.
# "Solved" is the task's own criterion, MSE < 0.01; the accuracy column is the fraction
# of evaluation sequences answered within 0.04 of the target (Hochreiter & Schmidhuber's
# test of a correct answer), a stricter reading of the same output.

# %%
budget = ex.Budget(steps=800, hidden=32, lr=1e-2, clip=1.0, batch_size=32)
cells = ex.compare([ex.Variant("rnn"), ex.Variant("lstm"), ex.Variant("gru")],
                   task="adding", task_options={"T": 50}, budget=budget, seeds=3)
print(cells.summary())

# %%
ex.claim("the GRU and the (forget bias 1) LSTM leave the baseline in every seed",
         cells.below_half_baseline("gru") == 3
         and cells.below_half_baseline("lstm") == 3,
         gru_steps=cells.left_baseline("gru"), lstm_steps=cells.left_baseline("lstm"))
ex.claim("within this budget the vanilla RNN gets below half the baseline in no seed",
         cells.below_half_baseline("rnn") == 0, rnn_final=cells.final("rnn"))
rnn_ratio = float(np.median(cells.final("rnn"))) / adding.baseline
print(f"the RNN ends at {rnn_ratio:.0%} of the baseline (median over seeds)")
# "no seed" is a statement about these 800 steps, and this claim is not re-run here. The
# figures command makes the same claim on its own, longer experiment (a longer sequence, a
# wider model, more steps: its spec is printed below) and re-ran it at 4x its steps on
# seeds 10-12 (figures/claims.json)
from rnnzoo.teaching.figures.claims_file import recorded_robustness, reruns_held
longer = {k: v for k, v in recorded_robustness("long_memory_tasks").items() if "tanh rnn" in k}
for statement, entry in longer.items():
    print("recorded re-run:", statement, "|", entry["budget_factor"], "x the steps, seeds",
          entry["seeds"], "-> passed:", entry["passed"], "| final MSE",
          [round(v, 3) for v in entry["numbers"]["rnn (tanh)"]["final MSE"]])
    print("   its experiment:", entry["spec"])
ex.claim("the figures command's version of this claim held at 4x its steps on seeds 10-12",
         reruns_held(longer, [4]));

# %% [markdown]
# The vanilla RNN ends at the fraction of the baseline printed above (the baseline is the
# loss of always predicting the mean) and gets below half of it in no seed within this
# budget. The 4x re-run printed above is of the figures command's experiment, not of this
# one: a longer sequence and a wider model (its spec is printed), where the tanh RNN did
# not get there either. Half the baseline is what a model would reach that remembered
# only the *second*, more recent marked value: $\mathrm{Var}(u_a) = 1/12$.
#
# ## The initialization is part of the experiment
#
# The LSTM above started with its forget gates near $\sigma(1) \approx 0.73$. With
# PyTorch's default (bias 0) they start at $\sigma(0) = 0.5$: the cell state halves at
# every step until the gates learn otherwise. Here is the *deliberately unfair* run,
# labelled as such:

# %%
unfair = ex.compare([ex.Variant("lstm", {"forget_bias": 0.0}, label="lstm (forget bias 0)",
                                note="PyTorch's default init, to show what the bias does",
                                style={"linestyle": "--"})],
                    task="adding", task_options={"T": 50}, budget=budget, seeds=3)
print(unfair.summary())
fair_steps, unfair_steps = cells.left_baseline("lstm"), unfair.left_baseline("lstm (forget bias 0)")
later = [u is None or (f is not None and u > f) for f, u in zip(fair_steps, unfair_steps)]
ex.claim("with forget bias 0 the LSTM leaves the baseline later (or never) in at least 2 "
         "of 3 seeds", sum(later) >= 2, forget_bias_1=fair_steps, forget_bias_0=unfair_steps);

# %% [markdown]
# The effect is modest here (the steps are printed above: at least two of three seeds
# leave later with bias 0), and it is the direction that matters: a figure that gives
# the LSTM bias 0 and every other cell its own best-known initialization measures the
# initialization as well as the architecture.
#
# ## The gradient at initialization does not decide what can be learned
#
# Notebook 01's plots suggest a simple story: the gradient that reaches the early steps
# at initialization decides what a cell can learn. The GRU is the counter-example.
# Below, for the same runs, is $\|\partial L/\partial h_t\|$ relative to its value at the
# last step, for the task's own loss on evaluation sequences: dashed at initialization,
# solid after training (median over the 3 seeds, the band from min to max), and the smallest value each reaches in
# the first half of the sequence, where the first marker can be.

# %%
from rnnzoo.teaching.figures.training import gradient_before_after

norms = gradient_before_after(cells, ["rnn", "lstm", "gru"])
first_half = slice(0, adding.T // 2)             # where the first marker can be
reach = {label: [float(np.median(curves[:, first_half].min(axis=1))) for curves in pair]
         for label, pair in norms.items()}
for label, (before, after) in reach.items():
    print(f"{label:5s} smallest relative gradient in the first half: at init {before:.1e}, "
          f"trained {after:.1e}")
fig, ax = plt.subplots(figsize=(7, 3.8))
for label, (before, after) in norms.items():
    line, = ax.semilogy(np.median(after, axis=0), label=f"{label}, trained")
    ax.semilogy(np.median(before, axis=0), "--", color=line.get_color(),
                label=f"{label}, at initialization")
    for curves in (before, after):               # the band: min to max over the seeds
        ax.fill_between(np.arange(curves.shape[1]), curves.min(axis=0), curves.max(axis=0),
                        color=line.get_color(), alpha=0.12, lw=0)
ax.axvspan(0, adding.T // 2, color="0.9", zorder=0)
ax.set_xlabel("step t (the loss reads the last step; shaded: where the first marker can be)")
ax.set_ylabel("‖dL/dh_t‖ / ‖dL/dh_T‖")
ax.set_title(f"adding, T = {adding.T}: the gradient before and after training "
             f"(median of 3 seeds, band: min to max)\n{budget.describe()}", fontsize=9)
ax.legend(fontsize=7, ncol=3);

# %%
ex.claim("the GRU's gradient reaching the first half shrinks below 1e-3 of its size at "
         "the loss at initialization, yet the GRU gets below half the baseline in every seed",
         reach["gru"][0] < 1e-3 and cells.below_half_baseline("gru") == 3,
         at_init=reach["gru"][0])
ex.claim("after training, more of the GRU's gradient reaches the first half than at "
         "initialization (by at least 10x)", reach["gru"][1] >= 10 * reach["gru"][0],
         at_init=reach["gru"][0], trained=reach["gru"][1]);

# %% [markdown]
# What changed is not the architecture but the **path**. The step Jacobian of a gated
# cell depends on its gates, and the gates are learned. At initialization every gate
# sits near 0.5 and the gradient decays geometrically. But a tiny gradient is small,
# not zero, and the gates are also learned from what the recent steps' large gradient
# tells them (the truncated-BPTT run below is a test of how far that goes). Our reading,
# which the curves above are consistent with but do not prove: as soon as the update gates
# learn to stay near "keep" after the first marker, the Jacobian along the path the task
# needs is close to the identity and the gradient gets through. A vanishing gradient at
# initialization *slows* learning (the long plateau at the baseline). The vanilla RNN's
# Jacobian changes with training too (its $W_{hh}$ is learned: compare its two curves
# above), but its multiplier $\mathrm{diag}(\tanh')W_{hh}$ has no gate that can hold a unit
# at "keep"; within this budget, and in the figures command's longer experiment re-run at
# 4x its steps (printed above), it did not learn the task. That is what we measured, not a
# proof that it never can (notebook 01's IRNN is a vanilla RNN whose Jacobian does not
# vanish).
#
# ## Truncated backpropagation through time
#
# Long sequences are often trained with **truncated BPTT**: the sequence is cut into
# chunks of $k$ steps, each chunk starts from the previous chunk's final state (the
# forward pass is whole), but the gradient is not carried back across chunk boundaries.
# It saves memory and time, and it cuts every gradient path longer than $k$. On the
# adding problem with $T = 50$ and $k = 25$, the loss at the end reaches only the last
# 25 steps, which hold the second marker but never the first. Predict before you run:
# can the GRU still learn the sum?

# %%
truncated = ex.compare([ex.Variant("gru", label="gru, truncated to 25 steps",
                                   budget={"tbptt": 25}, style={"linestyle": "--"})],
                       task="adding", task_options={"T": 50}, budget=budget, seeds=3)
print(truncated.summary())
cut = "gru, truncated to 25 steps"
ex.claim(f"truncated to 25 steps, the GRU still gets below half the adding baseline and ends "
         f"solved ({truncated.success.describe()}, the task's criterion) in every seed",
         truncated.below_half_baseline(cut) == 3 and truncated.solved(cut) == 3,
         below_half_at=truncated.left_baseline(cut), solved_at=truncated.solved_at(cut))

# %% [markdown]
# It can, and the reason is worth remembering: truncation cuts the *gradient*, not the
# forward pass, and the weights are shared by every step. The last chunk contains a
# complete lesson, "when the marker is on, add the value into the state; otherwise keep
# the state", because the second marker is in it. The same weights then do the same to
# the first marker in the first chunk, where no gradient ever arrived.
#
# A task where the lesson itself spans the cut is different. In the **copy task** the
# ten symbols are shown at the start and must be recalled after a gap: each symbol is
# recalled $T + 10$ steps after it was shown, so with chunks of $k \le T + 10$ steps no
# chunk ever contains both a symbol and its recall, and no gradient ever tells the model
# to store a symbol for later. (Ten symbols from 8 categories, $T - 1$ blanks and a
# delimiter, then the ten symbols to recall; the loss is the cross-entropy over all
# $T + 20$ steps, and the memoryless baseline $10 \ln 8/(T + 20)$ outputs blanks and then
# guesses.) Here $T = 10$ and we compare full BPTT with $k = 10$. This task needs more
# capacity: hidden size 64.

# %%
copy_budget = ex.Budget(steps=800, hidden=64, lr=1e-2, clip=1.0, batch_size=32)
copy = ex.compare([ex.Variant("gru", label="gru, full BPTT"),
                   ex.Variant("gru", label="gru, truncated to 10 steps", budget={"tbptt": 10},
                              style={"linestyle": "--"})],
                  task="copy", task_options={"T": 10}, budget=copy_budget, seeds=3)
print(copy.summary())
full_copy, cut_copy = copy.final("gru, full BPTT"), copy.final("gru, truncated to 10 steps")
ex.claim("on the copy task full BPTT ends below the baseline in every seed, and truncation "
         "to 10 steps ends above every full-BPTT seed",
         bool(np.all(full_copy < copy.baseline) and cut_copy.min() > full_copy.max()),
         baseline=copy.baseline, full=full_copy, truncated=cut_copy)
# how far below the baseline each gets (medians): the truncated run's share of full BPTT's
gain = {k: copy.baseline - float(np.median(v)) for k, v in
        [("full BPTT", full_copy), ("truncated", cut_copy)]}
share = gain["truncated"] / gain["full BPTT"]
print(f"below the baseline by (median): {gain}; truncated / full = {share:.2f}")
ex.claim("truncated to 10 steps, the GRU gets less than a quarter as far below the copy "
         "baseline as with full BPTT (medians)", share < 0.25, share=share);

# %% [markdown]
# Below the baseline is a low bar here: neither run is near solving the copy task at this
# budget (the summary above gives each seed's recall accuracy and "solved", which asks
# for 0.99). What truncation changes is how far below the baseline the model gets: the
# truncated runs get a fraction of full BPTT's way (printed above), and where that
# fraction is above zero they do recall a little better than the memoryless guess. No
# gradient told them to store a symbol; our reading, which these runs do not test, is
# that the last chunk's weights learn to read whatever the untaught state happens to
# keep of the symbols.
#
# ## The curves
#
# Left: the three cells with the fair LSTM, and the unfair LSTM dashed. Right: the copy
# task with full and truncated BPTT. The budgets are written under the figure.

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.3))
cells.plot(axes[0], title="adding, T = 50: 3 seeds each")
unfair.plot(axes[0], baseline=False, title="adding, T = 50: 3 seeds each")
copy.plot(axes[1], log=False, title="copy, gap T = 10: full vs truncated BPTT")
axes[1].set_ylim(0, 1.5 * copy.baseline)
fig.tight_layout()
fig.text(0.01, -0.02, "Left: " + cells.caption() + "\nRight: " + copy.caption(),
         fontsize=7.5, va="top")
plt.show()

# %% [markdown]
# **Try it.** The same comparison from the shell, with the same budget (add
# `--save-plot adding.png` for the figure):
#
# ```
# python -m rnnzoo compare --cells rnn lstm gru --task adding --T 50 --steps 800 \
#     --hidden 32 --lr 0.01 --clip 1 --n-seeds 3
# ```
#
# Longer runs: `python -m rnnzoo figures long_memory_tasks` (T = 100, 1500 steps) and
# `--full` (T = 200).
#
# ## Exercises
#
# Each exercise has a self-check you can run; the answer key is kept in the
# instructor's version.
#
# 1. **Where does truncation start to hurt the adding problem?** With $k = 25$ the last
#    chunk always holds the second marker. With $k = 5$ it holds it only when the marker
#    falls in the last 5 of the 25 positions of the second half. Predict whether the GRU
#    still learns, then run `ex.compare([ex.Variant("gru", budget={"tbptt": 5})],
#    task="adding", task_options={"T": 50}, budget=budget, seeds=3)`. *Check:* if no
#    chunk ever taught anything, the loss would stay at the baseline, 1/6; compare
#    `result.final(...)` with it.
#
# ### BEGIN SOLUTION
# *Answer key:* measured, not predicted: a chunk of 5 steps holds the second marker in
# only 1 of 5 draws and never the first, so the first value can only be learned through
# the carried state. Full marks for the prediction stated before running and for
# comparing every seed's `result.final("gru", "loss")` with 1/6.
# ### END SOLUTION
#
# 2. **The forget bias.** Rerun the unfair LSTM with `forget_bias` 3. Does it leave the
#    baseline sooner than with 1? *Check:* compare `left_baseline(...)` of the two runs
#    seed by seed.
#
# ### BEGIN SOLUTION
# *Answer key:* a larger forget bias starts $f_t = \sigma(3) \approx 0.95$, so the cell
# state keeps about $0.95^{25}$ of a value across the gap instead of $0.73^{25}$ with bias
# 1: the gradient to the first marker is larger at the start, which tends to make it
# leave the baseline sooner; judge it seed by seed from `left_baseline`.
# ### END SOLUTION
#
# 3. **The IRNN.** Train `ex.Variant("rnn", {"nonlinearity": "relu", "identity_init":
#    True})` under the same budget. Does the identity initialization rescue the vanilla
#    RNN at $T = 50$? *Check:* `result.below_half_baseline(label)` counts the seeds that
#    got below half the baseline, `result.solved(label)` those that end solved by the
#    task's own criterion (MSE < 0.01).
#
# ### BEGIN SOLUTION
# *Answer key:* measured: on active units the IRNN's step Jacobian is the identity, so
# its gradient does not vanish at initialization (notebook 01); whether it also learns
# the task in this budget is what `result.solved(label)` reports. A relu RNN is also
# prone to blow up, so note any `diverged` seeds.
# ### END SOLUTION
#
# 4. **Count the GRU.** Write `gru_num_params(D, H)`, the parameter count of
#    `rnnzoo.make("gru", D, H)`, as a formula.

# %%
def gru_num_params(D, H):
    """Parameters of a GRU with input size D and hidden size H (PyTorch's layout)."""
    ### BEGIN SOLUTION
    return 3 * H * D + 3 * H * H + 6 * H
    ### END SOLUTION


for _D, _H in [(1, 1), (3, 5), (10, 7)]:
    selfcheck.check_close(selfcheck.attempt(gru_num_params, _D, _H),
                          rnnzoo.make("gru", _D, _H).num_params(), f"gru_num_params({_D}, {_H})",
                          hint="three gates, each with an input and a recurrent matrix and "
                               "two bias vectors")
print("PASS: your formula counts the GRU's parameters")
### BEGIN HIDDEN TESTS
assert gru_num_params(2, 3) == 3 * 3 * 2 + 3 * 3 * 3 + 6 * 3
### END HIDDEN TESTS
