import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _install_cupy_stand_in():
    """CI has no GPU: cunumpy, imported with CUNUMPY_FAKE_CUPY=1, installs a fake ``cupy``
    whose arrays refuse implicit host conversion.  It must come before any ``import cupy``."""
    import cunumpy  # noqa: F401
    random = sys.modules['cupy.random']
    forward = random.__getattr__

    def __getattr__(name):
        # the stand-in's cupy.random answers every name, dunders too (a function as
        # ``__file__``), which breaks the module scans of PyTorch's and hypothesis's imports
        if name.startswith('__'):
            raise AttributeError(name)
        return forward(name)
    random.__getattr__ = __getattr__


if os.environ.get('CUNUMPY_FAKE_CUPY', '').strip().lower() in ('1', 'true', 'yes'):
    _install_cupy_stand_in()
