"""S4D: a diagonal state space model, run as a recurrence or as a convolution."""
from __future__ import annotations

import numpy as np

from ..core import scan
from ..core.backend import to_numpy
from ..core.base import Cache, RecurrentCell
from ..core.registry import register
from ..core.validation import check_int
from . import _options
from ._unitary import complex_dtype

MODES = ("recurrent", "convolution")
PROJECTIONS = ("auto", "none", "dense")


def fft_length(T):
    """The FFT length of the convolution mode: the smallest n >= 2T (zero padding to 2T
    makes the circular convolution a linear one, and the correlations of the backward
    wrap onto zeros) with no prime factor above 7, the radices NumPy's pocketfft and
    cuFFT run fastest. 2T itself when it has none (T = 16, 100, 784, 1000); for T = 1009,
    2T = 2 x 1009 would cost an FFT of a prime length, and 2025 = 3^4 5^2 is used."""
    n = 2 * T
    while True:
        m = n
        for p in (2, 3, 5, 7):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


@register("s4d")
class S4D(RecurrentCell):
    r"""S4D, the diagonal state space layer (Gu, Gupta, Goel & Ré, NeurIPS 2022, "On the
    Parameterization and Initialization of Diagonal State Space Models", arXiv:2206.11893),
    as the authors' minimal ``models/s4/s4d.py`` (state-spaces/s4) computes it.

    Each of the H channels is its own single-input single-output system with N complex
    modes n (h is dropped below: every symbol except v_t is per channel). The continuous
    system x'(s) = A x(s) + B v(s), y = 2 Re(C x) + D v, sampled with step Δ by the zero-
    order hold (the input held constant over each step):

    .. math::

        \begin{aligned}
        A_n &= -\exp(\log A^{re}_n) + i A^{im}_n, \qquad \Delta = \exp(\log \Delta) \\
        \bar A_n &= \exp(\Delta A_n), \qquad \bar B_n = (\exp(\Delta A_n) - 1) / A_n \\
        x_{t,n} &= \bar A_n x_{t-1,n} + \bar B_n v_t \\
        y_t &= 2\,\mathrm{Re} \textstyle\sum_n C_n x_{t,n} + D v_t
        \end{aligned}

    v_t is the input u_t (the contract's ``x``) when K = H, else W_in u_t (option
    ``input_projection``); y_t is the contract's ``hs``. The factor 2 Re: each complex
    mode stands for itself and its conjugate, so the real system has 2N states. B is 1
    (as the authors' minimal code: only the product C_n B_n reaches y, so a trained B
    would be redundant with C); the hold's input factor (exp(ΔA) - 1)/A · B is this with B = 1.

    **Why the zero-order hold, not Euler.** Euler's Ā = 1 + ΔA has |Ā|² = (1 - ΔA^re)² +
    (Δ A^im)², above 1 as soon as Δ A^im is large: with A^im = π n and Δ = 0.1, mode 31 has
    |Ā| = 9.8 and the recurrence explodes. The hold gives |Ā| = exp(-Δ exp(log A^re)) < 1 for
    every Δ > 0 and every frequency, and it is exact when v is constant over a step.

    **The memory horizon is |Ā| = exp(-Δ A^re).** x_{t,n} depends on x_{t-k,n} through
    Ā_n^k, so the gradient over k steps is |Ā_n|^k = exp(-k Δ A^re_n) per mode (the phase
    only rotates): a mode remembers about 1/(Δ A^re) steps. S4D-Lin's A^re = 1/2 and
    Δ in [0.001, 0.1] give horizons from 20 to 2,000 steps.

    **Recurrence and convolution are one map.** Unrolled from x_{-1} = 0,
    x_t = Σ_{l<=t} Ā^l B̄ v_{t-l}, so y = K * v + D v with the kernel

    .. math:: K_l = 2\,\mathrm{Re} \textstyle\sum_n C_n \bar B_n \bar A_n^l, \qquad l = 0..T-1,

    fixed before the input is seen (the system is time-invariant). ``mode="recurrent"``
    runs the scan (:func:`rnnzoo.core.scan.linear_scan`, O(B H N T), sequential in T);
    ``mode="convolution"`` builds K from the Vandermonde V_{n,l} = exp(l Δ A_n) (O(H N T))
    and applies it by FFT (O(B H T log T), parallel in T). They agree to round-off
    (tests/test_s4d.py: 1e-10 in float64, forward and every gradient).

    A state carried into convolution mode adds the free response of x_{-1}, y_t +=
    2 Re Σ_n C_n Ā_n^{t+1} x_{-1,n}, and the final state is x_{T-1} = Ā^T x_{-1} +
    B̄ Σ_s Ā^{T-1-s} v_s: two batched matrix products with V, O(B H N T) in flops but one
    BLAS call each, so a sequence splits at any step in both modes. One cost convolution
    mode cannot avoid: ``grads.dh_norm`` (‖dL/dx_t‖ for every t over B, H and N) is
    B H N numbers per step, so its backward runs the reverse recurrence for it, O(B H N T).

    Initialization, as the authors' ``S4DKernel`` (S4D-Lin): log Δ ~ U[log dt_min,
    log dt_max] per channel, A^re = 1/2 and A^im_n = π n (n = 0..N-1) in every channel,
    C complex normal (Re, Im ~ N(0, 1/2)), D ~ N(0, 1); W_in ~ N(0, 1/K). Their N is the
    real state size 2N here (``d_state=64`` is ``state_size=32``).

    State: x travels across the contract as the real (B, 2 H N) array [Re x, Im x], x
    flattened channel-major (h, n); inside, complex64 for float32 cells, complex128 for
    float64. ``grads.dh_norm[t]`` is ‖dL/dx_t‖: y_t's own 2 conj(C) dL/dy_t plus conj(Ā)
    dL/dx_{t+1}.

    Shapes: u (T, B, K); log_dt (H,); log_A_real, A_imag, C_re, C_im (H, N); D (H,);
    W_in (H, K).

    Options
    -------
    state_size : N, complex modes per channel, an int >= 1 (default 32)
    dt_min, dt_max : the range of the initial Δ, 0 < dt_min <= dt_max (0.001, 0.1)
    mode : "convolution" (default: as the authors train it; it stores no (T, B, H, N)
        array, and its forward + backward at T = 1024, B = 16, D = H = 128, N = 32,
        float32, one thread is several times faster than the recurrent mode's: the
        ``revival`` table of ``figures/speed/scan.md``) or "recurrent"
    scan : the recurrent mode's scan form, "auto" (default), "loop" or "doubling"
    input_projection : "auto" (default: "none" when K = H, else "dense"), "none" (v = u,
        needs K = H: the paper's layer) or "dense" (v = W_in u, no bias)
    """

    options = {"state_size": 32, "dt_min": 1e-3, "dt_max": 1e-1, "mode": "convolution",
               "scan": "auto", "input_projection": "auto"}
    state_names = ("x",)

    def check_options(self):
        self.state_size = _options.integer("state_size", self.state_size, lo=1)
        self.dt_min = _options.real("dt_min", self.dt_min, lo=0.0, lo_open=True)
        self.dt_max = _options.real("dt_max", self.dt_max, lo=0.0, lo_open=True)
        if not self.dt_min <= self.dt_max:
            raise ValueError(f"dt_min must be <= dt_max (log Δ is uniform between their "
                             f"logs); got dt_min={self.dt_min!r}, dt_max={self.dt_max!r}")
        self.mode = _options.choice("mode", self.mode, MODES)
        self.scan = _options.scan_form("scan", self.scan,
                                       "the log-space scan needs a real a > 0; a is complex")
        self.input_projection = _options.choice("input_projection", self.input_projection,
                                                PROJECTIONS)
        if self.input_projection == "none" and self.input_size != self.hidden_size:
            raise ValueError("input_projection='none' (v = u, the paper's layer) must have "
                             f"input_size == hidden_size; got input_size={self.input_size}, "
                             f"hidden_size={self.hidden_size} (use 'dense' or 'auto')")

    # ------------------------------------------------------------------ sizes, init
    @property
    def N(self):
        """Complex modes per channel."""
        return self.state_size

    @property
    def projected(self):
        """True when v = W_in u (a dense input map), False when v = u."""
        return self.input_projection == "dense" or (
            self.input_projection == "auto" and self.input_size != self.hidden_size)

    @property
    def cdtype(self):
        return complex_dtype(self.dtype)

    def initial_state(self, batch):
        batch = self._checked_batch(batch)
        return (self.xp.zeros((batch, 2 * self.hidden_size * self.N), dtype=self.dtype),)

    def init_params(self, rng):
        H, N, K = self.hidden_size, self.N, self.input_size
        lo, hi = np.log(self.dt_min), np.log(self.dt_max)
        params = {"log_dt": lo + rng.random(H) * (hi - lo),
                  "log_A_real": np.full((H, N), np.log(0.5)),
                  "A_imag": np.tile(np.pi * np.arange(N), (H, 1)),
                  "C_re": rng.standard_normal((H, N)) * np.sqrt(0.5),
                  "C_im": rng.standard_normal((H, N)) * np.sqrt(0.5),
                  "D": rng.standard_normal(H)}
        if self.projected:
            params["W_in"] = rng.standard_normal((H, K)) / np.sqrt(K)
        return params

    # ------------------------------------------------------------------ discretization
    def _discretize(self):
        """Δ (H,), A, ΔA, Ā, B̄ (H, N), in float64 / complex128 whatever the cell's dtype
        (they are small, and Ā - 1 loses digits for small ΔA): the zero-order hold."""
        xp, P = self.xp, self.params
        dt = xp.exp(P["log_dt"].astype(np.float64))                     # Δ = exp(log Δ)
        A = -xp.exp(P["log_A_real"].astype(np.float64)) + 1j * P["A_imag"]   # A
        dtA = dt[:, None] * A                                           # ΔA
        Abar = xp.exp(dtA)                                              # Ā = exp(ΔA)
        Bbar = 2.0 * xp.exp(0.5 * dtA) * xp.sinh(0.5 * dtA) / A         # (exp(ΔA) - 1)/A
        return dt, A, dtA, Abar, Bbar

    def recurrent_eigenvalues(self):
        """Ā (H, N), NumPy complex128: |Ā| = exp(-Δ exp(log A^re)) is each mode's decay."""
        return to_numpy(self._discretize()[3])

    def kernel(self, T):
        """The convolution kernel K (H, T), K_l = 2 Re Σ_n C_n B̄_n Ā_n^l, float64 NumPy."""
        T = check_int(T, "T", minimum=1, where=self._where("kernel"))
        _, _, dtA, _, Bbar = self._discretize()
        C = self.params["C_re"] + 1j * self.params["C_im"]
        V = self.xp.exp(dtA[:, :, None] * self.xp.arange(T))
        return to_numpy(2.0 * self.xp.einsum("hn,hnl->hl", C * Bbar, V).real)

    # ------------------------------------------------------------------ helpers
    def _inputs(self, u):
        """v (T, B, H): u, or W_in u for every t in one GEMM."""
        return self.project(u, self.params["W_in"]) if self.projected else u

    def _to_complex(self, packed):
        """(B, 2HN) real [Re x, Im x] -> (B, H, N) complex."""
        HN = self.hidden_size * self.N
        out = self.xp.empty((packed.shape[0], self.hidden_size, self.N), dtype=self.cdtype)
        out.real, out.imag = (p.reshape(out.shape) for p in (packed[:, :HN], packed[:, HN:]))
        return out

    def _to_packed(self, z):
        """(B, H, N) complex -> (B, 2HN) real [Re x, Im x]."""
        z = z.reshape(z.shape[0], -1)
        return self.xp.concatenate([z.real, z.imag], axis=-1).astype(self.dtype, copy=False)

    def _rv(self, z):
        """Complex z (..., N) read as real (..., N, 2), (Re, Im) pairs: no copy when z is
        contiguous. Sums of complex times real products then run as real einsums."""
        return self.xp.ascontiguousarray(z).view(self.dtype).reshape(z.shape + (2,))

    def _chain(self, d_dtA, dBbar, dt, A, Abar, Bbar):
        """dL/d(log_dt, log_A_real, A_imag) from dL/d(ΔA) and dL/dB̄ (complex gradients
        dL/dRe + i dL/dIm; for holomorphic z = f(w), dL/dw = conj(f'(w)) dL/dz)."""
        # B̄ = (exp(ΔA) - 1)/A: ∂B̄/∂A = (Δ Ā - B̄)/A, ∂B̄/∂Δ = Ā; ΔA: ∂/∂A = Δ, ∂/∂Δ = A
        dA = dt[:, None] * d_dtA + (dt[:, None] * Abar - Bbar).conj() / A.conj() * dBbar
        ddt = (d_dtA.conj() * A).real.sum(axis=1) + (dBbar.conj() * Abar).real.sum(axis=1)
        return {"log_dt": dt * ddt,                                   # Δ = exp(log Δ)
                "log_A_real": A.real * dA.real,                       # Re A = -exp(log A^re)
                "A_imag": dA.imag}                                    # A = .. + i A^im

    def _finish(self, u, dv, grads):
        """dL/du and dL/dW_in from dL/dv; every gradient in the cell's dtype and order."""
        if self.projected:                                    # v = W_in u
            grads["W_in"] = self.weight_grad(dv, u)
            du = self.input_grad(dv, self.params["W_in"])
        else:
            du = dv
        grads = {k: grads[k].astype(self.dtype, copy=False) for k in self.params}
        return du.astype(self.dtype, copy=False), grads

    # ------------------------------------------------------------------ forward
    def _forward(self, u, state0):
        T, B, _ = u.shape
        dt, A, dtA, Abar, Bbar = self._discretize()
        C = (self.params["C_re"] + 1j * self.params["C_im"]).astype(self.cdtype)
        v = self._inputs(u)
        x0 = self._to_complex(state0[0])
        cache = Cache(x=u, state0=state0, T=T, B=B, dt=dt, A=A, Abar=Abar, Bbar=Bbar, C=C,
                      v=v, x0=x0)
        if self.mode == "recurrent":
            y, xT = self._recurrent(cache)
        else:
            y, xT = self._convolution(cache, dtA)
        y += self.params["D"] * v                                # + D v_t
        return y, (self._to_packed(xT),), cache

    def _recurrent(self, c):
        xp, T, B, H, N = self.xp, c.T, c.B, self.hidden_size, self.N
        c.a = c.Abar.astype(self.cdtype).reshape(H * N)
        b = xp.multiply(c.v[..., None], c.Bbar.astype(self.cdtype))   # B̄ v_t, (T, B, H, N)
        c.xs = scan.linear_scan(c.a, b.reshape(T, B, H * N), c.x0.reshape(B, H * N),
                                mode=self.scan).reshape(T, B, H, N)   # every x_t
        W_out = 2.0 * self._rv(c.C.conj())             # 2 Re(C x) = 2 (C_re x_re - C_im x_im)
        y = xp.einsum("tbhnk,hnk->tbh", self._rv(c.xs), W_out)
        return y, c.xs[-1]

    def _vandermonde(self, dtA, L):
        """V_l = Ā^l = exp(l ΔA) for l = 0..L-1 as [Re V; Im V], (H, 2N, L) real: the
        modulus exp(l Re ΔA) and the phase l Im ΔA by real exp, cos and sin (several times
        faster than the complex exp, and no stacking copy)."""
        xp, H, N = self.xp, self.hidden_size, self.N
        l = xp.arange(L, dtype=self.dtype)
        modulus = xp.exp(dtA.real.astype(self.dtype)[:, :, None] * l)   # |Ā|^l
        phase = dtA.imag.astype(self.dtype)[:, :, None] * l
        V = xp.empty((H, 2, N, L), dtype=self.dtype)
        xp.multiply(modulus, xp.cos(phase), out=V[:, 0])
        xp.multiply(modulus, xp.sin(phase), out=V[:, 1])
        return V.reshape(H, 2 * N, L)

    def _convolution(self, c, dtA):
        """Time last, (H, B, T), so the FFTs run on contiguous rows; every product of a
        complex and a real factor is one real batched GEMM on [Re; Im] stacked."""
        xp, T, N = self.xp, c.T, self.N
        F = fft_length(T)                               # zero padding: linear, not circular
        c.V = self._vandermonde(dtA, T + 1)                             # [Re; Im] Ā^l
        c.W = c.C * c.Bbar.astype(self.cdtype)                           # C B̄
        W_row = xp.concatenate([c.W.real, -c.W.imag], axis=1)[:, None]  # 2 Re(W V) = 2 (W_re
        c.K = 2.0 * xp.matmul(W_row, c.V[:, :, :T])[:, 0]               # V_re - W_im V_im)
        c.vt = xp.ascontiguousarray(c.v.transpose(2, 1, 0))             # (H, B, T)
        c.Fv = xp.fft.rfft(c.vt, n=F)
        c.FK = xp.fft.rfft(c.K, n=F)[:, None]
        yt = xp.fft.irfft(c.Fv * c.FK, n=F)[..., :T]                    # K * v
        c.x0_nonzero = bool(to_numpy(xp.any(c.x0)))   # exact zeros skip two GEMMs of zeros
        if c.x0_nonzero:      # the free response of x_{-1}: y_t += 2 Re Σ_n C_n Ā_n^(t+1) x_n
            z0 = (c.C * c.x0).transpose(1, 0, 2)                         # (H, B, N)
            yt += 2.0 * xp.matmul(xp.concatenate([z0.real, -z0.imag], axis=2), c.V[:, :, 1:])
        # x_{T-1} = Ā^T x_{-1} + B̄ P, P = Σ_s Ā^(T-1-s) v_s = Σ_j V_j v_(T-1-j)
        P = xp.matmul(c.V[:, :, :T], c.vt[:, :, ::-1].transpose(0, 2, 1))   # (H, 2N, B)
        c.P = (P[:, :N] + 1j * P[:, N:]).transpose(2, 0, 1)              # (B, H, N)
        V_T = c.V[:, :N, T] + 1j * c.V[:, N:, T]
        xT = V_T * c.x0 + c.Bbar.astype(self.cdtype) * c.P
        y = xp.ascontiguousarray(yt.transpose(2, 1, 0)).astype(self.dtype, copy=False)
        return y, xT

    # ------------------------------------------------------------------ backward
    def _backward(self, dy, cache, dstate):
        c = cache
        dS = self._to_complex(dstate[0])                          # dL/dx_{T-1} from outside
        grads = {"D": self.xp.einsum("tbh,tbh->h", dy, c.v)}      # y_t += D v_t
        dv = dy * self.params["D"]
        if self.mode == "recurrent":
            d_dtA, dBbar, dC, dx0, dh_norm = self._recurrent_backward(c, dy, dS, dv)
        else:
            d_dtA, dBbar, dC, dx0, dh_norm = self._convolution_backward(c, dy, dS, dv)
        grads.update(self._chain(d_dtA, dBbar, c.dt, c.A, c.Abar, c.Bbar))
        grads["C_re"], grads["C_im"] = dC.real, dC.imag
        du, grads = self._finish(c.x, dv, grads)
        return du, (self._to_packed(dx0),), grads, dh_norm

    def _recurrent_backward(self, c, dy, dS, dv):
        xp, T, B, H, N = self.xp, c.T, c.B, self.hidden_size, self.N
        # y_t = 2 Re Σ_n C_n x_t,n: dL/dx_t from y_t's own loss is 2 conj(C) dy_t
        g = xp.multiply(dy[..., None], 2.0 * c.C.conj())          # (T, B, H, N)
        g[-1] += dS                                               # x_{T-1} is the final state
        # x_t = Ā x_{t-1} + B̄ v_t: δ_t = g_t + conj(Ā) δ_{t+1} = dL/dx_t
        da, delta, dx0 = scan.linear_scan_backward(
            c.a, c.xs.reshape(T, B, H * N), c.x0.reshape(B, H * N), g.reshape(T, B, H * N),
            mode=self.scan)
        delta = delta.reshape(T, B, H, N)
        d_re = self._rv(delta)                                    # (T, B, H, N, 2)
        dh_norm = xp.sqrt(xp.einsum("tbhnk,tbhnk->t", d_re, d_re)).astype(np.float64)
        dBbar = xp.einsum("tbhnk,tbh->hnk", d_re, c.v)           # b_t = B̄ v_t: Σ δ v
        dBbar = dBbar[..., 0] + 1j * dBbar[..., 1]
        Bbar_rv = self._rv(c.Bbar.astype(self.cdtype))
        dv += xp.einsum("tbhnk,hnk->tbh", d_re, Bbar_rv)         # Re Σ_n conj(B̄) δ
        dC = 2.0 * xp.einsum("tbhnk,tbh->hnk", self._rv(c.xs), dy)    # 2 Σ dy conj(x)
        dC = dC[..., 0] - 1j * dC[..., 1]
        d_dtA = c.Abar.conj() * da.reshape(H, N)                  # Ā = exp(ΔA)
        return d_dtA, dBbar, dC, dx0.reshape(B, H, N), dh_norm

    def _convolution_backward(self, c, dy, dS, dv):
        xp, T, H, N = self.xp, c.T, self.hidden_size, self.N
        F = fft_length(T)
        Bbar = c.Bbar.astype(self.cdtype)
        dyt = xp.ascontiguousarray(dy.transpose(2, 1, 0))         # (H, B, T)
        Fy = xp.fft.rfft(dyt, n=F)
        # y = K * v: dK_l = Σ_t,b dy_t v_(t-l), dv_s += Σ_t dy_t K_(t-s) (correlations)
        dK = xp.fft.irfft((Fy * c.Fv.conj()).sum(axis=1), n=F)[:, :T]          # (H, T)
        dvt = xp.fft.irfft(Fy * c.FK.conj(), n=F)[..., :T]                     # (H, B, T)
        dV = xp.zeros((H, 2 * N, T + 1), dtype=self.dtype)       # dL/dV as [Re; Im]
        # K_l = 2 Re Σ_n W_n V_l: dW = 2 Σ_l dK_l conj(V_l), dV_l += 2 conj(W) dK_l
        dW = 2.0 * xp.matmul(c.V[:, :, :T], dK[:, :, None])[:, :, 0]
        dW = dW[:, :N] - 1j * dW[:, N:]
        dV[:, :, :T] += 2.0 * xp.concatenate([c.W.real, -c.W.imag], axis=1)[:, :, None] \
            * dK[:, None, :]
        dC = dW * Bbar.conj()                                     # W = C B̄
        dBbar = dW * c.C.conj()
        # y_t += 2 Re Σ_n z0_n V_(t+1), z0 = C x_{-1}: dz0 = 2 Σ_t dy_t conj(V_(t+1))
        dz0 = 2.0 * xp.matmul(dyt, c.V[:, :, 1:].transpose(0, 2, 1))         # (H, B, 2N)
        dz0 = dz0[..., :N] - 1j * dz0[..., N:]
        dx0 = (c.C.conj()[:, None, :] * dz0).transpose(1, 0, 2)   # (B, H, N)
        x0 = c.x0.transpose(1, 0, 2)                              # (H, B, N)
        if c.x0_nonzero:                                          # dV_(t+1) += 2 Σ_b dy_t conj(z0)
            z0 = c.C[:, None, :] * x0
            dV[:, :, 1:] += 2.0 * xp.matmul(
                xp.concatenate([z0.real, -z0.imag], axis=2).transpose(0, 2, 1), dyt)
            dC += (dz0 * x0.conj()).sum(axis=1)                   # z0 = C x_{-1}
        # x_{T-1} = V_T x_{-1} + B̄ P, P = Σ_j V_j v_(T-1-j)
        dx0 += (c.V[:, :N, T] - 1j * c.V[:, N:, T]) * dS          # conj(V_T) dS
        if bool(to_numpy(xp.any(dS))):                            # else every term is zero
            dVT = (dS * c.x0.conj()).sum(axis=0)
            dV[:, :N, T] += dVT.real
            dV[:, N:, T] += dVT.imag
            dBbar += (dS * c.P.conj()).sum(axis=0)
            dP = Bbar.conj()[:, :, None] * dS.transpose(1, 2, 0)  # (H, N, B)
            dP = xp.concatenate([dP.real, dP.imag], axis=1)       # [Re; Im], (H, 2N, B)
            v_rev = c.vt[:, :, ::-1]                              # v_(T-1-j), (H, B, T)
            dV[:, :, :T] += xp.matmul(dP, v_rev)                  # dV_j += Σ_b dP v_(T-1-j)
            dvt[:, :, ::-1] += xp.matmul(c.V[:, :, :T].transpose(0, 2, 1), dP).transpose(
                0, 2, 1)                                          # Re Σ_n conj(V_j) dP
        dv += dvt.transpose(2, 1, 0)
        # V_l = exp(l ΔA): dL/d(ΔA) = Σ_l l conj(V_l) dV_l
        lV = c.V * xp.arange(T + 1.0)                            # l V_l as [Re; Im]
        re = (lV[:, :N] * dV[:, :N]).sum(axis=2) + (lV[:, N:] * dV[:, N:]).sum(axis=2)
        im = (lV[:, :N] * dV[:, N:]).sum(axis=2) - (lV[:, N:] * dV[:, :N]).sum(axis=2)
        dh_norm = self._state_gradient_norms(dy, dS, c)
        return re + 1j * im, dBbar, dC, dx0, dh_norm

    def _state_gradient_norms(self, dy, dS, c):
        """‖dL/dx_t‖ for every t by the reverse recurrence δ_t = 2 conj(C) dy_t +
        conj(Ā) δ_{t+1} (δ_{T-1} includes dS): only the norms, one (B, H, N) buffer."""
        xp = self.xp
        a_conj = c.Abar.astype(self.cdtype).conj()
        C2 = 2.0 * c.C.conj()
        delta, tmp = dS.copy(), xp.empty_like(dS)
        flat = delta.view(self.dtype).reshape(-1)                 # Re, Im pairs: no copy
        out = xp.empty(c.T)
        for t in reversed(range(c.T)):
            if t < c.T - 1:
                delta *= a_conj
            delta += xp.multiply(dy[t][..., None], C2, out=tmp)
            out[t] = xp.dot(flat, flat)                           # ‖δ_t‖²
        return xp.sqrt(out)
