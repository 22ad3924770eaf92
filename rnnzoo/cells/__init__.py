"""One module per cell; importing this package registers them all."""
from . import eurnn, gru, janet, lstm, mgu, rnn, urnn  # noqa: F401
