r"""Textbook unitary cells, uRNN and EURNN, with W formed as an explicit N x N matrix.

Both compute

.. math:: z_t = W h_{t-1} + V x_t, \qquad h_t = \mathrm{modReLU}(z_t)
          = \mathrm{ReLU}(|z_t| + b)\, z_t / (|z_t| + \varepsilon)

(or h_t = z_t with ``nonlinearity="identity"``; V is the uRNN's V and the EURNN's U, its
docstring's z_t = W h_{t-1} + U x_t), h complex, carried across the contract as the
real (B, 2N) array [Re h, Im h], with ε = 1e-5 (the uRNN authors' code). The EURNN with
``complex=False`` is real, h (B, N), and has ε = 0: its modReLU is the orthogonal RNNs'
real form sign(z_t) ReLU(|z_t| + b). Complex gradients are dL/dRe + i dL/dIm: the
backward of y = A x is then dL/dx = A^H dL/dy, and of y = A x for the matrix,
dL/dA = dL/dy x^H.

W is a product of factor matrices M_0 M_1 ... M_{K-1}, written out here as dense
matrices (the optimized cells apply them factor by factor and never form W):

* uRNN (Arjovsky, Shah & Bengio, 2016): W = D_3 R_2 F^{-1} D_2 Π R_1 F D_1, with
  D_k = diag(e^{iθ_k}), R_k = I - 2 r_k r_k^* / ||r_k||², F the unitary DFT, Π a fixed
  permutation ((Π u)_i = u_perm[i]).
* EURNN (Jing et al., 2017): W = D F^(L) ... F^(1), D = diag(e^{iω}), each layer F^(l)
  a set of 2 x 2 blocks [[cos θ, -e^{iφ} sin θ], [sin θ, e^{iφ} cos θ]] on pairs (i, j),
  the other units passed through; ``complex=False``: φ = 0, no D, a real state.

dL/dW = Σ_rows dL/dz h_{t-1}^H reaches each factor as dL/dM_k = (M_0..M_{k-1})^H dL/dW
(M_{k+1}..M_{K-1})^H, and each angle θ of d = e^{iθ} gets dL/dθ = Im(dL/dd conj(d)).

The EURNN twin needs no options: an option left out is read from the parameters, as
they are there or not (:func:`eurnn_structure`): U (real) or U_re, U_im (complex);
theta (fft) or theta_A, theta_B (tunable), whose rows are the layers; b (modReLU) or
none (identity). The uRNN's permutation is not in its parameters: it needs ``perm``.
"""
from __future__ import annotations

from functools import reduce

import numpy as np

from .core import modrelu, modrelu_backward, register_steps, zero_state

MODRELU_EPS = 1e-5        # the complex modReLU's ε, as the uRNN authors' code


def product(factors):
    """M_0 M_1 ... M_{K-1}."""
    return reduce(np.matmul, factors)


def factor_grads(factors, dW):
    """dL/dM_k for W = M_0 ... M_{K-1}: (M_0..M_{k-1})^H dW (M_{k+1}..M_{K-1})^H."""
    eye = np.eye(dW.shape[0])
    out = []
    for k in range(len(factors)):
        left = reduce(np.matmul, factors[:k], eye)        # M_0 .. M_{k-1}
        right = reduce(np.matmul, factors[k + 1:], eye)   # M_{k+1} .. M_{K-1}
        out.append(left.conj().T @ dW @ right.conj().T)
    return out


def angle_grad(dM, theta):
    """dL/dθ of a diagonal factor diag(e^{iθ}) from dL/d(that matrix)."""
    return (np.diag(dM) * np.exp(-1j * theta)).imag      # d = e^{i theta}


# ------------------------------------------------------------------ the shared step
def step_forward(x_t, state_prev, params, factors, V_names, nonlinearity, is_complex,
                 cell, layers=None):
    """One step, given W's factor matrices; ``cell`` ("urnn" or "eurnn", and the EURNN's
    ``layers``) says which parametrization of W the backward sends dL/dW to."""
    N = factors[0].shape[0]
    packed = state_prev[0]
    h_prev = packed[:, :N] + 1j * packed[:, N:] if is_complex else packed   # [Re h, Im h] -> h
    V = params[V_names[0]] + 1j * params[V_names[1]] if is_complex else params[V_names[0]]
    W = product(factors)                                 # W = M_0 M_1 ... M_{K-1}
    z = h_prev @ W.T + x_t @ V.T                         # z_t = W h_{t-1} + V x_t
    eps = MODRELU_EPS if is_complex else 0.0
    h = modrelu(z, params["b"], eps) if nonlinearity == "modrelu" else z   # h_t = modReLU(z_t)
    out = np.concatenate([h.real, h.imag], axis=1) if is_complex else h   # h -> [Re h, Im h]
    cache = {"x": x_t, "h_prev": h_prev, "z": z, "W": W, "V": V, "eps": eps,
             "factors": factors, "cell": cell, "layers": layers, "V_names": V_names,
             "nonlinearity": nonlinearity, "is_complex": is_complex, "params": params}
    return (out,), cache


