"""The ``cuda`` backend: NVIDIA GPUs through CuPy, one Device per GPU index.

CuPy is imported only when a ``cuda`` device is asked for (or an array in GPU memory is
met), never by importing the project.  ``import cupy`` succeeds on machines without a
driver, so whether a GPU is usable is asked of the runtime (``getDeviceCount``).
"""
import sys

from . import Device

TYPE = 'cuda'
ACCELERATOR = True              # device(1) means GPU 1, as in PyTorch
DLPACK_TYPES = (2,)             # kDLCUDA

_INSTALL_HINT = ('install CuPy for your CUDA version, e.g. `pip install cupy-cuda12x` '
                 '(CUDA 12) or `pip install cupy-cuda11x` (CUDA 11)')
_cupy = None
_count = None                   # GPUs the runtime reported (asked once per process)
_devices = {}                   # index -> Device


def cupy_module():
    """Import CuPy, or raise the install hint."""
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except ImportError as e:
            raise RuntimeError(f"device '{TYPE}' needs CuPy, which is not installed: "
                               f'{_INSTALL_HINT}') from e
        _cupy = cupy
    return _cupy


def device_count():
    """Number of usable GPUs; 0 when CuPy or a driver is missing.  Only a count the runtime
    gave is kept (a driver installed later is seen); only the runtime's and driver's errors
    (RuntimeError, CuPy's CUDARuntimeError/CUDADriverError) mean "no GPU": anything else is
    a bug and raises."""
    global _count
    if _count is None:
        try:
            cupy = cupy_module()
        except RuntimeError:
            return 0
        try:
            _count = int(cupy.cuda.runtime.getDeviceCount())
        except RuntimeError:       # no driver, no device, a CuPy for another CUDA version
            return 0
    return _count


def device(index=None):
    """The Device of GPU ``index`` (the current one when None)."""
    dev = _devices.get(index)
    if dev is not None:
        return dev
    cupy = cupy_module()
    count = device_count()
    if count == 0:
        raise RuntimeError(
            f"device '{TYPE}' was asked for: CuPy is installed but finds no usable GPU (no "
            'NVIDIA driver or device, or a CuPy build for another CUDA version); run on '
            f"the CPU, or install the NVIDIA driver and {_INSTALL_HINT}")
    if index is None:
        index = int(cupy.cuda.runtime.getDevice())
    if not 0 <= index < count:
        raise RuntimeError(f'CUDA error: invalid device ordinal {index} '
                           f'({count} device(s) available)')
    dev = _devices.get(index)
    if dev is None:
        dev = _devices[index] = Device(sys.modules[__name__], index, cupy,
                                       cupy.cuda.Device(index))
    return dev


def asarray(dev, data, dtype=None):
    with dev.native:
        return dev.xp.asarray(data, dtype=dtype)


def to_host(a):
    return a.get()


def copy_to(a, dev):
    """A copy of GPU array ``a`` on GPU ``dev``, device to device: CuPy's ``copy`` made
    with ``dev`` current copies from another GPU peer to peer (``cudaMemcpyPeer``), never
    through host memory."""
    with dev.native:
        return a.copy()


def device_of(a):
    if _cupy is not None and isinstance(a, _cupy.ndarray):
        return device(a.device.id)
    # another library's GPU array (Numba's ...), or CuPy's before we imported it
    if hasattr(a, '__cuda_array_interface__'):
        return device(getattr(getattr(a, 'device', None), 'id', None))
    return None


def rng(dev, seed):
    with dev.native:
        return dev.xp.random.default_rng(seed)


def seed_all(seed):
    if _cupy is not None and device_count():       # never imports CuPy
        _cupy.random.seed(seed)


def data_ptr(a):
    return a.data.ptr


def dlpack_device(dev):
    return (2, dev.index)


def from_dlpack(dev, obj):
    with dev.native:
        return dev.xp.from_dlpack(obj)


def synchronize(dev):
    dev.native.synchronize()


def erf(a):
    from cupyx.scipy.special import erf as cupy_erf
    return cupy_erf(a)


def scatter_adder(xp):
    """``cupyx.scatter_add`` (``out[key] += values`` with repeats summed) for CuPy's array
    module where the installed CuPy has it (older ones, whose ``add.at`` raises), else None."""
    if xp is not _cupy:
        return None
    try:
        import cupyx
    except ImportError:
        return None
    return getattr(cupyx, 'scatter_add', None)


# ----------------------------------------------------------------------------- GPU-only (autograd.cuda)

def set_current(dev):
    """Make ``dev`` the GPU that ``device(None)`` means."""
    dev.native.use()


def memory_pool():
    """CuPy's default memory pool: one object, but one arena per GPU (its methods act on
    the current GPU's)."""
    device()                        # the error for a missing CuPy or GPU
    return _cupy.get_default_memory_pool()


def pool_bytes(dev):
    """``(used, total)`` bytes of the memory pool's arena on GPU ``dev``: held by live
    arrays, and held from the driver (live plus cached free blocks)."""
    pool = memory_pool()
    with dev.native:
        return int(pool.used_bytes()), int(pool.total_bytes())


def free_cached(dev=None):
    """Return the pool's free blocks on GPU ``dev`` (every GPU in use when None) to the driver."""
    pool = memory_pool()
    for d in ([dev] if dev is not None else list(_devices.values())):
        with d.native:
            pool.free_all_blocks()


def rng_state(rng):
    """The state of CuPy generator ``rng`` as host bytes (a uint8 NumPy array): its
    bit generator's cuRAND per-thread states, kept by CuPy in the int8 device array
    ``bit_generator._state`` (cupy/random/_bit_generator.pyx; CuPy has no public accessor)."""
    return rng.bit_generator._state.get().view('uint8')


def set_rng_state(rng, state):
    """Restore a state from ``rng_state`` (of a generator of the same kind and size)."""
    bits = rng.bit_generator
    size = bits._state.size
    if state.dtype.itemsize != 1 or state.size != size:
        raise RuntimeError(f'Expected a state of {size} bytes for the cuda generator, '
                           f'got {state.size * state.dtype.itemsize}')
    with _cupy.cuda.Device(getattr(bits, '_current_device_id', None)):   # the generator's GPU
        bits._state = _cupy.asarray(state.view('int8'))


def mem_get_info(dev):
    """``(free, total)`` bytes of ``dev`` as the driver reports them."""
    with dev.native:
        free, total = _cupy.cuda.runtime.memGetInfo()
    return int(free), int(total)


def device_name(dev):
    """The GPU's product name (e.g. 'NVIDIA H100 80GB HBM3')."""
    name = _cupy.cuda.runtime.getDeviceProperties(dev.index)['name']
    return name.decode() if isinstance(name, bytes) else name
