"""The claims of the classic cells' figures (structural, unitary, skipping, fast-memory and
training figures) must fail on data that contradicts them.

Real training cannot be steered into the runs that would make a claim false, so each
claim function is fed made-up results (:mod:`tests.fake_results`) shaped like the ones
figures/claims.json records: on those every claim passes; then one edit at a time
contradicts exactly one claim (or sits on its boundary), and the verdicts show that claim
False and the others unchanged. A flipped comparison or an ``and`` turned ``or`` would
make a claim vacuous without any other test noticing.

Every case is (an edit of the base data, the expected verdicts). Losses are written in
units of the task's memoryless baseline (1.0: at it; below 0.5: "below half of it").
A docstring's "claims.json: ..." gives the figures run the base data was taken from; a
later run (another CPU, another seed block) moves those numbers, not the cases' point.
"""
from __future__ import annotations

import inspect
from unittest import mock

import numpy as np
import pytest

from rnnzoo import experiments as ex
from rnnzoo.core.diagnostics import random_inputs
from rnnzoo.core.registry import make
from rnnzoo.teaching.figures import charlm, fast_memory, skipping, structural, training, unitary
from rnnzoo.teaching.figures.core import plot_gradient_norms
from rnnzoo.training.tasks import make_task

from .fake_results import Recorder, fake_comparison

NEVER = 1.0        # a loss at the baseline: never below half of it
LEFT = 0.3         # a loss well below half the baseline


# ------------------------------------------------------------------ building the data
def losses(n, left_at, *, before=NEVER, after=LEFT, final=None):
    """Loss curves (seeds, n) in units of the baseline: at ``before`` until evaluation
    ``left_at[seed]`` (None: never), ``after`` from there on; ``final``: the last
    evaluation of each seed (a list), where given."""
    out = np.full((len(left_at), n), float(before))
    for seed, k in enumerate(left_at):
        if k is not None:
            out[seed, k:] = after
    if final is not None:
        out[:, -1] = final
    return out


def ramps(n, finals, start=0.1):
    """Accuracy curves (seeds, n) rising linearly from ``start`` to each seed's final."""
    return np.array([np.linspace(start, f, n) for f in finals])


def comparison(task, options, runs, every):
    """A fake Comparison on the real task from ``runs`` ({label: {kind: (seeds, evals)}}),
    its losses given in units of the task's baseline."""
    baseline = make_task(task, **options).baseline
    return fake_comparison(task, options, {
        label: {kind: curves * baseline if kind == "loss" else curves
                for kind, curves in kinds.items()}
        for label, kinds in runs.items()}, every=every)


def put(value, *where):
    """An edit: ``data[k1][k2]...[index] = value`` for ``where`` = (k1, k2, ..., index)
    (an array index such as ``np.s_[1, 5:]`` last, or a plain key)."""
    *keys, index = where

    def edit(data):
        target = data
        for key in keys:
            target = target[key]
        target[index] = value
    return edit


def both(*edits):
    """An edit made of several (a case that has to move two numbers to isolate a claim)."""
    def edit(data):
        for e in edits:
            e(data)
    return edit


def edited(base, edit):
    """The base data (a fresh copy from ``base()``) with ``edit`` applied."""
    data = base()
    if edit is not None:
        edit(data)
    return data


def case(id, edit, *verdicts):
    """A test case: the base data with ``edit`` (None: as reported) gives ``verdicts``."""
    return pytest.param(edit, list(verdicts), id=id)


def spec_of(run, *args):
    """The variants, task and task options that ``run(*args)`` (a figure's experiment
    function) hands to ``ex.compare``, captured without training anything."""
    seen = {}

    def compare(variants, task, *, task_options=None, **_):
        seen.update(labels=[v.label for v in variants], task=task,
                    options=dict(task_options or {}))
    with mock.patch.object(skipping.ex, "compare", compare):
        run(*args)
    return seen


# ================================================================== structural.py
ADDING = structural.adding_experiment()
ADD_LSTM, ADD_INDRNN, ADD_ORTHO = (v.label for v in ADDING["variants"])


def adding_base():
    """claims.json: the indrnn left half the baseline at steps 160, 240, 200 (every 40),
    the lstm and the orthogonal RNN never (final MSE just above the baseline)."""
    return {ADD_LSTM: {"loss": losses(11, [None] * 3, before=1.05)},
            ADD_INDRNN: {"loss": losses(11, [4, 6, 5])},
            ADD_ORTHO: {"loss": losses(11, [None] * 3)}}


ADDING_CASES = [
    case("as reported", None, True, True),
    case("lstm leaves before the indrnn in one seed",
         put(LEFT, ADD_LSTM, "loss", np.s_[1, 5:]), False, True),
    case("lstm leaves at the same evaluation as the indrnn in one seed (a tie)",
         put(LEFT, ADD_LSTM, "loss", np.s_[1, 6:]), False, True),
    case("lstm leaves one evaluation after the indrnn in every seed",
         both(*(put(LEFT, ADD_LSTM, "loss", np.s_[seed, k + 1:])
                for seed, k in enumerate([4, 6, 5]))), True, True),
    case("orthogonal leaves at the same evaluation as the indrnn in one seed (a tie)",
         put(LEFT, ADD_ORTHO, "loss", np.s_[2, 5:]), True, False),
    case("orthogonal leaves before the indrnn in one seed",
         put(LEFT, ADD_ORTHO, "loss", np.s_[0, 1:]), True, False),
    case("the indrnn never leaves in one seed (neither does the other: not before it)",
         put(NEVER, ADD_INDRNN, "loss", np.s_[2, :]), False, False),
]


@pytest.mark.parametrize("edit, expected", ADDING_CASES)
def test_adding_claims_need_the_indrnn_strictly_sooner_in_every_seed(edit, expected):
    """structural.adding_claims: "the 2-layer indrnn gets below half the baseline before
    the lstm / the orthogonal RNN in every seed": one seed where the other cell is sooner
    or ties fails that claim alone; a seed where neither ever gets there is not "before"."""
    res = comparison("adding", ADDING["task_options"], edited(adding_base, edit), every=40)
    rec = Recorder()
    structural.adding_claims(res, rec.claim, rec.robust_claim)
    assert rec.verdicts == expected


