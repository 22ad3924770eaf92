"""Skip RNN: the proofs the generic suites cannot give.

The registry-driven gradcheck covers soft mode in full (budget included) and checks that
the checker refuses hard mode. Here: (b) hard mode with the gate pattern frozen, every
path but the surrogate checked exactly; (c) the straight-through surrogate against an
explicit reference of its definition; real skipping equal to the masked path; the
paper's closed form for the skipped steps; the auxiliary-loss plumbing.
"""
import numpy as np
import pytest

import rnnzoo
from rnnzoo.training import Trainer

D, H, T, B = 3, 4, 8, 3


def skipping_cell(base="rnn", **opts):
    """A hard Skip RNN whose gate skips often (b_p = -1: Δ ≈ 0.27, so ũ climbs over a
    few steps) and with a budget, so every kind of step and the budget appear."""
    cell = rnnzoo.make("skiprnn", D, H, seed=4, base=base, budget=0.05, **opts)
    cell.params["b_p"][:] = -1.0
    return cell


def frozen_margins(cell, x, state0):
    """Distance of every ũ_t from a rounding threshold and of Δ from 1 - ũ (the min's
    kink) at the unperturbed point: perturbations of 1e-6 cannot cross either."""
    _, _, cache = cell.forward(x, state0)
    ut = cache.u_tilde[:-1]
    to_round = np.min(np.abs(ut - np.floor(ut) - 0.5))
    to_kink = np.min(np.abs(cache.delta - (1.0 - ut)))
    return cache, to_round, to_kink


def test_hard_mode_exact_paths_with_the_pattern_frozen(rng):
    """(b) With surrogate_slope = 0 backward is the exact derivative of the network with
    its gate pattern held fixed, which is what central differences measure as long as no
    perturbation changes the pattern. A pass: every tensor to ~1e-9, the pattern mixes
    updates and skips, and it is the same in every forward the checker ran."""
    for base in ("rnn", "gru", "lstm"):
        cell = skipping_cell(base)
        x = rng.standard_normal((T, B, D))
        state0 = tuple(0.5 * rng.standard_normal(s.shape) for s in cell.initial_state(B)[:-1])
        state0 += (np.ones((B, 1)),)
        cache, to_round, to_kink = frozen_margins(cell, x, state0)
        pattern = cache.u.copy()
        assert 0 < pattern.mean() < 1, "the pattern must mix updates and skips"
        assert to_round > 1e-3 and to_kink > 1e-3
        seen = []
        original = cell._forward

        def spy(x_, s_):
            out = original(x_, s_)
            seen.append(out[2].u.copy())
            return out

        cell._forward = spy
        cell.surrogate_slope = 0.0       # switch the surrogate off: exact frozen gradient
        cell.exact_gradient = True       # ... so the checker may compare it
        report = rnnzoo.gradcheck(cell, x, state0, seed=2)
        assert report.passed, report.table()
        assert len(seen) > 100 and all(np.array_equal(p, pattern) for p in seen)
        # and the surrogate does change the gradient (else (c) would test nothing)
        cell.surrogate_slope = 1.0
        _, _, c = cell.forward(x, state0)
        g1 = cell.backward(np.ones((T, B, H)), c)[2]["w_p"]
        cell.surrogate_slope = 0.0
        g0 = cell.backward(np.ones((T, B, H)), c)[2]["w_p"]
        assert not np.allclose(g0, g1)


