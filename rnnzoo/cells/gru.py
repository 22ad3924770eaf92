"""Gated recurrent unit."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..base import RecurrentCell
from ..ops import sigmoid_, sigmoid_grad_, tanh_, tanh_grad_
from ..registry import register


@register("gru")
class GRU(RecurrentCell):
    r"""Gated recurrent unit (Cho et al., 2014), with PyTorch's ``nn.GRU`` equations:
    gate order r, z, n, and the reset gate applied *after* the recurrent product.

    .. math::

        \begin{aligned}
        r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) \\
        z_t &= \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) \\
        n_t &= \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})) \\
        h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}
        \end{aligned}

    The direct path :math:`z_t \odot h_{t-1}` lets the gradient pass a step scaled only by
    :math:`z_t`, which is what keeps it from vanishing when z is near 1.

    Shapes: x (T, B, D), h (B, H); W_ih = [W_ir; W_iz; W_in] (3H, D),
    W_hh = [W_hr; W_hz; W_hn] (3H, H), b_ih and b_hh (3H,).
    Parameters start :math:`\mathcal U(-1/\sqrt H, 1/\sqrt H)` as in PyTorch.
    """

    def init_params(self, rng):
        D, H = self.input_size, self.hidden_size
        k = 1.0 / np.sqrt(H)
        return {"W_ih": rng.uniform(-k, k, (3 * H, D)), "W_hh": rng.uniform(-k, k, (3 * H, H)),
                "b_ih": rng.uniform(-k, k, 3 * H), "b_hh": rng.uniform(-k, k, 3 * H)}

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        P, xp, H = self.params, self.xp, self.hidden_size
        # input halves W_i{r,z,n} x_t + b_i{r,z,n} for all t in one call, gate-major
        # (3, T, B, H), with b_hr and b_hz folded in (they add the same way; b_hn sits
        # inside r (W_hn h + b_hn) and cannot); each step activates its gates in place,
        # so afterwards cache.gates[:, t] holds r, z, n
        b = P["b_ih"].copy()
        b[:2 * H] += P["b_hh"][:2 * H]
        cache.gates = self.project_gates(cache.x, P["W_ih"], b, 3)
        cache.hn = xp.empty((cache.T, cache.B, H), dtype=self.dtype)  # W_hn h_{t-1} + b_hn
        cache.hw = xp.empty((cache.B, 3 * H), dtype=self.dtype)      # scratch: W_hh h_{t-1}
        cache.rhn = xp.empty((cache.B, H), dtype=self.dtype)         # scratch: r hn
        cache.h = self.hidden_buffer(cache, cache.state0[0])

    def finish_backward(self, cache, work):
        P = self.params
        grads = {"W_ih": self.weight_grad(work.dgates, cache.x),
                 "W_hh": self.weight_grad(work.dhw, cache.h[:-1]),
                 "b_ih": self.bias_grad(work.dgates), "b_hh": self.bias_grad(work.dhw)}
        return self.input_grad(work.dgates, P["W_ih"]), grads

    # -------------------------------------------------------- one time step
    def step(self, t, state, cache):
        xp, H = self.xp, self.hidden_size
        (h_prev,) = state
        a = cache.gates[:, t]                                # (3, B, H)
        r, z, n = a
        xp.matmul(h_prev, self.params["W_hh"].T, out=cache.hw)
        hw = self.gate_blocks(cache.hw, 3)                   # W_h{r,z,n} h_{t-1}
        a[:2] += hw[:2]                                      # r, z pre-activations
        sigmoid_(a[:2])                                      # r, z
        hn = xp.add(hw[2], self.params["b_hh"][2 * H:], out=cache.hn[t])
        n += xp.multiply(r, hn, out=cache.rhn)
        tanh_(n)                                             # n = tanh(.. + r (W_hn h + b_hn))
        h = xp.subtract(h_prev, n, out=cache.h[t + 1])
        h *= z
        h += n                                               # h = (1 - z) n + z h_prev
        return (h,)

    def prepare_backward(self, cache):
        xp, H = self.xp, self.hidden_size
        # d: this step's dr, dz, dn and d(W_hn h + b_hn), gate-major; dgates and dhw: all
        # steps with the gates side by side (T, B, 3H), as the matrix products need them
        return SimpleNamespace(d=xp.empty((4, cache.B, H), dtype=self.dtype),
                               dhz=xp.empty((cache.B, H), dtype=self.dtype),
                               dgates=xp.empty((cache.T, cache.B, 3 * H), dtype=self.dtype),
                               dhw=xp.empty((cache.T, cache.B, 3 * H), dtype=self.dtype))

    def step_backward(self, t, dstate, cache, work):
        xp = self.xp
        (dh,) = dstate
        a, hn, h_prev = cache.gates[:, t], cache.hn[t], cache.h[t]
        r, z, n = a
        dr, dz, dn, dhn = work.d
        xp.subtract(h_prev, n, out=dz)                       # h = n + z (h_prev - n)
        dz *= dh
        dhz = xp.multiply(dh, z, out=work.dhz)
        xp.subtract(dh, dhz, out=dn)                         # dn = dh (1 - z)
        tanh_grad_(dn, n)                                    # through tanh
        xp.multiply(dn, r, out=dhn)                          # d(W_hn h + b_hn)
        xp.multiply(dn, hn, out=dr)
        sigmoid_grad_(work.d[:2], a[:2])                     # through sigma for r, z
        xp.copyto(self.gate_blocks(work.dgates[t], 3), work.d[:3])   # [dr | dz | dn]
        dhw = work.dhw[t]                                    # [dr | dz | dhn]
        blocks = self.gate_blocks(dhw, 3)
        xp.copyto(blocks[:2], work.d[:2])
        xp.copyto(blocks[2], dhn)
        dh_prev = dhw @ self.params["W_hh"]                  # through W_hh h_{t-1}
        dh_prev += dhz                                       # and the direct path z h_prev
        return (dh_prev,)