COPY = structural.copy_experiment()
COPY_LSTM, COPY_EXP, COPY_CAYLEY, COPY_INDRNN = (v.label for v in COPY["variants"])


def copy_base():
    """claims.json: exp left half the baseline at steps 90, 30, 30 and cayley at 90, 60,
    60 (every 30); the lstm and the indrnn ended at the baseline, never below half."""
    return {COPY_LSTM: {"loss": losses(11, [None] * 3, before=1.004)},
            COPY_EXP: {"loss": losses(11, [3, 1, 1], final=[0.015] * 3)},
            COPY_CAYLEY: {"loss": losses(11, [3, 2, 2], final=[0.08] * 3)},
            COPY_INDRNN: {"loss": losses(11, [None] * 3, before=0.98)}}


COPY_CASES = [
    case("as reported", None, True, True, True),
    case("exp never below half in one seed", put(NEVER, COPY_EXP, "loss", np.s_[0, :]),
         False, True, True),
    case("cayley never below half in one seed", put(NEVER, COPY_CAYLEY, "loss", np.s_[2, :]),
         False, True, True),
    case("exp below half at one evaluation only still counts",
         put(NEVER, COPY_EXP, "loss", np.s_[0, 4:]), True, True, True),
    case("lstm below half at one evaluation of one seed",
         put(0.45, COPY_LSTM, "loss", np.s_[1, 5]), True, False, True),
    case("lstm just above half everywhere", put(0.51, COPY_LSTM, "loss", np.s_[:, 3:]),
         True, True, True),
    case("indrnn below half at the end of one seed",
         put(0.45, COPY_INDRNN, "loss", np.s_[2, -1]), True, True, False),
]


@pytest.mark.parametrize("edit, expected", COPY_CASES)
def test_copy_claims_need_both_orthogonal_in_every_seed_and_the_others_in_none(edit, expected):
    """structural.copy_claims: both parametrizations (each of them, in all seeds) get
    below half the baseline; the lstm and the indrnn in no seed (one evaluation of one
    seed below half is enough to fail)."""
    res = comparison("copy", COPY["task_options"], edited(copy_base, edit), every=30)
    rec = Recorder()
    structural.copy_claims(res, rec.claim, rec.robust_claim)
    assert rec.verdicts == expected


DEEP = structural.deep_experiment()
DEEP_PLAIN, DEEP_RESIDUAL = (v.label for v in DEEP["variants"])


def deep_base():
    """claims.json: plain left half the baseline at 120, 160, 80, residual at 80, 120, 80."""
    return {DEEP_PLAIN: {"loss": losses(11, [3, 4, 2], final=[0.04] * 3)},
            DEEP_RESIDUAL: {"loss": losses(11, [2, 3, 2], final=[0.015] * 3)}}


DEEP_CASES = [
    case("as reported", None, True),
    case("plain never below half in one seed", put(NEVER, DEEP_PLAIN, "loss", np.s_[1, :]),
         False),
    case("residual never below half in one seed",
         put(NEVER, DEEP_RESIDUAL, "loss", np.s_[2, :]), False),
]


@pytest.mark.parametrize("edit, expected", DEEP_CASES)
def test_deep_claims_need_both_stacks_in_every_seed(edit, expected):
    """structural.deep_claims: "plain and residual get below half the baseline in all 3
    seeds" fails when either stack misses in one seed."""
    res = comparison("adding", DEEP["task_options"], edited(deep_base, edit), every=40)
    rec = Recorder()
    structural.deep_claims(res, rec.claim)
    assert rec.verdicts == expected


# ================================================================== unitary.py
U_LSTM, U_URNN, U_EURNN = (v.label for v in unitary.copy_variants())
U_COPY_OPTIONS = {"T": 50}
U_EVERY = unitary.copy_budget().eval_every


def unitary_copy_base():
    """claims.json: the lstm ended 1.10-1.14 x the baseline; urnn and eurnn left half of
    it at steps 40-60 (every 20) and ended at 0.011-0.038 x it."""
    return {U_LSTM: {"loss": losses(11, [None] * 3, before=1.2, final=[1.14, 1.11, 1.10])},
            U_URNN: {"loss": losses(11, [3, 3, 2], final=[0.011, 0.016, 0.026])},
            U_EURNN: {"loss": losses(11, [2, 3, 3], final=[0.038, 0.035, 0.02])}}


UNITARY_COPY_CASES = [
    case("as reported", None, True, True, True),
    case("lstm ends below 0.9 x the baseline in one seed",
         put(0.89, U_LSTM, "loss", np.s_[2, -1]), False, True, True),
    case("lstm ends at exactly 0.9 x the baseline (not below)",
         put(0.9, U_LSTM, "loss", np.s_[2, -1]), True, True, True),
    case("lstm dips below 0.9 x before the end (it does not end there)",
         put(0.5, U_LSTM, "loss", np.s_[0, 5]), True, True, True),
    case("urnn ends at exactly a tenth of the baseline in one seed",
         put(0.1, U_URNN, "loss", np.s_[1, -1]), True, False, True),
    case("urnn ends just below a tenth", put(0.0999, U_URNN, "loss", np.s_[1, -1]),
         True, True, True),
    case("urnn never below half in one seed", put(NEVER, U_URNN, "loss", np.s_[0, :]),
         True, False, True),
    case("eurnn ends at a fifth of the baseline in one seed",
         put(0.2, U_EURNN, "loss", np.s_[0, -1]), True, True, False),
]


@pytest.mark.parametrize("edit, expected", UNITARY_COPY_CASES)
def test_unitary_copy_claims_read_the_final_loss_against_the_baseline(edit, expected):
    """unitary.copy_claims: no lstm seed *ends* below 0.9 x the baseline (at 0.9 it is not
    below; a dip before the end is no ending); urnn and eurnn each get below half the
    baseline in every seed and end below a tenth of it (a tenth itself is not below)."""
    res = comparison("copy", U_COPY_OPTIONS, edited(unitary_copy_base, edit), every=U_EVERY)
    rec = Recorder()
    unitary.copy_claims(res, U_COPY_OPTIONS["T"], rec.robust_claim)
    assert rec.verdicts == expected


