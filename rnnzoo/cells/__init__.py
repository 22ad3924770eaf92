"""One module per cell; importing this package registers them all."""
from . import (clockwork, deltanet, deltarnn, eurnn, fastweights, gated_deltanet, gru,  # noqa: F401
               indrnn, janet, lru, lstm, mgu, mingru, minlstm, orthogonal, qrnn, resindrnn,
               rnn, s4d, s6, skiprnn, urnn)
