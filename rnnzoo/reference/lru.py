r"""Textbook LRU (Orvieto et al., 2023), one step at a time, in complex NumPy.

.. math::

    \lambda = \exp(-\exp(\nu^{\log}) + i \exp(\theta^{\log})), \qquad
    \gamma = \exp(\gamma^{\log}) \\
    x_t = \lambda \odot x_{t-1} + \gamma \odot (B u_t), \qquad
    y_t = \mathrm{Re}(C x_t) + D u_t

u_t is the input (the contract's x), x_t in C^N the state, carried as the real (B, 2N)
array [Re x, Im x]; y_t the output. B = B_re + i B_im, C = C_re + i C_im. What the cell's
options chose is read from the parameters, so the twin takes none: D u_t is D ⊙ u_t for
a vector D (H,) (the cell's diagonal feedthrough) and a matrix product for D (H, K)
(dense); without γ^log (``normalization=False``) γ = 1.

Complex gradients are dL/dRe + i dL/dIm: the backward of y = Re(C x) is then dL/dx =
C^H dL/dy and dL/dC = dL/dy x^H, of x = λ x_prev, dL/dx_prev = conj(λ) dL/dx, and a real
p that a complex c(p) depends on gets dL/dp = Re(conj(dL/dc) dc/dp).

The output y_t is read out of the state, not an entry of it, so the readout loop of
:mod:`.core` runs these steps: the carried gradient ``dx_next`` is dL/d[Re x_t, Im x_t]
from step t+1, and y_t's own gradient dy joins it inside the step.
"""
from __future__ import annotations

import numpy as np

from .core import register_readout_steps, zero_state


def lru_step_forward(u_t, state_prev, params):
    """One step: (u_t, ([Re x_{t-1}, Im x_{t-1}],)) -> (([Re x_t, Im x_t],), y_t, cache)."""
    P, N = params, params["nu_log"].shape[0]
    packed = state_prev[0]
    x_prev = packed[:, :N] + 1j * packed[:, N:]          # [Re x, Im x] -> x
    nu = np.exp(P["nu_log"])                             # nu = exp(nu_log)
    theta = np.exp(P["theta_log"])                       # theta = exp(theta_log)
    lam = np.exp(-nu + 1j * theta)                       # lambda = exp(-nu + i theta)
    gamma = np.exp(P["gamma_log"]) if "gamma_log" in P else np.ones(N)   # gamma = exp(gamma_log)
    B = P["B_re"] + 1j * P["B_im"]                       # B = B_re + i B_im
    C = P["C_re"] + 1j * P["C_im"]                       # C = C_re + i C_im
    Bu = u_t @ B.T                                       # B u_t
    x = lam * x_prev + gamma * Bu                        # x_t = lambda x_{t-1} + gamma (B u_t)
    Du = u_t * P["D"] if P["D"].ndim == 1 else u_t @ P["D"].T   # D u_t: D (H,) elementwise
    y = (x @ C.T).real + Du                              # y_t = Re(C x_t) + D u_t
    state = (np.concatenate([x.real, x.imag], axis=1),)  # x -> [Re x, Im x]
    cache = {"u": u_t, "x_prev": x_prev, "x": x, "Bu": Bu, "nu": nu, "theta": theta,
             "lam": lam, "gamma": gamma, "B": B, "C": C, "params": P}
    return state, y, cache


def lru_step_backward(dy, dstate, cache):
    """dL/dy_t and dL/d[Re x_t, Im x_t] from step t+1 -> dL/du_t,
    dL/d[Re x_{t-1}, Im x_{t-1}] and this step's dL/dparams."""
    u_t, x_prev, x, Bu = (cache[k] for k in ("u", "x_prev", "x", "Bu"))
    nu, theta, lam, gamma, B, C, P = (cache[k] for k in ("nu", "theta", "lam", "gamma",
                                                         "B", "C", "params"))
    N = lam.shape[0]
    dx_next = dstate[0][:, :N] + 1j * dstate[0][:, N:]   # [Re x, Im x] -> x
    dx = dx_next + dy @ C.conj()                         # y_t = Re(C x_t): C^H dy; + carried
    dC = dy.T @ x.conj()                                 # y_t = Re(C x_t)
    if P["D"].ndim == 1:
        dD = (dy * u_t).sum(axis=0)                      # y_t = .. + D u_t (elementwise)
        du = dy * P["D"]                                 # y_t = .. + D u_t (elementwise)
    else:
        dD = dy.T @ u_t                                  # y_t = .. + D u_t
        du = dy @ P["D"]                                 # y_t = .. + D u_t
    dlam = (dx * x_prev.conj()).sum(axis=0)              # x_t = lambda x_{t-1} + ..
    dx_prev = dx * lam.conj()                            # x_t = lambda x_{t-1} + ..
    dgamma = (dx * Bu.conj()).real.sum(axis=0)           # x_t = .. + gamma (B u_t)
    dBu = dx * gamma                                     # x_t = .. + gamma (B u_t)
    dB = dBu.T @ u_t                                     # B u_t
    du = du + (dBu @ B.conj()).real                      # B u_t (u real)
    dnu = -(dlam.conj() * lam).real                      # lambda = exp(-nu + i theta)
    dtheta = (dlam.conj() * 1j * lam).real               # lambda = exp(-nu + i theta)
    grads = {"nu_log": dnu * nu,                         # nu = exp(nu_log)
             "theta_log": dtheta * theta,                # theta = exp(theta_log)
             "B_re": dB.real, "B_im": dB.imag,           # B = B_re + i B_im
             "C_re": dC.real, "C_im": dC.imag,           # C = C_re + i C_im
             "D": dD}
    if "gamma_log" in P:
        grads["gamma_log"] = dgamma * gamma              # gamma = exp(gamma_log)
    return du, (np.concatenate([dx_prev.real, dx_prev.imag], axis=1),), grads   # -> [Re, Im]


def initial_state(batch, params, **options):
    """x_0 = 0, complex, packed as [Re x, Im x]: (B, 2N)."""
    return zero_state(batch, params, 2 * params["nu_log"].shape[0])


register_readout_steps("lru", lru_step_forward, lru_step_backward,
                       initial_state=initial_state)
