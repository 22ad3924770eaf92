"""Hostile input to the cells, registry-driven: every registered cell (and every cell
registered later) is covered the day it lands.

A pass: every bad option, size, seed, dtype or backend is refused with an error naming
it; NumPy scalar versions of valid values are accepted; backward refuses a cache made
by anyone else and NaN/inf in dhs; no returned array aliases another or the cache, and
writing into what forward returned (or into x) never changes backward.
"""
import math
import warnings

import numpy as np
import pytest

import rnnzoo
from rnnzoo.core.base import Cache

from .conftest import cell_variants
from .hostile import HOSTILE_BY_TYPE, numpy_twins, option_type, raises

D, H = 3, 4


def option_cases(hostile=True):
    cases = []
    for name in rnnzoo.available():
        for key, default in rnnzoo.get_cell_class(name).options.items():
            kind = option_type(default)
            values = (HOSTILE_BY_TYPE.get(kind, []) if hostile else numpy_twins(default))
            for i, v in enumerate(values):
                cases.append(pytest.param(name, key, v, id=f"{name}.{key}-{i}"))
    return cases


@pytest.mark.parametrize("name,key,value", option_cases())
def test_every_option_refuses_the_wrong_type_nan_and_inf(name, key, value):
    raises((TypeError, ValueError), rf"\b{key}\b.*must be.*got", rnnzoo.make, name, D, H,
           **{key: value})


@pytest.mark.parametrize("name,key,value", option_cases(hostile=False))
def test_every_option_accepts_numpy_scalars(name, key, value):
    cell = rnnzoo.make(name, D, H, **{key: value})
    assert getattr(cell, key) == value
    # kept as a plain Python value (a checkpoint wrote np.float32(0.1) as 0.10000000149...)
    assert not isinstance(getattr(cell, key), (np.floating, np.integer, np.bool_))
    cell.forward(np.zeros((2, 1, D)))


@pytest.mark.parametrize("name", rnnzoo.available())
def test_an_option_is_set_once_at_construction(name):
    """The cell derives what it computes with from its options (a function, a schedule,
    parameter shapes): a later assignment showed in hyperparameters and a checkpoint but
    not in the arithmetic (rnn's nonlinearity), or failed deep in a step (qrnn's window)."""
    cell = rnnzoo.make(name, D, H)
    for key, value in cell.options.items():
        raises(AttributeError, rf"the option '{key}' is set at construction; make a new "
                               rf"cell with rnnzoo.make\('{name}'", setattr, cell, key, value)
    assert dict(cell.options) == dict(rnnzoo.make(name, D, H).options)


@pytest.mark.parametrize("name", rnnzoo.available())
@pytest.mark.parametrize("batch", [0, -1, 2.5, "2", None, True])
def test_initial_state_checks_its_batch(name, batch):
    raises((TypeError, ValueError), r"initial_state: batch must be an integer >= 1",
           rnnzoo.make(name, D, H).initial_state, batch)


SIZE_BAD = [0, -1, 2.5, "3", True, None, np.float64(3.0), [3]]
SEED_BAD = [-1, 1.5, "0", None, True, [0]]
DTYPE_BAD = ["float16", np.int32, "abc", None, True, np.complex128]
BACKEND_BAD = ["jax", 1, None]


@pytest.mark.parametrize("name", rnnzoo.available())
@pytest.mark.parametrize("arg,value", [("input_size", v) for v in SIZE_BAD]
                         + [("hidden_size", v) for v in SIZE_BAD])
def test_sizes_must_be_positive_integers(name, arg, value):
    sizes = {"input_size": D, "hidden_size": H, arg: value}
    raises((TypeError, ValueError), rf"{arg} must be an integer >= 1; got",
           rnnzoo.make, name, **sizes)


@pytest.mark.parametrize("name", rnnzoo.available())
@pytest.mark.parametrize("seed", SEED_BAD)
def test_seed_must_be_a_non_negative_integer(name, seed):
    raises((TypeError, ValueError), "seed must be an integer >= 0; got", rnnzoo.make, name,
           D, H, seed=seed)


@pytest.mark.parametrize("name", rnnzoo.available())
@pytest.mark.parametrize("dtype", DTYPE_BAD)
def test_dtype_must_be_float32_or_float64(name, dtype):
    raises(TypeError, "dtype must be float32 or float64", rnnzoo.make, name, D, H, dtype=dtype)


