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
# # 07 · Fast memory: the Delta-RNN and the fast-weights RNN
#
# A recurrent cell keeps everything it knows in its hidden state $h_t$. Two ideas give
# it more room without making $h_t$ bigger:
#
# * **Delta-RNN** (Ororbia, Mikolov & Reitter, 2017, "Learning Simpler Language Models
#   with the Differential State Framework") splits the update into a fast, data-driven
#   proposal $z_t$ and a slowly changing state, and lets one gate, driven by the input
#   alone, choose between keeping $h_{t-1}$ and taking $z_t$.
# * **Fast weights** (Ba, Hinton, Mnih, Leibo & Ionescu, 2016, "Using Fast Weights to
#   Attend to the Recent Past") add a second memory next to $h_t$: a matrix $A(t)$,
#   written with the outer product of each new state and decayed every step, that the
#   cell reads in a short inner loop. It is an associative memory of the current
#   sequence, $H^2$ numbers where $h$ has $H$.
#
# We test both on the task the fast-weights paper used to make its point:
# **associative retrieval** at a small hidden size.

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
from rnnzoo.teaching.figures import fast_memory as fm     # the figures' runs and claims
from rnnzoo.teaching.figures.claims_file import recorded_robustness

# %% [markdown]
# ## 1. The task
#
# Four pairs of a distinct letter and a digit, then `??`, then one of the four letters;
# the answer is that letter's digit. Every symbol is one-hot over 37 symbols (26
# letters, 10 digits, `?`), so $T = 11$. This is the definition of the public
# reproductions (`generator.py` of jiamings/fast-weights: distinct keys
# `random.randint(0, 25)` redrawn on a repeat, digits `randint(0, 9)`, `??`, a key
# drawn from the four; their softmax runs over all 37 symbols, ours over the 10 digits).
# Guessing a digit gives cross-entropy $\ln 10$ (accuracy 1/10).
#
# **The plateau.** A network that remembers *which digits appeared* but not which key
# each belongs to can do better than guessing: it answers the digit that appeared most
# often among the four values. When the four values are distinct it is right with
# probability 1/4; when a digit repeats, more often (two 7s among the four: right half
# the time if it answers 7). Averaged over the values the generator draws (four digits,
# independent and uniform), that predictor's accuracy is $E[\max_v c_v] / 4$, with $c_v$
# the count of digit $v$ among the values. The task computes it exactly
# (`rnnzoo.training.tasks.memory.value_bag_plateau`, summing over the ways the four
# values can repeat): the plateau every cell sits on at first, and the level the plot in
# section 4 draws. *Solved* (`task.success`) asks for an accuracy at least halfway from
# that plateau to 1.

# %%
task = rnnzoo.make_task("associative", seed=0)
print(task.describe())
x, y = task.batch(5, np.random.default_rng(1))
for b in range(5):
    print(task.decode(x[:, b]), "->", y[b])
K = task.pairs
distinct = np.prod(np.arange(10, 10 - K, -1)) / 10 ** K      # all four values differ
print(f"four distinct values in {distinct:.1%} of sequences (then the bag of digits is "
      f"right 1 time in {K}); a repeat in the rest")
print(f"plateau (knows which digits, not which key): accuracy {task.plateau_accuracy:.4f}, "
      f"cross-entropy {task.plateau_loss:.4f} nats (guessing: {task.baseline:.4f})")
print("solved:", task.success.describe(), "-", task.success.source)
# the same number by sampling: the query picks one of the K values, the bag of digits
# answers the most frequent one, right with probability (its count) / K
values = np.random.default_rng(2).integers(0, 10, (200_000, K))
counts = np.stack([(values == v).sum(axis=1) for v in range(10)], axis=1)
print(f"the same by sampling 200,000 sets of values: {counts.max(axis=1).mean() / K:.4f}")

