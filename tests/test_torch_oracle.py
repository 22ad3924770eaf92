"""PyTorch as an oracle: rnnzoo's rnn/lstm/gru forward and hand-written backward must
equal torch's modules and autograd to float64 round-off, and conversion must round-trip.
"""
import pathlib
import re

import numpy as np
import pytest

import rnnzoo

torch = pytest.importorskip("torch")

T, B, D, H = 6, 3, 4, 5
ROOT = pathlib.Path(__file__).resolve().parents[1]
TOL = dict(atol=1e-10, rtol=1e-10)

VARIANTS = [
    pytest.param(lambda: torch.nn.RNN(D, H, nonlinearity="tanh", dtype=torch.float64),
                 id="rnn-tanh"),
    pytest.param(lambda: torch.nn.RNN(D, H, nonlinearity="relu", dtype=torch.float64),
                 id="rnn-relu"),
    pytest.param(lambda: torch.nn.LSTM(D, H, dtype=torch.float64), id="lstm"),
    pytest.param(lambda: torch.nn.GRU(D, H, dtype=torch.float64), id="gru"),
]


def _t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


@pytest.mark.parametrize("build", VARIANTS)
def test_forward_and_backward_equal_torch_autograd(build, rng):
    torch.manual_seed(0)
    module = build()
    cell = rnnzoo.from_torch(module)
    assert cell.dtype == np.float64

    x = rng.standard_normal((T, B, D))
    state0 = tuple(rng.standard_normal((B, H)) for _ in cell.state_names)
    dhs = rng.standard_normal((T, B, H))
    dstate_T = tuple(rng.standard_normal((B, H)) for _ in cell.state_names)

    hs, state_T, cache = cell.forward(x, state0)
    dx, dstate0, grads = cell.backward(dhs, cache, dstate_T)

    xt = _t(x, grad=True)
    s0 = [_t(s[None], grad=True) for s in state0]          # torch: (num_layers, B, H)
    out, sT = module(xt, tuple(s0) if len(s0) == 2 else s0[0])
    sT = sT if isinstance(sT, tuple) else (sT,)
    loss = (out * _t(dhs)).sum() + sum((s * _t(d[None])).sum() for s, d in zip(sT, dstate_T))
    loss.backward()

    np.testing.assert_allclose(hs, out.detach().numpy(), **TOL)
    for ours, theirs in zip(state_T, sT):
        np.testing.assert_allclose(ours, theirs.detach().numpy()[0], **TOL)
    np.testing.assert_allclose(dx, xt.grad.numpy(), **TOL)
    for ours, theirs in zip(dstate0, s0):
        np.testing.assert_allclose(ours, theirs.grad.numpy()[0], **TOL)
    names = {"W_ih": "weight_ih_l0", "W_hh": "weight_hh_l0",
             "b_ih": "bias_ih_l0", "b_hh": "bias_hh_l0"}
    assert set(grads) == set(names)
    for ours, theirs in names.items():
        np.testing.assert_allclose(grads[ours], getattr(module, theirs).grad.numpy(), **TOL,
                                   err_msg=ours)


@pytest.mark.parametrize("name,opts", [("rnn", {}), ("rnn", {"nonlinearity": "relu"}),
                                       ("lstm", {}), ("gru", {})])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_is_bit_exact(name, opts, dtype):
    cell = rnnzoo.make(name, D, H, seed=7, dtype=dtype, **opts)
    module = rnnzoo.to_torch(cell)
    assert module.weight_hh_l0.dtype == {np.float32: torch.float32,
                                         np.float64: torch.float64}[dtype]
    back = rnnzoo.from_torch(module)
    assert type(back) is type(cell) and back.dtype == cell.dtype
    same = {k: v for k, v in cell.hyperparameters.items() if k != "seed"}
    assert {k: v for k, v in back.hyperparameters.items() if k != "seed"} == same
    for k, p in cell.params.items():
        assert back.params[k].dtype == p.dtype
        np.testing.assert_array_equal(back.params[k], p)
        assert back.params[k] is not p                       # a copy, not shared memory


def test_from_torch_copies_the_parameters():
    module = torch.nn.GRU(D, H, dtype=torch.float64)
    cell = rnnzoo.from_torch(module)
    with torch.no_grad():
        module.weight_hh_l0.zero_()
    assert np.any(cell.params["W_hh"] != 0)


@pytest.mark.parametrize("module,what", [
    (lambda: torch.nn.LSTM(D, H, num_layers=2), "num_layers=2"),
    (lambda: torch.nn.GRU(D, H, bidirectional=True), "bidirectional=True"),
    (lambda: torch.nn.RNN(D, H, bias=False), "bias=False"),
    (lambda: torch.nn.LSTM(D, H, batch_first=True), "batch_first=True"),
    (lambda: torch.nn.LSTM(D, H, proj_size=2), "proj_size=2"),
])
def test_unsupported_configuration_is_refused_by_name(module, what):
    with pytest.raises(ValueError, match=f"{what}.*supported: torch.nn.RNN"):
        rnnzoo.from_torch(module())


def test_a_dtype_other_than_float32_or_float64_is_refused():
    with pytest.raises(ValueError, match=r"GRU with dtype=torch.float16 has no rnnzoo "
                                         r"counterpart"):
        rnnzoo.from_torch(torch.nn.GRU(D, H, dtype=torch.float16))


def test_parameters_of_mixed_dtypes_are_refused():
    """Pass: one float64 weight in a float32 GRU is refused, each parameter's dtype named
    (the cell was built float32 with a float64 W_hh, and failed much later)."""
    module = torch.nn.GRU(D, H)
    module.weight_hh_l0.data = module.weight_hh_l0.data.double()
    with pytest.raises(ValueError, match=r"mixed dtypes \(weight_ih_l0 torch.float32, "
                                         r"weight_hh_l0 torch.float64,"):
        rnnzoo.from_torch(module)


def test_unsupported_module_types_and_cells_are_refused():
    with pytest.raises(TypeError, match="cannot convert a torch.nn.modules.linear.Linear"):
        rnnzoo.from_torch(torch.nn.Linear(2, 3))
    with pytest.raises(TypeError, match="supported: .*LSTM"):
        rnnzoo.from_torch(torch.nn.LSTMCell(2, 3))


def test_importing_rnnzoo_does_not_import_torch():
    import subprocess
    import sys
    code = "import sys, rnnzoo; assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(ROOT))


def test_missing_torch_gives_an_install_hint(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(ImportError, match="pip install torch"):
        rnnzoo.to_torch(rnnzoo.make("gru", D, H))


@pytest.mark.parametrize("cell", ["gru", None, 3])
def test_to_torch_refuses_what_is_not_a_cell(cell):
    """A name or None for the cell used to fail with "'str' object has no attribute
    'name'" from inside to_torch."""
    with pytest.raises(TypeError, match=r"to_torch: cell must be an rnnzoo cell .*got "
                                        + re.escape(repr(cell))):
        rnnzoo.to_torch(cell)
