"""One module per cell; importing this package registers them all."""
from . import (clockwork, deltarnn, fastweights, gru, indrnn, janet, lstm, mgu,  # noqa: F401
               orthogonal, qrnn, resindrnn, rnn, skiprnn)
