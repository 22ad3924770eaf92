"""One module per cell; importing this package registers them all."""
from . import gru, indrnn, janet, lstm, mgu, orthogonal, resindrnn, rnn  # noqa: F401