def step_backward(dstate, cache):
    """dL/d[Re h_t, Im h_t] -> dL/dx_t, dL/d[Re h_{t-1}, Im h_{t-1}], dL/dparams."""
    x_t, h_prev, z, W, V = (cache[k] for k in ("x", "h_prev", "z", "W", "V"))
    N, is_complex, P = W.shape[0], cache["is_complex"], cache["params"]
    dh = dstate[0][:, :N] + 1j * dstate[0][:, N:] if is_complex else dstate[0]   # packing
    grads = {}
    if cache["nonlinearity"] == "modrelu":
        dz, db = modrelu_backward(dh, z, P["b"], cache["eps"])   # h_t = modReLU(z_t)
        grads["b"] = db.sum(axis=0)                      # h_t = modReLU(z_t): b, every row
    else:
        dz = dh                                          # h_t = z_t
    dh_prev = dz @ W.conj()                              # z_t = W h_{t-1}: W^H dz
    dx = (dz @ V.conj()).real                            # z_t = V x_t, x real
    dV = dz.T @ x_t                                      # z_t = V x_t
    dW = dz.T @ h_prev.conj()                            # z_t = W h_{t-1}
    if is_complex:
        grads[cache["V_names"][0]] = dV.real             # V = V_re + i V_im
        grads[cache["V_names"][1]] = dV.imag             # V = V_re + i V_im
        dh_prev = np.concatenate([dh_prev.real, dh_prev.imag], axis=1)   # h -> [Re h, Im h]
    else:
        grads[cache["V_names"][0]] = dV                  # z_t = V x_t (V real)
    dM = factor_grads(cache["factors"], dW)              # W = M_0 M_1 ... M_{K-1}
    if cache["cell"] == "urnn":
        grads.update(urnn_W_grads(dM, P))                # W = D_3 R_2 F^{-1} D_2 Π R_1 F D_1
    else:
        grads.update(eurnn_W_grads(dM, P, cache["layers"], is_complex))   # W = D F^(L) .. F^(1)
    return dx, (dh_prev,), grads


# ------------------------------------------------------------------ uRNN
def reflection(r):
    """R = I - 2 r r^* / ||r||²."""
    return np.eye(len(r)) - 2.0 * np.outer(r, r.conj()) / np.vdot(r, r).real


def reflection_grad(dR, r):
    """dL/dr (as dL/dRe + i dL/dIm) of R = I - 2 r r^*/n, n = r^* r, from dL/dR:
    -(2/n)(dR r + dR^H r) + (4/n²) Re(r^* dR r) r."""
    n = np.vdot(r, r).real
    return -(2.0 / n) * (dR @ r + dR.conj().T @ r) + (4.0 / n ** 2) * np.vdot(r, dR @ r).real * r


def urnn_step_forward(x_t, state_prev, params, perm, nonlinearity="modrelu"):
    """One step: W = D_3 R_2 F^{-1} D_2 Π R_1 F D_1 from the parameters, then the shared step."""
    P, N = params, len(perm)
    D1, D2, D3 = (np.diag(np.exp(1j * theta)) for theta in P["theta"])   # D_k = diag(e^{i theta_k})
    r1, r2 = P["r_re"] + 1j * P["r_im"]                  # the reflection vectors
    F = np.fft.fft(np.eye(N), axis=0, norm="ortho")      # F u = fft(u), unitary
    Pi = np.eye(N)[perm]                                 # (Pi u)_i = u_perm[i]
    factors = [D3, reflection(r2), F.conj().T, D2, Pi, reflection(r1), F, D1]
    return step_forward(x_t, state_prev, P, factors, ("V_re", "V_im"), nonlinearity, True,
                        "urnn")


def urnn_W_grads(dM, params):
    """dL/d(theta, r_re, r_im) from dL/dM_k, M_k in urnn_step_forward's factors' order
    [D_3, R_2, F^{-1}, D_2, Π, R_1, F, D_1] (F and Π are fixed)."""
    P = params
    r1, r2 = P["r_re"] + 1j * P["r_im"]                  # the reflection vectors
    dr = np.stack([reflection_grad(dM[5], r1),           # R_1 = I - 2 r_1 r_1^* / ||r_1||²
                   reflection_grad(dM[1], r2)])          # R_2
    dtheta = np.stack([angle_grad(dM[7], P["theta"][0]),   # D_1 = diag(e^{i theta_1})
                       angle_grad(dM[3], P["theta"][1]),   # D_2
                       angle_grad(dM[0], P["theta"][2])])  # D_3
    return {"theta": dtheta, "r_re": dr.real, "r_im": dr.imag}   # r = r_re + i r_im


