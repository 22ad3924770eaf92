"""``python -m rnnzoo COMMAND ...``: dispatch only; the commands live in :mod:`rnnzoo.cli`."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
