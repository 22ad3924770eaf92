"""rnnzoo: recurrent cells from scratch in NumPy, with hand-written BPTT checked by
finite differences.

>>> import numpy as np, rnnzoo
>>> cell = rnnzoo.make("lstm", input_size=3, hidden_size=5, seed=0)
>>> hs, state_T, cache = cell.forward(np.zeros((7, 2, 3)))
>>> dx, dstate0, grads = cell.backward(np.ones_like(hs), cache)
"""
from . import cells  # noqa: F401  (registers every cell)
from .backend import cupy_available, get_backend, to_numpy
from .base import Cache, Gradients, RecurrentCell
from .gradcheck import GradcheckReport, gradcheck
from .model import Linear, SequenceModel, build_model, mse_loss, softmax_cross_entropy
from .registry import available, get_cell_class, make, register
from . import experiments, optim, tasks  # noqa: F401  (rnnzoo.optim.Adam, rnnzoo.experiments.compare, ...)
from .checkpoint import load_checkpoint, save_checkpoint
from .tasks import make_task
from .charlm import sample
from .torch_interop import from_torch, to_torch
from .training import History, Trainer, train

__version__ = "0.1.0"

__all__ = ["available", "make", "register", "get_cell_class", "gradcheck", "GradcheckReport",
           "RecurrentCell", "Cache", "Gradients", "get_backend", "to_numpy", "cupy_available",
           "Linear", "SequenceModel", "build_model", "mse_loss", "softmax_cross_entropy",
           "optim", "tasks", "sample", "experiments", "make_task", "train", "Trainer", "History", "save_checkpoint",
           "load_checkpoint", "from_torch", "to_torch"]
