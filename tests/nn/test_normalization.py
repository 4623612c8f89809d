"""Normalisation against PyTorch: functional forms to second order, layers (outputs,
gradients, running statistics after training passes, evaluation mode), and errors."""
import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from layer_check import check_layer
from oracle import check_op, check_raises, rand, to_numpy, torch


def fn(lib):
    return torch.nn.functional if lib is torch else F


X = rand(4, 3, 5, 2)
W, B = rand(3, seed=1), rand(3, seed=2)


@pytest.mark.parametrize('shape', [(4, 3, 5, 2), (5, 3), (4, 3, 6)])
def test_batch_norm_training_matches_torch_to_second_order(shape):
    check_op(lambda lib, x, w, b: fn(lib).batch_norm(x, None, None, w, b, training=True),
             rand(*shape), W, B)


def test_batch_norm_without_affine_and_float32():
    check_op(lambda lib, x: fn(lib).batch_norm(x, None, None, training=True), X)
    check_op(lambda lib, x, w, b: fn(lib).batch_norm(x, None, None, w, b, training=True),
             X.astype('float32'), W.astype('float32'), B.astype('float32'))


def test_batch_norm_evaluation_uses_running_stats():
    rm, rv = rand(3, seed=4), rand(3, low=0.5, high=2, seed=5)
    check_op(lambda lib, x, w, b, m, v: fn(lib).batch_norm(x, m.detach(), v.detach(), w, b),
             X, W, B, rm, rv)


