"""One module per cell; importing this package registers them all."""
from . import (clockwork, deltarnn, eurnn, fastweights, gru, janet, lstm, mgu, qrnn,  # noqa: F401
               rnn, skiprnn, urnn)
