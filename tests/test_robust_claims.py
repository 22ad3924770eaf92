"""Claims that must survive a larger budget and new seeds (rnnzoo.experiments.robust):
the re-run machinery on a tiny, fast comparison, the robustness entries in claims.json,
and the check that fails on a negative claim without a passing entry."""
import json
import pathlib

import numpy as np
import pytest

from rnnzoo import experiments as ex
from rnnzoo.core.validation import ArgumentTypeError
from rnnzoo.teaching import figures
from rnnzoo.teaching.figures import claims_file
from rnnzoo.teaching.experiments.robust import default_numbers

TINY = ex.Budget(steps=8, hidden=4, eval_every=4, eval_size=16, batch_size=8)


def tiny_compare(seeds=(0, 1), **kw):
    return ex.compare([ex.Variant("gru"), ex.Variant("rnn", label="rnn (tanh)")], "adding",
                      task_options={"T": 6}, budget=TINY, seeds=list(seeds), workers=1,
                      progress=False, **kw)


@pytest.fixture(scope="module")
def res():
    return tiny_compare()


def last_step(label):
    """A check that holds at 8 steps and not at 32: it reads the budget, so its verdict
    is known without trusting what the runs learned."""
    return lambda r: all(h.eval_steps[-1] <= 8 for h in r.histories[label])


def test_the_rerun_trains_the_labels_at_4x_the_steps_on_seeds_10_up(res, capsys):
    seen = []

    def runner(variants, task, **kw):
        seen.append(([v.label for v in variants], task, kw))
        return ex.compare(variants, task, **{**kw, "workers": 1})
    c = ex.robust_claim("the tanh rnn's runs end at step 8 at most", res,
                        last_step("rnn (tanh)"), labels=["rnn (tanh)"], robust=True,
                        runner=runner, strict=False)
    (labels, task, kw), = seen
    assert labels == ["rnn (tanh)"] and task == "adding" and kw["task_options"] == {"T": 6}
    assert kw["budget"].steps == 32 and kw["seeds"] == [10, 11]
    assert kw["budget"] == ex.Budget(steps=32, hidden=4, eval_every=4, eval_size=16,
                                     batch_size=8)
    assert c.passed and c.negative and c.robust_passed is False and not c.supported
    r = c.robustness
    assert (r["budget_factor"], r["seeds"], r["first_seeds"], r["steps"], r["passed"]) == \
        (4, [10, 11], [0, 1], 32, False)
    # the numbers are those of the re-run: the same compare, run here independently
    again = ex.compare([res.variants["rnn (tanh)"]], "adding", task_options={"T": 6},
                       budget=kw["budget"], seeds=[10, 11], workers=1, progress=False)
    expected = default_numbers(again)["rnn (tanh)"]
    got = r["numbers"]["rnn (tanh)"]
    np.testing.assert_array_equal(got["final MSE"], expected["final MSE"])
    assert got["below_half_baseline_at"] == expected["below_half_baseline_at"]
    assert got["solved_at"] == expected["solved_at"]
    # the first budget's numbers cover only the labels, from the comparison itself
    assert list(c.numbers) == ["rnn (tanh)"]
    np.testing.assert_array_equal(c.numbers["rnn (tanh)"]["final MSE"], res.final("rnn (tanh)"))
    out = capsys.readouterr().out
    assert "PASS: the tanh rnn's runs end" in out
    assert "ROBUST FAIL at 4x the steps (32) on seeds [10, 11]" in out
    assert "seed 10:" not in out                    # no progress lines unless asked


def test_a_claim_that_does_not_survive_raises_when_strict(res):
    with pytest.raises(ex.ClaimFailed, match="ROBUST FAIL"):
        ex.robust_claim("the gru's runs end at step 8 at most", res, last_step("gru"),
                        labels=["gru"], robust=True, workers=1)
    c = ex.robust_claim("the gru's runs have 3 evaluations or more", res,
                        lambda r: all(len(h.eval_steps) >= 3 for h in r.histories["gru"]),
                        labels=["gru"], robust=True, workers=1)
    assert c.supported and c.robust_passed is True


