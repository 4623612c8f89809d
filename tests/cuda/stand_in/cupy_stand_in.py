"""The CuPy stand-in for machines without a GPU (CI): cunumpy's fake ``cupy``, made a
little closer to the real CuPy where this project touches it.

cunumpy, imported with ``CUNUMPY_FAKE_CUPY=1``, puts a ``cupy`` package in ``sys.modules``
whose arrays live in host memory but refuse implicit conversion to NumPy and mixing
with NumPy arrays, as CuPy's do.  On top of that, ``install`` makes

* ``cupy.random.default_rng()`` offer only the methods of CuPy's ``Generator`` (CuPy has
  no ``permutation``, ``choice``, ``shuffle`` or ``normal``), so code that needs one of
  those fails here as on a GPU;
* a function called with ``out=`` return that very array, as CuPy (and NumPy) do, not a
  new wrapper of its memory (code that tracks buffers by identity or reference count,
  such as reused scratch arrays, relies on it);
* ``cupy.random`` answer no dunder names (the fake answers every name, a function as
  ``__file__`` too, which breaks the module scans of PyTorch's and hypothesis's imports).
"""
import sys

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
    _return_out_arrays(cupy)
    random._stand_in_ready = True
    return cupy


def _return_out_arrays(cupy):
    """Make the stand-in's wrapped NumPy functions return their ``out=`` array itself."""
    wrap_callable = cupy._wrap_callable

    def _wrap_callable(f, strict, name, first_is_data=False):
        call = wrap_callable(f, strict, name, first_is_data)

        def returning_out(*args, **kwargs):
            res = call(*args, **kwargs)
            out = kwargs.get('out')
            if isinstance(out, cupy.ndarray) and isinstance(res, cupy.ndarray) \
                    and res._a is out._a:
                return out
            return res
        returning_out.__name__, returning_out.__doc__ = call.__name__, call.__doc__
        return returning_out

    cupy._wrap_callable = _wrap_callable
    # functions the fake made (and cached) before now are made again, on first use
    for name, value in list(vars(cupy).items()):
        if getattr(value, '__qualname__', '') == '_wrap_callable.<locals>.w':
            delattr(cupy, name)
