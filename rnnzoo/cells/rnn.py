"""Elman (vanilla) RNN, and the IRNN as an initialization of it."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..core.base import RecurrentCell
from ..core.ops import ACTIVATIONS
from ..core.registry import register
from ..core.validation import check_bool, check_choice, check_float


@register("rnn")
class ElmanRNN(RecurrentCell):
    r"""Vanilla recurrent network (Elman, 1990), with PyTorch's ``nn.RNN`` equations.

    .. math::

        h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}),
        \qquad \phi \in \{\tanh, \mathrm{relu}\}

    The step Jacobian is :math:`\partial h_t / \partial h_{t-1} = \mathrm{diag}(\phi'_t)
    W_{hh}`, so dL/dh_t is multiplied by one of them per step on its way back: it
    shrinks or grows geometrically with the singular values of :math:`W_{hh}` (Bengio et
    al., 1994; Pascanu et al., 2013).

    Options
    -------
    nonlinearity : "tanh" (default) or "relu"
    identity_init : bool
        The IRNN of Le, Jaitly & Hinton (2015), "A Simple Way to Initialize Recurrent
        Networks of Rectified Linear Units": :math:`W_{hh} = s I`, zero biases, and
        :math:`W_{ih} \sim \mathcal N(0, 0.001^2)`. Use with ``nonlinearity="relu"``.
        Otherwise every parameter is :math:`\mathcal U(-1/\sqrt H, 1/\sqrt H)` like PyTorch.
    identity_scale : float
        s above (1.0 in the paper).
    spectral_radius : float or None
        If given, W_hh is rescaled at initialization so that its largest eigenvalue
        modulus is this value (as echo-state networks are initialized, Jaeger 2001). Above
        1 a linear recurrence would blow up. With tanh (:math:`|\tanh'| \le 1`), what is
        *necessary, not sufficient* for exploding gradients is a singular value of W_hh
        above 1 (Pascanu, Mikolov & Bengio, 2013); the spectral radius is at most the
        largest singular value, so a radius above 1 implies that condition but not the
        growth.
        Notebook 01 shows both.

    Notes
    -----
    Shapes: x (T, B, D), h (B, H); W_ih (H, D), W_hh (H, H), b_ih (H,), b_hh (H,).
    """

    options = {"nonlinearity": "tanh", "identity_init": False, "identity_scale": 1.0,
               "spectral_radius": None}

    def check_options(self):
        self.nonlinearity = check_choice(self.nonlinearity, "nonlinearity", ("tanh", "relu"))
        self.identity_init = check_bool(self.identity_init, "identity_init")
        self.identity_scale = check_float(self.identity_scale, "identity_scale")
        self.phi_, self.phi_grad_ = ACTIVATIONS[self.nonlinearity]
        rho = self.spectral_radius
        if rho is not None and (isinstance(rho, bool) or not isinstance(rho, (int, float,
                                np.integer, np.floating)) or not np.isfinite(rho) or rho <= 0):
            raise ValueError(f"spectral_radius must be None or a positive finite number; "
                             f"got {rho!r}")
        self.spectral_radius = None if rho is None else float(rho)   # a plain number, as
        # the other options (a checkpoint writes np.float32(0.1) as 0.10000000149011612)
        if rho is not None and self.identity_init:
            raise ValueError("spectral_radius and identity_init both set W_hh; with "
                             "identity_init use identity_scale for its radius")

    def init_params(self, rng):
        D, H = self.input_size, self.hidden_size
        if self.identity_init:
            return {"W_ih": rng.normal(0.0, 0.001, (H, D)),
                    "W_hh": self.identity_scale * np.eye(H),
                    "b_ih": np.zeros(H), "b_hh": np.zeros(H)}
        k = 1.0 / np.sqrt(H)
        params = {"W_ih": rng.uniform(-k, k, (H, D)), "W_hh": rng.uniform(-k, k, (H, H)),
                  "b_ih": rng.uniform(-k, k, H), "b_hh": rng.uniform(-k, k, H)}
        if self.spectral_radius is not None:
            W = params["W_hh"]
            W *= float(self.spectral_radius) / np.max(np.abs(np.linalg.eigvals(W)))
        return params

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        P = self.params
        cache.h = self.hidden_buffer(cache, cache.state0[0])
        # W_ih x_t + b_ih + b_hh for every t in one GEMM, written where h_t will live
        cache.h[1:] = self.project(cache.x, P["W_ih"], P["b_ih"] + P["b_hh"])
        cache.recurrent = self.xp.empty((cache.B, self.hidden_size), dtype=self.dtype)

    def finish_backward(self, cache, work):
        P, da = self.params, work.da
        db = self.bias_grad(da)
        grads = {"W_ih": self.weight_grad(da, cache.x), "W_hh": self.weight_grad(da, cache.h[:-1]),
                 "b_ih": db, "b_hh": db.copy()}
        return self.input_grad(da, P["W_ih"]), grads

    # -------------------------------------------------------- one time step
    def step(self, t, state, cache):
        (h_prev,) = state
        h = cache.h[t + 1]                                   # holds W_ih x_t + b
        self.xp.matmul(h_prev, self.params["W_hh"].T, out=cache.recurrent)
        h += cache.recurrent                                 # a_t = ... + W_hh h_{t-1}
        self.phi_(h)                                         # h_t = phi(a_t)
        return (h,)

    def prepare_backward(self, cache):
        # phi'(a_t) for every t at once, from h_t (1 * phi' is phi' exactly); each step
        # then multiplies it by dL/dh_t in place: the same numbers as dh * phi' per step,
        # in one pass a step instead of a copy and phi's two or three
        dphi = self.xp.ones_like(cache.h[1:])
        return SimpleNamespace(da=self.phi_grad_(dphi, cache.h[1:]))

    def step_backward(self, t, dstate, cache, work):
        (dh,) = dstate
        da = work.da[t]
        da *= dh                                             # backprop through phi
        return (da @ self.params["W_hh"],)                   # through W_hh h_{t-1}
