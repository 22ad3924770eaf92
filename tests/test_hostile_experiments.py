"""Hostile input to the comparison harness: compare, Variant, Budget, claim and the
Comparison's readings (fractions of the baseline, models, plot, subset).

A pass: the bad argument is refused up front (before any training) with its name, what
was expected and what was given; a wrong type is an ArgumentTypeError (a TypeError and a
ValueError), a wrong value a ValueError.
"""
import re

import numpy as np
import pytest

from rnnzoo import experiments as ex
from rnnzoo import training
from rnnzoo.core.validation import ArgumentTypeError, describe

from .hostile import raises

TINY = ex.Budget(steps=2, hidden=3, eval_size=4, batch_size=2)
ADDING = dict(task="adding", task_options={"T": 4}, budget=TINY, workers=1, progress=False)


@pytest.fixture
def no_training(monkeypatch):
    """A refused argument must be refused before the first run starts."""
    def refuse(self, steps):
        raise AssertionError("training started")
    monkeypatch.setattr(training.Trainer, "run", refuse)


def compare_with(**changes):
    """ex.compare on a tiny adding problem, with ``changes`` to its arguments."""
    kwargs = {"variants": [ex.Variant("rnn")], **ADDING, "seeds": 1, **changes}
    return ex.compare(kwargs.pop("variants"), **kwargs)


# ------------------------------------------------------------ compare
@pytest.mark.parametrize("seeds", [True, False, 1.5, "3", None, np.float64(2.0), [0.5],
                                   ["0"], [True], {"a": 1}])
def test_compare_seeds_of_the_wrong_type(no_training, seeds):
    raises(ArgumentTypeError, "seeds", compare_with, seeds=seeds)


@pytest.mark.parametrize("seeds,match", [
    ([0, 0], r"seeds must be distinct.*got \[0, 0\]"),
    ([3, 1, 3], "seeds must be distinct"),
    (0, "seeds must be"), (-2, "seeds must be"), ([], "seeds must name at least one seed"),
    ([-1], r"seeds\[0\] must be an integer >= 0"),
])
def test_compare_seeds_of_the_wrong_value(no_training, seeds, match):
    raises(ValueError, match, compare_with, seeds=seeds)


@pytest.mark.parametrize("workers", [1.5, "2", True, [2]])
def test_compare_workers_of_the_wrong_type(no_training, workers):
    raises(ArgumentTypeError, r"workers \(None or a number of processes\) must be an "
           "integer", compare_with, workers=workers)


@pytest.mark.parametrize("workers", [0, -1])
def test_compare_workers_of_the_wrong_value(no_training, workers):
    raises(ValueError, r"workers \(None or a number of processes\) must be an integer >= 1",
           compare_with, workers=workers)


@pytest.mark.parametrize("kwargs,error,match", [
    ({"variants": "gru"}, ArgumentTypeError, "variants must be a list"),
    ({"variants": ex.Variant("gru")}, ArgumentTypeError, "variants must be a list"),
    ({"variants": []}, ValueError, "variants must name at least one"),
    ({"variants": [3]}, ArgumentTypeError, r"variants\[0\] must be a Variant or a cell name"),
    ({"variants": ["gru", None]}, ArgumentTypeError, r"variants\[1\] must be a Variant"),
    ({"task": 3}, ArgumentTypeError, "task must be a task name"),
    ({"task": None}, ArgumentTypeError, "task must be a task name"),
    ({"budget": {"steps": 2}}, ArgumentTypeError, "budget must be None or a Budget"),
    ({"budget": 2}, ArgumentTypeError, "budget must be None or a Budget"),
    ({"task_options": [1]}, ArgumentTypeError, "task_options must be None or a dict"),
    ({"task_options": "T=4"}, ArgumentTypeError, "task_options must be None or a dict"),
    ({"task_options": {"T": 4, "seed": 1}}, ValueError, "task_options must not set seed"),
    ({"progress": "no"}, ArgumentTypeError, "progress must be True or False"),
])
def test_compare_arguments(no_training, kwargs, error, match):
    raises(error, match, compare_with, **kwargs)