@pytest.mark.parametrize("base", rnnzoo.cells.skiprnn.SkipRNN.IN_PLACE_BASES)
def test_in_place_path_equals_the_step_by_step_path(base, rng):
    """Hard mode gates an in-place base's own buffers (one base cache over the sequence,
    its GEMMs batched over all steps); the general path runs the base on a fresh cache
    per step. The same function: outputs, final state, dL/dx, dL/dstate0 and every
    parameter gradient agree to 1e-12, on a pattern that mixes updates and skips."""
    fast = skipping_cell(base)
    slow = skipping_cell(base)
    slow.IN_PLACE_BASES = ()                 # this instance takes the general path
    x = rng.standard_normal((T, B, D))
    state0 = tuple(0.5 * rng.standard_normal(s.shape) for s in fast.initial_state(B)[:-1])
    state0 += (np.ones((B, 1)),)
    dhs = rng.standard_normal((T, B, H))
    dstate = tuple(rng.standard_normal(s.shape) for s in fast.initial_state(B))
    out = []
    for cell in (fast, slow):
        hs, sT, cache = cell.forward(x, state0)
        assert cache.in_place is (cell is fast)
        out.append((hs, sT, cache.u, cell.backward(dhs, cache, dstate)))
    (hs, sT, u, (dx, ds0, g)), (hs2, sT2, u2, (dx2, ds02, g2)) = out
    assert 0 < u.mean() < 1 and np.array_equal(u, u2)
    for a, b in [(hs, hs2), (dx, dx2), *zip(sT, sT2), *zip(ds0, ds02),
                 *((g[k], g2[k]) for k in g)]:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_a_given_u0_outside_0_1_takes_the_general_path(rng):
    """round(ũ_0) = 2 (a caller's state may hold any ũ_0) breaks the in-place argument
    (it needs u_t in {0, 1}), so forward takes the step-by-step path; its gradients are
    that path's."""
    fast, slow = skipping_cell("rnn"), skipping_cell("rnn")
    slow.IN_PLACE_BASES = ()
    x = rng.standard_normal((T, B, D))
    state0 = tuple(fast.initial_state(B)[:-1]) + (np.full((B, 1), 2.0),)
    dhs = rng.standard_normal((T, B, H))
    (hs, _, c1), (hs2, _, c2) = fast.forward(x, state0), slow.forward(x, state0)
    assert not c1.in_place and c1.u.max() == 2
    np.testing.assert_array_equal(hs, hs2)
    g, g2 = fast.backward(dhs, c1)[2], slow.backward(dhs, c2)[2]
    for k in g:
        np.testing.assert_array_equal(g[k], g2[k])


def test_a_base_carrying_its_past_inputs_passes_gradcheck(rng):
    """QRNN with f-pooling carries (B, (k-1) D) past inputs in its state, a component of
    another shape than h: the gate's Σ d (S - s_{t-1}) must reduce each component over
    its own width. (The textbook reference of QRNN is not step-wise, so this variant is
    not in EXTRA_VARIANTS.)"""
    cell = rnnzoo.make("skiprnn", 3, 4, seed=1, base="qrnn", base_options={"pooling": "f"},
                       soft=True, budget=0.1)
    report = rnnzoo.gradcheck(cell, rng.standard_normal((5, 2, 3)))
    assert report.passed, report.table()


def test_forward_skipping_lets_sigma_overflow_quietly():
    """As forward does (and the bases' own forwards): exp(-a) -> inf for a very negative
    pre-activation gives σ = 0 with no RuntimeWarning."""
    import warnings
    for base in ("gru", "lstm"):
        cell = rnnzoo.make("skiprnn", 2, 4, seed=0, base=base)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            hs, _, _ = cell.forward_skipping(np.full((3, 1, 2), 1e3))
        assert np.all(np.isfinite(hs))


def reference_loss(P, x, h0, u0, R, C, budget, dhs, v):
    """Skip RNN over an Elman base, written from the equations with the straight-through
    estimator as its definition: u_t = R_t + (ũ_t − C_t), R = round(ũ) and C = ũ taken
    from the unperturbed forward (constants), so u_t = round(ũ_t) at that point and
    du_t/dũ_t = 1. Returns Σ dhs·hs + v·state_T + λ Σ u / B."""
    h, ut, total = h0, u0, 0.0
    for t in range(x.shape[0]):
        u = R[t] + (ut - C[t])
        cand = np.tanh(x[t] @ P["base.W_ih"].T + P["base.b_ih"] + h @ P["base.W_hh"].T
                       + P["base.b_hh"])
        h = u * cand + (1 - u) * h
        delta = 1 / (1 + np.exp(-(h @ P["w_p"].T + P["b_p"])))
        ut = u * delta + (1 - u) * (ut + np.minimum(delta, 1 - ut))
        total += np.sum(dhs[t] * h) + budget * u.sum() / x.shape[1]
    return total + np.sum(v[0] * h) + np.sum(v[1] * ut)


