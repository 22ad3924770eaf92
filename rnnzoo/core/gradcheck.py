"""A finite-difference gradient checker for cells and models (public).

``gradcheck(cell, x)`` compares every gradient the cell's backward returns (each
parameter, the input x and every initial-state component) with central differences

    dL/dθ_k ≈ (L(θ + ε e_k) − L(θ − ε e_k)) / 2ε

of a scalar L = Σ u ⊙ hs + Σ_i v_i ⊙ state_T[i] (+ the auxiliary loss ``cache.aux_loss``
of a cell or model that has one, whose gradient backward includes), with u, v random
normal (not ones: a sum of outputs hides errors that cancel). Pass/fail is
``allclose(analytic, numeric, atol, rtol)``; the report lists, per tensor, the worst absolute error and the worst error
relative to that tensor's largest gradient entry (|a − n|_max / |n|_max), and where the
worst entry is.

A cell whose backward is a surrogate by design (``exact_gradient = False``, e.g. the
straight-through estimator of a hard Skip RNN) cannot pass: finite differences measure
the true derivative. The report says so as a problem instead of comparing silently.

It also checks that the gradient dict has exactly the parameters' keys and shapes and
that backward is reentrant (a second call on the same cache gives identical results and
leaves the parameters untouched).

For tensors too big to perturb entry by entry there are two cheaper modes:
``max_entries=k`` checks k random entries per tensor, and ``mode="directional"``
checks ⟨∇L, d⟩ against (L(θ + εd) − L(θ − εd)) / 2ε along random unit directions d
(JAX's check_grads idea).
"""
from __future__ import annotations

import numpy as np

from .backend import to_numpy
from .cell_checks import ContractError
from .gradcheck_report import GradcheckReport, TensorCheck
from .gradcheck_inputs import (check_forward, check_object, is_array, not_a_tuple_of,
                               target_name, tensor_names, what_it_is)
from .validation import (check_bool, check_choice, check_float, check_int, check_optional,
                         check_seed)


class _MalformedBackward(Exception):
    """backward returned something other than the contract's tuple (the message says
    what); gradcheck reports it as the check's one problem, since nothing can be compared."""


class _Problem:
    """Adapts a cell or a model to 'a scalar loss of named tensors, and its gradients'."""

    def __init__(self, obj, x, state0, rng, backend=None):
        # (obj, x, state0, rng): notebook 01 builds one to difference W_hh by hand
        backend = check_object(obj, x, state0) if backend is None else backend
        self.obj = obj
        self.is_cell = hasattr(obj, "state_names")
        self.xp = backend.xp
        self.inputs = {"x": x.copy()}
        if self.is_cell:
            state0 = obj.initial_state(x.shape[1]) if state0 is None else state0
            state0 = tuple(s.copy() for s in state0)
            # a random, nonzero initial state so its gradient is exercised too
            if all(float(abs(to_numpy(s)).max()) == 0.0 for s in state0):
                state0 = tuple(backend.asarray(0.5 * rng.standard_normal(s.shape),
                                               dtype=s.dtype) for s in state0)
            for name, s in zip(obj.state_names, state0):
                self.inputs[f"{name}0"] = s
        out, state_T, _ = self._run()
        self.u = backend.asarray(rng.standard_normal(out.shape), dtype=out.dtype)
        self.v = tuple(backend.asarray(rng.standard_normal(s.shape), dtype=s.dtype)
                       for s in state_T)

    def _state0(self):
        return tuple(self.inputs[f"{n}0"] for n in self.obj.state_names)

    def _run(self):
        if self.is_cell:
            returned = self.obj.forward(self.inputs["x"], self._state0())
            check_forward(returned, "forward(x, state0)", ("hs", "state_T", "cache"))
            return returned
        returned = self.obj.forward(self.inputs["x"])
        check_forward(returned, "forward(x)", ("y", "cache"))
        y, cache = returned
        return y, (), cache

    def loss(self) -> float:
        out, state_T, cache = self._run()
        total = self.xp.sum(self.u * out)
        for v, s in zip(self.v, state_T):
            total = total + self.xp.sum(v * s)
        return float(total) + getattr(cache, "aux_loss", 0.0)   # e.g. Skip RNN's budget

    def analytic(self, cache=None):
        """(gradients of every tensor by name, the grads dict) from one backward, on
        ``cache`` or a fresh forward's; raises _MalformedBackward when backward's result
        does not have the contract's form."""
        if cache is None:
            cache = self._run()[2]
        grads_text = "grads a dict of arrays shaped like params"
        if self.is_cell:
            try:
                returned = self.obj.backward(self.u, cache, self.v)
            except ContractError as off:            # a RecurrentCell's own check said what
                raise _MalformedBackward(str(off)) from None
            names = tuple(self.obj.state_names)
            expected = (f"(dx, dstate0, grads): dx shaped like x, dstate0 a tuple of "
                        f"{len(names)} array(s) ({', '.join(names)}), {grads_text}")
        else:
            returned = self.obj.backward(self.u, cache)
            expected = f"(dx, grads): dx shaped like x, {grads_text}"
        got = not_a_tuple_of(returned, 3 if self.is_cell else 2)
        if got:
            raise _MalformedBackward(f"backward returned {got}; expected {expected}")
        if self.is_cell:
            dx, dstate0, grads = returned
            got = not_a_tuple_of(dstate0, len(names))
            if got:
                raise _MalformedBackward(f"backward returned dstate0 = {got}; expected "
                                         f"{expected}")
            named = {"x": dx, **{f"{n}0": d for n, d in zip(names, dstate0)}}
        else:
            dx, grads = returned
            named = {"x": dx}
        if not isinstance(grads, dict):
            raise _MalformedBackward(f"backward returned grads = {what_it_is(grads)}; expected "
                                     f"{expected}")
        return named, grads

    def tensors(self):
        """Every checked tensor by name: parameters first, then x and the states."""
        return {**self.obj.params, **self.inputs}


