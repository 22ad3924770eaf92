"""Running a reproduction and writing what it found: ``NAME.json`` (the paper's claim,
ours, the budget, the verdict, the command), ``NAME.png`` (the curves, budget on the
figure) and the table of every reproduction on disk, ``reproductions.md``.

Each finished (variant, seed) is kept in ``runs/NAME/`` as it completes (the comparison
store of :func:`rnnzoo.experiments.compare`), so an interrupted reproduction resumes
where it stopped when the same command runs again.

**At 4x the steps, on new seeds.** "The LSTM stays at the baseline" and "the IndRNN does
not solve it" are statements about the budget. With ``robust=True`` (``--robust``) every
variant that ended unsolved in some seed is trained again at 4x the steps on the second
seed block (10-12 after 0-2; :func:`rnnzoo.experiments.plan_rerun`), kept in
``runs/NAME_4x/``, and the record says what it did there. A paper's "fails" then holds
only if no seed solves at either budget. A paper's "solves" that every 4x seed meets
holds *at 4x the steps* (the verdict says so), and one that some seed meets, at either
budget, is partly reproduced. Without ``--robust`` a complete ``NAME_4x``
store is still read (nothing is trained), so a finished re-run is never dropped from the
record; where there is none, the record says the re-run was not made, and a "fails" that
held reads as held *at this budget* (:func:`_verdict`).

**What made it, and when.** Each record says what trained its runs (``made_with``: the
commit, machine and NumPy/BLAS each stored run recorded, grouped; "not recorded" for runs
stored before that was kept), their training time (``train_seconds``: each run's own
seconds, summed; each run trains on one core, so these are core-seconds, not the wall
time of any command), and what the command that wrote the record did (``this_command``:
how many runs it trained and loaded, and its wall time): a record re-rendered from its
stores says it trained nothing, and keeps the runs' training time.

**Against the catalog.** A record keeps what the catalog alone determines
(:func:`.table.catalog_fields`: the texts, the task's options, the budget and each variant's
changes, the seeds); :func:`.table.render_table` marks the row of a record that no longer
matches the catalog, or whose reproduction left it, rather than showing it as current.
"""
from __future__ import annotations

import json
import pathlib
import time

import numpy as np

from ..experiments import compare, plan_rerun
from ..experiments.robust import MIN_NEGATIVE_FACTOR
from ..experiments.store import RunStore
from ..figures.core import pyplot, save
from .table import command, paths, records, write_table

def reproduce(repro, out_dir="figures", *, full=False, robust=False, workers=None,
              executor=None, progress=True):
    """Run ``repro`` (a :class:`~.catalog.Reproduction`), resuming from its store, and
    write its json and png and the table. ``robust``: also re-run the unsolved variants at
    4x the steps on new seeds (see the module docstring). Returns the record (the json's
    content)."""
    task_options, budget = repro.setting(full)
    json_path, png_path, store = paths(out_dir, repro.name, full)
    records(out_dir, skip={json_path.stem})     # the table's other records, read before training
    start = time.perf_counter()
    run = dict(workers=workers, executor=executor, progress=progress)
    res = compare(list(repro.variants_for(full)), repro.task, task_options=task_options,
                  budget=budget, seeds=list(repro.seeds), store=store, **run)
    rerun = recheck(res, store.with_name(store.name + "_4x"), train=robust, **run)
    record = summarize(repro, res, full, rerun)
    trained = [t for c in (res, rerun) if c is not None for runs in c.trained.values()
               for t in runs]
    # varies from one command to the next (a re-render trains nothing): never compared
    record["this_command"] = {"trained": sum(trained), "loaded": len(trained) - sum(trained),
                              "wall_seconds": round(time.perf_counter() - start, 1)}
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    draw(res, record, png_path, rerun)
    write_table(out_dir)
    return record


def unsolved(res) -> list:
    """The labels that ended unsolved in some seed: what a 4x re-run checks."""
    return [label for label in res.labels if res.solved(label) < len(res.seeds)]


def recheck(res, store, *, train, workers=None, executor=None, progress=True):
    """The 4x re-run of ``res``'s unsolved variants on new seeds, kept in ``store``: a
    Comparison, or None where nothing is unsolved, or where ``train`` is False and the
    store does not hold every run (then nothing is trained)."""
    labels = unsolved(res)
    if not labels:
        return None
    plan = plan_rerun(res, labels, MIN_NEGATIVE_FACTOR, where="reproduce")
    if not train:
        if not store.is_dir():
            return None
        kept = RunStore(store, labels)
        if not all(pathlib.Path(kept.files(lb, s)[1]).exists()
                   for lb in labels for s in plan.seeds):
            return None
    return compare(list(plan.variants), res.task_name, task_options=dict(res.task_options),
                   budget=plan.budget, seeds=list(plan.seeds), store=store,
                   workers=workers, executor=executor, progress=progress)


