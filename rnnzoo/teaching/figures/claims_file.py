"""figures/claims.json and its rendering claims.md: the claims each figure checked on its
data, with their robustness entries, and the check that every negative claim survived a
larger budget on new seeds (:func:`robustness_problems`)."""
from __future__ import annotations

import json
import pathlib

from .core import FIGURES


def claims_path(out_dir, full=False):
    return pathlib.Path(out_dir) / ("claims_full.json" if full else "claims.json")


def write_claims(out_dir, new, full=False):
    """Merge ``new`` ({figure: [Claim]}) into out_dir/claims.json and rewrite claims.md.

    A claim whose robustness re-run was skipped this time (the default figures run) keeps
    the verdict of an earlier ``--robust`` run when that run checked the same sentence,
    found the same numbers at the first budget (so the code behind it did not change) and
    re-ran the same plan (same variants, budget and seeds): it is marked
    ``"carried_over": true``. Anything else stays skipped, and where an earlier verdict
    existed its reason says why it was not carried over."""
    path = claims_path(out_dir, full)
    data = json.loads(path.read_text()) if path.exists() else {}
    for name, claims in new.items():
        entries = [c.to_dict() for c in claims]
        _carry_over(entries, data.get(name, []))
        data[name] = entries
    # the figures' order; an entry of a figure this process does not know is kept last
    data = {**{n: data[n] for n in FIGURES if n in data},
            **{n: v for n, v in data.items() if n not in FIGURES}}
    path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    path.with_suffix(".md").write_text(render_claims(data, full))


def _carry_over(entries, previous):
    """Give a skipped robustness entry the earlier verdict on the same claim (see
    :func:`write_claims`), or say why that verdict does not carry over."""
    earlier = {e["statement"]: e for e in previous
               if e.get("robustness") and not e["robustness"].get("skipped")}
    for e in entries:
        r, old = e.get("robustness"), earlier.get(e["statement"])
        if not (r and r.get("skipped") and old):
            continue
        if old["robustness"].get("spec") != r["spec"]:
            why = "the recorded re-run had another plan (variants, budget or seeds)"
        elif "evaluations" in old["robustness"] and \
                old["robustness"]["evaluations"] != r.get("evaluations"):
            # (verdicts recorded before the field existed carry over on the rest)
            why = ("the recorded re-run was evaluated on another schedule (eval_every, "
                   "eval_size)")
        elif not _same_numbers(old["numbers"], e["numbers"]) or old["passed"] != e["passed"]:
            # float32 training's last bits follow the BLAS kernels the CPU selects
            why = ("this run's numbers at the first budget differ from those the recorded "
                   "re-run extended (another CPU, or changed code)")
        else:
            e["robustness"] = {**old["robustness"], "carried_over": True}
            continue
        e["robustness"] = {**r, "reason": f"{NOT_CARRIED}{why}; python -m rnnzoo figures "
                                          "--robust re-runs it"}


