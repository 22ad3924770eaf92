"""Hostile input to the optimizers and clipping, plus the state snapshot.

A pass: every bad hyperparameter, params dict, gradient dict or saved state is refused
with an error naming it, and a refused call leaves the parameters, the step count and
the buffers untouched.
"""
import math

import numpy as np
import pytest

from rnnzoo.optim import (SGD, Adam, RMSprop, clip_grad_norm, make_optimizer,
                          optimizer_from_state)

from .hostile import raises

ERR = (TypeError, ValueError)
LR_BAD = [math.nan, math.inf, -1.0, "0.1", True, None, [0.1], 1j]


def params():
    return {"w": np.arange(3.0), "b": np.ones((2, 2))}


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adam])
@pytest.mark.parametrize("lr", LR_BAD)
def test_lr(cls, lr):
    raises(ERR, "lr must be a finite number >= 0", cls, params(), lr=lr)


@pytest.mark.parametrize("cls,kwargs,match", [
    (SGD, {"momentum": 1.0}, "momentum must be a finite number >= 0 and < 1"),
    (SGD, {"momentum": -0.1}, "momentum must be"),
    (SGD, {"momentum": math.nan}, "momentum must be"),
    (SGD, {"momentum": "0.9"}, "momentum must be"),
    (SGD, {"momentum": True}, "momentum must be"),
    (RMSprop, {"alpha": 1.0}, "alpha must be a finite number >= 0 and < 1"),
    (RMSprop, {"alpha": math.nan}, "alpha must be"),
    (RMSprop, {"alpha": "0.99"}, "alpha must be"),
    (RMSprop, {"eps": 0.0}, "eps must be a finite number > 0"),
    (RMSprop, {"eps": -1e-8}, "eps must be"),
    (RMSprop, {"eps": math.inf}, "eps must be"),
    (Adam, {"eps": 0.0}, "eps must be a finite number > 0"),
    (Adam, {"eps": math.nan}, "eps must be"),
    (Adam, {"eps": None}, "eps must be"),
    (Adam, {"betas": (0.9,)}, r"betas must be a pair"),
    (Adam, {"betas": (0.9, 0.99, 0.9)}, r"betas must be a pair"),
    (Adam, {"betas": 0.9}, r"betas must be a pair"),
    (Adam, {"betas": "ab"}, r"betas must be a pair"),
    (Adam, {"betas": (1.0, 0.999)}, r"betas\[0\] must be a finite number >= 0 and < 1"),
    (Adam, {"betas": (0.9, math.nan)}, r"betas\[1\] must be"),
    (Adam, {"betas": (True, 0.9)}, r"betas\[0\] must be"),
    (Adam, {"betas": (0.9, "0.999")}, r"betas\[1\] must be"),
])
def test_hyperparameters(cls, kwargs, match):
    raises(ERR, match, cls, params(), lr=0.1, **kwargs)


def test_defaults_are_pytorchs():
    assert Adam(params()).hyperparameters == {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8}
    assert RMSprop(params()).hyperparameters == {"lr": 1e-3, "alpha": 0.99, "eps": 1e-8}
    assert SGD(params()).hyperparameters == {"lr": 0.01, "momentum": 0.0}


def test_numpy_scalars_are_accepted():
    opt = Adam(params(), lr=np.float32(0.01), betas=(np.float64(0.9), np.float32(0.99)),
               eps=np.float64(1e-8))
    assert opt.lr == pytest.approx(0.01) and type(opt.lr) is float
    assert SGD(params(), lr=np.int64(1), momentum=np.float32(0.5)).momentum == 0.5


@pytest.mark.parametrize("bad,match", [
    ({}, "params must be a non-empty dict"),
    ([np.ones(2)], "params must be a non-empty dict"),
    ({"w": [1.0, 2.0]}, "params must map names .* entry 'w'"),
    ({1: np.ones(2)}, "params must map names .* entry 1"),
    ({"w": np.ones(2, dtype=int)}, r"floating-point arrays \(the optimizer updates them in "
                                   r"place\); entry 'w' is .* of dtype int64"),
])
def test_params(bad, match):
    raises(ERR, match, SGD, bad, lr=0.1)


def test_a_read_only_parameter_is_refused_when_the_optimizer_is_built():
    """Pass: a read-only parameter is named at construction (it failed at the first step
    with NumPy's 'output array is read-only')."""
    w = np.ones(3)
    w.flags.writeable = False
    raises(ValueError, r"SGD: params must map names \(str\) to writeable real floating-point "
                       r"arrays \(the optimizer updates them in place\); entry 'w' is "
                       r".*\(read-only\)",
           SGD, {"w": w, "b": np.ones(2)}, lr=0.1)


