"""Elementwise building blocks shared by the cells, written to run in place.

Each function works on NumPy and CuPy arrays alike (it asks the array which module it
belongs to). The in-place variants end in an underscore and return their argument, so a
cell can write ``sigmoid_(gates[:, :2 * H])`` on a slice of a preallocated buffer.
"""
from __future__ import annotations

import numpy as np

from .backend import backend_of


def array_module(a):
    """``numpy`` for NumPy arrays, ``cupy`` for CuPy arrays."""
    return np if isinstance(a, np.ndarray) else backend_of(a).xp


def sigmoid_(a):
    """In place: a <- sigma(a) = 1 / (1 + exp(-a)).

    exp(-a) overflows to inf for very negative a (a < -88 in float32), which gives the
    right limit 1 / inf = 0, so that overflow warning is silenced. This form is also
    accurate for negative a: the tanh form 0.5 * (1 + tanh(a / 2)) loses every digit
    there to cancellation (relative error 4e-3 at a = -15 in float32), and it is faster
    (exp is cheaper than tanh, and divide is vectorized where reciprocal is not).
    """
    xp = array_module(a)
    with np.errstate(over="ignore"):
        xp.negative(a, out=a)
        xp.exp(a, out=a)
    a += 1.0
    xp.divide(1.0, a, out=a)
    return a


def sigmoid(a):
    """sigma(a), out of place."""
    return sigmoid_(a.copy())


def tanh_(a):
    """In place: a <- tanh(a)."""
    array_module(a).tanh(a, out=a)
    return a


def relu_(a):
    """In place: a <- max(a, 0)."""
    array_module(a).maximum(a, 0, out=a)
    return a


def sigmoid_grad_(dy, y):
    """In place: dy <- dy * y * (1 - y), the backward of y = sigma(a) given y."""
    dy *= y
    dy -= dy * y
    return dy


def tanh_grad_(dy, y):
    """In place: dy <- dy * (1 - y**2), the backward of y = tanh(a) given y (three
    passes, one temporary)."""
    xp = array_module(dy)
    one_minus = xp.multiply(y, y)
    xp.subtract(1.0, one_minus, out=one_minus)
    dy *= one_minus
    return dy


def relu_grad_(dy, y):
    """In place: dy <- dy * [y > 0], the backward of y = relu(a) given y."""
    dy *= y > 0
    return dy


ACTIVATIONS = {
    # name: (in-place forward, in-place backward given the forward's output)
    "tanh": (tanh_, tanh_grad_),
    "relu": (relu_, relu_grad_),
    "sigmoid": (sigmoid_, sigmoid_grad_),
}


# ---------------------------------------------------------------- modReLU
def modrelu(z, b, eps=0.0):
    r"""modReLU (Arjovsky, Shah & Bengio, 2016), for real or complex pre-activations.

    .. math::

        \mathrm{modReLU}(z) = \mathrm{ReLU}(|z| + b)\,\frac{z}{|z| + \varepsilon}

    It keeps the phase of z (for real z: its sign) and shrinks or grows its modulus by
    the learned per-unit bias b. Real z with ``eps=0`` is the real form
    sign(z) · ReLU(|z| + b) of the orthogonal RNNs (expRNN, scoRNN); complex z uses a
    small ``eps`` against division by zero (the uRNN authors' code uses 1e-5), and the
    backward below uses the same eps, so it is the exact derivative of this forward.

    z : (B, N) real or complex; b : (N,) real. Returns (out, saved), ``saved`` being
    what :func:`modrelu_backward` needs. Kink: |z| + b = 0 (test points avoid it).
    """
    xp = array_module(z)
    r = xp.abs(z)
    active = (r + b) > 0
    if eps == 0.0 and not xp.iscomplexobj(z):
        out = xp.sign(z) * xp.maximum(r + b, 0)              # sign(z) ReLU(|z| + b)
    else:
        out = xp.maximum(r + b, 0) / (r + eps) * z           # ReLU(|z| + b) z / (|z| + eps)
    return out, (z, r, active, b, eps)


