"""The comparison harness: fair defaults, reproducible parallel runs, claims that fail
loudly, and the summaries the notebooks' prose reads from."""
import re

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from rnnzoo import experiments as ex  # noqa: E402

BUDGET = ex.Budget(steps=60, hidden=8, eval_every=20, eval_size=64, batch_size=16)


@pytest.fixture(scope="module")
def result():
    return ex.compare([ex.Variant("gru"), ex.Variant("lstm", label="lstm (fair)")],
                      task="adding", task_options={"T": 12}, budget=BUDGET, seeds=3,
                      workers=2, progress=False)


def test_every_variant_has_one_history_per_seed(result):
    assert result.labels == ["gru", "lstm (fair)"]
    for label in result.labels:
        assert len(result.histories[label]) == 3
        steps, curves = result.curves(label)
        assert list(steps) == [0, 20, 40, 60] and curves.shape == (3, 4)
        assert result.final(label).shape == (3,)
    # the seeds really differ (different weights and batches)
    assert len({float(v) for v in result.final("gru")}) == 3


def test_parallel_equals_serial_run_by_run(result):
    """A run in a worker process equals the same run in this process, bit for bit: its
    curve and its trained parameters."""
    serial = ex.compare([ex.Variant("gru")], task="adding", task_options={"T": 12},
                        budget=BUDGET, seeds=[1], workers=1, progress=False)
    np.testing.assert_array_equal(serial.curves("gru")[1][0], result.curves("gru")[1][1])
    for name, value in serial._params["gru"][0].items():
        np.testing.assert_array_equal(value, result._params["gru"][1][name])


def test_fair_defaults_apply_and_unfair_needs_a_note(result):
    model = result.models("lstm (fair)")[0]
    H = BUDGET.hidden
    assert "forget_bias=1.0" in result.caption()
    assert model.cells[0].forget_bias == 1.0
    np.testing.assert_array_equal(model.params["cell0.W_hh"],
                                  np.asarray(result._params["lstm (fair)"][0]["cell0.W_hh"]))
    assert model.params["cell0.b_ih"].shape == (4 * H,)
    with pytest.raises(ValueError, match="deliberately unfair comparison must say why"):
        ex.compare([ex.Variant("lstm", {"forget_bias": 0.0})], task="adding",
                   task_options={"T": 12}, budget=BUDGET, seeds=1, progress=False)
    v = ex.Variant("lstm", {"forget_bias": 0.0}, note="PyTorch's init, to show its failure")
    assert "PyTorch's init" in v.describe(result.task)


def test_left_baseline_reads_the_curves(result):
    steps, curves = result.curves("gru")
    for run, left in zip(curves, result.left_baseline("gru")):
        below = [s for s, v in zip(steps, run) if v < 0.5 * result.baseline]
        assert left == (below[0] if below else None)
    assert result.below_half_baseline("gru") == \
        sum(s is not None for s in result.left_baseline("gru"))


def test_solved_is_the_tasks_criterion_not_half_the_baseline(result):
    """adding: solved is eval MSE < 0.01 (the success metric is the MSE itself), at the
    final evaluation for solved(), at the first one that meets it for solved_at()."""
    assert result.success is result.task.success and result.success.threshold == 0.01
    steps, metric = result.curves("gru", "success")
    np.testing.assert_array_equal(metric, result.curves("gru", "loss")[1])
    for run, at in zip(metric, result.solved_at("gru")):
        met = [s for s, v in zip(steps, run) if v < 0.01]
        assert at == (met[0] if met else None)
    assert result.solved("gru") == int(np.sum(result.final("gru", "success") < 0.01))
    # on doctored curves the two readings part: a seed that ends at 0.05 is below half
    # the 1/6 baseline, not solved; one that met 0.01 and drifted back is not solved
    doctored = result.subset(["gru"])
    doctored.histories["gru"] = [
        type(h)(**{**h.to_dict(), "eval_loss": v, "eval_success": v})
        for h, v in zip(result.histories["gru"], ([0.2, 0.1, 0.05, 0.05],
                                                  [0.2, 0.05, 0.009, 0.02],
                                                  [0.2, 0.05, 0.009, 0.005]))]
    assert doctored.below_half_baseline("gru") == 3 and doctored.solved("gru") == 1
    assert doctored.solved_at("gru") == [None, 40, 40]
    assert doctored.left_baseline("gru") == [40, 20, 20]


