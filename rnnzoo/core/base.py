"""The cell contract and the shared base every cell inherits.

Every cell in the zoo is used the same way::

    hs, state_T, cache = cell.forward(x, state0=None)
    dx, dstate0, grads = cell.backward(dhs, cache, dstate_T=None)

with x of shape (T, B, input_size) (time-major, like ``torch.nn.LSTM``), hs of shape
(T, B, output_size), and states as tuples of arrays named by ``cell.state_names``.

:class:`RecurrentCell` owns everything a cell would otherwise repeat: the backend,
creating parameters from a seed, checking shapes/dtypes/backends, the two time loops,
and recording the norm of the gradient carried between steps. A step-wise cell fills in
four methods, written side by side in its file:

==================  =====================================================================
``prepare``         forward work hoisted out of the time loop (all input projections in
                    one matrix product) and preallocated buffers
``step``            one forward time step; saves into the cache what backward needs
``step_backward``   the backward of ``step``: from dL/d(state_t) to dL/d(state_{t-1}),
                    writing this step's pre-activation gradients into a buffer
``finish_backward`` backward work hoisted out of the time loop: every weight gradient and
                    dL/dx as one matrix product each over all T steps
==================  =====================================================================

Cells that are not step-wise (a convolution over time, a clock schedule) override
``_forward`` / ``_backward`` instead.

The BPTT contract, as CS231n puts it: ``dhs[t]`` is the gradient flowing into h_t from
the loss *at step t* only; the gradient *carried* from step t+1 is added inside the
loop. Their sum, dL/dh_t, is what vanishes or explodes, and its norm per step is
recorded in ``grads.dh_norm``.
"""
from __future__ import annotations

from types import MappingProxyType, SimpleNamespace

import numpy as np

from .backend import get_backend, to_numpy
from .cell_checks import InputChecks
from .products import SequenceProducts
from .validation import ArgumentTypeError, check_int, check_seed, describe


class Cache(SimpleNamespace):
    """What forward hands to backward: x, state0, T, B and the cell's saved buffers.

    A cell with an auxiliary loss of its own (Skip RNN's budget) stores its value as a
    float in ``cache.aux_loss``, and its backward includes that loss's gradient; the
    model, the trainer and gradcheck add the value to the loss. Cells without one
    leave it out.
    """


class CellOptions:
    """``options`` of a cell class and of its cells. A class declares its options with
    their defaults, ``options = {"a": 0.5}``; read on the class, ``options`` is that dict
    of defaults; read on a cell, a read-only mapping of the values the cell holds (each
    option is an attribute, ``cell.a``), made afresh at each read, so it never goes stale
    and a copied cell reads its own."""

    def __get__(self, cell, cls):
        defaults = cls.option_defaults
        if cell is None:
            return defaults
        return MappingProxyType({k: getattr(cell, k) for k in defaults})


class Gradients(dict):
    """Parameter gradients: exactly the keys and shapes of ``cell.params``.

    Also carries ``dh_norm``, a NumPy array of shape (T,): the norm ||dL/dh_t|| (over
    batch and hidden units) of the total gradient reaching h_t at each step. It is a
    record of this backward call only, so backward stays pure.
    """

    dh_norm: np.ndarray | None = None


def check_float_dtype(dtype, where=None):
    """float32 or float64 (a NumPy dtype, type or name); returns the np.dtype."""
    prefix = f"{where}: " if where else ""
    try:
        dt = np.dtype(dtype) if dtype is not None else None
    except TypeError:
        dt = None
    if dt is None or isinstance(dtype, bool):
        raise ArgumentTypeError(f"{prefix}dtype must be float32 or float64; got {dtype!r}")
    if dt not in (np.float32, np.float64):
        raise TypeError(f"{prefix}dtype must be float32 or float64; got {dt}")
    return dt