# %% [markdown]
# ## 2. The Delta-RNN
#
# $$\begin{aligned}
# z_t &= \tanh(\alpha \odot V h_{t-1} \odot W x_t + \beta_1 \odot V h_{t-1}
#        + \beta_2 \odot W x_t + b_z) && \text{inner function} \\
# r_t &= \sigma(W x_t + b_r) && \text{gate, from the same } W x_t \\
# h_t &= \Phi\big((1 - r_t) \odot z_t + r_t \odot h_{t-1}\big) && \text{outer function}
# \end{aligned}$$
#
# Two things to notice. First, the gate reads only $x_t$: whether the cell keeps its
# state is decided by *what it sees*, not by what it remembers. Second, $W x_t$ is
# computed once and used twice, in $z_t$ and in $r_t$. So the gradient of $W$ has two
# terms, $\partial L/\partial (W x_t) = (\alpha \odot V h_{t-1} + \beta_2) \odot
# \partial L/\partial(\text{pre-}z) + r_t(1 - r_t) \odot \partial L/\partial r_t$, and a
# backward that forgets either one is wrong. The finite-difference check below passes
# for $W$; `tests/test_fast_memory.py` also checks that the two paths each carry a
# large part of it. $\Phi$ defaults to $\tanh$, as in the authors' released training
# script; $\alpha$ starts at 2, the paper's Penn Treebank value.

# %%
cell = rnnzoo.make("deltarnn", input_size=3, hidden_size=4, seed=0)
print({k: v.shape for k, v in cell.params.items()})
print(rnnzoo.gradcheck(cell, np.random.default_rng(0).standard_normal((6, 2, 3))).table())

# %% [markdown]
# ## 3. The fast-weights RNN
#
# In the paper's indexing (x(t) and h(t) make h(t+1)):
#
# $$\begin{aligned}
# A(t) &= \lambda A(t-1) + \eta\, h(t) h(t)^\top \\
# h_0(t+1) &= f(W h(t) + C x(t)) \\
# h_{s+1}(t+1) &= f\big(\mathrm{LN}[W h(t) + C x(t) + A(t) h_s(t+1)]\big),
#   \quad s = 0..S-1, \qquad h(t+1) = h_S(t+1)
# \end{aligned}$$
#
# with $f$ = ReLU, LN the layer normalization across the units, and our defaults
# $\lambda = 0.9$, $\eta = 0.5$, $S = 1$, the public reproductions' values. Unrolled, $A(t) h = \eta \sum_\tau \lambda^{t-\tau} h(\tau)\,
# (h(\tau)^\top h)$ (plus $\lambda^t A_0 h$): reading the memory is *attention* over the
# past states, weighted by their dot product with the current one. The memory is part
# of the state: `state = (h, A)` with `A` of shape (B, H, H), so a sequence cut in two
# continues exactly, and the gradient check covers $A_0$.

# %%
fw = rnnzoo.make("fastweights", input_size=3, hidden_size=4, seed=0)
print(fw.state_names, [s.shape for s in fw.initial_state(2)])
xs = np.random.default_rng(0).standard_normal((6, 2, 3))
hs, state_T, _ = fw.forward(xs)
hs_a, mid, _ = fw.forward(xs[:2])
hs_b, state_T2, _ = fw.forward(xs[2:], mid)
print("split at step 2 changes the output by", np.abs(np.concatenate([hs_a, hs_b]) - hs).max())
print(rnnzoo.gradcheck(fw, xs).table())

# %% [markdown]
# ### Two ways to compute $A(t)\,h$
#
# *Materialized*: keep $A(t)$ for every step, $A(0)$ included ((T+1)·B·H² numbers), and
# multiply.
# *History*: never form $A$ inside the loop; compute the sum over the stored $h(\tau)$,
# $O(t \cdot B \cdot H)$ per product instead of $O(B \cdot H^2)$. Same function, same
# gradients (the tests check both against the paper's recursion and each other). Which
# is faster? We time forward + backward of each, taking turns, on one BLAS thread, in
# CPU time (so other programs on the machine are not counted):

# %%
def fwd_bwd(cell, x):
    dhs = np.ones((x.shape[0], x.shape[1], cell.hidden_size), dtype=x.dtype)
    return lambda: cell.backward(dhs, cell.forward(x)[2])


timing = {}
for H in (20, 64):
    x_t = np.random.default_rng(0).standard_normal((11, 128, 37)).astype(np.float32)
    cells = {m: rnnzoo.make("fastweights", 37, H, dtype=np.float32, memory=m)
             for m in ("history", "materialized")}
    best = ex.time_interleaved({m: fwd_bwd(c, x_t) for m, c in cells.items()}, repeats=15,
                               threads=1, clock="cpu")
    timing[H] = best["history"] / best["materialized"]
    print(f"T = 11, B = 128, H = {H}: history {best['history'] * 1e3:.2f} ms, materialized "
          f"{best['materialized'] * 1e3:.2f} ms, ratio {timing[H]:.2f}")
