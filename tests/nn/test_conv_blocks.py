"""Stride-1 convolutions with a short reduction run their im2col and GEMM over blocks of
images (``nn.functional.conv.CHUNK_BYTES``).  With the block size forced down to one image
the results must be PyTorch's, to second order, as with the whole batch at once."""
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
def one_image_blocks(monkeypatch):
    monkeypatch.setattr(conv, 'CHUNK_BYTES', 1)


def test_blocks_cover_the_batch_in_order(one_image_blocks):
    assert conv._chunks(np, 5, 25, 1000) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    conv.CHUNK_BYTES = 2500
    assert conv._chunks(np, 5, 25, 1000) == [(0, 2), (2, 4), (4, 5)]
    # a long reduction (compute-bound GEMM) takes the whole batch
    assert conv._chunks(np, 5, conv.CHUNK_ROWS + 1, 1000) == [(0, 5)]


@pytest.mark.parametrize('kw', [dict(padding=2), dict(), dict(padding=(1, 0), dilation=(2, 1)),
                                dict(padding='same')])
@pytest.mark.parametrize('bias', [True, False])
def test_conv2d_one_channel_in_blocks(one_image_blocks, kw, bias):
    x, w = rand(3, 1, 7, 6), rand(4, 1, 3, 3, seed=1)
    args = (x, w, rand(4, seed=2)) if bias else (x, w)
    check_op(lambda lib, *a: fn(lib).conv2d(*a, **kw), *args)


def test_conv2d_groups_in_blocks(one_image_blocks):
    check_op(lambda lib, x, w, b: fn(lib).conv2d(x, w, b, padding=1, groups=2),
             rand(3, 4, 5, 5), rand(6, 2, 3, 3, seed=1), rand(6, seed=2))


def test_conv1d_and_conv3d_in_blocks(one_image_blocks):
    check_op(lambda lib, x, w, b: fn(lib).conv1d(x, w, b, padding=1), rand(3, 2, 9),
             rand(5, 2, 3, seed=1), rand(5, seed=2))
    check_op(lambda lib, x, w: fn(lib).conv3d(x, w, padding=1), rand(3, 1, 4, 5, 4),
             rand(2, 1, 2, 3, 2, seed=1))


def test_blocks_give_the_whole_batch_result(monkeypatch):
    # the same values, bit for bit up to the GEMM's summation order, with and without blocks
    x = autograd.tensor(rand(5, 1, 9, 9, dtype='float32'), requires_grad=True)
    w = autograd.tensor(rand(3, 1, 3, 3, seed=1, dtype='float32'), requires_grad=True)
    results = []
    for size in (1, 2 ** 30):
        monkeypatch.setattr(conv, 'CHUNK_BYTES', size)
        y = F.conv2d(x, w, padding=1)
        gx, gw = autograd.grad((y * y).sum(), (x, w))
        results.append([t.detach().cpu().numpy() for t in (y, gx, gw)])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('blocks', [1, 2 ** 30])
def test_columns_without_strided_views(monkeypatch, blocks):
    # an array library without strided views: im2col copies one kernel offset at a time
    monkeypatch.setattr(conv, 'as_strided', lambda xp, a, shape, strides: None)
    monkeypatch.setattr(conv, 'CHUNK_BYTES', blocks)
    check_op(lambda lib, x, w, b: fn(lib).conv2d(x, w, b, padding=(2, 1), groups=2),
             rand(3, 2, 6, 5), rand(4, 1, 3, 2, seed=1), rand(4, seed=2))
    check_op(lambda lib, x, w: fn(lib).conv3d(x, w, padding=1, dilation=(1, 2, 1)),
             rand(2, 1, 4, 5, 4), rand(2, 1, 2, 2, 2, seed=1))


@settings(max_examples=10, deadline=None, derandomize=True)
@given(n=st.integers(1, 5), block_bytes=st.sampled_from([1, 400, 3000, 2 ** 30]),
       kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)), pad=st.integers(0, 2),
       groups=st.sampled_from([1, 2]), bias=st.booleans())
def test_blocks_match_torch_over_shapes(n, block_bytes, kernel, pad, groups, bias):
    # any batch size against any block size (a last, smaller block included), to second order
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(conv, 'CHUNK_BYTES', block_bytes)
        x, w = rand(n, groups, 5, 4), rand(3 * groups, 1, *kernel, seed=1)
        args = (x, w, rand(3 * groups, seed=2)) if bias else (x, w)
        check_op(lambda lib, *a: fn(lib).conv2d(*a, padding=pad, groups=groups), *args)
