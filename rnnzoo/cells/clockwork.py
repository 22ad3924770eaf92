"""Clockwork RNN: modules of hidden units that update on their own clocks."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..backend import to_numpy
from ..base import RecurrentCell
from ..ops import tanh_, tanh_grad_
from ..registry import register
from . import _options


@register("clockwork")
class Clockwork(RecurrentCell):
    r"""Clockwork RNN (Koutník, Greff, Gomez & Schmidhuber, ICML 2014).

    The H hidden units form g modules of k = H / g units (sizes differing by one when g
    does not divide H, the larger first); module i has period
    :math:`T_i` (default :math:`2^{i}` for i = 0..g-1, ascending). At step t (counted
    from 0) the active modules are :math:`A_t = \{i : t \bmod T_i = 0\}`; every module is
    active at t = 0.

    .. math::

        a_t^{(i)} &= W_{ih}^{(i)} x_t + b^{(i)} + \sum_{j \ge i} W_{hh}^{(i, j)} h_{t-1}^{(j)} \\
        h_t^{(i)} &= \tanh(a_t^{(i)}) \ \text{if}\ i \in A_t,
            \qquad h_t^{(i)} = h_{t-1}^{(i)} \ \text{otherwise}

    :math:`W_{hh}` is block upper triangular: module i reads only modules j >= i, whose
    periods are at least its own (fast modules read slow ones, never the reverse). The
    whole (H, H) matrix is the parameter and the mask is applied in the forward pass,
    so the gradient of a masked-out entry is 0 in backward and in finite differences.

    **Inactive modules are not computed.** With ascending periods the active modules
    at step t are a prefix 0..m-1 when each period divides the next (the default), so the
    step costs one (B, H) @ (H, n) product over the n units of the active modules only,
    and the input
    projection is done per module for exactly the steps where it is active (g products
    before the loop; the weight gradients likewise after it). Periods that do not divide
    each other work too: the step then computes up to the last active module and keeps
    the inactive ones among them with a mask.

    State: (h, t). h is (B, H); t is (B, 1), the absolute step count of the next step,
    stored as a float of the cell's dtype and rounded to the nearest integer when read
    (exact up to 2^24 in float32). Carrying t is what makes a sequence split at any step
    continue exactly, since the schedule depends on the absolute step. Each row has its
    own t, so rows at different phases are allowed (then the step computes the union of
    their active modules and masks per row). The schedule is piecewise constant in t, so
    the only gradient t gets is the one passed through :math:`t \mapsto t + 1` from the
    final state's t.

    Shapes: x (T, B, D); W_ih (H, D), W_hh (H, H), b (H,). Initialization: every entry
    :math:`\mathcal U(-1/\sqrt H, 1/\sqrt H)` (rnnzoo's ``rnn``, so the comparison with
    the dense RNN starts from the same scale), masked entries of W_hh set to 0.

    Options
    -------
    modules : int >= 1, g (default min(4, hidden_size); at most ``hidden_size``)
    periods : None (:math:`1, 2, 4, \dots, 2^{g-1}`) or g strictly ascending positive ints
    """

    state_names = ("h", "t")
    options = {"modules": None, "periods": None}

    def check_options(self):
        if self.periods is None:
            g = min(4, self.hidden_size) if self.modules is None else \
                _options.integer("modules", self.modules)
            periods = tuple(2 ** i for i in range(g))
        else:
            if not isinstance(self.periods, (tuple, list)) or not self.periods:
                raise ValueError(f"periods must be None or a non-empty list of positive "
                                 f"integers; got {self.periods!r}")
            periods = tuple(_options.integer("periods entry", p) for p in self.periods)
            if any(b <= a for a, b in zip(periods, periods[1:])):
                raise ValueError(f"periods must be strictly ascending; got {self.periods!r}")
            if self.modules is not None and \
                    _options.integer("modules", self.modules) != len(periods):
                raise ValueError(f"modules={self.modules!r} but periods has {len(periods)} "
                                 f"entries; give one of them or make them agree")
        g = len(periods)
        if self.hidden_size < g:
            raise ValueError(f"hidden_size must be at least the number of modules ({g}); "
                             f"got hidden_size={self.hidden_size}")
        self.modules, self.periods = g, list(periods) if self.periods is not None else None
        self.period_array = np.array(periods)
        self.sizes = np.array([len(a) for a in np.array_split(np.arange(self.hidden_size), g)])
        self.bounds = np.concatenate([[0], np.cumsum(self.sizes)])   # module i: [b_i, b_i+1)
        module_of = np.repeat(np.arange(g), self.sizes)
        self.mask_hh = (module_of[:, None] <= module_of[None, :]).astype(float)

    def init_params(self, rng):
        D, H = self.input_size, self.hidden_size
        s = 1.0 / np.sqrt(H)
        return {"W_ih": rng.uniform(-s, s, (H, D)),
                "W_hh": rng.uniform(-s, s, (H, H)) * self.mask_hh, "b": rng.uniform(-s, s, H)}

    def initial_state(self, batch):
        return (self.xp.zeros((batch, self.hidden_size), dtype=self.dtype),
                self.xp.zeros((batch, 1), dtype=self.dtype))

    def schedule(self, T, t0):
        """Host-side schedule: active (T, B, g) bools for rows starting at steps t0 (B,)."""
        steps = np.asarray(t0)[None, :] + np.arange(T)[:, None]
        return steps[:, :, None] % self.period_array == 0

    def multiply_adds(self, T, B=1, t0=0):
        """(done, dense): multiply-adds of a forward pass here and in a dense RNN of the
        same sizes (recurrent product over the active rows plus the input projection)."""
        active = self.schedule(T, np.full(B, t0))
        D, H = self.input_size, self.hidden_size
        last = np.array([np.flatnonzero(a.any(axis=0)).max() + 1 for a in active])
        done = B * H * int(self.bounds[last].sum()) + D * int((active * self.sizes).sum())
        return done, T * B * (H * H + D * H)

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        xp, P, H, bounds = self.xp, self.params, self.hidden_size, self.bounds
        T, B = cache.T, cache.B
        t0 = np.rint(to_numpy(cache.state0[1])[:, 0]).astype(np.int64)   # one transfer
        active = self.schedule(T, t0)                     # (T, B, g) on the host
        cache.units = []                                  # per step: units computed
        cache.keep = []                                   # per step: None, or a mask
        keep_all = xp.asarray(np.repeat(active, self.sizes, axis=2),   # (T, B, H): one
                              dtype=self.dtype)                         # transfer, not T
        for t in range(T):
            m = np.flatnonzero(active[t].any(axis=0)).max() + 1
            cache.units.append(int(bounds[m]))
            cache.keep.append(None if active[t, :, :m].all() else
                              keep_all[t, :, :int(bounds[m])])
        cache.W_hh = P["W_hh"] * xp.asarray(self.mask_hh, dtype=self.dtype)
        # input projection of each module, only at the (t, b) where it is active: rows
        # of the (T*B, D) input, one product per module
        cache.rows = [xp.asarray(np.flatnonzero(active[:, :, i].reshape(-1)))
                      for i in range(self.modules)]
        cache.a = xp.zeros((T * B, H), dtype=self.dtype)
        x2 = cache.x.reshape(T * B, -1)
        for i, rows in enumerate(cache.rows):
            block = slice(bounds[i], bounds[i + 1])
            cache.a[rows, block] = x2[rows] @ P["W_ih"][block].T + P["b"][block]
        cache.a = cache.a.reshape(T, B, H)
        cache.h = self.hidden_buffer(cache, cache.state0[0])
        cache.t = cache.state0[1]

    def finish_backward(self, cache, work):
        xp, P, H, bounds = self.xp, self.params, self.hidden_size, self.bounds
        T, B = cache.T, cache.B
        da = work.da.reshape(T * B, H)
        x2, h2 = cache.x.reshape(T * B, -1), cache.h[:-1].reshape(T * B, H)
        grads = {n: xp.zeros_like(p) for n, p in P.items()}
        dx = xp.zeros_like(x2)
        for i, rows in enumerate(cache.rows):             # each module where it was active
            block = slice(bounds[i], bounds[i + 1])
            d = da[rows, block]
            grads["W_ih"][block] = d.T @ x2[rows]
            grads["W_hh"][block, bounds[i]:] = d.T @ h2[rows, bounds[i]:]   # modules j >= i
            grads["b"][block] = d.sum(axis=0)
            dx[rows] += d @ P["W_ih"][block]
        return dx.reshape(cache.x.shape), grads

    # -------------------------------------------------------- one time step
    def step(self, t, state, cache):
        h_prev, clock = state
        n, keep = cache.units[t], cache.keep[t]
        a = cache.a[t, :, :n]                             # holds W_ih x_t + b (active rows)
        a += h_prev @ cache.W_hh[:n].T                    # + W_hh h_{t-1}, active rows only
        tanh_(a)                                          # candidate tanh(a_t)
        h = cache.h[t + 1]
        h[:, n:] = h_prev[:, n:]                          # slower modules keep their state
        if keep is None:
            h[:, :n] = a
        else:
            h[:, :n] = self.xp.where(keep > 0, a, h_prev[:, :n])
        return (h, clock + 1.0)

    def prepare_backward(self, cache):
        return SimpleNamespace(da=self.xp.zeros_like(cache.a))

    def step_backward(self, t, dstate, cache, work):
        dh, _ = dstate
        n, keep = cache.units[t], cache.keep[t]
        da = work.da[t, :, :n]
        da[...] = dh[:, :n] if keep is None else dh[:, :n] * keep   # through the update
        tanh_grad_(da, cache.a[t, :, :n])                 # through tanh
        dh_prev = dh.copy()                               # kept modules: identity
        if keep is None:
            dh_prev[:, :n] = 0.0
        else:
            dh_prev[:, :n] *= 1.0 - keep
        dh_prev += da @ cache.W_hh[:n]                    # through W_hh h_{t-1}
        return (dh_prev, dstate[1])                       # t + 1: the count's gradient
