"""Normalisation against PyTorch: functional forms to second order, layers (outputs,
gradients, running statistics after training passes, evaluation mode), and errors."""
from collections import OrderedDict

import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from layer_check import check_layer
from oracle import check_op, check_raises, each_library, rand, to_numpy, torch


def fn(lib):
    return torch.nn.functional if lib is torch else F


def layers(lib):
    return torch.nn if lib is torch else nn


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
             X, W, B, rm, rv, derivative=False)     # the statistics are detached


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


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_instance_norm_of_5d_input_matches_torch_to_second_order(dtype):
    check_op(lambda lib, x, w, b: fn(lib).instance_norm(x, weight=w, bias=b),
             rand(2, 3, 4, 3, 2, dtype=dtype), rand(3, seed=1, dtype=dtype),
             rand(3, seed=2, dtype=dtype))


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


def train_twice_then_evaluate(layer, x):
    """Two training passes (updating any running statistics), then one in eval mode."""
    layer.train()
    layer(x)
    layer(x * 2)
    layer.eval()
    return layer(x)


def test_batch_norm_evaluation_after_training():
    check_layer(lambda nn: nn.BatchNorm2d(3), X, call=train_twice_then_evaluate)


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


X3 = rand(2, 3, 4, 3, 2, seed=8)
INSTANCE_NORM3D = [
    lambda nn: nn.InstanceNorm3d(3),
    lambda nn: nn.InstanceNorm3d(3, affine=True),
    lambda nn: nn.InstanceNorm3d(3, affine=True, bias=False),
    lambda nn: nn.InstanceNorm3d(3, track_running_stats=True),
    lambda nn: nn.InstanceNorm3d(3, affine=True, track_running_stats=True, momentum=0.3),
    lambda nn: nn.InstanceNorm3d(3, track_running_stats=True, momentum=None, eps=1e-3),
]
INSTANCE_NORM3D_IDS = ['default', 'affine', 'no-bias', 'tracked', 'affine-tracked',
                       'cumulative']


@pytest.mark.parametrize('build', INSTANCE_NORM3D, ids=INSTANCE_NORM3D_IDS)
def test_instance_norm3d_training_passes_match_torch(build):
    check_layer(build, X3, steps=2)


@pytest.mark.parametrize('build', INSTANCE_NORM3D, ids=INSTANCE_NORM3D_IDS)
def test_instance_norm3d_evaluation_after_training_matches_torch(build):
    # tracked: evaluation normalises by the running statistics; untracked: by the input's
    check_layer(build, X3, call=train_twice_then_evaluate)


@pytest.mark.parametrize('build', INSTANCE_NORM3D[:2] + INSTANCE_NORM3D[4:5],
                         ids=['default', 'affine', 'affine-tracked'])
def test_instance_norm3d_unbatched_4d_input_matches_torch(build):
    check_layer(build, rand(3, 4, 3, 2, seed=9), steps=2)


@pytest.mark.parametrize('unbatched', [False, True])
def test_instance_norm3d_layer_matches_torch_to_second_order(unbatched):
    x = X3[0] if unbatched else X3
    check_op(lambda lib, x: layers(lib).InstanceNorm3d(3)(x), x)


def test_batch_norm_state_dict_matches_torch():
    for build in (lambda nn: nn.BatchNorm2d(4), lambda nn: nn.BatchNorm1d(4, affine=False),
                  lambda nn: nn.LayerNorm((2, 3)), lambda nn: nn.GroupNorm(2, 4)):
        ours = {k: (tuple(v.shape), str(v.dtype).split('.')[-1])
                for k, v in build(nn).state_dict().items()}
        theirs = {k: (tuple(v.shape), str(v.dtype).split('.')[-1])
                  for k, v in build(torch.nn).state_dict().items()}
        assert ours == theirs


@pytest.mark.parametrize('kw', [{}, dict(affine=True), dict(affine=True, bias=False),
                                dict(track_running_stats=True),
                                dict(affine=True, track_running_stats=True)])
def test_instance_norm3d_state_dict_and_repr_match_torch(kw):
    ours, theirs = nn.InstanceNorm3d(4, **kw), torch.nn.InstanceNorm3d(4, **kw)
    assert ({k: (tuple(v.shape), str(v.dtype).split('.')[-1])
             for k, v in ours.state_dict().items()} ==
            {k: (tuple(v.shape), str(v.dtype).split('.')[-1])
             for k, v in theirs.state_dict().items()})
    assert repr(ours) == repr(theirs)


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


# ----------------------------------------------------------------------------- checkpoints

def _checkpoint(lib, values, metadata):
    """A state_dict of ``lib`` tensors from NumPy ``values``; ``metadata`` (or no
    ``_metadata`` at all when None) as ``state_dict()`` records the layers' versions."""
    state = OrderedDict((k, lib.tensor(v)) for k, v in values.items())
    if metadata is not None:
        state._metadata = OrderedDict(metadata)
    return state


