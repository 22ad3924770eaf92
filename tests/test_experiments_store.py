"""The comparison harness scales out and survives interruption: jobs on any
concurrent.futures Executor (a real local Dask cluster here), every finished run saved as
JSON + .npz the moment it completes, and a rerun that loads them and trains only the rest.

A pass is bit for bit: every history array and every parameter of a resumed, reloaded or
cluster-run comparison equals the uninterrupted in-process one (np.array_equal), and a
stored run trained differently, or a store that cannot be written, is refused before any
training with the file, the fields and what to do."""
import dataclasses
import json
import os
import re
import socket
import subprocess
import sys
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction

import numpy as np
import pytest

from rnnzoo import experiments as ex
from rnnzoo import training
from rnnzoo.core.validation import ArgumentTypeError
from rnnzoo.teaching.experiments import running
from rnnzoo.teaching.experiments.store import StoreError, folder_name

TINY = ex.Budget(steps=5, hidden=4, eval_size=16, batch_size=8)
VARIANTS = [ex.Variant("gru"), ex.Variant("lstm", label="lstm (fair)")]
SEEDS = [0, 1]
JOBS = len(VARIANTS) * len(SEEDS)


def run(**changes):
    """compare on the tiny adding problem, in this process unless ``changes`` say."""
    kwargs = {"task": "adding", "task_options": {"T": 8}, "budget": TINY, "seeds": SEEDS,
              "progress": False, **changes}
    if "executor" not in kwargs:
        kwargs.setdefault("workers", 1)
    return ex.compare(kwargs.pop("variants", VARIANTS), **kwargs)


@pytest.fixture(scope="module")
def reference():
    """The uninterrupted in-process comparison every other one must equal."""
    return run()


def assert_same_runs(got, want, *, seconds):
    """Every history field, parameter and divergence equal bit for bit (``seconds``: the
    recorded timings too, which only a reload of the same runs keeps)."""
    assert got.labels == want.labels and got.seeds == want.seeds
    for label in want.labels:
        assert got.diverged[label] == want.diverged[label]
        for h_got, h_want in zip(got.histories[label], want.histories[label], strict=True):
            a, b = h_got.to_dict(), h_want.to_dict()
            if not seconds:
                a.pop("seconds"), b.pop("seconds")
            assert a.keys() == b.keys()
            for key in b:
                if isinstance(b[key], list):
                    assert np.array_equal(a[key], b[key]), (label, key)
                else:
                    assert a[key] == b[key], (label, key)
        for p_got, p_want in zip(got._params[label], want._params[label], strict=True):
            assert p_got.keys() == p_want.keys()
            for name in p_want:
                assert p_got[name].dtype == p_want[name].dtype
                assert np.array_equal(p_got[name], p_want[name]), (label, name)


@pytest.fixture
def trainings(monkeypatch):
    """The jobs trained in this process, in order (label, seed)."""
    trained, real = [], running._run_one

    def counted(job):
        trained.append((job[0].label, job[-1]))
        return real(job)
    monkeypatch.setattr(running, "_run_one", counted)
    return trained


@pytest.fixture
def no_training(monkeypatch):
    def refuse(self, steps):
        raise AssertionError("training started")
    monkeypatch.setattr(training.Trainer, "run", refuse)


def stored_files(store):
    return sorted(os.path.relpath(os.path.join(folder, name), store)
                  for folder, _, names in os.walk(store) for name in names)


# ------------------------------------------------------------ storing and resuming
def test_a_stored_comparison_reloads_bit_for_bit(tmp_path, reference, monkeypatch, capsys):
    trained = run(store=tmp_path, progress=True)
    assert_same_runs(trained, reference, seconds=False)
    assert stored_files(tmp_path) == [f"{folder}/seed-{s}.{ext}"
                                      for folder in ("gru", "lstm (fair)") for s in SEEDS
                                      for ext in ("json", "npz")]
    capsys.readouterr()
    monkeypatch.setattr(training.Trainer, "run", lambda *a: pytest.fail("trained again"))
    loaded = run(store=tmp_path, progress=True)
    assert_same_runs(loaded, trained, seconds=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"  {v.label} seed {s}: loaded from {tmp_path}" for v in VARIANTS
                     for s in SEEDS]


