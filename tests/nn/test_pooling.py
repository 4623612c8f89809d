"""Pooling against PyTorch: functional forms (values, indices, gradients, second
derivatives through a nonlinearity), layers, and errors.  (Interpolation: test_interpolate.)"""
import numpy as np
import pytest

import autograd
import nn.functional as F
from layer_check import check_layer
from oracle import check_op, check_raises, rand, to_numpy, torch


def fn(lib):
    return torch.nn.functional if lib is torch else F


def squared(pool):
    """pool(x)^2: its gradient depends on x, so the second derivative of the pooling op
    (and of its backward op) is exercised."""
    def run(lib, x):
        out = pool(lib, x)
        if isinstance(out, tuple):
            return out[0] ** 2, out[1]
        return out ** 2
    return run


MAX2D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(3, 2), stride=(2, 1), dilation=(2, 1), ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=2, stride=1),
]


@pytest.mark.parametrize('kw', MAX2D)
@pytest.mark.parametrize('return_indices', [False, True])
def test_max_pool2d_matches_torch_to_second_order(kw, return_indices):
    check_op(squared(lambda lib, x: fn(lib).max_pool2d(x, return_indices=return_indices, **kw)),
             rand(2, 3, 7, 6))


def test_max_pool2d_float32_and_unbatched():
    check_op(lambda lib, x: fn(lib).max_pool2d(x, 2), rand(2, 3, 6, 6, dtype='float32'))
    check_op(lambda lib, x: fn(lib).max_pool2d(x, 3, 2, return_indices=True), rand(3, 7, 7))


def test_max_pool2d_gradient_goes_to_the_first_maximum_of_a_tie():
    x = np.array([[[[1.0, 3.0, 3.0], [3.0, 0.0, 3.0], [2.0, 3.0, 1.0]]]])
    check_op(lambda lib, x: fn(lib).max_pool2d(x, 2, 1, return_indices=True), x)


def test_max_pool2d_propagates_nan():
    x = rand(1, 1, 4, 4)
    x[0, 0, 1, 2] = np.nan
    check_op(lambda lib, x: fn(lib).max_pool2d(x, 2, return_indices=True), x, grad=False)


def test_max_pool2d_of_integers():
    x = np.arange(30).reshape(1, 5, 6) % 7
    check_op(lambda lib, x: fn(lib).max_pool2d(x, 2, return_indices=True), x, grad=False)


def lowest_border(x, count):
    """``x`` with the first ``count`` positions of every spatial dim and the whole second
    channel at the dtype's lowest value (-inf for floats): the windows at the padded border
    then hold only that value, which is also what the padding holds."""
    x = x.copy()
    low = -np.inf if x.dtype.kind == 'f' else np.iinfo(x.dtype).min
    for d in range(2, x.ndim):
        x[(slice(None),) * d + (slice(None, count),)] = low
    x[:, 1] = low
    return x


