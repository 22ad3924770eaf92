"""The course kit cannot drift from the solutions (issues 13 and 26).

`python -m rnnzoo assignments` writes an nbgrader source tree; for every solution notebook:

1. every graded cell has nbgrader metadata (grade id, points), every code exercise is an
   answer cell followed by a locked autograder tests cell that holds the hidden tests;
2. the student version (what nbgrader's markers leave) holds no answer and no hidden test;
3. each answer cell is executed with its tests cell, after the notebook's first (import)
   cell only, so this stays fast (no training): the student's stub fails its self-check
   with selfcheck.CheckFailed (the check itself runs and says what is wrong), and with
   the solution put back (assignments.fill_in) the self-check and hidden tests pass.

tests/test_nbgrader_kit.py runs real nbgrader on one assignment.
"""
import os
import re
import pathlib
import subprocess
import sys

import pytest
import numpy as np

from rnnzoo.core.validation import ArgumentTypeError, describe
from rnnzoo.teaching import assignments, selfcheck

jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")
ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "notebooks").glob("[0-9]*.py"))


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    out = tmp_path_factory.mktemp("course")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "rnnzoo", "assignments", str(out)],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "c.CourseDirectory.course_id" in (out / "nbgrader_config.py").read_text()
    return out


def _source(course, src):
    return nbformat.read(course / "source" / src.stem / f"{src.stem}.ipynb", as_version=4)


def _grading(cell):
    return cell.metadata.get("nbgrader", {})


def _exec(setup, *sources):
    import matplotlib
    matplotlib.use("Agg")
    ns = {"__name__": "__exercise__"}
    exec(compile(setup, "<setup cell>", "exec"), ns)
    for source in sources:
        exec(compile(source, "<exercise cell>", "exec"), ns)


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_source_tree_has_nbgrader_metadata(src, course):
    """Pass: every answer block sits in a solution cell; every code answer cell is
    followed by a locked grade cell with points; hidden tests only in grade cells; grade
    ids unique; the points table lists every graded cell."""
    nb = _source(course, src)
    ids = [_grading(c)["grade_id"] for c in nb.cells if _grading(c)]
    assert len(ids) == len(set(ids)), f"{src.name}: duplicate grade ids"
    graded = []
    for i, cell in enumerate(nb.cells):
        meta = _grading(cell)
        if assignments.BEGIN in cell.source:
            assert meta.get("solution"), f"{src.name} cell {i}: an answer outside a solution cell"
        if assignments.BEGIN_HIDDEN in cell.source:
            assert meta.get("grade") and meta.get("locked"), f"{src.name} cell {i}"
        if meta.get("solution") and cell.cell_type == "code":
            tests = _grading(nb.cells[i + 1])
            assert tests.get("grade") and tests.get("locked") and tests["points"] > 0
            assert f"({tests['points']} point(s))" in nb.cells[i + 1].source
        if meta.get("grade"):
            assert meta["points"] > 0
            graded.append(meta["grade_id"])
    table = next(c.source for c in nb.cells if _grading(c).get("grade_id") == "points-table")
    assert all(f"`{g}`" in table for g in graded)


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_student_version_is_keyless(src, course):
    """Pass: the student version holds no marker, no solution line and no hidden test."""
    sol = _source(course, src)
    stu = assignments.student_notebook(sol, src.name)
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
def test_round_trip(src, course):
    """Pass: every stub fails its self-check with CheckFailed; with the solutions put
    back, the self-check and the hidden tests pass."""
    sol = _source(course, src)
    stu = assignments.student_notebook(sol, src.name)
    setup = next(c.source for c in sol.cells if c.cell_type == "code")
    assert assignments.BEGIN not in setup, "the first code cell must be setup, not an exercise"
    answers = [i for i, c in enumerate(sol.cells)
               if c.cell_type == "code" and _grading(c).get("solution")]
    assert answers, f"{src.name} has no code exercise"
    for i in answers:
        tests_student, tests_grader = stu.cells[i + 1].source, sol.cells[i + 1].source
        with pytest.raises(selfcheck.CheckFailed):
            _exec(setup, stu.cells[i].source, tests_student)
        _exec(setup, assignments.fill_in(stu.cells[i].source, sol.cells[i].source),
              tests_grader)
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
                                           (["x", "--notebooks", "/nonexistent"], "not a folder"),
                                           (["x", "--only", "99_none"], "not solution notebooks")])
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


