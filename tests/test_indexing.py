"""Indexing against PyTorch: getitem/setitem, views written in place, gather/scatter, masks."""
import warnings

import numpy as np
import pytest

import autograd
from oracle import await_checks, check_op, check_raises, rand

X = rand(3, 4, 5, seed=7)
MASK2 = X[:, :, 0] > 0          # (3, 4)
MASK1 = np.array([True, False, True])


def _idx(lib, k):
    """Build an index for ``lib``: NumPy arrays become that library's tensors."""
    if isinstance(k, tuple):
        return tuple(_idx(lib, i) for i in k)
    if isinstance(k, np.ndarray):
        return lib.tensor(k)
    return k


GETITEM = {
    'int': 1,
    'negative int': -1,
    'ints': (0, 2),
    'all ints': (2, 3, 4),
    'slice': slice(1, 3),
    'slice with step': (slice(None), slice(0, None, 2)),
    'slice past end': slice(1, 10),
    'ellipsis': (Ellipsis, 1),
    'none': (None, 0, None),
    'ellipsis and none': (Ellipsis, None),
    'int list': [0, 2],
    'repeated indices': [0, 0, 1, 0],
    'negative indices': [-1, 0, -3],
    'int64 tensor': np.array([2, 0], dtype=np.int64),
    'int32 tensor': np.array([[1, 2], [2, 0]], dtype=np.int32),
    '0-d int tensor': np.array(1, dtype=np.int64),
    'two index tensors': (np.array([0, 2, 2]), slice(None), np.array([1, 3, 3])),
    'adjacent index tensors': (slice(None), np.array([0, 3, 3]), np.array([4, 4, 0])),
    'int then slice then list': (0, slice(None), [0, 1, 1]),
    'broadcast index tensors': (np.array([[0], [2]]), np.array([1, 3, 1])),
    'none between tensors': (np.array([0, 1]), None, np.array([1, 2])),
    'bool mask': MASK2,
    'bool mask 1-d': (MASK1, slice(None, None, 2)),
    'bool list': ([True, False, True],),
    'mask then tensor': (MASK1, slice(None), np.array([1, 4])),
    'python true': True,
    'empty list': ([],),
    'two ellipses': (Ellipsis, 0, Ellipsis),
    'range': range(3),                   # pytorch/examples' mnist_forward_forward: x[range(n), y]
    'range and list': (range(1, 3), [3, 0]),
    'range with step in the middle': (slice(None), range(3, 0, -2)),
    'empty range': range(0),
}


@pytest.mark.parametrize('name', sorted(GETITEM))
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_getitem(name, dtype):
    key = GETITEM[name]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        check_op(lambda lib, x: x[_idx(lib, key)], X.astype(dtype))


def test_getitem_repeated_index_accumulates():
    x = autograd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 1]].sum().backward()
    assert x.grad.tolist() == [2.0, 1.0, 0.0]


def test_getitem_list_of_lists_is_a_tuple_of_indices():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        check_op(lambda lib, x: x[[[0, 1], [1, 2]]], X)


def test_getitem_of_0d_and_1d():
    check_op(lambda lib, x: x[None], rand(seed=1))
    check_op(lambda lib, x: x[...], rand(seed=1))
    check_op(lambda lib, x: x[2], rand(4, seed=1))


def test_basic_index_is_a_view_sharing_the_version_counter():
    x = autograd.zeros(3, 4)
    v = x[1, 1:3]
    assert v._version == x._version
    x.add_(1)
    assert v._version == x._version
    assert v.tolist() == [1.0, 1.0]
    assert autograd.tensor([1.0, 2.0])[[0, 1]]._base is None


def test_chained_getitem_double_backward():
    check_op(lambda lib, x: x[1:][[0, 0, 1], 2:] ** 2, X)


BAD = {
    'float index tensor': (lambda lib, x: x[lib.tensor([0.0, 1.0])], IndexError),
    'float number': (lambda lib, x: x[1.5], IndexError),
    'int out of range': (lambda lib, x: x[5], IndexError),
    'negative int out of range': (lambda lib, x: x[:, -5], IndexError),
    'tensor index out of range': (lambda lib, x: x[lib.tensor([0, 5])], IndexError),
    'list index out of range': (lambda lib, x: x[:, [0, -7]], IndexError),
    'too many indices': (lambda lib, x: x[0, 0, 0, 0], IndexError),
    'index of 0-d': (lambda lib, x: x[0, 0, 0][0], IndexError),
    'mask shape': (lambda lib, x: x[lib.tensor([True, False])], IndexError),
    'mask shape 2-d': (lambda lib, x: x[lib.ones(3, 5, dtype=lib.bool)], IndexError),
    'negative step': (lambda lib, x: x[::-1], ValueError),
}