REFUSED = "variant {!r} is refused before any run"


@pytest.mark.parametrize("variant,error,match", [
    (ex.Variant("mlstm", {"heads": 2}, label="2 heads"), ValueError,
     REFUSED.format("2 heads") + r" \(its model built at H = 3, 1 layer\(s\)\): "
     r"MLSTM\('mlstm'\): heads must divide hidden_size"),
    (ex.Variant("eurnn", budget={"hidden": 1}), ValueError,          # at its own budget
     REFUSED.format("eurnn") + r" \(its model built at H = 1.*needs hidden_size >= 2"),
    (ex.Variant("skiprnn", {"base": "s6"}), ValueError,
     REFUSED.format("skiprnn") + ".*base 's6' does not output its first state"),
    (ex.Variant("rnn", label="typo", lr_for={"nope": 0.1}), ValueError,
     REFUSED.format("typo") + r".*lr_for pattern 'nope' matches no parameter; parameters "
     r"are \['cell0.W_ih'"),
    (ex.Variant("rnn", label="deep", lr_for={"cell1.W_hh": 0.1}), ValueError,
     REFUSED.format("deep") + ".*lr_for pattern 'cell1.W_hh' matches no parameter"),
    (ex.Variant("lstm", {"forget_bias": "x"}), ArgumentTypeError,     # invalid, not unfair
     REFUSED.format("lstm") + r".*forget_bias must be a finite number; got 'x' \(str\)$"),
    (ex.Variant("lstm", {"forget_bias": np.nan}, note="why"), ValueError,
     REFUSED.format("lstm") + ".*forget_bias must be a finite number; got nan"),
])
def test_compare_builds_every_variant_before_the_first_run(no_training, variant, error,
                                                           match):
    """A variant that cannot be built or trained as given, after one that can: refused
    before the first variant's runs start (they would be thrown away), naming its label."""
    raises(error, match, compare_with, variants=[ex.Variant("gru"), variant], seeds=2)


def test_the_build_check_takes_what_the_runs_take():
    """Globs and a rate of 0 (that parameter stays as initialized), as the optimizers do;
    an unfair override without a note is still refused for that, once its value is valid."""
    res = compare_with(variants=[ex.Variant("rnn", lr_for={"cell*.W_hh": 0, "readout.*": 0.1})])
    (trained,), (initial,) = res.models("rnn"), res.models("rnn", trained=False)
    np.testing.assert_array_equal(trained.params["cell0.W_hh"], initial.params["cell0.W_hh"])
    assert not np.array_equal(trained.params["readout.W"], initial.params["readout.W"])
    raises(ValueError, "deliberately unfair comparison must say why", compare_with,
           variants=[ex.Variant("lstm", {"forget_bias": 0.0})])


def test_compare_still_takes_cell_names_ranges_and_numpy_seeds():
    """The forms that always worked keep working (a tiny run: 2 steps, H = 3)."""
    res = ex.compare(["rnn"], seeds=np.arange(1, 3), **ADDING)
    assert res.labels == ["rnn"] and res.seeds == [1, 2]
    assert ex.compare(["rnn"], seeds=range(2), **ADDING).seeds == [0, 1]


# ------------------------------------------------------------ Variant and Budget
def test_variant_options_none_means_no_options():
    assert ex.Variant("gru", None).options == {}
    assert ex.Variant("gru", options=None) == ex.Variant("gru")


@pytest.mark.parametrize("options", ["forget_bias", ["forget_bias"], 1.0, True])
def test_variant_options_must_be_a_dict(options):
    message = raises(ArgumentTypeError, "options must be None or a dict", ex.Variant, "lstm",
                     options)
    assert "'f'" not in message          # not one unknown option per character


@pytest.mark.parametrize("cell", [3, None, ["gru"]])
def test_variant_cell_must_be_a_name(cell):
    raises(ArgumentTypeError, "cell must be a cell name", ex.Variant, cell)


