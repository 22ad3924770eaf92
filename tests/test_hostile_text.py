"""Hostile input to the text entry points: the char-LM task (its options, its corpus,
encode / decode / bits), ``rnnzoo.sample``, and the assignments generator (library and
command line).

A pass: the bad argument is refused with its name, what was expected and what was given;
a wrong type is an ArgumentTypeError (a TypeError and a ValueError), a wrong value a
ValueError; a damaged corpus file is named; nothing is written for a refused call.
"""
import math
import pathlib
import shutil

import numpy as np
import pytest

import rnnzoo
from rnnzoo.cli.assignments import main as assignments_main
from rnnzoo.core.validation import ArgumentTypeError
from rnnzoo.teaching import assignments, nbgrader_kit
from rnnzoo.training.tasks import charlm

from .hostile import raises

SMALL = {"T": 12, "files": 2, "max_chars": 4000}


@pytest.fixture(scope="module")
def task():
    return rnnzoo.make_task("charlm", **SMALL)


@pytest.fixture(scope="module")
def model(task):
    return rnnzoo.build_model("gru", task.input_size, 6, task.output_size, readout="all")


# ------------------------------------------------------------ the char-LM task's options
@pytest.mark.parametrize("option, value, error", [
    ("T", 1, ValueError), ("T", 2.5, TypeError), ("T", "12", TypeError), ("T", True, TypeError),
    ("corpus", "web", ValueError), ("corpus", 1, TypeError), ("corpus", None, TypeError),
    ("corpus_seed", -1, ValueError), ("corpus_seed", 0.5, TypeError),
    ("files", 0, ValueError), ("files", 9, ValueError), ("files", 2.0, TypeError),
    ("max_chars", 10, ValueError), ("max_chars", math.inf, TypeError),
    ("seed", -1, ValueError), ("seed", "0", TypeError),
    ("eval_size", 0, ValueError), ("eval_size", None, TypeError)])
def test_charlm_options(option, value, error):
    """Pass: each bad option raises and the message names it ("files=9": the shipped
    corpus has eight files, and the message says so)."""
    raises(error, option.replace("_", ".") if option != "files" or value != 9 else "only 8",
           rnnzoo.make_task, "charlm", **{**SMALL, option: value})


def test_charlm_text_too_short_for_T_names_the_remedy():
    raises(ValueError, "raise max_chars or files", rnnzoo.make_task, "charlm", T=900,
           files=1, max_chars=1000)


@pytest.mark.parametrize("codes", [[1.5], [True], [[1, 2]], "abc", None, [np.nan], 3,
                                   np.array([1.0, 2.0]), {1, 2}])
def test_decode_refuses_what_is_not_a_1d_sequence_of_integers(task, codes):
    """A float code was cut to an integer, a bool decoded as code 1, a nested list was
    flattened: each silently; a pass names ``codes`` and what was given."""
    raises(ArgumentTypeError, "codes must be a 1-D sequence of integers", task.decode, codes)


@pytest.mark.parametrize("codes", [[-1], [10**6], list(range(-20, 0))])
def test_decode_refuses_codes_outside_the_vocabulary(task, codes):
    message = raises(ValueError, r"codes must be in \[0, ", task.decode, codes)
    assert str(min(codes)) in message


def test_decode_takes_lists_ranges_and_int_arrays(task):
    text = task.decode(task.encode("def f"))
    assert text == task.decode(list(task.encode("def f"))) == "def f"
    assert task.decode(np.array(task.encode("de"), dtype=np.int32)) == "de"
    assert task.decode(range(0)) == task.decode([]) == ""


@pytest.mark.parametrize("text, error, match", [(b"ab", ArgumentTypeError, "text must be a str"),
                                                (None, ArgumentTypeError, "text must be a str"),
                                                ("\x00", ValueError, "not in the charlm vocab")])
def test_encode(task, text, error, match):
    raises(error, match, task.encode, text)


