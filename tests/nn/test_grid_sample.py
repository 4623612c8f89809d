"""``grid_sample`` and ``affine_grid`` against PyTorch: float64 values, gradients with
respect to input and grid, and second derivatives (PyTorch has them for every mode), over
modes, padding modes, align_corners, 4-D and 5-D, plus finite differences and PyTorch's
errors and warnings."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn.functional as F
from oracle import check_op, check_raises, rand, to_numpy, torch

SMALL = settings(max_examples=10, deadline=None, derandomize=True)
MODES_2D = ['bilinear', 'nearest', 'bicubic']
PADDINGS = ['zeros', 'border', 'reflection']


def fn(lib):
    return torch.nn.functional if lib is torch else F


def sample(mode, padding_mode, align_corners):
    return lambda lib, x, g: fn(lib).grid_sample(x, g, mode=mode, padding_mode=padding_mode,
                                                 align_corners=align_corners)


@pytest.mark.parametrize('align_corners', [False, True])
@pytest.mark.parametrize('padding_mode', PADDINGS)
@pytest.mark.parametrize('mode', MODES_2D)
def test_grid_sample_2d_matches_torch_to_second_order(mode, padding_mode, align_corners):
    # points inside, near and beyond the border (reflection folds more than once)
    check_op(sample(mode, padding_mode, align_corners), rand(2, 3, 4, 5),
             rand(2, 3, 4, 2, low=-2.6, high=2.6, seed=1))


@pytest.mark.parametrize('align_corners', [False, True])
@pytest.mark.parametrize('padding_mode', PADDINGS)
@pytest.mark.parametrize('mode', ['bilinear', 'nearest'])
def test_grid_sample_3d_matches_torch_to_second_order(mode, padding_mode, align_corners):
    check_op(sample(mode, padding_mode, align_corners), rand(2, 2, 3, 4, 3),
             rand(2, 2, 3, 2, 3, low=-2.2, high=2.2, seed=1))


@SMALL
@given(st.data())
def test_grid_sample_random_shapes_and_options(data):
    d = data.draw(st.sampled_from([2, 3]))
    mode = data.draw(st.sampled_from(MODES_2D if d == 2 else MODES_2D[:2]))
    padding_mode = data.draw(st.sampled_from(PADDINGS))
    align = data.draw(st.booleans())
    n, c = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3))
    size = tuple(data.draw(st.integers(1, 4)) for _ in range(d))
    out = tuple(data.draw(st.integers(1, 3)) for _ in range(d))
    seed = data.draw(st.integers(0, 100))
    check_op(sample(mode, padding_mode, align), rand(n, c, *size, seed=seed),
             rand(n, *out, d, low=-1.8, high=1.8, seed=seed + 1))


def test_grid_sample_float32_forward_and_gradient():
    check_op(sample('bilinear', 'zeros', False), rand(2, 3, 5, 4, dtype='float32'),
             rand(2, 3, 3, 2, low=-1.2, high=1.2, seed=1, dtype='float32'), double=False)
    check_op(sample('bicubic', 'border', True), rand(1, 2, 5, 4, dtype='float32'),
             rand(1, 3, 3, 2, seed=1, dtype='float32'), double=False, rtol=1e-4, atol=1e-5)


def test_grid_sample_points_on_pixel_centres_and_borders():
    """Exact pixel positions and the clip limits themselves: PyTorch counts the borders as
    outside the clip, so the grid's gradient there is zero."""
    g = np.array([[[[-1.0, -1.0], [1.0, 1.0], [0.0, 0.5], [-1.0, 1.0]]]])
    for padding_mode in PADDINGS:
        for mode in MODES_2D:
            check_op(sample(mode, padding_mode, True), rand(1, 2, 3, 5), g)


def test_grid_sample_passes_finite_differences():
    x = autograd.tensor(rand(1, 2, 3, 4), requires_grad=True)
    g = autograd.tensor(rand(1, 2, 3, 2, low=-1.1, high=1.1, seed=3), requires_grad=True)
    for mode in MODES_2D:
        def f(x, g):
            return F.grid_sample(x, g, mode=mode, padding_mode='reflection', align_corners=False)
        assert autograd.gradcheck(f, (x, g))
        if mode != 'nearest':
            assert autograd.gradgradcheck(f, (x, g))
    x3 = autograd.tensor(rand(1, 1, 2, 3, 3), requires_grad=True)
    g3 = autograd.tensor(rand(1, 2, 1, 2, 3, low=-1.1, high=1.1, seed=4), requires_grad=True)
    assert autograd.gradgradcheck(
        lambda x, g: F.grid_sample(x, g, padding_mode='border', align_corners=True), (x3, g3))


def test_grid_sample_nearest_gives_the_grid_a_zero_gradient():
    for lib in (torch, autograd):
        x = lib.tensor(rand(1, 1, 3, 3))
        g = lib.tensor(rand(1, 2, 2, 2, low=-0.9, high=0.9), requires_grad=True)
        y = fn(lib).grid_sample(x, g, mode='nearest', align_corners=False)
        assert y.requires_grad
        y.sum().backward()
        assert to_numpy(g.grad).tolist() == np.zeros((1, 2, 2, 2)).tolist()