def test_left_baseline_means_strictly_below_half_of_it(result):
    """"Below half the baseline", as every claim that reads it says: a loss of exactly
    half has not left it, the next float under it has."""
    half = 0.5 * result.baseline
    doctored = result.subset(["gru"])
    doctored.histories["gru"] = [
        type(h)(**{**h.to_dict(), "eval_loss": v})
        for h, v in zip(result.histories["gru"], ([1.0, half, half, half],
                                                  [1.0, half, np.nextafter(half, 0), half],
                                                  [1.0, 1.0, 1.0, 1.0]))]
    assert doctored.left_baseline("gru") == [None, 40, None]
    assert doctored.below_half_baseline("gru") == 1


def test_success_readings_refuse_a_task_without_criterion(result):
    no_criterion = result.subset(["gru"])
    no_criterion.success = None
    for call in (lambda: no_criterion.solved("gru"), lambda: no_criterion.solved_at("gru"),
                 lambda: no_criterion.curves("gru", "success")):
        with pytest.raises(ValueError, match="has no success criterion"):
            call()
    assert "no success criterion" in no_criterion.summary()
    with pytest.raises(ValueError, match="kind must be one of"):
        result.curves("gru", "mse")


def test_the_summary_shows_the_metric_solved_is_judged_on(result):
    """Parity is judged on the last step's accuracy, not the accuracy over every step: the
    table's column is that metric, so 'solved' and the number beside it agree. adding's
    criterion is the loss itself, so its column stays the accuracy."""
    assert "accuracy" in result.summary().splitlines()[1]
    parity = ex.compare(["lstm"], "parity", task_options={"T": 6}, seeds=1,
                        budget=ex.Budget(steps=20, hidden=4, eval_every=10), progress=False)
    head, row = parity.summary().splitlines()[1], parity.summary().splitlines()[3]
    assert "accuracy at the last step" in head
    last = parity.final("lstm", "success")[0]
    assert f"{last:.3g}" in row and parity.final("lstm", "accuracy")[0] != last


def test_the_summary_header_names_a_variants_own_budget():
    """A variant that trains without clipping must not sit under a header that says
    'clip 1' alone."""
    r = ex.compare([ex.Variant("rnn", label="no clip", budget={"clip": None}),
                    ex.Variant("rnn", label="clip")], "adding", task_options={"T": 5},
                   budget=ex.Budget(steps=4, hidden=4, eval_every=2), seeds=1, progress=False)
    assert r.summary().splitlines()[0].endswith("clip 1, 4 steps, float32 (no clip with "
                                                "clip=None)")


def test_summary_caption_and_plot(result):
    text = result.summary()
    assert "gru" in text and "below half the baseline at step" in text and \
        "baseline 0.1667" in text and "solved: MSE < 0.01" in text
    row = next(line for line in text.splitlines() if line.startswith("gru "))
    assert f"{result.solved('gru')}/3" in row
    caption = result.caption()
    assert "60 steps" in caption and "3 seeds" in caption and "H = 8" in caption
    ax = result.plot(kind="loss")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["gru", "lstm (fair)"] and "baseline" in labels[2]
    assert labels[3] == "solved: MSE < 0.01"                 # adding: the threshold is a loss
    ax = result.plot(kind="accuracy", per_seed=True)
    assert ax.get_ylim() == (0, 1.02) and not ax.collections    # per-seed lines, no band
    assert len(result.plot(kind="loss").collections) == 2          # a min-max band each
    ax = result.plot(kind="success", baseline=False)
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "eval MSE"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["gru", "lstm (fair)"]