@pytest.mark.parametrize("dtype", ["abc", None, True])
def test_a_dtype_that_is_no_dtype_is_an_argument_type_error(dtype):
    """rnnzoo.core.validation's rule: a value of the wrong type (here no dtype at all) raises
    ArgumentTypeError, also a ValueError, so ``except ValueError`` catches it as it
    catches every other bad option; a pass: the error is that class."""
    from rnnzoo.core.validation import ArgumentTypeError
    raises(ArgumentTypeError, "dtype must be float32 or float64", rnnzoo.make, "rnn", D, H,
           dtype=dtype)


@pytest.mark.parametrize("name", rnnzoo.available())
@pytest.mark.parametrize("backend", BACKEND_BAD)
def test_backend_must_be_known(name, backend):
    raises(ValueError, "unknown backend", rnnzoo.make, name, D, H, backend=backend)


@pytest.mark.parametrize("name", rnnzoo.available())
def test_numpy_integer_sizes_and_seed_are_accepted(name):
    cell = rnnzoo.make(name, np.int64(D), np.int32(H), seed=np.uint8(3))
    assert (cell.input_size, cell.hidden_size, cell.seed) == (D, H, 3)
    assert type(cell.hidden_size) is int                     # stored as plain Python


# ------------------------------------------------------------------ backward's inputs
def forward(cell, T=4, B=2, seed=0):
    x = np.random.default_rng(seed).standard_normal((T, B, cell.input_size))
    return x, cell.forward(x)


@pytest.mark.parametrize("name", rnnzoo.available())
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_or_inf_in_dhs_is_refused(name, bad):
    cell = rnnzoo.make(name, D, H)
    _, (hs, _, cache) = forward(cell)
    dhs = np.ones_like(hs)
    dhs[2, 1, 0] = bad
    raises(ValueError, r"dhs contains NaN or inf \(first at index \(2, 1, 0\)\)",
           cell.backward, dhs, cache)


@pytest.mark.parametrize("name", rnnzoo.available())
def test_nan_in_dstate_T_is_refused(name):
    cell = rnnzoo.make(name, D, H)
    _, (hs, state_T, cache) = forward(cell)
    bad = tuple(np.full_like(s, np.nan) for s in state_T)
    raises(ValueError, "dstate_T component .* NaN", cell.backward, None, cache, bad)


@pytest.mark.parametrize("name", rnnzoo.available())
@pytest.mark.parametrize("other", ["same kind", "other kind", "other size", "hand-made"])
def test_backward_refuses_a_cache_made_by_another_cell(name, other):
    cell = rnnzoo.make(name, D, H)
    _, (hs, _, _) = forward(cell)
    if other == "hand-made":
        cache, who = Cache(x=None, T=4, B=2), "no cell's forward"
    else:
        maker = {"same kind": lambda: rnnzoo.make(name, D, H),
                 "other kind": lambda: rnnzoo.make("gru" if name != "gru" else "lstm", D, H),
                 "other size": lambda: rnnzoo.make(name, D, H + 1)}[other]()
        _, (_, _, cache) = forward(maker)
        who = rf"another cell, {type(maker).__name__}\(input_size={D}, hidden_size="
    raises(ValueError, f"cache was made by {who}", cell.backward,
           np.zeros_like(hs) if other != "other size" else None, cache)


@pytest.mark.parametrize("name", rnnzoo.available())
@pytest.mark.parametrize("dhs,exc,match", [
    ([[[0.0]]], TypeError, "dhs must be a numpy array; got list"),
    ("zeros", TypeError, "dhs must be a numpy array; got str"),
    (np.zeros((4, 2, H), dtype=np.int64), TypeError, "dhs has non-floating dtype int64"),
    (np.zeros((4, 2, H), dtype=np.float32), TypeError, "dhs has dtype float32"),
    (np.zeros((4, 2, 1)), ValueError, r"dhs must have the shape of hs"),
    (np.zeros((2, H)), ValueError, r"dhs must have the shape of hs"),
])
def test_backward_refuses_bad_dhs_without_broadcasting(name, dhs, exc, match):
    cell = rnnzoo.make(name, D, H)
    if cell.output_size != H and isinstance(dhs, np.ndarray) and dhs.shape[-1] == H:
        dhs = np.zeros(dhs.shape[:-1] + (cell.output_size,), dtype=dhs.dtype)
    _, (_, _, cache) = forward(cell)
    raises(exc, match, cell.backward, dhs, cache)


# ------------------------------------------------------------------ ndarray subclasses
class Tagged(np.ndarray):
    """A do-nothing ndarray subclass: still not a plain array (its methods may differ)."""


