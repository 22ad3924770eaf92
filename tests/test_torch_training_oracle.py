"""PyTorch as an oracle for the training wing: the optimizers, global-norm clipping, the
tasks' losses, whole Trainer steps of a stacked model and truncated BPTT must equal
torch.optim, torch.nn.utils.clip_grad_norm_, torch.nn.functional and autograd, started
from the same parameters and fed the same data, to float64 round-off.

Where rnnzoo's docstrings say it deliberately differs from torch (SGD's and RMSprop's
default lr, the clipping epsilon, clipping a norm just under max_norm, a non-finite
norm), the oracle side is given the documented difference, and a test checks that the
difference is what the docstring says. Skipped without torch, which is never a runtime
dependency (tests/test_torch_oracle.py checks the cells themselves).
"""
import inspect
import math

import numpy as np
import pytest

import rnnzoo
from rnnzoo.optim import OPTIMIZERS, clip_grad_norm, global_norm
from rnnzoo.tasks import TASKS, make_task
from rnnzoo.training.model import IGNORE_INDEX, mse_loss, softmax_cross_entropy
from rnnzoo.training.trainer import Trainer

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL = 1e-10          # round-off size, relative to the largest entry compared
WORST = {}            # check -> worst relative error seen (printed with pytest -s)


@pytest.fixture(scope="module", autouse=True)
def _one_thread_and_the_worst_errors():
    """One torch and BLAS thread (tiny tensors: more only add contention under -n auto);
    afterwards, the worst error of each check (shown with pytest -s)."""
    from threadpoolctl import threadpool_limits
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(threads)
    if WORST:
        width = max(map(len, WORST))
        print("\nworst relative error per check (max |ours - torch| / max |torch|):")
        for what, err in sorted(WORST.items()):
            print(f"  {what:<{width}}  {err:.2e}")


def assert_close(what, ours, theirs, rtol=RTOL, floor=0.0):
    """ours == theirs to ``rtol`` relative to theirs' largest entry (an entry near 0 is
    held to the array's scale, not its own), beyond an absolute ``floor`` (the round-off
    a difference of two arrays carries from its operands); records the worst error
    (net of the floor) under ``what``'s part before "["."""
    if isinstance(theirs, torch.Tensor):
        theirs = theirs.detach().numpy()
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, (what, ours.shape, theirs.shape)
    scale = float(np.abs(theirs).max(initial=0.0)) or 1.0     # all zero: absolute
    err = max(0.0, float(np.abs(ours - theirs).max(initial=0.0)) - floor) / scale
    key = what.split("[")[0]
    WORST[key] = max(WORST.get(key, 0.0), err)
    assert err <= rtol, f"{what}: relative error {err:.3e} > {rtol:.0e}"


def _t(a, grad=False):
    return torch.tensor(np.array(a, dtype=np.float64), dtype=torch.float64,
                        requires_grad=grad)


# ====================================================================== 1. optimizers
SHAPES = {"W": (3, 4), "b": (4,), "tiny": (5,)}


def _gradient_sequence(steps, seed=0):
    """Gradients of several scales: ~1 (W), ~1e-2 with exact zeros (b), ~1e-9 (tiny,
    where eps dominates the Adam and RMSprop denominators, so its placement shows)."""
    rng = np.random.default_rng(seed)
    seq = []
    for t in range(steps):
        g = {"W": rng.standard_normal(SHAPES["W"]),
             "b": 1e-2 * rng.standard_normal(SHAPES["b"]),
             "tiny": 1e-9 * rng.standard_normal(SHAPES["tiny"])}
        g["b"][t % 4] = 0.0
        seq.append(g)
    return seq


