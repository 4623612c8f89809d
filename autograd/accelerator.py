"""``autograd.accelerator`` (PyTorch's ``torch.accelerator``): the device-neutral way to ask
for "the GPU, if there is one".

The accelerator is the registered backend that declares ``ACCELERATOR = True`` (the
``cuda`` backend, ``autograd/devices/cuda.py``) when it has a device here; without one,
as on a CPU-only machine, ``is_available()`` is False, ``current_accelerator()`` None,
``device_count()`` 0, and the functions that need a device raise PyTorch's
RuntimeError.  Nothing here names a device type.
"""
from . import devices

__all__ = ['is_available', 'current_accelerator', 'device_count', 'current_device_index',
           'current_device_idx', 'set_device_index', 'set_device_idx', 'device_index',
           'synchronize', 'empty_cache', 'memory_allocated', 'memory_reserved',
           'get_memory_info']

_NONE = 'Cannot access accelerator device when none is available.'


def _backend():
    """The accelerator's backend when it has a device here, else None."""
    for backend in devices.registered().values():
        if getattr(backend, 'ACCELERATOR', False) and backend.device_count() > 0:
            return backend
    return None


def _require():
    backend = _backend()
    if backend is None:
        raise RuntimeError(_NONE)
    return backend


def is_available():
    """True when an accelerator backend has at least one device here."""
    return _backend() is not None


def current_accelerator(check_available=False):
    """The accelerator's device type as a device (``device(type='cuda')``), or None.
    ``check_available`` is accepted as PyTorch's: None also when it is not available."""
    backend = _backend()
    return None if backend is None else devices.device(backend.TYPE)


def device_count():
    """How many accelerator devices there are (0 without one)."""
    backend = _backend()
    return 0 if backend is None else backend.device_count()


def _index(device):
    """The accelerator index that ``device`` (a device, string, int or None) names."""
    backend = _require()
    if device is None:
        return backend.device(None).index
    if isinstance(device, int) and not isinstance(device, bool):
        return backend.device(device).index
    d = devices.device(device)
    if d.type != backend.TYPE:
        raise ValueError(f'{d.type} doesn\'t match the current accelerator {backend.TYPE}.')
    return backend.device(d.index).index


def current_device_index():
    """The index of the accelerator device in use."""
    return _require().device(None).index


def set_device_index(device):
    """Make accelerator device ``device`` (an index, a device or a string) the current one."""
    backend = _require()
    backend.set_current(backend.device(_index(device)))


current_device_idx = current_device_index
set_device_idx = set_device_index


class device_index:
    """Context manager: accelerator device ``device`` is current inside the block (None:
    a no-op, which needs no accelerator, as PyTorch's)."""

    def __init__(self, device, /):
        self.idx = device
        self.prev_idx = -1

    def __enter__(self):
        if self.idx is not None:
            self.prev_idx = current_device_index()
            set_device_index(self.idx)
        return self

    def __exit__(self, *exc):
        if self.idx is not None:
            set_device_index(self.prev_idx)
        return False


def synchronize(device=None, /):
    """Wait for the work queued on accelerator device ``device`` (the current one)."""
    backend = _require()
    backend.synchronize(backend.device(_index(device)))


def _pool():
    backend = _require()
    pool = getattr(backend, 'memory_pool', None)
    if pool is None:
        raise RuntimeError(f'the {backend.TYPE} backend reports no memory pool')
    return pool()


def empty_cache():
    """Return the accelerator's cached free memory (of every device in use) to the driver."""
    backend = _require()
    devices.release_caches()
    free = getattr(backend, 'free_cached', None)
    if free is not None:
        free()
    else:
        _pool().free_all_blocks()


def _pool_bytes(device_index):
    backend = _require()
    dev = backend.device(_index(device_index))
    per_device = getattr(backend, 'pool_bytes', None)
    if per_device is not None:
        return per_device(dev)
    pool = _pool()
    return int(pool.used_bytes()), int(pool.total_bytes())


def memory_allocated(device_index=None, /):
    """Bytes held by live arrays on accelerator device ``device_index`` (the current one)."""
    return _pool_bytes(device_index)[0]


def memory_reserved(device_index=None, /):
    """Bytes the accelerator's memory pool holds on that device (live arrays plus cached blocks)."""
    return _pool_bytes(device_index)[1]


def get_memory_info(device_index=None, /):
    """``(free, total)`` bytes of the accelerator device as its driver reports them."""
    backend = _require()
    return backend.mem_get_info(backend.device(_index(device_index)))
