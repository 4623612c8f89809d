"""Indexing: ``x[idx]``, ``x[idx] = v``, views written in place, gather/scatter and masks.

PyTorch indexes in two stages, and so do we: first the *basic* indices (ints select,
slices slice, ``None`` unsqueezes, ``...`` skips) give a view; then the *advanced*
indices (integer tensors, bool masks) gather from that view, their result dims going
where the dims they index were when those are adjacent, else to the front (NumPy's
rule, applied after the ints are gone, which is where PyTorch differs from NumPy).
The gradient of a gather scatters back, summing repeated indices (``index_add_at``).
Every backward is written with the ops here (each one's adjoint is another), so it
differentiates again, and runs on bare arrays in a sweep that records no graph
(``array_backward``).
"""
import numbers
import warnings

import numpy

from ..backend import scatter_add as index_add_at   # out[key] += v, repeats summed
from ..backend import scatter_multiply
from ..grad_mode import state as _grad_state
from ..op import Op, device_error
from ..tensor import Tensor, _make
from ..extend import zeros_like_shape
from ._util import along, broadcast_shape, fits, quiet, scalar_name, wrap_dim
from .elementwise import _num
from .reduction import Sum
from .shape import broadcast_to, reshape, sum_to


# ----------------------------------------------------------------------------- arrays

def _region(a, basic):
    """The basic-indexed view of array ``a`` (``basic`` None: ``a`` itself)."""
    return a if basic is None else a[basic]


def _gather_array(a, basic, adv):
    out = _region(a, basic)
    return out if adv is None else out[adv]


# ----------------------------------------------------------------------------- parsing

_INT_KINDS = 'iu'


def _is_index_sequence(idx):
    """PyTorch's legacy rule: a short list holding tensors, sequences, slices, None or
    ``...`` is read as a tuple of indices (``x[[[0, 1], [1, 2]]] == x[[0, 1], [1, 2]]``)."""
    if len(idx) >= 32:
        return False
    return any(isinstance(i, (Tensor, list, tuple, slice)) or i is None or i is Ellipsis
               for i in idx)


def _as_index_array(obj, x):
    """An index object (tensor, list, NumPy array) as an array on ``x``'s device."""
    dev = x._device
    if isinstance(obj, Tensor):
        if obj._device is not dev and obj._device.type != 'cpu':
            raise RuntimeError(f'indices should be either on cpu or on the same device as the '
                               f'indexed tensor ({dev})')
        a = obj._data if obj._device is dev else dev.asarray(obj._data)
    else:
        a = dev.asarray(obj)
        if a.size == 0 and a.dtype.kind == 'f':     # x[[]]: an empty integer index
            a = a.astype(dev.xp.int64)
    kind = a.dtype.kind
    if kind == 'b' or (kind == 'u' and a.dtype.itemsize == 1):     # bool or uint8: a mask
        return a.astype(bool) if kind != 'b' else a
    if kind not in _INT_KINDS or a.dtype.itemsize < 4:
        raise IndexError('tensors used as indices must be long, int, byte or bool tensors')
    return a


def _check_bounds(a, size, dim):
    """IndexError for an index outside ``[-size, size)`` (CuPy would wrap it silently)."""
    if a.size == 0:
        return
    lo, hi = int(a.min()), int(a.max())
    if lo < -size or hi >= size:
        bad = hi if hi >= size else lo
        raise IndexError(f'index {bad} is out of bounds for dimension {dim} with size {size}')


