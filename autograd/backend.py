"""The backend layer: devices, their array modules, and dtypes.

A :class:`Device` carries the array module (``numpy`` on the CPU, ``cupy`` on a GPU)
that every op uses for its arrays; ops find it from their inputs' device and never
import an array library themselves.  CuPy is imported only when a ``cuda`` device is
asked for.
"""
import os

import numpy

__all__ = ['Device', 'device', 'dtype', 'float16', 'float32', 'float64', 'int8', 'int16',
           'int32', 'int64', 'uint8', 'bool', 'get_default_dtype', 'set_default_dtype',
           'set_default_device', 'get_default_device', 'promote_types', 'result_type']

_builtin_bool = bool


# ----------------------------------------------------------------------------- dtypes

class dtype:
    """A tensor element type (``autograd.float32`` ...), wrapping a NumPy dtype."""
    __slots__ = ('name', 'np', 'is_floating_point', 'is_signed', 'itemsize', '_rank')

    def __init__(self, name, np_dtype, is_floating_point, is_signed, rank):
        self.name = name
        self.np = numpy.dtype(np_dtype)
        self.is_floating_point = is_floating_point
        self.is_signed = is_signed
        self.itemsize = self.np.itemsize
        self._rank = rank              # bool < integers < floats, then by width

    def __repr__(self):
        return 'autograd.' + self.name

    def __reduce__(self):              # dtypes are singletons
        return (getattr, (_dtype_module(), self.name))

    def to_real(self):
        return self


def _dtype_module():
    import autograd
    return autograd


bool = dtype('bool', numpy.bool_, False, False, 0)
uint8 = dtype('uint8', numpy.uint8, False, False, 1)
int8 = dtype('int8', numpy.int8, False, True, 2)
int16 = dtype('int16', numpy.int16, False, True, 3)
int32 = dtype('int32', numpy.int32, False, True, 4)
int64 = dtype('int64', numpy.int64, False, True, 5)
float16 = dtype('float16', numpy.float16, True, True, 6)
float32 = dtype('float32', numpy.float32, True, True, 7)
float64 = dtype('float64', numpy.float64, True, True, 8)

ALL_DTYPES = (bool, uint8, int8, int16, int32, int64, float16, float32, float64)
_BY_NUMPY = {d.np: d for d in ALL_DTYPES}
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32,
                long=int64)


def from_numpy_dtype(np_dtype):
    """The autograd dtype of a NumPy/CuPy dtype; TypeError for unsupported ones."""
    try:
        return _BY_NUMPY[np_dtype]
    except KeyError:
        pass
    try:
        return _BY_NUMPY[numpy.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(f"can't convert array of dtype {np_dtype}: the supported dtypes are "
                        "float64, float32, float16, int64, int32, int16, int8, uint8 and bool")


def as_dtype(d):
    """Accept an autograd dtype, a NumPy dtype, a Python type or a dtype name."""
    if d is None or d.__class__ is dtype:
        return d
    if d is float:
        return float64
    if d is int:
        return int64
    if d is _builtin_bool:
        return bool
    if isinstance(d, str) and d in _BY_NAME:
        return _BY_NAME[d]
    return from_numpy_dtype(d)


_default_dtype = [float32]


def get_default_dtype():
    """The dtype of floating tensors created from Python floats (float32 at start)."""
    return _default_dtype[0]


def set_default_dtype(d):
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f'only floating-point types are supported as the default type, got {d}')
    _default_dtype[0] = d


def promote_types(a, b):
    """PyTorch's promotion lattice: bool < integers < floats; within a kind, the wider.

    Differs from NumPy where an integer meets a float (int64 + float16 -> float16).
    """
    if a is b:
        return a
    if a.is_floating_point != b.is_floating_point:
        return a if a.is_floating_point else b
    if a is bool:
        return b
    if b is bool:
        return a
    return _BY_NUMPY[numpy.promote_types(a.np, b.np)]


