"""Cross-entropy's fast paths for class-index targets (issue 19) against PyTorch: the row
sums of the one-hot coefficients taken from the valid-target mask (no weights, no label
smoothing), the one-comparison range check of the targets, and the mean's division
without NumPy's error-state switch when the divisor's magnitude is 1 or more.  Values,
gradients and second-order gradients in float64 and float32, over odd sizes, batch 1,
spatial targets, non-contiguous logits and ignored targets; no NumPy warning anywhere."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
from oracle import check_op, check_raises, torch, functional as F


pytestmark = pytest.mark.usefixtures('no_numpy_warnings')


def _targets(rng, shape, C, ignored, ignore_index):
    y = rng.integers(0, C, shape)
    if ignored:
        y.flat[rng.choice(y.size, min(ignored, y.size), replace=False)] = ignore_index
    return y


@settings(max_examples=12, deadline=None, derandomize=True)
@given(n=st.integers(1, 9), C=st.integers(1, 13), ignored=st.integers(0, 3),
       ignore_index=st.sampled_from([-100, 0, 2]), reduction=st.sampled_from(['mean', 'sum', 'none']),
       dtype=st.sampled_from(['float64', 'float32']))
def test_class_indices_without_weights_or_smoothing(n, C, ignored, ignore_index, reduction, dtype):
    rng = np.random.default_rng(n * 100 + C)
    if ignore_index >= C:
        ignore_index = -100
    x = rng.standard_normal((n, C)).astype(dtype)
    y = _targets(rng, n, C, ignored if ignored < n else 0, ignore_index)
    check_op(lambda lib, x: F(lib).cross_entropy(x, lib.tensor(y), ignore_index=ignore_index,
                                                 reduction=reduction), x)


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_spatial_targets_unbatched_and_uint8(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 3, 4)).astype(dtype)
    y = rng.integers(0, 5, (2, 3, 4))
    y[0, 1, 2] = -100
    check_op(lambda lib, x: F(lib).cross_entropy(x, lib.tensor(y)), x)
    check_op(lambda lib, x: F(lib).cross_entropy(x, lib.tensor(3)), x[0, :, 0, 0])
    check_op(lambda lib, x: F(lib).cross_entropy(x, lib.tensor(y[:, 0, 0].astype(np.uint8))),
             x[:, :, 0, 0])


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_non_contiguous_logits_and_targets(dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 6)).astype(dtype)
    y = rng.integers(0, 7, 12)
    # logits (6, 7) as a transposed view, targets every other one
    check_op(lambda lib, x: F(lib).cross_entropy(x.t(), lib.tensor(y)[::2]), x)


def test_logits_that_do_not_require_grad_and_second_order():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 4))
    y = np.array([3, -100, 0, 1, 2])
    for lib in (autograd, torch):
        xt = lib.tensor(x)
        assert not F(lib).cross_entropy(xt, lib.tensor(y)).requires_grad
    check_op(lambda lib, x, s: F(lib).cross_entropy(x * s, lib.tensor(y)), x,
             np.array(1.5))


@pytest.mark.parametrize('target', [[1, -1, 0], [1, 0, 4], [-5, 0, 1], [-100, 4, 0]])
def test_out_of_range_targets_raise_as_pytorch(target):
    x = np.random.default_rng(3).standard_normal((3, 4))
    check_raises(lambda lib, x: F(lib).cross_entropy(x, lib.tensor(target)), x,
                 exc=IndexError, match='out of bounds')


@pytest.mark.parametrize('scale', [1e-3, 0.5, 1.0, 3.0, -0.5])
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_weighted_mean_divisors_below_and_above_one(scale, dtype):
    """Class weights make the mean's divisor any number: below 1 (the quiet division),
    1 or more (the plain one), negative."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4)).astype(dtype)
    w = np.full(4, scale, dtype=dtype)
    y = np.array([0, 3, 1])
    check_op(lambda lib, x: F(lib).cross_entropy(x, lib.tensor(y), weight=lib.tensor(w)), x)


def test_weighted_mean_overflowing_past_a_small_divisor_is_silent_inf():
    """A divisor of magnitude below 1 (weights 1 and -0.999) takes the quiet division:
    1e37 / 0.001 is inf, silently, as PyTorch's."""
    x = np.array([[-1e37, 0.0], [0.0, 0.0]], dtype=np.float32)
    w = np.array([1.0, -0.999], dtype=np.float32)
    ours = F(autograd).cross_entropy(autograd.tensor(x), autograd.tensor([0, 1]),
                                     weight=autograd.tensor(w))
    theirs = F(torch).cross_entropy(torch.tensor(x), torch.tensor([0, 1]), weight=torch.tensor(w))
    assert np.isinf(theirs.item()) and ours.item() == theirs.item()


def test_all_targets_ignored_mean_is_nan_silently():
    """0 / 0 with no NumPy warning, forward and backward.  (Its gradient is NaN here where
    PyTorch's is 0, as before the fast paths: see the report of issue 19.)"""
    x = autograd.tensor(np.ones((3, 4)), requires_grad=True)
    loss = F(autograd).cross_entropy(x, autograd.tensor([-100, -100, -100]))
    assert np.isnan(loss.item())
    assert np.isnan(F(torch).cross_entropy(torch.ones(3, 4), torch.tensor([-100] * 3)).item())
    loss.backward()


@pytest.mark.parametrize('target, weight', [
    ([-100, -100, -100], None),                   # every target ignored: 0/0
    ([-100, -100, -100], [1.0, 2.0, 3.0]),
    ([0, -100, 2], [0.0, 1.0, 0.0]),             # the rest weighted 0: NaN rows, 0 ignored
    ([1, 1, -100], [1.0, 0.0, 1.0]),
])
@pytest.mark.parametrize('loss', ['cross_entropy', 'nll_loss', 'smoothed'])
def test_mean_over_no_weight_leaves_ignored_rows_zero(target, weight, loss):
    """A batch whose targets are all ignored (padding only) has a NaN mean loss, and
    PyTorch's gradient is 0 on every ignored row: NaN only on rows not ignored whose weight
    is 0.  (Ours applied g / 0 = inf to every row: NaN everywhere, poisoning the update;
    with label smoothing the mean was inf.)"""
    x = np.array([[1.0, 2.0, 0.3], [0.5, 0.1, -1.0], [0.2, 0.2, 0.2]])
    y, w = np.array(target), None if weight is None else np.array(weight)

    def fn(lib, x):
        f = F(lib)
        wt = None if w is None else lib.tensor(w)
        if loss == 'nll_loss':
            return f.nll_loss(x.log_softmax(1), lib.tensor(y), weight=wt)
        return f.cross_entropy(x, lib.tensor(y), weight=wt,
                               label_smoothing=0.1 if loss == 'smoothed' else 0.0)
    check_op(fn, x)
