"""One module per cell; importing this package registers them all."""
from . import gru, janet, lstm, mgu, rnn  # noqa: F401
