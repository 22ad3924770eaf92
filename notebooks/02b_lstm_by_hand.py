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
# # 02b · The LSTM step by hand
#
# Notebook 01 has you write the vanilla RNN's step and notebook 02 the GRU's; this one is
# the LSTM's, the cell with two pieces of state. Write one step forward and its
# backward, the way a textbook does, and let the self-check tell you which gate, or
# which carried gradient, is wrong. Then see why the second piece of state, $c$, is
# there: the gradient it carries back in time.
#
# It runs in seconds (no training), which also makes it the course kit's smallest
# nbgrader assignment (see book/instructors.md).

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
from rnnzoo.core.diagnostics import gradient_norm_over_time

# %% [markdown]
# ## Exercise A: the LSTM step
#
# rnnzoo's `lstm` uses PyTorch's equations and gate order i, f, g, o:
#
# $$\begin{aligned}
# {[a_i; a_f; a_g; a_o]} &= W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}, \qquad
# i_t = \sigma(a_i),\ f_t = \sigma(a_f),\ g_t = \tanh(a_g),\ o_t = \sigma(a_o), \\
# c_t &= f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t).
# \end{aligned}$$
#
# `params["W_ih"]` (4H, D) stacks the input gate's rows 0:H, the forget gate's H:2H, the
# cell gate's 2H:3H and the output gate's 3H:4H; `W_hh` (4H, H), `b_ih` and `b_hh` (4H,)
# likewise. The state is the pair `(h, c)`, both (B, H). The backward receives the
# pair $(\partial L/\partial h_t, \partial L/\partial c_t)$ (the gradient carried back
# along *both*) and returns `(dx, (dh_prev, dc_prev), grads)`.
#
# The check compares your step with rnnzoo's `lstm` on fixed inputs (the forward, then
# the gradients gate by gate, then dx and the two carried gradients) and runs
# `rnnzoo.gradcheck` through a 5-step sequence of your steps.

# %%
def lstm_step_forward(x, state, params):
    """One LSTM step: x (B, D), state (h_prev, c_prev) each (B, H) -> ((h, c), cache)."""
    ### BEGIN SOLUTION
    h_prev, c_prev = state
    H = h_prev.shape[1]
    a = x @ params["W_ih"].T + params["b_ih"] + h_prev @ params["W_hh"].T + params["b_hh"]
    i = 1 / (1 + np.exp(-a[:, :H]))                       # input gate
    f = 1 / (1 + np.exp(-a[:, H:2 * H]))                  # forget gate
    g = np.tanh(a[:, 2 * H:3 * H])                        # cell gate (the candidate)
    o = 1 / (1 + np.exp(-a[:, 3 * H:]))                   # output gate
    c = f * c_prev + i * g
    tc = np.tanh(c)
    h = o * tc
    return (h, c), (x, h_prev, c_prev, i, f, g, o, tc, params)
    ### END SOLUTION


def lstm_step_backward(dstate, cache):
    """(dL/dh_t, dL/dc_t) each (B, H) -> (dx (B, D), (dh_prev, dc_prev), grads)."""
    ### BEGIN SOLUTION
    dh, dc = dstate
    x, h_prev, c_prev, i, f, g, o, tc, params = cache
    do = dh * tc                                          # h = o tanh(c)
    dc = dc + dh * o * (1 - tc ** 2)                      # carried dc + the path through h
    di, df, dg = dc * g, dc * c_prev, dc * i              # c = f c_prev + i g
    da = np.concatenate([di * i * (1 - i),                # through the σ and tanh gates
                         df * f * (1 - f),
                         dg * (1 - g ** 2),
                         do * o * (1 - o)], axis=1)
    grads = {"W_ih": da.T @ x, "W_hh": da.T @ h_prev,
             "b_ih": da.sum(axis=0), "b_hh": da.sum(axis=0)}
    return da @ params["W_ih"], (da @ params["W_hh"], dc * f), grads
    ### END SOLUTION


selfcheck.check_step("lstm", lstm_step_forward, lstm_step_backward)
### BEGIN HIDDEN TESTS
# other sizes, a batch of one, another seed and the forget bias PyTorch starts with
selfcheck.check_step("lstm", lstm_step_forward, lstm_step_backward, input_size=1,
                     hidden_size=3, batch=1, seed=7, options={"forget_bias": 0.0},
                     verbose=False);
### END HIDDEN TESTS

# %% [markdown]
# ## Why the cell state
#
# $\partial c_t / \partial c_{t-1} = \mathrm{diag}(f_t)$ along the direct path: a step
# back along $c$ scales the gradient by the forget gate alone, with no weight matrix
# and no $\tanh'$ in between. Put the loss on the last step of 60 and measure
# $\|\partial L/\partial h_t\|$ at every step, on three seeds, for an LSTM (forget bias 1, so $f_t$
# starts near $\sigma(1) \approx 0.73$, and 3) and for a tanh RNN of the same width.