# (name, rnnzoo options, the torch options it means). The defaults' rows port the
# documented differences: rnnzoo's SGD defaults to lr=0.01 (torch: 1e-3) and its RMSprop
# to lr=1e-3 (torch: 1e-2), as their docstrings say; Adam's defaults are torch's.
OPTIMIZER_CASES = [
    pytest.param("sgd", {}, {"lr": 0.01}, id="sgd-defaults"),
    pytest.param("sgd", {"lr": 0.05, "momentum": 0.9}, {"lr": 0.05, "momentum": 0.9},
                 id="sgd-momentum0.9"),
    pytest.param("sgd", {"lr": 0.3, "momentum": 0.3}, {"lr": 0.3, "momentum": 0.3},
                 id="sgd-momentum0.3"),
    pytest.param("rmsprop", {}, {"lr": 1e-3}, id="rmsprop-defaults"),
    pytest.param("rmsprop", {"lr": 0.02, "alpha": 0.9, "eps": 1e-6},
                 {"lr": 0.02, "alpha": 0.9, "eps": 1e-6}, id="rmsprop-options"),
    pytest.param("rmsprop", {"lr": 0.01, "alpha": 0.0, "eps": 1e-10},
                 {"lr": 0.01, "alpha": 0.0, "eps": 1e-10}, id="rmsprop-alpha0"),
    pytest.param("adam", {}, {}, id="adam-defaults"),
    pytest.param("adam", {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6},
                 {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6}, id="adam-options"),
    pytest.param("adam", {"lr": 0.01, "betas": (0.0, 0.5), "eps": 1e-12},
                 {"lr": 0.01, "betas": (0.0, 0.5), "eps": 1e-12}, id="adam-beta1=0"),
]
TORCH_OPTIMIZERS = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam"}


def test_every_optimizer_has_a_case():
    assert {case.values[0] for case in OPTIMIZER_CASES} == set(OPTIMIZERS)


@pytest.mark.parametrize("name,ours,theirs", OPTIMIZER_CASES)
@pytest.mark.parametrize("lr_for", [None, {"b": 0.5}], ids=["one-lr", "lr_for"])
def test_optimizer_equals_torch_optim_step_by_step(name, ours, theirs, lr_for, rng):
    steps = 20
    params = {k: rng.standard_normal(s) for k, s in SHAPES.items()}
    tparams = {k: _t(v, grad=True) for k, v in params.items()}
    if lr_for is None:
        opt = OPTIMIZERS[name](params, **ours)
        groups = [{"params": list(tparams.values())}]
    else:
        # per-parameter rates are torch's param groups: "b" at half the default rate
        base = inspect.signature(OPTIMIZERS[name]).parameters["lr"].default
        base = ours.get("lr", base)
        opt = OPTIMIZERS[name](params, lr_for={"b": lr_for["b"] * base}, **ours)
        groups = [{"params": [tparams["W"], tparams["tiny"]]},
                  {"params": [tparams["b"]], "lr": lr_for["b"] * base}]
        assert opt.lrs == {"W": base, "b": lr_for["b"] * base, "tiny": base}
    topt = getattr(torch.optim, TORCH_OPTIMIZERS[name])(groups, **theirs)
    start = {k: v.copy() for k, v in params.items()}
    for t, grads in enumerate(_gradient_sequence(steps)):
        opt.step({k: g.copy() for k, g in grads.items()})
        for k, g in grads.items():
            tparams[k].grad = _t(g)
        topt.step()
        for k in params:
            assert_close(f"optimizer {name} params[{k} step {t}]", params[k], tparams[k])
            # and the distance travelled, which the parameters' own size would hide
            # (an update 1e-3 of a parameter 1 must agree to 1e-13 of it, not 1e-10):
            # beyond the half ulp of theta that each step's rounding leaves on each side
            ulps = (t + 1) * np.finfo(np.float64).eps * float(np.abs(params[k]).max())
            assert_close(f"optimizer {name} displacement[{k} step {t}]", params[k] - start[k],
                  tparams[k].detach().numpy() - start[k], floor=ulps)
    assert opt.step_count == steps
    # the buffers are torch's state under its names
    state = {k: topt.state[p] for k, p in tparams.items()}
    pairs = {"sgd": [("velocity", "momentum_buffer")], "rmsprop": [("square_avg", "square_avg")],
             "adam": [("m", "exp_avg"), ("v", "exp_avg_sq")]}[name]
    for buffer, theirs_name in pairs:
        for k in params:
            if theirs_name in state[k] and state[k][theirs_name] is not None:
                assert_close(f"optimizer {name} buffer[{buffer} {k}]", opt.buffers[buffer][k],
                      state[k][theirs_name])
            else:          # torch keeps no momentum buffer without momentum
                assert name == "sgd" and opt.momentum == 0.0


