"""The CuPy backend gives the NumPy backend's numbers. Skipped where CuPy or a GPU is
missing (the CI machine has neither). Hidden size 4: a power of two, as EURNN's FFT style
needs."""
import numpy as np
import pytest

import rnnzoo
from rnnzoo.core.backend import to_numpy

from .conftest import cell_variants

pytestmark = pytest.mark.skipif(not rnnzoo.cupy_available(),
                                reason="CuPy with a GPU is not available")


@pytest.mark.parametrize("name,opts", cell_variants())
def test_cupy_matches_numpy(name, opts, rng):
    import cupy
    cpu = rnnzoo.make(name, 3, 4, seed=0, **opts)
    gpu = rnnzoo.make(name, 3, 4, seed=0, backend="cupy", **opts)
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


def test_the_scan_refuses_arrays_on_two_backends():
    import cupy
    from rnnzoo.core.scan import linear_scan

    from .test_scan import good
    a, b, h0, dh = good(np.random.default_rng(0))
    with pytest.raises(TypeError, match="linear_scan: a, b and h0 must be on one backend; got "
                                        "a on numpy, b on cupy, h0 on numpy"):
        linear_scan(a, cupy.asarray(b), h0)


def test_gradcheck_runs_on_cupy(rng):
    import cupy
    cell = rnnzoo.make("lstm", 2, 3, backend="cupy")
    report = rnnzoo.gradcheck(cell, cupy.asarray(rng.standard_normal((3, 2, 2))))
    assert report.passed, report.table()


def test_gradcheck_names_a_gradient_left_on_the_host(rng):
    """A backward of one's own that returns a NumPy gradient for a CuPy cell: named, not
    compared (gradcheck copies what it compares to the host itself)."""
    import cupy
    cell = rnnzoo.make("rnn", 2, 3, backend="cupy")
    original = cell.backward

    class Own:
        params, dtype, state_names, backend = cell.params, cell.dtype, cell.state_names, "cupy"
        initial_state, forward = cell.initial_state, cell.forward

        def backward(self, dhs, cache, dstate_T=None):
            dx, dstate0, grads = original(dhs, cache, dstate_T)
            return dx, dstate0, {**grads, "b_hh": cupy.asnumpy(grads["b_hh"])}
    report = rnnzoo.gradcheck(Own(), cupy.asarray(rng.standard_normal((3, 2, 2))))
    assert report.problems == ["grads['b_hh'] is a numpy.ndarray of shape (3,), dtype "
                               "float64; expected a cupy array, like params['b_hh']"]
    assert "b_hh" not in {r.name for r in report.rows}
    assert all(r.passed for r in report.rows), report.table()


@pytest.mark.parametrize("batch", [1, 3])
def test_real_skipping_on_cupy(batch, rng):
    """Skip RNN's forward_skipping reads u_t back to the host at every step and gathers
    rows on the device. A pass: on CuPy it picks the steps the NumPy run picks and gives
    the masked CuPy forward's outputs and final state (to rounding, float64)."""
    import cupy
    cells = [rnnzoo.make("skiprnn", 3, 4, seed=4, budget=0.05, backend=b)
             for b in ("numpy", "cupy")]
    for c in cells:
        c.params["b_p"][...] = -1.0                # Δ ≈ 0.27: runs of skipped steps
    x = rng.standard_normal((20, batch, 3))
    _, _, updates = cells[0].forward_skipping(x)
    hs_g, sT_g, cache_g = cells[1].forward(cupy.asarray(x))
    hs_s, sT_s, updates_g = cells[1].forward_skipping(cupy.asarray(x))
    assert isinstance(hs_s, cupy.ndarray)
    np.testing.assert_array_equal(updates_g, updates)
    np.testing.assert_array_equal(updates_g, to_numpy(cache_g.u[:, :, 0]) == 1)
    assert 0 < updates.mean() < 1
    np.testing.assert_allclose(to_numpy(hs_s), to_numpy(hs_g), rtol=1e-12, atol=1e-14)
    for a, b in zip(sT_s, sT_g):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ the contract on CuPy
