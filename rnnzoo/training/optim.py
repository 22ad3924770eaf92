"""Optimizers, gradient clipping and parameter constraints, written from scratch (the
latter two in :mod:`.clipping`, offered here).

An optimizer holds the *same* arrays as ``model.params`` and updates them in place, so
the model trains without being told::

    opt = rnnzoo.optim.Adam(model.params, lr=1e-3, lr_for={"cell*.W_hh": 1e-4})
    y, cache = model.forward(x)
    loss, dy = rnnzoo.mse_loss(y, target)
    _, grads = model.backward(dy, cache)
    rnnzoo.optim.clip_grad_norm(grads, max_norm=1.0)   # separate, explicit, in place
    opt.step(grads)
    rnnzoo.optim.apply_constraints(model)               # each cell's constrain(), if any

Notation for every update below: θ a parameter, g its gradient, η its learning rate,
t the number of steps taken so far (1 after the first step).

Per-parameter learning rates
----------------------------
``lr`` is the default rate. ``lr_for`` overrides it for some parameters, either as a
dict ``{pattern: lr}`` whose patterns are :mod:`fnmatch` globs over the parameter names
(``"cell0.W_hh"``, ``"cell*.W_hh"``, ``"readout.*"``; the first matching pattern wins,
and a pattern that matches nothing is an error, to catch typos), or as a callable
``name -> lr or None`` (None keeps the default). The resolved rates are in
``opt.lrs`` (a dict name -> η) and ``opt.param_groups`` groups the names by rate.
Orthogonal-RNN papers use this to train the recurrent matrix more slowly.

Constraints
-----------
A cell may define ``constrain(self)``, which projects its own parameters in place onto
an allowed set (IndRNN's bound on the recurrent weights, re-orthogonalization). The
training loop calls :func:`apply_constraints` after every optimizer step; the optimizers
themselves know nothing about cells.

State
-----
``state_dict()`` returns plain data: ``{"type", "hyperparameters", "lrs", "step_count",
"buffers": {buffer name: {param name: array}}}``; ``load_state_dict`` checks it against
the parameters (type, keys, shapes) and restores it, so training resumes exactly.
"""
from __future__ import annotations

import fnmatch
import inspect

from ..core.ops import array_module
from ..core.validation import ArgumentTypeError, check_float, check_int, describe
from .clipping import _check_in_place, apply_constraints, clip_grad_norm, global_norm

# clipping and constraints live in .clipping; rnnzoo.optim offers them beside the optimizers
__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "OPTIMIZERS", "make_optimizer",
           "optimizer_from_state", "global_norm", "clip_grad_norm", "apply_constraints"]


