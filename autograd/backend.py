"""The backend layer: dtypes, and the bridges over the array libraries' differences.

Devices live in the registry ``autograd.devices`` (one module per backend); a
:class:`Device` carries the array module (``numpy``, ``cupy``) that every op uses for its
arrays, and ops find it from their inputs' device, never importing an array library
themselves.  The device names are re-exported here, where the rest of the project finds them.
"""
import functools

import numpy

from .devices import (CPU, Device, device, device_of_array, get_default_device, registered,
                       set_default_device, to_numpy, transfer)

__all__ = ['Device', 'device', 'dtype', 'float16', 'float32', 'float64', 'int8', 'int16',
           'int32', 'int64', 'uint8', 'bool', 'get_default_dtype', 'set_default_dtype',
           'set_default_device', 'get_default_device', 'promote_types', 'result_type',
           'complex64', 'complex128']

_builtin_bool = bool


# ----------------------------------------------------------------------------- dtypes

class dtype:
    """A tensor element type (``autograd.float32`` ...), wrapping a NumPy dtype."""
    __slots__ = ('name', 'np', 'is_floating_point', 'is_signed', 'itemsize', '_rank',
                 'is_complex', 'kind')

    def __init__(self, name, np_dtype, is_floating_point, is_signed, rank):
        self.name = name
        self.np = numpy.dtype(np_dtype)
        self.is_floating_point = is_floating_point
        self.is_signed = is_signed
        self.itemsize = self.np.itemsize
        self._rank = rank              # bool < integers < floats < complex, then by width
        self.is_complex = self.np.kind == 'c'
        self.kind = self.np.kind       # NumPy's kind letter, so formulas test arrays and tensors alike

    def __repr__(self):
        return 'autograd.' + self.name

    def __reduce__(self):              # dtypes are singletons
        return (as_dtype, (self.name,))

    def to_real(self):
        """The real dtype of a complex one's parts (complex64 -> float32); others as they are."""
        return _BY_NUMPY[numpy.finfo(self.np).dtype] if self.is_complex else self

    def to_complex(self):
        """The complex dtype with parts of this floating dtype (float32 -> complex64; float16
        has none here: complex64, as its promotion)."""
        if self.is_complex:
            return self
        return complex128 if self is float64 else complex64


bool = dtype('bool', numpy.bool_, False, False, 0)
uint8 = dtype('uint8', numpy.uint8, False, False, 1)
int8 = dtype('int8', numpy.int8, False, True, 2)
int16 = dtype('int16', numpy.int16, False, True, 3)
int32 = dtype('int32', numpy.int32, False, True, 4)
int64 = dtype('int64', numpy.int64, False, True, 5)
float16 = dtype('float16', numpy.float16, True, True, 6)
float32 = dtype('float32', numpy.float32, True, True, 7)
float64 = dtype('float64', numpy.float64, True, True, 8)
# complex: pairs of float32 / float64 (no complex32, PyTorch's chalf)
complex64 = dtype('complex64', numpy.complex64, False, True, 9)
complex128 = dtype('complex128', numpy.complex128, False, True, 10)

ALL_DTYPES = (bool, uint8, int8, int16, int32, int64, float16, float32, float64, complex64,
              complex128)
_BY_NUMPY = {d.np: d for d in ALL_DTYPES}
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32,
                long=int64, cfloat=complex64, cdouble=complex128)


# PyTorch's scalar-type names, as its error messages spell dtypes
_SCALAR_NAMES = {'float16': 'Half', 'float32': 'Float', 'float64': 'Double', 'int64': 'Long',
                 'int32': 'Int', 'int16': 'Short', 'int8': 'Char', 'uint8': 'Byte',
                 'bool': 'Bool', 'complex64': 'ComplexFloat', 'complex128': 'ComplexDouble'}


def scalar_name(d):
    """PyTorch's name (``Long``, ``Float`` ...) of an autograd or array-library dtype."""
    return _SCALAR_NAMES.get(d.name, d.name)


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
                        "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
                        "uint8 and bool")


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
    if d is complex:
        return complex128
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


# ----------------------------------------------------------------------------- bfloat16
# ``bfloat16`` is ``ml_dtypes.bfloat16`` (a NumPy dtype extension; optional: the extra
# ``bfloat16``).  NumPy gives such a dtype kind 'V', not 'f': code that asks "is this array
# floating?" tests ``dtype.kind in 'fV'`` (bfloat16 is the only 'V' dtype a tensor holds).
# Its ufuncs compute each element in float32 and round, as PyTorch's CPU kernels do.
# CuPy has no bfloat16: a bfloat16 tensor on the cuda device is a TypeError (``check_bfloat16``).
try:
    import ml_dtypes as _ml_dtypes
