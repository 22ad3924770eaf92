"""What a comparison runs: the :class:`Budget` every run shares, the :class:`Variant`
(a cell with its options) and the fair defaults a variant gets."""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import inspect
import math
from dataclasses import dataclass, field

import numpy as np

from ...benchmark.timing import check_dtype
from ...core.registry import available, get_cell_class
from ...core.validation import (ArgumentTypeError, check_choice, check_float, check_int,
                                describe)
from ...training.blocks import BLOCKS
from ...training.model import build_model
from ...training.optim import OPTIMIZERS

# the keywords Comparison.plot gives every median line itself (a style that set one of them
# would fail there, after the runs, as a repeated keyword or matplotlib's lw/linewidth clash)
PLOT_OWN_KEYWORDS = ("label", "lw", "linewidth")

FAIR_DEFAULTS = {
    "lstm": lambda task: {"forget_bias": 1.0},
    "janet": lambda task: {"t_max": max(int(task.T), 2)},
}


# Budget fields added after runs were stored and recorded, with the value they all had
_LATER_FIELDS = {"blocks": None}


@dataclass(frozen=True)
class Budget:
    """What every run of a comparison gets; printed on the figure."""
    steps: int = 1000
    batch_size: int = 32
    lr: float = 1e-2
    optimizer: str = "adam"
    clip: float | None = 1.0
    hidden: int = 64
    layers: int = 1
    dtype: str = "float32"
    eval_every: int | None = None     # None: about 20 evaluations per run
    eval_size: int = 500
    tbptt: int | None = None
    blocks: str | None = None         # None: bare cells; "glu": residual GLU blocks

    def __post_init__(self):
        for name in ("steps", "batch_size", "hidden", "layers", "eval_size"):
            check_int(getattr(self, name), f"Budget.{name}", minimum=1)
        if self.eval_every is not None:
            check_int(self.eval_every, "Budget.eval_every", minimum=1)
        if self.tbptt is not None:
            check_int(self.tbptt, "Budget.tbptt", minimum=1)
        if self.blocks is not None:
            check_choice(self.blocks, "Budget.blocks (None or a kind)", BLOCKS)
        for name in ("lr",) + (("clip",) if self.clip is not None else ()):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating,
                                                                 np.integer)) \
                    or not math.isfinite(value) or value <= 0:
                raise ValueError(f"Budget.{name} must be a positive finite number; "
                                 f"got {value!r}")
        # what a cell's dtype takes (np.float32, np.dtype("float64"), "f4"), kept as its
        # name: the figures print it, and the runs' fingerprints and records carry it
        object.__setattr__(self, "dtype", check_dtype(self.dtype, "Budget"))
        _check_optimizer(self.optimizer)

    def record(self) -> dict:
        """The fields as a stored run's fingerprint and a reproduction's record keep
        them: a field added after runs were stored is left out while it has the value
        those runs had, so they still match."""
        return {k: v for k, v in dataclasses.asdict(self).items()
                if k not in _LATER_FIELDS or v != _LATER_FIELDS[k]}

    @property
    def every(self) -> int:
        return self.eval_every or max(self.steps // 20, 1)

    def describe(self) -> str:
        clip = f"clip {self.clip:g}" if self.clip is not None else "no clipping"
        tb = f", truncated BPTT {self.tbptt}" if self.tbptt else ""
        depth = f" x {self.layers} layers" if self.layers > 1 else ""
        depth += f" in {self.blocks.upper()} blocks" if self.blocks else ""
        return (f"H = {self.hidden}{depth}, {self.optimizer} lr {self.lr:g}, batch "
                f"{self.batch_size}, {clip}, {self.steps} steps{tb}, {self.dtype}")


@functools.lru_cache(maxsize=None)
def _class_version(cls):
    """A digest of the class's source (None where Python cannot show it); once a class,
    since inspect reads its file."""
    try:
        return hashlib.sha256(inspect.getsource(cls).encode()).hexdigest()
    except (OSError, TypeError):
        return None


def _register_here(cell, module, version=None):
    """A worker that was spawned (macOS, Windows; a cluster's) starts with rnnzoo's own
    cells only: a cell of your own is registered there by importing the module that
    defined it, as the parent did (a script's __main__ is re-run there as __mp_main__;
    a notebook's, or a class defined under ``if __name__ == "__main__":``, cannot be
    imported, and the error says what to do instead). A long-lived worker that imported
    an older version of the class (edited and reloaded since) is refused, not trained."""
    if cell not in available() and module is not None:
        if module == "__main__":
            raise ValueError(f"Variant({cell!r}): the cell {cell!r} was registered in the "
                             f"parent process's __main__ (a notebook, or a script's "
                             f"'if __name__ == \"__main__\":' block), which this spawned "
                             f"worker cannot import: define its class in a module and "
                             f"import it from there, or run compare with workers=1")
        importlib.import_module(module)
    here = _class_version(get_cell_class(cell)) if version is not None else None
    if here is not None and here != version:
        raise ValueError(f"Variant({cell!r}): this worker holds another version of the cell "
                         f"{cell!r} than the process that made the Variant (the class was "
                         f"edited since the worker imported it): start a new worker pool, "
                         f"or restart the cluster's workers")


def _fair_defaults(cell, task) -> dict:
    return FAIR_DEFAULTS.get(cell, lambda t: {})(task)


def _check_optimizer(name):
    """Here, not when the first run builds its optimizer: a Budget is made long before
    (the Trainer, like make_optimizer, takes the name in any case: "Adam" is adam)."""
    expected = f"one of {sorted(OPTIMIZERS)}"
    if not isinstance(name, str):
        raise ArgumentTypeError(f"Budget.optimizer must be {expected}; got {describe(name)}")
    if name.lower() not in OPTIMIZERS:
        raise ValueError(f"Budget.optimizer must be {expected}; got {describe(name)}")


def _check_dict_or_none(value, name, where, keys="names (str)"):
    """A mapping argument, named by str keys: iterating a string would read each character
    as a key, and a key of another type can name no option or field."""
    if value is not None and not isinstance(value, dict):
        raise ArgumentTypeError(f"{where}: {name} must be None or a dict; got "
                                f"{describe(value)}")
    bad = [k for k in value or {} if not isinstance(k, str)]
    if bad:
        raise ArgumentTypeError(f"{where}: {name}'s keys must be {keys}; got "
                                f"{', '.join(describe(k) for k in bad)}")


@dataclass(frozen=True)
class Variant:
    """A cell with its options, a label for legends, and optional per-parameter learning
    rates (``lr_for``, keys like ``"cell0.W_hh"`` or globs like ``"cell*.W_hh"``, values
    learning rates >= 0: 0 freezes that parameter, as in the optimizers) and line style
    (``style``: matplotlib line keywords such as ``{"linestyle": "--"}``).

    ``options=None`` means no options (the cell's defaults plus the fair defaults), like
    ``options={}``. The fields are checked here; the option values and ``lr_for``'s names
    need the model, so :func:`compare` checks them by building it before any run."""
    cell: str
    options: dict | None = field(default_factory=dict)     # None: no options
    label: str | None = None
    lr_for: dict | None = None
    note: str | None = None          # why an unfair setting is used, shown in the caption
    style: dict | None = None
    budget: dict | None = None       # this variant's changes to the shared Budget, e.g.
                                     # {"tbptt": 25} or {"clip": None}: shown in the caption

    def __post_init__(self):
        where = f"Variant({self.cell!r})"
        if not isinstance(self.cell, str):
            raise ArgumentTypeError(f"Variant: cell must be a cell name (a str); got "
                                    f"{describe(self.cell)}")
        _check_dict_or_none(self.options, "options", where)
        _check_dict_or_none(self.budget, "budget", where)
        if self.options is None:
            object.__setattr__(self, "options", {})
        cls = get_cell_class(self.cell)          # a clear error for an unknown cell
        # where the cell's class lives and which version of it, so that a spawned worker
        # registers it too and a long-lived one does not train an older version
        object.__setattr__(self, "_module", cls.__module__)
        object.__setattr__(self, "_version", _class_version(cls))
        unknown = sorted(set(self.options) - set(cls.options))
        if unknown:
            raise ValueError(f"Variant({self.cell!r}): unknown option(s) {unknown}; "
                             f"{self.cell} takes {sorted(cls.options) or 'none'}")
        if self.label is None:
            object.__setattr__(self, "label", self.cell)
        self._check_text_fields(where)
        where = f"Variant {self.label!r}"
        self._check_lr_for(where)
        self._check_style(where)
        if self.budget:
            fields = set(Budget.__dataclass_fields__)
            unknown = sorted(set(self.budget) - fields)
            if unknown:
                raise ValueError(f"Variant {self.label!r}: budget= names unknown Budget "
                                 f"field(s) {unknown}; fields: {sorted(fields)}")
            self._check_budget_values(where)

    def _check_budget_values(self, where):
        """The values of budget=, refused now rather than when compare applies them to the
        shared budget: Budget checks each field on its own, so the default Budget takes
        whatever any shared budget would."""
        try:
            self.budget_for(Budget())
        except (TypeError, ValueError) as error:
            kind = ArgumentTypeError if isinstance(error, TypeError) else ValueError
            raise kind(f"{where}: budget={self.budget} is refused: {error}") from error

    def _check_text_fields(self, where):
        """label names the runs in legends, tables and the store's folders; note goes into
        the caption: a number there would fail only when the first run is saved or shown."""
        expected = "None (the cell's name) or a non-empty str"
        if not isinstance(self.label, str):
            raise ArgumentTypeError(f"{where}: label must be {expected}; got "
                                    f"{describe(self.label)}")
        if not self.label:
            raise ValueError(f"{where}: label must be {expected}; got {describe(self.label)}")
        if self.note is not None and not isinstance(self.note, str):
            raise ArgumentTypeError(f"{where}: note must be None or a str (why an unfair "
                                    f"setting is used); got {describe(self.note)}")

    def _check_lr_for(self, where):
        """The type of lr_for and its rates (what the optimizer will refuse, refused now);
        whether each name matches a parameter is compare's check, on the built model."""
        _check_dict_or_none(self.lr_for, "lr_for", where,
                            keys="parameter names or patterns (str, e.g. 'cell0.W_hh')")
        for pattern, lr in (self.lr_for or {}).items():
            check_float(lr, f"lr_for[{pattern!r}] (a learning rate)", minimum=0.0, where=where)

    def _check_style(self, where):
        """style is a dict of matplotlib line keywords, given to Comparison.plot's lines."""
        expected = "None or a dict of matplotlib line keywords (e.g. {'linestyle': '--'})"
        if self.style is None:
            return
        if not isinstance(self.style, dict) or not all(isinstance(k, str) for k in self.style):
            raise ArgumentTypeError(f"{where}: style must be {expected}; got "
                                    f"{describe(self.style)}")
        own = [k for k in PLOT_OWN_KEYWORDS if k in self.style]
        if own:
            raise ValueError(f"{where}: style must not set {own}: the plot sets the label "
                             f"and line width itself; got {describe(self.style)}")

    def budget_for(self, budget) -> "Budget":
        """The shared budget with this variant's changes (validated like any Budget)."""
        return dataclasses.replace(budget, **self.budget) if self.budget else budget

    def resolved_options(self, task) -> dict:
        """The options the run uses: the fair defaults for this task, then the variant's
        own. Overriding a fair default needs ``note``."""
        fair = _fair_defaults(self.cell, task)
        changed = {k: v for k, v in self.options.items() if k in fair and v != fair[k]}
        if changed and not self.note:
            raise ValueError(f"Variant {self.label!r} overrides the fair default(s) "
                             f"{ {k: fair[k] for k in changed} } with {changed}: a "
                             f"deliberately unfair comparison must say why (note='...')")
        return {**fair, **self.options}

    def build(self, task, budget, seed, dtype=None):
        """The model a run of this variant on ``seed`` trains, as initialized: built for
        ``task`` at the shared ``budget`` with this variant's changes, in ``dtype`` (default
        the budget's), with the options of :meth:`resolved_options`. The cell checks the
        option values here; whether an override of a fair default says why is
        resolved_options' check, which :func:`compare` makes after this one, so that an
        invalid value is named as invalid rather than as an unexplained override."""
        budget = self.budget_for(budget)
        _register_here(self.cell, getattr(self, "_module", None),
                       getattr(self, "_version", None))
        return build_model(self.cell, task.input_size, budget.hidden, task.output_size,
                           layers=budget.layers, blocks=budget.blocks,
                           readout=task.readout, seed=seed,
                           dtype=np.dtype(budget.dtype if dtype is None else dtype),
                           **{**_fair_defaults(self.cell, task), **self.options})

    def describe(self, task) -> str:
        opts = self.resolved_options(task)
        text = f"{self.cell}({', '.join(f'{k}={v!r}' for k, v in opts.items()) or 'default init'})"
        if self.lr_for:
            text += f" lr_for={self.lr_for}"
        if self.budget:
            text += " with " + self.budget_text()
        return text + (f" [{self.note}]" if self.note else "")

    def budget_text(self) -> str:
        """This variant's changes to the shared budget, "clip=None, steps=50" ("" if none)."""
        return ", ".join(f"{k}={v}" for k, v in (self.budget or {}).items())
