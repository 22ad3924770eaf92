"""LRU: the Linear Recurrent Unit, a complex diagonal linear recurrence run as a scan."""
from __future__ import annotations

import numpy as np

from ..core import scan
from ..core.backend import to_numpy
from ..core.base import Cache, RecurrentCell
from ..core.registry import register
from . import _options
from ._unitary import complex_dtype

FEEDTHROUGH = ("auto", "diagonal", "dense")


@register("lru")
class LRU(RecurrentCell):
    r"""Linear Recurrent Unit (Orvieto, Smith, Gu, Fernando, Gulcehre, Pascanu & De, ICML
    2023, "Resurrecting Recurrent Neural Networks for Long Sequences", arXiv:2303.06349).

    The paper's symbols: u_t is the input (the contract's ``x``), x_t in C^N the state,
    y_t the output (the contract's ``hs``):

    .. math::

        \begin{aligned}
        \lambda &= \exp(-\exp(\nu^{\log}) + i \exp(\theta^{\log})) \in \mathbb C^N,
            \qquad \gamma = \exp(\gamma^{\log}) \in \mathbb R^N \\
        x_t &= \lambda \odot x_{t-1} + \gamma \odot (B u_t) \\
        y_t &= \mathrm{Re}(C x_t) + D u_t
        \end{aligned}

    with B = ``B_re + 1j * B_im`` (N, K), C = ``C_re + 1j * C_im`` (H, N) and D real: the
    paper's elementwise D ⊙ u_t, ``D`` (H,), when K = H, else a dense ``D`` (H, K) (option
    ``feedthrough``). K is the input size here, to keep the letter D for the matrix.

    The recurrence has no matrix product and no nonlinearity, so it is one call of
    :func:`rnnzoo.core.scan.linear_scan` with a = λ over the whole sequence (option
    ``mode``); every B u_t is one GEMM before it, every y_t one GEMM after it.

    **The gradient over k steps is |λ|^k, exactly.** ∂x_t/∂x_{t-k} = diag(λ^k): unit n's
    Jacobian over k steps, as a real 2 x 2 block on (Re x_n, Im x_n), is |λ_n|^k times a
    rotation by k θ_n, so ‖∂x_t/∂x_{t-k}‖ = |λ_n|^k per unit, whatever the input. The
    gradient-norm curve is known before anything runs (``recurrent_eigenvalues()``).

    **|λ| < 1 whatever the optimizer does.** |λ| = exp(-exp(ν^log)) < 1 for every finite
    ν^log: no parameter value makes the recurrence explode. (In floating point exp(-ν)
    rounds to 1, a norm-preserving unit, once ν = exp(ν^log) is below half the spacing of
    the numbers just under 1 (2^-54 in float64, 2^-25 in float32): ν^log below about
    -37.4 in float64 and -17.3 in float32 (tests/test_lru.py); |λ| then exceeds 1 by at
    most the rounding of cos θ and sin θ, about 1e-16 in float64.)

    **γ keeps the state's scale as |λ| → 1.** For white-noise B u_t of variance s² per
    unit, the stationary E|x_n|² is γ_n² s² / (1 - |λ_n|²): without γ it grows without
    bound as |λ_n| → 1, with γ_n = sqrt(1 - |λ_n|²) it stays s².

    Normalization, as the paper's appendix code (and NicolasZucchet/minimal-LRU): γ^log
    is a *trainable parameter* ``gamma_log`` (N,), initialized to log sqrt(1 - |λ|²) and
    then free (its gradient does not flow into ν^log): γ = sqrt(1 - |λ|²), as the
    paper's text writes it, holds at initialization only. ``normalization=False``
    removes it (γ = 1).

    Initialization, as the paper's ``init_lru_parameters``: |λ|² uniform on
    [r_min², r_max²] (area-uniform on the ring r_min ≤ |λ| ≤ r_max, written into ν^log =
    log(-½ log(u (r_max² - r_min²) + r_min²))), phase θ = max_phase · u', θ^log = log θ;
    B_re, B_im ~ N(0, 1/(2K)), C_re, C_im ~ N(0, 1/N) ("Glorot-like"); D ~ N(0, 1)
    elementwise (dense D: N(0, 1/K), the same output variance). Here u, u' are drawn
    in (0, 1], so the logs are finite. The code's own defaults are r_min = 0, r_max = 1,
    max_phase = 6.28 (the whole disk); ours are the ring [0.9, 0.999] with the full phase
    2π, a long-memory setting for the zoo's tasks (the paper tunes the three per task).

    State: x travels across the contract as the real (B, 2N) array [Re x, Im x] (as
    ``urnn``); inside, complex64 for float32 cells and complex128 for float64.
    ``grads.dh_norm[t]`` is ‖dL/dx_t‖ (over the batch, Re and Im): the total gradient
    reaching the carried state x_t, from y_t's loss (C^H dL/dy_t) and from x_{t+1}
    (conj(λ) ⊙ dL/dx_{t+1}). With a loss at the last step only, unit n's part of it
    shrinks as |λ_n|^(T-1-t) (tests/test_lru.py).

    Shapes: u (T, B, K); nu_log, theta_log, gamma_log (N,); B_re, B_im (N, K); C_re,
    C_im (H, N); D (H,) or (H, K).

    Options
    -------
    state_size : N, an int >= 1, or None for N = hidden_size (default)
    r_min, r_max : the ring of the initial |λ|, 0 <= r_min < r_max < 1 (0.9, 0.999)
    max_phase : > 0, the initial phases are uniform in [0, max_phase] (2π)
    normalization : True (default, the trainable γ) or False (γ = 1)
    feedthrough : "auto" (default: "diagonal" when K = H, else "dense"), "diagonal"
        (the paper's D ⊙ u_t, needs K = H) or "dense"
    mode : the scan's form, "auto" (default), "loop" or "doubling" (not "log": the
        log-space scan needs a real positive a, and λ is complex)
    """

    options = {"state_size": None, "r_min": 0.9, "r_max": 0.999, "max_phase": 2 * np.pi,
               "normalization": True, "feedthrough": "auto", "mode": "auto"}
    state_names = ("x",)

    def check_options(self):
        if self.state_size is not None:
            try:
                self.state_size = _options.integer("state_size", self.state_size, lo=1)
            except ValueError:
                raise ValueError("state_size must be None (N = hidden_size) or an integer "
                                 f">= 1; got {self.state_size!r}") from None
        self.r_min = _options.real("r_min", self.r_min, lo=0.0, hi=1.0, hi_open=True)
        self.r_max = _options.real("r_max", self.r_max, lo=0.0, hi=1.0, lo_open=True,
                                   hi_open=True)
        if not self.r_min < self.r_max:
            raise ValueError(f"r_min must be < r_max (the ring r_min <= |λ| <= r_max); got "
                             f"r_min={self.r_min!r}, r_max={self.r_max!r}")
        self.max_phase = _options.real("max_phase", self.max_phase, lo=0.0, lo_open=True)
        self.normalization = _options.flag("normalization", self.normalization)
        self.feedthrough = _options.choice("feedthrough", self.feedthrough, FEEDTHROUGH)
        if self.feedthrough == "diagonal" and self.input_size != self.hidden_size:
            raise ValueError("feedthrough='diagonal' (the paper's D ⊙ u_t) must have "
                             "input_size == hidden_size; got input_size="
                             f"{self.input_size}, hidden_size={self.hidden_size} (use "
                             "'dense' or 'auto')")
        self.mode = _options.scan_form("mode", self.mode,
                                       "the log-space scan needs a real a > 0; λ is complex")

    # ------------------------------------------------------------------ sizes, init
    @property
    def N(self):
        """The state size (complex units)."""
        return self.hidden_size if self.state_size is None else self.state_size

    @property
    def diagonal(self):
        """True when D is the paper's elementwise (H,) feedthrough."""
        return self.feedthrough == "diagonal" or (
            self.feedthrough == "auto" and self.input_size == self.hidden_size)

    @property
    def cdtype(self):
        return complex_dtype(self.dtype)

    def initial_state(self, batch):
        batch = self._checked_batch(batch)
        return (self.xp.zeros((batch, 2 * self.N), dtype=self.dtype),)

    def init_params(self, rng):
        N, K, H = self.N, self.input_size, self.hidden_size
        u1, u2 = 1.0 - rng.random(N), 1.0 - rng.random(N)     # in (0, 1]: finite logs
        r2 = u1 * (self.r_max ** 2 - self.r_min ** 2) + self.r_min ** 2   # |λ|², area-uniform
        nu_log = np.log(-0.5 * np.log(r2))
        params = {"nu_log": nu_log, "theta_log": np.log(self.max_phase * u2),
                  "B_re": rng.standard_normal((N, K)) / np.sqrt(2 * K),
                  "B_im": rng.standard_normal((N, K)) / np.sqrt(2 * K),
                  "C_re": rng.standard_normal((H, N)) / np.sqrt(N),
                  "C_im": rng.standard_normal((H, N)) / np.sqrt(N),
                  "D": (rng.standard_normal(H) if self.diagonal else
                        rng.standard_normal((H, K)) / np.sqrt(K))}
        if self.normalization:     # log sqrt(1 - |λ|²), 1 - |λ|² = -expm1(-2ν) (exact near 1)
            params["gamma_log"] = 0.5 * np.log(-np.expm1(-2.0 * np.exp(nu_log)))
        return params

    def recurrent_eigenvalues(self):
        """λ (N,), NumPy complex128, computed on the host from ν^log and θ^log."""
        nu_log, theta_log = (to_numpy(self.params[k]).astype(np.float64)
                             for k in ("nu_log", "theta_log"))
        return np.exp(-np.exp(nu_log) + 1j * np.exp(theta_log))

    # ------------------------------------------------------------------ helpers
    def _as_real(self, z):
        """A contiguous complex (..., N) array read as real (..., 2N), Re and Im
        interleaved: no copy. The GEMMs below read and write complex arrays this way."""
        return z.view(self.dtype)

    def _weights(self):
        """λ, γ (None without normalization), ν, θ, and the GEMMs' real weights: W_in
        (2N, K), rows Re B_n, Im B_n interleaved, so that u @ W_in.T read as complex is
        B u; W_out (H, 2N), columns C_re[:, n], -C_im[:, n] interleaved, so that x read as
        real @ W_out.T is Re(C x)."""
        xp, P, N = self.xp, self.params, self.N
        nu, theta = xp.exp(P["nu_log"]), xp.exp(P["theta_log"])
        lam = xp.exp(-nu + 1j * theta).astype(self.cdtype, copy=False)
        gamma = xp.exp(P["gamma_log"]) if self.normalization else None
        W_in = xp.stack([P["B_re"], P["B_im"]], axis=1).reshape(2 * N, -1)
        W_out = xp.stack([P["C_re"], -P["C_im"]], axis=2).reshape(self.hidden_size, 2 * N)
        return lam, gamma, nu, theta, W_in, W_out

    def _to_complex(self, packed):
        """(B, 2N) real [Re x, Im x] -> (B, N) complex."""
        N = self.N
        out = self.xp.empty(packed.shape[:-1] + (N,), dtype=self.cdtype)
        out.real, out.imag = packed[..., :N], packed[..., N:]
        return out

    def _to_packed(self, z):
        """(B, N) complex -> (B, 2N) real [Re x, Im x]."""
        return self.xp.concatenate([z.real, z.imag], axis=-1)

    # ------------------------------------------------------------------ forward
    def _forward(self, u, state0):
        xp = self.xp
        T, B, _ = u.shape
        lam, gamma, nu, theta, W_in, W_out = self._weights()
        b = xp.empty((T, B, self.N), dtype=self.cdtype)
        self.project(u, W_in, out=self._as_real(b))          # B u_t for every t, one GEMM
        if gamma is not None:
            b *= gamma                                       # γ ⊙ (B u_t)
        x0 = self._to_complex(state0[0])
        xs = xp.ascontiguousarray(scan.linear_scan(lam, b, x0, mode=self.mode))  # every x_t
        y = self.project(self._as_real(xs), W_out)           # Re(C x_t), one GEMM
        if self.diagonal:
            y += u * self.params["D"]                        # + D ⊙ u_t
        else:
            y += self.project(u, self.params["D"])           # + D u_t
        cache = Cache(x=u, state0=state0, T=T, B=B, lam=lam, gamma=gamma, nu=nu,
                      theta=theta, W_in=W_in, W_out=W_out, x0=x0, b=b, xs=xs)
        return y, (self._to_packed(xs[-1]),), cache

    # ------------------------------------------------------------------ backward
    def _backward(self, dy, cache, dstate):
        xp, N, u = self.xp, self.N, cache.x
        # y_t = Re(C x_t): dL/dx_t from y_t's own loss is C^H dy_t, for every t in one GEMM
        g = self.input_grad(dy, cache.W_out).view(self.cdtype)
        g[-1] += self._to_complex(dstate[0])                 # x_T is also the final state
        # x_t = λ x_{t-1} + b_t: the scan backward, δ_t = g_t + conj(λ) δ_{t+1} = dL/dx_t
        dlam, delta, dx0 = scan.linear_scan_backward(cache.lam, cache.xs, cache.x0, g,
                                                     mode=self.mode)
        delta = xp.ascontiguousarray(delta)
        d_re = self._as_real(delta)
        dh_norm = xp.sqrt(xp.einsum("tbk,tbk->t", d_re, d_re)).astype(np.float64)
        grads = {}
        if cache.gamma is not None:          # b = γ ⊙ (B u): dL/dγ^log = Σ Re(conj(δ) b)
            grads["gamma_log"] = xp.einsum("tbk,tbk->k", d_re,
                                           self._as_real(cache.b)).reshape(N, 2).sum(axis=1)
            dBu = delta * cache.gamma                        # dL/d(B u_t) = γ δ_t
        else:
            dBu = delta
        dBu_re = self._as_real(dBu)
        dW_in = self.weight_grad(dBu_re, u)                  # B u_t: rows Re, Im interleaved
        grads["B_re"], grads["B_im"] = dW_in[0::2], dW_in[1::2]
        du = self.input_grad(dBu_re, cache.W_in)             # Re(B^H dL/d(B u_t))
        dW_out = self.weight_grad(dy, self._as_real(cache.xs))   # y_t = Re(C x_t)
        grads["C_re"], grads["C_im"] = dW_out[:, 0::2], -dW_out[:, 1::2]
        if self.diagonal:                                    # y_t += D ⊙ u_t
            grads["D"] = xp.einsum("tbh,tbh->h", dy, u)
            du += dy * self.params["D"]
        else:                                                # y_t += D u_t
            grads["D"] = self.weight_grad(dy, u)
            du += self.input_grad(dy, self.params["D"])
        # λ = exp(-ν + iθ), ν = exp(ν^log), θ = exp(θ^log): dL/dp = Re(conj(dL/dλ) dλ/dp)
        c = xp.conj(dlam) * cache.lam
        grads["nu_log"] = -cache.nu * c.real                 # dλ/dν^log = -ν λ
        grads["theta_log"] = -cache.theta * c.imag           # dλ/dθ^log = iθ λ
        grads = {k: grads[k].astype(self.dtype, copy=False) for k in self.params}
        return du, (self._to_packed(dx0),), grads, dh_norm
