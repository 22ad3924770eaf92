"""Clockwork RNN and QRNN against plain reference loops written from the papers'
equations, plus the properties that make them cheap: Clockwork computes only its active
modules; QRNN's state carries the last k-1 inputs; zoneout's mask is seeded and used.

A pass: the cells equal the references to ~1e-15 (float64), and the structural checks
hold exactly.
"""
import numpy as np
import pytest

import rnnzoo

D = 3


# ---------------------------------------------------------------- clockwork
def clockwork_reference(cell, x, h0, t0):
    """Every module computed at every step, then the inactive ones put back."""
    P, periods = cell.params, np.asarray(cell.period_array)
    W_hh = P["W_hh"] * cell.mask_hh
    h, hs = h0.copy(), []
    for t in range(x.shape[0]):
        cand = np.tanh(x[t] @ P["W_ih"].T + P["b"] + h @ W_hh.T)
        active = ((t0[:, None] + t) % periods == 0)              # (B, g)
        keep = np.repeat(active, cell.sizes, axis=1)
        h = np.where(keep, cand, h)
        hs.append(h)
    return np.array(hs)


@pytest.mark.parametrize("opts,H", [({}, 16), ({"modules": 8}, 16),
                                    ({"periods": [1, 3, 5, 7]}, 16), ({"modules": 3}, 7)])
def test_clockwork_equals_the_dense_masked_reference(opts, H, rng):
    """Including rows at different phases (t0 differs per row), and modules of unequal
    size (H = 7 in 3 modules: 3, 2, 2 units)."""
    cell = rnnzoo.make("clockwork", D, H, seed=0, **opts)
    x = rng.standard_normal((20, 4, D))
    h0 = rng.standard_normal((4, H))
    t0 = np.array([0, 1, 5, 12])
    hs, (hT, tT), _ = cell.forward(x, (h0, t0[:, None].astype(float)))
    np.testing.assert_allclose(hs, clockwork_reference(cell, x, h0, t0), rtol=1e-13, atol=1e-14)
    np.testing.assert_array_equal(tT[:, 0], t0 + 20)


def test_clockwork_schedule_and_slow_modules_hold(rng):
    """Module i changes exactly at the steps t with t mod 2^i = 0 (every module at t=0)."""
    cell = rnnzoo.make("clockwork", D, 8, seed=1, modules=4)
    hs, _, _ = cell.forward(rng.standard_normal((16, 1, D)))
    h = np.concatenate([np.zeros((1, 1, 8)), hs])
    for i in range(4):
        block = slice(2 * i, 2 * i + 2)
        changed = [not np.array_equal(h[t + 1, :, block], h[t, :, block]) for t in range(16)]
        assert changed == [t % 2 ** i == 0 for t in range(16)]


def test_clockwork_computes_only_the_active_prefix(rng):
    """Units computed per step are the active prefix (k times the last active module +
    1), and the masked blocks of W_hh neither matter nor get a gradient."""
    cell = rnnzoo.make("clockwork", D, 16, seed=0, modules=4)
    x = rng.standard_normal((8, 2, D))
    hs, _, cache = cell.forward(x)
    assert cache.units == [16, 4, 8, 4, 12, 4, 8, 4]
    assert all(keep is None for keep in cache.keep)
    done, dense = cell.multiply_adds(8, B=2)
    H = 16
    assert done == 2 * H * sum(cache.units) + D * 2 * sum(cache.units)
    assert dense == 8 * 2 * (H * H + D * H)
    lower = cell.mask_hh == 0
    cell.params["W_hh"][lower] = 123.0            # entries a module may not read
    np.testing.assert_array_equal(cell.forward(x)[0], hs)
    _, _, grads = cell.backward(np.ones_like(hs), cell.forward(x)[2])
    assert np.all(grads["W_hh"][lower] == 0)


def test_clockwork_multiply_adds_default_counts_from_a_fresh_state(rng):
    """multiply_adds(T, B) without t0 counts a sequence started from the default state
    (clock 0), and multiply_adds(T) one such sequence (B = 1): each equals what forward
    computes from that state, for lengths that end mid-cycle too (where starting the
    clock at another step would count differently)."""
    cell = rnnzoo.make("clockwork", D, 16, seed=0, modules=4)
    for T in range(1, 10):
        _, _, cache = cell.forward(rng.standard_normal((T, 2, D)))
        assert cell.multiply_adds(T, B=2)[0] == 2 * (16 + D) * sum(cache.units)
        assert cell.multiply_adds(T)[0] == (16 + D) * sum(cache.units)


