"""``python -m rnnzoo reproduce``: every reproduction runs end to end at toy scale, resumes
from its store, and the committed table is exactly what the committed records render."""
from __future__ import annotations

import dataclasses
import json
import pathlib

import pytest

from rnnzoo.cli.reproduce import main as reproduce_main
from rnnzoo.tasks import make_task
from rnnzoo.teaching.reproductions import CATALOG, Reproduction, records, render_table
from rnnzoo.teaching.reproductions import running
from rnnzoo.teaching.reproductions import table as repro_table
from rnnzoo.teaching.reproductions.running import paths, reproduce

FIGURES = pathlib.Path(__file__).resolve().parent.parent / "figures"
# the fields of a record that vary from one command to the next: what the command that
# wrote it did (runs trained or loaded, its wall time). Every other field is a function of
# the catalog and the stored runs.
VARYING = ("this_command",)


def _kept(record):
    return {k: v for k, v in record.items() if k not in VARYING}


def expected_verdict(results, ranking=None):
    """The verdict's rule, restated: the paper's headline (its "solves" and ranking) met
    in no seed is "not reproduced" whatever the baselines did (they are named); a "fails"
    that held without its 4x re-run stands at this budget."""
    ranked = [] if ranking is None else [ranking["holds"]]
    held = [r["holds"] for r in results.values()] + ranked
    headline = [r["partly"] for r in results.values() if r["expect"] == "solves"] + ranked
    failed = [lb for lb, r in results.items() if r["expect"] == "fails" and r["holds"]]
    unchecked = any(results[lb]["at_4x"] is None for lb in failed)
    suffix = " at this budget (4x re-run not run)" if unchecked else ""
    if all(held):
        return "reproduced" + suffix
    if all([r["holds"] or r["holds_at_4x"] for r in results.values()] + ranked):
        return "reproduced at 4x the steps"
    if headline and not any(headline) and failed:
        return (f"not reproduced (the {', '.join(failed)} baseline"
                + ("'s failure holds" if len(failed) == 1 else "s' failures hold")
                + (" at this budget; 4x re-run not run)" if unchecked else ")"))
    return "partly reproduced" + suffix if any(held) or any(headline) else "not reproduced"


def _rounding(n_runs):
    """The most a total of unrounded seconds rounded to 0.1 s can differ from the sum of
    ``n_runs`` per-run seconds each rounded to 0.1 s."""
    return 0.05 * (n_runs + 1) + 1e-9


@pytest.mark.parametrize("name", list(CATALOG))
def test_each_reproduction_runs_at_toy_scale_and_resumes(name, tmp_path, capsys):
    tiny = CATALOG[name].tiny()
    record = reproduce(tiny, tmp_path, workers=1)
    json_path, png_path, store = paths(tmp_path, name)
    assert json.loads(json_path.read_text()) == record
    assert png_path.stat().st_size > 10_000
    assert set(record["results"]) == set(tiny.expect)
    for label, r in record["results"].items():
        assert r["of"] == 1 and r["expect"] == tiny.expect[label]
        assert r["holds"] == (r["solved"] == 1 if r["expect"] == "solves" else r["solved"] == 0)
    if tiny.ranking:
        r = record["ranking"]
        assert r["paper"] == list(tiny.ranking) and set(r["medians"]) == set(tiny.ranking)
        in_order = r["medians"][tiny.ranking[0]] > r["medians"][tiny.ranking[1]]
        assert r["by_median"] == in_order and r["holds"] == in_order     # one seed
        assert (r["seeds_in_order"], r["of"]) == (int(in_order), 1)
    else:
        assert record["ranking"] is None
    assert record["verdict"] == expected_verdict(record["results"], record["ranking"])
    assert record["command"] == f"python -m rnnzoo reproduce {name}"
    # without --robust nothing is re-run, and the record says so, naming the unsolved
    unsolved = [lb for lb, r in record["results"].items() if r["solved"] < r["of"]]
    assert all(r["at_4x"] is None for r in record["results"].values())
    assert record["rerun_4x"] == (
        f"not run ({', '.join(unsolved)} unsolved in some seed; `python -m rnnzoo reproduce "
        f"{name} --robust` runs it)" if unsolved
        else "none needed: every variant solved in every seed")
    assert not store.with_name(name + "_4x").exists()
    runs = [s for r in record["results"].values() for s in r["train_seconds"]]
    assert record["train_seconds"] == pytest.approx(sum(runs), abs=_rounding(len(runs)))
    table = (tmp_path / "reproductions.md").read_text()
    assert table == render_table([record]) and name in table
    # the same command again trains nothing: every run comes from the store
    capsys.readouterr()
    again = reproduce(tiny, tmp_path, workers=1)
    assert "loaded" in capsys.readouterr().out
    assert _kept(again) == _kept(record)


