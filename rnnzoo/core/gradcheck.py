"""A finite-difference gradient checker for cells and models (public).

``gradcheck(cell, x)`` compares every gradient the cell's backward returns (each
parameter, the input x and every initial-state component) with central differences

    dL/dθ_k ≈ (L(θ + ε e_k) − L(θ − ε e_k)) / 2ε

of a scalar L = Σ u ⊙ hs + Σ_i v_i ⊙ state_T[i] (+ the auxiliary loss ``cache.aux_loss``
of a cell or model that has one, whose gradient backward includes), with u, v random
normal (not ones: a sum of outputs hides errors that cancel). An entry passes when
|analytic − numeric| <= atol + floor + rtol·|numeric|, the floor being the round-off of
that central difference, measured from the losses it took; a tensor also needs its
relative error within what the floor allows (``gradcheck``'s Notes say how, and what
happens at a kink). The report lists, per tensor, the worst absolute error, the worst
error relative to that tensor's largest gradient entry (|a − n|_max / |n|_max), the
floor, and where the worst entry is.

A cell whose backward is a surrogate by design (``exact_gradient = False``, e.g. the
straight-through estimator of a hard Skip RNN) cannot pass: finite differences measure
the true derivative. The report says so as a problem instead of comparing silently,
unless every tensor the cell declares a surrogate (``surrogate_tensors``) is left out.

It also checks that the gradient dict has exactly the parameters' keys, shapes and
dtype (real float64), that backward is reentrant (a second call on the same cache gives
identical results and leaves the parameters untouched) and that it leaves the upstream
gradients it is given as they were.

For tensors too big to perturb entry by entry there are two cheaper modes:
``max_entries=k`` checks k random entries per tensor, and ``mode="directional"``
checks ⟨∇L, d⟩ against (L(θ + εd) − L(θ − εd)) / 2ε along random unit directions d
(JAX's check_grads idea).
"""
from __future__ import annotations

import numpy as np

from .backend import to_numpy
from .cell_checks import ContractError
from .gradcheck_report import GradcheckReport
# the differences and their judgement; _central_difference is also read from here by
# notebook 01, which differences W_hh by hand
from .gradcheck_differences import (_central_difference, _check_directions,  # noqa: F401
                                    _check_entries, _empty_row)
