"""What :func:`rnnzoo.gradcheck` returns: a row per checked tensor and the report that
prints them as a table (in a notebook, as HTML) with the structural problems and the
verdict."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

# a tensor's gradient is measurable where its largest central difference is more than
# this many times its round-off floor (rnnzoo.core.gradcheck's docstring)
MEASURABLE = 10.0

# what the ok column prints for each status (see TensorCheck.status)
_SHOWN = {"ok": "yes", "zero": "zero", "empty": "empty", "wrong": "NO",
          "kink": "NO (kink)", "unmeasurable": "NO (round-off)"}


@dataclass
class TensorCheck:
    """The result for one tensor (a parameter, the input, or a state component).

    ``status`` says why it passed or failed: "ok"; "zero" (analytic and numeric gradient
    both within the round-off floor of zero: a pass); "empty" (no entries: nothing to
    check); "wrong"; "kink" (an entry where the loss is not smooth, also at eps/100);
    "unmeasurable" (the central differences do not rise well above the floor, so the
    gradient cannot be confirmed at this scale)."""
    name: str
    shape: tuple
    checked: int
    max_abs_err: float
    rel_err: float          # max |a - n| / max |n|
    worst_index: tuple
    analytic_at_worst: float
    numeric_at_worst: float
    passed: bool
    floor: float = 0.0      # the largest round-off floor of its central differences
    status: str = ""        # "" reads as "ok" or "wrong", from passed
    rechecked: int = 0      # entries whose loss is not smooth within eps, judged at eps/100
                            # (a pass there, or a kink); not those found wrong there
    recheck_eps: float = 0.0
    detail: str = ""        # what the failure message adds (the one-sided differences)

    def __post_init__(self):
        if not self.status:
            self.status = "ok" if self.passed else "wrong"


@dataclass(repr=False)
class GradcheckReport:
    """Result of :func:`gradcheck`; ``bool(report)`` is True when every check passed."""
    target: str
    rows: list = field(default_factory=list)
    problems: list = field(default_factory=list)   # structural failures (keys, shapes, reentrancy)
    settings: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.problems and all(r.passed for r in self.rows)

    def __bool__(self):
        return self.passed

    @property
    def worst_rel_err(self) -> float:
        """The largest relative error of the rows that have one (a row of zeros or with
        no entries has none)."""
        return max((r.rel_err for r in self.rows if not math.isnan(r.rel_err)), default=0.0)

    def failures(self) -> list:
        msgs = list(self.problems)
        for r in self.rows:
            if r.passed:
                continue
            if r.status == "unmeasurable":
                msgs.append(f"{self.target}: gradient of '{r.name}' cannot be confirmed: its "
                            f"largest central difference is within {MEASURABLE:g}x the "
                            f"round-off floor {r.floor:.3g} of the losses ({r.detail}); check "
                            f"it where the gradient is larger (other inputs or parameters) "
                            f"or with a larger eps")
            elif r.status == "kink":
                msgs.append(f"{self.target}: '{r.name}' at index {r.worst_index} sits at a "
                            f"kink, not necessarily a wrong backward: the loss is not smooth "
                            f"within eps there, {r.detail}; analytic {r.analytic_at_worst:.10g}"
                            f" vs numeric {r.numeric_at_worst:.10g}; check at another point")
            else:
                msgs.append(f"{self.target}: gradient of '{r.name}' is wrong at index "
                            f"{r.worst_index}: analytic {r.analytic_at_worst:.10g} vs "
                            f"numeric {r.numeric_at_worst:.10g} (abs err {r.max_abs_err:.3g}, "
                            f"rel err {r.rel_err:.3g})" + (f"; {r.detail}" if r.detail else ""))
        return msgs

    def notes(self) -> list:
        """What the table's rows do not say: entries re-checked at a kink, tensors with
        nothing to check."""
        out = []
        for r in self.rows:
            if r.rechecked:
                out.append(f"'{r.name}': {r.rechecked} entr{'y' if r.rechecked == 1 else 'ies'}"
                           f" not smooth within eps={self.settings.get('eps', '?')} (the "
                           f"one-sided differences disagree: a kink), re-checked at "
                           f"eps={r.recheck_eps:g}")
            if r.status == "empty":
                out.append(f"'{r.name}' has no entries (shape {r.shape}): nothing to check")
        return out

    def table(self) -> str:
        head = (f"{'tensor':<16}{'shape':<16}{'checked':>8}{'max abs err':>14}{'rel err':>12}"
                f"{'floor':>11}  ok")
        lines = [f"gradcheck {self.target}  ({self._settings_text()})", head, "-" * len(head)]
        for r in self.rows:
            lines.append(f"{r.name:<16}{str(r.shape):<16}{r.checked:>8}"
                         f"{_number(r.max_abs_err):>14}{_number(r.rel_err):>12}"
                         f"{_number(r.floor):>11}  {_SHOWN[r.status]}")
        lines += [f"note: {n}" for n in self.notes()]
        lines += [f"problem: {p}" for p in self.problems]
        lines.append(self._verdict())
        return "\n".join(lines)

    def _verdict(self):
        """PASSED/FAILED with the worst error, and how many problems when there are any
        (a worst error of 1e-10 over the rows says nothing of a missing gradient)."""
        problems = (f"{len(self.problems)} problem{'s' * (len(self.problems) != 1)} "
                    "(listed above); " if self.problems else "")
        rows = f"worst rel err {self.worst_rel_err:.2e}" if self.rows else "no tensor compared"
        return f"{'PASSED' if self.passed else 'FAILED'}: {problems}{rows}"

    def _settings_text(self):
        return ", ".join(f"{k}={v}" for k, v in self.settings.items())

    __str__ = __repr__ = table

    def _repr_html_(self):
        cells = "".join(
            f"<tr><td>{r.name}</td><td>{r.shape}</td><td>{r.checked}</td>"
            f"<td>{_number(r.max_abs_err)}</td><td>{_number(r.rel_err)}</td>"
            f"<td>{_number(r.floor)}</td>"
            f"<td>{'✔' if r.passed else '✘'} {_SHOWN[r.status]}</td></tr>" for r in self.rows)
        notes = "".join(f"<p>note: {n}</p>" for n in self.notes())
        problems = "".join(f"<p>problem: {p}</p>" for p in self.problems)
        verdict, rest = self._verdict().split(": ", 1)
        return (f"<p><b>gradcheck {self.target}</b> ({self._settings_text()})</p>"
                f"<table><tr><th>tensor</th><th>shape</th><th>checked</th>"
                f"<th>max abs err</th><th>rel err</th><th>floor</th><th>ok</th></tr>{cells}"
                f"</table>{notes}{problems}<p><b>{verdict}</b>: {rest}</p>")


def _number(value):
    """A table's number; '-' where there is none (a row of zeros has no relative error)."""
    return "-" if math.isnan(value) else f"{value:.2e}"
