import pathlib
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:          # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))

import rnnzoo  # noqa: E402

# Cell variants exercised by the registry-driven suites: every registered cell with its
# defaults, plus options that change the equations. A cell registered later is picked up
# automatically; list here only option sets worth testing on top of the defaults.
EXTRA_VARIANTS = {
    "rnn": [{"nonlinearity": "relu"}, {"nonlinearity": "relu", "identity_init": True}],
    "lstm": [{"forget_bias": 0.0}],          # PyTorch's init (the default is 1)
    "janet": [{"chrono_init": False}, {"beta": 0.0}, {"beta": 2.5, "t_max": 10}],
    "indrnn": [{"nonlinearity": "tanh"}, {"t_max": 10, "u_init": "bounded"}],
    "resindrnn": [{"residual": False}, {"norm": "layer"}, {"depth": 1},
                  {"depth": 3, "nonlinearity": "tanh", "t_max": 10, "u_init": "bounded",
                   "norm": "layer", "residual": False}],
    "orthogonal": [{"nonlinearity": "identity"}, {"nonlinearity": "tanh", "init": "cayley"},
                   {"parametrization": "cayley"},
                   {"parametrization": "cayley", "init": "cayley", "n_negative": 2}],
    "deltarnn": [{"phi": "identity"}, {"phi": "relu", "alpha": 1.0}],
    # the default memory="auto" runs the history form at the suites' short T (T <= 4 H),
    # so the materialized form gets variants of its own
    "fastweights": [{"S": 3}, {"lam": 0.5, "eta": 1.5, "S": 2}, {"lam": 0.0}, {"eta": 0.0},
                    {"memory": "history"}, {"memory": "materialized"},
                    {"memory": "materialized", "lam": 0.5, "S": 2},
                    {"memory": "materialized", "lam": 0.0}, {"memory": "checkpointed"},
                    {"memory": "checkpointed", "lam": 0.5, "S": 2}],
    # skiprnn's default (hard) mode has a surrogate gradient: test_gradients checks that
    # gradcheck refuses it; soft mode gets the full check, budget loss included
    "skiprnn": [{"soft": True, "budget": 0.1}, {"base": "lstm"},
                {"base": "lstm", "soft": True, "budget": 0.1}, {"base": "rnn", "soft": True},
                # a base whose state has a component other than (B, H): its (B, 1) clock
                # (qrnn's carried inputs: tests/test_skiprnn.py)
                {"base": "clockwork", "soft": True, "budget": 0.1}, {"base": "clockwork"}],
    "clockwork": [{"periods": [1, 3]}, {"modules": 2}, {"modules": 3}],   # 3: unequal sizes
    "qrnn": [{"pooling": "f"}, {"pooling": "ifo", "window": 3}, {"window": 1}],
    "urnn": [{"nonlinearity": "identity"}],
    # off the initialization's small ε so every term of the step is large enough to see
    "antisymmetric": [{"gated": True}, {"eps": 0.5, "gamma": 0.3, "init_std": 3.0},
                      {"gated": True, "eps": 0.7, "gamma": 0.0}],
    # β = 1: A and W skew-symmetric minus γI; β = 1/2: A = B + 0 Bᵀ - γI
    "lipschitz": [{"eps": 0.4, "beta": 0.2, "gamma": 0.5, "init_std": 4.0},
                  {"eps": 0.3, "beta": 1.0, "init_std": 4.0}, {"beta": 0.5, "eps": 0.5}],
    # the authors' code's explicit damping, and steps large enough to see every term
    "cornn": [{"damping": "explicit"}, {"dt": 0.5, "gamma": 2.0, "epsilon": 1.0},
              {"damping": "explicit", "dt": 0.3, "gamma": 1.5, "epsilon": 0.5}],
    # the scan's parallel form (the default, "auto", is the loop on NumPy); mode="log"
    # needs state0 >= 0, which these suites' random states are not: tests/test_minimal_rnns.py
    "mingru": [{"mode": "doubling"}],
    "minlstm": [{"mode": "doubling"}],
    "eurnn": [{"style": "fft"}, {"complex": False}, {"style": "fft", "complex": False},
              {"capacity": 5}, {"nonlinearity": "identity"}],
    # the suites build D != H, so "auto" is the dense feedthrough there; the paper's
    # diagonal D (D = H) is checked in tests/test_lru.py
    "lru": [{"normalization": False}, {"state_size": 2},
            {"state_size": 5, "r_min": 0.0, "r_max": 0.5, "max_phase": 0.3},
            {"mode": "loop"}, {"mode": "doubling"}],
    # the suites build D != H, so "auto" is the dense input map there; u_t = e_t (D = H)
    # is checked in tests/test_s6.py
    "s6": [{"gate": True}, {"selective": []}, {"selective": ["delta"]},
           {"selective": ["B", "C"], "gate": True}, {"state_size": 1, "dt_rank": 3},
           {"mode": "doubling"}, {"conv": 4}, {"conv": 2, "gate": True, "selective": ["C"]}],
    # the suites build D != H, so "auto" is the dense input map there; the paper's v = u
    # (D = H) is checked in tests/test_s4d.py
    "s4d": [{"mode": "recurrent"}, {"state_size": 2, "dt_min": 0.1, "dt_max": 1.0},
            {"mode": "recurrent", "state_size": 1, "dt_min": 0.5, "dt_max": 0.5},
            {"mode": "recurrent", "scan": "loop"}, {"mode": "recurrent", "scan": "doubling"}],
    # the default walks the states back in backward; "store" keeps them
    "unicornn": [{"memory": "store"}, {"memory": "store", "alpha": 0.0, "dt": 0.5},
                 {"alpha": 0.0, "dt": 0.5}],
    # a short window (fast memory) and a one-dimensional memory
    "lmu": [{"theta": 4.0, "memory_size": 3}, {"memory_size": 1}],
    # the suites' H = 4: two heads of d = 2, four of d = 1; β up to 2 (negative eigenvalues)
    "deltanet": [{"heads": 2}, {"heads": 4}, {"beta_range": 2.0}, {"heads": 2, "beta_range": 0.5}],
    "gated_deltanet": [{"heads": 2}, {"beta_range": 2.0}, {"heads": 4, "beta_range": 2.0}],
    # heads: R block-diagonal (the suites' H = 4); the paper's exponential forget gate
    "slstm": [{"heads": 2}, {"forget_gate": "exp"}, {"heads": 4, "forget_gate": "exp"}],
    # the parallel (attention-like, O(T²)) form; heads: d = H / heads
    "mlstm": [{"form": "parallel"}, {"heads": 2}, {"heads": 2, "form": "parallel"},
              {"heads": 4}],
}


def cell_variants():
    out = []
    for name in rnnzoo.available():
        out.append(pytest.param(name, {}, id=name))
        for opts in EXTRA_VARIANTS.get(name, []):
            label = ",".join(f"{k}={v}" for k, v in opts.items())
            out.append(pytest.param(name, opts, id=f"{name}[{label}]"))
    return out


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