from .gradcheck_inputs import (check_forward, check_object, gradient_dtype_reason, is_array,
                               not_a_tuple_of, target_name, tensor_names, what_it_is)
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
        self.wrote_into = []         # the arguments backward wrote into, by name
        self._base_loss = None
        if self.is_cell:
            if state0 is None:
                state0 = obj.initial_state(x.shape[1])
                # a random, nonzero initial state so its gradient is exercised too (only
                # in place of None: a state0 the caller gives, zeros included, is checked
                # as given)
                if all(float(abs(to_numpy(s)).max(initial=0.0)) == 0.0 for s in state0):
                    state0 = tuple(backend.asarray(0.5 * rng.standard_normal(s.shape),
                                                   dtype=s.dtype) for s in state0)
            state0 = tuple(s.copy() for s in state0)
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
        return self.loss_and_size()[0]

    def loss_and_size(self):
        """(L, ‖L‖₁): the loss and the sum of the magnitudes of the terms it adds,
        Σ|u ⊙ out| + Σ_i |v_i ⊙ state_T[i]| + |aux|. The round-off of L is relative to
        ‖L‖₁, not to L: the terms of a random u cancel, and L can be far smaller than
        what was rounded to get it."""
        out, state_T, cache = self._run()
        xp = self.xp
        total, size = xp.sum(self.u * out), xp.sum(xp.abs(self.u * out))
        for v, s in zip(self.v, state_T):
            total, size = total + xp.sum(v * s), size + xp.sum(xp.abs(v * s))
        aux = getattr(cache, "aux_loss", 0.0)             # e.g. Skip RNN's budget
        return float(total) + aux, float(size) + abs(float(aux))

    def base_loss(self) -> float:
        """L(θ), unperturbed (every nudge is undone bit for bit): the middle point of the
        one-sided differences, computed once."""
        if self._base_loss is None:
            self._base_loss = self.loss()
        return self._base_loss

    def analytic(self, cache=None):
        """(gradients of every tensor by name, the grads dict) from one backward, on
        ``cache`` or a fresh forward's; raises _MalformedBackward when backward's result
        does not have the contract's form. Backward gets copies of the upstream
        gradients: one that writes into them is named in ``wrote_into``, and cannot
        change the loss the differences are taken of."""
        if cache is None:
            cache = self._run()[2]
        grads_text = "grads a dict of arrays shaped like params"
        upstream = self.u.copy()
        if self.is_cell:
            carried = tuple(v.copy() for v in self.v)
            try:
                returned = self.obj.backward(upstream, cache, carried)
            except ContractError as off:            # a RecurrentCell's own check said what
                raise _MalformedBackward(str(off)) from None
            names = tuple(self.obj.state_names)
            given = [("dhs", upstream, self.u)] + [
                (f"dstate_T[{i}] (d{n}_T)", c, v)
                for i, (n, c, v) in enumerate(zip(names, carried, self.v))]
            expected = (f"(dx, dstate0, grads): dx shaped like x, dstate0 a tuple of "
                        f"{len(names)} array(s) ({', '.join(names)}), {grads_text}")
        else:
            returned = self.obj.backward(upstream, cache)
            given = [("dy", upstream, self.u)]
            expected = f"(dx, grads): dx shaped like x, {grads_text}"
        for what, after, before in given:
            if what not in self.wrote_into and not _same(after, before):
                self.wrote_into.append(what)
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
        arrays, each its own memory, nudged in place) and ``dtype``, which must be
        float64. ``obj.backend`` (a backend or its name) is optional: a cell of your own
        without one is taken to be NumPy, rnnzoo's default backend.
    x : finite float64 array (T, B, input_size), T and B at least 1
    state0 : a cell's initial state (a tuple of finite float64 arrays, one per state
        component), checked as given (zeros too); or None for a random nonzero one (so
        its gradient is tested). A model's backward returns no gradient of its initial
        state, so a model takes None only.
    eps : the finite-difference step
    atol, rtol : an entry passes when |analytic − numeric| <= atol + floor + rtol · |numeric|
        (floor: below); a tensor also needs its reported relative error within
        max(rtol, 2 · floor / max|numeric|) (below)
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
    gradient that is None or not a real float64 array) is a failed report with that
    problem, not an exception.

    Notes
    -----
    *The round-off floor.* A central difference divides the rounding error of two losses
    by 2ε. Each entry's floor is ``ε_mach · max(‖L‖₁(θ+εe), ‖L‖₁(θ−εe)) / ε``, with
    ‖L‖₁ the sum of the magnitudes of the terms the loss adds (its round-off is relative
    to those, not to a sum they cancel in; c = 1: the largest error measured over the
    zoo's cells at inputs up to 1e5 was 0.4 floors, 2.5 where truncation added to it).
    It is added to atol, and shown per tensor (its largest) in the report's floor
    column: at large scales (inputs of 1e5) it is what a correct backward's errors are,
    and the fixed atol is not. It is the measured noise of the measurement, not a
    tolerance loosened until a check passes. The nudges themselves are the steps
    actually taken, (θ + ε) − θ in float64, not ε.

    *Per tensor.* atol alone would pass a tensor whose gradients are all below it,
    whatever their sign. So a tensor's reported relative error, max|a − n| / max|n|,
    must also be within max(rtol, 2 · floor / max|n|) (2: a per-entry pass keeps it
    there unless atol did the passing). That needs max|n| well above the floor (more
    than 10x): a tensor whose analytic and numeric gradients are both within the floor
    of zero passes ("zero"); one whose gradient is not measurable above round-off
    otherwise fails as such ("round-off"), since nothing confirms it. A tensor with no
    entries has nothing to check ("empty").

    *Kinks.* Where an entry fails, its one-sided differences (one more loss, L(θ)) say
    whether the loss is smooth within ε there: if they disagree by more than the entry's
    tolerance, the entry sits near a kink (a ReLU whose input crosses 0 within ε), and is
    re-checked at ε/100 with its own floor. It passes only if there the one-sided
    differences agree and the central difference matches the analytic gradient; one
    still not smooth fails as a kink (not necessarily a wrong backward). The report's
    notes say how many entries were re-checked and at which ε.

    *Structure.* Backward gets copies of its upstream gradients; one that writes into
    them (dhs, dstate_T, a model's dy) is named as a problem. Parameters that share
    memory (one array under two keys) are refused before anything is computed: nudging
    one would nudge both.
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
    tensors = problem.tensors()
    for what, names in (("only", only or ()), ("skip", skip)):
        unknown = sorted(set(names) - set(tensors))
        if unknown:
            raise ValueError(f"gradcheck: {what}= names {unknown} match no tensor; the "
                             f"tensors are {list(tensors)}")
    checked = [n for n in tensors if (only is None or n in only) and n not in skip]
    if not checked:
        # a report with no row would say PASSED about nothing
        raise ValueError(f"gradcheck: only={only} and skip={skip} leave no tensor to check; "
                         f"the tensors are {list(tensors)}")
    report = GradcheckReport(target=target, settings={"eps": eps, "atol": atol, "rtol": rtol,
                                                      "mode": mode})
    params_before = {k: to_numpy(v).copy() for k, v in obj.params.items()}
    cells = getattr(obj, "cells", None)
    for prefix, cell in ([(f"cell{k}.", c) for k, c in enumerate(cells)] if cells
                         else [("", obj)]):
        if not getattr(cell, "exact_gradient", True):
            surrogate = _surrogate_problem(cell, prefix, tensors, checked)
            if surrogate:
                report.problems.append(surrogate)

    try:
        cache = problem._run()[2]
        # the first results copied before the second call: a backward that returns (and
        # then overwrites) arrays it keeps in its cache would otherwise be compared with
        # itself. What backward returned is kept for its type, shape and dtype (the
        # copies are host arrays)
        returned_named, returned_grads = problem.analytic(cache)
        named, grads = _snapshot(returned_named), _snapshot(returned_grads)
        named_again, grads_again = problem.analytic(cache)     # the same cache, again
    except _MalformedBackward as malformed:
        report.problems.append(f"{target}: {malformed}")
        return _finished(report, raise_on_failure)
    for what in problem.wrote_into:
        report.problems.append(f"{target}: backward wrote into its argument {what}, the "
                               f"upstream gradient it was given (backward must not change "
                               f"its arguments: a caller reuses them; write into a new array,"
                               f" dh = dhs[t] + dh_next, not dhs[t] += dh_next)")
    _check_structure(obj, returned_grads, report, backend)
    for k, d in returned_named.items():
        _note_misfit(report, d, problem.inputs[k].shape, f"d{k}", k, backend)
    _check_reentrant(named, grads, named_again, grads_again, report)
    for k, before in params_before.items():
        if not _same(before, obj.params[k]):
            report.problems.append(f"{target}: forward/backward changed parameter '{k}'")

    returned = {**returned_grads, **returned_named}
    copies = {**grads, **named}
    for name, tensor in tensors.items():
        if name not in checked or name not in returned:
            continue
        if _misfit(returned[name], tensor.shape, "", "", backend):
            continue                     # a missing or misshaped gradient is a named problem
        analytic = copies[name]
        if tensor.size == 0:
            row = _empty_row(name, tensor)
        elif mode == "entries":
            row = _check_entries(problem, name, tensor, analytic, eps, atol, rtol,
                                 max_entries, rng)
        else:
            row = _check_directions(problem, name, tensor, analytic, eps, atol, rtol,
                                    directions, rng)
        report.rows.append(row)
    return _finished(report, raise_on_failure)


def _surrogate_problem(cell, prefix, tensors, checked):
    """The problem to report for a cell whose backward is a surrogate by design, or None
    when every tensor it declares a surrogate is left out of the check (skip=, or not in
    only=): the others' gradients are exact, and are checked exactly."""
    declared = tuple(getattr(cell, "surrogate_tensors", ()))
    names = [prefix + t for t in declared]
    are_tensors = bool(names) and all(n in tensors for n in names)
    if are_tensors and not any(n in checked for n in names):
        return None
    options = getattr(cell, "differentiable_options", None) or {}
    ways = [f"check its differentiable mode {options} instead"] if options else []
    # only tensors named as such can be skipped (skiprnn declares "every tensor
    # upstream of u_t")
    ways.append(f"leave them out (skip={names}) to check the others exactly" if are_tensors
                else "the exact paths with the surrogate switched off")
    return (f"{target_name(cell)}: backward is a surrogate by design (exact_gradient=False; "
            f"{', '.join(declared)}), so finite differences cannot confirm it; "
            f"{', or '.join(ways)}")


def _snapshot(gradients):
    """{name: a host copy of each array (anything else as it is)}."""
    return {k: to_numpy(g).copy() if is_array(g) else g for k, g in gradients.items()}


def _same(a, b):
    """Whether two arrays (host or device) hold the same values, NaN at the same places
    counting as equal: a gradient that is NaN twice is reentrant."""
    a, b = to_numpy(a), to_numpy(b)
    try:
        return bool(np.array_equal(a, b, equal_nan=True))
    except TypeError:                   # object arrays (a list of lists) have no NaN
        return bool(np.array_equal(a, b))


def _finished(report, raise_on_failure):
    if raise_on_failure and not report.passed:
        raise AssertionError("\n".join(report.failures()))
    return report


def _misfit(gradient, shape, label, like, backend):
    """Why a returned gradient is not a real float64 array of the backend shaped like
    its tensor, or None. An int64 gradient has been truncated, a float32 one rounded,
    and a complex one's imaginary part would be dropped (with only a warning) when
    compared."""
    if not is_array(gradient):
        return (f"{label} is {what_it_is(gradient)}; expected an array of shape "
                f"{tuple(shape)}, like {like}")
    if not backend.is_array(gradient):
        return (f"{label} is {what_it_is(gradient)}; expected a {backend.name} array, like "
                f"{like}")
    if tuple(gradient.shape) != tuple(shape):
        return f"{label} has shape {tuple(gradient.shape)}; {like} has {tuple(shape)}"
    if gradient.dtype != np.float64:
        return (f"{label} has dtype {gradient.dtype}; expected float64, like {like} "
                f"({gradient_dtype_reason(gradient.dtype)})")
    return None


def _note_misfit(report, gradient, shape, label, like, backend):
    """Report a returned gradient that is not a real float64 array shaped like its tensor."""
    why = _misfit(gradient, shape, label, like, backend)
    if why:
        report.problems.append(why)


def _check_structure(obj, grads, report, backend):
    missing = sorted(set(obj.params) - set(grads))
    extra = sorted(set(grads) - set(obj.params))
    if missing or extra:
        report.problems.append(f"grads keys differ from params: missing {missing}, extra {extra}")
    for k, p in obj.params.items():
        if k in grads:
            _note_misfit(report, grads[k], p.shape, f"grads['{k}']", f"params['{k}']", backend)


def _check_reentrant(named, grads, named_again, grads_again, report):
    for k in named:
        if not _same(named[k], named_again[k]):
            report.problems.append(f"backward is not reentrant: d{k} differs on a second call")
    for k in grads:
        if k in grads_again and not _same(grads[k], grads_again[k]):
            report.problems.append(f"backward is not reentrant: grads['{k}'] differs on a "
                                   "second call")
