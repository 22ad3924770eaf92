"""Hostile command lines: every bad flag value is an argparse usage error (exit status 2,
"error:" on stderr, no traceback), and unwritable --checkpoint / --save-plot / --out paths
are refused before training or measuring starts.

A pass: SystemExit(2), the flag or option named on stderr, and training never started.
"""
import argparse
import json
import re
import tempfile

import numpy as np
import pytest

from rnnzoo import training
from rnnzoo.__main__ import main as rnnzoo_main
from rnnzoo.benchmark import scaling
from rnnzoo.cli import bench
from rnnzoo.cli.bench import main as bench_main
from rnnzoo.cli.compare import main as compare_main
from rnnzoo.cli.train import main as train_main

# (no --eval-size: digits refuses it, and the adding problem's default costs nothing here)
BASE = ["--task", "adding", "--T", "6", "--steps", "1", "--hidden", "2", "--no-progress"]


@pytest.fixture(autouse=True)
def no_training(monkeypatch):
    """Any hostile command that got as far as training fails the test."""
    def refuse(self, steps):
        raise AssertionError("training started")
    monkeypatch.setattr(training.Trainer, "run", refuse)


def assert_usage_error(capsys, entry, argv, named):
    with pytest.raises(SystemExit) as info:
        entry(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert "error:" in err and "Traceback" not in err
    assert named in err, err
    return err


TRAIN_CASES = [
    (["--steps", "0"], "--steps"), (["--steps", "-3"], "--steps"), (["--steps", "1.5"], "--steps"),
    (["--steps", "ten"], "--steps"), (["--batch-size", "0"], "--batch-size"),
    (["--hidden", "0"], "--hidden"), (["--layers", "0"], "--layers"),
    (["--T", "0"], "--T"), (["--T", "1"], "adding problem T"), (["--lr", "nan"], "--lr"),
    (["--lr", "inf"], "--lr"), (["--lr", "-0.1"], "--lr"), (["--lr", "fast"], "--lr"),
    (["--lr", "0"], "--lr: expected a finite value > 0; got '0'"),
    (["--clip", "-1"], "--clip"), (["--clip", "nan"], "--clip"), (["--tbptt", "0"], "--tbptt"),
    (["--eval-every", "0"], "--eval-every"), (["--eval-size", "0"], "--eval-size"),
    (["--seed", "-1"], "--seed"), (["--seed", "x"], "--seed"),
    (["--dtype", "float16"], "--dtype"), (["--backend", "jax"], "--backend"),
    (["--optimizer", "nadam"], "--optimizer"), (["--task", "mnist"], "--task"),
    (["--cell", "nope"], "--cell"),
    (["--option", "nonlinearity"], "key=value"),
    (["--cell", "rnn", "--option", "nonlinearity=sigmoid"], "nonlinearity must be one of"),
    (["--cell", "rnn", "--option", "identity_init=yes"], "identity_init must be True or False"),
    (["--cell", "rnn", "--option", "identity_scale=nan"], "identity_scale must be a finite"),
    (["--cell", "lstm", "--option", "forget_bias=[1]"], "forget_bias must be a finite"),
    (["--cell", "gru", "--option", "dropout=0.1"], "unknown option"),
    (["--task", "associative", "--T", "5", "--task-option", "pairs=99"], "pairs"),
    (["--task-option", "colour=red"], "unknown option(s) ['colour']; the task takes"),
    # a key that a flag sets, as an option: the flag to use, not a collision in make_task
    (["--task-option", "T=5"], "--task-option T=5: use --T instead of --task-option"),
    (["--cell", "rnn", "--option", "nonlinearity=relu", "--option", "nonlinearity=tanh"],
     "--option nonlinearity: given twice (nonlinearity='relu', then nonlinearity='tanh')"),
    (["--task-option", "seed=3"], "--task-option seed=3: use --seed instead"),
    (["--task-option", "name=copy"], "--task-option name='copy': use --task instead"),
    (["--task-option", "eval_size=3", "--eval-size", "9"],
     "--task-option eval_size=3: use --eval-size instead"),
    (["--option", "seed=3"], "--option seed=3: use --seed instead of --option"),
    (["--option", "hidden_size=9"], "--option hidden_size=9: use --hidden instead"),
    (["--option", "dtype=float64"], "--option dtype='float64': use --dtype instead"),
    (["--option", "readout=last"], "--option readout='last': the task (--task) sets readout"),
    (["--task", "digits", "--eval-size", "7"],
     "--eval-size 7: the digits task evaluates on its test split"),
    (["--task", "digits", "--T", "63"], "T = size² = 64"),
    (["--checkpoint", "/no/such/folder/m.npz"],
     "--checkpoint /no/such/folder/m.npz: folder /no/such/folder does not exist"),
    (["--save-plot", "/no/such/folder/c.png"],
     "--save-plot /no/such/folder/c.png: folder /no/such/folder does not exist"),
    (["--save-plot", "curve.notaformat"], "--save-plot"),
    # a file where the folder should be: said so, not "does not exist"
    (["--checkpoint", f"{__file__}/m.npz"], f"{__file__} is a file, not a folder"),
    # an empty path (an unset variable in --resume "$CK") trained from scratch, or saved
    # nothing, without a word
    (["--resume", ""], "--resume: expected a path; got an empty string"),
    (["--checkpoint", ""], "--checkpoint: expected a path; got an empty string"),
    (["--save-plot", ""], "--save-plot: expected a path; got an empty string"),
    # /proc exists and os.access calls it writable for root: only trying tells
    (["--checkpoint", "/proc/m.npz"], "--checkpoint /proc/m.npz: not writable"),
    (["--save-plot", "/proc/c.png"], "--save-plot /proc/c.png: not writable"),
]


def test_counts_start_at_zero_and_positive_integers_at_one():
    """--seed 0 is a seed (COUNT); --steps 0 is not a run (POSITIVE_INT)."""
    from rnnzoo.cli.args import COUNT, POSITIVE_INT
    assert COUNT("0") == 0 and POSITIVE_INT("1") == 1
    with pytest.raises(argparse.ArgumentTypeError, match="expected a finite value >= 0; got '-1'"):
        COUNT("-1")
    with pytest.raises(argparse.ArgumentTypeError, match="expected a finite value > 0; got '0'"):
        POSITIVE_INT("0")


@pytest.mark.parametrize("argv,named", TRAIN_CASES, ids=[" ".join(a) for a, _ in TRAIN_CASES])
def test_train_flags(capsys, argv, named):
    assert_usage_error(capsys, train_main, BASE + argv, named)


@pytest.mark.parametrize("argv", [
    ["figures", "--out", ""], ["reproduce", "--out", ""], ["bench", "--out", ""],
    ["bench", "--from-json", ""], ["book", "--out", ""], ["assignments", ""],
    ["assignments", "course", "--notebooks", ""],
    ["compare", "--cells", "rnn", "--store", ""],
    ["compare", "--cells", "rnn", "--save-plot", ""]], ids=" ".join)
def test_every_path_flag_refuses_an_empty_string(capsys, argv):
    """Every command's path flag: an empty string is a usage error naming the flag, not
    the current folder or "no path"."""
    err = assert_usage_error(capsys, rnnzoo_main, argv, "expected a path; got an empty "
                                                         "string")
    assert (argv[-2] if argv[-2].startswith("--") else "outdir") in err


def test_train_on_cupy_without_a_gpu_is_a_usage_error(capsys):
    from rnnzoo import cupy_available
    if cupy_available():
        pytest.skip("CuPy finds a GPU here")
    assert_usage_error(capsys, train_main, BASE + ["--backend", "cupy"],
                       "--backend cupy: CuPy is not installed or finds no GPU")


def test_checkpoint_or_plot_path_that_is_a_directory(capsys, tmp_path):
    assert_usage_error(capsys, train_main, BASE + ["--checkpoint", str(tmp_path)], "is a directory")
    assert_usage_error(capsys, train_main, BASE + ["--save-plot", str(tmp_path)], "is a directory")


@pytest.mark.parametrize("content", ["missing", "garbage", "not-from-train",
                                     "optimizer-but-no-trainer-record"])
def test_resume_from_a_bad_file(capsys, tmp_path, content):
    path = tmp_path / "r.npz"
    if content == "garbage":
        path.write_bytes(b"not a zip")
    elif content != "missing":
        import rnnzoo
        from rnnzoo.optim import Adam
        model = rnnzoo.build_model("gru", 2, 3, 1, readout="last")
        opt = Adam(model.params) if content.startswith("optimizer") else None
        rnnzoo.save_checkpoint(path, model, opt)
    err = assert_usage_error(capsys, train_main, ["--resume", str(path), "--no-progress"],
                             str(path))
    if content not in ("missing", "garbage"):
        assert "has no optimizer state or trainer record" in err


@pytest.fixture
def checkpoint(tmp_path):
    """A checkpoint as train --checkpoint writes it (gru on adding, T=6), trained no step."""
    import rnnzoo
    from rnnzoo.tasks import make_task
    task = make_task("adding", T=6, eval_size=4)
    model = rnnzoo.build_model("gru", task.input_size, 2, task.output_size,
                               readout=task.readout)
    trainer = training.Trainer(model, task, progress=False)
    path = tmp_path / "ck.npz"
    rnnzoo.save_checkpoint(path, model, trainer.optimizer, extra=trainer.checkpoint_extra())
    return path


def test_resume_refuses_the_flags_the_checkpoint_fixes(capsys, checkpoint):
    """They used to be ignored without a word: the checkpoint's model trained on."""
    err = assert_usage_error(capsys, train_main, [
        "--resume", str(checkpoint), "--cell", "lstm", "--task", "copy", "--lr", "0.5",
        "--hidden", "50", "--dtype", "float64", "--task-option", "pairs=3", "--eval-size", "9",
        "--batch-size", "4", "--steps", "2"], f"--resume {checkpoint}: the checkpoint fixes")
    refused = err.split("error: ")[1].split(";")[0]
    assert refused.endswith("so --cell, --task, --hidden, --dtype, --task-option, --eval-size, "
                            "--lr, --batch-size would be ignored")


@pytest.mark.parametrize("typed", [["--lr", "0.01"], ["--cell", "gru"], ["--seed", "0"],
                                   ["--hid", "64"], ["--dtype=float32"], ["--T", "6"]])
def test_resume_refuses_a_fixed_flag_typed_at_its_default(capsys, checkpoint, typed):
    """--lr 0.01 is the default, but this checkpoint's run may have had another rate: the
    typed value would be ignored all the same (an abbreviated or '=' flag too)."""
    err = assert_usage_error(capsys, train_main, ["--resume", str(checkpoint), *typed],
                             f"--resume {checkpoint}: the checkpoint fixes")
    flag = {"--hid": "--hidden"}.get(typed[0].split("=")[0], typed[0].split("=")[0])
    assert f"so {flag} would be ignored" in err


def test_resume_takes_steps_evaluation_and_output_flags(checkpoint, tmp_path):
    with pytest.raises(AssertionError, match="training started"):    # got that far
        train_main(["--resume", str(checkpoint), "--steps", "2", "--eval-every", "1",
                    "--checkpoint", str(tmp_path / "next.npz"), "--save-plot",
                    str(tmp_path / "c.png"), "--no-progress"])


def test_every_train_flag_is_fixed_by_a_checkpoint_or_taken_when_resuming():
    """A flag added later is sorted into one or the other, so resuming cannot ignore it."""
    from rnnzoo.cli.train import RESUME_FIXES, RESUME_TAKES, build_parser
    flags = RESUME_TAKES.split(" (")[0].replace(" and", ",").split(", ")
    taken = [{"import": "imports"}.get(f, f) for f in
             (d.lstrip("-").replace("-", "_") for d in flags)]
    dests = {a.dest for a in build_parser()._actions} - {"help", "resume"}
    assert sorted(dests) == sorted([*RESUME_FIXES, *taken])


GRADCHECK_CASES = [(["gradcheck", "nope"], "unknown cell"), (["gradcheck", "--T", "0"], "--T"),
                   (["gradcheck", "gru", "gru"], "which repeats ['gru']"),
                   (["gradcheck", "--batch", "-1"], "--batch"),
                   (["gradcheck", "--hidden-size", "x"], "--hidden-size"),
                   (["gradcheck", "--seed", "-2"], "--seed"),
                   # a size one cell cannot take: a usage error naming the cell, not
                   # a traceback from its constructor
                   (["gradcheck", "eurnn", "--hidden-size", "1"],
                    "cell eurnn cannot be built with --input-size 3 --hidden-size 1"),
                   (["figures", "nope"], "unknown figure"), (["figures", "--seed", "-1"], "--seed"),
                   (["figures", "charlm", "charlm"], "figure names must be distinct; got "
                                                     "['charlm', 'charlm'], which repeats"),
                   (["nope"], "invalid choice")]


@pytest.mark.parametrize("argv,named", GRADCHECK_CASES,
                         ids=[" ".join(a) for a, _ in GRADCHECK_CASES])
def test_other_commands(capsys, argv, named):
    assert_usage_error(capsys, rnnzoo_main, argv, named)


def test_gradcheck_builds_every_named_cell_before_checking_any(capsys, monkeypatch):
    """Named cells at --hidden-size 1: eurnn cannot be built, and that is said before the
    cell named before it is checked, not after."""
    from rnnzoo.cli import gradcheck as gradcheck_cli

    def refuse(*args, **kwargs):
        raise AssertionError("checking started")
    monkeypatch.setattr(gradcheck_cli, "gradcheck", refuse)
    assert_usage_error(capsys, rnnzoo_main, ["gradcheck", "rnn", "eurnn", "--hidden-size", "1"],
                       "cell eurnn cannot be built")


@pytest.fixture
def checked(monkeypatch):
    """The CLI's calls of gradcheck, {cell name: kwargs}, each answered by a passing report."""
    from rnnzoo.cli import gradcheck as gradcheck_cli
    from rnnzoo.core.gradcheck_report import GradcheckReport
    calls = {}

    def record(cell, x, **kwargs):
        calls[cell.name] = kwargs
        return GradcheckReport(target=cell.name)
    monkeypatch.setattr(gradcheck_cli, "gradcheck", record)
    return calls


def test_gradcheck_of_every_cell_skips_one_that_cannot_take_the_size(capsys, checked):
    """Every registered cell at --hidden-size 1: eurnn cannot be built; it used to stop
    every other cell's check, it is now skipped with a note."""
    from rnnzoo.core.registry import available
    assert rnnzoo_main(["gradcheck", "--hidden-size", "1"]) == 0
    out = capsys.readouterr().out
    assert "skipped: cell eurnn cannot be built with --input-size 3 --hidden-size 1" in out
    assert set(checked) == set(available()) - {"eurnn"}
    assert out.rstrip().endswith(f"{len(available()) - 1} passed, 0 failed; 1 skipped: eurnn")


def test_gradcheck_of_every_cell_when_none_can_be_built_is_a_usage_error(capsys, checked,
                                                                          monkeypatch):
    from rnnzoo.cli import gradcheck as gradcheck_cli

    def refuse(name, **kwargs):
        raise ValueError(f"{name} refuses")
    monkeypatch.setattr(gradcheck_cli, "make", refuse)
    assert_usage_error(capsys, rnnzoo_main, ["gradcheck", "--hidden-size", "1"],
                       "no registered cell can be built with --input-size 3 --hidden-size 1")
    assert not checked


@pytest.mark.parametrize("error,said", [
    (MemoryError("Unable to allocate 8.00 TiB"), "out of memory (Unable to allocate 8.00 TiB)"),
    (ValueError("array is too big; `arr.size * arr.dtype.itemsize` is larger than the maximum "
                "possible size."), "out of memory (array is too big"),
])
def test_gradcheck_says_a_size_too_large_once_not_per_cell(capsys, monkeypatch, error, said):
    """What a cell's error is said as (one line, then the next cell) is not for a size the
    machine cannot hold: main() says that, as for every command."""
    from rnnzoo.cli import gradcheck as gradcheck_cli

    def too_big(*args, **kwargs):
        raise error
    monkeypatch.setattr(gradcheck_cli, "gradcheck", too_big)
    assert rnnzoo_main(["gradcheck", "rnn", "gru"]) == 1
    err = capsys.readouterr().err
    assert f"error: python -m rnnzoo gradcheck: {said}" in err
    assert "error: rnn:" not in err and "Traceback" not in err


def test_gradcheck_flags_are_gradchecks_arguments(capsys, checked):
    assert rnnzoo_main(["gradcheck", "gru", "--eps", "1e-5", "--atol", "0", "--rtol", "1e-4",
                        "--max-entries", "7", "--mode", "directional"]) == 0
    assert checked["gru"] == {"seed": 0, "eps": 1e-5, "atol": 0.0, "rtol": 1e-4,
                              "max_entries": 7, "mode": "directional"}
    assert rnnzoo_main(["gradcheck", "gru"]) == 0                  # gradcheck's defaults
    assert checked["gru"] == {"seed": 0, "eps": 1e-6, "atol": 1e-7, "rtol": 1e-5,
                              "max_entries": None, "mode": "entries"}


@pytest.mark.parametrize("argv,named", [
    (["--eps", "0"], "argument --eps: expected a finite value > 0; got '0'"),
    (["--eps", "nan"], "argument --eps"), (["--atol", "-1"], "argument --atol"),
    (["--rtol", "inf"], "argument --rtol"), (["--rtol", "x"], "argument --rtol"),
    (["--max-entries", "0"], "argument --max-entries"),
    (["--max-entries", "2.5"], "argument --max-entries"),
    (["--mode", "fast"], "argument --mode: invalid choice: 'fast'"),
])
def test_gradcheck_refuses_a_bad_flag_value(capsys, checked, argv, named):
    assert_usage_error(capsys, rnnzoo_main, ["gradcheck", "rnn", *argv], named)
    assert not checked


@pytest.mark.parametrize("argv,named", [(["--shapes", "0/2/3"], "--shapes"),
                                        (["--shapes", "1/2"], "--shapes"),
                                        (["--pairs", "0"], "--pairs"), (["--repeat", "0"], "--repeat"),
                                        (["--cells", "nope"], "--cells"),
                                        (["--cells", ","], "--cells")])
def test_bench_flags(capsys, argv, named):
    assert_usage_error(capsys, bench_main, argv + ["--no-torch"], named)


@pytest.mark.parametrize("argv,named", [
    (["--cells", "rnn,gru,rnn"], "--cells: expected distinct values; got ['rnn', 'gru', "
                                 "'rnn'], which repeats ['rnn']"),
    (["--shapes", "4/2/4", "4/2/4"], "--shapes: expected distinct values; got [(4, 2, 4), "
                                     "(4, 2, 4)], which repeats [(4, 2, 4)]"),
    (["--modes", "f", "f"], "--modes: expected distinct values; got ['f', 'f'], which repeats"),
])
def test_bench_refuses_a_repeated_cell_shape_or_mode(capsys, no_measuring, argv, named):
    """It was timed twice per pair, and its row counted twice the pairs."""
    assert_usage_error(capsys, bench_main, argv + ["--no-torch", "--no-files"], named)


# one row as `bench` measures it, for the commands below that must not measure
ROW = {"cell": "rnn", "T": 4, "B": 2, "D": 4, "H": 4, "mode": "fb", "dtype": "float32",
       "pairs": 1, "rnnzoo_ms": 1.0, "gemm_ms": 0.5, "torch_ms": None, "ratio": None,
       "vs_gemm": {"median": 2.0, "min": 2.0, "max": 2.0}}
TINY_BENCH = ["--cells", "rnn", "--shapes", "4/2/4", "--pairs", "1", "--repeat", "1",
              "--no-torch"]


@pytest.fixture
def no_measuring(monkeypatch):
    """Any bench command that got as far as measuring fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("measuring started")
    for module, name in ((bench, "fair_benchmark"), (scaling, "cost_vs_T"),
                         (scaling, "cost_vs_H")):
        monkeypatch.setattr(module, name, refuse)


BAD_BENCH_JSON = {"not JSON": "{rows: [", "{}": "{}", "a list": "[1]",
                  "rows not a list": '{"header": "", "footer": "", "rows": 3}',
                  "no rows": '{"header": "", "footer": "", "rows": []}',
                  "rows without timings": '{"header": "", "footer": "", "rows": [{"cell": '
                                          '"rnn"}]}'}


GOOD_ROW = {"cell": "rnn", "T": 4, "B": 2, "H": 4, "mode": "fb", "rnnzoo_ms": 1.5,
            "gemm_ms": 1.0, "torch_ms": None, "ratio": None,
            "vs_gemm": {"median": 1.5, "min": 1.4, "max": 1.6}}


@pytest.mark.parametrize("key, value, named", [
    ("rnnzoo_ms", "x", "rows[0].rnnzoo_ms must be a finite number of milliseconds"),
    ("rnnzoo_ms", None, "rows[0].rnnzoo_ms must be"),
    ("gemm_ms", float("inf"), "rows[0].gemm_ms must be"),
    ("torch_ms", "1", "rows[0].torch_ms must be null or a finite number"),
    ("vs_gemm", 2.0, "rows[0].vs_gemm must be null or {median, min, max}"),
    ("ratio", {"median": 1}, "rows[0].ratio must be"),
    ("T", 0, "rows[0].T must be an integer >= 1"), ("H", True, "rows[0].H must be"),
    ("cell", 3, "rows[0].cell must be a cell name"),
    ("mode", "fwd", "rows[0].mode must be one of fb, f"),
    ("header", 1, "header must be text"), ("footer", None, "footer must be text")])
def test_bench_from_json_names_a_value_of_the_wrong_kind(capsys, tmp_path, no_measuring,
                                                         key, value, named):
    """A hand-edited bench.json: each value the report reads is checked before it is read
    (a string rnnzoo_ms or a number vs_gemm gave a traceback from the table code)."""
    saved = {"header": "h", "footer": "f", "rows": [dict(GOOD_ROW)]}
    (saved if key in saved else saved["rows"][0])[key] = value
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(saved))
    assert_usage_error(capsys, bench_main, ["--from-json", str(path), "--out",
                                            str(tmp_path / "out")], named)


def test_bench_from_json_takes_the_good_row(tmp_path, capsys):
    """The row the case above spoils is itself accepted (so each case fails for its key)."""
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"header": "h", "footer": "f", "rows": [GOOD_ROW]}))
    assert bench_main(["--from-json", str(path), "--out", str(tmp_path / "out")]) == 0


@pytest.mark.parametrize("content", ["missing", "a folder", *BAD_BENCH_JSON])
def test_bench_from_a_bad_json(capsys, tmp_path, no_measuring, content):
    path = tmp_path / "bench.json"
    if content == "a folder":
        path.mkdir()
    elif content != "missing":
        path.write_text(BAD_BENCH_JSON[content])
    err = assert_usage_error(capsys, bench_main, ["--from-json", str(path), "--out",
                                                  str(tmp_path / "out")], str(path))
    assert "--from-json" in err


def _not_a_folder(tmp_path):
    (tmp_path / "file").write_text("")
    return tmp_path / "file"


BAD_OUT = {"/proc/x": lambda tmp_path: "/proc/x", "a file": _not_a_folder,
           "under a file": lambda tmp_path: _not_a_folder(tmp_path) / "speed"}


def _saved_bench_json(tmp_path):
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps({"header": "h", "footer": "f", "rows": [ROW]}))
    return str(saved)


# each command of bench with only the options it takes (it refuses the others)
BENCH_COMMANDS = {"measure": lambda tmp_path: TINY_BENCH,
                  "--scaling": lambda tmp_path: ["--scaling", "--cells", "rnn"],
                  "--from-json": lambda tmp_path: ["--from-json", _saved_bench_json(tmp_path)]}


@pytest.mark.parametrize("how", list(BENCH_COMMANDS))
@pytest.mark.parametrize("out", list(BAD_OUT))
def test_bench_out_is_checked_before_measuring(capsys, tmp_path, no_measuring, how, out):
    folder = str(BAD_OUT[out](tmp_path))
    assert_usage_error(capsys, bench_main, BENCH_COMMANDS[how](tmp_path) + ["--out", folder],
                       f"--out {folder}")


IGNORED_BY_BENCH = [
    (["--from-json", "SAVED", "--scaling"], "--scaling times the cells against T and H at "
     "its own sizes, best of 3 in one process; it does not take --from-json"),
    (["--from-json", "SAVED", "--cells", "lstm", "--shapes", "9/9/9", "--dtype", "float64",
      "--pairs", "5"], "--from-json measures nothing: it rewrites the table and chart of a "
     "saved bench.json; it does not take --cells, --shapes, --pairs, --dtype"),
    (["--scaling", "--shapes", "9/9/9", "--modes", "f"], "it does not take --shapes, --modes"),
    (["--backend", "cupy", "--pairs", "2", "--clock", "cpu"],
     "--backend cupy times on the GPU in one process (median of --repeat calls); it does not "
     "take --pairs, --clock"),
    # typed at their default values, they are ignored all the same (the saved json may
    # hold float64 rows; --scaling times its own modes)
    (["--from-json", "SAVED", "--dtype", "float32", "--pairs", "3"],
     "it does not take --pairs, --dtype"),
    (["--scaling", "--modes", "fb", "f"], "it does not take --modes"),
]


@pytest.mark.parametrize("argv,named", IGNORED_BY_BENCH,
                         ids=[" ".join(a) for a, _ in IGNORED_BY_BENCH])
def test_bench_refuses_what_it_would_ignore(capsys, tmp_path, no_measuring, argv, named):
    """--from-json, --scaling and --backend cupy each take some of the options: one that
    would be ignored (or start minutes of measuring instead) is refused, as --scan's are."""
    argv = [_saved_bench_json(tmp_path) if a == "SAVED" else a for a in argv]
    assert_usage_error(capsys, bench_main, argv + ["--out", str(tmp_path / "out")], named)


def test_bench_out_with_a_folder_where_a_file_goes(capsys, tmp_path, no_measuring):
    (tmp_path / "bench.md").mkdir()
    assert_usage_error(capsys, bench_main, TINY_BENCH + ["--out", str(tmp_path)], "bench.md")


@pytest.fixture
def no_drawing(monkeypatch):
    """Any figures command that got as far as drawing raises Drawing (a test that expects
    it to get there catches it)."""
    from rnnzoo.teaching import figures

    def refuse(*args, **kwargs):
        raise Drawing
    monkeypatch.setattr(figures, "make_figures", refuse)


class Drawing(Exception):
    pass


FIGURE = ["figures", "gradient_norm_over_time", "--quiet"]
BAD_CLAIMS_JSON = {"empty": "", "not JSON": "{", "a list": "[1]", "a figure not a list":
                   '{"gradient_norm_over_time": 3}', "a claim without a statement":
                   '{"gradient_norm_over_time": [{"passed": true}]}'}


@pytest.mark.parametrize("out", list(BAD_OUT))
def test_figures_out_is_checked_before_drawing(capsys, tmp_path, no_drawing, out):
    folder = str(BAD_OUT[out](tmp_path))
    assert_usage_error(capsys, rnnzoo_main, FIGURE + ["--out", folder], f"--out {folder}")


@pytest.mark.parametrize("name", ["claims.json", "claims.md", "gradient_norm_over_time.png"])
def test_figures_out_with_a_folder_where_a_file_goes(capsys, tmp_path, no_drawing, name):
    (tmp_path / name).mkdir()
    assert_usage_error(capsys, rnnzoo_main, FIGURE + ["--out", str(tmp_path)], name)


@pytest.mark.parametrize("content", list(BAD_CLAIMS_JSON))
def test_figures_refuse_a_claims_json_they_could_not_merge_into(capsys, tmp_path, no_drawing,
                                                               content):
    """write_claims reads OUT/claims.json after every figure is drawn: a file it cannot
    read is refused before, naming it, not a traceback that loses the claims."""
    (tmp_path / "claims.json").write_text(BAD_CLAIMS_JSON[content])
    err = assert_usage_error(capsys, rnnzoo_main, FIGURE + ["--out", str(tmp_path)],
                             str(tmp_path / "claims.json"))
    assert "is not a claims file this command wrote" in err


def test_figures_take_a_claims_json_they_wrote(tmp_path, no_drawing):
    from rnnzoo.experiments import Claim, Measurement
    from rnnzoo.teaching.figures import write_claims
    write_claims(tmp_path, {"gradient_norm_over_time": [Claim("one < two", True, {"one": 1}),
                                                        Measurement("m", {"x": 1})]})
    write_claims(tmp_path, {"charlm": []}, full=True)
    for full in ([], ["--full"]):
        with pytest.raises(Drawing):
            rnnzoo_main(FIGURE + ["--out", str(tmp_path)] + full)


def test_bench_no_files_writes_nothing_and_takes_no_out(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "fair_benchmark", lambda *a, **k: [ROW])
    assert bench_main(TINY_BENCH + ["--no-files"]) == 0
    assert "| `rnn` |" in capsys.readouterr().out
    assert_usage_error(capsys, bench_main, TINY_BENCH + ["--no-files", "--out", "/proc/x"],
                       "--no-files writes nothing; it does not take --out")


def test_bench_keeps_a_measurement_its_folder_cannot_take(capsys, tmp_path, monkeypatch):
    """--out passed the check, then became a file while measuring: the table is printed,
    the rows are kept in a temporary file, the exit status says it failed."""
    out = tmp_path / "speed"

    def measure_while_the_folder_goes(*args, **kwargs):
        out.write_text("")
        return [ROW]
    monkeypatch.setattr(bench, "fair_benchmark", measure_while_the_folder_goes)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert bench_main(TINY_BENCH + ["--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert "| `rnn` |" in captured.out
    assert "error: could not write" in captured.err and str(out) in captured.err
    assert "Traceback" not in captured.err
    kept = captured.err.split("its rows are in ")[1].split()[0]
    assert json.loads(open(kept).read())["rows"] == [ROW]


def test_divergence_in_the_cli_is_an_error_message_not_a_traceback(capsys, monkeypatch):
    monkeypatch.undo()                                      # this one trains
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rc = train_main(BASE + ["--eval-size", "4", "--cell", "rnn", "--lr", "1e200",
                                "--optimizer", "sgd",
                                "--clip", "0", "--steps", "3"])
    err = capsys.readouterr().err
    assert rc == 1 and "error: training diverged" in err and "Traceback" not in err
    # and no NumPy overflow warning printed before it (it says less than the error)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], \
        [str(w.message) for w in caught]


@pytest.mark.parametrize("argv,named", [
    (["--cells", "nope"], "unknown cell 'nope'"), (["--cells", "gru", "--lr", "inf"], "--lr"),
    (["--cells", "gru", "--lr", "nan"], "--lr"), (["--cells", "gru", "--clip", "nan"], "--clip"),
    (["--cells", "gru", "--clip", "-1"], "--clip"), (["--cells", "gru", "--seeds", "0"], "--seeds"),
    # seeds from the shell: an explicit list of distinct seeds, or a start and a count
    (["--cells", "gru", "--seeds", "3"], "--seeds: expected two or more distinct seeds"),
    (["--cells", "gru", "--seeds", "3"], "write --n-seeds 3; for the one seed 3, --seed-start"),
    (["--cells", "gru", "--seeds", "10", "11", "10"], "which repeats [10]"),
    (["--cells", "gru", "--seeds", "1", "-2"], "--seeds"),
    (["--cells", "gru", "--seeds", "1", "x"], "--seeds"),
    (["--cells", "gru", "--seeds", "1.5", "2"], "--seeds"),
    (["--cells", "gru", "--seeds"], "--seeds"),
    (["--cells", "gru", "--seeds", "10", "11", "--n-seeds", "2"], "not both"),
    (["--cells", "gru", "--seeds", "10", "11", "--seed-start", "3"], "not both"),
    (["--cells", "gru", "--n-seeds", "0"], "--n-seeds"),
    (["--cells", "gru", "--n-seeds", "two"], "--n-seeds"),
    (["--cells", "gru", "--seed-start", "-1"], "--seed-start"),
    (["--cells", "gru", "--seed-start", "1e3"], "--seed-start"),
    (["--cells", "gru", "--save-plot", "/no/such/folder/c.png"], "--save-plot"),
    (["--cells", "gru", "--save-plot", "c.pdf"], "--save-plot"),
    # one value given two ways: the last won without a word (the label showed both)
    (["--cells", "gru", "--T", "6", "--task-option", "T=9"],
     "--task-option T=9: --T 6 sets T too"),
    (["--cells", "gru", "--task-option", "T=5", "--task-option", "T=6"],
     "--task-option T: given twice (T=5, then T=6)"),
    (["--cells", "rnn:nonlinearity=relu,nonlinearity=tanh"],
     "rnn:nonlinearity=relu,nonlinearity=tanh nonlinearity: given twice "
     "(nonlinearity='relu', then nonlinearity='tanh')"),
    # a separator with nothing after it: options or a label were meant
    (["--cells", "rnn:"], "expected options after ':' in 'rnn:'"),
    (["--cells", "rnn@"], "expected a label after '@' in 'rnn@'"),
])
def test_compare_flags(capsys, argv, named):
    assert_usage_error(capsys, compare_main, argv, named)


@pytest.mark.parametrize("stop", ["a full disk", "Ctrl-C"])
def test_figures_stopped_mid_run_keep_what_was_drawn(capsys, tmp_path, monkeypatch, stop):
    """A write that fails after --out passed its check (a full disk), or Ctrl-C, in the
    second figure: one line, no traceback, and the first figure's claims are written (they
    were only written after the last figure before)."""
    import errno

    from rnnzoo.teaching import figures
    from rnnzoo.teaching.figures.core import check

    def first(out_dir, full=False, seed=0):
        check("one is less than two", 1 < 2)
        return f"{out_dir}/first.png"

    def second(out_dir, full=False, seed=0):
        if stop == "Ctrl-C":
            raise KeyboardInterrupt
        raise OSError(errno.ENOSPC, "No space left on device", f"{out_dir}/second.png")
    monkeypatch.setitem(figures.FIGURES, "gradient_norm_over_time", first)
    monkeypatch.setitem(figures.FIGURES, "jacobian_singular_values", second)
    code = rnnzoo_main(["figures", "gradient_norm_over_time", "jacobian_singular_values",
                        "--quiet", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == (130 if stop == "Ctrl-C" else 1) and "Traceback" not in err
    if stop == "a full disk":
        assert f"error: [Errno 28] No space left on device: '{tmp_path}/second.png'" in err
    assert f"the figures drawn before it, and their claims, are written in {tmp_path}" in err
    data = json.loads((tmp_path / "claims.json").read_text())
    assert list(data) == ["gradient_norm_over_time"]
    assert [c["statement"] for c in data["gradient_norm_over_time"]] == ["one is less than two"]


@pytest.mark.parametrize("cells,timed_against_H", [(None, list(scaling.H_CELLS)),
                                                   ("rnn,gru", ["rnn", "gru"])])
def test_bench_scaling_times_the_cells_named_in_both_parts(capsys, monkeypatch, cells,
                                                           timed_against_H):
    """--cells narrowed only the cost against T; the part against H timed its five cells
    whatever was named."""
    seen = {}

    def cost(part):
        def record(names=None, **kwargs):
            seen[part] = names
            return {}
        return record
    monkeypatch.setattr(scaling, "cost_vs_T", cost("T"))
    monkeypatch.setattr(scaling, "cost_vs_H", cost("H"))
    argv = ["--scaling", "--no-files"] + ([] if cells is None else ["--cells", cells])
    assert bench_main(argv) == 0
    from rnnzoo.core.registry import available
    assert seen["T"] == (available() if cells is None else cells.split(","))
    names = list(scaling.H_CELLS) if seen["H"] is None else seen["H"]
    assert names == timed_against_H


OWN_CELLS = '''
import rnnzoo

@rnnzoo.register("own_cli_cell")
class OwnCliCell(rnnzoo.get_cell_class("rnn")):
    """rnnzoo's Elman RNN under a name of its own, from a module of the user's."""
'''


@pytest.fixture
def own_cells(tmp_path, monkeypatch):
    """A module of one's own that registers a cell, importable as own_cli_cells."""
    import sys
    from rnnzoo.core import registry
    (tmp_path / "own_cli_cells.py").write_text(OWN_CELLS)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    registry._CELLS.pop("own_cli_cell", None)
    sys.modules.pop("own_cli_cells", None)


SMALL = ["--task", "adding", "--T", "6", "--steps", "1", "--hidden", "2"]


def gradcheck_main(argv):
    return rnnzoo_main(["gradcheck", *argv])


@pytest.mark.parametrize("entry,argv,named", [
    (train_main, ["--cell", "own_cli_cell", *SMALL, "--no-progress"],
     "argument --cell: invalid choice: 'own_cli_cell'"),
    (compare_main, ["--cells", "own_cli_cell", *SMALL, "--workers", "1"],
     "unknown cell 'own_cli_cell'; available: .* --import the module that registers it"),
    (gradcheck_main, ["own_cli_cell", "--T", "3"],
     r"unknown cell\(s\) \['own_cli_cell'\]; .*--import the module that registers it"),
])
def test_an_own_cell_is_known_after_import_and_not_before(capsys, own_cells, entry, argv,
                                                          named):
    """--import MODULE registers the module's cells before their names are read; without
    it, the unknown name is a usage error that says how. (Training is the fixture's stop:
    train and compare got that far with the cell.)"""
    import re
    with pytest.raises(SystemExit) as info:
        entry(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and re.search(named, err), err
    if entry is gradcheck_main:
        assert entry([*argv, "--import", "own_cli_cells"]) == 0
        assert "1 passed, 0 failed" in capsys.readouterr().out
    else:
        with pytest.raises(AssertionError, match="training started"):
            entry([*argv, "--import", "own_cli_cells"])


BROKEN_CELLS = '''
import numpy as np
import rnnzoo

Elman = rnnzoo.get_cell_class("rnn")

@rnnzoo.register("own_raises")
class Raises(Elman):
    """Its step backward multiplies by a matrix of the wrong size."""
    def step_backward(self, t, dstate, cache, work):
        return (dstate[0] @ np.ones((3, 3)),)

@rnnzoo.register("own_no_cache")
class NoCache(Elman):
    """Its _forward forgets the cache: off the contract."""
    def _forward(self, x, state0):
        return super()._forward(x, state0)[:2]

@rnnzoo.register("own_fine")
class Fine(Elman):
    """Correct."""
'''


def test_gradcheck_says_a_cells_error_and_goes_on_with_the_others(capsys, tmp_path,
                                                                  monkeypatch):
    """A mistake in one's own cell (a NumPy error in its backward, a forward off the
    contract) was a traceback that stopped every other check; now one line each, the
    other cells checked, exit status 1."""
    import sys
    from rnnzoo.core import registry
    (tmp_path / "own_broken_cells.py").write_text(BROKEN_CELLS)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        status = gradcheck_main(["own_raises", "own_no_cache", "own_fine", "--hidden-size",
                                 "4", "--import", "own_broken_cells"])
    finally:
        for name in ("own_raises", "own_no_cache", "own_fine"):
            registry._CELLS.pop(name, None)
        sys.modules.pop("own_broken_cells", None)
    out, err = capsys.readouterr()
    assert status == 1 and "Traceback" not in out + err
    assert re.search(r"error: own_raises: ValueError: matmul: .* \(in step_backward, "
                     r".*own_broken_cells.py, line 11\)", err), err
    assert re.search(r"error: own_no_cache: NoCache\('own_no_cache'\).forward: _forward\(x, "
                     r"state0\) must return \(hs, state_T, cache\)", err), err
    assert "gradcheck own_fine" in out
    assert "1 passed, 2 failed: own_raises, own_no_cache" in out


@pytest.mark.parametrize("module,named", [
    ("no_such_module_here", "argument --import no_such_module_here: No module named "
                            "'no_such_module_here' (a module of your own is found in the "
                            "current folder or on PYTHONPATH)"),
    ("", "argument --import: expected a module name; got ''"),
])
@pytest.mark.parametrize("entry,argv", [(train_main, SMALL),
                                        (compare_main, ["--cells", "rnn", *SMALL]),
                                        (gradcheck_main, ["rnn"])])
def test_an_import_that_fails_is_a_usage_error(capsys, entry, argv, module, named):
    assert_usage_error(capsys, entry, [*argv, "--import", module], named)


@pytest.mark.parametrize("help_flag", ["-h", "--help"])
@pytest.mark.parametrize("entry,argv", [(train_main, SMALL),
                                        (compare_main, ["--cells", "rnn", *SMALL]),
                                        (gradcheck_main, ["rnn"])])
def test_help_beside_an_import_that_fails_is_the_help(capsys, entry, argv, help_flag):
    """-h asks for the help: a --import that fails does not replace it with its error
    (the error comes when the command is run without -h, above)."""
    with pytest.raises(SystemExit) as info:
        entry([*argv, "--import", "no_such_module_here", help_flag])
    out, err = capsys.readouterr()
    assert info.value.code == 0 and "usage:" in out and "--import MODULE" in out, (out, err)
    assert "no_such_module_here" not in out + err


@pytest.mark.parametrize("source,named", [
    ("def broken(:\n", r"argument --import own_broken: invalid syntax at .*own_broken.py, line 1"),
    ("import rnnzoo\n@rnnzoo.register('rnn')\nclass Taken(rnnzoo.get_cell_class('gru')):\n"
     "    pass\n", r"argument --import own_broken: importing it raised ValueError: a cell named "
                  r"'rnn' is already registered"),
    ("import not_installed_anywhere_xyz\n", r"argument --import own_broken: importing it "
                                            r"raised ModuleNotFoundError\(\"No module named "
                                            r"'not_installed_anywhere_xyz'\"\)"),
])
def test_a_module_whose_import_fails_is_a_usage_error_naming_why(capsys, tmp_path, monkeypatch,
                                                                  source, named):
    """Its own code failing (a syntax error, a name already taken, a package it needs and
    lacks) was a traceback; the missing package was blamed on the module's folder."""
    import re
    import sys
    (tmp_path / "own_broken.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "own_broken", raising=False)
    with pytest.raises(SystemExit) as info:
        gradcheck_main(["rnn", "--import", "own_broken"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and re.search(named, err) and "Traceback" not in err, err
    assert "PYTHONPATH" not in err


@pytest.fixture
def odd_paths(tmp_path):
    """A file, a link to a missing file and a link to a missing folder, in tmp_path."""
    (tmp_path / "file").write_text("x")
    (tmp_path / "dangling.png").symlink_to(tmp_path / "nowhere" / "x.png")
    (tmp_path / "dlink").symlink_to(tmp_path / "nowhere" / "sub")
    return tmp_path


@pytest.mark.parametrize("flag", ["--checkpoint", "--save-plot"])
@pytest.mark.parametrize("path,named", [
    # os.path.abspath made these look fine; the write after training failed on them
    ("missing/../x.png", "folder {d}/missing/.. does not exist"),
    ("file/../x.png", "{d}/file is a file, not a folder"),
    ("new.png/", "ends with /, which names a folder; give a file name"),
    ("dlink/x.png", "{d}/dlink is a link to {d}/nowhere/sub, which does not exist"),
])
def test_train_output_paths_are_checked_as_the_system_opens_them(capsys, odd_paths, flag,
                                                                 path, named):
    d = str(odd_paths)
    assert_usage_error(capsys, train_main, BASE + [flag, f"{d}/{path}"], named.format(d=d))


def test_a_link_to_nothing_is_refused_where_the_writer_would_follow_it(capsys, odd_paths):
    """savefig opens the link (and fails on its missing folder); save_checkpoint renames a
    temporary file over the link itself, so --checkpoint takes it."""
    d = str(odd_paths)
    assert_usage_error(capsys, train_main, BASE + ["--save-plot", f"{d}/dangling.png"],
                       f"{d}/dangling.png is a link to {d}/nowhere/x.png, which does not exist")
    with pytest.raises(AssertionError, match="training started"):     # past every check
        train_main(BASE + ["--checkpoint", f"{d}/dangling.png"])


@pytest.mark.parametrize("out,named", [
    ("file", "{d}/file: exists and is not a folder"),
    ("file/../o2", "{d}/file is not a folder"),
    ("dlink", "{d}/dlink is a link to {d}/nowhere/sub, which does not exist"),
    ("dlink/deeper", "{d}/dlink is a link to"),
])
def test_figures_out_is_checked_as_the_system_opens_it(capsys, odd_paths, no_drawing, out,
                                                       named):
    d = str(odd_paths)
    assert_usage_error(capsys, rnnzoo_main, FIGURE + ["--out", f"{d}/{out}"], named.format(d=d))


def test_train_save_plot_needs_an_extension_and_its_own_file(capsys, tmp_path):
    """matplotlib wrote plot.png where --save-plot said plot; one file for both outputs
    was the plot over the trained model."""
    for name in ("plot", "plot."):
        assert_usage_error(capsys, train_main, BASE + ["--save-plot", str(tmp_path / name)],
                           f"give the file's extension (e.g. {tmp_path / 'plot'}.png)")
    same = str(tmp_path / "same.png")
    assert_usage_error(capsys, train_main, BASE + ["--checkpoint", same, "--save-plot", same],
                       "--checkpoint and --save-plot name the same file")


def test_compare_cells_take_list_values_and_a_failed_plot_write_is_one_line(
        capsys, tmp_path, monkeypatch):
    from rnnzoo.cli.compare import parse_variant
    assert parse_variant("clockwork:periods=[1,2],modules=2")[1] == {"periods": [1, 2],
                                                                      "modules": 2}
    assert parse_variant('s6:selective=["delta","B"]@sel') == ("s6", {"selective":
                                                                      ["delta", "B"]}, "sel")
    monkeypatch.undo()                                   # this one trains (two tiny steps)
    import matplotlib.figure

    def full_disk(self, *args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full_disk)
    rc = compare_main(["--cells", "rnn", "--T", "4", "--steps", "2", "--hidden", "2",
                       "--n-seeds", "1", "--workers", "1", "--save-plot",
                       str(tmp_path / "c.png")])
    captured = capsys.readouterr()
    assert rc == 1 and "Traceback" not in captured.err
    assert f"error: could not write the plot {tmp_path / 'c.png'}" in captured.err
    assert "rnn" in captured.out                          # the table is kept


@pytest.mark.parametrize("argv", [["compare", "--cells", "gru", "--scheduler", ""],
                                  ["reproduce", "indrnn_adding", "--scheduler", " "]])
def test_an_empty_scheduler_address_is_refused(capsys, argv):
    assert_usage_error(capsys, rnnzoo_main, argv, "expected a Dask scheduler's address")


def test_reproduce_refuses_a_repeated_name(capsys, tmp_path):
    assert_usage_error(capsys, rnnzoo_main, ["reproduce", "indrnn_adding", "indrnn_adding",
                                             "--out", str(tmp_path)],
                       "expected distinct reproductions")


def test_bench_refuses_a_shape_a_cell_cannot_take_before_measuring(capsys, monkeypatch):
    from rnnzoo.benchmark import fair
    monkeypatch.setattr(fair, "run_worker", lambda *a, **k: pytest.fail("measuring started"))
    assert_usage_error(capsys, bench_main, ["--cells", "rnn,eurnn", "--shapes", "2/1/1",
                                            "--no-files", "--no-torch"],
                       "--shapes: fair_benchmark: eurnn cannot be timed at H = 1")


def test_a_failed_worker_is_named_by_its_last_line():
    """run_worker's message: the cell, the shape and the worker's exception, not its
    traceback (this one really runs a worker, on a size eurnn refuses)."""
    from rnnzoo.benchmark import fair
    spec = {"lib": "rnnzoo", "cell": "eurnn", "T": 2, "B": 1, "D": 1, "H": 1, "mode": "f",
            "dtype": "float32", "repeat": 1, "clock": "wall"}
    with pytest.raises(RuntimeError) as info:
        fair.run_worker(spec, timeout=120)
    message = str(info.value)
    assert message.startswith("the benchmark worker timing rnnzoo eurnn at T/B/H = 2/1/1 "
                              "(f) failed: ValueError: EURNN('eurnn'): eurnn needs "
                              "hidden_size >= 2")
    assert "Traceback" not in message and "\n" not in message


def test_bench_a_worker_that_fails_is_one_error_line(capsys, monkeypatch):
    from rnnzoo.benchmark import fair

    def fails(*args, **kwargs):
        raise RuntimeError("the benchmark worker timing rnnzoo rnn at T/B/H = 4/2/4 (fb) "
                           "failed: MemoryError")
    monkeypatch.setattr(fair, "run_worker", fails)
    assert bench_main(TINY_BENCH + ["--no-files"]) == 1
    err = capsys.readouterr().err
    assert "error: the benchmark worker timing rnnzoo rnn" in err and "Traceback" not in err


def test_out_of_memory_is_one_error_line_naming_the_sizes(capsys, monkeypatch):
    from rnnzoo.cli import train

    def too_big(args):
        raise MemoryError("Unable to allocate 21.8 TiB")
    monkeypatch.setattr(train, "setup", too_big)
    assert rnnzoo_main(["train"] + BASE) == 1
    err = capsys.readouterr().err
    assert "error: python -m rnnzoo train: out of memory (Unable to allocate 21.8 TiB)" in err
    assert "too large for this machine" in err and "Traceback" not in err


def test_sizes_past_any_address_space_are_one_error_line(capsys):
    """Past 64 bits argparse refuses the flag; below that, a size no machine can address
    is NumPy's ValueError ("array is too big"), said as the out-of-memory line."""
    huge = "10000000000000000000"
    for argv, flag in ((["gradcheck", "rnn", "--T", huge], "--T"),
                       (["train"] + BASE + ["--eval-size", huge], "--eval-size")):
        with pytest.raises(SystemExit):
            rnnzoo_main(argv)
        err = capsys.readouterr().err
        assert (f"argument {flag}: expected an integer at most 9223372036854775807 (64 bits); "
                f"got '{huge}'") in err
    assert rnnzoo_main(["gradcheck", "rnn", "--T", str(2 ** 62)]) == 1
    err = capsys.readouterr().err
    assert "error: python -m rnnzoo gradcheck: out of memory (array is too big" in err
    assert "Traceback" not in err


def test_only_numpys_too_big_is_said_as_out_of_memory(monkeypatch):
    """Any other ValueError from inside a command is not dressed up as a size problem."""
    import rnnzoo.cli

    def broken(argv):
        raise ValueError("something else went wrong")
    monkeypatch.setattr(rnnzoo.cli, "_dispatch", broken)
    with pytest.raises(ValueError, match="something else went wrong"):
        rnnzoo_main(["train"] + BASE)


def test_task_options_and_digits_splits_are_named(capsys):
    assert_usage_error(capsys, train_main, BASE + ["--task-option", "bogus=1"],
                       "make_task('adding'): unknown option(s) ['bogus']; the task takes T, "
                       "layout, seed, eval_size")
    from rnnzoo.tasks import make_task
    with pytest.raises(ValueError, match=r"test_fraction=0.99 leaves no training example "
                                         r"of digit\(s\)"):
        make_task("digits", test_fraction=0.99)


def test_a_relative_out_folder_that_does_not_exist_yet_is_taken(tmp_path, monkeypatch,
                                                                no_drawing):
    """Its nearest existing folder is the current one (the path has no folder part)."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Drawing):
        rnnzoo_main(FIGURE + ["--out", "fresh"])
    with pytest.raises(Drawing):
        rnnzoo_main(FIGURE + ["--out", "fresh/deeper"])


@pytest.mark.parametrize("argv,named", [
    (["figures", "--list", "bogus"], "--list prints the figures' names and draws nothing"),
    (["reproduce", "--list", "indrnn_adding"], "--list prints the reproductions and runs none"),
    (["reproduce", "--list", "--all"], "runs none; got --all too"),
    # what would only matter to a drawing run, as book --only list refuses --out
    (["figures", "--list", "--full", "--seed", "5"], "draws nothing; got --full, --seed too"),
    (["figures", "--list", "--out", "elsewhere"], "draws nothing; got --out too"),
    (["assignments", "kit", "--only", "02b_lstm_by_hand", "02b_lstm_by_hand"],
     "--only: expected distinct notebooks")])
def test_list_takes_no_names(capsys, argv, named):
    assert_usage_error(capsys, rnnzoo_main, argv, named)