BORDER = [     # pooling function, input shape, lowest-valued border width, window
    ('max_pool2d', (2, 3, 7, 6), 3, dict(kernel_size=3, stride=2, padding=1)),
    ('max_pool2d', (2, 3, 6, 7), 2, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ('max_pool2d', (2, 3, 7, 6), 2, dict(kernel_size=(3, 2), stride=1, padding=1,
                                         dilation=(2, 1))),
    ('max_pool1d', (2, 3, 9), 4, dict(kernel_size=3, stride=2, padding=1)),
    ('max_pool1d', (2, 3, 8), 3, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
]


@pytest.mark.parametrize('pool, shape, count, kw', BORDER)
@pytest.mark.parametrize('return_indices', [True, False])
def test_max_pool_never_picks_padding_in_a_window_of_only_minus_inf(pool, shape, count, kw,
                                                                    return_indices):
    # PyTorch's scan visits real positions only: an all -inf window reports its first real
    # position, and the gradient goes there (never to a padding position)
    def run(lib, x):
        out = getattr(fn(lib), pool)(x, return_indices=return_indices, **kw)
        return out[0] if return_indices else out
    x = lowest_border(rand(*shape), count)
    check_op(lambda lib, x: getattr(fn(lib), pool)(x, return_indices=True, **kw), x,
             grad=False)                                # values and indices
    # the gradient from a given grad_output (a weighted loss of -inf values is not finite)
    g = np.random.default_rng(0).standard_normal(run(torch, torch.tensor(x)).shape)
    grads = []
    for lib in (torch, autograd):
        t = lib.tensor(x, requires_grad=True)
        run(lib, t).backward(lib.tensor(g))
        grads.append(to_numpy(t.grad))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=0)


@pytest.mark.parametrize('pool, shape, count, kw', BORDER)
def test_max_pool_never_picks_padding_in_a_window_of_only_the_integer_minimum(pool, shape,
                                                                             count, kw):
    x = lowest_border(np.arange(np.prod(shape)).reshape(shape) % 7, count)
    check_op(lambda lib, x: getattr(fn(lib), pool)(x, return_indices=True, **kw), x,
             grad=False)


@pytest.mark.parametrize('kw', [dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=2, dilation=2, ceil_mode=True)])
def test_max_pool1d_matches_torch(kw):
    check_op(squared(lambda lib, x: fn(lib).max_pool1d(x, return_indices=True, **kw)),
             rand(2, 3, 9))


AVG2D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=(3, 2), stride=2, padding=(1, 0), ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=2, stride=1, divisor_override=3),
]


@pytest.mark.parametrize('kw', AVG2D)
def test_avg_pool2d_matches_torch_to_second_order(kw):
    check_op(squared(lambda lib, x: fn(lib).avg_pool2d(x, **kw)), rand(2, 3, 7, 6))


def test_avg_pool1d_matches_torch():
    check_op(squared(lambda lib, x: fn(lib).avg_pool1d(x, 3, 2, 1, ceil_mode=True,
                                                       count_include_pad=False)), rand(2, 3, 8))


@pytest.mark.parametrize('size', [(3, 4), (7, 6), 2, (None, 4), 1, (5, 5)])
def test_adaptive_avg_pool2d_matches_torch(size):
    check_op(squared(lambda lib, x: fn(lib).adaptive_avg_pool2d(x, size)), rand(2, 3, 7, 6))


def test_adaptive_avg_pool1d_matches_torch():
    check_op(lambda lib, x: fn(lib).adaptive_avg_pool1d(x, 4), rand(2, 3, 9))
    check_op(lambda lib, x: fn(lib).adaptive_avg_pool1d(x, 4), rand(3, 9))


def test_max_unpool2d_inverts_max_pool2d():
    def run(lib, x):
        y, i = fn(lib).max_pool2d(x, 2, return_indices=True)
        return fn(lib).max_unpool2d(y * y, i, 2, output_size=(7, 7))
    check_op(run, rand(2, 3, 7, 7))


def test_max_unpool2d_second_order():
    def run(lib, x):
        y, i = fn(lib).max_pool2d(x, 2, return_indices=True)
        return fn(lib).max_unpool2d(y, i, 2) ** 2
    check_op(run, rand(2, 3, 6, 6))


def test_max_pool2d_third_order():
    """d/dx of sum((d/dx sum((d/dx sum(w maxpool(x)^2))^2))^2): the backward of the
    backward's backward (the gradient gather) runs."""
    def derivs(lib, x):
        grad = torch.autograd.grad if lib is torch else autograd.grad
        w = lib.tensor(rand(2, 3, 3, 3, seed=5))
        g1, = grad((fn(lib).max_pool2d(x, 2) ** 2 * w).sum(), x, create_graph=True)
        g2, = grad((g1 * g1).sum(), x, create_graph=True)
        g3, = grad((g2 * g2).sum(), x)
        return g3
    x = rand(2, 3, 6, 6)
    theirs = derivs(torch, torch.tensor(x, requires_grad=True))
    ours = derivs(autograd, autograd.tensor(x, requires_grad=True))
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=1e-10, atol=1e-12)


