"""The CuPy backend gives the NumPy backend's numbers. Skipped where CuPy or a GPU is
missing (the CI machine has neither)."""
import numpy as np
import pytest

import rnnzoo
from rnnzoo.backend import to_numpy

from .conftest import cell_variants

pytestmark = pytest.mark.skipif(not rnnzoo.cupy_available(),
                                reason="CuPy with a GPU is not available")


@pytest.mark.parametrize("name,opts", cell_variants())
def test_cupy_matches_numpy(name, opts, rng):
    import cupy
    cpu = rnnzoo.make(name, 3, 5, seed=0, **opts)
    gpu = rnnzoo.make(name, 3, 5, seed=0, backend="cupy", **opts)
    for k in cpu.params:                      # same seed, same weights on both devices
        np.testing.assert_array_equal(to_numpy(gpu.params[k]), cpu.params[k])
    x = rng.standard_normal((7, 2, 3))
    hs, sT, cache = cpu.forward(x)
    hs_g, sT_g, cache_g = gpu.forward(cupy.asarray(x))
    assert isinstance(hs_g, cupy.ndarray)
    np.testing.assert_allclose(to_numpy(hs_g), hs, rtol=1e-10, atol=1e-12)
    dhs = rng.standard_normal(hs.shape)
    dx, ds0, grads = cpu.backward(dhs, cache)
    dx_g, ds0_g, grads_g = gpu.backward(cupy.asarray(dhs), cache_g)
    np.testing.assert_allclose(to_numpy(dx_g), dx, rtol=1e-9, atol=1e-12)
    for a, b in zip(ds0_g, ds0):
        np.testing.assert_allclose(to_numpy(a), b, rtol=1e-9, atol=1e-12)
    for k in grads:
        np.testing.assert_allclose(to_numpy(grads_g[k]), grads[k], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads_g.dh_norm, grads.dh_norm, rtol=1e-9)


def test_mixing_backends_is_a_clear_error(rng):
    import cupy
    gpu = rnnzoo.make("gru", 3, 5, backend="cupy")
    with pytest.raises(TypeError, match="x is a numpy.ndarray but this cell uses backend 'cupy'"):
        gpu.forward(rng.standard_normal((4, 2, 3)))
    cpu = rnnzoo.make("gru", 3, 5)
    with pytest.raises(TypeError, match="x is a cupy.ndarray but this cell uses backend 'numpy'"):
        cpu.forward(cupy.zeros((4, 2, 3)))


def test_gradcheck_runs_on_cupy(rng):
    import cupy
    cell = rnnzoo.make("lstm", 2, 3, backend="cupy")
    report = rnnzoo.gradcheck(cell, cupy.asarray(rng.standard_normal((3, 2, 2))))
    assert report.passed, report.table()
