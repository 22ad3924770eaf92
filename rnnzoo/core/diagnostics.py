"""Diagnostics that make vanishing and exploding gradients visible.

* :func:`gradient_norm_over_time`: put the loss on the last step only and read
  ||dL/dh_t|| for every t from the backward pass. In a vanilla RNN it shrinks (or grows)
  geometrically as t moves away from the loss: that is the vanishing gradient.
* :func:`step_jacobians` / :func:`jacobian_singular_values`: the matrix the carried
  gradient is multiplied by at each step, ∂s_t/∂s_{t-1} (s the whole state, e.g. (h, c)
  for an LSTM), computed exactly from the cell's own backward, and its singular values.
  Singular values below 1 at every step shrink the gradient; a product of T such
  Jacobians shrinks it like σ^T.
"""
from __future__ import annotations

import numpy as np

from .backend import to_numpy
from .validation import ArgumentTypeError, check_float, check_int, check_seed, describe, is_int


# ------------------------------------------------------------------ argument checks
# One check per call, before any work: these functions take a cell, sizes, a seed and step
# indices from the user, and a wrong one used to fail deep inside NumPy or the cell.
# what these functions use of a cell: a zoo cell has it, and so may a cell of one's own
CELL_CONTRACT = ("forward", "backward", "initial_state", "input_size", "dtype", "backend",
                 "xp")


def _check_cell(cell, where):
    missing = [a for a in CELL_CONTRACT if not hasattr(cell, a)]
    if missing:
        raise ArgumentTypeError(f"{where}: cell must be an rnnzoo cell (rnnzoo.make(name, "
                                f"input_size, hidden_size)) or have its {', '.join(missing)}; "
                                f"got {describe(cell)}")


def _check_x(cell, x, T, where, *, batch_one=False):
    """x's layout before the cell sees it (the cell checks its dtype and values); T, when
    given beside x, must agree with it instead of being dropped."""
    if not cell.backend.is_array(x):
        raise ArgumentTypeError(f"{where}: x must be a {cell.backend.name} array (T, B, "
                                f"input_size={cell.input_size}); got {describe(x)}")
    if x.ndim != 3 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"{where}: x must be a (T, B, input_size={cell.input_size}) array "
                         f"with T >= 1 and B >= 1; got shape {tuple(x.shape)}")
    if batch_one and x.shape[1] != 1:
        raise ValueError(f"{where}: x must hold one sequence, shape (T, 1, input_size="
                         f"{cell.input_size}) (the Jacobians follow one trajectory); got "
                         f"shape {tuple(x.shape)}")
    if T is not None and check_int(T, "T", minimum=1, where=where) != x.shape[0]:
        raise ValueError(f"{where}: T must match x's length, {x.shape[0]}, or be left out; "
                         f"got T={T}")


def _check_steps(steps, T, where):
    """A non-empty sequence of step indices in [0, T); returns it as a list of ints."""
    expected = f"a non-empty sequence of step indices in [0, {T - 1}] (T = {T})"
    if isinstance(steps, (str, bytes)):
        raise ArgumentTypeError(f"{where}: steps must be {expected}; got {describe(steps)}")
    try:
        items = list(steps)
    except TypeError:
        raise ArgumentTypeError(f"{where}: steps must be {expected}; got "
                                f"{describe(steps)}") from None
    if not items:
        raise ValueError(f"{where}: steps must be {expected}; got {describe(steps)}")
    for t in items:
        if not is_int(t):
            raise ArgumentTypeError(f"{where}: steps must be {expected}; got step "
                                    f"{describe(t)}")
        if not 0 <= t < T:
            raise ValueError(f"{where}: steps must be {expected}; got step {t}")
    return [int(t) for t in items]


def random_inputs(cell, T, batch, seed=0, scale=1.0):
    """Standard-normal inputs of shape (T, batch, input_size) on the cell's backend."""
    where = "random_inputs"
    _check_cell(cell, where)
    T = check_int(T, "T", minimum=1, where=where)
    batch = check_int(batch, "batch", minimum=1, where=where)
    seed = check_seed(seed, where=where)
    scale = check_float(scale, "scale", minimum=0.0, where=where)
    rng = np.random.default_rng(seed)
    x = scale * rng.standard_normal((T, batch, cell.input_size))
    return cell.backend.asarray(x, dtype=cell.dtype)