def summarize(repro, res, full=False, rerun=None) -> dict:
    """The record of a finished comparison: per variant the seeds solved by the task's
    criterion, when, and the final metric, and the same at 4x the steps on new seeds where
    ``rerun`` (:func:`recheck`) has it; whether each of the paper's expectations held (a
    "fails" at both budgets, a "solves" at this budget or at 4x); the verdict."""
    results = {}
    for label, expected in repro.expect.items():
        base = _outcome(res, label)
        solved, n = base["solved"], base["of"]
        again = _outcome(rerun, label) if rerun is not None and label in rerun.labels else None
        if expected == "solves":
            holds = solved == n
            holds_at_4x = not holds and again is not None and again["solved"] == again["of"]
            some = solved > 0 or (again is not None and again["solved"] > 0)
        else:
            holds = solved == 0 and (again is None or again["solved"] == 0)
            holds_at_4x, some = False, holds
        results[label] = {
            "expect": expected, **base, "holds": bool(holds),
            "holds_at_4x": bool(holds_at_4x), "partly": bool(some),
            "diverged_at": res.diverged[label], "at_4x": again}
    ranking = _ranking(repro.ranking, res) if repro.ranking else None
    verdict = _verdict(results, ranking)
    variants = list(res.variants.values())
    return {
        "name": repro.name, "paper": repro.paper, "claim": repro.claim,
        "paper_number": repro.paper_number,
        "note": repro.describe_setting(res.budget, variants, res.success), "full": full,
        "task": res.task_text(), "task_options": dict(res.task_options),
        "criterion": res.success.describe(),
        "metric": res.success.metric, "budget": res.budget.describe(),
        "budget_fields": res.budget.record(),
        "variant_budgets": {v.label: dict(v.budget or {}) for v in variants},
        "seeds": list(res.seeds),
        "variants": {lb: v.describe(res.task) for lb, v in res.variants.items()},
        "results": results, "ranking": ranking, "verdict": verdict,
        "ours": ours_text(results, res.success.metric, ranking),
        "rerun_4x": _rerun_text(res, rerun, repro.name, full),
        "train_seconds": round(_seconds(res) + (_seconds(rerun) if rerun else 0.0), 1),
        "made_with": _made_with(res, rerun),
        "command": command(repro.name, full, robust=rerun is not None)}


def _made_with(*comparisons) -> list:
    """What trained the runs of ``comparisons`` (None: skipped): one entry per distinct
    ``made_with`` (None where the store did not record it), with how many runs had it,
    in the order first met."""
    groups = []
    for c in comparisons:
        for label in c.labels if c is not None else ():
            for env in c.made_with[label]:
                same = [g for g in groups if g["environment"] == env]
                if same:
                    same[0]["runs"] += 1
                else:
                    groups.append({"environment": env, "runs": 1})
    return groups


def _ranking(order, res) -> dict:
    """Does the paper's order (best first) hold? By the medians, and seed by seed: a run
    of each variant with the same seed saw the same data, so each seed is a paired
    comparison. With three seeds the medians alone can come in order while the seeds'
    ranges overlap; the order holds only if it holds in every seed (a diverged run, NaN,
    beats nothing)."""
    better = "above" if res.success.direction == "above" else "below"
    finals = {lb: np.asarray(res.final(lb, "success"), dtype=float) for lb in order}
    medians = {lb: float(np.median(finals[lb])) for lb in order}
    by_median = all(_beats(medians[a], medians[b], better) for a, b in zip(order, order[1:]))
    in_order = [all(_beats(finals[a][i], finals[b][i], better)
                    for a, b in zip(order, order[1:])) for i in range(len(res.seeds))]
    return {"paper": list(order), "medians": medians, "by_median": bool(by_median),
            "seeds_in_order": int(sum(in_order)), "of": len(in_order),
            "holds": bool(by_median and all(in_order))}


def _verdict(results, ranking) -> str:
    """From ``results`` ({label: result}) and the ranking: "reproduced" where every
    expectation (and the ranking) held at the budget; "reproduced at 4x the steps" where
    the rest held there and each "solves" that did not held in every 4x seed. The paper's
    headline is what it says its cells do (each "solves", and the ranking); its "fails"
    are the baselines' contrast: where no seed met any part of the headline at either
    budget, "not reproduced", naming the baselines whose failure held; otherwise
    "partly reproduced" where something held, or some seed met a "solves"; "not
    reproduced" else.

    A "fails" holds only if no seed solves at either budget: where one held without its
    4x re-run (not run), the verdict says it stands at this budget."""
    ranked = [] if ranking is None else [ranking["holds"]]
    held = [r["holds"] for r in results.values()] + ranked
    headline = [r["partly"] for r in results.values() if r["expect"] == "solves"] + ranked
    failed = [lb for lb, r in results.items() if r["expect"] == "fails" and r["holds"]]
    unchecked = [lb for lb in failed if results[lb]["at_4x"] is None]
    if all(held):
        verdict = "reproduced"
    elif all([r["holds"] or r["holds_at_4x"] for r in results.values()] + ranked):
        verdict = "reproduced at 4x the steps"
    elif headline and not any(headline) and failed:
        baselines = (f"the {failed[0]} baseline's failure holds" if len(failed) == 1 else
                     f"the {', '.join(failed)} baselines' failures hold")
        return (f"not reproduced ({baselines}" + (" at this budget; 4x re-run not run)"
                                                  if unchecked else ")"))
    elif any(held) or any(headline):
        verdict = "partly reproduced"
    else:
        return "not reproduced"
    return verdict + (" at this budget (4x re-run not run)" if unchecked else "")


