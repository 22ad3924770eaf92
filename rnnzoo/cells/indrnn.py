"""IndRNN: one recurrent weight per neuron."""
from __future__ import annotations

import numpy as np

from ..core.base import Cache, RecurrentCell
from ..core.ops import ACTIVATIONS, array_module, relu_grad_
from ..core.registry import register
from ..core.validation import check_choice, check_float, check_int, check_optional


def check_indrnn_options(cell):
    """The options IndRNN and the residual IndRNN share."""
    cell.nonlinearity = check_choice(cell.nonlinearity, "nonlinearity", ("relu", "tanh"))
    cell.mag = check_float(cell.mag, "mag", minimum=1.0, min_open=True)
    cell.t_max = check_optional(check_int, cell.t_max, "t_max", minimum=1)
    cell.u_init = check_choice(cell.u_init, "u_init", ("uniform", "bounded"))
    if cell.u_init == "bounded" and cell.t_max is None:
        raise ValueError("u_init='bounded' draws u from U((1/mag)**(1/t_max), mag**(1/t_max)) "
                         "and needs t_max (the training length); got t_max=None")
    cell.phi_, cell.phi_grad_ = ACTIVATIONS[cell.nonlinearity]


def u_bound(cell):
    """MAG^(1/T), the largest |u| allowed (None: no bound)."""
    return None if cell.t_max is None else float(cell.mag) ** (1.0 / cell.t_max)


def init_u(cell, rng, bounded):
    """u ~ U(0, 1), or U((1/MAG)^(1/T), MAG^(1/T)) for the layer feeding the readout."""
    H = cell.hidden_size
    if not bounded:
        return rng.uniform(0.0, 1.0, H)
    top = u_bound(cell)
    return rng.uniform(1.0 / top, top, H)


def clip_u_(xp, u, cell):
    """The projection |u| <= MAG^(1/T), in place (the optimizer holds the same array)."""
    top = u_bound(cell)
    if top is not None:
        xp.clip(u, -top, top, out=u)


# ---------------------------------------------------------------- the recurrence
def recurrence(h, u, phi_, tmp):
    """Forward of h_t = phi(a_t + u * h_{t-1}) for all t, in place.

    h: (T+1, B, H) with h[0] = h_0 and h[1:] holding a_t = W x_t + b on entry and h_t
    on exit; u: (H,); tmp: a (B, H) scratch buffer.
    """
    xp = array_module(h)
    for t in range(h.shape[0] - 1):
        xp.multiply(u, h[t], out=tmp)
        h[t + 1] += tmp                                      # a_t + u * h_{t-1}
        phi_(h[t + 1])                                       # h_t = phi(...)


def recurrence_backward(dhs, dh, h, u, phi_grad_, da):
    """Backward of :func:`recurrence`.

    dhs (T, B, H): the gradient on each h_t from outside the recurrence; dh (B, H):
    dL/dh_T carried in. Fills ``da`` (T, B, H) with dL/da_t and returns (dL/dh_0,
    ||dL/dh_t|| per t). Neuron n's gradient goes back k steps as u_n^k times the
    product of phi' along the way: the whole idea of IndRNN.
    """
    xp = array_module(h)
    T = dhs.shape[0]
    dh_norm = xp.empty(T)
    carried = xp.empty_like(dh)                              # dL/dh_{t-1}, reused each step
    if phi_grad_ is relu_grad_:
        # relu' = [h_t > 0] for every t at once, as 1.0 / 0.0 in da: each step then does
        # one float multiply instead of a compare and a bool-times-float one (the same
        # numbers: x * 1.0 = x, x * 0.0 = ±0, as x * True and x * False give)
        xp.greater(h[1:], 0, out=da)
        total = xp.empty_like(dh)
        for t in reversed(range(T)):
            g = xp.add(dh, dhs[t], out=total)                # own loss + carried from t+1
            dh_norm[t] = xp.linalg.norm(g)
            g = xp.multiply(da[t], g, out=da[t])             # through relu: da[t] = dL/da_t
            dh = xp.multiply(g, u, out=carried)              # through u * h_{t-1}
        return dh, dh_norm
    for t in reversed(range(T)):
        dh = xp.add(dh, dhs[t], out=da[t])                   # own loss + carried from t+1
        dh_norm[t] = xp.linalg.norm(dh)
        phi_grad_(dh, h[t + 1])                              # through phi: da[t] = dL/da_t
        dh = xp.multiply(dh, u, out=carried)                 # through u * h_{t-1}
    return dh, dh_norm


