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
# # 11 · Matrix memories and exponential gating: sLSTM, mLSTM, DeltaNet, Gated DeltaNet
#
# Notebook 07's **Fast-Weights RNN** (Ba et al., 2016) keeps, next to its hidden state, a
# matrix $A(t) = \lambda A(t-1) + \eta\, h h^\top$: a memory written with outer products.
# Its descendants run some of today's largest recurrent models:
#
# * **linear attention** (Katharopoulos et al., 2020) writes $S_t = S_{t-1} + v_t k_t^\top$
#   and reads $o_t = S_t q_t$: attention without the softmax is a recurrence;
# * **DeltaNet** (Schlag, Irie & Schmidhuber, 2021; Yang et al., 2024) writes by the
#   **delta rule**, $S_t = S_{t-1} + \beta_t (v_t - S_{t-1} k_t) k_t^\top$: it corrects
#   what the memory already returns for $k_t$ instead of adding on top;
# * **Gated DeltaNet** (Yang, Kautz & Hatamizadeh, 2025) adds a decay $\alpha_t$;
# * **mLSTM** (xLSTM, Beck et al., 2024) gates a matrix memory with exponential gates;
#   **sLSTM** keeps the LSTM's vector memory but gives it exponential gates, a normalizer
#   and a *stabilizer*.
#
# We take the write rules one equation at a time on one tiny example and check each
# against the zoo's cells, show why exponential gates need the stabilizer and why it
# changes nothing, and then test two claims under one budget: matrix memories recall
# (MQAR), and tracking state (parity) needs a nonlinear recurrence or a transition with a
# negative eigenvalue. Every number in the prose is printed by the code above it.

# %%
import inspect, sys, pathlib
try:
    import rnnzoo
except ImportError:                      # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(pathlib.Path.cwd().parent))
    import rnnzoo

import numpy as np
import matplotlib.pyplot as plt
from rnnzoo import experiments as ex
from rnnzoo.teaching import selfcheck    # the exercises' checks
from rnnzoo.teaching.figures import memories as mem
from rnnzoo.teaching.figures import memory_rules as rules
from rnnzoo.teaching.figures.claims_file import recorded_robustness, reruns_held

# %% [markdown]
# ## 1. From Fast Weights to Gated DeltaNet, one equation at a time
#
# Three writes into a memory of size $3 \times 3$: value $v_1$ under key $a$, $v_2$ under
# key $b$, then a **new** value $v_3$ under $a$ again. The keys are unit vectors (the cells
# L2-normalize them, $\hat k = k / \sqrt{\|k\|^2 + 10^{-6}}$) and $b$ is not orthogonal to
# $a$. The right answer to "what is stored under $a$?" is the latest value, $v_3$.
#
# | rule | write | returns for $a$ |
# |---|---|---|
# | fast weights | $S_t = \lambda S_{t-1} + \eta\, v_t \hat k_t^\top$ | a decayed sum of every value near $a$ |
# | linear attention | $S_t = S_{t-1} + v_t \hat k_t^\top$ ($\lambda = \eta = 1$) | $v_1 + \cos(a, b)\, v_2 + v_3$ |
# | delta rule | $S_t = S_{t-1} + \beta_t (v_t - S_{t-1}\hat k_t)\hat k_t^\top$ | $v_3$ when $\beta = 1$ |
# | gated delta rule | $S_t = \alpha_t S_{t-1} + \beta_t (v_t - \alpha_t S_{t-1}\hat k_t)\hat k_t^\top$ | $v_3$ when $\beta = 1$ |
#
# The Fast-Weights RNN is the first row with its own hidden state $h$ as both $v$ and the
# key, not normalized: $S_t = \lambda S_{t-1} + \eta\, h_t h_t^\top$. The delta
# write's correction $v_t - S_{t-1}\hat k_t$ is the error of what the memory returns now:
# the write is **one gradient step of size $\beta_t$ on $\tfrac12\|S \hat k_t - v_t\|^2$**,
# whose gradient in $S$ is $(S\hat k_t - v_t)\hat k_t^\top$. Rearranged,
# $S_t = S_{t-1}(I - \beta_t \hat k_t \hat k_t^\top) + \beta_t v_t \hat k_t^\top$: the old
# memory passes through $I - \beta \hat k \hat k^\top$, a generalized Householder map with
# eigenvalue $1 - \beta$ along $\hat k$ and $1$ across it.
#
# We compute each rule by hand, run the zoo's `fastweights`, `deltanet` and
# `gated_deltanet` on the same numbers (their projections of a one-hot input set to the
# example's keys, values and β, in float64), and check every equation.