@pytest.mark.filterwarnings('ignore:invalid value encountered')     # inf - inf in a weight
def test_grid_sample_of_infinite_and_far_points():
    """Points at +-inf or far outside read the padding (0, the border, or a reflection),
    in every mode, with the grid requiring grad."""
    g = np.array([[[[np.inf, 0.2], [-np.inf, -0.3], [0.1, 40.0], [-25.5, 3.25]]]])
    for padding_mode in ('zeros', 'border'):
        for mode in ('bilinear', 'nearest'):
            check_op(sample(mode, padding_mode, False), rand(1, 2, 3, 4), g[:, :, 2:],
                     double=False)
            check_op(lambda lib, x, g: fn(lib).grid_sample(x, g.detach().requires_grad_(),
                                                           mode=mode, padding_mode=padding_mode,
                                                           align_corners=False),
                     rand(1, 2, 3, 4), g, grad=False)


def test_grid_sample_of_an_empty_batch_and_empty_grid():
    check_op(sample('bilinear', 'zeros', False), rand(0, 2, 3, 3), rand(0, 2, 2, 2), grad=False)
    check_op(sample('bicubic', 'zeros', False), rand(2, 2, 3, 3), rand(2, 0, 2, 2), grad=False)


def test_grid_sample_warns_without_align_corners_as_torch():
    x, g = rand(1, 1, 2, 2), rand(1, 1, 1, 2)
    for lib in (torch, autograd):
        with pytest.warns(UserWarning, match='align_corners=False since 1.3.0'):
            fn(lib).grid_sample(lib.tensor(x), lib.tensor(g))
        with pytest.warns(UserWarning, match='align_corners=False since 1.3.0'):
            fn(lib).affine_grid(lib.tensor(rand(1, 2, 3)), (1, 1, 2, 2))


def test_grid_sample_errors_match_torch():
    x4, g4 = rand(2, 3, 4, 5), rand(2, 3, 3, 2)
    bad = [
        (dict(mode='area'), x4, g4, 'expected mode'),
        (dict(padding_mode='circular'), x4, g4, 'expected padding_mode'),
        (dict(), x4, g4[:1], 'same batch size'),
        (dict(), x4, rand(2, 3, 3, 3), 'size 2 in last dimension'),
        (dict(), x4[0], g4[0], 'size 1 in last dimension'),
        (dict(), rand(2, 3, 4, 5, 6), rand(2, 3, 3, 3, 2), 'size 3 in last dimension'),
        (dict(mode='bicubic'), rand(2, 3, 4, 5, 6), rand(2, 3, 3, 3, 3), 'bicubic'),
        (dict(), rand(2, 3, 0, 5), g4, 'non-empty spatial'),
        (dict(), x4, g4.astype('float32'), 'expected scalar type Double but found Float'),
        (dict(), np.arange(40).reshape(1, 2, 4, 5), rand(1, 3, 3, 2), 'not implemented'),
    ]
    for kw, x, g, match in bad:
        check_raises(lambda lib, x, g: fn(lib).grid_sample(x, g, align_corners=False, **kw),
                     x, g, match=match)


# ----------------------------------------------------------------------------- affine_grid

@pytest.mark.parametrize('size', [(2, 3, 4, 5), (2, 1, 1, 3), (2, 3, 2, 3, 4), (2, 1, 3, 1, 2)])
@pytest.mark.parametrize('align_corners', [False, True])
def test_affine_grid_matches_torch(size, align_corners):
    theta = rand(2, len(size) - 2, len(size) - 1)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')     # both warn about unit sizes with align_corners
        check_op(lambda lib, t: fn(lib).affine_grid(t, size, align_corners=align_corners),
                 theta)
        check_op(lambda lib, t: fn(lib).affine_grid(t, size, align_corners=align_corners),
                 theta.astype('float32'))


@pytest.mark.parametrize('d', [2, 3])
def test_spatial_transformer_matches_torch(d):
    """affine_grid then grid_sample: the gradient reaches theta through the grid."""
    size = (2, 2) + (3, 4, 3)[:d]

    def run(lib, x, theta):
        grid = fn(lib).affine_grid(theta, size, align_corners=False)
        return fn(lib).grid_sample(x, grid, padding_mode='border', align_corners=False)
    theta = np.eye(d, d + 1)[None].repeat(2, 0) + rand(2, d, d + 1, low=-0.3, high=0.3)
    check_op(run, rand(*size), theta)


def test_identity_transform_reproduces_the_input():
    x = autograd.tensor(rand(2, 3, 4, 5))
    theta = autograd.tensor(np.eye(2, 3)[None].repeat(2, 0))
    for align in (False, True):
        grid = F.affine_grid(theta, x.shape, align_corners=align)
        y = F.grid_sample(x, grid, align_corners=align)
        np.testing.assert_allclose(to_numpy(y), to_numpy(x), atol=1e-12)


def test_affine_grid_errors_match_torch():
    bad = [
        (rand(2, 2, 3), (2, 3, 0, 4), 'non-zero, positive'),
        (rand(2, 3, 3), (2, 3, 5, 4), 'Nx2x3'),
        (rand(2, 2, 3), (2, 3, 4, 4, 4), 'Nx3x4'),
        (rand(2, 2, 3), (2, 3, 4), 'only supports 4D and 5D'),
        (np.zeros((2, 2, 3), np.int64), (2, 3, 5, 4), 'floating point'),
        (rand(2, 2, 3), (3, 3, 5, 4), None),
    ]
    for theta, size, match in bad:
        check_raises(lambda lib, t: fn(lib).affine_grid(t, size, align_corners=False), theta,
                     match=match)
