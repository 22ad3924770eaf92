"""Minimal gated unit."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..base import RecurrentCell
from ..ops import sigmoid_, sigmoid_grad_, tanh_, tanh_grad_
from ..registry import register


@register("mgu")
class MGU(RecurrentCell):
    r"""Minimal gated unit (Zhou, Wu, Zhang & Zhou, 2016, "Minimal Gated Unit for
    Recurrent Neural Networks", International Journal of Automation and Computing 13(3);
    arXiv:1603.09420): a GRU whose reset and update gates are one gate, f.

    .. math::

        \begin{aligned}
        f_t &= \sigma(W_f x_t + U_f h_{t-1} + b_f) \\
        \tilde h_t &= \tanh(W_h x_t + U_h (f_t \odot h_{t-1}) + b_h) \\
        h_t &= (1 - f_t) \odot h_{t-1} + f_t \odot \tilde h_t
        \end{aligned}

    The paper writes :math:`W_f [h_{t-1}, x_t]` with one matrix on the concatenation;
    :math:`W_f x_t + U_f h_{t-1}` is the same product split in two. Note the convention:
    f_t near 0 *keeps* the old state (it plays the role of GRU's :math:`1 - z`), and
    the same f_t also gates what of :math:`h_{t-1}` the candidate sees (GRU's r).

    Parameters and shapes: x (T, B, D), h (B, H);
    ``W`` = [W_f; W_h] (2H, D), ``U_f`` (H, H), ``U_h`` (H, H), ``b`` = [b_f; b_h] (2H,).
    The two input products are stacked so that all of them, for every step, are one
    matrix product before the time loop. The recurrent ones cannot be stacked: U_h acts
    on :math:`f_t \odot h_{t-1}`, which needs f_t, which needs :math:`U_f h_{t-1}`, so
    each step does two (B, H) x (H, H) products in sequence.

    Parameter count: 2H(D + H) weights + 2H biases, i.e. 2/3 of GRU's 3H(D + H)
    weights (GRU, with PyTorch's two bias vectors, also has 6H biases to MGU's 2H).

    Initialization: every parameter :math:`\mathcal U(-1/\sqrt H, 1/\sqrt H)`, like
    PyTorch's ``nn.GRU``. The paper does not prescribe an initialization that this
    implementation could follow.
    """

    def init_params(self, rng):
        D, H = self.input_size, self.hidden_size
        k = 1.0 / np.sqrt(H)
        return {"W": rng.uniform(-k, k, (2 * H, D)),
                "U_f": rng.uniform(-k, k, (H, H)), "U_h": rng.uniform(-k, k, (H, H)),
                "b": rng.uniform(-k, k, 2 * H)}

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        xp = self.xp
        # [W_f x_t + b_f | W_h x_t + b_h] for all t in one GEMM; each step adds its
        # recurrent products and activates in place, so afterwards it holds [f | h~]
        cache.gates = self.project(cache.x, self.params["W"], self.params["b"])
        cache.fh = xp.empty_like(cache.gates[:, :, :self.hidden_size])   # f_t * h_{t-1}
        cache.h = self.hidden_buffer(cache, cache.state0[0])
        cache.recurrent = xp.empty_like(cache.h[0])

    def finish_backward(self, cache, work):
        H, dgates = self.hidden_size, work.dgates
        grads = {"W": self.weight_grad(dgates, cache.x),
                 "U_f": self.weight_grad(dgates[:, :, :H], cache.h[:-1]),
                 "U_h": self.weight_grad(dgates[:, :, H:], cache.fh),
                 "b": self.bias_grad(dgates)}
        return self.input_grad(dgates, self.params["W"]), grads

    # -------------------------------------------------------- one time step
    def step(self, t, state, cache):
        xp, H, P = self.xp, self.hidden_size, self.params
        (h_prev,) = state
        a = cache.gates[t]
        f, n = a[:, :H], a[:, H:]
        xp.matmul(h_prev, P["U_f"].T, out=cache.recurrent)
        f += cache.recurrent
        sigmoid_(f)                                          # f = sigma(W_f x + U_f h + b_f)
        fh = xp.multiply(f, h_prev, out=cache.fh[t])
        xp.matmul(fh, P["U_h"].T, out=cache.recurrent)
        n += cache.recurrent
        tanh_(n)                                             # h~ = tanh(W_h x + U_h (f h) + b_h)
        h = xp.subtract(n, h_prev, out=cache.h[t + 1])
        h *= f
        h += h_prev                                          # h = h_prev + f (h~ - h_prev)
        return (h,)

    def prepare_backward(self, cache):
        return SimpleNamespace(dgates=self.xp.empty_like(cache.gates),
                               dfh=self.xp.empty_like(cache.h[0]))

    def step_backward(self, t, dstate, cache, work):
        xp, H, P = self.xp, self.hidden_size, self.params
        (dh,) = dstate
        a, h_prev = cache.gates[t], cache.h[t]
        f, n = a[:, :H], a[:, H:]
        da = work.dgates[t]
        df, dn = da[:, :H], da[:, H:]
        xp.subtract(n, h_prev, out=df)                       # h = h_prev + f (h~ - h_prev)
        df *= dh
        xp.multiply(dh, f, out=dn)
        tanh_grad_(dn, n)                                    # through tanh: d(pre-activation of h~)
        dfh = xp.matmul(dn, P["U_h"], out=work.dfh)          # through U_h (f h_prev)
        dh_prev = dfh * f                                    # f h_prev, h_prev side
        dfh *= h_prev
        df += dfh                                            # f h_prev, f side
        sigmoid_grad_(df, f)                                 # through sigma
        dh_prev += df @ P["U_f"]                             # through U_f h_prev
        dh_prev += dh                                        # the direct path (1 - f) h_prev
        dh_prev -= dh * f
        return (dh_prev,)