def test_clockwork_starts_from_the_dense_rnns_weights():
    """The docstring's initialization: every entry U(-1/sqrt H, 1/sqrt H) as rnnzoo's rnn,
    drawn the same way, so with one seed W_ih equals the rnn's and W_hh is the rnn's with
    the lower blocks masked; a pass: equal bit for bit."""
    rnn = rnnzoo.make("rnn", D, 8, seed=5)
    cw = rnnzoo.make("clockwork", D, 8, seed=5)
    np.testing.assert_array_equal(cw.params["W_ih"], rnn.params["W_ih"])
    np.testing.assert_array_equal(cw.params["W_hh"], rnn.params["W_hh"] * cw.mask_hh)


def test_clockwork_rebuilt_from_its_hyperparameters_keeps_its_periods(rng):
    """Periods that are not the default (here [1, 3], whose mask and weights equal the
    default [1, 2]'s) survive the trip through hyperparameters; a pass: the rebuilt cell
    computes the same hs (a cell rebuilt with periods [1, 2] would not)."""
    cell = rnnzoo.make("clockwork", D, 4, seed=0, periods=[1, 3])
    hp = dict(cell.hyperparameters)
    assert hp["periods"] == [1, 3]
    twin = rnnzoo.make(hp.pop("name"), **hp)
    x = rng.standard_normal((7, 2, D))
    np.testing.assert_array_equal(twin.forward(x)[0], cell.forward(x)[0])


@pytest.mark.parametrize("opts,match", [
    ({"modules": 9}, "at least the number of modules"),
    ({"modules": 0}, "modules must be an integer >= 1"),
    ({"modules": 2.0}, "modules must be an integer"),
    ({"periods": [2, 1]}, "strictly ascending"),
    ({"periods": [1, 1]}, "strictly ascending"),           # equal is not ascending
    ({"periods": [1, 2, 2]}, "strictly ascending"),
    ({"periods": [1, 0]}, "periods entry must be an integer >= 1"),
    ({"periods": "12"}, "periods must be None or a non-empty list"),
    ({"periods": [1, 2], "modules": 4}, "modules=4 but periods has 2"),
    ({"periods": [True, 2]}, "periods entry must be an integer"),
])
def test_clockwork_bad_options(opts, match):
    with pytest.raises(ValueError, match=match):
        rnnzoo.make("clockwork", D, 8, **opts)


@pytest.mark.parametrize("dtype, exact", [(np.float32, 2 ** 24), (np.float64, 2 ** 53)])
def test_clockwork_refuses_a_step_count_it_cannot_count_exactly(dtype, exact):
    """Pass: a state t beyond the integers the dtype holds exactly (t + T > 2^24 in float32,
    2^53 in float64; 1e20 overflowed the int64 cast with only a RuntimeWarning) is
    refused by name before the loop; the last t that fits runs and equals the reference."""
    cell = rnnzoo.make("clockwork", D, 8, dtype=dtype)
    x = np.random.default_rng(0).standard_normal((4, 2, D)).astype(dtype)
    h0 = np.zeros((2, 8), dtype)
    for t in (1e20, -1e20, exact - 3):
        with pytest.raises(ValueError, match=r"state0 component 't' \(the step count\) must "
                                             r"stay within"):
            cell.forward(x, (h0, np.full((2, 1), t, dtype)))
    t0 = np.array([exact - 4, exact - 5], dtype=np.int64)
    hs = cell.forward(x, (h0, t0[:, None].astype(dtype)))[0]
    # float32 rounds differently from the float64 reference; float64 must agree to 1e-13
    np.testing.assert_allclose(hs, clockwork_reference(cell, x, h0, t0),
                               rtol=1e-5 if dtype == np.float32 else 1e-13)


# ---------------------------------------------------------------- qrnn
def qrnn_reference(cell, x, c0, past):
    """The paper's equations one step at a time with an explicit window of inputs."""
    k, (T, B, _) = cell.window, x.shape
    seq = list(past.reshape(B, k - 1, D).transpose(1, 0, 2)) + list(x) if k > 1 else list(x)
    G = len(cell.gate_names)
    c, hs = c0.copy(), []
    for t in range(T):
        window = np.concatenate(seq[t:t + k], axis=1)          # oldest first
        a = (window @ cell.params["W"].T + cell.params["b"]).reshape(B, G, -1)
        g = dict(zip(cell.gate_names, a.transpose(1, 0, 2)))
        z, f = np.tanh(g["z"]), 1 / (1 + np.exp(-g["f"]))
        add = (1 / (1 + np.exp(-g["i"]))) * z if "i" in g else (1 - f) * z
        c = f * c + add
        hs.append(c if cell.pooling == "f" else c / (1 + np.exp(-g["o"])))
    return np.array(hs), c


