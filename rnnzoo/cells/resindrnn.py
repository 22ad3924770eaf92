"""Deep IndRNN: a stack of IndRNN layers with residual shortcuts (and optional layer norm)."""
from __future__ import annotations

import numpy as np

from ..core.base import Cache, RecurrentCell
from ..core.ops import layer_norm, layer_norm_backward
from ..core.registry import register
from ..core.validation import check_bool, check_choice, check_int
from .indrnn import check_indrnn_options, clip_u_, init_u, recurrence, recurrence_backward

@register("resindrnn")
class ResidualIndRNN(RecurrentCell):
    r"""Deep IndRNN with residual shortcuts (Li, Li, Cook, Gao & Zhu, 2019, "Deep
    Independently Recurrent Neural Network (IndRNN)", arXiv:1910.06251), as one cell:
    L = ``depth`` IndRNN layers, layer l reading layer l-1's outputs.

    .. math::

        a^{(l)}_t = W^{(l)} h^{(l-1)}_t \;[+\, a^{(l-2)}_t]_{\text{residual}}, \qquad
        z^{(l)}_t = \mathrm{N}(a^{(l)}_t) + b^{(l)}, \qquad
        h^{(l)}_t = \sigma(z^{(l)}_t + u^{(l)} \odot h^{(l)}_{t-1})

    with :math:`h^{(0)} = x`, layers numbered l = 1..L, and the shortcut added on
    layers l = 3, 5, 7, ... The sums :math:`s_k = a^{(2k+1)}` form the residual
    stream :math:`s_{k} = s_{k-1} + F(s_{k-1})` with, in pre-activation order,

    .. math:: F(s) = W \,\mathrm{IndRNN}(\mathrm{N}(W\, \mathrm{IndRNN}(\mathrm{N}(s))))

    i.e. twice (normalize -> IndRNN recurrence + ReLU -> linear), exactly the layout of
    the authors' Theano code (``--use_residual``: the shortcut joins each dense layer's
    output every 2 layers, before the normalization). The cell's output is the last
    layer's :math:`h^{(L)}`, as in their code, so ``dh_norm`` is the gradient reaching
    the top layer's state. ``residual=False`` gives the plain deep stack with the same
    layers and initialization, for comparison.

    Normalization N: the paper uses batch normalization (statistics per time step over
    the batch). Here ``norm="layer"`` uses layer normalization (Ba et al., 2016) over
    the H units of each sample and step, :math:`N(a) = g \odot (a - \mu)/\sqrt{\sigma^2
    + 10^{-5}}`, with a gain g (init 1) and the recurrence bias b playing BN's shift.
    Chosen because it needs no running statistics (no train/eval modes; forward stays a
    pure function of the parameters, which the contract and the finite-difference check
    need), does not couple the samples of a batch, works at batch size 1, and keeps a
    sequence splittable at any step. ``norm="none"`` (the default) drops it (g is then
    absent): in our exploratory depth-6 runs (adding problem, T = 30, 400 Adam steps, 2
    seeds) the unnormalized stacks trained at least as fast as the layer-normalized
    ones, so the simplest form is the default and layer norm is the option.

    Options
    -------
    depth : int >= 1
        L, the number of IndRNN layers (6 by default, the authors' plain-stack setting;
        not ``layers``, which build_model uses to stack whole cells). With the
        shortcuts, an even L leaves the top layer outside every residual block: for
        L = 6 they join layers 3 and 5, and layer 6 (W^(6), then its IndRNN) sits on
        top of the stream with no shortcut. The authors' residual nets always have an
        odd number, 2K + 1, of IndRNN layers: Sunnydreamrain/IndRNN_pytorch,
        Indrnn_residualnet_preact.py, ``ResidualNet.__init__``: ``fc0``, ``num_blocks``
        blocks of two IndRNNs, then one ``IndRNNwithBN_last``; their Theano residual runs
        use ``--num_layers 11`` (IndRNN_Theano_Lasagne, cPTB/README.md, wordPTB/README.md;
        that script takes any L and would place an even L's top layer as here). So an
        odd depth (5, 11, ...) gives their layout; the default 6 differs and is kept
        (the committed figures use it, and ``residual=False`` then compares the same 6
        layers as the authors' plain 6-layer stack).
    residual : bool
        The shortcuts (True) or a plain stack (False).
    norm : "none" (default) or "layer"
    nonlinearity, t_max, mag, u_init
        As for :class:`~rnnzoo.cells.indrnn.IndRNN`; the bound |u| <= MAG^(1/T) is
        applied to every layer by :meth:`constrain`, and ``u_init`` applies to the top
        layer (the one feeding the readout); the others start with u ~ U(0, 1) (the
        authors' networks: U(0, MAG^(1/T)); see IndRNN's ``u_init``).

    Notes
    -----
    Initialization: :math:`W^{(l)} \sim \mathcal N(0, 1/(2 \cdot \text{fan\_in}))`,
    b = 0, g = 1. The W is the authors' Theano init: Sunnydreamrain/IndRNN_Theano_Lasagne,
    cPTB/penntree_charlevel_rernn.py (the residual script), module level:
    ``ini_W=HeNormal(gain=np.sqrt(2)/2.0)``, the ``W`` of every ``DenseLayer`` in
    ``build_rnn_network`` (the same line in mnist/pixelmnist.py); lasagne's
    ``HeNormal`` has std gain/sqrt(fan_in), so variance 1/(2 fan_in). Their PyTorch
    residual net differs: Indrnn_residualnet_preact.py, ``ResidualNet.init_weights``,
    ``nn.init.kaiming_uniform_(param, a=8, mode='fan_in')`` on the ``fc`` weights, i.e.
    :math:`\mathcal U(\pm\sqrt{6/(65\, \text{fan\_in})})`, variance 2/(65 fan_in).

    States: one (B, H) array per layer, named h1..hL. Shapes: x (T, B, D);
    ``W1`` (H, D), ``Wl`` (H, H) for l > 1, ``ul``, ``bl``, ``gl`` (H,).
    """

    options = {"depth": 6, "residual": True, "norm": "none", "nonlinearity": "relu",
               "t_max": None, "mag": 2.0, "u_init": "uniform"}

    def check_options(self):
        self.depth = check_int(self.depth, "depth", minimum=1)
        self.residual = check_bool(self.residual, "residual")
        self.norm = check_choice(self.norm, "norm", ("none", "layer"))
        check_indrnn_options(self)
        self.state_names = tuple(f"h{l}" for l in range(1, self.depth + 1))

    def init_params(self, rng):
        H, params = self.hidden_size, {}
        for l in range(1, self.depth + 1):
            fan_in = self.input_size if l == 1 else H
            params[f"W{l}"] = rng.normal(0.0, np.sqrt(0.5 / fan_in), (H, fan_in))
            params[f"u{l}"] = init_u(self, rng, l == self.depth and self.u_init == "bounded")
            params[f"b{l}"] = np.zeros(H)
            if self.norm == "layer":
                params[f"g{l}"] = np.ones(H)
        return params

    def constrain(self):
        """Project every layer's |u| <= MAG^(1/T) in place (no-op without ``t_max``)."""
        for l in range(1, self.depth + 1):
            clip_u_(self.xp, self.params[f"u{l}"], self)

    def _shortcut(self, l):
        """Whether layer l adds a^(l-2) (layers 3, 5, 7, ... up to L when residual)."""
        return self.residual and 3 <= l <= self.depth and l % 2 == 1

    # -------------------------------------------------------- forward and backward
    def _forward(self, x, state0):
        P = self.params
        cache = Cache(x=x, state0=state0, T=x.shape[0], B=x.shape[1], a={}, h={}, ln={})
        below, stream = x, {}                     # stream: the a^(l) a later layer adds
        tmp = self.xp.empty_like(state0[0])
        normed = self.norm == "layer"
        for l in range(1, self.depth + 1):
            h = self.hidden_buffer(cache, state0[l - 1])
            # W h^(l-1), all t: one GEMM; without N, straight into h's buffer (z_t there)
            a = self.project(below, P[f"W{l}"], out=None if normed else h[1:])
            if self._shortcut(l):
                a += stream.pop(l - 2)                            # + the residual stream
            if self._shortcut(l + 2):
                stream[l] = a if normed else a.copy()             # a^(l), for layer l + 2
            if normed:
                cache.a[l] = a
                h[1:], cache.ln[l] = layer_norm(a, P[f"g{l}"], P[f"b{l}"])   # N(a) + b
            else:
                a += P[f"b{l}"]
            recurrence(h, P[f"u{l}"], self.phi_, tmp)             # h_t = s(z_t + u h_{t-1})
            cache.h[l] = h
            below = h[1:]
        state_T = tuple(cache.h[l][-1].copy() for l in range(1, self.depth + 1))
        return below.copy(), state_T, cache

    def _backward(self, dhs, cache, dstate):
        P, xp, L = self.params, self.xp, self.depth
        grads, dstate0, skip = {}, [None] * L, {}
        # (T, B, H) buffers handed from layer to layer instead of fresh arrays: a fresh
        # array of that size costs more in page faults than the passes that fill it
        spare = []

        def take():
            return spare.pop() if spare else xp.empty_like(cache.h[L][1:])
        dout = dhs                                                # dL/dh^(L) from the loss
        for l in reversed(range(1, L + 1)):
            h, below = cache.h[l], (cache.x if l == 1 else cache.h[l - 1][1:])
            dz = take()
            dstate0[l - 1], norms = recurrence_backward(dout, dstate[l - 1], h, P[f"u{l}"],
                                                        self.phi_grad_, dz)
            if dout is not dhs:
                spare.append(dout)
            if l == L:
                dh_norm = norms                                   # the output layer's
            prod = xp.multiply(dz, h[:-1], out=take())
            grads[f"u{l}"] = prod.sum(axis=(0, 1))                # u * h_{t-1}
            spare.append(prod)
            grads[f"b{l}"] = self.bias_grad(dz)                   # + b
            if self.norm == "layer":
                n, _ = cache.ln[l]
                grads[f"g{l}"] = (dz * n).sum(axis=(0, 1))        # g * n
                da = layer_norm_backward(dz, cache.ln[l], P[f"g{l}"])    # through N
                spare.append(dz)
            else:
                da = dz
            if l in skip:
                da += skip[l]                                     # a^(l) fed a^(l+2)
                spare.append(skip.pop(l))
            grads[f"W{l}"] = self.weight_grad(da, below)          # a = W h^(l-1)
            W = P[f"W{l}"]                                        # dL/dh^(l-1), or dL/dx:
            dout = self.input_grad(da, W) if l == 1 else self.project(da, W.T, out=take())
            if self._shortcut(l):
                skip[l - 2] = da                                  # a^(l) += a^(l-2)
            else:
                spare.append(da)
        ordered = {k: grads[k] for k in P}
        return dout, tuple(dstate0), ordered, dh_norm
