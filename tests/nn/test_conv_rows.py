"""Row products: a 2-d channels-last convolution (one group, no dilation down the rows, at
least ``ROW_PRODUCT_ROWS`` output positions per output row across the batch) multiplies the
windows of each output row in turn, read in place from a kw times smaller copy of x
(``nn.functional.conv._rows_last``, ``_row_windows``), forward and weight gradient.
Against PyTorch: odd sizes, strides, padding (cropping too, from a transposed convolution's
backward), dilation along the rows, batch 1, float32 and float64, several blocks of images
with a short last one, a non-contiguous input, gradients for some inputs only, an array
library without strided views, to second order."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn.functional as F
from nn.functional import conv
from oracle import check_op, rand, torch


def fn(lib):
    return torch.nn.functional if lib is torch else F


def _spy(monkeypatch):
    """Counts the row products' column copies (so a test knows it took the path)."""
    seen = []
    rows_last = conv._rows_last

    def spy(*args, **kwargs):
        seen.append(args[1].shape)
        return rows_last(*args, **kwargs)
    monkeypatch.setattr(conv, '_rows_last', spy)
    return seen


@pytest.fixture
def calls(monkeypatch):
    return _spy(monkeypatch)


def test_row_product_rule():
    assert conv._row_products(64, 1, (5, 5), (1, 1), (10, 10))
    assert conv._row_products(8, 1, (3, 3), (1, 2), (8, 8))          # dilated along a row
    assert not conv._row_products(5, 1, (5, 5), (1, 1), (7, 7))       # 35 positions a row
    assert not conv._row_products(64, 2, (5, 5), (1, 1), (10, 10))     # groups
    assert not conv._row_products(64, 1, (5, 5), (2, 1), (10, 10))     # dilated down
    assert not conv._row_products(64, 1, (5,), (1,), (10,))            # 1-d
    assert not conv._row_products(64, 1, (3, 3, 3), (1, 1, 1), (8, 8, 8))


def test_row_windows_are_the_windows():
    x = rand(2, 3, 7, 9)
    rows, (ho, wo) = conv._rows_last(np, x, (3, 2), (2, 3), ((1, 0), (2, 1)), (1, 2))
    a = conv._row_windows(np, rows, ho, 2)                 # (Ho, N Wo, 3 * 2 * 3)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 0), (2, 1)))
    for p in range(ho):
        for n in range(2):
            for q in range(wo):
                window = xp[n, :, 2 * p:2 * p + 3, 3 * q:3 * q + 3:2]     # (C, kh, kw)
                np.testing.assert_array_equal(a[p, n * wo + q],
                                              window.transpose(1, 2, 0).reshape(-1))


@settings(max_examples=12, deadline=None, derandomize=True)
@given(n=st.integers(1, 3), c=st.integers(1, 4), o=st.integers(1, 5), h=st.integers(3, 9),
       w=st.integers(3, 9), k=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       stride=st.tuples(st.integers(1, 2), st.integers(1, 2)), pad=st.integers(0, 2),
       dw=st.integers(1, 2), bias=st.booleans())
