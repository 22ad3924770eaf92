"""Long short-term memory."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..core.base import RecurrentCell
from ..core.registry import register
from ..core.validation import check_float


@register("lstm")
class LSTM(RecurrentCell):
    r"""Long short-term memory (Hochreiter & Schmidhuber, 1997; forget gate: Gers et al.,
    2000), with PyTorch's ``nn.LSTM`` equations and gate order i, f, g, o.

    .. math::

        \begin{aligned}
        {[i_t; f_t; g_t; o_t]} &= W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}
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
    forget_bias : float, default 1.0
        Added to the forget gate's part of ``b_ih`` at initialization, so f_t starts
        near σ(1) ≈ 0.73 instead of σ(0) = 0.5 and the cell state, and the gradient
        along it, start out carried over many steps instead of halved at every one. 1 is
        the standard LSTM: Gers et al. (2000) start the forget gate open, Jozefowicz et
        al. (2015) found a forget bias of 1 closes most of the gap to the GRU, and Keras
        does it by default (``unit_forget_bias=True``). ``forget_bias=0.0`` gives
        PyTorch's ``nn.LSTM`` initialization (the figures that show it label it "lstm
        (forget bias 0)"). Converting to and from PyTorch copies the weights, so it does
        not depend on this option.
    """

    state_names = ("h", "c")
    # the blocks of H rows of W_ih, W_hh, b_ih, b_hh, in parameter order (the self-checks
    # of the step exercises name the gate whose gradient is wrong from this)
    gate_names = ("input", "forget", "cell", "output")
    options = {"forget_bias": 1.0}

    def check_options(self):
        self.forget_bias = check_float(self.forget_bias, "forget_bias")

    def init_params(self, rng):
        D, H = self.input_size, self.hidden_size
        k = 1.0 / np.sqrt(H)
        params = {"W_ih": rng.uniform(-k, k, (4 * H, D)), "W_hh": rng.uniform(-k, k, (4 * H, H)),
                  "b_ih": rng.uniform(-k, k, 4 * H), "b_hh": rng.uniform(-k, k, 4 * H)}
        params["b_ih"][H:2 * H] += self.forget_bias
        return params

    # Inside forward and backward the gates sit in the order i, f, o, g (ORDER picks
    # them from the parameters' i, f, g, o), so that the three sigmoid gates form one
    # contiguous block and each step applies σ, and its backward, with one call each.
    # The forward also negates the σ gates' weights and biases, so a step's
    # pre-activations arrive as -z and σ(z) = 1 / (1 + exp(-z)) needs no negation pass.
    ORDER = (0, 1, 3, 2)

    def _gate_major(self, W, negate=False):
        """(4H, K) in parameter order -> a (4, H, K) copy in the internal order i, f, o, g,
        the σ gates negated if ``negate``. Slices and one stack, no index arrays, so on
        CuPy nothing crosses from the host."""
        W4 = W.reshape(4, self.hidden_size, -1)
        out = self.xp.stack([W4[k] for k in self.ORDER])
        if negate:
            out[:3] *= -1.0
        return out

    def _forward(self, x, state0):
        with np.errstate(over="ignore"):          # exp(-z) -> inf for z < -88 gives σ = 0
            return super()._forward(x, state0)

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        P, xp, H = self.params, self.xp, self.hidden_size
        W_ih = self._gate_major(P["W_ih"], negate=True)                  # (4, H, D)
        b = self._gate_major((P["b_ih"] + P["b_hh"])[:, None], negate=True)   # (4, H, 1)
        # the input half of every pre-activation (-z for i, f, o), all T steps in one
        # call, gate-major (4, T, B, H): each step adds its recurrent half and applies the
        # nonlinearities in place, so afterwards cache.gates[:, t] holds i, f, o, g
        cache.gates = self.project_gates(cache.x, W_ih.reshape(4 * H, -1), b.reshape(-1), 4)
        cache.W_hh = self._gate_major(P["W_hh"], negate=True).reshape(4 * H, H).T  # (H, 4H)
        cache.h = self.hidden_buffer(cache, cache.state0[0])
        cache.c = self.hidden_buffer(cache, cache.state0[1])
        cache.tanh_c = xp.empty_like(cache.h[1:])
        cache.recurrent = xp.empty((cache.B, 4 * H), dtype=self.dtype)
        cache.ig = xp.empty_like(cache.h[0])

    def finish_backward(self, cache, work):
        H, dgates = self.hidden_size, work.dgates             # (T, B, 4H), order i, f, o, g

        def params_order(grad):                               # (4H, ...) back to i, f, g, o
            return self._gate_major(grad).reshape(grad.shape)  # (ORDER is its own inverse)
        db = params_order(self.bias_grad(dgates))
        grads = {"W_ih": params_order(self.weight_grad(dgates, cache.x)),
                 "W_hh": params_order(self.weight_grad(dgates, cache.h[:-1])),
                 "b_ih": db, "b_hh": db.copy()}
        W_ih = self._gate_major(self.params["W_ih"]).reshape(4 * H, -1)
        return self.input_grad(dgates, W_ih), grads

    # -------------------------------------------------------- one time step
    def step(self, t, state, cache):
        xp = self.xp
        h_prev, c_prev = state
        a = cache.gates[:, t]                                # (4, B, H): -z_i, -z_f, -z_o, z_g
        xp.matmul(h_prev, cache.W_hh, out=cache.recurrent)
        a += self.gate_blocks(cache.recurrent, 4)            # + W_hh h_{t-1}
        i, f, o, g = a
        sig = a[:3]                                          # σ(z) = 1 / (1 + exp(-z))
        xp.exp(sig, out=sig)
        sig += 1.0
        xp.divide(1.0, sig, out=sig)                         # i, f, o
        xp.tanh(g, out=g)                                    # g
        c = xp.multiply(f, c_prev, out=cache.c[t + 1])
        c += xp.multiply(i, g, out=cache.ig)                 # c_t = f c_{t-1} + i g
        tanh_c = xp.tanh(c, out=cache.tanh_c[t])
        h = xp.multiply(o, tanh_c, out=cache.h[t + 1])       # h_t = o tanh(c_t)
        return (h, c)

    def prepare_backward(self, cache):
        xp, H, B = self.xp, self.hidden_size, cache.B
        # da: scratch, gate-major; dc: two (B, H) buffers taking turns (one step's dc_prev
        # is the next step's dc_next); dgates: every step's gate gradients side by side
        # (T, B, 4H) in the order i, f, o, g, as the matrix products need them
        W_hh = self._gate_major(self.params["W_hh"]).reshape(4 * H, H)
        return SimpleNamespace(da=xp.empty((4, B, H), dtype=self.dtype), W_hh=W_hh,
                               tmp=xp.empty((3, B, H), dtype=self.dtype),
                               dc=xp.empty((2, B, H), dtype=self.dtype),
                               dgates=xp.empty((cache.T, B, 4 * H), dtype=self.dtype))

    def step_backward(self, t, dstate, cache, work):
        xp = self.xp
        dh, dc_next = dstate
        a, tanh_c = cache.gates[:, t], cache.tanh_c[t]
        i, f, o, g = a
        da = work.da
        di, df, do, dg = da
        xp.multiply(dh, tanh_c, out=do)                      # h = o tanh(c)
        dc = xp.multiply(dh, o, out=work.dc[t % 2])
        tmp = xp.multiply(tanh_c, tanh_c, out=dg)            # (dg is free until below)
        dc -= xp.multiply(dc, tmp, out=tmp)                  # through tanh(c): (1 - tanh²)
        dc += dc_next                                        # + carried along c
        xp.multiply(dc, g, out=di)                           # c = f c_prev + i g
        xp.multiply(dc, cache.c[t], out=df)
        xp.multiply(dc, i, out=dg)
        dc *= f                                              # dc_prev
        sig, dsig = a[:3], da[:3]                            # through σ: σ (1 - σ)
        dsig *= sig
        dsig -= xp.multiply(dsig, sig, out=work.tmp)
        tmp = xp.multiply(g, g, out=work.tmp[0])             # through tanh(g): 1 - g²
        dg -= xp.multiply(dg, tmp, out=tmp)
        dgates = work.dgates[t]                              # side by side, for the GEMMs
        xp.copyto(self.gate_blocks(dgates, 4), da)           # (one strided pass: NumPy's
        # elementwise functions are ~3x slower writing into strided views than here)
        dh_prev = dgates @ work.W_hh                         # through W_hh h_{t-1}
        return (dh_prev, dc)
