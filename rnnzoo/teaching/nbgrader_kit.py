"""The course kit as an nbgrader source tree, generated from the solution notebooks.

``python -m rnnzoo assignments OUT`` writes ``OUT/source/<assignment>/<assignment>.ipynb``
(one assignment per solution notebook ``notebooks/NN_name.py``, named ``NN_name``) and a
minimal ``OUT/nbgrader_config.py``, so that OUT is an nbgrader course directory:
``nbgrader generate_assignment NN_name`` makes the student version, ``nbgrader
autograde NN_name`` grades the submissions. The solution notebooks keep nbgrader's
markers (:mod:`rnnzoo.teaching.assignments`); this module adds the cell metadata
nbgrader needs and splits the cells the way it grades them:

=================================  ==========================================================
solution notebook                  nbgrader source
=================================  ==========================================================
code cell with a solution block    an *answer* cell (solution; the lines up to the first
                                   unindented line after the last ``### END SOLUTION``) and
                                   an *autograder tests* cell (locked, graded: the visible
                                   self-check and the ``### BEGIN HIDDEN TESTS`` region that
                                   nbgrader strips from the student version and restores at
                                   grading); 3 points when it runs ``check_step`` (a whole
                                   step's forward and backward), else 1
markdown cell with answer blocks   the question text in read-only cells, each answer block a
                                   manually graded answer cell of 1 point
the markdown cell before an        read-only, with a line saying what the exercise is worth
exercise
=================================  ==========================================================

A points table after the notebook's title says which cell is worth what. A mark scheme
(``=== BEGIN MARK SCHEME ===``) right after an answer block goes into that block, inside
the solution region, so only the grader sees it.
"""
from __future__ import annotations

import copy
import re

from ..core.validation import check_bool, check_choice
from . import assignments as markers

STEP_POINTS, OTHER_POINTS, WRITTEN_POINTS = 3, 1, 1
CONFIG = '''"""nbgrader's configuration for the rnnzoo course kit (python -m rnnzoo assignments)."""
c = get_config()  # noqa: F821  (nbgrader defines it)
c.CourseDirectory.course_id = "rnnzoo"
# notebooks train small models: give each cell of a submission time to run
c.Execute.timeout = 900
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "**YOUR ANSWER HERE**"
# the feedback shows no hidden test, nor the line of one that failed (several are the
# answer): rnnzoo.teaching.nbgrader_feedback
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402
from rnnzoo.teaching.nbgrader_feedback import HideHiddenTests  # noqa: E402
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, HideHiddenTests]
'''


def _meta(grade_id, *, solution=False, grade=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def split_exercise(source, where="cell"):
    """``(answer, tests)``: a code exercise cut after its last solution block, at the
    first unindented line (the rest of the last ``def`` stays with the answer)."""
    lines = markers._check_text(source, "source", where).split("\n")
    blocks = markers._blocks(lines, markers.BEGIN, markers.END, where)
    if not blocks:
        raise markers.MarkerError(f"{where}: no '{markers.BEGIN}' block to split at")
    cut = blocks[-1][1]
    while cut < len(lines) and (not lines[cut].strip() or lines[cut][:1] in " \t"):
        cut += 1
    answer, tests = "\n".join(lines[:cut]).rstrip(), "\n".join(lines[cut:]).strip()
    if not tests:
        raise markers.MarkerError(f"{where}: an exercise needs its self-check after the "
                                  "solution (an autograder tests cell cannot be empty)")
    return answer, tests


def _fold_mark_schemes(lines, where):
    """Move each mark scheme into the answer block just before it (inside the solution
    region, which nbgrader removes for students); one elsewhere is refused."""
    for start, stop in reversed(markers._blocks(lines, markers.BEGIN_SCHEME,
                                                markers.END_SCHEME, where)):
        before = [i for i in range(start) if lines[i].strip()]
        if not before or lines[before[-1]].strip() != markers.END:
            raise markers.MarkerError(f"{where}: a mark scheme must follow an answer block")
        scheme = ["*Mark scheme:*"] + lines[start + 1:stop - 1]
        lines = lines[:before[-1]] + scheme + [lines[before[-1]]] + lines[stop:]
    return lines


def _split_written(source, where):
    """[(kind, text)] of a markdown cell: 'text' segments and 'answer' blocks, in order."""
    lines = _fold_mark_schemes(source.split("\n"), where)
    parts, pos = [], 0
    for start, stop in markers._blocks(lines, markers.BEGIN, markers.END, where):
        parts += [("text", "\n".join(lines[pos:start]).strip()),
                  ("answer", "\n".join(lines[start:stop]))]
        pos = stop
    parts.append(("text", "\n".join(lines[pos:]).strip()))
    return [(kind, text) for kind, text in parts if text]


def _new_cell(nbformat, cell_type, source, metadata=None):
    make = nbformat.v4.new_code_cell if cell_type == "code" else nbformat.v4.new_markdown_cell
    return make(source, metadata=metadata or {})


def _exercise_name(answer, taken, fallback):
    """The first function the answer defines, made unique among ``taken``."""
    found = re.search(r"^def (\w+)", answer, re.MULTILINE)
    name = found.group(1) if found else fallback
    base, n = name, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _lock_prompt(cells, note):
    """Make the markdown cell just written the exercise's read-only prompt, with its
    worth; False when there is none (the exercise then says it in its tests cell)."""
    if not cells or cells[-1].cell_type != "markdown" or "nbgrader" in cells[-1].metadata:
        return False
    cells[-1].source = f"{cells[-1].source.rstrip()}\n\n*({note})*"
    cells[-1].metadata.update(_meta(f"prompt-{len(cells) - 1}", locked=True))
    return True


def source_notebook(nb, name="notebook"):
    """The nbgrader source version of a solution notebook (a new notebook, no outputs)
    and its points table, ``[(grade_id, points, how)]``."""
    import nbformat
    markers._check_notebook(nb, name)
    cells, table, taken = [], [], set()
    for i, cell in enumerate(nb.cells):
        where = f"{name}, cell {i}"
        if cell.cell_type == "code" and markers.BEGIN in cell.source:
            answer, tests = split_exercise(cell.source, where)
            exercise = _exercise_name(answer, taken, f"exercise-{i}")
            points = STEP_POINTS if "check_step(" in tests else OTHER_POINTS
            note = f"{exercise}: {points} point(s), autograded by the tests after your answer"
            _lock_prompt(cells, note)
            cells.append(_new_cell(nbformat, "code", answer, _meta(exercise, solution=True)))
            header = (f"# Autograder tests of {exercise} ({points} point(s)): the self-check "
                      "runs now; the grader adds hidden tests")
            cells.append(_new_cell(nbformat, "code", f"{header}\n{tests}",
                                   _meta(f"{exercise}-tests", grade=True, locked=True,
                                         points=points)))
            table.append((f"{exercise}-tests", points, "autograded"))
        elif cell.cell_type == "markdown" and markers.BEGIN in cell.source:
            for kind, text in _split_written(cell.source, where):
                if kind == "text":
                    cells.append(_new_cell(nbformat, "markdown", text))
                    continue
                written = sum(how != "autograded" for _, _, how in table)
                grade_id = _exercise_name("", taken, f"written-{written + 1}")
                _lock_prompt(cells, f"{grade_id}: {WRITTEN_POINTS} point(s), graded by "
                                    "hand: answer in the cell below")
                cells.append(_new_cell(nbformat, "markdown", text,
                                       _meta(grade_id, solution=True, grade=True,
                                             points=WRITTEN_POINTS)))
                table.append((grade_id, WRITTEN_POINTS, "graded by hand"))
        else:
            cells.append(_new_cell(nbformat, cell.cell_type, cell.source))
    if table:
        rows = "\n".join(f"| `{g}` | {p} | {how} |" for g, p, how in table)
        total = sum(p for _, p, _ in table)
        cells.insert(1, _new_cell(nbformat, "markdown",
                                  "**Points.** The cells of this assignment that are graded "
                                  f"({total} point(s) in all):\n\n| cell | points | how |\n"
                                  f"|---|---|---|\n{rows}", _meta("points-table", locked=True)))
    out = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(nb.metadata))
    out.metadata.pop("jupytext", None)
    return out, table