def _load(lib, build, values, metadata, strict=True):
    """Build the layer with ``lib``'s nn and load the checkpoint: the load's result, or
    the exception it raised (compared with PyTorch's)."""
    layer = build(layers(lib))
    try:
        return layer.load_state_dict(_checkpoint(lib, values, metadata), strict=strict)
    except Exception as e:          # noqa: BLE001
        return e


@pytest.mark.parametrize('build', [lambda nn: nn.BatchNorm2d(3),
                                   lambda nn: nn.InstanceNorm2d(3, track_running_stats=True),
                                   lambda nn: nn.Sequential(nn.Linear(2, 3),
                                                            nn.BatchNorm1d(3))],
                         ids=['batch-norm', 'tracked-instance-norm', 'nested'])
def test_norm_layers_state_dict_records_version_2_as_torch(build):
    ours, theirs = build(nn).state_dict(), build(torch.nn).state_dict()
    assert dict(ours._metadata) == dict(theirs._metadata)


BN_STATE = {'weight': rand(3, seed=10), 'bias': rand(3, seed=11),
            'running_mean': rand(3, seed=12), 'running_var': rand(3, low=0.5, seed=13)}


@pytest.mark.parametrize('metadata', [None, {'': {}}, {'': {'version': 1}}],
                         ids=['no-metadata', 'no-version', 'version-1'])
def test_old_checkpoint_without_num_batches_tracked_loads_as_in_torch(metadata):
    # before version 2 there was no num_batches_tracked: the layer keeps its own count
    loaded = {}
    for lib in (torch, autograd):
        layer = layers(lib).BatchNorm1d(3).double()
        for _ in range(2):
            layer(lib.tensor(rand(4, 3, seed=14)))
        result = layer.load_state_dict(_checkpoint(lib, BN_STATE, metadata))
        assert (result.missing_keys, result.unexpected_keys) == ([], [])
        loaded[lib] = layer.state_dict()
    assert loaded[autograd]['num_batches_tracked'].item() == 2
    assert sorted(loaded[autograd]) == sorted(loaded[torch])
    for k, v in loaded[torch].items():
        np.testing.assert_array_equal(to_numpy(loaded[autograd][k]), to_numpy(v), err_msg=k)


@pytest.mark.parametrize('strict', [True, False])
def test_version_2_checkpoint_without_num_batches_tracked_misses_it_as_in_torch(strict):
    t, o = (_load(lib, lambda nn: nn.BatchNorm1d(3), BN_STATE, {'': {'version': 2}}, strict)
            for lib in (torch, autograd))
    if strict:
        assert isinstance(t, RuntimeError) and type(o) is RuntimeError
        assert 'Missing key(s) in state_dict: "num_batches_tracked"' in str(t)
        assert str(o) == str(t)
    else:
        assert (o.missing_keys, o.unexpected_keys) == (t.missing_keys, t.unexpected_keys) \
            == (['num_batches_tracked'], [])


STATS = {'running_mean': rand(3, seed=15), 'running_var': rand(3, low=0.5, seed=16)}


@pytest.mark.parametrize('build, values', [
    (lambda nn: nn.InstanceNorm1d(3), STATS),
    (lambda nn: nn.InstanceNorm2d(3, affine=True),
     {'weight': rand(3, seed=17), 'bias': rand(3, seed=18), **STATS}),
    (lambda nn: nn.InstanceNorm3d(3), {'running_var': STATS['running_var']}),
    (lambda nn: nn.Sequential(nn.InstanceNorm1d(3)), {'0.' + k: v for k, v in STATS.items()}),
], ids=['1d', '2d-affine', '3d-var-only', 'nested'])
@pytest.mark.parametrize('strict', [True, False])
def test_instance_norm_rejects_pre_0_4_checkpoint_running_stats_as_torch(build, values, strict):
    # no version: saved before 0.4, when InstanceNorm tracked running stats by default
    t, o = (_load(lib, build, values, {'': {}, '0': {}}, strict) for lib in (torch, autograd))
    assert isinstance(t, RuntimeError) and type(o) is RuntimeError
    assert 'Unexpected running stats buffer(s)' in str(t)
    assert str(o) == str(t)


def test_instance_norm_versioned_checkpoint_with_running_stats_has_unexpected_keys():
    # from version 1 on the pre-0.4 explanation does not apply: plain unexpected keys
    meta = {'': {'version': 1}}
    t, o = (_load(lib, lambda nn: nn.InstanceNorm1d(3), STATS, meta) for lib in (torch, autograd))
    assert type(o) is type(t) is RuntimeError
    assert 'Unexpected key(s) in state_dict: "running_mean", "running_var"' in str(t)
    assert str(o) == str(t)
    t, o = (_load(lib, lambda nn: nn.InstanceNorm1d(3), STATS, meta, strict=False)
            for lib in (torch, autograd))
    assert (o.missing_keys, o.unexpected_keys) == (t.missing_keys, t.unexpected_keys)


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



