"""rnnzoo: recurrent cells from scratch in NumPy, with hand-written BPTT checked by
finite differences.

>>> import numpy as np, rnnzoo
>>> cell = rnnzoo.make("lstm", input_size=3, hidden_size=5, seed=0)
>>> hs, state_T, cache = cell.forward(np.zeros((7, 2, 3)))
>>> dx, dstate0, grads = cell.backward(np.ones_like(hs), cache)

The package is laid out in wings whose imports run one way (tests/test_layout.py checks):

    cli  ->  teaching  ->  benchmark  ->  training  ->  cells, reference  ->  core

``core`` is the cell contract, ``cells`` one module per cell, ``reference`` their textbook
twins, ``training`` models, optimizers, tasks and the Trainer, ``benchmark`` the timings,
``teaching`` the comparison harness, figures and assignments, ``cli`` the commands. This
module is the public face: everything below is importable from ``rnnzoo`` itself.
"""
import sys as _sys

from . import cells  # noqa: F401  (registers every cell)
from .core.backend import cupy_available, get_backend, to_numpy
from .core.base import Cache, Gradients, RecurrentCell
from .core.gradcheck import GradcheckReport, gradcheck
from .core.registry import available, get_cell_class, make, register
from .core.memory import keep_freed_memory
from .core.subnormals import flush_subnormals
from .core.torch_interop import from_torch, to_torch
from .teaching import experiments
from .training import optim, tasks
from .training.checkpoint import load_checkpoint, save_checkpoint
from .training.model import Linear, SequenceModel, build_model, mse_loss, softmax_cross_entropy
from .training.tasks import make_task, sample
from .training.trainer import History, Trainer, evaluate, train

# The public modules keep their short names: ``import rnnzoo.optim``, ``from rnnzoo.tasks
# import make_task`` and ``from rnnzoo.experiments import Budget`` name the same module
# objects as rnnzoo.training.optim, rnnzoo.training.tasks and rnnzoo.teaching.experiments.
# Their submodules too (rnnzoo.experiments.spec, rnnzoo.tasks.memory): every one is loaded
# by its package's __init__ above.
for _short, _module in (("optim", optim), ("tasks", tasks), ("experiments", experiments)):
    for _name in [n for n in _sys.modules if n == _module.__name__
                  or n.startswith(_module.__name__ + ".")]:
        _sys.modules[f"{__name__}.{_short}" + _name[len(_module.__name__):]] = _sys.modules[_name]
del _short, _module, _name

__version__ = "0.1.0"

__all__ = ["available", "make", "register", "get_cell_class", "gradcheck", "GradcheckReport",
           "RecurrentCell", "Cache", "Gradients", "get_backend", "to_numpy", "cupy_available",
           "Linear", "SequenceModel", "build_model", "mse_loss", "softmax_cross_entropy",
           "optim", "tasks", "sample", "experiments", "make_task", "train", "evaluate", "Trainer",
           "History", "save_checkpoint", "load_checkpoint", "from_torch", "to_torch",
           "flush_subnormals", "keep_freed_memory"]
