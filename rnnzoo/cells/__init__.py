"""One module per cell; importing this package registers them all."""
from . import clockwork, gru, janet, lstm, mgu, qrnn, rnn, skiprnn  # noqa: F401