def test_skipped_unless_asked_and_nothing_is_trained(res):
    def refuse(*args, **kwargs):
        raise AssertionError("a skipped re-run must not train")
    c = ex.robust_claim("the tanh rnn stays", res, last_step("rnn (tanh)"),
                        labels=["rnn (tanh)"], runner=refuse)
    r = c.robustness
    assert r["skipped"] and "figures --robust" in r["reason"] and "passed" not in r
    assert (r["budget_factor"], r["seeds"], r["steps"]) == (4, [10, 11], 32)
    assert c.robust_passed is None and c.supported
    assert "ROBUSTNESS SKIPPED: 4x the steps (32) on seeds [10, 11] not run: not " \
           "requested" in str(c)


def test_positive_claims_rerun_at_the_same_budget_on_new_seeds(res):
    c = ex.robust_claim("every gru seed ends at step 8", res, last_step("gru"),
                        labels=["gru"], negative=False, robust=True, workers=1)
    assert c.robustness["budget_factor"] == 1 and c.robust_passed is True
    assert "negative" in c.to_dict() and c.to_dict()["negative"] is False


def test_plan_scales_a_variants_own_steps_and_checks_its_arguments(res):
    own = res.subset(["gru"])
    own.variants["gru"] = ex.Variant("gru", budget={"steps": 5, "tbptt": 2})
    plan = ex.plan_rerun(own, ["gru"], 3, [7])
    (v,) = plan.variants
    assert v.budget == {"steps": 15, "tbptt": 2} and plan.budget.steps == 24
    assert "seeds [7]" in plan.describe() and "24 steps" in plan.describe()
    cases = [
        (dict(labels="gru"), ArgumentTypeError, "labels must be a list"),
        (dict(labels=[]), ValueError, "at least one, distinct"),
        (dict(labels=["gru", "gru"]), ValueError, "at least one, distinct"),
        (dict(labels=["lstm"]), ValueError, r"\['lstm'\] are not among them"),
        (dict(factor=2), ValueError, "factor must be at least 4 for a negative claim"),
        (dict(factor=1), ValueError, "factor must be at least 4 for a negative claim"),
        (dict(factor=2.0), ArgumentTypeError, "factor must be an integer"),
        (dict(factor=0, negative=False), ValueError, "factor"),
        (dict(seeds=[1, 20]), ValueError, r"disjoint from the comparison's \[0, 1\]; got "
                                          r"\[1, 20\], which shares \[1\]"),
        (dict(seeds=[20, 20]), ValueError, "robust_claim: seeds must be distinct"),
        (dict(check="yes"), ArgumentTypeError, "check must be a function"),
        (dict(numbers=[1]), ArgumentTypeError, "numbers must be a function"),
        (dict(labels=["gru"], check=lambda r: r.final("gru")), ArgumentTypeError,
         "check must return True or False"),
        (dict(check=lambda r: r.solved("gru") == 0), ValueError, "outside labels"),
        (dict(numbers=lambda r: [1]), ArgumentTypeError, "numbers must return a dict"),
        (dict(robust="yes"), ArgumentTypeError, "robust"),
        (dict(runner="compare"), ArgumentTypeError, r"robust_claim: runner must be None "
                                                    r"\(compare\) or a function .*; got "
                                                    r"'compare' \(str\)"),
        (dict(runner=0, robust=True), ArgumentTypeError, "runner must be None"),
    ]
    for kwargs, error, match in cases:
        args = {"labels": ["rnn (tanh)"], "check": last_step("rnn (tanh)"), **kwargs}
        check = args.pop("check")
        with pytest.raises(error, match=match):
            ex.robust_claim("s", res, check, **args)
    with pytest.raises(ArgumentTypeError, match=r"robust_claim: statement must be the "
                                                r"sentence .*; got True \(bool\)"):
        ex.robust_claim(True, res, last_step("gru"), labels=["gru"])
    with pytest.raises(ArgumentTypeError, match="comparison must be a Comparison"):
        ex.plan_rerun({"gru": []}, ["gru"], 4)
    # a KeyError of the check's own is not mistaken for a label outside labels
    with pytest.raises(KeyError, match="mine"):
        ex.robust_claim("s", res, lambda r: {}["mine"], labels=["gru"])


