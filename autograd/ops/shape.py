"""Shape ops: broadcasting, reshaping, views, joining, splitting, device/dtype copies.

``sum_to`` is the one place where broadcasting is undone in backward.  View ops
(``view = True``) return arrays that share storage with their input, and their outputs
share its version counter, as in PyTorch.  Each backward is written with ops that come in
adjoint pairs (permute/permute, split/cat, unbind/stack, narrow/pad,
diagonal/diagonal-scatter), so every gradient differentiates again, and runs on bare
arrays in a sweep that records no graph (``array_backward``).
"""
import warnings
from math import prod

from ..backend import array_module, device_of_array, is_writeable, result_type, transfer
from ..backend import _BY_NAME as DTYPE_NAMES, Device, as_dtype, broadcastable_to
from ..backend import device as as_device, from_numpy_dtype, sum_to as backend_sum_to
from ..backend import check_bfloat16
from ..grad_mode import no_grad
from ..op import Op
from ..node import named
from ..views import inplace_view
from ..tensor import Tensor
from ..extend import array_of, zeros_like_shape
from ._util import broadcast_error, broadcast_shapes, normalize_dims, quiet, wrap_dim


class SumTo(Op):
    """Sum over broadcast dimensions so that the result has ``shape``."""
    __slots__ = ('in_shape',)
    array_backward = True

    def forward(self, xp, a, shape):
        self.in_shape = a.shape
        return backend_sum_to(a, shape)

    def backward(self, g):
        return broadcast_to(g, self.in_shape)


class BroadcastTo(Op):
    """Expand to ``shape`` (a read-only view in the array library; a 0-d input, as in the
    backward of a full reduction, is filled into a new array, which is cheaper here)."""
    __slots__ = ('in_shape',)
    torch_name = 'ExpandBackward0'      # PyTorch's node name (expand, broadcast_to)
    array_backward = True
    view = 'maybe'

    def forward(self, xp, a, shape):
        self.in_shape = a.shape
        if a.ndim == 0:
            out = xp.empty(shape, dtype=a.dtype)
            out[...] = a
            return out
        try:
            return xp.broadcast_to(a, shape)
        except ValueError:
            raise RuntimeError(f'The expanded size of the tensor must match the existing size at '
                               f'non-singleton dimensions: cannot expand {list(a.shape)} to '
                               f'{list(shape)}') from None

    def backward(self, g):
        return sum_to(g, self.in_shape)


def sum_to(x, shape):
    """Sum ``x`` (a tensor, or an array in an array sweep) down to ``shape`` (the inverse
    of broadcasting)."""
    shape = tuple(shape)
    if array_of(x).shape == shape:
        return x
    return SumTo.apply(x, shape=shape)


def broadcast_to(x, shape):
    """``x`` expanded to ``shape``: a tensor (a view), or in an array sweep an array (a new
    one when small: filling it costs less than NumPy's Python-level broadcast_to)."""
    shape = tuple(shape)
    a = array_of(x)
    if a.shape == shape:
        return x
    if a is x and prod(shape) <= _FILL_LIMIT:     # a bare array: no view to keep, no node
        out = array_module(a).empty(shape, a.dtype)
        out[...] = a
        return out
    return BroadcastTo.apply(x, shape=shape)


_FILL_LIMIT = 1 << 16


@quiet
class ToCopy(Op):
    """A copy to another device and/or dtype; backward copies the gradient back."""
    __slots__ = ('src_device', 'src_dtype')
    array_backward = True
    transfers = True

    def forward(self, xp, a, device, dtype):
        check_bfloat16(a.dtype if dtype is None else dtype, device or device_of_array(a))
        self.src_dtype = a.dtype
        self.src_device = None
        if device is not None and device_of_array(a) is not device:
            self.src_device = device_of_array(a)
            a = transfer(a, device)
        if dtype is not None and a.dtype != dtype.np:
            a = a.astype(dtype.np)
        elif self.src_device is None:
            a = a.copy()
        return a

    def backward(self, g):
        same = array_of(g).dtype == self.src_dtype
        return ToCopy.apply(g, device=self.src_device,
                            dtype=None if same else from_numpy_dtype(self.src_dtype))


def to_copy(x, device=None, dtype=None):
    """``x`` on ``device`` with ``dtype`` (a differentiable copy)."""
    if dtype is not None and dtype.np != x._data.dtype and not dtype.is_floating_point:
        with no_grad():
            return ToCopy.apply(x, device=device, dtype=dtype)
    return ToCopy.apply(x, device=device, dtype=dtype)


def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
    """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other_tensor)``."""
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a._device, a.dtype
        elif isinstance(a, (str, Device)) and not (isinstance(a, str) and a in DTYPE_NAMES):
            device = a
        else:
            dtype = a
    dev = self._device if device is None else as_device(device)
    dt = None if dtype is None else as_dtype(dtype)
    if dev is self._device and (dt is None or dt.np == self._data.dtype) and not copy:
        return self
    return to_copy(self, dev, dt)


def sum_to_size(x, *size):
    """``x`` summed down to ``size``, which it must broadcast from (PyTorch's
    ``Tensor.sum_to_size``)."""
    shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else size
    if not broadcastable_to(shape, tuple(x.shape)):
        raise RuntimeError(f'size {{{", ".join(map(str, shape))}}} is not expandable to size '
                           f'{{{", ".join(map(str, x.shape))}}}.')
    return sum_to(x, shape)


def _infer_shape(shape, numel, op='view'):
    if shape.__class__ is tuple and all([s.__class__ is int and s >= 0 for s in shape]) \
            and prod(shape) == numel:
        return shape            # (the common case, checked at a third of the cost)
    for i, s in enumerate(shape):
        if isinstance(s, float) or s.__class__ is bool:
            raise TypeError(f"{op}(): argument '{'size' if op == 'view' else 'shape'}' failed to "
                            f'unpack the object at pos {i + 1} with error "type must be tuple '
                            f'of ints,but got {type(s).__name__}"')
    shape = tuple(int(s) for s in shape)
    for i, s in enumerate(shape):
        if s < -1:
            raise RuntimeError(f'invalid shape dimension {s} at index {i} of shape {list(shape)}')
    if shape.count(-1) > 1:
        raise RuntimeError('only one dimension can be inferred')
    known = prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class Reshape(Op):
    """``reshape``: a view when the layout allows, else a copy."""
    __slots__ = ('in_shape',)
    torch_name = 'ViewBackward0'        # PyTorch's node name (view, reshape, flatten)
    array_backward = True
    view = 'maybe'

    def forward(self, xp, a, shape):
        self.in_shape = a.shape
        return a.reshape(_infer_shape(shape, a.size, 'reshape'))

    def backward(self, g):
        return g.reshape(self.in_shape)


