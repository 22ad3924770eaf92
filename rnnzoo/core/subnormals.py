r"""Flush subnormal floats to zero, for speed, while a model trains on the CPU.

Why. A gradient that vanishes through a long sequence decays through the *subnormal*
range on its way to zero: the numbers below the smallest normal float, 1.2e-38 in float32
(2.2e-308 in float64). x86 CPUs compute with a subnormal operand or result tens of times
more slowly than with normal numbers (a microcode assist). In a float32 backward through
T = 1,000 steps of the adding problem, where only the last step has a loss, a tenth of the
carried gradient can be subnormal, and an LSTM's training step ran about 6x slower than
with those numbers flushed (``figures/speed/subnormals.md``, written by
``python scripts/subnormal_speed.py``, cell by cell).

What. Inside ``with flush_subnormals():`` the CPU treats subnormal operands as zero and
writes zero where a result would be subnormal: the FTZ and DAZ bits of x86's MXCSR
register (FZ of the FPCR on 64-bit ARM), as ``torch.set_flush_denormal(True)`` sets them.
Only numbers smaller than the smallest normal float change, and they become 0; a sum of
float32 numbers that has any term above about 1e-31 cannot tell the difference.

Scope. The calling thread, for the with-block only: the previous setting comes back on
exit, an exception included. NumPy's functions running in that thread obey it; the worker
threads of a multi-threaded BLAS do not (with one BLAS thread, as the comparisons and the
reproductions run, the matrix products are covered too). With two BLAS threads most of
the gain remains (the table's 2-thread rows; our reading: the operands the workers receive
come from the flushed thread). :class:`rnnzoo.Trainer` uses it
for each training step and evaluation on the NumPy backend (``flush_subnormals=False``
turns that off). The gradient checks never do: they run in IEEE float64.

Where. Linux on x86-64 (glibc's ``fenv_t``; tested) and on 64-bit ARM (its FPCR; checked
by the self-test below, not on our machines). Elsewhere it does nothing, and
:func:`flushing_supported` says why. Whether the setting took is never assumed: the first
use multiplies a subnormal float32 and checks that the product is 0, and restores the
previous setting if it is not.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import platform
from contextlib import contextmanager

import numpy as np

from .validation import check_bool

# where fenv_t (as fegetenv fills it) holds the control register, and its flush bits
_LAYOUTS = {
    ("Linux", "x86_64"): (28, 0x8040),       # glibc's __mxcsr: FTZ (bit 15) | DAZ (bit 6)
    ("Linux", "aarch64"): (0, 1 << 24),      # glibc's __fpcr: FZ (bit 24)
}
_ENV_BYTES = 64                              # more than any fenv_t above (32 and 8 bytes)

_setup = None                   # (register or None, (supported, reason)), found once


def _platform_key():
    machine = platform.machine().lower()
    return platform.system(), {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)


def _libm():
    name = ctypes.util.find_library("m")
    return None if name is None else ctypes.CDLL(name)


class _ControlRegister:
    """Read and write the flush bits through the C library's fegetenv / fesetenv."""

    def __init__(self, libm, offset, bits):
        self.libm, self.offset, self.bits = libm, offset, bits

    def get(self):
        env = ctypes.create_string_buffer(_ENV_BYTES)
        if self.libm.fegetenv(env) != 0:
            raise OSError("fegetenv failed")
        return env

    def set(self, env):
        if self.libm.fesetenv(env) != 0:
            raise OSError("fesetenv failed")

    def with_flush(self, env):
        """A copy of ``env`` with the flush bits set."""
        new = ctypes.create_string_buffer(env.raw, _ENV_BYTES)
        word = int.from_bytes(new.raw[self.offset:self.offset + 4], "little") | self.bits
        new[self.offset:self.offset + 4] = word.to_bytes(4, "little")
        return new


def _flushes():
    """True where the CPU, as set now, flushes: half the smallest normal float32 is 0,
    and a subnormal operand is read as 0 (DAZ; FZ on ARM does both)."""
    tiny = np.finfo(np.float32).tiny
    half = np.multiply(np.float32(tiny), np.float32(0.5))
    scaled = np.multiply(np.float32(tiny / 4), np.float32(2.0 ** 100))
    return bool(half == 0 and scaled == 0)


def _control_register():
    """The control register, or None where flushing is not available; found (and the
    self-test run) on the first call only: find_library can take a while."""
    global _setup
    if _setup is None:
        _setup = _find_control_register()
    return _setup[0]


def _find_control_register():
    key = _platform_key()
    if key not in _LAYOUTS:
        return None, (False, f"not implemented on {key[0]} {key[1]} (only Linux on x86-64 "
                             "and 64-bit ARM)")
    libm = _libm()
    if libm is None or not hasattr(libm, "fegetenv"):
        return None, (False, "no C math library with fegetenv/fesetenv was found")
    reg = _ControlRegister(libm, *_LAYOUTS[key])
    saved = reg.get()
    try:
        reg.set(reg.with_flush(saved))
        took = _flushes()
    finally:
        reg.set(saved)
    if not took:
        return None, (False, "the flush bits were set but a subnormal product was not "
                             "flushed")
    return reg, (True, "FTZ/DAZ set and checked")


def flushing_supported():
    """(supported, reason): whether :func:`flush_subnormals` can flush on this machine."""
    _control_register()
    return _setup[1]


@contextmanager
def flush_subnormals(enabled=True):
    """Flush subnormal floats to zero in this thread for the with-block; yields whether it
    does (False where ``enabled`` is False or the platform is not supported)."""
    enabled = check_bool(enabled, "enabled", where="flush_subnormals")
    reg = _control_register() if enabled else None
    if reg is None:
        yield False
        return
    saved = reg.get()
    reg.set(reg.with_flush(saved))
    try:
        yield True
    finally:
        reg.set(saved)
