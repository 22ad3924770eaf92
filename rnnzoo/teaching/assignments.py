"""Student assignments generated from the solution notebooks, so they cannot drift.

The solution notebooks (``notebooks/*.py``, jupytext percent format) carry nbgrader's
markers. ``python -m rnnzoo assignments OUTDIR`` turns them into an nbgrader course
(:mod:`rnnzoo.teaching.nbgrader_kit`), and nbgrader makes the student versions; the
functions here make a cell's student version the same way, without nbgrader:

=============================================  =========================================
in a code cell                                 in the student version
=============================================  =========================================
``### BEGIN SOLUTION`` ... ``### END SOLUTION``  ``# YOUR CODE HERE`` and ``raise
                                               NotImplementedError()``, at the marker's
                                               indentation (a ``def`` line above the
                                               block stays, so the signature is given)
``### BEGIN HIDDEN TESTS`` ... ``### END         removed (the answer key's exact checks;
HIDDEN TESTS``                                 the visible self-checks stay)
=============================================  =========================================

=============================================  =========================================
in a markdown cell                             in the student version
=============================================  =========================================
``### BEGIN SOLUTION`` ... ``### END SOLUTION``  ``**YOUR ANSWER HERE**`` (a written
                                               answer; the block is the answer key)
``=== BEGIN MARK SCHEME ===`` ... ``=== END     removed (notes for the grader)
MARK SCHEME ===``
=============================================  =========================================

Each marker sits on a line of its own. The solution notebooks run top to bottom as they
are (the markers are comments); :func:`fill_in` puts the solutions back into a student
notebook's stubs, which is how tests/test_assignments.py proves the round trip.
"""
from __future__ import annotations

import copy
import os
import pathlib

from ..core.validation import ArgumentTypeError, check_choice, describe

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
BEGIN_SCHEME, END_SCHEME = "=== BEGIN MARK SCHEME ===", "=== END MARK SCHEME ==="
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
ANSWER_PROMPT = "**YOUR ANSWER HERE**"
NOTEBOOKS = pathlib.Path(__file__).resolve().parents[2] / "notebooks"


class MarkerError(ValueError):
    """Markers that do not pair up (a BEGIN without its END, or nested blocks)."""


def _blocks(lines, begin, end, where):
    """[(start, stop)] line ranges of begin..end blocks, markers included."""
    blocks, start = [], None
    for i, line in enumerate(lines):
        text = line.strip()
        if text == begin:
            if start is not None:
                raise MarkerError(f"{where}: '{begin}' at line {i + 1} inside another block")
            start = i
        elif text == end:
            if start is None:
                raise MarkerError(f"{where}: '{end}' at line {i + 1} without '{begin}'")
            blocks.append((start, i + 1))
            start = None
    if start is not None:
        raise MarkerError(f"{where}: '{begin}' at line {start + 1} has no '{end}'")
    return blocks


def _replace(lines, blocks, make):
    out, pos = [], 0
    for start, stop in blocks:
        out += lines[pos:start] + make(lines[start])
        pos = stop
    return out + lines[pos:]


def _check_text(value, name, where):
    if not isinstance(value, str):
        raise ArgumentTypeError(f"{where}: {name} must be a cell's source (a str); "
                                f"got {describe(value)}")
    return value


def _check_notebook(nb, name):
    cells = getattr(nb, "cells", None)
    if not isinstance(cells, list) or not all(hasattr(c, "cell_type") and hasattr(c, "source")
                                              for c in cells):
        raise ArgumentTypeError(f"{name}: nb must be a notebook read by nbformat or jupytext "
                                f"(cells with cell_type and source); got {describe(nb)}")
    return nb


def _check_folder(value, name):
    if not isinstance(value, (str, os.PathLike)):
        raise ArgumentTypeError(f"assignments: {name} must be a folder path (str or "
                                f"pathlib.Path); got {describe(value)}")
    return pathlib.Path(value)


def _indent(line):
    return line[:len(line) - len(line.lstrip())]