# %%
keys, values = rules.tiny_example()
eq = mem.equation_claims(claim=ex.claim)
for rule, r in eq["read"].items():
    print(f"{rule:17s} returns for a: {np.round(r, 4)}")
lam = inspect.signature(rules.write_rules).parameters["lam"].default   # the example's λ
cos_ab = float(rules.unit(keys[0]) @ rules.unit(keys[1]))
v1, v2, v3 = values
ex.claim("fast weights return the same three values as linear attention, each scaled by "
         "lambda once per later write: lambda^2 v1 + lambda cos(a, b) v2 + v3",
         np.allclose(eq["read"]["fast weights"], lam ** 2 * v1 + lam * cos_ab * v2 + v3),
         lam=lam, cos_ab=cos_ab, read=eq["read"]["fast weights"])
S_delta, S_gated = eq["S"]["delta rule"], eq["S"]["gated delta rule"]
ex.claim("the gate's alpha = 0.5 halves the entry b's value left on b's own axis, S[1, 1]",
         np.isclose(S_gated[1, 1], 0.5 * S_delta[1, 1]), delta=S_delta[1, 1],
         gated=S_gated[1, 1])
fig, axes = plt.subplots(1, 4, figsize=(13, 3.4))
mem.plot_memories(axes, eq["S"], eq["read"])
fig.tight_layout();

# %% [markdown]
# Linear attention and fast weights only accumulate: under $a$ linear attention returns
# the first value and the latest one together, plus $\cos(a, b)$ of $b$'s value (both
# printed in the claims above), and fast weights the same three, each shrunk by $\lambda$
# once per later write. The delta rule returns exactly $v_3$: the second write under $a$
# first subtracted what was there. Gated DeltaNet returns $v_3$ too, and its decay
# $\alpha = 0.5$ has also shrunk the older entry written under $b$ (the middle column of
# the last two matrices: halved on $b$'s own axis, as the claim above checked).
#
# **What the Householder map does to the gradient.** The backward of the delta write sends
# $\partial L/\partial S_{t-1} = \partial L/\partial S_t\,(I - \beta_t\hat k_t\hat k_t^\top)$
# (plus the read's own term). Each map has spectral norm $\max(|1-\beta|, 1) = 1$ for
# $\beta \in [0, 2]$, so a gradient carried through $S$ is never amplified, however long
# the sequence. With $\beta \in (0, 1)$ each map's eigenvalues, 1 and $1 - \beta$, lie in
# $(0, 1]$: one map can shrink a direction but never flip it (its determinant, $1 - \beta$,
# is positive). That is what the parity argument in section 4 needs: on a run of ones the
# same map repeats, and the powers of a map with eigenvalues in $[0, 1]$ settle instead of
# alternating. A product of *different* maps is another matter: it is not symmetric, and it
# can rotate a direction (complex eigenvalues) or turn two over together; only its
# determinant, the product of theirs, is sure to stay positive. With $\beta$ up to 2,
# $1 - \beta$ reaches $-1$: one map alone reflects, a sign flip. We multiply 200 random
# maps of each kind and count the reflections.

# %%
rng = np.random.default_rng(0)
products, dets = {}, {}
for r in (1.0, 2.0):
    P, d = np.eye(3), []
    for _ in range(200):
        k = rules.unit(rng.standard_normal(3))
        step = np.eye(3) - r * rng.uniform(0.05, 0.95) * np.outer(k, k)
        P = P @ step
        d.append(np.linalg.det(step))                  # 1 - β, since |k| = 1
    products[r], dets[r] = P, np.array(d)
