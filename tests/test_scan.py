"""rnnzoo.core.scan: every form of h[t] = a[t] h[t-1] + b[t] equals the sequential loop,
forward and backward, and the backward equals float64 central differences.

A pass: the forms agree with the loop (and the loop with this file's own plain loop) to
1e-12 of each tensor's largest entry, in float64, for real and complex tensors, a per
step (T, B, H) and a shared diagonal (H,); the finite-difference check's worst error
relative to each gradient's largest entry is about 1e-10 (eps = 1e-6), where a wrong
term would be off by 1e-2 or more.
"""
import re

import numpy as np
import pytest

from rnnzoo.core import scan
from rnnzoo.core.scan import AUTO, linear_scan, linear_scan_backward, log_space_scan

B, H = 3, 4
TOL = 1e-12
FORMS = ("loop", "doubling", "log")


def plain_loop(a, b, h0):
    """The recurrence as written: h[t] = a[t] h[t-1] + b[t]."""
    out, prev = [], h0
    for t in range(len(b)):
        prev = (a[t] if a.ndim == 3 else a) * prev + b[t]
        out.append(prev)
    return np.stack(out)


def problem(rng, T, complex_=False, diagonal=False, positive=False):
    """a, b, h0 and an upstream dh: positive reals (every form applies), or of any sign,
    or complex with |a| < 1."""
    a_shape = (H,) if diagonal else (T, B, H)
    a = rng.uniform(0.3, 0.99, a_shape)
    b, h0 = rng.uniform(0.1, 1.0, (T, B, H)), rng.uniform(0.1, 1.0, (B, H))
    if not positive:
        a *= rng.choice([-1.0, 1.0], a_shape)
        b, h0 = rng.standard_normal((T, B, H)), rng.standard_normal((B, H))
    dh = rng.standard_normal((T, B, H))
    if complex_:
        a = a * np.exp(1j * rng.uniform(0, 2 * np.pi, a_shape))
        b = b + 1j * rng.standard_normal(b.shape)
        h0 = h0 + 1j * rng.standard_normal(h0.shape)
        dh = dh + 1j * rng.standard_normal(dh.shape)
    return a, b, h0, dh


def rel(x, y):
    return float(np.abs(x - y).max() / np.abs(y).max())


def forms_for(a, b, h0):
    positive = all(np.isrealobj(v) and (v > 0).all() for v in (a, b, h0))
    return FORMS if positive else FORMS[:2]


CASES = [pytest.param(T, c, d, p, id=f"T{T}-{'complex' if c else 'real'}-"
                      f"{'diag' if d else 'full'}{'-positive' if p else ''}")
         for T in (1, 2, 5, 33) for c in (False, True) for d in (False, True)
         for p in ((False, True) if not c else (False,))]


@pytest.mark.parametrize("T,complex_,diagonal,positive", CASES)
def test_every_form_equals_the_loop_forward_and_backward(T, complex_, diagonal, positive):
    rng = np.random.default_rng(T + 10 * complex_ + 100 * diagonal)
    a, b, h0, dh = problem(rng, T, complex_, diagonal, positive)
    expected = plain_loop(a, b, h0)
    h = linear_scan(a, b, h0, "loop")
    assert h.shape == b.shape and h.dtype == (np.complex128 if complex_ else np.float64)
    assert rel(h, expected) <= TOL
    reference = linear_scan_backward(a, h, h0, dh, "loop")
    for form in forms_for(a, b, h0):
        assert rel(linear_scan(a, b, h0, form), expected) <= TOL, form
        grads = linear_scan_backward(a, h, h0, dh, form)
        for name, g, r in zip(("da", "db", "dh0"), grads, reference):
            assert g.shape == r.shape and g.dtype == r.dtype, (form, name)
            assert rel(g, r) <= TOL, (form, name, rel(g, r))
    assert rel(linear_scan(a, b, h0), expected) <= TOL           # auto


def numeric_grads(a, b, h0, w, eps=1e-6):
    """Central differences of L = Re(sum(conj(w) h)) (so dL/dh = w) with respect to the
    real and imaginary parts of every entry of a, b, h0: dL/dRe + i dL/dIm."""
    def loss(a_, b_, h0_):
        return float(np.real(np.sum(np.conj(w) * plain_loop(a_, b_, h0_))))
    tensors = [a.copy(), b.copy(), h0.copy()]
    out = []
    for k, v in enumerate(tensors):
        g = np.zeros_like(v)
        parts = (1.0, 1j) if np.iscomplexobj(v) else (1.0,)
        for idx in np.ndindex(v.shape):
            for unit in parts:
                old = v[idx]
                v[idx] = old + unit * eps
                plus = loss(*tensors)
                v[idx] = old - unit * eps
                minus = loss(*tensors)
                v[idx] = old
                g[idx] += unit * (plus - minus) / (2 * eps)
        out.append(g)
    return out