@pytest.mark.parametrize("pooling", ["f", "fo", "ifo"])
@pytest.mark.parametrize("window", [1, 2, 4])
def test_qrnn_equals_the_step_by_step_reference(pooling, window, rng):
    cell = rnnzoo.make("qrnn", D, 5, seed=2, pooling=pooling, window=window)
    x = rng.standard_normal((7, 2, D))
    state0 = tuple(rng.standard_normal(s.shape) for s in cell.initial_state(2))
    past = state0[1] if window > 1 else None
    hs, sT, _ = cell.forward(x, state0)
    ref_hs, ref_c = qrnn_reference(cell, x, state0[0], past)
    np.testing.assert_allclose(hs, ref_hs, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(sT[0], ref_c, rtol=1e-13, atol=1e-14)
    if window > 1:     # the carried inputs are the last k-1 of x, oldest first
        np.testing.assert_array_equal(sT[1], x[-(window - 1):].transpose(1, 0, 2).reshape(2, -1))


@pytest.mark.parametrize("pooling", ["f", "fo", "ifo"])
def test_qrnn_blocks_of_steps_do_not_change_the_result(pooling, rng):
    """Forward and backward run their elementwise work in blocks of steps (block(B),
    ~16384 / (B H) steps: more than any small test's T, so every other test runs one
    block). Here blocks of 3 over T = 8 (3, 3 and a partial 2), c and dL/dc carried across
    block boundaries; a pass: hs, the final state, dx, dL/dstate0, every parameter
    gradient and dh_norm equal the one-block run's to rounding, and hs the reference's."""
    cell = rnnzoo.make("qrnn", D, 5, seed=2, pooling=pooling, window=2)
    x = rng.standard_normal((8, 2, D))
    state0 = tuple(rng.standard_normal(s.shape) for s in cell.initial_state(2))
    dhs = rng.standard_normal((8, 2, 5))
    dstate = tuple(rng.standard_normal(s.shape) for s in state0)

    def run():
        hs, sT, cache = cell.forward(x, state0)
        dx, ds0, grads = cell.backward(dhs, cache, dstate)
        return [hs, *sT, dx, *ds0, *grads.values(), grads.dh_norm]
    assert cell.block(2) >= 8
    one = run()
    cell.block = lambda B: 3
    blocked = run()
    for a, b in zip(blocked, one):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(blocked[0], qrnn_reference(cell, x, state0[0], state0[1])[0],
                               rtol=1e-13, atol=1e-14)


def test_qrnn_init_bound_is_one_over_sqrt_of_the_window_times_d():
    """The docstring's initialization U(-1/sqrt(kD), 1/sqrt(kD)) (k the window, D the
    input size: the fan-in of a gate); a pass: W and b lie within it and reach past 90 %
    of it (hundreds of draws, so a uniform on the right range always does)."""
    cell = rnnzoo.make("qrnn", 4, 16, seed=0, window=2)
    for name, p in cell.params.items():
        assert 0.9 / np.sqrt(8) < np.abs(p).max() <= 1 / np.sqrt(8), name


def test_qrnn_split_shorter_than_the_window(rng):
    """k = 4 and chunks of 1 and 2 steps: the carried inputs reach across chunks."""
    cell = rnnzoo.make("qrnn", D, 5, seed=2, window=4)
    x = rng.standard_normal((6, 2, D))
    hs, sT, _ = cell.forward(x)
    parts, s = [], None
    for a, b in [(0, 1), (1, 3), (3, 4), (4, 6)]:
        h, s, _ = cell.forward(x[a:b], s)
        parts.append(h)
    np.testing.assert_allclose(np.concatenate(parts), hs, rtol=1e-13, atol=1e-14)
    for a, b in zip(s, sT):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)


