"""Channels-last columns are copied and multiplied block by block of images
(``nn.functional.conv._blocks_last``, ``CHUNK_BYTES`` of columns a block).  With the block
size forced down so that a batch takes several blocks, the last one short, the forward and
its derivatives match PyTorch's."""
import numpy as np
import pytest

import autograd
import nn.functional as F
from nn.functional import conv
from oracle import check_op, rand, torch


def fn(lib):
    return torch.nn.functional if lib is torch else F


def test_block_rule():
    assert conv._blocks_last(np, 64, 60_000) == [(s, s + 4) for s in range(0, 64, 4)]
    assert conv._blocks_last(np, 5, 10**7) == [(s, s + 1) for s in range(5)]   # one image each
    assert conv._blocks_last(np, 3, 10) == [(0, 3)]
    assert conv._blocks_last(np, 0, 10) == []


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('images_per_block', [1, 2])
def test_conv2d_in_blocks_matches_torch(images_per_block, dtype, monkeypatch):
    # 5 images (a short last block), odd sizes, padding, LeNet's conv2 channels
    x, w, b = rand(5, 6, 9, 11, dtype=dtype), rand(16, 6, 5, 5, seed=1, dtype=dtype), \
        rand(16, seed=2, dtype=dtype)
    per_image = 7 * 7 * 150 * x.itemsize        # (9 + 2 - 4) x (11 - 4) rows of 6 x 5 x 5
    monkeypatch.setattr(conv, 'CHUNK_BYTES', per_image * images_per_block)
    assert len(conv._blocks_last(np, 5, per_image)) == -(-5 // images_per_block)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == 'float32' else {}
    check_op(lambda lib, x, w, b: fn(lib).conv2d(x, w, b, padding=(1, 0)), x, w, b,
             double=dtype == 'float64', **tol)


def test_strided_grouped_conv_in_blocks_matches_torch(monkeypatch):
    monkeypatch.setattr(conv, 'CHUNK_BYTES', 1)     # one image a block
    monkeypatch.setattr(conv, 'CHANNELS_LAST_RUN', 1)
    check_op(lambda lib, x, w: fn(lib).conv2d(x, w, stride=2, dilation=(2, 1), groups=2),
             rand(3, 4, 9, 8), rand(6, 2, 2, 3, seed=1))
    check_op(lambda lib, x, w, b: fn(lib).conv1d(x, w, b, padding=2), rand(3, 4, 9),
             rand(5, 4, 3, seed=1), rand(5, seed=2))


def test_non_contiguous_input_in_blocks_some_grads(monkeypatch):
    monkeypatch.setattr(conv, 'CHUNK_BYTES', 1)
    x = rand(3, 6, 12, 10).transpose(0, 1, 3, 2)          # (3, 6, 10, 12), not contiguous
    w = rand(8, 6, 5, 5, seed=1)
    ours_w = autograd.tensor(w, requires_grad=True)
    y = F.conv2d(autograd.tensor(x), ours_w)              # only w requires grad
    theirs_w = torch.tensor(w, requires_grad=True)
    yt = torch.nn.functional.conv2d(torch.tensor(x), theirs_w)
    np.testing.assert_allclose(y.detach().cpu().numpy(), yt.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    g = rand(*yt.shape, seed=3)
    y.backward(autograd.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(ours_w.grad.cpu().numpy(), theirs_w.grad.numpy(), rtol=1e-12,
                               atol=1e-12)
