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

from ..core.ops import array_module


def _real_parts(U):
    """[Re U, Im U] side by side, (n, 2n): Re(P Q^H) = [Re P, Im P] @ [Re Q, Im Q]^T is
    then one real matrix product, half the work of the complex product it replaces."""
    xp = array_module(U)
    return xp.concatenate([U.real, U.imag], axis=1)


def expm_skew(A):
    """W = e^A for a real skew-symmetric A (n, n). Returns (W, saved), ``saved`` being
    the eigendecomposition that :func:`expm_skew_backward` reuses."""
    xp = array_module(A)
    complex_dtype = xp.result_type(A.dtype, xp.complex64)
    lam, U = xp.linalg.eigh(1j * A.astype(complex_dtype))        # iA = U diag(lam) U^H
    W = _real_parts(U * xp.exp(-1j * lam)) @ _real_parts(U).T    # Re(U diag(e^{-i lam}) U^H)
    return W.astype(A.dtype, copy=False), (lam, U)


def expm_skew_backward(G, saved):
    """dL/dA = L_exp(A^T, G) for W = e^A, from G = dL/dW and :func:`expm_skew`'s saved
    eigendecomposition of A (A^T = -A has the same U and eigenvalues +i lam)."""
    xp = array_module(G)
    lam, U = saved
    n = U.shape[0]
    # (e^{nu_j} - e^{nu_k}) / (nu_j - nu_k) with nu = i lam is e_j e_k sinc_jk, with
    # e = e^{i lam / 2} and sinc(x) = sin(pi x)/(pi x): the exponential of n numbers, not n^2
    sinc = xp.sinc((0.5 / xp.pi) * (lam[:, None] - lam[None, :]))
    e = xp.exp(0.5j * lam)
    GU = G.astype(U.real.dtype, copy=False) @ _real_parts(U)    # G U, G real: a real product
    M = U.conj().T @ (GU[:, :n] + 1j * GU[:, n:])                # U^H G U
    M *= sinc                                                    # U Phi o (U^H G U) U^H with
    Ue = U * e                                                   # Phi = diag(e) sinc diag(e)
    dA = _real_parts(Ue @ M) @ _real_parts(U * e.conj()).T       # = (U e) (sinc o M) (U e^*)^H
    return dA.astype(G.dtype, copy=False)
