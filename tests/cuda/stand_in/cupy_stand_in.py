"""The CuPy stand-in for machines without a GPU (CI): cunumpy's fake ``cupy``, made a
little closer to the real CuPy where this project touches it.

cunumpy, imported with ``CUNUMPY_FAKE_CUPY=1``, puts a ``cupy`` package in ``sys.modules``
whose arrays live in host memory but refuse implicit conversion to NumPy and mixing
with NumPy arrays, as CuPy's do.  On top of that, ``install`` makes

* ``cupy.random.default_rng()`` offer only the methods of CuPy's ``Generator`` (CuPy has
  no ``permutation``, ``choice``, ``shuffle`` or ``normal``), so code that needs one of
  those fails here as on a GPU;
* arrays keep CuPy's object identities, which code that tracks buffers by identity or
  reference count (reused scratch arrays) relies on: a function called with ``out=``
  returns that very array, ``asarray`` of an array is the array, and a view keeps the
  array it views alive (CuPy's ``view.base``), where the fake makes new wrappers: views
  by indexing, by functions and by methods (``a.reshape``, ``a.transpose``, ``a.view``);
* ``asarray`` of a NumPy array copies it, as a transfer to the device does, where the
  fake wraps the host array itself (so writing to the "device" array wrote to it); and
  views are writable (NumPy makes some, e.g. diagonals, read-only; CuPy none);
* ``cupy.random`` answer no dunder names (the fake answers every name, a function as
  ``__file__`` too, which breaks the module scans of PyTorch's and hypothesis's imports).

* ``cupy.add.at`` (and ``subtract``, ``maximum``, ``minimum``) work as in CuPy 13+, where
  ``ufunc.at`` came, and ``cupyx.scatter_add``/``scatter_max``/``scatter_min`` exist as in
  every CuPy; ``CUPY_STAND_IN_VERSION`` (default ``13.3.0``, also ``cupy.__version__``)
  picks which CuPy to mirror: below 13 the ufuncs have no ``at``, so the scatter-add that
  a GPU with that CuPy runs (``cupyx.scatter_add``) is the one CI runs.

* ``CUPY_STAND_IN_DEVICES=2`` (or more) makes that many GPUs: ``cuda.Device(i)`` as a
  context or ``use()`` makes GPU ``i`` current, arrays live on the GPU current when they
  were made (``a.device``), ``a.copy()`` with another GPU current copies to it (CuPy's
  peer copy), and the memory pool keeps an arena per GPU (live bytes, freed blocks cached
  until ``free_all_blocks`` with that GPU current), as CuPy's does;
* a generator's ``bit_generator._state`` is its state as an int8 device array, which
  CuPy keeps there (cuRAND's states; here NumPy's PCG64 state, packed in 37 bytes).

It also counts what makes a real GPU's host wait (``count_syncs``, a test utility): reads
of device data on the host, operations whose output size depends on the data, explicit
synchronisations, and host-to-device copies, each with the project's frame responsible.
"""
import os
import sys
import weakref

import numpy

# cupy.random.Generator's public methods (cupy/random/_generator_api.pyx)
CUPY_GENERATOR_METHODS = frozenset((
    'random', 'uniform', 'integers', 'beta', 'binomial', 'chisquare', 'dirichlet',
    'exponential', 'f', 'gamma', 'geometric', 'hypergeometric', 'logseries', 'poisson',
    'power', 'standard_exponential', 'standard_gamma', 'standard_normal'))


class Generator:
    """A CuPy-shaped view of the stand-in's NumPy-backed generator."""

    def __init__(self, inner):
        self._inner = inner
        self.bit_generator = BitGenerator(inner._obj.bit_generator)

    def __getattr__(self, name):
        if name not in CUPY_GENERATOR_METHODS:
            raise AttributeError(f"'cupy.random.Generator' object has no attribute '{name}'")
        return getattr(self._inner, name)


class BitGenerator:
    """CuPy's bit generator keeps its state in ``_state``, an int8 device array; here the
    NumPy PCG64 state packed as bytes: state (16), increment (16), has_uint32 (1), uinteger (4)."""

    def __init__(self, inner):
        self._inner = inner
        self._current_device_id = _CURRENT[0]

    @property
    def _state(self):
        st = self._inner.state
        raw = (st['state']['state'].to_bytes(16, 'little') + st['state']['inc'].to_bytes(16, 'little')
               + bytes([st['has_uint32']]) + st['uinteger'].to_bytes(4, 'little'))
        return sys.modules['cupy'].asarray(numpy.frombuffer(raw, numpy.int8).copy())

    @_state.setter
    def _state(self, array):
        raw = array.get().tobytes()
        st = self._inner.state
        st['state'] = {'state': int.from_bytes(raw[:16], 'little'),
                       'inc': int.from_bytes(raw[16:32], 'little')}
        st['has_uint32'], st['uinteger'] = raw[32], int.from_bytes(raw[33:37], 'little')
        self._inner.state = st


