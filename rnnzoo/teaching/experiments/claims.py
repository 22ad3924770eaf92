"""Claims are data: a sentence stated as a check on numbers (PASS or FAIL, raising on
FAIL), and a measurement reported with its description. The interleaved timing behind the
ratios a notebook may claim is :func:`rnnzoo.benchmark.timing.time_interleaved`."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.validation import ArgumentTypeError, check_bool, describe, is_bool


class ClaimFailed(AssertionError):
    """A claim's check failed: the data no longer supports the sentence."""


@dataclass
class Claim:
    statement: str
    passed: bool
    numbers: dict

    def __str__(self):
        nums = ", ".join(f"{k} = {_fmt(v)}" for k, v in self.numbers.items())
        return f"{'PASS' if self.passed else 'FAIL'}: {self.statement}" + (
            f"  ({nums})" if nums else "")

    def to_dict(self):
        return {"statement": self.statement, "passed": self.passed,
                "numbers": {k: _jsonable(v) for k, v in self.numbers.items()}}


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
    if not is_bool(passed):
        raise ArgumentTypeError(f"claim: passed must be True or False (reduce an array with "
                                f".all() or .any()); got {describe(passed)}")
    strict = check_bool(strict, "strict", where="claim")
    c = Claim(str(statement), bool(passed), numbers)
    print(c, flush=True)
    if not c.passed and strict:
        raise ClaimFailed(f"the data no longer supports the claim: {c}")
    return c


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
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return v
