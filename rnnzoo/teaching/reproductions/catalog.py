"""The reproductions: one paper's headline each, at the paper's own length.

Each entry names the paper, its claim in one line and the number it gives, the task and
length, the cells compared, the budget, and what the paper says each cell does
(``expect``: "solves" or "fails", judged by the task's own success criterion,
:attr:`rnnzoo.tasks.Task.success`) and, where the paper ranks them, the order it reports
(``ranking``, best first: it holds where the medians of the final success metric come in
that order and so does every seed, each seed a paired run on the same data). ``full``
holds the changes ``--full`` makes (the paper's longer lengths or budgets, and the variants
when an option follows the length).

Where our setting differs from the paper's is said beside it, and only the paper's side is
typed here: ``paper_setting`` gives the paper's (or its authors' code's) value of each
training setting we differ in, keyed by what our side is read from (:data:`SETTINGS`: a
field of the run's budget, each variant's own), and the record renders "the paper X, here
Y" from the budget the runs had, so our side cannot go stale; ``paper_metric`` is what the
paper reports, and where it is not the task's success metric the record says what solved
means here; ``note`` is the rest of the paper's side, in words.

The budgets are sized for one 2-core machine (each record keeps its training time):
often far fewer steps than the paper trained. A reproduction that falls short at its
budget says so with its numbers; the table is a finding either way. ``--robust`` trains
each variant left unsolved again at 4x the steps on new seeds
(:mod:`~rnnzoo.teaching.reproductions.running`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..experiments import Budget, Variant

EXPECTATIONS = ("solves", "fails")
# what paper_setting's keys stand beside: the name the record uses, and our side, read
# from a run's budget (a variant's own changes applied)
SETTINGS = {
    "hidden": ("H", lambda b: f"{b.hidden}"),
    "optimizer": ("optimizer", lambda b: f"{b.optimizer} {b.lr:g}"),
    "batch_size": ("batch", lambda b: f"{b.batch_size}"),
    "steps": ("steps", lambda b: f"{b.steps}"),
    "clip": ("gradient clipping", lambda b: "none" if b.clip is None else
             f"the whole gradient's norm at {b.clip:g} (every run)"),
    # rnnzoo's Trainer has no learning-rate schedule: every run keeps its rate
    "schedule": ("learning-rate schedule", lambda b: "none (a constant rate)"),
}


@dataclass(frozen=True)
class Reproduction:
    """One paper's headline as a comparison (see the module docstring)."""
    name: str
    paper: str
    claim: str
    paper_number: str
    task: str
    task_options: dict
    variants: tuple
    budget: Budget
    expect: dict
    ranking: tuple = ()                         # labels, best first, as the paper ranks them
    seeds: tuple = (0, 1, 2)
    full: dict = field(default_factory=dict)    # {"task_options", "budget", "variants"}
    paper_setting: dict = field(default_factory=dict)   # {SETTINGS key: the paper's value}
    paper_metric: str = ""                      # what the paper reports
    note: str = ""                              # the rest of the paper's side, in words

    def __post_init__(self):
        labels = [v.label for v in self.variants]
        unknown = sorted(set(self.expect) - set(labels))
        bad = {k: v for k, v in self.expect.items() if v not in EXPECTATIONS}
        if unknown or bad or not self.expect:
            raise ValueError(f"reproduction {self.name!r}: expect must map variant labels "
                             f"{labels} to one of {EXPECTATIONS}; got {self.expect}")
        if set(self.ranking) - set(labels) or len(self.ranking) == 1:
            raise ValueError(f"reproduction {self.name!r}: ranking must list two or more "
                             f"variant labels {labels}, best first; got {self.ranking}")
        unknown = sorted(set(self.paper_setting) - set(SETTINGS))
        if unknown:
            raise ValueError(f"reproduction {self.name!r}: paper_setting's keys must be "
                             f"among {list(SETTINGS)}; got {unknown}")
        extra = sorted(set(self.full) - {"task_options", "budget", "variants"})
        if extra:
            raise ValueError(f"reproduction {self.name!r}: full may change task_options, "
                             f"budget and variants; got {extra}")

    def setting(self, full=False):
        """(task options, budget) of the default run or of ``--full``."""
        if not full:
            return dict(self.task_options), self.budget
        return ({**self.task_options, **self.full.get("task_options", {})},
                dataclasses.replace(self.budget, **self.full.get("budget", {})))

    def variants_for(self, full=False) -> tuple:
        """The variants of the default run or of ``--full`` (same labels)."""
        return self.full.get("variants", self.variants) if full else self.variants

    def tiny(self) -> "Reproduction":
        """The same comparison at toy scale (a short sequence, a few steps, tiny models):
        what the tests run to check that every entry still runs end to end."""
        options = dict(self.task_options)
        if "T" in options:
            options["T"] = min(options["T"], 12)
        if self.task.endswith("digits"):
            options.pop("size", None)
        budget = dataclasses.replace(self.budget, steps=3, hidden=4, batch_size=4,
                                     eval_every=1, eval_size=16)
        return dataclasses.replace(self, task_options=options, budget=budget, seeds=(0,),
                                   full={})

    def describe_setting(self, budget, variants, success=None) -> str:
        """Where the runs' setting differs from the paper's: for each ``paper_setting``
        key, "NAME: the paper X, here Y" with Y read from ``budget`` as each of
        ``variants`` changes it (per variant where they differ); the measure, where the
        paper reports another than the task's ``success`` metric; then ``note``."""
        parts = []
        for key, paper in self.paper_setting.items():
            name, ours_of = SETTINGS[key]
            ours = {}
            for v in variants:
                ours.setdefault(ours_of(v.budget_for(budget)), []).append(v.label)
            here = (next(iter(ours)) if len(ours) == 1 else ", ".join(
                f"{value} ({', '.join(labels)})" for value, labels in ours.items()))
            parts.append(f"{name}: the paper {paper}, here {here}")
        if self.paper_metric and success is not None and self.paper_metric != success.metric:
            parts.append(f"measure: the paper reports the {self.paper_metric}; solved here "
                         f"is {success.describe()}")
        return "; ".join(parts + ([self.note] if self.note else []))