U_RNN_G, U_LSTM_G, U_URNN_G, U_EURNN_G, U_FFT_G = (v[0] for v in unitary.UNITARY)
U_T = 1000


def unitary_gradient_base():
    """claims.json: the unitary cells' norms within [0.965, 1.007] over 1000 steps; the
    rnn's first one 0.0, the lstm's 1.2e-65 (the last step's norm is 1)."""
    rnn = np.geomspace(1e-300, 1.0, U_T)
    rnn[0] = 0.0
    return {U_RNN_G: rnn, U_LSTM_G: np.geomspace(1.18e-65, 1.0, U_T),
            U_URNN_G: np.linspace(0.9986, 1.0065, U_T),
            U_EURNN_G: np.linspace(0.966, 1.0, U_T), U_FFT_G: np.linspace(0.9654, 1.0, U_T)}


UNITARY_GRADIENT_CASES = [
    case("as reported", None, True, True),
    case("urnn 15 % above 1 at one step", put(1.15, U_URNN_G, 500), False, True),
    case("eurnn fft 15 % below 1 at one step", put(0.85, U_FFT_G, 3), False, True),
    case("eurnn tunable just over 10 % above 1 at its last step",
         put(1.1001, U_EURNN_G, -1), False, True),
    case("eurnn tunable just under 10 % above 1", put(1.0999, U_EURNN_G, -1), True, True),
    case("lstm's gradient at step 1 is exactly 1e-10", put(1e-10, U_LSTM_G, 0), True, False),
    case("lstm's gradient at step 1 just below 1e-10", put(0.99e-10, U_LSTM_G, 0), True, True),
    case("rnn's gradient at step 1 is 1e-3", put(1e-3, U_RNN_G, 0), True, False),
    case("rnn's gradient at step 2 is 1e-3 (only step 1 is read)", put(1e-3, U_RNN_G, 1),
         True, True),
]


@pytest.mark.parametrize("edit, expected", UNITARY_GRADIENT_CASES)
def test_unitary_gradient_claims_bound_every_step_and_the_first(edit, expected):
    """unitary.gradient_claims: every unitary cell stays within 10 % of 1 at every step
    (one step out, above or below, fails); the others' gradient at step 1 is below 1e-10
    (1e-10 itself is not)."""
    rec = Recorder()
    unitary.gradient_claims(edited(unitary_gradient_base, edit), rec.claim, T=U_T)
    assert rec.verdicts == expected


def test_unitary_gradient_claims_record_each_range_and_the_first_step():
    """The numbers recorded beside the verdicts (claims.json): each unitary cell's
    [min, max] over the steps, and the others' gradient at step 1 (not at step 2)."""
    norms = unitary_gradient_base()
    rec = Recorder()
    unitary.gradient_claims(norms, rec.claim, T=U_T)
    assert rec.numbers == [{k: [norms[k].min(), norms[k].max()]
                            for k in (U_URNN_G, U_EURNN_G, U_FFT_G)},
                           {U_RNN_G: 0.0, U_LSTM_G: norms[U_LSTM_G][0]}]


# ================================================================== charlm.py
CHARLM_OPTIONS, _ = charlm.charlm_setup()
CHARLM_LABELS = [label for _, _, label in charlm.CELLS]


def charlm_base():
    """claims.json: every seed ends at 0.75-0.79 of the unigram baseline's loss."""
    return {label: {"loss": np.array([[1.0, 0.9, final] for final in finals])}
            for label, finals in zip(CHARLM_LABELS, ([0.779, 0.783, 0.786],
                                                     [0.766, 0.756, 0.749],
                                                     [0.765, 0.761, 0.77]))}


CHARLM_CASES = [
    case("as reported", None, True, True),
    case("one seed ends at the baseline", put(1.0, CHARLM_LABELS[1], "loss", np.s_[0, -1]),
         False, True),
    case("one seed ends just below the baseline",
         put(np.nextafter(1.0, 0), CHARLM_LABELS[1], "loss", np.s_[0, -1]), True, True),
    case("one seed ends at half the baseline", put(0.5, CHARLM_LABELS[2], "loss",
                                                   np.s_[2, -1]), True, True),
    case("one seed ends below half the baseline", put(0.49, CHARLM_LABELS[2], "loss",
                                                      np.s_[2, -1]), True, False),
    case("one seed dips below half the baseline and climbs back",
         put(0.49, CHARLM_LABELS[0], "loss", np.s_[1, 1]), True, False),
]


@pytest.mark.parametrize("edit, expected", CHARLM_CASES)
def test_charlm_claims_below_the_baseline_and_never_below_half_of_it(edit, expected,
                                                                     monkeypatch):
    """charlm.baseline_claims: every seed ends strictly below the unigram baseline (in
    bits, the same order as in nats), and no seed's evaluation loss ever gets strictly
    below half of the baseline's, at its last evaluation or before."""
    res = comparison("charlm", CHARLM_OPTIONS, edited(charlm_base, edit), every=50)
    rec = Recorder()
    monkeypatch.setattr(charlm, "measure", rec.measure)
    charlm.baseline_claims(res, rec.claim, rec.robust_claim)
    assert rec.verdicts == expected


def test_charlm_negative_claim_is_re_run_at_4x_for_every_cell(monkeypatch):
    """The "never below half" claim is negative: re-run at 4x the steps, every cell; the
    median final bits per character are measured beside it."""
    rec = Recorder()
    monkeypatch.setattr(charlm, "measure", rec.measure)
    claims = []
    res = comparison("charlm", CHARLM_OPTIONS, charlm_base(), every=50)
    charlm.baseline_claims(res, Recorder().claim, lambda *a, **kw: claims.append(
        ex.robust_claim(*a, **kw, strict=False)))
    [c] = claims
    assert (c.negative, c.robustness["budget_factor"], c.robustness["labels"]) == (
        True, 4, CHARLM_LABELS)
    np.testing.assert_allclose(c.numbers[f"{CHARLM_LABELS[1]}: final loss over the baseline"],
                               [0.766, 0.756, 0.749])
    [(_, medians)] = rec.measured
    bits = {label.split(" ")[0]: round(float(np.median(charlm.CharLM.bits(res.final(label)))), 3)
            for label in CHARLM_LABELS}
    assert medians == bits


