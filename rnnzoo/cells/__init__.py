"""One module per cell; importing this package registers them all."""
from . import deltarnn, fastweights, gru, janet, lstm, mgu, rnn  # noqa: F401
