"""Task generators: shapes, determinism from the seed, the answer recoverable from x,
and baselines that match their formulas."""
import math

import numpy as np
import pytest

from rnnzoo.tasks import AssociativeRetrieval, CopyMemory, SelectiveCopy, make_task

B = 64


def draw(task, seed=3):
    return task.batch(B, np.random.default_rng(seed))


@pytest.mark.parametrize("name,T", [("adding", 30), ("copy", 12), ("digits", None),
                                    ("permuted_digits", None), ("associative", None),
                                    ("selective_copy", 15), ("induction", 12), ("mqar", 12),
                                    ("parity", 10)])
def test_shapes_and_determinism(name, T):
    task = make_task(name, T=T, seed=0)
    x, target = draw(task)
    assert x.shape == (task.T, B, task.input_size) and x.dtype == np.float64
    if task.loss_kind == "mse":
        assert target.shape == (B, 1)
    elif task.readout == "all":
        assert target.shape == (task.T, B) and target.dtype == np.int64
    else:
        assert target.shape == (B,) and target.dtype == np.int64
        assert target.min() >= 0 and target.max() < task.output_size
    x2, t2 = draw(task)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(target, t2)
    x3, _ = draw(task, seed=4)
    assert not np.array_equal(x, x3)
    ex1, et1 = task.eval_data()
    assert task.eval_data()[0] is ex1                          # one fixed evaluation set
    ex2, et2 = make_task(name, T=T, seed=0).eval_data()
    np.testing.assert_array_equal(ex1, ex2)
    np.testing.assert_array_equal(et1, et2)
    assert not np.array_equal(ex1, make_task(name, T=T, seed=1).eval_data()[0])
    rebuilt = make_task(**task.spec)                           # the spec rebuilds it
    assert rebuilt.spec == task.spec and task.spec["name"] == name
    np.testing.assert_array_equal(rebuilt.eval_data()[0], ex1)
    np.testing.assert_array_equal(rebuilt.eval_data()[1], et1)


def test_adding_markers_and_target():
    task = make_task("adding", T=41)
    x, target = draw(task)
    marks = x[:, :, 1]
    assert np.all(marks.sum(axis=0) == 2)
    half = 41 // 2
    assert np.all(marks[:half].sum(axis=0) == 1) and np.all(marks[half:].sum(axis=0) == 1)
    np.testing.assert_allclose(target[:, 0], (x[:, :, 0] * marks).sum(axis=0), rtol=0, atol=1e-15)
    assert x[:, :, 0].min() >= 0 and x[:, :, 0].max() < 1


def test_adding_baseline_is_the_mse_of_predicting_one():
    task = make_task("adding", T=20)
    _, target = task.batch(200_000, np.random.default_rng(0))
    assert task.baseline == pytest.approx(1 / 6)
    assert np.mean((target - 1.0) ** 2) == pytest.approx(1 / 6, abs=2e-3)


