"""Gated recurrent unit."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..core.base import RecurrentCell
from ..core.registry import register


@register("gru")
class GRU(RecurrentCell):
    r"""Gated recurrent unit (Cho et al., 2014), with PyTorch's ``nn.GRU`` equations:
    gate order r, z, n, and the reset gate applied *after* the recurrent product. Cho et
    al. apply it before, :math:`\tilde h_t = \tanh(W x_t + U (r_t \odot h_{t-1}))`: a
    different function, so weights do not carry over between the two.

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

    # the blocks of H rows of W_ih, W_hh, b_ih, b_hh, in parameter order (the self-checks
    # of the step exercises name the gate whose gradient is wrong from this)
    gate_names = ("reset", "update", "candidate")

    def init_params(self, rng):
        D, H = self.input_size, self.hidden_size
        k = 1.0 / np.sqrt(H)
        return {"W_ih": rng.uniform(-k, k, (3 * H, D)), "W_hh": rng.uniform(-k, k, (3 * H, H)),
                "b_ih": rng.uniform(-k, k, 3 * H), "b_hh": rng.uniform(-k, k, 3 * H)}

    # Inside forward the r and z rows of every weight and bias are negated, so their
    # pre-activations arrive as -a and sigma(a) = 1 / (1 + exp(-a)) is exp, +1,
    # reciprocal in place with no negation pass (n's rows keep their sign).
    def _forward(self, x, state0):
        with np.errstate(over="ignore"):          # exp(-a) -> inf for a < -88 gives sigma = 0
            return super()._forward(x, state0)

    def _negate_rz(self, a):
        """A copy of ``a`` (3H, ...) = [r rows; z rows; n rows] with r's and z's negated."""
        out = a.copy()
        out[:2 * self.hidden_size] *= -1.0
        return out

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        P, xp, H = self.params, self.xp, self.hidden_size
        # input halves W_i{r,z,n} x_t + b_i{r,z,n} for all t in one call, gate-major
        # (3, T, B, H), r and z negated, with b_hr and b_hz folded in (they add the same
        # way; b_hn sits inside r (W_hn h + b_hn) and cannot); each step activates its
        # gates in place, so afterwards cache.gates[:, t] holds r, z, n
        b = P["b_ih"].copy()
        b[:2 * H] += P["b_hh"][:2 * H]
        cache.gates = self.project_gates(cache.x, self._negate_rz(P["W_ih"]),
                                         self._negate_rz(b), 3)
        # W_hh gate-major and transposed (3, H, H): each step's recurrent products come out
        # as three contiguous (B, H) blocks (a GEMM each), added without strides
        cache.W_hh = self._negate_rz(P["W_hh"]).reshape(3, H, H).transpose(0, 2, 1)
        cache.b_hn = P["b_hh"][2 * H:]
        cache.hn = xp.empty((cache.T, cache.B, H), dtype=self.dtype)  # W_hn h_{t-1} + b_hn
        cache.hw = xp.empty((3, cache.B, H), dtype=self.dtype)      # scratch: W_hh h_{t-1}
        cache.rhn = xp.empty((cache.B, H), dtype=self.dtype)         # scratch: r hn
        cache.h = self.hidden_buffer(cache, cache.state0[0])

    def finish_backward(self, cache, work):
        xp, H = self.xp, self.hidden_size
        d_in, d_rec = work.dall[:, :, :3 * H], work.dall[:, :, H:]   # see prepare_backward

        def rzn(grad):                              # (3H, ...) from the order n, r, z to r, z, n
            return xp.concatenate([grad[H:], grad[:H]])
        grads = {"W_ih": rzn(self.weight_grad(d_in, cache.x)),
                 "W_hh": self.weight_grad(d_rec, cache.h[:-1]),
                 "b_ih": rzn(self.bias_grad(d_in)), "b_hh": self.bias_grad(d_rec)}
        return self.input_grad(d_in, work.W_ih), grads

    # -------------------------------------------------------- one time step
    def step(self, t, state, cache):
        xp = self.xp
        (h_prev,) = state
        a = cache.gates[:, t]                                # (3, B, H): -r, -z, n pre-act.
        r, z, n = a
        hw = xp.matmul(h_prev, cache.W_hh, out=cache.hw)     # -W_hr h, -W_hz h, W_hn h
        sig = a[:2]
        sig += hw[:2]                                        # r, z pre-activations (negated)
        xp.exp(sig, out=sig)
        sig += 1.0
        xp.divide(1.0, sig, out=sig)                         # r, z = sigma(.)
        hn = xp.add(hw[2], cache.b_hn, out=cache.hn[t])
        n += xp.multiply(r, hn, out=cache.rhn)
        xp.tanh(n, out=n)                                    # n = tanh(.. + r (W_hn h + b_hn))
        h = xp.subtract(h_prev, n, out=cache.h[t + 1])
        h *= z
        h += n                                               # h = (1 - z) n + z h_prev
        return (h,)

    def prepare_backward(self, cache):
        xp, P, H, T, B = self.xp, self.params, self.hidden_size, cache.T, cache.B
        # d: this step's dn, dr, dz and d(W_hn h + b_hn), gate-major; dall: every step's
        # side by side (T, B, 4H). Its first three blocks are the input half's gradient
        # (W_ih x + b_ih in the order n, r, z), its last three the recurrent half's
        # (W_hh h + b_hh in the order r, z, n): r and z get the same gradient through both,
        # so each half is one slice of dall and each matrix product one GEMM
        W_ih = xp.concatenate([P["W_ih"][2 * H:], P["W_ih"][:2 * H]])   # order n, r, z
        return SimpleNamespace(d=xp.empty((4, B, H), dtype=self.dtype), W_ih=W_ih,
                               tmp=xp.empty((2, B, H), dtype=self.dtype),
                               dhz=xp.empty((B, H), dtype=self.dtype),
                               dh=xp.empty((2, B, H), dtype=self.dtype),
                               dall=xp.empty((T, B, 4 * H), dtype=self.dtype))

    def step_backward(self, t, dstate, cache, work):
        xp, H = self.xp, self.hidden_size
        (dh,) = dstate
        a, hn, h_prev = cache.gates[:, t], cache.hn[t], cache.h[t]
        r, z, n = a
        dn, dr, dz, dhn = work.d
        xp.subtract(h_prev, n, out=dz)                       # h = n + z (h_prev - n)
        dz *= dh
        dhz = xp.multiply(dh, z, out=work.dhz)
        xp.subtract(dh, dhz, out=dn)                         # dn = dh (1 - z)
        tmp = xp.multiply(n, n, out=work.tmp[0])             # through tanh: 1 - n^2
        dn -= xp.multiply(dn, tmp, out=tmp)
        xp.multiply(dn, r, out=dhn)                          # d(W_hn h + b_hn)
        xp.multiply(dn, hn, out=dr)
        sig, dsig = a[:2], work.d[1:3]                       # through sigma for r, z
        dsig *= sig
        dsig -= xp.multiply(dsig, sig, out=work.tmp)
        dall = work.dall[t]                                  # [dn | dr | dz | dhn] side by side
        xp.copyto(self.gate_blocks(dall, 4), work.d)         # (one strided pass, for the GEMMs)
        dh_prev = xp.matmul(dall[:, H:], self.params["W_hh"], out=work.dh[t % 2])  # W_hh h
        dh_prev += dhz                                       # and the direct path z h_prev
        return (dh_prev,)