def test_max_unpool1d_matches_torch():
    def run(lib, x):
        y, i = fn(lib).max_pool1d(x, 2, return_indices=True)
        return fn(lib).max_unpool1d(y, i, 2)
    check_op(run, rand(2, 3, 8))


def test_lp_pool_matches_torch():
    x = rand(2, 3, 6, 6, low=0.5, high=2)
    check_op(lambda lib, x: fn(lib).lp_pool2d(x, 2, 2), x)
    check_op(lambda lib, x: fn(lib).lp_pool1d(x, 3, 3, stride=2), rand(2, 3, 7, low=0.5))


# ----------------------------------------------------------------------------- adaptive max

ADAPTIVE2D = [(3, 4), (7, 6), 2, (None, 4), (4, None), 1, (5, 5), (9, 8), (3, 6)]


@pytest.mark.parametrize('size', ADAPTIVE2D)
@pytest.mark.parametrize('return_indices', [False, True])
def test_adaptive_max_pool2d_matches_torch_to_second_order(size, return_indices):
    # 7 x 6 input: divisible, non-divisible, overlapping and larger-than-input outputs
    check_op(squared(lambda lib, x: fn(lib).adaptive_max_pool2d(x, size, return_indices)),
             rand(2, 3, 7, 6))


def test_adaptive_max_pool2d_float32_and_unbatched():
    check_op(lambda lib, x: fn(lib).adaptive_max_pool2d(x, (3, 4), return_indices=True),
             rand(2, 3, 7, 6, dtype='float32'))
    check_op(squared(lambda lib, x: fn(lib).adaptive_max_pool2d(x, (4, 5), True)),
             rand(3, 9, 7))


@pytest.mark.parametrize('size', [4, 9, 13, 1, (2,)])
def test_adaptive_max_pool1d_matches_torch_to_second_order(size):
    check_op(squared(lambda lib, x: fn(lib).adaptive_max_pool1d(x, size, return_indices=True)),
             rand(2, 3, 9))
    check_op(squared(lambda lib, x: fn(lib).adaptive_max_pool1d(x, size)), rand(3, 9))


def test_adaptive_max_pool_ties_pick_the_first_maximum_in_row_major_order():
    x = np.random.default_rng(1).integers(0, 3, (2, 3, 7, 6)).astype(float)
    check_op(lambda lib, x: fn(lib).adaptive_max_pool2d(x, (3, 4), return_indices=True), x)
    check_op(lambda lib, x: fn(lib).adaptive_max_pool1d(x, 4, return_indices=True), x[0])


def test_adaptive_max_pool_gradients_of_a_repeated_winner_add_up():
    # L = 5 -> 4 windows [0,2) [1,3) [2,4) [3,5): the peak at 2 wins the middle two
    x = np.array([[[0.0, 1.0, 5.0, 1.0, 0.0]]])
    check_op(lambda lib, x: fn(lib).adaptive_max_pool1d(x, 4, return_indices=True), x)
    t = autograd.tensor(x, requires_grad=True)
    y, i = F.adaptive_max_pool1d(t, 4, return_indices=True)
    y.sum().backward()
    assert to_numpy(i).tolist() == [[[1, 2, 2, 3]]]
    assert to_numpy(t.grad).tolist() == [[[0.0, 1.0, 2.0, 1.0, 0.0]]]


def test_adaptive_max_pool_propagates_nan_to_the_last_nan_of_a_window():
    x = rand(1, 2, 6, 7)
    x[0, 0, 1, 2] = x[0, 0, 1, 0] = x[0, 0, 0, 1] = x[0, 1, 4, 4] = np.nan
    check_op(lambda lib, x: fn(lib).adaptive_max_pool2d(x, (3, 3), return_indices=True), x,
             double=False)
    check_op(lambda lib, x: fn(lib).adaptive_max_pool1d(x, 3, return_indices=True), x[0],
             double=False)


