"""Model pieces: a linear readout, two losses, and a model that stacks cells.

Each piece has a forward and a hand-written backward side by side, and the same purity
rule as the cells: backward returns gradients and never changes the object.

    model = rnnzoo.build_model("gru", input_size=2, hidden_size=64, output_size=1,
                               readout="last")
    y, cache = model.forward(x)                   # x (T, B, D) -> y (B, 1)
    loss, dy = rnnzoo.mse_loss(y, target)
    dx, grads = model.backward(dy, cache)         # grads: same keys as model.params
"""
from __future__ import annotations

import numpy as np

from ..core.backend import get_backend
from ..core.base import Cache, Gradients, RecurrentCell, check_float_dtype
from ..core.cell_checks import refuse_ndarray_subclass
from ..core.ops import array_module
from ..core.registry import make
from ..core.validation import ArgumentTypeError, check_choice, check_int, check_seed

READOUTS = ("all", "last")


class Linear:
    r"""Linear readout :math:`y_t = W h_t + b`, at every step or at the last step only.

    Shapes: hs (T, B, H) -> y (T, B, O) with ``readout="all"``, or (B, O) with
    ``readout="last"``; W (O, H), b (O,), initialized :math:`\mathcal U(-1/\sqrt H,
    1/\sqrt H)` like ``torch.nn.Linear``.
    """

    def __init__(self, in_features, out_features, *, readout="all", seed=0,
                 dtype=np.float64, backend="numpy"):
        w = "Linear"
        self.in_features = check_int(in_features, "in_features", minimum=1, where=w)
        self.out_features = check_int(out_features, "out_features", minimum=1, where=w)
        self.readout = check_choice(readout, "readout", READOUTS, where=w)
        self.dtype = check_float_dtype(dtype, w)
        self.backend = get_backend(backend)
        rng = np.random.default_rng(check_seed(seed, where=w))
        k = 1.0 / np.sqrt(in_features)
        host = {"W": rng.uniform(-k, k, (out_features, in_features)),
                "b": rng.uniform(-k, k, out_features)}
        self.params = {n: self.backend.asarray(v, dtype=self.dtype) for n, v in host.items()}

    def forward(self, hs):
        _check_array(hs, "hs", "Linear.forward", self.backend, self.dtype, ndim=3,
                     last=self.in_features)
        if hs.shape[0] == 0 or hs.shape[1] == 0:
            raise ValueError(f"Linear.forward: hs must have at least one step and one "
                             f"sequence (T, B >= 1); got shape {tuple(hs.shape)}")
        h = hs[-1] if self.readout == "last" else hs
        y = h @ self.params["W"].T + self.params["b"]
        return y, Cache(hs=hs, h=h, y_shape=tuple(y.shape), _owner=self)

    def backward(self, dy, cache, where="Linear.backward"):
        _check_cache(cache, self, where)
        _check_array(dy, "dy", where, self.backend, self.dtype, shape=cache.y_shape,
                     shape_of="the shape of the y that forward returned", finite=True)
        W, h = self.params["W"], cache.h
        flat_dy, flat_h = dy.reshape(-1, dy.shape[-1]), h.reshape(-1, h.shape[-1])
        grads = {"W": flat_dy.T @ flat_h, "b": flat_dy.sum(axis=0)}      # y = h W^T + b
        dh = dy @ W
        if self.readout == "last":                    # only h_T fed the readout
            dhs = self.backend.xp.zeros_like(cache.hs)
            dhs[-1] = dh
            return dhs, grads
        return dh, grads


def _check_array(a, what, where, backend=None, dtype=None, *, ndim=None, last=None,
                 shape=None, shape_of="shape", finite=False, floating=True):
    """Refuse anything but an array of the expected backend, rank, shape and dtype."""
    xp = backend.xp if backend is not None else None
    if backend is not None and not backend.is_array(a) or \
            backend is None and not (hasattr(a, "shape") and hasattr(a, "dtype")):
        kind = f"a {backend.name} array" if backend is not None else "an array"
        raise ArgumentTypeError(f"{where}: {what} must be {kind}; got {type(a).__name__}")
    refuse_ndarray_subclass(a, what, where, backend.name if backend is not None else "numpy")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{where}: {what} must be {ndim}-D; got shape {tuple(a.shape)}")
    if last is not None and a.shape[-1] != last:
        raise ValueError(f"{where}: {what} must have {last} features in its last axis; "
                         f"got shape {tuple(a.shape)}")
    if shape is not None and tuple(a.shape) != tuple(shape):
        raise ValueError(f"{where}: {what} must have {shape_of} {tuple(shape)}; got "
                         f"{tuple(a.shape)}")
    if dtype is not None and a.dtype != dtype:
        raise TypeError(f"{where}: {what} must have dtype {np.dtype(dtype)} (no silent cast); "
                        f"got {a.dtype}")
    if floating and not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"{where}: {what} must be a floating-point array; got dtype {a.dtype}")
    xp = xp or array_module(a)
    if finite and not bool(xp.isfinite(a).all()):
        raise ValueError(f"{where}: {what} contains NaN or inf")


