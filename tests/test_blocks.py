"""Residual GLU blocks (rnnzoo/training/blocks.py): central differences through every
cell wrapped in them, PyTorch's LayerNorm, GELU and GLU as an oracle, the checkpoint, the
experiments' budget and the command line."""
import math

import numpy as np
import pytest

import rnnzoo
from rnnzoo.core.validation import ArgumentTypeError
from rnnzoo.teaching.experiments import Budget, Variant, compare
from rnnzoo.training.blocks import GLUBlocks, gelu, gelu_grad
from rnnzoo.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from rnnzoo.training.model import Linear, SequenceModel, build_model


def _differentiable(name):
    """Options under which central differences measure the derivative: a surrogate
    backward's exact form (skiprnn's soft mode), and tanh for the relu cells. Behind
    layer norm some relu pre-activation lands within eps of the kink (indrnn, seed 1:
    2.7e-7), where a central difference straddling it is no derivative; relu itself is
    checked where the inputs keep off it, in tests/test_gradients.py."""
    cls = rnnzoo.get_cell_class(name)
    opts = dict(getattr(cls, "differentiable_options", {}))
    if cls.options.get("nonlinearity") == "relu":
        opts["nonlinearity"] = "tanh"
    return opts


@pytest.mark.parametrize("name", rnnzoo.available())
def test_every_cell_in_blocks_passes_the_gradient_check(name, rng):
    """Two layers of each cell in GLU blocks, float64 central differences on every
    parameter (the blocks' own included) and on x."""
    model = build_model(name, 3, 4, 2, layers=2, blocks="glu", seed=1, dtype=np.float64,
                        **_differentiable(name))
    report = rnnzoo.gradcheck(model, rng.standard_normal((5, 2, 3)))
    assert report.passed, str(report)
    block_rows = [n for n in model.params if n.startswith(("encoder.", "block", "final_"))]
    assert len(block_rows) == 2 + 4 * 2 + 2


def test_the_readout_of_the_last_step_passes_too(rng):
    model = build_model("gru", 3, 4, 2, layers=3, blocks="glu", readout="last", seed=2)
    assert rnnzoo.gradcheck(model, rng.standard_normal((6, 3, 3))).passed


def test_the_gelu_backward_is_its_derivative_and_near_the_erf_form():
    x = np.linspace(-6, 6, 2001)
    y, t = gelu(x)
    eps = 1e-6
    numeric = (gelu(x + eps)[0] - gelu(x - eps)[0]) / (2 * eps)
    np.testing.assert_allclose(gelu_grad(np.ones_like(x), x, t), numeric, rtol=1e-7,
                               atol=1e-9)
    exact = 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    gap = np.abs(y - exact).max()
    assert 1e-4 < gap < 5e-4          # the docstring's "at most 5e-4" (it is not zero)


def test_blocks_make_a_stack_of_linear_recurrences_nonlinear(rng):
    """Bare, two s4d layers and the readout are one affine map of x (what notebook 10
    shows); in GLU blocks they are not."""
    x, z = rng.standard_normal((2, 8, 3, 2))
    for blocks, affine in ((None, True), ("glu", False)):
        model = build_model("s4d", 2, 4, 1, layers=2, blocks=blocks, seed=0)
        f = lambda v: model.forward(v)[0]                              # noqa: E731
        gap = np.abs(f(x + z) - f(x) - f(z) + f(0 * x)).max()
        assert (gap < 1e-10) == affine, (blocks, gap)


def test_the_cells_read_the_stream_width_and_the_keys_say_whose(rng):
    model = build_model("lstm", 3, 5, 2, layers=2, blocks="glu", seed=0)
    assert [c.input_size for c in model.cells] == [5, 5]
    assert model.input_size == 3
    assert model.params["encoder.W"].shape == (5, 3)
    assert model.params["block1.W"].shape == (10, 5)
    assert np.all(model.params["block0.norm_g"] == 1)
    # the readout's and cells' seeds are the bare model's: the blocks take the next one
    bare = build_model("lstm", 5, 5, 2, layers=2, seed=0)
    for k in bare.params:
        np.testing.assert_array_equal(bare.params[k], model.params[k], err_msg=k)
    alone = GLUBlocks(3, 5, [5, 5], seed=0 + 2 + 1)
    for k in alone.params:
        np.testing.assert_array_equal(alone.params[k], model.params[k], err_msg=k)
    # an optimizer updates the same arrays the blocks compute with
    model.params["block0.b"][:] = 0
    assert np.all(model.blocks.params["block0.b"] == 0)