def _indrnn(T):
    """A 2-layer IndRNN as its authors ran the adding problem at length T: |u| bounded by
    2^(1/T) after each step, u drawn from U(2^(-1/T), 2^(1/T)), and Adam at 2e-4, the
    paper's initial rate for its relu models (2e-3 for its tanh ones, the LSTM's here)."""
    return Variant("indrnn", {"t_max": T, "u_init": "bounded"}, label="indrnn (2 layers)",
                   budget={"layers": 2, "lr": 2e-4})


# the coRNN authors' adding-task settings (tk-rusch/coRNN, adding/adding_task.py)
CORNN_ADDING = {"dt": 0.06, "gamma": 66.0, "epsilon": 15.0}

CATALOG = {r.name: r for r in (
    Reproduction(
        name="indrnn_adding",
        paper="Li, Li, Cook, Zhu & Gao 2018 (IndRNN), the adding problem",
        claim="a 2-layer IndRNN learns the adding problem at T = 1,000 (and 5,000), where "
              "the LSTM does not",
        paper_number="IndRNN's MSE falls to about 0 at T = 1,000 and 5,000; the LSTM's stays "
                     "at the baseline (about 0.167)",
        task="adding", task_options={"T": 1000},
        variants=(_indrnn(1000), Variant("lstm")),
        budget=Budget(steps=2000, batch_size=50, lr=2e-3, hidden=64, eval_every=100,
                      eval_size=500),
        expect={"indrnn (2 layers)": "solves", "lstm": "fails"},
        full={"task_options": {"T": 5000}, "budget": {"hidden": 128, "steps": 10000,
                                                      "eval_every": 500},
              "variants": (_indrnn(5000), Variant("lstm"))},
        paper_setting={
            "hidden": "128",
            "optimizer": "Adam at its initial rates, 2e-4 for the relu IndRNN and 2e-3 for "
                         "the tanh models (the LSTM)",
            "batch_size": "50",
            "steps": "until converged (tens of thousands)",
            # Sunnydreamrain/IndRNN_Theano_Lasagne, adding/adding.py
            "clip": "each element of the gradient passed back through the recurrent "
                    "layers at 10 (the authors' gradclipvalue), not the norm",
            "schedule": "x0.1 every 20,000 steps (the authors' adding.py)"},
        paper_metric="MSE",
        note="u as in the authors' adding.py: they draw the last layer's u from "
             "U(2^(-1/T), 2^(1/T)) and the first layer's from U(0, 2^(1/T)), here both "
             "layers draw the last layer's; |u| <= 2^(1/T) after each step in both layers, "
             "in their code and here"),
    Reproduction(
        name="cornn_adding",
        paper="Rusch & Mishra 2021 (coRNN), the adding problem",
        claim="coRNN learns the adding problem at T = 500, 2,000 and 5,000",
        paper_number="test MSE about 0 (below 1e-2) at T = 500, 2,000 and 5,000",
        task="adding", task_options={"T": 500},
        variants=(Variant("cornn", CORNN_ADDING, label="cornn (adding settings)"),),
        budget=Budget(steps=3000, batch_size=50, lr=2e-2, hidden=64, eval_every=150,
                      eval_size=500),
        expect={"cornn (adding settings)": "solves"},
        full={"task_options": {"T": 2000}, "budget": {"hidden": 128, "steps": 10000,
                                                      "eval_every": 500}},
        paper_setting={"hidden": "128", "optimizer": "Adam 2e-2", "batch_size": "50",
                       "steps": "up to 60,000",
                       "clip": "none (the authors' adding_task.py does not clip)"},
        paper_metric="MSE",
        note="the cell's options are the authors' adding settings (Δt 0.06, γ 66, ε 15); "
             "the paper's implicit damping (their code's is explicit)"),
    Reproduction(
        name="urnn_copy",
        paper="Arjovsky, Shah & Bengio 2016 (uRNN), the copying memory problem",
        claim="the uRNN learns the copy task at T = 500 where the LSTM stays at the "
              "memoryless baseline",
        paper_number="uRNN cross-entropy falls below the baseline (10 log 8 / (T + 20)) at "
                     "T = 500 and reaches about 0; the LSTM stays at the baseline",
        task="copy", task_options={"T": 500},
        variants=(Variant("urnn"), Variant("lstm")),
        budget=Budget(steps=2000, batch_size=20, lr=1e-3, hidden=64, eval_every=100,
                      eval_size=200),
        expect={"urnn": "solves", "lstm": "fails"},
        full={"budget": {"hidden": 128, "steps": 10000, "eval_every": 500}},
        paper_setting={"hidden": "128 (uRNN), 40 (LSTM), about 6,500 parameters each",
                       "optimizer": "RMSProp 1e-3",
                       "batch_size": "20 (the authors' memory_problem.py)"},
        paper_metric="cross-entropy",
        note="the paper runs T = 100, 200, 300 and 500"),
    Reproduction(
        name="eurnn_copy",
        paper="Jing, Shen, Dubček, Peurifoy, Skirlo, LeCun, Tegmark & Soljačić 2017 "
              "(EURNN), the copying memory task",
        claim="the EURNN learns the copy task at T = 1,000 where the LSTM does not",
        paper_number="EURNN's cross-entropy reaches about 0 at T = 1,000; the LSTM stays at "
                     "the baseline",
        task="copy", task_options={"T": 1000},
        variants=(Variant("eurnn", {"style": "fft"}, label="eurnn (fft)"), Variant("lstm")),
        budget=Budget(steps=2000, batch_size=20, lr=1e-3, hidden=64, eval_every=100,
                      eval_size=200),
        expect={"eurnn (fft)": "solves", "lstm": "fails"},
        full={"budget": {"hidden": 128, "steps": 10000, "eval_every": 500}},
        paper_setting={"hidden": "128 (FFT-style)", "optimizer": "RMSProp 1e-3",
                       "batch_size": "128 (the authors' copying_task.py)",
                       "clip": "none (the authors' code does not clip)"},
        paper_metric="cross-entropy"),
    Reproduction(
        name="orthogonal_copy",
        paper="Lezcano-Casado & Martínez-Rubio 2019 (expRNN), the copying problem",
        claim="an orthogonal RNN parametrized by the exponential map learns the copy task "
              "at T = 1,000 where the LSTM does not",
        paper_number="expRNN's cross-entropy reaches about 0 at T = 1,000 (and 2,000); the "
                     "LSTM stays at the baseline",
        task="copy", task_options={"T": 1000},
        variants=(Variant("orthogonal"), Variant("lstm")),
        budget=Budget(steps=2000, batch_size=20, lr=1e-3, hidden=64, eval_every=100,
                      eval_size=200),
        expect={"orthogonal": "solves", "lstm": "fails"},
        full={"budget": {"hidden": 190, "steps": 10000, "eval_every": 500}},
        paper_setting={"hidden": "190", "optimizer": "RMSProp 2e-4 (2e-5 on the "
                                                   "skew-symmetric weights)",
                       "batch_size": "128", "steps": "4,000"},
        paper_metric="cross-entropy",
        note="the paper's setting is the authors' 1_copying.py's"),
    Reproduction(
        name="janet_permuted_digits",
        paper="van der Westhuizen & Lasenby 2018 (JANET), abstract",
        claim="JANET, a forget-gate-only LSTM, beats the standard LSTM on permuted "
              "pixel-by-pixel MNIST",
        paper_number="pMNIST test accuracy: JANET 92.5 %, LSTM 91 %",
        task="permuted_digits", task_options={"size": 14},
        variants=(Variant("janet"), Variant("lstm")),
        budget=Budget(steps=3000, batch_size=32, lr=1e-2, hidden=64, eval_every=150),
        expect={"janet": "solves", "lstm": "solves"}, ranking=("janet", "lstm"),
        full={"budget": {"hidden": 128, "steps": 12000, "eval_every": 600}},
        paper_setting={"hidden": "128", "optimizer": "Adam 1e-3", "batch_size": "200",
                       "steps": "100 epochs"},
        paper_metric="accuracy",
        note="the offline stand-in for MNIST (28x28, 784 pixels): scikit-learn's 8x8 "
             "digits resized to the task's size and permuted, one pixel a step"),
)}
