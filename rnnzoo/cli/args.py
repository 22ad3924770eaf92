"""What every subcommand's parser shares: argparse ``type=`` functions that refuse a bad
value with a usage error naming it, and checks that an output path can be written before
any work starts (a finished measurement is never lost to a bad path)."""
from __future__ import annotations

import argparse
import ast
import importlib
import json
import math
import os
import sys
import tempfile


def parse_option(text):
    """``key=value`` -> (key, value); the value is read as JSON or a Python literal
    (``true``, ``1.5``, ``"relu"``), else kept as a string (``nonlinearity=relu``)."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected key=value; got {text!r}")
    key, raw = text.split("=", 1)
    for parse in (json.loads, ast.literal_eval):
        try:
            return key.strip(), parse(raw)
        except (ValueError, SyntaxError):
            continue
    return key.strip(), raw


def unique_options(pairs, where) -> dict:
    """(key, value) pairs as a dict; a key given twice is refused (argparse's
    ArgumentTypeError, naming ``where`` and both values): the last would win without a
    word."""
    options = {}
    for key, value in pairs:
        if key in options:
            raise argparse.ArgumentTypeError(f"{where} {key}: given twice ({key}="
                                             f"{options[key]!r}, then {key}={value!r}); "
                                             f"give it once")
        options[key] = value
    return options


def options_once(parser, flag, pairs) -> dict:
    """:func:`unique_options` of a repeated ``key=value`` flag, a repeat a usage error."""
    try:
        return unique_options(pairs, flag)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))


def nonempty_path(text):
    """An argparse ``type=`` for a file or folder path: an empty string (what an unset
    shell variable gives in ``--resume "$CK"``) is refused, not read as "no path", which
    would train from scratch or drop the checkpoint without a word."""
    if not text:
        raise argparse.ArgumentTypeError("expected a path; got an empty string (an unset "
                                         "shell variable?)")
    return text


def scheduler_address(text):
    """An argparse ``type=`` for --scheduler: an empty string (an unset shell variable)
    would read as "no scheduler" and train on this machine without a word."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a Dask scheduler's address (e.g. "
                                         "tcp://HOST:8786); got an empty string")
    return text


LARGEST_INT = 2 ** 63 - 1

# how NumPy refuses an array larger than any address space (said as out of memory by
# rnnzoo.cli.main)
NUMPY_TOO_BIG = ("array is too big", "Maximum allowed dimension exceeded")


def number(kind, minimum=None, *, positive=False):
    """An argparse ``type=``: a finite int/float >= minimum (> 0 if positive)."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}"
                                             f"; got {text!r}") from None
        if not math.isfinite(value) or (positive and value <= 0) or \
                (minimum is not None and value < minimum):
            bound = "> 0" if positive else f">= {minimum}"
            raise argparse.ArgumentTypeError(f"expected a finite value {bound}; got {text!r}")
        if kind is int and value > LARGEST_INT:     # NumPy's sizes and seeds are 64-bit:
            # past that a size fails deep inside ("Maximum allowed dimension exceeded")
            raise argparse.ArgumentTypeError(f"expected an integer at most {LARGEST_INT} (64 "
                                             f"bits); got {text!r}")
        return value
    parse.__name__ = kind.__name__          # argparse names the type in its message
    return parse


POSITIVE_INT, COUNT = number(int, positive=True), number(int, 0)
NONNEG_FLOAT, POSITIVE_FLOAT = number(float, 0.0), number(float, positive=True)


def stopped_midway(exc, kept) -> int:
    """One line and the exit status of a long command stopped after its outputs were
    checked: Ctrl-C (130), or a write that failed meanwhile, a full disk or a folder gone
    (1; the path is in ``exc``). ``kept`` says what of the work is on disk."""
    if isinstance(exc, KeyboardInterrupt):
        print(f"\ninterrupted; {kept}", file=sys.stderr)
        return 130
    print(f"error: {exc}; {kept}", file=sys.stderr)
    return 1


def typed_flags(parser, argv, dests) -> list:
    """The dests among ``dests`` typed in ``argv``, at their default value or not: argv is
    parsed again into a namespace that holds a marker for each, and argparse sets a
    default only where the namespace has none. (An append flag's dest is not for this:
    it appends to whatever it finds.)"""
    marker = object()
    typed = parser.parse_args(argv, argparse.Namespace(**dict.fromkeys(dests, marker)))
    return [dest for dest in dests if getattr(typed, dest) is not marker]


def _cannot_create_in(folder):
    """Why nothing can be written in ``folder`` (a sentence), or None. It creates and
    removes a folder there: os.access says yes to root everywhere, /proc included."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".rnnzoo-check-", dir=folder))
    except OSError as e:
        return f"cannot create or write in {folder} ({e.strerror or e})"
    return None


def _link_to_nothing(path):
    """A sentence if ``path`` is a symbolic link whose target does not exist (writing
    through it would fail, or make a file somewhere else), else None."""
    if os.path.islink(path) and not os.path.exists(path):
        return f"{path} is a link to {os.readlink(path)}, which does not exist"
    return None


def _nearest_existing(path):
    """(the nearest folder of ``path`` that exists, None) or (None, why not), walking up
    the path's text. The path is never normalized: "missing/.." or "file/.." reads as a
    folder to os.path.abspath, but the system cannot open anything under it, so the walk
    passes it by, as the write would fail on it."""
    p = path.rstrip(os.sep) or os.sep
    while not os.path.exists(p):
        why = _link_to_nothing(p)
        if why:
            return None, why
        parent = os.path.dirname(p)
        if parent in ("", p):
            p = parent or os.curdir
            break
        p = parent
    return p, None


