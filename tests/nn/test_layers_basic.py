"""Linear, Bilinear, Identity, Flatten, Embedding, activations and dropout against PyTorch:
same weights (loaded through state_dict), same float64 inputs; outputs, input gradients,
parameter gradients and buffers compared.  Functional helpers (pad, one_hot, normalize,
distances) with the op oracle."""
import warnings

import numpy as np
import pytest

import autograd
import nn
from layer_check import check_layer, count_parameters
from oracle import check_op, check_raises, rand, to_numpy, torch, functional as F



# ----------------------------------------------------------------------------- linear layers

@pytest.mark.parametrize('shape', [(5, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize('bias', [True, False])
def test_linear(shape, bias):
    check_layer(lambda lnn: lnn.Linear(3, 6, bias=bias), rand(*shape))


def test_linear_state_dict_and_parameter_count():
    theirs, ours = torch.nn.Linear(7, 5), nn.Linear(7, 5)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert count_parameters(ours) == count_parameters(theirs) == 40
    assert ours.weight.shape == (5, 7) and nn.Linear(7, 5, bias=False).bias is None


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_functional_linear_double_backward(dtype):
    check_op(lambda lib, x, w, b: F(lib).linear(x, w, b), rand(4, 3, dtype=dtype),
             rand(5, 3, seed=1, dtype=dtype), rand(5, seed=2, dtype=dtype))


def test_functional_linear_without_bias_double_backward():
    check_op(lambda lib, x, w: F(lib).linear(x, w) ** 2, rand(2, 4, 3), rand(5, 3, seed=1))


def test_linear_errors_match_pytorch():
    check_raises(lambda lib, x, w: F(lib).linear(x, w), rand(2, 4, 3), rand(5, 2),
                 match=r'mat1 and mat2 shapes cannot be multiplied \(8x3 and 2x5\)')
    check_raises(lambda lib, x, w: F(lib).linear(x, w), rand(2, 3),
                 rand(5, 3).astype('float32'), match='same dtype')


@pytest.mark.parametrize('shape', [(4,), (2, 3)])
def test_bilinear(shape):
    check_layer(lambda lnn: lnn.Bilinear(3, 2, 5), rand(*shape, 3), rand(*shape, 2, seed=1))
    check_layer(lambda lnn: lnn.Bilinear(3, 2, 5, bias=False), rand(*shape, 3),
                rand(*shape, 2, seed=1))


def test_identity_flatten_unflatten():
    check_layer(lambda lnn: lnn.Identity(54, unused='x'), rand(2, 3))
    check_layer(lambda lnn: lnn.Flatten(), rand(2, 3, 4))
    check_layer(lambda lnn: lnn.Flatten(0, 1), rand(2, 3, 4))
    check_layer(lambda lnn: lnn.Unflatten(1, (2, 6)), rand(3, 12, 2))


@pytest.mark.parametrize('shape, r', [((2, 8, 3, 2), 2), ((18, 2, 3), 3), ((2, 3, 4, 1, 2), 2),
                                      ((1, 5, 2, 3), 1)])
def test_pixel_shuffle_and_unshuffle(shape, r):
    """F.pixel_shuffle / pixel_unshuffle (and their layers) as PyTorch's: values, gradients,
    second order, with batch dims of any number; unshuffle undoes shuffle."""
    check_op(lambda lib, x: F(lib).pixel_shuffle(x, r) ** 2, rand(*shape))
    *b, c, h, w = shape
    check_op(lambda lib, x: F(lib).pixel_unshuffle(x, r) ** 2, rand(*b, c // (r * r), h * r, w * r))
    check_layer(lambda lnn: lnn.PixelShuffle(r), rand(*shape))
    check_layer(lambda lnn: lnn.PixelUnshuffle(r), rand(*b, c // (r * r), h * r, w * r))
    x = autograd.tensor(rand(*shape), requires_grad=True)
    y = nn.functional.pixel_shuffle(x, r)
    assert y.is_contiguous() and y.grad_fn.name() == 'PixelShuffleBackward0'
    assert nn.functional.pixel_unshuffle(y, r).grad_fn.name() == 'PixelUnshuffleBackward0'
    assert autograd.equal(nn.functional.pixel_unshuffle(y, r), x)
    assert repr(nn.PixelShuffle(3)) == 'PixelShuffle(upscale_factor=3)'
    assert repr(nn.PixelUnshuffle(2)) == 'PixelUnshuffle(downscale_factor=2)'


def test_pixel_shuffle_errors_match_pytorch():
    check_raises(lambda lib, x: F(lib).pixel_shuffle(x, 2), rand(8, 3),
                 match='pixel_shuffle expects input to have at least 3 dimensions, but got '
                       r'input with 2 dimension\(s\)')
    check_raises(lambda lib, x: F(lib).pixel_shuffle(x, 2), rand(1, 5, 2, 2),
                 match=r"pixel_shuffle expects its input's 'channel' dimension to be divisible "
                       r'by the square of upscale_factor, but input.size\(-3\)=5 is not '
                       'divisible by 4')
    check_raises(lambda lib, x: F(lib).pixel_shuffle(x, 0), rand(1, 4, 2, 2),
                 match='pixel_shuffle expects a positive upscale_factor, but got 0')
    check_raises(lambda lib, x: F(lib).pixel_shuffle(x, 2.0), rand(1, 4, 2, 2),
                 match="argument 'upscale_factor' .* must be int, not float")
    check_raises(lambda lib, x: F(lib).pixel_unshuffle(x, 2), rand(1, 1, 3, 2),
                 match=r'pixel_unshuffle expects height to be divisible by downscale_factor, '
                       r'but input.size\(-2\)=3 is not divisible by 2')
    check_raises(lambda lib, x: F(lib).pixel_unshuffle(x, 2), rand(1, 1, 2, 3),
                 match=r'pixel_unshuffle expects width to be divisible by downscale_factor, '
                       r'but input.size\(-1\)=3 is not divisible by 2')
    check_raises(lambda lib, x: F(lib).pixel_unshuffle(x, -1), rand(1, 1, 2, 2),
                 match='pixel_unshuffle expects a positive downscale_factor, but got -1')


# ----------------------------------------------------------------------------- embedding

IDX = np.array([[0, 2, 2, 5], [1, 0, 3, 5]])


@pytest.mark.parametrize('kw', [{}, dict(padding_idx=2), dict(padding_idx=-1),
                                dict(scale_grad_by_freq=True),
                                dict(padding_idx=0, scale_grad_by_freq=True)])
def test_embedding(kw):
    # the padding row's zero gradient and scale_grad_by_freq are not derivatives
    check_layer(lambda lnn: lnn.Embedding(6, 3, **kw), IDX, derivative=not kw)


def test_embedding_padding_row_starts_at_zero_and_gets_no_gradient():
    e = nn.Embedding(6, 3, padding_idx=2)
    assert np.all(to_numpy(e.weight.detach())[2] == 0)
    e(autograd.tensor(IDX)).sum().backward()
    assert np.all(to_numpy(e.weight.grad)[2] == 0)
    assert np.all(to_numpy(e.weight.grad)[0] == 2)          # index 0 appears twice


def test_embedding_max_norm_renormalises_looked_up_rows():
    w = rand(6, 3, low=-3, high=3)
    for kw in [dict(max_norm=1.0), dict(max_norm=0.5, norm_type=1.0)]:
        theirs = torch.tensor(w)
        ours = autograd.tensor(w)
        t_out = F(torch).embedding(torch.tensor(IDX), theirs, **kw)
        o_out = nn.functional.embedding(autograd.tensor(IDX), ours, **kw)
        np.testing.assert_allclose(to_numpy(o_out), to_numpy(t_out), rtol=1e-12)
        np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=1e-12)


@pytest.mark.parametrize('kw', [{}, dict(padding_idx=3)])
def test_embedding_double_backward(kw):
    check_op(lambda lib, w: (F(lib).embedding(lib.tensor(IDX), w, **kw) ** 2), rand(6, 3),
             derivative=not kw)         # the padding row gets no gradient


def test_embedding_from_pretrained_and_errors():
    w = autograd.tensor(rand(4, 2))
    e = nn.Embedding.from_pretrained(w)
    assert not e.weight.requires_grad and e.weight._data is w._data
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    check_raises(lambda lib, w: F(lib).embedding(lib.tensor([0, 4]), w), rand(4, 2))
    check_raises(lambda lib, w: F(lib).embedding(lib.tensor([0.0]), w), rand(4, 2))
    with pytest.raises(AssertionError):
        nn.Embedding(3, 2, padding_idx=5)


def test_one_hot():
    for num in (-1, 6):
        t = F(torch).one_hot(torch.tensor(IDX), num)
        o = nn.functional.one_hot(autograd.tensor(IDX), num)
        assert o.dtype == autograd.int64
        np.testing.assert_array_equal(to_numpy(o), to_numpy(t))
    check_raises(lambda lib: F(lib).one_hot(lib.tensor([1, 5]), 3), match='smaller')
    check_raises(lambda lib: F(lib).one_hot(lib.tensor([1, -1]), 3), match='non-negative')


# ----------------------------------------------------------------------------- activations

ACTIVATIONS = [
    ('ReLU', ()), ('ReLU6', ()), ('LeakyReLU', (0.2,)), ('ELU', (1.3,)), ('CELU', (0.5,)),
    ('SELU', ()), ('GELU', ()), ('GELU', ('tanh',)), ('SiLU', ()), ('Mish', ()),
    ('Softplus', ()), ('Softplus', (2.0, 1.0)), ('Sigmoid', ()), ('Tanh', ()),
    ('Hardtanh', ()), ('Hardtanh', (-0.5, 2.0)), ('Hardsigmoid', ()), ('Hardswish', ()),
    ('LogSigmoid', ()), ('Tanhshrink', ()), ('Softsign', ()), ('Softshrink', (0.3,)),
    ('Hardshrink', (0.3,)), ('Threshold', (0.2, -1.0)), ('GLU', ()), ('Softmax', (1,)),
    ('LogSoftmax', (1,)), ('Softmin', (0,)), ('Softmax', (-1,)),
]


@pytest.mark.parametrize('name,args', ACTIVATIONS)
def test_activation_layers(name, args):
    x = rand(4, 6, low=-4, high=4, away_from=0.0)
    check_layer(lambda lnn: getattr(lnn, name)(*args), x)


@pytest.mark.parametrize('name,args', ACTIVATIONS)
def test_activation_reprs_match_torch(name, args):
    assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


FUNCTIONAL = ['relu', 'relu6', 'leaky_relu', 'elu', 'selu', 'gelu', 'silu', 'mish',
              'softplus', 'hardtanh', 'hardswish', 'logsigmoid', 'tanhshrink', 'softsign',
              'softshrink', 'hardshrink', 'glu']


@pytest.mark.parametrize('name', FUNCTIONAL)
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('shape', [(), (6,), (2, 3, 4)])
def test_functional_activations_second_order(name, dtype, shape):
    if name == 'glu':
        shape = (2, 4)
    x = rand(*shape, low=-4, high=4, dtype=dtype, away_from=0.0, seed=1)
    check_op(lambda lib, x: getattr(F(lib), name)(x), x)


def test_large_inputs_stay_finite():
    x = np.array([-1e4, -50.0, 0.0, 50.0, 1e4])
    for name in ['softplus', 'logsigmoid', 'silu', 'mish', 'elu', 'selu', 'gelu']:
        check_op(lambda lib, x: getattr(F(lib), name)(x), x, double=False)


def test_celu_and_elu_double_backward():
    x = rand(5, away_from=0.0)
    check_op(lambda lib, x: F(lib).celu(x, 0.5), x)
    check_op(lambda lib, x: F(lib).elu(x, 0.7), x)


def test_hardsigmoid_first_order():
    check_op(lambda lib, x: F(lib).hardsigmoid(x), rand(10, low=-4, high=4, away_from=3.0),
             double=False)


@pytest.mark.parametrize('num', [1, 3])
@pytest.mark.parametrize('shape', [(2, 3), (2, 3, 4), (2, 3, 4, 5)])
def test_prelu(num, shape):
    check_layer(lambda lnn: lnn.PReLU(num, init=0.1), rand(*shape, away_from=0.0))


def test_prelu_functional_second_order():
    check_op(lambda lib, x, w: F(lib).prelu(x, w), rand(2, 3, 4, away_from=0.0), rand(3, seed=3))


@pytest.mark.parametrize('name,kw', [('relu', {}), ('leaky_relu', dict(negative_slope=0.1)),
                                     ('elu', {}), ('hardtanh', {}), ('silu', {}),
                                     ('threshold', dict(threshold=0.1, value=2.0))])
def test_inplace_activations(name, kw):
    def fn(lib, x):
        y = x * 1
        out = getattr(F(lib), name)(y, inplace=True, **kw)
        assert out is y
        return out
    check_op(fn, rand(3, 4, away_from=0.0))


def test_inplace_on_leaf_raises():
    x = autograd.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match='leaf'):
        nn.functional.relu(x, inplace=True)


def test_softmax_implicit_dim_warns():
    with pytest.warns(UserWarning, match='Implicit dimension'):
        nn.functional.softmax(autograd.ones(2, 3))


# ----------------------------------------------------------------------------- dropout

def test_dropout_eval_is_identity_and_p0_passes_through():
    x = autograd.randn(4, 5)
    d = nn.Dropout(0.5).eval()
    assert d(x) is x
    assert nn.functional.dropout(x, 0.0) is x


def test_dropout_statistics_and_gradient():
    autograd.manual_seed(0)
    p = 0.3
    x = autograd.ones(200, 500, requires_grad=True)
    y = nn.Dropout(p)(x)
    out = to_numpy(y.detach())
    kept = out != 0
    assert abs(kept.mean() - (1 - p)) < 0.01
    np.testing.assert_allclose(out[kept], 1 / (1 - p))
    y.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), out)         # d(x * m)/dx = m


def test_dropout_p1_zeroes_and_bad_p_raises():
    x = autograd.ones(3, 3)
    assert np.all(to_numpy(nn.functional.dropout(x, 1.0)) == 0)
    with pytest.raises(ValueError):
        nn.Dropout(1.5)
    with pytest.raises(ValueError):
        nn.functional.dropout(x, -0.1)


def test_dropout_inplace_writes_input():
    autograd.manual_seed(1)
    x = autograd.ones(10, 10)
    out = nn.functional.dropout(x, 0.5, inplace=True)
    assert out is x and (to_numpy(x) == 0).any()


@pytest.mark.parametrize('cls,shape', [('Dropout2d', (8, 16, 3, 3)), ('Dropout1d', (8, 16, 5)),
                                       ('Dropout1d', (16, 5)), ('Dropout3d', (4, 8, 2, 2, 2))])
def test_channel_dropout_zeroes_whole_channels(cls, shape):
    autograd.manual_seed(2)
    y = to_numpy(getattr(nn, cls)(0.5)(autograd.ones(*shape)))
    lead = 2 if len(shape) > 2 and not (cls == 'Dropout1d' and len(shape) == 2) else 1
    per_channel = y.reshape(shape[:lead] + (-1,))
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert 0.2 < (per_channel[..., 0] == 0).mean() < 0.8


def test_alpha_dropout_keeps_mean_and_variance():
    autograd.manual_seed(3)
    x = autograd.randn(400, 500)
    y = to_numpy(nn.AlphaDropout(0.2).train()(x))
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    assert nn.AlphaDropout(0.2).eval()(x) is x


def test_dropout_repr():
    for name in ['Dropout', 'Dropout1d', 'Dropout2d', 'Dropout3d', 'AlphaDropout']:
        assert repr(getattr(nn, name)(0.2, True)) == repr(getattr(torch.nn, name)(0.2, True))


# ----------------------------------------------------------------------------- functional misc

PADS = [((1, 2), 'constant'), ((1, 2, 0, 1), 'constant'), ((-1, 2, 1, -1), 'constant'),
        ((2, 3), 'reflect'), ((1, 2, 2, 1), 'reflect'), ((-1, 1), 'reflect'),
        ((2, 3), 'replicate'), ((5, 3, 1, 1), 'replicate'), ((4, 2), 'circular'),
        ((1, 2, 3, 1), 'circular')]


@pytest.mark.parametrize('pad,mode', PADS)
def test_pad(pad, mode):
    check_op(lambda lib, x: F(lib).pad(x, pad, mode), rand(2, 3, 4))


def test_pad_value_and_5d_modes():
    check_op(lambda lib, x: F(lib).pad(x, (1, 1, 0, 2), value=-3.5), rand(2, 3))
    for mode in ['reflect', 'replicate', 'circular']:
        check_op(lambda lib, x: F(lib).pad(x, (1, 1, 2, 0, 1, 1), mode), rand(1, 2, 3, 4, 3))


@pytest.mark.parametrize('pad,mode,shape', [((1,), 'constant', (2, 3)),
                                            ((1, 1) * 4, 'constant', (2, 3, 4)),
                                            ((4, 4), 'reflect', (2, 3, 4)),
                                            ((5, 5), 'circular', (2, 3, 4)),
                                            ((1, 1), 'reflect', (4,)),
                                            ((1, 1), 'wrap', (2, 3))])
def test_pad_errors(pad, mode, shape):
    check_raises(lambda lib, x: F(lib).pad(x, pad, mode), rand(*shape))


@pytest.mark.parametrize('p,dim', [(2, 1), (1, 0), (3, -1)])
def test_normalize(p, dim):
    check_op(lambda lib, x: F(lib).normalize(x, p, dim), rand(3, 4, 2))


def test_cosine_similarity_and_pairwise_distance():
    a, b = rand(3, 4), rand(3, 4, seed=2)
    check_op(lambda lib, a, b: F(lib).cosine_similarity(a, b), a, b)
    check_op(lambda lib, a, b: F(lib).cosine_similarity(a, b, dim=-1, eps=1e-3), rand(2, 3, 4),
             rand(3, 4, seed=5))
    for p in [1, 2, 3, float('inf')]:
        check_op(lambda lib, a, b: F(lib).pairwise_distance(a, b, p=p), a, b)
    check_op(lambda lib, a, b: F(lib).pairwise_distance(a, b, keepdim=True), a, rand(4, seed=3))


def test_cosine_similarity_of_tiny_vectors_is_clamped():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        check_op(lambda lib, a, b: F(lib).cosine_similarity(a, b), rand(2, 3) * 1e-10,
                 rand(2, 3, seed=4), double=False)


def test_rrelu_eval_is_leaky_relu_with_mean_slope():
    check_op(lambda lib, x: F(lib).rrelu(x, 0.1, 0.3, training=False), rand(3, 4, away_from=0.0))
    assert repr(nn.RReLU(0.1, 0.3)) == repr(torch.nn.RReLU(0.1, 0.3))


def test_rrelu_training_slopes_lie_in_range():
    autograd.manual_seed(4)
    x = -autograd.rand(1000) - 0.5
    slope = to_numpy(nn.functional.rrelu(x, 0.1, 0.3, training=True)) / to_numpy(x)
    assert slope.min() >= 0.1 and slope.max() <= 0.3 and slope.std() > 0.03


@pytest.mark.parametrize('fn', [
    lambda y: nn.functional.rrelu(y, training=True, inplace=True),
    lambda y: nn.functional.dropout1d(y, 0.5, True, inplace=True),
    lambda y: nn.functional.alpha_dropout(y, 0.5, True, inplace=True),
    lambda y: nn.functional.dropout(y, 0.5, True, inplace=True)])
def test_composite_inplace_forms_backpropagate(fn):
    x = autograd.randn(4, 5, requires_grad=True)
    y = x * 1
    out = fn(y)
    assert out is y
    out.sum().backward()
    assert x.grad is not None and x.grad.shape == (4, 5)


def test_softmax2d():
    check_layer(lambda lnn: lnn.Softmax2d(), rand(2, 3, 2, 2))
    check_layer(lambda lnn: lnn.Softmax2d(), rand(3, 2, 2))
