r"""What the unitary cells (``urnn``, ``eurnn``) share: complex arithmetic inside, real
arrays across the contract.

Both compute

.. math::

    z_t = W h_{t-1} + V x_t, \qquad h_t = \mathrm{modReLU}(z_t)
    \quad (\text{or } h_t = z_t \text{ with } \texttt{nonlinearity="identity"})

with a unitary W applied factor by factor, never as an N x N matrix. They differ only
in how W is built; a subclass supplies five hooks:

=====================================  ==========================================================
``coefficients()``                     W's factors from the parameters, once per forward/backward
``apply_W_keeping(h, co)``             (W h, kept) for a (B, N) batch: kept is W's
                                       intermediate vectors, which the forward keeps per step
``new_accumulators(B, co)``            zeroed buffers for ``apply_W_backward`` to add into
``apply_W_backward(g, h, co, acc,      W^H g (the backward of a unitary map is its conjugate
kept)``                                transpose), accumulating what W's parameter gradients need
``W_grads(acc, co)``                   those parameter gradients, after the time loop
=====================================  ==========================================================

and ``recurrent_matrix()``, W assembled on the host as a NumPy N x N matrix from the
explicit factor matrices (independently of ``apply_W``, W h alone, so tests can compare
the two).

**The real contract.** A complex state h in C^N (N = ``hidden_size``) travels as the real
(B, 2N) array [Re h, Im h], in the state tuple and in hs, so ``output_size = 2N``. Gradients of real
losses w.r.t. complex arrays are carried as dL/dRe + i dL/dIm; with that convention the
backward of y = A x is dL/dx = A^H dL/dy, and a real parameter θ that a complex c(θ)
depends on gets dL/dθ = Re(conj(dL/dc) · dc/dθ). A real cell (``eurnn`` with
``complex=False``) has a (B, N) real state and no packing.

Inside, complex64 for float32 cells and complex128 for float64 cells. The time loops
carry complex arrays only: hs and the final state are packed into [Re h, Im h] once
after the forward loop, and each dhs[t] is added straight into the carried complex
dL/dh_t (``add_output_grad``), so no step packs or unpacks a state.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..core.base import RecurrentCell
from ..core.ops import array_module, modrelu, modrelu_backward

MODRELU_EPS = 1e-5   # modReLU(z) = ReLU(|z| + b) z / (|z| + eps), as the uRNN code


def complex_dtype(dtype):
    return np.complex64 if np.dtype(dtype) == np.float32 else np.complex128


class UnitaryRNNBase(RecurrentCell):
    """Base of the unitary cells: the modReLU step, the input projection, the packing."""

    input_names = ("V_re", "V_im")   # names of the input weight (real and imaginary part)
    is_complex = True

    # ------------------------------------------------------------------ options, sizes
    def check_nonlinearity(self):
        if self.nonlinearity not in ("modrelu", "identity"):
            raise ValueError("nonlinearity must be 'modrelu' or 'identity'; got "
                             f"{self.nonlinearity!r}")

    @property
    def cdtype(self):
        """The dtype of the computation inside (complex, or the real dtype)."""
        return complex_dtype(self.dtype) if self.is_complex else self.dtype

    @property
    def output_size(self):
        return 2 * self.hidden_size if self.is_complex else self.hidden_size

    def initial_state(self, batch):
        batch = self._checked_batch(batch)
        return (self.xp.zeros((batch, self.output_size), dtype=self.dtype),)

    def to_complex(self, packed):
        """(B, 2N) real [Re, Im] -> (B, N) complex (the real variant: unchanged)."""
        if not self.is_complex:
            return packed
        N = self.hidden_size
        out = self.xp.empty(packed.shape[:-1] + (N,), dtype=self.cdtype)
        out.real, out.imag = packed[..., :N], packed[..., N:]
        return out

    def to_real(self, h, out=None):
        """(B, N) complex -> (B, 2N) real [Re h, Im h], written into ``out`` if given."""
        if not self.is_complex:
            if out is not None:
                out[...] = h
            return h if out is None else out
        N = self.hidden_size
        if out is None:
            out = self.xp.empty(h.shape[:-1] + (2 * N,), dtype=self.dtype)
        out[..., :N], out[..., N:] = h.real, h.imag
        return out

    def input_init(self, rng, bound):
        """The input weight(s), U(-bound, bound) entrywise, (N, D) each."""
        shape = (self.hidden_size, self.input_size)
        return {name: rng.uniform(-bound, bound, shape) for name in self.input_names}

    def _input_weight(self):
        """The input weight as one real (2N, D) matrix [V_re; V_im] (or V, (N, D))."""
        P = self.params
        if not self.is_complex:
            return P[self.input_names[0]]
        return self.xp.concatenate([P[n] for n in self.input_names], axis=0)

    # ------------------------------------------------------------------ W's hooks
    def coefficients(self):
        """W's factors from the parameters (a dict), once per forward and per backward."""
        raise NotImplementedError

    def apply_W(self, h, co):
        """W h for every row of h (B, N), factor by factor."""
        return self.apply_W_keeping(h, co)[0]

    def apply_W_keeping(self, h, co):
        """(W h, kept): W h and the intermediate vectors :meth:`apply_W_backward` needs.
        The forward keeps them for each step (memory for time: computing them again in the
        backward cost urnn and eurnn 5-15% of a training step)."""
        raise NotImplementedError

    def apply_W_backward(self, g, h, co, acc, kept):
        """W^* g for every row of g (B, N), given the step's input h and what
        :meth:`apply_W_keeping` kept of it; adds what W's parameter gradients need into
        ``acc``."""
        raise NotImplementedError

    def new_accumulators(self, B, co):
        """Zeroed buffers for ``apply_W_backward`` to add into over the time loop."""
        raise NotImplementedError

    def W_grads(self, acc, co):
        """W's parameter gradients (real, keyed like ``params``) from the accumulators."""
        raise NotImplementedError

    def recurrent_matrix(self):
        raise NotImplementedError

    # -------------------------------------------------------- hoisted out of the loop
    def prepare(self, cache):
        xp, T, B = self.xp, cache.T, cache.B
        cache.co = self.coefficients()
        cache.hc = xp.empty((T + 1, B, self.hidden_size), dtype=self.cdtype)   # h_0 .. h_T
        cache.hc[0] = self.to_complex(cache.state0[0])
        # V x_t for every t in one GEMM: (T, B, 2N) real, then viewed as complex (T, B, N)
        cache.z = self.to_complex(self.project(cache.x, self._input_weight()))
        cache.saved = [None] * T                            # modReLU's saved arrays per step
        cache.kept = [None] * T                             # W's intermediates per step
        if self._complex_modrelu:                           # |z_t| and φ_t (see _modrelu)
            cache.r, cache.phi = (xp.empty((T, B, self.hidden_size), dtype=self.dtype)
                                  for _ in range(2))

    def outputs(self, cache):
        hc = cache.hc[1:]                                   # packed once, all steps
        return self.to_real(hc, out=self.xp.empty(hc.shape[:-1] + (self.output_size,),
                                                  dtype=self.dtype))

    def _forward(self, x, state0):
        hs, _, cache = super()._forward(x, state0)
        return hs, (hs[-1].copy(),), cache                  # h_T, packed

    def _backward(self, dhs, cache, dstate):
        # the loop carries dL/dh complex: dL/dh_T unpacked, dL/dh_0 packed, once each
        dx, (g0,), grads, dh_norm = super()._backward(
            dhs, cache, (self.to_complex(dstate[0]).copy(),))   # (our own: added to in place)
        return dx, (self.to_real(g0),), grads, dh_norm

    def add_output_grad(self, dout_t, dstate):
        """dL/dh_t += dhs[t], unpacked on the way ([Re, Im] halves into the real and
        imaginary parts): in place, as the carried gradient is always this backward's own
        array, and no (T, B, N) complex copy of dhs is made (fresh memory costs more
        than these two strided passes)."""
        g = dstate[0]
        if not self.is_complex:
            g += dout_t
            return (g,)
        N = self.hidden_size
        g.real += dout_t[:, :N]
        g.imag += dout_t[:, N:]
        return (g,)

    def finish_backward(self, cache, work):
        xp = self.xp
        dz = self.to_real(work.dz)                          # (T, B, 2N): [dRe z, dIm z]
        dV = self.weight_grad(dz, cache.x)                  # z = V x: one GEMM over all steps
        N = self.hidden_size
        grads = ({self.input_names[0]: dV} if not self.is_complex else
                 {self.input_names[0]: dV[:N], self.input_names[1]: dV[N:]})
        grads.update(self.W_grads(work.acc, cache.co))
        if self.nonlinearity == "modrelu":
            grads["b"] = xp.sum(work.db, axis=(0, 1))       # b is shared by all t and batch rows
        grads = {k: grads[k].astype(self.dtype, copy=False) for k in self.params}
        return self.input_grad(dz, self._input_weight()), grads

    # -------------------------------------------------------- one time step
    def step(self, t, state, cache):
        z = cache.z[t]                                      # holds V x_t
        Wh, cache.kept[t] = self.apply_W_keeping(cache.hc[t], cache.co)
        z += Wh                                             # z_t = W h_{t-1} + V x_t
        if self._complex_modrelu:
            self._modrelu(z, t, cache)                      # h_t = modReLU(z_t)
        elif self.nonlinearity == "modrelu":                # real: sign(z) ReLU(|z| + b)
            cache.hc[t + 1], cache.saved[t] = modrelu(z, self.params["b"])
        else:
            cache.hc[t + 1] = z                             # h_t = z_t
        return (cache.hc[t + 1],)                           # complex (packed after the loop)

    @property
    def _complex_modrelu(self):
        return self.is_complex and self.nonlinearity == "modrelu"

    def _modrelu(self, z, t, cache):
        """h_t = modReLU(z_t) = φ z_t, φ = ReLU(|z_t| + b) / (|z_t| + eps), into hc[t + 1],
        keeping |z_t| and φ: five of its six passes write into preallocated buffers
        (``ops.modrelu``, for every cell, allocates each of its ten)."""
        xp, r, phi = self.xp, cache.r[t], cache.phi[t]
        xp.abs(z, out=r)
        xp.add(r, self.params["b"], out=phi)
        xp.maximum(phi, 0.0, out=phi)
        phi /= r + MODRELU_EPS
        xp.multiply(z, phi, out=cache.hc[t + 1])

    def _modrelu_backward(self, G, t, cache, work):
        """Backward of :meth:`_modrelu` (``ops.modrelu_backward``'s formula rearranged):
        q = Re(G z̄)/(|z| + eps), dL/db = q [φ > 0] and dL/dz = φ G + q ([φ > 0] - φ) z/|z|.
        Writes dL/dz into work.dz[t] (returned) and dL/db into work.db[t]."""
        xp, z, r, phi = self.xp, cache.z[t], cache.r[t], cache.phi[t]
        a = xp.multiply(G, xp.conj(z), out=work.c)          # G z̄
        q = xp.divide(a.real, r + MODRELU_EPS, out=work.q)  # dL/dφ = Re(G z̄), over |z| + eps
        active = phi > 0                                    # [|z| + b > 0]
        xp.multiply(q, active, out=work.db[t])              # dL/db
        k = xp.subtract(active, phi, out=work.k)            # (r + eps) dφ/dr
        k *= q
        k /= xp.maximum(r, np.finfo(self.dtype).tiny)       # z/|z| is 0 (…) where z = 0
        dz = xp.multiply(z, k, out=work.dz[t])
        dz += xp.multiply(G, phi, out=a)                    # + φ G
        return dz

    def prepare_backward(self, cache):
        xp, T, B, N = self.xp, cache.T, cache.B, self.hidden_size
        work = SimpleNamespace(dz=xp.empty((T, B, N), dtype=self.cdtype),
                               acc=self.new_accumulators(B, cache.co))
        if self.nonlinearity == "modrelu":
            work.db = xp.empty((T, B, N), dtype=self.dtype)
        if self._complex_modrelu:                           # scratch for _modrelu_backward
            work.c = xp.empty((B, N), dtype=self.cdtype)
            work.q, work.k = (xp.empty((B, N), dtype=self.dtype) for _ in range(2))
        return work

    def step_backward(self, t, dstate, cache, work):
        g = dstate[0]                                       # dL/dh_t as dL/dRe + i dL/dIm
        if self._complex_modrelu:                           # through modReLU, into work.dz[t]
            g = self._modrelu_backward(g, t, cache, work)
        else:
            if self.nonlinearity == "modrelu":
                g, work.db[t] = modrelu_backward(g, cache.saved[t])   # through modReLU
            work.dz[t] = g                                  # for V's gradient after the loop
        return (self.apply_W_backward(g, cache.hc[t], cache.co, work.acc,   # W^H dL/dz_t
                                      cache.kept[t]),)