def test_check_close_does_not_show_the_expected_value():
    """Pass: a wrong count says too large/too small and the error's order, never the answer."""
    with pytest.raises(selfcheck.CheckFailed) as info:
        selfcheck.check_close(10, 12, "rnn_num_params(1, 1)")
    assert "too small" in str(info.value) and "12" not in str(info.value)


def _lstm_exercise():
    nb = jupytext.read(ROOT / "notebooks" / "02b_lstm_by_hand.py")
    return (next(c.source for c in nb.cells if c.cell_type == "code"),
            next(c.source for c in nb.cells if "def lstm_step_backward" in c.source))


@pytest.mark.parametrize("right, wrong, message", [
    ("df * f * (1 - f),", "df * f,",
     "your LSTM forget-gate gradient (rows H:2H of W_ih) is wrong; the other gates' are right"),
    ("do * o * (1 - o)], axis=1)", "do * o], axis=1)",
     "your LSTM output-gate gradient (rows 3H:4H of W_ih)"),
    ("dc * f), grads", "dh * o * (1 - tc ** 2) * f), grads",
     "step_backward's dc_prev (the gradient carried back along c) is wrong"),
    # the arriving dc dropped: every gate but o is wrong, and the check says why
    ("dc = dc + dh * o * (1 - tc ** 2)", "dc = dh * o * (1 - tc ** 2)",
     "step_backward ignores the gradient carried back into the state component 'c'"),
    ("dc = dc + dh * o * (1 - tc ** 2)", "dc = dc + dh * o * (1 - tc)",
     "gradients of the input, forget, cell gates are wrong (first: rows 0:H of W_ih): look "
     "at a term they share"),
    ('"W_hh": da.T @ h_prev', '"W_hh": 2 * da.T @ h_prev',
     "your LSTM gradient of W_hh is wrong in the rows of the input, forget, cell, output "
     "gates, and every other parameter's rows are right")])
def test_check_step_names_the_wrong_gate_or_carried_gradient(right, wrong, message):
    """Pass: a planted bug in the LSTM step's backward is named by gate (rows of W_ih), by
    parameter or by carried gradient, not only by an index of dx."""
    setup, exercise = _lstm_exercise()
    assert right in exercise
    with pytest.raises(selfcheck.CheckFailed, match=message.replace("(", r"\(")
                       .replace(")", r"\)")):
        _exec(setup, exercise.replace(right, wrong))


def test_split_exercise_and_mark_schemes():
    """Pass: a code exercise splits after the rest of its last def; a cell without its
    check is refused; a mark scheme after an answer joins that answer's solution region."""
    from rnnzoo.teaching import nbgrader_kit
    src = ("def f(x):\n    ### BEGIN SOLUTION\n    y = 2 * x\n    ### END SOLUTION\n"
           "    return y\n\n\nassert f(1) == 2")
    answer, tests = nbgrader_kit.split_exercise(src)
    assert answer.endswith("    return y") and tests == "assert f(1) == 2"
    with pytest.raises(assignments.MarkerError, match="self-check"):
        nbgrader_kit.split_exercise(src.rsplit("\n", 1)[0])
    md = ("1. Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION\n"
          "=== BEGIN MARK SCHEME ===\n2 points\n=== END MARK SCHEME ===\n2. Next.")
    parts = nbgrader_kit._split_written(md, "nb")
    assert parts == [("text", "1. Why?"), ("answer", "### BEGIN SOLUTION\nBecause.\n"
                     "*Mark scheme:*\n2 points\n### END SOLUTION"), ("text", "2. Next.")]


def _twin_steps(name, drop_carried=False):
    """The textbook twin's readout step pair in the student's form (a one-component state
    as a bare array), optionally with the bug of ignoring the carried gradient."""
    from rnnzoo import make, reference  # noqa: F401  (registers the twins)
    from rnnzoo.reference import delta_rule, s4d
    pairs = {"deltanet": (delta_rule.step_forward, delta_rule.step_backward),
             "s4d": (s4d.s4d_step_forward, s4d.s4d_step_backward)}
    forward, backward = pairs[name]
    options = reference.get(name).options_of(make(name, 3, 4))
    as_tuple = lambda s: s if isinstance(s, tuple) else (s,)  # noqa: E731

    def step_forward(x, state, params):
        return forward(x, as_tuple(state), params, **options)

    def step_backward(dy, dstate, cache):
        dstate = as_tuple(dstate)
        if drop_carried:
            dstate = tuple(np.zeros_like(d) for d in dstate)
        return backward(dy, dstate, cache)
    return step_forward, step_backward