def as_matrix(a):
    """np.matrix(a), without its PendingDeprecationWarning: 2-D only (the states)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return np.asmatrix(a)


SUBCLASSES = {
    "masked": np.ma.masked_array,
    "matrix": as_matrix,
    "subclass": lambda a: a.view(Tagged),
}


def arguments(cell, rng):
    """A valid call's arguments: x, state0, and dhs, dstate_T for backward."""
    x = rng.standard_normal((4, 2, D))
    state0 = cell.initial_state(2)
    dhs = rng.standard_normal((4, 2, cell.output_size))
    return {"x": x, "state0": state0, "dhs": dhs,
            "dstate_T": tuple(np.zeros_like(s) for s in state0)}


def call_with(cell, args):
    hs, _, cache = cell.forward(args["x"], args["state0"])
    return cell.backward(args["dhs"], cache, args["dstate_T"])


@pytest.mark.parametrize("name", rnnzoo.available())
@pytest.mark.parametrize("kind,arg", [(kind, arg) for kind in SUBCLASSES
                                      for arg in ("x", "state0", "dhs", "dstate_T")
                                      if kind != "matrix" or arg in ("state0", "dstate_T")])
def test_ndarray_subclasses_are_refused_by_name(name, kind, arg, rng):
    """A masked array or a matrix used to pass the checks and fail deep inside numpy.ma
    (or multiply as matrices); a pass: ArgumentTypeError naming the argument, 'plain
    numpy ndarray' and the type given, for x, the initial state and both upstream
    gradients of backward."""
    from rnnzoo.core.validation import ArgumentTypeError
    cell = rnnzoo.make(name, D, H)
    args = arguments(cell, rng)
    call_with(cell, args)                               # the plain arrays are fine
    wrap = SUBCLASSES[kind]
    if arg in ("x", "dhs"):
        args[arg] = wrap(args[arg])
    else:                       # the first component, or the first 2-D one for a matrix
        parts = list(args[arg])             # (mlstm's state starts with its 4-D memory C)
        k = next((i for i, s in enumerate(parts) if kind != "matrix" or s.ndim == 2), None)
        if k is None:                       # the delta rule's only component, (B, heads, d, d) S
            pytest.skip(f"np.matrix is 2-D only; no component of {cell.state_names} is 2-D")
        parts[k] = wrap(parts[k])
        args[arg] = tuple(parts)
    label = arg if arg in ("x", "dhs") else f"{arg} component '{cell.state_names[k]}'"
    given = r"\S+\.(MaskedArray|matrix|Tagged) "
    raises(ArgumentTypeError, rf"{label} must be a plain numpy ndarray; got a {given}",
           call_with, cell, args)


def test_a_memory_mapped_input_is_a_plain_array(tmp_path, rng):
    """np.memmap (np.load(..., mmap_mode='r') of a large data set) is an ndarray subclass
    whose arithmetic is the plain array's: accepted, and the same result."""
    x = rng.standard_normal((4, 2, D))
    mapped = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=x.dtype,
                                       shape=x.shape)
    mapped[:] = x
    cell = rnnzoo.make("gru", D, H)
    np.testing.assert_array_equal(cell.forward(mapped)[0], cell.forward(x)[0])


# ------------------------------------------------------------------ aliasing, integrity
def arrays_in(obj):
    """Every NumPy array reachable from a cache / tuple / dict (one level of nesting)."""
    values = obj.__dict__.values() if isinstance(obj, Cache) else (
        obj.values() if isinstance(obj, dict) else obj)
    out = []
    for v in values:
        if isinstance(v, np.ndarray):
            out.append(v)
        elif isinstance(v, (tuple, list)):
            out.extend(a for a in v if isinstance(a, np.ndarray))
    return out


@pytest.mark.parametrize("name,opts", cell_variants())
def test_no_returned_array_aliases_another_or_the_cache(name, opts, rng):
    cell = rnnzoo.make(name, D, H, **opts)
    x = rng.standard_normal((4, 2, D))
    hs, state_T, cache = cell.forward(x)
    cached = arrays_in(cache)
    for out in (hs, *state_T):
        assert not any(np.shares_memory(out, c) for c in cached), "forward output aliases cache"
    assert not any(np.shares_memory(x, c) for c in cached), "cache holds the caller's x"
    dstate_T = tuple(rng.standard_normal(s.shape) for s in state_T)
    dx, dstate0, grads = cell.backward(rng.standard_normal(hs.shape), cache, dstate_T)
    returned = [dx, *dstate0, *grads.values()]
    for i, a in enumerate(returned):
        for b in returned[i + 1:]:
            assert not np.shares_memory(a, b), "two returned gradients share memory"
        assert not any(np.shares_memory(a, c) for c in cached), "a gradient aliases the cache"
        assert not any(np.shares_memory(a, d) for d in dstate_T), "returns the caller's dstate_T"


