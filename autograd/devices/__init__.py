"""The device registry: each backend is one module that says how its devices allocate, move
and compute; ``device('cuda:1')`` looks the type name up here, and the rest of the project
asks a tensor's device (its ``backend``) instead of naming device types.

A backend is a module (or any object) with these names (``INTERFACE``):

====================  ====================================================================
``TYPE``              its device type name (``'cpu'``, ``'cuda'``)
``device(index)``     the Device for ``index`` (None: the default or current one);
                      RuntimeError saying what is missing when it cannot run here
``device_count()``    how many devices it has here (0 when it cannot run; never raises)
``asarray(dev, a,     an array on ``dev`` from host data or from the backend's own arrays
dtype=None)``         (allocate, or move in; may share memory)
``to_host(a)``        the NumPy array of one of its arrays (move out; may share memory)
``device_of(a)``      the Device that array ``a`` lives on, None when ``a`` is not its kind
``rng(dev, seed)``    a seeded generator on ``dev`` (NumPy's ``Generator`` methods)
``seed_all(seed)``    seed the array library's own global generator, where it is in use
``data_ptr(a)``       the address of ``a``'s first element
``dlpack_device(      ``(DLDeviceType, index)`` of ``dev``'s memory
dev)``
``from_dlpack(dev,    an array of ``dev`` wrapping a DLPack producer's memory
obj)``
``synchronize(dev)``  wait until the work queued on ``dev`` is done
``erf(a)``            the error function (a special function the array modules lack)
====================  ====================================================================

and optionally ``DLPACK_TYPES`` (the DLDeviceType codes of memory it wraps, for
``from_dlpack``) and ``ACCELERATOR`` (True: an integer device spec, ``device(1)``, means one
of its devices, as PyTorch's accelerator) and ``scatter_adder(xp)`` (its library's own
``out[key] += values`` for array module ``xp``, where ``add.at`` fails; see
``backend.scatter_add``).  Its Devices carry the array module ``xp`` that
ops compute with and the array type; both are plain attributes, read on every op.
"""
import os

import numpy

__all__ = ['Device', 'device', 'public_device', 'register', 'unregister', 'registered',
           'device_of_array', 'find_device', 'from_dlpack_device', 'to_numpy', 'transfer', 'seed_all',
           'get_default_device', 'set_default_device', 'CPU', 'INTERFACE',
           'register_cache', 'release_caches']

INTERFACE = ('device', 'device_count', 'asarray', 'to_host', 'device_of', 'rng', 'seed_all',
             'data_ptr', 'dlpack_device', 'from_dlpack', 'synchronize', 'erf')

_backends = {}                  # type name -> backend, in registration order


class Device:
    """A place where arrays live: ``type`` and ``index`` name it, ``backend`` is the module
    that knows how it allocates and moves, ``xp`` the array module ops compute with (numpy,
    cupy), ``array_type`` its arrays' class and ``native`` the backend's own handle of the
    device (a ``cupy.cuda.Device``; None where there is none)."""
    __slots__ = ('type', 'index', 'xp', 'array_type', 'backend', 'native')

    def __init__(self, backend, index, xp, native=None):
        self.type = backend.TYPE
        self.index = index
        self.xp = xp
        self.array_type = xp.ndarray
        self.backend = backend
        self.native = native

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
        # a device without an index is its type's device 0
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self):
        return hash((self.type, self.index or 0))

    def __reduce__(self):
        return (device, (str(self),))

    def asarray(self, data, dtype=None):
        """``data`` as an array of this device (moved or converted, copying only when needed)."""
        return self.backend.asarray(self, data, dtype)


class _Unindexed(Device):
    """``device('cuda')`` as the user names it: index None (printed ``cuda``, as PyTorch's)
    until it is used.  Everything that places data asks ``device(d)``, which gives the
    current device of its type (``cuda:0``); ``xp`` and the rest read through to it."""
    __slots__ = ()

    def __init__(self, backend):        # (no array module of its own)
        self.type = backend.TYPE
        self.index = None
        self.backend = backend

    def resolve(self):
        return self.backend.device(None)

    xp = property(lambda self: self.resolve().xp)
    array_type = property(lambda self: self.resolve().array_type)
    native = property(lambda self: self.resolve().native)

    def __reduce__(self):
        return (public_device, (str(self),))


# ----------------------------------------------------------------------------- the registry

def register(backend):
    """Make ``backend``'s devices available under its ``TYPE``; returns it."""
    missing = [name for name in ('TYPE',) + INTERFACE if not hasattr(backend, name)]
    if missing:
        raise TypeError(f'a backend needs {", ".join(missing)}: see autograd.devices')
    if _backends.get(backend.TYPE, backend) is not backend:
        raise RuntimeError(f"device type '{backend.TYPE}' is already registered")
    _backends[backend.TYPE] = backend
    return backend


def unregister(type_name):
    """Remove the backend of ``type_name`` (its devices stop being found by name)."""
    _backends.pop(type_name, None)
    if _default_device[0] is not None and _default_device[0].type == type_name:
        _default_device[0] = None


def registered():
    """``{type name: backend}`` of the registered backends, in registration order."""
    return dict(_backends)


