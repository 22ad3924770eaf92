"""The fast-weights cell's memory A(t), three equivalent ways (a mixin of
:class:`rnnzoo.cells.fastweights.FastWeights`, whose docstring derives them): "history"
(A(t) v from the stored h's, never forming A), "materialized" (every A(t) kept),
"checkpointed" (every K-th A(t) kept, each segment rebuilt in the backward), and the
rule by which memory="auto" picks one."""
from __future__ import annotations

import warnings

import numpy as np

from ..core.backend import to_numpy
from ..core.validation import check_int

MEMORY_FORMS = ("auto", "history", "materialized", "checkpointed")
AUTO_T_PER_H = 4                # memory="auto": the history form while T <= 4 H (measured)
MAX_MATERIALIZED_BYTES = 2 ** 30    # ... the materialized one while its cache fits 1 GiB


def checkpoint_every(T):
    """K, the steps between the checkpointed form's stored A's: ⌈√(T + 1)⌉, so that the
    marks (⌈T / K⌉ of them) and the segment rebuilt from one (K + 1) take about as much
    memory each, 2 √T (B, H, H) arrays in all."""
    return int(np.ceil(np.sqrt(T + 1)))


class FastMemoryForms:
    """A(t) v and A(t)'s bookkeeping in each form; needs the cell's ``memory``, ``lam``,
    ``eta``, ``S``, ``hidden_size``, ``dtype`` and ``xp``."""

    def prepare_memory(self, cache):
        """At the start of a forward: pick the form (``cache.memory``, which the backward
        reads too) and allocate what it keeps."""
        xp, T = self.xp, cache.T
        cache.memory = self.memory_form(T, cache.B)          # the backward reads it too
        H = self.hidden_size
        if self.memory == "auto" and cache.memory == "history" and T > AUTO_T_PER_H * H:
            gib = self.checkpointed_bytes(T, cache.B) / 2 ** 30
            warnings.warn(f"fastweights memory='auto': even the checkpointed cache at T={T}, "
                          f"B={cache.B}, H={H} would take {gib:.3g} GiB (over "
                          f"{MAX_MATERIALIZED_BYTES / 2 ** 30:.3g} GiB), so the history form "
                          "runs, its time growing as T^2; pass memory='checkpointed' to "
                          "trade memory for time, or split the sequence", stacklevel=6)
        if cache.memory == "materialized":                   # A(0) .. A(T)
            cache.A = xp.empty((T + 1,) + cache.state0[1].shape, dtype=self.dtype)
            cache.A[0] = cache.state0[1]
        elif cache.memory == "checkpointed":
            # the marks A(0), A(K), A(2K), ..., kept; the segment in hand, A(start) ..
            # A(start + K), for the forward only (finish_memory drops it): the backward
            # rebuilds each segment from its mark and the h's
            K = cache.every = checkpoint_every(T)
            cache.marks = xp.empty((-(-T // K),) + cache.state0[1].shape, dtype=self.dtype)
            cache.segment = xp.empty((K + 1,) + cache.state0[1].shape, dtype=self.dtype)
            cache.segment[0] = cache.state0[1]
            cache.start = 0
        else:                                                # eta lam^k, k = 0 .. T-1
            cache.decay = xp.asarray(self.eta * self.lam ** np.arange(T), dtype=self.dtype)
            cache.A0_nonzero = bool(to_numpy(xp.any(cache.state0[1])))   # once a sequence

    def memory_form(self, T, B):
        """The form a forward over T steps of B sequences uses: ``memory`` itself unless
        it is "auto"; then "history" while T <= AUTO_T_PER_H · H, else "materialized"
        while its cache, (T + 1)·B·H² numbers, fits in MAX_MATERIALIZED_BYTES, else
        "checkpointed" while its arrays fit, else "history" (see the class docstring).
        Stored in the cache as ``cache.memory``; the backward uses the form its forward
        used."""
        T, B = self._sizes(T, B, "memory_form")
        if self.memory != "auto":
            return self.memory
        if T <= AUTO_T_PER_H * self.hidden_size:
            return "history"
        if self.materialized_bytes(T, B) <= MAX_MATERIALIZED_BYTES:
            return "materialized"
        if self.checkpointed_bytes(T, B) <= MAX_MATERIALIZED_BYTES:
            return "checkpointed"
        return "history"

    def _sizes(self, T, B, method):
        where = self._where(method)
        return check_int(T, "T", minimum=1, where=where), check_int(B, "B", minimum=1,
                                                                   where=where)

    def materialized_bytes(self, T, B):
        """Bytes of the materialized form's A(0) .. A(T): (T + 1)·B·H² numbers."""
        T, B = self._sizes(T, B, "materialized_bytes")
        return (T + 1) * B * self.hidden_size ** 2 * np.dtype(self.dtype).itemsize

    def checkpointed_bytes(self, T, B):
        """Bytes of the checkpointed form's A's: ⌈T / K⌉ marks in the cache and the K + 1
        of the segment in hand (K = :func:`checkpoint_every`), the forward's while it runs,
        then the backward's: about 2 √T (B, H, H) arrays at any time."""
        T, B = self._sizes(T, B, "checkpointed_bytes")
        K = checkpoint_every(T)
        return (-(-T // K) + K + 1) * B * self.hidden_size ** 2 * np.dtype(self.dtype).itemsize

    @staticmethod
    def _matvec(A, v):
        """A[b] @ v[b] for every b: (B, H, H), (B, H) -> (B, H), one batched product."""
        return (A @ v[:, :, None])[:, :, 0]

    def _outer_grad(self, dA, h):
        """dL/dh from A = ... + eta h h^T: eta (dA + dA^T) h."""
        out = self._matvec(dA, h)
        out += self._matvec(dA.transpose(0, 2, 1), h)
        out *= self.eta
        return out

    def _memory_apply(self, cache, t, v, transpose=False, A=None):
        """A(t) v for the step with input h(t) = cache.h[t] (A(t)ᵀ v if ``transpose``).

        "materialized" and "checkpointed": a batched product with A(t), the array ``A``.
        "history": the sum λ^t A_0 v + η Σ_{τ=1..t} λ^{t−τ} h(τ) (h(τ)ᵀ v) over the stored
        h, two batched products of size t·H per batch item, plus A_0 v only when A_0 is
        not zero.
        """
        if cache.memory != "history":
            return self._matvec(A.transpose(0, 2, 1) if transpose else A, v)
        out = self.xp.zeros_like(v) if t == 0 else None
        if t > 0:
            K = cache.h[1:t + 1].transpose(1, 0, 2)          # (B, t, H): h(1) .. h(t)
            c = K @ v[:, :, None]                            # h(tau)^T v
            c *= cache.decay[t - 1::-1, None]                # eta lam^(t - tau)
            out = (K.transpose(0, 2, 1) @ c)[:, :, 0]        # sum_tau h(tau) (...)
        if cache.A0_nonzero:
            A0 = cache.state0[1]
            out += (self.lam ** t) * self._matvec(A0.transpose(0, 2, 1) if transpose else A0, v)
        return out

    def _next_memory(self, A_prev, h, out):
        """A = lam A_prev + eta h h^T into ``out``: the forward's, and the checkpointed
        backward's rebuilt segment, by the same operations (so bit for bit the same)."""
        self.xp.multiply(h[:, :, None], h[:, None, :], out=out)
        out *= self.eta
        out += self.lam * A_prev                             # A = lam A_prev + eta h h^T
        return out

    def _forward_memory(self, cache, t):
        """A(t) at step t of the forward (None in the history form). Checkpointed: at each
        K-th step the segment in hand starts again from A(t), which is stored as a mark."""
        if cache.memory == "materialized":
            return cache.A[t]
        if cache.memory != "checkpointed":
            return None
        K, seg = cache.every, cache.segment
        if t % K == 0:
            if t > 0:
                seg[0] = seg[K]                              # A(t), the last segment's end
                cache.start = t
            cache.marks[t // K] = seg[0]
        return seg[t - cache.start]

    def _forward_slot(self, cache, t):
        """Where the forward writes A(t) (materialized or checkpointed)."""
        if cache.memory == "materialized":
            return cache.A[t]
        return cache.segment[t - cache.start]

    def finish_memory(self, cache):
        """After the forward: the checkpointed form drops its segment (the marks stay)."""
        if cache.memory == "checkpointed":
            del cache.segment, cache.start

    def _backward_memory(self, cache, work, t):
        """A(t) at step t of the backward. Checkpointed: entering a segment (t its last
        step, going back), rebuild A(start) .. A(t) into the scratch from the segment's
        mark and the stored h's; the cache is only read."""
        if cache.memory == "materialized":
            return cache.A[t]
        K = cache.every
        start = (t // K) * K
        if work.start != start:
            seg = work.A
            seg[0] = cache.marks[t // K]
            for tau in range(start, t):                      # A(tau + 1) from A(tau), h(tau + 1)
                self._next_memory(seg[tau - start], cache.h[tau + 1], seg[tau + 1 - start])
            work.start = start
        return work.A[t - start]

    def _history_grad(self, dA_T, cache, work, t, v):
        """eta (dL/dA(t) + dL/dA(t)ᵀ) v in the "history" form (see the class docstring):
        eta lam^(T-t) (dA_T + dA_Tᵀ) v + Σ_{tau>=t, s} eta lam^(tau-t) (dz_s (h_s·v) +
        h_s (dz_s·v))."""
        B, H = v.shape
        n = (cache.T - t) * int(self.S)
        KV = work.kv[t:].reshape(2 * n, B, H).transpose(1, 0, 2)   # (B, 2n, H)
        c = (KV @ v[:, :, None]).reshape(B, n, 2)            # h_s·v, dz_s·v
        c = c[:, :, ::-1] * work.eta_lam_pow[:n, None]       # swapped: dz_s gets h_s·v
        out = (KV.transpose(0, 2, 1) @ c.reshape(B, 2 * n, 1))[:, :, 0]
        if dA_T is not None:
            out += (self.lam ** (cache.T - t)) * self._outer_grad(dA_T, v)
        return out