norms = {f"β in (0, {r:g})": np.linalg.norm(P, 2) for r, P in products.items()}
print("largest singular value of the product of 200 maps:",
      {k: f"{v:.2e}" for k, v in norms.items()})
reflections = {f"β in (0, {r:g})": int((d < 0).sum()) for r, d in dets.items()}
print("maps with det < 0 (reflections), of 200:", reflections)
ex.claim("a product of 200 delta maps never amplifies (largest singular value <= 1), for "
         "β in (0, 1) and in (0, 2)", max(norms.values()) <= 1 + 1e-12, **norms)
ex.claim("with β in (0, 1) none of the 200 maps reflects (det > 0), so their product "
         "keeps orientation (its determinant is the product of theirs); with β in (0, 2) "
         "some maps reflect (det < 0)", bool((dets[1.0] > 0).all() and (dets[2.0] < 0).any()),
         **reflections);

# %% [markdown]
# ## 2. sLSTM: exponential gates and the stabilizer
#
# sLSTM computes the LSTM's pre-activations $\tilde\imath, \tilde f, \tilde z, \tilde o$
# and uses **exponential** gates: $C_t = F_t C_{t-1} + I_t \tanh\tilde z_t$ with
# $I_t = e^{\tilde\imath_t}$, a normalizer $N_t = F_t N_{t-1} + I_t$ and
# $h_t = \sigma(\tilde o_t)\, C_t / N_t$. An exponential input gate can let one input
# outweigh everything stored before (the LSTM's σ cannot exceed 1), but $e^x$ overflows
# float64 once $x > 709.8$: with an exponential forget gate $F = e^{\tilde f}$ and
# $\tilde f \approx 3$ every step, after about 240 steps. The cell carries instead
# $c_t = C_t e^{-m_t}$, $n_t = N_t e^{-m_t}$ with the **stabilizer**
#
# $$m_t = \max(\tilde\imath_t,\ \ell_t + m_{t-1}), \quad i_t = e^{\tilde\imath_t - m_t},
# \quad f_t = e^{\ell_t + m_{t-1} - m_t}, \qquad (\ell_t = \tilde f_t \text{ or } \log\sigma(\tilde f_t))$$
#
# so $i_t, f_t \le 1$ and nothing overflows. Multiplying its recurrence by $e^{m_t}$ gives
# back the plain one, so $c_t / n_t = C_t / N_t$: **m cancels in h** (exercise 1). We run
# the same float64 `slstm` (exponential forget gate, $\tilde f \approx 3$) for 400 steps
# with the stabilizer (the cell) and without (the plain recurrence, by hand).

# %%
stab = rules.stabilizer_run()
n = mem.stabilizer_claims(stab, claim=ex.claim)
print(f"the plain recurrence first overflows at step {n['plain_overflows_at_step']}; the "
      f"stabilized cell's largest m_t is {n['largest_m']:.0f} (e^m would be 10^"
      f"{n['largest_m'] / np.log(10):.0f}), its largest |h| {n['largest_abs_h']:.3f}; "
      f"|h - h_plain| <= {n['h_gap_where_finite']:.1e} before the overflow")
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.8))
rules.plot_stabilizer(left, right, stab);

