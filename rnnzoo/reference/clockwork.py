r"""Textbook Clockwork RNN (Koutník, Greff, Gomez & Schmidhuber, 2014), step by step.

The H units form modules i = 0..g-1 of ``sizes[i]`` units with periods ``periods[i]``
(ascending). Module i is active at step t when t mod T_i = 0; it reads modules j >= i:

.. math::

    a_t = W_{ih} x_t + b + (W_{hh} \odot M) h_{t-1}, \qquad
    h_t = m_t \odot \tanh(a_t) + (1 - m_t) \odot h_{t-1}

M is the block upper triangular mask (unit of module i reads unit of module j iff
j >= i) and m_t the (B, H) mask of the units whose module is active at each row's step.
The clock t is part of the state, (h, t) with t of shape (B, 1), so each row has its
own step count. This version computes every module at every step and masks; the
optimized cell computes only the active ones.
"""
from __future__ import annotations

import numpy as np

from .core import register_steps, zero_state


def masks(clock, periods, sizes):
    """(m_t (B, H) active units at this step, M (H, H) the block upper triangular mask)."""
    t = np.rint(clock[:, 0]).astype(np.int64)            # the step count of each row
    active = t[:, None] % np.array(periods)[None, :] == 0   # (B, g): module i active?
    m = np.repeat(active, sizes, axis=1).astype(float)   # (B, H): each unit's module
    module = np.repeat(np.arange(len(sizes)), sizes)     # module of each unit
    M = (module[:, None] <= module[None, :]).astype(float)   # unit i reads j iff j's module >= i's
    return m, M


def step_forward(x_t, state_prev, params, periods, sizes):
    """One step: (h_{t-1}, t) -> (h_t, t + 1)."""
    h_prev, clock = state_prev
    P = params
    m, M = masks(clock, periods, sizes)
    a = x_t @ P["W_ih"].T + P["b"] + h_prev @ (P["W_hh"] * M).T   # a_t = W_ih x + b + (W_hh M) h
    cand = np.tanh(a)                                    # tanh(a_t)
    h = m * cand + (1.0 - m) * h_prev                    # h_t = m tanh(a_t) + (1 - m) h_{t-1}
    cache = {"x": x_t, "h_prev": h_prev, "cand": cand, "m": m, "M": M, "params": P}
    return (h, clock + 1.0), cache                       # t advances by one


def step_backward(dstate, cache):
    """dL/d(h_t, t + 1) -> dL/dx_t, dL/d(h_{t-1}, t), this step's dL/dparams."""
    dh, dclock = dstate
    x_t, h_prev, cand, m, M, P = (cache[k] for k in ("x", "h_prev", "cand", "m", "M", "params"))
    dcand = dh * m                                       # h_t = m tanh(a_t) + ..
    dh_prev = dh * (1.0 - m)                             # h_t = .. + (1 - m) h_{t-1}
    da = dcand * (1.0 - cand ** 2)                       # tanh(a_t)
    dx = da @ P["W_ih"]                                  # a_t: W_ih x_t
    dh_prev = dh_prev + da @ (P["W_hh"] * M)             # a_t: (W_hh M) h_{t-1}
    grads = {"W_ih": da.T @ x_t,                         # a_t: W_ih x_t
             "W_hh": (da.T @ h_prev) * M,                # a_t: (W_hh M) h_{t-1}
             "b": da.sum(axis=0)}                        # a_t: + b
    return dx, (dh_prev, dclock), grads                  # t + 1: the count's gradient


def initial_state(batch, params, **options):
    """h_0 = 0 (B, H) and the clock t = 0 (B, 1)."""
    return zero_state(batch, params, params["W_hh"].shape[0], 1)


register_steps("clockwork", step_forward, step_backward,
               lambda cell: {"periods": [int(p) for p in cell.period_array],
                             "sizes": [int(s) for s in cell.sizes]},
               initial_state=initial_state)