def test_robust_reruns_the_unsolved_at_4x_the_steps_on_new_seeds_and_keeps_them(
        tmp_path, capsys, monkeypatch):
    """--robust: each variant unsolved in some seed is trained again at 4x the steps on
    the second seed block, into NAME_4x; a later run without --robust reads a complete
    NAME_4x (training nothing) and says "not run" for an incomplete one; a paper's "fails"
    holds only if no seed solves at either budget."""
    from rnnzoo.teaching.reproductions import running
    tiny = CATALOG["urnn_copy"].tiny()              # 3 steps: nothing solves the copy
    record = reproduce(tiny, tmp_path, robust=True, workers=1)
    assert record["command"] == "python -m rnnzoo reproduce urnn_copy --robust"
    store = paths(tmp_path, "urnn_copy")[2].with_name("urnn_copy_4x")
    assert record["rerun_4x"].startswith("12 steps (4x), seeds [10]: urnn: 0/1 solved")
    for label, r in record["results"].items():
        again = r["at_4x"]
        assert again["of"] == 1 and again["seeds"] == [10] and again["solved"] == 0
        assert (store / label / "seed-10.json").exists()
        assert r["holds"] == (r["expect"] == "fails")
    runs = [s for r in record["results"].values()
            for s in r["train_seconds"] + r["at_4x"]["train_seconds"]]
    assert record["train_seconds"] == pytest.approx(sum(runs), abs=_rounding(len(runs)))
    assert "12 steps (4x)" in json.dumps(record) and \
        "12 steps (4x)" in (tmp_path / "reproductions.md").read_text()
    capsys.readouterr()
    again = reproduce(tiny, tmp_path, workers=1)       # no --robust: read, not trained
    out = capsys.readouterr().out
    assert "loaded from" in out and "final eval" not in out and "diverged at" not in out
    assert _kept(again) == _kept(record)
    (store / "lstm" / "seed-10.json").unlink()
    partial = reproduce(tiny, tmp_path, workers=1)
    assert partial["rerun_4x"].startswith("not run (urnn, lstm unsolved")
    assert all(r["at_4x"] is None for r in partial["results"].values())
    assert not (store / "lstm" / "seed-10.json").exists()
    # a "fails" that a 4x seed solves does not hold
    res = running.compare(list(tiny.variants), tiny.task, task_options=tiny.task_options,
                          budget=tiny.budget, seeds=list(tiny.seeds),
                          store=paths(tmp_path, "urnn_copy")[2], workers=1, progress=False)
    rerun = running.recheck(res, store, train=True, workers=1, progress=False)
    monkeypatch.setattr(rerun, "solved", lambda label: 1)
    flipped = running.summarize(tiny, res, rerun=rerun)
    assert flipped["results"]["lstm"]["solved"] == 0
    assert not flipped["results"]["lstm"]["holds"]
    # (the patch solves the uRNN's 4x seed too: its "solves" met there, the LSTM's "fails"
    # broken, so partly)
    assert flipped["results"]["urnn"]["holds_at_4x"]
    assert flipped["verdict"] == "partly reproduced"
    assert "lstm: 1/1 solved" in flipped["rerun_4x"]


def test_a_solves_met_only_at_4x_is_reproduced_at_4x_and_some_seeds_partly(
        tmp_path, monkeypatch):
    """A paper's "solves" (coRNN learns the adding problem) that the budget misses but
    every 4x seed meets is "reproduced at 4x the steps"; met by some seed, at either
    budget, "partly reproduced"; by none, "not reproduced"."""
    from rnnzoo.teaching.reproductions import running
    tiny = CATALOG["cornn_adding"].tiny()           # one variant, expected to solve
    record = reproduce(tiny, tmp_path, robust=True, workers=1, progress=False)
    res = running.compare(list(tiny.variants), tiny.task, task_options=tiny.task_options,
                          budget=tiny.budget, seeds=list(tiny.seeds),
                          store=paths(tmp_path, "cornn_adding")[2], workers=1,
                          progress=False)
    rerun = running.recheck(res, paths(tmp_path, "cornn_adding")[2].with_name(
        "cornn_adding_4x"), train=False, workers=1, progress=False)
    label, = tiny.expect
    assert record["results"][label]["solved"] == 0 and record["verdict"] == "not reproduced"

    def verdict(base, at_4x, of_4x=1):
        monkeypatch.setattr(res, "solved", lambda lb: base)
        monkeypatch.setattr(rerun, "solved", lambda lb: at_4x)
        monkeypatch.setattr(rerun, "seeds", list(range(10, 10 + of_4x)))
        return running.summarize(tiny, res, rerun=rerun)

    late = verdict(0, 1)
    assert late["verdict"] == "reproduced at 4x the steps"
    assert late["results"][label]["holds_at_4x"] and not late["results"][label]["holds"]
    assert verdict(0, 1, of_4x=3)["verdict"] == "partly reproduced"     # 1 of 3 at 4x
    assert verdict(1, 0)["verdict"] == "reproduced"                     # the budget did
    assert verdict(0, 0)["verdict"] == "not reproduced"
    monkeypatch.setattr(res, "seeds", [0, 1, 2])
    assert verdict(2, 0)["verdict"] == "partly reproduced"              # 2 of 3 at the budget
    assert verdict(1, 0)["verdict"] == "partly reproduced"              # 1 of 3 is some too
    # a 4x seed that diverged reads "diverged" in the 4x column
    monkeypatch.setattr(rerun, "final", lambda lb, kind: [float("nan")])
    assert "(MSE diverged)" in verdict(0, 0)["rerun_4x"]


