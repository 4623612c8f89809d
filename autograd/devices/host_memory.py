"""Host memory: keep glibc's malloc from returning freed NumPy buffers to the kernel.

A training step allocates and frees the same activation-sized arrays (hundreds of KiB)
every step.  glibc serves a block over its mmap threshold (128 KiB at start) with a fresh
mmap, and trims the heap's free top above its trim threshold; either way the next step
touches new pages, and the kernel zero-fills each one on a page fault.  On the gpt-block
workload (tools/benchmark.py) that was 530 page faults and about 1 ms of system time per
9 ms step.  PyTorch's own CPU allocator avoids the same cost.

``tune()`` fixes the mmap threshold at 32 MiB (the ceiling glibc's own dynamic threshold
rises to) and keeps up to 64 MiB of freed heap top: after the first step, steps reuse
their pages (0.4 page faults per step).  Memory stays flat at the program's peak plus at
most that much.  It does nothing off glibc, when the user set malloc's thresholds
(``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_TOP_PAD_``,
``GLIBC_TUNABLES``), or when ``AUTOGRAD_HOST_MALLOC=default`` is set.
"""
import os
import sys

MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 64 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3         # mallopt's parameter numbers (malloc.h)
_USER_SETTINGS = ('MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_', 'MALLOC_TOP_PAD_',
                  'GLIBC_TUNABLES')


def tune(environ=os.environ):
    """Set the thresholds above; returns whether they were set."""
    if not sys.platform.startswith('linux') or environ.get('AUTOGRAD_HOST_MALLOC') == 'default' \
            or any(name in environ for name in _USER_SETTINGS):
        return False
    try:
        if not os.confstr('CS_GNU_LIBC_VERSION').startswith('glibc'):
            return False
        import ctypes
        mallopt = ctypes.CDLL(None).mallopt
    except (ValueError, OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


TUNED = tune()
