"""Bad input gets a clear error naming what was expected, never a silent broadcast or a
traceback from inside the time loop."""
import sys
import types

import numpy as np
import pytest

import rnnzoo

D, H = 3, 4


@pytest.fixture(params=rnnzoo.available())
def any_cell(request):
    return rnnzoo.make(request.param, D, H, seed=0)


def test_wrong_rank(any_cell):
    with pytest.raises(ValueError, match=r"3-D time-major array \(T, B, input_size=3\).*x\[:, None, :\]"):
        any_cell.forward(np.zeros((5, D)))
    with pytest.raises(ValueError, match="got a 4-D array"):
        any_cell.forward(np.zeros((5, 2, D, 1)))


def test_wrong_feature_size(any_cell):
    with pytest.raises(ValueError, match=r"feature size 7 != 3"):
        any_cell.forward(np.zeros((5, 2, 7)))


def test_empty_sequence_or_batch(any_cell):
    with pytest.raises(ValueError, match="T >= 1 and B >= 1"):
        any_cell.forward(np.zeros((0, 2, D)))
    with pytest.raises(ValueError, match="T >= 1 and B >= 1"):
        any_cell.forward(np.zeros((4, 0, D)))


def test_non_floating_and_mismatched_dtype(any_cell):
    with pytest.raises(TypeError, match="non-floating dtype int64; expected float64"):
        any_cell.forward(np.zeros((5, 2, D), dtype=np.int64))
    with pytest.raises(TypeError, match=r"dtype float32; expected floating dtype float64.*astype"
                                        r"\(float64\) or build the cell with dtype=float32"):
        any_cell.forward(np.zeros((5, 2, D), dtype=np.float32))
    # no cell is built in float16 or complex: the message offers only what works
    with pytest.raises(TypeError, match=r"dtype float16; .*astype\(float64\)$"):
        any_cell.forward(np.zeros((5, 2, D), dtype=np.float16))
    with pytest.raises(TypeError, match=r"complex dtype complex128; expected the real dtype "
                                        r"float64 .* pass the real array you mean"):
        any_cell.forward(np.zeros((5, 2, D), dtype=np.complex128))


def test_a_replaced_parameter_of_another_dtype_or_shape_is_refused(any_cell):
    """Pass: a parameter replaced by an array of another dtype (float32 in a float64 cell
    ran, cast in every step) or shape, or a missing key, is named before the loop; a
    value written in place is used."""
    x = np.random.default_rng(0).standard_normal((3, 2, D))
    name, original = next(iter(any_cell.params.items()))
    any_cell.params[name] = original.astype(np.float32)
    with pytest.raises(TypeError, match=rf"params\['{name}'\] has dtype float32; expected "
                                        r"the cell's dtype float64"):
        any_cell.forward(x)
    any_cell.params[name] = np.zeros(original.shape + (1,))
    with pytest.raises(ValueError, match=rf"params\['{name}'\] has shape "):
        any_cell.forward(x)
    any_cell.params[name] = original.tolist()
    with pytest.raises(TypeError, match=rf"params\['{name}'\] must be a numpy array; got list"):
        any_cell.forward(x)
    del any_cell.params[name]
    with pytest.raises(ValueError, match="params must keep the keys"):
        any_cell.forward(x)
    any_cell.params[name] = original
    original[...] = 0.0                     # in place: the same array, new values
    any_cell.forward(x)


def test_not_an_array(any_cell):
    with pytest.raises(TypeError, match="x must be a numpy array; got list"):
        any_cell.forward([[[0.0] * D]])


def test_nan_or_inf_in_input_is_an_error(any_cell):
    x = np.zeros((5, 2, D))
    x[3, 1, 2] = np.nan
    with pytest.raises(ValueError, match=r"x contains NaN or inf \(first at index \(3, 1, 2\)\)"):
        any_cell.forward(x)
    x[3, 1, 2] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        any_cell.forward(x)