FD_CASES = [("real", False, False), ("real-diag", False, True), ("complex", True, False),
            ("complex-diag", True, True)]


@pytest.mark.parametrize("label,complex_,diagonal", FD_CASES, ids=[c[0] for c in FD_CASES])
def test_backward_equals_central_differences(label, complex_, diagonal):
    rng = np.random.default_rng(3)
    a, b, h0, w = problem(rng, 6, complex_, diagonal)
    h = linear_scan(a, b, h0, "loop")
    numeric = numeric_grads(a, b, h0, w)
    for form in forms_for(a, b, h0):
        grads = linear_scan_backward(a, h, h0, w, form)
        for name, g, n in zip(("a", "b", "h0"), grads, numeric):
            assert rel(g, n) < 1e-8, f"{label} {form} d{name}: worst error {rel(g, n):.1e}"


def test_a_real_a_in_a_complex_scan_gets_a_real_gradient():
    """b complex, a real: h is complex, and dL/da is Re(sum δ conj(h_prev)), the
    derivative with respect to the real a (central differences agree)."""
    rng = np.random.default_rng(4)
    a, _, _, _ = problem(rng, 5)
    _, b, h0, w = problem(rng, 5, complex_=True)
    h = linear_scan(a, b, h0)
    assert np.iscomplexobj(h)
    da, db, dh0 = linear_scan_backward(a, h, h0, w)
    assert da.dtype == np.float64 and np.iscomplexobj(db) and np.iscomplexobj(dh0)
    for g, n in zip((da, db, dh0), numeric_grads(a, b, h0, w)):
        assert rel(g, n) < 1e-8


def test_the_backward_is_the_same_scan_run_backwards_in_time():
    """db = δ, and δ is linear_scan on reversed time: coefficients conj(a[t+1]) read
    backwards, inputs dh reversed, a zero start."""
    rng = np.random.default_rng(5)
    a, b, h0, dh = problem(rng, 7, complex_=True)
    h = linear_scan(a, b, h0)
    _, delta, _ = linear_scan_backward(a, h, h0, dh)
    coef = np.concatenate([np.zeros((1, B, H)), np.conj(a[:0:-1])])   # step 0: no past
    reverse = linear_scan(coef, dh[::-1], np.zeros((B, H)))[::-1]
    assert rel(delta, reverse) <= TOL


def test_dtypes_follow_the_inputs():
    rng = np.random.default_rng(6)
    a, b, h0, dh = (v.astype(np.float32) for v in problem(rng, 4, positive=True))
    for form in FORMS:
        h = linear_scan(a, b, h0, form)
        assert h.dtype == np.float32
        assert [g.dtype for g in linear_scan_backward(a, h, h0, dh, form)] == [np.float32] * 3
        assert rel(h, plain_loop(*(v.astype(np.float64) for v in (a, b, h0)))) < 1e-5
    assert linear_scan(a, b.astype(np.float64), h0).dtype == np.float64     # result dtype
    da, db, dh0 = linear_scan_backward(a, b.astype(np.float64), h0, dh)
    assert (da.dtype, db.dtype, dh0.dtype) == (np.float32, np.float64, np.float32)


@pytest.mark.parametrize("form", FORMS)
def test_inputs_are_left_alone_and_results_are_new_arrays(form):
    rng = np.random.default_rng(7)
    for T in (1, 4):
        a, b, h0, dh = problem(rng, T, positive=True)
        kept = [v.copy() for v in (a, b, h0, dh)]
        h = linear_scan(a, b, h0, form)
        grads = linear_scan_backward(a, h, h0, dh, form)
        for v, k in zip((a, b, h0, dh), kept):
            np.testing.assert_array_equal(v, k)
        for out in (h, *grads):
            assert not any(np.shares_memory(out, v) for v in (a, b, h0, dh))


def test_log_space_scan_takes_logarithms_and_minus_infinity_is_zero():
    rng = np.random.default_rng(8)
    a, b, h0, _ = problem(rng, 9, positive=True)
    b[3, 1, 2] = 0.0
    expected = plain_loop(a, b, np.zeros_like(h0))
    with np.errstate(divide="ignore"):
        got = log_space_scan(np.log(a), np.log(b), np.log(np.zeros_like(h0)))
        log_b = np.log(b)
    assert rel(got, expected) <= TOL
    got = log_space_scan(np.log(a[0, 0]), log_b, np.log(h0))   # a diagonal (H,)
    assert rel(got, plain_loop(a[0, 0], b, h0)) <= TOL
    assert got[3, 1, 2] > 0 and expected[3, 1, 2] > 0        # the zero b fed a real step


