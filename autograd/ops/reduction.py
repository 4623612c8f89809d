"""Reductions over dimensions, and the ops that normalise or order along one.

``dim`` is None (every axis), an int or a tuple; ``keepdim`` keeps reduced axes as size 1.
Dtypes follow PyTorch: integer and bool sums/products are int64, float-only ops
(mean, var, std, norm, softmax) reject integers.  Every backward is written with operators
and ops, among them ops defined here in adjoint pairs (take/put along an axis,
cumsum/reverse cumsum), so every gradient differentiates again, and runs on bare arrays
in a sweep that records no graph (``array_backward``).
"""
import math
import warnings
from collections import namedtuple

import numpy

from ..backend import as_dtype, float16, float32, int64
from ..op import Op, apply_unary
from ..tensor import Tensor
from ..extend import const_like, array_of, xp_of
from ._util import along, normalize_dims, quiet, scalar_name, to_float, variant, wrap_dim
from .elementwise import Abs, Exp, Sign, Where, maximum, minimum
from .shape import broadcast_to, reshape, to_copy

# PyTorch's structured results: tuples with named fields (``torch.return_types.max``)
_max_t = namedtuple('max', ['values', 'indices'])
_min_t = namedtuple('min', ['values', 'indices'])
_sort_t = namedtuple('sort', ['values', 'indices'])
_topk_t = namedtuple('topk', ['values', 'indices'])
_median_t = namedtuple('median', ['values', 'indices'])


# ----------------------------------------------------------------------------- helpers

def _dims(dim, ndim):
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        dim = None          # PyTorch reduces everything for an empty dim list
    return normalize_dims(dim, ndim)


def _keep_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _unsqueeze(g, in_shape, axes, keepdim):
    """A reduced tensor with its reduced axes back as size 1 (it then broadcasts)."""
    if keepdim or not axes or g.ndim == 0:     # a 0-d gradient broadcasts as it is
        return g
    return g.reshape(_keep_shape(in_shape, axes))


def _expand_back(g, in_shape, axes, keepdim):
    """Broadcast a reduced gradient back to the input's shape."""
    return broadcast_to(_unsqueeze(g, in_shape, axes, keepdim), in_shape)


def _float_only(a, msg):
    if a.dtype.kind != 'f':
        raise RuntimeError(msg.format(scalar_name(a)))


_tname = scalar_name        # (the name nn.functional.pooling imports)


def _accumulating(a, dtype):
    """``a`` cast for a sum or product: to ``dtype`` if given, else integers and bools to
    int64 (as PyTorch)."""
    if dtype is not None:
        return a.astype(dtype.np)
    return a.astype(int64.np) if a.dtype.kind in 'biu' else a


def _pairwise(x, d, mask, fill):
    """``M[..., i, j, ...] = x[..., j, ...]`` where ``mask[i, j]`` else ``fill``: ``x``
    repeated along a new row axis ``d`` (for O(n^2) product formulas that stay exact at
    zeros).  ``mask`` is a boolean (n, n) array."""
    shape = array_of(x).shape
    xs = x.reshape(shape[:d] + (1,) + shape[d:])
    m = mask.reshape(mask.shape + (1,) * (len(shape) - d - 1))
    return Where.apply(const_like(m, x), xs, fill)


# ----------------------------------------------------------------------------- sum, mean

@quiet
class Sum(Op):
    __slots__ = ('in_shape', 'axes', 'keepdim')
    array_backward = True

    def forward(self, xp, a, dim=None, keepdim=False, dtype=None):
        self.in_shape, self.keepdim = a.shape, keepdim
        if dtype is not None or a.dtype.kind in 'biu':     # (no call for the common float sum)
            a = _accumulating(a, dtype)
        if dim is None and not keepdim:
            self.axes = tuple(range(a.ndim))
            return a.sum()      # (NumPy's keyword handling costs more than a small sum)
        self.axes = axes = _dims(dim, a.ndim)
        return a.sum(axis=axes, keepdims=keepdim)

    def backward(self, g):
        return _expand_back(g, self.in_shape, self.axes, self.keepdim)


@quiet
class Mean(Op):
    __slots__ = ('in_shape', 'axes', 'keepdim', 'count')
    array_backward = True

    def forward(self, xp, a, dim=None, keepdim=False, dtype=None):
        if dtype is not None:
            a = a.astype(dtype.np)
        else:
            _float_only(a, 'mean(): could not infer output dtype. Input dtype must be either '
                           'a floating point or complex dtype. Got: {}')
        self.in_shape, self.keepdim = a.shape, keepdim
        # sum / count, as NumPy's mean computes it (float16 summed in float32), without the
        # Python layers of ndarray.mean, which cost three small sums
        half = a.dtype == float16.np
        work = a.astype(float32.np) if half else a
        if dim is None and not keepdim:
            self.axes, self.count = tuple(range(a.ndim)), a.size
            s = work.sum()      # (as in Sum: no keywords)
        else:
            self.axes = axes = _dims(dim, a.ndim)
            self.count = math.prod(a.shape[i] for i in axes)
            s = work.sum(axis=axes, keepdims=keepdim)
        return (s / self.count).astype(a.dtype) if half else s / self.count

    def backward(self, g):
        return _expand_back(g / self.count, self.in_shape, self.axes, self.keepdim)