# ---------------------------------------------------------------- shared math helpers
def diag_backward(g, u, d):
    """y = d ⊙ u (d = e^{iω}): returns dL/du = conj(d) g and dL/dd summed over the batch
    rows, whose chain to the angle is dL/dω = Re(conj(dL/dd) · i d) = Im(dL/dd conj(d))."""
    xp = array_module(g)
    return xp.conj(d) * g, (g * xp.conj(u)).sum(axis=0)


def angle_grad(G_d, d):
    """dL/dω for d = e^{iω}, given dL/dd (see :func:`diag_backward`)."""
    return (G_d * d.conj()).imag


# ---------------------------------------------------------------- capacity experiment
def random_unitary(N, seed=0, real=False):
    """A Haar-random unitary (orthogonal if ``real``) N x N matrix, NumPy, on the host:
    the Q of a QR decomposition of a Gaussian matrix, with R's diagonal made positive."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((N, N))
    if not real:
        A = A + 1j * rng.standard_normal((N, N))
    Q, R = np.linalg.qr(A)
    return Q * (np.diag(R) / np.abs(np.diag(R)))


def fit_recurrent_matrix(cell, target, maxiter=1000):
    """Fit the cell's W to ``target`` (N x N) on the cell's own parameters, with L-BFGS
    (scipy's quasi-Newton gradient method; plain Adam gets there too, but far slower:
    the problem is ill-conditioned).

    The cell must use ``nonlinearity="identity"``. One step from the N unit vectors e_b
    with x = 0 gives h_1 = W e_b, the columns of W, so the loss ||W - target||_F² and its
    gradient come from the cell's own forward and backward (the input weights get zero
    gradient and are left out). Returns the relative error ||W - target||_F /
    ||target||_F at every loss evaluation (NumPy array); the cell's parameters end at the
    fit. Host (NumPy) cells only.
    """
    from scipy.optimize import minimize
    from threadpoolctl import threadpool_limits
    if cell.nonlinearity != "identity":
        raise ValueError("fit_recurrent_matrix needs a cell built with nonlinearity='identity'")
    N, P = cell.hidden_size, cell.params
    keys = [k for k in P if k not in cell.input_names]
    eye = np.eye(N)
    h0 = np.concatenate([eye, 0 * eye], axis=1) if cell.is_complex else eye
    goal = target.T                                         # row b = target e_b
    goal = np.concatenate([goal.real, goal.imag], axis=1) if cell.is_complex else goal.real
    x = np.zeros((1, N, cell.input_size))
    errors, scale = [], np.linalg.norm(target)

    def loss_and_grad(theta):
        start = 0
        for k in keys:
            P[k][...] = theta[start:start + P[k].size].reshape(P[k].shape)
            start += P[k].size
        hs, _, cache = cell.forward(x, (h0,))
        diff = hs[0] - goal
        _, _, grads = cell.backward(2 * diff[None], cache)  # d||W - target||² / dhs
        errors.append(np.linalg.norm(diff) / scale)
        return float((diff * diff).sum()), np.concatenate([grads[k].ravel() for k in keys])

    theta0 = np.concatenate([P[k].ravel() for k in keys])
    with threadpool_limits(1):          # tiny BLAS calls: threads only spin (10x slower)
        result = minimize(loss_and_grad, theta0, jac=True, method="L-BFGS-B",
                          options={"maxiter": maxiter, "gtol": 1e-14, "ftol": 1e-18})
    loss_and_grad(result.x)
    return np.array(errors)
