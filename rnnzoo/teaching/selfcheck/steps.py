"""The check of a textbook step pair, :func:`check_step`: fixed inputs against rnnzoo's
cell (gate by gate where it stacks its gates), then finite differences through a sequence
built from the student's two functions."""
from __future__ import annotations

import numpy as np

from ... import cells  # noqa: F401  (registers every cell)
from ...core.backend import to_numpy
from ...core.base import Cache, RecurrentCell
from ...core.gradcheck import gradcheck
from ...core.registry import make
from ...core.validation import ArgumentTypeError, check_bool, check_int, check_seed, describe
from .values import CheckFailed, _is_low_precision, _refuse_none, attempt, check_close

# the spread of the noise added to the cell's initial parameters before the check
PARAM_JITTER = 0.1


def _as_tuple(state):
    return tuple(state) if isinstance(state, (tuple, list)) else (state,)


def _components(state, what):
    """A student's state (or its gradient) as a tuple of components: one array, or a tuple
    (or list) of arrays. A list of numbers is one array written as a list, refused rather
    than taken for several components."""
    if isinstance(state, list) and not all(isinstance(s, np.ndarray) for s in state):
        raise CheckFailed(f"{what} is a Python list; return a NumPy array (or, for a state "
                          f"with several components, a tuple of arrays)")
    parts = _as_tuple(state)
    for part in parts:
        if not isinstance(part, np.ndarray):
            raise CheckFailed(f"{what} holds a {type(part).__name__}; return NumPy arrays "
                              f"(a tuple of them for a state with several components)")
    return parts


def _check_float64(value, what):
    """Refuse float32 (and other short) results: the check runs in float64, and its
    tolerances would let a float32 value through unnoticed."""
    dtype = np.asarray(to_numpy(value)).dtype
    if _is_low_precision(dtype):
        raise CheckFailed(f"{what} is {dtype}; the check runs in float64 (its inputs and "
                          f"parameters are float64): drop the cast to {dtype}")


def _unpack(state):
    return state[0] if len(state) == 1 else tuple(state)


def _pair(result, fn_name, shape_text):
    if not isinstance(result, tuple) or len(result) != 2:
        raise CheckFailed(f"{fn_name} must return a pair {shape_text}; got "
                          f"{type(result).__name__}"
                          + (f" of length {len(result)}" if isinstance(result, tuple) else ""))
    return result


def _forward_step(fn, x, state, params, readout):
    """``(state_next as a tuple, output, cache)`` from a student's step_forward."""
    if readout:
        result = attempt(fn, x, _unpack(state), params, what="step_forward")
        if not isinstance(result, tuple) or len(result) != 3:
            raise CheckFailed("step_forward must return a triple (state, y, cache): this "
                              "cell's output y_t is read out of its state; got "
                              f"{type(result).__name__}"
                              + (f" of length {len(result)}" if isinstance(result, tuple)
                                 else ""))
        nxt, y, cache = result
        return _components(nxt, "step_forward's state (the first of (state_next, y, "
                                "cache))"), y, cache
    nxt, cache = _pair(attempt(fn, x, _unpack(state), params, what="step_forward"),
                       "step_forward", "(state, cache)")
    nxt = _components(nxt, "step_forward's state (the first of (state_next, cache))")
    return nxt, nxt[0], cache


def _backward_step(fn, dy, dstate, cache, readout):
    """A student's step_backward: with dy as its own argument for a readout cell, added
    to the gradient reaching h_t (the state's first component) otherwise."""
    if readout:
        return attempt(fn, dy, _unpack(dstate), cache, what="step_backward")
    dstate = (dstate[0] + dy,) + tuple(dstate[1:])          # loss at t + carried
    return attempt(fn, _unpack(dstate), cache, what="step_backward")


