"""Quasi-recurrent neural network: a causal convolution over time, then elementwise pooling."""
from __future__ import annotations

import numpy as np

from ..core.base import Cache, RecurrentCell
from ..core.validation import ArgumentTypeError, describe
from ..core.registry import register
from . import _options

GATES = {"f": ("z", "f"), "fo": ("z", "f", "o"), "ifo": ("z", "f", "o", "i")}


@register("qrnn")
class QRNN(RecurrentCell):
    r"""Quasi-Recurrent Neural Network (Bradbury, Merity, Xiong & Socher, ICLR 2017).

    All the matrix work is a causal convolution of width k over time, one matrix
    product for all T steps; the only sequential part is elementwise ("pooling"):

    .. math::

        \begin{aligned}
        \hat x_t &= [x_{t-k+1}; \dots; x_{t-1}; x_t] \quad (kD) \\
        [z_t; f_t; o_t; i_t] &= W \hat x_t + b
            \quad\text{(then tanh, σ, σ, σ blockwise)} \\
        \text{fo:}\quad c_t &= f_t \odot c_{t-1} + (1 - f_t) \odot z_t,
            \qquad h_t = o_t \odot c_t \\
        \text{f:}\quad c_t &= f_t \odot c_{t-1} + (1 - f_t) \odot z_t,
            \qquad h_t = c_t \\
        \text{ifo:}\quad c_t &= f_t \odot c_{t-1} + i_t \odot z_t,
            \qquad h_t = o_t \odot c_t
        \end{aligned}

    The window is ordered oldest input first, :math:`[x_{t-1}; x_t]` for k = 2. The
    authors' ``torchqrnn`` orders it newest first: ``QRNNLayer.forward`` in
    salesforce/pytorch-qrnn, torchqrnn/qrnn.py, has ``source = torch.cat([X, Xm1], 2)``
    (in every version of that file), i.e. :math:`[x_t; x_{t-1}]`. Since W is free the
    model and the numbers are the same, but torchqrnn weights ported here need the two
    column blocks of W (columns :D and D:2D) swapped. The gate order z, f, o is theirs;
    their code allows k in {1, 2}, here any k >= 1. Their ``ForgetMult`` computes
    :math:`c_t = F_t z_t + (1 - F_t) c_{t-1}`, i.e. their F is the paper's 1 - f; here f
    is the paper's, so their zoneout "F = 0" is "f = 1" below.

    The elementwise work (activations, pooling, output) runs in blocks of a few steps
    small enough that the arrays a block touches stay in the CPU cache; done over the
    whole sequence at once it would stream every (T, B, H) array through main memory
    several times, which costs more than the pooling loop itself.

    Zoneout (the paper's regularizer on f): with probability p a unit's forget gate is
    forced to 1, so it keeps its previous c: :math:`f = 1 - m \odot (1 - \sigma(\cdot))`,
    :math:`m \sim \text{Bernoulli}(1 - p)`. The paper writes it with dropout,
    F = 1 − dropout(1 − σ(W_f ∗ X)); here, as in ``torchqrnn``, the mask is not rescaled by
    1/(1 − p) (inverted dropout's scaling would make it another function). The mask comes from ``zoneout_seed`` (a
    fresh draw each forward) or from ``cell.zoneout_mask`` when that is set (a fixed
    mask, e.g. for the gradient check); it is saved in the cache, so backward uses the
    mask the forward used. With ``cell.training = False`` the expectation is used,
    :math:`f = 1 - (1 - p)(1 - \sigma)`, as ``torchqrnn`` does at evaluation.

    State: (c, x_past): c (B, H) and the last k - 1 inputs x_past (B, (k-1) D), oldest
    first, so that a sequence split at any step continues exactly. With k = 1 the state
    is (c,) alone.

    Shapes: x (T, B, D); W (G H, k D), b (G H,) with G = 2, 3, 4 gates (z, f, o, i) for
    f-, fo-, ifo-pooling. Initialization :math:`\mathcal U(-1/\sqrt{kD}, 1/\sqrt{kD})`,
    ``torch.nn.Linear``'s, which is what the authors' layer uses.

    Options
    -------
    window : int >= 1, k above (default 2, the paper's language-model setting)
    pooling : "fo" (default), "f" or "ifo"
    zoneout : float in [0, 1), p above (default 0)
    zoneout_seed : int >= 0 or None, seeds the zoneout masks. None (default): drawn from
        the cell's ``seed``, so the layers of a stack (each built with its own seed) draw
        different masks; an int gives the same masks whatever the seed
    """

    options = {"window": 2, "pooling": "fo", "zoneout": 0.0, "zoneout_seed": None}
    training = True          # False: zoneout uses its expectation instead of a mask
    zoneout_mask = None      # a fixed {0, 1} mask (T, B, H) to use instead of drawing one

    def check_options(self):
        self.window = _options.integer("window", self.window, lo=1)
        self.pooling = _options.choice("pooling", self.pooling, tuple(GATES))
        self.zoneout = _options.real("zoneout", self.zoneout, lo=0.0, hi=1.0, hi_open=True)
        if self.zoneout_seed is not None:
            self.zoneout_seed = _options.integer("zoneout_seed", self.zoneout_seed, lo=0)
        self.gate_names = GATES[self.pooling]
        self.state_names = ("c",) if self.window == 1 else ("c", "x_past")
        # from the cell's seed, but not its stream: the init draws from default_rng(seed)
        self._zoneout_rng = np.random.default_rng(
            (self.seed, 1) if self.zoneout_seed is None else self.zoneout_seed)

    def random_state(self):
        """The zoneout masks' generator (None without zoneout): a checkpoint carries it,
        so that a resumed run draws the masks the uninterrupted run would have."""
        return self._zoneout_rng.bit_generator.state if self.zoneout > 0.0 else None

    def set_random_state(self, state):
        if state is None:
            return
        generator = self._zoneout_rng.bit_generator
        try:
            generator.state = state
        except (TypeError, ValueError, KeyError) as exc:
            raise ValueError(f"{self._where('set_random_state')}: state must be what "
                             f"random_state() returned (a {type(generator).__name__} state); "
                             f"got {describe(state)} ({exc})") from None

    def init_params(self, rng):
        G, H, kD = len(self.gate_names), self.hidden_size, self.window * self.input_size
        bound = 1.0 / np.sqrt(kD)
        return {"W": rng.uniform(-bound, bound, (G * H, kD)),
                "b": rng.uniform(-bound, bound, G * H)}

    def initial_state(self, batch):
        batch = self._checked_batch(batch)
        zeros = self.xp.zeros
        c = zeros((batch, self.hidden_size), dtype=self.dtype)
        if self.window == 1:
            return (c,)
        return (c, zeros((batch, (self.window - 1) * self.input_size), dtype=self.dtype))

    # ------------------------------------------------------------------ forward
    # Inside forward the gates sit gate-major (G, T, B, H), z first, every gate's steps
    # one contiguous block (NumPy's elementwise functions are ~3x slower on the strided
    # column slices of a (T, B, G H) array), and the σ gates' rows of W and b are
    # negated, so σ(a) = 1 / (1 + exp(-a)) is exp, +1, reciprocal with no negation pass.
    def _forward(self, x, state0):
        xp, k, H = self.xp, self.window, self.hidden_size
        T, B, D = x.shape
        G = len(self.gate_names)
        cache = Cache(x=x, state0=state0, T=T, B=B)
        # x_pad = [the k-1 carried inputs; x] (T + k - 1, B, D) is never formed: windows
        # reads its rows from past and x directly (one copy of x fewer)
        past = state0[1].reshape(B, k - 1, D).transpose(1, 0, 2) if k > 1 else x[:0]
        cache.windows = xp.empty((T, B, k * D), dtype=self.dtype)
        for j in range(k):                              # block j holds x_pad[t + j]:
            block, lag = cache.windows[:, :, j * D:(j + 1) * D], min(k - 1 - j, T)
            block[:lag] = past[j:j + lag]               # a carried input, t + j < k - 1
            block[lag:] = x[:T - lag]                   # x_{t-k+1+j}
        # the convolution: every gate at every step, one matmul call (a GEMM per gate)
        sign = xp.ones((G, 1, 1), dtype=self.dtype)
        sign[1:] = -1.0                                 # z keeps its sign; f, o, i negated
        W = (self.params["W"].reshape(G, H, -1) * sign).reshape(G * H, -1)
        b = (self.params["b"].reshape(G, H, 1) * sign).reshape(-1)
        gates = cache.gates = self.project_gates(cache.windows, W, b, G)   # (G, T, B, H)
        g = dict(zip(self.gate_names, gates))
        cache.scale = self._zoneout_scale(T, B)
        f = g["f"] if cache.scale is None else xp.empty_like(g["f"])
        cache.f = f
        c = cache.c = self.hidden_buffer(cache, state0[0])
        hs = xp.empty((T, B, H), dtype=self.dtype)
        add = xp.empty((min(T, self.block(B)), B, H), dtype=self.dtype)
        with np.errstate(over="ignore"):                # exp(-a) -> inf gives σ = 0
            for s, e in self.blocks(T, B):              # elementwise work, in blocks of
                b = slice(s, e)                         # steps small enough to stay in cache
                xp.tanh(g["z"][b], out=g["z"][b])
                sig = gates[1:, b]                      # f, o, i = σ(.)
                xp.exp(sig, out=sig)
                sig += 1.0
                xp.divide(1.0, sig, out=sig)
                if cache.scale is not None:             # zoneout: f = 1 - m (1 - σ)
                    scale = cache.scale if np.isscalar(cache.scale) else cache.scale[b]
                    xp.multiply(scale, g["f"][b] - 1.0, out=f[b])
                    f[b] += 1.0
                a = add[:e - s]                         # what each step adds:
                if self.pooling == "ifo":
                    xp.multiply(g["i"][b], g["z"][b], out=a)     # i z
                else:
                    xp.subtract(1.0, f[b], out=a)
                    a *= g["z"][b]                      # (1 - f) z
                for t in range(s, e):                   # the only sequential part
                    c_t = xp.multiply(f[t], c[t], out=c[t + 1])
                    c_t += a[t - s]                     # c_t = f c_{t-1} + (1 - f) z
                if self.pooling == "f":
                    hs[b] = c[s + 1:e + 1]              # h = c
                else:
                    xp.multiply(g["o"][b], c[s + 1:e + 1], out=hs[b])   # h = o c
        state_T = (c[T].copy(),)
        if k > 1:
            x_past = xp.concatenate([past, x[max(0, T - k + 1):]])[-(k - 1):]   # x_pad[T:]
            state_T += (x_past.transpose(1, 0, 2).reshape(B, (k - 1) * D).copy(),)
        return hs, state_T, cache

    def block(self, B):
        """Steps per block of elementwise work: about 64 KiB per (block, B, H) array, so
        the dozen arrays a block touches stay in the L2 cache (whole-sequence passes
        would stream every array through main memory several times)."""
        return max(1, 16384 // (B * self.hidden_size))

    def blocks(self, T, B):
        n = self.block(B)
        return [(s, min(s + n, T)) for s in range(0, T, n)]

    def _zoneout_scale(self, T, B):
        """None (no zoneout), the mask m (T, B, H) in training, or the scalar 1 - p."""
        if self.zoneout == 0.0:
            return None
        if not isinstance(self.training, (bool, np.bool_)):
            raise ArgumentTypeError(f"{self._where()}: training must be True or False; got "
                                    f"{describe(self.training)}")
        if not self.training:
            return 1.0 - self.zoneout
        if self.zoneout_mask is None:
            m = self._zoneout_rng.random((T, B, self.hidden_size)) >= self.zoneout
            return self.xp.asarray(m, dtype=self.dtype)
        return self._checked_mask(self.zoneout_mask, T, B)

    def _checked_mask(self, m, T, B):
        """The fixed ``zoneout_mask``: a NumPy array or one of the cell's backend, of shape
        (T, B, H), whose entries are 0 or 1 (bool or numbers), as the cell's dtype."""
        expected = "an array of 0s and 1s, shape (T, B, H)"
        if not (type(m) is np.ndarray or self.backend.is_array(m)):
            raise ArgumentTypeError(f"{self._where()}: zoneout_mask must be {expected}; got "
                                    f"{describe(m)}")
        if tuple(m.shape) != (T, B, self.hidden_size):
            raise ValueError(f"{self._where()}: zoneout_mask must have shape (T, B, H) = "
                             f"{(T, B, self.hidden_size)}; got {tuple(m.shape)}")
        if not (m.dtype == bool or np.issubdtype(m.dtype, np.number)) or \
                not bool(((m == 0) | (m == 1)).all()):
            raise ValueError(f"{self._where()}: zoneout_mask must be {expected} (a unit's "
                             f"state is either kept or not); got other values")
        return self.xp.asarray(m, dtype=self.dtype)

    # ------------------------------------------------------------------ backward
    def _backward(self, dhs, cache, dstate):
        xp, k = self.xp, self.window
        T, B, D = cache.x.shape
        g, c, f = dict(zip(self.gate_names, cache.gates)), cache.c, cache.f
        G, H = len(self.gate_names), self.hidden_size
        dpre = xp.empty((T, B, G * H), dtype=self.dtype)     # gates side by side, as W
        n_max = min(T, self.block(B))
        # one block's gate gradients, gate-major like cache.gates (contiguous blocks for
        # the elementwise calls), copied into dpre once per block
        dblock = xp.empty((G, n_max, B, H), dtype=self.dtype)
        tmp = xp.empty((G, n_max, B, H), dtype=self.dtype)
        dh_norm = xp.empty(T)
        if self.pooling != "f":                         # h_t is no state: dL/dh_t = dhs[t]
            dh_norm[:] = xp.sqrt(xp.einsum("tbh,tbh->t", dhs, dhs))
        dc = xp.empty((n_max, B, H), dtype=self.dtype)
        carried = dstate[0]                             # dL/dc from the step after a block
        for s, e in reversed(self.blocks(T, B)):
            b, n = slice(s, e), e - s
            d = dict(zip(self.gate_names, dblock[:, :n]))
            dcb = dc[:n]                                # dL/dc_t for t in the block
            if self.pooling == "f":
                dcb[...] = dhs[b]                       # h = c
            else:
                xp.multiply(dhs[b], g["o"][b], out=dcb)   # h = o c
                xp.multiply(dhs[b], c[s + 1:e + 1], out=d["o"])
            dcb[n - 1] += carried
            for t in reversed(range(n - 1)):            # the only sequential part
                dcb[t] += xp.multiply(f[s + t + 1], dcb[t + 1], out=tmp[0, 0])  # c_{t+1} = f c_t + ..
            carried = f[s] * dcb[0]                     # on to c_{s-1}
            if self.pooling == "f":                     # dL/dh_t in total
                dh_norm[b] = xp.sqrt(xp.einsum("tbh,tbh->t", dcb, dcb))
            if self.pooling == "ifo":                   # c = f c_prev + i z
                xp.multiply(dcb, c[s:e], out=d["f"])
                xp.multiply(dcb, g["z"][b], out=d["i"])
                xp.multiply(dcb, g["i"][b], out=d["z"])
            else:                                       # c = f c_prev + (1 - f) z
                xp.subtract(c[s:e], g["z"][b], out=d["f"])
                d["f"] *= dcb
                xp.subtract(1.0, f[b], out=d["z"])
                d["z"] *= dcb
            if cache.scale is not None:                 # f = 1 - scale (1 - σ)
                d["f"] *= cache.scale if np.isscalar(cache.scale) else cache.scale[b]
            sq = xp.multiply(g["z"][b], g["z"][b], out=tmp[0, :n])   # z = tanh(.): 1 - z²
            d["z"] -= xp.multiply(d["z"], sq, out=sq)
            sig, dsig = cache.gates[1:, b], dblock[1:, :n]          # f, o, i = σ(.): σ (1 - σ)
            dsig *= sig
            dsig -= xp.multiply(dsig, sig, out=tmp[1:, :n])
            xp.copyto(dpre[b].reshape(n, B, G, H).transpose(2, 0, 1, 3), dblock[:, :n])
        dc0 = carried
        grads = {"W": self.weight_grad(dpre, cache.windows), "b": self.bias_grad(dpre)}
        dwin = self.input_grad(dpre, self.params["W"])  # (T, B, k D)
        dx_pad = xp.empty((T + k - 1, B, D), dtype=self.dtype)   # dL/dx_pad
        dx_pad[:T] = dwin[:, :, :D]                     # windows[t, j] = x_pad[t + j]
        dx_pad[T:] = 0.0
        for j in range(1, k):
            dx_pad[j:j + T] += dwin[:, :, j * D:(j + 1) * D]
        if k == 1:
            return dx_pad, (dc0,), grads, dh_norm
        dx_pad[T:] += dstate[1].reshape(B, k - 1, D).transpose(1, 0, 2)   # x_past_T
        dpast = dx_pad[:k - 1].transpose(1, 0, 2).reshape(B, (k - 1) * D)
        return dx_pad[k - 1:], (dc0, dpast.copy()), grads, dh_norm   # (dx: a view of
        # dx_pad, whose other rows only dpast's copy reads)

