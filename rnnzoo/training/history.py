"""What a training run records (:class:`History`): the losses, the gradient norms, every
evaluation on the task's fixed set, and whether the run solved the task by its criterion."""
from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields

from ..core.validation import ArgumentTypeError, describe, is_real
from .tasks import Success


@dataclass
class History:
    """What a training run recorded; :func:`rnnzoo.training.plotting.plot_history` draws it.

    ``steps``/``train_loss``/``grad_norm``: one entry per optimizer step (the loss of
    that step's batch and the global gradient norm *before* clipping).
    ``eval_steps``/``eval_loss``/``eval_accuracy``: one entry per evaluation on the
    task's fixed evaluation set (step 0 is the untrained model).
    ``baseline``: the task's trivial baseline loss (``baseline_formula`` says which).
    ``aux_loss``: per optimizer step, the part of ``train_loss`` that is the model's
    auxiliary loss (a Skip RNN's budget; 0 for most cells). Evaluation losses are the
    task's loss only, so they compare with the baseline.
    ``success``: the task's criterion of *solved* (:class:`rnnzoo.tasks.Success` as a
    dict; None where the task has none) and ``eval_success`` its metric at every
    evaluation (empty without a criterion); :attr:`solved` reads the last one.
    """

    label: str = ""
    task: str = ""
    metric: str = ""
    baseline: float = float("nan")
    baseline_formula: str = ""
    steps: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    aux_loss: list = field(default_factory=list)
    eval_steps: list = field(default_factory=list)
    eval_loss: list = field(default_factory=list)
    eval_accuracy: list = field(default_factory=list)
    seconds: float = 0.0
    success: dict | None = None
    eval_success: list = field(default_factory=list)

    @property
    def final_eval_loss(self) -> float:
        return self.eval_loss[-1] if self.eval_loss else float("nan")

    @property
    def final_eval_accuracy(self) -> float:
        return self.eval_accuracy[-1] if self.eval_accuracy else float("nan")

    @property
    def final_eval_success(self) -> float:
        return self.eval_success[-1] if self.eval_success else float("nan")

    def _met(self, value) -> bool:
        return Success(**self.success).met(value)

    @property
    def solved(self) -> bool | None:
        """Whether the last evaluation meets the task's criterion (None: no criterion)."""
        if self.success is None:
            return None
        return bool(self.eval_success) and self._met(self.final_eval_success)

    @property
    def solved_at(self) -> int | None:
        """The first evaluation step that met the task's criterion, or None (never, or no
        criterion)."""
        if self.success is None:
            return None
        return next((s for s, v in zip(self.eval_steps, self.eval_success) if self._met(v)),
                    None)

    def to_dict(self) -> dict:
        """Plain JSON-able data (for checkpoints and logs)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d) -> "History":
        """The History ``d`` (what :meth:`to_dict` returned) describes; a field it lacks
        takes its default, a field it does not know or of the wrong kind is an error."""
        w = "History.from_dict"
        if not isinstance(d, Mapping):
            raise ArgumentTypeError(f"{w}: d must be a dict (what History.to_dict returns); "
                                    f"got {describe(d)}")
        kinds = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(d) - set(kinds), key=str)
        if unknown:
            raise ValueError(f"{w}: d has unknown field(s) {unknown}; fields: {list(kinds)}")
        for name, value in d.items():
            kind = kinds[name]
            ok = {"str": isinstance(value, str), "list": isinstance(value, list),
                  "float": is_real(value),
                  "dict | None": value is None or isinstance(value, Mapping)}[kind]
            if not ok:
                expected = {"str": "a str", "list": "a list", "float": "a number",
                            "dict | None": "None or a dict (a Success's fields)"}[kind]
                raise ArgumentTypeError(f"{w}: d[{name!r}] must be {expected}; got "
                                        f"{describe(value)}")
        if d.get("success") is not None:
            try:
                Success(**d["success"])
            except TypeError as exc:
                raise ValueError(f"{w}: d['success'] must hold a Success's fields; got "
                                 f"{describe(d['success'])} ({exc})") from None
        # copies: a History appends to its lists, which must not be the caller's (resuming
        # twice from one loaded checkpoint's metadata would see the first run's steps)
        return cls(**copy.deepcopy(dict(d)))

    def summary(self) -> str:
        ratio = self.final_eval_loss / self.baseline if self.baseline else float("nan")
        solved = "" if self.success is None else (
            f", {'solved' if self.solved else 'not solved'} ({self._criterion()})")
        return (f"{self.label or 'model'} on {self.task}: eval {self.metric} "
                f"{self.final_eval_loss:.4g} vs baseline {self.baseline:.4g} "
                f"({ratio:.1%} of it), accuracy {self.final_eval_accuracy:.1%}{solved}, "
                f"{self.steps[-1] if self.steps else 0} steps in {self.seconds:.1f} s")

    def _criterion(self) -> str:
        return (f"{Success(**self.success).describe()}: "
                f"{self.success['metric']} {self.final_eval_success:.4g}")
