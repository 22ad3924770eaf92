"""Skip RNN: a learned binary gate decides at which steps the wrapped cell updates."""
from __future__ import annotations

import numpy as np

from ..core.backend import to_numpy
from ..core.base import Cache, RecurrentCell
from ..core.ops import sigmoid_
from ..core.registry import available, make, register
from . import _options


@register("skiprnn")
class SkipRNN(RecurrentCell):
    r"""Skip RNN (Campos, Jou, Giró-i-Nieto, Torres & Chang, ICLR 2018), wrapping any
    registered cell S (``base="gru"`` by default) with a binary state-update gate.

    .. math::

        \begin{aligned}
        u_t &= \mathrm{round}(\tilde u_t) \\
        s_t &= u_t \cdot S(s_{t-1}, x_t) + (1 - u_t) \cdot s_{t-1} \\
        \Delta\tilde u_t &= \sigma(w_p \cdot s_t + b_p) \\
        \tilde u_{t+1} &= u_t \cdot \Delta\tilde u_t
            + (1 - u_t) \cdot (\tilde u_t + \min(\Delta\tilde u_t, 1 - \tilde u_t))
        \end{aligned}

    with :math:`\tilde u_1 = 1`, so the first step always updates. Every component of
    the base's state is gated by the same :math:`u_t`; the output is the (gated) first
    component, h. :math:`\Delta\tilde u_t` reads the state component named ``c`` when the
    base has one (the authors' SkipLSTM computes it from the cell state), else h. When
    :math:`u_t = 0`, :math:`s_t = s_{t-1}` and :math:`\Delta\tilde u_t` repeats the last
    value, so :math:`\tilde u` grows by it each skipped step until it rounds to 1: after
    an update with probability :math:`\Delta`, :math:`\lceil 0.5/\Delta \rceil - 1`
    steps are skipped (paper eq. 6), one more where a multiple of :math:`\Delta` is
    exactly 0.5: round is round-half-to-even (NumPy's ``rint``, as ``tf.round`` in the
    authors' code), so :math:`\tilde u = 0.5` rounds to 0. The authors' code carries :math:`\Delta\tilde u`
    and the accumulated :math:`\tilde u` in its state and mixes :math:`\Delta` instead of
    recomputing it from :math:`s_t`; in hard mode the two give the same values, but not the
    same surrogate gradient: the straight-through gradient below is that of the paper's
    equations, where :math:`\Delta\tilde u_t` reads the mixed :math:`s_t`; the
    authors' graph computes it from the candidate state and mixes it with the carried one,
    which gives other values of the surrogate.

    **The gradient is a surrogate.** round() has derivative 0 almost everywhere; backward
    uses the straight-through estimator (Bengio, Léonard & Courville, 2013), the
    identity :math:`\partial u_t / \partial \tilde u_t := 1` (``surrogate_slope``). This
    is by design, not the derivative, so ``exact_gradient`` is False and a
    finite-difference check cannot confirm it (``rnnzoo.gradcheck`` reports it as a
    problem). ``soft=True`` replaces round by the identity, :math:`u_t = \tilde u_t`:
    the cell is then differentiable and checked in full.

    **The budget loss** :math:`\lambda \sum_t u_t` (per sequence, averaged over the
    batch) belongs to the cell: forward puts its value in ``cache.aux_loss`` and backward
    includes its gradient. ``SequenceModel``, the trainer and ``gradcheck`` add it.

    **Skipping for real**: :meth:`forward_skipping` runs the base only on the rows with
    :math:`u_t = 1` (gather, step, scatter), so at batch size 1 a skipped step costs no
    recurrent product (with a base in ``IN_PLACE_BASES`` its input projection is part of
    one GEMM over all T steps before the loop), and a step no row updates computes no
    :math:`\Delta\tilde u` either: the state stays, so it repeats. At batch size 1 it
    equals :meth:`forward` bit for bit; with several rows to rounding, since BLAS sums a
    product of fewer rows in another order (one row goes through gemv). :meth:`forward`
    itself computes the base on every row and masks, as the authors' code does, because
    training needs the candidate state of every row for the straight-through gradient.

    **How the base is driven.** In hard mode with a base in ``IN_PLACE_BASES`` (rnn, gru,
    lstm, mgu, janet, deltarnn, orthogonal: cells whose ``step`` returns its state as
    views of its own per-step buffers), the base runs on one cache over the whole
    sequence, step by step, and s_t is written over the candidate in those buffers:
    its input projection is one GEMM before the loop and its weight gradients one GEMM
    each after it. This is exact because u_t is 0 or 1: a row with u_t = 1 keeps the
    candidate's values, and a row with u_t = 0 sends zero gradient into S at step t,
    so S's backward may read s_t where it saved its output. Otherwise (soft mode, other
    bases) the base runs one step at a time through its own sequence methods, on a
    fresh cache per step; the price is its input projection and weight-gradient GEMMs
    per step (and, for a clockwork base, one read of its clock on the host per step: its
    active modules decide the step's shapes). Both keep S(s_{t-1}, x_t) - s_{t-1} per step
    for the straight-through gradient.

    State: the base's state, then :math:`\tilde u` (B, 1). Shapes: x (T, B, D), h (B, H);
    parameters ``base.*`` (the base cell's, seeded with ``seed``), ``w_p`` (1, H)
    :math:`\mathcal U(-1/\sqrt H, 1/\sqrt H)` and ``b_p`` (1,) = 1, so that the untrained
    cell updates at nearly every step. Only b_p = 1 is the authors' (their
    ``update_bias=1.0``). Their w_p differs: in imatge-upc/skiprnn-2017-telecombcn,
    src/rnn_cells/skip_rnn_cells.py, every cell computes Δũ with
    ``rnn_ops.linear(..., 1, True, bias_start=self._update_bias)``, and ``linear``
    (src/rnn_cells/rnn_ops.py) creates its (H, 1) weights with no initializer, so
    ``tf.get_variable`` gives them TensorFlow's Glorot-uniform default,
    :math:`\mathcal U(\pm\sqrt{6/(H + 1)})`, :math:`\sqrt{6H/(H + 1)}` times (about 2.45
    times for large H) as wide as rnnzoo's. rnnzoo keeps its narrower w_p (the committed
    figures use it).

    Options
    -------
    base : name of a registered cell (default "gru"); its output must be its state's first
        component of size H (true of rnn, gru, lstm, mgu, janet; checked at construction
        with one probe step, which rules out e.g. qrnn's fo-pooling, h = o c), and every
        state component must be (B, k), which the (B, 1) gate broadcasts over (rules out
        fastweights' (B, H, H) A). A refused base's error lists the bases that work
    base_options : dict of the base's options, or None
    soft : bool, u = ũ instead of round(ũ) (default False)
    budget : float >= 0, λ of the budget loss (default 0; the paper sweeps 1e-5 .. 1e-2)
    """

    options = {"base": "gru", "base_options": None, "soft": False, "budget": 0.0}
    exact_gradient = False          # instance: True when soft
    surrogate_tensors = ("every tensor upstream of u_t",)
    surrogate_slope = 1.0           # d round(ũ)/dũ as backward uses it; tests set 0
    differentiable_options = {"soft": True, "budget": 0.1}   # what a checker can verify
    # bases that hard mode gates in place (class docstring), each checked against the
    # step-by-step path in tests/test_skiprnn.py. What a base must keep for that: its step
    # returns its state as views of its (T+1, B, H) buffers at t + 1, which no later step
    # writes; step t+1 reads s_t only through its ``state`` argument; and its backward reads
    # a step's saved output only in terms multiplied by that step's incoming gradient
    # (zero where u_t = 0). And u_t must be 0 or 1: forward checks ũ_0 once.
    IN_PLACE_BASES = ("rnn", "gru", "lstm", "mgu", "janet", "deltarnn", "orthogonal")

    def check_options(self):
        if not isinstance(self.base, str) or self.base not in available() \
                or self.base == "skiprnn":
            raise ValueError(f"base must be the name of a registered cell other than "
                             f"'skiprnn'; got {self.base!r}")
        if self.base_options is not None and not isinstance(self.base_options, dict):
            raise ValueError(f"base_options must be None or a dict; got {self.base_options!r}")
        self.soft = _options.flag("soft", self.soft)
        self.budget = _options.real("budget", self.budget, lo=0.0)
        self.exact_gradient = self.soft
        self.cell = self._make_base(self.base, self.base_options)
        problem = self._base_problem(self.cell)
        if problem:
            raise ValueError(f"base {self.base!r} {problem}; the bases that work (with their "
                             f"default options): {', '.join(self._working_bases())}")
        self.state_names = tuple(self.cell.state_names) + ("u_tilde",)
        names = self.cell.state_names
        self.p_index = names.index("c") if "c" in names else 0

    # the base cell's switch and random draws (QRNN's zoneout) are the wrapper's: the
    # trainer's evaluation turns ``training`` off on the cells it is given, and a
    # checkpoint carries each cell's random state, so a resumed run draws what it would have
    @property
    def training(self):
        """The base cell's ``training`` switch (QRNN's zoneout); False for a base without
        one. Evaluation sets it to False, then back."""
        return getattr(self.cell, "training", False)

    @training.setter
    def training(self, value):
        if not hasattr(self.cell, "training"):
            raise AttributeError(f"{self._where()}: base {self.base!r} has no training switch")
        self.cell.training = value

    def random_state(self):
        return self.cell.random_state()

    def set_random_state(self, state):
        self.cell.set_random_state(state)

    def _make_base(self, name, options):
        return make(name, self.input_size, self.hidden_size, seed=self.seed, dtype=self.dtype,
                    backend=self.backend.name, **(options or {}))

    def _base_problem(self, cell):
        """Why ``cell`` cannot be gated (a sentence), or None when it can."""
        H = self.hidden_size
        zeros = cell.initial_state(1)
        if cell.output_size != H or zeros[0].shape != (1, H) or \
                not cell.outputs_first_state():
            return (f"does not output its first state component (of size {H}); skiprnn gates "
                    f"the state and outputs its first component")
        for name, z in zip(cell.state_names, zeros):
            if z.ndim != 2:        # the gate u_t is (B, 1): it broadcasts over (B, k) only
                shape = ", ".join(["B"] + [str(n) for n in z.shape[1:]])
                return (f"has state component '{name}' of shape ({shape}); skiprnn gates "
                        f"every component with a (B, 1) gate, so each must be (B, k)")
        return None

    def _working_bases(self):
        """The registered cells this one can wrap, at its sizes (probed: the error path only)."""
        names = [n for n in available() if n != "skiprnn"]
        return [n for n in names if self._base_problem(self._make_base(n, None)) is None]

    def init_params(self, rng):
        H = self.hidden_size
        s = 1.0 / np.sqrt(H)
        return {**{f"base.{k}": to_numpy(v) for k, v in self.cell.params.items()},
                "w_p": rng.uniform(-s, s, (1, H)), "b_p": np.ones(1)}

    def initial_state(self, batch):
        batch = self._checked_batch(batch)
        return tuple(self.cell.initial_state(batch)) + (
            self.xp.ones((batch, 1), dtype=self.dtype),)

    def _link(self):
        """Point the base cell at this cell's ``base.*`` arrays (an optimizer or a
        checkpoint may have replaced them)."""
        self.cell.params = {k: self.params[f"base.{k}"] for k in self.cell.params}

    def _next_u(self, u, u_tilde, s_p):
        """Δũ_t = σ(w_p·s_t + b_p) and ũ_{t+1} = u Δ + (1 - u)(ũ + min(Δ, 1 - ũ))."""
        delta = sigmoid_(s_p @ self.params["w_p"].T + self.params["b_p"])
        return delta, u * delta + (1.0 - u) * self._grown(u_tilde, delta)

    def _grown(self, u_tilde, delta):
        """ũ + min(Δ, 1 - ũ): ũ_{t+1} after a skipped step."""
        return u_tilde + self.xp.minimum(delta, 1.0 - u_tilde)

    def _sequence_cache(self, x, s0):
        """One base cache for the whole sequence (in-place bases), its input projection
        for all T done: one GEMM."""
        cache = Cache(x=x, state0=tuple(s0), T=x.shape[0], B=x.shape[1])
        self.cell.prepare(cache)
        return cache

    def _in_place(self, u_tilde0):
        """Hard mode with a base in IN_PLACE_BASES, and every u_0 = round(ũ_0) 0 or 1 (a
        given state could hold any ũ_0; later ũ stay in (0, 1]): one check on the host."""
        if self.soft or self.base not in self.IN_PLACE_BASES:
            return False
        u0 = to_numpy(self.xp.rint(u_tilde0))
        return bool(((u0 == 0) | (u0 == 1)).all())

    # ------------------------------------------------------------------ forward
    def _forward(self, x, state0):
        xp, T, B = self.xp, x.shape[0], x.shape[1]
        nb = len(self.cell.state_names)
        self._link()
        cache = Cache(x=x, state0=state0, T=T, B=B, steps=[], states=[tuple(state0[:nb])],
                      in_place=self._in_place(state0[nb]))
        if cache.in_place:
            cache.base = self._sequence_cache(x, state0[:nb])
        cache.u_tilde = xp.empty((T + 1, B, 1), dtype=self.dtype)
        cache.u_tilde[0] = state0[nb]
        cache.u = xp.empty((T, B, 1), dtype=self.dtype)        # u_t
        cache.delta = xp.empty_like(cache.u)                    # Δũ_t
        # S - s_{t-1} per state component (of any shape: clockwork's clock is (B, 1))
        cache.diff = [xp.empty((T,) + p.shape, dtype=p.dtype) for p in state0[:nb]]
        hs = xp.empty((T, B, self.hidden_size), dtype=self.dtype)
        s = tuple(state0[:nb])
        with np.errstate(over="ignore"):      # as the base's own forward: σ's exp may overflow
            for t in range(T):
                u_tilde = cache.u_tilde[t]
                u = cache.u[t]
                u[...] = u_tilde if self.soft else xp.rint(u_tilde)     # u = round(ũ)
                if cache.in_place:                                     # S(s_{t-1}, x_t)
                    cand = self.cell.step(t, s, cache.base)
                else:
                    _, cand, base_cache = self.cell._forward(x[t:t + 1], s)
                    cache.steps.append(base_cache)
                for c, p, diff in zip(cand, s, cache.diff):
                    xp.subtract(c, p, out=diff[t])
                    c *= u
                    c += (1.0 - u) * p                  # s_t = u S + (1 - u) s_{t-1}, in place
                s = cand
                hs[t] = s[0]
                cache.delta[t], cache.u_tilde[t + 1] = self._next_u(u, u_tilde, s[self.p_index])
                cache.states.append(s)
        cache.aux_loss = self.budget * float(to_numpy(cache.u.sum())) / B   # λ Σ_t u_t / B
        return hs, tuple(c.copy() for c in s) + (cache.u_tilde[T].copy(),), cache

    # ------------------------------------------------------------------ backward
    def _backward(self, dhs, cache, dstate):
        xp, T, B = self.xp, cache.T, cache.B
        nb = len(self.cell.state_names)
        self._link()
        w_p = self.params["w_p"]
        ds, du_next = list(dstate[:nb]), dstate[nb]        # dL/ds_t, dL/dũ_{t+1}
        grads = {n: xp.zeros_like(p) for n, p in self.params.items()}
        dh_norm = xp.empty(T)
        slope = 1.0 if self.soft else self.surrogate_slope
        if cache.in_place:
            work = self.cell.prepare_backward(cache.base)
        else:
            dx = xp.empty_like(cache.x)
            no_output = xp.zeros((1, B, self.hidden_size), dtype=self.dtype)
        for t in reversed(range(T)):
            u, u_tilde, delta = cache.u[t], cache.u_tilde[t], cache.delta[t]
            ds[0] = ds[0] + dhs[t]                          # the loss's own h_t gradient
            # ũ_{t+1} = u Δ + (1 - u)(ũ + min(Δ, 1 - ũ)); sel: min picks Δ
            sel = (delta < 1.0 - u_tilde).astype(self.dtype)
            grow = self._grown(u_tilde, delta)
            d_delta = du_next * (u + (1.0 - u) * sel)
            du = du_next * (delta - grow)
            du_tilde = du_next * (1.0 - u) * sel
            # Δ = σ(w_p·s_p + b_p)
            dpre = d_delta * delta * (1.0 - delta)
            grads["w_p"] += dpre.T @ cache.states[t + 1][self.p_index]
            grads["b_p"] += dpre.sum(axis=0)
            ds[self.p_index] = ds[self.p_index] + dpre @ w_p
            dh_norm[t] = xp.linalg.norm(ds[0])
            # s_t = u S(s_{t-1}, x_t) + (1 - u) s_{t-1}
            for d, diff in zip(ds, cache.diff):                # Σ d (S - s_{t-1}) per row
                du += (d * diff[t]).reshape(B, -1).sum(axis=1, keepdims=True)
            du += self.budget / B                           # λ Σ u_t / B
            dcand = tuple(u * d for d in ds)
            if cache.in_place:
                dprev = self.cell.step_backward(t, dcand, cache.base, work)
            else:
                dx_t, dprev, g, _ = self.cell._backward(no_output, cache.steps[t], dcand)
                dx[t] = dx_t[0]
                for k, v in g.items():
                    grads[f"base.{k}"] += v
            ds = [d - ud + dp for d, ud, dp in zip(ds, dcand, dprev)]   # (1 - u) d + dp
            du_next = du_tilde + slope * du                 # u = round(ũ): straight-through
        if cache.in_place:                                  # the base's GEMMs over all steps
            dx, g = self.cell.finish_backward(cache.base, work)
            grads.update({f"base.{k}": v for k, v in g.items()})
        return dx, tuple(ds) + (du_next,), grads, dh_norm

    # ------------------------------------------------------------------ real skipping
    def forward_skipping(self, x, state0=None):
        """Inference that computes the base only for the rows with u_t = 1.

        Returns (hs, state_T, updates) with ``updates`` a (T, B) NumPy bool array of
        u_t; hs and state_T equal :meth:`forward`'s (see the class docstring). Hard mode
        only (in soft mode u is not binary). Reads u_t on the host at every step, since
        the active rows decide the shapes of the step's products. A step where every row
        updates runs as in :meth:`forward` (for an in-place base: its ``step`` on one
        sequence cache, whose input projection for all T steps is one GEMM before the
        loop, skipped steps included); a step where some rows update runs the base on
        those rows alone; a step where none does only grows ũ by the last Δũ (the state
        did not change, so neither did Δũ = σ(w_p·s_t + b_p)).
        """
        if self.soft:
            raise ValueError("forward_skipping needs soft=False: with u = ũ no step is "
                             "ever skipped")
        xp = self.xp
        x = self._check_input(x)
        state0 = self._check_state(state0, x.shape[1], "state0")
        self._check_params()
        T, B = x.shape[0], x.shape[1]
        nb = len(self.cell.state_names)
        self._link()
        s = [c.copy() for c in state0[:nb]]
        u_tilde = state0[nb]
        base = self._sequence_cache(x, s) if self.base in self.IN_PLACE_BASES else None
        hs = xp.empty((T, B, self.hidden_size), dtype=self.dtype)
        updates = np.zeros((T, B), dtype=bool)
        delta = None                          # Δũ of the current state, once computed
        with np.errstate(over="ignore"):      # as the base's own forward: σ's exp may overflow
            for t in range(T):
                u_host = np.rint(to_numpy(u_tilde)[:, 0])
                rows = u_host.nonzero()[0]
                if rows.size and not (u_host[rows] == 1).all():
                    raise ValueError(f"forward_skipping: u_t at step {t} is not 0 or 1 "
                                     f"(ũ outside [0, 1.5) in the given state)")
                if rows.size == 0 and delta is not None:
                    # no row updates: s_t = s_{t-1}, so Δũ_t is the last step's, and ũ only
                    # grows (what forward's mix gives with u = 0, bit for bit): no product
                    u_tilde = self._grown(u_tilde, delta)
                else:
                    updates[t, rows] = True
                    if rows.size == B and base is not None:     # every row updates
                        s = list(self.cell.step(t, tuple(s), base))
                    elif rows.size == B:
                        _, s, _ = self.cell._forward(x[t:t + 1], tuple(s))
                        s = list(s)
                    elif rows.size:                             # gather, step, scatter
                        r = xp.asarray(rows)
                        _, cand, _ = self.cell._forward(x[t:t + 1, r], tuple(c[r] for c in s))
                        for c, new in zip(s, cand):
                            c[r] = new
                    delta, u_tilde = self._next_u(xp.rint(u_tilde), u_tilde, s[self.p_index])
                hs[t] = s[0]
        return hs, tuple(c.copy() for c in s) + (u_tilde.copy(),), updates