ex.claim("at H = 64 the history form is faster than the materialized one",
         timing[64] < 1.0, ratio=timing[64])
print(f"at H = 20 the history form takes {timing[20]:.2f} x the materialized form's time: "
      + (f"{1 / timing[20]:.2f} x faster" if timing[20] < 1 else "slower"))
ex.claim("the history form's advantage grows with H (at T = 11: O(T·B·H) per product "
         "against O(B·H²))", timing[64] < timing[20], H_20=timing[20], H_64=timing[64]);

# %% [markdown]
# The default is `memory="auto"`: the history form while $T \le 4H$, the materialized one
# on longer sequences, where the history form's $O(T^2)$ cost takes over (the crossover
# was measured with `python -m rnnzoo.benchmark.fast_memory`). Here $T = 11$, so this
# notebook runs the history form. The lines printed read the ratio at $H = 20$, the
# history form's time as a fraction of the materialized form's: a ratio below 1 is a
# speed-up by its inverse, not a tie. The advantage is smaller than at $H = 64$ (the
# last claim), and by how much moves with the machine, so the $H = 20$ ratio is
# printed, not claimed.
#
# ## 4. Associative retrieval at a small hidden size
#
# The paper's point: with $H = 20$ the LSTM does not solve the task, fast weights do.
# Every cell gets the same budget, 3 seeds, and the standard LSTM baseline trick
# (forget bias 1); the budget and the cells are the figure
# `figures/fast_memory_retrieval.png`'s (`fm.retrieval_budget()`, `fm.LABELS`). The cell
# prints how long its training took on this machine. The table's *solved* column counts the
# seeds that end at or above the task's threshold (`task.success`), not the seeds whose
# loss got below half the baseline: that loss sits just under the plateau's.

# %%
import time
LABELS, budget = fm.LABELS, fm.retrieval_budget()
started = time.perf_counter()
res = ex.compare([ex.Variant(c, label=l, style=fm.STYLES.get(c)) for c, l in LABELS.items()],
                 task="associative", budget=budget, seeds=3, progress=False)
print(f"trained {len(LABELS)} cells x 3 seeds in {time.perf_counter() - started:.0f} s")
print(res.summary())

# %% [markdown]
# The claims, the same sentences as the figure's (`fm.retrieval_claims`). The first two
# say that something does *not* happen, which is a statement about the budget unless it
# survives more of it; `python -m rnnzoo figures fast_memory_retrieval --robust`
# re-runs the LSTM, RNN and Delta-RNN at 4x the steps on seeds 10-12, and the fast
# weights at the same budget on those seeds, and records the verdicts in
# `figures/claims.json`. Here they are checked on this run (the re-runs would take
# several minutes), and the recorded verdicts are read back below.

# %%
fm.retrieval_claims(res, ex.robust_claim)
plateau, off = task.plateau_accuracy, fm.off_plateau(res)
for label in res.labels:
    acc = res.final(label, "accuracy")
    print(f"{label:22} final accuracy per seed {np.round(acc, 3)}, solved "
          f"{res.solved(label)}/{len(res.seeds)}, off the plateau (>= {off:.3f}) "
          f"{int((acc >= off).sum())}/{len(res.seeds)}")

# %%
recorded = recorded_robustness("fast_memory_retrieval")     # figures/claims.json
for statement, entry in recorded.items():
    print(statement, "\n   ", entry["budget_factor"], "x the steps", f"({entry['steps']}),",
          "seeds", entry["seeds"], "-> passed:", entry["passed"])
    for label, numbers in entry["numbers"].items():
        print(f"    {label:22} final accuracy {np.round(numbers['final accuracy'], 3)}, "
              f"solved at {numbers['solved_at']}")
ex.claim("the recorded re-runs of the three retrieval claims exist and passed",
         len(recorded) == 3 and all(e["passed"] for e in recorded.values()));

# %% [markdown]
# Every cell first climbs to the plateau of "which digits I saw". In the re-run the
# LSTM, RNN and Delta-RNN get four times the steps and still solve no seed; some seeds
# creep a little above the plateau (read their final accuracies above), none as far as
# 0.1 above it (the second claim). A seed whose loss gets below
# half the baseline (the summary's last column; `figures/claims.md` lists it for the
# re-runs as `below_half_baseline_at`) has not learned the task: that loss is only just
# under the plateau's. The Delta-RNN paper did not test this task.
#
# Fast weights are the cell here that can leave the plateau, but not every seed does
# within the budget, not every seed ends solved, and *when* one leaves varies. Count the
# fast-weights seeds, here and in the recorded re-run, that end unsolved (an accuracy
# printed near the plateau's is a seed that never left it):