@pytest.mark.parametrize("name,opts", cell_variants())
def test_float32_contract_on_cupy(name, opts, rng):
    """Arrays stay on the device and keep the cell's dtype: no silent trip to the host,
    no silent upcast to float64."""
    import cupy
    cell = rnnzoo.make(name, 3, 4, seed=0, backend="cupy", dtype=np.float32, **opts)
    x = cupy.asarray(rng.standard_normal((6, 2, 3)).astype(np.float32))
    hs, state_T, cache = cell.forward(x)
    assert isinstance(hs, cupy.ndarray) and hs.dtype == np.float32
    assert hs.shape == (6, 2, cell.output_size)
    for s, z in zip(state_T, cell.initial_state(2)):
        assert isinstance(s, cupy.ndarray) and s.shape == z.shape and s.dtype == z.dtype
    dhs = cupy.asarray(rng.standard_normal(hs.shape).astype(np.float32))
    dx, dstate0, grads = cell.backward(dhs, cache)
    assert isinstance(dx, cupy.ndarray) and dx.dtype == np.float32 and dx.shape == x.shape
    for d, z in zip(dstate0, cell.initial_state(2)):
        assert isinstance(d, cupy.ndarray) and d.shape == z.shape and d.dtype == z.dtype
    for k, p in cell.params.items():
        assert isinstance(grads[k], cupy.ndarray), k
        assert grads[k].shape == p.shape and grads[k].dtype == p.dtype, k
        assert bool(cupy.isfinite(grads[k]).all()), k
    assert isinstance(grads.dh_norm, np.ndarray) and grads.dh_norm.shape == (6,)


def _count_host_transfers(monkeypatch):
    """Route every rnnzoo module's ``to_numpy`` (the library's one door back to the host)
    through a counter that is allowed to synchronize; return the list it appends to."""
    import sys

    import cupyx
    from rnnzoo.core import backend
    real, calls = backend.to_numpy, []

    def counted(a):
        calls.append(type(a).__name__)
        with cupyx.allow_synchronize(True):
            return real(a)
    for mod_name, mod in list(sys.modules.items()):
        if mod_name.startswith("rnnzoo") and getattr(mod, "to_numpy", None) is real:
            monkeypatch.setattr(mod, "to_numpy", counted)
    return calls


def test_the_synchronization_detector_detects():
    """The control for the test below: a float() of a device array inside
    allow_synchronize(False) must raise, or that test would pass whatever the cells do."""
    import cupy
    import cupyx
    if not hasattr(cupyx, "allow_synchronize"):
        pytest.skip("this CuPy has no cupyx.allow_synchronize")
    a = cupy.ones(3)
    with pytest.raises(cupyx.DeviceSynchronized):
        with cupyx.allow_synchronize(False):
            float(a.sum())


@pytest.mark.parametrize("name,opts", cell_variants())
def test_no_host_round_trip_inside_the_time_loop(name, opts, rng, monkeypatch):
    """forward + backward synchronize with the device only through ``to_numpy`` (input
    checks, the dh_norm record, a schedule read once a sequence), and that many times
    whatever T is: nothing per step. cupyx.allow_synchronize(False) turns any other
    synchronization (a float(), bool() or .item() of a device array) into an error."""
    import cupy
    import cupyx
    if not hasattr(cupyx, "allow_synchronize"):
        pytest.skip("this CuPy has no cupyx.allow_synchronize")
    calls = _count_host_transfers(monkeypatch)
    cell = rnnzoo.make(name, 3, 4, seed=0, backend="cupy", **opts)
    counts = []
    for T in (3, 9):
        x = cupy.asarray(rng.standard_normal((T, 2, 3)))
        dhs = cupy.asarray(rng.standard_normal((T, 2, cell.output_size)))
        cupy.cuda.Device().synchronize()
        calls.clear()
        with cupyx.allow_synchronize(False):
            _, _, cache = cell.forward(x)
            cell.backward(dhs, cache)
        counts.append(len(calls))
    # one exception, by design: Skip RNN runs a base outside IN_PLACE_BASES one step at a
    # time, and clockwork reads its clock on the host to choose the step's active modules
    # (the step's shapes depend on it): exactly one transfer per step, nothing more
    per_step = 1 if name == "skiprnn" and opts.get("base") == "clockwork" else 0
    assert counts[1] - counts[0] == per_step * (9 - 3), f"host transfers at T=3, 9: {counts}"


