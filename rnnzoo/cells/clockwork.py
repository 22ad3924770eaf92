"""Clockwork RNN: modules of hidden units that update on their own clocks."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..core.backend import to_numpy
from ..core.base import RecurrentCell
from ..core.registry import register
from ..core.validation import ArgumentTypeError, check_int, describe
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
    and the input projection W_ih[:n] x_t is done before the loop for the steps that
    compute n units, one product per group of such steps (at most g; the weight
    gradients likewise after it). Periods that do not divide each other work too: the
    step then computes up to the last active module and keeps the inactive ones among
    them with a mask.

    State: (h, t). h is (B, H); t is (B, 1), the absolute step count of the next step,
    stored as a float of the cell's dtype and rounded to the nearest integer when read
    (exact up to 2^24 in float32, 2^53 in float64; a t that would pass it within the
    sequence is refused). Carrying t is what makes a sequence split at any step
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
        batch = self._checked_batch(batch)
        return (self.xp.zeros((batch, self.hidden_size), dtype=self.dtype),
                self.xp.zeros((batch, 1), dtype=self.dtype))

    def schedule(self, T, t0):
        """Host-side schedule: active (T, B, g) bools for rows starting at steps t0 (B,)."""
        steps = np.asarray(t0)[None, :] + np.arange(T)[:, None]
        return steps[:, :, None] % self.period_array == 0

    def multiply_adds(self, T, B=1, t0=0):
        """(done, dense): multiply-adds of a forward pass here and in a dense RNN of the
        same sizes. Step t computes the units of modules 0..m_t - 1 (up to its last active
        module, :meth:`computed`) for every row, recurrent product and input projection
        alike (prepare projects W_ih[:n] x_t for a whole group of steps at once)."""
        where = self._where("multiply_adds")
        T, B = check_int(T, "T", minimum=1, where=where), check_int(B, "B", minimum=1,
                                                                   where=where)
        # (t0 of either sign, as the clock a given state carries into forward)
        t0 = check_int(t0, "t0 (the clock at the first step)", where=where)
        active = self.schedule(T, np.full(B, t0))
        D, H = self.input_size, self.hidden_size
        done = B * (H + D) * int(self.bounds[self.computed(active)].sum())
        return done, T * B * (H * H + D * H)

    def computed(self, active):
        """m (T,): step t computes modules 0..m_t - 1, up to its last active one (0 when
        none is active in any row), from the (T, B, g) schedule."""
        if not (isinstance(active, np.ndarray) and active.dtype == bool and active.ndim == 3
                and active.shape[2] == self.modules):
            raise ArgumentTypeError(f"{self._where('computed')}: active must be the (T, B, "
                                    f"{self.modules}) bool schedule that schedule() returns; "
                                    f"got {describe(active)}")
        on = active.any(axis=1)                           # (T, g): module i runs somewhere
        return np.where(on.any(axis=1), self.modules - on[:, ::-1].argmax(axis=1), 0)

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        xp, P, H, bounds = self.xp, self.params, self.hidden_size, self.bounds
        T, B = cache.T, cache.B
        clock = to_numpy(cache.state0[1])[:, 0]                        # one transfer
        # past 2^24 (float32) or 2^53 (float64) t + 1 is no longer exact, and far past
        # it the int64 cast overflows: the schedule would be silently wrong
        exact, largest = 2.0 ** (np.finfo(self.dtype).nmant + 1), float(np.abs(clock).max())
        if largest > exact - T:                   # (exact - T is exact; largest + T may not be)
            raise ValueError(f"{self._where()}: state0 component 't' (the step count) must "
                             f"stay within ±2^{np.finfo(self.dtype).nmant + 1} = {exact:.0f}, "
                             f"where {self.dtype} counts steps exactly; got |t| up to "
                             f"{largest:.0f} with T = {T}")
        t0 = np.rint(clock).astype(np.int64)
        active = self.schedule(T, t0)                     # (T, B, g) on the host
        m = self.computed(active)
        cache.units = [int(u) for u in bounds[m]]         # per step: modules 0..m-1 computed
        computed = np.arange(self.modules) < m[:, None]   # (T, g)
        masked = np.flatnonzero(~(active | ~computed[:, None, :]).all(axis=(1, 2))).tolist()
        cache.keep = [None] * T                           # per step: None, or a mask
        if masked:                                        # (T, B, H): one transfer, not T
            keep_all = xp.asarray(np.repeat(active, self.sizes, axis=2), dtype=self.dtype)
            for t in masked:
                cache.keep[t] = keep_all[t, :, :cache.units[t]]
        cache.mask = xp.asarray(self.mask_hh, dtype=self.dtype)
        cache.W_hh = P["W_hh"] * cache.mask
        # the steps grouped by how many units they compute: one input projection per
        # group, W_ih[:n] x_t + b[:n] for its steps only, as a (steps, B, n) block, so
        # each step's part is one contiguous (B, n) array (no strided passes in the loop)
        units = np.array(cache.units)
        cache.groups = {int(n): (steps, xp.asarray(steps)) for n in np.unique(units[units > 0])
                        for steps in [np.flatnonzero(units == n)]}
        cache.a, cache.xg = [None] * T, {}
        for n, (steps, idx) in cache.groups.items():
            cache.xg[n] = cache.x[idx]                    # (steps, B, D), kept for backward
            block = self.project(cache.xg[n], P["W_ih"][:n], P["b"][:n])
            for j, t in enumerate(steps):
                cache.a[t] = block[j]
        cache.h = self.hidden_buffer(cache, cache.state0[0])
        cache.t = cache.state0[1]
        cache.recurrent = xp.empty(B * H, dtype=self.dtype)

    def finish_backward(self, cache, work):
        xp, P = self.xp, self.params
        grads = {n: xp.zeros_like(p) for n, p in P.items()}
        dx = xp.zeros_like(cache.x)                       # (0 at steps that compute nothing)
        for n, (_, idx) in cache.groups.items():          # each group of steps, its units
            da = work.da[n]
            grads["W_ih"][:n] += self.weight_grad(da, cache.xg[n])   # a = W_ih x_t + b
            grads["W_hh"][:n] += self.weight_grad(da, cache.h[idx])  #     + W_hh h_{t-1}
            grads["b"][:n] += self.bias_grad(da)
            dx[idx] = self.input_grad(da, P["W_ih"][:n])
        grads["W_hh"] *= cache.mask                       # the forward used W_hh * mask
        return dx, grads

    # -------------------------------------------------------- one time step
    def step(self, t, state, cache):
        xp = self.xp
        h_prev, clock = state
        n, keep = cache.units[t], cache.keep[t]
        h = cache.h[t + 1]
        xp.copyto(h[:, n:], h_prev[:, n:])                # slower modules keep their state
        if n:
            a = cache.a[t]                                # holds W_ih x_t + b (active prefix)
            recurrent = cache.recurrent[:a.size].reshape(a.shape)
            a += xp.matmul(h_prev, cache.W_hh[:n].T, out=recurrent)   # + W_hh h_{t-1}
            xp.tanh(a, out=a)                             # candidate tanh(a_t)
            if keep is None:
                xp.copyto(h[:, :n], a)
            else:
                h[:, :n] = xp.where(keep > 0, a, h_prev[:, :n])
        return (h, clock + 1.0)

    def prepare_backward(self, cache):
        xp, shape = self.xp, cache.h[0].shape
        work = SimpleNamespace(dh=xp.empty((2,) + shape, dtype=self.dtype), da={},
                               da_t=[None] * cache.T)    # da_t[t]: step t's (B, n) block
        for n, (steps, _) in cache.groups.items():
            work.da[n] = xp.empty((len(steps), shape[0], n), dtype=self.dtype)
            for j, t in enumerate(steps):
                work.da_t[t] = work.da[n][j]
        return work

    def step_backward(self, t, dstate, cache, work):
        xp = self.xp
        dh, dclock = dstate
        n, keep = cache.units[t], cache.keep[t]
        if not n:
            return dstate                                 # h_t = h_{t-1}
        a, da = cache.a[t], work.da_t[t]                  # a holds tanh(a_t)
        xp.multiply(a, a, out=da)
        xp.subtract(1.0, da, out=da)
        da *= dh[:, :n]                                   # through tanh: 1 - tanh^2
        if keep is not None:
            da *= keep                                    # through the update
        dh_prev = xp.matmul(da, cache.W_hh[:n], out=work.dh[t % 2])   # W_hh h_{t-1}
        dh_prev[:, n:] += dh[:, n:]                       # kept modules: identity
        if keep is not None:
            dh_prev[:, :n] += dh[:, :n] * (1.0 - keep)
        return (dh_prev, dclock)                          # t + 1: the count's gradient