# ----------------------------------------------------------------------------- products

@quiet
class Prod(Op):
    """Product along one axis.  d(prod)/dx_i = prod_{k != i} x_k (``ProdOthers``), which is
    exact where some x_k are zero, unlike out / x_i."""
    __slots__ = ('in_shape', 'dim', 'keepdim')
    array_backward = True
    save = (0,)

    def forward(self, xp, a, dim, keepdim=False, dtype=None):
        self.in_shape, self.dim, self.keepdim = a.shape, dim, keepdim
        a = _accumulating(a, dtype)
        if a.ndim == 0:
            return a.copy()
        return a.prod(axis=dim, keepdims=keepdim)

    def backward(self, g):
        x, = self.saved_tensors
        if not self.in_shape:
            return g
        axes = (self.dim,)
        return _expand_back(g, self.in_shape, axes, self.keepdim) * \
            ProdOthers.apply(x, dim=self.dim)


def _exclusive_cumprods(xp, a, dim):
    """prod_{k<i} a_k and prod_{k>i} a_k along ``dim`` (empty products are 1)."""
    n = a.shape[dim]
    head = [slice(None)] * a.ndim
    tail = [slice(None)] * a.ndim
    head[dim], tail[dim] = slice(0, n - 1), slice(1, n)
    first = [slice(None)] * a.ndim
    first[dim] = slice(0, 1)
    ones = xp.ones_like(a[tuple(first)])
    left = xp.concatenate([ones, xp.cumprod(a[tuple(head)], axis=dim)], axis=dim)
    rev = xp.flip(a[tuple(tail)], axis=dim)
    right = xp.concatenate([xp.flip(xp.cumprod(rev, axis=dim), axis=dim), ones], axis=dim)
    return left, right


@quiet
class ProdOthers(Op):
    """``out_i = prod_{k != i} x_k`` along ``dim``, from the products before and after i
    (no division, so exact at zeros)."""
    __slots__ = ('dim',)
    array_backward = True
    save = (0,)
    save_output = True

    def forward(self, xp, a, dim):
        self.dim = dim
        if a.shape[dim] == 0:
            return a.copy()
        left, right = _exclusive_cumprods(xp, a, dim)
        return left * right

    def backward(self, g):
        # d out_i / d x_j = prod_{k != i, j} x_k  (j != i), 0 for j == i
        x, out = self.saved_tensors
        d = self.dim
        xp, data = xp_of(x), array_of(x)
        if not bool(xp.any(data == 0)):
            # prod_{k != i,j} x_k = out_i / x_j:  grad_j = (sum_i g_i out_i - g_j out_j) / x_j
            go = g * out
            return (Sum.apply(go, dim=d, keepdim=True) - go) / x
        # with zeros: rows i of M hold x with x_i replaced by 1; ProdOthers of row i at j is
        # then prod_{k != i,j} x_k.  O(n^2) memory, needed only for second derivatives.
        shape = data.shape
        eye = xp.eye(shape[d], dtype=bool)
        p = ProdOthers.apply(_pairwise(x, d, ~eye, 1.0), dim=d + 1)
        gi = g.reshape(shape[:d + 1] + (1,) + shape[d + 1:])
        diag = const_like(eye.reshape(eye.shape + (1,) * (len(shape) - d - 1)), x)
        return Sum.apply(Where.apply(diag, 0.0, gi * p), dim=d)


def _cumsum(xp, a, dim, reverse=False):
    if a.ndim == 0:
        return a.copy()
    if reverse:
        return xp.flip(xp.cumsum(xp.flip(a, axis=dim), axis=dim), axis=dim)
    return xp.cumsum(a, axis=dim)


@quiet
class Cumsum(Op):
    """Running sum along ``dim``; its adjoint is the reverse running sum."""
    __slots__ = ('dim',)
    array_backward = True

    def forward(self, xp, a, dim, dtype=None):
        self.dim = wrap_dim(dim, a.ndim)
        return _cumsum(xp, _accumulating(a, dtype), self.dim)

    def backward(self, g):
        return ReverseCumsum.apply(g, dim=self.dim)


@quiet
class ReverseCumsum(Op):
    """``out_i = sum_{k >= i} x_k`` along ``dim`` (the backward of cumsum)."""
    __slots__ = ('dim',)
    array_backward = True

    def forward(self, xp, a, dim):
        self.dim = dim
        return _cumsum(xp, a, dim, reverse=True)

    def backward(self, g):
        return Cumsum.apply(g, dim=self.dim)