def install():
    """Install the stand-in as ``cupy`` (idempotent); call before anything imports cupy."""
    import cunumpy  # noqa: F401  (installs the fake cupy when CUNUMPY_FAKE_CUPY=1)
    cupy = sys.modules.get('cupy')
    if cupy is None or not getattr(cupy, '__cunumpy_fake__', False):
        raise RuntimeError('CUNUMPY_FAKE_CUPY=1 must be set before cunumpy is imported '
                           '(and the real CuPy must not be imported)')
    random = sys.modules['cupy.random']
    if getattr(random, '_stand_in_ready', False):
        return cupy
    forward = random.__getattr__
    make_rng = random.default_rng

    def __getattr__(name):
        if name.startswith('__'):
            raise AttributeError(name)
        return forward(name)

    random.__getattr__ = __getattr__
    random.default_rng = lambda seed=None: Generator(make_rng(seed))
    _keep_identities(cupy)
    _mirror_scatter(cupy)
    _devices(cupy)
    _count_transfers(cupy)
    random._stand_in_ready = True
    return cupy


def _keep_identities(cupy):
    """Make the stand-in's arrays keep CuPy's object identities (see the module doc)."""
    wrap_callable = cupy._wrap_callable

    def _wrap_callable(f, strict, name, first_is_data=False):
        call = wrap_callable(f, strict, name, first_is_data)

        def keeping_identities(*args, **kwargs):
            res = call(*args, **kwargs)
            out = kwargs.get('out')
            if isinstance(out, cupy.ndarray) and isinstance(res, cupy.ndarray) \
                    and res._a is out._a:
                return out
            return _keep_owner(res, args)
        keeping_identities.__name__, keeping_identities.__doc__ = call.__name__, call.__doc__
        return keeping_identities

    cupy._wrap_callable = _wrap_callable
    # functions the fake made (and cached) before now are made again, on first use
    for name, value in list(vars(cupy).items()):
        if getattr(value, '__qualname__', '') == '_wrap_callable.<locals>.w':
            delattr(cupy, name)

    ndarray = cupy.ndarray
    getitem, getattr_ = ndarray.__getitem__, ndarray.__getattr__
    ndarray.__getitem__ = lambda self, key: _keep_owner(getitem(self, key), (self,))
    ndarray.__getattr__ = lambda self, name: _owned_attribute(getattr_(self, name), self)

    asarray = cupy.asarray

    def same_asarray(a, dtype=None, order=None, **kwargs):
        res = asarray(a, dtype, order, **kwargs)
        if isinstance(a, numpy.ndarray) and numpy.shares_memory(res._a, a):
            res = asarray(a.copy(), dtype, order, **kwargs)     # host to device: a copy
        return a if isinstance(a, ndarray) and res._a is a._a else res
    cupy.asarray = same_asarray

    def _owned_attribute(res, self):
        """An attribute of ``self``: a view (``a.T``) tied to it, and a method's view
        results too (``a.reshape(...)``, ``a.transpose(...)``, ``a.view()``, ``a.ravel()``),
        as CuPy's views keep their base."""
        if callable(res) and not isinstance(res, ndarray):
            method = res

            def res(*args, **kwargs):
                return _keep_owner(method(*args, **kwargs), (self,))
        return _keep_owner(res, (self,))

    def _keep_owner(res, sources):
        """Tie a view to the array whose memory it views (the first of ``sources``)."""
        if not isinstance(res, ndarray) or res._a.base is None:
            return res
        if not res._a.flags.writeable:        # CuPy views are always writable
            try:
                res._a.flags.writeable = True
            except ValueError:                # broadcasts: NumPy will not
                pass
        base = res._a.base
        for src in sources:
            if isinstance(src, ndarray) and src is not res and \
                    (base is src._a or base is src._a.base):
                key = id(res)
                _OWNERS[key] = (weakref.ref(res, lambda _, key=key: _OWNERS.pop(key, None)),
                                src)
                break
        return res


