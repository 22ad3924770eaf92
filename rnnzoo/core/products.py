"""The matrix products a cell hoists out of its time loop, shared by every cell through
:class:`rnnzoo.core.base.RecurrentCell` (a mixin of static methods): the input
projections of all T steps as one GEMM before the loop, and every weight gradient and
dL/dx as one GEMM after it, instead of T small ones inside."""
from __future__ import annotations

from .ops import array_module


class SequenceProducts:
    """Static helpers over time-major (T, B, ...) arrays; a cell calls them as
    ``self.project(...)``."""

    @staticmethod
    def project(x, W, b=None, out=None):
        """x @ W.T + b for all T*B rows at once: (T, B, K) -> (T, B, G), one GEMM; written
        into ``out`` (a contiguous (T, B, G) array) when given."""
        T, B, K = x.shape
        G = W.shape[0]
        if out is not None and not out.flags.c_contiguous:   # reshape would copy, and the
            raise ValueError("project: out must be C-contiguous")   # GEMM write a copy
        flat = None if out is None else out.reshape(T * B, G)
        out = (x.reshape(T * B, K) @ W.T if flat is None else
               array_module(x).matmul(x.reshape(T * B, K), W.T, out=flat)).reshape(T, B, G)
        if b is not None:
            out += b
        return out

    @staticmethod
    def project_gates(x, W, b, gates):
        """x @ W.T + b split into its ``gates`` blocks, gate-major: (T, B, K) -> (gates, T,
        B, H) with H = W.shape[0] // gates. One matmul call (a GEMM per gate).

        ``out[:, t]`` is then step t's gates with every gate one contiguous (B, H) block,
        and ``r, z, n = out[:, t]`` unpacks them. NumPy's elementwise functions are several
        times slower on the strided column slices ``a[:, k*H:(k+1)*H]`` of a (B, gates*H)
        array than on contiguous blocks, and a gated cell's step is mostly such functions.
        """
        T, B, K = x.shape
        H = W.shape[0] // gates
        out = x.reshape(T * B, K) @ W.reshape(gates, H, K).transpose(0, 2, 1)
        out += b.reshape(gates, 1, H)
        return out.reshape(gates, T, B, H)

    @staticmethod
    def gate_blocks(a, gates):
        """View a (B, gates*H) array, gates side by side as ``W @ h`` produces them, as
        (gates, B, H): a view, not a copy, so it can be read from and written to."""
        return a.reshape(a.shape[0], gates, -1).transpose(1, 0, 2)

    @staticmethod
    def weight_grad(dpre, inputs):
        """dL/dW of pre = inputs @ W.T, summed over all steps and the batch.

        dpre (T, B, G), inputs (T, B, K) -> (G, K), one GEMM after the time loop instead
        of T small ones inside it.
        """
        G, K = dpre.shape[-1], inputs.shape[-1]
        return dpre.reshape(-1, G).T @ inputs.reshape(-1, K)

    @staticmethod
    def bias_grad(dpre):
        """dL/db of pre = ... + b: (T, B, G) -> (G,)."""
        return dpre.sum(axis=(0, 1))

    @staticmethod
    def input_grad(dpre, W):
        """dL/dinputs of pre = inputs @ W.T: (T, B, G) @ (G, K) -> (T, B, K), one GEMM."""
        T, B, G = dpre.shape
        return (dpre.reshape(T * B, G) @ W).reshape(T, B, W.shape[1])
