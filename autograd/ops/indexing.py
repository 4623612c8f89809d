"""Indexing: ``x[idx]``, ``x[idx] = v``, views written in place, gather/scatter and masks.

PyTorch indexes in two stages, and so do we: first the *basic* indices (ints select,
slices slice, ``None`` unsqueezes, ``...`` skips) give a view; then the *advanced*
indices (integer tensors, bool masks) gather from that view, their result dims going
where the dims they index were when those are adjacent, else to the front (NumPy's
rule, applied after the ints are gone, which is where PyTorch differs from NumPy).
The gradient of a gather scatters back, summing repeated indices (``index_add_at``).
"""
import numbers
import warnings

from ..node import Op, root_base
from ..tensor import Tensor, _make
from ._util import wrap_dim
from .shape import sum_to


# ----------------------------------------------------------------------------- arrays

def index_add_at(xp, out, key, values):
    """``out[key] += values`` with repeated indices summed (unbuffered), on any backend.

    The one place that scatter-adds arrays: NumPy's ``add.at``; CuPy has ``add.at`` in
    recent versions and ``cupyx.scatter_add`` before that.
    """
    at = getattr(xp.add, 'at', None)
    if at is not None:
        at(out, key, values)
    else:
        import cupyx
        cupyx.scatter_add(out, key, values)


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
        import numpy
        a = numpy.asarray(obj)
        if a.size == 0 and a.dtype.kind == 'f':     # x[[]]: an empty integer index
            a = a.astype(numpy.int64)
        a = dev.asarray(a)
    kind = a.dtype.kind
    if kind == 'b' or a.dtype.name == 'uint8':
        return a.astype(bool) if kind != 'b' else a
    if kind not in _INT_KINDS or a.dtype.itemsize < 4:
        raise IndexError('tensors used as indices must be long, int, byte or bool tensors')
    return a


def _check_bounds(xp, a, size, dim):
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
                _mask_error(x, it, basic, norm, dim, out_dim)
            basic.extend([slice(None)] * k)
            adv.extend(it.nonzero())
            has_adv = True
            dim += k
            out_dim += k
        else:
            _check_bounds(xp, it, shape[dim], out_dim)
            basic.append(slice(None))
            adv.append(it)
            has_adv = True
            dim += 1
            out_dim += 1
    basic = None if trivial else tuple(basic) + (Ellipsis,)   # '...': 0-d views, not scalars
    return basic, (tuple(adv) if has_adv else None)


def _mask_error(x, mask, basic, norm, dim, out_dim):
    shape = x._data.shape
    sliced = list(_region(x._data, tuple(basic) + (Ellipsis,)).shape) if basic else list(shape)
    rest = [s for s in shape[dim:]]
    sliced = sliced[:out_dim] + rest
    for j, s in enumerate(mask.shape):
        if dim + j >= len(shape) or s != shape[dim + j]:
            raise IndexError(f'The shape of the mask {list(mask.shape)} at index {j} does not '
                             f'match the shape of the indexed tensor {sliced} at index '
                             f'{out_dim + j}')


# ----------------------------------------------------------------------------- getitem

class Slice(Op):
    """Basic indexing (ints, slices, None): a view of the input."""
    __slots__ = ('in_shape', 'basic')
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

class IndexPut(Op):
    """``a`` with ``a[idx] = v`` (``v`` cast to ``a``'s dtype, broadcast to the region).

    Gradients: ``a`` gets ``g`` with the region zeroed (those values were overwritten);
    ``v`` gets the region of ``g`` summed back to its shape.
    """
    __slots__ = ('basic', 'adv', 'v_shape')

    def forward(self, xp, a, v, basic, adv):
        self.basic = basic
        self.adv = adv
        self.v_shape = getattr(v, 'shape', None)
        out = a.copy()
        _put(xp, out, v, basic, adv)
        return out

    def backward(self, g):
        na, nv = self._next
        ga = gv = None
        if na is not None:
            ga = IndexPut.apply(g, 0, basic=self.basic, adv=self.adv)
        if nv is not None:
            gv = _sum_to_value(gather_index(g, self.basic, self.adv), self.v_shape)
        return ga, gv


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
    lead = len(shape) - g._data.ndim
    if lead > 0:
        return sum_to(g, shape[lead:]).reshape(shape)
    return sum_to(g, shape)


