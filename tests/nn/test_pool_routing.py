"""Max pooling's gradient routing against PyTorch where its fast paths apply: disjoint
windows write each gradient straight into the winner's slot (its bits times the 0/1 mask,
so an inf or NaN gradient reaches no other slot), and on the host the NaN pass of the
argmax runs only when some window holds a NaN (the last NaN of a window wins, as in
PyTorch's scan; the first maximum of a tie otherwise)."""
import numpy as np
import pytest

import autograd
import nn.functional as F
from oracle import check_op, rand, torch


def fn(lib):
    return torch.nn.functional if lib is torch else F


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('shape,kw', [((2, 3, 6, 6), dict(kernel_size=2)),
                                      ((1, 2, 7, 9), dict(kernel_size=2)),         # floor crop
                                      ((2, 2, 9, 7), dict(kernel_size=3)),
                                      ((1, 3, 8, 6), dict(kernel_size=(2, 3)))])
def test_disjoint_windows_match_torch(shape, kw, dtype):
    check_op(lambda lib, x: fn(lib).max_pool2d(x, return_indices=True, **kw),
             rand(*shape, dtype=dtype), double=dtype == 'float64')


def test_ties_of_zeros_go_to_the_first_position():
    # ReLU's output: whole windows of zeros, and windows with a repeated maximum
    x = np.maximum(rand(2, 3, 6, 8), 0.0)
    x[0, 0, :2, :2] = 0.0
    x[1, 2, 2:4, 4:6] = 1.5
    check_op(lambda lib, x: fn(lib).max_pool2d(x, 2, return_indices=True), x)


@pytest.mark.parametrize('kw', [dict(kernel_size=2), dict(kernel_size=2, stride=1),
                                dict(kernel_size=3, stride=2, padding=1)])
def test_nan_windows_route_to_their_last_nan(kw):
    x = rand(2, 2, 6, 6)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan      # two NaNs in one window: the last wins
    x[1, 1, 3, 3] = np.nan
    x[1, 0, 4:6, 4:6] = np.nan                  # a window of NaNs only
    check_op(lambda lib, x: fn(lib).max_pool2d(x, return_indices=True, **kw), x)


def test_nan_free_windows_of_a_tensor_with_nans_elsewhere():
    # the NaN pass runs for the whole tensor once one window holds a NaN
    x = rand(1, 2, 4, 4)
    x[0, 1, 0, 0] = np.nan
    check_op(lambda lib, x: fn(lib).max_pool2d(x, 2, return_indices=True), x)


@pytest.mark.parametrize('bad', [np.inf, -np.inf, np.nan])
def test_non_finite_gradient_reaches_only_the_winner(bad):
    x = rand(1, 2, 4, 6)
    g = rand(1, 2, 2, 3, seed=1)
    g[0, 1, 1, 2] = bad
    grads = []
    for lib in (autograd, torch):
        xt = lib.tensor(x, requires_grad=True)
        y = fn(lib).max_pool2d(xt, 2)
        grads.append(lib.autograd.grad(y, xt, lib.tensor(g))[0].detach().cpu().numpy()
                     if lib is torch else autograd.grad(y, xt, lib.tensor(g))[0].cpu().numpy())
    ours, theirs = grads
    np.testing.assert_array_equal(ours, theirs)
    assert np.count_nonzero(~np.isfinite(ours)) == 1


def test_non_contiguous_input_matches_torch():
    check_op(lambda lib, x: fn(lib).max_pool2d(x.transpose(2, 3), 2, return_indices=True),
             rand(2, 3, 6, 8))


def test_max_pool1d_and_3d_disjoint_match_torch():
    check_op(lambda lib, x: fn(lib).max_pool1d(x, 3, return_indices=True), rand(2, 3, 10))
    check_op(lambda lib, x: fn(lib).max_pool3d(x, 2, return_indices=True), rand(1, 2, 4, 5, 4))