# %% [markdown]
# Before the overflow step printed above the two runs give the same $h$ to rounding (the
# printed gap); after it the plain $N$ is infinite and its $h$ is NaN, while the
# stabilized cell simply carries the scale in $m$, far past exp's range by step 400. Because $n_t$ is a positive sum of
# the same weights as $c_t$, $|c_t/n_t| \le 1$ whatever the gates: $|h_t| \le 1$.
#
# ## 3. Multi-query associative recall (MQAR)
#
# Key–value pairs, then each key again at a random later step; the model must answer with
# its value (Arora et al. 2023, "Zoology"): many recalls from a memory written once.
# Here each pair arrives in one step (`paired=True`): a cell whose $q, k, v$ read $x_t$
# alone cannot bind a key to the value one step later in one layer (the authors' blocks put
# a short convolution in front for that), so this measures the memory itself. $T = 16$,
# $N = 4$ pairs over $V = 8$ keys and values; chance is $1/V$, and a model that knows
# *which* values appeared but not their keys gets $1/N$. One layer of each cell, one
# budget, 3 seeds: `fastweights`, `mlstm`, `deltanet`, `gated_deltanet`, and the `lstm`,
# whose memory is two vectors of 32 numbers ($h$ and $c$) where each matrix memory keeps
# a $32 \times 32$ matrix: the comparison matches the width, not the state size.

# %%
res_mqar = mem.run(mem.mqar_experiment())
print(res_mqar.summary())
acc_mqar = mem.mqar_claims(res_mqar, claim=ex.claim, robust_claim=ex.robust_claim)
print(f"lstm's final loss {np.round(res_mqar.final('lstm (forget bias 1)'), 3).tolist()}, "
      f"ln N = {res_mqar.task.value_set_level()[1]:.3f}, ln V = {res_mqar.task.baseline:.3f}")
recorded_mqar = recorded_robustness("memories_mqar")          # figures/claims.json
for statement, entry in recorded_mqar.items():
    print("recorded 4x re-run:", statement, "\n   ", entry["budget_factor"], "x the steps, "
          "seeds", entry["seeds"], "-> passed:", entry["passed"])
    for label, numbers in entry["numbers"].items():
        print("   ", label, {k: v for k, v in numbers.items()
                             if "accuracy" in k or "cross-entropy" in k})
ex.claim("the lstm claim's 4x re-run on seeds 10-12 is recorded in figures/claims.json and "
         "passed", reruns_held(recorded_mqar, [4]));
accuracy_level, loss_level = res_mqar.task.value_set_level()      # 1/N and ln N
longer = [entry["numbers"][mem.LSTM.label] for entry in recorded_mqar.values()][0]
ex.claim("at 4x the steps every lstm seed is past the value-set level: its loss below ln N "
         "and its query accuracy above 1/N",
         all(v < loss_level for v in longer["final cross-entropy (nats)"])
         and all(a > accuracy_level for a in longer["final query accuracy"]),
         ln_N=loss_level, one_over_N=accuracy_level,
         loss=longer["final cross-entropy (nats)"], accuracy=longer["final query accuracy"]);

# %% [markdown]
# The three matrix memories solve it in every seed (when: the summary's "solved at"); the
# fast-weights RNN (whose memory is keyed by its own hidden state) ends above 0.9 in every
# seed, and the summary says which of its seeds met 0.99 and when. The lstm ends this
# budget near the **value-set level**: compare its final loss with $\ln N$ (both printed
# above); a loss there means it has learned which values appeared and not which key each
# followed. The recorded re-run at 4x the steps (printed above) keeps it below 0.9, but
# not at that level: its losses there are below $\ln N$ and its accuracy above $1/N$
# (checked below), so with more steps it had begun to learn which key each value followed.
# "Below 0.9" is a statement about these budgets, not a proof that no LSTM of this width
# can do it (4 pairs over 8 values fit in its 64 numbers). Zoology's
# finding is the same contrast at larger scale (attention and input-dependent matrix
# memories recall, fixed-size recurrent states fall behind as $N$ grows); our sizes are a
# laptop's.
#
# ## 4. Parity: what theory predicts, and what the runs show
#
# Running parity: read bits and answer at every step whether an odd number of ones has
# been read. The state must flip at every 1, forever. Grazzi et al. (ICLR 2025) prove that
# a linear recurrence whose transition matrices have eigenvalues in $[0, 1]$ (a diagonal
# positive decay as in `mingru` and Mamba, or DeltaNet's $I - \beta\hat k\hat k^\top$
# with $\beta \in (0, 1)$) cannot represent parity at arbitrary length, while eigenvalue
# $-1$ (DeltaNet with $\beta \in (0, 2)$) can; a nonlinear recurrence (`lstm`, `slstm`)
# can too (xLSTM's formal-language experiments). We train one layer at $T = 16$ and score
# the last step, the whole string's parity (chance 1/2), then run the same models on
# strings 4x longer.