def student_source(source, cell_type="code", where="cell"):
    """One cell's student version (see the module docstring for the rules)."""
    check_choice(cell_type, "cell_type", ("code", "markdown", "raw"), where=where)
    lines = _check_text(source, "source", where).split("\n")
    if cell_type == "code":
        lines = _replace(lines, _blocks(lines, BEGIN_HIDDEN, END_HIDDEN, where), lambda m: [])
        lines = _replace(lines, _blocks(lines, BEGIN, END, where),
                         lambda m: [_indent(m) + s for s in CODE_STUB])
    else:
        lines = _replace(lines, _blocks(lines, BEGIN_SCHEME, END_SCHEME, where), lambda m: [])
        lines = _replace(lines, _blocks(lines, BEGIN, END, where),
                         lambda m: [_indent(m) + ANSWER_PROMPT])
    return "\n".join(lines)


def solution_blocks(source, where="cell"):
    """The solution blocks of a cell, each a list of lines (markers included)."""
    lines = _check_text(source, "source", where).split("\n")
    return [lines[a:b] for a, b in _blocks(lines, BEGIN, END, where)]


def fill_in(student, solution, where="cell"):
    """Put ``solution``'s solution blocks back into ``student``'s stubs, in order.

    Raises MarkerError when the number of stubs and of solution blocks differ: that is
    a student version that has drifted from its solution."""
    blocks = solution_blocks(solution, where)
    lines, out, i, k = _check_text(student, "student", where).split("\n"), [], 0, 0
    while i < len(lines):
        pair = [s.strip() for s in lines[i:i + 2]]
        if pair == list(CODE_STUB) or lines[i].strip() == ANSWER_PROMPT:
            if k == len(blocks):
                raise MarkerError(f"{where}: more stubs than solution blocks")
            out += blocks[k]
            k += 1
            i += 1 if lines[i].strip() == ANSWER_PROMPT else 2
        else:
            out.append(lines[i])
            i += 1
    if k != len(blocks):
        raise MarkerError(f"{where}: {len(blocks)} solution blocks but {k} stubs")
    return "\n".join(out)


def student_notebook(nb, name="notebook"):
    """A deep copy of a solution notebook (nbformat) with every cell made a student's,
    and no outputs."""
    nb = copy.deepcopy(_check_notebook(nb, name))
    for i, cell in enumerate(nb.cells):
        cell.source = student_source(cell.source, cell.cell_type, f"{name}, cell {i}")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def count_exercises(nb, name="notebook"):
    """Solution blocks (code and markdown) after the notebook's '## Exercises' heading."""
    _check_notebook(nb, name)
    seen, n = False, 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and "## Exercises" in cell.source:
            seen = True
        if seen:
            n += len(solution_blocks(cell.source, f"{name}, cell {i}"))
    return n


def prepare(out_dir, notebooks_dir=NOTEBOOKS, only=None):
    """``(out_dir, solution notebooks)`` for a generator: every ``notebooks_dir/NN_*.py``,
    or those named (without .py) in the list ``only``. ``out_dir`` is created if needed;
    one that is a file, that is the solutions' folder, or that cannot be created or
    written, and an unknown name, are refused before anything is written."""
    if only is not None and (isinstance(only, str) or not all(isinstance(n, str) for n in only)):
        raise ArgumentTypeError(f"assignments: only must be a list of notebook names (str); "
                                f"got {describe(only)}")
    out_dir, notebooks_dir = _check_folder(out_dir, "out_dir"), _check_folder(notebooks_dir,
                                                                               "notebooks_dir")
    if not notebooks_dir.is_dir():
        raise FileNotFoundError(f"assignments: notebooks_dir {notebooks_dir} is not a folder")
    sources = sorted(notebooks_dir.glob("[0-9]*.py"))
    if not sources:
        raise FileNotFoundError(f"no solution notebooks (NN_name.py) in {notebooks_dir}")
    if only is not None:
        known = {s.stem: s for s in sources}
        unknown = sorted(set(only) - set(known))
        if unknown:
            raise ValueError(f"assignments: only names {unknown}, not solution notebooks; "
                             f"expected some of {sorted(known)}")
        sources = [known[n] for n in sorted(set(only))]
    if out_dir.resolve() == notebooks_dir.resolve():
        raise ValueError("OUTDIR must not be the solution notebooks' folder: the student "
                         "versions would overwrite the solutions")
    if out_dir.exists() and not out_dir.is_dir():
        raise FileExistsError(f"assignments: out_dir {out_dir} exists and is not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OSError(f"assignments: out_dir {out_dir} cannot be created "
                      f"({err.strerror or err})") from None
    if not os.access(out_dir, os.W_OK):
        raise PermissionError(f"assignments: out_dir {out_dir} is not writable")
    return out_dir, sources