def gradient_norm_over_time(cell, T=None, *, x=None, batch=8, seed=0):
    """||dL/dh_t|| for t = 0..T-1 with the loss on the last step only.

    The upstream gradient dL/dh_{T-1} is random with norm 1, so the curve starts at 1 at
    the last step and shows by how much the gradient shrank or grew on its way back.

    Parameters
    ----------
    cell : any registered cell
    T : sequence length (when x is given too, it must be x's length)
    x : optional input (T, B, input_size); default standard normal from ``seed``
    batch, seed : size and seed of the default input and of the upstream gradient

    Returns
    -------
    numpy array (T,)
    """
    where = "gradient_norm_over_time"
    _check_cell(cell, where)
    seed = check_seed(seed, where=where)
    if x is None:
        if T is None:
            raise ValueError(f"{where}: give either T or x; got neither")
        T = check_int(T, "T", minimum=1, where=where)
        batch = check_int(batch, "batch", minimum=1, where=where)
        x = random_inputs(cell, T, batch, seed)
    else:
        _check_x(cell, x, T, where)
    hs, _, cache = cell.forward(x)
    rng = np.random.default_rng(seed + 1)
    last = rng.standard_normal(hs.shape[1:])
    dhs = cell.xp.zeros_like(hs)
    dhs[-1] = cell.backend.asarray(last / np.linalg.norm(last), dtype=cell.dtype)
    _, _, grads = cell.backward(dhs, cache)
    return grads.dh_norm


def _state_size(cell):
    return sum(int(np.prod(s.shape[1:])) for s in cell.initial_state(1))


def step_jacobians(cell, T=None, *, x=None, seed=0, steps=None):
    """The exact step Jacobians J_t = ∂s_t/∂s_{t-1} along one random trajectory.

    s is the cell's whole state flattened (h, or [h; c] for an LSTM), of size S. Each J_t
    comes from the cell's own backward: run one step on S copies of (x_t, s_{t-1}) and
    backpropagate the S unit vectors e_i from s_t; copy i's dL/ds_{t-1} is row i of J_t.

    T is the length of the random trajectory, 50 by default; give x (T, 1, input_size)
    instead for a trajectory of your own (T, if given too, must be its length). steps
    are indices in [0, T).

    Returns a numpy array (len(steps), S, S) for the chosen steps (default: all T).
    """
    return _step_jacobians(cell, T, x, seed, steps, "step_jacobians")


def _step_jacobians(cell, T, x, seed, steps, where):
    _check_cell(cell, where)
    xp = cell.xp
    seed = check_seed(seed, where=where)
    if x is None:
        x = random_inputs(cell, 50 if T is None else check_int(T, "T", minimum=1, where=where),
                          1, seed)
    else:
        _check_x(cell, x, T, where, batch_one=True)
    T = x.shape[0]
    steps = range(T) if steps is None else _check_steps(steps, T, where)
    S = _state_size(cell)
    sizes = [int(np.prod(s.shape[1:])) for s in cell.initial_state(1)]
    # the trajectory: states s_0 .. s_T of one sequence
    states = [cell.initial_state(1)]
    for t in range(T):
        _, s, _ = cell.forward(x[t:t + 1], states[-1])
        states.append(s)
    eye = np.eye(S)
    jacobians = []
    for t in steps:
        x_rep = xp.repeat(x[t:t + 1], S, axis=1)                       # (1, S, D)
        s_rep = tuple(xp.repeat(c, S, axis=0) for c in states[t])      # S copies of s_{t-1}
        _, s_next, cache = cell.forward(x_rep, s_rep)
        basis, start = [], 0
        for c, n in zip(s_next, sizes):
            basis.append(cell.backend.asarray(eye[:, start:start + n].reshape(c.shape),
                                              dtype=c.dtype))
            start += n
        _, ds_prev, _ = cell.backward(None, cache, tuple(basis))
        J = np.concatenate([to_numpy(d).reshape(S, -1) for d in ds_prev], axis=1)
        jacobians.append(J)
    return np.stack(jacobians)


def jacobian_singular_values(cell, T=None, *, x=None, seed=0, steps=None):
    """Singular values of each step Jacobian ∂s_t/∂s_{t-1}: array (len(steps), S),
    each row sorted from largest to smallest. Arguments as in :func:`step_jacobians`
    (T = 50 by default)."""
    J = _step_jacobians(cell, T, x, seed, steps, "jacobian_singular_values")
    return np.linalg.svd(np.real(J), compute_uv=False)