@pytest.mark.parametrize("task, options, loss_label, accuracy_label", [
    ("adding", {"T": 5}, r"memoryless baseline 0\.167", None),
    ("copy", {"T": 5}, r"memoryless baseline 0\.\d+", r"memoryless 0\.125"),
    ("digits", {}, r"no-input baseline \(class frequencies\) 2\.3\d?",
     r"most frequent class \(no input\) 0\.0\d+"),
    ("permuted_digits", {"size": 14}, r"no-input baseline \(class frequencies\) 2\.3\d?",
     r"most frequent class \(no input\) 0\.0\d+"),
    ("charlm", {"T": 8}, r"unigram baseline 3\.14", None),
])
def test_the_plots_name_each_tasks_trivial_level(task, options, loss_label, accuracy_label):
    """The baseline line is labelled with the task's ``baseline_name`` and the level to
    leave with its ``success.level``: "memoryless" only where nothing without memory does
    better; digits' read no input (the last pixel alone beats them) and charlm's is the
    unigram (the bigram, which reads the current character, scores 2.53 against 3.14)."""
    import matplotlib.pyplot as plt
    from .fake_results import fake_comparison
    res = fake_comparison(task, options, {"gru": {"loss": [[3.0, 1.0]],
                                                  "accuracy": [[0.1, 0.5]]}})
    labels = [t.get_text() for t in res.plot(kind="loss").get_legend().get_texts()]
    assert [lb for lb in labels if re.fullmatch(loss_label, lb)], labels
    if accuracy_label is not None:
        labels = [t.get_text() for t in res.plot(kind="accuracy").get_legend().get_texts()]
        assert [lb for lb in labels if re.fullmatch(accuracy_label, lb)], labels
    memoryless = task in ("adding", "copy")
    assert (res.task.baseline_name == "memoryless baseline") == memoryless
    assert res.task.success is None or (res.task.success.level == "memoryless") == memoryless
    plt.close("all")


