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


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
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
