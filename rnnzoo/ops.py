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
    """In place: dy <- dy * (1 - y**2), the backward of y = tanh(a) given y."""
    dy -= dy * y * y
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
