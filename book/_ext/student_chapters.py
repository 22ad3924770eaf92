"""The chapters show the student's version of every exercise, not its answer key.

The notebooks are the solution notebooks (the course kit makes the student versions from
them, :mod:`rnnzoo.teaching.assignments`). A book that printed them as they are would hand
every student the answers the nbgrader kit grades. :func:`read` is the book's reader of a
notebook (``nb_custom_formats`` in conf.py); it changes what is shown, not what runs:

* a code cell with an answer becomes two cells: the student's version (the stub, and the
  visible self-check without the hidden tests), shown and tagged ``skip-execution``; and
  the solution itself, run so that the cells after it work, tagged ``remove-cell`` so
  that neither its code nor its output (the self-check's PASS) reaches the page;
* a markdown cell with a written answer shows the answer prompt in its place, and no
  mark scheme.
"""
from __future__ import annotations

import copy

import nbformat

from rnnzoo.teaching import assignments


def _tagged(cell, tag):
    cell.metadata["tags"] = sorted(set(cell.metadata.get("tags", [])) | {tag})
    return cell


def read(text):
    """The notebook in ``text`` (.ipynb JSON) as the book shows it (module docstring)."""
    nb = nbformat.reads(text, as_version=4)
    cells = []
    for i, cell in enumerate(nb.cells):
        where = f"cell {i}"
        if not assignments.solution_blocks(cell.source, where):
            cells.append(cell)
        elif cell.cell_type == "code":
            shown = copy.deepcopy(cell)
            shown.source = assignments.student_source(cell.source, "code", where)
            shown.pop("id", None)
            cells += [_tagged(shown, "skip-execution"), _tagged(cell, "remove-cell")]
        else:
            cell.source = assignments.student_source(cell.source, cell.cell_type, where)
            cells.append(cell)
    nb.cells = cells
    # the split cells need ids of their own (nbformat 4.5): renumber every cell
    for i, cell in enumerate(nb.cells):
        if "id" in cell or nb.nbformat_minor >= 5:
            cell["id"] = f"cell-{i}"
    return nb
