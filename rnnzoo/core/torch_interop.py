"""Convert between rnnzoo cells and PyTorch's ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``.

rnnzoo's ``rnn``, ``lstm`` and ``gru`` cells use exactly PyTorch's equations, gate order
and parameter shapes, so conversion is a copy of four arrays::

    W_ih <-> weight_ih_l0    W_hh <-> weight_hh_l0    b_ih <-> bias_ih_l0    b_hh <-> bias_hh_l0

    cell = rnnzoo.from_torch(torch.nn.LSTM(3, 5, dtype=torch.float64))
    module = rnnzoo.to_torch(cell)

Only single-layer, unidirectional modules with biases and time-major input
(``num_layers=1, bidirectional=False, bias=True, batch_first=False``, no ``proj_size``)
have an rnnzoo counterpart. The dtype (float32 or float64) follows the source.

PyTorch is optional: it is imported only inside these functions.
"""
from __future__ import annotations

import numpy as np

from .backend import to_numpy
from .base import RecurrentCell
from .registry import make
from .validation import ArgumentTypeError, describe

_PARAM_NAMES = {"W_ih": "weight_ih_l0", "W_hh": "weight_hh_l0",
                "b_ih": "bias_ih_l0", "b_hh": "bias_hh_l0"}
_SUPPORTED = ("supported: torch.nn.RNN (nonlinearity 'tanh' or 'relu'), torch.nn.LSTM and "
              "torch.nn.GRU with num_layers=1, bidirectional=False, bias=True, "
              "batch_first=False (and proj_size=0 for LSTM), in float32 or float64")


def _import_torch():
    try:
        import torch
    except ImportError as exc:
        raise ImportError("rnnzoo's PyTorch conversion needs PyTorch: `pip install torch`") \
            from exc
    return torch


def _kind_of(module, torch):
    """rnnzoo cell name and options for a torch module (exact types only)."""
    nn = torch.nn
    if type(module) is nn.RNN:
        return "rnn", {"nonlinearity": module.nonlinearity}
    if type(module) is nn.LSTM:
        return "lstm", {}
    if type(module) is nn.GRU:
        return "gru", {}
    raise TypeError(f"from_torch: cannot convert a {type(module).__module__}."
                    f"{type(module).__name__}; {_SUPPORTED}")


def from_torch(module, *, backend="numpy"):
    """A new rnnzoo cell with the parameters of ``module`` (copied; the module is untouched).

    ``module`` is a ``torch.nn.RNN``, ``torch.nn.LSTM`` or ``torch.nn.GRU``; see the module
    docstring for which configurations are supported.
    """
    torch = _import_torch()
    name, options = _kind_of(module, torch)
    unsupported = []
    if module.num_layers != 1:
        unsupported.append(f"num_layers={module.num_layers}")
    if module.bidirectional:
        unsupported.append("bidirectional=True")
    if not module.bias:
        unsupported.append("bias=False")
    if module.batch_first:
        unsupported.append("batch_first=True")
    if getattr(module, "proj_size", 0):
        unsupported.append(f"proj_size={module.proj_size}")
    weights = {ours: getattr(module, theirs, None) for ours, theirs in _PARAM_NAMES.items()}
    dtypes = {w.dtype for w in weights.values() if w is not None}
    if not unsupported and dtypes - {torch.float32, torch.float64}:
        unsupported.append(f"dtype={dtypes.pop()}")
    elif not unsupported and len(dtypes) > 1:    # the cell would hold mixed dtypes
        unsupported.append("parameters of mixed dtypes (" + ", ".join(
            f"{theirs} {getattr(module, theirs).dtype}" for theirs in _PARAM_NAMES.values())
            + ")")
    if unsupported:
        raise ValueError(f"from_torch: {type(module).__name__} with {', '.join(unsupported)} "
                         f"has no rnnzoo counterpart; {_SUPPORTED}")
    host = {k: w.detach().cpu().numpy() for k, w in weights.items()}
    dtype = host["W_ih"].dtype
    cell = make(name, module.input_size, module.hidden_size, dtype=dtype, backend=backend,
                **options)
    for k, value in host.items():
        if tuple(value.shape) != tuple(cell.params[k].shape):   # guards against a mismatch
            raise ValueError(f"from_torch: {_PARAM_NAMES[k]} has shape {tuple(value.shape)}; "
                             f"expected {tuple(cell.params[k].shape)}")
        cell.params[k] = cell.backend.asarray(value.copy())
    return cell


def to_torch(cell):
    """A new ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` (on the CPU) with the cell's parameters.

    Works for rnnzoo's ``rnn`` (tanh or relu), ``lstm`` and ``gru`` cells.
    """
    if not isinstance(cell, RecurrentCell):
        raise ArgumentTypeError(f"to_torch: cell must be an rnnzoo cell (rnnzoo.make('gru', "
                                f"input_size, hidden_size)); got {describe(cell)}")
    torch = _import_torch()
    classes = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
    if cell.name not in classes:
        raise TypeError(f"to_torch: cell '{cell.name}' has no PyTorch counterpart; "
                        f"supported cells: {', '.join(classes)}")
    kwargs = {"nonlinearity": cell.nonlinearity} if cell.name == "rnn" else {}
    dtype = {np.float32: torch.float32, np.float64: torch.float64}[cell.dtype.type]
    module = classes[cell.name](cell.input_size, cell.hidden_size, num_layers=1, bias=True,
                                batch_first=False, bidirectional=False, dtype=dtype, **kwargs)
    with torch.no_grad():
        for ours, theirs in _PARAM_NAMES.items():
            value = np.array(to_numpy(cell.params[ours]), copy=True)
            getattr(module, theirs).copy_(torch.from_numpy(value))
    return module