# ================================================================== skipping.py
SKIP = spec_of(skipping.skip_sweep, (0.0, 1e-4, 1e-3))
SKIP_GRU, SKIP_0, SKIP_4, SKIP_3 = SKIP["labels"]          # λ = 0, 1e-4, 1e-3


def skip_base():
    """claims.json: median fraction of updates 0.79, 0.67, 0.14 for λ = 0, 1e-4, 1e-3;
    median final accuracy 0.49 at λ = 0 and 0.09 at λ = 1e-3."""
    return {"runs": {SKIP_GRU: {"accuracy": ramps(3, [0.9, 0.95, 1.0])},
                     SKIP_0: {"accuracy": ramps(3, [0.45, 0.49, 0.6])},
                     SKIP_4: {"accuracy": ramps(3, [0.2, 0.3, 0.35])},
                     SKIP_3: {"accuracy": ramps(3, [0.05, 0.09, 0.12], start=0.0)}},
            "fractions": {SKIP_GRU: np.ones(3), SKIP_0: np.array([0.78, 0.79, 0.8]),
                          SKIP_4: np.array([0.66, 0.67, 0.69]),
                          SKIP_3: np.array([0.13, 0.14, 0.2])}}


def reorder_variants(data):
    """The variants listed from the largest λ down (the claims must sort them by λ)."""
    data["runs"] = dict(reversed(list(data["runs"].items())))


SKIP_CASES = [
    case("as reported", None, True, True),
    case("λ = 1e-4 updates as often as λ = 0 (a tie)",
         put(0.79, "fractions", SKIP_4, np.s_[:]), False, True),
    case("λ = 1e-3 updates more than λ = 1e-4", put(0.7, "fractions", SKIP_3, np.s_[:]),
         False, True),
    case("λ = 0 updates less than λ = 1e-4", put(0.5, "fractions", SKIP_0, np.s_[:]),
         False, True),
    case("the medians are in order, the means are not",
         both(put(np.array([0.66, 0.67, 0.05]), "fractions", SKIP_4, np.s_[:]),
              put(0.5, "fractions", SKIP_3, np.s_[:])), True, True),
    case("variants listed from the largest λ down", reorder_variants, True, True),
    case("λ = 1e-3 ends as accurate as λ = 0 (median)",
         put(0.49, "runs", SKIP_3, "accuracy", np.s_[1:, -1]), True, False),
    case("λ = 1e-3 ends more accurate than λ = 0",
         put(0.7, "runs", SKIP_3, "accuracy", np.s_[:, -1]), True, False),
    case("one λ = 1e-3 seed ends at 1.0, its median stays low",
         put(1.0, "runs", SKIP_3, "accuracy", np.s_[2, -1]), True, True),
    case("λ = 1e-4 ends below λ = 1e-3 (only the extremes are compared)",
         put(0.01, "runs", SKIP_4, "accuracy", np.s_[:, -1]), True, True),
]


@pytest.mark.parametrize("edit, expected", SKIP_CASES)
def test_skip_claims_order_the_updates_by_lambda_and_compare_the_extremes(edit, expected):
    """skipping.skip_claims: the median fraction of updates falls strictly as λ grows (a
    tie or a rise fails; medians, not means; ordered by λ whatever the variants' order);
    the largest λ ends with a strictly lower median accuracy than λ = 0."""
    data = edited(skip_base, edit)
    res = comparison(SKIP["task"], SKIP["options"], data["runs"], every=150)
    rec = Recorder()
    skipping.skip_claims(res, data["fractions"], rec.claim, rec.robust_claim)
    assert rec.verdicts == expected


def tradeoff_base():
    """The figure's 1,200 steps: λ = 1e-4 ends below MSE 0.01 in every seed (above the
    layout's criterion, 1/600, in seeds 0-2), having updated 0.60, 0.82 and 0.38 of the
    steps."""
    return {"runs": {SKIP_4: {"success": np.array([[0.16, 0.005], [0.16, 0.008],
                                                   [0.16, 0.004]])}},
            "fractions": {SKIP_4: np.array([0.599, 0.815, 0.384])}}


TRADEOFF_CASES = [
    case("as reported", None, True),
    case("one seed ends at MSE 0.01, not below it", put(0.01, "runs", SKIP_4, "success",
                                                          np.s_[1, -1]), False),
    case("the seed with few updates ends above MSE 0.01",
         put(0.02, "runs", SKIP_4, "success", np.s_[2, -1]), False),
    case("every seed updates just over half the steps",
         put(np.nextafter(0.5, 1), "fractions", SKIP_4, np.s_[2]), False),
    case("one seed updates exactly half the steps", put(0.5, "fractions", SKIP_4, np.s_[2]),
         True),
    case("every seed with at most half the updates", put(0.4, "fractions", SKIP_4, np.s_[:]),
         True),
    case("one seed ends solved (MSE < 1/600): still below 0.01",
         put(4e-4, "runs", SKIP_4, "success", np.s_[2, -1]), True),
]


@pytest.mark.parametrize("edit, expected", TRADEOFF_CASES)
def test_tradeoff_claim_needs_every_seed_below_001_and_one_with_half_the_updates(
        edit, expected, monkeypatch):
    """skipping.tradeoff_claim: λ = 1e-4 ends with MSE strictly below 0.01 (not the
    task's criterion, which it names) in every seed, and at least one seed updated at most
    half the steps; the numbers recorded beside it are those two and which seeds are
    solved (MSE < 1/600)."""
    data = edited(tradeoff_base, edit)
    res = comparison(SKIP["task"], SKIP["options"], data["runs"], every=600)
    read = []
    monkeypatch.setattr(skipping, "update_fractions",
                        lambda r: read.append(r) or data["fractions"])
    claims = []
    skipping.tradeoff_claim(res, lambda *a, **kw: claims.append(
        ex.robust_claim(*a, **kw, strict=False)))
    [c] = claims
    assert len(read) == 1       # the check and its numbers share one pass over the models
    assert ([c.passed], c.negative, c.robustness["budget_factor"]) == (expected, False, 1)
    assert "not solved here" in c.statement and "MSE < 0.00167" in c.statement
    np.testing.assert_array_equal(c.numbers["final MSE"], res.final(SKIP_4, "success"))
    assert c.numbers["solved"] == list(res.success.met(res.final(SKIP_4, "success")))
    np.testing.assert_array_equal(c.numbers["fraction updated"], data["fractions"][SKIP_4])