def _scalar_dtype(x):
    """The dtype a Python number takes as a 'wrapped number' operand."""
    if x.__class__ is _builtin_bool or isinstance(x, numpy.bool_):
        return bool
    if isinstance(x, int):
        return int64
    if isinstance(x, float):
        return _default_dtype[0]
    if isinstance(x, numpy.generic):
        return _default_dtype[0] if x.dtype.kind == 'f' else (
            int64 if x.dtype.kind in 'iu' else from_numpy_dtype(x.dtype))
    raise TypeError(f'unsupported operand type {type(x).__name__}')


def _category(d):
    return 2 if d.is_floating_point else (0 if d is bool else 1)


def result_type(*operands):
    """The dtype of an elementwise op over tensors, arrays and Python numbers, as PyTorch.

    Operands with dimensions dominate zero-dim ones, which dominate Python numbers,
    unless a lower class holds a higher category (bool < integer < float).
    """
    dim = zero = wrapped = None
    for x in operands:
        d = getattr(x, 'dtype', None)
        if d is None or isinstance(x, numpy.generic):
            d = _scalar_dtype(x)
            wrapped = d if wrapped is None else promote_types(wrapped, d)
            continue
        if d.__class__ is not dtype:
            d = from_numpy_dtype(d)
        if x.ndim:
            dim = d if dim is None else promote_types(dim, d)
        else:
            zero = d if zero is None else promote_types(zero, d)
    return _combine(dim, _combine(zero, wrapped))


def _combine(higher, lower):
    if higher is None:
        return lower
    if lower is None:
        return higher
    if _category(lower) > _category(higher):
        return promote_types(higher, lower)
    return higher


# ----------------------------------------------------------------------------- devices

class Device:
    """A place where arrays live.  ``xp`` is its array module (numpy or cupy)."""
    __slots__ = ('type', 'index', 'xp', 'array_type', '_cupy_device')

    def __init__(self, type, index, xp):
        self.type = type
        self.index = index
        self.xp = xp
        self.array_type = xp.ndarray
        self._cupy_device = None

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f'{self.type}:{self.index}'

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, ValueError):
                return False
        if not isinstance(other, Device):
            return NotImplemented
        return self.type == other.type and (self.index == other.index or (
            self.type == 'cuda' and None in (self.index, other.index) and
            (self.index or 0) == (other.index or 0)))

    def __hash__(self):
        return hash((self.type, self.index or 0))

    def __reduce__(self):
        return (device, (str(self),))

    def asarray(self, data, dtype=None):
        """Move/convert ``data`` to an array of this device (copying only when needed)."""
        if self.type == 'cpu':
            if not isinstance(data, numpy.ndarray) and hasattr(data, '__cuda_array_interface__'):
                raise TypeError("can't convert a cuda array to a cpu tensor implicitly; "
                                'use .cpu() on the tensor')
            return numpy.asarray(data, dtype=dtype)
        with self._cupy_device:
            return self.xp.asarray(data, dtype=dtype)


CPU = Device('cpu', None, numpy)
_cuda_devices = {}


def _check_device_string(spec):
    if ':' in spec:
        kind, _, idx = spec.partition(':')
        if not idx.isdigit():
            raise RuntimeError(f'Invalid device string: {spec!r}')
        return kind, int(idx)
    return spec, None


def device(spec, index=None):
    """``device('cpu')``, ``device('cuda')``, ``device('cuda:1')`` or ``device('cuda', 1)``.

    Returns the concrete device; asking for ``cuda`` raises RuntimeError when CuPy or a
    usable GPU is missing.
    """
    if isinstance(spec, Device):
        return spec
    if isinstance(spec, int) and not isinstance(spec, _builtin_bool):
        spec, index = 'cuda', spec
    if not isinstance(spec, str):
        raise TypeError(f'device() expects a string or a device, got {type(spec).__name__}')
    kind, idx = _check_device_string(spec.strip())
    if idx is not None:
        if index is not None:
            raise RuntimeError(f'device string {spec!r} already has an index')
        index = idx
    if kind == 'cpu':
        if index not in (None, 0):
            raise RuntimeError(f'CPU device index must be 0 or absent, got {index}')
        return CPU
    if kind == 'cuda':
        return cuda_device(index)
    raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {spec}")


