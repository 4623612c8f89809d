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
  array it views alive (CuPy's ``view.base``), where the fake makes new wrappers;
* ``asarray`` of a NumPy array copies it, as a transfer to the device does, where the
  fake wraps the host array itself (so writing to the "device" array wrote to it); and
  views are writable (NumPy makes some, e.g. diagonals, read-only; CuPy none);
* ``cupy.random`` answer no dunder names (the fake answers every name, a function as
  ``__file__`` too, which breaks the module scans of PyTorch's and hypothesis's imports).
"""
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

    def __getattr__(self, name):
        if name not in CUPY_GENERATOR_METHODS:
            raise AttributeError(f"'cupy.random.Generator' object has no attribute '{name}'")
        return getattr(self._inner, name)


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
    ndarray.__getattr__ = lambda self, name: _keep_owner(getattr_(self, name), (self,))

    asarray = cupy.asarray

    def same_asarray(a, dtype=None, order=None, **kwargs):
        res = asarray(a, dtype, order, **kwargs)
        if isinstance(a, numpy.ndarray) and numpy.shares_memory(res._a, a):
            res = asarray(a.copy(), dtype, order, **kwargs)     # host to device: a copy
        return a if isinstance(a, ndarray) and res._a is a._a else res
    cupy.asarray = same_asarray

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


_OWNERS = {}      # id(view) -> (weak reference to the view, the array it keeps alive)
