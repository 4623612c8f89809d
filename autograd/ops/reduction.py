"""Reductions over dimensions, and the ops that normalise or order along one.

``dim`` is None (every axis), an int or a tuple; ``keepdim`` keeps reduced axes as size 1.
Dtypes follow PyTorch: integer and bool sums/products are int64, float-only ops
(mean, var, std, norm, softmax) reject integers.  Every backward is written with operators
and ops, among them ops defined here in adjoint pairs (take/put along an axis,
cumsum/reverse cumsum), so every gradient differentiates again, and runs on bare arrays
in a sweep that records no graph (``array_backward``).
"""
import builtins
import math
import sys
import warnings
from collections import namedtuple

import numpy

from ..backend import as_dtype, float16, float32, int64
from ..backend import IGNORE_ERRORS, opmath, reset_errstate, set_errstate
from ..backend import row_max, row_sum
from ..op import Op, apply_unary
from ..node import named, renamed
from ..tensor import Tensor
from ..extend import const_like, array_of, xp_of
from ._util import along, normalize_dims, quiet, scalar_name, to_float, variant, wrap_dim
from ._util import complex_not_implemented
from .complex import unordered
from .elementwise import Abs, Exp, Sign, Where, maximum, minimum
from .shape import _FILL_LIMIT, broadcast_to, reshape, to_copy

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
    if a.dtype.kind not in 'fV':         # V: bfloat16
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

# Sum and Mean are quiet (an overflowing sum gives inf silently, as PyTorch) with the error
# state set in their own forwards, as Add's: ``quiet``'s wrapper would cost a frame per op.
_add_reduce = numpy.add.reduce


class Sum(Op):
    __slots__ = ('in_shape', 'axes', 'keepdim')
    array_backward = True

    def forward(self, xp, a, dim=None, keepdim=False, dtype=None):
        self.in_shape, self.keepdim = a.shape, keepdim
        if dtype is not None or a.dtype.kind in 'biuV':    # (no call for the common float sum)
            if a.dtype.kind == 'V' and dtype is None:       # bfloat16: summed in float32
                return self.forward(xp, a.astype('float32'), dim, keepdim).astype(a.dtype)
            a = _accumulating(a, dtype)
        token = set_errstate(IGNORE_ERRORS)
        try:
            if dim is None and not keepdim:
                self.axes = tuple(range(a.ndim))
                # (NumPy's keyword handling costs more than a small sum; a.sum() is this
                # reduction behind a Python frame)
                return _add_reduce(a, None) if a.__class__ is numpy.ndarray else a.sum()
            self.axes = axes = _dims(dim, a.ndim)
            return a.sum(axis=axes, keepdims=keepdim)
        finally:
            reset_errstate(token)

    def backward(self, g):
        if not g.ndim and g.__class__ is numpy.ndarray and self.in_shape and \
                math.prod(self.in_shape) <= _FILL_LIMIT:
            # a full sum (a loss) in an array sweep: its gradient filled in (broadcast_to's
            # way for small sizes, without its frames)
            out = numpy.empty(self.in_shape, g.dtype)
            out[...] = g
            return out
        if self.keepdim or not g.ndim:     # (a full sum, a loss: no reshape to make)
            return broadcast_to(g, self.in_shape)
        return _expand_back(g, self.in_shape, self.axes, self.keepdim)


class Mean(Op):
    __slots__ = ('in_shape', 'axes', 'keepdim', 'count')
    array_backward = True

    def forward(self, xp, a, dim=None, keepdim=False, dtype=None):
        if dtype is not None:
            a = a.astype(dtype.np)
        elif a.dtype.kind != 'c':
            _float_only(a, 'mean(): could not infer output dtype. Input dtype must be either '
                           'a floating point or complex dtype. Got: {}')
        self.in_shape, self.keepdim = a.shape, keepdim
        # sum / count, as NumPy's mean computes it (float16 summed in float32), without the
        # Python layers of ndarray.mean, which cost three small sums
        half = a.dtype == float16.np or a.dtype.kind == 'V'     # V: bfloat16
        work = a.astype(float32.np) if half else a
        token = set_errstate(IGNORE_ERRORS)
        try:
            if dim is None and not keepdim:
                self.axes, self.count = tuple(range(a.ndim)), a.size
                s = work.sum()      # (as in Sum: no keywords)
            else:
                self.axes = axes = _dims(dim, a.ndim)
                self.count = math.prod(a.shape[i] for i in axes)
                s = work.sum(axis=axes, keepdims=keepdim)
            return (s / self.count).astype(a.dtype) if half else s / self.count
        finally:
            reset_errstate(token)

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
        g = _expand_back(g, self.in_shape, (self.dim,), self.keepdim)
        if self.in_shape[self.dim] == 1 and bool(xp_of(x).any(array_of(x) == 0)):
            # a product of one factor where x holds a zero: PyTorch's gradient is g times
            # its exclusive products, empty here, so g itself, with no graph back to x
            # (a second derivative through it finds none, as there)
            return g
        return g * ProdOthers.apply(x, dim=self.dim)


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

    @opmath                 # bfloat16 in float32, as PyTorch
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
        if data.size <= 1 or data.shape[d] == 1:    # the gradient itself, as PyTorch's
            return g                                # (no graph through x)
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


def _evenly(g, x, y, axes, keepdim, nan_equal=True, fill=False):
    """The gradient of a selection that may tie (max, amax, median of all): ``g`` shared
    equally by the elements equal to the result (NaN counting as equal to NaN), as
    PyTorch's evenly_distribute_backward.  ``nan_equal=False``: as its scale_grad_by_count
    (amax, amin), where a NaN result matches nothing and its slice's gradient is NaN.
    ``fill``: the share is filled in (PyTorch's CPU evenly_distribute_backward uses
    masked_fill), so a NaN or infinite ``g`` reaches the selected elements only, not the
    others as 0 * NaN."""
    xp, xd, yd = xp_of(x), array_of(x), array_of(y)
    shape = xd.shape
    yk = yd if keepdim or not axes else yd.reshape(_keep_shape(shape, axes))
    mask = (xd == yk) | (xp.isnan(xd) & xp.isnan(yk)) if nan_equal else xd == yk
    with numpy.errstate(all='ignore'):
        share = mask / mask.sum(axis=axes, keepdims=True)
    g = _expand_back(g, shape, axes, keepdim) * const_like(share.astype(xd.dtype), x)
    return Where.apply(const_like(mask, x), g, 0.0) if fill else g


class Amax(Op):
    """Largest value over ``dim``; ties share the gradient."""
    __slots__ = ('axes', 'keepdim', 'full')
    array_backward = True
    save = (0,)
    save_output = True
    fn = 'max'

    def forward(self, xp, a, dim=None, keepdim=False, name='amax'):
        if a.dtype.kind == 'c':
            raise unordered(name, a)
        axes = _dims(dim, a.ndim)
        _check_nonempty(name, a, axes, None if dim == () else dim)
        self.axes, self.keepdim = axes, keepdim
        self.full = name in ('max', 'min')      # max(x): PyTorch's evenly_distribute
        return getattr(xp, self.fn)(a, axis=axes, keepdims=keepdim)

    def backward(self, g):
        x, y = self.saved_tensors
        return _evenly(g, x, y, self.axes, self.keepdim, nan_equal=self.full, fill=self.full)


Amin = variant(Amax, 'Amin', 'min')


class MaxDim(Op):
    """``(values, indices)`` of the largest element along one axis (the first one where
    several tie); the gradient goes to that index only."""
    __slots__ = ('in_shape', 'dim', 'index')
    torch_name = 'MaxBackward0'     # PyTorch's node name (max(x, dim))
    array_backward = True
    nondiff_outputs = (1,)
    fn = 'argmax'

    def forward(self, xp, a, dim, keepdim=False, name='max'):
        if a.dtype.kind == 'c':
            raise unordered(name, a)
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
MinDim.torch_name = 'MinBackward0'


def _median_dim_forward(self, xp, a, dim, keepdim=False, name='median'):
    """MaxDim's forward, with PyTorch's refusal of bool after the empty-slice check."""
    if a.dtype.kind == 'b':
        if a.ndim:
            _check_nonempty('median', a, (wrap_dim(dim, a.ndim),), wrap_dim(dim, a.ndim))
        raise NotImplementedError('"median_out" not implemented for \'Bool\'')
    return MaxDim.forward(self, xp, a, dim, keepdim, 'median')


class MedianDim(MaxDim):
    """The lower median along one axis (NaN if the slice has one), with its index."""
    __slots__ = ()
    forward = _median_dim_forward

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
        return _evenly(g, x, y, tuple(range(x.ndim)), False, fill=True)


class ArgMax(Op):
    """Index of the largest element (of the flattened input when ``dim`` is None)."""
    __slots__ = ()
    differentiable = False
    fn = 'argmax'

    def forward(self, xp, a, dim=None, keepdim=False):
        name = self.fn
        if a.dtype.kind in 'bc':
            if a.dtype.kind == 'c':
                raise unordered(name, a)
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
        if a.dtype.kind == 'c':
            raise unordered('sort', a)
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