@pytest.mark.parametrize("lr_for,exc,match", [
    ({"w": math.nan}, ERR, r"lr_for\['w'\] must be a finite number"),
    ({"w": "0.1"}, ERR, r"lr_for\['w'\] must be"),
    ({"w": -1}, ERR, r"lr_for\['w'\] must be"),
    ({"nomatch": 0.1}, KeyError, "matches no parameter"),
    (5, TypeError, "lr_for must be a dict"),
    (lambda name: math.inf, ERR, r"lr_for\('w'\) must be"),
])
def test_lr_for(lr_for, exc, match):
    raises(exc, match, SGD, params(), lr=0.1, lr_for=lr_for)


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adam])
@pytest.mark.parametrize("grads,exc,match", [
    ([np.ones(3)], TypeError, "grads must be a dict"),
    ({"w": np.ones(3)}, KeyError, r"missing \['b'\]"),
    ({"w": np.ones(3), "b": np.ones((2, 2)), "c": np.ones(1)}, KeyError, r"unexpected \['c'\]"),
    ({"w": np.ones(4), "b": np.ones((2, 2))}, ValueError, r"gradient 'w' has shape \(4,\)"),
    ({"w": np.ones(3), "b": np.ones(4)}, ValueError, r"gradient 'b' has shape \(4,\)"),
    ({"w": np.ones(3, np.float32), "b": np.ones((2, 2))}, TypeError, "gradient 'w' has dtype "
                                                                      "float32"),
    ({"w": [1.0, 1.0, 1.0], "b": np.ones((2, 2))}, TypeError, "gradient 'w' must be a ndarray"),
])
def test_step_refuses_bad_grads_and_changes_nothing(cls, grads, exc, match):
    p = params()
    opt = cls(p, lr=0.1)
    before = {k: v.copy() for k, v in p.items()}
    state = opt.state_dict()
    raises(exc, match, opt.step, grads)
    assert opt.step_count == 0
    for k in p:
        np.testing.assert_array_equal(p[k], before[k])
        for b in opt.buffers:
            np.testing.assert_array_equal(opt.buffers[b][k], state["buffers"][b][k])


@pytest.mark.parametrize("max_norm", [0, -1.0, math.nan, math.inf, None, "1", True])
def test_clip_grad_norm_max_norm(max_norm):
    raises(ERR, "max_norm must be a finite number > 0", clip_grad_norm, {"w": np.ones(2)},
           max_norm)


def test_clip_grad_norm_grads_must_be_a_dict():
    raises(ERR, "grads must be a dict", clip_grad_norm, [np.ones(2)], 1.0)


def test_clip_grad_norm_refuses_what_it_cannot_scale_in_place():
    """Pass: integer, non-array and read-only gradients are named (an integer one raised
    NumPy's UFuncTypeError from the in-place scaling), and nothing is scaled."""
    frozen = np.full(2, 10.0)
    frozen.flags.writeable = False
    for bad, what in [(np.arange(3), r"entry 'b' is .*int64"), ([3.0], "entry 'b' is"),
                      (frozen, r"entry 'b' is .*\(read-only\)"),
                      (np.array([1j]), r"entry 'b' is .*complex128")]:
        w = np.full(2, 10.0)
        raises(ERR, r"clip_grad_norm: grads must map names \(str\) to writeable real "
                    r"floating-point arrays \(they are scaled in place\); " + what,
               clip_grad_norm, {"w": w, "b": bad}, 1.0)
        np.testing.assert_array_equal(w, 10.0)


@pytest.mark.parametrize("name", [3, None, "nope", ["adam"]])
def test_make_optimizer_name(name):
    raises(ValueError, "optimizer must be one of", make_optimizer, name, params(), 0.1)


def _state(**edit):
    opt = Adam(params(), lr=0.1)
    opt.step({k: np.ones_like(v) for k, v in opt.params.items()})
    state = opt.state_dict()
    for path, value in edit.items():
        *keys, last = path.split("__")
        target = state
        for k in keys:
            target = target[k]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
    return state


