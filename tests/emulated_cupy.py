"""CuPy's ways of failing, emulated on the CPU, so the CuPy suite runs without a GPU.

The CI machine has no GPU, so ``tests/test_cupy.py`` is skipped there, and a cell added
since the last GPU session could break on CuPy unseen. Most such breaks are not in the
arithmetic (CuPy computes what NumPy does) but in the seams this module reproduces:

* a **device array** type that is *not* a ``numpy.ndarray`` (``isinstance`` is False, as
  for ``cupy.ndarray``), computing with NumPy underneath;
* a NumPy array (0-d too) **mixed with a device array** in a ufunc, an operator or
  a function is a ``TypeError``, as CuPy raises one; so is a host array passed to any
  ``xp`` function but ``asarray``/``array``/``asnumpy`` (the transfers);
* **implicit conversion** to NumPy (``np.asarray(device)``) is a ``TypeError``; ``.get()``
  and ``cupy.asnumpy`` are the explicit way;
* **synchronization**: ``float``/``int``/``bool``/``.item()``/``.get()``/``.tolist()``/
  ``repr`` of a device array, and boolean-mask indexing, raise
  ``cupyx.DeviceSynchronized`` inside ``cupyx.allow_synchronize(False)``;
* only the **names CuPy has** (``tests/data/cupy_names.json``: the public names of
  ``cupy``, ``cupy.linalg``, ``cupy.fft``, ``cupy.random`` and ``cupy.ndarray``, read off
  CuPy 14.2.0's ``dir()``; ``pip install cupy-cuda12x`` imports without a GPU):
  ``xp.X``, ``np.X(device_array)`` and ``device_array.X`` for a name CuPy lacks are
  errors; of the ufunc methods, ``reduce`` and ``accumulate`` exist for
  ``add`` and ``multiply`` only, ``reduceat`` for ``add``, ``at`` for seven (CuPy's
  ``_kernel.pyx``);
* a host array assigned through a basic index (``dev[1:] = host``) is CuPy's
  ``ValueError``; through an index array it is copied to the device, as CuPy does;
* reductions return **0-d device arrays**, not NumPy scalars.

What it does not emulate: CuPy's kernels (its float results can differ from NumPy's in
the last bits; the real suite's tolerances allow for that), its dtype rules where they
differ from NumPy's, streams, memory pools and timing. So passing here is necessary, not
sufficient: the GPU session still runs the real thing (``scripts/gpu_check.sh``).

:func:`installed` puts ``cupy`` and ``cupyx`` modules built from this file into
``sys.modules`` and points rnnzoo's backend at them, for the length of a with-block.
"""
from __future__ import annotations

import contextlib
import json
import pathlib
import sys
import threading
import types

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

_NAMES = json.loads((pathlib.Path(__file__).parent / "data" / "cupy_names.json").read_text())
NAMES = {"": set(_NAMES["cupy"]), "linalg": set(_NAMES["linalg"]), "fft": set(_NAMES["fft"]),
         "random": set(_NAMES["random"])}
ARRAY_ATTRIBUTES = {n for n in _NAMES["ndarray"] if not n.startswith("_")}
# the ufuncs that have each method in CuPy 14 (its _kernel.pyx); outer: every ufunc
UFUNC_METHODS = {"reduce": {"add", "multiply"}, "accumulate": {"add", "multiply"},
                 "reduceat": {"add"},
                 "at": {"add", "subtract", "maximum", "minimum", "bitwise_and", "bitwise_or",
                        "bitwise_xor"}}
TRANSFERS = {"asarray", "array", "asanyarray", "ascontiguousarray", "asnumpy"}


class DeviceSynchronized(RuntimeError):
    """What cupyx raises for a synchronization inside allow_synchronize(False)."""


_sync = threading.local()


def _synchronize(what):
    if getattr(_sync, "allowed", True) is False:
        raise DeviceSynchronized(f"emulated CuPy: {what} synchronizes with the device")


@contextlib.contextmanager
def allow_synchronize(allow):
    before = getattr(_sync, "allowed", True)
    _sync.allowed = bool(allow)
    try:
        yield
    finally:
        _sync.allowed = before


def _host_read(what, read):
    def method(self):
        _synchronize(what)
        return read(self._a)
    method.__name__ = what
    return method


# ------------------------------------------------------------------ the device array
def _component(name):
    """The ``real``/``imag`` property: a device view to read, a device array to assign."""
    return property(lambda self: ndarray(getattr(self._a, name)),
                    lambda self, value: setattr(self._a, name, _device_only(value, name)))