def parse_index(x, idx):
    """Split a Python index into ``(basic, adv)``: ``basic`` a tuple of ints, slices and
    None for the view stage (or None), ``adv`` a tuple of slices and integer arrays
    applied to that view (or None).  Raises PyTorch's errors for bad indices."""
    if isinstance(idx, tuple):
        items = idx
    elif isinstance(idx, list) and _is_index_sequence(idx):
        warnings.warn('Using a non-tuple sequence for multidimensional indexing is deprecated; '
                      'use x[tuple(seq)] instead of x[seq].', UserWarning, stacklevel=3)
        items = tuple(idx)
    else:
        items = (idx,)
    xp = x._device.xp
    shape = x._data.shape
    ndim = len(shape)
    # Normalise each item and count the dims it consumes (for '...' and 'too many').
    norm = []
    consumed = 0
    for it in items:
        if it is None or it is Ellipsis:
            norm.append(it)
            continue
        if it.__class__ is bool:
            norm.append(it)
            continue
        if it.__class__ is int or it.__class__ is slice:
            norm.append(it)
            consumed += 1
            continue
        if isinstance(it, numbers.Integral):
            norm.append(int(it))
            consumed += 1
            continue
        if isinstance(it, (Tensor, list, tuple)) or hasattr(it, '__array__') or \
                hasattr(it, '__cuda_array_interface__'):
            a = _as_index_array(it, x)
            if a.ndim == 0:         # a 0-d index tensor acts as the number it holds
                it = a.item()
                norm.append(it)
                consumed += it.__class__ is not bool
                continue
            norm.append(a)
            consumed += a.ndim if a.dtype.kind == 'b' else 1
            continue
        if hasattr(it, '__index__'):
            norm.append(it.__index__())
            consumed += 1
            continue
        if isinstance(it, (str, bytes)):        # PyTorch tries to make a tensor of it
            raise TypeError(f"new(): invalid data type '{type(it).__name__}'")
        raise IndexError('only integers, slices (`:`), ellipsis (`...`), None and long or byte '
                         f'Variables are valid indices (got {type(it).__name__})')
    if consumed > ndim:
        if ndim == 0:
            raise IndexError('invalid index of a 0-dim tensor. Use `tensor.item()` in Python or '
                             '`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number')
        raise IndexError(f'too many indices for tensor of dimension {ndim}')

    basic, adv = [], []
    has_adv = False
    trivial = True          # the basic stage is x[:, :, ...] (skip it)
    dim = 0                 # dim of x being indexed
    out_dim = 0             # the same dim in the basic-stage result
    for it in norm:
        if it is None:
            basic.append(None)
            adv.append(slice(None))
            trivial = False
            out_dim += 1
        elif it is Ellipsis:
            # PyTorch lets every '...' skip the unindexed dims (later ones find none left)
            n = min(ndim - consumed, ndim - dim)
            basic.extend([slice(None)] * n)
            adv.extend([slice(None)] * n)
            dim += n
            out_dim += n
        elif it.__class__ is bool:
            # PyTorch: unsqueeze here, then index that new dim with [0] (True) or [] (False)
            basic.append(None)
            adv.append(xp.zeros(1 if it else 0, dtype=xp.int64))
            trivial = False
            has_adv = True
            out_dim += 1
        elif it.__class__ is int:
            size = shape[dim]
            if not -size <= it < size:
                raise IndexError(f'index {it} is out of bounds for dimension {out_dim} with size '
                                 f'{size}')
            basic.append(it)
            trivial = False
            dim += 1
        elif it.__class__ is slice:
            step = it.step
            if step is not None and step.__index__() <= 0:
                if step.__index__() == 0:
                    raise ValueError('slice step cannot be zero')
                raise ValueError('step must be greater than zero')
            basic.append(it)
            adv.append(slice(None))
            if it != slice(None):
                trivial = False
            dim += 1
            out_dim += 1
        elif it.dtype.kind == 'b':
            k = it.ndim
            if tuple(it.shape) != shape[dim:dim + k]:
                _mask_error(x, it, basic, dim, out_dim)
            basic.extend([slice(None)] * k)
            adv.extend(it.nonzero())
            has_adv = True
            dim += k
            out_dim += k
        else:
            _check_bounds(it, shape[dim], out_dim)
            basic.append(slice(None))
            adv.append(it)
            has_adv = True
            dim += 1
            out_dim += 1
    basic = None if trivial else tuple(basic) + (Ellipsis,)   # '...': 0-d views, not scalars
    return basic, (tuple(adv) if has_adv else None)


