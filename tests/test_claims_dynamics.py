"""The claims of the dynamical-systems figures (rnnzoo/teaching/figures/dynamics.py and
dynamics_memory.py) fail on data that contradicts them.

Each claim function gets made-up data of the structure its figure computes: first as the
real run reported it (the numbers of figures/claims.json), where every claim passes; then
edited so that exactly one statement is contradicted (or, at a boundary, only just kept),
where that claim's verdict, and only that one, changes. A flipped comparison, an ``and``
turned ``or`` or a changed threshold would leave a claim that cannot fail, silently.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest

from rnnzoo.teaching.figures import dynamics, dynamics_memory
from rnnzoo.teaching.figures.dynamics import KEEPERS, LSTM, RNN
from rnnzoo.training.tasks import make_task

from .fake_results import Recorder, fake_comparison, just_above, just_below

ANTISYMMETRIC, LIPSCHITZ, CORNN, UNICORNN, LMU = dynamics.ODE_CELLS
ALL_CELLS = [label for label, *_ in dynamics.AT_INIT]       # the seven, in figure order
DIGIT_LABELS = [v.label for v in dynamics.DIGITS_VARIANTS]
DIGIT_CELLS = {v.label: v.cell for v in dynamics.DIGITS_VARIANTS}
SAVED, SATURATED = dynamics.CORNN_SETTINGS                   # coRNN's two settings
LONG_DIGITS = {"size": 14}                                   # long_digits_experiment's task
MOST_FREQUENT = make_task("permuted_digits", **LONG_DIGITS).success.memoryless
SOLVED = make_task("permuted_digits").success.threshold      # accuracy 0.9


# ----------------------------------------------------------------- helpers
def off_circle(distance, side):
    """The float |λ| nearest the unit circle whose distance from it, | |λ| - 1 |, is at
    least ``distance``, outside (``side`` +1) or inside (-1): the boundary of "within
    ``distance``", since 1 ± distance itself is rarely a float. One float nearer the
    circle (:func:`nearer`) is within it."""
    x = 1.0 + side * distance
    while abs(x - 1) < distance:
        x = float(np.nextafter(x, side * np.inf))
    while abs(np.nextafter(x, 1.0) - 1) >= distance:
        x = float(np.nextafter(x, 1.0))
    return x


def nearer(x):
    """The next float towards 1."""
    return float(np.nextafter(x, 1.0))


def put(*path, value):
    """An edit of the base data: ``data[path[0]][path[1]]... = value``."""
    def edit(data):
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value
    return edit


def edited(base, edit):
    """A deep copy of ``base`` with ``edit`` (None: none) applied."""
    data = copy.deepcopy(base)
    if edit is not None:
        edit(data)
    return data


def case(name, expected, *path, value):
    """A test case: the base data with ``path`` set to ``value``, the verdicts expected."""
    return pytest.param(put(*path, value=value), expected, id=name)


AS_REPORTED = pytest.param(None, None, id="as reported")    # expected: every claim passes


class RobustRecorder(Recorder):
    """A :class:`Recorder` that also keeps, per robust claim, whether it is stated as a
    negative claim (:func:`check_robust`'s default: yes) and the numbers it records."""

    def __init__(self):
        super().__init__()
        self.robust = []

    def robust_claim(self, statement, result, check_fn, *, labels, negative=True,
                     numbers=None, **_):
        shown = None if numbers is None else numbers(result.subset(labels))
        self.robust.append((negative, {lb: list(v) for lb, v in (shown or {}).items()}))
        super().robust_claim(statement, result, check_fn, labels=labels)


# ----------------------------------------------------------------- the step Jacobian
def spectra_moduli():
    """|λ| of each cell's step Jacobian at initialization, as the real run gave them:
    within 8e-5 (antisymmetric) and 2.5e-4 (lipschitz) of the circle, unicornn on it to
    round-off, spectral radius 0.54 (rnn) and 0.86 (lstm)."""
    return {RNN: [0.05, 0.3, 0.5419], LSTM: [0.1, 0.8592], ANTISYMMETRIC: [1 - 8e-5, 1 + 8e-5],
            LIPSCHITZ: [1 - 2.5e-4, 1.0], CORNN: [0.605712, 0.8, 1.0],
            UNICORNN: [1.0, 1 - 4.4e-16], LMU: [0.011043, 0.5, 1.004712]}


def spectra_from(moduli):
    """{label: complex eigenvalues} with those moduli, alternately on the positive and
    the negative real axis (so that |λ| is exactly the modulus given)."""
    return {lb: np.array(m, dtype=complex) * (-1.0) ** np.arange(len(m))
            for lb, m in moduli.items()}


@pytest.mark.parametrize("edit, expected", [
    AS_REPORTED,
    case("antisymmetric 1e-3 outside the circle", [False, True, True],
         ANTISYMMETRIC, 1, value=off_circle(1e-3, +1)),
    case("antisymmetric just within 1e-3 outside", [True, True, True],
         ANTISYMMETRIC, 1, value=nearer(off_circle(1e-3, +1))),
    case("lipschitz 1e-3 inside the circle", [False, True, True],
         LIPSCHITZ, 0, value=off_circle(1e-3, -1)),
    case("lipschitz just within 1e-3 inside", [True, True, True],
         LIPSCHITZ, 0, value=nearer(off_circle(1e-3, -1))),
    case("unicornn 1e-3 off the circle", [False, False, True],
         UNICORNN, 0, value=off_circle(1e-3, +1)),
    case("unicornn 1e-12 off the circle", [True, False, True],
         UNICORNN, 1, value=off_circle(1e-12, -1)),
    case("unicornn just within 1e-12", [True, True, True],
         UNICORNN, 1, value=nearer(off_circle(1e-12, -1))),
    case("rnn's spectral radius 0.95", [True, True, False], RNN, 2, value=0.95),
    case("lstm's spectral radius 0.95", [True, True, False], LSTM, 1, value=0.95),
    case("lstm's spectral radius just below 0.95", [True, True, True], LSTM, 1,
         value=just_below(0.95)),
    case("cornn is in no claim", [True, True, True], CORNN, 0, value=0.2),
    case("lmu is in no claim", [True, True, True], LMU, 2, value=1.5),
])
def test_spectra_claims(monkeypatch, edit, expected):
    """Within 1e-3 of the circle (either side) for antisymmetric, lipschitz and unicornn,
    unicornn to 1e-12, and the rnn's and lstm's spectral radius below 0.95: at each
    threshold a claim fails, one float nearer it passes; cornn and lmu are only measured."""
    rec = Recorder()
    monkeypatch.setattr(dynamics, "measure", rec.measure)
    dynamics.spectra_claims(spectra_from(edited(spectra_moduli(), edit)), claim=rec.claim)
    assert rec.verdicts == (expected or [True, True, True])


def test_spectra_measures_the_others_range(monkeypatch):
    """cornn's and lmu's smallest and largest |λ| are measured, to 4 digits."""
    rec = Recorder()
    monkeypatch.setattr(dynamics, "measure", rec.measure)
    dynamics.spectra_claims(spectra_from(spectra_moduli()), claim=rec.claim)
    assert [numbers for _, numbers in rec.measured] == [
        {CORNN: [0.6057, 1.0], LMU: [0.011, 1.0047]}]


# ----------------------------------------------------------------- the gradient in time
def gradient_base():
    """Per cell and seed, the fraction of ‖dL/dh_T‖ that reaches step 1 ("kept") and the
    largest ‖dL/dh_t‖ / ‖dL/dh_T‖ ("peak"), as the real run gave them (T = 1000, seeds
    0-2): nothing left in the rnn and lstm, 0.3-0.98 kept by the four keepers, nowhere
    above 1.02x."""
    kept = {RNN: [0.0, 0.0, 0.0], LSTM: [1.2e-65, 2.3e-59, 7.5e-70],
            ANTISYMMETRIC: [0.9227, 0.9244, 0.9266], LIPSCHITZ: [0.9742, 0.9684, 0.9789],
            CORNN: [0.3779, 0.2979, 0.4477], UNICORNN: [0.6964, 0.7126, 0.6528],
            LMU: [4.75e-8, 6.4e-9, 2.0e-8]}
    peak = {lb: [1.0, 1.0, 1.0] for lb in kept}
    peak[UNICORNN] = [1.017, 1.01, 1.0]
    return {"kept": kept, "peak": peak}


def gradient_study_from(base, T=20, seeds=(0, 1, 2), labels=None):
    """{seed: {label: ‖dL/dh_t‖ for t = 1..T}} (:func:`dynamics.gradient_study`'s
    structure): ``kept`` x the last step's at step 1 and ``peak`` x halfway, the i-th
    seed given the i-th of each list. The last step's norm is a power of 2 other than 1,
    so that the fractions are exact and a product reads differently from a quotient."""
    study = {}
    for i, seed in enumerate(seeds):
        study[seed] = {}
        for lb in labels or ALL_CELLS:
            norms = np.linspace(base["kept"][lb][i], 1.0, T)
            norms[T // 2] = max(base["peak"][lb][i], norms[T // 2])
            study[seed][lb] = norms * 2.0 ** -(i + 3)
    return study


GRADIENT_CASES = [
    AS_REPORTED,
    case("lstm keeps 1e-10 in one seed", [False, True], "kept", LSTM, 1, value=1e-10),
    case("lstm keeps just under 1e-10", [True, True], "kept", LSTM, 1, value=just_below(1e-10)),
    case("rnn keeps 1e-9 in one seed", [False, True], "kept", RNN, 2, value=1e-9),
    case("lmu keeps half: in no claim", [True, True], "kept", LMU, 0, value=0.5),
    case("cornn keeps 1e-2 in one seed", [True, False], "kept", CORNN, 1, value=1e-2),
    case("cornn keeps just over 1e-2", [True, True], "kept", CORNN, 1, value=just_above(1e-2)),
    case("antisymmetric keeps 1e-3 in one seed", [True, False], "kept", ANTISYMMETRIC, 0,
         value=1e-3),
    case("unicornn grows past 10x in one seed", [True, False], "peak", UNICORNN, 2,
         value=just_above(10.0)),
    case("unicornn grows to just under 10x", [True, True], "peak", UNICORNN, 2,
         value=just_below(10.0)),
    case("lipschitz grows 11x in one seed", [True, False], "peak", LIPSCHITZ, 0, value=11.0),
    case("the lmu grows 1000x: in no claim", [True, True], "peak", LMU, 0, value=1e3),
]


@pytest.mark.parametrize("edit, expected", GRADIENT_CASES)
def test_gradient_claims(monkeypatch, edit, expected):
    """The rnn and lstm keep less than 1e-10 at step 1 in every seed; antisymmetric,
    lipschitz, cornn and unicornn more than 1e-2 in every seed, never growing past 10x:
    one seed at a threshold fails its claim, one float inside passes."""
    rec = Recorder()
    monkeypatch.setattr(dynamics, "measure", rec.measure)
    dynamics.gradient_claims(gradient_study_from(edited(gradient_base(), edit)),
                             claim=rec.claim)
    assert rec.verdicts == (expected or [True, True])


def test_gradient_claims_return_and_measure_the_kept_fractions(monkeypatch):
    """They return every cell's kept fraction per seed, and measure the lmu's."""
    rec = Recorder()
    monkeypatch.setattr(dynamics, "measure", rec.measure)
    base = gradient_base()
    kept = dynamics.gradient_claims(gradient_study_from(base), claim=rec.claim)
    assert kept == base["kept"]
    assert [numbers for _, numbers in rec.measured] == [{"lmu": kept[LMU]}]


@pytest.mark.parametrize("edit, expected", GRADIENT_CASES)
def test_gradient_claims_rerun(monkeypatch, edit, expected):
    """With ``rerun`` each claim goes to check_rerun with its verdict: "vanishes" as a
    negative claim re-run at 4x the length, "keeps" at the same length, both on seeds
    10-12 and on their own cells; the re-run applies the same test to the new study."""
    rec, reruns, studies = Recorder(), [], []
    monkeypatch.setattr(dynamics, "measure", rec.measure)

    def fake_study(T, seeds, labels=None):
        studies.append((T, list(seeds), tuple(labels)))
        return gradient_study_from(edited(gradient_base(), edit), T, seeds, labels)

    def fake_check_rerun(statement, passed, numbers, rerun, *, factor, seeds, first_seeds,
                         spec, negative=True):
        reruns.append(dict(passed=passed, factor=factor, seeds=seeds, first=first_seeds,
                           steps=spec["steps"], negative=negative, again=rerun()[0]))

    monkeypatch.setattr(dynamics, "gradient_study", fake_study)
    monkeypatch.setattr(dynamics, "check_rerun", fake_check_rerun)
    dynamics.gradient_claims(gradient_study_from(edited(gradient_base(), edit), T=20),
                             claim=rec.claim, rerun=True)
    expected = expected or [True, True]
    assert rec.verdicts == []
    assert reruns == [
        dict(passed=expected[0], factor=4, seeds=[10, 11, 12], first=[0, 1, 2], steps=80,
             negative=True, again=expected[0]),
        dict(passed=expected[1], factor=1, seeds=[10, 11, 12], first=[0, 1, 2], steps=20,
             negative=False, again=expected[1])]
    assert studies == [(80, [10, 11, 12], (RNN, LSTM)), (20, [10, 11, 12], KEEPERS)]


# ----------------------------------------------------------------- coRNN's energy bound
def cornn_base():
    """Per setting, the largest E_t / bound_t after step 0 and the range of the gradient
    ratio ‖dL/dy_t‖ / ‖dL/dy_T‖, as the real run gave them."""
    return {SAVED: {"worst": 0.6458, "ratio": [0.1258, 1.0]},
            SATURATED: {"worst": 0.5611, "ratio": [0.6083, 1.0]}}


def energy_from(base, T=30, batch=4, at=None):
    """{setting: (E, bound, gradient ratio)} (:func:`dynamics.cornn_energy`'s structure):
    E_0 = bound_0, E_t / bound_t rising to ``worst`` at step ``at`` (default T) in the
    last sequence, the ratio running from its min to its max."""
    out = {}
    for setting, numbers in base.items():
        bound = 5.0 + 2.0 * np.arange(T + 1)[:, None] * np.ones(batch)
        share = np.linspace(1.0, 0.2, T + 1)[:, None] * np.ones(batch)
        share[1:] = np.minimum(share[1:], 0.5 * numbers["worst"])
        share[T if at is None else at, -1] = numbers["worst"]
        lo, hi = numbers["ratio"]
        out[setting] = (share * bound, bound, np.linspace(lo, hi, T))
    return out


@pytest.mark.parametrize("edit, expected, at", [
    pytest.param(None, None, None, id="as reported"),
    pytest.param(put(SATURATED, "worst", value=1 + 1.5e-12), [False, True], None,
                 id="saturated: above the bound at the last step"),
    pytest.param(put(SAVED, "worst", value=1.01), [False, True], 1,
                 id="authors' init: above the bound at step 1"),
    pytest.param(put(SAVED, "worst", value=1.0), [False, True], None,
                 id="at the bound: not below it"),
    pytest.param(put(SAVED, "worst", value=just_below(1.0)), [True, True], None,
                 id="just below the bound"),
    pytest.param(put(SAVED, "ratio", 0, value=1e-2), [True, False], None,
                 id="gradient falls to 1e-2"),
    pytest.param(put(SAVED, "ratio", 0, value=just_above(1e-2)), [True, True], None,
                 id="gradient falls to just over 1e-2"),
    pytest.param(put(SATURATED, "ratio", 1, value=10.0), [True, False], None,
                 id="saturated: gradient grows to 10x"),
    pytest.param(put(SATURATED, "ratio", 1, value=just_below(10.0)), [True, True], None,
                 id="saturated: gradient grows to just under 10x"),
])
def test_cornn_claims(edit, expected, at):
    """The energy stays below its bound at every step after step 0 (step 1 and the last
    included), in every sequence and both settings (at the bound is not below it: the
    real runs reach 0.65 of it at most);
    the gradient ratio stays strictly between 1e-2 and 10 in both settings."""
    rec = Recorder()
    dynamics.cornn_claims(energy_from(edited(cornn_base(), edit), at=at), claim=rec.claim)
    assert rec.verdicts == (expected or [True, True])


# ----------------------------------------------------------------- permuted digits
def digits_comparison(finals, task_options):
    """A permuted-digits Comparison whose seeds end at ``finals`` ({label: final test
    accuracy per seed}; None: a run that diverged before its last evaluation)."""
    runs = {}
    for lb, accs in finals.items():
        curves = [[0.1, 0.05] if a is None else [0.1, a / 2, a] for a in accs]
        runs[lb] = {"accuracy": curves, "success": curves}
    return fake_comparison("permuted_digits", task_options, runs, cells=DIGIT_CELLS)


def long_digits_base():
    """Final test accuracies on 196-step permuted digits as the real run gave them: the
    lstm's median 0.886, the four keepers' 0.59-0.78, none solved, the lmu's 0.944
    solved (it is no keeper)."""
    return {RNN: [0.8081, 0.8834, 0.7883], LSTM: [0.8774, 0.8858, 0.8941],
            ANTISYMMETRIC: [0.6685236768802229, 0.42896935933147634, 0.6183844011142061],
            LIPSCHITZ: [0.7298050139275766, 0.7632311977715878, 0.766016713091922],
            CORNN: [0.6211699164345403, 0.5905292479108635, 0.4986072423398329],
            UNICORNN: [0.8022284122562674, 0.7799442896935933, 0.6518105849582173],
            LMU: [0.8551, 0.9443, 0.7827]}


LSTM_MEDIAN = float(np.median(long_digits_base()[LSTM]))


@pytest.mark.parametrize("edit, expected", [
    AS_REPORTED,
    case("a seed of unicornn solves (0.9)", [False, True, True], UNICORNN, 0, value=SOLVED),
    case("unicornn just short of solving", [True, True, True], UNICORNN, 0,
         value=just_below(SOLVED)),
    case("a seed of cornn solves", [False, True, True], CORNN, 2, value=0.95),
    case("the rnn solving is in no claim", [True, True, True], RNN, 1, value=0.95),
    case("antisymmetric at exactly 3x the most frequent class", [True, True, True],
         ANTISYMMETRIC, 1, value=3 * MOST_FREQUENT),
    case("antisymmetric just under 3x the most frequent class", [True, False, True],
         ANTISYMMETRIC, 1, value=just_below(3 * MOST_FREQUENT)),
    case("a seed of the rnn just under 3x the most frequent class", [True, False, True],
         RNN, 0, value=just_below(3 * MOST_FREQUENT)),
    case("a seed of the lmu at 0.2", [True, False, True], LMU, 2, value=0.2),
    case("a seed of the lmu diverged", [True, False, True], LMU, 1, value=None),
    case("unicornn's median ties the lstm's", [True, True, False], UNICORNN,
         slice(0, 2), value=[LSTM_MEDIAN, LSTM_MEDIAN]),
    case("unicornn's median just under the lstm's", [True, True, True], UNICORNN,
         slice(0, 2), value=[just_below(LSTM_MEDIAN), just_below(LSTM_MEDIAN)]),
    case("lipschitz's median above the lstm's", [True, True, False], LIPSCHITZ,
         slice(0, 2), value=[0.89, 0.895]),
    case("antisymmetric's best seed above the lstm's median: medians compared",
         [True, True, True], ANTISYMMETRIC, 0, value=0.899),
    case("the lstm's worst seed below the keepers' medians: medians compared",
         [True, True, True], LSTM, 0, value=0.3),
])
def test_long_digits_claims(monkeypatch, edit, expected):
    """No seed of the four keepers reaches 0.9 (the lmu and rnn may); every seed of all
    seven ends at least 3x the most frequent class's accuracy (equality passes, a diverged seed
    fails); the lstm's median is strictly above each keeper's median (a tie fails)."""
    rec = Recorder()
    monkeypatch.setattr(dynamics, "measure", rec.measure)
    res = digits_comparison(edited(long_digits_base(), edit), LONG_DIGITS)
    dynamics.long_digits_claims(res, claim=rec.claim, robust_claim=rec.robust_claim)
    assert rec.verdicts == (expected or [True, True, True])


def test_long_digits_claims_return_and_measure(monkeypatch):
    """They return every cell's median accuracy and measure each seed's, to 3 digits."""
    rec = Recorder()
    monkeypatch.setattr(dynamics, "measure", rec.measure)
    base = long_digits_base()
    medians = dynamics.long_digits_claims(digits_comparison(base, LONG_DIGITS),
                                          claim=rec.claim, robust_claim=rec.robust_claim)
    assert medians == {lb: float(np.median(a)) for lb, a in base.items()}
    assert list(medians) == DIGIT_LABELS
    assert [numbers for _, numbers in rec.measured] == [
        {lb: [round(a, 3) for a in accs] for lb, accs in base.items()}]


def finals_of(base, labels):
    return {lb: base[lb] for lb in labels}


def test_long_digits_robust_claim_is_negative_on_the_keepers():
    """"No keeper solves" is re-run as a negative claim, recording the keepers' accuracies."""
    rec, base = RobustRecorder(), long_digits_base()
    dynamics.long_digits_claims(digits_comparison(base, LONG_DIGITS), claim=rec.claim,
                                robust_claim=rec.robust_claim)
    assert rec.robust == [(True, finals_of(base, KEEPERS))]


def digits_base():
    """Final test accuracies on 64-step permuted digits as the real run gave them: the
    lmu's worst seed 0.604, the best of antisymmetric, lipschitz and cornn 0.298."""
    return {RNN: [0.7551, 0.6742, 0.3231], LSTM: [0.5181, 0.6462, 0.3901],
            ANTISYMMETRIC: [0.298050139275766, 0.2200557103064067, 0.1671309192200557],
            LIPSCHITZ: [0.2116991643454039, 0.2757660167130919, 0.20334261838440112],
            CORNN: [0.08635097493036212, 0.14206128133704735, 0.12813370473537605],
            UNICORNN: [0.415041782729805, 0.5069637883008357, 0.415041782729805],
            LMU: [0.8189415041782729, 0.8328690807799443, 0.6044568245125348]}


LMU_WORST = min(digits_base()[LMU])


@pytest.mark.parametrize("edit, expected", [
    AS_REPORTED,
    case("a seed of unicornn solves (0.9)", [False, True], UNICORNN, 1, value=SOLVED),
    case("unicornn just short of solving", [True, True], UNICORNN, 1, value=just_below(SOLVED)),
    case("a seed of antisymmetric solves", [False, False], ANTISYMMETRIC, 0, value=0.95),
    case("cornn's best seed ties the lmu's worst", [True, False], CORNN, 1, value=LMU_WORST),
    case("cornn's best seed just under the lmu's worst", [True, True], CORNN, 1,
         value=just_below(LMU_WORST)),
    case("a seed of antisymmetric above the lmu's worst", [True, False], ANTISYMMETRIC, 2,
         value=0.7),
    case("a seed of lipschitz above the lmu's worst", [True, False], LIPSCHITZ, 0, value=0.7),
    case("a seed of the lmu diverged", [True, False], LMU, 0, value=None),
    case("unicornn above the lmu's worst: in no claim", [True, True], UNICORNN, 0, value=0.7),
    case("the lstm above the lmu's worst: in no claim", [True, True], LSTM, 0, value=0.85),
])
def test_digits_claims(monkeypatch, edit, expected):
    """No seed of the four keepers reaches 0.9; every seed of the lmu ends strictly above
    every seed of antisymmetric, lipschitz and cornn (a tie or a diverged lmu seed fails;
    unicornn and the lstm are not compared)."""
    rec = Recorder()
    monkeypatch.setattr(dynamics, "measure", rec.measure)
    res = digits_comparison(edited(digits_base(), edit), {})
    dynamics.digits_claims(res, claim=rec.claim, robust_claim=rec.robust_claim)
    assert rec.verdicts == (expected or [True, True])


def test_digits_claims_return_and_measure(monkeypatch):
    """They return every cell's median accuracy and measure each seed's, to 3 digits."""
    rec = Recorder()
    monkeypatch.setattr(dynamics, "measure", rec.measure)
    base = digits_base()
    medians = dynamics.digits_claims(digits_comparison(base, {}), claim=rec.claim,
                                     robust_claim=rec.robust_claim)
    assert medians == {lb: float(np.median(a)) for lb, a in base.items()}
    assert [numbers for _, numbers in rec.measured] == [
        {lb: [round(a, 3) for a in accs] for lb, accs in base.items()}]


def test_digits_robust_claims_negative_and_positive():
    """"No keeper solves" is re-run as a negative claim, "the lmu ends above" as a positive
    one; each records the accuracies of the cells it compares."""
    rec, base = RobustRecorder(), digits_base()
    dynamics.digits_claims(digits_comparison(base, {}), claim=rec.claim,
                           robust_claim=rec.robust_claim)
    assert rec.robust == [(True, finals_of(base, KEEPERS)),
                          (False, finals_of(base, [LMU, ANTISYMMETRIC, LIPSCHITZ, CORNN]))]


# ----------------------------------------------------------------- UnICORNN's memory
ONE = 7.8125                   # MiB of one (T, B, H) float32 array, T = 1000, B = H = 128


def unicornn_base():
    """:func:`unicornn_reconstruction`'s errors and :func:`unicornn_memory`'s MiB as the
    real run gave them: float64 equal to 4e-15, walking back in float32 adding a tenth of
    what float32 costs; the reconstruct cache x's size, the store cache 3 arrays more."""
    return {"errors": {100: {"float64": 9.3e-16, "reconstruct f32": 3.0e-6,
                             "store f32": 2.93e-6, "f32 reconstruct vs store": 3.83e-7},
                       1000: {"float64": 3.57e-15, "reconstruct f32": 3.8e-5,
                              "store f32": 3.763e-5, "f32 reconstruct vs store": 2.255e-6}},
            "memory": {"reconstruct": [7.8686, 39.2645], "store": [31.3142, 54.8817]}}


REC_KEPT = unicornn_base()["memory"]["reconstruct"][0]


def unicornn_verdicts(data):
    rec = Recorder()
    dynamics_memory.unicornn_claims(data["errors"], (data["memory"], ONE), claim=rec.claim)
    return rec.verdicts


@pytest.mark.parametrize("edit, expected", [
    AS_REPORTED,
    case("float64 error 1e-10 at T = 1000", [False, True, True],
         "errors", 1000, "float64", value=1e-10),
    case("float64 error just under 1e-10", [True, True, True],
         "errors", 1000, "float64", value=just_below(1e-10)),
    case("float64 error 1e-6 at T = 100: only T = 1000 is claimed", [True, True, True],
         "errors", 100, "float64", value=1e-6),
    case("float32: walking back ties float32's cost at T = 100", [True, False, True],
         "errors", 100, "f32 reconstruct vs store", value=2.93e-6),
    case("float32: walking back costs more at T = 1000", [True, False, True],
         "errors", 1000, "f32 reconstruct vs store", value=1e-4),
    case("reconstruct keeps x's size + 5 %", [True, True, True],
         "memory", "reconstruct", 0, value=1.05 * ONE),
    case("reconstruct keeps just over x's size + 5 %", [True, True, False],
         "memory", "reconstruct", 0, value=just_above(1.05 * ONE)),
    case("store keeps exactly 3 arrays more", [True, True, True],
         "memory", "store", 0, value=REC_KEPT + 3 * ONE),
    case("store keeps 3 x 95 % of an array more", [True, True, True],
         "memory", "store", 0, value=REC_KEPT + 3 * 0.95 * ONE),
    case("store keeps just under 3 x 95 % of an array more", [True, True, False],
         "memory", "store", 0, value=just_below(REC_KEPT + 3 * 0.95 * ONE)),
    case("store keeps 2.8 arrays more", [True, True, False],
         "memory", "store", 0, value=REC_KEPT + 2.8 * ONE),
    case("the peaks tie", [True, True, False], "memory", "reconstruct", 1, value=54.8817),
    case("reconstruct's peak higher", [True, True, False], "memory", "reconstruct", 1,
         value=60.0),
])
def test_unicornn_claims(edit, expected):
    """float64 reconstructed = stored to 1e-10 at the largest T; in float32 what walking
    back adds is strictly below what float32 costs at every T; the reconstruct cache keeps
    at most x's size + 5 % (equality passes), the store cache at least 3 x 95 % of x's size
    more (equality passes), and
    the reconstruct peak is strictly lower."""
    assert unicornn_verdicts(edited(unicornn_base(), edit)) == (expected or [True] * 3)


# ----------------------------------------------------------------- the LMU's window
def lmu_base():
    """The largest |decoded - true| over the window per order d, as the real run gave
    them: 0.058 (d = 6), 0.0015 (d = 12), 0.0041 (d = 20)."""
    return {6: 0.0576, 12: 0.00153, 20: 0.00406}


def windows_from(errors, theta=100):
    """{d: (delays, decoded, true)} (:func:`lmu_windows`' structure), the decoded window
    off the true one by up to ``errors[d]`` (largest at the oldest delay)."""
    assert set(errors) == set(dynamics_memory.LMU_ORDERS)
    delays = np.arange(theta + 1)
    true = dynamics_memory.smooth_input(599 - delays + 0.5)
    return {d: (delays, true - e * np.linspace(0, 1, theta + 1) ** 2, true)
            for d, e in errors.items()}


def windows_exact(errors, theta=100):
    """The same with the true window 0, so that the largest error is exactly ``errors[d]``
    (for the cases at a threshold)."""
    delays = np.arange(theta + 1)
    return {d: (delays, -e * np.linspace(0, 1, theta + 1), np.zeros(theta + 1))
            for d, e in errors.items()}


@pytest.mark.parametrize("edit, expected", [
    AS_REPORTED,
    case("d = 12 off by 2e-3", [False], 12, value=2e-3),
    case("d = 12 off by just under 2e-3", [True], 12, value=just_below(2e-3)),
    case("d = 6 exactly 10x worse", [False], 6, value=10 * lmu_base()[12]),
    case("d = 6 just over 10x worse", [True], 6, value=just_above(10 * lmu_base()[12])),
    case("d = 6 better than d = 12", [False], 6, value=1e-3),
    case("d = 20 off by 1: in no claim", [True], 20, value=1.0),
])
def test_lmu_claims(edit, expected):
    """d = 12 reads the window back to strictly under 2e-3, and d = 6 is strictly more
    than 10x worse: at each threshold the claim fails, one float past it passes."""
    rec = Recorder()
    err = dynamics_memory.lmu_claims(windows_exact(edited(lmu_base(), edit)), claim=rec.claim)
    assert rec.verdicts == (expected or [True])
    assert err == {f"d = {d}": e for d, e in edited(lmu_base(), edit).items()}


def test_lmu_claims_on_a_smooth_window():
    """The errors are read off a window of the real input: the largest |decoded - true|."""
    rec = Recorder()
    err = dynamics_memory.lmu_claims(windows_from(lmu_base()), claim=rec.claim)
    assert rec.verdicts == [True]
    assert err == pytest.approx({f"d = {d}": e for d, e in lmu_base().items()}, rel=1e-9)
