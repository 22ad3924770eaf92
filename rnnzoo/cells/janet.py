"""JANET: the forget-gate-only LSTM."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..core.base import RecurrentCell
from ..core.registry import register
from ..core.validation import check_bool, check_float


@register("janet")
class JANET(RecurrentCell):
    r"""JANET, "just another network" (van der Westhuizen & Lasenby, 2018, "The
    unreasonable effectiveness of the forget gate", arXiv:1804.04849): an LSTM with only
    the forget gate, whose input gate is tied to it, and no output gate or tanh on the
    output.

    .. math::

        \begin{aligned}
        s_t &= U_f h_{t-1} + W_f x_t + b_f \\
        \tilde c_t &= \tanh(U_c h_{t-1} + W_c x_t + b_c) \\
        c_t &= \sigma(s_t) \odot c_{t-1} + (1 - \sigma(s_t - \beta)) \odot \tilde c_t \\
        h_t &= c_t
        \end{aligned}

    With :math:`\beta = 0` the input gate is exactly :math:`1 - f_t` (a convex
    combination, as in GRU/MGU); :math:`\beta > 0` lets a little more input in than the
    forget gate lets go. The code uses :math:`1 - \sigma(s - \beta) = \sigma(\beta - s)`,
    which is how the authors' TensorFlow code writes it (``sigmoid(1 - f)``, β = 1).
    Since :math:`h_t = c_t`, the state is the single array h.

    Options
    -------
    beta : float
        β above; 1.0 as in the paper.
    chrono_init : bool
        The chrono initialization (Tallec & Ollivier, 2018) of the forget bias, as in
        the paper: :math:`b_f = \log u`, :math:`u \sim \mathcal U[1, T_{max} - 1]` per
        unit, so each unit starts with a characteristic memory
        :math:`1/(1 - \sigma(b_f)) = 1 + u` between 2 and :math:`T_{max}` steps (the
        authors' code draws :math:`u \sim \mathcal U[1, T_{max}]`). Off:
        :math:`b_f = 1`, the authors' code's non-chrono default.
    t_max : float
        :math:`T_{max}`, the longest dependency expected in the data (the authors use
        the sequence length, e.g. 784 for pixel MNIST). At least 2.

    Notes
    -----
    Parameters and shapes: x (T, B, D), h (B, H);
    ``W`` = [W_f; W_c] (2H, D), ``U`` = [U_f; U_c] (2H, H), ``b`` = [b_f; b_c] (2H,).
    Both gates read h_{t-1} directly, so the recurrent products are one matmul call per
    step (both gates at once), and the input products one call over all steps before
    the loop.

    Initialization, following the authors' code: W and U Glorot-uniform on the stacked
    matrices (TensorFlow's default for their ``W_xh`` (D, 2H) and ``W_hh`` (H, 2H)),
    i.e. :math:`\mathcal U(\pm\sqrt{6/(D + 2H)})` and :math:`\mathcal U(\pm\sqrt{6/(3H)})`;
    :math:`b_c = 0`; b_f as above. b_f is drawn last, so W and U do not depend on
    ``chrono_init``.
    """

    # the blocks of H rows of W, U, b, in order (the self-checks of the step exercises
    # name the gate whose gradient is wrong from this)
    gate_names = ("forget", "candidate")

    options = {"beta": 1.0, "chrono_init": True, "t_max": 100.0}

    def check_options(self):
        self.beta = check_float(self.beta, "beta")
        self.chrono_init = check_bool(self.chrono_init, "chrono_init")
        # b_f = log U[1, t_max - 1] needs t_max - 1 >= 1
        self.t_max = check_float(self.t_max, "t_max", minimum=2.0)

    def init_params(self, rng):
        D, H = self.input_size, self.hidden_size
        kw, ku = np.sqrt(6.0 / (D + 2 * H)), np.sqrt(6.0 / (3 * H))
        W = rng.uniform(-kw, kw, (2 * H, D))
        U = rng.uniform(-ku, ku, (2 * H, H))
        if self.chrono_init:
            b_f = np.log(rng.uniform(1.0, self.t_max - 1.0, H))
        else:
            b_f = np.ones(H)
        return {"W": W, "U": U, "b": np.concatenate([b_f, np.zeros(H)])}

    # Inside forward the gates sit gate-major in the order c~, f, g (g = sigma(beta - s),
    # the input gate), each a contiguous (B, H) block, so the two sigma gates are one
    # block and each step applies sigma, and its backward, with one call each. The f
    # rows of the weights are negated, so s arrives as -s and sigma(s) = 1 / (1 + exp(-s))
    # needs no negation pass; g's 1 / (1 + exp(s - beta)) takes s - beta = -(-s) - beta.
    def _forward(self, x, state0):
        with np.errstate(over="ignore"):          # exp(.) -> inf for . > 88 gives sigma = 0
            return super()._forward(x, state0)

    def _internal(self, a):
        """[f rows; c~ rows] (2H, ...) in parameter order -> a copy [c~ rows; -f rows]."""
        H = self.hidden_size
        return self.xp.concatenate([a[H:], -a[:H]])

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        xp, P, H = self.xp, self.params, self.hidden_size
        T, B, D = cache.x.shape
        # [W_c x_t + b_c; -(W_f x_t + b_f)] for all t in one call (a GEMM per gate) into
        # the first two of three gate-major blocks (3, T, B, H); each step adds its
        # recurrent half, fills in g and activates in place, so afterwards
        # cache.gates[:, t] holds c~, sigma(s), sigma(beta - s)
        cache.gates = xp.empty((3, T, B, H), dtype=self.dtype)
        W = self._internal(P["W"]).reshape(2, H, D).transpose(0, 2, 1)
        xp.matmul(cache.x.reshape(T * B, D), W, out=cache.gates[:2].reshape(2, T * B, H))
        cache.gates[:2] += self._internal(P["b"]).reshape(2, 1, 1, H)
        # [U_c; -U_f] gate-major and transposed (2, H, H): each step's recurrent products
        # come out as two contiguous (B, H) blocks (a GEMM each), added without strides
        cache.U = self._internal(P["U"]).reshape(2, H, H).transpose(0, 2, 1)
        cache.h = self.hidden_buffer(cache, cache.state0[0])
        cache.recurrent = xp.empty((2, B, H), dtype=self.dtype)
        cache.gc = xp.empty_like(cache.h[0])

    def finish_backward(self, cache, work):
        dgates = work.dgates                                 # (T, B, 2H): [ds | dc~ pre-act.]
        grads = {"W": self.weight_grad(dgates, cache.x),
                 "U": self.weight_grad(dgates, cache.h[:-1]),
                 "b": self.bias_grad(dgates)}
        return self.input_grad(dgates, self.params["W"]), grads

    # -------------------------------------------------------- one time step
    def step(self, t, state, cache):
        xp = self.xp
        (c_prev,) = state
        a = cache.gates[:, t]                                # (3, B, H)
        n, f, g = a                                          # c~ pre-activation, -s, scratch
        xp.matmul(c_prev, cache.U, out=cache.recurrent)
        a[:2] += cache.recurrent                             # + [U_c h; -U_f h]
        xp.subtract(-self.beta, f, out=g)                    # s - beta
        sig = a[1:]                                          # f = sigma(s), g = sigma(beta - s)
        xp.exp(sig, out=sig)
        sig += 1.0
        xp.divide(1.0, sig, out=sig)
        xp.tanh(n, out=n)                                    # c~
        c = xp.multiply(f, c_prev, out=cache.h[t + 1])
        c += xp.multiply(g, n, out=cache.gc)                 # c = f c_prev + g c~; h = c
        return (c,)

    def prepare_backward(self, cache):
        xp, B, H = self.xp, cache.B, self.hidden_size
        # d: this step's gradients, gate-major like the gates (c~, s, g); dgates: every
        # step's [ds | dc~] side by side (T, B, 2H), as the matrix products need them
        return SimpleNamespace(d=xp.empty((3, B, H), dtype=self.dtype),
                               tmp=xp.empty((2, B, H), dtype=self.dtype),
                               dc=xp.empty((2, B, H), dtype=self.dtype),
                               dgates=xp.empty((cache.T, B, 2 * H), dtype=self.dtype))

    def step_backward(self, t, dstate, cache, work):
        xp = self.xp
        (dc,) = dstate                                       # h = c, so dL/dc_t = dL/dh_t
        a, c_prev = cache.gates[:, t], cache.h[t]
        n, f, g = a
        d = work.d
        dn, ds, dg = d
        xp.multiply(dc, g, out=dn)                           # c = f c_prev + g c~, c~ side
        xp.multiply(dc, c_prev, out=ds)                      # f side
        xp.multiply(dc, n, out=dg)                           # g side
        sig, dsig = a[1:], d[1:]                             # through sigma: sigma (1 - sigma)
        dsig *= sig
        dsig -= xp.multiply(dsig, sig, out=work.tmp)
        ds -= dg                                             # g = sigma(beta - s): d/ds = -1
        tmp = xp.multiply(n, n, out=work.tmp[0])             # through tanh: 1 - c~^2
        dn -= xp.multiply(dn, tmp, out=tmp)
        dgates = work.dgates[t]                              # side by side, for the GEMMs
        xp.copyto(self.gate_blocks(dgates, 2), d[1::-1])     # (one strided pass: NumPy's
        # elementwise functions are ~3x slower writing into strided views than here)
        dc_prev = xp.matmul(dgates, self.params["U"], out=work.dc[t % 2])   # through U h
        dc_prev += xp.multiply(dc, f, out=work.tmp[0])       # and the direct path f c_prev
        return (dc_prev,)