def test_each_stored_run_says_what_made_it_and_an_older_one_says_nothing(tmp_path,
                                                                         monkeypatch):
    """A run stored now keeps the commit (and whether rnnzoo's files had uncommitted
    changes), platform, CPU, Python, NumPy and BLAS of the process that trained it; the
    Comparison says which runs it trained and which it loaded. A run stored before that
    was kept loads with made_with None: nothing is filled in for it."""
    from rnnzoo.teaching.experiments import provenance
    trained = run(store=tmp_path)
    env = provenance.made_with()
    assert set(env) == {"commit", "dirty", "rnnzoo", "python", "numpy", "blas", "platform",
                        "cpu"}
    assert env["numpy"] == np.__version__ and env["python"] == sys.version.split()[0]
    head = subprocess.run(["git", "-C", os.path.dirname(provenance.PACKAGE), "rev-parse",
                           "HEAD"], capture_output=True, text=True).stdout.strip()
    assert env["commit"] == (head or None) and isinstance(env["dirty"], bool)
    for label in trained.labels:
        assert trained.made_with[label] == [env] * len(SEEDS)
        assert trained.trained[label] == [True] * len(SEEDS)
    path = tmp_path / "gru" / "seed-0.json"
    assert json.loads(path.read_text())["made_with"] == env
    older = json.loads(path.read_text())
    del older["made_with"]
    path.write_text(json.dumps(older))
    monkeypatch.setattr(training.Trainer, "run", lambda *a: pytest.fail("trained again"))
    loaded = run(store=tmp_path)
    assert loaded.made_with["gru"] == [None, env]
    assert loaded.trained["gru"] == [False, False]
    assert loaded.subset(["gru"]).made_with["gru"] == [None, env]
    older["made_with"] = "a machine"
    path.write_text(json.dumps(older))
    with pytest.raises(StoreError, match=r"\['made_with'\] are missing or malformed"):
        run(store=tmp_path)
    # no git checkout of the package (an installed wheel): no commit, nothing guessed
    assert provenance._git_state(tmp_path) == (None, None)
    assert provenance.describe(None) == "not recorded"
    assert provenance.describe({**env, "commit": "0123456789abcdef", "dirty": True}) \
        .startswith("commit 0123456789 (uncommitted changes), Python ")


def test_resume_trains_only_the_missing_runs(tmp_path, reference, trainings, capsys):
    run(store=tmp_path)
    # lstm seed 0 never finished, gru seed 1 crashed between its two files (an .npz left
    # without the .json that says the run finished): both are trained again
    os.remove(tmp_path / "lstm (fair)" / "seed-0.json")
    os.remove(tmp_path / "lstm (fair)" / "seed-0.npz")
    os.remove(tmp_path / "gru" / "seed-1.json")
    trainings.clear()
    resumed = run(store=tmp_path, progress=True)
    assert trainings == [("gru", 1), ("lstm (fair)", 0)]
    assert_same_runs(resumed, reference, seconds=False)
    out = capsys.readouterr().out
    assert out.count("loaded from") == 2
    assert re.search(r"gru seed 1: final eval MSE \S+ \(\d+\.\d s\) \[3/4 done, about "
                     r"\d+ s left\]", out), out
    assert re.search(r"lstm \(fair\) seed 0: .* \[4/4 done\]$", out.strip()), out


def interrupt_after(monkeypatch, finished):
    """Jobs after the first ``finished`` raise KeyboardInterrupt (Ctrl-C mid-run)."""
    real, calls = running._run_one, []

    def run_or_interrupt(job):
        calls.append(job)
        if len(calls) > finished:
            raise KeyboardInterrupt
        return real(job)
    monkeypatch.setattr(running, "_run_one", run_or_interrupt)


@pytest.mark.parametrize("where", ["in process", "executor"])
def test_an_interrupted_comparison_keeps_its_finished_runs(tmp_path, reference, monkeypatch,
                                                           trainings, where):
    with monkeypatch.context() as interrupted, ThreadPoolExecutor(max_workers=1) as pool:
        interrupt_after(interrupted, finished=1)
        with pytest.raises(KeyboardInterrupt):
            run(store=tmp_path, **({"executor": pool} if where == "executor" else {}))
        if where == "executor":                   # the caller's executor is left running
            assert pool.submit(lambda: 42).result() == 42
    assert stored_files(tmp_path) == ["gru/seed-0.json", "gru/seed-0.npz"]  # no temp files
    trainings.clear()
    resumed = run(store=tmp_path)
    assert trainings == [(v.label, s) for v in VARIANTS for s in SEEDS][1:]
    assert_same_runs(resumed, reference, seconds=False)