def test_adaptive_max_pool_of_a_window_of_only_minus_inf_picks_its_first_position():
    x = rand(1, 2, 6, 6)
    x[0, 0, :3, :3] = -np.inf
    x[0, 1] = -np.inf
    check_op(lambda lib, x: fn(lib).adaptive_max_pool2d(x, (2, 3), return_indices=True), x,
             grad=False)


def test_adaptive_max_pool_of_an_empty_batch():
    check_op(lambda lib, x: fn(lib).adaptive_max_pool2d(x, 2, return_indices=True),
             rand(0, 3, 5, 5), grad=False)
    check_op(lambda lib, x: fn(lib).adaptive_max_pool1d(x, 0, return_indices=True),
             rand(2, 3, 5), grad=False)


def test_adaptive_max_pool_backward_runs_on_bare_arrays(monkeypatch):
    """Without create_graph the backward gets the device's arrays (no tensor wrappers)."""
    import autograd.engine

    def never(node, g, multi):
        raise AssertionError(f'{node.name()} was handed tensors in an array sweep')
    monkeypatch.setattr(autograd.engine, '_wrap', never)
    check_op(lambda lib, x: fn(lib).adaptive_max_pool2d(x, (4, 5)), rand(2, 3, 7, 6),
             double=False)
    check_op(lambda lib, x: fn(lib).adaptive_max_pool1d(x, 4), rand(3, 9), double=False)


# ----------------------------------------------------------------------------- layers

@pytest.mark.parametrize('build', [
    lambda nn: nn.MaxPool2d(3, 2, 1),
    lambda nn: nn.MaxPool2d(2, ceil_mode=True),
    lambda nn: nn.AvgPool2d(3, 2, 1, count_include_pad=False),
    lambda nn: nn.AvgPool2d(2, divisor_override=2),
    lambda nn: nn.AdaptiveAvgPool2d((3, 2)),
    lambda nn: nn.LPPool2d(2, 2),
])
def test_pooling_layers_match_torch(build):
    check_layer(build, rand(2, 3, 7, 6, low=0.5))


def test_pooling1d_layers_match_torch():
    for build in (lambda nn: nn.MaxPool1d(3, 2), lambda nn: nn.AvgPool1d(3, 2, 1),
                  lambda nn: nn.AdaptiveAvgPool1d(4), lambda nn: nn.AdaptiveMaxPool1d(4)):
        check_layer(build, rand(2, 3, 9))


@pytest.mark.parametrize('build, shape', [
    (lambda nn: nn.AdaptiveMaxPool2d((None, 3)), (2, 3, 7, 6)),
    (lambda nn: nn.AdaptiveMaxPool2d(4, return_indices=True), (2, 3, 7, 6)),
    (lambda nn: nn.AdaptiveMaxPool2d((4, 2)), (3, 7, 6)),
    (lambda nn: nn.AdaptiveMaxPool1d(5, return_indices=True), (3, 7, 6)),
    (lambda nn: nn.AdaptiveMaxPool1d(4), (7, 6)),
])
def test_adaptive_max_pool_layers_match_torch(build, shape):
    check_layer(build, rand(*shape))


def test_max_pool_layer_returns_indices_for_max_unpool():
    def run(layers, x):
        pool, unpool = layers
        y, i = pool(x)
        return unpool(y, i, output_size=x.shape)
    check_layer(lambda nn: nn.ModuleList([nn.MaxPool2d(2, return_indices=True),
                                          nn.MaxUnpool2d(2)]), rand(2, 3, 7, 7), call=run)


def test_pooling_repr_matches_torch():
    import nn as ours
    for name, args in [('MaxPool2d', (3, 2, 1)), ('AvgPool2d', (2,)), ('AdaptiveAvgPool2d', (3,)),
                       ('MaxUnpool2d', (2,)), ('MaxPool1d', (2,)), ('AdaptiveMaxPool1d', (3,)),
                       ('AdaptiveMaxPool2d', ((None, 3), True))]:
        assert repr(getattr(ours, name)(*args)) == repr(getattr(torch.nn, name)(*args))