def test_adding_a_predictor_reading_the_last_input_does_as_the_docstring_says():
    """Predicting 1 uses no input; E[target | x_T] (the last value plus 1/2 when the
    second marker is on the last step, else 1) scores 1/6 - 1/(12 (T - T//2)): 0.150 at
    T = 10, 0.163 at T = 50, 0.165 at T = 100, as AddingProblem's docstring states."""
    for T, stated in [(10, 0.150), (50, 0.163), (100, 0.165)]:
        exact = 1 / 6 - 1 / (12 * (T - T // 2))
        assert round(exact, 3) == stated
        x, target = make_task("adding", T=T).batch(200_000, np.random.default_rng(T))
        last = x[-1, :, 1] == 1
        assert abs(last.mean() - 1 / (T - T // 2)) < 4 * math.sqrt(last.mean() / 200_000)
        guess = np.where(last, x[-1, :, 0] + 0.5, 1.0)
        assert np.mean((target[:, 0] - guess) ** 2) == pytest.approx(exact, abs=2e-3)


def test_copy_layout_and_recall_from_input():
    task = CopyMemory(T=15)
    x, target = draw(task)
    L = 15 + 20
    codes = x.argmax(axis=-1)
    assert codes.shape == (L, B) and np.all(x.sum(axis=-1) == 1)
    assert np.all((codes[:10] >= 1) & (codes[:10] <= 8))
    assert np.all(codes[10:L - 11] == 0) and np.all(codes[L - 11] == 9) and np.all(codes[L - 10:] == 0)
    np.testing.assert_array_equal(target[-10:], codes[:10])       # the answer is in x
    assert np.all(target[:-10] == 0)


def test_copy_baseline_formula_and_memoryless_loss():
    task = CopyMemory(T=50)
    assert task.baseline == pytest.approx(10 * math.log(8) / 70)
    # the memoryless predictor: blank with probability 1 until recall, then uniform over 1-8
    _, target = task.eval_data()
    logits = np.full((task.T, target.shape[1], 9), -1e9)
    logits[:-10, :, 0] = 0.0
    logits[-10:, :, 1:] = 0.0
    assert task.loss(logits, target)[0] == pytest.approx(task.baseline, rel=1e-12)


def test_copy_a_predictor_reading_x_t_alone_scores_what_the_docstring_says():
    """The paper's baseline knows the step; the best predictor of the target from x_t
    alone (frequencies of the target given each input code, fitted on the eval set itself)
    scores (T + 9) H / (T + 20), 0.681 nats at T = 50, as CopyMemory's docstring says."""
    T = 50
    task = CopyMemory(T=T, eval_size=2000)
    x, target = task.eval_data()
    codes = x.argmax(axis=-1)
    table = np.zeros((10, 9))
    np.add.at(table, (codes.ravel(), target.ravel()), 1)
    p = table / table.sum(axis=1, keepdims=True)
    logits = np.log(np.maximum(p[codes], 1e-300))
    p0, ps = (T - 1) / (T + 9), 10 / (8 * (T + 9))
    exact = (T + 9) * -(p0 * math.log(p0) + 8 * ps * math.log(ps)) / (T + 20)
    assert round(exact, 3) == 0.681
    assert task.loss(logits, target)[0] == pytest.approx(exact, abs=2e-3)
    assert task.loss(logits, target)[0] > 2 * task.baseline


def test_permuted_digits_refuses_permuted_false():
    """Pass: 'permuted_digits' with permuted=False is refused (it built plain digits under
    the permuted name); permuted=True, NumPy's True included, is the same task."""
    with pytest.raises(ValueError, match=r"got permuted=False \(use 'digits'"):
        make_task("permuted_digits", permuted=False)
    with pytest.raises(TypeError, match="permuted"):
        make_task("permuted_digits", permuted="no")
    for flag in (True, np.True_):
        task = make_task("permuted_digits", permuted=flag, seed=0)
        assert list(task.pixel_order) == list(make_task("permuted_digits", seed=0).pixel_order)


def test_digits_split_and_permutation():
    plain = make_task("digits", seed=0)
    perm = make_task("permuted_digits", seed=0)
    assert len(plain.train_y) + len(plain.test_y) == 1797
    assert len(plain.test_y) == 359
    assert sorted(perm.pixel_order) == list(range(64)) and list(perm.pixel_order) != list(range(64))
    x, y = plain.eval_data()
    xp, yp = perm.eval_data()
    np.testing.assert_array_equal(y, yp)                          # same split by seed
    np.testing.assert_array_equal(xp, x[perm.pixel_order])        # same images, permuted
    assert x.min() >= 0 and x.max() <= 1
    other = make_task("digits", seed=1)
    assert not np.array_equal(other.test_y, plain.test_y)
    assert plain.baseline == pytest.approx(math.log(10), abs=0.02)
    with pytest.raises(ValueError, match=r"T = size² = 64 \(8x8 pixels\); got T=32"):
        make_task("digits", T=32)


def _last_pixel_classifier(task):
    """(accuracy, cross-entropy) on the test split of p(class | last pixel read), with
    add-one smoothing, fitted on the training split: what a model without memory gets."""
    values = np.unique(np.concatenate([task.train_x[:, -1], task.test_x[:, -1]]))
    table = np.ones((len(values), 10))
    np.add.at(table, (np.searchsorted(values, task.train_x[:, -1]), task.train_y), 1)
    p = (table / table.sum(axis=1, keepdims=True))[np.searchsorted(values, task.test_x[:, -1])]
    rows = np.arange(len(task.test_y))
    return np.mean(p.argmax(axis=1) == task.test_y), -np.mean(np.log(p[rows, task.test_y]))


def test_digits_the_last_pixel_alone_beats_the_input_blind_levels_as_documented():
    """SequentialDigits' docstring: 0.11 and 2.26 nats in row-major order (seed 0),
    0.21-0.26 and 1.89-2.00 nats permuted (seeds 0-2), against the input-blind
    memoryless level (about 0.08) and baseline (about ln 10)."""
    task = make_task("digits", seed=0)
    acc, ce = _last_pixel_classifier(task)
    assert (round(acc, 2), round(ce, 2)) == (0.11, 2.26)
    assert acc > task.success.memoryless and ce < task.baseline
    for seed in (0, 1, 2):
        task = make_task("permuted_digits", seed=seed)
        acc, ce = _last_pixel_classifier(task)
        assert 0.205 <= acc <= 0.265 and 1.885 <= ce <= 2.005
        assert acc > 2.5 * task.success.memoryless and ce < task.baseline - 0.3


def test_digits_answer_is_recoverable_from_the_pixels():
    from sklearn.datasets import load_digits
    task = make_task("digits", seed=0)
    data = load_digits()
    x, y = task.batch(16, np.random.default_rng(0))
    lookup = {row.tobytes(): label for row, label in zip(data.data / 16.0, data.target)}
    assert [lookup[x[:, b, 0].tobytes()] for b in range(16)] == list(y)


def test_associative_retrieval_answer_from_input():
    task = AssociativeRetrieval(pairs=4)
    x, target = draw(task)
    assert task.T == 11
    for b in range(B):
        s = task.decode(x[:, b])
        keys, values = s[0:8:2], s[1:8:2]
        assert s[8:10] == "??" and len(set(keys)) == 4 and keys.isalpha() and values.isdigit()
        assert s[10] in keys
        assert int(values[keys.index(s[10])]) == target[b]
    assert task.baseline == pytest.approx(math.log(10))


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="unknown task"):
        make_task("mnist")
    with pytest.raises(ValueError, match="batch_size"):
        make_task("adding", T=10).batch(0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="pairs"):
        make_task("associative", T=20)


def test_adding_skiprnn_layout():
    """Campos et al.'s variant: values in [-0.5, 0.5), first marker in the first 10%,
    second in the last half; target the sum; spec rebuilds it; the baseline (predict 0)
    is the target's variance 1/6."""
    task = make_task("adding", T=50, layout="skiprnn")
    x, target = task.batch(4000, np.random.default_rng(0))
    assert x[:, :, 0].min() >= -0.5 and x[:, :, 0].max() < 0.5
    marks = [np.flatnonzero(x[:, b, 1]) for b in range(x.shape[1])]
    assert all(len(m) == 2 and m[0] < 5 and m[1] >= 25 for m in marks)
    assert {m[0] for m in marks} == set(range(5))
    np.testing.assert_allclose(target[:, 0], [x[m, b, 0].sum() for b, m in enumerate(marks)])
    assert abs(np.mean(target ** 2) - task.baseline) < 0.01
    assert make_task(**task.spec).layout == "skiprnn"
    with pytest.raises(ValueError, match="layout must be one of"):
        make_task("adding", T=50, layout="tenth")


def test_selective_copy_layout_and_recall_from_input():
    """K symbols at distinct positions among the first T steps, blanks elsewhere, the
    delimiter at step T, K blanks; the target is the symbols in the order they appear."""
    task = SelectiveCopy(T=12, symbols=3, vocab=5)
    x, target = draw(task)
    L = 12 + 3 + 1
    codes = x.argmax(axis=-1)
    assert task.T == L and x.shape == (L, B, 7) and np.all(x.sum(axis=-1) == 1)
    assert (task.input_size, task.output_size) == (7, 6)
    span = codes[:12]
    assert np.all((span > 0).sum(axis=0) == 3) and span.max() <= 5
    assert np.all(codes[12] == 6) and np.all(codes[13:] == 0)
    for b in range(B):
        np.testing.assert_array_equal(target[-3:, b], span[:, b][span[:, b] > 0])
    assert np.all(target[:-3] == 0) and target.min() >= 0 and target.max() < task.output_size
    assert make_task(**task.spec).spec == task.spec


def test_selective_copy_positions_and_symbols_are_uniform_so_no_fixed_delay_copies():
    """On 40,000 sequences: every position of the span holds a symbol with frequency
    K/T and every symbol is equally likely (within 5 standard errors); the delay from a
    symbol to its recall step varies (in the copy task it is one number), which is why a
    time-invariant filter cannot do this task."""
    task = SelectiveCopy(T=20, symbols=4, vocab=8)
    n = 40_000
    codes, target = task.codes(n, np.random.default_rng(1))
    occupied = (codes[:20] > 0).mean(axis=1)
    p = 4 / 20
    assert np.all(np.abs(occupied - p) < 5 * math.sqrt(p * (1 - p) / n))
    freq = np.bincount(target[-4:].ravel(), minlength=9)[1:] / (4 * n)
    assert np.all(np.abs(freq - 1 / 8) < 5 * math.sqrt((1 / 8) * (7 / 8) / (4 * n)))
    first = (codes[:20] > 0).argmax(axis=0)                   # where the first symbol sits
    assert len(np.unique(first)) == 20 - 4 + 1        # the first symbol anywhere in 0..16
    copy_codes, copy_target = CopyMemory(T=20).codes(100, np.random.default_rng(1))
    np.testing.assert_array_equal(copy_target[-10:], copy_codes[:10])   # copy: fixed delay


def test_selective_copy_baseline_formula_and_memoryless_loss():
    """The memoryless predictor (blank until the recall, then uniform over the S symbols)
    scores exactly K ln S / (T + K + 1); and on 100,000 sequences the best memoryless
    predictor estimated from data (each recall step's empirical symbol frequencies, fitted
    on one half, scored on the other) is no better, within 4 standard errors."""
    task = SelectiveCopy(T=30, symbols=5, vocab=6)
    assert task.baseline == pytest.approx(5 * math.log(6) / 36)
    _, target = task.eval_data()
    logits = np.full((task.T, target.shape[1], 7), -1e9)
    logits[:-5, :, 0] = 0.0
    logits[-5:, :, 1:] = 0.0
    assert task.loss(logits, target)[0] == pytest.approx(task.baseline, rel=1e-12)
    n = 100_000
    _, t = task.codes(2 * n, np.random.default_rng(2))
    fit, test = t[-5:, :n], t[-5:, n:]
    freq = np.stack([np.bincount(row, minlength=7) for row in fit]) / n        # (5, 7)
    nll = -np.log(np.take_along_axis(freq, test, axis=1)).sum(axis=0) / task.T  # per sequence
    assert abs(nll.mean() - task.baseline) < 4 * nll.std() / math.sqrt(n)
    assert task.success.memoryless == 1 / 6 and task.success.threshold == 0.99


def test_selective_copy_accuracy_reads_the_recall_steps_only():
    task = SelectiveCopy(T=8, symbols=2, vocab=4)
    _, target = draw(task)
    y = np.zeros((task.T, B, 5))
    y[np.arange(task.T)[:, None], np.arange(B)[None, :], target] = 1.0   # right everywhere
    assert task.accuracy(y, target) == 1.0 and task.success_value(y, target) == 1.0
    y[-1] = 0.0
    y[-1, :, 0] = 1.0                       # the last recalled symbol wrong (blank)
    assert task.accuracy(y, target) == 0.5
    y[:-2] = 0.0                            # the steps before the recall do not count
    assert task.accuracy(y, target) == 0.5


def test_selective_copy_at_the_figures_size_has_few_sequences_and_trains_on_its_eval_set():
    """The docstring's counts: C(T, K) S^K sequences, 2,880 at the figures' T = 10, K = 2,
    S = 8, nearly all drawn by 600 steps of 32 (as the Trainer draws them), so the eval
    set is not held out there; at the defaults an eval sequence is almost never seen."""
    doc = " ".join(SelectiveCopy.__doc__.split())
    small = SelectiveCopy(T=10, symbols=2, vocab=8, eval_size=500)
    count = math.comb(small.span, small.K) * small.n_symbols ** small.K
    default = SelectiveCopy(eval_size=10)
    big = math.comb(default.span, default.K) * default.n_symbols ** default.K
    assert (count, big) == (2880, 374_333_440)
    assert f"{count:,}" in doc and f"{big:,}" in doc
    seen = set()
    for step in range(600):
        codes, _ = small.codes(32, np.random.default_rng([0, step]))
        seen.update(map(bytes, codes.T.astype(np.uint8)))
    assert len(seen) > 0.99 * count
    eval_codes = small.eval_data()[0].argmax(axis=-1).T.astype(np.uint8)
    assert np.mean([bytes(c) in seen for c in eval_codes]) > 0.99


# ------------------------------------------------------------------ what solved means
def test_each_task_states_what_solved_means():
    adding = make_task("adding", T=20)
    assert (adding.success.metric, adding.success.threshold, adding.success.direction,
            adding.success.same_as) == ("MSE", 0.01, "below", "loss")
    copy = make_task("copy", T=10)
    assert (copy.success.threshold, copy.success.direction, copy.success.same_as) == \
        (0.99, "above", "accuracy") and copy.success.memoryless == 1 / 8
    assoc = make_task("associative")
    assert assoc.success.threshold == pytest.approx((1 + 0.3835) / 2, abs=1e-12)
    assert assoc.success.memoryless_loss == pytest.approx(assoc.plateau_loss)
    skip = make_task("adding", T=50, layout="skiprnn")     # Campos et al.'s: two orders of
    assert (skip.success.metric, skip.success.threshold, skip.success.direction,   # magnitude
            skip.success.same_as) == ("MSE", 1 / 600, "below", "loss")     # below Var = 1/6
    assert "Campos et al. (2018), Table 1" in skip.success.source
    assert skip.success.describe() == "MSE < 0.00167" and adding.success.threshold == 0.01
    digits = make_task("digits")
    assert digits.success.threshold == 0.9 and 0.05 < digits.success.memoryless < 0.15
    assert make_task("charlm", max_chars=5000, files=2).success is None
    for task in (adding, skip, copy, assoc, digits):
        assert task.success.source and task.success.describe() in task.describe()


def test_success_met_reads_the_direction_and_never_passes_nan():
    below = make_task("adding", T=20).success
    assert below.met(0.0099) and not below.met(0.01) and not below.met(float("nan"))
    above = make_task("copy", T=10).success
    assert above.met(0.99) and not above.met(0.9899) and not above.met(float("nan"))
    np.testing.assert_array_equal(above.met(np.array([0.5, 1.0, np.nan])), [False, True, False])
    from rnnzoo.tasks import Success
    with pytest.raises(ValueError, match="direction must be one of"):
        Success("x", 0.5, "over", None, 0.1, "s")
    with pytest.raises(ValueError, match="same_as must be None, 'loss' or 'accuracy'"):
        Success("x", 0.5, "above", "mse", 0.1, "s")
    with pytest.raises(ValueError, match="threshold must be finite"):
        Success("x", float("nan"), "above", None, 0.1, "s")


def test_success_value_is_the_metric_the_criterion_names():
    rng = np.random.default_rng(0)
    adding = make_task("adding", T=10)
    _, target = adding.batch(50, rng)
    y = target + 0.05 * rng.standard_normal(target.shape)
    assert adding.success_value(y, target) == pytest.approx(adding.loss(y, target)[0])
    copy = make_task("copy", T=5)
    _, target = copy.batch(20, rng)
    y = rng.standard_normal((copy.T, 20, 9))
    assert copy.success_value(y, target) == copy.accuracy(y, target)
    charlm = make_task("charlm", max_chars=5000, files=2)
    with pytest.raises(ValueError, match="'charlm' has no success criterion"):
        charlm.success_value(y, target)


@pytest.mark.parametrize("K", [1, 2, 3])
def test_value_bag_plateau_equals_brute_force_enumeration(K):
    """Every one of the 10^K value sequences, each query position: the exact formula."""
    import itertools
    from rnnzoo.tasks.memory import value_bag_plateau
    acc = loss = 0.0
    for values in itertools.product(range(10), repeat=K):
        counts = np.bincount(values, minlength=10)
        acc += counts.max() / K
        loss += np.mean([-math.log(counts[v] / K) for v in values])
    acc, loss = acc / 10 ** K, loss / 10 ** K
    assert value_bag_plateau(K) == pytest.approx((acc, loss), rel=1e-12, abs=1e-15)


def test_associative_plateau_matches_the_generator_by_monte_carlo():
    """The bag-of-values predictor on 100,000 sequences drawn by the task itself: its
    accuracy and cross-entropy within 4 standard errors of the exact values (0.3835,
    1.187 nats for 4 pairs)."""
    task = AssociativeRetrieval(pairs=4)
    n, K = 100_000, 4
    codes, target = task.codes(n, np.random.default_rng(0))
    values = codes[1:2 * K:2].T - 26                                  # (n, K) digits
    counts = np.zeros((n, 10), dtype=np.int64)
    np.add.at(counts, (np.repeat(np.arange(n), K), values.ravel()), 1)
    correct = counts[np.arange(n), counts.argmax(axis=1)] / K        # P(right | bag)
    nll = -np.log(counts[np.arange(n), target] / K)
    assert task.plateau_accuracy == pytest.approx(0.3835, abs=1e-12)
    assert task.plateau_loss == pytest.approx(1.18681, abs=1e-5)
    for sample, exact in ((correct, task.plateau_accuracy), (nll, task.plateau_loss)):
        assert abs(sample.mean() - exact) < 4 * sample.std() / math.sqrt(n)
    # the threshold half-baseline test uses sits just under that plateau's loss
    assert 0.5 * task.baseline < task.plateau_loss < 0.53 * task.baseline


def test_digits_threshold_is_within_reach_of_a_classifier_that_sees_every_pixel():
    """0.9 is the digits' bar because a logistic regression on all 64 pixels at once gets
    about 0.96 on the split (the docstring says so; this keeps it true)."""
    from sklearn.linear_model import LogisticRegression
    task = make_task("digits", seed=0)
    score = LogisticRegression(max_iter=2000).fit(task.train_x, task.train_y).score(
        task.test_x, task.test_y)
    assert 0.95 < score and task.success.threshold < score - 0.05


def test_the_shared_task_interface():
    """Task's own defaults: the metric's name by loss kind, argmax accuracy, and a batch
    that a subclass must provide."""
    from rnnzoo.tasks import Task
    assert make_task("adding", T=5).metric == "MSE"
    assert make_task("copy", T=5).metric == "cross-entropy (nats)"
    assert make_task("copy", T=5).input_size == 10
    assoc = make_task("associative")
    logits = np.zeros((4, 10))
    logits[[0, 1, 2, 3], [3, 1, 4, 1]] = 1.0
    assert assoc.accuracy(logits, np.array([3, 1, 4, 5])) == 0.75
    with pytest.raises(NotImplementedError):
        Task().batch(2, np.random.default_rng(0))
    from rnnzoo.tasks.memory import value_bag_plateau
    assert value_bag_plateau(3, digits=1) == (1.0, 0.0)       # one digit: the bag is the answer


def test_digits_resized_to_14x14_are_the_same_digits_196_steps_long():
    """size=14: T = 196, the same split and labels, each image the bilinear resize of its
    8x8 original (corners kept, every value in [0, 1]), permuted by a fixed order."""
    from scipy.ndimage import zoom
    small, big = make_task("digits", seed=3), make_task("digits", size=14, seed=3)
    assert (big.T, big.spec["size"]) == (196, 14) and "size" not in small.spec
    assert np.array_equal(small.train_y, big.train_y) and np.array_equal(small.test_y,
                                                                          big.test_y)
    img8, img14 = small.test_x[5].reshape(8, 8), big.test_x[5].reshape(14, 14)
    assert np.allclose(img14, np.clip(zoom(img8, 14 / 8, order=1, grid_mode=False), 0, 1))
    assert img14[0, 0] == img8[0, 0] and img14[-1, -1] == img8[-1, -1]
    x, _ = big.eval_data()
    assert x.shape == (196, len(big.test_y), 1) and 0 <= x.min() and x.max() <= 1
    perm = make_task("permuted_digits", size=14, seed=3)
    assert sorted(perm.pixel_order) == list(range(196))
    assert np.array_equal(perm.test_x, big.test_x[:, perm.pixel_order])
    with pytest.raises(ValueError, match=r"T = size² = 196"):
        make_task("digits", size=14, T=64)
    with pytest.raises(ValueError, match="size"):
        make_task("digits", size=4)
