"""Claims are data: a sentence stated as a check on numbers (PASS or FAIL, raising on
FAIL), and a measurement reported with its description. The interleaved timing behind the
ratios a notebook may claim is :func:`rnnzoo.benchmark.timing.time_interleaved`.

A claim may carry a robustness entry (:mod:`.robust`): the same check re-run at a
larger budget on new seeds, or the record that it was skipped."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.validation import ArgumentTypeError, check_bool, describe, is_bool


class ClaimFailed(AssertionError):
    """A claim's check failed: the data no longer supports the sentence."""


@dataclass
class Claim:
    """A sentence checked on data. ``passed``: the check at the comparison's own budget
    and seeds. ``negative``: the sentence says something fails, stays or never leaves (a
    statement about the budget unless it survives more of it). ``robustness``: the entry
    :func:`rnnzoo.experiments.robust_claim` recorded (the re-run at a larger budget on
    new seeds, or why it was skipped), None for a plain claim."""
    statement: str
    passed: bool
    numbers: dict
    negative: bool = False
    robustness: dict | None = None

    def __str__(self):
        text = f"{'PASS' if self.passed else 'FAIL'}: {self.statement}" + _numbers(self.numbers)
        return text + (f"\n    {robustness_text(self.robustness)}" if self.robustness else "")

    @property
    def robust_passed(self) -> bool | None:
        """The re-run's verdict: True or False, None if there was none (no entry, or
        skipped)."""
        r = self.robustness
        return None if r is None or r.get("skipped") else bool(r["passed"])

    @property
    def supported(self) -> bool:
        """Passed, and did not fail its robustness re-run."""
        return self.passed and self.robust_passed is not False

    def to_dict(self):
        out = {"statement": self.statement, "passed": self.passed,
               "numbers": {k: _jsonable(v) for k, v in self.numbers.items()}}
        if self.negative or self.robustness is not None:
            out["negative"] = self.negative
        if self.robustness is not None:
            out["robustness"] = _jsonable(self.robustness)
        return out

    @classmethod
    def from_dict(cls, d) -> "Claim":
        return cls(d["statement"], d["passed"], d["numbers"], negative=d.get("negative", False),
                   robustness=d.get("robustness"))


def robustness_text(entry) -> str:
    """One line for a robustness entry: its verdict at F x the steps on the second seed
    block, or why it was not run."""
    where = (f"{entry['budget_factor']}x the steps ({entry['steps']}) on seeds "
             f"{_fmt(entry['seeds'])}")
    if entry.get("skipped"):
        return f"ROBUSTNESS SKIPPED: {where} not run: {entry.get('reason', 'not requested')}"
    carried = " (carried over from an earlier --robust run)" if entry.get("carried_over") else ""
    return (f"ROBUST {'PASS' if entry['passed'] else 'FAIL'} at {where}{carried}"
            + _numbers(entry.get("numbers", {})))


def _numbers(numbers) -> str:
    nums = ", ".join(f"{k} = {_fmt(v)}" for k, v in numbers.items())
    return f"  ({nums})" if nums else ""


@dataclass
class Measurement:
    """A number reported with its description: no condition, so no PASS or FAIL."""
    statement: str
    numbers: dict
    passed: bool = True

    def __str__(self):
        nums = ", ".join(f"{k} = {_fmt(v)}" for k, v in self.numbers.items())
        return f"MEASURED: {self.statement}  ({nums})"

    def to_dict(self):
        return {"statement": self.statement, "measured": True,
                "numbers": {k: _jsonable(v) for k, v in self.numbers.items()}}


def claim(statement, passed, *, strict=True, **numbers) -> Claim:
    """State ``statement`` as a check on data: print PASS or FAIL with ``numbers``, and
    raise :class:`ClaimFailed` on FAIL (unless ``strict=False``).

    ``passed`` must be a bool (or a NumPy bool such as ``(a < b).all()``): a string
    ``"False"`` or a non-empty list is truthy, and would print PASS."""
    statement = check_statement(statement, "claim")
    if not is_bool(passed):
        raise ArgumentTypeError(f"claim: passed must be True or False (reduce an array with "
                                f".all() or .any()); got {describe(passed)}")
    strict = check_bool(strict, "strict", where="claim")
    c = Claim(statement, bool(passed), numbers)
    print(c, flush=True)
    if not c.passed and strict:
        raise ClaimFailed(f"the data no longer supports the claim: {c}")
    return c


def check_statement(statement, where):
    """The sentence a claim states, a str: a condition passed in its place (``claim(a < b,
    "...")``) would otherwise be printed as the sentence "True" and recorded."""
    if not isinstance(statement, str) or not statement:
        raise (ArgumentTypeError if not isinstance(statement, str) else ValueError)(
            f"{where}: statement must be the sentence it states (a non-empty str); "
            f"got {describe(statement)}")
    return str(statement)


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    if isinstance(v, np.ndarray):
        return "[" + ", ".join(_fmt(x) for x in v.tolist()) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items()) + "}"
    return str(v)


def _jsonable(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.floating, np.integer, np.bool_)):      # (json refuses np.bool_)
        return v.item()
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return v
