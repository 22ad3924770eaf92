"""The registry of cells: ``@register("name")`` on a class, ``make("name", ...)`` to build."""
from __future__ import annotations

from .base import RecurrentCell
from .validation import ArgumentTypeError, describe

_CELLS: dict = {}


def _check_name(name, where):
    if not isinstance(name, str):
        raise ArgumentTypeError(f"{where}: a cell's name must be a str; got {describe(name)}")


def register(name: str):
    """Class decorator: make a cell available as ``rnnzoo.make(name, ...)``.

    The name must be a Python identifier (``my_cell``): the command line names cells in
    ``--cells NAME`` and ``NAME:KEY=VALUE``, where a space, comma, colon or '=' in a name
    could not be told apart from the syntax."""
    _check_name(name, "register")
    if not name.isidentifier():
        raise ValueError(f"register: a cell's name must be an identifier (letters, digits "
                         f"and '_', not starting with a digit); got {name!r}")

    def decorate(cls):
        if not (isinstance(cls, type) and issubclass(cls, RecurrentCell)):
            raise ArgumentTypeError(f"register({name!r}): expected a subclass of "
                                    f"rnnzoo.RecurrentCell; got {describe(cls)}")
        if name in _CELLS and _CELLS[name] is not cls:
            raise ValueError(f"a cell named {name!r} is already registered ({_CELLS[name]})")
        cls.name = name
        _CELLS[name] = cls
        return cls
    return decorate


def available() -> list:
    """Sorted names of every registered cell."""
    return sorted(_CELLS)


def get_cell_class(name: str):
    _check_name(name, "get_cell_class")
    try:
        return _CELLS[name]
    except KeyError:
        raise ValueError(f"no cell named {name!r}; available: {', '.join(available())}") from None


def make(name: str, input_size: int, hidden_size: int, **kwargs):
    """Build a registered cell: ``make("lstm", input_size=3, hidden_size=5, seed=0,
    dtype=np.float64, backend="numpy", **cell_options)``."""
    _check_name(name, "make")
    return get_cell_class(name)(input_size, hidden_size, **kwargs)
