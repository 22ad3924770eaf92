"""The code a book page shows is code that runs: each page's ```python blocks listed
here are executed as written, in one namespace per page, in order."""
from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest

from rnnzoo.core import registry

BOOK = pathlib.Path(__file__).resolve().parents[1] / "book"


def python_blocks(page, heading):
    """The ```python blocks of ``page`` under ``heading`` (up to the next ## heading)."""
    text = (BOOK / page).read_text()
    start = text.index(f"\n{heading}\n")
    end = text.find("\n## ", start + 1)
    section = text[start:end if end >= 0 else len(text)]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_contract_pages_own_cell_runs_checks_and_trains():
    """A pass: the page's leaky RNN registers, passes gradcheck, and trains 50 steps."""
    blocks = python_blocks("contract.md", "## A cell of your own")
    assert len(blocks) == 1
    namespace = {"__name__": "book_contract_page"}
    try:
        exec(compile(blocks[0], "book/contract.md", "exec"), namespace)
        assert namespace["report"].passed
        assert {r.name for r in namespace["report"].rows} == {"W", "U", "b", "x", "h0"}
        history = namespace["history"]
        assert history.steps[-1] == 50 and np.isfinite(history.final_eval_loss)
        assert np.all(np.isfinite(history.train_loss))
    finally:
        registry._CELLS.pop("leaky", None)


@pytest.mark.parametrize("a", [0, 1.5])
def test_the_own_cells_option_check_names_what_it_expects(a):
    namespace = {"__name__": "book_contract_page"}
    try:
        exec(compile(python_blocks("contract.md", "## A cell of your own")[0].split(
            "\ncell = ")[0], "book/contract.md", "exec"), namespace)
        import rnnzoo
        with pytest.raises(ValueError, match=rf"LeakyRNN\('leaky'\): a must be in \(0, 1\]; "
                                             rf"got {a}"):
            rnnzoo.make("leaky", 3, 4, a=a)
    finally:
        registry._CELLS.pop("leaky", None)
