"""The training loop: real learning, truncated BPTT, constraints, history, plotting, CLI."""
import time

import numpy as np
import pytest

import rnnzoo
from rnnzoo.optim import SGD
from rnnzoo.tasks import make_task
from rnnzoo.training import History, Trainer


def small(cell, task, hidden=8, seed=0, **kw):
    return rnnzoo.build_model(cell, task.input_size, hidden, task.output_size,
                              readout=task.readout, seed=seed, **kw)


def test_gru_learns_the_adding_problem_at_T50():
    """Real learning, not a running loop: 300 Adam steps take a 32-unit GRU from the
    1/6 baseline to an eval MSE around 0.002-0.012 (seeds 0-4 measured); assert < 0.05."""
    from threadpoolctl import threadpool_limits
    task = make_task("adding", T=50, seed=0, eval_size=500)
    model = small("gru", task, hidden=32)
    start = time.perf_counter()
    with threadpool_limits(1):       # small GEMMs: extra BLAS threads only add contention
        h = rnnzoo.train(model, task, steps=300, batch_size=32, lr=0.01, clip=1.0,
                         eval_every=300, seed=0, progress=False)
    elapsed = time.perf_counter() - start
    assert h.eval_loss[0] > task.baseline                # untrained: worse than predicting 1
    assert h.final_eval_loss < 0.05, h.summary()
    assert h.final_eval_loss < 0.3 * task.baseline
    assert elapsed < 60


def test_history_records_every_step_and_each_evaluation():
    task = make_task("copy", T=5, seed=0, eval_size=40)
    model = small("lstm", task)
    trainer = Trainer(model, task, batch_size=8, lr=0.01, eval_every=4, eval_batch=16,
                      progress=False)
    h = trainer.run(10)
    assert h.steps == list(range(1, 11))
    assert len(h.train_loss) == len(h.grad_norm) == 10
    assert h.eval_steps == [0, 4, 8, 10]
    assert len(h.eval_loss) == len(h.eval_accuracy) == 4
    assert all(0.0 <= a <= 1.0 for a in h.eval_accuracy)
    assert h.baseline == task.baseline and h.task == "copy" and h.label == "lstm"
    assert History.from_dict(h.to_dict()) == h
    # the task's success metric (recall accuracy on copy) beside the loss, every evaluation
    assert h.success == task.success.to_dict() and h.eval_success == h.eval_accuracy
    trainer.run(2)                                  # continues the same history
    assert h.steps[-1] == 12 and h.eval_steps[-1] == 12 and len(h.eval_success) == 5


def test_the_history_records_what_evaluate_returns_at_each_evaluation():
    """A recorded evaluation is evaluate() on the model as it was at that step: the first
    (step 0) before any training, the last after the final step. (The other tests compare
    evaluate with Trainer.evaluation, which share one function: a slip in what the history
    keeps, half the loss or the accuracy in the loss's place, shows only here.)"""
    from rnnzoo.training import evaluate
    task = make_task("copy", T=5, seed=0, eval_size=40)
    model = small("lstm", task, dtype=np.float64)
    at_init = evaluate(model, task, eval_batch=16)
    h = Trainer(model, task, batch_size=8, lr=0.01, eval_every=4, eval_batch=16,
                progress=False).run(6)
    after = evaluate(model, task, eval_batch=16)
    assert h.eval_steps[0] == 0 and h.eval_steps[-1] == 6 and after[0] != at_init[0]
    recorded = [(h.eval_loss[k], h.eval_accuracy[k], h.eval_success[k]) for k in (0, -1)]
    np.testing.assert_allclose(recorded, [at_init, after], rtol=1e-12)


