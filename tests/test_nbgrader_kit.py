"""The course kit through real nbgrader, end to end (issue 26).

In a temporary course directory: ``python -m rnnzoo assignments COURSE --only
02b_lstm_by_hand`` writes the source tree, ``nbgrader generate_assignment`` makes the
student version, three students submit it (the answer key; a wrong forget-gate gradient;
a missing carried gradient dc), ``nbgrader autograde`` grades them, and the gradebook and
the graded notebooks must say: full marks for the first, fewer for the others, and a
traceback that names what is wrong. Notebook 02b is the assignment because autograde
executes the whole notebook and it has no training in it (about 1 s of cells; the whole
test takes about 30 s on two busy cores, most of it nbgrader and kernel start-up).
"""
import os
import pathlib
import subprocess
import sys

import pytest

nbgrader_api = pytest.importorskip("nbgrader.api")
nbformat = pytest.importorskip("nbformat")
from rnnzoo.teaching import assignments, nbgrader_kit  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
NAME = "02b_lstm_by_hand"
# the planted bugs: (student, line of the answer key, its buggy version)
BUGS = {"forget_bug": ("df * f * (1 - f),", "df * f,"),
        "carry_bug": ("(da @ params[\"W_hh\"], dc * f), grads",
                      "(da @ params[\"W_hh\"], dh * o * (1 - tc ** 2) * f), grads")}


def _run(args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}     # the kernel imports this rnnzoo
    run = subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True,
                         text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return run


def _submit(course, student, released, source, bug=None):
    """The released notebook with every code answer filled in from the source tree."""
    nb = nbformat.read(released, as_version=4)
    key = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
           if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in key:
            answer = key[grade_id]
            if bug and bug[0] in answer:
                answer = answer.replace(*bug)
            cell.source = assignments.fill_in(cell.source, answer)
    if bug:
        assert any(bug[1] in c.source for c in nb.cells), "the bug was not planted"
    path = course / "submitted" / student / NAME / f"{NAME}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)


def _failure_text(course, student, grade_id):
    graded = nbformat.read(course / "autograded" / student / NAME / f"{NAME}.ipynb", 4)
    cell = next(c for c in graded.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return "\n".join(o.get("evalue", "") for o in cell.outputs if o.output_type == "error")


def test_generate_submit_autograde(tmp_path, monkeypatch):
    # nbgrader runs the `alembic` command of its environment: put that on the PATH even
    # when the venv is not activated
    monkeypatch.setenv("PATH", f"{pathlib.Path(sys.executable).parent}{os.pathsep}"
                               f"{os.environ.get('PATH', '')}")
    course = tmp_path / "course"
    _run(["rnnzoo", "assignments", str(course), "--only", NAME], ROOT)
    assert (course / "nbgrader_config.py").exists()
    _run(["nbgrader", "generate_assignment", NAME], course)
    released = course / "release" / NAME / f"{NAME}.ipynb"
    student_text = released.read_text()
    for secret in ("BEGIN HIDDEN TESTS", "forget_bias\": 0.0", "dc * f), grads",
                   "4 * H * D + 4 * H * H"):
        assert secret not in student_text, f"{secret!r} reached the students"
    source = nbformat.read(course / "source" / NAME / f"{NAME}.ipynb", as_version=4)
    _submit(course, "correct", released, source)
    for student, bug in BUGS.items():
        _submit(course, student, released, source, bug)
    _run(["nbgrader", "autograde", NAME], course)

    gb = nbgrader_api.Gradebook(f"sqlite:///{course / 'gradebook.db'}")
    try:
        scores = {s: gb.find_submission_notebook(NAME, NAME, s) for s in ["correct", *BUGS]}
        top = scores["correct"].max_code_score
        assert top == 4                                   # 3 for the step, 1 for the count
        assert scores["correct"].code_score == top
        for student in BUGS:
            assert scores[student].code_score == top - nbgrader_kit.STEP_POINTS, student
    finally:
        gb.close()
    forget = _failure_text(course, "forget_bug", "lstm_step_forward-tests")
    assert "your LSTM forget-gate gradient (rows H:2H of W_ih) is wrong" in forget, forget
    carry = _failure_text(course, "carry_bug", "lstm_step_forward-tests")
    assert "dc_prev (the gradient carried back along c) is wrong" in carry, carry
    assert _failure_text(course, "correct", "lstm_step_forward-tests") == ""

    # the feedback a student gets back: the grades, the visible checks' messages, and
    # nothing of the hidden tests (several state the answer), not even a failed line
    _run(["nbgrader", "generate_feedback", NAME], course)
    import html
    import re
    for student in ["correct", *BUGS]:
        page = (course / "feedback" / student / NAME / f"{NAME}.html").read_text()
        text = html.unescape(re.sub(r"<[^>]+>", "", page))      # the code as it reads
        for hidden in ("BEGIN HIDDEN TESTS", "hidden_size=3, batch=1, seed=7",
                       'options={"forget_bias": 0.0}', "4 * 3 * 2 + 4 * 3 * 3 + 8 * 3"):
            assert hidden not in text, f"{hidden!r} reached {student}'s feedback"
    page = (course / "feedback" / "forget_bug" / NAME / f"{NAME}.html").read_text()
    assert "forget-gate gradient (rows H:2H of W_ih) is wrong" in page


def test_the_feedback_preprocessor_hides_a_failed_hidden_test():
    """A cell whose hidden test failed: its region leaves the source, and the traceback,
    which would show the failed line (here the answer itself), is cut to its message."""
    from rnnzoo.teaching.nbgrader_feedback import HideHiddenTests
    answer = "assert lstm_num_params(2, 3) == 4 * 3 * 2 + 4 * 3 * 3 + 8 * 3"
    cell = nbformat.v4.new_code_cell(
        "check(lstm_num_params)\n### BEGIN HIDDEN TESTS\n" + answer + "\n### END HIDDEN TESTS",
        metadata={"nbgrader": {"grade": True, "grade_id": "count-tests", "points": 1,
                               "locked": True, "solution": False, "schema_version": 3}},
        outputs=[nbformat.v4.new_output("error", ename="AssertionError", evalue="",
                                        traceback=["Cell In[3], line 3", "----> 3 " + answer,
                                                   "AssertionError: "])])
    visible = nbformat.v4.new_code_cell(
        "check(x)", outputs=[nbformat.v4.new_output(
            "error", ename="CheckFailed", evalue="x is wrong", traceback=["----> 1 check(x)",
                                                                          "CheckFailed: x is wrong"])])
    nb = nbformat.v4.new_notebook(cells=[cell, visible])
    nb, _ = HideHiddenTests().preprocess(nb, {})
    assert nb.cells[0].source == "check(lstm_num_params)"
    assert nb.cells[0].outputs[0]["traceback"] == ["AssertionError"]
    assert nb.cells[1].outputs[0]["traceback"][0] == "----> 1 check(x)"   # no hidden test