def test_state_mismatches(any_cell):
    x = np.zeros((5, 2, D))
    n = len(any_cell.state_names)
    good = any_cell.initial_state(2)
    with pytest.raises(TypeError, match=rf"\.forward: state0 must be a tuple of {n} array.*"
                                        "got a ndarray"):
        any_cell.forward(x, good[0])
    with pytest.raises(TypeError, match=f"state0 must be a tuple of {n} array.*got {2 * n} arr"):
        any_cell.forward(x, good + good)
    wrong_batch = any_cell.initial_state(3)
    with pytest.raises(ValueError, match=r"state0 component '\w+' must have shape \(2, "):
        any_cell.forward(x, wrong_batch)
    wrong_dtype = tuple(s.astype(np.float32) for s in good)
    with pytest.raises(TypeError, match="state0 component .* has dtype float32"):
        any_cell.forward(x, wrong_dtype)


def test_backward_checks_its_inputs(any_cell):
    x = np.zeros((5, 2, D))
    hs, state_T, cache = any_cell.forward(x)
    with pytest.raises(ValueError, match=r"dhs must have the shape of hs.*\(5, 2, "):
        any_cell.backward(hs[:-1], cache)
    with pytest.raises(TypeError, match="cache must be the third value returned by forward"):
        any_cell.backward(hs, {"x": x})
    with pytest.raises(ValueError, match=r"\.backward: dstate_T component"):
        any_cell.backward(hs, cache, tuple(s[:1] for s in state_T))


def test_model_and_losses_name_what_they_expect():
    model = rnnzoo.build_model("gru", 2, 3, 1, readout="last")
    with pytest.raises(ValueError, match="feature size 5 != 2"):
        model.forward(np.zeros((4, 2, 5)))
    with pytest.raises(ValueError, match="target must have the prediction's shape"):
        rnnzoo.mse_loss(np.zeros((2, 1)), np.zeros(2))
    with pytest.raises(ValueError, match=r"labels must have shape \(4, 2\)"):
        rnnzoo.softmax_cross_entropy(np.zeros((4, 2, 5)), np.zeros((4,), dtype=int))
    with pytest.raises(TypeError, match="labels must be integers"):
        rnnzoo.softmax_cross_entropy(np.zeros((4, 5)), np.zeros(4))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 5\)"):
        rnnzoo.softmax_cross_entropy(np.zeros((4, 5)), np.array([0, 1, 2, 5]))


def test_cupy_without_a_gpu_is_unavailable(monkeypatch):
    """CuPy that imports but finds no device (installed on a laptop) is unavailable, with
    the runtime's reason, not a failure at the first kernel."""
    from rnnzoo.core import backend

    def no_device():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")
    runtime = types.SimpleNamespace(getDeviceCount=no_device)
    monkeypatch.setitem(sys.modules, "cupy",
                        types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime)))
    monkeypatch.setattr(backend, "_cupy_backend", None)
    assert rnnzoo.cupy_available() is False
    with pytest.raises(RuntimeError, match="backend='cupy' is unavailable: cudaErrorNoDevice"
                                           ".*pip install cupy-cuda12x"):
        rnnzoo.make("lstm", 2, 3, backend="cupy")


def test_to_numpy_returns_host_values_as_they_are():
    from rnnzoo.core.backend import to_numpy
    a = np.zeros(3)
    assert to_numpy(a) is a
    assert to_numpy(2.5) == 2.5 and type(to_numpy(2.5)) is float
    assert type(to_numpy(np.float32(1))) is np.float32


def test_cupy_missing_is_a_clear_error():
    if rnnzoo.cupy_available():
        pytest.skip("CuPy works here; the error path cannot be exercised")
    with pytest.raises(RuntimeError, match="pip install cupy-cuda12x"):
        rnnzoo.make("lstm", 2, 3, backend="cupy")
    with pytest.raises(ValueError, match="unknown backend 'jax'"):
        rnnzoo.make("lstm", 2, 3, backend="jax")