def test_second_seed_block_is_disjoint():
    assert ex.second_seed_block([0, 1, 2]) == [10, 11, 12]
    assert ex.second_seed_block([0, 1, 2, 3, 4]) == [10, 11, 12, 13, 14]
    assert ex.second_seed_block([5, 6, 7]) == [15, 16, 17]
    block = ex.second_seed_block(list(range(12)))
    assert block == list(range(12, 24))


def test_claim_round_trips_through_json():
    entry = {"budget_factor": 4, "seeds": [10, 11], "first_seeds": [0, 1], "steps": 32,
             "labels": ["lstm"], "spec": "s", "passed": True, "numbers": {"x": np.float64(1)}}
    c = ex.Claim("lstm stays", True, {"final": np.array([0.1, 0.2])}, negative=True,
                 robustness=entry)
    d = json.loads(json.dumps(c.to_dict()))
    assert d["negative"] is True and d["robustness"]["numbers"] == {"x": 1.0}
    back = ex.Claim.from_dict(d)
    assert back.negative and back.robust_passed is True and str(back) == str(c)
    plain = ex.Claim("plain", True, {}).to_dict()
    assert "negative" not in plain and "robustness" not in plain      # claims.json unchanged
    again = ex.Claim.from_dict(plain)
    assert not again.negative and again.robustness is None and again.robust_passed is None


# ------------------------------------------------------------------ claims.json
def claim_dict(statement, negative=True, robustness=None, passed=True):
    out = {"statement": statement, "passed": passed, "numbers": {"final": [0.2]},
           "negative": negative}
    if robustness is not None:
        out["robustness"] = robustness
    return out


RUN = {"budget_factor": 4, "seeds": [10, 11, 12], "first_seeds": [0, 1, 2], "steps": 1600,
       "labels": ["lstm"], "spec": "plan", "passed": True, "numbers": {}}


def test_robustness_problems_names_every_unchecked_or_failed_claim():
    good = {"fig": [claim_dict("a", robustness=RUN),
                    claim_dict("positive, no entry", negative=False),
                    {"statement": "m", "measured": True, "numbers": {}}]}
    assert figures.robustness_problems(good) == []
    bad = {"fig": [claim_dict("none"),
                   claim_dict("skipped", robustness={**RUN, "skipped": True}),
                   claim_dict("failed", robustness={**RUN, "passed": False}),
                   claim_dict("2x", robustness={**RUN, "budget_factor": 2}),
                   claim_dict("same seeds", robustness={**RUN, "seeds": [2, 3, 4]}),
                   claim_dict("no seeds", robustness={**RUN, "seeds": []}),
                   claim_dict("positive failed", negative=False,
                              robustness={**RUN, "budget_factor": 1, "passed": False}),
                   claim_dict("positive skipped", negative=False,
                              robustness={**RUN, "skipped": True})]}
    problems = figures.robustness_problems(bad)
    text = "\n".join(problems)
    assert len(problems) == 7, text
    for fragment in ("'none' is negative but its robustness re-run was never recorded",
                     "'skipped' is negative but its robustness re-run was skipped",
                     "'failed' does not survive 4x the steps on seeds [10, 11, 12]",
                     "'2x' is negative but was re-run at only 2x the steps (at least 4x)",
                     "'same seeds' was re-run on seeds [2, 3, 4], which share [2]",
                     "'no seeds' was re-run on seeds [], which name none",
                     "'positive failed' does not survive 1x"):
        assert fragment in text
    assert "positive skipped" not in text