def _same_numbers(a, b) -> bool:
    """The numbers as JSON writes them: NaN (a diverged seed's final value) equals NaN
    there, where ``==`` would call every diverging claim's numbers changed."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


NOT_CARRIED = "the recorded verdict was not carried over: "


def carried_over_counts(data, names) -> tuple:
    """(carried over, not carried over): how many robustness entries of the figures
    ``names`` in ``data`` (a claims.json's content) took an earlier ``--robust`` verdict,
    and how many had one that :func:`write_claims` could not carry over."""
    entries = [c["robustness"] for n in names for c in data.get(n, []) if c.get("robustness")]
    return (sum(bool(r.get("carried_over")) for r in entries),
            sum(r.get("reason", "").startswith(NOT_CARRIED) for r in entries))


def carried_over_failures(data, names) -> list:
    """The statements of the figures ``names`` in ``data`` whose carried-over ``--robust``
    verdict is a failure: the claim did not survive its re-run, as surely as when that
    re-run is this command's own."""
    return [c["statement"] for n in names for c in data.get(n, [])
            if (c.get("robustness") or {}).get("carried_over")
            and c["robustness"].get("passed") is False]


def render_claims(data, full=False) -> str:
    """claims.json as markdown: one section per figure, each claim PASS or FAIL with its
    numbers, exactly as the figures command computed them, and its robustness re-run
    (or that it was skipped) beneath it."""
    from ..experiments import Claim, Measurement
    from ..experiments.claims import robustness_text
    lines = ["# What the figures' runs show" + (" (--full)" if full else ""), "",
             "Written by `python -m rnnzoo figures" + (" --full" if full else "") + "` from the "
             "runs behind each figure; do not edit. Each line is a check on the data: PASS "
             "means the runs support the sentence, with the numbers that decided it.", ""]
    for name, claims in data.items():
        if not claims:
            continue
        lines += [f"## {name}.png", ""]
        for c in claims:
            if c.get("measured"):
                lines.append(f"- {Measurement(c['statement'], c['numbers'])}")
                continue
            lines.append(f"- {Claim(c['statement'], c['passed'], c['numbers'])}")
            if c.get("robustness"):
                lines.append(f"  - {robustness_text(c['robustness'])}")
        lines.append("")
    return "\n".join(lines)


def robustness_problems(data, min_factor=4) -> list:
    """What is wrong with the robustness of the claims in ``data`` (a claims.json's
    content, {figure: [claim dicts]}): one sentence per problem, [] when none.

    A claim marked ``"negative": true`` must have a robustness entry that was run (not
    skipped) at ``min_factor`` x the steps or more, on seeds disjoint from the first
    block, and passed; any other claim that has a run entry must have passed it. A test
    on the committed file is ``assert not robustness_problems(json.loads(text))``."""
    problems = []
    for figure, claims in data.items():
        for c in claims:
            if c.get("measured"):
                continue
            r, what = c.get("robustness"), f"{figure}: {c['statement']!r}"
            if r is None or r.get("skipped"):
                if c.get("negative"):
                    problems.append(f"{what} is negative but its robustness re-run was "
                                    + ("never recorded" if r is None else "skipped")
                                    + " (python -m rnnzoo figures --robust runs it)")
                continue
            factor, seeds = r.get("budget_factor", 0), r.get("seeds", [])
            if not r.get("passed"):
                problems.append(f"{what} does not survive {factor}x the steps on seeds "
                                f"{seeds}: {r.get('numbers')}")
            if c.get("negative") and factor < min_factor:
                problems.append(f"{what} is negative but was re-run at only {factor}x the "
                                f"steps (at least {min_factor}x)")
            shared = sorted(set(seeds) & set(r.get("first_seeds", [])))
            if shared or not seeds:
                problems.append(f"{what} was re-run on seeds {seeds}, which "
                                + (f"share {shared} with the first block {r['first_seeds']}"
                                   if shared else "name none"))
    return problems


COMMITTED = pathlib.Path(__file__).resolve().parents[3] / "figures"   # the repo's figures/


def recorded_robustness(figure, out_dir=COMMITTED, full=False) -> dict:
    """{statement: robustness entry} of ``figure``'s claims whose re-run was recorded
    (run, not skipped) in ``out_dir``/claims.json: what a notebook reads to report the
    ``--robust`` verdicts it cannot afford to compute in its two minutes."""
    path = claims_path(out_dir, full)
    if not path.is_file():
        raise FileNotFoundError(f"no {path}: run python -m rnnzoo figures {figure} --robust "
                                "to record the re-runs")
    claims = json.loads(path.read_text()).get(figure, [])
    return {c["statement"]: c["robustness"] for c in claims
            if c.get("robustness") and not c["robustness"].get("skipped")}


def reruns_held(entries, factors, seeds=(10, 11, 12)) -> bool:
    """Whether the recorded re-runs ``entries`` (:func:`recorded_robustness`'s dict, or a
    list of its entries) are one per budget factor in ``factors`` (e.g. ``[4]``, or
    ``[4, 1]`` for a negative claim at 4x beside a positive one at 1x), each on ``seeds``,
    and each passed: everything a notebook's "the recorded 4x re-run on seeds 10-12
    passed" says, not only the verdicts."""
    entries = list(entries.values()) if isinstance(entries, dict) else list(entries)
    return (sorted(e.get("budget_factor") for e in entries) == sorted(factors)
            and all(e.get("passed") is True and list(e.get("seeds", ())) == list(seeds)
                    for e in entries))


def recorded_claims(figure, out_dir=COMMITTED, full=False) -> list:
    """The claims ``figure`` recorded in ``out_dir``/claims.json (dicts: statement,
    passed, numbers, robustness): what a notebook reads to report an experiment too long
    for its two minutes, computed by ``python -m rnnzoo figures FIGURE``."""
    path = claims_path(out_dir, full)
    claims = json.loads(path.read_text()).get(figure) if path.is_file() else None
    if not claims:
        raise FileNotFoundError(f"no claims of {figure} in {path}: run python -m rnnzoo "
                                f"figures {figure} --robust to record them")
    return claims