def test_history_solved_reads_the_tasks_criterion():
    task = make_task("adding", T=5, seed=0, eval_size=20)
    h = History(task="adding", success=task.success.to_dict(), eval_steps=[0, 10, 20, 30],
                eval_success=[0.2, 0.009, 0.012, 0.008], eval_loss=[0.2, 0.009, 0.012, 0.008])
    assert h.solved is True and h.solved_at == 10 and "solved (MSE < 0.01" in h.summary()
    assert h.final_eval_loss == 0.008 and h.final_eval_success == 0.008
    assert "eval  0.008 vs baseline nan" in h.summary()       # (no metric name given)
    h.baseline, h.eval_accuracy = 0.16, [0.0, 0.1, 0.2, 0.3]
    assert "(5.0% of it), accuracy 30.0%" in h.summary() and h.final_eval_accuracy == 0.3
    h.eval_success[-1] = 0.011
    assert h.solved is False and h.solved_at == 10 and "not solved" in h.summary()
    h.eval_success[:] = [0.2, 0.5, float("nan"), 0.3]
    assert h.solved is False and h.solved_at is None
    assert History(success=task.success.to_dict()).solved is False      # nothing evaluated
    # a task without a criterion, or a history written before there were criteria
    old = {k: v for k, v in h.to_dict().items() if k not in ("success", "eval_success")}
    for none in (History.from_dict(old), History(task="charlm")):
        assert none.solved is None and none.solved_at is None and "solved" not in none.summary()


def test_success_metric_in_slices_equals_one_big_batch_and_is_the_mse_on_adding():
    task = make_task("adding", T=6, seed=0, eval_size=30)
    model = small("gru", task)
    sliced = Trainer(model, task, eval_batch=7, progress=False).evaluation()
    whole = Trainer(model, task, eval_batch=30, progress=False).evaluation()
    np.testing.assert_allclose(sliced, whole, rtol=1e-12)
    assert whole[2] == pytest.approx(whole[0], rel=1e-12)       # adding: the metric is the MSE
    charlm = make_task("charlm", T=8, max_chars=5000, files=2, eval_size=6)
    lm = small("gru", charlm)
    loss, acc, success = Trainer(lm, charlm, progress=False).evaluation()
    assert np.isnan(success) and np.isfinite(loss)
    h = Trainer(lm, charlm, progress=False).run(1)
    assert h.success is None and h.eval_success == [] and h.solved is None


def test_evaluation_in_slices_equals_one_big_batch():
    task = make_task("copy", T=4, seed=0, eval_size=30)
    model = small("gru", task)
    sliced = Trainer(model, task, eval_batch=7, progress=False).evaluate()
    whole = Trainer(model, task, eval_batch=30, progress=False).evaluate()
    np.testing.assert_allclose(sliced, whole, rtol=1e-12)


def test_train_step_matches_a_hand_written_step():
    task = make_task("adding", T=6, seed=0)
    model, twin = small("rnn", task, seed=1), small("rnn", task, seed=1)
    trainer = Trainer(model, task, optimizer=SGD(model.params, lr=0.1), batch_size=4,
                      clip=None, seed=5, progress=False)
    x, target = task.batch(4, np.random.default_rng([5, 0]))
    y, cache = twin.forward(x)
    loss, dy = rnnzoo.mse_loss(y, target)
    _, grads = twin.backward(dy, cache)
    got_loss, _ = trainer.train_step()
    assert got_loss == loss
    for k, p in twin.params.items():
        np.testing.assert_allclose(model.params[k], p - 0.1 * grads[k], rtol=0, atol=1e-15)


def test_tbptt_longer_than_T_equals_full_bptt_and_shorter_truncates():
    task = make_task("copy", T=6, seed=0)            # readout at every step, length 26
    model = small("gru", task)
    x, target = Trainer(model, task, batch_size=4, progress=False).batch(0)
    full_loss, full = Trainer(model, task, progress=False).loss_and_grads(x, target)
    same_loss, same = Trainer(model, task, tbptt=26, progress=False).loss_and_grads(x, target)
    assert same_loss == full_loss
    for k in full:
        np.testing.assert_array_equal(same[k], full[k])
    cut_loss, cut = Trainer(model, task, tbptt=5, progress=False).loss_and_grads(x, target)
    assert cut_loss == pytest.approx(full_loss, rel=1e-12)        # forward is unchanged
    assert not np.allclose(cut["cell0.W_hh"], full["cell0.W_hh"])  # gradient path is cut
    np.testing.assert_allclose(cut["readout.W"], full["readout.W"], rtol=1e-10)
    # by hand: chunk k's backward sees only its own slice of dL/dy, starting from state
    # carried forward from chunk k-1
    y, cache = model.forward(x)
    _, dy = task.loss(y, target)
    state, total = None, 0.0
    for s in range(0, 26, 5):
        _, c = model.forward(x[s:s + 5], state)
        state = c.state_T
        total = total + model.backward(dy[s:s + 5], c)[1]["cell0.W_hh"]
    np.testing.assert_allclose(cut["cell0.W_hh"], total, rtol=1e-12, atol=1e-15)


