"""``backends.cudnn``: cuDNN's switches.  This project has no cuDNN path (convolutions are
im2col plus a matrix product on NumPy/CuPy), so ``is_available()`` is False and the flags
are remembered and read back without effect.  Results are deterministic regardless of
``deterministic``; ``benchmark`` picks no algorithm."""
import contextlib

__all__ = ['is_available', 'is_acceptable', 'version', 'flags', 'enabled', 'benchmark',
           'deterministic', 'allow_tf32', 'benchmark_limit']

enabled = True              # PyTorch's defaults
benchmark = False
deterministic = False
allow_tf32 = True
benchmark_limit = None       # as a PyTorch build without cuDNN reports it


def is_available():
    """False: no op here runs through cuDNN."""
    return False


def is_acceptable(tensor):
    """False: cuDNN would not be used for ``tensor``."""
    return False


def version():
    """None: cuDNN is not in use."""
    return None


_FLAGS = ('enabled', 'benchmark', 'benchmark_limit', 'deterministic', 'allow_tf32')


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True):
    """Set the flags inside the block, restore them after (PyTorch's signature)."""
    new = dict(enabled=enabled, benchmark=benchmark, benchmark_limit=benchmark_limit,
               deterministic=deterministic, allow_tf32=allow_tf32)
    here = globals()
    old = {name: here[name] for name in _FLAGS}
    here.update(new)
    try:
        yield
    finally:
        here.update(old)