# ----------------------------------------------------------------------------- cuda

_cupy = None
_cuda_count = [None]            # GPUs the runtime reported (asked once per process)
_INSTALL_HINT = ('install CuPy for your CUDA version, e.g. `pip install cupy-cuda12x` '
                 '(CUDA 12) or `pip install cupy-cuda11x` (CUDA 11)')


def cupy_module():
    """Import CuPy (or raise the install hint).  Never called unless cuda is asked for."""
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except ImportError as e:
            raise RuntimeError(f"device 'cuda' needs CuPy, which is not installed: "
                               f'{_INSTALL_HINT}') from e
        _cupy = cupy
    return _cupy


def cuda_device_count():
    """Number of usable GPUs; 0 when CuPy or a driver is missing (never raises).

    ``import cupy`` succeeds on machines without a driver, so the runtime is asked for a
    device count; any error there (no driver, no device, a broken install) means none.
    """
    if _cuda_count[0] is None:
        try:
            cupy = cupy_module()
        except RuntimeError:
            return 0
        try:
            _cuda_count[0] = int(cupy.cuda.runtime.getDeviceCount())
        except Exception:
            _cuda_count[0] = 0
    return _cuda_count[0]


def cuda_device(index=None):
    """The Device for GPU ``index`` (the current one when None)."""
    if index is not None:
        dev = _cuda_devices.get(index)
        if dev is not None:
            return dev
    cupy = cupy_module()
    count = cuda_device_count()
    if count == 0:
        raise RuntimeError(
            "device 'cuda' was asked for: CuPy is installed but finds no usable GPU (no "
            'NVIDIA driver or device, or a CuPy build for another CUDA version); run on '
            f"'cpu', or install the NVIDIA driver and {_INSTALL_HINT}")
    if index is None:
        index = int(cupy.cuda.runtime.getDevice())
    if not 0 <= index < count:
        raise RuntimeError(f'CUDA error: invalid device ordinal {index} '
                           f'({count} device(s) available)')
    dev = _cuda_devices.get(index)
    if dev is None:
        dev = Device('cuda', index, cupy)
        dev._cupy_device = cupy.cuda.Device(index)
        _cuda_devices[index] = dev
    return dev


def cuda_rng(dev, seed):
    """A seeded CuPy generator on ``dev``."""
    with dev._cupy_device:
        return dev.xp.random.default_rng(seed)


def seed_cuda(seed):
    """Seed CuPy's global generator too, if CuPy is in use (never imports it)."""
    if _cupy is not None and cuda_device_count():
        _cupy.random.seed(seed)


def device_of_array(a):
    """The Device an array lives on."""
    if isinstance(a, numpy.ndarray):
        return CPU
    d = getattr(a, 'device', None)
    index = getattr(d, 'id', None)
    if index is None:
        raise TypeError(f'not an array of a known backend: {type(a).__name__}')
    return cuda_device(index)


def array_module(*arrays):
    """The array module (NumPy or CuPy) of the first array among ``arrays`` (numbers
    are skipped; NumPy when there is no array)."""
    for a in arrays:
        if a.__class__ is numpy.ndarray or isinstance(a, (numpy.ndarray, numpy.generic)):
            return numpy
        if hasattr(a, 'device') and hasattr(a, 'dtype'):
            return device_of_array(a).xp
    return numpy


def broadcastable_to(shape, src_shape):
    """True if an array of ``shape`` broadcasts to ``src_shape`` (so src can sum back to it)."""
    if len(shape) > len(src_shape):
        return False
    for s, t in zip(reversed(shape), reversed(src_shape)):
        if s != t and s != 1:
            return False
    return True