@pytest.mark.parametrize("name, state", [("deltanet", "S"), ("s4d", "x")])
def test_check_step_takes_readout_pairs_and_names_a_dropped_carried_gradient(name, state):
    """Pass: a cell whose output is read out of its state (y_t = S_t q or 2 Re C x_t) is
    checked with the readout pair (state, y, cache) / (dy, dstate, cache), the twin passes
    with gradcheck's error near 1e-9, and a backward that ignores the gradient carried
    into the state is told so by name, not only that dx is wrong."""
    report = selfcheck.check_step(name, *_twin_steps(name), verbose=False)
    assert report.passed and report.worst_rel_err < 1e-6
    with pytest.raises(selfcheck.CheckFailed,
                       match=f"ignores the gradient carried back into the state component "
                             f"'{state}'"):
        selfcheck.check_step(name, *_twin_steps(name, drop_carried=True), verbose=False)
    step_forward, step_backward = _twin_steps(name)
    with pytest.raises(selfcheck.CheckFailed, match=r"must return a triple \(state, y, cache\)"):
        selfcheck.check_step(name, lambda x, s, p: step_forward(x, s, p)[::2], step_backward,
                             verbose=False)


def _exercise(notebook, marker):
    """(the notebook's import cell, the code cell holding ``marker``) of a solution."""
    nb = jupytext.read(ROOT / "notebooks" / f"{notebook}.py")
    return (next(c.source for c in nb.cells if c.cell_type == "code"),
            next(c.source for c in nb.cells if marker in c.source))


# one planted bug per family's step exercise: (notebook, the cell's marker, the solution's
# text, the bug, what the self-check must say)
PLANTED = [
    ("03_fewer_gates", "def mgu_step_backward", "da_f = df * f * (1 - f)", "da_f = df * f",
     "your MGU forget-gate gradient (rows 0:H of W) is wrong; the other gates' are right"),
    ("04_indrnn_and_orthogonal", "def indrnn_step_backward", 'da * params["u"], grads',
     "np.zeros_like(h_prev), grads",
     "step_backward's dh_prev (the gradient carried back along h) is wrong"),
    ("04_indrnn_and_orthogonal", "def orthogonal_step_backward", "dW = dz.T @ h_prev",
     "dW = h_prev.T @ dz", "step_backward's grads['S'] is wrong"),
    ("06_skip_clockwork_qrnn", "def clockwork_step_backward",
     "(dh_prev, dt_next), grads", "(dh_prev, np.zeros_like(dt_next)), grads",
     "step_backward's dt_prev (the gradient carried back along t) is wrong"),
    ("07_fast_memory", "def deltarnn_step_backward", "dwx = dwx + dpre_r", "dwx = dwx",
     "step_backward's grads['W'] is wrong"),
    ("09_linear_recurrences", "def mingru_step_backward", "dz = dh * (h_tilde - h_prev)",
     "dz = dh * h_tilde", "your MINGRU update-gate gradient (rows 0:H of W) is wrong"),
    ("10_state_spaces", "def s4d_step_backward", "dx = dx + 2 * np.conj(C) * dy[:, :, None]",
     "dx = 2 * np.conj(C) * dy[:, :, None]",
     "step_backward ignores the gradient carried back into the state component 'x'"),
    ("11_matrix_memories", "def deltanet_step_backward", "dpre = dbeta * beta * (1 - sig)",
     "dpre = dbeta * beta", "step_backward's grads['w_beta'] is wrong"),
    ("12_dynamics", "def cornn_step_backward", "dz = dz + DT * dy", "dz = DT * dy",
     "step_backward ignores the gradient carried back into the state component 'z'"),
]


@pytest.mark.parametrize("notebook, marker, right, wrong, message", PLANTED,
                         ids=[f"{p[0][:2]}-{p[1].split()[1]}" for p in PLANTED])
