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

    Computed as 0.5 * (1 + tanh(a / 2)), which is the same function but never overflows
    (exp(-a) does for a < -88 in float32) and costs one transcendental.
    """
    xp = array_module(a)
    a *= 0.5
    xp.tanh(a, out=a)
    a += 1.0
    a *= 0.5
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