def test_optimizer_defaults_are_torchs_but_for_the_documented_lrs():
    """Every option rnnzoo offers has torch's default, except the learning rates the
    docstrings name: SGD 0.01 (torch 1e-3), RMSprop 1e-3 (torch 1e-2)."""
    documented = {("sgd", "lr"): (0.01, 1e-3, "defaults to 1e-3"),
                  ("rmsprop", "lr"): (1e-3, 1e-2, "defaults to 1e-2")}
    for name, cls in OPTIMIZERS.items():
        theirs = inspect.signature(getattr(torch.optim, TORCH_OPTIMIZERS[name])).parameters
        for option, p in inspect.signature(cls).parameters.items():
            if option in ("params", "lr_for"):
                continue
            assert option in theirs, (name, option)
            ours_default, theirs_default = p.default, theirs[option].default
            if isinstance(ours_default, tuple):
                theirs_default = tuple(theirs_default)
            if (name, option) in documented:
                ours_doc, theirs_doc, says = documented[name, option]
                assert (ours_default, theirs_default) == (ours_doc, theirs_doc)
                assert says in " ".join(cls.__doc__.split())
            else:
                assert ours_default == theirs_default, (name, option)


# ====================================================================== 2. clipping
def _model_like_grads(rng, scale):
    model = rnnzoo.build_model("lstm", 3, 5, 2, layers=2)
    return {k: scale * rng.standard_normal(p.shape) for k, p in model.params.items()}


def _holders(grads):
    """torch leaves whose .grad are ``grads`` (a dict name -> array), in its order."""
    params = []
    for g in grads.values():
        p = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
        p.grad = _t(g)
        params.append(p)
    return params


def _torch_clip_as_documented(params, max_norm):
    """torch.nn.utils.clip_grad_norm_ over the leaves ``params``, then the documented
    difference: rnnzoo divides by norm + 1e-12 where torch divides by norm + 1e-6.
    Returns torch's norm (before clipping)."""
    norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
    # a norm in (max_norm - 1e-6, max_norm] torch scales and rnnzoo does not (documented,
    # checked by test_a_norm_just_under_max_norm_is_left_alone_where_torch_scales)
    assert not max_norm - 1e-6 < norm <= max_norm
    if norm > max_norm:
        with torch.no_grad():
            for p in params:
                p.grad.mul_((norm + 1e-6) / (norm + 1e-12))
    return norm


@pytest.mark.parametrize("scale,max_norm", [(1.0, 1.0), (1.0, 0.1), (1e-3, 1.0),
                                            (1e3, 5.0), (1e-8, 1e-9), (1.0, 1e3)])
def test_clip_grad_norm_equals_torch(scale, max_norm, rng):
    grads = _model_like_grads(rng, scale)
    params = _holders(grads)
    norm = clip_grad_norm(grads, max_norm)
    tnorm = _torch_clip_as_documented(params, max_norm)
    assert_close("clip norm", norm, tnorm)
    for k, p in zip(grads, params):
        assert_close(f"clip grads[{k}]", grads[k], p.grad)
    if norm > max_norm:
        assert global_norm(grads) <= max_norm * (1 + 1e-12)


def test_the_documented_epsilon_is_the_whole_difference(rng):
    """Unported, rnnzoo's clipped gradient is torch's times (n + 1e-6) / (n + 1e-12),
    a relative 1e-6 / n as the docstring says: seen at a norm n ~ 2e-3 (5e-4)."""
    grads = _model_like_grads(rng, 1e-4)
    params = _holders(grads)
    norm = clip_grad_norm(grads, 1e-4)
    tnorm = float(torch.nn.utils.clip_grad_norm_(params, 1e-4))
    assert 1e-4 < norm < 1e-2
    for k, p in zip(grads, params):
        ratio = grads[k] / p.grad.numpy()
        assert_close(f"clip ratio[{k}]", ratio, np.full_like(ratio, (tnorm + 1e-6) / (tnorm + 1e-12)))
        assert abs(ratio.mean() - 1) > 0.1 * 1e-6 / norm


def test_a_norm_just_under_max_norm_is_left_alone_where_torch_scales(rng):
    grads = _model_like_grads(rng, 1.0)
    norm0 = global_norm(grads)
    max_norm = norm0 + 5e-7                        # the norm is under max_norm by 5e-7
    before = {k: g.copy() for k, g in grads.items()}
    params = _holders(grads)
    assert clip_grad_norm(grads, max_norm) == norm0
    tnorm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
    for k, p in zip(grads, params):
        np.testing.assert_array_equal(grads[k], before[k])
        assert_close(f"clip under max_norm[{k}]", p.grad, before[k] * max_norm / (tnorm + 1e-6))


