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
from ..backend import array_module, check_data
from ..grad_mode import state as _grad_state
from ..op import Op, device_error
from ..node import named
from ..tensor import Tensor, _make
from ..extend import zeros_like_shape
from ._util import along, broadcast_shape, fits, quiet, scalar_name, wrap_dim
from .elementwise import _num
from .reduction import Sum
from .shape import Copy, broadcast_to, reshape, sum_to


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

    def detail():
        lo, hi = int(a.min()), int(a.max())
        return f'index {hi if hi >= size else lo} is out of bounds for dimension {dim} with size {size}'
    # on a GPU checked there, without a host read (backend.check_data)
    check_data(array_module(a), ((a < -size) | (a >= size)).any(), IndexError,
               f'index out of bounds for dimension {dim} with size {size}', detail)


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
        if isinstance(it, (Tensor, list, tuple, range)) or hasattr(it, '__array__') or \
                hasattr(it, '__cuda_array_interface__'):
            a = _as_index_array(list(it) if it.__class__ is range else it, x)
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

_FULL = slice(None)


class Slice(Op):
    """Basic indexing (ints, slices, None): a view of the input."""
    __slots__ = ('in_shape', 'basic')
    array_backward = True
    view = True

    def forward(self, xp, a, basic, adv=None):
        self.in_shape = a.shape
        self.basic = basic
        return a[basic]

    def name(self):
        """PyTorch's node name: that of the last index it applies (an int selects, a slice
        slices, None unsqueezes; ``:`` in a tuple and ``...`` are skipped)."""
        if self.torch_name:
            return self.torch_name
        for it in reversed(self.basic):
            if it is None:
                return 'UnsqueezeBackward0'
            if it.__class__ is slice:
                if it != _FULL:
                    return 'SliceBackward0'
            elif it is not Ellipsis:
                return 'SelectBackward0'
        return 'SliceBackward0'     # x[:] (PyTorch: x[...] and x[:, :] are AliasBackward0)

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
    if adv is None and _whole(x._data.shape, idx):
        # PyTorch's slicing that selects everything gives x itself, and the write is a
        # copy_ (fill_ for a number): the old x's gradient is a constant zeros
        if isinstance(value, Tensor):
            lead = 0                # PyTorch's setitem drops the value's leading 1s first
            while lead < value.ndim and value.shape[lead] == 1:
                lead += 1
            if lead:
                value = reshape(value, tuple(value.shape[lead:]))
            Copy.apply_(x, value)
        else:
            Fill.apply_(x, value=value)
        return
    IndexPut.apply_(x, value, basic=basic, adv=adv)


def _whole(shape, idx):
    """Whether ``idx`` (Ellipsis and slices only) selects all of ``shape`` as it is."""
    key = idx if isinstance(idx, tuple) else (idx,)
    if not all(k is Ellipsis or isinstance(k, slice) for k in key) or \
            sum(k is Ellipsis for k in key) > 1:
        return False
    slices = [k for k in key if k is not Ellipsis]
    if len(slices) > len(shape):
        return False
    at = next((i for i, k in enumerate(key) if k is Ellipsis), len(key))
    dims = list(range(at)) + list(range(len(shape) - (len(key) - at - 1), len(shape)))
    for k, d in zip(slices, dims):
        if not all(v is None or (isinstance(v, int) and not isinstance(v, bool))
                   for v in (k.start, k.stop, k.step)):
            return False
        if k.indices(shape[d]) != (0, shape[d], 1):
            return False
    return True


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
        else:           # a number: a scalar of a's dtype, a kernel argument, not a copy to the device
            value = numpy.asarray(value).astype(a.dtype)[()]
        if mask.ndim > a.ndim or any(m != 1 and m != n for m, n in
                                     zip(reversed(mask.shape), reversed(a.shape))):
            return xp.where(mask, value, a)         # the mask widens the result
        # a copy written through the (broadcast) mask: (8, 4, 32, 32) float32 under a
        # causal (1, 1, 32, 32) mask 31 -> 20 us against where's three-way select
        out = a.copy()
        xp.copyto(out, value, where=mask)
        return out

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

    def detail():
        bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
        return msg or f'index {bad} is out of bounds for dimension {dim} with size {size}'
    # on a GPU checked there, without a host read (backend.check_data)
    check_data(xp, ((idx < 0) | (idx >= size)).any(), exc,
               msg or f'index out of bounds for dimension {dim} with size {size}', detail)


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