def _shape_args(shape):
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return shape


def reshape(x, *shape):
    """``x`` with a new shape (-1 infers one dimension)."""
    shape = _shape_args(shape)
    if tuple(shape) == x._data.shape:
        return Reshape.apply(x, shape=x._data.shape)
    return Reshape.apply(x, shape=shape)


def view(x, *shape):
    """``x`` with a new shape, sharing storage; an error where that needs a copy."""
    shape = _shape_args(shape)
    if len(shape) == 1 and not isinstance(shape[0], int):
        raise NotImplementedError(f'view(dtype) is not supported (got {as_dtype(shape[0])})')
    if not x._data.flags.c_contiguous and x._data.size > 1:
        new = _infer_shape(shape, x._data.size)
        try:
            x._data.view().shape = new     # NumPy refuses exactly where PyTorch's view does
        except AttributeError:
            raise RuntimeError('view size is not compatible with input tensor\'s size and stride '
                               '(at least one dimension spans across two contiguous subspaces).'
                               ' Use .reshape(...) instead.') from None
        return Reshape.apply(x, shape=new)
    return reshape(x, *shape)


def expand(x, *sizes):
    """Broadcast to ``sizes`` (-1 keeps a dimension) without copying."""
    sizes = _shape_args(sizes)
    lead = len(sizes) - x._data.ndim
    if lead < 0:
        raise RuntimeError(f'expand: the number of sizes provided ({len(sizes)}) must be greater '
                           f'or equal to the number of dimensions in the tensor ({x._data.ndim})')
    shape = tuple(x._data.shape[i - lead] if s == -1 and i >= lead else int(s)
                  for i, s in enumerate(sizes))
    return broadcast_to(x, shape)


def expand_as(x, other):
    return broadcast_to(x, other._data.shape)


def reshape_as(x, other):
    return reshape(x, other._data.shape)


def view_as(x, other):
    return view(x, other._data.shape)


def _fill_missing(grads, meta):
    """Gradients of a multi-output op with zeros for the outputs that got none."""
    ref = next(g for g in grads if g is not None)
    return [zeros_like_shape(ref, m[0]) if g is None else g for g, m in zip(grads, meta)]


# ----------------------------------------------------------------------------- dim reordering

class Permute(Op):
    """Reorder dims: out.shape[i] = a.shape[dims[i]].  The adjoint is the inverse permutation."""
    __slots__ = ('dims',)
    array_backward = True
    view = True

    def forward(self, xp, a, dims):
        self.dims = dims
        return a.transpose(dims)

    def backward(self, g):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return Permute.apply(g, dims=tuple(inverse))


def permute(input, *dims):
    """``input`` with its dims reordered (a view): ``permute(x, (2, 0, 1))`` or
    ``x.permute(2, 0, 1)``."""
    if not dims:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    dims = _shape_args(dims)
    n = input._data.ndim
    if len(dims) != n:
        raise RuntimeError('permute(sparse_coo): number of dimensions in the tensor input does not '
                           'match the length of the desired ordering of dimensions i.e. '
                           f'input.dim() = {n} is not equal to len(dims) = {len(dims)}')
    dims = tuple(wrap_dim(d, n) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError('permute(): duplicate dims are not allowed.')
    return Permute.apply(input, dims=dims)


_TRANSPOSE = named(Permute, 'TransposeBackward0')      # PyTorch's node names
_T_OP = named(Permute, 'TBackward0')


def transpose(input, dim0, dim1):
    """Swap dims ``dim0`` and ``dim1`` (a view)."""
    n = input._data.ndim
    d0, d1 = wrap_dim(dim0, n), wrap_dim(dim1, n)
    dims = list(range(n))
    if n:
        dims[d0], dims[d1] = d1, d0
    return _TRANSPOSE.apply(input, dims=tuple(dims))


swapaxes = swapdims = transpose


def t(input):
    """Transpose a matrix; 0-d and 1-d tensors are returned as (views of) themselves."""
    n = input._data.ndim
    if n > 2:
        raise RuntimeError(f't() expects a tensor with <= 2 dimensions, but self is {n}D')
    return _T_OP.apply(input, dims=(1, 0) if n == 2 else tuple(range(n)))


def _T(self):
    n = self._data.ndim
    if n == 0:
        warnings.warn('Tensor.T is deprecated on 0-D tensors. This function is the identity in '
                      'these cases.', UserWarning, stacklevel=2)
    elif n != 2:
        warnings.warn('The use of `x.T` on tensors of dimension other than 2 to reverse their '
                      'shape is deprecated and it will throw an error in a future release. Consider '
                      '`x.mT` to transpose batches of matrices or `x.permute(*torch.arange(x.ndim '
                      '- 1, -1, -1))` to reverse the dimensions of a tensor.', UserWarning,
                      stacklevel=2)
    return Permute.apply(self, dims=tuple(range(n - 1, -1, -1)))


def _mT(self, name='mT'):
    n = self._data.ndim
    if n < 2:
        raise RuntimeError(f'tensor.{name} is only supported on matrices or batches of matrices. '
                           f'Got {n}-D tensor.')
    return transpose(self, -2, -1)


def _H(self):
    """The conjugate transpose of a matrix: the transpose, as tensors here are real."""
    n = self._data.ndim
    if n != 2:
        hint = ' For batches of matrices, consider using tensor.mH' if n > 2 else ''
        raise RuntimeError(f'tensor.H is only supported on matrices (2-D tensors). Got {n}-D '
                           f'tensor.{hint}')
    return transpose(self, 0, 1)


def _dim_list(dims):
    return (dims,) if isinstance(dims, int) or hasattr(dims, '__index__') else tuple(dims)


def movedim(input, source, destination):
    """Move dims ``source`` to positions ``destination`` (ints or sequences); the others
    keep their relative order (a view)."""
    src, dst = _dim_list(source), _dim_list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f'movedim: Invalid source or destination dims: source ({list(src)} '
                           f'dims) should contain the same number of dims as destination '
                           f'({list(dst)} dims)')
    n = input._data.ndim
    src = [wrap_dim(d, n) for d in src]
    dst = [wrap_dim(d, n) for d in dst]
    for name, ds, given in (('source', src, source), ('destination', dst, destination)):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f'movedim: repeated dim in `{name}` ({list(_dim_list(given))})')
    if not n:                           # (a 0-d input: dims 0 and -1 are no axis)
        return Permute.apply(input, dims=())
    order = [None] * n
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter([i for i in range(n) if i not in src])
    return Permute.apply(input, dims=tuple(next(rest) if o is None else o for o in order))