except ImportError:                     # pragma: no cover - the test extra installs it
    _ml_dtypes = None

_NO_ML_DTYPES = ("autograd.bfloat16 needs the ml_dtypes package (a NumPy dtype extension): "
                 "pip install ml_dtypes, or this project's extra 'bfloat16'")


class _MissingDtype(dtype):
    """``autograd.bfloat16`` without ml_dtypes: it exists (scripts name it), and any use
    raises ModuleNotFoundError saying what to install."""
    __slots__ = ()

    def __init__(self, name):             # pylint: disable=super-init-not-called
        self.name = name
        self.is_floating_point = True
        self.is_signed = True

    def __getattr__(self, attr):
        raise ModuleNotFoundError(_NO_ML_DTYPES)


if _ml_dtypes is not None:
    bfloat16 = dtype('bfloat16', _ml_dtypes.bfloat16, True, True, 6)
    ALL_DTYPES += (bfloat16,)
    _BY_NUMPY[bfloat16.np] = _BY_NAME['bfloat16'] = bfloat16
    BFLOAT16_NP = bfloat16.np           # the NumPy dtype of bfloat16 arrays (None: none)
    _SCALAR_NAMES['bfloat16'] = 'BFloat16'
else:
    bfloat16 = _MissingDtype('bfloat16')
    BFLOAT16_NP = None
__all__.append('bfloat16')


def check_bfloat16(d, dev):
    """Raise PyTorch-style TypeError if dtype ``d`` (an autograd or array dtype) is bfloat16
    and device ``dev`` is not the CPU: CuPy has no bfloat16 arrays."""
    if dev.type != 'cpu' and BFLOAT16_NP is not None and getattr(d, 'np', d) == BFLOAT16_NP:
        raise TypeError(f'bfloat16 tensors are not supported on device {dev}: CuPy has no '
                        'bfloat16 dtype (bfloat16 needs ml_dtypes, which is NumPy-only); use '
                        'float16 or float32 there')


class finfo:
    """``torch.finfo(dtype)``: the numerical properties of a floating dtype (default: the
    default dtype), with PyTorch's attribute names."""

    def __init__(self, type=None):
        d = get_default_dtype() if type is None else as_dtype(type)
        if not d.is_floating_point:
            raise TypeError('torch.finfo() requires a floating point input type. Use '
                            'torch.iinfo to handle \'torch.finfo\'')
        info = numpy.finfo(d.np)
        self.dtype = d.name
        self.bits = d.itemsize * 8
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)      # as PyTorch: 0.01 for bfloat16

    def __repr__(self):
        return (f'finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, '
                f'eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, '
                f'dtype={self.dtype})')


class iinfo:
    """``torch.iinfo(dtype)``: the range of an integer dtype."""

    def __init__(self, type):
        d = as_dtype(type)
        if d.is_floating_point:
            raise TypeError('torch.iinfo() requires an integer input type. Use torch.finfo '
                            "to handle 'torch.iinfo'")
        info = numpy.iinfo(d.np) if d is not bool else None
        self.dtype = d.name
        self.bits = d.itemsize * 8
        self.min, self.max = (0, 1) if info is None else (int(info.min), int(info.max))

    def __repr__(self):
        return f'iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})'


__all__ += ['finfo', 'iinfo']


def opmath(forward):
    """Decorator for an op's ``forward(self, xp, *arrays, **params)``: bfloat16 array inputs
    are computed in float32 and the float32 outputs rounded to bfloat16 once, as PyTorch's
    CPU kernels compute bfloat16 (in its "opmath" type).  For ops whose forward takes several
    NumPy steps (softmax, GELU, normalisation ...), which would otherwise round after each;
    other dtypes call ``forward`` unchanged."""
    bf16 = BFLOAT16_NP
    if bf16 is None:                    # no ml_dtypes: no bfloat16 arrays
        return forward
    f32 = numpy.dtype(numpy.float32)

    def round_back(out):
        if out.__class__ is tuple:
            return tuple([round_back(o) for o in out])
        return out.astype(bf16) if getattr(out, 'dtype', None) == f32 else out

    @functools.wraps(forward)
    def opmath_forward(self, xp, *arrays, **params):
        if not any([getattr(a, 'dtype', None) == bf16 for a in arrays]):
            return forward(self, xp, *arrays, **params)
        return round_back(forward(self, xp, *[a.astype(f32) if getattr(a, 'dtype', None) == bf16
                                               else a for a in arrays], **params))
    return opmath_forward