# %%
fw = LABELS["fastweights"]
seeds_and_acc = list(zip(res.seeds, res.final(fw, "accuracy")))
fw_rerun = next(e for e in recorded.values() if e["labels"] == [fw])
seeds_and_acc += list(zip(fw_rerun["seeds"], fw_rerun["numbers"][fw]["final accuracy"]))
stuck = [(s, a) for s, a in seeds_and_acc if not task.success.met(np.array([a]))[0]]
print(f"fast weights, {budget.steps} steps, {len(seeds_and_acc)} seeds: unsolved "
      + (", ".join(f"seed {s} at {a:.3f}" for s, a in stuck) or "none"))
ex.claim(f"a fast-weights seed can end the budget unsolved: {len(stuck)} of these "
         f"{len(seeds_and_acc)} do", len(stuck) >= 1)
fig, ax = plt.subplots(figsize=(8, 4.5))
res.plot(ax, kind="accuracy", legend=False,
         title="associative retrieval, H = 20: median, min-max of 3 seeds")
fm.plot_fast_weight_seeds(ax, res)
ax.legend(fontsize=8, loc="upper left")
ax.text(0.0, -0.22, res.caption(), transform=ax.transAxes, fontsize=7, va="top", wrap=True);

# %% [markdown]
# The plot draws the plateau (grey, dotted) and the threshold of *solved* (green), and
# each fast-weights seed as a thin dashed line, so a seed left on the plateau is not
# hidden inside the band. A seed can end the budget unsolved; the lines printed above
# name the ones that did. When a seed leaves depends even on the last bits of
# the arithmetic, so it can move with the NumPy and BLAS build; the claims count seeds,
# "all but at most one", rather than name them.
#
# **Where this differs from the paper.** Ba et al. train far longer and report
# near-perfect retrieval for fast weights, and for the LSTM too
# once it has enough hidden units (their Table 1); our fast weights end at the
# accuracies printed above, short of perfect recall, at a budget a laptop trains, and no
# cell here is run to the paper's length of training. The model differs too: the public
# reproduction whose task we use (jiamings/fast-weights, `fw.py`) wraps the cell in two
# ReLU layers that embed each input (37 to 50 to 100 units) and a 100-unit ReLU layer
# before the softmax, trained with Adam at 1e-4 for 300,000 steps; ours is the bare cell
# with a linear readout. The paper's point is about a
# *small* state; exercise 5 asks what a bigger LSTM does at this budget. `python -m rnnzoo figures --full` trains five times longer for the figure.
#
# ## 5. What the fast memory holds
#
# We read one sequence with the trained fast-weights model (the seed with the best final
# accuracy), one step at a time, carrying
# the state $(h, A)$, and draw $A$ after each symbol. At the last step, the query's
# preliminary vector $h_0$ reads the memory; the weight it puts on each past state is
# $\eta \lambda^{T-1-\tau}\, h(\tau)^\top h_0$.

