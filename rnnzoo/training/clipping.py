"""Gradient clipping and parameter constraints, the two steps beside the optimizer's
(offered as ``rnnzoo.optim.clip_grad_norm`` and ``rnnzoo.optim.apply_constraints``, see
:mod:`rnnzoo.training.optim`), and the check both they and the optimizers make of the
arrays they change in place."""
from __future__ import annotations

import math

import numpy as np

from ..core.backend import to_numpy
from ..core.base import RecurrentCell
from ..core.validation import ArgumentTypeError, check_float, describe
from .model import SequenceModel


def global_norm(grads) -> float:
    r"""The norm of all gradients as one vector, :math:`\sqrt{\sum_k \|g_k\|_F^2}`;
    ``grads``: a dict name -> real floating-point array."""
    if not isinstance(grads, dict):
        raise ArgumentTypeError(f"global_norm: grads must be a dict name -> array; got "
                                f"{describe(grads)}")
    for k, g in grads.items():
        if not (hasattr(g, "dtype") and np.issubdtype(g.dtype, np.floating)):
            raise ArgumentTypeError(f"global_norm: grads must map names to real "
                                    f"floating-point arrays; entry {k!r} is {describe(g)}")
    return math.sqrt(sum(float(to_numpy((g * g).sum())) for g in grads.values()))


def clip_grad_norm(grads, max_norm) -> float:
    r"""Rescale all gradients together, in place, so their global norm is at most
    ``max_norm``; return the norm *before* clipping.

    .. math:: \|g\| = \sqrt{\textstyle\sum_k \|g_k\|_F^2}, \qquad
              g_k \leftarrow g_k \cdot \min(1, \text{max\_norm} / \|g\|)

    (Pascanu et al., 2013). The direction of the update is kept; only its length is
    capped. A non-finite norm is returned unchanged and nothing is scaled, so the caller
    sees the NaN/inf instead of a silently zeroed gradient. Against
    ``torch.nn.utils.clip_grad_norm_``: torch divides by ``norm + 1e-6`` and scales even
    a norm just under ``max_norm``; here the divisor is ``norm + 1e-12`` and a norm at or
    under ``max_norm`` is left alone, so a clipped gradient differs from torch's by a
    relative 1e-6 / norm.
    """
    max_norm = check_float(max_norm, "max_norm", minimum=0.0, min_open=True,
                           where="clip_grad_norm")
    if not isinstance(grads, dict):
        raise ArgumentTypeError(f"clip_grad_norm: grads must be a dict name -> array; got "
                                f"{describe(grads)}")
    _check_in_place(grads, "grads", "they are scaled in place", "clip_grad_norm")
    total = global_norm(grads)
    if math.isfinite(total) and total > max_norm:
        scale = max_norm / (total + 1e-12)
        for g in grads.values():
            g *= scale
    return total


def apply_constraints(model):
    """Call ``cell.constrain()`` for every cell of ``model`` (a SequenceModel or a single
    cell) that defines it. Returns the number of cells constrained."""
    if not isinstance(model, (SequenceModel, RecurrentCell)):
        # anything else has no cells to constrain: returning 0 would read as "none needed"
        raise ArgumentTypeError(f"apply_constraints: model must be a SequenceModel or a "
                                f"cell (rnnzoo.RecurrentCell); got {describe(model)}")
    cells = getattr(model, "cells", [model])
    n = 0
    for cell in cells:
        constrain = getattr(cell, "constrain", None)
        if callable(constrain):
            constrain()
            n += 1
    return n


def _check_in_place(arrays, what, why, where):
    """{name: array} whose arrays are changed in place: str names, writeable real
    floating-point arrays (every cell's parameters are real; a complex one would have its
    real and imaginary parts updated as if independent, by rules written for reals; CuPy's
    arrays have no writeable flag: always writeable)."""
    for k, a in arrays.items():
        problem = ("" if not (isinstance(k, str) and hasattr(a, "dtype")) else
                   f" of dtype {a.dtype}" if not np.issubdtype(a.dtype, np.floating) else
                   " (read-only)" if not getattr(getattr(a, "flags", None), "writeable", True)
                   else None)
        if problem is not None:
            raise ArgumentTypeError(f"{where}: {what} must map names (str) to writeable "
                                    f"real floating-point arrays ({why}); entry {k!r} is "
                                    f"{describe(a)}{problem}")
