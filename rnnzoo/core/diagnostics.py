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


def random_inputs(cell, T, batch, seed=0, scale=1.0):
    """Standard-normal inputs of shape (T, batch, input_size) on the cell's backend."""
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
    T : sequence length (ignored when x is given)
    x : optional input (T, B, input_size); default standard normal from ``seed``
    batch, seed : size and seed of the default input and of the upstream gradient

    Returns
    -------
    numpy array (T,)
    """
    if x is None:
        if T is None:
            raise ValueError("give either T or x")
        x = random_inputs(cell, T, batch, seed)
    hs, _, cache = cell.forward(x)
    rng = np.random.default_rng(seed + 1)
    last = rng.standard_normal(hs.shape[1:])
    dhs = cell.xp.zeros_like(hs)
    dhs[-1] = cell.backend.asarray(last / np.linalg.norm(last), dtype=cell.dtype)
    _, _, grads = cell.backward(dhs, cache)
    return grads.dh_norm


def _state_size(cell):
    return sum(int(np.prod(s.shape[1:])) for s in cell.initial_state(1))


def step_jacobians(cell, T=50, *, x=None, seed=0, steps=None):
    """The exact step Jacobians J_t = ∂s_t/∂s_{t-1} along one random trajectory.

    s is the cell's whole state flattened (h, or [h; c] for an LSTM), of size S. Each J_t
    comes from the cell's own backward: run one step on S copies of (x_t, s_{t-1}) and
    backpropagate the S unit vectors e_i from s_t; copy i's dL/ds_{t-1} is row i of J_t.

    Returns a numpy array (len(steps), S, S) for the chosen steps (default: all T).
    """
    xp = cell.xp
    if x is None:
        x = random_inputs(cell, T, 1, seed)
    T = x.shape[0]
    steps = range(T) if steps is None else steps
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


def jacobian_singular_values(cell, T=50, *, x=None, seed=0, steps=None):
    """Singular values of each step Jacobian ∂s_t/∂s_{t-1}: array (len(steps), S),
    each row sorted from largest to smallest."""
    J = step_jacobians(cell, T, x=x, seed=seed, steps=steps)
    return np.linalg.svd(np.real(J), compute_uv=False)
