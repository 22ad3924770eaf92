"""uRNN: the unitary evolution RNN (a product of structured unitary factors)."""
from __future__ import annotations

import numpy as np

from ..core.backend import to_numpy
from ..core.registry import register
from ._unitary import UnitaryRNNBase, angle_grad, diag_backward


@register("urnn")
class URNN(UnitaryRNNBase):
    r"""Unitary evolution RNN (Arjovsky, Shah & Bengio, ICML 2016, "Unitary Evolution
    Recurrent Neural Networks", arXiv:1511.06464).

    .. math::

        \begin{aligned}
        z_t &= W h_{t-1} + V x_t, \qquad h_t = \mathrm{modReLU}(z_t)
             = \mathrm{ReLU}(|z_t| + b)\,\frac{z_t}{|z_t| + \varepsilon} \\
        W &= D_3\, R_2\, F^{-1} D_2\, \Pi\, R_1\, F\, D_1
        \end{aligned}

    * :math:`D_k = \mathrm{diag}(e^{i\theta_k})`, real angles ``theta[k-1]``;
    * :math:`R_k = I - 2\, r_k r_k^* / \|r_k\|^2`, complex reflections with
      :math:`r_k` = ``r_re[k-1] + 1j * r_im[k-1]``;
    * :math:`\Pi` a fixed permutation drawn from the seed (``cell.perm``; Π u = u[perm]);
    * F the unitary DFT (``fft(..., norm="ortho")``), so :math:`F^{-1} = F^*`;
    * V = ``V_re + 1j * V_im`` complex, x real; b one real bias per unit.

    Each factor costs O(N) or O(N log N), so a step is O(B N log N): W is never formed
    (``recurrent_matrix()`` assembles it on the host, for tests and plots). Every factor
    is unitary, so the backward of W is :math:`W^* = D_1^* F^* R_1 \Pi^T D_2^* F R_2 D_3^*`
    (reflections are their own adjoint), and dL/dh_{t-1} has the norm of dL/dz_t.

    W has 7N real parameters (3N angles, 4N for the reflections) against the N² of
    U(N): it cannot reach every unitary matrix once N > 7 (Wisdom et al., 2016,
    "Full-Capacity Unitary Recurrent Neural Networks"); see tests/test_unitary.py.

    N is ``hidden_size`` (H). The state is complex, h in C^N, and crosses the contract
    as the real (B, 2N) array [Re h, Im h] (``output_size = 2N``, as the paper's readout
    ``U [Re h; Im h]``). Computation inside in complex64 (float32 cells) or complex128
    (float64).

    Options
    -------
    nonlinearity : "modrelu" (default) or "identity"
        "identity" (h_t = z_t) is for demonstrations: the gradient norm is then exactly
        preserved through time.

    Notes
    -----
    Shapes: x (T, B, D), h (B, 2N); V_re and V_im (N, D), theta (3, N), r_re and r_im
    (2, N), b (N,) (no b with "identity").

    Initialization, as the paper (section "Initialization" of the authors' draft):
    V Glorot-uniform :math:`\mathcal U(\pm\sqrt{6/(D + N)})`, angles
    :math:`\mathcal U[-\pi, \pi]`, reflection entries :math:`\mathcal U[-1, 1]`; b
    :math:`\mathcal U(\pm 0.01)` as the authors' code (the draft says 0). The authors'
    code (amarshah/complex_RNN, models.py, ``complex_RNN``) also draws the angles
    :math:`\mathcal U[-\pi, \pi]`
    (``theta = ... rng.uniform(low=-np.pi, high=np.pi, size=(3, n_hidden))``); only
    versions before its commit 938c263 (2015-12-14) drew them Glorot-uniform. Where the
    code differs: the reflections are Glorot-uniform,
    ``reflection = initialize_matrix(2, 2*n_hidden, ...)``, i.e. :math:`\mathcal
    U(\pm\sqrt{6/(2 + 2N)})` (R depends only on r's direction, so the same distribution
    of R, but a different scale of r); V is one real (D, 2N) matrix there, so its
    Glorot bound is :math:`\sqrt{6/(D + 2N)}`; and the reflection is written
    :math:`I - 2\bar r r^T/\|r\|^2` (``times_reflection``; the same set of matrices,
    with r conjugated); we follow the paper's :math:`I - 2 r r^*/\|r\|^2`. The modReLU ε
    is the code's 1e-5, in forward and backward alike. The code also learns h_0; here
    h_0 is the contract's state0.
    """

    options = {"nonlinearity": "modrelu"}

    def check_options(self):
        self.check_nonlinearity()

    def init_params(self, rng):
        N, D = self.hidden_size, self.input_size
        params = self.input_init(rng, np.sqrt(6.0 / (D + N)))
        params["theta"] = rng.uniform(-np.pi, np.pi, (3, N))
        params["r_re"] = rng.uniform(-1.0, 1.0, (2, N))
        params["r_im"] = rng.uniform(-1.0, 1.0, (2, N))
        bias = rng.uniform(-0.01, 0.01, N)
        if self.nonlinearity == "modrelu":
            params["b"] = bias
        self.perm = rng.permutation(N)                      # Π, fixed, from the seed
        return params

    # -------------------------------------------------------- W's factors
    def coefficients(self):
        xp, P = self.xp, self.params
        r = (P["r_re"] + 1j * P["r_im"]).astype(self.cdtype)
        perm = xp.asarray(self.perm)
        return {"D": xp.exp(1j * P["theta"]).astype(self.cdtype), "r": r,
                "n": (r.real ** 2 + r.imag ** 2).sum(axis=1),       # ||r_k||^2
                "perm": perm, "inv_perm": xp.argsort(perm)}

    def new_accumulators(self, B, co):
        xp = self.xp
        return {"D": xp.zeros_like(co["D"]), "r": xp.zeros_like(co["r"])}

    def _forward_factors(self, h, co):
        """The intermediate vectors u_1 .. u_7 of W h (u_8 = W h is returned last)."""
        fft, D, r, n = self.xp.fft, co["D"], co["r"], co["n"]
        u1 = D[0] * h                                       # D_1 h
        u2 = fft.fft(u1, norm="ortho")                      # F
        u3 = reflect(u2, r[0], n[0])                        # R_1
        u4 = self.xp.take(u3, co["perm"], axis=1)           # Π
        u5 = D[1] * u4                                      # D_2
        u6 = fft.ifft(u5, norm="ortho")                     # F^{-1}
        u7 = reflect(u6, r[1], n[1])                        # R_2
        return u2, u4, u6, u7, D[2] * u7                    # D_3

    def apply_W_keeping(self, h, co):
        """W h, keeping u_2, u_4, u_6, u_7 for the backward (4 (B, N) complex arrays a
        step; computing them again there costs two FFTs, two reflections and a gather)."""
        *kept, Wh = self._forward_factors(h, co)
        return Wh, kept

    def apply_W_backward(self, g, h, co, acc, kept):
        fft, D, r, n = self.xp.fft, co["D"], co["r"], co["n"]
        u2, u4, u6, u7 = kept
        g, G_D3 = diag_backward(g, u7, D[2])                # y = D_3 u7
        g, G_r2 = reflect_backward(g, u6, r[1], n[1])       # u7 = R_2 u6
        g = fft.fft(g, norm="ortho")                        # u6 = F^{-1} u5: adjoint is F
        g, G_D2 = diag_backward(g, u4, D[1])                # u5 = D_2 u4
        g = self.xp.take(g, co["inv_perm"], axis=1)         # u4 = Π u3: adjoint is Π^T
        g, G_r1 = reflect_backward(g, u2, r[0], n[0])       # u3 = R_1 u2
        g = fft.ifft(g, norm="ortho")                       # u2 = F u1: adjoint is F^{-1}
        g, G_D1 = diag_backward(g, h, D[0])                 # u1 = D_1 h
        acc["D"][0] += G_D1
        acc["D"][1] += G_D2
        acc["D"][2] += G_D3
        acc["r"][0] += G_r1
        acc["r"][1] += G_r2
        return g

    def W_grads(self, acc, co):
        return {"theta": angle_grad(acc["D"], co["D"]),    # D = e^{iθ}
                "r_re": acc["r"].real, "r_im": acc["r"].imag}

    # -------------------------------------------------------- W on the host
    def recurrent_matrix(self):
        """W as a NumPy complex (N, N) matrix, assembled from the explicit factor
        matrices on the host (not from ``apply_W``): D_3 R_2 F^{-1} D_2 Π R_1 F D_1."""
        P = {k: to_numpy(v).astype(np.float64) for k, v in self.params.items()}
        N = self.hidden_size
        D = [np.diag(np.exp(1j * th)) for th in P["theta"]]
        R = []
        for re, im in zip(P["r_re"], P["r_im"]):
            r = re + 1j * im
            R.append(np.eye(N) - 2.0 * np.outer(r, r.conj()) / np.vdot(r, r).real)
        F = np.fft.fft(np.eye(N), axis=0, norm="ortho")
        Pi = np.eye(N)[self.perm]                           # (Π u)_i = u_perm[i]
        return D[2] @ R[1] @ F.conj().T @ D[1] @ Pi @ R[0] @ F @ D[0]


def reflect(u, r, n):
    """R u = u - 2 r (r^* u) / ||r||^2 for each row of u (B, N)."""
    s = u @ r.conj()                                        # r^* u per row, (B,)
    return u - (2.0 / n) * s[:, None] * r


def reflect_backward(g, u, r, n):
    r"""Backward of y = R u, R = I - 2 r r^*/n, n = r^* r, with g = dL/dy.

    dL/du = R g (R is Hermitian). With s = r^* u and p = g^* r per row:
    dL/dr = Σ_rows [-(2/n)(conj(s) g + p u) + (4/n²) Re(p s) r].
    """
    s = u @ r.conj()                                        # (B,)
    p = g.conj() @ r                                        # (B,)
    du = g - (2.0 / n) * (g @ r.conj())[:, None] * r        # R g
    dr = (-(2.0 / n) * (s.conj() @ g + p @ u)
          + (4.0 / (n * n)) * (p * s).real.sum() * r)
    return du, dr