@quiet
class Cumprod(Op):
    """Running product along ``dim``.

    grad_k = sum_{i >= k} g_i prod_{j <= i, j != k} x_j; without zeros that is
    revcumsum(g * out)_k / x_k, with zeros it is built from ``ProdOthers`` (O(n^2))."""
    __slots__ = ('dim',)
    array_backward = True
    save = (0,)
    save_output = True

    def forward(self, xp, a, dim, dtype=None):
        self.dim = wrap_dim(dim, a.ndim)
        a = _accumulating(a, dtype)
        return a.copy() if a.ndim == 0 else xp.cumprod(a, axis=self.dim)

    def backward(self, g):
        x, out = self.saved_tensors
        d = self.dim
        xp, data = xp_of(x), array_of(x)
        if data.size <= 1:          # the gradient itself, as PyTorch's (no graph through x)
            return g
        if not bool(xp.any(data == 0)):
            return ReverseCumsum.apply(g * out, dim=d) / x
        shape = data.shape
        upto = xp.tri(shape[d], dtype=bool)         # upto[i, j] = j <= i
        p = ProdOthers.apply(_pairwise(x, d, upto, 1.0), dim=d + 1)
        gi = g.reshape(shape[:d + 1] + (1,) + shape[d + 1:])
        mask = const_like(upto.reshape(upto.shape + (1,) * (len(shape) - d - 1)), x)
        return Sum.apply(Where.apply(mask, gi * p, 0.0), dim=d)


# ----------------------------------------------------------------------------- max, min

def _check_nonempty(name, a, axes, dim):
    if dim is None and a.size == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() "
                           "== 0. Specify the reduction dim with the 'dim' argument.")
    for ax in axes:
        if a.shape[ax] == 0:
            raise IndexError(f'{name}(): Expected reduction dim {ax} to have non-zero size.')


def _evenly(g, x, y, axes, keepdim, nan_equal=True):
    """The gradient of a selection that may tie (max, amax, median of all): ``g`` shared
    equally by the elements equal to the result (NaN counting as equal to NaN), as
    PyTorch's evenly_distribute_backward.  ``nan_equal=False``: as its scale_grad_by_count
    (amax, amin), where a NaN result matches nothing and its slice's gradient is NaN."""
    xp, xd, yd = xp_of(x), array_of(x), array_of(y)
    shape = xd.shape
    yk = yd if keepdim or not axes else yd.reshape(_keep_shape(shape, axes))
    mask = (xd == yk) | (xp.isnan(xd) & xp.isnan(yk)) if nan_equal else xd == yk
    with numpy.errstate(all='ignore'):
        share = mask / mask.sum(axis=axes, keepdims=True)
    return _expand_back(g, shape, axes, keepdim) * const_like(share.astype(xd.dtype), x)


class Amax(Op):
    """Largest value over ``dim``; ties share the gradient."""
    __slots__ = ('axes', 'keepdim', 'full')
    array_backward = True
    save = (0,)
    save_output = True
    fn = 'max'

    def forward(self, xp, a, dim=None, keepdim=False, name='amax'):
        axes = _dims(dim, a.ndim)
        _check_nonempty(name, a, axes, None if dim == () else dim)
        self.axes, self.keepdim = axes, keepdim
        self.full = name in ('max', 'min')      # max(x): PyTorch's evenly_distribute
        return getattr(xp, self.fn)(a, axis=axes, keepdims=keepdim)

    def backward(self, g):
        x, y = self.saved_tensors
        return _evenly(g, x, y, self.axes, self.keepdim, nan_equal=self.full)


Amin = variant(Amax, 'Amin', 'min')


class MaxDim(Op):
    """``(values, indices)`` of the largest element along one axis (the first one where
    several tie); the gradient goes to that index only."""
    __slots__ = ('in_shape', 'dim', 'index')
    array_backward = True
    nondiff_outputs = (1,)
    fn = 'argmax'

    def forward(self, xp, a, dim, keepdim=False, name='max'):
        self.in_shape = a.shape
        d = self.dim = wrap_dim(dim, a.ndim)
        if a.ndim == 0:
            self.index = xp.zeros((), dtype=int64.np)
            return a.copy(), self.index.copy()
        _check_nonempty(name, a, (d,), d)
        idx = xp.expand_dims(self._select(xp, a, d), d)
        self.index = idx
        values = xp.take_along_axis(a, idx, axis=d)
        if not keepdim:
            values, idx = values.squeeze(d), idx.squeeze(d)
        return values, idx.astype(int64.np)

    def _select(self, xp, a, d):
        return getattr(xp, self.fn)(a, axis=d)

    def backward(self, g, _):
        if g is None:
            return None
        if self.index.ndim == 0:
            return g
        g = g.reshape(self.index.shape)
        return PutAlong.apply(g, index=self.index, dim=self.dim, shape=self.in_shape)


