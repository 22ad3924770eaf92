"""The reproductions' records and their table: where each reproduction's files go, what
a record must still hold to be the catalog's (:func:`stale`), reading the records, and
``figures/reproductions.md``, the table :func:`write_table` renders from them. What runs
a reproduction and writes its record is :mod:`.running`."""
from __future__ import annotations

import functools
import json
import pathlib

from ...training.tasks import make_task
from ..experiments.provenance import describe as describe_made_with
from .catalog import CATALOG

FOLDER = "reproductions"          # under the figures folder
TABLE = "reproductions.md"
# what the table says of a record written before the 4x re-runs existed (it still renders)
OLD_RECORD = "not run (the record predates the 4x re-runs; run its command again)"


def paths(out_dir, name, full=False):
    """(json, png, run store) of reproduction ``name`` under ``out_dir``."""
    stem = name + ("_full" if full else "")
    folder = pathlib.Path(out_dir) / FOLDER
    return folder / f"{stem}.json", folder / f"{stem}.png", folder / "runs" / stem


def command(name, full=False, robust=False):
    return (f"python -m rnnzoo reproduce {name}" + (" --full" if full else "")
            + (" --robust" if robust else ""))


def catalog_fields(repro, full=False) -> dict:
    """The fields of ``repro``'s record (``full``: of its --full record) that the catalog
    alone determines, as :func:`summarize` writes them: what a record must still hold for
    the table to show it as the catalog's."""
    task_options, budget = repro.setting(full)
    variants = repro.variants_for(full)
    task = _task(repro.task, json.dumps(task_options, sort_keys=True))
    return {"name": repro.name, "paper": repro.paper, "claim": repro.claim,
            "paper_number": repro.paper_number,
            "note": repro.describe_setting(budget, variants, task.success), "full": full,
            "task_options": task_options, "budget_fields": budget.record(),
            "variant_budgets": {v.label: dict(v.budget or {}) for v in variants},
            "seeds": list(repro.seeds),
            "variants": {v.label: v.describe(task) for v in variants}}


@functools.lru_cache(maxsize=32)
def _task(name, options):
    """The task a description reads (the fair defaults follow its length), built once:
    the table checks every record against the catalog each time it is written."""
    return make_task(name, seed=0, **json.loads(options))


def stale(record) -> list:
    """Why ``record`` is not its reproduction's as the catalog now has it: [] where it
    is; ["not in the catalog"]; or the fields of :func:`catalog_fields` that differ (a
    record written before a field was kept lacks it, and differs in it)."""
    repro = CATALOG.get(record["name"])
    if repro is None:
        return ["not in the catalog"]
    try:
        now = catalog_fields(repro, bool(record["full"]))
    except (TypeError, ValueError) as exc:       # the catalog's setting no longer builds
        return [f"the catalog's setting ({exc})"]
    return [k for k, v in now.items() if record.get(k, _ABSENT) != v]


_ABSENT = object()


# what render_table reads of every record (a record without rerun_4x is OLD_RECORD's)
TABLE_KEYS = ("name", "full", "claim", "paper", "paper_number", "ours", "verdict", "task",
              "budget", "seeds", "note", "train_seconds", "command")


def read_record(path) -> dict:
    """The record in ``path``, or a ValueError that names the file and what is wrong with
    it: the table is rewritten from every record after each reproduction, so one damaged
    record elsewhere would otherwise stop a finished run at its last step."""
    fix = "move it away or run its reproduction again"
    try:
        record = json.loads(pathlib.Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read the reproduction record {path} ({exc}); {fix}") from None
    missing = ([k for k in TABLE_KEYS if k not in record] if isinstance(record, dict)
               else None)
    if missing is None or missing:
        what = (f"lacks {missing}" if missing else
                f"holds a {type(record).__name__}, not a record")
        raise ValueError(f"the reproduction record {path} {what}; {fix}")
    try:        # its row, as the table will render it: a field of the wrong type fails now
        render_table([record])
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"the reproduction record {path} has a field of the wrong type "
                         f"({type(exc).__name__}: {exc}); {fix}") from None
    return record