def _split(spec):
    if ':' in spec:
        kind, _, idx = spec.partition(':')
        if not idx.isdigit():
            raise RuntimeError(f'Invalid device string: {spec!r}')
        return kind, int(idx)
    return spec, None


def device(spec, index=None):
    """``device('cpu')``, ``device('cuda')``, ``device('cuda:1')``, ``device('cuda', 1)``, or
    ``device(1)`` (a device of the accelerator).

    Returns the concrete device; RuntimeError for an unknown type, and for a backend that
    cannot run here (``cuda`` without CuPy or a usable GPU).
    """
    if isinstance(spec, Device):
        return spec.resolve() if spec.__class__ is _Unindexed else spec
    if isinstance(spec, int) and not isinstance(spec, bool):
        spec, index = _accelerator().TYPE, spec
    if not isinstance(spec, str):
        raise TypeError(f'device() expects a string or a device, got {type(spec).__name__}')
    kind, idx = _split(spec.strip())
    if idx is not None:
        if index is not None:
            raise RuntimeError(f'device string {spec!r} already has an index')
        index = idx
    backend = _backends.get(kind)
    if backend is None:
        raise RuntimeError(f'Expected one of {", ".join(_backends)} device type at start of '
                           f'device string: {spec}')
    return backend.device(index)


def public_device(spec, index=None):
    """``autograd.device``: as ``device``, except that an accelerator's device named
    without an index (``'cuda'``) keeps index None, as PyTorch's ``torch.device('cuda')``
    (``cuda``, not ``cuda:0``); a tensor placed there is on the current device (``cuda:0``).
    The errors of a device that cannot run here come at once."""
    if isinstance(spec, Device):
        return spec
    dev = device(spec, index)
    if dev.index is not None and index is None and isinstance(spec, str) and \
            ':' not in spec and getattr(dev.backend, 'ACCELERATOR', False):
        return _Unindexed(dev.backend)
    return dev


def _accelerator():
    for backend in _backends.values():
        if getattr(backend, 'ACCELERATOR', False):
            return backend
    raise RuntimeError('an integer device means an accelerator, and none is registered')


def find_device(a):
    """The Device array ``a`` lives on (the first registered backend that claims it), or None."""
    for backend in _backends.values():
        dev = backend.device_of(a)
        if dev is not None:
            return dev
    return None


def device_of_array(a):
    """The Device array ``a`` lives on; TypeError for an object no backend claims."""
    dev = find_device(a)
    if dev is None:
        raise TypeError(f'not an array of a known backend: {type(a).__name__}')
    return dev


def from_dlpack_device(kind, index):
    """The Device of memory that DLPack describes as ``(DLDeviceType, index)``."""
    for backend in _backends.values():
        if kind in getattr(backend, 'DLPACK_TYPES', ()):
            return backend.device(index)
    raise RuntimeError(f'from_dlpack: DLPack device type {kind} (device {index}) is not '
                       f'supported; only memory of the {", ".join(_backends)} devices can back '
                       'a tensor')


def to_numpy(a):
    """A host NumPy view/copy of any backend's array (an explicit transfer)."""
    if isinstance(a, numpy.ndarray):
        return a
    return device_of_array(a).backend.to_host(a)


def transfer(a, dev):
    """A copy of array ``a`` on ``dev`` (an explicit move): device to device within one
    backend that has ``copy_to`` (GPU to GPU, peer to peer), else through host memory."""
    copy_to = getattr(dev.backend, 'copy_to', None)
    if copy_to is not None:
        src = device_of_array(a)
        if src.backend is dev.backend:
            return copy_to(a, dev)
    out = dev.backend.asarray(dev, to_numpy(a))
    return out.copy() if out is a else out


# ----------------------------------------------------------------------------- caches of device memory

_caches = []                    # functions that drop arrays kept for reuse (empty_cache calls them)


def register_cache(release):
    """Register ``release()``, which drops the device arrays a library keeps for reuse
    (scratch buffers), so that ``empty_cache`` can return their memory; returns it."""
    _caches.append(release)
    return release


def release_caches():
    """Drop every registered cache's kept arrays (before a pool's free blocks are returned)."""
    for release in _caches:
        release()


def seed_all(seed):
    """Seed the global generators of every backend's array library that is in use."""
    for backend in _backends.values():
        backend.seed_all(seed)


# ----------------------------------------------------------------------------- the default device

_default_device = [None]


def get_default_device():
    """The device of new tensors: ``set_default_device``'s, else the ``AUTOGRAD_DEVICE``
    environment variable's, else the CPU."""
    d = _default_device[0]
    if d is None:
        env = os.environ.get('AUTOGRAD_DEVICE', '').strip()
        d = device(env) if env else CPU
        _default_device[0] = d
    return d


def set_default_device(d):
    """Set the device of newly created tensors (``None`` resets to the AUTOGRAD_DEVICE flag)."""
    _default_device[0] = None if d is None else device(d)


# ----------------------------------------------------------------------------- the built-in backends

from . import cpu, cuda     # noqa: E402  (they build their Devices with the class above)

register(cpu)
register(cuda)
CPU = cpu.DEVICE            # the host: NumPy's memory
