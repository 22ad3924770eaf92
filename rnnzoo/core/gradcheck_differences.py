"""The finite differences :func:`rnnzoo.gradcheck` takes and how it judges them: the
central difference of one entry or along one direction (divided by the steps actually
taken), its round-off floor, the re-check of an entry where the loss has a kink, and the
row of the report each tensor gets (:func:`~rnnzoo.core.gradcheck.gradcheck`'s Notes say
why each rule is what it is)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .backend import to_numpy
from .gradcheck_report import MEASURABLE, TensorCheck


# the round-off floor of a central difference is ROUNDOFF_C · ε_mach · ‖L‖₁ / ε
# (the docstring of gradcheck says why c = 1)
ROUNDOFF_C = 1.0
EPS_MACH = float(np.finfo(np.float64).eps)
# how much smaller the step of a re-check at a kink is
KINK_SHRINK = 100.0
# a tensor's relative error may reach this many floors over its largest gradient entry
FLOOR_MULTIPLE = 2.0


@dataclass
class _Difference:
    """The two losses of one central difference along a line through θ (an entry, or a
    direction), the steps actually taken, and what the analytic gradient predicts for
    each side's slope."""
    plus: float               # L(θ + up)
    minus: float              # L(θ − down)
    up: float                 # the steps, in units along the line
    down: float
    size: float               # max ‖L‖₁ of the two losses
    predicted_up: float       # the analytic slope over each side
    predicted_down: float

    @property
    def numeric(self):
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.float64(self.plus - self.minus) / (self.up + self.down))

    @property
    def analytic(self):
        return ((self.predicted_up * self.up + self.predicted_down * self.down)
                / (self.up + self.down))

    @property
    def floor(self):
        return ROUNDOFF_C * EPS_MACH * self.size / ((self.up + self.down) / 2)

    def one_sided(self, base):
        """((L(θ + up) − L(θ)) / up, (L(θ) − L(θ − down)) / down)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return (float(np.float64(self.plus - base) / self.up),
                    float(np.float64(base - self.minus) / self.down))

    def bend(self, base):
        """How far the one-sided differences disagree, beyond what the analytic slope
        predicts for two steps rounded differently (nothing, for an entry's steps)."""
        forward, backward = self.one_sided(base)
        return abs((forward - self.predicted_up) - (backward - self.predicted_down))

    def tolerance(self, atol, rtol):
        return atol + self.floor + rtol * abs(self.numeric)


def _entry_difference(problem, tensor, flat_index, eps, analytic=0.0):
    """The losses at θ ± ε e_k, restoring the entry bit-exactly. The entry is addressed
    by its index: tensor.reshape(-1) of a non-contiguous tensor (a Fortran-order
    parameter) is a copy, which the nudges would never leave. The steps are those taken:
    θ + ε rounds, by up to half a unit in θ's last place (1.5e-5 of ε = 1e-6 for an
    input of 1e5)."""
    index = np.unravel_index(flat_index, tensor.shape)
    old = tensor[index].copy()
    tensor[index] = old + eps
    up = float(tensor[index] - old)
    plus, plus_size = problem.loss_and_size()
    tensor[index] = old - eps
    down = float(old - tensor[index])
    minus, minus_size = problem.loss_and_size()
    tensor[index] = old
    return _Difference(plus, minus, up, down, max(plus_size, minus_size), analytic, analytic)


def _central_difference(problem, tensor, flat_index, eps):
    """(L(θ + ε e_k) − L(θ − ε e_k)) / 2ε (over the steps actually taken), restoring the
    entry bit-exactly (notebook 01 differences W_hh with it)."""
    return _entry_difference(problem, tensor, flat_index, eps).numeric


def _direction_difference(problem, tensor, direction, analytic, eps):
    """The losses at θ ± ε d for a unit direction d (a host array), restoring θ. Each
    entry of θ ± εd rounds on its own, so the analytic prediction of each side is taken
    along the displacement actually made."""
    xp = problem.xp
    original = tensor.copy()
    d_dev = xp.asarray(direction, dtype=tensor.dtype)
    tensor += eps * d_dev
    moved_up = to_numpy(tensor - original)
    plus, plus_size = problem.loss_and_size()
    tensor[...] = original
    tensor -= eps * d_dev
    moved_down = to_numpy(original - tensor)
    minus, minus_size = problem.loss_and_size()
    tensor[...] = original
    return _Difference(plus, minus, eps, eps, max(plus_size, minus_size),
                       float(np.sum(analytic * moved_up)) / eps,
                       float(np.sum(analytic * moved_down)) / eps)


def _judge(problem, name, shape, differences, redo, locate, eps, atol, rtol):
    """The row of one tensor from its central differences: each compared with its
    tolerance, a failing one re-checked at eps/100 where the loss is not smooth within
    eps (``redo(i, step)`` differences item i again), then the tensor-level condition.
    ``locate(i)`` is what the report calls item i."""
    numeric = np.array([d.numeric for d in differences])
    analytic = np.array([d.analytic for d in differences])
    floor = np.array([d.floor for d in differences])
    err = np.abs(analytic - numeric)
    ok = err <= atol + floor + rtol * np.abs(numeric)
    small = eps / KINK_SHRINK
    kinks, details, passed_there = [], {}, 0
    for i in (int(i) for i in np.flatnonzero(~ok)):
        again = _recheck(problem, differences[i], redo, i, eps, small, atol, rtol, details)
        if again is None:
            continue                               # smooth within eps: a wrong gradient
        if again is _KINK:
            kinks.append(i)
            continue
        numeric[i], analytic[i], floor[i] = again.numeric, again.analytic, again.floor
        err[i] = abs(analytic[i] - numeric[i])
        ok[i] = err[i] <= again.tolerance(atol, rtol)
        passed_there += bool(ok[i])
    wrong = [int(i) for i in np.flatnonzero(~ok) if int(i) not in kinks]
    n_max, a_max = float(np.abs(numeric).max()), float(np.abs(analytic).max())
    floor_max, err_max = float(floor.max()), float(err.max())
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = float(np.float64(err_max) / n_max)
        limit = max(rtol, float(FLOOR_MULTIPLE * np.float64(floor_max) / n_max))
    detail = ""
    if n_max <= floor_max and a_max <= floor_max:
        status, rel = "zero", float("nan")       # both zero within round-off: a pass
    elif not n_max > MEASURABLE * floor_max and not a_max > MEASURABLE * floor_max:
        status = "unmeasurable"                  # nothing confirms it either way
        detail = f"max |numeric| {n_max:.3g}, max |analytic| {a_max:.3g}"
    elif wrong:
        status = "wrong"
    elif kinks:
        status = "kink"
    elif not err_max <= max(rtol * n_max, FLOOR_MULTIPLE * floor_max):    # rel <= limit
        # every entry within atol: the loss hardly moves, or the gradients are all small
        status = "wrong"
        detail = (f"every entry is within atol={atol:g}, but the tensor's rel err is above "
                  f"max(rtol, {FLOOR_MULTIPLE:g} floor / max|numeric|) = {limit:.3g}, "
                  f"where floor = {floor_max:.3g}")
    else:
        status = "ok"
    if status == "kink":
        worst = kinks[0]
    elif wrong and status == "wrong":
        tol = atol + floor + rtol * np.abs(numeric)
        worst = max(wrong, key=lambda i: (err[i] - tol[i], err[i]))
    else:
        worst = int(np.argmax(err))
    return TensorCheck(
        name=name, shape=tuple(shape), checked=len(differences), max_abs_err=err_max,
        rel_err=rel, worst_index=locate(worst), analytic_at_worst=float(analytic[worst]),
        numeric_at_worst=float(numeric[worst]), passed=status in ("ok", "zero"),
        floor=floor_max, status=status, rechecked=passed_there + len(kinks),
        recheck_eps=small if passed_there or kinks else 0.0,
        detail=detail or details.get(worst, ""))


_KINK = object()


def _recheck(problem, first, redo, i, eps, small, atol, rtol, details):
    """A failing item's one-sided differences: None where they agree within its
    tolerance (the loss is smooth within eps, the gradient is wrong); else the item
    differenced again at ``small``, or _KINK where it is not smooth there either.
    ``details[i]`` says what was found."""
    base = problem.base_loss()
    if not first.bend(base) > first.tolerance(atol, rtol):
        return None
    again = redo(i, small)
    sides = "{:.10g} and {:.10g}".format(*first.one_sided(base))
    if again.bend(base) > again.tolerance(atol, rtol):
        details[i] = (f"one-sided differences {sides} at eps={eps:g}, "
                      "{:.10g} and {:.10g} at eps={:g}".format(*again.one_sided(base), small))
        return _KINK
    details[i] = (f"not smooth within eps={eps:g} (one-sided differences {sides}), "
                  f"re-checked at eps={small:g}")
    return again


def _empty_row(name, tensor):
    nan = float("nan")
    return TensorCheck(name=name, shape=tuple(tensor.shape), checked=0, max_abs_err=nan,
                       rel_err=nan, worst_index=(), analytic_at_worst=nan,
                       numeric_at_worst=nan, passed=True, floor=nan, status="empty")


def _check_entries(problem, name, tensor, analytic, eps, atol, rtol, max_entries, rng):
    size = tensor.size
    if max_entries is not None and max_entries < size:
        indices = np.sort(rng.choice(size, size=max_entries, replace=False))
    else:
        indices = np.arange(size)
    a = analytic.reshape(-1)[indices]

    def difference(i, step):
        return _entry_difference(problem, tensor, int(indices[i]), step, float(a[i]))

    return _judge(problem, name, tensor.shape,
                  [difference(i, eps) for i in range(indices.size)], difference,
                  lambda i: tuple(int(j) for j in np.unravel_index(int(indices[i]),
                                                                   tensor.shape)),
                  eps, atol, rtol)


def _check_directions(problem, name, tensor, analytic, eps, atol, rtol, directions, rng):
    units = []
    for _ in range(directions):
        d = rng.standard_normal(tensor.shape)
        units.append(d / np.linalg.norm(d))

    def difference(i, step):
        return _direction_difference(problem, tensor, units[i], analytic, step)

    return _judge(problem, name, tensor.shape, [difference(i, eps) for i in range(directions)],
                  difference, lambda i: ("direction", i), eps, atol, rtol)
