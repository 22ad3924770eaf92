"""Quasi-recurrent neural network: a causal convolution over time, then elementwise pooling."""
from __future__ import annotations

import numpy as np

from ..base import Cache, RecurrentCell
from ..ops import sigmoid_, sigmoid_grad_, tanh_, tanh_grad_
from ..registry import register
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

    The window is ordered oldest input first, as in the authors' ``torchqrnn``
    (``cat([x_{t-1}, x_t])`` for k = 2); their code allows k in {1, 2}, here any k >= 1.

    Zoneout (the paper's regularizer on f): with probability p a unit's forget gate is
    forced to 1, so it keeps its previous c: :math:`f = 1 - m \odot (1 - \sigma(\cdot))`,
    :math:`m \sim \text{Bernoulli}(1 - p)`. The mask comes from ``zoneout_seed`` (a
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
    zoneout_seed : int >= 0, seeds the zoneout masks
    """

    options = {"window": 2, "pooling": "fo", "zoneout": 0.0, "zoneout_seed": 0}
    training = True          # False: zoneout uses its expectation instead of a mask
    zoneout_mask = None      # a fixed {0, 1} mask (T, B, H) to use instead of drawing one

    def check_options(self):
        self.window = _options.integer("window", self.window, lo=1)
        self.pooling = _options.choice("pooling", self.pooling, tuple(GATES))
        self.zoneout = _options.real("zoneout", self.zoneout, lo=0.0, hi=1.0, hi_open=True)
        self.zoneout_seed = _options.integer("zoneout_seed", self.zoneout_seed, lo=0)
        self.gate_names = GATES[self.pooling]
        self.state_names = ("c",) if self.window == 1 else ("c", "x_past")
        self._zoneout_rng = np.random.default_rng(self.zoneout_seed)

    def init_params(self, rng):
        G, H, kD = len(self.gate_names), self.hidden_size, self.window * self.input_size
        bound = 1.0 / np.sqrt(kD)
        return {"W": rng.uniform(-bound, bound, (G * H, kD)),
                "b": rng.uniform(-bound, bound, G * H)}

    def initial_state(self, batch):
        zeros = self.xp.zeros
        c = zeros((batch, self.hidden_size), dtype=self.dtype)
        if self.window == 1:
            return (c,)
        return (c, zeros((batch, (self.window - 1) * self.input_size), dtype=self.dtype))

    # ------------------------------------------------------------------ forward
    def _forward(self, x, state0):
        xp, k, H = self.xp, self.window, self.hidden_size
        T, B, D = x.shape
        cache = Cache(x=x, state0=state0, T=T, B=B)
        if k > 1:   # x_pad: the k-1 carried inputs, then x: (T + k - 1, B, D)
            past = state0[1].reshape(B, k - 1, D).transpose(1, 0, 2)
            cache.x_pad = xp.concatenate([past, x], axis=0)
        else:
            cache.x_pad = x
        cache.windows = xp.empty((T, B, k * D), dtype=self.dtype)
        for j in range(k):                              # block j holds x_{t-k+1+j}
            cache.windows[:, :, j * D:(j + 1) * D] = cache.x_pad[j:j + T]
        # the convolution: every gate at every step, one matrix product (G, T, B, H)
        gates = self.project_gates(cache.windows, self.params["W"], self.params["b"],
                                   len(self.gate_names))
        g = dict(zip(self.gate_names, gates))
        tanh_(g["z"])
        sigmoid_(gates[1:])                             # f, o, i
        cache.gates, cache.scale = gates, self._zoneout_scale(T, B)
        f = g["f"]
        if cache.scale is not None:                     # f = 1 - scale (1 - sigma)
            f = 1.0 - cache.scale * (1.0 - g["f"])
        cache.f = f
        # what the pooling adds each step: (1 - f) z, or i z for ifo
        add = g["i"] * g["z"] if self.pooling == "ifo" else (1.0 - f) * g["z"]
        c = cache.c = self.hidden_buffer(cache, state0[0])
        for t in range(T):                              # the only sequential part
            xp.multiply(f[t], c[t], out=c[t + 1])
            c[t + 1] += add[t]                          # c_t = f c_{t-1} + (1 - f) z
        hs = c[1:].copy() if self.pooling == "f" else g["o"] * c[1:]   # h = o c
        state_T = (c[T].copy(),)
        if k > 1:
            state_T += (cache.x_pad[T:].transpose(1, 0, 2).reshape(B, (k - 1) * D).copy(),)
        return hs, state_T, cache

    def _zoneout_scale(self, T, B):
        """None (no zoneout), the mask m (T, B, H) in training, or the scalar 1 - p."""
        if self.zoneout == 0.0:
            return None
        if not self.training:
            return 1.0 - self.zoneout
        m = self.zoneout_mask
        if m is None:
            m = self._zoneout_rng.random((T, B, self.hidden_size)) >= self.zoneout
        m = self.xp.asarray(m, dtype=self.dtype)
        if tuple(m.shape) != (T, B, self.hidden_size):
            raise ValueError(f"{self._where()}: zoneout_mask must have shape (T, B, H) = "
                             f"{(T, B, self.hidden_size)}; got {tuple(m.shape)}")
        return m

    # ------------------------------------------------------------------ backward
    def _backward(self, dhs, cache, dstate):
        xp, k = self.xp, self.window
        T, B, D = cache.x.shape
        g, c, f = dict(zip(self.gate_names, cache.gates)), cache.c, cache.f
        dgates = xp.empty_like(cache.gates)
        d = dict(zip(self.gate_names, dgates))
        if self.pooling == "f":
            dc = dhs.copy()                             # h = c
        else:
            dc = dhs * g["o"]                           # h = o c
            xp.multiply(dhs, c[1:], out=d["o"])
        dc[T - 1] += dstate[0]
        carried = xp.empty_like(dc[0])
        for t in reversed(range(T - 1)):                # the only sequential part
            dc[t] += xp.multiply(f[t + 1], dc[t + 1], out=carried)   # c_{t+1} = f c_t + ..
        dc0 = f[0] * dc[0]
        dh_norm = xp.sqrt(xp.sum((dc if self.pooling == "f" else dhs) ** 2, axis=(1, 2)))
        if self.pooling == "ifo":                       # c = f c_prev + i z
            xp.multiply(dc, c[:-1], out=d["f"])
            xp.multiply(dc, g["z"], out=d["i"])
            xp.multiply(dc, g["i"], out=d["z"])
        else:                                           # c = f c_prev + (1 - f) z
            xp.multiply(dc, c[:-1] - g["z"], out=d["f"])
            xp.multiply(dc, 1.0 - f, out=d["z"])
        if cache.scale is not None:
            d["f"] *= cache.scale                       # f = 1 - scale (1 - sigma)
        tanh_grad_(d["z"], g["z"])                      # z = tanh(.)
        sigmoid_grad_(dgates[1:], cache.gates[1:])      # f, o, i = sigma(.)
        G, H = len(self.gate_names), self.hidden_size
        dpre = dgates.transpose(1, 2, 0, 3).reshape(T, B, G * H)   # gates side by side
        grads = {"W": self.weight_grad(dpre, cache.windows), "b": self.bias_grad(dpre)}
        dwin = self.input_grad(dpre, self.params["W"])  # (T, B, k D)
        dx_pad = xp.zeros_like(cache.x_pad)
        for j in range(k):                              # windows[t, j] = x_pad[t + j]
            dx_pad[j:j + T] += dwin[:, :, j * D:(j + 1) * D]
        if k == 1:
            return dx_pad, (dc0,), grads, dh_norm
        dx_pad[T:] += dstate[1].reshape(B, k - 1, D).transpose(1, 0, 2)   # x_past_T
        dpast = dx_pad[:k - 1].transpose(1, 0, 2).reshape(B, (k - 1) * D)
        return dx_pad[k - 1:].copy(), (dc0, dpast.copy()), grads, dh_norm