@pytest.mark.parametrize("nats", ["1.0", None, True, [1, "a"]])
def test_bits_refuses_what_is_not_a_number(task, nats):
    raises(ArgumentTypeError, "nats must be a real number", task.bits, nats)


# ------------------------------------------------------------ the corpus is fixed
def test_the_default_corpus_does_not_depend_on_the_installed_python(monkeypatch, tmp_path):
    """It was read from sysconfig's stdlib, so another Python gave another corpus (and
    notebook 08 other numbers); a pass: with the stdlib moved away, the default task
    reads the same shipped text, and corpus='stdlib' is where the installed one is read."""
    before = rnnzoo.make_task("charlm", T=16)
    monkeypatch.setattr(charlm.sysconfig, "get_paths", lambda: {"stdlib": str(tmp_path)})
    after = rnnzoo.make_task("charlm", T=16)
    assert after.vocab == before.vocab and after.baseline == before.baseline
    np.testing.assert_array_equal(after.train_codes, before.train_codes)
    assert [p.name for p in after.files] == [n + ".txt" for n in sorted(charlm.SHIPPED_SHA256)]
    raises(ValueError, "has only 0 files", rnnzoo.make_task, "charlm", corpus="stdlib")


def shipped_copy(monkeypatch, tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(charlm.SHIPPED, folder)
    monkeypatch.setattr(charlm, "SHIPPED", folder)
    return folder


def test_an_altered_corpus_file_is_an_error_that_names_it(monkeypatch, tmp_path):
    folder = shipped_copy(monkeypatch, tmp_path)
    path = folder / "dis.py.txt"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))     # what autocrlf would do
    message = raises(ValueError, "SHA-256", rnnzoo.make_task, "charlm")
    assert str(path) in message and "altered" in message


def test_a_missing_corpus_file_is_an_error_that_names_it(monkeypatch, tmp_path):
    folder = shipped_copy(monkeypatch, tmp_path)
    (folder / "struct.py.txt").unlink()
    message = raises(FileNotFoundError, "cannot be read", rnnzoo.make_task, "charlm")
    assert "struct.py.txt" in message and "reinstall" in message


def test_the_shipped_corpus_matches_its_checksums_and_carries_its_license():
    for name in charlm.SHIPPED_SHA256:
        assert charlm.read_shipped(charlm.SHIPPED / (name + ".txt"))
    assert "PYTHON SOFTWARE FOUNDATION LICENSE" in (charlm.SHIPPED / "LICENSE-PSF.txt").read_text()


# ------------------------------------------------------------ rnnzoo.sample
SAMPLE_CASES = [
    ({"prime": ""}, ArgumentTypeError, "prime"), ({"prime": b"de"}, ArgumentTypeError, "prime"),
    ({"prime": None}, ArgumentTypeError, "prime"), ({"prime": "\x00"}, ValueError, "outside"),
    ({"length": -1}, ValueError, "length"), ({"length": True}, TypeError, "length"),
    ({"length": 3.0}, TypeError, "length"), ({"length": "3"}, TypeError, "length"),
    ({"temperature": 0.0}, ValueError, "temperature"),
    ({"temperature": -1.0}, ValueError, "temperature"),
    ({"temperature": math.inf}, ValueError, "temperature"),
    ({"temperature": math.nan}, ValueError, "temperature"),
    ({"temperature": "1"}, TypeError, "temperature"), ({"temperature": None}, TypeError,
                                                       "temperature"),
    ({"seed": "a"}, TypeError, "seed"), ({"seed": -1}, ValueError, "seed"),
    ({"seed": 1.5}, TypeError, "seed"),
    ({"vocab": 3}, ArgumentTypeError, "vocab"), ({"vocab": "aab"}, ArgumentTypeError, "vocab"),
    ({"vocab": "a"}, ArgumentTypeError, "vocab"), ({"vocab": ["a", "b"]}, ArgumentTypeError,
                                                   "vocab"),
    ({"vocab": "abc"}, ValueError, "input 62"),
    ({"model": "lstm"}, ArgumentTypeError, "model"), ({"model": None}, ArgumentTypeError, "model")]


