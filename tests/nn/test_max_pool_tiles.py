"""Max pooling whose windows tile the input (stride = kernel, no dilation): the maxima taken
one dim at a time (``pooling._tile_sums`` with ``maximum``, the first pass over whole rows).
Against PyTorch: values, indices and gradients to second order over sizes, kernels,
padding and ceil mode; 1-d and 3-d; float32; NaN windows and ties of signed zeros."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn.functional as F
from oracle import check_op, rand, torch


def fn(lib):
    return torch.nn.functional if lib is torch else F


@settings(max_examples=12, deadline=None, derandomize=True)
@given(n=st.integers(1, 3), kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       extra=st.tuples(st.integers(0, 4), st.integers(0, 4)), ceil=st.booleans(),
       pad=st.booleans())
def test_max_pool2d_tiles_match_torch(n, kernel, extra, ceil, pad):
    padding = tuple(k // 2 for k in kernel) if pad else 0
    x = rand(n, 2, 2 * kernel[0] + extra[0], 2 * kernel[1] + extra[1])
    check_op(lambda lib, x: fn(lib).max_pool2d(x, kernel, padding=padding, ceil_mode=ceil,
                                               return_indices=True), x)


@pytest.mark.parametrize('d', [1, 3])
def test_max_pool_1d_3d_tiles_match_torch(d):
    x = rand(2, 3, *(7,) * d)
    check_op(lambda lib, x: getattr(fn(lib), f'max_pool{d}d')(x, 2, ceil_mode=True), x)


def test_float32_nans_and_signed_zeros_match_torch():
    x = rand(4, 3, 8, 10, dtype='float32')
    x[0, 0, 2:4, 2:4] = np.nan                  # a window of NaNs
    x[1, 1, 0, 1] = np.nan                      # one NaN in a window
    x[2, 2, :2, :2] = [[-0.0, 0.0], [0.0, -0.0]]
    x[3, 0, :2, :2] = [[0.0, -0.0], [-0.0, 0.0]]
    results = []
    for lib in (autograd, torch):
        xt = lib.tensor(x, requires_grad=True)
        y, i = fn(lib).max_pool2d(xt, 2, return_indices=True)
        y.backward(lib.ones(tuple(y.shape)))
        results.append([t.detach().cpu().numpy() for t in (y, i, xt.grad)])
    (y, i, g), (ty, ti, tg) = results
    np.testing.assert_array_equal(y, ty)
    assert np.array_equal(np.signbit(y), np.signbit(ty))
    np.testing.assert_array_equal(i, ti)
    np.testing.assert_array_equal(g, tg)
