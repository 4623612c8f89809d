"""Scratch arrays reused from one training step to the next.

The fused ops keep a few large per-call buffers (im2col columns, an LSTM layer's gates and
states).  Allocating and freeing arrays of megabytes every step makes the C allocator hand
the memory back to the kernel and fault it in again on the next step: thousands of page
faults per step, a fifth of an LSTM step's time.  ``empty`` instead hands out an array
kept from an earlier call, but only one that nothing else references any more (by the
CPython reference count), so a buffer still saved by a live graph, or held by anyone, is
never reused.  At most ``KEEP`` arrays are kept per shape and ``LIMIT`` bytes in all (the
shapes used least recently are forgotten first), so changing shapes (sequence lengths,
a last smaller batch) cannot make the kept memory grow without bound.  Arrays are kept
per device (an array of GPU 0 is never handed to an op on GPU 1), and
``autograd.cuda.empty_cache()`` drops them all (``release``), so their memory can be
returned to the driver.
"""
from collections import OrderedDict

from autograd.extend import refs, register_cache

__all__ = ['empty', 'release']

KEEP = 4
LIMIT = 256 * 2 ** 20
_kept = OrderedDict()       # (array module, device, shape, dtype) -> arrays, least recently used first
_bytes = 0


def _current_device(xp):
    """The GPU that ``xp.empty`` allocates on now (None for NumPy: asked by name, as a
    missing attribute of NumPy's module costs 2 us in its ``__getattr__``)."""
    if xp.__name__ == 'numpy':
        return None
    cuda = getattr(xp, 'cuda', None)
    return None if cuda is None else cuda.runtime.getDevice()


def empty(xp, shape, dtype):
    """An uninitialised ``xp`` array of ``shape`` (a tuple) and ``dtype`` that no one else
    holds, on the device ``xp.empty`` would allocate on (CuPy: the current GPU)."""
    global _bytes
    key = (xp.__name__, _current_device(xp), shape, dtype)
    arrays = _kept.get(key)
    if arrays is not None:
        _kept.move_to_end(key)
        for a in arrays:
            if refs(a) == 2:        # held by the list and the loop variable only
                return a
    a = xp.empty(shape, dtype)
    if (arrays is None or len(arrays) < KEEP) and a.nbytes <= LIMIT:
        _kept.setdefault(key, []).append(a)
        _bytes += a.nbytes
        while _bytes > LIMIT:
            _, old = _kept.popitem(last=False)
            _bytes -= sum(b.nbytes for b in old)
    return a


@register_cache
def release():
    """Forget every kept array (``empty_cache`` calls this): the ones no one else holds go
    back to their memory pool."""
    global _bytes
    _kept.clear()
    _bytes = 0