def test_tbptt_with_last_readout_sees_only_the_last_chunk():
    task = make_task("adding", T=20, seed=0)
    model = small("gru", task)
    trainer = Trainer(model, task, tbptt=5, batch_size=4, progress=False)
    x, target = trainer.batch(0)
    _, cut = trainer.loss_and_grads(x, target)
    _, ref = Trainer(model, task, progress=False).loss_and_grads(x, target)
    # by hand: only the last chunk x[15:20] is backpropagated, from the state the
    # forward pass reached after 15 steps; nothing flows into steps 0-14
    y, cache = model.forward(x)
    _, dy = task.loss(y, target)
    _, c_last = model.forward(x[15:], [(cache.cells[0].h[15].copy(),)])
    expected = model.backward(dy, c_last)[1]
    for k in cut:
        np.testing.assert_allclose(cut[k], expected[k], rtol=1e-12, atol=1e-15)
    assert not np.allclose(cut["cell0.W_ih"], ref["cell0.W_ih"])


def test_constraints_are_applied_after_every_step():
    task = make_task("adding", T=5, seed=0)
    model = small("rnn", task)
    cell = model.cells[0]
    calls = []

    def constrain():
        calls.append(1)
        np.clip(cell.params["W_hh"], -0.05, 0.05, out=cell.params["W_hh"])

    cell.constrain = constrain
    Trainer(model, task, lr=0.05, eval_every=100, progress=False).run(3)
    assert len(calls) == 3
    assert np.abs(cell.params["W_hh"]).max() <= 0.05


def test_batches_depend_only_on_seed_and_step():
    task = make_task("adding", T=8, seed=0)
    a = Trainer(small("gru", task), task, seed=3, progress=False)
    b = Trainer(small("gru", task), task, seed=3, start_step=7, progress=False)
    np.testing.assert_array_equal(a.batch(7)[0], b.batch(7)[0])
    assert not np.array_equal(a.batch(7)[0], a.batch(8)[0])


def test_divergence_raises_a_clear_error():
    task = make_task("adding", T=5, seed=0)
    model = small("rnn", task)
    trainer = Trainer(model, task, optimizer=SGD(model.params, lr=1e200), clip=None,
                      progress=False)
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match="diverged"):
        trainer.run(5)


def test_model_that_does_not_fit_the_task_is_rejected():
    task = make_task("copy", T=5)
    wrong = rnnzoo.build_model("gru", 10, 4, 9, readout="last")
    with pytest.raises(ValueError, match="readout='last' but the task needs 'all'"):
        Trainer(wrong, task)


def test_float32_training_runs_in_float32():
    task = make_task("associative", seed=0, eval_size=20)
    model = small("lstm", task, dtype=np.float32)
    h = rnnzoo.train(model, task, steps=3, batch_size=8, eval_every=3, progress=False)
    assert model.params["cell0.W_hh"].dtype == np.float32
    assert np.isfinite(h.train_loss).all()