def test_write_claims_carries_an_earlier_verdict_over_only_for_the_same_runs(tmp_path):
    name = "gradient_norm_over_time"
    ran = ex.Claim("lstm stays", True, {"final": [0.2]}, negative=True, robustness=RUN)
    figures.write_claims(tmp_path, {name: [ran]})
    skipped = {**RUN, "skipped": True, "reason": "not requested"}
    del skipped["passed"], skipped["numbers"]
    same = ex.Claim("lstm stays", True, {"final": [0.2]}, negative=True, robustness=skipped)
    figures.write_claims(tmp_path, {name: [same]})
    data = json.loads((tmp_path / "claims.json").read_text())
    assert data[name][0]["robustness"] == {**RUN, "carried_over": True}
    assert figures.robustness_problems(data) == []
    md = (tmp_path / "claims.md").read_text()
    assert "- PASS: lstm stays  (final = [0.2])\n  - ROBUST PASS at 4x the steps (1600) " \
           "on seeds [10, 11, 12] (carried over from an earlier --robust run)" in md
    figures.write_claims(tmp_path, {"jacobian_singular_values": [ex.Claim("b", True, {})]})
    assert (tmp_path / "claims.md").read_text() == figures.render_claims(
        json.loads((tmp_path / "claims.json").read_text()))
    assert "on seeds [10, 11, 12] (carried over from an earlier --robust run)\n\n" \
           "## jacobian_singular_values.png\n\n- PASS: b\n" in \
        (tmp_path / "claims.md").read_text()
    # other numbers at the first budget (another CPU, changed code) or another plan: not
    # carried, and claims.md says why
    for changed, why in (
            (ex.Claim("lstm stays", True, {"final": [0.3]}, negative=True,
                      robustness=skipped), "numbers at the first budget differ"),
            (ex.Claim("lstm stays", False, {"final": [0.2]}, negative=True, robustness=skipped),
             "numbers at the first budget differ"),
            (ex.Claim("lstm stays", True, {"final": [0.2]}, negative=True,
                      robustness={**skipped, "spec": "another plan"}), "another plan")):
        figures.write_claims(tmp_path, {name: [ran]})
        figures.write_claims(tmp_path, {name: [changed]})
        data = json.loads((tmp_path / "claims.json").read_text())
        entry = data[name][0]["robustness"]
        assert entry.get("skipped") is True and "carried_over" not in entry
        assert entry["reason"].startswith("the recorded verdict was not carried over: ")
        assert why in entry["reason"] and entry["reason"].endswith(
            "python -m rnnzoo figures --robust re-runs it")
        assert "not run: the recorded verdict was not carried over: " in \
            (tmp_path / "claims.md").read_text()
        assert "is negative but its robustness re-run was skipped" in \
            figures.robustness_problems(data)[0]
    # no earlier verdict: the reason the claim gave stays
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    figures.write_claims(fresh, {name: [same]})
    entry = json.loads((fresh / "claims.json").read_text())[name][0]["robustness"]
    assert entry["reason"] == "not requested"


# ------------------------------------------------------------------ the figures command
def tiny_figure(check_fn):
    def draw(out_dir, full=False, seed=0):
        res = figures.comparison([ex.Variant("rnn", label="rnn (tanh)")], "adding", {"T": 6},
                                 TINY, full=full, seed=seed)
        figures.check_robust("the tanh rnn's runs end at step 8 at most", res, check_fn,
                             labels=["rnn (tanh)"])
        out = pathlib.Path(out_dir) / "tiny.png"
        out.write_bytes(b"png")
        return out
    return draw


def test_figures_robust_runs_the_rerun_records_it_and_fails_on_a_fragile_claim(
        tmp_path, monkeypatch, capsys):
    from rnnzoo.__main__ import main
    from rnnzoo.teaching.figures import core
    monkeypatch.setitem(figures.FIGURES, "tiny", tiny_figure(last_step("rnn (tanh)")))
    monkeypatch.setattr(core, "_COMPARISONS", {})
    assert main(["figures", "tiny", "--out", str(tmp_path), "--quiet"]) == 0   # skipped
    claim, = json.loads((tmp_path / "claims.json").read_text())["tiny"]
    assert claim["robustness"]["skipped"] and claim["negative"]
    assert main(["figures", "tiny", "--out", str(tmp_path), "--quiet", "--robust"]) == 1
    captured = capsys.readouterr()
    assert "1 claim(s) do not survive their robustness re-run" in captured.err
    assert "--robust: 1 claim(s) re-run" in captured.out
    claim, = json.loads((tmp_path / "claims.json").read_text())["tiny"]
    assert claim["robustness"]["passed"] is False and claim["robustness"]["steps"] == 32
    assert claim["robustness"]["seeds"] == [10, 11, 12]
    assert figures.SETTINGS["robust"] is False                 # reset after the command
    # the re-run went through the command's shared comparisons: the first block (0-2,
    # 8 steps) and the second (10-12, 32 steps)
    assert sorted(key[-1] for key in core._COMPARISONS) == [(0, 1, 2), (10, 11, 12)]