@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_a_non_finite_norm_scales_nothing_where_torch_zeroes(bad, rng):
    """The documented difference: torch multiplies by max_norm / inf = 0 (NaN stays NaN),
    rnnzoo leaves the gradients alone and returns the non-finite norm."""
    grads = _model_like_grads(rng, 1.0)
    grads["cell0.W_hh"][0, 0] = bad
    before = {k: g.copy() for k, g in grads.items()}
    params = _holders(grads)
    norm = clip_grad_norm(grads, 1.0)
    tnorm = float(torch.nn.utils.clip_grad_norm_(params, 1.0))
    assert not math.isfinite(norm) and (math.isnan(norm) == math.isnan(tnorm))
    for k, p in zip(grads, params):
        np.testing.assert_array_equal(grads[k], before[k])
        if bad == np.inf:                              # NaN * 0 is NaN, inf * 0 too
            finite = np.isfinite(before[k])
            assert (p.grad.numpy()[finite] == 0).all()


# ====================================================================== 3. losses
@pytest.mark.parametrize("shape", [(5, 1), (4, 3, 2), (7,)])
def test_mse_loss_and_gradient_equal_torch(shape, rng):
    y, target = rng.standard_normal(shape), rng.standard_normal(shape)
    loss, dy = mse_loss(y, target)
    yt = _t(y, grad=True)
    tloss = F.mse_loss(yt, _t(target))
    tloss.backward()
    assert_close("mse loss", loss, tloss)
    assert_close("mse dy", dy, yt.grad)


def _torch_xent(logits, labels, ignore_index=IGNORE_INDEX):
    C = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, C), torch.tensor(labels).reshape(-1),
                           ignore_index=ignore_index)


@pytest.mark.parametrize("lead,C,ignore_index,ignored,scale", [
    ((6,), 4, IGNORE_INDEX, 0.0, 1.0),                    # readout "last": (B, C)
    ((5, 3), 7, IGNORE_INDEX, 0.0, 1.0),                  # readout "all": (T, B, C)
    ((5, 3), 7, IGNORE_INDEX, 0.6, 1.0),                  # most steps not asked (mqar)
    ((4, 2), 3, 1, 0.0, 1.0),                             # an ignore_index that is a class
    ((8, 2), 5, IGNORE_INDEX, 0.3, 60.0),                 # large logits: exp would overflow
    ((3,), 1, IGNORE_INDEX, 0.0, 1.0),                    # one class: loss 0
])
def test_cross_entropy_and_gradient_equal_torch(lead, C, ignore_index, ignored, scale, rng):
    logits = scale * rng.standard_normal(lead + (C,))
    labels = rng.integers(0, C, lead)
    mask = rng.random(lead) < ignored
    mask.flat[0] = False                                  # at least one position counted
    labels[mask] = ignore_index
    loss, dz = softmax_cross_entropy(logits, labels, ignore_index=ignore_index)
    zt = _t(logits, grad=True)
    tloss = _torch_xent(zt, labels, ignore_index)
    tloss.backward()
    assert_close("xent loss", loss, tloss)
    assert_close("xent dlogits", dz, zt.grad)
    assert (dz[labels == ignore_index] == 0).all()


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_tasks_loss_equals_torch(name, rng):
    """task.loss (what the Trainer calls) on the task's own targets: MSE or
    cross-entropy with the task's ignored steps, against torch.nn.functional."""
    task = make_task(name)
    x, target = task.batch(4, np.random.default_rng(5))
    O = task.output_size
    y = 2.0 * rng.standard_normal((4, O) if task.readout == "last" else (task.T, 4, O))
    loss, dy = task.loss(y, target)
    yt = _t(y, grad=True)
    tloss = F.mse_loss(yt, _t(target)) if task.loss_kind == "mse" else \
        _torch_xent(yt, target)
    tloss.backward()
    assert_close("task loss", loss, tloss)
    assert_close(f"task dy[{name}]", dy, yt.grad)