class _StepPairCell(RecurrentCell):
    """A sequence cell built from a student's step_forward / step_backward, with the
    parameters of a reference cell, so :func:`rnnzoo.gradcheck` can check the pair
    through a whole sequence (BPTT adds the gradient carried between steps)."""

    def __init__(self, reference, step_forward, step_backward, readout):
        self._reference, self._f, self._b = reference, step_forward, step_backward
        self._readout = readout
        self.state_names = reference.state_names
        self.name = f"your {reference.name} steps"
        super().__init__(reference.input_size, reference.hidden_size, seed=reference.seed,
                         dtype=np.float64)

    def init_params(self, rng):
        return {k: to_numpy(v).copy() for k, v in self._reference.params.items()}

    @property
    def output_size(self):
        return self._reference.output_size

    def initial_state(self, batch):
        return self._reference.initial_state(batch)

    def _forward(self, x, state0):
        state, hs, steps = state0, [], []
        for t in range(x.shape[0]):
            state, y, cache_t = _forward_step(self._f, x[t], state, self.params,
                                              self._readout)
            hs.append(y)
            steps.append(cache_t)
        return (np.stack(hs), tuple(np.array(s) for s in state),
                Cache(x=x, state0=state0, T=x.shape[0], B=x.shape[1], steps=steps))

    def _backward(self, dhs, cache, dstate):
        grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        dx, dh_norm = np.empty_like(cache.x), np.empty(cache.T)
        for t in reversed(range(cache.T)):
            dh_norm[t] = np.linalg.norm(dstate[0] + (0 if self._readout else dhs[t]))
            dx[t], dprev, g = _backward_step(self._b, dhs[t], dstate, cache.steps[t],
                                             self._readout)
            for k in grads:
                grads[k] += g[k]
            dstate = _as_tuple(dprev)
        return dx, dstate, grads, dh_norm


def _times_h(n):
    return "0" if n == 0 else "H" if n == 1 else f"{n}H"


def _check_gates(ref, grads, grads_e):
    """Compare the gradients gate by gate: each gate's block of H rows of every weight
    and bias (the cell's ``gate_names`` give the blocks' order), so that a wrong gate is
    named ("your lstm forget-gate gradient (rows H:2H of W_ih) is wrong") before dx and
    the carried gradients, which mix every gate, are compared. A single parameter wrong in
    several gates' rows, the others right, is named as that parameter. Cells without
    ``gate_names`` have their gradients compared whole."""
    gates, H, cell = getattr(ref, "gate_names", ()), ref.hidden_size, ref.name.upper()
    wrong = []                          # (gate, rows, [(key, reason), ...]) per wrong gate
    for k, gate in enumerate(gates):
        rows = f"rows {_times_h(k)}:{_times_h(k + 1)}"
        failed = []
        for key in grads_e:                      # the parameters' order: W_ih first
            expected = to_numpy(grads_e[key])
            if expected.shape[0] != len(gates) * H:       # not a stacked-gates parameter
                continue
            try:
                check_close(grads[key][k * H:(k + 1) * H], expected[k * H:(k + 1) * H],
                            f"{rows} of grads[{key!r}]")
            except CheckFailed as failure:
                failed.append((key, str(failure)))
        if failed:
            wrong.append((gate, rows, failed))
    if not wrong:
        return
    gate, rows, ((key, reason), *_) = wrong[0]
    if len(wrong) == 1:
        raise CheckFailed(f"your {cell} {gate}-gate gradient ({rows} of {key}) is wrong; "
                          f"the other gates' are right. {reason}")
    names = ", ".join(w[0] for w in wrong)
    if all([k for k, _ in failed] == [key] for _, _, failed in wrong):
        raise CheckFailed(f"your {cell} gradient of {key} is wrong in the rows of the {names} "
                          f"gates, and every other parameter's rows are right: look at what "
                          f"multiplies the gates' pre-activation gradient to give {key}'s. "
                          f"{reason}")
    raise CheckFailed(f"your {cell} gradients of the {names} gates are wrong (first: {rows} of "
                      f"{key}): look at a term they share, such as the gradient that reaches "
                      f"them all. {reason}")


def _name_a_dropped_carried_gradient(ref, dy, ref_cache, dstate1, dx, dx_expected, readout):
    """Raise a CheckFailed naming the state component whose carried gradient the
    student's backward ignores, when dx equals the cell's dx with that component's
    incoming gradient set to zero (the classic BPTT bug: forgetting dh_next)."""
    for k, name in enumerate(ref.state_names):
        if not readout and k == 0:
            continue      # there dL/dh_t is the whole incoming gradient, not a carried part
        dropped = dstate1[:k] + (np.zeros_like(dstate1[k]),) + dstate1[k + 1:]
        dx_dropped = to_numpy(ref.backward(dy[None], ref_cache, dropped)[0])[0]
        if np.shape(dx) == dx_dropped.shape and not np.allclose(dx_dropped, dx_expected) \
                and np.allclose(np.asarray(dx, dtype=float), dx_dropped, rtol=1e-6, atol=1e-9):
            raise CheckFailed(f"step_backward ignores the gradient carried back into the "
                              f"state component {name!r} from step t+1 (its entry of "
                              f"dstate_next): your dx is what it would be with that gradient "
                              f"set to zero; add it to the gradient {name}_t gets at this step")