@pytest.mark.parametrize("last, expected", [(1e-4, True), (1 / 600, False), (np.nan, False)])
def test_gru_claim_needs_every_seed_below_1_600(last, expected):
    """skipping.gru_claim: the every-step GRU ends with MSE strictly below 1/600 in every
    seed (the other two seeds at 1e-4)."""
    runs = {SKIP_GRU: {"success": np.array([[0.16, 1e-4], [0.16, 1e-4], [0.16, last]])}}
    res = comparison(SKIP["task"], SKIP["options"], runs, every=600)
    rec = Recorder()
    skipping.gru_claim(res, rec.claim)
    assert rec.verdicts == [expected]


DIGITS = spec_of(skipping.qrnn_digits)
D_QRNN, D_LSTM = DIGITS["labels"]
FLOOR = make_task(DIGITS["task"], **DIGITS["options"]).success.memoryless


def digits_base():
    """claims.json: median final accuracy 0.446 (qrnn) and 0.774 (lstm); always answering
    the most frequent digit gets 0.078."""
    return {D_QRNN: {"accuracy": ramps(3, [0.43, 0.4457, 0.46])},
            D_LSTM: {"accuracy": ramps(3, [0.76, 0.7744, 0.79])}}


DIGITS_CASES = [
    case("as reported", None, True),
    case("qrnn's median exactly twice the most frequent digit's accuracy",
         put(2 * FLOOR, D_QRNN, "accuracy", np.s_[:, -1]), False),
    case("qrnn's median just above twice the most frequent digit's accuracy",
         put(2 * FLOOR + 1e-9, D_QRNN, "accuracy", np.s_[:, -1]), True),
    case("one qrnn seed below twice the most frequent digit's accuracy, the median above",
         put(FLOOR, D_QRNN, "accuracy", np.s_[0, -1]), True),
    case("lstm ties the qrnn", put(0.4457, D_LSTM, "accuracy", np.s_[:, -1]), False),
    case("lstm behind the qrnn", put(0.3, D_LSTM, "accuracy", np.s_[:, -1]), False),
]


@pytest.mark.parametrize("edit, expected", DIGITS_CASES)
def test_digits_claim_needs_the_qrnn_above_twice_the_floor_and_the_lstm_ahead(edit, expected):
    """skipping.digits_claims: the qrnn's median final accuracy strictly above twice the
    most frequent digit's accuracy (twice it is not above), and the lstm's strictly above the
    qrnn's (a tie is not "ahead")."""
    res = comparison(DIGITS["task"], DIGITS["options"], edited(digits_base, edit), every=150)
    rec = Recorder()
    skipping.digits_claims(res, rec.claim)
    assert rec.verdicts == expected


# ================================================================== fast_memory.py
def attention_base():
    """claims.json: the query weighed its own pair most in 0.787 of 300 sequences, a state
    written right after a value in 0.98."""
    return {"own pair": 0.787, "chance": 0.2, "after a value": 0.98,
            "counts": np.array([0, 103, 0, 57, 2, 58, 4, 76, 0, 0])}


ATTENTION_CASES = [
    case("as reported", None, True, True),
    case("own pair in exactly half", put(0.5, "own pair"), False, True),
    case("own pair in just over half", put(0.5 + 1e-9, "own pair"), True, True),
    case("after a value in exactly 90 %", put(0.9, "after a value"), True, False),
    case("after a value in just over 90 %", put(0.9 + 1e-9, "after a value"), True, True),
]


@pytest.mark.parametrize("edit, expected", ATTENTION_CASES)
def test_attention_claims_need_more_than_half_and_more_than_90_percent(edit, expected,
                                                                       monkeypatch):
    """fast_memory.attention_claims on own_pair_attention's numbers (replaced: the claims
    read nothing else): "more than half" fails at one half, "more than 90%" at 0.9; the
    function hands back the numbers it judged."""
    a = edited(attention_base, edit)
    model, task = object(), object()
    monkeypatch.setattr(fast_memory, "own_pair_attention",
                        lambda m, t: a if (m, t) == (model, task) else None)
    rec = Recorder()
    assert fast_memory.attention_claims(model, task, rec.claim) is a
    assert rec.verdicts == expected


ASSOCIATIVE = make_task("associative")


def gate_base():
    """claims.json: mean gate 0.624 on '?', 0.588 on letters (0.586 to 0.593), 0.559 on
    digits (0.538 to 0.576)."""
    return {"letters": np.linspace(0.5858, 0.5925, len(ASSOCIATIVE.LETTERS)),
            "digits": np.linspace(0.538, 0.5765, len(ASSOCIATIVE.DIGITS)),
            "'?'": np.array([0.6245])}


def tie(a, b):
    """An edit: every symbol of group ``a`` at group ``b``'s mean."""
    def edit(data):
        data[a][:] = data[b].mean()
    return edit


GATE_CASES = [
    case("as reported", None, True, True),
    case("'?' at the letters' mean (a tie)", tie("'?'", "letters"), False, True),
    case("letters at the digits' mean (a tie)", tie("letters", "digits"), False, True),
    case("letters below the digits", put(0.55, "letters", np.s_[:]), False, True),
    case("'?' below the letters", put(0.58, "'?'", 0), False, True),
    case("one letter below a digit, the means in order", put(0.54, "letters", 0), True, True),
    case("a digit at exactly 0.5", put(0.5, "digits", 0), True, False),
    case("a digit just above 0.5", put(0.5 + 1e-9, "digits", 0), True, True),
    case("a letter at exactly 0.75", put(0.75, "letters", 3), True, False),
    case("'?' at exactly 0.75", put(0.75, "'?'", 0), True, False),
    case("'?' just below 0.75", put(0.75 - 1e-9, "'?'", 0), True, True),
]