@pytest.mark.parametrize("budget", ["tbptt", ["tbptt"], 4])
def test_variant_budget_must_be_a_dict(budget):
    raises(ArgumentTypeError, "budget must be None or a dict", ex.Variant, "gru",
           budget=budget)


@pytest.mark.parametrize("budget,error,match", [
    ({"steps": -3}, ValueError, "Budget.steps must be an integer >= 1; got -3"),
    ({"tbptt": 2.5}, ArgumentTypeError, "Budget.tbptt must be an integer"),
    ({"clip": float("nan")}, ValueError, "Budget.clip must be a positive finite number"),
    ({"optimizer": "nope"}, ValueError, "Budget.optimizer must be one of"),
])
def test_variant_budget_values_are_checked_at_construction(budget, error, match):
    """Not only when compare applies them to the shared budget."""
    raises(error, rf"Variant 'rnn': budget=.* is refused: {match}", ex.Variant, "rnn",
           budget=budget)
    assert ex.Variant("rnn", budget={"clip": None, "tbptt": np.int64(4)}).budget["clip"] is None


@pytest.mark.parametrize("fields,error,match", [
    ({"label": 3}, ArgumentTypeError, r"label must be None \(the cell's name\) or a non-empty "
                                      r"str; got 3 \(int\)"),
    ({"label": ["a"]}, ArgumentTypeError, "label must be None"),
    ({"label": ""}, ValueError, "label must be None .* or a non-empty str; got ''"),
    ({"note": 3}, ArgumentTypeError, r"note must be None or a str .*; got 3 \(int\)"),
    ({"style": "red"}, ArgumentTypeError, "style must be None or a dict of matplotlib line "
                                          "keywords .*; got 'red'"),
    ({"style": {1: "red"}}, ArgumentTypeError, "style must be None or a dict"),
    ({"style": {"lw": 3}}, ValueError, r"style must not set \['lw'\]: the plot sets"),
    ({"style": {"label": "x"}}, ValueError, r"style must not set \['label'\]"),
    ({"options": {1: 2, "foo": 3}}, ArgumentTypeError,
     r"Variant\('rnn'\): options's keys must be names \(str\); got 1 \(int\)"),
    ({"budget": {1: 2}}, ArgumentTypeError, r"budget's keys must be names \(str\); got 1"),
    ({"lr_for": "cell0.W_hh"}, ArgumentTypeError, "lr_for must be None or a dict"),
    ({"lr_for": {3: 0.1}}, ArgumentTypeError, "lr_for's keys must be parameter names"),
    ({"lr_for": {"cell0.W_hh": "x"}}, ArgumentTypeError,
     r"Variant 'rnn': lr_for\['cell0.W_hh'\] \(a learning rate\) must be a finite number "
     r">= 0; got 'x' \(str\)"),
    ({"lr_for": {"cell0.W_hh": -0.1}}, ValueError, r"lr_for\['cell0.W_hh'\] .* >= 0"),
    ({"lr_for": {"cell0.W_hh": np.nan}}, ValueError, r"lr_for\['cell0.W_hh'\] .*got nan"),
    ({"lr_for": {"cell0.W_hh": True}}, ArgumentTypeError, r"lr_for\['cell0.W_hh'\]"),
])
def test_variant_fields_are_checked_at_construction(fields, error, match):
    """Not when the first run is saved, shown in the caption or plotted."""
    raises(error, match, ex.Variant, "rnn", **fields)


def test_variant_takes_the_fields_the_figures_give():
    v = ex.Variant("rnn", label=np.str_("r"), note="why", style={"linestyle": ":"},
                   lr_for={"cell*.W_hh": np.float32(0.001), "readout.W": 0})   # 0: frozen
    assert v.label == "r" and v.lr_for["readout.W"] == 0


@pytest.mark.parametrize("optimizer,error", [("nope", ValueError), ("", ValueError),
                                             (3, ArgumentTypeError), (None, ArgumentTypeError)])
