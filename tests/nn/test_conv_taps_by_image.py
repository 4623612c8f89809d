"""The stride-1 transposed convolution image by image (``ConvTranspose._forward_wide`` with
no shared layout: g laid out (N, C, lead + L) by ``_to_wide(by_image=True)``, one product per
image, batched): conv's input gradient where the weight gradient takes channels-last
columns (C/G kw >= 16) or is not wanted, and ``conv_transpose*d`` with stride 1.  Against
PyTorch to second order, in float64 and float32, over sizes, kernels, dilations, paddings
and groups, batch 1, 1-d and 3-d (the spare plane of each image's frame), a non-contiguous
input, and gradients for some inputs only; plus gradcheck/gradgradcheck."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn.functional as F
from autograd.extend import xp_of
from nn.functional import conv
from oracle import check_op, rand, torch


def fn(lib):
    return torch.nn.functional if lib is torch else F


@pytest.fixture
def by_image(monkeypatch):
    """Counts the layouts the transposed convolution makes image by image."""
    calls = []
    to_wide = conv._to_wide

    def spy(xp, a, wide, lead=0, by_image=False):
        calls.append(by_image)
        return to_wide(xp, a, wide, lead, by_image)
    monkeypatch.setattr(conv, '_to_wide', spy)
    return calls


@settings(max_examples=10, deadline=None, derandomize=True)
@given(n=st.integers(1, 3), groups=st.sampled_from([1, 2]),
       kernel=st.tuples(st.integers(1, 5), st.integers(2, 5)),
       dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       pad=st.tuples(st.integers(0, 2), st.integers(0, 3)), bias=st.booleans())
def test_conv2d_channels_last_input_gradient_matches_torch(n, groups, kernel, dilation, pad,
                                                           bias):
    # C/G kw >= 16: the weight gradient reads channels-last columns, the input gradient lays
    # g out image by image (odd frame sizes, rows narrower and wider than the kernel)
    cg = -(-16 // kernel[1])
    h, w = 3 + dilation[0] * (kernel[0] - 1), 2 + dilation[1] * (kernel[1] - 1) + n
    x, wt = rand(n, cg * groups, h, w), rand(2 * groups, cg, *kernel, seed=1)
    args = (x, wt, rand(2 * groups, seed=2)) if bias else (x, wt)
    check_op(lambda lib, *a: fn(lib).conv2d(*a, padding=pad, dilation=dilation, groups=groups),
             *args)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('shape,kernel,padding', [
    ((1, 6, 14, 14), 5, 0),      # LeNet's second convolution, batch 1
    ((5, 8, 9, 7), 3, 1),        # cnn-b64's second, odd sizes
    ((2, 6, 5, 11), (3, 5), (2, 1)),
])
def test_conv2d_gradients_match_torch(by_image, dtype, shape, kernel, padding):
    x = rand(*shape, dtype=dtype)
    kernel = (kernel, kernel) if isinstance(kernel, int) else kernel
    w, b = rand(4, shape[1], *kernel, seed=1, dtype=dtype), rand(4, seed=2, dtype=dtype)
    # float32: the weight gradient sums N H W products of size up to about 4, so an entry
    # that cancels to near 0 carries an absolute error of order 1e-5 whichever kernel sums
    # it (PyTorch's or OpenBLAS's, whose order differs by CPU)
    tol = {} if dtype == 'float64' else dict(atol=1e-4)
    check_op(lambda lib, x, w, b: fn(lib).conv2d(x, w, b, padding=padding), x, w, b,
             double=dtype == 'float64', **tol)
    assert True in by_image and all(by_image)       # no channel-major layout was made


def test_input_gradient_alone_is_by_image(by_image):
    # the taps' wide layout (C/G kw < 16) is shared only when the weight gradient reads it
    xa, wa = rand(2, 3, 6, 5), rand(4, 3, 3, 3, seed=1)
    x = autograd.tensor(xa, requires_grad=True)
    y = F.conv2d(x, autograd.tensor(wa), padding=1)
    g = rand(*y.shape, seed=3)
    y.backward(autograd.tensor(g))
    xt = torch.tensor(xa, requires_grad=True)
    torch.nn.functional.conv2d(xt, torch.tensor(wa), padding=1).backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.cpu().numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert by_image == [True]


def test_shared_layout_when_both_gradients_are_channel_major(by_image):
    # C/G kw < 16 with both gradients wanted and the weight gradient over the wide grid
    # (two groups): one channel-major layout serves both products
    check_op(lambda lib, x, w: fn(lib).conv2d(x, w, padding=1, groups=2), rand(2, 4, 6, 5),
             rand(4, 2, 3, 3, seed=1), double=False)
    assert by_image == [False]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_conv_transpose2d_matches_torch(by_image, dtype):
    # conv_transpose2d itself, groups, dilation, output padding, an odd batch
    check_op(lambda lib, x, w, b: fn(lib).conv_transpose2d(
        x, w, b, padding=(1, 2), output_padding=(1, 0), dilation=(2, 3), groups=2),
        rand(3, 4, 5, 6, dtype=dtype), rand(4, 3, 3, 4, seed=1, dtype=dtype),
        rand(6, seed=2, dtype=dtype), double=dtype == 'float64')
    assert by_image[0]          # the forward's layout (the backward's weight gradient of
    # channel-major columns makes its own)


def test_conv3d_channels_last_input_gradient_matches_torch(by_image):
    # blocks shifted along the middle dim run into each image's own spare plane
    check_op(lambda lib, x, w, b: fn(lib).conv3d(x, w, b, padding=(1, 0, 2), dilation=(1, 2, 1)),
             rand(2, 8, 3, 6, 4), rand(3, 8, 2, 2, 3, seed=1), rand(3, seed=2))
    assert True in by_image


def test_conv1d_channels_last_input_gradient_matches_torch(by_image):
    check_op(lambda lib, x, w: fn(lib).conv1d(x, w, padding=2, groups=2), rand(3, 12, 9),
             rand(4, 6, 3, seed=1))
    assert True in by_image


def test_non_contiguous_input_and_kernel_width_one():
    # a transposed view of x, and kw = 1 (no taps copied: the layout is the columns)
    check_op(lambda lib, x, w: fn(lib).conv2d(x.transpose(2, 3), w, padding=(1, 0)),
             rand(2, 16, 7, 5), rand(3, 16, 3, 1, seed=1))


def test_without_strided_views(monkeypatch, by_image):
    # an array library without strided views: the taps are copied one shift at a time
    monkeypatch.setattr(conv, 'as_strided', lambda xp, a, shape, strides: None)
    check_op(lambda lib, x, w, b: fn(lib).conv2d(x, w, b, padding=(2, 1), dilation=(1, 2),
                                                 groups=2),
             rand(2, 16, 6, 7), rand(4, 8, 3, 3, seed=1), rand(4, seed=2))
    assert True in by_image


def test_gradcheck_and_gradgradcheck():
    x = autograd.tensor(rand(2, 6, 5, 4), requires_grad=True)
    w = autograd.tensor(rand(3, 6, 2, 3, seed=1), requires_grad=True)
    b = autograd.tensor(rand(3, seed=2), requires_grad=True)

    def f(x, w, b):
        return F.conv2d(x, w, b, padding=(1, 2))
    assert autograd.gradcheck(f, (x, w, b))
    assert autograd.gradgradcheck(f, (x, w, b))


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('strided_views', [True, False])
def test_blocks_of_images_with_a_short_last_one(monkeypatch, by_image, dtype, strided_views):
    # the taps copied and multiplied a block of images at a time (on the host): blocks of two
    # images over five, the last one short
    n, c, size, kernel = 5, 4, (6, 7), (3, 4)
    length = size[0] * (size[1] + kernel[1] - 1)
    itemsize = np.dtype(dtype).itemsize
    monkeypatch.setattr(conv, 'CHUNK_BYTES', 2 * c * kernel[1] * length * itemsize)
    if not strided_views:
        monkeypatch.setattr(conv, 'as_strided', lambda xp, a, shape, strides: None)
    blocks = []
    matmul = np.matmul

    def spy(a, b, *args, **kwargs):
        if b.ndim == 4:
            blocks.append(b.shape[0])
        return matmul(a, b, *args, **kwargs)
    monkeypatch.setattr(np, 'matmul', spy)
    check_op(lambda lib, x, w: fn(lib).conv_transpose2d(x, w), rand(n, c, *size, dtype=dtype),
             rand(c, 3, *kernel, seed=1, dtype=dtype), double=False,
             **({} if dtype == 'float64' else dict(atol=1e-4)))    # (as above)
    assert by_image[0]
    if conv._cached(xp_of(autograd.zeros(1))):         # on a GPU: the whole batch at once
        assert blocks[:3] == [2, 2, 1]
