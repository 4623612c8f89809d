"""``autograd.cuda``: the GPUs behind the ``cuda`` device (PyTorch's ``torch.cuda``).

Everything here works without CuPy or a GPU where PyTorch's does: ``is_available()`` is
then False and ``device_count()`` 0; the rest raises the RuntimeError that says what is
missing and how to install it.  CuPy is imported only when one of these is called.
"""
from . import backend, devices
from .creation import default_generator
from .devices import cuda as _gpu

__all__ = ['is_available', 'device_count', 'current_device', 'set_device', 'synchronize',
           'manual_seed', 'manual_seed_all', 'seed', 'initial_seed', 'empty_cache',
           'memory_allocated', 'memory_reserved', 'mem_get_info',
           'get_device_name', 'device']
__all__ += ['is_bf16_supported']


def is_available():
    """True when CuPy is installed and its runtime reports at least one GPU."""
    return _gpu.device_count() > 0


def is_bf16_supported(including_emulation=True):
    """False: the cuda device has no bfloat16 tensors here (CuPy has no bfloat16; see
    ``backend.check_bfloat16``), so a script that asks picks float16 or float32."""
    return False


def device_count():
    """The number of usable GPUs (0 without CuPy or a driver)."""
    return _gpu.device_count()


def _device(dev):
    """The GPU ``dev`` names (a device, 'cuda:N', an int, or None for the current one);
    RuntimeError without CuPy or a GPU, or for an index past the last GPU."""
    if dev is None:
        return _gpu.device()
    d = devices.device(dev)       # an int means that GPU
    if d.backend is not _gpu:
        raise ValueError(f'Expected a {_gpu.TYPE} device, but got: {d}')
    return d


def current_device():
    """The index of the GPU that ``device('cuda')`` means now."""
    return _gpu.device().index


def set_device(device):
    """Make GPU ``device`` current: later ``device('cuda')`` tensors are created there."""
    _gpu.set_current(_device(device))


class device:
    """Context manager that makes GPU ``device`` current inside the block (``torch.cuda.device``)."""

    def __init__(self, device):
        self.index = _device(device).index
        self._previous = None

    def __enter__(self):
        self._previous = current_device()
        set_device(self.index)
        return self

    def __exit__(self, *exc):
        set_device(self._previous)
        return False


def synchronize(device=None):
    """Wait until all queued kernels on GPU ``device`` (the current one by default) are done;
    then raise a failed device-side check (an index out of bounds ...), as PyTorch does."""
    _gpu.synchronize(_device(device))
    backend.raise_deferred()


# ----------------------------------------------------------------------------- random

def manual_seed(seed):
    """Seed the default generator of the current GPU."""
    default_generator(_gpu.device()).manual_seed(seed)


def manual_seed_all(seed):
    """Seed the default generators of every GPU."""
    for i in range(device_count()):
        default_generator(_gpu.device(i)).manual_seed(seed)


def seed():
    """Seed the current GPU's default generator with a random number."""
    return default_generator(_gpu.device()).seed()


def initial_seed():
    """The seed of the current GPU's default generator."""
    return default_generator(_gpu.device()).initial_seed()


# ----------------------------------------------------------------------------- memory
# Freed arrays go back to CuPy's memory pool (an arena per GPU), not to the driver; these
# read and empty it.

def empty_cache():
    """Return the unused memory of every GPU in use to the driver (``torch.cuda.empty_cache``):
    the scratch buffers kept for reuse are dropped, then each GPU's free pool blocks freed."""
    devices.release_caches()
    _gpu.free_cached()


def memory_allocated(device=None):
    """Bytes held by live arrays on GPU ``device`` (the current one by default): CuPy's pool
    keeps one arena per GPU."""
    return _gpu.pool_bytes(_device(device))[0]


def memory_reserved(device=None):
    """Bytes the pool holds from the driver on GPU ``device``: live arrays plus cached free
    blocks."""
    return _gpu.pool_bytes(_device(device))[1]


def mem_get_info(device=None):
    """``(free, total)`` bytes of GPU ``device`` as the driver reports them."""
    return _gpu.mem_get_info(_device(device))


def get_device_name(device=None):
    """The GPU's product name (e.g. 'NVIDIA H100 80GB HBM3')."""
    return _gpu.device_name(_device(device))