def _mask_error(x, mask, basic, dim, out_dim):
    """PyTorch's message: the mask against the tensor as sliced by the indices before it."""
    shape = x._data.shape
    sliced = list(x._data[tuple(basic) + (Ellipsis,)].shape)
    for j, s in enumerate(mask.shape):
        if s != shape[dim + j]:
            raise IndexError(f'The shape of the mask {list(mask.shape)} at index {j} does not '
                             f'match the shape of the indexed tensor {sliced} at index '
                             f'{out_dim + j}')


# ----------------------------------------------------------------------------- getitem

class Slice(Op):
    """Basic indexing (ints, slices, None): a view of the input."""
    __slots__ = ('in_shape', 'basic')
    array_backward = True
    view = True

    def forward(self, xp, a, basic, adv=None):
        self.in_shape = a.shape
        self.basic = basic
        return a[basic]

    def backward(self, g):
        return IndexBackward.apply(g, basic=self.basic, adv=None, shape=self.in_shape)


class Index(Op):
    """Advanced indexing (integer arrays, masks), after an optional basic stage: a copy."""
    __slots__ = ('in_shape', 'basic', 'adv')
    array_backward = True

    def forward(self, xp, a, basic, adv):
        self.in_shape = a.shape
        self.basic = basic
        self.adv = adv
        return _gather_array(a, basic, adv)

    def backward(self, g):
        return IndexBackward.apply(g, basic=self.basic, adv=self.adv, shape=self.in_shape)


class IndexBackward(Op):
    """Zeros of ``shape`` with ``g`` added at the index (repeats summed); the adjoint of
    indexing, so its own gradient gathers again."""
    __slots__ = ('basic', 'adv')
    array_backward = True

    def forward(self, xp, g, basic, adv, shape):
        self.basic = basic
        self.adv = adv
        out = xp.zeros(shape, dtype=g.dtype)
        region = _region(out, basic)
        if adv is None:
            region[...] = g
        else:
            index_add_at(xp, region, adv, g)
        return out

    def backward(self, gg):
        return gather_index(gg, self.basic, self.adv)


def gather_index(x, basic, adv):
    """``x`` indexed by a parsed index (see ``parse_index``)."""
    if adv is None:
        if basic is None:
            return Slice.apply(x, basic=(Ellipsis,))
        return Slice.apply(x, basic=basic)
    return Index.apply(x, basic=basic, adv=adv)


def getitem(x, idx):
    """``x[idx]`` with PyTorch's semantics: a view for basic indices, a copy otherwise."""
    basic, adv = parse_index(x, idx)
    return gather_index(x, basic, adv)


# ----------------------------------------------------------------------------- setitem

@quiet
class IndexPut(Op):
    """``a`` with ``a[idx] = v`` (``v`` cast to ``a``'s dtype, broadcast to the region).

    Gradients: ``a`` gets ``g`` with the region zeroed (those values were overwritten);
    ``v`` gets the region of ``g`` summed back to its shape.  ``accumulate``: adds
    ``v`` instead (repeats summed), so ``a`` gets all of ``g``.
    """
    __slots__ = ('basic', 'adv', 'v_shape', 'accumulate')
    array_backward = True

    def forward(self, xp, a, v, basic, adv, accumulate=False):
        self.basic = basic
        self.adv = adv
        self.accumulate = accumulate
        self.v_shape = getattr(v, 'shape', ())
        out = a.copy()
        if accumulate:
            region = _region(out, basic if basic is not None else (Ellipsis,))
            key = adv if adv is not None else (Ellipsis,)
            v = xp.asarray(v).astype(a.dtype)
            index_add_at(xp, region, key, xp.broadcast_to(v, region[key].shape))
        else:
            _put(xp, out, v, basic, adv)
        return out

    def backward(self, g):
        na, nv = self._next
        ga = gv = None
        if na is not None:
            ga = g if self.accumulate else IndexPut.apply(g, 0, basic=self.basic, adv=self.adv)
        if nv is not None:
            gv = _sum_to_value(gather_index(g, self.basic, self.adv), self.v_shape)
        return ga, gv