def test_plot_history_draws_curves_and_baseline(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnzoo.training.plotting import plot_history, smooth
    np.testing.assert_allclose(smooth([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])
    h1 = History(label="a", task="adding", metric="MSE", baseline=1 / 6, steps=[1, 2, 3],
                 train_loss=[0.3, 0.2, 0.1], grad_norm=[1, 1, 1], eval_steps=[0, 3],
                 eval_loss=[0.4, 0.05], eval_accuracy=[0.0, 0.5])
    h2 = History(**{**h1.to_dict(), "label": "b"})
    ax = plot_history([h1, h2])
    dashed = [l for l in ax.get_lines() if l.get_linestyle() == "--"]
    assert len(dashed) == 1 and dashed[0].get_ydata()[0] == pytest.approx(1 / 6)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a (eval)", "b (eval)"]
    assert ax.get_xlabel() == "training step" and ax.get_ylabel() == "MSE"
    assert ax.get_title() == ""
    ax2 = plot_history(h1, kind="accuracy", title="GRU on adding")
    assert list(ax2.get_lines()[0].get_ydata()) == [0.0, 0.5]
    assert ax2.get_title() == "GRU on adding" and ax2.get_ylabel() == "eval accuracy"
    with pytest.raises(ValueError, match="no success criterion"):
        plot_history(h1, kind="success")
    plt.close("all")


def levels(ax):
    """{legend label: y} of the horizontal reference lines on ax."""
    return {line.get_label(): line.get_ydata()[0] for line in ax.get_lines()
            if len(set(line.get_ydata())) == 1 and not line.get_label().startswith("_")}


def test_plots_draw_the_success_threshold_where_the_metric_lives():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnzoo.training.plotting import draw_success, plot_history
    adding = make_task("adding", T=5).success
    h = History(label="a", task="adding", metric="MSE", baseline=1 / 6, success=adding.to_dict(),
                eval_steps=[0, 3], eval_loss=[0.2, 0.005], eval_accuracy=[0.0, 0.5],
                eval_success=[0.2, 0.005])
    h.steps, h.train_loss = [1, 2, 3, 4], [0.3, 0.2, 0.1, 0.05]
    ax = plot_history(h)
    assert levels(ax) == {"solved: MSE < 0.01": 0.01}                   # adding: on the loss
    eval_line, train_line, baseline = ax.get_lines()[:3]
    assert list(train_line.get_ydata()) == [0.3, 0.2, 0.1, 0.05]       # window 1: as is
    assert baseline.get_linestyle() == "--" and baseline.get_ydata()[0] == pytest.approx(1 / 6)
    assert [t.get_text() for t in ax.texts] == ["adding baseline 0.167"]
    assert ax.get_yscale() == "log" and [t.get_text() for t in ax.get_legend().get_texts()] \
        == ["a (eval)", "solved: MSE < 0.01"]
    from rnnzoo.training.plotting import smooth
    np.testing.assert_allclose(smooth([1, 2, 3, 4, 5], 2), [1, 1.5, 2.5, 3.5, 4.5])
    np.testing.assert_array_equal(smooth([4, 5], 1), [4, 5])
    assert levels(plot_history(h, kind="accuracy")) == {}               # not |error| < 0.04
    ax = plot_history(h, kind="success")
    assert levels(ax) == {"solved: MSE < 0.01": 0.01, "memoryless 0.167": pytest.approx(1 / 6)}
    assert list(ax.get_lines()[0].get_ydata()) == [0.2, 0.005] and ax.get_ylabel() == "eval MSE"
    assoc = make_task("associative").success
    _, ax = plt.subplots()
    draw_success(ax, assoc, "loss")            # no loss equivalent, but the plateau's loss
    assert levels(ax) == {"bag-of-digits plateau 1.19": pytest.approx(1.18681, abs=1e-5)}
    _, ax = plt.subplots()
    draw_success(ax, assoc.to_dict(), "accuracy")
    assert levels(ax) == {"solved: accuracy >= 0.692": pytest.approx(0.69175),
                          "bag-of-digits plateau 0.384": pytest.approx(0.3835)}
    _, ax = plt.subplots()
    assert draw_success(ax, make_task("copy", T=5).success, "loss") == []
    assert draw_success(ax, None, "accuracy") == []
    plt.close("all")


def test_plot_history_draws_the_gradient_norm_per_step_on_a_log_scale():
    """kind="grad_norm": one line per history, the norm before clipping at every step
    (not the eval steps), on a log scale unless log=False; no baseline or threshold,
    which are losses and would read as gradient norms on this axis."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnzoo.training.plotting import plot_history
    adding = make_task("adding", T=5).success
    h1 = History(label="a", task="adding", metric="MSE", baseline=1 / 6,
                 success=adding.to_dict(), steps=[1, 2, 3, 4],
                 train_loss=[0.3, 0.2, 0.1, 0.05], grad_norm=[5.0, 0.5, 2.0, 40.0],
                 eval_steps=[0, 4], eval_loss=[0.2, 0.005], eval_accuracy=[0.0, 0.5],
                 eval_success=[0.2, 0.005])
    h2 = History(**{**h1.to_dict(), "label": "b", "grad_norm": [1.0, 3.0, 0.25, 0.125]})
    ax = plot_history([h1, h2], kind="grad_norm", styles={"a": {"color": "tab:red"}})
    a, b = ax.get_lines()                                      # nothing else is drawn
    np.testing.assert_array_equal(a.get_xydata(), [[1, 5.0], [2, 0.5], [3, 2.0], [4, 40.0]])
    np.testing.assert_array_equal(b.get_xydata(), [[1, 1.0], [2, 3.0], [3, 0.25], [4, 0.125]])
    assert a.get_color() == "tab:red"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    assert [t.get_text() for t in ax.texts] == []              # no "adding baseline"
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "training step"
    assert ax.get_ylabel() == "gradient norm (before clipping)"
    assert plot_history(h1, kind="grad_norm", log=False).get_yscale() == "linear"
    plt.close("all")


def test_plot_history_smooths_the_training_loss_over_2_percent_of_the_run():
    """The training loss is drawn smoothed over len // 50 steps (100 steps: a moving
    average of 2, the first entry alone), thin and in its eval curve's colour; train=False
    leaves it out and keeps the eval curve and the baseline."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnzoo.training.plotting import plot_history
    loss = np.arange(100, 0, -1.0)                             # 100, 99, ..., 1
    h = History(label="a", task="adding", metric="MSE", baseline=1 / 6,
                steps=list(range(1, 101)), train_loss=list(loss), grad_norm=[1.0] * 100,
                eval_steps=[0, 100], eval_loss=[0.4, 0.05], eval_accuracy=[0.0, 0.5])
    eval_line, train_line, baseline = plot_history(h).get_lines()
    np.testing.assert_array_equal(train_line.get_xdata(), np.arange(1, 101))
    np.testing.assert_allclose(train_line.get_ydata(), [100.0, *(loss[1:] + loss[:-1]) / 2])
    assert train_line.get_color() == eval_line.get_color()
    assert baseline.get_ydata()[0] == pytest.approx(1 / 6)
    eval_line, baseline = plot_history(h, train=False).get_lines()
    np.testing.assert_array_equal(eval_line.get_xydata(), [[0, 0.4], [100, 0.05]])
    assert baseline.get_linestyle() == "--" and baseline.get_ydata()[0] == pytest.approx(1 / 6)
    assert plot_history(h, log=False).get_yscale() == "linear"
    plt.close("all")


def test_cli_verdict_reads_the_loss_against_the_baseline():
    from rnnzoo.cli.train import verdict
    assert verdict(0.05, 0.25) == ("20.0% of the baseline: learned something a memoryless "
                                   "predictor cannot")
    assert verdict(0.25, 0.25) == "100.0% of the baseline: no better than the memoryless predictor"
    # a baseline that is not memoryless is named as it is (the task's baseline_name)
    assert verdict(2.0, 3.14, "unigram baseline") == ("63.7% of the baseline: learned "
                                                      "something the unigram baseline cannot")
    assert verdict(2.3, 2.3, "no-input baseline (class frequencies)") == (
        "100.0% of the baseline: no better than the no-input baseline (class frequencies)")


def test_cli_trains_saves_plot_and_checkpoint_and_resumes(tmp_path, capsys):
    from rnnzoo.cli.train import main
    png, ckpt = tmp_path / "curve.png", tmp_path / "m.npz"
    rc = main(["--cell", "rnn", "--task", "adding", "--T", "10", "--steps", "6",
               "--hidden", "4", "--eval-size", "20", "--eval-every", "3", "--no-progress",
               "--option", "nonlinearity=relu", "--save-plot", str(png),
               "--checkpoint", str(ckpt)])
    out = capsys.readouterr().out
    assert rc == 0 and png.stat().st_size > 0 and ckpt.exists()
    assert "final eval MSE" in out and "baseline 0.16667" in out and "of the baseline" in out
    assert "\nrnn on adding: eval MSE " in out and "6 steps in " in out   # history.summary()
    assert "solved (MSE < 0.01; Hochreiter & Schmidhuber" in out and ": no, MSE " in out
    model, opt_state, meta = rnnzoo.load_checkpoint(ckpt)
    assert model.cells[0].nonlinearity == "relu" and meta["extra"]["step"] == 6
    assert model.cells[0].dtype == np.float32        # training's default (issue 20)
    assert main(["--resume", str(ckpt), "--steps", "3", "--no-progress",
                 "--checkpoint", str(ckpt)]) == 0
    assert rnnzoo.load_checkpoint(ckpt)[2]["extra"]["step"] == 9


def test_cli_option_parsing():
    from rnnzoo.cli.train import parse_option
    assert parse_option("identity_init=true") == ("identity_init", True)
    assert parse_option("identity_scale=0.5") == ("identity_scale", 0.5)
    assert parse_option("nonlinearity=relu") == ("nonlinearity", "relu")
    assert parse_option("note=a=b") == ("note", "a=b")     # split at the first '=' only
    with pytest.raises(Exception, match="key=value"):
        parse_option("relu")


def test_evaluation_uses_inference_mode_for_zoneout():
    """QRNN with zoneout: two evaluations of the same model give the same loss (the
    expectation, not a fresh random mask each time), and training mode is restored."""
    task = make_task("adding", T=10, eval_size=32)
    model = rnnzoo.build_model("qrnn", task.input_size, 8, task.output_size,
                               readout=task.readout, zoneout=0.5)
    trainer = Trainer(model, task, progress=False)
    first, second = trainer.evaluate(), trainer.evaluate()
    assert first == second
    assert model.cells[0].training is True
    model.cells[0].training = False
    y, _ = model.forward(trainer._to_device(*task.eval_data())[0])
    assert task.loss(y, trainer._to_device(*task.eval_data())[1])[0] == pytest.approx(first[0])


def test_train_keeps_the_checkpoint_when_the_plot_cannot_be_written(capsys, tmp_path,
                                                                   monkeypatch):
    """Both paths passed their check before training; then the plot's write fails (a full
    disk): one line naming it, exit status 1, and the checkpoint is written all the same
    (it came after the plot, and the traceback lost it)."""
    import errno

    from rnnzoo.cli import train as train_cli
    plot = tmp_path / "curve.png"

    def full_disk(history, task, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))
    monkeypatch.setattr(train_cli, "_save_plot", full_disk)
    from rnnzoo.cli.train import main as train_main
    code = train_main(["--cell", "rnn", "--task", "adding", "--T", "4", "--hidden", "2",
                       "--steps", "2", "--eval-every", "1", "--batch-size", "2",
                       "--eval-size", "4", "--no-progress", "--checkpoint",
                       str(tmp_path / "ck.npz"), "--save-plot", str(plot)])
    captured = capsys.readouterr()
    assert code == 1 and "Traceback" not in captured.err
    assert f"error: [Errno 28] No space left on device: '{plot}'" in captured.err
    assert (tmp_path / "ck.npz").exists() and "saved checkpoint to" in captured.out


def test_evaluation_reuses_the_loss_or_accuracy_only_where_the_metric_is_one(monkeypatch):
    """The success metric is read from the loss or accuracy just computed where same_as
    says it equals one of them; a task that computes it its own way keeps its own, and the
    numbers are those success_value gives."""
    from rnnzoo.training import trainer as trainer_module
    from rnnzoo.training.tasks import AddingProblem
    model = rnnzoo.build_model("gru", 2, 4, 1, readout="last", seed=3)
    task = rnnzoo.make_task("adding", T=5, eval_size=40)
    x, target = task.eval_data()
    expected = task.success_value(model.forward(x)[0], target)
    assert trainer_module._evaluate(model, task, 16)[2] == pytest.approx(expected, rel=1e-12)

    class OwnMetric(AddingProblem):                   # same_as "loss", but its own metric
        def _success_value(self, y, target):
            return 42.0
    own = OwnMetric(T=5, eval_size=40)
    assert trainer_module._evaluate(model, own, 16)[2] == 42.0