def test_a_job_that_fails_keeps_the_others(tmp_path, monkeypatch):
    """A bug in one run (not an interrupt) stops the comparison; what finished is kept."""
    real = running._run_one

    def fail_lstm(job):
        if job[0].label == "lstm (fair)":
            raise RuntimeError("a bug in one cell")
        return real(job)
    monkeypatch.setattr(running, "_run_one", fail_lstm)
    with pytest.raises(RuntimeError, match="a bug in one cell"):
        run(store=tmp_path)
    assert stored_files(tmp_path) == [f"gru/seed-{s}.{ext}" for s in SEEDS
                                      for ext in ("json", "npz")]


def test_the_store_holds_no_pickle(tmp_path):
    res = run(store=tmp_path, variants=[ex.Variant("rnn", {"nonlinearity": "relu"},
                                                   label="relu/rnn")])
    files = stored_files(tmp_path)
    assert files and {os.path.splitext(f)[1] for f in files} == {".json", ".npz"}
    for name in files:
        path = tmp_path / name
        if name.endswith(".npz"):
            with np.load(path, allow_pickle=False) as data:
                assert all(data[k].dtype == np.float32 for k in data.files)
        else:
            record = json.loads(path.read_text())
            assert record["fingerprint"]["options"] == {"nonlinearity": "relu"}
            assert record["history"] == res.histories["relu/rnn"][record["fingerprint"][
                "seed"]].to_dict()
    assert all(f.startswith("relu%2Frnn/") for f in files)     # the label's slash encoded


# ------------------------------------------------------------ refused before training
@pytest.mark.parametrize("changes,fields", [
    ({"budget": dataclasses.replace(TINY, steps=6)}, "budget.steps is 5 there, 6 here"),
    ({"task_options": {"T": 9}}, "task_options.T is 8 there, 9 here"),
    ({"variants": [ex.Variant("rnn", label="gru")]}, 'cell is "gru" there, "rnn" here'),
    ({"variants": [ex.Variant("gru", lr_for={"cell0.W_hh": 0.1})]},
     'lr_for is null there, {"cell0.W_hh": 0.1} here'),
])
def test_a_run_stored_with_other_settings_is_refused(tmp_path, monkeypatch, changes, fields):
    run(store=tmp_path)
    monkeypatch.setattr(training.Trainer, "run", lambda *a: pytest.fail("trained"))
    with pytest.raises(StoreError) as info:
        run(store=tmp_path, **changes)
    message = str(info.value)
    assert message.startswith(str(tmp_path / "gru" / "seed-0.json"))
    assert fields in message and "Use another store directory" in message
    assert f"delete {tmp_path}" in message


def test_a_damaged_store_is_refused_with_the_file(tmp_path, no_training):
    folder = tmp_path / "gru"
    folder.mkdir()
    (folder / "seed-0.json").write_text('{"format": "rnnzoo-compare-run", "vers')
    with pytest.raises(StoreError, match=r"seed-0.json cannot be read as a stored run.*"
                                         r"delete it"):
        run(store=tmp_path)
    (folder / "seed-0.json").write_text('{"format": "rnnzoo-compare-run", "version": 1}')
    with pytest.raises(StoreError, match=r"field\(s\) \['fingerprint', 'diverged'"):
        run(store=tmp_path)
    (folder / "seed-0.json").write_text('{"format": "rnnzoo-compare-run", "version": 2}')
    with pytest.raises(StoreError, match="it says 'rnnzoo-compare-run' version 2"):
        run(store=tmp_path)


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    """Interrupted between writing the temporary file and renaming it: neither the
    temporary file nor a half run is left; the run is simply not stored."""
    def interrupted(src, dst):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "replace", interrupted)       # the store's rename, here only
    with pytest.raises(KeyboardInterrupt):
        run(store=tmp_path)
    assert stored_files(tmp_path) == []