class Optimizer:
    """Base class: the parameters, their learning rates, the step counter and buffers.

    Subclasses list their per-parameter buffers in ``buffer_names`` and implement
    :meth:`update`, the in-place rule for one parameter.
    """

    buffer_names: tuple = ()

    def __init__(self, params, lr, lr_for=None):
        where = type(self).__name__
        if not isinstance(params, dict) or not params:
            raise ArgumentTypeError(f"{where}: params must be a non-empty dict name -> array "
                                    f"(e.g. model.params); got {describe(params)}")
        _check_in_place(params, "params", "the optimizer updates them in place", where)
        self.params = params
        self.lr = _check_lr(lr, "lr")
        self.lrs = _resolve_lrs(list(params), self.lr, lr_for)
        self.step_count = 0
        self.buffers = {b: {k: array_module(p).zeros_like(p) for k, p in params.items()}
                        for b in self.buffer_names}

    # ------------------------------------------------------------------ to override
    @property
    def hyperparameters(self) -> dict:
        return {"lr": self.lr}

    def update(self, name, p, g, lr, t):
        """Update parameter ``p`` (named ``name``) in place from gradient ``g``."""
        raise NotImplementedError

    # ------------------------------------------------------------------ public API
    @property
    def param_groups(self) -> list:
        """[{"lr": η, "names": [...]}, ...], one group per distinct learning rate."""
        groups: dict = {}
        for name, lr in self.lrs.items():
            groups.setdefault(lr, []).append(name)
        return [{"lr": lr, "names": names} for lr, names in groups.items()]

    def step(self, grads):
        """Apply one update to every parameter, in place. ``grads`` has the keys of params."""
        if not isinstance(grads, dict):
            raise ArgumentTypeError(f"{type(self).__name__}.step: grads must be a dict name -> "
                                    f"array (from model.backward); got {describe(grads)}")
        missing = [k for k in self.params if k not in grads]
        extra = [k for k in grads if k not in self.params]
        if missing or extra:
            raise KeyError(f"{type(self).__name__}.step: grads must have exactly the keys of "
                           f"params; missing {missing}, unexpected {extra}")
        for name, p in self.params.items():
            g = grads[name]
            if not (hasattr(g, "shape") and hasattr(g, "dtype")) or type(g) is not type(p):
                raise TypeError(f"{type(self).__name__}.step: gradient '{name}' must be a "
                                f"{type(p).__name__} like the parameter; got {describe(g)}")
            if g.shape != p.shape:
                raise ValueError(f"{type(self).__name__}.step: gradient '{name}' has shape "
                                 f"{tuple(g.shape)}; expected the parameter's {tuple(p.shape)}")
            if g.dtype != p.dtype:
                raise TypeError(f"{type(self).__name__}.step: gradient '{name}' has dtype "
                                f"{g.dtype}; expected the parameter's {p.dtype} (no silent "
                                "cast)")
        self.step_count += 1
        t = self.step_count
        for name, p in self.params.items():             # all checked: now update
            g = grads[name]
            self.update(name, p, g, self.lrs[name], t)

    def state_dict(self) -> dict:
        """Plain data (arrays, numbers, strings) that :meth:`load_state_dict` restores."""
        return {"type": type(self).__name__, "hyperparameters": dict(self.hyperparameters),
                "lrs": dict(self.lrs), "step_count": self.step_count,
                "buffers": {b: {k: v.copy() for k, v in bufs.items()}
                            for b, bufs in self.buffers.items()}}

    def load_state_dict(self, state):
        """Restore a :meth:`state_dict`; raises if it belongs to another optimizer type or
        to parameters with other names or shapes."""
        where = f"{type(self).__name__}.load_state_dict"
        _check_state_layout(state, where)
        if state.get("type") != type(self).__name__:
            raise ValueError(f"{where}: state was saved by optimizer {state.get('type')!r}")
        if set(state["lrs"]) != set(self.params):
            raise KeyError(f"{where}: state is for parameters {sorted(state['lrs'])}; "
                           f"this optimizer has {sorted(self.params)}")
        if set(state["buffers"]) != set(self.buffer_names):
            raise KeyError(f"{where}: expected buffers {list(self.buffer_names)}; "
                           f"got {sorted(state['buffers'])}")
        for b, bufs in state["buffers"].items():
            if not isinstance(bufs, dict):
                raise ArgumentTypeError(f"{where}: buffer '{b}' must be a dict name -> array; "
                                        f"got {describe(bufs)}")
            for k, p in self.params.items():
                if k not in bufs:
                    raise KeyError(f"{where}: buffer '{b}' has no entry for parameter '{k}'")
                a = bufs[k]
                if not (hasattr(a, "shape") and hasattr(a, "dtype")):
                    raise ArgumentTypeError(f"{where}: buffer '{b}/{k}' must be an array; got "
                                            f"{describe(a)}")
                if tuple(a.shape) != tuple(p.shape):
                    raise ValueError(f"{where}: buffer '{b}/{k}' has shape "
                                     f"{tuple(a.shape)}; the parameter has {tuple(p.shape)}")
                if a.dtype != p.dtype:
                    raise TypeError(f"{where}: buffer '{b}/{k}' has dtype {a.dtype}; the "
                                    f"parameter has {p.dtype} (no silent cast)")
        hp = dict(state["hyperparameters"])
        if set(hp) != set(self.hyperparameters):
            raise KeyError(f"{where}: hyperparameters {sorted(hp)} are not this optimizer's "
                           f"{sorted(self.hyperparameters)}")
        type(self)(self.params, **hp)     # a throwaway twin validates every value, or raises
        lrs = {k: _check_lr(state["lrs"][k], f"lrs[{k!r}]") for k in self.params}
        step_count = check_int(state["step_count"], "step_count", minimum=0, where=where)
        for key, value in hp.items():
            setattr(self, key, tuple(float(v) for v in value) if isinstance(value, (list, tuple))
                    else float(value))
        self.lrs = lrs
        self.step_count = step_count
        for b, bufs in state["buffers"].items():
            for k, p in self.params.items():
                xp = array_module(p)
                self.buffers[b][k] = xp.asarray(bufs[k]).copy()

    def __repr__(self):
        hp = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        n_over = sum(lr != self.lr for lr in self.lrs.values())
        extra = f", {n_over} parameter(s) with their own lr" if n_over else ""
        return f"{type(self).__name__}({hp}{extra})"


