"""The student assignments cannot drift from the solutions (issue 13).

For every solution notebook: generate the student version with `python -m rnnzoo
assignments`; every exercise cell (a code cell with a solution block) is executed on its
own, after the notebook's first (import) cell only, so this stays fast (no training):

1. in the student version every stub must fail its self-check with selfcheck.CheckFailed
   (not a NameError or any other crash: the check itself must run and say what is wrong);
2. with the solutions put back (assignments.fill_in) every check must pass;
3. the solution cell as committed (hidden tests included) must pass too.

It also checks that no solution text, hidden test or mark scheme reaches a student, and
that every notebook ends with at least three exercises that carry an answer key.
"""
import os
import pathlib
import subprocess
import sys

import pytest
import numpy as np

from rnnzoo.teaching import assignments, selfcheck

jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")
ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "notebooks").glob("[0-9]*.py"))


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("students")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "rnnzoo", "assignments", str(out)],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    return out


def _exec(setup, source):
    import matplotlib
    matplotlib.use("Agg")
    ns = {"__name__": "__exercise__"}
    exec(compile(setup, "<setup cell>", "exec"), ns)
    exec(compile(source, "<exercise cell>", "exec"), ns)


def _exercise_cells(nb):
    return [i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and assignments.BEGIN in c.source]


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_student_version_is_complete_and_keyless(src, student_dir):
    """Pass: the student notebook exists, has one cell per solution cell, and holds no
    marker, no solution line and no hidden test."""
    sol = jupytext.read(src)
    stu = nbformat.read(student_dir / f"{src.stem}.ipynb", as_version=4)
    assert len(stu.cells) == len(sol.cells)
    for i, (a, b) in enumerate(zip(sol.cells, stu.cells)):
        for marker in (assignments.BEGIN, assignments.END, assignments.BEGIN_HIDDEN,
                       assignments.BEGIN_SCHEME):
            assert marker not in b.source, f"{src.name} cell {i} leaks {marker!r}"
        for block in assignments.solution_blocks(a.source):
            for line in block[1:-1]:
                if len(line.strip()) > 12:          # a distinctive line of the answer
                    assert line not in b.source.split("\n"), \
                        f"{src.name} cell {i}: the answer line {line.strip()!r} reached the student"
        assert not b.get("outputs")


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_every_notebook_ends_with_three_exercises_with_keys(src):
    """Pass: >= 3 answer-keyed blocks after the '## Exercises' heading."""
    n = assignments.count_exercises(jupytext.read(src), src.name)
    assert n >= 3, f"{src.name} has {n} answer-keyed exercises after '## Exercises'"


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_round_trip(src, student_dir):
    """Pass: every stub fails its self-check with CheckFailed; with the solutions put
    back, and as committed (hidden tests included), every check passes."""
    sol = jupytext.read(src)
    stu = nbformat.read(student_dir / f"{src.stem}.ipynb", as_version=4)
    setup = next(c.source for c in sol.cells if c.cell_type == "code")
    assert assignments.BEGIN not in setup, "the first code cell must be setup, not an exercise"
    for i in _exercise_cells(sol):
        with pytest.raises(selfcheck.CheckFailed):
            _exec(setup, stu.cells[i].source)
        _exec(setup, assignments.fill_in(stu.cells[i].source, sol.cells[i].source))
        _exec(setup, sol.cells[i].source)
    for i, cell in enumerate(sol.cells):         # written answers: prompt <-> key
        if cell.cell_type == "markdown":
            restored = assignments.fill_in(stu.cells[i].source, cell.source)
            assert assignments.student_source(restored, "markdown") == stu.cells[i].source


def test_markers_are_checked():
    """Pass: an unpaired marker is refused with the cell named; stubs keep the def line;
    a written answer becomes the prompt and a mark scheme disappears."""
    with pytest.raises(assignments.MarkerError, match="has no"):
        assignments.student_source("### BEGIN SOLUTION\nx = 1\n", where="nb, cell 3")
    with pytest.raises(assignments.MarkerError, match="without"):
        assignments.student_source("x = 1\n### END SOLUTION\n")
    src = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
    out = assignments.student_source(src)
    assert out.startswith("def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()")
    assert assignments.fill_in(out, src) == src
    with pytest.raises(assignments.MarkerError, match="stubs"):
        assignments.fill_in(out, "x = 1")
    md = ("Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION\n"
          "=== BEGIN MARK SCHEME ===\n2 points\n=== END MARK SCHEME ===\nEnd.")
    assert assignments.student_source(md, "markdown") == "Why?\n**YOUR ANSWER HERE**\nEnd."


@pytest.mark.parametrize("argv, message", [([], "required"),
                                           (["notebooks"], "overwrite the solutions"),
                                           (["x", "--notebooks", "/nonexistent"], "not a folder")])
def test_cli_usage_errors_exit_2(argv, message, tmp_path):
    """Pass: exit status 2 and a one-line reason, no traceback."""
    argv = [str(ROOT / a) if a == "notebooks" else a for a in argv]
    run = subprocess.run([sys.executable, "-m", "rnnzoo", "assignments", *argv],
                         capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr


def test_check_close_compares_complex_values_whole():
    """A complex answer is checked in both parts, not cast to its real part."""
    want = np.array([1 + 2j, 3 - 1j])
    assert selfcheck.check_close(want.copy(), want, "z")
    with pytest.raises(selfcheck.CheckFailed, match="z is wrong"):
        selfcheck.check_close(want.real + 0j, want, "z")          # imaginary part wrong
    with pytest.raises(selfcheck.CheckFailed, match="should be real"):
        selfcheck.check_close(want, want.real, "x")               # complex where real expected
