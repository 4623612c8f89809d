"""Reductions over dimensions (``dim``/``keepdim`` as PyTorch)."""
from ..backend import int64
from ..node import Op
from ._util import normalize_dims, prod
from .shape import broadcast_to, reshape


def _dims(dim, ndim):
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        dim = None          # PyTorch reduces everything for an empty dim list
    return normalize_dims(dim, ndim)


def _expand_back(g, in_shape, axes, keepdim):
    """Broadcast a reduced gradient back to the input's shape."""
    if not keepdim and axes:
        shape = list(in_shape)
        for ax in axes:
            shape[ax] = 1
        g = reshape(g, tuple(shape))
    return broadcast_to(g, in_shape)


class Sum(Op):
    __slots__ = ('in_shape', 'axes', 'keepdim')

    def forward(self, xp, a, dim=None, keepdim=False, dtype=None):
        axes = _dims(dim, a.ndim)
        self.in_shape, self.axes, self.keepdim = a.shape, axes, keepdim
        if dtype is not None:
            a = a.astype(dtype.np)
        elif a.dtype.kind in 'biu':
            a = a.astype(int64.np)
        return a.sum(axis=axes, keepdims=keepdim)

    def backward(self, g):
        return _expand_back(g, self.in_shape, self.axes, self.keepdim)


class Mean(Op):
    __slots__ = ('in_shape', 'axes', 'keepdim', 'count')

    def forward(self, xp, a, dim=None, keepdim=False, dtype=None):
        if dtype is not None:
            a = a.astype(dtype.np)
        elif a.dtype.kind != 'f':
            from ..backend import from_numpy_dtype
            raise RuntimeError('mean(): could not infer output dtype. Input dtype must be either '
                               'a floating point or complex dtype. Got: '
                               f'{from_numpy_dtype(a.dtype).name.capitalize()}')
        axes = _dims(dim, a.ndim)
        self.in_shape, self.axes, self.keepdim = a.shape, axes, keepdim
        self.count = prod(a.shape[i] for i in axes)
        return a.mean(axis=axes, keepdims=keepdim)

    def backward(self, g):
        return _expand_back(g / self.count, self.in_shape, self.axes, self.keepdim)


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` (all dims when None)."""
    from ..backend import as_dtype
    return Sum.apply(input, dim=dim, keepdim=keepdim, dtype=as_dtype(dtype))


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim`` (all dims when None); floating inputs only, as PyTorch."""
    from ..backend import as_dtype
    return Mean.apply(input, dim=dim, keepdim=keepdim, dtype=as_dtype(dtype))


FUNCTIONS = ['sum', 'mean']
METHODS = ['sum', 'mean']