# %%
res_par = mem.run(mem.parity_experiment())
print(res_par.summary())
lengths = mem.extrapolation(res_par, factors=(4,))
for T_eval, accs in lengths.items():
    print(f"T = {T_eval:3d}, last-step accuracy:",
          {label: np.round(a, 3).tolist() for label, a in accs.items()})

# %%
mem.parity_claims(res_par, lengths, claim=ex.claim, robust_claim=ex.robust_claim)
recorded_par = recorded_robustness("memories_parity")
for statement, entry in recorded_par.items():
    print("recorded 4x re-run:", statement, "\n   ", entry["budget_factor"], "x the steps, "
          "seeds", entry["seeds"], "-> passed:", entry["passed"])
    for label, numbers in entry["numbers"].items():
        print("   ", label, {k: v for k, v in numbers.items() if "last" in k}
              if isinstance(numbers, dict) else numbers)
ex.claim("both negative claims' 4x re-runs on seeds 10-12 (chance at T = 16; not holding at "
         "16x the length) are recorded and passed",
         reruns_held(recorded_par, [4, 4]));

# %% [markdown]
# The runs agree with the theory at the training length: `mingru` and DeltaNet with
# $\beta \in (0, 1)$ stay at chance at the last step, and stay there at 4x the steps (the
# recorded re-run above); the `lstm`, `slstm` and DeltaNet with $\beta \in (0, 2)$ solve
# it. Theory says what can be represented; the runs show that gradient descent also finds
# it here. At 4x the length the `lstm` and `slstm` still score at least 0.99, DeltaNet
# with $\beta \in (0, 2)$ a little less (its numbers above).
#
# **Where this differs from the paper.** At 16x the length (T = 256, the claim's numbers
# above) DeltaNet with $\beta \in (0, 2)$ is back at chance in every seed, and still is
# after 4x the steps on new seeds (the recorded re-run). Grazzi et al. report
# near-perfect length extrapolation on parity for DeltaNet with negative eigenvalues;
# their models are deeper and trained longer on longer strings, ours is one layer, 32
# units, 300 steps at length 16: having the eigenvalue $-1$ available makes parity
# representable, it does not make this small model find a solution that holds at any
# length. The LSTMs' still holds at 4x; this notebook evaluates them no further (the
# figure's run also evaluates them at 16x: the MEASURED line of `memories_parity` in
# `figures/claims.md`).

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
res_par.plot(left, kind="success", title=f"running parity, T = 16: last-step accuracy "
             f"while training\n{res_par.budget.describe()}")
left.set_ylim(0.3, 1.05)
mem.plot_lengths(right, res_par, lengths)
right.set_title("the same models on longer strings (median, min-max of 3 seeds)")
for a in (left, right):
    a.title.set_fontsize(9)

# %% [markdown]
# ## Exercises
#
# Each exercise has a self-check you can run; the answer key is kept in the
# instructor's version.
#
# 1. **The stabilizer cancels.** Show that multiplying the stabilized recurrence by
#    $e^{m_t}$ gives the plain one, so $c_t/n_t = C_t/N_t$. Then write
#    `slstm_plain_h(i_pre, f_pre, z_pre, o_pre)`: the plain recurrence from the zero state
#    with $I = e^{\tilde\imath}$, $F = e^{\tilde f}$ (the exponential forget gate), given the
#    pre-activations (T, B, H) each. *Check:* it equals the cell's h for an `slstm` whose
#    $R = 0$ (its initialization), so the pre-activations are $W x_t + b$.