def test_a_paper_ranking_that_fails_keeps_the_verdict_from_reproduced(monkeypatch, tmp_path):
    """JANET beats the LSTM: with both solving in every seed but the order reversed, the
    reproduction is partly reproduced, not reproduced."""
    from rnnzoo.teaching.reproductions import running
    tiny = CATALOG["janet_permuted_digits"].tiny()
    res = running.compare(list(tiny.variants), tiny.task, task_options=tiny.task_options,
                          budget=tiny.budget, seeds=list(tiny.seeds),
                          store=paths(tmp_path, tiny.name)[2], workers=1, progress=False)
    monkeypatch.setattr(res, "solved", lambda lb: len(res.seeds))
    monkeypatch.setattr(running, "_beats", lambda a, b, better: True)
    assert running.summarize(tiny, res)["verdict"] == "reproduced"
    monkeypatch.setattr(running, "_beats", lambda a, b, better: False)
    record = running.summarize(tiny, res)
    assert not record["ranking"]["holds"] and record["verdict"] == "partly reproduced"


def test_a_ranking_holds_only_if_every_seed_is_in_order(monkeypatch):
    """Medians in the paper's order with one seed reversed is not the paper's order: the
    seeds are paired (same seed, same data), and the verdict is partly reproduced."""
    from rnnzoo.teaching.reproductions import running

    class Finished:                     # what summarize reads of a comparison, 3 seeds
        seeds = [0, 1, 2]
        success = make_task("permuted_digits", size=8, seed=0).success
        finals = {}

        def final(self, label, kind):
            return self.finals[label]

    res = Finished()
    res.finals = {"janet": [0.93, 0.955, 0.90], "lstm": [0.919, 0.922, 0.903]}
    ranking = running._ranking(("janet", "lstm"), res)
    assert ranking["by_median"] and (ranking["seeds_in_order"], ranking["of"]) == (2, 3)
    assert not ranking["holds"]
    solved = {"expect": "solves", "holds": True, "holds_at_4x": False, "partly": True,
              "at_4x": None}
    both = {"janet": solved, "lstm": solved}
    assert running._verdict(both, ranking) == "partly reproduced"
    assert "seed by seed (same seed, same data) in 2 of 3, so the order is not shown" in \
        running._ranking_text(ranking)
    res.finals["janet"][2] = 0.916                      # now every seed: it holds
    ranking = running._ranking(("janet", "lstm"), res)
    assert ranking["holds"] and ranking["seeds_in_order"] == 3
    assert running._verdict(both, ranking) == "reproduced"
    assert running._ranking_text(ranking).endswith(", and seed by seed (same seed, same "
                                                   "data) in 3 of 3")
    res.finals["janet"][0] = float("nan")               # a diverged run beats nothing
    assert running._ranking(("janet", "lstm"), res)["seeds_in_order"] == 2
    res.finals["janet"] = [0.5, 0.5, 0.95]              # medians reversed, one seed ahead
    ranking = running._ranking(("janet", "lstm"), res)
    assert not ranking["by_median"] and ranking["seeds_in_order"] == 1
    assert "does not hold; seed by seed" in running._ranking_text(ranking)


def test_a_record_from_before_the_4x_reruns_still_renders(tmp_path):
    """Another record in the folder, written by an older rnnzoo without the 4x fields,
    must not turn a finished reproduction into a traceback when the table is rewritten."""
    from rnnzoo.teaching.reproductions.table import OLD_RECORD
    record = reproduce(CATALOG["janet_permuted_digits"].tiny(), tmp_path, workers=1,
                       progress=False)
    old = {k: v for k, v in record.items() if k != "rerun_4x"}
    old["name"] = "older"
    (paths(tmp_path, "older")[0]).write_text(json.dumps(old))
    reproduce(CATALOG["urnn_copy"].tiny(), tmp_path, workers=1, progress=False)
    assert OLD_RECORD in (tmp_path / "reproductions.md").read_text()


def test_the_committed_table_is_what_the_committed_records_render():
    """figures/reproductions.md is generated: it must equal the rendering of the json
    records beside it, every record has its figure, and every record was run with the
    catalog's current setting (a changed budget must be re-run, not left standing)."""
    recs = records(FIGURES)
    table = FIGURES / "reproductions.md"
    if not recs:
        assert not table.exists()
        return
    assert table.read_text() == render_table(recs)
    assert "**stale**" not in table.read_text() and "not in the catalog" not in \
        table.read_text()
    for r in recs:
        json_path, png_path, _ = paths(FIGURES, r["name"], r["full"])
        assert png_path.exists(), png_path
        assert repro_table.stale(r) == [], r["name"]
        task_options, budget = CATALOG[r["name"]].setting(r["full"])
        assert r["task_options"] == task_options, r["name"]
        assert r["budget_fields"] == budget.record(), r["name"]
        assert r["seeds"] == list(CATALOG[r["name"]].seeds)
        task = make_task(CATALOG[r["name"]].task, seed=0, **task_options)
        assert r["variants"] == {v.label: v.describe(task) for v in
                                 CATALOG[r["name"]].variants_for(r["full"])}, r["name"]
        for label, res in r["results"].items():
            assert res["of"] == len(r["seeds"]) and 0 <= res["solved"] <= res["of"]


