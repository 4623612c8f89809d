"""Scratch arrays reused from one training step to the next.

The fused ops keep a few large per-call buffers (im2col columns, an LSTM layer's gates and
states).  Allocating and freeing arrays of megabytes every step makes the C allocator hand
the memory back to the kernel and fault it in again on the next step: thousands of page
faults per step, a fifth of an LSTM step's time.  ``empty`` instead hands out an array
kept from an earlier call, but only one that nothing else references any more (by the
CPython reference count), so a buffer still saved by a live graph, or held by anyone, is
never reused.  At most ``KEEP`` arrays are kept per shape.
"""
import sys

__all__ = ['empty']

KEEP = 4
_kept = {}


def empty(xp, shape, dtype):
    """An uninitialised ``xp`` array of ``shape`` and ``dtype`` that no one else holds."""
    key = (xp.__name__, shape, dtype)
    arrays = _kept.get(key)
    if arrays is None:
        arrays = _kept[key] = []
    for a in arrays:
        if sys.getrefcount(a) == 3:      # the list, the loop variable, getrefcount's argument
            return a
    a = xp.empty(shape, dtype)
    if len(arrays) < KEEP:
        arrays.append(a)
    return a