def test_register_and_make_refuse_a_name_or_class_they_could_not_use():
    """Pass: a name that is not a str (available() then failed to sort, and every command
    with it), an empty one or one with a space or comma (the command line could not name
    it), and a class that is not a RecurrentCell are refused when registered, and nothing
    is added; make() and get_cell_class() refuse a name that is not a str by name."""
    before = rnnzoo.available()
    with pytest.raises(TypeError, match=r"register: a cell's name must be a str; got 7"):
        rnnzoo.register(7)
    for bad in ["", "my cell", "gru,lstm", "gru:2", "3d"]:
        with pytest.raises(ValueError, match="must be an identifier"):
            rnnzoo.register(bad)
    with pytest.raises(TypeError, match=r"register\('my_cell'\): expected a subclass of "
                                        r"rnnzoo.RecurrentCell"):
        rnnzoo.register("my_cell")(dict)
    assert rnnzoo.available() == before
    for where, call in [("make", lambda: rnnzoo.make(["gru"], 2, 3)),
                        ("get_cell_class", lambda: rnnzoo.get_cell_class(["gru"]))]:
        with pytest.raises(TypeError, match=rf"{where}: a cell's name must be a str; got "
                                            r"\['gru'\]"):
            call()


def test_a_registered_name_is_not_taken_by_another_class():
    """Pass: registering another class under a taken name is refused and the registry
    keeps the first; the same class registered again is accepted."""
    gru = rnnzoo.get_cell_class("gru")

    class Impostor(gru):
        pass
    with pytest.raises(ValueError, match="a cell named 'gru' is already registered"):
        rnnzoo.register("gru")(Impostor)
    assert rnnzoo.get_cell_class("gru") is gru and gru.name == "gru"
    assert rnnzoo.register("gru")(gru) is gru


def test_a_class_defined_again_replaces_itself_under_its_name():
    """A notebook cell that defines and registers a cell, run twice (or a module
    reloaded), made the same class again and was refused: 'already registered'. The same
    module and qualified name now replace it; any other class is still refused."""
    from rnnzoo.core import registry
    source = ("import rnnzoo\n@rnnzoo.register('own_redefined')\n"
              "class Own(rnnzoo.get_cell_class('rnn')):\n    pass\n")
    try:
        first, again = ({"__name__": "notebook"} for _ in range(2))
        exec(source, first)
        exec(source, again)                                   # the notebook cell, re-run
        assert rnnzoo.get_cell_class("own_redefined") is again["Own"] is not first["Own"]
        with pytest.raises(ValueError, match="'own_redefined' is already registered .*; "
                                             "register this one under another name"):
            exec(source, {"__name__": "elsewhere"})
    finally:
        registry._CELLS.pop("own_redefined", None)


@pytest.mark.parametrize("call", [lambda c: rnnzoo.build_model(c, 2, 3, 1),
                                  lambda c: rnnzoo.make(c, 2, 3)])
def test_a_cell_given_where_its_name_goes_is_told_to_use_the_name(call):
    gru = rnnzoo.make("gru", 2, 3)
    for given in (gru, type(gru)):
        with pytest.raises(TypeError, match=r"make: a cell is named by the str it was "
                                            r"registered under .*@rnnzoo.register\("):
            call(given)


