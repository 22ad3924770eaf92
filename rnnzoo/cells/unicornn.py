"""UnICORNN: undamped independent controlled oscillators, run backwards in its backward."""
from __future__ import annotations

import numpy as np

from ..core.base import Cache, RecurrentCell
from ..core.registry import register
from . import _options

MEMORY = ("reconstruct", "store")


@register("unicornn")
class UnICORNN(RecurrentCell):
    r"""UnICORNN (Rusch & Mishra, ICML 2021, "UnICORNN: A recurrent model for learning
    very long time dependencies", arXiv:2103.05487; code ``tk-rusch/unicornn``): one
    layer of H independent nonlinear oscillators, each a position y and a velocity z,
    stepped by the symplectic Euler method.

    .. math::

        \begin{aligned}
        \hat x_t &= V x_t + b, \qquad k = \Delta t\, \sigma(c) \in \mathbb R^H \\
        z_t &= z_{t-1} - k \odot \bigl(\tanh(w \odot y_{t-1} + \hat x_t)
                + \alpha\, y_{t-1}\bigr) \\
        y_t &= y_{t-1} + k \odot z_t
        \end{aligned}

    The output is y_t; the state is (y, z). w and c are *vectors* (H,): unit i sees only
    its own y_i, so the step has no matrix product at all; every V x_t + b is one GEMM
    before the loop. The paper's equation and the authors' CUDA kernel agree.

    **The step can be undone exactly.** Symplectic Euler updates z from the old y, then y
    from the new z, so each half is a shear that is trivially inverted:

    .. math::

        y_{t-1} = y_t - k \odot z_t, \qquad
        z_{t-1} = z_t + k \odot \bigl(\tanh(w \odot y_{t-1} + \hat x_t)
                + \alpha\, y_{t-1}\bigr)

    so backward can recompute y_{t-1}, z_{t-1} from y_t, z_t while it walks back in time
    and forward needs to keep only the final state. ``memory="reconstruct"`` (the
    default, as the authors' kernel) does that: its cache holds x, the initial and the
    final state and nothing of size (T, B, H) (x̂ is recomputed by one GEMM in backward).
    ``memory="store"`` keeps y_t, z_t and tanh(·) of every step instead. Both give the same
    gradients in float64 at T = 1,000: about 3e-15 apart at the default options, 2e-12 at
    Δt = 0.5, α = 0 (tests/test_unicornn.py checks 1e-10). In
    float32, ``python scripts/unicornn_memory.py`` (B = 16, D = H = 128, default
    options, a loss on every step) gives the worst relative error over hs and every
    gradient against float64 "store":

    ======  ================  ==========  ==============================
    T       reconstruct f32   store f32   reconstruct vs store, both f32
    ======  ================  ==========  ==============================
    100     2.9e-06           2.9e-06     3.7e-07
    1000    4.0e-05           4.0e-05     2.4e-06
    10000   4.9e-04           4.9e-04     2.5e-05
    ======  ================  ==========  ==============================

    so walking back adds about a tenth of what float32 costs anyway, and both grow
    about tenfold per tenfold T (the map preserves area: round-off is carried, not
    amplified exponentially). Memory (tracemalloc, float32, T = 1000, same shape; one (T, B, H)
    array is 7.8 MiB): the cache keeps 7.9 MiB besides hs with "reconstruct" (x itself)
    and 31.3 MiB with "store"; the peak over forward + backward is 39.3 MiB and 54.9 MiB.

    **Why the gradient neither vanishes nor explodes.** Per unit the step's Jacobian on
    (y, z) has determinant 1 (both halves are shears: the map preserves area), so it can
    not contract both directions (tests/test_unicornn.py checks det = 1 numerically);
    the paper proves bounds on the states and on the gradients that grow at most
    polynomially in T, not exponentially. α y is the linear spring; σ(c) gives every unit
    its own time step Δt σ(c_i) in (0, Δt), so units see different time scales (a
    trainable, bounded step).

    The paper stacks layers with a per-layer Δt ("deep" Δt in its IMDB and EigenWorms
    runs); this cell is ONE layer, stack it with ``build_model``.

    Initialization and defaults, as the authors' code: w ~ U(0, 1), c ~ U(-0.1, 0.1),
    V as PyTorch's ``kaiming_uniform_(a=8, mode="fan_in")``, that is U(-r, r) with
    r = sqrt(6 / (65 D)), b = 0; Δt = 0.19 and α = 30.65 are their psMNIST defaults (the
    other tasks tune them: noisy CIFAR-10 0.126 / 13.0, IMDB α = 0). Where we differ from
    their kernel: the initial state (y_0, z_0) is an input here and gets a gradient, the
    final state gets one from ``dstate_T`` (theirs start at zero and take a gradient on
    the outputs only), and their kernel computes in float32 with a float64 Δt.

    Options
    -------
    dt : Δt > 0 (0.19)
    alpha : α >= 0 (30.65)
    memory : "reconstruct" (default) or "store", see above

    Notes
    -----
    Shapes: x (T, B, D), y and z (B, H); V (H, D), b (H,), w (H,), c (H,).
    """

    options = {"dt": 0.19, "alpha": 30.65, "memory": "reconstruct"}
    state_names = ("y", "z")

    def check_options(self):
        self.dt = _options.real("dt", self.dt, lo=0.0, lo_open=True)
        self.alpha = _options.real("alpha", self.alpha, lo=0.0)
        self.memory = _options.choice("memory", self.memory, MEMORY)

    def init_params(self, rng):
        D, H = self.input_size, self.hidden_size
        r = np.sqrt(6.0 / (65.0 * D))          # kaiming_uniform_(a=8): gain² = 2 / (1 + 64)
        return {"V": rng.uniform(-r, r, (H, D)), "b": np.zeros(H),
                "w": rng.uniform(0.0, 1.0, H), "c": rng.uniform(-0.1, 0.1, H)}

    def _step_size(self):
        """k = Δt σ(c) (H,), and σ(c)."""
        s = 1.0 / (1.0 + self.xp.exp(-self.params["c"]))
        return self.dt * s, s

    # ------------------------------------------------------------------ forward
    def _forward(self, x, state0):
        xp, P, alpha = self.xp, self.params, self.alpha
        T, B = x.shape[:2]
        k, _ = self._step_size()
        w = P["w"]
        store = self.memory == "store"
        th = self.project(x, P["V"], P["b"])        # x̂_t for every t, one GEMM; each
        ys = self.hidden_buffer(Cache(T=T, B=B), state0[0])   # x̂_t becomes tanh(a_t)
        zs = self.hidden_buffer(Cache(T=T, B=B), state0[1]) if store else None
        z = state0[1].copy()
        g = xp.empty_like(z)
        for t in range(T):
            y_prev, a = ys[t], th[t]
            xp.multiply(w, y_prev, out=g)
            a += g                                  # a_t = w y_{t-1} + x̂_t
            xp.tanh(a, out=a)                       # tanh(a_t), in place of x̂_t
            xp.multiply(alpha, y_prev, out=g)
            g += a
            g *= k
            z -= g                                  # z_t = z_{t-1} - k (tanh(a_t) + α y_{t-1})
            xp.multiply(k, z, out=ys[t + 1])
            ys[t + 1] += y_prev                     # y_t = y_{t-1} + k z_t
            if store:
                zs[t + 1] = z
        cache = Cache(x=x, state0=state0, T=T, B=B, y_T=ys[T].copy(), z_T=z.copy())
        if store:                                   # every state and tanh(a_t)
            cache.ys, cache.zs, cache.th = ys, zs, th
            return ys[1:].copy(), (ys[T].copy(), z.copy()), cache
        return ys[1:], (ys[T].copy(), z), cache     # nothing (T, B, H) stays in the cache

    # ------------------------------------------------------------------ backward
    def _backward(self, dys, cache, dstate):
        xp, P, alpha, T = self.xp, self.params, self.alpha, cache.T
        k, s = self._step_size()
        w = P["w"]
        store = self.memory == "store"
        if store:
            th = cache.th
        else:                                       # x̂_t again (one GEMM), and y_t, z_t
            th = self.project(cache.x, P["V"], P["b"])   # walked back from the final state
            y, z = cache.y_T.copy(), cache.z_T.copy()
        da = xp.empty_like(th)                      # dL/da_t = dL/dx̂_t, every t
        dw_rows = xp.zeros_like(dstate[0])          # Σ_t of dL/dw and of dL/dk, per row:
        dk_rows = xp.zeros_like(dstate[0])          # summed over the batch after the loop
        dh_norm = xp.empty(T)
        dy, dz = dstate[0].copy(), dstate[1].copy()
        for t in reversed(range(T)):
            dy += dys[t]                            # dL/dy_t: the loss at t + carried
            dh_norm[t] = xp.linalg.norm(dy)
            if store:
                y_prev, z, tanh_a = cache.ys[t], cache.zs[t + 1], th[t]
            else:                                   # undo step t (symplectic Euler inverted)
                y_prev = y - k * z                  # y_{t-1} = y_t - k z_t
                tanh_a = th[t]
                tanh_a += w * y_prev
                xp.tanh(tanh_a, out=tanh_a)         # tanh(a_t), a_t = w y_{t-1} + x̂_t
            dk_rows += dy * z                       # y_t = y_{t-1} + k z_t: k side
            dz += k * dy                            # y_t = y_{t-1} + k z_t: z_t side
            force = tanh_a + alpha * y_prev         # tanh(a_t) + α y_{t-1}
            dk_rows -= dz * force                   # z_t = z_{t-1} - k (..): k side
            da_t = da[t]
            xp.multiply(tanh_a, tanh_a, out=da_t)
            xp.subtract(1.0, da_t, out=da_t)
            da_t *= dz
            da_t *= -k                              # z_t = .. - k tanh(a_t): through tanh
            dw_rows += da_t * y_prev                # a_t = w y_{t-1} + x̂_t: w side
            dy -= (alpha * k) * dz                  # z_t = .. - k α y_{t-1}
            dy += w * da_t                          # a_t = w y_{t-1} + ..: y side
            if not store:                           # dz_{t-1} = dz_t (z_t = z_{t-1} - ..)
                force *= k
                z += force                          # z_{t-1} = z_t + k (tanh(a_t) + α y_{t-1})
                y = y_prev
        grads = {"V": self.weight_grad(da, cache.x), "b": self.bias_grad(da),
                 "w": dw_rows.sum(axis=0),
                 "c": dk_rows.sum(axis=0) * (self.dt * s * (1.0 - s))}   # k = Δt σ(c)
        return self.input_grad(da, P["V"]), (dy, dz), grads, dh_norm
