"""Array backends: NumPy on the CPU, CuPy on the GPU.

This is the only module in rnnzoo that knows CuPy exists. Everything else asks a
:class:`Backend` for its array module ``xp`` and writes ``xp.tanh``, ``xp.matmul``...,
so one cell file runs unchanged on either device (CuPy's "CPU/GPU-agnostic code" idiom).

Parameters are always created on the host with NumPy's generator and then moved to the
device (:meth:`Backend.asarray`), because CuPy's random streams differ from NumPy's: this
way a cell built with the same seed starts from identical weights on both backends.
"""
from __future__ import annotations

import numpy as np

BACKENDS = ("numpy", "cupy")

_CUPY_HINT = (
    "CuPy is not installed (or found no GPU). Install the wheel that matches your CUDA "
    "version, e.g. `pip install cupy-cuda12x`, or use backend='numpy'."
)


class Backend:
    """A named array module plus the two conversions the library needs."""

    def __init__(self, name: str, xp, ndarray_type):
        self.name = name
        self.xp = xp
        self.ndarray = ndarray_type

    def asarray(self, host_array, dtype=None):
        """Move a NumPy array onto this backend (a copy on CuPy, a no-op view on NumPy)."""
        return self.xp.asarray(host_array, dtype=dtype)

    def is_array(self, a) -> bool:
        return isinstance(a, self.ndarray)

    def __repr__(self):
        return f"Backend({self.name!r})"


_NUMPY = Backend("numpy", np, np.ndarray)
_cupy_backend = None


def _load_cupy() -> Backend:
    global _cupy_backend
    if _cupy_backend is None:
        try:
            import cupy  # the one CuPy import in the library
            cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # ImportError, or CUDA runtime errors without a GPU
            raise RuntimeError(f"backend='cupy' is unavailable: {exc}. {_CUPY_HINT}") from exc
        _cupy_backend = Backend("cupy", cupy, cupy.ndarray)
    return _cupy_backend


def get_backend(name) -> Backend:
    """Return the backend called ``name`` ("numpy" or "cupy"); a Backend passes through."""
    if isinstance(name, Backend):
        return name
    if name == "numpy":
        return _NUMPY
    if name == "cupy":
        return _load_cupy()
    raise ValueError(f"unknown backend {name!r}; expected one of {BACKENDS}")


def cupy_available() -> bool:
    """True when backend='cupy' would work (CuPy imports and sees a GPU)."""
    try:
        _load_cupy()
    except RuntimeError:
        return False
    return True


def backend_of(a) -> Backend:
    """The backend an array lives on (NumPy unless it is a CuPy array)."""
    if isinstance(a, np.ndarray):
        return _NUMPY
    if _cupy_backend is not None and isinstance(a, _cupy_backend.ndarray):
        return _cupy_backend
    module = type(a).__module__.split(".")[0]
    if module == "cupy":
        return _load_cupy()
    raise TypeError(f"expected a numpy or cupy array, got {type(a).__name__}")


def to_numpy(a):
    """Bring an array (or a scalar) back to the host as NumPy; NumPy input is returned as is."""
    if isinstance(a, np.ndarray) or np.isscalar(a):
        return a
    get = getattr(a, "get", None)  # cupy.ndarray.get() copies device -> host
    if get is not None:
        return get()
    return np.asarray(a)


def array_type_name(a) -> str:
    t = type(a)
    return f"{t.__module__.split('.')[0]}.{t.__name__}"