# ----------------------------------------------------------------------------- several GPUs
DEVICES = int(os.environ.get('CUPY_STAND_IN_DEVICES', '1'))
_CURRENT = [0]              # the current GPU
_PLACED = {}                # id(host array owning memory) -> (weak ref, GPU, bytes), DEVICES > 1


class MemoryPool:
    """CuPy's default pool: one object, an arena per GPU; its methods act on the current
    GPU's.  A dead array's bytes stay cached in its GPU's arena until ``free_all_blocks``."""

    def __init__(self):
        self.cached = {}
        self.freed = []             # the GPUs whose free blocks were returned, in order

    def used_bytes(self):
        return sum(n for _, dev, n in list(_PLACED.values()) if dev == _CURRENT[0])

    def total_bytes(self):
        return self.used_bytes() + self.cached.get(_CURRENT[0], 0)

    def free_all_blocks(self, stream=None):
        self.cached[_CURRENT[0]] = 0
        self.freed.append(_CURRENT[0])


POOL = MemoryPool()


def _devices(cupy):
    """``DEVICES`` GPUs (see the module doc); with one, only the pool object is CuPy's."""
    cupy.get_default_memory_pool = lambda: POOL
    cuda, runtime = cupy.cuda, cupy.cuda.runtime
    cuda.get_device_id = runtime.getDevice = lambda: _CURRENT[0]
    if DEVICES == 1:
        return
    Device, ndarray = cuda.Device, cupy.ndarray
    stack = []

    def __init__(self, id=None):
        id = _CURRENT[0] if id is None else int(id)
        if not 0 <= id < DEVICES:
            raise runtime.CUDARuntimeError('cudaErrorInvalidDevice: invalid device ordinal')
        self.id = id

    def __enter__(self):
        stack.append(_CURRENT[0])
        _CURRENT[0] = self.id
        return self

    def __exit__(self, *exc):
        _CURRENT[0] = stack.pop()
        return False

    def use(self):
        _CURRENT[0] = self.id

    def set_device(index):
        Device(index).use()
    Device.__init__, Device.__enter__, Device.__exit__, Device.use = __init__, __enter__, __exit__, use
    cuda.Stream.__enter__ = lambda self: self
    cuda.Stream.__exit__ = lambda self, *exc: False
    runtime.setDevice = set_device
    runtime.getDeviceCount = lambda: DEVICES

    init = ndarray.__init__

    def placed(self, a):
        init(self, a)
        owner = a if a.base is None else a.base
        if isinstance(owner, numpy.ndarray) and id(owner) not in _PLACED:
            key = id(owner)

            def dead(_, key=key):
                _, dev, n = _PLACED.pop(key)
                POOL.cached[dev] = POOL.cached.get(dev, 0) + n
            _PLACED[key] = (weakref.ref(owner, dead), _CURRENT[0], owner.nbytes)
    ndarray.__init__ = placed

    def device(self):
        a = self._a
        entry = _PLACED.get(id(a if a.base is None else a.base))
        return Device(entry[1] if entry is not None else 0)
    ndarray.device = property(device)


# ----------------------------------------------------------------------------- scatter
VERSION = os.environ.get('CUPY_STAND_IN_VERSION', '13.3.0')
_AT_UFUNCS = ('add', 'subtract', 'maximum', 'minimum')     # CuPy 13's ufunc.at


class Ufunc:
    """A CuPy ufunc: callable as the stand-in's function, with ``at`` from CuPy 13 on."""

    def __init__(self, name, call, cupy):
        self.__name__, self._call, self._cupy = name, call, cupy
        self._np = getattr(numpy, name)

    def __call__(self, *args, **kwargs):
        return self._call(*args, **kwargs)

    def __getattr__(self, name):
        if name == 'at':
            if int(VERSION.split('.')[0]) < 13 or self.__name__ not in _AT_UFUNCS:
                raise AttributeError("'cupy.ufunc' object has no attribute 'at'")
            return self._at
        if name.startswith('__'):
            raise AttributeError(name)
        attr = getattr(self._np, name)
        return self._cupy._wrap_callable(attr, True, f'cupy.{self.__name__}.{name}') \
            if callable(attr) else attr

    def _at(self, a, indices, b=None):
        """``a[indices] op= b`` unbuffered (repeats applied each time), in place."""
        _scatter(self._cupy, self._np, a, indices, b, f'cupy.{self.__name__}.at')


