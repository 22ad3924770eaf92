"""Paper-scale reproductions: each paper's headline at its own length, with the paper's
number beside ours (``python -m rnnzoo reproduce``).

:mod:`.catalog` holds the table of reproductions (:data:`CATALOG`); :mod:`.running` runs
one through :func:`rnnzoo.experiments.compare` with a store, so an interrupted run
resumes, and writes ``figures/reproductions/NAME.{json,png}``; :mod:`.table` reads the
records and writes ``figures/reproductions.md``.
"""
from __future__ import annotations

from .catalog import CATALOG, Reproduction
from .running import reproduce, summarize
from .table import records, render_table, write_table

__all__ = ["CATALOG", "Reproduction", "reproduce", "summarize", "records", "render_table",
           "write_table"]
