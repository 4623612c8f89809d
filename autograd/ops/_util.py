"""Helpers shared by the op definitions: dtype promotion, dims and shapes, error messages
and op classes that differ only in their array function.  (What a backward formula needs
to build constants in its gradient's form, array or tensor, is in ``autograd.extend``.)"""
import math
import numbers
import sys

import numpy

from ..backend import get_default_dtype, result_type, scalar_name as backend_scalar_name
from ..tensor import Size, wrap_dim  # noqa: F401  (wrap_dim: the ops' import point)

# for forwards that silence NumPy themselves (``_Unary``, ``Add``: see ``quiet``)
from ..backend import IGNORE_ERRORS, reset_errstate, set_errstate  # noqa: F401


_NUMBER = (float, int)


def promote(a, b):
    """Cast array operands to the PyTorch result dtype of ``a op b`` (numbers stay numbers)."""
    da = getattr(a, 'dtype', None)
    db = getattr(b, 'dtype', None)
    if da is not None and da is db:
        return a, b
    # a Python number next to a float array takes the array's dtype (so does NumPy)
    if (b.__class__ in _NUMBER and da is not None and da.kind in 'fV') or \
            (a.__class__ in _NUMBER and db is not None and db.kind in 'fV'):
        return a, b
    dt = result_type(a, b).np
    token = set_errstate(IGNORE_ERRORS)     # 1e300 -> float32: inf
    try:
        if da is not None and da != dt:
            a = a.astype(dt)
        if db is not None and db != dt:
            b = b.astype(dt)
    finally:
        reset_errstate(token)
    return a, b


_C_TYPES = {'float32': 'float', 'float64': 'double', 'float16': 'c10::Half', 'int64': 'int64_t',
            'int32': 'int', 'int16': 'short', 'int8': 'int8_t', 'uint8': 'uint8_t'}


def fits(value, dtype):
    """``value`` (a Python number) to be stored in or compared as NumPy ``dtype`` (a fill, a
    clamp bound, an assigned scalar): PyTorch's RuntimeError where it would overflow.  NaN
    and inf do not fit integers; integers wrap around into unsigned types, floats do not."""
    kind = dtype.kind
    if kind == 'b' or value.__class__ is bool or not isinstance(value, (int, float)):
        return value
    if kind in 'iu':
        info = numpy.iinfo(dtype)
        lo = info.min if kind == 'i' or isinstance(value, float) else -int(info.max)
        ok = (value == value) and lo <= value <= info.max
    elif kind in 'fV':
        ok = not (abs(value) > float(numpy.finfo(dtype).max)) or value in (math.inf, -math.inf) \
            or value != value
    else:
        return value
    if not ok:
        raise RuntimeError(f'value cannot be converted to type {_C_TYPES.get(dtype.name, dtype.name)}'
                           ' without overflow')
    return value


def to_float(a):
    """Integer/bool arrays become the default float dtype (as PyTorch's float-only ops).
    A complex array is refused (NotImplementedError naming the calling op and the dtype):
    the cast would drop the imaginary part."""
    kind = a.dtype.kind
    if kind in 'fV':
        return a
    if kind == 'c':
        raise complex_not_implemented(sys._getframe(1), a.dtype)
    return a.astype(get_default_dtype().np)


def complex_not_implemented(frame, np_dtype):
    """PyTorch's error for an op without a kernel for a dtype (``"exp" not implemented for
    'ComplexFloat'``), for the op whose forward runs in ``frame`` (its ``self``), here where
    an op has no complex support."""
    op = frame.f_locals.get('self')
    name = type(op).__name__.lower() if op is not None else frame.f_code.co_name
    return NotImplementedError(f'"{name}" not implemented for '
                               f"'{backend_scalar_name(numpy.dtype(np_dtype))}'")


def shape_of(x):
    return tuple(getattr(x, 'shape', ()))


def shape_error(op, sa, sb):
    """PyTorch's message for shapes ``sa`` and ``sb`` that do not broadcast, naming the op."""
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + tuple(sa), (1,) * (n - len(sb)) + tuple(sb)
    for d in range(n - 1, -1, -1):
        if pa[d] != pb[d] and 1 not in (pa[d], pb[d]):
            return RuntimeError(
                f'{op}: The size of tensor a ({pa[d]}) must match the size of tensor b ({pb[d]}) '
                f'at non-singleton dimension {d} (shapes {list(sa)} and {list(sb)})')
    return RuntimeError(f'{op}: shapes {list(sa)} and {list(sb)} are not broadcastable')


def broadcast_error(op, a, b):
    """``shape_error`` for operands ``a`` and ``b`` (arrays or numbers)."""
    return shape_error(op, shape_of(a), shape_of(b))