def _same_dtype_put(x, value):
    if value._data.dtype != x._data.dtype:
        raise RuntimeError('Index put requires the source and destination dtypes match, got '
                           f'{scalar_name(x._data)} for the destination and '
                           f'{scalar_name(value._data)} for the source.')


def _same_dtype(x, src, op, name='src'):
    """PyTorch's refusal to cast ``src`` into ``x`` in scatter/index_add (no promotion)."""
    if isinstance(src, Tensor) and src._data.dtype != x._data.dtype:
        if op.startswith('index_add'):
            raise RuntimeError(f'index_add_(): self ({scalar_name(x._data)}) and source '
                               f'({scalar_name(src._data)}) must have the same scalar type')
        raise RuntimeError(f'{op.rstrip("_").replace("_add", "")}(): Expected self.dtype to be '
                           f'equal to {name}.dtype')


def _put(xp, out, v, basic, adv):
    region = _region(out, basic if basic is not None else (Ellipsis,))
    try:
        if adv is None:
            region[...] = v
        else:
            region[adv] = v
    except ValueError:
        target = region[adv].shape if adv is not None else region.shape
        raise RuntimeError(f'shape mismatch: value tensor of shape {list(v.shape)} cannot be '
                           f'broadcast to indexing result of shape {list(target)}') from None


def _sum_to_value(g, shape):
    """Sum the region's gradient to the value's shape (the value may have extra leading
    1-dims, which assignment drops)."""
    lead = len(shape) - g.ndim
    if lead > 0:
        return sum_to(g, shape[lead:]).reshape(shape)
    return sum_to(g, shape)


def setitem(x, idx, value):
    """``x[idx] = value`` in place (tracked by the version counter and by autograd)."""
    basic, adv = parse_index(x, idx)
    value = _num(value)
    if isinstance(value, Tensor):
        _same_device(x, value, 'index_put_')
        if adv is not None:         # an index_put (a basic index is a copy_, which casts)
            _same_dtype_put(x, value)
    else:
        fits(value, x._data.dtype)
    enabled = _grad_state.enabled
    needs = enabled and (x._requires_grad or (isinstance(value, Tensor) and
                                              value._requires_grad))
    if not needs:
        base = x._base
        needs = enabled and base is not None and base._requires_grad
    if not needs:
        # nothing to record: write straight into the storage (NaN into integers: no warning)
        with numpy.errstate(all='ignore'):
            _put(x._device.xp, x._data, value._data if isinstance(value, Tensor) else value,
                 basic, adv)
        x._vc[0] += 1
        return
    IndexPut.apply_(x, value, basic=basic, adv=adv)


# ----------------------------------------------------------------------------- masks

@quiet
class MaskedFill(Op):
    """``value`` where ``mask`` (broadcast) is true, else ``a``.  Gradients: ``a`` gets
    ``g`` outside the mask, a 0-d ``value`` the sum of ``g`` inside it."""
    __slots__ = ('mask', 'sa')
    array_backward = True

    def forward(self, xp, a, value, mask):
        self.mask = mask
        self.sa = a.shape
        if hasattr(value, 'dtype'):
            value = value.astype(a.dtype)
        else:
            value = xp.asarray(value).astype(a.dtype)
        return xp.where(mask, value, a)

    def backward(self, g):
        na, nv = self._next
        ga = gv = None
        if na is not None:
            ga = sum_to(MaskedFill.apply(g, 0, mask=self.mask), self.sa)
        if nv is not None:
            gv = Sum.apply(MaskedFill.apply(g, 0, mask=~self.mask))
        return ga, gv


def _mask_array(x, mask, op):
    if not isinstance(mask, Tensor) or mask._data.dtype.kind != 'b':
        got = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        if op == 'masked_fill':
            raise RuntimeError(f'masked_fill_ only supports boolean masks, but got mask with '
                               f'dtype {_dtype_name(got)}')
        raise RuntimeError(f'{op}: expected BoolTensor for mask (got {_dtype_name(got)})')
    _same_device(x, mask, op)
    return mask._data


def _dtype_name(d):
    return getattr(d, 'name', d)


