"""Reductions, softmax and ordering ops against PyTorch: values, dtypes, gradients, second
derivatives and errors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
from oracle import check_op, check_raises, rand, to_numpy

DTYPES = ['float64', 'float32']
DTYPE_KEEPDIM = [('float64', False), ('float64', True), ('float32', False)]
# (shape, dim) cases: all, one axis, negative, tuples, 0-d
DIMS = [((), None), ((5,), None), ((5,), 0), ((2, 3, 4), None), ((2, 3, 4), 1),
        ((2, 3, 4), -1), ((2, 3, 4), (0, 2)), ((2, 3, 4), (-1, 0)), ((3, 4), (0, 1))]


@pytest.mark.parametrize('name', ['sum', 'mean', 'amax', 'amin', 'logsumexp'])
@pytest.mark.parametrize('shape,dim', DIMS)
@pytest.mark.parametrize('dtype,keepdim', DTYPE_KEEPDIM)
def test_reductions_over_dims(name, shape, dim, keepdim, dtype):
    x = rand(*shape, dtype=dtype)
    if dim is None:
        if name == 'logsumexp':
            dim = tuple(range(len(shape)))
        else:
            check_op(lambda lib, x: getattr(lib, name)(x), x)
            return
    check_op(lambda lib, x: getattr(lib, name)(x, dim, keepdim=keepdim), x)
    check_op(lambda lib, x: getattr(x, name)(dim, keepdim), x)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_random_shapes_and_dims(data):
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    axes = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
    dim = tuple(a - len(shape) if data.draw(st.booleans()) else a for a in axes)
    keepdim = data.draw(st.booleans())
    name = data.draw(st.sampled_from(['sum', 'mean', 'amax', 'amin', 'logsumexp', 'var',
                                      'std', 'norm']))
    x = rand(*shape, seed=3, away_from=0.0)
    if name == 'norm':
        check_op(lambda lib, x: x.norm(2, dim, keepdim), x)
    elif name in ('var', 'std') and np.prod([shape[a] for a in axes]) == 1:
        return      # one element: N - 1 = 0, a division by zero on both sides
    else:
        check_op(lambda lib, x: getattr(x, name)(dim, keepdim=keepdim), x)


def test_mean_of_float16_sums_in_float32():
    # 5000 * 20 overflows float16 (max 65504); PyTorch accumulates in float32
    x = np.full((2, 5000), 20.0, dtype='float16')
    check_op(lambda lib, x: x.mean(), x)
    check_op(lambda lib, x: x.mean(1, keepdim=True), x)


@pytest.mark.parametrize('shape,dim', [((), None), ((5,), None), ((2, 3, 4), None),
                                       ((2, 3, 4), 1), ((2, 3, 4), -1), ((), 0)])
@pytest.mark.parametrize('keepdim', [False, True])
@pytest.mark.parametrize('dtype', DTYPES)
def test_prod(shape, dim, keepdim, dtype):
    x = rand(*shape, low=0.5, high=1.5, dtype=dtype)
    if dim is None:
        check_op(lambda lib, x: lib.prod(x), x)
    else:
        check_op(lambda lib, x: x.prod(dim, keepdim=keepdim), x)


@pytest.mark.parametrize('values', [[0.0, 2.0, 3.0, -1.5], [0.0, 2.0, 0.0, 3.0],
                                    [0.0, 0.0, 0.0, 1.0], [2.0, -3.0, 0.5, 0.0]])
def test_prod_with_zeros(values):
    x = np.array(values)
    check_op(lambda lib, x: lib.prod(x), x)
    m = np.array([values, values[::-1], [1.0, 2.0, 3.0, 4.0]])
    check_op(lambda lib, m: m.prod(1), m)
    check_op(lambda lib, m: m.prod(0, keepdim=True), m.T.copy())


def test_prod_dtypes():
    check_op(lambda lib, x: lib.prod(x), np.array([1, 2, 3], dtype='int32'))
    check_op(lambda lib, x: lib.prod(x), np.array([True, False]))
    check_op(lambda lib, x: lib.prod(x, 0, dtype=lib.float64), rand(3, dtype='float32'))


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('name', ['max', 'min'])
def test_max_min_all_elements_ties_share_gradient(dtype, name):
    x = np.array([[1.0, 3.0, 3.0], [-2.0, 3.0, -2.0]], dtype=dtype)
    check_op(lambda lib, x: getattr(lib, name)(x), x)
    check_op(lambda lib, x: getattr(x, name)(), -x)


@pytest.mark.parametrize('name', ['max', 'min'])
@pytest.mark.parametrize('dim', [0, 1, -1])
@pytest.mark.parametrize('keepdim', [False, True])
def test_max_min_with_dim_returns_values_and_indices(name, dim, keepdim):
    # ties: PyTorch returns the first index and sends the gradient there only
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 1.0], [0.5, -1.0, -1.0]])
    res = check_op(lambda lib, x: getattr(lib, name)(x, dim, keepdim), x)
    ours = res[autograd]['out']
    out = getattr(autograd.tensor(x), name)(dim=dim, keepdim=keepdim)
    assert out.values is out[0] or np.array_equal(out.values.numpy(), out[0].numpy())
    assert out.indices.dtype == autograd.int64
    assert len(ours) == 2


def test_max_min_0d_and_3d():
    check_op(lambda lib, x: lib.max(x, 0), rand())
    check_op(lambda lib, x: x.min(dim=1, keepdim=True), rand(2, 3, 4))


def test_max_of_two_tensors_is_maximum():
    a, b = rand(3, 4, seed=1), rand(4, seed=2)
    check_op(lambda lib, a, b: lib.max(a, b), a, b)
    check_op(lambda lib, a, b: lib.min(a, b), a, b)
    check_op(lambda lib, a, b: a.max(b), a, b)


def test_max_nan_propagates():
    x = np.array([1.0, np.nan, 2.0])
    check_op(lambda lib, x: x.max(), x)
    check_op(lambda lib, x: x.max(0), x)


def test_amax_ties_over_tuple_dims():
    x = np.array([[[1.0, 5.0], [5.0, 2.0]], [[0.0, 0.0], [0.0, 0.0]]])
    check_op(lambda lib, x: lib.amax(x, (1, 2)), x)
    check_op(lambda lib, x: lib.amin(x, (0, -1), keepdim=True), x)


def test_max_integers():
    x = np.array([[3, 1], [2, 7]])
    check_op(lambda lib, x: x.max(), x)
    check_op(lambda lib, x: x.max(1), x)
    check_op(lambda lib, x: lib.amax(x, 0), x)


@pytest.mark.parametrize('name', ['argmax', 'argmin'])
@pytest.mark.parametrize('dim', [None, 0, -1])
@pytest.mark.parametrize('keepdim', [False, True])
def test_argmax_argmin(name, dim, keepdim):
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 0.0]])
    check_op(lambda lib, x: getattr(lib, name)(x, dim, keepdim), x)
    check_op(lambda lib, x: getattr(x, name)(), rand())


CORRECTIONS = [dict(), dict(unbiased=False), dict(unbiased=True), dict(correction=0),
               dict(correction=2)]


@pytest.mark.parametrize('name', ['var', 'std'])
@pytest.mark.parametrize('shape,dim', [((6,), None), ((3, 4), 0), ((2, 3, 4), (0, 2)),
                                       ((2, 3, 4), -1)])
@pytest.mark.parametrize('kw', CORRECTIONS)
@pytest.mark.parametrize('dtype', DTYPES)
def test_var_std(name, shape, dim, kw, dtype):
    x = rand(*shape, dtype=dtype)
    check_op(lambda lib, x: getattr(lib, name)(x, dim, keepdim=True, **kw), x)
    check_op(lambda lib, x: getattr(x, name)(dim=dim, **kw), x)


def test_var_positional_overloads():
    x = rand(3, 4)
    check_op(lambda lib, x: lib.var(x, False), x)
    check_op(lambda lib, x: x.std(1, False, True), x)
    check_op(lambda lib, x: lib.var_mean(x, 1), x)
    check_op(lambda lib, x: lib.std_mean(x, (0, 1), correction=0, keepdim=True), x)


def test_std_of_constant_has_zero_gradient():
    check_op(lambda lib, x: x.std(), np.ones(4))


def test_logsumexp_is_stable():
    x = np.array([[1e4, 1e4 - 1.0, -1e4], [-1e4, -1e4 - 2.0, -1e4 + 1.0]])
    check_op(lambda lib, x: lib.logsumexp(x, 1), x)
    check_op(lambda lib, x: lib.logsumexp(x, 0, keepdim=True), x.astype('float32'))


def test_logsumexp_with_minus_infinity():
    x = np.array([[0.5, -np.inf, 1.0], [-np.inf, -np.inf, 2.0]])
    check_op(lambda lib, x: x.logsumexp(1), x)
    check_op(lambda lib, x: x.logsumexp(1), np.full((2, 3), -np.inf), grad=False)


def test_logsumexp_of_integers_is_float():
    check_op(lambda lib, x: x.logsumexp(0), np.array([1, 2, 3]))


@pytest.mark.parametrize('shape,dim', [((5,), 0), ((2, 3, 4), 1), ((2, 3, 4), -1), ((), 0)])
@pytest.mark.parametrize('dtype', DTYPES)
def test_cumsum_cumprod(shape, dim, dtype):
    check_op(lambda lib, x: lib.cumsum(x, dim), rand(*shape, dtype=dtype))
    check_op(lambda lib, x: x.cumprod(dim), rand(*shape, low=0.5, high=1.5, dtype=dtype))


def test_cumsum_dtypes():
    check_op(lambda lib, x: x.cumsum(0), np.array([True, False, True]))
    check_op(lambda lib, x: x.cumsum(0, dtype=lib.float64), rand(3, dtype='float32'))


@pytest.mark.parametrize('values', [[2.0, 0.0, 3.0, 0.0, 4.0], [0.0, 1.5, -2.0, 3.0],
                                    [1.5, -2.0, 0.5, 0.0]])
def test_cumprod_with_zeros(values):
    x = np.array(values)
    check_op(lambda lib, x: x.cumprod(0), x)
    check_op(lambda lib, x: x.cumprod(1), np.stack([x, x[::-1]]))


NORMS = [2, 'fro', 1, 3, 1.5, 0.5, math.inf, -math.inf, 0]


@pytest.mark.parametrize('p', NORMS)
@pytest.mark.parametrize('shape,dim', [((6,), None), ((3, 4), 1), ((2, 3, 4), (0, 2)),
                                       ((2, 3, 4), -1), ((), None)])
@pytest.mark.parametrize('dtype,keepdim', DTYPE_KEEPDIM)
def test_norm(p, shape, dim, keepdim, dtype):
    x = rand(*shape, dtype=dtype, away_from=0.0)
    if p == 'fro' and isinstance(dim, tuple) and len(dim) > 2:
        return
    check_op(lambda lib, x: lib.norm(x, p, dim, keepdim), x)


def test_norm_default_and_ties():
    check_op(lambda lib, x: x.norm(), rand(3, 4))
    x = np.array([1.0, -3.0, 3.0, 0.5])
    check_op(lambda lib, x: x.norm(math.inf), x)
    check_op(lambda lib, x: x.norm(-math.inf), np.array([1.0, -1.0, 3.0]))


@pytest.mark.parametrize('p', [2, 1, 3, 1.5])
def test_norm_gradient_at_zero_is_zero(p):
    check_op(lambda lib, x: x.norm(p), np.zeros(3), double=False)
    check_op(lambda lib, x: x.norm(p, dim=1), np.array([[0.0, 0.0], [1.0, -2.0]]),
             double=False)


def test_all_any():
    x = np.array([[True, False, True], [True, True, True]])
    for name in ('all', 'any'):
        check_op(lambda lib, x: getattr(lib, name)(x), x)
        check_op(lambda lib, x: getattr(x, name)(1), x)
        check_op(lambda lib, x: getattr(x, name)(0, keepdim=True), x)
        check_op(lambda lib, x: getattr(lib, name)(x), np.array([0.0, 2.0]))
        check_op(lambda lib, x: getattr(lib, name)(x), np.array([0, 2], dtype='uint8'))


def test_count_nonzero():
    x = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])
    check_op(lambda lib, x: lib.count_nonzero(x), x)
    check_op(lambda lib, x: lib.count_nonzero(x, dim=(0, 1)), x)
    check_op(lambda lib, x: x.count_nonzero(1), x)


# ----------------------------------------------------------------------------- softmax

@pytest.mark.parametrize('name', ['softmax', 'log_softmax'])
@pytest.mark.parametrize('shape,dim', [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -2),
                                       ((), 0), ((2, 1), 1)])
@pytest.mark.parametrize('dtype', DTYPES)
def test_softmax(name, shape, dim, dtype):
    x = rand(*shape, dtype=dtype)
    check_op(lambda lib, x: getattr(lib, name)(x, dim), x)
    check_op(lambda lib, x: getattr(x, name)(dim), x)


@pytest.mark.parametrize('name', ['softmax', 'log_softmax'])
def test_softmax_is_stable_at_large_logits(name):
    x = np.array([[1e4, 1e4 - 2.0, -1e4], [-1e4, -1e4 + 1.0, -1e4 - 3.0]])
    check_op(lambda lib, x: getattr(lib, name)(x, 1), x)
    check_op(lambda lib, x: getattr(lib, name)(x, -1), x.astype('float32'))


@pytest.mark.parametrize('name', ['softmax', 'log_softmax'])
def test_softmax_with_minus_infinity(name):
    x = np.array([[-np.inf, 2.0, 0.5], [1.0, -np.inf, -np.inf]])
    check_op(lambda lib, x: getattr(lib, name)(x, 1), x, double=name == 'softmax')


@pytest.mark.parametrize('name', ['softmax', 'log_softmax'])
def test_softmax_dtype_argument(name):
    check_op(lambda lib, x: getattr(lib, name)(x, 0, dtype=lib.float64),
             rand(4, dtype='float32'))
    check_op(lambda lib, x: getattr(x, name)(0, dtype=lib.float32), np.array([1, 2, 3]))


@pytest.mark.parametrize('name', ['softmax', 'log_softmax'])
@pytest.mark.parametrize('shape,dim', [((3, 0), 1), ((3, 0), 0), ((0,), 0), ((0, 3), -1)])
def test_softmax_of_empty(name, shape, dim):
    check_op(lambda lib, x: getattr(lib, name)(x, dim), np.zeros(shape))
    check_op(lambda lib, x: getattr(x, name)(dim), np.zeros(shape, 'float16'), grad=False)


@pytest.mark.parametrize('name', ['softmax', 'log_softmax'])
@pytest.mark.parametrize('x', [np.array(1.0), np.array(1)])
def test_softmax_dim_out_of_range(name, x):
    check_raises(lambda lib, x: getattr(lib, name)(x, 2), x, match='Dimension out of range')


def test_softmax_float16():
    check_op(lambda lib, x: lib.softmax(x, 1), rand(3, 4, dtype='float16'), grad=False)


def test_softmax_backward_is_one_fused_node():
    x = autograd.randn(3, 4, requires_grad=True)
    y = autograd.softmax(x, 1)
    (g,) = autograd.grad((y * autograd.randn(3, 4)).sum(), x, create_graph=True)
    assert g.grad_fn.name() == 'SoftmaxBackwardBackward0'


def test_softmax_then_log_softmax_second_order():
    check_op(lambda lib, x: (lib.softmax(x, 1) * lib.log_softmax(x, 1)).sum(1), rand(3, 5))


# ----------------------------------------------------------------------------- ordering

@pytest.mark.parametrize('shape,dim', [((6,), 0), ((3, 5), 1), ((3, 5), 0), ((2, 3, 4), -2),
                                       ((), 0)])
@pytest.mark.parametrize('descending', [False, True])
@pytest.mark.parametrize('dtype', DTYPES)
def test_sort_argsort(shape, dim, descending, dtype):
    x = rand(*shape, dtype=dtype)           # distinct values: the order is unique
    check_op(lambda lib, x: lib.sort(x, dim, descending), x)
    check_op(lambda lib, x: x.sort(dim=dim, descending=descending).values, x)
    check_op(lambda lib, x: lib.argsort(x, dim, descending), x)


@pytest.mark.parametrize('descending', [False, True])
def test_stable_sort_keeps_order_of_ties(descending):
    x = np.array([2.0, 1.0, 2.0, 1.0, 3.0, 2.0])
    check_op(lambda lib, x: lib.sort(x, stable=True, descending=descending), x)


def test_sort_nan_is_largest():
    x = np.array([2.0, np.nan, -1.0])
    check_op(lambda lib, x: x.sort(), x)
    check_op(lambda lib, x: x.sort(descending=True), x)


@pytest.mark.parametrize('k,dim,largest', [(2, -1, True), (1, 0, False), (3, 1, True),
                                           (0, 1, True), (5, 1, False)])
def test_topk(k, dim, largest):
    check_op(lambda lib, x: lib.topk(x, k, dim, largest), rand(4, 5))


def test_median():
    x = rand(3, 5)
    check_op(lambda lib, x: x.median(), x)
    check_op(lambda lib, x: lib.median(x, 1), x)
    check_op(lambda lib, x: x.median(0, keepdim=True), rand(4, 3))
    check_op(lambda lib, x: x.median(), np.array([1.0, 1.0, 3.0, 3.0]))   # ties share
    check_op(lambda lib, x: x.median(1), np.array([[1.0, np.nan, 0.0], [2.0, 1.0, 0.0]]))


# ----------------------------------------------------------------------------- dtypes

@pytest.mark.parametrize('dtype', ['int64', 'int32', 'bool'])
def test_integer_sum_prod_cumsum_are_int64(dtype):
    x = np.array([[1, 0, 1], [1, 1, 0]]).astype(dtype)
    for fn in (lambda lib, x: x.sum(), lambda lib, x: x.sum(1), lambda lib, x: x.prod(1),
               lambda lib, x: x.cumsum(0)):
        res = check_op(fn, x)
        assert str(to_numpy(res[autograd]['out'][0]).dtype) == 'int64'


# ----------------------------------------------------------------------------- errors

INT = np.array([1, 2, 3])


@pytest.mark.parametrize('fn,match', [
    (lambda lib, x: x.mean(), 'mean\\(\\): could not infer output dtype'),
    (lambda lib, x: x.var(), 'std and var only support floating point'),
    (lambda lib, x: x.std(0), 'std and var only support floating point'),
    (lambda lib, x: x.norm(), 'linalg.vector_norm: Expected a floating point'),
    (lambda lib, x: x.softmax(0), 'softmax_lastdim_kernel_impl'),
    (lambda lib, x: x.log_softmax(0), 'log_softmax_lastdim_kernel_impl'),
])
def test_float_only_ops_reject_integers(fn, match):
    check_raises(fn, INT, match=match)


def test_reduction_errors():
    check_raises(lambda lib, x: x.sum(2), rand(2, 3), match='Dimension out of range')
    check_raises(lambda lib, x: x.max(), np.zeros((0, 3)), match='Expected reduction dim')
    check_raises(lambda lib, x: x.max(0), np.zeros((0, 3)),
                 match='Expected reduction dim 0 to have non-zero size')
    check_raises(lambda lib, x: x.amax(0), np.zeros((0, 3)), match='amax')
    check_raises(lambda lib, x: x.argmax(), np.zeros((0, 3)), match='argmax')
    check_raises(lambda lib, x: x.topk(4), rand(3), match='selected index k out of range')
    check_raises(lambda lib, x: x.sum((0, 0)), rand(2, 3), match='multiple times')


# ----------------------------------------------------------------------------- array sweep
# A backward that records no graph (no create_graph) hands every op's backward bare arrays.

ON_ARRAYS = {
    'sum': lambda lib, x: x.sum(),
    'sum dims keepdim': lambda lib, x: x.sum((0, 2), keepdim=True),
    'mean dim': lambda lib, x: x.mean(1),
    'prod dim': lambda lib, x: x.prod(1),
    'cumsum': lambda lib, x: x.cumsum(-1),
    'cumprod': lambda lib, x: x.cumprod(1),
    'max': lambda lib, x: x.max(),
    'max dim': lambda lib, x: x.max(1)[0],
    'amin dims': lambda lib, x: lib.amin(x, (0, 2)),
    'median': lambda lib, x: x.median(),
    'median dim': lambda lib, x: x.median(-1)[0],
    'sort': lambda lib, x: x.sort(1, descending=True)[0],
    'topk': lambda lib, x: x.topk(2)[0],
    'var': lambda lib, x: x.var(1),
    'std': lambda lib, x: x.std((0, 2), keepdim=True),
    'logsumexp': lambda lib, x: x.logsumexp(1),
    'norm 2': lambda lib, x: x.norm(dim=-1),
    'norm 1': lambda lib, x: x.norm(1),
    'norm 3': lambda lib, x: x.norm(3, dim=0),
    'norm 0.5': lambda lib, x: x.norm(0.5, dim=1),
    'norm inf': lambda lib, x: x.norm(math.inf, dim=2),
    'softmax': lambda lib, x: x.softmax(1),
    'log_softmax': lambda lib, x: x.log_softmax(-1),
}


@pytest.mark.parametrize('name', sorted(ON_ARRAYS))
def test_gradient_on_arrays(name):
    check_op(ON_ARRAYS[name], rand(2, 3, 4, dtype='float32', away_from=0.0), double=False)


@pytest.mark.parametrize('fn', [lambda lib, x: x.sum(), lambda lib, x: x.mean(),
                                lambda lib, x: x.prod(), lambda lib, x: x.cumprod(0),
                                lambda lib, x: x.max(), lambda lib, x: x.logsumexp(0),
                                lambda lib, x: x.softmax(0) * 2, lambda lib, x: x.norm()])
def test_0d_gradient_on_arrays(fn):
    # arithmetic on 0-d arrays gives NumPy scalars; the backward formulas must cope
    check_op(fn, np.array(0.7), double=False)


def test_prod_with_zeros_gradient_on_arrays():
    check_op(lambda lib, m: m.prod(1), np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]]),
             double=False)
