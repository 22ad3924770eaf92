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
# # 08 · A character-level language model on real text, offline
#
# The classic first demonstration of a recurrent network: read text one character at a
# time and predict the next one (Karpathy's char-rnn, trained on the Linux kernel's
# source). We need a corpus that is on every machine without a download, so we use
# Python source: eight modules of CPython 3.11's standard library that ship with rnnzoo,
# checked by their SHA-256, so every machine reads the same text. Task `charlm` reads
# them, builds the vocabulary from the characters it finds, and cuts training
# sequences from the first 90% of the text and evaluation sequences from the rest.
#
# The measure is **bits per character**: the cross-entropy of the model's prediction of
# the next character, in bits. The yardstick is the **unigram** model, which predicts
# every character with its frequency and knows nothing of context: a model below it
# has learned something about what comes next.

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
# ## The corpus

# %%
T = 32
task = make_task("charlm", T=T, seed=0)
print("files read:", [p.name for p in task.files])
print(f"{len(task.train_codes)} training and {len(task.eval_codes)} evaluation characters, "
      f"vocabulary of {len(task.vocab)} symbols")
print(f"unigram baseline: {task.bits(task.baseline):.3f} bits per character "
      f"(a uniform guess would cost log2 V = {np.log2(len(task.vocab)):.3f})")
x, target = task.batch(2, np.random.default_rng(0))
print("input  :", repr(task.decode(x[:, 0].argmax(-1))))
print("target :", repr(task.decode(target[:, 0])))

# %% [markdown]
# ## Samples improving over training
#
# `rnnzoo.sample(model, prime, length, temperature, seed, vocab=task)` feeds the prime
# through the model, then draws one character at a time from the softmax of the logits
# divided by the temperature, carrying the state from step to step. Before training
# the model's output is near uniform: noise. We train a small LSTM and sample after a
# few steps and again later.

# %%
model = rnnzoo.build_model("lstm", task.input_size, 64, task.output_size, readout="all",
                           dtype="float32", seed=0, forget_bias=1.0)
trainer = rnnzoo.Trainer(model, task, lr=1e-2, batch_size=32, eval_every=50, seed=0,
                         progress=False)
samples = {0: rnnzoo.sample(model, "def ", 100, 0.8, seed=0, vocab=task)}
for stop in (50, 200):
    trainer.run(stop - trainer.step)
    samples[stop] = rnnzoo.sample(model, "def ", 100, 0.8, seed=0, vocab=task)
evals = dict(zip(trainer.history.eval_steps, task.bits(trainer.history.eval_loss)))
ex.claim("the held-out bits per character fall from step 0 to 50 to 200",
         evals[0] > evals[50] > evals[200], bits={k: round(float(v), 3) for k, v in evals.items()})
for step, text in samples.items():
    print(f"--- after {step} steps ({evals[step]:.2f} bits per character on held-out text)")
    print("def " + text)

# %% [markdown]
# ## Which cell models the text best?
#
# Four cells under one budget with the harness, three seeds each (the seeds change the
# initialization and the batches; the corpus is fixed by `corpus_seed`). The LSTM gets
# forget bias 1, the standard fair default.

# %%
budget = ex.Budget(steps=200, batch_size=32, lr=1e-2, hidden=64, eval_every=50,
                   eval_size=128)
res = ex.compare([ex.Variant("lstm", {"forget_bias": 1.0}, label="lstm (forget bias 1)"),
                  ex.Variant("gru"), ex.Variant("mgu"), ex.Variant("rnn", label="rnn (tanh)")],
                 task="charlm", task_options={"T": T}, budget=budget, seeds=3)
print(res.summary())
bpc = {label: task.bits(res.final(label, "loss")) for label in res.histories}
for label, b in bpc.items():
    print(f"{label:22s} bits/char per seed: {np.round(b, 3)}")
ex.claim("every cell, in every seed, ends below the unigram baseline in bits per character",
         all(np.all(b < task.bits(task.baseline)) for b in bpc.values()),
         baseline=task.bits(task.baseline), worst={k: float(v.max()) for k, v in bpc.items()})
medians = {k: float(np.median(v)) for k, v in bpc.items()}
ex.claim("at this short budget the cells' median bits per character lie within 0.25 bits "
         "of each other", max(medians.values()) - min(medians.values()) < 0.25,
         medians=medians)
labels = list(bpc)
apart = [f"{a} below {b}" for a in labels for b in labels
         if a != b and bpc[a].max() < bpc[b].min()]
print("pairs where every seed of one ends below every seed of the other:",
      ", ".join(apart) or "none")
ex.claim("at this budget no seed of any cell gets its loss below half the unigram baseline's",
         all(res.below_half_baseline(label) == 0 for label in res.labels),
         **{label: res.left_baseline(label) for label in res.labels})
# a claim about 200 steps: the figures command makes it on its own runs (150 steps, no
# mgu) and re-ran it at 4x the steps on seeds 10-12 (figures/claims.json)
from rnnzoo.teaching.figures.claims_file import recorded_robustness, reruns_held
half = {s: e for s, e in recorded_robustness("charlm").items() if "half the unigram" in s}
for statement, entry in half.items():
    print("recorded re-run:", statement, "|", entry["budget_factor"], "x the steps, seeds",
          entry["seeds"], "-> passed:", entry["passed"])
    for name, ratio in entry["numbers"].items():
        print("   ", name, np.round(ratio, 3))
ex.claim("the figures command's version of this claim held at 4x its steps on seeds 10-12",
         reruns_held(half, [4]));

