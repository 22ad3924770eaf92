"""One module per cell; importing this package registers them all."""
from . import (antisymmetric, clockwork, deltarnn, eurnn, fastweights, gru,  # noqa: F401
               indrnn, janet, lipschitz, lru, lstm, mgu, mingru, minlstm, orthogonal, qrnn,
               resindrnn, rnn, s4d, s6, skiprnn, urnn)