class RecurrentCell(InputChecks, SequenceProducts):
    """Base class of every cell: see the module docstring for the contract.

    Parameters
    ----------
    input_size : int
        D, the feature size of x.
    hidden_size : int
        H, the size of the hidden state.
    seed : int
        Seeds NumPy's generator that creates the parameters on the host.
    dtype : float32 or float64
        Parameters, inputs, states and gradients all share it.
    backend : "numpy" or "cupy"
    **options
        Cell-specific options, declared with their defaults in the class's ``options``
        dict. Each value given (or its default) becomes an attribute of the cell
        (``make("rnn", 2, 3, nonlinearity="relu").nonlinearity``), and a cell's
        ``options`` reads those attributes: ``cell.options["nonlinearity"]`` is "relu"
        there, ``type(cell).options`` the defaults (:class:`CellOptions`).

    A cell of your own subclasses this class and registers itself with
    ``@rnnzoo.register("name")``; the book's contract page has one written out, step by
    step (what each method below must return, a gradient check, training).
    """

    name = ""                 # registry name, set by @register
    state_names = ("h",)      # names of the state tuple's components
    option_defaults: dict = {}    # the class's options and their defaults ...
    options = CellOptions()       # ... read as ``options`` (see CellOptions)

    def __init_subclass__(cls, **kwargs):
        """A subclass's ``options = {...}`` are its defaults: kept as option_defaults,
        and ``options`` reads them on the class and the cell's values on a cell."""
        super().__init_subclass__(**kwargs)
        declared = cls.__dict__.get("options")
        if isinstance(declared, dict):
            cls.option_defaults = declared
            cls.options = CellOptions()

    def __init__(self, input_size, hidden_size, *, seed=0, dtype=np.float64,
                 backend="numpy", **options):
        where = type(self).__name__
        input_size = check_int(input_size, "input_size", minimum=1, where=where)
        hidden_size = check_int(hidden_size, "hidden_size", minimum=1, where=where)
        defaults = type(self).option_defaults
        unknown = sorted(set(options) - set(defaults))
        if unknown:
            known = ", ".join(defaults) or "none"
            raise TypeError(f"{type(self).__name__} got unknown option(s) {unknown}; "
                            f"its options are: {known}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.seed = check_seed(seed, where=where)
        self.dtype = check_float_dtype(dtype, where)
        self.backend = get_backend(backend)
        self.xp = self.backend.xp
        for key, default in defaults.items():
            setattr(self, key, options.get(key, default))
        try:
            self.check_options()
        except (TypeError, ValueError) as exc:      # say which cell the option belongs to
            raise type(exc)(f"{where}('{self.name}'): {exc}") from None
        host_params = self.init_params(np.random.default_rng(seed))
        self.params = {k: self.backend.asarray(np.asarray(v, dtype=self.dtype))
                       for k, v in host_params.items()}
        self._param_shapes = {k: tuple(v.shape) for k, v in self.params.items()}
        self._options_set = True

    def __setattr__(self, name, value):
        """Options are set once, at construction: check_options validated them and the
        cell derived what it computes with from them (a nonlinearity's function, a
        schedule, parameter shapes), so a later assignment would show in
        ``hyperparameters`` and a checkpoint but not in the arithmetic."""
        if name in type(self).option_defaults and self.__dict__.get("_options_set"):
            raise AttributeError(f"{type(self).__name__}('{self.name}'): the option {name!r} "
                                 f"is set at construction; make a new cell with "
                                 f"rnnzoo.make({self.name!r}, ..., {name}={value!r}) (its "
                                 f"current value is {getattr(self, name)!r})")
        object.__setattr__(self, name, value)

    # ------------------------------------------------------------------ to override
    def init_params(self, rng: np.random.Generator) -> dict:
        """Return the parameters as NumPy arrays created from ``rng`` (on the host)."""
        raise self._undefined("init_params(rng)", "every cell creates its parameters there")

    def check_options(self):
        """Validate cell-specific options (raise ValueError naming what was expected)."""

    @property
    def output_size(self) -> int:
        return self.hidden_size

    def _checked_batch(self, batch) -> int:
        """``initial_state``'s argument, checked (a cell that overrides initial_state
        starts with it)."""
        return check_int(batch, "batch", minimum=1, where=self._where("initial_state"))

    def initial_state(self, batch: int) -> tuple:
        """The zero state: one (B, H) array per entry of ``state_names``."""
        batch = self._checked_batch(batch)
        return tuple(self.xp.zeros((batch, self.hidden_size), dtype=self.dtype)
                     for _ in self.state_names)

    # ------------------------------------------------------------------ public API
    @property
    def hyperparameters(self) -> dict:
        """Everything needed to rebuild this cell with :func:`rnnzoo.make`."""
        return {"name": self.name, "input_size": self.input_size,
                "hidden_size": self.hidden_size, "seed": self.seed,
                "dtype": self.dtype.name, "backend": self.backend.name,
                **{k: getattr(self, k) for k in self.options}}

    def random_state(self):
        """The state of the random draws this cell makes while it trains (QRNN's zoneout
        masks), JSON-able, for a checkpoint to carry so that a resumed run draws what the
        run it continues would have; None for a cell that draws nothing (most)."""
        return None

    def set_random_state(self, state):
        """Restore what :meth:`random_state` returned."""
        if state is not None:
            raise ValueError(f"{self._where('set_random_state')}: this cell draws nothing at "
                             f"random; got a state {describe(state)}")

    def outputs_first_state(self) -> bool:
        """Is the output h_t the state's first component (rnn, lstm, ...), rather than
        read out of the state (S4D's y = 2 Re C x, DeltaNet's S q, the LRU's Re C x + D u)?
        One step of the cell on a fixed input says."""
        x = self.xp.asarray(np.random.default_rng(0).standard_normal((1, 1, self.input_size)),
                            dtype=self.dtype)
        hs, state, _ = self.forward(x)
        return bool(self.xp.array_equal(hs[0], state[0]))

    def num_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def forward(self, x, state0=None):
        """Run the cell over a sequence.

        Parameters
        ----------
        x : array (T, B, input_size)
        state0 : tuple of arrays, one per ``state_names`` entry, or None for zeros

        Returns
        -------
        hs : array (T, B, output_size)
        state_T : tuple of arrays, the state after the last step
        cache : Cache, everything :meth:`backward` needs
        """
        x = self._check_input(x)
        state0 = self._check_state(state0, x.shape[1], "state0")
        self._check_params()
        # cache integrity: the cache keeps its own copies of x and state0, and hs/state_T
        # are fresh arrays (tests/test_hostile_cells.py checks both for every cell), so
        # writing into x, state0, hs or state_T after forward never changes backward
        returned = self._forward(x.copy(), tuple(s.copy() for s in state0))
        self._check_forward_result(returned, x, Cache)
        hs, state_T, cache = returned
        cache._owner = self                      # backward refuses anyone else's cache
        return hs, state_T, cache

    def backward(self, dhs, cache, dstate_T=None):
        """Backpropagate through time.

        Parameters
        ----------
        dhs : array (T, B, output_size) or None
            dL/dhs[t] from the loss at each step (not including what flows back from
            later steps). None means zeros.
        cache : the cache returned by :meth:`forward`
        dstate_T : tuple or None
            dL/dstate_T, the gradient on the final state. None means zeros.

        Returns
        -------
        dx : array (T, B, input_size)
        dstate0 : tuple, dL/dstate0
        grads : Gradients, same keys and shapes as ``params``, plus ``grads.dh_norm``

        Refuses a cache made by any other cell's forward (another instance, kind or
        size), and NaN or inf in dhs or dstate_T.
        """
        if not isinstance(cache, Cache):
            raise TypeError(f"{self._where('backward')}: cache must be the third value "
                            f"returned by forward(); got {type(cache).__name__}")
        owner = getattr(cache, "_owner", None)
        if owner is not self:
            made_by = "no cell's forward()" if owner is None else f"another cell, {owner!r}"
            raise ValueError(f"{self._where('backward')}: cache was made by {made_by}; "
                             f"backward needs the cache of this cell's own forward ({self!r})")
        dhs = self._check_output_grad(dhs, cache.T, cache.B)
        if dstate_T is None:      # zeros, even where the initial state is not (skiprnn's ũ)
            dstate_T = tuple(self.xp.zeros_like(s) for s in self.initial_state(cache.B))
        else:                     # copies: a component a cell passes through untouched
            # (clockwork's clock) must not come back as the caller's own array in dstate0
            dstate_T = tuple(s.copy() for s in self._check_state(dstate_T, cache.B,
                                                                   "dstate_T"))
        returned = self._backward(dhs, cache, dstate_T)
        self._check_backward_result(returned, cache)
        dx, dstate0, grads, dh_norm = returned
        grads = Gradients(grads)
        grads.dh_norm = to_numpy(dh_norm)
        return dx, dstate0, grads

    # ------------------------------------------------------------------ time loops
    def _forward(self, x, state0):
        """The forward over the whole sequence: (x, state0) -> (hs, state_T, cache), hs
        (T, B, output_size), state_T a tuple like state0, cache a :class:`Cache`
        (checked). This one runs ``prepare`` and then ``step`` for t = 0..T-1; a cell that
        is not step-wise overrides it. x and state0 are the cell's own copies."""
        cache = Cache(x=x, state0=state0, T=x.shape[0], B=x.shape[1])
        self.prepare(cache)
        state = state0
        for t in range(cache.T):
            state = self.step(t, state, cache)
        return self.outputs(cache), tuple(s.copy() for s in state), cache

    def _backward(self, dhs, cache, dstate):
        """The backward over the whole sequence: (dhs, cache, dstate_T) -> (dx, dstate0,
        grads, dh_norm), dh_norm[t] = ‖dL/dh_t‖ (a (T,) array; checked). This one runs
        ``prepare_backward``, ``step_backward`` for t = T-1..0 and ``finish_backward``. It
        must leave the cache as it found it: a second backward on it gives the same."""
        work = self.prepare_backward(cache)
        dh_norm = self.xp.empty(cache.T)
        for t in reversed(range(cache.T)):
            # dL/dh_t = the loss's own gradient at step t + the one carried from t+1
            dstate = self.add_output_grad(dhs[t], dstate)
            dh_norm[t] = self.xp.linalg.norm(dstate[0])
            dstate = self.step_backward(t, dstate, cache, work)
        dx, grads = self.finish_backward(cache, work)
        return dx, dstate, grads, dh_norm

    def prepare(self, cache):
        """Before the loop: work hoisted out of it (the input projections of all T steps)
        and the buffers ``step`` writes into the cache (``cache.h``, (T+1, B, H))."""
        raise self._undefined("prepare(cache)")

    def step(self, t, state, cache):
        """Step t: the state tuple after it, from the state before; saves in the cache
        what ``step_backward`` needs."""
        raise self._undefined("step(t, state, cache)")

    def outputs(self, cache):
        """hs from the cache; by convention ``cache.h`` holds h_0..h_T, shape (T+1, B, H)."""
        return cache.h[1:].copy()

    def prepare_backward(self, cache):
        """Before the backward loop: returns ``work``, the scratch the steps share (every
        step's pre-activation gradients side by side, for ``finish_backward``)."""
        raise self._undefined("prepare_backward(cache)")

    def step_backward(self, t, dstate, cache, work):
        """Step t's backward: dL/d(state_t) (the output's gradient already added) ->
        dL/d(state_{t-1}), a tuple; records what the weight gradients need in ``work``."""
        raise self._undefined("step_backward(t, dstate, cache, work)")

    def finish_backward(self, cache, work):
        """After the loop: (dx, grads), dx (T, B, input_size) and grads a dict shaped
        like ``params``, each weight gradient one matrix product over all T steps."""
        raise self._undefined("finish_backward(cache, work)")

    def _undefined(self, method, role=("a step-wise cell fills in prepare, step, "
                                       "prepare_backward, step_backward and finish_backward; "
                                       "one that is not overrides _forward and _backward")):
        """The error for a method a cell of one's own has not filled in yet."""
        return NotImplementedError(f"{type(self).__name__} does not define {method} ({role}; "
                                   "see rnnzoo.core.base)")

    def add_output_grad(self, dout_t, dstate):
        """Add the loss's gradient on this step's output to the carried dL/dh_t."""
        return (dstate[0] + dout_t,) + tuple(dstate[1:])

    # ------------------------------------------------------------------ helpers
    def hidden_buffer(self, cache, h0, size=None):
        """A (T+1, B, size) buffer for h_0..h_T with h_0 filled in."""
        size = self.hidden_size if size is None else size
        h = self.xp.empty((cache.T + 1, cache.B, size), dtype=self.dtype)
        h[0] = h0
        return h

    def __repr__(self):
        opts = "".join(f", {k}={getattr(self, k)!r}" for k in self.options)
        return (f"{type(self).__name__}(input_size={self.input_size}, hidden_size="
                f"{self.hidden_size}{opts}, dtype={self.dtype.name}, "
                f"backend='{self.backend.name}')")