def test_step_exercises_name_a_planted_bug(notebook, marker, right, wrong, message):
    """Pass: in one cell of each family, a planted bug in the solution's backward (a wrong
    gate, a dropped carried gradient, a missing path) fails the self-check with a message
    that names the gate, the parameter or the carried gradient."""
    setup, exercise = _exercise(notebook, marker)
    assert right in exercise
    with pytest.raises(selfcheck.CheckFailed, match=re.escape(message)):
        _exec(setup, exercise.replace(right, wrong, 1))


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_instructors_page_lists_each_assignments_graded_cells(src, course):
    """Pass: book/instructors.md's row for the assignment names exactly the functions the
    kit grades (a step exercise as `NAME_step_forward`/`_backward` with its 3 points) and
    its number of written answers, so the page cannot drift from the notebooks."""
    from rnnzoo.teaching import nbgrader_kit
    row = next((line for line in (ROOT / "book" / "instructors.md").read_text().splitlines()
                if line.startswith(f"| `{src.stem}` |")), None)
    assert row is not None, f"book/instructors.md has no row for {src.stem}"
    _, graded_text, written, _ = [part.strip() for part in row.strip("|").split("|")]
    ids = [_grading(c)["grade_id"] for c in _source(course, src).cells if _grading(c).get("grade")]
    functions = {i[:-len("-tests")] for i in ids if i.endswith("-tests")}
    listed = set(re.findall(r"`(\w+)`", graded_text)) - {"_backward"}
    assert listed == functions
    for name in functions:
        if name.endswith("_step_forward"):
            assert f"`{name}`/`_backward` ({nbgrader_kit.STEP_POINTS})" in graded_text
    assert int(written) == sum(i.startswith("written-") for i in ids)


def test_check_step_refuses_a_dx_of_the_wrong_shape_with_a_message():
    """Pass: a readout backward returning dx of the wrong shape gets a CheckFailed naming
    dx's shape, not a NumPy broadcast error from the carried-gradient diagnosis."""
    step_forward, step_backward = _twin_steps("deltanet")

    def transposed_dx(dy, dstate, cache):
        dx, dstate_prev, grads = step_backward(dy, dstate, cache)
        return dx.T, dstate_prev, grads
    with pytest.raises(selfcheck.CheckFailed, match=r"step_backward's dx has shape \(3, 2\)"):
        selfcheck.check_step("deltanet", step_forward, transposed_dx, verbose=False)


# a student's usual mistakes in the exercises that are not step pairs: (notebook, the
# cell's marker, the solution's text, the mistake, what the self-check must say). Each
# one passed its visible self-check before the check was tightened.
MISTAKES = [
    ("01_vanishing_gradients", "def rnn_num_params", "return H * D + H * H + 2 * H",
     "H * D + H * H + 2 * H", "rnn_num_params(1, 1) is None: does the function end "
     "without `return`?"),
    ("01_vanishing_gradients", "def rnn_num_params", "return H * D + H * H + 2 * H",
     "return str(H * D + H * H + 2 * H)", "should be a number or an array of numbers; got str"),
    # 64 steps are a multiple of every period, where rounding down gives the same count
    ("06_skip_clockwork_qrnn", "def clockwork_module_steps", "-(-T // 2 ** i)",
     "T // 2 ** i", "clockwork_module_steps(65, 6) is wrong"),
    ("08_char_lm", "def softmax_with_temperature", "dtype=float) / temperature",
     "dtype=float) * temperature", "softmax_with_temperature(l, 0.5) is wrong"),
    ("09_linear_recurrences", "def scan_backward", "return da, delta, carry",
     "return da, delta", "scan_backward(a, b, 0.7, g) should return 3 values (da, db, dh0); "
     "got 2"),
    ("10_state_spaces", "def zoh", "return Abar, (Abar - 1) / A", "Abar",
     "zoh(A, dt) returned None"),
    ("10_state_spaces", "def zoh", "return Abar, (Abar - 1) / A",
     "return Abar, ((Abar - 1) / A)[:, 0]", "zoh(A, dt)'s B̄ has shape (2,); expected (2, 3)"),
    ("10_state_spaces", "def horizon", "return np.log(1 / fraction)",
     "return -np.log(1 / fraction)", "cannot be below 0"),
    ("10_state_spaces", "def horizon", "/ (delta * a_real)", "* 1000 / (delta * a_real)",
     "measured gradient falls to 1% within them: too large"),
    ("11_matrix_memories", "def delta_write", "return S - beta * np.outer(S @ k - v, k)",
     "S -= beta * np.outer(S @ k - v, k)", "delta_write(S, k, v, 1.0) is None"),
    # γ = 0.01: without γ² the step is off by about 1e-4, inside the old 0.1 % window
    ("12_dynamics", "def largest_stable_eps", "(gamma ** 2 + np.max", "(np.max",
     "whether (1 - 1e-6)x your ε is stable and (1 + 1e-6)x is not is wrong"),
    ("12_dynamics", "def step_back", "return y_prev, z_prev", "y_prev, z_prev",
     "step_back(...) returned None"),
    ("12_dynamics", "def legendre_AB", "return A, (-1.0) ** q * (2 * q + 1) / theta",
     "return A, ((-1.0) ** q * (2 * q + 1) / theta)[None, :]",
     "legendre_AB(8, 50.0)'s B has shape (1, 8); expected (8,)"),
]