def test_diagnostics_name_the_argument_they_refuse():
    """rnnzoo.core.diagnostics checks its arguments before the loops: a float T or batch
    used to fail inside NumPy's random generator, a T beside x was dropped without a word,
    steps=[True] ran step 1, steps=[10] was an IndexError and steps=[-1] a 'T >= 1' error
    about an empty slice, seed=None a TypeError and scale=nan gave NaN inputs."""
    from rnnzoo.core import diagnostics as dg
    cell = rnnzoo.make("gru", D, H, seed=0)
    x = np.random.default_rng(0).standard_normal((6, 2, D))
    cases = [
        (lambda: dg.gradient_norm_over_time(cell, 2.5), TypeError, "gradient_norm_over_time: T must be an integer >= 1; got 2.5"),
        (lambda: dg.gradient_norm_over_time(cell, -1), ValueError, "T must be an integer >= 1; got -1"),
        (lambda: dg.gradient_norm_over_time(cell, 5, batch=2.0), TypeError, "batch must be an integer >= 1"),
        (lambda: dg.gradient_norm_over_time(cell, 5, seed=None), TypeError, "seed must be an integer >= 0; got None"),
        (lambda: dg.gradient_norm_over_time(cell, 3, x=x), ValueError, "T must match x's length, 6, or be left out; got T=3"),
        (lambda: dg.gradient_norm_over_time(cell, x=x.tolist()), TypeError, r"x must be a numpy array \(T, B, input_size=3\)"),
        (lambda: dg.gradient_norm_over_time(cell, x=x[:, 0]), ValueError, r"x must be a \(T, B, input_size=3\) array .* got shape \(6, 3\)"),
        (lambda: dg.gradient_norm_over_time("gru", 5), TypeError, "cell must be an rnnzoo cell.*'gru' \\(str\\)"),
        (lambda: dg.jacobian_singular_values(cell, 5, steps=[True]), TypeError, r"jacobian_singular_values: steps must be .*\[0, 4\].*got step True \(bool\)"),
        (lambda: dg.jacobian_singular_values(cell, 5, steps=[10]), ValueError, "steps must be .*got step 10"),
        (lambda: dg.jacobian_singular_values(cell, 5, steps=[-1]), ValueError, "steps must be .*got step -1"),
        (lambda: dg.jacobian_singular_values(cell, 5, steps=[]), ValueError, "steps must be a non-empty"),
        (lambda: dg.step_jacobians(cell, 5, steps=3), TypeError, "step_jacobians: steps must be .*got 3 \\(int\\)"),
        (lambda: dg.step_jacobians(cell, 0), ValueError, "step_jacobians: T must be an integer >= 1; got 0"),
        (lambda: dg.step_jacobians(cell, x=x), ValueError, r"x must hold one sequence, shape \(T, 1, input_size=3\).*\(6, 2, 3\)"),
        (lambda: dg.step_jacobians(cell, 4, x=x[:, :1]), ValueError, "T must match x's length, 6"),
        (lambda: dg.random_inputs(cell, 5, 2, scale=np.nan), ValueError, "random_inputs: scale must be a finite number >= 0; got nan"),
        (lambda: dg.random_inputs(cell, 0, 2), ValueError, "random_inputs: T must be an integer >= 1; got 0"),
        (lambda: dg.random_inputs(cell, 5, 2, seed=None), TypeError, "random_inputs: seed must be"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()
    # what they accept is unchanged: T and x together when they agree, steps as a range
    np.testing.assert_array_equal(dg.gradient_norm_over_time(cell, 6, x=x),
                                  dg.gradient_norm_over_time(cell, x=x))
    assert dg.step_jacobians(cell, 5, steps=range(3, 5)).shape == (2, H, H)
    assert dg.jacobian_singular_values(cell, steps=np.array([49])).shape == (1, H)


def test_diagnostics_accept_the_edges_of_what_they_check():
    """What the checks must let through: step 0, T = 1 beside a one-step x; and
    random_inputs' defaults (seed 0, scale 1) and its scale, which multiplies."""
    from rnnzoo.core import diagnostics as dg
    cell = rnnzoo.make("gru", D, H, seed=0)
    x = np.random.default_rng(0).standard_normal((6, 1, D))
    assert dg.gradient_norm_over_time(cell, 1, x=x[:1]).shape == (1,)
    assert dg.step_jacobians(cell, x=x, steps=[0]).shape == (1, H, H)
    normal = np.random.default_rng(0).standard_normal((4, 2, D))
    np.testing.assert_array_equal(dg.random_inputs(cell, 4, 2), normal)
    np.testing.assert_array_equal(dg.random_inputs(cell, 4, 2, scale=2.0), 2.0 * normal)
    with pytest.raises(TypeError, match=r"random_inputs: cell must be an rnnzoo cell"):
        dg.random_inputs("gru", 4, 2)
    with pytest.raises(TypeError, match=r"steps must be .*got '01' \(str\)"):
        dg.step_jacobians(cell, x=x, steps="01")