def gradcheck(obj, x, state0=None, *, eps=1e-6, atol=1e-7, rtol=1e-5, seed=0,
              max_entries=None, mode="entries", directions=4, only=None, skip=(),
              raise_on_failure=False) -> GradcheckReport:
    """Check a cell's (or a model's) backward against central differences in float64.

    Parameters
    ----------
    obj : a cell or a model
        A cell has ``forward(x, state0) -> hs, state_T, cache``,
        ``backward(dhs, cache, dstate_T) -> dx, dstate0, grads``, ``state_names`` and
        ``initial_state(batch)``; a model ``forward(x) -> y, cache`` and
        ``backward(dy, cache) -> dx, grads``. Either has ``params`` (a dict of float64
        arrays, nudged in place) and ``dtype``, which must be float64. ``obj.backend`` (a
        backend or its name) is optional: a cell of your own without one is taken to be
        NumPy, rnnzoo's default backend.
    x : float64 array (T, B, input_size)
    state0 : a cell's initial state (a tuple of float64 arrays, one per state component),
        or None for a random nonzero one (so its gradient is tested). A model's backward
        returns no gradient of its initial state, so a model takes None only.
    eps : the finite-difference step
    atol, rtol : an entry passes when |analytic − numeric| <= atol + rtol · |numeric|
    seed : seeds the random upstream gradients, sampled entries and directions
    max_entries : check at most this many random entries per tensor (None: all). Each
        entry costs two forward passes, so a 64-unit GRU's W_hh (12,288 entries) takes
        about 25,000: for tensors past a few thousand entries, sample (max_entries=50)
        or use mode="directional"
    mode : "entries" (perturb entries one at a time) or "directional"
    directions : how many random directions per tensor in directional mode
    only, skip : names of tensors to check / to leave out (e.g. a surrogate gradient)
    raise_on_failure : raise AssertionError with the failure messages instead of
        returning a failed report

    Returns
    -------
    GradcheckReport : prints as a table; ``report.passed``; ``report.rows``. A backward
    whose result is not of the contract's form (a missing entry, grads not a dict, a
    gradient that is None) is a failed report with that problem, not an exception.
    """
    backend = check_object(obj, x, state0)
    w = "gradcheck"
    mode = check_choice(mode, "mode", ("entries", "directional"), where=w)
    eps = check_float(eps, "eps", minimum=0.0, min_open=True, where=w)
    atol = check_float(atol, "atol", minimum=0.0, where=w)
    rtol = check_float(rtol, "rtol", minimum=0.0, where=w)
    seed = check_seed(seed, where=w)
    max_entries = check_optional(check_int, max_entries, "max_entries (None or a count)",
                                 minimum=1, where=w)
    directions = check_int(directions, "directions", minimum=1, where=w)
    raise_on_failure = check_bool(raise_on_failure, "raise_on_failure", where=w)
    only = None if only is None else tensor_names(only, "only")
    skip = tensor_names(skip, "skip")
    rng = np.random.default_rng(seed)
    problem = _Problem(obj, x, state0, rng, backend)
    target = target_name(obj)
    report = GradcheckReport(target=target, settings={"eps": eps, "atol": atol, "rtol": rtol,
                                                      "mode": mode})
    params_before = {k: to_numpy(v).copy() for k, v in obj.params.items()}
    for cell in getattr(obj, "cells", [obj]):
        if not getattr(cell, "exact_gradient", True):
            report.problems.append(
                f"{cell.name}: backward is a surrogate by design (exact_gradient=False; "
                f"{', '.join(getattr(cell, 'surrogate_tensors', ()))}), so finite "
                f"differences cannot confirm it; check its differentiable mode "
                f"{getattr(cell, 'differentiable_options', {})} instead, or the exact "
                f"paths with the surrogate switched off")

    try:
        cache = problem._run()[2]
        # the first results copied before the second call: a backward that returns (and
        # then overwrites) arrays it keeps in its cache would otherwise be compared with
        # itself
        named, grads = (_snapshot(d) for d in problem.analytic(cache))
        named_again, grads_again = problem.analytic(cache)     # the same cache, again
    except _MalformedBackward as malformed:
        report.problems.append(f"{target}: {malformed}")
        return _finished(report, raise_on_failure)
    _check_structure(obj, grads, report)
    for k, d in named.items():
        _note_misfit(report, d, problem.inputs[k].shape, f"d{k}", k)
    _check_reentrant(named, grads, named_again, grads_again, report)
    for k, before in params_before.items():
        if not np.array_equal(before, to_numpy(obj.params[k])):
            report.problems.append(f"{target}: forward/backward changed parameter '{k}'")

    analytic_all = {**{k: grads[k] for k in obj.params if k in grads}, **named}
    tensors = problem.tensors()
    for what, names in (("only", only or ()), ("skip", skip)):
        unknown = sorted(set(names) - set(tensors))
        if unknown:
            raise ValueError(f"gradcheck: {what}= names {unknown} match no tensor; the "
                             f"tensors are {list(tensors)}")
    if not [n for n in tensors if (only is None or n in only) and n not in skip]:
        # a report with no row would say PASSED about nothing
        raise ValueError(f"gradcheck: only={only} and skip={skip} leave no tensor to check; "
                         f"the tensors are {list(tensors)}")
    for name, tensor in tensors.items():
        if (only is not None and name not in only) or name in skip or name not in analytic_all:
            continue
        gradient = analytic_all[name]
        if not is_array(gradient) or tuple(gradient.shape) != tuple(tensor.shape):
            continue                     # a missing or misshaped gradient is a named problem
        analytic = to_numpy(gradient)
        if mode == "entries":
            row = _check_entries(problem, name, tensor, analytic, eps, atol, rtol,
                                 max_entries, rng)
        else:
            row = _check_directions(problem, name, tensor, analytic, eps, atol, rtol,
                                    directions, rng)
        report.rows.append(row)
    return _finished(report, raise_on_failure)