def modrelu_backward(dout, saved):
    r"""Backward of :func:`modrelu`: (dL/dout, saved) -> (dL/dz, dL/db per sample).

    Complex arrays carry gradients as dL/dRe + i dL/dIm. Writing out = φ(r) z with
    r = |z| and φ(r) = ReLU(r + b)/(r + ε):

    .. math::

        \frac{\partial L}{\partial z} = \varphi\, G
            + \mathrm{Re}(G \bar z)\, \varphi'(r)\, \frac{z}{r}, \qquad
        \varphi'(r) = \frac{[r + b > 0](r + \varepsilon) - \mathrm{ReLU}(r + b)}
                           {(r + \varepsilon)^2}, \qquad
        \frac{\partial L}{\partial b} = \mathrm{Re}(G \bar z)\,\frac{[r + b > 0]}{r + \varepsilon}

    For real z and ε = 0 this is dL/dz = G [r + b > 0] and dL/db = G sign(z) [r + b > 0].
    dL/db is returned per sample, shape (B, N): sum it over the batch for the bias.
    """
    z, r, active, b, eps = saved
    xp = array_module(z)
    if eps == 0.0 and not xp.iscomplexobj(z):
        dz = dout * active
        return dz, dz * xp.sign(z)
    G_zbar = (dout * xp.conj(z)).real                        # Re(G conj(z)) = dL/dφ
    denom = r + eps
    relu = xp.maximum(r + b, 0)
    phi = relu / denom
    dphi_dr = (active * denom - relu) / (denom * denom)
    safe_r = xp.where(r > 0, r, 1)                           # z/r is 0·(…) where r = 0
    dz = phi * dout + (G_zbar * dphi_dr / safe_r) * z
    db = G_zbar * active / denom
    return dz, db


# ---------------------------------------------------------------- layer normalization
LAYER_NORM_EPS = 1e-5


def layer_norm(z, gain, bias, eps=LAYER_NORM_EPS):
    r"""Layer normalization (Ba, Kiros & Hinton, 2016) over the last axis (the units).

    .. math::

        \mu = \tfrac1H \textstyle\sum_i z_i, \quad
        \sigma = \sqrt{\tfrac1H \textstyle\sum_i (z_i - \mu)^2 + \varepsilon}, \quad
        n = (z - \mu) / \sigma, \quad y = g \odot n + b

    ``eps`` (ε, default 1e-5 as in the Delta-RNN authors' Theano ``ln``) sits inside the
    square root, so the backward below is the exact derivative of this forward even
    when every unit of a row is equal. z : (..., H); gain, bias : (H,).
    Returns (y, saved) with saved = (n, 1/σ), what :func:`layer_norm_backward` needs.
    """
    xp = array_module(z)
    n = z - z.mean(axis=-1, keepdims=True)                   # z - mu
    rstd = xp.mean(n * n, axis=-1, keepdims=True)
    rstd += eps
    xp.sqrt(rstd, out=rstd)
    xp.divide(1.0, rstd, out=rstd)                           # 1 / sigma
    n *= rstd                                                # n = (z - mu) / sigma
    return n * gain + bias, (n, rstd)


def layer_norm_backward(dy, saved, gain):
    r"""Backward of :func:`layer_norm` with respect to z: (dL/dy, saved, g) -> dL/dz.

    .. math::

        \hat n = g \odot \frac{\partial L}{\partial y}, \qquad
        \frac{\partial L}{\partial z} = \frac1\sigma\Big(\hat n - \mathrm{mean}(\hat n)
            - n\,\mathrm{mean}(\hat n \odot n)\Big)

    (the means over the units). The gain and bias gradients are sums over every leading
    axis, dL/dg = Σ dL/dy ⊙ n and dL/db = Σ dL/dy; they are left to the caller so a cell
    can form them once after its time loop instead of once per step.
    """
    n, rstd = saved
    dn = dy * gain                                           # y = g n + b
    dz = dn - dn.mean(axis=-1, keepdims=True)                # through n = (z - mu) / sigma:
    dz -= n * (dn * n).mean(axis=-1, keepdims=True)          # the mean and the sigma paths
    dz *= rstd
    return dz
