"""Average pooling whose windows tile the input (stride = kernel, no dilation) sums them one
dim at a time (``nn.functional.pooling._tile_sums``).  Against PyTorch over odd sizes (floor
crops), ceil mode (a last window past the input), padding with and without counting it, a
divisor override, 1-d/2-d/3-d, batch 1, float32 and float64, a non-contiguous input, to
second order."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn.functional as F
from nn.functional import pooling
from oracle import check_op, rand, torch


def fn(lib):
    return torch.nn.functional if lib is torch else F


def test_tile_sums_adds_each_window():
    x = np.arange(2 * 5 * 7, dtype=np.float64).reshape(2, 5, 7)
    y = pooling._tile_sums(np, x, (2, 3), (2, 2))
    expect = [[x[n, 2 * i:2 * i + 2, 3 * j:3 * j + 3].sum() for j in range(2)]
              for n in range(2) for i in range(2)]
    np.testing.assert_array_equal(y.reshape(-1), np.reshape(expect, -1))
    ones = pooling._tile_sums(np, x, (1, 1), (5, 7))
    assert ones is not x and np.array_equal(ones, x)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(n=st.integers(1, 3), h=st.integers(2, 9), w=st.integers(2, 9),
       k=st.tuples(st.integers(1, 3), st.integers(1, 3)), ceil=st.booleans(),
       pad=st.booleans(), count_pad=st.booleans())
def test_avg_pool2d_tiled_matches_torch(n, h, w, k, ceil, pad, count_pad):
    k = (min(k[0], h), min(k[1], w))
    padding = tuple(kk // 2 for kk in k) if pad else 0
    check_op(lambda lib, x: fn(lib).avg_pool2d(x, k, stride=k, padding=padding, ceil_mode=ceil,
                                               count_include_pad=count_pad),
             rand(n, 2, h, w))


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('shape', [(1, 6, 28, 28), (3, 16, 11, 10)])
def test_avg_pool2d_2x2_matches_torch(shape, dtype):
    check_op(lambda lib, x: fn(lib).avg_pool2d(x, 2, stride=2), rand(*shape, dtype=dtype),
             double=dtype == 'float64')


def test_avg_pool_1d_3d_divisor_and_unbatched_match_torch():
    check_op(lambda lib, x: fn(lib).avg_pool1d(x, 3, stride=3, ceil_mode=True), rand(2, 3, 11))
    check_op(lambda lib, x: fn(lib).avg_pool3d(x, (2, 1, 3), stride=(2, 1, 3), padding=(1, 0, 1),
                                               count_include_pad=False), rand(2, 2, 5, 3, 7))
    check_op(lambda lib, x: fn(lib).avg_pool2d(x, 2, divisor_override=3), rand(3, 7, 6))


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_non_contiguous_input(dtype):
    x = rand(2, 3, 9, 8, dtype=dtype).transpose(0, 1, 3, 2)
    ours = F.avg_pool2d(autograd.tensor(x), 2)
    theirs = torch.nn.functional.avg_pool2d(torch.tensor(x), 2)
    np.testing.assert_allclose(ours.cpu().numpy(), theirs.numpy(),
                               rtol=1e-6 if dtype == 'float32' else 1e-15)
