"""One module per cell; importing this package registers them all."""
from . import (deltarnn, fastweights, gru, indrnn, janet, lstm, mgu, orthogonal,  # noqa: F401
               resindrnn, rnn)
