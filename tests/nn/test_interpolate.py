"""F.interpolate and nn.Upsample against PyTorch: every mode on the input ranks PyTorch
supports it on, size and scale_factor forms, gradients and second derivatives, and errors."""
import numpy as np
import pytest

import autograd
import nn.functional as F
from layer_check import check_layer
from oracle import check_op, check_raises, rand, torch


def fn(lib):
    return torch.nn.functional if lib is torch else F


def squared(lib, y):
    """y^2: its gradient depends on the input, so second derivatives of the (linear)
    resampling and of its backward are exercised."""
    return y * y


INTERP = [
    ('nearest', None), ('nearest-exact', None), ('bilinear', False), ('bilinear', True),
    ('bicubic', False), ('bicubic', True), ('area', None),
]
SIZES = [dict(size=(5, 11)), dict(size=3), dict(scale_factor=2), dict(scale_factor=(1.7, 0.6)),
         dict(scale_factor=1.5, recompute_scale_factor=True), dict(scale_factor=(1.1, 1.5)),
         dict(scale_factor=0.4), dict(size=1)]


@pytest.mark.parametrize('mode,align_corners', INTERP)
@pytest.mark.parametrize('kw', SIZES)
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_interpolate_2d_matches_torch(mode, align_corners, kw, dtype):
    # bicubic sums 16 taps with negative weights: float32 cancels more near zero
    atol = 1e-5 if mode == 'bicubic' and dtype == 'float32' else None
    check_op(lambda lib, x: fn(lib).interpolate(x, mode=mode, align_corners=align_corners, **kw),
             rand(2, 3, 7, 6, dtype=dtype), atol=atol)


@pytest.mark.parametrize('mode,align_corners', [('bicubic', False), ('bicubic', True),
                                                ('bilinear', False)])
@pytest.mark.parametrize('kw', [dict(size=(9, 4)), dict(scale_factor=0.7)])
def test_interpolate_2d_second_order(mode, align_corners, kw):
    check_op(lambda lib, x: squared(lib, fn(lib).interpolate(
        x, mode=mode, align_corners=align_corners, **kw)), rand(2, 3, 7, 6))


def test_bicubic_reads_the_border_for_taps_outside_the_input():
    # 1 and 2 pixel wide inputs: every output mixes clamped taps
    for shape in [(1, 2, 1, 2), (1, 2, 2, 1), (2, 1, 3, 2)]:
        for ac in (False, True):
            check_op(lambda lib, x: fn(lib).interpolate(x, size=(5, 4), mode='bicubic',
                                                        align_corners=ac), rand(*shape))


TRILINEAR_SIZES = [dict(size=(3, 7, 2)), dict(size=4), dict(scale_factor=2),
                   dict(scale_factor=(1.7, 0.6, 1.5)),
                   dict(scale_factor=1.5, recompute_scale_factor=True)]


@pytest.mark.parametrize('mode,align_corners', [
    ('trilinear', False), ('trilinear', True), ('nearest', None), ('nearest-exact', None),
    ('area', None)])
@pytest.mark.parametrize('kw', TRILINEAR_SIZES)
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_interpolate_3d_matches_torch(mode, align_corners, kw, dtype):
    check_op(lambda lib, x: fn(lib).interpolate(x, mode=mode, align_corners=align_corners, **kw),
             rand(2, 2, 4, 5, 3, dtype=dtype))


def test_trilinear_second_order():
    check_op(lambda lib, x: squared(lib, fn(lib).interpolate(x, size=(3, 7, 2), mode='trilinear')),
             rand(1, 2, 4, 5, 3))


@pytest.mark.parametrize('mode,align_corners', [('linear', False), ('linear', True),
                                                ('nearest', None), ('nearest-exact', None),
                                                ('area', None)])
@pytest.mark.parametrize('kw', [dict(size=13), dict(scale_factor=0.6), dict(scale_factor=2.5),
                                dict(size=9), dict(size=18)])
