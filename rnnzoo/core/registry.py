"""The registry of cells: ``@register("name")`` on a class, ``make("name", ...)`` to build."""
from __future__ import annotations

_CELLS: dict = {}


def register(name: str):
    """Class decorator: make a cell available as ``rnnzoo.make(name, ...)``."""
    def decorate(cls):
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
    try:
        return _CELLS[name]
    except KeyError:
        raise ValueError(f"no cell named {name!r}; available: {', '.join(available())}") from None


def make(name: str, input_size: int, hidden_size: int, **kwargs):
    """Build a registered cell: ``make("lstm", input_size=3, hidden_size=5, seed=0,
    dtype=np.float64, backend="numpy", **cell_options)``."""
    return get_cell_class(name)(input_size, hidden_size, **kwargs)