class SGD(Optimizer):
    r"""Stochastic gradient descent with (heavy-ball) momentum, PyTorch's convention:

    .. math:: v_t = \mu v_{t-1} + g_t, \qquad \theta_t = \theta_{t-1} - \eta v_t

    with :math:`v_0 = 0`; ``momentum=0`` is plain SGD, :math:`\theta \leftarrow \theta -
    \eta g`. The update is PyTorch's; the default ``lr=0.01`` is ours (``torch.optim.SGD``
    defaults to 1e-3).
    """

    buffer_names = ("velocity",)

    def __init__(self, params, lr=0.01, momentum=0.0, lr_for=None):
        self.momentum = check_float(momentum, "momentum", minimum=0.0, maximum=1.0,
                                    max_open=True, where="SGD")
        super().__init__(params, lr, lr_for)

    @property
    def hyperparameters(self):
        return {"lr": self.lr, "momentum": self.momentum}

    def update(self, name, p, g, lr, t):
        if self.momentum == 0.0:
            p -= lr * g
            return
        v = self.buffers["velocity"][name]
        v *= self.momentum
        v += g
        p -= lr * v


class RMSprop(Optimizer):
    r"""RMSprop (Tieleman & Hinton, 2012), PyTorch's convention (eps outside the root):

    .. math:: s_t = \alpha s_{t-1} + (1 - \alpha) g_t^2, \qquad
              \theta_t = \theta_{t-1} - \eta\, g_t / (\sqrt{s_t} + \epsilon)

    with :math:`s_0 = 0`. The update is PyTorch's (its ``centered`` and ``momentum`` options
    are not offered); the default ``lr=1e-3`` is ours (``torch.optim.RMSprop`` defaults to
    1e-2).
    """

    buffer_names = ("square_avg",)

    def __init__(self, params, lr=1e-3, alpha=0.99, eps=1e-8, lr_for=None):
        self.alpha = check_float(alpha, "alpha", minimum=0.0, maximum=1.0, max_open=True,
                                 where="RMSprop")
        self.eps = check_float(eps, "eps", minimum=0.0, min_open=True, where="RMSprop")
        super().__init__(params, lr, lr_for)

    @property
    def hyperparameters(self):
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps}

    def update(self, name, p, g, lr, t):
        xp = array_module(p)
        s = self.buffers["square_avg"][name]
        s *= self.alpha
        s += (1.0 - self.alpha) * g * g
        denom = xp.sqrt(s)
        denom += self.eps
        p -= lr * g / denom


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015):

    .. math::

        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \\
        \theta_t = \theta_{t-1} - \eta\, \frac{m_t / (1 - \beta_1^t)}
                                             {\sqrt{v_t / (1 - \beta_2^t)} + \epsilon}

    with :math:`m_0 = v_0 = 0`; the two divisions undo the bias towards 0 of the
    running averages in the first steps.
    """

    buffer_names = ("m", "v")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, lr_for=None):
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ArgumentTypeError(f"Adam: betas must be a pair (beta1, beta2) of numbers in "
                                    f"[0, 1); got {describe(betas)}")
        self.betas = tuple(check_float(b, f"betas[{i}]", minimum=0.0, maximum=1.0,
                                       max_open=True, where="Adam") for i, b in enumerate(betas))
        self.eps = check_float(eps, "eps", minimum=0.0, min_open=True, where="Adam")
        super().__init__(params, lr, lr_for)

    @property
    def hyperparameters(self):
        return {"lr": self.lr, "betas": list(self.betas), "eps": self.eps}

    def update(self, name, p, g, lr, t):
        xp = array_module(p)
        b1, b2 = self.betas
        m, v = self.buffers["m"][name], self.buffers["v"][name]
        m *= b1
        m += (1.0 - b1) * g
        v *= b2
        v += (1.0 - b2) * g * g
        denom = xp.sqrt(v / (1.0 - b2 ** t))
        denom += self.eps
        p -= (lr / (1.0 - b1 ** t)) * m / denom


OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam}


def make_optimizer(name, params, lr, **kwargs) -> Optimizer:
    """``make_optimizer("adam", model.params, lr=1e-3, ...)``; names: sgd, rmsprop, adam."""
    if not isinstance(name, str) or name.lower() not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)} or an Optimizer; "
                         f"got {describe(name)}")
    cls = OPTIMIZERS[name.lower()]
    takes = [k for k in inspect.signature(cls.__init__).parameters
             if k not in ("self", "params", "lr")]
    unknown = [k for k in kwargs if k not in takes]
    if unknown:
        raise TypeError(f"make_optimizer: {cls.__name__} takes the options {takes} (and lr); "
                        f"got unknown {unknown}")
    return cls(params, lr=lr, **kwargs)


def optimizer_from_state(params, state) -> Optimizer:
    """Rebuild the optimizer a :meth:`Optimizer.state_dict` came from, over ``params``."""
    classes = {cls.__name__: cls for cls in OPTIMIZERS.values()}
    _check_state_layout(state, "optimizer_from_state")
    if state.get("type") not in classes:
        raise ValueError(f"unknown optimizer type {state.get('type')!r} in state; "
                         f"expected one of {sorted(classes)}")
    hp = dict(state["hyperparameters"])
    opt = classes[state["type"]](params, **hp)
    opt.load_state_dict(state)
    return opt


# ---------------------------------------------------------------------- helpers
def _check_lr(lr, what):
    return check_float(lr, what, minimum=0.0)


_STATE_KEYS = dict(type=str, hyperparameters=dict, lrs=dict, step_count=object, buffers=dict)


def _check_state_layout(state, where):
    """A state_dict()'s keys and container types, before anything is read from it."""
    if not isinstance(state, dict):
        raise ArgumentTypeError(f"{where}: state must be a dict from state_dict(); got "
                                f"{describe(state)}")
    for key, kind in _STATE_KEYS.items():
        if key not in state:
            raise KeyError(f"{where}: state has no '{key}' entry (not from state_dict()?)")
        if not isinstance(state[key], kind):
            raise ArgumentTypeError(f"{where}: state['{key}'] must be a {kind.__name__}; got "
                                    f"{describe(state[key])}")


def _resolve_lrs(names, default, lr_for) -> dict:
    """name -> learning rate, from the default and the ``lr_for`` overrides."""
    lrs = dict.fromkeys(names, default)
    if lr_for is None:
        return lrs
    if callable(lr_for):
        for name in names:
            lr = lr_for(name)
            if lr is not None:
                lrs[name] = _check_lr(lr, f"lr_for({name!r})")
        return lrs
    if not isinstance(lr_for, dict):
        raise TypeError("lr_for must be a dict {name pattern: lr} or a callable name -> lr; "
                        f"got {type(lr_for).__name__}")
    claimed = set()
    for pattern, lr in lr_for.items():
        if not isinstance(pattern, str):
            raise TypeError(f"lr_for's keys must be parameter names or patterns (str, e.g. "
                            f"'cell0.W_hh'); got {describe(pattern)}")
        lr = _check_lr(lr, f"lr_for[{pattern!r}]")
        matched = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        if not matched:
            raise KeyError(f"lr_for pattern {pattern!r} matches no parameter; "
                           f"parameters are {names}")
        lrs.update(dict.fromkeys(set(matched) - claimed, lr))   # the first match wins
        claimed.update(matched)
    return lrs