def test_the_catalog_states_what_each_paper_expects():
    assert len(CATALOG) >= 6
    for name, r in CATALOG.items():
        assert r.name == name and r.claim and r.paper_number and r.paper
        labels = [v.label for v in r.variants]
        assert set(r.expect) <= set(labels)
        if r.full:
            full_options, full_budget = r.setting(full=True)
            assert (full_options, full_budget) != r.setting()
            assert [v.label for v in r.variants_for(full=True)] == labels
    with pytest.raises(ValueError, match="expect must map"):
        dataclasses.replace(CATALOG["indrnn_adding"], expect={"gru": "solves"})
    with pytest.raises(ValueError, match="expect must map"):
        dataclasses.replace(CATALOG["indrnn_adding"], expect={"lstm": "wins"})
    with pytest.raises(ValueError, match="ranking must list"):
        dataclasses.replace(CATALOG["indrnn_adding"], ranking=("lstm",))
    with pytest.raises(ValueError, match="ranking must list"):
        dataclasses.replace(CATALOG["indrnn_adding"], ranking=("lstm", "gru"))
    with pytest.raises(ValueError, match="full may change task_options, budget and variants"):
        dataclasses.replace(CATALOG["indrnn_adding"], full={"seeds": (5,)})
    assert isinstance(CATALOG["indrnn_adding"], Reproduction)


