r"""What minGRU and minLSTM share (Feng, Tung, Ahmed, Bengio & Hajimirsadeghi, 2024, "Were
RNNs All We Needed?", arXiv 2410.01201): gates that read x_t alone, the positive
candidate g, and a time loop that is one linear scan.

Both cells are h_t = a_t ⊙ h_{t-1} + b_t with a_t and b_t functions of x_t only, so

* every pre-activation of every step is one GEMM before the recurrence
  (:meth:`RecurrentCell.project_gates`), and the weight gradient one GEMM after it;
* the recurrence itself is :func:`rnnzoo.core.scan.linear_scan` (option ``mode``: the
  loop, the doubling scan, or the paper's log-space form), and its backward is the same
  scan run backwards in time (:func:`~rnnzoo.core.scan.linear_scan_backward`), which
  hands back δ_t = dL/dh_t in total (recorded as ``grads.dh_norm``) and dL/da_t;
* the step Jacobian ∂h_t/∂h_{t-1} is diag(a_t): no matrix product over time, and the
  gradient over k steps is a product of k scalars per unit.

The candidate goes through the paper's g (appendix B.3), which keeps it positive so the
log-space form applies:

.. math:: g(u) = u + \tfrac12 \ (u \ge 0), \qquad g(u) = \sigma(u) \ (u < 0),

continuous at 0, with g'(u) = 1 for u >= 0 (the convention here at the kink u = 0) and
σ(u)(1 - σ(u)) below it.
"""
from __future__ import annotations

import numpy as np

from ..core import scan
from ..core.backend import to_numpy
from ..core.base import Cache, RecurrentCell
from ..core.ops import array_module, sigmoid_
from ..core.validation import check_choice


def softplus(v):
    """log(1 + exp(v)), without overflow (logaddexp(0, v))."""
    return array_module(v).logaddexp(0.0, v)


def sigmoid_of_minus(k):
    """σ(-k) = 1 / (1 + exp(k)), a new array (exp's overflow to inf gives the limit 0)."""
    xp = array_module(k)
    out = xp.exp(k)
    out += 1.0
    return xp.divide(1.0, out, out=out)


def candidate_(u):
    """In place: u <- h~ = g(u); returns (h~, g'(u)). Written without masks (a masked
    NumPy operation costs as much as an exp here):

    g(u) = relu(u) + σ(min(u, 0)), the σ term being exactly 1/2 for u >= 0, and
    g'(u) = max(σ'(min(u, 0)), [u >= 0]), since σ' <= 1/4 < 1.
    """
    xp = array_module(u)
    s = sigmoid_(xp.minimum(u, 0.0))                         # σ(min(u, 0))
    g_prime = xp.subtract(1.0, s)
    g_prime *= s                                             # σ'(u) = σ (1 - σ), u < 0
    xp.maximum(g_prime, u >= 0, out=g_prime)                 # 1 for u >= 0
    xp.maximum(u, 0.0, out=u)
    u += s                                                   # h~ = relu(u) + σ(min(u, 0))
    return u, g_prime


def log_candidate(u):
    """log g(u) = log(relu(u) + 1/2) + log σ(min(u, 0)) + log 2 (a new array): the two
    branches of the paper's log_g, log(u + 1/2) for u >= 0 and log σ(u) = -softplus(-u)
    below, in one formula (each added term is -log 2 + log 2 = 0 off its branch)."""
    xp = array_module(u)
    out = xp.maximum(u, 0.0)
    out += 0.5
    xp.log(out, out=out)                                     # log(relu(u) + 1/2)
    out -= softplus(-xp.minimum(u, 0.0))                     # + log σ(min(u, 0))
    out += np.log(2.0)
    return out


class MinimalRNN(RecurrentCell):
    """The scan cell: subclasses give the gate count and three methods,

    * ``coefficients(pre, cache) -> (a, b)``: a_t and b_t (T, B, H) from the gate
      pre-activations pre (gates, T, B, H), saving what the backward needs in cache;
    * ``log_coefficients(pre) -> (log a, log b)``: the same in the paper's log space,
      computed from the pre-activations directly (``mode="log"``);
    * ``coefficients_backward(da, db, cache, dpre)``: from dL/da and dL/db to every
      gate's pre-activation gradient, written into dpre (T, B, gates, H).
    """

    gates = 0
    options = {"mode": "auto"}

    def check_options(self):
        self.mode = check_choice(self.mode, "mode", scan.MODES)

    def init_params(self, rng):
        """U(-1/sqrt(D), 1/sqrt(D)) for W and b: torch.nn.Linear's default, the paper's
        Linear layers (its listings use nn.Linear, biases included)."""
        D, GH = self.input_size, self.gates * self.hidden_size
        k = 1.0 / np.sqrt(D)
        return {"W": rng.uniform(-k, k, (GH, D)), "b": rng.uniform(-k, k, GH)}

    def _forward(self, x, state0):
        cache = Cache(x=x, state0=state0, T=x.shape[0], B=x.shape[1])
        (h0,) = state0
        # every gate's pre-activation at every step: one matmul call, gate-major
        pre = self.project_gates(x, self.params["W"], self.params["b"], self.gates)
        with np.errstate(over="ignore"):                  # exp -> inf: σ = 0, its limit
            if self.mode == "log":
                log_a, log_b = self.log_coefficients(pre)
                h = scan.log_space_scan(log_a, log_b, self._log_state(h0))
            a, b = self.coefficients(pre, cache)          # (activates pre in place)
            if self.mode != "log":
                h = scan.linear_scan(a, b, h0, self.mode)
        cache.a, cache.h = a, h
        return h.copy(), (h[-1].copy(),), cache

    def _log_state(self, h0):
        """log h_0, as the paper's log-space pseudo-code takes it (-inf for a zero)."""
        low = float(to_numpy(h0.min()))
        if low < 0:
            raise ValueError(f"{self._where()}: mode='log' computes in log space from log h_0 "
                             f"(the paper's appendix B) and needs state0 >= 0; got min "
                             f"{low:g}; use mode='loop', 'doubling' or 'auto' for a state of "
                             f"any sign")
        with np.errstate(divide="ignore"):
            return self.xp.log(h0)

    def _backward(self, dhs, cache, dstate):
        xp, T, B, H = self.xp, cache.T, cache.B, self.hidden_size
        dh = dhs.copy()
        dh[-1] += dstate[0]                               # dL/dh_T from after the sequence
        # the scan's backward: delta = db is dL/dh_t in total, da = delta h_{t-1}
        da, delta, dh0 = scan.linear_scan_backward(cache.a, cache.h, cache.state0[0], dh,
                                                   self.mode)
        dh_norm = xp.sqrt(xp.einsum("tbh,tbh->t", delta, delta))
        dpre = xp.empty((T, B, self.gates * H), dtype=self.dtype)   # gates side by side
        self.coefficients_backward(da, delta, cache, dpre.reshape(T, B, self.gates, H))
        W = self.params["W"]
        grads = {"W": self.weight_grad(dpre, cache.x), "b": self.bias_grad(dpre)}
        return self.input_grad(dpre, W), (dh0,), grads, dh_norm