_INDEX_SELECT = named(Index, 'IndexSelectBackward0')     # PyTorch's node name


def index_select(input, dim, index):
    """The slices ``index`` (a 1-D integer tensor) of ``input`` along ``dim``."""
    d, idx = _vector_index(input, dim, index, 'index_select')
    _check_range(input._device.xp, idx, input._data.shape[d] if input._data.ndim else 1, d,
                 IndexError, 'index out of range in self')
    if input._data.ndim == 0:
        return _INDEX_SELECT.apply(input, basic=(None,), adv=(idx,))
    return _INDEX_SELECT.apply(input, basic=None, adv=(slice(None),) * d + (idx,))


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


# ----------------------------------------------------------------------------- tensor functions
# (issue 14): selections by computed integer indices; the gradient is index_select's or
# the advanced index's (a scatter-add, summing repeats).

from ..backend import scalar_name as backend_scalar_name  # noqa: E402
from ..extend import array_of, const_like, xp_of  # noqa: E402
from .elementwise import Fill, Where  # noqa: E402

def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (slice along ``dim``; of the flattened input when None) repeated
    ``repeats`` times (an int, or a tensor of one count per element).  With one tensor
    argument of counts: ``arange(n)`` repeated by them."""
    if repeats is None:         # repeat_interleave(counts)
        counts = input._data
        if counts.dtype.kind not in 'iu':
            raise NotImplementedError(f'"repeat_interleave_cpu" not implemented for '
                                      f"'{backend_scalar_name(counts.dtype)}'")
        if counts.ndim != 1:
            raise RuntimeError('repeat_interleave only accept 1D vector as repeat')
        return _make(_repeated(input._device.xp, counts, counts.shape[0], 'repeat_interleave'),
                     input._device)
    from .shape import flatten
    if dim is None:
        input, d = flatten(input), 0
    else:
        d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d] if input._data.ndim else 1
    xp = input._device.xp
    if isinstance(repeats, Tensor):
        _same_device(input, repeats, 'repeat_interleave')
        r = repeats._data
        if r.ndim > 1:
            raise RuntimeError('repeat_interleave only accept 1D vector as repeat')
        if r.size == 1:
            r = r.reshape(())
        elif r.shape[0] != n:
            raise RuntimeError(f'repeats must have the same size as input along dim, but got '
                               f'repeats.size(0) = {r.shape[0]} and input.size({d}) = {n}')
    else:
        r = int(repeats)
    index = _repeated(xp, r, n, 'repeat_interleave')
    if output_size is not None and index.shape[0] != output_size:
        raise RuntimeError(f'repeat_interleave: output_size {output_size} does not match the '
                           f'sum of the repeats, {index.shape[0]}')
    return index_select(input, d, _make(index, input._device))


def _repeated(xp, counts, n, op):
    """``arange(n)`` with element i repeated ``counts[i]`` (or ``counts``) times, int64."""
    if isinstance(counts, int):
        if counts < 0:
            raise RuntimeError('Repeats must be non-negative')
        return xp.repeat(xp.arange(n, dtype='int64'), counts)
    if counts.dtype.kind not in 'iu':
        raise NotImplementedError(f'"{op}_cpu" not implemented for '
                                  f"'{backend_scalar_name(counts.dtype)}'")
    if counts.size and int(counts.min()) < 0:
        raise RuntimeError('repeats can not be negative')
    return xp.repeat(xp.arange(n, dtype='int64'), xp.broadcast_to(counts, (n,)))


def take(input, index):
    """The elements of the flattened ``input`` at ``index`` (any shape; the result has
    its shape)."""
    idx = _index_of(index, input, 'take')
    size = input._data.size
    if idx.size:
        def detail():
            lo, hi = int(idx.min()), int(idx.max())
            return (f'out of range: tried to access index {hi if hi >= size else lo} on a '
                    f'tensor of {size} elements.')
        check_data(input._device.xp, ((idx < -size) | (idx >= size)).any(), IndexError,
                   f'out of range: tried to access an index on a tensor of {size} elements.',
                   detail)
    from .shape import reshape as reshape_
    flat = reshape_(input, -1)
    return Index.apply(flat, basic=None, adv=(idx % size if size else idx,))


def combinations(input, r=2, with_replacement=False):
    """The length-``r`` combinations of the elements of a 1-D tensor, as rows (the order
    of ``itertools.combinations``)."""
    import itertools
    if input._data.ndim != 1:
        raise RuntimeError(f'Expect a 1D vector, but got shape {list(input._data.shape)}')
    if r < 0:
        raise RuntimeError(f'Expect a non-negative number, but got {r}')
    xp = input._device.xp
    if r == 0:          # (an empty tensor that no graph records, as PyTorch's)
        return _make(xp.zeros(0, dtype=input._data.dtype), input._device)
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    rows = list(pick(range(input._data.shape[0]), r))
    idx = xp.asarray(rows, dtype='int64').reshape(len(rows), r)
    return Index.apply(input, basic=None, adv=(idx,))


FUNCTIONS += ['repeat_interleave', 'take', 'combinations']
METHODS += ['repeat_interleave', 'take']


# ----------------------------------------------------------------------------- more (issue 14)
# select and the scatter family that writes a region (select/slice/diagonal_scatter),
# index_fill/index_copy and masked_scatter: a constant mask of the region picks the new
# values (``Where``), so the input's gradient is g outside the region and the source's is
# g read back from it.

def select(input, dim, index):
    """The slice of ``input`` at ``index`` along ``dim`` (a view with that dim removed)."""
    nd = input._data.ndim
    if nd == 0:
        raise IndexError('select() cannot be applied to a 0-dim tensor.')
    d = wrap_dim(dim, nd)
    n = input._data.shape[d]
    if not -n <= index < n:
        raise IndexError(f'select(): index {index} out of range for tensor of size '
                         f'{list(input._data.shape)} at dimension {d}')
    return Slice.apply(input, basic=(slice(None),) * d + (index % n,))


def _region_scatter(input, src, key, region_shape, op):
    """``input`` with ``src`` written at the basic index ``key`` (a copy)."""
    from .elementwise import Where
    _same_device(input, src, op)
    if tuple(src._data.shape) != tuple(region_shape):
        raise RuntimeError(f'expected src to have a size equal to the slice of self. src size = '
                           f'{list(src._data.shape)}, slice size = {list(region_shape)}')
    xp = input._device.xp
    mask = xp.zeros(input._data.shape, dtype=bool)
    mask[key] = True
    placed = IndexBackward.apply(src, basic=key, adv=None, shape=input._data.shape)
    return Where.apply(_make(mask, input._device), placed, input)


def select_scatter(input, src, dim, index):
    """``input`` with ``src`` embedded at ``index`` along ``dim``."""
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if not -n <= index < n:
        raise IndexError(f'select(): index {index} out of range for tensor of size '
                         f'{list(input._data.shape)} at dimension {d}')
    key = (slice(None),) * d + (index % n,)
    return _region_scatter(input, src, key, input._data[key].shape, 'select_scatter')


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """``input`` with ``src`` embedded at ``start:end:step`` along ``dim``."""
    d = wrap_dim(dim, input._data.ndim)
    key = (slice(None),) * d + (slice(start, end, step),)
    return _region_scatter(input, src, key, input._data[key].shape, 'slice_scatter')


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """``input`` with ``src`` embedded on its diagonal (``offset``, ``dim1``, ``dim2``)."""
    from .elementwise import Where
    from .shape import DiagonalScatter
    nd = input._data.ndim
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    region = input._data.diagonal(offset, d1, d2).shape
    _same_device(input, src, 'diagonal_scatter')
    if tuple(src._data.shape) != tuple(region):
        raise RuntimeError(f'expected src to have a size equal to the slice of self. src size = '
                           f'{list(src._data.shape)}, slice size = {list(region)}')
    xp = input._device.xp
    mask = DiagonalScatter.apply(xp.ones(region, dtype=bool), shape=input._data.shape,
                                 offset=offset, dim1=d1, dim2=d2)
    placed = DiagonalScatter.apply(src, shape=input._data.shape, offset=offset, dim1=d1, dim2=d2)
    return Where.apply(_make(mask, input._device), placed, input)


def _slices_mask(input, d, idx):
    """A boolean mask of ``input``'s shape, true on the slices ``idx`` along ``d``."""
    xp = input._device.xp
    shape = input._data.shape
    hit = xp.zeros(shape[d] if shape else 1, dtype=bool)
    hit[idx] = True
    view = [1] * len(shape)
    if shape:
        view[d] = shape[d]
    return _make(xp.broadcast_to(hit.reshape(view), shape), input._device)


