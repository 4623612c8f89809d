"""Broadcasting ops and device/dtype copies: the ops the engine itself relies on.

``sum_to`` is the one place where broadcasting is undone in backward.
"""
from ..node import Op
from ..tensor import Tensor, _make
from ._util import prod


def _broadcastable_to(shape, src_shape):
    """True if an array of ``shape`` broadcasts to ``src_shape`` (so src can sum back to it)."""
    if len(shape) > len(src_shape):
        return False
    for s, t in zip(reversed(shape), reversed(src_shape)):
        if s != t and s != 1:
            return False
    return True


class SumTo(Op):
    """Sum over broadcast dimensions so that the result has ``shape``."""
    __slots__ = ('in_shape',)

    def forward(self, xp, a, shape):
        self.in_shape = a.shape
        lead = a.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(shape) if s == 1 and a.shape[lead + i] != 1)
        out = a.sum(axis=axes, keepdims=True) if axes else a
        if lead:
            out = out.reshape(shape)
        return out

    def backward(self, g):
        return broadcast_to(g, self.in_shape)


class BroadcastTo(Op):
    """Expand to ``shape`` (a read-only view in the array library)."""
    __slots__ = ('in_shape',)
    view = True

    def forward(self, xp, a, shape):
        self.in_shape = a.shape
        try:
            return xp.broadcast_to(a, shape)
        except ValueError:
            raise RuntimeError(f'The expanded size of the tensor must match the existing size at '
                               f'non-singleton dimensions: cannot expand {list(a.shape)} to '
                               f'{list(shape)}') from None

    def backward(self, g):
        return sum_to(g, self.in_shape)


def sum_to(x, shape):
    """Sum ``x`` down to ``shape`` (the inverse of broadcasting)."""
    shape = tuple(shape)
    if x._data.shape == shape:
        return x
    return SumTo.apply(x, shape=shape)


def broadcast_to(x, shape):
    shape = tuple(shape)
    if x._data.shape == shape:
        return x
    return BroadcastTo.apply(x, shape=shape)


class ToCopy(Op):
    """A copy to another device and/or dtype; backward copies the gradient back."""
    __slots__ = ('src_device', 'src_dtype')
    transfers = True

    def forward(self, xp, a, device, dtype):
        from ..backend import device_of_array
        self.src_dtype = a.dtype
        self.src_device = None
        if device is not None and device_of_array(a) is not device:
            self.src_device = device_of_array(a)
            a = _transfer(a, device)
        if dtype is not None and a.dtype != dtype.np:
            a = a.astype(dtype.np)
        elif self.src_device is None:
            a = a.copy()
        return a

    def backward(self, g):
        return to_copy(g, self.src_device, None if g._data.dtype == self.src_dtype else
                       _dtype_of(self.src_dtype))

def _dtype_of(np_dtype):
    from ..backend import from_numpy_dtype
    return from_numpy_dtype(np_dtype)


def _transfer(a, device):
    """Explicit host<->device copy between array modules."""
    from ..backend import to_numpy
    if device.type == 'cpu':
        return to_numpy(a).copy() if not isinstance(a, device.array_type) else a.copy()
    return device.asarray(to_numpy(a))


def to_copy(x, device=None, dtype=None):
    """``x`` on ``device`` with ``dtype`` (a differentiable copy)."""
    if dtype is not None and dtype.np != x._data.dtype and not dtype.is_floating_point:
        with _no_grad():
            return ToCopy.apply(x, device=device, dtype=dtype)
    return ToCopy.apply(x, device=device, dtype=dtype)


def _no_grad():
    from ..grad_mode import no_grad
    return no_grad()


def _infer_shape(shape, numel, op='view'):
    shape = tuple(int(s) for s in shape)
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
        from ..backend import as_dtype
        raise NotImplementedError(f'view(dtype) is not supported (got {as_dtype(shape[0])})')
    if not x._data.flags.c_contiguous and x._data.size > 1:
        new = _infer_shape(shape, x._data.size)
        try:
            x._data.view().shape = new     # NumPy refuses exactly where PyTorch's view does
        except AttributeError:
            raise RuntimeError('view size is not compatible with input tensor\'s size and stride '
                               '(at least one dimension spans across two contiguous subspaces).'
                               ' Use .reshape(...) instead.') from None
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


FUNCTIONS = ['reshape', 'broadcast_to']
METHODS = ['reshape', 'view', 'expand', 'expand_as', 'broadcast_to']
