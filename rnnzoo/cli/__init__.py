"""The command line, one module per subcommand: ``python -m rnnzoo COMMAND ...``.

=============  ====================================  ====================
command        what it does                          module
=============  ====================================  ====================
figures        regenerate the teaching figures       :mod:`.figures`
gradcheck      finite differences on every cell      :mod:`.gradcheck`
train          one cell on one task                  :mod:`.train`
compare        several cells x several seeds         :mod:`.compare`
assignments    the student notebooks                 :mod:`.assignments`
bench          time forward+backward against torch   :mod:`.bench`
reproduce      each paper's headline at its length   :mod:`.reproduce`
book           the course book (static HTML)         :mod:`.book`
=============  ====================================  ====================

The parsers share :mod:`.args`. This is the top wing: it imports the others, and only
``rnnzoo/__main__.py`` imports it.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from .args import NUMPY_TOO_BIG      # how NumPy refuses an array past any address space

# these parse their own flags (``python -m rnnzoo train -h`` is their own help); each is
# the module of the same name here
OWN_PARSER_HELP = {
    "train": "train a cell on a task",
    "compare": "several cells x several seeds under one budget",
    "assignments": "the nbgrader course kit from the notebooks",
    "bench": "time forward+backward of every cell, and torch's",
    "reproduce": "each paper's headline at its own length, resumable",
    "book": "build the course book, a static HTML site",
}
OWN_PARSER = tuple(OWN_PARSER_HELP)

# the commands that train at whatever length the user asks, reproduce at the papers'
# (compare's workers are forked from this process and inherit the setting). Not figures:
# its runs are short sequences, whose arrays stay under glibc's own 32 MB ceiling, and its
# timing figures keep the conditions they were measured in; not bench: its tables time
# glibc's default, as a program of one's own has it
TRAINING_COMMANDS = ("train", "compare", "reproduce")


def prepare_process(argv):
    """For ``python -m rnnzoo`` only, whose process is ours: a command that trains keeps
    the memory it frees (:func:`rnnzoo.core.memory.keep_freed_memory`), so that at long
    sequences its training steps do not pay a page fault for every page of the arrays
    they free and ask for again (``figures/speed/kept_memory.md``, table 4). Not in
    :func:`main`, which a caller's own process may call. Returns whether it took."""
    if argv[:1] and argv[0] in TRAINING_COMMANDS:
        from ..core.memory import keep_freed_memory
        return keep_freed_memory()
    return False


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return _dispatch(argv)
    except (MemoryError, ValueError) as exc:
        # sizes this machine cannot hold (--hidden 1000000, --T 1e9, a task's vocabulary):
        # NumPy says how much it asked for; a traceback from inside a cell says no more.
        # Past what any machine can address (--T 2**62) NumPy says so in a ValueError
        if isinstance(exc, ValueError) and not str(exc).startswith(NUMPY_TOO_BIG):
            raise
        print(f"error: python -m rnnzoo {' '.join(argv[:1])}: out of memory ({exc}); a size "
              f"given on the command line (hidden size, sequence length, batch, evaluation "
              f"set, a task's or cell's option) is too large for this machine",
              file=sys.stderr)
        return 1


def _dispatch(argv):
    if argv[:1] and argv[0] in OWN_PARSER:
        module = importlib.import_module(f".{argv[0]}", __name__)
        return module.main(argv[1:])
    from . import figures, gradcheck
    parser = argparse.ArgumentParser(prog="python -m rnnzoo",
                                     description="rnnzoo: recurrent cells from scratch")
    sub = parser.add_subparsers(dest="command", required=True)
    figures.add_parser(sub)
    gradcheck.add_parser(sub)

    # listed here for the top-level help only: main() hands their arguments over above
    for name, what in OWN_PARSER_HELP.items():
        p = sub.add_parser(name, help=f"{what} (see: python -m rnnzoo {name} -h)")
        p.add_argument(f"{name}_args", nargs=argparse.REMAINDER)

    args = parser.parse_args(argv)
    return args.run(args)