# %%
def slstm_plain_h(i_pre, f_pre, z_pre, o_pre):
    """h (T, B, H) of sLSTM without the stabilizer: C = F C + I tanh(z̃), N = F N + I."""
    ### BEGIN SOLUTION
    C = N = np.zeros_like(i_pre[0])
    hs = []
    for i, f, z, o in zip(i_pre, f_pre, z_pre, o_pre):
        C = np.exp(f) * C + np.exp(i) * np.tanh(z)
        N = np.exp(f) * N + np.exp(i)
        hs.append(C / N / (1.0 + np.exp(-o)))
    return np.stack(hs)
    ### END SOLUTION


_cell = rnnzoo.make("slstm", 3, 4, seed=5, dtype=np.float64, forget_gate="exp")
_x = np.random.default_rng(5).standard_normal((20, 2, 3))
_pre = np.split(_x @ _cell.params["W"].T + _cell.params["b"], 4, axis=-1)   # R = 0
selfcheck.check_close(selfcheck.attempt(slstm_plain_h, *_pre), _cell.forward(_x)[0],
                      "slstm_plain_h's h", rtol=1e-10,
                      hint="C_t = F_t C_{t-1} + I_t tanh(z̃_t); h_t = σ(õ_t) C_t / N_t")
print("PASS: without m, the same h")
### BEGIN HIDDEN TESTS
_z = np.zeros((2, 1, 1))
assert np.allclose(slstm_plain_h(_z, _z, _z + 10.0, _z), 0.5 * np.tanh(10.0))
### END HIDDEN TESTS

# %% [markdown]
# 2. **The delta rule is a gradient step.** Differentiate $\tfrac12\|S k - v\|^2$ with
#    respect to $S$ and write `delta_write(S, k, v, beta)`: $S$ after one gradient step of
#    size β. *Check:* applied to the tiny example's three writes (keys L2-normalized,
#    β = 1) it gives the `deltanet` cell's memory $S_T$.

# %%
def delta_write(S, k, v, beta):
    """S - β ∇_S ½‖S k - v‖² for S (d, d), k, v (d,)."""
    ### BEGIN SOLUTION
    return S - beta * np.outer(S @ k - v, k)
    ### END SOLUTION


_keys, _values = rules.tiny_example()
_S = np.zeros((3, 3))
for _k, _v in zip(rules.unit(_keys), _values):
    _S = selfcheck.check_shape(selfcheck.attempt(delta_write, _S, _k, _v, 1.0), (3, 3),
                               "delta_write(S, k, v, 1.0)")
_S_cell, _ = rules.cell_memory(rules.delta_cell(_keys, _values, _keys[0]), 3)
selfcheck.check_close(_S, _S_cell, "the memory after three delta_write steps", rtol=1e-10,
                      hint="∇_S ½‖S k - v‖² = (S k - v) kᵀ")
print("PASS: your gradient step is the cell's write")
### BEGIN HIDDEN TESTS
_k = np.array([0.6, 0.8, 0.0])
assert np.allclose(delta_write(np.eye(3), _k, np.ones(3), 1.0) @ _k, np.ones(3))
### END HIDDEN TESTS

# %% [markdown]
# 3. **The eigenvalues of $I - \beta k k^\top$.** For any $k$ (not necessarily unit) find
#    the eigenvalues without calling an eigensolver: what does the map do to $k$, and to a
#    vector orthogonal to $k$? Write `householder_eigenvalues(k, beta)`, ascending.
#    *Check:* against `np.linalg.eigvalsh` for random $k$ and β in (0, 2).

# %%
def householder_eigenvalues(k, beta):
    """The eigenvalues of I - β k kᵀ, ascending, from k (d,) and β."""
    ### BEGIN SOLUTION
    return np.sort(np.concatenate([[1.0 - beta * (k @ k)], np.ones(k.size - 1)]))
    ### END SOLUTION


