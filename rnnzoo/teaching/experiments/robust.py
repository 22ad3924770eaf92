"""Claims that survive a larger budget and new seeds.

"The LSTM never leaves the baseline" is a statement about the budget and the seeds its
author picked unless it survives more of both: at 4x the steps an LSTM that "stays" on
the adding problem leaves it in every seed. :func:`robust_claim` states a claim as a check
on a :class:`Comparison` and, when asked (``robust=True``; ``python -m rnnzoo figures
--robust``), re-runs the variants the check reads at ``factor`` x the steps on a second
block of seeds, disjoint from the first (10-12 after 0-2), and checks the same sentence
there::

    res = ex.compare([ex.Variant("lstm"), ex.Variant("indrnn")], task="adding", ...)
    ex.robust_claim("the lstm never gets below half the baseline", res,
                    lambda r: r.below_half_baseline("lstm") == 0, labels=["lstm"],
                    robust=True)      # re-runs the lstm at 4x the steps on seeds 10-12

The claim records ``robustness = {"budget_factor": F, "seeds": [...], "passed": bool,
"numbers": {...}, ...}``; without ``robust=True`` the entry says it was skipped, so a
reader (and :func:`rnnzoo.teaching.figures.robustness_problems`) can tell a negative claim
that was checked from one that was not. A *negative* claim (the default: it says that
something fails, stays, or never leaves) needs ``factor >= 4``; a positive "every seed"
claim may ask for a re-run too (``negative=False``, ``factor`` 1 by default: the same
budget on new seeds).

The check sees the comparison restricted to ``labels`` (``comparison.subset(labels)``),
at the first budget as at the second: a check that reads another variant fails at once,
not only under ``--robust``.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from ...core.validation import ArgumentTypeError, check_bool, check_int, describe, is_bool
from .claims import Claim, ClaimFailed, check_statement
from .results import Comparison, check_labels
from .running import _check_seeds, compare

SECOND_BLOCK_OFFSET = 10       # the second seed block starts 10 after the first's start
MIN_NEGATIVE_FACTOR = 4        # a negative claim must survive at least 4x the steps


def second_seed_block(seeds) -> list:
    """As many seeds as ``seeds``, starting 10 above its smallest (or just above its
    largest, if that is further): 0-2 -> 10-12, 0-4 -> 10-14, 5-7 -> 15-17. Disjoint."""
    if not isinstance(seeds, (list, tuple, range)):
        raise ArgumentTypeError(f"second_seed_block: seeds must be a list of the first "
                                f"block's seeds; got {describe(seeds)}")
    seeds = _check_seeds(list(seeds), "second_seed_block")
    start = max(min(seeds) + SECOND_BLOCK_OFFSET, max(seeds) + 1)
    return list(range(start, start + len(seeds)))


@dataclass(frozen=True)
class RerunPlan:
    """What a robustness re-run trains: ``labels``' variants (their own budget changes'
    steps scaled too) at ``factor`` x the comparison's steps, on ``seeds``."""
    comparison: Comparison
    labels: tuple
    factor: int
    seeds: tuple
    variants: tuple
    budget: object

    def describe(self) -> str:
        """The re-run in words: what a carried-over result must match."""
        c = self.comparison
        inits = "; ".join(f"{v.label}: {v.describe(c.task)}" for v in self.variants)
        return (f"{c.task_text()}, {self.budget.describe()}, seeds {list(self.seeds)}; "
                f"{inits}")

    def run(self, runner=None, workers=None, progress=False) -> Comparison:
        """Train the re-run with ``runner`` (:func:`compare`'s signature; default
        :func:`compare`)."""
        c = self.comparison
        return (runner or compare)(list(self.variants), c.task_name,
                                   task_options=dict(c.task_options), budget=self.budget,
                                   seeds=list(self.seeds), workers=workers, progress=progress)


def plan_rerun(comparison, labels, factor, seeds=None, *, where="plan_rerun") -> RerunPlan:
    """Check the arguments of a re-run of ``labels`` at ``factor`` x the steps on
    ``seeds`` (None: :func:`second_seed_block`), and return its :class:`RerunPlan`."""
    if not isinstance(comparison, Comparison):
        raise ArgumentTypeError(f"{where}: comparison must be a Comparison (what "
                                f"experiments.compare returns); got {describe(comparison)}")
    labels = check_labels(labels, comparison, where)
    factor = check_int(factor, "factor (how many times the steps)", minimum=1, where=where)
    seeds = second_seed_block(comparison.seeds) if seeds is None else _check_seeds(seeds, where)
    shared = sorted(set(seeds) & set(comparison.seeds))
    if shared:
        raise ValueError(f"{where}: seeds must be disjoint from the comparison's "
                         f"{comparison.seeds}; got {seeds}, which shares {shared}")
    variants = []
    for label in labels:
        v = comparison.variants[label]
        if v.budget and "steps" in v.budget:          # a variant with its own steps
            v = dataclasses.replace(v, budget={**v.budget, "steps": v.budget["steps"] * factor})
        variants.append(v)
    budget = dataclasses.replace(comparison.budget, steps=comparison.budget.steps * factor)
    return RerunPlan(comparison, tuple(labels), factor, tuple(seeds), tuple(variants), budget)