def test_parameters_from_another_run_are_refused(tmp_path, monkeypatch):
    run(store=tmp_path)
    os.replace(tmp_path / "gru" / "seed-1.npz", tmp_path / "gru" / "seed-0.npz")
    monkeypatch.setattr(training.Trainer, "run", lambda *a: pytest.fail("trained"))
    with pytest.raises(StoreError, match=r"seed-0.npz is not the file its record .* was "
                                         r"written with"):
        run(store=tmp_path)
    os.remove(tmp_path / "gru" / "seed-0.npz")
    with pytest.raises(StoreError, match=r"seed-0.npz: the parameters of a finished run "
                                         r"cannot be read"):
        run(store=tmp_path)


def test_a_variant_that_is_not_plain_data_is_refused_before_training(tmp_path, no_training):
    # a rate the optimizer takes (a real number) but JSON cannot write; an invalid option
    # value such as object() is refused before this check, when compare builds the model
    odd = ex.Variant("rnn", lr_for={"cell0.W_hh": Fraction(1, 10)}, label="odd")
    with pytest.raises(StoreError, match=r"variant 'odd' cannot be stored: its description "
                                         r"must be plain data .*Fraction\(1, 10\)"):
        run(variants=[odd], store=tmp_path / "s")


def test_a_store_that_is_a_file_is_refused(tmp_path, no_training):
    path = tmp_path / "runs"
    path.write_text("not a folder")
    with pytest.raises(StoreError, match=f"store {path} exists and is not a directory"):
        run(store=path)
    with pytest.raises(StoreError, match=f"store {path / 'sub'} cannot be created or "
                                         f"written"):
        run(store=path / "sub")
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "gru").write_text("a file where a label's folder goes")
    with pytest.raises(StoreError, match="its folder .*gru\\) exists and is not a directory"):
        run(store=tmp_path / "store")


def test_a_store_that_cannot_be_written_is_refused(tmp_path, no_training):
    if os.geteuid() == 0:                   # root writes through chmod; /proc refuses root
        path = "/proc/rnnzoo-store"
        if not os.path.isdir("/proc"):
            pytest.skip("neither an unprivileged user nor /proc")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        path = str(locked / "store")
    with pytest.raises(StoreError, match="cannot be created or written"):
        run(store=path)


@pytest.mark.parametrize("store,error,match", [
    (3, ArgumentTypeError, "store must be None or a directory path"),
    (["runs"], ArgumentTypeError, "store must be None or a directory path"),
])
def test_store_of_the_wrong_type(store, error, match, no_training):
    with pytest.raises(error, match=match):
        run(store=store)


def test_labels_are_safe_and_distinct_folder_names():
    labels = ["a/b", "a%2Fb", "..", ".", ".hidden", "lstm (fair)", "CON", "nul.txt", "x ",
              "com1", "LPT1.log", "lpt9", "COM9",
              "x.", "a\\b", "a:b", "é", "relu rnn", "x" * 60]
    names = [folder_name(label) for label in labels]
    assert len(set(names)) == len(labels)
    for label, name in zip(labels, names):
        assert urllib.parse.unquote(name) == label
        assert not set(name) & set('/\\:*?"<>|') and not name.startswith(".")
        assert not name.endswith((" ", "."))
        assert name.split(".")[0].upper() not in {"CON", "NUL", "COM1", "LPT1", "LPT9", "COM9"}
    assert folder_name("lstm (fair)") == "lstm (fair)"       # readable ones stay readable
    for bad in ["", "x" * 300]:
        with pytest.raises(StoreError, match="must be 1 to 200 characters once encoded"):
            folder_name(bad)
    with pytest.raises(ArgumentTypeError, match="so it must be a str; got 3 \\(int\\)"):
        folder_name(3)


def test_labels_that_differ_only_in_case_are_refused(tmp_path, no_training):
    with pytest.raises(StoreError, match="labels 'GRU' and 'gru' differ only in case"):
        run(store=tmp_path, variants=[ex.Variant("gru", label="GRU"), ex.Variant("gru")])


def test_executor_of_the_wrong_type_or_with_workers(no_training):
    with pytest.raises(ArgumentTypeError, match="executor must be None or a concurrent."
                                                "futures.Executor"):
        run(executor="tcp://host:8786")
    with ThreadPoolExecutor(1) as pool:
        with pytest.raises(ValueError, match="give workers .* or executor .*, not both; got "
                                             "workers=2 and executor=ThreadPoolExecutor"):
            run(executor=pool, workers=2)


