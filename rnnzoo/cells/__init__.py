"""One module per cell; importing this package registers them all."""
from . import (antisymmetric, clockwork, cornn, deltanet, deltarnn, eurnn,  # noqa: F401
               fastweights, gated_deltanet, gru, indrnn, janet, lipschitz, lmu, lru,
               lstm, mgu, mingru, minlstm, mlstm, orthogonal, qrnn, resindrnn, rnn,
               s4d, s6, skiprnn, slstm, unicornn, urnn)