def check_step(cell_name, step_forward, step_backward, *, options=None, input_size=3,
               hidden_size=4, batch=2, T=5, seed=0, verbose=True):
    """Check a textbook step pair against rnnzoo's cell ``cell_name`` (float64).

    ``step_forward(x, state, params)``: x (B, D); state h (B, H), or a tuple for cells
    with several state components (LSTM: (h, c)); params the cell's dict (``W_ih``,
    ``W_hh``, ...). Returns ``(state_next, cache)``.
    ``step_backward(dstate_next, cache)`` returns ``(dx, dstate, grads)`` with grads a
    dict of the params' keys and shapes.

    A cell whose output is read out of its state rather than being its first component
    (S4D, S6, the LRU, DeltaNet, mLSTM; found by one step of the cell) takes the readout
    pair of :mod:`rnnzoo.reference`: ``step_forward(x, state, params) -> (state_next, y,
    cache)`` and ``step_backward(dy, dstate_next, cache) -> (dx, dstate, grads)``, where dy
    is dL/dy_t and dstate_next the gradient carried back into the new state.
    """
    where = "check_step"
    for name, fn in (("step_forward", step_forward), ("step_backward", step_backward)):
        if not callable(fn):
            raise ArgumentTypeError(f"{where}: {name} must be a function (the def you "
                                    f"wrote); got {describe(fn)}")
    if options is not None and not isinstance(options, dict):
        raise ArgumentTypeError(f"{where}: options must be None or a dict of the cell's "
                                f"options; got {describe(options)}")
    batch = check_int(batch, "batch", minimum=1, where=where)
    T = check_int(T, "T", minimum=1, where=where)
    seed = check_seed(seed, where=where)
    verbose = check_bool(verbose, "verbose", where=where)
    ref = make(cell_name, input_size, hidden_size, seed=seed, dtype=np.float64,
               **(options or {}))
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((batch, input_size))
    state0 = tuple(0.5 * rng.standard_normal(s.shape) for s in ref.initial_state(batch))
    names, readout = ref.state_names, not ref.outputs_first_state()
    # the cell's initial parameters are special (zero biases, constant vectors such as
    # Delta-RNN's alpha = 2): a forward that drops b or swaps two of them would match
    # there, so the check runs at a generic point near them
    for k, v in ref.params.items():
        ref.params[k] = v + PARAM_JITTER * rng.standard_normal(v.shape)
    # 1. forward on fixed inputs: shapes, then values, against rnnzoo's cell
    hs1, state1, ref_cache = ref.forward(x[None], state0)
    params = {k: to_numpy(v).copy() for k, v in ref.params.items()}
    before = {k: v.copy() for k, v in params.items()}
    x_in, s_in = x.copy(), tuple(s.copy() for s in state0)
    got, y, cache = _forward_step(step_forward, x_in, s_in, params, readout)
    if len(got) != len(names):
        order = "(state_next, y, cache)" if readout else "(state_next, cache)"
        raise CheckFailed(f"step_forward returned {len(got)} state component(s); "
                          f"{cell_name} has {len(names)}: {names} (step_forward returns "
                          f"{order}, in that order)")
    for name, g, e in zip(names, got, state1):
        _check_float64(g, f"step_forward's {name}_t")
        check_close(g, e, f"step_forward's {name}_t", rtol=1e-7,
                    hint="compare your equations with the cell's docstring, "
                         f"rnnzoo.get_cell_class({cell_name!r}).__doc__")
    if readout:
        _check_float64(y, "step_forward's output y_t")
        check_close(y, hs1[0], "step_forward's output y_t", rtol=1e-7,
                    hint="the state is right, so look at how y_t is read out of it")
    for k in params:
        if not np.array_equal(params[k], before[k]):
            raise CheckFailed(f"step_forward changed params[{k!r}]: a step must not modify "
                              "the parameters (no in-place updates)")
    if not (np.array_equal(x_in, x) and all(np.array_equal(a, b) for a, b in zip(s_in, state0))):
        raise CheckFailed("step_forward changed its input x or state in place")
    # 2. backward on fixed inputs: against the cell's backward
    dstate1 = tuple(rng.standard_normal(s.shape) for s in state0)
    # a readout cell's dy is its own argument; otherwise the carried dh_t already holds it
    dy = rng.standard_normal((batch, ref.output_size)) if readout else \
        np.zeros((batch, ref.output_size))
    dx_e, dstate0_e, grads_e = ref.backward(dy[None], ref_cache, dstate1)
    result = _backward_step(step_backward, dy.copy(), tuple(d.copy() for d in dstate1),
                            cache, readout)
    if not isinstance(result, tuple) or len(result) != 3:
        raise CheckFailed("step_backward must return a triple (dx, dstate, grads); got "
                          f"{type(result).__name__}"
                          + (f" of length {len(result)}" if isinstance(result, tuple) else ""))
    dx, dstate0, grads = result
    dstate0 = _components(dstate0, "step_backward's dstate")
    if len(dstate0) != len(names):
        wanted = ", ".join(f"d{n}_prev" for n in names)
        raise CheckFailed(f"step_backward returned {len(dstate0)} carried gradient(s) as "
                          f"dstate; {cell_name}'s state has {len(names)} component(s) "
                          f"{names}, so dstate is "
                          + (f"({wanted})" if len(names) > 1 else f"{wanted} (one array)"))
    if not isinstance(grads, dict) or set(grads) != set(params):
        raise CheckFailed(f"step_backward's grads must be a dict with exactly the keys "
                          f"{sorted(params)}; got "
                          f"{sorted(grads) if isinstance(grads, dict) else type(grads).__name__}")
    for k in params:
        _refuse_none(grads[k], f"step_backward's grads[{k!r}]")     # not "shape ()"
        if np.shape(grads[k]) != params[k].shape:
            raise CheckFailed(f"step_backward's grads[{k!r}] has shape {np.shape(grads[k])}; "
                              f"expected {params[k].shape}, the shape of params[{k!r}]")
    for what, value in [("dx", dx), *((f"d{n}_prev", d) for n, d in zip(names, dstate0)),
                        *((f"grads[{k!r}]", grads[k]) for k in params)]:
        _check_float64(value, f"step_backward's {what}")

    def name_a_dropped_carried_gradient():
        _name_a_dropped_carried_gradient(ref, dy, ref_cache, dstate1, dx, dx_e[0], readout)
    try:
        _check_gates(ref, grads, grads_e)
    except CheckFailed:
        # forgetting a carried gradient (dc_next in the LSTM) spoils every gate's
        # gradient at once: that bug is named before the gates are blamed
        name_a_dropped_carried_gradient()
        raise
    try:
        check_close(dx, dx_e[0], "step_backward's dx")
    except CheckFailed:
        name_a_dropped_carried_gradient()
        # dx mixes every path back to x; a wrong parameter gradient names the term
        # (grads['w_beta'] for DeltaNet's β), so those are compared before dx's failure
        for k in params:
            check_close(grads[k], grads_e[k], f"step_backward's grads[{k!r}]")
        raise
    for name, g, e in zip(names, dstate0, dstate0_e):
        check_close(g, e, f"step_backward's d{name}_prev (the gradient carried back along "
                          f"{name})")
    for k in params:
        check_close(grads[k], grads_e[k], f"step_backward's grads[{k!r}]")
    # 3. finite differences through a whole sequence made of the student's steps
    pair = _StepPairCell(ref, step_forward, step_backward, readout)
    xs = np.random.default_rng(seed + 2).standard_normal((T, batch, input_size))
    report = gradcheck(pair, xs)
    if not report.passed:
        raise CheckFailed("rnnzoo.gradcheck through a sequence of your steps failed:\n"
                          + "\n".join(report.failures()))
    if verbose:
        print(f"PASS: your {cell_name} step matches rnnzoo's cell on fixed inputs (forward "
              f"and backward), and gradcheck over T={T} steps passes (worst relative error "
              f"{report.worst_rel_err:.1e}; a wrong term gives about 1e-2 or more, "
              f"rounding in a correct one 1e-10 to 1e-7)")
    return report