def _index_fill_mask(input, dim, index, op):
    """The mask of the slices ``index`` along ``dim`` (checked as PyTorch: in bounds,
    negative indices counting from the end)."""
    d, idx = _vector_index(input, dim, index, op)
    size = input._data.shape[d] if input._data.ndim else 1
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < -size or hi >= size:
            raise IndexError(f'index {hi if hi >= size else lo} is out of bounds for dimension '
                             f'{d} with size {size}')
    return _slices_mask(input, d, idx % size if size else idx)._data


def index_fill(input, dim, index, value):
    """``input`` with the slices ``index`` along ``dim`` set to ``value`` (a number or a 0-d
    tensor, which then gets the gradient of those slices)."""
    mask = _index_fill_mask(input, dim, index, 'index_fill')
    return MaskedFill.apply(input, _fill_value(input, value, 'index_fill'), mask=mask)


def index_copy(input, dim, index, source):
    """``input`` with its slices ``index`` along ``dim`` replaced by those of ``source``
    (``index`` without repeats, as PyTorch requires for a defined result)."""
    from .elementwise import Where
    key = _index_add_key(input, dim, index, source, 'index_copy')
    d, idx = _vector_index(input, dim, index, 'index_copy')
    placed = IndexAdd.apply(zeros_like_shape(input, input._data.shape), source, key=key,
                            alpha=1)
    return Where.apply(_slices_mask(input, d, idx), placed, input)