@pytest.mark.parametrize("name,opts", cell_variants())
def test_writing_into_what_forward_returned_leaves_backward_unchanged(name, opts, rng):
    """The cache keeps its own copy of x and hs/state_T are fresh arrays (copy, not
    detect): scribbling over x, hs and state_T after forward changes nothing."""
    cell = rnnzoo.make(name, D, H, **opts)
    x = rng.standard_normal((4, 2, D))
    state0 = tuple(0.3 * rng.standard_normal(s.shape) for s in cell.initial_state(2))
    dhs = rng.standard_normal((4, 2, cell.output_size))
    clean = cell.backward(dhs, cell.forward(x.copy(), tuple(s.copy() for s in state0))[2])
    hs, state_T, cache = cell.forward(x, state0)
    for a in (x, hs, *state_T, *state0):
        a[...] = 1e3
    dirty = cell.backward(dhs, cache)
    np.testing.assert_array_equal(dirty[0], clean[0])
    for a, b in zip(dirty[1], clean[1]):
        np.testing.assert_array_equal(a, b)
    for k in clean[2]:
        np.testing.assert_array_equal(dirty[2][k], clean[2][k])


def test_qrnn_zoneout_mask_and_training_are_checked():
    """The fixed mask is documented as {0, 1}: 7 or NaN ran silently, a list was cast, a
    string failed inside NumPy; training = "no" read as True."""
    cell = rnnzoo.make("qrnn", D, H, zoneout=0.3)
    x = np.zeros((2, 1, D))
    for mask, exc, match in [(np.full((2, 1, H), 7.0), ValueError, "0s and 1s"),
                             (np.full((2, 1, H), np.nan), ValueError, "0s and 1s"),
                             (np.full((2, 1, H), "a"), ValueError, "0s and 1s"),
                             ([[[1.0] * H]] * 2, TypeError, "got"),
                             (np.ones((3, 1, H)), ValueError, r"shape \(T, B, H\)")]:
        cell.zoneout_mask = mask
        raises(exc, "zoneout_mask must (be|have)", cell.forward, x)
    cell.zoneout_mask = np.ones((2, 1, H), dtype=bool)          # bools are 0s and 1s
    hs_kept_all = cell.forward(x)[0]
    cell.zoneout_mask, cell.training = None, "no"
    raises(TypeError, "training must be True or False; got 'no'", cell.forward, x)
    assert hs_kept_all.shape == (2, 1, H)


def test_the_cells_helper_methods_check_their_arguments():
    deltanet = rnnzoo.make("deltanet", D, 8, heads=2)            # d = 4
    raises(ValueError, r"k_hat must be one key, an array of shape \(d,\) = \(4,\)",
           deltanet.recurrent_eigenvalues, np.ones(7), 0.5)
    raises(ValueError, r"k_hat must be one key", deltanet.recurrent_eigenvalues,
           np.ones((2, 2)), 0.5)
    raises((TypeError, ValueError), "beta must be a finite number",
           deltanet.recurrent_eigenvalues, np.ones(4) / 2, "0.5")
    assert deltanet.recurrent_eigenvalues(np.ones(4) / 2, np.array(0.5)).shape == (4,)
    clockwork = rnnzoo.make("clockwork", D, 8, modules=4)
    raises(ValueError, "multiply_adds: T must be an integer >= 1", clockwork.multiply_adds, -1)
    raises((TypeError, ValueError), "multiply_adds: t0 .*must be an integer",
           clockwork.multiply_adds, 5, 1, 0.5)
    assert clockwork.multiply_adds(6, 2, t0=-3)[0] > 0         # a negative clock, as forward
    raises(TypeError, r"computed: active must be the \(T, B, 4\) bool schedule",
           clockwork.computed, 3)
    fast = rnnzoo.make("fastweights", D, H)
    for method in ("materialized_bytes", "checkpointed_bytes", "memory_form"):
        raises((TypeError, ValueError), rf"FastWeights\('fastweights'\)\.{method}: T must be",
               getattr(fast, method), "a", 2)
        raises((TypeError, ValueError), rf"{method}: B must be an integer >= 1",
               getattr(fast, method), 5, 0)