# ------------------------------------------------------------------ EURNN
def eurnn_layers(style, N, L):
    """Per layer: (parameter suffix, row of that parameter, I, J), the blocks on (I, J)."""
    layers = []
    for l in range(L):
        if style == "fft":
            d = N >> (l + 1)                             # pairs (i, i + N/2^(l+1))
            I = np.array([s + k for s in range(0, N, 2 * d) for k in range(d)])
            layers.append(("", l, I, I + d))
        else:
            I = np.arange(l % 2, N - 1, 2)               # (0,1),(2,3).. or (1,2),(3,4)..
            layers.append(("_A" if l % 2 == 0 else "_B", l // 2, I, I + 1))
    return layers


def eurnn_structure(params):
    """What the EURNN's options chose, read from its parameters: (style, n_layers,
    is_complex, nonlinearity). Tunable layers alternate A, B, A, ..: L = rows of theta_A
    + rows of theta_B; without theta_B (L = 1, or N = 2, where B has no pairs and its
    layers pass everything through) L = 2 rows - 1 computes the same W."""
    if "theta" in params:
        style, n_layers = "fft", params["theta"].shape[0]
    else:
        rows_A = params["theta_A"].shape[0] if "theta_A" in params else 0
        n_layers = (rows_A + params["theta_B"].shape[0] if "theta_B" in params
                    else max(2 * rows_A - 1, 0))
        style = "tunable"
    return style, n_layers, "U" not in params, "modrelu" if "b" in params else "identity"


def eurnn_step_forward(x_t, state_prev, params, style=None, n_layers=None, is_complex=None,
                       nonlinearity=None):
    """One step: W = D F^(L) .. F^(1) from the parameters, then the shared step. An
    option left None is read from the parameters (:func:`eurnn_structure`)."""
    given = (style, n_layers, is_complex, nonlinearity)
    style, n_layers, is_complex, nonlinearity = (
        g if g is not None else read for g, read in zip(given, eurnn_structure(params)))
    V_names = ("U_re", "U_im") if is_complex else ("U",)
    P, N = params, params[V_names[0]].shape[0]
    layers = [layer for layer in eurnn_layers(style, N, n_layers) if len(layer[2])]
    Ms = []
    for suffix, row, I, J in layers:
        theta = P["theta" + suffix][row]
        e = np.exp(1j * P["phi" + suffix][row]) if is_complex else np.ones_like(theta)
        M = np.eye(N, dtype=e.dtype)
        M[I, I], M[I, J] = np.cos(theta), -e * np.sin(theta)   # h'_i = c h_i - e s h_j
        M[J, I], M[J, J] = np.sin(theta), e * np.cos(theta)    # h'_j = s h_i + e c h_j
        Ms.append(M)
    D = [np.diag(np.exp(1j * P["omega"]))] if is_complex else []   # D = diag(e^{i omega})
    factors = D + Ms[::-1]                               # W = D F^(L) .. F^(1)
    return step_forward(x_t, state_prev, P, factors, V_names, nonlinearity, is_complex,
                        "eurnn", layers)


def eurnn_W_grads(dM, params, layers, is_complex):
    """dL/d(omega, theta.., phi..) from dL/dM_k, M_k in eurnn_step_forward's factors'
    order [D, F^(L), .., F^(1)] (no D when real); ``layers`` as it built them."""
    P = params
    grads = {k: np.zeros_like(v) for k, v in P.items() if k.startswith(("theta", "phi"))}
    if is_complex:
        grads["omega"] = angle_grad(dM[0], P["omega"])   # D = diag(e^{i omega})
    dMs = dM[1:][::-1] if is_complex else dM[::-1]       # back in layer order
    for (suffix, row, I, J), G in zip(layers, dMs):
        theta = P["theta" + suffix][row]
        c, s = np.cos(theta), np.sin(theta)
        e = np.exp(1j * P["phi" + suffix][row]) if is_complex else 1.0
        Gii, Gij, Gji, Gjj = G[I, I].conj(), G[I, J].conj(), G[J, I].conj(), G[J, J].conj()
        grads["theta" + suffix][row] = (Gii * -s + Gij * -e * c + Gji * c
                                        + Gjj * -e * s).real   # dM/dtheta, entrywise
        if is_complex:
            grads["phi" + suffix][row] = (Gij * -1j * e * s + Gjj * 1j * e * c).real   # dM/dphi
    return grads


def urnn_initial_state(batch, params, **options):
    """h_0 = 0, complex, packed as [Re h, Im h]: (B, 2N)."""
    return zero_state(batch, params, 2 * params["V_re"].shape[0])


def eurnn_initial_state(batch, params, is_complex=None, **options):
    """h_0 = 0: (B, 2N) packed as [Re h, Im h] when complex, else (B, N)."""
    is_complex = "U" not in params if is_complex is None else is_complex
    N = params["U_re" if is_complex else "U"].shape[0]
    return zero_state(batch, params, 2 * N if is_complex else N)


register_steps("urnn", urnn_step_forward, step_backward,
               lambda cell: {"perm": np.asarray(cell.perm), "nonlinearity": cell.nonlinearity},
               initial_state=urnn_initial_state)
register_steps("eurnn", eurnn_step_forward, step_backward,
               lambda cell: {"style": cell.style, "n_layers": cell.n_layers,
                             "is_complex": bool(cell.complex), "nonlinearity": cell.nonlinearity},
               initial_state=eurnn_initial_state)