# PyTorch's CPU accumulation dtype of the float16/float32 statistics (at::acc_type)
_ACC = {'f2': 'float32', 'f4': 'float64'}


@quiet
class Var(Op):
    """Variance with ``correction`` (N - correction in the denominator).
    d var / dx = 2 (x - mean) / (N - correction)."""
    __slots__ = ('axes', 'keepdim', 'correction', 'count', 'everything')
    array_backward = True
    save = (0,)

    @opmath                 # bfloat16 in float32, as PyTorch
    def forward(self, xp, a, dim=None, correction=1, keepdim=False, welford=False):
        return self._moment(a, dim, correction, keepdim, 'var', welford)

    def _moment(self, a, dim, correction, keepdim, name, welford):
        """``a.var``/``a.std`` as PyTorch's CPU kernels compute them for float16/float32:
        accumulated in float64 (std of [1e30, -1e30] is 1e30, not an overflowed inf), and,
        for a reduction to one value, around the mean taken in ``a``'s own dtype
        (``std_var_all_cpu``: std of float32 [3e38, 3e38, -1e38] is inf) unless ``welford``
        (var_mean, std_mean: one pass, mean and variance in float64); in ``a``'s dtype."""
        acc = _ACC.get(a.dtype.str[1:])
        fn = getattr(a, name)
        with warnings.catch_warnings():
            if not self._setup(a, dim, correction, keepdim):    # PyTorch's warning was given
                warnings.simplefilter('ignore', RuntimeWarning)
            if acc is None and a.dtype.kind == 'f':
                out = _refined_var(a, self.axes, keepdim, self.count - correction)
                return out ** 0.5 if name == 'std' else out
            if acc is None:
                return fn(axis=self.axes, ddof=correction, keepdims=keepdim)
            if not welford and a.size and a.dtype == float32.np and \
                    a.size == math.prod(a.shape[i] for i in self.axes):
                with numpy.errstate(all='ignore'):
                    centred = a.astype(acc) - a.mean(dtype=a.dtype).astype(acc)
                    out = (centred * centred).sum(axis=self.axes, keepdims=keepdim) / \
                        builtins.max(0, self.count - correction)
                    out = out ** 0.5 if name == 'std' else out
            else:
                out = fn(axis=self.axes, ddof=correction, keepdims=keepdim, dtype=acc)
            with numpy.errstate(over='ignore'):
                return out.astype(a.dtype)

    def _setup(self, a, dim, correction, keepdim):
        if a.dtype.kind not in 'fV':
            raise RuntimeError('std and var only support floating point and complex dtypes')
        self.axes, self.keepdim, self.correction = _dims(dim, a.ndim), keepdim, correction
        self.everything = dim is None or a.ndim == 0
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
        if dof <= 0 and self.everything:
            # PyTorch's var_backward without a dim: a constant NaN where x is its mean (0 *
            # 2/0), inf elsewhere; no graph of x (its first derivative's derivative is none)
            xa = array_of(x)
            with numpy.errstate(all='ignore'):      # (an empty x has no mean to compare)
                mean = xa.sum() / xa.size if xa.size else xa.sum()
                flag = xp_of(x).where(xa == mean, math.nan, math.inf).astype(xa.dtype)
            return g * const_like(flag, x)
        scale = 2.0 / dof if dof else math.inf
        g = _unsqueeze(g, array_of(x).shape, self.axes, self.keepdim)
        return (scale * g) * (x - Mean.apply(x, dim=self.axes, keepdim=True))


def _refined_var(a, axes, keepdim, dof):
    """The sum of squares about the mean over ``dof``, the mean refined once by the mean of
    the deviations from it: the first mean's rounding error (up to an ulp of the values,
    whose square NumPy's var keeps: 3.7e44 for 42 equal float64 1e38s) is measured and
    removed, so equal values give exactly 0, as PyTorch's cascade sums mostly do."""
    xp = xp_of(a)
    with numpy.errstate(all='ignore'):
        m = a.mean(axis=axes, keepdims=True)
        d = a - m
        r = d.mean(axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(r), m + r, m)      # (an inf or overflow: as it was)
        d = a - m
        d *= d
        return d.sum(axis=axes, keepdims=keepdim) / builtins.max(0, dof)


@quiet
class Std(Var):
    """sqrt(var); d std = d var / (2 std), taken as 0 where std is 0 (as PyTorch)."""
    __slots__ = ()
    save_output = True

    def forward(self, xp, a, dim=None, correction=1, keepdim=False, welford=False):
        return self._moment(a, dim, correction, keepdim, 'std', welford)

    def backward(self, g):
        y = self.saved_tensors[1]
        return Var.backward(self, Where.apply(y == 0, 0.0, g / (2 * y)))


@quiet
class LogSumExp(Op):
    """log(sum(exp(x))) computed as m + log(sum(exp(x - m))) with m the maximum, so that
    it neither overflows nor underflows; d/dx = exp(x - out) (the softmax)."""
    __slots__ = ('axes', 'keepdim')
    torch_name = 'LogsumexpBackward0'           # PyTorch's node name
    array_backward = True
    save = (0,)
    save_output = True

    @opmath                 # bfloat16 in float32, as PyTorch
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
    torch_name = 'LinalgVectorNormBackward0'    # PyTorch's node name
    array_backward = True
    save = (0,)
    save_output = True

    @opmath                 # bfloat16 in float32, as PyTorch
    def forward(self, xp, a, p=2.0, dim=None, keepdim=False):
        if a.dtype.kind != 'f':
            raise RuntimeError(f'linalg.vector_norm: Expected a floating point or complex '
                               f'tensor as input. Got {scalar_name(a)}')
        axes = self.axes = _dims(dim, a.ndim)
        self.p, self.keepdim = p, keepdim
        r = dict(axis=axes, keepdims=keepdim)
        ab = xp.abs(a)
        if p != 0 and math.prod(a.shape[i] for i in axes) == 1:
            # one element per norm: its |x|, as PyTorch's kernel gives (the norm of float32
            # 1e38 is 1e38, not an overflowed sqrt(1e76))
            return ab.sum(**r)
        if p == 2:
            return xp.sqrt((a * a).sum(**r))
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
        if p == 2:      # PyTorch's grad * (x / norm), masked (its rounding: x / |x| is 1)
            return g * Where.apply(y_zero, 0.0, x / y)
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
    work = a.astype('float32') if a.dtype.char == 'e' else a     # (no dtype('float16') made)
    # into a new array (not a NumPy scalar, for a 0-d a), which the callers work in
    return xp.subtract(work, row_max(work, axis), out=xp.empty_like(work))


# Where softmax needs no shift by the row max: exp(x) of the unrounded x is at least as
# accurate as exp(x - max), which rounds x - max where x < max / 2 (float32 (8, 4, 32, 32)
# causal scores against float64: 2.6e-7 largest relative error against 4.4e-7 shifted and
# PyTorch's 3.7e-7), wherever exp(x) is a normal number, or the quotient e^x / sum is
# itself below the normal range: in every row whose sum of e^x is finite and at least 1,
# and in a row summing below 1 if each finite x is at least LOW (-inf, a masked score, is 0
# either way).  The sums, needed anyway, are the check; the elements are read again only in
# the rows summing below 1 (a causal mask's first row when its one score is negative).
# Not log_softmax: x - log(sum exp(x)) cancels, with an error of eps |log(sum)|, where
# x - max is exact near the max (Sterbenz) and log(sum exp(x - max)) is small.
_EXP_LOW = {'f': -80.0, 'd': -700.0}


def _exp_unshifted(xp, a, axis):
    """``(exp(a), its sums along axis)`` (new arrays, the sums keepdims) when softmax along
    ``axis`` needs no shift by the row max (NumPy arrays of float32/float64 from 1024
    elements: the max along short rows costs a third of a softmax there), as above; None
    otherwise (NaN, +inf, an overflowing sum, or an element out of range: the caller
    shifts).  Float errors must be quiet (the caller's)."""
    low = _EXP_LOW.get(a.dtype.char)
    if low is None or a.size < 1024 or axis is None or getattr(xp, '__name__', None) != 'numpy':
        return None
    e = xp.exp(a)
    s = row_sum(e, axis)
    if not s.max() < math.inf:                      # (NaN fails too)
        return None
    if s.min() < 1:
        rows, sums = (a, s) if axis == a.ndim - 1 else (xp.moveaxis(a, axis, -1),
                                                         xp.moveaxis(s, axis, -1))
        rows = rows.reshape(-1, rows.shape[-1])[sums.reshape(-1) < 1]
        if ((rows < low) & (rows > -math.inf)).any():
            return None
    return e, s