# --------------------------------------- readout, losses, optimizers, diagnostics on CuPy
@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adam"])
def test_training_on_cupy_matches_numpy(optimizer):
    """build_model + Trainer (readout, loss, clipping, optimizer) give the NumPy run's
    losses and weights on CuPy, in float64."""
    import cupy
    task = rnnzoo.tasks.make_task("adding", T=12)
    runs = {}
    for backend in ("numpy", "cupy"):
        model = rnnzoo.build_model("lstm", task.input_size, 6, task.output_size,
                                   readout=task.readout, seed=0, backend=backend)
        history = rnnzoo.train(model, task, steps=5, batch_size=4, optimizer=optimizer,
                               lr=1e-2, eval_every=5, progress=False)
        runs[backend] = (history, {k: to_numpy(v) for k, v in model.params.items()})
    (h_cpu, p_cpu), (h_gpu, p_gpu) = runs["numpy"], runs["cupy"]
    np.testing.assert_allclose(h_gpu.train_loss, h_cpu.train_loss, rtol=1e-9)
    np.testing.assert_allclose(h_gpu.grad_norm, h_cpu.grad_norm, rtol=1e-9)
    np.testing.assert_allclose(h_gpu.eval_loss, h_cpu.eval_loss, rtol=1e-9)
    for k in p_cpu:
        assert isinstance(model.params[k], cupy.ndarray), k
        np.testing.assert_allclose(p_gpu[k], p_cpu[k], rtol=1e-9, atol=1e-12, err_msg=k)