def promote_types(a, b):
    """PyTorch's promotion lattice: bool < integers < floats; within a kind, the wider.

    Differs from NumPy where an integer meets a float (int64 + float16 -> float16).
    Complex is above floats: a complex and a float make the complex type whose parts hold
    both (complex64 + float64 -> complex128).
    """
    if a is b:
        return a
    if a.is_complex or b.is_complex:
        parts = promote_types(a.to_real(), b.to_real()) if a.is_complex and b.is_complex else \
            promote_types(a.to_real() if a.is_complex else a, b.to_real() if b.is_complex else b)
        return parts.to_complex() if parts.is_floating_point else complex64
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
    if isinstance(x, complex):
        return _default_dtype[0].to_complex()
    if isinstance(x, numpy.generic):
        kind = x.dtype.kind
        return _default_dtype[0] if kind == 'f' else (
            int64 if kind in 'iu' else _default_dtype[0].to_complex() if kind == 'c' else
            from_numpy_dtype(x.dtype))
    raise TypeError(f'unsupported operand type {type(x).__name__}')


def _category(d):
    return 2 if d.is_floating_point else (3 if d.is_complex else 0 if d is bool else 1)


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
# Devices and their backends are the registry's (``autograd.devices``); these names are
# re-exported because the rest of the project imports them from here.

def array_module(*arrays):
    """The array module (NumPy, CuPy ...) of the first array among ``arrays`` (numbers
    are skipped; NumPy when there is no array)."""
    for a in arrays:
        if a.__class__ is numpy.ndarray or isinstance(a, (numpy.ndarray, numpy.generic)):
            return numpy
        xp = _modules.get(a.__class__)
        if xp is not None:
            return xp
        if hasattr(a, 'device') and hasattr(a, 'dtype'):
            # one array class, one array module: the backend is asked once per class
            xp = _modules[a.__class__] = device_of_array(a).xp
            return xp
    return numpy


_modules = {}                  # array class -> its array module


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


# ----------------------------------------------------------------------------- checks of device data
# PyTorch checks index bounds and target ranges inside its CUDA kernels and reports a
# failure at the next synchronisation ("device-side assert"); reading the data on the host
# to check it would stall the GPU's queue on every call.  ``check_data`` does the same: on
# NumPy it raises at once; on another array module (CuPy) it keeps the failure flag on the
# device (or-ed into the flag of an earlier check with the same message: one flag per
# kind of failure) and ``raise_deferred`` raises it at the next read that synchronises
# anyway: ``Tensor.item()``, ``tolist()``, ``bool()``, printing, a copy to the host,
# ``autograd.cuda.synchronize()``.

_deferred = {}          # (exception type, message) -> device flag, true where a check_data failed


def axpy(alpha, x, y):
    """``y += alpha * x`` in place (``y`` and ``x`` arrays of one shape, ``alpha`` a number),
    as PyTorch's ``y.add_(x, alpha=alpha)``: one pass through BLAS's axpy for contiguous
    float32/float64 NumPy arrays (SciPy's BLAS, where installed), which rounds
    ``alpha * x + y`` once (a fused multiply-add) as PyTorch's CPU kernels do; otherwise the
    product and the sum, each rounded.  An optimizer's update of a 784 x 256 float32 weight:
    24 us instead of 60 us, equal to PyTorch's bit for bit."""
    fn = (_AXPY or _load_axpy()).get(y.dtype) if y.__class__ is numpy.ndarray else None
    if fn is not None and x.dtype == y.dtype and x.shape == y.shape and y.size and \
            x.flags.c_contiguous and (flags := y.flags).c_contiguous and flags.writeable:
        # (a vector as it is: a reshape costs a fifth of a small update)
        flat = y if y.ndim == 1 else y.reshape(-1)
        out = fn(x if x.ndim == 1 else x.reshape(-1), flat, a=alpha)
        if out is flat or numpy.shares_memory(out, flat):
            return y
        numpy.copyto(flat, out)     # (a BLAS wrapper that did not write in place)
        return y
    y += x * alpha
    return y


def linear_rows(x, w, b):
    """``x @ w.T + b`` for matrices ``x (n, in)``, ``w (out, in)`` and ``b (out,)`` of one
    dtype: the product, then the bias added in place.  (A GEMM that adds the product into
    an output filled with ``b``, beta = 1 as PyTorch's addmm, needs SciPy's BLAS, which is
    a separate and older OpenBLAS than NumPy's: on AMD EPYC (Zen 5, Haswell kernels) it
    took 386 us against 325 us for (64, 784) x (784, 256) float32, and lost at every batch
    up to 256.)"""
    out = numpy.matmul(x, w.T) if x.__class__ is numpy.ndarray else x @ w.T
    out += b
    return out


