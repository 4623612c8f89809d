"""Convolutions against PyTorch: functional forms (forward, gradients, second derivatives),
layers with PyTorch's weights, errors, and the parameter counts of known networks."""
import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from layer_check import check_layer, count_parameters
from oracle import check_op, check_raises, rand, to_numpy, torch


def fn(lib):
    return torch.nn.functional if lib is torch else F


CONV2D = [
    dict(),
    dict(stride=2, padding=1),
    dict(stride=(2, 1), padding=(0, 2), dilation=(1, 2)),
    dict(padding='same', dilation=2),
    dict(padding='valid', stride=3),
    dict(groups=2, padding=1),
    dict(groups=4, stride=2, dilation=2),
]


@pytest.mark.parametrize('kw', CONV2D)
@pytest.mark.parametrize('bias', [True, False])
def test_conv2d_matches_torch_to_second_order(kw, bias):
    groups = kw.get('groups', 1)
    x, w = rand(2, 4, 7, 6), rand(6 if groups != 4 else 8, 4 // groups, 3, 2, seed=1)
    args = (x, w, rand(w.shape[0], seed=2)) if bias else (x, w)
    check_op(lambda lib, *a: fn(lib).conv2d(*a, **kw), *args)


def test_conv2d_float32():
    check_op(lambda lib, x, w, b: fn(lib).conv2d(x, w, b, padding=1),
             rand(2, 3, 6, 6, dtype='float32'), rand(5, 3, 3, 3, seed=1, dtype='float32'),
             rand(5, seed=2, dtype='float32'))


def test_conv2d_unbatched_input():
    check_op(lambda lib, x, w: fn(lib).conv2d(x, w, stride=2), rand(3, 7, 7), rand(4, 3, 3, 3))


def test_conv2d_one_by_one_kernel():
    check_op(lambda lib, x, w, b: fn(lib).conv2d(x, w, b), rand(2, 3, 4, 5), rand(6, 3, 1, 1),
             rand(6))


@pytest.mark.parametrize('kw', [dict(), dict(stride=2, padding=2, dilation=2),
                                dict(padding='same', groups=2)])
def test_conv1d_matches_torch(kw):
    g = kw.get('groups', 1)
    check_op(lambda lib, x, w, b: fn(lib).conv1d(x, w, b, **kw), rand(2, 4, 9),
             rand(6, 4 // g, 3, seed=1), rand(6, seed=2))


CONV_T2D = [
    dict(),
    dict(stride=2, padding=1, output_padding=1),
    dict(stride=(2, 3), padding=(0, 1), dilation=2, groups=2, output_padding=(1, 0)),
    dict(stride=3, output_padding=2),
]


@pytest.mark.parametrize('kw', CONV_T2D)
def test_conv_transpose2d_matches_torch_to_second_order(kw):
    g = kw.get('groups', 1)
    check_op(lambda lib, x, w, b: fn(lib).conv_transpose2d(x, w, b, **kw), rand(2, 4, 5, 4),
             rand(4, 6 // g, 3, 2, seed=1), rand(6, seed=2))


def test_conv_transpose1d_matches_torch():
    check_op(lambda lib, x, w: fn(lib).conv_transpose1d(x, w, stride=2, padding=1,
                                                        output_padding=1), rand(2, 3, 5),
             rand(3, 2, 4, seed=1))


@pytest.mark.parametrize('kw', [dict(kernel_size=2), dict(kernel_size=(3, 2), stride=2,
                                                          padding=1, dilation=(1, 2))])
def test_unfold_and_fold_match_torch(kw):
    x = rand(2, 3, 6, 7)
    check_op(lambda lib, x: fn(lib).unfold(x, **kw), x)
    cols = torch.nn.functional.unfold(torch.tensor(x), **kw).numpy()
    check_op(lambda lib, c: fn(lib).fold(c, (6, 7), **kw), cols)


def test_fold_of_unfold_counts_window_overlaps():
    ones = np.ones((1, 1, 4, 4))
    check_op(lambda lib, x: fn(lib).fold(fn(lib).unfold(x, 2), (4, 4), 2), ones)


# ----------------------------------------------------------------------------- layers

@pytest.mark.parametrize('build', [
    lambda nn: nn.Conv2d(4, 6, 3),
    lambda nn: nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2),
    lambda nn: nn.Conv2d(4, 4, 3, padding='same', dilation=2, bias=False),
    lambda nn: nn.Conv2d(4, 6, 3, padding=1, padding_mode='circular'),
    lambda nn: nn.Conv2d(4, 6, 3, padding=(1, 2), padding_mode='reflect'),
], ids=['plain', 'strided-groups', 'same-dilated', 'circular', 'reflect'])
def test_conv2d_layer_matches_torch(build):
    check_layer(build, rand(2, 4, 7, 6))


def test_conv1d_layer_matches_torch():
    check_layer(lambda nn: nn.Conv1d(3, 5, 3, stride=2, padding=1), rand(2, 3, 9))
    check_layer(lambda nn: nn.Conv1d(3, 5, 3, padding='same', padding_mode='replicate'),
                rand(3, 9))


def test_conv_transpose2d_layer_matches_torch():
    check_layer(lambda nn: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1),
                rand(2, 4, 5, 4))
    check_layer(lambda nn: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2),
                rand(2, 4, 5, 4), call=lambda layer, x: layer(x, output_size=(10, 8)))


def test_conv_transpose1d_layer_matches_torch():
    check_layer(lambda nn: nn.ConvTranspose1d(3, 4, 3, stride=2), rand(2, 3, 5))


def test_conv_state_dict_keys_and_shapes_match_torch():
    for build in (lambda nn: nn.Conv2d(4, 6, 3, groups=2), lambda nn: nn.ConvTranspose2d(4, 6, 3),
                  lambda nn: nn.Conv1d(2, 3, 5, bias=False)):
        ours = {k: tuple(v.shape) for k, v in build(nn).state_dict().items()}
        theirs = {k: tuple(v.shape) for k, v in build(torch.nn).state_dict().items()}
        assert ours == theirs


def test_conv_init_is_uniform_within_one_over_sqrt_fan_in():
    layer = nn.Conv2d(8, 16, 3)
    bound = 1 / np.sqrt(8 * 9)
    w, b = to_numpy(layer.weight), to_numpy(layer.bias)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.9 * bound           # spread over the whole interval
    assert abs(w.mean()) < 0.1 * bound


def test_conv_repr_matches_torch():
    for args, kw in [((4, 6, 3), dict(stride=2, padding=1, groups=2, bias=False)),
                     ((4, 6, (3, 2)), dict(dilation=2, padding_mode='circular', padding=1))]:
        assert repr(nn.Conv2d(*args, **kw)) == repr(torch.nn.Conv2d(*args, **kw))
    assert repr(nn.ConvTranspose2d(3, 4, 2, output_padding=1, stride=2)) == \
        repr(torch.nn.ConvTranspose2d(3, 4, 2, output_padding=1, stride=2))


# ----------------------------------------------------------------------------- errors

def test_conv2d_rejects_wrong_rank_naming_the_shape():
    check_raises(lambda lib, x, w: fn(lib).conv2d(x, w), rand(2, 3), rand(4, 3, 3, 3),
                 match=r'4D \(batched\) input to conv2d, but got input of size: \[2, 3\]')


def test_conv2d_rejects_wrong_channel_count_naming_both_shapes():
    check_raises(lambda lib, x, w: fn(lib).conv2d(x, w), rand(2, 4, 5, 5), rand(8, 3, 3, 3),
                 match=r'weight of size \[8, 3, 3, 3\], expected input\[2, 4, 5, 5\] to have 3 '
                       r'channels, but got 4')


def test_conv_errors_use_torch_exception_types():
    x, w = rand(2, 3, 5, 5), rand(8, 3, 3, 3)
    check_raises(lambda lib, x, w, b: fn(lib).conv2d(x, w, b), x, w, rand(4),
                 match='expected bias to be 1-dimensional with 8 elements')
    check_raises(lambda lib, x, w: fn(lib).conv2d(x, w, groups=3), x, rand(4, 1, 3, 3),
                 match='divisible by 3')
    check_raises(lambda lib, x, w: fn(lib).conv2d(x, w), rand(2, 3, 2, 2), w,
                 match="Kernel size can't be greater than actual input size")
    check_raises(lambda lib, x, w: fn(lib).conv2d(x, w, stride=2, padding='same'), x, w,
                 match='not supported for strided convolutions')
    check_raises(lambda lib, x, w: fn(lib).conv2d(x, w, padding=-1), x, w,
                 match='negative padding')
    check_raises(lambda lib, x, w: fn(lib).conv2d(x, w, stride=0), x, w,
                 match='non-positive stride')
    check_raises(lambda lib, x, w: fn(lib).conv2d(x, w), x, w.astype('float32'),
                 match='expected scalar type')
    check_raises(lambda lib, x, w: fn(lib).conv_transpose2d(x, w, output_padding=1), x,
                 rand(3, 2, 3, 3), match='output padding must be smaller')
    check_raises(lambda lib, x: fn(lib).fold(x, (4, 4), 2), rand(2, 8, 8),
                 match='calculated number of sliding blocks 3 \\* 3 = 9')
    check_raises(lambda lib, x: fn(lib).fold(x, (4, 4), 2), rand(2, 3, 4, 4),
                 match=r'2D or 3D \(batch mode\) tensor .* but got: \[2, 3, 4, 4\]')
    check_raises(lambda lib, x: fn(lib).unfold(x, 2), rand(4, 4))
    check_raises(lambda lib, x: fn(lib).unfold(x, 2), rand(1, 2, 3, 4, 4),
                 match=r'3D or 4D .* but got: \[1, 2, 3, 4, 4\]')


def test_conv_layer_constructor_errors_are_value_errors():
    for kw in [dict(groups=0), dict(groups=3), dict(padding='full'),
               dict(padding='same', stride=2), dict(padding_mode='mirror')]:
        with pytest.raises(ValueError):
            torch.nn.Conv2d(6, 4, 3, **kw)
        with pytest.raises(ValueError):
            nn.Conv2d(6, 4, 3, **kw)


# ----------------------------------------------------------------------------- known networks

@pytest.fixture
def no_init(monkeypatch):
    """Skip the random initialisation: these tests count parameters only."""
    for cls in (nn.Linear, nn.modules.conv._ConvNd):
        monkeypatch.setattr(cls, 'reset_parameters', lambda self: None)


def test_lenet5_has_61706_parameters():
    lenet = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))
    assert count_parameters(lenet) == 61706
    assert lenet(autograd.randn(2, 1, 28, 28)).shape == (2, 10)


def test_vgg16_configuration_d_has_138357544_parameters(no_init):
    layers, c = [], 3
    for v in [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M',
              512, 512, 512, 'M']:
        if v == 'M':
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(inplace=True)]
            c = v
    vgg = nn.Sequential(*layers, nn.AdaptiveAvgPool2d((7, 7)), nn.Flatten(),
                        nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(),
                        nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(),
                        nn.Linear(4096, 1000))
    assert count_parameters(vgg) == 138357544