@quiet
class Softmax(Op):
    """exp(x_i - m) / sum_j exp(x_j - m), m = max x (stable for any logits).
    Backward (one fused op): y * (g - sum(g * y))."""
    __slots__ = ('axis',)
    array_backward = True
    save_output = True

    @opmath                 # bfloat16 in float32, as PyTorch
    def forward(self, xp, a, dim):
        self.axis = _softmax_axis('softmax', a, dim)
        if not a.size:              # (an empty dim has no maximum to shift by)
            return xp.empty_like(a)
        work = a.astype('float32') if a.dtype.char == 'e' else a    # (float16 in float32)
        unshifted = _exp_unshifted(xp, work, self.axis)
        if unshifted is None:
            e = _shifted(xp, a, self.axis)     # a new array: exp and the division in place
            xp.exp(e, out=e)
            s = row_sum(e, self.axis)
        else:
            e, s = unshifted
        e /= s
        return e if e.dtype == a.dtype else e.astype(a.dtype)

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
        t = g * y                           # one new array, reused for the result
        if not t.ndim:                      # (a NumPy scalar)
            return y * (g - t)
        s = row_sum(t, axis)
        xp.subtract(g, s, out=t)
        t *= y
        return t

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

    @opmath                 # bfloat16 in float32, as PyTorch
    def forward(self, xp, a, dim):
        self.axis = _softmax_axis('log_softmax', a, dim)
        if not a.size:
            return xp.empty_like(a)
        z = _shifted(xp, a, self.axis)     # a new array: the shift by log-sum in place
        z -= xp.log(row_sum(xp.exp(z), self.axis))
        return z if z.dtype == a.dtype else z.astype(a.dtype)

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
        return g - xp.exp(y) * row_sum(g, axis)

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