@register("indrnn")
class IndRNN(RecurrentCell):
    r"""Independently recurrent neural network (Li, Li, Cook, Zhu & Gao, CVPR 2018,
    "Independently Recurrent Neural Network (IndRNN): Building a Longer and Deeper
    RNN").

    .. math::

        h_t = \sigma(W x_t + u \odot h_{t-1} + b)

    Each neuron has a single recurrent weight :math:`u_n` (a vector u, not a matrix), so
    neurons do not talk to each other inside the layer, only across layers. The
    gradient of neuron n back through k steps is a scalar:

    .. math::

        \frac{\partial h_{t,n}}{\partial h_{t-k,n}}
            = u_n^{k} \prod_{j=0}^{k-1} \sigma'(\cdot)_{t-j,n}

    With ReLU, :math:`\sigma' \in \{0, 1\}`: on an active path the gradient is exactly
    :math:`u_n^k`. It neither vanishes nor explodes over T steps as long as
    :math:`|u_n|^T` stays in a range like :math:`[1/\text{MAG}, \text{MAG}]`, hence
    the bound below.

    Options
    -------
    nonlinearity : "relu" (default) or "tanh"
    t_max : int or None
        T, the length of the sequences trained on. With it, :meth:`constrain` projects
        :math:`|u_n| \le \text{MAG}^{1/T}` (call it after each optimizer step;
        ``rnnzoo.optim.apply_constraints`` and ``rnnzoo.train`` do), so no neuron's
        gradient grows by more than MAG over the whole sequence, as in the authors'
        code, which clips ``hidden_to_hidden.W`` before every update. None: no bound.
        Pick T = the training length (or the longest dependency) and MAG = 2 (the
        default of the authors' adding and PTB scripts; a larger MAG allows faster
        growth of activations).
    mag : float > 1
        MAG above (2.0).
    u_init : "uniform" or "bounded"
        "uniform": :math:`u \sim \mathcal U(0, 1)`. That is only the default of the
        authors' plain PyTorch cell (Sunnydreamrain/IndRNN_pytorch,
        IndRNN_onlyrecurrent.py, ``IndRNN_onlyrecurrent.reset_parameters``:
        ``nn.init.uniform(weight, a=0, b=1)``); their networks draw hidden-layer u from
        :math:`\mathcal U(0, \text{MAG}^{1/T})` (IndRNN_pytorch, Indrnn_plainnet.py,
        ``init_weights``: ``param.data.uniform_(0,U_bound)``; the same in
        Indrnn_residualnet_preact.py; Sunnydreamrain/IndRNN_Theano_Lasagne,
        adding/adding.py, ``build_indrnn_network``: ``Uniform(range=(0,U_bound))``), a
        slightly wider range (:math:`\text{MAG}^{1/T} > 1`, e.g. :math:`2^{1/100} \approx
        1.007`). rnnzoo keeps U(0, 1), which needs no ``t_max``. (Their Theano
        ``IndRNNLayer``'s own default, lasagne's ``Uniform()``, is U(-0.01, 0.01); their
        scripts override it.)
        "bounded": :math:`u \sim \mathcal U(\text{MAG}^{-1/T}, \text{MAG}^{1/T})`, the
        authors' ReLU init of the layer whose last output feeds the readout on the
        adding problem (adding/adding.py, ``Uniform(range=(U_lowbound,U_bound))``;
        ``--u_lastlayer_ini`` in IndRNN_pytorch): every neuron then starts able to keep
        its value for T steps (they report that long adding tasks fail without it).
        Needs ``t_max``.
    input_std : float > 0
        :math:`W \sim \mathcal N(0, \text{input\_std}^2)`; 0.001 as the authors'
        adding-problem code (``in2hidW``). b = 0.

    Notes
    -----
    The authors' tanh runs use a larger bound, U_bound = (MAG / 0.9^(T/10))^(1/T), to make
    up for tanh' < 1, and draw u symmetrically: for tanh, adding/adding.py gives both
    layers ``Uniform(range=(U_bound))``, which lasagne reads as U(-U_bound, U_bound)
    (cPTB/penntree_charlevel_rernn.py likewise, ``ini_hid_start=-1*U_bound``). Here
    the bound is MAG^(1/T) for both nonlinearities, and ``u_init`` draws u >= 0 for
    tanh too ("bounded": U(MAG^(-1/T), MAG^(1/T)) for the top layer); this differs.
    Kink: ReLU at a = 0 (finite-difference test points avoid it).

    Shapes: x (T, B, D), h (B, H); W (H, D), u (H,), b (H,).
    """

    options = {"nonlinearity": "relu", "t_max": None, "mag": 2.0, "u_init": "uniform",
               "input_std": 0.001}

    def check_options(self):
        check_indrnn_options(self)
        self.input_std = check_float(self.input_std, "input_std", minimum=0.0, min_open=True)

    def init_params(self, rng):
        D, H = self.input_size, self.hidden_size
        W = rng.normal(0.0, self.input_std, (H, D))
        return {"W": W, "u": init_u(self, rng, self.u_init == "bounded"), "b": np.zeros(H)}

    def constrain(self):
        """Project |u| <= MAG^(1/T) in place (no-op without ``t_max``)."""
        clip_u_(self.xp, self.params["u"], self)

    # -------------------------------------------------------- forward and backward
    def _forward(self, x, state0):
        P = self.params
        cache = Cache(x=x, state0=state0, T=x.shape[0], B=x.shape[1])
        cache.h = self.hidden_buffer(cache, state0[0])
        self.project(x, P["W"], P["b"], out=cache.h[1:])   # W x_t + b, all t: one GEMM
        recurrence(cache.h, P["u"], self.phi_, self.xp.empty_like(state0[0]))
        return self.outputs(cache), (cache.h[-1].copy(),), cache

    def _backward(self, dhs, cache, dstate):
        P = self.params
        da = self.xp.empty_like(cache.h[1:])
        dh0, dh_norm = recurrence_backward(dhs, dstate[0], cache.h, P["u"], self.phi_grad_, da)
        grads = {"W": self.weight_grad(da, cache.x),               # a = W x + ...
                 "b": self.bias_grad(da)}                          # ... + b
        dx = self.input_grad(da, P["W"])
        da *= cache.h[:-1]                                         # a = ... + u * h_{t-1}
        grads["u"] = da.sum(axis=(0, 1))                           # (da is no longer needed:
        return dx, (dh0,), {k: grads[k] for k in P}, dh_norm       # in place, no T*B*H temp)