# %% [markdown]
# Close medians are not a tie: the pairs printed above are those the seeds already
# separate at this budget. The summary's "left baseline" column asks for half the
# baseline's loss, a bar made for the memory tasks that a character model does not reach
# here, nor in the figure's runs at 4x its steps on new seeds (the claims above; the
# figure trains 150 steps and no mgu, so its re-run, 600 steps, is 3x this notebook's
# budget, and says nothing about the mgu); bits per
# character against the unigram baseline is the measure here. That baseline (the dotted
# line below) is not what a model without memory gets: one that reads the current
# character, the bigram model, scores 2.53 nats against its 3.14 (the task's docstring),
# so only below 2.53 has a cell used more than the last character. Whether longer
# training on longer sequences separates the cells is what
# `python -m rnnzoo figures charlm --full` measures (1500 steps, T = 64, H = 128, 5 seeds).

# %%
fig, ax = plt.subplots(figsize=(8, 4.5))
res.plot(ax, kind="loss", log=False,
         title="next-character cross-entropy on held-out stdlib source")
ax.set_ylabel("cross-entropy (nats per character; bits = nats / ln 2)")
fig.text(0.01, -0.02, res.caption(), fontsize=7.5, va="top")
plt.show()

# %% [markdown]
# ## Exercises
#
# Each exercise has a self-check you can run; the answer key is kept in the
# instructor's version.
#
# 1. **Nats to bits.** Write `bits_per_char(nats)`: the task's loss is in nats per
#    character; convert it.

# %%
def bits_per_char(nats):
    """Cross-entropy in nats per character -> bits per character."""
    ### BEGIN SOLUTION
    return nats / np.log(2)
    ### END SOLUTION


selfcheck.check_close(selfcheck.attempt(bits_per_char, np.log(4)), 2.0, "bits_per_char(ln 4)",
                      hint="a uniform guess among 4 symbols costs 2 bits")
print("PASS")
### BEGIN HIDDEN TESTS
assert abs(bits_per_char(1.0) - 1.4426950408889634) < 1e-12
### END HIDDEN TESTS

# %% [markdown]
# 2. **The unigram baseline.** Write `unigram_bits(train_codes, eval_codes, V)`: the
#    cross-entropy in bits of predicting each evaluation character (after the first)
#    with its add-one smoothed training frequency, $(n_c + 1) / (N + V)$. The check
#    compares it with the task's `baseline`.

# %%
def unigram_bits(train_codes, eval_codes, V):
    """Bits per character of the add-one smoothed unigram model on eval_codes[1:]."""
    ### BEGIN SOLUTION
    p = (np.bincount(train_codes, minlength=V) + 1.0) / (len(train_codes) + V)
    return float(-np.log2(p[eval_codes[1:]]).mean())
    ### END SOLUTION


_task = make_task("charlm", T=16, files=2, max_chars=5000)
selfcheck.check_close(selfcheck.attempt(unigram_bits, _task.train_codes, _task.eval_codes,
                                        len(_task.vocab)),
                      _task.bits(_task.baseline), "unigram_bits(...)", rtol=1e-9,
                      hint="the first evaluation character has no prediction; work in log2")
print("PASS")
### BEGIN HIDDEN TESTS
assert abs(unigram_bits(np.array([0, 0, 1]), np.array([1, 0]), 2) - 0.7369655941662062) < 1e-12
### END HIDDEN TESTS

# %% [markdown]
# 3. **Temperature.** Write `softmax_with_temperature(logits, temperature)`, the
#    distribution `rnnzoo.sample` draws from. What happens as the temperature goes to 0,
#    and to infinity? Answer below the code.

# %%
def softmax_with_temperature(logits, temperature):
    """softmax(logits / temperature), computed stably."""
    ### BEGIN SOLUTION
    z = np.asarray(logits, dtype=float) / temperature
    e = np.exp(z - z.max())
    return e / e.sum()
    ### END SOLUTION


_logits = np.array([2.0, 1.0, 0.0, -1.0])
selfcheck.check_close(selfcheck.attempt(softmax_with_temperature, _logits, 1.0),
                      np.exp(_logits) / np.exp(_logits).sum(), "softmax_with_temperature(l, 1)")
for _temperature in (0.5, 4.0):
    selfcheck.check_close(softmax_with_temperature(_logits, _temperature),
                          np.exp(_logits / _temperature) / np.exp(_logits / _temperature).sum(),
                          f"softmax_with_temperature(l, {_temperature})")
selfcheck.check_close(softmax_with_temperature(np.array([1000.0, 0.0]), 1.0), [1.0, 0.0],
                      "softmax_with_temperature([1000, 0], 1)", hint="subtract the max first")
print("PASS")
### BEGIN HIDDEN TESTS
assert np.allclose(softmax_with_temperature(_logits, 1e6), 0.25, atol=1e-5)
assert np.allclose(softmax_with_temperature(np.array([0.0, np.log(3.0)]), 0.5), [0.1, 0.9])
### END HIDDEN TESTS

# %% [markdown]
# ### BEGIN SOLUTION
# *Answer key:* as the temperature goes to 0 the distribution puts all its mass on the
# largest logit (greedy decoding: repetitive text); as it goes to infinity it becomes
# uniform over the vocabulary (noise, like the untrained model's samples).
# ### END SOLUTION
#
# 4. **Longer context.** Rerun the comparison with `T = 64`. Which cells gain? *Check:*
#    compare `bpc[label]` seed by seed with the run above.
#
# ### BEGIN SOLUTION
# *Answer key:* graded on the measurement, not on a fixed list of cells (which cells gain
# can differ by seed and budget): longer sequences let a cell use (and be trained on)
# longer context, and also give it twice the characters per step of training, so a gain
# mixes the two. Full marks for the seed-by-seed comparison and for naming the confound.
# ### END SOLUTION
