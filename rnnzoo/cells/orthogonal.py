"""The orthogonal RNN: W = expm(A) (expRNN) or a scaled Cayley transform of A (scoRNN)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..core.backend import to_numpy
from ..core.base import RecurrentCell
from ..core.registry import register
from ..core.validation import check_choice, check_int
from .expm import expm_skew, expm_skew_backward


def skew_block_init(rng, H, init):
    r"""S with 2x2 skew blocks on the diagonal of A = S - S^T: A[2k, 2k+1] = s_k.

    "henaff": s_k ~ U(-pi, pi) (Henaff, Szlam & LeCun, 2016); "cayley": s_k =
    -sqrt((1 - cos θ)/(1 + cos θ)) = -tan(θ/2), θ ~ U(0, π/2) (Helfrich et al., 2018).
    As both authors' codes (expRNN ``create_diag_``; scoRNN ``A_init``).
    """
    n_blocks = H // 2
    if init == "henaff":
        s = rng.uniform(-np.pi, np.pi, n_blocks)
    else:
        theta = rng.uniform(0.0, np.pi / 2.0, n_blocks)
        s = -np.sqrt((1.0 - np.cos(theta)) / (1.0 + np.cos(theta)))
    S = np.zeros((H, H))
    S[2 * np.arange(n_blocks), 2 * np.arange(n_blocks) + 1] = s
    return S


@register("orthogonal")
class OrthogonalRNN(RecurrentCell):
    r"""An RNN whose recurrent matrix is orthogonal by construction.

    .. math::

        h_t = \varphi(W h_{t-1} + V x_t + b), \qquad W^\top W = I

    (with modReLU, b is the nonlinearity's magnitude bias instead, not added to z: see
    ``nonlinearity`` below).

    Column-vector convention: W multiplies :math:`h_{t-1}` from the left (the code
    computes the batch as ``h_prev @ W.T``). Both reference codes multiply row vectors
    (``h @ B``), so the matrix they build is our :math:`W^\top`. For expRNN that only
    turns A into -A. For scoRNN it moves D: its code applies
    :math:`B = (I + A)^{-1}(I - A)D` to rows, i.e. :math:`B^\top = D (I + A)(I - A)^{-1}`
    to columns, D on the left, while the paper's equations have D on the right. We
    follow the paper: :math:`W = (I + A)^{-1}(I - A) D` multiplies column vectors.

    An orthogonal W preserves norms: with :math:`\varphi` = identity,
    :math:`\partial L/\partial h_{t-1} = W^\top \partial L/\partial h_t` has exactly the
    norm of :math:`\partial L/\partial h_t`, over any number of steps.

    ``parametrization="exp"`` (expRNN; Lezcano-Casado & Martínez-Rubio, ICML 2019,
    "Cheap Orthogonal Constraints in Neural Networks"):

    .. math::

        A = S - S^\top \;(S \text{ strictly upper triangular}), \qquad W = e^{A},
        \qquad \frac{\partial L}{\partial A} = L_{\exp}(A^\top, \tfrac{\partial L}
        {\partial W})

    with :math:`L_{\exp}(X, E)` the Fréchet derivative of the matrix exponential. Both
    come from one eigendecomposition of the normal matrix A (:mod:`rnnzoo.cells.expm`; the
    same code on NumPy and CuPy), which keeps W orthogonal to round-off however large A
    grows; they agree with ``scipy.linalg.expm`` / ``expm_frechet`` to round-off.

    ``parametrization="cayley"`` (scoRNN; Helfrich, Willmott & Ye, ICML 2018,
    "Orthogonal Recurrent Neural Networks with Scaled Cayley Transform"):

    .. math::

        W = (I + A)^{-1} (I - A) D, \qquad
        \frac{\partial L}{\partial A} = -V_c, \quad
        V_c = (I + A)^{-\top} \frac{\partial L}{\partial W} (D + W^\top)

    D a fixed (not trained) diagonal of ±1 whose last ``n_negative`` entries are -1:
    the Cayley transform alone cannot reach orthogonal matrices with eigenvalue -1.
    The paper states its gradient as :math:`V_c^\top - V_c`: that is the gradient
    with respect to a skew-symmetric A, i.e.
    :math:`\partial L/\partial A - (\partial L/\partial A)^\top` in the notation
    below, not :math:`\partial L/\partial A` itself.

    In both, :math:`\partial L/\partial A` is the gradient with respect to A's
    entries taken as independent (as if A were any matrix). The trainable parameter is
    S (H, H); only its strictly upper triangle is used (the rest has gradient 0 and
    stays 0), and :math:`\partial L/\partial S_{ij} = \partial L/\partial A_{ij} -
    \partial L / \partial A_{ji}` for i < j (for Cayley: the upper triangle of
    :math:`V_c^\top - V_c`). :meth:`recurrent_matrix` returns the assembled W as a
    NumPy array.

    Nonlinearity :math:`\varphi` (``nonlinearity=``): "modrelu" (default), the real
    modReLU :math:`\mathrm{sign}(z)\,\mathrm{ReLU}(|z| + b)` in which b is the modReLU
    bias (not added to z); "identity" and "tanh" with b added to z. modReLU kinks at
    :math:`|z| + b = 0` and, for b > 0, jumps at z = 0 (finite-difference test points
    avoid them).

    Initialization, following the authors' codes: A from 2x2 skew blocks (``init=``
    "henaff" or "cayley", see :func:`skew_block_init`); exp: V Kaiming-normal
    :math:`\mathcal N(0, 2/D)` and b ~ U(-0.01, 0.01) (expRNN); cayley: V ~ U(-0.01,
    0.01) and b = 0 (scoRNN). With "identity" or "tanh" b starts at 0 in either (the
    U(-0.01, 0.01) draw is expRNN's modReLU bias). The authors train S with 1/10 of the
    others' learning rate (``lr_for={"cell0.S": lr / 10}``).

    Options
    -------
    parametrization : "exp" (default) or "cayley"
    nonlinearity : "modrelu" (default), "identity" or "tanh"
    init : "henaff" (default) or "cayley"
    n_negative : int in [0, H]
        The number of -1 entries of D (cayley only; 0 as scoRNN's code default).

    Notes
    -----
    Shapes: x (T, B, D), h (B, H); V (H, D), S (H, H), b (H,).
    """

    options = {"parametrization": "exp", "nonlinearity": "modrelu", "init": "henaff",
               "n_negative": 0}

    def check_options(self):
        self.parametrization = check_choice(self.parametrization, "parametrization",
                                            ("exp", "cayley"))
        self.nonlinearity = check_choice(self.nonlinearity, "nonlinearity",
                                         ("modrelu", "identity", "tanh"))
        self.init = check_choice(self.init, "init", ("henaff", "cayley"))
        self.n_negative = check_int(self.n_negative, "n_negative", minimum=0,
                                    maximum=self.hidden_size)
        if self.n_negative and self.parametrization != "cayley":
            raise ValueError("n_negative (the -1 entries of D) belongs to "
                             "parametrization='cayley'; got parametrization="
                             f"{self.parametrization!r} with n_negative={self.n_negative}")

    def init_params(self, rng):
        D, H = self.input_size, self.hidden_size
        S = skew_block_init(rng, H, self.init)
        if self.parametrization == "exp":
            V, b = rng.normal(0.0, np.sqrt(2.0 / D), (H, D)), rng.uniform(-0.01, 0.01, H)
        else:
            V, b = rng.uniform(-0.01, 0.01, (H, D)), np.zeros(H)
        if self.nonlinearity != "modrelu":
            b = np.zeros(H)
        d = np.ones(H)
        d[H - self.n_negative:] = -1.0
        self.d = self.backend.asarray(d, dtype=self.dtype)      # D's diagonal, not trained
        return {"V": V, "S": S, "b": b}

    # -------------------------------------------------------- W from S, and back
    def assemble(self):
        """(W, saved): W from the current S, and what :meth:`assemble_backward` needs."""
        xp = self.xp
        A = xp.triu(self.params["S"], 1)
        A = A - A.T                                              # A = S - S^T, skew
        if self.parametrization == "exp":
            return expm_skew(A)                                  # W = e^A
        ident = xp.eye(self.hidden_size, dtype=self.dtype)
        W = xp.linalg.solve(ident + A, ident - A) * self.d       # (I + A)^-1 (I - A) D
        return W, (A, W)

    def assemble_backward(self, dW, saved):
        """dL/dS from dL/dW (pure)."""
        xp = self.xp
        if self.parametrization == "exp":
            dA = expm_skew_backward(dW, saved)                   # L_exp(A^T, dL/dW)
        else:
            A, W = saved
            ident = xp.eye(self.hidden_size, dtype=self.dtype)
            Vc = xp.linalg.solve((ident + A).T, dW * self.d + dW @ W.T)  # (I+A)^-T G (D+W^T)
            dA = -Vc                                             # so dL/dS = triu(Vc^T - Vc)
        return xp.triu(dA - dA.T, 1)                             # A = S - S^T, S upper

    def recurrent_matrix(self) -> np.ndarray:
        """The current W (H, H) as a NumPy array on the host."""
        return to_numpy(self.assemble()[0])

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        P = self.params
        cache.W, cache.W_saved = self.assemble()
        cache.W_T = cache.W.T
        additive = None if self.nonlinearity == "modrelu" else P["b"]
        cache.z = self.project(cache.x, P["V"], additive)        # V x_t (+ b), all t: one GEMM
        cache.h = self.hidden_buffer(cache, cache.state0[0])
        cache.tmp = self.xp.empty_like(cache.h[0])

    def finish_backward(self, cache, work):
        P, xp, dz = self.params, self.xp, work.dz
        dW = self.weight_grad(dz, cache.h[:-1])                  # z = W h_{t-1} + ...
        grads = {"V": self.weight_grad(dz, cache.x),             # z = ... + V x_t
                 "S": self.assemble_backward(dW, cache.W_saved)}
        dx = self.input_grad(dz, P["V"])
        if self.nonlinearity == "modrelu":                       # sign(z) relu(|z| + b):
            dz *= xp.sign(cache.z, out=work.active)              # db = sum of dz sign(z)
        grads["b"] = self.bias_grad(dz)                          # (dz is no longer needed)
        return dx, {k: grads[k] for k in P}

    # -------------------------------------------------------- one time step
    def step(self, t, state, cache):
        xp = self.xp
        (h_prev,) = state
        z = cache.z[t]
        z += xp.matmul(h_prev, cache.W_T, out=cache.tmp)         # z_t = W h_{t-1} + V x_t
        h = cache.h[t + 1]
        if self.nonlinearity == "modrelu":                       # ops.modrelu for real z,
            r = xp.abs(z, out=cache.tmp)                         # in preallocated buffers
            r += self.params["b"]
            xp.maximum(r, 0.0, out=r)
            h = xp.sign(z, out=h)
            h *= r                                               # sign(z) relu(|z| + b)
        elif self.nonlinearity == "tanh":
            xp.tanh(z, out=h)
        else:
            xp.copyto(h, z)
        return (h,)

    def prepare_backward(self, cache):
        xp, z = self.xp, cache.z
        work = SimpleNamespace(dz=xp.empty_like(z), dh=xp.empty((2,) + z.shape[1:], z.dtype))
        if self.nonlinearity == "modrelu":                       # modReLU's slope [|z| + b > 0]
            work.active = active = xp.abs(z)                     # for every step at once
            active += self.params["b"]
            xp.maximum(active, 0.0, out=active)
            xp.sign(active, out=active)                          # sign(max(a, 0)) = [a > 0]
        return work

    def step_backward(self, t, dstate, cache, work):
        xp = self.xp
        (dh,) = dstate
        dz = work.dz[t]
        if self.nonlinearity == "modrelu":
            xp.multiply(dh, work.active[t], out=dz)              # through modReLU
        elif self.nonlinearity == "tanh":
            h = cache.h[t + 1]
            xp.multiply(h, h, out=dz)
            xp.subtract(1.0, dz, out=dz)
            dz *= dh                                             # through tanh: 1 - h^2
        else:
            xp.copyto(dz, dh)
        return (xp.matmul(dz, cache.W, out=work.dh[t % 2]),)    # W^T dz: through W h_{t-1}
