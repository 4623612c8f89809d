"""DLPack interop: tensors pass to and from NumPy, CuPy and PyTorch without copies.

``from_dlpack(x)`` wraps the memory of any object that speaks the DLPack protocol
(``__dlpack__``/``__dlpack_device__``), on the device where it lives; ``Tensor.__dlpack__``
lets those libraries' own ``from_dlpack`` wrap a tensor.  CUDA arrays that speak only the
older ``__cuda_array_interface__`` (Numba, some CuPy stand-ins) are wrapped through it.
"""
from . import backend, devices
from .tensor import Tensor, _make

__all__ = ['from_dlpack']


def from_dlpack(ext_tensor, *, device=None, copy=None):
    """A tensor sharing memory with ``ext_tensor`` (a tensor/array of any DLPack library).

    Shapes, strides and dtype are kept; the tensor is on the producer's device (the
    backend whose ``DLPACK_TYPES`` has its DLDeviceType).  ``device`` then moves it (an explicit copy) and ``copy=True`` always
    copies.  RuntimeError for objects without the protocol, TypeError for dtypes that
    tensors cannot hold (uint16, bfloat16 ...).
    """
    if isinstance(ext_tensor, Tensor):
        ext_tensor.__dlpack__()                      # PyTorch's BufferError when it needs grad
        t = _make(ext_tensor._data, ext_tensor._device)
        t._vc = ext_tensor._vc
    else:
        arr, dev = _import(ext_tensor)
        backend.from_numpy_dtype(arr.dtype)          # TypeError for unsupported dtypes
        t = _make(arr, dev)
    if device is not None and backend.device(device) is not t._device:
        return t.to(device)
    return t.clone() if copy else t


def _import(obj):
    """(array, Device) wrapping ``obj``'s memory."""
    where = getattr(obj, '__dlpack_device__', None)
    if where is None or not hasattr(obj, '__dlpack__'):
        dev = devices.find_device(obj)             # e.g. __cuda_array_interface__ only
        if dev is not None:
            return dev.asarray(obj), dev            # zero-copy through the array's interface
        raise RuntimeError(f'from_dlpack expects a tensor or array that supports the DLPack '
                           f'protocol (__dlpack__ and __dlpack_device__), got '
                           f'{type(obj).__name__}')
    kind, index = where()
    dev = devices.from_dlpack_device(int(kind), int(index))
    return dev.backend.from_dlpack(dev, obj), dev
