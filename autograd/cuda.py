"""``autograd.cuda``: the GPUs behind the ``cuda`` device (PyTorch's ``torch.cuda``).

Everything here works without CuPy or a GPU where PyTorch's does: ``is_available()`` is
then False and ``device_count()`` 0; the rest raises the RuntimeError that says what is
missing and how to install it.  CuPy is imported only when one of these is called.
"""
from . import backend

__all__ = ['is_available', 'device_count', 'current_device', 'set_device', 'synchronize',
           'manual_seed', 'manual_seed_all', 'seed', 'initial_seed', 'empty_cache',
           'memory_allocated', 'memory_reserved', 'mem_get_info',
           'get_device_name', 'device']


def is_available():
    """True when CuPy is installed and its runtime reports at least one GPU."""
    return backend.cuda_device_count() > 0


def device_count():
    """The number of usable GPUs (0 without CuPy or a driver)."""
    return backend.cuda_device_count()


def _index(dev):
    """The GPU index of ``dev`` (a device, 'cuda:N', an int, or None for the current one);
    RuntimeError without CuPy or a GPU, or for an index past the last GPU."""
    if dev is None:
        return backend.cuda_device().index
    d = backend.device(dev)        # an int means that GPU
    if d.type != 'cuda':
        raise ValueError(f'Expected a cuda device, but got: {d}')
    return d.index


def current_device():
    """The index of the GPU that ``device('cuda')`` means now."""
    return backend.cuda_device().index


def set_device(device):
    """Make GPU ``device`` current: later ``device('cuda')`` tensors are created there."""
    backend.cuda_device(_index(device))._cupy_device.use()


class device:
    """Context manager that makes GPU ``device`` current inside the block (``torch.cuda.device``)."""

    def __init__(self, device):
        self.index = _index(device)
        self._previous = None

    def __enter__(self):
        self._previous = current_device()
        set_device(self.index)
        return self

    def __exit__(self, *exc):
        set_device(self._previous)
        return False


def synchronize(device=None):
    """Wait until all queued kernels on GPU ``device`` (the current one by default) are done."""
    backend.cuda_device(_index(device))._cupy_device.synchronize()


# ----------------------------------------------------------------------------- random

def manual_seed(seed):
    """Seed the default generator of the current GPU."""
    from .creation import default_generator
    default_generator(backend.cuda_device()).manual_seed(seed)


def manual_seed_all(seed):
    """Seed the default generators of every GPU."""
    from .creation import default_generator
    for i in range(device_count()):
        default_generator(backend.cuda_device(i)).manual_seed(seed)


def seed():
    """Seed the current GPU's default generator with a random number."""
    from .creation import default_generator
    return default_generator(backend.cuda_device()).seed()


def initial_seed():
    """The seed of the current GPU's default generator."""
    from .creation import default_generator
    return default_generator(backend.cuda_device()).initial_seed()


# ----------------------------------------------------------------------------- memory
# Freed arrays go back to CuPy's memory pool, not to the driver; these read and empty it.

def _pool():
    backend.cuda_device()                 # the error for a missing CuPy or GPU
    return backend.cupy_module().get_default_memory_pool()


def empty_cache():
    """Return the pool's unused blocks to the driver (``torch.cuda.empty_cache``)."""
    _pool().free_all_blocks()


def memory_allocated(device=None):
    """Bytes held by live arrays in CuPy's pool (one pool serves every GPU, so ``device``
    is only checked)."""
    _index(device)
    return int(_pool().used_bytes())


def memory_reserved(device=None):
    """Bytes the pool holds from the driver: live arrays plus cached free blocks."""
    _index(device)
    return int(_pool().total_bytes())


def mem_get_info(device=None):
    """``(free, total)`` bytes of GPU ``device`` as the driver reports them."""
    with backend.cuda_device(_index(device))._cupy_device:
        free, total = backend.cupy_module().cuda.runtime.memGetInfo()
    return int(free), int(total)


def get_device_name(device=None):
    """The GPU's product name (e.g. 'NVIDIA H100 80GB HBM3')."""
    index = _index(device)
    props = backend.cupy_module().cuda.runtime.getDeviceProperties(index)
    name = props['name']
    return name.decode() if isinstance(name, bytes) else name
