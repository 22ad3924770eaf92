"""The CuPy suite (tests/test_cupy.py) once more, on CuPy emulated on the CPU
(tests/emulated_cupy.py): host arrays mixed with device arrays, implicit conversions,
synchronizations inside the time loop and names CuPy lacks fail here as on a GPU, so a
cell that would break on CuPy breaks the CI run, not the next GPU session."""
import numpy as np
import pytest

import rnnzoo

from . import test_cupy
from .emulated_cupy import installed


@pytest.fixture(autouse=True)
def emulated_cupy():
    with installed() as cupy:
        yield cupy


# every test of the real suite, collected here a second time under the emulation
globals().update({name: test for name, test in vars(test_cupy).items()
                  if name.startswith("test_")})


# ------------------------------------------------------------------ the emulation's controls
def test_the_emulation_refuses_what_cupy_refuses(emulated_cupy):
    """Without these the suite above could pass whatever the cells do."""
    cupy, cupyx = emulated_cupy, __import__("cupyx")
    from rnnzoo.core.backend import array_type_name, backend_of, to_numpy
    a = cupy.asarray(np.arange(6.0).reshape(2, 3))
    assert not isinstance(a, np.ndarray) and array_type_name(a) == "cupy.ndarray"
    assert backend_of(a).name == "cupy" and isinstance(to_numpy(a), np.ndarray)
    with pytest.raises(TypeError, match="numpy.ndarray of shape"):
        a + np.ones(3)                                 # a host array beside a device one
    with pytest.raises(TypeError, match="numpy.ndarray of shape"):
        cupy.matmul(a, np.ones((3, 2)))
    with pytest.raises(TypeError, match="numpy.ndarray of shape"):
        cupy.tanh(np.ones(3))
    with pytest.raises(TypeError, match="implicit conversion"):
        np.asarray(a)
    with pytest.raises(AttributeError, match="no attribute 'vecdot'"):
        cupy.vecdot                                    # a NumPy name CuPy lacks
    with pytest.raises(AttributeError, match="no attribute 'resize'"):
        a.resize((3, 2))
    with pytest.raises(NotImplementedError, match="logaddexp.accumulate"):
        cupy.logaddexp.accumulate(a, axis=0)
    with pytest.raises(NotImplementedError, match="logaddexp.accumulate"):
        np.logaddexp.accumulate(a, axis=0)
    with pytest.raises(NotImplementedError, match="maximum.reduce"):
        cupy.maximum.reduce(a, axis=0)                 # CuPy: a.max(axis=0) instead
    assert cupy.add.outer(a[0], a[0]).shape == (3, 3)
    with pytest.raises(ValueError, match="cannot be used for fill"):
        a[0] = np.ones(3)                              # a host array, basic index
    a[np.array([0])] = np.ones((1, 3))                 # an index array: copied over
    a[0, 1:] = 7.0
    np.testing.assert_array_equal(a.get(), [[1, 7, 7], [3, 4, 5]])
    a = cupy.asarray(np.arange(6.0).reshape(2, 3))
    assert isinstance(a.sum(), cupy.ndarray) and a.sum().shape == ()   # 0-d, not a scalar
    with pytest.raises(TypeError, match=r"numpy.ndarray of shape \(\)"):
        a * np.asarray(2.0)                            # 0-d host arrays too
    z = cupy.asarray(np.array([1 + 2j, 3 + 4j]))
    z.real = cupy.asarray(np.array([5.0, 6.0]))        # a device array: assigned
    np.testing.assert_array_equal(z.get(), [5 + 2j, 6 + 4j])
    with pytest.raises(TypeError, match="numpy.ndarray of shape"):
        z.imag = np.ones(2)                            # a host array: refused
    with cupyx.allow_synchronize(False):
        b = cupy.exp(a) @ a.T                          # no host read: fine
        for read in (float, bool, repr, lambda v: v.item(), lambda v: v.get()):
            with pytest.raises(cupyx.DeviceSynchronized):
                read(b[0, 0])
        with pytest.raises(cupyx.DeviceSynchronized):
            b[b > 0]                                   # a boolean mask's size
    np.testing.assert_array_equal(b.get(), np.exp(np.arange(6.0).reshape(2, 3))
                                  @ np.arange(6.0).reshape(2, 3).T)


def test_a_cell_that_mixes_in_a_host_array_fails_the_suite(monkeypatch, rng):
    """The control for test_cupy_matches_numpy: an Elman step that adds a bias built with
    np.zeros (a host array, where xp.zeros was meant) must fail here as on a GPU."""
    from rnnzoo.cells.rnn import ElmanRNN
    real = ElmanRNN._forward

    def host_bias(self, x, state0):
        return real(self, x + np.zeros(x.shape[-1]), state0)
    monkeypatch.setattr(ElmanRNN, "_forward", host_bias)
    with pytest.raises(TypeError, match="numpy.ndarray"):
        test_cupy.test_cupy_matches_numpy("rnn", {}, rng)


def test_the_gpu_bench_runs_end_to_end(capsys):
    """`bench --backend cupy` through the emulation: the GPU path's code (device
    properties, synchronization around each call, the table) without a GPU. Its times
    are NumPy's and mean nothing."""
    from rnnzoo.__main__ import main
    main(["bench", "--backend", "cupy", "--cells", "lstm,s4d", "--shapes", "5/2/8",
          "--modes", "fb", "--repeat", "1", "--no-files"])
    out = capsys.readouterr().out
    assert "| `lstm` | 5/2/8 | fb |" in out and "| `s4d` | 5/2/8 | fb |" in out