@pytest.mark.parametrize("notebook, marker, right, wrong, message", MISTAKES,
                         ids=[f"{m[0][:2]}-{m[1].split()[1]}-{i}" for i, m in enumerate(MISTAKES)])
def test_a_wrong_answer_fails_its_self_check_with_a_message(notebook, marker, right, wrong,
                                                          message):
    """Pass: each mistake fails the exercise's visible self-check with a CheckFailed that
    says what is wrong (not a NumPy error from the check's own code, and never a pass)."""
    setup, exercise = _exercise(notebook, marker)
    assert right in exercise
    with pytest.raises(selfcheck.CheckFailed, match=re.escape(message)):
        _exec(setup, exercise.replace(right, wrong, 1))


def _lstm_pair(forward=lambda out: out, backward=lambda out: out):
    """The 02b solution's LSTM step pair with its results passed through the given maps."""
    setup, exercise = _lstm_exercise()
    ns = {"__name__": "__exercise__"}
    exec(compile(setup, "<setup cell>", "exec"), ns)
    exec(compile(exercise.split("selfcheck.check_step")[0], "<exercise cell>", "exec"), ns)
    return (lambda x, s, p: forward(ns["lstm_step_forward"](x, s, p)),
            lambda d, c: backward(ns["lstm_step_backward"](d, c)))


@pytest.mark.parametrize("forward, backward, message", [
    # (dx, dh_prev, grads): the carried dc left out
    (None, lambda r: (r[0], r[1][0], r[2]),
     "step_backward returned 1 carried gradient(s) as dstate; lstm's state has 2 "
     "component(s) ('h', 'c'), so dstate is (dh_prev, dc_prev)"),
    (lambda r: ((r[0][0].astype(np.float32), r[0][1]), r[1]), None,
     "step_forward's h_t is float32; the check runs in float64"),
    (None, lambda r: (r[0], r[1], {**r[2], "W_hh": r[2]["W_hh"].astype(np.float32)}),
     "step_backward's grads['W_hh'] is float32; the check runs in float64"),
    (lambda r: (tuple(s.tolist() for s in r[0]), r[1]), None,
     "step_forward's state (the first of (state_next, cache)) holds a list; return "
     "NumPy arrays"),
    (None, lambda r: (r[0], r[1][0].tolist(), r[2]),
     "step_backward's dstate is a Python list; return a NumPy array"),
    (lambda r: (r[1], r[0]), None,               # (cache, state): the cache comes first
     "step_forward's state (the first of (state_next, cache)) holds a dict"),
    (None, lambda r: r[:2], "must return a triple (dx, dstate, grads); got tuple of length 2"),
    # a gradient left unfinished (its line without `return`, or a placeholder)
    (None, lambda r: (r[0], r[1], {**r[2], "W_ih": None}),
     "step_backward's grads['W_ih'] is None: does the function end without `return`?"),
])
def test_check_step_names_a_malformed_result(forward, backward, message):
    """Pass: a step pair that returns the right numbers in the wrong form (a missing
    carried gradient, float32, a list, swapped or missing items) fails with a CheckFailed
    that says which form is expected, before any value is compared or an error is raised
    from inside the check."""
    pair = _lstm_pair(*(f or (lambda out: out) for f in (forward, backward)))
    with pytest.raises(selfcheck.CheckFailed, match=re.escape(message)):
        selfcheck.check_step("lstm", *pair, verbose=False)
    for batch in (1, 2):                  # the right form passes, at the hidden test's batch
        assert selfcheck.check_step("lstm", *_lstm_pair(), batch=batch, verbose=False).passed


