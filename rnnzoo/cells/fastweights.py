"""The fast-weights RNN: a per-sequence associative memory A(t) next to the slow weights."""
from __future__ import annotations

import numbers
from types import SimpleNamespace

import numpy as np

from ..core.backend import to_numpy
from ..core.base import RecurrentCell
from ..core.ops import layer_norm, layer_norm_backward, relu_grad_
from ..core.registry import register
from ..core.validation import check_choice
from ._fast_memory import MEMORY_FORMS, FastMemoryForms

@register("fastweights")
class FastWeights(FastMemoryForms, RecurrentCell):
    r"""Fast-weights RNN of Ba, Hinton, Mnih, Leibo & Ionescu (2016), "Using Fast Weights
    to Attend to the Recent Past", NeurIPS, arXiv:1610.06258: their layer-normalized fast
    weights.

    In the paper's indexing, x(t) and h(t) make h(t+1):

    .. math::

        \begin{aligned}
        A(t) &= \lambda A(t-1) + \eta\, h(t) h(t)^\top
            &&\text{fast memory, reset to } A_0 \text{ per sequence} \\
        h_0(t+1) &= f\big(W h(t) + C x(t)\big)
            &&\text{preliminary vector} \\
        h_{s+1}(t+1) &= f\big(\mathrm{LN}[W h(t) + C x(t) + A(t) h_s(t+1)]\big),
            \quad s = 0, \dots, S - 1 &&\text{inner loop} \\
        h(t+1) &= h_S(t+1)
        \end{aligned}

    f = ReLU, and LN (:func:`rnnzoo.core.ops.layer_norm`) normalizes across the H hidden units
    with a trainable gain g and bias b, ε = 1e-5 inside the square root. ReLU's kink
    (pre-activation exactly 0) gets derivative 0; the finite-difference tests use random
    points, which land on it with probability 0. Unrolled,
    :math:`A(t) h = \lambda^{t} A_0 h + \eta \sum_{\tau=1}^{t} \lambda^{t-\tau} h(\tau)
    (h(\tau)^\top h)` (A_0 already holds h(0)'s term): the inner loop attends to the
    past hidden states in proportion to their dot product with the current one, decayed
    by λ per step.

    **Which h enters A(t).** The paper's A(t) ends with the outer product of h(t), the
    state that enters the step; the state tuple is (h(t), A(t)) with A(t) already
    holding h(t) h(t)ᵀ, so a sequence split at any step continues exactly. The public
    reproductions (jiamings/fast-weights, GokuMohandas/fast-weights) instead add the
    *preliminary* h₀(t+1) h₀(t+1)ᵀ before the inner loop of the same step. (They also
    normalize across the batch axis, ``reduce_mean(..., reduction_indices=0)``; this
    cell normalizes across the units, as the paper says.)

    **Memory: three equivalent forms, and "auto"** (option ``memory``). "history" never
    forms A(t) inside the loop: it computes A(t) v from the sum above over the stored
    h(1..t), O(t·B·H) per product (so O(T²·S·B·H) a sequence: quadratic in T, as
    attention is), and forms A(T) once after the loop for the returned state.
    "materialized" keeps A(t) for every step in the cache ((T + 1)·B·H² numbers) and
    multiplies by it, O(B·H²) per product (O(T·S·B·H²) a sequence); its backward carries
    dL/dA as one (B, H, H) array, the history form's backward never forms it either
    (below). "checkpointed" is the materialized form's arithmetic in about 2 √T (B, H, H)
    arrays instead of T + 1: it keeps A(t) only every K = ⌈√(T + 1)⌉ steps, and the
    backward rebuilds each segment's A's from its mark and the stored h's (A(t+1) =
    λ A(t) + η h h^T, one more pass of that recurrence, no cell step rerun), by the same
    operations, so its numbers are the materialized form's bit for bit. The history
    and materialized forms agree to rounding (``tests/test_fast_memory.py``). "auto"
    (the default) picks one at each forward, stores it in the cache (``cache.memory``;
    the backward runs the form its forward ran) and says which it would pick through
    :meth:`memory_form`::

        "history"       if T <= 4 H                        (AUTO_T_PER_H = 4)
        "materialized"  else if its cache, (T + 1)·B·H² numbers, fits in
                        1 GiB                              (MAX_MATERIALIZED_BYTES)
        "checkpointed"  else if its ~2 √T (B, H, H) arrays fit in 1 GiB
        "history"       else (a single A past the bound: quadratic, and it warns)

    Measured with ``python -m rnnzoo.benchmark.fast_memory`` (forward + backward, one
    BLAS thread, D = H, best of 3 interleaved, T = 10 .. 2560 in steps of √2, on a
    2-core machine shared with other work: single ratios moved by 10-30 % between
    neighbouring T). T* is the length above which the history form stayed slower:

        T*      B = 4, S = 1     B = 32, S = 1    B = 4, S = 3
        H       f32     f64      f32     f64      f32     f64
        20      57 †    460 †    135     163
        32      75      143      76      77       170     41
        64      222     297      334     329      267     198
        128     637     601      > 452 ‡ > 226 ‡  273     257
        256     > 905 ‡ > 452 ‡  > 113 ‡ > 56 ‡

    † no clear crossover: the ratio history / materialized stayed within 0.85-1.3 from
    T = 10 to about 600 (a second run gave 365 in float32, 78 in float64): Python's work
    per step dominates both forms there. ‡ the history form still faster (ratio 0.78,
    0.36, 0.58, 0.43, 0.18, 0.15) where the materialized cache reached 1 GiB and the
    timing stopped. Past T* the history form's cost grows as T² and the gap widens
    fast: at H = 32, B = 4, float32 it was 1.5x at T = 905, 2x at T = 1280, 3.3x at
    T = 2560, and the reported case (T = 10,000, B = 4, H = 32) took 126 s against
    5-8 s. T*/H was 2.3-5.2 at H = 32 .. 128 and 7-8 at H = 20, B = 32 (S = 1), hence
    history while T <= 4 H, whatever B and the dtype. S is left out of the rule: at
    S = 3, T* fell to about 2 H at H = 128 (at T = 4 H the history form was then about
    1.4x slower) and at H <= 64 moved both ways: up in float32, down in float64 (to
    about 1.3 H at H = 32, inside the rule's T <= 4 H). The notebook's sizes (T = 11,
    H = 20) run the history form, as before "auto".

    The bound: the materialized cache is (T + 1)·B·H² numbers, 4·B·H² bytes a step in
    float32 (1 GiB at T ≈ 1000 for B = 4, H = 256, at T ≈ 65,000 for B = 4, H = 32).
    Past 1 GiB "auto" runs the checkpointed form, linear in T like the materialized one
    (at B = 4, float32 it stays within 1 GiB until T ≈ 2.6·10⁵ for H = 256, ≈ 10⁹ for
    H = 32). Only where even that would pass 1 GiB does it keep the history form, whose
    cache is O(T·S·B·H) numbers, the smallest there is: quadratic in T, and such a
    forward warns (UserWarning) with the sizes. An explicit ``memory`` is never
    second-guessed; to bound both time and memory, split the sequence (the state carries
    A, so a split continues exactly).

    Backward carries dL/dA(t) back through time. A(t) is read by the inner loop that
    makes h(t+1) (z_s = ... + A(t) h_s(t+1)) and enters A(t+1) = λ A(t) + ..., so
    dL/dA(t) = λ dL/dA(t+1) + Σ_s dL/dz_s h_s(t+1)ᵀ, and the outer product adds
    η (dL/dA(t) + dL/dA(t)ᵀ) h(t) to dL/dh(t), so ``grads.dh_norm`` records the total
    gradient reaching each h(t). "materialized" carries dL/dA(t) as one (B, H, H)
    array. "history" never forms it inside the loop either: unrolled, dL/dA(t) =
    λ^{T−t} dL/dA(T) + Σ_{τ=t}^{T−1} λ^{τ−t} Σ_s dL/dz_s h_s(τ+1)ᵀ (z_s of the step that
    reads A(τ)), a sum over the steps already done backward, so its products with h(t)
    are two batched products of size (T−t)·S·H, and dL/dA(0) is formed once, at the
    last step (at T = 100, B = 64, H = 256 this backward takes about a ninth of the time
    of the (B, H, H) carry it replaced).

    Options
    -------
    lam : float in [0, 1]
        λ, the decay of the fast memory per step: 0.9 (jiamings/fast-weights;
        GokuMohandas/fast-weights uses 0.95).
    eta : float >= 0
        η, the fast learning rate: 0.5 (the reproductions'). η = 0 turns
        the memory off: an RNN with layer normalization.
    S : int >= 1
        Inner-loop steps: 1 (the reproductions').
    memory : "auto" (default), "history", "materialized" or "checkpointed"
        How A(t) v is computed; see above. Same function, same gradients.

    Notes
    -----
    Parameters, shapes and initialization: x (T, B, D), h (B, H), A (B, H, H);
    W (H, H) = 0.05 I (the reproductions, after Hinton's talk on this paper: a small
    identity), C (H, D) ~ U(±√(2/D)) (GokuMohandas/fast-weights), LN gain g (H,) = 1 and
    bias b (H,) = 0. C x(t) for all t is one GEMM before the loop.
    """

    state_names = ("h", "A")
    options = {"lam": 0.9, "eta": 0.5, "S": 1, "memory": "auto"}

    def check_options(self):
        for name, low, high in (("lam", 0.0, 1.0), ("eta", 0.0, np.inf)):
            v = getattr(self, name)
            if not isinstance(v, numbers.Real) or isinstance(v, bool) or not np.isfinite(v) \
                    or not low <= v <= high:
                want = "a finite number in [0, 1]" if high == 1.0 else "a finite number >= 0"
                raise ValueError(f"{name} must be {want}; got {v!r}")
            setattr(self, name, float(v))        # a plain number, as the other options
        check_choice(self.memory, "memory", MEMORY_FORMS)
        if not isinstance(self.S, (int, np.integer)) or isinstance(self.S, bool) or self.S < 1:
            raise ValueError(f"S (inner-loop steps) must be an integer >= 1; got {self.S!r}")
        self.S = int(self.S)

    def init_params(self, rng):
        D, H = self.input_size, self.hidden_size
        k = np.sqrt(2.0 / D)
        return {"W": 0.05 * np.eye(H), "C": rng.uniform(-k, k, (H, D)),
                "g": np.ones(H), "b": np.zeros(H)}

    def initial_state(self, batch):
        batch = self._checked_batch(batch)
        xp, H = self.xp, self.hidden_size
        return (xp.zeros((batch, H), dtype=self.dtype), xp.zeros((batch, H, H), dtype=self.dtype))

    def _forward(self, x, state0):
        hs, state_T, cache = super()._forward(x, state0)
        self.finish_memory(cache)
        if cache.memory == "history":                        # A(T), once, from the sum
            K = cache.h[1:].transpose(1, 0, 2)               # (B, T, H)
            A_T = K.transpose(0, 2, 1) @ (K * cache.decay[::-1, None])
            if cache.A0_nonzero:
                A_T += (self.lam ** cache.T) * cache.state0[1]
            state_T = (state_T[0], A_T)
        return hs, state_T, cache

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        xp, S, T = self.xp, int(self.S), cache.T
        cache.u = self.project(cache.x, self.params["C"])    # C x(t) for all t, one GEMM
        cache.h = self.hidden_buffer(cache, cache.state0[0])
        cache.hs = xp.empty((T, S) + cache.u.shape[1:], dtype=self.dtype)   # h_0..h_{S-1}
        cache.n = xp.empty_like(cache.hs)                    # LN's normalized z, per s
        cache.rstd = xp.empty(cache.hs.shape[:-1] + (1,), dtype=self.dtype)
        self.prepare_memory(cache)                           # cache.memory: the form

    def finish_backward(self, cache, work):
        P, du, dy = self.params, work.du, work.dy
        grads = {"W": self.weight_grad(du, cache.h[:-1]), "C": self.weight_grad(du, cache.x),
                 "g": (dy * cache.n).sum(axis=(0, 1, 2)),   # y = g n + b, all t and s
                 "b": dy.sum(axis=(0, 1, 2))}
        return self.input_grad(du, P["C"]), grads

    # -------------------------------------------------------- one time step
    def step(self, t, state, cache):
        xp, P = self.xp, self.params
        h_prev = state[0]
        A_prev = self._forward_memory(cache, t)              # A(t), or None (history)
        u = cache.u[t]
        u += h_prev @ P["W"].T                               # u = W h(t) + C x(t)
        hs = cache.hs[t]
        xp.maximum(u, 0, out=hs[0])                          # h_0 = f(u)
        for s in range(self.S):
            z = self._memory_apply(cache, t, hs[s], A=A_prev)
            z += u                                           # z = u + A(t) h_s
            y, (cache.n[t, s], cache.rstd[t, s]) = layer_norm(z, P["g"], P["b"])
            out = hs[s + 1] if s + 1 < self.S else cache.h[t + 1]
            xp.maximum(y, 0, out=out)                        # h_{s+1} = f(LN[z])
        h = cache.h[t + 1]
        if cache.memory == "history":
            return (h,)                                      # A(T) is formed after the loop
        return (h, self._next_memory(A_prev, h, self._forward_slot(cache, t + 1)))

    def prepare_backward(self, cache):
        xp, T, S = self.xp, cache.T, int(self.S)
        work = SimpleNamespace(du=xp.empty_like(cache.u), dy=xp.empty_like(cache.hs))
        if cache.memory == "checkpointed":                  # the segment rebuilt in hand
            work.A, work.start = xp.empty((cache.every + 1,) + cache.marks.shape[1:],
                                          dtype=self.dtype), None
        if cache.memory == "history":
            # kv[t, s] = (h_s(t), dL/dz_s(t)) side by side, so that one batched product
            # gives both h_s·v and dz_s·v (dL/dA and its transpose times v, see
            # _history_grad); lam_pow[j] = lam^tau for row j = (tau, s), and eta lam^tau
            work.kv = xp.empty((T, S, 2) + cache.hs.shape[2:], dtype=self.dtype)
            xp.copyto(work.kv[:, :, 0], cache.hs)
            lam_pow = np.repeat(self.lam ** np.arange(T), S)
            work.lam_pow = xp.asarray(lam_pow, dtype=self.dtype)
            work.eta_lam_pow = xp.asarray(self.eta * lam_pow, dtype=self.dtype)
        return work

    def _backward(self, dhs, cache, dstate):
        # the final state's A(T) holds eta h(T) h(T)^T: its gradient reaches h(T) before
        # the loop, so dh_norm[T-1] records the total dL/dh(T)
        dh_T, dA_T = dstate
        if bool(to_numpy(self.xp.any(dA_T))):                # (once a sequence)
            dh_T = dh_T + self._outer_grad(dA_T, cache.h[-1])
        elif cache.memory == "history":
            dA_T = None                                      # no dA(T) terms at all
        return super()._backward(dhs, cache, (dh_T, dA_T))

    def step_backward(self, t, dstate, cache, work):
        xp, P = self.xp, self.params
        dh, dA = dstate
        hs = cache.hs[t]
        history = cache.memory == "history"
        if not history:
            A_t = self._backward_memory(cache, work, t)      # A(t)
            dA_prev = self.lam * dA                          # A = lam A_prev + ...
        du = work.du[t]
        dh_s = dh
        for s in reversed(range(self.S)):
            out = hs[s + 1] if s + 1 < self.S else cache.h[t + 1]
            dy = xp.multiply(dh_s, out > 0, out=work.dy[t, s])   # h_{s+1} = f(y)
            dz = layer_norm_backward(dy, (cache.n[t, s], cache.rstd[t, s]), P["g"])
            if s + 1 < self.S:
                du += dz                                     # z = u + ...
            else:
                xp.copyto(du, dz)
            if history:                                      # ... + A(t) h_s: dA += dz h_s^T,
                xp.copyto(work.kv[t, s, 1], dz)              # kept as (h_s, dz) in kv
            else:
                dA_prev += dz[:, :, None] * hs[s][:, None, :]
            dh_s = self._memory_apply(cache, t, dz, transpose=True,   # and dh_s = A^T dz
                                      A=None if history else A_t)
        du += relu_grad_(dh_s, hs[0])                        # h_0 = f(u)
        dh_prev = du @ P["W"]                                # u = W h(t) + ...
        # A(t) = lam A(t-1) + eta h(t) h(t)^T; A_0 is an input of its own
        if history:
            if t > 0:
                dh_prev += self._history_grad(dA, cache, work, t, cache.h[t])
                return (dh_prev, dA)                         # dA(T) (or None) carried as is
            K = work.kv[:, :, 0].reshape(-1, *dh.shape).transpose(1, 0, 2)   # (B, T S, H)
            dZ = work.kv[:, :, 1].reshape(-1, *dh.shape).transpose(1, 2, 0)  # (B, H, T S)
            dA_prev = dZ @ (K * work.lam_pow[:, None])       # dL/dA(0), formed once
            if dA is not None:
                dA_prev += (self.lam ** cache.T) * dA
            return (dh_prev, dA_prev)
        if t > 0:
            dh_prev += self._outer_grad(dA_prev, cache.h[t])
        return (dh_prev, dA_prev)
