r"""Residual GLU blocks: the nonlinear layer that S4, the LRU and Mamba put around a
recurrence, so that a stack of linear recurrences is not one linear map.

A stack of bare cells feeds each cell's outputs straight into the next. For a nonlinear
cell (an LSTM) that is a deep network; for a linear recurrence (s4d, lru, mingru's
scan...) two layers compose into one linear map, and the papers do not stack them that
way. Their models wrap each recurrence in a block with a residual path (Gu, Goel & Ré's
S4 example; Orvieto et al. 2023, Fig. 1; Gu & Dao 2023's Mamba), which ``blocks="glu"``
builds, pre-norm as in Mamba and the LRU:

.. math::

    h^{(0)}_t &= W_e x_t + b_e                                   && \text{encoder}\\
    u_t &= \mathrm{LN}(h^{(k)}_t) = g \odot \frac{h^{(k)}_t - \mu_t}{\sqrt{\sigma_t^2
           + \epsilon}} + \beta                                   && \text{layer norm}\\
    s_t &= \text{cell}_k(u)_t                                     && \text{the recurrence}\\
    z_t &= W\,\mathrm{GELU}(s_t) + b, \quad z_t = [a_t; c_t]      && W: (2H, O)\\
    h^{(k+1)}_t &= h^{(k)}_t + a_t \odot \sigma(c_t)              && \text{GLU, residual}

and the readout reads :math:`\mathrm{LN}_f(h^{(L)})`. GELU is the tanh form
:math:`\tfrac12 x (1 + \tanh(\sqrt{2/\pi}(x + 0.044715 x^3)))` (PyTorch's
``approximate="tanh"``; the S4 example uses the erf form, which NumPy lacks and CuPy
would need SciPy for: the two differ by at most 5e-4). The S4 example applies GELU and
the GLU map the same way, after the recurrence; it puts the norm after the residual
(post-norm) by default and adds dropout, which this deterministic library leaves out.

Each piece has a forward and a hand-written backward, as the cells do; the model's
``gradcheck`` covers them (``tests/test_blocks.py``, and PyTorch as an oracle).
"""
from __future__ import annotations

import math

import numpy as np

from ..core.backend import get_backend
from ..core.base import Cache, check_float_dtype
from ..core.ops import array_module, sigmoid_, sigmoid_grad_
from ..core.validation import check_choice, check_int, check_seed

BLOCKS = ("glu",)          # the kinds build_model's ``blocks`` takes (None: bare cells)

GELU_C = math.sqrt(2.0 / math.pi)
GELU_K = 0.044715
LAYER_NORM_EPS = 1e-5      # PyTorch's LayerNorm default


def gelu(x):
    """(GELU(x), t) in the tanh form, with t = tanh(c (x + k x³)) kept for the backward."""
    t = array_module(x).tanh(GELU_C * (x + GELU_K * x ** 3))
    return 0.5 * x * (1.0 + t), t


def gelu_grad(dy, x, t):
    """dL/dx of y = ½ x (1 + t), t = tanh(c (x + k x³)), given dL/dy and t."""
    dt_dx = (1.0 - t * t) * GELU_C * (1.0 + 3.0 * GELU_K * x * x)
    return dy * (0.5 * (1.0 + t) + 0.5 * x * dt_dx)


def _uniform(rng, fan_in, shape):
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)), torch.nn.Linear's init."""
    k = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-k, k, shape)