@pytest.mark.parametrize("change, error, message", [
    ({"T": 2.5}, TypeError, "check_step: T must be an integer >= 1; got 2.5 (float)"),
    ({"T": 0}, ValueError, "check_step: T must be an integer >= 1; got 0 (int)"),
    ({"batch": 0}, ValueError, "check_step: batch must be an integer >= 1; got 0 (int)"),
    ({"batch": True}, TypeError, "check_step: batch must be an integer >= 1; got True"),
    ({"verbose": "no"}, TypeError, "check_step: verbose must be True or False; got 'no'"),
    ({"options": [1]}, TypeError, "check_step: options must be None or a dict"),
    ({"seed": None}, TypeError, "check_step: seed must be an integer >= 0; got None"),
    ({"step_forward": None}, TypeError, "check_step: step_forward must be a function"),
    ({"step_backward": "lstm_step_backward"}, TypeError,
     "check_step: step_backward must be a function"),
])
def test_check_step_refuses_its_own_bad_arguments_before_running_the_steps(change, error,
                                                                           message):
    """A T of 2.5 or 0 ran both fixed-input checks and then failed inside NumPy's generator
    or gradcheck; batch=0 was reported as the cell's empty x, verbose='no' printed, and a
    function that is not one failed with 'object is not callable' from inside attempt."""
    forward, backward = _lstm_pair()
    kwargs = {"step_forward": forward, "step_backward": backward, "verbose": False, **change}
    calls = []
    if callable(kwargs["step_forward"]):
        inner = kwargs["step_forward"]
        kwargs["step_forward"] = lambda *a: calls.append(1) or inner(*a)
    with pytest.raises(error, match=re.escape(message)):
        selfcheck.check_step("lstm", **kwargs)
    assert not calls                                     # refused before any step ran


def test_check_close_says_what_a_dtype_did():
    """Pass: a float32 answer that is off by rounding, or an integer one that lost a
    fraction, is told so beside the error; an answer in float64 is not."""
    with pytest.raises(selfcheck.CheckFailed, match="your value is float32; the check"):
        selfcheck.check_close(np.float32(1 / 3), 1 / 3, "third", rtol=1e-12)
    with pytest.raises(selfcheck.CheckFailed, match="whole numbers only"):
        selfcheck.check_close(np.array([0, 1]), [0.5, 1.0], "halves")
    with pytest.raises(selfcheck.CheckFailed) as info:
        selfcheck.check_close(0.25, 1 / 3, "third")
    assert "your value is" not in str(info.value)


@pytest.mark.parametrize("tolerance", ["rtol", "atol"])
@pytest.mark.parametrize("value,error", [(np.nan, ValueError), (np.inf, ValueError),
                                         (-1e-9, ValueError), ("1e-6", ArgumentTypeError),
                                         (None, ArgumentTypeError), (True, ArgumentTypeError)])
def test_check_close_refuses_a_bad_tolerance(tolerance, value, error):
    """atol=inf passed 5 for 1 and rtol=nan failed every inexact answer: the caller's
    mistake, named as such rather than blamed on the student's value."""
    with pytest.raises(error, match=f"check_close: {tolerance} must be a finite number >= 0; "
                                    f"got {re.escape(describe(value))}"):
        selfcheck.check_close(5.0, 1.0, "x", **{tolerance: value})
    assert selfcheck.check_close(1.0, 1.0, "x", **{tolerance: 0})      # exact is fine


def test_check_number_items_and_shape_refuse_with_the_reason():
    """Pass: the helpers return what they checked, and name what was wrong."""
    assert selfcheck.check_number(np.float64(2.5), "k", minimum=0) == 2.5
    assert selfcheck.check_items([1, 2], ("a", "b"), "f()") == (1, 2)
    a = np.zeros((2, 3))
    assert selfcheck.check_shape(a, (2, 3), "A") is a
    for bad, message in [(None, "k is None"), (np.nan, "k is nan"), ("3", "got str"),
                         (np.ones(2), "an array of shape (2,)"), (-1.0, "cannot be below 0"),
                         (True, "got bool"), (1j, "got complex")]:
        with pytest.raises(selfcheck.CheckFailed, match=re.escape(message)):
            selfcheck.check_number(bad, "k", minimum=0)
    for bad, message in [(None, "returned None"), (np.ones(2), "got ndarray"),
                         ((1, 2, 3), "should return 2 values (a, b); got 3")]:
        with pytest.raises(selfcheck.CheckFailed, match=re.escape(message)):
            selfcheck.check_items(bad, ("a", "b"), "f()")
    for bad, message in [(None, "A is None"), ([[0.0] * 3] * 2, "got list"),
                         (np.zeros((1, 2, 3)), "A has shape (1, 2, 3); expected (2, 3)")]:
        with pytest.raises(selfcheck.CheckFailed, match=re.escape(message)):
            selfcheck.check_shape(bad, (2, 3), "A")
