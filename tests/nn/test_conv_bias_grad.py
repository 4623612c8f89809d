"""The convolution's bias gradient (``nn.functional.conv.BiasGrad``): the sum of g over the
batch and the spatial dims, as two products with vectors of ones from ``BIAS_PRODUCT_MIN``
elements on (float32, float64), NumPy's reduction below.  Against PyTorch on both sides of
the threshold, to second order (the backward of the bias gradient is a broadcast)."""
import numpy as np
import pytest

import autograd
import nn.functional as F
from nn.functional import conv
from oracle import check_op, rand, torch


def fn(lib):
    return torch.nn.functional if lib is torch else F


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('n', [1, 5])
def test_conv2d_bias_gradient_by_products_matches_torch(n, dtype):
    # n * 4 * 33 * 35 >= BIAS_PRODUCT_MIN: the products (odd sizes, batch 1)
    x, w, b = rand(n, 3, 35, 37, dtype=dtype), rand(4, 3, 3, 3, seed=1, dtype=dtype), \
        rand(4, seed=2, dtype=dtype)
    assert n * 4 * 33 * 35 >= conv.BIAS_PRODUCT_MIN
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == 'float32' else {}
    check_op(lambda lib, x, w, b: fn(lib).conv2d(x, w, b), x, w, b,
             double=dtype == 'float64', **tol)


def test_small_bias_gradient_by_reduction_matches_torch():
    x, w, b = rand(2, 3, 5, 4), rand(4, 3, 2, 2, seed=1), rand(4, seed=2)
    assert 2 * 4 * 4 * 3 < conv.BIAS_PRODUCT_MIN
    check_op(lambda lib, x, w, b: fn(lib).conv2d(x, w, b, padding=1), x, w, b)


def test_bias_gradient_1d_3d_and_strided_match_torch(monkeypatch):
    monkeypatch.setattr(conv, 'BIAS_PRODUCT_MIN', 1)    # every shape through the products
    check_op(lambda lib, x, w, b: fn(lib).conv1d(x, w, b, stride=2, padding=1), rand(3, 2, 9),
             rand(5, 2, 3, seed=1), rand(5, seed=2))
    check_op(lambda lib, x, w, b: fn(lib).conv3d(x, w, b, groups=2), rand(2, 4, 4, 3, 5),
             rand(6, 2, 2, 2, 2, seed=1), rand(6, seed=2))
    check_op(lambda lib, x, w, b: fn(lib).conv2d(x, w, b, stride=(2, 1), dilation=(1, 2)),
             rand(2, 2, 7, 8), rand(3, 2, 2, 3, seed=1), rand(3, seed=2))


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_bias_gradient_alone_of_a_non_contiguous_gradient(dtype):
    # only the bias requires grad; the incoming gradient is a transposed (non-contiguous) one
    x, w = rand(3, 2, 40, 41, dtype=dtype), rand(4, 2, 3, 3, seed=1, dtype=dtype)
    b, g = rand(4, seed=2, dtype=dtype), rand(3, 4, 38, 39, seed=3, dtype=dtype)
    gt = np.ascontiguousarray(g.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    assert not gt.flags.c_contiguous
    ours = autograd.tensor(b, requires_grad=True)
    y = F.conv2d(autograd.tensor(x), autograd.tensor(w), ours)
    y.backward(autograd.tensor(gt))
    theirs = torch.tensor(b, requires_grad=True)
    torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), theirs).backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad.cpu().numpy(), theirs.grad.numpy(),
                               rtol=1e-5 if dtype == 'float32' else 1e-12)
    assert ours.grad.dtype == getattr(autograd, dtype)


def test_bias_gradient_of_an_empty_batch_is_zero():
    b = autograd.tensor(rand(4, seed=2), requires_grad=True)
    F.conv2d(autograd.zeros(0, 2, 6, 6, dtype=autograd.float64),
             autograd.tensor(rand(4, 2, 3, 3, seed=1)), b).sum().backward()
    assert b.grad.shape == (4,) and not b.grad.cpu().numpy().any()
