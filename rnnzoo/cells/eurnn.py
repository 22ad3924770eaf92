"""EURNN: the efficient unitary RNN (W as layers of 2 x 2 rotations)."""
from __future__ import annotations

import numbers

import numpy as np

from ..core.backend import to_numpy
from ..core.registry import register
from ._unitary import UnitaryRNNBase, angle_grad, diag_backward


@register("eurnn")
class EURNN(UnitaryRNNBase):
    r"""Efficient unitary RNN (Jing, Shen, Dubček, Peurifoy, Skirlo, LeCun, Tegmark &
    Soljačić, ICML 2017, "Tunable Efficient Unitary Neural Networks (EUNN) and their
    application to RNNs", arXiv:1612.05231).

    .. math::

        z_t = W h_{t-1} + U x_t, \qquad h_t = \mathrm{modReLU}(z_t), \qquad
        W = D\, F^{(L)} \cdots F^{(2)} F^{(1)}

    Each layer :math:`F^{(l)}` is a set of disjoint 2 x 2 unitary blocks on coordinate
    pairs (i, j); every other unit passes through. The block on (i, j) is the authors'
    code's

    .. math::

        \begin{pmatrix} h'_i \\ h'_j \end{pmatrix} =
        \begin{pmatrix} \cos\theta & -e^{i\varphi}\sin\theta \\
                        \sin\theta & e^{i\varphi}\cos\theta \end{pmatrix}
        \begin{pmatrix} h_i \\ h_j \end{pmatrix}
        = R(\theta)\,\mathrm{diag}(1, e^{i\varphi})
          \begin{pmatrix} h_i \\ h_j \end{pmatrix}

    with the phase on the block's *input* side. The paper writes
    :math:`R_{ij} = [[e^{i\varphi}\cos\theta, -e^{i\varphi}\sin\theta],
    [\sin\theta, \cos\theta]]`, the phase on the *output* row. With that placement
    (and D on the output side, as both write W) the map from the N² parameters to U(N)
    is rank-deficient: its Jacobian has rank N² - (N - 1) at random points for N = L =
    5, 6, 8 (57 of 64 at N = 8), against the full N² with the code's placement
    (tests/test_unitary.py checks both ranks), so with the paper's block a tunable EURNN
    with L = N would not span U(N). We follow the code. A layer is applied element-wise,
    never as a matrix: :math:`h' = v_1 \odot h + v_2 \odot h[\text{perm}]` with perm the
    partner of each unit (v_1 = 1, v_2 = 0 where a unit passes through), so a step costs
    O(B N L). :math:`D = \mathrm{diag}(e^{i\omega})`.

    Styles
    ------
    ``"tunable"``: layers alternate the pairings (0,1),(2,3),... (rows of ``theta_A``) and
    (1,2),(3,4),... (rows of ``theta_B``); the end units not in a pair pass through, as
    in the authors' code. ``capacity`` = L layers (default 2, the code's default). With
    L = N and D it has N² real parameters and spans all of U(N).
    ``"fft"``: log₂N butterfly layers, layer l pairing i with i + N/2^(l+1) (distances
    N/2, ..., 2, 1, the authors' order); N must be a power of two.

    ``complex=False`` is the real variant: plain Givens rotations (φ = 0), no D, a real
    (B, N) state, real U, and the real modReLU :math:`\mathrm{sign}(z)\,\mathrm{ReLU}(|z| +
    b)` (ε = 0; the authors' code adds 1e-5 to the modulus there too).

    N is ``hidden_size`` (H). The state is complex, h in C^N, and crosses the contract
    as the real (B, 2N) array [Re h, Im h] (``output_size = 2N``); inside, complex64 or
    complex128.

    Options
    -------
    style : "tunable" (default) or "fft"
    capacity : int or None
        L for "tunable" (None = 2); "fft" fixes L = log₂N (None, or that number).
    complex : bool
        True (default): the unitary cell above. False: the real orthogonal variant.
    nonlinearity : "modrelu" (default) or "identity" (h_t = z_t, for demonstrations)

    Notes
    -----
    Shapes: x (T, B, D), h (B, 2N) (real variant (B, N)); U_re and U_im (N, D) (real: U);
    tunable: theta_A and phi_A (ceil(L/2), N//2), theta_B and phi_B (L//2, (N-1)//2)
    (omitted when empty); fft: theta and phi (log₂N, N/2); omega (N,); b (N,). The real
    variant has no phi and no omega.

    Initialization, as the authors' code (jingli9111/EUNN-tensorflow, EUNN.py as of
    commit 0c50c83, 2018-03): every angle U(-π, π), input weights U(±0.01), modReLU
    bias 0, ε = 1e-5 (their modReLU,
    :math:`\mathrm{ReLU}(|z| + \varepsilon + b)\, z / (|z| + \varepsilon)`, also adds ε
    inside the ReLU; here, as in the uRNN code, only in the denominator). Their later
    eunn.py raised ε to 0.01 (commit 4ef928d, 2018-11). One departure from that EUNN.py: its
    real branch pads the last unit of the (1,2),(3,4),... layers with cos = 0 instead of
    1 for even N (the complex branch uses 1), which zeroes that unit and breaks
    orthogonality; here it passes through, as in the complex branch and in their code
    since commit c43f78a (2018-09).
    """

    options = {"style": "tunable", "capacity": None, "complex": True,
               "nonlinearity": "modrelu"}

    @property
    def is_complex(self):
        return bool(self.complex)

    def check_options(self):
        self.check_nonlinearity()
        N = self.hidden_size
        if self.style not in ("tunable", "fft"):
            raise ValueError(f"style must be 'tunable' or 'fft'; got {self.style!r}")
        if not isinstance(self.complex, (bool, np.bool_)):
            raise ValueError(f"complex must be True or False; got {self.complex!r}")
        self.complex = bool(self.complex)        # a plain bool, as the other options
        if N < 2:
            raise ValueError(f"eurnn needs hidden_size >= 2 (its layers rotate pairs of "
                             f"units); got {N}")
        cap = self.capacity
        if cap is not None and (not isinstance(cap, numbers.Integral) or isinstance(cap, bool)
                                or cap < 1):
            raise ValueError(f"capacity must be a positive integer or None; got {cap!r}")
        self.capacity = cap = None if cap is None else int(cap)
        if self.style == "fft":
            if N & (N - 1):
                raise ValueError("style='fft' needs hidden_size a power of two (its layers "
                                 f"pair units at distances N/2, ..., 1); got {N}")
            m = N.bit_length() - 1
            if cap is not None and cap != m:
                raise ValueError(f"style='fft' has capacity log2(hidden_size) = {m}; leave "
                                 f"capacity=None or give {m}; got {cap!r}")
            self.n_layers = m
        else:
            self.n_layers = 2 if cap is None else int(cap)
        self.input_names = ("U_re", "U_im") if self.is_complex else ("U",)
        self.groups = self._layer_groups()

    def _layer_groups(self):
        """Parameter groups: {suffix: (layer index per row (n,), I (n, P), J (n, P))},
        I and J the pair members (i, j) of each of the row's P blocks."""
        N, L = self.hidden_size, self.n_layers
        if self.style == "fft":
            I, J = [], []
            for l in range(L):
                d = N >> (l + 1)                            # distance N/2^(l+1)
                i = np.array([s + k for s in range(0, N, 2 * d) for k in range(d)])
                I.append(i)
                J.append(i + d)
            return {"": (np.arange(L), np.array(I), np.array(J))}
        groups = {}
        for suffix, first, layers in (("_A", 0, range(0, L, 2)), ("_B", 1, range(1, L, 2))):
            i = np.arange(first, N - 1, 2)                  # pairs (i, i+1)
            if len(layers) and len(i):
                n = len(layers)
                groups[suffix] = (np.array(layers), np.tile(i, (n, 1)), np.tile(i + 1, (n, 1)))
        return groups

    def init_params(self, rng):
        params = {}
        for suffix, (layers, I, _) in self.groups.items():
            params["theta" + suffix] = rng.uniform(-np.pi, np.pi, I.shape)
            if self.is_complex:
                params["phi" + suffix] = rng.uniform(-np.pi, np.pi, I.shape)
        if self.is_complex:
            params["omega"] = rng.uniform(-np.pi, np.pi, self.hidden_size)
        params.update(self.input_init(rng, 0.01))
        if self.nonlinearity == "modrelu":
            params["b"] = np.zeros(self.hidden_size)
        return params

    # -------------------------------------------------------- W's factors
    def _block(self, suffix, P):
        """cos θ, sin θ and e^{iφ} (1 for the real variant) of a group's blocks."""
        xp, th = self.xp, P["theta" + suffix]
        e = xp.exp(1j * P["phi" + suffix]).astype(self.cdtype) if self.is_complex else 1.0
        return xp.cos(th), xp.sin(th), e

    def coefficients(self):
        """v1, v2 (L, N) and perm (L, N) of every layer, and D: built once per call."""
        xp, N, L = self.xp, self.hidden_size, self.n_layers
        v1 = xp.ones((L, N), dtype=self.cdtype)
        v2 = xp.zeros((L, N), dtype=self.cdtype)
        perm = np.tile(np.arange(N), (L, 1))
        co = {"v1": v1, "v2": v2, "idx": {}}
        for suffix, (layers, I, J) in self.groups.items():
            rows = layers[:, None]
            perm[rows, I], perm[rows, J] = J, I
            c, s, e = self._block(suffix, self.params)
            rows, I, J = (xp.asarray(a) for a in (rows, I, J))
            co["idx"][suffix] = (rows, I, J)
            v1[rows, I], v2[rows, I] = c, -e * s            # h'_i = c h_i - e s h_j
            v1[rows, J], v2[rows, J] = e * c, s             # h'_j = s h_i + e c h_j
        co["perm"] = xp.asarray(perm)
        co["v1_conj"], co["v2_conj"] = v1.conj(), v2.conj()
        if self.is_complex:
            co["D"] = xp.exp(1j * self.params["omega"]).astype(self.cdtype)
        return co

    def new_accumulators(self, B, co):
        xp, shape = self.xp, (self.n_layers, B, self.hidden_size)
        acc = {"v1": xp.zeros(shape, dtype=self.cdtype), "v2": xp.zeros(shape, dtype=self.cdtype)}
        if self.is_complex:
            acc["D"] = xp.zeros(self.hidden_size, dtype=self.cdtype)
        return acc

    def apply_W_keeping(self, h, co):
        """W h = D F^(L) ... F^(1) h, keeping each layer's input u[l] and the last layer's
        output for the backward (L (B, N) complex arrays a step besides h itself; computing
        them again there costs the whole forward of W)."""
        take, v1, v2, perm = self.xp.take, co["v1"], co["v2"], co["perm"]
        u = []
        for l in range(self.n_layers):
            u.append(h)
            h = v1[l] * h + v2[l] * take(h, perm[l], axis=1)   # h' = v1 ⊙ h + v2 ⊙ h[perm]
        return (co["D"] * h if self.is_complex else h), (u, h)

    def apply_W_backward(self, g, h, co, acc, kept):
        xp = self.xp
        u, top = kept
        if self.is_complex:
            g, G_D = diag_backward(g, top, co["D"])         # y = D top
            acc["D"] += G_D
        take, v1c, v2c, perm = xp.take, co["v1_conj"], co["v2_conj"], co["perm"]
        for l in reversed(range(self.n_layers)):            # h' = v1 ⊙ h + v2 ⊙ h[perm]
            p = perm[l]
            acc["v1"][l] += g * u[l].conj()                 # dL/dv1 (per batch row)
            acc["v2"][l] += g * take(u[l], p, axis=1).conj()   # dL/dv2
            g = v1c[l] * g + take(v2c[l] * g, p, axis=1)    # dL/dh: perm is its own inverse
        return g

    def W_grads(self, acc, co):
        grads = {}
        G1, G2 = acc["v1"].sum(axis=1), acc["v2"].sum(axis=1)   # (L, N): sum over batch
        for suffix, (rows, I, J) in co["idx"].items():
            c, s, e = self._block(suffix, self.params)
            G1i, G2i, G1j, G2j = (G[rows, K].conj() for G, K in ((G1, I), (G2, I), (G1, J), (G2, J)))
            # v1_i = c, v2_i = -e s, v1_j = e c, v2_j = s; dL/dθ = Re Σ conj(G) dv/dθ
            grads["theta" + suffix] = (G1i * (-s) + G2i * (-e * c)
                                       + G1j * (-e * s) + G2j * c).real
            if self.is_complex:                             # dv2_i/dφ = -i e s, dv1_j/dφ = i e c
                grads["phi" + suffix] = (1j * e * (G1j * c - G2i * s)).real
        if self.is_complex:
            grads["omega"] = angle_grad(acc["D"], co["D"])  # D = e^{iω}
        return grads

    # -------------------------------------------------------- W on the host
    def recurrent_matrix(self):
        """W as a NumPy (N, N) matrix (complex; float64 for the real variant), assembled
        on the host from each layer's explicit 2 x 2 blocks (not from ``apply_W``)."""
        P = {k: to_numpy(v).astype(np.float64) for k, v in self.params.items()}
        N = self.hidden_size
        W = np.eye(N, dtype=np.complex128 if self.is_complex else np.float64)
        layer_of = {}
        for suffix, (layers, I, J) in self.groups.items():
            for row, l in enumerate(layers):
                layer_of[l] = (suffix, row, I[row], J[row])
        for l in range(self.n_layers):
            M = np.eye(N, dtype=W.dtype)
            if l in layer_of:
                suffix, row, I, J = layer_of[l]
                th = P["theta" + suffix][row]
                e = (np.exp(1j * P["phi" + suffix][row]) if self.is_complex
                     else np.ones_like(th))
                for i, j, c, s, ek in zip(I, J, np.cos(th), np.sin(th), e):
                    M[np.ix_([i, j], [i, j])] = [[c, -ek * s], [s, ek * c]]
            W = M @ W
        if self.is_complex:
            W = np.exp(1j * P["omega"])[:, None] * W
        return W
