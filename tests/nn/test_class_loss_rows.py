"""Cross-entropy and NLL on (N, C) logits with class-index targets (issue 19): the loss
gathered at the targets (no one-hot coefficients), the row sums of exp as a product with
ones, and the first-order gradient on arrays subtracting the one-hot at the targets only.
Against PyTorch: values, gradients (plain backward, the array path) and second-order
gradients (a graph of the backward, the one-hot rebuilt), with class weights, ignored
rows, every reduction, odd class counts, batch 1, float32 and float64, logits of -inf,
and gradients reaching some inputs only."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn
from oracle import check_op, check_raises, torch, functional as F


pytestmark = pytest.mark.usefixtures('no_numpy_warnings')


def _case(n, C, ignored, ignore_index, weighted, dtype, seed=0):
    rng = np.random.default_rng(seed + 7919 * n + C)
    x = (rng.standard_normal((n, C)) * 3).astype(dtype)
    y = rng.integers(0, C, n)
    if ignored:
        y[rng.choice(n, min(ignored, n), replace=False)] = ignore_index
    w = rng.uniform(0.1, 2.0, C).astype(dtype) if weighted else None
    return x, y, w


@settings(max_examples=16, deadline=None, derandomize=True)
@given(n=st.integers(1, 9), C=st.sampled_from([1, 2, 3, 7, 10, 13, 65]),
       ignored=st.integers(0, 3), ignore_index=st.sampled_from([-100, 0, 2, -1]),
       weighted=st.booleans(), reduction=st.sampled_from(['mean', 'sum', 'none']),
       dtype=st.sampled_from(['float64', 'float32']), fn=st.sampled_from(['ce', 'nll']))
def test_against_pytorch_to_second_order(n, C, ignored, ignore_index, weighted, reduction,
                                         dtype, fn):
    if ignore_index >= C:
        ignore_index = -100
    x, y, w = _case(n, C, ignored, ignore_index, weighted, dtype)

    def loss(lib, x):
        f = F(lib).cross_entropy if fn == 'ce' else F(lib).nll_loss
        return f(x, lib.tensor(y), weight=None if w is None else lib.tensor(w),
                 ignore_index=ignore_index, reduction=reduction)
    check_op(loss, x)


def _plain_grad(lib, x, y, w, reduction, fn, ignore_index=-100):
    """The gradient of a plain backward (no graph: the array formula)."""
    xt = lib.tensor(x, requires_grad=True)
    f = F(lib).cross_entropy if fn == 'ce' else F(lib).nll_loss
    out = f(xt, lib.tensor(y), weight=None if w is None else lib.tensor(w),
            ignore_index=ignore_index, reduction=reduction)
    g = np.linspace(-1, 2, out.numel()).reshape(tuple(out.shape)).astype(x.dtype)
    out.backward(lib.tensor(g))
    return out.detach().cpu().numpy(), xt.grad.cpu().numpy()


@pytest.mark.parametrize('fn', ['ce', 'nll'])
@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('n,C,ignored,weighted', [(1, 1, 0, False), (1, 65, 0, True),
                                                  (5, 3, 2, True), (256, 65, 9, False),
                                                  (33, 10, 4, True)])
def test_plain_backward(fn, reduction, dtype, n, C, ignored, weighted):
    x, y, w = _case(n, C, ignored, 1 if C > 1 else -100, weighted, dtype)
    ii = 1 if C > 1 else -100
    ours = _plain_grad(autograd, x, y, w, reduction, fn, ii)
    theirs = _plain_grad(torch, x, y, w, reduction, fn, ii)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == 'float32' else dict(rtol=1e-12, atol=1e-14)
    for a, b, what in zip(ours, theirs, ('loss', 'grad')):
        assert a.dtype == b.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a, b, err_msg=what, **tol)


def test_backward_twice_with_retained_graph():
    x, y, w = _case(6, 5, 1, -100, True, 'float64')
    grads = []
    for lib in (autograd, torch):
        xt = lib.tensor(x, requires_grad=True)
        out = F(lib).cross_entropy(xt, lib.tensor(y), weight=lib.tensor(w))
        out.backward(retain_graph=True)
        out.backward()
        grads.append(xt.grad.cpu().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize('reduction', ['mean', 'none'])
def test_minus_inf_logits_off_target(reduction):
    """A class never predicted (logit -inf) that is not the target: a finite loss, as
    PyTorch (no 0 * -inf from a one-hot product); the ignored row stays 0."""
    x = np.array([[0.5, -np.inf, 1.0], [-np.inf, 2.0, 0.0], [-np.inf, 1.0, 3.0]])
    y = np.array([0, 1, -100])
    for lib in (autograd, torch):
        out = F(lib).cross_entropy(lib.tensor(x, requires_grad=True), lib.tensor(y),
                                   reduction=reduction)
        assert np.isfinite(out.detach().cpu().numpy()).all()
    check_op(lambda lib, x: F(lib).cross_entropy(x, lib.tensor(y), reduction=reduction), x,
             double=False)


def test_grads_of_some_inputs_only():
    """Logits from a product of two tensors, only one requiring grad."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((7, 4))
    b = rng.standard_normal((4, 11))
    y = rng.integers(0, 11, 7)
    y[2] = -100

    def loss(lib, a):
        return F(lib).cross_entropy(a @ lib.tensor(b), lib.tensor(y), reduction='sum')
    check_op(loss, a)
    xt = autograd.tensor(a @ b)
    out = nn.functional.cross_entropy(xt, autograd.tensor(y))
    assert not out.requires_grad


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_every_target_ignored_is_nan(dtype):
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(dtype)
    y = np.full(3, -100)
    outs = []
    for lib in (autograd, torch):
        xt = lib.tensor(x, requires_grad=True)
        out = F(lib).cross_entropy(xt, lib.tensor(y))
        out.backward()
        outs.append((out.detach().cpu().numpy(), xt.grad.cpu().numpy()))
    assert np.isnan(outs[0][0]) and np.isnan(outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])


@pytest.mark.parametrize('bad', [3, -2])
@pytest.mark.parametrize('fn', ['cross_entropy', 'nll_loss'])
def test_out_of_range_target_raises(bad, fn):
    """PyTorch's IndexError, also where the device checks the targets after the gather."""
    x = np.random.default_rng(0).standard_normal((2, 3))
    check_raises(lambda lib, x: getattr(F(lib), fn)(x, lib.tensor(np.array([0, bad]))), x,
                 match='out of bounds')