# ------------------------------------------------------------ progress
def test_progress_counts_the_runs_and_estimates_the_rest(capsys):
    run(progress=True)
    lines = capsys.readouterr().out.splitlines()
    assert [re.search(r"\[(\d)/4 done", line).group(1) for line in lines] == list("1234")
    assert all(re.search(r"done, about \d+ s left\]$", line) for line in lines[:-1])
    assert lines[-1].endswith("[4/4 done]")
    assert running._duration(30.2) == "30 s" and running._duration(0.01) == "1 s"
    assert running._duration(600) == "10 min" and running._duration(7200) == "2.0 h"


def test_the_estimate_divides_by_what_runs_at_once():
    class FakeClient:
        def nthreads(self):
            return {"tcp://a": 2, "tcp://b": 3}

    class DaskLike(ThreadPoolExecutor):
        _client = FakeClient()
    with ThreadPoolExecutor(3) as pool, DaskLike(1) as dask_like:
        assert running._executor_parallelism(pool) == 3
        assert running._executor_parallelism(dask_like) == 5
    progress = running._Progress(total=5, parallel=2, enabled=True)
    run_ = running.FinishedRun("x", 0, {"metric": "MSE", "eval_loss": [0.5]}, {}, None, 60.0)
    progress.trained(run_)                 # 4 left x 60 s / 2 at once = 2 min
    assert progress.done == 1


