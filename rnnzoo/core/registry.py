"""The registry of cells: ``@register("name")`` on a class, ``make("name", ...)`` to build."""
from __future__ import annotations

from .base import RecurrentCell
from .validation import ArgumentTypeError, describe

_CELLS: dict = {}


def _check_name(name, where):
    if isinstance(name, RecurrentCell) or (isinstance(name, type)
                                           and issubclass(name, RecurrentCell)):
        raise ArgumentTypeError(f"{where}: a cell is named by the str it was registered "
                                f"under (rnnzoo.available() lists them; a cell of your own "
                                f"gets one with @rnnzoo.register(\"name\") on its class); "
                                f"got {describe(name)}")
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
        if name in _CELLS and _CELLS[name] is not cls and not _redefined(_CELLS[name], cls):
            raise ValueError(f"a cell named {name!r} is already registered ({_CELLS[name]}); "
                             f"register this one under another name")
        cls.name = name
        _CELLS[name] = cls
        return cls
    return decorate


def _redefined(old, new):
    """The same class defined again (a notebook cell run twice, a module reloaded): the
    new definition replaces the old under its name, as Python's own names do."""
    return (old.__module__, old.__qualname__) == (new.__module__, new.__qualname__)


def available() -> list:
    """Sorted names of every registered cell."""
    return sorted(_CELLS)


def get_cell_class(name: str):
    _check_name(name, "get_cell_class")
    try:
        return _CELLS[name]
    except KeyError:
        raise ValueError(f"no cell named {name!r}; available: {', '.join(available())} (a "
                         f"cell of your own is known once the module that registers it is "
                         f"imported)") from None


def make(name: str, input_size: int, hidden_size: int, **kwargs):
    """Build a registered cell: ``make("lstm", input_size=3, hidden_size=5, seed=0,
    dtype=np.float64, backend="numpy", **cell_options)``."""
    _check_name(name, "make")
    return get_cell_class(name)(input_size, hidden_size, **kwargs)