# %%
T, D, H = 60, 4, 32
makers = {"rnn (tanh)": lambda seed: rnnzoo.make("rnn", D, H, seed=seed),
          "lstm, forget bias 1": lambda seed: rnnzoo.make("lstm", D, H, seed=seed),
          "lstm, forget bias 3": lambda seed: rnnzoo.make("lstm", D, H, seed=seed,
                                                          forget_bias=3.0)}
kept = {label: [] for label in makers}          # ||dL/dh_0|| / ||dL/dh_59|| per seed
fig, ax = plt.subplots(figsize=(8, 4.5))
for seed in (0, 1, 2):                          # three initializations and inputs
    x = np.random.default_rng(seed).standard_normal((T, 1, D))
    for (label, make_cell), color in zip(makers.items(), ("C3", "C0", "C2")):
        norms = gradient_norm_over_time(make_cell(seed), x=x)
        kept[label].append(norms[0] / norms[-1])
        ax.semilogy(np.arange(T), norms, color=color, lw=1.2,
                    label=label if seed == 0 else None)
for label, values in kept.items():
    print(f"{label}: ||dL/dh_0|| / ||dL/dh_59|| = {', '.join(f'{v:.1e}' for v in values)}")
rnn_kept, lstm1_kept, lstm3_kept = kept.values()
ex.claim("in every seed the lstm keeps more of the gradient over 59 steps than the tanh rnn, "
         "and forget bias 3 keeps more than forget bias 1",
         all(a < b < c for a, b, c in zip(rnn_kept, lstm1_kept, lstm3_kept)), **kept)
ax.set_xlabel("step t (loss on the last step)")
ax.set_ylabel(r"$\|\partial L / \partial h_t\|$")
ax.set_title("At initialization, seeds 0-2 (H = 32, one sequence each): the LSTM carries "
             "the gradient further back;\na larger forget bias, further", fontsize=9)
ax.legend()
plt.show()

# %% [markdown]
# ## Exercises
#
# Each exercise has a self-check you can run; the answer key is kept in the
# instructor's version.
#
# 1. **Count the LSTM.** Write `lstm_num_params(D, H)`, the parameter count of
#    `rnnzoo.make("lstm", D, H)`, as a formula.

# %%
def lstm_num_params(D, H):
    """Parameters of an LSTM with input size D and hidden size H (PyTorch's layout)."""
    ### BEGIN SOLUTION
    return 4 * H * D + 4 * H * H + 8 * H
    ### END SOLUTION


for _D, _H in [(1, 1), (3, 5), (10, 7)]:
    selfcheck.check_close(selfcheck.attempt(lstm_num_params, _D, _H),
                          rnnzoo.make("lstm", _D, _H).num_params(),
                          f"lstm_num_params({_D}, {_H})",
                          hint="four gates, each with an input and a recurrent matrix and "
                               "two bias vectors")
print("PASS: your formula counts the LSTM's parameters")
### BEGIN HIDDEN TESTS
assert lstm_num_params(2, 3) == 4 * 3 * 2 + 4 * 3 * 3 + 8 * 3
### END HIDDEN TESTS

# %% [markdown]
# 2. **Forget the carried gradient.** In your `lstm_step_backward`, return `dh * o *
#    (1 - tc ** 2) * f` as `dc_prev` (dropping the `dc` that arrived from step t+1)
#    and rerun Exercise A's check. Which check fails, which tensor does it name, and
#    what does that tell you about the path you cut?
#
# ### BEGIN SOLUTION
# *Answer key:* the gates' gradients and dx are right (within one step the arriving dc
# is used correctly), so the comparison fails at `dc_prev`, the gradient carried back
# along c; in a whole sequence the mistake cuts the constant-error path, so `gradcheck`
# fails on every parameter. Full marks for naming `dc_prev` and the carried path.
# ### END SOLUTION
#
# 3. **Read the plot.** At initialization, why does the LSTM with forget bias 3 carry the
#    gradient further back than with forget bias 1?
#
# ### BEGIN SOLUTION
# *Answer key:* each step back along c multiplies by $f_t$; with bias 3 it starts near
# $\sigma(3) \approx 0.95$ instead of $\sigma(1) \approx 0.73$, so along c alone the
# gradient shrinks like $0.95^k$ against $0.73^k$ ($5 \cdot 10^{-2}$ against $10^{-8}$ at
# $k = 59$). The printed ratios are not these bare powers (bias 1's is orders of
# magnitude larger): the gates also see $x_t$ and $h_{t-1}$, so $f_t$ varies around
# $\sigma(b_f)$, and the gradient also travels through $h$ and the gates. The order of
# the two is what the product predicts. Full marks for the product of forget gates along
# the cell state, and for noticing that the measured numbers are not exactly its powers.
# ### END SOLUTION