@pytest.mark.parametrize("edit, expected", GATE_CASES)
def test_gate_claims_order_the_means_and_bound_every_symbol(edit, expected):
    """fast_memory.gate_claims: the mean gate strictly falls from '?' to letters to
    digits (ties fail; it reads the means, not single symbols), and every one of the 37
    symbols keeps strictly between 0.5 and 0.75 (either end fails)."""
    rec = Recorder()
    fast_memory.gate_claims(edited(gate_base, edit), rec.claim)
    assert rec.verdicts == expected


F_RNN, F_LSTM, F_DTANH, F_DID, F_FW, F_OFF = (v[0] for v in fast_memory.gradient_variants())
F_T = 100
# the norms come from plot_gradient_norms at its defaults (notebook 07 passes no seed):
# gradient_claims' own defaults must build its delta-rnn at those
F_HIDDEN, F_SEED = (inspect.signature(plot_gradient_norms).parameters[k].default
                    for k in ("hidden", "seed"))


def delta_gate_mean():
    """The mean gate r_t of the delta-rnn the claim builds, on the same random inputs."""
    cell = make("deltarnn", 4, F_HIDDEN, seed=F_SEED)
    return float(fast_memory.gate(cell, np.asarray(random_inputs(cell, F_T, 16, F_SEED)))
                 .mean())


R_MEAN = delta_gate_mean()


def per_step(factor):
    """The gradient at step 1 (relative to the last) that shrinks by ``factor`` per step."""
    return factor ** (F_T - 1)


F_LAST = 0.25      # the norm at the loss (a power of two: ratios to it stay exact)


def fast_gradient_base():
    """claims.json: ||dL/dh_1|| / ||dL/dh_T|| of 2.96 (fast weights), 2.9e-8 (lstm),
    6.4e-17 and 9.1e-17 (delta-rnn tanh, identity: 0.686 and 0.689 per step), 9.0e-26
    (rnn), 2.7e-140 (fast weights with eta = 0); the gate's mean r_t is 0.50. The norm
    at the loss is not 1: the claims read ratios to it."""
    first = {F_FW: 2.958, F_LSTM: 2.95e-8, F_DTANH: 6.4e-17, F_DID: 9.09e-17,
             F_RNN: 9.04e-26, F_OFF: 2.73e-140}
    out = {}
    for label in (v[0] for v in fast_memory.gradient_variants()):
        out[label] = F_LAST * np.geomspace(first[label], 1.0, F_T)
        out[label][[0, -1]] = F_LAST * first[label], F_LAST
    return out


def ratio(value, label):
    """An edit: ``label``'s gradient at step 1 set to ``value`` x the one at the loss."""
    return put(value * F_LAST, label, 0)


FAST_GRADIENT_CASES = [
    case("as reported", None, True, True, True, True),
    case("fast weights keep exactly 1/100", ratio(1e-2, F_FW), False, True, True, True),
    case("fast weights keep just over 1/100", ratio(1.01e-2, F_FW), True, True, True, True),
    case("without memory exactly 1e-20 (the rnn above it)",
         both(ratio(1e-20, F_OFF), ratio(1e-19, F_RNN)), True, False, True, True),
    case("without memory just below 1e-20 (the rnn above it)",
         both(ratio(0.99e-20, F_OFF), ratio(1e-19, F_RNN)), True, True, True, True),
    case("lstm ties fast weights", ratio(2.958, F_LSTM), True, True, False, True),
    case("delta-rnn (tanh) ties the lstm", ratio(6.4e-17, F_LSTM), True, True, False, True),
    case("rnn ties the delta-rnn (tanh)", ratio(6.4e-17, F_RNN), True, True, False, True),
    case("without memory ties the rnn", ratio(2.73e-140, F_RNN), True, True, False, True),
    case("delta-rnn (identity) ties the lstm", ratio(2.95e-8, F_DID), True, True, False, True),
    case("rnn ties the delta-rnn (identity) alone",
         both(ratio(1e-16, F_DID), ratio(1e-16, F_RNN), ratio(0.9e-16, F_DTANH)),
         True, True, False, True),
    case("delta-rnn identity below tanh: either order of the two passes",
         both(ratio(6.4e-17, F_DID), ratio(9.09e-17, F_DTANH)), True, True, True, True),
    case("delta-rnn (tanh) shrinks by just under its gate's mean per step",
         both(ratio(per_step(R_MEAN * (1 - 1e-9)), F_DTANH), ratio(1e-40, F_RNN)),
         True, True, True, False),
    case("delta-rnn (tanh) shrinks by just over its gate's mean per step",
         both(ratio(per_step(R_MEAN * (1 + 1e-9)), F_DTANH), ratio(1e-40, F_RNN)),
         True, True, True, True),
    case("delta-rnn (identity) shrinks by just under its gate's mean per step",
         both(ratio(per_step(R_MEAN * (1 - 1e-9)), F_DID), ratio(1e-40, F_RNN)),
         True, True, True, False),
    case("delta-rnn (identity) does not shrink (factor 1)",
         both(ratio(1.0, F_DID), ratio(2.0, F_LSTM)), True, True, True, False),
    case("delta-rnn (identity) shrinks by just under 1 per step",
         both(ratio(per_step(1 - 1e-9), F_DID), ratio(2.0, F_LSTM)), True, True, True, True),
]


@pytest.mark.parametrize("edit, expected", FAST_GRADIENT_CASES)
def test_fast_memory_gradient_claims_bound_and_order_the_first_step(edit, expected):
    """fast_memory.gradient_claims on the ratio ||dL/dh_1|| / ||dL/dh_T||: more than
    1/100 with the memory on, below 1e-20 with it off (the bounds themselves fail); the
    order fast weights > lstm > delta-rnn (both Φ) > rnn > no memory is strict at every
    link; each delta-rnn's per-step factor lies strictly between its gate's mean and 1
    (the gate of a delta-rnn built at the norms' default hidden size and seed)."""
    rec = Recorder()
    fast_memory.gradient_claims(edited(fast_gradient_base, edit), rec.claim, T=F_T)
    assert rec.verdicts == expected