def test_straight_through_against_its_definition(rng):
    """(c) The hard cell's backward (surrogate on) equals central differences of the
    reference above, over every parameter, x and both initial-state components. A pass:
    relative errors ~1e-9. The reference's forward also equals the cell's."""
    cell = skipping_cell("rnn")
    x = rng.standard_normal((T, B, D))
    h0, u0 = 0.5 * rng.standard_normal((B, H)), np.ones((B, 1))
    hs, sT, cache = cell.forward(x, (h0, u0))
    R, C = cache.u.copy(), cache.u_tilde[:-1].copy()
    dhs, v = rng.standard_normal(hs.shape), (rng.standard_normal((B, H)), rng.standard_normal((B, 1)))
    dx, (dh0, du0), grads = cell.backward(dhs, cache, v)
    tensors = {**cell.params, "x": x, "h0": h0, "u0": u0}
    analytic = {**grads, "x": dx, "h0": dh0, "u0": du0}

    def loss():
        return reference_loss(cell.params, x, h0, u0, R, C, cell.budget, dhs, v)

    value = loss()
    assert value == pytest.approx(np.sum(dhs * hs) + np.sum(v[0] * sT[0]) + np.sum(v[1] * sT[1])
                                  + cache.aux_loss, rel=1e-12)
    eps = 1e-6
    for name, a in tensors.items():
        flat, numeric = a.reshape(-1), np.empty(a.size)
        for i in range(a.size):
            old = flat[i]
            flat[i] = old + eps
            plus = loss()
            flat[i] = old - eps
            minus = loss()
            flat[i] = old
            numeric[i] = (plus - minus) / (2 * eps)
        err = np.abs(analytic[name].reshape(-1) - numeric).max() / np.abs(numeric).max()
        assert err < 1e-7, (name, err)


@pytest.mark.parametrize("base", ["gru", "lstm", "indrnn"])     # indrnn: not in place
@pytest.mark.parametrize("batch", [1, 5])
def test_real_skipping_equals_the_masked_path(base, batch, rng):
    """forward_skipping computes the base only on rows with u_t = 1, and the base saw
    exactly sum(u) rows. At batch size 1 it gives bit-for-bit the masked forward's outputs
    and final state. With several rows, a step where a subset updates multiplies fewer
    rows, and OpenBLAS picks its kernel by the row count (a one-row product goes through
    gemv, which sums in another order than gemm), so the two paths agree to rounding
    (~1e-16 here), not bit for bit; the update pattern is identical."""
    cell = skipping_cell(base)
    x = rng.standard_normal((20, batch, D))
    hs, sT, cache = cell.forward(x)
    rows_run = []
    if base in cell.IN_PLACE_BASES:         # every base step, on whichever cache
        original = cell.cell.step

        def count(t, s_, cache):
            rows_run.append(s_[0].shape[0])
            return original(t, s_, cache)
        cell.cell.step = count
    else:                                   # one-step sequences through _forward
        original = cell.cell._forward

        def count(x_, s_):
            rows_run.append(x_.shape[0] * x_.shape[1])
            return original(x_, s_)
        cell.cell._forward = count
    hs2, sT2, updates = cell.forward_skipping(x)
    same = np.testing.assert_array_equal if batch == 1 else \
        (lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15))
    same(hs2, hs)
    for a, b in zip(sT2, sT):
        same(a, b)
    np.testing.assert_array_equal(updates, cache.u[:, :, 0] == 1)
    assert 0 < updates.mean() < 1
    assert sum(rows_run) == updates.sum()


@pytest.mark.parametrize("base", ["gru", "rnn"])
def test_real_skipping_from_a_state_that_skips_first(base, rng):
    """A given state with ũ_0 = 0.3 makes the first step a skip, before any Δũ has been
    computed; on later skipped steps forward_skipping reuses the last Δũ (s_t = s_{t-1})
    instead of recomputing it. A pass: at batch size 1 hs, the final state (ũ_T
    included) and the update pattern equal the masked forward's bit for bit, the first
    step did not update, and runs of two or more skipped steps occur."""
    cell = skipping_cell(base)
    x = rng.standard_normal((24, 1, D))
    state0 = cell.initial_state(1)
    state0[-1][:] = 0.3
    hs, sT, cache = cell.forward(x, state0)
    hs2, sT2, updates = cell.forward_skipping(x, state0)
    np.testing.assert_array_equal(hs2, hs)
    for a, b in zip(sT2, sT):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(updates, cache.u[:, :, 0] == 1)
    assert not updates[0, 0]
    gaps = np.diff(np.flatnonzero(updates[:, 0])) - 1
    assert (gaps >= 2).any()