# PyTorch's node names where one op class serves several of its functions
_SUM_DIM = named(Sum, 'SumBackward1')
_MEAN_DIM = named(Mean, 'MeanBackward1')
_FULL_MAX = named(Amax, 'MaxBackward1')
_FULL_MIN = named(Amin, 'MinBackward1')
_TOPK = named(TakeAlong, 'TopkBackward0')


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` (all dims when None); integer and bool inputs sum to int64."""
    if dim is None and dtype is None and not keepdim:
        return apply_unary(Sum, input)      # the common full sum (a loss): the lean path
    return (Sum if dim is None else _SUM_DIM).apply(input, dim=dim, keepdim=keepdim,
                                                     dtype=as_dtype(dtype))


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim`` (all dims when None); floating inputs only, as PyTorch."""
    if dim is None and dtype is None and not keepdim:
        return apply_unary(Mean, input)
    return (Mean if dim is None else _MEAN_DIM).apply(input, dim=dim, keepdim=keepdim,
                                                       dtype=as_dtype(dtype))


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
    return _extreme(input, dim, keepdim, other, 'max', _FULL_MAX, MaxDim, _max_t, maximum)


def min(input, dim=None, keepdim=False, *, other=None):
    """The counterpart of :func:`max`."""
    return _extreme(input, dim, keepdim, other, 'min', _FULL_MIN, MinDim, _min_t, minimum)


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



def _no_complex(input, name, dim=None):
    """PyTorch's NotImplementedError for a kernel with no complex version (``name``, or
    ``name[1]`` when a ``dim`` is given)."""
    if isinstance(input, Tensor) and input._data.dtype.kind == 'c':
        kernel = name if isinstance(name, str) else name[dim is not None]
        raise NotImplementedError(
            f'"{kernel}" not implemented for \'{scalar_name(input._data)}\'')


def median(input, dim=None, keepdim=False):
    """``median(x)``: the lower median of all elements; ``median(x, dim)``:
    ``(values, indices)`` along ``dim``."""
    _no_complex(input, ('median_cpu', 'median_out'), dim)
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
        return _topk_t(renamed(values, 'TopkBackward0'), indices)
    index = indices._data[_slice_to(nd, d, k)]
    return _topk_t(_TOPK.apply(input, index=index, dim=d), const_like(index, input))


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


def _moment_mean(input, dim, keepdim):
    """The mean of var_mean/std_mean: PyTorch computes it in the same pass as the variance,
    in the accumulation dtype (the float32 mean of [3e38, 3e38] is 3e38, not inf)."""
    dim = None if isinstance(dim, bool) else dim
    acc = _ACC.get(input._data.dtype.str[1:]) if input._data.dtype.kind == 'f' else None
    if acc is None:
        return mean(input, dim, keepdim)
    return to_copy(mean(input, dim, keepdim, dtype=acc), dtype=input.dtype)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim``."""
    dim_, correction = _correction('var_mean', dim, unbiased, correction)
    return (Var.apply(input, dim=dim_, correction=correction, keepdim=keepdim, welford=True),
            _moment_mean(input, dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim``."""
    dim_, correction = _correction('std_mean', dim, unbiased, correction)
    return (Std.apply(input, dim=dim_, correction=correction, keepdim=keepdim, welford=True),
            _moment_mean(input, dim, keepdim))


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


# ----------------------------------------------------------------------------- tensor functions
# (issue 14): selections along a dim (kthvalue, mode, nanmedian), running extremes and
# log-sums, NaN-ignoring reductions, quantiles, distances, differences and integrals, and
# the counting/searching functions (histc, histogram, bucketize, searchsorted, unique).

from ..backend import device_of_array, get_default_dtype, int32  # noqa: E402
from .elementwise import IsNan, Lerp, Log, logical_xor  # noqa: E402
from .shape import Flip, cat, movedim, narrow, squeeze, unsqueeze  # noqa: E402
from ..extend import zeros_like_shape  # noqa: E402
from .indexing import Gather, ScatterAdd  # noqa: E402  (indexing imports Sum from here)

_kthvalue_t = namedtuple('kthvalue', ['values', 'indices'])
_mode_t = namedtuple('mode', ['values', 'indices'])
_nanmedian_t = namedtuple('nanmedian', ['values', 'indices'])
_aminmax_t = namedtuple('aminmax', ['min', 'max'])
_cummax_t = namedtuple('cummax', ['values', 'indices'])
_cummin_t = namedtuple('cummin', ['values', 'indices'])
_histogram_t = namedtuple('histogram', ['hist', 'bin_edges'])


def _scan(fn, a):
    """Inclusive scan of ``a`` along its last axis with the associative ``fn`` (Hillis and
    Steele: log2(n) passes of whole-array ops, so it runs on every array module)."""
    out = a.copy()
    n, shift = a.shape[-1], 1
    while shift < n:
        out[..., shift:] = fn(out[..., shift:], out[..., :-shift])
        shift *= 2
    return out


def _gt_or_nan(x, y):
    return (x != x and y == y) or x > y


def _quickselect(row, k):
    """The index that PyTorch's CPU kthvalue reports: its quick_select_template (median of
    three pivot, Hoare partition, NaN largest) replayed on a list, so ties pick the same
    element."""
    arr, idx = list(row), list(range(len(row)))
    gt = _gt_or_nan

    def swap(a, b):
        arr[a], arr[b] = arr[b], arr[a]
        idx[a], idx[b] = idx[b], idx[a]
    lo, hi = 0, len(arr) - 1
    while hi > lo:
        if hi == lo + 1:
            if gt(arr[lo], arr[hi]):
                swap(lo, hi)
            break
        swap(lo + (hi - lo) // 2, lo + 1)
        if gt(arr[lo + 1], arr[hi]):
            swap(lo + 1, hi)
        if gt(arr[lo], arr[hi]):
            swap(lo, hi)
        if gt(arr[lo + 1], arr[lo]):
            swap(lo + 1, lo)
        i, j, pivot = lo + 1, hi, arr[lo]
        while True:
            i += 1
            while gt(pivot, arr[i]):
                i += 1
            j -= 1
            while gt(arr[j], pivot):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(lo, j)
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1
    return idx[k]


class KthValue(MaxDim):
    """The k-th smallest element along one axis and its index.  Which of several equal
    elements is reported follows PyTorch's CPU selection algorithm, replayed on the host
    (``_quickselect``: a synchronisation on an accelerator, as the sort it replaces)."""
    __slots__ = ('k',)

    def forward(self, xp, a, k, dim, keepdim=False):
        self.k = k
        return MaxDim.forward(self, xp, a, dim, keepdim, 'kthvalue')

    def _select(self, xp, a, d):
        n = a.shape[d]
        rows = device_of_array(a).backend.to_host(xp.moveaxis(a, d, -1))
        shape = rows.shape[:-1]
        found = [_quickselect(row, self.k - 1) for row in rows.reshape(-1, n).tolist()]
        return xp.asarray(found, dtype=int64.np).reshape(shape)


class Mode(MaxDim):
    """The most frequent value along one axis (the smallest of equally frequent ones) and
    the index of its last occurrence, as PyTorch."""
    __slots__ = ()

    def _select(self, xp, a, d):
        x = xp.moveaxis(a, d, -1)
        n = x.shape[-1]
        s = xp.sort(x, axis=-1)
        pos = xp.arange(n)
        start = xp.ones(s.shape, dtype=bool)
        start[..., 1:] = s[..., 1:] != s[..., :-1]
        count = pos - _scan(xp.maximum, xp.where(start, pos, 0)) + 1  # within each run
        best = xp.argmax(count, axis=-1)[..., None]     # the end of the first longest run
        value = xp.take_along_axis(s, best, axis=-1)
        return xp.where(x == value, pos, -1).max(axis=-1)


def _equivalent_nth(n, k=0):
    """Which of ``n`` mutually equivalent elements libstdc++'s ``std::nth_element``
    (introselect: median-of-three pivot, unguarded partition) leaves at position ``k``:
    the index PyTorch's CPU nanmedian reports for a slice of NaNs only."""
    idx = list(range(n))
    first, last = 0, n
    while last - first > 3:         # (halving: the depth limit 2 log2(n) is never reached)
        mid = first + (last - first) // 2
        idx[first], idx[mid] = idx[mid], idx[first]        # the "median" of equals: mid
        lo, hi = first + 1, last
        while True:
            hi -= 1
            if not lo < hi:
                break
            idx[lo], idx[hi] = idx[hi], idx[lo]
            lo += 1
        if lo <= k:
            first = lo
        else:
            last = lo
    return idx[k]


class NanMedianDim(MaxDim):
    """The lower median of the non-NaN elements along one axis, with its index (the
    stable sort's choice among ties, as PyTorch's index-tiebroken nth_element); a slice of
    NaNs only gives NaN at the index PyTorch's selection leaves there."""
    __slots__ = ()
    forward = _median_dim_forward

    def _select(self, xp, a, d):
        order = xp.argsort(a, axis=d, kind='stable')      # NaNs sort last
        n = a.shape[d]
        if a.dtype.kind != 'f':
            valid = xp.full(order.shape[:d] + (1,) + order.shape[d + 1:], n)
        else:
            valid = (~xp.isnan(a)).sum(axis=d, keepdims=True)
        k = xp.maximum(valid - 1, 0) // 2
        k = xp.broadcast_to(k, order.shape[:d] + (1,) + order.shape[d + 1:])
        found = xp.take_along_axis(order, k, axis=d)
        return xp.where(valid == 0, _equivalent_nth(n), found).squeeze(d)


class NanMedian(Median):
    """The lower median of the non-NaN elements (NaN if there are none); ties share the
    gradient."""
    __slots__ = ()

    def forward(self, xp, a):
        if a.size == 0 or a.dtype.kind == 'b':  # as median: the empty value, bool refused
            return Median.forward(self, xp, a)
        flat = a.reshape(-1)
        if a.dtype.kind == 'f':
            flat = flat[~xp.isnan(flat)]
        if flat.size == 0:
            return xp.asarray(float('nan'), dtype=a.dtype)
        return xp.sort(flat)[(flat.size - 1) // 2]


class CumMax(Op):
    """``(values, indices)`` of the running maximum along ``dim``.  NaN propagates; the
    index is the last position holding the running value (PyTorch's ``>=`` update)."""
    __slots__ = ('dim', 'index', 'in_shape')
    array_backward = True
    nondiff_outputs = (1,)
    fn = 'maximum'

    def forward(self, xp, a, dim):
        d = self.dim = wrap_dim(dim, a.ndim)
        self.in_shape = a.shape
        if a.ndim == 0:
            self.index = xp.zeros((), dtype=int64.np)
            return a.copy(), self.index.copy()
        x = xp.moveaxis(a, d, -1)
        values = _scan(getattr(xp, self.fn), x)
        pos = xp.arange(x.shape[-1])
        hit = x == values
        if a.dtype.kind == 'f':
            hit |= xp.isnan(x)
        index = _scan(xp.maximum, xp.where(hit, pos, 0))
        self.index = xp.moveaxis(index, -1, d)
        return xp.moveaxis(values, -1, d), self.index.astype(int64.np)

    def backward(self, g, _):
        if g is None:
            return None
        if self.index.ndim == 0:
            return g
        return ScatterAdd.apply(zeros_like_shape(g, self.in_shape), g, dim=self.dim,
                                index=self.index)


CumMin = variant(CumMax, 'CumMin', 'minimum')


@quiet
class LogCumsumExp(Op):
    """``log(cumsum(exp(x)))`` along ``dim``, as a scan of logaddexp (stable everywhere).
    The gradient is PyTorch's: the reverse log-cumsum-exp of log|g| - out, split by the
    sign of g, so nothing overflows."""
    __slots__ = ('dim',)
    array_backward = True
    save = (0,)
    save_output = True

    def forward(self, xp, a, dim):
        if a.dtype.kind != 'f':
            raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for '
                                      f"'{scalar_name(a)}'")
        d = self.dim = wrap_dim(dim, a.ndim)
        if a.ndim == 0 or a.size == 0:
            return a.copy()
        return xp.moveaxis(_scan(xp.logaddexp, xp.moveaxis(a, d, -1)), -1, d)

    def backward(self, g):
        x, out = self.saved_tensors
        d = self.dim
        if array_of(x).ndim == 0:
            return g
        # (torch uses the lowest float; half of it cannot overflow when out is subtracted)
        lowest = float(xp_of(x).finfo(array_of(x).dtype).min) / 2

        def reverse(t):
            return Flip.apply(LogCumsumExp.apply(Flip.apply(t, dims=(d,)), dim=d), dims=(d,))
        log_abs = apply_unary(Log, apply_unary(Abs, g))
        pos = Where.apply(g > 0, log_abs, lowest)
        neg = Where.apply(g < 0, log_abs, lowest)
        return apply_unary(Exp, reverse(pos - out) + x) - apply_unary(Exp, reverse(neg - out) + x)


class _Counting(Op):
    """Searching and counting: integer results, no gradient."""
    __slots__ = ()
    differentiable = False


class SearchSorted(_Counting):
    """Insertion points of ``values`` into the last axis of ``seq`` (batched over the
    leading axes when ``seq`` is N-D)."""
    __slots__ = ()

    def forward(self, xp, seq, values, side='left', sorter=None, out_int32=False):
        if sorter is not None:
            seq = xp.take_along_axis(seq, sorter, axis=-1)
        scalar = not hasattr(values, 'shape')
        v = xp.asarray(values, dtype=seq.dtype) if scalar else values
        if seq.ndim == 1:
            out = xp.searchsorted(seq, v, side=side)
        else:       # batched: count the elements before each value, row by row
            before = seq[..., None, :] <= v[..., None] if side == 'right' else \
                seq[..., None, :] < v[..., None]
            out = before.sum(axis=-1)
        return xp.asarray(out, dtype=int32.np if out_int32 else int64.np)


def _torch_linspace(lo, hi, n, dtype):
    """PyTorch's CPU ``linspace(lo, hi, n)`` in the float ``dtype``, on the host, to the last
    bit: the step is computed in ``dtype``, the first half of the points is ``fma(step, k,
    lo)``, the second ``fma(-step, n - 1 - k, hi)``, each rounded once (exact rationals
    here).  Histogram bins are these edges, so an element on an edge lands in PyTorch's bin;
    a step that overflows gives NaN ends, which then hold nothing, as PyTorch's."""
    from fractions import Fraction
    t = numpy.dtype(dtype).type
    with numpy.errstate(all='ignore'):
        start, end = t(lo), t(hi)
        step = (end - start) / t(n - 1)       # n >= 2 here
        k = numpy.arange(n)
        half = n // 2
        if not (numpy.isfinite(step) and numpy.isfinite(start) and numpy.isfinite(end)):
            return numpy.where(k < half, start + step * k.astype(t),
                               end - step * (n - 1 - k).astype(t)).astype(t)
    s, e, d = Fraction(float(start)), Fraction(float(end)), Fraction(float(step))
    exact = [s + d * i if i < half else e - d * (n - 1 - i) for i in range(n)]
    return numpy.array([_round_to(v, t) for v in exact], dtype=t)


def _round_to(value, t):
    """The exact rational ``value`` rounded once to the float type ``t`` (nearest, ties to
    even); ``t(float(value))`` would round twice for float32."""
    from fractions import Fraction
    y = t(float(value))
    if t is numpy.float64:
        return y            # Fraction.__float__ rounds correctly
    best = None
    with numpy.errstate(all='ignore'):
        for c in (numpy.nextafter(y, t(-numpy.inf)), y, numpy.nextafter(y, t(numpy.inf))):
            if not numpy.isfinite(c):
                continue
            gap = abs(Fraction(float(c)) - value)
            if best is None or gap < best[0] or \
                    (gap == best[0] and int(c.view(f'i{c.itemsize}')) % 2 == 0):
                best = (gap, c)
    return y if best is None else best[1]


def _bin_positions(xp, x, edges, search):
    """The bin of each element of ``x`` (all inside ``[edges[0], edges[-1]]``) as PyTorch's
    CPU kernel picks it (aten/src/ATen/native/cpu/HistogramKernel.cpp): ``search`` is
    'linear' (histc: ``trunc((x - left) * bins / (right - left))`` in the input's dtype),
    'local' (histogram with a bin count: that guess moved to the neighbour whose edges hold
    x) or 'binary' (histogram with given edges).  The right edge belongs to the last bin.
    Where the guess overflows (inf or NaN: a range near the dtype's limit), PyTorch's cast to
    int64 gives INT64_MIN, an offset that wraps to bin 0 (linear) or a search window of
    edges[-1:2] (local); those are reproduced."""
    nbins = edges.shape[0] - 1
    if search == 'binary':
        pos = xp.searchsorted(edges, x, side='right') - 1
        return xp.where(pos == nbins, nbins - 1, pos)
    t = edges.dtype.type
    with numpy.errstate(all='ignore'):
        guess = (x - edges[0]) * t(nbins) / (edges[-1] - edges[0])
        valid = xp.isfinite(guess) & (guess < 2.0 ** 63)
        pos = xp.where(valid, guess, 0).astype(int64.np)
    if search == 'local':       # upper_bound over edges[pos - 1 : pos + 2], minus one
        lo = xp.maximum(pos - 1, 0)
        hi = xp.minimum(pos + 2, nbins + 1)
        found = lo - 1
        for j in range(3):
            k = lo + j
            found = found + ((k < hi) & (edges[xp.minimum(k, nbins)] <= x))
        # the wrapped window: edges[-1] (memory before the array, in practice below x),
        # edges[0] <= x, then edges[1]
        pos = xp.where(valid, found, (x >= edges[1]).astype(int64.np))     # nbins >= 1
    return xp.where(pos == nbins, nbins - 1, pos)


def _count(xp, x, pos, nbins, weight, dtype):
    """Per-bin sums of ``weight`` (or counts) at the positions ``pos`` in ``[0, nbins)``."""
    hist = xp.bincount(pos, weights=weight, minlength=nbins)[:nbins]
    return hist.astype(dtype)


def _widen(lo, hi, dtype):
    """histc's empty range ``[v, v]`` made a range: one step of ``dtype`` or 1, whichever
    is wider, on each side (PyTorch's ``bins_edges_correction``)."""
    if dtype.kind != 'f' or dtype.itemsize < 4:
        return lo - 1, hi + 1
    t = dtype.type
    info = numpy.finfo(dtype)
    with numpy.errstate(all='ignore'):
        below = float(numpy.nextafter(t(lo), info.min))
        above = float(numpy.nextafter(t(hi), info.max))
    return builtins.min(below, lo - 1), builtins.max(above, hi + 1)


def _cfmt(v):
    """A double as C++'s ``operator<<`` prints it (PyTorch's messages): ``%g``."""
    return '%g' % v


class Histc(_Counting):
    """Counts in ``bins`` equal bins over [min, max] (the data's range when both are 0),
    in the input's dtype; elements outside are ignored.  Bins as PyTorch's CPU kernel
    assigns them (``_bin_positions``, 'linear')."""
    __slots__ = ()

    def forward(self, xp, a, bins, min, max):
        # PyTorch's order: the bin count, the range, linspace (no bool), the kernel (floats)
        if bins <= 0:
            raise RuntimeError(f'torch.histogram(): bins must be > 0, but got {bins} for '
                               'dimension 0')
        lo, hi = float(min), float(max)
        if lo == hi and a.size:
            lo, hi = float(a.min()), float(a.max())
        if lo == hi:
            lo, hi = _widen(lo, hi, a.dtype)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RuntimeError(f'torch.histc: range of [{_cfmt(lo)}, {_cfmt(hi)}] is not finite')
        if not lo < hi:
            raise RuntimeError('torch.histc: max must be larger than min')
        if a.dtype.kind != 'f':
            kernel = 'linspace_cpu' if a.dtype.kind == 'b' else 'histogram_cpu'
            raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_name(a)}\'')
        ends = _torch_linspace(lo, hi, bins + 1, a.dtype)
        edges = xp.asarray(ends[[0, -1]])
        x = a.reshape(-1)
        x = x[(x >= edges[0]) & (x <= edges[-1])]
        # only the ends matter to 'linear': a two-edge array with the bin count's spacing
        pos = _bin_positions(xp, x, _two_edges(xp, edges, bins), 'linear')
        return _count(xp, x, pos, bins, None, a.dtype)


def _two_edges(xp, ends, bins):
    """An edge array whose ends are ``ends`` and whose length says ``bins`` (the inner
    edges are never read by the 'linear' search)."""
    edges = xp.empty(bins + 1, dtype=ends.dtype)
    edges[0], edges[-1] = ends[0], ends[-1]
    return edges


class Histogram(Op):
    """``(hist, bin_edges)`` of ``input`` over ``bins`` equal bins (a count: edges from
    ``range`` or the data's range) or over given edges (a tensor), with optional per-element
    ``weight`` and ``density``.  Recorded as PyTorch's, which has no derivative: both results
    require grad when an input does, and backward raises."""
    __slots__ = ()
    array_backward = True

    def forward(self, xp, a, edges, weight, bins=None, range=None, density=False):
        if edges is None and bins <= 0:
            raise RuntimeError(f'torch.histogram(): bins must be > 0, but got {bins} for '
                               'dimension 0')
        if a.dtype.kind != 'f':
            raise NotImplementedError(f'"histogramdd" not implemented for \'{scalar_name(a)}\'')
        if edges is not None:
            if edges.ndim != 1:
                raise RuntimeError(f'torch.histogram(): bins tensor should have one dimension, '
                                   f'but got {edges.ndim} dimensions')
            search, edges = 'binary', edges.copy()
        else:
            if range is not None:
                lo, hi = float(range[0]), float(range[1])
            else:
                lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 1.0)
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise RuntimeError(f"torch.histogramdd: dimension 0's range [{_cfmt(lo)}, "
                                   f'{_cfmt(hi)}] is not finite')
            if lo > hi:
                raise RuntimeError(f'torch.histogramdd: min should not exceed max, but got min '
                                   f'{_cfmt(lo)} max {_cfmt(hi)} for dimension 0')
            if lo == hi:
                lo, hi = lo - 0.5, hi + 0.5
            search, edges = 'local', xp.asarray(_torch_linspace(lo, hi, bins + 1, a.dtype))
        if weight is not None:
            if weight.dtype != a.dtype:
                raise RuntimeError('torch.histogramdd: if weight tensor is provided, input tensor '
                                   'and weight tensor should have the same dtype, but got input('
                                   f'{scalar_name(a).lower()}), and weight('
                                   f'{scalar_name(weight).lower()})')
            if weight.size != a.size:
                raise RuntimeError('torch.histogramdd: if weight tensor is provided it should have '
                                   'the same shape as the input tensor excluding its innermost '
                                   f'dimension, but got input with shape [{a.size}, 1] and weight '
                                   f'with shape [{weight.size}]')
        nbins = edges.shape[0] - 1
        x = a.reshape(-1)
        inside = (x >= edges[0]) & (x <= edges[-1])
        w = None if weight is None else weight.reshape(-1)[inside]
        x = x[inside]
        hist = _count(xp, x, _bin_positions(xp, x, edges, search), nbins, w, a.dtype)
        if density:
            with numpy.errstate(all='ignore'):
                hist = (hist / hist.sum() / xp.diff(edges)).astype(a.dtype)
        return hist, edges

    def backward(self, *grads):
        raise RuntimeError('derivative for aten::histogram is not implemented')


class Unique(Op):
    """``(values, inverse, counts)`` of the sorted distinct elements (or slices along
    ``dim``).  Recorded without a derivative, as PyTorch's: backward raises."""
    __slots__ = ()
    array_backward = True
    nondiff_outputs = (1, 2)
    name_ = '_unique2'

    def forward(self, xp, a, dim=None, consecutive=False):
        if consecutive:
            return _unique_consecutive(xp, a, dim)
        if dim is None:
            values, inverse, counts = xp.unique(a.reshape(-1), return_inverse=True,
                                                return_counts=True)
            inverse = inverse.reshape(a.shape)
        else:
            values, inverse, counts = xp.unique(a, return_inverse=True, return_counts=True,
                                                axis=dim)
            inverse = inverse.reshape(-1)
        return values, inverse.astype(int64.np), counts.astype(int64.np)

    def backward(self, *grads):
        raise NotImplementedError(f"the derivative for '{self.name_}' is not implemented.")


class UniqueConsecutive(Unique):
    __slots__ = ()
    name_ = 'unique_consecutive'


def _unique_consecutive(xp, a, dim):
    """Values, inverse and counts of the runs of equal elements (slices along ``dim``)."""
    x = a.reshape(-1) if dim is None else xp.moveaxis(a, dim, 0)
    n = x.shape[0]
    rows = x.reshape(n, x.size // n if n else 0)
    start = xp.ones(n, dtype=bool)
    if n > 1:
        start[1:] = (rows[1:] != rows[:-1]).any(axis=1) if rows.shape[1] else False
    firsts = xp.nonzero(start)[0]
    values = x[firsts] if dim is None else xp.moveaxis(x[firsts], 0, dim)
    inverse = xp.cumsum(start) - 1
    counts = xp.diff(xp.concatenate([firsts, xp.asarray([n], dtype=firsts.dtype)]))
    if dim is None:
        inverse = inverse.reshape(a.shape)
    return values, inverse.astype(int64.np), counts.astype(int64.np)


# ----------------------------------------------------------------------------- functions

def kthvalue(input, k, dim=-1, keepdim=False):
    """``(values, indices)``: the ``k``-th smallest element along ``dim`` (1-based)."""
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    n = input._data.shape[d] if nd else 1
    if not 1 <= k <= n:
        raise RuntimeError(f'kthvalue(): selected number k out of range for dimension {d}')
    return _kthvalue_t(*KthValue.apply(input, k=k, dim=d, keepdim=keepdim))


def mode(input, dim=-1, keepdim=False):
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest among
    equally frequent ones) and the index of its last occurrence."""
    return _mode_t(*Mode.apply(input, dim=dim, keepdim=keepdim, name='mode'))


def nanmedian(input, dim=None, keepdim=False):
    """:func:`median` ignoring NaNs: ``nanmedian(x)``, or ``(values, indices)`` along
    ``dim``."""
    _no_complex(input, ('median_cpu', 'median_out'), dim)
    if dim is None:
        return NanMedian.apply(input)
    return _nanmedian_t(*NanMedianDim.apply(input, dim=dim, keepdim=keepdim,
                                            name='nanmedian'))


def aminmax(input, *, dim=None, keepdim=False):
    """``(min, max)`` over ``dim`` (all elements when None); ties share each gradient."""
    a = input._data
    axes = () if dim is None else dim
    if dim is None and a.size == 0:
        raise RuntimeError('aminmax(): cannot compute aminmax over an empty dimension as the '
                           'operation has no identity.')
    if dim is not None and a.ndim and a.shape[wrap_dim(dim, a.ndim)] == 0:
        raise IndexError(f'aminmax: Expected reduction dim {wrap_dim(dim, a.ndim)} to have '
                         'non-zero size.')
    return _aminmax_t(Amin.apply(input, dim=axes, keepdim=keepdim, name='aminmax'),
                      Amax.apply(input, dim=axes, keepdim=keepdim, name='aminmax'))


def cummax(input, dim):
    """``(values, indices)`` of the running maximum along ``dim``."""
    return _cummax_t(*CumMax.apply(input, dim=dim))


def cummin(input, dim):
    """``(values, indices)`` of the running minimum along ``dim``."""
    return _cummin_t(*CumMin.apply(input, dim=dim))


def logcumsumexp(input, dim):
    """``log(cumsum(exp(input)))`` along ``dim``, computed stably."""
    return LogCumsumExp.apply(input, dim=dim)


class NanToZero(Op):
    """NaNs replaced by 0; the gradient is ``g * ~isnan(x)`` (a product, as PyTorch's
    nansum backward: an infinite g at a NaN gives NaN)."""
    __slots__ = ('keep',)
    array_backward = True

    def forward(self, xp, a):
        nan = xp.isnan(a)
        self.keep = ~nan
        return xp.where(nan, a.dtype.type(0), a)

    def backward(self, g):
        return g * const_like(self.keep.astype(array_of(g).dtype), g)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """:func:`sum` treating NaN as zero (no gradient reaches the NaNs)."""
    if isinstance(input, Tensor) and input._data.dtype.kind == 'c':
        raise RuntimeError('nansum on CPU does not support complex inputs')
    if input._data.dtype.kind == 'f':
        input = apply_unary(NanToZero, input)
    return sum(input, dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean of the non-NaN elements over ``dim`` (as PyTorch: nansum / count)."""
    if input._data.dtype.kind != 'f':
        raise RuntimeError(f'nanmean(): expected input to have floating point or complex '
                           f'dtype but got {scalar_name(input._data)}')
    count = sum(~apply_unary(IsNan, input), dim, keepdim)
    return nansum(input, dim, keepdim, dtype=dtype) / count


_INTERPOLATIONS = ('linear', 'lower', 'higher', 'midpoint', 'nearest')


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):
    """PyTorch's quantile_compute: sort, rank = q (n - 1) (n: the non-NaN count for
    nanquantile; a NaN makes quantile's rank the last, a NaN), gather and interpolate;
    the gradient flows through the gather and the sort."""
    a = input._data
    xp = input._device.xp
    if a.dtype.kind != 'f':
        raise RuntimeError('quantile() input tensor must be either float or double dtype')
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError('quantile() interpolation must be one of linear, lower, higher, '
                           f'midpoint or nearest, but got {interpolation}')
    if isinstance(q, Tensor):
        if q._data.ndim > 1:
            raise RuntimeError('quantile() q must be a scalar or 1D tensor')
        if q._data.dtype != a.dtype:
            raise RuntimeError('quantile() q tensor must be same dtype as the input tensor')
        if q._device is not input._device:
            raise RuntimeError(f'quantile() q tensor must be on the same device as the input '
                               f'tensor, got {q._device} and {input._device}')
        qs, scalar_q = q._data.reshape(-1), q._data.ndim == 0
        if qs.size and not bool(((qs >= 0) & (qs <= 1)).all()):
            raise RuntimeError('quantile() q values must be in the range [0, 1]')
    else:
        if not 0 <= q <= 1:
            raise RuntimeError(f'quantile() q must be in the range [0, 1] but got {q}')
        qs, scalar_q = xp.asarray([q], dtype=a.dtype), True
    if a.size == 0:
        raise RuntimeError('quantile() input tensor must be non-empty')
    nd = a.ndim
    if dim is None:
        x, out_shape = reshape(input, -1), [1] * nd if keepdim else []
    else:
        d = wrap_dim(dim, nd)
        x = movedim(input, d, -1) if nd else reshape(input, 1)
        out_shape = [s for i, s in enumerate(a.shape) if i != d or keepdim]
        if keepdim and nd:
            out_shape[d] = 1
    values = sort(x, -1).values
    v = values._data
    n = v.shape[-1]
    dt = a.dtype.type
    if ignore_nan:
        scale = ((~xp.isnan(v)).sum(axis=-1, keepdims=True) - 1).astype(a.dtype)
        fill = scale < 0                # no non-NaN value: rank 0, a NaN
    else:
        scale = xp.full(v.shape[:-1] + (1,), n - 1, dtype=a.dtype)
        fill = xp.isnan(v).any(axis=-1, keepdims=True)     # a NaN: the last rank, a NaN
    fill_rank = dt(0) if ignore_nan else dt(n - 1)
    ranks = xp.where(fill, fill_rank, qs * scale).astype(a.dtype)
    if interpolation == 'lower':
        ranks = xp.floor(ranks)
    elif interpolation == 'higher':
        ranks = xp.ceil(ranks)
    elif interpolation == 'nearest':
        ranks = xp.round(ranks)
    below = ranks.astype(int64.np)
    last = v.ndim - 1
    out = Gather.apply(values, dim=last, index=below)
    if interpolation in ('linear', 'midpoint'):
        above = Gather.apply(values, dim=last, index=xp.ceil(ranks).astype(int64.np))
        if interpolation == 'midpoint':
            weights = const_like(xp.full_like(ranks, 0.5), values)
        elif isinstance(q, Tensor):     # differentiable in q, as PyTorch's
            r = reshape(q, -1) * const_like(scale, values)
            r = Where.apply(const_like(xp.broadcast_to(fill, ranks.shape), values), dt(0), r)
            weights = r - const_like(below.astype(a.dtype), values)
        else:
            weights = const_like(ranks - below.astype(a.dtype), values)
        out = Lerp.apply(out, above, weights)
    out = movedim(out, -1, 0)           # (len(q), *reduced)
    return reshape(out, out_shape if scalar_q else [qs.size] + out_shape)


def quantile(input, q, dim=None, keepdim=False, *, interpolation='linear'):
    """The ``q``-th quantiles (``q`` a number or 1-D tensor in [0, 1]) over ``dim`` (of
    all elements when None); ``interpolation``: linear, lower, higher, midpoint, nearest.
    A tensor ``q`` puts its dim first in the result."""
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation='linear'):
    """:func:`quantile` of the non-NaN elements."""
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=True)


def msort(input):
    """``input`` sorted along its first dim (values only)."""
    return sort(input, 0).values


_COMPUTE_MODES = ('use_mm_for_euclid_dist_if_necessary', 'use_mm_for_euclid_dist',
                  'donot_use_mm_for_euclid_dist')


def cdist(x1, x2, p=2.0, compute_mode='use_mm_for_euclid_dist_if_necessary'):
    """The p-norm distances between the rows of ``x1`` (*, P, M) and of ``x2`` (*, R, M):
    a (*, P, R) tensor, batch dims broadcast.  Gradients are the p-norm's (0 at zero
    distances); ``compute_mode`` is accepted, the distances are always computed directly."""
    for name, t in (('X1', x1), ('X2', x2)):
        if t._data.ndim < 2:
            raise RuntimeError(f'cdist only supports at least 2D tensors, {name} got: '
                               f'{t._data.ndim}D')
        if t._data.dtype.kind != 'f':
            raise RuntimeError(f'cdist only supports floating-point dtypes, {name} got: '
                               f'{scalar_name(t._data)}')
    m1, m2 = x1._data.shape[-1], x2._data.shape[-1]
    if m1 != m2:
        raise RuntimeError(f'X1 and X2 must have the same number of columns. X1: {m1} X2: {m2}')
    if p < 0:
        raise RuntimeError('cdist only supports non-negative p values')
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f'{compute_mode} is not a valid value for compute_mode')
    diff = unsqueeze(x1, -2) - unsqueeze(x2, -3)
    if m1 == 0:             # no columns: 0 for every p (inf's maximum has no identity)
        p = 1.0
    if p == math.inf:
        return ChebyshevDistance.apply(diff)
    return VectorNorm.apply(diff, p=float(p), dim=-1)


class ChebyshevDistance(Op):
    """max |d| over the last dim.  As PyTorch's cdist, every coordinate that attains the
    maximum gets the whole gradient (g sign(d)), not a share of it as ``amax`` gives."""
    __slots__ = ()
    array_backward = True
    save = (0,)
    save_output = True

    def forward(self, xp, d):
        return xp.abs(d).max(axis=-1)

    def backward(self, g):
        d, out = self.saved_tensors
        xp, dd = xp_of(d), array_of(d)
        at_max = xp.abs(dd) == array_of(out)[..., None]
        return g.reshape(g.shape + (1,)) * const_like((xp.sign(dd) * at_max).astype(dd.dtype), d)


def renorm(input, p, dim, maxnorm):
    """Each slice of ``input`` along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down
    to norm ``maxnorm`` (PyTorch's factor ``maxnorm / (norm + 1e-7)``)."""
    nd = input._data.ndim
    if nd < 2:
        raise RuntimeError(f'renorm: input needs at least 2 dimensions, got {nd} dimensions')
    if p <= 0:
        raise RuntimeError('renorm: non-positive-norm not supported')
    if maxnorm < 0:
        raise RuntimeError(f'renorm: expected maxnorm to be >= 0 but got {maxnorm}')
    d = wrap_dim(dim, nd)
    norm = VectorNorm.apply(input, p=float(p), dim=tuple(i for i in range(nd) if i != d),
                            keepdim=True)
    factor = Where.apply(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    return input * factor


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim`` (``prepend``/``append`` joined first);
    bool tensors take ``!=`` (logical xor)."""
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError('diff expects input to be at least one-dimensional')
    if n < 0:
        raise RuntimeError(f'order must be non-negative but got {n}')
    d = wrap_dim(dim, nd)
    parts = []
    for extra in (prepend, input, append):
        if extra is None:
            continue
        if extra is not input and (not isinstance(extra, Tensor) or extra._data.ndim != nd):
            raise RuntimeError('diff expects prepend or append to be the same dimension as '
                               'input')
        parts.append(extra)
    x = cat(parts, d) if len(parts) > 1 else input
    boolean = x._data.dtype.kind == 'b'
    for _ in range(n):
        length = x._data.shape[d]
        if length == 0:
            break
        hi, lo = narrow(x, d, 1, length - 1), narrow(x, d, 0, length - 1)
        x = logical_xor(hi, lo) if boolean else hi - lo
    return x


def _float_samples(y, x=None, name='trapezoid'):
    """``y`` as floats (integers take the default dtype); bool refused, as PyTorch's."""
    if isinstance(x, Tensor) and x._data.dtype.kind == 'b' or \
            y._data.dtype.kind == 'b' and isinstance(x, Tensor):
        raise RuntimeError(f'{name}: received a bool input for `x` or `y`, but bool is not '
                           'supported')
    if y._data.dtype.kind == 'b':
        raise RuntimeError(f'{name}: received a bool input for `y`, but bool is not supported')
    if y._data.dtype.kind == 'f':
        return y
    if y._data.dtype.kind == 'c':       # the cast would drop the imaginary part
        raise complex_not_implemented(sys._getframe(1), y._data.dtype)
    return to_copy(y, dtype=get_default_dtype())


def _trapezoid_args(name, y, x, dim):
    """The checks PyTorch makes before integrating, in its order: ``x`` a tensor (a number
    is a TypeError: the spacing is ``dx=``), then ``y``'s dims; the wrapped dim."""
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f'{name}() received an invalid combination of arguments - got (Tensor, '
                        f'{type(x).__name__}), but expected one of:\n * (Tensor y, *, float dx '
                        '= 1, int dim = -1)\n * (Tensor y, Tensor x, *, int dim = -1)')
    if y._data.ndim == 0:
        raise IndexError(f'Dimension specified as {dim} but tensor has no dimensions')
    return wrap_dim(dim, y._data.ndim)


def _spacing(y, x, d, name):
    """The sample spacings along ``d``: ``x.diff()`` shaped to broadcast against ``y``."""
    if x._data.ndim == 1:
        if x._data.shape[0] != y._data.shape[d]:
            raise RuntimeError(f'{name}: There must be one `x` value for each sample point')
        shape = [1] * y._data.ndim
        shape[d] = x._data.shape[0] - 1 if x._data.shape[0] else 0     # (max is ours)
        return reshape(diff(x), shape)
    return diff(x, dim=d - y._data.ndim)


def _trapezoid(name, y, x=None, *, dx=None, dim=-1):
    d = _trapezoid_args(name, y, x, dim)
    length = y._data.shape[d]
    if length == 0:         # zeros of y's own dtype (bool too), recorded by nothing (as PyTorch)
        return to_copy(sum(y, d).detach(), dtype=y.dtype)
    y = _float_samples(y, x, 'trapezoid')
    if x is not None:
        pairs = narrow(y, d, 1, length - 1) + narrow(y, d, 0, length - 1)
        return sum(_spacing(y, x, d, 'trapezoid') * pairs, d) / 2
    # PyTorch's constant-spacing form dx (sum(y) - (y_first + y_last) / 2): one sample's
    # integral is y - y, NaN for an infinite or NaN sample
    ends = squeeze(narrow(y, d, 0, 1), d) + squeeze(narrow(y, d, length - 1, 1), d)
    return (sum(y, d) - ends * 0.5) * (1.0 if dx is None else dx)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoidal rule along ``dim``: samples ``y`` at points ``x`` (a tensor) or
    spaced ``dx`` (default 1)."""
    return _trapezoid('trapezoid', y, x, dx=dx, dim=dim)


def trapz(y, x=None, *, dx=None, dim=-1):
    """The older name of :func:`trapezoid`."""
    return _trapezoid('trapz', y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal rule along ``dim`` (one element fewer than ``y``)."""
    if x is not None and not isinstance(x, Tensor):
        _trapezoid_args('cumulative_trapezoid', y, x, dim)
    _float_samples(y, x, 'cumulative_trapezoid')      # bool refused first
    if y._data.ndim == 0:
        raise IndexError('slice() cannot be applied to a 0-dim tensor.')
    y = _float_samples(y, x, 'cumulative_trapezoid')
    d = wrap_dim(dim, y._data.ndim)
    length = y._data.shape[d]
    pairs = narrow(y, d, 1, length - 1) + narrow(y, d, 0, length - 1) if length else \
        narrow(y, d, 0, 0)
    if x is not None:
        return cumsum(_spacing(y, x, d, 'cumulative_trapezoid') * pairs, d) / 2
    return cumsum(pairs * ((1.0 if dx is None else dx) / 2), d)


def histc(input, bins=100, min=0, max=0):
    """Counts of ``input`` in ``bins`` equal bins over [min, max] (the data's range when
    both are 0); the input's dtype, no gradient."""
    return Histc.apply(input, bins=bins, min=min, max=max)


def histogram(input, bins=100, *, range=None, weight=None, density=False):
    """``(hist, bin_edges)``: ``bins`` equal bins over ``range`` (the data's range when
    None), or the edges given as a 1-D tensor; ``weight`` per element; ``density``
    normalises to a probability density."""
    edges = bins if isinstance(bins, Tensor) else None
    count = None if edges is not None else bins
    return _histogram_t(*Histogram.apply(input, edges, weight, bins=count, range=range,
                                         density=density))


def _side(side, right):
    if side is None:
        return 'right' if right else 'left'
    if side not in ('left', 'right'):
        raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got "
                           f'{side}')
    if right and side == 'left':
        raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got "
                           'side of left while right was True')
    return side


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """For each value of ``input``, the index where it would be inserted into the last dim
    of ``sorted_sequence`` to keep it sorted (``right``/``side='right'``: after equal
    elements).  ``sorter`` sorts an unsorted sequence (as ``argsort`` gives)."""
    side = _side(side, right)
    seq = sorted_sequence._data
    values = input._data if isinstance(input, Tensor) else input
    if isinstance(input, Tensor) and seq.ndim != 1 and \
            (values.ndim != seq.ndim or values.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError('torch.searchsorted(): boundaries tensor should be 1 dimension or '
                           'the first N-1 dimensions of boundaries tensor and input value '
                           f'tensor must match, but we got boundaries tensor {list(seq.shape)} '
                           f'and input value tensor {list(values.shape)}')
    if not isinstance(input, Tensor) and seq.ndim != 1:
        raise RuntimeError('torch.searchsorted(): input value can be a scalar only when '
                           f'boundaries tensor dimension is 1, but we got boundaries tensor '
                           f'dim({seq.ndim}) and input value\'s dim(0) numel(1)')
    if sorter is not None:
        if sorter._data.shape != seq.shape:
            raise RuntimeError('torch.searchsorted(): boundary and sorter must have the same '
                               f'size, but got boundary tensor {list(seq.shape)}and got '
                               f'sorter tensor {list(sorter._data.shape)}')
        sorter = sorter._data
    return SearchSorted.apply(sorted_sequence, input, side=side, sorter=sorter,
                              out_int32=out_int32)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each element of ``input`` among the sorted 1-D ``boundaries``:
    ``boundaries[i-1] < x <= boundaries[i]`` (``right``: ``boundaries[i-1] <= x <
    boundaries[i]``)."""
    if boundaries._data.ndim != 1:
        raise RuntimeError(f'boundaries tensor must be 1 dimension, but got '
                           f'dim({boundaries._data.ndim})')
    return SearchSorted.apply(boundaries, input, side='right' if right else 'left',
                              out_int32=out_int32)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The sorted distinct elements of ``input`` (or slices along ``dim``), with the
    inverse indices (``input``'s shape, or its ``dim`` size) and counts when asked."""
    _no_complex(input, ('unique', 'unique_dim'), dim)
    if dim is not None:
        dim = wrap_dim(dim, input._data.ndim)
    values, inverse, counts = Unique.apply(input, dim=dim)
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """One element (or slice along ``dim``) of each run of equal consecutive ones."""
    _no_complex(input, 'unique')
    if dim is not None:
        dim = wrap_dim(dim, input._data.ndim)
    values, inverse, counts = UniqueConsecutive.apply(input, dim=dim, consecutive=True)
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


def _unique_result(values, inverse, counts, return_inverse, return_counts):
    out = (values,) + ((inverse,) if return_inverse else ()) + \
        ((counts,) if return_counts else ())
    return out[0] if len(out) == 1 else out


FUNCTIONS += ['kthvalue', 'mode', 'nanmedian', 'aminmax', 'cummax', 'cummin', 'logcumsumexp',
              'nansum', 'nanmean', 'quantile', 'nanquantile', 'msort', 'cdist', 'renorm', 'diff',
              'trapezoid', 'trapz', 'cumulative_trapezoid', 'histc', 'histogram',
              'searchsorted', 'bucketize', 'unique', 'unique_consecutive']
METHODS += ['kthvalue', 'mode', 'nanmedian', 'aminmax', 'cummax', 'cummin', 'logcumsumexp',
            'nansum', 'nanmean', 'quantile', 'nanquantile', 'msort', 'renorm', 'diff', 'histc',
            'histogram', 'unique', 'unique_consecutive']


# ----------------------------------------------------------------------------- more (issue 14)

class BinCount(_Counting):
    """How often each value 0..max occurs in a 1-d non-negative integer tensor (summing
    ``weights`` instead of counting when given)."""
    __slots__ = ()

    def forward(self, xp, a, weights=None, minlength=0):
        if a.dtype.kind == 'f' or a.dtype.kind == 'b':
            raise NotImplementedError(f'"bincount_cpu" not implemented for '
                                      f"'{scalar_name(a)}'")
        if a.ndim != 1 or (a.size and int(a.min()) < 0):
            raise RuntimeError('bincount only supports 1-d non-negative integral inputs.')
        if minlength < 0:
            raise RuntimeError('minlength should be >= 0')
        if weights is not None and (weights.ndim != 1 or weights.shape[0] != a.shape[0]):
            raise RuntimeError('weights should be 1-d and have the same length as input')
        out = xp.bincount(a, weights=weights, minlength=minlength)
        if weights is None:
            return out.astype(int64.np)
        # float weights keep their dtype; others count in float64 (as PyTorch)
        return out.astype(weights.dtype if weights.dtype.kind == 'f' else 'float64')


def bincount(input, weights=None, minlength=0):
    """Counts of each value of a 1-d non-negative integer tensor (``weights`` summed
    instead when given); length ``max(input) + 1`` or ``minlength``."""
    _no_complex(input, 'bincount_cpu')
    return BinCount.apply(input, weights, minlength=minlength)


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of ``input`` (observations in
    its columns; a 1-d input is one variable), with frequency and observation weights,
    as PyTorch's: sum_i w_i (x_i - avg)(y_i - avg) / (sum w - correction ...)."""
    import warnings
    from .linalg import mm
    nd = input._data.ndim
    if input._data.dtype.kind == 'b':
        raise RuntimeError('cov(): bool dtype is not supported for input')
    if nd > 2:
        raise RuntimeError(f'cov(): expected input to have two or fewer dimensions but got an '
                           f'input with {nd} dimensions')
    x = input if nd == 2 else reshape(input, 1, -1)
    if x._data.dtype.kind != 'f':
        if x._data.dtype.kind == 'c':   # the cast would drop the imaginary part
            raise complex_not_implemented(sys._getframe(0), x._data.dtype)
        x = to_copy(x, dtype=get_default_dtype())
    n_obs = x._data.shape[1]
    w = None
    for name, wt in (('fweights', fweights), ('aweights', aweights)):
        if wt is None:
            continue
        if wt._data.ndim > 1:
            raise RuntimeError(f'cov(): expected {name} to have one or fewer dimensions but got '
                               f'{name} with {wt._data.ndim} dimensions')
        if wt._data.size != n_obs:
            raise RuntimeError(f'cov(): expected {name} to have the same numel as there are '
                               f'observations in the input but got {wt._data.size} != {n_obs}')
        if bool((wt._data < 0).any()):
            raise RuntimeError(f'cov(): {name} cannot be negative')
        w = wt if w is None else w * wt
    if w is None:
        w_sum = n_obs
        avg = mean(x, 1)
    else:
        w_sum = sum(w)
        avg = sum(x * w, 1) / w_sum
    if w is None:
        norm = w_sum - correction
    elif correction == 0:
        norm = w_sum
    elif aweights is None:
        norm = w_sum - correction
    else:
        norm = w_sum - correction * sum(w * aweights) / w_sum
    small = float(norm) <= 0 if not isinstance(norm, Tensor) else bool((norm <= 0).item())
    if small:
        warnings.warn('cov(): degrees of freedom is <= 0. Correction should be strictly less '
                      'than the number of observations.', UserWarning, stacklevel=2)
        norm = norm * 0
    xm = x - unsqueeze(avg, 1)
    c = mm(xm, (xm if w is None else xm * w).T)
    return squeeze(c / norm)            # (PyTorch squeezes every unit dim)


def corrcoef(input):
    """Pearson correlation coefficients of the rows of ``input`` (clipped to [-1, 1])."""
    from .elementwise import clamp, sqrt
    c = cov(input)
    if c._data.ndim == 0:
        return c / c
    d = sqrt(c.diagonal())
    c = c / unsqueeze(d, 1)
    c = c / unsqueeze(d, 0)
    return clamp(c, -1, 1)


def dist(input, other, p=2):
    """The p-norm of ``input - other`` (broadcast)."""
    return norm(input - other, p)


FUNCTIONS += ['bincount', 'cov', 'corrcoef', 'dist']
METHODS += ['bincount', 'cov', 'corrcoef', 'dist']


def renorm_(input, p, dim, maxnorm):
    """In place: the result of :func:`renorm` (of a copy of the old value) written back."""
    return input.copy_(renorm(input.clone(), p, dim, maxnorm))


METHODS += ['renorm_']


def pdist(input, p=2):
    """The p-norm distances between the rows of an (N, M) tensor, each pair once (i < j,
    row by row): N (N - 1) / 2 values.  Gradients as :func:`cdist`'s (0 at zero
    distances)."""
    if input._data.ndim != 2:
        raise RuntimeError(f'pdist only supports 2D tensors, got: {input._data.ndim}D')
    if input._data.dtype.kind != 'f':
        raise RuntimeError(f'pdist only supports floating-point dtypes, got: '
                           f'{scalar_name(input._data)}')
    if p < 0:
        raise RuntimeError('pdist only supports non-negative p values')
    xp = input._device.xp
    n = input._data.shape[0]
    rows, cols = xp.triu_indices(n, 1)
    shape = (rows.size,) + input._data.shape[1:]      # (repeated rows: Gather sums back)
    diff = Gather.apply(input, dim=0, index=xp.broadcast_to(rows[:, None], shape)) - \
        Gather.apply(input, dim=0, index=xp.broadcast_to(cols[:, None], shape))
    if input._data.shape[1] == 0:
        p = 1.0
    if p == math.inf:
        return ChebyshevDistance.apply(diff)
    return VectorNorm.apply(diff, p=float(p), dim=-1)


FUNCTIONS += ['pdist']