# %%
model, seed = fm.best_model(res, "fastweights")
xq, yq = task.batch(1, np.random.default_rng(7))
xq = xq.astype(np.float32)
memories, weights = fm.fast_weight_trace(model, xq)
tokens = task.decode(xq[:, 0])
fig, axes = plt.subplots(1, len(tokens), figsize=(14, 1.9))
vmax = np.abs(memories).max()
for t, axm in enumerate(axes):
    image = axm.imshow(memories[t], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    axm.set_title(f"after '{tokens[t]}'", fontsize=8)
    axm.axis("off")
fig.colorbar(image, ax=axes, shrink=0.8, label="entry of A")
plt.show()
print("sequence", tokens, "answer", yq[0], "model's answer",
      int(np.argmax(model.forward(xq)[0].reshape(-1, task.output_size)[-1])))
for tau, w in enumerate(weights, start=1):
    print(f"  h after '{tokens[tau - 1]}': weight {w:8.3f}")
top = int(np.argmax(weights))
print(f"this sequence's largest weight: the state after '{tokens[top]}' (one sequence; "
      f"the counts below are over 300)")

# %% [markdown]
# Over many sequences: which past state does the query weigh most? Key $i$ sits at
# position $2i$ and its value at $2i+1$, so the states written after reading them are
# $h(2i+1)$ and $h(2i+2)$. A pick at random among the 10 past states would hit one of
# those two in 1 sequence out of 5. The same claims as the figure
# `figures/fast_weights_memory.png`'s (`fm.attention_claims`):

# %%
attention = fm.attention_claims(model, task, ex.claim)     # 300 sequences
print("how often each position tau = 1..10 was the most weighted:", attention["counts"])

# %% [markdown]
# Read the counts: even $\tau$ are the states written right after a digit. The query
# does not look for the state after its key letter but for the one after the *value*
# that followed it. That state was computed from the key's state and the value, so it
# can carry both, and its dot product with the query's $h_0$ is what singles it out.

# %% [markdown]
# ## 6. The Delta-RNN's gate: keep or rewrite
#
# $r_t$ depends on $x_t$ alone, so every symbol has its own gate vector. Averaged over
# the units, how much does the trained Delta-RNN keep when it reads a letter, a digit,
# or `?`?

# %%
drnn = fm.best_model(res, "deltarnn")[0].cells[0]
by_symbol = fm.gate_by_symbol(drnn, task)     # r = σ(W x + b_r) of each one-hot symbol
for name, r in by_symbol.items():
    print(f"mean r over units for {name:8}: {r.mean():.3f}  (per symbol min {r.min():.3f}, "
          f"max {r.max():.3f})")
fm.gate_claims(by_symbol, ex.claim)           # the figure delta_rnn_gate's claims

# %% [markdown]
# How to read it: r near 1 keeps $h_{t-1}$, near 0 replaces it with $z_t$. At
# initialization ($b_r = 0$, small $W$) every symbol's gate is about one half; training
# moved it a little, differently per kind of symbol, and no further (the claims, on one
# model: the seed with the best final accuracy, not a spread over seeds). A
# Delta-RNN that had learned retrieval would need to keep its state on `?` and to write each
# key-value pair somewhere it is not overwritten by the next; with a gate that sees only
# $x_t$, each symbol can only choose how much to keep, the same for every sequence. The
# figure `figures/delta_rnn_gate.png` draws $r_t$ unit by unit along one sequence.

# %% [markdown]
# ## 7. The gradient each cell carries back, at initialization
#
# The loss on the last of 100 steps, random inputs, $H = 64$. The Delta-RNN's kept path
# $r_t \odot h_{t-1}$ passes the gradient on with a factor $r_t$ per step (its mean at
# initialization is printed with the last claim); the path through $z_t$ adds to it, so
# the gradient shrinks by less than that. The fast-weights cell's slow path goes through
# $W = 0.05 I$, so on its own it would shrink the gradient fast; but every $h(t)$ is
# also written into $A(t)$, which the next step reads, and that path carries the
# gradient back. Turning the memory off ($\eta = 0$) shows which path does the work.

# %%
from rnnzoo.teaching.figures import plot_gradient_norms

fig, ax = plt.subplots(figsize=(8, 4.5))
norms = plot_gradient_norms(ax, fm.gradient_variants(), T=100, hidden=64, ylim=(1e-40, 1e3))
fm.gradient_claims(norms, ex.claim, T=100, hidden=64)
print("‖dL/dh_1‖ / ‖dL/dh_T‖:", {label: f"{n[0] / n[-1]:.3g}" for label, n in norms.items()})

# %% [markdown]
# Read the last line: a ratio above 1 means the gradient *grew* on its way back. The fast
# memory does more than carry it: each $h(t)$ is read again at every later step, through
# $A$, so its gradient gathers a term from each of them.

# %% [markdown]
# ## Exercises
#
# Each exercise has a self-check you can run; the answer key is kept in the
# instructor's version.
#
# 1. **Turn the memory off.** Rerun section 4 with
#    `ex.Variant("fastweights", {"eta": 0.0}, label="no fast weights")` (an RNN with
#    layer normalization). *Check:* `res.final("no fast weights", "accuracy")` should stay
#    on the plateau with the LSTM, which says the gap came from $A$, not from LN.
#
# ### BEGIN SOLUTION
# *Answer key:* measured: with $\eta = 0$ the fast memory $A$ stays zero and the cell is
# a layer-normalized RNN; if its accuracy stays on the plateau, the fast weights (not
# layer normalization) explain the gap.
# ### END SOLUTION
#
# 2. **The gradient of an outer product.** Show that if $A = \lambda A' + \eta h h^\top$
#    and $G = \partial L/\partial A$, then $\partial L/\partial h = \eta (G + G^\top) h$.
#    *Check:* build `fw = rnnzoo.make("fastweights", 3, 4)`, run it on random `x`, call
#    `fw.backward(None, cache, (np.zeros((B, 4)), G))` with a random `G`, and compare
#    `grads.dh_norm[-1]` with the norm of your formula at `h = state_T[0]`.
#
# ### BEGIN SOLUTION
# *Answer key:* $\partial (\eta h h^\top)_{ij} / \partial h_k = \eta(\delta_{ik} h_j +
# h_i \delta_{jk})$, so $\partial L/\partial h_k = \eta \sum_j G_{kj} h_j + \eta \sum_i
# G_{ik} h_i = \eta\,[(G + G^\top) h]_k$.
# ### END SOLUTION
#
# 3. **Shut the gate.** Set the Delta-RNN's `b_r` to 50 with `phi="identity"`. Predict
#    $h_T$ and the curve of `grads.dh_norm` for a loss on the last step only. *Check:*
#    `np.allclose(h_T, h0)` and a flat `dh_norm` (the test
#    `test_deltarnn_gate_shut_keeps_the_state` does the same).
# 4. **What the memory costs.** How many numbers does the materialized form keep for a
#    batch of 128 sequences of length 11 at $H = 20$, and how many does the history form
#    keep instead? *Check:* run both forms on such a batch and compare `cache.A.size`
#    (materialized) with `cache.h.size` (both forms keep h); your formulas should give
#    $(T+1) B H^2$ and $(T+1) B H$. Write `fast_memory_numbers(T, B, H)` returning the
#    pair (materialized, history).

# %%
def fast_memory_numbers(T, B, H):
    """(numbers kept for A by the materialized form, numbers kept for h) over T steps."""
    ### BEGIN SOLUTION
    return (T + 1) * B * H * H, (T + 1) * B * H
    ### END SOLUTION


_fw = rnnzoo.make("fastweights", 3, 4, memory="materialized")
_, _, _c = _fw.forward(np.zeros((6, 2, 3)))
selfcheck.check_close(selfcheck.attempt(fast_memory_numbers, 6, 2, 4), (_c.A.size, _c.h.size),
                      "fast_memory_numbers(6, 2, 4)",
                      hint="A is (B, H, H) at each of the T + 1 states; h is (B, H)")
print("PASS: your counts match the cache")
### BEGIN HIDDEN TESTS
assert fast_memory_numbers(11, 128, 20) == (12 * 128 * 400, 12 * 128 * 20)
### END HIDDEN TESTS

# %% [markdown]
# 5. **A bigger state.** Rerun section 4 with `hidden=50` in the budget, LSTM only
#    (about a minute), and predict first: does the LSTM solve the task?
#    *Check:* `res.solved("lstm (forget bias 1)")` counts the seeds that end solved by
#    the task's criterion (`task.success`: accuracy at least halfway from the plateau
#    `task.plateau_accuracy` to 1), and `res.solved_at(...)` gives, per seed, the first
#    evaluation step that met it (`None`: never within the budget). Compare
#    `res.final("lstm (forget bias 1)", "accuracy")` with the plateau too: a seed can
#    leave it without solving. Do not read `res.left_baseline(...)` here: half the
#    baseline loss is only just under the plateau's loss, so a seed that still answers
#    from the bag of digits can pass it.
#
# 6. **The Delta-RNN step by hand.** Write one step of rnnzoo's `deltarnn` with its
#    default options ($\Phi = \tanh$, $\alpha$ starting at 2), forward and backward, the
#    way notebook 01 has you write the tanh RNN's. With `wx` $= W x_t$ and `vh` $= V h_{t-1}$,
#
#    $$\begin{aligned}
#    z_t &= \tanh(\alpha \odot vh \odot wx + \beta_1 \odot vh + \beta_2 \odot wx + b_z)
#        && \text{the proposal (inner function)} \\
#    r_t &= \sigma(wx + b_r) && \text{the gate} \\
#    h_t &= \tanh\big((1 - r_t) \odot z_t + r_t \odot h_{t-1}\big)
#        && \text{keep } h_{t-1} \text{ or take } z_t \text{ (outer function } \Phi)
#    \end{aligned}$$
#
#    with `params["W"]` $= W$ (H, D), `params["V"]` $= V$ (H, H) and the (H,) vectors
#    `params["alpha"]` $= \alpha$, `"beta1"` $= \beta_1$, `"beta2"` $= \beta_2$, `"b_z"` and
#    `"b_r"`. x is (B, D) and the state is h alone, a (B, H) array (not a tuple).
#    `deltarnn_step_forward(x, h_prev, params)` returns `(h, cache)`;
#    `deltarnn_step_backward(dh, cache)` receives $\partial L/\partial h_t$ (B, H) and
#    returns `(dx, dh_prev, grads)`, `grads` a dict with `params`' keys and shapes.
#    What the gradient teaches here: $W x_t$ is computed once and read by both the gate
#    and the proposal (section 2), so $W$, and $x_t$ through it, get gradient along every
#    path that reads `wx`, and a backward that keeps only one of them is wrong. *Check:*
#    `selfcheck.check_step` compares your step with rnnzoo's `deltarnn` on fixed inputs
#    (the forward, then dx, the gradient carried back to $h_{t-1}$ and every parameter's
#    gradient) and runs `rnnzoo.gradcheck` through a 5-step sequence of your steps.

# %%
def deltarnn_step_forward(x, h_prev, params):
    """One Delta-RNN step, Φ = tanh: x (B, D), h_prev (B, H) -> (h (B, H), cache)."""
    ### BEGIN SOLUTION
    wx = x @ params["W"].T                                # W x_t
    vh = h_prev @ params["V"].T                           # V h_{t-1}
    pre_z = (params["alpha"] * vh * wx + params["beta1"] * vh + params["beta2"] * wx
             + params["b_z"])                             # d1 + d2 + b_z
    z = np.tanh(pre_z)                                    # z_t, the proposal
    r = 1 / (1 + np.exp(-(wx + params["b_r"])))           # r_t, the gate
    h = np.tanh((1 - r) * z + r * h_prev)                 # h_t = Phi(o_t)
    return h, (x, h_prev, wx, vh, z, r, h, params)
    ### END SOLUTION


def deltarnn_step_backward(dh, cache):
    """dL/dh_t (B, H) -> (dx (B, D), dh_prev (B, H), grads dict like params)."""
    ### BEGIN SOLUTION
    x, h_prev, wx, vh, z, r, h, params = cache
    do = dh * (1 - h ** 2)                                # h_t = tanh(o_t)
    dz = do * (1 - r)                                     # o_t = (1 - r) z + r h_prev
    dr = do * (h_prev - z)                                # o_t = z + r (h_prev - z)
    dpre_z = dz * (1 - z ** 2)                            # z = tanh(pre_z)
    dpre_r = dr * r * (1 - r)                             # r = sigma(wx + b_r)
    dvh = dpre_z * (params["alpha"] * wx + params["beta1"])   # pre_z: alpha vh wx + beta1 vh
    dwx = dpre_z * (params["alpha"] * vh + params["beta2"])   # pre_z: alpha vh wx + beta2 wx
    dwx = dwx + dpre_r                                    # r = sigma(wx + b_r): the gate
    grads = {"W": dwx.T @ x,                              # wx = W x_t
             "V": dvh.T @ h_prev,                         # vh = V h_{t-1}
             "alpha": (dpre_z * vh * wx).sum(axis=0),     # pre_z: alpha vh wx
             "beta1": (dpre_z * vh).sum(axis=0),          # pre_z: beta1 vh
             "beta2": (dpre_z * wx).sum(axis=0),          # pre_z: beta2 wx
             "b_z": dpre_z.sum(axis=0),                   # pre_z: + b_z
             "b_r": dpre_r.sum(axis=0)}                   # r = sigma(wx + b_r)
    dh_prev = do * r + dvh @ params["V"]                  # o_t: r h_prev; vh = V h_{t-1}
    return dwx @ params["W"], dh_prev, grads              # wx = W x_t
    ### END SOLUTION


selfcheck.check_step("deltarnn", deltarnn_step_forward, deltarnn_step_backward)
### BEGIN HIDDEN TESTS
# other sizes, a batch of one, another seed and alpha starting at 1 (the Theano layer's)
selfcheck.check_step("deltarnn", deltarnn_step_forward, deltarnn_step_backward,
                     input_size=1, hidden_size=3, batch=1, seed=7, options={"alpha": 1.0},
                     verbose=False);
### END HIDDEN TESTS
