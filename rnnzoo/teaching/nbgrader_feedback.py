"""What an nbgrader feedback page shows of the hidden tests: nothing.

``nbgrader generate_feedback`` renders the autograded notebook, in which autograde has
put the hidden tests back into their cells to grade them. By default, then, the feedback
a student gets back shows every hidden test's source, and a failed test's traceback shows
the line that failed; several of the kit's hidden tests state the answer
(``assert lstm_num_params(2, 3) == 4 * 3 * 2 + 4 * 3 * 3 + 8 * 3``). The course's
``nbgrader_config.py``, as ``python -m rnnzoo assignments`` writes it, adds
:class:`HideHiddenTests` to ``GenerateFeedback.preprocessors``: it removes each hidden
region from its cell's source (nbgrader's own ClearHiddenTests, which
``generate_assignment`` runs) and, in a cell that had one, cuts every error's traceback
down to its last line, the exception and its message (the kit's checks say what is wrong
without the expected value), so the failed line is not shown either. The grades are read
before it runs and are unchanged.

This module imports nbgrader: only the course's nbgrader_config.py loads it.
"""
from __future__ import annotations

from nbgrader.preprocessors import ClearHiddenTests


class HideHiddenTests(ClearHiddenTests):
    """ClearHiddenTests for the feedback, which also trims the tracebacks of the cells it
    cleared (see the module docstring)."""

    def preprocess_cell(self, cell, resources, cell_index):
        had_hidden = self.begin_test_delimeter in cell.source
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if had_hidden:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    message = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
                    output["traceback"] = [message.rstrip(": ")]
        return cell, resources