@pytest.mark.parametrize('name', sorted(BAD))
def test_getitem_errors(name):
    fn, exc = BAD[name]
    check_raises(fn, X, exc=exc)


def test_getitem_error_messages_match_pytorch():
    x = autograd.tensor(X)
    with pytest.raises(IndexError, match='index 5 is out of bounds for dimension 0 with size 3'):
        x[5]
    # an index tensor is checked on the device: on a GPU the error (no index in it) comes at
    # the next synchronisation, as PyTorch's device-side assert does
    with pytest.raises(IndexError, match='index (5 is )?out of bounds for dimension 0 with size 3'):
        try:
            x[autograd.tensor([5])]
        finally:
            await_checks()
    with pytest.raises(IndexError, match='tensors used as indices must be long, int, byte or '
                                         'bool tensors'):
        x[autograd.tensor([0.0])]
    with pytest.raises(IndexError, match='too many indices for tensor of dimension 3'):
        x[0, 0, 0, 0]
    with pytest.raises(ValueError, match='step must be greater than zero'):
        x[::-2]
    with pytest.raises(IndexError, match=r'The shape of the mask \[2\] at index 0 does not match '
                                         r'the shape of the indexed tensor \[3, 4, 5\] at index 0'):
        x[autograd.tensor([True, False])]


# ----------------------------------------------------------------------------- setitem

W = rand(4, seed=11)

SETITEM = {
    'row from tensor': lambda lib, x, w: _set(x * 1, 1, w * 3),
    'number into slice': lambda lib, x, w: _set(x * 1, (slice(None), slice(1, 3)), 0.5) * w,
    'broadcast value': lambda lib, x, w: _set(x * 1, (slice(0, 2),), w),
    'value with leading 1-dims': lambda lib, x, w: _set(x * 1, 0, w.reshape(1, 4)),
    'int list rows': lambda lib, x, w: _set(x * 1, [0, 2], w),
    'range rows and list columns': lambda lib, x, w: _set(x * 1, (range(2), [0, 3]), w[:2]),
    'index tensors': lambda lib, x, w: _set(x * 1, (lib.tensor([0, 2]), lib.tensor([1, 3])),
                                            w[:2]),
    'bool mask of itself': lambda lib, x, w: _set(x * 1, x > 0, 0.0) * w,
    'bool mask with values': lambda lib, x, w: _set(x * 1, x < 0, w.sum() * 2),
    'into a fresh tensor': lambda lib, x, w: _set(lib.zeros(3, 4, dtype=x.dtype), [0, 2], w) * x,
    'whole tensor': lambda lib, x, w: _set(x * 1, Ellipsis, w) + x,
    'python += on an element': lambda lib, x, w: _iadd(x * 1, (0, 1), w[0]) ** 2,
    'python += on a row': lambda lib, x, w: _iadd(x * 1, 1, w) ** 2,
    'python += with index list': lambda lib, x, w: _iadd(x * 1, [0, 2], w) ** 2,
}


def _set(y, key, value):
    y[key] = value
    return y


def _iadd(y, key, value):
    y[key] += value
    return y


@pytest.mark.parametrize('name', sorted(SETITEM))
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_setitem(name, dtype):
    check_op(SETITEM[name], rand(3, 4, seed=3).astype(dtype), W.astype(dtype))


def test_setitem_casts_value_to_the_tensor_dtype():
    check_op(lambda lib, x, w: _set(x * 1, 0, w), rand(3, 4, seed=3), W.astype('float32'))
    check_op(lambda lib, x: _set(lib.zeros(2, 3, dtype=lib.int64), 0, 2.7), X, grad=False)


def test_setitem_value_requiring_grad_makes_the_target_require_grad():
    y = autograd.zeros(3)
    w = autograd.tensor(2.0, requires_grad=True)
    y[1] = w
    assert y.requires_grad and y.grad_fn is not None
    (y * autograd.tensor([1.0, 5.0, 7.0])).sum().backward()
    assert w.grad.item() == 5.0


