"""What :func:`rnnzoo.gradcheck` returns: a row per checked tensor and the report that
prints them as a table (in a notebook, as HTML) with the structural problems and the
verdict."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TensorCheck:
    """The result for one tensor (a parameter, the input, or a state component)."""
    name: str
    shape: tuple
    checked: int
    max_abs_err: float
    rel_err: float          # max |a - n| / max |n|
    worst_index: tuple
    analytic_at_worst: float
    numeric_at_worst: float
    passed: bool


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
        return max((r.rel_err for r in self.rows), default=0.0)

    def failures(self) -> list:
        msgs = list(self.problems)
        for r in self.rows:
            if not r.passed:
                msgs.append(f"{self.target}: gradient of '{r.name}' is wrong at index "
                            f"{r.worst_index}: analytic {r.analytic_at_worst:.10g} vs "
                            f"numeric {r.numeric_at_worst:.10g} (abs err {r.max_abs_err:.3g}, "
                            f"rel err {r.rel_err:.3g})")
        return msgs

    def table(self) -> str:
        head = f"{'tensor':<16}{'shape':<16}{'checked':>8}{'max abs err':>14}{'rel err':>12}  ok"
        lines = [f"gradcheck {self.target}  ({self._settings_text()})", head, "-" * len(head)]
        for r in self.rows:
            lines.append(f"{r.name:<16}{str(r.shape):<16}{r.checked:>8}{r.max_abs_err:>14.2e}"
                         f"{r.rel_err:>12.2e}  {'yes' if r.passed else 'NO'}")
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
            f"<td>{r.max_abs_err:.2e}</td><td>{r.rel_err:.2e}</td>"
            f"<td>{'✔' if r.passed else '✘'}</td></tr>" for r in self.rows)
        problems = "".join(f"<p>problem: {p}</p>" for p in self.problems)
        verdict, rest = self._verdict().split(": ", 1)
        return (f"<p><b>gradcheck {self.target}</b> ({self._settings_text()})</p>"
                f"<table><tr><th>tensor</th><th>shape</th><th>checked</th>"
                f"<th>max abs err</th><th>rel err</th><th>ok</th></tr>{cells}</table>"
                f"{problems}<p><b>{verdict}</b>: {rest}</p>")
