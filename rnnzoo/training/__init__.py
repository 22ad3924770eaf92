"""Training: what turns a cell into a model and a model into a trained one.

===================  ==============================================================
``model``            linear readout, losses, the stacked ``SequenceModel``
``optim``            SGD, RMSprop, Adam, clipping, constraints
``tasks/``           the tasks, generated offline from a seed; one module per family
``trainer``          the training loop (``Trainer``, ``train``) and ``evaluate``
``history``          what a run records (``History``), and whether it solved the task
``checkpoint``       safe checkpoints (.npz + JSON, atomic, no pickle)
``checkpoint_file``  reading a checkpoint file safely and checking its metadata
``plotting``         learning curves against each task's baseline; one colour per cell
===================  ==============================================================
"""
from .trainer import History, Trainer, evaluate, train

__all__ = ["History", "Trainer", "evaluate", "train"]