def test_setitem_bumps_the_version_counter():
    y = autograd.zeros(3, 4)
    v0 = y._version
    y[0] = 1.0
    assert y._version == v0 + 1
    y[[0, 1]] = autograd.ones(4)
    assert y._version == v0 + 2


def test_setitem_into_a_leaf_that_requires_grad_raises():
    check_raises(lambda lib, x: _set(x.requires_grad_(), 0, 1.0), rand(3), exc=RuntimeError)
    check_raises(lambda lib, x: _set(x.requires_grad_()[1:], 0, 1.0), rand(3), exc=RuntimeError)


def test_setitem_into_a_leaf_under_no_grad_is_allowed():
    x = autograd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with autograd.no_grad():
        x[0] = 5.0
    assert x.tolist() == [5.0, 2.0, 3.0] and x.is_leaf


def test_setitem_errors():
    check_raises(lambda lib, x: _set(x, 0, lib.ones(3)), X, exc=RuntimeError)
    check_raises(lambda lib, x: _set(x, 7, 1.0), X, exc=IndexError)
    check_raises(lambda lib, x: _set(x, (slice(None), [9]), 1.0), X, exc=IndexError)


def test_setitem_overwritten_value_needed_by_backward_raises():
    check_raises(lambda lib, x: _set(x.requires_grad_().exp(), 0, 1.0).sum().backward(),
                 rand(3), exc=RuntimeError)


# ----------------------------------------------------------------------------- views in place

VIEW_INPLACE = {
    'column times two': lambda lib, x, w: _inplace(x * 1, lambda y: y[:, 0].mul_(2)),
    'row plus w': lambda lib, x, w: _inplace(x * 1, lambda y: y[1].add_(w)),
    'row += w': lambda lib, x, w: _plus_view(x * 1, w),
    'exp of a row': lambda lib, x, w: _inplace(x * 1, lambda y: y[2, 1:].exp_()),
    'view of a view': lambda lib, x, w: _inplace(x * 1, lambda y: y[1:][:, 1].sub_(w[:2])),
    'view of a fresh tensor': lambda lib, x, w:
        _inplace(lib.zeros(3, 4, dtype=x.dtype), lambda y: y[0].add_(w)) * x,
    'twice on one view': lambda lib, x, w: _twice(x * 1, w),
}


def _inplace(y, f):
    f(y)
    return y


def _plus_view(y, w):
    v = y[1]
    v += w
    return y * y


def _twice(y, w):
    v = y[1]
    v.add_(w)
    v.exp_()
    return y + v.sum()


@pytest.mark.parametrize('name', sorted(VIEW_INPLACE))
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_inplace_on_a_view(name, dtype):
    check_op(VIEW_INPLACE[name], rand(3, 4, seed=3).astype(dtype), W.astype(dtype))


def test_inplace_on_a_view_updates_the_view_and_its_parents():
    def f(lib, x, w):
        y = x * 1
        v = y[1:]
        u = v[:, 1]
        u.add_(w[:2])
        return v * 2, u ** 2
    check_op(f, rand(3, 4, seed=3), W)


def test_inplace_on_a_view_gives_the_base_a_copy_slices_node():
    y = autograd.tensor(X, requires_grad=True) * 1
    y[0].add_(1.0)
    assert y.grad_fn.name() == 'CopySlices'


def test_inplace_on_a_view_of_a_leaf_raises():
    check_raises(lambda lib, x: x.requires_grad_()[0].add_(1.0), X, exc=RuntimeError)


# ----------------------------------------------------------------------------- along a dim

IDX0 = np.array([[0, 2, 2, 1], [1, 0, 0, 0]])            # dim 0 of a (3, 4) input
IDX1 = np.array([[3, 3, 0], [1, 1, 1], [0, 2, 3]])       # dim 1, repeated indices


def _t(lib, a):
    return lib.tensor(a)