def _scatter(cupy, ufunc, a, indices, b, where):
    if not isinstance(a, cupy.ndarray):
        raise TypeError(f'{where}: the target must be a cupy.ndarray, got {type(a).__name__}')
    cupy._strict((indices, b), where)
    ufunc.at(a._a, cupy._unwrap(indices), cupy._unwrap(b))


def _mirror_scatter(cupy):
    """``cupy.<ufunc>.at`` per ``VERSION`` and ``cupyx.scatter_*`` (see the module doc)."""
    cupy.__version__ = VERSION
    for name in ('add', 'subtract', 'multiply', 'maximum', 'minimum'):
        setattr(cupy, name, Ufunc(name, getattr(cupy, name), cupy))
    import cupyx
    for name, ufunc in (('add', numpy.add), ('max', numpy.maximum), ('min', numpy.minimum)):
        def scatter(a, slices, value, _ufunc=ufunc, _name=f'cupyx.scatter_{name}'):
            _scatter(cupy, _ufunc, a, slices, value, _name)
        scatter.__name__ = f'scatter_{name}'
        setattr(cupyx, f'scatter_{name}', scatter)


_OWNERS = {}      # id(view) -> (weak reference to the view, the array it keeps alive)


# ----------------------------------------------------------------------------- sync counter
# On a GPU the host waits for every queued kernel before it can read a device value
# (``int(a)``, ``float(a)``, ``bool(a)``, ``a.item()``, ``a.tolist()``, ``a.get()``,
# ``cupy.asnumpy``), before it can size the output of a data-dependent op (``nonzero``,
# ``unique``, ``bincount``, boolean-mask indexing, which CuPy implements with a
# ``nonzero``/``cumsum`` read back to the host), and at an explicit ``synchronize``.
# ``count_syncs`` records each such event, and host-to-device copies (``asarray`` of host
# data, Python numbers included, which CuPy copies from pageable memory), with the frame
# of the project's code that caused it.

TO_HOST, DATA_DEPENDENT, SYNCHRONIZE, TO_DEVICE = (
    'to_host', 'data_dependent', 'synchronize', 'to_device')
SYNC_KINDS = (TO_HOST, DATA_DEPENDENT, SYNCHRONIZE)   # the host waits for the device
_COUNTERS = []                                        # the active counters, innermost last
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
_HERE = os.path.dirname(os.path.abspath(__file__))
_PROJECT = tuple(os.path.join(_ROOT, d) + os.sep for d in ('autograd', 'nn', 'optim', 'tools'))


class SyncEvent:
    """One counted event: its kind, what did it, and the responsible frame ('file:line')."""
    __slots__ = ('kind', 'what', 'where')

    def __init__(self, kind, what, where):
        self.kind, self.what, self.where = kind, what, where

    def __repr__(self):
        return f'{self.where}: {self.kind}: {self.what}'


class SyncCounter:
    """The events recorded while a ``count_syncs()`` block ran."""

    def __init__(self):
        self.events = []

    def count(self, *kinds):
        """How many events of ``kinds`` (every kind that makes the host wait by default)."""
        kinds = kinds or SYNC_KINDS
        return sum(1 for e in self.events if e.kind in kinds)

    @property
    def syncs(self):
        """Events that make the host wait for the device (reads, sizes, synchronize)."""
        return [e for e in self.events if e.kind in SYNC_KINDS]

    @property
    def to_device(self):
        """Host-to-device copies."""
        return [e for e in self.events if e.kind == TO_DEVICE]

    def report(self, kinds=None):
        """One line per event, for an assertion message."""
        kinds = kinds or SYNC_KINDS + (TO_DEVICE,)
        return '\n'.join(repr(e) for e in self.events if e.kind in kinds) or '(none)'


class count_syncs:
    """``with count_syncs() as counter:`` records the block's syncs and copies (nestable)."""

    def __enter__(self):
        self.counter = SyncCounter()
        _COUNTERS.append(self.counter)
        return self.counter

    def __exit__(self, *exc):
        _COUNTERS.remove(self.counter)
        return False


# the engine's public synchronisation points (Tensor.item(), printing, a copy to the host,
# the read of pending device-side checks): the frame blamed is the one that called them
_SYNC_POINTS = tuple(os.path.join(_ROOT, 'autograd', f) for f in (
    'tensor.py', '_format.py', 'cuda.py', os.path.join('devices', 'cuda.py')))