def check_writable(parser, flag, path, replaces_links=False):
    """Usage error now, not after training, if ``path`` cannot be written.
    ``replaces_links``: the writer replaces ``path`` itself (a temporary file renamed over
    it, as save_checkpoint does), so a link there to a missing file is no obstacle; a
    writer that opens ``path`` (savefig) would follow the link instead."""
    if path.endswith(os.sep) or (os.altsep and path.endswith(os.altsep)):
        parser.error(f"{flag} {path}: ends with {path[-1]}, which names a folder; give a "
                     f"file name")
    if os.path.isdir(path):
        parser.error(f"{flag} {path}: is a directory")
    why = None if replaces_links else _link_to_nothing(path)
    if why:
        parser.error(f"{flag} {path}: {why}")
    folder = os.path.dirname(path) or os.curdir
    if not os.path.isdir(folder):
        base, why = _nearest_existing(folder)
        if why:
            parser.error(f"{flag} {path}: {why}")
        if not os.path.isdir(base):
            parser.error(f"{flag} {path}: {base} is a file, not a folder")
        parser.error(f"{flag} {path}: folder {folder} does not exist")
    problem = _cannot_create_in(folder)
    if problem or (os.path.exists(path) and not os.access(path, os.W_OK)):
        parser.error(f"{flag} {path}: not writable" + (f": {problem}" if problem else ""))


def check_writable_folder(parser, flag, path, files=()):
    """Usage error now, not after measuring, if the folder ``path`` (made if missing)
    cannot take ``files``. The test creates and removes a folder where the first missing
    one would go (see _cannot_create_in)."""
    if os.path.exists(path) and not os.path.isdir(path):
        parser.error(f"{flag} {path}: exists and is not a folder")
    base, why = _nearest_existing(path)
    if why:
        parser.error(f"{flag} {path}: {why}")
    if not os.path.isdir(base):
        parser.error(f"{flag} {path}: {base} is not a folder")
    problem = _cannot_create_in(base)
    if problem:
        parser.error(f"{flag} {path}: {problem}")
    for name in files:
        target = os.path.join(path, name)
        why = _link_to_nothing(target)
        if os.path.isdir(target) or why or (os.path.exists(target) and
                                            not os.access(target, os.W_OK)):
            parser.error(f"{flag} {path}: cannot write {name} there (a folder, a read-only "
                         f"file or a link to nothing has that name)")


def check_plot_format(parser, path):
    """The format matplotlib will write, from the file's extension; a name without one
    is refused (matplotlib would write NAME.png, not the file the flag named)."""
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    if not ext:
        parser.error(f"--save-plot {path}: give the file's extension (e.g. "
                     f"{path.rstrip('.')}.png): it names the image format")
    from matplotlib.figure import Figure
    formats = Figure().canvas.get_supported_filetypes()
    if ext not in formats:
        parser.error(f"--save-plot {path}: matplotlib cannot write .{ext}; use one of "
                     f"{', '.join(sorted(formats))}")


def add_model_size(parser):
    """--hidden, --layers and --blocks, the model's shape, as train and compare take them."""
    from ..training.blocks import BLOCKS
    parser.add_argument("--hidden", type=POSITIVE_INT, default=64)
    parser.add_argument("--layers", type=POSITIVE_INT, default=1)
    parser.add_argument("--blocks", default=None, choices=list(BLOCKS),
                        help="wrap every cell in a residual block (glu: layer norm, the "
                             "cell, GELU, a GLU map; S4's, the LRU's and Mamba's layer); "
                             "default: the cells feed each other directly")


# ------------------------------------------------------------------ cells of your own
def add_import(parser):
    """``--import MODULE``, repeatable: a module of the user's own that registers cells
    (``@rnnzoo.register``), imported before any cell name is read."""
    parser.add_argument("--import", dest="imports", action="append", default=[],
                        metavar="MODULE", help="a module of your own to import first, so "
                        "that the cells it registers can be named (repeatable; found in the "
                        "current folder or on PYTHONPATH)")


def import_cells(argv, prog):
    """Import every ``--import MODULE`` of ``argv`` now, before the command's parser is
    built (its cell names are checked against the registry as they are parsed); a module
    that cannot be imported is a usage error naming it, except beside ``-h``: the help
    is printed then (with the cells of the modules that did import)."""
    pre = argparse.ArgumentParser(prog=prog, add_help=False)
    add_import(pre)
    known, rest = pre.parse_known_args(argv)
    modules = known.imports
    options = rest[:rest.index("--")] if "--" in rest else rest
    asking_help = any(a in ("-h", "--help") for a in options)

    def fail(message):
        if not asking_help:           # with -h the command's parser prints its help next
            pre.error(message)

    for module in modules:
        if not module.strip():
            fail("argument --import: expected a module name; got ''")
            continue
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module.split(".")[0] and exc.name != module:
                fail(f"argument --import {module}: importing it raised {exc!r}")
            else:
                fail(f"argument --import {module}: {exc} (a module of your own is found "
                     "in the current folder or on PYTHONPATH)")
        except SyntaxError as exc:
            fail(f"argument --import {module}: {exc.msg} at {exc.filename}, line "
                 f"{exc.lineno}")
        except Exception as exc:      # the module's own code failed: say what, not a traceback
            fail(f"argument --import {module}: importing it raised "
                 f"{type(exc).__name__}: {exc}")
    return modules