def masked_scatter(input, mask, source):
    """``input`` with the positions where ``mask`` (broadcast) is true filled, in order,
    from the elements of ``source``; its first ``mask.sum()`` elements get gradients."""
    from .elementwise import Where
    from .shape import reshape
    m = _mask_array(input, mask, 'masked_scatter')
    _same_device(input, source, 'masked_scatter')
    xp = input._device.xp
    shape = tuple(broadcast_shape('masked_scatter', input._data.shape, m.shape))
    m = xp.broadcast_to(m, shape)
    if input._data.dtype != source._data.dtype:
        raise RuntimeError(f'masked_scatter_: expected self and source to have same dtypes but '
                           f'got {input.dtype} and {source.dtype}')
    count = int(m.sum())
    if count > source._data.size:
        raise RuntimeError('masked_scatter: expected source to have at least as many elements '
                           f'as the ones selected by the mask, got {source._data.size} < {count}')
    order = xp.cumsum(m.reshape(-1)) - 1            # the source element of each position
    order = xp.where(m.reshape(-1), order, 0).reshape(shape)
    flat = reshape(source, -1)
    taken = Index.apply(flat, basic=None, adv=(order,)) if flat._data.size else \
        zeros_like_shape(input, shape)
    return Where.apply(_make(m, input._device), taken, broadcast_to(input, shape))


FUNCTIONS += ['select', 'select_scatter', 'slice_scatter', 'diagonal_scatter', 'index_fill',
              'index_copy', 'masked_scatter']
METHODS += ['select', 'select_scatter', 'slice_scatter', 'diagonal_scatter', 'index_fill',
            'index_copy', 'masked_scatter']