def setitem(x, idx, value):
    """``x[idx] = value`` in place (tracked by the version counter and by autograd)."""
    from ..grad_mode import state
    from .elementwise import _num
    basic, adv = parse_index(x, idx)
    value = _num(value)
    if isinstance(value, Tensor):
        if value._device is not x._device:
            raise RuntimeError(f'Expected all tensors to be on the same device, but found at '
                               f'least two devices, {x._device} and {value._device}! '
                               '(when checking arguments for index_put_)')
    needs = state.enabled and (x._requires_grad or (isinstance(value, Tensor) and
                                                    value._requires_grad))
    if not needs:
        base = root_base(x)
        needs = state.enabled and base is not None and base._requires_grad
    if not needs:
        # nothing to record: write straight into the storage
        _put(x._device.xp, x._data, value._data if isinstance(value, Tensor) else value,
             basic, adv)
        x._vc[0] += 1
        return
    IndexPut.apply_(x, value, basic=basic, adv=adv)


# ----------------------------------------------------------------------------- views written in place

class MaskZero(Op):
    """``g`` with the elements under ``mask`` set to zero (self-adjoint)."""
    __slots__ = ('mask',)

    def forward(self, xp, g, mask):
        self.mask = mask
        return xp.where(mask, xp.zeros((), dtype=g.dtype), g)

    def backward(self, gg):
        return MaskZero.apply(gg, mask=self.mask)


class CopySlices(Op):
    """The node of a base after one of its views was changed in place (PyTorch's
    CopySlices).  Input 0: the old base; input 1: the new value of the view.  The
    view's region of the gradient goes to the new value, the rest to the old base.
    Its forward only hands back the base's storage, which already holds the result."""
    __slots__ = ('mask', 'chain')

    def name(self):
        return 'CopySlices'

    def forward(self, xp, base, new_view, mask, chain):
        self.mask = mask
        self.chain = chain
        return base

    def backward(self, g):
        nb, nr = self._next
        gb = MaskZero.apply(g, mask=self.mask) if nb is not None else None
        gr = _replay(g, self.chain) if nr is not None else None
        return gb, gr


def _view_chain(t):
    """The view ops from the root base down to ``t``: [(op_cls, params, output_index)]."""
    chain = []
    src = getattr(t, '_view_src', None)
    while src is not None:
        parent, cls, params, nr = src
        chain.append((cls, params, nr, t))
        t = parent
        src = getattr(t, '_view_src', None)
    chain.reverse()
    return chain


def _replay(t, chain):
    """Apply the view ops of ``chain`` to tensor ``t``."""
    for cls, params, nr, _ in chain:
        t = cls.apply(t, **params)
        if nr is not None:
            t = t[nr]
    return t


def _replay_array(xp, a, chain):
    for cls, params, nr, _ in chain:
        a = Op.__new__(cls).forward(xp, a, **params)
        if nr is not None:
            a = a[nr]
    return a


def _snapshot(t, grad_fn, output_nr):
    """A tensor standing for ``t``'s value with the given history (an input edge)."""
    s = _make(t._data, t._device)
    s._vc = t._vc
    s.grad_fn = grad_fn
    if grad_fn is not None:
        s._output_nr = output_nr
        s._requires_grad = True
    else:
        s._requires_grad = t._requires_grad
    return s


def rebase_view(target, node):
    """After an in-place op on view ``target`` (recorded as ``node``, whose output 0 is
    the view's new value), route the root base's history through a CopySlices node and
    make the view (and the views between it and the base) views of that new base."""
    base = root_base(target)
    chain = _view_chain(target)
    xp = base._device.xp
    mask = xp.zeros(base._data.shape, dtype=bool)
    _replay_array(xp, mask, chain)[...] = True
    old_base = _snapshot(base, base.grad_fn, getattr(base, '_output_nr', 0))
    new_view = _snapshot(target, node, 0)
    new_base = CopySlices.apply(old_base, new_view, mask=mask,
                                chain=tuple((c, p, n, None) for c, p, n, _ in chain))
    base.grad_fn = new_base.grad_fn
    base._output_nr = 0
    base._requires_grad = True
    t = base
    for cls, params, nr, view_t in chain:
        out = cls.apply(t, **params)
        if nr is not None:
            out = out[nr]
        view_t.grad_fn = out.grad_fn
        view_t._output_nr = out._output_nr
        view_t._requires_grad = True
        t = view_t
    if node._out is not None:       # the node's saved output now lives in the view
        node._out = (target._data, target._device, target._vc, target._vc[0], 0)


FUNCTIONS = []
METHODS = []
INPLACE = {}
OPERATORS = {'__getitem__': getitem, '__setitem__': setitem}