@pytest.mark.parametrize('momentum', [0.1, 0.5])
def test_batch_norm_updates_running_stats_with_unbiased_variance(momentum):
    stats = {}
    for lib in (torch, autograd):
        m, v = lib.tensor(rand(3, seed=4)), lib.tensor(rand(3, low=0.5, seed=5))
        fn(lib).batch_norm(lib.tensor(X), m, v, training=True, momentum=momentum)
        stats[lib] = (to_numpy(m), to_numpy(v))
    for ours, theirs in zip(stats[autograd], stats[torch]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize('shape', [(5, 2), (2,), (3, 5, 2)])
def test_layer_norm_matches_torch_to_second_order(shape):
    check_op(lambda lib, x, w, b: fn(lib).layer_norm(x, shape, w, b), X, rand(*shape, seed=6),
             rand(*shape, seed=7))


def test_layer_norm_without_affine_or_bias():
    check_op(lambda lib, x: fn(lib).layer_norm(x, (2,), eps=1e-3), X)
    check_op(lambda lib, x, w: fn(lib).layer_norm(x, (5, 2), w), X, rand(5, 2, seed=6))


@pytest.mark.parametrize('groups', [1, 3, 6])
def test_group_norm_matches_torch_to_second_order(groups):
    check_op(lambda lib, x, w, b: fn(lib).group_norm(x, groups, w, b), rand(2, 6, 4, 3),
             rand(6, seed=1), rand(6, seed=2))


def test_instance_norm_matches_torch_to_second_order():
    check_op(lambda lib, x, w, b: fn(lib).instance_norm(x, weight=w, bias=b), rand(2, 6, 4, 3),
             rand(6, seed=1), rand(6, seed=2))


@pytest.mark.parametrize('kw', [dict(size=3), dict(size=2, alpha=0.1, beta=0.5, k=2.0)])
def test_local_response_norm_matches_torch(kw):
    check_op(lambda lib, x: fn(lib).local_response_norm(x, **kw), rand(2, 5, 3, 4))
    check_op(lambda lib, x: fn(lib).local_response_norm(x, **kw), rand(2, 5, 7))


# ----------------------------------------------------------------------------- layers

@pytest.mark.parametrize('build', [
    lambda nn: nn.BatchNorm2d(3),
    lambda nn: nn.BatchNorm2d(3, momentum=None),
    lambda nn: nn.BatchNorm2d(3, momentum=0.3, eps=1e-3, affine=False),
    lambda nn: nn.BatchNorm2d(3, track_running_stats=False),
    lambda nn: nn.BatchNorm2d(3, bias=False),
], ids=['default', 'cumulative', 'no-affine', 'untracked', 'no-bias'])
def test_batch_norm2d_training_passes_match_torch(build):
    check_layer(build, X, steps=3)


@pytest.mark.parametrize('build', [lambda nn: nn.BatchNorm2d(3),
                                   lambda nn: nn.BatchNorm2d(3, track_running_stats=False)])
def test_batch_norm2d_evaluation_matches_torch(build):
    check_layer(build, X, train=False)


def test_batch_norm_evaluation_after_training():
    def run(layer, x):
        layer.train()
        layer(x)
        layer(x * 2)
        layer.eval()
        return layer(x)
    check_layer(lambda nn: nn.BatchNorm2d(3), X, call=run)


@pytest.mark.parametrize('shape', [(6, 3), (4, 3, 5)])
def test_batch_norm1d_matches_torch(shape):
    check_layer(lambda nn: nn.BatchNorm1d(3), rand(*shape), steps=2)


@pytest.mark.parametrize('build', [
    lambda nn: nn.LayerNorm((5, 2)),
    lambda nn: nn.LayerNorm(2, bias=False),
    lambda nn: nn.LayerNorm(2, elementwise_affine=False),
    lambda nn: nn.GroupNorm(3, 3),
    lambda nn: nn.GroupNorm(1, 3, affine=False),
    lambda nn: nn.GroupNorm(3, 3, bias=False),
    lambda nn: nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
    lambda nn: nn.InstanceNorm2d(3),
    lambda nn: nn.LocalResponseNorm(2),
])
def test_normalisation_layers_match_torch(build):
    check_layer(build, X, steps=2)


def test_instance_norm1d_unbatched():
    check_layer(lambda nn: nn.InstanceNorm1d(3, affine=True), rand(3, 6))


def test_batch_norm_state_dict_matches_torch():
    for build in (lambda nn: nn.BatchNorm2d(4), lambda nn: nn.BatchNorm1d(4, affine=False),
                  lambda nn: nn.LayerNorm((2, 3)), lambda nn: nn.GroupNorm(2, 4)):
        ours = {k: (tuple(v.shape), str(v.dtype).split('.')[-1])
                for k, v in build(nn).state_dict().items()}
        theirs = {k: (tuple(v.shape), str(v.dtype).split('.')[-1])
                  for k, v in build(torch.nn).state_dict().items()}
        assert ours == theirs


def test_num_batches_tracked_counts_training_passes():
    layer = nn.BatchNorm1d(3)
    for _ in range(3):
        layer(autograd.randn(4, 3))
    layer.eval()
    layer(autograd.randn(4, 3))
    assert layer.num_batches_tracked.item() == 3


def test_normalisation_repr_matches_torch():
    for name, args in [('BatchNorm2d', (4,)), ('LayerNorm', ((2, 3),)), ('GroupNorm', (2, 4)),
                       ('LocalResponseNorm', (3,))]:
        assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


# ----------------------------------------------------------------------------- errors

def test_batch_norm_layers_reject_wrong_rank():
    for layer in (nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)):
        with pytest.raises(ValueError, match=r'expected 4D input \(got 3D input\)'):
            layer(autograd.ones(2, 3, 4) if isinstance(layer, nn.Module)
                  else torch.ones(2, 3, 4))
    with pytest.raises(ValueError, match='expected 2D or 3D input'):
        nn.BatchNorm1d(3)(autograd.ones(2, 3, 4, 5))


def test_batch_norm_needs_more_than_one_value_per_channel_in_training():
    check_raises(lambda lib, x: fn(lib).batch_norm(x, None, None, training=True), rand(1, 3),
                 match='Expected more than 1 value per channel when training')


def test_layer_norm_rejects_mismatched_shape():
    check_raises(lambda lib, x: fn(lib).layer_norm(x, (3,)), rand(2, 4),
                 match=r'normalized_shape=\[3\], expected input with shape \[\*, 3\], but got '
                       r'input of size\[2, 4\]')


def test_norm_layers_reject_wrong_channel_count_naming_the_shapes():
    for layer, x in ((nn.BatchNorm2d(3), autograd.ones(2, 4, 3, 3)),
                     (nn.GroupNorm(2, 4), autograd.ones(2, 6, 3))):
        with pytest.raises(RuntimeError, match=r'input of shape \[2, \d, 3.*\].*shape \[\d\]'):
            layer(x)


def test_group_norm_rejects_indivisible_channels():
    check_raises(lambda lib, x: fn(lib).group_norm(x, 2), rand(2, 3, 4),
                 match='divisible by num_groups')
    with pytest.raises(ValueError):
        nn.GroupNorm(2, 3)