@pytest.mark.parametrize("T", [1, 2, 3])
def test_real_skipping_clamps_the_growth_as_forward_does(T, rng):
    """ũ grows by min(Δ, 1 - ũ) on a skipped step. From a given ũ_0 = -0.4 (it rounds to
    0, so both paths accept it) with Δ ≈ 0.8, the second skipped step's growth is
    clamped: ũ_2 = 0.4 + min(0.8, 0.6) = 1. A pass: the final state, ũ_T included,
    equals the masked forward's bit for bit for every T."""
    cell = skipping_cell("gru")
    cell.params["b_p"][:] = 1.4
    cell.params["w_p"][:] = 0.0
    x = rng.standard_normal((T, 1, D))
    state0 = cell.initial_state(1)
    state0[-1][:] = -0.4
    _, sT, cache = cell.forward(x, state0)
    _, sT2, _ = cell.forward_skipping(x, state0)
    for a, b in zip(sT2, sT):
        np.testing.assert_array_equal(a, b)
    if T >= 2:
        assert cache.u_tilde[2, 0, 0] == 1.0 and cache.u[:2].sum() == 0


def test_forward_skipping_reads_replaced_base_parameters(rng):
    """An optimizer or a checkpoint may put new arrays into cell.params["base.*"] (not
    write into the old ones); forward_skipping, like forward, must run the base on them.
    A pass: after the replacement both paths agree bit for bit (batch 1) and the outputs
    changed."""
    cell = skipping_cell("gru")
    x = rng.standard_normal((12, 1, D))
    before = cell.forward_skipping(x)[0]
    for k in [k for k in cell.params if k.startswith("base.")]:
        cell.params[k] = 1.5 * cell.params[k]              # new arrays, old ones untouched
    hs, _, _ = cell.forward_skipping(x)
    np.testing.assert_array_equal(hs, cell.forward(x)[0])
    assert not np.allclose(hs, before)


def test_closed_form_for_the_skipped_steps(rng):
    """Paper eq. 6: after an update with Δ = Δũ_t, ⌈0.5/Δ⌉ − 1 steps are skipped. A pass:
    every complete gap in the run matches it."""
    cell = skipping_cell("gru")
    x = rng.standard_normal((60, 4, D))
    _, _, cache = cell.forward(x)
    u, delta = cache.u[:, :, 0], cache.delta[:, :, 0]
    checked = 0
    for b in range(u.shape[1]):
        ups = np.flatnonzero(u[:, b])
        for a, nxt in zip(ups, ups[1:]):
            assert nxt - a - 1 == np.ceil(0.5 / delta[a, b]) - 1
            checked += 1
    assert checked > 10


def test_budget_is_lambda_sum_u_over_batch(rng):
    cell = rnnzoo.make("skiprnn", D, H, budget=0.3, soft=True)
    _, _, cache = cell.forward(rng.standard_normal((T, B, D)))
    assert cache.aux_loss == pytest.approx(0.3 * cache.u.sum() / B, rel=1e-12)
    assert rnnzoo.make("skiprnn", D, H).forward(rng.standard_normal((T, B, D)))[2].aux_loss == 0


def test_untrained_cell_updates_every_step(rng):
    """b_p = 1 (the authors' init): Δ is near σ(1) ≈ 0.73 > 0.5, so every step updates."""
    cell = rnnzoo.make("skiprnn", D, H, seed=0)
    _, _, cache = cell.forward(rng.standard_normal((T, B, D)))
    assert np.all(cache.u == 1)


def test_model_and_trainer_add_the_aux_loss(rng):
    """A 2-layer soft Skip RNN model: cache.aux_loss is the sum of the layers', the model
    gradcheck (which adds it) passes, and the trainer's loss and History include it."""
    model = rnnzoo.build_model("skiprnn", 2, 4, 1, layers=2, readout="last", seed=1,
                               soft=True, budget=0.2)
    x = rng.standard_normal((5, 3, 2))
    _, cache = model.forward(x)
    assert cache.aux_loss == pytest.approx(sum(c.aux_loss for c in cache.cells), rel=1e-12)
    assert cache.aux_loss > 0
    assert rnnzoo.gradcheck(model, x).passed
    task = rnnzoo.tasks.make_task("adding", T=6)
    for tbptt in (None, 3):
        trainer = Trainer(model, task, batch_size=4, tbptt=tbptt, progress=False)
        xb, target = trainer.batch(0)
        y, c = model.forward(xb)
        task_loss = task.loss(y, target)[0]
        loss, grads = trainer.loss_and_grads(xb, target)
        assert loss == pytest.approx(task_loss + c.aux_loss, rel=1e-12)
        if tbptt:      # the first chunk's budget gradient reaches b_p too
            model0 = rnnzoo.build_model("skiprnn", 2, 4, 1, layers=2, readout="last",
                                        seed=1, soft=True, budget=0.0)
            g0 = Trainer(model0, task, batch_size=4, tbptt=3, progress=False) \
                .loss_and_grads(xb, target)[1]
            assert not np.allclose(grads["cell0.b_p"], g0["cell0.b_p"])
    history = Trainer(model, task, batch_size=4, progress=False, eval_every=2).run(2)
    assert len(history.aux_loss) == 2 and all(a > 0 for a in history.aux_loss)