def test_qrnn_zoneout_masks_follow_the_cells_seed_unless_given_their_own(rng):
    """zoneout_seed=None (the default) draws from the cell's seed, so the two layers of a
    stack (seeds 0 and 1) draw different masks (with a fixed default of 0 they drew the
    same); an explicit zoneout_seed gives the same masks whatever the cell's seed."""
    x = rng.standard_normal((6, 2, D))

    def mask(**kw):
        return rnnzoo.make("qrnn", D, 4, zoneout=0.5, pooling="f", **kw).forward(x)[2].scale
    model = rnnzoo.build_model("qrnn", D, 4, 1, layers=2, zoneout=0.5, pooling="f")
    assert [c.seed for c in model.cells] == [0, 1]
    assert not np.array_equal(mask(seed=0), mask(seed=1))
    np.testing.assert_array_equal(mask(seed=0), mask(seed=0))
    np.testing.assert_array_equal(mask(seed=0, zoneout_seed=7), mask(seed=1, zoneout_seed=7))


def test_qrnn_zoneout_mask(rng):
    """Where the mask is 0 the unit keeps its c (f = 1); draws are seeded, fresh per
    forward, saved in the cache; a fixed mask passes the full gradient check; in
    evaluation mode f = 1 - (1 - p)(1 - σ)."""
    x = rng.standard_normal((6, 2, D))
    a = rnnzoo.make("qrnn", D, 4, seed=0, zoneout=0.5, zoneout_seed=7, pooling="f")
    b = rnnzoo.make("qrnn", D, 4, seed=0, zoneout=0.5, zoneout_seed=7, pooling="f")
    ha, _, ca = a.forward(x)
    hb, _, cb = b.forward(x)
    np.testing.assert_array_equal(ha, hb)                        # seeded
    assert not np.array_equal(a.forward(x)[2].scale, ca.scale)   # fresh each forward
    m = ca.scale
    assert set(np.unique(m)) == {0.0, 1.0}
    c = np.concatenate([np.zeros((1, 2, 4)), ha])                # pooling f: h = c
    held = m == 0
    np.testing.assert_array_equal(c[1:][held], c[:-1][held])
    a.zoneout_mask = m
    assert rnnzoo.gradcheck(a, x).passed
    a.training = False
    _, _, ce = a.forward(x)
    np.testing.assert_allclose(ce.f, 1 - 0.5 * (1 - ce.gates[1]), rtol=1e-15)
    a.zoneout_mask = np.ones((2, 2, 4))
    a.training = True
    with pytest.raises(ValueError, match="zoneout_mask must have shape"):
        a.forward(x)


@pytest.mark.parametrize("p", [0.3, 0.8])
def test_qrnn_zoneout_holds_a_fraction_p_of_the_units_in_training(p, rng):
    """Zoneout's p is the probability that a unit is zoned out (keeps its c); with the
    rate inverted (m drawn as < p) p = 0.3 held 70% of them and every other test passed.
    A pass: in training mode, with pooling f (h = c), the fraction of (t, b, unit) with
    c_t == c_{t-1} is p to within 0.02 (6 standard deviations at 20000 draws)."""
    T, B, H = 50, 20, 20
    cell = rnnzoo.make("qrnn", D, H, seed=0, zoneout=p, zoneout_seed=3, pooling="f")
    assert cell.training
    hs, _, _ = cell.forward(rng.standard_normal((T, B, D)))
    c = np.concatenate([np.zeros((1, B, H)), hs])           # pooling f: h = c
    held = np.mean(c[1:] == c[:-1])
    assert abs(held - p) < 0.02, f"zoneout={p} held {held:.3f} of the units"


@pytest.mark.parametrize("opts,match", [
    ({"window": 0}, "window must be an integer >= 1"),
    ({"window": 1.5}, "window must be an integer"),
    ({"pooling": "o"}, "pooling must be one of 'f', 'fo', 'ifo'"),
    ({"zoneout": 1.0}, r"zoneout must be a finite real number in \[0.0, 1.0\)"),
    ({"zoneout": -0.1}, "zoneout must be"),
    ({"zoneout": "0.1"}, "zoneout must be"),
    ({"zoneout_seed": -1}, "zoneout_seed must be an integer >= 0"),
])
def test_qrnn_bad_options(opts, match):
    with pytest.raises(ValueError, match=match):
        rnnzoo.make("qrnn", D, 4, **opts)


def test_numpy_scalars_accepted():
    cell = rnnzoo.make("qrnn", D, 4, window=np.int64(3), zoneout=np.float32(0.25))
    assert cell.window == 3 and cell.zoneout == pytest.approx(0.25)
    assert rnnzoo.make("clockwork", D, 8, modules=np.int64(2)).modules == 2