# ================================================================== training.py
T_RNN, T_LSTM, T_GRU = (v.label for v in training.ADDING_VARIANTS[:3])
T_ADDING = {"T": 100}
T_COPY = {"T": 20}


def long_memory_base():
    """claims.json: the gru left half the baseline at step 300 in every seed, the lstm at
    1125, 975, 975 (every 75), the tanh rnn never (final MSE 1.4-2.3 x the baseline).
    On copy the rnn ends at the baseline, 2 lstm seeds and 3 gru seeds below it."""
    return {"adding": {T_RNN: {"loss": losses(21, [None] * 3, before=1.5)},
                       T_LSTM: {"loss": losses(21, [15, 13, 13], after=0.007)},
                       T_GRU: {"loss": losses(21, [4, 4, 4], after=0.003)}},
            "copy": {T_RNN: {"loss": losses(21, [None] * 3)},
                     T_LSTM: {"loss": losses(21, [None] * 3, final=[0.9, 0.95, 1.02])},
                     T_GRU: {"loss": losses(21, [None] * 3, before=0.8)}}}


LONG_MEMORY_CASES = [
    case("as reported", None, True, True),
    case("gru never below half in one seed", put(NEVER, "adding", T_GRU, "loss", np.s_[1, :]),
         False, True),
    case("lstm never below half in one seed",
         put(NEVER, "adding", T_LSTM, "loss", np.s_[2, :]), False, True),
    case("lstm below half at the last evaluation only",
         put(NEVER, "adding", T_LSTM, "loss", np.s_[:, :-1]), True, True),
    case("the tanh rnn below half at one evaluation of one seed",
         put(0.45, "adding", T_RNN, "loss", np.s_[0, 7]), True, False),
]


def long_memory_verdicts(data, monkeypatch):
    """(verdicts, measurements) of training.long_memory_claims on ``data``."""
    rec = Recorder()
    monkeypatch.setattr(training, "check_robust", rec.robust_claim)
    monkeypatch.setattr(training, "measure", rec.measure)
    adding = comparison("adding", T_ADDING, data["adding"], every=75)
    copy = comparison("copy", T_COPY, data["copy"], every=75)
    training.long_memory_claims(adding, copy)
    return rec.verdicts, [numbers for _, numbers in rec.measured]


@pytest.mark.parametrize("edit, expected", LONG_MEMORY_CASES)
def test_long_memory_claims_need_every_gated_seed_and_no_rnn_seed(edit, expected,
                                                                 monkeypatch):
    """training.long_memory_claims: the gru and the lstm (each) get below half the
    adding baseline in every seed (at any evaluation); the tanh rnn in none (one
    evaluation of one seed is enough to fail)."""
    assert long_memory_verdicts(edited(long_memory_base, edit), monkeypatch)[0] == expected


def test_long_memory_measures_count_the_copy_seeds_strictly_below_the_baseline(monkeypatch):
    """The figure's measurements beside the claims: seeds solved on adding (no success
    curves here: none), and copy seeds that end below the baseline, where a seed that
    ends exactly at it (the rnn, an lstm seed at 1.02 x) is not below."""
    _, measured = long_memory_verdicts(long_memory_base(), monkeypatch)
    assert measured[1] == {T_RNN: 0, T_LSTM: 2, T_GRU: 3}
    assert measured[0] == measured[2] == {T_RNN: 0, T_LSTM: 0, T_GRU: 0}


TG_T, TG_HALF = T_ADDING["T"], T_ADDING["T"] // 2
TINY = 2.0 ** -30          # an exact power of two: 1000 x it is exact in floating point


def reach(before=None, after=None):
    """An edit: every seed's smallest relative gradient norm in the first half (before,
    after training) set to ``before`` / ``after`` (per seed where a list)."""
    def edit(data):
        for k, value in ((0, before), (1, after)):
            if value is not None:
                data["norms"]["gru"][k][:, :TG_HALF] = np.reshape(value, (-1, 1))
    return edit


def gru_gradient_base():
    """claims.json: the gru's first-half reach 2.3e-20 at initialization (median over
    seeds) and 0.198 after training; below half the baseline at step 300 in every seed."""
    before, after = np.ones((3, TG_T)), np.ones((3, TG_T))
    before[:, :TG_HALF] = [[1.6e-20], [2.34e-20], [3e-20]]
    after[:, :TG_HALF] = [[0.15], [0.198], [0.32]]
    return {"runs": {T_GRU: {"loss": losses(21, [4, 4, 4], after=0.003)}},
            "norms": {"gru": (before, after)}}


GRU_GRADIENT_CASES = [
    case("as reported", None, True),
    case("at initialization exactly 1e-6", reach(before=1e-6), False),
    case("at initialization just below 1e-6", reach(before=0.99e-6), True),
    case("at initialization one seed above 1e-6, the median below",
         reach(before=[1e-3, 2e-20, 3e-20]), True),
    case("tiny only in the second half: the first half reads 1e-3",
         both(reach(before=1e-3), put(1e-30, "norms", "gru", 0, np.s_[:, TG_HALF:-1])),
         False),
    case("after training only 999x more", reach(before=TINY, after=999 * TINY), False),
    case("after training 1001x more", reach(before=TINY, after=1001 * TINY), True),
    # "at least 1000x": equality holds (the code once asked for more than 1000x)
    case("after training exactly 1000x more", reach(before=TINY, after=1000 * TINY), True),
    case("gru never below half in one seed", put(NEVER, "runs", T_GRU, "loss", np.s_[2, :]),
         False),
]