class GLUBlocks:
    """The encoder, one (layer norm, GELU + GLU output map) pair per layer, and the final
    norm of a stack of ``layers`` cells whose residual stream is ``width`` wide.

    ``cell_outputs``: each layer's cell output size (the GLU map takes it back to
    ``width``). Parameters, as :class:`~rnnzoo.SequenceModel` prefixes them:
    ``encoder.W`` (width, input_size), ``encoder.b``; ``block{k}.norm_g``,
    ``block{k}.norm_b`` (width,), ``block{k}.W`` (2 width, cell output), ``block{k}.b``;
    ``final_norm_g``, ``final_norm_b``. Linear maps start as ``torch.nn.Linear`` does,
    norms at g = 1, beta = 0.
    """

    kind = "glu"

    def __init__(self, input_size, width, cell_outputs, *, seed=0, dtype=np.float64,
                 backend="numpy"):
        w = "GLUBlocks"
        self.input_size = check_int(input_size, "input_size", minimum=1, where=w)
        self.width = check_int(width, "width", minimum=1, where=w)
        if not isinstance(cell_outputs, (list, tuple)) or not cell_outputs:
            raise ValueError(f"{w}: cell_outputs must be a non-empty list of the layers' "
                             f"cell output sizes; got {cell_outputs!r}")
        self.cell_outputs = [check_int(o, f"cell_outputs[{k}]", minimum=1, where=w)
                             for k, o in enumerate(cell_outputs)]
        self.dtype = check_float_dtype(dtype, w)
        self.backend = get_backend(backend)
        rng = np.random.default_rng(check_seed(seed, where=w))
        H, D = self.width, self.input_size
        host = {"encoder.W": _uniform(rng, D, (H, D)), "encoder.b": _uniform(rng, D, H)}
        for k, out in enumerate(self.cell_outputs):
            host.update({f"block{k}.norm_g": np.ones(H), f"block{k}.norm_b": np.zeros(H),
                         f"block{k}.W": _uniform(rng, out, (2 * H, out)),
                         f"block{k}.b": _uniform(rng, out, 2 * H)})
        host.update({"final_norm_g": np.ones(H), "final_norm_b": np.zeros(H)})
        self.params = {n: self.backend.asarray(v, dtype=self.dtype) for n, v in host.items()}

    @property
    def layers(self) -> int:
        return len(self.cell_outputs)

    def describe(self) -> dict:
        """What a checkpoint records to rebuild these blocks."""
        return {"kind": self.kind, "input_size": self.input_size, "width": self.width,
                "cell_outputs": list(self.cell_outputs)}

    # ------------------------------------------------------------ the pieces
    def encode(self, x):
        P = self.params
        return x @ P["encoder.W"].T + P["encoder.b"], Cache(x=x)

    def encode_backward(self, dh, cache):
        P, flat_dh = self.params, dh.reshape(-1, self.width)
        grads = {"encoder.W": flat_dh.T @ cache.x.reshape(-1, self.input_size),
                 "encoder.b": flat_dh.sum(axis=0)}
        return dh @ P["encoder.W"], grads

    def norm(self, h, prefix):
        """Layer norm over the features of every step: (T, B, width) -> same."""
        xp = self.backend.xp
        mu = h.mean(axis=-1, keepdims=True)
        centered = h - mu
        inv_std = 1.0 / xp.sqrt((centered * centered).mean(axis=-1, keepdims=True)
                                + LAYER_NORM_EPS)
        h_hat = centered * inv_std
        u = h_hat * self.params[prefix + "norm_g"] + self.params[prefix + "norm_b"]
        return u, Cache(h_hat=h_hat, inv_std=inv_std)

    def norm_backward(self, du, cache, prefix):
        h_hat, g = cache.h_hat, self.params[prefix + "norm_g"]
        grads = {prefix + "norm_g": (du * h_hat).reshape(-1, self.width).sum(axis=0),
                 prefix + "norm_b": du.reshape(-1, self.width).sum(axis=0)}
        dh_hat = du * g                                  # u = g h_hat + beta
        # h_hat = (h - mu) / std: the mean and the variance depend on every feature
        dh = cache.inv_std * (dh_hat - dh_hat.mean(axis=-1, keepdims=True)
                              - h_hat * (dh_hat * h_hat).mean(axis=-1, keepdims=True))
        return dh, grads

    def gated_output(self, s, k):
        """GELU, the (2 width, O) map, GLU: the cell's outputs back to the stream."""
        P, H = self.params, self.width
        a, t = gelu(s)
        z = a @ P[f"block{k}.W"].T + P[f"block{k}.b"]
        gate = sigmoid_(z[..., H:].copy())
        return z[..., :H] * gate, Cache(s=s, t=t, a=a, value=z[..., :H], gate=gate)

    def gated_output_backward(self, dy, cache, k):
        P, xp = self.params, self.backend.xp
        dvalue = dy * cache.gate                         # y = value * sigma(c)
        dc = sigmoid_grad_(dy * cache.value, cache.gate)
        dz = xp.concatenate([dvalue, dc], axis=-1)
        flat_dz = dz.reshape(-1, dz.shape[-1])
        grads = {f"block{k}.W": flat_dz.T @ cache.a.reshape(-1, cache.a.shape[-1]),
                 f"block{k}.b": flat_dz.sum(axis=0)}
        da = dz @ P[f"block{k}.W"]                       # z = W a + b
        return gelu_grad(da, cache.s, cache.t), grads

    # ------------------------------------------------------------ one layer
    def layer(self, k, cell, h, state0):
        """h^(k+1) = h^(k) + GLU(GELU(cell(LN(h^(k))))): (h^(k+1), state_T, cache)."""
        u, norm_cache = self.norm(h, f"block{k}.")
        s, state_T, cell_cache = cell.forward(u, state0)
        y, out_cache = self.gated_output(s, k)
        return h + y, state_T, Cache(norm=norm_cache, cell=cell_cache, out=out_cache)

    def layer_backward(self, k, cell, dh, cache):
        """dL/dh^(k+1) -> (dL/dh^(k), the cell's grads, this block's grads)."""
        ds, grads = self.gated_output_backward(dh, cache.out, k)
        du, _, cell_grads = cell.backward(ds, cache.cell)
        dh_norm, norm_grads = self.norm_backward(du, cache.norm, f"block{k}.")
        grads.update(norm_grads)
        return dh + dh_norm, cell_grads, grads          # the residual path adds dh

    def final(self, h):
        return self.norm(h, "final_")

    def final_backward(self, du, cache):
        return self.norm_backward(du, cache, "final_")


def make_blocks(kind, input_size, width, cell_outputs, *, seed, dtype, backend):
    """The blocks ``kind`` names (one of :data:`BLOCKS`), or None for bare cells."""
    if kind is None:
        return None
    check_choice(kind, "blocks", BLOCKS, where="build_model")
    return GLUBlocks(input_size, width, cell_outputs, seed=seed, dtype=dtype,
                     backend=backend)
