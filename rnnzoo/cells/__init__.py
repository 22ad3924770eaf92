"""One module per cell; importing this package registers them all."""
from . import (clockwork, deltarnn, fastweights, gru, janet, lstm, mgu, qrnn, rnn,  # noqa: F401
               skiprnn)