def test_budget_optimizer_is_refused_at_construction(optimizer, error):
    raises(error, "Budget.optimizer must be one of", ex.Budget, optimizer=optimizer)


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adam", "Adam", np.str_("sgd")])
def test_budget_takes_every_optimizer_the_trainer_takes(optimizer):
    assert ex.Budget(optimizer=optimizer).optimizer == optimizer


@pytest.mark.parametrize("dtype,name", [("float32", "float32"), (np.float32, "float32"),
                                        (np.dtype("float64"), "float64"), ("f8", "float64")])
def test_budget_takes_every_dtype_a_cell_takes_as_its_name(dtype, name):
    """np.float32 was refused and np.dtype("float32") stored as a dtype object."""
    budget = ex.Budget(dtype=dtype)
    assert budget.dtype == name and type(budget.dtype) is str
    assert budget == ex.Budget(dtype=name) and budget.describe().endswith(name)


@pytest.mark.parametrize("dtype,error", [("float16", ValueError), (np.int32, ValueError),
                                         ("nope", ArgumentTypeError), (3, ArgumentTypeError),
                                         (True, ArgumentTypeError), ([1], ArgumentTypeError)])
def test_budget_dtype_is_refused_at_construction(dtype, error):
    raises(error, r"Budget: dtype must be 'float32' or 'float64'; got " +
           re.escape(describe(dtype)), ex.Budget, dtype=dtype)


# ------------------------------------------------------------ claim
@pytest.mark.parametrize("passed", ["False", "True", 1, 0, None, 1.0, [True],
                                    np.array([True, False]), np.array(True)])
def test_claim_condition_must_be_a_bool(capsys, passed):
    raises(ArgumentTypeError, "passed must be True or False", ex.claim, "x", passed)
    assert "PASS" not in capsys.readouterr().out        # nothing printed as checked


@pytest.mark.parametrize("statement,error", [
    (True, ArgumentTypeError), (None, ArgumentTypeError), (3, ArgumentTypeError),
    (["s"], ArgumentTypeError), ("", ValueError)])
def test_claim_statement_must_be_a_sentence(capsys, statement, error):
    """claim(a < b, "...") had printed PASS: True and recorded "True" as the sentence."""
    raises(error, r"claim: statement must be the sentence it states \(a non-empty "
                  r"str\); got " + re.escape(describe(statement)), ex.claim, statement, True)
    assert "PASS" not in capsys.readouterr().out
    assert ex.claim(np.str_("numpy text"), True).statement == "numpy text"


def test_claim_takes_python_and_numpy_bools(capsys):
    assert ex.claim("numpy", np.float64(1) > 0).passed is True
    assert ex.claim("python", True).passed is True
    assert not ex.claim("soft", np.bool_(False), strict=False).passed
    with pytest.raises(ex.ClaimFailed):
        ex.claim("numpy false", np.array([1, 2]).sum() > 5)


# ------------------------------------------------------------ Comparison
@pytest.fixture(scope="module")
def tiny():
    """Two seeds of rnn and gru, two steps each."""
    return ex.compare(["rnn", "gru"], seeds=2, **ADDING)


FRACTION = r"Comparison.{}: fraction \(of the baseline\) must be a finite number > 0 and <= 1"


@pytest.mark.parametrize("method", ["left_baseline", "below_half_baseline"])
@pytest.mark.parametrize("fraction,error", [
    (np.nan, ValueError), (np.inf, ValueError), (-1, ValueError), (0, ValueError),
    (5, ValueError), (1.0001, ValueError),
    ("0.5", ArgumentTypeError), (True, ArgumentTypeError), (None, ArgumentTypeError),
    ([0.5], ArgumentTypeError),
])
def test_a_fraction_of_the_baseline_is_checked(tiny, method, fraction, error):
    """A NaN fraction found no seed, 5 counted runs that never left the baseline."""
    raises(error, FRACTION.format(method) + r"; got " + re.escape(describe(fraction)),
           getattr(tiny, method), "rnn", fraction=fraction)