_rng = np.random.default_rng(3)
for _ in range(5):
    _k, _beta = _rng.standard_normal(4), _rng.uniform(0.0, 2.0)
    selfcheck.check_close(selfcheck.attempt(householder_eigenvalues, _k, _beta),
                          np.linalg.eigvalsh(np.eye(4) - _beta * np.outer(_k, _k)),
                          "householder_eigenvalues(k, beta)", rtol=1e-10, atol=1e-12,
                          hint="(I - β k kᵀ) k = (1 - β ‖k‖²) k; and u ⊥ k is left alone")
print("PASS: 1 - β‖k‖² once, 1 for the rest")
### BEGIN HIDDEN TESTS
assert np.allclose(householder_eigenvalues(np.array([1.0, 0.0]), 2.0), [-1.0, 1.0])
### END HIDDEN TESTS

# %% [markdown]
# 4. **The DeltaNet step and its backward.** Exercise 2 wrote one memory; the `deltanet`
#    cell runs that write on every head of a batch, with q, k, v and β computed from
#    $x_t$, and reads the memory out:
#
#    $$\begin{aligned}
#    q &= W_q x_t, \quad k = W_k x_t, \quad v = W_v x_t \quad \text{(each split into
#    heads of size } d\text{)}, \qquad \beta = r\,\sigma(w_\beta x_t), \\
#    \hat q &= q / \sqrt{\|q\|^2 + \epsilon}, \quad \hat k = k / \sqrt{\|k\|^2 + \epsilon},
#    \qquad \epsilon = 10^{-6}, \\
#    S_t &= S_{t-1} (I - \beta \hat k \hat k^\top) + \beta v \hat k^\top
#    = S_{t-1} + \beta (v - S_{t-1} \hat k) \hat k^\top, \qquad o_t = S_t \hat q .
#    \end{aligned}$$
#
#    The keys of `params` are `W_q`, `W_k`, `W_v` (H, D) and `w_beta` (heads, D), no
#    biases; head j uses rows j·d:(j+1)·d of each $W$ (`q.reshape(B, heads, d)`) and row j
#    of `w_beta`, with d = H / heads. r is the cell's option `beta_range` (1 by default;
#    the function takes it as an argument). Shapes: x (B, D); the state is the one array
#    S (B, heads, d, d), passed and returned bare (no tuple); o_t (B, H), the heads side
#    by side.
#
#    `deltanet_step_forward(x, S_prev, params)` returns `(S_t, o_t, cache)`: the output
#    is read out of the state, so it comes back beside it.
#    `deltanet_step_backward(do, dS_next, cache)` gets $\partial L/\partial o_t$ (B, H)
#    and the gradient carried back from step t+1 into $S_t$ (B, heads, d, d), and returns
#    `(dx, dS_prev, grads)`: dx (B, D), the gradient carried on into $S_{t-1}$, and
#    `grads` with exactly the keys and shapes of `params`. Go through the normalization
#    too: $\hat k$'s length does not depend on k, but $r = \sqrt{\|k\|^2 + \epsilon}$ does.
#
#    What this backward teaches: like the forward, the gradient carried from $S_t$ back
#    to $S_{t-1}$ is linear in what arrives; once you have written it, compare the map
#    with Exercise 3's eigenvalues to see whether a gradient through the memory can grow.