class ndarray(NDArrayOperatorsMixin):
    """A device array: a NumPy array inside, never a NumPy array outside."""

    __slots__ = ("_a",)
    __array_priority__ = 100

    def __init__(self, host):
        if not isinstance(host, np.ndarray):
            raise TypeError(f"emulated CuPy: ndarray wraps a numpy.ndarray, got {type(host)}")
        self._a = host

    # -- the NumPy protocols: compute on the insides, refuse host arrays
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        where = f"{ufunc.__name__}.{method}" if method != "__call__" else ufunc.__name__
        if ufunc.__name__ not in NAMES[""]:
            raise TypeError(f"emulated CuPy: CuPy has no ufunc {ufunc.__name__!r}")
        _check_method(ufunc.__name__, method, where)
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(_device_only(o, where) for o in out)
        result = getattr(ufunc, method)(*(_device_only(x, where) for x in inputs), **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types_, args, kwargs):
        module = func.__module__.split(".")[-1] if func.__module__ else ""
        space = module if module in ("linalg", "fft", "random") else ""
        if func.__name__ not in NAMES[space]:
            raise TypeError(f"emulated CuPy: CuPy has no {space + '.' if space else ''}"
                            f"{func.__name__}")
        return _wrap(func(*_unwrap(args, func.__name__), **_unwrap(kwargs, func.__name__)))

    def __array__(self, dtype=None, copy=None):
        raise TypeError("emulated CuPy: implicit conversion to a NumPy array is not allowed; "
                        "use .get() to construct a NumPy array explicitly")

    # -- what CuPy's ndarray has
    def __getattr__(self, name):
        if name not in ARRAY_ATTRIBUTES:
            raise AttributeError(f"emulated CuPy: cupy.ndarray has no attribute {name!r}")
        attr = getattr(self._a, name)
        if not callable(attr):
            return _wrap(attr)
        return lambda *args, **kwargs: _wrap(attr(*_unwrap(args, name), **_unwrap(kwargs, name)))

    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    T = property(lambda self: ndarray(self._a.T))

    real = _component("real")
    imag = _component("imag")

    # the host reads: each waits for the device
    get = _host_read("get()", np.ndarray.copy)
    item = _host_read("item()", np.ndarray.item)
    tolist = _host_read("tolist()", np.ndarray.tolist)
    __float__ = _host_read("float()", float)
    __int__ = _host_read("int()", int)
    __complex__ = _host_read("complex()", complex)
    __index__ = _host_read("an index", np.ndarray.__index__)
    __bool__ = _host_read("bool()", bool)
    __repr__ = _host_read("repr()", lambda a: "emulated cupy." + repr(a))

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(row) for row in self._a)

    def __getitem__(self, key):
        return _wrap(self._a[_index(key)])

    def __setitem__(self, key, value):
        if isinstance(value, (np.ndarray, list, tuple)) and np.shape(value) != () \
                and _is_basic(key):
            # CuPy refuses a host array through a basic index ("Refuse assignment from CPU
            # arrays") and falls back on fill(), which takes scalars only
            raise ValueError("emulated CuPy: non-scalar numpy.ndarray cannot be used for fill")
        self._a[_index(key)] = value._a if isinstance(value, ndarray) else value

    __hash__ = None


ndarray.__module__ = "cupy"        # rnnzoo names an array's type by its module: cupy.ndarray


def _check_method(name, method, where):
    if method in UFUNC_METHODS and name not in UFUNC_METHODS[method]:
        raise NotImplementedError(f"emulated CuPy: {where} is not supported in CuPy")


def _is_basic(key):
    """Ints, slices, Ellipsis and None only: no index array."""
    keys = key if isinstance(key, tuple) else (key,)
    return all(k is None or k is Ellipsis or isinstance(k, (int, np.integer, slice))
               for k in keys)


def _index(key):
    """Indices may be device or host arrays; a boolean mask's result size needs the host."""
    keys = key if isinstance(key, tuple) else (key,)
    plain = []
    for k in keys:
        if isinstance(k, ndarray):
            if k.dtype == bool:
                _synchronize("boolean-mask indexing")
            k = k._a
        plain.append(k)
    return tuple(plain) if isinstance(key, tuple) else plain[0]