def test_a_plain_figures_run_says_how_many_recorded_verdicts_it_carried_over(
        tmp_path, monkeypatch, capsys):
    """The per-claim lines a plain run prints say "not requested" (they come before the
    merge); the command's last line says how many re-runs took a recorded verdict."""
    from rnnzoo.__main__ import main
    from rnnzoo.teaching.figures import core
    steps_at_most_32 = lambda r: all(h.eval_steps[-1] <= 32 for h in r.histories["rnn (tanh)"])
    monkeypatch.setitem(figures.FIGURES, "tiny", tiny_figure(steps_at_most_32))
    monkeypatch.setattr(core, "_COMPARISONS", {})
    assert main(["figures", "tiny", "--out", str(tmp_path), "--quiet"]) == 0
    assert "carried over" not in capsys.readouterr().out          # nothing recorded yet
    assert main(["figures", "tiny", "--out", str(tmp_path), "--quiet", "--robust"]) == 0
    capsys.readouterr()
    assert main(["figures", "tiny", "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "ROBUSTNESS SKIPPED" in out
    assert "claims.md: 1 re-run verdict(s) carried over from an earlier --robust run" in out
    assert "could not be carried over" not in out


def test_a_verdict_on_diverged_runs_is_carried_over_too(tmp_path):
    """A diverged seed's final value is NaN; NaN != NaN, so comparing the numbers with ==
    refused to carry over every claim about diverging runs. As JSON writes them they are
    the same numbers."""
    name = "exploding_gradients"
    numbers = {"final": [np.nan, 0.2], "solved": np.bool_(False)}     # (np.bool_ too)
    ran = ex.Claim("it diverges", True, numbers, negative=True, robustness=RUN)
    figures.write_claims(tmp_path, {name: [ran]})
    skipped = {**RUN, "skipped": True, "reason": "not requested"}
    del skipped["passed"], skipped["numbers"]
    figures.write_claims(tmp_path, {name: [ex.Claim("it diverges", True, dict(numbers),
                                                    negative=True, robustness=skipped)]})
    data = json.loads((tmp_path / "claims.json").read_text())
    assert data[name][0]["robustness"].get("carried_over") is True


def test_a_carried_over_failed_rerun_fails_the_figures_command(tmp_path, monkeypatch, capsys):
    """A plain run that carries over a recorded ROBUST FAIL exits 1, as the --robust run
    that recorded it did."""
    from rnnzoo.__main__ import main
    from rnnzoo.teaching.figures import core
    monkeypatch.setitem(figures.FIGURES, "tiny", tiny_figure(last_step("rnn (tanh)")))
    monkeypatch.setattr(core, "_COMPARISONS", {})
    assert main(["figures", "tiny", "--out", str(tmp_path), "--quiet", "--robust"]) == 1
    capsys.readouterr()
    assert main(["figures", "tiny", "--out", str(tmp_path), "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "1 re-run verdict(s) carried over" in captured.out
    assert "1 claim(s) do not survive their robustness re-run" in captured.err
    assert claims_file.carried_over_failures(
        json.loads((tmp_path / "claims.json").read_text()), ["tiny"]) == \
        ["the tanh rnn's runs end at step 8 at most"]


def test_carried_over_counts_reads_the_figures_named():
    ran = {"robustness": {**RUN, "carried_over": True}}
    not_carried = {"robustness": {"skipped": True, "reason": claims_file.NOT_CARRIED + "why"}}
    never = {"robustness": {"skipped": True, "reason": "not requested"}}
    data = {"a": [ran, not_carried, never, {"measured": True}], "b": [ran, ran]}
    assert claims_file.carried_over_counts(data, ["a"]) == (1, 1)
    assert claims_file.carried_over_counts(data, ["a", "b", "c"]) == (3, 1)


def test_figures_seed_and_robust_are_documented(capsys):
    from rnnzoo.__main__ import main
    with pytest.raises(SystemExit):
        main(["figures", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--seed 10 reruns every claim on seeds 10-12" in text
    assert "--robust" in text and "4x the steps" in text and "several times longer" in text


def test_the_committed_claims_have_survived_their_robustness_reruns():
    """Every committed claim marked negative was re-run at 4x the steps on new seeds and
    passed, and every recorded re-run passed (figures --robust records them)."""
    committed = figures.claims_file.COMMITTED / "claims.json"
    data = json.loads(committed.read_text())
    assert figures.robustness_problems(data) == []
    marked = [c for claims in data.values() for c in claims if c.get("negative")]
    assert len(marked) >= 3          # structural's two copy claims, linear's, at least


def test_every_committed_robust_claim_carries_its_rerun():
    """No committed robustness entry is a skip: a figures run without --robust whose
    first-budget numbers differ from the record (another CPU) writes skips in place of
    the recorded verdicts that notebooks and README rows cite, and committing that file
    would lose them silently for the positive claims (robustness_problems checks only that
    negative ones ran)."""
    data = json.loads((figures.claims_file.COMMITTED / "claims.json").read_text())
    skipped = [f"{figure}: {c['statement']}" for figure, claims in data.items()
               for c in claims if (c.get("robustness") or {}).get("skipped")]
    assert not skipped, ("re-record these with python -m rnnzoo figures NAME --robust:\n"
                         + "\n".join(skipped))
    assert sum(1 for claims in data.values() for c in claims if c.get("robustness")) >= 30


def test_recorded_robustness_reads_the_run_entries_only(tmp_path):
    from rnnzoo.teaching.figures.claims_file import recorded_robustness
    run = {"budget_factor": 4, "seeds": [10], "passed": True, "numbers": {}}
    (tmp_path / "claims.json").write_text(json.dumps({"f": [
        {"statement": "a", "passed": True, "numbers": {}, "robustness": run},
        {"statement": "b", "passed": True, "numbers": {}, "robustness": {"skipped": "x"}},
        {"statement": "c", "passed": True, "numbers": {}}]}))
    assert recorded_robustness("f", tmp_path) == {"a": run}
    assert recorded_robustness("g", tmp_path) == {}
    with pytest.raises(FileNotFoundError, match="--robust"):
        recorded_robustness("f", tmp_path / "none")


def test_check_rerun_records_a_rerun_of_an_experiment_that_is_not_a_comparison(monkeypatch):
    """unitary_capacity's "the urnn stays above 5 % error" is a fit, not a Comparison:
    check_rerun re-runs it only under --robust and records the entry the same way."""
    from rnnzoo.teaching.figures import core
    monkeypatch.setattr(core, "CLAIMS", {})
    calls = []

    def rerun():
        calls.append(1)
        return False, {"error": [0.01]}
    spec = {"steps": 40, "text": "a fit, 40 iterations, initializations [10, 11]"}
    kwargs = dict(factor=4, seeds=[10, 11], first_seeds=[0, 1], spec=spec)
    c = figures.check_rerun("the fit stays above 5 %", True, {"error": [0.2]}, rerun, **kwargs)
    assert calls == [] and c.negative and c.robustness["skipped"] and c.supported
    monkeypatch.setitem(core.SETTINGS, "robust", True)
    c = figures.check_rerun("the fit stays above 5 %", True, {"error": [0.2]}, rerun, **kwargs)
    assert calls == [1] and c.robustness["passed"] is False and not c.supported
    assert c.robustness["numbers"] == {"error": [0.01]} and c.robustness["steps"] == 40
    assert figures.robustness_problems({"f": [c.to_dict()]})          # the failure is named
    with pytest.raises(ValueError, match="factor must be at least 4"):
        figures.check_rerun("s", True, {}, rerun, **{**kwargs, "factor": 2})
    with pytest.raises(ValueError, match="disjoint"):
        figures.check_rerun("s", True, {}, rerun, **{**kwargs, "seeds": [1, 12]})


def test_kept_fraction_is_the_first_over_the_last_gradient_norm():
    from rnnzoo.core import diagnostics
    from rnnzoo.core.registry import make
    from rnnzoo.teaching.figures.core import kept_fraction, variant
    v = [variant("rnn", "rnn")]
    kept = kept_fraction(v, 20, [0, 3], hidden=8)
    for seed, got in zip((0, 3), kept["rnn"]):
        n = diagnostics.gradient_norm_over_time(make("rnn", 4, 8, seed=seed), 20, batch=16,
                                                seed=seed)
        assert got == n[0] / n[-1]


def test_kept_fraction_uses_the_norms_a_figure_already_computed_for_a_seed():
    from rnnzoo.teaching.figures.core import gradient_norms, kept_fraction, variant
    v = [variant("rnn", "rnn")]
    plotted = gradient_norms(v, 20, hidden=8, seed=0)
    assert kept_fraction(v, 20, [0, 3], computed={0: plotted}, hidden=8) == \
        kept_fraction(v, 20, [0, 3], hidden=8)
    marked = {"rnn": np.array([2.0, 4.0])}           # not a real run: shows it is read
    assert kept_fraction(v, 20, [0, 3], computed={0: marked}, hidden=8)["rnn"][0] == 0.5


def test_reruns_held_reads_the_factor_and_seeds_not_only_the_verdicts():
    """A notebook's "the recorded 4x re-run on seeds 10-12 passed" is everything
    reruns_held checks: one entry per factor asked for, each on seeds 10-12, each passed."""
    from rnnzoo.teaching.figures.claims_file import reruns_held
    at4 = {"budget_factor": 4, "seeds": [10, 11, 12], "passed": True}
    at1 = {**at4, "budget_factor": 1}
    assert reruns_held({"a": at4}, [4]) and reruns_held([at1, at4], [4, 1])
    assert reruns_held([at4, at4], [4, 4]) and not reruns_held([at4], [4, 4])
    assert not reruns_held([], [4]) and not reruns_held([at4, at1], [4])
    assert not reruns_held([at1], [4])                          # 1x is not "4x"
    assert not reruns_held([{**at4, "seeds": [0, 1, 2]}], [4])  # not seeds 10-12
    assert not reruns_held([{**at4, "passed": False}], [4])
    assert not reruns_held([{**at4, "passed": None}], [4])      # skipped: no verdict
    assert reruns_held([{**at4, "seeds": [20, 21]}], [4], seeds=[20, 21])


@pytest.mark.parametrize("every, carried", [(3, True), (1, False)])
def test_a_verdict_carries_over_only_on_the_same_evaluation_schedule(tmp_path, every, carried):
    """The plan's words (Budget.describe) leave out eval_every and eval_size; a check that
    reads every evaluation ("never below half the baseline") can turn on them. A recorded
    verdict carries over only on the schedule it was evaluated on."""
    kw = dict(task_options={"T": 5}, seeds=3, workers=1, progress=False)
    check = lambda r: r.below_half_baseline("rnn") == 0            # noqa: E731
    statement = "the rnn never gets below half the baseline"

    def claim(eval_every, robust):
        res = ex.compare(["rnn"], "adding", budget=ex.Budget(
            steps=6, hidden=4, eval_size=8, eval_every=eval_every), **kw)
        return ex.robust_claim(statement, res, check, labels=["rnn"], robust=robust,
                               strict=False, workers=1)
    recorded = claim(3, True)
    assert recorded.robustness["evaluations"] == {"eval_every": 3, "eval_size": 8}
    figures.write_claims(tmp_path, {"exploding_gradients": [recorded]})
    figures.write_claims(tmp_path, {"exploding_gradients": [claim(every, False)]})
    entry = json.loads((tmp_path / "claims.json").read_text())["exploding_gradients"][0]
    assert bool(entry["robustness"].get("carried_over")) is carried
    if not carried:
        assert "evaluated on another schedule" in entry["robustness"]["reason"]
