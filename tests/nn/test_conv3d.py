"""3-d convolution and pooling against PyTorch (float64 values, gradients, second
derivatives), layers with PyTorch's weights, PyTorch's errors, the 1-d relatives that share
the code, and pooling without host reads.  Shapes are tiny: 3-d ops are slow in NumPy."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn
import nn.functional as F
from layer_check import check_layer
from oracle import check_op, check_raises, rand, to_numpy, torch

SMALL = settings(max_examples=12, deadline=None, derandomize=True)


def fn(lib):
    return torch.nn.functional if lib is torch else F


def squared(pool):
    """pool(x)^2, so that the pooling's backward is differentiated too."""
    def run(lib, x):
        out = pool(lib, x)
        if isinstance(out, tuple):
            return out[0] ** 2, out[1]
        return out ** 2
    return run


# ----------------------------------------------------------------------------- conv3d

CONV3D = [
    dict(),
    dict(stride=2, padding=1),
    dict(stride=(1, 2, 1), padding=(1, 0, 1), dilation=(2, 1, 1)),
    dict(padding='same', dilation=(1, 2, 1)),
    dict(padding='valid', stride=(2, 1, 2)),
    dict(groups=2, padding=1),
]


@pytest.mark.parametrize('kw', CONV3D)
def test_conv3d_matches_torch_to_second_order(kw):
    g = kw.get('groups', 1)
    check_op(lambda lib, x, w, b: fn(lib).conv3d(x, w, b, **kw), rand(2, 4, 4, 5, 4),
             rand(4, 4 // g, 2, 3, 2, seed=1), rand(4, seed=2))


def test_conv3d_without_bias_unbatched_and_float32():
    check_op(lambda lib, x, w: fn(lib).conv3d(x, w, stride=2), rand(2, 5, 4, 5),
             rand(3, 2, 3, 2, 3))
    check_op(lambda lib, x, w: fn(lib).conv3d(x, w, padding=1),
             rand(1, 2, 3, 4, 3, dtype='float32'), rand(3, 2, 2, 2, 2, seed=1, dtype='float32'))


@SMALL
@given(st.data())
def test_conv3d_random_configurations(data):
    groups = data.draw(st.sampled_from([1, 2]))
    k = tuple(data.draw(st.integers(1, 2)) for _ in range(3))
    stride = tuple(data.draw(st.integers(1, 2)) for _ in range(3))
    dilation = tuple(data.draw(st.integers(1, 2)) for _ in range(3))
    padding = tuple(data.draw(st.integers(0, 1)) for _ in range(3))
    size = tuple(data.draw(st.integers(3, 4)) for _ in range(3))
    x, w = rand(1, 2, *size, seed=3), rand(2, 2 // groups, *k, seed=4)
    check_op(lambda lib, x, w: fn(lib).conv3d(x, w, None, stride, padding, dilation, groups),
             x, w)


CONV_T3D = [
    dict(),
    dict(stride=2, padding=1, output_padding=1),
    dict(stride=(2, 1, 2), padding=(0, 1, 0), dilation=(1, 2, 1), groups=2,
         output_padding=(1, 0, 0)),
]


@pytest.mark.parametrize('kw', CONV_T3D)
def test_conv_transpose3d_matches_torch_to_second_order(kw):
    g = kw.get('groups', 1)
    check_op(lambda lib, x, w, b: fn(lib).conv_transpose3d(x, w, b, **kw), rand(2, 4, 3, 3, 2),
             rand(4, 4 // g, 2, 3, 2, seed=1), rand(4, seed=2))


@SMALL
@given(st.data())
def test_conv_transpose3d_random_configurations(data):
    stride = tuple(data.draw(st.integers(1, 3)) for _ in range(3))
    dilation = tuple(data.draw(st.integers(1, 2)) for _ in range(3))
    padding = tuple(data.draw(st.integers(0, 1)) for _ in range(3))
    out_pad = tuple(data.draw(st.integers(0, max(s, dl) - 1)) for s, dl in zip(stride, dilation))
    check_op(lambda lib, x, w: fn(lib).conv_transpose3d(x, w, None, stride, padding, out_pad,
                                                        1, dilation),
             rand(1, 2, 2, 3, 2, seed=5), rand(2, 3, 2, 2, 2, seed=6))


@pytest.mark.parametrize('kw', [dict(), dict(stride=3, padding=2, output_padding=2, dilation=2),
                                dict(stride=2, groups=3, output_padding=1)])
def test_conv_transpose1d_still_matches_torch(kw):
    g = kw.get('groups', 1)
    check_op(lambda lib, x, w, b: fn(lib).conv_transpose1d(x, w, b, **kw), rand(2, 3, 5),
             rand(3, 6 // g, 3, seed=1), rand(6, seed=2))


def test_conv_transpose1d_layer_and_max_unpool1d_still_match_torch():
    """The 1-d relatives that run on the same n-d code."""
    check_layer(lambda nn: nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1, groups=1),
                rand(2, 3, 5), call=lambda layer, x: layer(x, output_size=(10,)))

    def run(lib, x):
        y, idx = fn(lib).max_pool1d(x, 3, 2, 1, return_indices=True)
        return fn(lib).max_unpool1d(y * y, idx, 3, 2, 1, output_size=(9,))
    check_op(run, rand(2, 3, 9))


@pytest.mark.parametrize('build', [
    lambda nn: nn.Conv3d(2, 4, 3, padding=1),
    lambda nn: nn.Conv3d(2, 4, (2, 3, 1), stride=2, groups=2, bias=False),
    lambda nn: nn.Conv3d(2, 2, 3, padding='same', padding_mode='reflect'),
    lambda nn: nn.Conv3d(2, 2, 2, padding=1, padding_mode='replicate'),
    lambda nn: nn.Conv3d(2, 2, 3, padding=(1, 2, 1), padding_mode='circular'),
    lambda nn: nn.ConvTranspose3d(2, 4, 3, stride=2, padding=1, output_padding=1),
], ids=['plain', 'strided-groups', 'same-reflect', 'replicate', 'circular', 'transpose'])
def test_conv3d_layers_match_torch(build):
    check_layer(build, rand(2, 2, 3, 4, 3))


@pytest.mark.parametrize('mode', ['reflect', 'replicate', 'circular'])
def test_conv3d_layer_pads_unbatched_input_as_torch(mode):
    check_layer(lambda nn: nn.Conv3d(2, 3, 3, padding=1, padding_mode=mode), rand(2, 3, 4, 3))


def test_conv_transpose3d_layer_output_size_matches_torch():
    check_layer(lambda nn: nn.ConvTranspose3d(2, 2, 3, stride=2), rand(1, 2, 2, 3, 2),
                call=lambda layer, x: layer(x, output_size=(6, 8, 5)))


def test_conv3d_layer_state_and_repr_match_torch():
    for build in (lambda nn: nn.Conv3d(4, 6, (3, 1, 2), stride=(2, 1, 1), dilation=2, groups=2),
                  lambda nn: nn.ConvTranspose3d(4, 6, 2, output_padding=1, stride=2)):
        theirs, ours = build(torch.nn), build(nn)
        assert repr(ours) == repr(theirs)
        assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
            {k: tuple(v.shape) for k, v in theirs.state_dict().items()}


def test_conv3d_errors_match_torch():
    x, w = rand(1, 2, 3, 3, 3), rand(2, 2, 2, 2, 2)
    check_raises(lambda lib, x, w: fn(lib).conv3d(x, w), rand(1, 2, 3, 3), w,
                 match='expected input')
    check_raises(lambda lib, x, w: fn(lib).conv3d(x, w), x, rand(2, 2, 2, 2))
    check_raises(lambda lib, x, w: fn(lib).conv3d(x, w, stride=2, padding='same'), x, w,
                 match='strided')
    check_raises(lambda lib, x, w: fn(lib).conv3d(x, w), rand(1, 2, 1, 3, 3), w,
                 match="Kernel size can't be greater")
    check_raises(lambda lib, x, w: fn(lib).conv_transpose3d(x, w, stride=2, output_padding=2),
                 x, w, match='output_padding_depth: 2')
    check_raises(lambda lib, x, w: fn(lib).conv3d(x, w, groups=2), x, w,
                 match='expected input')


# ----------------------------------------------------------------------------- pooling

MAX3D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3, 2), stride=(1, 2, 1), dilation=(2, 1, 1), ceil_mode=True),
    dict(kernel_size=2, stride=2, padding=1, ceil_mode=True),
]


@pytest.mark.parametrize('kw', MAX3D)
@pytest.mark.parametrize('return_indices', [False, True])
def test_max_pool3d_matches_torch_to_second_order(kw, return_indices):
    check_op(squared(lambda lib, x: fn(lib).max_pool3d(x, return_indices=return_indices, **kw)),
             rand(2, 2, 5, 4, 5))


@SMALL
@given(st.data())
def test_max_and_avg_pool3d_random_configurations(data):
    k = tuple(data.draw(st.integers(1, 3)) for _ in range(3))
    stride = tuple(data.draw(st.integers(1, 2)) for _ in range(3))
    pad = tuple(data.draw(st.integers(0, kk // 2)) for kk in k)
    ceil = data.draw(st.booleans())
    include = data.draw(st.booleans())
    x = rand(1, 2, 4, 5, 4, seed=7)
    check_op(lambda lib, x: fn(lib).max_pool3d(x, k, stride, pad, 1, ceil, True), x,
             double=False)
    check_op(lambda lib, x: fn(lib).avg_pool3d(x, k, stride, pad, ceil, include), x)


def test_max_pool3d_unbatched_float32_and_integers():
    check_op(lambda lib, x: fn(lib).max_pool3d(x, 2, return_indices=True), rand(2, 4, 4, 4))
    check_op(lambda lib, x: fn(lib).max_pool3d(x, 2), rand(1, 2, 4, 4, 4, dtype='float32'))
    ints = (np.arange(2 * 4 * 4 * 4).reshape(1, 2, 4, 4, 4) * 7) % 11
    check_op(lambda lib, x: fn(lib).max_pool3d(x, 2, 1, 1, return_indices=True), ints)


def test_max_pool3d_propagates_nan_and_routes_gradients_to_it():
    x = rand(1, 1, 4, 4, 4)
    x[0, 0, 1, 2, 0] = np.nan
    x[0, 0, 0, 0, 1] = np.nan
    check_op(lambda lib, x: fn(lib).max_pool3d(x, 2, return_indices=True), x, double=False)


def test_max_pool_padding_never_wins_a_window_of_minus_inf():
    x = np.full((1, 1, 3, 3, 3), -np.inf)
    check_op(lambda lib, x: fn(lib).max_pool3d(x, 3, 1, 1, return_indices=True), x, grad=False)


def test_max_pool_gradient_may_be_infinite_without_nan_elsewhere():
    def run(lib, x):
        x = x.detach().requires_grad_()
        y = fn(lib).max_pool3d(x, 2, 1)
        gy = lib.ones_like(y)
        gy[0, 0, 0, 0, 0] = float('inf')
        return lib.autograd.grad(y, x, gy)[0] if lib is torch else autograd.grad(y, x, gy)[0]
    check_op(run, rand(1, 1, 3, 3, 3), grad=False)


AVG3D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False, ceil_mode=True),
    dict(kernel_size=(2, 3, 2), padding=(1, 1, 0), divisor_override=5),
]


@pytest.mark.parametrize('kw', AVG3D)
def test_avg_pool3d_matches_torch(kw):
    check_op(lambda lib, x: fn(lib).avg_pool3d(x, **kw), rand(2, 2, 5, 4, 5))


@pytest.mark.parametrize('kw', AVG3D)
def test_avg_pool_of_integers_truncates_as_torch(kw):
    """PyTorch averages integers too: the window sum divided by the count, truncated toward
    zero (negative sums included)."""
    x = (np.arange(2 * 2 * 5 * 4 * 5).reshape(2, 2, 5, 4, 5) * 37) % 23 - 11
    check_op(lambda lib, x: fn(lib).avg_pool3d(x, **kw), x)
    kw2 = {k: v[1:] if isinstance(v, tuple) else v for k, v in kw.items()}
    check_op(lambda lib, x: fn(lib).avg_pool2d(x, **kw2), x[0])
    check_raises(lambda lib, x: fn(lib).avg_pool3d(x, 2), x > 0,
                 match="not implemented for 'Bool'")


@pytest.mark.parametrize('size', [2, (3, 2, 1), (None, 3, 2), (5, 4, 3)])
def test_adaptive_pool3d_matches_torch(size):
    x = rand(2, 2, 5, 4, 3)
    check_op(lambda lib, x: fn(lib).adaptive_avg_pool3d(x, size), x)
    check_op(squared(lambda lib, x: fn(lib).adaptive_max_pool3d(x, size, return_indices=True)),
             x)
    check_op(lambda lib, x: fn(lib).adaptive_max_pool3d(x, size), x[0])


def test_max_unpool3d_inverts_max_pool3d():
    def run(lib, x):
        y, idx = fn(lib).max_pool3d(x, 2, return_indices=True)
        return fn(lib).max_unpool3d(y * y, idx, 2, output_size=(5, 4, 5))
    check_op(run, rand(2, 2, 5, 4, 5))
    check_op(lambda lib, x: fn(lib).max_unpool3d(*fn(lib).max_pool3d(x, 2, 1, 1,
                                                                     return_indices=True),
                                                 2, 1, 1),
             rand(1, 2, 3, 4, 3))


@pytest.mark.parametrize('p', [1.0, 2.0, 3.0, float('inf')])
def test_lp_pool3d_matches_torch(p):
    check_op(lambda lib, x: fn(lib).lp_pool3d(x, p, (2, 2, 1), stride=(1, 2, 1)),
             rand(1, 2, 3, 4, 3, low=0.5))
    check_op(lambda lib, x: fn(lib).lp_pool3d(x, p, 2, ceil_mode=True), rand(2, 3, 5, 3, low=0.5))


@pytest.mark.parametrize('build', [
    lambda nn: nn.MaxPool3d(3, 2, 1),
    lambda nn: nn.MaxPool3d(2, ceil_mode=True, dilation=(1, 1, 2)),
    lambda nn: nn.AvgPool3d(3, 2, 1, count_include_pad=False),
    lambda nn: nn.AvgPool3d(2, divisor_override=3, ceil_mode=True),
    lambda nn: nn.AdaptiveAvgPool3d((2, None, 3)),
    lambda nn: nn.AdaptiveMaxPool3d(2),
    lambda nn: nn.LPPool3d(2, 2),
])
def test_pooling3d_layers_match_torch(build):
    theirs, ours = check_layer(build, rand(2, 2, 4, 5, 4, low=0.5))
    if theirs is not None:
        assert repr(ours) == repr(theirs)


def test_max_pool3d_layer_indices_feed_max_unpool3d():
    def call(layer, x):
        pool, unpool = layer
        y, idx = pool(x)
        return unpool(y, idx, output_size=x.shape)
    check_layer(lambda nn: nn.ModuleList([nn.MaxPool3d(2, return_indices=True),
                                          nn.MaxUnpool3d(2)]), rand(1, 2, 5, 4, 4), call=call)
    assert repr(nn.MaxUnpool3d(2)) == repr(torch.nn.MaxUnpool3d(2))


def test_pooling3d_errors_match_torch():
    flat = rand(2, 3, 3)
    for f in ('max_pool3d', 'avg_pool3d'):
        check_raises(lambda lib, x: getattr(fn(lib), f)(x, 2), flat,
                     match='4D or 5D')
    check_raises(lambda lib, x: fn(lib).max_pool3d(x, 2, padding=2), rand(1, 2, 3, 3, 3),
                 match='pad should be at most half')
    check_raises(lambda lib, x: fn(lib).max_pool3d(x, 2), rand(1, 2, 1, 3, 3),
                 match='Output size is too small')
    check_raises(lambda lib, x: fn(lib).avg_pool3d(x, 2, divisor_override=0),
                 rand(1, 2, 3, 3, 3), match='divisor must be not zero')
    check_raises(lambda lib, x: fn(lib).adaptive_avg_pool3d(x, 2), flat,
                 match='Expected 4D or 5D tensor')
    check_raises(lambda lib, x: fn(lib).adaptive_max_pool3d(x, 2), flat,
                 match='Expected 4D or 5D tensor')
    check_raises(lambda lib, x: fn(lib).adaptive_max_pool3d(x, (2, 2)), rand(2, 3, 3, 3),
                 match='output_size.size\\(\\) must be 3')
    check_raises(lambda lib, x: fn(lib).adaptive_max_pool3d(x, 2), rand(2, 0, 3, 3),
                 match='non-zero size for non-batch')
    idx = np.full((1, 1, 2, 2, 2), 100)
    check_raises(lambda lib, x, i: fn(lib).max_unpool3d(x, i, 2), rand(1, 1, 2, 2, 2), idx,
                 match='Found an invalid max index: 100')
    check_raises(lambda lib, x, i: fn(lib).max_unpool3d(x, i, 2, output_size=(9, 9, 9)),
                 rand(1, 1, 2, 2, 2), np.zeros((1, 1, 2, 2, 2), np.int64),
                 match='invalid output_size')


# ----------------------------------------------------------------------------- no host reads

class _DeviceLike(np.ndarray):
    """A NumPy array that, like a GPU array, must not be read on the host: bool(), int(),
    float() and item() raise (ufunc results keep the class)."""

    def _refuse(self, *args):
        raise AssertionError('a host read of a device array')
    __bool__ = __int__ = __float__ = __index__ = item = tolist = _refuse


class _DeviceLikeNumpy:
    """NumPy as an array module whose new arrays are ``_DeviceLike``: every array an op's
    forward touches refuses host reads."""
    __name__ = 'device_like_numpy'
    MAKERS = ('empty', 'zeros', 'ones', 'full', 'asarray', 'arange', 'ascontiguousarray',
              'empty_like', 'zeros_like', 'ones_like', 'full_like')

    def __getattr__(self, name):
        f = getattr(np, name)
        if name in self.MAKERS:
            return lambda *args, **kw: f(*args, **kw).view(_DeviceLike)
        return f


def _forward(op, *arrays, **params):
    """Run ``op``'s forward alone on device-like arrays."""
    node = object.__new__(op)
    xp = _DeviceLikeNumpy()
    return node, node.forward(xp, *(np.ascontiguousarray(a).view(_DeviceLike) for a in arrays),
                              **params)


@pytest.mark.parametrize('kw', [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)])
def test_max_pool_forward_and_backward_read_nothing_on_the_host(kw):
    """Issue 20: the NaN test in max pooling's forward and the isfinite test in its backward
    each forced a device-to-host copy.  The ops, run on arrays that refuse host reads, give
    PyTorch's values, argmaxes (NaN windows included) and gradients (inf included)."""
    from nn.functional.pooling import MaxPool, PoolScatter, _pool_geometry
    x = rand(1, 2, 4, 5, 4)
    x[0, 0, 1, 1, 1] = np.nan
    x[0, 1, :2, :2, :2] = -np.inf
    k, st_, p = kw['kernel_size'], kw.get('stride', kw['kernel_size']), kw.get('padding', 0)
    out, geo = _pool_geometry(x.shape[2:], (k,) * 3, (st_,) * 3, (p,) * 3, (1, 1, 1), False,
                              x.shape[:2])
    _, (y, arg) = _forward(MaxPool, x, geo=geo, out=out, track=True)
    g = rand(*y.shape, seed=1)
    g[0, 1, 0, 0, 0] = np.inf
    _, gx = _forward(PoolScatter, g, arg, geo=geo, size=x.shape[2:])
    assert isinstance(y, _DeviceLike) and isinstance(arg, _DeviceLike)
    tx = torch.tensor(x, requires_grad=True)
    ty, tidx = torch.nn.functional.max_pool3d(tx, return_indices=True, **kw)
    ty.backward(torch.tensor(g))
    np.testing.assert_array_equal(y.view(np.ndarray), to_numpy(ty))
    _, idx = F.max_pool3d(autograd.tensor(x), return_indices=True, **kw)
    np.testing.assert_array_equal(to_numpy(idx), to_numpy(tidx))
    np.testing.assert_allclose(gx.view(np.ndarray), to_numpy(tx.grad), rtol=1e-12)
