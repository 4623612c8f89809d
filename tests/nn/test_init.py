"""Initialisers: distributions, bounds and scales (fan-in/out, gain) checked statistically
against their definitions, and PyTorch's default layer initialisation."""
import math

import numpy as np
import pytest

import autograd
import nn
from nn import init
from oracle import each_library, to_numpy, torch, torch_module

torch_nn = torch_module('torch.nn')


def sample(shape, fn, *args, **kw):
    autograd.manual_seed(0)
    t = autograd.empty(*shape, requires_grad=True)
    out = fn(t, *args, **kw)
    assert out is t and t.is_leaf and t.grad_fn is None
    return to_numpy(t.detach())


@pytest.mark.parametrize('nonlinearity,param,expected', [
    ('linear', None, 1), ('conv2d', None, 1), ('sigmoid', None, 1), ('tanh', None, 5 / 3),
    ('relu', None, math.sqrt(2)), ('leaky_relu', None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ('leaky_relu', 0.2, math.sqrt(2 / 1.04)), ('selu', None, 0.75)])
def test_calculate_gain_matches_pytorch(nonlinearity, param, expected):
    for lnn in each_library(torch_nn, nn):
        assert lnn.init.calculate_gain(nonlinearity, param) == pytest.approx(expected)


def test_calculate_gain_errors():
    with pytest.raises(ValueError):
        init.calculate_gain('swish')
    with pytest.raises(ValueError):
        init.calculate_gain('leaky_relu', 'x')


# (out, in, *kernel): fan_in = in * kernel size, fan_out = out * kernel size
@pytest.mark.parametrize('shape,fans', [((5, 3), (3, 5)), ((8, 4, 3, 3), (36, 72)),
                                        ((2, 6, 5), (30, 10))])
def test_fan_in_and_fan_out(shape, fans):
    for lib, lnn in each_library((torch, torch_nn), (autograd, nn)):
        assert lnn.init._calculate_fan_in_and_fan_out(lib.empty(*shape)) == fans


def test_fan_needs_two_dims():
    with pytest.raises(ValueError):
        init._calculate_fan_in_and_fan_out(autograd.empty(4))


def test_uniform_and_normal():
    u = sample((200, 300), init.uniform_, -2.0, 3.0)
    assert u.min() >= -2 and u.max() < 3
    assert abs(u.mean() - 0.5) < 0.02 and abs(u.var() - 25 / 12) < 0.05
    n = sample((200, 300), init.normal_, 1.5, 0.5)
    assert abs(n.mean() - 1.5) < 0.01 and abs(n.std() - 0.5) < 0.01


def test_trunc_normal_stays_in_bounds_with_the_right_moments():
    t = sample((300, 300), init.trunc_normal_, 0.0, 1.0, -1.0, 2.0)
    assert t.min() >= -1 and t.max() <= 2
    # moments of N(0, 1) truncated to [a, b]: mean (phi(a) - phi(b)) / Z
    phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    Phi = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))
    Z = Phi(2.0) - Phi(-1.0)
    mean = (phi(-1.0) - phi(2.0)) / Z
    var = 1 + (-1.0 * phi(-1.0) - 2.0 * phi(2.0)) / Z - mean ** 2
    assert abs(t.mean() - mean) < 0.01 and abs(t.var() - var) < 0.01


def test_constant_zeros_ones_eye():
    assert np.all(sample((3, 4), init.constant_, 2.5) == 2.5)
    assert np.all(sample((3, 4), init.zeros_) == 0)
    assert np.all(sample((3, 4), init.ones_) == 1)
    np.testing.assert_array_equal(sample((3, 4), init.eye_), np.eye(3, 4))
    with pytest.raises(ValueError):
        init.eye_(autograd.empty(2, 2, 2))


@pytest.mark.parametrize('shape,groups', [((4, 4, 3), 1), ((6, 3, 3, 3), 2), ((2, 3, 3, 3, 3), 1)])
def test_dirac_matches_pytorch(shape, groups):
    theirs = torch.nn.init.dirac_(torch.empty(*shape), groups)
    np.testing.assert_array_equal(sample(shape, init.dirac_, groups), theirs.numpy())


