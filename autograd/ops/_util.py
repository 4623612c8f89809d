"""Helpers shared by the op definitions: dtype promotion, error messages, and the
constants a backward formula needs in the form of its gradient (array or tensor)."""
import math

from ..backend import array_module, get_default_dtype, result_type


_NUMBER = (float, int)


def promote(a, b):
    """Cast array operands to the PyTorch result dtype of ``a op b`` (numbers stay numbers)."""
    da = getattr(a, 'dtype', None)
    db = getattr(b, 'dtype', None)
    if da is not None and da is db:
        return a, b
    # a Python number next to a float array takes the array's dtype (so does NumPy)
    if (b.__class__ in _NUMBER and da is not None and da.kind == 'f') or \
            (a.__class__ in _NUMBER and db is not None and db.kind == 'f'):
        return a, b
    dt = result_type(a, b).np
    if da is not None and da != dt:
        a = a.astype(dt)
    if db is not None and db != dt:
        b = b.astype(dt)
    return a, b


def to_float(a):
    """Integer/bool arrays become the default float dtype (as PyTorch's float-only ops)."""
    if a.dtype.kind == 'f':
        return a
    return a.astype(get_default_dtype().np)


def shape_of(x):
    return tuple(getattr(x, 'shape', ()))


def broadcast_error(op, a, b):
    """PyTorch's message for operands that do not broadcast, naming the op and shapes."""
    sa, sb = shape_of(a), shape_of(b)
    n = max(len(sa), len(sb))
    pa = (1,) * (n - len(sa)) + sa
    pb = (1,) * (n - len(sb)) + sb
    for d in range(n - 1, -1, -1):
        if pa[d] != pb[d] and 1 not in (pa[d], pb[d]):
            return RuntimeError(
                f'{op}: The size of tensor a ({pa[d]}) must match the size of tensor b ({pb[d]}) '
                f'at non-singleton dimension {d} (shapes {list(sa)} and {list(sb)})')
    return RuntimeError(f'{op}: shapes {list(sa)} and {list(sb)} are not broadcastable')


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
    n = ndim if ndim else 1
    out = []
    for d in dim:
        d = int(d)
        if not -n <= d < n:
            raise IndexError(f'Dimension out of range (expected to be in range of [{-n}, {n - 1}], '
                             f'but got {d})')
        d = d + n if d < 0 else d
        if d in out:
            raise RuntimeError(f'dim {d} appears multiple times in the list of dims')
        out.append(d)
    if ndim == 0:
        return ()
    return tuple(sorted(out))


def wrap_dim(dim, ndim):
    n = ndim if ndim else 1
    dim = int(dim)
    if not -n <= dim < n:
        raise IndexError(f'Dimension out of range (expected to be in range of [{-n}, {n - 1}], '
                         f'but got {dim})')
    return dim + n if dim < 0 else dim


def prod(xs):
    return math.prod(xs)