def _snapshot(gradients):
    """{name: a host copy of each array (anything else as it is)}."""
    return {k: to_numpy(g).copy() if is_array(g) else g for k, g in gradients.items()}


def _finished(report, raise_on_failure):
    if raise_on_failure and not report.passed:
        raise AssertionError("\n".join(report.failures()))
    return report


def _note_misfit(report, gradient, shape, label, like):
    """Report a returned gradient that is not an array shaped like its tensor."""
    if not is_array(gradient):
        report.problems.append(f"{label} is {what_it_is(gradient)}; expected an array of "
                               f"shape {tuple(shape)}, like {like}")
    elif tuple(gradient.shape) != tuple(shape):
        report.problems.append(f"{label} has shape {tuple(gradient.shape)}; {like} has "
                               f"{tuple(shape)}")


def _check_structure(obj, grads, report):
    missing = sorted(set(obj.params) - set(grads))
    extra = sorted(set(grads) - set(obj.params))
    if missing or extra:
        report.problems.append(f"grads keys differ from params: missing {missing}, extra {extra}")
    for k, p in obj.params.items():
        if k in grads:
            _note_misfit(report, grads[k], p.shape, f"grads['{k}']", f"params['{k}']")


def _check_reentrant(named, grads, named_again, grads_again, report):
    for k in named:
        if not np.array_equal(to_numpy(named[k]), to_numpy(named_again[k])):
            report.problems.append(f"backward is not reentrant: d{k} differs on a second call")
    for k in grads:
        if k in grads_again and not np.array_equal(to_numpy(grads[k]), to_numpy(grads_again[k])):
            report.problems.append(f"backward is not reentrant: grads['{k}'] differs on a "
                                   "second call")