@pytest.mark.parametrize("change, error, words", SAMPLE_CASES)
def test_sample_arguments(task, model, change, error, words):
    args = {"model": model, "prime": "de", "length": 5, "temperature": 1.0, "seed": 0,
            "vocab": task, **change}
    if words == "input 62":
        words = f"input {task.input_size}"
    raises(error, words, rnnzoo.sample, **args)


@pytest.mark.parametrize("readout, hidden_out", [("last", None), ("all", 5)])
def test_sample_refuses_a_model_that_does_not_predict_every_character(task, readout, hidden_out):
    m = rnnzoo.build_model("gru", task.input_size, 6, hidden_out or task.output_size,
                           readout=readout)
    raises(ValueError, "the model must read and predict", rnnzoo.sample, m, "de", 3, vocab=task)


def test_sample_names_a_model_whose_output_is_not_finite(task):
    """A diverged model (NaN weights) was NumPy's 'Probabilities contain NaN' from inside
    the generation loop."""
    m = rnnzoo.build_model("rnn", task.input_size, 4, task.output_size, readout="all")
    for p in m.params.values():
        p[...] = np.nan
    raises(ValueError, "sample: the model's output is not finite at generated character 0",
           rnnzoo.sample, m, "de", 3, vocab=task)


# ------------------------------------------------------------ the assignments generator
@pytest.mark.parametrize("fn, args, error, match", [
    (assignments.student_source, (3,), ArgumentTypeError, "source must be a cell's source"),
    (assignments.student_source, (None,), ArgumentTypeError, "source must be"),
    (assignments.student_source, ("x", "raw2"), ValueError, "cell_type must be one of"),
    (assignments.student_source, ("x", 1), ArgumentTypeError, "cell_type"),
    (assignments.solution_blocks, (b"x",), ArgumentTypeError, "source must be"),
    (assignments.fill_in, (None, "x"), ArgumentTypeError, "student must be"),
    (assignments.fill_in, ("x", 1), ArgumentTypeError, "source must be"),
    (assignments.student_notebook, ({},), ArgumentTypeError, "nb must be a notebook"),
    (assignments.student_notebook, ("nb.ipynb",), ArgumentTypeError, "nb must be a notebook"),
    (assignments.count_exercises, (None,), ArgumentTypeError, "nb must be a notebook")])
def test_assignment_functions(fn, args, error, match):
    raises(error, match, fn, *args)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"out_dir": 3}, ArgumentTypeError, "out_dir must be a folder path"),
    ({"notebooks_dir": None}, ArgumentTypeError, "notebooks_dir must be a folder path"),
    ({"notebooks_dir": "/nonexistent"}, FileNotFoundError, "is not a folder"),
    ({"verbose": "yes"}, ArgumentTypeError, "verbose"),
    ({"force": 1}, ArgumentTypeError, "force must be True or False"),
    ({"force_name": "-f"}, ValueError, "force_name must be one of 'force=True', '--force'"),
    ({"out_dir": "/proc/rnnzoo-students"}, OSError, "cannot be created"),
    ({"out_dir": "FILE"}, FileExistsError, "exists and is not a folder"),
    ({"only": "02b_lstm_by_hand"}, ArgumentTypeError, "only must be a list of notebook names"),
    ({"only": ["99_nothing"]}, ValueError, "not solution notebooks")])
def test_generate_refuses_before_writing(tmp_path, kwargs, error, match):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    kwargs = {"out_dir": tmp_path / "out", "verbose": False, **kwargs}
    if kwargs["out_dir"] == "FILE":
        kwargs["out_dir"] = a_file
    raises(error, match, nbgrader_kit.write_course, **kwargs)
    assert not (tmp_path / "out").exists() and a_file.read_text() == "x"


