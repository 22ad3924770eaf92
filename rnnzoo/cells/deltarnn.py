"""Delta-RNN, from the Differential State Framework."""
from __future__ import annotations

import numbers
from types import SimpleNamespace

import numpy as np

from ..core.base import RecurrentCell
from ..core.ops import ACTIVATIONS, sigmoid_
from ..core.registry import register


def _identity_(a):
    return a


def _identity_grad_(dy, y):
    return dy


OUTER = {"tanh": ACTIVATIONS["tanh"], "relu": ACTIVATIONS["relu"],
         "identity": (_identity_, _identity_grad_)}


@register("deltarnn")
class DeltaRNN(RecurrentCell):
    r"""The Delta-RNN of Ororbia, Mikolov & Reitter (2017), "Learning Simpler Language
    Models with the Differential State Framework", Neural Computation 29(12),
    arXiv:1703.08864: the full Delta-RNN with the second-order inner function and the
    data-driven gate, without layer normalization.

    .. math::

        \begin{aligned}
        d^1_t &= \alpha \odot V h_{t-1} \odot W x_t, \qquad
        d^2_t = \beta_1 \odot V h_{t-1} + \beta_2 \odot W x_t \\
        z_t &= \tanh(d^1_t + d^2_t + b_z)
            &&\text{inner function: the fast, data-driven proposal} \\
        r_t &= \sigma(W x_t + b_r)
            &&\text{the gate, from the same } W x_t \\
        h_t &= \Phi\big((1 - r_t) \odot z_t + r_t \odot h_{t-1}\big)
            &&\text{outer function: interpolate, keep the slow state}
        \end{aligned}

    The same product W x_t feeds the inner function and the gate, so W gets gradient
    along two paths, dL/d(W x_t) = (α ⊙ V h_{t−1} + β₂) ⊙ dL/d(pre-tanh) + r_t(1 − r_t)
    ⊙ dL/dr_t, and both must be summed before the one GEMM dW = Σ_t dL/d(W x_t) x_tᵀ.
    r_t near 1 keeps h_{t−1}; r_t near 0 rewrites the state with z_t. Along the kept
    path the gradient is scaled by r_t times Φ's derivative per step: with Φ = identity
    and r_t near 1 it passes almost unchanged, as along an LSTM's cell; with the default
    tanh it is also multiplied by 1 − h_t² at every step.

    The authors' two codes differ. Ororbia's Theano ``DeltaRNNLayer`` (followed here)
    has exactly W, V, b_z (its ``b_i``), b_r, α, β₁, β₂ and takes Φ from ``--funtype``;
    Mali's TensorFlow ``DeltaRNNCell`` adds a bias to each of V h and W x, optionally
    layer-normalizes d¹ and d², and defaults Φ to ReLU. Where to find the equations:
    Mali's code comments cite the paper's Eq. 3 for the outer function, Eq. 5 for the
    gate and Eq. 11 for the second-order inner function (we could not check that
    numbering against a copy of the paper; the equations above match both codes).

    Options
    -------
    phi : "tanh" (default), "identity" or "relu"
        Φ. Default tanh: the authors' released training script (``train_drnn100.sh``,
        ``FUNTYPE="tanh"``) uses it, and it keeps h bounded; identity makes the state a
        pure interpolation (the Theano layer's argument default), relu is Mali's default
        (its kink at 0 gets derivative 0; the tests' random points avoid it).
    alpha : float
        The initial value of every entry of α: 2.0, what the paper used on Penn
        Treebank (the Theano layer's default is 1.0; Mali's code uses 2.0).

    Notes
    -----
    Parameters, shapes and initialization: x (T, B, D), h (B, H); W (H, D), V (H, H)
    from N(0, 0.05²) (the Theano code's Gaussian init with the released script's
    ``WGHT_SD=0.05``); α, β₁, β₂ (H,) start at ``alpha``, 1, 1; b_z, b_r (H,) at 0.
    W x_t for all t is one GEMM before the loop, and so is r_t; a step does one
    (B, H) x (H, H) product, V h_{t−1}, and elementwise work.
    """

    options = {"phi": "tanh", "alpha": 2.0}

    def check_options(self):
        if not isinstance(self.phi, str) or self.phi not in OUTER:
            raise ValueError(f"phi must be one of {sorted(OUTER)}; got {self.phi!r}")
        if not isinstance(self.alpha, numbers.Real) or isinstance(self.alpha, bool) \
                or not np.isfinite(self.alpha):
            raise ValueError(f"alpha must be a finite real number (the initial value of "
                             f"every entry of α); got {self.alpha!r}")
        self.alpha = float(self.alpha)           # a plain number, as the other options
        self.phi_, self.phi_grad_ = OUTER[self.phi]

    def init_params(self, rng):
        D, H = self.input_size, self.hidden_size
        return {"W": rng.normal(0.0, 0.05, (H, D)), "V": rng.normal(0.0, 0.05, (H, H)),
                "alpha": np.full(H, float(self.alpha)), "beta1": np.ones(H),
                "beta2": np.ones(H), "b_z": np.zeros(H), "b_r": np.zeros(H)}

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        P, xp = self.params, self.xp
        cache.wx = self.project(cache.x, P["W"])             # W x_t, every t, one GEMM
        cache.r = sigmoid_(cache.wx + P["b_r"])              # r_t needs no h: all t at once
        # beta2 W x_t + b_z, the part of the inner pre-activation that needs no h
        cache.z = cache.wx * P["beta2"]
        cache.z += P["b_z"]                                  # (in place: no T*B*H temporary)
        # alpha W x_t + beta1, what V h_{t-1} is multiplied by in d1 + d2 (backward too)
        cache.c = cache.wx * P["alpha"]
        cache.c += P["beta1"]
        cache.vh = xp.empty_like(cache.wx)                   # V h_{t-1}, kept for backward
        cache.h = self.hidden_buffer(cache, cache.state0[0])
        cache.V_T = P["V"].T
        cache.tmp = xp.empty_like(cache.h[0])

    def finish_backward(self, cache, work):
        P, xp, dz, wx, vh = self.params, self.xp, work.dz, cache.wx, cache.vh
        grads = {"V": self.weight_grad(work.dvh, cache.h[:-1]),
                 "b_z": self.bias_grad(dz), "b_r": self.bias_grad(work.dr)}
        # the sums below reuse dvh (no longer needed) as scratch: no (T, B, H) temporaries
        prod = xp.multiply(dz, wx, out=work.dvh)
        grads["beta2"] = prod.sum(axis=(0, 1))               # d2 = ... + beta2 Wx
        prod *= vh
        grads["alpha"] = prod.sum(axis=(0, 1))               # d1 = alpha Vh Wx
        dz_vh = xp.multiply(dz, vh, out=prod)
        grads["beta1"] = dz_vh.sum(axis=(0, 1))              # d2 = beta1 Vh + ...
        dwx = work.dr                                        # W x_t in the gate ...
        dwx += xp.multiply(dz_vh, P["alpha"], out=dz_vh)     # ... in d1 ...
        dwx += xp.multiply(dz, P["beta2"], out=dz_vh)        # ... and in d2: 3 paths
        grads["W"] = self.weight_grad(dwx, cache.x)
        return self.input_grad(dwx, P["W"]), {k: grads[k] for k in P}

    # -------------------------------------------------------- one time step
    def step(self, t, state, cache):
        xp = self.xp
        (h_prev,) = state
        vh = xp.matmul(h_prev, cache.V_T, out=cache.vh[t])   # V h_{t-1}
        z = cache.z[t]                                       # holds beta2 Wx + b_z
        z += xp.multiply(vh, cache.c[t], out=cache.tmp)      # + (alpha Wx + beta1) Vh
        xp.tanh(z, out=z)                                    # z_t
        h = xp.subtract(h_prev, z, out=cache.h[t + 1])
        h *= cache.r[t]
        h += z                                               # o = (1 - r) z + r h_prev
        self.phi_(h)                                         # h_t = Phi(o)
        return (h,)

    def prepare_backward(self, cache):
        xp = self.xp
        step = cache.wx[0]
        return SimpleNamespace(dz=xp.empty_like(cache.wx), dr=xp.empty_like(cache.wx),
                               dvh=xp.empty_like(cache.wx), do=xp.empty_like(step),
                               do_r=xp.empty_like(step), tmp=xp.empty_like(step),
                               dh=xp.empty((2,) + step.shape, dtype=self.dtype))

    def step_backward(self, t, dstate, cache, work):
        xp, P = self.xp, self.params
        (dh,) = dstate
        z, r, h_prev = cache.z[t], cache.r[t], cache.h[t]
        do = work.do
        xp.copyto(do, dh)
        self.phi_grad_(do, cache.h[t + 1])                   # h = Phi(o)
        one_minus_r = xp.subtract(1.0, r, out=work.tmp)
        dz = xp.multiply(do, one_minus_r, out=work.dz[t])    # o = (1 - r) z + ..., z side
        do_r = xp.multiply(do, r, out=work.do_r)             # o = ... + r h_prev, h side
        dr = xp.subtract(h_prev, z, out=work.dr[t])          # o = z + r (h_prev - z)
        dr *= do_r
        dr *= one_minus_r                                    # r = sigma(Wx + b_r)
        dz_z2 = xp.multiply(z, z, out=work.tmp)
        dz -= xp.multiply(dz_z2, dz, out=dz_z2)              # z = tanh(...): (1 - z^2)
        dvh = xp.multiply(cache.c[t], dz, out=work.dvh[t])   # d1 + d2, V h side
        dh_prev = xp.matmul(dvh, P["V"], out=work.dh[t % 2])  # through V h_{t-1}
        dh_prev += do_r                                      # and the kept r h_prev
        return (dh_prev,)