def _same_device(x, t, op):
    """PyTorch's error when tensor argument ``t`` of ``op`` is not on ``x``'s device."""
    if t._device is not x._device:
        raise device_error(op, x._device, t._device)


def _fill_value(x, value, op):
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f'{op}_ only supports a 0-dimensional value tensor, but got tensor '
                               f'with {value._data.ndim} dimension(s).')
        return value
    return fits(_num(value), x._data.dtype)


def masked_fill(input, mask, value):
    """``input`` with ``value`` (a number or 0-d tensor) where ``mask`` is true; the mask
    broadcasts.  Shapes: input (*), mask broadcastable with (*)."""
    m = _mask_array(input, mask, 'masked_fill')
    if m.shape != input._data.shape:
        broadcast_shape('masked_fill', m.shape, input._data.shape)     # (PyTorch's order)
    return MaskedFill.apply(input, _fill_value(input, value, 'masked_fill'), mask=m)


def masked_fill_(input, mask, value):
    m = _mask_array(input, mask, 'masked_fill')
    if m.shape != input._data.shape:
        broadcast_shape('masked_fill_', input._data.shape, m.shape)
    return MaskedFill.apply_(input, _fill_value(input, value, 'masked_fill'), mask=m)


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` is true (both broadcast), as a 1-D tensor."""
    m = _mask_array(input, mask, 'masked_select')
    xp = input._device.xp
    shape = broadcast_shape('masked_select', input._data.shape, m.shape)
    x = broadcast_to(input, shape)
    return Index.apply(x, basic=None, adv=xp.broadcast_to(m, shape).nonzero())


def nonzero(input, *, as_tuple=False):
    """Indices of the nonzero elements: an int64 (n, ndim) tensor, or a tuple of ndim
    1-D tensors (``as_tuple=True``; a 0-d input counts as 1-D)."""
    a = input._data
    dev = input._device
    xp = dev.xp
    if as_tuple:
        idx = (a.reshape(1) if a.ndim == 0 else a).nonzero()
        return tuple(_make(i.astype(xp.int64), dev) for i in idx)
    idx = a.nonzero() if a.ndim else ()
    if a.ndim == 0:
        return _make(xp.zeros((1 if a.item() else 0, 0), dtype=xp.int64), dev)
    return _make(xp.stack(idx, axis=1).astype(xp.int64), dev)


def argwhere(input):
    return nonzero(input)


# ----------------------------------------------------------------------------- along a dim

def _index_of(index, x, op, dim_check=True):
    """The raw integer array of an index tensor (PyTorch's dtype and device errors)."""
    if not isinstance(index, Tensor):
        raise TypeError(f'{op}(): argument \'index\' must be Tensor, not {type(index).__name__}')
    if index._data.dtype.kind not in 'iu' or index._data.dtype.itemsize < 4:
        raise RuntimeError(f'{op}(): Expected dtype int32/int64 for index')
    _same_device(x, index, op)
    return index._data


def _check_range(xp, idx, size, dim, exc=RuntimeError, msg=None):
    """Indices along a dim must lie in ``[0, size)`` (no wrapping, as PyTorch)."""
    if idx.size == 0:
        return
    lo, hi = int(idx.min()), int(idx.max())
    if lo < 0 or hi >= size:
        bad = lo if lo < 0 else hi
        raise exc(msg or f'index {bad} is out of bounds for dimension {dim} with size {size}')


def _check_gather_shapes(op, x_shape, idx_shape, dim, what='self', other=None):
    if len(idx_shape) != len(x_shape) and not (len(x_shape) <= 1 and len(idx_shape) <= 1):
        raise RuntimeError(f'Index tensor must have the same number of dimensions as {what} '
                           'tensor')
    for d in range(len(idx_shape)):
        if other is None and d != dim and idx_shape[d] > x_shape[d]:
            raise RuntimeError(f'Size does not match at dimension {d} expected index '
                               f'{list(idx_shape)} to be no larger than {what} {list(x_shape)} '
                               f'apart from dimension {dim}')
        if other is not None and (idx_shape[d] > x_shape[d] or
                                  d != dim and len(other) and idx_shape[d] > other[d]):
            raise RuntimeError(f'Expected index {list(idx_shape)} to be no larger than self '
                               f'{list(other)} apart from dimension {dim} and to be no larger '
                               f'size than src {list(x_shape)}')


class Gather(Op):
    """``out[i][j] = a[index[i][j]][j]`` (dim 0).  Backward: scatter-add into zeros."""
    __slots__ = ('in_shape', 'dim', 'index')
    array_backward = True

    def forward(self, xp, a, dim, index):
        self.in_shape, self.dim, self.index = a.shape, dim, index
        if not index.size:          # (an empty index may have any shape, any dtype)
            return xp.empty(index.shape, a.dtype)
        if a.ndim == 0:
            return a.reshape(1)[index.reshape(-1)].reshape(index.shape)
        return a[along(xp, index, dim)]

    def backward(self, g):
        return ScatterAdd.apply(zeros_like_shape(g, self.in_shape), g, dim=self.dim,
                                index=self.index)


class ScatterAdd(Op):
    """``a`` with ``src[i][j]`` added at ``[index[i][j]][j]`` (dim 0), repeats summed."""
    __slots__ = ('dim', 'index')
    array_backward = True

    def forward(self, xp, a, src, dim, index):
        self.dim, self.index = dim, index
        out = a.copy()
        if not index.size:
            return out
        if a.ndim == 0:
            index_add_at(xp, out.reshape(1), index.reshape(-1), src.reshape(-1)[:index.size])
        else:
            index_add_at(xp, out, along(xp, index, dim),
                         src[tuple(slice(0, s) for s in index.shape)].astype(a.dtype))
        return out

    def backward(self, g):
        na, ns = self._next
        gs = None
        if ns is not None:
            gs = Gather.apply(g, dim=self.dim, index=self.index)   # (index's shape, as PyTorch)
        return (g if na is not None else None), gs


@quiet
class Scatter(Op):
    """``a`` with ``src[i][j]`` (or a number) written at ``[index[i][j]][j]`` (dim 0);
    ``reduce`` ('add' or 'multiply') combines instead of overwriting (no gradient)."""
    __slots__ = ('dim', 'index', 'reduce')
    array_backward = True

    def forward(self, xp, a, src, dim, index, reduce=None):
        self.dim, self.index, self.reduce = dim, index, reduce
        out = a.copy()
        if not index.size:
            return out
        view = out.reshape(1) if a.ndim == 0 else out
        key = index.reshape(-1) if a.ndim == 0 else along(xp, index, dim)
        if hasattr(src, 'shape'):
            src = src.reshape(-1)[:index.size] if a.ndim == 0 else \
                src[tuple(slice(0, s) for s in index.shape)]
            src = src.astype(a.dtype)
        if reduce is None:
            view[key] = src
        elif reduce == 'add':
            index_add_at(xp, view, key, xp.broadcast_to(xp.asarray(src, dtype=a.dtype),
                                                         index.shape))
        else:
            scatter_multiply(xp, view, key, xp.broadcast_to(xp.asarray(src, dtype=a.dtype),
                                                             index.shape))
        return out

    def backward(self, g):
        if self.reduce is not None:
            raise RuntimeError('derivative for aten::scatter is not implemented')
        na, ns = self._next
        ga = gs = None
        if na is not None:
            ga = Scatter.apply(g, 0, dim=self.dim, index=self.index)
        if ns is not None:
            gs = Gather.apply(g, dim=self.dim, index=self.index)   # (index's shape, as PyTorch)
        return ga, gs


def _dim_and_index(x, dim, index, op):
    """``dim`` wrapped, and ``index``'s array: an empty index (it selects nothing) need
    have neither an integer dtype nor a shape that fits, as PyTorch checks neither."""
    if isinstance(index, Tensor) and not index._data.size:
        _same_device(x, index, op)
        idx = index._data
    else:
        idx = _index_of(index, x, op)
    return wrap_dim(dim, x._data.ndim), idx


def gather(input, dim, index, *, sparse_grad=False):
    """``out[i][j][k] = input[i][index[i][j][k]][k]`` (dim 1); out has index's shape."""
    d, idx = _dim_and_index(input, dim, index, 'gather')
    if idx.size:
        _check_gather_shapes('gather', input._data.shape, idx.shape, d)
        _check_range(input._device.xp, idx, input._data.shape[d] if input._data.ndim else 1, d)
    return Gather.apply(input, dim=d, index=idx)


def _scatter_args(input, dim, index, src, op):
    d, idx = _dim_and_index(input, dim, index, op)
    if isinstance(src, Tensor):
        _same_device(input, src, op)
        _same_dtype(input, src, op)
    if not idx.size:
        return d, idx
    if isinstance(src, Tensor):
        _check_gather_shapes(op, src._data.shape, idx.shape, d, 'src', input._data.shape)
    shape = input._data.shape
    for k in range(idx.ndim):
        if k != d and input._data.ndim and idx.shape[k] > shape[k]:
            raise RuntimeError(f'Expected index {list(idx.shape)} to be no larger than self '
                               f'{list(shape)} apart from dimension {d}')
    _check_range(input._device.xp, idx, shape[d] if input._data.ndim else 1, d)
    return d, idx


def _scatter_params(input, dim, index, src, value, reduce, op):
    """``(src, params)`` of ``Scatter`` for ``scatter``/``scatter_``: ``src`` a tensor or
    the number ``value``, ``params`` its checked dim, index and reduction."""
    if src is None:
        src = value
    d, idx = _scatter_args(input, dim, index, src, op)
    if reduce is not None and reduce not in ('add', 'multiply'):
        raise RuntimeError(f'reduce argument must be either add or multiply. (got {reduce})')
    return _num(src), {'dim': d, 'index': idx, 'reduce': reduce}


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """``input`` with ``src`` (a tensor, or the number ``value``) written at ``index``
    along ``dim``; ``reduce='add'|'multiply'`` combines instead (forward only)."""
    src, params = _scatter_params(input, dim, index, src, value, reduce, 'scatter')
    return Scatter.apply(input, src, **params)


def scatter_(input, dim, index, src=None, *, value=None, reduce=None):
    src, params = _scatter_params(input, dim, index, src, value, reduce, 'scatter_')
    return Scatter.apply_(input, src, **params)


def scatter_add(input, dim, index, src):
    """``input`` with ``src`` added at ``index`` along ``dim`` (repeated indices sum)."""
    d, idx = _scatter_args(input, dim, index, src, 'scatter_add')
    return ScatterAdd.apply(input, src, dim=d, index=idx)


def scatter_add_(input, dim, index, src):
    d, idx = _scatter_args(input, dim, index, src, 'scatter_add_')
    return ScatterAdd.apply_(input, src, dim=d, index=idx)


def take_along_dim(input, indices, dim=None):
    """``gather`` with broadcasting of ``input`` and ``indices`` outside ``dim``
    (``dim=None``: both flattened)."""
    idx = _index_of(indices, input, 'take_along_dim')
    xp = input._device.xp
    if idx.dtype.kind != 'i' or idx.dtype.itemsize != 8:
        idx = idx.astype(xp.int64)
    if dim is None:
        return gather(reshape(input, -1), 0, _make(idx.reshape(-1), input._device))
    d = wrap_dim(dim, input._data.ndim)
    if idx.ndim != input._data.ndim:
        raise RuntimeError('torch.take_along_dim(): input and indices should have the same '
                           f'number of dimensions, but got {input._data.ndim} dimensions for '
                           f'input, and {idx.ndim} dimensions for indices')
    xs, ins = list(input._data.shape), list(idx.shape)
    xs[d] = ins[d] = 1
    common = list(broadcast_shape('take_along_dim', xs, ins))
    xshape = common.copy()
    xshape[d] = input._data.shape[d]
    ishape = common.copy()
    ishape[d] = idx.shape[d]
    x = broadcast_to(input, tuple(xshape))
    return gather(x, d, _make(xp.broadcast_to(idx, tuple(ishape)), input._device))


def _vector_index(x, dim, index, op):
    idx = _index_of(index, x, op)
    if idx.ndim > 1:
        raise IndexError(f'{op}(): Index is supposed to be a vector')
    return wrap_dim(dim, x._data.ndim), idx.reshape(-1)


def index_select(input, dim, index):
    """The slices ``index`` (a 1-D integer tensor) of ``input`` along ``dim``."""
    d, idx = _vector_index(input, dim, index, 'index_select')
    _check_range(input._device.xp, idx, input._data.shape[d] if input._data.ndim else 1, d,
                 IndexError, 'index out of range in self')
    if input._data.ndim == 0:
        return Index.apply(input, basic=(None,), adv=(idx,))
    return Index.apply(input, basic=None, adv=(slice(None),) * d + (idx,))


class IndexAdd(Op):
    """``a`` with ``alpha * source`` added at the slices ``index`` along ``dim``."""
    __slots__ = ('key', 'alpha')
    array_backward = True

    def forward(self, xp, a, source, key, alpha=1):
        self.key, self.alpha = key, alpha
        out = a.copy()
        src = source * alpha if alpha != 1 else source
        index_add_at(xp, out, key, src.astype(a.dtype))
        return out

    def backward(self, g):
        na, ns = self._next
        gs = None
        if ns is not None:
            gs = Index.apply(g, basic=None, adv=self.key)
            if self.alpha != 1:
                gs = gs * self.alpha
        return (g if na is not None else None), gs


def _index_add_key(input, dim, index, source, op):
    d, idx = _vector_index(input, dim, index, op)
    if not isinstance(source, Tensor):
        raise TypeError(f'{op}(): argument \'source\' must be Tensor, not '
                        f'{type(source).__name__}')
    _same_dtype(input, source, op)
    n = source._data.shape[d] if source._data.ndim else 1
    if idx.size != n:
        raise RuntimeError(f'index_add_(): Number of indices ({idx.size}) should be equal to '
                           f'source.size(dim): ({n}), for dim: {d}')
    _check_range(input._device.xp, idx, input._data.shape[d] if input._data.ndim else 1, d,
                 IndexError, 'index out of range in self')
    return (slice(None),) * d + (idx,)


def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` summed into the slices ``index`` along ``dim``
    (repeated indices add up).  Shapes: source is input's shape with len(index) at dim."""
    key = _index_add_key(input, dim, index, source, 'index_add')
    return IndexAdd.apply(input, source, key=key, alpha=alpha)