@pytest.mark.parametrize('stats, weight, bias, training, message', [
    (None, None, None, False, 'running_mean must be defined in evaluation mode'),
    ((4, None), None, None, False, 'running_var must be defined in evaluation mode'),
    ((3, 3), 4, 4, True, 'running_mean should contain 4 elements not 3'),
    ((4, 3), None, None, True, 'running_var should contain 4 elements not 3'),
    (None, 3, None, True, 'weight should contain 4 elements not 3'),
    (None, 4, 5, False, 'running_mean must be defined in evaluation mode'),
    (None, 4, 5, True, 'bias should contain 4 elements not 5'),
])
def test_batch_norm_checks_channel_counts_in_pytorch_order(stats, weight, bias, training,
                                                          message):
    def run(lib, x):
        ones = (lambda n: None if n is None else lib.ones(n, dtype=lib.float64))
        mean, var = (None, None) if stats is None else (ones(stats[0]), ones(stats[1]))
        return fn(lib).batch_norm(x, mean, var, ones(weight), ones(bias), training=training)
    check_raises(run, rand(2, 4), match=message)


def test_layer_norm_rejects_mismatched_shape():
    check_raises(lambda lib, x: fn(lib).layer_norm(x, (3,)), rand(2, 4),
                 match=r'normalized_shape=\[3\], expected input with shape \[\*, 3\], but got '
                       r'input of size\[2, 4\]')


@pytest.mark.parametrize('build, shape, message', [
    (lambda nn: nn.BatchNorm2d(3), (2, 4, 3, 3), 'running_mean should contain 4 elements not 3'),
    (lambda nn: nn.GroupNorm(2, 4), (2, 6, 3),
     r'Expected weight to be a vector of size equal to the number of channels in input, but '
     r'got weight of shape \[4\] and input of shape \[2, 6, 3\]'),
])
def test_norm_layers_reject_wrong_channel_count_as_pytorch(build, shape, message):
    with pytest.raises(RuntimeError, match=message):
        build(torch.nn)(torch.ones(shape))
    with pytest.raises(RuntimeError, match=message):
        build(nn)(autograd.ones(*shape))


def test_group_norm_rejects_indivisible_channels():
    check_raises(lambda lib, x: fn(lib).group_norm(x, 2), rand(2, 3, 4),
                 match='divisible by num_groups')
    with pytest.raises(ValueError):
        nn.GroupNorm(2, 3)


def check_raises_as_torch(fn, *arrays, match):
    """``check_raises``, with PyTorch's own message held to ``match`` too."""
    for lib in each_library(torch):
        with pytest.raises(Exception, match=match):
            fn(lib, *map(lib.tensor, arrays))
    check_raises(fn, *arrays, match=match)


def test_instance_norm3d_rejects_wrong_rank():
    check_raises_as_torch(lambda lib, x: layers(lib).InstanceNorm3d(3)(x), rand(3, 4, 5),
                          match=r'expected 4D or 5D input \(got 3D input\)')


@pytest.mark.parametrize('cls, shape, dim', [
    ('InstanceNorm1d', (4, 5), 0), ('InstanceNorm1d', (2, 4, 5), 1),
    ('InstanceNorm2d', (4, 5, 2), 0), ('InstanceNorm2d', (2, 4, 5, 2), 1),
    ('InstanceNorm3d', (4, 3, 2, 2), 0), ('InstanceNorm3d', (2, 4, 3, 2, 2), 1),
])
def test_affine_instance_norm_rejects_wrong_channel_count_naming_the_dim(cls, shape, dim):
    # unbatched input: the channels are dim 0, as in PyTorch's message
    check_raises_as_torch(lambda lib, x: getattr(layers(lib), cls)(3, affine=True)(x),
                          rand(*shape), match=rf"expected input's size at dim={dim} to match "
                                              r'num_features \(3\), but got: 4\.')


@pytest.mark.parametrize('cls, shape', [
    ('InstanceNorm1d', (4, 5)), ('InstanceNorm1d', (2, 4, 5)),
    ('InstanceNorm2d', (4, 5, 2)), ('InstanceNorm3d', (2, 4, 3, 2, 2)),
])
def test_instance_norm_without_affine_warns_of_wrong_channel_count_as_torch(cls, shape):
    # num_features is unused without affine or running stats: a warning, then normalised
    results = {}
    for lib in (torch, autograd):
        with pytest.warns(UserWarning) as record:
            out = getattr(layers(lib), cls)(3)(lib.tensor(rand(*shape)))
        results[lib] = out, [(w.category, str(w.message)) for w in record]
    (t_out, t_warned), (o_out, o_warned) = results[torch], results[autograd]
    assert len(t_warned) == 1 and 'does not match num_features' in t_warned[0][1]
    assert o_warned == t_warned
    np.testing.assert_allclose(to_numpy(o_out), to_numpy(t_out), rtol=1e-12, atol=1e-12)