# ----------------------------------------------------------------------------- errors

def test_pooling_rejects_wrong_rank():
    check_raises(lambda lib, x: fn(lib).max_pool2d(x, 2), rand(3, 2, 3, 5, 5),
                 match='3D or 4D')
    check_raises(lambda lib, x: fn(lib).max_pool1d(x, 2), rand(2, 3, 5, 5),
                 match=r'2D or 3D .* but got:\[2, 3, 5, 5\]')
    check_raises(lambda lib, x: fn(lib).avg_pool2d(x, 2), rand(5, 5), match=r'\[5, 5\]')
    check_raises(lambda lib, x: fn(lib).adaptive_avg_pool2d(x, 2), rand(5, 5),
                 match=r'\[5, 5\]')


def test_pooling_rejects_bad_windows():
    x = rand(2, 3, 5, 5)
    check_raises(lambda lib, x: fn(lib).max_pool2d(x, 3, padding=2), x,
                 match='pad should be at most half of effective kernel size')
    check_raises(lambda lib, x: fn(lib).max_pool2d(x, 3), rand(2, 3, 2, 2),
                 match=r'Given input size: \(3x2x2\). Calculated output size: \(3x0x0\)')
    check_raises(lambda lib, x: fn(lib).avg_pool2d(x, 2, stride=0), x, match='stride')
    check_raises(lambda lib, x: fn(lib).avg_pool2d(x, 3, divisor_override=0), x,
                 match='divisor must be not zero')


def test_max_unpool_rejects_out_of_range_indices():
    x = autograd.ones(1, 2, 2, 2)
    bad = autograd.full((1, 2, 2, 2), 20, dtype=autograd.int64)
    with pytest.raises(RuntimeError, match='invalid max index: 20'):
        F.max_unpool2d(x, bad, 2)


ADAPTIVE_MAX_ERRORS = [   # function, input shape, output size
    ('adaptive_max_pool2d', (5, 6), 2),                # rank
    ('adaptive_max_pool2d', (1, 1, 2, 5, 6), 2),
    ('adaptive_max_pool1d', (1, 2, 5, 6), 2),
    ('adaptive_max_pool1d', (6,), 2),
    ('adaptive_max_pool2d', (1, 0, 5, 6), 2),          # an empty non-batch dim
    ('adaptive_max_pool2d', (1, 2, 0, 6), 2),
    ('adaptive_max_pool1d', (2, 0, 6), 2),
    ('adaptive_max_pool2d', (1, 2, 5, 6), (3,)),       # the output size's length and type
    ('adaptive_max_pool2d', (1, 2, 5, 6), (3, 2, 1)),
    ('adaptive_max_pool2d', (5, 6), (3, 2, 1)),
    ('adaptive_max_pool1d', (2, 5, 6), (3, 2)),
    ('adaptive_max_pool2d', (1, 2, 5, 6), None),
    ('adaptive_max_pool1d', (2, 5, 6), None),
    ('adaptive_max_pool1d', (2, 5, 6), (None,)),
    ('adaptive_max_pool2d', (1, 2, 5, 6), 2.0),
    ('adaptive_max_pool2d', (1, 2, 5, 6), (2.0, 2)),
    ('adaptive_max_pool2d', (1, 2, 5, 6), -1),
]


@pytest.mark.parametrize('name, shape, size', ADAPTIVE_MAX_ERRORS)
def test_adaptive_max_pool_rejects_what_torch_rejects(name, shape, size):
    check_raises(lambda lib, x: getattr(fn(lib), name)(x, size), rand(*shape))


def test_adaptive_max_pool_rejects_integer_input():
    x = np.arange(60).reshape(1, 2, 5, 6)
    check_raises(lambda lib, x: fn(lib).adaptive_max_pool2d(x, 2), x, match='Long')
    check_raises(lambda lib, x: fn(lib).adaptive_max_pool1d(x, 2), x[0])
