"""One module per cell; importing this package registers them all."""
from . import (clockwork, deltarnn, eurnn, fastweights, gru, indrnn, janet, lru,  # noqa: F401
               lstm, mgu, mingru, minlstm, mlstm, orthogonal, qrnn, resindrnn, rnn, s4d, s6,
               skiprnn, slstm, urnn)