# ====================================================================== the twin in torch
class TorchTwin:
    """rnnzoo's SequenceModel written with torch modules: nn.LSTM / nn.GRU with
    num_layers = the model's layers (or one single-layer module per residual GLU block,
    as tests/test_blocks.py writes them), and F.linear for the readout; the state starts
    at zeros, as rnnzoo's does. Parameters are copied from rnnzoo (the cells' through
    rnnzoo.to_torch); ``named`` maps rnnzoo's parameter names to torch's leaves."""

    def __init__(self, model):
        self.model, self.named = model, {}
        cells, self.glu = model.cells, model.blocks is not None
        convert = [rnnzoo.to_torch(c) for c in cells]          # the library's conversion
        assert all(m.weight_ih_l0.dtype == torch.float64 for m in convert)
        kind = type(convert[0])
        if self.glu:
            self.rnns = convert
            for k, m in enumerate(convert):
                for ours in ("W_ih", "W_hh", "b_ih", "b_hh"):
                    self.named[f"cell{k}.{ours}"] = getattr(m, _TORCH_NAME[ours] + "l0")
            for k, v in model.blocks.params.items():
                self.named[k] = _t(v, grad=True)
        else:
            H = cells[0].hidden_size
            self.rnn = kind(cells[0].input_size, H, num_layers=len(cells),
                            dtype=torch.float64)
            with torch.no_grad():
                for k, m in enumerate(convert):
                    for ours in ("W_ih", "W_hh", "b_ih", "b_hh"):
                        mine = getattr(self.rnn, _TORCH_NAME[ours] + f"l{k}")
                        mine.copy_(getattr(m, _TORCH_NAME[ours] + "l0"))
                        self.named[f"cell{k}.{ours}"] = mine
        for n in ("W", "b"):
            self.named[f"readout.{n}"] = _t(model.readout.params[n], grad=True)
        assert set(self.named) == set(model.params)
        self.named = {k: self.named[k] for k in model.params}          # rnnzoo's order

    def forward(self, x, state=None):
        """x (T, B, D) tensor -> (y, final state), from ``state`` (None: zeros)."""
        P = self.named
        if not self.glu:
            out, state = self.rnn(x, state)
        else:
            H = self.model.blocks.width
            norm = lambda h, pre: F.layer_norm(h, (H,), P[pre + "norm_g"],  # noqa: E731
                                               P[pre + "norm_b"], eps=1e-5)
            h = F.linear(x, P["encoder.W"], P["encoder.b"])
            states = []
            for k, rnn in enumerate(self.rnns):
                s, sk = rnn(norm(h, f"block{k}."), None if state is None else state[k])
                states.append(sk)
                z = F.linear(F.gelu(s, approximate="tanh"), P[f"block{k}.W"], P[f"block{k}.b"])
                h = h + F.glu(z, dim=-1)
            out, state = norm(h, "final_"), states
        if self.model.readout.readout == "last":
            out = out[-1]
        return F.linear(out, P["readout.W"], P["readout.b"]), state

    def loss(self, task, x, target, tbptt=None):
        """The task's loss of one batch, with truncated BPTT as torch users write it:
        each chunk starts from the previous one's final state, detached."""
        x = _t(x)
        T = x.shape[0]
        if tbptt is None or tbptt >= T:
            y, _ = self.forward(x)
        else:
            ys, state = [], None
            for s in range(0, T, tbptt):
                y, state = self.forward(x[s:s + tbptt], state)
                state = _detach(state)
                ys.append(y)
            y = torch.cat(ys) if self.model.readout.readout == "all" else ys[-1]
        if task.loss_kind == "mse":
            return F.mse_loss(y, _t(target))
        return _torch_xent(y, target)


_TORCH_NAME = {"W_ih": "weight_ih_", "W_hh": "weight_hh_", "b_ih": "bias_ih_",
               "b_hh": "bias_hh_"}


def _detach(state):
    if isinstance(state, torch.Tensor):
        return state.detach()
    return type(state)(_detach(s) for s in state)


def _perturb(model, rng, scale=0.3):
    """Away from the initialization (norms off g = 1, beta = 0), so every term counts."""
    for p in model.params.values():
        p += scale * rng.standard_normal(p.shape)