def _central_difference(problem, tensor, flat_index, eps):
    """(L(θ + ε e_k) − L(θ − ε e_k)) / 2ε, restoring the entry bit-exactly. The entry is
    addressed by its index: tensor.reshape(-1) of a non-contiguous tensor (a Fortran-order
    parameter) is a copy, which the nudges would never leave."""
    index = np.unravel_index(flat_index, tensor.shape)
    old = tensor[index].copy()
    tensor[index] = old + eps
    plus = problem.loss()
    tensor[index] = old - eps
    minus = problem.loss()
    tensor[index] = old
    return (plus - minus) / (2 * eps)


def _check_entries(problem, name, tensor, analytic, eps, atol, rtol, max_entries, rng):
    size = tensor.size
    if max_entries is not None and max_entries < size:
        indices = np.sort(rng.choice(size, size=max_entries, replace=False))
    else:
        indices = np.arange(size)
    numeric = np.array([_central_difference(problem, tensor, int(k), eps) for k in indices])
    a = analytic.reshape(-1)[indices]
    err = np.abs(a - numeric)
    ok = err <= atol + rtol * np.abs(numeric)
    worst = int(np.argmax(err - (atol + rtol * np.abs(numeric)))) if not ok.all() else int(np.argmax(err))
    scale = float(np.abs(numeric).max()) if numeric.size else 0.0
    return TensorCheck(
        name=name, shape=tuple(tensor.shape), checked=int(indices.size),
        max_abs_err=float(err.max()), rel_err=float(err.max() / scale) if scale > 0 else float(err.max()),
        worst_index=tuple(int(i) for i in np.unravel_index(int(indices[worst]), tensor.shape)),
        analytic_at_worst=float(a[worst]), numeric_at_worst=float(numeric[worst]),
        passed=bool(ok.all()))


def _check_directions(problem, name, tensor, analytic, eps, atol, rtol, directions, rng):
    xp = problem.xp
    original = tensor.copy()
    errs, pairs = [], []
    for _ in range(directions):
        d = rng.standard_normal(tensor.shape)
        d /= np.linalg.norm(d)
        d_dev = xp.asarray(d, dtype=tensor.dtype)
        tensor += eps * d_dev
        plus = problem.loss()
        tensor[...] = original
        tensor -= eps * d_dev
        minus = problem.loss()
        tensor[...] = original
        numeric = (plus - minus) / (2 * eps)
        predicted = float(np.sum(analytic * d))
        pairs.append((predicted, numeric))
        errs.append(abs(predicted - numeric))
    errs = np.array(errs)
    numerics = np.array([n for _, n in pairs])
    ok = errs <= atol + rtol * np.abs(numerics)
    worst = int(np.argmax(errs))
    scale = float(np.abs(numerics).max())
    return TensorCheck(
        name=name, shape=tuple(tensor.shape), checked=directions,
        max_abs_err=float(errs.max()), rel_err=float(errs.max() / scale) if scale > 0 else float(errs.max()),
        worst_index=("direction", worst), analytic_at_worst=pairs[worst][0],
        numeric_at_worst=pairs[worst][1], passed=bool(ok.all()))
