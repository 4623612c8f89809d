"""Special functions (autograd/ops/special.py, autograd/special.py) against PyTorch's on
float64: values over wide ranges (negative non-integer arguments of the gamma family, the
tails of erfc/erfinv), first and second derivatives, gradcheck/gradgradcheck, dtypes,
Tensor methods and torch.special's names, and PyTorch's errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
from autograd import special
from oracle import check_op, check_raises, rand, to_numpy, torch

SETTINGS = settings(max_examples=10, deadline=None, derandomize=True)


def away_from_integers(x, gap=0.05):
    """``x`` moved at least ``gap`` away from the integers (the poles of the gamma family)."""
    frac = x - np.round(x)
    return np.where(np.abs(frac) < gap, np.round(x) + np.copysign(gap, frac + 1e-300), x)


def wide(low, high, n=64, seed=0):
    return away_from_integers(rand(n, low=low, high=high, seed=seed))


# (function of lib, inputs, tolerance): values, gradients and second derivatives vs torch.
# PyTorch's trigamma has a relative error of ~1e-9 (its series stops early), so the
# derivatives that reach it compare at rtol 1e-8.
CASES = {
    'lgamma_positive': (lambda lib, x: lib.lgamma(x), [rand(40, low=1e-3, high=60)], 1e-8),
    'lgamma_negative': (lambda lib, x: lib.lgamma(x), [wide(-25, 0.5)], 1e-8),
    'lgamma_large': (lambda lib, x: lib.lgamma(x), [rand(10, low=1e3, high=1e8)], 1e-8),
    'digamma_positive': (lambda lib, x: lib.digamma(x), [rand(40, low=1e-2, high=80)], 1e-8),
    'digamma_negative': (lambda lib, x: lib.digamma(x), [wide(-25, 0.0, seed=1)], 1e-8),
    'polygamma1': (lambda lib, x: lib.polygamma(1, x), [wide(-12, 40, seed=2)], 1e-8),
    'polygamma2': (lambda lib, x: lib.polygamma(2, x), [wide(-6, 40, seed=3)], 1e-8),
    'polygamma3': (lambda lib, x: lib.polygamma(3, x), [rand(30, low=0.1, high=30)], 1e-8),
    'polygamma0': (lambda lib, x: lib.polygamma(0, x), [rand(30, low=0.1, high=30)], 1e-8),
    'mvlgamma': (lambda lib, x: lib.mvlgamma(x, 3), [rand(4, 5, low=1.05, high=9)], 1e-8),
    'erfc': (lambda lib, x: lib.erfc(x), [rand(60, low=-6, high=25)], 1e-9),
    'erfinv': (lambda lib, x: lib.erfinv(x), [rand(60, low=-0.999999, high=0.999999)], 1e-9),
    'erfinv_tails': (lambda lib, x: lib.erfinv(x),
                     [np.concatenate([1 - np.logspace(-15, -1, 12), -1 + np.logspace(-15, -1, 12)])],
                     1e-8),
    'xlogy': (lambda lib, x, y: lib.xlogy(x, y), [rand(3, 4), rand(4, low=0.1, high=5)], 1e-9),
    'xlogy_zero_x': (lambda lib, x, y: lib.xlogy(x * 0, y), [rand(5), rand(5, low=0.1)], 1e-9),
    'xlog1py': (lambda lib, x, y: lib.special.xlog1py(x, y),
                [rand(2, 3), rand(3, low=-0.9, high=5)], 1e-9),
    'logit': (lambda lib, x: lib.logit(x), [rand(30, low=0.01, high=0.99)], 1e-9),
    'logit_eps': (lambda lib, x: lib.logit(x, eps=0.1), [rand(30, low=0.02, high=0.98)], 1e-9),
    'erfcx': (lambda lib, x: lib.special.erfcx(x), [rand(40, low=-3, high=30)], 1e-9),
    'ndtr': (lambda lib, x: lib.special.ndtr(x), [rand(40, low=-8, high=8)], 1e-9),
    'ndtri': (lambda lib, x: lib.special.ndtri(x), [rand(40, low=1e-4, high=1 - 1e-4)], 1e-8),
    'log_ndtr': (lambda lib, x: lib.special.log_ndtr(x), [rand(40, low=-30, high=8)], 1e-9),
    'entr': (lambda lib, x: lib.special.entr(x), [rand(20, low=0.01, high=5)], 1e-9),
    'i0': (lambda lib, x: lib.i0(x), [rand(40, low=-40, high=40)], 1e-9),
    'i0e': (lambda lib, x: lib.special.i0e(x), [rand(40, low=-40, high=40, away_from=0.0)], 1e-9),
    'i1': (lambda lib, x: lib.special.i1(x), [rand(40, low=-40, high=40)], 1e-9),
    'i1e': (lambda lib, x: lib.special.i1e(x), [rand(40, low=-40, high=40, away_from=0.0)], 1e-9),
    'gammainc': (lambda lib, a, x: lib.special.gammainc(a.detach(), x),
                 [rand(3, 4, low=0.1, high=30), rand(4, low=0.01, high=40)], 1e-8),
    'gammaincc': (lambda lib, a, x: lib.special.gammaincc(a.detach(), x),
                  [rand(3, 4, low=0.1, high=30), rand(4, low=0.01, high=40)], 1e-8),
    'sinc': (lambda lib, x: lib.special.sinc(x), [away_from_integers(rand(20, low=-4, high=4))],
             1e-9),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_values_and_two_derivatives_match_torch(name):
    fn, arrays, rtol = CASES[name]
    check_op(fn, *arrays, rtol=rtol, atol=1e-10)


@pytest.mark.parametrize('name', ['lgamma', 'digamma', 'erfc', 'erfinv', 'xlogy'])
def test_float32_results_keep_the_dtype(name):
    fn = {'lgamma': lambda lib, x: lib.lgamma(x), 'digamma': lambda lib, x: lib.digamma(x),
          'erfc': lambda lib, x: lib.erfc(x), 'erfinv': lambda lib, x: lib.erfinv(x * 0.4),
          'xlogy': lambda lib, x: lib.xlogy(x, x * x)}[name]
    check_op(fn, rand(3, 4, low=0.2, high=2.0, dtype='float32'), double=False)


def test_gradcheck_and_gradgradcheck():
    x = autograd.tensor(wide(-4, 6, n=8, seed=5), requires_grad=True)
    u = autograd.tensor(rand(6, low=-0.9, high=0.9), requires_grad=True)
    y = autograd.tensor(rand(6, low=0.2, high=3), requires_grad=True)
    shape = autograd.tensor(rand(6, low=0.5, high=4))
    for fn, inputs in ((autograd.lgamma, (x,)), (autograd.digamma, (x,)),
                       (lambda t: autograd.polygamma(2, t), (x,)), (autograd.erfinv, (u,)),
                       (autograd.erfc, (u,)), (autograd.xlogy, (u, y)),
                       (special.xlog1py, (u, y)), (special.erfcx, (u,)), (special.i0, (u,)),
                       (special.i1, (y,)), (special.i1e, (y,)),
                       (lambda t: special.gammainc(shape, t), (y,))):
        assert autograd.gradcheck(fn, inputs)
        assert autograd.gradgradcheck(fn, inputs)


@SETTINGS
@given(shape=st.lists(st.integers(1, 3), min_size=0, max_size=3),
       low=st.floats(-20, 30), width=st.floats(0.5, 20))
def test_lgamma_digamma_over_shapes_and_ranges(shape, low, width):
    x = away_from_integers(rand(*shape, low=low, high=low + width, seed=1))
    check_op(lambda lib, t: lib.lgamma(t) + lib.digamma(t), x, rtol=1e-8, atol=1e-9)


@SETTINGS
@given(xs=st.lists(st.integers(1, 3), min_size=1, max_size=2),
       ys=st.lists(st.integers(1, 3), min_size=1, max_size=2))
def test_xlogy_broadcasts_as_torch(xs, ys):
    try:
        np.broadcast_shapes(tuple(xs), tuple(ys))
    except ValueError:
        check_raises(lambda lib, x, y: lib.xlogy(x, y), rand(*xs), rand(*ys, low=0.1))
        return
    check_op(lambda lib, x, y: lib.xlogy(x, y), rand(*xs), rand(*ys, low=0.1))


def test_poles_and_special_points():
    x = np.array([0.0, -0.0, -1.0, -2.0, 1.0, 2.0, np.inf, np.nan])
    for name in ('lgamma', 'digamma'):
        ours = to_numpy(getattr(autograd, name)(autograd.tensor(x)))
        theirs = to_numpy(getattr(torch, name)(torch.tensor(x)))
        np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=0, err_msg=name)
    u = np.array([-1.0, 1.0, 0.0, 1.5, -2.0, np.nan])
    np.testing.assert_array_equal(to_numpy(autograd.erfinv(autograd.tensor(u))),
                                  to_numpy(torch.erfinv(torch.tensor(u))))
    # xlogy: 0 where x is 0 (even at y = 0 or inf), NaN where y is NaN
    xs, ys = np.array([0.0, 0.0, 0.0, 2.0]), np.array([0.0, np.inf, np.nan, 0.0])
    np.testing.assert_array_equal(
        to_numpy(autograd.xlogy(autograd.tensor(xs), autograd.tensor(ys))),
        to_numpy(torch.xlogy(torch.tensor(xs), torch.tensor(ys))))


def test_numbers_and_methods():
    x = rand(5, low=0.5, high=4)
    t, tt = autograd.tensor(x), torch.tensor(x)
    pairs = [(t.lgamma(), tt.lgamma()), (t.digamma(), tt.digamma()),
             (t.polygamma(2), tt.polygamma(2)), (t.mvlgamma(2), tt.mvlgamma(2)),
             (t.erfc(), tt.erfc()), ((t / 5).erfinv(), (tt / 5).erfinv()),
             (t.xlogy(3.0), tt.xlogy(3.0)), (autograd.xlogy(2.0, t), torch.xlogy(2.0, tt)),
             ((t / 5).logit(), (tt / 5).logit()),
             (t.clone().lgamma_(), tt.clone().lgamma_()),
             (t.clone().digamma_(), tt.clone().digamma_()),
             ((t / 5).erfinv_(), (tt / 5).erfinv_())]
    for ours, theirs in pairs:
        np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=1e-12)
    ints = autograd.tensor([1, 2, 3])
    assert autograd.lgamma(ints).dtype == autograd.float32 == autograd.digamma(ints).dtype


def test_torch_special_names():
    x = rand(2, 3, low=0.1, high=0.9)
    t, tt = autograd.tensor(x), torch.tensor(x)
    for name, args in (('gammaln', ()), ('psi', ()), ('digamma', ()), ('expit', ()),
                       ('logit', ()), ('erf', ()), ('erfc', ()), ('erfinv', ()),
                       ('log1p', ()), ('expm1', ()), ('exp2', ()), ('ndtr', ()),
                       ('ndtri', ()), ('log_ndtr', ()), ('entr', ()), ('sinc', ()),
                       ('round', ()), ('logsumexp', (1,)), ('softmax', (1,)),
                       ('log_softmax', (0,)), ('xlogy', (2.0,)), ('xlog1py', (2.0,))):
        ours = getattr(special, name)(t, *args)
        theirs = getattr(torch.special, name)(tt, *args)
        np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=1e-9, atol=1e-12,
                                   err_msg=name)
    np.testing.assert_allclose(to_numpy(special.polygamma(3, t)),
                               to_numpy(torch.special.polygamma(3, tt)), rtol=1e-10)
    np.testing.assert_allclose(to_numpy(special.multigammaln(t + 2, 4)),
                               to_numpy(torch.special.multigammaln(tt + 2, 4)), rtol=1e-10)


def test_gammainc_has_no_derivative_in_its_first_argument():
    a = autograd.tensor([1.5, 2.0], requires_grad=True)
    y = special.gammainc(a, autograd.tensor([0.5, 1.0]))
    with pytest.raises(NotImplementedError, match='gammainc'):
        y.sum().backward()


def test_errors_as_torch():
    x = rand(3, low=0.1, high=1.0)
    check_raises(lambda lib, t: lib.mvlgamma(t + 5, 0), x, match='p has to be greater')
    check_raises(lambda lib, t: lib.polygamma(-1, t), x, match='negative n')
    check_raises(lambda lib, t: lib.polygamma(1.5, t), x, exc=TypeError)


def test_device_follows_the_input():
    t = autograd.tensor([0.5, 1.5, 3.0], requires_grad=True)
    y = autograd.lgamma(t) + autograd.digamma(t) + autograd.erfc(t) + autograd.erfinv(t / 4)
    assert y.device == t.device
    y.sum().backward()
    assert t.grad.device == t.device