@pytest.mark.parametrize("edit, expected", GRU_GRADIENT_CASES)
def test_gru_gradient_claim_needs_a_tiny_start_1000x_more_and_every_seed(edit, expected,
                                                                       monkeypatch):
    """training.gradient_claims on the norms the figure drew: the median first-half reach
    at initialization below 1e-6 (1e-6 itself fails), at least 1000x more of it after
    training, and the gru below half the adding baseline in every seed."""
    data = edited(gru_gradient_base, edit)
    rec = Recorder()
    monkeypatch.setattr(training, "check_robust", rec.robust_claim)
    training.gradient_claims(comparison("adding", T_ADDING, data["runs"], every=75),
                             data["norms"])
    assert rec.verdicts == expected


def test_gru_gradient_claim_reads_a_reruns_own_gradients(monkeypatch):
    """The --robust re-run (seeds 10-12) is judged on gradients computed for its own
    models, not on the ones the figure drew for seeds 0-2: here the re-run's gradient at
    initialization is not small, so there the claim fails while on the figure's seeds it
    holds (and without drawn norms, the figure's seeds are computed too)."""
    base = gru_gradient_base()
    result = comparison("adding", T_ADDING, base["runs"], every=75)
    rerun = comparison("adding", T_ADDING, base["runs"], every=75)
    rerun.seeds = [10, 11, 12]
    computed = []

    def gradient_before_after(r, labels):
        computed.append(list(r.seeds))
        return {"gru": tuple(np.full((3, TG_T), 1e-3) for _ in range(2))}

    def robust(statement, res, check_fn, *, labels, **_):
        verdicts.append((check_fn(res.subset(labels)), check_fn(rerun.subset(labels))))
    monkeypatch.setattr(training, "gradient_before_after", gradient_before_after)
    monkeypatch.setattr(training, "check_robust", robust)
    verdicts = []
    training.gradient_claims(result, base["norms"])
    assert (verdicts, computed) == ([(True, False)], [[10, 11, 12]])
    verdicts = []
    training.gradient_claims(result)
    assert verdicts == [(False, False)]


def robust_runs():
    """(id, a function running a claim function on its base data with the given
    robust_claim, the re-run plans figures/claims.json records: (negative, budget
    factor, labels) per robust claim)."""
    def adding(robust, monkeypatch):
        res = comparison("adding", ADDING["task_options"], adding_base(), every=40)
        structural.adding_claims(res, Recorder().claim, robust)

    def copy(robust, monkeypatch):
        structural.copy_claims(comparison("copy", COPY["task_options"], copy_base(), every=30),
                               Recorder().claim, robust)

    def unitary_copy(robust, monkeypatch):
        res = comparison("copy", U_COPY_OPTIONS, unitary_copy_base(), every=U_EVERY)
        unitary.copy_claims(res, U_COPY_OPTIONS["T"], robust)

    def skip(robust, monkeypatch):
        data = skip_base()
        res = comparison(SKIP["task"], SKIP["options"], data["runs"], every=150)
        skipping.skip_claims(res, data["fractions"], Recorder().claim, robust)

    def long_memory(robust, monkeypatch):
        monkeypatch.setattr(training, "check_robust", robust)
        monkeypatch.setattr(training, "measure", Recorder().measure)
        data = long_memory_base()
        training.long_memory_claims(comparison("adding", T_ADDING, data["adding"], every=75),
                                    comparison("copy", T_COPY, data["copy"], every=75))

    def gru_gradient(robust, monkeypatch):
        monkeypatch.setattr(training, "check_robust", robust)
        data = gru_gradient_base()
        training.gradient_claims(comparison("adding", T_ADDING, data["runs"], every=75),
                                 data["norms"])
    return [
        pytest.param(adding, [(False, 4, [ADD_INDRNN, ADD_LSTM]),
                              (False, 4, [ADD_INDRNN, ADD_ORTHO])], id="structural adding"),
        pytest.param(copy, [(True, 4, [COPY_LSTM]), (True, 4, [COPY_INDRNN])],
                     id="structural copy"),
        pytest.param(unitary_copy, [(True, 4, [U_LSTM]), (False, 1, [U_URNN]),
                                    (False, 1, [U_EURNN])], id="unitary copy"),
        pytest.param(skip, [(True, 4, [SKIP_0, SKIP_3])], id="skip"),
        pytest.param(long_memory, [(False, 1, [T_GRU, T_LSTM]), (True, 4, [T_RNN])],
                     id="long memory"),
        pytest.param(gru_gradient, [(False, 1, [T_GRU])], id="gru gradient"),
    ]


@pytest.mark.parametrize("run, plans", robust_runs())
def test_robust_claims_plan_the_reruns_claims_json_records(run, plans, monkeypatch):
    """Through the real ex.robust_claim (not run, strict=False): a claim that something
    fails or stays is negative and re-run at 4x the steps; one that something succeeds in
    every seed is positive, re-run at the same budget where claims.json records 1. A
    "before"/"later than" claim stays positive at 4x. Every claim holds on the base data."""
    claims = []
    run(lambda *a, **kw: claims.append(ex.robust_claim(*a, **kw, strict=False)), monkeypatch)
    assert [(c.negative, c.robustness["budget_factor"], c.robustness["labels"])
            for c in claims] == plans
    assert all(c.passed for c in claims)


def test_robust_claims_record_the_numbers_they_were_judged_on(monkeypatch):
    """The numbers beside the robust verdicts: the lstm's final loss over the copy
    baseline per seed (unitary), the two median accuracies (skip), the gru's first-half
    reach before and after training and where each seed left half the baseline."""
    claims = []

    def robust(*a, **kw):
        claims.append(ex.robust_claim(*a, **kw, strict=False))
    runs = {p.id: p.values[0] for p in robust_runs()}
    for name in ("unitary copy", "skip", "gru gradient"):
        runs[name](robust, monkeypatch)
    lstm, skip, gru = claims[0].numbers, claims[3].numbers, claims[4].numbers
    np.testing.assert_allclose(lstm["final_over_baseline"], [1.14, 1.11, 1.10])
    assert lstm["seeds_solved"] == 0
    assert skip == {f"median accuracy, {SKIP_0}": 0.49, f"median accuracy, {SKIP_3}": 0.09}
    assert gru == {"gru_at_init": 2.34e-20, "gru_trained": 0.198,
                   "below_half_baseline_at": [300] * 3, "seeds_solved": 0}
