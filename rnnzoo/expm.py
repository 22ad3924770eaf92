r"""The exponential of a skew-symmetric matrix and the adjoint of its derivative, on the
NumPy and CuPy backends alike.

The orthogonal cell's ``parametrization="exp"`` builds :math:`W = e^{A}` from a real
skew-symmetric A and, in backward, needs :math:`\partial L/\partial A = L_{\exp}(A^\top,
\partial L/\partial W)`, the Fréchet derivative of the exponential at
:math:`A^\top = -A` applied to the gradient. Both come from one eigendecomposition.

:math:`iA` is Hermitian, so ``eigh`` gives :math:`iA = U \Lambda U^H` with U unitary and
Λ real, i.e. :math:`A = U\,\mathrm{diag}(-i\lambda)\,U^H`, and

.. math::

    e^{A} = U\, \mathrm{diag}(e^{-i\lambda})\, U^H .

A unitary U and unit-modulus :math:`e^{-i\lambda_k}` make the computed W orthogonal to
a few ulps *whatever the size of A*: SciPy's scaling-and-squaring ``expm`` squares
:math:`\lceil \log_2 \|A\| \rceil` times and its orthogonality error grows with
:math:`\|A\|` (about 1e-12 at :math:`\|A\|_2 \approx 600`, which large learning rates
reach). For a normal matrix :math:`X = U \mathrm{diag}(\nu) U^H` the Fréchet
derivative is the Daleckii-Krein formula

.. math::

    L_{\exp}(X, E) = U \big(\Phi \circ (U^H E U)\big) U^H, \qquad
    \Phi_{jk} = \frac{e^{\nu_j} - e^{\nu_k}}{\nu_j - \nu_k}
              = e^{(\nu_j + \nu_k)/2}\, \frac{\sin \delta_{jk}}{\delta_{jk}},

with :math:`X = A^\top = -A`, :math:`\nu = i\lambda` and :math:`\delta_{jk} =
(\lambda_j - \lambda_k)/2`; the sinc form is exact and stays accurate for equal or
close eigenvalues (where it tends to :math:`e^{\nu_j}`). Only matrix products, ``eigh``
and elementwise functions are used, so CuPy never leaves the GPU. Both functions are
tested against ``scipy.linalg.expm`` and ``scipy.linalg.expm_frechet``
(tests/test_orthogonal.py).
"""
from __future__ import annotations

from .ops import array_module


def expm_skew(A):
    """W = e^A for a real skew-symmetric A (n, n). Returns (W, saved), ``saved`` being
    the eigendecomposition that :func:`expm_skew_backward` reuses."""
    xp = array_module(A)
    complex_dtype = xp.result_type(A.dtype, xp.complex64)
    lam, U = xp.linalg.eigh(1j * A.astype(complex_dtype))        # iA = U diag(lam) U^H
    W = ((U * xp.exp(-1j * lam)) @ U.conj().T).real               # U diag(e^{-i lam}) U^H
    return W.astype(A.dtype, copy=False), (lam, U)


def expm_skew_backward(G, saved):
    """dL/dA = L_exp(A^T, G) for W = e^A, from G = dL/dW and :func:`expm_skew`'s saved
    eigendecomposition of A (A^T = -A has the same U and eigenvalues +i lam)."""
    xp = array_module(G)
    lam, U = saved
    half_gap = 0.5 * (lam[:, None] - lam[None, :])
    # (e^{nu_j} - e^{nu_k}) / (nu_j - nu_k) with nu = i lam; sinc(x) = sin(pi x)/(pi x)
    Phi = xp.exp(0.5j * (lam[:, None] + lam[None, :])) * xp.sinc(half_gap / xp.pi)
    Uh = U.conj().T
    return (U @ (Phi * (Uh @ G.astype(U.dtype) @ U)) @ Uh).real.astype(G.dtype, copy=False)