def index_add_(input, dim, index, source, *, alpha=1):
    key = _index_add_key(input, dim, index, source, 'index_add_')
    return IndexAdd.apply_(input, source, key=key, alpha=alpha)


def _put_key(input, indices):
    if not isinstance(indices, (tuple, list)):
        raise TypeError('index_put_(): argument \'indices\' must be tuple of Tensors')
    return parse_index(input, tuple(indices))


def index_put_(input, indices, values, accumulate=False):
    """``input[indices] = values`` in place (``accumulate=True``: ``+=``, repeats summed)."""
    basic, adv = _put_key(input, indices)
    if isinstance(values, Tensor):
        _same_dtype_put(input, values)
    return IndexPut.apply_(input, _num(values), basic=basic, adv=adv, accumulate=accumulate)


def index_put(input, indices, values, accumulate=False):
    basic, adv = _put_key(input, indices)
    if isinstance(values, Tensor):
        _same_dtype_put(input, values)
    return IndexPut.apply(input, _num(values), basic=basic, adv=adv, accumulate=accumulate)


FUNCTIONS = ['gather', 'scatter', 'scatter_add', 'index_select', 'index_add', 'masked_fill',
             'masked_select', 'nonzero', 'argwhere', 'take_along_dim', 'index_put']
METHODS = FUNCTIONS + ['scatter_', 'scatter_add_', 'index_add_', 'masked_fill_', 'index_put_']
INPLACE = {}
OPERATORS = {'__getitem__': getitem, '__setitem__': setitem}