def test_the_command_line_lists_and_refuses_clearly(capsys, tmp_path):
    assert reproduce_main(["--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in CATALOG)
    for argv, message in ((["nope"], "unknown reproduction"),
                          ([], "name the reproductions to run, or give --all"),
                          (["--all", "indrnn_adding"], "or give --all"),
                          (["indrnn_adding", "--workers", "2", "--scheduler", "tcp://x:1"],
                           "not allowed with argument"),
                          (["indrnn_adding", "--out", str(tmp_path / "f.txt")],
                           "is not a folder")):
        if message == "is not a folder":
            (tmp_path / "f.txt").write_text("x")
        with pytest.raises(SystemExit) as exit_:
            reproduce_main(argv)
        assert exit_.value.code == 2
        assert message in capsys.readouterr().err


def test_the_command_runs_one_quietly_and_resumes(tmp_path, capsys, monkeypatch):
    """`reproduce NAME --out DIR --workers 1` at toy scale: the verdict line, the table;
    --quiet prints no line per run; a bad setting is a usage error, not a traceback."""
    import rnnzoo.teaching.reproductions as repros
    tiny = {name: CATALOG[name].tiny() for name in ("orthogonal_copy",)}
    monkeypatch.setattr(repros, "CATALOG", tiny)
    assert reproduce_main(["orthogonal_copy", "--out", str(tmp_path), "--workers", "1",
                           "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "orthogonal_copy: " in out and "(trained 2 runs in " in out and "seed 0:" not in out
    assert (tmp_path / "reproductions.md").exists()
    assert reproduce_main(["orthogonal_copy", "--out", str(tmp_path), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "loaded from" in out and "new seeds: not run (orthogonal, lstm unsolved" in out
    # a command that trained nothing says so (it printed "(N s of training)" before)
    assert "(all 2 runs loaded from their stores, none trained; " in out
    assert " core-seconds of training recorded in the runs)" in out
    assert reproduce_main(["orthogonal_copy", "--out", str(tmp_path), "--workers", "1",
                           "--robust", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "new seeds: 12 steps (4x), seeds [10]: orthogonal: 0/1 solved" in out
    broken = dataclasses.replace(tiny["orthogonal_copy"], task_options={"T": 0})
    monkeypatch.setattr(repros, "CATALOG", {"orthogonal_copy": broken})
    with pytest.raises(SystemExit) as exit_:
        reproduce_main(["orthogonal_copy", "--out", str(tmp_path / "b"), "--workers", "1"])
    assert exit_.value.code == 2 and "T" in capsys.readouterr().err


def test_a_diverged_seed_reads_diverged_in_the_verdict_line():
    from rnnzoo.teaching.reproductions.running import ours_text
    results = {"cornn": {"solved": 0, "of": 3, "final": [0.167, None, 0.154]}}
    assert ours_text(results, "MSE") == "cornn: 0/3 solved (MSE 0.167, diverged, 0.154)"


@pytest.fixture
def no_training(monkeypatch):
    """Any reproduce command that got as far as training fails the test."""
    import rnnzoo.teaching.reproductions as repros

    def refuse(*args, **kwargs):
        raise AssertionError("training started")
    monkeypatch.setattr(repros, "reproduce", refuse)


# what is in the way under --out, for `reproduce orthogonal_copy --full`
IN_THE_WAY = {"reproductions.md": "cannot write reproductions.md",
              "reproductions/orthogonal_copy_full.json": "cannot write orthogonal_copy_full.json",
              "reproductions/orthogonal_copy_full.png": "cannot write orthogonal_copy_full.png"}


@pytest.mark.parametrize("folder", list(IN_THE_WAY))
def test_out_is_checked_for_every_file_before_training(capsys, tmp_path, no_training, folder):
    """A folder where the table, a record or a figure goes is refused before training,
    not found by the write after it."""
    (tmp_path / folder).mkdir(parents=True)
    with pytest.raises(SystemExit) as exit_:
        reproduce_main(["orthogonal_copy", "--full", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "Traceback" not in err and IN_THE_WAY[folder] in err


@pytest.mark.parametrize("file", ["reproductions", "reproductions/runs"])
def test_out_with_a_file_where_a_folder_goes(capsys, tmp_path, no_training, file):
    (tmp_path / file).parent.mkdir(exist_ok=True)
    (tmp_path / file).write_text("")
    with pytest.raises(SystemExit) as exit_:
        reproduce_main(["orthogonal_copy", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and f"--out {tmp_path / file}: exists and is not a folder" in err


def test_a_write_that_fails_after_training_is_an_error_line_not_a_traceback(
        capsys, tmp_path, monkeypatch):
    """--out passed the check, then the table could not be written (a folder took its
    name meanwhile): one line naming the path, that the runs are kept, exit status 1."""
    import errno

    import rnnzoo.teaching.reproductions as repros
    table = tmp_path / "reproductions.md"

    def trained_then_the_write_fails(*args, **kwargs):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(table))
    monkeypatch.setattr(repros, "reproduce", trained_then_the_write_fails)
    assert reproduce_main(["orthogonal_copy", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"error: [Errno 21] Is a directory: '{table}'" in err and "Traceback" not in err
    assert f"every finished run is kept under {tmp_path}/reproductions/runs/" in err


# a damaged record of another reproduction under --out, and what the refusal says of it
DAMAGED = {"not JSON": ("{\"name\": ", "cannot read the reproduction record"),
           "not a record": ("[1, 2]", "holds a list, not a record"),
           "a key missing": (None, "lacks ['verdict']"),
           # every key there, but one the table's row cannot be rendered from
           "a number for text": ({"paper_number": 0.5}, "has a field of the wrong type"),
           "text for a number": ({"train_seconds": "12"}, "has a field of the wrong type")}


@pytest.mark.parametrize("damage", list(DAMAGED))
def test_a_damaged_record_under_out_is_refused_before_training(capsys, tmp_path, no_training,
                                                                damage):
    """The table is rewritten from every record after a reproduction: another record that
    cannot be rendered is a usage error naming it before training, not a traceback (a
    missing key) or an error (bad JSON) after it."""
    text, message = DAMAGED[damage]
    if not isinstance(text, str):
        record = json.loads((FIGURES / "reproductions" / "indrnn_adding.json").read_text())
        if text is None:
            del record["verdict"]
        else:
            record.update(text)
        text = json.dumps(record)
    damaged = tmp_path / "reproductions" / "indrnn_adding.json"
    damaged.parent.mkdir()
    damaged.write_text(text)
    with pytest.raises(SystemExit) as exit_:
        reproduce_main(["orthogonal_copy", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "Traceback" not in err
    assert f"{damaged}" in err and message in err and "move it away or run" in err


def test_the_record_a_command_rewrites_may_be_damaged(tmp_path, monkeypatch):
    """Its own record is written anew, so a damaged one is no reason to refuse: the
    library's reproduce reads every other record before training and skips its own."""
    stem = paths(tmp_path, "urnn_copy")[0]
    stem.parent.mkdir()
    stem.write_text("{")
    record = reproduce(CATALOG["urnn_copy"].tiny(), tmp_path, workers=1, progress=False)
    assert json.loads(stem.read_text())["verdict"] == record["verdict"]
    (tmp_path / "reproductions" / "other.json").write_text("{")
    import rnnzoo.teaching.reproductions.running as running

    def refuse(*args, **kwargs):
        raise AssertionError("training started")
    monkeypatch.setattr(running, "compare", refuse)
    with pytest.raises(ValueError, match="other.json"):
        reproduce(CATALOG["urnn_copy"].tiny(), tmp_path, workers=1, progress=False)


# ------------------------------------------------ the committed records against their runs
def rederived(record_path, runs_folder, monkeypatch):
    """The record ``record_path`` as the catalog and the stored runs under
    ``runs_folder`` give it now, nothing trained (a missing run fails the test rather
    than starting one): the record's fields that differ, but for VARYING."""
    from rnnzoo.teaching.experiments import running as experiments_running

    def refuse(jobs, todo, *args):
        if todo:
            raise AssertionError(f"{record_path.name}: {len(todo)} run(s) missing from "
                                 f"{runs_folder}; this test trains nothing")
    monkeypatch.setattr(experiments_running, "_train", refuse)
    old = json.loads(record_path.read_text())
    repro = CATALOG[old["name"]]
    task_options, budget = repro.setting(old["full"])
    store = runs_folder / record_path.stem
    res = running.compare(list(repro.variants_for(old["full"])), repro.task,
                          task_options=task_options, budget=budget, seeds=list(repro.seeds),
                          store=store, workers=1, progress=False)
    rerun = running.recheck(res, store.with_name(store.name + "_4x"), train=False,
                            workers=1, progress=False)
    new = running.summarize(repro, res, old["full"], rerun)
    assert set(VARYING) <= set(old), f"{record_path.name} lacks {VARYING}"
    return sorted(k for k in set(_kept(new)) | set(_kept(old)) if new.get(k) != old.get(k))


@pytest.mark.parametrize("path", sorted((FIGURES / "reproductions").glob("*.json")),
                         ids=lambda p: p.stem)
def test_every_committed_record_is_what_its_committed_runs_give(path, monkeypatch):
    """Each committed record is re-derived from its committed run stores (loaded, not
    trained: compare, the 4x re-run's recheck with train=False, summarize) and must equal
    the file in every field but VARYING: a hand-edited record, or one the runs no longer
    give, fails here, not only a table that disagrees with its records."""
    assert rederived(path, FIGURES / "reproductions" / "runs", monkeypatch) == []


def test_a_record_edited_by_hand_is_not_what_its_runs_give(tmp_path, monkeypatch):
    """The audit's forgery: orthogonal_copy's orthogonal RNN turned from 0/3 to 3/3
    solved and the verdict to "reproduced", the table rendered from it again."""
    forged = json.loads((FIGURES / "reproductions" / "orthogonal_copy.json").read_text())
    forged["results"]["orthogonal"].update(solved=3, final=[1.0, 1.0, 1.0], holds=True)
    forged["ours"] = forged["ours"].replace("orthogonal: 0/3", "orthogonal: 3/3")
    forged["verdict"] = "reproduced"
    path = tmp_path / "orthogonal_copy.json"
    path.write_text(json.dumps(forged))
    assert rederived(path, FIGURES / "reproductions" / "runs", monkeypatch) == \
        ["ours", "results", "verdict"]


# ------------------------------------------------------------ a record against the catalog
@pytest.mark.parametrize("change,fields", [
    ({"task_options": {"T": 1000}}, ["task_options"]),
    ({"note": "the paper runs T = 100 and 500"}, ["note"]),
    ({"paper_number": "uRNN cross-entropy about 0"}, ["paper_number"]),
    ({"claim": "the uRNN learns the copy task"}, ["claim"]),
    ({"seeds": (0, 1)}, ["seeds"]),
    ({"paper_setting": {"hidden": "40"}}, ["note"])])
def test_a_record_the_catalog_has_changed_since_is_marked_stale(monkeypatch, change, fields):
    """The audit's urnn_copy at T = 500 in the record, 1,000 in the catalog (and a changed
    text) is not shown as the catalog's: its verdict is marked stale with the fields that
    differ, and the command that writes it anew."""
    import dataclasses as dc
    record = json.loads((FIGURES / "reproductions" / "urnn_copy.json").read_text())
    assert repro_table.stale(record) == []
    changed = dc.replace(CATALOG["urnn_copy"], **change)
    monkeypatch.setitem(repro_table.CATALOG, "urnn_copy", changed)
    problems = repro_table.stale(record)
    assert problems == fields
    row = [line for line in render_table([record]).splitlines()
           if line.startswith("| [urnn_copy")][0]
    verdict = row.split(" | ")[5]
    assert verdict.startswith("**stale**: the catalog now differs in ")
    assert all(f in verdict for f in problems)
    assert verdict.endswith(f"when written: {record['verdict']}")
    assert "`python -m rnnzoo reproduce urnn_copy` writes it anew" in verdict


def test_a_fair_default_that_follows_the_length_is_part_of_the_check(monkeypatch):
    """JANET's chrono init follows the sequence length: permuted digits of another size
    change the variants' description as well as the task's options."""
    import dataclasses as dc
    record = json.loads((FIGURES / "reproductions" / "janet_permuted_digits.json").read_text())
    monkeypatch.setitem(repro_table.CATALOG, "janet_permuted_digits",
                        dc.replace(CATALOG["janet_permuted_digits"], task_options={"size": 12}))
    assert repro_table.stale(record) == ["task_options", "variants"]


def test_a_record_whose_reproduction_left_the_catalog_is_marked(monkeypatch, tmp_path):
    record = json.loads((FIGURES / "reproductions" / "urnn_copy.json").read_text())
    monkeypatch.delitem(repro_table.CATALOG, "urnn_copy")
    assert repro_table.stale(record) == ["not in the catalog"]
    (tmp_path / "reproductions").mkdir()
    (tmp_path / "reproductions" / "urnn_copy.json").write_text(json.dumps(record))
    text = repro_table.write_table(tmp_path).read_text()
    assert "**not in the catalog** (its reproduction was removed or renamed); when " \
           f"written: {record['verdict']}" in text


# ------------------------------------------------------------------ what made the runs
def test_a_record_says_what_made_its_runs_and_what_its_command_did(tmp_path, capsys):
    """New runs record the commit, machine and NumPy/BLAS that made them, and the record
    groups them; the command that trained them says so, and a second one that loads them
    says it trained nothing (its wall time is its own: the runs' training time is kept,
    as core-seconds from the stored runs)."""
    from rnnzoo.cli.reproduce import what_it_did
    from rnnzoo.teaching.experiments.provenance import describe, made_with
    tiny = CATALOG["urnn_copy"].tiny()
    record = reproduce(tiny, tmp_path, workers=1, progress=False)
    assert record["made_with"] == [{"environment": made_with(), "runs": 2}]
    assert record["this_command"]["trained"] == 2 and record["this_command"]["loaded"] == 0
    assert what_it_did(record).startswith("trained 2 runs in ")
    again = reproduce(tiny, tmp_path, workers=1, progress=False)
    assert again["this_command"]["trained"] == 0 and again["this_command"]["loaded"] == 2
    assert again["train_seconds"] == record["train_seconds"]
    assert what_it_did(again) == ("all 2 runs loaded from their stores, none trained; "
                                  f"{again['train_seconds']:.0f} core-seconds of training "
                                  f"recorded in the runs")
    row = (tmp_path / "reproductions.md").read_text().splitlines()[-1].split(" | ")
    assert row[7] == f"{again['train_seconds']:.0f} core-s"
    assert row[8] == f"{describe(made_with())} (2 runs)"
    # what the committed runs did not record stays unrecorded
    committed = json.loads((FIGURES / "reproductions" / "urnn_copy.json").read_text())
    assert committed["made_with"] == [{"environment": None, "runs": 9}]
    assert repro_table._made_with_cell(committed["made_with"]) == "not recorded (9 runs)"
    assert repro_table._made_with_cell(None) == "not recorded"
    older = {**committed, "train_seconds": None}
    assert render_table([older]).splitlines()[-1].split(" | ")[7] == "not recorded"


# --------------------------------------------------------------------------- verdicts
def _result(expect, holds, partly=None, at_4x=None, holds_at_4x=False):
    return {"expect": expect, "holds": holds, "holds_at_4x": holds_at_4x,
            "partly": holds if partly is None else partly, "at_4x": at_4x}


RERUN = {"solved": 0, "of": 3}          # a 4x re-run that was made


@pytest.mark.parametrize("results,verdict", [
    # urnn_copy without its 4x re-run: the LSTM's failure stands at this budget only
    ({"urnn": _result("solves", True), "lstm": _result("fails", True)},
     "reproduced at this budget (4x re-run not run)"),
    ({"urnn": _result("solves", True), "lstm": _result("fails", True, at_4x=RERUN)},
     "reproduced"),
    # indrnn_adding: the IndRNN 0/3 at both budgets, only the LSTM's failure holds
    ({"indrnn": _result("solves", False, at_4x=RERUN),
      "lstm": _result("fails", True, at_4x=RERUN)},
     "not reproduced (the lstm baseline's failure holds)"),
    ({"indrnn": _result("solves", False), "lstm": _result("fails", True)},
     "not reproduced (the lstm baseline's failure holds at this budget; 4x re-run not "
     "run)"),
    ({"a": _result("solves", False), "lstm": _result("fails", True),
      "gru": _result("fails", True, at_4x=RERUN)},
     "not reproduced (the lstm, gru baselines' failures hold at this budget; 4x re-run "
     "not run)"),
    # some seed met the headline: partly
    ({"cornn": _result("solves", False, partly=True, at_4x=RERUN)}, "partly reproduced"),
    ({"urnn": _result("solves", False, partly=True, at_4x=RERUN),
      "lstm": _result("fails", True, at_4x=RERUN)}, "partly reproduced"),
    ({"urnn": _result("solves", False, partly=True), "lstm": _result("fails", True)},
     "partly reproduced at this budget (4x re-run not run)"),
    ({"urnn": _result("solves", False), "lstm": _result("fails", False)}, "not reproduced"),
    ({"urnn": _result("solves", False, holds_at_4x=True, at_4x=RERUN),
      "lstm": _result("fails", True, at_4x=RERUN)}, "reproduced at 4x the steps"),
    # no headline to miss (only "fails"): what held is part of the paper's claim
    ({"lstm": _result("fails", True, at_4x=RERUN), "gru": _result("fails", False)},
     "partly reproduced")])
def test_the_verdict_says_what_held_and_at_which_budget(results, verdict):
    assert running._verdict(results, None) == verdict == expected_verdict(results)


def test_a_ranking_that_held_is_part_of_the_headline():
    """JANET beats the LSTM: with neither solving in any seed but the order holding,
    something of the headline held (partly); with the order lost too, not reproduced."""
    both = {"janet": _result("solves", False), "lstm": _result("solves", False)}
    assert running._verdict(both, {"holds": True}) == "partly reproduced"
    assert running._verdict(both, {"holds": False}) == "not reproduced"


# ------------------------------------------------------- the setting beside the paper's
def _ours_in(record):
    """Each paper_setting key's value as the record's own budget fields give it, per
    variant: what its description must say on our side."""
    from rnnzoo.experiments import Budget
    from rnnzoo.teaching.reproductions.catalog import SETTINGS
    budget = Budget(**record["budget_fields"])
    repro = CATALOG[record["name"]]
    out = {}
    for key in repro.paper_setting:
        values = {SETTINGS[key][1](dataclasses.replace(budget, **changes))
                  for changes in record["variant_budgets"].values()}
        out[key] = values
    return out


def test_a_records_description_agrees_with_its_budget(tmp_path):
    """The audit's --full record said "here H = 64 ... 2,000 steps" (the default run's
    typed note) beside a budget of another H and steps: our side is now read from the
    budget the runs had. A --full run at toy scale (H = 6, 4 steps) says so, and so does
    every committed record."""
    tiny = dataclasses.replace(CATALOG["urnn_copy"].tiny(),
                               full={"budget": {"hidden": 6, "steps": 4}})
    record = reproduce(tiny, tmp_path, full=True, workers=1, progress=False)
    assert record["budget_fields"]["hidden"] == 6 and record["budget_fields"]["steps"] == 4
    assert "H: the paper 128 (uRNN), 40 (LSTM), about 6,500 parameters each, here 6;" in \
        record["note"]
    assert "here 64" not in record["note"] and "2,000" not in record["note"]
    for path in sorted((FIGURES / "reproductions").glob("*.json")):
        committed = json.loads(path.read_text())
        for key, values in _ours_in(committed).items():
            assert all(v in committed["note"] for v in values), (path.name, key, values)
    for name, repro in CATALOG.items():       # the prose is the paper's side only
        assert "here H" not in repro.note and "steps; here" not in repro.note, name


def test_each_variants_own_budget_is_in_the_table_and_the_description():
    """indrnn_adding's IndRNN runs at lr 2e-4 with 2 layers, the LSTM at the shared
    2e-3 and 1 layer: the table's budget cell says so, and the optimizer's "here" names
    each variant's rate."""
    record = json.loads((FIGURES / "reproductions" / "indrnn_adding.json").read_text())
    row = [line for line in render_table([record]).splitlines()
           if line.startswith("| [indrnn_adding")][0]
    assert "adam lr 0.002, batch 50, clip 1, 2000 steps, float32; indrnn (2 layers) with " \
           "layers=2, lr=0.0002; seeds [0, 1, 2]" in row
    assert "here adam 0.0002 (indrnn (2 layers)), adam 0.002 (lstm)" in record["note"]


def test_the_differences_from_the_papers_code_are_stated_beside_ours():
    """Every run clips the gradient's norm; the coRNN and EURNN authors' code does not
    clip, and the IndRNN authors' clips each element of the gradient through time at 10
    and cuts the rate x0.1 every 20,000 steps; the copy papers report the cross-entropy,
    where solved here is the task's recall criterion (read from the record)."""
    notes = {p.stem: json.loads(p.read_text())
             for p in (FIGURES / "reproductions").glob("*.json")}
    clip = "gradient clipping: the paper {}, here the whole gradient's norm at 1 (every run)"
    assert clip.format("none (the authors' adding_task.py does not clip)") in \
        notes["cornn_adding"]["note"]
    assert clip.format("none (the authors' code does not clip)") in notes["eurnn_copy"]["note"]
    indrnn = notes["indrnn_adding"]["note"]
    assert clip.format("each element of the gradient passed back through the recurrent "
                       "layers at 10 (the authors' gradclipvalue), not the norm") in indrnn
    assert "learning-rate schedule: the paper x0.1 every 20,000 steps (the authors' " \
           "adding.py), here none (a constant rate)" in indrnn
    assert "first layer's from U(0, 2^(1/T))" in indrnn
    for name in ("urnn_copy", "eurnn_copy", "orthogonal_copy"):
        r = notes[name]
        assert f"measure: the paper reports the cross-entropy; solved here is " \
               f"{r['criterion']}" in r["note"], name
    for name in ("indrnn_adding", "cornn_adding", "janet_permuted_digits"):
        assert "measure:" not in notes[name]["note"], name     # the paper's own metric
    with pytest.raises(ValueError, match="paper_setting's keys must be among"):
        dataclasses.replace(CATALOG["urnn_copy"], paper_setting={"momentum": "0.9"})


# ---------------------------------------------------------------------- the command line
@pytest.mark.parametrize("flags,named", [
    (["--full"], "--full"), (["--robust"], "--robust"), (["--out", "elsewhere"], "--out"),
    (["--workers", "2"], "--workers"), (["--scheduler", "tcp://x:1"], "--scheduler"),
    (["--quiet", "--full"], "--full, --quiet")])
def test_list_refuses_what_only_a_run_reads(capsys, flags, named):
    with pytest.raises(SystemExit) as exit_:
        reproduce_main(["--list"] + flags)
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert f"--list prints the reproductions and runs none; got {named} too" in err


@pytest.mark.parametrize("in_the_way", ["runs/orthogonal_copy_4x",
                                        "runs/orthogonal_copy_4x/lstm",
                                        "runs/orthogonal_copy/orthogonal",
                                        "runs/orthogonal_copy"])
def test_a_file_where_a_store_goes_is_refused_before_training(capsys, tmp_path, no_training,
                                                               in_the_way):
    """The 4x store is first written after the runs at the budget trained (hours, at
    the real scale): a file in its way is a usage error now."""
    path = tmp_path / "reproductions" / in_the_way
    path.parent.mkdir(parents=True)
    path.write_text("")
    with pytest.raises(SystemExit) as exit_:
        reproduce_main(["orthogonal_copy", "--robust", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and f"--out {path}: exists and is not a folder" in err