def _seconds(res) -> float:
    return sum(h.seconds for runs in res.histories.values() for h in runs)


def _outcome(res, label) -> dict:
    """Seeds solved, final metric and training seconds of ``label`` in ``res``."""
    return {"solved": res.solved(label), "of": len(res.seeds), "seeds": list(res.seeds),
            "final": [_round(v) for v in res.final(label, "success")],
            "solved_at": res.solved_at(label),
            "train_seconds": [round(h.seconds, 1) for h in res.histories[label]]}


def _rerun_text(res, rerun, name, full) -> str:
    """What the 4x re-run on new seeds found, or why there is none."""
    labels = unsolved(res)
    if not labels:
        return "none needed: every variant solved in every seed"
    if rerun is None:
        return (f"not run ({', '.join(labels)} unsolved in some seed; "
                f"`{command(name, full, robust=True)}` runs it)")
    finals = {lb: ", ".join("diverged" if v is None else f"{v:.3g}" for v in
                            _outcome(rerun, lb)["final"]) for lb in rerun.labels}
    return (f"{rerun.budget.steps} steps ({MIN_NEGATIVE_FACTOR}x), seeds {list(rerun.seeds)}: "
            + "; ".join(f"{lb}: {rerun.solved(lb)}/{len(rerun.seeds)} solved "
                        f"({rerun.success.metric} {finals[lb]})" for lb in rerun.labels))


def _beats(a, b, better):
    return a > b if better == "above" else a < b


def ours_text(results, metric, ranking=None) -> str:
    """One line: each variant's seeds solved and its final metric per seed, and whether
    the medians come in the paper's order."""
    parts = []
    for label, r in results.items():
        finals = ", ".join("diverged" if v is None else f"{v:.3g}" for v in r["final"])
        parts.append(f"{label}: {r['solved']}/{r['of']} solved ({metric} {finals})")
    text = "; ".join(parts)
    if ranking:
        text += "; " + _ranking_text(ranking)
    return text


def _ranking_text(ranking) -> str:
    order = " > ".join(f"{lb} {ranking['medians'][lb]:.3g}" for lb in ranking["paper"])
    by_median = ranking.get("by_median", ranking["holds"])     # older records: medians only
    text = f"the paper's order by median ({order}) {'holds' if by_median else 'does not hold'}"
    if "seeds_in_order" not in ranking:
        return text
    seeds = (f"seed by seed (same seed, same data) in {ranking['seeds_in_order']} of "
             f"{ranking['of']}")
    if ranking["holds"]:
        return f"{text}, and {seeds}"
    return f"{text}; {seeds}, so the order is not shown" if by_median else f"{text}; {seeds}"


def _round(value):
    return None if not np.isfinite(value) else float(f"{value:.6g}")


def draw(res, record, png_path, rerun=None):
    """The curves of the task's success metric, its threshold, and the budget under it;
    beside them, where there is a 4x re-run, its curves, one thin line per seed (a
    "1/3 solved" is one line that reaches the threshold, which a median would hide)."""
    if rerun is None:
        fig, ax = pyplot().subplots(figsize=(8, 4.6))
        res.plot(ax, kind="success", title=f"{record['paper']}\n{record['claim']}")
        ax.title.set_fontsize(9)
    else:
        # room between the panels for the left one's legend, which sits outside its axes
        fig, (ax, ax4) = pyplot().subplots(1, 2, figsize=(15, 4.6), sharey=True,
                                           gridspec_kw={"wspace": 0.5})
        fig.suptitle(f"{record['paper']}\n{record['claim']}", fontsize=9, y=1.04)
        res.plot(ax, kind="success", title=f"the budget: {res.budget.steps} steps, seeds "
                                           f"{list(res.seeds)}")
        rerun.plot(ax4, kind="success", per_seed=True,
                   title=f"4x the steps, new seeds {list(rerun.seeds)}: the variants left "
                         "unsolved (thin: each seed)")
        for a in (ax, ax4):
            a.title.set_fontsize(9)
    fig.text(0.01, -0.01, f"{record['verdict'].upper()}: {record['ours']}\nAt 4x the steps "
             f"on new seeds: {record['rerun_4x']}\n{res.caption()}",
             fontsize=7.5, va="top", ha="left", wrap=True, color="0.2")
    save(fig, png_path.parent, png_path.stem)       # no timestamp: the same bytes on a rerun