def sum_to(a, shape):
    """Array ``a`` summed over its broadcast dimensions down to ``shape`` (the inverse of
    broadcasting ``shape`` to ``a.shape``)."""
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and a.shape[lead + i] != 1)
    out = a.sum(axis=axes, keepdims=True) if axes else a
    return out.reshape(shape) if lead else out


def transfer(a, device):
    """A copy of array ``a`` on ``device`` (an explicit host<->device copy)."""
    if device.type == 'cpu':
        return to_numpy(a).copy() if not isinstance(a, device.array_type) else a.copy()
    return device.asarray(to_numpy(a))


def to_numpy(a):
    """A host NumPy copy/view of any backend's array (explicit transfer)."""
    if isinstance(a, numpy.ndarray):
        return a
    return a.get()


# ----------------------------------------------------------------------------- array-library gaps
# NumPy and CuPy differ in a few places (and CuPy stand-ins lack more); each difference is
# bridged here, by one function that detects the feature on the array module, so that op
# code stays the same on every device.

_scatter_adders = {}
_scatter_multipliers = {}
_strided_views = {}


def scatter_add(xp, out, key, values):
    """``out[key] += values`` with repeated indices summed (unbuffered), on any backend.

    NumPy and recent CuPy have ``add.at``; older CuPy ``cupyx.scatter_add``; any other array
    module gets a ``bincount`` over flat positions (summed in float64, exact for floats and
    for integers below 2**53).
    """
    add = _scatter_adders.get(xp)
    if add is None:
        add = _scatter_adders[xp] = _working_at(xp, 'add', [5.0, 1.0]) or \
            _cupyx_scatter_add(xp) or _add_by_bincount(xp)
    add(out, key, values)


def scatter_multiply(xp, out, key, values):
    """``out[key] *= values`` with repeated indices multiplied in, on any backend: the
    array module's ``multiply.at`` where it works, else one round per multiplicity."""
    mul = _scatter_multipliers.get(xp)
    if mul is None:
        mul = _scatter_multipliers[xp] = _working_at(xp, 'multiply', [4.0, 1.0]) or \
            _multiply_in_rounds(xp)
    mul(out, key, values)


def _working_at(xp, ufunc, expected):
    """``xp.<ufunc>.at`` if it applies a repeated index twice (tried once on [1, 1] with
    index [0, 0] and values 2), else None: CuPy's ufuncs all have ``at``, but most raise
    NotImplementedError, and a stand-in's may be NumPy's, which refuses its arrays."""
    at = getattr(getattr(xp, ufunc, None), 'at', None)
    if at is None:
        return None
    try:
        probe = xp.ones(2)
        at(probe, xp.asarray([0, 0]), xp.full(2, 2.0))
        return at if probe.tolist() == expected else None
    except Exception:
        return None


def _cupyx_scatter_add(xp):
    if xp.__name__ != 'cupy':
        return None
    try:
        import cupyx
    except ImportError:
        return None
    return getattr(cupyx, 'scatter_add', None)


def _add_by_bincount(xp):
    def add_by_bincount(out, key, values):
        flat = xp.arange(out.size).reshape(out.shape)[key]      # where each value goes
        vals = xp.broadcast_to(xp.asarray(values), flat.shape)
        sums = xp.bincount(flat.reshape(-1), weights=vals.reshape(-1), minlength=out.size)
        out += sums.reshape(out.shape).astype(out.dtype)
    return add_by_bincount