def test_plot_refuses_an_ax_that_is_not_one_axes(result):
    """plt.subplots(1, 2)'s array, or the Figure, is named as the wrong ax, not an
    AttributeError from inside the plotting."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2)
    with pytest.raises(TypeError, match=r"Comparison.plot: ax must be None or a matplotlib "
                       r"Axes \(an array of Axes: pass one of them, e.g. axes\[0\]\)"):
        result.plot(ax=axes)
    with pytest.raises(TypeError, match="ax must be None or a matplotlib Axes; got .*Figure"):
        result.plot(ax=fig)
    assert result.plot(ax=axes[1]) is axes[1]
    plt.close(fig)


def test_a_variant_whose_run_went_non_finite_shows_its_x_in_the_legend():
    """The x on the plot marks where a run stopped; the legend must say whose x it is
    (a variant whose every run stopped at once has no visible line of its own)."""
    from .fake_results import fake_comparison
    res = fake_comparison("adding", {"T": 5}, {"stopped": {"loss": [[1.0, 2.0], [1.0, 0.5]]},
                                              "fine": {"loss": [[1.0, 0.5], [1.0, 0.4]]}})
    res.diverged["stopped"] = [150, None]
    ax = res.plot()
    handles = dict(zip([t.get_text() for t in ax.get_legend().get_texts()],
                       ax.get_legend().legend_handles))
    assert handles["stopped"].get_marker() == "x" and handles["fine"].get_marker() == "None"
    median = next(line for line in ax.get_lines() if line.get_label() == "stopped")
    assert median.get_markevery() == []                  # no x along the median curve
    crosses = [line for line in ax.get_lines() if line.get_label().startswith("_")
               and line.get_marker() == "x"]
    assert [tuple(line.get_xdata()) for line in crosses] == [(150,)]
    # a variant's own marker is kept (and no marker keywords clash with it)
    res.variants["stopped"] = ex.Variant("rnn", label="stopped", style={"marker": "o"})
    ax = res.plot()
    assert next(line for line in ax.get_lines() if line.get_label() == "stopped"
                ).get_marker() == "o"


def test_claim_prints_and_raises(capsys):
    c = ex.claim("two is more than one", 2 > 1, values=[1, 2])
    assert c.passed and "PASS: two is more than one  (values = [1, 2])" in capsys.readouterr().out
    with pytest.raises(ex.ClaimFailed, match="no longer supports the claim: FAIL: one is more"):
        ex.claim("one is more than two", 1 > 2, ratio=0.5)
    assert not ex.claim("soft", False, strict=False).passed


def test_measurement_states_no_condition():
    m = ex.Measurement("a ratio", {"ratio": np.float64(0.5)})
    assert m.passed is True and str(m) == "MEASURED: a ratio  (ratio = 0.5)"
    assert m.to_dict() == {"statement": "a ratio", "measured": True, "numbers": {"ratio": 0.5}}


def test_time_interleaved_gives_best_of_n():
    calls = []
    best = ex.time_interleaved({"a": lambda: calls.append("a"),
                                "b": lambda: calls.append("b")}, repeats=3, warmup=1)
    assert calls == ["a", "b"] * 4 and set(best) == {"a", "b"}
    assert all(v >= 0 for v in best.values())


@pytest.mark.parametrize("timer", ["time_interleaved", "best_times"])
def test_the_timers_keep_each_functions_fastest_call(monkeypatch, timer):
    """On a scripted clock where a's timed calls take 5, 2, 9 and b's 1, 7, 3 (after one
    warm-up call each, 100), both timers report 2 and 1: the best of n, not the first,
    the last or the worst."""
    from rnnzoo.benchmark import timing
    clock = [0.0]

    def takes(*durations):
        left = iter(durations)

        def call():
            clock[0] += next(left)
        return call
    monkeypatch.setitem(timing.CLOCKS, "wall", lambda: clock[0])
    a, b = takes(100.0, 5.0, 2.0, 9.0), takes(100.0, 1.0, 7.0, 3.0)
    if timer == "time_interleaved":
        assert timing.time_interleaved({"a": a, "b": b}, repeats=3, warmup=1) == \
            {"a": 2.0, "b": 1.0}
    else:
        assert timing.best_times([a, b], repeat=3, warmup_s=0.0) == [2.0, 1.0]


def test_time_interleaved_caps_blas_threads_and_counts_cpu_time():
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    seen = []
    best = ex.time_interleaved({"a": lambda: seen.append(blas_threads())}, repeats=2,
                               threads=1, clock="cpu")
    assert seen and all(counts and set(counts) == {1} for counts in seen)
    # a sleep takes wall time but almost no CPU time; timed in a fresh process, because
    # process_time counts every thread, and an xdist worker's other threads (left by
    # earlier tests) cost 24-37 ms of CPU time during a 50 ms sleep in CI
    import subprocess
    import sys
    code = ("import time; from rnnzoo.benchmark.timing import time_interleaved; "
            "print(time_interleaved({'sleep': lambda: time.sleep(0.05)}, repeats=2, "
            "clock='cpu', threads=1)['sleep'])")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert float(run.stdout) < 0.02
    import time
    best = ex.time_interleaved({"sleep": lambda: time.sleep(0.05)}, repeats=2)
    assert best["sleep"] >= 0.05


@pytest.mark.parametrize("kwargs,match", [
    (dict(threads=0), "threads must be an integer >= 1; got 0"),
    (dict(clock="cycles"), "time_interleaved: clock must be one of 'wall', 'cpu'; got 'cycles'"),
    (dict(warmup=-1), "warmup must be an integer >= 0; got -1"),
])
def test_time_interleaved_names_a_bad_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ex.time_interleaved({"a": lambda: None}, **kwargs)


@pytest.mark.parametrize("kwargs,match", [
    (dict(steps=0), "Budget.steps must be an integer >= 1; got 0"),
    (dict(lr=float("nan")), "Budget.lr must be a positive finite number"),
    (dict(clip=-1.0), "Budget.clip must be a positive finite number"),
    (dict(dtype="float16"), "Budget: dtype must be 'float32' or 'float64'; got 'float16'"),
    (dict(hidden=True), "Budget.hidden must be an integer"),
])
def test_budget_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ex.Budget(**kwargs)


def test_variant_and_compare_validation():
    with pytest.raises(ValueError, match="no cell named 'nope'"):
        ex.Variant("nope")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['dropout'\]"):
        ex.Variant("gru", {"dropout": 0.1})
    with pytest.raises(ValueError, match="labels must be distinct"):
        ex.compare([ex.Variant("gru"), ex.Variant("gru")], task="adding", budget=BUDGET)
    with pytest.raises(ValueError, match="unknown task"):
        ex.compare([ex.Variant("gru")], task="nope", budget=BUDGET)


def test_compare_command_prints_the_table_and_saves_a_plot(tmp_path, capsys):
    from rnnzoo.__main__ import main
    out = tmp_path / "c.png"
    assert main(["compare", "--cells", "gru", "rnn:nonlinearity=relu@relu rnn", "--T", "8",
                 "--steps", "10", "--hidden", "4", "--n-seeds", "2", "--workers", "1",
                 "--save-plot", str(out)]) == 0
    text = capsys.readouterr().out
    assert "relu rnn" in text and "rnn(nonlinearity='relu')" in text and "10 steps" in text
    assert "below half the baseline at step (per seed)" in text         # the summary table
    assert f"saved {out}" in text and out.stat().st_size > 10_000


@pytest.mark.parametrize("argv,seeds", [
    (["--seeds", "10", "11", "12"], "3 seeds 10-12"), (["--seeds", "12", "10"], "seeds [12, 10]"),
    (["--seed-start", "10", "--n-seeds", "2"], "2 seeds 10-11"),
    (["--seed-start", "4"], "3 seeds 4-6"), (["--n-seeds", "2"], "2 seeds 0-1"),
    ([], "3 seeds 0-2"),
])
def test_compare_command_takes_seeds_from_the_shell(argv, seeds, capsys):
    from rnnzoo.__main__ import main
    assert main(["compare", "--cells", "gru", "--T", "4", "--steps", "1", "--hidden", "2",
                 "--batch-size", "2", "--workers", "1", *argv]) == 0
    assert f"{seeds} (median" in capsys.readouterr().out        # the caption says which


def test_compare_help_says_how_to_resume(capsys):
    from rnnzoo.__main__ import main
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    assert "\nResuming:" in capsys.readouterr().out


@pytest.mark.parametrize("clip,caption", [("0.5", "clip 0.5"), ("0", "no clipping")])
def test_compare_command_passes_the_clip_on(clip, caption, capsys):
    from rnnzoo.__main__ import main
    assert main(["compare", "--cells", "gru", "--T", "4", "--steps", "1", "--hidden", "2",
                 "--batch-size", "2", "--workers", "1", "--n-seeds", "1", "--clip", clip]) == 0
    assert f"batch 2, {caption}, 1 steps" in capsys.readouterr().out


@pytest.mark.parametrize("argv,match", [
    (["--cells", "nope"], "unknown cell 'nope'"),
    (["--cells", "gru", "--steps", "0"], "--steps: expected a finite value > 0; got '0'"),
    (["--cells", "lstm:forget_bias=0"], "must say why"),
    (["--cells", "gru", "--save-plot", "x.pdf"], "ending in .png"),
])
def test_compare_command_usage_errors(argv, match, capsys):
    from rnnzoo.__main__ import main
    with pytest.raises(SystemExit) as exc:
        main(["compare", *argv])
    assert exc.value.code == 2
    assert match in capsys.readouterr().err


@pytest.mark.parametrize("cells,match", [
    (["gru", "mlstm:heads=2"], "variant 'mlstm:heads=2' is refused before any run .*heads "
                               "must divide hidden_size"),
    (["gru", "lstm:forget_bias=x"], "variant 'lstm:forget_bias=x' is refused before any run "
                                    ".*forget_bias must be a finite number; got 'x'"),
])
def test_compare_command_refuses_a_variant_before_training_the_others(cells, match, capsys,
                                                                      monkeypatch):
    """Not after gru's runs, which would be lost: a usage error before the first run."""
    from rnnzoo import training
    from rnnzoo.__main__ import main

    def refuse(self, steps):
        raise AssertionError("training started")
    monkeypatch.setattr(training.Trainer, "run", refuse)
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--cells", *cells, "--hidden", "3", "--T", "10", "--workers", "1",
              "--n-seeds", "2"])
    assert exc.value.code == 2
    assert re.search(match, capsys.readouterr().err)