# (cell, task, its options, blocks): each readout and loss the tasks use
TRAINING_CASES = [
    pytest.param("lstm", "adding", {"T": 12}, None, id="lstm-adding-mse-last"),
    pytest.param("gru", "mqar", {"T": 12, "pairs": 2, "vocab": 4}, None,
                 id="gru-mqar-xent-all-ignored"),
    pytest.param("gru", "induction", {"T": 10, "vocab": 4}, None, id="gru-induction-xent-last"),
    pytest.param("lstm", "parity", {"T": 9}, "glu", id="lstm-glu-parity-xent-all"),
]


def _trainer_and_twin(cell, task_name, opts, blocks, rng, **trainer_kw):
    task = make_task(task_name, **opts)
    model = rnnzoo.build_model(cell, task.input_size, 5, task.output_size, layers=2,
                               readout=task.readout, blocks=blocks, seed=3)
    _perturb(model, rng)
    twin = TorchTwin(model)                   # copied before rnnzoo trains
    trainer = Trainer(model, task, progress=False, seed=11, **trainer_kw)
    return task, model, twin, trainer


# ====================================================================== 4. training steps
@pytest.mark.parametrize("cell,task_name,opts,blocks", TRAINING_CASES)
@pytest.mark.parametrize("tbptt", [None, 4], ids=["bptt", "tbptt4"])
def test_trainer_steps_equal_torch(cell, task_name, opts, blocks, tbptt, rng):
    """Ten Trainer steps (forward, the task's loss, backward, global-norm clipping, Adam)
    against the twin trained by torch: the loss, the gradients (before clipping: Adam's
    update would hide a gradient off by a factor) and their norm at every step, the
    parameters after every step."""
    steps, clip, lr = 10, 0.5, 0.02
    task, model, twin, trainer = _trainer_and_twin(cell, task_name, opts, blocks, rng,
                                                   optimizer="adam", lr=lr, clip=clip,
                                                   batch_size=6, tbptt=tbptt)
    topt = torch.optim.Adam(list(twin.named.values()), lr=lr)
    clipped = 0
    for step in range(steps):
        x, target = trainer.batch(step)               # a pure function of (seed, step)
        _, grads = trainer.loss_and_grads(x, target)  # what train_step is about to use
        loss, norm = trainer.train_step()
        topt.zero_grad()
        tloss = twin.loss(task, x, target, tbptt)
        tloss.backward()
        for k, p in twin.named.items():
            assert_close(f"train grads[{k} step {step}]", grads[k], p.grad)
        tnorm = _torch_clip_as_documented(list(twin.named.values()), clip)
        topt.step()
        clipped += tnorm > clip
        assert_close(f"train loss[{step}]", loss, tloss)
        assert_close(f"train grad norm[{step}]", norm, tnorm)
        for k, p in model.params.items():
            assert_close(f"train params[{k} step {step}]", p, twin.named[k])
    assert trainer.step == steps
    assert clipped > 0, "the clipping was never exercised: lower clip"


# ====================================================================== 5. truncated BPTT
@pytest.mark.parametrize("cell,task_name,opts,blocks", TRAINING_CASES)
@pytest.mark.parametrize("k", [1, 4, 5])
def test_truncated_bptt_gradient_equals_torch_with_detached_state(cell, task_name, opts,
                                                                  blocks, k, rng):
    """Trainer(tbptt=k).loss_and_grads: chunks of k steps, each from the previous chunk's
    final state, no gradient across the boundaries, one loss over the whole sequence;
    in torch, the state .detach()ed at every boundary. k = 4 and 5 leave a shorter last
    chunk on some tasks; k = 1 cuts at every step."""
    task, model, twin, trainer = _trainer_and_twin(cell, task_name, opts, blocks, rng,
                                                   tbptt=k, batch_size=5)
    x, target = trainer.batch(0)
    loss, grads = trainer.loss_and_grads(x, target)
    tloss = twin.loss(task, x, target, tbptt=k)
    tloss.backward()
    assert_close("tbptt loss", loss, tloss)
    for name, p in twin.named.items():
        if p.grad is None:                     # nothing reached it (no chunk saw the loss)
            np.testing.assert_array_equal(grads[name], 0.0)
        else:
            assert_close(f"tbptt grads[{name}]", grads[name], p.grad)
    # the truncation is real: full BPTT's gradient differs
    full = Trainer(model, task, progress=False, seed=11, batch_size=5)
    _, full_grads = full.loss_and_grads(x, target)
    moved = max(float(np.abs(full_grads[n] - grads[n]).max()) for n in grads if "cell" in n)
    assert moved > 1e-6
