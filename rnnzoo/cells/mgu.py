"""Minimal gated unit."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..core.base import RecurrentCell
from ..core.registry import register


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

    # the blocks of H rows of W, b, in order (the self-checks of the step exercises
    # name the gate whose gradient is wrong from this)
    gate_names = ("forget", "candidate")

    def init_params(self, rng):
        D, H = self.input_size, self.hidden_size
        k = 1.0 / np.sqrt(H)
        return {"W": rng.uniform(-k, k, (2 * H, D)),
                "U_f": rng.uniform(-k, k, (H, H)), "U_h": rng.uniform(-k, k, (H, H)),
                "b": rng.uniform(-k, k, 2 * H)}

    # Inside forward the f gate's input weights and bias are negated (W_f, b_f -> -W_f,
    # -b_f) and U_f h_{t-1} is subtracted, so its pre-activation arrives as -a and
    # sigma(a) = 1 / (1 + exp(-a)) is exp, +1, reciprocal in place with no negation pass.
    def _forward(self, x, state0):
        with np.errstate(over="ignore"):          # exp(-a) -> inf for a < -88 gives f = 0
            return super()._forward(x, state0)

    def _negate_f(self, a):
        """A copy of ``a`` (2H, ...) = [f rows; h~ rows] with the f rows negated."""
        out = a.copy()
        out[:self.hidden_size] *= -1.0
        return out

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        xp, P = self.xp, self.params
        # [-(W_f x_t + b_f); W_h x_t + b_h] for all t in one call, gate-major (2, T, B, H)
        # so each gate is a contiguous (B, H) block; each step adds its recurrent
        # products and activates in place, so afterwards cache.gates[:, t] holds f, h~
        cache.gates = self.project_gates(cache.x, self._negate_f(P["W"]),
                                         self._negate_f(P["b"]), 2)
        cache.fh = xp.empty_like(cache.gates[0, 0])        # scratch: f_t * h_{t-1}
        cache.h = self.hidden_buffer(cache, cache.state0[0])
        cache.recurrent = xp.empty_like(cache.h[0])

    def finish_backward(self, cache, work):
        xp, H, D = self.xp, self.hidden_size, self.input_size
        T, B = cache.T, cache.B
        dgates = work.dgates.reshape(2, T * B, H)           # gate-major: [df; dh~ pre-act.]
        W = self.params["W"].reshape(2, H, D)
        dW = xp.matmul(dgates.transpose(0, 2, 1), cache.x.reshape(T * B, D))   # a GEMM per gate
        grads = {"W": dW.reshape(2 * H, D),
                 "U_f": self.weight_grad(work.dgates[0], cache.h[:-1]),
                 # f_t h_{t-1} for all t in one pass here rather than kept by forward:
                 # a smaller cache, and a forward that allocates (T, B, H) less
                 "U_h": self.weight_grad(work.dgates[1], cache.gates[0] * cache.h[:-1]),
                 "b": dgates.sum(axis=1).reshape(2 * H)}
        dx = dgates[0] @ W[0]                               # through W_f x_t
        dx += dgates[1] @ W[1]                              # through W_h x_t
        return dx.reshape(T, B, D), grads

    # -------------------------------------------------------- one time step
    def step(self, t, state, cache):
        xp, P = self.xp, self.params
        (h_prev,) = state
        f, n = cache.gates[:, t]                             # -(W_f x + b_f), W_h x + b_h
        f -= xp.matmul(h_prev, P["U_f"].T, out=cache.recurrent)   # -(.. + U_f h_prev)
        xp.exp(f, out=f)
        f += 1.0
        xp.divide(1.0, f, out=f)                             # f = sigma(W_f x + U_f h + b_f)
        fh = xp.multiply(f, h_prev, out=cache.fh)
        n += xp.matmul(fh, P["U_h"].T, out=cache.recurrent)
        xp.tanh(n, out=n)                                    # h~ = tanh(W_h x + U_h (f h) + b_h)
        h = xp.subtract(n, h_prev, out=cache.h[t + 1])
        h *= f
        h += h_prev                                          # h = h_prev + f (h~ - h_prev)
        return (h,)

    def prepare_backward(self, cache):
        xp = self.xp
        # dgates: every step's [df; dh~] pre-activation gradients, gate-major like the
        # forward's gates, so every elementwise call below is on contiguous blocks
        return SimpleNamespace(dgates=xp.empty_like(cache.gates),
                               dfh=xp.empty_like(cache.h[0]), tmp=xp.empty_like(cache.h[0]),
                               dh=xp.empty((2,) + cache.h[0].shape, dtype=self.dtype))

    def step_backward(self, t, dstate, cache, work):
        xp, P = self.xp, self.params
        (dh,) = dstate
        (f, n), h_prev = cache.gates[:, t], cache.h[t]
        df, dn = work.dgates[:, t]
        tmp = work.tmp
        xp.subtract(n, h_prev, out=df)                       # h = h_prev + f (h~ - h_prev)
        df *= dh
        xp.multiply(dh, f, out=dn)
        xp.multiply(n, n, out=tmp)                           # through tanh: 1 - h~^2
        dn -= xp.multiply(dn, tmp, out=tmp)
        dfh = xp.matmul(dn, P["U_h"], out=work.dfh)          # through U_h (f h_prev)
        dh_prev = xp.subtract(dfh, dh, out=work.dh[t % 2])   # f h_prev, h_prev side, and
        dh_prev *= f                                         # the direct path (1 - f) h_prev:
        dh_prev += dh                                        # f dfh + (1 - f) dh
        dfh *= h_prev
        df += dfh                                            # f h_prev, f side
        df *= f                                              # through sigma: f (1 - f)
        df -= xp.multiply(df, f, out=tmp)
        dh_prev += xp.matmul(df, P["U_f"], out=tmp)          # through U_f h_prev
        return (dh_prev,)