OPS = {
    'gather dim 0': lambda lib, x, s: lib.gather(x, 0, _t(lib, IDX0)),
    'gather dim 1 repeated': lambda lib, x, s: x.gather(1, _t(lib, IDX1)),
    'gather dim -1 smaller index': lambda lib, x, s: x.gather(-1, _t(lib, IDX1[:2, :2])),
    'gather int32 index': lambda lib, x, s: x.gather(1, _t(lib, IDX1.astype(np.int32))),
    'scatter src': lambda lib, x, s: x.scatter(1, _t(lib, np.array([[3, 0, 1]] * 3)), s[:, :3]),
    'scatter value': lambda lib, x, s: lib.scatter(x, 0, _t(lib, IDX0), 1.5) * s,
    'scatter_add repeated': lambda lib, x, s: x.scatter_add(1, _t(lib, IDX1), s[:, :3]),
    'scatter_add dim 0': lambda lib, x, s: lib.scatter_add(x, 0, _t(lib, IDX0), s[:2]),
    'scatter_ in place': lambda lib, x, s: (x * 1).scatter_(0, _t(lib, IDX0[:1]), s[:1]),
    'scatter_add_ in place': lambda lib, x, s: (x * 1).scatter_add_(1, _t(lib, IDX1), s[:, :3]),
    'index_select dim 0': lambda lib, x, s: lib.index_select(x, 0, _t(lib, np.array([2, 0, 2]))),
    'index_select dim 1': lambda lib, x, s: x.index_select(1, _t(lib, np.array([3, 1]))),
    'index_select 0-d index': lambda lib, x, s: x.index_select(1, _t(lib, np.array(2))),
    'index_add repeated': lambda lib, x, s: lib.index_add(x, 1, _t(lib, np.array([3, 0, 3, 3])),
                                                          s),
    'index_add alpha': lambda lib, x, s: x.index_add(0, _t(lib, np.array([2, 2, 0])), s[:, :4],
                                                     alpha=-0.5),
    'index_add_ in place': lambda lib, x, s: (x * 1).index_add_(
        1, _t(lib, np.array([1, 1, 2, 0])), s),
    'masked_fill number': lambda lib, x, s: x.masked_fill(x > 0, -1.0) * s,
    'masked_fill 0-d tensor': lambda lib, x, s: lib.masked_fill(x, x < 0.5, s[0, 0] * 3),
    'masked_fill broadcast mask': lambda lib, x, s: x.masked_fill(_t(lib, MASK1[:, None]), 0.0),
    'masked_fill mask larger than input': lambda lib, x, s: lib.masked_fill(
        x[0], _t(lib, MASK2), s[0, 0]),
    'masked_fill_ in place': lambda lib, x, s: (x * 1).masked_fill_(x > 0, s[1, 1]),
    'masked_select': lambda lib, x, s: lib.masked_select(x, x > 0),
    'masked_select broadcast': lambda lib, x, s: x.masked_select(_t(lib, MASK1[:, None])),
    'take_along_dim': lambda lib, x, s: lib.take_along_dim(x, _t(lib, IDX1), dim=1),
    'take_along_dim broadcast': lambda lib, x, s: x.take_along_dim(
        _t(lib, np.array([[2], [0], [1]])), 1),
    'take_along_dim flat': lambda lib, x, s: lib.take_along_dim(x, _t(lib, np.array([11, 0, 0]))),
    'index_put': lambda lib, x, s: lib.index_put(x, (_t(lib, np.array([0, 2])),), s[0]),
    'index_put_ accumulate': lambda lib, x, s: (x * 1).index_put_(
        (_t(lib, np.array([0, 0, 1])), _t(lib, np.array([1, 1, 3]))), s[0, :3], accumulate=True),
    'index_put_ accumulate broadcast': lambda lib, x, s: (x * 1).index_put_(
        (_t(lib, np.array([2, 2])),), s[0], accumulate=True),
}


@pytest.mark.parametrize('name', sorted(OPS))
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_op(name, dtype):
    x = rand(3, 4, seed=5).astype(dtype)
    s = rand(3, 4, seed=6).astype(dtype)
    check_op(OPS[name], x, s)


def test_gather_and_scatter_on_3d():
    x = rand(2, 3, 4, seed=1)
    idx = np.array([[[0, 2], [1, 1]], [[2, 2], [0, 1]]])
    check_op(lambda lib, x: x.gather(1, _t(lib, idx)), x)
    check_op(lambda lib, x, s: x.scatter_add(2, _t(lib, idx), s), x, rand(2, 2, 2, seed=2))
    check_op(lambda lib, x, s: x.scatter(1, _t(lib, idx), s), x, rand(2, 2, 2, seed=2))


