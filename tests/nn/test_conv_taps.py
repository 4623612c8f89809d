"""Stride-1 transposed convolutions (conv's input gradient, ``conv_transpose*d`` with stride
1) put only the last dim's taps in their columns and add one shifted block per leading tap
(``nn.functional.conv.ConvTranspose._forward_wide``).  Against PyTorch over kernels,
dilations, paddings, groups and output paddings, in 1-d, 2-d and 3-d, to second order,
in float64 and float32, and with gradients wanted for some inputs only."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn.functional as F
from nn.functional import conv
from oracle import check_op, rand, torch


def fn(lib):
    return torch.nn.functional if lib is torch else F


@settings(max_examples=12, deadline=None, derandomize=True)
@given(n=st.integers(1, 3), groups=st.sampled_from([1, 2]),
       kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       pad=st.tuples(st.integers(0, 2), st.integers(0, 2)), bias=st.booleans())
def test_conv2d_input_gradient_matches_torch(n, groups, kernel, dilation, pad, bias):
    # the input and weight gradients share g's wide layout; double backward runs the
    # transposed convolution's own backward
    h, w = 4 + dilation[0] * (kernel[0] - 1), 3 + dilation[1] * (kernel[1] - 1)
    x, wt = rand(n, 2 * groups, h, w), rand(3 * groups, 2, *kernel, seed=1)
    args = (x, wt, rand(3 * groups, seed=2)) if bias else (x, wt)
    check_op(lambda lib, *a: fn(lib).conv2d(*a, padding=pad, dilation=dilation, groups=groups),
             *args)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       pad=st.tuples(st.integers(0, 2), st.integers(0, 2)),
       out_pad=st.tuples(st.integers(0, 2), st.integers(0, 2)), groups=st.sampled_from([1, 2]))
def test_conv_transpose2d_stride_one_matches_torch(kernel, dilation, pad, out_pad, groups):
    # output padding (below the dilation) and padding move the output inside a frame larger
    # than the full one
    out_pad = tuple(min(o, dl - 1) for o, dl in zip(out_pad, dilation))
    pad = tuple(min(p, dl * (k - 1)) for p, dl, k in zip(pad, dilation, kernel))
    check_op(lambda lib, x, w, b: fn(lib).conv_transpose2d(
        x, w, b, padding=pad, output_padding=out_pad, dilation=dilation, groups=groups),
        rand(2, 2 * groups, 3, 4), rand(2 * groups, 3, *kernel, seed=1), rand(3 * groups, seed=2))


@pytest.mark.parametrize('kw', [dict(padding=2), dict(dilation=2, padding=1),
                                dict(padding=1, output_padding=1, dilation=2), dict(groups=2)])
def test_conv_transpose1d_stride_one_matches_torch(kw):
    check_op(lambda lib, x, w: fn(lib).conv_transpose1d(x, w, **kw), rand(2, 4, 6),
             rand(4, 3, 3, seed=1))


def test_conv1d_input_gradient_matches_torch():
    check_op(lambda lib, x, w, b: fn(lib).conv1d(x, w, b, padding=2, dilation=2), rand(3, 2, 9),
             rand(4, 2, 4, seed=1), rand(4, seed=2))


@pytest.mark.parametrize('kw', [dict(padding=1), dict(padding=(0, 2, 1), dilation=(1, 2, 2)),
                                dict(padding='same', groups=2)])
def test_conv3d_input_gradient_matches_torch(kw):
    # blocks shifted along the middle dim run into the spare plane of the frame
    check_op(lambda lib, x, w: fn(lib).conv3d(x, w, **kw), rand(2, 2, 4, 5, 4),
             rand(4, 2 // kw.get('groups', 1), 2, 3, 3, seed=1))


def test_conv_transpose3d_stride_one_matches_torch():
    check_op(lambda lib, x, w, b: fn(lib).conv_transpose3d(x, w, b, padding=(1, 0, 1),
                                                           dilation=(1, 2, 1)),
             rand(2, 2, 3, 3, 4), rand(2, 3, 3, 2, 3, seed=1), rand(3, seed=2))


@pytest.mark.parametrize('shape', [(1, 6, 14, 14), (5, 3, 7, 11)])
def test_conv2d_float32_gradients_match_torch(shape):
    # LeNet's second convolution, and odd sizes with batch 1 and 5
    x, w = rand(*shape, dtype='float32'), rand(4, shape[1], 5, 5, seed=1, dtype='float32')
    check_op(lambda lib, x, w, b: fn(lib).conv2d(x, w, b), x, w, rand(4, seed=2, dtype='float32'),
             double=False)


def _grads(lib, x, w, b, x_grad, w_grad, **kw):
    xt = lib.tensor(x, requires_grad=x_grad)
    wt = lib.tensor(w, requires_grad=w_grad)
    bt = lib.tensor(b, requires_grad=True)
    y = fn(lib).conv2d(xt, wt, bt, **kw)
    gy = lib.tensor(rand(*y.shape, seed=3))
    wanted = [t for t in (xt, wt, bt) if t.requires_grad]
    grad = torch.autograd.grad if lib is torch else autograd.grad
    return [t.detach().cpu().numpy() for t in grad((y * gy).sum(), wanted)]


@pytest.mark.parametrize('x_grad,w_grad', [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize('x_shape, w_shape, padding', [
    ((2, 3, 8, 7), (4, 3, 3, 4), (1, 2)),   # the taps' wide layout (C/G kw < 16)
    ((2, 8, 7, 6), (5, 8, 3, 3), 1),        # channels-last columns (C/G kw >= 16)
])
def test_gradients_for_some_inputs_only(x_grad, w_grad, x_shape, w_shape, padding):
    # the input gradient alone builds g's layout itself; the weight gradient alone does
    # not build the input's
    x, w, b = rand(*x_shape), rand(*w_shape, seed=1), rand(w_shape[0], seed=2)
    ours = _grads(autograd, x, w, b, x_grad, w_grad, padding=padding)
    theirs = _grads(torch, x, w, b, x_grad, w_grad, padding=padding)
    assert len(ours) == len(theirs) == x_grad + w_grad + 1
    for a, e in zip(ours, theirs):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-10)


def test_non_contiguous_input_matches_torch():
    # a transposed view: the wide layout copies from any strides
    check_op(lambda lib, x, w: fn(lib).conv2d(x.transpose(2, 3), w, padding=1),
             rand(2, 3, 6, 5), rand(2, 3, 3, 3, seed=1))


def test_taps_without_strided_views(monkeypatch):
    # an array library without strided views: the taps are copied one shift at a time
    monkeypatch.setattr(conv, 'as_strided', lambda xp, a, shape, strides: None)
    check_op(lambda lib, x, w, b: fn(lib).conv2d(x, w, b, padding=(2, 1), dilation=(1, 2),
                                                 groups=2),
             rand(2, 4, 6, 7), rand(4, 2, 3, 3, seed=1), rand(4, seed=2))
    check_op(lambda lib, x, w: fn(lib).conv_transpose1d(x, w, padding=1), rand(2, 2, 5),
             rand(2, 3, 4, seed=1))


@pytest.mark.parametrize('d,channels,kernel', [(2, 1, 3), (2, 8, 3), (2, 6, 5), (1, 2, 3),
                                               (3, 1, 2)])
def test_empty_batch_matches_torch(d, channels, kernel):
    # the one-channel blocks, the channels-last columns and the taps of the input gradient
    # with no image at all (the tree before them raised on a reshape of an empty frame)
    results = []
    for lib in (autograd, torch):
        conv_fn = getattr(fn(lib), f'conv{d}d')
        x = lib.zeros((0, channels) + (6,) * d, dtype=lib.float64, requires_grad=True)
        w = lib.ones((4, channels) + (kernel,) * d, dtype=lib.float64, requires_grad=True)
        b = lib.ones(4, dtype=lib.float64, requires_grad=True)
        y = conv_fn(x, w, b, padding=1)
        (y * 2).sum().backward()
        results.append([tuple(y.shape)] + [t.grad.detach().cpu().numpy() for t in (x, w, b)])
    ours, theirs = results
    assert ours[0] == theirs[0]
    for a, e in zip(ours[1:], theirs[1:]):
        assert a.shape == e.shape
        np.testing.assert_array_equal(a, e)