def test_float32_stays_float32(rng):
    model = build_model("lru", 3, 4, 2, blocks="glu", dtype=np.float32)
    y, cache = model.forward(rng.standard_normal((4, 2, 3)).astype(np.float32))
    dx, grads = model.backward(np.ones_like(y), cache)
    assert y.dtype == dx.dtype == np.float32
    assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}
    assert grads.dh_norm.shape == (4,)


# ------------------------------------------------------------------ PyTorch as the oracle
def test_forward_and_gradients_equal_torch(rng):
    """The same model in PyTorch (nn.Linear, nn.LayerNorm, nn.LSTM, GELU tanh, F.glu),
    autograd against our backward, float64."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    D, H, O, T, B = 3, 4, 2, 6, 2
    model = build_model("lstm", D, H, O, layers=2, blocks="glu", seed=3)
    for k, p in model.params.items():              # norms away from g = 1, beta = 0
        if "norm" in k:
            p += 0.3 * rng.standard_normal(p.shape)
    x = rng.standard_normal((T, B, D))
    dy = rng.standard_normal((T, B, O))
    y, cache = model.forward(x)
    dx, grads = model.backward(dy, cache)

    P = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()
         if not k.startswith("cell")}
    lstms = [torch.nn.LSTM(H, H, dtype=torch.float64) for _ in model.cells]
    for k, lstm in enumerate(lstms):                 # our names are torch's, W_ih = weight_ih
        with torch.no_grad():
            for ours, theirs in (("W_ih", "weight_ih_l0"), ("W_hh", "weight_hh_l0"),
                                 ("b_ih", "bias_ih_l0"), ("b_hh", "bias_hh_l0")):
                getattr(lstm, theirs).copy_(torch.tensor(model.params[f"cell{k}.{ours}"]))
                P[f"cell{k}.{ours}"] = getattr(lstm, theirs)
    xt = torch.tensor(x, requires_grad=True)

    def norm(h, prefix):
        return F.layer_norm(h, (H,), P[prefix + "norm_g"], P[prefix + "norm_b"], eps=1e-5)

    h = F.linear(xt, P["encoder.W"], P["encoder.b"])
    for k, lstm in enumerate(lstms):
        s, _ = lstm(norm(h, f"block{k}."))
        z = F.linear(F.gelu(s, approximate="tanh"), P[f"block{k}.W"], P[f"block{k}.b"])
        h = h + F.glu(z, dim=-1)
    yt = F.linear(norm(h, "final_"), P["readout.W"], P["readout.b"])
    (yt * torch.tensor(dy)).sum().backward()

    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert set(P) == set(model.params)
    for k in model.params:
        np.testing.assert_allclose(grads[k], P[k].grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=k)


# ------------------------------------------------------------------ checkpoints
@pytest.mark.parametrize("layers", [1, 2])
def test_a_checkpoint_rebuilds_the_blocks(layers, tmp_path, rng):
    model = build_model("mingru", 3, 4, 2, layers=layers, blocks="glu", seed=5)
    for p in model.params.values():
        p += 0.1 * rng.standard_normal(p.shape)
    path = tmp_path / "m.npz"
    save_checkpoint(path, model)
    loaded = load_checkpoint(path)[0]
    x = rng.standard_normal((5, 2, 3))
    np.testing.assert_array_equal(loaded.forward(x)[0], model.forward(x)[0])
    assert loaded.blocks.describe() == model.blocks.describe()
    # into a model of the same shape: the weights move; into a bare one: refused, named
    fresh = build_model("mingru", 3, 4, 2, layers=layers, blocks="glu", seed=9)
    load_checkpoint(path, fresh)
    np.testing.assert_array_equal(fresh.forward(x)[0], model.forward(x)[0])
    with pytest.raises(CheckpointError, match="residual blocks differ"):
        load_checkpoint(path, build_model("mingru", 4, 4, 2, layers=layers, seed=0))


def test_a_bare_models_checkpoint_is_as_before(tmp_path):
    """Files written before blocks existed have no "blocks" entry; a bare model's new
    file has none either, so each loads into the other."""
    model = build_model("gru", 3, 4, 2, seed=0)
    save_checkpoint(tmp_path / "m.npz", model)
    from rnnzoo.training.checkpoint import read_meta
    assert "blocks" not in read_meta(tmp_path / "m.npz")
    loaded = load_checkpoint(tmp_path / "m.npz")[0]
    assert loaded.blocks is None


# ------------------------------------------------------------------ bad input
def test_bad_blocks_are_named():
    with pytest.raises(ValueError, match="build_model: blocks .*'glu'.*'gelu'"):
        build_model("gru", 3, 4, 2, blocks="gelu")
    with pytest.raises(ArgumentTypeError, match="blocks"):
        build_model("gru", 3, 4, 2, blocks=True)
    cells = [rnnzoo.make("gru", 4, 4)]
    head = Linear(4, 2)
    with pytest.raises(ArgumentTypeError, match="blocks must be None or a GLUBlocks"):
        SequenceModel(cells, head, blocks="glu")
    with pytest.raises(ValueError, match="stream of width 5; layer 0 .gru. expects 4"):
        SequenceModel(cells, Linear(5, 2), blocks=GLUBlocks(3, 5, [4]))
    with pytest.raises(ValueError, match="made for cell outputs \\[4, 4\\]"):
        SequenceModel(cells, head, blocks=GLUBlocks(3, 4, [4, 4]))
    with pytest.raises(ValueError, match="readout expects 3 features"):
        SequenceModel(cells, Linear(3, 2), blocks=GLUBlocks(3, 4, [4]))
    with pytest.raises(ValueError, match="dtype and backend"):
        SequenceModel(cells, head, blocks=GLUBlocks(3, 4, [4], dtype=np.float32))
    model = build_model("gru", 3, 4, 2, blocks="glu")
    with pytest.raises(ValueError, match="SequenceModel.forward: x must have 3 features"):
        model.forward(np.zeros((2, 1, 4)))
    with pytest.raises(TypeError, match="SequenceModel.forward: x must have dtype float64"):
        model.forward(np.zeros((2, 1, 3), np.float32))
    # the caller's x is named, not the encoder's output that the first cell would see
    for empty in ((0, 2, 3), (2, 0, 3)):
        with pytest.raises(ValueError, match=r"SequenceModel.forward: x must have T >= 1 and "
                           rf"B >= 1; got shape \({empty[0]}, {empty[1]}, 3\)"):
            model.forward(np.zeros(empty))
    with pytest.raises(ValueError, match="SequenceModel.forward: x contains NaN or inf"):
        model.forward(np.full((2, 1, 3), np.nan))


def test_sizes_of_one_work_and_sizes_below_are_named(rng):
    model = SequenceModel([rnnzoo.make("gru", 1, 1)], Linear(1, 1),
                          blocks=GLUBlocks(1, 1, [1]))
    assert rnnzoo.gradcheck(model, rng.standard_normal((3, 2, 1))).passed
    for args, name in (((0, 4, [4]), "input_size"), ((3, 0, [4]), "width"),
                       ((3, 4, [4, 0]), "cell_outputs\\[1\\]")):
        with pytest.raises(ValueError, match=f"GLUBlocks: {name}"):
            GLUBlocks(*args)
    with pytest.raises(ValueError, match="cell_outputs must be a non-empty list"):
        GLUBlocks(3, 4, [])


# ------------------------------------------------------------------ experiments and CLI
def test_the_budget_records_blocks_only_when_set():
    """A stored run's fingerprint (Budget.record) of a bare budget is what it was
    before the field existed, so stored runs and committed records still match."""
    assert "blocks" not in Budget().record()
    assert Budget(blocks="glu").record()["blocks"] == "glu"
    assert "GLU blocks" in Budget(blocks="glu", layers=2).describe()
    with pytest.raises(ValueError, match="Budget.blocks"):
        Budget(blocks="mlp")


def test_a_variant_trains_in_blocks():
    res = compare([Variant("lru", budget={"blocks": "glu"}, label="lru in blocks"),
                   Variant("lru")], "adding", task_options={"T": 6},
                  budget=Budget(steps=3, hidden=4, eval_size=8), seeds=1, workers=1,
                  progress=False)
    blocks = [m.blocks for m in res.models("lru in blocks")] + \
        [m.blocks for m in res.models("lru")]
    assert isinstance(blocks[0], GLUBlocks) and blocks[1] is None
    assert "lru in blocks: lru(default init) with blocks=glu" in res.caption()


def test_train_takes_blocks_and_resumes_them(tmp_path, capsys):
    from rnnzoo.cli import main
    path = str(tmp_path / "m.npz")
    assert main(["train", "--cell", "lru", "--blocks", "glu", "--layers", "2", "--T", "6",
                 "--hidden", "4", "--steps", "2", "--eval-every", "2", "--checkpoint",
                 path, "--no-progress"]) == 0
    assert "x2 in GLU blocks" in capsys.readouterr().out
    assert main(["train", "--resume", path, "--steps", "1", "--no-progress"]) == 0
    assert "in GLU blocks" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["train", "--resume", path, "--blocks", "glu", "--steps", "1"])


def test_compare_takes_blocks(capsys):
    from rnnzoo.cli import main
    assert main(["compare", "--cells", "lru", "--blocks", "glu", "--layers", "2", "--T", "6",
                 "--hidden", "4", "--steps", "2", "--n-seeds", "1", "--workers", "1"]) == 0
    assert "H = 4 x 2 layers in GLU blocks" in capsys.readouterr().out