def test_scatter_add_accumulates_repeated_indices():
    x = autograd.zeros(3)
    out = x.scatter_add(0, autograd.tensor([0, 0, 2, 0]), autograd.tensor([1.0, 2.0, 3.0, 4.0]))
    assert out.tolist() == [7.0, 0.0, 3.0]


def _none(lib, *shape, dtype=np.int64):
    return _t(lib, np.zeros(shape, dtype))


# an empty index selects nothing and is checked for nothing (shape, dtype) but being a
# tensor: gather gives an empty result of its shape, scatter the input unchanged
EMPTY_INDEX = {
    'gather (3, 0)': lambda lib, x, s: x.gather(1, _none(lib, 3, 0)),
    'gather (0,)': lambda lib, x, s: lib.gather(x, 0, _none(lib, 0)),
    'gather (0, 7)': lambda lib, x, s: x.gather(0, _none(lib, 0, 7)),
    'gather (2, 0, 3) float': lambda lib, x, s: x.gather(-1, _none(lib, 2, 0, 3, dtype='f4')),
    'gather 0-d input': lambda lib, x, s: x[0, 0].gather(0, _none(lib, 0)),
    'scatter (3, 0)': lambda lib, x, s: x.scatter(1, _none(lib, 3, 0), s[:, :0]),
    'scatter (0, 4)': lambda lib, x, s: lib.scatter(x, 0, _none(lib, 0, 4), s[:0]),
    'scatter (0, 9)': lambda lib, x, s: x.scatter(0, _none(lib, 0, 9), s[:1, :1]),
    'scatter value (2, 0, 3)': lambda lib, x, s: x.scatter(0, _none(lib, 2, 0, 3), 2.0) * s,
    'scatter_ (0,)': lambda lib, x, s: (x * 1).scatter_(0, _none(lib, 0), s[0, :0]),
    'scatter_add (5, 0)': lambda lib, x, s: x.scatter_add(1, _none(lib, 5, 0), s[:1, :0]),
    'scatter_add (0,) int16': lambda lib, x, s: lib.scatter_add(
        x, 0, _none(lib, 0, dtype=np.int16), s.reshape(-1)[:0]),
    'scatter_add_ (0, 9)': lambda lib, x, s: (x * 1).scatter_add_(0, _none(lib, 0, 9),
                                                                  s[:1, :1]),
}


@pytest.mark.parametrize('name', sorted(EMPTY_INDEX))
def test_gather_scatter_empty_index(name):
    check_op(EMPTY_INDEX[name], rand(3, 4, seed=5), rand(3, 4, seed=6))


@pytest.mark.parametrize('op', ['scatter', 'scatter_add'])
@pytest.mark.parametrize('index,src', [((2, 2), (3, 4)), ((3, 0), (3, 4)), ((0,), (2,)),
                                       ((2, 0, 3), (2, 2))])
def test_scatter_src_larger_than_index_has_no_gradient(op, index, src):
    # the engine's error, as PyTorch's: src's gradient has index's shape
    def f(lib, x, s):
        s.requires_grad_()
        getattr(lib, op)(x, 0, _none(lib, *index), s).sum().backward()
    check_raises(f, rand(3, 4), rand(*src), match='returned an invalid gradient at index 1')


@pytest.mark.filterwarnings('ignore:The reduce argument')
def test_scatter_reduce_forward_matches_and_has_no_gradient():
    idx = np.array([[0, 0, 1, 0]])
    check_op(lambda lib, x, s: x.scatter(0, _t(lib, idx), s, reduce='add'), X[0, :3], X[1, :1],
             grad=False)
    check_op(lambda lib, x: x.scatter(0, _t(lib, idx), 2.0, reduce='multiply'), X[0, :3],
             grad=False)
    check_raises(lambda lib, x: x.requires_grad_().scatter(
        0, _t(lib, idx), 2.0, reduce='add').sum().backward(), X[0, :3], exc=RuntimeError)


