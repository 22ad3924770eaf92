"""``python -m rnnzoo COMMAND ...``: dispatch only; the commands live in :mod:`rnnzoo.cli`."""
import os
import sys

from .cli import main, prepare_process

if __name__ == "__main__":
    prepare_process(sys.argv[1:])
    try:
        sys.exit(main())
    except BrokenPipeError:
        # the reader went away (``python -m rnnzoo reproduce --list | head``): not an error
        # to report with a traceback; point stdout at devnull so the exit flush is quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
