"""Padding against PyTorch: ``F.pad`` in every mode (negative sizes too) to second order, the
padding layers (batched and unbatched, values and gradients), and PyTorch's errors."""
import pytest
from hypothesis import given, settings, strategies as st

import nn
import nn.functional as F
from layer_check import check_layer
from oracle import check_op, check_raises, rand, torch


def fn(lib):
    return torch.nn.functional if lib is torch else F


def nn_of(lib):
    return torch.nn if lib is torch else nn


def padded(pad, mode, value=None):
    def run(lib, x):
        if value is None:
            return fn(lib).pad(x, pad, mode=mode)
        return fn(lib).pad(x, pad, mode=mode, value=value)
    return run


CASES = [  # (input shape, pad): 1d, 2d, 3d, batched and not; negative sizes crop
    ((2, 3, 6), (2, 3)),
    ((3, 6), (-1, 4)),
    ((2, 3, 5, 4), (1, 2, 3, -1)),
    ((3, 5, 4), (-1, 3, 0, 2)),
    ((1, 2, 4, 5, 3), (1, 2, 2, 1, -1, 2)),
    ((2, 4, 5, 3), (2, 0, -1, 3, 1, 1)),
]


@pytest.mark.parametrize('mode', ['constant', 'reflect', 'replicate', 'circular'])
@pytest.mark.parametrize('shape,pad', CASES)
def test_pad_matches_torch_to_second_order(mode, shape, pad):
    check_op(padded(pad, mode), rand(*shape))


def test_constant_value_and_any_rank():
    check_op(padded((1, 2), 'constant', 2.5), rand(4))
    check_op(padded((1, 0, -1, 2, 0, 1, 2, 2), 'constant', -1.0), rand(2, 3, 4, 2))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(mode=st.sampled_from(['constant', 'reflect', 'replicate', 'circular']),
       dims=st.integers(1, 3), batched=st.booleans(), data=st.data())
def test_random_pads_match_torch(mode, dims, batched, data):
    shape = [data.draw(st.integers(1, 4)) for _ in range(dims + 1 + batched)]
    pad = []
    for d in range(dims):
        n = shape[-1 - d]
        before = data.draw(st.integers(-(n - 1) // 2, n - 1 if mode == 'reflect' else n))
        cropped = n + min(before, 0)
        after = data.draw(st.integers(-(cropped - 1), n - 1 if mode == 'reflect' else n))
        if mode == 'circular':       # no wrap past the cropped extent (PyTorch refuses it)
            m = n + min(before, 0) + min(after, 0)
            before, after = min(before, m), min(after, m)
        pad += [before, after]
    check_op(padded(tuple(pad), mode), rand(*shape), double=False)


LAYERS = [
    ('ReflectionPad1d', (2, 1), (2, 3, 5)), ('ReflectionPad1d', 2, (3, 5)),
    ('ReflectionPad2d', (1, 2, 2, 0), (2, 3, 4, 5)), ('ReflectionPad2d', 1, (3, 4, 5)),
    ('ReflectionPad3d', (1, 0, 2, 1, 1, 1), (1, 2, 3, 4, 5)), ('ReflectionPad3d', 1, (2, 3, 4, 5)),
    ('ReplicationPad1d', (3, -1), (2, 3, 5)), ('ReplicationPad2d', 2, (3, 4, 5)),
    ('ReplicationPad3d', (1, 2, 0, 1, 2, 0), (1, 2, 3, 4, 5)),
    ('CircularPad1d', (2, 3), (3, 5)), ('CircularPad2d', (1, -1, 2, 1), (2, 3, 4, 5)),
    ('CircularPad3d', 1, (2, 3, 4, 5)),
    ('ZeroPad1d', (1, 2), (3, 5)), ('ZeroPad2d', (1, -1, 2, 0), (2, 3, 4, 5)),
    ('ZeroPad3d', 1, (2, 3, 4, 5)),
]


@pytest.mark.parametrize('name,padding,shape', LAYERS)
def test_padding_layers_match_torch(name, padding, shape):
    check_layer(lambda nn: getattr(nn, name)(padding), rand(*shape))


@pytest.mark.parametrize('name', ['ConstantPad1d', 'ConstantPad2d', 'ConstantPad3d'])
def test_constant_pad_layers(name):
    check_layer(lambda nn: getattr(nn, name)(2, 3.5), rand(2, 3, 4, 5))
    check_layer(lambda nn: getattr(nn, name)(tuple(range(1, 7))[:2 * int(name[-2])], -1.0),
                rand(2, 3, 4, 5))


def test_layer_attributes_and_repr():
    for name in ('ReflectionPad2d', 'ZeroPad2d', 'CircularPad3d', 'ReplicationPad1d'):
        ours, theirs = getattr(nn, name)(2), getattr(torch.nn, name)(2)
        assert ours.padding == theirs.padding and repr(ours) == repr(theirs)
    ours, theirs = nn.ConstantPad2d((1, 2, 3, 4), 3.5), torch.nn.ConstantPad2d((1, 2, 3, 4), 3.5)
    assert (ours.padding, ours.value, repr(ours)) == (theirs.padding, theirs.value, repr(theirs))
    assert nn.ReflectionPad1d([1, 2]).padding == (1, 2)


def test_errors():
    x = rand(2, 3, 4)
    check_raises(padded((4, 0), 'reflect'), x, match='Padding size should be less than')
    check_raises(padded((0, 2, 3, 0), 'reflect'), x)
    check_raises(padded((5, 0), 'circular'), x, match='wrapping around more than once')
    check_raises(padded((1, 1), 'reflect'), rand(4))                   # 1-D: NotImplementedError
    check_raises(padded((1, 1, 1), 'constant'), x)                      # odd length
    check_raises(padded((1,) * 8, 'constant'), x)                       # more dims than input
    check_raises(padded((1, 1), 'replicate', 2.0), x)                   # value with a mode
    check_raises(padded((-3, -2), 'replicate'), x)                      # negative size
    check_raises(padded((0, 0, -4, 2), 'constant'), x)                  # narrow past the end
    check_raises(lambda lib, t: nn_of(lib).CircularPad2d(1)(t), rand(4), match='expected 3D or 4D')
    check_raises(padded((1, 1), 'wrap'), x)                             # NotImplementedError