class ScatterReduce(Op):
    """``input`` with each ``src[i][j]`` combined into ``[index[i][j]][j]`` (dim 0) by
    ``reduce`` (sum, prod, mean, amax, amin), ``input``'s own value taking part where
    ``include_self``.  Gradients as PyTorch's scatter_reduce_backward: sum and mean pass
    g (divided by the counts), amax/amin share g evenly among the values equal to the
    result, prod takes result / value (inputs without zeros)."""
    __slots__ = ('dim', 'index', 'reduce', 'include_self', 'hit', 'count', '_meta_src')
    array_backward = True
    save = (0, 1)
    save_output = True

    def forward(self, xp, a, src, dim, index, reduce, include_self):
        self.dim, self.index, self.reduce, self.include_self = dim, index, reduce, include_self
        self._meta_src = tuple(src.shape)
        key = along(xp, index, dim) if a.ndim else (index.reshape(-1),)
        view = (lambda t: t) if a.ndim else (lambda t: t.reshape(1))
        src = src[tuple(slice(0, s) for s in index.shape)].astype(a.dtype) if a.ndim else \
            src.reshape(-1)[:index.size].astype(a.dtype)
        hit = xp.zeros(a.shape, dtype=bool)
        view(hit)[key] = True
        count = xp.zeros(a.shape, dtype=a.dtype if a.dtype.kind == 'f' else 'float64')
        index_add_at(xp, view(count), key, xp.ones(src.shape, dtype=count.dtype))
        self.hit, self.count = hit, count + (1 if include_self else 0)
        out = a.copy()
        if not include_self:
            neutral = {'sum': 0, 'mean': 0, 'prod': 1}.get(reduce)
            if neutral is not None:
                out[hit] = neutral
        if reduce in ('sum', 'mean'):
            index_add_at(xp, view(out), key, src)
            if reduce == 'mean':
                n = xp.where(self.count == 0, 1, self.count).astype(out.dtype)
                out = out // n if out.dtype.kind in 'iu' else out / n
        elif reduce == 'prod':
            scatter_multiply(xp, view(out), key, src)
        else:
            lin = xp.ravel_multi_index(key, view(out).shape).reshape(-1)
            v = src.reshape(-1)
            order = xp.lexsort(xp.stack([v, lin.astype(v.dtype)])) if v.size else lin
            lin, v = lin[order], v[order]
            if reduce == 'amax':        # the last (largest) of each run of equal positions
                ends = xp.ones(lin.shape, dtype=bool)
                ends[:-1] = lin[1:] != lin[:-1]
            else:                       # the first (smallest)
                ends = xp.ones(lin.shape, dtype=bool)
                ends[1:] = lin[1:] != lin[:-1]
            flat = view(out).reshape(-1)
            best = v[ends]
            pick = getattr(xp, 'maximum' if reduce == 'amax' else 'minimum')
            flat[lin[ends]] = pick(flat[lin[ends]], best) if include_self else best
            out = flat.reshape(out.shape)
        return out

    def backward(self, g):
        a, src, out = self.saved_tensors
        xp = xp_of(a)
        d, index = self.dim, self.index
        hit = const_like(self.hit, g)
        ga = gs = None
        if self.reduce in ('sum', 'mean'):
            if self.reduce == 'mean':
                n = self.count
                g = g / const_like(xp.where(n == 0, 1, n).astype(array_of(g).dtype), g)
            if self._next[0] is not None:
                ga = g if self.include_self else Where.apply(hit, 0.0, g)
            if self._next[1] is not None:
                gs = self._to_src(Gather.apply(g, dim=d, index=index))
            return ga, gs
        ad, sd, od = array_of(a), array_of(src), array_of(out)
        sd = sd[tuple(slice(0, s) for s in index.shape)]
        value = xp.take_along_axis(od, index, axis=d) if od.ndim else od.reshape(-1)[index]
        if self.reduce == 'prod':
            # d out / d x = out / x for each factor x (PyTorch's formula, without zeros)
            if bool((ad[self.hit] == 0).any()) or bool((sd == 0).any()):
                raise NotImplementedError('scatter_reduce: the gradient of reduce="prod" '
                                          'with zeros among the factors is not supported')
            ga_c = xp.where(self.hit, od / xp.where(ad == 0, 1, ad), 1) \
                if self.include_self else (~self.hit).astype(od.dtype)
            gs_c = value / sd
        else:
            # (as PyTorch, an input value equal to the result counts among the ties even
            # where include_self is False; it then gets no gradient)
            self_is = ad == od
            src_is = sd == value
            n = self_is.astype(od.dtype)
            index_add_at(xp, n if n.ndim else n.reshape(1),
                         along(xp, index, d) if n.ndim else (index.reshape(-1),),
                         src_is.astype(od.dtype))
            n = xp.where(n == 0, 1, n)
            ga_c = self_is / n
            if not self.include_self:
                ga_c = xp.where(self.hit, 0, ga_c)
            gs_c = src_is / (xp.take_along_axis(n, index, axis=d) if n.ndim else
                             n.reshape(-1)[index])
        if self._next[0] is not None:
            ga = g * const_like(ga_c.astype(od.dtype), g)
        if self._next[1] is not None:
            gs = self._to_src(Gather.apply(g, dim=d, index=index) *
                              const_like(gs_c.astype(od.dtype), g))
        return ga, gs

    def _to_src(self, gs):
        """An index-shaped gradient of ``src`` padded with zeros to ``src``'s shape."""
        shape = self._meta_src
        if tuple(gs.shape) == shape:
            return gs
        return IndexBackward.apply(gs, basic=tuple(slice(0, s) for s in gs.shape), adv=None,
                                   shape=shape)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """``input`` with ``src`` combined in at ``index`` along ``dim`` by ``reduce``: 'sum',
    'prod', 'mean', 'amax' or 'amin' (``include_self``: ``input``'s values take part)."""
    reduce = {'max': 'amax', 'min': 'amin'}.get(reduce, reduce)    # (PyTorch's aliases)
    if reduce not in ('sum', 'prod', 'mean', 'amax', 'amin'):
        raise RuntimeError(f'reduce argument must be either sum, prod, mean, amax or amin, got '
                           f'{reduce}')
    d, idx = _scatter_args(input, dim, index, src, 'scatter_reduce')
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' must be Tensor, not "
                        f'{type(src).__name__}')
    if src._data.dtype != input._data.dtype:
        raise RuntimeError(f'scatter_reduce(): Expected self.dtype to be equal to src.dtype')
    return ScatterReduce.apply(input, src, dim=d, index=idx, reduce=reduce,
                               include_self=include_self)


