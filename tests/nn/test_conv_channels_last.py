"""Convolutions with C/G * kw >= ``CHANNELS_LAST_RUN`` take channels-last columns
(``nn.functional.conv._cols_last``) for their forward and weight gradient.  Against
PyTorch at the threshold's natural shapes (LeNet's conv2) and, with the threshold forced
down to 1, over strides, dilations, paddings (the negative ones of a transposed
convolution's backward included), groups and dims, to second order."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn.functional as F
from nn.functional import conv
from oracle import check_op, rand, torch


def fn(lib):
    return torch.nn.functional if lib is torch else F


@pytest.fixture
def every_conv(monkeypatch):
    monkeypatch.setattr(conv, 'CHANNELS_LAST_RUN', 1)


def test_threshold_counts_contiguous_window_rows():
    assert conv._channels_last(6, (5, 5), (1, 1))            # LeNet's conv2: runs of 30
    assert not conv._channels_last(1, (5, 5), (1, 1))        # one input channel: runs of 5
    assert not conv._channels_last(6, (5, 5), (1, 2))        # dilated: runs of 6 channels
    assert conv._channels_last(16, (1, 1), (1, 1))


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('shape', [(1, 6, 14, 14), (3, 6, 9, 12)])
def test_conv2d_at_the_threshold_matches_torch(shape, dtype):
    # batch 1 and odd sizes; float32 within the rounding of sums of 150-400 products of
    # values up to 2 (of order K eps sum |terms|, above check_op's float32 default: the
    # tree before the channels-last columns differed from PyTorch as much)
    x, w = rand(*shape, dtype=dtype), rand(16, 6, 5, 5, seed=1, dtype=dtype)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == 'float32' else {}
    check_op(lambda lib, x, w, b: fn(lib).conv2d(x, w, b, padding=(0, 1)), x, w,
             rand(16, seed=2, dtype=dtype), double=dtype == 'float64', **tol)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(n=st.integers(1, 3), groups=st.sampled_from([1, 2]),
       kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       stride=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       pad=st.tuples(st.integers(0, 2), st.integers(0, 2)), bias=st.booleans())
def test_conv2d_channels_last_matches_torch(n, groups, kernel, stride, dilation, pad, bias):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(conv, 'CHANNELS_LAST_RUN', 1)
        x, w = rand(n, 2 * groups, 6, 5), rand(3 * groups, 2, *kernel, seed=1)
        args = (x, w, rand(3 * groups, seed=2)) if bias else (x, w)
        check_op(lambda lib, *a: fn(lib).conv2d(*a, stride=stride, padding=pad,
                                                dilation=dilation, groups=groups), *args)


def test_conv1d_and_conv3d_channels_last_match_torch(every_conv):
    check_op(lambda lib, x, w, b: fn(lib).conv1d(x, w, b, stride=2, padding=1, groups=2),
             rand(2, 4, 9), rand(6, 2, 3, seed=1), rand(6, seed=2))
    check_op(lambda lib, x, w: fn(lib).conv3d(x, w, padding=(1, 0, 1), dilation=(1, 2, 1)),
             rand(2, 2, 4, 5, 4), rand(3, 2, 2, 2, 3, seed=1))


def test_strided_transpose_backward_crops_channels_last(every_conv):
    # conv_transpose2d's input gradient is a convolution with negative (cropping) padding
    check_op(lambda lib, x, w: fn(lib).conv_transpose2d(x, w, stride=2, padding=1,
                                                        output_padding=1),
             rand(2, 3, 4, 3), rand(3, 2, 3, 3, seed=1))


def test_non_contiguous_input_matches_torch():
    check_op(lambda lib, x, w: fn(lib).conv2d(x.transpose(2, 3), w, padding=1),
             rand(2, 8, 6, 5), rand(3, 8, 3, 3, seed=1))


def test_second_backward_recomputes_columns():
    # the forward's columns serve one weight gradient; retain_graph's second backward
    # makes them again, and gets the same gradient
    x = autograd.tensor(rand(2, 8, 5, 5), requires_grad=True)
    w = autograd.tensor(rand(4, 8, 3, 3, seed=1), requires_grad=True)
    y = F.conv2d(x, w).sum()
    first, = autograd.grad(y, w, retain_graph=True)
    second, = autograd.grad(y, w)
    np.testing.assert_array_equal(first.cpu().numpy(), second.cpu().numpy())


def test_channels_last_without_strided_views(monkeypatch, every_conv):
    monkeypatch.setattr(conv, 'as_strided', lambda xp, a, shape, strides: None)
    check_op(lambda lib, x, w, b: fn(lib).conv2d(x, w, b, stride=(2, 1), padding=(2, 1),
                                                 dilation=(1, 2), groups=2),
             rand(2, 4, 7, 6), rand(4, 2, 3, 2, seed=1), rand(4, seed=2))
