"""One module per cell; importing this package registers them all."""
from . import (antisymmetric, clockwork, cornn, deltarnn, eurnn, fastweights,  # noqa: F401
               gru, indrnn, janet, lipschitz, lru, lstm, mgu, mingru, minlstm, orthogonal,
               qrnn, resindrnn, rnn, s4d, s6, skiprnn, urnn)