def _load_axpy():
    """SciPy's BLAS axpy by dtype, imported on first use (scipy.linalg takes a while to
    import); without SciPy, none (the two-pass form)."""
    try:
        from scipy.linalg import blas
    except ImportError:
        _AXPY[None] = None
    else:
        _AXPY[numpy.dtype(numpy.float32)] = blas.saxpy
        _AXPY[numpy.dtype(numpy.float64)] = blas.daxpy
    return _AXPY


_AXPY = {}


def check_data(xp, failed, exc, message, detail=None):
    """Raise ``exc(message)`` if ``failed`` (a 0-d bool array of module ``xp``) is true:
    now on NumPy, at the next synchronising read on a device (see above).  ``detail``, a
    function, makes a message that reads the data (the bad index), used only on NumPy."""
    if xp is numpy:
        if failed:
            raise exc(detail() if detail is not None else message)
        return
    key = (exc, message)
    old = _deferred.get(key)
    _deferred[key] = failed if old is None else old | failed


def raise_deferred():
    """Raise the first failed deferred check (and forget them all); a no-op when none is kept."""
    if _deferred:
        pending = list(_deferred.items())
        _deferred.clear()
        groups = {}                 # one read per device: the flags stacked
        for key, failed in pending:
            groups.setdefault(getattr(getattr(failed, 'device', None), 'id', None), []).append(
                (key, failed))
        for group in groups.values():
            xp = array_module(group[0][1])
            for ((exc, message), _), failed in zip(group, xp.stack([f for _, f in group]).tolist()):
                if failed:
                    raise exc(message)


# ----------------------------------------------------------------------------- array-library gaps
# NumPy and CuPy differ in a few places (and CuPy stand-ins lack more); each difference is
# bridged here, by one function that detects the feature on the array module, so that op
# code stays the same on every device.

_scatter_adders = {}
_scatter_multipliers = {}
_strided_views = {}


def scatter_add(xp, out, key, values):
    """``out[key] += values`` with repeated indices summed (unbuffered), on any backend.

    NumPy and recent CuPy have ``add.at``; older CuPy ``cupyx.scatter_add`` (a backend's
    ``scatter_adder``); any other array module gets a ``bincount`` over flat positions (summed in float64, exact for floats and
    for integers below 2**53).
    """
    add = _scatter_adders.get(xp)
    if add is None:
        add = _scatter_adders[xp] = _working_at(xp, 'add', [5.0, 1.0]) or \
            _backend_scatter_add(xp) or _add_by_bincount(xp)
    if out.ndim > 1 and getattr(key, 'ndim', 0) == 1 and key.dtype.kind in 'iu' and \
            getattr(values, 'shape', None) == key.shape + out.shape[1:] and \
            out.flags.c_contiguous:
        # whole rows (an embedding's gradient): as one 1-d add over flat positions, which
        # NumPy's add.at runs tens of times faster than a row index (the same sums in the
        # same order; measured (160, 32) float32 rows into (40, 32): 488 us -> 13 us)
        width = out.size // out.shape[0]
        key = (xp.asarray(key, dtype=numpy.int64).reshape(-1, 1) * width +
               xp.arange(width)).reshape(-1)
        out, values = out.reshape(-1), values.reshape(-1)
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


def _backend_scatter_add(xp):
    """A backend's own scatter-add for ``xp`` (``scatter_adder``: CuPy's cupyx.scatter_add)."""
    for b in registered().values():
        adder = getattr(b, 'scatter_adder', None)
        add = adder and adder(xp)
        if add is not None:
            return add
    return None


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


def _numpy_as_strided(a, shape, strides):
    """NumPy's ``as_strided``, built by the ndarray constructor over a C-contiguous ``a``
    (0.6 us, against 6 us through ``__array_interface__``: a convolution makes 4-8 views a
    step); a view that would reach past ``a``'s buffer, or a non-contiguous or read-only
    ``a``, takes NumPy's own."""
    flags = a.flags
    if flags.c_contiguous and flags.writeable:
        try:
            return numpy.ndarray(shape, a.dtype, a, 0, strides)
        except (TypeError, ValueError):
            pass
    return numpy.lib.stride_tricks.as_strided(a, shape, strides)


def _find_as_strided(xp):
    if xp is numpy:
        return _numpy_as_strided
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


# ----------------------------------------------------------------------------- special functions