def test_interpolate_1d_matches_torch(mode, align_corners, kw):
    check_op(lambda lib, x: squared(lib, fn(lib).interpolate(
        x, mode=mode, align_corners=align_corners, **kw)), rand(2, 3, 9))


@pytest.mark.parametrize('shape', [(1, 2, 5), (1, 2, 5, 7), (1, 1, 5, 4, 3)])
@pytest.mark.parametrize('scale', [1.19, 2.001])
@pytest.mark.parametrize('mode', ['nearest', 'nearest-exact', 'linear'])
def test_sizes_equal_to_or_twice_the_input_follow_torch_kernels(shape, scale, mode):
    # PyTorch copies when the size is unchanged (linear modes) and for 2-d nearest also
    # halves when it doubles, ignoring the scale factor; 1-d and 3-d nearest do not
    # (PyTorch's gradient of 1-d and 3-d nearest is not that of its forward here: see
    # test_where_torch_backward_disagrees_with_its_forward_ours_is_the_true_gradient)
    mode = {3: mode, 4: 'bilinear', 5: 'trilinear'}[len(shape)] if mode == 'linear' else mode
    check_op(lambda lib, x: fn(lib).interpolate(x, scale_factor=scale, mode=mode),
             np.arange(np.prod(shape), dtype=float).reshape(shape),
             grad=mode != 'nearest' or len(shape) == 4)


TORCH_BACKWARD_BUGS = [   # input shape, interpolate's arguments
    ((2, 3, 7, 6), dict(mode='bicubic', scale_factor=1.1)),      # a copy, the sizes being equal
    ((2, 3, 9), dict(mode='nearest', scale_factor=1.1)),         # a copy
    ((2, 3, 9), dict(mode='nearest', scale_factor=2.001)),       # a halving
    ((1, 2, 4, 5, 3), dict(mode='nearest', scale_factor=(1.7, 0.6, 1.1))),
]


@pytest.mark.parametrize('shape, kw', TORCH_BACKWARD_BUGS)
def test_where_torch_backward_disagrees_with_its_forward_ours_is_the_true_gradient(shape, kw):
    # PyTorch's backward kernels take a shortcut (copy or halve) that its forward kernels
    # do not, so its gradient fails its own gradcheck; ours is the adjoint of the forward
    check_op(lambda lib, x: fn(lib).interpolate(x, **kw), rand(*shape), grad=False)
    x = rand(*shape)
    assert not torch.autograd.gradcheck(lambda t: torch.nn.functional.interpolate(t, **kw),
                                        (torch.tensor(x, requires_grad=True),),
                                        raise_exception=False)
    assert autograd.gradcheck(lambda t: F.interpolate(t, **kw),
                              (autograd.tensor(x, requires_grad=True),))


def test_interpolate_of_an_empty_batch():
    for mode in ('bicubic', 'nearest', 'bilinear'):
        check_op(lambda lib, x: fn(lib).interpolate(x, size=(3, 2), mode=mode), rand(0, 2, 4, 4),
                 grad=False)


def test_interpolate_backward_runs_on_bare_arrays(monkeypatch):
    """Without create_graph the backward gets the device's arrays (no tensor wrappers)."""
    import autograd.engine

    def never(node, g, multi):
        raise AssertionError(f'{node.name()} was handed tensors in an array sweep')
    monkeypatch.setattr(autograd.engine, '_wrap', never)
    check_op(lambda lib, x: fn(lib).interpolate(x, scale_factor=1.5, mode='bicubic'),
             rand(2, 3, 7, 6), double=False)
    check_op(lambda lib, x: fn(lib).interpolate(x, size=(3, 7, 2), mode='trilinear'),
             rand(1, 2, 4, 5, 3), double=False)


# ----------------------------------------------------------------------------- layers