def test_variant_budget_overrides_and_divergence_is_a_result():
    res = ex.compare([ex.Variant("gru", label="full"),
                      ex.Variant("gru", label="tbptt 4", budget={"tbptt": 4}),
                      ex.Variant("rnn", {"nonlinearity": "relu", "identity_init": True},
                                 label="irnn, no clip", budget={"clip": None, "lr": 1e6})],
                     task="adding", task_options={"T": 12}, budget=BUDGET, seeds=1,
                     workers=1, progress=False)
    assert "with tbptt=4" in res.caption() and "with clip=None, lr=1000000.0" in res.caption()
    assert not np.array_equal(res.final("full"), res.final("tbptt 4"))
    # an absurd learning rate without clipping goes non-finite: recorded, not raised
    (step,) = res.diverged["irnn, no clip"]
    assert step is not None and 0 < step <= BUDGET.steps
    rows = {line.split("  ")[0]: line for line in res.summary().splitlines()}
    assert f"diverged at {step} / diverged at {step}" in rows["irnn, no clip"]
    assert "diverged" not in rows["full"] and "diverged" not in rows["tbptt 4"]
    assert res.diverged["full"] == [None]
    with pytest.raises(ValueError, match="unknown Budget field"):
        ex.Variant("gru", budget={"nope": 1})
    with pytest.raises(ValueError, match="Budget.tbptt must be an integer"):
        ex.compare([ex.Variant("gru", budget={"tbptt": 0})], task="adding", budget=BUDGET)