def _check_cache(cache, owner, where):
    if not isinstance(cache, Cache):
        raise TypeError(f"{where}: cache must be the cache returned by forward(); got "
                        f"{type(cache).__name__}")
    if getattr(cache, "_owner", None) is not owner:
        raise ValueError(f"{where}: cache was made by another object's forward(); pass "
                         f"the cache this object's forward returned")


def mse_loss(y, target):
    r"""Mean squared error :math:`L = \frac1N \sum (y - t)^2` over all N entries.

    Returns (loss as a float, dL/dy).
    """
    _check_array(y, "y", "mse_loss")
    _check_array(target, "target", "mse_loss", dtype=y.dtype, shape=y.shape,
                 shape_of="the prediction's shape")
    if type(y) is not type(target):
        raise TypeError(f"mse_loss: y and target must be arrays of one backend; got "
                        f"{type(y).__name__} and {type(target).__name__}")
    if y.size == 0:
        raise ValueError(f"mse_loss: y is empty (shape {tuple(y.shape)}); a mean needs at "
                         f"least one entry")
    diff = y - target
    return float((diff * diff).mean()), diff * (2.0 / diff.size)


IGNORE_INDEX = -100      # a classification target where nothing is asked (as PyTorch's)


def softmax_cross_entropy(logits, labels, ignore_index=IGNORE_INDEX):
    r"""Mean cross-entropy :math:`-\log \mathrm{softmax}(z)_{y}` over the positions whose
    label is not ``ignore_index``.

    logits (..., C) and integer labels (...). Returns (loss as a float, dL/dlogits), with
    dL/dz = (softmax(z) − onehot(y)) / N at counted positions and 0 elsewhere.
    """
    where = "softmax_cross_entropy"
    _check_array(logits, "logits", where)
    if logits.ndim < 1 or logits.shape[-1] < 1:
        raise ValueError(f"{where}: logits must have a class axis (..., C) with C >= 1; "
                         f"got shape {tuple(logits.shape)}")
    _check_array(labels, "labels", where, floating=False)
    if type(labels) is not type(logits):
        raise TypeError(f"{where}: logits and labels must be arrays of one backend; got "
                        f"{type(logits).__name__} and {type(labels).__name__}")
    ignore_index = check_int(ignore_index, "ignore_index", where=where)
    xp = array_module(logits)
    if tuple(labels.shape) != tuple(logits.shape[:-1]):
        raise ValueError(f"softmax_cross_entropy: labels must have shape {tuple(logits.shape[:-1])} "
                         f"(logits without the class axis); got {tuple(labels.shape)}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"softmax_cross_entropy: labels must be integers; got {labels.dtype}")
    C = logits.shape[-1]
    if labels.size == 0:
        raise ValueError(f"{where}: logits has no positions (shape {tuple(logits.shape)}); "
                         f"a mean needs at least one labelled position")
    z = logits.reshape(-1, C)
    y = labels.reshape(-1)
    counted = y != ignore_index
    n = int(counted.sum())
    if n == 0:
        raise ValueError("softmax_cross_entropy: every label equals ignore_index")
    safe_y = xp.where(counted, y, 0)
    if bool(((safe_y < 0) | (safe_y >= C)).any()):
        raise ValueError(f"softmax_cross_entropy: labels must lie in [0, {C}) or equal "
                         f"ignore_index={ignore_index}")
    shifted = z - z.max(axis=1, keepdims=True)       # stable: softmax is shift-invariant
    log_p = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
    rows = xp.arange(z.shape[0])
    loss = -float((log_p[rows, safe_y] * counted).sum()) / n
    dz = xp.exp(log_p)
    dz[rows, safe_y] -= 1.0
    dz *= counted[:, None] / n
    return loss, dz.reshape(logits.shape)


# errors the cells raise for a bad argument (one message argument each), which
# SequenceModel.forward prefixes with the layer a bad state0 entry belongs to
_NAMED_ERRORS = (TypeError, ValueError, ArgumentTypeError)


class SequenceModel:
    """One or more cells stacked in depth, then a :class:`Linear` readout.

    Layer k reads layer k-1's outputs hs as its x. ``params`` is a flat dict whose keys
    are prefixed ``cell0.``, ``cell1.``, ..., ``readout.``; its arrays are the components'
    own, so an optimizer that updates them in place trains the model.

    ``blocks``: None (the cells feed each other directly), or a
    :class:`~rnnzoo.training.blocks.GLUBlocks` that wraps every cell in a residual block
    (encoder, layer norm, GELU, GLU, final norm; its keys are added unprefixed:
    ``encoder.W``, ``block0.W``, ...). Then every cell reads the stream's width.
    """

    def __init__(self, cells, readout: Linear, blocks=None):
        w = "SequenceModel"
        if isinstance(cells, RecurrentCell) or not isinstance(cells, (list, tuple)) or \
                not cells or not all(isinstance(c, RecurrentCell) for c in cells):
            raise ArgumentTypeError(f"{w}: cells must be a non-empty list of cells, "
                                    f"instances of rnnzoo.RecurrentCell subclasses (made "
                                    f"with rnnzoo.make; a cell of your own subclasses "
                                    f"RecurrentCell); got {cells!r}")
        if not isinstance(readout, Linear):
            raise ArgumentTypeError(f"{w}: readout must be a rnnzoo.Linear; got "
                                    f"{type(readout).__name__}")
        self.cells = list(cells)
        self.readout = readout
        first = self.cells[0]
        self.dtype, self.backend = first.dtype, first.backend
        for part in self.cells[1:] + [readout]:
            if part.dtype != self.dtype or part.backend is not self.backend:
                raise ValueError(f"{w}: every layer and the readout must share one dtype "
                                 f"and backend; {first!r} uses {self.dtype}/"
                                 f"{self.backend.name} but {part!r} uses {part.dtype}/"
                                 f"{part.backend.name}")
        self.blocks = blocks
        if blocks is not None:
            self._check_blocks(blocks)
            return
        for below, above in zip(self.cells, self.cells[1:]):
            if above.input_size != below.output_size:
                raise ValueError(f"layer sizes do not chain: {below.name} outputs "
                                 f"{below.output_size} but {above.name} expects {above.input_size}")
        if readout.in_features != self.cells[-1].output_size:
            raise ValueError(f"readout expects {readout.in_features} features but the last "
                             f"cell outputs {self.cells[-1].output_size}")

    def _check_blocks(self, blocks):
        from .blocks import GLUBlocks
        w = "SequenceModel"
        if not isinstance(blocks, GLUBlocks):
            raise ArgumentTypeError(f"{w}: blocks must be None or a GLUBlocks (build_model("
                                    f"..., blocks='glu') makes one); got "
                                    f"{type(blocks).__name__}")
        if blocks.dtype != self.dtype or blocks.backend is not self.backend:
            raise ValueError(f"{w}: the blocks must share the cells' dtype and backend "
                             f"({self.dtype}/{self.backend.name}); got {blocks.dtype}/"
                             f"{blocks.backend.name}")
        outputs = [c.output_size for c in self.cells]
        if blocks.cell_outputs != outputs:
            raise ValueError(f"{w}: the blocks were made for cell outputs "
                             f"{blocks.cell_outputs}; the cells output {outputs}")
        for k, cell in enumerate(self.cells):
            if cell.input_size != blocks.width:
                raise ValueError(f"{w}: every cell reads the blocks' stream of width "
                                 f"{blocks.width}; layer {k} ({cell.name}) expects "
                                 f"{cell.input_size}")
        if self.readout.in_features != blocks.width:
            raise ValueError(f"{w}: readout expects {self.readout.in_features} features but "
                             f"the blocks' stream is {blocks.width} wide")

    @property
    def params(self) -> dict:
        flat = {}
        for k, cell in enumerate(self.cells):
            flat.update({f"cell{k}.{n}": p for n, p in cell.params.items()})
        if self.blocks is not None:
            flat.update(self.blocks.params)
        flat.update({f"readout.{n}": p for n, p in self.readout.params.items()})
        return flat

    @property
    def input_size(self):
        return self.cells[0].input_size if self.blocks is None else self.blocks.input_size

    def num_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def forward(self, x, state0=None):
        """x (T, B, D) -> y, cache. ``state0``: a list with one state tuple (or None)
        per layer; the final states are in ``cache.state_T`` (for truncated BPTT).
        ``cache.aux_loss`` sums the layers' auxiliary losses (0.0 if none has one): a
        training loss must add it; each cell's backward already includes its gradient."""
        if state0 is None:
            state0 = [None] * len(self.cells)
        if not isinstance(state0, (list, tuple)) or len(state0) != len(self.cells):
            got = f"{len(state0)} entries" if isinstance(state0, (list, tuple)) else \
                type(state0).__name__
            raise ValueError(f"SequenceModel.forward: state0 must be None or a list of "
                             f"{len(self.cells)} per-layer states (each a tuple or None); "
                             f"got {got}")
        blocks, caches, state_T, h = self.blocks, [], [], x
        if blocks is not None:
            # what the first cell would say of x, said of the caller's x: the cell sees
            # the encoder's output, of another width
            _check_array(x, "x", "SequenceModel.forward", self.backend, self.dtype, ndim=3,
                         last=blocks.input_size, finite=True)
            if 0 in x.shape[:2]:
                raise ValueError(f"SequenceModel.forward: x must have T >= 1 and B >= 1; "
                                 f"got shape {tuple(x.shape)}")
            h, encoder_cache = blocks.encode(x)
        for k, (cell, s0) in enumerate(zip(self.cells, state0)):
            try:
                h, sT, c = cell.forward(h, s0) if blocks is None else \
                    blocks.layer(k, cell, h, s0)
            except (TypeError, ValueError) as error:
                if s0 is None or type(error) not in _NAMED_ERRORS or \
                        "state0" not in str(error):
                    raise
                # the cell's message names its state0; which entry of the list is it?
                raise type(error)(f"SequenceModel.forward: state0[{k}] (layer {k}): "
                                  f"{error}") from None
            caches.append(c)
            state_T.append(sT)
        if blocks is not None:
            h, final_cache = blocks.final(h)
            caches, blocks_caches = [c.cell for c in caches], caches
        y, readout_cache = self.readout.forward(h)
        aux = sum(getattr(c, "aux_loss", 0.0) for c in caches)   # e.g. a Skip RNN budget
        cache = Cache(cells=caches, readout=readout_cache, state_T=state_T, aux_loss=aux,
                      _owner=self)
        if blocks is not None:
            cache.blocks = (encoder_cache, blocks_caches, final_cache)
        return y, cache

    def backward(self, dy, cache):
        """dL/dy -> (dL/dx, grads with the keys of ``params``); ``grads.dh_norm`` is
        the first layer's per-step ||dL/dh_t||."""
        _check_cache(cache, self, "SequenceModel.backward")
        dh, rgrads = self.readout.backward(dy, cache.readout, "SequenceModel.backward")
        grads = Gradients({f"readout.{n}": g for n, g in rgrads.items()})
        blocks = self.blocks
        if blocks is not None:
            encoder_cache, blocks_caches, final_cache = cache.blocks
            dh, block_grads = blocks.final_backward(dh, final_cache)
            grads.update(block_grads)
        for k in reversed(range(len(self.cells))):
            if blocks is None:
                dh, _, cgrads = self.cells[k].backward(dh, cache.cells[k])
            else:
                dh, cgrads, block_grads = blocks.layer_backward(k, self.cells[k], dh,
                                                                blocks_caches[k])
                grads.update(block_grads)
            grads.update({f"cell{k}.{n}": g for n, g in cgrads.items()})
            grads.dh_norm = cgrads.dh_norm
        if blocks is not None:
            dh, block_grads = blocks.encode_backward(dh, encoder_cache)
            grads.update(block_grads)
        ordered = Gradients({k: grads[k] for k in self.params})
        ordered.dh_norm = grads.dh_norm
        return dh, ordered


def build_model(cell, input_size, hidden_size, output_size, *, layers=1, readout="all",
                blocks=None, seed=0, dtype=np.float64, backend="numpy",
                **cell_options) -> SequenceModel:
    """A stack of ``layers`` cells named ``cell`` plus a linear readout.

    ``blocks``: None, the cells feed each other directly; or ``"glu"``, every cell sits in
    a residual block (:mod:`rnnzoo.training.blocks`: an encoder to ``hidden_size``, layer
    norm, the cell, GELU, a GLU map back, a final norm), as S4, the LRU and Mamba stack
    their recurrences; then every cell reads ``hidden_size`` features.

    Layer k is seeded with ``seed + k``, the readout with ``seed + layers`` and the blocks
    with ``seed + layers + 1``, so the whole model is reproducible from one seed.
    """
    from .blocks import BLOCKS, make_blocks
    w = "build_model"
    layers = check_int(layers, "layers", minimum=1, where=w)
    output_size = check_int(output_size, "output_size", minimum=1, where=w)
    readout = check_choice(readout, "readout", READOUTS, where=w)
    if blocks is not None:
        blocks = check_choice(blocks, "blocks (None or a kind)", BLOCKS, where=w)
        input_size = check_int(input_size, "input_size", minimum=1, where=w)
        hidden_size = check_int(hidden_size, "hidden_size", minimum=1, where=w)
    seed = check_seed(seed, where=w)
    cells, size = [], input_size if blocks is None else hidden_size
    for k in range(layers):
        c = make(cell, size, hidden_size, seed=seed + k, dtype=dtype, backend=backend,
                 **cell_options)
        cells.append(c)
        size = c.output_size if blocks is None else hidden_size
    head = Linear(size, output_size, readout=readout, seed=seed + layers, dtype=dtype,
                  backend=backend)
    stack = make_blocks(blocks, input_size, hidden_size, [c.output_size for c in cells],
                        seed=seed + layers + 1, dtype=cells[0].dtype,
                        backend=cells[0].backend)
    return SequenceModel(cells, head, blocks=stack)