def test_glu_blocks_train_on_cupy_as_on_numpy():
    """A 2-layer model in residual GLU blocks (encoder, layer norm, GELU, GLU, final
    norm): the same losses and weights as on NumPy, in float64."""
    task = rnnzoo.tasks.make_task("adding", T=8)
    runs = {}
    for backend in ("numpy", "cupy"):
        model = rnnzoo.build_model("lru", task.input_size, 4, task.output_size, layers=2,
                                   blocks="glu", readout=task.readout, seed=0,
                                   backend=backend)
        history = rnnzoo.train(model, task, steps=3, batch_size=3, lr=1e-2, eval_every=3,
                               progress=False)
        runs[backend] = (history, {k: to_numpy(v) for k, v in model.params.items()})
    (h_cpu, p_cpu), (h_gpu, p_gpu) = runs["numpy"], runs["cupy"]
    np.testing.assert_allclose(h_gpu.train_loss, h_cpu.train_loss, rtol=1e-9)
    assert any(k.startswith("block1.") for k in p_cpu)
    for k in p_cpu:
        np.testing.assert_allclose(p_gpu[k], p_cpu[k], rtol=1e-8, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("name", rnnzoo.available())
def test_every_cell_trains_on_cupy_as_on_numpy(name):
    """Every registered cell in a model (readout, loss, clipping, Adam), 3 steps on the
    digits task and an evaluation: the same losses and weights as on NumPy, in float64."""
    task = rnnzoo.tasks.make_task("permuted_digits", seed=0)
    runs = {}
    for backend in ("numpy", "cupy"):
        model = rnnzoo.build_model(name, task.input_size, 4, task.output_size,
                                   readout=task.readout, seed=0, backend=backend)
        history = rnnzoo.train(model, task, steps=3, batch_size=3, lr=1e-2, eval_every=3,
                               progress=False)
        runs[backend] = (history, {k: to_numpy(v) for k, v in model.params.items()})
    (h_cpu, p_cpu), (h_gpu, p_gpu) = runs["numpy"], runs["cupy"]
    np.testing.assert_allclose(h_gpu.train_loss, h_cpu.train_loss, rtol=1e-9)
    np.testing.assert_allclose(h_gpu.eval_loss, h_cpu.eval_loss, rtol=1e-9)
    for k in p_cpu:
        np.testing.assert_allclose(p_gpu[k], p_cpu[k], rtol=1e-8, atol=1e-12, err_msg=k)


def test_a_checkpoint_moves_between_the_backends(tmp_path):
    """A model trained on CuPy, saved with its Adam state, loads onto NumPy and back onto
    CuPy, and training on from either gives the same next step."""
    import cupy
    task = rnnzoo.tasks.make_task("adding", T=8)
    model = rnnzoo.build_model("gru", task.input_size, 5, task.output_size,
                               readout=task.readout, seed=0, backend="cupy")
    trainer = rnnzoo.Trainer(model, task, batch_size=4, lr=1e-2, progress=False)
    trainer.train_step()
    path = tmp_path / "gru.npz"
    rnnzoo.save_checkpoint(path, model, trainer.optimizer)
    after = {}
    for backend in ("numpy", "cupy"):
        loaded, opt_state, _ = rnnzoo.load_checkpoint(path, backend=backend)
        assert all(isinstance(p, cupy.ndarray if backend == "cupy" else np.ndarray)
                   for p in loaded.params.values())
        for k, p in model.params.items():
            np.testing.assert_array_equal(to_numpy(loaded.params[k]), to_numpy(p), err_msg=k)
        again = rnnzoo.Trainer(loaded, task, batch_size=4, lr=1e-2, progress=False)
        again.optimizer.load_state_dict(opt_state)
        again.train_step()
        after[backend] = {k: to_numpy(v) for k, v in loaded.params.items()}
    for k in after["numpy"]:
        np.testing.assert_allclose(after["cupy"][k], after["numpy"][k], rtol=1e-9, err_msg=k)


def test_losses_on_cupy_match_numpy(rng):
    import cupy
    from rnnzoo.training.model import mse_loss, softmax_cross_entropy
    y, t = rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 3, 2))
    loss, dy = mse_loss(y, t)
    loss_g, dy_g = mse_loss(cupy.asarray(y), cupy.asarray(t))
    assert isinstance(dy_g, cupy.ndarray)
    np.testing.assert_allclose(loss_g, loss, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(dy_g), dy, rtol=1e-12)
    z, labels = rng.standard_normal((5, 3, 4)), rng.integers(0, 4, (5, 3))
    labels[0, 0] = -100                                   # ignored position
    loss, dz = softmax_cross_entropy(z, labels)
    loss_g, dz_g = softmax_cross_entropy(cupy.asarray(z), cupy.asarray(labels))
    assert isinstance(dz_g, cupy.ndarray)
    np.testing.assert_allclose(loss_g, loss, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(dz_g), dz, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["rnn", "lstm", "urnn", "eurnn", "orthogonal"])
def test_diagnostics_on_cupy_match_numpy(name):
    from rnnzoo.core import diagnostics
    cpu = rnnzoo.make(name, 3, 4, seed=0)
    gpu = rnnzoo.make(name, 3, 4, seed=0, backend="cupy")
    np.testing.assert_allclose(diagnostics.gradient_norm_over_time(gpu, 12),
                               diagnostics.gradient_norm_over_time(cpu, 12), rtol=1e-9)
    np.testing.assert_allclose(diagnostics.jacobian_singular_values(gpu, 6),
                               diagnostics.jacobian_singular_values(cpu, 6),
                               rtol=1e-8, atol=1e-12)