def _refuse(message):
    raise ValueError(message)


def test_in_child_process_returns_the_childs_result_and_raises_its_error():
    from rnnzoo.teaching.experiments.running import in_child_process
    import os
    assert in_child_process(divmod, 7, 2) == (3, 1)
    assert in_child_process(os.getpid) != os.getpid()
    with pytest.raises(ValueError, match="raised in the child"):
        in_child_process(_refuse, "raised in the child")


OWN_CELL_MODULE = '''
import rnnzoo

@rnnzoo.register("own_spawned")
class OwnSpawned(rnnzoo.get_cell_class("rnn")):
    """rnnzoo's Elman RNN under a name of its own, defined outside rnnzoo."""
'''


def test_a_cell_of_ones_own_trains_in_spawned_workers(tmp_path, monkeypatch):
    """Spawned workers (macOS's and Windows' default) start with rnnzoo's cells only:
    'no cell named' there, before the Variant recorded the module that registers the
    cell and the worker imported it."""
    import multiprocessing
    import sys
    from concurrent.futures import ProcessPoolExecutor
    from rnnzoo.core import registry
    (tmp_path / "own_cells_for_spawn.py").write_text(OWN_CELL_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    try:
        __import__("own_cells_for_spawn")
        variant = ex.Variant("own_spawned")
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            result = ex.compare([variant], "adding", task_options={"T": 5},
                                budget=ex.Budget(steps=2, hidden=4, eval_size=16, batch_size=8),
                                seeds=1, executor=pool, progress=False)
        assert result.labels == ["own_spawned"] and len(result.histories["own_spawned"]) == 1
    finally:
        registry._CELLS.pop("own_spawned", None)
        sys.modules.pop("own_cells_for_spawn", None)


def test_a_cell_registered_in_main_is_named_where_a_worker_cannot_import_it():
    from rnnzoo import make_task
    from rnnzoo.core import registry
    variant = ex.Variant("rnn")
    object.__setattr__(variant, "_module", "__main__")     # registered here (a forked
    assert variant.build(make_task("adding", T=5), BUDGET, 0)   # worker, a script): builds
    object.__setattr__(variant, "cell", "own_in_main")     # as a spawned worker sees it:
    object.__setattr__(variant, "_module", "__main__")     # registered in the parent only
    assert "own_in_main" not in registry._CELLS
    with pytest.raises(ValueError, match=r"Variant\('own_in_main'\): the cell 'own_in_main' "
                                         r"was registered in the parent process's __main__ .*"
                                         r"or run compare with workers=1"):
        variant.build(make_task("adding", T=5), BUDGET, 0)


def test_a_worker_holding_another_version_of_the_cell_refuses_to_train_it():
    """A long-lived worker (a reused pool, a cluster) that imported the class before it
    was edited and reloaded trained the old version without a word."""
    from rnnzoo import make_task
    variant = ex.Variant("rnn")
    assert variant.build(make_task("adding", T=5), BUDGET, 0).cells[0].name == "rnn"
    object.__setattr__(variant, "_version", "0" * 64)   # as made from an edited class
    with pytest.raises(ValueError, match=r"Variant\('rnn'\): this worker holds another "
                                         r"version of the cell 'rnn' .*start a new worker pool"):
        variant.build(make_task("adding", T=5), BUDGET, 0)


def test_no_more_worker_processes_than_runs(monkeypatch):
    """--workers 100000 started that many processes for two runs (and hung the machine):
    a pool starts every worker it is given."""
    from rnnzoo.teaching.experiments import running
    pools = []

    class Recorded(running.ProcessPoolExecutor):
        def __init__(self, max_workers=None, **kwargs):
            pools.append(max_workers)
            super().__init__(max_workers=max_workers, **kwargs)
    monkeypatch.setattr(running, "ProcessPoolExecutor", Recorded)
    res = ex.compare([ex.Variant("rnn")], task="adding", task_options={"T": 4},
                     budget=ex.Budget(steps=1, hidden=2, eval_every=1), seeds=2, workers=64,
                     progress=False)
    assert pools == [2] and res.workers == 2


def test_a_variant_whose_every_seed_diverged_ends_at_the_budget_not_at_its_last_good_eval():
    """Every seed stopped at step 1: the curves still run to the budget's last evaluation,
    so the final value is NaN (not the step-0 loss) and the variant is not solved."""
    r = ex.compare(["rnn"], "adding", task_options={"T": 5},
                   budget=ex.Budget(steps=20, hidden=4, eval_size=8, lr=1e37, clip=None,
                                    eval_every=10), seeds=2, workers=1, progress=False)
    assert r.diverged["rnn"] == [1, 1]
    steps, runs = r.curves("rnn")
    assert steps.tolist() == [0, 10, 20] and np.isfinite(runs[:, 0]).all()
    assert np.isnan(r.final("rnn")).all() and r.solved("rnn") == 0
    assert r.left_baseline("rnn") == [None, None]


def test_curves_keep_the_runs_own_steps_when_they_do_not_follow_the_budgets_schedule():
    """Only runs that stopped on the budget's own schedule are extended to it; histories
    evaluated elsewhere (another schedule) keep their steps."""
    from .fake_results import fake_comparison
    res = fake_comparison("adding", {"T": 5}, {"rnn": {"loss": [[0.2, 0.1], [0.2, 0.1]]}},
                          every=100)
    res.budget = ex.Budget(steps=1000, eval_every=50)     # 0, 50, ...: not 0, 100
    steps, runs = res.curves("rnn")
    assert steps.tolist() == [0, 100] and runs[:, -1].tolist() == [0.1, 0.1]