@pytest.mark.parametrize("name, index, value", [
    ("log_a", (2, 0, 0), -np.inf), ("log_a", (1, 1, 2), np.inf), ("log_a", (0, 0, 1), np.nan),
    ("log_b", (3, 1, 0), np.nan), ("log_b", (0, 0, 0), np.inf), ("log_h0", (1, 2), np.nan)])
def test_log_space_scan_refuses_what_would_turn_every_later_step_to_nan(name, index, value):
    """Pass: a non-finite log a, or NaN or +inf in log b or log h0, is refused with its
    index (the form gave NaN from that step on, where the loop gives numbers for -inf in
    log a, a zero a); -inf in log b and log h0 stays an exact zero."""
    rng = np.random.default_rng(3)
    a, b, h0, _ = problem(rng, 4, positive=True)
    args = {"log_a": np.log(a), "log_b": np.log(b), "log_h0": np.log(h0)}
    args[name][index] = value
    allowed = "finite" if name == "log_a" else "real or -inf (an exact zero)"
    with pytest.raises(ValueError, match=re.escape(f"{name} must be {allowed}") + ".*"
                       + re.escape(f"at index {index}")):
        log_space_scan(**args)


def test_auto_is_the_measured_choice():
    assert AUTO == {"numpy": "loop", "cupy": "doubling"}
    assert set(AUTO.values()) <= set(scan.MODES)


@pytest.mark.parametrize("mode,form", [("loop", "_loop"), ("doubling", "_doubling"),
                                       ("log", "_log_form"), ("auto", "_loop")])
def test_each_mode_runs_its_own_form(mode, form, monkeypatch):
    """The forms compute the same numbers, so only a spy can tell which one ran: each
    mode (and auto, on NumPy) runs its form, forward and backward, and no other."""
    ran = []
    for name in ("_loop", "_doubling", "_log_form"):
        original = getattr(scan, name)

        def spy(*args, _name=name, _original=original):
            ran.append(_name)
            return _original(*args)
        monkeypatch.setattr(scan, name, spy)
    a, b, h0, dh = problem(np.random.default_rng(0), 4, positive=True)
    h = linear_scan(a, b, h0, mode)
    linear_scan_backward(a, h, h0, dh, mode)
    assert set(ran) == {form}, ran