@pytest.mark.parametrize('build, shape', [
    (lambda nn: nn.Upsample(scale_factor=2, mode='bilinear'), (2, 3, 7, 6)),
    (lambda nn: nn.Upsample(scale_factor=1.5, mode='bicubic'), (2, 3, 7, 6)),
    (lambda nn: nn.Upsample(size=(5, 9), mode='bicubic', align_corners=True), (2, 3, 7, 6)),
    (lambda nn: nn.Upsample(scale_factor=(2, 0.5, 1.5), mode='trilinear'), (1, 2, 4, 5, 3)),
    (lambda nn: nn.Upsample(size=11, mode='linear', align_corners=True), (2, 3, 7)),
    (lambda nn: nn.Upsample(scale_factor=2.5, mode='nearest', recompute_scale_factor=True),
     (1, 2, 4, 5, 3)),
    (lambda nn: nn.UpsamplingNearest2d(size=(9, 8)), (2, 3, 7, 6)),
    (lambda nn: nn.UpsamplingBilinear2d(scale_factor=2), (2, 3, 7, 6)),
])
def test_upsample_layers_match_torch(build, shape):
    check_layer(build, rand(*shape))


def test_upsample_repr_matches_torch():
    import nn as ours
    for kw in [dict(scale_factor=2, mode='bicubic'), dict(size=(2, 3, 4), mode='trilinear'),
               dict(size=5, mode='linear', align_corners=True)]:
        assert repr(ours.Upsample(**kw)) == repr(torch.nn.Upsample(**kw))


# ----------------------------------------------------------------------------- errors

ERRORS = [     # input shape, keyword arguments
    ((1, 2, 4, 4), dict(size=3, scale_factor=2)),
    ((1, 2, 4, 4), dict()),
    ((1, 2, 4, 4), dict(size=3, align_corners=True)),
    ((1, 2, 4), dict(size=3, mode='bilinear')),
    ((1, 2, 4), dict(size=3, mode='bicubic')),                     # bicubic is 4-D only
    ((1, 2, 4, 4, 4), dict(size=3, mode='bicubic')),
    ((1, 2, 4, 4), dict(size=3, mode='trilinear')),                # trilinear is 5-D only
    ((1, 2, 4, 4, 4), dict(size=3, mode='linear')),
    ((1, 2, 4, 4), dict(size=3, mode='foo', align_corners=True)),
    ((1, 2), dict(size=3)),
    ((1, 2, 4, 4), dict(size=(3,), mode='bicubic')),               # size and scale shapes
    ((1, 2, 4, 4), dict(size=(3, 2.0), mode='bicubic')),
    ((1, 2, 4, 4), dict(scale_factor=(2, 2, 2), mode='bicubic')),
    ((1, 2, 4, 4), dict(size=3, mode='bicubic', recompute_scale_factor=True)),
    ((1, 2, 4, 4), dict(size=(3, 0), mode='bicubic')),             # empty sizes
    ((1, 2, 4, 4, 4), dict(scale_factor=0.2, mode='trilinear')),
    ((1, 2, 4), dict(scale_factor=-1.0, mode='linear')),
    ((1, 2, 0, 4), dict(size=3, mode='bicubic')),
    ((1, 0, 4, 4), dict(size=3, mode='bicubic')),
    ((1, 2, 4, 4, 4), dict(size=3, mode='trilinear', antialias=True)),
    ((1, 2, 4, 4), dict(size=3, mode='lanczos')),
]


@pytest.mark.parametrize('shape, kw', ERRORS)
def test_interpolate_rejects_what_torch_rejects(shape, kw):
    check_raises(lambda lib, x: fn(lib).interpolate(x, **kw), rand(*shape))


@pytest.mark.parametrize('mode', ['bicubic', 'bilinear', 'nearest'])
def test_interpolate_rejects_integer_input(mode):
    check_raises(lambda lib, x: fn(lib).interpolate(x, size=3, mode=mode),
                 np.arange(32).reshape(1, 2, 4, 4), match='Long')


def test_interpolate_with_antialias_is_not_implemented():
    x = autograd.tensor(rand(1, 2, 8, 8))
    with pytest.raises(NotImplementedError, match='antialias'):
        F.interpolate(x, size=3, mode='bicubic', antialias=True)