def write_course(out_dir, notebooks_dir=markers.NOTEBOOKS, *, only=None, verbose=True,
                 force=False, force_name="force=True"):
    """Write ``out_dir/source/<name>/<name>.ipynb`` for every solution notebook
    ``notebooks_dir/<name>.py`` (or those named in ``only``) and
    ``out_dir/nbgrader_config.py``; returns the notebooks' paths.

    A notebook already there with other content (an instructor's edits, or a kit from
    another version) is not overwritten unless ``force``: the call raises FileExistsError
    naming the files, and writes nothing. A config already there is the course's own (its
    course id, say): it is kept, and said so where it differs from the kit's, unless
    ``force``. A file with the same content is written again (the command can be re-run).
    Everything is UTF-8 (the notebooks' σ, ∂, ‖ exist in no legacy code page).
    ``force_name``: how the refusal and the note name ``force`` to the caller,
    "force=True" (this function's) or "--force" (the command line's)."""
    import jupytext
    import nbformat
    verbose = check_bool(verbose, "verbose", where="assignments")
    force = check_bool(force, "force", where="assignments")
    force_name = check_choice(force_name, "force_name", ("force=True", "--force"),
                              where="assignments")
    out_dir, sources = markers.prepare(out_dir, notebooks_dir, only)
    planned, tables = {}, {}                  # path -> bytes, then write all or nothing
    for src in sources:
        nb, table = source_notebook(jupytext.read(src), src.name)
        for i, cell in enumerate(nb.cells):
            if "id" in cell:     # nbformat draws them at random: the same kit twice would
                cell["id"] = f"cell-{i}"    # differ, and a re-run read as edited files
        path = out_dir / "source" / src.stem / f"{src.stem}.ipynb"
        planned[path] = (nbformat.writes(nb) + "\n").encode("utf-8")   # as nbformat.write
        tables[path] = table
    config = out_dir / "nbgrader_config.py"
    if force or not config.is_file():
        planned[config] = CONFIG.encode("utf-8")
    elif config.read_bytes() != CONFIG.encode("utf-8") and verbose:
        print(f"{config}: kept (it differs from the kit's: the course's own settings; "
              f"{force_name} rewrites it)")
    edited = [] if force else [str(path) for path, data in planned.items()
                               if path.is_file() and path.read_bytes() != data]
    if edited:
        raise FileExistsError(f"assignments: {len(edited)} file(s) in {out_dir} differ from "
                              f"what this kit writes (edited since, or from another "
                              f"version): {', '.join(edited)}; nothing was written. Move "
                              f"them away, or give {force_name} to overwrite them")
    for path, data in planned.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if verbose and path in tables:
            table = tables[path]
            auto = sum(p for _, p, how in table if how == "autograded")
            print(f"{path}: {len(table)} graded cell(s), {auto} point(s) autograded, "
                  f"{sum(p for _, p, _ in table) - auto} graded by hand")
    return [path for path in planned if path in tables]