@pytest.mark.parametrize('as_tuple', [False, True])
@pytest.mark.parametrize('shape', [(), (5,), (3, 4)])
def test_nonzero(as_tuple, shape):
    a = np.asarray(rand(*shape, seed=4) > 0, dtype=np.float64)
    check_op(lambda lib, x: lib.nonzero(x, as_tuple=as_tuple), a, grad=False)
    check_op(lambda lib, x: x.nonzero(), a, grad=False)


def test_argwhere():
    check_op(lambda lib, x: lib.argwhere(x > 0), X, grad=False)


OP_ERRORS = {
    'gather index out of range': (lambda lib, x: x.gather(0, lib.tensor([[5]])), RuntimeError),
    'gather negative index': (lambda lib, x: x.gather(0, lib.tensor([[-1]])), RuntimeError),
    'gather float index': (lambda lib, x: x.gather(0, lib.tensor([[1.0]])), RuntimeError),
    'gather index ndim': (lambda lib, x: x.gather(0, lib.tensor([1])), RuntimeError),
    'gather index too large': (lambda lib, x: x.gather(0, lib.tensor([[1] * 5])), RuntimeError),
    'gather bad dim': (lambda lib, x: x.gather(2, lib.tensor([[0]])), IndexError),
    'scatter index out of range': (lambda lib, x: x.scatter(0, lib.tensor([[5]]), 1.0),
                                   RuntimeError),
    'scatter_add src ndim': (lambda lib, x: x.scatter_add(0, lib.tensor([[1]]),
                                                          lib.ones(1, 1, 1, dtype=x.dtype)),
                             RuntimeError),
    'index_select matrix index': (lambda lib, x: x.index_select(0, lib.tensor([[1]])),
                                  IndexError),
    'index_select out of range': (lambda lib, x: x.index_select(0, lib.tensor([3])), IndexError),
    'index_select negative': (lambda lib, x: x.index_select(0, lib.tensor([-1])), IndexError),
    'index_add count': (lambda lib, x: x.index_add(0, lib.tensor([1]), lib.ones(2, 4,
                                                                               dtype=x.dtype)),
                        RuntimeError),
    'masked_fill float mask': (lambda lib, x: x.masked_fill(lib.ones(3, 4), 1.0), RuntimeError),
    'masked_fill 1-d value': (lambda lib, x: x.masked_fill(x > 0, lib.tensor([1.0])),
                              RuntimeError),
    'masked_fill_ mask larger': (lambda lib, x: x.masked_fill_(lib.ones(2, 3, 4, dtype=lib.bool),
                                                               1.0), RuntimeError),
    'masked_fill mask shape': (lambda lib, x: x.masked_fill(lib.ones(4, 3, dtype=lib.bool), 0.0),
                               RuntimeError),
    'masked_fill_ 0-d input': (lambda lib, x: x[0, 0].clone().masked_fill_(
        lib.ones(2, dtype=lib.bool), 0.0), RuntimeError),
    'masked_fill_ mask shape': (lambda lib, x: x.masked_fill_(lib.ones(4, 3, dtype=lib.bool),
                                                              0.0), RuntimeError),
    'masked_select float mask': (lambda lib, x: x.masked_select(lib.ones(3, 4)), RuntimeError),
    'masked_select shapes': (lambda lib, x: x.masked_select(lib.ones(2, 4, dtype=lib.bool)),
                             RuntimeError),
}


@pytest.mark.parametrize('name', sorted(OP_ERRORS))
def test_op_errors(name):
    fn, exc = OP_ERRORS[name]
    check_raises(fn, rand(3, 4, seed=5), exc=exc)


def test_op_error_messages_match_pytorch():
    x = autograd.tensor(rand(3, 4, seed=5))
    with pytest.raises(RuntimeError, match='index (5 is )?out of bounds for dimension 0 with size 3'):
        try:
            x.gather(0, autograd.tensor([[5]]))
        finally:
            await_checks()
    with pytest.raises(RuntimeError, match='gather\\(\\): Expected dtype int32/int64 for index'):
        x.gather(0, autograd.tensor([[1.0]]))
    with pytest.raises(IndexError, match='index out of range in self'):
        try:
            x.index_select(1, autograd.tensor([4]))
        finally:
            await_checks()
    with pytest.raises(RuntimeError, match='masked_fill_ only supports boolean masks, but got '
                                           'mask with dtype float32'):
        x.masked_fill(autograd.ones(3, 4), 1.0)
    # the mask is tensor a out of place, b in place, as PyTorch has them
    sizes = r'The size of tensor a \(4\) must match the size of tensor b \(3\) at non-singleton'
    with pytest.raises(RuntimeError, match=f'masked_fill: {sizes} dimension 0'):
        x.masked_fill(autograd.ones(4, 1, dtype=autograd.bool), 1.0)
    with pytest.raises(RuntimeError, match=f'masked_fill_: {sizes} dimension 1'):
        x.masked_fill_(autograd.ones(3, dtype=autograd.bool), 1.0)