def _where():
    """The innermost frame of the project's package code (autograd/, nn/, optim/, tools/)
    that led here, past the engine's synchronisation points, else the innermost frame
    outside this file and the libraries."""
    frame, fallback = sys._getframe(2), None
    while frame is not None:
        name = frame.f_code.co_filename
        if name in _SYNC_POINTS or frame.f_code.co_name == 'raise_deferred':
            pass
        elif name.startswith(_PROJECT):
            return f'{os.path.relpath(name, _ROOT)}:{frame.f_lineno}'
        elif fallback is None and name.startswith(_ROOT) and not name.startswith(_HERE):
            fallback = f'{os.path.relpath(name, _ROOT)}:{frame.f_lineno}'
        frame = frame.f_back
    return fallback or '?'


def _record(kind, what):
    if _COUNTERS:
        event = SyncEvent(kind, what, _where())
        for counter in _COUNTERS:
            counter.events.append(event)


def _counted(kind, what, f):
    def counted(*args, **kwargs):
        if _COUNTERS:
            _record(kind, what)
        return f(*args, **kwargs)
    counted.__name__, counted.__doc__ = getattr(f, '__name__', what), getattr(f, '__doc__', None)
    return counted


_DATA_DEPENDENT = ('nonzero', 'flatnonzero', 'argwhere', 'unique', 'bincount', 'compress',
                   'extract')


def _is_mask(key, ndarray):
    keys = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, ndarray) and k._a.dtype == numpy.bool_ and k._a.ndim > 0
               for k in keys)


def _count_transfers(cupy):
    """Patch the stand-in's array type and functions to report to ``count_syncs``."""
    ndarray = cupy.ndarray
    for name in ('__bool__', '__int__', '__float__', '__complex__', '__index__',
                 '__format__', 'get'):
        setattr(ndarray, name, _counted(TO_HOST, f'ndarray.{name}', getattr(ndarray, name)))
    getattr_ = ndarray.__getattr__

    def __getattr__(self, name):
        if _COUNTERS:
            if name in ('item', 'tolist'):
                _record(TO_HOST, f'ndarray.{name}()')
            elif name == 'nonzero':
                _record(DATA_DEPENDENT, 'ndarray.nonzero()')
        return getattr_(self, name)
    ndarray.__getattr__ = __getattr__

    getitem, setitem = ndarray.__getitem__, ndarray.__setitem__

    def __getitem__(self, key):
        if _COUNTERS and _is_mask(key, ndarray):
            _record(DATA_DEPENDENT, 'boolean-mask indexing a[mask]')
        return getitem(self, key)

    def __setitem__(self, key, value):
        if _COUNTERS:
            if _is_mask(key, ndarray):
                _record(DATA_DEPENDENT, 'boolean-mask assignment a[mask] = v')
            if not isinstance(value, ndarray) and not isinstance(value, (int, float, bool)):
                _record(TO_DEVICE, f'a[...] = {type(value).__name__}')
        return setitem(self, key, value)
    ndarray.__getitem__, ndarray.__setitem__ = __getitem__, __setitem__
    ndarray.set = _counted(TO_DEVICE, 'ndarray.set', ndarray.set)

    for name in _DATA_DEPENDENT:
        setattr(cupy, name, _counted(DATA_DEPENDENT, f'cupy.{name}', getattr(cupy, name)))
    where = cupy.where

    def where_(condition, *xy):
        if _COUNTERS and not xy:
            _record(DATA_DEPENDENT, 'cupy.where(condition)')
        return where(condition, *xy)
    cupy.where = where_

    def asnumpy(a, *args, **kwargs):
        if not isinstance(a, ndarray):
            return numpy.asarray(a)
        if _COUNTERS:
            _record(TO_HOST, 'cupy.asnumpy')
        return a._a.copy()          # not through the counted .get(): one read, counted once
    cupy.asnumpy = asnumpy

    for name in ('asarray', 'array'):
        make = getattr(cupy, name)

        def from_host(a, *args, _make=make, _name=name, **kwargs):
            if _COUNTERS and not isinstance(a, ndarray):
                _record(TO_DEVICE, f'cupy.{_name}({type(a).__name__})')
            return _make(a, *args, **kwargs)
        from_host.__name__ = name
        setattr(cupy, name, from_host)

    for cls in (cupy.cuda.Device, cupy.cuda.Stream, cupy.cuda.Event):
        cls.synchronize = _counted(SYNCHRONIZE, f'{cls.__name__}.synchronize', cls.synchronize)
    cupy.cuda.runtime.deviceSynchronize = _counted(
        SYNCHRONIZE, 'cuda.runtime.deviceSynchronize', lambda: None)
