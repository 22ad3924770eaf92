"""Long short-term memory."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..base import RecurrentCell
from ..ops import sigmoid_, sigmoid_grad_, tanh_, tanh_grad_
from ..registry import register
from ..validation import check_float


@register("lstm")
class LSTM(RecurrentCell):
    r"""Long short-term memory (Hochreiter & Schmidhuber, 1997; forget gate: Gers et al.,
    2000), with PyTorch's ``nn.LSTM`` equations and gate order i, f, g, o.

    .. math::

        \begin{aligned}
        [i_t; f_t; g_t; o_t] &= W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}
            \quad\text{(then σ, σ, tanh, σ blockwise)} \\
        c_t &= f_t \odot c_{t-1} + i_t \odot g_t \\
        h_t &= o_t \odot \tanh(c_t)
        \end{aligned}

    The cell state's step Jacobian :math:`\partial c_t/\partial c_{t-1}` contains
    :math:`\mathrm{diag}(f_t)`: with forget gates near 1 the gradient is carried along c
    almost unchanged (the "constant error carousel").

    Shapes: x (T, B, D), h and c (B, H); W_ih (4H, D), W_hh (4H, H), b_ih and b_hh (4H,).
    Parameters start :math:`\mathcal U(-1/\sqrt H, 1/\sqrt H)` as in PyTorch.

    Options
    -------
    forget_bias : float
        Added to the forget gate's part of ``b_ih`` at initialization (0 = PyTorch's
        init). Gers et al. (2000) and Jozefowicz et al. (2015) start it at 1 or more so
        that f_t starts near 1 and the gradient along c starts out preserved.
    """

    state_names = ("h", "c")
    options = {"forget_bias": 0.0}

    def check_options(self):
        self.forget_bias = check_float(self.forget_bias, "forget_bias")

    def init_params(self, rng):
        D, H = self.input_size, self.hidden_size
        k = 1.0 / np.sqrt(H)
        params = {"W_ih": rng.uniform(-k, k, (4 * H, D)), "W_hh": rng.uniform(-k, k, (4 * H, H)),
                  "b_ih": rng.uniform(-k, k, 4 * H), "b_hh": rng.uniform(-k, k, 4 * H)}
        params["b_ih"][H:2 * H] += self.forget_bias
        return params

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        P, xp = self.params, self.xp
        # the input half of every gate pre-activation, all T steps in one call, gate-major
        # (4, T, B, H): each step adds its recurrent half and applies the gate
        # nonlinearities in place, so afterwards cache.gates[:, t] holds i, f, g, o
        cache.gates = self.project_gates(cache.x, P["W_ih"], P["b_ih"] + P["b_hh"], 4)
        cache.h = self.hidden_buffer(cache, cache.state0[0])
        cache.c = self.hidden_buffer(cache, cache.state0[1])
        cache.tanh_c = xp.empty_like(cache.h[1:])
        cache.recurrent = xp.empty((cache.B, 4 * self.hidden_size), dtype=self.dtype)
        cache.ig = xp.empty_like(cache.h[0])

    def finish_backward(self, cache, work):
        P, dgates = self.params, work.dgates
        db = self.bias_grad(dgates)
        grads = {"W_ih": self.weight_grad(dgates, cache.x),
                 "W_hh": self.weight_grad(dgates, cache.h[:-1]),
                 "b_ih": db, "b_hh": db.copy()}
        return self.input_grad(dgates, P["W_ih"]), grads

    # -------------------------------------------------------- one time step
    def step(self, t, state, cache):
        xp = self.xp
        h_prev, c_prev = state
        a = cache.gates[:, t]                                # (4, B, H)
        xp.matmul(h_prev, self.params["W_hh"].T, out=cache.recurrent)
        a += self.gate_blocks(cache.recurrent, 4)            # + W_hh h_{t-1}
        i, f, g, o = a
        sigmoid_(a[:2])                                      # i, f
        tanh_(g)                                             # g
        sigmoid_(o)                                          # o
        c = xp.multiply(f, c_prev, out=cache.c[t + 1])
        c += xp.multiply(i, g, out=cache.ig)                 # c_t = f c_{t-1} + i g
        tanh_c = xp.tanh(c, out=cache.tanh_c[t])
        h = xp.multiply(o, tanh_c, out=cache.h[t + 1])       # h_t = o tanh(c_t)
        return (h, c)

    def prepare_backward(self, cache):
        xp, H = self.xp, self.hidden_size
        # da: this step's gate gradients, gate-major like cache.gates; dgates: all steps
        # with the gates side by side (T, B, 4H), as the matrix products need them
        return SimpleNamespace(da=xp.empty((4, cache.B, H), dtype=self.dtype),
                               dgates=xp.empty((cache.T, cache.B, 4 * H), dtype=self.dtype))

    def step_backward(self, t, dstate, cache, work):
        xp = self.xp
        dh, dc_next = dstate
        a, tanh_c = cache.gates[:, t], cache.tanh_c[t]
        i, f, g, o = a
        da = work.da
        di, df, dg, do = da
        xp.multiply(dh, tanh_c, out=do)                      # h = o tanh(c)
        dc = dh * o
        tanh_grad_(dc, tanh_c)
        dc += dc_next                                        # + carried along c
        xp.multiply(dc, g, out=di)                           # c = f c_prev + i g
        xp.multiply(dc, i, out=dg)
        xp.multiply(dc, cache.c[t], out=df)
        dc_prev = dc
        dc_prev *= f
        sigmoid_grad_(da[:2], a[:2])                         # through the activations
        tanh_grad_(dg, g)
        sigmoid_grad_(do, o)
        dgates = work.dgates[t]
        xp.copyto(self.gate_blocks(dgates, 4), da)           # side by side, for the GEMMs
        dh_prev = dgates @ self.params["W_hh"]               # through W_hh h_{t-1}
        return (dh_prev, dc_prev)