def test_fractions_up_to_the_whole_baseline_are_taken(tiny):
    loose, half = tiny.left_baseline("rnn", fraction=1), tiny.left_baseline("rnn")
    assert tiny.left_baseline("rnn", fraction=np.float32(0.5)) == half
    assert all(a is not None for a, b in zip(loose, half) if b is not None)
    assert tiny.below_half_baseline("rnn", 1) == sum(s is not None for s in loose)


@pytest.mark.parametrize("kwargs,error,match", [
    ({"trained": "no"}, ArgumentTypeError, "Comparison.models: trained must be True or False; "
                                           "got 'no'"),
    ({"trained": 1}, ArgumentTypeError, "trained must be True or False"),
    ({"trained": None}, ArgumentTypeError, "trained must be True or False"),
    ({"dtype": "nope"}, ArgumentTypeError, "Comparison.models: dtype must be float32 or"),
    ({"dtype": np.int64}, TypeError, "dtype must be float32 or float64"),
    ({"label": "nope"}, KeyError, "no variant labelled 'nope'"),
])
def test_models_arguments(tiny, kwargs, error, match):
    raises(error, match, tiny.models, **{"label": "rnn", **kwargs})


def test_models_in_another_dtype(tiny):
    """np.dtype objects too, not only the type np.float64."""
    (model, _) = tiny.models("rnn", dtype=np.dtype("float64"))
    assert model.params["cell0.W_hh"].dtype == np.float64


@pytest.mark.parametrize("kwargs,match", [
    ({"per_seed": "no"}, "Comparison.plot: per_seed must be True or False; got 'no'"),
    ({"log": "yes"}, r"Comparison.plot: log \(None: log scale on a loss axis\) must be True or "
                     "False; got 'yes'"),
    ({"legend": 1}, "legend must be True or False; got 1"),
    ({"baseline": "no"}, "baseline must be True or False"),
])
def test_plot_flags_are_checked_before_drawing(tiny, kwargs, match):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figures = plt.get_fignums()
    raises(ArgumentTypeError, match, tiny.plot, **kwargs)
    assert plt.get_fignums() == figures                 # no figure was opened


@pytest.mark.parametrize("labels,error,match", [
    ("rnn", ArgumentTypeError, r"Comparison.subset: labels must be a list of the "
                               r"comparison's variant labels \['rnn', 'gru'\]; got 'rnn'"),
    (3, ArgumentTypeError, "labels must be a list"),
    ({"rnn": 1}, ArgumentTypeError, "labels must be a list"),
    ([], ValueError, r"at least one, distinct; got \[\]"),
    (["rnn", "rnn"], ValueError, "at least one, distinct"),
    (["nope"], ValueError, r"\['nope'\] are not among them"),
    ([["rnn"]], ValueError, r"\[\['rnn'\]\] are not among them"),
])
def test_subset_takes_a_list_of_labels(tiny, labels, error, match):
    """One label is refused, not read as the labels 'r', 'n', 'n'."""
    message = raises(error, match, tiny.subset, labels)
    assert "'n'" not in message


def test_subset_keeps_the_runs_of_its_labels(tiny):
    part = tiny.subset(("gru",))
    assert part.labels == ["gru"] and part.histories["gru"] is tiny.histories["gru"]


@pytest.mark.parametrize("call,error,match", [
    (lambda c: c.median(["rnn"]), KeyError, r"no variant labelled \['rnn'\]"),
    (lambda c: c.final("rnn", kind=["loss"]), ValueError,
     r"kind must be one of \['accuracy', 'loss', 'success'\]; got \['loss'\] \(list\)"),
    (lambda c: ex.second_seed_block([]), ValueError,
     "second_seed_block: seeds must name at least one seed"),
    (lambda c: ex.second_seed_block(3), ArgumentTypeError,
     "second_seed_block: seeds must be a list of the first block's seeds; got 3"),
])
def test_comparison_readings_and_the_second_block_name_a_bad_argument(tiny, call, error,
                                                                        match):
    """A list label or kind was 'unhashable type: list'; second_seed_block([]) was min()'s
    error and second_seed_block(3) 'int' object is not iterable."""
    raises(error, match, call, tiny)