@pytest.mark.parametrize("T", [1, 2, 5, 8, 33])
def test_the_doubling_logcumsumexp_for_cupy_equals_numpys(T):
    """CuPy has no logaddexp.accumulate: its log form runs the doubling version, checked
    here on NumPy arrays (with -inf entries, the zeros)."""
    v = np.random.default_rng(T).standard_normal((T, 2, 3)) * 5
    v[0, 1, 2] = v[T // 2, 0, 0] = -np.inf
    got = scan._logcumsumexp_doubling(v)
    expected = np.logaddexp.accumulate(v, axis=0)
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(np.isfinite(got), finite)
    assert np.abs(got[finite] - expected[finite]).max() <= 1e-13


# ------------------------------------------------------------------ bad input
def good(rng, T=3):
    return problem(rng, T, positive=True)


@pytest.mark.parametrize("mode", ["fast", "LOOP", 1, None, True, ["loop"]])
def test_an_unknown_mode_is_named(mode):
    a, b, h0, dh = good(np.random.default_rng(0))
    with pytest.raises((TypeError, ValueError), match="linear_scan: mode must be one of "
                                                      "'auto', 'loop', 'doubling', 'log'; got"):
        linear_scan(a, b, h0, mode)
    with pytest.raises((TypeError, ValueError), match="linear_scan_backward: mode must be"):
        linear_scan_backward(a, b, h0, dh, mode)


def test_bad_shapes_name_the_argument():
    a, b, h0, dh = good(np.random.default_rng(0))
    cases = [
        ((a, b[0], h0), r"b must be a \(T, B, H\) array with T, B and H >= 1; got shape "
                        r"\(3, 4\)"),
        ((a, b[:0], h0), r"b must be a \(T, B, H\) array with T, B and H >= 1; got shape "
                         r"\(0, 3, 4\)"),
        ((a, b, h0[:1]), r"h0 must have shape \(B, H\) = \(3, 4\) to match b; got \(1, 4\)"),
        ((a, b, h0[:, :, None]), r"h0 must have shape \(B, H\)"),
        ((a[:2], b, h0), r"a must have shape \(T, B, H\) = \(3, 3, 4\) or \(H,\) = \(4,\)"),
        ((a[0], b, h0), r"a must have shape .*; got \(3, 4\)"),
    ]
    for args, match in cases:
        with pytest.raises(ValueError, match="linear_scan: " + match):
            linear_scan(*args)
    with pytest.raises(ValueError, match=r"linear_scan_backward: h and dh must have one shape "
                                         r"\(T, B, H\); got h \(3, 3, 4\) and dh \(2, 3, 4\)"):
        linear_scan_backward(a, b, h0, dh[:2])
    with pytest.raises(ValueError, match=r"got h \(2, 3, 4\) and dh \(3, 3, 4\)"):
        linear_scan_backward(a, b[:2], h0, dh)          # a short h is named as itself
    with pytest.raises(ValueError, match=r"log_space_scan: log_b must be a \(T, B, H\)"):
        log_space_scan(a, b[0], h0)


@pytest.mark.parametrize("mode", ["loop", "doubling", "log"])
@pytest.mark.parametrize("empty", ["B", "H"])
def test_an_empty_batch_or_state_is_refused_as_the_cells_refuse_it(mode, empty):
    """B = 0 or H = 0: loop and doubling returned an empty h, log failed in NumPy's min();
    the cells refuse x with B = 0 ("T >= 1 and B >= 1")."""
    a, b, h0, dh = good(np.random.default_rng(0))
    cut = (slice(None), slice(0, 0)) if empty == "B" else (Ellipsis, slice(0, 0))
    a, b, dh = a[cut], b[cut], dh[cut]
    h0 = h0[:0] if empty == "B" else h0[:, :0]
    match = r"b must be a \(T, B, H\) array with T, B and H >= 1; got shape " + \
        re.escape(str(b.shape))
    with pytest.raises(ValueError, match="linear_scan: " + match):
        linear_scan(a, b, h0, mode)
    with pytest.raises(ValueError, match="linear_scan_backward: h must be a"):
        linear_scan_backward(a, b, h0, dh, mode)


def test_bad_types_and_dtypes_name_the_argument():
    a, b, h0, dh = good(np.random.default_rng(0))
    with pytest.raises(TypeError, match="linear_scan: b must be a numpy or cupy array; got "
                                        "list"):
        linear_scan(a, b.tolist(), h0)
    with pytest.raises(TypeError, match="linear_scan: h0 must be a plain ndarray; got a "
                                        "numpy.matrix"):
        linear_scan(a, b, np.asmatrix(h0))
    for dtype in (np.int64, np.float16, bool):
        with pytest.raises(TypeError, match=f"linear_scan: a must have dtype float32, float64, "
                                            f"complex64 or complex128; got {np.dtype(dtype)}"):
            linear_scan(a.astype(dtype), b, h0)
    with pytest.raises(TypeError, match="linear_scan_backward: dh must have dtype"):
        linear_scan_backward(a, b, h0, dh.astype(np.int32))
    with pytest.raises(TypeError, match="log_space_scan: log_h0 must be real"):
        log_space_scan(a, b, h0 + 0j)


def test_log_space_scan_names_its_own_arguments():
    """log_space_scan takes log_a, log_b, log_h0: its errors used to say a and h0."""
    a, b, h0, _ = good(np.random.default_rng(0))
    cases = [
        ((a.tolist(), b, h0), TypeError, "log_space_scan: log_a must be a numpy or cupy array"),
        ((a, b, None), TypeError, "log_space_scan: log_h0 must be a numpy or cupy array"),
        ((a, b, h0[0]), ValueError, r"log_space_scan: log_h0 must have shape \(B, H\)"),
        ((a[:, :1], b, h0), ValueError, r"log_space_scan: log_a must have shape \(T, B, H\)"),
        ((a.astype(np.int64), b, h0), TypeError, "log_space_scan: log_a must have dtype"),
    ]
    for args, error, match in cases:
        with pytest.raises(error, match=match):
            log_space_scan(*args)


@pytest.mark.parametrize("name", ["a", "b", "h0"])
@pytest.mark.parametrize("bad", [0.0, -0.5, np.nan])
def test_log_mode_refuses_what_has_no_logarithm(name, bad):
    args = dict(zip(("a", "b", "h0"), good(np.random.default_rng(0))[:3]))
    args[name].flat[1] = bad
    with pytest.raises(ValueError, match=f"linear_scan: mode='log' needs {name} > 0 everywhere "
                                         f"\\(it takes log {name}\\); got min {name} = "):
        linear_scan(**args, mode="log")
    linear_scan(**args, mode="loop")                    # the other forms take any sign


def test_log_mode_refuses_complex_tensors():
    a, b, h0, dh = problem(np.random.default_rng(0), 3, complex_=True)
    with pytest.raises(ValueError, match="mode='log' needs real a > 0 .*got a complex a"):
        linear_scan(a, b, h0, "log")
    h = linear_scan(a, b, h0)
    with pytest.raises(ValueError, match="linear_scan_backward: mode='log' needs real a"):
        linear_scan_backward(a, h, h0, dh, "log")
    real_a = np.abs(a)
    with pytest.raises(ValueError, match="mode='log' needs a real dh"):
        linear_scan_backward(real_a, h, h0, dh, "log")
