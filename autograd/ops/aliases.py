"""NumPy's argument names that PyTorch accepts as aliases: ``axis`` for ``dim`` and
``keepdims`` for ``keepdim`` (``x.sum(axis=0)``, ``autograd.cat(xs, axis=1)``,
``x.argmax(axis=1, keepdims=True)``).

PyTorch's argument parser renames these for every native function that has a ``dim`` or
``keepdim`` parameter (``numpy_compatibility_arg_names`` in python_arg_parser.cpp).  Here
one wrapper does it for every public function and Tensor method whose signature has such a
parameter, found by name when the package is imported, so an op added later is covered
without an edit.  A call without keyword arguments pays one extra Python frame and an
empty-dict test; the renaming runs only when a keyword is passed.
"""
import functools
import types

__all__ = ['accept_numpy_names', 'install']

_ALIASES = (('axis', 'dim'), ('keepdims', 'keepdim'))
_NAMES = frozenset(name for _, name in _ALIASES)


def _rename(op, kwargs):
    for alias, name in _ALIASES:
        if alias in kwargs:
            if name in kwargs:      # PyTorch's words for a name given twice
                raise TypeError(f"{op}() got an unexpected keyword argument '{alias}'")
            kwargs[name] = kwargs.pop(alias)


def _parameters(fn):
    code = fn.__code__
    return code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]


def accept_numpy_names(fn):
    """``fn`` (which has a ``dim`` or ``keepdim`` parameter) also taking ``axis=`` and
    ``keepdims=``."""
    op = fn.__name__

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if kwargs and ('axis' in kwargs or 'keepdims' in kwargs):
            _rename(op, kwargs)
        return fn(*args, **kwargs)
    call.accepts_numpy_names = True
    return call


def _wrapped(fn, done):
    """The aliasing wrapper of ``fn`` when it needs one (the same wrapper for the same
    function, so ``autograd.sum`` and ``Tensor.sum`` stay one object), else None."""
    if not isinstance(fn, types.FunctionType) or getattr(fn, 'accepts_numpy_names', False):
        return None
    if fn in done:
        return done[fn]
    if _NAMES.isdisjoint(_parameters(fn)):
        return None
    done[fn] = accept_numpy_names(fn)
    return done[fn]


def install(namespace, tensor_class):
    """Wrap every function of ``namespace`` (a module's dict) and every method of
    ``tensor_class`` that has a ``dim``/``keepdim`` parameter."""
    done = {}
    for name, fn in list(namespace.items()):
        if not name.startswith('_'):
            new = _wrapped(fn, done)
            if new is not None:
                namespace[name] = new
    for name, fn in list(vars(tensor_class).items()):
        if not name.startswith('__'):
            new = _wrapped(fn, done)
            if new is not None:
                setattr(tensor_class, name, new)