@pytest.mark.parametrize('shape', [(300, 200), (64, 32, 3, 3)])
def test_xavier(shape):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(autograd.empty(*shape))
    std = 1.5 * math.sqrt(2 / (fan_in + fan_out))
    u = sample(shape, init.xavier_uniform_, gain=1.5)
    bound = math.sqrt(3) * std
    assert np.abs(u).max() <= bound and np.abs(u).max() > 0.99 * bound
    assert abs(u.std() - std) < 0.02 * std
    n = sample(shape, init.xavier_normal_, gain=1.5)
    assert abs(n.std() - std) < 0.02 * std and abs(n.mean()) < 0.02 * std


@pytest.mark.parametrize('mode', ['fan_in', 'fan_out'])
@pytest.mark.parametrize('nonlinearity,a', [('relu', 0), ('leaky_relu', 0.1), ('tanh', 0)])
def test_kaiming(mode, nonlinearity, a):
    shape = (256, 128, 3)
    fan = 128 * 3 if mode == 'fan_in' else 256 * 3
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    u = sample(shape, init.kaiming_uniform_, a, mode, nonlinearity)
    bound = math.sqrt(3) * std
    assert np.abs(u).max() <= bound and np.abs(u).max() > 0.99 * bound
    assert abs(u.std() - std) < 0.02 * std
    n = sample(shape, init.kaiming_normal_, a, mode, nonlinearity)
    assert abs(n.std() - std) < 0.02 * std


def test_kaiming_errors():
    with pytest.raises(ValueError, match='Mode'):
        init.kaiming_uniform_(autograd.empty(3, 3), mode='fan_avg')
    with pytest.warns(UserWarning, match='zero-element'):
        init.kaiming_uniform_(autograd.empty(0, 3))


@pytest.mark.parametrize('shape', [(6, 4), (4, 6), (5, 2, 3)])
def test_orthogonal(shape):
    q = sample(shape, init.orthogonal_, 2.0).reshape(shape[0], -1)
    rows, cols = q.shape
    gram = q @ q.T if rows <= cols else q.T @ q
    np.testing.assert_allclose(gram, 4 * np.eye(min(rows, cols)), atol=1e-5)
    with pytest.raises(ValueError):
        init.orthogonal_(autograd.empty(3))


def test_sparse_zeros_per_column():
    s = sample((10, 40), init.sparse_, 0.3, 0.5)
    assert np.all((s == 0).sum(0) >= 3)
    assert abs(s[s != 0].std() - 0.5) < 0.1


def test_generator_makes_draws_reproducible():
    dev = autograd.get_default_device()        # a generator draws on its own device
    g1, g2 = autograd.Generator(dev).manual_seed(5), autograd.Generator(dev).manual_seed(5)
    a = init.normal_(autograd.empty(4), generator=g1)
    b = init.normal_(autograd.empty(4), generator=g2)
    np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


def test_linear_default_init_matches_pytorch_distribution():
    autograd.manual_seed(1)
    m = nn.Linear(400, 300)
    w, b = to_numpy(m.weight.detach()), to_numpy(m.bias.detach())
    bound = 1 / math.sqrt(400)       # kaiming_uniform(a=sqrt 5) gives U(-1/sqrt(fan_in), ...)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert np.abs(b).max() <= bound and abs(b.std() - bound / math.sqrt(3)) < 0.1 * bound


def test_embedding_and_prelu_default_init():
    autograd.manual_seed(2)
    w = to_numpy(nn.Embedding(500, 200).weight.detach())
    assert abs(w.std() - 1) < 0.01 and abs(w.mean()) < 0.01
    assert np.all(to_numpy(nn.PReLU(3).weight.detach()) == 0.25)


def test_bilinear_default_init_bound():
    autograd.manual_seed(3)
    m = nn.Bilinear(16, 5, 7)
    assert np.abs(to_numpy(m.weight.detach())).max() <= 1 / 4
    assert np.abs(to_numpy(m.bias.detach())).max() <= 1 / 4