def test_rnnzoo_never_imports_dask_without_a_scheduler(tmp_path):
    code = ("import sys; from rnnzoo.__main__ import main; "
            "main(['compare', '--cells', 'gru', '--T', '4', '--steps', '1', '--hidden', '2', "
            f"'--batch-size', '2', '--n-seeds', '1', '--workers', '1', '--store', "
            f"{str(tmp_path)!r}]); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', "
            "'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


# ------------------------------------------------------------ a real Dask cluster
@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client


@pytest.mark.xdist_group("dask")
def test_a_dask_cluster_gives_the_in_process_results_bit_for_bit(dask_client, reference,
                                                                 tmp_path, capsys):
    res = run(executor=dask_client.get_executor(), store=tmp_path, progress=True)
    assert_same_runs(res, reference, seconds=False)
    assert res.workers == 2                       # the cluster's threads, for the estimate
    out = capsys.readouterr().out
    assert out.count("done") == JOBS and "[4/4 done]" in out
    reloaded = run(store=tmp_path)                # what the cluster's runs left on disk
    assert_same_runs(reloaded, res, seconds=True)


# ------------------------------------------------------------ the command line
CLI = ["compare", "--cells", "gru", "--T", "8", "--steps", "5", "--hidden", "4",
       "--batch-size", "8", "--n-seeds", "2"]


def cli(argv):
    from rnnzoo.__main__ import main
    return main(CLI + argv)


def test_the_command_resumes_from_its_store(tmp_path, capsys, monkeypatch):
    assert cli(["--workers", "1", "--store", str(tmp_path)]) == 0
    first = capsys.readouterr().out
    assert "[2/2 done]" in first
    monkeypatch.setattr(training.Trainer, "run", lambda *a: pytest.fail("trained again"))
    assert cli(["--store", str(tmp_path)]) == 0
    second = capsys.readouterr().out
    assert second.count(f"loaded from {tmp_path}") == 2 and "done" not in second
    table = [line for line in first.splitlines() if line.startswith("gru ")]
    assert table and table == [line for line in second.splitlines()
                               if line.startswith("gru ")]


def test_an_interrupted_command_says_how_to_resume(tmp_path, capsys, monkeypatch):
    interrupt_after(monkeypatch, finished=1)
    assert cli(["--workers", "1", "--store", str(tmp_path)]) == 130
    err = capsys.readouterr().err
    assert f"the finished runs are kept in {tmp_path}: run the same command again" in err
    assert stored_files(tmp_path) == ["gru/seed-0.json", "gru/seed-0.npz"]


def test_a_store_write_that_fails_mid_run_is_one_line(tmp_path, capsys, monkeypatch):
    """--store passed its check, then a write failed (a full disk): one line with the
    path, exit status 1, the finished runs kept; it was a traceback."""
    import errno
    real, calls = running._run_one, []

    def run_or_fail(job):
        calls.append(job)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "gru"))
        return real(job)
    monkeypatch.setattr(running, "_run_one", run_or_fail)
    assert cli(["--workers", "1", "--store", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"error: [Errno 28] No space left on device: '{tmp_path / 'gru'}'" in err
    assert "Traceback" not in err and "the finished runs are kept in" in err
    assert stored_files(tmp_path) == ["gru/seed-0.json", "gru/seed-0.npz"]


@pytest.mark.xdist_group("dask")
def test_the_command_runs_on_a_dask_scheduler(dask_client, tmp_path, capsys):
    address = dask_client.scheduler.address
    assert cli(["--scheduler", address, "--store", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"on the Dask cluster at {address}: 2 worker thread(s) now" in out
    assert "[2/2 done]" in out and len(stored_files(tmp_path)) == 4


def usage_error(capsys, argv):
    with pytest.raises(SystemExit) as info:
        cli(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and "error:" in err and "Traceback" not in err
    return err


def test_scheduler_with_workers_is_a_usage_error(capsys, no_training):
    err = usage_error(capsys, ["--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"])
    assert "argument --scheduler" in err and "not both" in err


def test_scheduler_without_dask_says_how_to_install_it(capsys, monkeypatch, no_training):
    monkeypatch.setitem(sys.modules, "distributed", None)     # import distributed fails
    err = usage_error(capsys, ["--scheduler", "tcp://127.0.0.1:8786"])
    assert 'pip install "dask[distributed]"' in err


def test_an_unreachable_scheduler_is_a_usage_error(capsys, monkeypatch, no_training):
    pytest.importorskip("distributed")
    from rnnzoo.cli import compare as compare_cli
    monkeypatch.setattr(compare_cli, "SCHEDULER_TIMEOUT_S", 1)
    with socket.socket() as s:                 # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    err = usage_error(capsys, ["--scheduler", f"tcp://127.0.0.1:{port}"])
    assert f"no Dask scheduler answered at 'tcp://127.0.0.1:{port}' within 1 s" in err
    err = usage_error(capsys, ["--scheduler", "nonsense"])
    assert "no Dask scheduler answered at 'nonsense'" in err


def test_a_store_that_is_a_file_is_a_usage_error(tmp_path, capsys, no_training):
    path = tmp_path / "runs"
    path.write_text("")
    err = usage_error(capsys, ["--store", str(path)])
    assert f"--store {path}: exists and is not a folder" in err


# ------------------------------------------------------------ equal numbers, one run
@pytest.mark.parametrize("stored,asked", [(1, 1.0), (1.0, 1), (np.float64(1.0), 1)],
                         ids=["int-then-float", "float-then-int", "float64-then-int"])
def test_a_run_stored_with_an_equal_number_is_loaded_not_refused(tmp_path, monkeypatch,
                                                                stored, asked):
    """Budget(lr=1, clip=1) and Budget(lr=1.0, clip=1.0) are the same runs, but the store
    compared fingerprints as JSON text ("1" against "1.0") and refused the stored ones
    as "trained differently". A pass: the rerun loads every run, trains none, and
    equals the stored comparison bit for bit."""
    first = run(store=tmp_path, budget=dataclasses.replace(TINY, lr=stored, clip=stored))
    monkeypatch.setattr(training.Trainer, "run", lambda *a: pytest.fail("trained"))
    again = run(store=tmp_path, budget=dataclasses.replace(TINY, lr=asked, clip=asked))
    assert_same_runs(again, first, seconds=True)


def test_the_store_compares_numbers_by_value_and_nothing_more():
    """Numbers by value (in dicts and lists too), NaN equal to NaN; a bool is not the
    number 1 and a string is not a number."""
    from rnnzoo.teaching.experiments.store import _differences
    assert _differences({"lr": 1, "o": {"p": [1, 2.5]}, "x": float("nan")},
                        {"lr": 1.0, "o": {"p": [1.0, 2.5]}, "x": float("nan")}) == []
    assert _differences({"a": 1, "b": 1, "c": [1, 2]}, {"a": True, "b": "1", "c": [1]}) == [
        "a is 1 there, true here", 'b is 1 there, "1" here', "c is [1, 2] there, [1] here"]