@pytest.mark.parametrize("edit,exc,match", [
    ({"type": KeyError}, KeyError, "state has no 'type' entry"),
    ({"buffers": KeyError}, KeyError, "state has no 'buffers' entry"),
    ({"lrs": [0.1]}, TypeError, r"state\['lrs'\] must be a dict"),
    ({"type": "SGD"}, ValueError, "saved by optimizer 'SGD'"),
    ({"step_count": -1}, ERR, "step_count must be an integer >= 0"),
    ({"step_count": 1.5}, ERR, "step_count must be an integer"),
    ({"hyperparameters__lr": math.nan}, ERR, "lr must be a finite number"),
    ({"hyperparameters__betas": [0.9]}, ERR, "betas must be a pair"),
    ({"hyperparameters__momentum": 0.9}, KeyError, "hyperparameters"),
    ({"lrs__w": "fast"}, ERR, r"lrs\['w'\] must be a finite number"),
    ({"buffers__m": [1]}, TypeError, "buffer 'm' must be a dict"),
    ({"buffers__m__w": KeyError}, KeyError, "buffer 'm' has no entry for parameter 'w'"),
    ({"buffers__q": {}}, KeyError, r"expected buffers \['m', 'v'\]"),
    ({"lrs__w": KeyError}, KeyError, "state is for parameters"),
    ({"buffers__m__w": np.ones(3, np.float32)}, TypeError, "buffer 'm/w' has dtype float32"),
    ({"buffers__m__w": np.ones(4)}, ValueError, r"buffer 'm/w' has shape \(4,\)"),
    ({"buffers__m__w": [0.0, 0.0, 0.0]}, TypeError, "buffer 'm/w' must be an array"),
])
def test_load_state_dict_refuses_and_leaves_the_optimizer_untouched(edit, exc, match):
    state = _state(**edit)
    opt = Adam(params(), lr=0.5, betas=(0.5, 0.5))
    raises(exc, match, opt.load_state_dict, state)
    assert opt.lr == 0.5 and opt.betas == (0.5, 0.5) and opt.step_count == 0
    assert all(not v.any() for bufs in opt.buffers.values() for v in bufs.values())


@pytest.mark.parametrize("state,exc,match", [
    ("adam", TypeError, "state must be a dict"),
    ({"type": "Nadam", "hyperparameters": {}, "lrs": {}, "step_count": 0, "buffers": {}},
     ValueError, "unknown optimizer type 'Nadam'"),
])
def test_optimizer_from_state(state, exc, match):
    raises(exc, match, optimizer_from_state, params(), state)


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adam])
def test_state_dict_is_a_snapshot(cls):
    """After state_dict(), stepping the optimizer leaves the snapshot unchanged."""
    p = params()
    kwargs = {"momentum": 0.9} if cls is SGD else {}
    opt = cls(p, lr=0.1, lr_for={"b": 0.01}, **kwargs)
    grads = {k: np.ones_like(v) for k, v in p.items()}
    opt.step(grads)
    state = opt.state_dict()
    frozen = {b: {k: v.copy() for k, v in bufs.items()} for b, bufs in state["buffers"].items()}
    hp, lrs = dict(state["hyperparameters"]), dict(state["lrs"])
    for _ in range(3):
        opt.step(grads)
    opt.lrs["w"] = 123.0
    assert state["step_count"] == 1 and state["hyperparameters"] == hp and state["lrs"] == lrs
    for b, bufs in frozen.items():
        for k, v in bufs.items():
            np.testing.assert_array_equal(state["buffers"][b][k], v)


def test_global_norm_apply_constraints_and_lr_for_keys_are_checked():
    from rnnzoo.optim import apply_constraints, global_norm
    raises(TypeError, r"global_norm: grads must be a dict name -> array; got \[", global_norm,
           [np.ones(2)])
    raises(TypeError, r"global_norm: grads must map names to real floating-point arrays; "
                      r"entry 'a' is \[1.0, 2.0\]", global_norm, {"a": [1.0, 2.0]})
    raises(TypeError, "entry 'a' is", global_norm, {"a": np.array([1j])})
    for bad in ("not a model", None, params()):
        # nothing to constrain is not "no constraint needed": 0 read as success
        raises(TypeError, "apply_constraints: model must be a SequenceModel or a cell",
               apply_constraints, bad)
    raises(TypeError, r"lr_for's keys must be parameter names or patterns \(str, e.g. "
                      r"'cell0.W_hh'\); got 1 \(int\)", Adam, params(), lr=0.1, lr_for={1: 0.1})
    # a complex parameter: Adam moved its real part alone, by rules written for reals
    raises(TypeError, r"Adam: params must map names \(str\) to writeable real floating-point "
                      r"arrays .*complex128", Adam, {"a": np.array([1 + 1j])}, lr=0.1)
    raises(TypeError, r"make_optimizer: SGD takes the options \['momentum', 'lr_for'\] "
                      r"\(and lr\); got unknown \['betas'\]", make_optimizer, "sgd", params(),
           0.1, betas=(0.9, 0.99))
