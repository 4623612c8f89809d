"""Channel-major row products (``nn.functional.conv._rows_first``): a 2-d stride-1
convolution with few input channels (C kw below ``CHANNELS_LAST_RUN``), one group and no
dilation down the rows copies each window row once, channel-major, and multiplies each
output row's windows in place; the forward from more than ``ROWS_FIRST_TAPS`` taps, the
weight gradient whenever the forward kept no wide-grid columns.  Against PyTorch to second
order over sizes, kernels, paddings (wider than the kernel too), column dilations and
batch sizes; float32 and float64; gradients for some inputs only; a non-contiguous input;
an array library without strided views; the crop of a transposed convolution's weight
gradient; gradcheck and gradgradcheck."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn.functional as F
from autograd.extend import array_of, xp_of
from nn.functional import conv
from oracle import check_op, rand, torch


def fn(lib):
    return torch.nn.functional if lib is torch else F


@pytest.fixture
def calls(monkeypatch):
    """Counts the window-row copies."""
    made = []
    rows_first = conv._rows_first

    def spy(*args):
        made.append(args[1].shape)
        return rows_first(*args)
    monkeypatch.setattr(conv, '_rows_first', spy)
    return made


def test_rule():
    assert conv._rows_first_path(1, (5, 5), (1, 1), (1, 2))
    assert not conv._rows_first_path(2, (5, 5), (1, 1), (1, 1))       # groups
    assert not conv._rows_first_path(1, (5, 5), (1, 1), (2, 1))       # dilation down rows
    assert not conv._rows_first_path(1, (5, 5), (2, 1), (1, 1))       # a stride
    assert not conv._rows_first_path(1, (5,), (1,), (1,))            # 1-d
    # wide-grid columns the forward kept are reused by the weight gradient
    assert not conv._rows_first_path(1, (3, 3), (1, 1), (1, 1), np.zeros((1, 9, 4)))
    assert conv._rows_first_path(1, (3, 3), (1, 1), (1, 1), np.zeros((3, 1, 3, 2, 4)))


@settings(max_examples=12, deadline=None, derandomize=True)
@given(n=st.integers(1, 3), c=st.integers(1, 3), kh=st.integers(1, 5), kw=st.integers(1, 5),
       h=st.integers(0, 4), w=st.integers(0, 4), pad=st.tuples(st.integers(0, 3), st.integers(0, 3)),
       dw=st.integers(1, 2), bias=st.booleans())
def test_conv2d_matches_torch(n, c, kh, kw, h, w, pad, dw, bias):
    # c kw < 16 always here (channel-major); kh kw > 9 takes the rows in the forward too
    x = rand(n, c, kh + h, dw * (kw - 1) + 1 + w)
    wt = rand(3, c, kh, kw, seed=1)
    args = (x, wt, rand(3, seed=2)) if bias else (x, wt)
    check_op(lambda lib, *a: fn(lib).conv2d(*a, padding=pad, dilation=(1, dw)), *args)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('n,c,size,kernel,padding,forward_rows', [
    (4, 1, 28, 5, 2, True),      # LeNet's first convolution
    (8, 1, 28, 3, 1, False),     # cnn-b64's first: the wide grid's blocks in the forward
    (1, 3, 9, 4, 3, True),       # batch 1, RGB, padding wider than half the kernel
    (2, 2, 7, 7, 0, True),       # one output row per image
])
def test_weight_gradient_alone_matches_torch(calls, dtype, n, c, size, kernel, padding,
                                             forward_rows):
    # a first layer: x needs no gradient; the forward's rows (or the weight gradient's own)
    x = rand(n, c, size, size + 1, dtype=dtype)
    w, b = rand(5, c, kernel, kernel, seed=1, dtype=dtype), rand(5, seed=2, dtype=dtype)
    results = []
    for lib in (autograd, torch):
        wt, bt = lib.tensor(w, requires_grad=True), lib.tensor(b, requires_grad=True)
        xt = lib.tensor(x)
        y = fn(lib).conv2d(xt, wt, bt, padding=padding)
        if lib is autograd:
            x_seen = [array_of(xt)]
        g = lib.tensor(rand(*y.shape, seed=3, dtype=dtype))
        (y * g).sum().backward()
        results.append([t.detach().cpu().numpy() for t in (y, wt.grad, bt.grad)])
    tol = dict(rtol=1e-5, atol=1e-4) if dtype == 'float32' else dict(rtol=1e-12, atol=1e-12)
    for a, e in zip(*results):
        assert a.dtype == e.dtype
        np.testing.assert_allclose(a, e, **tol)
    # copied once, by the forward or by the weight gradient; a GPU's wide grid is one block
    # whose columns the forward keeps
    assert len(calls) == (1 if forward_rows or conv._cached(xp_of(x_seen[0])) else 0)


def test_wide_columns_kept_by_the_forward_are_reused(calls):
    # one block of images over the wide grid (3x3, few images): the forward keeps its
    # columns, and the weight gradient multiplies them instead of copying window rows
    check_op(lambda lib, x, w, b: fn(lib).conv2d(x, w, b, padding=1), rand(2, 1, 6, 5),
             rand(2, 1, 3, 3, seed=1), rand(2, seed=2), double=False)
    assert not calls


def test_padding_wider_than_the_kernel():
    # rows and columns of windows that read nothing but padding
    check_op(lambda lib, x, w, b: fn(lib).conv2d(x, w, b, padding=(4, 5)), rand(2, 1, 3, 2),
             rand(2, 1, 3, 2, seed=1), rand(2, seed=2))


def test_some_gradients_and_a_non_contiguous_input():
    # a transposed view of x; the input gradient alone, then the weight gradient alone
    x, w = rand(2, 2, 9, 8), rand(3, 2, 5, 4, seed=1)
    check_op(lambda lib, x, w: fn(lib).conv2d(x.transpose(2, 3), w, padding=(2, 1)), x, w)
    for x_grad in (True, False):
        ours, theirs = [], []
        for lib, out in ((autograd, ours), (torch, theirs)):
            xt, wt = lib.tensor(x, requires_grad=x_grad), lib.tensor(w, requires_grad=not x_grad)
            y = fn(lib).conv2d(xt, wt, padding=(2, 1))
            wanted = xt if x_grad else wt
            grad = torch.autograd.grad if lib is torch else autograd.grad
            out.append(grad((y * lib.tensor(rand(*y.shape, seed=3))).sum(), wanted)[0])
        np.testing.assert_allclose(ours[0].cpu().numpy(), theirs[0].numpy(), rtol=1e-12,
                                   atol=1e-12)


def test_transposed_convolution_weight_gradient_crops():
    # conv_transpose2d with padding beyond dl (k - 1): its weight gradient is a convolution
    # of g cropped (a negative padding) by the rows
    check_op(lambda lib, x, w: fn(lib).conv_transpose2d(x, w, padding=(3, 2)),
             rand(2, 2, 6, 7), rand(2, 3, 3, 3, seed=1))


def test_without_strided_views(monkeypatch, calls):
    # an array library without strided views: each output row's windows are copied
    monkeypatch.setattr(conv, 'as_strided', lambda xp, a, shape, strides: None)
    check_op(lambda lib, x, w, b: fn(lib).conv2d(x, w, b, padding=(1, 2), dilation=(1, 2)),
             rand(2, 2, 6, 9), rand(3, 2, 4, 3, seed=1), rand(3, seed=2))
    assert calls


def test_gradcheck_and_gradgradcheck():
    x = autograd.tensor(rand(2, 1, 6, 5), requires_grad=True)
    w = autograd.tensor(rand(2, 1, 4, 3, seed=1), requires_grad=True)
    b = autograd.tensor(rand(2, seed=2), requires_grad=True)

    def f(x, w, b):
        return F.conv2d(x, w, b, padding=(2, 1))
    assert autograd.gradcheck(f, (x, w, b))
    assert autograd.gradgradcheck(f, (x, w, b))
