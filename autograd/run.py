"""Run a PyTorch script unchanged: ``python -m autograd.run script.py [args]``.

``install()`` puts an import hook (a meta-path finder) in front of Python's own, so that
``import torch`` and its submodules give this project's modules instead of PyTorch's,
which is never imported:

===============================  ==========================================
``torch``, ``torch.autograd``    ``autograd``
``torch.X`` (cuda, backends,     ``autograd.X`` (``autograd.cuda``,
accelerator, utils.data ...)     ``autograd.backends``, ``autograd.utils.data`` ...)
``torch.nn``, ``torch.nn.X``     ``nn``, ``nn.X`` (functional, init, utils, parallel ...)
``torch.optim``, ``torch.optim.X``  ``optim``, ``optim.X`` (lr_scheduler ...)
``safetensors.torch``            ``autograd.safetensors``
===============================  ==========================================

Each ``torch...`` module is an alias: a module object whose attributes are read from (and
written to) this project's module, so ``torch.backends.cudnn.benchmark = True`` sets the
project's flag.  A name this project does not have fails at the point of use with
:class:`MissingPyTorchAPI` (an AttributeError, so ``hasattr(torch, 'compile')`` is False)
and an unmapped module with ``ModuleNotFoundError``; both messages name the PyTorch API
that is missing.  The limits are in docs/RUNNER.md.
"""
import importlib
import importlib.abc
import importlib.machinery
import os
import runpy
import sys
import types

__all__ = ['install', 'uninstall', 'installed', 'MissingPyTorchAPI', 'main']

# (PyTorch module prefix, this project's module), the longest prefix first
PREFIXES = (('safetensors.torch', 'autograd.safetensors'),
            ('torch.autograd', 'autograd'),
            ('torch.nn', 'nn'),
            ('torch.optim', 'optim'),
            ('torch', 'autograd'))

_HINT = ('this project (autograd) does not implement it; see docs/RUNNER.md for what '
         '`python -m autograd.run` maps')


class MissingPyTorchAPI(AttributeError):
    """A PyTorch name a script used that this project does not have."""


def target_of(name):
    """This project's module for PyTorch module ``name`` (None when it is not mapped)."""
    for prefix, target in PREFIXES:
        if name == prefix or name.startswith(prefix + '.'):
            return target + name[len(prefix):]
    return None


# what the import system sets on a module it creates (importlib's _init_module_attrs)
_MODULE_DUNDERS = frozenset(('__name__', '__package__', '__loader__', '__spec__', '__path__',
                             '__file__', '__cached__'))


class Alias(types.ModuleType):
    """PyTorch module ``__name__`` standing for this project's module ``__target__``."""

    def __init__(self, name, target):
        super().__init__(name)
        object.__setattr__(self, '__target__', target)
        object.__setattr__(self, '__path__', [])          # a package: submodules import
        object.__setattr__(self, '__doc__', target.__doc__)

    def __getattr__(self, attr):
        target = object.__getattribute__(self, '__target__')
        try:
            return getattr(target, attr)
        except AttributeError:
            pass
        if attr.startswith('__'):
            raise AttributeError(attr)
        name = f'{self.__name__}.{attr}'
        try:
            return importlib.import_module(name)          # torch.nn, torch.utils.data ...
        except ModuleNotFoundError:
            pass
        raise MissingPyTorchAPI(f'{name} is not available: {_HINT}')

    def __setattr__(self, attr, value):
        # the import system binding a submodule, or setting the alias's own __spec__,
        # __package__, __loader__ ...: kept here, never written onto the project's module
        # (its __package__ turned 'torch.nn.utils.rnn' would misdirect the relative imports
        # made inside its functions)
        if isinstance(value, Alias) or attr in _MODULE_DUNDERS:
            object.__setattr__(self, attr, value)
        else:                                             # torch.backends.cudnn.benchmark = True
            setattr(object.__getattribute__(self, '__target__'), attr, value)

    def __dir__(self):
        return sorted(set(dir(object.__getattribute__(self, '__target__'))) |
                      set(self.__dict__))

    def __repr__(self):
        return (f"<module {self.__name__!r} (alias of "
                f"{object.__getattribute__(self, '__target__').__name__!r})>")


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``torch`` modules as aliases of this project's modules."""

    def find_spec(self, fullname, path=None, target=None):
        if target_of(fullname) is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        name = target_of(spec.name)
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name is not None and (name == e.name or name.startswith(e.name + '.')):
                raise ModuleNotFoundError(f"No module named {spec.name!r}: the PyTorch API "
                                          f'{spec.name} is not available: {_HINT}',
                                          name=spec.name) from None
            raise
        return Alias(spec.name, module)

    def exec_module(self, module):
        pass


_FINDER = _Finder()


def install():
    """Map ``torch`` (and ``safetensors.torch``) imports to this project from now on.
    Raises RuntimeError when PyTorch itself was already imported in this process."""
    if installed():
        return
    clash = [n for n in sys.modules if target_of(n) is not None and
             not isinstance(sys.modules[n], Alias)]
    if clash:
        raise RuntimeError(f'autograd.run.install(): {", ".join(sorted(clash)[:3])} '
                           'was already imported in this process; install the mapping '
                           'before anything imports PyTorch')
    sys.meta_path.insert(0, _FINDER)


def uninstall():
    """Remove the mapping and forget the aliases made (for tests and notebooks)."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in [n for n, m in sys.modules.items() if isinstance(m, Alias)]:
        del sys.modules[name]


def installed():
    return _FINDER in sys.meta_path


USAGE = 'usage: python -m autograd.run script.py [args ...]  |  -m module [args ...]'


def main(argv=None):
    """Run a script (or ``-m module``) as ``__main__`` with the mapping installed."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ('-h', '--help'):
        print(USAGE, file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    install()
    if argv[0] == '-m':
        if len(argv) < 2:
            print(USAGE, file=sys.stderr)
            return 2
        sys.argv = argv[1:]
        sys.path.insert(0, os.getcwd())
        runpy.run_module(argv[1], run_name='__main__', alter_sys=True)
        return 0
    script = argv[0]
    sys.argv = argv
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name='__main__')
    return 0


if __name__ == '__main__':
    sys.exit(main())