def test_a_course_folder_with_edited_files_is_not_overwritten(tmp_path, capsys):
    """An instructor's edits (to a notebook, or the config's course_id) were overwritten
    without a word by the next run; the same kit twice is byte for byte the same."""
    course, only = tmp_path / "course", ["--only", "02b_lstm_by_hand"]
    assert assignments_main([str(course)] + only) == 0
    files = sorted(p for p in course.rglob("*") if p.is_file())
    first = {p: p.read_bytes() for p in files}
    assert assignments_main([str(course)] + only) == 0          # a re-run: the same files
    assert {p: p.read_bytes() for p in files} == first
    config = course / "nbgrader_config.py"          # the course's own settings: kept
    config.write_text(config.read_text() + "c.CourseDirectory.course_id = 'mine'\n")
    edited = config.read_bytes()
    capsys.readouterr()
    assert assignments_main([str(course)] + only) == 0
    out = capsys.readouterr().out
    assert config.read_bytes() == edited and f"{config}: kept" in out
    assert "; --force rewrites it)" in out and "force=True" not in out   # the command's flag
    notebook = next(p for p in files if p.suffix == ".ipynb")
    notebook.write_bytes(notebook.read_bytes() + "\u00e9\n".encode("latin-1"))  # not UTF-8
    with pytest.raises(SystemExit) as info:
        assignments_main([str(course)] + only)
    err = capsys.readouterr().err
    assert info.value.code == 2 and "1 file(s)" in err and str(notebook) in err
    assert "nothing was written" in err and config.read_bytes() == edited
    assert "or give --force to overwrite them" in err and "force=True" not in err
    assert assignments_main([str(course), "--force"] + only) == 0      # even undecodable
    assert {p: p.read_bytes() for p in files} == first


def test_the_function_names_its_force_argument_not_the_commands_flag(tmp_path, capsys):
    """write_course's refusal said "give force=True (--force)", one text for the function
    and the command. A pass: called as a function, the refusal and the note on a kept
    config name force=True and not --force (the command's: the test above)."""
    course, only = tmp_path / "course", ["02b_lstm_by_hand"]
    nbgrader_kit.write_course(course, only=only, verbose=False)
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text() + "c.CourseDirectory.course_id = 'mine'\n")
    notebook = next(course.rglob("*.ipynb"))
    notebook.write_text(notebook.read_text() + "\n")
    with pytest.raises(FileExistsError) as info:
        nbgrader_kit.write_course(course, only=only)
    assert str(info.value).endswith("nothing was written. Move them away, or give "
                                    "force=True to overwrite them"), str(info.value)
    out = capsys.readouterr().out
    assert f"{config}: kept" in out and "; force=True rewrites it)" in out
    assert "--force" not in str(info.value) + out


def test_the_kit_is_utf8_whatever_the_locale(tmp_path):
    """The notebooks' σ, ∂ and ‖ exist in no legacy code page: written in the locale's
    encoding (ASCII under LC_ALL=C without UTF-8 mode, cp1252 on Windows) the kit failed."""
    import os
    import subprocess
    import sys
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    proc = subprocess.run([sys.executable, "-m", "rnnzoo", "assignments", str(tmp_path),
                           "--only", "02b_lstm_by_hand"], env=env, capture_output=True,
                          text=True, encoding="utf-8", errors="replace", timeout=300,
                          cwd=pathlib.Path(__file__).resolve().parent.parent)
    assert proc.returncode == 0, proc.stderr
    text = next(tmp_path.rglob("*.ipynb")).read_bytes().decode("utf-8")
    assert any(ord(ch) > 127 for ch in text)


@pytest.mark.parametrize("argv, words", [
    (["/proc/rnnzoo-students"], "cannot be created"), (["FILE"], "is not a folder"),
    (["OUT", "--notebooks", "/nonexistent"], "--notebooks"), ([], "outdir")])
def test_assignments_cli_usage_errors(tmp_path, capsys, argv, words):
    """Pass: exit status 2, the reason on one line, no traceback."""
    (tmp_path / "FILE").write_text("x")
    argv = [str(tmp_path / a) if a in ("FILE", "OUT") else a for a in argv]
    with pytest.raises(SystemExit) as info:
        assignments_main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and "error:" in err and "Traceback" not in err
    assert words in err, err