def erf(a):
    """The error function of an array, on its own device, in its own dtype (a NumPy scalar,
    which arithmetic on 0-d arrays returns, is read as a CPU array)."""
    if isinstance(a, numpy.generic):
        a = numpy.asarray(a)
    return device_of_array(a).backend.erf(a)


# NumPy's error state (which float errors warn).  NumPy 2 keeps it in a context variable:
# setting that directly costs two C calls, where ``with numpy.errstate(...)`` builds an
# object and runs several Python frames.  Forwards that must not warn where PyTorch is
# silent (inf - inf, overflow) and the backward sweep use ``set_errstate(IGNORE_ERRORS)``
# and ``reset_errstate(token)``.
try:
    from numpy._core._ufunc_config import _extobj_contextvar as _errstate
    with numpy.errstate(all='ignore'):
        IGNORE_ERRORS = _errstate.get()
    set_errstate, reset_errstate = _errstate.set, _errstate.reset
except ImportError:     # NumPy 1: the same calls over seterr
    IGNORE_ERRORS = {'all': 'ignore'}

    def set_errstate(state):
        return numpy.seterr(**state)

    def reset_errstate(token):
        numpy.seterr(**token)


class quiet_float_errors:
    """``with quiet_float_errors(xp):`` NumPy's floating-point warnings silenced (divide,
    overflow, invalid, underflow) where log(0), exp(-inf) or 0/0 is the intended result, as
    PyTorch computes them silently: on NumPy by the error-state token above (0.6 us against
    5 us for ``numpy.errstate``); an array module with an ``errstate`` of its own (a
    stand-in over NumPy) through that; others (CuPy) never warn."""
    __slots__ = ('xp', 'token')

    def __init__(self, xp):
        self.xp = xp

    def __enter__(self):
        xp = self.xp
        if xp is numpy:
            self.token = set_errstate(IGNORE_ERRORS)
        elif hasattr(xp, 'errstate'):
            self.token = xp.errstate(divide='ignore', invalid='ignore', over='ignore')
            self.token.__enter__()

    def __exit__(self, *exc):
        if self.xp is numpy:
            reset_errstate(self.token)
        elif hasattr(self.xp, 'errstate'):
            self.token.__exit__(*exc)


def row_max(a, axis=-1):
    """``a.max(axis, keepdims=True)`` for an array ``a`` (NaN propagates, as NumPy's).  Along
    a short last axis (2 to 64 elements: attention scores' keys, a few classes) NumPy's
    reduction pays ~3 ns an element, row by row; reducing the columns of a Fortran-ordered
    copy takes a third of that, copy included."""
    if axis is not None and axis < 0:
        axis += a.ndim
    n = a.shape[-1] if a.ndim > 1 else 0
    if axis != a.ndim - 1 or not 1 < n <= 64 or not a.size:
        out = a.max(axis=axis, keepdims=True)
        return out if a.ndim else array_module(a).asarray(out)     # (NumPy: 0-d -> scalar)
    rows = array_module(a).asfortranarray(a.reshape(-1, n))
    return rows.max(axis=1).reshape(a.shape[:-1] + (1,))


def ones_vector(xp, n, dtype, value=1):
    """A vector of ``n`` ones (or copies of ``value``: 1 / n makes a product a mean) of
    ``dtype`` in array module ``xp``, to multiply by (sums as products with ones), never to
    write into: on NumPy one shared read-only array per (n, dtype, value), 0.2 us against
    1.1 us for making it (n = 64); on a device a new one (an array belongs to the device
    current when it was made)."""
    return _host_full(n, dtype, value) if xp is numpy else xp.full(n, value, dtype=dtype)


@functools.lru_cache(maxsize=64)
def _host_full(n, dtype, value):
    ones = numpy.full(n, value, dtype=dtype)
    ones.flags.writeable = False
    return ones


def row_sum(a, axis=-1):
    """``a.sum(axis, keepdims=True)`` for an array ``a``; along the last axis of a
    float32/float64 array, a product with a vector of ones (BLAS's dot products: 4.5 us
    against NumPy's 20 us for 32 x 1024)."""
    if axis is not None and axis < 0:
        axis += a.ndim
    if axis is None or axis != a.ndim - 1 or a.dtype.kind != 'f' or a.dtype.itemsize < 4 \
            or not a.size:
        out = a.sum(axis=axis, keepdims=True)
        return out if a.ndim else array_module(a).asarray(out)
    xp = array_module(a)
    return xp.matmul(a, ones_vector(xp, a.shape[-1], a.dtype))[..., None]