def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` (sequences of sizes; an int is a 1-d shape)
    broadcast to, with PyTorch's errors (``torch.broadcast_shapes``)."""
    shapes = [(s,) if isinstance(s, int) else s for s in shapes]
    for s in shapes:
        if not isinstance(s, (tuple, list)) or not all(isinstance(n, numbers.Integral) for n in s):
            raise RuntimeError('Input shapes should be of type ints, a tuple of ints, or a list '
                               f'of ints, got {s!r}')
    out = [1] * max((len(s) for s in shapes), default=0)
    for i, shape in enumerate(shapes):
        for d in range(-1, -len(shape) - 1, -1):
            n = shape[d]
            if n == 1 or n == out[d]:
                continue
            if out[d] != 1:
                raise RuntimeError(f'Attempting to broadcast a dimension of length {n} at {d}! '
                                   f'Mismatching argument at index {i} had {shape!r}; but '
                                   f'expected shape should be broadcastable to {out}')
            if n < 0:
                raise ValueError('Attempting to broadcast a dimension with negative length!')
            out[d] = n
    return Size(out)


def broadcast_shape(op, sa, sb):
    """The shape that shapes ``sa`` and ``sb`` broadcast to (``shape_error`` naming ``op``
    if none).  The ops pass their arrays' shapes (sequences of non-negative ints), so none
    of ``broadcast_shapes``' checks of user input are needed: its per-size ABC checks cost
    ~5 us per call (a batched matmul's or a masked_fill's check)."""
    if sa == sb:
        return Size(sa)
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + tuple(sa), (1,) * (n - len(sb)) + tuple(sb)
    out = []
    for x, y in zip(pa, pb):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise shape_error(op, sa, sb)
    return Size(out)


def binary(fn, a, b, op):
    """Call the array function ``fn(a, b)``; turn a broadcasting failure into PyTorch's error."""
    try:
        return fn(a, b)
    except ValueError:
        raise broadcast_error(op, a, b) from None


def normalize_dims(dim, ndim):
    """``dim`` (None, an int or a sequence) as a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dim = (dim,)
    out = []
    for d in dim:
        d = wrap_dim(d, ndim)
        if d in out:
            raise RuntimeError(f'dim {d} appears multiple times in the list of dims')
        out.append(d)
    if ndim == 0:
        return ()
    return tuple(sorted(out))


def along(xp, index, dim):
    """The advanced index selecting ``a[..., index[i, j, k], ...]`` at each position of
    ``index`` (as ``take_along_axis``): ``index`` along ``dim``, open ``arange`` grids
    (each position's own coordinate) on the other axes."""
    n = index.ndim
    key = []
    for d in range(n):
        if d == dim:
            key.append(index)
        else:
            shape = [1] * n
            shape[d] = index.shape[d]
            key.append(xp.arange(index.shape[d]).reshape(shape))
    return tuple(key)


def scalar_name(a):
    """PyTorch's name for the dtype of array or tensor ``a`` (``Long``, ``Float`` ...)."""
    return backend_scalar_name(a.dtype)


def variant(base, name, fn):
    """Op class ``name``: ``base`` with array function ``fn`` (one class per op, so that
    each node is named after its own op)."""
    return type(name, (base,), {'__slots__': (), 'fn': fn, '__module__': base.__module__})


def quiet(cls):
    """Op class ``cls`` with a forward that NumPy does not warn from (log of negatives,
    division by zero, overflow: PyTorch gives inf or NaN silently).  For the ops whose
    ordinary inputs can warn; each call pays for setting NumPy's error state (about 0.1 us).
    A class with a ``quiet`` flag (``_Unary``) does it in its own forward, with no extra
    call; others get their forward wrapped."""
    forward = cls.forward
    if hasattr(cls, 'quiet'):
        cls.quiet = True
        return cls
    code = forward.__code__
    if code.co_argcount == 4 and not code.co_flags & 0x0C and code.co_varnames[2:4] == ('a', 'b'):
        def quiet_forward(self, xp, a, b):          # (self, xp, a, b): no *args to pack
            token = set_errstate(IGNORE_ERRORS)
            try:
                return forward(self, xp, a, b)
            finally:
                reset_errstate(token)
    else:
        def quiet_forward(self, xp, *args, **params):
            token = set_errstate(IGNORE_ERRORS)
            try:
                return forward(self, xp, *args, **params)
            finally:
                reset_errstate(token)
    quiet_forward.__qualname__ = f'{cls.__name__}.forward'
    cls.forward = quiet_forward
    return cls