def _multiply_in_rounds(xp):
    def multiply_in_rounds(out, key, values):
        flat = xp.arange(out.size).reshape(out.shape)[key]
        vals = xp.broadcast_to(xp.asarray(values), flat.shape).reshape(-1)
        flat = flat.reshape(-1)
        factor = xp.ones(out.size, dtype=out.dtype)
        while flat.size:       # each round takes the first occurrence of every position
            pos, first = xp.unique(flat, return_index=True)
            factor[pos] *= vals[first]
            rest = xp.ones(flat.size, dtype=numpy.bool_)
            rest[first] = False
            flat, vals = flat[rest], vals[rest]
        out *= factor.reshape(out.shape)
    return multiply_in_rounds


def as_strided(xp, a, shape, strides):
    """A view of ``a`` with the given shape and byte strides, or None where the array module
    has no ``lib.stride_tricks.as_strided`` that accepts its own arrays (callers then copy)."""
    make = _strided_views.get(xp, False)
    if make is False:
        make = _strided_views[xp] = _find_as_strided(xp)
    return None if make is None else make(a, shape, strides)


def _find_as_strided(xp):
    make = getattr(getattr(getattr(xp, 'lib', None), 'stride_tricks', None), 'as_strided', None)
    if make is None:
        return None
    try:                       # a stand-in may answer with NumPy's, which refuses its arrays
        probe = xp.zeros(2)
        ok = isinstance(make(probe, (2,), probe.strides), xp.ndarray)
    except Exception:
        ok = False
    return make if ok else None


def is_writeable(a):
    """Whether ``a`` may be written in place (NumPy marks some views read-only; CuPy arrays
    have no such flag and are always writable)."""
    return getattr(a.flags, 'writeable', True)


def random_sample(rng, kind, shape, np_dtype):
    """``kind`` 'uniform' ([0, 1)) or 'normal' samples of ``shape`` from generator ``rng``
    in ``np_dtype``: drawn in that dtype where the generator takes a float32/float64
    ``dtype=`` (NumPy, CuPy), else drawn in float64 (float32 for float16) and cast."""
    draw = rng.random if kind == 'uniform' else rng.standard_normal
    gen = np_dtype if np_dtype in (numpy.float32, numpy.float64) else numpy.dtype(numpy.float32)
    try:
        arr = draw(shape, dtype=gen)
    except TypeError:
        arr = draw(shape)
    exact = isinstance(arr, numpy.ndarray) and arr.dtype == np_dtype
    if not exact:
        arr = arr.astype(np_dtype, copy=False)
        if kind == 'uniform':      # rounding (or a generator on (0, 1]) may give 1.0
            arr = arr.clip(None, numpy.nextafter(np_dtype.type(1), np_dtype.type(0)))
    return arr


def permutation(rng, xp, n):
    """A random permutation of ``range(n)`` (int64) from ``rng``; CuPy's generator has no
    ``permutation``, so there it is the argsort of uniform samples (ties have probability
    ~n**2 / 2**53)."""
    permute = getattr(rng, 'permutation', None)
    if permute is not None:
        return permute(n)
    return xp.argsort(random_sample(rng, 'uniform', (n,), numpy.dtype(numpy.float64)))


# ----------------------------------------------------------------------------- default device

_default_device = [None]


def get_default_device():
    d = _default_device[0]
    if d is None:
        env = os.environ.get('AUTOGRAD_DEVICE', '').strip()
        d = device(env) if env else CPU
        _default_device[0] = d
    return d


def set_default_device(d):
    """Set the device of newly created tensors (``None`` resets to the AUTOGRAD_DEVICE flag)."""
    _default_device[0] = None if d is None else device(d)


# ----------------------------------------------------------------------------- special functions

def erf(a):
    """The error function of an array, on its own device, in its own dtype."""
    if not isinstance(a, numpy.ndarray):
        from cupyx.scipy.special import erf as cupy_erf
        return cupy_erf(a)
    try:
        from scipy.special import erf as scipy_erf   # optional accelerator
    except ImportError:
        import math
        return numpy.vectorize(math.erf, otypes=[a.dtype])(a).astype(a.dtype)
    return scipy_erf(a).astype(a.dtype, copy=False)