def test_conv2d_row_products_match_torch(n, c, o, h, w, k, stride, pad, dw, bias):
    x, wt = rand(n, c, h, w), rand(o, c, *k, seed=1)
    args = (x, wt, rand(o, seed=2)) if bias else (x, wt)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(conv, 'ROW_PRODUCT_ROWS', 1)
        mp.setattr(conv, 'CHANNELS_LAST_RUN', 1)
        calls = _spy(mp)
        check_op(lambda lib, x, wt, b=None: fn(lib).conv2d(
            x, wt, b, stride=stride, padding=pad, dilation=(1, dw)), *args)
    assert calls


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('images_per_block', [1, 3, 100])
def test_lenet_like_in_blocks_matches_torch(images_per_block, dtype, calls, monkeypatch):
    # 7 images of odd sizes (a short last block), LeNet's conv2 channels: 7 * 7 >= 32 rows
    monkeypatch.setattr(conv, 'ROW_PRODUCT_ROWS', 32)
    x, w, b = rand(7, 6, 11, 9, dtype=dtype), rand(16, 6, 5, 5, seed=1, dtype=dtype), \
        rand(16, seed=2, dtype=dtype)
    per_image = 7 * 11 * 5 * 6 * x.itemsize                 # Wo x R rows of kw * C
    monkeypatch.setattr(conv, 'CHUNK_BYTES', per_image * images_per_block)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == 'float32' else {}
    check_op(lambda lib, x, w, b: fn(lib).conv2d(x, w, b, padding=(0, 1)), x, w, b,
             double=dtype == 'float64', **tol)
    assert calls


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_batch_one_wide_rows(dtype, calls):
    # one image whose rows alone reach ROW_PRODUCT_ROWS (the default rule)
    x, w = rand(1, 8, 5, 70, dtype=dtype), rand(4, 8, 3, 3, seed=1, dtype=dtype)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == 'float32' else {}
    check_op(lambda lib, x, w: fn(lib).conv2d(x, w, padding=1), x, w,
             double=dtype == 'float64', **tol)
    assert calls


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('needs', ['x', 'w', 'b', 'xw'])
def test_non_contiguous_input_some_grads(needs, dtype, calls, monkeypatch):
    monkeypatch.setattr(conv, 'ROW_PRODUCT_ROWS', 1)
    x = rand(3, 6, 12, 10, dtype=dtype).transpose(0, 1, 3, 2)      # (3, 6, 10, 12)
    w, b = rand(8, 6, 5, 5, seed=1, dtype=dtype), rand(8, seed=2, dtype=dtype)
    ours = [autograd.tensor(a, requires_grad=name in needs) for a, name in
            ((x, 'x'), (w, 'w'), (b, 'b'))]
    theirs = [torch.tensor(a, requires_grad=name in needs) for a, name in
              ((x, 'x'), (w, 'w'), (b, 'b'))]
    y = F.conv2d(*ours, padding=(2, 1))
    yt = torch.nn.functional.conv2d(*theirs, padding=(2, 1))
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == 'float32' else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.detach().cpu().numpy(), yt.detach().numpy(), **tol)
    g = rand(*yt.shape, seed=3, dtype=dtype)
    y.backward(autograd.tensor(g))
    yt.backward(torch.tensor(g))
    for a, t in zip(ours, theirs):
        assert (a.grad is None) == (t.grad is None)
        if t.grad is not None:
            np.testing.assert_allclose(a.grad.cpu().numpy(), t.grad.numpy(), **tol)
    assert calls


def test_transposed_convolution_backward_crops(calls, monkeypatch):
    # conv_transpose2d's input gradient is a convolution of g over a cropped frame
    monkeypatch.setattr(conv, 'ROW_PRODUCT_ROWS', 1)
    monkeypatch.setattr(conv, 'CHANNELS_LAST_RUN', 1)
    check_op(lambda lib, x, w: fn(lib).conv_transpose2d(x, w, stride=2, padding=(2, 1),
                                                        output_padding=1),
             rand(2, 3, 5, 4), rand(3, 4, 3, 3, seed=1))
    assert calls


def test_without_strided_views(calls, monkeypatch):
    # an array library with no as_strided: the rows and the windows are copies
    monkeypatch.setattr(conv, 'ROW_PRODUCT_ROWS', 1)
    monkeypatch.setattr(conv, 'CHANNELS_LAST_RUN', 1)
    monkeypatch.setattr(conv, 'as_strided', lambda xp, a, shape, strides: None)
    check_op(lambda lib, x, w, b: fn(lib).conv2d(x, w, b, stride=(1, 2), padding=1,
                                                 dilation=(1, 2)),
             rand(2, 8, 7, 9), rand(5, 8, 3, 3, seed=1), rand(5, seed=2))
    assert calls