def records(out_dir, skip=()) -> list:
    """Every reproduction record under ``out_dir``, in the catalog's order, then --full;
    ``skip``: stems not to read (the records a command is about to write anew)."""
    folder = pathlib.Path(out_dir) / FOLDER
    found = {p.stem: read_record(p) for p in sorted(folder.glob("*.json"))
             if p.stem not in skip}
    order = [n + s for s in ("", "_full") for n in CATALOG]
    return [found[k] for k in order if k in found] + \
        [found[k] for k in sorted(found) if k not in order]


def render_table(recs) -> str:
    """reproductions.md: the paper's number | ours | budget | the command, one row each;
    the verdict of a record that no longer matches the catalog (:func:`stale`) is marked
    so, with the fields that differ."""
    lines = ["# Reproductions", "",
             "Written by `python -m rnnzoo reproduce` from `figures/reproductions/*.json`; do "
             "not edit. Solved is the task's own criterion; a reproduction that falls short at "
             "its budget is a finding about that budget, stated with its numbers. A variant "
             "unsolved in some seed is trained again at 4x the steps on seeds it was not run "
             "on (`--robust`). Where the paper says a cell fails, the verdict counts that only "
             "if no seed solves at either budget, and says \"at this budget\" where the 4x "
             "column says \"not run\"; where it says a cell learns, \"reproduced at 4x the "
             "steps\" means every 4x seed solved, and \"partly\" that some seed did at "
             "either budget. Where no seed met what the paper says its cells do, the verdict "
             "is \"not reproduced\", naming any baseline whose failure held. The training "
             "time is each run's own seconds, summed: every run trains on one core, so these "
             "are core-seconds, not the wall time of a command. A verdict marked stale is of "
             "a record that no longer matches the catalog.", "",
             "| reproduction | paper's claim | paper's number | ours | at 4x the steps, "
             "new seeds | verdict | task, budget | training time (core-seconds, summed "
             "over runs) | made with | command |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in recs:
        changes = "".join(f"; {label} with {', '.join(f'{k}={v}' for k, v in c.items())}"
                          for label, c in (r.get("variant_budgets") or {}).items() if c)
        criterion = f"; solved: {r['criterion']}" if r.get("criterion") else ""
        seconds = r["train_seconds"]
        cells = [f"[{r['name']}{' (full)' if r['full'] else ''}](reproductions/"
                 f"{r['name']}{'_full' if r['full'] else ''}.png)",
                 f"{r['claim']} ({r['paper']})", r["paper_number"], r["ours"],
                 r.get("rerun_4x", OLD_RECORD), _verdict_cell(r),
                 f"{r['task']}{criterion}; {r['budget']}{changes}; seeds {r['seeds']}"
                 + (f". {r['note']}" if r["note"] else ""),
                 "not recorded" if seconds is None else f"{seconds:.0f} core-s",
                 _made_with_cell(r.get("made_with")), f"`{r['command']}`"]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _verdict_cell(record) -> str:
    problems = stale(record)
    if not problems:
        return record["verdict"]
    if problems == ["not in the catalog"]:
        return (f"**not in the catalog** (its reproduction was removed or renamed); "
                f"when written: {record['verdict']}")
    return (f"**stale**: the catalog now differs in {', '.join(problems)} "
            f"(`{command(record['name'], record['full'])}` writes it anew); when written: "
            f"{record['verdict']}")


def _made_with_cell(groups) -> str:
    """What trained the runs, per distinct environment, with how many runs."""
    if not groups:
        return "not recorded"
    return "; ".join(f"{describe_made_with(g['environment'])} ({g['runs']} runs)"
                     for g in groups)


def write_table(out_dir):
    path = pathlib.Path(out_dir) / TABLE
    path.write_text(render_table(records(out_dir)))
    return path