def _device_only(x, where):
    """The NumPy array inside a device array; a host array, 0-d too, is CuPy's TypeError
    (its kernels take device arrays and scalars, Python's or NumPy's, nothing else)."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, np.ndarray):
        raise TypeError(f"emulated CuPy: {where} got a numpy.ndarray of shape {x.shape} "
                        f"beside device arrays (CuPy: Unsupported type numpy.ndarray)")
    return x


def _unwrap(obj, where):
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(o, where) for o in obj)
    if isinstance(obj, dict):
        return {k: _unwrap(v, where) for k, v in obj.items()}
    return _device_only(obj, where)


def _wrap(obj):
    """NumPy results as device arrays; a NumPy scalar as a 0-d one, as CuPy returns."""
    if isinstance(obj, np.ndarray):
        return ndarray(obj)
    if isinstance(obj, np.generic):
        return ndarray(np.asarray(obj))
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):        # eigh's named result
        return type(obj)(*(_wrap(o) for o in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_wrap(o) for o in obj)
    return obj


# ------------------------------------------------------------------ the modules
class _Ufunc:
    """xp.tanh and friends: a device ufunc that refuses host arrays."""

    def __init__(self, ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__
        self.nin, self.nout = ufunc.nin, ufunc.nout

    def _apply(self, method, args, kwargs):
        where = self.__name__ if method == "__call__" else f"{self.__name__}.{method}"
        _check_method(self.__name__, method, where)
        out = kwargs.get("out")
        if out is not None:
            out = out if isinstance(out, tuple) else (out,)
            kwargs["out"] = tuple(_device_only(o, where) for o in out)
        result = getattr(self._ufunc, method)(*_unwrap(args, where), **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __call__(self, *args, **kwargs):
        return self._apply("__call__", args, kwargs)

    def __getattr__(self, method):
        if method not in ("reduce", "accumulate", "reduceat", "outer", "at"):
            return getattr(self._ufunc, method)
        return lambda *args, **kwargs: self._apply(method, args, kwargs)


def _function(func, name):
    def device_function(*args, **kwargs):
        if name in TRANSFERS:
            return _transfer(name, *args, **kwargs)
        return _wrap(func(*_unwrap(args, name), **_unwrap(kwargs, name)))
    device_function.__name__ = name
    return device_function


def _transfer(name, a, *args, **kwargs):
    if name == "asnumpy":
        return a.get() if isinstance(a, ndarray) else np.asarray(a, *args, **kwargs)
    if isinstance(a, ndarray):
        a = a._a
    host = np.array(a, *args, **kwargs)      # a copy: the device has memory of its own
    return ndarray(host)


def _namespace(space, source):
    """A module whose attributes are CuPy's names, done by NumPy on device arrays."""
    module = types.ModuleType("cupy" + ("." + space if space else ""))

    def getattr_(name):
        if name not in NAMES[space] and name not in TRANSFERS:
            raise AttributeError(f"emulated CuPy: module {module.__name__!r} has no "
                                 f"attribute {name!r}")
        if name == "asnumpy":
            return _function(None, name)
        obj = getattr(source, name)
        if isinstance(obj, np.ufunc):
            return _Ufunc(obj)
        if isinstance(obj, type) or not callable(obj):
            return obj                       # dtypes, classes, constants
        return _function(obj, name)
    module.__getattr__ = getattr_
    return module


def _build():
    cupy = _namespace("", np)
    cupy.ndarray = ndarray
    cupy.linalg = _namespace("linalg", np.linalg)
    cupy.fft = _namespace("fft", np.fft)
    cupy.random = _namespace("random", np.random)
    cupy.__version__ = "emulated (names of CuPy " + _NAMES["cupy_version"] + ")"
    device = types.SimpleNamespace(synchronize=lambda: None, id=0)
    cupy.cuda = types.SimpleNamespace(
        Device=lambda *a: device,
        runtime=types.SimpleNamespace(getDeviceCount=lambda: 1,
                                      getDeviceProperties=lambda i: {"name": b"emulated"}))
    cupyx = types.ModuleType("cupyx")
    cupyx.allow_synchronize = allow_synchronize
    cupyx.DeviceSynchronized = DeviceSynchronized
    return cupy, cupyx


@contextlib.contextmanager
def installed():
    """Inside the block ``import cupy`` and rnnzoo's backend="cupy" get the emulation."""
    from rnnzoo.core import backend
    saved = {name: sys.modules.get(name) for name in ("cupy", "cupyx")}
    saved_backend = backend._cupy_backend
    sys.modules["cupy"], sys.modules["cupyx"] = _build()
    backend._cupy_backend = None                     # _load_cupy imports the emulation
    try:
        yield sys.modules["cupy"]
    finally:
        backend._cupy_backend = saved_backend
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
