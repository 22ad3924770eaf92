"""Keep the memory a process frees for its next allocations instead of mapping fresh
pages from the kernel: for training, and for timing how a cell's work grows.

Why. glibc's malloc gives a freed block above its mmap threshold (which starts at 128 KB
and rises with the blocks freed, to at most 32 MB) back to the kernel at once, and the
next request for one maps fresh pages that the kernel zeroes, at a page fault each, in
this process's system CPU time. A training step frees and asks again for every array of
its forward's cache and its backward, each as large as T x B x the state: at long
sequences and wide states, arrays above 32 MB, mapped afresh at every step. In our runs
(``figures/speed/kept_memory.md``, written by ``python scripts/kept_memory_speed.py``),
``python -m rnnzoo train`` on the adding problem at T = 1000, B = 32, H = 128 paid fewer
page faults and less system time with freed memory kept for every cell measured (table
4, which ``tests/test_benchmark.py`` reads back); what that saves in wall time differs by
cell and from run to run (tables 3 and 4), and the process's peak memory was 9% higher
kept. The system time the faults add also moved with T and with what the process had
run before (the cost-in-T figure once fitted S4D's recurrent mode a slope of 1.52 after
25 other figures in one process, 1.07 alone), so a measurement of how a cell's own work
grows with T keeps freed memory.

What. :func:`keep_freed_memory` sets glibc's ``M_MMAP_THRESHOLD`` to 1 GB (blocks below
it come from the heap, not from fresh mappings) and ``M_TRIM_THRESHOLD`` to 2 GB (the
heap is not shrunk when the top of it is freed). The process then grows to its peak and
stays there; a training process reaches that peak at every step anyway. What is computed
does not change: a run trains to the same numbers bit for bit.

Who. It lasts for the rest of the process and cannot be undone, so the library calls it
only in processes that are its own: ``python -m rnnzoo train``, ``compare`` and
``reproduce`` (:data:`rnnzoo.cli.TRAINING_COMMANDS`; compare's workers are forked from
that process and inherit it), and the child process that times the cost-in-T figure.
Your own program or notebook is left as it is: call ``rnnzoo.keep_freed_memory()`` first
in it to train the same way there (the worker processes of
:func:`rnnzoo.experiments.compare` are forked from it on Linux and inherit the setting).
Elsewhere than glibc (macOS, Windows, musl) it does nothing and returns False.
"""
from __future__ import annotations

# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_KEEP = ((_M_MMAP_THRESHOLD, 1 << 30), (_M_TRIM_THRESHOLD, 2**31 - 1))


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep the memory this process frees for its next allocations
    (see the module docstring), for the rest of the process. Returns whether it took:
    False where the C library is not glibc, where nothing changes."""
    import ctypes
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError, TypeError):     # no C library to ask, or no mallopt
        return False
    return all(mallopt(param, value) == 1 for param, value in _KEEP)