MinDim = variant(MaxDim, 'MinDim', 'argmin')


class MedianDim(MaxDim):
    """The lower median along one axis (NaN if the slice has one), with its index."""
    __slots__ = ()

    def _select(self, xp, a, d):
        order = xp.argsort(a, axis=d, kind='stable')      # NaNs sort last
        n = a.shape[d]
        nans = xp.isnan(a).sum(axis=d, keepdims=True) if a.dtype.kind == 'f' else 0
        k = xp.where(nans > 0, n - nans, (n - 1) // 2)
        k = xp.broadcast_to(k, order.shape[:d] + (1,) + order.shape[d + 1:])
        return xp.take_along_axis(order, k, axis=d).squeeze(d)


class Median(Op):
    """The lower median of all elements (NaN if any); ties share the gradient."""
    __slots__ = ()
    array_backward = True
    save = (0,)
    save_output = True

    def forward(self, xp, a):
        if a.size == 0:     # NaN, or for integers (as PyTorch) the type's smallest value
            return xp.asarray(float('nan') if a.dtype.kind == 'f' else
                              xp.iinfo(a.dtype).min if a.dtype.kind in 'iu' else True,
                              dtype=a.dtype)
        if a.dtype.kind == 'b':
            raise NotImplementedError('"median_cpu" not implemented for \'Bool\'')
        flat = a.reshape(-1)
        if a.dtype.kind == 'f' and bool(xp.isnan(flat).any()):
            return xp.asarray(float('nan'), dtype=a.dtype)
        return xp.sort(flat)[(flat.size - 1) // 2]

    def backward(self, g):
        x, y = self.saved_tensors
        return _evenly(g, x, y, tuple(range(x.ndim)), False)


class ArgMax(Op):
    """Index of the largest element (of the flattened input when ``dim`` is None)."""
    __slots__ = ()
    differentiable = False
    fn = 'argmax'

    def forward(self, xp, a, dim=None, keepdim=False):
        name = self.fn
        if a.dtype.kind == 'b':
            raise RuntimeError(f'{name}(): does not support bool input')
        if dim is None:
            if a.size == 0:
                raise IndexError(f'{name}(): Expected reduction dim to be specified for '
                                 'input.numel() == 0.')
            out = getattr(xp, name)(a)
            if keepdim:
                out = out.reshape((1,) * a.ndim)
            return xp.asarray(out, dtype=int64.np)
        d = wrap_dim(dim, a.ndim)
        if a.ndim == 0:
            return xp.zeros((), dtype=int64.np)
        _check_nonempty(name, a, (d,), d)
        out = getattr(xp, name)(a, axis=d)
        if keepdim:
            out = xp.expand_dims(out, d)
        return out.astype(int64.np)


ArgMin = variant(ArgMax, 'ArgMin', 'argmin')


# ----------------------------------------------------------------------------- along an axis

class TakeAlong(Op):
    """``a`` at positions ``index`` along ``dim`` (``index`` shaped like the output)."""
    __slots__ = ('index', 'dim', 'in_shape')
    array_backward = True

    def forward(self, xp, a, index, dim):
        self.index, self.dim, self.in_shape = index, dim, a.shape
        if a.ndim == 0:
            return a.copy()
        return xp.take_along_axis(a, index, axis=dim)

    def backward(self, g):
        return PutAlong.apply(g, index=self.index, dim=self.dim, shape=self.in_shape)


class PutAlong(Op):
    """Zeros of ``shape`` holding ``g`` at positions ``index`` along ``dim`` (distinct
    within each slice, as max/sort/topk produce): the adjoint of ``TakeAlong``."""
    __slots__ = ('index', 'dim')
    array_backward = True

    def forward(self, xp, g, index, dim, shape):
        self.index, self.dim = index, dim
        out = xp.zeros(shape, dtype=g.dtype)
        out[along(xp, index, dim)] = g
        return out

    def backward(self, g):
        return TakeAlong.apply(g, index=self.index, dim=self.dim)


class Sort(Op):
    """``(values, indices)`` sorted along ``dim``; equal elements keep their order
    (a stable sort, which PyTorch's ``stable=True`` promises and its default allows).
    NaN sorts as the largest value, as in PyTorch."""
    __slots__ = ('index', 'dim', 'in_shape')
    array_backward = True
    nondiff_outputs = (1,)

    def forward(self, xp, a, dim=-1, descending=False):
        self.in_shape = a.shape
        if a.ndim == 0:
            self.index = xp.zeros((), dtype=int64.np)
            self.dim = 0
            return a.copy(), self.index.copy()
        d = self.dim = wrap_dim(dim, a.ndim)
        if descending:
            # a stable descending order: sort the reversed slice, then reverse back
            n = a.shape[d]
            order = xp.argsort(xp.flip(a, axis=d), axis=d, kind='stable')
            idx = xp.flip(n - 1 - order, axis=d)
        else:
            idx = xp.argsort(a, axis=d, kind='stable')
        idx = idx.astype(int64.np)
        self.index = idx
        return xp.take_along_axis(a, idx, axis=d), idx

    def backward(self, g, _):
        if g is None:
            return None
        if self.index.ndim == 0:
            return g
        return PutAlong.apply(g, index=self.index, dim=self.dim, shape=self.in_shape)


# ----------------------------------------------------------------------------- statistics

@quiet
class Var(Op):
    """Variance with ``correction`` (N - correction in the denominator).
    d var / dx = 2 (x - mean) / (N - correction)."""
    __slots__ = ('axes', 'keepdim', 'correction', 'count')
    array_backward = True
    save = (0,)

    def forward(self, xp, a, dim=None, correction=1, keepdim=False):
        if self._setup(a, dim, correction, keepdim):
            return a.var(axis=self.axes, ddof=correction, keepdims=keepdim)
        with warnings.catch_warnings():     # NumPy's RuntimeWarning: PyTorch's was given
            warnings.simplefilter('ignore', RuntimeWarning)
            return a.var(axis=self.axes, ddof=correction, keepdims=keepdim)

    def _setup(self, a, dim, correction, keepdim):
        if a.dtype.kind != 'f':
            raise RuntimeError('std and var only support floating point and complex dtypes')
        self.axes, self.keepdim, self.correction = _dims(dim, a.ndim), keepdim, correction
        self.count = math.prod(a.shape[i] for i in self.axes)
        if self.count - correction > 0:
            return True
        warnings.warn(f'{type(self).__name__.lower()}(): degrees of freedom is <= 0. Correction '
                      'should be strictly less than the reduction factor (input numel divided '
                      'by output numel).', UserWarning, stacklevel=2)
        return False

    def backward(self, g):
        x, = self.saved_tensors[:1]
        dof = self.count - self.correction
        scale = 2.0 / dof if dof else math.inf
        g = _unsqueeze(g, array_of(x).shape, self.axes, self.keepdim)
        return (scale * g) * (x - Mean.apply(x, dim=self.axes, keepdim=True))


@quiet
class Std(Var):
    """sqrt(var); d std = d var / (2 std), taken as 0 where std is 0 (as PyTorch)."""
    __slots__ = ()
    save_output = True

    def forward(self, xp, a, dim=None, correction=1, keepdim=False):
        if self._setup(a, dim, correction, keepdim):
            return a.std(axis=self.axes, ddof=correction, keepdims=keepdim)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', RuntimeWarning)
            return a.std(axis=self.axes, ddof=correction, keepdims=keepdim)

    def backward(self, g):
        y = self.saved_tensors[1]
        return Var.backward(self, Where.apply(y == 0, 0.0, g / (2 * y)))


@quiet
class LogSumExp(Op):
    """log(sum(exp(x))) computed as m + log(sum(exp(x - m))) with m the maximum, so that
    it neither overflows nor underflows; d/dx = exp(x - out) (the softmax)."""
    __slots__ = ('axes', 'keepdim')
    array_backward = True
    save = (0,)
    save_output = True

    def forward(self, xp, a, dim, keepdim=False):
        a = to_float(a)
        axes = self.axes = _dims(dim, a.ndim)
        self.keepdim = keepdim
        keep = _keep_shape(a.shape, axes)
        if a.size:
            m = a.max(axis=axes, keepdims=True)
            m = xp.where(xp.isinf(m), 0, m)     # all -inf (or an inf): shift by 0, not inf
        else:
            m = xp.zeros(keep, dtype=a.dtype)
        out = xp.log(xp.exp(a - m).sum(axis=axes, keepdims=True)) + m
        if not keepdim:
            out = out.reshape(tuple(s for i, s in enumerate(a.shape) if i not in axes))
        return out

    def backward(self, g):
        x, y = self.saved_tensors
        shape = array_of(x).shape
        y = _unsqueeze(y, shape, self.axes, self.keepdim)
        return _expand_back(g, shape, self.axes, self.keepdim) * apply_unary(Exp, x - y)


@quiet
class VectorNorm(Op):
    """(sum |x|^p)^(1/p) over ``dim``; p = inf/-inf give max/min |x|, p = 0 counts
    nonzeros.  The backward follows PyTorch's norm_backward, including 0 (not NaN) where
    the norm is 0."""
    __slots__ = ('p', 'axes', 'keepdim')
    array_backward = True
    save = (0,)
    save_output = True

    def forward(self, xp, a, p=2.0, dim=None, keepdim=False):
        if a.dtype.kind != 'f':
            raise RuntimeError(f'linalg.vector_norm: Expected a floating point or complex '
                               f'tensor as input. Got {scalar_name(a)}')
        axes = self.axes = _dims(dim, a.ndim)
        self.p, self.keepdim = p, keepdim
        r = dict(axis=axes, keepdims=keepdim)
        if p == 2:
            return xp.sqrt((a * a).sum(**r))
        ab = xp.abs(a)
        if p == math.inf:
            return ab.max(**r)
        if p == -math.inf:
            return ab.min(**r)
        if p == 0:
            return (a != 0).sum(**r).astype(a.dtype)
        if p == 1:
            return ab.sum(**r)
        return (ab ** p).sum(**r) ** (1.0 / p)

    def backward(self, g):
        x, y = self.saved_tensors
        p = self.p
        shape = array_of(x).shape
        if p == 0:
            return None
        if p == 1:
            return _expand_back(g, shape, self.axes, self.keepdim) * apply_unary(Sign, x)
        if p in (math.inf, -math.inf):
            ab = const_like(xp_of(x).abs(array_of(x)), x)
            return _evenly(g, ab, y, self.axes, self.keepdim) * apply_unary(Sign, x)
        g = _unsqueeze(g, shape, self.axes, self.keepdim)
        y = _unsqueeze(y, shape, self.axes, self.keepdim)
        y_zero = y == 0
        if p == 2:
            return x * Where.apply(y_zero, 0.0, g / y)
        sign, ab = apply_unary(Sign, x), apply_unary(Abs, x)
        if p < 1:
            return sign * Where.apply(x == 0, 0.0, ab ** (p - 1)) * g * y ** (1 - p)
        scale = Where.apply(y_zero, 0.0, g / y ** (p - 1))
        if p < 2:
            return sign * ab ** (p - 1) * scale
        return x * ab ** (p - 2) * scale


class _Logical(Op):
    """all/any over ``dim``: bool results (uint8 stays uint8, as PyTorch)."""
    __slots__ = ()
    differentiable = False
    fn = None

    def forward(self, xp, a, dim=None, keepdim=False):
        out = getattr(xp, self.fn)(a, axis=_dims(dim, a.ndim), keepdims=keepdim)
        return out.astype(a.dtype) if a.dtype.kind == 'u' else out


All = variant(_Logical, 'All', 'all')
Any = variant(_Logical, 'Any', 'any')


class CountNonzero(Op):
    __slots__ = ()
    differentiable = False

    def forward(self, xp, a, dim=None):
        return xp.asarray((a != 0).sum(axis=_dims(dim, a.ndim)), dtype=int64.np)


# ----------------------------------------------------------------------------- softmax

def _softmax_axis(name, a, dim):
    """The axis ``dim`` of ``a`` for the softmax family (None for a 0-d ``a``), after
    PyTorch's checks that ``dim`` is in range and ``a`` is a float."""
    axis = wrap_dim(dim, a.ndim)
    if a.dtype.kind != 'f' and a.size:     # (an empty input passes, as in PyTorch)
        last = a.ndim == 0 or axis == a.ndim - 1
        raise NotImplementedError(f'"{name}_{"lastdim_" if last else ""}kernel_impl" not '
                                  f"implemented for '{scalar_name(a)}'")
    return None if a.ndim == 0 else axis


def _shifted(xp, a, axis):
    """``a - max(a)`` along ``axis`` (in float32 for float16, as PyTorch accumulates)."""
    work = a.astype('float32') if a.dtype == 'float16' else a
    return work - work.max(axis=axis, keepdims=True)


@quiet
class Softmax(Op):
    """exp(x_i - m) / sum_j exp(x_j - m), m = max x (stable for any logits).
    Backward (one fused op): y * (g - sum(g * y))."""
    __slots__ = ('axis',)
    array_backward = True
    save_output = True

    def forward(self, xp, a, dim):
        self.axis = _softmax_axis('softmax', a, dim)
        if not a.size:              # (an empty dim has no maximum to shift by)
            return xp.empty_like(a)
        e = xp.exp(_shifted(xp, a, self.axis))
        return (e / e.sum(axis=self.axis, keepdims=True)).astype(a.dtype, copy=False)

    def backward(self, g):
        y, = self.saved_tensors
        return SoftmaxBackward.apply(g, y, axis=self.axis)


@quiet
class SoftmaxBackward(Op):
    """``y * (g - sum(g * y))``; its own derivatives: d/dg is the same map (the softmax
    Jacobian is symmetric), d/dy_k = gg_k (g_k - s) - g_k sum(gg * y), s = sum(g * y)."""
    __slots__ = ('axis',)
    array_backward = True
    save = (0, 1)

    def forward(self, xp, g, y, axis):
        self.axis = axis
        return y * (g - (g * y).sum(axis=axis, keepdims=True))

    def backward(self, gg):
        g, y = self.saved_tensors
        axis = self.axis
        dg = SoftmaxBackward.apply(gg, y, axis=axis) if self._next[0] is not None else None
        dy = None
        if self._next[1] is not None:
            s = Sum.apply(g * y, dim=axis, keepdim=axis is not None)
            t = Sum.apply(gg * y, dim=axis, keepdim=axis is not None)
            dy = gg * (g - s) - g * t
        return dg, dy


@quiet
class LogSoftmax(Op):
    """x - m - log(sum exp(x - m)).  Backward (one fused op): g - exp(y) * sum(g)."""
    __slots__ = ('axis',)
    array_backward = True
    save_output = True

    def forward(self, xp, a, dim):
        self.axis = _softmax_axis('log_softmax', a, dim)
        if not a.size:
            return xp.empty_like(a)
        z = _shifted(xp, a, self.axis)
        out = z - xp.log(xp.exp(z).sum(axis=self.axis, keepdims=True))
        return out.astype(a.dtype, copy=False)

    def backward(self, g):
        y, = self.saved_tensors
        return LogSoftmaxBackward.apply(g, y, axis=self.axis)


@quiet
class LogSoftmaxBackward(Op):
    """``g - exp(y) * sum(g)``; d/dg_j = gg_j - sum(gg * exp(y)),
    d/dy_i = -gg_i exp(y_i) sum(g)."""
    __slots__ = ('axis',)
    array_backward = True
    save = (0, 1)

    def forward(self, xp, g, y, axis):
        self.axis = axis
        return g - xp.exp(y) * g.sum(axis=axis, keepdims=True)

    def backward(self, gg):
        g, y = self.saved_tensors
        axis = self.axis
        keep = axis is not None
        p = apply_unary(Exp, y)
        dg = dy = None
        if self._next[0] is not None:
            dg = gg - Sum.apply(gg * p, dim=axis, keepdim=keep)
        if self._next[1] is not None:
            dy = -gg * p * Sum.apply(g, dim=axis, keepdim=keep)
        return dg, dy


# ----------------------------------------------------------------------------- functions

def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` (all dims when None); integer and bool inputs sum to int64."""
    if dim is None and dtype is None and not keepdim:
        return apply_unary(Sum, input)      # the common full sum (a loss): the lean path
    return Sum.apply(input, dim=dim, keepdim=keepdim, dtype=as_dtype(dtype))


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim`` (all dims when None); floating inputs only, as PyTorch."""
    if dim is None and dtype is None and not keepdim:
        return apply_unary(Mean, input)
    return Mean.apply(input, dim=dim, keepdim=keepdim, dtype=as_dtype(dtype))


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product over one ``dim`` (of all elements when None); exact gradients at zeros."""
    dtype = as_dtype(dtype)
    if dim is None:
        x = input if input._data.ndim <= 1 else reshape(input, -1)
        return Prod.apply(x, dim=0, dtype=dtype)
    if not isinstance(dim, int):
        raise TypeError(f'prod(): argument \'dim\' must be int, not {type(dim).__name__}')
    return Prod.apply(input, dim=wrap_dim(dim, input._data.ndim), keepdim=keepdim, dtype=dtype)


def cumsum(input, dim, *, dtype=None):
    """Running sum along ``dim``: out_i = sum_{k <= i} x_k."""
    return Cumsum.apply(input, dim=dim, dtype=as_dtype(dtype))


def cumprod(input, dim, *, dtype=None):
    """Running product along ``dim``: out_i = prod_{k <= i} x_k (exact gradients at 0)."""
    return Cumprod.apply(input, dim=dim, dtype=as_dtype(dtype))


def _extreme(input, dim, keepdim, other, name, full_op, dim_op, ret, elementwise):
    if isinstance(dim, Tensor):
        other, dim = dim, None
    if other is not None:
        return elementwise(input, other)
    if dim is None:
        return full_op.apply(input, name=name)
    return ret(*dim_op.apply(input, dim=dim, keepdim=keepdim, name=name))


def max(input, dim=None, keepdim=False, *, other=None):
    """``max(x)``: the largest value (ties share the gradient);
    ``max(x, dim, keepdim)``: ``(values, indices)`` along ``dim``;
    ``max(x, y)``: the elementwise maximum."""
    return _extreme(input, dim, keepdim, other, 'max', Amax, MaxDim, _max_t, maximum)


def min(input, dim=None, keepdim=False, *, other=None):
    """The counterpart of :func:`max`."""
    return _extreme(input, dim, keepdim, other, 'min', Amin, MinDim, _min_t, minimum)


def amax(input, dim=(), keepdim=False):
    """Largest value over ``dim`` (int or tuple; all when empty); ties share the gradient."""
    return Amax.apply(input, dim=dim, keepdim=keepdim, name='amax')


def amin(input, dim=(), keepdim=False):
    return Amin.apply(input, dim=dim, keepdim=keepdim, name='amin')


def argmax(input, dim=None, keepdim=False):
    """Index of the largest value along ``dim`` (into the flattened input when None)."""
    return ArgMax.apply(input, dim=dim, keepdim=keepdim)


def argmin(input, dim=None, keepdim=False):
    return ArgMin.apply(input, dim=dim, keepdim=keepdim)


def median(input, dim=None, keepdim=False):
    """``median(x)``: the lower median of all elements; ``median(x, dim)``:
    ``(values, indices)`` along ``dim``."""
    if dim is None:
        return Median.apply(input)
    return _median_t(*MedianDim.apply(input, dim=dim, keepdim=keepdim, name='median'))


def sort(input, dim=-1, descending=False, stable=False):
    """``(values, indices)`` sorted along ``dim``."""
    return _sort_t(*Sort.apply(input, dim=dim, descending=descending))


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending, stable).indices


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (``largest=False``: smallest) elements along ``dim`` and their
    indices, in sorted order."""
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    n = input._data.shape[d] if nd else 1
    if not 0 <= k <= n:
        raise RuntimeError('selected index k out of range')
    values, indices = sort(input, d, descending=largest)
    if k == n:
        return _topk_t(values, indices)
    index = indices._data[_slice_to(nd, d, k)]
    return _topk_t(TakeAlong.apply(input, index=index, dim=d), const_like(index, input))


def _slice_to(ndim, dim, k):
    idx = [slice(None)] * ndim
    idx[dim] = slice(0, k)
    return tuple(idx)


def _correction(name, dim, unbiased, correction):
    """PyTorch's overloads: ``var(x, unbiased)``, ``var(x, dim, unbiased, keepdim)`` and
    ``var(x, dim, correction=c, keepdim)``; returns (dim, correction)."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f'{name}() received an invalid combination of arguments: give '
                        f'either unbiased or correction, not both')
    if correction is None:
        correction = 0 if unbiased is False else 1
    return dim, correction


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with denominator N - correction (default 1, Bessel's)."""
    dim, correction = _correction('var', dim, unbiased, correction)
    return Var.apply(input, dim=dim, correction=correction, keepdim=keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation: sqrt of :func:`var`."""
    dim, correction = _correction('std', dim, unbiased, correction)
    return Std.apply(input, dim=dim, correction=correction, keepdim=keepdim)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim``."""
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, None if isinstance(dim, bool) else dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim``."""
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, None if isinstance(dim, bool) else dim, keepdim))


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, stable for large and -inf entries."""
    return LogSumExp.apply(input, dim=dim, keepdim=keepdim)


def norm(input, p='fro', dim=None, keepdim=False, dtype=None):
    """The vector p-norm over ``dim`` (all elements when None): p = 2 ('fro', default),
    1, inf, -inf, 0 or any number."""
    if dtype is not None:
        input = to_copy(input, dtype=as_dtype(dtype))
    if isinstance(p, str):
        if p != 'fro':
            raise NotImplementedError(f"norm(): p='{p}' is not supported (only 'fro' and "
                                      'numbers)')
        p = 2.0
    return VectorNorm.apply(input, p=float(p), dim=dim, keepdim=keepdim)


def all(input, dim=None, keepdim=False):
    """True where every element over ``dim`` is nonzero."""
    return All.apply(input, dim=dim, keepdim=keepdim)


def any(input, dim=None, keepdim=False):
    """True where some element over ``dim`` is nonzero."""
    return Any.apply(input, dim=dim, keepdim=keepdim)


def count_nonzero(input, dim=None):
    return CountNonzero.apply(input, dim=dim)


def _softmax_input(input, dtype):
    return input if dtype is None else to_copy(input, dtype=as_dtype(dtype))


def softmax(input, dim, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim`` (computed stably); ``dtype`` casts first."""
    return Softmax.apply(_softmax_input(input, dtype), dim=dim)


def log_softmax(input, dim, dtype=None):
    """log(softmax(x)) along ``dim``, computed without forming the softmax."""
    return LogSoftmax.apply(_softmax_input(input, dtype), dim=dim)


FUNCTIONS = ['sum', 'mean', 'prod', 'cumsum', 'cumprod', 'max', 'min', 'amax', 'amin',
             'argmax', 'argmin', 'median', 'sort', 'argsort', 'topk', 'var', 'std', 'var_mean',
             'std_mean', 'logsumexp', 'norm', 'all', 'any', 'count_nonzero', 'softmax',
             'log_softmax']
METHODS = [n for n in FUNCTIONS if n not in ('var_mean', 'std_mean')]