moveaxis = movedim


# ----------------------------------------------------------------------------- size-1 dims, flatten

class _Restride(Op):
    """A new shape over the same elements that is always a view (inserting or removing
    size-1 dims, splitting one dim).  The adjoint reshapes back."""
    __slots__ = ('in_shape',)
    array_backward = True
    view = True

    def forward(self, xp, a, shape):
        self.in_shape = a.shape
        return a.reshape(shape)

    def backward(self, g):
        return g.reshape(self.in_shape)


class Squeeze(_Restride):
    __slots__ = ()


class Unsqueeze(_Restride):
    __slots__ = ()


class Unflatten(_Restride):
    __slots__ = ()


_SQUEEZE_DIM = named(Squeeze, 'SqueezeBackward1')
_SQUEEZE_DIMS = named(Squeeze, 'SqueezeBackward2')


def squeeze(input, dim=None):
    """Remove size-1 dims: all of them (``dim=None``) or those among ``dim`` (int or tuple)."""
    shape = input._data.shape
    dims = normalize_dims(dim, len(shape))
    op = Squeeze if dim is None else _SQUEEZE_DIMS if isinstance(dim, (tuple, list)) else \
        _SQUEEZE_DIM                    # PyTorch's three squeeze overloads
    return op.apply(input, shape=tuple(s for i, s in enumerate(shape)
                                       if not (i in dims and s == 1)))


