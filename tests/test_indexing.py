"""Indexing against PyTorch: getitem/setitem, views written in place, gather/scatter, masks."""
import warnings

import numpy as np
import pytest

import autograd
from oracle import check_op, check_raises, rand

torch = pytest.importorskip('torch')

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
    with pytest.raises(IndexError, match='index 5 is out of bounds for dimension 0 with size 3'):
        x[autograd.tensor([5])]
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