def test_chained_setitem_writes_through_the_view():
    def f(lib, x, w):
        y = x * 1
        y[1][2] = w[0] * 2
        y[0][[1, 1]] = w[1:3]       # duplicate index: w[2] is written last, but as in
        return y * y                # PyTorch both writes get the gradient
    check_op(f, rand(3, 4, seed=3), W, derivative=False)


# ----------------------------------------------------------------------------- random indices

from hypothesis import given, settings, strategies as st  # noqa: E402


@st.composite
def shapes_and_indices(draw):
    """A shape and an index mixing ints, slices, None, '...' and integer lists."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    key = []
    n = draw(st.integers(1, 4))         # one length for all lists, so they broadcast
    for size in shape:
        kind = draw(st.sampled_from(['int', 'slice', 'list', 'none', 'full']))
        if kind == 'int':
            key.append(draw(st.integers(-size, size - 1)))
        elif kind == 'slice':
            start = draw(st.none() | st.integers(-size, size))
            stop = draw(st.none() | st.integers(-size, size))
            key.append(slice(start, stop, draw(st.none() | st.integers(1, 3))))
        elif kind == 'list':
            key.append(draw(st.lists(st.integers(-size, size - 1), min_size=n, max_size=n)))
        elif kind == 'none':
            key.extend([None, slice(None)])
        else:
            key.append(slice(None))
    if draw(st.booleans()) and key:
        key[draw(st.integers(0, len(key) - 1))] = Ellipsis
    return shape, tuple(key)


@settings(max_examples=60, deadline=None)
@given(shapes_and_indices())
def test_random_getitem_matches_pytorch(case):
    shape, key = case
    check_op(lambda lib, x: x[key], rand(*shape, seed=1))


# ----------------------------------------------------------------------------- stale views

def test_view_taken_before_base_changed_in_place_sees_new_history():
    def fn(lib, x):
        y = x * 1
        v = y[0:2]
        y.mul_(2)
        return v * 3
    check_op(fn, rand(4, seed=11))


def test_sibling_view_sees_in_place_change_through_other_view():
    def fn(lib, x, w):
        y = x * 1
        a, b = y[0:2], y[1:3]
        a.mul_(w)
        return b * 1
    check_op(fn, rand(4, seed=12), rand(2, seed=13))


def test_in_place_on_multi_output_view_raises():
    import autograd
    x = autograd.ones(4, requires_grad=True)
    for parts in (x.split(2), x.chunk(2), (x * 1).unbind(0)):
        with pytest.raises(RuntimeError, match='function that returns multiple views'):
            parts[0].mul_(2)


# ----------------------------------------------------------------------------- array sweep
# A backward that records no graph (no create_graph) hands each backward bare arrays.

@pytest.mark.parametrize('name', sorted(GETITEM))
def test_getitem_gradient_on_arrays(name):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        check_op(lambda lib, x: x[_idx(lib, GETITEM[name])], X.astype('float32'), double=False)


@pytest.mark.parametrize('name', sorted(SETITEM))
def test_setitem_gradient_on_arrays(name):
    check_op(SETITEM[name], rand(3, 4, seed=3, dtype='float32'), W.astype('float32'),
             double=False)


@pytest.mark.parametrize('name', sorted(VIEW_INPLACE))
def test_inplace_on_a_view_gradient_on_arrays(name):
    check_op(VIEW_INPLACE[name], rand(3, 4, seed=3, dtype='float32'), W.astype('float32'),
             double=False)


@pytest.mark.parametrize('name', sorted(OPS))
def test_op_gradient_on_arrays(name):
    check_op(OPS[name], rand(3, 4, seed=5, dtype='float32'), rand(3, 4, seed=6, dtype='float32'),
             double=False)