def default_numbers(res) -> dict:
    """Per variant: the final loss of every seed, when each got below half the baseline,
    and (where the task has a criterion) the final success metric and when each seed met
    it."""
    out = {}
    for label in res.labels:
        entry = {f"final {res.metric}": res.final(label),
                 "below_half_baseline_at": res.left_baseline(label)}
        if res.success is not None:
            entry[f"final {res.success.metric}"] = res.final(label, "success")
            entry["solved_at"] = res.solved_at(label)
        out[label] = entry
    return out


def robust_claim(statement, comparison, check, *, labels, negative=True, factor=None,
                 seeds=None, robust=False, numbers=None, runner=None, workers=None,
                 progress=False, strict=True) -> Claim:
    """State ``statement`` as ``check(res)`` on ``comparison`` restricted to ``labels``,
    and, with ``robust=True``, on a re-run of those variants at ``factor`` x the steps on
    a second, disjoint seed block (module docstring).

    Parameters
    ----------
    statement : the sentence
    comparison : the :class:`Comparison` the sentence is about
    check : ``check(res) -> bool`` for a Comparison ``res`` holding ``labels`` only
    labels : the variants the check reads (for a negative claim: the failing ones)
    negative : the sentence says something fails, stays or never leaves (default True);
        then ``factor`` must be at least 4
    factor : the budget multiple of the re-run (default 4 if negative, else 1)
    seeds : the re-run's seeds, disjoint from the comparison's (default: 10 above them,
        :func:`second_seed_block`)
    robust : run the re-run (True) or record it as skipped (False, the default: it costs
        ``factor`` x those variants' time)
    numbers : ``numbers(res) -> dict`` printed and recorded beside each verdict (default
        :func:`default_numbers`)
    runner : trains the re-run, with :func:`compare`'s signature (default :func:`compare`;
        the figures pass one that caches)
    strict : raise :class:`ClaimFailed` when the claim fails, or its re-run does

    Returns the :class:`Claim`, whose ``robustness`` is the entry described above (with
    ``"skipped": True`` and the reason when not run), printed like :func:`claim`.
    """
    where = "robust_claim"
    statement = check_statement(statement, where)
    if not callable(check) or (numbers is not None and not callable(numbers)):
        bad = "check" if not callable(check) else "numbers"
        raise ArgumentTypeError(f"{where}: {bad} must be a function of a Comparison (e.g. "
                                f"lambda res: res.solved('lstm') == 0); got "
                                f"{describe(check if bad == 'check' else numbers)}")
    if runner is not None and not callable(runner):     # refused even when robust=False
        raise ArgumentTypeError(f"{where}: runner must be None (compare) or a function with "
                                f"compare's signature; got {describe(runner)}")
    negative = check_bool(negative, "negative", where=where)
    robust = check_bool(robust, "robust", where=where)
    strict = check_bool(strict, "strict", where=where)
    if factor is None:
        factor = MIN_NEGATIVE_FACTOR if negative else 1
    elif negative and check_int(factor, "factor", minimum=1, where=where) < MIN_NEGATIVE_FACTOR:
        raise ValueError(f"{where}: factor must be at least {MIN_NEGATIVE_FACTOR} for a "
                         f"negative claim (it is a statement about the budget unless it "
                         f"survives {MIN_NEGATIVE_FACTOR}x more of it); got {factor}")
    plan = plan_rerun(comparison, labels, factor, seeds, where=where)
    numbers = numbers or default_numbers
    first = comparison.subset(plan.labels)
    passed, found = _verdict(check, numbers, first, where)
    entry = {"budget_factor": factor, "seeds": list(plan.seeds),
             "first_seeds": list(comparison.seeds), "labels": list(plan.labels),
             "steps": plan.budget.steps, "spec": plan.describe(),
             # not in the spec's words (Budget.describe), but a check that reads every
             # evaluation can turn on them: a verdict carries over only on the same ones
             "evaluations": {"eval_every": plan.budget.every,
                             "eval_size": plan.budget.eval_size}}
    if robust:
        rerun = plan.run(runner, workers=workers, progress=progress)
        r_passed, r_numbers = _verdict(check, numbers, rerun, where)
        entry.update(passed=r_passed, numbers=r_numbers)
    else:
        entry.update(skipped=True, reason="not requested; python -m rnnzoo figures --robust "
                                          "(or robust=True) runs it")
    c = Claim(statement, passed, found, negative=negative, robustness=entry)
    print(c, flush=True)
    if strict and not c.supported:
        raise ClaimFailed(f"the data no longer supports the claim: {c}")
    return c


def _verdict(check, numbers, res, where):
    """(check(res) as a bool, numbers(res)), with a clear error for a check that reads a
    variant outside ``labels`` or returns something that is not a bool."""
    try:
        passed, found = check(res), numbers(res)
    except KeyError as exc:
        if "no variant labelled" not in str(exc):
            raise
        raise ValueError(f"{where}: the check or numbers read a variant outside labels "
                         f"({exc.args[0]}); labels must name every variant they read") \
            from None
    if not is_bool(passed):
        raise ArgumentTypeError(f"{where}: check must return True or False (reduce an array "
                                f"with .all() or .any()); got {describe(passed)}")
    if not isinstance(found, Mapping):
        raise ArgumentTypeError(f"{where}: numbers must return a dict; got {describe(found)}")
    return bool(passed), dict(found)


__all__ = ["robust_claim", "plan_rerun", "RerunPlan", "second_seed_block", "default_numbers",
           "SECOND_BLOCK_OFFSET", "MIN_NEGATIVE_FACTOR"]