def unsqueeze(input, dim):
    """Insert a size-1 dim at ``dim`` (in [-ndim-1, ndim])."""
    shape = list(input._data.shape)
    shape.insert(wrap_dim(dim, len(shape) + 1), 1)
    return Unsqueeze.apply(input, shape=tuple(shape))


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` into one (a view when the layout allows)."""
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    s, e = wrap_dim(start_dim, len(shape)), wrap_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError('flatten() has invalid args: start_dim cannot come after end_dim')
    if s == e:
        return input
    return Reshape.apply(input, shape=shape[:s] + (prod(shape[s:e + 1]),) + shape[e + 1:])


def ravel(input):
    return reshape(input, (-1,))


def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one entry may be -1), a view."""
    shape = input._data.shape
    d = wrap_dim(dim, len(shape))
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError('unflatten: sizes must be non-empty')
    if sizes.count(-1) > 1:
        raise RuntimeError('only one dimension can be inferred')
    known = prod(s for s in sizes if s != -1)
    n = shape[d]
    if -1 in sizes and known and n % known == 0:
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    if prod(sizes) != n or -1 in sizes:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size "
                           f'of dim {dim} ({n}) in the input tensor')
    return Unflatten.apply(input, shape=shape[:d] + sizes + shape[d + 1:])


# ----------------------------------------------------------------------------- copies

class Clone(Op):
    """A copy with its own storage (C-contiguous); the gradient passes through unchanged."""
    __slots__ = ()
    array_backward = True

    def forward(self, xp, a):
        return a.copy()

    def backward(self, g):
        return g


def clone(input, *, memory_format=None):
    return Clone.apply(input)


def contiguous(input, memory_format=None):
    """``input`` itself if it is C-contiguous, else a contiguous copy."""
    if input._data.flags.c_contiguous:
        return input
    return Clone.apply(input)


@quiet                              # a cast that overflows (1e300 into float32) gives inf
class Copy(Op):
    """``self.copy_(src)``: ``src`` broadcast to self's shape and cast to self's dtype.  The
    old value of self does not reach the result, so its gradient is zero."""
    __slots__ = ('src_shape',)
    array_backward = True

    def forward(self, xp, a, b):
        self.src_shape = b.shape
        if not broadcastable_to(b.shape, a.shape):
            n = max(a.ndim, b.ndim)
            pa, pb = (1,) * (n - a.ndim) + a.shape, (1,) * (n - b.ndim) + b.shape
            if any(s != t and 1 not in (s, t) for s, t in zip(pa, pb)):
                raise broadcast_error('copy_', a, b)
            raise RuntimeError(f"output with shape {list(a.shape)} doesn't match the broadcast "
                               f'shape {[max(s, t) for s, t in zip(pa, pb)]}')
        out = xp.empty(a.shape, a.dtype)
        xp.copyto(out, b, casting='unsafe')
        return out

    def backward(self, g):
        ga = zeros_like_shape(g, g.shape) if self._next[0] is not None else None
        return ga, sum_to(g, self.src_shape) if self._next[1] is not None else None


def copy_(self, src, non_blocking=False):
    """Write ``src`` (broadcast, cast, moved from its device) into ``self``; returns self."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' (position 1) must be Tensor, not "
                        f'{type(src).__name__}')
    if src._device is not self._device:
        src = to_copy(src, self._device)
    return Copy.apply_(self, src)


# ----------------------------------------------------------------------------- repeat, flip, roll

class Repeat(Op):
    """Tile ``a`` ``reps[i]`` times along dim i (leading reps add dims).  The adjoint sums
    the copies: view g as (r0, s0, r1, s1, ...) and sum over the r axes."""
    __slots__ = ('in_shape', 'reps')
    array_backward = True

    def forward(self, xp, a, reps):
        self.in_shape, self.reps = a.shape, reps
        return xp.tile(a, reps)

    def backward(self, g):
        reps = self.reps
        if not reps:
            return g
        shape = (1,) * (len(reps) - len(self.in_shape)) + self.in_shape
        split = tuple(n for pair in zip(reps, shape) for n in pair)
        once = tuple(n for s in shape for n in (1, s))     # (1, s0, 1, s1, ...)
        return sum_to(g.reshape(split), once).reshape(self.in_shape)


def repeat(input, *sizes):
    """``x.repeat(2, 3)``: tile along each dim (at least ``x.ndim`` sizes)."""
    sizes = tuple(int(s) for s in _shape_args(sizes))
    if len(sizes) < input._data.ndim:
        raise RuntimeError('Number of dimensions of repeat dims can not be smaller than number of '
                           'dimensions of tensor')
    if any(s < 0 for s in sizes):
        raise RuntimeError(f'Trying to create tensor with negative dimension {min(sizes)}: '
                           f'{list(sizes)}')
    return Repeat.apply(input, reps=sizes)


def tile(input, dims):
    """Like ``repeat``, but fewer ``dims`` than the tensor has are padded with leading 1s."""
    dims = _dim_list(dims)
    return repeat(input, (1,) * (input._data.ndim - len(dims)) + tuple(dims))


class Flip(Op):
    """Reverse the order of elements along ``dims`` (a copy, as in PyTorch); self-adjoint."""
    __slots__ = ('dims',)
    array_backward = True

    def forward(self, xp, a, dims):
        self.dims = dims
        return xp.flip(a, dims).copy() if dims else a.copy()

    def backward(self, g):
        return Flip.apply(g, dims=self.dims)


def flip(input, *dims):
    """``flip(x, (0, 1))`` or ``x.flip(0, 1)``."""
    dims = _shape_args(dims)
    return Flip.apply(input, dims=normalize_dims(dims, input._data.ndim))


def fliplr(input):
    if input._data.ndim < 2:
        raise RuntimeError('Input must be >= 2-d.')
    return Flip.apply(input, dims=(1,))


def flipud(input):
    if input._data.ndim < 1:
        raise RuntimeError('Input must be >= 1-d.')
    return Flip.apply(input, dims=(0,))


class Roll(Op):
    """Shift elements cyclically by ``shifts`` along ``dims`` (the flattened tensor when
    ``dims`` is None); the adjoint shifts back."""
    __slots__ = ('shifts', 'dims')
    array_backward = True

    def forward(self, xp, a, shifts, dims):
        self.shifts, self.dims = shifts, dims
        if a.ndim == 0:
            return a.copy()
        return xp.roll(a, shifts[0] if dims is None else shifts, axis=dims)

    def backward(self, g):
        return Roll.apply(g, shifts=tuple(-s for s in self.shifts), dims=self.dims)


def roll(input, shifts, dims=None):
    """Roll by ``shifts`` (int or tuple) along ``dims`` (int, tuple or None: flattened)."""
    shifts = tuple(int(s) for s in _dim_list(shifts))
    n = input._data.ndim
    if dims is not None:
        dims = tuple(wrap_dim(d, n) for d in _dim_list(dims))
    if (dims is None and len(shifts) != 1) or (dims is not None and len(shifts) != len(dims)):
        raise RuntimeError(f'shifts and dimensions must align. shifts: {len(shifts)}, dims:'
                           f'{0 if dims is None else len(dims)}')
    return Roll.apply(input, shifts=shifts, dims=dims if n else None)


# ----------------------------------------------------------------------------- triangles, diagonals

class Tril(Op):
    """Zero the elements above diagonal ``diagonal`` of the last two dims (a linear mask,
    so the adjoint applies the same mask)."""
    __slots__ = ('diagonal',)
    array_backward = True

    def forward(self, xp, a, diagonal=0):
        self.diagonal = diagonal
        return xp.tril(a, diagonal)

    def backward(self, g):
        return type(self).apply(g, diagonal=self.diagonal)


class Triu(Tril):
    """Zero the elements below diagonal ``diagonal`` of the last two dims."""
    __slots__ = ()

    def forward(self, xp, a, diagonal=0):
        self.diagonal = diagonal
        return xp.triu(a, diagonal)


def _triangle(cls, name):
    def fn(input, diagonal=0):
        if input._data.ndim < 2:
            raise RuntimeError(f'{name}: input tensor must have at least 2 dimensions')
        return cls.apply(input, diagonal=int(diagonal))

    def fn_(input, diagonal=0):
        if input._data.ndim < 2:
            raise RuntimeError(f'{name}: input tensor must have at least 2 dimensions')
        return cls.apply_(input, diagonal=int(diagonal))
    fn.__name__, fn_.__name__ = name, name + '_'
    fn.__doc__ = f'``{name}(x, diagonal=0)`` over the last two dims of ``x`` (..., m, n).'
    return fn, fn_


tril, tril_ = _triangle(Tril, 'tril')
triu, triu_ = _triangle(Triu, 'triu')


def _writable_diagonal(a, offset, dim1, dim2):
    """The diagonal view of ``a``; NumPy marks it read-only, PyTorch's is writable."""
    d = a.diagonal(offset, dim1, dim2)
    if not is_writeable(d) and is_writeable(a):
        d.flags.writeable = True
    return d


class Diagonal(Op):
    """The elements a[..., i, ..., i + offset, ...] of dims (dim1, dim2), as a new last dim
    (a view).  The adjoint writes g onto the diagonal of zeros."""
    __slots__ = ('in_shape', 'offset', 'dim1', 'dim2')
    array_backward = True
    view = True

    def forward(self, xp, a, offset, dim1, dim2):
        self.in_shape, self.offset, self.dim1, self.dim2 = a.shape, offset, dim1, dim2
        return _writable_diagonal(a, offset, dim1, dim2)

    def backward(self, g):
        return DiagonalScatter.apply(g, shape=self.in_shape, offset=self.offset, dim1=self.dim1,
                                     dim2=self.dim2)


class DiagonalScatter(Op):
    """Zeros of ``shape`` with ``g``'s last dim on the diagonal (dim1, dim2, offset): the
    adjoint of ``Diagonal`` and the forward of ``diag_embed``."""
    __slots__ = ('offset', 'dim1', 'dim2')
    array_backward = True

    def forward(self, xp, g, shape, offset, dim1, dim2):
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2
        out = xp.zeros(shape, g.dtype)
        _writable_diagonal(out, offset, dim1, dim2)[...] = g
        return out

    def backward(self, gg):
        return Diagonal.apply(gg, offset=self.offset, dim1=self.dim1, dim2=self.dim2)


def _diag_dims(n, dim1, dim2):
    d1, d2 = wrap_dim(dim1, n), wrap_dim(dim2, n)
    if d1 == d2:
        raise RuntimeError(f'diagonal dimensions cannot be identical {dim1}, {dim2}')
    return d1, d2


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of dims (dim1, dim2) shifted by ``offset`` (> 0: above), appended as the
    last dim: shape (..., min-length).  A view."""
    d1, d2 = _diag_dims(input._data.ndim, dim1, dim2)
    return Diagonal.apply(input, offset=int(offset), dim1=d1, dim2=d2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices whose diagonal (dim1, dim2, offset) holds the last dim of ``input``:
    (..., n) -> shape with two dims of size n + |offset|."""
    n = input._data.ndim + 1
    d1, d2 = _diag_dims(n, dim1, dim2)
    m = input._data.shape[-1] + abs(int(offset))
    rest = iter(input._data.shape[:-1])
    shape = tuple(m if i in (d1, d2) else next(rest) for i in range(n))
    return DiagonalScatter.apply(input, shape=shape, offset=int(offset), dim1=d1, dim2=d2)


def diag(input, diagonal=0):
    """A vector (n,) -> the square matrix with it on diagonal ``diagonal``; a matrix -> its
    diagonal (a copy)."""
    n = input._data.ndim
    if n == 1:
        return diag_embed(input, diagonal, 0, 1)
    if n == 2:
        return Clone.apply(Diagonal.apply(input, offset=int(diagonal), dim1=0, dim2=1))
    raise RuntimeError(f'diag(): Supports 1D or 2D tensors. Got {n}D')


# ----------------------------------------------------------------------------- joining

def _joined_dtype(arrays):
    """PyTorch's promotion over all inputs (cat/stack promote like elementwise ops)."""
    first = arrays[0].dtype
    if all(a.dtype == first for a in arrays):
        return arrays
    dt = result_type(*arrays).np
    return [a if a.dtype == dt else a.astype(dt) for a in arrays]


class Cat(Op):
    """Concatenate along ``dim``; the adjoint splits g back into the inputs' sizes."""
    __slots__ = ('dim', 'sizes')
    array_backward = True

    def forward(self, xp, *arrays, dim):
        # PyTorch still skips 1-d empty tensors of shape (0,) whatever the other shapes
        kept = [a for a in arrays if a.shape != (0,)]
        ref = kept[0] if kept else arrays[0]
        for i, a in enumerate(arrays):
            if a.ndim == 0:
                raise RuntimeError(f'zero-dimensional tensor (at position {i}) cannot be '
                                   'concatenated')
        d = wrap_dim(dim, ref.ndim) if kept else 0     # all (0,): PyTorch skips the check
        for i, a in enumerate(arrays):
            if a.shape == (0,):
                continue
            if a.ndim != ref.ndim:
                raise RuntimeError(f'Tensors must have same number of dimensions: got {ref.ndim} '
                                   f'and {a.ndim}')
            for j, (s, r) in enumerate(zip(a.shape, ref.shape)):
                if j != d and s != r:
                    raise RuntimeError(
                        f'cat(): Sizes of tensors must match except in dimension {d}. Expected '
                        f'size {r} but got size {s} for tensor number {i} in the list (shapes '
                        f'{list(ref.shape)} and {list(a.shape)}).')
        self.dim = d
        # a (0,) input's gradient is a fresh (0,) zeros, not a piece of g (PyTorch's
        # cat_tensors_backward): nothing of it differentiates again
        self.sizes = tuple(None if a.shape == (0,) else a.shape[d] for a in arrays)
        joined = _joined_dtype(arrays)
        return xp.concatenate([a for a in joined if not (a.shape == (0,) and kept)], axis=d)

    def backward(self, g):
        sizes = [s for s in self.sizes if s is not None]
        pieces = iter(Split.apply(g, sizes=tuple(sizes), dim=self.dim) if sizes else ())
        return tuple(zeros_like_shape(g, (0,)) if s is None else next(pieces)
                     for s in self.sizes)


def _tensor_list(tensors, op):
    if isinstance(tensors, Tensor):     # iterable, but PyTorch wants a sequence of tensors
        raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        'not Tensor')
    tensors = list(tensors)
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f'{op}(): argument \'tensors\' must be tuple of Tensors, but found '
                            f'element of type {type(x).__name__} at pos {i}')
    return tensors


def cat(tensors, dim=0):
    """Concatenate tensors of equal shape except along ``dim``; dtypes promote."""
    tensors = _tensor_list(tensors, 'cat')
    if not tensors:
        raise ValueError('torch.cat(): expected a non-empty list of Tensors')
    return Cat.apply(*tensors, dim=dim)


concat = cat


def concatenate(tensors, dim=0):
    return cat(tensors, dim)


class Stack(Op):
    """Join equal-shape tensors along a new dim ``dim``; the adjoint unbinds g."""
    __slots__ = ('dim',)
    array_backward = True

    def forward(self, xp, *arrays, dim):
        ref = arrays[0].shape
        for i, a in enumerate(arrays):
            if a.shape != ref:
                raise RuntimeError(f'stack expects each tensor to be equal size, but got '
                                   f'{list(ref)} at entry 0 and {list(a.shape)} at entry {i}')
        self.dim = dim
        return xp.stack(_joined_dtype(arrays), axis=dim)

    def backward(self, g):
        return Unbind.apply(g, dim=self.dim)


def stack(tensors, dim=0):
    """Stack tensors of equal shape (...) along a new dim: n tensors -> (..., n, ...)."""
    tensors = _tensor_list(tensors, 'stack')
    if not tensors:
        raise RuntimeError('stack expects a non-empty TensorList')
    return Stack.apply(*tensors, dim=wrap_dim(dim, tensors[0]._data.ndim + 1))


def hstack(tensors):
    """Concatenate along dim 1 (dim 0 for 1-d tensors); 0-d tensors count as 1-d."""
    tensors = [x.reshape(1) if x._data.ndim == 0 else x for x in _tensor_list(tensors, 'hstack')]
    if not tensors:
        raise RuntimeError('hstack expects a non-empty TensorList')
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    """Concatenate along dim 0 after making every tensor at least 2-d ((n,) -> (1, n))."""
    tensors = [x.reshape(1, -1) if x._data.ndim < 2 else x
               for x in _tensor_list(tensors, 'vstack')]
    if not tensors:
        raise RuntimeError('vstack expects a non-empty TensorList')
    return cat(tensors, 0)


row_stack = vstack


# ----------------------------------------------------------------------------- splitting (views)

class Narrow(Op):
    """Elements ``start .. start+length`` of dim ``dim`` (a view); the adjoint pads g with
    zeros back to the input's shape."""
    __slots__ = ('in_shape', 'dim', 'start')
    array_backward = True
    view = True

    def forward(self, xp, a, dim, start, length):
        self.in_shape, self.dim, self.start = a.shape, dim, start
        return a[(slice(None),) * dim + (slice(start, start + length),)]

    def backward(self, g):
        return NarrowScatter.apply(g, shape=self.in_shape, dim=self.dim, start=self.start)


class NarrowScatter(Op):
    """Zeros of ``shape`` with ``g`` written at ``start`` along ``dim``: the adjoint of Narrow."""
    __slots__ = ('dim', 'start', 'length')
    array_backward = True

    def forward(self, xp, g, shape, dim, start):
        self.dim, self.start, self.length = dim, start, g.shape[dim]
        out = xp.zeros(shape, g.dtype)
        out[(slice(None),) * dim + (slice(start, start + self.length),)] = g
        return out

    def backward(self, gg):
        return Narrow.apply(gg, dim=self.dim, start=self.start, length=self.length)


def narrow(input, dim, start, length):
    """``length`` elements of dim ``dim`` from ``start`` (negative counts from the end)."""
    if input._data.ndim == 0:
        raise RuntimeError('narrow() cannot be applied to a 0-dim tensor.')
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    start, length = int(start), int(length)
    if not -n <= start <= n:
        raise IndexError(f'start out of range (expected to be in range of [{-n}, {n}], but got '
                         f'{start})')
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError('narrow(): length must be non-negative.')
    if start + length > n:
        raise RuntimeError(f'start ({start}) + length ({length}) exceeds dimension size ({n}).')
    return Narrow.apply(input, dim=d, start=start, length=length)


class Split(Op):
    """Consecutive pieces of ``sizes`` along ``dim`` (views, one output each); the adjoint
    concatenates the pieces' gradients (zeros for pieces that got none)."""
    __slots__ = ('dim',)
    array_backward = True
    view = True

    def forward(self, xp, a, sizes, dim):
        self.dim = dim
        outs, start = [], 0
        for s in sizes:
            outs.append(a[(slice(None),) * dim + (slice(start, start + s),)])
            start += s
        return tuple(outs)

    def backward(self, *grads):
        return Cat.apply(*_fill_missing(grads, self._meta), dim=self.dim)


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the listed sizes."""
    if tensor._data.ndim == 0:
        raise RuntimeError('split expects at least a 1-dimensional tensor')
    d = wrap_dim(dim, tensor._data.ndim)
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = tuple(int(s) for s in split_size_or_sections)
        if any(s < 0 for s in sizes):
            raise RuntimeError('split_with_sizes expects split_sizes have only non-negative '
                               f'entries, but got split_sizes={list(sizes)}')
        if sum(sizes) != n:
            raise RuntimeError(f'split_with_sizes expects split_sizes to sum exactly to {n} '
                               f"(input tensor's size at dimension {d}), but got "
                               f'split_sizes={list(sizes)}')
    else:
        size = int(split_size_or_sections)
        if size < 0:
            raise RuntimeError('split expects split_size be non-negative, but got '
                               f'split_size={size}')
        if size == 0 and n != 0:
            raise RuntimeError('split_size can only be 0 if dimension size is 0, but got dimension '
                               f'size of {n}')
        if n == 0:
            sizes = (0,)
        else:
            sizes = (size,) * (n // size) + ((n % size,) if n % size else ())
    return Split.apply(tensor, sizes=sizes, dim=d)


def tensor_split(input, indices_or_sections, dim=0):
    """Views of ``input`` along ``dim``: ``n`` sections (the first ``size % n`` one longer),
    or the slices between the given indices (Python-style: negative counts from the end,
    out-of-range clamps, a decreasing index gives an empty piece)."""
    if input._data.ndim == 0:
        raise RuntimeError('tensor_split expected at least a 1-dimensional tensor, but got a '
                           'tensor with 0 dims')
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if not isinstance(indices_or_sections, (list, tuple)):
        k = int(indices_or_sections)
        if k <= 0:
            raise RuntimeError(f'number of sections must be larger than 0, got {k}')
        q, r = divmod(n, k)
        return Split.apply(input, sizes=(q + 1,) * r + (q,) * (k - r), dim=d)
    bounds = [min(max(int(i) + n if int(i) < 0 else int(i), 0), n) for i in indices_or_sections]
    starts, ends = [0] + bounds, bounds + [n]
    return tuple(narrow(input, d, a, max(b - a, 0)) for a, b in zip(starts, ends))


def _split_at(input, indices_or_sections, d, name, least):
    """``hsplit``/``vsplit``/``dsplit``: ``tensor_split`` along ``d``, sections exact."""
    ndim = input._data.ndim
    if ndim < least:
        raise RuntimeError(f'torch.{name} requires a tensor with at least {least} dimension, '
                           f'but got a tensor with {ndim} dimensions!')
    if not isinstance(indices_or_sections, (list, tuple, Tensor)):
        k, size = int(indices_or_sections), input._data.shape[d]
        if k != 0 and size % k:
            raise RuntimeError(f'torch.{name} attempted to split along dimension {d}, but the '
                               f'size of the dimension {size} is not divisible by the '
                               f'split_size {k}!')
    return tensor_split(input, indices_or_sections, d)


def hsplit(input, indices_or_sections):
    """Split along dim 1 (dim 0 for a 1-d tensor)."""
    return _split_at(input, indices_or_sections, 1 if input._data.ndim > 1 else 0, 'hsplit', 1)


def vsplit(input, indices_or_sections):
    return _split_at(input, indices_or_sections, 0, 'vsplit', 2)


def dsplit(input, indices_or_sections):
    return _split_at(input, indices_or_sections, 2, 'dsplit', 3)


def _at_least(tensors, fn):
    """``atleast_*d``: one tensor in, one out; several (or one sequence) in, a tuple out."""
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return fn(tensors[0])
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    return tuple(fn(t) for t in tensors)


def _1d(x):
    return x.reshape(1) if x._data.ndim == 0 else x


def _2d(x):
    return x.reshape(1, -1) if x._data.ndim < 2 else x


def _3d(x):
    shape = x._data.shape
    if len(shape) == 0:
        return x.reshape(1, 1, 1)
    if len(shape) == 1:
        return x.reshape(1, shape[0], 1)
    return x.reshape(shape + (1,)) if len(shape) == 2 else x


def atleast_1d(*tensors):
    return _at_least(tensors, _1d)


def atleast_2d(*tensors):
    """0-d -> (1, 1), (n,) -> (1, n); tensors with 2 or more dims unchanged."""
    return _at_least(tensors, _2d)


def atleast_3d(*tensors):
    """0-d -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1), as PyTorch (and NumPy)."""
    return _at_least(tensors, _3d)


def dstack(tensors):
    """Concatenate along dim 2 after making every tensor at least 3-d."""
    tensors = [_3d(x) for x in _tensor_list(tensors, 'dstack')]
    if not tensors:
        raise RuntimeError('dstack expects a non-empty TensorList')
    return cat(tensors, 2)


def chunk(input, chunks, dim=0):
    """At most ``chunks`` pieces of ceil(size / chunks) along ``dim``."""
    if input._data.ndim == 0:
        raise RuntimeError('chunk expects at least a 1-dimensional tensor')
    if chunks <= 0:
        raise RuntimeError(f'chunk expects `chunks` to be greater than 0, got: {chunks}')
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if n == 0:
        return Split.apply(input, sizes=(0,) * chunks, dim=d)
    return split(input, -(-n // chunks), d)


class Unbind(Op):
    """The slices along ``dim`` (views, one output each); the adjoint stacks their gradients."""
    __slots__ = ('dim',)
    array_backward = True
    view = True

    def forward(self, xp, a, dim):
        self.dim = dim
        lead = (slice(None),) * dim
        return tuple(a[lead + (i,)] for i in range(a.shape[dim]))

    def backward(self, *grads):
        return Stack.apply(*_fill_missing(grads, self._meta), dim=self.dim)


def unbind(input, dim=0):
    """The tuple of slices along ``dim``: (n, ...) -> n tensors of shape (...)."""
    if input._data.ndim == 0:
        raise IndexError(f'Dimension specified as {dim} but tensor has no dimensions')
    return Unbind.apply(input, dim=wrap_dim(dim, input._data.ndim))


def _iter(self):
    """Iterate over dim 0 (the slices of ``unbind(0)``)."""
    if self._data.ndim == 0:
        raise TypeError('iteration over a 0-d tensor')
    return iter(unbind(self, 0))


FUNCTIONS = [
    'reshape', 'broadcast_to', 'broadcast_shapes', 'permute', 'transpose', 'swapaxes', 'swapdims', 't', 'movedim',
    'moveaxis', 'squeeze', 'unsqueeze', 'flatten', 'ravel', 'unflatten', 'clone', 'tile', 'flip',
    'fliplr', 'flipud', 'roll', 'tril', 'triu', 'diagonal', 'diag_embed', 'diag', 'cat', 'concat',
    'concatenate', 'stack', 'hstack', 'vstack', 'row_stack', 'narrow', 'split', 'chunk', 'unbind',
    'tensor_split', 'hsplit', 'vsplit', 'dsplit', 'atleast_1d', 'atleast_2d', 'atleast_3d',
    'dstack',
]
METHODS = [
    'reshape', 'reshape_as', 'view', 'view_as', 'expand', 'expand_as', 'broadcast_to', 'permute',
    'transpose', 'swapaxes', 'swapdims', 't', 'movedim', 'moveaxis', 'squeeze', 'unsqueeze',
    'flatten', 'ravel', 'unflatten', 'clone', 'contiguous', 'copy_', 'repeat', 'tile', 'flip',
    'fliplr', 'flipud', 'roll', 'tril', 'triu', 'tril_', 'triu_', 'diagonal', 'diag_embed',
    'diag', 'narrow', 'split', 'chunk', 'unbind', 'tensor_split', 'hsplit', 'vsplit', 'dsplit',
]
OPERATORS = {
    '__iter__': _iter,
    'T': property(_T),
    'mT': property(_mT),
    'H': property(_H),
    'mH': property(lambda self: _mT(self, 'mH')),
}


squeeze_ = inplace_view(squeeze)
unsqueeze_ = inplace_view(unsqueeze)
t_ = inplace_view(t)
transpose_ = inplace_view(transpose)
swapaxes_ = inplace_view(swapaxes)
swapdims_ = inplace_view(swapdims)
METHODS += ['to', 'sum_to_size', 'squeeze_', 'unsqueeze_', 't_', 'transpose_', 'swapaxes_', 'swapdims_']


# ----------------------------------------------------------------------------- tensor functions
# (issue 14): grids and products of 1-D tensors, block diagonals, rotations, broadcasting
# several tensors; each composed of the view and joining ops above, or an op with its
# adjoint (``BlockDiag``: narrow).

def meshgrid(*tensors, indexing=None):
    """Coordinate grids of 0-d/1-d tensors: output i holds ``tensors[i]`` along dim i
    (``indexing='ij'``) or with the first two dims swapped (``'xy'``, Cartesian); each is
    an expanded view.  A list or tuple of tensors may be passed as one argument."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    tensors = _tensor_list(tensors, 'meshgrid')
    if not tensors:
        raise RuntimeError('meshgrid expects a non-empty TensorList')
    if indexing is None:
        warnings.warn('torch.meshgrid: in an upcoming release, it will be required to pass the '
                      'indexing argument.', UserWarning, stacklevel=2)
        indexing = 'ij'
    if indexing not in ('ij', 'xy'):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but '
                           f'received: {indexing}')
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError(f'torch.meshgrid: Expected 0D or 1D tensor in the tensor list '
                               f'but got: {t._data.ndim}D tensor of shape {list(t.shape)}')
        if t._data.dtype != tensors[0]._data.dtype:
            raise RuntimeError('meshgrid expects all tensors to have the same dtype')
    n = len(tensors)
    order = list(range(n))
    if indexing == 'xy' and n >= 2:
        order[0], order[1] = 1, 0
    sizes = [t._data.size for t in tensors]
    shape = tuple(sizes[order.index(p)] for p in range(n))
    grids = []
    for i, t in enumerate(tensors):
        view = [1] * n
        view[order[i]] = sizes[i]
        grids.append(broadcast_to(reshape(t, view), shape))
    return tuple(grids)


def cartesian_prod(*tensors):
    """Every combination of one element of each 1-D tensor, as rows (n1 * n2 * ..., k);
    a single tensor is returned as it is."""
    for t in tensors:
        if t._data.ndim != 1:
            raise RuntimeError(f'Expect a 1D vector, but got shape {list(t._data.shape)}')
    if len(tensors) == 1:
        return tensors[0]
    return stack([flatten(g) for g in meshgrid(*tensors, indexing='ij')], 1)


def broadcast_tensors(*tensors):
    """The tensors expanded (as views) to their common broadcast shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = tuple(tensors[0]._data.shape) if tensors else ()
    for t in tensors[1:]:
        try:
            shape = tuple(broadcast_shapes(shape, t._data.shape))
        except RuntimeError:
            raise broadcast_error('broadcast_tensors', t._data, _Shaped(shape)) from None
    return tuple(broadcast_to(t, shape) for t in tensors)


class _Shaped:
    """An object with a ``shape`` only (for ``broadcast_error``)."""
    __slots__ = ('shape',)

    def __init__(self, shape):
        self.shape = shape


class BlockDiag(Op):
    """Matrices (0-d: 1x1, 1-d: one row) placed along the diagonal of a zero matrix; the
    adjoint cuts each block back out of g."""
    __slots__ = ('blocks',)
    array_backward = True

    def forward(self, xp, *arrays):
        arrays = _joined_dtype(arrays)
        mats = [a.reshape(1, 1) if a.ndim == 0 else a.reshape(1, -1) if a.ndim == 1 else a
                for a in arrays]
        out = xp.zeros((sum(m.shape[0] for m in mats), sum(m.shape[1] for m in mats)),
                       dtype=arrays[0].dtype)
        r = c = 0
        blocks = []
        for a, m in zip(arrays, mats):
            h, w = m.shape
            out[r:r + h, c:c + w] = m
            blocks.append((r, c, h, w, a.shape))
            r, c = r + h, c + w
        self.blocks = blocks
        return out

    def backward(self, g):
        # an empty 1-d input's gradient is fresh zeros, as PyTorch's (no graph through g)
        return tuple(zeros_like_shape(g, shape) if shape == (0,) else
                     Narrow.apply(Narrow.apply(g, dim=0, start=r, length=h), dim=1, start=c,
                                  length=w).reshape(shape)
                     for r, c, h, w, shape in self.blocks)


def block_diag(*tensors):
    """The block-diagonal matrix of the tensors (each at most 2-d); dtypes promote."""
    tensors = _tensor_list(tensors, 'block_diag')
    for i, t in enumerate(tensors):
        if t._data.ndim > 2:
            raise RuntimeError(f'torch.block_diag: Input tensors must have 2 or fewer '
                               f'dimensions. Input {i} has {t._data.ndim} dimensions')
    if not tensors:
        from ..creation import zeros            # (a creation function, not an op)
        return zeros(1, 0)
    return BlockDiag.apply(*tensors)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first dim
    towards the second (as PyTorch: flips and a transpose)."""
    dims = list(dims)
    nd = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f'expected total rotation dims == 2, but got dims = {len(dims)}')
    if nd < 2:
        raise RuntimeError(f'expected total dims >= 2, but got total dims = {nd}')
    d0, d1 = wrap_dim(dims[0], nd), wrap_dim(dims[1], nd)
    if d0 == d1:
        raise RuntimeError(f'expected rotation dims to be different, but got dim0 = {dims[0]} '
                           f'and dim1 = {dims[1]}')
    k %= 4
    if k == 1:
        return transpose(Flip.apply(input, dims=(d1,)), d0, d1)
    if k == 2:
        return Flip.apply(input, dims=tuple(sorted((d0, d1))))
    if k == 3:
        return transpose(Flip.apply(input, dims=(d0,)), d0, d1)
    return clone(input)


def diagflat(input, offset=0):
    """The flattened ``input`` on diagonal ``offset`` of a square matrix."""
    return diag_embed(flatten(input), offset, 0, 1)


FUNCTIONS += ['meshgrid', 'cartesian_prod', 'broadcast_tensors', 'block_diag', 'rot90',
              'diagflat']
METHODS += ['rot90', 'diagflat']


def adjoint(input):
    """The conjugate transpose of the last two dims (a view; the transpose for real).  A 0-d
    tensor is its own adjoint (a view of it), as in PyTorch; 1-d is an error."""
    if input._data.ndim == 0:
        return view(input, ())
    return _mT(input, 'adjoint()')


FUNCTIONS += ['adjoint']
METHODS += ['adjoint']


from ..backend import as_strided as backend_as_strided  # noqa: E402


class Unfold(Op):
    """``Tensor.unfold``: the windows of ``size`` elements every ``step`` along ``dim``, as a
    new last dim (a strided view where the array module makes one, else a copy).  The
    adjoint adds each window's gradient back (``UnfoldBackward``)."""
    __slots__ = ('in_shape', 'dim', 'size', 'step')
    array_backward = True
    view = 'maybe'

    def forward(self, xp, a, dim, size, step):
        self.in_shape, self.dim, self.size, self.step = a.shape, dim, size, step
        if a.ndim == 0:
            return a.reshape(1)
        count = (a.shape[dim] - size) // step + 1
        shape = a.shape[:dim] + (count,) + a.shape[dim + 1:] + (size,)
        strides = a.strides[:dim] + (a.strides[dim] * step,) + a.strides[dim + 1:] + \
            (a.strides[dim],)
        out = backend_as_strided(xp, a, shape, strides)
        if out is None:
            windows = xp.arange(count)[:, None] * step + xp.arange(size)
            out = xp.moveaxis(xp.take(a, windows, axis=dim), dim + 1, -1)
        return out

    def backward(self, g):
        return UnfoldBackward.apply(g, shape=self.in_shape, dim=self.dim, size=self.size,
                                    step=self.step)


class UnfoldBackward(Op):
    """Zeros of ``shape`` with every window of ``g`` added back where ``Unfold`` took it."""
    __slots__ = ('dim', 'size', 'step')
    array_backward = True

    def forward(self, xp, g, shape, dim, size, step):
        self.dim, self.size, self.step = dim, size, step
        if not shape:
            return g.reshape(())
        out = xp.zeros(shape, g.dtype)
        count = g.shape[dim]
        for k in range(size):       # the k-th element of every window, at once
            key = (slice(None),) * dim + (slice(k, k + step * (count - 1) + 1, step),)
            out[key] += g[..., k]
        return out

    def backward(self, gg):
        return Unfold.apply(gg, dim=self.dim, size=self.size, step=self.step)


def unfold(self, dimension, size, step):
    """``x.unfold(dim, size, step)``: all windows of ``size`` elements, ``step`` apart,
    along ``dim``, as a new last dim."""
    nd = self._data.ndim
    d = wrap_dim(dimension, nd) if nd else 0
    n = self._data.shape[d] if nd else 1
    if size > n:
        raise RuntimeError(f'maximum size for tensor at dimension {d} is {n} but size is {size}')
    if size < 0:
        raise RuntimeError(f'size is {size} but must be >= 0')
    if step <= 0:
        raise RuntimeError(f'step is {step} but must be > 0')
    return Unfold.apply(self, dim=d, size=int(size), step=int(step))


METHODS += ['unfold']


def split_with_sizes(input, split_sizes, dim=0):
    """``split`` into pieces of the listed sizes (which must add up to the dim's size)."""
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if sum(split_sizes) != n:
        raise RuntimeError(f'split_with_sizes expects split_sizes to sum exactly to {n} (input '
                           f'tensor\'s size at dimension {d}), but got '
                           f'split_sizes={list(split_sizes)}')
    return split(input, list(split_sizes), d)


FUNCTIONS += ['split_with_sizes']
METHODS += ['split_with_sizes']