@pytest.mark.parametrize("opts,match", [
    ({"base": "nope"}, "base must be the name of a registered cell"),
    ({"base": "skiprnn"}, "other than 'skiprnn'"),
    ({"base_options": [1]}, "base_options must be None or a dict"),
    ({"soft": "yes"}, "soft must be True or False"),
    ({"budget": -1.0}, r"budget must be a finite real number in \[0.0"),
    ({"budget": True}, "budget must be"),
    ({"budget": float("nan")}, "budget must be"),
    ({"base": "rnn", "base_options": {"nonlinearity": "sigmoid"}}, "nonlinearity must be"),
    ({"base": "qrnn"}, "does not output its first state component"),   # h = o c, state c
])
def test_bad_options(opts, match):
    with pytest.raises((ValueError, TypeError), match=match):
        rnnzoo.make("skiprnn", D, H, **opts)


def test_a_base_with_a_state_not_b_by_k_is_refused_at_make():
    """fastweights' fast-weight matrix A is (B, H, H): make used to accept it and forward
    failed with a broadcast error against the (B, 1) gate; a pass: make refuses it, naming
    the component and listing the bases that work."""
    with pytest.raises(ValueError, match=r"base 'fastweights' has state component 'A' of "
                                         r"shape \(B, 4, 4\).*bases that work.*: .*clockwork"):
        rnnzoo.make("skiprnn", D, H, base="fastweights")


@pytest.mark.parametrize("base", [n for n in rnnzoo.available() if n != "skiprnn"])
@pytest.mark.parametrize("soft", [False, True])
def test_every_base_is_refused_at_make_or_runs(base, soft, rng):
    """Registry-driven: a base is either refused at construction, with the list of the
    bases that work (and it is not on that list), or forward and backward run."""
    try:
        cell = rnnzoo.make("skiprnn", D, H, base=base, soft=soft)
    except ValueError as exc:
        working = str(exc).split("the bases that work (with their default options): ")[1]
        assert base not in working.split(", ")
        return
    hs, _, cache = cell.forward(rng.standard_normal((4, 2, D)))
    cell.backward(np.ones_like(hs), cache)


def test_numpy_scalar_options_are_accepted():
    cell = rnnzoo.make("skiprnn", D, H, budget=np.float32(0.1), soft=np.bool_(True))
    assert cell.budget == pytest.approx(0.1) and cell.soft is True


def test_forward_skipping_refuses_soft_mode(rng):
    with pytest.raises(ValueError, match="soft=False"):
        rnnzoo.make("skiprnn", D, H, soft=True).forward_skipping(rng.standard_normal((3, 1, D)))


def test_forward_skipping_refuses_a_non_binary_u(rng):
    """A given state whose ũ rounds to neither 0 nor 1 (here 1.7 -> 2) has no meaning for
    real skipping (a row either runs or not); a pass: forward_skipping refuses it, naming
    the step, instead of treating u = 2 as an update."""
    cell = rnnzoo.make("skiprnn", D, H, seed=0)
    h0, u0 = cell.initial_state(2)
    u0[:] = [[1.7], [0.2]]
    with pytest.raises(ValueError, match="u_t at step 0 is not 0 or 1"):
        cell.forward_skipping(rng.standard_normal((3, 2, D)), (h0, u0))


def test_gradcheck_command_checks_the_differentiable_mode(capsys):
    """`python -m rnnzoo gradcheck skiprnn` says the default is a surrogate and checks
    soft mode (budget included) instead; a pass: exit code 0 and that sentence."""
    from rnnzoo.__main__ import main
    assert main(["gradcheck", "skiprnn"]) == 0
    out = capsys.readouterr().out
    assert "surrogate by design; checking skiprnn with {'soft': True" in out
    assert "1 passed, 0 failed" in out
