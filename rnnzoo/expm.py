r"""The matrix exponential and its Fréchet derivative, on the NumPy and CuPy backends.

The orthogonal cell's ``parametrization="exp"`` builds :math:`W = e^{A}` and, in
backward, needs the adjoint of the derivative of :math:`A \mapsto e^A`. On NumPy both
come from SciPy (``scipy.linalg.expm``, ``scipy.linalg.expm_frechet``). On CuPy the
same two functions are computed here with array operations only, so the parameters
never leave the GPU:

* :func:`expm_pade` -- scaling and squaring with the degree-13 Padé approximant
  (Higham, 2005, "The scaling and squaring method for the matrix exponential
  revisited"): :math:`e^{A} = r_{13}(A / 2^s)^{2^s}` with s chosen so that
  :math:`\|A / 2^s\|_1 \le \theta_{13}`.
* :func:`expm_frechet_block` -- the Fréchet derivative :math:`L_{\exp}(X, E) =
  \frac{d}{dt} e^{X + tE}\big|_{t=0}` read off the block identity

  .. math::

      \exp\begin{pmatrix} X & E \\ 0 & X \end{pmatrix}
      = \begin{pmatrix} e^X & L_{\exp}(X, E) \\ 0 & e^X \end{pmatrix}

  (Higham, "Functions of Matrices", 2008, eq. 3.16). E is scaled to unit norm first
  (L is linear in E), so a large gradient does not force extra squarings.

Both are tested against SciPy on NumPy arrays (tests/test_orthogonal.py).
"""
from __future__ import annotations

import math

import numpy as np
import scipy.linalg

from .ops import array_module

# numerator coefficients b_0..b_13 of the [13/13] Padé approximant of e^x (Higham 2005)
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0,
           1187353796428800.0, 129060195264000.0, 10559470521600.0, 670442572800.0,
           33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152       # largest ||A||_1 at which r_13 is accurate to eps


def _norm1(A) -> float:
    """The 1-norm (largest column sum of |A|), as a host float: one sync, outside loops."""
    return float(array_module(A).abs(A).sum(axis=0).max())


def expm(A):
    """e^A for a square matrix: SciPy on NumPy, :func:`expm_pade` on CuPy."""
    if array_module(A) is np:
        return scipy.linalg.expm(A).astype(A.dtype, copy=False)
    return expm_pade(A)


def expm_frechet(X, E):
    """L_exp(X, E), the derivative of e^X in the direction E: SciPy on NumPy,
    :func:`expm_frechet_block` on CuPy."""
    if array_module(X) is np:
        return scipy.linalg.expm_frechet(X, E, compute_expm=False).astype(X.dtype, copy=False)
    return expm_frechet_block(X, E)


def expm_pade(A):
    """e^A by scaling and squaring with the [13/13] Padé approximant, using only the
    array module's matmul, solve and elementwise operations (runs on CuPy)."""
    xp = array_module(A)
    norm = _norm1(A)
    s = max(0, math.ceil(math.log2(norm / _THETA13))) if norm > 0 else 0
    A = A / (2.0 ** s)
    b = _PADE13
    ident = xp.eye(A.shape[0], dtype=A.dtype)
    A2 = A @ A
    A4 = A2 @ A2
    A6 = A4 @ A2
    # r_13(A) = (V - U)^{-1} (V + U), U the odd part of the numerator, V the even part
    U = A @ (A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2)
             + b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * ident)
    V = A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2 \
        + b[0] * ident
    R = xp.linalg.solve(V - U, V + U)
    for _ in range(s):                                      # undo the scaling: R^(2^s)
        R = R @ R
    return R


def expm_frechet_block(X, E):
    """L_exp(X, E) as the upper-right block of exp([[X, E], [0, X]]), via
    :func:`expm_pade` (runs on CuPy)."""
    xp = array_module(X)
    scale = _norm1(E)
    if scale == 0.0:
        return xp.zeros_like(X)
    n = X.shape[0]
    M = xp.zeros((2 * n, 2 * n), dtype=X.dtype)
    M[:n, :n] = X
    M[n:, n:] = X
    M[:n, n:] = E / scale
    return expm_pade(M)[:n, n:] * scale