FUNCTIONS += ['scatter_reduce']
METHODS += ['scatter_reduce']


# In-place forms: one op applied in place where there is one; else the result of the
# composite, computed from a copy of the old value, written back (``copy_``).

def index_fill_(input, dim, index, value):
    mask = _index_fill_mask(input, dim, index, 'index_fill_')
    return MaskedFill.apply_(input, _fill_value(input, value, 'index_fill'), mask=mask)


def index_copy_(input, dim, index, source):
    return input.copy_(index_copy(input.clone(), dim, index, source))


def masked_scatter_(input, mask, source):
    if mask._data.shape != input._data.shape and \
            tuple(broadcast_shape('masked_scatter_', input._data.shape, mask._data.shape)) != \
            tuple(input._data.shape):
        raise RuntimeError(f"output with shape {list(input._data.shape)} doesn't match the "
                           f'broadcast shape {list(mask._data.shape)}')
    return input.copy_(masked_scatter(input.clone(), mask, source))


def scatter_reduce_(input, dim, index, src, reduce, *, include_self=True):
    reduce = {'max': 'amax', 'min': 'amin'}.get(reduce, reduce)
    scatter_reduce(input.detach(), dim, index, src.detach(), reduce)    # (the checks)
    d, idx = _scatter_args(input, dim, index, src, 'scatter_reduce_')
    return ScatterReduce.apply_(input, src, dim=d, index=idx, reduce=reduce,
                                include_self=include_self)


METHODS += ['index_fill_', 'index_copy_', 'masked_scatter_', 'scatter_reduce_']


def unravel_index(indices, shape):
    """The coordinates in an array of ``shape`` of the flat ``indices``: a tuple of int64
    tensors of ``indices``' shape, one per dim (negative indices count from the end)."""
    if not isinstance(indices, Tensor):
        raise TypeError(f"unravel_index(): argument 'indices' must be Tensor, not "
                        f'{type(indices).__name__}')
    flat = indices._data
    if flat.dtype.kind not in 'iu':
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(s < 0 for s in shape):
        raise RuntimeError("'shape' cannot have negative values, but got "
                           f'{tuple(shape)}')
    xp = indices._device.xp
    out, rest = [], flat.astype('int64')
    for size in reversed(shape):
        out.append(rest % size if size else rest * 0)
        rest = rest // size if size else rest
    return tuple(_make(c, indices._device) for c in reversed(out))


FUNCTIONS += ['unravel_index']
