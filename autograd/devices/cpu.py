"""The ``cpu`` backend: NumPy arrays in host memory.

One device (``device('cpu')``, index absent); nothing to synchronize.
"""
import sys

import numpy

from . import Device

TYPE = 'cpu'
DLPACK_TYPES = (1, 3)          # kDLCPU, and kDLCUDAHost (pinned host memory NumPy reads)


def device(index=None):
    if index not in (None, 0):
        raise RuntimeError(f'CPU device index must be 0 or absent, got {index}')
    return DEVICE


def device_count():
    return 1


def asarray(dev, data, dtype=None):
    # NumPy would copy an array that is only in device memory (Numba's ...) through its
    # __array__: refuse, as there are no silent transfers
    if not isinstance(data, numpy.ndarray) and hasattr(data, '__cuda_array_interface__'):
        raise TypeError(f"can't convert a {type(data).__module__}.{type(data).__name__} in "
                        f'device memory to a {TYPE} tensor implicitly; use .cpu() on the tensor')
    return numpy.asarray(data, dtype=dtype)


def to_host(a):
    return a


def device_of(a):
    return DEVICE if isinstance(a, numpy.ndarray) else None


def rng(dev, seed):
    return numpy.random.default_rng(seed)


def seed_all(seed):
    """Nothing to do: sampling never uses NumPy's global generator."""


def data_ptr(a):
    return a.__array_interface__['data'][0]


def dlpack_device(dev):
    return (1, 0)


def from_dlpack(dev, obj):
    return numpy.from_dlpack(obj)


def synchronize(dev):
    """Nothing to do: NumPy computes eagerly."""


def erf(a):
    """The error function of ``a`` in its own dtype (SciPy's where installed)."""
    try:
        from scipy.special import erf as scipy_erf   # optional: much faster
    except ImportError:
        import math
        return numpy.vectorize(math.erf, otypes=[a.dtype])(a).astype(a.dtype)
    return scipy_erf(a).astype(a.dtype, copy=False)


DEVICE = Device(sys.modules[__name__], None, numpy)
