"""JANET: the forget-gate-only LSTM."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..base import RecurrentCell
from ..ops import sigmoid_, sigmoid_grad_, tanh_, tanh_grad_
from ..registry import register
from ..validation import check_bool, check_float


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
        unit, so each unit starts with a characteristic memory between 1 and about
        :math:`T_{max}` steps. Off: :math:`b_f = 1`, the authors' code's non-chrono
        default.
    t_max : float
        :math:`T_{max}`, the longest dependency expected in the data (the authors use
        the sequence length, e.g. 784 for pixel MNIST). At least 2.

    Parameters and shapes: x (T, B, D), h (B, H);
    ``W`` = [W_f; W_c] (2H, D), ``U`` = [U_f; U_c] (2H, H), ``b`` = [b_f; b_c] (2H,).
    Both gates read h_{t-1} directly, so the recurrent products are one (B, H) x (H, 2H)
    GEMM per step, and the input products one GEMM over all steps before the loop.

    Initialization, following the authors' code: W and U Glorot-uniform on the stacked
    matrices (TensorFlow's default for their ``W_xh`` (D, 2H) and ``W_hh`` (H, 2H)),
    i.e. :math:`\mathcal U(\pm\sqrt{6/(D + 2H)})` and :math:`\mathcal U(\pm\sqrt{6/(3H)})`;
    :math:`b_c = 0`; b_f as above. b_f is drawn last, so W and U do not depend on
    ``chrono_init``.
    """

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

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        xp = self.xp
        # [W_f x_t + b_f | W_c x_t + b_c] for all t in one GEMM; each step adds
        # [U_f h | U_c h] and activates in place, so afterwards it holds [sigma(s) | c~]
        cache.gates = self.project(cache.x, self.params["W"], self.params["b"])
        cache.g = xp.empty_like(cache.gates[:, :, :self.hidden_size])   # sigma(beta - s_t)
        cache.h = self.hidden_buffer(cache, cache.state0[0])
        cache.recurrent = xp.empty_like(cache.gates[0])
        cache.gc = xp.empty_like(cache.h[0])

    def finish_backward(self, cache, work):
        dgates = work.dgates
        grads = {"W": self.weight_grad(dgates, cache.x),
                 "U": self.weight_grad(dgates, cache.h[:-1]),
                 "b": self.bias_grad(dgates)}
        return self.input_grad(dgates, self.params["W"]), grads

    # -------------------------------------------------------- one time step
    def step(self, t, state, cache):
        xp, H = self.xp, self.hidden_size
        (c_prev,) = state
        a = cache.gates[t]
        xp.matmul(c_prev, self.params["U"].T, out=cache.recurrent)
        a += cache.recurrent                                 # [s | pre-activation of c~]
        s, n = a[:, :H], a[:, H:]
        g = xp.subtract(self.beta, s, out=cache.g[t])
        sigmoid_(g)                                          # g = 1 - sigma(s - beta)
        sigmoid_(s)                                          # f = sigma(s)
        tanh_(n)                                             # c~
        c = xp.multiply(s, c_prev, out=cache.h[t + 1])
        xp.multiply(g, n, out=cache.gc)
        c += cache.gc                                        # c = f c_prev + g c~; h = c
        return (c,)

    def prepare_backward(self, cache):
        return SimpleNamespace(dgates=self.xp.empty_like(cache.gates),
                               tmp=self.xp.empty_like(cache.h[0]))

    def step_backward(self, t, dstate, cache, work):
        xp, H = self.xp, self.hidden_size
        (dc,) = dstate                                       # h = c, so dL/dc_t = dL/dh_t
        a, g, c_prev = cache.gates[t], cache.g[t], cache.h[t]
        f, n = a[:, :H], a[:, H:]
        da = work.dgates[t]
        ds, dn = da[:, :H], da[:, H:]
        xp.multiply(dc, g, out=dn)                           # c = f c_prev + g c~, c~ side
        tanh_grad_(dn, n)                                    # through tanh
        xp.multiply(dc, c_prev, out=ds)                      # f = sigma(s), c_prev side
        sigmoid_grad_(ds, f)                                 # through sigma(s)
        dg = xp.multiply(dc, n, out=work.tmp)                # g = sigma(beta - s), c~ side
        sigmoid_grad_(dg, g)
        ds -= dg                                             # d(beta - s)/ds = -1
        dc_prev = da @ self.params["U"]                      # through [U_f; U_c] h_{t-1}
        dc_prev += dc * f                                    # and the direct path f c_prev
        return (dc_prev,)
