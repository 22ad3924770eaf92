"""One module per cell; importing this package registers them all."""
from . import gru, lstm, rnn  # noqa: F401