# %%
def deltanet_step_forward(x, S_prev, params, beta_range=1.0):
    """x (B, D), S_prev (B, heads, d, d) -> (S_t (B, heads, d, d), o_t (B, H), cache)."""
    ### BEGIN SOLUTION
    B, heads = x.shape[0], params["w_beta"].shape[0]
    q = (x @ params["W_q"].T).reshape(B, heads, -1)       # q = W_q x_t, split into heads
    k = (x @ params["W_k"].T).reshape(B, heads, -1)       # k = W_k x_t
    v = (x @ params["W_v"].T).reshape(B, heads, -1)       # v = W_v x_t
    r_q = np.sqrt((q ** 2).sum(axis=-1, keepdims=True) + 1e-6)
    r_k = np.sqrt((k ** 2).sum(axis=-1, keepdims=True) + 1e-6)
    q_hat, k_hat = q / r_q, k / r_k                       # q̂ = q / r_q, k̂ = k / r_k
    sig = 1 / (1 + np.exp(-(x @ params["w_beta"].T)))     # σ(w_β x_t), (B, heads)
    beta = beta_range * sig                               # β = r σ(w_β x_t)
    e = v - np.einsum("bhij,bhj->bhi", S_prev, k_hat)     # e = v - S_{t-1} k̂
    S = S_prev + np.einsum("bh,bhi,bhj->bhij", beta, e, k_hat)   # S_t = S_{t-1} + β e k̂ᵀ
    o = np.einsum("bhij,bhj->bhi", S, q_hat)              # o_t = S_t q̂
    return S, o.reshape(B, -1), (x, S_prev, S, q_hat, r_q, k_hat, r_k, e, sig, beta, params)
    ### END SOLUTION


def deltanet_step_backward(do, dS_next, cache):
    """do (B, H), dS_next (B, heads, d, d) -> (dx (B, D), dS_prev (B, heads, d, d), grads)."""
    ### BEGIN SOLUTION
    x, S_prev, S, q_hat, r_q, k_hat, r_k, e, sig, beta, params = cache
    B, heads = x.shape[0], beta.shape[1]
    do = do.reshape(B, heads, -1)
    dS = dS_next + np.einsum("bhi,bhj->bhij", do, q_hat)  # o_t = S_t q̂ (S side) + carried
    dq_hat = np.einsum("bhij,bhi->bhj", S, do)            # o_t = S_t q̂ (q̂ side)
    dw = np.einsum("bhij,bhj->bhi", dS, k_hat)            # S_t = .. + w k̂ᵀ (w = β e): w side
    dk_hat = np.einsum("bhij,bhi->bhj", dS, e) * beta[..., None]   # S_t = .. + w k̂ᵀ: k̂ side
    dbeta = (dw * e).sum(axis=-1)                         # w = β e (β side)
    de = beta[..., None] * dw                             # w = β e (e side)
    dv = de                                               # e = v - S_{t-1} k̂
    dk_hat = dk_hat - np.einsum("bhij,bhi->bhj", S_prev, de)   # e = v - S_{t-1} k̂ (k̂ side)
    dS_prev = dS - np.einsum("bhi,bhj->bhij", de, k_hat)  # S_{t-1} side of S_t and of e
    dq = (dq_hat - q_hat * (q_hat * dq_hat).sum(-1, keepdims=True)) / r_q   # q̂ = q / r_q
    dk = (dk_hat - k_hat * (k_hat * dk_hat).sum(-1, keepdims=True)) / r_k   # k̂ = k / r_k
    dpre = dbeta * beta * (1 - sig)                       # β = r σ(w_β x_t)
    dq, dk, dv = (g.reshape(B, -1) for g in (dq, dk, dv))  # heads side by side again
    grads = {"W_q": dq.T @ x, "W_k": dk.T @ x, "W_v": dv.T @ x,   # q, k, v = W x_t
             "w_beta": dpre.T @ x}                        # w_β x_t
    dx = (dq @ params["W_q"] + dk @ params["W_k"] + dv @ params["W_v"]    # q, k, v = W x_t
          + dpre @ params["w_beta"])                      # w_β x_t
    return dx, dS_prev, grads
    ### END SOLUTION


selfcheck.check_step("deltanet", deltanet_step_forward, deltanet_step_backward)
### BEGIN HIDDEN TESTS
# other sizes, three heads of size 2, a batch of one, another seed and beta_range = 2 (the
# negative-eigenvalue range: β up to 2)
def _forward_r2(x, S_prev, params):
    return deltanet_step_forward(x, S_prev, params, beta_range=2.0)


selfcheck.check_step("deltanet", _forward_r2, deltanet_step_backward, input_size=2,
                     hidden_size=6, batch=1, seed=7, options={"heads": 3, "beta_range": 2.0},
                     verbose=False);
### END HIDDEN TESTS
